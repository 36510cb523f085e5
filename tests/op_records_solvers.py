"""Op records of ``custom_root`` and ``linear_solve`` (``fxad.lax.custom_root``
and ``custom_linear_solve``), joined to ``tests/op_records.py``'s table.

The root is a square root found by Newton's method in a ``while_loop`` (a
counted loop, so float32 stops too): the autodiff suites only pass if the
derivative comes from the implicit function theorem, since reverse mode
cannot transpose the loop.  The linear solves close over a well-conditioned
matrix built from an argument (so grad reaches the matrix entries through
``matvec``), with a transposed solve given explicitly or by ``symmetric``.
"""

from __future__ import annotations

import numpy as np
from op_records import F32, F64, Arg, C, OpRecord

import fxad.numpy as jnp
from fxad import lax


def _newton(f, x0):
    def step(c):
        i, x = c
        return i + 1, x - f(x) / (2 * x)

    return lax.while_loop(lambda c: c[0] < 30, step, (0, x0))[1]


def _sqrt(a):
    return lax.custom_root(lambda x: x * x - a, jnp.ones_like(a), _newton,
                           lambda g, y: y / g(jnp.ones_like(y)))


def _sqrt_aux(a):
    # The solve's aux output (the residual at the root) gets a zero tangent.
    def solve(f, x0):
        x = _newton(f, x0)
        return x, f(x)

    x, res = lax.custom_root(lambda x: x * x - a, jnp.ones_like(a), solve,
                             lambda g, y: y / g(jnp.ones_like(y)), has_aux=True)
    return x + res  # res is ~0 at the root, and its derivative is zero too


def _matrix(m):
    n = m.shape[-1]
    return 0.3 * m + 3.0 * jnp.eye(n, dtype=m.dtype)


def _solve(m, b):
    a = _matrix(m)
    return lax.custom_linear_solve(lambda x: a @ x, b, lambda mv, b: jnp.linalg.solve(a, b),
                                   lambda vm, b: jnp.linalg.solve(a.T, b))


def _solve_ref(m, b):
    return np.linalg.solve(0.3 * m + 3.0 * np.eye(m.shape[-1]), b).astype(b.dtype)


def _symmetric(m, b):
    a = _matrix(m @ m.T)
    return lax.custom_linear_solve(lambda x: a @ x, b, lambda mv, b: jnp.linalg.solve(a, b),
                                   symmetric=True)


def _symmetric_ref(m, b):
    return np.linalg.solve(0.3 * m @ m.T + 3.0 * np.eye(m.shape[-1]), b)


def _solve_aux(m, b):
    # has_aux: the solve also returns a diagnostic, which this function drops.
    a = _matrix(m)

    def solve(mv, b):
        x = jnp.linalg.solve(a, b)
        return x, jnp.sum(jnp.abs(mv(x) - b))

    return lax.custom_linear_solve(lambda x: a @ x, b, solve, symmetric=False,
                                   transpose_solve=lambda vm, b: (jnp.linalg.solve(a.T, b),
                                                                  np.int64(0)),
                                   has_aux=True)[0]


def _pos(shape, dtype=F64):
    return Arg(shape, "positive", dtype)


RECORDS = [
    OpRecord("custom_root", _sqrt, np.sqrt,
             (C(_pos(())), C(_pos((3,))), C(_pos((2, 3))), C(_pos((3,), F32)))),
    OpRecord("custom_root", _sqrt_aux, np.sqrt, (C(_pos(())), C(_pos((3,))))),
    OpRecord("linear_solve", _solve, _solve_ref,
             (C((3, 3), (3,)), C((3, 3), (3, 2)), C(Arg((2, 2), dtype=F32), Arg((2,), dtype=F32))),
             linear=((1,),)),
    OpRecord("linear_solve", _solve_aux, _solve_ref, (C((3, 3), (3,)), C((2, 2), (2, 3))),
             linear=((1,),)),
    OpRecord("linear_solve", _symmetric, _symmetric_ref,
             (C((3, 3), (3,)), C((2, 2), (2, 2))), linear=((1,),)),
]
