"""``fxad.scipy.integrate``: ``odeint`` and ``solve_ivp``, differentiable by
the adjoint method.

Both integrate with SciPy (``scipy.integrate.odeint``'s LSODA, or
``solve_ivp``'s ``RK45``, ``DOP853``, ...), the right-hand side evaluated by
fxad's generated code on NumPy values, so ``func`` may be written with
``fxad.numpy``.  ``func`` is traced once to a closed jaxpr; values it closes
over that are traced by an enclosing transformation become operands
(closure conversion), so ``grad`` reaches a captured parameter as it reaches
``y0``, ``t`` and ``args``.

Three primitives:

* ``odeint[func method rtol atol mxstep hmax t_bound] y0 t *args -> ys, ok``:
  ``ys[i] = y(t[i])``, ``ok`` whether SciPy reported success.  Its JVP is
  ``odeint_tangent`` of the tangents.
* ``odeint_tangent[...] ys t *args y0_dot t_dot *float_args_dot -> ys_dot``:
  the forward sensitivities, linear in the tangents: ``s = dy`` integrated
  with ``y`` (``s' = df/dy s + df/dargs args_dot``, one ``jvp`` of ``func``
  per evaluation), ``s(t[0]) = y0_dot - f(y0, t[0]) t_dot[0]``, and
  ``ys_dot[i] = s(t[i]) + f(ys[i], t[i]) t_dot[i]``.  Forward mode (``jvp``,
  ``jacfwd``) evaluates it; ``linearize`` stages it and reverse mode
  transposes it into ``odeint_adjoint``.
* ``odeint_adjoint[...] ys t *args ct -> y0_ct, t_ct, *float_args_ct``: the
  transpose, linear in ``ct``.  Between consecutive output times, from the
  last one back, it integrates the adjoint ``a = dL/dy`` and ``dL/dargs``
  backwards (``a' = -a df/dy``, ``dL/dargs' = -a df/dargs``, the products
  ``a df/d.`` by fxad's ``vjp`` of ``func``: linearize + transpose) and adds
  the output cotangent at each ``t[i]``, as autograd's and JAX's odeint do.
  Unlike them it does not re-integrate ``y`` backwards alongside: backwards
  in time the decaying modes of a stiff system grow, so ``y`` comes from a
  dense forward solve of the same interval started at the stored
  ``ys[i-1]``.  The cotangent of ``t[i]`` is ``ct[i] . f(y(t[i]), t[i])``
  (and ``-a(t[0]) . f(y0, t[0])`` for the start).  Its transpose is
  ``odeint_tangent`` again.

The two linear maps agree to the solvers' tolerance, not to the last bit:
``jacfwd`` and ``jacrev`` of an integration differ by about ``rtol``.
Second derivatives (``hessian``, ``grad`` of ``grad``) would need the
derivatives of the linear maps in the solution and the arguments: not
implemented, they raise.

Under ``vmap`` the primitives integrate each example in turn (a loop of
SciPy calls, so a batch gives exactly the per-example results); under
``jit`` they have no emitter: the generated code calls their impl (SciPy).
SciPy is imported when an integration runs.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import fxad.numpy as fnp
from fxad import core, tree_util
from fxad.api import jvp as _jvp
from fxad.api import vjp as _vjp
from fxad.core import Tracer, get_aval, is_float_dtype, new_primitive, shaped
from fxad.interpreters import ad, batching, calls
from fxad.interpreters.ad import Zero, instantiate, tangent_aval
from fxad.interpreters.batching import not_mapped
from fxad.interpreters.partial_eval import trace_to_jaxpr
from fxad.lax.lax import moveaxis

__all__ = ["odeint", "solve_ivp", "OdeResult", "odeint_p", "odeint_tangent_p",
           "odeint_adjoint_p"]

#: ``method`` param values: "odeint" is scipy.integrate.odeint (LSODA); the
#: others are solve_ivp's methods.
_IVP_METHODS = ("RK23", "RK45", "DOP853", "Radau", "BDF", "LSODA")

_SCALARS = (np.ndarray, np.generic, float, int, bool)


# ---------------------------------------------------------------------------
# The right-hand side, its VJP and its JVP as NumPy functions (compiled once
# per func)


def _rhs(func, args):
    """``f(y, t) -> dy/dt`` on flat float64 vectors, for SciPy."""
    run = calls.callee(func).run
    y_aval, t_aval = func.in_avals[:2]
    shape, dtype, tdtype = y_aval.shape, y_aval.dtype, t_aval.dtype.type

    def f(y, t):
        out = run(np.asarray(y).reshape(shape).astype(dtype, copy=False), tdtype(t), *args)[0]
        return np.asarray(out, np.float64).reshape(-1)

    return f


def _float_args(func):
    return [k for k, a in enumerate(func.in_avals[2:]) if is_float_dtype(a.dtype)]


def _vjp_callee(func):
    """``run(y, t, *args, a) -> [f, a.df/dy, *a.df/dargs]`` (floating-point
    args only): fxad's vjp of ``func`` traced once and compiled."""

    def make():
        fl = _float_args(func)

        def body(y, t, *rest):
            args, a = list(rest[:-1]), rest[-1]

            def f(y_, *fargs):
                full = list(args)
                for k, v in zip(fl, fargs):
                    full[k] = v
                return func(y_, t, *full)[0]

            out, pull = _vjp(f, y, *[args[k] for k in fl])
            return [out, *pull(a)]

        closed = trace_to_jaxpr(body, [*func.in_avals, func.in_avals[0]])
        return calls.callee(closed).run

    return func.memo("odeint_vjp", make)


def _jvp_callee(func):
    """``run(y, t, *args, s, *arg_dots) -> [f, df/dy s + df/dargs arg_dots]``
    (floating-point args only): fxad's jvp of ``func`` traced once and
    compiled."""

    def make():
        fl = _float_args(func)
        avals = func.in_avals

        def body(y, t, *rest):
            nargs = len(avals) - 2
            args, s, dots = list(rest[:nargs]), rest[nargs], rest[nargs + 1:]

            def f(y_, *fargs):
                full = list(args)
                for k, v in zip(fl, fargs):
                    full[k] = v
                return func(y_, t, *full)[0]

            return list(_jvp(f, (y, *[args[k] for k in fl]), (s, *dots)))

        closed = trace_to_jaxpr(body, [*avals, avals[0], *[avals[2 + k] for k in fl]])
        return calls.callee(closed).run

    return func.memo("odeint_jvp", make)


def _scipy_integrate():
    import scipy.integrate

    return scipy.integrate


def _max_step(hmax):
    return hmax if hmax else np.inf


# ---------------------------------------------------------------------------
# odeint: the forward solve


def _integrate(f, y0, tt, *, method, rtol, atol, mxstep, hmax, t_bound):
    """SciPy's solve of ``y' = f(y, t)`` (flat float64 ``y0``) at the times
    ``tt``: ``(ys of shape (len(tt), y0.size), ok)``; rows past a failure
    are NaN."""
    si = _scipy_integrate()
    if method == "odeint":
        ys, info = si.odeint(f, y0, tt, rtol=rtol, atol=atol, mxstep=mxstep, hmax=hmax,
                             full_output=True)
        return ys, info["message"] == "Integration successful."
    ys = np.full((len(tt), y0.size), np.nan)
    ys[0] = y0
    if len(tt) == 1:
        return ys, True
    end = tt[-1] if t_bound is None else t_bound
    sol = si.solve_ivp(lambda s, y: f(y, s), (tt[0], end), y0, method=method, t_eval=tt[1:],
                       rtol=rtol, atol=atol, max_step=_max_step(hmax))
    ys[1:1 + sol.y.shape[1]] = sol.y.T
    return ys, sol.status == 0


def _solver(params):
    return {k: params[k] for k in ("method", "rtol", "atol", "mxstep", "hmax", "t_bound")}


def _odeint_impl(y0, t, *args, func, **params):
    y0 = np.asarray(y0)
    tt = np.asarray(t, np.float64)
    ys, ok = _integrate(_rhs(func, args), np.asarray(y0, np.float64).reshape(-1), tt,
                        **_solver(params))
    return [ys.reshape((len(tt),) + y0.shape).astype(y0.dtype), np.bool_(ok)]


def _check_residuals(what, ys, t, args, func):
    calls.check_operands(what, [shaped(ys.shape[1:], ys.dtype), shaped((), t.dtype), *args],
                         func)
    if t.ndim != 1 or ys.shape[:1] != t.shape:
        raise TypeError(f"{what}: {ys.str_short()} solution for times {t.str_short()}")


def _odeint_abstract_eval(y0, t, *args, func, **_):
    if t.ndim != 1:
        raise TypeError(f"odeint: t must be a 1-D array of times, got {t.str_short()}")
    calls.check_operands("odeint", [y0, shaped((), t.dtype), *args], func)
    want, out = func.in_avals[0], func.out_avals
    if len(out) != 1 or out[0].shape != want.shape or out[0].dtype != want.dtype:
        raise TypeError(f"odeint: func returns {[a.str_short() for a in out]} but y is "
                        f"{want.str_short()}; dy/dt must have y's shape and dtype")
    return [shaped((t.shape[0],) + y0.shape, y0.dtype), shaped((), np.dtype(bool))]


def _loop_batch(prim):
    """Batch rule: each example integrated in turn (one SciPy call each), so
    a batch gives exactly the per-example results."""

    def rule(args, dims, **params):
        size = batching.axis_size(args, dims)
        args = [x if d is not_mapped else moveaxis(x, d, 0) for x, d in zip(args, dims)]
        outs = [prim.bind(*[x if d is not_mapped else x[b] for x, d in zip(args, dims)],
                          **params) for b in range(size)]
        if not prim.multiple_results:
            return fnp.stack(outs), 0
        cols = [fnp.stack([o[k] for o in outs]) for k in range(len(outs[0]))]
        return cols, [0] * len(cols)

    return rule


def _odeint_jvp(primals, tangents, **params):
    outs = odeint_p.bind(*primals, **params)
    _, t, *args = primals
    fl = _float_args(params["func"])
    dots = [instantiate(tangents[0]), instantiate(tangents[1]),
            *[instantiate(tangents[2 + k]) for k in fl]]
    ys_dot = odeint_tangent_p.bind(outs[0], t, *args, *dots, **params)
    return outs, [ys_dot, Zero(tangent_aval(get_aval(outs[1])))]


odeint_p = new_primitive("odeint", multiple_results=True)
odeint_p.def_impl(_odeint_impl)
odeint_p.def_abstract_eval(_odeint_abstract_eval)
ad.jvp_rules[odeint_p] = _odeint_jvp
batching.batch_rules[odeint_p] = _loop_batch(odeint_p)


# ---------------------------------------------------------------------------
# odeint_tangent: forward sensitivities (linear in the tangents)


_SECOND_ORDER = ("fxad.scipy.integrate: second derivatives through odeint/solve_ivp "
                 "(hessian, grad of grad, jvp of a gradient) are not implemented: the "
                 "sensitivity and adjoint passes are linear maps of the tangents or "
                 "cotangents only, with no derivative in the solution or the arguments. "
                 "First derivatives work in both modes (jvp, jacfwd, grad, vjp, jacrev).")


def _split(func, rest):
    nargs = len(func.in_avals) - 2
    return list(rest[:nargs]), list(rest[nargs:])


def _tangent_impl(ys, t, *rest, func, **params):
    args, (y0_dot, t_dot, *arg_dots) = _split(func, rest)
    ys, t = np.asarray(ys), np.asarray(t)
    run = _jvp_callee(func)
    f = _rhs(func, args)
    y_aval, t_aval = func.in_avals[:2]
    shape, dtype, tdtype = y_aval.shape, y_aval.dtype, t_aval.dtype.type
    n, nt = int(np.prod(shape, dtype=np.int64)), len(t)
    ys2 = np.asarray(ys, np.float64).reshape(nt, n)
    tt = np.asarray(t, np.float64)
    t_dot = np.asarray(t_dot, np.float64)

    def aug(z, s):
        outs = run(z[:n].reshape(shape).astype(dtype), tdtype(s), *args,
                   z[n:].reshape(shape).astype(dtype), *arg_dots)
        return np.concatenate([np.asarray(o, np.float64).reshape(-1) for o in outs])

    # y(t[i]) moves with t[i] along f, and with t[0] against the flow of the
    # start's displacement.
    s0 = np.asarray(y0_dot, np.float64).reshape(-1) - f(ys2[0], tt[0]) * t_dot[0]
    z, ok = _integrate(aug, np.concatenate([ys2[0], s0]), tt, **_solver(params))
    if not ok:
        warnings.warn("odeint tangent: the sensitivity solve failed; the tangents past the "
                      "failure are NaN. Loosen rtol/atol or allow more steps.",
                      RuntimeWarning, stacklevel=3)
    out = z[:, n:] + np.stack([f(ys2[i], tt[i]) * t_dot[i] for i in range(nt)])
    return out.reshape(ys.shape).astype(ys.dtype)


def _tangent_abstract_eval(ys, t, *rest, func, **_):
    args, dots = _split(func, rest)
    _check_residuals("odeint_tangent", ys, t, args, func)
    want = [shaped(ys.shape[1:], ys.dtype), t] + [args[k] for k in _float_args(func)]
    for i, (d, w) in enumerate(core.safe_zip(dots, want)):
        if d.shape != w.shape or d.dtype != w.dtype:
            raise TypeError(f"odeint_tangent: tangent {i} is {d.str_short()} for a primal "
                            f"{w.str_short()}")
    return ys.strip_weak_type()


def _tangent_jvp(primals, tangents, *, func, **params):
    nres = len(func.in_avals)  # ys, t, *args
    if any(type(t) is not Zero for t in tangents[:nres]):
        raise NotImplementedError(_SECOND_ORDER)
    out = odeint_tangent_p.bind(*primals, func=func, **params)
    dots = [instantiate(t) for t in tangents[nres:]]
    return out, odeint_tangent_p.bind(*primals[:nres], *dots, func=func, **params)


def _tangent_transpose(ct, ys, t, *rest, func, **params):
    args, dots = _split(func, rest)
    if any(ad.is_undefined(x) for x in (ys, t, *args)):
        raise NotImplementedError(_SECOND_ORDER)
    if type(ct) is Zero:
        cts = [Zero(d.aval) for d in dots]
    else:
        cts = odeint_adjoint_p.bind(ys, t, *args, ct, func=func, **params)
    return [None] * (2 + len(args)) + [c if ad.is_undefined(d) else None
                                       for c, d in core.safe_zip(cts, dots)]


odeint_tangent_p = new_primitive("odeint_tangent")
odeint_tangent_p.def_impl(_tangent_impl)
odeint_tangent_p.def_abstract_eval(_tangent_abstract_eval)
ad.jvp_rules[odeint_tangent_p] = _tangent_jvp
ad.deftranspose(odeint_tangent_p, _tangent_transpose)
batching.batch_rules[odeint_tangent_p] = _loop_batch(odeint_tangent_p)


# ---------------------------------------------------------------------------
# odeint_adjoint: the backward pass


def _failed(what, sol):
    warnings.warn(f"odeint adjoint: the {what} solve failed ({sol.message}); the "
                  "cotangents are NaN. Loosen rtol/atol or allow more steps.",
                  RuntimeWarning, stacklevel=4)


class _OverBudget(Exception):
    pass


#: Right-hand side evaluations LSODA gets in odeint's adjoint pass before
#: Radau takes over.
_LSODA_BUDGET = 20000


def _ivp(si, method, fun, span, y0, **opts):
    """One solve_ivp of the adjoint pass, with the forward solve's method.
    odeint's own LSODA has no dense output, so its adjoint pass runs
    solve_ivp's LSODA, which now and then takes a million steps where odeint
    takes a hundred (Van der Pol, mu=1000, restarted on the slow manifold):
    past a budget, Radau (implicit, for stiff systems, with an accurate
    dense output) does that interval instead."""
    if method != "odeint":
        return si.solve_ivp(fun, span, y0, method=method, **opts)
    count = [0]

    def counted(s, y):
        count[0] += 1
        if count[0] > _LSODA_BUDGET:
            raise _OverBudget
        return fun(s, y)

    try:
        return si.solve_ivp(counted, span, y0, method="LSODA", **opts)
    except _OverBudget:
        return si.solve_ivp(fun, span, y0, method="Radau", **opts)


def _adjoint_impl(ys, t, *rest, func, method, rtol, atol, mxstep, hmax, t_bound):
    si = _scipy_integrate()
    args, ct = rest[:-1], rest[-1]
    ys, t = np.asarray(ys), np.asarray(t)
    f = _rhs(func, args)
    run = _vjp_callee(func)
    y_aval, t_aval = func.in_avals[:2]
    shape, dtype, tdtype = y_aval.shape, y_aval.dtype, t_aval.dtype.type
    fl = _float_args(func)
    sizes = [int(np.prod(func.in_avals[2 + k].shape, dtype=np.int64)) for k in fl]
    n, nt = int(np.prod(shape, dtype=np.int64)), len(t)
    ys2 = np.asarray(ys, np.float64).reshape(nt, n)
    g = np.asarray(ct, np.float64).reshape(nt, n)
    tt = np.asarray(t, np.float64)
    opts = dict(rtol=rtol if rtol is not None else 1.49012e-8,
                atol=atol if atol is not None else 1.49012e-8, max_step=_max_step(hmax))

    def aug(s, z, y_of):
        a = z[:n].reshape(shape).astype(dtype, copy=False)
        outs = run(np.asarray(y_of(s)).reshape(shape).astype(dtype, copy=False), tdtype(s),
                   *args, a)
        return -np.concatenate([np.asarray(o, np.float64).reshape(-1) for o in outs[1:]])

    a = np.zeros(n)
    args_ct = np.zeros(sum(sizes))
    t_ct = np.zeros(nt)
    if not np.all(np.isfinite(ys2)):
        warnings.warn("odeint adjoint: the solution holds NaN or inf (the forward solve "
                      "failed); the cotangents are NaN.", RuntimeWarning, stacklevel=3)
        a[:], args_ct[:], t_ct[:], g = np.nan, np.nan, np.nan, g * np.nan
        nt = 1
    for i in range(nt - 1, 0, -1):
        a = a + g[i]
        t_ct[i] = g[i] @ f(ys2[i], tt[i])
        if tt[i] == tt[i - 1]:
            continue
        fwd = _ivp(si, method, lambda s, y: f(y, s), (tt[i - 1], tt[i]), ys2[i - 1],
                   dense_output=True, **opts)
        if fwd.status < 0:
            _failed("forward (dense)", fwd)
            a[:], args_ct[:], t_ct[:] = np.nan, np.nan, np.nan
            break
        back = _ivp(si, method, lambda s, z, y_of=fwd.sol: aug(s, z, y_of),
                    (tt[i], tt[i - 1]), np.concatenate([a, args_ct]), **opts)
        if back.status < 0:
            _failed("backward (adjoint)", back)
            a[:], args_ct[:], t_ct[:] = np.nan, np.nan, np.nan
            break
        z = back.y[:, -1]
        a, args_ct = z[:n], z[n:]
    t_ct[0] = -(a @ f(ys2[0], tt[0]))
    y0_ct = (a + g[0]).reshape(shape).astype(dtype)
    outs = [y0_ct, t_ct.astype(t.dtype)]
    off = 0
    for k, m in zip(fl, sizes):
        aval = func.in_avals[2 + k]
        outs.append(args_ct[off:off + m].reshape(aval.shape).astype(aval.dtype))
        off += m
    return outs


def _adjoint_abstract_eval(ys, t, *rest, func, **_):
    args, ct = rest[:-1], rest[-1]
    _check_residuals("odeint_adjoint", ys, t, args, func)
    if ct.shape != ys.shape or ct.dtype != ys.dtype:
        raise TypeError(f"odeint_adjoint: cotangent {ct.str_short()} for the solution "
                        f"{ys.str_short()}")
    return [shaped(ys.shape[1:], ys.dtype), t.strip_weak_type(),
            *[args[k].strip_weak_type() for k in _float_args(func)]]


def _adjoint_jvp(primals, tangents, *, func, **params):
    nres = len(func.in_avals)  # ys, t, *args
    if any(type(t) is not Zero for t in tangents[:nres]):
        raise NotImplementedError(_SECOND_ORDER)
    outs = odeint_adjoint_p.bind(*primals, func=func, **params)
    return outs, odeint_adjoint_p.bind(*primals[:nres], instantiate(tangents[nres]),
                                       func=func, **params)


def _adjoint_transpose(cts, ys, t, *rest, func, **params):
    args, g = rest[:-1], rest[-1]
    if any(ad.is_undefined(x) for x in (ys, t, *args)):
        raise NotImplementedError(_SECOND_ORDER)
    if all(type(c) is Zero for c in cts):
        return [None] * (2 + len(args)) + [Zero(g.aval)]
    out = odeint_tangent_p.bind(ys, t, *args, *[instantiate(c) for c in cts], func=func,
                                **params)
    return [None] * (2 + len(args)) + [out]


odeint_adjoint_p = new_primitive("odeint_adjoint", multiple_results=True)
odeint_adjoint_p.def_impl(_adjoint_impl)
odeint_adjoint_p.def_abstract_eval(_adjoint_abstract_eval)
ad.jvp_rules[odeint_adjoint_p] = _adjoint_jvp
ad.deftranspose(odeint_adjoint_p, _adjoint_transpose)
batching.batch_rules[odeint_adjoint_p] = _loop_batch(odeint_adjoint_p)


# ---------------------------------------------------------------------------
# The public functions


def _value(x, where, what):
    if isinstance(x, Tracer):
        return x
    if isinstance(x, (list, tuple)):  # array_like, possibly holding traced values
        return fnp.asarray(x)
    if not isinstance(x, _SCALARS) or isinstance(x, np.ndarray) and x.dtype == object:
        raise TypeError(f"{where}: {what} must be an array or a number, got "
                        f"{type(x).__name__} ({x!r})")
    return np.asarray(x)


def _float(x, where, what):
    x = _value(x, where, what)
    dt = get_aval(x).dtype
    if dt.kind == "c":
        raise TypeError(f"{where}: {what} is complex ({dt}); integrate the real and "
                        "imaginary parts as separate real components.")
    if dt.kind != "f":
        x = x.astype(np.float64) if isinstance(x, Tracer) else np.asarray(x, np.float64)
    return x


def _trace_func(func, y0, t0, args, where):
    """``func`` as a closed jaxpr of ``(y, t, *arg_leaves, *closed_over)`` and
    the closed-over tracers (leading ``consts`` moved to the end)."""
    leaves, tree = tree_util.tree_flatten(tuple(args))
    leaves = [_value(x, where, "each of args") for x in leaves]
    y_aval = get_aval(y0).strip_weak_type()
    t_aval = shaped((), get_aval(t0).dtype)

    def flat(y, t, *xs):
        out = func(y, t, *tree_util.tree_unflatten(tree, list(xs)))
        if not isinstance(out, (Tracer,) + _SCALARS) and not isinstance(out, (list, tuple)):
            raise TypeError(f"{where}: func returned a {type(out).__name__} ({out!r}); it "
                            "must return dy/dt, an array of y's shape")
        out = fnp.asarray(out)
        oa = get_aval(out)
        if oa.shape != y_aval.shape:
            raise ValueError(f"{where}: func returned dy/dt of shape {oa.shape} but y has "
                             f"shape {y_aval.shape}; they must match")
        return [out.astype(y_aval.dtype) if oa.dtype != y_aval.dtype else out]

    closed = trace_to_jaxpr(flat, [y_aval, t_aval] + [get_aval(x).strip_weak_type()
                                                      for x in leaves])
    closed, consts = calls.closure_convert(closed)
    if consts:  # closure_convert puts them first; odeint wants (y, t, ...) first
        j = closed.jaxpr
        k = len(consts)
        body = core.Jaxpr(j.constvars, j.invars[k:] + j.invars[:k], j.eqns, j.outvars)
        closed = core.ClosedJaxpr(body, closed.consts)
    return closed, leaves + list(consts)


def _solve(func, y0, t, args, where, **params):
    y0 = _float(y0, where, "y0")
    t = _float(t, where, "t")
    if get_aval(t).ndim != 1 or get_aval(t).shape[0] < 1:
        raise ValueError(f"{where}: t must be a 1-D sequence of at least one time, got "
                         f"shape {get_aval(t).shape}")
    closed, operands = _trace_func(func, y0, t[0], args, where)
    return odeint_p.bind(y0, t, *operands, func=closed, **params)


def odeint(func: Callable, y0, t, *args, rtol: float | None = None,
           atol: float | None = None, mxstep: int = 0, hmax: float = 0.0,
           tfirst: bool = False):
    """Integrate ``dy/dt = func(y, t, *args)`` (``scipy.integrate.odeint``).

    SciPy's LSODA does the integration; ``func`` is evaluated through fxad,
    so it may use ``fxad.numpy``.  Differentiable in ``y0``, ``t``, ``args``
    and the values ``func`` closes over: reverse mode (``grad``, ``vjp``,
    ``jacrev``) by the adjoint method, forward mode (``jvp``, ``jacfwd``) by
    the forward sensitivity equations.  Works under ``vmap`` (one
    integration per example) and ``jit`` (the compiled code calls SciPy).

    Args:
      func: ``func(y, t, *args) -> dy/dt`` (``func(t, y, *args)`` with
        ``tfirst=True``), an array of ``y``'s shape.
      y0: initial state (an array of any shape; SciPy's is 1-D).
      t: 1-D sequence of times (increasing or decreasing); ``t[0]`` is the
        time of ``y0``.
      *args: extra arguments of ``func`` (arrays, or pytrees of them).
      rtol, atol: SciPy's error tolerances (default 1.49012e-8).
      mxstep: maximum number of steps per output time (0: SciPy's 500).
      hmax: maximum step size (0: unbounded).
      tfirst: ``func`` takes ``t`` first, as in SciPy.

    Returns:
      ``ys`` of shape ``(len(t),) + y0.shape``, ``ys[i] = y(t[i])``.

    Example:
        >>> import fxad, fxad.numpy as fnp
        >>> from fxad.scipy.integrate import odeint
        >>> decay = lambda y, t, k: -k * y
        >>> ys = odeint(decay, 1.0, [0.0, 1.0], 0.5, rtol=1e-10, atol=1e-10)
        >>> round(float(ys[-1]), 8), round(float(fnp.exp(-0.5)), 8)
        (0.60653066, 0.60653066)
        >>> g = fxad.grad(lambda k: odeint(decay, 1.0, [0.0, 1.0], k,
        ...                                rtol=1e-10, atol=1e-10)[-1])(0.5)
        >>> round(float(g), 6)  # d/dk exp(-k) = -exp(-k)
        -0.606531
    """
    where = "fxad.scipy.integrate.odeint"
    if not callable(func):
        raise TypeError(f"{where}: func must be a function func(y, t, *args), got "
                        f"{type(func).__name__}")
    f = (lambda y, s, *a: func(s, y, *a)) if tfirst else func
    ys, _ = _solve(f, y0, t, args, where, method="odeint", rtol=rtol, atol=atol,
                   mxstep=int(mxstep), hmax=float(hmax), t_bound=None)
    return ys


class OdeResult:
    """What ``solve_ivp`` returns (SciPy's fields): ``t`` (the output times),
    ``y`` (shape ``(n, len(t))``), ``success``, ``status`` (0 or -1) and
    ``message``."""

    def __init__(self, t, y, success, message):
        self.t, self.y, self.success, self.message = t, y, success, message
        ok = success if isinstance(success, Tracer) else bool(success)
        self.status = (0 if ok else -1) if not isinstance(ok, Tracer) else None

    def __getitem__(self, key):  # SciPy's OdeResult is a dict too
        return getattr(self, key)

    def __repr__(self):
        return (f"OdeResult(success={self.success}, message={self.message!r}, "
                f"t={self.t!r}, y={self.y!r})")


_SUCCESS = "The solver successfully reached the end of the integration interval."
_FAILURE = "Integration step failed."


def solve_ivp(fun: Callable, t_span: Sequence, y0, method: str = "RK45", t_eval=None,
              args: tuple | None = None, rtol: float = 1e-3, atol: float = 1e-6,
              max_step: float = np.inf, **options: Any) -> OdeResult:
    """Solve ``dy/dt = fun(t, y, *args)`` from ``t_span[0]`` (``scipy.integrate.solve_ivp``).

    SciPy's solver of ``method`` integrates (``"RK45"``, ``"DOP853"``,
    ``"RK23"``, ``"Radau"``, ``"BDF"``, ``"LSODA"``); the values at
    ``t_eval`` come from its dense output, as in SciPy.  ``y`` is
    differentiable in ``y0``, ``t_span[0]``, ``t_eval``, ``args`` and what
    ``fun`` closes over, in both modes (see ``odeint``).

    Args:
      fun: ``fun(t, y, *args) -> dy/dt`` with ``y`` of shape ``(n,)``.
      t_span: ``(t0, t1)``.
      y0: initial state, shape ``(n,)``.
      method: a SciPy method name.
      t_eval: the output times, within ``t_span`` and in its direction.
        Required under a transformation (the output shape must be known);
        without it an eager call returns SciPy's own steps.
      args: extra arguments of ``fun``.
      rtol, atol, max_step: SciPy's.
      **options: none supported beyond SciPy's defaults (events,
        dense_output, vectorized, first_step raise).

    Returns:
      An ``OdeResult`` with ``t``, ``y`` (shape ``(n, len(t))``),
      ``success``, ``status`` and ``message``.

    Example:
        >>> import fxad, fxad.numpy as fnp
        >>> from fxad.scipy.integrate import solve_ivp
        >>> sol = solve_ivp(lambda t, y: -0.5 * y, (0.0, 2.0), fnp.array([1.0]),
        ...                 t_eval=[1.0, 2.0], rtol=1e-10, atol=1e-12)
        >>> sol.y.shape, bool(sol.success), round(float(sol.y[0, 1]), 8)
        ((1, 2), True, 0.36787944)
    """
    where = "fxad.scipy.integrate.solve_ivp"
    if not callable(fun):
        raise TypeError(f"{where}: fun must be a function fun(t, y, *args), got "
                        f"{type(fun).__name__}")
    if method not in _IVP_METHODS:
        raise ValueError(f"{where}: method={method!r} is not one of {_IVP_METHODS}")
    if options:
        raise TypeError(f"{where}: options {sorted(options)} are not supported (no events, "
                        "dense_output or vectorized); pass t_eval for the output times")
    args = () if args is None else tuple(args) if isinstance(args, (tuple, list)) else (args,)
    if len(t_span) != 2:
        raise ValueError(f"{where}: t_span must be a pair (t0, t1), got {t_span!r}")
    t0, t1 = t_span
    y0 = _float(y0, where, "y0")
    if get_aval(y0).ndim != 1:
        raise ValueError(f"{where}: y0 must be 1-D (shape (n,)), got shape "
                         f"{get_aval(y0).shape}")
    leaves = [t0, t1, y0, t_eval, *tree_util.tree_leaves(args)]
    traced = any(isinstance(x, Tracer) for x in leaves)
    if t_eval is None:
        if traced:
            raise ValueError(f"{where}: t_eval is required under a transformation (grad, "
                             "jit, vmap): the number of output times must be known; pass "
                             "t_eval=...")
        return _solve_ivp_steps(fun, t0, t1, y0, method, args, rtol, atol, max_step)
    t_eval = _float(t_eval, where, "t_eval")
    if get_aval(t_eval).ndim != 1:
        raise ValueError(f"{where}: t_eval must be 1-D, got shape {get_aval(t_eval).shape}")
    t0 = _float(t0, where, "t_span[0]")
    times = fnp.concatenate([fnp.reshape(t0, (1,)), t_eval.astype(get_aval(t0).dtype)])
    t_bound = None if isinstance(t1, Tracer) else float(t1)
    ys, ok = _solve(lambda y, t, *a: fun(t, y, *a), y0, times, args, where, method=method,
                    rtol=float(rtol), atol=float(atol), mxstep=0,
                    hmax=0.0 if max_step == np.inf else float(max_step), t_bound=t_bound)
    if isinstance(ok, Tracer):
        message = "(traced: see .success)"
    else:
        message = _SUCCESS if bool(ok) else _FAILURE
    return OdeResult(t_eval, fnp.transpose(ys[1:]), ok, message)


def _solve_ivp_steps(fun, t0, t1, y0, method, args, rtol, atol, max_step):
    """No t_eval, eagerly: SciPy's own steps, ``fun`` evaluated through fxad."""
    si = _scipy_integrate()
    closed, operands = _trace_func(lambda y, t, *a: fun(t, y, *a), y0, np.float64(t0),
                                   args, "fxad.scipy.integrate.solve_ivp")
    f = _rhs(closed, operands)
    sol = si.solve_ivp(lambda s, y: f(y, s), (float(t0), float(t1)),
                       np.asarray(y0, np.float64), method=method, rtol=rtol, atol=atol,
                       max_step=max_step)
    return OdeResult(sol.t, sol.y.astype(y0.dtype), bool(sol.success), sol.message)
