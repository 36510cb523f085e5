"""Op records of ``cond`` (``fxad.lax.cond`` and ``switch``), joined to
``tests/op_records.py``'s table.

The predicate or index is a fixed argument, so the value, autodiff, vmap and
jit suites run every branch; the vmap suite maps it with the operands (a
batched predicate: every branch runs and ``select_n`` chooses) and, where it
is not the first argument, leaves it unmapped (a ``cond`` of the batched
branches).  The bodies cover two smooth branches, an integer predicate with
a branch closing over an operand (closure conversion), a clamped ``switch``,
a linear ``cond`` (its transpose is checked), pytree outputs whose tangent is
zero in one branch only, and a ``cond`` nested in a branch.
"""

from __future__ import annotations

import numpy as np
from op_records import ALL, F32, F64, I64, Arg, C, OpRecord

from fxad import lax
from fxad.core import get_aval

T, F = np.array(True), np.array(False)


def _smooth(p, x, y):
    return lax.cond(p, lambda x, y: lax.mul(lax.sin(x), y),
                    lambda x, y: lax.add(lax.mul(x, y), lax.exp(y)), x, y)


def _smooth_ref(p, x, y):
    return np.where(p, np.sin(x) * y, x * y + np.exp(y))


def _closure(x, y, n):
    # The branches close over ``y``: under grad it becomes an operand.
    return lax.cond(n, lambda x: lax.mul(lax.mul(x, x), y),
                    lambda x: lax.add(lax.tanh(x), y), x)


def _closure_ref(x, y, n):
    return np.where(n != 0, x * x * y, np.tanh(x) + y)


_SWITCH = [lambda x, y: lax.mul(lax.sin(x), y), lambda x, y: lax.mul(lax.mul(x, y), y),
           lambda x, y: lax.sub(lax.tanh(x), y)]


def _switch(x, y, i):
    return lax.switch(i, _SWITCH, x, y)


def _switch_ref(x, y, i):
    outs = [np.sin(x) * y, x * y * y, np.tanh(x) - y]
    return outs[int(np.clip(i, 0, 2))]


def _linear(p, x, y):
    return lax.cond(p, lambda x, y: lax.sub(lax.add(x, x), y),
                    lambda x, y: lax.add(x, lax.mul(y, np.float64(3.0))), x, y)


def _linear_ref(p, x, y):
    return np.where(p, 2 * x - y, x + 3 * y)


def _tree(x, y, p):
    def yes(ops):
        x, y = ops
        return {"a": lax.mul(x, y), "b": y}, np.int64(1)

    def no(ops):
        x, y = ops
        # ``b`` is constant here: its tangent is zero in this branch only.
        two = lax.broadcast_in_dim(np.float64(2.0), get_aval(y).shape, ())
        return {"a": lax.sin(x), "b": two}, np.int64(2)

    out, n = lax.cond(p, yes, no, (x, y))
    return lax.add(lax.add(out["a"], lax.mul(out["b"], out["b"])),
                   lax.convert_element_type(n, np.float64))


def _tree_ref(x, y, p):
    return np.where(p, x * y + y * y + 1.0, np.sin(x) + 4.0 + 2.0)


def _nested(p, q, x, y):
    def outer_true(q, x, y):
        return lax.cond(q, lambda x, y: lax.mul(lax.cos(x), y),
                        lambda x, y: lax.mul(x, lax.sin(y)), x, y)

    return lax.cond(p, outer_true, lambda q, x, y: lax.mul(lax.exp(x), y), q, x, y)


def _nested_ref(p, q, x, y):
    return np.where(p, np.where(q, np.cos(x) * y, x * np.sin(y)), np.exp(x) * y)


SHAPES = [(), (3,), (2, 3)]


def _xy(shape, dtype=F64):
    return Arg(shape, dtype=dtype), Arg(shape, dtype=dtype)


RECORDS = [
    OpRecord("cond", _smooth, _smooth_ref,
             tuple(C(p, *_xy(s)) for p in (T, F) for s in SHAPES)
             + (C(T, *_xy((3,), F32)), C(F, *_xy((3,), F32)))),
    OpRecord("cond", _closure, _closure_ref,
             tuple(C(*_xy(s), np.array(n, I64)) for n in (0, 3) for s in SHAPES[:2])),
    OpRecord("cond", _switch, _switch_ref,
             tuple(C(*_xy(s), np.array(i, I64)) for i in (-1, 0, 1, 2, 5) for s in SHAPES[:2])),
    OpRecord("cond", _linear, _linear_ref,
             tuple(C(p, *_xy(s)) for p in (T, F) for s in SHAPES[:2]), linear=(ALL,)),
    OpRecord("cond", _tree, _tree_ref,
             tuple(C(*_xy(s), p) for p in (T, F) for s in SHAPES[:2])),
    OpRecord("cond", _nested, _nested_ref,
             tuple(C(p, q, *_xy(s)) for p, q in ((T, T), (T, F), (F, T)) for s in SHAPES[:2])),
]
