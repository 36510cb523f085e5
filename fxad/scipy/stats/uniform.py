"""``fxad.scipy.stats.uniform``: the uniform distribution on ``[loc, loc +
scale]`` (SciPy's parametrisation), differentiable in every argument inside
the support.

Example:
    >>> import fxad, fxad.scipy.stats as fst
    >>> float(fxad.grad(fst.uniform.cdf, argnums=2)(1.0, 0.0, 4.0))  # -y / scale
    -0.0625
"""

from __future__ import annotations

import numpy as np

import fxad.numpy as fnp
from fxad.scipy.stats._loc_scale import methods

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf", "mean", "var",
           "entropy"]


def _logpdf(y, *, dt):
    return fnp.where((y >= 0) & (y <= 1), dt(0), dt(-np.inf))


def _cdf(y, *, dt):
    return fnp.where(y <= 0, dt(0), fnp.where(y >= 1, dt(1), y))


def _log_cdf(y, *, dt):
    inside = y > 0
    return fnp.where(inside, fnp.log(fnp.where(inside, _cdf(y, dt=dt), dt(1))), dt(-np.inf))


def _const(v):
    return lambda *, dt: dt(v)


_m = methods(
    "uniform", support=(0.0, 1.0), logpdf=_logpdf, cdf=_cdf, logcdf=_log_cdf,
    sf=lambda y, *, dt: _cdf(fnp.subtract(dt(1), y), dt=dt),
    logsf=lambda y, *, dt: _log_cdf(fnp.subtract(dt(1), y), dt=dt),
    ppf=lambda q, *, dt: q, isf=lambda q, *, dt: fnp.subtract(dt(1), q),
    mean=_const(0.5), var=_const(1 / 12), entropy=_const(0.0))

logpdf = _m["logpdf"]
logpdf.__doc__ = """``-log(scale)`` on ``[loc, loc + scale]``, ``-inf`` outside.

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.uniform.logpdf(1.0, 0.0, 2.0)), 12)
    -0.69314718056
"""
pdf = _m["pdf"]
pdf.__doc__ = """The density, ``1 / scale`` on the support, 0 outside.

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.uniform.pdf(1.0, 0.0, 2.0))
    0.5
"""
cdf = _m["cdf"]
cdf.__doc__ = """The CDF, ``y`` clipped to ``[0, 1]``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.uniform.cdf(0.25))
    0.25
"""
logcdf = _m["logcdf"]
logcdf.__doc__ = """The log CDF, ``log(cdf)``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.uniform.logcdf(0.5)), 12)
    -0.69314718056
"""
sf = _m["sf"]
sf.__doc__ = """The survival function, ``1 - y`` clipped to ``[0, 1]``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.uniform.sf(0.25))
    0.75
"""
logsf = _m["logsf"]
logsf.__doc__ = """The log survival function, ``log(sf)``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.uniform.logsf(0.5)), 12)
    -0.69314718056
"""
ppf = _m["ppf"]
ppf.__doc__ = """The quantile function, ``loc + scale * q``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.uniform.ppf(0.25, 1.0, 2.0))
    1.5
"""
isf = _m["isf"]
isf.__doc__ = """The inverse survival function, ``loc + scale * (1 - q)``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.uniform.isf(0.25, 1.0, 2.0))
    2.5
"""
mean = _m["mean"]
mean.__doc__ = """The mean, ``loc + scale / 2``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.uniform.mean(1.0, 2.0))
    2.0
"""
var = _m["var"]
var.__doc__ = """The variance, ``scale**2 / 12``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.uniform.var(0.0, 6.0))
    3.0
"""
entropy = _m["entropy"]
entropy.__doc__ = """The differential entropy, ``log(scale)``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.uniform.entropy())
    0.0
"""
