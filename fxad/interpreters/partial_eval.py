"""Staging: trace Python into a jaxpr.

``JaxprTrace`` records every primitive applied to its tracers as an equation
and evaluates nothing.  Values that are not its tracers (NumPy arrays, Python
scalars, tracers of lower levels) become constants of the jaxpr: scalars
inline as ``Literal``, everything else as a ``constvar``.

Partial evaluation (what ``linearize`` needs) falls out of the level
discipline: in ``linearize`` the primal inputs are concrete values (or
tracers of outer levels) and only the tangents are tracers of this trace, so
the primal work runs now and only the equations that touch a tangent (the
linear ones) are staged.  This is JAX's "known/unknown" split with the knowns
never wrapped, which keeps the per-operation cost low.
"""

from __future__ import annotations

import numpy as np

from fxad import core
from fxad.core import (
    ClosedJaxpr,
    Jaxpr,
    JaxprEqn,
    Literal,
    Trace,
    Tracer,
    Var,
    get_aval,
    new_trace,
)

_SCALAR_TYPES = frozenset((float, int, bool, complex))


class JaxprTracer(Tracer):
    __slots__ = ("aval", "ir_var")

    def __init__(self, trace, aval, var):
        self._trace = trace
        self.aval = aval
        self.ir_var = var


class JaxprTrace(Trace):
    __slots__ = ("eqns", "constvar_of", "consts", "constvars")

    def __init__(self, level):
        super().__init__(level)
        self.eqns: list = []
        self.constvar_of: dict = {}  # id(value) -> Var
        self.consts: list = []  # the values, kept alive
        self.constvars: list = []

    def new_arg(self, aval) -> JaxprTracer:
        return JaxprTracer(self, aval, Var(aval))

    def getvar(self, x):
        if type(x) is JaxprTracer and x._trace is self:
            return x.ir_var
        return self.const(x)

    def const(self, x):
        t = type(x)
        if t in _SCALAR_TYPES or (t is np.ndarray and x.ndim == 0) or \
                (t is not np.ndarray and isinstance(x, np.generic)):
            return Literal(x, get_aval(x))
        v = self.constvar_of.get(id(x))
        if v is None:
            v = Var(get_aval(x).strip_weak_type())
            self.constvar_of[id(x)] = v
            self.consts.append(x)
            self.constvars.append(v)
        return v

    def process_primitive(self, prim, args, params):
        invars = []
        avals = []
        for x in args:
            if type(x) is JaxprTracer and x._trace is self:
                v = x.ir_var
            else:
                v = self.const(x)
            invars.append(v)
            avals.append(v.aval)
        out = prim.abstract_eval(*avals, **params)
        if prim.multiple_results:
            outvars = [Var(a) for a in out]
            self.eqns.append(JaxprEqn(prim, invars, params, outvars))
            return [JaxprTracer(self, v.aval, v) for v in outvars]
        outvar = Var(out)
        self.eqns.append(JaxprEqn(prim, invars, params, [outvar]))
        return JaxprTracer(self, out, outvar)

    def emit(self, prim, invars, params):
        """Stage an equation directly (for values that are not tracers)."""
        out = prim.abstract_eval(*[v.aval for v in invars], **params)
        outvar = Var(out)
        self.eqns.append(JaxprEqn(prim, invars, params, [outvar]))
        return outvar

    def to_jaxpr(self, in_tracers, outs) -> ClosedJaxpr:
        invars = [t.ir_var for t in in_tracers]
        outvars = [self.getvar(x) for x in outs]
        jaxpr = Jaxpr(self.constvars, invars, self.eqns, outvars)
        if core.config.check_jaxprs:
            core.check_jaxpr(jaxpr)
        return ClosedJaxpr(jaxpr, self.consts)


def trace_to_jaxpr(fun, in_avals) -> tuple[ClosedJaxpr, list]:
    """Stage ``fun`` (flat list of arrays in, flat list out) on ``in_avals``."""
    with new_trace(JaxprTrace) as trace:
        tracers = [trace.new_arg(a) for a in in_avals]
        outs = fun(*tracers)
        closed = trace.to_jaxpr(tracers, outs)
    return closed


def is_staging_tracer(x) -> bool:
    return isinstance(x, JaxprTracer)


__all__ = ["JaxprTrace", "JaxprTracer", "trace_to_jaxpr", "is_staging_tracer", "core"]
