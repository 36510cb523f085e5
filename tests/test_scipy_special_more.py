"""The second round of ``fxad.scipy.special`` against SciPy: the shape
derivative of ``gammainc``/``gammaincc`` (and so of ``gamma.cdf``,
``chi2.cdf``) against quadrature and Richardson-extrapolated finite
differences over a in [0.1, 50], x in [0.01, 100]; the x-derivatives of
``zeta``; values on traced arrays, NaN/inf at the edges of the domains as
SciPy; complex ``erf``/``erfc``/``loggamma``; second derivatives; jit
values and dtypes.  The primitives themselves have op records
(``tests/op_records_special2.py``)."""

from __future__ import annotations

import numpy as np
import op_records  # noqa: F401 - imports the record families first
import pytest
import scipy.special as sp
import scipy.stats as st
from op_records_special2 import igamma_grad_a_quad, richardson_grad_a

import fxad
import fxad.numpy as fnp
import fxad.scipy.special as fsp
import fxad.scipy.stats as fst
from fxad.lax import special as lsp
from fxad.test_util import check_grads

MODES = ("fwd", "rev")


def traced(f, *args):
    """``f(*args)`` computed on tracers (a staged jaxpr, evaluated)."""
    return fxad.make_jaxpr(f)(*args)(*args)[0]


def assert_same(actual, expected, rtol=1e-12, atol=0.0):
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True)


# ---------------------------------------------------------------------------
# d/da of the regularized incomplete gamma functions

A_GRID = np.array([0.1, 0.3, 0.7, 1.0, 1.5, 2.5, 5.0, 12.0, 30.0, 50.0])
X_GRID = np.array([0.01, 0.1, 0.5, 0.9, 1.0, 1.7, 5.0, 10.0, 30.0, 49.0, 50.0, 52.0, 100.0])


def test_igamma_grad_a_against_quadrature_and_finite_differences():
    a, x = np.meshgrid(A_GRID, X_GRID, indexing="ij")
    got = fxad.vmap(fxad.grad(fsp.gammainc))(a.ravel(), x.ravel()).reshape(a.shape)
    quad = np.vectorize(igamma_grad_a_quad)(a, x)
    np.testing.assert_allclose(got, quad, rtol=1e-11, atol=0)
    assert np.all(got < 0)  # P decreases in a
    for i in np.ndindex(a.shape):
        fd, err = richardson_grad_a(a[i], x[i])
        assert abs(got[i] - fd) <= max(1e-9 * abs(fd), 10 * err), (a[i], x[i], got[i], fd)
    # Q = 1 - P
    gq = fxad.vmap(fxad.grad(fsp.gammaincc))(a.ravel(), x.ravel()).reshape(a.shape)
    np.testing.assert_array_equal(gq, -got)


def test_igamma_grad_a_edges_match_gammainc():
    a = np.array([0.5, 2.0, -1.0, np.nan, 2.0, 0.0, 2.0])
    x = np.array([0.0, np.inf, 1.0, 1.0, np.nan, 1.0, -1.0])
    out = lsp.igamma_grad_a(a, x)
    np.testing.assert_array_equal(out, [0.0, 0.0, np.nan, np.nan, np.nan, np.nan, np.nan])
    # large shapes converge (the iteration count grows like sqrt(a))
    for a, x in [(400.0, 390.0), (400.0, 410.0), (2000.0, 2000.0)]:
        fd, err = richardson_grad_a(a, x)
        np.testing.assert_allclose(lsp.igamma_grad_a(a, x), fd, rtol=max(1e-9, 10 * err / abs(fd)))


def test_igamma_shape_derivative_float32_jit_and_mixed_second_derivative():
    a, x = np.float32(2.5), np.array([0.5, 2.0, 7.0], np.float32)
    g = fxad.jit(fxad.grad(lambda a: fnp.sum(fsp.gammainc(a, x))))(a)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, sum(igamma_grad_a_quad(2.5, float(v)) for v in x), rtol=1e-5)
    # d2P / da dx = density * (log x - digamma(a)); fwd and rev agree with FD
    check_grads(lambda a, x: fsp.gammainc(a, x), (2.5, 1.7), order=1, modes=MODES)
    h = fxad.grad(fxad.grad(fsp.gammainc, argnums=1), argnums=0)(2.5, 1.7)
    np.testing.assert_allclose(h, st.gamma.pdf(1.7, 2.5) * (np.log(1.7) - sp.digamma(2.5)),
                               rtol=1e-12)
    with pytest.raises(NotImplementedError, match="second derivative"):
        fxad.hessian(fsp.gammainc)(2.5, 1.7)


def test_gamma_and_chi2_cdf_are_differentiable_in_the_shape():
    x = np.array([0.3, 1.1, 4.0])
    # (the primitive dP/da itself is checked against quadrature above)
    dpda = lsp.igamma_grad_a
    g = fxad.grad(lambda a: fnp.sum(fst.gamma.cdf(x, a)))(2.2)
    np.testing.assert_allclose(g, sum(dpda(2.2, v) for v in x), rtol=1e-11)
    g = fxad.grad(lambda a: fnp.sum(fst.gamma.sf(x, a, scale=2.0)))(2.2)
    np.testing.assert_allclose(g, -sum(dpda(2.2, v / 2) for v in x), rtol=1e-11)
    g = fxad.grad(lambda df: fnp.sum(fst.chi2.cdf(x, df)))(3.0)
    np.testing.assert_allclose(g, sum(0.5 * dpda(1.5, v / 2) for v in x),
                               rtol=1e-11)
    g = fxad.grad(lambda a: fst.gamma.logcdf(1.1, a))(2.2)
    np.testing.assert_allclose(g, dpda(2.2, 1.1) / sp.gammainc(2.2, 1.1),
                               rtol=1e-11)
    # poisson.cdf(k, mu) = Q(k + 1, mu): the rate mu is its differentiable parameter
    g = fxad.grad(lambda m: fst.poisson.cdf(3, m))(2.5)
    np.testing.assert_allclose(g, -st.poisson.pmf(3, 2.5), rtol=1e-12)
    check_grads(lambda a: fst.gamma.cdf(x, a), (2.2,), order=1, modes=MODES)


# ---------------------------------------------------------------------------
# zeta


def _richardson(f, x, h=1e-2):
    d = [(f(x + h / 2 ** i) - f(x - h / 2 ** i)) / (2 * h / 2 ** i) for i in range(4)]
    for j in range(1, 4):
        d = [d[i] + (d[i] - d[i - 1]) / (4 ** j - 1) for i in range(1, len(d))]
    return d[-1]


@pytest.mark.parametrize("q", [0.3, 1.0, 2.7])
def test_zeta_derivatives_in_x_and_q(q):
    x = np.array([1.2, 1.7, 2.5, 4.0, 9.0])
    got = fxad.vmap(fxad.grad(fsp.zeta), in_axes=(0, None))(x, q)
    np.testing.assert_allclose(got, _richardson(lambda v: sp.zeta(v, q), x), rtol=1e-9)
    gq = fxad.vmap(fxad.grad(fsp.zeta, argnums=1), in_axes=(0, None))(x, q)
    np.testing.assert_allclose(gq, -x * sp.zeta(x + 1, q), rtol=1e-14)
    check_grads(fsp.zeta, (x, np.full(5, q)), order=2, modes=MODES)


def test_riemann_zeta_and_its_derivative():
    x = np.array([-2.0, -0.5, 0.0, 0.5, 0.9, 1.5, 3.0])
    assert_same(traced(fsp.zeta, x), sp.zeta(x))
    g = fxad.vmap(fxad.grad(fsp.zeta))(x)
    np.testing.assert_allclose(g, _richardson(sp.zeta, x, 1e-3), rtol=1e-8)
    np.testing.assert_allclose(g[2], -0.5 * np.log(2 * np.pi), rtol=1e-14)
    # the Hurwitz form is NaN below 1, as SciPy's
    assert_same(traced(fsp.zeta, np.array([0.5, 2.0]), np.array([1.0, 1.0])),
                sp.zeta(np.array([0.5, 2.0]), 1.0))


# ---------------------------------------------------------------------------
# Values on traced arrays, including SciPy's NaN and inf outside the domains

POS = np.array([0.05, 0.5, 1.0, 2.5, 10.0, 60.0, 170.5])
NONINT = np.array([-3.7, -2.5, -1.2, -0.3])
POLES = np.array([0.0, -1.0, -2.0])
GRID = np.linspace(-8, 8, 33)

UNARY = [
    ("gamma", np.concatenate([POS, NONINT, POLES, [-0.0, np.inf, np.nan]])),
    ("rgamma", np.concatenate([POS, NONINT, POLES, [np.nan]])),
    ("gammasgn", np.concatenate([POS, NONINT, POLES, [np.nan]])),
    ("loggamma", np.concatenate([POS, NONINT, POLES, [np.nan]])),
    ("erfcinv", np.array([0.0, 1e-300, 1e-10, 0.3, 1.0, 1.7, 2.0, 2.5, -0.1])),
    ("i0", GRID), ("i0e", GRID), ("i1", GRID), ("i1e", GRID), ("j0", GRID), ("j1", GRID),
    ("y0", np.concatenate([POS, [0.0, -1.0]])), ("y1", np.concatenate([POS, [0.0, -1.0]])),
    ("entr", np.array([0.0, 1e-300, 0.3, 1.0, 5.0, -1.0, np.inf, np.nan])),
]


@pytest.mark.parametrize("name,x", UNARY, ids=[u[0] for u in UNARY])
def test_unary_values_on_tracers(name, x):
    with np.errstate(all="ignore"):
        expected = getattr(sp, name)(x)
        assert_same(traced(getattr(fsp, name), x), expected)
        assert_same(fxad.jit(getattr(fsp, name))(x), expected)
        x32 = x.astype(np.float32)
        out = fxad.jit(getattr(fsp, name))(x32)
        assert out.dtype == getattr(sp, name)(x32).dtype == np.float32


V = np.array([0.0, 0.5, 1.0, 2.0, 3.7])
XB = np.array([0.0, 0.3, 1.0, 4.5, 25.0, -1.0, -2.5])
BINARY = [("iv", V, XB), ("ive", V, XB), ("kv", V, XB), ("kve", V, XB), ("jv", V, XB),
          ("jn", V, XB), ("yv", V, XB), ("yn", np.array([0.0, 1.0, 2.0, 5.0]), XB),
          ("beta", np.array([0.5, 1.0, 3.0, 40.0, -0.5]), np.array([0.2, 2.0, 7.0, 300.0])),
          ("betaln", np.array([0.5, 1.0, 3.0, 40.0, 1e3]), np.array([0.2, 2.0, 7.0, 1e5])),
          ("rel_entr", np.array([0.0, 0.5, 2.0, -1.0, np.nan]),
           np.array([0.0, 0.5, 3.0, -1.0, np.inf])),
          ("kl_div", np.array([0.0, 0.5, 2.0, -1.0, np.nan]),
           np.array([0.0, 0.5, 3.0, -1.0, np.inf])),
          ("zeta", np.array([1.0, 1.5, 3.0, 20.0]), np.array([0.2, 1.0, 3.5, -0.5]))]


@pytest.mark.parametrize("name,a,b", BINARY, ids=[u[0] for u in BINARY])
def test_binary_values_on_tracers(name, a, b):
    a, b = a[:, None], b[None, :]
    with np.errstate(all="ignore"):
        expected = getattr(sp, name)(a, b)
        assert_same(traced(getattr(fsp, name), a, b), expected)
        assert_same(fxad.jit(getattr(fsp, name))(a, b), expected)


def test_multigammaln():
    a = np.array([1.2, 2.0, 3.5, 10.0])
    for d in (1, 2, 3):
        assert_same(traced(lambda a, d=d: fsp.multigammaln(a, d), a), sp.multigammaln(a, d),
                    rtol=1e-14)
    g = fxad.grad(lambda a: fsp.multigammaln(a, 3))(3.5)
    np.testing.assert_allclose(g, sp.digamma(3.5) + sp.digamma(3.0) + sp.digamma(2.5),
                               rtol=1e-14)
    # SciPy raises below (d - 1) / 2; traced values cannot, and are NaN there
    with pytest.raises(ValueError):
        sp.multigammaln(0.8, 3)
    assert np.isnan(fxad.jit(lambda a: fsp.multigammaln(a, 3))(0.8))
    with pytest.raises(ValueError, match="concrete positive integer"):
        fxad.jit(lambda a: fsp.multigammaln(a, 2.5))(3.0)


def test_complex_erf_erfc_loggamma_digamma():
    z = np.array([0.3 + 0.4j, -1.2 + 0.7j, 2.0 - 1.5j, 0.5j])
    for name in ("erf", "erfc", "loggamma", "digamma"):
        assert_same(traced(getattr(fsp, name), z), getattr(sp, name)(z))
        assert fxad.jit(getattr(fsp, name))(z.astype(np.complex64)).dtype == np.complex64
    # holomorphic: the complex derivative
    d = fxad.vmap(fxad.grad(fsp.erf, holomorphic=True))(z)
    np.testing.assert_allclose(d, 2 / np.sqrt(np.pi) * np.exp(-z ** 2), rtol=1e-13)
    d = fxad.vmap(fxad.grad(fsp.erfc, holomorphic=True))(z)
    np.testing.assert_allclose(d, -2 / np.sqrt(np.pi) * np.exp(-z ** 2), rtol=1e-13)
    d = fxad.vmap(fxad.grad(fsp.loggamma, holomorphic=True))(z)
    np.testing.assert_allclose(d, sp.digamma(z), rtol=1e-13)
    check_grads(fsp.erf, (z,), order=2, modes=MODES)
    with pytest.raises(TypeError, match="polygamma"):
        fxad.grad(fxad.grad(fsp.loggamma, holomorphic=True), holomorphic=True)(z[0])
    with pytest.raises(TypeError, match="complex arguments are not supported"):
        fxad.jit(fsp.gamma)(z)


# ---------------------------------------------------------------------------
# Derivatives: analytic identities, finite differences, second order


def test_bessel_derivatives_are_the_recurrences():
    x = np.array([0.4, 1.3, 3.0, 7.5])
    grad = fxad.vmap(fxad.grad(lambda v, x: fsp.iv(v, x), argnums=1), in_axes=(None, 0))
    np.testing.assert_allclose(grad(1.5, x), (sp.iv(0.5, x) + sp.iv(2.5, x)) / 2, rtol=1e-13)
    dj0 = fxad.vmap(fxad.grad(fsp.j0))(x)
    np.testing.assert_allclose(dj0, -sp.j1(x), rtol=1e-14)
    dk = fxad.vmap(fxad.grad(lambda x: fsp.kve(0.5, x)))(x)
    np.testing.assert_allclose(dk, sp.kve(0.5, x) - (sp.kve(-0.5, x) + sp.kve(1.5, x)) / 2,
                               rtol=1e-13)
    for name in ("i0", "i0e", "i1", "i1e", "j0", "j1", "y0", "y1"):
        check_grads(getattr(fsp, name), (x,), order=2, modes=MODES)
    for name in ("iv", "ive", "kv", "kve", "jv", "yv", "yn"):
        check_grads(lambda x, name=name: getattr(fsp, name)(2.0, x), (x,), order=2,
                    modes=MODES)
    with pytest.raises(NotImplementedError, match="order v"):
        fxad.grad(fsp.jv)(1.5, 2.0)


def test_gamma_family_derivatives_and_hessians():
    x = np.array([0.7, 2.5, 6.0, -1.5])
    np.testing.assert_allclose(fxad.vmap(fxad.grad(fsp.gamma))(x), sp.gamma(x) * sp.psi(x),
                               rtol=1e-13)
    np.testing.assert_allclose(fxad.vmap(fxad.grad(fsp.rgamma))(x),
                               -sp.rgamma(x) * sp.psi(x), rtol=1e-13)
    np.testing.assert_allclose(fxad.vmap(fxad.grad(fsp.gammasgn))(x), 0.0)
    np.testing.assert_allclose(fxad.hessian(fsp.gamma)(2.5),
                               sp.gamma(2.5) * (sp.psi(2.5) ** 2 + sp.polygamma(1, 2.5)),
                               rtol=1e-13)
    for f in (fsp.gamma, fsp.rgamma, fsp.loggamma, fsp.erfcinv):
        check_grads(f, (np.array([0.6, 1.3, 1.9]),), order=2, modes=MODES)
    a, b = np.array([0.5, 2.0, 30.0]), np.array([1.5, 0.7, 45.0])
    check_grads(fsp.beta, (a, b), order=2, modes=MODES)
    check_grads(fsp.betaln, (a, b), order=2, modes=MODES)
    h = fxad.hessian(fsp.betaln, argnums=(0, 1))(2.0, 3.0)
    np.testing.assert_allclose(h[0][1], -sp.polygamma(1, 5.0), rtol=1e-13)
    np.testing.assert_allclose(h[0][0], sp.polygamma(1, 2.0) - sp.polygamma(1, 5.0), rtol=1e-13)


def test_entropies_derivatives_and_edges():
    x, y = np.array([0.2, 1.0, 3.0]), np.array([0.5, 2.0, 0.7])
    for f in (fsp.rel_entr, fsp.kl_div):
        check_grads(f, (x, y), order=2, modes=MODES)
    check_grads(fsp.entr, (x,), order=2, modes=MODES)
    g = fxad.grad(lambda x, y: fnp.sum(fsp.kl_div(x, y)), argnums=(0, 1))(x, y)
    np.testing.assert_allclose(g[0], np.log(x / y), rtol=1e-14)
    np.testing.assert_allclose(g[1], 1 - x / y, rtol=1e-14)
    # at x == 0 the value is constant in x's neighbourhood from the right
    # convention of the safe branch: no NaN reaches the gradient
    g = fxad.grad(lambda y: fsp.rel_entr(0.0, y))(2.0)
    assert g == 0.0
    assert np.isfinite(fxad.grad(fsp.entr)(0.0))
    # xlogy/xlog1py: values on tracers equal SciPy's, including the edges
    xs = np.array([0.0, 0.0, 0.0, 1.5, 2.0, -1.0])
    ys = np.array([0.0, np.nan, -1.0, 0.5, np.inf, 3.0])
    for name in ("xlogy", "xlog1py"):
        with np.errstate(all="ignore"):
            assert_same(traced(getattr(fsp, name), xs, ys), getattr(sp, name)(xs, ys))


def test_rgamma_is_smooth_through_the_poles_of_gamma():
    # 1/Gamma(-n + e) = (-1)**n n! e + ...: the derivative at the poles is
    # finite, (-1)**n n!, and so are the higher ones (fwd and rev agree with
    # finite differences there).
    poles = np.array([0.0, -1.0, -2.0, -3.0])
    d = fxad.vmap(fxad.grad(fsp.rgamma))(poles)
    np.testing.assert_allclose(d, [1.0, -1.0, 2.0, -6.0], rtol=1e-15)
    check_grads(fsp.rgamma, (poles,), order=2, modes=MODES)
    np.testing.assert_allclose(fxad.grad(fxad.grad(fsp.rgamma))(0.0), 2 * np.euler_gamma,
                               rtol=1e-14)


def test_bessel_functions_vmap_over_the_order_and_the_argument():
    v, x = np.array([0.0, 0.5, 2.0, 3.5]), np.array([0.7, 1.9, 3.3, 8.0])
    for name in ("iv", "ive", "kv", "kve", "jv", "yv"):
        f = getattr(fsp, name)
        out = fxad.vmap(fxad.grad(f, argnums=1))(v, x)
        loop = np.array([fxad.grad(f, argnums=1)(a, b) for a, b in zip(v, x)])
        np.testing.assert_array_equal(out, loop)
        assert_same(fxad.jit(fxad.vmap(f))(v, x), getattr(sp, name)(v, x))
    n = np.array([0.0, 1.0, 4.0, 7.0])
    assert_same(fxad.vmap(fsp.yn)(n, x), sp.yn(n.astype(int), x))
