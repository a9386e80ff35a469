"""The hand-derived gradients of the NumPy references (optim_reference.py) against JAX autodiff."""
import jax
import jax.numpy as jnp
import numpy as np

from optim_reference import PROBLEMS, grad, loss, to_jax


# --------------------------------------------------------------------------
# checks of the hand-derived gradients
# --------------------------------------------------------------------------

def test_hand_gradients_match_autodiff():
    for P in PROBLEMS.values():
        p, batch = P.init()
        objective = P.jax_objective()
        want = jax.grad(objective)(to_jax(p), to_jax(batch), None)
        got = grad(P, p, batch)
        np.testing.assert_allclose(loss(P, p, batch), objective(to_jax(p), to_jax(batch), None), rtol=1e-5)
        for k in p:
            np.testing.assert_allclose(got[k], want[k], rtol=1e-4, atol=1e-6)
        cot = np.random.default_rng(1).normal(size=P.logits(p, batch).shape)
        _, vjp = jax.vjp(lambda q: objective.logits_fn(q, to_jax(batch), None), to_jax(p))
        (want_vjp,) = vjp(jnp.asarray(cot, jnp.float32))
        got_vjp = P.vjp(p, batch, cot)
        for k in p:
            np.testing.assert_allclose(got_vjp[k], want_vjp[k], rtol=1e-4, atol=1e-5)
