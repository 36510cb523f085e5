"""``fxad.scipy.stats.t``: Student's t distribution, differentiable in ``x``,
``df``, ``loc`` and ``scale``.

On traced values ``log(Gamma((df + 1) / 2) / Gamma(df / 2))`` is a difference
of ``gammaln``s (SciPy uses ``poch``): agreement with SciPy to ~1e-13 for
``df`` up to about 1e3, degrading (absolute error about 1e-16 times
``gammaln(df / 2)``) beyond.  ``df = inf`` gives the normal distribution.

``cdf``/``logcdf`` use the incomplete beta function as SciPy (Boost) does:
the lower tail ``P(T < -|t|)`` is ``betainc(df/2, 1/2, df / (df + t**2)) / 2``,
or ``betaincc(1/2, df/2, t**2 / (df + t**2)) / 2`` where ``t**2 < df / 2``
(no rounding of ``df / (df + t**2)`` near 1), and a cubic Taylor polynomial
where ``t**2 < 1e-8 min(1, df)`` (the incomplete-beta forms have a
``0 * inf`` derivative at ``t == 0``).  They are differentiable in ``x``,
``loc`` and ``scale``; differentiating them in ``df`` raises
``NotImplementedError``.  ``sf``/``logsf`` are the CDF's mirror image.
``ppf``/``isf`` go through the primitive ``stdtrit`` (SciPy's inverse, with
its derivative by implicit differentiation of ``cdf``: ``1 / pdf`` in ``q``;
in ``df`` it is ``cdf``'s, which raises ``NotImplementedError``).

Example:
    >>> import fxad, fxad.scipy.stats as fst
    >>> round(float(fst.t.logpdf(0.0, 1.0)), 12)  # Cauchy: -log(pi)
    -1.144729885849
"""

from __future__ import annotations

import numpy as np
import scipy.stats as _st

import fxad.numpy as fnp
from fxad.core import bind
from fxad.lax import special as _lsp
from fxad.numpy._util import any_tracer
from fxad.scipy.special import betaln
from fxad.scipy.special import ndtr as _ndtr
from fxad.scipy.stats._primitives import inverse_primitive, scipy_special
from fxad.scipy.stats._util import LOG_SQRT_2PI, masked, promote, safe, standardize

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf", "stdtrit", "mean",
           "var", "entropy"]


def logpdf(x, df, loc=0, scale=1):
    """``log Gamma((df+1)/2) - log Gamma(df/2) - log(pi df)/2
    - (df+1)/2 log1p(y**2/df) - log(scale)`` with ``y = (x - loc) / scale``.

    Example:
        >>> import fxad, fxad.scipy.stats as fst
        >>> round(float(fxad.grad(fst.t.logpdf)(1.0, 3.0)), 12)  # -(df+1) y / (df + y**2)
        -1.0
    """
    if not any_tracer(x, df, loc, scale):
        return _st.t.logpdf(x, df, loc, scale)
    x, df, loc, scale, dt = promote(x, df, loc, scale)
    y, ok, scale = standardize(x, loc, scale, dt)
    ok = ok & (df > 0)
    finite = fnp.isfinite(df)
    r = safe(finite & (df > 0), df, dt(1))
    half = dt(0.5)
    t_out = fnp.subtract(
        fnp.subtract(fnp.subtract(_lsp.lgamma(fnp.multiply(half, fnp.add(r, dt(1)))),
                                  _lsp.lgamma(fnp.multiply(half, r))),
                     fnp.multiply(half, fnp.log(fnp.multiply(r, dt(np.pi))))),
        fnp.multiply(fnp.multiply(half, fnp.add(r, dt(1))),
                     fnp.log1p(fnp.true_divide(fnp.square(y), r))))
    norm_out = fnp.subtract(fnp.multiply(dt(-0.5), fnp.square(y)), dt(LOG_SQRT_2PI))
    out = fnp.subtract(fnp.where(finite, t_out, norm_out), fnp.log(scale))
    return masked(out, ok, None, 0, dt)


def pdf(x, df, loc=0, scale=1):
    """The density, ``exp(logpdf)``.

    Example:
        >>> import fxad.scipy.stats as fst
        >>> round(float(fst.t.pdf(0.0, 1.0)), 12)  # 1 / pi
        0.318309886184
    """
    if not any_tracer(x, df, loc, scale):
        return _st.t.pdf(x, df, loc, scale)
    return fnp.exp(logpdf(x, df, loc, scale))


def _cdf_parts(x, df, loc, scale):
    """``(lower, y, ok, finite, dt)``: ``lower = P(T < -|y|)`` for finite
    ``df`` (made safe elsewhere), and the ``near`` Taylor value of the CDF."""
    x, df, loc, scale, dt = promote(x, df, loc, scale)
    y, ok, scale = standardize(x, loc, scale, dt)
    ok = ok & (df > 0)
    finite = fnp.isfinite(df)
    r = safe(finite & (df > 0), df, dt(1))
    half = dt(0.5)
    t2 = fnp.square(y)
    near = (t2 < dt(1e-8)) & (t2 < fnp.multiply(dt(1e-8), r))
    t2 = safe(near, dt(1), t2)
    small = r > fnp.multiply(dt(2), t2)
    s = fnp.add(r, t2)
    h = fnp.multiply(half, r)
    low = _lsp.betaincc(half, h, safe(small, fnp.true_divide(t2, s), half))
    high = _lsp.betainc(h, half, safe(small, half, fnp.true_divide(r, s)))
    lower = fnp.multiply(half, fnp.where(small, low, high))
    # cdf(y) = 1/2 + pdf(0) (y - (df + 1) / (6 df) y**3 + O(y**5))
    log_pdf0 = fnp.subtract(
        fnp.subtract(_lsp.lgamma(fnp.multiply(half, fnp.add(r, dt(1)))), _lsp.lgamma(h)),
        fnp.multiply(half, fnp.log(fnp.multiply(r, dt(np.pi)))))
    c = fnp.true_divide(fnp.add(r, dt(1)), fnp.multiply(dt(6), r))
    yn = safe(near, y, dt(0))
    taylor = fnp.multiply(fnp.exp(log_pdf0),
                          fnp.multiply(yn, fnp.subtract(dt(1), fnp.multiply(c, fnp.square(yn)))))
    return lower, taylor, near, y, ok, finite, dt


def cdf(x, df, loc=0, scale=1):
    """The CDF (see the module docstring); not differentiable in ``df``.

    Example:
        >>> import fxad, fxad.scipy.stats as fst
        >>> round(float(fst.t.cdf(1.0, 1.0)), 12)  # Cauchy: 3/4
        0.75
    """
    if not any_tracer(x, df, loc, scale):
        return _st.t.cdf(x, df, loc, scale)
    lower, taylor, near, y, ok, finite, dt = _cdf_parts(x, df, loc, scale)
    out = fnp.where(y > 0, fnp.subtract(dt(1), lower), lower)
    out = fnp.where(near, fnp.add(dt(0.5), taylor), out)
    return masked(fnp.where(finite, out, _ndtr(y)), ok, None, 0, dt)


def logcdf(x, df, loc=0, scale=1):
    """The log CDF: ``log`` of the lower tail for ``t < 0``, ``log1p(-upper
    tail)`` for ``t > 0`` (accurate in both tails, unlike SciPy's
    ``log(cdf)`` in the upper one); not differentiable in ``df``.

    Example:
        >>> import fxad, fxad.scipy.stats as fst
        >>> round(float(fxad.grad(fst.t.logcdf)(0.0, 1.0)), 12)  # pdf(0) / (1/2) = 2 / pi
        0.636619772368
    """
    if not any_tracer(x, df, loc, scale):
        return _st.t.logcdf(x, df, loc, scale)
    lower, taylor, near, y, ok, finite, dt = _cdf_parts(x, df, loc, scale)
    pos = y > 0
    out = fnp.where(pos, fnp.log1p(fnp.negative(safe(pos, lower, dt(0)))),
                    fnp.log(safe(pos, dt(0.5), lower)))
    out = fnp.where(near, fnp.log(fnp.add(dt(0.5), taylor)), out)
    return masked(fnp.where(finite, out, _lsp.log_ndtr(y)), ok, None, 0, dt)


def sf(x, df, loc=0, scale=1):
    """The survival function, ``cdf(-x, df, -loc, scale)`` (the t is symmetric).

    Example:
        >>> import fxad.scipy.stats as fst
        >>> round(float(fst.t.sf(1.0, 1.0)), 12)  # Cauchy: 1/4
        0.25
    """
    if not any_tracer(x, df, loc, scale):
        return _st.t.sf(x, df, loc, scale)
    return cdf(fnp.negative(x), df, fnp.negative(loc), scale)


def logsf(x, df, loc=0, scale=1):
    """The log survival function, ``logcdf(-x, df, -loc, scale)``.

    Example:
        >>> import fxad.scipy.stats as fst
        >>> round(float(fst.t.logsf(0.0, 4.0)), 12)  # log(1/2)
        -0.69314718056
    """
    if not any_tracer(x, df, loc, scale):
        return _st.t.logsf(x, df, loc, scale)
    return logcdf(fnp.negative(x), df, fnp.negative(loc), scale)


# The quantile: SciPy's stdtrit, differentiated through the CDF above.
stdtrit_p = inverse_primitive("stdtrit", scipy_special("stdtrit"), lambda df, y: cdf(y, df))


def stdtrit(df, q):
    """``y`` with ``t.cdf(y, df) == q`` (``scipy.special.stdtrit``).

    Example:
        >>> import fxad.scipy.stats as fst
        >>> round(float(fst.t.stdtrit(1.0, 0.75)), 12)  # Cauchy: tan(pi / 4)
        1.0
    """
    if not any_tracer(df, q):
        return scipy_special("stdtrit")(df, q)
    df, q, _ = promote(df, q)
    return _bind_stdtrit(df, q)


def _bind_stdtrit(df, q):
    return bind(stdtrit_p, df, q)


def _quantile(name, sign):
    def f(q, df, loc=0, scale=1):
        if not any_tracer(q, df, loc, scale):
            return getattr(_st.t, name)(q, df, loc, scale)
        q, df, loc, scale, dt = promote(q, df, loc, scale)
        ok = (scale > 0) & (df > 0)
        scale = safe(ok, scale, dt(1))
        y = _bind_stdtrit(safe(ok, df, dt(1)), q)
        # (SciPy's stdtrit gives +inf at both q = 0 and q = 1; t.ppf gives -inf at 0)
        y = fnp.where(q == 0, dt(-np.inf), y)
        out = fnp.add(loc, fnp.multiply(fnp.multiply(dt(sign), scale), y))
        return masked(out, ok, None, 0, dt)

    f.__name__ = f.__qualname__ = name
    return f


ppf = _quantile("ppf", 1)
ppf.__doc__ = """The quantile function, ``loc + scale * stdtrit(df, q)``.

Example:
    >>> import fxad, fxad.scipy.stats as fst
    >>> round(float(fst.t.ppf(0.75, 1.0)), 12)  # Cauchy: 1
    1.0
    >>> round(float(fxad.grad(fst.t.ppf)(0.75, 1.0)), 12)  # 1 / pdf(1) = 2 pi
    6.28318530718
"""
isf = _quantile("isf", -1)
isf.__doc__ = """The inverse survival function, ``loc - scale * stdtrit(df, q)`` (symmetry).

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.t.isf(0.25, 1.0)), 12)
    1.0
"""


def _moment(name, fn):
    def f(df, loc=0, scale=1):
        if not any_tracer(df, loc, scale):
            return getattr(_st.t, name)(df, loc, scale)
        df, loc, scale, dt = promote(df, loc, scale)
        ok = (scale > 0) & (df > 0)
        out = fn(safe(ok, df, dt(3)), loc, safe(ok, scale, dt(1)), dt)
        return masked(out, ok, None, 0, dt)

    f.__name__ = f.__qualname__ = name
    return f


def _mean(df, loc, scale, dt):
    return fnp.where(df > 1, loc, dt(np.inf))  # (SciPy's inf where the mean does not exist)


def _var(df, loc, scale, dt):
    finite = fnp.isfinite(df)
    big = df > 2
    r = fnp.where(big & finite, df, dt(3))
    ratio = fnp.where(finite, fnp.true_divide(r, fnp.subtract(r, dt(2))), dt(1))
    out = fnp.where(big, ratio, fnp.where(df > 1, dt(np.inf), dt(np.nan)))
    return fnp.multiply(out, fnp.square(scale))


def _entropy(df, loc, scale, dt):
    # SciPy's: the closed form below df = 100, its asymptotic series above
    # (where the closed form cancels), the normal's at df = inf
    norm_h = dt(0.5 + LOG_SQRT_2PI)
    big = df >= 100
    r = fnp.where(big, dt(3), df)
    half, half1 = fnp.multiply(dt(0.5), r), fnp.multiply(dt(0.5), fnp.add(r, dt(1)))
    regular = fnp.add(
        fnp.multiply(half1, fnp.subtract(_lsp.digamma(half1), _lsp.digamma(half))),
        fnp.add(fnp.multiply(dt(0.5), fnp.log(r)), betaln(half, dt(0.5))))
    u = fnp.true_divide(dt(1), fnp.where(big, df, dt(100)))  # 0 at df = inf
    series = dt(0)  # u + u**2/4 - u**3/6 - u**4/8 + 3 u**5/10 + u**6/4, by Horner
    for c in (1 / 4, 3 / 10, -1 / 8, -1 / 6, 1 / 4, 1.0):
        series = fnp.multiply(fnp.add(series, dt(c)), u)
    out = fnp.where(big, fnp.add(norm_h, series), regular)
    return fnp.add(out, fnp.log(scale))


mean = _moment("mean", _mean)
mean.__doc__ = """The mean, ``loc`` for ``df > 1`` (``inf`` otherwise, as SciPy's).

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.t.mean(3.0, 1.5))
    1.5
"""
var = _moment("var", _var)
var.__doc__ = """The variance, ``scale**2 df / (df - 2)`` for ``df > 2``; ``inf`` for
``1 < df <= 2``, NaN below (SciPy's).

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.t.var(4.0))
    2.0
"""
entropy = _moment("entropy", _entropy)
entropy.__doc__ = """The differential entropy, ``(df + 1)/2 (digamma((df + 1)/2) -
digamma(df/2)) + log(sqrt(df) B(df/2, 1/2)) + log(scale)`` (SciPy's asymptotic
series for ``df >= 100``).

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.t.entropy(1.0)), 12)  # Cauchy: log(4 pi)
    2.531024246969
"""
