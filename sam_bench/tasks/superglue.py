"""SuperGLUE: BoolQ, CB, COPA, MultiRC, ReCoRD, RTE, WiC, WSC and the AX-b / AX-g diagnostics.

The records (files, fields, labels; readers and tfds conversions) are
``sam_bench.tasks.superglue_records``.

Text-to-text forms are T5's (``super_glue_*_v102`` tasks): ``preprocessors.glue`` with the
benchmark name as prefix (MultiRC with the features question, answer, paragraph and its
``<br>``/``<b>`` markup removed; WiC with sentence1, sentence2, word; AX-b/AX-g cast as RTE),
``preprocessors.record`` for ReCoRD (one training pair per answer) and the "WSC simple" format
for WSC (``wsc: ... *pronoun* ...`` -> the candidate referent; trained on the examples whose
candidate IS the referent; scored by T5's ``wsc_simple`` referent match).
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np

import sam_bench.tasks.metrics as metrics
from sam_bench.data.spec import SourceSpec, TfdsSpec
from sam_bench.tasks.base import EncoderSpec, Task
from sam_bench.tasks.classification import field, make_classification_task
from sam_bench.tasks.common import UNK, gold_class_ids, qa_scores
from sam_bench.tasks.superglue_records import (
    BOOL_LABELS,
    CB_LABELS,
    COPA_LABELS,
    NLI2,
    read_axb,
    read_axg,
    read_boolq,
    read_cb,
    read_copa,
    read_multirc,
    read_record,
    read_rte,
    read_wic,
    read_wsc,
    tfds_multirc,
    tfds_record,
    tfds_simple,
)

def _spec(convert, splits=(("train", "train"), ("validation", "validation"), ("test", "test"))):
    return TfdsSpec(splits, convert)


def _files(folder, extra=()):
    return (("train", f"super_glue/{folder}/train.jsonl"), ("validation", f"super_glue/{folder}/val.jsonl"),
            ("test", f"super_glue/{folder}/test.jsonl")) + tuple(extra)


def _layout(folder, fields):
    return f"super_glue/{folder}/{{train,val,test}}.jsonl (SuperGLUE v2 {folder}.zip), one JSON object per line: {fields}"


# -------------------------------------------------------------------- tasks
BOOLQ = make_classification_task(
    name="boolq", benchmark="superglue", prefix="boolq",
    feature_names=("passage", "question"), label_names=BOOL_LABELS,
    split_files=_files("BoolQ", (("train32", "super_glue/BoolQ/train32.jsonl"),)),
    layout=_layout("BoolQ", "question, passage, idx, label (bool)"), reader=read_boolq,
    encoder_texts=(field("question"), field("passage")),
    tfds=_spec(tfds_simple(("question", "passage"), BOOL_LABELS)),
)

CB = make_classification_task(
    name="cb", benchmark="superglue", prefix="cb",
    feature_names=("hypothesis", "premise"), label_names=CB_LABELS, recipe="cb",
    split_files=_files("CB"), layout=_layout("CB", "premise, hypothesis, label, idx"), reader=read_cb,
    encoder_texts=(field("premise"), field("hypothesis")),
    tfds=_spec(tfds_simple(("premise", "hypothesis"), CB_LABELS)),
)

_COPA_CONNECTOR = {"cause": "What was the cause?", "effect": "What happened as a result?"}


def _copa_encoder(example: dict) -> dict:
    choices = [(example["premise"], f"{_COPA_CONNECTOR[example['question']]} {example[c]}")
               for c in ("choice1", "choice2")]
    label = example.get("label")
    return {"choices": choices, "label": None if label is None else COPA_LABELS.index(label)}


COPA = make_classification_task(
    name="copa", benchmark="superglue", prefix="copa",
    feature_names=("choice1", "choice2", "premise", "question"), label_names=COPA_LABELS,
    split_files=_files("COPA", (("train32", "super_glue/COPA/train32.jsonl"),)),
    layout=_layout("COPA", "premise, choice1, choice2, question (cause/effect), idx, label (0/1)"),
    reader=read_copa,
    tfds=_spec(tfds_simple(("premise", "choice1", "choice2", "question"), COPA_LABELS)),
)
COPA = dataclasses.replace(COPA, encoder=EncoderSpec("multiple_choice", COPA_LABELS, _copa_encoder,
                                                     lambda out, ex: int(out)))


def _strip_multirc_markup(text: str) -> str:
    text = re.sub(r"<br>", " ", text)
    return re.sub(r"<(/)?b>", "", text)


MULTIRC = make_classification_task(
    name="multirc", benchmark="superglue", prefix="multirc",
    feature_names=("question", "answer", "paragraph"), label_names=BOOL_LABELS, recipe="multirc",
    split_files=_files("MultiRC", (("train32", "super_glue/MultiRC/train32.jsonl"),)),
    layout=_layout("MultiRC", "idx, passage {text, questions [{question, idx, answers [{text, idx, label}]}]}"),
    reader=read_multirc, postprocess_inputs=_strip_multirc_markup,
    encoder_texts=(lambda ex: _strip_multirc_markup(ex["paragraph"]), lambda ex: f"{ex['question']} {ex['answer']}"),
    tfds=_spec(tfds_multirc),
)

RTE = make_classification_task(
    name="rte", benchmark="superglue", prefix="rte",
    feature_names=("hypothesis", "premise"), label_names=NLI2,
    split_files=_files("RTE"), layout=_layout("RTE", "premise, hypothesis, label, idx"), reader=read_rte,
    encoder_texts=(field("premise"), field("hypothesis")),
    tfds=_spec(tfds_simple(("premise", "hypothesis"), NLI2)),
)

WIC = make_classification_task(
    name="wic", benchmark="superglue", prefix="wic",
    feature_names=("sentence1", "sentence2", "word"), label_names=BOOL_LABELS,
    split_files=_files("WiC", (("train32", "super_glue/WiC/train32.jsonl"),)),
    layout=_layout("WiC", "word, sentence1, sentence2, start1, start2, end1, end2, idx, label (bool)"),
    reader=read_wic,
    encoder_texts=(lambda ex: f"{ex['word']}: {ex['sentence1']}", field("sentence2")),
    tfds=_spec(tfds_simple(("word", "sentence1", "sentence2", "start1", "start2", "end1", "end2"),
                                   BOOL_LABELS)),
)

def _diagnostic(name, folder, alternative, fields, reader, features):
    """AX-b / AX-g: test-only diagnostics, evaluated with the mixture's model."""
    return make_classification_task(
        name=name, benchmark="superglue", prefix="rte",
        feature_names=("hypothesis", "premise"), label_names=NLI2, recipe=name,
        split_files=(("test", f"super_glue/{folder}/{folder}.jsonl"),),
        alternatives=(("test", (f"super_glue/{folder}/{alternative}",)),),
        layout=f"super_glue/{folder}/{folder}.jsonl (SuperGLUE {folder}.zip): {fields}",
        reader=reader, encoder_texts=(field(features[0]), field(features[1])),
        tfds=_spec(tfds_simple(features, NLI2), splits=(("test", "test"),)),
        trains=False, eval_split="test", paper_split="test", unlabeled_splits=(),
    )


AXB = _diagnostic("axb", "AX-b", "diagnostic-full.tsv", "sentence1, sentence2, label, idx", read_axb,
                  ("sentence1", "sentence2"))
# T5 rekeys AX-b (sentence1 -> premise, sentence2 -> hypothesis) and formats it as RTE.
AXB = dataclasses.replace(AXB, preprocessor=lambda ex: {
    "inputs": f"rte hypothesis: {ex['sentence2']} premise: {ex['sentence1']}",
    "targets": UNK if ex.get("label") is None else ex["label"]})
AXG = _diagnostic("axg", "AX-g", "winogender_filtered.jsonl", "premise, hypothesis, label, idx, pair_id", read_axg,
                  ("premise", "hypothesis"))


# -------------------------------------------------------------------- ReCoRD
def _record_passage(passage: str) -> str:
    passage = re.sub(r"(\.|\?|\!|\"|\')\n@highlight\n", r"\1 ", passage)
    return re.sub(r"\n@highlight\n", ". ", passage)


def _record_inputs(ex: dict) -> str:
    return " ".join(["record query:", ex["query"], "entities:", ", ".join(ex["entities"]),
                     "passage:", _record_passage(ex["passage"])])


def _record_preprocess(ex: dict) -> dict:
    return {"inputs": _record_inputs(ex), "targets": ex["answers"][0] if ex["answers"] else UNK}


def _record_training(ex: dict) -> list[dict]:
    inputs = _record_inputs(ex)
    return [{"inputs": inputs, "targets": a} for a in (ex["answers"] or [UNK])]


def _record_metrics(examples, values):
    return qa_scores("record", examples, values, lambda ex: ex["answers"])


def _record_encoder(ex: dict) -> dict:
    choices = [(ex["passage"], ex["query"].replace("@placeholder", e)) for e in ex["entities"]]
    return {"choices": choices, "label": [i for i, e in enumerate(ex["entities"]) if e in ex["answers"]]}


RECORD = Task(
    name="record", benchmark="superglue", metric_names=("f1", "em"),
    preprocessor=_record_preprocess, postprocessor=lambda text, example=None: text, metric_fn=_record_metrics,
    expand_training=_record_training,
    encoder=EncoderSpec("multiple_choice", (), _record_encoder, lambda out, ex: ex["entities"][int(out)]),
    source=SourceSpec(
        split_files=_files("ReCoRD", (("train32", "super_glue/ReCoRD/train32.jsonl"),
                                      ("dev32", "super_glue/ReCoRD/dev32.jsonl"))),
        layout=_layout("ReCoRD", "source, idx, passage {text, entities [{start, end}]}, qas [{query, answers, idx}]"),
        reader=read_record,
        tfds=_spec(tfds_record),
    ),
)


# ------------------------------------------------------------------------ WSC
_WSC_DETERMINERS = frozenset({"a", "an", "few", "her", "his", "each", "every", "many", "much", "my", "our",
                              "some", "that", "the", "their", "these", "this", "those", "which", "whose", "your"})
_WSC_SPECIAL = {
    'The boy continued to whip the pony , and eventually the pony threw him over. John laughed out quite loud. '
    '"Good for him," he said. ':
        'The boy continued to whip the pony , and eventually the pony threw him over. John laughed out quite '
        'loud. "Good for X ," he said.',
    'When they had eventually calmed down a bit , and had gotten home, Mr. Farley put the magic pebble in an '
    'iron safe . Some day they might want to use it , but really for now, what more could they wish for?':
        'When they had eventually calmed down a bit , and had gotten home, Mr. Farley put the magic pebble in an '
        'iron safe . Some day they might want to use X , but really for now, what more could they wish for?',
}


def _wsc_blanked(ex: dict) -> str:
    """T5's ``_wsc_inputs``: the text with the pronoun replaced by X."""
    if ex["text"] in _WSC_SPECIAL:
        return _WSC_SPECIAL[ex["text"]]
    words = ex["text"].split(" ")
    i = ex["span2_index"]
    if not 0 < i < len(words) or words[i] != ex["span2_text"]:
        raise ValueError(
            f"wsc idx={ex.get('idx')!r}: word {i} of the text is not the pronoun {ex['span2_text']!r} "
            "(T5's WSC-simple format asserts this)"
        )
    return " ".join([" ".join(words[:i]), "X", " ".join(words[i + 1:])])


def _wsc_preprocess(ex: dict) -> dict:
    text = _wsc_blanked(ex).replace(" X ", " *" + ex["span2_text"] + "* ")
    return {"inputs": "wsc: " + text, "targets": ex["span1_text"]}


def _wsc_training(ex: dict) -> list[dict]:
    return [_wsc_preprocess(ex)] if ex.get("label") == "True" else []


def _wsc_clean(s: str) -> str:
    s = s.strip().lower()
    return " ".join(w for w in s.split(" ") if w not in _WSC_DETERMINERS)


def _wsc_postprocess(text: str, example: dict | None = None) -> int:
    """1 if the prediction names the example's candidate referent (T5's ``wsc_simple``)."""
    referent, prediction = _wsc_clean(example["span1_text"]), _wsc_clean(text)
    if ("'" in prediction) != ("'" in referent):
        return 0
    pw, rw = set(prediction.split(" ")), set(referent.split(" "))
    return int(pw.issubset(rw) or rw.issubset(pw))


def _wsc_metrics(examples, values):
    gold = gold_class_ids("wsc", examples, BOOL_LABELS)
    return {"accuracy": 100.0 * metrics.accuracy(gold, np.asarray(values, dtype=np.int64))}


def _wsc_oracle(ex: dict) -> str:
    # the candidate when it is the referent; otherwise a text that names nobody
    return ex["span1_text"] if ex.get("label") == "True" else ""


def _wsc_marked(ex: dict) -> str:
    """Encoder form: the text with *span1* and #span2# marked (T5's ``preprocessors.wsc`` marks)."""
    def mark(text, span, index, sym):
        pattern = r"^((?:[^\t\n\f\r ]+[\t\n\f\r ]){%d})(%s)" % (index, re.escape(span))
        return re.sub(pattern, lambda m: f"{m.group(1)}{sym} {m.group(2)} {sym}", text, count=1)

    text = mark(ex["text"], ex["span1_text"], ex["span1_index"], "*")
    span2_index = ex["span2_index"] + 2 * int(ex["span1_index"] < ex["span2_index"])
    return mark(text, ex["span2_text"], span2_index, "#")


def _wsc_encoder(ex: dict) -> dict:
    label = ex.get("label")
    return {"text_a": _wsc_marked(ex), "text_b": None, "label": None if label is None else BOOL_LABELS.index(label)}


WSC = Task(
    name="wsc", benchmark="superglue", metric_names=("accuracy",),
    preprocessor=_wsc_preprocess, postprocessor=_wsc_postprocess, metric_fn=_wsc_metrics,
    label_names=BOOL_LABELS, expand_training=_wsc_training, oracle=_wsc_oracle,
    encoder=EncoderSpec("classification", BOOL_LABELS, _wsc_encoder, lambda out, ex: int(out)),
    source=SourceSpec(
        split_files=_files("WSC"),
        layout=_layout("WSC", "text, target {span1_index, span2_index, span1_text, span2_text}, idx, label (bool)"),
        reader=read_wsc,
        tfds=_spec(tfds_simple(("text", "span1_index", "span2_index", "span1_text", "span2_text"), BOOL_LABELS)),
    ),
)

TASKS = (BOOLQ, CB, COPA, MULTIRC, RECORD, RTE, WIC, WSC, AXB, AXG)
