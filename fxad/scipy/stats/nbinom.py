"""``fxad.scipy.stats.nbinom``: the negative binomial distribution, the
number of failures before the ``n``-th success of probability ``p`` (a real
``n > 0`` allowed, as SciPy), differentiable in ``n`` and ``p``
(``logpmf``/``pmf``) and in ``p`` (``cdf``/``sf``/``logcdf``/``logsf``,
``betainc(n, k + 1, p)``: their derivative in ``n`` raises
``NotImplementedError``, as ``betainc``'s in its shape does).  ``k`` is a
count (derivative zero); ``ppf``/``isf`` are SciPy's values, as floats.

Example:
    >>> import fxad, fxad.scipy.stats as fst
    >>> round(float(fxad.grad(fst.nbinom.logpmf, argnums=2)(2, 3, 0.5)), 12)  # n/p - k/(1-p)
    2.0
"""

from __future__ import annotations

import fxad.numpy as fnp
from fxad.lax import special as _lsp
from fxad.scipy.special import xlog1py, xlogy
from fxad.scipy.stats._discrete import methods
from fxad.scipy.stats._util import safe

__all__ = ["logpmf", "pmf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf", "mean", "var"]


def _ok(n, p):
    return (n > 0) & (p > 0) & (p <= 1)


def _safe(n, p, *, ok, dt):
    return safe(ok, n, dt(1)), safe(ok, p, dt(0.5))


def _logpmf(k, n, p, *, dt):
    log_choose = fnp.subtract(_lsp.lgamma(fnp.add(k, n)),
                              fnp.add(_lsp.lgamma(n), _lsp.lgamma(fnp.add(k, dt(1)))))
    return fnp.add(log_choose, fnp.add(xlogy(n, p), xlog1py(k, fnp.negative(p))))


def _cdf(k, n, p, *, dt):
    return _lsp.betainc(n, fnp.add(k, dt(1)), p)


def _sf(k, n, p, *, dt):
    return _lsp.betaincc(n, fnp.add(k, dt(1)), p)


def _mean(n, p, *, dt):
    return fnp.true_divide(fnp.multiply(n, fnp.subtract(dt(1), p)), p)


def _var(n, p, *, dt):
    return fnp.true_divide(fnp.multiply(n, fnp.subtract(dt(1), p)), fnp.square(p))


_m = methods(
    "nbinom", shapes=("n", "p"), params_ok=_ok, safe_params=_safe,
    upper=lambda n, p: float("inf"), logpmf=_logpmf, cdf=_cdf, sf=_sf,
    moments={"mean": _mean, "var": _var})

logpmf = _m["logpmf"]
logpmf.__doc__ = """``gammaln(k + n) - gammaln(n) - gammaln(k + 1) + xlogy(n, p) +
xlog1py(k, -p)`` for integer ``k - loc >= 0``, ``-inf`` elsewhere.

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.nbinom.logpmf(0, 2, 0.5)), 12)  # log(p**n)
    -1.38629436112
"""
pmf = _m["pmf"]
pmf.__doc__ = """The probability mass, ``exp(logpmf)``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.nbinom.pmf(1, 2, 0.5)), 12)
    0.25
"""
cdf = _m["cdf"]
cdf.__doc__ = """The CDF at ``floor(k - loc)``, ``betainc(n, k + 1, p)`` (SciPy's ``nbdtr``).

Example:
    >>> import fxad, fxad.scipy.stats as fst
    >>> round(float(fxad.grad(fst.nbinom.cdf, argnums=2)(0, 2, 0.5)), 12)  # n p**(n-1)
    1.0
"""
logcdf = _m["logcdf"]
logcdf.__doc__ = """The log CDF, ``log(cdf)`` (``log1p(-sf)`` where the CDF exceeds 1/2).

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.nbinom.logcdf(0, 2, 0.5)), 12)
    -1.38629436112
"""
sf = _m["sf"]
sf.__doc__ = """The survival function ``P(K > k)``, ``betaincc(n, k + 1, p)``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.nbinom.sf(0, 2, 0.5)), 12)
    0.75
"""
logsf = _m["logsf"]
logsf.__doc__ = """The log survival function, ``log(sf)``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.nbinom.logsf(0, 1, 0.5)), 12)  # log(1/2)
    -0.69314718056
"""
ppf = _m["ppf"]
ppf.__doc__ = """The quantile function: the least ``k`` with ``cdf(k) >= q``, as a float.

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.nbinom.ppf(0.5, 3.5, 0.3))
    7.0
"""
isf = _m["isf"]
isf.__doc__ = """The inverse survival function, as a float.

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.nbinom.isf(0.5, 3.5, 0.3))
    7.0
"""
mean = _m["mean"]
mean.__doc__ = """The mean, ``n (1 - p) / p + loc``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.nbinom.mean(2, 0.5))
    2.0
"""
var = _m["var"]
var.__doc__ = """The variance, ``n (1 - p) / p**2``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.nbinom.var(2, 0.5))
    4.0
"""
