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
    _F64_SCALAR_AVAL,
    ClosedJaxpr,
    Jaxpr,
    JaxprEqn,
    Literal,
    Trace,
    Tracer,
    Var,
    get_aval,
    new_primitive,
    new_trace,
    new_traces,
    safe_zip,
    shaped,
)
from fxad.interpreters import batching, codegen, optimize
from fxad.interpreters.partial_eval import (
    JaxprTrace,
    JaxprTracer,
    partial_eval_rules,
    trace_to_jaxpr,
)

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
        return zero_of(get_aval(x))


def tangent_aval(aval):
    """Tangent space of an aval: same shape and dtype (float/complex only)."""
    return aval.strip_weak_type()


_shared_zeros: dict = {}


def zero_of(aval):
    """The ``Zero`` tangent of a value of ``aval``: one shared object per aval
    (a Zero is immutable, and avals are interned), so a symbolic zero costs
    a dict lookup rather than an allocation on every traced operation."""
    z = _shared_zeros.get(aval)
    if z is None:
        z = _shared_zeros[aval] = Zero(tangent_aval(aval))
    return z


_new = object.__new__
_F64_SCALAR_ZERO = zero_of(_F64_SCALAR_AVAL)  # an np.float64 operand's tangent
_WEAK_F64_SCALAR_AVAL = get_aval(0.0)  # a Python float's aval


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
    """The sum AD itself forms (JAX's ``add_jaxvals``): tangent contributions and
    accumulated cotangents; linear, elementwise, ``x`` and ``y`` of one aval.
    Two tracers of one trace (a product rule's two tangents) go straight to
    it, as ``bind`` would send them."""
    if isinstance(x, Tracer) and isinstance(y, Tracer):
        t = x._trace
        if t is y._trace and t.active:
            return t.process_primitive(add_any_p, (x, y), {})
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
batching.onehot_rules[add_any_p] = batching.onehot_sum(1)
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
    __slots__ = ("primal", "tangent", "aval")

    def __init__(self, trace, primal, tangent):
        self._trace = trace
        self.primal = primal
        self.tangent = tangent
        # The primal's aval, read by almost every rule: made now, inline for
        # the common NumPy types (interned avals, so one dict lookup).
        self.aval = get_aval(primal)

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
        # bind sends an operation here only when one of ``args`` is this
        # trace's tracer; the others get the shared Zero of their aval.
        n = len(args)
        if n == 1:  # then it is this trace's tracer
            x = args[0]
            primals = [x.primal]
            tangents = [x.tangent]
        elif n == 2:  # most primitives: unrolled
            x, y = args
            if type(x) is JVPTracer and x._trace is self:
                if type(y) is JVPTracer and y._trace is self:
                    primals = [x.primal, y.primal]
                    tangents = [x.tangent, y.tangent]
                else:
                    primals = [x.primal, y]
                    z = _F64_SCALAR_ZERO if type(y) is np.float64 else zero_of(get_aval(y))
                    tangents = [x.tangent, z]
            else:
                primals = [x, y.primal]
                z = _F64_SCALAR_ZERO if type(x) is np.float64 else zero_of(get_aval(x))
                tangents = [z, y.tangent]
        else:
            primals = []
            tangents = []
            for x in args:
                if type(x) is JVPTracer and x._trace is self:
                    primals.append(x.primal)
                    tangents.append(x.tangent)
                else:
                    primals.append(x)
                    tangents.append(zero_of(get_aval(x)))
        rule = jvp_rules.get(prim)
        if rule is None:
            if prim in nondiff_primitives:
                return core.bind(prim, *primals, **params)
            raise NotImplementedError(
                f"fxad: differentiation rule for primitive '{prim.name}' is not implemented."
            )
        out, out_dot = rule(primals, tangents, **params) if params else rule(primals, tangents)
        if prim.multiple_results:
            return [o if type(t) is Zero else JVPTracer(self, o, t)
                    for o, t in safe_zip(out, out_dot)]
        if type(out_dot) is Zero:
            return out
        # JVPTracer(self, out, out_dot) without its __init__ frame (every operation).
        tracer = _new(JVPTracer)
        tracer._trace = self
        tracer.primal = out
        tracer.tangent = out_dot
        tracer.aval = _F64_SCALAR_AVAL if type(out) is np.float64 else get_aval(out)
        return tracer


class GradJVPTrace(JVPTrace):
    """The forward pass of a gradient taken in forward mode (a ``grad`` of
    one real scalar under an outer reverse-mode derivative: see
    ``api._forward_value_and_grad``); a ``grad`` nested inside it also runs
    in forward mode."""

    __slots__ = ()


#: The tangent seed of a gradient taken in forward mode: ``lax.mul`` of it
#: (this object, by identity) and a float64 tracer is that tracer, with
#: nothing traced (``1 * v`` is ``v`` exactly), since every JVP rule
#: multiplies the seed by a derivative that the outer levels trace.
UNIT_SEED = np.float64(1.0)


def jvp_flat(fun, primals, tangents, trace_type=JVPTrace):
    """Forward mode on flat lists: returns ``(primals_out, tangents_out)``,
    with symbolic ``Zero`` for outputs that do not depend on the inputs."""
    with new_trace(trace_type) as trace:
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
    """Returns ``(primals_out, linear, out_zero)``: ``linear`` is the
    ``LinearProgram`` mapping input tangents to output tangents (call it, or
    ``linear.transpose(cts)``; ``linear.closed`` is it as a jaxpr);
    ``out_zero[i]`` says output i's tangent is identically zero.

    The cyclic garbage collector is paused meanwhile: tracing allocates many
    small objects that all stay alive (and form no cycles), and collections
    triggered by those allocations would rescan them again and again."""
    with core.gc_paused():
        return _linearize_flat(fun, primals)


def _linearize_flat(fun, primals):
    with new_traces(LinearTape, JVPTrace) as (tape, trace):
        t_in = []
        in_tracers = []
        tape_avals = tape.avals
        f64 = np.float64
        for p in primals:
            if type(p) is float:  # get_aval's and tangent_aval's answers, inline
                aval, t_aval = _WEAK_F64_SCALAR_AVAL, _F64_SCALAR_AVAL
            else:
                aval = get_aval(p)
                t_aval = tangent_aval(aval)
            # The tape's new_arg, inline (every reverse-mode call).
            t = _new(JaxprTracer)
            t._trace = tape
            t.aval = t_aval
            t.ir_var = len(tape_avals)
            tape_avals.append(t_aval)
            t_in.append(t)
            # Integer and boolean inputs have no tangent (their slot stays unused).
            if aval.dtype.kind not in "fc":
                in_tracers.append(p)
                continue
            # JVPTracer(trace, p, t) without its __init__ frame; a Python
            # float's primal as the float64 scalar it is, so the rules take
            # their NumPy fast paths (the tracer keeps the weak aval, which
            # is what promotion reads).
            x = _new(JVPTracer)
            x._trace = trace
            x.primal = f64(p) if type(p) is float else p
            x.tangent = t
            x.aval = aval
            in_tracers.append(x)
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
    return primals_out, tape.to_program(t_in, tangents_out), out_zero


def _residual_aval(x):
    """The aval of a residual operand recorded on a ``LinearTape``."""
    if isinstance(x, Tracer):
        a = x.aval
        return a.strip_weak_type() if a.weak_type else a
    return get_aval(x)


#: ``(abstract eval rule, *operand avals) -> output aval`` of the parameterless
#: single-result records staged on a ``LinearTape`` (bounded: cleared when full).
_staged_avals: dict = {}
_STAGED_AVALS_MAX = 4096


class LinearTape(Trace):
    """``linearize``'s staging trace: the tangent equations that the JVP
    rules apply to its tracers are recorded as flat records, not as IR.

    A value on the tape is a *slot* (an int: a ``JaxprTracer``'s ``ir_var``
    is its slot here); a record is ``(prim, params, args, in_slots,
    out_slots, transpose_rule)`` where ``args`` holds the operands ready for
    the transpose rule (the shared ``UndefinedPrimal`` of its aval for each
    linear operand; the value itself for a residual) and ``in_slots`` the
    slot of each operand (-1 for a residual).  The backward pass then
    indexes cotangents by slot and calls the rule resolved when the record
    was made, with no IR variables, environments or scans; the jaxpr is
    rebuilt from the records when something needs one
    (``LinearProgram.closed``: ``make_jaxpr`` of a linearized function,
    ``jit`` of it, the tutorial's tables, and ``check_jaxprs``, under which
    every program is rebuilt and type-checked so the fast path stays
    checked).

    Everything staged here has a tangent operand and is linear in it, so the
    backward pass needs no forward sweep for non-linear equations.  Calls,
    branches and loops with known and unknown operands are split by their
    ``partial_eval_rules``, as in a partially evaluating ``JaxprTrace``
    (those rules see this trace's tracers as ``JaxprTracer``s and stage
    through ``stage``)."""

    __slots__ = ("records", "avals")
    # The rules of ``partial_eval_rules`` and fxad.numpy's offset analysis
    # look for these attributes of a staging trace.
    partial_eval = True
    eqns = ()

    def __init__(self, level):
        self.level = level  # Trace.__init__, inline (one tape per reverse-mode call)
        self.active = True
        self.records: list = []
        self.avals: list = []  # slot -> aval

    def new_arg(self, aval) -> JaxprTracer:
        slot = len(self.avals)
        self.avals.append(aval)
        return JaxprTracer(self, aval, slot)

    def process_primitive(self, prim, args, params, split=True):
        """Record ``prim`` applied to ``args`` (the non-tracers are residuals);
        with ``split``, a primitive with a partial-eval rule and some known
        operands is split by the rule instead (one call frame for the common
        case: this is every staged tangent operation).  One and two operands,
        nearly every record, are unrolled."""
        n = len(args)
        if n == 1:  # then it is this tape's tracer
            x = args[0]
            a = x.aval
            u = _shared_undefined.get(a)
            ins = (undefined_of(a) if u is None else u,)
            slots = (x.ir_var,)
            avals = (a,)
        elif n == 2:
            x, y = args
            if type(x) is JaxprTracer and x._trace is self:
                ax = x.aval
                ux = _shared_undefined.get(ax)
                if ux is None:
                    ux = undefined_of(ax)
                if type(y) is JaxprTracer and y._trace is self:
                    ay = y.aval
                    uy = _shared_undefined.get(ay)
                    ins = (ux, undefined_of(ay) if uy is None else uy)
                    slots = (x.ir_var, y.ir_var)
                else:
                    if split and prim in partial_eval_rules:
                        return partial_eval_rules[prim](self, args, params)
                    ay = _F64_SCALAR_AVAL if type(y) is np.float64 else _residual_aval(y)
                    ins = (ux, y)
                    slots = (x.ir_var, -1)
            else:  # then y is this tape's tracer
                if split and prim in partial_eval_rules:
                    return partial_eval_rules[prim](self, args, params)
                ax = _F64_SCALAR_AVAL if type(x) is np.float64 else _residual_aval(x)
                ay = y.aval
                uy = _shared_undefined.get(ay)
                ins = (x, undefined_of(ay) if uy is None else uy)
                slots = (-1, y.ir_var)
            avals = (ax, ay)
        else:
            if split and prim in partial_eval_rules:
                for x in args:
                    if type(x) is not JaxprTracer or x._trace is not self:
                        return partial_eval_rules[prim](self, args, params)
            ins = list(args)
            slots = [-1] * n
            avals = ins[:]
            f64 = np.float64
            shared = _shared_undefined
            for i in range(n):
                x = ins[i]
                if type(x) is JaxprTracer and x._trace is self:
                    avals[i] = a = x.aval
                    u = shared.get(a)
                    ins[i] = undefined_of(a) if u is None else u
                    slots[i] = x.ir_var
                else:
                    avals[i] = _F64_SCALAR_AVAL if type(x) is f64 else _residual_aval(x)
        if params or prim.multiple_results:
            out = prim.abstract_eval(*avals, **params)
        else:
            # Abstract eval is a function of the (interned) operand avals:
            # memoised on them (and on the rule itself, should it be
            # redefined), a dict lookup instead of a call per record.
            abstract_eval = prim.abstract_eval
            key = (abstract_eval, *avals)
            out = _staged_avals.get(key)
            if out is None:
                out = abstract_eval(*avals)
                if len(_staged_avals) >= _STAGED_AVALS_MAX:
                    _staged_avals.clear()
                _staged_avals[key] = out
        tape_avals = self.avals
        s = len(tape_avals)
        if prim.multiple_results:
            tape_avals.extend(out)
            out_slots = list(range(s, s + len(out)))
            self.records.append((prim, params, ins, slots, out_slots, transpose_rules.get(prim)))
            return [JaxprTracer(self, a, k) for a, k in zip(out, out_slots)]
        tape_avals.append(out)
        self.records.append((prim, params, ins, slots, s, transpose_rules.get(prim)))
        tracer = _new(JaxprTracer)  # JaxprTracer(self, out, s) without its __init__ frame
        tracer._trace = self
        tracer.aval = out
        tracer.ir_var = s
        return tracer

    def stage(self, prim, args, params):
        """Record ``prim`` applied to ``args`` whole, even where a partial-eval
        rule would split it (those rules stage their unknown part here)."""
        return self.process_primitive(prim, args, params, False)

    def to_program(self, in_tracers, outs) -> LinearProgram:
        """The recorded program from ``in_tracers`` to ``outs`` (tangents:
        this tape's tracers, symbolic ``Zero``s, or values that do not
        depend on the inputs)."""
        out_slots = []
        out_vals = []
        for x in outs:
            if type(x) is JaxprTracer and x._trace is self:
                out_slots.append(x.ir_var)
                out_vals.append(None)
            else:
                out_slots.append(-1)
                out_vals.append(x)
        prog = LinearProgram(self.records, self.avals, [t.ir_var for t in in_tracers],
                             out_slots, out_vals)
        if core.config.check_jaxprs:
            core.check_jaxpr(prog.closed)
        return prog


class LinearProgram:
    """A linear map recorded by ``LinearTape``: ``program(*tangents)``
    applies it, ``program.transpose(cts)`` its transpose (reverse mode),
    ``program.closed`` is the same program as a ``ClosedJaxpr`` (rebuilt on
    first use; ``.jaxpr`` and ``.consts`` are its parts)."""

    __slots__ = ("records", "avals", "in_slots", "out_slots", "out_vals", "_closed",
                 "slot_vars")

    def __init__(self, records, avals, in_slots, out_slots, out_vals):
        self.records = records
        self.avals = avals
        self.in_slots = in_slots
        self.out_slots = out_slots
        self.out_vals = out_vals  # per output: None (a slot), a Zero or a value
        self._closed = None
        #: ``slot -> Var`` of the rebuilt jaxpr (after ``closed`` is read).
        self.slot_vars = None

    @property
    def in_avals(self):
        return [self.avals[s] for s in self.in_slots]

    def __call__(self, *tangents):
        env = [None] * len(self.avals)
        for s, t in safe_zip(self.in_slots, tangents):
            env[s] = t
        bind = core.bind
        for prim, params, ins, slots, out, _ in self.records:
            args = [a if s < 0 else env[s] for a, s in zip(ins, slots)]
            ans = bind(prim, *args, **params)
            if type(out) is list:
                for s, o in zip(out, ans):
                    env[s] = o
            else:
                env[out] = ans
        return [env[s] if s >= 0 else instantiate(v)
                for s, v in zip(self.out_slots, self.out_vals)]

    def transpose(self, cts_out):
        """Input cotangents (``Zero`` where none flows) from output
        cotangents (``Zero`` or None allowed), walking the records backwards
        with the garbage collector paused."""
        with core.gc_paused():
            return self._transpose(cts_out)

    def _transpose(self, cts_out):
        avals = self.avals
        cts = [None] * len(avals)
        add = add_any_p
        bind = core.bind
        out_slots = self.out_slots
        if len(out_slots) != len(cts_out):
            raise ValueError(f"LinearProgram.transpose: {len(cts_out)} output cotangent(s) "
                             f"for {len(out_slots)} output(s)")
        for s, ct in zip(out_slots, cts_out):
            if s < 0 or ct is None or type(ct) is Zero:
                continue
            prev = cts[s]
            cts[s] = ct if prev is None else bind(add, prev, ct)
        nd, f64 = np.ndarray, np.float64
        for prim, params, ins, slots, out, rule in reversed(self.records):
            if type(out) is int:
                ct = cts[out]
                if ct is None:
                    continue
                cts[out] = None  # read once: let it go
            else:
                ct = [cts[s] for s in out]
                if all(c is None for c in ct):
                    continue
                ct = [zero_of(avals[s]) if c is None else c for c, s in zip(ct, out)]
            if rule is None:
                _no_transpose_rule(prim)
            cts_in = rule(ct, *ins, **params) if params else rule(ct, *ins)
            # Accumulate: ``add_any`` (its impl, np.add, on two NumPy arrays).
            try:
                for s, c in zip(slots, cts_in, strict=True):
                    if s < 0 or c is None or type(c) is Zero:
                        continue
                    prev = cts[s]
                    if prev is None:
                        cts[s] = c
                    elif type(prev) is nd and type(c) is nd:
                        cts[s] = add.impl(prev, c)
                    elif type(prev) is f64 and type(c) is f64:
                        cts[s] = prev + c  # NumPy's scalar math: np.add's result, faster
                    else:
                        cts[s] = bind(add, prev, c)
            except ValueError:
                if len(cts_in) != len(slots):  # zip's, from a rule with a wrong count
                    raise _wrong_cotangent_count(prim, cts_in, slots) from None
                raise
        return [zero_of(avals[s]) if cts[s] is None else cts[s] for s in self.in_slots]

    @property
    def closed(self) -> ClosedJaxpr:
        if self._closed is None:
            self._closed = self._rebuild()
        return self._closed

    @property
    def jaxpr(self):
        return self.closed.jaxpr

    @property
    def consts(self):
        return self.closed.consts

    def _rebuild(self):
        vars_ = [Var(a) for a in self.avals]
        self.slot_vars = vars_
        # A staging trace, never entered, as the collector of the residuals:
        # its ``const`` makes them literals or constvars as staging does.
        consts = JaxprTrace(-1)
        operand = consts.const

        eqns = []
        for prim, params, ins, slots, out, _ in self.records:
            invars = [operand(a) if s < 0 else vars_[s] for a, s in zip(ins, slots)]
            outvars = [vars_[s] for s in out] if type(out) is list else [vars_[out]]
            eqns.append(JaxprEqn(prim, invars, params, outvars))
        outvars = []
        for s, v in zip(self.out_slots, self.out_vals):
            if s >= 0:
                outvars.append(vars_[s])
            elif type(v) is Zero:
                # A zero output, staged as ``zeros 0.0``.
                a = v.aval
                lit = Literal(a.dtype.type(0), shaped((), a.dtype))
                z = Var(a)
                eqns.append(JaxprEqn(zeros_p, [lit], dict(shape=a.shape), [z]))
                outvars.append(z)
            else:
                outvars.append(operand(v))
        jaxpr = Jaxpr(consts.constvars, [vars_[s] for s in self.in_slots], eqns, outvars)
        return ClosedJaxpr(jaxpr, consts.consts)

    def __str__(self):
        return str(self.closed)


def _wrong_cotangent_count(prim, cts_in, slots):
    return ValueError(
        f"fxad: the transpose rule of '{prim.name}' returned {len(cts_in)} cotangent(s) "
        f"for {len(slots)} operand(s); a transpose rule returns one per operand "
        "(None for a non-linear one).")


def _no_transpose_rule(prim):
    if prim in untransposable:
        raise ValueError(untransposable[prim])
    raise NotImplementedError(
        f"fxad: transpose rule for primitive '{prim.name}' is not implemented "
        "(it appeared in a linear program being transposed for reverse mode)."
    )




# ---------------------------------------------------------------------------
# Transpose


class UndefinedPrimal:
    """Marks a linear input of an equation in a transpose rule."""

    __slots__ = ("aval",)

    def __init__(self, aval):
        self.aval = aval

    def __repr__(self):
        return f"UndefinedPrimal({self.aval.str_short()})"


_shared_undefined: dict = {}


def undefined_of(aval):
    """The ``UndefinedPrimal`` of ``aval``: one shared object per aval (it
    carries nothing else, and rules only test its type and read its aval)."""
    u = _shared_undefined.get(aval)
    if u is None:
        u = _shared_undefined[aval] = UndefinedPrimal(aval)
    return u


def is_undefined(x) -> bool:
    """Whether ``x`` is an undefined-primal marker (a linear input) inside a transpose rule."""
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
            _no_transpose_rule(prim)
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
    return _defjvp(prim, jvp_fns, False)


def defjvp2(prim, *jvp_fns):
    """Like ``defjvp`` but each ``fn(t, ans, *primals, **params)`` also gets the
    primal output, so rules can reuse it (``exp``'s derivative is its answer)."""
    return _defjvp(prim, jvp_fns, True)


def _defjvp(prim, jvp_fns, with_ans):
    # The primal by ``prim.entry`` (``bind``, or a faster equivalent that
    # the primitive's layer installed).
    if len(jvp_fns) == 1 and jvp_fns[0] is not None:  # unary: no loop
        fn = jvp_fns[0]

        def rule(primals, tangents, **params):
            ans = core.bind(prim, *primals, **params) if params else prim.entry(*primals)
            t = tangents[0]
            if type(t) is Zero:
                return ans, Zero.from_value(ans)
            if with_ans:
                return ans, fn(t, ans, *primals, **params)
            return ans, fn(t, *primals, **params)
    else:
        def rule(primals, tangents, **params):
            ans = core.bind(prim, *primals, **params) if params else prim.entry(*primals)
            acc = None
            for fn, t in zip(jvp_fns, tangents):
                if fn is None or type(t) is Zero:
                    continue
                v = fn(t, ans, *primals, **params) if with_ans else fn(t, *primals, **params)
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
    """Register ``transpose_rule(ct, *args, **params)`` for the linear primitive ``prim``; the
    linear inputs arrive as UndefinedPrimal markers.
    """
    transpose_rules[prim] = transpose_rule
    linear_primitives.add(prim)


# The rules of AD's own primitives, now that the helpers exist.
jvp_rules[add_any_p] = _add_any_jvp
deftranspose(add_any_p, lambda ct, x, y: [ct if is_undefined(x) else None,
                                          ct if is_undefined(y) else None])
deflinear(zeros_p, lambda ct, x, *, shape: [Zero(x.aval) if is_undefined(x) else None])
