"""Dynamic padding (length buckets) changes no output, and the chance line is the best
constant prediction's score."""
import numpy as np
import pytest
from scipy import stats

from sam_bench.data import batching
from sam_bench.data.batching import bucket_length, trim_padding
from sam_bench.models import apply, bert_apply, init_model, model_config, shift_right, t5_config, token_cross_entropy
from sam_bench.tasks import get_task
from sam_bench.train.cell_data import TaskData
from sam_bench.train.chance import best_constant_scores, text_to_text_chance


def _padded(rng, rows, width, lengths, low=5, high=900):
    out = np.zeros((rows, width), np.int32)
    for r, n in enumerate(lengths):
        out[r, :n] = rng.integers(low, high, n)
    return out


def test_bucket_length_rounds_up_to_its_step_capped_at_the_width():
    assert [bucket_length(n, 64) for n in (1, 16, 17, 33, 49, 64)] == [16, 16, 32, 48, 64, 64]
    assert [bucket_length(n, 1024) for n in (129, 200, 513)] == [192, 256, 768]
    assert bucket_length(70, 72) == 72 and bucket_length(5, 8) == 8


def test_trim_padding_cuts_each_group_to_its_own_bucket():
    rng = np.random.default_rng(0)
    batch = {"inputs": _padded(rng, 4, 64, [3, 20, 9, 1]), "targets": _padded(rng, 4, 8, [2, 3, 1, 2]),
             "task_index": np.zeros(4, np.int32)}
    trimmed = trim_padding(batch)
    assert trimmed["inputs"].shape == (4, 32) and trimmed["targets"].shape == (4, 8)
    np.testing.assert_array_equal(trimmed["inputs"], batch["inputs"][:, :32])
    assert not batch["inputs"][:, 32:].any()  # only padding was cut
    mask = np.zeros((2, 3, 128), np.int32)  # multiple choice: [B, C, L], longest row 40
    mask[1, 2, :40] = 1
    enc = {"input_ids": mask * 7, "token_type_ids": mask, "attention_mask": mask, "label": np.zeros(2)}
    assert {k: v.shape for k, v in trim_padding(enc).items()} == {
        "input_ids": (2, 3, 48), "token_type_ids": (2, 3, 48), "attention_mask": (2, 3, 48), "label": (2,)}


def test_trimmed_encoder_batch_gives_the_same_logits():
    config = model_config("bert-tiny", num_labels=3)
    graphdef, params = init_model(config, seed=0)
    rng = np.random.default_rng(1)
    lengths = [5, 29, 12, 3]
    ids = _padded(rng, 4, 128, lengths, high=1000)
    mask = (ids != 0).astype(np.int32)
    batch = {"input_ids": ids, "token_type_ids": np.zeros_like(ids), "attention_mask": mask}
    full = bert_apply(graphdef, params, ids, batch["token_type_ids"], mask)
    cut = trim_padding(batch)
    assert cut["input_ids"].shape[1] == 32
    short = bert_apply(graphdef, params, cut["input_ids"], cut["token_type_ids"], cut["attention_mask"])
    np.testing.assert_allclose(np.asarray(short), np.asarray(full), rtol=1e-5, atol=1e-6)


def test_trimmed_t5_batch_gives_the_same_loss_and_logits():
    config = t5_config("t5.1.1-tiny", vocab_size=1000)
    graphdef, params = init_model(config, seed=0)
    rng = np.random.default_rng(2)
    batch = {"inputs": _padded(rng, 3, 64, [10, 30, 4]), "targets": _padded(rng, 3, 24, [3, 5, 2])}
    cut = trim_padding(batch)
    assert cut["inputs"].shape[1] == 32 and cut["targets"].shape[1] == 16

    def run(b):
        logits = apply(graphdef, params, b["inputs"], shift_right(b["targets"]))
        return logits, token_cross_entropy(logits, b["targets"], b["targets"] != 0)

    (full_logits, full_loss), (cut_logits, cut_loss) = run(batch), run(cut)
    kept = cut["targets"].shape[1]  # decoder positions past it are padding (causal: they change nothing before)
    np.testing.assert_allclose(np.asarray(cut_logits), np.asarray(full_logits)[:, :kept], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(float(cut_loss), float(full_loss), rtol=1e-6)


def test_chance_is_the_majority_class_and_zero_correlation():
    labels = np.array([0, 0, 0, 1, 2, 0, 1, 0])

    def score(preds):
        preds = np.asarray(preds)
        return {"accuracy": 100 * float(np.mean(preds == labels)),
                "pearson": 100 * stats.pearsonr(preds + 0.0, labels)[0] if np.ptp(preds) else float("nan")}

    assert best_constant_scores(score, len(labels), [0, 1, 2]) == {"accuracy": 62.5, "pearson": 0.0}


def test_text_to_text_chance_uses_the_tasks_own_scorer():
    task = get_task("cb")
    labels = ["neutral"] * 5 + ["entailment"] * 3 + ["contradiction"] * 2
    examples = [{"premise": "p", "hypothesis": "h", "label": lab, "idx": i} for i, lab in enumerate(labels)]
    chance = text_to_text_chance(TaskData("cb", task, examples, None))
    assert chance["accuracy"] == pytest.approx(50.0)
    expected_f1 = task.score(examples, ["neutral"] * 10)["f1"]  # macro F1 of always "neutral"
    assert chance["f1"] == pytest.approx(expected_f1) and 0 < expected_f1 < 50


def test_group_by_length_keeps_epochs_whole_and_batches_homogeneous():
    rng = np.random.default_rng(0)
    n, batch_size, width = 1000, 8, 64
    lengths = rng.integers(2, width, size=n)
    inputs = (np.arange(width)[None, :] < lengths[:, None]).astype(np.int32) * 5
    split = batching.TokenizedSplit(inputs, np.ones((n, 2), np.int32), np.zeros(n, np.int32))
    assert np.array_equal(batching.row_lengths(split), lengths)
    steps = 3 * n // batch_size
    grouped = [batching.indices_at_step(n, batch_size, 1, t, lengths) for t in range(steps)]
    plain = [batching.indices_at_step(n, batch_size, 1, t) for t in range(steps)]
    stream = np.concatenate(grouped)
    for epoch in range(3):  # every epoch still visits every example once
        assert sorted(stream[epoch * n:(epoch + 1) * n].tolist()) == list(range(n))
    # the same rows as the plain shuffle within each mega-batch, only reordered
    size = batching.MEGABATCH_BATCHES * batch_size
    assert sorted(stream[:size].tolist()) == sorted(np.concatenate(plain)[:size].tolist())
    padded = lambda batches: np.mean([lengths[b].max() for b in batches])  # noqa: E731
    assert padded(grouped) < 0.75 * padded(plain)
    again = batching.batch_at_step(split, batch_size, 1, 7, lengths)
    assert np.array_equal(again["inputs"], split.inputs[grouped[7]])
    assert not np.array_equal(grouped[0], batching.indices_at_step(n, batch_size, 2, 0, lengths))
    with pytest.raises(ValueError, match="lengths must have shape"):
        batching.indices_at_step(n, batch_size, 1, 0, lengths[:-1])
