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
    def_strict,
    defbroadcasting,
    div,
    eq,
    exp,
    expand_dims,
    log,
    log1p,
    loop_batch_rule,
    moveaxis,
    mul,
    neg,
    reduce_sum,
    reshape,
    select_n,
    slice,
    sqrt,
    sub,
)

__all__ = ["erf", "erfc", "erf_inv", "lgamma", "digamma", "polygamma", "igamma", "igammac",
           "betainc", "betaincc", "ndtri", "log_ndtr", "mvn_cdf"]


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
    def_strict(p, _real_float_operand)
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
def_strict(polygamma_p)
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
def_strict(igamma_p)
defjvp(igamma_p, _no_shape_derivative("igamma", "gammainc"),
       lambda t, a, x: mul(t, _igamma_density(a, x)))
defbroadcasting(igamma_p)

igammac_p = new_primitive("igammac")
igammac_p.def_impl(_scipy_impl("gammaincc"))
igammac_p.def_abstract_eval(_igamma_abstract_eval("igammac"))
def_strict(igammac_p)
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
