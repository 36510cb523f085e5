"""seed: the gradient of x1*x2 + exp(x1*x2) - sin(x2) at the scalars (1.5, 0.5).

The tutorial's example; it measures the fixed cost of one ``grad`` call on
Python floats, where the arithmetic itself is a handful of scalar operations.
"""

from __future__ import annotations

import numpy as np

from benchmarks.libraries import to_torch
from benchmarks.workloads import Workload


def f(np_, x1, x2):
    """The function, written once for any NumPy-like namespace ``np_``."""
    return x1 * x2 + np_.exp(x1 * x2) - np_.sin(x2)


def inputs(small=False):
    return (1.5, 0.5)


def by_hand(x1, x2):
    """d/dx1 = x2 (1 + e^{x1 x2}), d/dx2 = x1 (1 + e^{x1 x2}) - cos x2."""
    e = np.exp(x1 * x2)
    return (x2 + x2 * e, x1 + x1 * e - np.cos(x2))


def fxad_builder(x1, x2):
    import fxad
    import fxad.numpy as fnp

    return fxad.grad(lambda a, b: f(fnp, a, b), argnums=(0, 1)), (x1, x2)


def autograd_builder(x1, x2):
    import autograd
    import autograd.numpy as anp

    return autograd.grad(lambda a, b: f(anp, a, b), argnum=(0, 1)), (x1, x2)


def jax_builder(x1, x2):
    import jax
    import jax.numpy as jnp

    return jax.grad(lambda a, b: f(jnp, a, b), argnums=(0, 1)), (x1, x2)


def torch_builder(x1, x2):
    import torch

    def g(a, b):
        return torch.autograd.grad(f(torch, a, b), (a, b))

    return g, to_torch((x1, x2), requires_grad=True)


WORKLOADS = [
    Workload(
        name="seed",
        description="grad of x1*x2 + exp(x1*x2) - sin(x2) at scalars (1.5, 0.5)",
        inputs=inputs,
        numpy=by_hand,
        builders={"fxad": fxad_builder, "autograd": autograd_builder,
                  "jax": jax_builder, "torch": torch_builder},
    )
]
