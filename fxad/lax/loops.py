"""Structured loops: ``scan``, ``fori_loop``, ``map`` and ``while_loop``.

Two primitives hold a loop body as a ``ClosedJaxpr`` (JAX's design):

* ``scan[jaxpr num_consts num_carry length reverse linear] *consts *init *xs``
  runs ``jaxpr: (consts, carry, x) -> (carry, y)`` ``length`` times, slicing
  each ``x`` along its leading axis and stacking each ``y``; it returns the
  final carry and the stacked ys.  Every transformation maps a scan to a
  scan: its JVP scans the body's JVP; linearize splits it into a known scan
  (run now, returning the residuals stacked per iteration) and an unknown,
  linear scan that reads the residuals as xs; a linear scan transposes into
  a reversed scan; vmap scans the batched body.  So reverse mode works.
* ``while[cond_jaxpr body_jaxpr cond_nconsts body_nconsts] *cconsts *bconsts
  *init`` iterates ``body_jaxpr`` while ``cond_jaxpr`` holds.  Its trip count
  is known only at run time, so it has a JVP, a batching rule and a
  linearize rule (jacfwd works) but no transpose: reverse mode raises,
  naming ``scan`` and ``fori_loop`` with static bounds as the way out.

Which carries get a tangent (are batched, are unknown under linearize) is a
fixpoint: a carry whose output depends on a tangent (a batched value, an
unknown) needs one on input too, so the body is re-derived until the set is
stable (at most ``num_carry + 1`` rounds).  Each derived body is memoised on
the body it comes from (``ClosedJaxpr.memo``), so a loop traced once is
transformed once.

A body's constants that are tracers of an enclosing transformation are
closure-converted into leading ``consts`` operands, so that transformations
see them (a scan that closes over a parameter being differentiated).
"""

from __future__ import annotations

import numpy as np

from fxad import tree_util
from fxad.core import (
    ClosedJaxpr,
    Jaxpr,
    JaxprEqn,
    Var,
    get_aval,
    new_primitive,
    shaped,
)
from fxad.interpreters import ad, batching, calls, codegen
from fxad.interpreters import optimize as _opt
from fxad.interpreters import partial_eval as pe
from fxad.interpreters.ad import UndefinedPrimal, Zero, is_undefined, tangent_aval
from fxad.interpreters.batching import not_mapped
from fxad.interpreters.partial_eval import JaxprTracer
from fxad.lax import lax as _lax

__all__ = ["scan", "fori_loop", "map", "while_loop", "scan_p", "while_p"]

_PY_TO_NP = {float: np.float64, int: np.int64, complex: np.complex128, bool: np.bool_}


def _split(xs, *sizes):
    out, i = [], 0
    for n in sizes:
        out.append(list(xs[i:i + n]))
        i += n
    out.append(list(xs[i:]))
    return out


def _np_value(x):
    return _PY_TO_NP[type(x)](x) if type(x) in _PY_TO_NP else x


def _callee(jaxpr):
    """The generated code of a loop body (compiled once per body, shared with
    the call primitives, which memoise the same ``Executable`` on a body)."""
    return calls.callee(jaxpr).run


_closure_convert = calls.closure_convert


def _same_type(a, b):
    return a.shape == b.shape and a.dtype == b.dtype


def _carry_mismatch(where, what, tree, in_avals, out_avals):
    """JAX's message for a carry whose type changes between iterations."""
    names = _leaf_paths(tree)
    lines = []
    for name, a, b in zip(names, in_avals, out_avals):
        if _same_type(a, b):
            continue
        diff = "shapes" if a.shape != b.shape else "dtypes"
        lines.append(f"  * the input carry component {what}{name} has type {a.str_short()} "
                     f"but the corresponding output carry component has type "
                     f"{b.str_short()}, so the {diff} do not match")
    return TypeError(
        f"{where} function carry input and carry output must have equal types (e.g. "
        f"shapes and dtypes of arrays), but they differ:\n" + "\n".join(lines) +
        f"\nMake the function return a carry of the same shapes and dtypes as {what} (cast "
        "with .astype, or give the initial value the dtype the loop produces).")


class _Mark:
    __slots__ = ("i",)

    def __init__(self, i):
        self.i = i


def _leaf_paths(tree):
    """A readable path (``[0]``, ``['a']``) for each leaf of ``tree``."""
    paths = [""] * tree.num_leaves

    def walk(x, path):
        if type(x) is _Mark:
            paths[x.i] = path
        elif isinstance(x, dict):
            for k in x:
                walk(x[k], f"{path}[{k!r}]")
        elif isinstance(x, (tuple, list)):
            for i, y in enumerate(x):
                walk(y, f"{path}[{i}]")
        else:  # a custom node: named by its type
            for m in tree_util.tree_leaves(x):
                paths[m.i] = f"{path}.{type(x).__name__}"

    walk(tree_util.tree_unflatten(tree, [_Mark(i) for i in range(tree.num_leaves)]), "")
    return paths


def _trace_loop_body(fun, in_avals, carry_slice, where, what, carry_tree, init_leaves):
    """Trace ``fun`` (flat in, flat out; its outputs at ``carry_slice`` are
    the new carry).  A weakly typed initial carry (a Python scalar) whose
    dtype the body changes is converted to the body's dtype and the body
    retraced, as in JAX; any other change of a carry's type is an error.
    Returns ``(closed, init_leaves)``."""
    k0, k1 = carry_slice
    for attempt in range(2):
        closed = pe.trace_to_jaxpr(fun, in_avals)
        c_in = in_avals[k0:k1]
        c_out = closed.out_avals[:k1 - k0]
        bad = [not _same_type(a, b) for a, b in zip(c_in, c_out)]
        if not any(bad):
            return closed, init_leaves
        fixable = all(a.weak_type and a.shape == b.shape
                      for a, b, x in zip(c_in, c_out, bad) if x)
        if attempt or not fixable:
            raise _carry_mismatch(where, what, carry_tree, c_in, c_out)
        init_leaves = [_lax.convert_element_type(x, b.dtype) if bd else x
                       for x, b, bd in zip(init_leaves, c_out, bad)]
        in_avals = list(in_avals)
        in_avals[k0:k1] = [b.strip_weak_type() if bd else a
                           for a, b, bd in zip(c_in, c_out, bad)]
    raise AssertionError("unreachable")  # pragma: no cover


# ---------------------------------------------------------------------------
# scan


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """Loop ``f`` over the leading axis of ``xs``, carrying a state.

    The semantics of ``jax.lax.scan``, as this Python loop::

        def scan(f, init, xs, length=None):
            carry, ys = init, []
            for x in xs:
                carry, y = f(carry, x)
                ys.append(y)
            return carry, np.stack(ys)

    but traced once into one ``scan`` equation, so it stays small under
    ``jit`` and ``make_jaxpr`` and every transformation (``grad``, ``jvp``,
    ``vmap``, ``jit``) applies to the loop as a whole.

    Args:
      f: ``f(carry, x) -> (carry, y)``; the carry must keep its pytree
        structure, shapes and dtypes.
      init: the initial carry (a pytree of arrays).
      xs: a pytree of arrays scanned along their leading axis, or None
        (then ``length`` says how many iterations, and ``f`` gets ``x=None``).
      length: the number of iterations (optional when ``xs`` is given; it
        must then equal their leading size).
      reverse: scan from the end of ``xs`` to its start (ys are still stored
        at the index of their x).
      unroll: accepted for JAX compatibility; fxad's loop runs one
        iteration at a time whatever its value.

    Returns:
      ``(final_carry, ys)``: ``ys`` is the pytree of the ``y`` outputs
      stacked along a new leading axis of size ``length``.

    Example:
        >>> import numpy as np, fxad
        >>> from fxad import lax
        >>> def step(c, x):
        ...     c = lax.add(c, x)
        ...     return c, lax.mul(c, c)
        >>> c, ys = lax.scan(step, 0.0, np.array([1.0, 2.0, 3.0]))
        >>> float(c), ys.tolist()
        (6.0, [1.0, 9.0, 36.0])
        >>> float(fxad.grad(lambda x: lax.scan(step, 0.0, x)[1].sum())(
        ...     np.array([1.0, 2.0, 3.0]))[0])
        20.0
    """
    if not callable(f):
        raise TypeError(f"scan: f must be a callable f(carry, x) -> (carry, y), got "
                        f"{type(f).__name__}: {f!r}")
    if not (isinstance(unroll, (bool, np.bool_)) or
            (isinstance(unroll, (int, np.integer)) and unroll >= 1)):
        raise TypeError(f"scan: unroll must be a positive int or a bool, got {unroll!r}")
    init_leaves, carry_tree = tree_util.tree_flatten(init)
    xs_leaves, xs_tree = tree_util.tree_flatten(xs)
    xs_leaves = [_np_value(x) for x in xs_leaves]
    x_avals = []
    lengths = set()
    for i, x in enumerate(xs_leaves):
        a = _aval_of(x, "scan", "xs")
        if not a.shape:
            raise TypeError(f"scan: every leaf of xs must have a leading axis to scan "
                            f"over, but leaf {i} is a 0-d {a.str_short()}; pass "
                            "arrays of shape (length, ...), or use length= with xs=None.")
        lengths.add(a.shape[0])
        x_avals.append(shaped(a.shape[1:], a.dtype, a.weak_type))
    if length is not None:
        if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or \
                length < 0:
            raise TypeError(f"scan: length must be a non-negative Python int, got "
                            f"{length!r}")
        length = int(length)
        if lengths and lengths != {length}:
            raise ValueError(f"scan: length={length} but xs have leading axis sizes "
                             f"{sorted(lengths)}; they must agree (or omit length).")
    elif not lengths:
        raise ValueError("scan: with xs=None (or no arrays in xs) the number of "
                         "iterations is unknown; pass length=.")
    elif len(lengths) > 1:
        raise ValueError(f"scan: the leaves of xs have different leading axis sizes "
                         f"{sorted(lengths)}; every leaf is sliced along its leading axis, "
                         "so they must all have the same size.")
    else:
        (length,) = lengths
    nk = len(init_leaves)
    store = {}

    def flat_body(*args):
        carry = tree_util.tree_unflatten(carry_tree, list(args[:nk]))
        x = tree_util.tree_unflatten(xs_tree, list(args[nk:]))
        out = f(carry, x)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise TypeError(f"scan: f must return a pair (carry, y), got "
                            f"{type(out).__name__}: {out!r}")
        new_carry, y = out
        c_leaves, c_tree = tree_util.tree_flatten(new_carry)
        if c_tree != carry_tree:
            raise TypeError(f"scan: f must return a carry of the same pytree structure as "
                            f"init, but init is {carry_tree} and f returned {c_tree}; return "
                            "the carry with the structure it came in with.")
        y_leaves, store["y_tree"] = tree_util.tree_flatten(y)
        return [_np_value(v) for v in c_leaves + y_leaves]

    in_avals = [_aval_of(x, "scan", "init") for x in init_leaves] + x_avals
    closed, init_leaves = _trace_loop_body(flat_body, in_avals, (0, nk), "scan body",
                                           "init", carry_tree, init_leaves)
    init_leaves = [_np_value(x) for x in init_leaves]
    closed, consts = _closure_convert(closed)
    n_ops = len(consts) + nk + len(xs_leaves)
    outs = scan_p.bind(*consts, *init_leaves, *xs_leaves, jaxpr=closed,
                       num_consts=len(consts), num_carry=nk, length=length,
                       reverse=bool(reverse), linear=(False,) * n_ops)
    return (tree_util.tree_unflatten(carry_tree, outs[:nk]),
            tree_util.tree_unflatten(store["y_tree"], outs[nk:]))


def _aval_of(x, fun, arg):
    try:
        return get_aval(x)
    except TypeError:
        raise TypeError(f"{fun}: a leaf of {arg} is a {type(x).__name__} ({x!r}), not an "
                        "array; pass NumPy arrays or Python numbers (or pytrees of them)."
                        ) from None


scan_p = new_primitive("scan", multiple_results=True)


def _scan_impl(*args, jaxpr, num_consts, num_carry, length, reverse, linear):
    consts, carry, xs = _split([_np_value(a) for a in args], num_consts, num_carry)
    run = _callee(jaxpr)
    y_avals = jaxpr.out_avals[num_carry:]
    ys = [np.empty((length,) + a.shape, a.dtype) for a in y_avals]
    for i in (range(length - 1, -1, -1) if reverse else range(length)):
        outs = run(*consts, *carry, *[x[i] for x in xs])
        carry = outs[:num_carry]
        for buf, y in zip(ys, outs[num_carry:]):
            buf[i] = y
    return list(carry) + ys


def _scan_out_avals(jaxpr, num_carry, length):
    outs = jaxpr.out_avals
    return [a.strip_weak_type() for a in outs[:num_carry]] + \
        [shaped((length,) + a.shape, a.dtype) for a in outs[num_carry:]]


def _scan_abstract_eval(*avals, jaxpr, num_consts, num_carry, length, reverse, linear):
    want = jaxpr.in_avals
    if len(avals) != len(want):
        raise TypeError(f"scan: {len(avals)} operands for a body of {len(want)} inputs")
    if len(linear) != len(avals):
        raise TypeError(f"scan: linear has {len(linear)} flags for {len(avals)} operands")
    nc, nk = num_consts, num_carry
    for i, (a, w) in enumerate(zip(avals, want)):
        if i >= nc + nk:
            if a.shape != (length,) + w.shape or a.dtype != w.dtype:
                raise TypeError(f"scan: xs operand {i} is {a.str_short()} but the body's x "
                                f"input is {w.str_short()} and length is {length}")
        elif not _same_type(a, w):
            raise TypeError(f"scan: operand {i} is {a.str_short()} but the body's input {i} "
                            f"is {w.str_short()}")
    outs = jaxpr.out_avals
    for i in range(nk):
        if not _same_type(outs[i], want[nc + i]):
            raise TypeError(f"scan: the body's carry output {i} is {outs[i].str_short()} "
                            f"but its carry input is {want[nc + i].str_short()}")
    return _scan_out_avals(jaxpr, nk, length)


scan_p.def_impl(_scan_impl)
scan_p.def_abstract_eval(_scan_abstract_eval)
_lax.def_strict(scan_p)


def _emit_carry_init(ctx, outs, init, raw):
    """The carries before a loop: Python floats and bools when the body runs
    in its raw scalar form (``raw``); otherwise a copy when a carry has a
    shape (an operand, an input or a cached constant, must never come back
    out of a loop that ran 0 times)."""
    if raw:
        return [f"{o} = {_py_type(a)}({c})" for o, c, a in zip(outs, init, ctx.eqn.outvars)]
    return [f"{o} = xp.asarray({c}, copy=True)" if a.aval.ndim else f"{o} = {c}"
            for o, c, a in zip(outs, init, ctx.eqn.outvars)]


def _py_type(v):
    return "float" if v.aval.dtype.kind == "f" else "bool"


def _emit_carry_out(ctx, outs, raw):
    """After a loop in the raw scalar form: NumPy scalars again."""
    if not raw:
        return []
    return [f"{o} = xp.{'float64' if _py_type(v) == 'float' else 'bool_'}({o})"
            for o, v in zip(outs, ctx.eqn.outvars)]


def _emit_scan(ctx):
    """A ``for`` loop in the generated source calling the body's generated
    code once per step (compiled once), the ys written into preallocated
    buffers, as the impl does.  A body of 0-d floats runs its raw scalar
    form, the carries kept as Python floats from step to step."""
    p = ctx.params
    nc, nk, length = p["num_consts"], p["num_carry"], p["length"]
    body = calls.callee(p["jaxpr"])
    raw = body.scalar
    consts, init, xs = ctx.ins[:nc], ctx.ins[nc:nc + nk], ctx.ins[nc + nk:]
    carry, ys = ctx.outs[:nk], ctx.outs[nk:]
    i = ctx.g.local()
    bufs = [ctx.g.local() for _ in ys]
    y_vals = [ctx.g.local() for _ in ys]
    lines = _emit_carry_init(ctx, carry, init, raw)
    in_avals = p["jaxpr"].in_avals
    if raw:  # loop-invariant operands converted once
        names = [ctx.g.local() for _ in consts]
        lines += [f"{t} = {'float' if a.dtype.kind == 'f' else 'bool'}({c})"
                  for t, c, a in zip(names, consts, in_avals)]
        consts = names
    for b, v in zip(bufs, ctx.eqn.outvars[nk:]):
        lines.append(f"{b} = xp.empty({ctx.g.param(v.aval.shape)}, "
                     f"dtype={ctx.g.const(v.aval.dtype)})")
    steps = f"range({length - 1}, -1, -1)" if p["reverse"] else f"range({length})"
    x_avals = in_avals[nc + nk:]
    x_args = [f"{'float' if a.dtype.kind == 'f' else 'bool'}({x}[{i}])" if raw else f"{x}[{i}]"
              for x, a in zip(xs, x_avals)]
    lines.append(f"for {i} in {steps}:")
    lines += codegen.emit_run(ctx, body, consts + carry + x_args, carry + y_vals)
    lines += [f"    {b}[{i}] = {y}" for b, y in zip(bufs, y_vals)]
    lines += [f"{o} = {b}" for o, b in zip(ys, bufs)]
    return lines + _emit_carry_out(ctx, carry, raw)


codegen.def_statement(scan_p, _emit_scan)


def _jvp_body(jaxpr, nc, nk, nonzeros, carry_nz):
    """The JVP of a loop body ``(consts, carry, xs) -> (carry, ys)`` as a
    body of the same form: ``(consts, const tangents, carry, carry tangents,
    xs, xs tangents) -> (carry, carry tangents, ys, ys tangents)`` with only
    the nonzero tangents; the carry tangents where ``carry_nz`` are always
    present (zeros if need be), so they can be carried.  Returns ``(body,
    ys_nonzeros)``."""
    key = ("loop_jvp", nc, nk, tuple(nonzeros), tuple(carry_nz))
    return jaxpr.memo(key, lambda: _make_jvp_body(jaxpr, nc, nk, nonzeros, carry_nz))


def _make_jvp_body(jaxpr, nc, nk, nonzeros, carry_nz):
    avals = jaxpr.in_avals
    nz = list(nonzeros)
    nz[nc:nc + nk] = carry_nz
    groups = _split(list(range(len(avals))), nc, nk)
    in_avals, order = [], []
    for g in groups:
        in_avals += [avals[i] for i in g]
        order += [(i, False) for i in g]
        in_avals += [tangent_aval(avals[i]) for i in g if nz[i]]
        order += [(i, True) for i in g if nz[i]]
    ys_nz: list = []

    def f(*args):
        primals = [None] * len(avals)
        tangents = [Zero(tangent_aval(a)) for a in avals]
        for (i, is_t), x in zip(order, args):
            if is_t:
                tangents[i] = x
            else:
                primals[i] = x
        po, to = ad.jvp_flat(lambda *xs: jaxpr(*xs), primals, tangents)
        kt = [ad.instantiate(t) for t, nz_ in zip(to[:nk], carry_nz) if nz_]
        yt = to[nk:]
        ys_nz[:] = [type(t) is not Zero for t in yt]
        return po[:nk] + kt + po[nk:] + [t for t in yt if type(t) is not Zero]

    return pe.trace_to_jaxpr(f, in_avals), list(ys_nz)


def _carry_fixpoint(step, flags, nk):
    """Grow ``flags`` (one per carry) until ``step(flags)``, the carries
    whose outputs get the property, adds nothing."""
    flags = list(flags)
    for _ in range(nk + 1):
        new = [a or b for a, b in zip(flags, step(flags))]
        if new == flags:
            return flags
        flags = new
    raise AssertionError("loop fixpoint did not converge")  # pragma: no cover


def _scan_jvp(primals, tangents, *, jaxpr, num_consts, num_carry, length, reverse, linear):
    nc, nk = num_consts, num_carry
    nz = [type(t) is not Zero for t in tangents]
    const_nz, carry_nz, xs_nz = _split(nz, nc, nk)
    carry_nz = _carry_fixpoint(
        lambda k: ad.jvp_call_jaxpr(jaxpr, const_nz + k + xs_nz)[1][:nk], carry_nz, nk)
    body, ys_nz = _jvp_body(jaxpr, nc, nk, nz, carry_nz)
    consts, carry, xs = _split(primals, nc, nk)
    ct, kt, xt = _split(tangents, nc, nk)
    ct = [t for t in ct if type(t) is not Zero]
    kt = [ad.instantiate(t) for t, n in zip(kt, carry_nz) if n]
    xt = [t for t in xt if type(t) is not Zero]
    lin_c, lin_k, lin_x = _split(list(linear), nc, nk)
    outs = scan_p.bind(*consts, *ct, *carry, *kt, *xs, *xt, jaxpr=body,
                       num_consts=nc + len(ct), num_carry=nk + len(kt), length=length,
                       reverse=reverse,
                       linear=tuple(lin_c + [True] * len(ct) + lin_k + [True] * len(kt) +
                                    lin_x + [True] * len(xt)))
    ny = len(jaxpr.out_avals) - nk
    carry_out, kt_out, ys, yt = _split(outs, nk, len(kt), ny)
    out_avals = _scan_out_avals(jaxpr, nk, length)
    kt_it, yt_it = iter(kt_out), iter(yt)
    t_out = [next(kt_it) if n else Zero(tangent_aval(a))
             for n, a in zip(carry_nz, out_avals[:nk])]
    t_out += [next(yt_it) if n else Zero(tangent_aval(a))
              for n, a in zip(ys_nz, out_avals[nk:])]
    return carry_out + ys, t_out


ad.jvp_rules[scan_p] = _scan_jvp


# -- partial evaluation (linearize) -------------------------------------------


def _scan_split(jaxpr, nc, nk, unknowns):
    """The known/unknown split of a scan body given which operands are
    unknown, with the carry fixpoint: returns ``(known, unknown, unknowns,
    out_unknowns, const_res, res_src)`` where ``unknowns`` is the final
    operand mask (carries made unknown by the fixpoint), ``known`` maps the
    known operands to the known outputs and the residuals it stacks, and
    ``unknown`` is a scan body ``(unknown consts, hoisted residuals, unknown
    carry, residuals, unknown xs) -> unknown outputs``; the hoisted
    residuals are the known consts at the positions ``const_res`` (among the
    known consts), and ``res_src`` says for each
    residual whether the known scan stacks it (None) or it is the known xs
    operand at that position."""
    key = ("scan_split", nc, nk, tuple(unknowns))
    return jaxpr.memo(key, lambda: _make_scan_split(jaxpr, nc, nk, list(unknowns)))


def _make_scan_split(jaxpr, nc, nk, unknowns):
    const_uk, carry_uk, xs_uk = _split(unknowns, nc, nk)
    carry_uk = _carry_fixpoint(
        lambda k: pe.partial_eval_jaxpr(jaxpr, const_uk + k + xs_uk)[2][:nk], carry_uk, nk)
    unknowns = const_uk + carry_uk + xs_uk
    known, unknown, out_unk, nres = pe.partial_eval_jaxpr(jaxpr, unknowns)
    # A carry that is unknown on input but computed from known values only
    # must still be an unknown output (the next iteration reads it as one):
    # the known half passes its value on as one more residual.
    force = [u and not o for u, o in zip(carry_uk, out_unk[:nk])] + \
        [False] * (len(out_unk) - nk)
    k_j, u_j = known.jaxpr, unknown.jaxpr
    if any(force):
        n_known = len(k_j.outvars) - nres
        k_out, k_res = k_j.outvars[:n_known], k_j.outvars[n_known:]
        known_pos = [j for j, o in enumerate(out_unk) if not o]
        kept = [x for j, x in zip(known_pos, k_out) if not force[j]]
        forced = [x for j, x in zip(known_pos, k_out) if force[j]]
        k_j = Jaxpr(k_j.constvars, k_j.invars, k_j.eqns, kept + k_res + forced)
        binders = [Var(x.aval) for x in forced]
        u_in = u_j.invars
        b_it, u_it = iter(binders), iter(u_j.outvars)
        u_out = [next(u_it) if o else next(b_it) if force[j] else None
                 for j, o in enumerate(out_unk)]
        u_j = Jaxpr(u_j.constvars, u_in[:nres] + binders + u_in[nres:], u_j.eqns,
                    [x for x in u_out if x is not None])
        out_unk = [o or fc for o, fc in zip(out_unk, force)]
        nres += len(forced)
    # Residuals that are known consts of the body (a weight matrix the
    # tangent body multiplies by) are loop-invariant: the unknown scan takes
    # them as consts rather than a copy stacked per iteration.
    known_consts = k_j.invars[:const_uk.count(False)]
    n_ko = len(k_j.outvars) - nres
    res_out = k_j.outvars[n_ko:]
    hoist = [type(r) is Var and any(r is v for v in known_consts) for r in res_out]
    const_res = tuple(next(i for i, v in enumerate(known_consts) if v is r)
                      for r, h in zip(res_out, hoist) if h)
    k_j = Jaxpr(k_j.constvars, k_j.invars, k_j.eqns,
                k_j.outvars[:n_ko] + [r for r, h in zip(res_out, hoist) if not h])
    # Residuals that are known x slices are read from the known xs
    # themselves: the known scan stacks only the others.
    n_kk = carry_uk.count(False)
    known_xs = k_j.invars[len(known_consts) + n_kk:]
    res_left = [r for r, h in zip(res_out, hoist) if not h]
    res_src = tuple(next((i for i, v in enumerate(known_xs) if v is r), None)
                    if type(r) is Var else None for r in res_left)
    k_j = Jaxpr(k_j.constvars, k_j.invars, k_j.eqns,
                k_j.outvars[:n_ko] + [r for r, src in zip(res_left, res_src) if src is None])
    # The unknown body: (consts, hoisted residuals, carry, residuals, xs).
    n_uc, n_uk = sum(const_uk), sum(carry_uk)
    res_in, rest = u_j.invars[:nres], u_j.invars[nres:]
    u_j = Jaxpr(u_j.constvars, rest[:n_uc] + [b for b, h in zip(res_in, hoist) if h] +
                rest[n_uc:n_uc + n_uk] + [b for b, h in zip(res_in, hoist) if not h] +
                rest[n_uc + n_uk:], u_j.eqns, u_j.outvars)
    known = ClosedJaxpr(k_j, known.consts)
    unknown = ClosedJaxpr(u_j, unknown.consts)
    return known, unknown, unknowns, out_unk, const_res, res_src


def _split_params(params, unknowns, const_res, res_src, known, unknown):
    nres = len(res_src)
    nc, nk = params["num_consts"], params["num_carry"]
    lin = list(params["linear"])
    ku = _split(list(unknowns), nc, nk)
    kl = _split(lin, nc, nk)
    k_params = dict(params, jaxpr=known, num_consts=ku[0].count(False),
                    num_carry=ku[1].count(False),
                    linear=tuple(x for x, u in zip(lin, unknowns) if not u))
    u_lin = [x for x, u in zip(kl[0], ku[0]) if u] + [False] * len(const_res) + \
        [x for x, u in zip(kl[1], ku[1]) if u] + [False] * nres + \
        [x for x, u in zip(kl[2], ku[2]) if u]
    u_params = dict(params, jaxpr=unknown, num_consts=sum(ku[0]) + len(const_res),
                    num_carry=sum(ku[1]), linear=tuple(u_lin))
    return k_params, u_params


def _unknown_operands(ops, unknowns, nc, nk, const_res, res_src, stacked):
    """The unknown scan's operands: its consts, the hoisted residuals (known
    consts), its carries, the residuals (stacked by the known scan, or known
    xs), its xs."""
    c, k, x = _split([o for o, u in zip(ops, unknowns) if u], sum(unknowns[:nc]),
                     sum(unknowns[nc:nc + nk]))
    known_consts = [o for o, u in zip(ops[:nc], unknowns[:nc]) if not u]
    known_xs = [o for o, u in zip(ops[nc + nk:], unknowns[nc + nk:]) if not u]
    it = iter(stacked)
    res = [next(it) if src is None else known_xs[src] for src in res_src]
    return c + [known_consts[i] for i in const_res] + k + res + x


def _scan_partial_eval(trace, args, params):
    """Under linearize: run the known scan now (its ys include the residuals,
    stacked per iteration) and stage the unknown scan, which reads them."""
    jaxpr, nc, nk = params["jaxpr"], params["num_consts"], params["num_carry"]
    unknowns = [type(x) is JaxprTracer and x._trace is trace for x in args]
    known, unknown, unknowns, out_unk, const_res, res_src = _scan_split(jaxpr, nc, nk,
                                                                        unknowns)
    k_params, u_params = _split_params(params, unknowns, const_res, res_src, known, unknown)
    known_args = [x for x, u in zip(args, unknowns) if not u]
    known_outs = scan_p.bind(*known_args, **k_params) if known.jaxpr.outvars else []
    nko = len(known_outs) - res_src.count(None)
    u_args = _unknown_operands(args, unknowns, nc, nk, const_res, res_src, known_outs[nko:])
    unknown_outs = trace.stage(scan_p, u_args, u_params) if unknown.jaxpr.outvars else []
    k_it, u_it = iter(known_outs[:nko]), iter(unknown_outs)
    return [next(u_it) if u else next(k_it) for u in out_unk]


pe.partial_eval_rules[scan_p] = _scan_partial_eval


def _scan_partial_eval_jaxpr(eqn, unknowns):
    """The same split for a scan nested in a body being split."""
    params = eqn.params
    jaxpr, nc, nk = params["jaxpr"], params["num_consts"], params["num_carry"]
    known, unknown, unknowns, out_unk, const_res, res_src = _scan_split(jaxpr, nc, nk,
                                                                        unknowns)
    k_params, u_params = _split_params(params, unknowns, const_res, res_src, known, unknown)
    length = params["length"]
    k_outs = [v for v, u in zip(eqn.outvars, out_unk) if not u]
    res = [Var(shaped((length,) + a.shape, a.dtype))
           for a in known.out_avals[len(k_outs):]]
    k_eqn = JaxprEqn(scan_p, [x for x, u in zip(eqn.invars, unknowns) if not u], k_params,
                     k_outs + res)
    u_eqn = JaxprEqn(scan_p, _unknown_operands(eqn.invars, unknowns, nc, nk, const_res,
                                               res_src, res), u_params,
                     [v for v, u in zip(eqn.outvars, out_unk) if u])
    return k_eqn, u_eqn, out_unk, res


pe.partial_eval_jaxpr_rules[scan_p] = _scan_partial_eval_jaxpr


# -- transpose ----------------------------------------------------------------


def _transpose_body(jaxpr, nc, nk, const_lin, xs_lin):
    """The body of a linear scan's transpose: ``(residual consts, const
    cotangent sums, carry cotangents, residual xs, y cotangents) -> (const
    cotangent sums, carry cotangents, x cotangents)``."""
    key = ("scan_transpose", nc, nk, tuple(const_lin), tuple(xs_lin))
    return jaxpr.memo(key, lambda: _make_transpose_body(jaxpr, nc, nk, const_lin, xs_lin))


def _make_transpose_body(jaxpr, nc, nk, const_lin, xs_lin):
    c_av, k_av, x_av = _split(jaxpr.in_avals, nc, nk)
    y_av = jaxpr.out_avals[nk:]
    t = tangent_aval
    in_avals = ([a for a, lin in zip(c_av, const_lin) if not lin] +
                [t(a) for a, lin in zip(c_av, const_lin) if lin] + [t(a) for a in k_av] +
                [a for a, lin in zip(x_av, xs_lin) if not lin] + [t(a) for a in y_av])
    n_rc = const_lin.count(False)
    n_lc = len(c_av) - n_rc
    n_rx = xs_lin.count(False)

    def f(*args):
        res_c, acc, ct_k, res_x, ct_y = _split(list(args), n_rc, n_lc, nk, n_rx)
        rc, rx = iter(res_c), iter(res_x)
        body_args = ([UndefinedPrimal(t(a)) if lin else next(rc)
                      for a, lin in zip(c_av, const_lin)] +
                     [UndefinedPrimal(t(a)) for a in k_av] +
                     [UndefinedPrimal(t(a)) if lin else next(rx)
                      for a, lin in zip(x_av, xs_lin)])
        cts = ad.backward_pass(jaxpr.jaxpr, jaxpr.consts, ct_k + ct_y, body_args)
        ct_c, ct_k2, ct_x = _split(cts, nc, nk)
        ct_c = [c for c, lin in zip(ct_c, const_lin) if lin]
        new_acc = [ad.add_tangents(a, c) for a, c in zip(acc, ct_c)]
        return (new_acc + [ad.instantiate(_zero_or(c, a)) for c, a in zip(ct_k2, k_av)] +
                [ad.instantiate(_zero_or(c, a)) for c, a, lin in zip(ct_x, x_av, xs_lin)
                 if lin])

    return pe.trace_to_jaxpr(f, in_avals)


def _zero_or(ct, aval):
    return Zero(tangent_aval(aval)) if ct is None else ct


def _scan_transpose(cts, *args, jaxpr, num_consts, num_carry, length, reverse, linear):
    nc, nk = num_consts, num_carry
    consts, carry, xs = _split(list(args), nc, nk)
    # Every carry is transposed as linear: a carry that is a value here is a
    # tangent that linearize instantiated as zeros (no tangent flowed in), and
    # its cotangent is not wanted.
    const_lin = [is_undefined(c) for c in consts]
    xs_lin = [is_undefined(x) for x in xs]
    body = _transpose_body(jaxpr, nc, nk, tuple(const_lin), tuple(xs_lin))
    ct_k = [ad.instantiate(c) for c in cts[:nk]]
    ct_y = [ad.instantiate(c) for c in cts[nk:]]
    res_c = [c for c in consts if not is_undefined(c)]
    acc = [ad.zeros_like_aval(c.aval) for c in consts if is_undefined(c)]
    res_x = [x for x in xs if not is_undefined(x)]
    n_ops = len(res_c) + len(acc) + nk + len(res_x) + len(ct_y)
    outs = scan_p.bind(*res_c, *acc, *ct_k, *res_x, *ct_y, jaxpr=body,
                       num_consts=len(res_c), num_carry=len(acc) + nk, length=length,
                       reverse=not reverse,
                       linear=(False,) * len(res_c) + (True,) * (n_ops - len(res_c)))
    ct_c, ct_init, ct_x = _split(outs, len(acc), nk)
    c_it, x_it = iter(ct_c), iter(ct_x)
    return ([next(c_it) if lin else None for lin in const_lin] +
            [c if is_undefined(k) else None for c, k in zip(ct_init, carry)] +
            [next(x_it) if lin else None for lin in xs_lin])


ad.deftranspose(scan_p, _scan_transpose)


# -- batching -----------------------------------------------------------------


def _batched_body(jaxpr, nc, nk, const_dims, carry_b, xs_b, size):
    """The body batched: consts at ``const_dims``, batched carries and x
    slices at axis 0; returns ``(body, ys_batched)`` with the carries that
    are batched, and the batched ys, at axis 0."""
    key = ("loop_batch", nc, nk, tuple(const_dims), tuple(carry_b), tuple(xs_b), size)
    return jaxpr.memo(key, lambda: _make_batched_body(jaxpr, nc, nk, const_dims, carry_b,
                                                      xs_b, size))


def _make_batched_body(jaxpr, nc, nk, const_dims, carry_b, xs_b, size):
    dims = list(const_dims) + [0 if b else not_mapped for b in list(carry_b) + list(xs_b)]
    in_avals = [a if d is not_mapped else
                shaped(a.shape[:d] + (size,) + a.shape[d:], a.dtype, a.weak_type)
                for a, d in zip(jaxpr.in_avals, dims)]
    ys_b: list = []

    def f(*args):
        vals, out_dims = batching.batch_flat(jaxpr, list(args), dims, size)
        outs = [_lax.matchaxis(v, d, 0, size) if b else v
                for v, d, b in zip(vals[:nk], out_dims[:nk], carry_b)]
        ys_b[:] = [d is not not_mapped for d in out_dims[nk:]]
        outs += [v if d is not_mapped else _lax.moveaxis(v, d, 0)
                 for v, d in zip(vals[nk:], out_dims[nk:])]
        return outs

    return pe.trace_to_jaxpr(f, in_avals), list(ys_b)


def _scan_batch(args, dims, *, jaxpr, num_consts, num_carry, length, reverse, linear):
    nc, nk = num_consts, num_carry
    size = batching.axis_size(args, dims)
    c_dims, k_dims, x_dims = _split(list(dims), nc, nk)
    xs_b = [d is not not_mapped for d in x_dims]

    def step(carry_b):
        body_dims = c_dims + [0 if b else not_mapped for b in carry_b + xs_b]
        out_dims = batching.batch_call_jaxpr(jaxpr, body_dims, size)[1]
        return [d is not not_mapped for d in out_dims[:nk]]

    carry_b = _carry_fixpoint(step, [d is not not_mapped for d in k_dims], nk)
    body, ys_b = _batched_body(jaxpr, nc, nk, tuple(c_dims), tuple(carry_b), tuple(xs_b),
                               size)
    consts, carry, xs = _split(list(args), nc, nk)
    carry = [_lax.bdim_at_front(x, d, size) if b else x
             for x, d, b in zip(carry, k_dims, carry_b)]
    xs = [x if d is not_mapped else _lax.moveaxis(x, d, 1) for x, d in zip(xs, x_dims)]
    outs = scan_p.bind(*consts, *carry, *xs, jaxpr=body, num_consts=nc, num_carry=nk,
                       length=length, reverse=reverse, linear=linear)
    return outs, [0 if b else not_mapped for b in carry_b] + \
        [1 if b else not_mapped for b in ys_b]


batching.batch_rules[scan_p] = _scan_batch


# -- dead-code elimination ----------------------------------------------------


def _scan_dce(eqn, used_outputs):
    """Unused ys go, and so do carries nothing needs: a carry is needed when
    its final value is used or when the body needs it to compute something
    that is (carries feed back, hence the fixpoint)."""
    p = eqn.params
    closed, nc, nk = p["jaxpr"], p["num_consts"], p["num_carry"]
    body = closed.jaxpr
    used_k, used_y = list(used_outputs[:nk]), list(used_outputs[nk:])

    def step(k):
        _, used_in = _opt.dce_jaxpr(body, k + used_y, prune_invars=False)
        return used_in[nc:nc + nk]

    used_k = _carry_fixpoint(step, used_k, nk)
    new_body, used_in = _opt.dce_jaxpr(body, used_k + used_y, prune_invars=False)
    used_in = used_in[:nc] + used_k + used_in[nc + nk:]
    if all(used_in) and all(used_k) and all(used_y) and \
            len(new_body.eqns) == len(body.eqns):
        return eqn
    new_body = Jaxpr(new_body.constvars, [v for v, u in zip(new_body.invars, used_in) if u],
                     new_body.eqns, new_body.outvars)
    new = _opt.prune_constvars(ClosedJaxpr(new_body, closed.consts))
    used_out = used_k + used_y
    return JaxprEqn(scan_p, [x for x, u in zip(eqn.invars, used_in) if u],
                    dict(p, jaxpr=new, num_consts=sum(used_in[:nc]), num_carry=sum(used_k),
                         linear=tuple(x for x, u in zip(p["linear"], used_in) if u)),
                    [v for v, u in zip(eqn.outvars, used_out) if u])


_opt.dce_rules[scan_p] = _scan_dce


# ---------------------------------------------------------------------------
# map and fori_loop, on scan


def map(f, xs):  # noqa: A001 - the lax name
    """``f`` applied to each slice of ``xs`` along its leading axis, stacked:
    ``jax.lax.map``, a ``scan`` without a carry (one loop in the jaxpr
    rather than a vectorised body, e.g. to bound memory).

    Example:
        >>> import numpy as np
        >>> from fxad import lax
        >>> lax.map(lambda x: lax.mul(x, x), np.array([1.0, 2.0, 3.0])).tolist()
        [1.0, 4.0, 9.0]
    """
    if not callable(f):
        raise TypeError(f"map: f must be a callable, got {type(f).__name__}: {f!r}")
    return scan(lambda carry, x: (carry, f(x)), (), xs)[1]


def _static_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def fori_loop(lower, upper, body_fun, init_val):
    """``for i in range(lower, upper): val = body_fun(i, val)``, returning
    ``val`` (``jax.lax.fori_loop``).

    With Python-int (static) bounds the loop is a ``scan`` of
    ``upper - lower`` steps carrying ``i``, so every transformation works,
    reverse mode included.  With traced bounds it is a ``while_loop``:
    forward mode (``jvp``, ``jacfwd``) and ``vmap`` work, reverse mode raises.

    Example:
        >>> import fxad
        >>> from fxad import lax
        >>> float(lax.fori_loop(0, 4, lambda i, x: lax.mul(x, 1.5), 2.0))
        10.125
        >>> float(fxad.grad(lambda x: lax.fori_loop(0, 3, lambda i, v: lax.mul(v, x), 1.0))(2.0))
        12.0
    """
    if not callable(body_fun):
        raise TypeError(f"fori_loop: body_fun must be a callable body_fun(i, val), got "
                        f"{type(body_fun).__name__}: {body_fun!r}")
    for name, v in (("lower", lower), ("upper", upper)):
        a = _aval_of(v, "fori_loop", name)
        if a.shape or a.dtype.kind not in "iu":
            raise TypeError(f"fori_loop: {name} must be an integer scalar, got "
                            f"{a.str_short()}")
    if _static_int(lower) and _static_int(upper):
        dtype = np.result_type(np.asarray(lower), np.asarray(upper)) \
            if not (type(lower) is int and type(upper) is int) else np.dtype(np.int64)
        one = dtype.type(1)

        def step(carry, _):
            i, x = carry
            return (_lax.add(i, one), body_fun(i, x)), None

        n = builtin_max(int(upper) - int(lower), 0)
        (_, out), _ = scan(step, (dtype.type(lower), init_val), None, length=n)
        return out
    lo, hi = lower, upper
    dtype = np.result_type(get_aval(lo).dtype, get_aval(hi).dtype)
    lo = _lax.convert_element_type(_np_value(lo), dtype)
    hi = _lax.convert_element_type(_np_value(hi), dtype)
    one = dtype.type(1)

    def cond(carry):
        return _lax.lt(carry[0], carry[2])

    def body(carry):
        i, x, u = carry
        return _lax.add(i, one), body_fun(i, x), u

    return while_loop(cond, body, (lo, init_val, hi))[1]


builtin_max = max


# ---------------------------------------------------------------------------
# while_loop


def while_loop(cond_fun, body_fun, init_val):
    """``while cond_fun(val): val = body_fun(val)``, returning ``val``
    (``jax.lax.while_loop``), as one ``while`` equation.

    The trip count is known only at run time, so reverse-mode
    differentiation (``grad``, ``vjp``, ``jacrev``) raises; forward mode
    (``jvp``, ``jacfwd``) differentiates through the body (the condition sees
    primal values) and ``vmap`` runs until every example is done.  For
    reverse mode use ``scan`` or ``fori_loop`` with Python-int bounds.

    Args:
      cond_fun: ``cond_fun(val) -> bool scalar``.
      body_fun: ``body_fun(val) -> val``, keeping its structure, shapes and
        dtypes.
      init_val: the initial value (a pytree of arrays).

    Example:
        >>> import fxad
        >>> from fxad import lax
        >>> float(lax.while_loop(lambda x: lax.lt(x, 10.0), lambda x: lax.mul(x, 2.0), 1.0))
        16.0
        >>> float(fxad.jvp(lambda x: lax.while_loop(lambda v: lax.lt(v, 10.0),
        ...                                         lambda v: lax.mul(v, x), x), (3.0,),
        ...                (1.0,))[1])
        27.0
    """
    for name, fn in (("cond_fun", cond_fun), ("body_fun", body_fun)):
        if not callable(fn):
            raise TypeError(f"while_loop: {name} must be a callable, got "
                            f"{type(fn).__name__}: {fn!r}")
    leaves, tree = tree_util.tree_flatten(init_val)
    avals = [_aval_of(x, "while_loop", "init_val") for x in leaves]

    def flat_body(*args):
        out = body_fun(tree_util.tree_unflatten(tree, list(args)))
        out_leaves, out_tree = tree_util.tree_flatten(out)
        if out_tree != tree:
            raise TypeError(f"while_loop: body_fun must return a value of the same pytree "
                            f"structure as init_val, but init_val is {tree} and body_fun "
                            f"returned {out_tree}.")
        return [_np_value(v) for v in out_leaves]

    body, leaves = _trace_loop_body(flat_body, avals, (0, len(leaves)), "while_loop body",
                                    "init_val", tree, leaves)
    leaves = [_np_value(x) for x in leaves]
    avals = body.in_avals

    def flat_cond(*args):
        pred = _np_value(cond_fun(tree_util.tree_unflatten(tree, list(args))))
        a = _aval_of(pred, "while_loop", "the output of cond_fun")
        if a.shape or a.dtype != np.dtype(bool):
            raise TypeError(f"while_loop: cond_fun must return a boolean scalar, got "
                            f"{a.str_short()}; compare with lax.lt/lax.ne, or reduce an "
                            "array with all/any.")
        return [pred]

    cond = pe.trace_to_jaxpr(flat_cond, list(avals))
    cond, cconsts = _closure_convert(cond)
    body, bconsts = _closure_convert(body)
    outs = while_p.bind(*cconsts, *bconsts, *leaves, cond_jaxpr=cond, body_jaxpr=body,
                        cond_nconsts=len(cconsts), body_nconsts=len(bconsts))
    return tree_util.tree_unflatten(tree, outs)


while_p = new_primitive("while", multiple_results=True)


def _while_impl(*args, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    cc, bc, carry = _split([_np_value(a) for a in args], cond_nconsts, body_nconsts)
    cond, body = _callee(cond_jaxpr), _callee(body_jaxpr)
    while cond(*cc, *carry)[0]:
        carry = body(*bc, *carry)
    return list(carry)


def _while_abstract_eval(*avals, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    cc, bc, carry = _split(list(avals), cond_nconsts, body_nconsts)
    for what, ops, want in (("cond_jaxpr", cc + carry, cond_jaxpr.in_avals),
                            ("body_jaxpr", bc + carry, body_jaxpr.in_avals)):
        if len(ops) != len(want):
            raise TypeError(f"while: {len(ops)} operands for a {what} of {len(want)} inputs")
        for i, (a, w) in enumerate(zip(ops, want)):
            if not _same_type(a, w):
                raise TypeError(f"while: operand {i} of {what} is {a.str_short()} but its "
                                f"input is {w.str_short()}")
    (p,) = cond_jaxpr.out_avals
    if p.shape or p.dtype != np.dtype(bool):
        raise TypeError(f"while: cond_jaxpr returns {p.str_short()}, not a bool scalar")
    outs = body_jaxpr.out_avals
    for i, (a, o) in enumerate(zip(carry, outs)):
        if not _same_type(a, o):
            raise TypeError(f"while: body output {i} is {o.str_short()} but carry {i} is "
                            f"{a.str_short()}")
    return [a.strip_weak_type() for a in outs]


while_p.def_impl(_while_impl)
while_p.def_abstract_eval(_while_abstract_eval)
_lax.def_strict(while_p)


def _emit_while(ctx):
    """A ``while`` loop in the generated source, the condition and the body
    calls of their generated code (compiled once), as the impl does."""
    p = ctx.params
    nc, nb = p["cond_nconsts"], p["body_nconsts"]
    cond = ctx.g.const(_callee(p["cond_jaxpr"]), "_cond")
    body = calls.callee(p["body_jaxpr"])
    cc, bc, init = ctx.ins[:nc], ctx.ins[nc:nc + nb], ctx.ins[nc + nb:]
    carry = ctx.outs
    raw = body.scalar
    lines = _emit_carry_init(ctx, carry, init, raw)
    lines.append(f"while {cond}({', '.join(cc + carry)})[0]:")
    lines += codegen.emit_run(ctx, body, bc + carry, carry)
    return lines + _emit_carry_out(ctx, carry, raw)


codegen.def_statement(while_p, _emit_while)


def _cond_ignoring(cond_jaxpr, nconsts, extra_avals, extra_at, key):
    """``cond_jaxpr`` with inputs ``extra_avals`` inserted at ``extra_at``
    and ignored (a tangent or a batch-only operand the condition does not read)."""

    def make():
        avals = list(cond_jaxpr.in_avals)
        in_avals = avals[:extra_at] + list(extra_avals) + avals[extra_at:]
        n = len(extra_avals)

        def f(*args):
            return cond_jaxpr(*args[:extra_at], *args[extra_at + n:])

        return pe.trace_to_jaxpr(f, in_avals)

    return cond_jaxpr.memo(key, make)


def _while_jvp(primals, tangents, *, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    ncc, nbc = cond_nconsts, body_nconsts
    nz = [type(t) is not Zero for t in tangents]
    _, bc_nz, carry_nz = _split(nz, ncc, nbc)
    nk = len(carry_nz)
    carry_nz = _carry_fixpoint(lambda k: ad.jvp_call_jaxpr(body_jaxpr, bc_nz + k)[1], carry_nz,
                               nk)
    body, _ = _jvp_body(body_jaxpr, nbc, nk, bc_nz + carry_nz, carry_nz)
    cc, bc, carry = _split(list(primals), ncc, nbc)
    _, bct, kt = _split(list(tangents), ncc, nbc)
    bct = [t for t in bct if type(t) is not Zero]
    kt = [ad.instantiate(t) for t, n in zip(kt, carry_nz) if n]
    t_avals = [get_aval(t) for t in kt]
    cond = _cond_ignoring(cond_jaxpr, ncc, t_avals, ncc + nk, ("while_jvp_cond", tuple(carry_nz)))
    outs = while_p.bind(*cc, *bc, *bct, *carry, *kt, cond_jaxpr=cond, body_jaxpr=body,
                        cond_nconsts=ncc, body_nconsts=nbc + len(bct))
    carry_out, kt_out = outs[:nk], iter(outs[nk:])
    return carry_out, [next(kt_out) if n else Zero(tangent_aval(get_aval(p)))
                       for n, p in zip(carry_nz, carry_out)]


ad.jvp_rules[while_p] = _while_jvp

_WHILE_REVERSE = (
    "Reverse-mode differentiation (grad, vjp, jacrev, hessian) does not work through "
    "fxad.lax.while_loop, nor fori_loop with traced bounds: the number of iterations is "
    "known only at run time, so the residuals of every iteration cannot be stored. Use "
    "fxad.lax.scan, or fxad.lax.fori_loop with Python-int (static) lower and upper, which "
    "is a scan; or differentiate in forward mode (jvp, jacfwd).")


ad.untransposable[while_p] = _WHILE_REVERSE


def _while_known_loop(cond_jaxpr, body_jaxpr, ncc, nbc, unknowns):
    """For a while loop whose condition reads known values only: the carry
    mask that is unknown (fixpoint), and the cond and body of a loop over the
    known operands computing the known carries; ``None`` when the
    condition reads an unknown carry (then nothing is known)."""

    def make():
        cc_uk, bc_uk, carry_uk = _split(list(unknowns), ncc, nbc)
        if any(cc_uk):
            return None
        nk = len(carry_uk)
        carry_uk = _carry_fixpoint(
            lambda k: pe.partial_eval_jaxpr(body_jaxpr, bc_uk + k)[2], carry_uk, nk)
        _, cond_used = _opt.dce_jaxpr(cond_jaxpr.jaxpr, [True], prune_invars=False)
        if any(u and c for u, c in zip(carry_uk, cond_used[ncc:])):
            return None
        known, _, _, nres = pe.partial_eval_jaxpr(body_jaxpr, bc_uk + carry_uk)
        kj = known.jaxpr
        body = _opt.dce(Jaxpr(kj.constvars, kj.invars, kj.eqns,
                              kj.outvars[:len(kj.outvars) - nres]))
        cj = cond_jaxpr.jaxpr
        cond = Jaxpr(cj.constvars, cj.invars[:ncc] +
                     [v for v, u in zip(cj.invars[ncc:], carry_uk) if not u], cj.eqns,
                     cj.outvars)
        return (carry_uk, ClosedJaxpr(cond, cond_jaxpr.consts),
                _opt.prune_constvars(ClosedJaxpr(body, known.consts)))

    return body_jaxpr.memo(("while_known", cond_jaxpr, ncc, nbc, tuple(unknowns)), make)


def _while_partial_eval(trace, args, params):
    """Under linearize (as JAX): the known carries are computed now by a
    loop over the known operands; the unknown ones by the whole loop,
    staged (it recomputes the known part).  The staged loop is not
    transposable, so jacfwd works and reverse mode raises."""
    cond, body = params["cond_jaxpr"], params["body_jaxpr"]
    ncc, nbc = params["cond_nconsts"], params["body_nconsts"]
    unknowns = [type(x) is JaxprTracer and x._trace is trace for x in args]
    split = _while_known_loop(cond, body, ncc, nbc, unknowns)
    staged = trace.stage(while_p, args, params)
    if split is None:
        return staged
    carry_uk, k_cond, k_body = split
    _, bc_uk, _ = _split(unknowns, ncc, nbc)
    cc, bc, carry = _split(list(args), ncc, nbc)
    known = while_p.bind(*cc, *[x for x, u in zip(bc, bc_uk) if not u],
                         *[x for x, u in zip(carry, carry_uk) if not u],
                         cond_jaxpr=k_cond, body_jaxpr=k_body, cond_nconsts=ncc,
                         body_nconsts=bc_uk.count(False))
    k_it = iter(known)
    return [s if u else next(k_it) for s, u in zip(staged, carry_uk)]


pe.partial_eval_rules[while_p] = _while_partial_eval


def _while_batch(args, dims, *, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    ncc, nbc = cond_nconsts, body_nconsts
    size = batching.axis_size(args, dims)
    cc_dims, bc_dims, k_dims = _split(list(dims), ncc, nbc)
    nk = len(k_dims)

    def pred_batched(carry_b):
        d = cc_dims + [0 if b else not_mapped for b in carry_b]
        return batching.batch_call_jaxpr(cond_jaxpr, d, size)[1][0] is not not_mapped

    def step(carry_b):
        d = bc_dims + [0 if b else not_mapped for b in carry_b]
        out_dims = batching.batch_call_jaxpr(body_jaxpr, d, size)[1]
        return [o is not not_mapped for o in out_dims]

    carry_b = _carry_fixpoint(step, [d is not not_mapped for d in k_dims], nk)
    batched_pred = pred_batched(carry_b)
    if batched_pred:
        # Each example stops at its own iteration: every carry is batched,
        # the loop runs while any example goes on, and a finished example's
        # carry is frozen by a select.
        carry_b = [True] * nk
    body, _ = _batched_body(body_jaxpr, nbc, nk, tuple(bc_dims), tuple(carry_b), (), size)
    cond, _ = _batched_body(cond_jaxpr, ncc, 0, tuple(cc_dims) + tuple(
        0 if b else not_mapped for b in carry_b), (), (), size)
    cc, bc, carry = _split(list(args), ncc, nbc)
    carry = [_lax.bdim_at_front(x, d, size) if b else x
             for x, d, b in zip(carry, k_dims, carry_b)]
    if not batched_pred:
        outs = while_p.bind(*cc, *bc, *carry, cond_jaxpr=cond, body_jaxpr=body,
                            cond_nconsts=ncc, body_nconsts=nbc)
        return outs, [0 if b else not_mapped for b in carry_b]
    body = _select_body(cond, body, ncc, nbc)
    cond = _any_cond(cond)
    outs = while_p.bind(*cc, *cc, *bc, *carry, cond_jaxpr=cond, body_jaxpr=body,
                        cond_nconsts=ncc, body_nconsts=ncc + nbc)
    return outs, [0] * nk


def _any_cond(cond):
    def make():
        def f(*args):
            (pred,) = cond(*args)
            return [_lax.reduce_max(pred, (0,))]

        return pe.trace_to_jaxpr(f, cond.in_avals)

    return cond.memo("while_any", make)


def _select_body(cond, body, ncc, nbc):
    """``(cond consts, body consts, carry) -> carry``: one step for the
    examples whose predicate holds, the carry unchanged for the others."""

    def make():
        in_avals = cond.in_avals[:ncc] + body.in_avals

        def f(*args):
            cc, bc, carry = _split(list(args), ncc, nbc)
            (pred,) = cond(*cc, *carry)
            new = body(*bc, *carry)
            out = []
            for old, x in zip(carry, new):
                shape = get_aval(x).shape
                which = pred if len(shape) == 1 else _lax.broadcast_in_dim(pred, shape, (0,))
                out.append(_lax.select_n(which, old, x))
            return out

        return pe.trace_to_jaxpr(f, in_avals)

    return body.memo(("while_select", cond, ncc), make)


batching.batch_rules[while_p] = _while_batch


def _while_dce(eqn, used_outputs):
    """Carries that neither the condition, nor a used output, nor the body
    computing those needs are dropped (with the operands only they used)."""
    p = eqn.params
    cond, body = p["cond_jaxpr"], p["body_jaxpr"]
    ncc, nbc = p["cond_nconsts"], p["body_nconsts"]
    nk = len(body.out_avals)
    _, cond_used = _opt.dce_jaxpr(cond.jaxpr, [True], prune_invars=False)

    def step(k):
        _, used_in = _opt.dce_jaxpr(body.jaxpr, k, prune_invars=False)
        return used_in[nbc:]

    used_k = [a or b for a, b in zip(used_outputs, cond_used[ncc:])]
    used_k = _carry_fixpoint(step, used_k, nk)
    if all(used_k):
        return eqn
    new_body, used_in = _opt.dce_jaxpr(body.jaxpr, used_k, prune_invars=False)
    used_bc = used_in[:nbc]
    new_body = Jaxpr(new_body.constvars,
                     [v for v, u in zip(new_body.invars, used_bc + used_k) if u],
                     new_body.eqns, new_body.outvars)
    cj = cond.jaxpr
    new_cond = Jaxpr(cj.constvars, cj.invars[:ncc] +
                     [v for v, u in zip(cj.invars[ncc:], used_k) if u], cj.eqns, cj.outvars)
    used_ops = [True] * ncc + used_bc + used_k
    return JaxprEqn(while_p, [x for x, u in zip(eqn.invars, used_ops) if u],
                    dict(p, cond_jaxpr=ClosedJaxpr(new_cond, cond.consts),
                         body_jaxpr=_opt.prune_constvars(ClosedJaxpr(new_body, body.consts)),
                         body_nconsts=sum(used_bc)),
                    [v for v, u in zip(eqn.outvars, used_k) if u])


_opt.dce_rules[while_p] = _while_dce
