"""deep: a scalar through 20,000 steps of x = 0.999*x + 0.001*sin(x); the
gradient, and the peak memory of one gradient call.

A long, thin graph: a recursive backward pass would overflow the stack, and
every step's residual must be stored until the backward pass reaches it.
"""

from __future__ import annotations

import numpy as np

from benchmarks.libraries import to_torch
from benchmarks.workloads import Workload


def run(np_, x, steps):
    for _ in range(steps):
        x = 0.999 * x + 0.001 * np_.sin(x)
    return x


def inputs(small=False):
    return (0.5, 200 if small else 20_000)


def by_hand(x, steps):
    """Forward loop storing cos(x_k), then the backward product of
    d(step)/dx = 0.999 + 0.001 cos(x_k)."""
    cs = []
    for _ in range(steps):
        cs.append(np.cos(x))
        x = 0.999 * x + 0.001 * np.sin(x)
    ct = 1.0
    for c in reversed(cs):
        ct = ct * (0.999 + 0.001 * c)
    return ct


def fxad_builder(x, steps):
    import fxad
    import fxad.numpy as fnp

    return fxad.grad(lambda x: run(fnp, x, steps)), (x,)


def autograd_builder(x, steps):
    import autograd
    import autograd.numpy as anp

    return autograd.grad(lambda x: run(anp, x, steps)), (x,)


def jax_builder(x, steps):
    import jax
    import jax.numpy as jnp

    return jax.grad(lambda x: run(jnp, x, steps)), (x,)


def torch_builder(x, steps):
    import torch

    def g(x):
        (ct,) = torch.autograd.grad(run(torch, x, steps), x)
        return ct

    return g, (to_torch(x, requires_grad=True),)


WORKLOADS = [
    Workload(
        name="deep",
        description="scalar, 20,000 steps of x = 0.999*x + 0.001*sin(x), grad (and peak memory)",
        inputs=inputs,
        numpy=by_hand,
        builders={"fxad": fxad_builder, "autograd": autograd_builder,
                  "jax": jax_builder, "torch": torch_builder},
        rtol=1e-9,
        memory=True,
        skip={"jax-jit": "jax.jit unrolls the 20,000-step Python loop; with jax 0.10.2 here the "
                         "compile crashed the process (SIGSEGV) after 8 min at 5.3 GB RSS "
                         "(--force tries it, in this process)"},
    )
]
