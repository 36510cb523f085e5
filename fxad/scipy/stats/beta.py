"""``fxad.scipy.stats.beta``: the beta distribution.  ``logpdf``/``pdf``
are differentiable in ``x``, ``a``, ``b``, ``loc`` and ``scale``;
``cdf``/``logcdf`` (``betainc``) in ``x``, ``loc`` and ``scale`` only:
differentiating them in ``a`` or ``b`` raises ``NotImplementedError``.

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
from fxad.scipy.stats._util import log_of, masked, promote, safe, standardize

__all__ = ["logpdf", "pdf", "cdf", "logcdf"]


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
