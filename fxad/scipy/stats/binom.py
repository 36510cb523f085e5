"""``fxad.scipy.stats.binom``: the binomial distribution, ``n`` trials of
success probability ``p``, differentiable in ``p``.  ``k`` and ``n`` are
counts (SciPy requires an integer ``n``): their derivatives are zero.  The
CDF is SciPy's ``bdtr``, ``betaincc(k + 1, n - k, p)``, and the survival
function ``betainc(k + 1, n - k, p)``; ``ppf``/``isf`` are SciPy's values
(floats), piecewise constant in ``q`` and ``p``.

Example:
    >>> import fxad, fxad.scipy.stats as fst
    >>> round(float(fxad.grad(fst.binom.logpmf, argnums=2)(3, 10, 0.5)), 12)  # k/p - (n-k)/(1-p)
    -8.0
"""

from __future__ import annotations

import fxad.numpy as fnp
from fxad.lax import special as _lsp
from fxad.scipy.special import xlog1py, xlogy
from fxad.scipy.stats._discrete import methods
from fxad.scipy.stats._util import safe

__all__ = ["logpmf", "pmf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf", "mean", "var"]


def _ok(n, p):
    return (n >= 0) & (fnp.floor(n) == n) & (p >= 0) & (p <= 1)


def _safe(n, p, *, ok, dt):
    return fnp.stop_gradient(safe(ok, n, dt(1))), safe(ok, p, dt(0.5))


def _logpmf(k, n, p, *, dt):
    one = dt(1)
    log_choose = fnp.subtract(_lsp.lgamma(fnp.add(n, one)),
                              fnp.add(_lsp.lgamma(fnp.add(k, one)),
                                      _lsp.lgamma(fnp.add(fnp.subtract(n, k), one))))
    return fnp.add(log_choose, fnp.add(xlogy(k, p), xlog1py(fnp.subtract(n, k), fnp.negative(p))))


def _cdf(k, n, p, *, dt):
    return _lsp.betaincc(fnp.add(k, dt(1)), fnp.subtract(n, k), p)


def _sf(k, n, p, *, dt):
    return _lsp.betainc(fnp.add(k, dt(1)), fnp.subtract(n, k), p)


_m = methods(
    "binom", shapes=("n", "p"), params_ok=_ok, safe_params=_safe, upper=lambda n, p: n,
    logpmf=_logpmf, cdf=_cdf, sf=_sf,
    moments={"mean": lambda n, p, *, dt: fnp.multiply(n, p),
             "var": lambda n, p, *, dt: fnp.multiply(fnp.multiply(n, p),
                                                     fnp.subtract(dt(1), p))})

logpmf = _m["logpmf"]
logpmf.__doc__ = """``log C(n, k) + xlogy(k, p) + xlog1py(n - k, -p)`` for integer
``0 <= k - loc <= n``, ``-inf`` elsewhere; NaN for invalid ``n`` or ``p``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.binom.logpmf(0, 2, 0.5)), 12)  # log(1/4)
    -1.38629436112
"""
pmf = _m["pmf"]
pmf.__doc__ = """The probability mass, ``exp(logpmf)``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.binom.pmf(1, 2, 0.5)), 12)
    0.5
"""
cdf = _m["cdf"]
cdf.__doc__ = """The CDF at ``floor(k - loc)``, ``betaincc(k + 1, n - k, p)``.

Example:
    >>> import fxad, fxad.scipy.stats as fst
    >>> round(float(fxad.grad(fst.binom.cdf, argnums=2)(0, 2, 0.5)), 12)  # -n (1 - p)**(n-1)
    -1.0
"""
logcdf = _m["logcdf"]
logcdf.__doc__ = """The log CDF, ``log(cdf)`` (``log1p(-sf)`` where the CDF exceeds 1/2).

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.binom.logcdf(0, 2, 0.5)), 12)
    -1.38629436112
"""
sf = _m["sf"]
sf.__doc__ = """The survival function ``P(K > k)``, ``betainc(k + 1, n - k, p)``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.binom.sf(1, 2, 0.5)), 12)
    0.25
"""
logsf = _m["logsf"]
logsf.__doc__ = """The log survival function, ``log(sf)`` (``log1p(-cdf)`` where ``sf``
exceeds 1/2).

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.binom.logsf(1, 2, 0.5)), 12)
    -1.38629436112
"""
ppf = _m["ppf"]
ppf.__doc__ = """The quantile function: the least ``k`` with ``cdf(k) >= q``, as a float.

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.binom.ppf(0.5, 10, 0.3))
    3.0
"""
isf = _m["isf"]
isf.__doc__ = """The inverse survival function, as a float.

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.binom.isf(0.5, 10, 0.3))
    3.0
"""
mean = _m["mean"]
mean.__doc__ = """The mean, ``n p + loc``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.binom.mean(10, 0.3))
    3.0
"""
var = _m["var"]
var.__doc__ = """The variance, ``n p (1 - p)``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.binom.var(10, 0.5))
    2.5
"""
