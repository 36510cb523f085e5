"""Op records of ``dynamic_slice`` and ``dynamic_update_slice``, joined to
``tests/op_records.py``'s table.

Start indices are drawn from ``small_int`` (-4..4), so the cases cover
in-range starts, negative starts counted from the end, and starts clamped
so that the slice fits; under vmap every example draws its own starts (the
batched-index rules).  The NumPy references apply JAX's semantics
independently: wrap a negative start once, then clamp into ``[0, n - size]``.
"""

from __future__ import annotations

import numpy as np
from op_records import ALL, F32, I64, Arg, C, OpRecord

from fxad import lax


def _starts(shape, idx, sizes):
    out = []
    for i, n, s in zip(idx, shape, sizes, strict=True):
        i = int(i)
        if i < 0:
            i += n
        out.append(min(max(i, 0), n - s))
    return out


def _dynamic_slice_ref(x, *idx, slice_sizes):
    # By integer index arrays (np.ix_), not the impl's basic slicing.
    x = np.asarray(x)
    st = _starts(x.shape, idx, slice_sizes)
    return x[np.ix_(*[np.arange(a, a + s) for a, s in zip(st, slice_sizes)])]


def _dynamic_update_slice_ref(x, u, *idx):
    # Element by element, not the impl's slice assignment.
    out = np.array(x, copy=True)
    u = np.asarray(u)
    st = _starts(out.shape, idx, u.shape)
    for k in np.ndindex(u.shape):
        out[tuple(a + j for a, j in zip(st, k))] = u[k]
    return out


IDX = Arg((), "small_int", I64)

RECORDS = [
    OpRecord("dynamic_slice",
             lambda x, *idx, slice_sizes: lax.dynamic_slice(x, idx, slice_sizes),
             _dynamic_slice_ref, (
                 C((5,), IDX, slice_sizes=(2,)),
                 C((3, 4), IDX, IDX, slice_sizes=(2, 3)),
                 C((3, 4), np.array(-1), np.array(9), slice_sizes=(1, 2), name="wrap_clamp"),
                 C((4, 2, 3), IDX, IDX, IDX, slice_sizes=(3, 2, 1)),
                 C((4,), IDX, slice_sizes=(0,), name="empty"),
                 C((), slice_sizes=(), name="rank0"),
                 C(Arg((3, 4), dtype=F32), IDX, np.array(2, np.int32), slice_sizes=(1, 2)),
                 C(Arg((5,), "small_int", I64), IDX, slice_sizes=(3,)),
             ), linear=(ALL,)),
    OpRecord("dynamic_update_slice",
             lambda x, u, *idx: lax.dynamic_update_slice(x, u, idx),
             _dynamic_update_slice_ref, (
                 C((6,), (3,), IDX),
                 C((3, 4), (2, 2), IDX, IDX),
                 C((3, 4), (1, 4), np.array(-1), np.array(3), name="wrap_clamp"),
                 C((2, 3, 2), (2, 1, 2), IDX, IDX, IDX),
                 C((4,), (0,), IDX, name="empty_update"),
                 C(Arg((3, 4), dtype=F32), Arg((2, 3), dtype=F32), IDX,
                   np.array(1, np.int32)),
                 C(Arg((5,), "small_int", I64), Arg((2,), "small_int", I64), IDX),
             ), linear=(ALL,)),
]
