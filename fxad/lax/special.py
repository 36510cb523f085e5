"""Special-function primitives: one block each, named as in ``jax.lax`` where
JAX has the primitive (``erf``, ``erfc``, ``erf_inv``, ``lgamma``, ``digamma``,
``polygamma``, ``igamma``, ``igammac``, ``igamma_grad_a``, ``bessel_i0e``,
``bessel_i1e``, ``zeta``), plus ``ndtri`` and ``log_ndtr``, which keep the
normal distribution's quantile and log-CDF accurate in the tails where a
composite of ``erf`` would not be, and the rest of what ``scipy.special``
users differentiate: ``erfc_inv``, ``gamma``, ``rgamma``, ``gammasgn``,
``loggamma``, ``beta``, ``betaln``, the Bessel functions ``bessel_*`` and
``riemann_zeta``/``zeta_deriv``.

The impls are SciPy's (``scipy.special``), imported lazily at call time, so
``import fxad`` does not need SciPy while values are float64-accurate; the
two with no SciPy counterpart (``igamma_grad_a``, ``zeta_deriv``) are NumPy
code here.  None has a jit emitter: the generated code calls the impl.  Every
JVP rule is written with these primitives and those of ``fxad.lax``, so
derivatives exist to any order: ``lgamma' = digamma``, ``digamma' =
polygamma(1, .)``, ``polygamma(n, .)' = polygamma(n + 1, .)``, the Bessel
recurrences, ``zeta_deriv(n)' = zeta_deriv(n + 1)``.  The exceptions:
complex ``digamma`` (so complex ``loggamma``) has a first derivative only,
and ``igamma_grad_a`` has no derivative in ``a``.

``polygamma`` takes its order ``n`` as a static parameter (``jax.lax``
passes it as an array operand; a static integer is what the derivative
chain above needs).  ``igamma(a, x)`` (SciPy's ``gammainc``) and
``igammac(a, x)`` (``gammaincc``) are differentiable in ``x`` to any order
and in the shape ``a`` to first order (``igamma_grad_a``).  The Bessel
functions are not differentiable in their order.  The regularized
incomplete beta function ``betainc(a, b, x)`` (SciPy's ``betainc``,
``I_x(a, b)``) and its complement ``betaincc(a, b, x) = 1 - I_x(a, b)``
(SciPy's ``betaincc``, accurate where ``I_x`` is near 1) are differentiable
in ``x`` only (as in JAX).
"""

from __future__ import annotations

import math

import numpy as np

from fxad.core import bind, new_primitive, shaped
from fxad.interpreters.ad import defjvp, defjvp2, defjvp_zero
from fxad.interpreters.batching import batch_rules, defvectorized, not_mapped
from fxad.lax.lax import (
    _aval,
    _bcast,
    _binop_abstract_eval,
    _c,
    _check_same_dtype,
    _real_float_operand,
    add,
    bitwise_and,
    broadcast_in_dim,
    concatenate,
    cos,
    def_strict,
    defbroadcasting,
    div,
    eq,
    exp,
    expand_dims,
    le,
    log,
    log1p,
    loop_batch_rule,
    moveaxis,
    mul,
    neg,
    reduce_sum,
    reshape,
    select_n,
    sign,
    sin,
    slice,
    sqrt,
    sub,
)

__all__ = ["erf", "erfc", "erf_inv", "erfc_inv", "lgamma", "digamma", "polygamma", "gamma",
           "rgamma", "gammasgn", "loggamma", "beta", "betaln", "igamma", "igammac",
           "igamma_grad_a", "bessel_i0", "bessel_i0e", "bessel_i1", "bessel_i1e", "bessel_j0",
           "bessel_j1", "bessel_y0", "bessel_y1", "bessel_iv", "bessel_ive", "bessel_kv",
           "bessel_kve", "bessel_jv", "bessel_yv", "bessel_yn", "zeta", "riemann_zeta",
           "zeta_deriv", "betainc", "betaincc", "ndtri", "log_ndtr", "mvn_cdf"]


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


def _real_unop_abstract_eval(name, complex_ok=False):
    def abstract_eval(x, **params):
        if complex_ok and np.issubdtype(x.dtype, np.complexfloating):
            return x
        if not np.issubdtype(x.dtype, np.floating):
            kind = "floating-point" if complex_ok else "real floating-point"
            raise TypeError(f"lax.{name} requires a {kind} input, got {x.dtype.name}")
        return x

    return abstract_eval


def _special_unop(name, scipy_name, complex_ok=False):
    """An elementwise primitive whose impl is ``scipy.special.<scipy_name>``
    (no jit emitter: the generated code calls the impl)."""
    p = new_primitive(name)
    p.def_impl(_scipy_impl(scipy_name))
    p.def_abstract_eval(_real_unop_abstract_eval(name, complex_ok))
    def_strict(p, _real_float_operand)
    defvectorized(p)
    return p


def _real_binop_abstract_eval(name):
    binop = _binop_abstract_eval(name)

    def abstract_eval(a, x):
        if not np.issubdtype(a.dtype, np.floating):
            raise TypeError(f"lax.{name} requires real floating-point inputs, got "
                            f"{a.dtype.name}")
        return binop(a, x)

    return abstract_eval


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


def erfc_inv(x):
    return bind(erfc_inv_p, x)


_TWO_OVER_SQRT_PI = 2.0 / np.sqrt(np.pi)

# erf and erfc are entire: on complex arguments (SciPy's Faddeeva loops) the
# same formula is the holomorphic derivative.
erf_p = _special_unop("erf", "erf", complex_ok=True)
defjvp(erf_p, lambda t, x: mul(t, mul(_c(x, _TWO_OVER_SQRT_PI), exp(neg(_square(x))))))
erfc_p = _special_unop("erfc", "erfc", complex_ok=True)
defjvp(erfc_p, lambda t, x: mul(t, mul(_c(x, -_TWO_OVER_SQRT_PI), exp(neg(_square(x))))))
erf_inv_p = _special_unop("erf_inv", "erfinv")
# (erf^-1)'(x) = 1 / erf'(erf^-1(x)) = sqrt(pi) / 2 * exp(erf^-1(x) ** 2)
defjvp2(erf_inv_p,
        lambda t, ans, x: mul(t, mul(_c(x, 1 / _TWO_OVER_SQRT_PI), exp(_square(ans)))))
erfc_inv_p = _special_unop("erfc_inv", "erfcinv")
# (erfc^-1)'(x) = -sqrt(pi) / 2 * exp(erfc^-1(x) ** 2)
defjvp2(erfc_inv_p,
        lambda t, ans, x: mul(t, mul(_c(x, -1 / _TWO_OVER_SQRT_PI), exp(_square(ans)))))

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
# digamma takes complex arguments too (the derivative of complex loggamma);
# polygamma does not (SciPy has no complex loop), so complex digamma has a
# first derivative only.
digamma_p = _special_unop("digamma", "psi", complex_ok=True)
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
def_strict(polygamma_p)
defjvp(polygamma_p, lambda t, x, *, n: mul(t, polygamma(n + 1, x)))
defvectorized(polygamma_p)


def gamma(x):
    return bind(gamma_p, x)


def rgamma(x):
    return bind(rgamma_p, x)


def gammasgn(x):
    return bind(gammasgn_p, x)


def loggamma(x):
    return bind(loggamma_p, x)


def beta(a, b):
    return bind(beta_p, a, b)


def betaln(a, b):
    return bind(betaln_p, a, b)


# Gamma(x) and 1 / Gamma(x) are primitives, not exp(lgamma(x)): that loses
# about |lgamma(x)| ulps (1e-13 relative near x = 170).
gamma_p = _special_unop("gamma", "gamma")
defjvp2(gamma_p, lambda t, ans, x: mul(t, mul(ans, digamma(x))))
rgamma_p = _special_unop("rgamma", "rgamma")


def _rgamma_jvp(t, ans, x):
    # (1/Gamma)' = -digamma / Gamma is a 0 * inf at the poles of Gamma
    # (x = -n, n = 0, 1, ...), where rgamma is 0.  There the derivative of the
    # reflection formula 1/Gamma(x) = Gamma(1 - x) sin(pi x) / pi is used,
    # Gamma(1 - x) (cos(pi x) - digamma(1 - x) sin(pi x) / pi) (= (-1)**n n!
    # at x = -n): equal to rgamma' on all of x < 1, so higher derivatives
    # are right at the poles too.  Each branch sees a harmless x where it is
    # not selected, so no inf or NaN of the other reaches a derivative.
    pole = bitwise_and(eq(ans, _c(ans, 0)), le(x, _c(x, 0)))
    aval = _aval(x)
    x_reg = select_n(pole, x, np.full(aval.shape, 0.5, aval.dtype))
    x_pole = select_n(pole, np.zeros(aval.shape, aval.dtype), x)
    regular = neg(mul(rgamma(x_reg), digamma(x_reg)))
    one_minus, pi_x = sub(_c(x, 1), x_pole), mul(x_pole, _c(x, np.pi))
    at_pole = mul(gamma(one_minus), sub(cos(pi_x), mul(digamma(one_minus),
                                                       mul(sin(pi_x), _c(x, 1 / np.pi)))))
    return mul(t, select_n(pole, regular, at_pole))


defjvp2(rgamma_p, _rgamma_jvp)
gammasgn_p = _special_unop("gammasgn", "gammasgn")
defjvp_zero(gammasgn_p)
# SciPy's loggamma: the principal branch of log Gamma for complex z (NaN for
# real x < 0, where gammaln is log|Gamma|); its derivative is digamma.
loggamma_p = _special_unop("loggamma", "loggamma", complex_ok=True)
defjvp(loggamma_p, lambda t, x: mul(t, digamma(x)))


def _beta_jvp(which):
    def rule(t, ans, a, b):
        return mul(t, mul(ans, sub(digamma(which(a, b)), digamma(add(a, b)))))

    return rule


def _betaln_jvp(which):
    return lambda t, ans, a, b: mul(t, sub(digamma(which(a, b)), digamma(add(a, b))))


def _first(a, b):
    return a


def _second(a, b):
    return b


def _real_binop(name, scipy_name):
    p = new_primitive(name)
    p.def_impl(_scipy_impl(scipy_name))
    p.def_abstract_eval(_real_binop_abstract_eval(name))
    def_strict(p)
    defbroadcasting(p)
    return p


beta_p = _real_binop("beta", "beta")
defjvp2(beta_p, _beta_jvp(_first), _beta_jvp(_second))
# A primitive (SciPy's asymptotic formula for large a + b), not the
# composite lgamma(a) + lgamma(b) - lgamma(a + b), which loses digits there.
betaln_p = _real_binop("betaln", "betaln")
defjvp2(betaln_p, _betaln_jvp(_first), _betaln_jvp(_second))

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


igamma_p = new_primitive("igamma")
igamma_p.def_impl(_scipy_impl("gammainc"))
igamma_p.def_abstract_eval(_real_binop_abstract_eval("igamma"))
def_strict(igamma_p)
defjvp(igamma_p, lambda t, a, x: mul(t, igamma_grad_a(a, x)),
       lambda t, a, x: mul(t, _igamma_density(a, x)))
defbroadcasting(igamma_p)

igammac_p = new_primitive("igammac")
igammac_p.def_impl(_scipy_impl("gammaincc"))
igammac_p.def_abstract_eval(_real_binop_abstract_eval("igammac"))
def_strict(igammac_p)
defjvp(igammac_p, lambda t, a, x: neg(mul(t, igamma_grad_a(a, x))),
       lambda t, a, x: neg(mul(t, _igamma_density(a, x))))
defbroadcasting(igammac_p)

# ---------------------------------------------------------------------------
# The derivative of P(a, x) in the shape a
#
# ``igamma_grad_a(a, x) = dP(a, x)/da`` has no closed form.  As JAX and
# TensorFlow do (after Figurnov et al. 2018, "Implicit reparameterization
# gradients"), the series of P (for x < 1 or x <= a) or the continued
# fraction of Q = 1 - P (otherwise) is evaluated together with its
# derivative in a, term by term (forward mode through the recurrences).
# Agrees with Richardson-extrapolated finite differences of SciPy's
# gammainc/gammaincc to about 1e-11 relative for a in [0.1, 50], x in
# [0.01, 100] (tests/test_scipy_special_more.py).  NaN where a <= 0, x < 0
# or either is NaN (as gammainc); 0 at x = 0 and x = inf.


def igamma_grad_a(a, x):
    return bind(igamma_grad_a_p, a, x)


def _igamma_series_grad_a(a, x, maxiter):
    """dP/da from ``P = x**a exp(-x) / Gamma(a + 1) * sum_n t_n`` with
    ``t_n = prod_{k <= n} x / (a + k)``."""
    from scipy import special

    t, dt = np.ones_like(a), np.zeros_like(a)
    s, ds = np.ones_like(a), np.zeros_like(a)
    for n in range(1, maxiter):
        r = x / (a + n)
        dt = dt * r - t * r / (a + n)
        t = t * r
        s, ds = s + t, ds + dt
        if np.all((t <= 1e-17 * s) & (np.abs(dt) <= 1e-17 * np.abs(ds))):
            break
    pre = np.exp(a * np.log(x) - x - special.gammaln(a + 1))
    return pre * (s * (np.log(x) - special.digamma(a + 1)) + ds)


def _igammac_cfrac_grad_a(a, x, maxiter):
    """dQ/da from ``Q = x**a exp(-x) / Gamma(a) * F`` with Legendre's continued
    fraction ``F = 1 / (b_1 + a_2 / (b_2 + ...))``, ``b_n = x + 2n - 1 - a``,
    ``a_{n+1} = -n (n - a)``: the convergents ``A_n / B_n`` and their
    a-derivatives by the forward recurrence, rescaled by ``B_n`` each step."""
    from scipy import special

    zeros, ones = np.zeros_like(a), np.ones_like(a)
    a_prev, b_prev, da_prev, db_prev = ones, zeros, zeros, zeros  # A_-1, B_-1
    a_cur, b_cur, da_cur, db_cur = zeros, ones, zeros, zeros  # A_0, B_0
    f, df = zeros, zeros
    for n in range(1, maxiter):
        bn = x + (2 * n - 1) - a
        an, dan = (ones, zeros) if n == 1 else (-(n - 1) * (n - 1 - a), n - 1.0)
        a_new = bn * a_cur + an * a_prev
        b_new = bn * b_cur + an * b_prev
        da_new = bn * da_cur - a_cur + an * da_prev + dan * a_prev
        db_new = bn * db_cur - b_cur + an * db_prev + dan * b_prev
        scale = 1.0 / b_new
        a_prev, b_prev, da_prev, db_prev = (a_cur * scale, b_cur * scale, da_cur * scale,
                                            db_cur * scale)
        a_cur, b_cur, da_cur, db_cur = a_new * scale, ones, da_new * scale, db_new * scale
        f_new, df_new = a_cur, da_cur - a_cur * db_cur
        done = (np.abs(f_new - f) <= 1e-16 * np.abs(f_new)) & (
            np.abs(df_new - df) <= 1e-16 * np.abs(df_new))
        f, df = f_new, df_new
        if n > 2 and np.all(done):
            break
    pre = np.exp(a * np.log(x) - x - special.gammaln(a))
    return pre * (f * (np.log(x) - special.digamma(a)) + df)


def _igamma_grad_a_impl(a, x):
    dtype = np.result_type(a, x)
    a, x = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(x, np.float64))
    out = np.full(a.shape, np.nan)
    ok = (a > 0) & (x >= 0)  # False for NaNs
    out[ok & ((x == 0) | (x == np.inf))] = 0.0
    live = ok & (x > 0) & (x < np.inf)
    series = live & ((x < 1) | (x <= a))
    cfrac = live & ~series
    with np.errstate(all="ignore"):
        for mask, fn, sign in ((series, _igamma_series_grad_a, 1.0),
                               (cfrac, _igammac_cfrac_grad_a, -1.0)):
            if mask.any():
                # Both converge in O(sqrt(max(a, x))) steps near x = a.
                maxiter = int(200 + 20 * np.sqrt(np.max(np.maximum(a[mask], x[mask]))))
                out[mask] = sign * fn(a[mask], x[mask], min(maxiter, 200_000))
    return _as(out, dtype)


def _igamma_grad_a_jvp_a(t, a, x):
    raise NotImplementedError(
        "fxad: the second derivative of gammainc/gammaincc (lax.igamma, lax.igammac) in "
        "the shape a is not implemented (as in JAX). First derivatives in a, and mixed "
        "derivatives in a and x, are; hold a fixed with fxad.stop_gradient(a) for higher "
        "orders.")


def _igamma_grad_a_jvp_x(t, a, x):
    # d/dx dP/da = d/da (x**(a-1) exp(-x) / Gamma(a)) = density * (log x - digamma(a))
    return mul(t, mul(_igamma_density(a, x), sub(log(x), digamma(a))))


igamma_grad_a_p = new_primitive("igamma_grad_a")
igamma_grad_a_p.def_impl(_igamma_grad_a_impl)
igamma_grad_a_p.def_abstract_eval(_real_binop_abstract_eval("igamma_grad_a"))
def_strict(igamma_grad_a_p)
defjvp(igamma_grad_a_p, _igamma_grad_a_jvp_a, _igamma_grad_a_jvp_x)
defbroadcasting(igamma_grad_a_p)

# ---------------------------------------------------------------------------
# Bessel functions
#
# Differentiable in the argument x, to any order (each derivative is a
# recurrence in the same primitives), not in the order v: as in SciPy the
# order is an operand (any real v for iv/ive/kv/kve/jv/yv, integer-valued n
# for yn, SciPy's separate algorithm).  Exponentially scaled forms:
# ive = iv exp(-|x|), kve = kv exp(x).


def bessel_i0(x):
    return bind(bessel_i0_p, x)


def bessel_i0e(x):
    return bind(bessel_i0e_p, x)


def bessel_i1(x):
    return bind(bessel_i1_p, x)


def bessel_i1e(x):
    return bind(bessel_i1e_p, x)


def bessel_j0(x):
    return bind(bessel_j0_p, x)


def bessel_j1(x):
    return bind(bessel_j1_p, x)


def bessel_y0(x):
    return bind(bessel_y0_p, x)


def bessel_y1(x):
    return bind(bessel_y1_p, x)


def bessel_iv(v, x):
    return bind(bessel_iv_p, v, x)


def bessel_ive(v, x):
    return bind(bessel_ive_p, v, x)


def bessel_kv(v, x):
    return bind(bessel_kv_p, v, x)


def bessel_kve(v, x):
    return bind(bessel_kve_p, v, x)


def bessel_jv(v, x):
    return bind(bessel_jv_p, v, x)


def bessel_yv(v, x):
    return bind(bessel_yv_p, v, x)


def bessel_yn(n, x):
    return bind(bessel_yn_p, n, x)


def _half(x):
    return mul(x, _c(x, 0.5))


def _two(x):
    return _c(x, 2.0)


def _no_order_derivative(name, scipy_name):
    def rule(t, v, x):
        raise NotImplementedError(
            f"fxad: the derivative of {scipy_name}(v, x) (lax.{name}) with respect to the "
            "order v is not implemented; differentiate with respect to x only, or hold v "
            "fixed with fxad.stop_gradient(v).")

    return rule


def _bessel_binop(name, scipy_name, jvp_x):
    p = _real_binop(name, scipy_name)
    defjvp2(p, lambda t, ans, v, x: _no_order_derivative(name, scipy_name)(t, v, x),
            lambda t, ans, v, x: mul(t, jvp_x(ans, v, x)))
    return p


def _neighbours(fn, v, x, combine):
    one = _c(v, 1.0)
    return _half(combine(fn(sub(v, one), x), fn(add(v, one), x)))


bessel_iv_p = _bessel_binop(
    "bessel_iv", "iv", lambda ans, v, x: _neighbours(bessel_iv, v, x, add))
bessel_ive_p = _bessel_binop(
    "bessel_ive", "ive",
    lambda ans, v, x: sub(_neighbours(bessel_ive, v, x, add), mul(sign(x), ans)))
bessel_kv_p = _bessel_binop(
    "bessel_kv", "kv", lambda ans, v, x: neg(_neighbours(bessel_kv, v, x, add)))
bessel_kve_p = _bessel_binop(
    "bessel_kve", "kve", lambda ans, v, x: sub(ans, _neighbours(bessel_kve, v, x, add)))
bessel_jv_p = _bessel_binop(
    "bessel_jv", "jv", lambda ans, v, x: _neighbours(bessel_jv, v, x, sub))
bessel_yv_p = _bessel_binop(
    "bessel_yv", "yv", lambda ans, v, x: _neighbours(bessel_yv, v, x, sub))
bessel_yn_p = _bessel_binop(
    "bessel_yn", "yn", lambda ans, v, x: _neighbours(bessel_yn, v, x, sub))

# The integer orders 0 and 1 are SciPy's own (Cephes) functions; their
# derivatives reach order 2 through the general-order primitives.
bessel_i0_p = _special_unop("bessel_i0", "i0")
defjvp(bessel_i0_p, lambda t, x: mul(t, bessel_i1(x)))
bessel_i0e_p = _special_unop("bessel_i0e", "i0e")
defjvp2(bessel_i0e_p, lambda t, ans, x: mul(t, sub(bessel_i1e(x), mul(sign(x), ans))))
bessel_i1_p = _special_unop("bessel_i1", "i1")
defjvp(bessel_i1_p, lambda t, x: mul(t, _half(add(bessel_i0(x), bessel_iv(_two(x), x)))))
bessel_i1e_p = _special_unop("bessel_i1e", "i1e")
defjvp2(bessel_i1e_p, lambda t, ans, x: mul(t, sub(_half(add(bessel_i0e(x),
                                                               bessel_ive(_two(x), x))),
                                                     mul(sign(x), ans))))
bessel_j0_p = _special_unop("bessel_j0", "j0")
defjvp(bessel_j0_p, lambda t, x: neg(mul(t, bessel_j1(x))))
bessel_j1_p = _special_unop("bessel_j1", "j1")
defjvp(bessel_j1_p, lambda t, x: mul(t, _half(sub(bessel_j0(x), bessel_jv(_two(x), x)))))
bessel_y0_p = _special_unop("bessel_y0", "y0")
defjvp(bessel_y0_p, lambda t, x: neg(mul(t, bessel_y1(x))))
bessel_y1_p = _special_unop("bessel_y1", "y1")
defjvp(bessel_y1_p, lambda t, x: mul(t, _half(sub(bessel_y0(x), bessel_yn(_two(x), x)))))

# ---------------------------------------------------------------------------
# The Hurwitz and Riemann zeta functions
#
# ``zeta(x, q) = sum_k (k + q)**-x`` (SciPy's ``zeta(x, q)``, NaN for x < 1)
# and ``riemann_zeta(x)`` (SciPy's ``zeta(x)``, continued analytically to
# x < 1).  d/dq zeta(x, q) = -x zeta(x + 1, q); the derivatives in x,
# ``zeta_deriv(x, q, n) = d^n/dx^n zeta(x, q)``, come from Euler-Maclaurin
# summation carried out in truncated Taylor arithmetic in x (N direct terms,
# N = 20 + |x|, then the integral, the half term and 12 Bernoulli terms):
# about 1e-11 relative against finite differences of SciPy's zeta for
# x in (1, 50], q > 0, and for the Riemann zeta on x in [-2, 1).


def zeta(x, q):
    return bind(zeta_p, x, q)


def riemann_zeta(x):
    return bind(riemann_zeta_p, x)


def zeta_deriv(x, q, n: int):
    """``d^n/dx^n zeta(x, q)`` (``n`` a static integer >= 1)."""
    return bind(zeta_deriv_p, x, q, n=int(n))


def _zeta_n(x, q, n):
    return zeta(x, q) if n == 0 else zeta_deriv(x, q, n)


# B_2j / (2j)! for j = 1..12: the Euler-Maclaurin coefficients.
_EM_BERNOULLI = [1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510,
                 43867 / 798, -174611 / 330, 854513 / 138, -236364091 / 2730]
_EM_COEFS = [b / math.factorial(2 * j) for j, b in enumerate(_EM_BERNOULLI, 1)]


def _series_mul(u, v, n):
    """The product of two Taylor series (coefficients along axis 0), to order n."""
    return np.stack([sum(u[i] * v[m - i] for i in range(m + 1)) for m in range(n + 1)])


def _zeta_deriv_impl(x, q, *, n):
    dtype = np.result_type(x, q)
    x, q = np.broadcast_arrays(np.asarray(x, np.float64), np.asarray(q, np.float64))
    big = min(int(20 + np.ceil(np.max(np.abs(np.where(np.isfinite(x), x, 0)), initial=0.0))),
              1000)
    kq = np.arange(big).reshape((big,) + (1,) * x.ndim) + q
    with np.errstate(all="ignore"):
        direct = np.sum(kq ** -x * (-np.log(kq)) ** n, axis=0)
        # The tail sum_{k >= N} (k + q)**-(x + e) as a series in e: with
        # A = q + N, A**-(x + e) = A**-x exp(-e log A), 1 / (x + e - 1) and
        # the rising factorials (x + e)(x + e + 1)... of the Bernoulli terms.
        a = q + big
        ax, la = a ** -x, np.log(a)
        e = np.stack([ax * (-la) ** m / math.factorial(m) for m in range(n + 1)])
        inv = np.stack([(-1.0) ** m / (x - 1) ** (m + 1) for m in range(n + 1)])
        tail = a * _series_mul(e, inv, n) + 0.5 * e
        rising = np.stack([x, np.ones_like(x)] + [np.zeros_like(x)] * (n - 1))[:n + 1]
        apow = 1.0 / a
        for j, c in enumerate(_EM_COEFS, 1):
            tail = tail + c * apow * _series_mul(rising, e, n)
            apow = apow / (a * a)
            for i in (2 * j - 1, 2 * j):
                rising = np.concatenate([(x + i) * rising[:1], (x + i) * rising[1:] + rising[:-1]])
        out = direct + math.factorial(n) * tail[n]
    return _as(np.where((q > 0) & (x != 1), out, np.nan), dtype)


def _zeta_deriv_abstract_eval(x, q, *, n):
    if not isinstance(n, int) or n < 1:
        raise TypeError(f"lax.zeta_deriv: the order n must be an integer >= 1, got {n!r}")
    return _real_binop_abstract_eval("zeta_deriv")(x, q)


def _zeta_jvp_q(x, q, n):
    # d/dq d^n/dx^n zeta = d^n/dx^n (-x zeta(x + 1, q)), by Leibniz's rule.
    x1 = add(x, _c(x, 1.0))
    out = mul(x, _zeta_n(x1, q, n))
    if n:
        out = add(out, mul(_c(x, float(n)), _zeta_n(x1, q, n - 1)))
    return neg(out)


zeta_p = _real_binop("zeta", "zeta")
defjvp(zeta_p, lambda t, x, q: mul(t, zeta_deriv(x, q, 1)),
       lambda t, x, q: mul(t, _zeta_jvp_q(x, q, 0)))
riemann_zeta_p = _special_unop("riemann_zeta", "zeta")
defjvp(riemann_zeta_p, lambda t, x: mul(t, zeta_deriv(x, _c(x, 1.0), 1)))
zeta_deriv_p = new_primitive("zeta_deriv")
zeta_deriv_p.def_impl(_zeta_deriv_impl)
zeta_deriv_p.def_abstract_eval(_zeta_deriv_abstract_eval)
def_strict(zeta_deriv_p)
defjvp(zeta_deriv_p, lambda t, x, q, *, n: mul(t, zeta_deriv(x, q, n + 1)),
       lambda t, x, q, *, n: mul(t, _zeta_jvp_q(x, q, n)))
defbroadcasting(zeta_deriv_p)

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
    def_strict(p)
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

# ---------------------------------------------------------------------------
# The standard multivariate normal CDF
#
# ``mvn_cdf(z, corr)`` is ``P(Y <= z)`` (componentwise) for ``Y ~ N(0, corr)``
# with ``corr`` a ``(d, d)`` correlation matrix (unit diagonal) and ``z`` of
# shape ``(..., d)`` (upper limits along the last axis); the result has shape
# ``z.shape[:-1]``.  Values: exact in dimensions 0 (1), 1 (``ndtr``) and 2
# (Owen's T formula, ~1e-15); from dimension 3 on, SciPy's randomised
# quasi-Monte Carlo (``scipy.stats.multivariate_normal.cdf``) with a fixed
# seed, ``abseps = releps = 1e-10`` and ``MVN_MAXPTS_PER_DIM * d`` points
# (deterministic; about 1e-7 accurate).  Differentiable in ``z``:
# ``d/dz_i = phi(z_i) * mvn_cdf`` of the conditional distribution of the
# other components given ``Y_i = z_i`` (standardised), the same primitive in
# one dimension less, so every order follows; not in ``corr``.

MVN_MAXPTS_PER_DIM = 400_000
MVN_EPS = 1e-10
MVN_SEED = 0


def mvn_cdf(z, corr):
    return bind(mvn_cdf_p, z, corr)


def _bvn_cdf(h, k, rho):
    """``P(Y1 <= h, Y2 <= k)`` for unit normals with correlation ``rho``
    (Owen 1956: ``(ndtr(h) + ndtr(k)) / 2 - T(h, a_h) - T(k, a_k) - beta``)."""
    from scipy import special

    h, k = np.broadcast_arrays(np.asarray(h, np.float64), np.asarray(k, np.float64))
    rho = float(rho)
    with np.errstate(all="ignore"):
        if rho >= 1.0:
            out = special.ndtr(np.minimum(h, k))
        elif rho <= -1.0:
            out = np.maximum(special.ndtr(h) - special.ndtr(-k), 0.0)
        else:
            s = np.sqrt((1.0 - rho) * (1.0 + rho))
            a_h = np.where(h == 0, np.copysign(np.inf, k - rho * h), (k - rho * h) / (h * s))
            a_k = np.where(k == 0, np.copysign(np.inf, h - rho * k), (h - rho * k) / (k * s))
            hk = h * k
            beta = np.where((hk < 0) | ((hk == 0) & (h + k < 0)), 0.5, 0.0)
            out = (0.5 * (special.ndtr(h) + special.ndtr(k)) - special.owens_t(h, a_h)
                   - special.owens_t(k, a_k) - beta)
            out = np.where((h == 0) & (k == 0), 0.25 + np.arcsin(rho) / (2 * np.pi), out)
        out = np.where(h == np.inf, special.ndtr(k), out)
        out = np.where(k == np.inf, special.ndtr(h), out)
        out = np.where((h == -np.inf) | (k == -np.inf), 0.0, out)
        out = np.where(np.isnan(h) | np.isnan(k), np.nan, out)
    return np.clip(out, 0.0, 1.0)


def _mvn_cdf_point(z, r):
    """One point ``z`` (``(d,)``, float64) of the standard MVN CDF."""
    from scipy import special, stats

    if np.any(np.isnan(z)):
        return np.nan
    if np.any(z == -np.inf):
        return 0.0
    keep = z < np.inf
    if not keep.all():
        z, r = z[keep], r[np.ix_(keep, keep)]
    d = z.shape[0]
    if d == 0:
        return 1.0
    if d == 1:
        return float(special.ndtr(z[0]))
    if d == 2:
        return float(_bvn_cdf(z[0], z[1], r[1, 0]))
    kw = dict(allow_singular=True, maxpts=MVN_MAXPTS_PER_DIM * d, abseps=MVN_EPS,
              releps=MVN_EPS)
    try:
        return float(stats.multivariate_normal.cdf(
            z, cov=r, rng=np.random.default_rng(MVN_SEED), **kw))
    except TypeError:  # SciPy < 1.15 names the seed random_state
        return float(stats.multivariate_normal.cdf(
            z, cov=r, random_state=np.random.default_rng(MVN_SEED), **kw))


def _mvn_cdf_impl(z, corr):
    dtype = np.result_type(z, corr)
    z = np.asarray(z, np.float64)
    r = np.asarray(corr, np.float64)
    d = z.shape[-1]
    batch = z.shape[:-1]
    if d == 0:
        out = np.ones(batch)
    elif d == 1:
        from scipy import special

        out = special.ndtr(z[..., 0])
    elif d == 2:
        out = _bvn_cdf(z[..., 0], z[..., 1], r[1, 0])
    else:
        pts = z.reshape(-1, d)
        out = np.array([_mvn_cdf_point(p, r) for p in pts], np.float64).reshape(batch)
    return _as(out, dtype)


def _mvn_cdf_abstract_eval(z, corr):
    for v in (z, corr):
        if not np.issubdtype(v.dtype, np.floating):
            raise TypeError(f"lax.mvn_cdf requires real floating-point inputs, got "
                            f"{v.dtype.name}")
    _check_same_dtype("mvn_cdf", z, corr)
    if len(z.shape) < 1 or len(corr.shape) != 2 or corr.shape != (z.shape[-1],) * 2:
        raise TypeError(f"lax.mvn_cdf requires z of shape (..., d) and corr of shape (d, d), "
                        f"got {z.str_short()} and {corr.str_short()}")
    return shaped(z.shape[:-1], z.dtype)


def _pick(x, i, axis):
    """``x`` at index ``i`` of ``axis`` (that axis dropped)."""
    shape = _aval(x).shape
    start, limit = [0] * len(shape), list(shape)
    start[axis], limit[axis] = i, i + 1
    return reshape(slice(x, tuple(start), tuple(limit)), shape[:axis] + shape[axis + 1:])


def _drop(x, i, axis):
    """``x`` without index ``i`` of ``axis`` (which has at least two entries)."""
    shape = _aval(x).shape
    parts = []
    for lo, hi in ((0, i), (i + 1, shape[axis])):
        if hi > lo:
            start, limit = [0] * len(shape), list(shape)
            start[axis], limit[axis] = lo, hi
            parts.append(slice(x, tuple(start), tuple(limit)))
    return parts[0] if len(parts) == 1 else concatenate(parts, axis)


def _mvn_cdf_grad(z, corr):
    """The gradient of ``mvn_cdf`` in ``z``, shape ``z.shape``: component ``i``
    is ``phi(z_i)`` times the CDF of the other components given ``Y_i = z_i``."""
    shape = _aval(z).shape
    last, batch, d = len(shape) - 1, shape[:-1], shape[-1]
    outer = (d - 1, d - 1)
    eye = np.eye(d - 1, dtype=_aval(z).dtype)
    cols = []
    for i in range(d):
        zi = _pick(z, i, last)
        dens = mul(exp(mul(mul(zi, zi), _c(z, -0.5))), _c(z, 1.0 / np.sqrt(2.0 * np.pi)))
        if d > 1:
            rows = _drop(corr, i, 0)  # (d-1, d)
            c = _pick(rows, i, 1)  # (d-1,): correlations of Y_i with the others
            cc = sub(_drop(rows, i, 1),
                     mul(broadcast_in_dim(c, outer, (0,)), broadcast_in_dim(c, outer, (1,))))
            s = sqrt(reduce_sum(mul(cc, eye), (1,)))  # sqrt of cc's diagonal
            ex = batch + (d - 1,)
            zc = div(sub(_drop(z, i, last),
                         mul(broadcast_in_dim(zi, ex, tuple(range(last))),
                             broadcast_in_dim(c, ex, (last,)))),
                     broadcast_in_dim(s, ex, (last,)))
            rc = div(cc, mul(broadcast_in_dim(s, outer, (0,)), broadcast_in_dim(s, outer, (1,))))
            dens = mul(dens, mvn_cdf(zc, rc))
        cols.append(expand_dims(dens, (last,)))
    return concatenate(cols, last)


def _mvn_cdf_jvp_z(t, z, corr):
    return reduce_sum(mul(t, _mvn_cdf_grad(z, corr)), (len(_aval(z).shape) - 1,))


def _mvn_cdf_jvp_corr(t, z, corr):
    raise NotImplementedError(
        "fxad: the derivative of the multivariate normal CDF (lax.mvn_cdf, "
        "multivariate_normal.cdf/logcdf) with respect to the covariance cov (the "
        "correlation operand) is not implemented. Differentiate with respect to x and "
        "mean only, or hold cov fixed with fxad.stop_gradient(cov).")


def _mvn_cdf_batch(args, dims):
    z, corr = args
    bz, bc = dims
    if bc is not_mapped:
        return mvn_cdf(moveaxis(z, bz, 0), corr), 0
    return loop_batch_rule(mvn_cdf_p)(args, dims)


mvn_cdf_p = new_primitive("mvn_cdf")
mvn_cdf_p.def_impl(_mvn_cdf_impl)
mvn_cdf_p.def_abstract_eval(_mvn_cdf_abstract_eval)
def_strict(mvn_cdf_p)
defjvp(mvn_cdf_p, _mvn_cdf_jvp_z, _mvn_cdf_jvp_corr)
batch_rules[mvn_cdf_p] = _mvn_cdf_batch
