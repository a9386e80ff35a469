"""Hessian diagnostics against closed forms: a quadratic with a known spectrum, a diagonal
Hessian (Hutchinson is exact), and finite differences of the gradient of a tiny network."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sam_bench.curvature import hutchinson_trace, hvp, top_eigenvalue


def _quadratic(eigenvalues, seed=0):
    """½ xᵀAx on a dict of two tensors, A = Q diag(λ) Qᵀ with a random orthogonal Q."""
    n = len(eigenvalues)
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, n)))
    a = (q * np.asarray(eigenvalues)) @ q.T
    a32 = jnp.asarray(a, jnp.float32)

    def loss(params):
        x = jnp.concatenate([params["u"].reshape(-1), params["v"]])
        return 0.5 * x @ a32 @ x

    k = n // 3
    params = {"u": jnp.ones((k,), jnp.float32).reshape(1, k), "v": jnp.full((n - k,), 0.5, jnp.float32)}
    return loss, params, a


@pytest.mark.parametrize("eigs", [np.linspace(-2.0, 7.5, 60), np.concatenate([np.full(40, 0.01), [3.0, 2.9]])])
def test_hessian_top_eigenvalue_of_a_quadratic(eigs):
    loss, params, _ = _quadratic(eigs)
    spec = top_eigenvalue(loss, params, steps=30)
    assert abs(spec.top_eigenvalue - eigs.max()) <= 1e-4 * abs(eigs.max())
    # the residual bounds the error (up to the float32 rounding of the HVP)
    assert abs(spec.top_eigenvalue - eigs.max()) <= spec.residual + 1e-6 * eigs.max() and spec.residual < 1e-2


def test_hessian_top_eigenvalue_is_algebraic_not_magnitude():
    eigs = np.array([-10.0, -3.0, 0.5, 1.0, 2.0])  # power iteration would return -10
    loss, params, _ = _quadratic(eigs)
    assert top_eigenvalue(loss, params, steps=5).top_eigenvalue == pytest.approx(2.0, rel=1e-4)


def test_hessian_hutchinson_is_exact_on_a_diagonal_hessian_and_unbiased_otherwise():
    d = jnp.asarray(np.linspace(0.1, 3.0, 25), jnp.float32)
    est, _ = hutchinson_trace(lambda p: 0.5 * jnp.sum(d * p["w"] ** 2), {"w": jnp.ones(25)}, samples=3)
    assert est == pytest.approx(float(d.sum()), rel=1e-5)
    eigs = np.linspace(0.0, 2.0, 30)
    loss, params, a = _quadratic(eigs, seed=1)
    est, se = hutchinson_trace(loss, params, samples=400, seed=2)
    assert abs(est - np.trace(a)) < 4 * se and se < 0.1 * np.trace(a)


def test_hessian_vector_product_equals_finite_differences_of_the_gradient():
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.standard_normal((16, 5)), jnp.float32)
    y = jnp.asarray(rng.integers(0, 3, 16))
    params = {"w1": jnp.asarray(rng.standard_normal((5, 8)) * 0.5, jnp.float32), "b1": jnp.zeros(8),
              "w2": jnp.asarray(rng.standard_normal((8, 3)) * 0.5, jnp.float32)}

    def loss(p):
        logits = jnp.tanh(x @ p["w1"] + p["b1"]) @ p["w2"]
        return -jnp.mean(jax.nn.log_softmax(logits)[jnp.arange(16), y])

    v = jax.tree.map(lambda t: jnp.asarray(rng.standard_normal(t.shape), jnp.float32), params)
    exact = hvp(loss, params, v)
    h = 2e-3
    grad = jax.grad(loss)
    plus = grad(jax.tree.map(lambda p, d: p + h * d, params, v))
    minus = grad(jax.tree.map(lambda p, d: p - h * d, params, v))
    fd = jax.tree.map(lambda a, b: (a - b) / (2 * h), plus, minus)
    flat = lambda t: np.concatenate([np.ravel(x) for x in jax.tree.leaves(t)])
    assert np.linalg.norm(flat(exact)) > 0.1  # not trivially zero
    assert np.linalg.norm(flat(exact) - flat(fd)) <= 1e-3 * np.linalg.norm(flat(exact))


def test_hessian_rejects_bad_arguments():
    with pytest.raises(ValueError, match="steps must be an integer >= 1"):
        top_eigenvalue(lambda p: jnp.sum(p ** 2), jnp.ones(3), steps=0)
    with pytest.raises(ValueError, match="samples must be an integer >= 1"):
        hutchinson_trace(lambda p: jnp.sum(p ** 2), jnp.ones(3), samples=0)
