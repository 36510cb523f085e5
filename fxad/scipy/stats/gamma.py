"""``fxad.scipy.stats.gamma``: the gamma distribution with shape ``a``.

``logpdf``/``pdf`` are differentiable in ``x``, ``a``, ``loc`` and
``scale``; ``cdf``/``logcdf``/``sf``/``logsf`` (``gammainc``/``gammaincc``)
in ``x``, ``loc`` and ``scale``, and ``ppf``/``isf`` (the primitives
``gammaincinv``/``gammainccinv``, differentiated implicitly) in ``q``, ``loc``
and ``scale``; their derivative in ``a`` is that of ``gammainc`` in ``a``,
which raises ``NotImplementedError`` until ``fxad.lax.special.igamma`` has one.

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
from fxad.scipy.stats._primitives import gammainccinv, gammaincinv
from fxad.scipy.stats._util import log_of, masked, promote, safe, standardize

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf", "mean", "var",
           "entropy"]


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


def _log_tail(name, upper):
    def f(x, a, loc=0, scale=1):
        if not any_tracer(x, a, loc, scale):
            return getattr(_st.gamma, name)(x, a, loc, scale)
        x, a, loc, scale, dt = promote(x, a, loc, scale)
        y, ok, scale = standardize(x, loc, scale, dt)
        ok = ok & (a > 0)
        inside = y > 0
        y = safe(inside, y, dt(1))
        a = safe(ok, a, dt(1))
        p, q = _lsp.igamma(a, y), _lsp.igammac(a, y)
        out = log_of(q, p, dt) if upper else log_of(p, q, dt)
        return masked(out, ok, inside, 0.0 if upper else -float("inf"), dt)

    f.__name__ = f.__qualname__ = name
    return f


logcdf = _log_tail("logcdf", False)
logcdf.__doc__ = """The log CDF: ``log(gammainc(a, y))``, or ``log1p(-gammaincc(a, y))``
where the CDF exceeds 1/2 (accurate in the upper tail, where SciPy's
``log(cdf)`` is not); ``-inf`` for ``y <= 0``.  Not differentiable in ``a``.

Example:
    >>> import fxad, fxad.scipy.stats as fst
    >>> round(float(fxad.grad(fst.gamma.logcdf)(1.0, 1.0)), 12)  # pdf / cdf
    0.581976706869
"""
logsf = _log_tail("logsf", True)
logsf.__doc__ = """The log survival function, ``log(gammaincc(a, y))`` (or
``log1p(-gammainc(a, y))`` where the survival function exceeds 1/2); 0 for
``y <= 0``.  Not differentiable in ``a``.

Example:
    >>> import fxad, fxad.scipy.stats as fst
    >>> round(float(fxad.grad(fst.gamma.logsf)(1.0, 1.0)), 12)  # exponential: -1
    -1.0
"""


def _quantile(name, inverse):
    def f(q, a, loc=0, scale=1):
        if not any_tracer(q, a, loc, scale):
            return getattr(_st.gamma, name)(q, a, loc, scale)
        q, a, loc, scale, dt = promote(q, a, loc, scale)
        ok = (scale > 0) & (a > 0)
        scale = safe(ok, scale, dt(1))
        out = fnp.add(loc, fnp.multiply(scale, inverse(safe(ok, a, dt(1)), q)))
        return masked(out, ok, None, 0, dt)  # q outside [0, 1]: NaN from the inverse

    f.__name__ = f.__qualname__ = name
    return f


ppf = _quantile("ppf", gammaincinv)
ppf.__doc__ = """The quantile function, ``loc + scale * gammaincinv(a, q)``;
``d ppf / dq = 1 / pdf(ppf)``.

Example:
    >>> import fxad, fxad.scipy.stats as fst
    >>> round(float(fst.gamma.ppf(0.5, 1.0)), 12)  # exponential: log 2
    0.69314718056
    >>> round(float(fxad.grad(fst.gamma.ppf)(0.5, 1.0)), 12)  # 1 / pdf(log 2) = 2
    2.0
"""
isf = _quantile("isf", gammainccinv)
isf.__doc__ = """The inverse survival function, ``loc + scale * gammainccinv(a, q)``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.gamma.isf(0.5, 1.0)), 12)
    0.69314718056
"""


def _moment(name, fn):
    def f(a, loc=0, scale=1):
        if not any_tracer(a, loc, scale):
            return getattr(_st.gamma, name)(a, loc, scale)
        a, loc, scale, dt = promote(a, loc, scale)
        ok = (scale > 0) & (a > 0)
        out = fn(safe(ok, a, dt(1)), loc, safe(ok, scale, dt(1)), dt)
        return masked(out, ok, None, 0, dt)

    f.__name__ = f.__qualname__ = name
    return f


mean = _moment("mean", lambda a, loc, scale, dt: fnp.add(loc, fnp.multiply(a, scale)))
mean.__doc__ = """The mean, ``loc + a * scale``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.gamma.mean(2.0, 1.0, 3.0))
    7.0
"""
var = _moment("var", lambda a, loc, scale, dt: fnp.multiply(a, fnp.square(scale)))
var.__doc__ = """The variance, ``a * scale**2``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.gamma.var(2.0, 0.0, 3.0))
    18.0
"""
entropy = _moment("entropy", lambda a, loc, scale, dt: fnp.add(
    fnp.add(fnp.add(a, _lsp.lgamma(a)), fnp.multiply(fnp.subtract(dt(1), a), _lsp.digamma(a))),
    fnp.log(scale)))
entropy.__doc__ = """The differential entropy, ``a + gammaln(a) + (1 - a) digamma(a) + log(scale)``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.gamma.entropy(1.0)), 12)  # exponential: 1
    1.0
"""
