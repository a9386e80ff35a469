"""TyDiQA-GoldP, one task per language (tydiqa_en, tydiqa_ar, ..., tydiqa_te).

Files (Google's TyDiQA v1.1 GoldP release, what tensorflow-datasets' ``tydi_qa/goldp`` 3.0.0
downloads), SQuAD-1.1-style JSON {"data": [{"title", "paragraphs": [{"context", "qas":
[{"id", "question", "answers": [{"text", "answer_start"}]}]}]}]}:

* train: ``tydiqa_goldp/tydiqa-goldp-v1.1-train.json`` (all languages; a question's language is
  the prefix of its id, "english-..."), or a per-language file
  ``tydiqa_goldp/<language>_tydiqa_train.json`` (the layout of ../shared/data);
* validation: ``tydiqa_goldp/tydiqa-goldp-v1.1-dev/tydiqa-goldp-dev-<language>.json`` (from
  ``tydiqa-goldp-v1.1-dev.tgz``; tfds's ``validation-<iso>`` splits), or
  ``tydiqa_goldp/<language>_tydiqa_dev.json``, or the all-language
  ``tydiqa_goldp/tydiqa-goldp-v1.1-dev.json`` filtered by language.

Records, as tfds's SQuAD-like generator yields them (questions with a repeated id are merged,
their answers concatenated): {"id", "title", "context", "question", "answers": [text, ...],
"answer_starts": [int, ...]}.

Text-to-text form: mT5's TyDiQA tasks (``preprocessors.xquad``): ``inputs = "question: {q}
context: {c}"`` and ``targets`` = the first answer, with punctuation padded by spaces in
question, context and answers; scored by SQuAD EM/F1 against the padded answers. The
``tydiqa`` mixture (all 9 languages) trains on the whole GoldP train set; the papers report
each language and their mean (``benchmarks.tydiqa_average``).
"""

from __future__ import annotations

from pathlib import Path

from sam_bench.data.spec import SourceSpec, TfdsSpec
from sam_bench.tasks.base import Task
from sam_bench.tasks.common import pad_punctuation, qa_scores, string_join
from sam_bench.tasks.formats import DataFormatError, read_json, require_field

#: ISO code -> the language name used in TyDiQA ids and file names (Bahri Table 8 order)
LANGUAGES = {
    "en": "english", "ar": "arabic", "bn": "bengali", "fi": "finnish", "id": "indonesian",
    "ko": "korean", "ru": "russian", "sw": "swahili", "te": "telugu",
}


def read_squad_like(path: Path, language: str | None = None) -> list[dict]:
    """Questions of a SQuAD-1.1-style file in file order (ids merged as tfds does), optionally
    only those whose id starts with ``<language>-``."""
    data = read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise DataFormatError(path, None, 'expected a SQuAD-style JSON object with a "data" list')
    qas: dict[str, dict] = {}
    for ai, article in enumerate(data["data"]):
        title = article.get("title", "") if isinstance(article, dict) else None
        if not isinstance(title, str):
            raise DataFormatError(path, None, "expected an article object with a string title", "title",
                                  location=f"data[{ai}]")
        for pi, para in enumerate(require_field(article, "paragraphs", list, path, None, location=f"data[{ai}]")):
            where = f"data[{ai}].paragraphs[{pi}]"
            context = require_field(para, "context", str, path, None, location=where)
            for qi, qa in enumerate(require_field(para, "qas", list, path, None, location=where)):
                qwhere = f"{where}.qas[{qi}]"
                qid = require_field(qa, "id", str, path, None, location=qwhere)
                question = require_field(qa, "question", str, path, None, location=qwhere)
                texts, starts = [], []
                for ni, ans in enumerate(require_field(qa, "answers", list, path, None, location=qwhere)):
                    awhere = f"{qwhere}.answers[{ni}]"
                    texts.append(require_field(ans, "text", str, path, None, location=awhere))
                    starts.append(require_field(ans, "answer_start", int, path, None, location=awhere))
                if qid in qas:
                    qas[qid]["answers"].extend(texts)
                    qas[qid]["answer_starts"].extend(starts)
                else:
                    qas[qid] = {"id": qid, "title": title, "context": context, "question": question,
                                "answers": texts, "answer_starts": starts}
    out = []
    for qid, rec in qas.items():
        if language is not None and qid.split("-")[0] != language:
            continue
        if not rec["answers"]:
            raise DataFormatError(path, None, f"question {qid!r} has no answer", "answers")
        out.append(rec)
    return out


def preprocess(example: dict) -> dict:
    q, c = pad_punctuation(example["question"]), pad_punctuation(example["context"])
    return {"inputs": string_join(["question:", q, "context:", c]),
            "targets": pad_punctuation(example["answers"][0])}


def _make(iso: str) -> Task:
    language = LANGUAGES[iso]

    def read(path: Path) -> list[dict]:
        return read_squad_like(path, language)

    def convert(key, ex):
        if ex["id"].split("-")[0] != language:
            return None
        return {"id": ex["id"], "title": ex["title"], "context": ex["context"], "question": ex["question"],
                "answers": list(ex["answers"]["text"]), "answer_starts": [int(s) for s in ex["answers"]["answer_start"]]}

    name = f"tydiqa_{iso}"
    return Task(
        name=name,
        benchmark="tydiqa",
        metric_names=("f1", "em"),
        preprocessor=preprocess,
        postprocessor=lambda text, example=None: text,
        metric_fn=lambda examples, values: qa_scores(
            name, examples, values, lambda ex: [pad_punctuation(a) for a in ex["answers"]]),
        unlabeled_splits=(),
        language=iso,
        source=SourceSpec(
            split_files=(("train", "tydiqa_goldp/tydiqa-goldp-v1.1-train.json"),
                         ("validation", f"tydiqa_goldp/tydiqa-goldp-v1.1-dev/tydiqa-goldp-dev-{language}.json")),
            alternatives=(("train", (f"tydiqa_goldp/{language}_tydiqa_train.json",)),
                          ("validation", (f"tydiqa_goldp/{language}_tydiqa_dev.json",
                                          "tydiqa_goldp/tydiqa-goldp-v1.1-dev.json"))),
            layout=(f"tydiqa_goldp/tydiqa-goldp-v1.1-train.json and tydiqa_goldp/tydiqa-goldp-v1.1-dev/"
                    f"tydiqa-goldp-dev-{language}.json (TyDiQA v1.1 GoldP), or tydiqa_goldp/{language}_tydiqa_"
                    "{train,dev}.json; SQuAD-1.1-style JSON"),
            reader=read,
            tfds=TfdsSpec((("train", "train"), ("validation", f"validation-{iso}")), convert),
        ),
    )


TASKS = tuple(_make(iso) for iso in LANGUAGES)
