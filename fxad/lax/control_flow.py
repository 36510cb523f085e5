"""Structured branches: ``cond`` and ``switch``, one primitive ``cond``.

``cond(pred, true_fun, false_fun, *operands)`` and ``switch(index, branches,
*operands)`` trace every branch to a closed jaxpr on the operands' avals and
bind ``cond[branches=(b0, b1, ...)] index *operands``: the int32 ``index``
picks the branch (``cond``: false is 0, true is 1; ``switch`` clamps it).  As
in JAX, both branches are traced (and must agree) even when the predicate is
a Python bool, so ``jit`` and ``make_jaxpr`` stage a branch on a traced value
instead of failing on a Python ``if``.

Values a branch closes over that are tracers of an enclosing transformation
(``grad`` of a function whose branch uses the value being differentiated)
become leading operands, shared by all branches (each branch takes every
branch's captured tracers, ignoring the others'), so the transformation sees
them as inputs of the equation.

The primitive's rules, in the block below: eagerly the chosen branch runs;
its JVP is a ``cond`` of the branches' JVPs; ``linearize`` splits it into a
known ``cond`` evaluated now (returning every branch's residuals, padded to
one signature) and an unknown ``cond`` of the linear halves that takes the
known index; its transpose is a ``cond`` of the branches' transposes; under
``vmap`` an unbatched index gives a ``cond`` of the batched branches and a
batched one evaluates every branch and selects per example (``select_n``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from fxad import core, tree_util
from fxad.core import (
    ClosedJaxpr,
    Jaxpr,
    JaxprEqn,
    Literal,
    Tracer,
    Var,
    get_aval,
    new_primitive,
    safe_zip,
    shaped,
)
from fxad.interpreters import ad, batching, calls, codegen
from fxad.interpreters import optimize as _opt
from fxad.interpreters import partial_eval as pe
from fxad.interpreters.ad import Zero, is_undefined, tangent_aval, zeros_p
from fxad.interpreters.batching import not_mapped
from fxad.interpreters.partial_eval import JaxprTracer, trace_to_jaxpr
from fxad.lax.lax import (
    _aval,
    bdim_at_front,
    broadcast_in_dim,
    convert_element_type,
    matchaxis,
    moveaxis,
    ne,
    select_n,
)
from fxad.lax.lax import max as _max
from fxad.lax.lax import min as _min

__all__ = ["cond", "switch", "cond_p"]

_INT32 = np.dtype(np.int32)
_BOOL = np.dtype(bool)


# ---------------------------------------------------------------------------
# Public functions


def cond(pred, true_fun: Callable, false_fun: Callable, *operands) -> Any:
    """``true_fun(*operands)`` if ``pred`` else ``false_fun(*operands)``,
    staged as one ``cond`` equation (both branches are traced).

    Args:
      pred: a scalar boolean (or integer: nonzero is true), possibly traced.
      true_fun, false_fun: functions of the operands returning pytrees of
        arrays of the same structure, shapes and dtypes.
      operands: pytrees of arrays passed to the chosen function.

    Returns:
      The chosen function's output.  Differentiable in the operands (and in
      values the branches close over) in forward and reverse mode; under
      ``vmap`` a batched ``pred`` evaluates both branches and selects.

    Example:
        >>> import fxad, fxad.numpy as fnp
        >>> from fxad import lax
        >>> f = lambda x: lax.cond(x > 0, fnp.sin, lambda x: x * x, x)
        >>> float(f(2.0)), float(f(-3.0))
        (0.9092974268256817, 9.0)
        >>> float(fxad.grad(f)(-3.0)), float(fxad.jit(fxad.grad(f))(0.5))
        (-6.0, 0.8775825618903728)
        >>> print(fxad.make_jaxpr(f)(1.0))
        { lambda ; a:f64[]. let
            b:bool[] = gt a 0.0:f64[]
            c:i32[] = convert_element_type[new_dtype=int32] b
            d:f64[] = cond[
              branches=(
                { lambda ; e:f64[]. let
                    f:f64[] = mul e e
                  in (f,) }
                { lambda ; g:f64[]. let
                    h:f64[] = sin g
                  in (h,) }
              )
            ] c a
          in (d,) }
    """
    for name, f in (("true_fun", true_fun), ("false_fun", false_fun)):
        if not callable(f):
            raise TypeError(f"fxad.lax.cond: {name} must be callable, got "
                            f"{type(f).__name__}: {f!r}. Pass functions of the operands: "
                            "cond(pred, true_fun, false_fun, *operands).")
    aval = _checked_aval("cond", "pred", pred)
    if aval.shape != ():
        raise TypeError(
            f"fxad.lax.cond: pred must be a scalar, got {aval.str_short()}. Reduce it to "
            "one boolean (fxad.numpy.any/all), or choose elementwise with fxad.numpy.where.")
    if aval.dtype == _BOOL:
        index = convert_element_type(pred, _INT32)
    elif np.issubdtype(aval.dtype, np.integer):
        index = convert_element_type(ne(pred, aval.dtype.type(0)), _INT32)
    else:
        raise TypeError(
            f"fxad.lax.cond: pred must be a boolean or integer scalar, got "
            f"{aval.str_short()}. Compare it first (e.g. x > 0).")
    return _bind_branches("cond", ("false_fun", "true_fun"), (false_fun, true_fun), index,
                          operands)


def switch(index, branches: Sequence[Callable], *operands) -> Any:
    """``branches[index](*operands)``, with ``index`` clamped to
    ``[0, len(branches) - 1]``, staged as one ``cond`` equation.

    Args:
      index: a scalar integer, possibly traced.
      branches: a non-empty sequence of functions of the operands returning
        pytrees of arrays of the same structure, shapes and dtypes.
      operands: pytrees of arrays passed to the chosen branch.

    Returns:
      The chosen branch's output.

    Example:
        >>> import fxad, fxad.numpy as fnp
        >>> from fxad import lax
        >>> fs = [fnp.sin, fnp.cos, lambda x: -x]
        >>> [float(lax.switch(i, fs, 0.0)) for i in (-5, 0, 1, 2, 7)]
        [0.0, 0.0, 1.0, -0.0, -0.0]
        >>> float(fxad.grad(lambda x: lax.switch(1, fs, x))(0.5))
        -0.479425538604203
    """
    try:
        branches = tuple(branches)
    except TypeError:
        raise TypeError(f"fxad.lax.switch: branches must be a sequence of callables, got "
                        f"{type(branches).__name__}: {branches!r}.") from None
    if not branches:
        raise ValueError("fxad.lax.switch: branches is empty; give at least one function.")
    for i, f in enumerate(branches):
        if not callable(f):
            raise TypeError(f"fxad.lax.switch: branches[{i}] must be callable, got "
                            f"{type(f).__name__}: {f!r}.")
    aval = _checked_aval("switch", "index", index)
    if aval.shape != () or not np.issubdtype(aval.dtype, np.integer):
        raise TypeError(
            f"fxad.lax.switch: index must be an integer scalar, got {aval.str_short()}. "
            "Convert a boolean or float index with .astype(int) (or use cond for a "
            "boolean).")
    if len(branches) == 1:
        return branches[0](*operands)
    # Clamped in the index's own dtype, so a huge int64 cannot wrap in int32.
    dt = aval.dtype.type
    index = convert_element_type(_min(_max(index, dt(0)), dt(len(branches) - 1)), _INT32)
    return _bind_branches("switch", tuple(f"branches[{i}]" for i in range(len(branches))),
                          branches, index, operands)


def _checked_aval(fn, arg, x):
    try:
        return get_aval(x)
    except TypeError:
        raise TypeError(f"fxad.lax.{fn}: {arg} must be an array or a Python number, got "
                        f"{type(x).__name__}: {x!r}.") from None


def _bind_branches(fn, names, funs, index, operands):
    ops, in_tree = tree_util.tree_flatten(operands)
    avals = [_checked_aval(fn, "an operand", x) for x in ops]
    closeds, trees = [], []
    for f, name in zip(funs, names):
        store = {}

        def flat(*xs, f=f, name=name, store=store):
            out = f(*tree_util.tree_unflatten(in_tree, list(xs)))
            leaves, store["tree"] = tree_util.tree_flatten(out)
            for x in leaves:
                _checked_aval(fn, f"an output of {name}", x)
            return leaves

        closeds.append(trace_to_jaxpr(flat, avals))
        trees.append(store["tree"])
    for j in range(1, len(funs)):
        if trees[j] != trees[0]:
            raise TypeError(
                f"fxad.lax.{fn}: {names[0]} and {names[j]} must return the same pytree "
                f"structure, got {trees[0]} and {trees[j]}. Return the same containers "
                "from every branch.")
        a0, aj = closeds[0].out_avals, closeds[j].out_avals
        for k, (x, y) in enumerate(zip(a0, aj)):
            if x.shape != y.shape or x.dtype != y.dtype:
                raise TypeError(
                    f"fxad.lax.{fn}: {names[0]} and {names[j]} must return arrays of the "
                    f"same shapes and dtypes, but output leaf {k} is {x.str_short()} from "
                    f"{names[0]} and {y.str_short()} from {names[j]}. Convert (.astype) or "
                    "broadcast so that every branch returns the same types.")
    closeds, lifted = _join_consts(closeds)
    outs = cond_p.bind(index, *lifted, *ops, branches=tuple(closeds))
    return tree_util.tree_unflatten(trees[0], outs)


def _join_consts(closeds):
    """Constants that are tracers become leading inputs of every branch (the
    union over branches, each branch ignoring the others'); concrete
    constants stay in the branch that uses them."""
    lifted, slot = [], {}
    for c in closeds:
        for x in c.consts:
            if isinstance(x, Tracer) and id(x) not in slot:
                slot[id(x)] = len(lifted)
                lifted.append(x)
    if not lifted:
        return closeds, []
    out = []
    for c in closeds:
        j = c.jaxpr
        lead = [None] * len(lifted)
        constvars, consts = [], []
        for v, x in safe_zip(j.constvars, c.consts):
            if isinstance(x, Tracer):
                lead[slot[id(x)]] = v
            else:
                constvars.append(v)
                consts.append(x)
        lead = [v if v is not None else Var(get_aval(x).strip_weak_type())
                for v, x in zip(lead, lifted)]
        out.append(ClosedJaxpr(Jaxpr(constvars, lead + j.invars, j.eqns, j.outvars), consts))
    return out, lifted


# ---------------------------------------------------------------------------
# Rewiring bodies: the rules below give each branch another signature (every
# branch of one cond must take and return the same avals).


def _with_signature(closed, invars, outvars, extra_eqns=()):
    j = closed.jaxpr
    body = Jaxpr(j.constvars, invars, list(j.eqns) + list(extra_eqns), outvars)
    if core.config.check_jaxprs:
        core.check_jaxpr(body)
    return ClosedJaxpr(body, closed.consts)


def _zeros_var(aval, eqns):
    """A Var holding zeros of ``aval``, computed by an equation appended to ``eqns``."""
    aval = aval.strip_weak_type()
    v = Var(aval)
    lit = Literal(aval.dtype.type(0), shaped((), aval.dtype))
    eqns.append(JaxprEqn(zeros_p, [lit], dict(shape=aval.shape), [v]))
    return v


def _memo(branches, key, make):
    return branches[0].memo((key, branches), make)


def _union(flags):
    return [any(col) for col in zip(*flags)]


# ---------------------------------------------------------------------------
# The primitive ``cond``


cond_p = new_primitive("cond", multiple_results=True)


_PY_TO_NP = {float: np.float64, int: np.int64, complex: np.complex128, bool: np.bool_}


def _numpy(xs):
    return [_PY_TO_NP[type(x)](x) if type(x) in _PY_TO_NP else x for x in xs]


def _cond_impl(index, *ops, branches):
    i = int(index)
    branch = branches[0 if i < 0 else i if i < len(branches) else len(branches) - 1]
    # A branch runs its generated code from its second run on (a cond in a
    # jit function or a derived body runs many times: the code is two to
    # three times faster than eval_jaxpr on small branches).  The first run
    # interprets it: an eager cond traces fresh branches at every call, and
    # generating code for them would cost more than the call itself.
    state = branch.memo("cond_runs", lambda: [0, None])
    exe = state[1]
    if exe is None:
        state[0] += 1
        if state[0] == 1:
            return _numpy(core.eval_jaxpr(branch.jaxpr, branch.consts, *ops))
        exe = state[1] = calls.callee(branch)  # (the code jit's emitter calls too)
    return list(exe.run(*_numpy(ops)))


def _cond_abstract_eval(index, *ops, branches):
    if index.shape != () or index.dtype != _INT32:
        raise TypeError(f"cond: the index operand must be an int32 scalar, got "
                        f"{index.str_short()} (fxad.lax.cond and switch convert it).")
    for j, b in enumerate(branches):
        want = b.in_avals
        if len(want) != len(ops):
            raise TypeError(f"cond: {len(ops)} operands for branch {j}, which takes "
                            f"{len(want)} inputs")
        for k, (a, w) in enumerate(zip(ops, want)):
            if a.shape != w.shape or a.dtype != w.dtype:
                raise TypeError(f"cond: operand {k} is {a.str_short()} but input {k} of "
                                f"branch {j} is {w.str_short()}")
    outs = branches[0].out_avals
    for j, b in enumerate(branches[1:], 1):
        other = b.out_avals
        if len(other) != len(outs) or any(
                x.shape != y.shape or x.dtype != y.dtype for x, y in zip(outs, other)):
            raise TypeError(
                f"cond: branch 0 returns ({', '.join(a.str_short() for a in outs)}) but "
                f"branch {j} returns ({', '.join(a.str_short() for a in other)})")
    # An output is weakly typed (a Python scalar) only if it is in every branch.
    return [shaped(a.shape, a.dtype, all(b.out_avals[k].weak_type for b in branches))
            for k, a in enumerate(outs)]


cond_p.def_impl(_cond_impl)
cond_p.def_abstract_eval(_cond_abstract_eval)


def _emit_cond(ctx):
    """An ``if``/``elif`` chain in the generated source, each arm calling its
    branch's generated code (compiled once); the index clamped as the impl
    clamps it."""
    branches = ctx.params["branches"]
    index, ops = ctx.ins[0], ", ".join(ctx.ins[1:])
    i = ctx.g.local()
    lhs = f"{', '.join(ctx.outs)}," if ctx.outs else "_"
    lines = [f"{i} = int({index})"]
    n = len(branches)
    for j, b in enumerate(branches):
        run = ctx.g.const(calls.callee(b).run, "_branch")
        test = ("if" if j == 0 else "elif") + (f" {i} <= 0:" if j == 0 else f" {i} == {j}:")
        if j == n - 1:
            test = "else:" if n > 1 else "if True:"
        lines.append(test)
        lines.append(f"    {lhs} = {run}({ops})")
    return lines


codegen.def_statement(cond_p, _emit_cond)
# Staging's rule on every eager bind too (as ``def_strict`` gives the other
# primitives), without its memo: eager branches are traced afresh each call,
# and a memo keyed by them would only keep them alive.
cond_p.def_check(lambda index, *ops, branches: _cond_abstract_eval(
    _aval(index), *[_aval(x) for x in ops], branches=branches))


def _cond_jvp(primals, tangents, *, branches):
    index, *ops = primals
    nonzeros = tuple(type(t) is not Zero for t in tangents[1:])
    jvp_branches, out_nz = _jvp_branches(branches, nonzeros)
    nz_tangents = [t for t in tangents[1:] if type(t) is not Zero]
    outs = cond_p.bind(index, *ops, *nz_tangents, branches=jvp_branches)
    n = len(branches[0].out_avals)
    it = iter(outs[n:])
    return outs[:n], [next(it) if nz else Zero(tangent_aval(a))
                      for nz, a in zip(out_nz, branches[0].out_avals)]


def _jvp_branches(branches, nonzeros):
    """The branches' JVPs (``ad.jvp_call_jaxpr``), each returning the
    tangents that are nonzero in any branch (zeros where its own is Zero)."""

    def make():
        jvps = [ad.jvp_call_jaxpr(b, nonzeros) for b in branches]
        out_nz = _union([nz for _, nz in jvps])
        n = len(branches[0].out_avals)
        padded = []
        for (jc, nz), b in zip(jvps, branches):
            if list(nz) == out_nz:
                padded.append(jc)
                continue
            outs = jc.jaxpr.outvars
            it = iter(outs[n:])
            eqns: list = []
            tangents = [(next(it) if mine else _zeros_var(tangent_aval(a), eqns))
                        for mine, want, a in zip(nz, out_nz, b.out_avals) if want]
            padded.append(_with_signature(jc, jc.jaxpr.invars, outs[:n] + tangents, eqns))
        return tuple(padded), out_nz

    return _memo(branches, ("cond_jvp", nonzeros), make)


ad.jvp_rules[cond_p] = _cond_jvp


# -- linearize: the known/unknown split ---------------------------------------


def _split_branches(branches, unknowns):
    """Every branch split by ``pe.partial_eval_jaxpr``, brought to one
    signature: ``(known, unknown, out_unknowns, num_res)`` as for one body,
    with ``known``/``unknown`` tuples of branches.  An output unknown in
    some branch is unknown in all (a branch where it is known passes its
    value as a residual).  The residuals of all branches share slots of
    equal aval; a branch fills the slots it does not use with zeros."""

    def make():
        splits = [pe.partial_eval_jaxpr(b, unknowns) for b in branches]
        out_unk = _union([s[2] for s in splits])
        m = len(out_unk)
        slots: list = []  # the avals of the residual slots
        per = []
        for known, unknown, ou, nres in splits:
            nk = len(known.jaxpr.outvars) - nres
            kvar = dict(zip([i for i in range(m) if not ou[i]], known.jaxpr.outvars[:nk]))
            forced = [i for i in range(m) if out_unk[i] and not ou[i]]
            res = list(known.jaxpr.outvars[nk:]) + [kvar[i] for i in forced]
            taken: set = set()
            assign = []
            for r in res:
                a = r.aval.strip_weak_type()
                k = next((k for k, s in enumerate(slots) if k not in taken and s == a), None)
                if k is None:
                    k = len(slots)
                    slots.append(a)
                taken.add(k)
                assign.append(k)
            per.append((known, unknown, ou, nres, kvar, forced, res, assign))
        known_brs, unknown_brs = [], []
        for known, unknown, ou, nres, kvar, forced, res, assign in per:
            eqns: list = []
            filled = dict(zip(assign, res))
            slot_out = [filled[k] if k in filled else _zeros_var(a, eqns)
                        for k, a in enumerate(slots)]
            known_out = [kvar[i] for i in range(m) if not out_unk[i]]
            known_brs.append(_with_signature(known, known.jaxpr.invars,
                                             known_out + slot_out, eqns))
            binders = unknown.jaxpr.invars[:nres]
            slot_in = [Var(a) for a in slots]
            for j, k in enumerate(assign[:nres]):
                slot_in[k] = binders[j]
            forced_var = {i: slot_in[k] for i, k in zip(forced, assign[nres:])}
            uvar = dict(zip([i for i in range(m) if ou[i]], unknown.jaxpr.outvars))
            u_out = [uvar[i] if ou[i] else forced_var[i] for i in range(m) if out_unk[i]]
            unknown_brs.append(_with_signature(unknown, slot_in + unknown.jaxpr.invars[nres:],
                                               u_out))
        return tuple(known_brs), tuple(unknown_brs), out_unk, len(slots)

    return _memo(branches, ("cond_partial_eval", unknowns), make)


def _is_unknown(trace, x):
    return type(x) is JaxprTracer and x._trace is trace


def _cond_partial_eval(trace, args, params):
    """Under linearize (the index is known: an integer has no tangent):
    evaluate the known halves now, in a known ``cond``, and stage a ``cond``
    of the unknown halves on the residuals and the unknown operands."""
    branches = params["branches"]
    index, *ops = args
    if _is_unknown(trace, index):
        return trace.stage(cond_p, args, params)
    unknowns = tuple(_is_unknown(trace, x) for x in ops)
    known, unknown, out_unk, nres = _split_branches(branches, unknowns)
    known_outs = cond_p.bind(index, *[x for x, u in zip(ops, unknowns) if not u],
                             branches=known)
    nk = len(known_outs) - nres
    unknown_outs = []
    if any(out_unk):
        unknown_outs = trace.stage(
            cond_p, [index, *known_outs[nk:], *[x for x, u in zip(ops, unknowns) if u]],
            dict(branches=unknown))
    k_it, u_it = iter(known_outs[:nk]), iter(unknown_outs)
    return [next(u_it) if u else next(k_it) for u in out_unk]


pe.partial_eval_rules[cond_p] = _cond_partial_eval


def _cond_partial_eval_jaxpr(eqn, unknowns):
    """The same split for a cond nested in a body being split (a cond in a
    jit function under grad)."""
    if unknowns[0]:
        return None, eqn, [True] * len(eqn.outvars), []
    branches = eqn.params["branches"]
    index, ops = eqn.invars[0], eqn.invars[1:]
    unk = tuple(bool(u) for u in unknowns[1:])
    known, unknown, out_unk, nres = _split_branches(branches, unk)
    k_outs = [v for v, u in zip(eqn.outvars, out_unk) if not u]
    res = [Var(a) for a in known[0].out_avals[len(k_outs):]]
    k_eqn = JaxprEqn(cond_p, [index] + [x for x, u in zip(ops, unk) if not u],
                     dict(branches=known), k_outs + res)
    u_eqn = JaxprEqn(cond_p, [index] + res + [x for x, u in zip(ops, unk) if u],
                     dict(branches=unknown), [v for v, u in zip(eqn.outvars, out_unk) if u])
    return k_eqn, u_eqn, out_unk, res


pe.partial_eval_jaxpr_rules[cond_p] = _cond_partial_eval_jaxpr


# -- transpose ------------------------------------------------------------------


def _cond_transpose(cts, index, *ops, branches):
    if is_undefined(index):
        raise TypeError("cond is not linear in its index")
    linear = tuple(is_undefined(x) for x in ops)
    ct_nz = tuple(type(c) is not Zero for c in cts)
    transposed, in_nz = _transpose_branches(branches, linear, ct_nz)
    if not any(in_nz):
        return [None] + [Zero(x.aval) if is_undefined(x) else None for x in ops]
    res = [x for x in ops if not is_undefined(x)]
    outs = cond_p.bind(index, *res, *[c for c in cts if type(c) is not Zero],
                       branches=transposed)
    out_it, nz_it = iter(outs), iter(in_nz)
    return [None] + [(next(out_it) if next(nz_it) else Zero(x.aval)) if is_undefined(x)
                     else None for x in ops]


def _transpose_branches(branches, linear, ct_nz):
    """The branches' transposes (``ad.transpose_call_jaxpr``), each returning
    the cotangents that are nonzero in any branch."""

    def make():
        ts = [ad.transpose_call_jaxpr(b, linear, ct_nz) for b in branches]
        in_nz = _union([nz for _, nz in ts])
        lin_avals = [tangent_aval(a) for a, lin in zip(branches[0].in_avals, linear) if lin]
        padded = []
        for t, nz in ts:
            if list(nz) == in_nz:
                padded.append(t)
                continue
            it = iter(t.jaxpr.outvars)
            eqns: list = []
            outs = [(next(it) if mine else _zeros_var(a, eqns))
                    for mine, want, a in zip(nz, in_nz, lin_avals) if want]
            padded.append(_with_signature(t, t.jaxpr.invars, outs, eqns))
        return tuple(padded), in_nz

    return _memo(branches, ("cond_transpose", linear, ct_nz), make)


ad.deftranspose(cond_p, _cond_transpose)


# -- vmap -----------------------------------------------------------------------


def _cond_batch(args, dims, *, branches):
    index, *ops = args
    index_dim, *op_dims = dims
    op_dims = tuple(op_dims)
    size = batching.axis_size(args, dims)
    if index_dim is not_mapped:
        batched, out_dims = _batch_branches(branches, op_dims, size)
        return cond_p.bind(index, *ops, branches=batched), out_dims
    # A branch per example: run every branch on the whole batch and select
    # (the branches have no effects, so running the others is harmless).
    n = len(branches)
    index = moveaxis(index, index_dim, 0)
    index = _min(_max(index, np.int32(0)), np.int32(n - 1))
    results = []
    for b in branches:
        bb, out_dims = batching.batch_call_jaxpr(b, op_dims, size)
        outs = core.eval_jaxpr(bb.jaxpr, bb.consts, *ops)
        results.append([bdim_at_front(o, d, size) for o, d in zip(outs, out_dims)])
    outs = []
    for cases in zip(*results):
        shape = _aval(cases[0]).shape
        which = broadcast_in_dim(index, shape, (0,))
        outs.append(select_n(which, *cases))
    return outs, [0] * len(outs)


def _batch_branches(branches, dims, size):
    """The branches batched (``batching.batch_call_jaxpr``) with one batch
    axis per output: where the branches disagree, at the front."""

    def make():
        bs = [batching.batch_call_jaxpr(b, dims, size) for b in branches]
        out_dims = []
        for ds in zip(*[d for _, d in bs]):
            out_dims.append(ds[0] if all(d == ds[0] for d in ds) else 0)
        moved = []
        for bb, ds in bs:
            if list(ds) == out_dims:
                moved.append(bb)
                continue

            def f(*xs, bb=bb, ds=ds):
                outs = core.eval_jaxpr(bb.jaxpr, bb.consts, *xs)
                return [o if d == t else matchaxis(o, d, t, size)
                        for o, d, t in zip(outs, ds, out_dims)]

            moved.append(trace_to_jaxpr(f, bb.in_avals))
        return tuple(moved), out_dims

    return _memo(branches, ("cond_batch", dims, size), make)


batching.batch_rules[cond_p] = _cond_batch


# -- optimiser ------------------------------------------------------------------


def _cond_dce(eqn, used_outputs):
    """Unused outputs are pruned from every branch, and so are the operands
    no branch needs any longer.  (Branches are never inlined: only one runs.)"""
    branches = eqn.params["branches"]
    pruned = [_opt.dce_jaxpr(b.jaxpr, used_outputs, prune_invars=False) for b in branches]
    used_in = _union([u for _, u in pruned])
    if all(used_outputs) and all(used_in) and all(
            len(j.eqns) == len(b.jaxpr.eqns) for (j, _), b in zip(pruned, branches)):
        return eqn
    new = tuple(
        _opt.prune_constvars(ClosedJaxpr(
            Jaxpr(j.constvars, [v for v, u in zip(j.invars, used_in) if u], j.eqns,
                  j.outvars), b.consts))
        for (j, _), b in zip(pruned, branches))
    return JaxprEqn(cond_p, [eqn.invars[0]] + [x for x, u in zip(eqn.invars[1:], used_in) if u],
                    dict(eqn.params, branches=new),
                    [v for v, u in zip(eqn.outvars, used_outputs) if u])


_opt.dce_rules[cond_p] = _cond_dce
