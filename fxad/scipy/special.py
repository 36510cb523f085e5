"""``fxad.scipy.special``: differentiable ``scipy.special``.

On plain NumPy values every function is SciPy's own.  On tracers the
functions with no accurate composite (the error function family, the gamma
family, ``beta``/``betaln``, the incomplete gamma and beta functions,
``zeta`` and the Bessel functions) bind the primitives of
``fxad.lax.special``, whose impls are SciPy's; the rest (``ndtr``,
``multigammaln``, ``entr``, ``rel_entr``, ``kl_div``, ``xlogy``,
``xlog1py``, ``logsumexp``, the logistic family, ``softmax``) are
composites, written to be as accurate as SciPy's (``logsumexp`` shifts by a
``stop_gradient`` of the maximum and separates it out of the sum, as SciPy
does; ``expit`` never overflows) and to have correct derivatives everywhere
SciPy's function is smooth.

``xlogy(x, y)`` and ``xlog1py(x, y)`` are 0 where ``x == 0`` (unless ``y``
is NaN), as in SciPy; their derivative in ``x`` there is ``log(y)``
(``log1p(y)``), JAX's convention, which is the true partial derivative
whenever ``y > 0`` (``y > -1``).

Example:
    >>> import fxad, numpy as np
    >>> import fxad.scipy.special as fsp
    >>> float(fxad.grad(fsp.gammaln)(3.0))  # digamma(3) = 3/2 - Euler's gamma
    0.9227843350984671
"""

from __future__ import annotations

import sys

import numpy as np
import scipy.special as _sp

import fxad.numpy as fnp
from fxad.core import Tracer
from fxad.lax import special as _lsp
from fxad.numpy import _dispatch
from fxad.numpy._util import (
    any_tracer,
    canonical_axes,
    convert,
    promote_broadcast,
    result_type,
    shape_of,
)
from fxad.numpy._util import install_numpy_functions as _install_numpy_functions

__all__ = [
    "erf", "erfc", "erfinv", "erfcinv", "ndtr", "ndtri", "log_ndtr", "gammaln", "digamma",
    "psi", "polygamma", "gamma", "rgamma", "gammasgn", "loggamma", "multigammaln",
    "gammainc", "gammaincc", "beta", "betaln", "betainc", "betaincc", "zeta", "i0", "i0e",
    "i1", "i1e", "iv", "ive", "kv", "kve", "j0", "j1", "jn", "jv", "y0", "y1", "yn", "yv",
    "entr", "rel_entr", "kl_div", "logsumexp", "expit", "logit", "log_expit", "xlogy",
    "xlog1py", "softmax", "log_softmax",
]


def _float_dtype(dtype, complex_ok=False) -> np.dtype:
    """The dtype SciPy's ufunc loops compute in for ``dtype`` (``f`` or ``d``;
    ``F`` or ``D`` for the functions with complex loops)."""
    dtype = np.dtype(dtype)
    if np.issubdtype(dtype, np.complexfloating):
        if complex_ok:
            return np.dtype(np.complex64 if dtype == np.complex64 else np.complex128)
        raise TypeError("fxad.scipy.special: complex arguments are not supported on traced "
                        "values by this function (only erf, erfc, loggamma and digamma take "
                        "them)")
    if dtype == np.float32 or dtype == np.float16:
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def _floats(*args):
    """Promote and broadcast ``args`` to one real floating dtype."""
    dtype = _float_dtype(result_type(*args))
    return promote_broadcast(*args, dtype=dtype)


# ---------------------------------------------------------------------------
# Primitives


def _unary(sp_fn, lax_fn, doc, complex_ok=False):
    def fn(x):
        if not isinstance(x, Tracer):
            return sp_fn(x)
        return lax_fn(convert(x, _float_dtype(x.aval.dtype, complex_ok)))

    fn.__name__ = fn.__qualname__ = sp_fn.__name__
    fn.__doc__ = doc
    return fn


def _doc(name, what, example, value):
    return (f"Differentiable ``scipy.special.{name}``: {what}.\n\n"
            "Example:\n    >>> import fxad, fxad.scipy.special as fsp\n"
            f"    >>> round(float({example}), 12)\n    {value}\n")


erf = _unary(_sp.erf, _lsp.erf, _doc(
    "erf", "the error function; erf'(x) = 2 / sqrt(pi) exp(-x**2), holomorphic for "
    "complex x", "fxad.grad(fsp.erf)(0.0)", "1.128379167096"), complex_ok=True)
erfc = _unary(_sp.erfc, _lsp.erfc, _doc(
    "erfc", "1 - erf(x), accurate where erf(x) is near 1 (complex x too)",
    "fsp.erfc(3.0) * 1e5", "2.209049699859"), complex_ok=True)
erfinv = _unary(_sp.erfinv, _lsp.erf_inv, _doc(
    "erfinv", "the inverse of erf", "fxad.grad(fsp.erfinv)(0.0)", "0.886226925453"))
erfcinv = _unary(_sp.erfcinv, _lsp.erfc_inv, _doc(
    "erfcinv", "the inverse of erfc on (0, 2), accurate near 0",
    "fxad.grad(fsp.erfcinv)(1.0)", "-0.886226925453"))
ndtri = _unary(_sp.ndtri, _lsp.ndtri, _doc(
    "ndtri", "the standard normal quantile (inverse of ndtr)", "fsp.ndtri(0.975)",
    "1.95996398454"))
log_ndtr = _unary(_sp.log_ndtr, _lsp.log_ndtr, _doc(
    "log_ndtr", "the log of the standard normal CDF, accurate in both tails",
    "fxad.grad(fsp.log_ndtr)(-30.0)", "30.033259667436"))
gammaln = _unary(_sp.gammaln, _lsp.lgamma, _doc(
    "gammaln", "log |Gamma(x)|; its derivative is digamma", "fsp.gammaln(0.5)",
    "0.572364942925"))
digamma = _unary(_sp.digamma, _lsp.digamma, _doc(
    "digamma", "the logarithmic derivative of Gamma; its derivative is polygamma(1, x) "
    "(complex x: first derivatives only, SciPy has no complex polygamma)",
    "fxad.grad(fsp.digamma)(1.0)", "1.644934066848"), complex_ok=True)
psi = digamma
gamma = _unary(_sp.gamma, _lsp.gamma, _doc(
    "gamma", "the gamma function (real x); Gamma' = Gamma digamma",
    "fxad.grad(fsp.gamma)(2.0)", "0.422784335098"))
rgamma = _unary(_sp.rgamma, _lsp.rgamma, _doc(
    "rgamma", "1 / Gamma(x) (real x), 0 at the poles of Gamma",
    "fxad.grad(fsp.rgamma)(1.0)", "0.577215664902"))
gammasgn = _unary(_sp.gammasgn, _lsp.gammasgn, _doc(
    "gammasgn", "the sign of Gamma(x) (derivative 0)", "fsp.gammasgn(-0.5)", "-1.0"))
loggamma = _unary(_sp.loggamma, _lsp.loggamma, _doc(
    "loggamma", "the principal branch of log Gamma (NaN for real x < 0, as SciPy; complex z "
    "holomorphic with derivative digamma, first derivatives only)",
    "fxad.grad(fsp.loggamma)(1.0)", "-0.577215664902"), complex_ok=True)
i0 = _unary(_sp.i0, _lsp.bessel_i0, _doc(
    "i0", "the modified Bessel function of order 0; i0' = i1",
    "fxad.grad(fsp.i0)(1.0)", "0.565159103992"))
i0e = _unary(_sp.i0e, _lsp.bessel_i0e, _doc(
    "i0e", "i0(x) exp(-|x|)", "fsp.i0e(1.0)", "0.465759607594"))
i1 = _unary(_sp.i1, _lsp.bessel_i1, _doc(
    "i1", "the modified Bessel function of order 1; i1' = (i0 + iv(2, .)) / 2",
    "fxad.grad(fsp.i1)(1.0)", "0.70090677376"))
i1e = _unary(_sp.i1e, _lsp.bessel_i1e, _doc(
    "i1e", "i1(x) exp(-|x|)", "fsp.i1e(1.0)", "0.20791041535"))
j0 = _unary(_sp.j0, _lsp.bessel_j0, _doc(
    "j0", "the Bessel function of the first kind of order 0; j0' = -j1",
    "fxad.grad(fsp.j0)(1.0)", "-0.440050585745"))
j1 = _unary(_sp.j1, _lsp.bessel_j1, _doc(
    "j1", "the Bessel function of the first kind of order 1", "fsp.j1(1.0)", "0.440050585745"))
y0 = _unary(_sp.y0, _lsp.bessel_y0, _doc(
    "y0", "the Bessel function of the second kind of order 0; y0' = -y1",
    "fxad.grad(fsp.y0)(1.0)", "0.7812128213"))
y1 = _unary(_sp.y1, _lsp.bessel_y1, _doc(
    "y1", "the Bessel function of the second kind of order 1", "fsp.y1(1.0)", "-0.7812128213"))


def ndtr(x):
    """Differentiable ``scipy.special.ndtr``: the standard normal CDF,
    ``erfc(-x / sqrt(2)) / 2`` (SciPy's formula).

    Example:
        >>> import fxad, fxad.scipy.special as fsp
        >>> round(float(fxad.grad(fsp.ndtr)(0.0)), 12)  # the pdf at 0
        0.398942280401
    """
    if not isinstance(x, Tracer):
        return _sp.ndtr(x)
    dtype = _float_dtype(x.aval.dtype)
    # In float64 always, as SciPy's float32 loop: a float32 x / sqrt(2) would
    # lose precision in the tails, where erfc varies fast.
    x = convert(x, np.dtype(np.float64))
    out = fnp.multiply(0.5, _lsp.erfc(fnp.multiply(x, -np.sqrt(0.5))))
    return convert(out, dtype)


def polygamma(n, x):
    """Differentiable ``scipy.special.polygamma``: the ``n``-th derivative of
    digamma, differentiable in ``x`` to any order.  ``n`` must be concrete
    (integers; an array of orders broadcasts against ``x``).

    Example:
        >>> import fxad, fxad.scipy.special as fsp
        >>> round(float(fxad.grad(lambda x: fsp.polygamma(1, x))(1.0)), 12)
        -2.404113806319
    """
    if isinstance(n, Tracer):
        raise TypeError("fxad.scipy.special.polygamma: the order n must be concrete "
                        "(integers), not a traced value")
    if not isinstance(x, Tracer):
        return _sp.polygamma(n, x)
    n = np.asarray(n)
    if n.dtype.kind not in "iu" and not np.all(n == np.round(n)):
        raise ValueError("fxad.scipy.special.polygamma: the order n must be integers")
    x = convert(x, np.dtype(np.float64))  # SciPy's polygamma computes in float64
    if n.ndim == 0:
        return _lsp.polygamma(int(n), x)
    shape = np.broadcast_shapes(n.shape, shape_of(x))
    x = fnp.broadcast_to(x, shape)
    n = np.broadcast_to(n, shape)
    out = None
    for k in np.unique(n):
        val = _lsp.polygamma(int(k), x)
        out = val if out is None else fnp.where(n == k, val, out)
    return out


def _binary_prim(sp_fn, lax_fn, doc):
    def fn(a, x):
        if not any_tracer(a, x):
            return sp_fn(a, x)
        return lax_fn(*_floats(a, x))

    fn.__name__ = fn.__qualname__ = sp_fn.__name__
    fn.__doc__ = doc
    return fn


gammainc = _binary_prim(_sp.gammainc, _lsp.igamma, """Differentiable
``scipy.special.gammainc``: the regularized lower incomplete gamma function
``P(a, x)``.  Differentiable in ``x`` (the derivative is the gamma density,
to any order) and in the shape ``a`` (``lax.igamma_grad_a``: the series or
continued fraction differentiated term by term, as JAX's; first order in
``a``, mixed ``a``/``x`` second derivatives too).

Example:
    >>> import fxad, fxad.scipy.special as fsp
    >>> round(float(fxad.grad(fsp.gammainc, argnums=1)(1.0, 2.0)), 12)  # exp(-2)
    0.135335283237
    >>> round(float(fxad.grad(fsp.gammainc)(1.0, 2.0)), 12)  # dP/da
    -0.220825426212
""")
gammaincc = _binary_prim(_sp.gammaincc, _lsp.igammac, """Differentiable
``scipy.special.gammaincc``: ``Q(a, x) = 1 - P(a, x)``, accurate in the
upper tail.  Differentiable in ``x`` and ``a``, as ``gammainc``.

Example:
    >>> import fxad.scipy.special as fsp
    >>> round(float(fsp.gammaincc(1.0, 2.0)), 12)
    0.135335283237
""")



def _ternary_prim(sp_fn, lax_fn, doc):
    def fn(a, b, x):
        if not any_tracer(a, b, x):
            return sp_fn(a, b, x)
        return lax_fn(*_floats(a, b, x))

    fn.__name__ = fn.__qualname__ = sp_fn.__name__
    fn.__doc__ = doc
    return fn


betainc = _ternary_prim(_sp.betainc, _lsp.betainc, """Differentiable
``scipy.special.betainc``: the regularized incomplete beta function
``I_x(a, b)``.  Differentiable in ``x`` (the derivative is the beta density
``x**(a-1) (1-x)**(b-1) / B(a, b)``, computed in log space); differentiating
in ``a`` or ``b`` raises ``NotImplementedError`` (as in JAX).

Example:
    >>> import fxad, fxad.scipy.special as fsp
    >>> round(float(fxad.grad(fsp.betainc, argnums=2)(2.0, 3.0, 0.5)), 12)  # 12 x (1-x)**2
    1.5
""")
betaincc = _ternary_prim(_sp.betaincc, _lsp.betaincc, """Differentiable
``scipy.special.betaincc``: ``1 - I_x(a, b)``, accurate where ``I_x`` is near
1.  Differentiable in ``x`` only, as ``betainc``.

Example:
    >>> import fxad.scipy.special as fsp
    >>> round(float(fsp.betaincc(1.0, 2.0, 0.5)), 12)  # (1 - x)**2
    0.25
""")


def _order_doc(name, what, example, value):
    return (f"Differentiable ``scipy.special.{name}``: {what}.  Differentiable in the "
            "argument ``x`` to any order, not in the order (raises NotImplementedError).\n\n"
            "Example:\n    >>> import fxad, fxad.scipy.special as fsp\n"
            f"    >>> round(float({example}), 12)\n    {value}\n")


iv = _binary_prim(_sp.iv, _lsp.bessel_iv, _order_doc(
    "iv", "the modified Bessel function of the first kind of real order v; "
    "iv' = (iv(v - 1, x) + iv(v + 1, x)) / 2", "fxad.grad(fsp.iv, argnums=1)(0.0, 1.0)",
    "0.565159103992"))
ive = _binary_prim(_sp.ive, _lsp.bessel_ive, _order_doc(
    "ive", "iv(v, x) exp(-|x|)", "fsp.ive(0.0, 1.0)", "0.465759607594"))
kv = _binary_prim(_sp.kv, _lsp.bessel_kv, _order_doc(
    "kv", "the modified Bessel function of the second kind of real order v; "
    "kv' = -(kv(v - 1, x) + kv(v + 1, x)) / 2", "fxad.grad(fsp.kv, argnums=1)(0.5, 1.0)",
    "-0.691602756672"))
kve = _binary_prim(_sp.kve, _lsp.bessel_kve, _order_doc(
    "kve", "kv(v, x) exp(x)", "fsp.kve(0.5, 1.0)", "1.253314137316"))
jv = _binary_prim(_sp.jv, _lsp.bessel_jv, _order_doc(
    "jv", "the Bessel function of the first kind of real order v; "
    "jv' = (jv(v - 1, x) - jv(v + 1, x)) / 2", "fxad.grad(fsp.jv, argnums=1)(0.0, 1.0)",
    "-0.440050585745"))
jn = jv  # as in SciPy, jn is jv
yv = _binary_prim(_sp.yv, _lsp.bessel_yv, _order_doc(
    "yv", "the Bessel function of the second kind of real order v",
    "fxad.grad(fsp.yv, argnums=1)(0.0, 1.0)", "0.7812128213"))
yn = _binary_prim(_sp.yn, _lsp.bessel_yn, _order_doc(
    "yn", "the Bessel function of the second kind of integer order n (SciPy's own "
    "algorithm for integer orders)", "fsp.yn(1.0, 1.0)", "-0.7812128213"))
beta = _binary_prim(_sp.beta, _lsp.beta, """Differentiable ``scipy.special.beta``:
``B(a, b) = Gamma(a) Gamma(b) / Gamma(a + b)``, in both arguments
(``dB/da = B (digamma(a) - digamma(a + b))``).

Example:
    >>> import fxad, fxad.scipy.special as fsp
    >>> round(float(fxad.grad(fsp.beta)(1.0, 1.0)), 12)  # digamma(1) - digamma(2)
    -1.0
""")
betaln = _binary_prim(_sp.betaln, _lsp.betaln, """Differentiable
``scipy.special.betaln``: ``log |B(a, b)|`` (a primitive with SciPy's values,
accurate for large ``a + b``), in both arguments.

Example:
    >>> import fxad, fxad.scipy.special as fsp
    >>> round(float(fsp.betaln(2.0, 3.0)), 12)  # log(1/12)
    -2.484906649788
""")


def zeta(x, q=None):
    """Differentiable ``scipy.special.zeta``: the Riemann zeta function
    (``q=None``, continued analytically to ``x < 1``) or the Hurwitz zeta
    function ``sum_k (k + q)**-x`` (NaN for ``x < 1``, as SciPy).
    Differentiable in ``x`` to any order (Euler-Maclaurin summation of
    ``sum_k -log(k + q) (k + q)**-x`` and its higher analogues) and in ``q``
    (``d/dq zeta(x, q) = -x zeta(x + 1, q)``).

    Example:
        >>> import fxad, fxad.scipy.special as fsp
        >>> round(float(fxad.grad(fsp.zeta)(0.0)), 12)  # -log(2 pi) / 2
        -0.918938533205
    """
    if q is None:
        if not isinstance(x, Tracer):
            return _sp.zeta(x)
        return _lsp.riemann_zeta(convert(x, _float_dtype(x.aval.dtype)))
    if not any_tracer(x, q):
        return _sp.zeta(x, q)
    return _lsp.zeta(*_floats(x, q))


def multigammaln(a, d):
    """Differentiable ``scipy.special.multigammaln``: the log of the
    multivariate gamma function of dimension ``d`` (a concrete integer),
    ``d (d - 1) / 4 log(pi) + sum_{j < d} gammaln(a - j / 2)`` (SciPy's own
    formula, so the composite is exact).  SciPy raises for ``a <= (d - 1) / 2``;
    on traced values (which cannot raise by value under ``jit``) the result
    is NaN there.

    Example:
        >>> import fxad, fxad.scipy.special as fsp
        >>> round(float(fxad.grad(fsp.multigammaln)(3.0, 2)), 12)  # digamma(3) + digamma(2.5)
        1.625940975744
    """
    if isinstance(d, Tracer) or int(d) != d or d < 1:
        raise ValueError("fxad.scipy.special.multigammaln: the dimension d must be a "
                         f"concrete positive integer, got {d!r}")
    if not isinstance(a, Tracer):
        return _sp.multigammaln(a, d)
    d = int(d)
    (a,) = _floats(a)
    dt = a.aval.dtype.type
    res = fnp.multiply(dt(d * (d - 1) * 0.25), dt(np.log(np.pi)))
    for j in range(d):
        res = fnp.add(res, _lsp.lgamma(fnp.subtract(a, dt(j / 2.0))))
    return fnp.where(a > dt(0.5 * (d - 1)), res, dt(np.nan))


def entr(x):
    """Differentiable ``scipy.special.entr``: ``-x log(x)`` for ``x > 0``, 0 at
    ``x == 0``, ``-inf`` for ``x < 0`` (NaN for NaN), as SciPy.  The
    derivative is ``-log(x) - 1`` for ``x > 0`` (and 0 where the value is
    constant).

    Example:
        >>> import fxad, fxad.scipy.special as fsp
        >>> float(fsp.entr(0.0)), float(fxad.grad(fsp.entr)(1.0))
        (0.0, -1.0)
    """
    if not isinstance(x, Tracer):
        return _sp.entr(x)
    (x,) = _floats(x)
    dt = x.aval.dtype.type
    pos = x > 0
    safe = fnp.where(pos, x, dt(1))
    val = fnp.negative(fnp.multiply(safe, fnp.log(safe)))
    return fnp.where(pos, val, fnp.where(x == 0, dt(0), fnp.where(x < 0, dt(-np.inf), x)))


def _x_log_ratio(x, y):
    """``(x > 0) & (y > 0)``, and ``x log(x / y)`` there (SciPy's rounding),
    with safe operands elsewhere so no NaN reaches a derivative."""
    dt = x.aval.dtype.type if isinstance(x, Tracer) else y.aval.dtype.type
    both = (x > 0) & (y > 0)
    sx, sy = fnp.where(both, x, dt(1)), fnp.where(both, y, dt(1))
    return both, fnp.multiply(sx, fnp.log(fnp.true_divide(sx, sy))), dt


def rel_entr(x, y):
    """Differentiable ``scipy.special.rel_entr``: ``x log(x / y)`` for
    ``x, y > 0``, 0 for ``x == 0, y >= 0``, ``inf`` otherwise (NaN for NaN),
    as SciPy.

    Example:
        >>> import fxad, fxad.scipy.special as fsp
        >>> [float(g) for g in fxad.grad(fsp.rel_entr, argnums=(0, 1))(1.0, 2.0)]
        [0.3068528194400547, -0.5]
    """
    if not any_tracer(x, y):
        return _sp.rel_entr(x, y)
    x, y = _floats(x, y)
    both, val, dt = _x_log_ratio(x, y)
    other = fnp.where((x == 0) & (y >= 0), dt(0), dt(np.inf))
    return fnp.where(fnp.isnan(x) | fnp.isnan(y), dt(np.nan), fnp.where(both, val, other))


def kl_div(x, y):
    """Differentiable ``scipy.special.kl_div``: ``x log(x / y) - x + y`` for
    ``x, y > 0``, ``y`` for ``x == 0, y >= 0``, ``inf`` otherwise (NaN for
    NaN), as SciPy.

    Example:
        >>> import fxad, fxad.scipy.special as fsp
        >>> [float(g) for g in fxad.grad(fsp.kl_div, argnums=(0, 1))(1.0, 2.0)]
        [-0.6931471805599453, 0.5]
    """
    if not any_tracer(x, y):
        return _sp.kl_div(x, y)
    x, y = _floats(x, y)
    both, val, dt = _x_log_ratio(x, y)
    val = fnp.add(fnp.subtract(val, x), y)
    other = fnp.where((x == 0) & (y >= 0), y, dt(np.inf))
    return fnp.where(fnp.isnan(x) | fnp.isnan(y), dt(np.nan), fnp.where(both, val, other))


# ---------------------------------------------------------------------------
# Composites


def expit(x):
    """Differentiable ``scipy.special.expit``, the logistic sigmoid
    ``1 / (1 + exp(-x))``, computed from ``exp(-|x|)`` (no overflow, and no
    NaN derivatives far in the tails).

    Example:
        >>> import fxad, fxad.scipy.special as fsp
        >>> float(fxad.grad(fsp.expit)(0.0))
        0.25
    """
    if not isinstance(x, Tracer):
        return _sp.expit(x)
    x = convert(x, _float_dtype(x.aval.dtype))
    e = fnp.exp(fnp.negative(fnp.abs(x)))
    one = x.aval.dtype.type(1)
    return fnp.where(x >= 0, fnp.true_divide(one, fnp.add(one, e)),
                     fnp.true_divide(e, fnp.add(one, e)))


def log_expit(x):
    """Differentiable ``scipy.special.log_expit``, ``log(expit(x))``, with
    SciPy's two branches (accurate in both tails).

    Example:
        >>> import fxad, fxad.scipy.special as fsp
        >>> round(float(fxad.grad(fsp.log_expit)(-40.0)), 12)
        1.0
    """
    if not isinstance(x, Tracer):
        return _sp.log_expit(x)
    x = convert(x, _float_dtype(x.aval.dtype))
    l1p = fnp.log1p(fnp.exp(fnp.negative(fnp.abs(x))))
    return fnp.where(x < 0, fnp.subtract(x, l1p), fnp.negative(l1p))


def logit(x):
    """Differentiable ``scipy.special.logit``, ``log(x / (1 - x))``; near 1/2
    as ``log1p(2 (x - 1/2)) - log1p(-2 (x - 1/2))``, as SciPy does.

    Example:
        >>> import fxad, fxad.scipy.special as fsp
        >>> float(fxad.grad(fsp.logit)(0.5))
        4.0
    """
    if not isinstance(x, Tracer):
        return _sp.logit(x)
    x = convert(x, _float_dtype(x.aval.dtype))
    dt = x.aval.dtype.type
    s = fnp.multiply(dt(2), fnp.subtract(x, dt(0.5)))
    # Each branch only where it is used is evaluated in range: clamp the
    # other's input so that neither makes a NaN (or a NaN derivative).
    middle = (x >= dt(0.3)) & (x <= dt(0.65))
    x_out = fnp.where(middle, dt(0.1), x)
    s_mid = fnp.where(middle, s, dt(0))
    outer = fnp.log(fnp.true_divide(x_out, fnp.subtract(dt(1), x_out)))
    inner = fnp.subtract(fnp.log1p(s_mid), fnp.log1p(fnp.negative(s_mid)))
    return fnp.where(middle, inner, outer)


def _x_times_log(np_fn, log_fn, good):
    def fn(x, y):
        if not any_tracer(x, y):
            return np_fn(x, y)
        dt = _float_dtype(result_type(x, y)).type
        x, y = _floats(x, y)
        # Where x == 0 (and y is not NaN) the result is 0: replace a y whose
        # log would be infinite or NaN by a harmless one, so that the product
        # is 0 and no NaN reaches a derivative.
        replace = (x == 0) & ~good(y) & (y == y)
        y = fnp.where(replace, dt(_SAFE[np_fn.__name__]), y)
        return fnp.multiply(x, log_fn(y))

    fn.__name__ = fn.__qualname__ = np_fn.__name__
    return fn


_SAFE = {"xlogy": 1.0, "xlog1py": 0.0}


def _positive_finite(y):
    return (y > 0) & fnp.isfinite(y)


def _gt_minus_one_finite(y):
    return (y > -1) & fnp.isfinite(y)


xlogy = _x_times_log(_sp.xlogy, fnp.log, _positive_finite)
xlogy.__doc__ = """Differentiable ``scipy.special.xlogy``: ``x * log(y)``, and 0 where
``x == 0`` (unless ``y`` is NaN).  At ``x == 0`` the derivative in ``x`` is
``log(y)`` for ``y > 0`` (0 otherwise) and the derivative in ``y`` is 0.

Example:
    >>> import fxad, fxad.scipy.special as fsp
    >>> float(fsp.xlogy(0.0, 0.0)), float(fxad.grad(fsp.xlogy)(0.0, 1.0))
    (0.0, 0.0)
"""
xlog1py = _x_times_log(_sp.xlog1py, fnp.log1p, _gt_minus_one_finite)
xlog1py.__doc__ = """Differentiable ``scipy.special.xlog1py``: ``x * log1p(y)``, and 0 where
``x == 0`` (unless ``y`` is NaN); derivatives as ``xlogy``'s.

Example:
    >>> import fxad, fxad.scipy.special as fsp
    >>> float(fsp.xlog1py(0.0, -1.0)), round(float(fxad.grad(fsp.xlog1py)(2.0, 1.0)), 12)
    (0.0, 0.69314718056)
"""


def _reduce_axes(x, axis):
    if isinstance(axis, list):
        axis = tuple(axis)
    return canonical_axes(axis, x.ndim)


def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
    """Differentiable ``scipy.special.logsumexp``: ``log(sum(b * exp(a)))``
    over ``axis`` (None: all axes), with weights ``b`` and, with
    ``return_sign=True``, the sign of the sum.

    As SciPy: shifted by the maximum ``M`` of ``a`` (taken with
    ``stop_gradient``: the result does not depend on it) and with the terms at
    the maximum separated out, ``M + log(m) + log1p(rest / m)``, so that a
    result near 0 keeps its relative precision.  The separated terms enter as
    ``expm1(a - M)``, 0 in value, so their derivative is kept.

    Example:
        >>> import fxad, fxad.scipy.special as fsp, numpy as np
        >>> fxad.grad(fsp.logsumexp)(np.log(np.array([1.0, 3.0])))  # softmax
        array([0.25, 0.75])
    """
    if not any_tracer(a, b):
        return _sp.logsumexp(a, axis=axis, b=b, keepdims=keepdims, return_sign=return_sign)
    dt = _float_dtype(result_type(a) if b is None else result_type(a, b)).type
    if b is None:
        (a,) = _floats(a)
    else:
        a, b = _floats(a, b)
        b = fnp.broadcast_to(b, shape_of(a))
    if fnp.ndim(a) == 0:  # SciPy works on at least 1-d arrays
        a = fnp.reshape(a, (1,))
        b = None if b is None else fnp.reshape(b, (1,))
    axes = _reduce_axes(a, axis)
    if any(shape_of(a)[ax] == 0 for ax in axes):
        shape = tuple(1 if i in axes else d for i, d in enumerate(shape_of(a)))
        out = np.full(shape, -np.inf, dt)
        sgn = np.sign(out)
    else:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            out, sgn = _logsumexp(a, b, axes, dt)
        if not return_sign:
            out = fnp.where(sgn < 0, dt(np.nan), out)
    if not keepdims:
        out = fnp.squeeze(out, axis=axes)
        sgn = fnp.squeeze(sgn, axis=axes)
    return (out, sgn) if return_sign else out


def _logsumexp(a, b, axes, dt):
    if b is not None:  # a weight of 0 drops its term, even an infinite or NaN one
        a = fnp.where(b == 0, dt(-np.inf), a)
    a_max = fnp.stop_gradient(fnp.max(a, axis=axes, keepdims=True))
    at_max = a == a_max
    shift = fnp.where(fnp.isfinite(a_max), a_max, dt(0))
    d = fnp.subtract(a, shift)
    # sum(b exp(a - M)) = m + sum(terms), m = sum of the weights at the max.
    terms = fnp.where(at_max, fnp.expm1(d), fnp.exp(d))
    weights = fnp.where(at_max, dt(1), dt(0))
    if b is not None:
        terms = fnp.multiply(b, terms)
        weights = fnp.multiply(b, weights)
    m = fnp.sum(weights, axis=axes, keepdims=True)
    # SciPy leaves s alone where it is 0 (no 0 / 0 when m is 0); dividing by
    # a safe m instead keeps the derivative of s / m where m != 0.
    s = fnp.true_divide(fnp.sum(terms, axis=axes, keepdims=True),
                        fnp.where(m == 0, dt(1), m))
    sgn = fnp.multiply(fnp.sign(fnp.add(s, dt(1))), fnp.sign(m))
    s = fnp.where(s < -1, fnp.subtract(fnp.negative(s), dt(2)), s)
    out = fnp.add(fnp.add(fnp.log1p(s), fnp.log(fnp.abs(m))), shift)
    # Where that is not finite (an infinite input, cancelling weights at the
    # max), SciPy falls back to the unshifted formula; so do we (no
    # derivative flows there).
    direct = fnp.exp(a) if b is None else fnp.multiply(b, fnp.exp(a))
    total = fnp.stop_gradient(fnp.sum(direct, axis=axes, keepdims=True))
    finite = fnp.isfinite(out)
    out = fnp.where(finite, out, fnp.log(fnp.abs(total)))
    sgn = fnp.where(finite, sgn, fnp.sign(total))
    return out, sgn


def softmax(x, axis=None):
    """Differentiable ``scipy.special.softmax``: ``exp(x) / sum(exp(x))``
    over ``axis``, shifted by a ``stop_gradient`` of the maximum.

    Example:
        >>> import fxad.scipy.special as fsp, numpy as np
        >>> fsp.softmax(np.log(np.array([1.0, 3.0])))
        array([0.25, 0.75])
    """
    if not isinstance(x, Tracer):
        return _sp.softmax(x, axis=axis)
    (x,) = _floats(x)
    axes = _reduce_axes(x, axis)
    e = fnp.exp(fnp.subtract(x, fnp.stop_gradient(fnp.max(x, axis=axes, keepdims=True))))
    return fnp.true_divide(e, fnp.sum(e, axis=axes, keepdims=True))


def log_softmax(x, axis=None):
    """Differentiable ``scipy.special.log_softmax``:
    ``x - logsumexp(x)`` over ``axis``, computed as SciPy does.

    Example:
        >>> import fxad.scipy.special as fsp, numpy as np
        >>> fsp.log_softmax(np.log(np.array([1.0, 3.0])))
        array([-1.38629436, -0.28768207])
    """
    if not isinstance(x, Tracer):
        return _sp.log_softmax(x, axis=axis)
    (x,) = _floats(x)
    axes = _reduce_axes(x, axis)
    dt = x.aval.dtype.type
    x_max = fnp.stop_gradient(fnp.max(x, axis=axes, keepdims=True))
    x_max = fnp.where(fnp.isfinite(x_max), x_max, dt(0))
    tmp = fnp.subtract(x, x_max)
    with np.errstate(divide="ignore"):
        return fnp.subtract(tmp, fnp.log(fnp.sum(fnp.exp(tmp), axis=axes, keepdims=True)))



# Public functions take lists holding tracers and return NumPy's result types
# (fxad/numpy/_util.py: numpy_function); keep this after the last function.
_install_numpy_functions(globals())

# SciPy's special functions are ufuncs: route them on tracers to this module.
_dispatch.register("scipy.special", sys.modules[__name__])
