"""The SAM gradient against hand computations and its defining invariants."""
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from sam_bench.errors import ConfigError
from sam_bench.optim import SAM, parse_recipe, standard_gradient

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
    # by hand: ascent on the first a examples, descent on the whole batch at w + ε
    g_ascent = A @ (w - batch["x"][:a].mean(0))
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
        g = A @ (w - shard[: a // m].mean(0))
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
    _, got = SAM(rho=0.1, ascent_size=16, m=1)(mlp_loss, params, batch, key)
    want = vanilla_sam(mlp_loss, params, batch, key, 0.1)
    for name in params:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("base", ["adafactor(lr=1e-2)", "adamw(lr=1e-3)"])
def test_rho_zero_gives_the_base_optimizer(base):
    params, batch = mlp_problem()
    optimizer, _ = parse_recipe(base).build(16)
    sam_optimizer, sam_gradient = parse_recipe(f"sam(rho=0.0) + {base}").build(16)
    key = jax.random.key(1)

    def run(gradient, opt):
        state, p = opt.init(params), params
        for step in range(3):
            _, g = jax.jit(lambda p, k: gradient(mlp_loss, p, batch, k))(p, jax.random.fold_in(key, step))
            updates, state = opt.update(g, state, p)
            p = optax.apply_updates(p, updates)
        return p

    base_params, sam_params = run(standard_gradient, optimizer), run(sam_gradient, sam_optimizer)
    for name in params:
        np.testing.assert_allclose(sam_params[name], base_params[name], rtol=1e-6, atol=1e-7)


def test_zero_gradient_gives_no_nan():
    params = {"w": jnp.zeros(2)}
    batch = {"x": np.zeros((4, 2), np.float32)}
    loss, grads = SAM(rho=0.1)(quadratic_loss, params, batch, jax.random.key(0))
    assert np.isfinite(loss) and np.all(np.isfinite(grads["w"]))


def test_sam_differs_from_base_when_rho_positive():
    params, batch = mlp_problem()
    key = jax.random.key(0)
    _, g_sam = SAM(rho=0.5, ascent_size=4)(mlp_loss, params, batch, key)
    _, g = standard_gradient(mlp_loss, params, batch, key)
    assert not np.allclose(g_sam["w1"], g["w1"])


def test_recipe_round_trip_and_defaults():
    recipe = parse_recipe("sam(rho=0.05, m=2) + adafactor(lr=1e-3)")
    assert recipe.method == "sam" and recipe.rho == 0.05 and recipe.base == "adafactor"
    assert parse_recipe(recipe.canonical()) == recipe
    mapping = parse_recipe({"variant": {"name": "sam", "rho": 0.05, "m": 2}, "base": {"name": "adafactor", "lr": 1e-3}})
    assert mapping.canonical() == recipe.canonical()
    _, gradient = parse_recipe("sam + adafactor").build(32)
    assert gradient.ascent_size == 8 and gradient.rho == 0.15  # Algorithm 1 defaults: a = b/4, ρ = 0.15


@pytest.mark.parametrize("spec, batch, message", [
    ("sam(rho=-0.1) + adafactor", None, "rho must be a number >= 0"),
    ("sam(a=64) + adafactor", 32, "a=64 exceeds the batch size b=32"),
    ("sam(m=3) + adafactor", 32, "m=3 must divide"),
    ("lion(lr=1e-3)", None, "valid: ['adafactor', 'adamw']"),
    ("fancy(rho=0.1) + adafactor", None, "valid: ['sam']"),
    ("adafactor(learning_rate=1)", None, "valid: ['lr'"),
    ("sam(0.1) + adafactor", None, "must be named"),
])
def test_bad_recipes_fail_with_a_clear_message(spec, batch, message):
    with pytest.raises(ConfigError, match=None) as err:
        parse_recipe(spec).validate(batch)
    assert message in str(err.value)
