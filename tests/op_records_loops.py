"""Op records of the loop primitives ``scan`` and ``while``
(``fxad.lax.loops``), joined to ``tests/op_records.py``'s table.

The records call ``lax.scan``, ``lax.fori_loop`` (static bounds: a scan) and
``lax.while_loop`` with bodies of strict lax operations, so the value,
autodiff, vmap and jit suites push each loop through every interpreter:
impl, abstract eval, JVP, linearize's known/unknown split, the transpose of
a linear scan and the batching rules.  NumPy references are the loops
written out in Python.  Bodies cover a smooth body with reverse=False/True,
a linear one (its transpose is checked by the inner-product identity), a
body closing over an operand with xs=None, and a fori_loop.

``while`` has no reverse mode (its trip count is known only at run time), so
its cases check values, vmap (a per-example trip count included) and jit;
its forward-mode derivatives are checked in tests/test_loops.py.
"""

from __future__ import annotations

import numpy as np
from op_records import ALL, F32, Arg, C, OpRecord

from fxad import lax


def _smooth_body(c, x):
    c = lax.add(lax.mul(lax.sin(c), x), lax.mul(c, c.dtype.type(0.5)))
    return c, lax.mul(c, c)


def _scan_smooth(c, xs, *, reverse):
    c, ys = lax.scan(_smooth_body, c, xs, reverse=reverse)
    return lax.add(c, lax.reduce_sum(ys, (0,)))


def _scan_smooth_ref(c, xs, *, reverse):
    ys = np.zeros(xs.shape, np.result_type(c))
    for i in (reversed(range(len(xs))) if reverse else range(len(xs))):
        c = np.sin(c) * xs[i] + c * c.dtype.type(0.5)
        ys[i] = c * c
    return c + ys.sum(0)


def _scan_linear(c, xs):
    c, ys = lax.scan(lambda c, x: (lax.add(lax.mul(c, 0.5), x), lax.mul(c, 2.0)), c, xs)
    return lax.add(c, lax.reduce_sum(ys, (0,)))


def _scan_linear_ref(c, xs):
    total = np.zeros_like(c)
    for x in xs:
        total = total + 2.0 * c
        c = 0.5 * c + x
    return c + total


def _scan_closure(c, a):
    c, ys = lax.scan(lambda c, _: (lax.mul(lax.cos(c), a), lax.exp(lax.mul(c, a))), c, None,
                     length=3)
    return lax.add(c, lax.reduce_sum(ys, (0,)))


def _scan_closure_ref(c, a):
    total = np.zeros_like(c)
    for _ in range(3):
        total = total + np.exp(c * a)
        c = np.cos(c) * a
    return c + total


def _fori(x):
    return lax.fori_loop(1, 4, lambda i, v: lax.add(lax.tanh(v), lax.mul(
        lax.convert_element_type(i, v.dtype), v)), x)


def _fori_ref(x):
    for i in range(1, 4):
        x = np.tanh(x) + i * x
    return x


def _while(x):
    def body(c):
        k, v = c
        return lax.add(k, np.int64(1)), lax.add(lax.mul(v, 1.5), 1.0)

    return lax.while_loop(lambda c: lax.lt(c[1], 6.0), body, (np.int64(0), x))


def _while_value(x):
    return _while(x)[1]


def _while_ref(x):
    while x < 6.0:
        x = x * 1.5 + 1.0
    return x


def _while_count(x):
    k, v = _while(x)
    return lax.add(lax.convert_element_type(k, np.dtype(np.float64)), v)


def _while_count_ref(x):
    k = 0
    while x < 6.0:
        x, k = x * 1.5 + 1.0, k + 1
    return np.float64(k) + x


RECORDS = [
    OpRecord("scan", _scan_smooth, _scan_smooth_ref, (
        C(Arg(()), Arg((4,)), reverse=False),
        C(Arg((3,)), Arg((4, 3)), reverse=False),
        C(Arg((3,)), Arg((4, 3)), reverse=True),
        C(Arg((2,), dtype=F32), Arg((3, 2), dtype=F32), reverse=False),
        C(Arg((3,)), Arg((0, 3)), reverse=False, diff="values", name="length0"),
    )),
    OpRecord("scan", _scan_linear, _scan_linear_ref, (
        C(Arg(()), Arg((5,))),
        C(Arg((2,)), Arg((3, 2))),
    ), linear=(ALL,)),
    OpRecord("scan", _scan_closure, _scan_closure_ref, (
        C(Arg(()), Arg((), "unit")),
        C(Arg((3,)), Arg((3,), "unit")),
    )),
    OpRecord("scan", _fori, _fori_ref, (C(Arg(()), diff="smooth"), C(Arg((2, 2)))),
             tol=1e-4),
    OpRecord("while", _while_value, _while_ref, (
        C(Arg((), "positive")),
        C(Arg(())),
    ), diff="values"),
    OpRecord("while", _while_count, _while_count_ref, (C(Arg(())),), diff="values"),
]
