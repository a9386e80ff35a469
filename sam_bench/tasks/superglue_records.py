"""SuperGLUE records: the release files read, and tensorflow-datasets examples converted, into records.

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

Extra local splits: ``train32`` (BoolQ, COPA, WiC, MultiRC, ReCoRD) and ``dev32`` (ReCoRD) read
the 32-example FewGLUE excerpts found in ../shared/data; they are NOT the official splits.
Alternative AX files: the GLUE diagnostic ``diagnostic-full.tsv`` (three-way labels collapsed
to entailment / not_entailment) for AX-b, and a zip holding ``WinoGender.jsonl`` (named
``winogender_filtered.jsonl``) for AX-g.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

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


def _passage(obj, path, line):
    """(idx, the passage object, its text) of a MultiRC or ReCoRD line, validated in that order."""
    p_idx = _idx(obj, path, line)
    passage = require_field(obj, "passage", dict, path, line)
    return p_idx, passage, require_field(passage, "text", str, path, line)


def read_multirc(path: Path) -> list[dict]:
    """One record per answer option, in file order (as tfds flattens MultiRC)."""
    def validate(obj, path, line):
        p_idx, passage, text = _passage(obj, path, line)
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
        p_idx, passage, text = _passage(obj, path, line)
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


def tfds_simple(features, names):
    def convert(key, ex):
        rec = {f: ex[f] for f in features}
        rec["idx"] = int(ex["idx"])
        rec["label"] = _tfds_label(ex["label"], names)
        return rec
    return convert


def tfds_multirc(key, ex):
    return {"paragraph": ex["paragraph"], "question": ex["question"], "answer": ex["answer"],
            "idx": {k: int(v) for k, v in ex["idx"].items()}, "label": _tfds_label(ex["label"], BOOL_LABELS)}


def tfds_record(key, ex):
    return {"passage": ex["passage"], "query": ex["query"], "entities": list(ex["entities"]),
            "answers": list(ex["answers"]), "idx": {k: int(v) for k, v in ex["idx"].items()}}
