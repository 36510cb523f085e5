"""Custom derivative rules: ``fxad.custom_jvp`` and ``fxad.custom_vjp`` (JAX's API).

``custom_jvp``.  A call under a transformation traces the function to a
jaxpr and binds ``custom_jvp_call`` holding that body and the user's JVP
rule (a Python callable, run when a JVP trace meets the call).  Eagerly,
under ``vmap``, ``jit`` and ``make_jaxpr`` the primitive is its body.  Under
a JVP trace it runs the rule instead; ``grad`` gets the rule's tangent
through linearize + transpose, so the rule's tangent output must be linear
in the tangents (as in JAX).  ``vmap`` keeps the rule: the batch rule binds a
``custom_jvp_call`` of the batched body whose rule is the user's rule run
under ``vmap`` (JAX's "vmap must not remove the custom JVP" requirement), so
a vmapped function differentiated afterwards still uses it.

``custom_vjp``.  fxad has no VJP table: reverse mode is linearize and
transpose.  So under a JVP trace ``custom_vjp_call`` runs ``fwd`` on the
primals and returns as output tangent ``custom_lin`` applied to the input
tangents, holding the residuals (operands) and ``bwd`` (a param).
``custom_lin`` is linear in the tangents and its transpose rule is
``bwd(residuals, ct)``.  ``linearize`` stages ``custom_lin`` (its tangents
are staging tracers), and the backward pass transposes it; plain forward
mode (``jvp``, ``jacfwd``) evaluates it, which raises JAX's error.

Closures.  A custom function may close over values traced by an enclosing
transformation: they become leading operands of the call (``num_consts``),
so ``vmap`` and ``jit`` see them.  Differentiating with respect to such a
value is refused as in JAX (the rule only covers the explicit arguments):
pass the value as an argument.  The rules are Python callables that read
their own closures, so a rule must not close over values of a
transformation that has finished by the time it runs (a custom function
defined inside a ``jit`` and closing over its traced values, differentiated
outside it); pass such values as arguments.

``nondiff_argnums``: for ``custom_jvp`` those arguments get no derivative
(``stop_gradient``) and are passed first to the rule; for ``custom_vjp``
they must not be traced values (JAX's rule) and are passed first to ``bwd``.
"""

from __future__ import annotations

import functools
import inspect
import operator
from collections.abc import Callable, Sequence

import numpy as np

from fxad import core, tree_util
from fxad.api import _to_value
from fxad.core import ClosedJaxpr, JaxprEqn, Tracer, get_aval, is_float_dtype, new_primitive
from fxad.errors import ForwardModeError
from fxad.interpreters import ad, batching, calls, codegen
from fxad.interpreters import optimize as _opt
from fxad.interpreters.ad import Zero, instantiate, is_undefined, tangent_aval
from fxad.interpreters.batching import not_mapped
from fxad.interpreters.partial_eval import trace_to_jaxpr
from fxad.lax.lax import (
    batch_jaxpr_axis0,
    batched_aval,
    moveaxis,
    reduce_sum,
    stop_gradient_prim,
    vmap_flat,
)

__all__ = ["custom_jvp", "custom_vjp", "custom_jvp_call_p", "custom_vjp_call_p",
           "custom_lin_p"]


# ---------------------------------------------------------------------------
# Shared helpers


def _fun_name(fun):
    return getattr(fun, "__name__", type(fun).__name__)


def _resolve_kwargs(fun, args, kwargs, where):
    """Keyword arguments moved to their positions (the rules take positions)."""
    if not kwargs:
        return tuple(args)
    try:
        bound = inspect.signature(fun).bind(*args, **kwargs)
    except TypeError as e:
        raise TypeError(f"{where}: {e}") from None
    bound.apply_defaults()
    if bound.kwargs:
        raise TypeError(f"{where}: keyword arguments {sorted(bound.kwargs)} could not be "
                        "resolved to positions; pass them positionally.")
    return bound.args


def _nondiff_set(nums, nargs, where):
    out = set()
    for n in nums:
        if not isinstance(n, int) or not -nargs <= n < nargs:
            raise ValueError(f"{where}: nondiff_argnums {tuple(nums)} out of range for a call "
                             f"with {nargs} positional argument(s)")
        out.add(n % nargs)
    return out


def _body_avals(leaves):
    return [get_aval(x) for x in leaves]


def _trace_body(fun, args, nondiff, where):
    """``fun`` traced on the differentiable arguments' avals (the others held
    fixed), closure-converted.  Returns ``(closed, consts, leaves, in_tree,
    out_tree)``; ``closed`` takes ``consts`` then ``leaves``."""
    dyn = [a for i, a in enumerate(args) if i not in nondiff]
    leaves, in_tree = tree_util.tree_flatten(tuple(dyn))
    leaves = [_to_value(x, where) for x in leaves]
    store = {}

    def flat_fun(*xs):
        out = fun(*_merge(args, nondiff, tree_util.tree_unflatten(in_tree, list(xs))))
        out_leaves, store["tree"] = tree_util.tree_flatten(out)
        for x in out_leaves:
            if not isinstance(x, (Tracer, np.ndarray, np.generic, float, int, complex, bool)):
                raise TypeError(f"{where}: the function returned a {type(x).__name__} "
                                f"({x!r}); outputs must be arrays or scalars (or pytrees of "
                                "them).")
        return out_leaves

    closed = trace_to_jaxpr(flat_fun, _body_avals(leaves))
    closed, consts = calls.closure_convert(closed)
    return closed, consts, leaves, in_tree, store["tree"]


def _merge(args, nondiff, dyn):
    """All the arguments again: the fixed ones from ``args``, the others from ``dyn``."""
    it = iter(dyn)
    return [args[i] if i in nondiff else next(it) for i in range(len(args))]


def _check_closure_tangents(kind, name, const_tangents):
    if any(type(t) is not Zero for t in const_tangents):
        rule = "JVP" if kind == "custom_jvp" else "VJP"
        raise TypeError(
            f"Detected differentiation of a {kind} function ({name}) with respect to a "
            f"closed-over value. That isn't supported: the custom {rule} rule only says how "
            f"to differentiate {name} with respect to its explicit arguments. Pass the "
            f"closed-over value to {name} as an argument (and adapt the {kind} rule).")


def _same_aval(a, b):
    return a.shape == b.shape and a.dtype == b.dtype


def _as_dtype(x, aval):
    """A Python scalar result of a rule, as the dtype it stands for (weakly
    typed scalars take the dtype of the value they pair with)."""
    if type(x) in (float, int, complex, bool) and aval.shape == ():
        return np.dtype(aval.dtype).type(x)
    return x


_batched_aval = batched_aval
_batched_body = batch_jaxpr_axis0


def _call_abstract_eval(kind):
    def abstract_eval(*avals, call_jaxpr, name, num_consts, **_):
        calls.check_operands(f"{kind} {name}", avals, call_jaxpr)
        return call_jaxpr.out_avals

    return abstract_eval


def _call_impl(*args, call_jaxpr, name, **_):
    return calls.call_impl(*args, jaxpr=call_jaxpr)


def _call_transpose(prim):
    """Transposing the call itself (``linear_transpose`` of a function that
    calls it stages the call whole): the body's transpose, as JAX does, which
    drops the custom rule once only a linear map is left."""

    def rule(cts, *args, call_jaxpr, **_):
        linear = [is_undefined(a) for a in args]
        ct_nz = [type(c) is not Zero for c in cts]
        transposed, in_nz = ad.transpose_call_jaxpr(call_jaxpr, linear, ct_nz)
        res = [a for a in args if not is_undefined(a)]
        outs = core.eval_jaxpr(transposed.jaxpr, transposed.consts, *res,
                               *[c for c in cts if type(c) is not Zero])
        out_it, nz_it = iter(outs), iter(in_nz)
        return [(next(out_it) if next(nz_it) else Zero(a.aval)) if is_undefined(a) else None
                for a in args]

    ad.deftranspose(prim, rule)


def _pruned_call(eqn, used_outputs):
    """``eqn`` with its body keeping only the used outputs (the operands all
    stay: the rules take every argument), or None when nothing is unused."""
    if all(used_outputs):
        return None
    closed = eqn.params["call_jaxpr"]
    body, _ = _opt.dce_jaxpr(closed.jaxpr, used_outputs, prune_invars=False)
    return _opt.prune_constvars(ClosedJaxpr(body, closed.consts))


class _Selected:
    """A rule whose results are cut down to the outputs a DCE'd call kept: a
    JVP rule's (outputs, tangents) both, ``fwd``'s (outputs, residuals) only
    in the outputs."""

    __slots__ = ("rule", "used", "tangents")

    def __init__(self, rule, used, tangents):
        self.rule, self.used, self.tangents = rule, tuple(used), tangents

    def __call__(self, *args):
        first, second = self.rule(*args)
        pick = [o for o, u in zip(first, self.used, strict=True) if u]
        if self.tangents:
            second = [t for t, u in zip(second, self.used, strict=True) if u]
        return pick, second

    def __repr__(self):
        return repr(self.rule)


class _Expanded:
    """``bwd`` of a DCE'd call: the pruned outputs get zero cotangents."""

    __slots__ = ("bwd", "used", "avals")

    def __init__(self, bwd, used, avals):
        self.bwd, self.used, self.avals = bwd, tuple(used), avals

    def __call__(self, res, cts):
        it = iter(cts)
        full = [next(it) if u else np.zeros(a.shape, a.dtype)
                for u, a in zip(self.used, self.avals, strict=True)]
        return self.bwd(res, full)

    def __repr__(self):
        return repr(self.bwd)


def _custom_jvp_call_dce(eqn, used_outputs):
    body = _pruned_call(eqn, used_outputs)
    if body is None:
        return eqn
    params = dict(eqn.params, call_jaxpr=body, jvp=_Selected(eqn.params["jvp"], used_outputs, True))
    return JaxprEqn(eqn.primitive, eqn.invars, params,
                    [v for v, u in zip(eqn.outvars, used_outputs) if u])


def _custom_vjp_call_dce(eqn, used_outputs):
    body = _pruned_call(eqn, used_outputs)
    if body is None:
        return eqn
    avals = [tangent_aval(a) for a in eqn.params["call_jaxpr"].out_avals]
    params = dict(eqn.params, call_jaxpr=body,
                  fwd=_Selected(eqn.params["fwd"], used_outputs, False),
                  bwd=_Expanded(eqn.params["bwd"], used_outputs, avals))
    return JaxprEqn(eqn.primitive, eqn.invars, params,
                    [v for v, u in zip(eqn.outvars, used_outputs) if u])


# ---------------------------------------------------------------------------
# custom_jvp_call
#
# ``custom_jvp_call[name=f num_consts=k jvp=rule call_jaxpr={...}] *consts *args``.
# ``jvp`` maps (primals of args, tangents of args), flat lists, to (outs,
# out tangents); the consts are the body's closed-over tracers.

custom_jvp_call_p = new_primitive("custom_jvp_call", multiple_results=True)
custom_jvp_call_p.def_impl(_call_impl)
custom_jvp_call_p.def_abstract_eval(_call_abstract_eval("custom_jvp_call"))
codegen.def_emitter(custom_jvp_call_p, calls.call_emitter("call_jaxpr"))


def _custom_jvp_call_jvp(primals, tangents, *, call_jaxpr, jvp, num_consts, name):
    _check_closure_tangents("custom_jvp", name, tangents[:num_consts])
    # The rule sees every tangent (JAX's symbolic_zeros=False): zeros instantiated.
    t_args = [instantiate(t) for t in tangents[num_consts:]]
    outs, t_outs = jvp(list(primals[num_consts:]), t_args)
    return outs, t_outs


ad.jvp_rules[custom_jvp_call_p] = _custom_jvp_call_jvp


def _custom_jvp_call_batch(args, dims, *, call_jaxpr, jvp, num_consts, name):
    size = batching.axis_size(args, dims)
    if any(d is not not_mapped for d in dims[:num_consts]):
        rule = _RefusedRule("custom_jvp", name, "rule")
    else:
        rule = _BatchedJVP(jvp, tuple(dims[num_consts:]), size)
    outs = custom_jvp_call_p.bind(*args, call_jaxpr=_batched_body(call_jaxpr, dims, size),
                                  jvp=rule, num_consts=num_consts, name=name)
    return outs, [0] * len(outs)


batching.batch_rules[custom_jvp_call_p] = _custom_jvp_call_batch
_call_transpose(custom_jvp_call_p)
_opt.dce_rules[custom_jvp_call_p] = _custom_jvp_call_dce


class _JVPRule:
    """The user's JVP rule on flat lists, checked against the function's
    output (structure, shapes, dtypes) every time it runs."""

    __slots__ = ("rule", "args", "nondiff", "in_tree", "out_tree", "out_avals", "name")

    def __init__(self, rule, args, nondiff, in_tree, out_tree, out_avals, name):
        self.rule, self.args, self.nondiff = rule, args, nondiff
        self.in_tree, self.out_tree, self.out_avals, self.name = (in_tree, out_tree,
                                                                   out_avals, name)

    def __call__(self, primals, tangents):
        name = self.name
        p = tree_util.tree_unflatten(self.in_tree, primals)
        t = tree_util.tree_unflatten(self.in_tree, tangents)
        fixed = [self.args[i] for i in sorted(self.nondiff)]
        out = self.rule(*fixed, tuple(p), tuple(t))
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise TypeError(
                f"custom_jvp {name}: the JVP rule must return a pair (primal_out, "
                f"tangent_out), got {_describe(out)}.")
        p_leaves, p_tree = tree_util.tree_flatten(out[0])
        t_leaves, t_tree = tree_util.tree_flatten(out[1])
        if p_tree != self.out_tree:
            raise TypeError(
                f"custom_jvp {name}: the JVP rule's primal output has structure {p_tree}, "
                f"but {name} returns {self.out_tree}; return the primal output of {name} "
                "itself (e.g. by calling it) as the first element of the pair.")
        if t_tree != p_tree:
            raise TypeError(
                f"custom_jvp {name}: the JVP rule's tangent output has structure {t_tree}, "
                f"but its primal output has structure {p_tree}; return one tangent per "
                "primal output, in the same structure.")
        outs, t_outs = [], []
        for k, (po, to, want) in enumerate(zip(p_leaves, t_leaves, self.out_avals)):
            po = _as_dtype(po, want)
            pa = get_aval(po)
            if not _same_aval(pa, want):
                raise TypeError(
                    f"custom_jvp {name}: the JVP rule's primal output {k} is {pa.str_short()} "
                    f"but {name}'s output {k} is {want.str_short()}; the rule must return "
                    f"{name}'s own output.")
            outs.append(po)
            if not is_float_dtype(want.dtype):
                t_outs.append(Zero(tangent_aval(want)))  # no tangent space: dropped
                continue
            to = _as_dtype(to, want)
            ta = get_aval(to)
            if not _same_aval(ta, want):
                raise TypeError(
                    f"custom_jvp {name}: the JVP rule's tangent output {k} is "
                    f"{ta.str_short()} but the primal output {k} is {want.str_short()}; "
                    "each tangent must have its primal's shape and dtype (broadcast or "
                    "cast it in the rule).")
            t_outs.append(to)
        return outs, t_outs

    def __repr__(self):
        return _fun_name(self.rule)


class _BatchedJVP:
    """A JVP rule run under ``vmap`` (operands batched along ``dims``, the
    tangents like their primals), every output's batch axis first: the rule
    of a batched ``custom_jvp_call``."""

    __slots__ = ("rule", "dims", "size")

    def __init__(self, rule, dims, size):
        self.rule, self.dims, self.size = rule, dims, size

    def __call__(self, primals, tangents):
        n = len(primals)
        dropped: list = []

        def f(*xs):
            outs, t_outs = self.rule(list(xs[:n]), list(xs[n:]))
            dropped[:] = [type(t) is Zero for t in t_outs]
            return list(outs) + [instantiate(t) for t in t_outs]

        res = vmap_flat(f, list(primals) + list(tangents), list(self.dims) * 2,
                        lambda k: [0] * k, self.size)
        m = len(res) // 2
        # A dropped (integer) tangent stays dropped.
        t_outs = [Zero(tangent_aval(get_aval(o))) if z else t
                  for o, t, z in zip(res[:m], res[m:], dropped)]
        return res[:m], t_outs

    def __repr__(self):
        return f"vmap({self.rule!r})"


class _RefusedRule:
    """The rule of a batched call whose function closed over batched
    values: the user's rule reads them from its own closure (unbatched),
    so it cannot be batched; differentiating it is refused with the way out."""

    __slots__ = ("kind", "name", "what")

    def __init__(self, kind, name, what):
        self.kind, self.name, self.what = kind, name, what

    def __call__(self, *args):
        raise TypeError(
            f"{self.kind} {self.name}: it closes over a value batched by vmap, and its "
            f"custom {self.what} reads that value from its own closure, so fxad cannot "
            f"differentiate the vmapped call with it. Pass the value to {self.name} as an "
            "argument, or apply vmap outside the differentiation (vmap(grad(f))).")

    def __repr__(self):
        return f"refused({self.name})"


def _describe(x):
    return f"a {type(x).__name__} ({x!r})" if not isinstance(x, (tuple, list)) else \
        f"a {type(x).__name__} of length {len(x)}"


class custom_jvp:
    """A function with a custom JVP rule (JAX's ``jax.custom_jvp``).

    Decorate a function, then set its rule with ``defjvp`` (or ``defjvps``).
    Eagerly and under ``vmap``/``jit`` the function runs as written; every
    differentiation (``jvp``, ``grad``, ``jacfwd``, ``hessian``, ...) uses the
    rule instead of differentiating the body.  Reverse mode transposes the
    rule's tangent output, so that must be linear in the tangents.

    Args:
      fun: the function (pytrees of arrays in and out).
      nondiff_argnums: positions of arguments that are not differentiated
        (given no derivative, and passed first to the rule).

    Example:
        >>> import fxad, fxad.numpy as fnp
        >>> @fxad.custom_jvp
        ... def log1pexp(x):
        ...     return fnp.log1p(fnp.exp(x))
        >>> @log1pexp.defjvp
        ... def log1pexp_jvp(primals, tangents):
        ...     (x,), (t,) = primals, tangents
        ...     return log1pexp(x), t * (1.0 - 1.0 / (1.0 + fnp.exp(x)))
        >>> float(fxad.grad(log1pexp)(100.0))
        1.0
    """

    def __init__(self, fun: Callable, nondiff_argnums: Sequence[int] = ()):
        if not callable(fun):
            raise TypeError(f"custom_jvp: expected a function, got {type(fun).__name__}")
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.nondiff_argnums = tuple(nondiff_argnums)
        self.jvp: Callable | None = None

    def defjvp(self, jvp: Callable) -> Callable:
        """Set the rule ``jvp(primals, tangents) -> (primal_out, tangent_out)``
        (with ``nondiff_argnums``, ``jvp(*nondiff_args, primals, tangents)``);
        ``primals`` and ``tangents`` are tuples of the differentiable
        arguments.  Returns ``jvp``, so it works as a decorator.

        Example:
            >>> import fxad, fxad.numpy as fnp
            >>> f = fxad.custom_jvp(lambda x: fnp.sin(x))
            >>> _ = f.defjvp(lambda p, t: (f(p[0]), 2.0 * t[0]))  # deliberately not cos
            >>> fxad.jvp(f, (0.0,), (1.0,))
            (np.float64(0.0), np.float64(2.0))
        """
        if not callable(jvp):
            raise TypeError(f"custom_jvp {_fun_name(self.fun)}.defjvp: expected a function, "
                            f"got {type(jvp).__name__}")
        self.jvp = jvp
        return jvp

    def defjvps(self, *jvps: Callable | None) -> None:
        """Set the rule from one function per argument, ``fn(t, primal_out,
        *primals)``, each giving that argument's contribution to the output
        tangent (None for an argument with none).

        Example:
            >>> import fxad, fxad.numpy as fnp
            >>> f = fxad.custom_jvp(lambda x, y: x * y)
            >>> f.defjvps(lambda t, ans, x, y: t * y, lambda t, ans, x, y: x * t)
            >>> float(fxad.grad(f, argnums=1)(3.0, 4.0))
            3.0
        """
        name = getattr(self, "__name__", _fun_name(self.fun))
        if self.nondiff_argnums:
            raise TypeError(f"custom_jvp {name}: defjvps can't be used with "
                            "nondiff_argnums; use defjvp.")

        def jvp(primals, tangents):
            out = self(*primals)
            if len(jvps) != len(primals):
                raise TypeError(f"custom_jvp {name}: defjvps got {len(jvps)} functions for "
                                f"{len(primals)} arguments; give one per argument (None for "
                                "an argument with no derivative).")
            parts = [fn(t, out, *primals) for fn, t in zip(jvps, tangents) if fn is not None]
            if not parts:
                return out, tree_util.tree_map(_zeros_like, out)
            return out, tree_util.tree_map(lambda *xs: functools.reduce(operator.add, xs),
                                           *parts)

        jvp.__name__ = f"{name}_jvps"
        self.defjvp(jvp)

    def __call__(self, *args, **kwargs):
        name = getattr(self, "__name__", _fun_name(self.fun))
        where = f"custom_jvp {name}"
        if self.jvp is None:
            raise AttributeError(f"No JVP defined for custom_jvp function {name} using "
                                 "defjvp: call its .defjvp(rule) (or .defjvps) first.")
        args = _resolve_kwargs(self.fun, args, kwargs, where)
        if not core.trace_state.stack:  # no transformation: the rule cannot matter
            return self.fun(*args)
        nondiff = _nondiff_set(self.nondiff_argnums, len(args), where)
        # As JAX does: no derivative flows into a non-differentiable argument.
        args = tuple(tree_util.tree_map(_stop_tracer, a) if i in nondiff else a
                     for i, a in enumerate(args))
        closed, consts, leaves, in_tree, out_tree = _trace_body(self.fun, args, nondiff,
                                                                where)
        rule = _JVPRule(self.jvp, args, nondiff, in_tree, out_tree, closed.out_avals, name)
        outs = custom_jvp_call_p.bind(*consts, *leaves, call_jaxpr=closed, jvp=rule,
                                      num_consts=len(consts), name=name)
        return tree_util.tree_unflatten(out_tree, list(outs))


def _stop_tracer(x):
    return stop_gradient_prim(x) if isinstance(x, Tracer) else x


def _zeros_like(x):
    a = get_aval(x)
    return np.zeros(a.shape, a.dtype)


# ---------------------------------------------------------------------------
# custom_vjp_call and custom_lin
#
# ``custom_vjp_call[name=f num_consts=k fwd=.. bwd=.. call_jaxpr={...}] *consts *args``;
# ``fwd(args) -> (outs, residuals)`` and ``bwd(residuals, cts) -> cts of args``
# on flat lists.  ``custom_lin[name=f num_res=r bwd=.. out_avals=..] *res *tangents``
# is the linear map whose transpose is ``bwd``.

custom_vjp_call_p = new_primitive("custom_vjp_call", multiple_results=True)
custom_vjp_call_p.def_impl(_call_impl)
custom_vjp_call_p.def_abstract_eval(_call_abstract_eval("custom_vjp_call"))
codegen.def_emitter(custom_vjp_call_p, calls.call_emitter("call_jaxpr"))


def _custom_vjp_call_jvp(primals, tangents, *, call_jaxpr, fwd, bwd, num_consts, name):
    _check_closure_tangents("custom_vjp", name, tangents[:num_consts])
    outs, res = fwd(list(primals[num_consts:]))
    out_avals = tuple(tangent_aval(a) for a in call_jaxpr.out_avals)
    t_outs = custom_lin_p.bind(*res, *[instantiate(t) for t in tangents[num_consts:]],
                               num_res=len(res), bwd=bwd, out_avals=out_avals, name=name)
    return outs, [t if is_float_dtype(a.dtype) else Zero(a)
                  for t, a in zip(t_outs, out_avals)]


ad.jvp_rules[custom_vjp_call_p] = _custom_vjp_call_jvp


def _custom_vjp_call_batch(args, dims, *, call_jaxpr, fwd, bwd, num_consts, name):
    size = batching.axis_size(args, dims)
    arg_dims = tuple(dims[num_consts:])
    if any(d is not not_mapped for d in dims[:num_consts]):
        fwd_b = _RefusedRule("custom_vjp", name, "fwd rule")
        bwd_b = _RefusedRule("custom_vjp", name, "bwd rule")
    else:
        fwd_b = _BatchedFwd(fwd, arg_dims, size, len(call_jaxpr.out_avals))
        bwd_b = _BatchedBwd(bwd, arg_dims, size)
    outs = custom_vjp_call_p.bind(*args, call_jaxpr=_batched_body(call_jaxpr, dims, size),
                                  fwd=fwd_b, bwd=bwd_b, num_consts=num_consts, name=name)
    return outs, [0] * len(outs)


batching.batch_rules[custom_vjp_call_p] = _custom_vjp_call_batch
_call_transpose(custom_vjp_call_p)
_opt.dce_rules[custom_vjp_call_p] = _custom_vjp_call_dce


def _forward_mode_error(name):
    return ForwardModeError(
        f"can't apply forward-mode autodiff (jvp) to a custom_vjp function. ({name} is a "
        "custom_vjp function: it defines only reverse mode. Use grad, vjp or jacrev on it; "
        "for forward mode define it with fxad.custom_jvp instead.)")


def _custom_lin_impl(*args, num_res, bwd, out_avals, name):
    raise _forward_mode_error(name)


def _custom_lin_abstract_eval(*avals, num_res, bwd, out_avals, name):
    return list(out_avals)


def _custom_lin_jvp(primals, tangents, *, num_res, bwd, out_avals, name):
    raise _forward_mode_error(name)


def _custom_lin_batch(args, dims, *, num_res, bwd, out_avals, name):
    # custom_lin meets vmap only when its tangents are batched values being
    # evaluated (jacfwd): forward mode.
    raise _forward_mode_error(name)


def _custom_lin_transpose(cts, *args, num_res, bwd, out_avals, name):
    res = list(args[:num_res])
    cts_in = bwd(res, [instantiate(c) for c in cts])
    return [None] * num_res + [
        (Zero(a.aval) if c is None else c) if is_undefined(a) else None
        for a, c in core.safe_zip(args[num_res:], cts_in)]


custom_lin_p = new_primitive("custom_lin", multiple_results=True)
custom_lin_p.def_impl(_custom_lin_impl)
custom_lin_p.def_abstract_eval(_custom_lin_abstract_eval)
ad.jvp_rules[custom_lin_p] = _custom_lin_jvp
ad.deftranspose(custom_lin_p, _custom_lin_transpose)
batching.batch_rules[custom_lin_p] = _custom_lin_batch


class _FwdRule:
    """The user's ``fwd`` on flat lists: checks its primal output against
    the function's and flattens the residuals (their structure is kept for
    ``bwd`` in ``res_tree``)."""

    __slots__ = ("fwd", "args", "nondiff", "in_tree", "out_tree", "out_avals", "name",
                 "res_tree")

    def __init__(self, fwd, args, nondiff, in_tree, out_tree, out_avals, name, res_tree):
        self.fwd, self.args, self.nondiff, self.in_tree = fwd, args, nondiff, in_tree
        self.out_tree, self.out_avals, self.name, self.res_tree = (out_tree, out_avals, name,
                                                                   res_tree)

    def __call__(self, primals):
        name = self.name
        dyn = tree_util.tree_unflatten(self.in_tree, primals)
        got = self.fwd(*_merge(self.args, self.nondiff, dyn))
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise TypeError(f"custom_vjp {name}: fwd must return a pair (primal_out, "
                            f"residuals), got {_describe(got)}.")
        out, res = got
        out_leaves, tree = tree_util.tree_flatten(out)
        if tree != self.out_tree:
            raise TypeError(
                f"custom_vjp {name}: fwd's primal output has structure {tree}, but {name} "
                f"returns {self.out_tree}; fwd must return {name}'s own output first.")
        outs = []
        for k, (o, want) in enumerate(zip(out_leaves, self.out_avals)):
            o = _as_dtype(o, want)
            if not _same_aval(get_aval(o), want):
                raise TypeError(
                    f"custom_vjp {name}: fwd's primal output {k} is "
                    f"{get_aval(o).str_short()} but {name}'s output {k} is "
                    f"{want.str_short()}; fwd must return {name}'s own output first.")
            outs.append(o)
        res_leaves, self.res_tree[0] = tree_util.tree_flatten(res)
        for x in res_leaves:
            if not isinstance(x, (Tracer, np.ndarray, np.generic, float, int, complex, bool)):
                raise TypeError(
                    f"custom_vjp {name}: fwd's residuals must be arrays (or pytrees of "
                    f"them), got a {type(x).__name__} ({x!r}); pass non-array values "
                    "through nondiff_argnums or a closure instead.")
        return outs, res_leaves

    def __repr__(self):
        return _fun_name(self.fwd)


class _BwdRule:
    """The user's ``bwd`` on flat lists: one cotangent (or None) per
    differentiable argument, of that argument's shape and dtype."""

    __slots__ = ("bwd", "fixed", "in_tree", "in_avals", "out_tree", "name", "res_tree")

    def __init__(self, bwd, fixed, in_tree, in_avals, out_tree, name, res_tree):
        self.bwd, self.fixed, self.in_tree, self.in_avals = bwd, fixed, in_tree, in_avals
        self.out_tree, self.name, self.res_tree = out_tree, name, res_tree

    def __call__(self, res, cts):
        name = self.name
        res_tree = self.res_tree[0]
        got = self.bwd(*self.fixed, tree_util.tree_unflatten(res_tree, res),
                       tree_util.tree_unflatten(self.out_tree, cts))
        dyn_trees = tree_util.tree_unflatten(self.in_tree, [0] * self.in_tree.num_leaves)
        n = len(dyn_trees)
        if isinstance(got, list):
            got = tuple(got)
        if not isinstance(got, tuple):
            raise TypeError(
                f"custom_vjp {name}: bwd must return a tuple with one cotangent per "
                f"differentiable argument of {name} ({n} here), got {_describe(got)}; "
                "wrap a single cotangent as (ct,).")
        if len(got) != n:
            raise TypeError(
                f"custom_vjp {name}: bwd returned {len(got)} cotangent(s) but {name} has {n} "
                "differentiable argument(s); return one per argument (None for an argument "
                "with no cotangent; nondiff_argnums arguments get none).")
        out, k = [], 0
        for i, (ct, arg) in enumerate(zip(got, dyn_trees)):
            arg_tree = tree_util.tree_structure(arg)
            m = arg_tree.num_leaves
            avals = self.in_avals[k:k + m]
            k += m
            if ct is None:
                out.extend([None] * m)
                continue
            leaves = _ct_leaves(ct, arg)
            if leaves is None:
                raise TypeError(
                    f"custom_vjp {name}: bwd's cotangent {i} has structure "
                    f"{tree_util.tree_structure(ct)} but argument {i} of {name} has structure "
                    f"{arg_tree}; give each cotangent its argument's structure (None "
                    "stands for a zero cotangent of any subtree).")
            for c, a in zip(leaves, avals):
                if c is None:
                    out.append(None)
                    continue
                c = _as_dtype(c, a)
                ca = get_aval(c)
                if not _same_aval(ca, a):
                    raise ValueError(
                        f"custom_vjp {name}: bwd's cotangent {i} is {ca.str_short()} but "
                        f"argument {i} of {name} is {a.str_short()}; each cotangent must "
                        "have its argument's shape and dtype (sum out broadcast axes, cast "
                        "with astype).")
                out.append(c)
        return out

    def __repr__(self):
        return _fun_name(self.bwd)


def _ct_leaves(ct, arg):
    """The leaves of cotangent ``ct`` for an argument shaped like ``arg``
    (None for a zero subtree, as in JAX), or None if the structures differ."""
    if ct is None:
        return [None] * tree_util.tree_structure(arg).num_leaves
    if isinstance(arg, (tuple, list)) and type(ct) is type(arg) and len(ct) == len(arg):
        out = []
        for c, a in zip(ct, arg):
            sub = _ct_leaves(c, a)
            if sub is None:
                return None
            out.extend(sub)
        return out
    leaves, tree = tree_util.tree_flatten(ct)
    return leaves if tree == tree_util.tree_structure(arg) else None


class _BatchedFwd:
    """``fwd`` under ``vmap``: outputs and residuals with their batch axis first."""

    __slots__ = ("fwd", "dims", "size", "nout")

    def __init__(self, fwd, dims, size, nout):
        self.fwd, self.dims, self.size, self.nout = fwd, dims, size, nout

    def __call__(self, primals):
        def f(*xs):
            outs, res = self.fwd(list(xs))
            return list(outs) + list(res)

        got = vmap_flat(f, list(primals), list(self.dims), lambda k: [0] * k, self.size)
        return got[:self.nout], got[self.nout:]

    def __repr__(self):
        return f"vmap({self.fwd!r})"


class _BatchedBwd:
    """``bwd`` under ``vmap`` (residuals and cotangents batched first); each
    argument's cotangent goes back to its operand's batch axis, and summed
    over the batch for an operand shared by all examples."""

    __slots__ = ("bwd", "dims", "size")

    def __init__(self, bwd, dims, size):
        self.bwd, self.dims, self.size = bwd, dims, size

    def __call__(self, res, cts):
        nres = len(res)
        none: list = []

        def f(*xs):
            got = self.bwd(list(xs[:nres]), list(xs[nres:]))
            none[:] = [c is None for c in got]
            return [c for c in got if c is not None]

        got = vmap_flat(f, list(res) + list(cts), [0] * (nres + len(cts)),
                        lambda k: [0] * k, self.size)
        it = iter(got)
        out = []
        for is_none, d in zip(none, self.dims):
            if is_none:
                out.append(None)
                continue
            c = next(it)
            out.append(reduce_sum(c, (0,)) if d is not_mapped else moveaxis(c, 0, d))
        return out

    def __repr__(self):
        return f"vmap({self.bwd!r})"


class custom_vjp:
    """A function with a custom VJP rule (JAX's ``jax.custom_vjp``).

    Decorate a function, then set ``fwd`` and ``bwd`` with ``defvjp``.
    Eagerly and under ``vmap``/``jit`` the function runs as written; reverse
    mode (``grad``, ``vjp``, ``jacrev``) runs ``fwd`` and, for the cotangents,
    ``bwd``.  Forward mode (``jvp``, ``jacfwd``) raises JAX's error
    (``hessian``, forward over reverse, works: it differentiates ``bwd``).

    Args:
      fun: the function (pytrees of arrays in and out).
      nondiff_argnums: positions of arguments that are not differentiated:
        they must not be traced values (pass arrays as ordinary arguments,
        and return None as their cotangent); ``bwd`` gets them first.

    Example:
        >>> import fxad, fxad.numpy as fnp
        >>> @fxad.custom_vjp
        ... def clip_gradient(x):
        ...     return x
        >>> def fwd(x):
        ...     return x, None
        >>> def bwd(_, g):
        ...     return (fnp.clip(g, -1.0, 1.0),)
        >>> clip_gradient.defvjp(fwd, bwd)
        >>> float(fxad.grad(lambda x: 5.0 * clip_gradient(x))(2.0))
        1.0
    """

    def __init__(self, fun: Callable, nondiff_argnums: Sequence[int] = ()):
        if not callable(fun):
            raise TypeError(f"custom_vjp: expected a function, got {type(fun).__name__}")
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.nondiff_argnums = tuple(nondiff_argnums)
        self.fwd: Callable | None = None
        self.bwd: Callable | None = None

    def defvjp(self, fwd: Callable, bwd: Callable, symbolic_zeros: bool = False) -> None:
        """Set ``fwd(*args) -> (primal_out, residuals)`` (the same arguments as
        the function) and ``bwd(*nondiff_args, residuals, ct) -> cotangents``
        (a tuple, one per differentiable argument; None for no cotangent).

        Example:
            >>> import fxad, fxad.numpy as fnp
            >>> f = fxad.custom_vjp(lambda x: fnp.sin(x))
            >>> f.defvjp(lambda x: (f(x), fnp.cos(x)), lambda c, g: (3.0 * c * g,))
            >>> float(fxad.grad(f)(0.0))  # the rule's 3 cos(x), deliberately not cos(x)
            3.0
        """
        name = getattr(self, "__name__", _fun_name(self.fun))
        if symbolic_zeros:
            raise NotImplementedError(f"custom_vjp {name}.defvjp: symbolic_zeros=True is "
                                      "not supported yet; leave it False.")
        if not callable(fwd) or not callable(bwd):
            raise TypeError(f"custom_vjp {name}.defvjp: fwd and bwd must be functions, got "
                            f"{type(fwd).__name__} and {type(bwd).__name__}")
        self.fwd, self.bwd = fwd, bwd

    def __call__(self, *args, **kwargs):
        name = getattr(self, "__name__", _fun_name(self.fun))
        where = f"custom_vjp {name}"
        if self.fwd is None:
            raise AttributeError(f"No VJP defined for custom_vjp function {name} using "
                                 "defvjp: call its .defvjp(fwd, bwd) first.")
        args = _resolve_kwargs(self.fun, args, kwargs, where)
        nondiff = _nondiff_set(self.nondiff_argnums, len(args), where)
        for i in sorted(nondiff):
            if any(isinstance(x, Tracer) for x in tree_util.tree_leaves(args[i])):
                raise TypeError(
                    f"custom_vjp {name}: argument {i} is in nondiff_argnums but is a traced "
                    "value (a Tracer). Tracers cannot be passed as non-differentiable "
                    "arguments to custom_vjp functions; nondiff_argnums is for values that "
                    "are not arrays (functions, shapes, strings). Pass array-valued "
                    "arguments as ordinary arguments and return None as their cotangent "
                    "from bwd.")
        if not core.trace_state.stack:  # no transformation: the rules cannot matter
            return self.fun(*args)
        closed, consts, leaves, in_tree, out_tree = _trace_body(self.fun, args, nondiff,
                                                                where)
        res_tree: list = [None]
        fwd = _FwdRule(self.fwd, args, nondiff, in_tree, out_tree, closed.out_avals, name,
                       res_tree)
        fixed = [args[i] for i in sorted(nondiff)]
        in_avals = [a.strip_weak_type() for a in _body_avals(leaves)]
        bwd = _BwdRule(self.bwd, fixed, in_tree, in_avals, out_tree, name, res_tree)
        outs = custom_vjp_call_p.bind(*consts, *leaves, call_jaxpr=closed, fwd=fwd, bwd=bwd,
                                      num_consts=len(consts), name=name)
        return tree_util.tree_unflatten(out_tree, list(outs))
