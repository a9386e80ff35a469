"""The one interface every gradient has, and where its state rides.

A gradient turns (objective, params, batch, dropout_key) into (loss, grads); its output
feeds any optax optimizer unchanged. Every gradient, the plain one and every sharpness-aware
variant alike, offers

    init(params) -> GradientState
    update(objective, params, batch, dropout_key, state, base_state, *, micro_batch, mesh)
        -> (loss, grads, new state)
    stateful          whether `state` must be carried from step to step
    name

`base_state` is the base optimizer's state (the preconditioned variants read its second
moment). A gradient's state rides in the optimizer state as SharpnessAwareState(base,
gradient) when the optimizer comes from `with_gradient_state` (what `Recipe.build` returns for
a variant); a plain optax state carries none, which only a stateless gradient accepts.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, NamedTuple, Protocol, runtime_checkable

import jax
import jax.numpy as jnp
import optax

from sam_bench.optim.accumulation import chunks_for


class GradientState(NamedTuple):
    """A gradient's own state: steps taken, and FSAM's mask (or None)."""
    count: jax.Array
    mask: Any = None


@runtime_checkable
class Gradient(Protocol):
    name: str

    @property
    def stateful(self) -> bool: ...

    def init(self, params) -> GradientState: ...

    def update(self, objective, params, batch, dropout_key, state=None, base_state=None, *, micro_batch=None,
               mesh=None): ...


class SharpnessAwareState(NamedTuple):
    """What `optimizer.init` returns for a sharpness-aware recipe: the base optimizer's state
    and the gradient's state side by side (checkpointed together as one pytree)."""
    base: Any
    gradient: GradientState


def with_gradient_state(base: optax.GradientTransformation, gradient: Gradient) -> optax.GradientTransformation:
    """Bundle the gradient's state with the base optimizer's; `update` runs the base
    optimizer and carries the gradient state (advanced by the train step) unchanged."""

    def init(params):
        return SharpnessAwareState(base.init(params), gradient.init(params))

    def update(updates, state, params=None):
        updates, base_state = base.update(updates, state.base, params)
        return updates, state._replace(base=base_state)

    return optax.GradientTransformation(init, update)


def split_state(opt_state, gradient: Gradient):
    """(base optimizer state, gradient state) of an optimizer state: the halves of a
    SharpnessAwareState, or a plain optax state and None (only for a stateless gradient)."""
    if isinstance(opt_state, SharpnessAwareState):
        return opt_state.base, opt_state.gradient
    if gradient.stateful:
        raise TypeError(f"the {gradient.name} gradient keeps state across steps: use the optimizer that "
                        f"Recipe.build returns with it (its state holds both)")
    return opt_state, None


def join_state(opt_state, gradient_state: GradientState):
    """`opt_state` with the gradient's new state where it carries one."""
    if isinstance(opt_state, SharpnessAwareState):
        return opt_state._replace(gradient=gradient_state)
    return opt_state


def advance(state: GradientState | None, mask=None) -> GradientState:
    """The state after one more step (from zero steps when there was none)."""
    count = jnp.zeros((), jnp.int32) if state is None else state.count
    return GradientState(count + 1, mask)


def _autodiff(objective, params, batch, dropout_key):
    return jax.value_and_grad(objective)(params, batch, dropout_key)


@dataclass(frozen=True)
class Standard:
    """A gradient computed in one pass by `fn(objective, params, batch, key) -> (loss, grads)`:
    by default the plain ∇L_B(w), the baseline every variant is compared against. With
    accumulation the batch is split into micro-batches whose results are averaged."""
    fn: Callable = _autodiff
    name: str = "standard"
    stateful = False

    def init(self, params) -> GradientState:
        return GradientState(jnp.zeros((), jnp.int32))

    def update(self, objective, params, batch, dropout_key, state=None, base_state=None, *, micro_batch=None,
               mesh=None):
        chunks = chunks_for(batch, micro_batch)
        loss, grads = chunks.mean(lambda ex, k: self.fn(objective, params, ex, k), batch, dropout_key)
        return loss, grads, advance(state, None if state is None else state.mask)

    def __call__(self, objective, params, batch, dropout_key):
        loss, grads, _ = self.update(objective, params, batch, dropout_key)
        return loss, grads


standard_gradient = Standard()


def as_gradient(gradient) -> Gradient:
    """A Gradient for `gradient`: itself if it has the interface, else a plain function
    `(loss_fn, params, batch, key) -> (loss, grads)` wrapped as a Standard gradient."""
    if isinstance(gradient, Gradient):
        return gradient
    if not callable(gradient):
        raise TypeError(f"a gradient must have init/update or be callable as (loss_fn, params, batch, key) -> "
                        f"(loss, grads), got {gradient!r}")
    return Standard(gradient, name=getattr(gradient, "__name__", "function"))
