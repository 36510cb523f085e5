"""``fxad.scipy.stats.cauchy``: the Cauchy distribution, ``pdf(x) = 1 / (pi
scale (1 + y**2))`` with ``y = (x - loc) / scale``, differentiable in every
argument.

The CDF is ``arctan2(1, -y) / pi`` (SciPy: ``1/2 + arctan(y) / pi``): the
same values, but accurate far in the lower tail, where SciPy's loses all
digits to cancellation; likewise the survival function, and the quantiles
(``-cot(pi q)`` in the lower tail, where SciPy's ``tan(pi q - pi/2)`` loses
digits).  The mean and the
variance are NaN, as SciPy's.

Example:
    >>> import fxad, fxad.scipy.stats as fst
    >>> float(fxad.grad(fst.cauchy.logpdf)(1.0))  # -2 y / (1 + y**2)
    -1.0
"""

from __future__ import annotations

import numpy as np

import fxad.numpy as fnp
from fxad.scipy.stats._loc_scale import methods

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf", "mean", "var",
           "entropy"]


def _logpdf(y, *, dt):
    return fnp.negative(fnp.add(dt(np.log(np.pi)), fnp.log1p(fnp.square(y))))


def _cdf(y, *, dt):
    return fnp.true_divide(fnp.arctan2(dt(1), fnp.negative(y)), dt(np.pi))


def _ppf(q, dt):
    """``tan(pi (q - 1/2))`` in the middle, ``-cot(pi q)`` and ``cot(pi (1 - q))``
    in the tails (where ``q - 1/2`` would round away the digits of ``q``)."""
    pi = dt(np.pi)
    low, high = q < 0.25, q > 0.75
    mid = fnp.where(low | high, dt(0.5), q)
    lo = fnp.where(low, q, dt(0.25))
    hi = fnp.subtract(dt(1), fnp.where(high, q, dt(0.75)))
    return fnp.where(low, fnp.negative(fnp.true_divide(dt(1), fnp.tan(fnp.multiply(pi, lo)))),
                     fnp.where(high, fnp.true_divide(dt(1), fnp.tan(fnp.multiply(pi, hi))),
                               fnp.tan(fnp.multiply(pi, fnp.subtract(mid, dt(0.5))))))


def _const(v):
    return lambda *, dt: dt(v)


_m = methods(
    "cauchy", logpdf=_logpdf, cdf=_cdf, logcdf=lambda y, *, dt: fnp.log(_cdf(y, dt=dt)),
    sf=lambda y, *, dt: _cdf(fnp.negative(y), dt=dt),
    logsf=lambda y, *, dt: fnp.log(_cdf(fnp.negative(y), dt=dt)),
    ppf=lambda q, *, dt: _ppf(q, dt), isf=lambda q, *, dt: fnp.negative(_ppf(q, dt)),
    mean=_const(np.nan), var=_const(np.nan), entropy=_const(np.log(4 * np.pi)))

logpdf = _m["logpdf"]
logpdf.__doc__ = """``-log(pi scale (1 + y**2))``, ``y = (x - loc) / scale``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.cauchy.logpdf(0.0)), 12)  # -log(pi)
    -1.144729885849
"""
pdf = _m["pdf"]
pdf.__doc__ = """The density, ``exp(logpdf)``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.cauchy.pdf(1.0)), 12)  # 1 / (2 pi)
    0.159154943092
"""
cdf = _m["cdf"]
cdf.__doc__ = """The CDF, ``arctan2(1, -y) / pi``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.cauchy.cdf(1.0))
    0.75
"""
logcdf = _m["logcdf"]
logcdf.__doc__ = """The log CDF, ``log(cdf)``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.cauchy.logcdf(-1.0)), 12)  # log(1/4)
    -1.38629436112
"""
sf = _m["sf"]
sf.__doc__ = """The survival function, ``arctan2(1, y) / pi``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.cauchy.sf(1.0))
    0.25
"""
logsf = _m["logsf"]
logsf.__doc__ = """The log survival function, ``log(sf)``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.cauchy.logsf(1.0)), 12)
    -1.38629436112
"""
ppf = _m["ppf"]
ppf.__doc__ = """The quantile function, ``loc + scale * tan(pi (q - 1/2))``.

Example:
    >>> import fxad, fxad.scipy.stats as fst
    >>> round(float(fst.cauchy.ppf(0.75)), 12)
    1.0
    >>> round(float(fxad.grad(fst.cauchy.ppf)(0.5)), 12)  # 1 / pdf(0) = pi
    3.14159265359
"""
isf = _m["isf"]
isf.__doc__ = """The inverse survival function, ``loc + scale * tan(pi (1/2 - q))``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.cauchy.isf(0.25)), 12)
    1.0
"""
mean = _m["mean"]
mean.__doc__ = """The mean: NaN (it does not exist), as SciPy's.

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.cauchy.mean())
    nan
"""
var = _m["var"]
var.__doc__ = """The variance: NaN, as SciPy's.

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.cauchy.var())
    nan
"""
entropy = _m["entropy"]
entropy.__doc__ = """The differential entropy, ``log(4 pi scale)``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.cauchy.entropy()), 12)
    2.531024246969
"""
