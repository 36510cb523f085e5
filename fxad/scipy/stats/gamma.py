"""``fxad.scipy.stats.gamma``: the gamma distribution with shape ``a``.

``logpdf``/``pdf`` are differentiable in ``x``, ``a``, ``loc`` and
``scale``; ``cdf``/``logcdf``/``sf`` (``gammainc``/``gammaincc``) in ``x``,
``loc`` and ``scale`` only: differentiating them in ``a`` raises ``NotImplementedError``.

Example:
    >>> import fxad, fxad.scipy.stats as fst
    >>> round(float(fxad.grad(fst.gamma.logpdf)(2.0, 3.0)), 12)  # (a - 1) / x - 1
    0.0
"""

from __future__ import annotations

import scipy.stats as _st

import fxad.numpy as fnp
from fxad.lax import special as _lsp
from fxad.numpy._util import any_tracer
from fxad.scipy.special import xlogy
from fxad.scipy.stats._util import log_of, masked, promote, safe, standardize

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "sf"]


def logpdf(x, a, loc=0, scale=1):
    """``xlogy(a - 1, y) - y - gammaln(a) - log(scale)``, ``y = (x - loc) / scale``;
    ``-inf`` for ``y < 0``.

    Example:
        >>> import fxad.scipy.stats as fst
        >>> round(float(fst.gamma.logpdf(1.0, 1.0)), 12)
        -1.0
    """
    if not any_tracer(x, a, loc, scale):
        return _st.gamma.logpdf(x, a, loc, scale)
    x, a, loc, scale, dt = promote(x, a, loc, scale)
    y, ok, scale = standardize(x, loc, scale, dt)
    ok = ok & (a > 0)
    inside = y >= 0
    y = safe(inside, y, dt(1))
    a = safe(ok, a, dt(1))
    out = fnp.subtract(fnp.subtract(xlogy(fnp.subtract(a, dt(1)), y), y),
                       fnp.add(_lsp.lgamma(a), fnp.log(scale)))
    return masked(out, ok, inside, -float("inf"), dt)


def pdf(x, a, loc=0, scale=1):
    """The density, ``exp(logpdf)``.

    Example:
        >>> import fxad.scipy.stats as fst
        >>> round(float(fst.gamma.pdf(1.0, 1.0)), 12)
        0.367879441171
    """
    if not any_tracer(x, a, loc, scale):
        return _st.gamma.pdf(x, a, loc, scale)
    return fnp.exp(logpdf(x, a, loc, scale))


def _incomplete(name, lax_fn):
    def f(x, a, loc=0, scale=1):
        if not any_tracer(x, a, loc, scale):
            return getattr(_st.gamma, name)(x, a, loc, scale)
        x, a, loc, scale, dt = promote(x, a, loc, scale)
        y, ok, scale = standardize(x, loc, scale, dt)
        ok = ok & (a > 0)
        # below the support the cdf is 0 and the sf 1: P(a, 0) and Q(a, 0)
        y = fnp.where(y > 0, y, dt(0))
        return masked(lax_fn(safe(ok, a, dt(1)), y), ok, None, 0, dt)

    f.__name__ = f.__qualname__ = name
    return f


cdf = _incomplete("cdf", _lsp.igamma)
cdf.__doc__ = """The CDF, ``gammainc(a, (x - loc) / scale)`` (not differentiable in ``a``).

Example:
    >>> import fxad, fxad.scipy.stats as fst
    >>> round(float(fxad.grad(fst.gamma.cdf)(1.0, 1.0)), 12)  # the pdf
    0.367879441171
"""
sf = _incomplete("sf", _lsp.igammac)
sf.__doc__ = """The survival function, ``gammaincc(a, (x - loc) / scale)`` (not
differentiable in ``a``).

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.gamma.sf(1.0, 1.0)), 12)
    0.367879441171
"""


def logcdf(x, a, loc=0, scale=1):
    """The log CDF: ``log(gammainc(a, y))``, or ``log1p(-gammaincc(a, y))``
    where the CDF exceeds 1/2 (accurate in the upper tail, where SciPy's
    ``log(cdf)`` is not); ``-inf`` for ``y <= 0``.  Not differentiable in ``a``.

    Example:
        >>> import fxad, fxad.scipy.stats as fst
        >>> round(float(fxad.grad(fst.gamma.logcdf)(1.0, 1.0)), 12)  # pdf / cdf
        0.581976706869
    """
    if not any_tracer(x, a, loc, scale):
        return _st.gamma.logcdf(x, a, loc, scale)
    x, a, loc, scale, dt = promote(x, a, loc, scale)
    y, ok, scale = standardize(x, loc, scale, dt)
    ok = ok & (a > 0)
    inside = y > 0
    y = safe(inside, y, dt(1))
    a = safe(ok, a, dt(1))
    out = log_of(_lsp.igamma(a, y), _lsp.igammac(a, y), dt)
    return masked(out, ok, inside, -float("inf"), dt)
