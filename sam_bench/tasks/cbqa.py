"""Closed-book QA besides NQ-open: WebQuestions and TriviaQA (natural_questions.py has NQ-open).

WebQuestions. Official release (Berant et al. 2013; what tensorflow-datasets'
``web_questions`` 1.0.0 downloads): ``web_questions/webquestions.examples.{train,test}.json``,
a JSON list of {"url", "targetValue": "(list (description X) ...)", "utterance"}: 3,778 train
and 2,032 test questions. The answers are the ``description`` values of ``targetValue``,
quoted or not, in order (the tfds parsing). Also accepted: the re-packaged release in
../shared/data (``trainmodel.json`` + ``val.json`` + ``devtest.json`` = the official train set,
re-assembled in official order by the number in ``qId``; ``test.json``), lists of
{"qId", "qText", "answers"}. Records: {"question", "answers"}. The papers report WebQuestions
on its test set: ``eval_split`` is "test".

TriviaQA (unfiltered, no context, as T5's closed-book QA uses it: tfds
``trivia_qa/unfiltered.nocontext`` 1.1.0). Files from ``triviaqa-unfiltered.tar.gz``:
``trivia_qa/triviaqa-unfiltered/unfiltered-web-{train,dev}.json`` and
``unfiltered-web-test-without-answers.json``, one JSON document {"Data": [...]}. Records:
{"question", "question_id", "answer" (the answer's Value, None without answers), "aliases"},
strings stripped as tfds does. The papers' TriviaQA "test" is this validation (dev) split.

T5 closed-book conventions (google-research t5_closed_book_qa): ``"wq question: ..."`` ->
the first answer; ``"trivia_qa question: ..."`` -> the answer's value, scored against its
aliases. Metrics: SQuAD EM/F1 (WebQuestions) and the TriviaQA-normalised EM/F1 (TriviaQA),
the max over the gold answers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from sam_bench.data.spec import SourceSpec, TfdsSpec
from sam_bench.tasks.base import Task
from sam_bench.tasks.common import qa_scores
from sam_bench.tasks.formats import DataFormatError, read_json, require_field, require_str_list

# ------------------------------------------------------------------- WebQuestions
_DESCRIPTION = re.compile(r'\(description (?:"([^"]+?)"|([^)]+?))\)\w*')


def web_questions_answers(target_value: str) -> list[str]:
    """The answers of an official ``targetValue`` string, e.g. '(list (description "A B") (description C))'."""
    body = re.sub(r"^\(list |\)$", "", target_value)
    return [quoted + bare for quoted, bare in _DESCRIPTION.findall(body)]


def _json_list_of_objects(path: Path) -> Iterator[tuple[str, dict]]:
    """(location, object) for each entry of a JSON list of questions, the layout of both WebQuestions
    releases; the location ("[i]") is what their field errors name."""
    data = read_json(path)
    if not isinstance(data, list):
        raise DataFormatError(path, None, f"expected a JSON list of questions, got {type(data).__name__}")
    for i, obj in enumerate(data):
        where = f"[{i}]"
        if not isinstance(obj, dict):
            raise DataFormatError(path, None, "expected a JSON object", location=where)
        yield where, obj


def _wq_official(path: Path) -> list[dict]:
    out = []
    for where, obj in _json_list_of_objects(path):
        question = require_field(obj, "utterance", str, path, None, location=where)
        target = require_field(obj, "targetValue", str, path, None, location=where)
        answers = web_questions_answers(target)
        if not answers:
            raise DataFormatError(path, None, f"no (description ...) answer in {target!r}", "targetValue",
                                  location=where)
        out.append({"question": question, "answers": answers})
    return out


def _wq_repackaged_file(path: Path) -> list[tuple[int, dict]]:
    out = []
    for where, obj in _json_list_of_objects(path):
        qid = require_field(obj, "qId", str, path, None, location=where)
        m = re.fullmatch(r"wq[rs](\d+)", qid)
        if not m:
            raise DataFormatError(path, None, f"qId {qid!r} is not wqr<number>/wqs<number>", "qId", location=where)
        out.append((int(m.group(1)), {
            "question": require_field(obj, "qText", str, path, None, location=where),
            "answers": require_str_list(obj, "answers", path, None, location=where),
        }))
    return out


def read_web_questions(path: Path) -> list[dict]:
    path = Path(path)
    if path.name.startswith("webquestions.examples."):
        return _wq_official(path)
    if path.name == "trainmodel.json":  # the re-packaged train set is split over three files
        rows = []
        for name in ("trainmodel.json", "val.json", "devtest.json"):
            part = path.parent / name
            if not part.is_file():
                raise FileNotFoundError(f"the re-packaged WebQuestions train set needs {part} "
                                        "(trainmodel.json + val.json + devtest.json)")
            rows.extend(_wq_repackaged_file(part))
        rows.sort(key=lambda r: r[0])
        numbers = [n for n, _ in rows]
        if numbers != list(range(len(rows))):
            raise DataFormatError(path, None, "the qIds of trainmodel.json + val.json + devtest.json are not "
                                  f"wqr000000..wqr{len(rows) - 1:06d} exactly once")
        return [r for _, r in rows]
    return [r for _, r in sorted(_wq_repackaged_file(path), key=lambda r: r[0])]


WEB_QUESTIONS = Task(
    name="web_questions",
    benchmark="cbqa",
    metric_names=("em", "f1"),
    preprocessor=lambda ex: {"inputs": f"wq question: {ex['question']}", "targets": ex["answers"][0]},
    postprocessor=lambda text, example=None: text,
    metric_fn=lambda examples, values: qa_scores("web_questions", examples, values, lambda ex: ex["answers"]),
    eval_split="test",
    paper_split="test",
    unlabeled_splits=(),
    source=SourceSpec(
        split_files=(("train", "web_questions/webquestions.examples.train.json"),
                     ("test", "web_questions/webquestions.examples.test.json")),
        alternatives=(("train", ("web_questions/trainmodel.json",)), ("test", ("web_questions/test.json",))),
        companions=(("web_questions/trainmodel.json", ("web_questions/val.json",)),
                    ("web_questions/trainmodel.json", ("web_questions/devtest.json",))),
        layout="web_questions/webquestions.examples.{train,test}.json (official: JSON list of url, targetValue, "
                "utterance), or the re-packaged web_questions/{trainmodel,val,devtest,test}.json (qId, qText, answers)",
        reader=read_web_questions,
        tfds=TfdsSpec((("train", "train"), ("test", "test")),
                      lambda key, ex: {"question": ex["question"], "answers": list(ex["answers"])}),
    ),
)


# ---------------------------------------------------------------------- TriviaQA
def read_trivia_qa(path: Path) -> list[dict]:
    data = read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("Data"), list):
        raise DataFormatError(path, None, 'expected a JSON object with a "Data" list')
    out = []
    for i, art in enumerate(data["Data"]):
        where = f"Data[{i}]"
        if not isinstance(art, dict):
            raise DataFormatError(path, None, "expected a JSON object", location=where)
        rec = {
            "question": require_field(art, "Question", str, path, None, location=where).strip(),
            "question_id": require_field(art, "QuestionId", str, path, None, location=where),
            "answer": None,
            "aliases": [],
        }
        if "Answer" in art:
            answer = require_field(art, "Answer", dict, path, None, location=where)
            rec["answer"] = require_field(answer, "Value", str, path, None, location=where + ".Answer").strip()
            rec["aliases"] = [a.strip() for a in require_str_list(answer, "Aliases", path, None,
                                                                 location=where + ".Answer")]
        out.append(rec)
    return out


def _tfds_trivia(key, ex):
    ans = ex["answer"]
    has_answer = bool(ans["aliases"]) or ans["value"] != "<unk>"
    return {"question": ex["question"], "question_id": ex["question_id"],
            "answer": ans["value"] if has_answer else None, "aliases": list(ans["aliases"])}


TRIVIA_QA = Task(
    name="trivia_qa",
    benchmark="cbqa",
    metric_names=("em", "f1"),
    preprocessor=lambda ex: {"inputs": f"trivia_qa question: {ex['question']}",
                             "targets": "<unk>" if ex["answer"] is None else ex["answer"]},
    postprocessor=lambda text, example=None: text,
    metric_fn=lambda examples, values: qa_scores("trivia_qa", examples, values, lambda ex: ex["aliases"],
                                                 normalizer="trivia_qa"),
    paper_split="test",
    source=SourceSpec(
        split_files=(("train", "trivia_qa/triviaqa-unfiltered/unfiltered-web-train.json"),
                     ("validation", "trivia_qa/triviaqa-unfiltered/unfiltered-web-dev.json"),
                     ("test", "trivia_qa/triviaqa-unfiltered/unfiltered-web-test-without-answers.json")),
        layout="trivia_qa/triviaqa-unfiltered/unfiltered-web-{train,dev}.json (triviaqa-unfiltered.tar.gz): "
                '{"Data": [{"Question", "QuestionId", "Answer": {"Value", "Aliases", ...}, ...}]}',
        reader=read_trivia_qa,
        tfds=TfdsSpec((("train", "train"), ("validation", "validation"), ("test", "test")), _tfds_trivia),
    ),
)

TASKS = (WEB_QUESTIONS, TRIVIA_QA)
