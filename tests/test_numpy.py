"""``fxad.numpy`` against NumPy: values eagerly, inside a staged jaxpr and as
the primal output of ``fxad.jvp``; derivatives by ``check_grads`` (forward,
reverse and their compositions to order 2) on hypothesis-drawn shapes,
including 0-d and empty arrays, broadcasting, every form of ``axis`` and
``keepdims``.  Indexing and the Tracer's operators and methods have their own
files (``test_indexing.py``, ``test_tracer_methods.py``).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy_checks import value_checks

import fxad
import fxad.numpy as fnp
from fxad.core import Tracer
from fxad.test_util import check_grads

examples = settings(deadline=None, max_examples=25, derandomize=True)
few_examples = settings(deadline=None, max_examples=12, derandomize=True)

shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)
nonempty_shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)


# ---------------------------------------------------------------------------
# Helpers


def assert_same(actual, expected):
    """Equal to NumPy's result: value (rtol 1e-12), dtype and shape."""
    a, e = np.asarray(actual), np.asarray(expected)
    assert a.dtype == e.dtype, (a.dtype, e.dtype)
    assert a.shape == e.shape, (a.shape, e.shape)
    np.testing.assert_allclose(a, e, rtol=1e-12, atol=1e-12, equal_nan=True)


check_values, check = value_checks(assert_same)


def normal(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def distinct(shape, seed=0, offset=0.0):
    """Values 0.37 apart and away from zero: no ties, no kinks within the
    finite-difference stencil (max, min, abs, clip, where)."""
    n = int(np.prod(shape, dtype=np.int64))
    v = (np.random.default_rng(seed).permutation(n) - n / 2 + 0.5) * 0.37 + 0.011 + offset
    return v.reshape(shape)


def positive(shape, seed=0, lo=0.5, hi=2.0):
    return np.random.default_rng(seed).uniform(lo, hi, shape)


@st.composite
def axes(draw, ndim, allow_none=True):
    """``axis`` in every form NumPy accepts: None, an int, a tuple; negatives."""
    kinds = ["int", "tuple"] + (["none"] if allow_none else [])
    kind = draw(st.sampled_from(kinds)) if ndim else "none" if allow_none else "tuple"
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    picked = draw(st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim))
    signs = draw(st.lists(st.booleans(), min_size=len(picked), max_size=len(picked)))
    return tuple(a - ndim if s else a for a, s in zip(picked, signs))


def _reduced_count(shape, axis):
    if axis is None:
        axis = tuple(range(len(shape)))
    axis = (axis,) if isinstance(axis, int) else axis
    return int(np.prod([shape[a] for a in axis], dtype=np.int64))


# ---------------------------------------------------------------------------
# Reductions


@pytest.mark.parametrize("name", ["sum", "prod", "mean", "max", "min", "var", "std"])
@examples
@given(data=st.data())
def test_reductions(name, data):
    shape = data.draw(shapes, label="shape")
    axis = data.draw(axes(len(shape)), label="axis")
    kw = dict(axis=axis, keepdims=data.draw(st.booleans(), label="keepdims"))
    ddof = 0
    if name in ("var", "std"):
        ddof = kw["ddof"] = data.draw(st.sampled_from([0, 1]), label="ddof")
    x = distinct(shape) if name in ("max", "min") else positive(shape, lo=0.6, hi=1.4) \
        if name == "prod" else normal(shape)
    n = _reduced_count(shape, axis)
    fnp_fn, np_fn = getattr(fnp, name), getattr(np, name)
    if name in ("max", "min") and n == 0 and x.size == 0:
        for fn in (fnp_fn, lambda a, **k: fxad.make_jaxpr(lambda b: fnp_fn(b, **k))(a)):
            with pytest.raises(ValueError):
                fn(x, **kw)
        return
    if name in ("mean", "var", "std") and n - ddof <= 0:
        # NumPy warns and returns nan or inf; fxad gives the same values.
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            check(fnp_fn, np_fn, (x,), grads=False, **kw)
        return
    if name == "std" and n < 2:
        # zero variance: sqrt's derivative is infinite (0/0 in the JVP primal check)
        with np.errstate(all="ignore"):
            check(fnp_fn, np_fn, (x,), grads=False, **kw)
        return
    check(fnp_fn, np_fn, (x,), **kw)


def test_reductions_of_integers_and_bools_promote_like_numpy():
    i8 = np.arange(-3, 3, dtype=np.int8).reshape(2, 3)
    b = i8 > 0
    for fn, np_fn in [(fnp.sum, np.sum), (fnp.prod, np.prod), (fnp.mean, np.mean),
                      (fnp.max, np.max), (fnp.var, np.var)]:
        for x in (i8, b):
            check_values(lambda a, fn=fn: fn(a, axis=0), (x,), np_fn(x, axis=0))
    check_values(lambda a: fnp.sum(a, dtype=np.float32), (i8,), np.sum(i8, dtype=np.float32))
    check_values(lambda a: fnp.mean(a, axis=-1, dtype=np.float32), (normal(4),),
                 np.mean(normal(4), axis=-1, dtype=np.float32))


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_ties_share_the_derivative(name):
    # JAX's convention: the derivative is split equally among the ties.
    x = np.array([[1.0, 3.0, 3.0], [2.0, -1.0, -1.0]]) * (1 if name == "max" else -1)
    g = fxad.grad(lambda a: getattr(fnp, name)(a))(x)
    np.testing.assert_array_equal(g, [[0, 0.5, 0.5], [0, 0, 0]])
    g = fxad.grad(lambda a: fnp.sum(getattr(fnp, name)(a, axis=1, keepdims=True)))(x)
    np.testing.assert_array_equal(g, [[0, 0.5, 0.5], [1, 0, 0]])
    np.testing.assert_array_equal(fxad.jacfwd(getattr(fnp, name))(x),
                                  fxad.jacrev(getattr(fnp, name))(x))


def test_cumsum_and_argmax():
    x = distinct((3, 4))
    for axis in (None, 0, -1):
        check(fnp.cumsum, np.cumsum, (x,), axis=axis)
        check(fnp.argmax, np.argmax, (x,), grads=False, axis=axis)
        check(fnp.argmin, np.argmin, (x,), grads=False, axis=axis, keepdims=True)


# ---------------------------------------------------------------------------
# Elementwise functions (the ones behind the primitives)

# name -> domain of the inputs (smooth there)
UNARY = {
    "exp": normal, "log": positive, "log1p": positive, "expm1": normal, "sin": normal,
    "cos": normal, "tan": lambda s: positive(s, lo=-1.0, hi=1.0), "arcsin":
    lambda s: positive(s, lo=-0.8, hi=0.8), "arccos": lambda s: positive(s, lo=-0.8, hi=0.8),
    "arctan": normal, "sinh": normal, "cosh": normal, "tanh": normal, "arcsinh": normal,
    "arccosh": lambda s: positive(s, lo=1.2, hi=3.0), "arctanh":
    lambda s: positive(s, lo=-0.8, hi=0.8), "sqrt": positive, "abs": distinct,
    "absolute": distinct, "negative": normal, "positive": normal, "square": normal,
    "reciprocal": positive, "conj": normal, "real": normal,
}
# Piecewise constant: values checked, derivative exactly zero.
STEPS = ["floor", "ceil", "trunc", "round", "sign", "rint"]


@pytest.mark.parametrize("name", sorted(UNARY))
@few_examples
@given(shape=shapes)
def test_unary(name, shape):
    check(getattr(fnp, name), getattr(np, name), (UNARY[name](shape),))


@pytest.mark.parametrize("name", [s for s in STEPS if hasattr(fnp, s)])
def test_piecewise_constant_have_zero_derivative(name):
    x = distinct((2, 3)) + 0.04
    check(getattr(fnp, name), getattr(np, name), (x,), grads=False)
    _, t = fxad.jvp(getattr(fnp, name), (x,), (np.ones_like(x),))
    np.testing.assert_array_equal(t, np.zeros_like(x))


BINARY = {
    "add": (normal, normal), "subtract": (normal, normal), "multiply": (normal, normal),
    "divide": (normal, positive), "true_divide": (normal, positive),
    "power": (positive, normal), "maximum": (distinct, lambda s: distinct(s, 1, 0.1)),
    "minimum": (distinct, lambda s: distinct(s, 1, 0.1)), "arctan2": (normal, positive),
    "remainder": (lambda s: positive(s, 0, 0.1, 0.9), lambda s: positive(s, 1, 1.1, 2.0)),
    "mod": (lambda s: positive(s, 0, 2.2, 2.9), lambda s: positive(s, 1, 1.1, 2.0)),
    "fmod": (lambda s: positive(s, 0, -2.9, -2.2), lambda s: positive(s, 1, 1.1, 2.0)),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@few_examples
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                                min_side=0, max_side=3))
def test_binary_broadcasting(name, shapes):
    sx, sy = shapes.input_shapes
    fx, fy = BINARY[name]
    check(getattr(fnp, name), getattr(np, name), (fx(sx), fy(sy)))


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_with_python_and_numpy_scalars(name):
    fx, fy = BINARY[name]
    x, y = fx((2, 3)), fy(())
    fn, np_fn = getattr(fnp, name), getattr(np, name)
    check_values(lambda a: fn(a, float(y)), (x,), np_fn(x, float(y)))
    check_values(lambda b: fn(x[0, 0].item(), b), (y,), np_fn(x[0, 0].item(), y))
    check_grads(lambda a: fn(a, float(y)), (x,), order=2)
    check_grads(lambda b: fn(np.float64(x[0, 0]), b), (y,), order=2)


@pytest.mark.parametrize("name", ["equal", "not_equal", "less", "less_equal", "greater",
                                  "greater_equal", "logical_and", "logical_or",
                                  "logical_xor", "floor_divide", "fmod", "remainder"])
def test_binary_without_derivative_values(name):
    x = np.array([[1.0, -1.0, 2.5, -2.5, 0.3, -0.3, 7.0, 0.0]])
    y = np.array([[0.1], [0.3], [-0.3], [1.0]])
    fn, np_fn = getattr(fnp, name), getattr(np, name)
    check_values(fn, (x, y), np_fn(x, y))
    check_values(fn, (np.arange(-4, 4), np.array([[3], [-2]])),
                 np_fn(np.arange(-4, 4), np.array([[3], [-2]])))


def test_float_remainder_matches_numpy_exactly():
    # x - floor(x / y) * y would give 0 here; NumPy's fmod-based answer is 0.1 - ulp.
    check_values(lambda a: fnp.remainder(a, 0.1), (np.array([1.0, -1.0, 0.7]),),
                 np.remainder(np.array([1.0, -1.0, 0.7]), 0.1))
    check_values(lambda a: fnp.floor_divide(a, 0.1), (np.array([1.0, -1.0, 0.7]),),
                 np.floor_divide(np.array([1.0, -1.0, 0.7]), 0.1))
    assert fxad.grad(lambda b: fnp.remainder(1.0, b))(0.3) == -np.floor_divide(1.0, 0.3)


def test_unary_dtypes_follow_numpy_loops():
    # float ufuncs on small integers compute in float16/float32, as NumPy's loops
    for dt in (np.bool_, np.int8, np.uint8, np.int16, np.int32, np.int64):
        x = np.arange(1, 4).astype(dt)
        for name in ("sin", "sqrt", "exp", "floor", "ceil", "trunc", "round", "abs",
                     "negative", "sign", "square"):
            if dt is np.bool_ and name in ("negative", "sign"):
                continue
            check_values(getattr(fnp, name), (x,), getattr(np, name)(x))
    x = np.arange(1, 4, dtype=np.int8)
    check_values(fnp.arctan2, (x, x), np.arctan2(x, x))
    check_values(lambda a: fnp.round(a, -1), (np.array([5, 15, 25, 14]),),
                 np.round(np.array([5, 15, 25, 14]), -1))
    f = np.array([1.005, 2.675, -0.125, 1234.5678, 15.0, 25.0])
    for d in (-2, -1, 0, 1, 2, 3):
        check_values(lambda a, d=d: fnp.round(a, d), (f,), np.round(f, d))
        check_values(lambda a, d=d: fnp.round(a, d), (f.astype(np.float32),),
                     np.round(f.astype(np.float32), d))


def test_power_integer_and_float_exponents():
    x = positive((2, 3))
    for y in (0, 1, 2, 3, -2, 2.5, np.int64(2), np.float32(2.0), np.array(3)):
        check_values(lambda a, y=y: fnp.power(a, y), (x,), np.power(x, y))
        check_grads(lambda a, y=y: fnp.power(a, y), (x,), order=2)
    i = np.arange(4)
    check_values(lambda a: fnp.power(a, 2), (i,), np.power(i, 2))
    check_values(lambda a: fnp.power(a, i), (i,), np.power(i, i))
    with pytest.raises(ValueError, match="negative integer powers"):
        fxad.make_jaxpr(lambda a: fnp.power(a, -1))(i)


# ---------------------------------------------------------------------------
# NumPy 2 promotion (Python scalars are weak)


def test_float32_times_python_float_stays_float32():
    x = np.arange(3, dtype=np.float32)
    for f in (lambda a: a * 2.5, lambda a: fnp.multiply(2.5, a), lambda a: a / 3,
              lambda a: fnp.where(a > 1, a, 0.5), lambda a: fnp.maximum(a, 1.5)):
        expected = f(x)
        assert expected.dtype == np.float32
        check_values(f, (x,), expected)
    g = fxad.grad(lambda a: fnp.sum(a * 2.5))(x)
    assert g.dtype == np.float32
    # A NumPy float64 scalar is strongly typed: float64, as in NumPy.
    check_values(lambda a: a * np.float64(2.5), (x,), x * np.float64(2.5))


def test_int_array_plus_python_float_is_float64():
    i = np.arange(3)
    for f in (lambda a: a + 2.5, lambda a: fnp.add(2.5, a), lambda a: a / 2,
              lambda a: fnp.mean(a)):
        expected = f(i)
        assert expected.dtype == np.float64
        check_values(f, (i,), expected)
    check_values(lambda a: a + 2, (i.astype(np.int8),), i.astype(np.int8) + 2)


# ---------------------------------------------------------------------------
# Kinks and ties: JAX's conventions


def test_abs_derivative_at_zero_is_one_like_jax():
    # JAX's rule is select(x >= 0, t, -t)
    assert fxad.grad(fnp.abs)(0.0) == 1.0
    assert fxad.grad(fnp.abs)(-0.0) == 1.0
    np.testing.assert_array_equal(fxad.grad(lambda x: fnp.sum(abs(x)))(np.array([-1.0, 0, 2])),
                                  [-1.0, 1.0, 1.0])


def test_sqrt_derivative_at_zero_is_inf():
    with np.errstate(divide="ignore"):
        assert fxad.grad(fnp.sqrt)(0.0) == np.inf


def test_maximum_minimum_clip_ties_share():
    assert fxad.grad(lambda x: fnp.maximum(x, 1.0))(1.0) == 0.5
    assert fxad.grad(lambda x: fnp.minimum(1.0, x))(1.0) == 0.5
    assert fxad.grad(lambda x: fnp.clip(x, 1.0, 2.0))(1.0) == 0.5
    assert fxad.grad(lambda x: fnp.clip(x, 1.0, 2.0))(2.0) == 0.5


def test_where_gives_zero_derivative_to_the_unselected_branch():
    x = np.array([-1.0, 0.0, 2.0])
    g = fxad.grad(lambda a: fnp.sum(fnp.where(a > 0, a ** 2, -3.0 * a)))(x)
    np.testing.assert_array_equal(g, [-3.0, -3.0, 4.0])
    # The double-where idiom keeps sqrt's infinite derivative out.
    safe = lambda a: fnp.where(a > 0, fnp.sqrt(fnp.where(a > 0, a, 1.0)), 0.0)  # noqa: E731
    np.testing.assert_array_equal(fxad.grad(lambda a: fnp.sum(safe(a)))(x),
                                  [0.0, 0.0, 0.5 / np.sqrt(2.0)])


# ---------------------------------------------------------------------------
# Shapes


@st.composite
def reshape_cases(draw):
    shape = draw(shapes)
    size = int(np.prod(shape, dtype=np.int64))
    options = [(size,), (-1,), shape[::-1], (1,) + shape, shape + (1,)]
    if size and len(shape) >= 2:
        options.append((shape[0], -1))
    return shape, draw(st.sampled_from(options)), draw(st.sampled_from(["C", "F"]))


@examples
@given(reshape_cases())
def test_reshape_and_ravel(case):
    shape, new, order = case
    x = normal(shape)
    check(fnp.reshape, np.reshape, (x,), shape=new, order=order)
    check(fnp.ravel, np.ravel, (x,), order=order)


@examples
@given(data=st.data())
def test_transpose_swapaxes_moveaxis(data):
    shape = data.draw(shapes, label="shape")
    nd = len(shape)
    x = normal(shape)
    perm = data.draw(st.permutations(range(nd)), label="perm")
    perm = [p - nd if data.draw(st.booleans()) else p for p in perm]
    check(fnp.transpose, np.transpose, (x,), axes=None)
    check(fnp.transpose, np.transpose, (x,), axes=tuple(perm))
    if nd:
        a1, a2 = data.draw(st.integers(-nd, nd - 1)), data.draw(st.integers(-nd, nd - 1))
        check(fnp.swapaxes, np.swapaxes, (x,), axis1=a1, axis2=a2)
        k = data.draw(st.integers(1, nd))
        src = data.draw(st.lists(st.integers(-nd, nd - 1), min_size=k, max_size=k,
                                 unique_by=lambda a: a % nd))
        dst = data.draw(st.lists(st.integers(-nd, nd - 1), min_size=k, max_size=k,
                                 unique_by=lambda a: a % nd))
        check(fnp.moveaxis, np.moveaxis, (x,), source=src, destination=dst)
        check(fnp.moveaxis, np.moveaxis, (x,), source=src[0], destination=dst[0])


@examples
@given(data=st.data())
def test_squeeze_expand_dims(data):
    shape = list(data.draw(shapes, label="shape"))
    for _ in range(data.draw(st.integers(0, 2))):
        shape.insert(data.draw(st.integers(0, len(shape))), 1)
    x = normal(tuple(shape))
    nd = x.ndim
    check(fnp.squeeze, np.squeeze, (x,), axis=None)
    ones = [i for i, d in enumerate(shape) if d == 1]
    if ones:
        picked = data.draw(st.lists(st.sampled_from(ones), unique=True, min_size=1))
        check(fnp.squeeze, np.squeeze, (x,), axis=tuple(p - nd for p in picked))
        check(fnp.squeeze, np.squeeze, (x,), axis=picked[0])
    k = data.draw(st.integers(1, 2))
    ax = data.draw(st.lists(st.integers(-(nd + k), nd + k - 1), min_size=k, max_size=k,
                            unique_by=lambda a: a % (nd + k)))
    check(fnp.expand_dims, np.expand_dims, (x,), axis=tuple(ax))
    one = data.draw(st.integers(-nd - 1, nd), label="one axis")
    check(fnp.expand_dims, np.expand_dims, (x,), axis=one)


@examples
@given(data=st.data())
def test_concatenate_and_stack(data):
    shape = data.draw(shapes, label="shape")
    nd = len(shape)
    n = data.draw(st.integers(1, 3), label="n")
    axis = data.draw(st.integers(-nd - 1, nd), label="stack axis")
    xs = [normal(shape, seed=k) for k in range(n)]
    const = normal(shape, seed=9)
    stack = lambda *a: fnp.stack([*a, const], axis=axis)  # noqa: E731
    check_values(stack, tuple(xs), np.stack([*xs, const], axis=axis))
    check_grads(stack, tuple(xs), order=2)
    if nd:
        cax = data.draw(st.integers(-nd, nd - 1), label="concat axis")
        sizes = data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
        ys = [normal(shape[:cax % nd] + (s,) + shape[cax % nd + 1:], seed=k)
              for k, s in enumerate(sizes)]
        cat = lambda *a: fnp.concatenate([const, *a], axis=cax)  # noqa: E731
        check_values(cat, tuple(ys), np.concatenate([const, *ys], axis=cax))
        check_grads(cat, tuple(ys), order=2)
        check(lambda *a: fnp.concatenate(a, axis=None), lambda *a: np.concatenate(a, axis=None),
              tuple(ys))


def test_stack_and_concatenate_promote():
    i = np.arange(3)
    x32 = np.ones(3, np.float32)
    check_values(lambda a: fnp.stack([a, i]), (x32,), np.stack([x32, i]))
    check_values(lambda a: fnp.concatenate([a, x32]), (x32,), np.concatenate([x32, x32]))
    check_values(lambda a: fnp.stack([a, a], dtype=np.float32), (i * 1.0,),
                 np.stack([i * 1.0, i * 1.0], dtype=np.float32))


def test_array_and_asarray_of_lists_of_tracers():
    x = normal(3)

    def nested(a):
        return fnp.array([[a[0], a[1], 2.0], [np.float64(1.0), a[2] * a[0], a[1]]])

    expected = np.array([[x[0], x[1], 2.0], [1.0, x[2] * x[0], x[1]]])
    check_values(nested, (x,), expected)
    check_grads(nested, (x,), order=2)
    check_values(lambda a: fnp.asarray([a, 2 * a]), (x,), np.asarray([x, 2 * x]))
    check_values(lambda a: fnp.array([a[0], a[1]], dtype=np.float32), (x,),
                 np.array([x[0], x[1]], dtype=np.float32))
    check_values(lambda a: fnp.array(a, ndmin=3), (x,), np.array(x, ndmin=3))
    # NumPy's list promotion: a float32 element with a Python float gives float64.
    x32 = x.astype(np.float32)
    check_values(lambda a: fnp.array([a[0], 1.0]), (x32,), np.array([x32[0], 1.0]))
    check_values(lambda a: fnp.array([a[0], a[1]]), (x32,), np.array([x32[0], x32[1]]))
    check_grads(lambda a: fnp.stack([a[0], a[1] ** 2, a[2]]), (x,), order=2)


@pytest.mark.parametrize("fn", ["atleast_1d", "atleast_2d", "flip", "broadcast_to"])
def test_other_shape_functions(fn):
    for x in (normal(()), normal(3), normal((2, 3))):
        kw = {"shape": (4,) + x.shape} if fn == "broadcast_to" else {}
        check(getattr(fnp, fn), getattr(np, fn), (x,), **kw)


# ---------------------------------------------------------------------------
# where and clip


@examples
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3,
                                                min_side=0, max_side=3))
def test_where_broadcasting(shapes):
    sc, sx, sy = shapes.input_shapes
    cond = normal(sc, seed=3) > 0
    x, y = normal(sx), normal(sy, seed=1)
    check(lambda a, b: fnp.where(cond, a, b), lambda a, b: np.where(cond, a, b), (x, y))
    # a traced condition (a comparison inside the function)
    check(lambda c, a, b: fnp.where(c > 0, a, b), lambda c, a, b: np.where(c > 0, a, b),
          (distinct(sc), x, y))
    check(lambda a: fnp.where(cond, a, 0.0), lambda a: np.where(cond, a, 0.0), (x,))


def test_where_one_argument_and_dtypes():
    x = normal((2, 3))
    check_values(lambda a: fnp.where(x > 0, a.astype(np.float32), 1), (x,),
                 np.where(x > 0, x.astype(np.float32), 1))
    check_values(lambda a: fnp.where(a > 0, 1.0, 0), (x,), np.where(x > 0, 1.0, 0))
    idx = fnp.where(x > 0)
    for a, b in zip(idx, np.where(x > 0)):
        assert_same(a, b)
    # concrete under grad: the JVP tracer carries a value
    g = fxad.grad(lambda a: fnp.sum(a[fnp.where(a > 0)]))(x)
    np.testing.assert_array_equal(g, (x > 0) * 1.0)
    with pytest.raises(TypeError, match="three-argument"):
        fxad.make_jaxpr(lambda a: fnp.where(a > 0))(x)
    with pytest.raises(ValueError):
        fnp.where(x > 0, x)


@examples
@given(data=st.data())
def test_clip(data):
    shape = data.draw(shapes, label="shape")
    x = distinct(shape)
    lo = data.draw(st.sampled_from([None, -0.2, "array"]), label="lo")
    hi = data.draw(st.sampled_from([None, 0.5, "array"]), label="hi")
    lo = distinct(shape[-1:], seed=2, offset=-0.5) if lo == "array" else lo
    hi = distinct(shape[-1:], seed=3, offset=0.6) if hi == "array" else hi
    check(fnp.clip, np.clip, (x,), a_min=lo, a_max=hi)
    check(lambda a: fnp.clip(a, min=lo, max=hi), lambda a: np.clip(a, min=lo, max=hi), (x,))
    if lo is not None and np.ndim(lo) == 0:
        # traced bounds
        check(lambda a, b: fnp.clip(a, b, hi), lambda a, b: np.clip(a, b, hi),
              (x, np.float64(lo)))
    check_values(lambda a: fnp.clip(a, 1, 2), (np.arange(4),), np.clip(np.arange(4), 1, 2))
    check_values(lambda a: fnp.clip(a, 0.5, 2.5), (np.arange(4),),
                 np.clip(np.arange(4), 0.5, 2.5))


# ---------------------------------------------------------------------------
# Products


@examples
@given(hnp.mutually_broadcastable_shapes(signature="(m?,n),(n,p?)->(m?,p?)", max_dims=4,
                                         min_side=0, max_side=3))
def test_matmul(shapes):
    sa, sb = shapes.input_shapes
    a, b = normal(sa), normal(sb, seed=1)
    check(fnp.matmul, np.matmul, (a, b))
    check(lambda x: a @ x, lambda x: a @ x, (b,))


@examples
@given(data=st.data())
def test_dot_inner_outer_vdot(data):
    n = data.draw(st.integers(0, 3), label="n")
    lead = data.draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=3))
    a = normal(lead + (n,))
    kind = data.draw(st.sampled_from(["vector", "matrix", "stack", "scalar"]))
    b = {"vector": (n,), "matrix": (n, 2), "stack": (2, n, 3), "scalar": ()}[kind]
    b = normal(b, seed=1)
    check(fnp.dot, np.dot, (a, b))
    check(fnp.outer, np.outer, (a, b))
    c = normal(lead[-1:] + (n,), seed=2)
    check(fnp.inner, np.inner, (a, c))
    check(fnp.vdot, np.vdot, (a, normal(a.shape, seed=3)))


@examples
@given(data=st.data())
def test_tensordot(data):
    shared = data.draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=3))
    fa = data.draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    fb = data.draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    a, b = normal(fa + shared), normal(shared + fb, seed=1)
    check(fnp.tensordot, np.tensordot, (a, b), axes=len(shared))
    # explicit axes lists, negative on one side, in another order
    k = len(shared)
    bt = np.moveaxis(b, tuple(range(k)), tuple(range(k))[::-1]) if k else b
    ax_a = [a.ndim - k + i - a.ndim for i in range(k)]
    ax_b = list(range(k))[::-1]
    check(fnp.tensordot, np.tensordot, (a, bt), axes=(ax_a, ax_b))


@examples
@given(data=st.data())
def test_trace_and_diagonal(data):
    shape = data.draw(hnp.array_shapes(min_dims=2, max_dims=3, min_side=0, max_side=4))
    nd = len(shape)
    x = normal(shape)
    offset = data.draw(st.integers(-3, 3), label="offset")
    a1 = data.draw(st.integers(-nd, nd - 1), label="axis1")
    a2 = data.draw(st.integers(-nd, nd - 1).filter(lambda a: a % nd != a1 % nd), label="axis2")
    check(fnp.trace, np.trace, (x,), offset=offset, axis1=a1, axis2=a2)
    check(fnp.diagonal, np.diagonal, (x,), offset=offset, axis1=a1, axis2=a2)


EINSUM_CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("ij,jk", [(2, 3), (3, 4)]), ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]), ("ij->ji", [(2, 3)]), ("ij->", [(2, 3)]), ("i,i", [(3,), (3,)]),
    ("i,j->ij", [(2,), (3,)]), ("...ij,...jk->...ik", [(5, 2, 3), (5, 3, 4)]),
    ("...ij,...jk->...ik", [(1, 2, 3), (2, 1, 3, 4)]), ("...ij,jk", [(2, 2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]), ("iij->ij", [(3, 3, 2)]), ("iji->j", [(3, 2, 3)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]), ("ab,cd,bc->ad", [(2, 3), (4, 5), (3, 4)]),
    ("i,i,i->", [(3,), (3,), (3,)]), ("ij,ij->i", [(2, 3), (2, 3)]),
    ("ijk,ikj->", [(2, 3, 4), (2, 4, 3)]), ("ij,jk->ik", [(2, 1), (3, 4)]),
    ("Ba,ab", [(2, 3), (3, 4)]), ("...", [()]), (",", [(), ()]), ("i,->i", [(3,), ()]),
    ("ij...->", [(2, 3)]), ("i...->...", [(2, 3, 4)]), ("ij,kl->ijkl", [(2, 0), (1, 3)]),
    ("ij,jk->ik", [(2, 0), (0, 3)]), ("iijj->ij", [(2, 2, 3, 3)]), ("iii->i", [(3, 3, 3)]),
    ("ab,bc,cd,da->", [(2, 3), (3, 4), (4, 5), (5, 2)]), ("ba", [(2, 3)]),
    ("i,j,k", [(2,), (3,), (2,)]), (" ij , jk -> ki ", [(2, 3), (3, 4)]),
    ("...ii->...i", [(2, 3, 3)]), ("a...b,b...->...a", [(2, 3, 4), (4, 3)]),
]


@pytest.mark.parametrize("optimize", [False, True])
@pytest.mark.parametrize("spec,shapes", EINSUM_CASES, ids=[c[0] for c in EINSUM_CASES])
def test_einsum_cases(spec, shapes, optimize):
    ops = tuple(normal(s, seed=k) for k, s in enumerate(shapes))
    check(lambda *a: fnp.einsum(spec, *a, optimize=optimize), lambda *a: np.einsum(spec, *a),
          ops)


@st.composite
def einsum_specs(draw):
    """Random subscripts: 1-3 operands over labels from a small pool, with
    repeats within an operand, labels used once or several times, explicit
    or implicit output."""
    pool = "abcde"
    sizes = {c: draw(st.integers(1, 3)) for c in pool}
    n = draw(st.integers(1, 3))
    terms = [draw(st.lists(st.sampled_from(pool), max_size=3)) for _ in range(n)]
    used = sorted({c for t in terms for c in t})
    spec = ",".join("".join(t) for t in terms)
    if draw(st.booleans()):
        out = draw(st.permutations(used))
        out = out[:draw(st.integers(0, len(out)))]
        spec += "->" + "".join(out)
    shapes = [tuple(sizes[c] for c in t) for t in terms]
    return spec, shapes, draw(st.sampled_from([False, True, "greedy"]))


@examples
@given(einsum_specs())
def test_einsum_random_subscripts(case):
    spec, shapes, optimize = case
    ops = tuple(normal(s, seed=k) for k, s in enumerate(shapes))
    check(lambda *a: fnp.einsum(spec, *a, optimize=optimize), lambda *a: np.einsum(spec, *a),
          ops)


def test_einsum_interleaved_dtypes_and_jaxpr():
    a, b = normal((2, 3)), normal(3, seed=1)
    check(lambda x: fnp.einsum(x, [0, 1], b, [1], [0]), lambda x: np.einsum(x, [0, 1], b, [1],
                                                                            [0]), (a,))
    check(lambda x: fnp.einsum(x, [Ellipsis, 1], b, [1]),
          lambda x: np.einsum(x, [Ellipsis, 1], b, [1]), (a,))
    i = np.arange(6).reshape(2, 3)
    check_values(lambda x: fnp.einsum("ij,j", x, np.arange(3)), (i,),
                 np.einsum("ij,j", i, np.arange(3)))
    a32 = a.astype(np.float32)
    check_values(lambda x: fnp.einsum("ij,j", x, b), (a32,), np.einsum("ij,j", a32, b))
    check_values(lambda x: fnp.einsum("ij,j", x, b, dtype=np.float32, casting="same_kind"),
                 (a,), np.einsum("ij,j", a, b, dtype=np.float32, casting="same_kind"))
    with pytest.raises(TypeError, match="safe"):
        fxad.make_jaxpr(lambda x: fnp.einsum("ij,j", x, b, dtype=np.float32))(a)
    # one dot_general per pairwise contraction, batch dimensions for shared labels
    jaxpr = fxad.make_jaxpr(lambda x, y: fnp.einsum("bij,bjk->bik", x, y))(
        normal((4, 2, 3)), normal((4, 3, 5)))
    prims = [e.primitive.name for e in jaxpr.eqns]
    assert prims == ["dot_general"], prims
    assert jaxpr.eqns[0].params["dimension_numbers"] == (((2,), (1,)), ((0,), (0,)))
    ops = normal((20, 30)), normal((30, 2), seed=1), normal((2, 40), seed=2)
    jaxpr = fxad.make_jaxpr(lambda x, y, z: fnp.einsum("ij,jk,kl->il", x, y, z, optimize=True))(
        *ops)
    assert [e.primitive.name for e in jaxpr.eqns].count("dot_general") == 2
    # greedy contracts the small pair first: (20x30 @ 30x2) before the 40 columns
    assert jaxpr.eqns[0].outvars[0].aval.shape == (20, 2)
    # NumPy's explicit paths are followed
    for path in (["einsum_path", (1, 2), (0, 1)], ["einsum_path", (0, 1, 2)]):
        check(lambda *a, path=path: fnp.einsum("ij,jk,kl->il", *a, optimize=path),
              lambda *a, path=path: np.einsum("ij,jk,kl->il", *a, optimize=path), ops,
              grads=False)
        jaxpr = fxad.make_jaxpr(lambda *a, path=path: fnp.einsum("ij,jk,kl->il", *a,
                                                                 optimize=path))(*ops)
        first = jaxpr.eqns[0].outvars[0].aval.shape
        assert first == ((30, 40) if path[1] == (1, 2) else (20, 2)), first


@pytest.mark.parametrize("spec,shapes", [
    ("ii", [(2, 3)]), ("ij,jk", [(2, 3), (4, 5)]), ("ii->ii", [(3, 3)]), ("ij->k", [(2, 3)]),
    ("ijk", [(2, 3)]), ("i,i", [(3,)]), ("...i->i", [(2, 3)]), ("i->i->i", [(3,)]),
    ("i.j", [(3, 3)]), ("i1", [(3, 3)]),
])
def test_einsum_errors_like_numpy(spec, shapes):
    ops = [normal(s) for s in shapes]
    with pytest.raises(ValueError):
        np.einsum(spec, *ops)
    with pytest.raises(ValueError):
        fxad.make_jaxpr(lambda *a: fnp.einsum(spec, *a))(*ops)


# ---------------------------------------------------------------------------
# Creation


def test_creation_is_numpy_eagerly():
    assert_same(fnp.zeros((2, 3)), np.zeros((2, 3)))
    assert_same(fnp.ones(3, dtype=np.int32), np.ones(3, dtype=np.int32))
    assert_same(fnp.full((2, 2), 1.5), np.full((2, 2), 1.5))
    assert_same(fnp.eye(3, 4, k=1), np.eye(3, 4, k=1))
    assert_same(fnp.arange(5), np.arange(5))
    assert_same(fnp.arange(1, 2, 0.25), np.arange(1, 2, 0.25))
    assert_same(fnp.arange(1, 7, 2, dtype=np.float32), np.arange(1, 7, 2, dtype=np.float32))
    assert_same(fnp.linspace(0, 1, 5), np.linspace(0, 1, 5))
    for name in ("zeros_like", "ones_like", "empty_like"):
        ref = np.zeros if name != "ones_like" else np.ones
        assert_same(getattr(fnp, name)(np.arange(3)), ref(3, int))
    assert_same(fnp.full_like(np.arange(3), 2.7), np.full_like(np.arange(3), 2.7))


def test_creation_inside_transformations():
    x = normal((2, 3))
    check(lambda a: a + fnp.zeros_like(a) + fnp.ones_like(a, dtype=np.float32),
          lambda a: a + np.zeros_like(a) + np.ones_like(a, dtype=np.float32), (x,))
    check(lambda a: fnp.full((2, 2), a[0, 0]), lambda a: np.full((2, 2), a[0, 0]), (x,))
    check(lambda a: fnp.full((3, 2, 3), a), lambda a: np.full((3, 2, 3), a), (x,))
    check(lambda a: fnp.full_like(a, a[1, 2]), lambda a: np.full_like(a, a[1, 2]), (x,))
    check(lambda a: fnp.full_like(a, 3.0, shape=(4,)) * a[0, 0],
          lambda a: np.full_like(a, 3.0, shape=(4,)) * a[0, 0], (x,))
    check(lambda a: a @ fnp.eye(3) + fnp.arange(3), lambda a: a @ np.eye(3) + np.arange(3), (x,))
    assert isinstance(fnp.zeros_like(x), np.ndarray)


@pytest.mark.parametrize("kw", [dict(num=5), dict(num=5, endpoint=False), dict(num=1),
                                dict(num=0), dict(num=4, axis=-1), dict(num=4, dtype=int),
                                dict(num=3, dtype=np.float32)])
def test_linspace_is_differentiable_in_its_endpoints(kw):
    start, stop = np.array([0.5, -1.0]), np.float64(2.0)
    check_values(lambda a, b: fnp.linspace(a, b, **kw), (start, stop),
                 np.linspace(start, stop, **kw))
    if "dtype" not in kw:
        check_grads(lambda a, b: fnp.linspace(a, b, **kw), (start, stop), order=2)
        y, step = fxad.jvp(lambda a: fnp.linspace(a, 3.0, retstep=True, **kw), (0.5,), (1.0,))
        ref_y, ref_step = np.linspace(0.5, 3.0, retstep=True, **kw)
        assert_same(y[0], ref_y)
        assert_same(y[1], ref_step)


def test_arange_of_a_tracer_is_a_concretization_error():
    with pytest.raises(fxad.errors.ConcretizationTypeError, match="arange"):
        fxad.grad(lambda a: fnp.sum(fnp.arange(a)))(3.0)


# ---------------------------------------------------------------------------
# The public namespace


def test_every_public_function_has_a_docstring():
    import types

    missing = [n for n in dir(fnp) if not n.startswith("_")
               and isinstance(getattr(fnp, n), types.FunctionType)
               and getattr(fnp, n).__module__.startswith("fxad")
               and not (getattr(fnp, n).__doc__ or "").strip()]
    assert not missing, missing


def test_outputs_of_traced_functions_are_tracers():
    def f(a):
        for out in (fnp.sum(a), fnp.einsum("ii", a), fnp.stack([a, a]), fnp.clip(a, 0, None),
                    fnp.where(a > 0, a, 0.0), fnp.full((2,), a[0, 0]), a[[0, 0]]):
            assert isinstance(out, Tracer)
        return fnp.sum(a)

    fxad.make_jaxpr(f)(normal((2, 2)))


# ---------------------------------------------------------------------------
# Booleans and integers: any, all, bitwise


@examples
@given(data=st.data())
def test_any_all(data):
    shape = data.draw(shapes, label="shape")
    axis = data.draw(axes(len(shape)), label="axis")
    keepdims = data.draw(st.booleans(), label="keepdims")
    x = np.round(normal(shape)) * (normal(shape, seed=1) > 0)
    for name in ("any", "all"):
        for a in (x, x != 0):
            check(getattr(fnp, name), getattr(np, name), (a,), grads=False, axis=axis,
                  keepdims=keepdims)


@pytest.mark.parametrize("name", ["bitwise_and", "bitwise_or", "bitwise_xor"])
def test_bitwise(name):
    i, j = np.arange(-3, 5), np.array([[3], [-2], [6]], dtype=np.int8)
    fn, np_fn = getattr(fnp, name), getattr(np, name)
    for args in ((i, j), (i > 0, j > 0), (i.astype(np.uint8), 5)):
        check_values(lambda a, args=args: fn(a, args[1]), args[:1], np_fn(*args))
    check_values(fnp.invert, (i,), np.invert(i))
    check_values(fnp.invert, (i > 0,), np.invert(i > 0))
    with pytest.raises(TypeError):
        fxad.make_jaxpr(lambda a: fn(a, 1))(normal(3))
