"""Data layer: synthetic suite, subsampling, span corruption, tokenizer, batching."""

import json
import math
import re
import time

import numpy as np
import pytest

from helpers import T5_VOCAB
from sam_bench.data import batching, span_corruption, subsample, synthetic
from sam_bench.data.tokenizer import Vocabulary, train_sentencepiece
from sam_bench.tasks import get_task, load_eval_sets, load_training_pairs


SUITE_FILES = (
    "corpus/pretrain.txt",
    "nq_open/NQ-open.train.jsonl",
    "nq_open/NQ-open.dev.jsonl",
    "super_glue/CB/train.jsonl",
    "super_glue/CB/val.jsonl",
    "stsbenchmark/sts-train.csv",
    "stsbenchmark/sts-dev.csv",
    "synthetic_world.json",
)


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    root = tmp_path_factory.mktemp("synthetic_seed0")
    sizes = synthetic.write_synthetic_suite(root, seed=0)
    return root, sizes


@pytest.fixture(scope="module")
def vocab(suite, tmp_path_factory):
    root, _ = suite
    prefix = tmp_path_factory.mktemp("spm") / "synthetic"
    return Vocabulary(train_sentencepiece(root / "corpus/pretrain.txt", prefix, 1000))


# ------------------------------------------------------------------ synthetic
def test_synthetic_is_deterministic_per_seed(suite, tmp_path):
    root, sizes = suite
    again = synthetic.write_synthetic_suite(tmp_path / "same", seed=0)
    other = synthetic.write_synthetic_suite(tmp_path / "other", seed=1)
    assert again == sizes
    for rel in SUITE_FILES:
        assert (root / rel).read_bytes() == (tmp_path / "same" / rel).read_bytes(), rel
    for rel in SUITE_FILES:
        assert (root / rel).read_bytes() != (tmp_path / "other" / rel).read_bytes(), rel
    assert other["cb"] == sizes["cb"]
    # atomic writes leave no temporary files behind
    assert not [p for p in root.rglob("*") if p.name.endswith(".tmp")]


def test_synthetic_sizes_fit_the_cpu_budget(suite):
    _, sizes = suite
    for task in ("cb", "stsb", "natural_questions"):
        assert 1000 <= sizes[task]["train"] <= 2000, task
        assert 200 <= sizes[task]["validation"] <= 300, task
    assert sizes["corpus"]["bytes"] < 400_000
    assert sizes["world"]["words"] < 500


def test_synthetic_files_load_through_task_loaders(suite):
    root, sizes = suite
    for name in ("cb", "stsb", "natural_questions"):
        task = get_task(name)
        for split in ("train", "validation"):
            examples = task.load(root, split)
            assert len(examples) == sizes[name][split]
            pair = task.preprocess(examples[0])
            assert pair["inputs"] and pair["targets"]
            # the gold targets score the maximum through the real metric code
            gold = [task.preprocess(ex)["targets"] for ex in examples]
            assert all(v == pytest.approx(100.0) for v in task.score(examples, gold).values())
    labels = [ex["label"] for ex in get_task("cb").load(root, "train")]
    for label in ("entailment", "contradiction", "neutral"):
        assert labels.count(label) / len(labels) > 0.25  # balanced-ish
    scores = np.array([ex["label"] for ex in get_task("stsb").load(root, "train")])
    assert scores.min() >= 0 and scores.max() <= 5 and scores.std() > 1.0
    qa = get_task("natural_questions").load(root, "train")
    assert any(len(ex["answer"]) == 2 for ex in qa)
    assert all(ex["question"] == ex["question"].lower() for ex in qa)


def _mentions(text: str, word: str) -> bool:
    return re.search(rf"\b{re.escape(word)}\b", text) is not None


def test_dev_questions_only_answerable_from_the_corpus(suite):
    root, _ = suite
    world = json.loads((root / "synthetic_world.json").read_text())
    dev_entities, train_entities = set(world["dev_entities"]), set(world["train_entities"])
    assert dev_entities and not dev_entities & train_entities
    nq = get_task("natural_questions")
    train_q = [ex["question"] for ex in nq.load(root, "train")]
    dev = nq.load(root, "validation")
    for q in train_q:
        assert not any(_mentions(q, e) for e in dev_entities), q
    for ex in dev:
        assert any(_mentions(ex["question"], e) for e in dev_entities), ex
    # every fact of every entity is stated in the corpus, in several phrasings
    sentences = re.split(r"(?<=\.) ", (root / "corpus/pretrain.txt").read_text().replace("\n", " "))
    by_entity: dict[str, list[str]] = {}
    for s in sentences:
        for w in re.findall(r"[a-z]+", s):
            if w in world["facts"]:
                by_entity.setdefault(w, []).append(s)
    for entity, facts in world["facts"].items():
        for attr, value in facts.items():
            forms = synthetic.answers_for(attr, value)  # e.g. "four" or "4"
            stating = {s for s in by_entity.get(entity, []) if any(_mentions(s, f) for f in forms)}
            assert len(stating) >= 3, (entity, attr, value)
    # the dev answers are exactly the world's facts
    for ex in dev:
        entity = next(e for e in dev_entities if _mentions(ex["question"], e))
        assert ex["answer"][0].split()[0] in world["facts"][entity].values()


# ------------------------------------------------------------------ subsample
RATES = (0.02, 0.05, 0.1, 0.2, 0.4, 0.8, 1.0)


@pytest.mark.parametrize("n", [1, 7, 250, 1501])
def test_subsample_nested_deterministic_and_sized(n):
    for seed in (0, 1, 17):
        prev = set()
        for rate in RATES:
            idx = subsample.subsample_indices(n, rate, seed)
            assert np.array_equal(idx, subsample.subsample_indices(n, rate, seed))
            assert len(idx) == max(1, math.floor(rate * n + 0.5))
            assert np.all(np.diff(idx) > 0) and idx.min() >= 0 and idx.max() < n
            assert prev <= set(idx.tolist())
            prev = set(idx.tolist())
        assert np.array_equal(subsample.subsample_indices(n, 1.0, seed), np.arange(n))
    if n > 100:
        assert not np.array_equal(subsample.subsample_indices(n, 0.1, 0), subsample.subsample_indices(n, 0.1, 1))


@pytest.mark.parametrize("bad", [0, 0.0, -0.1, 1.5, float("nan"), "0.5", True, None])
def test_subsample_rejects_bad_rates(bad):
    with pytest.raises(ValueError, match=re.escape(repr(bad))):
        subsample.subsample_indices(100, bad, 0)


def test_dataset_fingerprint():
    recs = [{"a": 1, "b": "x"}, {"b": "y", "a": 2.5}]
    fp = subsample.dataset_fingerprint(recs)
    assert re.fullmatch(r"[0-9a-f]{64}", fp)
    assert fp == subsample.dataset_fingerprint([{"b": "x", "a": 1}, {"a": 2.5, "b": "y"}])
    assert fp != subsample.dataset_fingerprint(recs[::-1])
    assert fp != subsample.dataset_fingerprint([{"a": 1, "b": "x"}, {"b": "y", "a": 2.6}])
    assert subsample.subsample(list("abcdef"), 0.5, 0) == [list("abcdef")[i] for i in subsample.subsample_indices(6, 0.5, 0)]


# ------------------------------------------------------------ span corruption
VOCAB = 500  # ids >= 400 are sentinels


def _reconstruct(inputs, targets, vocab_size=VOCAB, eos=1):
    inputs, targets = list(inputs), list(targets)
    assert inputs[-1] == eos and targets[-1] == eos
    inputs, targets = inputs[:-1], targets[:-1]
    spans, current = {}, None
    for t in targets:
        if t >= vocab_size - 100:
            current = t
            spans[current] = []
        else:
            spans[current].append(t)
    out = []
    for t in inputs:
        out.extend(spans[t] if t >= vocab_size - 100 else [t])
    return out


@pytest.mark.parametrize("length", [2, 3, 10, 57, 114, 300])
def test_span_corruption_round_trip(length):
    rng = np.random.default_rng(length)
    for _ in range(20):
        tokens = rng.integers(3, 400, size=length)
        inputs, targets = span_corruption.span_corrupt(tokens, rng, VOCAB)
        assert inputs.dtype == np.int32 and targets.dtype == np.int32
        assert _reconstruct(inputs, targets) == tokens.tolist()
        sentinels = [t for t in inputs if t >= 400]
        assert sentinels == list(range(VOCAB - 1, VOCAB - 1 - len(sentinels), -1))  # extra_id_0, 1, ...
        assert inputs[0] < 400  # starts with a non-noise span, as T5
        assert targets[0] == VOCAB - 1


def test_span_corruption_noise_statistics():
    rng = np.random.default_rng(0)
    masks = [span_corruption.random_spans_noise_mask(114, rng) for _ in range(200)]
    density = np.mean([m.mean() for m in masks])
    assert density == pytest.approx(0.15, abs=0.01)
    n_noise, n_spans = span_corruption.noise_counts(114, 0.15, 3.0)
    assert (n_noise, n_spans) == (17, 6)  # round(17.1) = 17, round(17 / 3) = 6
    for m in masks:
        starts = m & ~np.concatenate([[False], m[:-1]])
        assert m.sum() == 17 and starts.sum() == 6
    # span lengths vary (random segmentation), average = mean_noise_span_length-ish
    assert len({tuple(np.flatnonzero(m)) for m in masks}) == 200


def test_random_spans_helper_and_pretraining_batches(vocab, suite):
    root, _ = suite
    tokens_length, targets_length = span_corruption.random_spans_helper(64)
    chunks = span_corruption.corpus_chunks(root / "corpus/pretrain.txt", vocab, tokens_length)
    assert chunks.shape[1] == tokens_length and chunks.shape[0] > 100
    b1 = span_corruption.span_corruption_batch_at_step(chunks, 8, 0, 5, vocab.vocab_size, 64, targets_length)
    b2 = span_corruption.span_corruption_batch_at_step(chunks, 8, 0, 5, vocab.vocab_size, 64, targets_length)
    assert all(np.array_equal(b1[k], b2[k]) for k in b1)
    assert b1["inputs"].shape == (8, 64) and b1["targets"].shape == (8, targets_length)
    assert np.all(b1["inputs"][:, -1] == vocab.eos_id)  # helper makes inputs fill exactly
    assert "<extra_id_0>" in vocab.decode(b1["targets"][0])


# ------------------------------------------------------------------ tokenizer
def test_sentencepiece_training_is_deterministic(suite, vocab, tmp_path):
    root, _ = suite
    again = train_sentencepiece(root / "corpus/pretrain.txt", tmp_path / "again", 1000)
    assert again.read_bytes() == vocab.model_path.read_bytes()
    assert (tmp_path / "again.vocab").is_file()


def test_vocabulary_conventions(vocab, suite):
    assert (vocab.pad_id, vocab.eos_id, vocab.unk_id) == (0, 1, 2)
    assert vocab.vocab_size == vocab.piece_size + 100
    assert 300 <= vocab.piece_size <= 1000
    assert vocab.sentinel_id(0) == vocab.vocab_size - 1 and vocab.sentinel_id(99) == vocab.piece_size
    text = "the capital of varotel is kelmar."
    ids = vocab.encode(text)
    assert vocab.eos_id not in ids and vocab.decode(ids) == text
    assert vocab.decode(ids + [vocab.eos_id, 5, 6]) == text
    assert vocab.decode([0] + ids + [0, 0]) == text
    assert vocab.decode(vocab.encode("a b") + [vocab.sentinel_id(0)] + vocab.encode("c")) == "a b<extra_id_0> c"
    with pytest.raises(ValueError):
        vocab.decode([vocab.vocab_size])
    # the corpus-trained vocabulary covers every task text without <unk>
    root, _ = suite
    texts = [p[k] for p in load_training_pairs("tiny_suite", root).pairs for k in ("inputs", "targets")]
    for _, (_, pairs) in load_eval_sets("tiny_suite", root).items():
        texts += [p[k] for p in pairs for k in ("inputs", "targets")]
    assert not any(vocab.unk_id in ids for ids in vocab.encode_batch(texts))


@pytest.mark.skipif(not T5_VOCAB.is_file(), reason=f"T5 vocabulary not present at {T5_VOCAB} (../shared absent)")
def test_t5_vocabulary_ids():
    v = Vocabulary(T5_VOCAB)
    assert v.vocab_size == 32100 and v.piece_size == 32000
    ids = v.encode("translate English to German: The house is wonderful.")
    assert ids == [13959, 1566, 12, 2968, 10, 37, 629, 19, 1627, 5]
    assert v.decode(ids + [1]) == "translate English to German: The house is wonderful."
    assert v.sentinel_id(0) == 32099


# ------------------------------------------------------------------- batching
class _CharVocab:
    """A stand-in vocabulary for batching tests: one id per character."""

    eos_id = 1
    pad_id = 0

    def encode_batch(self, texts):
        return [[3 + ord(c) - ord("a") for c in t] for t in texts]


def _toy_split(n: int) -> batching.TokenizedSplit:
    pairs = [{"inputs": "abcdefgh"[: 1 + i % 8], "targets": "xyz"[: 1 + i % 3], "task_index": i % 2} for i in range(n)]
    return batching.tokenize(pairs, _CharVocab(), max_input_length=5, max_target_length=4)


def test_tokenize_appends_eos_pads_and_truncates():
    split = _toy_split(8)
    assert split.inputs.dtype == np.int32 and split.inputs.shape == (8, 5)
    assert split.inputs[0].tolist() == [3, 1, 0, 0, 0]  # "a" + EOS + padding
    assert split.inputs[7].tolist() == [3, 4, 5, 6, 1]  # "abcdefgh" truncated, EOS kept
    assert split.targets[2].tolist() == [26, 27, 28, 1]
    assert split.task_index.tolist() == [0, 1] * 4
    assert len(split.take([1, 3])) == 2


def test_tokenize_is_fast(vocab):
    pairs = [{"inputs": "cb hypothesis: the flag of varotel is red premise: varotel flies a red flag.",
              "targets": "entailment", "task_index": 0}] * 10_000
    start = time.perf_counter()
    split = batching.tokenize(pairs, vocab, 64, 8)
    assert time.perf_counter() - start < 5.0
    assert split.inputs.shape == (10_000, 64)


@pytest.mark.parametrize("n, batch_size", [(10, 3), (7, 7), (4, 10), (1, 2)])
def test_batch_at_step_deterministic_and_covers_each_epoch(n, batch_size):
    split = _toy_split(n)
    steps = (5 * n) // batch_size + 2
    stream = np.concatenate([batching.indices_at_step(n, batch_size, 3, t) for t in range(steps)])
    for epoch in range(len(stream) // n):
        assert sorted(stream[epoch * n : (epoch + 1) * n].tolist()) == list(range(n))
    for t in (0, 1, steps - 1):
        a, b = batching.batch_at_step(split, batch_size, 3, t), batching.batch_at_step(split, batch_size, 3, t)
        assert set(a) == {"inputs", "targets", "task_index"}
        assert all(np.array_equal(a[k], b[k]) and a[k].dtype == np.int32 for k in a)
        assert a["inputs"].shape == (batch_size, 5)
        assert np.array_equal(a["inputs"], split.inputs[stream[t * batch_size : (t + 1) * batch_size]])
    if n > 2:
        other = np.concatenate([batching.indices_at_step(n, batch_size, 4, t) for t in range(steps)])
        assert not np.array_equal(stream, other)


def test_eval_batches_pad_to_one_shape():
    split = _toy_split(10)
    out = list(batching.eval_batches(split, 4))
    assert [n for _, n in out] == [4, 4, 2]
    assert all(b["inputs"].shape == (4, 5) for b, _ in out)
    last, n_real = out[-1]
    assert np.array_equal(last["inputs"][:n_real], split.inputs[8:])
    assert not last["inputs"][n_real:].any()
    assert np.array_equal(np.concatenate([b["targets"][:n] for b, n in out]), split.targets)


def test_eval_batches_in_length_order_put_back_in_file_order():
    split = _toy_split(10)
    lengths = batching.row_lengths(split)
    order = batching.length_order(split)
    assert sorted(order.tolist()) == list(range(10))
    assert np.all(np.diff(lengths[order]) <= 0)  # longest first
    out = list(batching.eval_batches(split, 4, order))
    assert [n for _, n in out] == [4, 4, 2]
    rows = [r for b, n in out for r in b["inputs"][:n].tolist()]
    assert rows == split.inputs[order].tolist()
    # the first batch holds the longest rows, so trimming keeps more columns there than in the last
    widths = [batching.trim_padding(b)["inputs"].shape[1] for b, _ in out]
    assert widths[0] >= widths[-1]
    assert batching.in_file_order(rows, order) == split.inputs.tolist()


def test_predict_split_gives_file_order_outputs_whatever_the_evaluation_order():
    split = _toy_split(11)

    def first_token_and_width(batch):  # one output per row
        return [(int(row[0]), batch["inputs"].shape[1]) for row in batch["inputs"]]

    for dynamic in (False, True):
        out = batching.predict_split(split, 4, first_token_and_width, dynamic)
        assert [token for token, _ in out] == split.inputs[:, 0].tolist()
