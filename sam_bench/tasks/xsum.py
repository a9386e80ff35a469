"""XSUM (extreme summarisation; the FSAM generation experiments).

Files (EdinburghNLP's release, as tensorflow-datasets' ``xsum`` 1.1.0 reads them):
``xsum/XSum-TRAINING-DEV-TEST-SPLIT-90-5-5.json`` ({"train": [ids], "validation": [...],
"test": [...]}) and the extracted articles ``xsum/xsum-extracts-from-downloads/<id>.data``
(or the archive ``xsum/xsum-extracts-from-downloads.tar.gz`` that tfds takes from its manual
dir). An article file holds ``[XSUM]URL[XSUM]``, ``[XSUM]INTRODUCTION[XSUM]`` (the one-sentence
summary) and ``[XSUM]RESTBODY[XSUM]`` (the document) sections; as tfds 1.1.0 does, blank lines
and the BBC page's share-button lines ("Share this with", "Email", ...) are dropped, and ids
whose file is missing are skipped (with a warning).

Records: {"id", "document", "summary"}. Text-to-text form: T5's ``summarize``
(``"summarize: {document}"`` -> summary). Metrics: ROUGE-1/2/L and ROUGE-Lsum F-measures
(rouge-score conventions, no stemming, as T5's ``metrics.rouge``).
"""

from __future__ import annotations

import logging
import tarfile
from pathlib import Path

import sam_bench.tasks.metrics as metrics
from sam_bench.data.spec import SourceSpec, TfdsSpec
from sam_bench.tasks.base import Task, UnlabeledSplitError
from sam_bench.tasks.formats import DataFormatError, read_json

log = logging.getLogger(__name__)

SPLIT_FILE = "xsum/XSum-TRAINING-DEV-TEST-SPLIT-90-5-5.json"
EXTRACTS = "xsum-extracts-from-downloads"
REMOVE_LINES = frozenset({
    "Share this with\n", "Email\n", "Facebook\n", "Messenger\n", "Twitter\n", "Pinterest\n", "WhatsApp\n",
    "Linkedin\n", "LinkedIn\n", "Copy this link\n", "These are external links and will open in a new window\n",
})


def parse_article(text_lines, path, ident: str) -> dict:
    text = "".join(line for line in text_lines if line not in REMOVE_LINES and line.strip())
    segs = text.split("[XSUM]")
    if len(segs) < 7:
        raise DataFormatError(path, None, "expected [XSUM]URL, [XSUM]INTRODUCTION and [XSUM]RESTBODY sections",
                              location=ident)
    return {"id": ident, "document": segs[6].strip(), "summary": segs[4].strip()}


def _split_reader(split: str):
    def read(path: Path) -> list[dict]:
        path = Path(path)
        ids = read_json(path)
        if not isinstance(ids, dict) or not isinstance(ids.get(split), list):
            raise DataFormatError(path, None, f'expected a JSON object with a "{split}" list of ids', split)
        folder = path.parent / EXTRACTS
        archive = path.parent / (EXTRACTS + ".tar.gz")
        out, missing = [], 0
        if folder.is_dir():
            for ident in ids[split]:
                f = folder / f"{ident}.data"
                if not f.is_file():
                    missing += 1
                    continue
                with open(f, encoding="utf-8") as fh:
                    out.append(parse_article(fh.readlines(), f, ident))
        elif archive.is_file():
            with tarfile.open(archive) as tar:
                members = {Path(m.name).name: m for m in tar.getmembers() if m.name.endswith(".data")}
                for ident in ids[split]:
                    m = members.get(f"{ident}.data")
                    if m is None:
                        missing += 1
                        continue
                    text = tar.extractfile(m).read().decode("utf-8")
                    out.append(parse_article(text.splitlines(keepends=True), f"{archive}!{m.name}", ident))
        else:
            raise FileNotFoundError(f"XSUM needs the extracted articles {folder}/ (or {archive})")
        if missing:
            log.warning("xsum %s: %d of %d articles missing (skipped, as tensorflow-datasets does)",
                        split, missing, len(ids[split]))
        return out

    return read


class _XsumReader:
    """Dispatches on the split (all three splits are defined by one id file)."""

    takes_split = True

    def __call__(self, path: Path, split: str = "train") -> list[dict]:
        return _split_reader(split)(path)


def _metric_fn(examples, values):
    refs = []
    for ex in examples:
        if not ex.get("summary"):
            raise UnlabeledSplitError("task 'xsum': an example has no reference summary")
        refs.append(ex["summary"])
    r = metrics.rouge(list(values), refs, keys=("rouge1", "rouge2", "rougeL", "rougeLsum"),
                      split_sentences_on_period=True)
    return {k: 100.0 * v for k, v in r.items()}


TASK = Task(
    name="xsum",
    benchmark="summarization",
    metric_names=("rouge1", "rouge2", "rougeL", "rougeLsum"),
    preprocessor=lambda ex: {"inputs": f"summarize: {ex['document']}", "targets": ex["summary"]},
    postprocessor=lambda text, example=None: text,
    metric_fn=_metric_fn,
    paper_split="test",
    unlabeled_splits=(),
    source=SourceSpec(
        split_files=(("train", SPLIT_FILE), ("validation", SPLIT_FILE), ("test", SPLIT_FILE)),
        layout=f"{SPLIT_FILE} and xsum/{EXTRACTS}/<id>.data (or xsum/{EXTRACTS}.tar.gz)",
        companions=((SPLIT_FILE, (f"xsum/{EXTRACTS}", f"xsum/{EXTRACTS}.tar.gz")),),
        reader=_XsumReader(),
        tfds=TfdsSpec((("train", "train"), ("validation", "validation"), ("test", "test")),
                      lambda key, ex: {"id": str(key), "document": ex["document"], "summary": ex["summary"]}),
    ),
)

__all__ = ["TASK", "parse_article", "REMOVE_LINES"]
