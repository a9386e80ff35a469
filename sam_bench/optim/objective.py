"""Training objectives: a loss that also exposes its network and its loss head.

Most variants only need `objective(params, batch, dropout_key) -> scalar`, the mean loss
over the batch. Functional-SAM needs the network's outputs (logits) apart from the loss,
and ESAM needs one loss per example; an `Objective` offers all three from the same two
pieces, so they can never disagree:

    logits_fn(params, batch, dropout_key) -> logits        (the network)
    loss_from_logits(logits, batch) -> scalar               (the loss head; mean over the batch)
    per_example_from_logits(logits, batch) -> [B]           (optional; one loss per example)

A plain callable is accepted everywhere an objective is; `as_objective` wraps it, and the
variants that need logits then fail with a message naming what is missing.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import jax

Batch = dict
LogitsFn = Callable[[Any, Batch, jax.Array], jax.Array]


@dataclass(frozen=True)
class Objective:
    logits_fn: LogitsFn | None
    loss_from_logits: Callable[[jax.Array, Batch], jax.Array] | None
    per_example_from_logits: Callable[[jax.Array, Batch], jax.Array] | None = None
    loss_fn: Callable[[Any, Batch, jax.Array], jax.Array] | None = None  # only for wrapped plain losses

    def __call__(self, params, batch: Batch, dropout_key):
        if self.loss_fn is not None:
            return self.loss_fn(params, batch, dropout_key)
        return self.loss_from_logits(self.logits_fn(params, batch, dropout_key), batch)

    @property
    def has_logits(self) -> bool:
        return self.logits_fn is not None and self.loss_from_logits is not None

    @property
    def has_per_example(self) -> bool:
        return self.has_logits and self.per_example_from_logits is not None

    def require_logits(self, who: str) -> None:
        if not self.has_logits:
            raise TypeError(f"{who} needs the logits apart from the loss: pass an Objective with logits_fn and "
                            f"loss_from_logits (sam_bench.train.step.make_loss_fn returns one), not a plain loss")

    def require_per_example(self, who: str) -> None:
        if not self.has_per_example:
            raise TypeError(f"{who} needs one loss per example: pass an Objective with logits_fn, loss_from_logits "
                            f"and per_example_from_logits (sam_bench.train.step.make_loss_fn returns one)")

    def per_example_loss(self, params, batch: Batch, dropout_key):
        self.require_per_example("per_example_loss")
        return self.per_example_from_logits(self.logits_fn(params, batch, dropout_key), batch)

    def loss_and_per_example(self, params, batch: Batch, dropout_key):
        """(mean loss, per-example losses) from a single forward pass."""
        self.require_per_example("loss_and_per_example")
        logits = self.logits_fn(params, batch, dropout_key)
        return self.loss_from_logits(logits, batch), self.per_example_from_logits(logits, batch)


def as_objective(loss) -> Objective:
    """An Objective for `loss`: itself if it already is one, else a wrapper of the plain callable."""
    if isinstance(loss, Objective):
        return loss
    if not callable(loss):
        raise TypeError(f"an objective must be callable as loss(params, batch, dropout_key), got {loss!r}")
    return Objective(logits_fn=None, loss_from_logits=None, loss_fn=loss)
