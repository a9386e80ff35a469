"""A deterministic synthetic world, written in the real datasets' file formats.

The world (``sam_bench.data.synthetic_world``): invented countries, each with one value for
each of seven attributes drawn from small closed sets, all lower case.

From the world, ``write_synthetic_suite(root, seed)`` writes, under ``root``, the same
layout as the real releases (so the same task loaders, preprocessing and metrics run on
both)::

    corpus/pretrain.txt                one document per line; EVERY fact of EVERY entity,
                                       each stated in ``paraphrases_per_fact`` different
                                       phrasings, mixed with filler sentences
    nq_open/NQ-open.{train,dev}.jsonl  {"question", "answer": [..]}; split by ENTITY: dev
                                       questions are about entities with no train question,
                                       whose facts are only in the corpus
    super_glue/CB/{train,val}.jsonl    {"premise", "hypothesis", "label", "idx"}
    stsbenchmark/sts-{train,dev}.csv   tab-separated genre, file, year, id, score, s1, s2
    synthetic_world.json               the world itself (entities, facts, entity split);
                                       not part of any real layout, for diagnostics
    (every other dataset)              with ``all_tasks`` (default): generated examples in the
                                       official layout of every other task of the registry
                                       (``sam_bench.data.fixtures``), made of the world's words,
                                       so that any task or mixture runs on the synthetic source.
                                       They carry no learnable signal.

Train/dev of every task use disjoint entity sets (the same split for all tasks).

Task construction:

* NQ: one question per (entity, attribute, question phrasing): 2 phrasings per attribute.
  River, century and province questions have two acceptable answers
  (["kelva", "kelva river"], ["third century", "third"], ["seven", "7"]).
* CB: the premise is one or two true fact sentences about an entity; the hypothesis
  (no final period, like CB) is a sentence about the same entity in the phrasing the
  example uses for its attribute: it restates a premise fact (entailment), gives that
  attribute another value (contradiction), or states an attribute the premise does not
  mention (neutral, random value). Labels are drawn uniformly. The label is a function of
  the text alone (which attribute, and whether the value matches the premise's), so a
  small model can learn it from the training set; how fast depends on how much of it it
  sees (the data-rate axis of the report).
* STS-B: pairs of fact sentences with a score the generator defines by category::

      same entity, attribute, value, other phrasing   4.4-4.9  (same phrasing: 5.0)
      same entity and attribute, other value          2.8-3.6
      other entity, same attribute and value          2.0-2.8
      same entity, other attribute                    1.2-2.0
      other entity, same attribute, other value       0.6-1.2
      other entity, other attribute                   0.0-0.6

  Within a range, pairs written in the same phrasing score in the upper half, so the
  score is mostly (not entirely) predictable from the text. Written with two decimals.

Determinism: all randomness comes from ``np.random.default_rng`` streams derived from
``seed``; the same seed gives byte-identical files. Files are written atomically.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import numpy as np

from sam_bench.data.fixtures import write_official_files
from sam_bench.data.synthetic_world import (
    ATTRIBUTES,
    FILLERS,
    World,
    answers_for,
    build_world,
    fact_sentence,
    other_value,
    pick,
    template_words,
)
from sam_bench.io import atomic_write

__all__ = ["SuiteSizes", "make_corpus", "make_nq", "make_cb", "make_stsb", "write_synthetic_suite"]



# -------------------------------------------------------------------------- corpus
def _filler(rng, entity: str) -> str:
    t = pick(rng, FILLERS)
    return t.format(e=entity, n=int(rng.integers(2, 100)), x=int(rng.integers(1, 10)), y=int(rng.integers(0, 10)))


def make_corpus(world: World, paraphrases_per_fact: int, rng) -> list[str]:
    """Documents: for each entity and paraphrase round, its facts (one phrasing per round,
    a different phrasing each round) shuffled into documents of 2-4 facts plus 0-2 fillers."""
    n_tpl = min(len(a.statements) for a in ATTRIBUTES)
    if not 1 <= paraphrases_per_fact <= n_tpl:
        raise ValueError(f"paraphrases_per_fact must be in [1, {n_tpl}], got {paraphrases_per_fact}")
    docs: list[str] = []
    for e in world.entities:
        offset = int(rng.integers(n_tpl))
        for r in range(paraphrases_per_fact):
            sentences = [
                fact_sentence(e, a.key, world.facts[e][a.key], (offset + r) % n_tpl) for a in ATTRIBUTES
            ]
            sentences = [sentences[i] for i in rng.permutation(len(sentences))]
            while sentences:
                k = int(rng.integers(2, 5))
                doc, sentences = sentences[:k], sentences[k:]
                for _ in range(int(rng.integers(0, 3))):
                    doc.insert(int(rng.integers(len(doc) + 1)), _filler(rng, e))
                docs.append(" ".join(doc))
    return [docs[i] for i in rng.permutation(len(docs))]


# ------------------------------------------------------------------------------ NQ
def make_nq(world: World, entities) -> list[dict]:
    out = []
    for e in entities:
        for a in ATTRIBUTES:
            for q in a.questions:
                out.append({"question": q.format(e=e), "answer": answers_for(a.key, world.facts[e][a.key])})
    return out


# ------------------------------------------------------------------------------ CB
def make_cb(world: World, entities, n: int, rng) -> list[dict]:
    n_tpl = len(ATTRIBUTES[0].statements)
    keys = [a.key for a in ATTRIBUTES]
    out = []
    for idx in range(n):
        e = pick(rng, entities)
        n_prem = int(rng.integers(1, 3))
        prem_attrs = [keys[i] for i in rng.choice(len(keys), size=n_prem, replace=False)]
        templates = {a: int(rng.integers(n_tpl)) for a in keys}  # one phrasing per attribute and example
        premise = " ".join(fact_sentence(e, a, world.facts[e][a], templates[a]) for a in prem_attrs)
        label = ("entailment", "contradiction", "neutral")[int(rng.integers(3))]
        a = pick(rng, prem_attrs)
        if label == "entailment":  # the premise's fact, in the premise's phrasing
            hyp_a, hyp_v = a, world.facts[e][a]
        elif label == "contradiction":  # the premise's sentence with another value
            hyp_a, hyp_v = a, other_value(rng, world, a, world.facts[e][a])
        else:  # an attribute the premise does not mention (a random value)
            hyp_a = pick(rng, [k for k in keys if k not in prem_attrs])
            hyp_v = pick(rng, world.values[hyp_a])
        hypothesis = fact_sentence(e, hyp_a, hyp_v, templates[hyp_a]).rstrip(".")
        out.append({"premise": premise, "hypothesis": hypothesis, "label": label, "idx": idx})
    return out


# ---------------------------------------------------------------------------- STS-B
_STS_RANGES = {
    "same": (4.4, 4.9),
    "same_fact_other_value": (2.8, 3.6),
    "other_entity_same_fact": (2.0, 2.8),
    "same_entity_other_attr": (1.2, 2.0),
    "other_entity_other_value": (0.6, 1.2),
    "unrelated": (0.0, 0.6),
}


def make_stsb(world: World, entities, n: int, rng) -> list[tuple[str, str, float]]:
    n_tpl = len(ATTRIBUTES[0].statements)
    keys = [a.key for a in ATTRIBUTES]
    cats = list(_STS_RANGES)
    out = []
    for _ in range(n):
        cat = cats[int(rng.integers(len(cats)))]
        e1 = pick(rng, entities)
        e2 = pick(rng, [x for x in entities if x != e1])
        a1 = pick(rng, keys)
        a2 = pick(rng, [k for k in keys if k != a1])
        v1 = world.facts[e1][a1]
        t1 = int(rng.integers(n_tpl))
        t2 = t1 if rng.random() < 0.5 else int(rng.integers(n_tpl))  # half the pairs share a phrasing
        if cat == "same":
            pair = ((e1, a1, v1), (e1, a1, v1))
        elif cat == "same_fact_other_value":
            pair = ((e1, a1, v1), (e1, a1, other_value(rng, world, a1, v1)))
        elif cat == "other_entity_same_fact":
            pair = ((e1, a1, v1), (e2, a1, v1))
        elif cat == "same_entity_other_attr":
            pair = ((e1, a1, v1), (e1, a2, world.facts[e1][a2]))
        elif cat == "other_entity_other_value":
            pair = ((e1, a1, v1), (e2, a1, other_value(rng, world, a1, v1)))
        else:
            pair = ((e1, a1, v1), (e2, a2, world.facts[e2][a2]))
        same_tpl = t1 == t2 and pair[0][1] == pair[1][1]
        lo, hi = _STS_RANGES[cat]
        if cat == "same" and same_tpl:
            score = 5.0
        else:
            score = lo + (hi - lo) * (0.5 * float(same_tpl) + 0.5 * float(rng.random()))
        s1 = fact_sentence(*pair[0], t1)
        s2 = fact_sentence(*pair[1], t2)
        if rng.random() < 0.5:
            s1, s2 = s2, s1
        out.append((s1, s2, round(score, 2)))
    return out


# ---------------------------------------------------------------------------- writing
def _jsonl(records) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


def _sts_lines(rows, seed: int) -> str:
    return "".join(
        f"main-synthetic\tworld-s{seed}\tsynthetic\t{i:04d}\t{score:.2f}\t{s1}\t{s2}\n"
        for i, (s1, s2, score) in enumerate(rows)
    )


@dataclasses.dataclass(frozen=True)
class SuiteSizes:
    """How much of each product the suite holds (the world's size is ``build_world``'s)."""

    paraphrases_per_fact: int = 3  # phrasings of each fact in the corpus
    cb_train: int = 1200
    cb_dev: int = 250
    stsb_train: int = 1500
    stsb_dev: int = 300
    other_train: int = 200  # examples per split of every other task (``all_tasks``)
    other_eval: int = 50


def write_synthetic_suite(root: str | Path, seed: int = 0, sizes: SuiteSizes = SuiteSizes(), all_tasks: bool = True,
                          **world_options) -> dict:
    """Write the synthetic pretraining corpus and tasks under ``root``; return the sizes.
    ``world_options`` are ``build_world``'s (``n_entities``, ``dev_entity_fraction``, ...).

    Returns {"cb": {"train": n, "validation": n}, "stsb": {...}, "natural_questions": {...},
    "corpus": {"documents", "bytes", "fact_sentences"}, "world": {"entities",
    "train_entities", "dev_entities", "words"}, "other_tasks": sizes per split of the
    generated files of every other task, or None} where "words" counts the distinct words
    of the world's texts (corpus, CB, STS-B, NQ).
    """
    root = Path(root)
    world = build_world(seed, **world_options)
    # independent streams per product: changing one size does not reshuffle the others
    corpus = make_corpus(world, sizes.paraphrases_per_fact, np.random.default_rng([seed, 1]))
    nq_train = make_nq(world, world.train_entities)
    nq_dev = make_nq(world, world.dev_entities)
    cb_train = make_cb(world, world.train_entities, sizes.cb_train, np.random.default_rng([seed, 2]))
    cb_dev = make_cb(world, world.dev_entities, sizes.cb_dev, np.random.default_rng([seed, 3]))
    sts_train = make_stsb(world, world.train_entities, sizes.stsb_train, np.random.default_rng([seed, 4]))
    sts_dev = make_stsb(world, world.dev_entities, sizes.stsb_dev, np.random.default_rng([seed, 5]))

    corpus_text = "".join(d + "\n" for d in corpus)
    files = {
        "corpus/pretrain.txt": corpus_text,
        "nq_open/NQ-open.train.jsonl": _jsonl(nq_train),
        "nq_open/NQ-open.dev.jsonl": _jsonl(nq_dev),
        "super_glue/CB/train.jsonl": _jsonl(cb_train),
        "super_glue/CB/val.jsonl": _jsonl(cb_dev),
        "stsbenchmark/sts-train.csv": _sts_lines(sts_train, seed),
        "stsbenchmark/sts-dev.csv": _sts_lines(sts_dev, seed),
        "synthetic_world.json": json.dumps(
            {
                "seed": seed,
                "attributes": [a.key for a in ATTRIBUTES],
                "values": {k: list(v) for k, v in world.values.items()},
                "facts": world.facts,
                "train_entities": list(world.train_entities),
                "dev_entities": list(world.dev_entities),
            },
            indent=1,
        )
        + "\n",
    }
    for rel, text in files.items():
        atomic_write(root / rel, text)
    other = None
    if all_tasks:
        vocab = sorted(template_words() | set(world.entities) | {v for vs in world.values.values() for v in vs})
        write_official_files(root, seed=seed, n_train=sizes.other_train, n_eval=sizes.other_eval, n_test=sizes.other_eval,
                             words=vocab, skip=("super_glue_cb", "glue_stsb", "natural_questions_open"),
                             edge_cases=False)
        other = {"train": sizes.other_train, "validation": sizes.other_eval, "test": sizes.other_eval}

    texts = list(corpus)
    texts += [r["question"] + " " + " ".join(r["answer"]) for r in nq_train + nq_dev]
    texts += [" ".join((r["premise"], r["hypothesis"], r["label"])) for r in cb_train + cb_dev]
    texts += [s1 + " " + s2 for s1, s2, _ in sts_train + sts_dev]
    words = set(re.findall(r"[a-z]+", " ".join(texts)))
    return {
        "cb": {"train": len(cb_train), "validation": len(cb_dev)},
        "stsb": {"train": len(sts_train), "validation": len(sts_dev)},
        "natural_questions": {"train": len(nq_train), "validation": len(nq_dev)},
        "corpus": {
            "documents": len(corpus),
            "bytes": len(corpus_text.encode("utf-8")),
            "fact_sentences": len(world.entities) * len(ATTRIBUTES) * sizes.paraphrases_per_fact,
        },
        "world": {
            "entities": len(world.entities),
            "train_entities": len(world.train_entities),
            "dev_entities": len(world.dev_entities),
            "words": len(words),
        },
        "other_tasks": other,
    }
