"""Round-two NumPy functions against NumPy: values and dtypes under ``jit``,
derivatives against finite differences (forward and reverse), ``vmap``
against a loop.  ``sum``/``prod``/``mean`` ``where=``, ``max``/``min``
``initial=``/``where=``, ``fnp.add.accumulate`` and friends, every ``pad``
mode, weighted ``quantile``, ``put_along_axis``, ``vectorize``,
``.at[...]`` with ``mode="drop"``/``"fill"``, ``linalg.lstsq``, ``polyfit``
and ``roots``."""

from __future__ import annotations

import numpy as np
import pytest

import fxad
import fxad.numpy as fnp
from fxad.test_util import check_grads

RNG = np.random.default_rng(11)
X = np.array([[1.0, 5.0, 3.0, 2.5], [2.0, -1.0, 4.0, 7.0], [0.5, 3.0, 1.0, 1.5]])
W = X > 1.5


def check(f, ref, args, grads=True, rtol=1e-10):
    got, exp = fxad.jit(f)(*args), ref(*args)
    got = got if isinstance(got, tuple) else (got,)
    exp = exp if isinstance(exp, tuple) else (exp,)
    assert len(got) == len(exp)
    for g, e in zip(got, exp):
        e = np.asarray(e)
        assert np.shape(g) == e.shape
        assert np.asarray(g).dtype == e.dtype
        np.testing.assert_allclose(np.asarray(g), e, rtol=rtol, atol=1e-12)
    if grads:
        check_grads(f, args, order=1, modes=("fwd", "rev"))


# ---------------------------------------------------------------------------
# Reductions with where= and initial=

REDUCTIONS = [
    ("sum_where", dict(where=W), "sum"),
    ("sum_where_axis_initial", dict(axis=1, where=W, initial=2.0), "sum"),
    ("prod_where", dict(axis=0, where=W), "prod"),
    ("prod_initial", dict(axis=1, initial=0.5), "prod"),
    ("mean_where", dict(axis=1, where=W), "mean"),
    ("mean_where_all", dict(where=W), "mean"),
    ("max_initial", dict(axis=0, initial=3.5), "max"),
    ("max_where", dict(axis=1, initial=0.0, where=W), "max"),
    ("min_where_keepdims", dict(axis=1, initial=10.0, where=W, keepdims=True), "min"),
    ("max_where_none_selected", dict(initial=0.0, where=X > 100), "max"),
    ("min_initial_broadcast_where", dict(axis=0, initial=9.0, where=np.array([1, 0, 1, 1],
                                                                             bool)), "min"),
]


@pytest.mark.parametrize("name,kw,fn", REDUCTIONS, ids=[r[0] for r in REDUCTIONS])
def test_reductions_where_initial(name, kw, fn):
    check(lambda a: getattr(fnp, fn)(a, **kw), lambda a: getattr(np, fn)(a, **kw), (X,))


def test_reductions_traced_mask_initial_and_errors():
    # A traced mask (its values unknown while tracing) and a traced initial.
    check(lambda m: fnp.sum(X, where=m), lambda m: np.sum(X, where=m), (W,), grads=False)
    check(lambda m: fnp.mean(X, axis=0, where=m), lambda m: np.mean(X, axis=0, where=m),
          (W,), grads=False)
    np.testing.assert_allclose(fxad.grad(lambda i: fnp.max(X, initial=i))(8.0), 1.0)
    np.testing.assert_allclose(fxad.grad(lambda i: fnp.max(X, initial=i))(1.0), 0.0)
    np.testing.assert_allclose(fxad.grad(lambda i: fnp.sum(X, initial=i))(7.0), 1.0)
    # The left-out entries get zero derivative, the maximum among the rest all of it.
    np.testing.assert_array_equal(fxad.grad(lambda a: fnp.max(a, initial=0.0, where=a < 2.8))(X),
                                  np.where(X == 2.5, 1.0, 0.0))
    with pytest.raises(ValueError, match="specify 'initial'"):
        fxad.grad(lambda a: fnp.max(a, where=W))(X)
    with pytest.raises(ValueError, match="does not broadcast"):
        fxad.grad(lambda a: fnp.sum(a, where=np.ones(3, bool)))(X)


def test_reductions_where_vmap_matches_loop():
    f = lambda a: fnp.max(a, initial=-1.0, where=a > 1.0)  # noqa: E731
    np.testing.assert_array_equal(fxad.vmap(f)(X), np.stack([f(r) for r in X]))


# ---------------------------------------------------------------------------
# ufunc methods


@pytest.mark.parametrize("name", ["add", "multiply", "maximum", "minimum"])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_ufunc_accumulate_and_reduce(name, axis):
    check(lambda a: getattr(fnp, name).accumulate(a, axis=axis),
          lambda a: getattr(np, name).accumulate(a, axis=axis), (X,))
    check(lambda a: getattr(fnp, name).reduce(a, axis=axis),
          lambda a: getattr(np, name).reduce(a, axis=axis), (X,))
    check(lambda a: getattr(fnp, name).reduce(a, axis=axis, keepdims=True, initial=2.0),
          lambda a: getattr(np, name).reduce(a, axis=axis, keepdims=True, initial=2.0), (X,))
    # The default axis is 0, as NumPy's (not None, as fnp.cumsum's).
    check(lambda a: getattr(fnp, name).accumulate(a), lambda a: getattr(np, name).accumulate(a),
          (X,))
    np.testing.assert_array_equal(getattr(fnp, name).accumulate(X),
                                  getattr(np, name).accumulate(X))


def test_ufunc_accumulate_vmap_and_dtype():
    xs = X.astype(np.float32)
    got = fxad.vmap(fnp.maximum.accumulate)(xs)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, np.stack([np.maximum.accumulate(r) for r in xs]))
    check(lambda a: fnp.add.accumulate(a, dtype=np.float32),
          lambda a: np.add.accumulate(a, dtype=np.float32), (X,), grads=False, rtol=1e-6)
    with pytest.raises(TypeError, match="scalar"):
        fxad.jit(fnp.add.accumulate)(1.0)


# ---------------------------------------------------------------------------
# pad

PAD_CASES = [("linear_ramp", {}), ("linear_ramp", {"end_values": (1.5, -2.0)}),
             ("maximum", {}), ("minimum", {"stat_length": 2}), ("mean", {}),
             ("mean", {"stat_length": ((1, 2), (3, 1))}), ("median", {"stat_length": 3}),
             ("median", {}), ("edge", {}), ("reflect", {}), ("symmetric", {}), ("wrap", {})]
XP = RNG.normal(size=(3, 4))
WIDTHS = [2, ((1, 3), (2, 0)), ((0, 5), (4, 1))]


@pytest.mark.parametrize("mode,kw", PAD_CASES, ids=[f"{m}-{k}" for m, k in PAD_CASES])
@pytest.mark.parametrize("width", WIDTHS, ids=["2", "uneven", "wide"])
def test_pad_modes(mode, kw, width):
    f = lambda a: fnp.pad(a, width, mode=mode, **kw)  # noqa: E731
    # Random entries: the statistics of statistics (the corners) have no ties.
    check(f, lambda a: np.pad(a, width, mode=mode, **kw), (XP,))


@pytest.mark.parametrize("mode,kw", [("linear_ramp", {"end_values": (1, -2)}), ("maximum", {}),
                                     ("mean", {}), ("median", {"stat_length": 2})])
def test_pad_integer_rounding(mode, kw):
    xi = np.array([[1, 5, 3], [2, -1, 4]])
    got = fxad.jit(lambda a: fnp.pad(a, ((1, 3), (2, 1)), mode=mode, **kw))(xi)
    exp = np.pad(xi, ((1, 3), (2, 1)), mode=mode, **kw)
    assert got.dtype == exp.dtype
    np.testing.assert_array_equal(got, exp)


def test_pad_empty_is_zeros_and_errors():
    check(lambda a: fnp.pad(a, 1, mode="empty"), lambda a: np.pad(a, 1), (X,))
    np.testing.assert_array_equal(fnp.pad(X, 1, mode="empty"), np.pad(X, 1))
    with pytest.raises(ValueError, match="not supported"):
        fxad.jit(lambda a: fnp.pad(a, 1, mode="bogus"))(X)
    with pytest.raises(ValueError, match="empty axis"):
        fxad.jit(lambda a: fnp.pad(a, 1, mode="mean"))(np.zeros((0, 2)))


def test_pad_vmap_matches_loop():
    f = lambda r: fnp.pad(r, (2, 3), mode="linear_ramp", end_values=(1.0, 0.0))  # noqa: E731
    np.testing.assert_allclose(fxad.vmap(f)(X), np.stack([f(r) for r in X]))


# ---------------------------------------------------------------------------
# Weighted quantiles

WQ = RNG.uniform(0.1, 2.0, size=X.shape)
W1 = RNG.uniform(0.1, 2.0, size=4)


@pytest.mark.parametrize("q", [0.3, np.array([0.0, 0.5, 0.9, 1.0])], ids=["scalar", "array"])
@pytest.mark.parametrize("axis,w", [(None, WQ), (1, WQ), (0, WQ), (1, W1), (-1, W1)],
                         ids=["all", "ax1", "ax0", "ax1-1d", "axm1-1d"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_quantile_weights(q, axis, w, keepdims):
    kw = dict(axis=axis, weights=w, method="inverted_cdf", keepdims=keepdims)
    # Random entries: no ties, at which the selection has no derivative.
    check(lambda a: fnp.quantile(a, q, **kw), lambda a: np.quantile(a, q, **kw), (XP,))
    check(lambda a: fnp.percentile(a, q * 100, **kw), lambda a: np.percentile(a, q * 100, **kw),
          (XP,))


def test_quantile_weights_traced_and_errors():
    check(lambda w: fnp.quantile(X, 0.4, axis=1, weights=w, method="inverted_cdf"),
          lambda w: np.quantile(X, 0.4, axis=1, weights=w, method="inverted_cdf"), (WQ,),
          grads=False)
    # The derivative selects the element, and the weights only choose which.
    g = fxad.grad(lambda a: fnp.quantile(a, 0.5, weights=WQ, method="inverted_cdf"))(X)
    sel = np.quantile(X, 0.5, weights=WQ, method="inverted_cdf")
    np.testing.assert_array_equal(g, (X == sel).astype(float))
    with pytest.raises(ValueError, match="inverted_cdf"):
        fxad.jit(lambda a: fnp.quantile(a, 0.5, weights=WQ))(X)
    with pytest.raises(ValueError, match="non-negative"):
        fxad.grad(lambda a: fnp.quantile(a, 0.5, weights=-WQ, method="inverted_cdf"))(X)


# ---------------------------------------------------------------------------
# put_along_axis, .at[...] mode="drop"


def _np_put(a, idx, v, axis):
    out = np.array(a)
    np.put_along_axis(out, idx, v, axis)
    return out


@pytest.mark.parametrize("axis", [0, 1, -1, None])
def test_put_along_axis(axis):
    idx = np.array([[0], [2], [1]]) if axis not in (0, None) else np.array([[2, 0, 1, 0]])
    if axis is None:
        idx = np.array([0, 7, 3])
    vals = RNG.normal(size=idx.shape)
    check(lambda a, v: fnp.put_along_axis(a, idx, v, axis),
          lambda a, v: _np_put(a, idx, v, axis), (X, vals))
    with pytest.raises(ValueError, match="inplace"):
        fnp.put_along_axis(X, idx, vals, axis, inplace=True)


def test_put_along_axis_vmap_matches_loop():
    idx = np.array([1, 3])
    f = lambda r: fnp.put_along_axis(r, idx, -r[:2], 0)  # noqa: E731
    np.testing.assert_array_equal(fxad.vmap(f)(X), np.stack([_np_put(r, idx, -r[:2], 0)
                                                             for r in X]))


IDX = np.array([0, 7, -1, -9, 2, 2, 4])
VALS = np.arange(10.0, 17.0)


def _np_drop(ufunc, x, idx, vals):
    y = x.copy()
    ok = (idx >= -len(x)) & (idx < len(x))
    if ufunc is None:
        y[idx[ok]] = vals[ok]
    else:
        ufunc.at(y, idx[ok], vals[ok])
    return y


@pytest.mark.parametrize("method,ufunc", [("add", np.add), ("multiply", np.multiply),
                                          ("min", np.minimum), ("max", np.maximum),
                                          ("subtract", np.subtract)])
def test_at_drop(method, ufunc):
    x = np.arange(1.0, 6.0)
    check(lambda x, v: getattr(fnp.at(x)[IDX], method)(v, mode="drop"),
          lambda x, v: _np_drop(ufunc, x, IDX, v), (x, VALS))


def test_at_drop_set_get_fill_and_2d():
    x = np.arange(1.0, 6.0)
    idx = np.array([0, 7, -1, 3])  # unique among the kept ones
    check(lambda x, v: fnp.at(x)[idx].set(v, mode="drop"),
          lambda x, v: _np_drop(None, x, idx, v), (x, VALS[:4]))
    check(lambda x: fnp.at(x)[idx].get(mode="fill", fill_value=-1.0),
          lambda x: np.where((idx >= -5) & (idx < 5), x[np.clip(idx, -5, 4)], -1.0), (x,))
    got = fxad.jit(lambda x: x.at[idx].get(mode="fill"))(x)
    np.testing.assert_array_equal(got, [1.0, np.nan, 5.0, 4.0])
    np.testing.assert_array_equal(fnp.at(x)[idx].get(mode="fill"), got)
    np.testing.assert_array_equal(fnp.at(np.arange(3))[np.array([5])].get(mode="fill"),
                                  [np.iinfo(np.int64).min])
    m = np.arange(6.0).reshape(2, 3)
    check(lambda m: fnp.at(m)[:, np.array([0, 5, 2])].add(1.0, mode="drop"),
          lambda m: m + np.array([1.0, 0.0, 1.0]), (m,))
    # A traced scalar index, in range or not.
    f = fxad.jit(lambda m, k: m.at[1, k].set(9.0, mode="drop"))
    np.testing.assert_array_equal(f(m, 4), m)
    np.testing.assert_array_equal(f(m, 2), np.array([[0.0, 1, 2], [3, 4, 9]]))
    np.testing.assert_array_equal(
        fxad.vmap(lambda r, k: r.at[k].set(9.0, mode="drop"))(m, np.array([1, 3])),
        np.array([[0.0, 9, 2], [3, 4, 5]]))
    with pytest.raises(NotImplementedError, match="mode='drop'"):
        fxad.jit(lambda m: m.at[m > 2].set(0.0, mode="drop"))(m)
    with pytest.raises(NotImplementedError, match="mode="):
        fxad.jit(lambda x: x.at[idx].set(0.0, mode="clip"))(x)


# ---------------------------------------------------------------------------
# vectorize


def test_vectorize_elementwise_and_excluded():
    f1 = fnp.vectorize(lambda a, b: fnp.sin(a) * b)
    check(lambda x, y: f1(x, y), np.vectorize(lambda a, b: np.sin(a) * b), (X, X[0]))
    f4 = fnp.vectorize(lambda a, p: a ** p, excluded={1})
    check(lambda x: f4(x, 3), lambda x: x ** 3, (X,))
    f5 = fnp.vectorize(lambda a, scale=1.0: a * scale, excluded={"scale"})
    check(lambda x: f5(x, scale=3.0), lambda x: 3.0 * x, (X,))
    f6 = fnp.vectorize(lambda a, b=1.0: a * b)  # a keyword argument, vectorized
    check(lambda x: f6(x, b=X[1]), lambda x: x * X[1], (X,))

    @fnp.vectorize
    def relu(a):
        return fnp.maximum(a, 0.0)

    check(relu, lambda x: np.maximum(x, 0.0), (X,), grads=False)
    # Without tracers it is NumPy's vectorize.
    np.testing.assert_array_equal(f4(X, 2), X ** 2)


def test_vectorize_signature():
    dot = fnp.vectorize(lambda v, w: fnp.dot(v, w), signature="(n),(n)->()")
    check(dot, lambda a, b: a @ b, (X, X[1]))
    both = fnp.vectorize(lambda v: (fnp.cumsum(v), fnp.sum(v)), signature="(n)->(n),()")
    check(both, lambda a: (np.cumsum(a, 1), a.sum(1)), (X,))
    outer = fnp.vectorize(lambda v, w: fnp.outer(v, w), signature="(n),(m)->(n,m)")
    check(outer, np.vectorize(np.outer, signature="(n),(m)->(n,m)"), (X, X[:, :2]))
    np.testing.assert_allclose(fxad.vmap(lambda r: dot(r, r))(X), (X * X).sum(1))
    with pytest.raises(ValueError, match="core dimension"):
        fxad.jit(dot)(X, X[:, :2])
    with pytest.raises(ValueError, match="not a valid gufunc signature"):
        fnp.vectorize(lambda v: v, signature="(n->")


# ---------------------------------------------------------------------------
# lstsq, polyfit, roots

A_TALL = RNG.normal(size=(5, 3))


@pytest.mark.parametrize("b", [RNG.normal(size=5), RNG.normal(size=(5, 2))],
                         ids=["vector", "matrix"])
def test_lstsq_tall(b):
    check(lambda a, b: fnp.linalg.lstsq(a, b), lambda a, b: np.linalg.lstsq(a, b),
          (A_TALL, b), grads=False)
    for k in (0, 1, 3):  # the solution, the residuals and the singular values
        check(lambda a, b, k=k: fnp.linalg.lstsq(a, b)[k],
              lambda a, b, k=k: np.linalg.lstsq(a, b)[k], (A_TALL, b))


def test_lstsq_wide_rank_deficient_and_vmap():
    b = RNG.normal(size=3)
    check(lambda a, b: fnp.linalg.lstsq(a, b), lambda a, b: np.linalg.lstsq(a, b),
          (A_TALL.T, b), grads=False)
    check(lambda a, b: fnp.linalg.lstsq(a, b)[0], lambda a, b: np.linalg.lstsq(a, b)[0],
          (A_TALL.T, b))
    d = np.ones((4, 2))
    d[:, 1] = 2.0  # rank 1: NumPy's empty residuals, with concrete values
    x, res, rank = fxad.jvp(lambda a: fnp.linalg.lstsq(a, b[:2].repeat(2))[:3], (d,),
                               (d,))[0]
    assert res.shape == (0,) and int(rank) == 1
    np.testing.assert_allclose(x, np.linalg.lstsq(d, b[:2].repeat(2))[0])
    bs = RNG.normal(size=(3, 5))
    np.testing.assert_allclose(fxad.vmap(lambda b: fnp.linalg.lstsq(A_TALL, b)[0])(bs),
                               np.stack([np.linalg.lstsq(A_TALL, v)[0] for v in bs]))


PX = np.array([0.0, 0.5, 1.3, 2.0, 3.1, 4.0])
PY = np.sin(PX)
PW = np.array([1.0, 2.0, 1.0, 0.5, 1.0, 3.0])


@pytest.mark.parametrize("kw", [{}, {"w": PW}, {"rcond": 1e-10}], ids=["plain", "w", "rcond"])
def test_polyfit(kw):
    check(lambda x, y: fnp.polyfit(x, y, 2, **kw), lambda x, y: np.polyfit(x, y, 2, **kw),
          (PX, PY))


def test_polyfit_full_cov_weights_2d():
    check(lambda w: fnp.polyfit(PX, PY, 2, w=w), lambda w: np.polyfit(PX, PY, 2, w=w), (PW,))
    y2 = np.stack([PY, PY ** 2], 1)
    check(lambda y: fnp.polyfit(PX, y, 3), lambda y: np.polyfit(PX, y, 3), (y2,))
    for cov in (True, "unscaled"):
        for y in (PY, y2):
            check(lambda y, cov=cov: fnp.polyfit(PX, y, 2, cov=cov),
                  lambda y, cov=cov: np.polyfit(PX, y, 2, cov=cov), (y,), grads=False)
    check(lambda y: fnp.polyfit(PX, y, 2, cov=True)[1], lambda y: np.polyfit(PX, y, 2,
                                                                              cov=True)[1], (PY,))
    check(lambda y: fnp.polyfit(PX, y, 2, full=True), lambda y: np.polyfit(PX, y, 2, full=True),
          (PY,), grads=False)


def test_roots():
    c = np.array([1.0, -6.0, 11.0, -6.0])  # (z - 1)(z - 2)(z - 3)
    f = lambda c: fnp.sort(fnp.real(fnp.roots(c)))  # noqa: E731
    check(f, lambda c: np.sort(np.roots(c).real), (c,))
    got = fxad.jit(fnp.roots)(c)
    assert got.dtype == np.complex128
    # Implicit differentiation: dr/dc_k = -r^(N-k) / p'(r).
    r = np.array([1.0, 2.0, 3.0])
    dp = np.polyval(np.polyder(c), r)
    expected = -np.stack([r ** (3 - k) for k in range(4)], 1) / dp[:, None]
    np.testing.assert_allclose(fxad.jacfwd(f)(c), expected, atol=1e-9)
    np.testing.assert_allclose(fxad.jacrev(f)(c), expected, atol=1e-9)
    c2 = np.array([1.0, 0.0, 1.0])  # +-i
    check(lambda c: fnp.sort(fnp.imag(fnp.roots(c))), lambda c: np.sort(np.roots(c).imag), (c2,))
    # Leading and trailing zeros, stripped as NumPy does when the values are known.
    c3 = np.array([0.0, 1.0, -3.0, 2.0, 0.0])
    np.testing.assert_allclose(
        fxad.grad(lambda c: fnp.sum(fnp.real(fnp.roots(c))))(c3), [0.0, -3.0, -1.0, 0.0, 0.0],
        atol=1e-12)
    assert fxad.jvp(fnp.roots, (c3,), (c3,))[0].shape == np.roots(c3).shape
    cs = np.array([[1.0, -3.0, 2.0], [1.0, -5.0, 6.0]])
    np.testing.assert_allclose(fxad.vmap(f)(cs), np.stack([np.sort(np.roots(v).real)
                                                           for v in cs]))
