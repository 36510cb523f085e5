"""Op records of the quantile primitives of ``fxad.scipy.stats``
(``fxad/scipy/stats/_primitives.py`` and ``stdtrit`` in ``t.py``), checked
against SciPy; they join ``RECORDS`` in ``tests/op_records.py``.

The inverses are differentiated in ``q`` (their shape parameters enter
through ``gammainc``/``betainc``/``stdtr``, whose shape derivatives fxad does
not have), so the records hold the shapes as static parameters passed as
constant operands, as the records of ``igamma`` and ``betainc`` do;
``tests/test_scipy_stats_methods.py`` checks the implicit derivative in a
parameter with a forward function that has one.  ``discrete_quantile`` is
piecewise constant: its cases are ``diff="zero"``."""

from __future__ import annotations

import numpy as np
import scipy.special as sp
import scipy.stats as st
from op_records import DOMAINS, F32, INTERVALS, Arg, C, OpRecord

from fxad.core import get_aval
from fxad.scipy.stats import _primitives as sprim
from fxad.scipy.stats import t as _t

# Probabilities away from 0 and 1 (where the quantiles and their derivatives blow up).
DOMAINS.setdefault("prob", lambda rng, shape: rng.uniform(0.05, 0.95, shape))
INTERVALS.setdefault("prob", (0.05, 0.95))


def _const(v, like):
    return np.asarray(v, like)


def _one_shape(name, fun, ref, shape_param):
    """A record of ``fun(s, q)`` with the shape ``s`` static (a float or a
    tuple, one per element)."""
    cases = (C(Arg((3,), "prob"), **{shape_param: 0.7}),
             C(Arg((), "prob"), **{shape_param: 2.5}),
             C(Arg((2, 3), "prob"), **{shape_param: 1.0}),
             C(Arg((3,), "prob"), **{shape_param: (0.5, 1.5, 4.0)}),
             C(Arg((0,), "prob"), **{shape_param: 3.0}),
             C(Arg((3,), "prob", F32), **{shape_param: 5.0}))

    def f(q, **kw):
        return fun(_const(kw[shape_param], get_aval(q).dtype), q)

    def r(q, **kw):
        q = np.asarray(q)
        return np.asarray(ref(_const(kw[shape_param], q.dtype), q)).astype(q.dtype)[()]

    return OpRecord(name, f, r, cases)


def _two_shapes(name, fun, ref):
    cases = (C(Arg((3,), "prob"), a=0.7, b=2.5), C(Arg((), "prob"), a=2.5, b=0.6),
             C(Arg((2, 3), "prob"), a=1.0, b=1.0),
             C(Arg((3,), "prob"), a=(0.5, 1.5, 4.0), b=(3.0, 1.0, 0.8)),
             C(Arg((0,), "prob"), a=2.0, b=3.0), C(Arg((4,), "prob", F32), a=3.0, b=4.5))

    def f(q, *, a, b):
        dt = get_aval(q).dtype
        return fun(_const(a, dt), _const(b, dt), q)

    def r(q, *, a, b):
        q = np.asarray(q)
        return np.asarray(ref(_const(a, q.dtype), _const(b, q.dtype), q)).astype(q.dtype)[()]

    return OpRecord(name, f, r, cases)


def _discrete_record():
    cases = (C(Arg((4,), "prob"), dist="poisson", fn="ppf", params=(3.5,)),
             C(Arg((), "prob"), dist="poisson", fn="isf", params=(0.7,)),
             C(Arg((2, 3), "prob"), dist="binom", fn="ppf", params=(10.0, 0.3)),
             C(Arg((3,), "prob"), dist="binom", fn="isf", params=(7.0, 0.6)),
             C(Arg((3,), "prob", F32), dist="nbinom", fn="ppf", params=(2.5, 0.4)),
             C(Arg((0,), "prob"), dist="nbinom", fn="isf", params=(1.0, 0.5)),
             C(np.array([0.0, 1.0, 1e-12, 1.5]), dist="poisson", fn="ppf", params=(2.0,),
               name="edges"))

    def f(q, *, dist, fn, params):
        dt = get_aval(q).dtype
        return sprim.discrete_quantile(q, *[_const(p, dt) for p in params], dist=dist, fn=fn)

    def r(q, *, dist, fn, params):
        q = np.asarray(q)
        out = getattr(getattr(st, dist), fn)(q, *params)
        return np.asarray(out).astype(q.dtype)[()]

    return OpRecord("discrete_quantile", f, r, cases, diff="zero")


RECORDS = [
    _one_shape("gammaincinv", sprim.gammaincinv, sp.gammaincinv, "a"),
    _one_shape("gammainccinv", sprim.gammainccinv, sp.gammainccinv, "a"),
    _two_shapes("betaincinv", sprim.betaincinv, sp.betaincinv),
    _two_shapes("betainccinv", sprim.betainccinv, sp.betainccinv),
    _one_shape("stdtrit", _t._bind_stdtrit, sp.stdtrit, "df"),
    _discrete_record(),
]
