"""``fxad.scipy.stats.norm``: the normal distribution, differentiable in
``x``, ``loc`` and ``scale`` (SciPy's values and argument conventions: NaN
where ``scale <= 0``).

Example:
    >>> import fxad, fxad.scipy.stats as fst
    >>> round(float(fxad.grad(fst.norm.logpdf, argnums=2)(1.0, 0.0, 1.0)), 12)  # y**2 - 1
    0.0
"""

from __future__ import annotations

import scipy.stats as _st

import fxad.numpy as fnp
from fxad.lax import special as _lsp
from fxad.numpy._util import any_tracer
from fxad.scipy.special import ndtr as _ndtr
from fxad.scipy.stats._util import LOG_SQRT_2PI, masked, promote, safe, standardize

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf", "mean", "var",
           "entropy"]


def logpdf(x, loc=0, scale=1):
    """``-(x - loc)**2 / (2 scale**2) - log(sqrt(2 pi) scale)``.

    Example:
        >>> import fxad.scipy.stats as fst
        >>> round(float(fst.norm.logpdf(0.0)), 12)
        -0.918938533205
    """
    if not any_tracer(x, loc, scale):
        return _st.norm.logpdf(x, loc, scale)
    x, loc, scale, dt = promote(x, loc, scale)
    y, ok, scale = standardize(x, loc, scale, dt)
    out = fnp.subtract(fnp.multiply(dt(-0.5), fnp.square(y)),
                       fnp.add(dt(LOG_SQRT_2PI), fnp.log(scale)))
    return masked(out, ok, None, 0, dt)


def pdf(x, loc=0, scale=1):
    """The density, ``exp(logpdf)``.

    Example:
        >>> import fxad.scipy.stats as fst
        >>> round(float(fst.norm.pdf(0.0)), 12)
        0.398942280401
    """
    if not any_tracer(x, loc, scale):
        return _st.norm.pdf(x, loc, scale)
    return fnp.exp(logpdf(x, loc, scale))


def _standard(name, fn, sign):
    def f(x, loc=0, scale=1):
        if not any_tracer(x, loc, scale):
            return getattr(_st.norm, name)(x, loc, scale)
        x, loc, scale, dt = promote(x, loc, scale)
        y, ok, scale = standardize(x, loc, scale, dt)
        return masked(fn(fnp.multiply(dt(sign), y)), ok, None, 0, dt)

    f.__name__ = f.__qualname__ = name
    return f


cdf = _standard("cdf", _ndtr, 1)
cdf.__doc__ = """The CDF, ``ndtr((x - loc) / scale)``.

Example:
    >>> import fxad, fxad.scipy.stats as fst
    >>> round(float(fxad.grad(fst.norm.cdf)(0.0)), 12)
    0.398942280401
"""
logcdf = _standard("logcdf", _lsp.log_ndtr, 1)
logcdf.__doc__ = """The log CDF, ``log_ndtr((x - loc) / scale)`` (accurate in the tails).

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.norm.logcdf(-40.0)), 6)
    -804.608442
"""
sf = _standard("sf", _ndtr, -1)
sf.__doc__ = """The survival function ``1 - cdf``, as ``ndtr(-(x - loc) / scale)``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.norm.sf(10.0)), 30)
    7.619853e-24
"""
logsf = _standard("logsf", _lsp.log_ndtr, -1)
logsf.__doc__ = """The log survival function, ``log_ndtr(-(x - loc) / scale)``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.norm.logsf(0.0)), 12)
    -0.69314718056
"""


def _quantile(name, sign):
    def f(q, loc=0, scale=1):
        if not any_tracer(q, loc, scale):
            return getattr(_st.norm, name)(q, loc, scale)
        q, loc, scale, dt = promote(q, loc, scale)
        ok = scale > 0
        scale = safe(ok, scale, dt(1))
        # q outside [0, 1] is NaN (SciPy), as ndtri gives it
        out = fnp.add(loc, fnp.multiply(fnp.multiply(dt(sign), scale), _lsp.ndtri(q)))
        return masked(out, ok, None, 0, dt)

    f.__name__ = f.__qualname__ = name
    return f


ppf = _quantile("ppf", 1)
ppf.__doc__ = """The quantile function, ``loc + scale * ndtri(q)``.

Example:
    >>> import fxad, fxad.scipy.stats as fst
    >>> round(float(fst.norm.ppf(0.975)), 12)
    1.95996398454
"""
isf = _quantile("isf", -1)
isf.__doc__ = """The inverse survival function, ``loc - scale * ndtri(q)``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.norm.isf(0.025)), 12)
    1.95996398454
"""


def _moment(name, fn):
    def f(loc=0, scale=1):
        if not any_tracer(loc, scale):
            return getattr(_st.norm, name)(loc, scale)
        loc, scale, dt = promote(loc, scale)
        ok = scale > 0
        return masked(fn(loc, safe(ok, scale, dt(1)), dt), ok, None, 0, dt)

    f.__name__ = f.__qualname__ = name
    return f


mean = _moment("mean", lambda loc, scale, dt: loc)  # (promote broadcast loc with scale)
mean.__doc__ = """The mean, ``loc``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.norm.mean(1.5, 2.0))
    1.5
"""
var = _moment("var", lambda loc, scale, dt: fnp.square(scale))
var.__doc__ = """The variance, ``scale**2``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.norm.var(0.0, 3.0))
    9.0
"""
entropy = _moment("entropy", lambda loc, scale, dt: fnp.add(dt(0.5 + LOG_SQRT_2PI),
                                                            fnp.log(scale)))
entropy.__doc__ = """The differential entropy, ``(1 + log(2 pi)) / 2 + log(scale)``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.norm.entropy()), 12)
    1.418938533205
"""
