"""Op records of the custom-derivative primitives (``fxad.custom_jvp``'s
``custom_jvp_call``, ``fxad.custom_vjp``'s ``custom_vjp_call`` and
``custom_lin``), joined to ``tests/op_records.py``'s table.

Each record's function is a custom function whose rule is the true
derivative written by hand (so finite differences check that the rule, not
the body, is what runs: the bodies below are written so that differentiating
them would take other paths, and ``tests/test_custom_derivatives.py`` shows a
deliberately wrong rule being observed).  ``custom_vjp`` functions support
reverse mode only (forward mode is JAX's error), so their records say
``modes=("rev",)``; ``custom_lin`` appears whenever one is differentiated in
reverse mode (it is the linear map ``bwd`` transposes), so its records are
custom_vjp functions too.  The linear records check the calls' own
transpose (``linear_transpose`` stages the call whole and transposes its
body).
"""

from __future__ import annotations

import numpy as np
from op_records import ALL, F32, F64, Arg, C, OpRecord

import fxad
import fxad.numpy as fnp

SHAPES = [((), ()), ((3,), (3,)), ((2, 3), (2, 3))]


def _cases(dtype=F64, shapes=SHAPES, **kw):
    return tuple(C(Arg(s1, dtype=dtype), Arg(s2, dtype=dtype), **kw) for s1, s2 in shapes)


# ---------------------------------------------------------------------------
# custom_jvp


@fxad.custom_jvp
def smooth_jvp(x, y):
    return fnp.sin(x) * y + fnp.exp(x)


@smooth_jvp.defjvp
def _smooth_jvp_rule(primals, tangents):
    (x, y), (tx, ty) = primals, tangents
    return smooth_jvp(x, y), (fnp.cos(x) * y + fnp.exp(x)) * tx + fnp.sin(x) * ty


@fxad.custom_jvp
def linear_jvp(x, y):
    return x + x - y


linear_jvp.defjvps(lambda t, ans, x, y: 2 * t, lambda t, ans, x, y: -t)


@fxad.custom_jvp
def two_jvp(x, y):
    return x * y, fnp.tanh(x)


@two_jvp.defjvp
def _two_jvp_rule(primals, tangents):
    (x, y), (tx, ty) = primals, tangents
    a, b = two_jvp(x, y)
    return (a, b), (tx * y + x * ty, (1 - b * b) * tx)


def _two_combined(f):
    def g(x, y):
        a, b = f(x, y)
        return a + b * b

    return g


@fxad.custom_jvp
def log1pexp(x):
    return fnp.log(1 + fnp.exp(x))


@log1pexp.defjvp
def _log1pexp_rule(primals, tangents):
    (x,), (t,) = primals, tangents
    return log1pexp(x), t * (1 - 1 / (1 + fnp.exp(x)))


def _power(n, x):
    return x ** n


power_jvp = fxad.custom_jvp(_power, nondiff_argnums=(0,))
power_jvp.defjvp(lambda n, p, t: (power_jvp(n, p[0]), n * p[0] ** (n - 1) * t[0]))


# ---------------------------------------------------------------------------
# custom_vjp


@fxad.custom_vjp
def smooth_vjp(x, y):
    return fnp.sin(x) * y + fnp.exp(x)


def _smooth_fwd(x, y):
    s, e = fnp.sin(x), fnp.exp(x)
    return s * y + e, (fnp.cos(x), s, e, y)


def _smooth_bwd(res, g):
    c, s, e, y = res
    return (g * (c * y + e), g * s)


smooth_vjp.defvjp(_smooth_fwd, _smooth_bwd)


@fxad.custom_vjp
def linear_vjp(x, y):
    return x + x - y


linear_vjp.defvjp(lambda x, y: (x + x - y, None), lambda _, g: (2 * g, -g))


@fxad.custom_vjp
def two_vjp(x, y):
    return x * y, fnp.tanh(x)


def _two_fwd(x, y):
    b = fnp.tanh(x)
    return (x * y, b), (x, y, b)


def _two_bwd(res, cts):
    x, y, b = res
    ga, gb = cts
    return (ga * y + gb * (1 - b * b), ga * x)


two_vjp.defvjp(_two_fwd, _two_bwd)


@fxad.custom_vjp
def dict_vjp(p):
    return {"out": p["w"] * fnp.exp(p["b"])}


def _dict_fwd(p):
    e = fnp.exp(p["b"])
    return {"out": p["w"] * e}, (p["w"], e)


def _dict_bwd(res, ct):
    w, e = res
    g = ct["out"]
    return ({"w": g * e, "b": g * w * e},)


dict_vjp.defvjp(_dict_fwd, _dict_bwd)


def _dict_fun(w, b):
    return dict_vjp({"w": w, "b": b})["out"]


REV = ("rev",)

RECORDS = [
    OpRecord("custom_jvp_call", smooth_jvp, lambda x, y: np.sin(x) * y + np.exp(x),
             _cases() + _cases(F32, shapes=[((3,), (3,))])),
    OpRecord("custom_jvp_call", linear_jvp, lambda x, y: 2.0 * x - y, _cases(),
             linear=(ALL,)),
    OpRecord("custom_jvp_call", _two_combined(two_jvp),
             lambda x, y: x * y + np.tanh(x) ** 2, _cases()),
    OpRecord("custom_jvp_call", log1pexp, lambda x: np.log1p(np.exp(x)),
             (C(Arg(())), C(Arg((4,))))),
    OpRecord("custom_jvp_call", lambda x: power_jvp(3, x), lambda x: x ** 3,
             (C(Arg(())), C(Arg((2, 2))))),
    OpRecord("custom_vjp_call", smooth_vjp, lambda x, y: np.sin(x) * y + np.exp(x),
             _cases() + _cases(F32, shapes=[((3,), (3,))]), modes=REV),
    OpRecord("custom_vjp_call", linear_vjp, lambda x, y: 2.0 * x - y, _cases(),
             linear=(ALL,), modes=REV),
    OpRecord("custom_vjp_call", _two_combined(two_vjp),
             lambda x, y: x * y + np.tanh(x) ** 2, _cases(), modes=REV),
    OpRecord("custom_lin", _dict_fun, lambda w, b: w * np.exp(b), _cases(), modes=REV,
             staged_in="linearize"),
    OpRecord("custom_lin", linear_vjp, lambda x, y: 2.0 * x - y, _cases()[:2],
             linear=(ALL,), modes=REV, staged_in="linearize"),
]
