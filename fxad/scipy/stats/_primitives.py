"""The quantile primitives of ``fxad.scipy.stats``: inverses of CDFs that no
composite of fxad's primitives computes.

Each continuous one, ``x = inverse(*params, q)`` with ``F(*params, x) = q``,
has SciPy's inverse (``scipy.special.gammaincinv``, ...) as its impl and its
JVP by the implicit function theorem from the forward function ``F`` alone:
``dx = (dq - sum_i dF/dparam_i dparam_i) / (dF/dx)``, both partial
derivatives being forward-mode derivatives of ``F`` at the output (held
fixed).  So ``dppf/dq = 1 / pdf(ppf)`` to every order, and the derivative in
a shape parameter exists exactly where ``F``'s does: today ``igamma`` and
``betainc`` raise ``NotImplementedError`` for their shape derivatives, and so
do ``gamma.ppf`` in ``a`` and ``beta.ppf`` in ``a``/``b``; once they have one,
the quantiles follow with no change here.

Student's t quantile ``stdtrit`` is built with ``inverse_primitive`` in
``fxad/scipy/stats/t.py``, next to the CDF it inverts.

``discrete_quantile`` is the quantile of a discrete distribution (Poisson,
binomial, negative binomial), SciPy's own values; it is piecewise constant in
every argument, so its derivative is zero.

All are elementwise over operands of one dtype and one shape (0-d operands
allowed); ``fxad.scipy.stats`` broadcasts.  Under ``jit`` they call their
impl.
"""

from __future__ import annotations

import numpy as np

from fxad.core import bind, new_primitive, shaped
from fxad.interpreters import ad
from fxad.lax import lax as _lax
from fxad.lax import special as _lsp
from fxad.lax.lax import _aval, def_strict, defbroadcasting

__all__ = ["inverse_primitive", "gammaincinv", "gammainccinv", "betaincinv", "betainccinv",
           "discrete_quantile"]


def _abstract_eval(name):
    def abstract_eval(*args, **params):
        for v in args:
            if not np.issubdtype(v.dtype, np.floating):
                raise TypeError(f"{name} requires real floating-point inputs, got "
                                f"{v.dtype.name}")
        if len({v.dtype for v in args}) > 1:
            raise TypeError(f"{name} requires operands of one dtype, got "
                            f"{', '.join(v.dtype.name for v in args)}")
        shapes = {v.shape for v in args if v.shape}
        if len(shapes) > 1:
            raise TypeError(
                f"{name} requires equal shapes or 0-d operands, got "
                f"{', '.join(v.str_short() for v in args)}; broadcast them first "
                "(fxad.scipy.stats does).")
        return shaped(shapes.pop() if shapes else (), args[-1].dtype)

    return abstract_eval


def _impl(fn):
    def impl(*args, **params):
        with np.errstate(all="ignore"):  # q outside [0, 1]: NaN, as SciPy
            out = np.asarray(fn(*args, **params))
        dtype = np.result_type(*args)
        out = out.astype(dtype) if out.dtype != dtype else out
        return out[()] if out.ndim == 0 else out

    return impl


def _partial(forward, args, i, t):
    """The forward-mode derivative of ``forward(*args)`` in argument ``i``
    along ``t`` (the other arguments held fixed)."""
    tangents = [ad.Zero.from_value(a) for a in args]
    tangents[i] = t
    _, (out_dot,) = ad.jvp_flat(lambda *xs: [forward(*xs)], list(args), tangents)
    return ad.instantiate(out_dot)


def _ones_like(x):
    aval = _aval(x)
    return np.ones(aval.shape, aval.dtype)[()]


def inverse_primitive(name, impl, forward):
    """A primitive ``x = name(*params, q)`` inverting ``q = forward(*params,
    x)`` elementwise; ``impl(*params, q)`` computes it on NumPy values."""
    p = new_primitive(name)
    p.def_impl(_impl(impl))
    p.def_abstract_eval(_abstract_eval(name))
    def_strict(p)

    def slope(ans, params):
        """``dF/dx`` at the output."""
        args = [*params, ans]
        return _partial(forward, args, len(params), _ones_like(ans))

    def jvp_q(t, ans, *args):
        return _lax.div(t, slope(ans, args[:-1]))

    def jvp_param(i):
        def rule(t, ans, *args):
            params = list(args[:-1])
            d_f = _partial(forward, [*params, ans], i, t)
            return _lax.neg(_lax.div(d_f, slope(ans, params)))

        return rule

    n_params = forward.__code__.co_argcount - 1
    ad.defjvp2(p, *[jvp_param(i) for i in range(n_params)], jvp_q)
    defbroadcasting(p)
    return p


def scipy_special(name):
    def fn(*args):
        from scipy import special

        return getattr(special, name)(*args)

    return fn


# ---------------------------------------------------------------------------
# The inverses of the regularized incomplete gamma functions (gamma.ppf/isf)

gammaincinv_p = inverse_primitive("gammaincinv", scipy_special("gammaincinv"),
                                  lambda a, x: _lsp.igamma(a, x))
gammainccinv_p = inverse_primitive("gammainccinv", scipy_special("gammainccinv"),
                                   lambda a, x: _lsp.igammac(a, x))


def gammaincinv(a, q):
    """``x`` with ``gammainc(a, x) == q``."""
    return bind(gammaincinv_p, a, q)


def gammainccinv(a, q):
    """``x`` with ``gammaincc(a, x) == q``."""
    return bind(gammainccinv_p, a, q)


# ---------------------------------------------------------------------------
# The inverses of the regularized incomplete beta function (beta.ppf/isf)

betaincinv_p = inverse_primitive("betaincinv", scipy_special("betaincinv"),
                                 lambda a, b, x: _lsp.betainc(a, b, x))
betainccinv_p = inverse_primitive("betainccinv", scipy_special("betainccinv"),
                                  lambda a, b, x: _lsp.betaincc(a, b, x))


def betaincinv(a, b, q):
    """``x`` with ``betainc(a, b, x) == q``."""
    return bind(betaincinv_p, a, b, q)


def betainccinv(a, b, q):
    """``x`` with ``betaincc(a, b, x) == q``."""
    return bind(betainccinv_p, a, b, q)


# ---------------------------------------------------------------------------
# Quantiles of the discrete distributions (piecewise constant: zero derivative)


def _discrete_impl(q, *params, dist, fn):
    import scipy.stats

    return getattr(getattr(scipy.stats, dist), fn)(q, *params)


discrete_quantile_p = new_primitive("discrete_quantile")
discrete_quantile_p.def_impl(_impl(_discrete_impl))
discrete_quantile_p.def_abstract_eval(_abstract_eval("discrete_quantile"))
def_strict(discrete_quantile_p)
ad.defjvp_zero(discrete_quantile_p)
defbroadcasting(discrete_quantile_p)


def discrete_quantile(q, *params, dist, fn):
    """``scipy.stats.<dist>.<fn>(q, *params)`` (``fn`` is ``"ppf"`` or
    ``"isf"``), as floats in ``q``'s dtype."""
    return bind(discrete_quantile_p, q, *params, dist=dist, fn=fn)
