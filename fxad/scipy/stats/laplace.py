"""``fxad.scipy.stats.laplace``: the Laplace (double exponential)
distribution, ``pdf(x) = exp(-|y|) / (2 scale)`` with ``y = (x - loc) / scale``,
differentiable in every argument; at ``y = 0``, where the density has a kink,
its derivative is the one from the right (``fxad.numpy.abs``'s convention at
0), while the CDF and the quantile are smooth there.

Example:
    >>> import fxad, fxad.scipy.stats as fst
    >>> float(fxad.grad(fst.laplace.logpdf)(2.0))  # -sign(y) / scale
    -1.0
"""

from __future__ import annotations

import numpy as np

import fxad.numpy as fnp
from fxad.scipy.stats._loc_scale import methods

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf", "mean", "var",
           "entropy"]

_LOG2 = np.log(2.0)


def _logpdf(y, *, dt):
    return fnp.subtract(fnp.negative(fnp.abs(y)), dt(_LOG2))


def _tails(y, dt):
    """``(y <= 0, y there (else 0), -y where y > 0 (else 0))``: each branch's
    own argument (no overflow of ``exp`` in the other branch, and the
    one-sided derivative of each at ``y == 0`` is the pdf)."""
    below = y <= 0
    return below, fnp.where(below, y, dt(0)), fnp.where(below, dt(0), fnp.negative(y))


def _cdf(y, *, dt):
    below, lo, hi = _tails(y, dt)
    half = dt(0.5)
    return fnp.where(below, fnp.multiply(half, fnp.exp(lo)),
                     fnp.subtract(dt(1), fnp.multiply(half, fnp.exp(hi))))


def _logcdf(y, *, dt):
    below, lo, hi = _tails(y, dt)
    return fnp.where(below, fnp.subtract(lo, dt(_LOG2)),
                     fnp.log1p(fnp.multiply(dt(-0.5), fnp.exp(hi))))


def _ppf(q, *, dt):
    low = q <= 0.5
    return fnp.where(low, fnp.log(fnp.multiply(dt(2), fnp.where(low, q, dt(0.5)))),
                     fnp.negative(fnp.log(fnp.multiply(dt(2), fnp.subtract(
                         dt(1), fnp.where(low, dt(0.5), q))))))


def _const(v):
    return lambda *, dt: dt(v)


_m = methods(
    "laplace", logpdf=_logpdf, cdf=_cdf, logcdf=_logcdf,
    sf=lambda y, *, dt: _cdf(fnp.negative(y), dt=dt),
    logsf=lambda y, *, dt: _logcdf(fnp.negative(y), dt=dt),
    ppf=_ppf, isf=lambda q, *, dt: fnp.negative(_ppf(q, dt=dt)),
    mean=_const(0.0), var=_const(2.0), entropy=_const(1.0 + _LOG2))

logpdf = _m["logpdf"]
logpdf.__doc__ = """``-|y| - log(2 scale)``, ``y = (x - loc) / scale``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.laplace.logpdf(0.0)), 12)  # -log 2
    -0.69314718056
"""
pdf = _m["pdf"]
pdf.__doc__ = """The density, ``exp(logpdf)``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.laplace.pdf(0.0))
    0.5
"""
cdf = _m["cdf"]
cdf.__doc__ = """The CDF: ``exp(y) / 2`` for ``y <= 0``, ``1 - exp(-y) / 2`` above.

Example:
    >>> import fxad, fxad.scipy.stats as fst
    >>> float(fxad.grad(fst.laplace.cdf)(0.0))  # the pdf
    0.5
"""
logcdf = _m["logcdf"]
logcdf.__doc__ = """The log CDF: ``y - log 2`` for ``y <= 0``, ``log1p(-exp(-y) / 2)`` above.

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.laplace.logcdf(-3.0)), 12)
    -3.69314718056
"""
sf = _m["sf"]
sf.__doc__ = """The survival function, the CDF at ``-y`` (the distribution is symmetric).

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.laplace.sf(1.0)), 12)
    0.183939720586
"""
logsf = _m["logsf"]
logsf.__doc__ = """The log survival function, the log CDF at ``-y``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.laplace.logsf(3.0)), 12)
    -3.69314718056
"""
ppf = _m["ppf"]
ppf.__doc__ = """The quantile function: ``log(2 q)`` for ``q <= 1/2``, ``-log(2 (1 - q))`` above.

Example:
    >>> import fxad, fxad.scipy.stats as fst
    >>> float(fst.laplace.ppf(0.5))
    0.0
    >>> float(fxad.grad(fst.laplace.ppf)(0.5))  # 1 / pdf(0)
    2.0
"""
isf = _m["isf"]
isf.__doc__ = """The inverse survival function, ``loc - scale * ppf_standard(q)``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.laplace.isf(0.25)), 12)  # log 2
    0.69314718056
"""
mean = _m["mean"]
mean.__doc__ = """The mean, ``loc``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.laplace.mean(1.5))
    1.5
"""
var = _m["var"]
var.__doc__ = """The variance, ``2 scale**2``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.laplace.var(0.0, 3.0))
    18.0
"""
entropy = _m["entropy"]
entropy.__doc__ = """The differential entropy, ``1 + log(2 scale)``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.laplace.entropy()), 12)
    1.69314718056
"""
