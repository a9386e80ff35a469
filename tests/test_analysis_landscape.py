"""Loss landscapes against closed forms (a quadratic's 1-D interpolation is a parabola; its
2-D surface a quadric), Li et al.'s filter normalisation, and the CLI + figures on a finished cell."""
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sam_bench.analysis.landscape import (axis_points, filter_normalized_direction, interpolation_1d,
                                          landscape_rows, surface_2d)

A = np.array([[2.0, 0.3, 0.0], [0.3, 1.0, -0.2], [0.0, -0.2, 0.5]])
C = np.array([0.5, -1.0, 2.0])


def _quad(p):
    x = jnp.concatenate([p["w"].reshape(-1), p["b"]]) - jnp.asarray(C, jnp.float32)
    return 0.5 * x @ jnp.asarray(A, jnp.float32) @ x


def _flat(p):
    return np.concatenate([np.ravel(p["w"]), np.ravel(p["b"])])


def test_landscape_1d_interpolation_of_a_quadratic_is_the_parabola():
    theta0 = {"w": jnp.array([[0.0, 0.0]]), "b": jnp.array([0.0])}
    theta1 = {"w": jnp.array([[0.4, -0.7]]), "b": jnp.array([1.5])}
    alphas = axis_points(21)
    got = interpolation_1d(_quad, theta0, theta1, alphas)
    t1, delta = _flat(theta1), _flat(theta1) - _flat(theta0)
    # L(θ₁ + αΔ) = L(θ₁) + α ∇L(θ₁)ᵀΔ + ½ α² ΔᵀAΔ
    l1 = 0.5 * (t1 - C) @ A @ (t1 - C)
    expected = l1 + alphas * ((A @ (t1 - C)) @ delta) + 0.5 * alphas ** 2 * (delta @ A @ delta)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    assert got[0] == pytest.approx(float(_quad(theta0)), rel=1e-5)  # α = −1 is θ₀
    assert got[10] == pytest.approx(l1, rel=1e-5)                   # α = 0 is θ₁


def test_landscape_2d_surface_of_a_quadratic_is_the_quadric():
    theta = {"w": jnp.array([[0.4, -0.7]]), "b": jnp.array([1.5])}
    d1 = {"w": jnp.array([[1.0, 0.0]]), "b": jnp.array([0.5])}
    d2 = {"w": jnp.array([[0.0, 1.0]]), "b": jnp.array([-1.0])}
    axis = axis_points(5)
    got = surface_2d(_quad, theta, d1, d2, axis, axis)
    for i, a in enumerate(axis):
        for j, b in enumerate(axis):
            x = _flat(theta) + a * _flat(d1) + b * _flat(d2) - C
            assert got[i, j] == pytest.approx(0.5 * x @ A @ x, rel=1e-5, abs=1e-6)


def test_landscape_directions_are_filter_normalised():
    rng = np.random.default_rng(0)
    params = {"kernel": jnp.asarray(rng.standard_normal((6, 4)) * np.arange(1, 5), jnp.float32),
              "bias": jnp.ones(4), "conv": jnp.asarray(rng.standard_normal((3, 3, 2, 5)), jnp.float32)}
    d = filter_normalized_direction(params, jax.random.key(1))
    np.testing.assert_allclose(np.linalg.norm(d["kernel"], axis=0), np.linalg.norm(params["kernel"], axis=0), rtol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(np.asarray(d["conv"]).reshape(-1, 5), axis=0),
                               np.linalg.norm(np.asarray(params["conv"]).reshape(-1, 5), axis=0), rtol=1e-5)
    assert not np.any(np.asarray(d["bias"]))  # Li et al.: biases and norm scales are not perturbed
    d_other = filter_normalized_direction(params, jax.random.key(2))
    assert not np.allclose(d["kernel"], d_other["kernel"])


def test_landscape_rows_are_tidy_and_bad_axes_are_refused():
    rows = landscape_rows({"cell_id": "c"}, alphas_1d=[-1.0, 1.0], values_1d=[2.0, 3.0],
                          alphas_2d=[0.0, 1.0], betas_2d=[0.0, 1.0], values_2d=np.arange(4.0).reshape(2, 2))
    assert [r["metric"] for r in rows] == ["landscape_1d"] * 2 + ["landscape_2d"] * 4
    assert rows[3] == {"cell_id": "c", "metric": "landscape_2d", "alpha": 0.0, "beta": 1.0, "value": 1.0}
    with pytest.raises(ValueError, match="integer number of points >= 2"):
        axis_points(1)


def test_landscape_and_hessian_cli_on_a_finished_lm_cell(finished_lm_cell, tmp_path):
    from sam_bench.cli import main
    from sam_bench.report.landscape import write_diagnostics

    cell_dir = finished_lm_cell
    main(["landscape", "--cell-dir", str(cell_dir), "--out", str(tmp_path / "landscape.json"), "--sample", "4",
          "--points-1d", "5", "--points-2d", "3"])
    main(["hessian", "--cell-dir", str(cell_dir), "--out", str(tmp_path / "hessian.json"), "--sample", "4",
          "--steps", "5", "--probes", "2"])
    rows = json.loads((tmp_path / "landscape.json").read_text())["rows"]
    one = [r for r in rows if r["metric"] == "landscape_1d"]
    assert [r["alpha"] for r in one] == [-1.0, -0.5, 0.0, 0.5, 1.0] and len(rows) == 5 + 9
    assert all(r["cell_id"] == cell_dir.name and r["method"] == "adamw" for r in rows)
    # α = −1 is the initial weights: a random byte-level LM has loss ≈ ln 256 there, more than at θ₁
    assert one[0]["value"] == pytest.approx(np.log(256), rel=0.1) and one[0]["value"] > one[2]["value"]
    hess = json.loads((tmp_path / "hessian.json").read_text())["rows"]
    assert {r["metric"] for r in hess} == {"hessian_top_eigenvalue", "hessian_trace"}
    written = write_diagnostics([tmp_path / "landscape.json", tmp_path / "hessian.json"], tmp_path / "d.csv",
                                tmp_path / "figures")
    assert {p.name for p in written} == {"d.csv", "landscape_1d.pdf", "landscape_1d.png", "landscape_2d.pdf",
                                         "landscape_2d.png"}
