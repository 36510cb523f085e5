"""higher: grad(grad(grad(grad(tanh)))) at 0.3.

Nested transformations: each order differentiates the program the previous
one built, so the work grows with the order.
"""

from __future__ import annotations

import numpy as np

from benchmarks.libraries import to_torch
from benchmarks.workloads import Workload


def inputs(small=False):
    return (0.3,)


def by_hand(x):
    """tanh'''' = 16 t s^2 - 8 t^3 s with t = tanh x, s = 1 - t^2."""
    t = np.tanh(x)
    s = 1.0 - t * t
    return 16.0 * t * s * s - 8.0 * t * t * t * s


def fxad_builder(x):
    import fxad
    import fxad.numpy as fnp

    return fxad.grad(fxad.grad(fxad.grad(fxad.grad(fnp.tanh)))), (x,)


def autograd_builder(x):
    import autograd
    import autograd.numpy as anp

    return autograd.grad(autograd.grad(autograd.grad(autograd.grad(anp.tanh)))), (x,)


def jax_builder(x):
    import jax
    import jax.numpy as jnp

    return jax.grad(jax.grad(jax.grad(jax.grad(jnp.tanh)))), (x,)


def torch_builder(x):
    import torch

    def g(x):
        y = torch.tanh(x)
        for k in range(4):
            (y,) = torch.autograd.grad(y, x, create_graph=k < 3)
        return y

    return g, (to_torch(x, requires_grad=True),)


WORKLOADS = [
    Workload(
        name="higher",
        description="grad(grad(grad(grad(tanh)))) at 0.3",
        inputs=inputs,
        numpy=by_hand,
        builders={"fxad": fxad_builder, "autograd": autograd_builder,
                  "jax": jax_builder, "torch": torch_builder},
        rtol=1e-9,
    )
]
