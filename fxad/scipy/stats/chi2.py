"""``fxad.scipy.stats.chi2``: the chi-squared distribution with ``df``
degrees of freedom, which is ``gamma`` with ``a = df / 2`` and twice the scale:
traced calls go through ``fxad.scipy.stats.gamma``.  ``logpdf``/``pdf`` are
differentiable in ``x``, ``df``, ``loc`` and ``scale``;
``cdf``/``logcdf``/``sf``/``logsf`` (``gammainc(df / 2, x / 2)``) in ``x``,
``loc`` and ``scale``, ``ppf``/``isf`` in ``q``, ``loc`` and ``scale``
(in ``df`` as far as ``gammainc``'s derivative in its shape exists).

Example:
    >>> import fxad, fxad.scipy.stats as fst
    >>> round(float(fst.chi2.cdf(2.0, 2.0)), 12)  # 1 - exp(-1)
    0.632120558829
"""

from __future__ import annotations

import scipy.stats as _st

from fxad.numpy._util import any_tracer
from fxad.scipy.stats import gamma as _gamma

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf", "mean", "var",
           "entropy"]


def _as_gamma(name, doc):
    gamma_fn = getattr(_gamma, name)

    def f(x, df, loc=0, scale=1):
        if not any_tracer(x, df, loc, scale):
            return getattr(_st.chi2, name)(x, df, loc, scale)
        return gamma_fn(x, df * 0.5, loc, scale * 2.0)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = doc
    return f


logpdf = _as_gamma("logpdf", """The log density (``gamma.logpdf(x, df / 2, loc, 2 scale)``);
``-inf`` below ``loc``.

Example:
    >>> import fxad, fxad.scipy.stats as fst
    >>> round(float(fst.chi2.logpdf(2.0, 2.0)), 12)  # log(exp(-1) / 2)
    -1.69314718056
""")
pdf = _as_gamma("pdf", """The density, ``exp(logpdf)``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.chi2.pdf(2.0, 2.0)), 12)
    0.183939720586
""")
cdf = _as_gamma("cdf", """The CDF, ``gammainc(df / 2, y / 2)`` (not differentiable in ``df``).

Example:
    >>> import fxad, fxad.scipy.stats as fst
    >>> round(float(fxad.grad(fst.chi2.cdf)(2.0, 2.0)), 12)  # the pdf
    0.183939720586
""")
sf = _as_gamma("sf", """The survival function, ``gammaincc(df / 2, y / 2)`` (not
differentiable in ``df``).

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.chi2.sf(2.0, 2.0)), 12)
    0.367879441171
""")
logcdf = _as_gamma("logcdf", """The log CDF, as ``gamma.logcdf``; not differentiable in ``df``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.chi2.logcdf(2.0, 2.0)), 12)  # log(1 - exp(-1))
    -0.458675145387
""")
logsf = _as_gamma("logsf", """The log survival function, as ``gamma.logsf``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.chi2.logsf(2.0, 2.0)), 12)  # -y / 2
    -1.0
""")
ppf = _as_gamma("ppf", """The quantile function, ``loc + 2 scale gammaincinv(df / 2, q)``.

Example:
    >>> import fxad, fxad.scipy.stats as fst
    >>> round(float(fst.chi2.ppf(0.5, 2.0)), 12)  # 2 log 2
    1.38629436112
    >>> round(float(fxad.grad(fst.chi2.ppf)(0.5, 2.0)), 12)  # 1 / pdf
    4.0
""")
isf = _as_gamma("isf", """The inverse survival function, ``loc + 2 scale gammainccinv(df / 2, q)``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.chi2.isf(0.5, 2.0)), 12)
    1.38629436112
""")


def _moment_as_gamma(name, doc):
    gamma_fn = getattr(_gamma, name)

    def f(df, loc=0, scale=1):
        if not any_tracer(df, loc, scale):
            return getattr(_st.chi2, name)(df, loc, scale)
        return gamma_fn(df * 0.5, loc, scale * 2.0)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = doc
    return f


mean = _moment_as_gamma("mean", """The mean, ``loc + df * scale``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.chi2.mean(3.0))
    3.0
""")
var = _moment_as_gamma("var", """The variance, ``2 df scale**2``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> float(fst.chi2.var(3.0))
    6.0
""")
entropy = _moment_as_gamma("entropy", """The differential entropy, as
``gamma.entropy(df / 2, loc, 2 scale)``.

Example:
    >>> import fxad.scipy.stats as fst
    >>> round(float(fst.chi2.entropy(2.0)), 12)  # exponential of scale 2: 1 + log 2
    1.69314718056
""")
