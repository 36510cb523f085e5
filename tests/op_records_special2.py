"""Op records of the second round of special-function primitives
(``fxad/lax/special.py``: the gamma and beta families, ``erfc_inv``, the
Bessel functions, the zeta functions, ``igamma_grad_a``; complex ``erf``,
``erfc`` and ``loggamma``), checked against SciPy.

The Bessel functions are differentiable in ``x`` only, so their records hold
the order ``v`` as a static parameter (a float or a tuple of floats) passed
to the primitive as a constant operand, as the ``igamma`` records of
``tests/op_records_special.py`` hold the shape.  ``igamma``/``igammac`` get
records here with ``a`` differentiable too (first order: the second
derivative in ``a`` is not implemented), and ``igamma_grad_a`` one with
``a`` held.  Complex ``loggamma`` differentiates once (its derivative,
complex ``digamma``, has none: SciPy has no complex polygamma)."""

from __future__ import annotations

import math

import numpy as np
import scipy.special as sp
from op_records import C128, DOMAINS, F32, F64, INTERVALS, Arg, C, OpRecord, binary, unary

from fxad.core import get_aval
from fxad.lax import special as lsp

DOMAINS.setdefault("erfc_dom", lambda rng, shape: rng.uniform(0.1, 1.9, shape))
INTERVALS.setdefault("erfc_dom", (0.1, 1.9))
# Negative non-integers away from the poles of Gamma (and of digamma).
DOMAINS.setdefault("neg_nonint", lambda rng, shape: -rng.integers(0, 4, shape)
                   - rng.uniform(0.2, 0.8, shape))
DOMAINS.setdefault("bessel_x", lambda rng, shape: rng.uniform(0.5, 6.0, shape))
INTERVALS.setdefault("bessel_x", (0.5, 6.0))
DOMAINS.setdefault("quarter_plane", lambda rng, shape: rng.uniform(0.3, 2.0, shape))


def _unop(name, fun, ref, domain="normal", extra=(), **kw):
    cases = unary(domain) + unary(domain, F32, shapes=[(3,)]) + list(extra)
    return OpRecord(name, lambda x: fun(x), ref, tuple(cases), **kw)


def _ref(fn):
    """A SciPy function with the output in the input's dtype, 0-d as scalars."""
    def ref(*args):
        return np.asarray(fn(*args)).astype(np.result_type(*args))[()]
    return ref


def _complex_unop(name, fun, ref, domain="normal", **kw):
    cases = unary(domain, C128, shapes=[(), (3,), (2, 3)])
    return OpRecord(name, lambda x: fun(x), ref, tuple(cases), **kw)


def _with_order(name, fun, ref, orders, domain="bessel_x"):
    """A record of ``fun(v, x)`` with the order ``v`` a static parameter."""
    cases = [C(Arg((3,), domain), v=orders[0]), C(Arg((), domain), v=orders[1]),
             C(Arg((2, 3), domain), v=orders[2]), C(Arg((3,), domain), v=tuple(orders[:3])),
             C(Arg((0,), domain), v=orders[0]), C(Arg((3,), domain, F32), v=orders[1])]
    return OpRecord(name, lambda x, *, v: fun(np.asarray(v, get_aval(x).dtype), x),
                    lambda x, *, v: _ref(ref)(np.asarray(v, np.asarray(x).dtype), x),
                    tuple(cases))


def _held_a(name, fun, ref):
    cases = (C(Arg((3,), "positive"), a=0.7), C(Arg((), "positive"), a=2.5),
             C(Arg((3,), "gt1"), a=(0.5, 1.5, 4.0)), C(Arg((0,), "positive"), a=1.0),
             C(Arg((3,), "positive", F32), a=1.5))
    return OpRecord(name, lambda x, *, a: fun(np.asarray(a, get_aval(x).dtype), x),
                    lambda x, *, a: _ref(ref)(np.asarray(a, np.asarray(x).dtype), x), cases)


def _zeta_deriv_ref(x, q, *, n):
    """``d^n/dx^n zeta(x, q)`` summed directly to K = 10**5 terms, plus the
    tail's integral in closed form (an incomplete gamma function of integer
    order) and the first two Euler-Maclaurin corrections (independent of the
    primitive's Taylor-arithmetic series)."""
    dtype = np.result_type(x, q)
    x, q = np.broadcast_arrays(np.asarray(x, np.float64), np.asarray(q, np.float64))
    big = 100_000
    u = np.arange(big).reshape((big,) + (1,) * x.ndim) + q
    direct = np.sum((-np.log(u)) ** n * u ** -x, axis=0)
    a = big + q
    la, s = np.log(a), x - 1
    integral = (-1) ** n * np.exp(-s * la) * sum(
        math.factorial(n) / math.factorial(j) * la ** j / s ** (n - j + 1) for j in range(n + 1))
    f = (-la) ** n * a ** -x
    df = (-1) ** n * (n * la ** (n - 1) - x * la ** n) * a ** (-x - 1)
    return np.asarray(direct + integral + f / 2 - df / 12).astype(dtype)[()]


def _zeta_deriv_case(shape, n, dtype=F64):
    return C(Arg(shape, "gt1", dtype), Arg(shape, "quarter_plane", dtype), n=n)


RECORDS = [
    _unop("erfc_inv", lsp.erfc_inv, sp.erfcinv, "erfc_dom"),
    _complex_unop("erf", lsp.erf, sp.erf),
    _complex_unop("erfc", lsp.erfc, sp.erfc),
    _unop("gamma", lsp.gamma, sp.gamma, "positive", extra=unary("neg_nonint")),
    _unop("rgamma", lsp.rgamma, sp.rgamma, "positive", extra=unary("neg_nonint")),
    _unop("gammasgn", lsp.gammasgn, sp.gammasgn, "neg_nonint", extra=unary("positive"),
          diff="zero"),
    _unop("loggamma", lsp.loggamma, sp.loggamma, "positive"),
    _complex_unop("loggamma", lsp.loggamma, sp.loggamma, "quarter_plane", order=1),
    OpRecord("beta", lsp.beta, _ref(sp.beta), tuple(binary("positive", "positive")
                                                   + binary("gt1", "positive", F32,
                                                            shapes=[((3,), (3,))]))),
    OpRecord("betaln", lsp.betaln, _ref(sp.betaln), tuple(binary("positive", "positive")
                                                         + binary("gt1", "positive", F32,
                                                                  shapes=[((3,), (3,))]))),
    # a differentiable too (first order only: no second derivative in a)
    OpRecord("igamma", lsp.igamma, _ref(sp.gammainc),
             tuple(binary("positive", "positive", shapes=[((3,), (3,)), ((), (2, 3))])),
             order=1),
    OpRecord("igammac", lsp.igammac, _ref(sp.gammaincc),
             tuple(binary("positive", "gt1", shapes=[((3,), (3,)), ((2, 3), ())])), order=1),
    _held_a("igamma_grad_a", lsp.igamma_grad_a, lambda a, x: _igamma_grad_a_ref(a, x)),
    _unop("bessel_i0", lsp.bessel_i0, sp.i0),
    _unop("bessel_i0e", lsp.bessel_i0e, sp.i0e, "nonzero"),
    _unop("bessel_i1", lsp.bessel_i1, sp.i1),
    _unop("bessel_i1e", lsp.bessel_i1e, sp.i1e, "nonzero"),
    _unop("bessel_j0", lsp.bessel_j0, sp.j0),
    _unop("bessel_j1", lsp.bessel_j1, sp.j1),
    _unop("bessel_y0", lsp.bessel_y0, sp.y0, "bessel_x"),
    _unop("bessel_y1", lsp.bessel_y1, sp.y1, "bessel_x"),
    _with_order("bessel_iv", lsp.bessel_iv, sp.iv, (0.0, 1.5, 3.2)),
    _with_order("bessel_ive", lsp.bessel_ive, sp.ive, (0.5, 2.0, 1.0)),
    _with_order("bessel_kv", lsp.bessel_kv, sp.kv, (0.5, 2.0, 0.0)),
    _with_order("bessel_kve", lsp.bessel_kve, sp.kve, (1.0, 0.3, 2.5)),
    _with_order("bessel_jv", lsp.bessel_jv, sp.jv, (0.0, 2.5, 1.0)),
    _with_order("bessel_yv", lsp.bessel_yv, sp.yv, (0.5, 1.0, 2.0)),
    _with_order("bessel_yn", lsp.bessel_yn, sp.yn, (0.0, 1.0, 3.0)),
    OpRecord("zeta", lsp.zeta, _ref(sp.zeta), tuple(binary("gt1", "quarter_plane")
                                                   + binary("gt1", "quarter_plane", F32,
                                                            shapes=[((3,), (3,))]))),
    _unop("riemann_zeta", lsp.riemann_zeta, _ref(sp.zeta), "gt1", extra=unary("unit")),
    OpRecord("zeta_deriv", lambda x, q, *, n: lsp.zeta_deriv(x, q, n), _zeta_deriv_ref,
             (_zeta_deriv_case((3,), 1), _zeta_deriv_case((), 2), _zeta_deriv_case((2, 3), 1),
              _zeta_deriv_case((0,), 1), _zeta_deriv_case((3,), 1, F32))),
]


def igamma_grad_a_quad(a, x):
    """dP/da at one point by quadrature (independent of the primitive's series
    and continued fraction): ``int (log t - digamma(a)) t**(a-1) exp(-t) dt /
    Gamma(a)`` over ``[0, x]`` (QUADPACK's algebraic-logarithmic weights for the
    singularity at 0) where ``x <= a``, else minus the integral over
    ``[x, inf)`` (no cancellation when P is near 1)."""
    from scipy.integrate import quad

    psi, lg = sp.digamma(a), sp.gammaln(a)
    kw = dict(epsabs=0, epsrel=1e-13, limit=400)
    if x <= a:
        i_log = quad(lambda t: np.exp(-t - lg), 0, x, weight="alg-loga", wvar=(a - 1, 0), **kw)
        i_one = quad(lambda t: np.exp(-t - lg), 0, x, weight="alg", wvar=(a - 1, 0), **kw)
        return i_log[0] - psi * i_one[0]
    return -quad(lambda t: (np.log(t) - psi) * np.exp((a - 1) * np.log(t) - t - lg),
                 x, np.inf, **kw)[0]


def _igamma_grad_a_ref(a, x):
    dtype = np.result_type(a, x)
    a, x = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(x, np.float64))
    out = np.empty(a.shape)
    for i in np.ndindex(a.shape):
        out[i] = igamma_grad_a_quad(float(a[i]), float(x[i]))
    return out.astype(dtype)[()]


def richardson_grad_a(a, x, levels=7):
    """``(dP/da, error estimate)`` at one point by Richardson extrapolation of
    central differences of log P (or log Q, whichever of P and Q is smaller)
    from SciPy."""
    p, q = sp.gammainc(a, x), sp.gammaincc(a, x)
    fn, scale = (sp.gammainc, p) if p <= q else (sp.gammaincc, -q)
    h = 0.2 * min(a, 1.0)

    def d(h):
        return (np.log(fn(a + h, x)) - np.log(fn(a - h, x))) / (2 * h)

    table = [[d(h / 2 ** i)] for i in range(levels)]
    for i in range(1, levels):
        for j in range(1, i + 1):
            table[i].append(table[i][j - 1]
                            + (table[i][j - 1] - table[i - 1][j - 1]) / (4 ** j - 1))
    return scale * table[-1][-1], abs(scale) * abs(table[-1][-1] - table[-2][-2])
