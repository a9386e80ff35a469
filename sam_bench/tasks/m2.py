"""The MaxMatch (M2) scorer of grammatical error correction (Dahlmeier & Ng 2012), as the
official scorer of the CoNLL-2014 shared task (m2scorer 3.2) computes it.

No maintained implementation installs here: ``m2scorer`` is not a package-index package (the
official release is a Python 2 script), and ``errant`` installs but needs a spaCy English model
that is not a registry package. So this module implements the reference algorithm.

Input: the tokenised source sentence, the system's hypothesis (both split on whitespace) and the
gold edits of one or more annotators, each edit ``(start, end, original, corrections)`` in source
token offsets (an M2 ``A`` line; ``original`` is the source tokens ``start:end`` joined by one
space; ``-NONE-`` as a correction is the empty string).

1. **Edit lattice.** The Levenshtein alignments of source to hypothesis tokens, with unit
   insertion/deletion cost and substitution cost 1 and 2 (the union of both lattices): every
   move of every optimal alignment, from the end cell back, is an arc of unit length, labelled
   ``noop`` (equal tokens), ``sub``, ``del`` or ``ins``.
2. **Transitive arcs.** Any lattice path from vertex ``u`` to ``v`` becomes one arc, i.e. one
   candidate edit replacing source tokens ``u.i:v.i`` by hypothesis tokens ``u.j:v.j``, if it
   passes through at most ``max_unchanged_words`` (2) unchanged tokens; its length is the
   number of unit arcs it spans. Composite arcs made only of ``noop`` moves are dropped.
3. **Weights, per annotator.** An arc whose edit equals a gold edit (same offsets, same
   original, its correction among the gold corrections) weighs ``-|E|`` (|E| = number of
   arcs); any other edit arc weighs its length + 0.001, a ``noop`` arc its length. Among
   insertions at one source position, a gold insertion is given to at most one arc, matched
   alternately from the left and the right end of the sorted arcs (the reference's fix for
   repeated insertions, m2scorer README §4.3).
4. **Shortest path** from (0, 0) to (n, m): the path that matches the most gold edits, then
   needs the fewest and shortest edits. Its non-``noop`` arcs are the system edits.
5. **Counts.** An edit is correct if it matches a gold edit at or after the last matched one
   (both in order). For a sentence with several annotators, the annotator chosen is the one that
   maximises the corpus F_beta of the counts so far plus this sentence (ties: more correct,
   then fewer proposed + beta² gold), in ascending annotator order. Precision = correct /
   proposed, recall = correct / gold (1.0 where the denominator is 0), F_beta from them
   (0.0 when both are 0), over the summed counts of the corpus.

Defaults as the official scorer: ``max_unchanged_words=2``, ``beta=0.5``,
``ignore_whitespace_casing=False`` (True drops system edits that only change case or spacing).

Deviations from the reference code (docs/conll2014.md gives the measured agreement):

* Insertions before the first source token get offset 0, as in the reference repository since
  its 2016 fix (commit d12eea2, "edits the initialization of L-matrix"); release 3.2 gives them
  the hypothesis position, so it never credits a gold insertion of two or more tokens at the
  start of a sentence.
* Ties between equally cheap edit sequences: the reference decides them by artefacts of its
  arc list (Bellman–Ford over arcs in insertion order; an arc listed again each time
  Floyd–Warshall finds a shorter path to it gets EPSILON once per listing). Here the shortest
  path is found in topological order, ties going to the longer arc, then the first
  predecessor; of the reference's duplicates only the unit arcs present in both lattices are
  reproduced (they count twice in |E| and get EPSILON twice, as there).
* Where two lattice paths join the same two vertices with the same length but a different
  number of unchanged tokens, the arc keeps the smaller number (the reference: the first found).
* Annotations are per sentence (one ``S`` line per block, as in the CoNLL-2014 files); edits
  outside the sentence are an error rather than dropped silently.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["GoldEdit", "gold_by_annotator", "system_edits", "sentence_counts", "corpus_counts",
           "precision_recall_f", "m2_score", "MAX_UNCHANGED_WORDS", "BETA"]

MAX_UNCHANGED_WORDS = 2
BETA = 0.5
EPSILON = 0.001

#: (start, end, original, corrections): one gold edit in source token offsets
GoldEdit = tuple[int, int, str, tuple[str, ...]]
Vertex = tuple[int, int]


def gold_by_annotator(source: str, edits: Sequence[Sequence]) -> dict[int, list[GoldEdit]]:
    """Gold edits per annotator from M2 ``A`` fields ``(start, end, type, corrections, annotator)``
    (corrections as written, ``-NONE-`` for none). A ``noop`` edit (or offsets -1 -1) gives its
    annotator an empty edit list; a sentence without annotations has one annotator (0) with none."""
    tokens = source.split()
    out: dict[int, list[GoldEdit]] = {}
    for start, end, etype, corrections, annotator in edits:
        gold = out.setdefault(int(annotator), [])
        if etype == "noop" or (start, end) == (-1, -1):
            continue
        if not 0 <= start <= end <= len(tokens):
            raise ValueError(f"gold edit {start} {end} lies outside the {len(tokens)}-token source {source!r}")
        corr = tuple("" if c == "-NONE-" else c.strip() for c in corrections)
        gold.append((int(start), int(end), " ".join(tokens[start:end]), corr))
    return dict(sorted(out.items())) or {0: []}


# ------------------------------------------------------------------ lattice
def _alignment_arcs(src: list[str], hyp: list[str]) -> dict[tuple[Vertex, Vertex], tuple[str, int]]:
    """Unit arcs (u, v) -> (kind, in how many of the two lattices) of all optimal alignments under
    substitution cost 1 and 2."""
    n, m = len(src), len(hyp)
    arcs: dict[tuple[Vertex, Vertex], tuple[str, int]] = {}
    for sub_cost in (1, 2):
        d = [[0] * (m + 1) for _ in range(n + 1)]
        back: dict[Vertex, list[tuple[Vertex, str]]] = {}
        for i in range(1, n + 1):
            d[i][0] = i
            back[(i, 0)] = [((i - 1, 0), "del")]
        for j in range(1, m + 1):
            d[0][j] = j
            back[(0, j)] = [((0, j - 1), "ins")]
        for i in range(1, n + 1):
            for j in range(1, m + 1):
                same = src[i - 1] == hyp[j - 1]
                moves = ((d[i - 1][j - 1] + (0 if same else sub_cost), (i - 1, j - 1), "noop" if same else "sub"),
                         (d[i - 1][j] + 1, (i - 1, j), "del"), (d[i][j - 1] + 1, (i, j - 1), "ins"))
                best = min(c for c, _, _ in moves)
                d[i][j] = best
                back[(i, j)] = [(u, kind) for c, u, kind in moves if c == best]
        stack, seen = [(n, m)], {(n, m)}
        while stack:  # only the moves on an optimal path to the end cell
            v = stack.pop()
            for u, kind in back.get(v, ()):
                arcs[(u, v)] = (kind, arcs[(u, v)][1] + 1 if (u, v) in arcs else 1)
                if u not in seen:
                    seen.add(u)
                    stack.append(u)
    return arcs


def _transitive_arcs(unit: Mapping[tuple[Vertex, Vertex], tuple[str, int]], max_unchanged: int) -> dict:
    """(u, v) -> (length, kind, copies) of every arc: unit arcs and the paths they chain into with
    at most ``max_unchanged`` noop moves (all-noop chains dropped)."""
    succ: dict[Vertex, list[tuple[Vertex, str]]] = defaultdict(list)
    for (u, v), (kind, _) in unit.items():
        succ[u].append((v, kind))
    order = sorted(set(succ) | {v for _, v in unit})  # lexicographic = topological order
    arcs = {}
    for start, u in enumerate(order):
        if u not in succ:
            continue
        best = {u: (0, 0, "")}  # vertex -> (length, unchanged, kind) of the chosen path from u
        for w in order[start:]:
            if w not in best:
                continue
            length, unchanged, kind = best[w]
            for x, k in succ.get(w, ()):
                n_unchanged = unchanged + (k == "noop")
                if n_unchanged > max_unchanged:
                    continue
                old = best.get(x)
                if old is None or (length + 1, n_unchanged) < old[:2]:
                    best[x] = (length + 1, n_unchanged, k if kind in ("", k) else "sub")
        del best[u]
        for v, (length, _, kind) in best.items():
            if length == 1:
                arcs[(u, v)] = (1, kind, unit[(u, v)][1])
            elif kind != "noop":
                arcs[(u, v)] = (length, kind, 1)
    return arcs


def _matches(edit, gold: GoldEdit) -> bool:
    return edit[0] == gold[0] and edit[1] == gold[1] and edit[2] == gold[2] and edit[3] in gold[3]


def _same_ignoring_whitespace_casing(a: str, b: str) -> bool:
    return a.replace(" ", "").lower() == b.replace(" ", "").lower()


class _Lattice:
    """The arcs of one (source, hypothesis) pair and what its annotators share: the weights of
    arcs no gold edit can match, the incoming arcs of each vertex, the arcs of each source span.
    Edit strings are made only for arcs a gold edit could match and for the chosen path."""

    def __init__(self, source: str, hypothesis: str, max_unchanged_words: int):
        self.src, self.hyp = source.split(), hypothesis.split()
        self.arcs = _transitive_arcs(_alignment_arcs(self.src, self.hyp), max_unchanged_words)
        self.end = (len(self.src), len(self.hyp))
        # a non-gold arc weighs its length, +EPSILON per listing for an edit (see the docstring)
        self.base = {a: length + (EPSILON * copies if kind != "noop" else 0.0)
                     for a, (length, kind, copies) in self.arcs.items()}
        self.size = float(sum(copies for _, _, copies in self.arcs.values()))  # |E|
        into, self.by_span = defaultdict(list), defaultdict(list)
        for a, (length, _, copies) in self.arcs.items():
            into[a[1]].append((-length, a[0]))
            self.by_span[(a[0][0], a[1][0])] += [a] * copies
        # topological order; ties go to the longest arc (the reference relaxes its transitive
        # arcs after the lattice's own), then the first predecessor
        self.into = [(v, sorted(into[v])) for v in sorted(into)]

    def edit(self, arc) -> tuple[int, int, str, str]:
        (i1, j1), (i2, j2) = arc
        return i1, i2, " ".join(self.src[i1:i2]), " ".join(self.hyp[j1:j2])

    def weights(self, gold: Sequence[GoldEdit]) -> dict:
        """Arc weights for one annotator: -|E| for an arc matching a gold edit. Among insertions
        at one position each gold insertion goes to one arc, matched from both ends of the
        sorted arcs inwards (the reference's handling of repeated insertions)."""
        weight = dict(self.base)
        golds_at = defaultdict(list)
        for g in gold:
            golds_at[g[:2]].append(g)
        for span, golds in golds_at.items():
            group = sorted(self.by_span.get(span, ()))
            if not group:
                continue
            for a in group:
                weight[a] = float(self.arcs[a][0])
            edits = {a: self.edit(a) for a in group}
            if span[0] != span[1]:  # deletions, substitutions, noops: any arc may take any gold edit
                for a in group:
                    if any(_matches(edits[a], g) for g in golds):
                        weight[a] = -self.size
                    elif self.arcs[a][1] != "noop":
                        weight[a] += EPSILON
                continue
            lo, hi, cur, g_lo, g_hi = 0, len(group) - 1, 0, 0, len(golds) - 1
            while lo <= hi:
                a = group[cur]
                order = range(g_lo, g_hi + 1) if cur == lo else range(g_hi, g_lo - 1, -1)
                hit = next((k for k in order if _matches(edits[a], golds[k])), None)
                if hit is None:
                    weight[a] += EPSILON
                    if cur == lo:
                        lo, cur = lo + 1, hi
                    else:
                        hi, cur = hi - 1, lo
                    continue
                weight[a] = -self.size
                if cur == lo:
                    g_lo, lo = hit + 1, lo + 1
                    while lo < len(group) and group[lo][0] != a[1]:  # not chained after the match
                        weight[group[lo]] += EPSILON
                        lo += 1
                    cur = lo
                else:
                    g_hi, hi = hit - 1, hi - 1
                    while hi >= 0 and group[hi][1] != a[0]:
                        weight[group[hi]] += EPSILON
                        hi -= 1
                    cur = hi
        return weight

    def shortest_path(self, weight) -> list:
        dist, pred = {(0, 0): 0.0}, {}
        for v, incoming in self.into:
            best, arg = float("inf"), None
            for _, u in incoming:
                du = dist.get(u)
                if du is not None and du + weight[(u, v)] < best:
                    best, arg = du + weight[(u, v)], u
            if arg is not None:
                dist[v], pred[v] = best, arg
        path, v = [], self.end
        while v in pred:
            path.append((pred[v], v))
            v = pred[v]
        return path[::-1]

    def system_edits(self, gold: Sequence[GoldEdit], ignore_whitespace_casing: bool = False):
        path = self.shortest_path(self.weights(gold))
        edits = [self.edit(a) for a in path if self.arcs[a][1] != "noop"]
        if ignore_whitespace_casing:
            edits = [e for e in edits if not _same_ignoring_whitespace_casing(e[2], e[3])]
        return edits


def _correct(system: Sequence, gold: Sequence[GoldEdit]) -> int:
    """Edits matching gold edits in order (a gold edit is used once; matching moves forward)."""
    n, nxt = 0, 0
    for e in system:
        hit = next((k for k in range(nxt, len(gold)) if _matches(e, gold[k])), None)
        if hit is not None:
            n, nxt = n + 1, hit + 1
    return n


def system_edits(source: str, hypothesis: str, gold: Sequence[GoldEdit] = (), *,
                 max_unchanged_words: int = MAX_UNCHANGED_WORDS, ignore_whitespace_casing: bool = False):
    """The system's edits ``(start, end, original, correction)`` as the scorer extracts them
    against one annotator's ``gold`` edits (left to right)."""
    return _Lattice(source, hypothesis, max_unchanged_words).system_edits(gold, ignore_whitespace_casing)


def _f(correct: float, proposed: float, gold: float, beta: float) -> float:
    denom = beta * beta * gold + proposed
    return (1 + beta * beta) * correct / denom if denom else (1.0 if correct == 0 else 0.0)


def sentence_counts(source: str, hypothesis: str, annotators: Mapping[int, Sequence[GoldEdit]], *,
                    so_far=(0, 0, 0), beta: float = BETA, max_unchanged_words: int = MAX_UNCHANGED_WORDS,
                    ignore_whitespace_casing: bool = False) -> tuple[int, int, int]:
    """(correct, proposed, gold) of one sentence, for the annotator that maximises F_beta of the
    corpus counts ``so_far`` (correct, proposed, gold) plus this sentence."""
    lattice = _Lattice(source, hypothesis, max_unchanged_words)
    best, best_key = None, None
    for _, gold in sorted(annotators.items()):
        edits = lattice.system_edits(gold, ignore_whitespace_casing)
        counts = (_correct(edits, gold), len(edits), len(gold))
        c, p, g = (x + y for x, y in zip(so_far, counts))
        key = (_f(c, p, g, beta), c, -(p + beta * beta * g))
        if best_key is None or key > best_key:
            best, best_key = counts, key
    if best is None:
        raise ValueError(f"no annotator for the sentence {source!r}")
    return best


def corpus_counts(sources: Sequence[str], hypotheses: Sequence[str],
                  annotations: Sequence[Mapping[int, Sequence[GoldEdit]]], **kwargs) -> np.ndarray:
    """``[N, 3]`` per-sentence (tp, fp, fn) = (correct, proposed − correct, gold − correct),
    annotators chosen in corpus order as the official scorer does. Summed rows give the
    corpus counts; ``precision_recall_f`` (or the bootstrap's ``f_beta_from_counts``) scores them."""
    if not len(sources) == len(hypotheses) == len(annotations):
        raise ValueError(f"M2 scoring needs one hypothesis and one annotation per source sentence; got "
                         f"{len(sources)} sources, {len(hypotheses)} hypotheses, {len(annotations)} annotations")
    rows, total = [], (0, 0, 0)
    for src, hyp, ann in zip(sources, hypotheses, annotations):
        c, p, g = sentence_counts(src, hyp, ann, so_far=total, **kwargs)
        total = (total[0] + c, total[1] + p, total[2] + g)
        rows.append((c, p - c, g - c))
    return np.asarray(rows, dtype=np.int64).reshape(-1, 3)


def precision_recall_f(rows, beta: float = BETA) -> tuple[float, float, float]:
    """(P, R, F_beta) in [0, 1] from (tp, fp, fn) rows, summed (the scorer's corpus figures)."""
    tp, fp, fn = (float(x) for x in np.asarray(rows, np.float64).reshape(-1, 3).sum(axis=0))
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = (1 + beta * beta) * p * r / (beta * beta * p + r) if beta * beta * p + r else 0.0
    return p, r, f


def m2_score(sources, hypotheses, annotations, **kwargs) -> dict[str, float]:
    """{"precision", "recall", "f0.5"} in [0, 1], as ``m2scorer SYSTEM SOURCE_GOLD`` prints them."""
    beta = kwargs.get("beta", BETA)
    p, r, f = precision_recall_f(corpus_counts(sources, hypotheses, annotations, **kwargs), beta)
    return {"precision": p, "recall": r, f"f{beta:g}": f}
