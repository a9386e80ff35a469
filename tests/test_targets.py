"""Paper targets: the published numbers round-trip through every target; every cell of the paper
configs lands in exactly the targets that select it; the statistics match independent references."""

from __future__ import annotations

import copy
import itertools
import json
import warnings
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sam_bench import config as config_lib
from sam_bench.report import pdf, stats
from sam_bench.report.reference import load_reference
from sam_bench.report.targets import (HPARAM_NAMES, NONE, PAPER_TARGETS, SCORE_COLUMNS, TARGETS, Select, Target,
                                      compute, get_target, keyed_reference, like_for_like, our_method, our_model,
                                      warn_unlike)
from sam_bench.report.targets.checks import flat_identity
from sam_bench.tasks import TASKS, get_task, task_names
from sam_bench.tasks.benchmarks import FSAM_AVG_CELLS, TYDIQA_LANGUAGES

ROOT = Path(__file__).resolve().parents[1]
_INV_HPARAM = {v: k for k, v in HPARAM_NAMES.items()}


@pytest.fixture(scope="module")
def ref():
    return load_reference()


# ------------------------------------------------------------------------------- round trip
def _our_task(paper_task: str, target: Target) -> str:
    """A registry task that reports under ``paper_task`` (GLUE RTE for GLUE and FSAM targets)."""
    want = "glue" if (target.paper == "fsam2022" or target.score == "glue") else "superglue"
    hits = [n for n in TASKS if get_task(n).paper_name == paper_task]
    if len(hits) > 1:
        hits = [n for n in hits if get_task(n).benchmark == want]
    return hits[0] if hits else paper_task


def _inputs_of(task: str, metric: str, score: str | None) -> list[tuple[str, str]]:
    """The cells a derived score column is computed from (to feed a table that prints only the average)."""
    if score == "tydiqa":
        return [(f"tydiqa_{lang}", metric) for lang in TYDIQA_LANGUAGES]
    if score and score.startswith("fsam_"):
        return list(FSAM_AVG_CELLS[score[len("fsam_"):]])
    raise AssertionError(f"no inputs for {task}/{metric} under {score}")


def rows_from_reference(target: Target, ref: pd.DataFrame) -> pd.DataFrame:
    """The paper's printed numbers as one-seed result rows, each carrying the identity of a cell the
    target selects (the first select that admits it). A row key whose inputs are not printed (Table 3,
    FSAM Table 4 print only averages) gets every input equal to the printed average."""
    kr = keyed_reference(target, ref)
    derived = set(SCORE_COLUMNS.get(target.score, ())) if target.score else set()
    printed = {(r.model, r.method, r.hparam_value) for r in kr.itertuples() if (r.task, r.metric) not in derived}
    cands = []
    for i, r in enumerate(kr.itertuples()):
        if pd.isna(r.value) or ((r.task, r.metric) in derived and (r.model, r.method, r.hparam_value) in printed):
            continue
        cells = _inputs_of(r.task, r.metric, target.score) if (r.task, r.metric) in derived else [(r.task, r.metric)]
        hname = r.hparam_name if isinstance(r.hparam_name, str) else None
        ident = {"model": our_model(target.paper, r.model), **our_method(target.paper, r.method),
                 "subsample_rate": r.subsample_rate, "seed": 0, "subsample_seed": 0,
                 "a": None, "m": None, "s": None, "fi": None, "beta1": None,
                 "rho": r.rho if pd.notna(r.rho) else (np.nan if r.method in ("adafactor", "adam", "amsgrad", "adagrad")
                                                       else 0.01),
                 "_ref": i, "_cells": cells, "_value": r.value,
                 "cell_id": f"{r.model}|{r.method}|{r.hparam_value}|{r.subsample_rate}"}
        if hname:
            ident[_INV_HPARAM[hname]] = float(r.hparam_value)
        axis = _INV_HPARAM.get(hname) if hname != "beta1" else None
        for k, sel in enumerate(target.select):
            if (sel.hparam or None) == axis:
                cands.append({**ident, "grid": sel.grid, "_sel": k,
                              **{f: v[0] for f, v in sel.where.items() if f == "mixture"}})
    frame = pd.DataFrame(cands)
    ok = np.zeros(len(frame), dtype=bool)
    for k, sel in enumerate(target.select):
        ok |= (frame["_sel"] == k).to_numpy() & sel.mask(frame).to_numpy()
    chosen = frame[ok].drop_duplicates("_ref")
    assert set(chosen["_ref"]) == set(frame["_ref"]), f"{target.key}: a paper row no select admits"
    out = [{**r, "task": _our_task(t, target), "metric": m, "value": r["_value"]}
           for r in chosen.to_dict("records") for t, m in r["_cells"]]
    return pd.DataFrame(out).drop(columns=["_ref", "_cells", "_value", "_sel"])


ROUND_TRIP = [t for t in PAPER_TARGETS if t.reference]


@pytest.mark.parametrize("target", ROUND_TRIP, ids=[t.key for t in ROUND_TRIP])
def test_paper_round_trip(target, ref):
    """Published numbers fed in as our one-seed results regenerate the target: every printed cell is
    filled, ours − paper = 0 where the paper prints the number we were fed, and every benchmark score
    we compute equals the printed average up to the paper's rounding of its inputs."""
    rows = rows_from_reference(target, ref)
    slots, info = compute(target, rows, ref)
    assert info["expected"] > 0 and info["filled"] == info["expected"], info["missing"][:5]
    filled = slots.dropna(subset=["paper", "mean"])
    assert len(filled) == info["expected"]
    assert (filled["n"] == 1).all() and filled["lo"].isna().all()  # one seed: no interval, never a made-up one
    derived = set(SCORE_COLUMNS.get(target.score, ())) if target.score else set()
    is_score = np.array([(t, m) in derived for t, m in zip(filled["task"], filled["metric"])], dtype=bool)
    fed = filled[~is_score]
    assert np.allclose(fed["ours_minus_paper"], 0.0, atol=1e-9), fed.loc[fed["ours_minus_paper"].abs() > 1e-9]
    # printed averages are of unrounded per-task numbers: a mean of 1-decimal inputs is within 0.07 of them
    # (the largest gap, 0.0625, is Bahri Table 1's; TRANSCRIPTION_NOTES "Averages")
    assert (filled.loc[is_score, "ours_minus_paper"].abs() <= 0.07).all(), filled.loc[is_score]
    print(f"{target.key}: {info['filled']}/{info['expected']} cells, max |score − printed| = "
          f"{filled.loc[is_score, 'ours_minus_paper'].abs().max() if is_score.any() else 0:.4f}")


# --------------------------------------------------------------------- configs → targets
def _expand(name: str, seeds=(0, 1, 2)) -> list[dict]:
    raw = yaml.safe_load((ROOT / "config" / name).read_text())
    cfg = config_lib._merge(config_lib.DEFAULTS, raw)
    cfg["grids"] = [{**config_lib.GRID_DEFAULTS, **g, "seed": list(seeds)} for g in cfg["grids"]]
    return config_lib.expand_cells(cfg)


def _synthetic_rows(cells: list[dict]) -> pd.DataFrame:
    from sam_bench.train.finetune import result_rows

    rows = []
    for c in cells:
        best = {}
        for t in task_names(c["task"]):
            for m in get_task(t).metric_names:
                v = 50 + (zlib.crc32(f"{c['cell_id']}/{t}/{m}".encode()) % 4000) / 100
                best[(t, m)] = {"value": v, "step": 100}
        rows += result_rows(c, best)
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def paper_cells():
    return _expand("bahri2022.yaml") + _expand("zhong2022.yaml")


def test_paper_configs_land_in_their_targets(paper_cells, ref, tmp_path):
    """Each cell of bahri2022.yaml and zhong2022.yaml lands in exactly the targets whose selects
    admit its identity, every cell feeds some target (transfer_qnli through its analysis rows), and
    every slot of every table has n = 3."""
    cells = paper_cells
    rows = _synthetic_rows(cells)
    frame = pd.DataFrame([flat_identity(c) for c in cells])
    landed: dict[str, set] = {}
    for t in PAPER_TARGETS:
        want = set(frame.loc[np.logical_or.reduce([s.mask(frame) for s in t.select]), "cell_id"])
        slots, info = compute(t, rows, ref)
        assert set(info["cells"]) == want, t.key
        for cid in want:
            landed.setdefault(cid, set()).add(t.key)
        if len(slots):
            ns = slots.loc[slots["n"].fillna(0) > 0, "n"]
            assert (ns == 3).all(), (t.key, ns.value_counts())
    orphans = {c["identity"]["grid"] for c in cells if c["cell_id"] not in landed}
    assert orphans <= {"transfer_qnli"}, orphans
    # the report over the same rows: a table per target, .tex beside .csv/.md, filled/expected in the manifest
    out = pdf.build_report((rows, pd.DataFrame()), tmp_path, "paper configs", reference_df=ref, pdf=False)
    manifest = json.loads(out.read_text())
    assert [e["key"] for e in manifest["targets"]] == [t.key for t in TARGETS]
    assert manifest["n_paper_targets"] == 25
    for e in manifest["targets"]:
        for ext in ("csv", "md", "tex"):
            assert (tmp_path / "tables" / f"{e['key']}.{ext}").exists()
    bahri1 = next(e for e in manifest["targets"] if e["key"] == "bahri2022_table1")
    assert bahri1["filled"] == bahri1["expected"] == 96
    fig3 = next(e for e in manifest["targets"] if e["key"] == "fsam2022_figure3")
    assert fig3["filled"] == 0 and fig3["expected"] > 0 and "missing" in fig3["status"]


def test_cell_identity_comes_from_the_recipe(paper_cells):
    by_grid = {}
    for c in paper_cells:
        for g in c["identity"]["grid"].split(","):
            by_grid.setdefault(g, []).append(c)
    shared = [c for c in by_grid["ablation_a"] if c["identity"]["a"] == 32]
    assert shared and all(set(c["identity"]["grid"].split(",")) >= {"ablation_rho", "ablation_a", "ablation_m"}
                          for c in shared if c["rho"] == 0.15 and c["seed"] == 0)
    zh = [c for c in by_grid["roberta_cola"] if c["method"] in ("sam", "fsam")]
    assert {c["identity"]["a"] for c in zh} == {16}  # like for like: full-batch SAM, as FSAM
    beta = by_grid["beta1_cola"]
    assert {c["identity"]["beta1"] for c in beta} == {0.0}
    assert {c["identity"]["hparam_name"] for c in beta} == {"beta1"}
    assert {c["identity"]["fi"] for c in by_grid["fi_bert_cola"]} == {10, 50, 100, 200, 500}
    assert {c["identity"]["training"] for c in by_grid["cbqa_single_task"]} == {"single"}
    assert {c["identity"]["training"] for c in by_grid["cbqa_small"]} == {"mixture"}
    # identity is derived, so cell ids do not depend on it (same cell, same id as before the field existed)
    c = copy.deepcopy(paper_cells[0])
    c["identity"]["grid"] = "elsewhere"
    assert config_lib.cell_id(c) == paper_cells[0]["cell_id"]


def test_paper_configs_are_like_for_like(paper_cells):
    assert like_for_like(paper_cells, TARGETS) == []


def test_like_for_like_warns_on_a_cheaper_sam():
    raw = yaml.safe_load((ROOT / "config" / "test.yaml").read_text())
    raw["grids"] = [{"name": "roberta_cola", "model": ["roberta-large"], "init": ["checkpoint"], "task": ["cola"],
                     "subsample_rate": [1.0], "seed": [0], "rho": [0.01],
                     "optimizer": ["adamw(lr=1e-5)", "sam(a=4) + adamw(lr=1e-5)", "fsam + adamw(lr=1e-5)"]}]
    cfg = config_lib._merge(config_lib.DEFAULTS, raw)
    cfg["grids"] = [{**config_lib.GRID_DEFAULTS, **g} for g in cfg["grids"]]
    found = like_for_like(config_lib.expand_cells(cfg), TARGETS)
    assert found and "differ in a [4, 8]" in found[0] and "FSAM" in found[0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warn_unlike("test", config_lib.expand_cells(cfg), TARGETS)
    assert any("not like for like" in str(w.message) for w in caught)


# ------------------------------------------------------------------------------- statistics
def _exact_percentile_interval(x, level=0.95):
    """Every one of the n^n equally likely resamples of n seeds, enumerated (independent of scipy)."""
    means = np.array([np.mean(s) for s in itertools.product(x, repeat=len(x))])
    return np.quantile(means, [(1 - level) / 2, (1 + level) / 2])


def test_bootstrap_interval_matches_exact_enumeration():
    x = [71.0, 74.5, 73.0, 70.0]
    res = stats.mean_ci([x, [5.0], [2.0, 2.0, 2.0], [1.0, np.nan, 3.0]])
    lo, hi = _exact_percentile_interval(x)
    assert res["mean"][0] == pytest.approx(np.mean(x))
    assert res["lo"][0] == pytest.approx(lo, abs=0.15) and res["hi"][0] == pytest.approx(hi, abs=0.15)
    assert np.isnan(res["lo"][1]) and np.isnan(res["hi"][1]) and res["n"][1] == 1  # n = 1: no interval
    assert res["lo"][2] == res["hi"][2] == 2.0
    assert res["n"][3] == 2 and res["mean"][3] == 2.0


def test_paired_difference_and_probability_of_improvement():
    d = [[1.0, -0.5, 2.0, 0.0]]
    res = stats.paired(d)
    assert res["mean"][0] == pytest.approx(0.625) and res["p_improve"][0] == pytest.approx((2 + 0.5) / 4)
    assert stats.paired(d, lower_is_better=True)["p_improve"][0] == pytest.approx((1 + 0.5) / 4)


def _toy_rows():
    recs = []
    for seed, (base, sam) in enumerate([(60.0, 63.0), (62.0, 62.5), (58.0, 61.0)]):
        for method, v in (("adamw", base), ("sam", sam)):
            recs.append({"grid": "toy", "model": "m", "method": method, "base_optimizer": "adamw",
                         "rho": None if method == "adamw" else 0.05, "subsample_rate": 1.0, "seed": seed,
                         "subsample_seed": 0, "task": "cb", "metric": "accuracy", "value": v, "chance": 59.0,
                         "cell_id": f"{method}{seed}", "status": "ok", "degenerate": False})
    base, sam = recs[-2], recs[-1]
    recs.append({**sam, "seed": 3, "value": 0.0, "status": "diverged", "cell_id": "sam3"})
    recs.append({**base, "seed": 4, "value": 33.0, "degenerate": True, "cell_id": "adamw4"})
    return pd.DataFrame(recs)


def test_paired_rows_exclusions_and_chance(ref):
    t = Target("toy", "sam-bench", "Table T", "toy", (Select("toy"),), rows=("model", "method"))
    slots, info = compute(t, _toy_rows(), ref)
    s = slots.set_index("method").rename(index={"sam (ρ=0.05)": "sam"})
    assert s.at["adamw", "n"] == 3 and s.at["sam", "n"] == 3  # the diverged and the degenerate cell are out
    assert s.at["sam", "n_excluded"] == 1 and s.at["adamw", "n_excluded"] == 1
    assert s.at["sam", "delta"] == pytest.approx(np.mean([3.0, 0.5, 3.0]))
    assert s.at["sam", "p_improve"] == 1.0 and s.at["sam", "n_pairs"] == 3
    from sam_bench.report import render

    flags = render.chance_flags(slots, info)
    assert flags == [] and s.at["adamw", "chance"] == 59.0  # baseline mean 60 clears chance 59
    slots2, info2 = compute(t, _toy_rows().assign(chance=61.0), ref)
    assert render.chance_flags(slots2, info2)  # 60 ≤ 61: flagged
    disp = render.display(t, slots2, info2)
    assert disp["line"].iloc[0] == "chance" and (disp["line"] == "Δ vs adamw").any()


def test_missing_target_lists_its_missing_cells(ref):
    t = get_target("functional_sam_comparison")
    slots, info = compute(t, _toy_rows(), ref)
    assert info["filled"] == 0 and info["expected"] == 10 and len(info["missing"]) == 10
    from sam_bench.report import render

    assert render.status_line(info).startswith("0 of 10 cells, missing: adamw ")
    assert NONE not in render.status_line(info)


def test_analysis_targets_render_when_their_rows_exist(ref):
    """Transfer, 1-D/2-D landscapes and training curves fill their targets from rows named as the
    analyses write them, and draw (categorical points, lines over α, contours over α × β)."""
    from sam_bench.report import plots
    from sam_bench.report.publish import curve_rows

    recs, curves = [], []
    rng = np.random.default_rng(0)
    for seed, (method, rho) in itertools.product(range(3), [("adamw", None), ("sam", 0.01), ("fsam", 0.01)]):
        base = {"model": "roberta-large", "method": method, "base_optimizer": "adamw", "rho": rho, "seed": seed,
                "subsample_rate": 1.0, "subsample_seed": 0, "a": None if rho is None else 16, "m": None}
        cid = f"{method}-{seed}"
        for t, m in (("cola", "mcc"), ("mrpc", "accuracy"), ("stsb", "pearson"), ("glue_rte", "accuracy")):
            recs.append({**base, "grid": "transfer_qnli", "analysis": "transfer", "train_task": "qnli", "task": t,
                         "metric": m, "value": rng.uniform(40, 90), "cell_id": "tr-" + cid})
        small = {**base, "model": "roberta-base", "grid": "roberta_cola", "cell_id": "ls-" + cid}
        for a_, b_ in itertools.product(np.linspace(-1, 1, 5), np.linspace(-1, 1, 5)):
            recs.append({**small, "analysis": "landscape_2d", "alpha": a_, "beta": b_, "task": "cola", "metric": "loss",
                         "value": a_ ** 2 + b_ ** 2 + 0.1 * seed})
        for a_ in np.linspace(-1, 1, 5):
            recs.append({**small, "analysis": "landscape_1d", "alpha": a_, "task": "cola", "metric": "loss",
                         "value": a_ ** 2})
        big = {**base, "grid": "roberta_cola", "cell_id": "cv-" + cid}
        recs.append({**big, "task": "cola", "metric": "mcc", "value": 60.0})
        curves += [{"cell_id": "cv-" + cid, "step": st, "task": "cola", "metric": "mcc", "value": 50.0 + st / 100}
                   for st in (100, 200, 300)]
    rows = pd.DataFrame(recs)
    for key, filled in (("fsam2022_figure3", 12), ("fsam2022_figure4", 3), ("fsam2022_figure5", 3),
                        ("fsam2022_figure6", 3)):
        t = get_target(key)
        data = curve_rows(rows, pd.DataFrame(curves)) if t.curves else rows
        slots, info = compute(t, data, ref)
        assert info["filled"] == filled, (key, info["filled"], info["missing"][:3])
        assert (slots.loc[slots["n"] > 0, "n"] == 3).all()
        fig = plots.draw(t, slots, info)
        assert fig.axes and fig.axes[0].has_data(), key
    # the regular tables never take analysis rows: roberta-large CoLA in FSAM Table 1 is the one plain row
    slots, _ = compute(get_target("fsam2022_table1"), rows, ref)
    assert set(slots.loc[slots["n"] > 0, "task"]) == {"cola"}


def test_evidence_targets_pick_rho_per_rate_and_pair_with_both_baselines(ref):
    """Table C picks ρ on dev per (rate, method) and shows the compute-matched AdamW as its own row
    paired with AdamW; Table D pairs SAM and FSAM with the compute-matched AdamW instead."""
    gain = {("sam", 0.01): {0.1: 2.0, 1.0: -1.0}, ("sam", 0.001): {0.1: 0.5, 1.0: 0.5},
            ("fsam", 0.01): {0.1: 3.0, 1.0: 1.0}, ("fsam", 0.001): {0.1: 1.0, 1.0: 0.0}}
    recs = []
    for rate, seed in itertools.product((0.1, 1.0), range(5)):
        base = {"model": "all-minilm-l6-v2", "base_optimizer": "adamw", "subsample_rate": rate, "subsample_seed": 0,
                "seed": seed, "task": "sst2_sentences", "metric": "accuracy", "status": "ok", "chance": 50.9}
        noise = 0.1 * seed
        recs.append({**base, "grid": "equal_steps", "method": "adamw", "rho": None, "value": 80.0 + noise,
                     "cell_id": f"a-{rate}-{seed}"})
        recs.append({**base, "grid": "compute_matched", "method": "adamw", "rho": None, "value": 81.0 + noise,
                     "cell_id": f"m-{rate}-{seed}"})
        for (method, rho), g in gain.items():
            recs.append({**base, "grid": "equal_steps", "method": method, "rho": rho, "value": 80.0 + g[rate] + noise,
                         "cell_id": f"{method}{rho}-{rate}-{seed}"})
    rows = pd.DataFrame(recs)
    slots, info = compute(get_target("evidence_rates"), rows, ref)
    s = slots.set_index(["method", "subsample_rate"])
    assert set(s.index.get_level_values(0)) == {"adamw", "adamw, 2× steps", "sam", "fsam"}
    assert s.at[("sam", 0.1), "rho_selected"] == 0.01 and s.at[("sam", 1.0), "rho_selected"] == 0.001
    assert s.at[("fsam", 0.1), "delta"] == pytest.approx(3.0) and s.at[("sam", 1.0), "delta"] == pytest.approx(0.5)
    assert s.at[("adamw, 2× steps", 0.1), "delta"] == pytest.approx(1.0)
    assert (s["n"] == 5).all() and info["filled"] == 8
    d = compute(get_target("evidence_compute"), rows, ref)[0].set_index(["method", "subsample_rate"])
    assert set(d.index.get_level_values(0)) == {"adamw", "sam", "fsam"}
    assert d.at[("fsam", 0.1), "delta"] == pytest.approx(2.0) and d.at[("sam", 1.0), "delta"] == pytest.approx(-0.5)
    # Table E: FSAM paired with SAM, each at its own dev-chosen ρ (FSAM 3.0 vs SAM 2.0 at 10%; 1.0 vs 0.5)
    e = compute(get_target("evidence_fsam_vs_sam"), rows, ref)[0].set_index(["method", "subsample_rate"])
    assert set(e.index.get_level_values(0)) == {"sam", "fsam"}
    assert e.at[("fsam", 0.1), "delta"] == pytest.approx(1.0) and e.at[("fsam", 1.0), "delta"] == pytest.approx(0.5)
    assert pd.isna(e.at[("sam", 0.1), "delta"])  # the baseline row itself
    # Figure C draws the chance line the rows carry, in every panel
    from sam_bench.report import plots

    fig = plots.draw(get_target("evidence_rates_figure"), *compute(get_target("evidence_rates_figure"), rows, ref))
    chance = [ln for ax in fig.axes for ln in ax.get_lines() if ln.get_label().startswith("chance")]
    assert len(chance) == len(fig.axes) and all(ln.get_ydata()[0] == pytest.approx(50.9) for ln in chance)


def test_decoder_lm_comparison_shows_losses_to_three_places(ref):
    """The Functional-SAM table: losses (nats, below 10) keep the digits their differences live in;
    eigenvalues keep one decimal like every score."""
    from sam_bench.report import render

    recs = []
    for i, method in enumerate(("adamw", "sam", "functional_sam", "precond_sam", "precond_functional_sam")):
        for seed in range(3):
            base = {"grid": "functional_sam_lm", "model": "decoder-lm-tiny", "method": method, "base_optimizer": "adamw",
                    "rho": None if method == "adamw" else 0.05, "subsample_rate": 1.0, "subsample_seed": 0,
                    "seed": seed, "task": "sst2_text", "cell_id": f"{method}{seed}", "status": "ok"}
            recs.append({**base, "metric": "val_loss", "value": 2.2 + 0.01 * i + 0.001 * seed})
            recs.append({**base, "metric": "hessian_top_eigenvalue", "value": 30.0 - i + 0.1 * seed})
    t = get_target("functional_sam_comparison")
    slots, info = compute(t, pd.DataFrame(recs), ref)
    disp = render.display(t, slots, info).set_index("method")
    loss, eig = (c for c in disp.columns if c not in ("line", "n"))
    assert disp.at["sam", loss].startswith("2.211 [") and disp.at["adamw", eig].startswith("30.1 [")
