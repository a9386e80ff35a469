"""Token-level cross-entropy, kept apart from the network.

Functional-SAM and other recipes need the logits themselves, so the model
returns logits and the loss is a separate pure function.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

Array = jax.Array


def _token_nll(logits: Array, targets: Array) -> Array:
    """Negative log-likelihood of each target token, float32 ``[B, T]``."""
    log_probs = jax.nn.log_softmax(logits.astype(jnp.float32), axis=-1)
    picked = jnp.take_along_axis(log_probs, targets[..., None].astype(jnp.int32), axis=-1)
    return -picked[..., 0]


def token_cross_entropy(logits: Array, targets: Array, mask: Array) -> Array:
    """Mean cross-entropy over the tokens where ``mask`` is true (float32 scalar).

    ``logits [B, T, V]``, ``targets [B, T]`` int, ``mask [B, T]`` (bool or 0/1).
    An all-zero mask gives 0 rather than NaN.
    """
    mask = mask.astype(jnp.float32)
    total = jnp.sum(_token_nll(logits, targets) * mask)
    return total / jnp.maximum(jnp.sum(mask), 1.0)


def per_example_cross_entropy(logits: Array, targets: Array, mask: Array) -> Array:
    """Per-example mean cross-entropy over masked tokens, float32 ``[B]``.

    Examples whose mask is all zero get 0.
    """
    mask = mask.astype(jnp.float32)
    total = jnp.sum(_token_nll(logits, targets) * mask, axis=-1)
    return total / jnp.maximum(jnp.sum(mask, axis=-1), 1.0)


def per_example_classification_cross_entropy(logits: Array, labels: Array) -> Array:
    """Cross-entropy of each example's class logits ``[B, C]`` against int labels ``[B]``: float32 ``[B]``."""
    log_probs = jax.nn.log_softmax(logits.astype(jnp.float32), axis=-1)
    return -jnp.take_along_axis(log_probs, jnp.asarray(labels, jnp.int32)[:, None], axis=-1)[:, 0]


def classification_cross_entropy(logits: Array, labels: Array) -> Array:
    """Mean cross-entropy of sequence-classification logits ``[B, C]`` against int labels ``[B]``."""
    return jnp.mean(per_example_classification_cross_entropy(logits, labels))


def per_example_squared_error(logits: Array, targets: Array) -> Array:
    """Squared error of a regression head's output ``[B, 1]`` (or ``[B]``) against ``[B]``: float32 ``[B]``."""
    pred = logits.astype(jnp.float32).reshape(logits.shape[0])
    return jnp.square(pred - jnp.asarray(targets, jnp.float32).reshape(-1))


def regression_mse(logits: Array, targets: Array) -> Array:
    """Mean squared error of a regression head's output ``[B, 1]`` (or ``[B]``) against ``[B]``.

    The same loss as Hugging Face's ``problem_type="regression"`` with one label (STS-B).
    """
    return jnp.mean(per_example_squared_error(logits, targets))


def per_example_choice_cross_entropy(scores: Array, correct: Array, valid: Array) -> Array:
    """Multiple choice: ``-log`` of the probability mass on the correct choices, float32 ``[B]``.

    ``scores [B, C]`` (one score per choice), ``correct [B, C]`` 0/1 (one correct choice for
    COPA, possibly several for ReCoRD's entities), ``valid [B, C]`` 0/1 (rows pad their choices
    to the longest row). With one correct choice this is the softmax cross-entropy of
    Hugging Face's ``*ForMultipleChoice``.
    """
    scores = jnp.where(valid.astype(bool), scores.astype(jnp.float32), -jnp.inf)
    correct_scores = jnp.where(correct.astype(bool), scores, -jnp.inf)
    return jax.nn.logsumexp(scores, axis=-1) - jax.nn.logsumexp(correct_scores, axis=-1)
