"""The dataset catalog: what each dataset in ``data_manifests/`` is, in one place.

Per dataset: its title and homepage, the tasks that read it (the task -> dataset map:
:func:`dataset_of_task`), its tensorflow-datasets builder (name, version, module, whether it
needs TensorFlow: :func:`tfds_builder`), the release URLs and how to lay them out, the local
files and accepted variants, and the example count of each split with where it comes from.
``sam_bench.data.manifests`` turns an entry into the committed manifest file.
"""

from __future__ import annotations

__all__ = ["CATALOG", "FINGERPRINTED", "dataset_of_task", "tfds_builder", "train_split_of"]

_SG = "https://dl.fbaipublicfiles.com/glue/superglue/data/v2/"
_GL = "https://dl.fbaipublicfiles.com/glue/data/"
_SG_HOME = "https://super.gluebenchmark.com/tasks"
_GL_HOME = "https://gluebenchmark.com/tasks"
_TFDS_CATALOG = "tfds catalog (tensorflow-datasets 4.9), not counted here"
_SHARED = "counted in ../shared/data"


def _sg(folder, tasks, config, sizes, *, variants=(), counted=(), archive=None):
    archive = archive or f"{folder}.zip"
    splits = {}
    for split, n in sizes.items():
        splits[split] = {"examples": n, "source": _SHARED if split in counted else _TFDS_CATALOG}
    files = []
    for split, name in (("train", "train"), ("validation", "val"), ("test", "test")):
        if split in sizes:
            files.append({"path": f"super_glue/{folder}/{name}.jsonl", "split": split,
                          "from": f"{archive}: {folder}/{name}.jsonl"})
    return {
        "title": f"SuperGLUE {folder}", "tasks": list(tasks), "homepage": _SG_HOME,
        "tfds": {"name": f"super_glue/{config}", "version": "1.0.2", "module": "tensorflow_datasets.text.super_glue"},
        "urls": [_SG + archive],
        "get": [f"download {_SG + archive} and unzip it into <root>/super_glue/ (it holds {folder}/)"],
        "files": files, "variants": list(variants), "splits": splits,
    }


def _gl(folder, task, config, sizes, *, counted=(), archive=None, files=None, urls=None, get=None, tasks=None,
        title=None):
    archive = archive or f"{folder}.zip"
    splits = {s: {"examples": n, "source": _SHARED if s in counted else _TFDS_CATALOG} for s, n in sizes.items()}
    if files is None:
        files = [{"path": f"glue/{folder}/{name}.tsv", "split": split, "from": f"{archive}: {folder}/{name}.tsv"}
                 for split, name in (("train", "train"), ("validation", "dev"), ("test", "test"))]
    return {
        "title": title or f"GLUE {folder}", "tasks": list(tasks or [task]), "homepage": _GL_HOME,
        "tfds": {"name": f"glue/{config}", "version": "2.0.0", "module": "tensorflow_datasets.text.glue"},
        "urls": urls or [_GL + archive],
        "get": get or [f"download {(urls or [_GL + archive])[0]} and unzip it into <root>/glue/ (it holds {folder}/)"],
        "files": files, "variants": [], "splits": splits,
    }


_MRPC_URLS = [
    "https://dl.fbaipublicfiles.com/senteval/senteval_data/msr_paraphrase_train.txt",
    "https://dl.fbaipublicfiles.com/senteval/senteval_data/msr_paraphrase_test.txt",
    "https://firebasestorage.googleapis.com/v0/b/mtl-sentence-representations.appspot.com/o/data%2Fmrpc_dev_ids.tsv"
    "?alt=media&token=ec5c0836-31d5-48f4-b431-7480817f1adc",
]
_NQ = ("https://raw.githubusercontent.com/google-research-datasets/natural-questions/"
       "a7a113c9fdc2d9986d624bd43b8a18d6d5779eaa/nq_open/NQ-open.{}.jsonl")
_WQ = {"train": "https://worksheets.codalab.org/rest/bundles/0x4a763f8cde224c2da592b75f29e2f5c2/contents/blob/",
       "test": "https://worksheets.codalab.org/rest/bundles/0xe7bac352fce7448c9ef238fb0a297ec2/contents/blob/"}
_TYDI = "https://storage.googleapis.com/tydiqa/v1.1/tydiqa-goldp-v1.1-"
_TYDI_LANGS = {"en": "english", "ar": "arabic", "bn": "bengali", "fi": "finnish", "id": "indonesian",
               "ko": "korean", "ru": "russian", "sw": "swahili", "te": "telugu"}
_TYDI_DEV = {"en": 440, "ar": 921, "bn": 113, "fi": 782, "id": 565, "ko": 276, "ru": 812, "sw": 499, "te": 669}
_TYDI_TRAIN = {"en": 3696, "ar": 14805, "bn": 2390, "fi": 6855, "id": 5702, "ko": 1625, "ru": 6490, "sw": 2755,
               "te": 5563}

def _train32(folder, what="FewGLUE 32-example excerpt"):
    return {"path": f"super_glue/{folder}/train32.jsonl", "split": "train32",
            "note": f"{what} of the train set; NOT the train split"}


CATALOG: dict[str, dict] = {
    "super_glue_boolq": _sg("BoolQ", ["boolq"], "boolq", {"train": 9427, "validation": 3270, "test": 3245},
                            counted=("validation",),
                            variants=[_train32("BoolQ")]),
    "super_glue_cb": _sg("CB", ["cb"], "cb", {"train": 250, "validation": 56, "test": 250},
                         counted=("train", "validation", "test")),
    "super_glue_copa": _sg("COPA", ["copa"], "copa", {"train": 400, "validation": 100, "test": 500},
                           counted=("validation",),
                           variants=[_train32("COPA")]),
    "super_glue_multirc": _sg("MultiRC", ["multirc"], "multirc", {"train": 27243, "validation": 4848, "test": 9693},
                              counted=("validation",),
                              variants=[_train32("MultiRC", "FewGLUE excerpt (32 passages)")]),
    "super_glue_record": _sg("ReCoRD", ["record"], "record", {"train": 100730, "validation": 10000, "test": 10000},
                             variants=[{"path": "super_glue/ReCoRD/train32.jsonl", "split": "train32",
                                        "note": "FewGLUE 32-query excerpt of the train set"},
                                       {"path": "super_glue/ReCoRD/dev32.jsonl", "split": "dev32",
                                        "note": "FewGLUE 32-query excerpt (not the validation split)"}]),
    "super_glue_rte": _sg("RTE", ["rte"], "rte", {"train": 2490, "validation": 277, "test": 3000},
                          counted=("train", "validation", "test")),
    "super_glue_wic": _sg("WiC", ["wic"], "wic", {"train": 5428, "validation": 638, "test": 1400},
                          counted=("validation",),
                          variants=[_train32("WiC")]),
    "super_glue_wsc": _sg("WSC", ["wsc"], "wsc.fixed", {"train": 554, "validation": 104, "test": 146},
                          counted=("train", "validation", "test")),
    "super_glue_axb": {
        **_sg("AX-b", ["axb"], "axb", {"test": 1104}, counted=("test",)),
        "files": [{"path": "super_glue/AX-b/AX-b.jsonl", "split": "test", "from": "AX-b.zip: AX-b/AX-b.jsonl"}],
        "variants": [{"path": "super_glue/AX-b/diagnostic-full.tsv", "split": "test",
                      "note": "GLUE's diagnostic-full.tsv (the same 1,104 pairs; 3-way labels collapsed to "
                              "entailment / not_entailment)"}],
    },
    "super_glue_axg": {
        **_sg("AX-g", ["axg"], "axg", {"test": 356}, counted=("test",)),
        "files": [{"path": "super_glue/AX-g/AX-g.jsonl", "split": "test", "from": "AX-g.zip: AX-g/AX-g.jsonl"}],
        "variants": [{"path": "super_glue/AX-g/winogender_filtered.jsonl", "split": "test",
                      "note": "a zip archive holding WinoGender.jsonl (the AX-g records)"}],
    },
    "glue_cola": _gl("CoLA", "cola", "cola", {"train": 8551, "validation": 1043, "test": 1063}),
    "glue_sst2": _gl("SST-2", "sst2", "sst2", {"train": 67349, "validation": 872, "test": 1821}),
    "glue_mrpc": _gl(
        "MRPC", "mrpc", "mrpc", {"train": 3668, "validation": 408, "test": 1725}, urls=_MRPC_URLS,
        files=[{"path": "glue/MRPC/msr_paraphrase_train.txt", "split": "train+validation",
                "from": "msr_paraphrase_train.txt"},
               {"path": "glue/MRPC/dev_ids.tsv", "split": "validation", "from": "mrpc_dev_ids.tsv"},
               {"path": "glue/MRPC/msr_paraphrase_test.txt", "split": "test", "from": "msr_paraphrase_test.txt"}],
        get=["download the three MRPC files (urls) into <root>/glue/MRPC/, saving the dev-id list as dev_ids.tsv"]),
    "glue_qqp": _gl("QQP", "qqp", "qqp", {"train": 363846, "validation": 40430, "test": 390965}),
    "glue_stsb": {
        **_gl("STS-B", "stsb", "stsb", {"train": 5749, "validation": 1500, "test": 1379},
              counted=("train", "validation", "test")),
        "variants": [{"path": f"stsbenchmark/sts-{s}.csv", "split": split,
                      "note": "the original STS Benchmark release GLUE's STS-B was made from (same pairs, same "
                              "order; its test file has gold scores)"}
                     for s, split in (("train", "train"), ("dev", "validation"), ("test", "test"))],
    },
    "glue_mnli": _gl(
        "MNLI", "mnli_m", "mnli", {"train": 392702, "validation_matched": 9815, "validation_mismatched": 9832,
                                   "test_matched": 9796, "test_mismatched": 9847},
        tasks=["mnli_m", "mnli_mm"],
        files=[{"path": f"glue/MNLI/{n}.tsv", "split": s, "from": f"MNLI.zip: MNLI/{n}.tsv"}
               for n, s in (("train", "train"), ("dev_matched", "validation_matched"),
                            ("dev_mismatched", "validation_mismatched"), ("test_matched", "test_matched"),
                            ("test_mismatched", "test_mismatched"))]),
    "glue_qnli": _gl("QNLI", "qnli", "qnli", {"train": 104743, "validation": 5463, "test": 5463},
                     archive="QNLIv2.zip",
                     files=[{"path": f"glue/QNLI/{n}.tsv", "split": s, "from": f"QNLIv2.zip: QNLI/{n}.tsv"}
                            for s, n in (("train", "train"), ("validation", "dev"), ("test", "test"))]),
    "glue_rte": _gl("RTE", "glue_rte", "rte", {"train": 2490, "validation": 277, "test": 3000}),
    "glue_wnli": _gl("WNLI", "wnli", "wnli", {"train": 635, "validation": 71, "test": 146}),
    "sst2_sentences": {
        "title": "SST-2, sentence-level release (not GLUE's SST-2)", "tasks": ["sst2_sentences"],
        "homepage": "https://nlp.stanford.edu/sentiment/", "tfds": None, "urls": [],
        "get": ["the sentence-level binary SST files stsa.binary.{train,dev,test} (e.g. from the "
                "tonyzhaozh/few-shot-learning repository) into <root>/sst2_sentences/"],
        "files": [{"path": f"sst2_sentences/stsa.binary.{n}", "split": s, "from": f"stsa.binary.{n}"}
                  for s, n in (("train", "train"), ("validation", "dev"), ("test", "test"))],
        "variants": [],
        "splits": {"train": {"examples": 6920, "source": _SHARED}, "validation": {"examples": 872, "source": _SHARED},
                   "test": {"examples": 1821, "source": _SHARED}},
    },
    "natural_questions_open": {
        "title": "Natural Questions, open-domain (NQ-open)", "tasks": ["natural_questions"],
        "homepage": "https://github.com/google-research-datasets/natural-questions/tree/master/nq_open",
        "tfds": {"name": "natural_questions_open", "version": "1.0.0",
                 "module": "tensorflow_datasets.datasets.natural_questions_open.natural_questions_open_dataset_builder"},
        "urls": [_NQ.format("train"), _NQ.format("dev")],
        "get": ["download NQ-open.train.jsonl and NQ-open.dev.jsonl (urls) into <root>/nq_open/"],
        "files": [{"path": "nq_open/NQ-open.train.jsonl", "split": "train", "from": "NQ-open.train.jsonl"},
                  {"path": "nq_open/NQ-open.dev.jsonl", "split": "validation", "from": "NQ-open.dev.jsonl"}],
        "variants": [{"path": "nq_open/NQ-open.efficientqa.dev.1.1.jsonl", "split": "efficientqa_dev",
                      "note": "EfficientQA dev questions of the same release (extra split)"},
                     {"path": "nq_open/NQ-open.efficientqa.test.1.1.jsonl", "split": "efficientqa_test",
                      "note": "EfficientQA test questions of the same release (extra split)"}],
        "splits": {"train": {"examples": 87925, "source": _TFDS_CATALOG},
                   "validation": {"examples": 3610, "source": _SHARED},
                   "efficientqa_dev": {"examples": 1800, "source": _SHARED},
                   "efficientqa_test": {"examples": 1769, "source": _SHARED}},
    },
    "web_questions": {
        "title": "WebQuestions", "tasks": ["web_questions"],
        "homepage": "https://worksheets.codalab.org/worksheets/0xba659fe363cb46e7a505c5b6a774dc8a",
        "tfds": {"name": "web_questions", "version": "1.0.0",
                 "module": "tensorflow_datasets.question_answering.web_questions"},
        "urls": [_WQ["train"], _WQ["test"]],
        "get": ["download the two codalab blobs (urls) as <root>/web_questions/webquestions.examples.train.json "
                "and webquestions.examples.test.json"],
        "files": [{"path": "web_questions/webquestions.examples.train.json", "split": "train", "from": "webquestions.train"},
                  {"path": "web_questions/webquestions.examples.test.json", "split": "test", "from": "webquestions.test"}],
        "variants": [{"path": f"web_questions/{n}.json", "split": s,
                      "note": "re-packaged release (qId, qText, answers); trainmodel + val + devtest = the official "
                              "train set, reassembled in qId order"}
                     for n, s in (("trainmodel", "train"), ("val", "train"), ("devtest", "train"), ("test", "test"))],
        "splits": {"train": {"examples": 3778, "source": _SHARED}, "test": {"examples": 2032, "source": _SHARED}},
    },
    "trivia_qa_unfiltered_nocontext": {
        "title": "TriviaQA (unfiltered, no context)", "tasks": ["trivia_qa"],
        "homepage": "http://nlp.cs.washington.edu/triviaqa/",
        "tfds": {"name": "trivia_qa/unfiltered.nocontext", "version": "1.1.0",
                 "module": "tensorflow_datasets.datasets.trivia_qa.trivia_qa_dataset_builder",
                 "needs_tensorflow": True},
        "urls": ["http://nlp.cs.washington.edu/triviaqa/data/triviaqa-unfiltered.tar.gz"],
        "get": ["download triviaqa-unfiltered.tar.gz (url) and untar it into <root>/trivia_qa/"],
        "files": [{"path": f"trivia_qa/triviaqa-unfiltered/unfiltered-web-{n}.json", "split": s,
                   "from": f"triviaqa-unfiltered.tar.gz: triviaqa-unfiltered/unfiltered-web-{n}.json"}
                  for s, n in (("train", "train"), ("validation", "dev"), ("test", "test-without-answers"))],
        "variants": [],
        "splits": {"train": {"examples": 87622, "source": _TFDS_CATALOG},
                   "validation": {"examples": 11313, "source": _TFDS_CATALOG},
                   "test": {"examples": 10832, "source": _TFDS_CATALOG}},
    },
    "tydi_qa_goldp": {
        "title": "TyDiQA-GoldP v1.1", "tasks": [f"tydiqa_{iso}" for iso in _TYDI_LANGS],
        "homepage": "https://github.com/google-research-datasets/tydiqa",
        "tfds": {"name": "tydi_qa/goldp", "version": "3.0.0", "module": "tensorflow_datasets.question_answering.tydi_qa"},
        "urls": [_TYDI + "train.json", _TYDI + "dev.json", _TYDI + "dev.tgz"],
        "get": ["download tydiqa-goldp-v1.1-train.json and tydiqa-goldp-v1.1-dev.tgz (urls) into "
                "<root>/tydiqa_goldp/ and untar the .tgz there"],
        "files": [{"path": "tydiqa_goldp/tydiqa-goldp-v1.1-train.json", "split": "train",
                   "from": "tydiqa-goldp-v1.1-train.json"}]
        + [{"path": f"tydiqa_goldp/tydiqa-goldp-v1.1-dev/tydiqa-goldp-dev-{lang}.json", "split": f"validation-{iso}",
            "from": f"tydiqa-goldp-v1.1-dev.tgz: tydiqa-goldp-v1.1-dev/tydiqa-goldp-dev-{lang}.json"}
           for iso, lang in _TYDI_LANGS.items()],
        "variants": [{"path": f"tydiqa_goldp/{lang}_tydiqa_dev.json", "split": f"validation-{iso}",
                      "note": "per-language dev file (sagorbrur/tydiqa-language-specific layout)"}
                     for iso, lang in _TYDI_LANGS.items()]
        + [{"path": f"tydiqa_goldp/{lang}_tydiqa_train.json", "split": f"train-{iso}",
            "note": "per-language train file (sagorbrur/tydiqa-language-specific layout)"}
           for iso, lang in _TYDI_LANGS.items()],
        "splits": {"train": {"examples": 49881, "source": _TFDS_CATALOG},
                   **{f"train-{iso}": {"examples": n, "source": _SHARED if iso in ("en", "ko", "sw") else
                                       "per-language share of the GoldP train set (not counted here)"}
                      for iso, n in _TYDI_TRAIN.items()},
                   "validation": {"examples": 5077, "source": _SHARED},
                   **{f"validation-{iso}": {"examples": n, "source": _SHARED} for iso, n in _TYDI_DEV.items()}},
    },
    "xsum": {
        "title": "XSum", "tasks": ["xsum"], "homepage": "https://github.com/EdinburghNLP/XSum/tree/master/XSum-Dataset",
        "tfds": {"name": "xsum", "version": "1.1.0", "module": "tensorflow_datasets.summarization.xsum",
                 "needs_tensorflow": True},
        "urls": ["https://raw.githubusercontent.com/EdinburghNLP/XSum/master/XSum-Dataset/"
                 "XSum-TRAINING-DEV-TEST-SPLIT-90-5-5.json"],
        "get": ["download XSum-TRAINING-DEV-TEST-SPLIT-90-5-5.json (url) into <root>/xsum/ and build "
                "xsum-extracts-from-downloads/ with the download scripts of the XSum README (homepage) into "
                "<root>/xsum/ (tfds: put xsum-extracts-from-downloads.tar.gz in its manual dir)"],
        "files": [{"path": "xsum/XSum-TRAINING-DEV-TEST-SPLIT-90-5-5.json", "split": "train+validation+test",
                   "from": "XSum-TRAINING-DEV-TEST-SPLIT-90-5-5.json"},
                  {"path": "xsum/xsum-extracts-from-downloads", "split": "train+validation+test",
                   "from": "the XSum download scripts (a directory of <id>.data files)"}],
        "variants": [{"path": "xsum/xsum-extracts-from-downloads.tar.gz", "split": "train+validation+test",
                      "note": "the extracts as the archive tfds takes from its manual dir"}],
        "splits": {"train": {"examples": 203577, "source": _TFDS_CATALOG},
                   "validation": {"examples": 11305, "source": _TFDS_CATALOG},
                   "test": {"examples": 11301, "source": _TFDS_CATALOG}},
    },
    "conll2014": {
        "title": "CoNLL-2014 shared task on grammatical error correction", "tasks": ["conll2014"],
        "homepage": "https://www.comp.nus.edu.sg/~nlp/conll14st.html", "tfds": None,
        "urls": ["https://www.comp.nus.edu.sg/~nlp/conll14st/conll14st-test-data.tar.gz"],
        "get": ["unpack the official test release conll14st-test-data.tar.gz (url) into <root>/conll2014/; "
                "put a development M2 file at <root>/conll2014/dev.m2 and the training pairs (NUCLE + Lang-8 "
                "preprocessed as Chollampatt & Ng 2018, both corpora by licence/request from their "
                "publishers) at <root>/conll2014/train.src + train.trg, or an M2 training corpus at "
                "<root>/conll2014/train.m2. The training set has no fixed published size, so no subsamples "
                "are pinned: use data.subsamples: generate"],
        "files": [{"path": "conll2014/train.src", "split": "train",
                   "from": "preprocessed NUCLE + Lang-8 source sentences (one per line; train.trg aligned)"},
                  {"path": "conll2014/train.trg", "split": "train", "from": "their corrections, line-aligned"},
                  {"path": "conll2014/dev.m2", "split": "validation", "from": "a held-out NUCLE M2 file"},
                  {"path": "conll2014/conll14st-test-data/noalt/official-2014.combined.m2", "split": "test",
                   "from": "conll14st-test-data.tar.gz"}],
        "variants": [{"path": "conll2014/train.m2", "split": "train",
                      "note": "an annotated training corpus in M2; targets apply the first annotator's edits"}],
        "splits": {"validation": {"examples": 5448, "source": "FSAM Table 7 (Chollampatt & Ng 2018's dev set)"},
                   "test": {"examples": 1312, "source": "the CoNLL-2014 test release"}},
    },
}

#: training-set sizes for the pins, per training task (tydiqa languages: their share of train)
_TRAIN_SPLIT_OF = {"mnli_m": "train", **{f"tydiqa_{iso}": f"train-{iso}" for iso in _TYDI_LANGS}}
#: tasks whose training records are fingerprinted from ../shared/data (official-format copies)
FINGERPRINTED = ("cb", "rte", "wsc", "stsb", "sst2_sentences")


def dataset_of_task(task_name: str) -> str:
    """The catalogued dataset task ``task_name`` reads."""
    for name, entry in CATALOG.items():
        if task_name in entry["tasks"]:
            return name
    raise KeyError(f"task {task_name!r} belongs to no catalogued dataset; datasets: {sorted(CATALOG)}")


def tfds_builder(dataset: str) -> dict | None:
    """{"name", "version", "module", "needs_tensorflow"} of the dataset's tfds builder, or None."""
    entry = CATALOG[dataset].get("tfds")
    return None if entry is None else {**entry, "needs_tensorflow": entry.get("needs_tensorflow", False)}


def train_split_of(task_name: str) -> str:
    """The catalog split whose size a training task's subsamples are pinned for."""
    return _TRAIN_SPLIT_OF.get(task_name, "train")
