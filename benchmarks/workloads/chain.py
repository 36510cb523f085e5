"""chain: x of length 16, 300 steps of x = sin(x)*0.5 + x*x*0.1 - tanh(x),
loss sum(x), gradient with respect to the initial x.

Many small elementwise operations on a short vector: per-operation overhead
dominates.
"""

from __future__ import annotations

import numpy as np

from benchmarks.libraries import to_jax, to_torch
from benchmarks.workloads import Workload


def loss(np_, x, steps):
    for _ in range(steps):
        x = np_.sin(x) * 0.5 + x * x * 0.1 - np_.tanh(x)
    return np_.sum(x)


def inputs(small=False):
    rng = np.random.default_rng(0)
    return (rng.uniform(-1.0, 1.0, 16), 20 if small else 300)


def by_hand(x, steps):
    """Reverse mode by hand: store each step's x and tanh(x), then multiply
    the cotangent by d(step)/dx = 0.5 cos x + 0.2 x - (1 - tanh^2 x) backwards."""
    xs, ts = [], []
    for _ in range(steps):
        t = np.tanh(x)
        xs.append(x)
        ts.append(t)
        x = np.sin(x) * 0.5 + x * x * 0.1 - t
    ct = np.ones_like(x)
    for x, t in zip(reversed(xs), reversed(ts)):
        ct = ct * (0.5 * np.cos(x) + 0.2 * x - (1.0 - t * t))
    return ct


def fxad_builder(x, steps):
    import fxad
    import fxad.numpy as fnp

    return fxad.grad(lambda x: loss(fnp, x, steps)), (x,)


def autograd_builder(x, steps):
    import autograd
    import autograd.numpy as anp

    return autograd.grad(lambda x: loss(anp, x, steps)), (x,)


def jax_builder(x, steps):
    import jax
    import jax.numpy as jnp

    return jax.grad(lambda x: loss(jnp, x, steps)), (to_jax(x),)


def torch_builder(x, steps):
    import torch

    def g(x):
        (ct,) = torch.autograd.grad(loss(torch, x, steps), x)
        return ct

    return g, (to_torch(x, requires_grad=True),)


WORKLOADS = [
    Workload(
        name="chain",
        description="x in R^16, 300 steps of x = sin(x)*0.5 + x*x*0.1 - tanh(x), grad of sum(x)",
        inputs=inputs,
        numpy=by_hand,
        builders={"fxad": fxad_builder, "autograd": autograd_builder,
                  "jax": jax_builder, "torch": torch_builder},
    )
]
