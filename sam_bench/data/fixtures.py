"""Small generated datasets in the official release formats, for every dataset of the registry.

``write_official_files(root, seed)`` writes a data root laid out like the official releases
(the layout ``LocalSource`` reads; see each task's ``layout``), with a few dozen generated
examples per split and the awkward cases of the real files: CoLA's header-less tsv, a QQP row
with a missing column (skipped), MRPC's byte-order mark and dev-id list, MultiRC's HTML
markup, ReCoRD's ``@highlight`` lines and repeated entities, a WSC span that only
tfds's ``wsc.fixed`` repairs, WebQuestions' quoted and unquoted answers, a TyDiQA id that
occurs twice (its answers are merged), XSUM's share-button lines and a missing article.

``write_release_archives(root, archives)`` packs those files into the release files tfds
downloads, named as tfds registers them (``super_glue/CB.zip`` holding ``CB/train.jsonl`` ...,
``tydiqa-goldp-v1.1-dev.tgz``, ``webquestions.train``), so that ``TfdsSource(archives=...)``
reads the same data through the tfds builders. The tests use the pair to prove that the
local and tfds sources give the same records in the same order; the synthetic suite uses
``write_official_files`` for the tasks its world does not generate.

The text is made of words from ``words`` (by default a small English list), so it means
nothing; it exercises formats, not models.
"""

from __future__ import annotations

import json
import tarfile
import zipfile
from pathlib import Path

import numpy as np

from sam_bench.io import atomic_write

__all__ = ["write_official_files", "write_release_archives", "DEFAULT_WORDS", "DATASETS"]

DEFAULT_WORDS = tuple(
    "the a river city bank green old man woman child house dog cat ship train road king queen paper light "
    "music garden stone water fire north south river mountain school market window letter doctor teacher "
    "farmer painter winter summer morning evening story table chair bridge tower forest island village".split()
)

#: every dataset written (manifest names)
DATASETS = (
    "super_glue_boolq", "super_glue_cb", "super_glue_copa", "super_glue_multirc", "super_glue_record",
    "super_glue_rte", "super_glue_wic", "super_glue_wsc", "super_glue_axb", "super_glue_axg",
    "glue_cola", "glue_sst2", "glue_mrpc", "glue_qqp", "glue_stsb", "glue_mnli", "glue_qnli", "glue_rte",
    "glue_wnli", "sst2_sentences", "natural_questions_open", "web_questions", "trivia_qa_unfiltered_nocontext",
    "tydi_qa_goldp", "xsum",
)
TYDI = {"en": "english", "ar": "arabic", "bn": "bengali", "fi": "finnish", "id": "indonesian", "ko": "korean",
        "ru": "russian", "sw": "swahili", "te": "telugu"}


def _jsonl(rows) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


class _Text:
    def __init__(self, rng: np.random.Generator, words, edge_cases: bool = True):
        self.rng = rng
        self.words = list(words)
        self.edge_cases = edge_cases

    def words_(self, k: int) -> list[str]:
        return [self.words[i] for i in self.rng.integers(len(self.words), size=k)]

    def sentence(self, lo: int = 4, hi: int = 10, end: str = ".") -> str:
        w = self.words_(int(self.rng.integers(lo, hi + 1)))
        return " ".join(w).capitalize() + end

    def phrase(self, lo: int = 1, hi: int = 3) -> str:
        return " ".join(self.words_(int(self.rng.integers(lo, hi + 1))))

    def pick(self, seq):
        return seq[int(self.rng.integers(len(seq)))]


def _sizes(n_train: int, n_eval: int, n_test: int) -> dict:
    return {"train": n_train, "validation": n_eval, "test": n_test}


# ----------------------------------------------------------------- SuperGLUE
def _superglue(root: Path, t: _Text, sizes: dict, skip) -> None:
    sg = root / "super_glue"
    files = {"train": "train.jsonl", "validation": "val.jsonl", "test": "test.jsonl"}

    def emit(folder, make):
        for split, fname in files.items():
            rows = [make(i, split) for i in range(sizes[split])]
            for r in rows:
                if split == "test":
                    r.pop("label", None)
            atomic_write(sg / folder / fname, _jsonl(rows))

    if "super_glue_boolq" not in skip:
        emit("BoolQ", lambda i, s: {"question": t.phrase(3, 6), "passage": f"{t.phrase(1, 2).title()} -- "
                                    f"{t.sentence()} {t.sentence()}", "idx": i, "label": bool(t.rng.integers(2))})
    if "super_glue_cb" not in skip:
        emit("CB", lambda i, s: {"premise": t.sentence(6, 14), "hypothesis": t.sentence(3, 6, end=""),
                                 "label": t.pick(["entailment", "contradiction", "neutral"]), "idx": i})
    if "super_glue_copa" not in skip:
        emit("COPA", lambda i, s: {"premise": t.sentence(), "choice1": t.sentence(), "choice2": t.sentence(),
                                   "question": t.pick(["cause", "effect"]), "label": int(t.rng.integers(2)), "idx": i})
    if "super_glue_rte" not in skip:
        emit("RTE", lambda i, s: {"premise": t.sentence(6, 14), "hypothesis": t.sentence(),
                                  "label": t.pick(["entailment", "not_entailment"]), "idx": i})
    if "super_glue_wic" not in skip:
        def wic(i, s):
            word = t.pick(t.words)
            s1 = f"{t.phrase(1, 3)} {word} {t.phrase(1, 3)}."
            s2 = f"{t.phrase(2, 4)} {word} {t.phrase(1, 2)}."
            a, b = s1.index(f" {word} ") + 1, s2.index(f" {word} ") + 1
            return {"word": word, "sentence1": s1, "sentence2": s2, "idx": i, "label": bool(t.rng.integers(2)),
                    "start1": a, "start2": b, "end1": a + len(word), "end2": b + len(word), "version": 1.1}
        emit("WiC", wic)
    if "super_glue_multirc" not in skip:
        def multirc(i, s):
            text = "".join(f"<b>Sent {k + 1}: </b>{t.sentence()}<br>" for k in range(3))
            questions, a_idx = [], 0
            for q in range(2):
                answers = []
                for _ in range(int(t.rng.integers(2, 4))):
                    answers.append({"text": t.phrase(1, 4), "idx": a_idx, "label": int(t.rng.integers(2))})
                    a_idx += 1
                questions.append({"question": t.sentence(end="?"), "answers": answers, "idx": 10 * i + q})
            if s == "test":
                for q in questions:
                    for a in q["answers"]:
                        a.pop("label")
            return {"idx": i, "version": 1.1, "passage": {"text": text, "questions": questions}}
        emit("MultiRC", multirc)
    if "super_glue_record" not in skip:
        def record(i, s):
            names = [f"{t.phrase(1, 1).title()}{k}" for k in range(3)]
            text = (f"{names[0]} met {names[1]} near the {t.phrase(1, 1)}. Later {names[0]} left."
                    f"\n@highlight\n{names[2]} spoke\n@highlight\n{names[1]} agreed.")
            ents, answers = [], []
            for k, nm in enumerate(names):
                start = text.find(nm)
                while start != -1:  # every mention: repeated entity texts (tfds keeps each text once)
                    ents.append({"start": start, "end": start + len(nm) - 1})
                    if k == 0:
                        answers.append({"start": start, "end": start + len(nm) - 1, "text": nm})
                    start = text.find(nm, start + 1)
            qa = {"query": f"@placeholder was seen near {t.phrase(1, 2)}", "idx": 100 * i, "answers": answers}
            if s == "test":
                qa.pop("answers")
            return {"source": "Fixture", "passage": {"text": text, "entities": ents}, "qas": [qa], "idx": i}
        emit("ReCoRD", record)
    if "super_glue_wsc" not in skip:
        def wsc(i, s):
            a, b = t.phrase(1, 1).title(), t.phrase(1, 1).title()
            words = f"{a} told {b} that he was late for the {t.phrase(1, 1)} .".split(" ")
            span1 = a if i % 5 else a.lower() + "."  # repaired by wsc.fixed: case and trailing period
            return {"text": " ".join(words), "target": {"span2_index": 4, "span1_index": 0, "span1_text": span1,
                                                      "span2_text": "he"}, "idx": i, "label": bool(i % 2)}
        emit("WSC", wsc)
    if "super_glue_axb" not in skip:
        rows = [{"sentence1": t.sentence(), "sentence2": t.sentence(), "idx": i,
                 "label": t.pick(["entailment", "not_entailment"])} for i in range(sizes["validation"])]
        atomic_write(sg / "AX-b" / "AX-b.jsonl", _jsonl(rows))
    if "super_glue_axg" not in skip:
        rows = []
        for k in range(sizes["validation"] // 2):
            hyp, label = t.sentence(), t.pick(["entailment", "not_entailment"])
            for j, pron in enumerate(("his", "her")):
                rows.append({"hypothesis": hyp, "idx": 2 * k + j, "label": label, "pair_id": 1000 + 4 * k + 2 * j,
                             "premise": f"The {t.phrase(1, 1)} lost {pron} {t.phrase(1, 1)}."})
        atomic_write(sg / "AX-g" / "AX-g.jsonl", _jsonl(rows))


# ----------------------------------------------------------------------- GLUE
def _tsv(header, rows) -> str:
    lines = ["\t".join(header)] if header else []
    lines += ["\t".join(str(c) for c in r) for r in rows]
    return "\n".join(lines) + "\n"


def _glue(root: Path, t: _Text, sizes: dict, skip) -> None:
    g = root / "glue"
    files = {"train": "train.tsv", "validation": "dev.tsv", "test": "test.tsv"}
    if "glue_cola" not in skip:
        for split, f in files.items():
            if split == "test":
                atomic_write(g / "CoLA" / f, _tsv(["index", "sentence"], [(i, t.sentence()) for i in range(sizes[split])]))
            else:
                rows = [("gj04", l, "*" if l == 0 else "", t.sentence()) for l in
                        (int(t.rng.integers(2)) for _ in range(sizes[split]))]
                atomic_write(g / "CoLA" / f, _tsv(None, rows))
    if "glue_sst2" not in skip:
        for split, f in files.items():
            if split == "test":
                atomic_write(g / "SST-2" / f, _tsv(["index", "sentence"], [(i, t.phrase(3, 8)) for i in range(sizes[split])]))
            else:
                atomic_write(g / "SST-2" / f, _tsv(["sentence", "label"],
                                             [(t.phrase(3, 8) + " ", int(t.rng.integers(2))) for _ in range(sizes[split])]))
    if "glue_qqp" not in skip:
        for split, f in files.items():
            if split == "test":
                atomic_write(g / "QQP" / f, _tsv(["id", "question1", "question2"],
                                           [(i, t.sentence(end="?"), t.sentence(end="?")) for i in range(sizes[split])]))
            else:
                rows = [(i, 2 * i, 2 * i + 1, t.sentence(end="?"), t.sentence(end="?"), int(t.rng.integers(2)))
                        for i in range(sizes[split])]
                text = _tsv(["id", "qid1", "qid2", "question1", "question2", "is_duplicate"], rows)
                if t.edge_cases:  # a corrupted row: tfds skips it, so do we
                    text += f"{len(rows)}\t{2 * len(rows)}\t{2 * len(rows) + 1}\tA question with no pair?\n"
                atomic_write(g / "QQP" / f, text)
    if "glue_stsb" not in skip:
        header = ["index", "genre", "filename", "year", "old_index", "source1", "source2", "sentence1", "sentence2"]
        for split, f in files.items():
            rows = []
            for i in range(sizes[split]):
                row = [i, "main-captions", "MSRvid", "2012test", f"{i:04d}", "none", "none", t.sentence(), t.sentence()]
                if split != "test":
                    row.append(f"{t.rng.integers(0, 26) / 5:.3f}")
                rows.append(row)
            atomic_write(g / "STS-B" / f, _tsv(header + (["score"] if split != "test" else []), rows))
    if "glue_mnli" not in skip:
        base = ["index", "promptID", "pairID", "genre", "sentence1_binary_parse", "sentence2_binary_parse",
                "sentence1_parse", "sentence2_parse", "sentence1", "sentence2"]
        labels = ["entailment", "neutral", "contradiction"]
        for fname, n, kind in (("train", sizes["train"], "train"), ("dev_matched", sizes["validation"], "dev"),
                               ("dev_mismatched", sizes["validation"], "dev"), ("test_matched", sizes["test"], "test"),
                               ("test_mismatched", sizes["test"], "test")):
            rows = []
            for i in range(n):
                s1, s2 = t.sentence(), t.sentence()
                row = [i, 100 + i, f"{100 + i}e", "fiction", "( x )", "( y )", "(ROOT x)", "(ROOT y)", s1, s2]
                lab = t.pick(labels)
                if kind == "train":
                    row += [lab, lab]
                elif kind == "dev":
                    row += [lab] * 5 + [lab]
                rows.append(row)
            header = base + (["label1", "gold_label"] if kind == "train" else
                             [f"label{k}" for k in range(1, 6)] + ["gold_label"] if kind == "dev" else [])
            atomic_write(g / "MNLI" / f"{fname}.tsv", _tsv(header, rows))
    for ds, folder, cols, labels in (("glue_qnli", "QNLI", ("question", "sentence"), ("entailment", "not_entailment")),
                                     ("glue_rte", "RTE", ("sentence1", "sentence2"), ("entailment", "not_entailment")),
                                     ("glue_wnli", "WNLI", ("sentence1", "sentence2"), (0, 1))):
        if ds in skip:
            continue
        for split, f in files.items():
            rows = []
            for i in range(sizes[split]):
                row = [i, t.sentence(end="?" if cols[0] == "question" else "."), t.sentence()]
                if split != "test":
                    row.append(t.pick(labels))
                rows.append(row)
            atomic_write(g / folder / f, _tsv(["index", *cols] + (["label"] if split != "test" else []), rows))
    if "glue_mrpc" not in skip:
        header = ["Quality", "#1 ID", "#2 ID", "#1 String", "#2 String"]
        n = sizes["train"] + sizes["validation"]
        rows = [(int(t.rng.integers(2)), 1000 + 2 * i, 1001 + 2 * i, t.sentence(), t.sentence()) for i in range(n)]
        dev = sorted(t.rng.choice(n, size=sizes["validation"], replace=False).tolist())
        atomic_write(g / "MRPC" / "msr_paraphrase_train.txt", "\ufeff" + _tsv(header, rows))
        atomic_write(g / "MRPC" / "dev_ids.tsv", _tsv(None, [(rows[i][1], rows[i][2]) for i in dev]))
        test = [(int(t.rng.integers(2)), 5000 + 2 * i, 5001 + 2 * i, t.sentence(), t.sentence())
                for i in range(sizes["test"])]
        atomic_write(g / "MRPC" / "msr_paraphrase_test.txt", "\ufeff" + _tsv(header, test))


# ----------------------------------------------------------------- QA and XSUM
def _others(root: Path, t: _Text, sizes: dict, skip) -> None:
    if "sst2_sentences" not in skip:
        for split, name in (("train", "train"), ("validation", "dev"), ("test", "test")):
            atomic_write(root / "sst2_sentences" / f"stsa.binary.{name}",
                   "".join(f"{int(t.rng.integers(2))} {t.phrase(3, 8)} .\n" for _ in range(sizes[split])))
    if "natural_questions_open" not in skip:
        for split, name in (("train", "train"), ("validation", "dev")):
            rows = [{"question": t.phrase(3, 7), "answer": [t.phrase(1, 3) for _ in range(int(t.rng.integers(1, 3)))]}
                    for _ in range(sizes[split])]
            atomic_write(root / "nq_open" / f"NQ-open.{name}.jsonl", _jsonl(rows))
    if "web_questions" not in skip:
        for split in ("train", "test"):
            rows = []
            for i in range(sizes[split]):
                answers = [t.phrase(1, 3).title() for _ in range(int(t.rng.integers(1, 3)))]
                desc = " ".join(f'(description "{a}")' if " " in a else f"(description {a})" for a in answers)
                rows.append({"url": f"http://www.freebase.com/view/en/{t.phrase(1, 1)}", "targetValue": f"(list {desc})",
                             "utterance": t.phrase(3, 6) + "?"})
            atomic_write(root / "web_questions" / f"webquestions.examples.{split}.json",
                   "[\n" + ",\n".join(json.dumps(r) for r in rows) + "\n]\n")
    if "trivia_qa_unfiltered_nocontext" not in skip:
        for split, name in (("train", "train"), ("validation", "dev"), ("test", "test-without-answers")):
            data = []
            for i in range(sizes[split]):
                art = {"Question": " " + t.sentence(end="?") + " ", "QuestionId": f"tq_{split}_{i}",
                       "QuestionSource": "http://www.quiz.example", "EntityPages": [], "SearchResults": []}
                if split != "test":
                    value = t.phrase(1, 2).title()
                    art["Answer"] = {"Aliases": [value, value.lower() + " "], "MatchedWikiEntityName": value,
                                     "NormalizedAliases": [value.lower()], "NormalizedMatchedWikiEntityName": value.lower(),
                                     "NormalizedValue": value.lower(), "Type": "WikipediaEntity", "Value": value + " "}
                data.append(art)
            doc = {"Data": data, "Domain": "Unfiltered", "Split": split, "Version": 1.0}
            atomic_write(root / "trivia_qa" / "triviaqa-unfiltered" / f"unfiltered-web-{name}.json",
                   json.dumps(doc, indent=4) + "\n")
    if "tydi_qa_goldp" not in skip:
        def article(lang, k, split):
            context = f"{t.sentence(6, 12)} {t.sentence(6, 12)} «{t.phrase(1, 2)}» (U.S.) — {t.sentence()}"
            answer = context.split(" ")[2]
            qa = {"id": f"{lang}-{1000 * k + 7}-{k % 3}", "question": t.sentence(end="?"),
                  "answers": [{"text": answer, "answer_start": context.index(answer)}]}
            return {"title": t.phrase(1, 2).title(), "paragraphs": [{"context": context, "qas": [qa]}]}

        train = []
        for k in range(sizes["train"]):
            for lang in TYDI.values():
                train.append(article(lang, k, "train"))
        # a question id that occurs twice: tfds merges its answers
        dup = json.loads(json.dumps(train[0]))
        dup["paragraphs"][0]["qas"][0]["answers"][0]["text"] = dup["paragraphs"][0]["context"].split(" ")[0]
        dup["paragraphs"][0]["qas"][0]["answers"][0]["answer_start"] = 0
        train.append(dup)
        tyd = root / "tydiqa_goldp"
        atomic_write(tyd / "tydiqa-goldp-v1.1-train.json", json.dumps({"data": train, "version": "TyDiQA-GoldP-1.1-for-SQuAD-1.1"}))
        dev_all = []
        for lang in TYDI.values():
            arts = [article(lang, k, "dev") for k in range(sizes["validation"])]
            dev_all.extend(arts)
            atomic_write(tyd / "tydiqa-goldp-v1.1-dev" / f"tydiqa-goldp-dev-{lang}.json", json.dumps({"data": arts}))
        atomic_write(tyd / "tydiqa-goldp-v1.1-dev.json", json.dumps({"data": dev_all}))
    if "xsum" not in skip:
        ids = {split: [f"{37000000 + 100 * j + i}" for i in range(sizes[split])]
               for j, split in enumerate(("train", "validation", "test"))}
        if t.edge_cases:
            ids["train"].append("39999999")  # listed, but its article is missing: skipped
        atomic_write(root / "xsum" / "XSum-TRAINING-DEV-TEST-SPLIT-90-5-5.json", json.dumps(ids, indent=1))
        for split, idents in ids.items():
            for ident in idents:
                if ident == "39999999":
                    continue
                body = "\n".join(t.sentence(6, 12) for _ in range(3))
                text = (f"[XSUM]URL[XSUM]\nhttp://www.bbc.co.uk/news/{ident}\n\n[XSUM]INTRODUCTION[XSUM]\n"
                        f"{t.sentence(6, 12)}\n\n[XSUM]RESTBODY[XSUM]\nShare this with\nEmail\nFacebook\n\n{body}\n")
                atomic_write(root / "xsum" / "xsum-extracts-from-downloads" / f"{ident}.data", text)


def _conll2014(root: Path, t: _Text, sizes: dict, skip) -> None:
    if "conll2014" in skip:
        return

    def fix(words, k):  # the sentence with word k corrected (an agreement "s")
        return words[:k] + [words[k] + "s"] + words[k + 1:]

    def m2(n):  # the official M2 layout: S line, one A line per gold edit (annotator 0), blank line
        blocks = []
        for _ in range(n):
            words = t.phrase(4, 8).split()
            k = int(t.rng.integers(len(words)))
            blocks.append(f"S {' '.join(words)}\nA {k} {k + 1}|||SVA|||{fix(words, k)[k]}|||REQUIRED|||-NONE-|||0\n")
        return "\n".join(blocks)

    d = root / "conll2014"
    atomic_write(d / "conll14st-test-data" / "noalt" / "official-2014.combined.m2", m2(sizes["test"]))
    atomic_write(d / "dev.m2", m2(sizes["validation"]))
    pairs = [(words, fix(words, int(t.rng.integers(len(words))))) for words in
             (t.phrase(4, 8).split() for _ in range(sizes["train"]))]
    atomic_write(d / "train.src", "".join(" ".join(src) + "\n" for src, _ in pairs))
    atomic_write(d / "train.trg", "".join(" ".join(trg) + "\n" for _, trg in pairs))


def write_official_files(root: str | Path, seed: int = 0, n_train: int = 24, n_eval: int = 8, n_test: int = 6,
                         words=DEFAULT_WORDS, skip=(), edge_cases: bool = True) -> Path:
    """Write generated examples for every dataset (except those in ``skip``) in the official
    layout under ``root``. Deterministic in ``seed``. ``edge_cases=False`` leaves out the rows
    that readers skip with a warning (a corrupted QQP row, a missing XSUM article)."""
    root = Path(root)
    sizes = _sizes(n_train, n_eval, n_test)
    for i, part in enumerate((_superglue, _glue, _others, _conll2014)):
        part(root, _Text(np.random.default_rng([seed, 77, i]), words, edge_cases), sizes, set(skip))
    return root


# ------------------------------------------------------------------ archives
def _zip_dir(src: Path, arcroot: str, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(src.rglob("*")):
            if p.is_file():
                zf.write(p, f"{arcroot}/{p.relative_to(src).as_posix()}")


def _tar_dir(src: Path, arcroot: str, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(dest, "w:gz") as tf_:
        tf_.add(src, arcname=arcroot)


def write_release_archives(root: str | Path, archives: str | Path) -> Path:
    """Pack the official-layout files under ``root`` into the release files tfds downloads
    (named as tensorflow-datasets registers them) in ``archives``."""
    root, archives = Path(root), Path(archives)
    archives.mkdir(parents=True, exist_ok=True)
    sg = root / "super_glue"
    for folder in ("BoolQ", "CB", "COPA", "MultiRC", "ReCoRD", "RTE", "WiC", "WSC", "AX-b", "AX-g"):
        if (sg / folder).is_dir():  # archives/super_glue/: GLUE also publishes an RTE.zip
            _zip_dir(sg / folder, folder, archives / "super_glue" / f"{folder}.zip")
    g = root / "glue"
    for folder, name in (("CoLA", "CoLA"), ("SST-2", "SST-2"), ("QQP", "QQP"), ("STS-B", "STS-B"), ("MNLI", "MNLI"),
                         ("QNLI", "QNLIv2"), ("RTE", "RTE"), ("WNLI", "WNLI")):
        if (g / folder).is_dir():
            _zip_dir(g / folder, folder, archives / "glue" / f"{name}.zip")
    copies = {
        g / "MRPC" / "msr_paraphrase_train.txt": "msr_paraphrase_train.txt",
        g / "MRPC" / "msr_paraphrase_test.txt": "msr_paraphrase_test.txt",
        g / "MRPC" / "dev_ids.tsv": "data_mrpc_dev_ids.tsv",
        root / "nq_open" / "NQ-open.train.jsonl": "NQ-open.train.jsonl",
        root / "nq_open" / "NQ-open.dev.jsonl": "NQ-open.dev.jsonl",
        root / "web_questions" / "webquestions.examples.train.json": "webquestions.train",
        root / "web_questions" / "webquestions.examples.test.json": "webquestions.test",
        root / "tydiqa_goldp" / "tydiqa-goldp-v1.1-train.json": "tydiqa-goldp-v1.1-train.json",
        root / "tydiqa_goldp" / "tydiqa-goldp-v1.1-dev.json": "tydiqa-goldp-v1.1-dev.json",
        root / "xsum" / "XSum-TRAINING-DEV-TEST-SPLIT-90-5-5.json": "XSum-TRAINING-DEV-TEST-SPLIT-90-5-5.json",
    }
    for src, name in copies.items():
        if src.is_file():
            (archives / name).write_bytes(src.read_bytes())
    tyd = root / "tydiqa_goldp" / "tydiqa-goldp-v1.1-dev"
    if tyd.is_dir():
        _tar_dir(tyd, "tydiqa-goldp-v1.1-dev", archives / "tydiqa-goldp-v1.1-dev.tgz")
    tq = root / "trivia_qa" / "triviaqa-unfiltered"
    if tq.is_dir():
        _tar_dir(tq, "triviaqa-unfiltered", archives / "triviaqa-unfiltered.tar.gz")
    xs = root / "xsum" / "xsum-extracts-from-downloads"
    if xs.is_dir():
        _tar_dir(xs, "xsum-extracts-from-downloads", archives / "xsum-extracts-from-downloads.tar.gz")
    return archives

