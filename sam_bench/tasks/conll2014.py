"""CoNLL-2014 grammatical error correction (Ng et al. 2014; FSAM Table 2 with BART).

Files under the data root (``conll2014/``):

* **test** (what FSAM Table 2 reports): the shared task's official gold file in M2 format,
  ``conll14st-test-data/noalt/official-2014.combined.m2`` as the release archive unpacks
  (1,312 sentences, annotators 0 and 1). An M2 block is one ``S <tokenised source>`` line, then
  ``A <start> <end>|||<type>|||<correction>[||<alternative>...]|||<required>|||<comment>|||<annotator>``
  lines (token offsets from 0; ``-NONE-`` = delete; ``A -1 -1|||noop|||...`` = that annotator
  made no edit), blocks separated by blank lines.
* **validation**: ``dev.m2``, a held-out M2 file (FSAM follows Chollampatt & Ng 2018, whose
  development set is 5,448 NUCLE sentences in M2 format).
* **train**: line-aligned parallel text ``train.src`` (tokenised source sentences) and
  ``train.trg`` (their corrections), one sentence per line, the form the GEC recipes train on
  (Chollampatt & Ng 2018's NUCLE + Lang-8 preprocessing yields 1.3M such pairs, and
  fairseq-style BART fine-tuning reads exactly this pair of files). A raw annotated corpus in M2
  (``train.m2``: NUCLE, or Lang-8 as the BEA-2019 release ships it) is accepted instead; its
  targets are made the way the M2-to-parallel scripts make them, by applying the edits of the
  sentence's first annotator. Parallel text is the primary form because the FSAM setup trains
  on the preprocessed pairs, not on the annotations, and two plain files need no conversion.

Records: ``{"id", "source", "target"}`` (+ ``"edits"``: ``[start, end, type, [corrections],
annotator]`` per ``A`` line, for M2 files). Text-to-text: the tokenised source sentence ->
the corrected sentence, without a task prefix (the task is trained alone, and BART's GEC
fine-tuning feeds the sentence as is). Postprocessing collapses whitespace (the scorer splits
on it). Metrics: MaxMatch precision, recall and F0.5 (×100) against the gold edits
(``sam_bench.tasks.m2``). ``m2_rows`` gives the per-sentence counts for the paired bootstrap
(``sam_bench.analysis.significance``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sam_bench.tasks.m2 import BETA, corpus_counts, gold_by_annotator, precision_recall_f
from sam_bench.data.spec import SourceSpec
from sam_bench.tasks.base import Task, UnlabeledSplitError
from sam_bench.tasks.formats import DataFormatError

__all__ = ["TASK", "parse_m2", "apply_edits", "m2_rows", "TEST_FILE"]

DIR = "conll2014"
TEST_FILE = f"{DIR}/conll14st-test-data/noalt/official-2014.combined.m2"


def apply_edits(source: str, edits) -> str:
    """The corrected sentence: ``source`` with the first annotator's edits (first correction each)."""
    tokens = source.split()
    if not edits:
        return " ".join(tokens)
    first = min(e[4] for e in edits)
    mine = sorted((e for e in edits if e[4] == first and e[2] != "noop" and e[0] >= 0), key=lambda e: e[:2])
    out, pos = [], 0
    for start, end, _, corrections, _ in mine:
        if start < pos:
            raise ValueError(f"annotator {first}'s edits overlap at token {start}")
        out += tokens[pos:start]
        if corrections[0] != "-NONE-":
            out += corrections[0].split()
        pos = end
    return " ".join(out + tokens[pos:])


def _parse_a(line: str, path, lineno: int, n_tokens: int) -> list:
    fields = line[2:].split("|||")
    if len(fields) != 6:
        raise DataFormatError(path, lineno, f"an A line has 6 '|||'-separated fields "
                              f"(offsets, type, corrections, required, comment, annotator); got {len(fields)}")
    offsets = fields[0].split()
    try:
        start, end, annotator = int(offsets[0]), int(offsets[1]), int(fields[5])
    except (ValueError, IndexError):
        raise DataFormatError(path, lineno, f"expected integer token offsets 'start end' and an integer annotator "
                              f"id, got {fields[0]!r} and {fields[5]!r}") from None
    etype = fields[1]
    if etype == "noop" or (start, end) == (-1, -1):
        return [-1, -1, "noop", ["-NONE-"], annotator]
    if not 0 <= start <= end <= n_tokens:
        raise DataFormatError(path, lineno, f"edit offsets {start} {end} lie outside the {n_tokens}-token source "
                              "sentence (valid: 0 <= start <= end <= number of tokens)")
    return [start, end, etype, fields[2].split("||"), annotator]


def parse_m2(text: str, path="<m2>") -> list[dict]:
    """Records of an M2 file's text; errors name the file and line."""
    records, block = [], []
    for lineno, line in enumerate(text.splitlines() + [""], start=1):
        if line.strip():
            block.append((lineno, line))
            continue
        if not block:
            continue
        (first_no, first), rest = block[0], block[1:]
        if not first.startswith("S "):
            raise DataFormatError(path, first_no, f"an M2 block starts with 'S <sentence>', got {first[:40]!r}")
        source = first[2:].strip()
        edits = []
        for no, a in rest:
            if not a.startswith("A "):
                raise DataFormatError(path, no, "expected an 'A ' edit line (one 'S' line per block, blocks separated "
                                      f"by a blank line), got {a[:40]!r}")
            edits.append(_parse_a(a, path, no, len(source.split())))
        try:
            target = apply_edits(source, edits)
        except ValueError as err:
            raise DataFormatError(path, first_no, str(err)) from None
        records.append({"id": str(len(records)), "source": source, "target": target, "edits": edits})
        block = []
    return records


def _read_parallel(src_path: Path) -> list[dict]:
    trg_path = src_path.with_suffix(".trg")
    if not trg_path.is_file():
        raise FileNotFoundError(f"{src_path} needs its line-aligned corrections {trg_path}")
    src = src_path.read_text(encoding="utf-8").splitlines()
    trg = trg_path.read_text(encoding="utf-8").splitlines()
    if len(src) != len(trg):
        raise DataFormatError(trg_path, min(len(src), len(trg)) + 1, f"{src_path.name} has {len(src)} lines but "
                              f"{trg_path.name} has {len(trg)}; the two files must be line-aligned")
    for i, (s, t) in enumerate(zip(src, trg), start=1):
        if not s.strip() or not t.strip():
            raise DataFormatError(src_path if not s.strip() else trg_path, i, "empty sentence")
    return [{"id": str(i), "source": s.strip(), "target": t.strip()} for i, (s, t) in enumerate(zip(src, trg))]


def _read(path: Path) -> list[dict]:
    path = Path(path)
    if path.suffix == ".m2":
        return parse_m2(path.read_text(encoding="utf-8"), path)
    if path.suffix == ".src":
        return _read_parallel(path)
    raise ValueError(f"CoNLL-2014 reads M2 files (*.m2) or parallel text (*.src + *.trg), not {path}")


def _annotations(examples) -> list[dict]:
    out = []
    for ex in examples:
        if "edits" not in ex:
            raise UnlabeledSplitError("task 'conll2014': an example has no gold edits (parallel training text is not "
                                      "scorable; M2 scoring needs an M2 split: validation or test)")
        out.append(gold_by_annotator(ex["source"], ex["edits"]))
    return out


def m2_rows(examples, predictions) -> np.ndarray:
    """``[N, 3]`` per-sentence (tp, fp, fn) of decoded ``predictions`` (annotators chosen in corpus
    order): the statistics ``paired_bootstrap(.., metric=f_beta_from_counts)`` resamples."""
    hyps = [_postprocess(p) for p in predictions]
    return corpus_counts([ex["source"] for ex in examples], hyps, _annotations(examples))


def _metric_fn(examples, values):
    rows = corpus_counts([ex["source"] for ex in examples], list(values), _annotations(examples))
    p, r, f = precision_recall_f(rows, BETA)
    return {"precision": 100.0 * p, "recall": 100.0 * r, "f0.5": 100.0 * f}


def _postprocess(text: str, example=None) -> str:
    return " ".join(text.split())


TASK = Task(
    name="conll2014",
    benchmark="gec",
    metric_names=("f0.5", "precision", "recall"),  # the headline first: a cell keeps its best F0.5 weights
    preprocessor=lambda ex: {"inputs": ex["source"], "targets": ex["target"]},
    postprocessor=_postprocess,
    metric_fn=_metric_fn,
    eval_split="test",
    paper_split="test",
    unlabeled_splits=(),
    source=SourceSpec(
        split_files=(("train", f"{DIR}/train.src"), ("validation", f"{DIR}/dev.m2"), ("test", TEST_FILE)),
        layout=(f"{DIR}/train.src + {DIR}/train.trg (or {DIR}/train.m2), {DIR}/dev.m2 and {TEST_FILE} "
                "(the CoNLL-2014 test release unpacked into conll2014/)"),
        companions=((f"{DIR}/train.src", (f"{DIR}/train.trg",)),),
        alternatives=(("train", (f"{DIR}/train.m2",)),),
        reader=_read,
    ),
)
