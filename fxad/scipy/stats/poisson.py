"""``fxad.scipy.stats.poisson``: the Poisson distribution, differentiable in
the rate ``mu`` (``k`` is a count: its derivative is zero).  ``ppf``/``isf``
are SciPy's (floats, as SciPy returns), piecewise constant in ``q`` and
``mu``: derivative zero in both, one in ``loc``.

Example:
    >>> import fxad, fxad.scipy.stats as fst
    >>> round(float(fxad.grad(fst.poisson.logpmf, argnums=1)(3, 2.0)), 12)  # k / mu - 1
    0.5
"""

from __future__ import annotations

import scipy.stats as _st

import fxad.numpy as fnp
from fxad.lax import special as _lsp
from fxad.numpy._util import any_tracer
from fxad.scipy.special import xlogy
from fxad.scipy.stats._primitives import discrete_quantile
from fxad.scipy.stats._util import log_of, masked, promote, safe

__all__ = ["logpmf", "pmf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf", "mean", "var"]


def logpmf(k, mu, loc=0):
    """``xlogy(k, mu) - gammaln(k + 1) - mu`` for integer ``k - loc >= 0``,
    ``-inf`` elsewhere; NaN for ``mu < 0``.

    Example:
        >>> import fxad.scipy.stats as fst
        >>> round(float(fst.poisson.logpmf(0, 2.0)), 12)
        -2.0
    """
    if not any_tracer(k, mu, loc):
        return _st.poisson.logpmf(k, mu, loc)
    k, mu, loc, dt = promote(k, mu, loc)
    k = fnp.stop_gradient(fnp.subtract(k, loc))
    ok = mu >= 0
    inside = (k >= 0) & (fnp.floor(k) == k)
    k = safe(inside, k, dt(0))
    mu = safe(ok, mu, dt(1))
    out = fnp.subtract(fnp.subtract(xlogy(k, mu), _lsp.lgamma(fnp.add(k, dt(1)))), mu)
    return masked(out, ok, inside, -float("inf"), dt)


def pmf(k, mu, loc=0):
    """The probability mass, ``exp(logpmf)``.

    Example:
        >>> import fxad.scipy.stats as fst
        >>> round(float(fst.poisson.pmf(1, 1.0)), 12)
        0.367879441171
    """
    if not any_tracer(k, mu, loc):
        return _st.poisson.pmf(k, mu, loc)
    return fnp.exp(logpmf(k, mu, loc))


def _tail(name, lax_fn, below):
    def f(k, mu, loc=0):
        if not any_tracer(k, mu, loc):
            return getattr(_st.poisson, name)(k, mu, loc)
        k, mu, loc, dt = promote(k, mu, loc)
        k = fnp.stop_gradient(fnp.floor(fnp.subtract(k, loc)))
        ok = mu >= 0
        inside = k >= 0
        a = fnp.add(safe(inside, k, dt(0)), dt(1))
        return masked(lax_fn(a, safe(ok, mu, dt(1))), ok, inside, below, dt)

    f.__name__ = f.__qualname__ = name
    return f


cdf = _tail("cdf", _lsp.igammac, 0.0)
cdf.__doc__ = """The CDF, ``gammaincc(floor(k - loc) + 1, mu)`` (SciPy's ``pdtr``).

Example:
    >>> import fxad, fxad.scipy.stats as fst
    >>> round(float(fxad.grad(fst.poisson.cdf, argnums=1)(0, 1.0)), 12)  # -exp(-mu)
    -0.367879441171
"""
sf = _tail("sf", _lsp.igamma, 1.0)
sf.__doc__ = """The survival function, ``gammainc(floor(k - loc) + 1, mu)`` (``pdtrc``).

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.poisson.sf(0, 1.0)), 12)
    0.632120558829
"""


def _log_tail(name, upper):
    def f(k, mu, loc=0):
        if not any_tracer(k, mu, loc):
            return getattr(_st.poisson, name)(k, mu, loc)
        k, mu, loc, dt = promote(k, mu, loc)
        k = fnp.stop_gradient(fnp.floor(fnp.subtract(k, loc)))
        ok = mu >= 0
        inside = k >= 0
        a = fnp.add(safe(inside, k, dt(0)), dt(1))
        mu = safe(ok, mu, dt(1))
        p, q = _lsp.igammac(a, mu), _lsp.igamma(a, mu)  # cdf, sf
        out = log_of(q, p, dt) if upper else log_of(p, q, dt)
        return masked(out, ok, inside, 0.0 if upper else -float("inf"), dt)

    f.__name__ = f.__qualname__ = name
    return f


logsf = _log_tail("logsf", True)
logsf.__doc__ = """The log survival function, ``log(gammainc(floor(k - loc) + 1, mu))``
(or ``log1p(-gammaincc(...))`` where it exceeds 1/2); 0 for ``k - loc < 0``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.poisson.logsf(0, 1.0)), 12)  # log(1 - exp(-1))
    -0.458675145387
"""


def _quantile(name):
    def f(q, mu, loc=0):
        if not any_tracer(q, mu, loc):
            return getattr(_st.poisson, name)(q, mu, loc)
        q, mu, loc, dt = promote(q, mu, loc)
        return fnp.add(discrete_quantile(q, mu, dist="poisson", fn=name), loc)

    f.__name__ = f.__qualname__ = name
    return f


ppf = _quantile("ppf")
ppf.__doc__ = """The quantile function: the least ``k`` with ``cdf(k) >= q``, as a float.

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.poisson.ppf(0.5, 3.0))
    3.0
"""
isf = _quantile("isf")
isf.__doc__ = """The inverse survival function: the least ``k`` with ``sf(k) <= q``, as a float.

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.poisson.isf(0.5, 3.0))
    3.0
"""


def _moment(name, shift):
    def f(mu, loc=0):
        if not any_tracer(mu, loc):
            return getattr(_st.poisson, name)(mu, loc)
        mu, loc, dt = promote(mu, loc)
        out = fnp.add(mu, loc) if shift else mu  # (promote broadcast mu with loc)
        return masked(out, mu >= 0, None, 0, dt)

    f.__name__ = f.__qualname__ = name
    return f


mean = _moment("mean", True)
mean.__doc__ = """The mean, ``mu + loc``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.poisson.mean(2.5))
    2.5
"""
var = _moment("var", False)
var.__doc__ = """The variance, ``mu``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.poisson.var(2.5, 1))
    2.5
"""


def logcdf(k, mu, loc=0):
    """The log CDF, ``log(gammaincc(floor(k - loc) + 1, mu))``, or
    ``log1p(-gammainc(...))`` where the CDF exceeds 1/2 (accurate where the CDF
    is near 1, unlike SciPy's ``log(cdf)``); ``-inf`` for ``k - loc < 0``.

    Example:
        >>> import fxad, fxad.scipy.stats as fst
        >>> round(float(fxad.grad(fst.poisson.logcdf, argnums=1)(0, 1.0)), 12)
        -1.0
    """
    if not any_tracer(k, mu, loc):
        return _st.poisson.logcdf(k, mu, loc)
    k, mu, loc, dt = promote(k, mu, loc)
    k = fnp.stop_gradient(fnp.floor(fnp.subtract(k, loc)))
    ok = mu >= 0
    inside = k >= 0
    a = fnp.add(safe(inside, k, dt(0)), dt(1))
    mu = safe(ok, mu, dt(1))
    out = log_of(_lsp.igammac(a, mu), _lsp.igamma(a, mu), dt)
    return masked(out, ok, inside, -float("inf"), dt)
