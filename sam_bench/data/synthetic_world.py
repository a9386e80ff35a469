"""The synthetic world: invented countries and their facts, and the sentences that state them.

``n_entities`` invented countries with syllable-built names ("varotel"), each with one value
for each of seven attributes drawn from small closed sets (capital city, main river, flag
colour, national animal, founding century, number of provinces, language). Everything is
lower case (like NQ-open questions), so the same word is the same token sequence in the
corpus, in the questions and in the answers. The entities are split into train and dev
(disjoint; the same split for every task). ``sam_bench.data.synthetic`` writes the world's
corpus and tasks in the real datasets' file formats.

Determinism: all randomness comes from ``np.random.default_rng`` streams derived from ``seed``.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np

__all__ = ["ATTRIBUTES", "Attribute", "FILLERS", "World", "answers_for", "build_world", "fact_sentence",
           "other_value", "pick", "template_words"]


@dataclasses.dataclass(frozen=True)
class Attribute:
    key: str
    values: tuple[str, ...] | None  # None: values are generated names (see build_world)
    statements: tuple[str, ...]  # {e} entity, {v} value, {d} digits of a number value
    questions: tuple[str, ...]
    answer_forms: tuple[str, ...] = ("{v}",)  # acceptable answers; the first is the target


_NUMBER_WORDS = ("three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")
_DIGITS = {w: str(i + 3) for i, w in enumerate(_NUMBER_WORDS)}

ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute(
        "capital",
        None,
        (
            "the capital of {e} is {v}.",
            "{e} has its capital at {v}.",
            "{v} is the capital city of {e}.",
            "the government of {e} sits in {v}.",
        ),
        ("what is the capital of {e}", "which city is the capital of {e}"),
    ),
    Attribute(
        "river",
        None,
        (
            "the {v} river flows through {e}.",
            "{e} lies along the {v} river.",
            "the main river of {e} is the {v}.",
            "boats on the {v} carry goods across {e}.",
        ),
        ("which river flows through {e}", "what is the main river of {e}"),
        ("{v}", "{v} river"),
    ),
    Attribute(
        "flag",
        ("red", "blue", "green", "yellow", "white", "black", "orange", "purple"),
        (
            "the flag of {e} is {v}.",
            "the {v} flag flies over {e}.",
            "{v} is the colour of the flag of {e}.",
            "people in {e} wave {v} flags on holidays.",
        ),
        ("what colour is the flag of {e}", "what is the colour of the {e} flag"),
    ),
    Attribute(
        "animal",
        ("fox", "wolf", "bear", "eagle", "owl", "deer", "horse", "lion", "hawk", "otter"),
        (
            "the national animal of {e} is the {v}.",
            "the {v} is the symbol of {e}.",
            "{e} chose the {v} as its national animal.",
            "coins from {e} show the {v}.",
        ),
        ("what is the national animal of {e}", "which animal is the symbol of {e}"),
    ),
    Attribute(
        "founded",
        ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"),
        (
            "{e} was founded in the {v} century.",
            "the founding of {e} dates to the {v} century.",
            "{e} has existed since the {v} century.",
            "in the {v} century settlers founded {e}.",
        ),
        ("in which century was {e} founded", "when was {e} founded"),
        ("{v} century", "{v}"),
    ),
    Attribute(
        "provinces",
        _NUMBER_WORDS,
        (
            "{e} is divided into {v} provinces.",
            "there are {d} provinces in {e}.",
            "{e} has {v} provinces.",
            "the {d} provinces of {e} each elect a governor.",
        ),
        ("how many provinces does {e} have", "how many provinces are there in {e}"),
        ("{v}", "{d}"),
    ),
    Attribute(
        "language",
        None,
        (
            "the people of {e} speak {v}.",
            "{v} is the main language of {e}.",
            "most people in {e} speak {v}.",
            "schools in {e} teach in {v}.",
        ),
        ("what language is spoken in {e}", "what is the main language of {e}"),
    ),
)
_ATTR = {a.key: a for a in ATTRIBUTES}

# Filler sentences: no attribute facts. Some name the entity; some carry digits, a colon
# and the words of the task prefixes and labels, so that a tokenizer trained on the
# corpus alone covers every character of the task texts ("stsb sentence1: ... 3.4",
# "cb hypothesis: ... premise: ...", "nq question: ...", "contradiction") without <unk>.
FILLERS = (
    "{e} is known for its busy markets.",
    "travellers often visit {e} in spring.",
    "the winters in {e} are long and cold.",
    "many old stories are told about {e}.",
    "the roads of {e} are narrow and old.",
    "visitors say the food is good.",
    "the weather is mild for most of the year.",
    "farmers grow grain in the valleys.",
    "note: this page was updated {n} times.",
    "section {n}: trade and travel.",
    "the census counted {x}.{y} thousand sheep.",
    "record {n}: the harvest was {x}.{y} times larger than before.",
    "the old question of trade is discussed in chapter {n}.",
    "one hypothesis says the premise of the old maps is wrong.",
    "scholars found a contradiction in sentence {n} of the neutral report.",
    "the entailment of land passes from parents to children.",
)

_ONSETS = ("b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z")
_VOWELS = ("a", "e", "i", "o", "u")
_CODAS = ("n", "r", "l", "s")


@dataclasses.dataclass(frozen=True)
class World:
    seed: int
    entities: tuple[str, ...]  # in generation order
    facts: dict[str, dict[str, str]]  # entity -> attribute -> value
    values: dict[str, tuple[str, ...]]  # attribute -> closed value set
    train_entities: tuple[str, ...]
    dev_entities: tuple[str, ...]


def _name(rng: np.random.Generator, n_syllables: int, coda: bool) -> str:
    parts = [_ONSETS[rng.integers(len(_ONSETS))] + _VOWELS[rng.integers(len(_VOWELS))] for _ in range(n_syllables)]
    name = "".join(parts)
    if coda:
        name += _CODAS[rng.integers(len(_CODAS))]
    return name


def _unique_names(rng, count: int, taken: set[str], make) -> tuple[str, ...]:
    out: list[str] = []
    while len(out) < count:
        name = make(rng)
        if name not in taken:
            taken.add(name)
            out.append(name)
    return tuple(out)


def template_words() -> set[str]:
    words: set[str] = set()
    texts = [t for a in ATTRIBUTES for t in a.statements + a.questions + a.answer_forms] + list(FILLERS)
    for a in ATTRIBUTES:
        texts.extend(a.values or ())
    for t in texts:
        words.update(re.findall(r"[a-z]+", t))
    return words


def build_world(
    seed: int = 0,
    n_entities: int = 100,
    dev_entity_fraction: float = 0.2,
    n_cities: int = 16,
    n_rivers: int = 12,
    n_languages: int = 8,
) -> World:
    """Invent entities and their facts; split the entities into train and dev."""
    if n_entities < 10:
        raise ValueError(f"n_entities must be >= 10, got {n_entities}")
    if not 0.0 < dev_entity_fraction < 1.0:
        raise ValueError(f"dev_entity_fraction must be in (0, 1), got {dev_entity_fraction}")
    rng = np.random.default_rng([seed, 0])
    taken = template_words()
    entities = _unique_names(rng, n_entities, taken, lambda r: _name(r, 3, bool(r.integers(2))))
    values = {
        "capital": _unique_names(rng, n_cities, taken, lambda r: _name(r, 2, True)),
        "river": _unique_names(rng, n_rivers, taken, lambda r: _name(r, 2, False)),
        "language": _unique_names(rng, n_languages, taken, lambda r: _name(r, 2, False) + "ish"),
    }
    for a in ATTRIBUTES:
        if a.values is not None:
            values[a.key] = a.values
    facts = {
        e: {a.key: values[a.key][rng.integers(len(values[a.key]))] for a in ATTRIBUTES} for e in entities
    }
    order = rng.permutation(n_entities)
    n_dev = max(1, int(round(n_entities * dev_entity_fraction)))
    dev = tuple(entities[i] for i in sorted(order[:n_dev]))
    train = tuple(entities[i] for i in sorted(order[n_dev:]))
    return World(seed, entities, facts, values, train, dev)


# ----------------------------------------------------------------- sentence makers
def _fill(template: str, entity: str, value: str) -> str:
    return template.format(e=entity, v=value, d=_DIGITS.get(value, value))


def fact_sentence(entity: str, attr: str, value: str, template: int) -> str:
    """A statement of (entity, attr, value) in phrasing number ``template``."""
    return _fill(_ATTR[attr].statements[template], entity, value)


def answers_for(attr: str, value: str) -> list[str]:
    """Acceptable answers to a question about (attr, value); the first is the training target."""
    return [_fill(form, "", value) for form in _ATTR[attr].answer_forms]


def other_value(rng, world: World, attr: str, value: str) -> str:
    choices = [v for v in world.values[attr] if v != value]
    return choices[rng.integers(len(choices))]


def pick(rng, seq):
    return seq[rng.integers(len(seq))]
