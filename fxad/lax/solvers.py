"""Implicitly differentiated solvers: ``custom_root`` and ``custom_linear_solve``.

Both take a user's solver whose iterations must not be differentiated (they
may be a ``while_loop``, which reverse mode cannot transpose) and give it a
derivative from the problem it solves.  Each is a primitive holding its
traced functions as closed jaxprs (``ClosedJaxpr`` params), with the values
those functions close over as leading operands (closure conversion), so
every transformation sees them:

* ``custom_root[f solve l_and_s] *f_consts *solve_consts *ls_consts
  *guess``: the answer is ``solve``'s.  Its JVP is the implicit function
  theorem at the solution ``x``: ``x_dot = -tangent_solve(g, df/dconsts
  . consts_dot)`` with ``g`` the JVP of ``f`` in ``x`` (``l_and_s`` is that
  call of ``tangent_solve``, traced once).  The JVP is ordinary operations
  on the tangents, so ``linearize`` stages and transposes them, and reverse
  mode never sees ``solve``.  Not linear: no transpose rule.  A primitive
  rather than ``fxad.custom_jvp`` because the derivative is with respect to
  what ``f`` closes over, and ``fxad.lax`` sits below ``custom_derivatives``.
* ``linear_solve[matvec vecmat solve transpose_solve] *matvec_consts
  *solve_consts *transpose_solve_consts *b``: ``x = solve(matvec, b)``,
  linear in ``b``.  JVP: ``x_dot = linear_solve(b_dot - matvec_dot(x))``;
  transpose: the same primitive with the roles swapped (``vecmat``, the
  transpose of ``matvec``, and ``transpose_solve``), as in JAX.

Under ``vmap`` both batch every body with the solution batched along axis 0
(an unbatched initial guess or right-hand side is broadcast).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from fxad import core, tree_util
from fxad.core import Tracer, eval_jaxpr, get_aval, new_primitive
from fxad.interpreters import ad, batching, calls, codegen
from fxad.interpreters.ad import Zero, instantiate, is_undefined, tangent_aval
from fxad.interpreters.batching import not_mapped
from fxad.interpreters.partial_eval import trace_to_jaxpr
from fxad.lax.lax import batch_jaxpr_axis0, batched_aval, bdim_at_front, neg, sub

__all__ = ["custom_root", "custom_linear_solve", "custom_root_p", "linear_solve_p"]

_SCALARS = (np.ndarray, np.generic, float, int, complex, bool)


# ---------------------------------------------------------------------------
# Shared helpers


def _value(x, where, what):
    if isinstance(x, Tracer):
        return x
    if not isinstance(x, _SCALARS):
        raise TypeError(f"{where}: {what} contains a {type(x).__name__} ({x!r}); it must be "
                        "an array or scalar (or a pytree of them).")
    return np.asarray(x)


def _avals(leaves):
    return [get_aval(x).strip_weak_type() for x in leaves]


def _flat_outputs(out, where, what, tree, avals):
    """``out``'s leaves, checked against the structure and avals it must have."""
    leaves, out_tree = tree_util.tree_flatten(out)
    for x in leaves:
        if not isinstance(x, (Tracer,) + _SCALARS):
            raise TypeError(f"{where}: {what} returned a {type(x).__name__} ({x!r}); it must "
                            "return arrays or scalars (or a pytree of them).")
    if out_tree != tree:
        raise TypeError(f"{where}: {what} returned the structure {out_tree}, but it must "
                        f"return {tree} (the structure of the solution); return one array "
                        "per leaf of the solution.")
    leaves = [_as_dtype(x, a) for x, a in core.safe_zip(leaves, avals)]
    for k, (x, a) in enumerate(core.safe_zip(leaves, avals)):
        got = get_aval(x)
        if got.shape != a.shape or got.dtype != a.dtype:
            raise TypeError(f"{where}: {what} returned {got.str_short()} for leaf {k}, but "
                            f"it must return {a.str_short()} (the solution's shape and "
                            "dtype); reshape or cast it.")
    return leaves


def _split_aux(out, has_aux, where, what, aux_tree):
    """``(solution, aux leaves)`` of a solver's result; ``aux_tree`` gets the
    aux structure."""
    if not has_aux:
        return out, []
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise TypeError(f"{where}: with has_aux=True, {what} must return a pair "
                        f"(solution, aux), got a {type(out).__name__}.")
    out, aux_out = out
    aux, t = tree_util.tree_flatten(aux_out)
    aux_tree[:] = [t]
    return out, [_value(a, where, f"{what}'s aux output") for a in aux]


def _as_dtype(x, aval):
    # A Python scalar stands for the dtype of the value it pairs with.
    if type(x) in (float, int, complex, bool) and aval.shape == ():
        return np.dtype(aval.dtype).type(x)
    return x


def _trace(fun, avals):
    """``fun`` (flat lists) as a closed jaxpr whose traced constants are
    leading inputs: ``(body, consts)``."""
    return calls.closure_convert(trace_to_jaxpr(fun, list(avals)))


_check_operands = calls.check_operands
_batched_aval = batched_aval
_batched = batch_jaxpr_axis0


def _front(args, dims, size, batched_from):
    """Batched operands with their batch axis first; those from index
    ``batched_from`` on (the guess or right-hand side) are all batched."""
    out, new = [], []
    for i, (x, d) in enumerate(core.safe_zip(args, dims)):
        if d is not_mapped and i < batched_from:
            out.append(x)
            new.append(not_mapped)
        else:
            out.append(bdim_at_front(x, d, size))
            new.append(0)
    return out, new


def _jvp_in(closed, nconsts, consts, x, consts_dot):
    """The tangent of ``closed(consts, x)`` along ``consts_dot`` (x fixed), or
    None when it is identically zero."""
    nz = [type(t) is not Zero for t in consts_dot]
    if not any(nz):
        return None
    jvp, out_nz = ad.jvp_call_jaxpr(closed, nz + [False] * len(x))
    outs = eval_jaxpr(jvp.jaxpr, jvp.consts, *consts, *x,
                      *[t for t in consts_dot if type(t) is not Zero])
    n = len(closed.out_avals)
    it = iter(outs[n:])
    return [next(it) if z else instantiate(Zero(tangent_aval(a)))
            for z, a in zip(out_nz, closed.out_avals)]


def _linear_map(closed, nconsts, consts, x, tree):
    """``v -> d closed(consts, x) . v`` on pytrees like the solution."""

    def g(v):
        v_leaves, v_tree = tree_util.tree_flatten(v)
        if v_tree != tree:
            raise TypeError(f"custom_root: the linearized function passed to tangent_solve "
                            f"takes the solution's structure {tree}, got {v_tree}.")
        jvp, out_nz = ad.jvp_call_jaxpr(closed, [False] * nconsts + [True] * len(x))
        outs = eval_jaxpr(jvp.jaxpr, jvp.consts, *consts, *x, *v_leaves)
        n = len(closed.out_avals)
        it = iter(outs[n:])
        return tree_util.tree_unflatten(
            tree, [next(it) if z else instantiate(Zero(tangent_aval(a)))
                   for z, a in zip(out_nz, closed.out_avals)])

    return g


# ---------------------------------------------------------------------------
# custom_root


custom_root_p = new_primitive("custom_root", multiple_results=True)


def _root_impl(*args, solve, num_f, num_solve, num_ls, **_):
    return calls.call_impl(*args[num_f:num_f + num_solve], *args[num_f + num_solve + num_ls:],
                           jaxpr=solve)


def _root_abstract_eval(*avals, f, solve, l_and_s, num_f, num_solve, num_ls, num_aux):
    guess = avals[num_f + num_solve + num_ls:]
    _check_operands("custom_root solve", avals[num_f:num_f + num_solve] + guess, solve)
    _check_operands("custom_root f", avals[:num_f] + guess, f)
    return solve.out_avals


custom_root_p.def_impl(_root_impl)
custom_root_p.def_abstract_eval(_root_abstract_eval)


def _root_emit(ctx):
    # A call of solve's generated code on its operands (compiled once).
    p = ctx.eqn.params
    run = ctx.g.const(calls.callee(p["solve"]).run, "_call")
    ins = ctx.ins[p["num_f"]:p["num_f"] + p["num_solve"]] + ctx.ins[
        p["num_f"] + p["num_solve"] + p["num_ls"]:]
    return f"{run}({', '.join(ins)})"


codegen.def_emitter(custom_root_p, _root_emit)


def _root_jvp(primals, tangents, **params):
    num_f, num_solve, num_ls = params["num_f"], params["num_solve"], params["num_ls"]
    f, l_and_s = params["f"], params["l_and_s"]
    outs = custom_root_p.bind(*primals, **params)
    nx = len(f.out_avals)
    sol, fc = outs[:nx], primals[:num_f]
    zeros = [Zero(tangent_aval(get_aval(o))) for o in outs]
    rhs = _jvp_in(f, num_f, fc, sol, tangents[:num_f])
    if rhs is None:
        return outs, zeros
    lc = primals[num_f + num_solve:num_f + num_solve + num_ls]
    x_dot = eval_jaxpr(l_and_s.jaxpr, l_and_s.consts, *lc, *fc, *sol, *rhs)
    return outs, [neg(t) for t in x_dot] + zeros[nx:]


ad.jvp_rules[custom_root_p] = _root_jvp


def _root_batch(args, dims, **params):
    num_f, num_solve, num_ls = params["num_f"], params["num_solve"], params["num_ls"]
    size = batching.axis_size(args, dims)
    args, dims = _front(args, dims, size, num_f + num_solve + num_ls)
    fd, sd = dims[:num_f], dims[num_f:num_f + num_solve]
    ld, xd = dims[num_f + num_solve:num_f + num_solve + num_ls], [0] * len(params["f"].out_avals)
    new = dict(params,
               f=_batched(params["f"], fd + xd, size),
               solve=_batched(params["solve"], sd + xd, size),
               l_and_s=_batched(params["l_and_s"], ld + fd + xd + xd, size))
    outs = custom_root_p.bind(*args, **new)
    return outs, [0] * len(outs)


batching.batch_rules[custom_root_p] = _root_batch


def custom_root(f: Callable, initial_guess: Any, solve: Callable, tangent_solve: Callable,
                has_aux: bool = False) -> Any:
    """Find a root of ``f`` with ``solve``, differentiated implicitly (JAX's
    ``jax.lax.custom_root``).

    Args:
      f: ``x -> residual``, a function of the solution's structure, shape and
        dtype to itself; it may close over the values being differentiated.
      initial_guess: the starting point (an array or pytree of arrays).
      solve: ``solve(f, initial_guess) -> x`` with ``f(x) ~ 0`` (or ``(x,
        aux)`` if ``has_aux``); it is never differentiated, so it may be a
        ``while_loop`` or not differentiable at all.
      tangent_solve: ``tangent_solve(g, y) -> z`` solving ``g(z) = y`` for the
        linear map ``g`` (the JVP of ``f`` in ``x`` at the solution); for a
        scalar ``x``, ``lambda g, y: y / g(1.0)``.  Reverse mode needs it to be
        linear in ``y`` and transposable (e.g. ``custom_linear_solve``).
      has_aux: ``solve`` returns ``(x, aux)``; ``aux`` gets no derivative.

    Returns:
      ``solve(f, initial_guess)``, whose derivative with respect to what ``f``
      closes over is ``-tangent_solve(g, df . d_closure)`` (the implicit
      function theorem).

    >>> import fxad, fxad.numpy as jnp
    >>> from fxad import lax
    >>> def sqrt(a):
    ...     def newton(f, x0):
    ...         step = lambda x: x - f(x) / (2 * x)
    ...         return lax.while_loop(lambda x: abs(f(x)) > 1e-12, step, x0)
    ...     return lax.custom_root(lambda x: x * x - a, 1.0, newton,
    ...                            lambda g, y: y / g(1.0))
    >>> print(round(float(sqrt(2.0)), 6), round(float(fxad.grad(sqrt)(4.0)), 6))
    1.414214 0.25
    """
    where = "custom_root"
    guess, tree = tree_util.tree_flatten(initial_guess)
    guess = [_value(x, where, "initial_guess") for x in guess]
    avals = _avals(guess)
    guess = [_as_dtype(x, a) if not isinstance(x, Tracer) else x for x, a in zip(guess, avals)]

    def f_flat(*xs):
        out = f(tree_util.tree_unflatten(tree, list(xs)))
        return _flat_outputs(out, where, "f", tree, avals)

    f_body, f_consts = _trace(f_flat, avals)
    f_call = _as_function(f_body, f_consts, tree)
    aux_tree: list = []

    def solve_flat(*xs):
        out = solve(f_call, tree_util.tree_unflatten(tree, list(xs)))
        out, aux = _split_aux(out, has_aux, where, "solve", aux_tree)
        return _flat_outputs(out, where, "solve", tree, avals) + aux

    solve_body, solve_consts = _trace(solve_flat, avals)

    def ls_flat(*xs):
        fc, sol, rhs = xs[:len(f_consts)], xs[len(f_consts):-len(avals)], xs[-len(avals):]
        g = _linear_map(f_body, len(f_consts), list(fc), list(sol), tree)
        out = tangent_solve(g, tree_util.tree_unflatten(tree, list(rhs)))
        return _flat_outputs(out, where, "tangent_solve", tree, avals)

    fc_avals = [get_aval(c) for c in f_consts]
    ls_body, ls_consts = _trace(ls_flat, fc_avals + avals + avals)
    outs = custom_root_p.bind(*f_consts, *solve_consts, *ls_consts, *guess,
                              f=f_body, solve=solve_body, l_and_s=ls_body,
                              num_f=len(f_consts), num_solve=len(solve_consts),
                              num_ls=len(ls_consts), num_aux=len(solve_body.out_avals) - len(avals))
    sol = tree_util.tree_unflatten(tree, outs[:len(avals)])
    if has_aux:
        return sol, tree_util.tree_unflatten(aux_tree[0], outs[len(avals):])
    return sol


def _as_function(body, consts, tree):
    """``body`` (consts first) as a function of pytrees like the solution."""

    def fun(x):
        leaves, t = tree_util.tree_flatten(x)
        if t != tree:
            raise TypeError(f"custom_root: f takes the solution's structure {tree}, got {t}.")
        return tree_util.tree_unflatten(tree, eval_jaxpr(body.jaxpr, body.consts, *consts,
                                                         *leaves))

    return fun


# ---------------------------------------------------------------------------
# linear_solve (custom_linear_solve)


linear_solve_p = new_primitive("linear_solve", multiple_results=True)


def _ls_split(args, num_mv, num_s, num_ts):
    a = num_mv + num_s
    return (args[:num_mv], args[num_mv:a], args[a:a + num_ts], args[a + num_ts:])


def _ls_impl(*args, solve, num_mv, num_s, num_ts, **_):
    _, sc, _, b = _ls_split(args, num_mv, num_s, num_ts)
    return calls.call_impl(*sc, *b, jaxpr=solve)


def _ls_abstract_eval(*avals, matvec, vecmat, solve, transpose_solve, num_mv, num_s, num_ts):
    mc, sc, tc, b = _ls_split(avals, num_mv, num_s, num_ts)
    _check_operands("linear_solve solve", sc + b, solve)
    _check_operands("linear_solve matvec", mc + b, matvec)
    if transpose_solve is not None:
        _check_operands("linear_solve transpose_solve", tc + b, transpose_solve)
        _check_operands("linear_solve vecmat", mc + b, vecmat)
    return solve.out_avals


linear_solve_p.def_impl(_ls_impl)
linear_solve_p.def_abstract_eval(_ls_abstract_eval)


def _ls_emit(ctx):
    p = ctx.eqn.params
    run = ctx.g.const(calls.callee(p["solve"]).run, "_call")
    _, sc, _, b = _ls_split(list(ctx.ins), p["num_mv"], p["num_s"], p["num_ts"])
    return f"{run}({', '.join(sc + b)})"


codegen.def_emitter(linear_solve_p, _ls_emit)


def _ls_jvp(primals, tangents, **params):
    num_mv, num_s, num_ts = params["num_mv"], params["num_s"], params["num_ts"]
    nc = num_mv + num_s + num_ts
    outs = linear_solve_p.bind(*primals, **params)
    b_dot = tangents[nc:]
    x = outs[:len(b_dot)]  # then the solve's aux outputs, without tangents
    zeros = [Zero(tangent_aval(get_aval(o))) for o in outs]
    mv_dot = _jvp_in(params["matvec"], num_mv, primals[:num_mv], x, tangents[:num_mv])
    if mv_dot is None and all(type(t) is Zero for t in b_dot):
        return outs, zeros
    rhs = [instantiate(t) for t in b_dot]
    if mv_dot is not None:
        rhs = [sub(r, m) for r, m in core.safe_zip(rhs, mv_dot)]
    x_dot = linear_solve_p.bind(*primals[:nc], *rhs, **params)[:len(x)]
    return outs, x_dot + zeros[len(x):]


ad.jvp_rules[linear_solve_p] = _ls_jvp


def _ls_transpose(cts, *args, matvec, vecmat, solve, transpose_solve, num_mv, num_s, num_ts):
    nc = num_mv + num_s + num_ts
    if any(is_undefined(a) for a in args[:nc]):
        raise TypeError("custom_linear_solve: transposing with respect to a value matvec or "
                        "solve closes over is not supported: the solve is linear only in b. "
                        "Differentiate (grad/jvp) instead of transposing.")
    if transpose_solve is None:
        raise TypeError("custom_linear_solve: reverse-mode differentiation (or transposition) "
                        "needs transpose_solve; pass transpose_solve=..., or symmetric=True "
                        "if matvec is symmetric.")
    nb = len(args) - nc
    cts = cts[:nb]  # the aux outputs are not linear in b: no cotangent flows back
    if all(type(c) is Zero for c in cts):
        return [None] * nc + [Zero(a.aval) for a in args[nc:]]
    mc, sc, tc, _ = _ls_split(args, num_mv, num_s, num_ts)
    ct_b = linear_solve_p.bind(*mc, *tc, *sc, *[instantiate(c) for c in cts],
                               matvec=vecmat, vecmat=matvec, solve=transpose_solve,
                               transpose_solve=solve, num_mv=num_mv, num_s=num_ts,
                               num_ts=num_s)
    return [None] * nc + list(ct_b[:nb])


ad.deftranspose(linear_solve_p, _ls_transpose)


def _ls_batch(args, dims, **params):
    num_mv, num_s, num_ts = params["num_mv"], params["num_s"], params["num_ts"]
    size = batching.axis_size(args, dims)
    args, dims = _front(args, dims, size, num_mv + num_s + num_ts)
    md, sd, td, bd = _ls_split(dims, num_mv, num_s, num_ts)
    new = dict(params, matvec=_batched(params["matvec"], md + bd, size),
               solve=_batched(params["solve"], sd + bd, size))
    if params["transpose_solve"] is not None:
        new.update(vecmat=_batched(params["vecmat"], md + bd, size),
                   transpose_solve=_batched(params["transpose_solve"], td + bd, size))
    outs = linear_solve_p.bind(*args, **new)
    return outs, [0] * len(outs)


batching.batch_rules[linear_solve_p] = _ls_batch


def custom_linear_solve(matvec: Callable, b: Any, solve: Callable,
                        transpose_solve: Callable | None = None, symmetric: bool = False,
                        has_aux: bool = False) -> Any:
    """Solve ``matvec(x) = b`` with ``solve``, differentiated implicitly (JAX's
    ``jax.lax.custom_linear_solve``).

    Args:
      matvec: the linear map ``x -> A x`` (a function of pytrees of ``b``'s
        structure, shapes and dtypes); it may close over ``A``'s entries.
      b: the right-hand side (an array or pytree of arrays).
      solve: ``solve(matvec, b) -> x`` with ``matvec(x) = b``; never
        differentiated (it may be a ``while_loop``, e.g. conjugate gradients).
      transpose_solve: ``transpose_solve(vecmat, b) -> x`` solving the
        transposed system; needed for reverse mode unless ``symmetric``.
      symmetric: ``matvec`` is symmetric, so ``solve`` also solves the
        transposed system.
      has_aux: ``solve`` and ``transpose_solve`` return ``(x, aux)`` (solver
        diagnostics); ``aux`` gets no derivative.

    Returns:
      ``solve(matvec, b)`` (and ``aux`` if ``has_aux``); its JVP is
      ``solve(matvec, b_dot - matvec_dot x)`` and its transpose
      ``transpose_solve(vecmat, ct)``.

    >>> import numpy as np, fxad, fxad.numpy as jnp
    >>> from fxad import lax
    >>> a = np.array([[4.0, 1.0], [1.0, 3.0]])
    >>> def f(b):
    ...     direct = lambda mv, b: jnp.linalg.solve(a, b)
    ...     return lax.custom_linear_solve(lambda x: a @ x, b, direct, symmetric=True)
    >>> b = np.array([1.0, 2.0])
    >>> np.allclose(f(b), np.linalg.solve(a, b))
    True
    >>> np.allclose(fxad.grad(lambda b: f(b).sum())(b), np.linalg.solve(a.T, np.ones(2)))
    True
    """
    where = "custom_linear_solve"
    leaves, tree = tree_util.tree_flatten(b)
    leaves = [_value(x, where, "b") for x in leaves]
    avals = _avals(leaves)
    leaves = [_as_dtype(x, a) if not isinstance(x, Tracer) else x for x, a in zip(leaves, avals)]

    def mv_flat(*xs):
        out = matvec(tree_util.tree_unflatten(tree, list(xs)))
        return _flat_outputs(out, where, "matvec", tree, avals)

    mv_body, mv_consts = _trace(mv_flat, avals)
    nmv = len(mv_consts)

    def as_fun(body):
        def fun(x):
            xs, t = tree_util.tree_flatten(x)
            if t != tree:
                raise TypeError(f"{where}: matvec takes b's structure {tree}, got {t}.")
            return tree_util.tree_unflatten(
                tree, eval_jaxpr(body.jaxpr, body.consts, *mv_consts, *xs))

        return fun

    aux_tree: list = []

    def solver_body(solver, mat, what):
        def flat(*xs):
            out = solver(as_fun(mat), tree_util.tree_unflatten(tree, list(xs)))
            out, aux = _split_aux(out, has_aux, where, what, aux_tree)
            return _flat_outputs(out, where, what, tree, avals) + aux

        return _trace(flat, avals)

    solve_body, solve_consts = solver_body(solve, mv_body, "solve")
    vm_body, ts_body, ts_consts = None, None, []
    if symmetric:
        vm_body, ts_body, ts_consts = mv_body, solve_body, solve_consts
    elif transpose_solve is not None:
        vm_body = _transpose_body(mv_body, nmv, avals)
        ts_body, ts_consts = solver_body(transpose_solve, vm_body, "transpose_solve")
    x = linear_solve_p.bind(*mv_consts, *solve_consts, *ts_consts, *leaves,
                            matvec=mv_body, vecmat=vm_body, solve=solve_body,
                            transpose_solve=ts_body, num_mv=nmv, num_s=len(solve_consts),
                            num_ts=len(ts_consts))
    sol = tree_util.tree_unflatten(tree, x[:len(avals)])
    if has_aux:
        return sol, tree_util.tree_unflatten(aux_tree[0], x[len(avals):])
    return sol


def _transpose_body(mv_body, nmv, avals):
    """``vecmat``: the transpose of ``matvec`` in ``x`` (consts first)."""
    transposed, in_nz = ad.transpose_call_jaxpr(
        mv_body, [False] * nmv + [True] * len(avals), [True] * len(avals))

    def flat(*xs):
        outs = iter(eval_jaxpr(transposed.jaxpr, transposed.consts, *xs))
        return [next(outs) if z else instantiate(Zero(a)) for z, a in zip(in_nz, avals)]

    return trace_to_jaxpr(flat, [v.aval for v in mv_body.jaxpr.invars])
