"""``fxad.scipy.stats.lognorm``: the log-normal distribution with shape ``s``
(SciPy's parametrisation: ``log((x - loc) / scale)`` is normal with mean 0 and
standard deviation ``s``, so ``scale = exp(mu)``), differentiable in ``x``,
``s``, ``loc`` and ``scale`` (``q`` for the quantiles).

Example:
    >>> import fxad, fxad.scipy.stats as fst
    >>> float(fxad.grad(fst.lognorm.logpdf)(1.0, 1.0))  # -(1 + log(y) / s**2) / y
    -1.0
"""

from __future__ import annotations

import numpy as np

import fxad.numpy as fnp
from fxad.lax import special as _lsp
from fxad.scipy.special import ndtr
from fxad.scipy.stats._loc_scale import methods
from fxad.scipy.stats._util import LOG_SQRT_2PI

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf", "mean", "var",
           "entropy"]


def _log_y(y, dt):
    """``(y > 0, log(y) made safe (0) outside the support)``."""
    inside = y > 0
    return inside, fnp.log(fnp.where(inside, y, dt(1)))


def _logpdf(y, s, *, dt):
    inside, lg = _log_y(y, dt)
    out = fnp.subtract(fnp.multiply(dt(-0.5), fnp.square(fnp.true_divide(lg, s))),
                       fnp.add(fnp.add(fnp.log(s), lg), dt(LOG_SQRT_2PI)))
    return fnp.where(inside, out, dt(-np.inf))


def _tail(fn, sign, below):
    def standard(y, s, *, dt):
        inside, lg = _log_y(y, dt)
        return fnp.where(inside, fn(fnp.multiply(dt(sign), fnp.true_divide(lg, s))), dt(below))

    return standard


def _quantile(sign):
    def standard(q, s, *, dt):
        return fnp.exp(fnp.multiply(fnp.multiply(dt(sign), s), _lsp.ndtri(q)))

    return standard


def _mean(s, *, dt):
    return fnp.exp(fnp.multiply(dt(0.5), fnp.square(s)))


def _var(s, *, dt):
    s2 = fnp.square(s)
    return fnp.multiply(fnp.expm1(s2), fnp.exp(s2))


def _entropy(s, *, dt):
    return fnp.add(dt(0.5 + LOG_SQRT_2PI), fnp.log(s))


_m = methods(
    "lognorm", shapes=("s",), shape_ok=lambda s: s > 0, support=(0.0, np.inf),
    logpdf=_logpdf, cdf=_tail(ndtr, 1, 0.0), logcdf=_tail(_lsp.log_ndtr, 1, -np.inf),
    sf=_tail(ndtr, -1, 1.0), logsf=_tail(_lsp.log_ndtr, -1, 0.0),
    ppf=_quantile(1), isf=_quantile(-1), mean=_mean, var=_var, entropy=_entropy)

logpdf = _m["logpdf"]
logpdf.__doc__ = """``-log(y)**2 / (2 s**2) - log(s y sqrt(2 pi)) - log(scale)`` for
``y = (x - loc) / scale > 0``, ``-inf`` elsewhere.

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.lognorm.logpdf(1.0, 1.0)), 12)
    -0.918938533205
"""
pdf = _m["pdf"]
pdf.__doc__ = """The density, ``exp(logpdf)``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.lognorm.pdf(1.0, 1.0)), 12)
    0.398942280401
"""
cdf = _m["cdf"]
cdf.__doc__ = """The CDF, ``ndtr(log(y) / s)`` (0 for ``y <= 0``).

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.lognorm.cdf(1.0, 0.5))
    0.5
"""
logcdf = _m["logcdf"]
logcdf.__doc__ = """The log CDF, ``log_ndtr(log(y) / s)`` (accurate in the lower tail).

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.lognorm.logcdf(1.0, 0.5)), 12)
    -0.69314718056
"""
sf = _m["sf"]
sf.__doc__ = """The survival function, ``ndtr(-log(y) / s)`` (1 for ``y <= 0``).

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.lognorm.sf(1.0, 0.5))
    0.5
"""
logsf = _m["logsf"]
logsf.__doc__ = """The log survival function, ``log_ndtr(-log(y) / s)``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.lognorm.logsf(1.0, 0.5)), 12)
    -0.69314718056
"""
ppf = _m["ppf"]
ppf.__doc__ = """The quantile function, ``loc + scale * exp(s ndtri(q))``.

Example:
    >>> import fxad, fxad.scipy.stats as fst
    >>> float(fst.lognorm.ppf(0.5, 0.7))
    1.0
    >>> round(float(fxad.grad(fst.lognorm.ppf)(0.5, 1.0)), 12)  # 1 / pdf(1) = sqrt(2 pi)
    2.506628274631
"""
isf = _m["isf"]
isf.__doc__ = """The inverse survival function, ``loc + scale * exp(-s ndtri(q))``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.lognorm.isf(0.5, 0.7, 0.0, 3.0))
    3.0
"""
mean = _m["mean"]
mean.__doc__ = """The mean, ``loc + scale * exp(s**2 / 2)``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.lognorm.mean(1.0)), 12)
    1.6487212707
"""
var = _m["var"]
var.__doc__ = """The variance, ``scale**2 * (exp(s**2) - 1) exp(s**2)``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.lognorm.var(1.0)), 12)
    4.670774270472
"""
entropy = _m["entropy"]
entropy.__doc__ = """The differential entropy, ``(1 + log(2 pi)) / 2 + log(s) + log(scale)``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.lognorm.entropy(1.0)), 12)
    1.418938533205
"""
