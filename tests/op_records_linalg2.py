"""Op records of the LU primitives (``lax.linalg.lu``,
``lax.linalg.lu_pivots_to_permutation``), joined to ``tests/op_records.py``.

LU inputs are well-conditioned matrices with their rows shuffled, so the
pivots are nontrivial and each pivot wins by a margin far beyond a
finite-difference step (the pivot choice, piecewise constant, stays put).
"""

from __future__ import annotations

import numpy as np
from op_records import C128, F32, F64, I32, Arg, C, OpRecord

from fxad.lax import linalg


def _shuffled(shape, dtype=F64):
    *batch, n, _ = shape

    def draw(rng):
        a = rng.standard_normal(shape) + 3.0 * np.eye(n)
        if np.dtype(dtype).kind == "c":
            a = a + 1j * rng.standard_normal(shape)
        a = a[..., rng.permutation(n), :]
        return [a.astype(dtype)]

    return draw


def _lu_ref(a):
    import scipy.linalg

    a = np.asarray(a)
    out = np.empty_like(a)
    for idx in np.ndindex(*a.shape[:-2]):
        out[idx] = scipy.linalg.lu_factor(a[idx])[0]
    return out


def _pivots(shape, n):
    def draw(rng):
        # LAPACK's pivots: row i is swapped with a row at or below it.
        return [np.stack([rng.integers(np.arange(n), n) for _ in np.ndindex(*shape[:-1])])
                .reshape(shape).astype(np.int32)]

    return draw


def _pivots_ref(pivots, *, permutation_size):
    pivots = np.asarray(pivots)
    out = np.empty(pivots.shape[:-1] + (permutation_size,), np.int32)
    for idx in np.ndindex(*pivots.shape[:-1]):
        perm = np.arange(permutation_size)
        for i, p in enumerate(pivots[idx]):
            perm[i], perm[p] = perm[p], perm[i]
        out[idx] = perm
    return out


def _c(make, *shapes, dtype=F64, **params):
    return C(*[Arg(s, dtype=dtype) for s in shapes], make=make, **params)


RECORDS = [
    OpRecord("lu", lambda a: linalg.lu(a)[0], _lu_ref, (
        _c(_shuffled((3, 3)), (3, 3)),
        _c(_shuffled((4, 4)), (4, 4)),
        _c(_shuffled((2, 3, 3)), (2, 3, 3)),
        _c(_shuffled((1, 1)), (1, 1)),
        _c(_shuffled((3, 3), C128), (3, 3), dtype=C128),
        _c(_shuffled((3, 3), F32), (3, 3), dtype=F32),
    )),
    OpRecord("lu_pivots_to_permutation",
             lambda p, *, permutation_size: linalg.lu_pivots_to_permutation(p, permutation_size),
             _pivots_ref, (
                 C(Arg((4,), dtype=I32), make=_pivots((4,), 4), permutation_size=4),
                 C(Arg((2, 3), dtype=I32), make=_pivots((2, 3), 3), permutation_size=3),
                 C(Arg((2,), dtype=I32), make=_pivots((2,), 2), permutation_size=4),
             ), diff="none"),
]
