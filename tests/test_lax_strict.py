"""``fxad.lax`` primitives have one strictness in every mode: an operand
pair that jit's staging rejects (mixed dtypes, shapes that are neither equal
nor 0-d, an integer where a float is required) raises the same TypeError,
with the same message, eagerly, under grad, under vmap and under jit.
``fxad.numpy`` keeps promoting and broadcasting, so user code never sees it."""

from __future__ import annotations

import re

import numpy as np
import pytest

import fxad
import fxad.numpy as fnp
from fxad import lax

F32, F64, I32, I64 = np.float32, np.float64, np.int32, np.int64

# name -> (function, dtype of a valid operand pair)
BINARY = {
    "add": (lax.add, F64), "sub": (lax.sub, F64), "mul": (lax.mul, F64),
    "div": (lax.div, F64), "pow": (lax.pow, F64), "max": (lax.max, F64),
    "min": (lax.min, F64), "rem": (lax.rem, F64), "atan2": (lax.atan2, F64),
    "eq": (lax.eq, F64), "ne": (lax.ne, F64), "lt": (lax.lt, F64), "le": (lax.le, F64),
    "gt": (lax.gt, F64), "ge": (lax.ge, F64),
    "and": (lax.bitwise_and, I64), "or": (lax.bitwise_or, I64),
    "xor": (lax.bitwise_xor, I64),
    "igamma": (lax.igamma, F64), "igammac": (lax.igammac, F64),
}
NARROW = {F64: F32, I64: I32}


def _operands(dtype, shapes, dtypes=None):
    dtypes = dtypes or (dtype, dtype)
    return [(np.arange(int(np.prod(s))).reshape(s) % 3 + 1).astype(d)
            for s, d in zip(shapes, dtypes)]


def _run(mode, op, args):
    if mode == "eager":
        return op(*args)
    if mode == "jit":
        return fxad.jit(op)(*args)
    if mode == "vmap":  # per-example operands are ``args``: the same rule applies
        return fxad.vmap(op)(*[np.stack([a, a]) for a in args])
    if mode == "grad":  # the op sees a tracer of grad; its output is beside the point
        *rest, a = args  # the last operand (igamma has no derivative in its first)
        return fxad.grad(lambda x: (op(*rest, x), fnp.sum(x))[1])(a)
    raise AssertionError(mode)


def _error(mode, op, args):
    with pytest.raises(TypeError) as info:
        _run(mode, op, args)
    return str(info.value)


def _modes(dtype):
    return ("eager", "vmap", "jit") + (("grad",) if dtype == F64 else ())


BAD_CASES = [
    pytest.param(name, kind, mode, id=f"{name}-{kind}-{mode}")
    for name, (_, dtype) in BINARY.items()
    for kind in ("dtype", "shape")
    for mode in _modes(dtype)
]


@pytest.mark.parametrize("name, kind, mode", BAD_CASES)
def test_binary_primitive_rejects_what_staging_rejects(name, kind, mode):
    op, dtype = BINARY[name]
    if kind == "dtype":
        args = _operands(dtype, [(3,), (3,)], (NARROW[dtype], dtype))
        want = (f"lax.{name} requires arguments of one dtype, got "
                f"{np.dtype(NARROW[dtype]).name}, {np.dtype(dtype).name}")
    else:
        args = _operands(dtype, [(2, 3), (2, 1)])
        short = "f64" if dtype == F64 else "i64"
        want = (f"lax.{name} requires equal shapes or a 0-d operand, got "
                f"{short}[2,3] and {short}[2,1]")
    msg = _error(mode, op, args)
    assert msg.startswith(want), msg
    assert msg == _error("jit", op, args)  # the message jit gives, word for word


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("mode", ["eager", "vmap", "jit", "grad"])
def test_binary_primitive_accepts_equal_dtypes_and_0d_operands(name, mode):
    op, dtype = BINARY[name]
    if mode == "grad" and dtype != F64:
        return  # integer operands have no gradient; the other modes cover them
    x, y = _operands(dtype, [(3,), (3,)])
    s = dtype(2)
    for args in ((x, y), (x, s), (s, y)):
        expected = op(*args)
        got = _run(mode, op, args)
        if mode == "grad":
            np.testing.assert_array_equal(got, np.ones(np.shape(args[-1])))
            continue
        if mode == "vmap":
            expected = np.stack([expected, expected])
        assert np.asarray(got).dtype == np.asarray(expected).dtype
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("mode", ["eager", "vmap", "jit"])
@pytest.mark.parametrize("name", ["sin", "exp", "log", "sqrt", "tanh", "floor", "erf"])
def test_float_unop_rejects_integers_in_every_mode(name, mode):
    op = getattr(lax, name)
    x = np.arange(3, dtype=I64)
    msg = _error(mode, op, [x])
    assert re.match(rf"lax\.{name} requires a (real )?floating-point input, got int64", msg), msg
    assert msg == _error("jit", op, [x])


def test_floor_rejects_complex_in_every_mode():
    x = np.ones(3, np.complex128)
    for mode in ("eager", "vmap", "jit"):
        assert _error(mode, lax.floor, [x]) == \
            "lax.floor requires a real floating-point input, got complex128"


OTHER = {
    "dot_general": (lambda x, y: lax.dot_general(x, y, (((0,), (0,)), ((), ()))),
                    "lax.dot_general requires arguments of one dtype"),
    "concatenate": (lambda x, y: lax.concatenate([x, y], 0),
                    "concatenate"),
    "select_n": (lambda x, y: lax.select_n(lax.gt(y, y), lax.convert_element_type(x, F32), y),
                 "lax.select_n requires arguments of one dtype"),
    "complex": (lambda x, y: lax.complex(x, y), "lax.complex"),
}


@pytest.mark.parametrize("mode", ["eager", "vmap", "jit", "grad"])
@pytest.mark.parametrize("name", sorted(OTHER))
def test_other_primitives_reject_mixed_dtypes_in_every_mode(name, mode):
    op, want = OTHER[name]
    x, y = np.ones(3, F32), np.ones(3, F64)
    msg = _error(mode, op, [x, y])
    assert want in msg, msg
    assert msg == _error("jit", op, [x, y])


@pytest.mark.parametrize("mode", ["eager", "vmap", "jit", "grad"])
def test_numpy_layer_still_promotes_and_broadcasts(mode):
    x = np.array([1.0, 2.0, 3.0], F32)
    y = np.array([[0.5], [2.0]])
    def f(a, b):
        return fnp.sum(fnp.add(a, b) * fnp.maximum(a, 2) + a * 2.0)

    if mode == "grad":
        got = fxad.grad(f)(x, y)
        assert got.dtype == np.float32
        # d/da of sum over (2, 3) of (a + b) * max(a, 2) + 2a
        m = np.maximum(x, 2)
        dm = (x > 2).astype(np.float64) + 0.5 * (x == 2)
        expected = ((m + (x + y) * dm) + 2.0).sum(axis=0)
        np.testing.assert_allclose(got, expected, rtol=1e-6)
        return
    got = _run(mode, f, [x, y])
    expected = np.sum(np.add(x, y) * np.maximum(x, 2) + x * 2.0)
    if mode == "vmap":
        expected = np.stack([expected, expected])
    assert np.asarray(got).dtype == np.float64
    np.testing.assert_allclose(got, expected, rtol=1e-6)


# Primitives whose abstract eval accepts every operand (it only computes the
# output aval), so they need no check.  A new primitive with a staging-time
# rule must call ``lax.def_strict`` in its block, or this test names it.
NO_RULE = {"neg", "integer_pow", "abs", "sign", "not", "is_finite", "convert_element_type",
           "real", "conj", "stop_gradient", "rev"}


def test_every_primitive_with_a_staging_rule_is_strict_in_every_mode():
    import fxad.lax.fft
    import fxad.lax.lax
    import fxad.lax.linalg
    import fxad.lax.special
    from fxad.core import Primitive

    # fxad.lax's primitives (call primitives of the interpreters are not its).
    prims = {p for m in (fxad.lax.lax, fxad.lax.linalg, fxad.lax.special, fxad.lax.fft)
             for p in vars(m).values() if isinstance(p, Primitive)}
    assert len(prims) > 100
    unchecked = {p.name for p in prims if p.check is None}
    assert unchecked <= NO_RULE, (
        f"primitives without a def_strict check: {sorted(unchecked - NO_RULE)}; call "
        "fxad.lax.def_strict(prim) in their block (or list them in NO_RULE if their "
        "abstract eval can never raise)")


SOP_BAD = {
    "odd": ([(3,)] * 3, None,
            "lax.sum_of_products takes its operands in pairs (x1, y1, x2, y2, ...), got 3 "
            "operand(s)"),
    "dtype": ([(3,)] * 4, (F64, F64, F32, F64),
              "lax.sum_of_products requires arguments of one dtype, got float64, float64, "
              "float32, float64"),
    "shape": ([(2, 3), (2, 3), (), (3,)], None,
              "lax.sum_of_products requires operands of one shape or 0-d, got f64[2,3], "
              "f64[2,3], f64[], f64[3]"),
}


@pytest.mark.parametrize("mode", ["eager", "vmap", "jit", "grad"])
@pytest.mark.parametrize("kind", sorted(SOP_BAD))
def test_sum_of_products_rejects_what_staging_rejects(kind, mode):
    shapes, dtypes, want = SOP_BAD[kind]
    if mode == "grad" and dtypes is not None:
        return  # the differentiated operand is the last, float64: the dtype case is vmap's
    args = [(np.arange(int(np.prod(s))).reshape(s) % 3 + 1).astype(d)
            for s, d in zip(shapes, dtypes or [F64] * len(shapes))]
    msg = _error(mode, lax.sum_of_products, args)
    assert msg.startswith(want), msg
    assert msg == _error("jit", lax.sum_of_products, args)


@pytest.mark.parametrize("mode", ["eager", "vmap", "jit", "grad"])
def test_sum_of_products_accepts_one_shape_and_0d_operands(mode):
    x = np.array([1.0, 2.0, 3.0])
    s = np.float64(2.0)
    for args in ((x, x, x, x), (x, s, s, x), (s, s, s, s), (s, x, x, s, x, x)):
        expected = np.multiply(args[0], args[1])
        for i in range(2, len(args), 2):
            expected = expected + np.multiply(args[i], args[i + 1])
        got = _run(mode, lax.sum_of_products, args)
        if mode == "grad":  # d/d(last) of sum(...) with the last a product's factor
            np.testing.assert_array_equal(got, np.ones(np.shape(args[-1])))
            continue
        if mode == "vmap":
            expected = np.stack([expected, expected])
        assert np.asarray(got).dtype == np.float64
        np.testing.assert_array_equal(got, expected)


def test_sum_of_products_transpose_rejects_nonlinear_uses():
    from fxad.core import shaped
    from fxad.interpreters.ad import UndefinedPrimal, transpose_rules

    rule = transpose_rules[lax.sum_of_products_p]
    u = UndefinedPrimal(shaped((3,), np.dtype(F64)))
    c = np.ones(3)
    with pytest.raises(TypeError, match="not linear in both factors of a product"):
        rule(c, u, u, c, u)
    with pytest.raises(TypeError, match="a product of two constants makes it affine"):
        rule(c, u, c, c, c)
    # a linear use: each linear factor's cotangent is ct times its partner
    ct = np.array([1.0, 2.0, 3.0])
    y, z = np.array([4.0, 5.0, 6.0]), np.float64(-2.0)
    cts = rule(ct, u, y, UndefinedPrimal(shaped((), np.dtype(F64))), z)
    assert cts[1] is None and cts[3] is None
    np.testing.assert_array_equal(cts[0], ct * y)
    np.testing.assert_array_equal(cts[2], np.sum(ct * z))
