"""The published numbers of the two papers, as tidy frames.

The CSV files in ``reports/reference/`` are byte-for-byte copies of the transcriptions in
``../shared/papers/tables`` (one row per printed number; see ``reports/README.md``).  This module
loads them, parses ``value`` to float where it is numeric (the printed string is kept in
``value_printed``), and knows which Bahri et al. (2022) table holds the published counterpart of
one of our (task, subsample rate) pairs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

__all__ = [
    "REFERENCE_COLUMNS",
    "TABLES",
    "BAHRI_TABLES_BY_RATE",
    "reference_path",
    "reference_tables",
    "load_reference",
    "table_title",
    "paper_rows_for",
]

#: Columns of every reference CSV (and of our result rows), in order.
REFERENCE_COLUMNS = [
    "paper", "table", "model", "method", "rho", "hparam_name", "hparam_value",
    "subsample_rate", "task", "metric", "value", "split",
]

_STR = "str" if int(pd.__version__.split(".")[0]) >= 3 else object


def _t(paper, table, title, kind, n_rows):
    return {"paper": paper, "table": table, "title": title, "kind": kind, "n_rows": n_rows}


#: table_id (= file stem) -> metadata.  Titles are our own short descriptions; ``n_rows`` is the
#: number of CSV rows (= printed numeric cells, see TRANSCRIPTION_NOTES.md) and is checked on load.
TABLES: dict[str, dict] = {
    "bahri2022_table1_superglue_full": _t("bahri2022", "Table 1", "SuperGLUE dev, full training data, T5.1.1 Small-XL, AdaFactor vs SAM", "results", 96),
    "bahri2022_table2_glue_full": _t("bahri2022", "Table 2", "GLUE dev, full training data (task mixture), T5.1.1 Small-XL, AdaFactor vs SAM", "results", 104),
    "bahri2022_table3_tydiqa_avg": _t("bahri2022", "Table 3", "TyDiQA-GoldP average F1/EM, mT5 Small-XL, AdaFactor vs SAM", "results", 16),
    "bahri2022_table4_cbqa_full_mixture": _t("bahri2022", "Table 4", "Closed-book QA test F1/EM, full data, trained on the task mixture, T5.1.1 Small-XL", "results", 48),
    "bahri2022_table5_cbqa_full_single_task": _t("bahri2022", "Table 5", "Closed-book QA test F1/EM, full data, each task trained separately, T5.1.1 Small-XL", "results", 48),
    "bahri2022_table6_superglue_5pct": _t("bahri2022", "Table 6", "SuperGLUE dev with 5% of the training data, T5.1.1 Small-XL", "results", 96),
    "bahri2022_table7_cbqa_5pct": _t("bahri2022", "Table 7", "Closed-book QA F1/EM with 5% of the training data, T5.1.1 Small-XL", "results", 48),
    "bahri2022_table8_tydiqa_per_language": _t("bahri2022", "Table 8", "TyDiQA-GoldP per language (average + 9 languages), mT5 Small-XL", "results", 160),
    "bahri2022_table9_superglue_base_hparam_ablation": _t("bahri2022", "Table 9", "SuperGLUE, T5.1.1-Base, SAM ablation over rho / ascent micro-batch a / sharpness m", "results", 180),
    "fsam2022_table1_nlu": _t("fsam2022", "Table 1", "GLUE/SuperGLUE dev, four large PLMs, Adam vs Adam+SAM vs Adam+FSAM", "results", 132),
    "fsam2022_table2_generation": _t("fsam2022", "Table 2", "Generation (XSUM ROUGE, CoNLL2014 P/R/F0.5), BART large/base", "results", 42),
    "fsam2022_table3_small_plms": _t("fsam2022", "Table 3", "GLUE/SuperGLUE dev, BERT-base and RoBERTa-base", "results", 36),
    "fsam2022_table4_fi_ablation": _t("fsam2022", "Table 4", "FSAM mask-update interval Fi ablation", "results", 10),
    "fsam2022_table5_base_optimizers": _t("fsam2022", "Table 5", "AMSGrad / Adagrad with and without SAM / FSAM, RoBERTa-large", "results", 36),
    "fsam2022_table6_sam_variants": _t("fsam2022", "Table 6", "ESAM / GSAM with and without the Fisher mask, RoBERTa-large", "results", 30),
    "fsam2022_table7_data_stats": _t("fsam2022", "Table 7", "Dataset statistics (metadata)", "metadata", 30),
    "fsam2022_table8_bart_hparams": _t("fsam2022", "Table 8", "BART generation hyper-parameters (metadata)", "metadata", 10),
    "fsam2022_table9_beta1_zero": _t("fsam2022", "Table 9", "beta1 = 0, RoBERTa base/large, Adam and AMSGrad families", "results", 84),
    "fsam2022_table10_nlu_hparams": _t("fsam2022", "Table 10", "NLU fine-tuning hyper-parameters (metadata)", "metadata", 128),
}

#: Where the published counterpart of one of our tasks lives, by training-data rate: the Bahri
#: tables in priority order (a task found in an earlier table is taken from there: RTE is in both
#: Table 1 and Table 2 and is taken from Table 1).  Tables 1/2/4 are full data (Table 4 = task
#: mixture, the setup Figure 1 presumably uses); Tables 6/7 are 5%; GLUE has no 5% table.
BAHRI_TABLES_BY_RATE: dict[float, list[str]] = {
    1.0: ["Table 1", "Table 2", "Table 4", "Table 8"],
    0.05: ["Table 6", "Table 7"],
}


def reference_path(path: str | os.PathLike | None = None) -> Path:
    """The folder with the reference CSVs: ``path`` if given, else ``$SAM_BENCH_REFERENCE_DIR``,
    else ``<repo>/reports/reference`` (the repository that holds this package)."""
    if path is not None:
        return Path(path)
    env = os.environ.get("SAM_BENCH_REFERENCE_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "reports" / "reference"


def reference_tables(reference_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """Metadata, one row per reference CSV present: table_id, paper, table, title, kind
    (``results`` or ``metadata``), n_rows (expected), file.  CSVs not in :data:`TABLES` are listed
    with their paper/table read from the file and title = table_id."""
    d = reference_path(reference_dir)
    recs = []
    for f in sorted(d.glob("*.csv")):
        tid = f.stem
        meta = TABLES.get(tid)
        if meta is None:
            head = pd.read_csv(f, dtype=str, keep_default_na=False, nrows=1)
            meta = {"paper": head["paper"].iloc[0] if len(head) else "", "table": head["table"].iloc[0] if len(head) else "",
                    "title": tid, "kind": "results", "n_rows": None}
        recs.append({"table_id": tid, **meta, "file": str(f)})
    return pd.DataFrame(recs, columns=["table_id", "paper", "table", "title", "kind", "n_rows", "file"])


def table_title(table_id: str) -> str:
    """Short title of a reference table (our words), e.g. for captions."""
    meta = TABLES.get(table_id)
    return f"{meta['paper']} {meta['table']}: {meta['title']}" if meta else table_id


def _resolve(names: Iterable[str], meta: pd.DataFrame) -> list[str]:
    out = []
    for name in names:
        name = str(name)
        if name in set(meta.table_id):
            out.append(name)
            continue
        # "bahri2022:Table 1" / "bahri2022 Table 1"
        hit = []
        for sep in (":", " "):
            if sep in name:
                paper, _, table = name.partition(sep)
                hit = meta.table_id[(meta.paper == paper.strip()) & (meta.table == table.strip())].tolist()
                if hit:
                    break
        if not hit:  # a unique prefix such as "bahri2022_table1"
            hit = [t for t in meta.table_id if t == name or t.startswith(name + "_")]
        if len(hit) != 1:
            raise KeyError(f"reference table {name!r}: {'ambiguous ' + str(hit) if hit else 'not found'}; "
                           f"known: {sorted(meta.table_id)}")
        out.append(hit[0])
    return out


def load_reference(table: str | Iterable[str] | None = None, reference_dir: str | os.PathLike | None = None,
                   *, validate: bool = True) -> pd.DataFrame:
    """Load reference tables into one tidy frame.

    ``table``: None (all), a table id (file stem, e.g. ``"bahri2022_table1_superglue_full"``), a
    unique id prefix (``"bahri2022_table1"``), ``"bahri2022:Table 1"``, or a list of these.

    Columns: the 12 paper columns, then ``value_printed`` (the string as printed), ``table_id`` and
    ``title``.  ``value``, ``rho`` and ``subsample_rate`` are float (NaN where empty or not numeric,
    e.g. "8.5K" in the FSAM data statistics); ``hparam_value`` stays a string.  With ``validate``,
    the row count of every known table is checked against :data:`TABLES`.
    """
    meta = reference_tables(reference_dir)
    if meta.empty:
        raise FileNotFoundError(f"no reference CSVs in {reference_path(reference_dir)}")
    ids = list(meta.table_id) if table is None else _resolve([table] if isinstance(table, str) else table, meta)
    frames = []
    for tid in ids:
        m = meta.set_index("table_id").loc[tid]
        df = pd.read_csv(m["file"], dtype=str, keep_default_na=False)
        missing = [c for c in REFERENCE_COLUMNS if c not in df.columns]
        if missing:
            raise ValueError(f"{m['file']}: missing columns {missing}")
        if validate and m["n_rows"] is not None and not pd.isna(m["n_rows"]) and len(df) != int(m["n_rows"]):
            raise ValueError(f"{m['file']}: {len(df)} rows, expected {int(m['n_rows'])}")
        df = df.replace("", np.nan)
        df["value_printed"] = df["value"]
        for c in ("value", "rho", "subsample_rate"):
            df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
        df["table_id"] = tid
        df["title"] = m["title"]
        frames.append(df)
    out = pd.concat(frames, ignore_index=True)
    cols = REFERENCE_COLUMNS + ["value_printed", "table_id", "title"]
    out = out[cols + [c for c in out.columns if c not in cols]]
    for c in out.columns:
        if c not in ("value", "rho", "subsample_rate"):
            out[c] = out[c].astype(_STR)
    return out


def paper_rows_for(reference_df: pd.DataFrame, tasks: Iterable[str], subsample_rate: float,
                   paper: str = "bahri2022", tables_by_rate: dict[float, list[str]] | None = None) -> pd.DataFrame:
    """The published rows for our ``tasks`` at one training-data rate.

    Each task is taken from the first table of ``BAHRI_TABLES_BY_RATE[rate]`` that prints it
    (hyper-parameter ablation rows excluded).  Returns the matching reference rows (all models and
    methods of that table; every metric of the task), or an empty frame if the paper prints no
    number at that rate.  The chosen table is in the ``table`` column.
    """
    tables_by_rate = BAHRI_TABLES_BY_RATE if tables_by_rate is None else tables_by_rate
    cands = [tabs for r, tabs in tables_by_rate.items() if np.isclose(r, float(subsample_rate))]
    ref = reference_df[(reference_df["paper"] == paper) & reference_df["hparam_name"].isna()]
    ref = ref[np.isclose(ref["subsample_rate"].astype(float), float(subsample_rate))]
    parts = []
    for task in tasks:
        for tab in (cands[0] if cands else []):
            hit = ref[(ref["table"] == tab) & (ref["task"] == task)]
            if len(hit):
                parts.append(hit)
                break
    if not parts:
        return reference_df.iloc[0:0].copy()
    return pd.concat(parts, ignore_index=True)
