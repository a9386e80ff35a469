"""SuperGLUE: BoolQ, CB, COPA, MultiRC, ReCoRD, RTE, WiC, WSC and the AX-b / AX-g diagnostics.

Files: the SuperGLUE v2 release archives (``BoolQ.zip`` ...) unpacked under ``super_glue/``:
``super_glue/<Task>/{train,val,test}.jsonl``, ``super_glue/AX-b/AX-b.jsonl``,
``super_glue/AX-g/AX-g.jsonl``. Records are what tensorflow-datasets' ``super_glue`` builder
(version 1.0.2) yields, labels as class names:

=========  ====================================================================  ==============================
task       record                                                                labels
=========  ====================================================================  ==============================
boolq      question, passage, idx, label                                         False, True
cb         premise, hypothesis, idx, label                                       entailment, contradiction, neutral
copa       premise, choice1, choice2, question, idx, label                       choice1, choice2
multirc    paragraph, question, answer, idx{paragraph,question,answer}, label    False, True (one record per answer)
record     passage, query, entities, answers, idx{passage,query}                 (answers; one record per query)
rte        premise, hypothesis, idx, label                                       entailment, not_entailment
wic        word, sentence1, sentence2, start1, start2, end1, end2, idx, label    False, True
wsc        text, span1_index, span2_index, span1_text, span2_text, idx, label    False, True (tfds ``wsc.fixed``)
axb        sentence1, sentence2, idx, label                                      entailment, not_entailment
axg        premise, hypothesis, idx, label                                       entailment, not_entailment
=========  ====================================================================  ==============================

Text-to-text forms are T5's (``super_glue_*_v102`` tasks): ``preprocessors.glue`` with the
benchmark name as prefix (MultiRC with the features question, answer, paragraph and its
``<br>``/``<b>`` markup removed; WiC with sentence1, sentence2, word; AX-b/AX-g cast as RTE),
``preprocessors.record`` for ReCoRD (one training pair per answer) and the "WSC simple" format
for WSC (``wsc: ... *pronoun* ...`` -> the candidate referent; trained on the examples whose
candidate IS the referent; scored by T5's ``wsc_simple`` referent match).

Extra local splits: ``train32`` (BoolQ, COPA, WiC, MultiRC, ReCoRD) and ``dev32`` (ReCoRD) read
the 32-example FewGLUE excerpts found in ../shared/data; they are NOT the official splits.
Alternative AX files: the GLUE diagnostic ``diagnostic-full.tsv`` (three-way labels collapsed
to entailment / not_entailment) for AX-b, and a zip holding ``WinoGender.jsonl`` (named
``winogender_filtered.jsonl``) for AX-g.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np

import sam_bench.tasks.metrics as metrics
from sam_bench.data.spec import TfdsSpec
from sam_bench.tasks.base import EncoderSpec, Task
from sam_bench.tasks.classification import field, make_classification_task
from sam_bench.tasks.common import UNK, gold_class_ids, qa_scores
from sam_bench.tasks.formats import (
    DataFormatError,
    check_label,
    read_jsonl,
    read_tsv_rows,
    require_field,
)

BOOL_LABELS = ("False", "True")
NLI2 = ("entailment", "not_entailment")
CB_LABELS = ("entailment", "contradiction", "neutral")
COPA_LABELS = ("choice1", "choice2")


# ------------------------------------------------------------------ readers
def _bool_label(obj, path, line, field_name="label"):
    """A JSON boolean (or 0/1) label as "False"/"True"; None when the field is absent."""
    if field_name not in obj:
        return None
    v = obj[field_name]
    if isinstance(v, bool) or v in (0, 1):
        return "True" if bool(v) else "False"
    raise DataFormatError(path, line, f"label {v!r} is not one of [False, True]", field_name)


def _named_label(names):
    """A label reader for labels given by class name; it returns None when the field is absent."""
    def label(obj, path, line):
        if "label" not in obj:
            return None
        return check_label(obj["label"], names, path, line)
    return label


def _idx(obj, path, line):
    return require_field(obj, "idx", int, path, line)


def _read_text_pair_jsonl(path: Path, text_fields: tuple[str, str], read_label) -> list[dict]:
    """JSONL records of two text fields, idx and label: the shape of BoolQ, CB, RTE and AX-b.

    Fields are validated in record order (texts, idx, label), so the first bad field is the one
    reported.
    """
    first, second = text_fields

    def validate(obj, path, line):
        return {
            first: require_field(obj, first, str, path, line),
            second: require_field(obj, second, str, path, line),
            "idx": _idx(obj, path, line),
            "label": read_label(obj, path, line),
        }
    return read_jsonl(path, validate)


def read_boolq(path: Path) -> list[dict]:
    return _read_text_pair_jsonl(path, ("question", "passage"), _bool_label)


def read_cb(path: Path) -> list[dict]:
    return _read_text_pair_jsonl(path, ("premise", "hypothesis"), _named_label(CB_LABELS))


def read_rte(path: Path) -> list[dict]:
    return _read_text_pair_jsonl(path, ("premise", "hypothesis"), _named_label(NLI2))


def read_copa(path: Path) -> list[dict]:
    def validate(obj, path, line):
        question = require_field(obj, "question", str, path, line)
        if question not in ("cause", "effect"):
            raise DataFormatError(path, line, f"question {question!r} is not one of ['cause', 'effect']", "question")
        label = None
        if "label" in obj:
            v = obj["label"]
            if isinstance(v, bool) or v not in (0, 1):
                raise DataFormatError(path, line, f"label {v!r} is not one of [0, 1]", "label")
            label = COPA_LABELS[v]
        return {
            "premise": require_field(obj, "premise", str, path, line),
            "choice1": require_field(obj, "choice1", str, path, line),
            "choice2": require_field(obj, "choice2", str, path, line),
            "question": question,
            "idx": _idx(obj, path, line),
            "label": label,
        }
    return read_jsonl(path, validate)


def read_wic(path: Path) -> list[dict]:
    def validate(obj, path, line):
        rec = {
            "word": require_field(obj, "word", str, path, line),
            "sentence1": require_field(obj, "sentence1", str, path, line),
            "sentence2": require_field(obj, "sentence2", str, path, line),
        }
        for k in ("start1", "start2", "end1", "end2"):
            rec[k] = require_field(obj, k, int, path, line)
        rec["idx"] = _idx(obj, path, line)
        rec["label"] = _bool_label(obj, path, line)
        return rec
    return read_jsonl(path, validate)


def read_multirc(path: Path) -> list[dict]:
    """One record per answer option, in file order (as tfds flattens MultiRC)."""
    def validate(obj, path, line):
        p_idx = _idx(obj, path, line)
        passage = require_field(obj, "passage", dict, path, line)
        text = require_field(passage, "text", str, path, line)
        out = []
        for qi, q in enumerate(require_field(passage, "questions", list, path, line)):
            where = f"passage.questions[{qi}]"
            if not isinstance(q, dict):
                raise DataFormatError(path, line, f"{where} is not an object", "questions")
            question = require_field(q, "question", str, path, line, location=where)
            q_idx = require_field(q, "idx", int, path, line, location=where)
            for ai, a in enumerate(require_field(q, "answers", list, path, line, location=where)):
                awhere = f"{where}.answers[{ai}]"
                if not isinstance(a, dict):
                    raise DataFormatError(path, line, f"{awhere} is not an object", "answers")
                label = _bool_label(a, path, line) if "label" in a else None
                out.append({
                    "paragraph": text,
                    "question": question,
                    "answer": require_field(a, "text", str, path, line, location=awhere),
                    "idx": {"paragraph": p_idx, "question": q_idx,
                            "answer": require_field(a, "idx", int, path, line, location=awhere)},
                    "label": label,
                })
        return out
    return read_jsonl(path, validate)


def read_record(path: Path) -> list[dict]:
    """One record per query; entities and answers are the sorted sets of their texts (as tfds)."""
    def validate(obj, path, line):
        p_idx = _idx(obj, path, line)
        passage = require_field(obj, "passage", dict, path, line)
        text = require_field(passage, "text", str, path, line)
        entities = set()
        for e in require_field(passage, "entities", list, path, line):
            if not (isinstance(e, dict) and isinstance(e.get("start"), int) and isinstance(e.get("end"), int)):
                raise DataFormatError(path, line, f"entity {e!r} needs integer start and end", "entities")
            entities.add(text[e["start"]: e["end"] + 1])
        out = []
        for qi, qa in enumerate(require_field(obj, "qas", list, path, line)):
            where = f"qas[{qi}]"
            query = require_field(qa, "query", str, path, line, location=where)
            answers = set()
            for a in qa.get("answers", []):
                if not (isinstance(a, dict) and isinstance(a.get("text"), str)):
                    raise DataFormatError(path, line, f"answer {a!r} needs a text", "answers", location=where)
                answers.add(a["text"])
            out.append({
                "passage": text,
                "query": query,
                "entities": sorted(entities),
                "answers": sorted(answers),
                "idx": {"passage": p_idx, "query": require_field(qa, "idx", int, path, line, location=where)},
            })
        return out
    return read_jsonl(path, validate)


def fix_wsc_spans(ex: dict, path=None, line=None) -> dict:
    """tfds ``wsc.fixed``: repair span texts that are not substrings of the text.

    Mirrors tensorflow-datasets' ``_fix_wst`` exactly, including its quirk for "theyscold"
    (the text is left as is and span2_index is set to 10).
    """
    ex = dict(ex)

    def fix(k):
        text, index = ex[k + "_text"], ex[k + "_index"]
        if text in ex["text"]:
            return
        if text in ("Kamenev and Zinoviev", "Kamenev, Zinoviev, and Stalin"):
            return
        if "theyscold" in text:
            ex["span2_index"] = 10
        words = ex["text"].split()
        if not 0 <= index < len(words):
            raise DataFormatError(path, line, f"{k}_index {index} is outside the text's {len(words)} words",
                                  f"{k}_index")
        first_word = words[index]
        text = (text[0].lower() if first_word[0].islower() else text[0].upper()) + text[1:]
        text = text.rstrip(".").replace("\n", " ")
        if text not in ex["text"]:
            raise DataFormatError(path, line, f"{k}_text {ex[k + '_text']!r} is not in the text, even after "
                                  "the tfds wsc.fixed repairs", f"{k}_text")
        ex[k + "_text"] = text

    fix("span1")
    fix("span2")
    return ex


def read_wsc(path: Path) -> list[dict]:
    def validate(obj, path, line):
        target = require_field(obj, "target", dict, path, line)
        rec = {"text": require_field(obj, "text", str, path, line)}
        rec["span1_index"] = require_field(target, "span1_index", int, path, line)
        rec["span2_index"] = require_field(target, "span2_index", int, path, line)
        rec["span1_text"] = require_field(target, "span1_text", str, path, line)
        rec["span2_text"] = require_field(target, "span2_text", str, path, line)
        rec = fix_wsc_spans(rec, path, line)
        rec["idx"] = _idx(obj, path, line)
        rec["label"] = _bool_label(obj, path, line)
        return rec
    return read_jsonl(path, validate)


def read_axb(path: Path) -> list[dict]:
    if path.suffix == ".tsv":  # GLUE's diagnostic-full.tsv: Premise, Hypothesis, Label (3-way)
        _, rows = read_tsv_rows(path, header=True, required=("Premise", "Hypothesis", "Label"))
        out = []
        for line, row in rows:
            label = row["Label"]
            if label not in ("entailment", "contradiction", "neutral"):
                raise DataFormatError(path, line, f"label {label!r} is not one of "
                                      "['entailment', 'contradiction', 'neutral']", "Label")
            for col in ("Premise", "Hypothesis"):
                if not row[col]:
                    raise DataFormatError(path, line, "empty sentence", col)
            out.append({"sentence1": row["Premise"], "sentence2": row["Hypothesis"], "idx": len(out),
                        "label": "entailment" if label == "entailment" else "not_entailment"})
        return out

    return _read_text_pair_jsonl(path, ("sentence1", "sentence2"), _named_label(NLI2))


def read_axg(path: Path) -> list[dict]:
    return read_rte(path)


# ------------------------------------------------------------------- tfds
def _tfds_label(value, names):
    """A tfds generator label (class name, bool-cast "True"/"False", int index, or -1) -> name/None."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return None if int(value) == -1 else names[int(value)]
    if value in names:
        return value
    raise ValueError(f"label {value!r} is not one of {list(names)}")


def _tfds_simple(features, names):
    def convert(key, ex):
        rec = {f: ex[f] for f in features}
        rec["idx"] = int(ex["idx"])
        rec["label"] = _tfds_label(ex["label"], names)
        return rec
    return convert


def _tfds_multirc(key, ex):
    return {"paragraph": ex["paragraph"], "question": ex["question"], "answer": ex["answer"],
            "idx": {k: int(v) for k, v in ex["idx"].items()}, "label": _tfds_label(ex["label"], BOOL_LABELS)}


def _tfds_record(key, ex):
    return {"passage": ex["passage"], "query": ex["query"], "entities": list(ex["entities"]),
            "answers": list(ex["answers"]), "idx": {k: int(v) for k, v in ex["idx"].items()}}


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
    tfds=_spec(_tfds_simple(("question", "passage"), BOOL_LABELS)),
)

CB = make_classification_task(
    name="cb", benchmark="superglue", prefix="cb",
    feature_names=("hypothesis", "premise"), label_names=CB_LABELS, recipe="cb",
    split_files=_files("CB"), layout=_layout("CB", "premise, hypothesis, label, idx"), reader=read_cb,
    encoder_texts=(field("premise"), field("hypothesis")),
    tfds=_spec(_tfds_simple(("premise", "hypothesis"), CB_LABELS)),
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
    tfds=_spec(_tfds_simple(("premise", "choice1", "choice2", "question"), COPA_LABELS)),
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
    tfds=_spec(_tfds_multirc),
)

RTE = make_classification_task(
    name="rte", benchmark="superglue", prefix="rte",
    feature_names=("hypothesis", "premise"), label_names=NLI2,
    split_files=_files("RTE"), layout=_layout("RTE", "premise, hypothesis, label, idx"), reader=read_rte,
    encoder_texts=(field("premise"), field("hypothesis")),
    tfds=_spec(_tfds_simple(("premise", "hypothesis"), NLI2)),
)

WIC = make_classification_task(
    name="wic", benchmark="superglue", prefix="wic",
    feature_names=("sentence1", "sentence2", "word"), label_names=BOOL_LABELS,
    split_files=_files("WiC", (("train32", "super_glue/WiC/train32.jsonl"),)),
    layout=_layout("WiC", "word, sentence1, sentence2, start1, start2, end1, end2, idx, label (bool)"),
    reader=read_wic,
    encoder_texts=(lambda ex: f"{ex['word']}: {ex['sentence1']}", field("sentence2")),
    tfds=_spec(_tfds_simple(("word", "sentence1", "sentence2", "start1", "start2", "end1", "end2"),
                                   BOOL_LABELS)),
)

AXB = make_classification_task(
    name="axb", benchmark="superglue", prefix="rte",
    feature_names=("hypothesis", "premise"), label_names=NLI2, recipe="axb",
    split_files=(("test", "super_glue/AX-b/AX-b.jsonl"),),
    alternatives=(("test", ("super_glue/AX-b/diagnostic-full.tsv",)),),
    layout="super_glue/AX-b/AX-b.jsonl (SuperGLUE AX-b.zip): sentence1, sentence2, label, idx",
    reader=read_axb, encoder_texts=(field("sentence1"), field("sentence2")),
    tfds=_spec(_tfds_simple(("sentence1", "sentence2"), NLI2), splits=(("test", "test"),)),
    trains=False, eval_split="test", paper_split="test", unlabeled_splits=(),
)
# T5 rekeys AX-b (sentence1 -> premise, sentence2 -> hypothesis) and formats it as RTE.
AXB = dataclasses.replace(AXB, preprocessor=lambda ex: {
    "inputs": f"rte hypothesis: {ex['sentence2']} premise: {ex['sentence1']}",
    "targets": UNK if ex.get("label") is None else ex["label"]})

AXG = make_classification_task(
    name="axg", benchmark="superglue", prefix="rte",
    feature_names=("hypothesis", "premise"), label_names=NLI2, recipe="axg",
    split_files=(("test", "super_glue/AX-g/AX-g.jsonl"),),
    alternatives=(("test", ("super_glue/AX-g/winogender_filtered.jsonl",)),),
    layout="super_glue/AX-g/AX-g.jsonl (SuperGLUE AX-g.zip): premise, hypothesis, label, idx, pair_id",
    reader=read_axg, encoder_texts=(field("premise"), field("hypothesis")),
    tfds=_spec(_tfds_simple(("premise", "hypothesis"), NLI2), splits=(("test", "test"),)),
    trains=False, eval_split="test", paper_split="test", unlabeled_splits=(),
)


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
    split_files=_files("ReCoRD", (("train32", "super_glue/ReCoRD/train32.jsonl"),
                                  ("dev32", "super_glue/ReCoRD/dev32.jsonl"))),
    layout=_layout("ReCoRD", "source, idx, passage {text, entities [{start, end}]}, qas [{query, answers, idx}]"),
    reader=read_record, preprocessor=_record_preprocess,
    postprocessor=lambda text, example=None: text, metric_fn=_record_metrics,
    expand_training=_record_training,
    encoder=EncoderSpec("multiple_choice", (), _record_encoder, lambda out, ex: ex["entities"][int(out)]),
    tfds=_spec(_tfds_record),
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
    split_files=_files("WSC"),
    layout=_layout("WSC", "text, target {span1_index, span2_index, span1_text, span2_text}, idx, label (bool)"),
    reader=read_wsc, preprocessor=_wsc_preprocess, postprocessor=_wsc_postprocess, metric_fn=_wsc_metrics,
    label_names=BOOL_LABELS, expand_training=_wsc_training, oracle=_wsc_oracle,
    encoder=EncoderSpec("classification", BOOL_LABELS, _wsc_encoder, lambda out, ex: int(out)),
    tfds=_spec(_tfds_simple(("text", "span1_index", "span2_index", "span1_text", "span2_text"),
                                         BOOL_LABELS)),
)

TASKS = (BOOLQ, CB, COPA, MULTIRC, RECORD, RTE, WIC, WSC, AXB, AXG)
