"""``fxad.scipy.stats.multivariate_normal``: the multivariate normal
distribution, differentiable in ``x``, ``mean`` and ``cov``.

SciPy's conventions: ``x`` has the components along its last axis (a 1-D
``x`` is one point, or, with ``dim == 1``, many); ``mean`` defaults to 0;
``cov`` may be a scalar (times the identity), a vector (the diagonal) or a
matrix, of which only the lower triangle is read (as SciPy's ``eigh``).  On
traced values the log-density is computed from the Cholesky factor
``L`` of ``cov``: ``-(d log(2 pi) + 2 sum(log diag L) + |L^-1 (x - mean)|**2) / 2``.

With ``allow_singular=True`` (and in ``entropy``, as SciPy's, which always
allows it) the covariance may be singular: SciPy's pseudo-determinant and
pseudo-inverse, with SciPy's cutoff for negligible eigenvalues (``1e6`` times
the machine epsilon times the largest one) and ``-inf`` for points off the
support (the range of ``cov`` shifted by ``mean``).  On traced values the
eigenbasis ``V`` of ``cov`` is computed once as a constant, and ``cov`` enters
through ``V^T cov V`` restricted to the range (its Cholesky factor gives the
pseudo-determinant and the Mahalanobis distance): the values are SciPy's,
and the derivatives in ``cov`` are those along covariances with the same range
(exact for a non-singular ``cov``), free of the infinities that
differentiating the eigenvectors themselves would give at repeated
eigenvalues.

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

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "entropy"]


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
    if allow_singular:
        return _squeeze(_singular_logpdf(x, mean, cov, dim, dt))
    chol = linalg.cholesky(cov)
    dev = fnp.subtract(x, mean)  # (..., dim)
    pts = fnp.reshape(dev, (-1, dim))
    z = solve_triangular(chol, fnp.transpose(pts), lower=True)  # (dim, n)
    maha = fnp.reshape(fnp.sum(fnp.square(z), axis=0), shape_of(dev)[:-1])
    log_det = fnp.sum(fnp.log(fnp.diagonal(chol)))
    out = fnp.negative(fnp.add(fnp.add(fnp.multiply(dt(0.5), maha), log_det),
                               dt(dim * LOG_SQRT_2PI)))
    return _squeeze(out)


def _symmetric(cov):
    """``cov`` from its lower triangle (what SciPy's ``eigh`` reads)."""
    return fnp.add(fnp.tril(cov), fnp.transpose(fnp.tril(cov, -1)))


def _range(cov, dim, dt):
    """SciPy's ``_PSD`` on traced values: ``(chol, keep, v, psd, eps)`` with
    ``v`` the (constant) eigenbasis of ``cov``, ``keep`` marking the
    eigenvalues above the cutoff ``eps``, ``chol`` the Cholesky factor of
    ``V^T cov V`` on the kept block (the identity on the others), and ``psd``
    whether no eigenvalue is below ``-eps``."""
    cov = _symmetric(cov)
    w, v = linalg.eigh(fnp.stop_gradient(cov))
    factor = 1e6 if np.dtype(dt) == np.float64 else 1e3
    eps = fnp.multiply(dt(factor * np.finfo(dt).eps), fnp.max(fnp.abs(w)))
    keep = w > eps
    both = fnp.logical_and(fnp.reshape(keep, (dim, 1)), fnp.reshape(keep, (1, dim)))
    inner = fnp.matmul(fnp.transpose(v), fnp.matmul(cov, v))
    inner = fnp.where(both, inner, fnp.asarray(np.eye(dim, dtype=dt)))
    psd = fnp.min(w) >= fnp.negative(eps)
    return linalg.cholesky(inner), keep, v, psd, eps


def _log_pdet(chol):
    # (the identity block contributes log 1 = 0)
    return fnp.multiply(2.0, fnp.sum(fnp.log(fnp.diagonal(chol))))


def _singular_logpdf(x, mean, cov, dim, dt):
    chol, keep, v, psd, eps = _range(cov, dim, dt)
    dev = fnp.reshape(fnp.subtract(x, mean), (-1, dim))
    z = fnp.matmul(dev, v)  # (n, dim): coordinates in the eigenbasis
    z_in = fnp.where(keep, z, dt(0))
    z_out = fnp.where(keep, dt(0), fnp.stop_gradient(z))
    w = solve_triangular(chol, fnp.transpose(z_in), lower=True)
    maha = fnp.sum(fnp.square(w), axis=0)
    rank = fnp.sum(keep.astype(dt))
    out = fnp.multiply(dt(-0.5), fnp.add(fnp.add(fnp.multiply(rank, dt(2 * LOG_SQRT_2PI)),
                                                 _log_pdet(chol)), maha))
    on_support = fnp.sqrt(fnp.sum(fnp.square(z_out), axis=-1)) < fnp.multiply(dt(1e3), eps)
    out = fnp.where(on_support, out, dt(-np.inf))
    out = fnp.where(psd, out, dt(np.nan))
    return fnp.reshape(out, shape_of(x)[:-1])


def entropy(mean=None, cov=1):
    """The differential entropy, ``(rank (log(2 pi) + 1) + log pdet(cov)) / 2``
    (the pseudo-determinant: a singular ``cov`` is allowed, as in SciPy).

    Example:
        >>> import fxad, fxad.scipy.stats as fst, numpy as np
        >>> round(float(fst.multivariate_normal.entropy(np.zeros(2), np.eye(2))), 12)
        2.837877066409
        >>> fxad.grad(fst.multivariate_normal.entropy, argnums=1)(np.zeros(2), 2 * np.eye(2))
        array([[0.25, 0.  ],
               [0.  , 0.25]])
    """
    if not any_tracer(mean, cov):
        return _st.multivariate_normal.entropy(mean, cov)
    _, mean, cov, dim, dt = _parameters(np.zeros(()), mean, cov)  # (no x)
    chol, keep, _, psd, _ = _range(cov, dim, dt)
    rank = fnp.sum(keep.astype(dt))
    out = fnp.multiply(dt(0.5), fnp.add(fnp.multiply(rank, dt(2 * LOG_SQRT_2PI + 1)),
                                         _log_pdet(chol)))
    return fnp.where(psd, out, dt(np.nan))


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
