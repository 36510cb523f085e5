"""``fxad.scipy.special``, ``fxad.scipy.stats`` and ``fxad.scipy.signal``
against SciPy: values on traced arrays (rtol 1e-12 unless a comment says
why not), derivatives to second order on hypothesis-drawn shapes away from
singular points, the conventions at the edges (``xlogy`` at 0, ``logsumexp``
with infinities, supports and invalid parameters), and vmap against a loop.
The special-function primitives themselves are covered by their op records
(``tests/op_records_special.py``)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal as ss
import scipy.special as sp
import scipy.stats as st
from hypothesis import given, settings
from hypothesis import strategies as st_
from hypothesis.extra import numpy as hnp

import fxad
import fxad.numpy as fnp
import fxad.scipy.signal as fsig
import fxad.scipy.special as fsp
import fxad.scipy.stats as fst
from fxad.test_util import check_grads

HYP = settings(deadline=None, max_examples=15, derandomize=True)
SHAPES = [(), (3,), (2, 3), (0,)]
MODES = ("fwd", "rev")


def traced(f, *args):
    """``f(*args)`` computed on tracers (a staged jaxpr, evaluated)."""
    return fxad.make_jaxpr(f)(*args)(*args)[0]


def assert_same(actual, expected, rtol=1e-12, atol=0.0):
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True)


def arrays(lo, hi, shapes=SHAPES):
    return hnp.arrays(np.float64, st_.sampled_from(shapes),
                      elements=st_.floats(lo, hi, allow_nan=False, allow_subnormal=False))


# ---------------------------------------------------------------------------
# scipy.special: values

GRID = np.concatenate([np.linspace(-6, 6, 49), [-30.0, -12.0, 12.0, 30.0]])
UNIT = np.linspace(-0.999, 0.999, 41)
PROB = np.concatenate([[1e-300, 1e-12, 1e-5], np.linspace(0.01, 0.99, 33), [1 - 1e-9]])
POS = np.concatenate([np.linspace(0.05, 8, 40), [1e-8, 30.0, 170.0]])
NONINT = np.array([-3.7, -2.5, -1.2, -0.3, 0.4, 1.5])

UNARY = [  # (name, points)
    ("erf", GRID), ("erfc", GRID), ("ndtr", GRID), ("log_ndtr", GRID), ("expit", GRID),
    ("log_expit", GRID), ("erfinv", UNIT), ("ndtri", PROB), ("logit", PROB),
    ("gammaln", np.concatenate([POS, NONINT])), ("digamma", np.concatenate([POS, NONINT])),
]


@pytest.mark.parametrize("name,x", UNARY, ids=[n for n, _ in UNARY])
def test_unary_values(name, x):
    f, ref = getattr(fsp, name), getattr(sp, name)
    with np.errstate(all="ignore"):  # SciPy's own values at the tails
        expected = ref(x)
    assert_same(traced(f, x), expected)
    with np.errstate(all="ignore"):  # float32 rounds 1 - 1e-9 to 1: logit is inf
        assert_same(traced(f, x.astype(np.float32)), ref(x.astype(np.float32)), rtol=1e-6)
    assert_same(f(x), expected, rtol=0)  # eager: SciPy's own
    with np.errstate(all="ignore"):  # logit(1) = inf
        assert_same(traced(f, np.arange(3)), ref(np.arange(3)))  # integers: in float64


@pytest.mark.parametrize("n", [0, 1, 2, 4])
def test_polygamma_values(n):
    x = np.concatenate([POS[:-1], NONINT])
    assert_same(traced(lambda v: fsp.polygamma(n, v), x), sp.polygamma(n, x))
    orders = np.array([0, 1, 2, 3, 1])
    xs = np.array([0.5, 1.5, 2.5, 3.5, 7.0])
    assert_same(traced(lambda v: fsp.polygamma(orders, v), xs), sp.polygamma(orders, xs))
    with pytest.raises(TypeError, match="concrete"):
        fxad.grad(lambda k: fsp.polygamma(k, 1.0))(1.0)


BINARY = [("gammainc", POS[:20], POS[20:40]), ("gammaincc", POS[:20], POS[20:40][::-1]),
          ("xlogy", GRID[:20], POS[:20]), ("xlog1py", GRID[:20], POS[:20] - 0.9)]


@pytest.mark.parametrize("name,a,b", BINARY, ids=[n for n, *_ in BINARY])
def test_binary_values(name, a, b):
    f, ref = getattr(fsp, name), getattr(sp, name)
    assert_same(traced(f, a, b), ref(a, b))
    assert_same(traced(lambda v: f(v, 2.5), a[a > 0]), ref(a[a > 0], 2.5))
    assert_same(traced(f, a[:, None], b[None, :5]), ref(a[:, None], b[None, :5]))


def test_betaln_values():
    a, b = np.meshgrid(np.linspace(0.1, 20, 9), np.linspace(0.3, 40, 7))
    # A difference of gammaln's: the error is absolute (~1e-16 gammaln(a + b)),
    # so compare with an absolute tolerance where betaln is small.
    assert_same(traced(fsp.betaln, a, b), sp.betaln(a, b), rtol=1e-12, atol=1e-13)


def test_xlogy_conventions():
    x = np.array([0.0, 0.0, 0.0, 0.0, 1.0, 2.0, np.nan, 0.0, -0.0])
    y = np.array([0.0, -1.0, np.inf, 3.0, 0.0, -1.0, 1.0, np.nan, 2.0])
    with np.errstate(all="ignore"):
        assert_same(traced(fsp.xlogy, x, y), sp.xlogy(x, y))
        assert_same(traced(fsp.xlog1py, x, y - 1), sp.xlog1py(x, y - 1))
    # JAX's derivative convention at x == 0: d/dx = log(y), d/dy = 0
    gx, gy = fxad.grad(fsp.xlogy, argnums=(0, 1))(0.0, 3.0)
    assert (gx, gy) == (np.log(3.0), 0.0)
    gx, gy = fxad.grad(fsp.xlogy, argnums=(0, 1))(0.0, 0.0)  # no NaN at the corner
    assert (gx, gy) == (0.0, 0.0)
    gx, gy = fxad.grad(fsp.xlog1py, argnums=(0, 1))(0.0, 2.0)
    assert (gx, gy) == (np.log1p(2.0), 0.0)
    check_grads(fsp.xlogy, (np.array([0.0, 1.5]), np.array([2.0, 0.5])), order=2, modes=MODES)


def test_tails_have_finite_derivatives():
    x = np.array([-800.0, -40.0, 0.0, 40.0, 800.0])
    for f in (fsp.expit, fsp.log_expit):
        g = fxad.vmap(fxad.grad(f))(x)
        assert np.all(np.isfinite(g)), (f.__name__, g)
    np.testing.assert_allclose(fxad.vmap(fxad.grad(fsp.expit))(x), sp.expit(x) * sp.expit(-x),
                               rtol=1e-12)
    # d log_ndtr / dx = pdf / cdf, far in the lower tail too (~ -x)
    np.testing.assert_allclose(fxad.grad(fsp.log_ndtr)(-40.0), 40.02496884721088, rtol=1e-12)
    np.testing.assert_allclose(fxad.grad(fsp.ndtri)(1e-10),
                               1 / st.norm.pdf(sp.ndtri(1e-10)), rtol=1e-12)


# ---------------------------------------------------------------------------
# scipy.special: derivatives


def test_derivative_identities():
    x = np.array([0.3, 1.0, 2.5, 7.0])
    d = fxad.vmap(fxad.grad(fsp.erf))(x)
    np.testing.assert_allclose(d, 2 / np.sqrt(np.pi) * np.exp(-x ** 2), rtol=1e-14)
    u = np.array([-0.9, 0.0, 0.5])
    np.testing.assert_allclose(fxad.vmap(fxad.grad(fsp.erfinv))(u),
                               np.sqrt(np.pi) / 2 * np.exp(sp.erfinv(u) ** 2), rtol=1e-14)
    np.testing.assert_allclose(fxad.vmap(fxad.grad(fsp.gammaln))(x), sp.digamma(x), rtol=1e-14)
    # gammaln''' = polygamma(2, .), reached through the derivative chain
    third = fxad.grad(fxad.grad(fxad.grad(fsp.gammaln)))
    np.testing.assert_allclose(fxad.vmap(third)(x), sp.polygamma(2, x), rtol=1e-13)
    fourth = fxad.grad(fxad.grad(fxad.grad(lambda v: fsp.polygamma(1, v))))
    np.testing.assert_allclose(fxad.vmap(fourth)(x), sp.polygamma(4, x), rtol=1e-13)
    np.testing.assert_allclose(fxad.vmap(fxad.grad(fsp.gammainc, argnums=1))(x, x[::-1]),
                               st.gamma.pdf(x[::-1], x), rtol=1e-13)


@pytest.mark.parametrize("name,lo,hi", [
    ("erf", -3, 3), ("erfc", -3, 3), ("ndtr", -5, 5), ("log_ndtr", -20, 5), ("expit", -20, 20),
    ("log_expit", -20, 20), ("erfinv", -0.9, 0.9), ("ndtri", 0.02, 0.98), ("logit", 0.02, 0.98),
    ("gammaln", 0.2, 6), ("digamma", 0.3, 6),
])
@HYP
@given(data=st_.data())
def test_check_grads_unary(name, lo, hi, data):
    x = data.draw(arrays(lo, hi), label="x")
    check_grads(getattr(fsp, name), (x,), order=2, modes=MODES)


@HYP
@given(x=arrays(0.3, 5.0), n=st_.integers(0, 3))
def test_check_grads_polygamma(x, n):
    check_grads(lambda v: fsp.polygamma(n, v), (x,), order=2, modes=MODES)


@pytest.mark.parametrize("name,lo1,hi1,lo2,hi2", [
    ("xlogy", -2, 2, 0.2, 4), ("xlog1py", -2, 2, -0.8, 4), ("betaln", 0.3, 5, 0.3, 5),
])
@HYP
@given(data=st_.data())
def test_check_grads_binary(name, lo1, hi1, lo2, hi2, data):
    shape = data.draw(st_.sampled_from(SHAPES), label="shape")
    x = data.draw(arrays(lo1, hi1, [shape]), label="x")
    y = data.draw(arrays(lo2, hi2, [shape, ()]), label="y")
    check_grads(getattr(fsp, name), (x, y), order=2, modes=MODES)


@HYP
@given(a=arrays(0.5, 4.0), x=arrays(0.2, 5.0, [()]))
def test_check_grads_gammainc_in_x(a, x):
    for f in (fsp.gammainc, fsp.gammaincc):
        check_grads(lambda v, f=f: f(a, v), (x + np.zeros_like(a),), order=2, modes=MODES)


def test_gammainc_second_shape_derivative_is_not_implemented():
    # First derivatives in a exist (tests/test_scipy_special_more.py checks
    # them); the second derivative in a does not, as in JAX.
    with pytest.raises(NotImplementedError, match="second derivative .* shape a"):
        fxad.grad(fxad.grad(fsp.gammainc))(1.5, 2.0)
    with pytest.raises(NotImplementedError, match="second derivative .* shape a"):
        fxad.hessian(lambda a: fsp.gammaincc(a, 2.0))(1.5)
    # a held fixed: fine, also batched along a
    a = np.array([0.5, 1.0, 3.0])
    out = fxad.vmap(lambda a, x: fsp.gammainc(a, x), in_axes=(0, None))(a, 2.0)
    assert_same(out, sp.gammainc(a, 2.0))
    g = fxad.vmap(fxad.grad(fsp.gammainc, argnums=1), in_axes=(0, None))(a, 2.0)
    np.testing.assert_allclose(g, st.gamma.pdf(2.0, a), rtol=1e-13)


@pytest.mark.parametrize("name", ["betainc", "betaincc"])
def test_betainc_values(name):
    f, ref = getattr(fsp, name), getattr(sp, name)
    a, b = np.meshgrid(np.array([0.1, 0.5, 1.0, 2.5, 30.0]), np.array([0.2, 1.0, 3.0, 80.0]))
    x = np.concatenate([[0.0, 1e-300, 1e-12], np.linspace(0.01, 0.99, 9), [1 - 1e-12, 1.0]])
    a, b = a.ravel()[:, None], b.ravel()[:, None]
    assert_same(traced(f, a, b, x), ref(a, b, x))
    assert_same(traced(lambda v: f(2.5, 0.5, v), x), ref(2.5, 0.5, x))
    assert_same(f(a, b, x), ref(a, b, x), rtol=0)  # eager: SciPy's own
    with np.errstate(all="ignore"):  # outside [0, 1]: NaN, as SciPy
        assert_same(traced(lambda v: f(2.0, 3.0, v), np.array([-0.5, 1.5])),
                    ref(2.0, 3.0, np.array([-0.5, 1.5])))


def test_betainc_derivative_is_the_density():
    a, b = np.array([0.5, 1.0, 2.5, 40.0]), np.array([3.0, 1.0, 0.7, 60.0])
    x = np.array([0.1, 0.5, 0.8, 0.4])
    g = fxad.vmap(fxad.grad(fsp.betainc, argnums=2))(a, b, x)
    np.testing.assert_allclose(g, st.beta.pdf(x, a, b), rtol=1e-12)
    g = fxad.vmap(fxad.grad(fsp.betaincc, argnums=2))(a, b, x)
    np.testing.assert_allclose(g, -st.beta.pdf(x, a, b), rtol=1e-12)
    # the ends: finite where the density is (no 0 * inf; log(0) = -inf inside)
    with np.errstate(divide="ignore"):
        ends = fxad.vmap(fxad.grad(fsp.betainc, argnums=2))(
            np.array([1.0, 2.0, 3.0, 2.0]), np.array([2.0, 1.0, 3.0, 4.0]),
            np.array([0.0, 1.0, 0.0, 1.0]))
    np.testing.assert_allclose(ends, [2.0, 2.0, 0.0, 0.0], rtol=1e-13)
    h = fxad.grad(fxad.grad(fsp.betainc, argnums=2), argnums=2)(1.0, 2.0, 0.0)
    assert np.isclose(h, -2.0, rtol=1e-13)  # d/dx 2 (1 - x)


@HYP
@given(a=arrays(0.5, 4.0), b=arrays(0.5, 4.0, [()]), x=arrays(0.1, 0.9, [()]))
def test_check_grads_betainc_in_x(a, b, x):
    for f in (fsp.betainc, fsp.betaincc):
        check_grads(lambda v, f=f: f(a, b, v), (x + np.zeros_like(a),), order=2, modes=MODES)


def test_betainc_shape_derivatives_are_not_implemented():
    for argnum, arg in ((0, "parameter a"), (1, "parameter b")):
        for f in (fsp.betainc, fsp.betaincc):
            with pytest.raises(NotImplementedError, match=arg):
                fxad.grad(f, argnums=argnum)(1.5, 2.0, 0.3)
            with pytest.raises(NotImplementedError, match=arg):
                fxad.jvp(lambda p, f=f, i=argnum: f(*[p if j == i else 2.0 for j in (0, 1)],
                                                     0.3), (1.5,), (1.0,))
    # a and b held fixed: fine, also batched along them
    a = np.array([0.5, 1.0, 3.0])
    assert_same(fxad.vmap(fsp.betainc, in_axes=(0, None, None))(a, 2.0, 0.3),
                sp.betainc(a, 2.0, 0.3))
    g = fxad.vmap(fxad.grad(fsp.betainc, argnums=2), in_axes=(None, 0, None))(2.0, a, 0.3)
    np.testing.assert_allclose(g, st.beta.pdf(0.3, 2.0, a), rtol=1e-13)


# ---------------------------------------------------------------------------
# logsumexp, softmax, log_softmax


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 1)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_logsumexp_values(axis, keepdims):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4)) * 10
    b = rng.standard_normal((3, 4))
    kw = dict(axis=axis, keepdims=keepdims)
    assert_same(traced(lambda v: fsp.logsumexp(v, **kw), a), sp.logsumexp(a, **kw))
    assert_same(traced(lambda v, w: fsp.logsumexp(v, b=w, **kw), a, np.abs(b)),
                sp.logsumexp(a, b=np.abs(b), **kw))
    out, sgn = fxad.make_jaxpr(lambda v, w: fsp.logsumexp(v, b=w, return_sign=True, **kw))(
        a, b)(a, b)
    ref_out, ref_sgn = sp.logsumexp(a, b=b, return_sign=True, **kw)
    assert_same(out, ref_out)
    assert_same(sgn, ref_sgn)
    assert_same(traced(lambda v: fsp.softmax(v, axis=axis), a), sp.softmax(a, axis=axis))
    assert_same(traced(lambda v: fsp.log_softmax(v, axis=axis), a),
                sp.log_softmax(a, axis=axis))


@pytest.mark.parametrize("a,b", [
    (np.array([0.0, -40.0]), None),  # 4.2e-18: SciPy's log1p keeps it
    (np.array([1000.0, 1000.0, -5.0]), None),  # ties at the maximum
    (np.array([-np.inf, -np.inf]), None),
    (np.array([np.inf, 1.0]), None),
    (np.array(3.0), None),
    (np.zeros((0,)), None),
    (np.array([0.0, 0.0, -1.0]), np.array([-1.0, 1.0, 1.0])),  # weights cancel at the max
    (np.array([1.0, 2.0]), np.array([1.0, -3.0])),  # negative sum: NaN without the sign
    (np.array([np.nan, 2.0]), np.array([0.0, 1.0])),  # a weight of 0 drops a NaN
], ids=["tiny", "ties", "all-neg-inf", "pos-inf", "0-d", "empty", "cancel",
        "negative", "zero-weight"])
def test_logsumexp_edges(a, b):
    with np.errstate(all="ignore"):
        assert_same(traced(lambda v: fsp.logsumexp(v, b=b), a), sp.logsumexp(a, b=b))
        out, sgn = fxad.make_jaxpr(lambda v: fsp.logsumexp(v, b=b, return_sign=True))(a)(a)
        ref_out, ref_sgn = sp.logsumexp(a, b=b, return_sign=True)
        assert_same(out, ref_out)
        assert_same(sgn, ref_sgn)


def test_logsumexp_empty_axis():
    a = np.zeros((2, 0))
    assert_same(traced(lambda v: fsp.logsumexp(v, axis=1), a), sp.logsumexp(a, axis=1))
    # SciPy 1.17 raises IndexError for an empty 2-D array with axis=None (its
    # `shape[axis] = 1` with a tuple axis); the answer is -inf.
    assert traced(fsp.logsumexp, a) == -np.inf


def test_logsumexp_gradient_is_softmax():
    a = np.array([[1.0, 1.0, 0.5], [-2.0, 3.0, 0.0]])  # a tie at the maximum
    g = fxad.grad(lambda v: fnp.sum(fsp.logsumexp(v, axis=1)))(a)
    np.testing.assert_allclose(g, sp.softmax(a, axis=1), rtol=1e-14)
    g = fxad.grad(lambda v: fsp.logsumexp(v))(np.array([1000.0, 1000.0]))
    np.testing.assert_allclose(g, [0.5, 0.5], rtol=1e-15)


@HYP
@given(a=arrays(-5, 5, [(), (3,), (2, 3), (1, 4)]), axis=st_.sampled_from([None, -1]),
       keepdims=st_.booleans())
def test_check_grads_logsumexp_softmax(a, axis, keepdims):
    check_grads(lambda v: fsp.logsumexp(v, axis=axis, keepdims=keepdims), (a,), order=2,
                modes=MODES)
    b = np.linspace(0.5, 2.0, a.size).reshape(a.shape)
    check_grads(lambda v, w: fsp.logsumexp(v, axis=axis, b=w, return_sign=True), (a, b),
                order=2, modes=MODES)
    if a.ndim:
        check_grads(lambda v: fsp.softmax(v, axis=axis), (a,), order=2, modes=MODES)
        check_grads(lambda v: fsp.log_softmax(v, axis=axis), (a,), order=2, modes=MODES)


# ---------------------------------------------------------------------------
# scipy.stats: values

X = np.linspace(-3.0, 5.0, 17)
CONTINUOUS = [  # (distribution, function, shape parameters, points)
    ("norm", "logpdf", (), X), ("norm", "pdf", (), X), ("norm", "cdf", (), X),
    ("norm", "logcdf", (), X * 8), ("norm", "sf", (), X), ("norm", "logsf", (), X * 8),
    ("norm", "ppf", (), PROB), ("norm", "isf", (), PROB),
    ("t", "logpdf", (np.array([0.7, 3.0, 40.0, np.inf])[:, None],), X),
    ("t", "pdf", (np.array([0.7, 3.0, 40.0])[:, None],), X),
    ("gamma", "logpdf", (np.array([0.5, 1.0, 2.5])[:, None],), X),
    ("gamma", "pdf", (np.array([0.5, 1.0, 2.5])[:, None],), X),
    ("gamma", "cdf", (np.array([0.5, 1.0, 2.5])[:, None],), X),
    ("gamma", "sf", (np.array([0.5, 1.0, 2.5])[:, None],), X),
    ("chi2", "logpdf", (np.array([1.0, 2.0, 5.0])[:, None],), X),
    ("chi2", "pdf", (np.array([1.0, 2.0, 5.0])[:, None],), X),
    ("chi2", "cdf", (np.array([1.0, 2.0, 5.0])[:, None],), X),
    ("chi2", "sf", (np.array([1.0, 2.0, 5.0])[:, None],), X),
    ("beta", "logpdf", (np.array([0.5, 1.0, 2.5])[:, None], np.array([0.7, 1.0, 3.0])[:, None]),
     X / 4),
    ("beta", "pdf", (np.array([0.5, 1.0, 2.5])[:, None], np.array([0.7, 1.0, 3.0])[:, None]),
     X / 4),
    ("t", "cdf", (np.array([0.7, 1.0, 3.0, 40.0, 1e4, np.inf])[:, None],), X * 3),
    ("t", "logcdf", (np.array([0.7, 1.0, 3.0, 40.0, 1e4, np.inf])[:, None],), X * 3),
    ("beta", "cdf", (np.array([0.5, 1.0, 2.5])[:, None], np.array([0.7, 1.0, 3.0])[:, None]),
     X / 4),
    ("beta", "logcdf", (np.array([0.5, 1.0, 2.5])[:, None], np.array([0.7, 1.0, 3.0])[:, None]),
     X / 4),
    ("gamma", "logcdf", (np.array([0.5, 1.0, 2.5])[:, None],), X * 4),
    ("chi2", "logcdf", (np.array([1.0, 2.0, 5.0])[:, None],), X * 4),
]


def _reference(dist, fn):
    """SciPy's function; for the log CDFs (SciPy: ``log(cdf)``, which loses
    the digits of a CDF near 1) ``log1p(-sf)`` where the CDF exceeds 1/2."""
    ref = getattr(getattr(st, dist), fn)
    if fn != "logcdf" or dist == "norm":
        return ref
    d = getattr(st, dist)

    def logcdf(x, *args):
        with np.errstate(all="ignore"):
            return np.where(d.cdf(x, *args) > 0.5, np.log1p(-d.sf(x, *args)), ref(x, *args))

    return logcdf


@pytest.mark.parametrize("dist,fn,shapes,x", CONTINUOUS,
                         ids=[f"{d}.{f}-{k}" for k, (d, f, *_) in enumerate(CONTINUOUS)])
@pytest.mark.parametrize("loc,scale", [(0.0, 1.0), (0.3, 2.0), (-0.2, 0.5), (0.0, -1.0),
                                       (0.0, 0.0)], ids=["std", "loc-scale", "narrow",
                                                         "neg-scale", "zero-scale"])
def test_continuous_values(dist, fn, shapes, x, loc, scale):
    f, ref = getattr(getattr(fst, dist), fn), _reference(dist, fn)
    with np.errstate(all="ignore"):
        expected = ref(x, *shapes, loc, scale)
        actual = traced(lambda v, *p: f(v, *p, loc, scale), x, *shapes)
        eager = f(x, *shapes, loc, scale)
    # t's log Gamma ratio is a difference of gammaln's (SciPy: log(poch)):
    # absolute error ~1e-16 gammaln(df / 2), so 1e-13 absolute at df = 40.
    assert_same(actual, expected, rtol=1e-12, atol=1e-13 if dist == "t" else 0.0)
    if fn == "logcdf" and dist != "norm":
        with np.errstate(all="ignore"):
            expected = getattr(getattr(st, dist), fn)(x, *shapes, loc, scale)
    assert_same(eager, expected, rtol=0)  # eager: SciPy's own


@pytest.mark.parametrize("fn", ["logpmf", "pmf", "cdf", "logcdf", "sf"])
@pytest.mark.parametrize("loc", [0, 2])
def test_poisson_values(fn, loc):
    k = np.array([-1, 0, 1, 2, 3, 7, 20, 2.5])[:, None]
    mu = np.array([0.0, 0.3, 1.7, 12.0, -1.0])
    f, ref = getattr(fst.poisson, fn), getattr(st.poisson, fn)
    if fn == "logcdf":  # SciPy's log(cdf) loses the digits of a CDF near 1
        def ref(k, mu, loc):
            with np.errstate(all="ignore"):
                return np.where(st.poisson.cdf(k, mu, loc) > 0.5,
                                np.log1p(-st.poisson.sf(k, mu, loc)),
                                st.poisson.logcdf(k, mu, loc))
    with np.errstate(all="ignore"):
        assert_same(traced(lambda m: f(k, m, loc), mu), ref(k, mu, loc))


def test_dirichlet_values():
    rng = np.random.default_rng(1)
    alpha = np.array([0.7, 1.0, 2.5, 4.0])
    x = rng.dirichlet(alpha, 6).T  # components along the first axis, as SciPy
    for fn in ("logpdf", "pdf"):
        f, ref = getattr(fst.dirichlet, fn), getattr(st.dirichlet, fn)
        assert_same(traced(f, x, alpha), ref(x, alpha))
        assert_same(traced(f, x[:, 0], alpha), ref(x[:, 0], alpha))
        assert_same(traced(f, x[:-1], alpha), ref(x[:-1], alpha))  # K - 1 components
    with pytest.raises(ValueError, match="one entry fewer"):
        traced(lambda v: fst.dirichlet.logpdf(v, alpha), x[:2])


MVN_COVS = [
    ("matrix", np.array([[2.0, 0.3, -0.4], [0.3, 1.0, 0.2], [-0.4, 0.2, 1.5]])),
    ("diagonal", np.array([0.5, 1.0, 2.0])),
    ("scalar", 1.7),
]


@pytest.mark.parametrize("kind,cov", MVN_COVS, ids=[k for k, _ in MVN_COVS])
@pytest.mark.parametrize("fn", ["logpdf", "pdf"])
def test_multivariate_normal_values(kind, cov, fn):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 3))
    mean = rng.standard_normal(3)
    f, ref = getattr(fst.multivariate_normal, fn), getattr(st.multivariate_normal, fn)
    # SciPy factors cov with eigh, fxad with cholesky: agreement to rounding.
    assert_same(traced(f, x, mean, cov), ref(x, mean, cov))
    assert_same(traced(f, x[0], mean, cov), ref(x[0], mean, cov))
    if kind == "matrix":  # (with mean=None SciPy takes a 1-D cov as one dimension)
        assert_same(traced(lambda v: f(v, None, cov), x), ref(x, None, cov))
    # one dimension: a 1-D x is many points
    assert_same(traced(lambda v: f(v, 0.5, 2.0), x[:, 0]), ref(x[:, 0], 0.5, 2.0))
    assert_same(traced(lambda v: f(v), 0.3), ref(0.3))


# ---------------------------------------------------------------------------
# scipy.stats: derivatives in every argument


@HYP
@given(data=st_.data())
def test_check_grads_continuous(data):
    shape = data.draw(st_.sampled_from([(), (3,), (2, 3), (0,)]), label="shape")
    loc = data.draw(arrays(-0.1, 0.1, [()]), label="loc")
    scale = data.draw(arrays(0.5, 2.0, [(), shape]), label="scale")
    dist, fn = data.draw(st_.sampled_from([
        ("norm", "logpdf"), ("norm", "pdf"), ("norm", "cdf"), ("norm", "logcdf"),
        ("norm", "sf"), ("norm", "logsf"), ("t", "logpdf"), ("t", "pdf"),
        ("gamma", "logpdf"), ("gamma", "pdf"), ("chi2", "logpdf"), ("chi2", "pdf"),
        ("beta", "logpdf"), ("beta", "pdf")]), label="function")
    f = getattr(getattr(fst, dist), fn)
    n_shape = {"norm": 0, "t": 1, "gamma": 1, "chi2": 1, "beta": 2}[dist]
    params = [data.draw(arrays(0.8, 4.0, [(), shape]), label=f"p{i}") for i in range(n_shape)]
    # points well inside the support: the (0, 1) of beta scaled, (0, inf) of gamma/chi2
    lo, hi = (0.2, 0.8) if dist == "beta" else (0.3, 3.0)
    y = data.draw(arrays(lo, hi, [shape]), label="y")
    x = loc + np.asarray(scale) * y
    check_grads(lambda x, loc, scale, *p: f(x, *p, loc, scale), (x, loc, scale, *params),
                order=2, modes=MODES)


@HYP
@given(x=arrays(0.3, 4.0, [(), (3,), (2, 2)]), a=arrays(0.6, 3.0, [()]),
       chi=st_.booleans())
def test_check_grads_cdfs_in_x_loc_scale(x, a, chi):
    dist = fst.chi2 if chi else fst.gamma
    for f in (dist.cdf, dist.sf):
        check_grads(lambda x, loc, scale, f=f: f(x, a, loc, scale), (x, 0.05, 1.3), order=2,
                    modes=MODES)


def test_t_cdf_tails_and_zero():
    x = np.array([-1e3, -40.0, -2.0, -1e-5, -1e-9, 0.0, 1e-9, 1e-5, 2.0, 40.0, 1e3])
    for df in (0.3, 0.7, 3.0, 40.0, 1e4):
        cdf = lambda v, df=df: fst.t.cdf(v, df)  # noqa: E731
        assert_same(traced(cdf, x), st.t.cdf(x, df))
        with np.errstate(divide="ignore"):  # df = 1e4, t = -1e3: the cdf underflows
            assert_same(traced(lambda v, df=df: fst.t.logcdf(v, df), x),
                        _reference("t", "logcdf")(x, df))
        # the derivative is the pdf, also at and near 0 (the Taylor branch)
        g = fxad.vmap(fxad.grad(cdf))(x)
        # (the density's B(df/2, 1/2) is a difference of gammaln's: absolute
        # error ~1e-16 gammaln(df / 2), so 3e-12 relative at df = 1e4)
        np.testing.assert_allclose(g, st.t.pdf(x, df), rtol=1e-11, atol=1e-300)
        h = fxad.vmap(fxad.grad(fxad.grad(cdf)))(x[3:8])
        assert np.all(np.isfinite(h)) and h[2] == 0.0
    # df = 1 (Cauchy): SciPy's stdtr(1, 1e-9) is 0.5 (an error of 6e-10);
    # compare with the closed form 1/2 + arctan(t) / pi instead (which
    # itself cancels at t = -1e3: 1e-13).
    assert_same(traced(lambda v: fst.t.cdf(v, 1.0), x), 0.5 + np.arctan(x) / np.pi,
                rtol=1e-12)


@HYP
@given(data=st_.data())
def test_check_grads_cdfs_in_x_loc_scale_beta_t(data):
    shape = data.draw(st_.sampled_from([(), (3,), (2, 2)]), label="shape")
    dist, fn = data.draw(st_.sampled_from([("beta", "cdf"), ("beta", "logcdf"), ("t", "cdf"),
                                           ("t", "logcdf"), ("gamma", "logcdf"),
                                           ("chi2", "logcdf")]), label="function")
    lo, hi = {"beta": (0.1, 0.9), "t": (-6.0, 6.0)}.get(dist, (0.2, 6.0))
    y = data.draw(arrays(lo, hi, [shape]), label="y")
    shapes = [data.draw(arrays(0.6, 5.0, [(), shape]), label=f"p{i}")
              for i in range(2 if dist == "beta" else 1)]
    loc, scale = 0.05, 1.3
    f = getattr(getattr(fst, dist), fn)
    check_grads(lambda x, loc, scale: f(x, *shapes, loc, scale), (loc + scale * y, loc, scale),
                order=2, modes=MODES)


def test_cdf_shape_derivatives_are_not_implemented():
    cases = [(fst.beta.cdf, (0.3, 2.0, 3.0), 1, "parameter a"),
             (fst.beta.logcdf, (0.3, 2.0, 3.0), 2, "parameter b"),
             (fst.t.cdf, (0.3, 3.0), 1, "shape parameter"),  # df / 2: a shape of betainc(c)
             (fst.t.logcdf, (-3.0, 3.0), 1, "parameter")]
    # (gamma's and chi2's CDFs are differentiable in the shape: see
    # tests/test_scipy_special_more.py)
    for f, args, argnum, match in cases:
        with pytest.raises(NotImplementedError, match=match):
            fxad.grad(f, argnums=argnum)(*args)


def test_multivariate_normal_cdf_is_provided():
    # Provided through the primitive lax.mvn_cdf; tested in tests/test_mvn_cdf.py.
    for name in ("cdf", "logcdf"):
        assert callable(getattr(fst.multivariate_normal, name))


@HYP
@given(mu=arrays(0.2, 8.0, [(), (3,), (2, 3)]))
def test_check_grads_poisson_in_mu(mu):
    k = np.array([0.0, 1.0, 4.0])
    for f in (fst.poisson.logpmf, fst.poisson.pmf, fst.poisson.cdf, fst.poisson.logcdf,
              fst.poisson.sf):
        check_grads(lambda m, f=f: f(k, m), (mu,), order=2, modes=MODES)
    g = fxad.grad(lambda m: fnp.sum(fst.poisson.logpmf(k, m)))(mu)
    np.testing.assert_allclose(g, np.sum(k) / mu - 3 if mu.ndim == 0 else k / mu - 1,
                               rtol=1e-13)


@HYP
@given(k=st_.integers(2, 4), n=st_.sampled_from([(), (3,)]))
def test_check_grads_dirichlet(k, n):
    rng = np.random.default_rng(k)
    alpha = rng.uniform(0.8, 3.0, k)
    x = rng.dirichlet(np.full(k, 4.0), n or None).T
    # K - 1 components (the last is 1 - sum): finite differences stay on the
    # simplex, where SciPy's checks (on concrete values) let them through.
    check_grads(fst.dirichlet.logpdf, (x[:-1], alpha), order=2, modes=MODES)
    check_grads(fst.dirichlet.pdf, (x[:-1], alpha), order=2, modes=MODES)
    # all K components: d logpdf / dx = (alpha - 1) / x
    g = fxad.grad(lambda v: fnp.sum(fst.dirichlet.logpdf(v, alpha)))(x)
    np.testing.assert_allclose(g, (alpha - 1).reshape((k,) + (1,) * len(n)) / x, rtol=1e-13)


@HYP
@given(d=st_.integers(1, 3), n=st_.sampled_from([(), (4,)]))
def test_check_grads_multivariate_normal(d, n):
    rng = np.random.default_rng(d)
    x = rng.standard_normal(n + (d,))
    mean = rng.standard_normal(d)
    a = rng.standard_normal((d, d))
    cov = a @ a.T + d * np.eye(d)
    check_grads(fst.multivariate_normal.logpdf, (x, mean, cov), order=2, modes=MODES)
    check_grads(fst.multivariate_normal.pdf, (x, mean, np.diag(cov)), order=2, modes=MODES)
    g = fxad.grad(lambda m: fnp.sum(fst.multivariate_normal.logpdf(x, m, cov)))(mean)
    np.testing.assert_allclose(g, np.linalg.solve(cov, np.sum(np.reshape(x - mean, (-1, d)),
                                                                axis=0)), rtol=1e-12)


# ---------------------------------------------------------------------------
# scipy.signal.convolve


CONV_SHAPES = [((7,), (3,)), ((4,), (4,)), ((3,), (6,)), ((1,), (1,)), ((4, 5), (2, 3)),
               ((3, 4), (3, 2)), ((2, 3, 4), (2, 2, 3)), ((), ())]


@pytest.mark.parametrize("s1,s2", CONV_SHAPES, ids=[f"{a}*{b}".replace(" ", "")
                                                     for a, b in CONV_SHAPES])
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("method", ["auto", "direct", "fft"])
def test_convolve_values(s1, s2, mode, method):
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal(s1), rng.standard_normal(s2)
    for f, ref in ((fsig.convolve, ss.convolve), (fsig.correlate, ss.correlate)):
        try:
            expected = ref(a, b, mode=mode, method="direct")
        except ValueError:
            with pytest.raises(ValueError):
                traced(lambda u, v, f=f: f(u, v, mode, method), a, b)
            continue
        actual = traced(lambda u, v, f=f: f(u, v, mode, method), a, b)
        # Sums in another order: rounding relative to the size of the terms.
        atol = 1e-14 * np.sum(np.abs(a)) * np.max(np.abs(b))
        assert_same(actual, expected, rtol=1e-12, atol=atol)
    z = a + 1j * rng.standard_normal(s1)
    assert_same(traced(lambda u: fsig.convolve(u, b, "full", method), z),
                ss.convolve(z, b, "full", "direct"), rtol=1e-12, atol=1e-13)


@HYP
@given(data=st_.data())
def test_check_grads_convolve(data):
    nd = data.draw(st_.integers(1, 2), label="ndim")
    s1 = tuple(data.draw(st_.integers(1, 5), label="s1") for _ in range(nd))
    s2 = tuple(data.draw(st_.integers(1, 3), label="s2") for _ in range(nd))
    mode = data.draw(st_.sampled_from(["full", "same", "valid"]), label="mode")
    method = data.draw(st_.sampled_from(["direct", "fft"]), label="method")
    if mode == "valid" and not all(a >= b for a, b in zip(s1, s2)):
        mode = "same"
    rng = np.random.default_rng(sum(s1) + 10 * sum(s2))
    a, b = rng.standard_normal(s1), rng.standard_normal(s2)
    check_grads(lambda u, v: fsig.convolve(u, v, mode, method), (a, b), order=2, modes=MODES)


def test_convolve_errors():
    with pytest.raises(ValueError, match="dimensionality"):
        traced(lambda u: fsig.convolve(u, np.ones((2, 2))), np.ones(3))
    with pytest.raises(ValueError, match="mode"):
        traced(lambda u: fsig.convolve(u, np.ones(2), mode="circular"), np.ones(3))


# ---------------------------------------------------------------------------
# vmap against a loop


@pytest.mark.parametrize("f", [
    fsp.erf, fsp.gammaln, lambda v: fsp.polygamma(2, fnp.abs(v) + 0.5), fsp.expit,
    lambda v: fsp.logsumexp(v), lambda v: fsp.softmax(v), lambda v: fsp.xlogy(v, 2.0),
    lambda v: fst.norm.logpdf(v, 0.5, 2.0), lambda v: fst.t.logpdf(v, 3.0),
    lambda v: fst.gamma.logpdf(fnp.abs(v), 2.0), lambda v: fst.norm.ppf(fsp.expit(v)),
    lambda v: fst.multivariate_normal.logpdf(v, np.zeros(4), np.eye(4) * 2.0),
    lambda v: fsig.convolve(v, np.array([1.0, -2.0, 0.5]), "same"),
    lambda v: fsig.convolve(np.array([1.0, -2.0, 0.5]), v, "full", "fft"),
], ids=["erf", "gammaln", "polygamma", "expit", "logsumexp", "softmax", "xlogy",
        "norm.logpdf", "t.logpdf", "gamma.logpdf", "norm.ppf", "mvn.logpdf", "convolve",
        "convolve-fft"])
@pytest.mark.parametrize("in_axis", [0, 1])
def test_vmap_equals_loop(f, in_axis):
    xs = np.random.default_rng(4).standard_normal((3, 4))
    out = fxad.vmap(f, in_axes=in_axis)(xs if in_axis == 0 else xs.T)
    expected = np.stack([np.asarray(f(x)) for x in xs])
    np.testing.assert_allclose(out, expected, rtol=1e-13, atol=1e-15)
    g = fxad.vmap(fxad.grad(lambda v: fnp.sum(f(v))), in_axes=in_axis)(
        xs if in_axis == 0 else xs.T)
    np.testing.assert_allclose(g, np.stack([fxad.grad(lambda v: fnp.sum(f(v)))(x) for x in xs]),
                               rtol=1e-13, atol=1e-15)
