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

#: ``rule(trace, args, params) -> outs`` for a primitive holding a jaxpr
#: (a call), used by a partial-evaluating ``JaxprTrace`` (``linearize``'s)
#: when some operands are known (not this trace's tracers) and some are not:
#: the rule evaluates the known part of the body now and stages only the
#: rest, so that the staged program stays linear in the tangents.
partial_eval_rules: dict = {}
#: ``rule(eqn, unknowns) -> (known_eqn, unknown_eqn, out_unknowns, residuals)``
#: splitting one equation of a jaxpr being partially evaluated
#: (``partial_eval_jaxpr``); the default makes the whole equation unknown
#: when any operand is.
partial_eval_jaxpr_rules: dict = {}


class JaxprTracer(Tracer):
    __slots__ = ("aval", "ir_var")

    def __init__(self, trace, aval, var):
        self._trace = trace
        self.aval = aval
        self.ir_var = var

    def _strip_weak_type(self):
        # The same variable: weak types steer promotion only (check_jaxpr
        # ignores them), and the equations below read the tracer's aval.
        return JaxprTracer(self._trace, self.aval.strip_weak_type(), self.ir_var)


class JaxprTrace(Trace):
    """Stages every primitive applied to its tracers.  ``partial_eval``: a
    call with known and unknown operands is split (``partial_eval_rules``);
    ``linearize`` sets it, ``make_jaxpr`` and ``jit`` stage calls whole."""

    __slots__ = ("eqns", "constvar_of", "consts", "constvars", "partial_eval")

    def __init__(self, level, partial_eval=False):
        super().__init__(level)
        self.partial_eval = partial_eval
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
        if self.partial_eval and prim in partial_eval_rules:
            for x in args:
                if not (type(x) is JaxprTracer and x._trace is self):
                    return partial_eval_rules[prim](self, args, params)
        return self.stage(prim, args, params)

    def stage(self, prim, args, params):
        """Record ``prim`` applied to ``args`` (non-tracers become constants)."""
        invars = []
        avals = []
        for x in args:
            if type(x) is JaxprTracer and x._trace is self:
                v = x.ir_var
                avals.append(x.aval)  # _strip_weak_type retypes the tracer, not its Var
            else:
                v = self.const(x)
                avals.append(v.aval)
            invars.append(v)
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


# ---------------------------------------------------------------------------
# Partial evaluation of a jaxpr: the known/unknown split of a call's body


def partial_eval_jaxpr(closed: ClosedJaxpr, unknowns):
    """Split ``closed`` given which inputs are unknown.

    Returns ``(known, unknown, out_unknowns, num_res)``: ``known`` maps the
    known inputs to the known outputs followed by ``num_res`` residuals;
    ``unknown`` maps the residuals followed by the unknown inputs to the
    unknown outputs.  An equation is known when all its operands are (a call
    with mixed operands is split by its ``partial_eval_jaxpr_rules`` entry).
    Memoised on ``closed``.
    """
    unknowns = tuple(bool(u) for u in unknowns)
    return closed.memo(("partial_eval", unknowns), lambda: _partial_eval_jaxpr(closed, unknowns))


def _partial_eval_jaxpr(closed, unknowns):
    jaxpr = closed.jaxpr
    unknown_vars = {v for v, u in core.safe_zip(jaxpr.invars, unknowns) if u}
    known_eqns, unknown_eqns = [], []
    residuals: dict = {}  # known Var -> its residual index, in order of need

    def need(x):
        if type(x) is Var and x not in unknown_vars and x not in residuals:
            residuals[x] = len(residuals)

    for eqn in jaxpr.eqns:
        unk_in = [type(x) is Var and x in unknown_vars for x in eqn.invars]
        if not any(unk_in):
            known_eqns.append(eqn)
            continue
        rule = partial_eval_jaxpr_rules.get(eqn.primitive)
        if rule is not None and not all(unk_in):
            k_eqn, u_eqn, out_unk, res = rule(eqn, unk_in)
            if k_eqn is not None:
                known_eqns.append(k_eqn)
            for v, u in core.safe_zip(eqn.outvars, out_unk):
                if u:
                    unknown_vars.add(v)
            for r in res:
                need(r)
            for x in u_eqn.invars:
                need(x)
            unknown_eqns.append(u_eqn)
            continue
        for x in eqn.invars:
            need(x)
        unknown_vars.update(eqn.outvars)
        unknown_eqns.append(eqn)
    out_unknowns = [type(x) is Var and x in unknown_vars for x in jaxpr.outvars]
    # Constvars are shared: both halves keep them as constants, not residuals.
    const_set = set(jaxpr.constvars)
    res_vars = [v for v in residuals if v not in const_set]
    known_in = [v for v, u in zip(jaxpr.invars, unknowns) if not u]
    unknown_in = [v for v, u in zip(jaxpr.invars, unknowns) if u]
    known_out = [x for x, u in zip(jaxpr.outvars, out_unknowns) if not u]
    unknown_out = [x for x, u in zip(jaxpr.outvars, out_unknowns) if u]
    known = Jaxpr(jaxpr.constvars, known_in, known_eqns, known_out + res_vars)
    # The unknown half reads the residuals through fresh binders (a Var is
    # bound once per jaxpr, and known invars may also be residuals).
    res_binders = [Var(v.aval) for v in res_vars]
    sub = dict(zip(res_vars, res_binders))
    u_eqns = [subst_eqn(e, sub) for e in unknown_eqns]
    u_out = [sub.get(x, x) if type(x) is Var else x for x in unknown_out]
    unknown = Jaxpr(jaxpr.constvars, res_binders + unknown_in, u_eqns, u_out)
    known_c = ClosedJaxpr(_pruned(known), closed.consts)
    unknown_c = ClosedJaxpr(unknown, closed.consts)
    if core.config.check_jaxprs:
        core.check_jaxpr(known_c)
        core.check_jaxpr(unknown_c)
    return known_c, unknown_c, out_unknowns, len(res_vars)


def subst_eqn(eqn, sub):
    if not any(type(x) is Var and x in sub for x in eqn.invars):
        return eqn
    return JaxprEqn(eqn.primitive, [sub.get(x, x) if type(x) is Var else x for x in eqn.invars],
                    eqn.params, eqn.outvars)


def _pruned(jaxpr):
    """``jaxpr`` without the equations none of its outputs needs (the known
    half keeps only what the known outputs and the residuals need)."""
    live = {x for x in jaxpr.outvars if type(x) is Var}
    kept = []
    for eqn in reversed(jaxpr.eqns):
        if any(v in live for v in eqn.outvars):
            kept.append(eqn)
            live.update(x for x in eqn.invars if type(x) is Var)
    kept.reverse()
    return Jaxpr(jaxpr.constvars, jaxpr.invars, kept, jaxpr.outvars)


def is_staging_tracer(x) -> bool:
    return isinstance(x, JaxprTracer)


__all__ = ["JaxprTrace", "JaxprTracer", "trace_to_jaxpr", "is_staging_tracer", "core",
           "partial_eval_jaxpr", "partial_eval_rules", "partial_eval_jaxpr_rules"]
