"""``fxad.scipy.stats.beta``: the beta distribution, differentiable in
``x``, ``a``, ``b``, ``loc`` and ``scale``.

Example:
    >>> import fxad, fxad.scipy.stats as fst
    >>> round(float(fst.beta.logpdf(0.5, 2.0, 2.0)), 12)  # log(6 / 4)
    0.405465108108
"""

from __future__ import annotations

import scipy.stats as _st

import fxad.numpy as fnp
from fxad.numpy._util import any_tracer
from fxad.scipy.special import betaln, xlog1py, xlogy
from fxad.scipy.stats._util import masked, promote, safe, standardize

__all__ = ["logpdf", "pdf"]


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
