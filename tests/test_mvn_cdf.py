"""``fxad.scipy.stats.multivariate_normal.cdf``/``logcdf`` and the primitive
``fxad.lax.special.mvn_cdf``: values against closed forms (dimensions 1 and
2) and SciPy (to SciPy's own integration tolerance), gradients against the
analytic formula and finite differences, vmap, and the covariance derivative
that is not implemented."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special as sp
import scipy.stats as st

import fxad
import fxad.scipy.stats as fst
from fxad.lax import special as lsp
from fxad.test_util import check_grads

mvn = fst.multivariate_normal
COV2 = np.array([[2.0, 0.6], [0.6, 1.0]])
COV3 = np.array([[1.0, 0.3, 0.2], [0.3, 1.5, -0.4], [0.2, -0.4, 0.8]])


def scipy_cdf(x, mean, cov):
    return st.multivariate_normal.cdf(x, mean, cov, abseps=1e-12, releps=1e-12,
                                      maxpts=2_000_000, rng=np.random.default_rng(1))


def bvn_exact(h, k, rho):
    """``P(Y1 <= h, Y2 <= k)`` by 1-D quadrature of ``phi(t) ndtr((k - rho t) / s)``."""
    from scipy.integrate import quad

    s = np.sqrt(1 - rho ** 2)
    return quad(lambda t: st.norm.pdf(t) * sp.ndtr((k - rho * t) / s), -np.inf, h,
                epsabs=1e-16, epsrel=1e-12, limit=500)[0]


def test_dimension_one_is_the_normal_cdf():
    x = np.linspace(-5, 5, 11)
    np.testing.assert_allclose(mvn.cdf(x, 0.5, 2.0), st.norm.cdf(x, 0.5, np.sqrt(2.0)),
                               rtol=1e-14)
    np.testing.assert_allclose(mvn.logcdf(-30.0), st.norm.logcdf(-30.0), rtol=1e-14)


@pytest.mark.parametrize("rho", [0.0, 0.5, -0.7, 0.95, -0.999])
@pytest.mark.parametrize("hk", [(0.3, -0.2), (0.0, 0.0), (0.0, -1.0), (-1.3, 0.0),
                                (-2.0, 1.5), (3.0, -4.0), (-3.0, -2.5), (2.0, 2.5)])
def test_bivariate_exact(hk, rho):
    out = lsp.mvn_cdf(np.array(hk), np.array([[1.0, rho], [rho, 1.0]]))
    np.testing.assert_allclose(out, bvn_exact(*hk, rho), rtol=1e-10, atol=1e-15)


def test_bivariate_special_values():
    r = lambda rho: np.array([[1.0, rho], [rho, 1.0]])  # noqa: E731
    z = np.array([[0.0, 0.0], [np.inf, 0.4], [0.4, np.inf], [-np.inf, 1.0], [np.nan, 1.0]])
    out = lsp.mvn_cdf(z, r(0.5))
    np.testing.assert_allclose(out, [1 / 3, sp.ndtr(0.4), sp.ndtr(0.4), 0.0, np.nan],
                               rtol=1e-15)
    x = np.array([[0.3, -0.2], [1.0, 2.0]])
    np.testing.assert_allclose(lsp.mvn_cdf(x, np.eye(2)), sp.ndtr(x).prod(-1), rtol=1e-14)
    np.testing.assert_allclose(lsp.mvn_cdf(x, r(1.0)), sp.ndtr(x.min(-1)), rtol=1e-15)
    np.testing.assert_allclose(lsp.mvn_cdf(x, r(-1.0)),
                               np.maximum(sp.ndtr(x[:, 0]) - sp.ndtr(-x[:, 1]), 0), atol=1e-15)


def test_values_against_scipy():
    x2 = np.array([[0.3, -0.4], [1.0, 1.5], [-1.0, -2.0]])
    mu2 = np.array([0.1, 0.2])
    np.testing.assert_allclose(mvn.cdf(x2, mu2, COV2), scipy_cdf(x2, mu2, COV2), atol=1e-10)
    x3 = np.array([[0.3, -0.4, 0.5], [1.0, 1.5, -0.2]])
    mu3 = np.array([0.1, 0.2, -0.3])
    np.testing.assert_allclose(mvn.cdf(x3, mu3, COV3), scipy_cdf(x3, mu3, COV3), atol=1e-7)
    # independent: a product of normal CDFs
    d = np.array([1.0, 2.0, 0.5])
    np.testing.assert_allclose(mvn.cdf(x3, mu3, d), st.norm.cdf(x3, mu3, np.sqrt(d)).prod(-1),
                               rtol=1e-7)
    assert np.shape(mvn.cdf(x3[0], mu3, COV3)) == ()


def test_logcdf_is_log_cdf():
    x3 = np.array([[0.3, -0.4, 0.5], [-1.0, -1.5, -0.2]])
    np.testing.assert_allclose(mvn.logcdf(x3, None, COV3), np.log(mvn.cdf(x3, None, COV3)),
                               rtol=1e-14)
    np.testing.assert_allclose(mvn.logcdf(x3[:, :2], None, COV2),
                               np.log(scipy_cdf(x3[:, :2], None, COV2)), rtol=1e-9)
    g = fxad.grad(mvn.logcdf)(x3[0, :2], np.zeros(2), COV2)
    np.testing.assert_allclose(g, fxad.grad(mvn.cdf)(x3[0, :2], np.zeros(2), COV2)
                               / mvn.cdf(x3[0, :2], None, COV2), rtol=1e-13)


def test_gradient_matches_the_conditional_formula():
    x, mu = np.array([0.3, -0.4]), np.array([0.1, 0.2])
    s = np.sqrt(np.diag(COV2))
    z = (x - mu) / s
    rho = COV2[0, 1] / (s[0] * s[1])
    c = np.sqrt(1 - rho ** 2)
    expected = np.array([st.norm.pdf(z[0]) / s[0] * sp.ndtr((z[1] - rho * z[0]) / c),
                         st.norm.pdf(z[1]) / s[1] * sp.ndtr((z[0] - rho * z[1]) / c)])
    np.testing.assert_allclose(fxad.grad(mvn.cdf)(x, mu, COV2), expected, rtol=1e-13)
    np.testing.assert_allclose(fxad.grad(mvn.cdf, 1)(x, mu, COV2), -expected, rtol=1e-13)
    # 3-D: the conditional bivariate CDF is exact, so the gradient is too.
    x3 = np.array([0.3, -0.4, 0.5])
    g = fxad.grad(mvn.cdf)(x3, np.zeros(3), COV3)
    i, rest = 0, [1, 2]
    cond_mean = COV3[rest, i] / COV3[i, i] * x3[i]
    cond_cov = COV3[np.ix_(rest, rest)] - np.outer(COV3[rest, i], COV3[i, rest]) / COV3[i, i]
    expected0 = (st.norm.pdf(x3[i], 0, np.sqrt(COV3[i, i]))
                 * scipy_cdf(x3[rest], cond_mean, cond_cov))
    np.testing.assert_allclose(g[0], expected0, rtol=1e-10)


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_check_grads(dim):
    rng = np.random.default_rng(dim)
    cov = {1: np.array([[1.7]]), 2: COV2, 3: COV3}[dim]
    x, mu = rng.normal(size=dim), rng.normal(size=dim) * 0.3
    check_grads(lambda x, mu: mvn.cdf(x, mu, cov), (x, mu), order=2 if dim < 3 else 1,
                atol=1e-6 if dim < 3 else 1e-4, rtol=1e-6 if dim < 3 else 1e-4)
    check_grads(lambda x: mvn.logcdf(x, mu, cov), (x,), order=2 if dim < 3 else 1,
                atol=1e-6 if dim < 3 else 1e-4, rtol=1e-6 if dim < 3 else 1e-4)


def test_third_dimension_second_derivatives():
    """Second derivatives in 3-D are exact (bivariate and univariate pieces):
    check the Hessian's symmetry and its diagonal against finite differences
    of the exact gradient."""
    x3 = np.array([0.3, -0.4, 0.5])
    f = lambda x: mvn.cdf(x, None, COV3)  # noqa: E731
    h = fxad.hessian(f)(x3)
    np.testing.assert_allclose(h, h.T, rtol=1e-12, atol=1e-14)
    g = fxad.grad(f)
    eps = 1e-5
    for i in range(3):
        e = np.eye(3)[i] * eps
        np.testing.assert_allclose(h[i], (g(x3 + e) - g(x3 - e)) / (2 * eps), atol=1e-8)


def test_vmap_matches_a_loop():
    xs = np.array([[0.3, -0.4], [1.0, 1.5], [-1.0, -2.0]])
    g = fxad.grad(mvn.cdf)
    loop = np.stack([g(x, np.zeros(2), COV2) for x in xs])
    np.testing.assert_allclose(fxad.vmap(g, (0, None, None))(xs, np.zeros(2), COV2), loop,
                               rtol=1e-14)
    covs = np.stack([COV2, np.eye(2), COV2 * 2])
    loop = np.stack([g(x, np.zeros(2), c) for x, c in zip(xs, covs)])
    np.testing.assert_allclose(fxad.vmap(g, (0, None, 0))(xs, np.zeros(2), covs), loop,
                               rtol=1e-14)


def test_cov_derivative_is_not_implemented():
    with pytest.raises(NotImplementedError, match="cov"):
        fxad.grad(mvn.cdf, 2)(np.array([0.3, -0.4]), np.zeros(2), COV2)
    with pytest.raises(NotImplementedError, match="cov"):
        fxad.jacfwd(mvn.logcdf, 2)(np.array([0.3, -0.4]), np.zeros(2), COV2)


def test_not_positive_definite():
    with pytest.raises(np.linalg.LinAlgError):
        mvn.cdf(np.zeros(2), None, np.array([[1.0, 1.0], [1.0, 1.0]]))
    out = mvn.cdf(np.array([0.2, 0.5]), None, np.array([[1.0, 1.0], [1.0, 1.0]]),
                  allow_singular=True)
    np.testing.assert_allclose(out, sp.ndtr(0.2), rtol=1e-15)
