"""Op records of the call primitive ``pjit`` (``fxad.jit``'s), joined to
``tests/op_records.py``'s table.

Each record's function binds ``pjit`` directly on a body traced for the
operands' avals (eagerly, a jit function runs its compiled code without
binding anything), so the value, autodiff, vmap and jit suites all push
the call through their interpreters: its impl, abstract eval, JVP, the
known/unknown split of linearize, its transpose and its batching rule.
Bodies cover a smooth body, a linear one (the transpose is checked), one
with two outputs, one with a nested call, and one with an unused operand.
"""

from __future__ import annotations

import numpy as np
from op_records import ALL, F32, F64, Arg, C, OpRecord

from fxad import lax
from fxad.core import get_aval
from fxad.interpreters.partial_eval import trace_to_jaxpr
from fxad.jit import pjit_p

_bodies: dict = {}


def call(body, prim=pjit_p, **params):
    """``body`` bound as one equation of the call primitive ``prim`` (the body
    traced once per avals), with ``params`` besides the body and its name."""

    def fun(*args):
        avals = tuple(get_aval(a).strip_weak_type() for a in args)
        closed = _bodies.get((body, avals))
        if closed is None:
            closed = _bodies[(body, avals)] = trace_to_jaxpr(
                lambda *xs: list(body(*xs)), list(avals))
        return prim.bind(*args, jaxpr=closed, name=body.__name__, **params)

    return fun


def _smooth(x, y):
    return (lax.add(lax.mul(lax.sin(x), y), lax.exp(x)),)


def _linear(x, y):
    return (lax.sub(lax.add(x, x), y),)


def _two(x, y):
    return lax.mul(x, y), lax.tanh(x)


def _nested(x, y):
    (inner,) = call(_smooth)(x, y)
    return (lax.mul(inner, lax.cos(y)),)


def _unused(x, y):
    return (lax.mul(x, x),)


def _first(f):
    return lambda *args: f(*args)[0]


def _two_combined(x, y):
    a, b = call(_two)(x, y)
    return lax.add(a, lax.mul(b, b))


SHAPES = [((), ()), ((3,), (3,)), ((2, 3), (2, 3))]


def _cases(dtype=F64, shapes=SHAPES, **kw):
    return tuple(C(Arg(s1, dtype=dtype), Arg(s2, dtype=dtype), **kw) for s1, s2 in shapes)


RECORDS = [
    OpRecord("pjit", _first(call(_smooth)), lambda x, y: np.sin(x) * y + np.exp(x),
             _cases() + _cases(F32, shapes=[((3,), (3,))])),
    OpRecord("pjit", _first(call(_linear)), lambda x, y: 2.0 * x - y, _cases(),
             linear=(ALL,)),
    OpRecord("pjit", _two_combined, lambda x, y: x * y + np.tanh(x) ** 2, _cases()),
    OpRecord("pjit", _first(call(_nested)),
             lambda x, y: (np.sin(x) * y + np.exp(x)) * np.cos(y), _cases()),
    OpRecord("pjit", _first(call(_unused)), lambda x, y: x * x, _cases()),
]
