"""More of NumPy against NumPy: the NumPy 2 names, NaN-ignoring extrema,
the floating-point representation, integer bit functions, editing arrays
(insert, delete, block...), convolution, interpolation and integration,
polynomials, covariance, searching, counting and sets.

For each function: values and dtypes equal NumPy's eagerly, staged by
``make_jaxpr`` and as the primal of ``jvp`` (``check_values``); derivatives
by ``check_grads`` to order 2 in forward and reverse mode where the function
is differentiable (away from its kinks); integer and boolean outputs have
no derivative; and ``vmap`` of a sample equals the Python loop.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from test_numpy import normal, positive
from test_numpy_extra import assert_same, check, check_values, check_vmap, spaced

import fxad
import fxad.numpy as fnp
from fxad.errors import ConcretizationTypeError
from fxad.test_util import check_grads

few = settings(deadline=None, max_examples=8, derandomize=True)
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)
vec = hnp.array_shapes(min_dims=1, max_dims=1, min_side=1, max_side=5)


def grads(f, *args, order=2):
    check_grads(f, args, order=order, modes=("fwd", "rev"))


def check_concrete(fnp_fn, np_fn, args):
    """For functions whose output shape depends on the values: equal to
    NumPy eagerly and under ``jvp`` (where the values are known)."""
    expected = np_fn(*args)
    assert_same(fnp_fn(*args), expected)
    assert_same(fxad.jvp(fnp_fn, args, tuple(np.zeros_like(a) for a in args))[0], expected)


def no_derivative(f, *args):
    """``f`` has an integer/boolean output, or a zero derivative."""
    out, t = fxad.jvp(f, args, tuple(np.ones_like(a) for a in args))
    for o, d in zip(*(([out], [t]) if not isinstance(out, tuple) else (out, t))):
        if np.asarray(o).dtype.kind in "fc":
            np.testing.assert_array_equal(np.asarray(d, dtype=complex), 0)


# ---------------------------------------------------------------------------
# NumPy 2 names


def test_numpy2_aliases():
    for new, old in (("acos", "arccos"), ("acosh", "arccosh"), ("asin", "arcsin"),
                     ("asinh", "arcsinh"), ("atan", "arctan"), ("atan2", "arctan2"),
                     ("atanh", "arctanh"), ("pow", "power")):
        assert getattr(fnp, new) is getattr(fnp, old), new
    x, y = positive((2, 3), lo=0.2, hi=0.8), positive((3,), 1)
    check(fnp.pow, np.pow, (x, y))
    check(fnp.atan2, np.atan2, (x, y))
    check(lambda a: fnp.concat([a, a], axis=1), lambda a: np.concat([a, a], axis=1), (x,))
    check(lambda a, b: fnp.concat([a, b], axis=None), lambda a, b: np.concat([a, b], axis=None),
          (x, y))
    check(fnp.matrix_transpose, np.matrix_transpose, (normal((2, 3, 4)),))
    check(fnp.permute_dims, np.permute_dims, (normal((2, 3, 4)),), axes=(2, 0, 1))
    x = normal((3, 2))
    check_values(lambda a: fnp.stack(fnp.unstack(a, axis=1)), (x,),
                 np.stack(np.unstack(x, axis=1)))
    grads(lambda a: fnp.unstack(a)[1], x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        expected = np.row_stack([x, x])
    check(lambda a: fnp.row_stack([a, a]), lambda a: expected, (x,))
    assert fnp.broadcast_shapes((2, 1), (3,)) == (2, 3)


@pytest.mark.parametrize("name", ["cumulative_sum", "cumulative_prod"])
@few
@given(shape=hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=3),
       include=st.booleans(), axis=st.sampled_from([None, 0, -1]))
def test_cumulative(name, shape, include, axis):
    if len(shape) > 1 and axis is None:
        axis = 0
    x = positive(shape, lo=0.6, hi=1.4)
    check(getattr(fnp, name), getattr(np, name), (x,), axis=axis, include_initial=include)
    i = np.arange(6, dtype=np.int8).reshape(2, 3)
    check_values(lambda a: getattr(fnp, name)(a, axis=1, include_initial=include), (i,),
                 getattr(np, name)(i, axis=1, include_initial=include))
    with pytest.raises(ValueError):
        fxad.make_jaxpr(getattr(fnp, name))(np.ones((2, 2)))


# ---------------------------------------------------------------------------
# NaN-ignoring extrema, angle


@pytest.mark.parametrize("name", ["fmax", "fmin"])
def test_fmax_fmin(name):
    fn, np_fn = getattr(fnp, name), getattr(np, name)
    x = np.array([1.0, np.nan, 3.0, np.nan, -2.0, 0.5])
    y = np.array([2.0, 4.0, np.nan, np.nan, -3.0, 0.5])
    check_values(fn, (x, y), np_fn(x, y))
    for a, b in ((np.arange(3, dtype=np.int8), np.int8(1)), (x.astype(np.float32), 2.0),
                 (np.array([True, False]), np.array([False, False]))):
        check_values(lambda u, b=b: fn(u, b), (a,), np_fn(a, b))
    check(fn, np_fn, (normal((2, 3)), normal((3,), 1)))
    # a NaN operand passes the whole derivative to the other; ties share it
    g = fxad.grad(lambda u, v: fnp.sum(fn(u, v)), argnums=(0, 1))(x, y)
    np.testing.assert_array_equal(g[0], [name == "fmin", 0, 1, 0, name == "fmax", 0.5])
    np.testing.assert_array_equal(g[1], [name == "fmax", 1, 0, 0, name == "fmin", 0.5])
    check_vmap(lambda u: fn(u, y[:3]), x.reshape(2, 3))


def test_angle():
    z = np.array([1 + 1j, -2 + 0.5j, -1j, 3 + 0j])
    for deg in (False, True):
        check_values(lambda a, deg=deg: fnp.angle(a, deg=deg), (z,), np.angle(z, deg=deg))
        x = np.array([-2.0, 0.0, 3.0])
        check_values(lambda a, deg=deg: fnp.angle(a, deg), (x,), np.angle(x, deg))
        for a in (np.array([1, -2], np.int8), x.astype(np.float32)):
            check_values(lambda u, deg=deg: fnp.angle(u, deg), (a,), np.angle(a, deg))
    re, im = normal((3,)), normal((3,), 1)
    grads(lambda a, b: fnp.angle(a + 1j * b, deg=True), re, im)
    no_derivative(fnp.angle, np.array([-2.0, 3.0]))


# ---------------------------------------------------------------------------
# The floating-point representation


def test_ldexp_frexp_modf():
    x = np.array([0.0, -0.0, 1.0, -3.5, 5e-324, 1e-310, np.inf, -np.inf, np.nan, 1e300, 0.1])
    k = np.array([3, -2, 1023, -1074, 1074, 20, 1, -1, 5, 10, -1080])
    check_values(fnp.ldexp, (x, k), np.ldexp(x, k))
    check_values(lambda a: fnp.ldexp(a, 1100), (np.array([1e-300, 3e-320]),),
                 np.ldexp(np.array([1e-300, 3e-320]), 1100))
    for a, e in ((np.float32(3.0), np.int8(4)), (np.int8(3), np.int64(2)),
                 (np.array([1.5], np.float16), 3)):
        check_values(lambda u, e=e: fnp.ldexp(u, e), (a,), np.ldexp(a, e))
    check_values(lambda e: fnp.ldexp(0.75, e), (np.array([1, -3]),), np.ldexp(0.75, [1, -3]))
    grads(lambda a: fnp.ldexp(a, np.array([2, -1, 0])), normal((3,)))
    with pytest.raises(TypeError):
        fxad.make_jaxpr(fnp.ldexp)(1.0, 2.0)
    with np.errstate(all="ignore"):
        narrow = [x.astype(np.float32), x.astype(np.float16)]
    for v in [x] + narrow + [np.array([0, 5, -12], np.int8)]:
        with np.errstate(all="ignore"):
            m, e = np.frexp(v)
            check_values(lambda a: fnp.frexp(a)[0], (v,), m)
            check_values(lambda a: fnp.frexp(a)[1], (v,), e)
            fr, wh = np.modf(v)
            check_values(lambda a: fnp.modf(a)[0], (v,), fr)
            check_values(lambda a: fnp.modf(a)[1], (v,), wh)
    p = spaced((2, 3))
    grads(lambda a: fnp.frexp(a)[0], p)
    grads(lambda a: fnp.modf(a)[0], p)
    _, t = fxad.jvp(lambda a: fnp.modf(a)[1], (p,), (np.ones_like(p),))
    np.testing.assert_array_equal(t, 0)
    check_vmap(lambda a: fnp.frexp(a)[0], p)
    check_vmap(lambda a: fnp.frexp(a)[1], p)


def test_spacing_nextafter():
    x = np.array([0.0, -0.0, 1.0, -1.0, 5e-324, np.inf, -np.inf, np.nan, 1e308, -7.25])
    y = np.array([1.0, -1.0, 2.0, 0.0, 0.0, 0.0, np.inf, 1.0, np.inf, -7.25])
    for dt in (np.float64, np.float32, np.float16):
        with np.errstate(all="ignore"):
            a, b = x.astype(dt), y.astype(dt)
            check_values(fnp.nextafter, (a, b), np.nextafter(a, b))
            check_values(fnp.spacing, (a,), np.spacing(a))
    i = np.array([1, -4, 0], np.int8)
    check_values(fnp.spacing, (i,), np.spacing(i))
    check_values(lambda a: fnp.nextafter(a, 2), (np.array([1, 3]),), np.nextafter([1, 3], 2))
    no_derivative(fnp.spacing, np.array([1.0, 3.0]))
    grads(fnp.nextafter, np.array([1.0, 3.0]), np.array([0.0, 4.0]))


def test_i0():
    x = np.array([0.0, 0.5, -1.0, 7.9, 8.0, 8.1, -20.0, 700.0])
    check_values(fnp.i0, (x,), np.i0(x))
    for v in (x[:4].astype(np.float32), np.array([0, 3, -2])):
        check_values(fnp.i0, (v,), np.i0(v))
    # i0' = i1 (SciPy's value), i0'' = i0 - i1 / x
    import scipy.special as sp

    v = np.array([-9.0, -1.5, 0.7, 4.0, 12.0])
    np.testing.assert_allclose(fxad.vmap(fxad.grad(fnp.i0))(v), sp.i1(v), rtol=1e-13)
    np.testing.assert_allclose(fxad.vmap(fxad.grad(fxad.grad(fnp.i0)))(v),
                               sp.i0(v) - sp.i1(v) / v, rtol=1e-12)
    # i0 is even: at 0 the first derivative is 0 (to rounding), the second 1/2
    assert abs(fxad.grad(fnp.i0)(0.0)) < 1e-15
    assert fxad.grad(fxad.grad(fnp.i0))(0.0) == pytest.approx(0.5, rel=1e-14)
    grads(fnp.i0, v, order=3)
    with pytest.raises(TypeError):
        fxad.make_jaxpr(fnp.i0)(np.ones(2, complex))


def test_real_and_complex_tests():
    z = np.array([1 + 1e-20j, 2 + 0j, 1j])
    for name in ("isreal", "iscomplex", "isrealobj", "iscomplexobj"):
        for v in (z, z.real, np.arange(3)):
            check_values(lambda a, name=name: fnp.asarray(getattr(fnp, name)(a)), (v,),
                         np.asarray(getattr(np, name)(v)))
    r = np.array([1 + 1e-20j, 2 + 0j])
    assert_same(fnp.real_if_close(r), np.real_if_close(r))
    assert_same(fxad.jvp(fnp.real_if_close, (r,), (np.ones(2, complex),))[0], r.real)
    check_values(fnp.real_if_close, (z.real,), np.real_if_close(z.real))
    with pytest.raises(ConcretizationTypeError):
        fxad.make_jaxpr(fnp.real_if_close)(r)


# ---------------------------------------------------------------------------
# Integers


@pytest.mark.parametrize("name", ["left_shift", "right_shift", "bitwise_left_shift",
                                  "bitwise_right_shift", "gcd", "lcm"])
def test_integer_functions(name):
    fn, np_fn = getattr(fnp, name), getattr(np, name)
    shift = "shift" in name
    for dt in (np.int8, np.uint8, np.int16, np.int32, np.int64, np.uint64):
        info = np.iinfo(dt)
        a = np.array([5, 1, info.max, info.min, 0, 7, 12, 100 % info.max], dt)
        if shift:
            b = np.array([0, 1, 3, info.bits - 1, info.bits, info.bits + 3, 2, 0], dt)
            if info.min < 0:
                a = np.concatenate([a, np.array([-5, -1, -128 % info.min], dt)])
                b = np.concatenate([b, np.array([1, 70 % info.max, -1], dt)])
        else:
            b = np.array([3, 0, 6, 4, 0, 13, 18, 12], dt)
            if info.min < 0:
                a, b = np.concatenate([a, np.array([-12, 6], dt)]), np.concatenate(
                    [b, np.array([18, -4], dt)])
        with np.errstate(all="ignore"):
            check_values(fn, (a, b), np_fn(a, b))
    check_values(lambda a: fn(a, 3), (np.array([7, -9]),), np_fn(np.array([7, -9]), 3))
    t, f = np.array([True, False]), np.array([True, True])
    if shift:
        check_values(fn, (t, f), np_fn(t, f))
    else:  # NumPy has no boolean loop
        with pytest.raises(TypeError):
            np_fn(t, f)
    with pytest.raises(TypeError):
        fxad.make_jaxpr(fn)(np.ones(2), np.ones(2, int))


def test_bitwise_count():
    for dt in (np.int8, np.uint8, np.int16, np.int32, np.int64, np.uint64):
        info = np.iinfo(dt)
        a = np.array([0, 1, 7, info.max, info.min, 100 % info.max], dt)
        check_values(fnp.bitwise_count, (a,), np.bitwise_count(a))
    b = np.array([True, False])
    check_values(fnp.bitwise_count, (b,), np.bitwise_count(b))


def test_index_arithmetic():
    i = np.array([5, 7, 0, 11])
    for order in ("C", "F"):
        check_values(lambda p, order=order: fnp.stack(fnp.unravel_index(p, (3, 4), order)),
                     (i,), np.stack(np.unravel_index(i, (3, 4), order)))
        r, c = np.array([1, 2, 0]), np.array([3, 0, 2])
        check_values(lambda p, q, order=order: fnp.ravel_multi_index((p, q), (3, 4),
                                                                    order=order),
                     (r, c), np.ravel_multi_index((r, c), (3, 4), order=order))
    r, c = np.array([1, 5, -1]), np.array([3, 0, 9])
    for mode in ("wrap", "clip", ("clip", "wrap")):
        check_values(lambda p, q, mode=mode: fnp.ravel_multi_index((p, q), (3, 4), mode),
                     (r, c), np.ravel_multi_index((r, c), (3, 4), mode))


# ---------------------------------------------------------------------------
# Editing arrays


def test_append_insert_delete():
    x = normal((3, 4))
    check(fnp.append, np.append, (x, normal((2,), 1)))
    check(lambda a, b: fnp.append(a, b, axis=0), lambda a, b: np.append(a, b, axis=0),
          (x, normal((1, 4), 1)))
    cases = [([0, 2], None, ()), (1, 1, (3,)), (-1, 0, (4,)), ([1, 1, 3], 1, (3, 1)),
             (slice(0, 4, 2), 1, ()), (np.array([0, 3]), 1, (3, 2)), (2, 0, (2, 4))]
    for obj, axis, vshape in cases:
        v = normal(vshape, 2)
        check(lambda a, b, obj=obj, axis=axis: fnp.insert(a, obj, b, axis=axis),
              lambda a, b, obj=obj, axis=axis: np.insert(a, obj, b, axis=axis), (x, v))
    for obj, axis in (([0, 2], None), (1, 1), (-1, 0), (slice(1, 3), 1),
                      (np.array([True, False, True]), 0), ([], 1)):
        check(lambda a, obj=obj, axis=axis: fnp.delete(a, obj, axis=axis),
              lambda a, obj=obj, axis=axis: np.delete(a, obj, axis=axis), (x,))
    i = np.arange(6).reshape(2, 3)
    check_values(lambda a: fnp.insert(a, 1, 2.7, axis=1), (i,), np.insert(i, 1, 2.7, axis=1))
    # the values' derivative accumulates where they are broadcast
    g = fxad.grad(lambda v: fnp.insert(np.zeros(3), [0, 1, 3], v).sum())(2.0)
    assert g == 3.0
    with pytest.raises(ConcretizationTypeError):
        fxad.make_jaxpr(lambda o: fnp.delete(x, o))(np.array([1]))
    check_vmap(lambda a: fnp.insert(a, [1, 1], 5.0), x)


def test_resize_block_rollaxis():
    x = normal((2, 3))
    for shape in ((3, 4), 5, (1,), (0, 2), (2, 3)):
        check(lambda a, shape=shape: fnp.resize(a, shape),
              lambda a, shape=shape: np.resize(a, shape), (x,))
    a, b, c = normal((2, 2)), normal((2, 1), 1), normal((1, 3), 2)
    check(lambda p, q, r: fnp.block([[p, q], [r]]), lambda p, q, r: np.block([[p, q], [r]]),
          (a, b, c))
    check(lambda p, q: fnp.block([p, q]), lambda p, q: np.block([p, q]), (a, b))
    v = normal((3,))
    check(lambda p: fnp.block([[[p]], [[p]]]), lambda p: np.block([[[p]], [[p]]]), (v,))
    check(lambda p: fnp.block([p, 1.0]), lambda p: np.block([p, 1.0]), (v,))
    with pytest.raises(ValueError):
        fxad.make_jaxpr(lambda p: fnp.block([[p], p]))(v)
    y = normal((2, 3, 4))
    for axis, start in ((2, 0), (0, 3), (1, 1), (-1, -2), (0, 1)):
        check(lambda p, axis=axis, start=start: fnp.rollaxis(p, axis, start),
              lambda p, axis=axis, start=start: np.rollaxis(p, axis, start), (y,))


def test_compress_extract_choose():
    x = normal((3, 4))
    cond = np.array([True, False, True])
    check(lambda a: fnp.compress(cond, a, axis=0), lambda a: np.compress(cond, a, axis=0), (x,))
    check(lambda a: fnp.compress([0, 1], a), lambda a: np.compress([0, 1], a), (x,))
    mask = x > 0
    check(lambda a: fnp.extract(mask, a), lambda a: np.extract(mask, a), (x,))
    idx = np.array([[0, 1, 2, 1], [2, 2, 0, 0], [1, 0, 1, 2]])
    cs = [normal((3, 4), k) for k in range(3)]
    check(lambda *c: fnp.choose(idx, c), lambda *c: np.choose(idx, c), cs)
    check(lambda *c: fnp.choose(idx + 2, c, mode="wrap"),
          lambda *c: np.choose(idx + 2, c, mode="wrap"), cs)
    check(lambda c0, c1: fnp.choose(idx, [c0, c1, 5.0], mode="clip"),
          lambda c0, c1: np.choose(idx, [c0, c1, 5.0], mode="clip"), cs[:2])
    # traced selector
    for mode in ("raise", "wrap", "clip"):
        j = idx + (3 if mode != "raise" else 0)
        check_values(lambda s, mode=mode: fnp.choose(s, cs, mode=mode), (j,),
                     np.choose(j, cs, mode=mode))
    check_vmap(lambda s: fnp.choose(s, [cs[0][0], cs[1][0], cs[2][0]]), idx)


def test_piecewise():
    x = np.array([-2.5, -0.5, 0.5, 1.5, 3.0])
    conds = [x < 0, x > 1]
    funcs = [lambda v: v ** 2, lambda v: fnp.sqrt(v), lambda v: 2 * v]
    check(lambda a: fnp.piecewise(a, conds, funcs), lambda a: np.piecewise(a, conds, funcs),
          (x,))
    check(lambda a: fnp.piecewise(a, conds, [1.0, lambda v: v * 3]),
          lambda a: np.piecewise(a, conds, [1.0, lambda v: v * 3]), (x,))
    check(lambda a: fnp.piecewise(a, x > 0, [lambda v: v, 0.0]),
          lambda a: np.piecewise(a, x > 0, [lambda v: v, 0.0]), (x,))
    # sqrt never sees the negative pieces: no NaN in the derivative
    g = fxad.grad(lambda a: fnp.piecewise(a, conds, funcs).sum())(x)
    assert np.all(np.isfinite(g))
    # traced conditions: every function on all of x, selected with where
    def f(a):
        return fnp.piecewise(a, [a < 0, a > 1], [lambda v: v ** 2, 0.0, lambda v: 2 * v])

    check_values(f, (x,), np.piecewise(x, [x < 0, x > 1], [lambda v: v ** 2, 0.0,
                                                           lambda v: 2 * v]))
    check_vmap(f, x.reshape(1, 5))


def test_apply_along_and_over_axes():
    x = normal((2, 3, 4))
    for axis in (0, 1, -1):
        check(lambda a, axis=axis: fnp.apply_along_axis(lambda v: v[0] * v[1:].sum(), axis, a),
              lambda a, axis=axis: np.apply_along_axis(lambda v: v[0] * v[1:].sum(), axis, a),
              (x,))
        check(lambda a, axis=axis: fnp.apply_along_axis(fnp.outer, axis, a, np.arange(2.0)),
              lambda a, axis=axis: np.apply_along_axis(np.outer, axis, a, np.arange(2.0)),
              (x,))
    check(lambda a: fnp.apply_over_axes(fnp.sum, a, [0, 2]),
          lambda a: np.apply_over_axes(np.sum, a, [0, 2]), (x,))
    check(lambda a: fnp.apply_over_axes(lambda v, ax: fnp.mean(v, ax, keepdims=True), a, -1),
          lambda a: np.apply_over_axes(lambda v, ax: np.mean(v, ax, keepdims=True), a, -1),
          (x,))


def test_identities_trim_zeros_ix():
    x = normal((2, 3))
    for name in ("copy", "asanyarray", "ascontiguousarray", "asfortranarray"):
        check(getattr(fnp, name), getattr(np, name), (x,))
        check(getattr(fnp, name), getattr(np, name), (np.float64(1.5),))
    v = np.array([0.0, 0.0, 1.5, 0.0, -2.0, 0.0])
    for trim in ("fb", "f", "b"):
        check_concrete(lambda a, trim=trim: fnp.trim_zeros(a, trim), lambda a, trim=trim:
                       np.trim_zeros(a, trim), (v,))
    m = np.zeros((3, 4))
    m[1, 1:3] = [1.0, 2.0]
    check_concrete(fnp.trim_zeros, np.trim_zeros, (m,))
    check_concrete(lambda a: fnp.trim_zeros(a, axis=1), lambda a: np.trim_zeros(a, axis=1),
                   (m,))
    check_concrete(fnp.trim_zeros, np.trim_zeros, (np.zeros(3),))
    # the kept elements carry their derivatives (a slice)
    g = fxad.grad(lambda a: fnp.sum(fnp.trim_zeros(a) * np.arange(1.0, 4.0)))(v)
    np.testing.assert_array_equal(g, [0, 0, 1, 2, 3, 0])
    with pytest.raises(ConcretizationTypeError):
        fxad.make_jaxpr(fnp.trim_zeros)(v)
    i, j = np.array([0, 2]), np.array([1, 0, 2])
    check_values(lambda a, b: fnp.stack(fnp.broadcast_arrays(*fnp.ix_(a, b))), (i, j),
                 np.stack(np.broadcast_arrays(*np.ix_(i, j))))
    check(lambda a: a[fnp.ix_(i, [True, False, True])],
          lambda a: a[np.ix_(i, [True, False, True])], (normal((3, 3)),))


# ---------------------------------------------------------------------------
# Products


@few
@given(data=st.data())
def test_cross(data):
    batch = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=3),
                      label="batch")
    sa, sb = batch.input_shapes
    a, b = normal(sa + (3,)), normal(sb + (3,), 1)
    check(fnp.cross, np.cross, (a, b))
    axa, axb = data.draw(st.integers(0, len(sa)), label="axisa"), data.draw(
        st.integers(0, len(sb)), label="axisb")
    a, b = np.moveaxis(a, -1, axa), np.moveaxis(b, -1, axb)
    axc = data.draw(st.integers(0, len(batch.result_shape)), label="axisc")
    check(fnp.cross, np.cross, (a, b), axisa=axa, axisb=axb, axisc=axc)


def test_cross_of_2_vectors_and_dtypes():
    a, b, c = normal((2, 2)), normal((2,), 1), normal((2, 3), 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        for x, y in ((a, b), (a, c), (c, a)):
            check(fnp.cross, np.cross, (x, y))
        i = np.array([1, 2, 3], np.int8)
        check_values(lambda p: fnp.cross(p, i.astype(np.float32)), (i,),
                     np.cross(i, i.astype(np.float32)))
        check(lambda p, q: fnp.cross(p, q, axis=0), lambda p, q: np.cross(p, q, axis=0),
              (normal((3, 2)), normal((3, 2), 1)))
    check_vmap(lambda p: fnp.cross(p, c[0]), c)


def test_vecdot_matvec_vecmat():
    a, b = normal((2, 1, 3)), normal((4, 3), 1)
    check(fnp.vecdot, np.vecdot, (a, b))
    check(lambda p, q: fnp.vecdot(p, q, axis=0), lambda p, q: np.vecdot(p, q, axis=0),
          (normal((3, 2)), normal((3, 1), 1)))
    z = normal((3,)) + 1j * normal((3,), 1)
    check_values(lambda p: fnp.vecdot(p, z), (z,), np.vecdot(z, z))
    check_values(lambda p: fnp.vecmat(p, np.ones((3, 2))), (z,), np.vecmat(z, np.ones((3, 2))))
    m = normal((2, 4, 3))
    check(fnp.matvec, np.matvec, (m, normal((3,), 1)))
    check(fnp.vecmat, np.vecmat, (normal((2, 4)), m))
    i = np.arange(6, dtype=np.int32).reshape(2, 3)
    check_values(lambda p: fnp.vecdot(p, p), (i,), np.vecdot(i, i))
    check_values(lambda p: fnp.matvec(p, i[0]), (i,), np.matvec(i, i[0]))
    # plain NumPy calls on tracers route here (they are gufuncs)
    check_values(lambda p: np.matvec(p, b[0]), (b,), np.matvec(b, b[0]))


# ---------------------------------------------------------------------------
# Convolution


@pytest.mark.parametrize("name", ["convolve", "correlate"])
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_convolve_correlate(name, mode):
    fn, np_fn = getattr(fnp, name), getattr(np, name)
    for m, n in ((5, 3), (5, 4), (3, 5), (4, 5), (2, 5), (6, 2), (1, 4), (3, 1), (1, 1)):
        a, v = normal((m,)), normal((n,), 1)
        check(fn, np_fn, (a, v), mode=mode)
    i = np.array([1, 2, 3], np.int8)
    check_values(lambda p: fn(p, [1, -1], mode), (i,), np_fn(i, [1, -1], mode))
    z = normal((4,)) + 1j * normal((4,), 2)
    check_values(lambda p: fn(p, z[:3], mode), (z,), np_fn(z, z[:3], mode))
    check_values(lambda p: fn(p, z, mode), (z[:2].real,), np_fn(z[:2].real, z, mode))
    check_vmap(lambda p: fn(p, np.array([1.0, 2.0, 0.5]), mode), normal((3, 4)))
    with pytest.raises(ValueError):
        fxad.make_jaxpr(lambda p: fn(p, np.zeros(0)))(np.ones(3))


# ---------------------------------------------------------------------------
# Interpolation, integration, differences


def test_interp_values():
    xp = np.array([-1.0, 0.0, 0.5, 2.0, 3.0])
    fp = np.array([1.0, -1.0, 2.0, 0.5, 4.0])
    x = np.array([-2.0, -1.0, -0.25, 0.0, 0.5, 1.7, 2.0, 3.0, 3.5, np.nan])
    for kw in ({}, dict(left=-9.0), dict(right=9.0, left=np.float64(-9.0)), dict(period=2.5)):
        check_values(lambda a, kw=kw: fnp.interp(a, xp, fp, **kw), (x,),
                     np.interp(x, xp, fp, **kw))
        check_values(lambda a, b, kw=kw: fnp.interp(x, a, b, **kw), (xp, fp),
                     np.interp(x, xp, fp, **kw))
    check_values(lambda a: fnp.interp(a, [1.0], [5.0]), (x,), np.interp(x, [1.0], [5.0]))
    check_values(lambda a: fnp.interp(a, xp, fp + 1j * fp[::-1]), (x,),
                 np.interp(x, xp, fp + 1j * fp[::-1]))
    i = np.array([0, 1, 3])
    check_values(lambda a: fnp.interp(a, xp, fp), (i,), np.interp(i, xp, fp))
    check_values(lambda a: fnp.interp(a, xp, fp), (np.float32(0.3),),
                 np.interp(np.float32(0.3), xp, fp))
    # infinite values: NumPy's fallbacks
    fpi = np.array([1.0, np.inf, np.inf, 0.5, 4.0])
    with np.errstate(all="ignore"):
        check_values(lambda a: fnp.interp(a, xp, fpi), (x[:-1],), np.interp(x[:-1], xp, fpi))


def test_interp_derivatives():
    xp = np.array([-1.0, 0.0, 0.5, 2.0, 3.0])
    fp = np.array([1.0, -1.0, 2.0, 0.5, 4.0])
    x = np.array([-2.0, -0.25, 0.3, 1.7, 2.6, 3.5])  # away from the knots
    grads(lambda a, b, c: fnp.interp(a, b, c), x, xp, fp)
    grads(lambda a, lo, hi: fnp.interp(a, xp, fp, left=lo, right=hi), x, -3.0, 3.0)
    # at a knot: the slope to the right (JAX), and fp[-1] at the last knot
    g = fxad.vmap(fxad.grad(lambda a: fnp.interp(a, xp, fp)))(xp)
    np.testing.assert_allclose(g, [-2.0, 6.0, -1.0, 3.5, 3.5])
    check_vmap(lambda a: fnp.interp(a, xp, fp), x.reshape(2, 3))
    check_vmap(lambda b: fnp.interp(x, xp, b), np.stack([fp, 2 * fp]))


@few
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4),
       axis=st.integers(-1, 0), spacing=st.sampled_from(["dx", "x1", "xn", "none"]))
def test_trapezoid(shape, axis, spacing):
    y = normal(shape)
    n = shape[axis]
    if spacing == "dx":
        check(lambda a, d: fnp.trapezoid(a, dx=d, axis=axis),
              lambda a, d: np.trapezoid(a, dx=d, axis=axis), (y, 0.3))
    elif spacing == "x1":
        x = np.cumsum(positive((n,), 1))
        check(lambda a, b: fnp.trapezoid(a, b, axis=axis),
              lambda a, b: np.trapezoid(a, b, axis=axis), (y, x))
    elif spacing == "xn":
        x = np.cumsum(positive(shape, 1), axis=axis)
        check(lambda a, b: fnp.trapezoid(a, b, axis=axis),
              lambda a, b: np.trapezoid(a, b, axis=axis), (y, x))
    else:
        check(lambda a: fnp.trapezoid(a, axis=axis), lambda a: np.trapezoid(a, axis=axis), (y,))
    i = np.arange(6).reshape(2, 3)
    check_values(fnp.trapezoid, (i,), np.trapezoid(i))
    check_values(lambda a: fnp.trapezoid(a.astype(np.float32), dx=0.5), (i,),
                 np.trapezoid(i.astype(np.float32), dx=0.5))


@few
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=3, max_side=5),
       edge_order=st.sampled_from([1, 2]), spacing=st.sampled_from(["none", "scalar",
                                                                     "coords", "uniform"]))
def test_gradient(shape, edge_order, spacing):
    f = normal(shape)
    nd = len(shape)
    axis = None if nd == 1 else (0, nd - 1)
    axes = (0,) if nd == 1 else (0, nd - 1)
    if spacing == "none":
        sp = ()
    elif spacing == "scalar":
        sp = (0.7,)
    elif spacing == "uniform":
        sp = tuple(np.arange(shape[a]) * 0.5 for a in axes)
    else:
        sp = tuple(np.cumsum(positive((shape[a],), k)) for k, a in enumerate(axes))

    def fx(a, *s):
        out = fnp.gradient(a, *s, axis=axis, edge_order=edge_order)
        return fnp.stack(out) if isinstance(out, tuple) else out

    def fn(a, *s):
        out = np.gradient(a, *s, axis=axis, edge_order=edge_order)
        return np.stack(out) if isinstance(out, tuple) else out

    check_values(fx, (f,) + sp, fn(f, *sp))
    grads(fx, f, *sp)
    i = np.arange(12).reshape(3, 4) ** 2
    check_values(lambda a: fnp.stack(fnp.gradient(a, 2.0, edge_order=edge_order)), (i,),
                 np.stack(np.gradient(i, 2.0, edge_order=edge_order)))
    f32 = f.astype(np.float32)
    check_values(lambda a: fx(a, *sp), (f32,), fn(f32, *sp))


def test_unwrap():
    p = np.array([0.0, 3.0, -3.0, 2.5, -2.9, 6.0, 0.1])
    for kw in ({}, dict(discont=4.0), dict(period=5.0), dict(period=5.0, discont=1.0)):
        check(lambda a, kw=kw: fnp.unwrap(a, **kw), lambda a, kw=kw: np.unwrap(a, **kw), (p,))
    q = np.stack([p, -p])
    check(lambda a: fnp.unwrap(a, axis=0), lambda a: np.unwrap(a, axis=0), (q.T,))
    i = np.array([0, 7, 1, 9, 2])
    check_values(lambda a: fnp.unwrap(a, period=6), (i,), np.unwrap(i, period=6))
    check_values(lambda a: fnp.unwrap(a, period=5), (i,), np.unwrap(i, period=5))
    check_vmap(fnp.unwrap, q)


# ---------------------------------------------------------------------------
# Polynomials


def test_polynomials():
    p, q, x = normal((4,)), normal((2,), 1), normal((2, 3), 2)
    check(fnp.polyval, np.polyval, (p, x))
    check(fnp.polyval, np.polyval, (p, 1.5))
    check_values(lambda a: fnp.polyval(a, np.arange(3)), (np.array([1, 2, 3]),),
                 np.polyval(np.array([1, 2, 3]), np.arange(3)))
    for name in ("polyadd", "polysub", "polymul"):
        check(getattr(fnp, name), getattr(np, name), (p, q))
        check(getattr(fnp, name), getattr(np, name), (q, p))
        check(getattr(fnp, name), getattr(np, name), (p, 2.0))
    z = np.array([0.0, 0.0, 1.0, 2.0])
    check_concrete(fnp.polymul, np.polymul, (z, q))  # leading zeros trimmed, as NumPy
    grads(lambda b: fnp.polymul(z, b), q)
    (staged,) = fxad.make_jaxpr(fnp.polymul)(z, q)(z, q)  # abstract: kept, as JAX
    assert_same(staged, np.convolve(z, q))
    for m in (0, 1, 2, 5):
        check(lambda a, m=m: fnp.polyder(a, m), lambda a, m=m: np.polyder(a, m), (p,))
        check(lambda a, m=m: fnp.polyint(a, m), lambda a, m=m: np.polyint(a, m), (p,))
    check(lambda a, k: fnp.polyint(a, 2, k), lambda a, k: np.polyint(a, 2, k), (p, q))
    check(lambda a, k: fnp.polyint(a, 3, k), lambda a, k: np.polyint(a, 3, k), (p, 0.5))
    check_values(lambda a: fnp.polyder(a, 2), (np.array([1, 2, 3, 4]),),
                 np.polyder(np.array([1, 2, 3, 4]), 2))
    check(fnp.poly, np.poly, (normal((3,)),))
    check_vmap(lambda a: fnp.polyval(a, x), np.stack([p, 2 * p]))


@few
@given(n=st.integers(0, 4), N=st.sampled_from([None, 0, 1, 2, 5]), increasing=st.booleans())
def test_vander(n, N, increasing):
    x = normal((n,))
    check(fnp.vander, np.vander, (x,), N=N, increasing=increasing)
    for v in (np.arange(n, dtype=np.int8), x.astype(np.float32)):
        check_values(lambda a: fnp.vander(a, N, increasing), (v,), np.vander(v, N, increasing))


# ---------------------------------------------------------------------------
# Statistics


def test_cov_corrcoef():
    m, y = normal((3, 5)), normal((2, 5), 1)
    w = positive((5,), 2)
    f = np.array([1, 2, 1, 3, 1])
    cases = [dict(), dict(rowvar=False), dict(bias=True), dict(ddof=2), dict(aweights=w),
             dict(fweights=f), dict(fweights=f, aweights=w, ddof=0),
             dict(fweights=f, aweights=w)]
    for kw in cases:
        check(lambda a, kw=kw: fnp.cov(a, **kw), lambda a, kw=kw: np.cov(a, **kw),
              (m if kw.get("rowvar") is not False else m.T,))
    check(fnp.cov, np.cov, (m, y))
    check(lambda a, b: fnp.cov(a, b, rowvar=False), lambda a, b: np.cov(a, b, rowvar=False),
          (m.T, y.T))
    check(lambda a, b: fnp.cov(m, aweights=b), lambda a, b: np.cov(m, aweights=b), (m, w))
    check(fnp.cov, np.cov, (m[0],))
    check_values(lambda a: fnp.cov(a, dtype=np.float32), (m,), np.cov(m, dtype=np.float32))
    i = np.arange(10).reshape(2, 5) ** 2
    check_values(fnp.cov, (i,), np.cov(i))
    check(fnp.corrcoef, np.corrcoef, (m,))
    check(fnp.corrcoef, np.corrcoef, (m[0], y[0]))
    check(lambda a: fnp.corrcoef(a, rowvar=False), lambda a: np.corrcoef(a, rowvar=False),
          (m.T,))
    check_values(fnp.corrcoef, (m[0],), np.corrcoef(m[0]))
    z = m + 1j * y[0]
    check_values(fnp.cov, (z,), np.cov(z))
    check_values(fnp.corrcoef, (z,), np.corrcoef(z))
    check_vmap(fnp.cov, np.stack([m, 2 * m]))


def test_geomspace():
    for start, stop, kw in ((1.0, 1000.0, {}), (2.0, 0.5, dict(num=5)),
                            (-1.0, -16.0, dict(num=5, endpoint=False)), (3.0, 7.0, dict(num=1)),
                            (3.0, 7.0, dict(num=0)), (1.0, 2.0, dict(num=4, dtype=np.float32))):
        check(lambda a, b, kw=kw: fnp.geomspace(a, b, **kw),
              lambda a, b, kw=kw: np.geomspace(a, b, **kw), (start, stop))
    a, b = positive((2,), lo=1, hi=2), positive((3, 1), 1, 3, 5)
    check(lambda p, q: fnp.geomspace(p, q, 4, axis=-1),
          lambda p, q: np.geomspace(p, q, 4, axis=-1), (a, b))
    check_values(lambda p: fnp.geomspace(p, 100, 3), (np.int64(1),), np.geomspace(1, 100, 3))
    check_vmap(lambda p: fnp.geomspace(p, 10.0, 5), a)
    with pytest.raises(ValueError):
        fxad.make_jaxpr(lambda p: fnp.geomspace(0.0, p))(1.0)


# ---------------------------------------------------------------------------
# Searching, counting, sets


def test_searchsorted_digitize_lexsort():
    a = np.array([-1.0, 0.0, 0.0, 2.5, np.nan])
    v = np.array([[-2.0, 0.0, 1.0], [2.5, 9.0, np.nan]])
    for side in ("left", "right"):
        check_values(lambda p, q, side=side: fnp.searchsorted(p, q, side), (a, v),
                     np.searchsorted(a, v, side))
        check_values(lambda q, side=side: fnp.searchsorted(a, q, side), (np.float32(0.0),),
                     np.searchsorted(a, np.float32(0.0), side))
    u = a[:4][[3, 0, 2, 1]]
    s = np.argsort(u, kind="stable")
    check_values(lambda p: fnp.searchsorted(p, v, sorter=s), (u,),
                 np.searchsorted(u, v, sorter=s))
    check_values(lambda p: fnp.searchsorted(p, np.array([2, 7])), (np.array([1, 3, 5]),),
                 np.searchsorted(np.array([1, 3, 5]), np.array([2, 7])))
    no_derivative(lambda p, q: fnp.searchsorted(p, q), a[:4], v)
    check_vmap(lambda q: fnp.searchsorted(a, q), v)
    x = np.array([-1.0, 0.0, 0.5, 2.0, 7.0])
    for bins in (np.array([0.0, 0.5, 2.0]), np.array([2.0, 0.5, 0.0]), np.array([1.0])):
        for right in (False, True):
            check_values(lambda p, right=right, bins=bins: fnp.digitize(p, bins, right), (x,),
                         np.digitize(x, bins, right))
            check_values(lambda b, right=right: fnp.digitize(x, b, right), (bins,),
                         np.digitize(x, bins, right))
    k1, k2 = np.array([1, 0, 1, 0, 2]), np.array([0.5, 0.5, -1.0, np.nan, 0.5])
    check_values(lambda p, q: fnp.lexsort((p, q)), (k1, k2), np.lexsort((k1, k2)))
    check_values(fnp.lexsort, (np.stack([k2, k1]),), np.lexsort(np.stack([k2, k1])))
    km = normal((2, 3))
    check_values(lambda p: fnp.lexsort([p, p[::-1]], axis=0), (km,),
                 np.lexsort([km, km[::-1]], axis=0))


def test_bincount_histogram():
    x = np.array([0, 3, 1, 3, 3, 7])
    w = normal((6,))
    check_concrete(fnp.bincount, np.bincount, (x,))
    check(lambda q: fnp.bincount(x, q, minlength=10), lambda q: np.bincount(x, q, minlength=10),
          (w,))
    check_values(lambda p: fnp.bincount(p, length=5), (x,), np.bincount(x)[:5])
    with pytest.raises(ConcretizationTypeError, match="length="):
        fxad.make_jaxpr(fnp.bincount)(x)
    check_vmap(lambda q: fnp.bincount(x, q), np.stack([w, 2 * w]))
    a = np.array([0.1, 0.5, 0.5, 1.0, 2.7, 3.0, -1.0])
    for kw in (dict(), dict(bins=3), dict(bins=4, range=(0.0, 3.0)),
               dict(bins=np.array([0.0, 0.5, 2.0, 3.0])), dict(bins=3, weights=w[:7 - 1]),
               dict(bins=3, density=True), dict(bins="auto")):
        kw = dict(kw)
        if "weights" in kw:
            kw["weights"] = np.append(kw["weights"], 0.25)
        for part in (0, 1, None):
            if part is None and ("density" in kw or "weights" in kw):
                continue  # histogram_bin_edges
            if part is None:
                fx, exp = fnp.histogram_bin_edges, np.histogram_bin_edges(a, **kw)
            else:
                fx, exp = (lambda p, kw=kw, part=part: fnp.histogram(p, **kw)[part],
                           np.histogram(a, **kw)[part])
            if isinstance(kw.get("bins"), str):
                assert_same(fxad.jvp(lambda p, kw=kw, fx=fx, part=part: fx(p, **kw)
                                     if part is None else fx(p), (a,), (np.ones(7),))[0], exp)
                continue
            check_values(lambda p, kw=kw, fx=fx, part=part: fx(p, **kw) if part is None
                         else fx(p), (a,), exp)
    grads(lambda p: fnp.histogram(p, bins=3)[1], a)  # edges from min and max
    grads(lambda p: fnp.histogram(a, bins=3, weights=p)[0], positive((7,)))
    grads(lambda p: fnp.histogram(p, bins=3, density=True)[0], a)
    i = np.array([1, 2, 2, 5])
    for v in (i, np.full(3, 2.0), i.astype(np.float32)):
        for part in (0, 1):
            check_values(lambda p, part=part: fnp.histogram(p, bins=2)[part], (v,),
                         np.histogram(v, bins=2)[part])
            check_values(lambda p, part=part: fnp.histogram(p, 3, (0, 4), weights=p)[part],
                         (v,), np.histogram(v, 3, (0, 4), weights=v)[part])


def test_set_operations():
    a, b = np.array([3.0, 1.0, 2.0, 1.0, 5.0]), np.array([2.0, 5.0, 7.0, 2.0])
    for name in ("union1d", "intersect1d", "setdiff1d", "setxor1d"):
        check_concrete(getattr(fnp, name), getattr(np, name), (a, b))
        g = fxad.grad(lambda p, q, name=name: fnp.sum(getattr(fnp, name)(p, q)),
                      argnums=(0, 1))(a, b)
        assert_same(g[0] + 0 * a, np.isin(a, getattr(np, name)(a, b)) * (
            np.arange(5) == np.array([np.flatnonzero(a == v)[0] for v in a])) * 1.0)
    r = fxad.jvp(lambda p: fnp.intersect1d(p, b, return_indices=True), (a,), (a,))[0]
    for o, e in zip(r, np.intersect1d(a, b, return_indices=True)):
        assert_same(o, e)
    check_concrete(lambda p: fnp.setdiff1d(p, b, assume_unique=True),
                   lambda p: np.setdiff1d(p, b, assume_unique=True), (a[:3],))


def test_windows():
    for name in ("bartlett", "blackman", "hamming", "hanning"):
        assert getattr(fnp, name) is getattr(np, name)
    for m in (1, 2, 5):
        check(lambda b, m=m: fnp.kaiser(m, b), lambda b, m=m: np.kaiser(m, b), (2.5,))
    check_vmap(lambda b: fnp.kaiser(4, b), np.array([1.0, 6.0]))


def test_unique_and_isin():
    x = np.array([[2.0, 1.0, 2.0], [np.nan, 1.0, 3.0]])
    for kw in (dict(), dict(return_index=True, return_inverse=True, return_counts=True),
               dict(axis=1), dict(equal_nan=False)):
        exp = np.unique(x, **kw)
        out = fxad.jvp(lambda p, kw=kw: fnp.unique(p, **kw), (x,), (np.ones_like(x),))[0]
        for o, e in zip(*((out, exp) if isinstance(exp, tuple) else ((out,), (exp,)))):
            assert_same(o, e)
    g = fxad.grad(lambda p: fnp.sum(fnp.unique(p) * np.arange(4.0)))(np.array(
        [2.0, 1.0, 2.0, 5.0, 0.5]))
    np.testing.assert_array_equal(g, [2.0, 1.0, 0.0, 3.0, 0.0])
    with pytest.raises(ConcretizationTypeError, match="concrete"):
        fxad.make_jaxpr(fnp.unique)(x)
    for name in ("unique_values", "unique_counts", "unique_inverse", "unique_all"):
        exp = getattr(np, name)(x)
        out = fxad.jvp(getattr(fnp, name), (x,), (np.ones_like(x),))[0]
        for o, e in zip(*((out, exp) if isinstance(exp, tuple) else ((out,), (exp,)))):
            assert_same(o, e)
    t = np.array([1.0, 3.0, np.nan])
    for inv in (False, True):
        check_values(lambda p, q, inv=inv: fnp.isin(p, q, invert=inv), (x, t),
                     np.isin(x, t, invert=inv))
    check_values(lambda p: fnp.isin(p, []), (x,), np.isin(x, []))
    check_values(lambda p: fnp.isin(p, [2, 5]), (np.arange(4),), np.isin(np.arange(4), [2, 5]))


# ---------------------------------------------------------------------------
# Dispatch from plain NumPy calls


def test_numpy_calls_on_tracers_route_here():
    x, y = normal((2, 3)), normal((3,), 1)
    check_values(lambda a: np.fmax(a, y), (x,), np.fmax(x, y))
    check_values(lambda a: np.convolve(a[0], y), (x,), np.convolve(x[0], y))
    check_values(lambda a: np.interp(a, [0.0, 1.0], [1.0, 3.0]), (x,),
                 np.interp(x, [0.0, 1.0], [1.0, 3.0]))
    check_values(lambda a: np.frexp(a)[0], (x,), np.frexp(x)[0])
    for acc in (np.maximum.accumulate, np.minimum.accumulate):
        check_values(lambda a, acc=acc: acc(a, axis=1), (x,), acc(x, axis=1))
        grads(lambda a, acc=acc: acc(a, axis=1), spaced((2, 3)))
    for fn, args in ((np.fill_diagonal, (0.0,)), (np.put, ([0], 1.0)),
                     (np.place, (np.ones((2, 3), bool), 1.0)),
                     (np.putmask, (np.ones((2, 3), bool), 1.0)), (np.copyto, (1.0,))):
        def f(a, fn=fn, args=args):
            if fn is np.copyto:
                return fn(a, *args)
            return fn(a, *args)

        with pytest.raises(TypeError, match=r"\.at\["):
            fxad.make_jaxpr(f)(x)
