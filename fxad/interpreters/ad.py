"""Automatic differentiation: JVP (forward mode), linearize, and transpose.

* ``JVPTrace`` carries ``(primal, tangent)`` pairs through primitives with
  the table ``jvp_rules``.  A tangent known to be zero is the symbolic
  ``Zero(aval)`` and costs nothing: a primitive whose tangents are all Zero
  is applied to the primals only and its output carries no tangent.
* ``linearize`` runs the JVP with the tangent inputs being tracers of a
  staging trace one level below, so primal work is done now and the tangent
  equations (linear in the tangents) are staged into a jaxpr.
* ``backward_pass`` transposes a linear jaxpr with the table
  ``transpose_rules``, walking its equations backwards, accumulating
  cotangents and skipping zeros.  ``vjp`` is ``linearize`` then
  ``backward_pass``: there is no table of VJP rules.

Rule conventions: a JVP rule is ``rule(primals, tangents, **params) ->
(out, out_dot)``; a transpose rule is ``rule(ct, *args, **params)`` with
``UndefinedPrimal`` standing for the linear inputs, returning one cotangent
(or ``None``/``Zero``) per input.
"""

from __future__ import annotations

import numpy as np

from fxad import core
from fxad.core import (
    Literal,
    Trace,
    Tracer,
    get_aval,
    is_float_dtype,
    new_primitive,
    new_trace,
    safe_zip,
    shaped,
)
from fxad.interpreters import batching, codegen, optimize
from fxad.interpreters.partial_eval import JaxprTrace, JaxprTracer, trace_to_jaxpr

jvp_rules: dict = {}
transpose_rules: dict = {}
#: Primitives whose outputs carry no derivative (comparisons, argmax, ...).
nondiff_primitives: set = set()
#: Primitives that are linear in (some of) their inputs and may appear in a
#: linear jaxpr; each must have a transpose rule.
linear_primitives: set = set()
#: Primitives that linearize may stage into a linear program but that can
#: never be transposed (a while loop's trip count is known only at run
#: time), each with the error message reverse mode raises for it: what
#: cannot be done and what to use instead.
untransposable: dict = {}


# ---------------------------------------------------------------------------
# Symbolic zeros


class Zero:
    """A tangent or cotangent known to be zero, of the given aval."""

    __slots__ = ("aval",)

    def __init__(self, aval):
        self.aval = aval

    def __repr__(self):
        return f"Zero({self.aval.str_short()})"

    @staticmethod
    def from_value(x):
        return Zero(tangent_aval(get_aval(x)))


def tangent_aval(aval):
    """Tangent space of an aval: same shape and dtype (float/complex only)."""
    return aval.strip_weak_type()


def zeros_like_aval(aval):
    return np.zeros(aval.shape, aval.dtype)


def instantiate(t):
    """A concrete array for a tangent that may be a symbolic ``Zero``."""
    if type(t) is Zero:
        return zeros_like_aval(t.aval)
    return t


def add_tangents(a, b):
    if type(a) is Zero:
        return b
    if type(b) is Zero:
        return a
    return add_any(a, b)


# ---------------------------------------------------------------------------
# add_any: the sum of two tangents (or cotangents) of one aval.  AD's own
# primitive, as JAX's ``add_jaxvals_p``: it combines the contributions of a
# JVP rule's inputs and accumulates cotangents in the backward pass, so the
# interpreters need no lax.  Strict: both operands have the same shape and
# dtype (a rule whose contribution has another shape is wrong).


def add_any(x, y):
    return core.bind(add_any_p, x, y)


def _add_any_abstract_eval(x, y):
    if x.shape != y.shape or x.dtype != y.dtype:
        raise TypeError(
            f"add_any adds tangents or cotangents of one aval, got {x.str_short()} and "
            f"{y.str_short()}: the JVP or transpose rule that produced them gave a "
            "contribution of the wrong shape or dtype.")
    return shaped(x.shape, x.dtype, x.weak_type and y.weak_type)


def _add_any_jvp(primals, tangents):
    (x, y), (tx, ty) = primals, tangents
    return add_any(x, y), add_tangents(tx, ty)


def _add_any_batch(args, dims):
    (x, y), (dx, dy) = args, dims
    if dx == dy:
        return add_any(x, y), dx
    # The operands' batch axes differ.  These NumPy calls dispatch to
    # fxad.numpy when x or y is a tracer of an outer trace (NumPy's protocols,
    # which the NumPy layer installs on Tracer), so ad needs no lax here.
    if dx is batching.not_mapped:
        (x, dx), (y, dy) = (y, dy), (x, dx)
    if dy is batching.not_mapped:
        y = np.broadcast_to(np.expand_dims(y, dx), get_aval(x).shape)
    else:
        y = np.moveaxis(y, dy, dx)
    return add_any(x, y), dx


add_any_p = new_primitive("add_any")
add_any_p.def_impl(np.add)
add_any_p.def_abstract_eval(_add_any_abstract_eval)
batching.batch_rules[add_any_p] = _add_any_batch
optimize.def_commutative(add_any_p)
optimize.def_forwarding(add_any_p, optimize.identity_element_rule(optimize.additive_identity,
                                                                 optimize.additive_identity))
codegen.def_operator(add_any_p, "+", "add")


# ---------------------------------------------------------------------------
# zeros: the zero tangent that AD stages when it instantiates a symbolic Zero
# (an output of a linear jaxpr that does not depend on its inputs).  The
# operand, usually a 0-d literal, gives the dtype; ``shape`` the shape.  It is
# linear in its operand (it is zero times it).


def zeros(x, shape):
    return core.bind(zeros_p, x, shape=tuple(shape))


def _zeros_impl(x, *, shape):
    return np.zeros(shape, np.result_type(x))


def _zeros_abstract_eval(x, *, shape):
    return shaped(shape, x.dtype)


def _zeros_batch(args, dims, *, shape):
    (x,), _ = args, dims
    return zeros(np.zeros((), get_aval(x).dtype), shape), batching.not_mapped


zeros_p = new_primitive("zeros")
zeros_p.def_impl(_zeros_impl)
zeros_p.def_abstract_eval(_zeros_abstract_eval)
batching.batch_rules[zeros_p] = _zeros_batch


def _emit_zeros(ctx):
    shape = ctx.g.param(tuple(ctx.eqn.params["shape"]))
    return f"xp.zeros({shape}, dtype={ctx.g.const(ctx.out.dtype)})"


def _emit_zeros_scalar(ctx):
    return "0.0" if ctx.out.dtype == np.float64 else "False"


codegen.def_emitter(zeros_p, _emit_zeros, scalar=_emit_zeros_scalar)


# ---------------------------------------------------------------------------
# JVP


class JVPTracer(Tracer):
    __slots__ = ("primal", "tangent", "_aval")

    def __init__(self, trace, primal, tangent):
        self._trace = trace
        self.primal = primal
        self.tangent = tangent
        self._aval = None

    @property
    def aval(self):
        a = self._aval
        if a is None:
            a = self._aval = get_aval(self.primal)
        return a

    def to_concrete_value(self):
        p = self.primal
        if isinstance(p, Tracer):
            return p.to_concrete_value()
        return p

    def _concrete_hint(self):
        if self.to_concrete_value() is not None:
            return (
                "It carries a derivative (inside grad/jvp), which converting it "
                "to a Python or NumPy value would silently drop. Keep computing "
                "with fxad.numpy on the traced value, or wrap it in "
                "fxad.stop_gradient(x) first if the derivative is not wanted."
            )
        return super()._concrete_hint()

    def __float__(self):
        self._concrete("float()")

    def _strip_weak_type(self):
        p = self.primal  # weak: a Python scalar, or a weak tracer of an outer trace
        p = p._strip_weak_type() if isinstance(p, Tracer) else get_aval(p).dtype.type(p)
        return None if p is None else JVPTracer(self._trace, p, self.tangent)


class JVPTrace(Trace):
    __slots__ = ()

    def process_primitive(self, prim, args, params):
        primals = []
        tangents = []
        nonzero = False
        for x in args:
            if type(x) is JVPTracer and x._trace is self:
                primals.append(x.primal)
                tangents.append(x.tangent)
                nonzero = True
            else:
                primals.append(x)
                tangents.append(None)
        if not nonzero:  # pragma: no cover - bind never sends us this
            return core.bind(prim, *primals, **params)
        rule = jvp_rules.get(prim)
        if rule is None:
            if prim in nondiff_primitives:
                return core.bind(prim, *primals, **params)
            raise NotImplementedError(
                f"fxad: differentiation rule for primitive '{prim.name}' is not implemented."
            )
        tangents = [Zero.from_value(p) if t is None else t for p, t in zip(primals, tangents)]
        out, out_dot = rule(primals, tangents, **params)
        if prim.multiple_results:
            return [o if type(t) is Zero else JVPTracer(self, o, t)
                    for o, t in safe_zip(out, out_dot)]
        if type(out_dot) is Zero:
            return out
        return JVPTracer(self, out, out_dot)


def jvp_flat(fun, primals, tangents):
    """Forward mode on flat lists: returns ``(primals_out, tangents_out)``,
    with symbolic ``Zero`` for outputs that do not depend on the inputs."""
    with new_trace(JVPTrace) as trace:
        in_tracers = [
            p if type(t) is Zero else JVPTracer(trace, p, t) for p, t in safe_zip(primals, tangents)
        ]
        outs = fun(*in_tracers)
        primals_out, tangents_out = [], []
        for o in outs:
            if type(o) is JVPTracer and o._trace is trace:
                primals_out.append(o.primal)
                tangents_out.append(o.tangent)
            else:
                primals_out.append(o)
                tangents_out.append(Zero.from_value(o))
    return primals_out, tangents_out


def jvp_jaxpr(closed):
    """The JVP of a closed jaxpr as a jaxpr: ``(*primals, *tangents) ->
    (*primals_out, *tangents_out)``, every tangent present."""
    n = len(closed.in_avals)

    def f(*args):
        po, to = jvp_flat(lambda *xs: closed(*xs), list(args[:n]), list(args[n:]))
        return po + [instantiate(t) for t in to]

    return trace_to_jaxpr(f, list(closed.in_avals) + [tangent_aval(a) for a in closed.in_avals])


def jvp_call_jaxpr(closed, nonzeros):
    """The JVP of a call's body with symbolic zeros kept out of it:
    ``(*primals, *tangents of the inputs where nonzeros) -> (*primals_out,
    *the tangents that are not identically zero)``.  Returns ``(jvp_closed,
    out_nonzeros)``; memoised on ``closed`` (a call traced once is
    differentiated once)."""
    nonzeros = tuple(bool(nz) for nz in nonzeros)
    return closed.memo(("jvp", nonzeros), lambda: _jvp_call_jaxpr(closed, nonzeros))


def _jvp_call_jaxpr(closed, nonzeros):
    in_avals = list(closed.in_avals)
    n = len(in_avals)
    t_avals = [tangent_aval(a) for a, nz in safe_zip(in_avals, nonzeros) if nz]
    out_nz: list = []

    def f(*args):
        primals = list(args[:n])
        it = iter(args[n:])
        tangents = [next(it) if nz else Zero(tangent_aval(a))
                    for a, nz in zip(in_avals, nonzeros)]
        po, to = jvp_flat(lambda *xs: closed(*xs), primals, tangents)
        out_nz[:] = [type(t) is not Zero for t in to]
        return po + [t for t in to if type(t) is not Zero]

    jvp_closed = trace_to_jaxpr(f, in_avals + t_avals)
    return jvp_closed, out_nz


# ---------------------------------------------------------------------------
# Linearize


def linearize_flat(fun, primals):
    """Returns ``(primals_out, linear_jaxpr, out_zero)``: the linear jaxpr maps
    input tangents to output tangents; ``out_zero[i]`` says output i's tangent
    is identically zero.

    The cyclic garbage collector is paused meanwhile: tracing allocates many
    small objects that all stay alive (and form no cycles), and collections
    triggered by those allocations would rescan them again and again."""
    with core.gc_paused():
        return _linearize_flat(fun, primals)


def _linearize_flat(fun, primals):
    with new_trace(JaxprTrace, True) as staging:
        t_in = [staging.new_arg(tangent_aval(get_aval(p))) for p in primals]
        with new_trace(JVPTrace) as trace:
            # Integer and boolean inputs have no tangent (their input var stays unused).
            in_tracers = [JVPTracer(trace, p, t) if is_float_dtype(get_aval(p).dtype) else p
                          for p, t in safe_zip(primals, t_in)]
            outs = fun(*in_tracers)
            primals_out, tangents_out, out_zero = [], [], []
            for o in outs:
                if type(o) is JVPTracer and o._trace is trace:
                    primals_out.append(o.primal)
                    tangents_out.append(o.tangent)
                    out_zero.append(type(o.tangent) is Zero)
                else:
                    primals_out.append(o)
                    tangents_out.append(Zero.from_value(o))
                    out_zero.append(True)
        out_vals = []
        for t in tangents_out:
            if type(t) is Zero:
                out_vals.append(_staged_zeros(staging, t.aval))
            else:
                out_vals.append(t)
        linear = staging.to_jaxpr(t_in, out_vals)
    return primals_out, linear, out_zero


def _staged_zeros(staging, aval):
    """A zero output of a linear jaxpr, staged as ``zeros 0.0``."""
    lit = Literal(aval.dtype.type(0), shaped((), aval.dtype))
    var = staging.emit(zeros_p, [lit], dict(shape=aval.shape))
    return JaxprTracer(staging, var.aval, var)


# ---------------------------------------------------------------------------
# Transpose


class UndefinedPrimal:
    """Marks a linear input of an equation in a transpose rule."""

    __slots__ = ("aval",)

    def __init__(self, aval):
        self.aval = aval

    def __repr__(self):
        return f"UndefinedPrimal({self.aval.str_short()})"


def is_undefined(x) -> bool:
    return type(x) is UndefinedPrimal


def backward_pass(jaxpr, consts, cts_out, args=None):
    """Transpose a linear ``jaxpr`` (linear in all its invars, or in those
    that are ``UndefinedPrimal`` in ``args`` when given, the others being
    values; constvars are bound to ``consts``): given output cotangents
    (``Zero`` allowed), return input cotangents (``Zero`` where none flows;
    None for the non-linear inputs).  Iterative, so deep programs
    do not recurse.  This loop runs once per reverse-mode call: it is written
    for speed (no per-equation closures or helper calls), with the garbage
    collector paused as in ``linearize_flat``."""
    with core.gc_paused():
        return _backward_pass(jaxpr, consts, cts_out, args)


def _backward_pass(jaxpr, consts, cts_out, args):
    env = dict(safe_zip(jaxpr.constvars, consts))
    if args is None:
        linear_vars = set(jaxpr.invars)
    else:
        linear_vars = set()
        for v, a in safe_zip(jaxpr.invars, args):
            if type(a) is UndefinedPrimal:
                linear_vars.add(v)
            else:
                env[v] = a
    bind = core.bind

    # Forward: evaluate the non-linear equations, find the linear ones.
    lin_eqns = []
    for eqn in jaxpr.eqns:
        for v in eqn.invars:
            if type(v) is not Literal and v in linear_vars:
                linear_vars.update(eqn.outvars)
                lin_eqns.append(eqn)
                break
        else:
            out = bind(eqn.primitive, *[x.val if type(x) is Literal else env[x]
                                        for x in eqn.invars], **eqn.params)
            if eqn.primitive.multiple_results:
                for v, o in safe_zip(eqn.outvars, out):
                    env[v] = o
            else:
                env[eqn.outvars[0]] = out

    add = add_any_p
    ct_env: dict = {}
    for v, ct in safe_zip(jaxpr.outvars, cts_out):
        if ct is None or type(ct) is Zero or type(v) is Literal or v not in linear_vars:
            continue
        prev = ct_env.get(v)
        ct_env[v] = ct if prev is None else bind(add, prev, ct)

    for eqn in reversed(lin_eqns):
        prim = eqn.primitive
        if prim.multiple_results:
            cts = [ct_env.pop(v, None) for v in eqn.outvars]
            if all(c is None for c in cts):
                continue
            cts = [Zero(v.aval) if c is None else c for c, v in zip(cts, eqn.outvars)]
        else:
            cts = ct_env.pop(eqn.outvars[0], None)
            if cts is None:
                continue
        rule = transpose_rules.get(prim)
        if rule is None:
            if prim in untransposable:
                raise ValueError(untransposable[prim])
            raise NotImplementedError(
                f"fxad: transpose rule for primitive '{prim.name}' is not implemented "
                "(it appeared in a linear program being transposed for reverse mode)."
            )
        invars = eqn.invars
        args = [
            x.val if type(x) is Literal
            else UndefinedPrimal(x.aval) if x in linear_vars else env[x]
            for x in invars
        ]
        cts_in = rule(cts, *args, **eqn.params)
        if len(cts_in) != len(invars):
            raise ValueError(f"transpose rule of {prim.name} gave {len(cts_in)} cotangents "
                             f"for {len(invars)} inputs")
        for x, ct in zip(invars, cts_in):
            if ct is None or type(ct) is Zero or type(x) is Literal or x not in linear_vars:
                continue
            prev = ct_env.get(x)
            ct_env[x] = ct if prev is None else bind(add, prev, ct)

    if args is None:
        return [ct_env[v] if v in ct_env else Zero(v.aval) for v in jaxpr.invars]
    return [(ct_env[v] if v in ct_env else Zero(v.aval)) if v in linear_vars else None
            for v in jaxpr.invars]


def transpose_call_jaxpr(closed, linear, ct_nonzeros):
    """The transpose of a call's body, linear in the inputs where ``linear``:
    ``(*the non-linear inputs, *the output cotangents where ct_nonzeros) ->
    (*the cotangents of the linear inputs that are not identically zero)``.
    Returns ``(transposed, in_nonzeros)`` (one flag per linear input);
    memoised on ``closed``."""
    linear = tuple(bool(x) for x in linear)
    ct_nonzeros = tuple(bool(x) for x in ct_nonzeros)
    return closed.memo(("transpose", linear, ct_nonzeros),
                       lambda: _transpose_call_jaxpr(closed, linear, ct_nonzeros))


def _transpose_call_jaxpr(closed, linear, ct_nonzeros):
    in_avals = closed.in_avals
    res_avals = [a for a, lin in safe_zip(in_avals, linear) if not lin]
    out_avals = closed.out_avals
    ct_avals = [tangent_aval(a) for a, nz in safe_zip(out_avals, ct_nonzeros) if nz]
    nres = len(res_avals)
    in_nz: list = []

    def f(*xs):
        res = iter(xs[:nres])
        cts_it = iter(xs[nres:])
        args = [UndefinedPrimal(tangent_aval(a)) if lin else next(res)
                for a, lin in zip(in_avals, linear)]
        cts = [next(cts_it) if nz else Zero(tangent_aval(a))
               for a, nz in zip(out_avals, ct_nonzeros)]
        cts_in = backward_pass(closed.jaxpr, closed.consts, cts, args)
        lin_cts = [c for c, lin in zip(cts_in, linear) if lin]
        in_nz[:] = [type(c) is not Zero for c in lin_cts]
        return [c for c in lin_cts if type(c) is not Zero]

    transposed = trace_to_jaxpr(f, res_avals + ct_avals)
    return transposed, in_nz


# ---------------------------------------------------------------------------
# Rule helpers (used by the lax blocks)


def defjvp(prim, *jvp_fns):
    """JVP rule from one function per input, ``fn(t, *primals, **params)``,
    each giving that input's contribution to the output tangent (None for an
    input with no derivative).  Zero tangents cost nothing."""

    def rule(primals, tangents, **params):
        ans = core.bind(prim, *primals, **params)
        acc = None
        for fn, t in zip(jvp_fns, tangents):
            if fn is None or type(t) is Zero:
                continue
            v = fn(t, *primals, **params)
            acc = v if acc is None else add_any(acc, v)
        return ans, (Zero.from_value(ans) if acc is None else acc)

    jvp_rules[prim] = rule
    return rule


def defjvp2(prim, *jvp_fns):
    """Like ``defjvp`` but each ``fn(t, ans, *primals, **params)`` also gets the
    primal output, so rules can reuse it (``exp``'s derivative is its answer)."""

    def rule(primals, tangents, **params):
        ans = core.bind(prim, *primals, **params)
        acc = None
        for fn, t in zip(jvp_fns, tangents):
            if fn is None or type(t) is Zero:
                continue
            v = fn(t, ans, *primals, **params)
            acc = v if acc is None else add_any(acc, v)
        return ans, (Zero.from_value(ans) if acc is None else acc)

    jvp_rules[prim] = rule
    return rule


def defjvp_zero(prim):
    """The output does not depend differentiably on the inputs (floor, sign)."""
    nondiff_primitives.add(prim)


def deflinear(prim, transpose_rule):
    """``prim`` is linear in all its inputs: its JVP applies it to tangents."""

    def rule(primals, tangents, **params):
        ans = core.bind(prim, *primals, **params)
        if all(type(t) is Zero for t in tangents):
            return ans, Zero.from_value(ans)
        return ans, core.bind(prim, *[instantiate(t) for t in tangents], **params)

    jvp_rules[prim] = rule
    transpose_rules[prim] = transpose_rule
    linear_primitives.add(prim)


def deftranspose(prim, transpose_rule):
    transpose_rules[prim] = transpose_rule
    linear_primitives.add(prim)


# The rules of AD's own primitives, now that the helpers exist.
jvp_rules[add_any_p] = _add_any_jvp
deftranspose(add_any_p, lambda ct, x, y: [ct if is_undefined(x) else None,
                                          ct if is_undefined(y) else None])
deflinear(zeros_p, lambda ct, x, *, shape: [Zero(x.aval) if is_undefined(x) else None])
