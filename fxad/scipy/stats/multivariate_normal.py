"""``fxad.scipy.stats.multivariate_normal``: the multivariate normal
distribution, differentiable in ``x``, ``mean`` and ``cov``.

SciPy's conventions: ``x`` has the components along its last axis (a 1-D
``x`` is one point, or, with ``dim == 1``, many); ``mean`` defaults to 0;
``cov`` may be a scalar (times the identity), a vector (the diagonal) or a
matrix, of which only the lower triangle is read (as SciPy's ``eigh``).  On
traced values the log-density is computed from the Cholesky factor
``L`` of ``cov``: ``-(d log(2 pi) + 2 sum(log diag L) + |L^-1 (x - mean)|**2) / 2``;
a singular covariance (``allow_singular=True`` with a rank-deficient
``cov``) is supported on concrete values only.

``cdf``/``logcdf`` (SciPy's values, differentiable in ``x`` and ``mean``, not
in ``cov``) standardise the upper limits, ``z = (x - mean) / sqrt(diag cov)``,
and call the primitive ``fxad.lax.special.mvn_cdf(z, corr)``: exact in
dimensions 1 and 2 (Owen's T), SciPy's quasi-Monte Carlo with a fixed seed
and tight tolerances (about 1e-7) from dimension 3 on.

Example:
    >>> import fxad, fxad.scipy.stats as fst, numpy as np
    >>> cov = np.array([[2.0, 0.5], [0.5, 1.0]])
    >>> g = fxad.grad(fst.multivariate_normal.logpdf)(np.array([1.0, -1.0]), np.zeros(2), cov)
    >>> bool(np.allclose(g, -np.linalg.solve(cov, [1.0, -1.0])))
    True
"""

from __future__ import annotations

import numpy as np
import scipy.stats as _st

import fxad.numpy as fnp
from fxad.lax.special import log_ndtr, mvn_cdf
from fxad.numpy import linalg
from fxad.numpy._util import any_tracer, shape_of
from fxad.scipy.linalg import solve_triangular
from fxad.scipy.stats._util import LOG_SQRT_2PI, promote

__all__ = ["logpdf", "pdf", "cdf", "logcdf"]


def _dim(mean, cov):
    if mean is not None:
        return int(np.prod(shape_of(mean), dtype=np.int64))
    if cov is not None and len(shape_of(cov)) == 2:
        return shape_of(cov)[0]
    return 1


def _parameters(x, mean, cov):
    """SciPy's ``_process_parameters`` and ``_process_quantiles`` on traced values."""
    dim = _dim(mean, cov)
    mean = np.zeros(dim) if mean is None else mean
    cov = 1.0 if cov is None else cov
    x, mean, cov, dt = promote(x, mean, cov, broadcast=False)
    if dim == 1:
        mean, cov = fnp.reshape(mean, (1,)), fnp.reshape(cov, (1, 1))
    if shape_of(mean) != (dim,):
        raise ValueError(f"Array 'mean' must be a vector of length {dim}.")
    eye = np.eye(dim, dtype=dt)
    nd = len(shape_of(cov))
    if nd == 0:
        cov = fnp.multiply(cov, eye)
    elif nd == 1:
        cov = fnp.multiply(fnp.reshape(cov, (1, dim)), eye)
    elif shape_of(cov) != (dim, dim):
        raise ValueError(f"Array 'cov' must be of shape ({dim}, {dim}), got {shape_of(cov)}.")
    xn = len(shape_of(x))
    if xn == 0:
        x = fnp.reshape(x, (1,))
    elif xn == 1:
        x = fnp.reshape(x, (-1, 1) if dim == 1 else (1, -1))
    return x, mean, cov, dim, dt


def _squeeze(out):
    return fnp.squeeze(out) if 1 in shape_of(out) else out


def logpdf(x, mean=None, cov=1, allow_singular=False):
    """The log-density (see the module docstring).

    Example:
        >>> import fxad.scipy.stats as fst, numpy as np
        >>> round(float(fst.multivariate_normal.logpdf(np.zeros(2), np.zeros(2))), 12)  # -log(2 pi)
        -1.837877066409
    """
    if not any_tracer(x, mean, cov):
        return _st.multivariate_normal.logpdf(x, mean, cov, allow_singular=allow_singular)
    x, mean, cov, dim, dt = _parameters(x, mean, cov)
    chol = linalg.cholesky(cov)
    dev = fnp.subtract(x, mean)  # (..., dim)
    pts = fnp.reshape(dev, (-1, dim))
    z = solve_triangular(chol, fnp.transpose(pts), lower=True)  # (dim, n)
    maha = fnp.reshape(fnp.sum(fnp.square(z), axis=0), shape_of(dev)[:-1])
    log_det = fnp.sum(fnp.log(fnp.diagonal(chol)))
    out = fnp.negative(fnp.add(fnp.add(fnp.multiply(dt(0.5), maha), log_det),
                               dt(dim * LOG_SQRT_2PI)))
    return _squeeze(out)


def pdf(x, mean=None, cov=1, allow_singular=False):
    """The density, ``exp(logpdf)``.

    Example:
        >>> import fxad.scipy.stats as fst, numpy as np
        >>> round(float(fst.multivariate_normal.pdf(0.0)), 12)
        0.398942280401
    """
    if not any_tracer(x, mean, cov):
        return _st.multivariate_normal.pdf(x, mean, cov, allow_singular=allow_singular)
    return fnp.exp(logpdf(x, mean, cov, allow_singular))


def _standardized(x, mean, cov, allow_singular):
    """``(z, corr, dim, dt)``: the standardised upper limits and the
    correlation matrix (from the lower triangle of ``cov``)."""
    x, mean, cov, dim, dt = _parameters(x, mean, cov)
    cov = fnp.add(fnp.tril(cov), fnp.transpose(fnp.tril(cov, -1)))
    if not allow_singular and not any_tracer(cov):
        try:
            np.linalg.cholesky(np.asarray(cov))
        except np.linalg.LinAlgError:
            raise np.linalg.LinAlgError(
                "When `allow_singular is False`, the input matrix must be symmetric "
                "positive definite.") from None
    s = fnp.sqrt(fnp.diagonal(cov))
    z = fnp.divide(fnp.subtract(x, mean), s)
    corr = fnp.divide(cov, fnp.multiply(fnp.reshape(s, (-1, 1)), fnp.reshape(s, (1, -1))))
    return z, corr, dim, dt


def cdf(x, mean=None, cov=1, allow_singular=False):
    """The CDF ``P(X <= x)`` (componentwise), differentiable in ``x`` and
    ``mean`` (not ``cov``: NotImplementedError).  Exact (~1e-15) in
    dimensions 1 and 2; about 1e-7 accurate from dimension 3 on.

    Example:
        >>> import fxad, fxad.scipy.stats as fst, numpy as np
        >>> cov = np.array([[1.0, 0.5], [0.5, 1.0]])
        >>> round(float(fst.multivariate_normal.cdf(np.zeros(2), np.zeros(2), cov)), 12)  # 1/3
        0.333333333333
    """
    z, corr, _, _ = _standardized(x, mean, cov, allow_singular)
    return _squeeze(mvn_cdf(z, corr))


def logcdf(x, mean=None, cov=1, allow_singular=False):
    """``log(cdf)`` (``log_ndtr`` in dimension 1, accurate in the tail).

    Example:
        >>> import fxad.scipy.stats as fst, numpy as np
        >>> round(float(fst.multivariate_normal.logcdf(np.zeros(2), np.zeros(2))), 12)  # log(1/4)
        -1.38629436112
    """
    z, corr, dim, _ = _standardized(x, mean, cov, allow_singular)
    if dim == 1:
        return _squeeze(log_ndtr(fnp.take(z, 0, axis=-1)))
    return _squeeze(fnp.log(mvn_cdf(z, corr)))
