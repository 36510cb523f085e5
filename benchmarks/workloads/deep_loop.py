"""deep-loop: the deep workload (a scalar through 20,000 steps of
x = 0.999*x + 0.001*sin(x), grad) written as one ``fori_loop`` instead of a
Python loop.

The trip count is a Python int, so the loop is a ``scan``: reverse mode stores
one residual per step, and a jit compiles the loop once instead of tracing
20,000 copies of its body. The hand-written derivative is deep's.
"""

from __future__ import annotations

from benchmarks.workloads import Workload, deep


def _step(np_, x):
    return 0.999 * x + 0.001 * np_.sin(x)


def fxad_builder(x, steps):
    import fxad
    import fxad.numpy as fnp
    from fxad import lax

    def run(x):
        return lax.fori_loop(0, steps, lambda i, x: _step(fnp, x), x)

    return fxad.grad(run), (x,)


def jax_builder(x, steps):
    import jax
    import jax.numpy as jnp

    def run(x):
        return jax.lax.fori_loop(0, steps, lambda i, x: _step(jnp, x), x)

    return jax.grad(run), (x,)


WORKLOADS = [
    Workload(
        name="deep-loop",
        description="deep as one 20,000-step fori_loop (static bounds), grad (and peak memory)",
        inputs=deep.inputs,
        numpy=deep.by_hand,
        builders={"fxad": fxad_builder, "jax": jax_builder},
        rtol=1e-9,
        memory=True,
    )
]
