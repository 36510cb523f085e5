"""jacobian: f(x) = tanh(A @ x) * x on R^100 with a fixed 100x100 A; the full
Jacobian by forward mode (``jacobian-fwd``) and by reverse mode (``jacobian-rev``).

Forward mode pushes 100 tangents through f, reverse mode pulls 100
cotangents back; both rows compare with the same hand-written Jacobian.
"""

from __future__ import annotations

import numpy as np

from benchmarks.libraries import to_jax, to_torch
from benchmarks.workloads import Workload


def f(np_, A, x):
    return np_.tanh(A @ x) * x


def inputs(small=False):
    n = 10 if small else 100
    rng = np.random.default_rng(0)
    return (rng.normal(size=(n, n)) / np.sqrt(n), rng.normal(size=n))


def by_hand(A, x):
    """J = diag(x) diag(1 - tanh^2(Ax)) A + diag(tanh(Ax))."""
    t = np.tanh(A @ x)
    return (x * (1.0 - t * t))[:, None] * A + np.diag(t)


def _fxad(mode):
    def builder(A, x):
        import fxad
        import fxad.numpy as fnp

        jac = fxad.jacfwd if mode == "fwd" else fxad.jacrev
        return jac(lambda x: f(fnp, A, x)), (x,)

    return builder


def _autograd(mode):
    def builder(A, x):
        import autograd
        import autograd.numpy as anp

        def fun(x):
            return f(anp, A, x)

        if mode == "rev":
            return autograd.jacobian(fun), (x,)
        # autograd has no jacfwd: stack the forward-mode JVPs along the basis
        basis = list(np.eye(x.shape[0]))

        def jacfwd(x):
            jvp = autograd.make_jvp(fun)(x)
            return anp.stack([jvp(e)[1] for e in basis], axis=1)

        return jacfwd, (x,)

    return builder


def _jax(mode):
    def builder(A, x):
        import jax
        import jax.numpy as jnp

        A_j = to_jax(A)
        jac = jax.jacfwd if mode == "fwd" else jax.jacrev
        return jac(lambda x: f(jnp, A_j, x)), (to_jax(x),)

    return builder


def _torch(mode):
    def builder(A, x):
        import torch

        A_t = to_torch(A)
        jac = torch.func.jacfwd if mode == "fwd" else torch.func.jacrev
        return jac(lambda x: f(torch, A_t, x)), (to_torch(x),)

    return builder


WORKLOADS = [
    Workload(
        name=f"jacobian-{mode}",
        description=f"Jacobian of tanh(A @ x) * x on R^100 by jac{mode}",
        inputs=inputs,
        numpy=by_hand,
        builders={"fxad": _fxad(mode), "autograd": _autograd(mode),
                  "jax": _jax(mode), "torch": _torch(mode)},
        rtol=1e-7,  # A @ x summed in another order
        atol_scale=1e-12,
        notes=({"autograd": "autograd has no jacfwd: 100 forward-mode make_jvp calls, stacked."}
               if mode == "fwd" else {}),
    )
    for mode in ("fwd", "rev")
]
