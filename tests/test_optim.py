"""The SAM gradient against hand computations, and the recipe grammar: every variant with
every base optimizer, defaults, and the errors raised before compute."""
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from sam_bench.errors import ConfigError
from sam_bench.optim import SAM, VARIANTS, Objective, parse_recipe
from sam_bench.optim.base import BASE_OPTIMIZERS
from sam_bench.train.step import make_train_step

A = np.array([[3.0, 0.5], [0.5, 1.0]])


def quadratic_loss(params, batch, dropout_key):
    """mean_i ½ (w − x_i)ᵀ A (w − x_i); its gradient is A (w − x̄)."""
    d = params["w"][None, :] - batch["x"]
    return 0.5 * jnp.mean(jnp.einsum("bi,ij,bj->b", d, A, d))


def quadratic_batch(b=8, seed=0):
    return {"x": np.random.default_rng(seed).normal(size=(b, 2)).astype(np.float32)}


def test_sam_step_matches_hand_computation_on_a_quadratic():
    w = np.array([1.0, -2.0])
    batch = quadratic_batch()
    rho, a, lr = 0.3, 2, 0.1
    # by hand: ascent on examples 0 and 4 (a = 2 spread over the batch of 8), descent on the whole batch at w + ε
    g_ascent = A @ (w - batch["x"][[0, 4]].mean(0))
    eps = rho * g_ascent / np.linalg.norm(g_ascent)
    g_sam = A @ (w + eps - batch["x"].mean(0))
    expected = w - lr * g_sam

    params = {"w": jnp.asarray(w, jnp.float32)}
    _, grads = SAM(rho=rho, ascent_size=a)(quadratic_loss, params, batch, jax.random.key(0))
    sgd = optax.sgd(lr)
    updates, _ = sgd.update(grads, sgd.init(params), params)
    np.testing.assert_allclose(optax.apply_updates(params, updates)["w"], expected, rtol=1e-6)


def test_m_sharpness_matches_per_shard_hand_computation():
    w = np.array([0.5, 0.25])
    batch = quadratic_batch(b=8, seed=1)
    rho, a, m = 0.2, 4, 2
    shards = batch["x"].reshape(m, 4, 2)
    grads = []
    for shard in shards:
        g = A @ (w - shard[[0, 2]].mean(0))  # a/m = 2 of the group of 4, spread over it
        grads.append(A @ (w + rho * g / np.linalg.norm(g) - shard.mean(0)))
    _, got = SAM(rho=rho, ascent_size=a, m=m)(quadratic_loss, {"w": jnp.asarray(w, jnp.float32)}, batch,
                                             jax.random.key(0))
    np.testing.assert_allclose(got["w"], np.mean(grads, axis=0), rtol=1e-5)


def mlp_loss(params, batch, dropout_key):
    """A two-layer MLP with dropout, so the test also covers the shared dropout key."""
    h = jnp.tanh(batch["x"] @ params["w1"])
    keep = jax.random.bernoulli(dropout_key, 0.8, h.shape)
    h = jnp.where(keep, h / 0.8, 0.0)
    logits = h @ params["w2"]
    return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, batch["y"]))


def mlp_problem(b=16):
    rng = np.random.default_rng(0)
    params = {"w1": jnp.asarray(rng.normal(size=(5, 7)), jnp.float32),
              "w2": jnp.asarray(rng.normal(size=(7, 3)), jnp.float32)}
    batch = {"x": rng.normal(size=(b, 5)).astype(np.float32), "y": rng.integers(0, 3, b).astype(np.int32)}
    return params, batch


def vanilla_sam(loss_fn, params, batch, key, rho):
    """Foret et al.'s SAM written out directly: ε = ρ g/‖g‖, gradient at w + ε."""
    g = jax.grad(loss_fn)(params, batch, key)
    norm = jnp.sqrt(sum(jnp.sum(x**2) for x in jax.tree.leaves(g)))
    perturbed = jax.tree.map(lambda p, x: p + rho * x / norm, params, g)
    return jax.grad(loss_fn)(perturbed, batch, key)


def test_full_ascent_batch_and_m1_is_vanilla_sam():
    params, batch = mlp_problem()
    key = jax.random.key(3)
    _, got = jax.jit(lambda p: SAM(rho=0.1, ascent_size=16, m=1)(mlp_loss, p, batch, key))(params)
    want = jax.jit(lambda p: vanilla_sam(mlp_loss, p, batch, key, 0.1))(params)
    for name in params:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-5, atol=1e-7)


def test_zero_gradient_gives_no_nan():
    params = {"w": jnp.zeros(2)}
    batch = {"x": np.zeros((4, 2), np.float32)}
    loss, grads = SAM(rho=0.1)(quadratic_loss, params, batch, jax.random.key(0))
    assert np.isfinite(loss) and np.all(np.isfinite(grads["w"]))


def test_recipe_round_trip_and_defaults():
    recipe = parse_recipe("sam(rho=0.05, m=2) + adafactor(lr=1e-3)")
    assert recipe.method == "sam" and recipe.rho == 0.05 and recipe.base == "adafactor"
    assert parse_recipe(recipe.canonical()) == recipe
    mapping = parse_recipe({"variant": {"name": "sam", "rho": 0.05, "m": 2}, "base": {"name": "adafactor", "lr": 1e-3}})
    assert mapping.canonical() == recipe.canonical()
    _, gradient = parse_recipe("sam + adafactor").build(32)
    assert gradient.ascent_size == 32 and gradient.rho == 0.15  # Foret et al.'s SAM: a = b by default; ρ = 0.15
    _, gradient = parse_recipe("sam(a=8) + adafactor").build(32)
    assert gradient.ascent_size == 8  # Bahri et al.'s efficient a = b/4 is written explicitly
    _, gradient = parse_recipe("fsam + adamw").build(32)
    assert gradient.ascent_size == 32 and gradient.rho == 0.01  # FSAM: full-batch ascent, ρ from its grid
    assert (gradient.mask.sparsity, gradient.mask.fisher_interval, gradient.mask.mode) == (0.9, 100, "paper")
    assert parse_recipe("adamw(lr=1e+3)").base_args == {"lr": 1000.0}  # '+' inside a term is not a separator


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_variant_parses_and_round_trips(variant):
    recipe = parse_recipe(f"{variant}(rho=0.02, m=2) + adamw(lr=2e-5, b1=0.0)")
    assert recipe.method == variant and recipe.rho == 0.02
    assert parse_recipe(recipe.canonical()) == recipe
    assert parse_recipe({"variant": {"name": variant, "rho": 0.02, "m": 2},
                         "base": {"name": "adamw", "lr": 2e-5, "b1": 0.0}}).canonical() == recipe.canonical()
    assert parse_recipe(f"{variant} + sgd").rho == VARIANTS[variant].spec["rho"][0]


def test_every_variant_with_every_base_traces_under_jit():
    """The whole matrix traces into a train step whose opt_state keeps its structure (so it
    can be checkpointed and threaded through steps); the numbers are checked elsewhere."""
    rng = np.random.default_rng(0)
    params = {"w": jnp.zeros(3), "bias": jnp.zeros(1)}
    batch = {"x": jnp.asarray(rng.normal(size=(8, 3)), jnp.float32), "y": jnp.asarray(rng.random(8) < 0.5, jnp.float32)}

    def logits_fn(p, b, key):
        return b["x"] @ p["w"] + p["bias"][0]

    def per_example(z, b):
        return jax.nn.softplus(z) - b["y"] * z

    objective = Objective(logits_fn, lambda z, b: jnp.mean(per_example(z, b)), per_example)
    for variant in sorted(VARIANTS):
        for base in sorted(BASE_OPTIMIZERS):
            optimizer, gradient = parse_recipe(f"{variant} + {base}").build(8, accumulation_steps=2)
            state = optimizer.init(params)
            step = make_train_step(objective, optimizer, gradient, accumulation_steps=2)
            new_params, new_state, loss = jax.eval_shape(step, params, state, batch, jax.random.key(0))
            assert jax.tree.structure(new_state) == jax.tree.structure(state), (variant, base)
            assert loss.shape == () and jax.tree.structure(new_params) == jax.tree.structure(params)


@pytest.mark.parametrize("spec, batch, message", [
    ("sam(rho=-0.1) + adafactor", None, "rho must be a number >= 0"),
    ("sam(a=64) + adafactor", 32, "a=64 exceeds the batch size b=32"),
    ("sam(m=3) + adafactor", 32, "m=3 must divide"),
    ("lion(lr=1e-3)", None, "valid: ['adafactor', 'adagrad', 'adam', 'adamw', 'amsgrad', 'sgd']"),
    ("fancy(rho=0.1) + adafactor", None, "valid: ['asam', 'esam', 'f_esam', 'f_gsam', 'fsam', 'functional_sam', 'gsam',"),
    ("adafactor(learning_rate=1)", None, "valid: ['lr'"),
    ("sam(0.1) + adafactor", None, "must be named"),
    ("adamw(lr=1e-3, schedule=linear)", None, "quoted strings, e.g. schedule='linear'"),
    ("sam(rho=0.1)", None, "'sam' is a sharpness-aware variant: write it first"),
    ("adamw + sam", None, "the variant comes first, the base optimizer last: write 'sam(...) + adamw(...)'"),
    ("adamw(lr=1e-3) + adafactor", None, "'adamw' is a base optimizer: write it last"),
    ("sam + fsam + adamw", None, "one variant, one base"),
    ("fsam(s=1.0) + adamw", None, "s must be a number with 0 <= x < 1, got 1.0"),
    ("fsam(fi=0) + adamw", None, "fi must be an integer >= 1"),
    ("fsam(fisher='exact') + adamw", None, "fisher must be one of ['paper', 'reference']"),
    ("fsam(fisher='reference', n_fisher=8) + adamw", None, "n_fisher is only used with fisher='paper'"),
    ("fsam(n_fisher=64) + adamw", 32, "n_fisher=64 exceeds the batch size b=32"),
    ("esam(beta=0) + adamw", None, "beta must be a number with 0 < x <= 1"),
    ("esam(gamma=0.1, m=4) + adamw", 32, "gamma=0.1 keeps no example of a group of b/m=8"),
    ("gsam(rho=0.1, rho_min=0.2) + adamw", None, "rho_min=0.2 must not exceed rho=0.1"),
    ("gsam(alpha=-1) + adamw", None, "alpha must be a number >= 0"),
    ("asam(eta=-0.1) + sgd", None, "eta must be a number >= 0"),
    ("sam + adamw(b1=1.0)", None, "b1 must be a number with 0 <= x < 1, got 1.0"),
    ("sam + adamw(lr=0)", None, "lr must be a number > 0"),
    ("sam + adamw(schedule='linear')", None, "schedule='linear' needs decay_steps"),
    ("sam + adamw(schedule='exp')", None, "schedule must be one of ['constant', 'linear', 'cosine']"),
    ("sam + adafactor(b1=0.9, momentum=0.9)", None, "give momentum or its alias b1, not both"),
    ("functional_sam(rho=0.1, eta=0.1) + sgd", None, "functional_sam: unknown argument(s) ['eta']; valid:"),
])
def test_bad_recipes_fail_with_a_clear_message(spec, batch, message):
    with pytest.raises(ConfigError) as err:
        parse_recipe(spec).validate(batch)
    assert message in str(err.value)


def test_accumulation_steps_must_divide_the_batch():
    with pytest.raises(ConfigError, match="accumulation_steps=3 must be >= 1 and divide the batch size b=32"):
        parse_recipe("sam + adafactor").validate(32, accumulation_steps=3)
    with pytest.raises(ConfigError, match="accumulation_steps=3"):
        parse_recipe("adafactor").validate(32, accumulation_steps=3)


def _schedule_reference(t, lr, kind, warmup, decay_steps, end_lr):
    """The learning rate at step t, written out in NumPy (float64) from the definitions."""
    if t < warmup:
        return lr * t / warmup
    if kind == "constant":
        return lr
    frac = min(max((t - warmup) / (decay_steps - warmup), 0.0), 1.0)
    if kind == "linear":
        return lr + (end_lr - lr) * frac
    return end_lr + (lr - end_lr) * 0.5 * (1.0 + np.cos(np.pi * frac))


@pytest.mark.parametrize("kind, warmup, decay_steps, end_lr", [
    ("constant", 0, None, 0.0), ("constant", 7, None, 0.0), ("linear", 0, 20, 0.0), ("linear", 5, 20, 1e-5),
    ("cosine", 0, 20, 0.0), ("cosine", 4, 20, 2e-5),
])
def test_learning_rate_schedules_match_their_definition(kind, warmup, decay_steps, end_lr):
    """Warm-up from 0, then constant / linear / cosine reaching end_lr at decay_steps (warm-up
    included), and held there; also GSAM's (lr_min, lr_max)."""
    from sam_bench.optim.base import make_learning_rate_fn

    lr = 3e-4
    args = dict(lr=lr, schedule=kind, warmup_steps=warmup, end_lr=end_lr,
                **({} if decay_steps is None else {"decay_steps": decay_steps}))
    fn, low, high = make_learning_rate_fn("adamw", **args)
    steps = range(0, 30)
    got = [float(jax.jit(fn)(jnp.asarray(t, jnp.int32))) for t in steps]
    want = [_schedule_reference(t, lr, kind, warmup, decay_steps, end_lr) for t in steps]
    # float32: optax computes (lr - end)(1 - t/T) + end, which rounds differently (by an ulp of lr)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7 * lr)
    assert (low, high) == (min([lr] + [0.0] * bool(warmup) + [end_lr] * (kind != "constant")), lr)
