"""Op records for the primitives behind the NumPy breadth of issue 3: other
bases of exp and log, cube roots, ``sinc``'s Maclaurin coefficients, bit
casts, cumulative products and extrema, ``sort``, and the indexed updates
(``scatter``, ``scatter-mul``, ``scatter-min``, ``scatter-max``).  They join
``tests/op_records.py``'s table (see its docstring for the fields)."""

from __future__ import annotations

import numpy as np
from op_records import (
    BOOL,
    C128,
    F32,
    F64,
    I32,
    I64,
    Arg,
    C,
    OpRecord,
    _index,  # the gather indexer as a NumPy index
    binary,
    unary,
)

import fxad.numpy as fnp
from fxad import lax

_ = (binary, C128, BOOL)


def _unop(name, ref, domain="normal", **kw):
    fun = getattr(lax, name)
    cases = unary(domain) + unary(domain, F32, shapes=[(3,)])
    return OpRecord(name, lambda x: fun(x), ref, tuple(cases), **kw)


def _cumulative_ref(np_fn):
    def ref(x, *, axis, reverse):
        x = np.asarray(x)
        if reverse:
            return np.flip(np_fn(np.flip(x, axis), axis), axis)
        return np_fn(x, axis)

    return ref


def _cumulative_cases(domain):
    return (
        C(Arg((4,), domain), axis=0, reverse=False), C(Arg((4,), domain), axis=0, reverse=True),
        C(Arg((2, 5), domain), axis=1, reverse=False),
        C(Arg((3, 2), domain), axis=0, reverse=True),
        C(Arg((0, 3), domain), axis=0, reverse=False),
        C(Arg((1,), domain), axis=0, reverse=False),
        C(Arg((5,), "small_int", I64), axis=0, reverse=False),
    )


def _sort_ref(*xs, dimension, num_keys, out):
    keys = [np.moveaxis(np.asarray(k), dimension, -1) for k in xs[:num_keys]]
    perm = np.moveaxis(np.lexsort(keys[::-1], axis=-1), -1, dimension)
    return np.take_along_axis(np.asarray(xs[out]), perm, axis=dimension)


def _sort_fun(*xs, dimension, num_keys, out):
    return lax.sort(xs, dimension, True, num_keys)[out]


def _set_ref(operand, updates, *arrays, indexer):
    out = np.array(operand, copy=True)
    out[_index(indexer, arrays)] = updates  # NumPy: the last repeated update wins
    return out


def _ufunc_at_ref(ufunc):
    def ref(operand, updates, *arrays, indexer):
        out = np.array(operand, copy=True)
        ufunc.at(out, _index(indexer, arrays), updates)
        return out

    return ref


def _apart(*shapes):
    """Arguments whose values are all at least 0.2 apart (no ties between the
    operand and the updates of min/max, nor within the updates)."""

    def make(rng):
        sizes = [int(np.prod(s, dtype=np.int64)) for s in shapes]
        v = rng.permutation(sum(sizes)) * 0.3 + rng.uniform(-0.05, 0.05, sum(sizes))
        out, k = [], 0
        for s, n in zip(shapes, sizes):
            out.append(v[k:k + n].reshape(s) - 1.0)
            k += n
        return out

    return make


_REP = np.array([2, 0, 2])


def _scatter_cases(make=None):
    """Cases for a scatter primitive: repeated indices, slices, integers, two
    index arrays, a newaxis, empty updates, and integers."""
    specs = [
        ((4,), (3,), [_REP], (("a", 0),), "repeated_index"),
        ((4,), (2,), [], (("s", 1, 3, 1),), "slice"),
        ((3, 4), (4,), [], (("i", 1), ("s", None, None, None)), "int_row"),
        ((4, 3), (2, 2, 3), [np.array([[1, 1], [0, 3]])], (("a", 0),), "rows_repeated"),
        ((4, 3), (), [np.array(1), np.array(2)], (("a", 0), ("a", 1)), "one_element"),
        ((3, 4), (3, 2), [np.array([0, 2])], (("s", 0, 3, 1), ("a", 0)), "columns"),
        ((3, 4), (3, 3, 1), [np.array([[3], [1], [0]])], (("s", None, None, None), ("a", 0)),
         "column_index_2d"),
        ((3,), (0,), [np.zeros((0,), np.int64)], (("a", 0),), "empty"),
    ]
    cases = []
    for op, up, arrays, indexer, name in specs:
        cases.append(C(op, up, *arrays, indexer=indexer, name=name,
                       make=None if make is None else _with_fixed(make(op, up), arrays)))
    cases.append(C(Arg((5,), "small_int", I64), Arg((3,), "small_int", I64),
                   np.array([4, 4, 1]), indexer=(("a", 0),), name="int64"))
    return cases


def _with_fixed(make, arrays):
    def full(rng):
        return list(make(rng)) + [np.asarray(a) for a in arrays]

    return full


def _apart_for(op, up):
    return _apart(op, up)


RECORDS: list[OpRecord] = [
    # -- elementwise -------------------------------------------------------------
    _unop("exp2", np.exp2),
    _unop("log2", np.log2, "positive"),
    _unop("log10", np.log10, "positive"),
    _unop("cbrt", np.cbrt, "nonzero"),
    OpRecord("sinc_maclaurin", lambda x: fnp.sinc(x), np.sinc, tuple(
        unary() + unary(dtype=F32, shapes=[(3,)])
        + [C(np.array([0.0, 0.7, 0.0, -1.3]), name="zeros"), C(np.array(0.0), name="zero")])),
    OpRecord("bitcast_convert_type",
             lambda x, *, new_dtype: lax.bitcast_convert_type(x, new_dtype),
             lambda x, *, new_dtype: np.asarray(x).view(new_dtype), (
                 C(Arg((2, 3)), new_dtype=I64),
                 C(Arg(()), new_dtype=I64),
                 C(Arg((3,), dtype=F32), new_dtype=I32),
                 C(np.array([0.0, -0.0, np.inf, -np.inf]), new_dtype=I64, name="signed"),
                 C(Arg((4,), "small_int", I64), new_dtype=F64),
             ), diff="zero"),
    # -- scans -------------------------------------------------------------------
    OpRecord("cumprod", lambda x, *, axis, reverse: lax.cumprod(x, axis, reverse),
             _cumulative_ref(lambda x, a: np.cumprod(x, a, dtype=x.dtype)),
             _cumulative_cases("normal") + (
                 C(np.array([2.0, 0.0, -1.5, 0.0, 3.0]), axis=0, reverse=False, name="zeros"),
                 C(np.array([[0.0, 2.0, 3.0], [1.5, 0.0, 0.5]]), axis=1, reverse=True,
                   name="zeros_reverse"),
             )),
    OpRecord("cummax", lambda x, *, axis, reverse: lax.cummax(x, axis, reverse),
             _cumulative_ref(lambda x, a: np.maximum.accumulate(x, a)),
             _cumulative_cases("distinct") + (
                 C(Arg((2, 4), "ties"), axis=1, reverse=False, diff="kink", name="ties"),)),
    OpRecord("cummin", lambda x, *, axis, reverse: lax.cummin(x, axis, reverse),
             _cumulative_ref(lambda x, a: np.minimum.accumulate(x, a)),
             _cumulative_cases("distinct") + (
                 C(Arg((2, 4), "ties"), axis=0, reverse=True, diff="kink", name="ties"),)),
    # -- sort --------------------------------------------------------------------
    OpRecord("sort", _sort_fun, _sort_ref, (
        C(Arg((5,), "distinct"), dimension=0, num_keys=1, out=0),
        C(Arg((3, 4), "distinct"), dimension=1, num_keys=1, out=0),
        C(Arg((3, 4), "distinct"), dimension=0, num_keys=1, out=0),
        C(Arg((2, 3, 2), "distinct"), dimension=1, num_keys=1, out=0),
        C(Arg((0, 3)), dimension=1, num_keys=1, out=0),
        C(np.array([2.0, np.nan, -1.0, np.inf, 0.5]), dimension=0, num_keys=1, out=0,
          diff="values", name="nan_last"),
        C(Arg((2, 5), "small_int", I64), Arg((2, 5)), dimension=1, num_keys=1, out=1,
          name="values_by_int_keys_with_ties"),
        C(Arg((6,), "small_int", I64), Arg((6,), "small_int", I64), Arg((6,)), dimension=0,
          num_keys=2, out=2, name="two_keys"),
        C(Arg((4,), "ties"), np.arange(4), dimension=0, num_keys=1, out=1, diff="values",
          name="argsort_stable"),
        C(Arg((6,), "small_int", I64), dimension=0, num_keys=1, out=0),
    )),
    # -- indexed updates -----------------------------------------------------------
    OpRecord("scatter", lambda x, u, *idx, indexer: lax.scatter(x, u, idx, indexer), _set_ref,
             tuple(_scatter_cases())),
    OpRecord("scatter-mul", lambda x, u, *idx, indexer: lax.scatter_mul(x, u, idx, indexer),
             _ufunc_at_ref(np.multiply), tuple(
                 _scatter_cases()
                 + [C(np.array([1.5, -2.0, 0.5, 3.0]), np.array([0.0, 2.0, 0.0]), _REP,
                      indexer=(("a", 0),), name="zero_updates")]),
             linear=((0,),)),
    OpRecord("scatter-min", lambda x, u, *idx, indexer: lax.scatter_min(x, u, idx, indexer),
             _ufunc_at_ref(np.minimum), tuple(
                 _scatter_cases(_apart_for)
                 + [C(np.array([1.0, 2.0, 0.0, 0.0]), np.array([1.0, 0.0, 0.0]), _REP,
                      indexer=(("a", 0),), diff="kink", name="ties")])),
    OpRecord("scatter-max", lambda x, u, *idx, indexer: lax.scatter_max(x, u, idx, indexer),
             _ufunc_at_ref(np.maximum), tuple(
                 _scatter_cases(_apart_for)
                 + [C(np.array([1.0, 2.0, 0.0, 0.0]), np.array([1.0, 0.0, 0.0]), _REP,
                      indexer=(("a", 0),), diff="kink", name="ties")])),
]
