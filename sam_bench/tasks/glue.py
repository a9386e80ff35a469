"""GLUE: CoLA, SST-2, MRPC, QQP, MNLI (matched / mismatched), QNLI, RTE, WNLI (STS-B is in stsb.py).

Files: the GLUE release archives (``CoLA.zip`` ... as tensorflow-datasets downloads them)
unpacked under ``glue/``: ``glue/<Task>/{train,dev,test}.tsv`` (MNLI:
``train.tsv``, ``dev_matched.tsv``, ``dev_mismatched.tsv``, ``test_matched.tsv``,
``test_mismatched.tsv``). MRPC is not hosted by GLUE: ``glue/MRPC/msr_paraphrase_train.txt``,
``glue/MRPC/msr_paraphrase_test.txt`` (Microsoft's release) and ``glue/MRPC/dev_ids.tsv``
(GLUE's list of the train pairs that form the dev set).

The files are read exactly as tensorflow-datasets' ``glue`` builder (version 2.0.0) reads them:
tab-separated with no quoting, a header row (except CoLA's train/dev files), ``idx`` the
row number, a row with a missing column or an empty label skipped (the builder "filters out
corrupted rows"; we log which lines), a numeric label mapped to its class name. Anything
else that is wrong (a label outside the label set, a non-numeric label) is an error naming
the file, line and field. Records: the text features, ``idx``, ``label`` (class name, None
in the unlabeled test files).

Text-to-text forms are T5's ``glue_*_v002`` tasks: ``"<task> <feature>: <text> ..."`` with the
features in sorted order (MNLI: ``mnli hypothesis: ... premise: ...``), the label name as
target; metrics: CoLA MCC; SST-2, MNLI, QNLI, RTE, WNLI accuracy; MRPC and QQP F1 and accuracy.

``sst2_sentences`` is not GLUE's SST-2: it reads the sentence-level SST-2 release
(``sst2_sentences/stsa.binary.{train,dev,test}``, lines "<0|1> <sentence>": 6,920 / 872 /
1,821 sentences) with the same text-to-text form. Its dev sentences are GLUE's SST-2 dev
sentences in another order; its train set is not GLUE's 67,349 phrases.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sam_bench.data.spec import TfdsSpec
from sam_bench.tasks.classification import field, make_classification_task
from sam_bench.tasks.formats import DataFormatError, read_tsv_rows

log = logging.getLogger(__name__)


def _label_from_column(raw, label_names, path, line, column):
    """tfds: a label that is not a class name is an integer index ("0"/"1"); "" means no label."""
    if raw in label_names:
        return raw
    if raw is None or raw == "":
        return None
    try:
        i = int(raw)
    except ValueError:
        raise DataFormatError(path, line, f"label {raw!r} is not one of {list(label_names)} "
                              "nor a class index", column) from None
    if not 0 <= i < len(label_names):
        raise DataFormatError(path, line, f"label {i} is not a class index of {list(label_names)}", column)
    return label_names[i]


def glue_tsv_reader(text_features: dict[str, str], label_column: str, label_names: Sequence[str],
                    headerless: Sequence[str] = ()):
    """A reader for one GLUE task's tsv files; ``headerless`` names files without a header (CoLA)."""
    label_names = tuple(label_names)

    def read(path: Path) -> list[dict]:
        path = Path(path)
        out = []
        skipped = []
        if path.name in headerless:  # CoLA train/dev: source, label, original label, sentence
            _, rows = read_tsv_rows(path, header=False)
            for n, (line, row) in enumerate(rows):
                if len(row) < 4:
                    raise DataFormatError(path, line, f"expected 4 tab-separated columns, got {len(row)}")
                label = _label_from_column(row[1], label_names, path, line, "label")
                if label is None:
                    skipped.append(line)
                    continue
                out.append({"sentence": row[3], "idx": n, "label": label})
        else:
            header, rows = read_tsv_rows(path, header=True, required=tuple(text_features.values()))
            has_label = label_column in header
            for n, (line, row) in enumerate(rows):
                rec = {feat: row[col] for feat, col in text_features.items()}
                rec["idx"] = n
                if has_label:
                    rec["label"] = _label_from_column(row[label_column], label_names, path, line, label_column)
                    if rec["label"] is None:
                        skipped.append(line)
                        continue
                else:
                    rec["label"] = None
                if any(rec[f] is None for f in text_features):
                    skipped.append(line)
                    continue
                out.append(rec)
        if skipped:
            log.warning("%s: skipped %d row(s) with a missing column or label, as tensorflow-datasets does "
                        "(lines %s)", path, len(skipped), skipped[:20])
        return out

    return read


def _tfds_glue(features, label_names):
    def convert(key, ex):
        rec = {f: ex[f] for f in features}
        rec["idx"] = int(ex["idx"])
        label = ex["label"]
        if isinstance(label, (int, np.integer)) and not isinstance(label, bool):
            rec["label"] = None if int(label) == -1 else label_names[int(label)]
        elif label in label_names:
            rec["label"] = label
        else:
            raise ValueError(f"label {label!r} is not one of {list(label_names)}")
        return rec
    return convert


def _spec(features, label_names, splits=(("train", "train"), ("validation", "validation"), ("test", "test"))):
    return TfdsSpec(splits, _tfds_glue(features, label_names))


def _files(folder):
    return (("train", f"glue/{folder}/train.tsv"), ("validation", f"glue/{folder}/dev.tsv"),
            ("test", f"glue/{folder}/test.tsv"))


def _task(name, folder, prefix, text_features, label_column, label_names, recipe="accuracy", encoder=None,
          headerless=(), **kw):
    features = tuple(text_features)
    kw.setdefault("split_files", _files(folder))
    kw.setdefault("tfds", _spec(features, label_names))
    return make_classification_task(
        name=kw.pop("task_name", name), benchmark="glue", prefix=prefix,
        feature_names=tuple(sorted(features)), label_names=label_names, recipe=recipe,
        layout=kw.pop("layout", f"glue/{folder}/{{train,dev,test}}.tsv (GLUE {folder}.zip): tab-separated, "
                                f"columns {', '.join(text_features.values())}, {label_column}"),
        reader=glue_tsv_reader(text_features, label_column, label_names, headerless),
        encoder_texts=encoder, **kw,
    )


COLA = _task("cola", "CoLA", "cola", {"sentence": "sentence"}, "label", ("unacceptable", "acceptable"),
             recipe="mcc", encoder=(field("sentence"), None), headerless=("train.tsv", "dev.tsv"),
             layout="glue/CoLA/{train,dev}.tsv without header (source, label, original label, sentence); "
                    "glue/CoLA/test.tsv with header index, sentence")

SST2 = _task("sst2", "SST-2", "sst2", {"sentence": "sentence"}, "label", ("negative", "positive"),
             encoder=(field("sentence"), None))

QQP = _task("qqp", "QQP", "qqp", {"question1": "question1", "question2": "question2"}, "is_duplicate",
            ("not_duplicate", "duplicate"), recipe="f1_accuracy",
            encoder=(field("question1"), field("question2")))

MNLI_LABELS = ("entailment", "neutral", "contradiction")
_MNLI_FEATURES = {"premise": "sentence1", "hypothesis": "sentence2"}
MNLI_M = _task(
    "mnli_m", "MNLI", "mnli", _MNLI_FEATURES, "gold_label", MNLI_LABELS,
    encoder=(field("premise"), field("hypothesis")), paper_task="mnli_m",
    split_files=(("train", "glue/MNLI/train.tsv"), ("validation", "glue/MNLI/dev_matched.tsv"),
                 ("test", "glue/MNLI/test_matched.tsv")),
    layout="glue/MNLI/{train,dev_matched,test_matched}.tsv (GLUE MNLI.zip): columns sentence1, sentence2, gold_label",
    tfds=_spec(("premise", "hypothesis"), MNLI_LABELS,
               (("train", "train"), ("validation", "validation_matched"), ("test", "test_matched"))),
)
MNLI_MM = _task(
    "mnli_mm", "MNLI", "mnli", _MNLI_FEATURES, "gold_label", MNLI_LABELS,
    encoder=(field("premise"), field("hypothesis")), paper_task="mnli_mm", trains=False,
    split_files=(("validation", "glue/MNLI/dev_mismatched.tsv"), ("test", "glue/MNLI/test_mismatched.tsv")),
    layout="glue/MNLI/{dev_mismatched,test_mismatched}.tsv (GLUE MNLI.zip): columns sentence1, sentence2, "
           "gold_label; trained through mnli_m (the same MNLI train set)",
    tfds=_spec(("premise", "hypothesis"), MNLI_LABELS,
               (("validation", "validation_mismatched"), ("test", "test_mismatched"))),
)

QNLI = _task("qnli", "QNLI", "qnli", {"question": "question", "sentence": "sentence"}, "label",
             ("entailment", "not_entailment"), encoder=(field("question"), field("sentence")),
             layout="glue/QNLI/{train,dev,test}.tsv (GLUE QNLIv2.zip): columns question, sentence, label")

GLUE_RTE = _task("rte", "RTE", "rte", {"sentence1": "sentence1", "sentence2": "sentence2"}, "label",
                 ("entailment", "not_entailment"), encoder=(field("sentence1"), field("sentence2")),
                 task_name="glue_rte", paper_task="rte")

WNLI = _task("wnli", "WNLI", "wnli", {"sentence1": "sentence1", "sentence2": "sentence2"}, "label",
             ("not_entailment", "entailment"), encoder=(field("sentence1"), field("sentence2")))


# -------------------------------------------------------------------------- MRPC
MRPC_LABELS = ("not_equivalent", "equivalent")


def read_mrpc(path: Path) -> list[dict]:
    """MRPC as tfds builds it: train/dev from msr_paraphrase_train.txt split by GLUE's dev ids
    (``idx`` is the row in msr_paraphrase_train.txt), test from msr_paraphrase_test.txt (no labels)."""
    path = Path(path)
    folder = path.parent
    if path.name == "msr_paraphrase_test.txt":
        _, rows = read_tsv_rows(path, header=True, required=("#1 String", "#2 String"), encoding="utf-8-sig")
        return [{"sentence1": row["#1 String"], "sentence2": row["#2 String"], "idx": n, "label": None}
                for n, (line, row) in enumerate(rows)]
    want_dev = path.name == "dev_ids.tsv"
    ids_path = folder / "dev_ids.tsv"
    train_path = folder / "msr_paraphrase_train.txt"
    for p in (ids_path, train_path):
        if not p.is_file():
            raise FileNotFoundError(f"MRPC needs {p} (train and dev are both cut from msr_paraphrase_train.txt "
                                    "by GLUE's dev_ids.tsv)")
    _, id_rows = read_tsv_rows(ids_path, header=False)
    dev_ids = set()
    for line, row in id_rows:
        if len(row) < 2:
            raise DataFormatError(ids_path, line, f"expected 2 tab-separated ids, got {len(row)} field(s)")
        dev_ids.add((row[0], row[1]))
    _, rows = read_tsv_rows(train_path, header=True, encoding="utf-8-sig",
                            required=("Quality", "#1 ID", "#2 ID", "#1 String", "#2 String"))
    out = []
    for n, (line, row) in enumerate(rows):
        if ((row["#1 ID"], row["#2 ID"]) in dev_ids) != want_dev:
            continue
        quality = row["Quality"]
        if quality not in ("0", "1"):
            raise DataFormatError(train_path, line, f"label {quality!r} is not one of ['0', '1']", "Quality")
        for col in ("#1 String", "#2 String"):
            if row[col] is None:
                raise DataFormatError(train_path, line, "missing column", col)
        out.append({"sentence1": row["#1 String"], "sentence2": row["#2 String"], "idx": n,
                    "label": MRPC_LABELS[int(quality)]})
    return out


MRPC = make_classification_task(
    name="mrpc", benchmark="glue", prefix="mrpc",
    feature_names=("sentence1", "sentence2"), label_names=MRPC_LABELS, recipe="f1_accuracy",
    split_files=(("train", "glue/MRPC/msr_paraphrase_train.txt"), ("validation", "glue/MRPC/dev_ids.tsv"),
                 ("test", "glue/MRPC/msr_paraphrase_test.txt")),
    # train and dev are both cut from msr_paraphrase_train.txt by the dev-id list
    companions=(("glue/MRPC/msr_paraphrase_train.txt", ("glue/MRPC/dev_ids.tsv",)),
                ("glue/MRPC/dev_ids.tsv", ("glue/MRPC/msr_paraphrase_train.txt",))),
    layout="glue/MRPC/msr_paraphrase_train.txt and msr_paraphrase_test.txt (Microsoft's MRPC release, "
           "tab-separated Quality, #1 ID, #2 ID, #1 String, #2 String) and glue/MRPC/dev_ids.tsv (GLUE's dev ids)",
    reader=read_mrpc, encoder_texts=(field("sentence1"), field("sentence2")),
    tfds=_spec(("sentence1", "sentence2"), MRPC_LABELS),
)


# ---------------------------------------------------------------- SST-2 sentences
def read_sst2_sentences(path: Path) -> list[dict]:
    out = []
    with open(path, encoding="utf-8") as f:
        for line, text in enumerate(f, start=1):
            text = text.rstrip("\r\n")
            if not text.strip():
                continue
            label, _, sentence = text.partition(" ")
            if label not in ("0", "1"):
                raise DataFormatError(path, line, f"label {label!r} is not one of ['0', '1']", "label")
            if not sentence.strip():
                raise DataFormatError(path, line, "empty sentence", "sentence")
            out.append({"sentence": sentence, "idx": len(out), "label": ("negative", "positive")[int(label)]})
    return out


SST2_SENTENCES = make_classification_task(
    name="sst2_sentences", benchmark="glue", prefix="sst2",
    feature_names=("sentence",), label_names=("negative", "positive"),
    split_files=(("train", "sst2_sentences/stsa.binary.train"), ("validation", "sst2_sentences/stsa.binary.dev"),
                 ("test", "sst2_sentences/stsa.binary.test")),
    layout="sst2_sentences/stsa.binary.{train,dev,test}: one '<0|1> <sentence>' per line (sentence-level SST-2)",
    reader=read_sst2_sentences, encoder_texts=(field("sentence"), None), unlabeled_splits=(),
    paper_task="sst2",
)

TASKS_BEFORE_STSB = (COLA, SST2, MRPC)
TASKS_AFTER_STSB = (QQP, MNLI_M, MNLI_MM, QNLI, GLUE_RTE, WNLI, SST2_SENTENCES)
