"""``fxad.scipy.stats.expon``: the exponential distribution, ``pdf(x) =
exp(-y) / scale`` for ``y = (x - loc) / scale >= 0``, differentiable in
every argument (``x``, ``q``, ``loc``, ``scale``) away from ``y = 0``.

Example:
    >>> import fxad, fxad.scipy.stats as fst
    >>> float(fxad.grad(fst.expon.logpdf, argnums=2)(3.0, 0.0, 2.0))  # y / scale - 1 / scale
    0.25
"""

from __future__ import annotations

import numpy as np

import fxad.numpy as fnp
from fxad.scipy.stats._loc_scale import methods

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf", "mean", "var",
           "entropy"]


def _inside(y, dt):
    """``(y >= 0, y made safe (1) below the support)``."""
    inside = y >= 0
    return inside, fnp.where(inside, y, dt(1))


def _logpdf(y, *, dt):
    inside, y = _inside(y, dt)
    return fnp.where(inside, fnp.negative(y), dt(-np.inf))


def _cdf(y, *, dt):
    inside, y = _inside(y, dt)
    return fnp.where(inside, fnp.negative(fnp.expm1(fnp.negative(y))), dt(0))


def _logcdf(y, *, dt):
    inside = y > 0
    y = fnp.where(inside, y, dt(1))
    # log(1 - exp(-y)): log(-expm1(-y)) for small y, log1p(-exp(-y)) for large
    big = y > dt(np.log(2))
    out = fnp.where(big, fnp.log1p(fnp.negative(fnp.exp(fnp.negative(fnp.where(big, y, dt(1)))))),
                    fnp.log(fnp.negative(fnp.expm1(fnp.negative(fnp.where(big, dt(1), y))))))
    return fnp.where(inside, out, dt(-np.inf))


def _sf(y, *, dt):
    inside, y = _inside(y, dt)
    return fnp.where(inside, fnp.exp(fnp.negative(y)), dt(1))


def _logsf(y, *, dt):
    inside, y = _inside(y, dt)
    return fnp.where(inside, fnp.negative(y), dt(0))


def _const(v):
    return lambda *, dt: dt(v)


_m = methods(
    "expon", support=(0.0, np.inf), logpdf=_logpdf, cdf=_cdf, logcdf=_logcdf, sf=_sf,
    logsf=_logsf, ppf=lambda q, *, dt: fnp.negative(fnp.log1p(fnp.negative(q))),
    isf=lambda q, *, dt: fnp.negative(fnp.log(q)),
    mean=_const(1.0), var=_const(1.0), entropy=_const(1.0))

logpdf = _m["logpdf"]
logpdf.__doc__ = """``-y - log(scale)`` for ``y = (x - loc) / scale >= 0``, ``-inf`` below.

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.expon.logpdf(2.0))
    -2.0
"""
pdf = _m["pdf"]
pdf.__doc__ = """The density, ``exp(logpdf)``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.expon.pdf(1.0)), 12)
    0.367879441171
"""
cdf = _m["cdf"]
cdf.__doc__ = """The CDF, ``-expm1(-y)`` (0 below the support).

Example:
    >>> import fxad, fxad.scipy.stats as fst
    >>> round(float(fxad.grad(fst.expon.cdf)(1.0)), 12)  # the pdf
    0.367879441171
"""
logcdf = _m["logcdf"]
logcdf.__doc__ = """The log CDF, ``log(1 - exp(-y))`` (accurate for small and large ``y``).

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.expon.logcdf(1e-10)), 6)
    -23.025851
"""
sf = _m["sf"]
sf.__doc__ = """The survival function, ``exp(-y)`` (1 below the support).

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.expon.sf(1.0)), 12)
    0.367879441171
"""
logsf = _m["logsf"]
logsf.__doc__ = """The log survival function, ``-y`` (0 below the support).

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.expon.logsf(3.0, 1.0))
    -2.0
"""
ppf = _m["ppf"]
ppf.__doc__ = """The quantile function, ``loc - scale * log1p(-q)``.

Example:
    >>> import fxad, fxad.scipy.stats as fst
    >>> round(float(fst.expon.ppf(0.5)), 12)
    0.69314718056
    >>> float(fxad.grad(fst.expon.ppf)(0.5))  # 1 / (1 - q)
    2.0
"""
isf = _m["isf"]
isf.__doc__ = """The inverse survival function, ``loc - scale * log(q)``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.expon.isf(0.5)), 12)
    0.69314718056
"""
mean = _m["mean"]
mean.__doc__ = """The mean, ``loc + scale``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.expon.mean(1.0, 2.0))
    3.0
"""
var = _m["var"]
var.__doc__ = """The variance, ``scale**2``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.expon.var(0.0, 3.0))
    9.0
"""
entropy = _m["entropy"]
entropy.__doc__ = """The differential entropy, ``1 + log(scale)``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.expon.entropy())
    1.0
"""
