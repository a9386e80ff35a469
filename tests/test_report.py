"""Tests of the reporting layer (sam_bench.report) on a small hand-built set of results."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sam_bench.report import aggregate, figures, pdf, reference, tables
from sam_bench.report.aggregate import PAPER_COLUMNS, ResultFileError, collect_results, write_summary

# ----------------------------------------------------------------------------- synthetic world
MODEL = "t5.1.1-tiny"
TASKS = {"cb": ["f1", "accuracy"], "stsb": ["pearson", "spearman"], "natural_questions": ["f1", "em"]}
TASK_BASE = {"cb": 60.0, "stsb": 70.0, "natural_questions": 10.0}
METRIC_OFF = {("cb", "f1"): 2.0, ("cb", "accuracy"): 0.0, ("stsb", "pearson"): 1.0, ("stsb", "spearman"): 0.0,
              ("natural_questions", "f1"): 3.0, ("natural_questions", "em"): -3.0}
RATES = [0.05, 0.2, 1.0]
RATE_OFF = {0.05: -10.0, 0.2: -4.0, 1.0: 0.0}
SEEDS = [0, 1]
SEED_OFF = {0: 0.0, 1: 2.0}
VARIANTS = [("adafactor", None), ("sam", 0.05), ("sam", 0.15)]  # 2 methods, 2 ρ
GAIN = {None: 0.0, 0.05: 1.0, 0.15: 3.0}
RANDOM_OFF = -20.0
SPS_BASE = {0: 0.040, 1: 0.042}
SPS_RATIO = {None: 1.0, 0.05: 1.25, 0.15: 1.5}
STD2 = math.sqrt(2.0)  # sample std of {x, x + 2}


def value(task, metric, rate, seed, rho, init="pretrained"):
    return (TASK_BASE[task] + METRIC_OFF[(task, metric)] + RATE_OFF[rate] + SEED_OFF[seed] + GAIN[rho]
            + (RANDOM_OFF if init == "random" else 0.0))


def hand_score(rate, seed, rho, init="pretrained"):
    per_task = [np.mean([value(t, m, rate, seed, rho, init) for m in ms]) for t, ms in TASKS.items()]
    return float(np.mean(per_task))


def make_cells():
    """2 methods x 2 rho (+ baseline) x 3 rates x 2 seeds, pretrained; plus 4 random-init cells."""
    specs = [(m, r, rate, s, "pretrained", "default") for m, r in VARIANTS for rate in RATES for s in SEEDS]
    specs += [(m, r, 1.0, s, "random", "pretraining_check") for m, r in [VARIANTS[0], VARIANTS[2]] for s in SEEDS]
    docs = []
    for method, rho, rate, seed, init, exp in specs:
        cid = f"{exp}-{init}-{method}-rho{rho}-r{rate}-s{seed}"
        cell = {"cell_id": cid, "model": MODEL, "init": init, "task": "tiny_suite", "subsample_rate": rate,
                "subsample_seed": 0, "method": method, "base_optimizer": "adafactor", "rho": rho, "seed": seed,
                "experiment": exp, "optimizer": {"lr": 1e-3, "schedule": ["constant"]}}
        rows = [{"paper": "sam-bench", "table": exp, "model": MODEL, "method": method, "rho": rho, "hparam_name": None,
                 "hparam_value": None, "subsample_rate": rate, "task": t, "metric": m,
                 "value": value(t, m, rate, seed, rho, init), "split": "dev", "seed": seed, "step": 100 * (k + 1),
                 "cell_id": cid, "base_optimizer": "adafactor", "init": init, "subsample_seed": 0, "paper_task": t,
                 "source": "synthetic", "grid": "main" if exp == "default" else exp}
                for k, (t, ms) in enumerate(TASKS.items()) for m in ms]
        curve = [{"step": st, "task": t, "metric": m, "value": value(t, m, rate, seed, rho, init) - 5 + st / 100}
                 for st in (100, 200, 300) for t, ms in TASKS.items() for m in ms]
        sps = SPS_BASE[seed] * SPS_RATIO[rho]
        timing = {"steps": 300, "seconds_per_step": sps, "wall_seconds": 300 * sps + 5.0, "compile_seconds": 5.0}
        docs.append({"cell": cell, "rows": rows, "curve": curve, "timing": timing})
    return docs


def write_results(root: Path, docs) -> Path:
    cells_dir = root / "results" / "cells"
    for d in docs:
        p = cells_dir / d["cell"]["cell_id"] / "result.json"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(d))
    return cells_dir


@pytest.fixture(scope="module")
def docs():
    return make_cells()


@pytest.fixture(scope="module")
def frames(docs, tmp_path_factory):
    cells_dir = write_results(tmp_path_factory.mktemp("agg"), docs)
    return collect_results(cells_dir)


@pytest.fixture(scope="module")
def ref():
    return reference.load_reference()


def ref_value(ref, table, model, method, task, metric):
    sel = ref[(ref.paper == "bahri2022") & (ref.table == table) & (ref.model == model) & (ref.method == method)
              & (ref.task == task) & (ref.metric == metric) & ref.hparam_name.isna()]
    assert len(sel) == 1
    return float(sel.value.iloc[0])


# ----------------------------------------------------------------------------------- aggregate
def test_aggregation_round_trip(docs, frames, tmp_path):
    rows_df, cells_df = frames
    assert list(rows_df.columns[:15]) == PAPER_COLUMNS + ["seed", "step", "cell_id"]
    assert len(rows_df) == sum(len(d["rows"]) for d in docs) == 22 * 6
    assert len(cells_df) == 22 and cells_df.cell_id.is_unique
    assert rows_df["value"].dtype == "float64" and rows_df["rho"].dtype == "float64"
    assert str(rows_df["seed"].dtype) == "Int64" and str(rows_df["step"].dtype) == "Int64"
    expected = pd.DataFrame([r for d in docs for r in d["rows"]])
    got = rows_df.sort_values(["cell_id", "task", "metric"]).reset_index(drop=True)
    expected = expected.sort_values(["cell_id", "task", "metric"]).reset_index(drop=True)
    np.testing.assert_allclose(got["value"].to_numpy(), expected["value"].to_numpy())
    assert got["rho"].isna().sum() == expected["rho"].isna().sum()
    for c in ("task", "metric", "method", "init", "source", "cell_id"):
        assert got[c].tolist() == expected[c].tolist()
    # cells: axes + timing (+ flattened nested config)
    for c in ("model", "method", "rho", "subsample_rate", "seed", "init", "seconds_per_step", "wall_seconds",
              "compile_seconds", "steps", "n_rows", "source", "optimizer.lr"):
        assert c in cells_df.columns, c
    assert set(cells_df["n_rows"]) == {6}
    # write + read back
    written = write_summary(rows_df, cells_df, tmp_path / "summary")
    assert {p.name for p in written.values()} == {"summary.parquet", "summary.csv", "cells.csv"}
    assert not [p for p in (tmp_path / "summary").iterdir() if p.name.startswith(".")]  # no temp files left
    back_rows, back_cells = aggregate.read_summary(tmp_path / "summary")
    pd.testing.assert_frame_equal(back_rows, rows_df)
    assert len(back_cells) == 22
    np.testing.assert_allclose(back_cells.sort_values("cell_id")["seconds_per_step"],
                               cells_df.sort_values("cell_id")["seconds_per_step"])


def test_collect_curves(docs, tmp_path):
    curves = aggregate.collect_curves(write_results(tmp_path, docs[:2]))
    assert len(curves) == 2 * 3 * 6
    assert {"cell_id", "method", "rho", "step", "task", "metric", "value"} <= set(curves.columns)


def test_duplicate_rows_rejected(docs, tmp_path):
    d = json.loads(json.dumps(docs[0]))
    d["rows"].append(dict(d["rows"][0]))
    cells_dir = write_results(tmp_path, [d])
    with pytest.raises(ResultFileError, match=re.escape(d["cell"]["cell_id"]) + ".*result.json|result.json.*duplicate"):
        collect_results(cells_dir)


def test_duplicate_cell_across_files_rejected(docs, tmp_path):
    write_results(tmp_path / "a", [docs[0]])
    write_results(tmp_path / "b", [docs[0]])
    with pytest.raises(ResultFileError, match="also in"):
        collect_results([tmp_path / "a", tmp_path / "b"])


@pytest.mark.parametrize("breaker, what", [
    (lambda d: d.pop("timing"), "timing"),
    (lambda d: d["cell"].pop("cell_id"), "cell_id"),
    (lambda d: d["rows"][1].pop("value"), "value"),
    (lambda d: d["rows"][0].pop("seed"), "seed"),
])
def test_missing_keys_name_the_file(docs, tmp_path, breaker, what):
    d = json.loads(json.dumps(docs[0]))
    breaker(d)
    p = tmp_path / "broken_cell" / "result.json"
    p.parent.mkdir(parents=True)
    p.write_text(json.dumps(d))
    with pytest.raises(ResultFileError) as e:
        collect_results(tmp_path)
    assert str(p) in str(e.value) and what in str(e.value)


# ----------------------------------------------------------------------------------- reference
EXPECTED_ROWS = {
    "bahri2022_table1_superglue_full": 96, "bahri2022_table2_glue_full": 104, "bahri2022_table3_tydiqa_avg": 16,
    "bahri2022_table4_cbqa_full_mixture": 48, "bahri2022_table5_cbqa_full_single_task": 48,
    "bahri2022_table6_superglue_5pct": 96, "bahri2022_table7_cbqa_5pct": 48,
    "bahri2022_table8_tydiqa_per_language": 160, "bahri2022_table9_superglue_base_hparam_ablation": 180,
    "fsam2022_table1_nlu": 132, "fsam2022_table2_generation": 42, "fsam2022_table3_small_plms": 36,
    "fsam2022_table4_fi_ablation": 10, "fsam2022_table5_base_optimizers": 36, "fsam2022_table6_sam_variants": 30,
    "fsam2022_table7_data_stats": 30, "fsam2022_table8_bart_hparams": 10, "fsam2022_table9_beta1_zero": 84,
    "fsam2022_table10_nlu_hparams": 128,
}


def test_reference_loading(ref):
    counts = ref.groupby("table_id").size().to_dict()
    assert counts == EXPECTED_ROWS
    assert ref["value"].dtype == "float64"
    meta = reference.reference_tables()
    assert set(meta.table_id) == set(EXPECTED_ROWS) and meta.title.str.len().min() > 5
    assert ref_value(ref, "Table 1", "t5.1.1-small", "adafactor", "cb", "f1") == 89.4
    copa = ref[(ref.table_id == "bahri2022_table1_superglue_full") & (ref.model == "t5.1.1-small")
               & (ref.method == "adafactor") & (ref.task == "copa")]
    assert copa.value_printed.iloc[0] == "67.0" and copa.value.iloc[0] == 67.0
    stats = ref[(ref.table_id == "fsam2022_table7_data_stats") & (ref.task == "cola") & (ref.metric == "n_train")]
    assert stats.value_printed.iloc[0] == "8.5K" and np.isnan(stats.value.iloc[0])
    numeric = ref[ref.table_id.str.startswith("bahri")]
    assert numeric["value"].notna().all()
    assert len(reference.load_reference("bahri2022:Table 1")) == 96
    assert len(reference.load_reference(["bahri2022_table6", "bahri2022_table7"])) == 144


def test_reference_copies_match_shared():
    shared = Path(__file__).resolve().parents[1].parent / "shared" / "papers" / "tables"
    if not shared.is_dir():
        pytest.skip("../shared not present")
    ours = reference.reference_path()
    for f in shared.glob("*.csv"):
        assert (ours / f.name).read_bytes() == f.read_bytes(), f.name


def test_benchmark_score_reproduces_printed_paper_scores(ref):
    """Our score convention reproduces Bahri's printed SuperGLUE (and GLUE) scores."""
    for table, avg, tol in (("Table 1", "superglue_avg", 0.07), ("Table 6", "superglue_avg", 0.07),
                            ("Table 2", "glue_avg", 0.06)):
        sub = ref[(ref.paper == "bahri2022") & (ref.table == table)]
        for (model, method), g in sub.groupby(["model", "method"]):
            cells = g[g.task != avg]
            wide = pd.DataFrame([cells.value.to_numpy()], columns=list(zip(cells.task, cells.metric)))
            score = tables.benchmark_score(wide).iloc[0]
            printed = float(g[g.task == avg].value.iloc[0])
            assert abs(score - printed) <= tol, (table, model, method, score, printed)


# ---------------------------------------------------------------------------------------- tables
def test_pretraining_check(frames):
    rows_df, _ = frames
    pc = tables.pretraining_check(rows_df)
    assert len(pc) == 2 * 6
    assert list(pc.task[:4]) == ["natural_questions"] * 4
    np.testing.assert_allclose(pc.difference, -RANDOM_OFF)
    assert (pc.n_pairs == 2).all()
    r = pc[(pc.method == "adafactor") & (pc.task == "cb") & (pc.metric == "f1")].iloc[0]
    assert r.pretrained == pytest.approx(np.mean([value("cb", "f1", 1.0, s, None) for s in SEEDS]))
    assert r.random == pytest.approx(np.mean([value("cb", "f1", 1.0, s, None, "random") for s in SEEDS]))


def test_cost_table(frames):
    _, cells_df = frames
    ct = tables.cost_table(cells_df)
    assert list(ct.method) == ["adafactor", "sam (ρ=0.05)", "sam (ρ=0.15)"]
    by = ct.set_index("method")
    assert by.loc["adafactor", "ratio_to_baseline"] == pytest.approx(1.0)
    assert by.loc["sam (ρ=0.05)", "ratio_to_baseline"] == pytest.approx(1.25)
    assert by.loc["sam (ρ=0.15)", "ratio_to_baseline"] == pytest.approx(1.5)
    assert by.loc["sam (ρ=0.15)", "n_cells"] == 8 and by.loc["sam (ρ=0.15)", "n_matched"] == 8
    assert by.loc["adafactor", "seconds_per_step"] == pytest.approx(np.median([0.040] * 4 + [0.042] * 4))
    # a SAM cell without its baseline is not matched
    c2 = cells_df[~((cells_df.method == "adafactor") & (cells_df.seed == 1))]
    by2 = tables.cost_table(c2).set_index("method")
    assert by2.loc["sam (ρ=0.15)", "n_matched"] == 4 and by2.loc["sam (ρ=0.15)", "n_cells"] == 8
    assert "1.50" in tables.to_markdown(ct)


# --------------------------------------------------------------------------------------- figures
def test_training_curves(docs, tmp_path):
    curves = aggregate.collect_curves(write_results(tmp_path, docs))
    fig = figures.training_curves(curves)
    assert len(fig.axes) == 6


# ------------------------------------------------------------------------------------------- pdf
def count_pdf_pages(path: Path) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", path.read_bytes()))


def test_build_report(frames, ref, tmp_path):
    rows_df, cells_df = frames
    write_summary(rows_df, cells_df, tmp_path / "summary")
    out = pdf.build_report(tmp_path / "summary", tmp_path / "build", "sam-bench test report",
                           {"git_commit": "abc1234", "experiment": "default", "note": "synthetic data"},
                           reference_df=ref)
    assert out == tmp_path / "build" / "report.pdf" and out.stat().st_size > 10_000
    manifest = json.loads((tmp_path / "build" / "manifest.json").read_text())
    assert count_pdf_pages(out) == manifest["n_pages"] and manifest["pages"][0] == "Title page"
    # our own targets first (they have data), then all 25 published targets in paper order, then diagnostics
    pages = list(dict.fromkeys(manifest["pages"][1:]))
    assert pages[0].startswith("Run health")  # diverged and degenerate cells per method, first
    assert pages[1].startswith("sam-bench Table A") and pages[2].startswith("sam-bench Figure A")
    assert pages[3].startswith("Bahri et al. 2022 Table 1") and manifest["n_paper_targets"] == 25
    assert pages[-2:] == ["Pretraining check: init=pretrained vs init=random",
                          "Cost: seconds per training step and ratio to the matched baseline"]
    for name in ("tables/sambench_rates.csv", "tables/sambench_rates.md", "tables/sambench_rates.tex",
                 "tables/bahri2022_table1.tex", "tables/fsam2022_table6.md", "tables/pretraining_check.csv",
                 "tables/cost_table.md", "figures/sambench_rates_figure.pdf", "figures/sambench_rates_figure.png",
                 "figures/bahri2022_figure2.png"):
        p = tmp_path / "build" / name
        assert p.stat().st_size > 0, name
        assert name in manifest["files"]
    leftovers = [p for p in (tmp_path / "build").rglob(".*") if p.is_file()]
    assert not leftovers
    entry = {e["key"]: e for e in manifest["targets"]}
    assert entry["bahri2022_table1"]["filled"] == 0 and entry["bahri2022_table1"]["expected"] == 96
    assert entry["bahri2022_table1"]["status"].startswith("0 of 96 cells, missing: t5.1.1-small/adafactor")
    assert entry["sambench_rates"]["experiment_cells"] == len(VARIANTS) * len(RATES) * len(SEEDS)
    csv = pd.read_csv(tmp_path / "build" / "tables" / "sambench_rates.csv")
    ours = csv[(csv.method == "adafactor") & (csv.subsample_rate == 1.0) & (csv.task == "cb") & (csv.metric == "f1")]
    assert ours["mean"].iloc[0] == pytest.approx(np.mean([value("cb", "f1", 1.0, s, None) for s in SEEDS]))
    assert ours["n"].iloc[0] == 2  # the random-init cells (pretraining_check grid) are not in Table A
    sam = csv[(csv.method == "sam (ρ=0.15)") & (csv.subsample_rate == 0.05) & (csv.task == "cb") & (csv.metric == "f1")]
    assert sam["delta"].iloc[0] == pytest.approx(GAIN[0.15]) and sam["p_improve"].iloc[0] == 1.0
    assert sam["delta_lo"].iloc[0] == sam["delta_hi"].iloc[0] == pytest.approx(GAIN[0.15])  # both seeds gain 3
    tex = (tmp_path / "build" / "tables" / "sambench_rates.tex").read_text()
    assert "\\toprule" in tex and "\\bottomrule" in tex and "\\caption{sam-bench Table A" in tex
    md = (tmp_path / "build" / "tables" / "bahri2022_table1.md").read_text()
    assert "0 of 96 cells" in md and "| paper" in md


def test_build_report_with_curves_from_frames(docs, frames, ref, tmp_path):
    rows_df, cells_df = frames
    curves = aggregate.collect_curves(write_results(tmp_path, docs))
    out = pdf.build_report({"rows": rows_df, "cells": cells_df, "curves": curves}, tmp_path / "b2", "t", {},
                           reference_df=ref, rates=[1.0])
    manifest = json.loads((tmp_path / "b2" / "manifest.json").read_text())
    assert count_pdf_pages(out) == manifest["n_pages"] and manifest["pages"][-1] == "Evaluation curves"
    assert (tmp_path / "b2" / "figures" / "training_curves.png").stat().st_size > 0


def test_wide_table_splits_across_pages():
    cols = {f"Column number {i}": [f"{i}.0 ± 0.1"] * 50 for i in range(20)}
    disp = pd.DataFrame({"source": ["ours"] * 50, "model": ["m"] * 50, "method": ["x"] * 50, **cols})
    pages = pdf.table_pages(disp, "wide", ["a note"], fixed=3)
    assert len(pages) >= 4  # split by columns and by rows
    one = pdf.table_pages(disp.iloc[:5, :6], "narrow", fixed=3)
    assert len(one) == 1


def test_report_of_random_init_cells_only(frames, ref, tmp_path):
    """A run with only random-init cells (the pretraining_check grid) still gets its report: no
    target selects those cells, and every target says what it is missing."""
    rows_df, cells_df = frames
    rows, cells = rows_df[rows_df["init"] == "random"], cells_df[cells_df["init"] == "random"]
    pdf.build_report({"rows": rows, "cells": cells}, tmp_path / "b", "t", {}, reference_df=ref, rates=[1.0], pdf=False)
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert all(e["filled"] == 0 for e in manifest["targets"])


# -------------------------------------------------------------------------------- encoder rows
ENC_MODEL = "all-minilm-l6-v2"
ENC_TASKS = {"cola": ["mcc"], "cb": ["accuracy", "f1"], "stsb": ["pearson", "spearman"], "glue_rte": ["accuracy"]}
ENC_BASE = {("cola", "mcc"): 30.0, ("cb", "accuracy"): 70.0, ("cb", "f1"): 60.0, ("stsb", "pearson"): 80.0,
            ("stsb", "spearman"): 79.0, ("glue_rte", "accuracy"): 55.0}
ENC_VARIANTS = [("adamw", None), ("sam", 0.01), ("fsam", 0.01)]
ENC_GAIN = {"adamw": 0.0, "sam": 1.0, "fsam": 2.5}
# a seed-dependent extra for the sharpness-aware cells, so that the paired Δ has a non-zero std
ENC_SEED_GAIN = {("sam", 1): 0.4, ("fsam", 1): -0.6}
ENC_SEEDS = [0, 1]


def enc_value(task, metric, seed, method):
    return ENC_BASE[(task, metric)] + 3.0 * seed + ENC_GAIN[method] + ENC_SEED_GAIN.get((method, seed), 0.0)


def encoder_rows_df(model=ENC_MODEL, init=ENC_MODEL):
    rows = [{"paper": "sam-bench", "table": "fsam", "model": model, "method": method, "rho": rho, "hparam_name": None,
             "hparam_value": None, "subsample_rate": 1.0, "task": t, "metric": m,
             "value": enc_value(t, m, seed, method), "split": "dev", "seed": seed, "step": 10,
             "cell_id": f"enc-{init}-{method}-s{seed}", "base_optimizer": "adamw", "init": init, "subsample_seed": 0,
             "source": "synthetic", "grid": "encoder"}
            for method, rho in ENC_VARIANTS for seed in ENC_SEEDS for t, ms in ENC_TASKS.items() for m in ms]
    return aggregate.normalize_rows(pd.DataFrame(rows))


def test_encoder_models_and_fsam_task_names():
    assert tables.is_encoder_model("all-minilm-l6-v2") and tables.is_encoder_model("roberta-large")
    assert not tables.is_encoder_model("t5.1.1-small")
    assert not tables.is_encoder_model("/checkpoints/some-model")  # unknown to the registry
    # FSAM's RTE is GLUE RTE: our glue_rte, not our SuperGLUE rte
    assert tables.fsam_task("glue_rte") == "rte" and tables.fsam_task("rte") is None
    assert tables.fsam_task("cb") == "cb" and tables.fsam_task("sst2") is None and tables.fsam_task("nope") is None


def test_fsam_average_reproduces_printed_avg(ref):
    """FSAM's AVG is the mean of all ten cells; the SuperGLUE convention would not reproduce it."""
    sub = ref[(ref.paper == "fsam2022") & (ref.table == "Table 1")]
    assert sub.groupby(["model", "method"]).ngroups == 12
    for (model, method), g in sub.groupby(["model", "method"]):
        cells = g[g.task != "avg"]
        wide = pd.DataFrame([cells.value.to_numpy()], columns=list(zip(cells.task, cells.metric)))
        printed = float(g[g.task == "avg"].value.iloc[0])
        assert tables.fsam_average(wide).iloc[0] == pytest.approx(printed, abs=0.006), (model, method)
        assert abs(tables.benchmark_score(wide).iloc[0] - printed) > 0.5, (model, method)


def test_build_report_adds_encoder_table_for_encoder_rows(frames, ref, tmp_path):
    rows_df, cells_df = frames
    mixed = aggregate.normalize_rows(pd.concat([rows_df, encoder_rows_df()], ignore_index=True))
    pdf.build_report((mixed, cells_df), tmp_path / "b3", "t", {}, reference_df=ref, rates=[1.0], pdf=False)
    manifest = json.loads((tmp_path / "b3" / "manifest.json").read_text())
    entry = {e["key"]: e for e in manifest["targets"]}
    assert entry["sambench_encoders"]["experiment_cells"] == len(ENC_VARIANTS) * len(ENC_SEEDS)
    csv = pd.read_csv(tmp_path / "b3" / "tables" / "sambench_encoders.csv")
    ours = csv[(csv.method == "adamw") & (csv.task == "rte")].iloc[0]  # glue_rte reports as the papers' "rte"
    assert ours["mean"] == pytest.approx(np.mean([enc_value("glue_rte", "accuracy", s, "adamw") for s in ENC_SEEDS]))
    fsam = csv[(csv.method == "fsam (ρ=0.01)") & (csv.task == "cola")].iloc[0]
    diffs = [enc_value("cola", "mcc", s, "fsam") - enc_value("cola", "mcc", s, "adamw") for s in ENC_SEEDS]
    assert fsam["delta"] == pytest.approx(np.mean(diffs)) and fsam["n_pairs"] == 2
    # the encoder cells are not in the T5 table
    rates = pd.read_csv(tmp_path / "b3" / "tables" / "sambench_rates.csv")
    assert ENC_MODEL not in set(rates["model"]) and MODEL in set(rates["model"])


def test_figure_titles_and_legends_fit_the_figure_width():
    """A long target title wraps inside a one-panel figure and the shared legend stays inside it."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from sam_bench.report.plots import fitted_title, shared_legend

    fig = Figure(figsize=(4.5, 4), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    for name in ("ours: adamw", "ours: adamw, 2× steps", "ours: fsam", "ours: sam"):
        ax.plot([0, 1], [0, 1], label=name)
    text = ("sam-bench Figure C: Score against training-data rate, real data (ρ chosen on dev)\n12 cells filled "
            "(the layout follows the data). Lines: ours, mean over seeds, band = 95% bootstrap interval")
    fitted_title(fig, text, fontsize=8)
    shared_legend(fig)
    renderer = fig.canvas.get_renderer()
    fig.canvas.draw()
    width = fig.bbox.width
    title = fig._suptitle
    assert title.get_text().replace("\n", " ").split() == text.replace("\n", " ").split()
    assert title.get_window_extent(renderer).x0 >= 0 and title.get_window_extent(renderer).x1 <= width
    legend = fig.legends[0].get_window_extent(renderer)
    assert legend.x0 >= 0 and legend.x1 <= width


def test_long_table_title_wraps_inside_the_page_above_the_table():
    """A table page's title longer than the page wraps, stays inside the page, and the table
    starts below its last line."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    disp = pd.DataFrame({"method": ["adamw", "sam"], "line": ["ours", "ours"], "val_loss": ["2.223", "2.308"]})
    title = ("Functional-SAM 2025 comparison: AdamW, SAM, Functional-SAM and their preconditioned forms: "
             "validation loss and top Hessian eigenvalue, mean over seeds with intervals")
    (page,) = pdf.table_pages(disp, title, ["a note"], fixed=1)
    FigureCanvasAgg(page)
    renderer = page.canvas.get_renderer()
    text = next(t for t in page.texts if t.get_text().replace("\n", " ").startswith("Functional-SAM"))
    box = text.get_window_extent(renderer)
    assert "\n" in text.get_text() and box.x0 >= 0 and box.x1 <= page.bbox.width
    table = page.axes[0].tables[0].get_window_extent(renderer)
    assert table.y1 <= box.y0
