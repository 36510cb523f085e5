"""hessian: the full Hessian of the Rosenbrock function in 64 dimensions.

Second order through ``hessian`` (forward over reverse where the library
offers it): one forward pass per input element, each through the gradient.
"""

from __future__ import annotations

import numpy as np

from benchmarks.libraries import to_jax, to_torch
from benchmarks.workloads import Workload


def rosenbrock(np_, x):
    return np_.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def inputs(small=False):
    return (np.random.default_rng(0).uniform(-2.0, 2.0, 8 if small else 64),)


def by_hand(x):
    """The analytic Hessian, tridiagonal:
    H[i,i] = 1200 x_i^2 - 400 x_{i+1} + 2 (i < n-1), plus 200 (i > 0);
    H[i,i+1] = H[i+1,i] = -400 x_i."""
    n = x.shape[0]
    diag = np.zeros(n)
    diag[:-1] = 1200.0 * x[:-1] ** 2 - 400.0 * x[1:] + 2.0
    diag[1:] += 200.0
    off = -400.0 * x[:-1]
    H = np.diag(diag)
    i = np.arange(n - 1)
    H[i, i + 1] = off
    H[i + 1, i] = off
    return H


def fxad_builder(x):
    import fxad
    import fxad.numpy as fnp

    return fxad.hessian(lambda x: rosenbrock(fnp, x)), (x,)


def autograd_builder(x):
    import autograd
    import autograd.numpy as anp

    return autograd.hessian(lambda x: rosenbrock(anp, x)), (x,)


def jax_builder(x):
    import jax
    import jax.numpy as jnp

    return jax.hessian(lambda x: rosenbrock(jnp, x)), (to_jax(x),)


def torch_builder(x):
    import torch

    return torch.func.hessian(lambda x: rosenbrock(torch, x)), (to_torch(x),)


WORKLOADS = [
    Workload(
        name="hessian",
        description="full Hessian of Rosenbrock in 64 dimensions",
        inputs=inputs,
        numpy=by_hand,
        builders={"fxad": fxad_builder, "autograd": autograd_builder,
                  "jax": jax_builder, "torch": torch_builder},
        notes={"autograd": "autograd.hessian is reverse over reverse (no forward mode there)."},
    )
]
