"""Op records of the special-function primitives (``fxad/lax/special.py``),
checked against SciPy; they join ``RECORDS`` in ``tests/op_records.py``.

``igamma``/``igammac`` are differentiable in ``x`` only, so their records
hold the shape ``a`` as a static parameter (a float or a tuple of floats)
and pass it to the primitive as a constant operand; ``betainc``/``betaincc``
(differentiable in ``x`` only too) hold both ``a`` and ``b`` so."""

from __future__ import annotations

import numpy as np
import scipy.special as sp
from op_records import DOMAINS, F32, INTERVALS, Arg, C, OpRecord, unary

from fxad.core import get_aval
from fxad.lax import special as lsp

# Probabilities away from 0 and 1 (the poles of ndtri's derivatives).
DOMAINS.setdefault("prob", lambda rng, shape: rng.uniform(0.05, 0.95, shape))
INTERVALS.setdefault("prob", (0.05, 0.95))


def _unop(name, fun, ref, domain="normal", extra=(), **kw):
    cases = unary(domain) + unary(domain, F32, shapes=[(3,)]) + list(extra)
    return OpRecord(name, lambda x: fun(x), ref, tuple(cases), **kw)


def _igamma_case(a, shape, domain="positive"):
    return C(Arg(shape, domain), a=a)


def _igamma_record(name, fun, ref):
    cases = (_igamma_case(0.7, (3,)), _igamma_case(2.5, ()), _igamma_case(1.0, (2, 3)),
             _igamma_case((0.5, 1.5, 4.0), (3,)), _igamma_case(3.0, (0,)),
             C(Arg((4,), "gt1"), a=12.0))
    return OpRecord(name, lambda x, *, a: fun(np.asarray(a, get_aval(x).dtype), x),
                    lambda x, *, a: ref(np.asarray(a, np.asarray(x).dtype), x), cases)


def _betainc_record(name, fun, ref):
    cases = (C(Arg((3,), "prob"), a=0.7, b=2.5), C(Arg((), "prob"), a=2.5, b=0.6),
             C(Arg((2, 3), "prob"), a=1.0, b=1.0), C(Arg((3,), "prob"), a=(0.5, 1.5, 4.0),
                                                     b=(3.0, 1.0, 0.8)),
             C(Arg((0,), "prob"), a=2.0, b=3.0), C(Arg((4,), "prob"), a=30.0, b=45.0))

    def as_(v, like):
        return np.asarray(v, like)

    return OpRecord(name, lambda x, *, a, b: fun(as_(a, get_aval(x).dtype),
                                                 as_(b, get_aval(x).dtype), x),
                    lambda x, *, a, b: ref(as_(a, np.asarray(x).dtype),
                                           as_(b, np.asarray(x).dtype), x), cases)


def _corr(rho, dtype):
    return np.array([[1.0, rho], [rho, 1.0]], dtype)


def _bvn_ref(z, rho):
    """The bivariate normal CDF by 1-D quadrature, ``int phi(t) ndtr((k - rho t) / s)``
    over ``t <= h`` (independent of the primitive's Owen's T formula)."""
    from scipy.integrate import quad

    z = np.asarray(z)
    s = np.sqrt(1.0 - rho ** 2)
    pts = z.reshape(-1, 2).astype(np.float64)
    out = [quad(lambda t, k=k: np.exp(-t * t / 2) / np.sqrt(2 * np.pi) * sp.ndtr((k - rho * t) / s),
                -np.inf, h, epsabs=1e-16, epsrel=1e-13, limit=200)[0] for h, k in pts]
    return np.asarray(out).reshape(z.shape[:-1]).astype(z.dtype)[()]


_TAILS = C(np.array([-30.0, -12.0, -3.0, 4.0, 9.0]), name="tails")

RECORDS = [
    _unop("erf", lsp.erf, sp.erf),
    _unop("erfc", lsp.erfc, sp.erfc),
    _unop("erf_inv", lsp.erf_inv, sp.erfinv, "unit"),
    _unop("ndtri", lsp.ndtri, sp.ndtri, "prob",
          extra=[C(np.array([1e-12, 1e-5, 0.5, 1 - 1e-5]), name="tails", diff="values")]),
    _unop("log_ndtr", lsp.log_ndtr, sp.log_ndtr, extra=[_TAILS]),
    _unop("lgamma", lsp.lgamma, sp.gammaln, "positive", extra=unary("noninteger")),
    _unop("digamma", lsp.digamma, sp.psi, "positive", extra=unary("noninteger")),
    OpRecord("polygamma", lambda x, *, n: lsp.polygamma(n, x),
             lambda x, *, n: np.asarray(sp.polygamma(n, x)).astype(np.asarray(x).dtype)[()],
             tuple([c for n in (0, 1, 2, 3) for c in unary("positive", n=n)]
                   + unary("noninteger", shapes=[(4,)], n=1)
                   + unary("positive", F32, shapes=[(3,)], n=2))),
    _igamma_record("igamma", lsp.igamma, sp.gammainc),
    _igamma_record("igammac", lsp.igammac, sp.gammaincc),
    _betainc_record("betainc", lsp.betainc, sp.betainc),
    _betainc_record("betaincc", lsp.betaincc, sp.betaincc),
    OpRecord("mvn_cdf", lambda z, *, rho: lsp.mvn_cdf(z, _corr(rho, get_aval(z).dtype)),
             lambda z, *, rho: _bvn_ref(z, rho),
             (C(Arg((2,)), rho=0.4), C(Arg((3, 2)), rho=-0.6), C(Arg((2,)), rho=0.0),
              C(Arg((2, 2), dtype=F32), rho=0.3))),
]
