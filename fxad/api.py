"""The public transformations: grad, value_and_grad, jvp, vjp, linearize,
linear_transpose, jacfwd, jacrev, hessian, stop_gradient, make_jaxpr.

Each flattens its pytree arguments, runs an interpreter from
``fxad.interpreters`` on the flat function, and unflattens the result.
Results leave as NumPy values: arrays, and NumPy scalars for 0-d results.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import fxad.numpy as fnp
from fxad import core, tree_util
from fxad.core import _F64_SCALAR_AVAL, ClosedJaxpr, Tracer, get_aval
from fxad.errors import ForwardModeError, forward_refusals
from fxad.interpreters import ad, batching
from fxad.interpreters.ad import Zero, backward_pass, instantiate, jvp_flat, linearize_flat
from fxad.interpreters.ad import _linearize_flat as _linearize_unpaused
from fxad.interpreters.partial_eval import JaxprTracer, trace_to_jaxpr
from fxad.lax.lax import vmap_flat

__all__ = [
    "grad",
    "value_and_grad",
    "jvp",
    "vjp",
    "linearize",
    "linear_transpose",
    "jacfwd",
    "jacrev",
    "hessian",
    "stop_gradient",
    "make_jaxpr",
    "vmap",
]

# ---------------------------------------------------------------------------
# Values in and out

_PY_TO_NP = {float: np.float64, int: np.int64, bool: np.bool_, complex: np.complex128}


def _to_value(x, where: str):
    if isinstance(x, (Tracer, np.ndarray, np.generic)):
        return x
    t = type(x)
    if t is float or t is int or t is complex:
        return x  # kept as is: weakly typed in promotion, as NumPy and JAX do
    if t is bool:
        return np.bool_(x)
    raise TypeError(
        f"{where}: argument of type {type(x).__name__} is not a valid fxad value: {x!r}. "
        "Arguments must be NumPy arrays, NumPy scalars or Python numbers, or pytrees "
        "(tuples, lists, dicts) of them; pass other values through a closure."
    )


def _to_output(x):
    """NumPy out: 0-d results as NumPy scalars, writable arrays."""
    if isinstance(x, Tracer):
        return x
    if isinstance(x, np.ndarray):
        if x.ndim == 0:
            return x[()]
        if not x.flags.writeable:
            return np.array(x)
        return x
    if isinstance(x, np.generic):
        return x
    if type(x) in _PY_TO_NP:
        return _PY_TO_NP[type(x)](x)
    return x


def _strip_finished(x):
    """Auxiliary outputs may hold tracers of a transformation that has ended;
    their primal value is what the caller wants."""
    while isinstance(x, ad.JVPTracer) and not x._trace.active:
        x = x.primal
    return x


def _argnums_tuple(argnums, nargs, where):
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)
    for n in nums:
        if not isinstance(n, int) or not -nargs <= n < nargs:
            raise ValueError(
                f"{where}: argnums {argnums!r} out of range for a function called with "
                f"{nargs} positional argument(s)"
            )
    return single, tuple(n % nargs for n in nums)


def _dtype_of_leaf(x):
    return get_aval(x).dtype


def _check_differentiable(flat, argnums, where, holomorphic=False):
    if not holomorphic:  # fast path: all real floating point
        for x in flat.in_leaves:
            t = type(x)
            if t is not float and t is not np.float64 and get_aval(x).dtype.kind != "f":
                break
        else:
            return
    for n, leaves in zip(argnums, flat.leaves_per_arg()):
        for x in leaves:
            dt = _dtype_of_leaf(x)
            if holomorphic:
                if dt.kind != "c":
                    raise TypeError(
                        f"{where} with holomorphic=True requires inputs with complex dtype, "
                        f"but argument {n} has dtype {dt.name}. Pass complex values "
                        "(e.g. x.astype(complex)), or drop holomorphic=True."
                    )
            elif dt.kind == "c" and where == "jacfwd":
                # As in JAX: grad and jacrev take complex inputs of real-valued
                # functions (the cotangent 1.0 gives a complex gradient), but
                # forward mode's real basis would miss the imaginary directions.
                raise TypeError(
                    f"jacfwd requires real-valued inputs (input dtype that is a sub-dtype "
                    f"of np.floating), but argument {n} has dtype {dt.name}. For "
                    "holomorphic differentiation, pass holomorphic=True. For "
                    "differentiation of non-holomorphic functions involving complex "
                    "inputs, use fxad.jvp directly (or jacrev for a real-valued output)."
                )
            elif dt.kind not in "fc":
                raise TypeError(
                    f"{where} requires real- or complex-valued (floating-point) inputs, "
                    f"but argument {n} has dtype {dt.name}. Pass it as a float "
                    f"(e.g. np.float64(x) or x.astype(float)), or leave it out of argnums."
                )


#: Argument types that are pytree leaves and valid values as they are.
_PLAIN_LEAVES = frozenset((float, np.float64, np.ndarray))
_tuple_treedefs: dict = {}


def _tuple_treedef(n):
    """The treedef of a tuple of ``n`` leaves."""
    td = _tuple_treedefs.get(n)
    if td is None:
        td = _tuple_treedefs[n] = tree_util.tree_structure((0.0,) * n)
    return td


class _FlatFun:
    """Wraps ``fun(*args)`` as a function of the flat leaves of ``args[argnums]``,
    recording the output tree (and aux) on the side."""

    def __init__(self, fun, args, kwargs, argnums, has_aux, where):
        self.fun = fun
        self.args = list(args)
        self.kwargs = kwargs
        self.argnums = argnums
        self.has_aux = has_aux
        self.where = where
        dyn = (args[argnums[0]],) if len(argnums) == 1 else tuple(map(args.__getitem__, argnums))
        # The common call, plain float/array/tracer arguments, skips the
        # pytree walks (grad's fixed cost, paid at every nesting level).
        plain = True
        for x in dyn:
            if type(x) not in _PLAIN_LEAVES and not isinstance(x, Tracer):
                plain = False
                break
        self.plain = plain
        if self.plain:
            self.in_leaves = list(dyn)
            self.in_tree = _tuple_treedef(len(dyn))
        else:
            leaves, self.in_tree = tree_util.tree_flatten(dyn)
            self.in_leaves = [_to_value(x, where) for x in leaves]
        self.out_tree = None
        self.aux = None

    def leaves_per_arg(self):
        out, start = [], 0
        for i in self.argnums:
            n = len(tree_util.tree_leaves(self.args[i]))
            out.append(self.in_leaves[start:start + n])
            start += n
        return out

    def __call__(self, *leaves):
        dyn = leaves if self.plain else tree_util.tree_unflatten(self.in_tree, list(leaves))
        args = list(self.args)
        for i, v in zip(self.argnums, dyn):
            args[i] = v
        out = self.fun(*args, **self.kwargs)
        if self.has_aux:
            if not (isinstance(out, (tuple, list)) and len(out) == 2):
                raise TypeError(
                    f"{self.where} with has_aux=True requires the function to return a "
                    f"pair (output, aux), got {type(out).__name__}."
                )
            out, self.aux = out
        if type(out) in _PLAIN_LEAVES or isinstance(out, Tracer):
            self.out_tree = _LEAF_TREEDEF
            return [out]
        out_leaves, self.out_tree = tree_util.tree_flatten(out)
        for x in out_leaves:
            get_aval(x)  # a clear TypeError for a non-array output
        return out_leaves

    def take_aux(self):
        return tree_util.tree_map(lambda x: _to_output(_strip_finished(x)), self.aux)

    def unflatten_in(self, leaves, single):
        tree = tuple(leaves) if self.plain else tree_util.tree_unflatten(self.in_tree, leaves)
        return tree[0] if single else tree


# ---------------------------------------------------------------------------
# Transformations of a jitted function
#
# ``jit`` is the identity on values and every transformation here commutes
# with it, so ``T(jit(f))`` may be computed as ``jit(T(jit(f)))``: one
# compiled program for the whole transformed function, traced once per
# signature, instead of ``T``'s tracing machinery around a call of ``f``'s
# compiled body on every call.  ``fxad.jit`` installs its rule here (the upper
# layer on the lower one): ``commute_rules[type(fun)](fun, transform, on,
# params)`` returns the jitted transformation, or None to stay on the
# general path (the call primitive's rules).  ``on`` is the argnums
# ``transform`` differentiates (None: every argument, as vmap maps them
# all).  The rule applies ``transform`` to a plain function calling ``fun``,
# so the transformation inside the jit does not commute again.

commute_rules: dict = {}


def _through_jit(fun, transform, on, **params):
    rule = commute_rules.get(type(fun))
    return None if rule is None else rule(fun, transform, on, params)


# ---------------------------------------------------------------------------
# Forward mode


def jvp(fun: Callable, primals: Sequence, tangents: Sequence, has_aux: bool = False):
    """Forward mode: evaluate ``fun`` at ``primals`` and its derivative along ``tangents``.

    Args:
      fun: a function of arrays (pytrees of arrays) returning arrays.
      primals: a tuple or list of the arguments.
      tangents: a tuple or list of the same structure, shapes and dtypes.
      has_aux: ``fun`` returns ``(output, aux)``; aux is returned without tangent.

    Returns:
      ``(primals_out, tangents_out)`` (and ``aux`` when ``has_aux``).

    Example:
        >>> import fxad, fxad.numpy as fnp
        >>> y, y_dot = fxad.jvp(fnp.sin, (0.0,), (2.0,))
        >>> float(y), float(y_dot)
        (0.0, 2.0)
    """
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("jvp: primals and tangents must be tuples or lists of arguments, "
                        f"got {type(primals).__name__} and {type(tangents).__name__}")
    if len(primals) != len(tangents):
        raise TypeError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    flat = _FlatFun(fun, primals, {}, tuple(range(len(primals))), has_aux, "jvp")
    t_leaves, t_tree = tree_util.tree_flatten(tuple(tangents))
    if t_tree != flat.in_tree:
        raise TypeError(f"jvp: primal structure {flat.in_tree} and tangent structure "
                        f"{t_tree} differ")
    t_leaves = [_to_value(t, "jvp") for t in t_leaves]
    for p, t in zip(flat.in_leaves, t_leaves):
        pa, ta = get_aval(p), get_aval(t)
        if pa.shape != ta.shape:
            raise ValueError(f"jvp: primal {pa.str_short()} and tangent {ta.str_short()} "
                             "must have the same shape")
        if np.issubdtype(pa.dtype, np.inexact) and pa.dtype != ta.dtype:
            raise TypeError(f"jvp: primal dtype {pa.dtype.name} and tangent dtype "
                            f"{ta.dtype.name} must be equal")
    tangents_in = [t if np.issubdtype(get_aval(p).dtype, np.inexact) else Zero.from_value(p)
                   for p, t in zip(flat.in_leaves, t_leaves)]
    po, to = jvp_flat(flat, flat.in_leaves, tangents_in)
    po = tree_util.tree_unflatten(flat.out_tree, [_to_output(x) for x in po])
    to = tree_util.tree_unflatten(flat.out_tree, [_to_output(instantiate(t)) for t in to])
    if has_aux:
        return po, to, flat.take_aux()
    return po, to


def linearize(fun: Callable, *primals):
    """Evaluate ``fun`` and stage its derivative at ``primals`` as a linear jaxpr.

    Returns:
      ``(primals_out, f_jvp)`` where ``f_jvp(*tangents)`` evaluates the staged
      linear program (no re-tracing of ``fun``).

    Example:
        >>> import fxad, fxad.numpy as fnp
        >>> y, f_jvp = fxad.linearize(fnp.sin, 0.0)
        >>> float(f_jvp(3.0))
        3.0
    """
    flat = _FlatFun(fun, primals, {}, tuple(range(len(primals))), False, "linearize")
    po, linear, _ = linearize_flat(flat, flat.in_leaves)
    out_tree = flat.out_tree
    in_avals = [get_aval(x) for x in flat.in_leaves]

    def f_jvp(*tangents):
        t_leaves, t_tree = tree_util.tree_flatten(tangents)
        if t_tree != flat.in_tree:
            raise TypeError(f"linearize: tangent structure {t_tree} does not match the primal "
                            f"structure {flat.in_tree}")
        for a, t in zip(in_avals, t_leaves):
            if get_aval(t).shape != a.shape:
                raise ValueError(f"linearize: tangent {get_aval(t).str_short()} does not "
                                 f"match primal {a.str_short()}")
        outs = linear(*[_to_value(t, "linearize") for t in t_leaves])
        return tree_util.tree_unflatten(out_tree, [_to_output(o) for o in outs])

    f_jvp.jaxpr = linear.closed  # the staged linear program, for inspection
    return tree_util.tree_unflatten(out_tree, [_to_output(x) for x in po]), f_jvp


# ---------------------------------------------------------------------------
# Reverse mode


def vjp(fun: Callable, *primals, has_aux: bool = False):
    """Reverse mode: ``(primals_out, vjp_fun)`` with ``vjp_fun(ct)`` the
    cotangent-Jacobian product.  Computed as linearize followed by transpose.

    Example:
        >>> import fxad, fxad.numpy as fnp
        >>> y, f_vjp = fxad.vjp(fnp.sin, 0.0)
        >>> f_vjp(2.0)
        (np.float64(2.0),)
    """
    flat = _FlatFun(fun, primals, {}, tuple(range(len(primals))), has_aux, "vjp")
    po, linear, _ = linearize_flat(flat, flat.in_leaves)
    out_tree = flat.out_tree
    out_avals = [get_aval(x) for x in po]
    in_avals = [get_aval(x) for x in flat.in_leaves]

    def vjp_fun(ct):
        ct_leaves, ct_tree = tree_util.tree_flatten(ct)
        if ct_tree != out_tree:
            raise TypeError(f"vjp: cotangent structure {ct_tree} does not match the output "
                            f"structure {out_tree}")
        cts = [_check_ct(c, a, "vjp") for a, c in zip(out_avals, ct_leaves)]
        cts_in = linear.transpose(cts)
        outs = [_to_output(_ct_value(c, a)) for c, a in zip(cts_in, in_avals)]
        return tree_util.tree_unflatten(flat.in_tree, outs)

    primals_out = tree_util.tree_unflatten(out_tree, [_to_output(x) for x in po])
    if has_aux:
        return primals_out, vjp_fun, flat.take_aux()
    return primals_out, vjp_fun


def _check_ct(c, aval, where):
    """A cotangent must match its output's shape and dtype (a Python scalar
    takes the output's dtype)."""
    c = _to_value(c, where)
    if type(c) in (float, int, complex):
        c = aval.dtype.type(c)
    ca = get_aval(c)
    if ca.shape != aval.shape:
        raise ValueError(f"{where}: cotangent {ca.str_short()} does not match the output "
                         f"{aval.str_short()}; it must have the output's shape and dtype")
    if ca.dtype != aval.dtype:
        raise TypeError(f"{where}: cotangent dtype {ca.dtype.name} does not match the output "
                        f"dtype {aval.dtype.name}; convert it with .astype first")
    return c


def _ct_value(c, aval):
    if type(c) is Zero:
        return np.zeros(aval.shape, aval.dtype)
    return c


def linear_transpose(fun: Callable, *primals):
    """The transpose of a linear function ``fun``; ``primals`` give the
    shapes and dtypes of its inputs (their values are not used).

    Example:
        >>> import fxad, numpy as np
        >>> f_t = fxad.linear_transpose(lambda x: 2.0 * x, 1.0)
        >>> f_t(3.0)
        (np.float64(6.0),)
    """
    leaves, in_tree = tree_util.tree_flatten(primals)
    in_avals = [get_aval(_to_value(x, "linear_transpose")).strip_weak_type() for x in leaves]
    store = {}

    def flat_fun(*xs):
        out = fun(*tree_util.tree_unflatten(in_tree, list(xs)))
        out_leaves, store["tree"] = tree_util.tree_flatten(out)
        return out_leaves

    closed = trace_to_jaxpr(flat_fun, in_avals)
    out_tree = store["tree"]
    out_avals = closed.out_avals

    def transposed(*cts):
        ct = cts[0] if len(cts) == 1 else cts
        ct_leaves, ct_tree = tree_util.tree_flatten(ct)
        if ct_tree != out_tree:
            raise TypeError(f"linear_transpose: cotangent structure {ct_tree} does not match "
                            f"the output structure {out_tree}")
        cts = [_check_ct(c, a, "linear_transpose") for a, c in zip(out_avals, ct_leaves)]
        cts_in = backward_pass(closed.jaxpr, closed.consts, cts)
        outs = [_to_output(_ct_value(c, a)) for c, a in zip(cts_in, in_avals)]
        return tree_util.tree_unflatten(in_tree, outs)

    transposed.jaxpr = closed
    return transposed


_LEAF_TREEDEF = tree_util.tree_structure(0.0)


def _check_scalar_output(out_leaves, out_tree, where):
    if len(out_leaves) == 1 and out_tree is _LEAF_TREEDEF:
        x = out_leaves[0]
        if type(x) is np.float64:  # the common case (a primal output)
            return _F64_SCALAR_AVAL
        if type(x) is ad.JVPTracer and x.aval is _F64_SCALAR_AVAL:
            return x.aval
    if len(out_leaves) != 1 or out_tree != _LEAF_TREEDEF:
        raise TypeError(
            f"{where} requires a scalar (0-d array) output, but the function returned "
            f"a pytree {out_tree}. Use fxad.jacrev or fxad.vjp for non-scalar outputs."
        )
    aval = get_aval(out_leaves[0])
    # One element in any shape, (1,) or (1, 1), counts as a scalar, as in
    # autograd and PyTorch (programs written for them rely on it).
    if aval.size != 1:
        raise TypeError(
            f"{where} requires a scalar output (one element, e.g. shape () or (1,)), but "
            f"the function returned shape {aval.shape} ({aval.str_short()}). Use "
            "fxad.jacrev (or fxad.jacfwd) for the Jacobian, or fxad.vjp for a "
            "vector-Jacobian product; or reduce the output to a scalar (e.g. with .sum())."
        )
    if aval.dtype.kind not in "fc":
        raise TypeError(
            f"{where} requires a real- or complex-valued (floating-point) output, got "
            f"{aval.dtype.name}."
        )
    return aval


def _check_holomorphic_outputs(avals, where, holomorphic):
    """JAX's rules for output dtypes: with holomorphic=True all outputs are
    complex; reverse mode without it wants real outputs, since the cotangent
    1.0 of a complex output would see only its real part."""
    for o, aval in enumerate(avals):
        dt = aval.dtype
        if holomorphic:
            if dt.kind != "c":
                raise TypeError(
                    f"{where} with holomorphic=True requires outputs with complex dtype, "
                    f"but output {o} has dtype {dt.name}. A real-valued function is not "
                    "holomorphic: drop holomorphic=True (grad of a real-valued function "
                    "of complex inputs is supported).")
        elif where != "jacfwd" and dt.kind == "c":
            raise TypeError(
                f"{where} requires real-valued outputs (output dtype that is a sub-dtype "
                f"of np.floating), but output {o} has dtype {dt.name}. For holomorphic "
                "differentiation, pass holomorphic=True. For differentiation of "
                "non-holomorphic functions involving complex outputs, use fxad.vjp "
                "directly, or differentiate the real part (or abs) of the output.")


def _under_reverse_derivative(x):
    """Whether the JVPTracer ``x`` is an outer reverse-mode derivative's
    (``grad``, ``vjp``, ``linearize``: its tangent is on a ``LinearTape``)
    or a forward-mode gradient's (``ad.GradJVPTrace``)."""
    if type(x._trace) is ad.GradJVPTrace:
        return True
    t = x.tangent
    return type(t) is JaxprTracer and type(t._trace) is ad.LinearTape


def _forward_value_and_grad(fun, args, kwargs, i, has_aux, aval):
    """``value_and_grad`` for one real scalar argument that an outer
    reverse-mode derivative is tracing (grad of grad): the derivative is
    one forward pass with tangent 1 (``jvp``), with no tape and no backward
    pass for the outer levels to trace through, which is the cheaper mode
    for a scalar input (a fourth derivative runs about twice as fast).  The
    same derivative, shape and dtype as reverse mode gives (the value can
    differ where reverse mode multiplies an infinite derivative by a zero
    cotangent: ``where(x > 0, sqrt(x), 0)`` at 0 is nan in reverse mode, 0
    here).  Only under a reverse-mode derivative, whose own transpose then
    meets what reverse mode refuses (a ``while_loop``), so that nothing
    works here that ``grad`` refuses elsewhere.  None when forward mode is
    refused (a ``custom_vjp`` function inside, even where the user's code
    caught the error), and the caller then takes reverse mode (the function
    runs again)."""
    flat = _FlatFun(fun, args, kwargs, (i,), has_aux, "grad")

    def scalar_fun(x):
        outs = flat(x)
        _check_scalar_output(outs, flat.out_tree, "grad")
        return outs

    seed = ad.UNIT_SEED if aval.dtype == np.float64 else aval.dtype.type(1)
    made = forward_refusals.made
    try:
        po, to = jvp_flat(scalar_fun, flat.in_leaves, [seed], ad.GradJVPTrace)
    except ForwardModeError:
        forward_refusals.made = made  # handled here: outer levels need not fall back
        return None
    if forward_refusals.made != made:  # raised inside, caught by the user's code
        forward_refusals.made = made
        return None
    out_aval = get_aval(po[0])
    _check_holomorphic_outputs([out_aval], "grad", False)
    g = to[0]
    if type(g) is Zero:
        g = np.zeros((), aval.dtype)
    else:
        if out_aval.shape:  # a one-element output, as reverse mode allows
            g = fnp.reshape(g, ())
        if out_aval.dtype != aval.dtype:  # the gradient has the argument's dtype
            g = fnp.asarray(g, dtype=aval.dtype)
    g = _to_output(g)
    value = _to_output(po[0])
    if has_aux:
        return (value, flat.take_aux()), g
    return value, g


def value_and_grad(fun: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False,
                   holomorphic: bool = False):
    """``fun`` and its gradient in one pass.

    Returns a function computing ``(value, grad)``, or ``((value, aux), grad)``
    with ``has_aux``.

    Example:
        >>> import fxad, fxad.numpy as fnp
        >>> v, g = fxad.value_and_grad(lambda x: x ** 2)(3.0)
        >>> float(v), float(g)
        (9.0, 6.0)
    """
    jitted = _through_jit(fun, value_and_grad, argnums, argnums=argnums, has_aux=has_aux,
                          holomorphic=holomorphic)
    if jitted is not None:
        return jitted
    where = "value_and_grad"

    checked_argnums: dict = {}  # nargs -> _argnums_tuple's answer

    @functools.wraps(fun)
    def value_and_grad_f(*args, **kwargs):
        found = checked_argnums.get(len(args))
        if found is None:
            found = checked_argnums[len(args)] = _argnums_tuple(argnums, len(args), where)
        single, nums = found
        if single and not holomorphic:
            x = args[nums[0]]
            if type(x) is ad.JVPTracer and _under_reverse_derivative(x):
                a = x.aval
                if a.shape == () and a.dtype.kind == "f":
                    out = _forward_value_and_grad(fun, args, kwargs, nums[0], has_aux, a)
                    if out is not None:
                        return out
        flat = _FlatFun(fun, args, kwargs, nums, has_aux, "grad")
        _check_differentiable(flat, nums, "grad", holomorphic)
        # The collector stays off from linearize to the end of the backward
        # pass, and the linear program is freed before it is turned back on.
        # (linearize_flat and transpose pause it too: their unpaused bodies
        # are called here.)  The output is checked once the traces are done.
        with core.gc_paused():
            po, linear, _ = _linearize_unpaused(flat, flat.in_leaves)
            aval = _check_scalar_output(po, flat.out_tree, "grad")
            if holomorphic or aval.dtype.kind == "c":
                _check_holomorphic_outputs([aval], "grad", holomorphic)
            ct = np.ones(aval.shape, aval.dtype) if aval.shape else aval.dtype.type(1)
            cts_in = linear._transpose([ct])
            del linear
        g = []
        for c, x in zip(cts_in, flat.in_leaves):
            if type(c) is not np.float64:  # a 0-d gradient is a NumPy scalar already
                c = _to_output(_ct_value(c, get_aval(x)))
            g.append(c)
        g = flat.unflatten_in(g, single)
        value = po[0]
        if type(value) is not np.float64:
            value = _to_output(value)
        if has_aux:
            return (value, flat.take_aux()), g
        return value, g

    return value_and_grad_f


def grad(fun: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False,
         holomorphic: bool = False):
    """The gradient of a scalar-valued ``fun`` with respect to ``argnums``.

    Args:
      fun: function returning a real scalar: a 0-d output, or one with exactly
        one element (shape ``(1,)``, ``(1, 1)``), as autograd accepts.
      argnums: which positional argument(s) to differentiate (int or tuple).
      has_aux: ``fun`` returns ``(output, aux)``; grad then returns ``(g, aux)``.
      holomorphic: complex inputs and output, ``fun`` holomorphic.

    Returns:
      A function with ``fun``'s signature returning the gradient, shaped like
      the argument(s) (a tuple of them for a tuple ``argnums``).

    Example:
        >>> import fxad, fxad.numpy as fnp
        >>> float(fxad.grad(fnp.sin)(0.0))
        1.0
        >>> float(fxad.grad(fxad.grad(lambda x: x ** 3))(2.0))
        12.0
    """
    jitted = _through_jit(fun, grad, argnums, argnums=argnums, has_aux=has_aux,
                          holomorphic=holomorphic)
    if jitted is not None:
        return jitted
    vg = value_and_grad(fun, argnums, has_aux, holomorphic)

    @functools.wraps(fun)
    def grad_f(*args, **kwargs):
        (value, g) = vg(*args, **kwargs)
        if has_aux:
            return g, value[1]
        return g

    return grad_f


# ---------------------------------------------------------------------------
# Jacobians


def _std_basis(avals):
    """The standard basis of the flattened concatenation of ``avals``, one
    ``OneHot`` per aval (the dense one would be of shape ``(N,) + aval.shape``,
    N the total size): batch rules that know the structure never build it."""
    sizes = [a.size for a in avals]
    n = sum(sizes)
    out, start = [], 0
    for a, k in zip(avals, sizes):
        out.append(batching.OneHot(np.ones(a.shape, a.dtype), start, n))
        start += k
    return out, sizes


def _zeros_list(n):
    return [0] * n


def _reshape(x, shape):
    """``x`` reshaped to ``shape`` (a tracer through fxad.numpy), as a NumPy output."""
    if isinstance(x, Tracer):
        return x if x.aval.shape == shape else fnp.reshape(x, shape)
    return _to_output(np.reshape(x, shape))


def _split_rows(x, sizes, in_shapes, out_shape):
    """Split the leading basis axis of ``x`` (shape ``(N,) + out_shape``) into
    one block per input, each of shape ``out_shape + in_shape``."""
    tracer = isinstance(x, Tracer)
    blocks, start = [], 0
    for k, ish in zip(sizes, in_shapes):
        blk = x[start:start + k]
        start += k
        blk = fnp.reshape(blk, tuple(ish) + tuple(out_shape)) if tracer else \
            np.reshape(blk, tuple(ish) + tuple(out_shape))
        nin, nout = len(ish), len(out_shape)
        if nin and nout:
            perm = tuple(range(nin, nin + nout)) + tuple(range(nin))
            blk = fnp.transpose(blk, perm) if tracer else np.transpose(blk, perm)
        blocks.append(_to_output(blk))
    return blocks


def jacfwd(fun: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False,
           holomorphic: bool = False):
    """The Jacobian of ``fun`` by forward mode: one ``jvp`` of ``fun`` whose
    tangent is the whole standard basis, batched by ``vmap``.

    The primal computation runs once (it does not depend on the tangents, so
    the batching trace never sees it); only the tangent operations are
    batched.  The result has, for each output leaf and each input leaf, shape
    ``output.shape + input.shape``, nested as the output tree of input trees.

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> fxad.jacfwd(lambda x: x ** 2)(np.array([1.0, 2.0]))
        array([[2., 0.],
               [0., 4.]])
    """
    jitted = _through_jit(fun, jacfwd, argnums, argnums=argnums, has_aux=has_aux,
                          holomorphic=holomorphic)
    if jitted is not None:
        return jitted
    @functools.wraps(fun)
    def jacfun(*args, **kwargs):
        single, nums = _argnums_tuple(argnums, len(args), "jacfwd")
        flat = _FlatFun(fun, args, kwargs, nums, has_aux, "jacfwd")
        _check_differentiable(flat, nums, "jacfwd", holomorphic)
        in_avals = [get_aval(x) for x in flat.in_leaves]
        basis, sizes = _std_basis(in_avals)
        n = sum(sizes)
        if n:
            primals_out: list = []

            def pushforward(*tangents):
                po, to = jvp_flat(flat, flat.in_leaves, list(tangents))
                primals_out[:] = po
                return [instantiate(t) for t in to]

            outs = vmap_flat(pushforward, basis, [0] * len(basis), _zeros_list, n)
            out_avals = [get_aval(x) for x in primals_out]
        else:
            out_avals = [get_aval(x) for x in flat(*flat.in_leaves)]
            outs = [np.zeros((0,) + a.shape, a.dtype) for a in out_avals]
        _check_holomorphic_outputs(out_avals, "jacfwd", holomorphic)
        in_shapes = [a.shape for a in in_avals]
        blocks = [flat.unflatten_in(_split_rows(o, sizes, in_shapes, oa.shape), single)
                  for o, oa in zip(outs, out_avals)]
        jac = tree_util.tree_unflatten(flat.out_tree, blocks)
        if has_aux:
            return jac, flat.take_aux()
        return jac

    return jacfun


def jacrev(fun: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False,
           holomorphic: bool = False):
    """The Jacobian of ``fun`` by reverse mode: ``fun`` is linearized once and
    the transposed map is applied to all output basis vectors in one ``vmap``.

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> fxad.jacrev(lambda x: x ** 2)(np.array([1.0, 2.0]))
        array([[2., 0.],
               [0., 4.]])
    """
    jitted = _through_jit(fun, jacrev, argnums, argnums=argnums, has_aux=has_aux,
                          holomorphic=holomorphic)
    if jitted is not None:
        return jitted
    @functools.wraps(fun)
    def jacfun(*args, **kwargs):
        single, nums = _argnums_tuple(argnums, len(args), "jacrev")
        flat = _FlatFun(fun, args, kwargs, nums, has_aux, "jacrev")
        _check_differentiable(flat, nums, "jacrev", holomorphic)
        po, linear, _ = linearize_flat(flat, flat.in_leaves)
        in_avals = [get_aval(x) for x in flat.in_leaves]
        out_avals = [get_aval(x) for x in po]
        for o, oa in enumerate(out_avals):
            if oa.dtype.kind not in "fc":
                raise TypeError(f"jacrev: output {o} has dtype {oa.dtype.name}, which has "
                                "no derivative; return only floating-point outputs.")
        _check_holomorphic_outputs(out_avals, "jacrev", holomorphic)
        sizes = [a.size for a in out_avals]

        def pullback(*cts):
            cts_in = linear.transpose(list(cts))
            return [_ct_value(c, a) for c, a in zip(cts_in, in_avals)]

        m = sum(sizes)
        if m == 1:
            # One output element (grad's case, and hessian's inner jacrev):
            # a single cotangent, transposed without a batch of one.
            rows = pullback(*[np.ones(a.shape, a.dtype) if k else np.zeros(a.shape, a.dtype)
                              for a, k in zip(out_avals, sizes)])
            blocks = [flat.unflatten_in([_reshape(r, oa.shape + ia.shape) if k else
                                         np.zeros(oa.shape + ia.shape, ia.dtype)
                                         for r, ia in zip(rows, in_avals)], single)
                      for oa, k in zip(out_avals, sizes)]
            jac = tree_util.tree_unflatten(flat.out_tree, blocks)
            return (jac, flat.take_aux()) if has_aux else jac
        if m:
            basis, _ = _std_basis(out_avals)
            rows = vmap_flat(pullback, basis, [0] * len(basis), _zeros_list, m)
        else:
            rows = [np.zeros((0,) + a.shape, a.dtype) for a in in_avals]
        # rows[i]: shape (M,) + in_shape_i; block (o, i) = rows[i][seg_o] reshaped.
        blocks = []
        start = 0
        for oa, k in zip(out_avals, sizes):
            row = []
            for r, ia in zip(rows, in_avals):
                blk = r if k == m else r[start:start + k]
                row.append(_reshape(blk, tuple(oa.shape) + tuple(ia.shape)))
            start += k
            blocks.append(flat.unflatten_in(row, single))
        jac = tree_util.tree_unflatten(flat.out_tree, blocks)
        if has_aux:
            return jac, flat.take_aux()
        return jac

    return jacfun


def hessian(fun: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False,
            holomorphic: bool = False):
    """The Hessian of a scalar ``fun``: ``jacfwd(jacrev(fun))``.

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> fxad.hessian(lambda x: fnp.sum(x ** 3))(np.array([1.0, 2.0]))
        array([[ 6.,  0.],
               [ 0., 12.]])
    """
    jitted = _through_jit(fun, hessian, argnums, argnums=argnums, has_aux=has_aux,
                          holomorphic=holomorphic)
    if jitted is not None:
        return jitted
    return jacfwd(jacrev(fun, argnums, has_aux, holomorphic), argnums, has_aux, holomorphic)


# ---------------------------------------------------------------------------
# Misc


def stop_gradient(x: Any):
    """Identity on values, zero derivative: ``x`` is treated as a constant by
    every enclosing transformation.  Works on pytrees.

    Example:
        >>> import fxad
        >>> float(fxad.grad(lambda x: x * fxad.stop_gradient(x))(3.0))
        3.0
    """
    return tree_util.tree_map(fnp.stop_gradient, x)


def make_jaxpr(fun: Callable, static_argnums: int | Sequence[int] = ()):
    """Trace ``fun`` to a ``ClosedJaxpr`` for the given example arguments.

    Example:
        >>> import fxad, fxad.numpy as fnp
        >>> print(fxad.make_jaxpr(lambda x1, x2: x1 * x2 + fnp.sin(x2))(1.0, 2.0))
        { lambda ; a:f64[] b:f64[]. let
            c:f64[] = mul a b
            d:f64[] = sin b
            e:f64[] = add c d
          in (e,) }
    """
    static = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)

    @functools.wraps(fun)
    def make_jaxpr_f(*args, **kwargs) -> ClosedJaxpr:
        nums = tuple(i for i in range(len(args)) if i not in static)
        flat = _FlatFun(fun, args, kwargs, nums, False, "make_jaxpr")
        avals = [get_aval(x) for x in flat.in_leaves]
        return trace_to_jaxpr(flat, avals)

    return make_jaxpr_f


# ---------------------------------------------------------------------------
# vmap


def _is_none(x):
    return x is None


def _axes_per_leaf(spec, tree, what):
    """Broadcast an axis spec (int, None, or a pytree prefix of ``tree``) to
    one entry per leaf of ``tree``."""
    n_leaves = len(tree_util.tree_leaves(tree))
    if spec is None or isinstance(spec, int):
        return [spec] * n_leaves
    spec_leaves, spec_tree = tree_util.tree_flatten(spec, is_leaf=_is_none)
    for s in spec_leaves:
        if s is not None and not isinstance(s, int):
            raise TypeError(f"vmap {what} must be ints or None, got {s!r}")
    try:
        subtrees = spec_tree.flatten_up_to(tree)
    except (ValueError, TypeError) as e:
        raise ValueError(
            f"vmap {what} specification {spec!r} must be a tree prefix of the "
            f"corresponding value's structure {tree_util.tree_structure(tree)}: {e}"
        ) from None
    out = []
    for s, sub in zip(spec_leaves, subtrees):
        out.extend([s] * len(tree_util.tree_leaves(sub)))
    return out


def vmap(fun: Callable, in_axes: Any = 0, out_axes: Any = 0, axis_size: int | None = None):
    """Vectorise ``fun`` over an axis of its arguments.

    Args:
      fun: function of arrays (pytrees of arrays).
      in_axes: int, None, or a tuple with one entry per positional argument
        (each an int, None, or a pytree prefix of that argument): the axis to
        map over, None for arguments shared by the whole batch.
      out_axes: int, None, or a pytree prefix of the output: where the batch
        axis goes in each output (out of range raises ValueError).
      axis_size: the batch size when no argument is mapped.

    Keyword arguments of the batched function are mapped over axis 0, as in
    JAX (``in_axes`` covers positional arguments only): pass a shared value
    positionally with ``in_axes=None`` or close over it.

    Returns:
      The batched function.

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> fxad.vmap(fnp.dot, in_axes=(0, None))(np.eye(2), np.array([1.0, 2.0]))
        array([1., 2.])
    """
    if not (in_axes is None or isinstance(in_axes, (int, tuple, list, dict))):
        raise TypeError(f"vmap in_axes must be an int, None or a tuple, got {in_axes!r}")

    jitted = _through_jit(fun, vmap, None, in_axes=in_axes, out_axes=out_axes,
                          axis_size=axis_size)
    if jitted is not None:
        return jitted
    @functools.wraps(fun)
    def vmapped(*args, **kwargs):
        if isinstance(in_axes, list):
            spec = tuple(in_axes)
        else:
            spec = in_axes
        if isinstance(spec, tuple):
            if len(spec) != len(args):
                raise ValueError(
                    f"vmap in_axes has {len(spec)} entries but the function was called "
                    f"with {len(args)} positional arguments")
            axes = []
            for s, a in zip(spec, args):
                axes.extend(_axes_per_leaf(s, a, "in_axes"))
        else:
            axes = _axes_per_leaf(spec, args, "in_axes")
        # Keyword arguments are mapped over their leading axis (in_axes
        # describes the positional ones only), as in JAX.
        axes.extend([0] * len(tree_util.tree_leaves(kwargs)))
        leaves, in_tree = tree_util.tree_flatten((args, kwargs))
        leaves = [_to_value(x, "vmap") for x in leaves]
        dims, sizes = [], []
        for x, d in zip(leaves, axes):
            if d is None:
                dims.append(None)
                continue
            nd = get_aval(x).ndim
            if not -nd <= d < nd:
                raise ValueError(
                    f"vmap in_axes {d} is out of bounds for an argument of shape "
                    f"{get_aval(x).shape}" + (" (keyword arguments are mapped over axis 0; "
                                              "pass an unmapped one positionally with "
                                              "in_axes=None, or close over it)"
                                              if kwargs and d == 0 else ""))
            d %= nd
            dims.append(d)
            sizes.append(get_aval(x).shape[d])
        if sizes and any(s != sizes[0] for s in sizes):
            raise ValueError(f"vmap got inconsistent sizes for the mapped axes: {sizes}")
        size = sizes[0] if sizes else axis_size
        if size is None:
            raise ValueError("vmap needs at least one mapped argument, or axis_size")
        if axis_size is not None and size != axis_size:
            raise ValueError(f"vmap axis_size={axis_size} but the mapped axes have size {size}")
        store = {}

        def flat_fun(*xs):
            a, kw = tree_util.tree_unflatten(in_tree, list(xs))
            out = fun(*a, **kw)
            out_leaves, store["tree"] = tree_util.tree_flatten(out)
            store["out"] = out
            return out_leaves

        def out_dims(n):
            return _axes_per_leaf(out_axes, store["out"], "out_axes")

        outs = vmap_flat(flat_fun, leaves, dims, out_dims, size)
        return tree_util.tree_unflatten(store["tree"], [_to_output(o) for o in outs])

    return vmapped
