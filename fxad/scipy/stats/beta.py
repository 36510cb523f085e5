"""``fxad.scipy.stats.beta``: the beta distribution.  ``logpdf``/``pdf``
are differentiable in ``x``, ``a``, ``b``, ``loc`` and ``scale``;
``cdf``/``logcdf``/``sf``/``logsf`` (``betainc``/``betaincc``) in ``x``,
``loc`` and ``scale``, ``ppf``/``isf`` (the primitives
``betaincinv``/``betainccinv``, differentiated implicitly) in ``q``, ``loc``
and ``scale``: differentiating them in ``a`` or ``b`` raises
``NotImplementedError`` (as ``betainc``'s shape derivative does).

Example:
    >>> import fxad, fxad.scipy.stats as fst
    >>> round(float(fst.beta.logpdf(0.5, 2.0, 2.0)), 12)  # log(6 / 4)
    0.405465108108
"""

from __future__ import annotations

import numpy as np
import scipy.stats as _st

import fxad.numpy as fnp
from fxad.lax import special as _lsp
from fxad.numpy._util import any_tracer
from fxad.scipy.special import betaln, xlog1py, xlogy
from fxad.scipy.stats._primitives import betainccinv, betaincinv
from fxad.scipy.stats._util import log_of, masked, promote, safe, standardize

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf", "mean", "var",
           "entropy"]


def logpdf(x, a, b, loc=0, scale=1):
    """``xlog1py(b - 1, -y) + xlogy(a - 1, y) - betaln(a, b) - log(scale)``,
    ``y = (x - loc) / scale``; ``-inf`` outside ``[0, 1]``.

    Example:
        >>> import fxad, fxad.scipy.stats as fst
        >>> round(float(fxad.grad(fst.beta.logpdf)(0.25, 2.0, 2.0)), 12)  # 1/y - 1/(1-y)
        2.666666666667
    """
    if not any_tracer(x, a, b, loc, scale):
        return _st.beta.logpdf(x, a, b, loc, scale)
    x, a, b, loc, scale, dt = promote(x, a, b, loc, scale)
    y, ok, scale = standardize(x, loc, scale, dt)
    ok = ok & (a > 0) & (b > 0)
    inside = (y >= 0) & (y <= 1)
    y = safe(inside, y, dt(0.5))
    a = safe(ok, a, dt(1))
    b = safe(ok, b, dt(1))
    out = fnp.add(xlog1py(fnp.subtract(b, dt(1)), fnp.negative(y)),
                  xlogy(fnp.subtract(a, dt(1)), y))
    out = fnp.subtract(out, fnp.add(betaln(a, b), fnp.log(scale)))
    return masked(out, ok, inside, -float("inf"), dt)


def pdf(x, a, b, loc=0, scale=1):
    """The density, ``exp(logpdf)``.

    Example:
        >>> import fxad.scipy.stats as fst
        >>> round(float(fst.beta.pdf(0.5, 2.0, 2.0)), 12)
        1.5
    """
    if not any_tracer(x, a, b, loc, scale):
        return _st.beta.pdf(x, a, b, loc, scale)
    return fnp.exp(logpdf(x, a, b, loc, scale))


def _incomplete(x, a, b, loc, scale):
    """``(I_y(a, b), 1 - I_y(a, b), y, inside, ok, dt)`` with ``y`` made safe
    (1/2) outside ``(0, 1)``, where the caller masks the result."""
    x, a, b, loc, scale, dt = promote(x, a, b, loc, scale)
    y, ok, scale = standardize(x, loc, scale, dt)
    ok = ok & (a > 0) & (b > 0)
    inside = (y > 0) & (y < 1)
    ys = safe(inside, y, dt(0.5))
    a, b = safe(ok, a, dt(1)), safe(ok, b, dt(1))
    return _lsp.betainc(a, b, ys), _lsp.betaincc(a, b, ys), y, inside, ok, dt


def cdf(x, a, b, loc=0, scale=1):
    """The CDF, ``betainc(a, b, y)`` (0 below the support, 1 above); not
    differentiable in ``a`` or ``b``.

    Example:
        >>> import fxad, fxad.scipy.stats as fst
        >>> round(float(fxad.grad(fst.beta.cdf)(0.5, 2.0, 3.0)), 12)  # the pdf
        1.5
    """
    if not any_tracer(x, a, b, loc, scale):
        return _st.beta.cdf(x, a, b, loc, scale)
    p, _, y, inside, ok, dt = _incomplete(x, a, b, loc, scale)
    outside = fnp.where(y >= 1, dt(1), fnp.where(y <= 0, dt(0), y))  # (NaN stays NaN)
    return masked(fnp.where(inside, p, outside), ok, None, 0, dt)


def logcdf(x, a, b, loc=0, scale=1):
    """The log CDF, ``log(betainc(a, b, y))``, or ``log1p(-betaincc(a, b, y))``
    where the CDF exceeds 1/2 (accurate near the top of the support, where
    SciPy's ``log(cdf)`` is not); not differentiable in ``a`` or ``b``.

    Example:
        >>> import fxad.scipy.stats as fst
        >>> round(float(fst.beta.logcdf(0.5, 1.0, 1.0)), 12)  # log(1/2)
        -0.69314718056
    """
    if not any_tracer(x, a, b, loc, scale):
        return _st.beta.logcdf(x, a, b, loc, scale)
    p, q, y, inside, ok, dt = _incomplete(x, a, b, loc, scale)
    outside = fnp.where(y >= 1, dt(0), fnp.where(y <= 0, dt(-np.inf), y))
    return masked(fnp.where(inside, log_of(p, q, dt), outside), ok, None, 0, dt)


def sf(x, a, b, loc=0, scale=1):
    """The survival function, ``betaincc(a, b, y)`` (1 below the support, 0
    above); not differentiable in ``a`` or ``b``.

    Example:
        >>> import fxad, fxad.scipy.stats as fst
        >>> round(float(fxad.grad(fst.beta.sf)(0.5, 2.0, 3.0)), 12)  # -pdf
        -1.5
    """
    if not any_tracer(x, a, b, loc, scale):
        return _st.beta.sf(x, a, b, loc, scale)
    _, q, y, inside, ok, dt = _incomplete(x, a, b, loc, scale)
    outside = fnp.where(y >= 1, dt(0), fnp.where(y <= 0, dt(1), y))
    return masked(fnp.where(inside, q, outside), ok, None, 0, dt)


def logsf(x, a, b, loc=0, scale=1):
    """The log survival function, ``log(betaincc(a, b, y))`` (or
    ``log1p(-betainc(a, b, y))`` where it exceeds 1/2); not differentiable in
    ``a`` or ``b``.

    Example:
        >>> import fxad.scipy.stats as fst
        >>> round(float(fst.beta.logsf(0.5, 1.0, 1.0)), 12)  # log(1/2)
        -0.69314718056
    """
    if not any_tracer(x, a, b, loc, scale):
        return _st.beta.logsf(x, a, b, loc, scale)
    p, q, y, inside, ok, dt = _incomplete(x, a, b, loc, scale)
    outside = fnp.where(y >= 1, dt(-np.inf), fnp.where(y <= 0, dt(0), y))
    return masked(fnp.where(inside, log_of(q, p, dt), outside), ok, None, 0, dt)


def _quantile(name, inverse):
    def f(q, a, b, loc=0, scale=1):
        if not any_tracer(q, a, b, loc, scale):
            return getattr(_st.beta, name)(q, a, b, loc, scale)
        q, a, b, loc, scale, dt = promote(q, a, b, loc, scale)
        ok = (scale > 0) & (a > 0) & (b > 0)
        scale = safe(ok, scale, dt(1))
        y = inverse(safe(ok, a, dt(1)), safe(ok, b, dt(1)), q)
        return masked(fnp.add(loc, fnp.multiply(scale, y)), ok, None, 0, dt)

    f.__name__ = f.__qualname__ = name
    return f


ppf = _quantile("ppf", betaincinv)
ppf.__doc__ = """The quantile function, ``loc + scale * betaincinv(a, b, q)``;
``d ppf / dq = 1 / pdf(ppf)``; not differentiable in ``a`` or ``b``.

Example:
    >>> import fxad, fxad.scipy.stats as fst
    >>> round(float(fst.beta.ppf(0.25, 1.0, 1.0)), 12)  # uniform
    0.25
    >>> round(float(fxad.grad(fst.beta.ppf)(0.5, 2.0, 2.0)), 12)  # 1 / pdf(1/2)
    0.666666666667
"""
isf = _quantile("isf", betainccinv)
isf.__doc__ = """The inverse survival function, ``loc + scale * betainccinv(a, b, q)``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.beta.isf(0.25, 1.0, 1.0)), 12)
    0.75
"""


def _moment(name, fn):
    def f(a, b, loc=0, scale=1):
        if not any_tracer(a, b, loc, scale):
            return getattr(_st.beta, name)(a, b, loc, scale)
        a, b, loc, scale, dt = promote(a, b, loc, scale)
        ok = (scale > 0) & (a > 0) & (b > 0)
        out = fn(safe(ok, a, dt(1)), safe(ok, b, dt(1)), loc, safe(ok, scale, dt(1)), dt)
        return masked(out, ok, None, 0, dt)

    f.__name__ = f.__qualname__ = name
    return f


def _mean(a, b, loc, scale, dt):
    return fnp.add(loc, fnp.multiply(scale, fnp.true_divide(a, fnp.add(a, b))))


def _var(a, b, loc, scale, dt):
    s = fnp.add(a, b)
    return fnp.true_divide(fnp.multiply(fnp.multiply(a, b), fnp.square(scale)),
                           fnp.multiply(fnp.square(s), fnp.add(s, dt(1))))


def _entropy(a, b, loc, scale, dt):
    s = fnp.add(a, b)
    out = fnp.subtract(betaln(a, b), fnp.multiply(fnp.subtract(a, dt(1)), _lsp.digamma(a)))
    out = fnp.subtract(out, fnp.multiply(fnp.subtract(b, dt(1)), _lsp.digamma(b)))
    out = fnp.add(out, fnp.multiply(fnp.subtract(s, dt(2)), _lsp.digamma(s)))
    return fnp.add(out, fnp.log(scale))


mean = _moment("mean", _mean)
mean.__doc__ = """The mean, ``loc + scale * a / (a + b)``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.beta.mean(1.0, 3.0))
    0.25
"""
var = _moment("var", _var)
var.__doc__ = """The variance, ``a b scale**2 / ((a + b)**2 (a + b + 1))``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.beta.var(1.0, 1.0)), 12)  # uniform: 1/12
    0.083333333333
"""
entropy = _moment("entropy", _entropy)
entropy.__doc__ = """The differential entropy, ``betaln(a, b) - (a - 1) digamma(a) -
(b - 1) digamma(b) + (a + b - 2) digamma(a + b) + log(scale)``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.beta.entropy(1.0, 1.0)), 12)  # uniform: 0
    0.0
"""
