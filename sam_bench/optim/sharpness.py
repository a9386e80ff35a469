"""Sharpness-aware gradients.

A gradient maps (objective, params, batch, dropout_key) to (loss, grads); its output feeds
any optax optimizer unchanged, so a sharpness-aware run and its baseline share every line
of code but this one (Bahri et al. §4.1). The objective is the mean loss over the batch,
`objective(params, batch, dropout_key) -> scalar` (an `Objective` when logits or
per-example losses are needed; see objective.py).

Every variant is one `SharpnessAware` value, a composition of three independent choices:

1. which examples the ascent uses: a of the b examples (a = b by default, Bahri et al.'s
   efficient SAM uses a = b/4), spread evenly over the batch: with k = gcd(a, b), the
   first a/k examples of each of k equal consecutive blocks (`ascent_indices`). Any device
   count n that divides a and b holds a/n of them, so no device idles in the ascent and the
   set is the same on 1, 2 or 8 devices. m-sharpness splits the batch into m consecutive
   groups of b/m, each with its own ε from its own a/m ascent examples and its own dropout
   key (fold_in(key, group)); m = 1 is one global ε, m = number of devices the per-device
   SAM of Foret et al.;
2. how the perturbation ε is shaped (`perturbation`), from the ascent gradient g:
      l2 (SAM)                ε = ρ g / (‖g‖₂ + δ)
      adaptive (ASAM)         ε = ρ T² g / (‖T g‖₂ + δ),   T = |w| + η
      preconditioned          ε = ρ P⁻¹g / (‖P⁻¹g‖₂ + δ),  P the base's second moment
   optionally restricted to a random subset of parameter tensors (ESAM's SWP, scaled by 1/β)
   and multiplied by FSAM's Fisher mask (applied after normalisation, as in Eq. 6);
3. which gradient is taken at the perturbed point:
      standard                ∇L_B(w + ε)
      functional              J(w + ε)ᵀ ∇_z ℓ(z(w))   (Functional-SAM)
   on the whole group, or on the γ share of its examples with the largest loss increase
   (ESAM's SDS), and optionally GSAM's surrogate-gap correction g_p − α g_⊥.

Both passes of a group use the same dropout key; ESAM's selected examples keep the dropout
masks they had in the ascent (the descent pass runs on the whole group and weights the
unselected examples by zero). The returned loss is the loss at the perturbed
point on the examples of the descent gradient (the SAM objective). With gradient
accumulation (`micro_batch`), every pass over more than `micro_batch` examples is a
sequential loop over micro-batches whose gradients are averaged, weighted by their size;
the perturbation is still computed from the ascent gradient of the whole ascent set, so the
result equals the unaccumulated step whenever the loss is an example mean.

Data parallelism: the computation is written for the global batch; under jit with a batch
sharded over devices XLA's SPMD partitioner does the reductions, so the numbers do not
depend on the device count. m groups on n devices with n | m run under shard_map: each
device loops over the groups it holds (the per-device SAM of Foret et al. when m = n).
"""
from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field, replace
from typing import Callable

import jax
import jax.numpy as jnp
import optax
from jax.sharding import PartitionSpec

from sam_bench.optim.accumulation import Chunks, _take, batch_size, chunks_for, chunks_in_group, chunks_key
from sam_bench.optim.fisher import FisherMask, empirical_fisher
from sam_bench.optim.gradient import GradientState, advance
from sam_bench.optim.objective import Objective, as_objective

PERTURBATIONS = ("l2", "adaptive", "preconditioned")
_SWP_SALT = 0x5357_5000  # folds the dropout key into ESAM's parameter-selection key


def ascent_indices(b: int, a: int) -> list[int]:
    """The a ascent examples of a batch of b: with k = gcd(a, b), the first a/k of each of k
    consecutive blocks of b/k. Every n dividing a and b gets a/n in each of its n shards."""
    k = math.gcd(a, b)
    return [block * (b // k) + i for block in range(k) for i in range(a // k)]


def spread(batch, a: int):
    """The examples `ascent_indices` names, by reshape and slice (stays sharded under SPMD)."""
    b = batch_size(batch)
    if a == b:
        return batch
    k = math.gcd(a, b)
    return jax.tree.map(lambda x: x.reshape(k, b // k, *x.shape[1:])[:, : a // k].reshape(a, *x.shape[1:]), batch)


# --------------------------------------------------------------------------
# the sharpness-aware family
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class RhoSchedule:
    """GSAM's ρ_t = ρ_min + (ρ − ρ_min)(lr_t − lr_min)/(lr_max − lr_min); ρ_t = ρ when lr is constant."""
    lr_fn: Callable[[jax.Array], jax.Array]
    lr_min: float
    lr_max: float
    rho_min: float

    def __call__(self, rho: float, count):
        if self.lr_max <= self.lr_min:
            return jnp.asarray(rho, jnp.float32)
        frac = (self.lr_fn(count) - self.lr_min) / (self.lr_max - self.lr_min)
        return self.rho_min + (rho - self.rho_min) * frac


@dataclass(frozen=True)
class SharpnessAware:
    """One sharpness-aware gradient; see the module docstring for the three choices."""

    rho: float = 0.15
    ascent_size: int | None = None      # a; None means the whole batch (a = b)
    m: int = 1
    perturbation: str = "l2"            # how ε is shaped: l2 | adaptive | preconditioned
    eta: float = 0.01                   # ASAM's η in T = |w| + η
    preconditioner: Callable | None = field(default=None, compare=False)  # (base_state, params) -> P; None: P = I
    mask: FisherMask | None = None      # FSAM
    swp_beta: float | None = None       # ESAM stochastic weight perturbation (None: off)
    sds_gamma: float | None = None      # ESAM sharpness-sensitive data selection (None: off)
    gsam_alpha: float | None = None     # GSAM surrogate-gap correction (None: off)
    rho_schedule: RhoSchedule | None = field(default=None, compare=False)   # GSAM's ρ_t
    functional: bool = False            # Functional-SAM descent
    norm_eps: float = 1e-12             # δ: keeps ε finite when g = 0
    name: str = "sam"

    def __post_init__(self):
        if self.perturbation not in PERTURBATIONS:
            raise ValueError(f"perturbation must be one of {PERTURBATIONS}, got {self.perturbation!r}")

    # ---- state -----------------------------------------------------------
    @property
    def stateful(self) -> bool:
        """Whether the gradient carries state across steps (FSAM's mask, GSAM's step count).
        The preconditioner only reads the base optimizer's state, which any opt_state holds."""
        return self.mask is not None or self.rho_schedule is not None

    def init(self, params) -> GradientState:
        mask = None if self.mask is None else self.mask.initial(params)
        return GradientState(jnp.zeros((), jnp.int32), mask)

    # ---- pieces ----------------------------------------------------------
    def rho_at(self, count):
        if self.rho_schedule is None:
            return jnp.asarray(self.rho, jnp.float32)
        return self.rho_schedule(self.rho, count)

    def swp_selection(self, params, dropout_key):
        """ESAM's SWP: each parameter tensor perturbed with probability β (one draw per tensor
        and step; the key of a tensor comes from its name, so tree order does not matter)."""
        key = jax.random.fold_in(dropout_key, _SWP_SALT)
        paths, treedef = jax.tree_util.tree_flatten_with_path(params)
        picks = [jax.random.bernoulli(jax.random.fold_in(key, zlib.crc32(jax.tree_util.keystr(p).encode()) & 0x7FFFFFFF),
                                      self.swp_beta) for p, _ in paths]
        return jax.tree_util.tree_unflatten(treedef, picks)

    def epsilon(self, grads, params=None, precond=None, selection=None, mask=None, rho=None):
        """ε from the ascent gradient (see the module docstring)."""
        rho = self.rho if rho is None else rho
        if self.perturbation == "l2":
            direction, measured = grads, grads
        elif self.perturbation == "adaptive":
            t = jax.tree.map(lambda w: jnp.abs(w) + self.eta, params)
            measured = jax.tree.map(jnp.multiply, t, grads)
            direction = jax.tree.map(jnp.multiply, t, measured)
        else:
            direction = grads if precond is None else jax.tree.map(jnp.divide, grads, precond)
            # rescale by the largest entry first: P can be ~1e-15 at step 0 and ‖P⁻¹g‖² would overflow
            peak = jnp.max(jnp.stack([jnp.max(jnp.abs(x)) for x in jax.tree.leaves(direction)]))
            peak = jnp.where(peak > 0, peak, 1.0)
            direction = jax.tree.map(lambda x: x / peak, direction)
            measured = direction
        scale = rho
        if selection is not None:
            direction = jax.tree.map(lambda x, s: x * s, direction, selection)
            measured = jax.tree.map(lambda x, s: x * s, measured, selection)
            scale = rho / self.swp_beta
        scale = scale / (optax.tree.norm(measured) + self.norm_eps)
        eps = jax.tree.map(lambda x: scale * x, direction)
        if mask is not None:
            eps = jax.tree.map(lambda e, k: jnp.where(k, e, jnp.zeros_like(e)), eps, mask)
        return eps

    def _ascent_examples(self, batch, a: int):
        """The a ascent examples of the whole batch: a/m from each group, spread within it."""
        b = batch_size(batch)
        groups = jax.tree.map(lambda x: x.reshape(self.m, b // self.m, *x.shape[1:]), batch)
        picked = jax.vmap(lambda g: spread(g, a // self.m))(groups)
        return jax.tree.map(lambda x: x.reshape(a, *x.shape[2:]), picked)

    def refresh_mask(self, objective, params, batch, dropout_key, mask, count, a, chunks):
        if self.mask is None:
            return mask
        spec = self.mask

        def fresh(_):
            if spec.mode == "paper":
                n = batch_size(batch) if spec.n_fisher is None else spec.n_fisher
                fisher = empirical_fisher(objective, params, _take(batch, 0, n), dropout_key, spec.chunk)
            else:
                ascent = self._ascent_examples(batch, a)
                g = chunks.mean(lambda ex, k: jax.grad(objective)(params, ex, k), ascent, dropout_key)
                fisher = jax.tree.map(lambda x: jnp.square(x.astype(jnp.float32)), g)
            return spec.from_fisher(fisher, params)

        return jax.lax.cond(count % spec.fisher_interval == 0, fresh, lambda _: mask, None)

    # ---- one group of examples -------------------------------------------
    def _group_gradient(self, objective: Objective, params, group, key, a: int, chunks: Chunks,
                        precond, selection, mask, rho):
        n = batch_size(group)
        whole = a == n and (chunks.size is None or n <= chunks.size)  # one pass serves ascent and descent
        ascent = spread(group, a)
        cotangent = before = None
        sds = self.sds_gamma is not None and int(self.sds_gamma * n) < n

        # 1. ascent gradient g at w
        if self.functional and whole:
            logits, vjp = jax.vjp(lambda p: objective.logits_fn(p, group, chunks_key(key, chunks)), params)
            cotangent = jax.grad(objective.loss_from_logits)(logits, group)
            (g,) = vjp(cotangent)
            if sds:
                before = objective.per_example_from_logits(logits, group)
        elif sds and whole and objective.has_per_example:
            (_, before), g = jax.value_and_grad(objective.loss_and_per_example, has_aux=True)(
                params, group, chunks_key(key, chunks))
        else:
            g = chunks.mean(lambda ex, k: jax.grad(objective)(params, ex, k), ascent, key)

        # 2. perturbation
        eps = self.epsilon(g, params, precond, selection, mask, rho)
        perturbed = jax.tree.map(lambda w, e: w + e.astype(w.dtype), params, eps)

        # 3-4. gradient at w + ε; ESAM's SDS keeps the γ share with the largest loss increase by
        # weighting the others by zero on the whole group, so every example keeps its dropout mask
        if sds:
            objective.require_per_example("ESAM's sharpness-sensitive data selection (gamma < 1)")
            keep = int(self.sds_gamma * n)
            if before is None:
                before = chunks.concat(lambda ex, k: objective.per_example_loss(params, ex, k), group, key)
            if not self.functional and (chunks.size is None or n <= chunks.size):  # one pass: select, then pull back
                after, pullback = jax.vjp(lambda p: objective.per_example_loss(p, group, chunks_key(key, chunks)),
                                          perturbed)
                weights = _top_share(after - before, keep)
                (g_p,) = pullback(weights)
                loss = jnp.sum(weights * after)
            else:
                after = chunks.concat(lambda ex, k: objective.per_example_loss(perturbed, ex, k), group, key)
                weighted = {**group, _WEIGHT: _top_share(after - before, keep) * n}  # mean(weight·ℓ) = Σ_kept ℓ / keep
                descent = _functional_descent if self.functional else _weighted_descent
                loss, g_p = chunks.mean(lambda ex, k: descent(objective, params, perturbed, ex, k), weighted, key)
        elif self.functional:
            if cotangent is not None:
                logits, vjp = jax.vjp(lambda p: objective.logits_fn(p, group, chunks_key(key, chunks)), perturbed)
                (g_p,) = vjp(cotangent)
                loss = objective.loss_from_logits(logits, group)
            else:
                loss, g_p = chunks.mean(lambda ex, k: _functional_descent(objective, params, perturbed, ex, k),
                                        group, key)
        else:
            loss, g_p = chunks.mean(lambda ex, k: jax.value_and_grad(objective)(perturbed, ex, k), group, key)

        # 5. GSAM: remove α times the component of g orthogonal to g_p
        if self.gsam_alpha is not None:
            coef = optax.tree.vdot(g, g_p) / (optax.tree.vdot(g_p, g_p) + self.norm_eps)
            g_p = jax.tree.map(lambda gp, gg: gp - self.gsam_alpha * (gg - coef * gp), g_p, g)
        return loss, g_p

    # ---- the step ----------------------------------------------------------
    def update(self, objective, params, batch, dropout_key, state: GradientState | None = None, base_state=None,
               *, micro_batch: int | None = None, mesh=None):
        """(loss, grads, new gradient state) for one optimizer step. With a `mesh` whose device
        count n divides m, each device loops over the m/n groups it holds (shard_map) instead
        of every device taking part in every group; the numbers are the same."""
        objective = as_objective(objective)
        if self.functional:
            objective.require_logits("Functional-SAM")
        state = self.init(params) if state is None else state
        b = batch_size(batch)
        a = b if self.ascent_size is None else self.ascent_size
        if b % self.m or a % self.m or a > b:
            raise ValueError(f"{self.name} needs m | b, m | a and a <= b; got b={b}, a={a}, m={self.m}")
        if self.sds_gamma is not None and int(self.sds_gamma * (b // self.m)) < 1:
            raise ValueError(f"{self.name}: gamma={self.sds_gamma} keeps no example of a group of {b // self.m}")
        chunks = chunks_for(batch, micro_batch)

        precond = None
        if self.perturbation == "preconditioned" and self.preconditioner is not None:
            if base_state is None:
                raise ValueError(f"{self.name} reads the base optimizer's second moment: call update() with "
                                 f"base_state (the train step does), or build it without a preconditioner")
            precond = self.preconditioner(base_state, params)
        rho = self.rho_at(state.count)
        mask = self.refresh_mask(objective, params, batch, dropout_key, state.mask, state.count, a, chunks)
        selection = None if self.swp_beta is None else self.swp_selection(params, dropout_key)

        consts = (params, precond, selection, mask, rho)  # explicit, so shard_map can take them in

        def group_gradient(group, key, consts=consts):
            params, precond, selection, mask, rho = consts
            return self._group_gradient(objective, params, group, key, a // self.m, chunks_in_group(chunks, b // self.m),
                                        precond, selection, mask, rho)

        if self.m == 1:
            loss, grads = group_gradient(batch, dropout_key)
        else:  # each group its own dropout key, so groups never share dropout masks
            groups = jax.tree.map(lambda x: x.reshape(self.m, b // self.m, *x.shape[1:]), batch)
            n = 1 if mesh is None else mesh.size
            if n > 1 and self.m % n == 0:  # each device loops over the m/n groups it holds
                loss, grads = _groups_per_device(group_gradient, groups, dropout_key, consts, mesh)
            else:
                loss, grads = _group_loop(group_gradient, groups, dropout_key, 0)
                loss, grads = loss / self.m, jax.tree.map(lambda g: g / self.m, grads)
        return loss, grads, advance(state, mask)

    def __call__(self, objective, params, batch, dropout_key):
        """(loss, grads) from a fresh state (FSAM: a mask computed on this batch; GSAM: ρ_0)."""
        loss, grads, _ = self.update(objective, params, batch, dropout_key)
        return loss, grads

    def with_rho(self, rho: float) -> "SharpnessAware":
        return replace(self, rho=rho)


def _group_loop(group_gradient, groups, dropout_key, first: int):
    """Σ over groups of (loss, grads), group j (global index first + j) with dropout key
    fold_in(key, first + j): groups never share dropout masks."""
    count = jax.tree.leaves(groups)[0].shape[0]

    def body(total, xs):
        j, group = xs
        key = None if dropout_key is None else jax.random.fold_in(dropout_key, first + j)  # None: no dropout
        out = group_gradient(group, key)
        return optax.tree.add(total, out), None

    shape = jax.eval_shape(lambda: group_gradient(jax.tree.map(lambda x: x[0], groups), dropout_key))
    zero = jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), shape)
    total, _ = jax.lax.scan(body, zero, (jnp.arange(count), groups))
    return total


def _groups_per_device(group_gradient, groups, dropout_key, consts, mesh):
    """The group loop under shard_map: device d sums its own m/n groups, then one all-reduce
    averages over devices. Parameters enter whole (gathered when FSDP splits them)."""
    axes = tuple(mesh.axis_names)
    m = jax.tree.leaves(groups)[0].shape[0]

    def local(groups, key, consts):
        first = jax.lax.axis_index(axes) * (m // mesh.size)
        loss, grads = _group_loop(lambda g, k: group_gradient(g, k, consts), groups, key, first)
        return jax.tree.map(lambda x: jax.lax.psum(x, axes) / m, (loss, grads))

    return jax.shard_map(local, mesh=mesh, in_specs=(PartitionSpec(axes), PartitionSpec(), PartitionSpec()),
                         out_specs=PartitionSpec(), check_vma=False)(groups, dropout_key, consts)


_WEIGHT = "__sds_weight__"  # ESAM's per-example descent weight, carried in the batch through micro-batching


def _top_share(increase, keep: int):
    """1/keep on the `keep` examples with the largest loss increase, 0 elsewhere."""
    _, chosen = jax.lax.top_k(jax.lax.stop_gradient(increase), keep)
    return jnp.zeros(increase.shape, jnp.float32).at[chosen].set(1.0 / keep)


def _head(objective: Objective, examples):
    """The loss head on a chunk: the objective's, or the weighted per-example mean under ESAM's SDS."""
    if _WEIGHT not in examples:
        return objective.loss_from_logits, examples
    weight = examples[_WEIGHT]
    rest = {k: v for k, v in examples.items() if k != _WEIGHT}
    return (lambda z, ex: jnp.mean(weight * objective.per_example_from_logits(z, ex))), rest


def _weighted_descent(objective: Objective, params, perturbed, examples, key):
    head, examples = _head(objective, examples)
    return jax.value_and_grad(lambda p: head(objective.logits_fn(p, examples, key), examples))(perturbed)


def _functional_descent(objective: Objective, params, perturbed, examples, key):
    """(loss at w + ε, J(w + ε)ᵀ ∇_z ℓ(z(w))) on one chunk."""
    head, examples = _head(objective, examples)
    logits0 = objective.logits_fn(params, examples, key)
    cotangent = jax.grad(head)(jax.lax.stop_gradient(logits0), examples)
    logits1, vjp = jax.vjp(lambda p: objective.logits_fn(p, examples, key), perturbed)
    (grads,) = vjp(cotangent)
    return head(logits1, examples), grads


def SAM(rho: float, ascent_size: int | None = None, m: int = 1, norm_eps: float = 1e-12) -> SharpnessAware:
    """SAM (Foret et al. 2021) with Bahri et al.'s efficient ascent (a) and m-sharpness."""
    return SharpnessAware(rho=rho, ascent_size=ascent_size, m=m, norm_eps=norm_eps, name="sam")
