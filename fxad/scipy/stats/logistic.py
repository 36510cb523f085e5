"""``fxad.scipy.stats.logistic``: the logistic distribution, ``cdf(x) =
expit(y)`` with ``y = (x - loc) / scale``, differentiable in every argument.

Example:
    >>> import fxad, fxad.scipy.stats as fst
    >>> float(fxad.grad(fst.logistic.cdf)(0.0))  # the pdf at 0
    0.25
"""

from __future__ import annotations

import numpy as np

import fxad.numpy as fnp
from fxad.scipy.special import expit, log_expit, logit
from fxad.scipy.stats._loc_scale import methods

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf", "mean", "var",
           "entropy"]


def _logpdf(y, *, dt):
    # -|y| - 2 log1p(exp(-|y|)): no overflow of exp in either tail
    a = fnp.abs(y)
    return fnp.subtract(fnp.negative(a), fnp.multiply(dt(2), fnp.log1p(fnp.exp(fnp.negative(a)))))


def _const(v):
    return lambda *, dt: dt(v)


_m = methods(
    "logistic", logpdf=_logpdf, cdf=lambda y, *, dt: expit(y),
    logcdf=lambda y, *, dt: log_expit(y), sf=lambda y, *, dt: expit(fnp.negative(y)),
    logsf=lambda y, *, dt: log_expit(fnp.negative(y)), ppf=lambda q, *, dt: logit(q),
    isf=lambda q, *, dt: fnp.negative(logit(q)),
    mean=_const(0.0), var=_const(np.pi ** 2 / 3), entropy=_const(2.0))

logpdf = _m["logpdf"]
logpdf.__doc__ = """``-|y| - 2 log1p(exp(-|y|)) - log(scale)``, ``y = (x - loc) / scale``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.logistic.logpdf(0.0)), 12)  # log(1/4)
    -1.38629436112
"""
pdf = _m["pdf"]
pdf.__doc__ = """The density, ``exp(logpdf)``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.logistic.pdf(0.0))
    0.25
"""
cdf = _m["cdf"]
cdf.__doc__ = """The CDF, ``expit(y)``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.logistic.cdf(0.0))
    0.5
"""
logcdf = _m["logcdf"]
logcdf.__doc__ = """The log CDF, ``log_expit(y)`` (accurate in both tails).

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.logistic.logcdf(-800.0))
    -800.0
"""
sf = _m["sf"]
sf.__doc__ = """The survival function, ``expit(-y)``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.logistic.sf(0.0))
    0.5
"""
logsf = _m["logsf"]
logsf.__doc__ = """The log survival function, ``log_expit(-y)``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.logistic.logsf(800.0))
    -800.0
"""
ppf = _m["ppf"]
ppf.__doc__ = """The quantile function, ``loc + scale * logit(q)``.

Example:
    >>> import fxad, fxad.scipy.stats as fst
    >>> float(fst.logistic.ppf(0.5))
    0.0
    >>> float(fxad.grad(fst.logistic.ppf)(0.5))  # 1 / (q (1 - q))
    4.0
"""
isf = _m["isf"]
isf.__doc__ = """The inverse survival function, ``loc - scale * logit(q)``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.logistic.isf(0.25)), 12)  # log 3
    1.098612288668
"""
mean = _m["mean"]
mean.__doc__ = """The mean, ``loc``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.logistic.mean(2.0))
    2.0
"""
var = _m["var"]
var.__doc__ = """The variance, ``pi**2 scale**2 / 3``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.logistic.var()), 12)
    3.289868133696
"""
entropy = _m["entropy"]
entropy.__doc__ = """The differential entropy, ``2 + log(scale)``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.logistic.entropy())
    2.0
"""
