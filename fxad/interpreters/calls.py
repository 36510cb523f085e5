"""Rules shared by call primitives: primitives whose ``jaxpr`` param is a
body they apply to their operands (``pjit``, ``remat``).

``defcall(prim)`` registers, keyed by ``prim``, a rule in every interpreter;
each rule derives a new body from the call's body, memoised on the body
(``ClosedJaxpr.memo``), and binds ``prim`` again with it and the call's other
params:

* impl: the body's generated code (``codegen.generate(optimize(body))``);
* abstract eval: the operands must match the body's inputs (shape, dtype);
* JVP: a call of the body's JVP (``ad.jvp_call_jaxpr``);
* linearize (``JaxprTrace(partial_eval=True)``): a known call evaluated now
  and an unknown, linear call staged with the residuals as operands
  (``partial_eval.partial_eval_jaxpr``), and the same split for a call nested
  in a body being split;
* transpose: a call of the transposed body (``ad.transpose_call_jaxpr``);
* batching: a call of the batched body (``batching.batch_call_jaxpr``);
* DCE: unused outputs pruned from the call and its body;
* codegen: a call of the body's generated code, compiled once.

A call primitive with other semantics overrides the rules it changes after
``defcall`` (``remat`` replaces the linearize split so that residuals are
recomputed instead of stored).
"""

from __future__ import annotations

import numpy as np

from fxad.core import ClosedJaxpr, Jaxpr, JaxprEqn, Tracer, Var, eval_jaxpr, gc_paused
from fxad.interpreters import ad, batching, codegen
from fxad.interpreters import optimize as _opt
from fxad.interpreters import partial_eval as pe
from fxad.interpreters.ad import Zero, is_undefined, tangent_aval
from fxad.interpreters.partial_eval import JaxprTracer

__all__ = ["defcall", "callee", "call_abstract_eval", "call_emitter", "call_impl",
           "check_operands",
           "closure_convert"]

_PY_TO_NP = {float: np.float64, int: np.int64, complex: np.complex128, bool: np.bool_}


def callee(jaxpr):
    """The generated code of a call's body (compiled once per body).  The
    collector is paused meanwhile: compiling allocates many small objects
    that all stay alive."""

    def make():
        with gc_paused():
            return codegen.generate(_opt.optimize(jaxpr))

    return jaxpr.memo("executable", make)


def call_impl(*args, jaxpr, **params):
    # The generated code converts weakly typed Python scalars on entry; other
    # Python scalars (a cotangent seed, a literal operand) become NumPy ones.
    args = [_PY_TO_NP[type(a)](a) if type(a) in _PY_TO_NP else a for a in args]
    return list(callee(jaxpr).run(*args))


def check_operands(what, avals, body):
    """Raise a TypeError naming ``what`` unless ``avals`` match ``body``'s
    inputs in number, shape and dtype (weak types aside): the abstract eval
    of every primitive that holds a body."""
    want = body.in_avals
    if len(avals) != len(want):
        raise TypeError(f"{what}: {len(avals)} operands for a body of {len(want)} inputs")
    for i, (a, w) in enumerate(zip(avals, want)):
        if a.shape != w.shape or a.dtype != w.dtype:
            raise TypeError(f"{what}: operand {i} is {a.str_short()} but the body's input "
                            f"{i} is {w.str_short()}")


def call_abstract_eval(prim):
    def abstract_eval(*avals, jaxpr, **params):
        check_operands(f"{prim.name} {params.get('name', '')}", avals, jaxpr)
        return jaxpr.out_avals

    return abstract_eval


def _renamed(params, how):
    name = params.get("name")
    return params if name is None else dict(params, name=f"{how}({name})")


def jvp_rule(prim):
    def rule(primals, tangents, *, jaxpr, **params):
        nonzeros = [type(t) is not Zero for t in tangents]
        jvp_closed, out_nz = ad.jvp_call_jaxpr(jaxpr, nonzeros)
        outs = prim.bind(*primals, *[t for t in tangents if type(t) is not Zero],
                         jaxpr=jvp_closed, **_renamed(params, "jvp"))
        n = len(jaxpr.out_avals)
        it = iter(outs[n:])
        tangents_out = [next(it) if nz else Zero(tangent_aval(a))
                        for nz, a in zip(out_nz, jaxpr.out_avals)]
        return outs[:n], tangents_out

    return rule


def partial_eval_rule(prim):
    """Under linearize: evaluate the known part of the body now (as a call,
    so outer transformations still see one), stage the unknown part as a
    call of the residuals and the unknown operands."""

    def rule(trace, args, params):
        jaxpr = params["jaxpr"]
        unknowns = [type(x) is JaxprTracer and x._trace is trace for x in args]
        known, unknown, out_unk, nres = pe.partial_eval_jaxpr(jaxpr, unknowns)
        known_args = [x for x, u in zip(args, unknowns) if not u]
        if known.jaxpr.eqns:
            known_outs = prim.bind(*known_args, **dict(params, jaxpr=known))
        else:  # only forwarding: nothing to run
            known_outs = eval_jaxpr(known.jaxpr, known.consts, *known_args)
        nk = len(known_outs) - nres
        unknown_args = known_outs[nk:] + [x for x, u in zip(args, unknowns) if u]
        unknown_outs = (trace.stage(prim, unknown_args, dict(params, jaxpr=unknown))
                        if unknown.jaxpr.outvars else [])
        k_it, u_it = iter(known_outs[:nk]), iter(unknown_outs)
        return [next(u_it) if u else next(k_it) for u in out_unk]

    return rule


def partial_eval_jaxpr_rule(prim):
    """The same split for a call nested in a body being split."""

    def rule(eqn, unknowns):
        params = eqn.params
        known, unknown, out_unk, nres = pe.partial_eval_jaxpr(params["jaxpr"], unknowns)
        k_outs = [v for v, u in zip(eqn.outvars, out_unk) if not u]
        res = [Var(a) for a in known.out_avals[len(k_outs):]]
        k_eqn = JaxprEqn(prim, [x for x, u in zip(eqn.invars, unknowns) if not u],
                         dict(params, jaxpr=known), k_outs + res)
        u_eqn = JaxprEqn(prim, res + [x for x, u in zip(eqn.invars, unknowns) if u],
                         dict(params, jaxpr=unknown),
                         [v for v, u in zip(eqn.outvars, out_unk) if u])
        return k_eqn, u_eqn, out_unk, res

    return rule


def transpose_rule(prim):
    def rule(cts, *args, jaxpr, **params):
        linear = [is_undefined(a) for a in args]
        ct_nz = [type(c) is not Zero for c in cts]
        transposed, in_nz = ad.transpose_call_jaxpr(jaxpr, linear, ct_nz)
        res = [a for a in args if not is_undefined(a)]
        outs = prim.bind(*res, *[c for c in cts if type(c) is not Zero],
                         jaxpr=transposed, **_renamed(params, "transpose"))
        out_it, nz_it = iter(outs), iter(in_nz)
        return [(next(out_it) if next(nz_it) else Zero(a.aval)) if is_undefined(a) else None
                for a in args]

    return rule


def batch_rule(prim):
    def rule(args, dims, *, jaxpr, **params):
        size = batching.axis_size(args, dims)
        batched, out_dims = batching.batch_call_jaxpr(jaxpr, dims, size)
        return prim.bind(*args, jaxpr=batched, **params), out_dims

    return rule


def dce_rule(prim):
    """Unused outputs are pruned from the call and from its body, and so are
    the operands only they needed."""

    def rule(eqn, used_outputs):
        closed = eqn.params["jaxpr"]
        body, used_in = _opt.dce_jaxpr(closed.jaxpr, used_outputs)
        if all(used_outputs) and all(used_in) and len(body.eqns) == len(closed.jaxpr.eqns):
            return eqn
        new = _opt.prune_constvars(ClosedJaxpr(body, closed.consts))
        return JaxprEqn(prim, [x for x, u in zip(eqn.invars, used_in) if u],
                        dict(eqn.params, jaxpr=new),
                        [v for v, u in zip(eqn.outvars, used_outputs) if u])

    return rule


def call_emitter(param="jaxpr"):
    """Codegen: a call equation becomes a call of its body's generated code,
    compiled once (``callee``) and held in the generated function's globals;
    the printer unpacks the outputs it returns."""

    def emit(ctx):
        run = ctx.g.const(callee(ctx.eqn.params[param]).run, "_call")
        return f"{run}({', '.join(ctx.ins)})"

    return emit


def defcall(prim):
    """Register the call rules above for ``prim`` (a ``multiple_results``
    primitive whose ``jaxpr`` param is its body)."""
    prim.def_impl(call_impl)
    prim.def_abstract_eval(call_abstract_eval(prim))
    ad.jvp_rules[prim] = jvp_rule(prim)
    pe.partial_eval_rules[prim] = partial_eval_rule(prim)
    pe.partial_eval_jaxpr_rules[prim] = partial_eval_jaxpr_rule(prim)
    ad.deftranspose(prim, transpose_rule(prim))
    batching.batch_rules[prim] = batch_rule(prim)
    _opt.dce_rules[prim] = dce_rule(prim)
    codegen.def_emitter(prim, call_emitter())
    return prim


def closure_convert(closed):
    """``(body, const_args)``: constants of a traced body that are tracers of
    an enclosing transformation become leading inputs of the body, to be
    passed by the call (``const_args``), so that a body holds only concrete
    values and can be cached, compiled and transformed on its own."""
    jaxpr = closed.jaxpr
    traced = [isinstance(c, Tracer) for c in closed.consts]
    if not any(traced):
        return closed, []
    constvars = [v for v, t in zip(jaxpr.constvars, traced) if not t]
    consts = [c for c, t in zip(closed.consts, traced) if not t]
    lifted = [v for v, t in zip(jaxpr.constvars, traced) if t]
    args = [c for c, t in zip(closed.consts, traced) if t]
    body = Jaxpr(constvars, lifted + jaxpr.invars, jaxpr.eqns, jaxpr.outvars)
    return ClosedJaxpr(body, consts), args
