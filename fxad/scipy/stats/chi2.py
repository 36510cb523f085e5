"""``fxad.scipy.stats.chi2``: the chi-squared distribution with ``df``
degrees of freedom.  ``logpdf``/``pdf`` are differentiable in ``x``, ``df``,
``loc`` and ``scale``; ``cdf``/``logcdf``/``sf`` (``gammainc(df / 2, x / 2)``) in
``x``, ``loc`` and ``scale`` only.

Example:
    >>> import fxad, fxad.scipy.stats as fst
    >>> round(float(fst.chi2.cdf(2.0, 2.0)), 12)  # 1 - exp(-1)
    0.632120558829
"""

from __future__ import annotations

import numpy as np
import scipy.stats as _st

import fxad.numpy as fnp
from fxad.lax import special as _lsp
from fxad.numpy._util import any_tracer
from fxad.scipy.special import xlogy
from fxad.scipy.stats._util import log_of, masked, promote, safe, standardize

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "sf"]


def logpdf(x, df, loc=0, scale=1):
    """``xlogy(df/2 - 1, y) - y/2 - gammaln(df/2) - df log(2) / 2 - log(scale)``,
    ``y = (x - loc) / scale``; ``-inf`` for ``y < 0``.

    Example:
        >>> import fxad, fxad.scipy.stats as fst
        >>> round(float(fst.chi2.logpdf(2.0, 2.0)), 12)  # log(exp(-1) / 2)
        -1.69314718056
    """
    if not any_tracer(x, df, loc, scale):
        return _st.chi2.logpdf(x, df, loc, scale)
    x, df, loc, scale, dt = promote(x, df, loc, scale)
    y, ok, scale = standardize(x, loc, scale, dt)
    ok = ok & (df > 0)
    inside = y >= 0
    y = safe(inside, y, dt(1))
    h = fnp.multiply(dt(0.5), safe(ok, df, dt(1)))
    out = fnp.subtract(xlogy(fnp.subtract(h, dt(1)), y), fnp.multiply(dt(0.5), y))
    out = fnp.subtract(out, fnp.add(fnp.add(_lsp.lgamma(h), fnp.multiply(dt(np.log(2)), h)),
                                    fnp.log(scale)))
    return masked(out, ok, inside, -float("inf"), dt)


def pdf(x, df, loc=0, scale=1):
    """The density, ``exp(logpdf)``.

    Example:
        >>> import fxad.scipy.stats as fst
        >>> round(float(fst.chi2.pdf(2.0, 2.0)), 12)
        0.183939720586
    """
    if not any_tracer(x, df, loc, scale):
        return _st.chi2.pdf(x, df, loc, scale)
    return fnp.exp(logpdf(x, df, loc, scale))


def _incomplete(name, lax_fn):
    def f(x, df, loc=0, scale=1):
        if not any_tracer(x, df, loc, scale):
            return getattr(_st.chi2, name)(x, df, loc, scale)
        x, df, loc, scale, dt = promote(x, df, loc, scale)
        y, ok, scale = standardize(x, loc, scale, dt)
        ok = ok & (df > 0)
        y = fnp.where(y > 0, y, dt(0))
        h = fnp.multiply(dt(0.5), safe(ok, df, dt(1)))
        return masked(lax_fn(h, fnp.multiply(dt(0.5), y)), ok, None, 0, dt)

    f.__name__ = f.__qualname__ = name
    return f


cdf = _incomplete("cdf", _lsp.igamma)
cdf.__doc__ = """The CDF, ``gammainc(df / 2, y / 2)`` (not differentiable in ``df``).

Example:
    >>> import fxad, fxad.scipy.stats as fst
    >>> round(float(fxad.grad(fst.chi2.cdf)(2.0, 2.0)), 12)  # the pdf
    0.183939720586
"""
sf = _incomplete("sf", _lsp.igammac)
sf.__doc__ = """The survival function, ``gammaincc(df / 2, y / 2)`` (not differentiable
in ``df``).

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.chi2.sf(2.0, 2.0)), 12)
    0.367879441171
"""


def logcdf(x, df, loc=0, scale=1):
    """The log CDF, ``log(gammainc(df / 2, y / 2))`` (``log1p(-gammaincc)``
    where the CDF exceeds 1/2), as ``gamma.logcdf``; not differentiable in ``df``.

    Example:
        >>> import fxad.scipy.stats as fst
        >>> round(float(fst.chi2.logcdf(2.0, 2.0)), 12)  # log(1 - exp(-1))
        -0.458675145387
    """
    if not any_tracer(x, df, loc, scale):
        return _st.chi2.logcdf(x, df, loc, scale)
    x, df, loc, scale, dt = promote(x, df, loc, scale)
    y, ok, scale = standardize(x, loc, scale, dt)
    ok = ok & (df > 0)
    inside = y > 0
    y = fnp.multiply(dt(0.5), safe(inside, y, dt(1)))
    h = fnp.multiply(dt(0.5), safe(ok, df, dt(1)))
    out = log_of(_lsp.igamma(h, y), _lsp.igammac(h, y), dt)
    return masked(out, ok, inside, -float("inf"), dt)
