"""``fxad.checkpoint`` (alias ``remat``): reverse mode recomputes a function's
intermediate values instead of storing them.

``checkpoint(f)`` called under a transformation binds the call primitive
``remat`` with ``f``'s traced body.  It is a call like ``pjit`` (the rules of
``fxad.interpreters.calls``) except for linearize's split: where a call
stores the residuals its known half computes, ``remat`` evaluates only the
known outputs now and stages, as its unknown half, the whole body restricted
to the unknown outputs, taking the *known operands* as its residuals.  The
linear program then holds the checkpointed function's inputs instead of its
intermediate values, and the transpose recomputes those (the backward pass
evaluates the non-linear equations of a body before transposing the linear
ones).  This is JAX's ``policy=None``: nothing inside is saved.

With ``prevent_cse=True`` (the default, as in JAX) ``jit``'s optimiser does
not inline a ``remat`` call, so common-subexpression elimination cannot merge
the recomputation with the forward pass.  Outside any transformation
``checkpoint(f)`` is ``f``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

from fxad import tree_util
from fxad.api import _to_value
from fxad.core import (
    ClosedJaxpr,
    Jaxpr,
    JaxprEqn,
    Var,
    eval_jaxpr,
    get_aval,
    new_primitive,
    trace_state,
)
from fxad.interpreters import calls
from fxad.interpreters import optimize as _opt
from fxad.interpreters import partial_eval as pe
from fxad.interpreters.partial_eval import JaxprTracer, trace_to_jaxpr

__all__ = ["checkpoint", "remat", "remat_p"]

remat_p = new_primitive("remat", multiple_results=True)
calls.defcall(remat_p)


def _known_only(jaxpr, unknowns):
    """The known half of the body keeping only its known outputs (no
    residuals): what runs now."""

    def make():
        known, _, out_unk, nres = pe.partial_eval_jaxpr(jaxpr, unknowns)
        nk = len(known.out_avals) - nres
        body, _ = _opt.dce_jaxpr(known.jaxpr, [True] * nk + [False] * nres, prune_invars=False)
        return _opt.prune_constvars(ClosedJaxpr(body, known.consts)), out_unk

    return jaxpr.memo(("remat_known", tuple(unknowns)), make)


def _recompute(jaxpr, unknowns):
    """The staged half: the body restricted to its unknown outputs, split as
    linearize would split it (the known equations, which recompute what the
    known operands determine, then the unknown ones, which are linear in the
    unknown operands), so the backward pass evaluates the former and
    transposes only the latter (a loop or call with both kinds of operands is
    split by its own rule)."""

    def make():
        known, unknown, out_unk, nres = pe.partial_eval_jaxpr(jaxpr, unknowns)
        nk = len(known.out_avals) - nres
        kbody, _ = _opt.dce_jaxpr(known.jaxpr, [False] * nk + [True] * nres,
                                  prune_invars=False)
        ubody = unknown.jaxpr
        sub = dict(zip(ubody.invars[:nres], kbody.outvars))
        k_in, u_in = iter(kbody.invars), iter(ubody.invars[nres:])
        invars = [next(u_in) if u else next(k_in) for u in unknowns]
        eqns = list(kbody.eqns) + [pe.subst_eqn(e, sub) for e in ubody.eqns]
        outvars = [sub.get(x, x) if type(x) is Var else x for x in ubody.outvars]
        body = Jaxpr(jaxpr.jaxpr.constvars, invars, eqns, outvars)
        return _opt.prune_constvars(ClosedJaxpr(body, jaxpr.consts))

    return jaxpr.memo(("remat_recompute", tuple(unknowns)), make)


def _remat_partial_eval(trace, args, params):
    jaxpr = params["jaxpr"]
    unknowns = tuple(type(x) is JaxprTracer and x._trace is trace for x in args)
    known, out_unk = _known_only(jaxpr, unknowns)
    known_args = [x for x, u in zip(args, unknowns) if not u]
    if known.jaxpr.eqns:
        known_outs = remat_p.bind(*known_args, **dict(params, jaxpr=known))
    else:
        known_outs = eval_jaxpr(known.jaxpr, known.consts, *known_args)
    unknown_outs = []
    if any(out_unk):
        unknown_outs = trace.stage(remat_p, list(args),
                                   dict(params, jaxpr=_recompute(jaxpr, unknowns)))
    k_it, u_it = iter(known_outs), iter(unknown_outs)
    return [next(u_it) if u else next(k_it) for u in out_unk]


pe.partial_eval_rules[remat_p] = _remat_partial_eval


def _remat_partial_eval_jaxpr(eqn, unknowns):
    jaxpr = eqn.params["jaxpr"]
    known, out_unk = _known_only(jaxpr, tuple(unknowns))
    k_outs = [v for v, u in zip(eqn.outvars, out_unk) if not u]
    k_eqn = None
    if k_outs:
        k_eqn = JaxprEqn(remat_p, [x for x, u in zip(eqn.invars, unknowns) if not u],
                         dict(eqn.params, jaxpr=known), k_outs)
    u_eqn = JaxprEqn(remat_p, list(eqn.invars),
                     dict(eqn.params, jaxpr=_recompute(jaxpr, tuple(unknowns))),
                     [v for v, u in zip(eqn.outvars, out_unk) if u])
    return k_eqn, u_eqn, out_unk, []


pe.partial_eval_jaxpr_rules[remat_p] = _remat_partial_eval_jaxpr
# Inlined under jit only when CSE may merge the recomputation away.
_opt.inline_rules[remat_p] = lambda eqn: None if eqn.params["prevent_cse"] else \
    eqn.params["jaxpr"]


# ---------------------------------------------------------------------------
# The public function


_CACHE_SIZE = 64


def checkpoint(fun: Callable, *, prevent_cse: bool = True, policy=None,
               static_argnums: int | Sequence[int] = ()) -> Callable:
    """Make reverse mode recompute ``fun``'s intermediate values instead of
    storing them (JAX's ``jax.checkpoint``, also ``fxad.remat``).

    Args:
      fun: a function of arrays (pytrees of arrays).
      prevent_cse: keep ``jit``'s optimiser from merging the recomputation
        with the forward computation (default True, as in JAX).
      policy: which intermediate values may be saved; only ``None`` (save
        nothing, JAX's default) is supported.
      static_argnums: positions of arguments passed to ``fun`` as Python
        values (hashable), not traced.

    Returns:
      A function with ``fun``'s signature and values; under ``grad``,
      ``vjp``, ``linearize`` the staged linear program stores ``fun``'s
      inputs rather than its intermediate values.

    Example:
        >>> import fxad, fxad.numpy as fnp
        >>> f = fxad.checkpoint(lambda x: fnp.sin(fnp.sin(x)))
        >>> round(float(fxad.grad(f)(0.5)), 6)
        0.778644
    """
    if not callable(fun):
        raise TypeError(f"checkpoint: expected a callable, got {type(fun).__name__}: {fun!r}")
    if policy is not None:
        raise NotImplementedError(
            "checkpoint: only policy=None (save nothing, recompute everything inside) is "
            f"supported, got {policy!r}. Split the function into smaller checkpointed pieces "
            "to choose what is stored.")
    nums = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
    for n in nums:
        if not isinstance(n, int):
            raise TypeError(f"checkpoint: static_argnums must be ints, got {n!r}")
    name = getattr(fun, "__name__", type(fun).__name__)
    cache: dict = {}

    @functools.wraps(fun)
    def checkpointed(*args, **kwargs):
        if not trace_state.stack:
            return fun(*args, **kwargs)  # nothing is being differentiated
        nargs = len(args)
        static = {}
        for n in nums:
            if not -nargs <= n < nargs:
                raise ValueError(f"checkpoint({name}): static_argnums {n} out of range for "
                                 f"{nargs} positional arguments")
            static[n % nargs] = args[n % nargs]
        dyn = [a for i, a in enumerate(args) if i not in static]
        leaves, in_tree = tree_util.tree_flatten((dyn, kwargs))
        leaves = [_to_value(x, f"checkpoint({name})") for x in leaves]
        avals = tuple(get_aval(x) for x in leaves)
        try:
            key = (in_tree, avals, tuple(sorted(static.items())))
            hash(key)
        except TypeError:
            raise TypeError(f"checkpoint({name}): static arguments must be hashable") from None
        hit = cache.get(key)
        if hit is None:
            store = {}

            def flat(*xs):
                d, kw = tree_util.tree_unflatten(in_tree, list(xs))
                it = iter(d)
                full = [static[i] if i in static else next(it) for i in range(nargs)]
                out = fun(*full, **kw)
                out_leaves, store["tree"] = tree_util.tree_flatten(out)
                return out_leaves

            closed = trace_to_jaxpr(flat, list(avals))
            body, const_args = calls.closure_convert(closed)
            hit = (body, store["tree"], const_args)
            if not const_args:
                if len(cache) >= _CACHE_SIZE:
                    cache.pop(next(iter(cache)))
                cache[key] = hit
        body, out_tree, const_args = hit
        outs = remat_p.bind(*const_args, *leaves, jaxpr=body, prevent_cse=prevent_cse,
                            name=name)
        return tree_util.tree_unflatten(out_tree, outs)

    return checkpointed


remat = checkpoint
