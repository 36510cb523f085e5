"""The Tracer as an array: Python operators (with NumPy values on either
side), ndarray attributes and methods, iteration, and the errors for
conversions that would need a concrete value."""

from __future__ import annotations

import operator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fxad
import fxad.numpy as fnp
from fxad.core import Tracer
from fxad.test_util import check_grads

examples = settings(deadline=None, max_examples=20, derandomize=True)


def assert_same(actual, expected):
    a, e = np.asarray(actual), np.asarray(expected)
    assert a.dtype == e.dtype and a.shape == e.shape, (a.dtype, a.shape, e.dtype, e.shape)
    np.testing.assert_allclose(a, e, rtol=1e-12, atol=1e-12)


def normal(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def positive(shape, seed=0):
    return np.random.default_rng(seed).uniform(0.5, 2.0, shape)


def check(f, args, grads=True):
    """``f`` on tracers equals ``f`` on the NumPy arrays themselves (staged and
    under jvp), its staged results are tracers, and its derivatives check."""
    expected = f(*args)

    def staged(*a):
        out = f(*a)
        assert isinstance(out, Tracer), type(out)
        return out

    assert_same(fxad.make_jaxpr(staged)(*args)(*args)[0], expected)
    if all(np.issubdtype(np.asarray(a).dtype, np.inexact) for a in args):
        # (outputs without a derivative, such as comparisons, leave jvp as arrays)
        primal, _ = fxad.jvp(f, args, tuple(np.zeros_like(a) for a in args))
        assert_same(primal, expected)
        if grads:
            check_grads(f, args, order=2, modes=("fwd", "rev"))


# ---------------------------------------------------------------------------
# Operators

ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}
COMPARE = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
           "==": operator.eq, "!=": operator.ne}


@pytest.mark.parametrize("op", list(ARITH))
@examples
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                                min_side=0, max_side=3))
def test_arithmetic_operators(op, shapes):
    fn = ARITH[op]
    sx, sy = shapes.input_shapes
    x, y = normal(sx), positive(sy, seed=1)
    check(fn, (x, y))                      # tracer op tracer
    check(lambda a: fn(a, y), (x,))        # tracer op ndarray
    check(lambda b: fn(x, b), (y,))        # ndarray op tracer: NumPy defers to the tracer
    check(lambda a: fn(a, 1.5), (x,))      # tracer op Python scalar
    check(lambda b: fn(1.5, b), (y,))      # Python scalar op tracer
    check(lambda b: fn(np.float64(2.0), b), (y,))   # NumPy scalar op tracer


def test_power_operator():
    x, y = positive((2, 3)), normal((3,))
    for f in (lambda a, b: a ** b, lambda a, b: a ** 2 + b ** 3, lambda a, b: 2.0 ** b + a,
              lambda a, b: a ** -1 * np.float64(3.0) ** b, lambda a, b: np.ones(3) ** a + b):
        check(f, (x, y))
    i = np.arange(4)
    check(lambda a: a ** 2, (i,))
    check(lambda a: 2 ** a, (i,))


@pytest.mark.parametrize("op", list(COMPARE))
def test_comparison_operators(op):
    fn = COMPARE[op]
    x, y = np.array([[1.0, 2.0, 3.0]]), np.array([[2.0], [1.0]])
    for f in (lambda a: fn(a, y), lambda a: fn(y, a), lambda a: fn(a, 2.0),
              lambda a: fn(2.0, a), lambda a: fn(a, a)):
        check(f, (x,), grads=False)
    # comparisons carry no derivative
    _, t = fxad.jvp(lambda a: fn(a, 2.0), (x,), (np.ones_like(x),))
    assert t.dtype == np.bool_ or not np.any(t)


def test_matmul_operator_with_numpy_on_either_side():
    A, x, B = normal((4, 3)), normal(3, seed=1), normal((2, 3, 5), seed=2)
    check(lambda v: A @ v, (x,))
    check(lambda v: v @ A.T, (x,))
    check(lambda M: M @ B, (A @ normal((3, 3), seed=3),))
    check(lambda M: B.transpose(0, 2, 1) @ M.T, (A,))
    check(lambda M, v: M @ v, (A, x))
    g = fxad.grad(lambda v: fnp.sum(A @ v))(x)
    np.testing.assert_allclose(g, A.sum(axis=0), rtol=1e-12)


def test_numpy_array_on_the_left_gives_a_tracer():
    def f(a):
        outs = [np.ones(3) * a, np.ones(3) + a, np.ones(3) - a, np.ones(3) / a,
                np.ones((2, 3)) @ a, np.float64(2.0) * a, np.arange(3) ** a,
                np.ones(3) < a]
        for o in outs:
            assert isinstance(o, Tracer), type(o)
        return outs[0]

    fxad.make_jaxpr(f)(positive(3))
    g = fxad.grad(lambda a: fnp.sum(np.ones(3) * a * np.arange(3)))(np.ones(3))
    np.testing.assert_array_equal(g, [0.0, 1.0, 2.0])


def test_unary_operators():
    x = np.array([[-1.5, 0.5, 2.0]])
    check(lambda a: -a, (x,))
    check(lambda a: +a * 2.0, (x,))
    check(lambda a: abs(a), (x,))
    check(lambda a: ~(a > 0), (x,), grads=False)
    check(lambda a: (a > 0) & (a < 1), (x,), grads=False)
    check(lambda a: (a > 0) | (a < -1), (x,), grads=False)


# ---------------------------------------------------------------------------
# Attributes, len, iteration


def test_attributes():
    x = normal((2, 3)).astype(np.float32)

    def f(a):
        assert a.shape == (2, 3) and a.ndim == 2 and a.size == 6 and len(a) == 2
        assert a.dtype == np.float32
        assert a.T.shape == (3, 2)
        if isinstance(a, Tracer):  # the repr shows the shape and dtype
            assert repr(a).startswith(type(a).__name__) and "f32[2,3]" in repr(a)
        return a.T

    check(f, (x,))
    with pytest.raises(TypeError):
        fxad.make_jaxpr(lambda a: hash(a))(x)


@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 0, 4)])
def test_transpose_attribute(shape):
    check(lambda a: a.T * 1.0, (normal(shape),))


def test_iteration_over_the_first_axis():
    x = normal((3, 2))
    check(lambda a: fnp.stack([r * float(k + 1) for k, r in enumerate(a)]), (x,))
    check(lambda a: sum(a) * 1.0, (x,))
    check(lambda a: fnp.stack(list(a[0])), (x,))
    g = fxad.grad(lambda a: sum(r[0] * r[1] for r in a))(x)
    np.testing.assert_allclose(g, x[:, ::-1], rtol=1e-12)
    for bad in (len, iter):
        with pytest.raises(TypeError):
            fxad.make_jaxpr(lambda a, bad=bad: bad(a))(np.float64(1.0))


# ---------------------------------------------------------------------------
# ndarray methods

METHODS = [
    ("sum", lambda a: a.sum()), ("sum axis", lambda a: a.sum(axis=-1, keepdims=True)),
    ("sum tuple", lambda a: a.sum((0, 2))), ("mean", lambda a: a.mean(0)),
    ("mean keepdims", lambda a: a.mean(axis=(1,), keepdims=True)),
    ("max", lambda a: a.max()), ("max axis", lambda a: a.max(axis=1, keepdims=True)),
    ("min", lambda a: a.min(-1)), ("prod", lambda a: a.prod(axis=0)),
    ("reshape args", lambda a: a.reshape(4, 6)), ("reshape tuple", lambda a: a.reshape((-1, 3))),
    ("reshape F", lambda a: a.reshape((6, 4), order="F")), ("ravel", lambda a: a.ravel()),
    ("flatten", lambda a: a.flatten()), ("transpose", lambda a: a.transpose()),
    ("transpose args", lambda a: a.transpose(1, 0, 2)),
    ("transpose tuple", lambda a: a.transpose((2, 0, 1))),
    ("astype", lambda a: a.astype(np.float32)), ("astype int", lambda a: a.astype(int)),
    ("dot", lambda a: a[0].dot(np.arange(4.0))), ("dot tracer", lambda a: a[0].dot(a[1].T)),
    ("conj", lambda a: a.conj()), ("conjugate", lambda a: a.conjugate()),
    ("squeeze", lambda a: a[:, :1].squeeze()), ("squeeze axis", lambda a: a[:1].squeeze(0)),
    ("swapaxes", lambda a: a.swapaxes(0, -1)), ("clip", lambda a: a.clip(-0.5, 0.5)),
    ("cumsum", lambda a: a.cumsum(axis=1)), ("real", lambda a: a.real),
    ("std", lambda a: a.std(axis=0, ddof=1)),
]


@pytest.mark.parametrize("name,f", METHODS, ids=[m[0] for m in METHODS])
def test_methods(name, f):
    x = np.random.default_rng(0).permutation(24).reshape(2, 3, 4) * 0.13 - 1.49
    check(f, (x,), grads=not name.startswith("astype"))
    if name == "astype":
        check(f, (x.astype(np.float32),))


def test_var_method_under_jvp():
    x = normal((2, 3))
    primal, _ = fxad.jvp(lambda a: a.var(axis=0, ddof=1), (x,), (np.ones_like(x),))
    assert_same(primal, x.var(axis=0, ddof=1))
    check_grads(lambda a: a.var(axis=1), (x,), order=2)


def test_var_method_when_staged():
    x = normal((2, 3))
    assert_same(fxad.make_jaxpr(lambda a: a.var(axis=0))(x)(x)[0], x.var(axis=0))


# ---------------------------------------------------------------------------
# Conversions that need a concrete value


@pytest.mark.parametrize("convert", [float, int, complex, bool, np.asarray,
                                     lambda a: a.item(), lambda a: a.tolist(),
                                     lambda a: range(10)[a]])
def test_conversions_under_grad_raise_concretization_error(convert):
    # Under grad the value is known, but converting would drop its derivative.
    if convert is bool:
        fxad.grad(lambda a: a * 2.0 if a > 0 else -a)(1.0)  # branching on a value is fine
        return
    with pytest.raises(fxad.errors.ConcretizationTypeError) as info:
        fxad.grad(lambda a: convert(a) * 1.0)(1.5)
    assert isinstance(info.value, TypeError)


@pytest.mark.parametrize("convert", [float, int, bool, np.asarray])
def test_conversions_when_staged_raise_concretization_error(convert):
    with pytest.raises(fxad.errors.ConcretizationTypeError, match="concrete"):
        fxad.make_jaxpr(lambda a: convert(a))(1.5)


def test_float_of_a_tracer_under_grad():
    with pytest.raises(fxad.errors.ConcretizationTypeError):
        fxad.grad(lambda x: float(x))(1.0)
    # the error is a TypeError, as in JAX
    assert issubclass(fxad.errors.ConcretizationTypeError, TypeError)


# ---------------------------------------------------------------------------
# NumPy 2 promotion through the operators


@examples
@given(st.floats(-3, 3, allow_nan=False).filter(lambda v: abs(v) > 0.1))
def test_promotion_through_operators(c):
    x32 = np.arange(1.0, 4.0, dtype=np.float32)
    i = np.arange(3)
    for f, x, dt in [(lambda a: a * c, x32, np.float32), (lambda a: c * a, x32, np.float32),
                     (lambda a: a / c - c, x32, np.float32), (lambda a: a + c, i, np.float64),
                     (lambda a: c * a, i, np.float64), (lambda a: a * 2, i, np.int64),
                     (lambda a: a * np.float64(c), x32, np.float64)]:
        assert f(x).dtype == dt
        check(f, (x,), grads=False)
    g = fxad.grad(lambda a: (a * c).sum())(x32)
    assert g.dtype == np.float32
