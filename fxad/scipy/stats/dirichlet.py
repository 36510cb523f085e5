"""``fxad.scipy.stats.dirichlet``: the Dirichlet distribution, differentiable
in ``x`` and ``alpha``.

As SciPy: ``alpha`` has shape ``(K,)``; ``x`` has the components along its
first axis, ``K`` of them or ``K - 1`` (the last is then ``1 - sum``), and
the points along the remaining axes.  SciPy's checks of the values of ``x``
(in the simplex) and ``alpha`` (positive) run on concrete arguments; traced
values are not inspected.

Example:
    >>> import fxad, fxad.scipy.stats as fst, numpy as np
    >>> round(float(fst.dirichlet.logpdf(np.array([0.2, 0.3, 0.5]), np.ones(3))), 12)  # log 2!
    0.69314718056
"""

from __future__ import annotations

import numpy as np
import scipy.stats as _st

import fxad.numpy as fnp
from fxad.numpy._util import any_tracer, shape_of
from fxad.scipy.special import digamma, gammaln, xlogy
from fxad.scipy.stats._util import promote

__all__ = ["logpdf", "pdf", "mean", "var", "entropy"]


def _check(x, alpha):
    a_shape, x_shape = shape_of(alpha), shape_of(x)
    if len(a_shape) != 1:
        raise ValueError(f"Parameter vector 'a' must be one dimensional, but a.shape = "
                         f"{a_shape}.")
    if not x_shape or x_shape[0] not in (a_shape[0], a_shape[0] - 1):
        raise ValueError("Vector 'x' must have either the same number of entries as, or one "
                         f"entry fewer than, parameter vector 'a', but alpha.shape = "
                         f"{a_shape} and x.shape = {x_shape}.")
    if not any_tracer(alpha) and np.min(alpha) <= 0:
        raise ValueError("All parameters must be greater than 0")


def logpdf(x, alpha):
    """``sum((alpha - 1) log x) - (sum(gammaln(alpha)) - gammaln(sum(alpha)))``.

    Example:
        >>> import fxad, fxad.scipy.stats as fst, numpy as np
        >>> fxad.grad(fst.dirichlet.logpdf)(np.array([0.25, 0.75]), np.array([2.0, 4.0]))
        array([4., 4.])
    """
    if not any_tracer(x, alpha):
        return _st.dirichlet.logpdf(x, alpha)
    x, alpha, dt = promote(x, alpha, broadcast=False)
    _check(x, alpha)
    if shape_of(x)[0] != shape_of(alpha)[0]:
        rest = fnp.subtract(dt(1), fnp.sum(x, axis=0, keepdims=True))
        x = fnp.concatenate([x, rest], axis=0)
    nd = fnp.ndim(x)
    alpha_b = fnp.reshape(alpha, shape_of(alpha) + (1,) * (nd - 1))
    ln_b = fnp.subtract(fnp.sum(gammaln(alpha)), gammaln(fnp.sum(alpha)))
    return fnp.subtract(fnp.sum(xlogy(fnp.subtract(alpha_b, dt(1)), x), axis=0), ln_b)


def pdf(x, alpha):
    """The density, ``exp(logpdf)``.

    Example:
        >>> import fxad.scipy.stats as fst, numpy as np
        >>> round(float(fst.dirichlet.pdf(np.array([0.5, 0.5]), np.array([2.0, 2.0]))), 12)
        1.5
    """
    if not any_tracer(x, alpha):
        return _st.dirichlet.pdf(x, alpha)
    return fnp.exp(logpdf(x, alpha))


def _alpha(alpha):
    alpha, dt = promote(alpha, broadcast=False)
    shape = shape_of(alpha)
    if len(shape) != 1:
        raise ValueError(f"Parameter vector 'a' must be one dimensional, but a.shape = "
                         f"{shape}.")
    return alpha, fnp.sum(alpha), dt


def mean(alpha):
    """The mean, ``alpha / sum(alpha)``.

    Example:
        >>> import fxad.scipy.stats as fst, numpy as np
        >>> fst.dirichlet.mean(np.array([1.0, 3.0]))
        array([0.25, 0.75])
    """
    if not any_tracer(alpha):
        return _st.dirichlet.mean(alpha)
    alpha, a0, _ = _alpha(alpha)
    return fnp.true_divide(alpha, a0)


def var(alpha):
    """The variances of the components, ``alpha (a0 - alpha) / (a0**2 (a0 + 1))``
    with ``a0 = sum(alpha)``.

    Example:
        >>> import fxad.scipy.stats as fst, numpy as np
        >>> fst.dirichlet.var(np.array([1.0, 1.0]))  # uniform on [0, 1]: 1/12
        array([0.08333333, 0.08333333])
    """
    if not any_tracer(alpha):
        return _st.dirichlet.var(alpha)
    alpha, a0, dt = _alpha(alpha)
    return fnp.true_divide(fnp.multiply(alpha, fnp.subtract(a0, alpha)),
                           fnp.multiply(fnp.square(a0), fnp.add(a0, dt(1))))


def entropy(alpha):
    """The differential entropy, ``log B(alpha) + (a0 - K) digamma(a0) -
    sum((alpha - 1) digamma(alpha))``.

    Example:
        >>> import fxad.scipy.stats as fst, numpy as np
        >>> round(float(fst.dirichlet.entropy(np.ones(3))), 12)  # -log(2!)
        -0.69314718056
    """
    if not any_tracer(alpha):
        return _st.dirichlet.entropy(alpha)
    alpha, a0, dt = _alpha(alpha)
    k = shape_of(alpha)[0]
    ln_b = fnp.subtract(fnp.sum(gammaln(alpha)), gammaln(a0))
    return fnp.subtract(fnp.add(ln_b, fnp.multiply(fnp.subtract(a0, dt(k)), digamma(a0))),
                        fnp.sum(fnp.multiply(fnp.subtract(alpha, dt(1)), digamma(alpha))))
