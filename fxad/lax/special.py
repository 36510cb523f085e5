"""Special-function primitives: one block each, named as in ``jax.lax`` where
JAX has the primitive (``erf``, ``erfc``, ``erf_inv``, ``lgamma``, ``digamma``,
``polygamma``, ``igamma``, ``igammac``), plus ``ndtri`` and ``log_ndtr``,
which keep the normal distribution's quantile and log-CDF accurate in the
tails where a composite of ``erf`` would not be.

The impls are SciPy's (``scipy.special``), imported lazily at call time, so
``import fxad`` does not need SciPy while values are float64-accurate.  Every
JVP rule is written with these primitives and those of ``fxad.lax``, so
derivatives exist to any order: ``lgamma' = digamma``, ``digamma' =
polygamma(1, .)``, ``polygamma(n, .)' = polygamma(n + 1, .)``.

``polygamma`` takes its order ``n`` as a static parameter (``jax.lax``
passes it as an array operand; a static integer is what the derivative
chain above needs).  ``igamma(a, x)`` (SciPy's ``gammainc``) and
``igammac(a, x)`` (``gammaincc``) are differentiable in ``x`` only: their
derivative in the shape ``a`` has no closed form, and asking for it raises
``NotImplementedError``.  Likewise the regularized incomplete beta function
``betainc(a, b, x)`` (SciPy's ``betainc``, ``I_x(a, b)``) and its complement
``betaincc(a, b, x) = 1 - I_x(a, b)`` (SciPy's ``betaincc``, accurate where
``I_x`` is near 1) are differentiable in ``x`` only (as in JAX).
"""

from __future__ import annotations

import numpy as np

from fxad.core import bind, new_primitive, shaped
from fxad.interpreters.ad import defjvp, defjvp2
from fxad.interpreters.batching import defbroadcasting, defvectorized
from fxad.lax.lax import (
    _aval,
    _bcast,
    _binop_abstract_eval,
    _c,
    _check_same_dtype,
    add,
    bitwise_and,
    eq,
    exp,
    log,
    log1p,
    mul,
    neg,
    select_n,
    sub,
)

__all__ = ["erf", "erfc", "erf_inv", "lgamma", "digamma", "polygamma", "igamma", "igammac",
           "betainc", "betaincc", "ndtri", "log_ndtr"]


def _scipy_impl(name):
    """``scipy.special.<name>`` in the input's dtype (imported at call time)."""

    def impl(*args, **params):
        from scipy import special

        return _as(getattr(special, name)(*args, **params), np.result_type(*args))

    impl.__name__ = f"_{name}_impl"
    return impl


def _as(out, dtype):
    """``out`` in ``dtype``; 0-d results as NumPy scalars, as NumPy's own."""
    out = np.asarray(out)
    if out.dtype != dtype:
        out = out.astype(dtype)
    return out[()] if out.ndim == 0 else out


def _real_unop_abstract_eval(name):
    def abstract_eval(x, **params):
        if not np.issubdtype(x.dtype, np.floating):
            raise TypeError(f"lax.{name} requires a real floating-point input, got "
                            f"{x.dtype.name}")
        return x

    return abstract_eval


def _special_unop(name, scipy_name):
    p = new_primitive(name)
    p.def_impl(_scipy_impl(scipy_name))
    p.def_abstract_eval(_real_unop_abstract_eval(name))
    defvectorized(p)
    return p


def _square(x):
    return mul(x, x)


# ---------------------------------------------------------------------------
# The error function and its inverse


def erf(x):
    return bind(erf_p, x)


def erfc(x):
    return bind(erfc_p, x)


def erf_inv(x):
    return bind(erf_inv_p, x)


_TWO_OVER_SQRT_PI = 2.0 / np.sqrt(np.pi)

erf_p = _special_unop("erf", "erf")
defjvp(erf_p, lambda t, x: mul(t, mul(_c(x, _TWO_OVER_SQRT_PI), exp(neg(_square(x))))))
erfc_p = _special_unop("erfc", "erfc")
defjvp(erfc_p, lambda t, x: mul(t, mul(_c(x, -_TWO_OVER_SQRT_PI), exp(neg(_square(x))))))
erf_inv_p = _special_unop("erf_inv", "erfinv")
# (erf^-1)'(x) = 1 / erf'(erf^-1(x)) = sqrt(pi) / 2 * exp(erf^-1(x) ** 2)
defjvp2(erf_inv_p,
        lambda t, ans, x: mul(t, mul(_c(x, 1 / _TWO_OVER_SQRT_PI), exp(_square(ans)))))

# ---------------------------------------------------------------------------
# The normal distribution's quantile and log-CDF


def ndtri(x):
    return bind(ndtri_p, x)


def log_ndtr(x):
    return bind(log_ndtr_p, x)


_LOG_SQRT_2PI = 0.5 * np.log(2 * np.pi)

ndtri_p = _special_unop("ndtri", "ndtri")
# 1 / pdf(ndtri(x)) = sqrt(2 pi) exp(ndtri(x) ** 2 / 2)
defjvp2(ndtri_p, lambda t, ans, x: mul(t, exp(add(mul(_c(x, 0.5), _square(ans)),
                                                  _c(x, _LOG_SQRT_2PI)))))
log_ndtr_p = _special_unop("log_ndtr", "log_ndtr")
# pdf(x) / cdf(x) = exp(-x**2 / 2 - log sqrt(2 pi) - log_ndtr(x)): no 0 / 0 in
# the lower tail, where both the pdf and the cdf underflow.
defjvp2(log_ndtr_p, lambda t, ans, x: mul(t, exp(sub(neg(add(mul(_c(x, 0.5), _square(x)),
                                                             _c(x, _LOG_SQRT_2PI))), ans))))

# ---------------------------------------------------------------------------
# The gamma function family


def lgamma(x):
    return bind(lgamma_p, x)


def digamma(x):
    return bind(digamma_p, x)


def polygamma(n: int, x):
    """The ``n``-th derivative of ``digamma`` (``n`` a static integer >= 0)."""
    return bind(polygamma_p, x, n=int(n))


lgamma_p = _special_unop("lgamma", "gammaln")
defjvp(lgamma_p, lambda t, x: mul(t, digamma(x)))
digamma_p = _special_unop("digamma", "psi")
defjvp(digamma_p, lambda t, x: mul(t, polygamma(1, x)))


def _polygamma_impl(x, *, n):
    from scipy import special

    return _as(special.psi(x) if n == 0 else special.polygamma(n, x), np.result_type(x))


def _polygamma_abstract_eval(x, *, n):
    if not isinstance(n, int) or n < 0:
        raise TypeError(f"lax.polygamma: the order n must be an integer >= 0, got {n!r}")
    return _real_unop_abstract_eval("polygamma")(x)


polygamma_p = new_primitive("polygamma")
polygamma_p.def_impl(_polygamma_impl)
polygamma_p.def_abstract_eval(_polygamma_abstract_eval)
defjvp(polygamma_p, lambda t, x, *, n: mul(t, polygamma(n + 1, x)))
defvectorized(polygamma_p)

# ---------------------------------------------------------------------------
# The regularized incomplete gamma functions, P(a, x) and Q(a, x) = 1 - P


def igamma(a, x):
    return bind(igamma_p, a, x)


def igammac(a, x):
    return bind(igammac_p, a, x)


def _igamma_density(a, x):
    """``dP(a, x)/dx = x**(a - 1) exp(-x) / Gamma(a)``, in log space (no
    overflow of ``x**(a - 1)``), and exactly ``exp(-x)`` at ``a == 1``
    including ``x == 0``."""
    shape = np.broadcast_shapes(_aval(a).shape, _aval(x).shape)
    am1 = sub(a, _c(a, 1))
    at_one = bitwise_and(eq(am1, _c(a, 0)), eq(x, _c(x, 0)))
    ones = np.ones(shape, _aval(x).dtype)
    safe_x = select_n(at_one, x if _aval(x).shape == shape else mul(x, ones), ones)
    log_pdf = sub(sub(mul(am1, log(safe_x)), x), lgamma(a))
    return exp(log_pdf)


def _no_shape_derivative(name, scipy_name):
    def rule(t, a, x):
        raise NotImplementedError(
            f"fxad: the derivative of {name}(a, x) (scipy.special.{scipy_name}) with respect "
            "to the shape parameter a is not implemented (it has no closed form). "
            "Differentiate with respect to x only, or hold a fixed with "
            "fxad.stop_gradient(a).")

    return rule


def _igamma_abstract_eval(name):
    binop = _binop_abstract_eval(name)

    def abstract_eval(a, x):
        if not np.issubdtype(a.dtype, np.floating):
            raise TypeError(f"lax.{name} requires real floating-point inputs, got "
                            f"{a.dtype.name}")
        return binop(a, x)

    return abstract_eval


igamma_p = new_primitive("igamma")
igamma_p.def_impl(_scipy_impl("gammainc"))
igamma_p.def_abstract_eval(_igamma_abstract_eval("igamma"))
defjvp(igamma_p, _no_shape_derivative("igamma", "gammainc"),
       lambda t, a, x: mul(t, _igamma_density(a, x)))
defbroadcasting(igamma_p)

igammac_p = new_primitive("igammac")
igammac_p.def_impl(_scipy_impl("gammaincc"))
igammac_p.def_abstract_eval(_igamma_abstract_eval("igammac"))
defjvp(igammac_p, _no_shape_derivative("igammac", "gammaincc"),
       lambda t, a, x: neg(mul(t, _igamma_density(a, x))))
defbroadcasting(igammac_p)

# ---------------------------------------------------------------------------
# The regularized incomplete beta function I_x(a, b) and its complement


def betainc(a, b, x):
    return bind(betainc_p, a, b, x)


def betaincc(a, b, x):
    return bind(betaincc_p, a, b, x)


def _betainc_density(a, b, x):
    """``dI_x(a, b)/dx = x**(a - 1) (1 - x)**(b - 1) / B(a, b)`` in log space
    (``B`` from ``lgamma``s).  ``(a - 1) log(x)`` is taken as 0 where ``a == 1``
    and ``x == 0`` (likewise ``(b - 1) log1p(-x)`` at ``b == 1``, ``x == 1``),
    so the density is finite there, with no NaN reaching a derivative; it is 0
    at ``x == 0`` for ``a > 1`` (at ``x == 1`` for ``b > 1``)."""
    shape = np.broadcast_shapes(_aval(a).shape, _aval(b).shape, _aval(x).shape)
    a, b, x = _bcast(a, shape), _bcast(b, shape), _bcast(x, shape)
    am1, bm1 = sub(a, _c(a, 1)), sub(b, _c(b, 1))
    zero, one = _c(x, 0), _c(x, 1)
    ones, zeros = np.ones(shape, _aval(x).dtype), np.zeros(shape, _aval(x).dtype)
    at_lo = bitwise_and(eq(am1, zero), eq(x, zero))
    at_hi = bitwise_and(eq(bm1, zero), eq(x, one))
    log_x = log(select_n(at_lo, x, ones))
    log_1mx = log1p(neg(select_n(at_hi, x, zeros)))
    log_beta = sub(add(lgamma(a), lgamma(b)), lgamma(add(a, b)))
    return exp(sub(add(mul(am1, log_x), mul(bm1, log_1mx)), log_beta))


def _no_beta_shape_derivative(name, scipy_name, arg):
    def rule(t, a, b, x):
        raise NotImplementedError(
            f"fxad: the derivative of {name}(a, b, x) (scipy.special.{scipy_name}) with "
            f"respect to the shape parameter {arg} is not implemented (as in JAX; it has no "
            f"closed form). Differentiate with respect to x only, or hold {arg} fixed with "
            f"fxad.stop_gradient({arg}).")

    return rule


def _ternary_abstract_eval(name):
    def abstract_eval(a, b, x):
        for v in (a, b, x):
            if not np.issubdtype(v.dtype, np.floating):
                raise TypeError(f"lax.{name} requires real floating-point inputs, got "
                                f"{v.dtype.name}")
        _check_same_dtype(name, a, b, x)
        shapes = {v.shape for v in (a, b, x) if v.shape}
        if len(shapes) > 1:
            raise TypeError(
                f"lax.{name} requires equal shapes or 0-d operands, got {a.str_short()}, "
                f"{b.str_short()} and {x.str_short()}; broadcast explicitly with "
                "broadcast_in_dim (fxad.numpy broadcasts for you).")
        return shaped(shapes.pop() if shapes else (), x.dtype)

    return abstract_eval


def _betainc_prim(name, scipy_name, sign):
    p = new_primitive(name)
    p.def_impl(_scipy_impl(scipy_name))
    p.def_abstract_eval(_ternary_abstract_eval(name))
    if sign > 0:
        jvp_x = lambda t, a, b, x: mul(t, _betainc_density(a, b, x))  # noqa: E731
    else:
        jvp_x = lambda t, a, b, x: neg(mul(t, _betainc_density(a, b, x)))  # noqa: E731
    defjvp(p, _no_beta_shape_derivative(name, scipy_name, "a"),
           _no_beta_shape_derivative(name, scipy_name, "b"), jvp_x)
    defbroadcasting(p)
    return p


betainc_p = _betainc_prim("betainc", "betainc", 1)
betaincc_p = _betainc_prim("betaincc", "betaincc", -1)
