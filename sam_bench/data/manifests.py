"""Dataset manifests (``data_manifests/<dataset>.json``): what each dataset is, how to verify a
copy of it, and the pinned subsample index lists every cell uses.

A manifest records:

* ``tfds``: the tensorflow-datasets builder name, version and module the records were checked
  against, and whether that builder needs TensorFlow;
* ``downloads``: the release files tfds downloads (URL, file name, bytes, sha256 as tfds
  registers them) and ``get``: how to obtain and unpack them into the local layout;
* ``files``: the local-layout files (path under the data root, split, bytes and sha256 where
  known) and ``variants``: other accepted files (e.g. the layout of ../shared/data);
* ``splits``: the number of examples of each split and where the number comes from (counted in
  ../shared/data, or the tfds catalog);
* ``subsamples``: per training task, the nested subsample index lists for every
  (rate, seed) of the ladder 2% < 5% < 10% < 20% < 40% < 80%, stored as one "level" per
  example (``sam_bench.data.subsample.nested_levels``), with the sha256 of each index list,
  the training-set size they were drawn for and the fingerprint(s) of the training records.

``subsample_for_task`` is what every cell uses: it returns the pinned indices, and refuses
(``DatasetChangedError``) when the training set differs from the one the lists were pinned
for, instead of silently drawing a new subsample.

Command line (``python -m sam_bench.data.manifests ...``, or ``sam-bench data ...`` once wired):

    verify --root DIR [--archives DIR] [--dataset NAME ...]   check files, say what is missing and where to get it
    pin DATASET --root DIR [--source local|tfds] [--seeds 0 1 2]   (re)pin after a deliberate data change
    build --shared ../shared/data                                  regenerate every manifest
    show DATASET                                                   print the manifest summary
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

import numpy as np

from sam_bench.data.subsample import (
    LADDER,
    dataset_fingerprint,
    decode_levels,
    encode_levels,
    indices_digest,
    nested_levels,
    subsample_count,
    subsample_indices,
)

__all__ = [
    "CATALOG",
    "DatasetChangedError",
    "SubsampleNotPinnedError",
    "manifest_dir",
    "load_manifest",
    "subsample_for_task",
    "pin_problems",
    "build_manifest",
    "write_manifests",
    "verify",
    "format_report",
    "main",
]

FORMAT = 1
DEFAULT_SEEDS = (0, 1, 2)
BIG_DATASET = 150_000  # training sets larger than this are pinned for seed 0 only by default
GENERATOR = ("numpy.random.default_rng(seed).permutation(n); the subsample at rate r keeps the first "
             "max(1, floor(r*n + 0.5)) positions of that permutation, as sorted indices into the file order")


class DatasetChangedError(RuntimeError):
    """The training records differ from those the pinned subsample lists were made for."""


class SubsampleNotPinnedError(RuntimeError):
    """A (rate, seed) the manifest has no pinned index list for."""


# ------------------------------------------------------------------------ catalog
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

CATALOG: dict[str, dict] = {
    "super_glue_boolq": _sg("BoolQ", ["boolq"], "boolq", {"train": 9427, "validation": 3270, "test": 3245},
                            counted=("validation",),
                            variants=[{"path": "super_glue/BoolQ/train32.jsonl", "split": "train32",
                                       "note": "FewGLUE 32-example excerpt of the train set; NOT the train split"}]),
    "super_glue_cb": _sg("CB", ["cb"], "cb", {"train": 250, "validation": 56, "test": 250},
                         counted=("train", "validation", "test")),
    "super_glue_copa": _sg("COPA", ["copa"], "copa", {"train": 400, "validation": 100, "test": 500},
                           counted=("validation",),
                           variants=[{"path": "super_glue/COPA/train32.jsonl", "split": "train32",
                                      "note": "FewGLUE 32-example excerpt of the train set; NOT the train split"}]),
    "super_glue_multirc": _sg("MultiRC", ["multirc"], "multirc", {"train": 27243, "validation": 4848, "test": 9693},
                              counted=("validation",),
                              variants=[{"path": "super_glue/MultiRC/train32.jsonl", "split": "train32",
                                         "note": "FewGLUE excerpt (32 passages) of the train set; NOT the train split"}]),
    "super_glue_record": _sg("ReCoRD", ["record"], "record", {"train": 100730, "validation": 10000, "test": 10000},
                             variants=[{"path": "super_glue/ReCoRD/train32.jsonl", "split": "train32",
                                        "note": "FewGLUE 32-query excerpt of the train set"},
                                       {"path": "super_glue/ReCoRD/dev32.jsonl", "split": "dev32",
                                        "note": "FewGLUE 32-query excerpt (not the validation split)"}]),
    "super_glue_rte": _sg("RTE", ["rte"], "rte", {"train": 2490, "validation": 277, "test": 3000},
                          counted=("train", "validation", "test")),
    "super_glue_wic": _sg("WiC", ["wic"], "wic", {"train": 5428, "validation": 638, "test": 1400},
                          counted=("validation",),
                          variants=[{"path": "super_glue/WiC/train32.jsonl", "split": "train32",
                                     "note": "FewGLUE 32-example excerpt of the train set; NOT the train split"}]),
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


# ------------------------------------------------------------------------ loading
def manifest_dir() -> Path:
    """``$SAM_BENCH_MANIFESTS`` or the repository's data_manifests/."""
    env = os.environ.get("SAM_BENCH_MANIFESTS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "data_manifests"


_CACHE: dict[tuple[str, str], dict] = {}


def load_manifest(dataset: str, directory: str | Path | None = None) -> dict:
    directory = Path(directory) if directory is not None else manifest_dir()
    key = (str(directory), dataset)
    path = directory / f"{dataset}.json"
    if key not in _CACHE or _CACHE[key].get("_mtime") != (path.stat().st_mtime if path.exists() else None):
        if not path.is_file():
            raise FileNotFoundError(f"no manifest for dataset {dataset!r}: {path} does not exist "
                                    f"(datasets: {sorted(CATALOG)})")
        data = json.loads(path.read_text())
        data["_mtime"] = path.stat().st_mtime
        _CACHE[key] = data
    return _CACHE[key]


def dataset_of_task(task_name: str) -> str:
    for name, entry in CATALOG.items():
        if task_name in entry["tasks"]:
            return name
    raise KeyError(f"task {task_name!r} belongs to no catalogued dataset")


# ------------------------------------------------------------------------ pins
def _pin_entry(n: int, seeds, fingerprints=()) -> dict:
    counts = [subsample_count(n, r) for r in LADDER]
    entry = {"split": "train", "examples": int(n), "fingerprints": list(fingerprints),
             "generator": GENERATOR, "ladder": list(LADDER), "counts": counts, "seeds": {}}
    for seed in seeds:
        levels = nested_levels(n, seed)
        digests = [indices_digest(np.flatnonzero(levels <= j)) for j in range(len(LADDER))]
        entry["seeds"][str(int(seed))] = {"sha256": digests, "levels": encode_levels(levels)}
    return entry


def _rate_index(rate: float) -> int | None:
    for j, r in enumerate(LADDER):
        if abs(float(rate) - r) < 1e-12:
            return j
    return None


def subsample_for_task(task, records: list, rate: float, seed: int, policy: str = "manifest",
                       fingerprint: str | None = None, directory: str | Path | None = None) -> tuple[np.ndarray, dict]:
    """(sorted kept indices into ``records``, provenance) for one task's training set.

    policy "generate": ``subsample_indices(len(records), rate, seed)`` (synthetic data).
    policy "manifest": the list pinned in the task's manifest; the training set must have the
    pinned size and, where the manifest records fingerprints, one of them; else
    DatasetChangedError. Rate 1.0 keeps everything (after the same checks).
    """
    n = len(records)
    if policy == "generate":
        idx = subsample_indices(n, rate, seed)
        return idx, {"policy": "generate", "examples": n, "kept": int(len(idx)), "sha256": indices_digest(idx)}
    if policy != "manifest":
        raise ValueError(f"unknown subsample policy {policy!r}; valid: manifest, generate")
    name = task.name
    manifest = load_manifest(task.dataset, directory)
    where = f"data_manifests/{task.dataset}.json"
    pins = manifest.get("subsamples", {}).get(name)
    if pins is None:
        raise SubsampleNotPinnedError(f"{where} pins no subsamples for task {name!r}")
    fp = fingerprint or dataset_fingerprint(records)
    hint = (f"If the data changed on purpose, re-pin with `python -m sam_bench.data.manifests pin {task.dataset} "
            "--root <data root>` (and commit the manifest); for data that is not the official release (e.g. a "
            "generated suite) use the synthetic source or subsamples='generate'.")
    if n != pins["examples"]:
        raise DatasetChangedError(
            f"task {name!r}: the training set has {n} examples, but {where} pins subsamples for "
            f"{pins['examples']} (fingerprint(s) {[f['sha256'][:12] for f in pins['fingerprints']]}). "
            f"The dataset is not the one the subsamples were drawn for. {hint}")
    known = [f["sha256"] for f in pins["fingerprints"]]
    if known and fp not in known:
        raise DatasetChangedError(
            f"task {name!r}: the training records (fingerprint {fp[:12]}) differ from the recorded ones "
            f"({', '.join(k[:12] for k in known)}, {where}) although the size matches. {hint}")
    if float(rate) == 1.0:
        idx = np.arange(n, dtype=np.int64)
        return idx, {"policy": "manifest", "manifest": where, "examples": n, "kept": n, "fingerprint": fp,
                     "sha256": indices_digest(idx)}
    j = _rate_index(rate)
    if j is None:
        raise SubsampleNotPinnedError(
            f"task {name!r}: rate {rate} is not pinned; {where} pins the rates {list(LADDER)} (and 1.0 keeps all)")
    seed_entry = pins["seeds"].get(str(int(seed)))
    if seed_entry is None:
        raise SubsampleNotPinnedError(
            f"task {name!r}: subsample seed {seed} is not pinned in {where} (pinned seeds: {sorted(pins['seeds'])}); "
            f"pin it with `python -m sam_bench.data.manifests pin {task.dataset} --root <data root> --seeds "
            f"{' '.join(sorted(pins['seeds']))} {seed}`")
    levels = decode_levels(seed_entry["levels"], n)
    idx = np.flatnonzero(levels <= j).astype(np.int64)
    digest = indices_digest(idx)
    if digest != seed_entry["sha256"][j] or len(idx) != pins["counts"][j]:
        raise DatasetChangedError(f"{where}: the pinned list for ({name}, rate {rate}, seed {seed}) does not match "
                                  "its recorded sha256; the manifest is corrupt")
    return idx, {"policy": "manifest", "manifest": where, "examples": n, "kept": int(len(idx)), "fingerprint": fp,
                 "sha256": digest}


def pin_problems(name: str, rate: float, seed: int, directory: str | Path | None = None) -> list[str]:
    """Why a (task or mixture, rate, seed) cell on official data cannot use pinned subsamples,
    without loading any data (empty if it can). For config validation before compute."""
    from sam_bench.tasks import get_task, task_names

    problems = []
    for task_name in task_names(name):
        task = get_task(task_name)
        if not task.trains:
            continue
        try:
            pins = load_manifest(task.dataset, directory).get("subsamples", {}).get(task_name)
        except FileNotFoundError as e:
            problems.append(str(e))
            continue
        if pins is None:
            problems.append(f"data_manifests/{task.dataset}.json pins no subsamples for task {task_name!r}")
            continue
        if float(rate) == 1.0:
            continue
        if _rate_index(rate) is None:
            problems.append(f"{task_name}: subsample rate {rate} is not pinned (pinned: {list(LADDER)} and 1.0)")
        elif str(int(seed)) not in pins["seeds"]:
            problems.append(f"{task_name}: subsample seed {seed} is not pinned in data_manifests/{task.dataset}.json "
                            f"(pinned: {sorted(pins['seeds'], key=int)}; add it with `python -m "
                            f"sam_bench.data.manifests pin {task.dataset} --root <data root> --seeds ...`)")
    return problems


# ------------------------------------------------------------------------ building
def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _tfds_url_infos(entry: dict) -> dict:
    """url -> (bytes, sha256, file name) as tensorflow-datasets registers them."""
    if not entry.get("tfds"):
        return {}
    try:
        import importlib

        import tensorflow_datasets as tfds

        importlib.import_module(entry["tfds"]["module"])
        cls = tfds.builder_cls(entry["tfds"]["name"].split("/")[0])
        infos = cls.url_infos or {}
    except Exception:  # pragma: no cover - tfds missing or changed
        return {}
    return {url: (int(i.size), i.checksum, i.filename) for url, i in infos.items()}


def build_manifest(dataset: str, shared_root: str | Path | None = None, seeds=None) -> dict:
    """The manifest of ``dataset`` from the catalog, the tfds checksum registry and (where
    present) the files under ``shared_root``."""
    from sam_bench.tasks import get_task

    entry = json.loads(json.dumps(CATALOG[dataset]))  # deep copy
    infos = _tfds_url_infos(entry)
    out = {"format": FORMAT, "dataset": dataset, "title": entry["title"], "tasks": entry["tasks"],
           "homepage": entry["homepage"]}
    if entry.get("tfds"):
        t = dict(entry["tfds"])
        t.setdefault("needs_tensorflow", False)
        t["tensorflow_note"] = (
            "its tfds generators call tf.io.gfile: the tfds path needs `pip install tensorflow-cpu`"
            if t["needs_tensorflow"] else "works without TensorFlow (see sam_bench/data/sources.py)")
        out["tfds"] = t
    else:
        out["tfds"] = None
    out["downloads"] = []
    for url in entry["urls"]:
        size, sha, name = infos.get(url, (None, None, url.rstrip("/").split("/")[-1].split("?")[0]))
        out["downloads"].append({"url": url, "file": name, "bytes": size, "sha256": sha,
                                 "sha256_source": "tensorflow-datasets checksum registry" if sha else None})
    by_sha = {d["sha256"]: d for d in out["downloads"] if d["sha256"]}
    out["get"] = entry["get"]
    root = Path(shared_root) if shared_root else None
    for group in ("files", "variants"):
        rows = []
        for f in entry[group]:
            f = dict(f)
            f.update({"bytes": None, "sha256": None, "sha256_source": None})
            p = root / f["path"] if root else None
            if p is not None and p.is_file():
                f["bytes"], f["sha256"] = p.stat().st_size, _sha256_file(p)
                f["sha256_source"] = ("official: equals the tensorflow-datasets registered checksum"
                                      if f["sha256"] in by_sha else "reference copy in ../shared/data")
            rows.append(f)
        out[group] = rows
    out["splits"] = entry["splits"]
    # pins per training task
    seeds = tuple(seeds) if seeds is not None else None
    out["subsamples"] = {}
    for task_name in entry["tasks"]:
        task = get_task(task_name)
        split = entry["splits"].get(_TRAIN_SPLIT_OF.get(task_name, "train"))
        if not task.trains or split is None:  # no fixed training-set size (conll2014): nothing to pin
            continue
        n = split["examples"]
        fingerprints = []
        if root is not None and task_name in FINGERPRINTED:
            try:
                records = task.load(root, "train")
            except FileNotFoundError:
                records = None
            if records is not None:
                if len(records) != n:
                    raise ValueError(f"{dataset}: {task_name} train has {len(records)} examples in {root}, "
                                     f"the catalog says {n}")
                fingerprints.append({"sha256": dataset_fingerprint(records),
                                     "source": f"records of {task.path(root, 'train').relative_to(root)} in ../shared/data"})
        task_seeds = seeds if seeds is not None else (DEFAULT_SEEDS if n <= BIG_DATASET else (0,))
        out["subsamples"][task_name] = _pin_entry(n, task_seeds, fingerprints)
    return out


def write_manifest(manifest: dict, directory: str | Path | None = None) -> Path:
    directory = Path(directory) if directory is not None else manifest_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{manifest['dataset']}.json"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    body = {k: v for k, v in manifest.items() if not k.startswith("_")}
    tmp.write_text(json.dumps(body, indent=1, ensure_ascii=False) + "\n")
    os.replace(tmp, path)
    return path


def write_manifests(shared_root: str | Path | None, directory: str | Path | None = None, datasets=None) -> list[Path]:
    return [write_manifest(build_manifest(d, shared_root), directory) for d in (datasets or CATALOG)]


def pin(dataset: str, source, seeds=None, directory: str | Path | None = None) -> dict:
    """Re-pin ``dataset``'s subsamples for the training sets ``source`` yields (sizes and
    fingerprints recorded from them); the metadata is kept. Writes the manifest."""
    from sam_bench.tasks import get_task

    manifest = dict(load_manifest(dataset, directory))
    for task_name, old in list(manifest.get("subsamples", {}).items()):
        task = get_task(task_name)
        records = source.load(task, "train")
        fp = {"sha256": dataset_fingerprint(records), "source": f"pinned from {source.describe()}"}
        keep = [f for f in old["fingerprints"] if len(records) == old["examples"] and f["sha256"] != fp["sha256"]]
        task_seeds = seeds if seeds is not None else [int(s) for s in old["seeds"]]
        manifest["subsamples"][task_name] = _pin_entry(len(records), task_seeds, keep + [fp])
        if len(records) != old["examples"]:
            split = _TRAIN_SPLIT_OF.get(task_name, "train")
            manifest["splits"][split] = {"examples": len(records), "source": f"pinned from {source.describe()}"}
    write_manifest(manifest, directory)
    _CACHE.clear()
    return manifest


# ------------------------------------------------------------------------ verify
def verify(root: str | Path | None = None, datasets=None, archives: str | Path | None = None,
           directory: str | Path | None = None) -> list[dict]:
    """Check a data root (and/or a directory of release archives for the tfds path) against the
    manifests. One row per expected file: {"dataset", "path", "status", "message"} with status
    OK, MISSING, ALT (missing, but an accepted alternative file for the same split is present
    and is what the tasks read), DIFFERS (an official checksum does not match), CHANGED (differs
    from the reference copy the manifest recorded), VARIANT (another known file is present)."""
    rows = []
    for dataset in datasets or sorted(CATALOG):
        m = load_manifest(dataset, directory)
        get = " ; ".join(m["get"])
        if root is not None:
            root = Path(root)
            variants_present = [v for v in m["variants"] if (root / v["path"]).exists()]
            for f in m["files"]:
                p = root / f["path"]
                row = {"dataset": dataset, "path": str(p), "split": f["split"]}
                if not p.exists():
                    same = [v for v in variants_present if v["split"] == f["split"]]
                    part = [v for v in variants_present if v not in same and
                            v["split"].split("-")[0] == f["split"].split("-")[0] and not v["split"].endswith("32")]
                    get_it = f"Get it: {get}." + (f" Or through tensorflow-datasets: {m['tfds']['name']}:"
                                                  f"{m['tfds']['version']}." if m.get("tfds") else "")
                    if same:
                        row["status"] = "ALT"
                        row["message"] = (f"{f['path']} is missing; the tasks read the accepted alternative "
                                          + "; ".join(f"{v['path']} ({v['note']})" for v in same)
                                          + f". The official file: {get_it}")
                    else:
                        row["status"] = "MISSING"
                        row["message"] = f"{f['path']} ({f['from']}) is missing. {get_it}"
                        if part:
                            row["message"] += " Present (part of it): " + "; ".join(v["path"] for v in part)
                elif p.is_dir() or f["sha256"] is None:
                    row["status"], row["message"] = "OK", f"{f['path']} present (no checksum recorded)"
                else:
                    sha = _sha256_file(p)
                    if sha == f["sha256"]:
                        row["status"], row["message"] = "OK", f"{f['path']} matches sha256 {sha[:12]}"
                    elif (f["sha256_source"] or "").startswith("official"):
                        row["status"] = "DIFFERS"
                        row["message"] = (f"{f['path']} has sha256 {sha[:12]}, the official file has {f['sha256'][:12]} "
                                          f"({p.stat().st_size} vs {f['bytes']} bytes). Get it again: {get}")
                    else:
                        row["status"] = "CHANGED"
                        row["message"] = (f"{f['path']} has sha256 {sha[:12]}, the reference copy recorded in the "
                                          f"manifest has {f['sha256'][:12]}; its records are checked against the "
                                          "pinned fingerprints when a cell uses it")
                rows.append(row)
            used = {r["message"] for r in rows if r["status"] == "ALT" and r["dataset"] == dataset}
            for v in variants_present:
                if any(v["path"] in msg for msg in used):
                    continue
                rows.append({"dataset": dataset, "path": str(root / v["path"]), "split": v["split"],
                             "status": "VARIANT", "message": f"{v['path']}: {v['note']}"})
        if archives is not None and m.get("tfds"):
            builder = m["tfds"]["name"].split("/")[0]
            for d in m["downloads"]:
                p = Path(archives) / builder / d["file"]
                if not p.exists():
                    p = Path(archives) / d["file"]
                row = {"dataset": dataset, "path": str(p), "split": "download"}
                if not p.exists():
                    row["status"], row["message"] = "MISSING", f"{d['file']} is missing; download {d['url']}"
                elif d["sha256"] and _sha256_file(p) != d["sha256"]:
                    row["status"] = "DIFFERS"
                    row["message"] = f"{d['file']} does not match the registered sha256 {d['sha256'][:12]}; download {d['url']}"
                else:
                    row["status"], row["message"] = "OK", f"{d['file']} ok"
                rows.append(row)
    return rows


def format_report(rows: list[dict]) -> str:
    lines = []
    for r in rows:
        lines.append(f"{r['status']:8s} {r['dataset']:32s} {r['message']}")
    counts = {s: sum(r["status"] == s for r in rows)
              for s in ("OK", "ALT", "VARIANT", "MISSING", "DIFFERS", "CHANGED")}
    lines.append("summary: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    return "\n".join(lines)


# ------------------------------------------------------------------------ CLI
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sam-bench data", description="dataset manifests: verify, pin, build")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("verify", help="check a data directory (and/or release archives) against data_manifests/")
    p.add_argument("--root", help="data root laid out like the official releases")
    p.add_argument("--archives", help="directory of release files for the tfds path (names as tfds registers them)")
    p.add_argument("--dataset", action="append", help="only these datasets (repeatable); default all")
    p.add_argument("--allow-changed", action="store_true",
                   help="exit 0 on CHANGED files (differ from the recorded reference copy); default: exit 1")
    p = sub.add_parser("pin", help="re-pin a dataset's subsamples to the training data at hand")
    p.add_argument("dataset")
    p.add_argument("--root", required=True, help="local data root, or tfds data_dir with --source tfds")
    p.add_argument("--source", default="local", choices=["local", "tfds"])
    p.add_argument("--archives", default=None)
    p.add_argument("--seeds", type=int, nargs="+", default=None)
    p = sub.add_parser("build", help="regenerate every manifest from the catalog")
    p.add_argument("--shared", default=None, help="../shared/data, for checksums, counts and fingerprints")
    p.add_argument("--dataset", action="append")
    p = sub.add_parser("show", help="summarise a manifest")
    p.add_argument("dataset")
    args = parser.parse_args(argv)

    if args.command == "verify":
        if not args.root and not args.archives:
            parser.error("verify needs --root and/or --archives")
        unknown = [d for d in (args.dataset or []) if d not in CATALOG]
        if unknown:
            parser.error(f"unknown dataset(s) {unknown}; valid: {sorted(CATALOG)}")
        rows = verify(args.root, args.dataset, args.archives)
        print(format_report(rows))
        # a CHANGED file feeds cells different records than the pinned subsamples were drawn from
        bad = {"MISSING", "DIFFERS"} | (set() if args.allow_changed else {"CHANGED"})
        return 1 if any(r["status"] in bad for r in rows) else 0
    if args.command == "pin":
        from sam_bench.data.sources import make_source

        kwargs = {"archives": args.archives} if args.source == "tfds" else {}
        m = pin(args.dataset, make_source(args.source, args.root, **kwargs), args.seeds)
        print(f"pinned {args.dataset}: " + ", ".join(f"{t} n={e['examples']} seeds={sorted(e['seeds'])}"
                                                     for t, e in m["subsamples"].items()))
        return 0
    if args.command == "build":
        for path in write_manifests(args.shared, datasets=args.dataset):
            print(path)
        return 0
    if args.command == "show":
        m = load_manifest(args.dataset)
        print(f"{m['dataset']}: {m['title']} (tasks {', '.join(m['tasks'])})")
        if m.get("tfds"):
            print(f"  tfds {m['tfds']['name']}:{m['tfds']['version']} - {m['tfds']['tensorflow_note']}")
        for s, e in m["splits"].items():
            print(f"  {s}: {e['examples']} examples ({e['source']})")
        for t, e in m["subsamples"].items():
            print(f"  subsamples {t}: n={e['examples']} rates {e['ladder']} counts {e['counts']} seeds {sorted(e['seeds'])}")
        return 0
    return 2  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())
