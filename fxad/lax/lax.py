"""Strict primitives: one block per primitive (impl, abstract eval, JVP,
transpose), named and parametrised as in ``jax.lax``.

Strict means: binary elementwise primitives take operands of one dtype and
of equal shapes, where a 0-d operand also stands for a full array of its
value (scalar broadcasting, which keeps constants such as ``x * 0.5`` from
being materialised).  Every other broadcast and every dtype promotion is
explicit, done by ``fxad.numpy``.  The rules are staging's (each primitive's
abstract eval) and hold in every mode: eagerly and under ``grad`` or
``vmap`` a concrete ``bind`` runs the primitive's check first
(``def_strict``), so ``lax.add(f32, f64)`` raises the same TypeError as
under ``jit``.  Rules that meet a 0-d operand next to a
shaped output broadcast its tangent and sum its cotangent back (``_bcast`` and
``_unbcast``), so gradient shapes always match the inputs.
"""

from __future__ import annotations

import functools
import operator

import numpy as np

from fxad.core import (
    _F64,
    _F64_SCALAR_AVAL,
    JaxprEqn,
    Literal,
    Tracer,
    Var,
    bind,
    full_lower_concrete,
    get_aval,
    new_primitive,
    safe_zip,
    shaped,
)
from fxad.interpreters import batching, codegen, optimize
from fxad.interpreters.ad import (
    UNIT_SEED,
    UndefinedPrimal,
    Zero,
    defjvp,
    defjvp2,
    defjvp_zero,
    deflinear,
    deftranspose,
    instantiate,
    is_undefined,
    jvp_rules,
    linear_primitives,
    nondiff_primitives,
)
from fxad.interpreters.batching import (
    OneHot,
    batch_rules,
    defvectorized,
    not_mapped,
    onehot_rules,
    onehot_scaling,
    onehot_sum,
)
from fxad.interpreters.batching import axis_size as _axis_size
from fxad.interpreters.partial_eval import trace_to_jaxpr

# ---------------------------------------------------------------------------
# Helpers


def _aval(x):
    t = type(x)
    if t is np.ndarray:
        return shaped(x.shape, x.dtype)
    if t is np.float64:
        return _F64_SCALAR_AVAL
    return x.aval if t is UndefinedPrimal else get_aval(x)


def _shape(x):
    """The shape of an operand (the common array types without an aval)."""
    t = type(x)
    if t is np.ndarray or t is np.float64:
        return x.shape
    return _aval(x).shape


def _c(like, val):
    """A scalar constant ``val`` of the dtype of ``like``."""
    return _aval(like).dtype.type(val)


def _bcast(t, shape):
    """Broadcast a 0-d tangent/cotangent to ``shape`` (scalar broadcasting)."""
    if _shape(t) == shape:
        return t
    return broadcast_in_dim(t, shape, ())


def _unbcast(ct, aval):
    """Sum a cotangent back to the shape of a 0-d operand it was broadcast from."""
    t = type(ct)
    if t is np.float64:  # 0-d: nothing was broadcast
        return ct
    if t is np.ndarray:
        shape = ct.shape
    elif ct is None or t is Zero:
        return ct
    else:
        shape = _aval(ct).shape
    if shape == aval.shape:
        return ct
    return reduce_sum(ct, tuple(range(len(shape))))


# ---------------------------------------------------------------------------
# Batching helpers: moving and broadcasting batch axes binds lax primitives,
# so these live here rather than in fxad/interpreters/batching.py (which
# knows no primitive).  They call the lax functions defined further down.


def moveaxis(x, src, dst):
    """Move axis ``src`` of ``x`` to position ``dst`` (a ``transpose``)."""
    if src == dst:
        return x
    nd = _aval(x).ndim
    perm = [i for i in range(nd) if i != src]
    perm.insert(dst, src)
    return transpose(x, tuple(perm))


def bdim_at_front(x, bdim, size):
    """``x`` with its batch axis first; an unmapped ``x`` is broadcast."""
    if bdim is not_mapped:
        shape = _aval(x).shape
        return broadcast_in_dim(x, (size,) + shape, tuple(range(1, len(shape) + 1)))
    return moveaxis(x, bdim, 0)


def matchaxis(x, src, dst, size):
    """Batch axis of ``x`` from ``src`` (maybe unmapped) to ``dst``."""
    if src is not_mapped:
        return moveaxis(bdim_at_front(x, None, size), 0, dst)
    return moveaxis(x, src, dst)


_NUMPY_TYPES = frozenset((np.ndarray, np.float64))
_f64 = np.float64  # the scalar type the rules' inline fast paths test for


def _onehot_and_shared(args, dims):
    """``(onehot, other, onehot_first)`` when one of the two operands is a
    ``OneHot`` and the other a concrete value shared by the batch, of the
    same dtype; else None (the rule declines)."""
    x, y = args
    if type(x) is OneHot:
        if type(y) is OneHot or dims[1] is not not_mapped or isinstance(y, Tracer):
            return None
        oh, other, first = x, y, True
    else:
        if dims[0] is not not_mapped or isinstance(x, Tracer):
            return None
        oh, other, first = y, x, False
    dtype = other.dtype if type(other) in _NUMPY_TYPES else _aval(other).dtype
    if dtype != oh.scale.dtype:
        return None
    return oh, other, first


def defbroadcasting(prim, scalar_ok=None):
    """Elementwise in several operands of one shape (0-d operands allowed
    where ``scalar_ok(i)`` says so): mapped operands get their batch axis in
    front; per-example 0-d operands and unmapped shaped operands are
    broadcast to the batched shape."""
    ufunc_impl = isinstance(prim.impl, np.ufunc)
    scalar_ok_0 = scalar_ok is None or scalar_ok(0)
    scalar_ok_1 = scalar_ok is None or scalar_ok(1)

    def rule(args, dims, **params):
        if len(args) == 2:
            # The common binary cases, decided from the two shapes alone.
            x, y = args
            dx, dy = dims
            sx = _shape(x)
            sy = _shape(y)
            if dx is not_mapped:
                if not sx and scalar_ok_0:  # a shared 0-d operand: scalar broadcasting
                    return bind(prim, x, y, **params), dy
                if dy == 0 and sx == sy[1:] and ufunc_impl and type(x) in _NUMPY_TYPES and \
                        type(y) is np.ndarray and x.dtype is y.dtype:
                    return prim.impl(x, y, **params), 0  # NumPy broadcasting, no copy
            elif dy is not_mapped:
                if not sy and scalar_ok_1:
                    return bind(prim, x, y, **params), dx
                if dx == 0 and sy == sx[1:] and ufunc_impl and type(y) in _NUMPY_TYPES and \
                        type(x) is np.ndarray and x.dtype is y.dtype:
                    return prim.impl(x, y, **params), 0
            elif dx == dy and sx == sy:
                return bind(prim, x, y, **params), dx
        # Fast path: the mapped operands at one axis with one shape, the
        # unmapped ones 0-d (scalar broadcasting covers them, as unbatched).
        dm = sm = None
        for i in range(len(args)):
            d = dims[i]
            s = _shape(args[i])
            if d is not_mapped:
                if s or (scalar_ok is not None and not scalar_ok(i)):
                    break
            elif dm is None:
                dm = d
                sm = s
            elif d != dm or s != sm:
                break
        else:
            return bind(prim, *args, **params), dm
        size = _axis_size(args, dims)
        ex_shapes = []
        out_ex = ()
        for x, d in zip(args, dims):
            s = _shape(x)
            if d is not not_mapped:
                s = s[:d] + s[d + 1:]
            ex_shapes.append(s)
            if s and not out_ex:
                out_ex = s
        direct = ufunc_impl
        for x, d, s in zip(args, dims, ex_shapes):
            if s and s != out_ex:
                # Per-example shapes that do not fit: the primitive's own error,
                # as unbatched (not a confusing one from the broadcasts below).
                avals = [_aval(x) for x in args]
                prim.abstract_eval(*[shaped(s, a.dtype, a.weak_type)
                                     for a, s in zip(avals, ex_shapes)], **params)
            if direct and (isinstance(x, Tracer) or
                           (d != 0 if d is not not_mapped else False) or
                           (d == 0 and s != out_ex)):
                direct = False
        if direct:
            # Concrete operands, batched in front (unmapped ones of the
            # per-example shape or 0-d): NumPy's broadcasting lines them up as
            # the broadcasts below would, without materialising them.
            return prim.impl(*args, **params), 0
        new = []
        full = (size,) + out_ex
        for i, (x, d, s) in enumerate(zip(args, dims, ex_shapes)):
            if d is not_mapped:
                if not s and (scalar_ok is None or scalar_ok(i)):
                    new.append(x)
                else:
                    new.append(broadcast_in_dim(x, full, tuple(range(1 + len(out_ex) - len(s),
                                                                      1 + len(out_ex)))))
            else:
                x = moveaxis(x, d, 0)
                if s != out_ex:
                    x = broadcast_in_dim(x, full, (0,))
                new.append(x)
        return bind(prim, *new, **params), 0

    batch_rules[prim] = rule
    return rule


def defreducer(prim, axes_param="axes"):
    """A reduction/scan over ``axes`` (a tuple param) or ``axis`` (an int)."""

    def rule(args, dims, **params):
        (x,), (d,) = args, dims
        x = moveaxis(x, d, 0)
        p = dict(params)
        v = p[axes_param]
        p[axes_param] = tuple(a + 1 for a in v) if isinstance(v, tuple) else v + 1
        return bind(prim, x, **p), 0

    batch_rules[prim] = rule
    return rule


def loop_batch_rule(prim):
    """Batch by applying ``prim`` to each example and stacking: correct for
    any primitive, used only where a vectorised rule does not apply (e.g.
    gather with a batched index array)."""

    def rule(args, dims, **params):
        size = _axis_size(args, dims)
        fronts = [x if d is not_mapped else moveaxis(x, d, 0) for x, d in zip(args, dims)]
        outs = []
        for b in range(size):
            ex = [x if d is not_mapped else _take0(x, b) for x, d in zip(fronts, dims)]
            outs.append(bind(prim, *ex, **params))
        if prim.multiple_results:
            return ([concatenate([expand_dims(o[k], (0,)) for o in outs], 0)
                     for k in range(len(outs[0]))], [0] * len(outs[0]))
        return concatenate([expand_dims(o, (0,)) for o in outs], 0), 0

    return rule


def _take0(x, b):
    shape = _aval(x).shape
    x = slice(x, (b,) + (0,) * (len(shape) - 1), (b + 1,) + shape[1:])
    return reshape(x, shape[1:])


def vmap_flat(fun, args, in_dims, out_dims_fn, size):
    """Run ``fun`` on the batch: ``args[i]`` mapped along ``in_dims[i]``
    (or not_mapped); ``out_dims_fn(n)`` gives the output axes for n outputs.
    Returns outputs with their batch axes moved to the requested places
    (unmapped outputs are broadcast unless their out axis is None)."""
    vals, dims = batching.batch_flat(fun, args, in_dims, size)
    results = []
    for val, bd, od in zip(vals, dims, out_dims_fn(len(vals)), strict=True):
        if od is None:
            if bd is not not_mapped:
                raise ValueError(
                    "vmap has out_axes=None for an output that depends on the "
                    "mapped inputs; give it an integer out axis.")
            results.append(val)
            continue
        nd = _aval(val).ndim + (1 if bd is not_mapped else 0)
        if not -nd <= od < nd:
            shape = _aval(val).shape if bd is not not_mapped else (size,) + _aval(val).shape
            raise ValueError(
                f"vmap out_axes={od} is out of bounds for an output of {nd} dimensions "
                f"(shape {shape} with the batch axis): use an axis in [{-nd}, {nd - 1}].")
        od %= nd
        results.append(matchaxis(val, bd, od, size))
    return results


def batched_aval(a, d, size):
    """``a`` with a batch axis of ``size`` at ``d`` (``a`` itself when not
    mapped)."""
    if d is not_mapped:
        return a
    return shaped(a.shape[:d] + (size,) + a.shape[d:], a.dtype, a.weak_type)


def batch_jaxpr_axis0(closed, dims, size):
    """``closed`` batched along ``dims`` with every output's batch axis first
    (unmapped outputs broadcast), for rules that need one layout for all the
    bodies they batch (custom rules, solvers).  Memoised on ``closed``."""
    dims = tuple(dims)

    def make():
        def f(*xs):
            return vmap_flat(closed, list(xs), list(dims), lambda n: [0] * n, size)

        return trace_to_jaxpr(f, [batched_aval(a, d, size)
                                  for a, d in safe_zip(closed.in_avals, dims)])

    return closed.memo(("batch_axis0", dims, size), make)


def _check_same_dtype(name, *avals):
    dt = avals[0].dtype
    for a in avals[1:]:
        if a.dtype != dt:
            raise TypeError(
                f"lax.{name} requires arguments of one dtype, got "
                f"{', '.join(a.dtype.name for a in avals)}; convert with "
                "convert_element_type (fxad.numpy promotes for you)."
            )


def _binop_shape(name, x, y):
    if x.shape == y.shape or not y.shape:
        return x.shape
    if not x.shape:
        return y.shape
    raise TypeError(
        f"lax.{name} requires equal shapes or a 0-d operand, got "
        f"{x.str_short()} and {y.str_short()}; broadcast explicitly with "
        "broadcast_in_dim (fxad.numpy broadcasts for you)."
    )


# -- one strictness in every mode ------------------------------------------
#
# Staging (jit, make_jaxpr, linearize's tangents) applies each primitive's
# abstract_eval; eagerly and under grad or vmap the operands would reach
# NumPy, which promotes and broadcasts silently.  ``def_strict`` gives the
# primitive a check that ``bind`` runs before the impl on concrete operands
# (grad's and vmap's rules end in such binds), raising staging's error.  The
# ``fast`` test accepts the common case from dtype identity and shape
# equality alone (the NumPy layer binds on every operation); the rest is
# abstract_eval on the operands' avals, memoised on dtypes, shapes and params.

_STRICT_MEMO_SIZE = 4096  # accepted signatures kept per primitive


def def_strict(prim, fast=None):
    """Apply ``prim``'s staging-time rule (its abstract eval) on every
    concrete bind; ``fast(*args) -> bool`` may accept valid operands first."""
    accepted: set = set()
    _strict_fast[prim] = fast

    def full(*args, **params):
        try:
            key = (tuple([(a.dtype, a.shape) for a in args]), tuple(params.items()))
            if key in accepted:
                return
        except (AttributeError, TypeError):  # Python scalars, unhashable params
            key = None
        prim.abstract_eval(*[_aval(a) for a in args], **params)
        if key is not None:
            if len(accepted) >= _STRICT_MEMO_SIZE:
                accepted.clear()
            accepted.add(key)

    if fast is None:
        prim.def_check(full)
        return prim

    if fast is _same_dtype_shape:
        numpy_types = frozenset((np.ndarray, np.float64))

        def check(x, y):  # _same_dtype_shape inlined: the most frequent check
            tx = type(x)
            ty = type(y)
            if tx in numpy_types and ty in numpy_types:
                if x.dtype is y.dtype and (x.shape == y.shape or not y.shape or not x.shape):
                    return
                full(x, y)
                return
            dx = _PY_DTYPES.get(tx)
            dy = _PY_DTYPES.get(ty)
            try:
                if dx is None and dy is None:
                    if x.dtype is y.dtype and (x.shape == y.shape or not y.shape
                                               or not x.shape):
                        return
                elif (x.dtype if dx is None else dx) is (y.dtype if dy is None else dy):
                    return  # a Python scalar is 0-d: only the dtypes can disagree
            except AttributeError:
                pass
            full(x, y)

        prim.def_check(check)
        return prim

    if fast is _inexact_operand:
        def check(x, **params):  # _inexact_operand inlined: every unary float op
            try:
                if x.dtype.kind in "fc":
                    return
            except AttributeError:
                if type(x) is float:
                    return
            full(x, **params)

        prim.def_check(check)
        return prim

    def check(*args, **params):
        if not fast(*args):
            full(*args, **params)

    prim.def_check(check)
    return prim


def _strong_f64(aval):
    return aval.dtype is _F64 and not aval.weak_type


#: ``prim -> fast`` of ``def_strict`` (``eager_entry`` reads it).
_strict_fast: dict = {}


def eager_entry(fn, prim, scalar=None, unit=False):
    """``fn``, a lax function whose body is ``bind(prim, x)`` or ``bind(prim,
    x, y)``, with ``bind`` inlined for the operands met on every traced
    operation: NumPy operands (arrays or float64 scalars) that ``prim``'s
    strict check accepts at once go straight to ``prim.impl``, and one
    tracer (with a NumPy operand beside it) straight to its trace's
    ``process_primitive``, one Python call instead of three (the function,
    ``bind``, the check).  The results are ``bind``'s; anything else goes to
    ``bind``.  JVP and transpose rules call these functions several times
    per operation.

    ``scalar``, for the IEEE basic operations (``+ - * /`` and negation), is
    the Python operator, which on NumPy float64 scalars is NumPy's scalar
    math: the same correctly rounded result, warnings and special values as
    the ufunc, at a twentieth of a ufunc call's cost (about 30 ns against
    500 ns).  Python floats meet it as float64 scalars, as the ufunc sees
    them.

    ``unit`` (``mul``): ``ad.UNIT_SEED`` (that float64 1.0, by identity)
    times a float64 tracer (not weakly typed) is that tracer, exactly
    (IEEE: ``1 * v`` is ``v`` for every ``v``), with nothing traced: a
    gradient taken in forward mode under an outer derivative
    (``api._forward_value_and_grad``) seeds its tangent with it, and every
    JVP rule multiplies the tangent by a derivative that the outer levels
    trace.  Only that object: a user's ``x * 1.0`` stays a product (a new
    array, never an alias of ``x``'s value)."""
    nd, f64 = np.ndarray, np.float64
    fast = _strict_fast.get(prim, "unchecked" if prim.check is None else None)
    n = fn.__code__.co_argcount
    if n == 2 and fast is _same_dtype_shape:
        def entry(x, y):
            tx = type(x)
            ty = type(y)
            if ty is nd or ty is f64:
                if tx is f64:
                    if ty is f64:
                        return prim.impl(x, y) if scalar is None else scalar(x, y)
                    if y.dtype is _F64:  # a 0-d operand broadcasts
                        return prim.impl(x, y)
                elif tx is nd:
                    if ty is f64:
                        if x.dtype is _F64:
                            return prim.impl(x, y)
                    elif x.dtype is y.dtype and (x.shape == y.shape or not y.shape
                                                 or not x.shape):
                        return prim.impl(x, y)
                elif isinstance(x, Tracer):
                    t = x._trace
                    if t.active:
                        if unit and y is UNIT_SEED and _strong_f64(x.aval):
                            return x
                        return t.process_primitive(prim, (x, y), {})
                elif tx is float and ty is f64 and scalar is not None:
                    return scalar(f64(x), y)
            elif (tx is nd or tx is f64) and isinstance(y, Tracer):
                t = y._trace
                if t.active:
                    if unit and x is UNIT_SEED and _strong_f64(y.aval):
                        return y
                    return t.process_primitive(prim, (x, y), {})
            elif ty is float and (tx is float or tx is f64) and scalar is not None:
                return scalar(f64(x), f64(y))
            elif isinstance(x, Tracer) and isinstance(y, Tracer):
                t = x._trace
                if t is y._trace and t.active:  # two tracers of one trace
                    return t.process_primitive(prim, (x, y), {})
            return bind(prim, x, y)
    elif n == 1 and (fast is _inexact_operand or fast == "unchecked"):
        checked = fast is _inexact_operand  # float operands only (a float64 scalar is one)

        def entry(x):
            tx = type(x)
            if tx is f64:
                return prim.impl(x) if scalar is None else scalar(x)
            if tx is nd and (not checked or x.dtype.kind in "fc"):
                return prim.impl(x)
            if isinstance(x, Tracer):
                t = x._trace
                if t.active:
                    return t.process_primitive(prim, (x,), {})
            return bind(prim, x)
    else:
        raise TypeError(f"eager_entry: no inline eager path for {prim} ({fn.__name__})")
    functools.update_wrapper(entry, fn)
    prim.entry = entry
    return entry


# Python scalars' dtypes (get_aval's), looked up without an exception.
_PY_DTYPES = {float: np.dtype(np.float64), int: np.dtype(np.int64),
              bool: np.dtype(np.bool_), complex: np.dtype(np.complex128)}


def _same_dtype_shape(x, y):
    dx = _PY_DTYPES.get(type(x))
    dy = _PY_DTYPES.get(type(y))
    if dx is None and dy is None:
        try:
            return x.dtype is y.dtype and (x.shape == y.shape or not y.shape or not x.shape)
        except AttributeError:
            return False
    # A Python scalar is 0-d, so only the dtypes can disagree.
    try:
        return (x.dtype if dx is None else dx) is (y.dtype if dy is None else dy)
    except AttributeError:
        return False


def _real_same_dtype_shape(x, y):
    if not _same_dtype_shape(x, y):
        return False
    d = _PY_DTYPES.get(type(x))
    return (x.dtype if d is None else d).kind != "c"


def _inexact_operand(x):
    if type(x) is float:
        return True
    try:
        return x.dtype.kind in "fc"
    except AttributeError:
        return False


def _real_float_operand(x):
    if type(x) is float:
        return True
    try:
        return x.dtype.kind == "f"
    except AttributeError:
        return False


def _unop_abstract_eval(name, float_only=True):
    def abstract_eval(x):
        if float_only and x.dtype.kind not in "fc":  # np.inexact, without issubdtype's cost
            raise TypeError(f"lax.{name} requires a floating-point input, got {x.dtype.name}")
        return x

    return abstract_eval


def _binop_abstract_eval(name, out_dtype=None):
    cache = {}  # avals are interned: memoise on the pair (staging runs this per equation)

    def abstract_eval(x, y):
        out = cache.get((x, y))
        if out is not None:
            return out
        _check_same_dtype(name, x, y)
        shape = _binop_shape(name, x, y)
        dtype = x.dtype if out_dtype is None else out_dtype
        out = cache[(x, y)] = shaped(shape, dtype,
                                     x.weak_type and y.weak_type and out_dtype is None)
        return out

    return abstract_eval


def _unit(dtype):
    return optimize.is_one


_additive_identity = optimize.additive_identity


# Forwarding rules of the shape operations: an empty axis list is the identity.
_no_axes = optimize.forward_operand_if(lambda e: not e.params.get("axes"))
_no_dimensions = optimize.forward_operand_if(lambda e: not e.params.get("dimensions"))


def standard_unop(name, impl, float_only=True):
    """Rule-writing helper: a new elementwise unary Primitive with ``impl``, its abstract eval,
    strict operand checks and its batching rule.
    """
    p = new_primitive(name)
    p.def_impl(impl)
    p.def_abstract_eval(_unop_abstract_eval(name, float_only))
    if float_only:
        def_strict(p, _inexact_operand)
    defvectorized(p)
    return p


def standard_binop(name, impl, out_dtype=None):
    """Rule-writing helper: a new elementwise binary Primitive with ``impl``, its abstract eval
    (``out_dtype`` overrides the operand dtype), strict same-shape-and-dtype checks and its
    broadcasting batch rule.
    """
    p = new_primitive(name)
    p.def_impl(impl)
    p.def_abstract_eval(_binop_abstract_eval(name, out_dtype))
    def_strict(p, _same_dtype_shape)
    defbroadcasting(p)
    return p


# ---------------------------------------------------------------------------
# Arithmetic


def neg(x):
    """Elementwise negation ``-x`` (linear): strict (no broadcasting, no promotion), as
    ``jax.lax.neg``.
    """
    return bind(neg_p, x)


def _neg_forward(eqn, invars, producer):
    p = producer.get(invars[0])
    if p is not None and p.primitive is neg_p and optimize.same(p.invars[0], eqn.outvars[0].aval):
        return p.invars[0]
    return None


neg_p = standard_unop("neg", np.negative, float_only=False)
optimize.def_forwarding(neg_p, _neg_forward, looks_at_producers=(neg_p,))
codegen.def_emitter(neg_p, codegen.emit_neg, scalar=codegen.emit_py_neg, impl=np.negative,
                    literal_ok=True)
deflinear(neg_p, lambda ct, x: [neg(ct)])
onehot_rules[neg_p] = onehot_scaling(np.negative)


def add(x, y):
    """Elementwise sum ``x + y`` (linear); ``x`` and ``y`` must have the same shape and dtype (no
    broadcasting, no promotion), as ``jax.lax.add``.
    """
    return bind(add_p, x, y)


def _add_jvp(primals, tangents):
    x, y = primals
    tx, ty = tangents
    # The primal: add's eager result, inline for two float64 scalars.
    ans = x + y if type(x) is _f64 and type(y) is _f64 else add(x, y)
    if type(tx) is Zero:
        return ans, _bcast(ty, _shape(ans))
    if type(ty) is Zero:
        return ans, _bcast(tx, _shape(ans))
    return ans, add(tx, ty)


def _add_transpose(ct, x, y):
    if type(ct) is _f64:  # 0-d: nothing was broadcast (_unbcast's first case)
        return [ct if type(x) is UndefinedPrimal else None,
                ct if type(y) is UndefinedPrimal else None]
    return [_unbcast(ct, x.aval) if type(x) is UndefinedPrimal else None,
            _unbcast(ct, y.aval) if type(y) is UndefinedPrimal else None]


add_p = standard_binop("add", np.add)
optimize.def_commutative(add_p)
optimize.def_forwarding(add_p, optimize.identity_element_rule(_additive_identity,
                                                             _additive_identity))
codegen.def_operator(add_p, "+", "add")
onehot_rules[add_p] = onehot_sum(1)
jvp_rules[add_p] = _add_jvp
deftranspose(add_p, _add_transpose)


def sub(x, y):
    """Elementwise difference ``x - y`` (linear); ``x`` and ``y`` must have the same shape and
    dtype (no broadcasting, no promotion), as ``jax.lax.sub``.
    """
    return bind(sub_p, x, y)


def _sub_jvp(primals, tangents):
    x, y = primals
    tx, ty = tangents
    # The primal: sub's eager result, inline for two float64 scalars.
    ans = x - y if type(x) is _f64 and type(y) is _f64 else sub(x, y)
    if type(tx) is Zero:
        return ans, _bcast(neg(ty), _shape(ans))
    if type(ty) is Zero:
        return ans, _bcast(tx, _shape(ans))
    return ans, sub(tx, ty)


def _sub_transpose(ct, x, y):
    if type(ct) is _f64:  # 0-d: nothing was broadcast (_unbcast's first case)
        return [ct if type(x) is UndefinedPrimal else None,
                -ct if type(y) is UndefinedPrimal else None]  # neg's eager result
    return [_unbcast(ct, x.aval) if type(x) is UndefinedPrimal else None,
            _unbcast(neg(ct), y.aval) if type(y) is UndefinedPrimal else None]


sub_p = standard_binop("sub", np.subtract)
optimize.def_forwarding(sub_p, optimize.identity_element_rule(lambda dt: optimize.is_plus_zero))
codegen.def_operator(sub_p, "-", "subtract")
jvp_rules[sub_p] = _sub_jvp
deftranspose(sub_p, _sub_transpose)
onehot_rules[sub_p] = onehot_sum(-1)


def mul(x, y):
    """Elementwise product ``x * y`` (bilinear); ``x`` and ``y`` must have the same shape and dtype
    (no broadcasting, no promotion), as ``jax.lax.mul``.
    """
    return bind(mul_p, x, y)


def _mul_jvp(primals, tangents):
    x, y = primals
    tx, ty = tangents
    # The primal: mul's eager result, inline for two float64 scalars.
    ans = x * y if type(x) is _f64 and type(y) is _f64 else mul(x, y)
    if type(tx) is Zero:
        return ans, (Zero.from_value(ans) if type(ty) is Zero else mul(x, ty))
    if type(ty) is Zero:
        return ans, mul(tx, y)
    if tx is ty and x is y:
        # x * x: one tangent equation, t * 2x (equal to t*x + x*t: doubling
        # is exact), so the backward pass has one product and no sum.
        return ans, mul(tx, add(x, x))
    # The product rule's two terms as one equation (see sum_of_products).
    # Two tangents of one trace beside primals from below it go straight to
    # that trace, as bind would send them.
    if isinstance(tx, Tracer) and isinstance(ty, Tracer) and not isinstance(x, Tracer) \
            and not isinstance(y, Tracer):
        t = tx._trace
        if t is ty._trace and t.active:
            return ans, t.process_primitive(sum_of_products_p, (tx, y, x, ty), {})
    return ans, bind(sum_of_products_p, tx, y, x, ty)


def _mul_transpose(ct, x, y):
    # A cotangent that is the concrete scalar 1 (grad's seed) multiplies
    # nothing: 1 * v is v exactly.  Under nested derivatives the product
    # would otherwise be traced, differentiated and transposed at every
    # outer level.  (Only for a traced or NumPy-scalar factor: an array
    # factor is the user's, and a cotangent must not alias it.)
    ct_f64 = type(ct) is _f64
    if type(x) is UndefinedPrimal:
        if type(y) is UndefinedPrimal:
            raise TypeError("mul is not linear in both operands at once "
                            "(a product of two tangents)")
        if ct_f64 and type(y) is _f64:  # 0-d, NumPy scalars: mul's eager result, inline
            return [y if ct == 1.0 else ct * y, None]
        if ct_f64 and ct == 1.0 and _immutable_factor(y):
            return [_unbcast(y, x.aval), None]
        return [_unbcast(mul(ct, y), x.aval), None]
    if ct_f64 and type(x) is _f64:
        return [None, x if ct == 1.0 else x * ct]
    if ct_f64 and ct == 1.0 and _immutable_factor(x):
        return [None, _unbcast(x, y.aval)]
    return [None, _unbcast(mul(x, ct), y.aval)]


def _immutable_factor(v):
    return type(v) is np.float64 or isinstance(v, Tracer)


mul_p = standard_binop("mul", np.multiply)
optimize.def_commutative(mul_p)
optimize.def_forwarding(mul_p, optimize.identity_element_rule(_unit, _unit))
codegen.def_operator(mul_p, "*", "multiply")
jvp_rules[mul_p] = _mul_jvp
deftranspose(mul_p, _mul_transpose)


def _mul_onehot(args, dims):
    # By a shared 0-d or per-example operand: the basis stays one-hot, scaled.
    found = _onehot_and_shared(args, dims)
    if found is None:
        return None
    oh, y, _ = found
    shape = _shape(y)
    if shape and shape != oh.scale.shape:
        return None
    return oh.like(oh.scale * y), 0


onehot_rules[mul_p] = _mul_onehot


def sum_of_products(*operands):
    """``x1*y1 + x2*y2 + ...`` over the operands taken in pairs ``(x1, y1, x2, y2, ...)``:
    elementwise, of one dtype, each operand 0-d or of the one shape of the rest (a 0-d operand
    broadcasts, as in ``mul``).  Linear in one factor of every pair, as ``mul`` is in each
    operand: it is the product rule's tangent ``tx*y + x*ty`` as one equation (fxad's own
    primitive; JAX stages ``mul``, ``mul``, ``add_any``).  The value is that of the products
    and sums in this order, bit for bit.
    """
    return bind(sum_of_products_p, *operands)


def _sum_of_products_impl(*xs):
    f64 = np.float64
    if len(xs) == 4:
        a, b, c, d = xs
        if type(a) is f64 and type(b) is f64 and type(c) is f64 and type(d) is f64:
            return a * b + c * d  # NumPy's scalar math: np.multiply's and np.add's results
    out = np.multiply(xs[0], xs[1])
    for i in range(2, len(xs), 2):
        term = np.multiply(xs[i], xs[i + 1])
        if type(out) is np.ndarray and out.shape == np.shape(term):
            np.add(out, term, out=out)  # a fresh product: summed in place
        else:
            out = np.add(out, term)
    return out


def _sum_of_products_abstract_eval(*avals):
    n = len(avals)
    if n < 2 or n % 2:
        raise TypeError(
            f"lax.sum_of_products takes its operands in pairs (x1, y1, x2, y2, ...), got {n} "
            "operand(s)")
    _check_same_dtype("sum_of_products", *avals)
    shape = ()
    for a in avals:
        if a.shape:
            if not shape:
                shape = a.shape
            elif a.shape != shape:
                raise TypeError(
                    "lax.sum_of_products requires operands of one shape or 0-d, got "
                    f"{', '.join(a.str_short() for a in avals)}; broadcast explicitly "
                    "with broadcast_in_dim.")
    weak = True
    for a in avals:
        if not a.weak_type:
            weak = False
            break
    return shaped(shape, avals[0].dtype, weak)


def _sum_of_products_jvp(primals, tangents):
    # d(sum x_i y_i) = sum (dx_i y_i + x_i dy_i), the terms with a zero tangent left out.
    ans = sum_of_products(*primals)
    terms = []
    for i in range(0, len(primals), 2):
        x, y = primals[i], primals[i + 1]
        tx, ty = tangents[i], tangents[i + 1]
        if type(tx) is not Zero:
            terms += (tx, y)
        if type(ty) is not Zero:
            terms += (x, ty)
    if not terms:
        return ans, Zero.from_value(ans)
    t = mul(*terms) if len(terms) == 2 else sum_of_products(*terms)
    return ans, _bcast(t, _shape(ans))


def _sum_of_products_transpose(ct, *xs):
    # Each product has one linear factor; its cotangent is ct times the other
    # (summed back to a 0-d factor's shape).  As in mul's rule, a concrete
    # seed 1 multiplies nothing.
    ct_f64 = type(ct) is _f64
    one = ct_f64 and ct == 1.0
    if ct_f64 and len(xs) == 4:
        # The product rule's (tx, y, x, ty) on float64 scalars, unrolled, with
        # NumPy's scalar math (mul's eager result).
        a, b, c, d = xs
        if type(a) is UndefinedPrimal and type(d) is UndefinedPrimal and type(b) is _f64 \
                and type(c) is _f64:
            return [b if one else ct * b, None, None, c if one else c * ct]
    cts = [None] * len(xs)
    for i in range(0, len(xs), 2):
        x, y = xs[i], xs[i + 1]
        if type(x) is UndefinedPrimal:
            if type(y) is UndefinedPrimal:
                raise TypeError("sum_of_products is not linear in both factors of a product "
                                "at once (a product of two tangents)")
            cts[i] = _unbcast(y if one and _immutable_factor(y) else mul(ct, y), x.aval)
        elif type(y) is UndefinedPrimal:
            cts[i + 1] = _unbcast(x if one and _immutable_factor(x) else mul(x, ct), y.aval)
        else:
            raise TypeError("sum_of_products is linear only when every product has a linear "
                            "factor; a product of two constants makes it affine")
    return cts


def _sum_of_products_onehot(args, dims):
    # The products with a OneHot factor (all at the same basis positions) by
    # a shared operand stay one-hot, scaled; the sum of their scales is one
    # OneHot, added into the sum of the dense products (batched as mul is)
    # when there are any, as add_any's rule adds one into a dense batch.
    oh0 = None
    scale = None
    dense = []
    mul_batch = batch_rules[mul_p]
    for i in range(0, len(args), 2):
        pair = args[i:i + 2]
        pdims = dims[i:i + 2]
        if type(pair[0]) is not OneHot and type(pair[1]) is not OneHot:
            if pdims[0] is not_mapped and pdims[1] is not_mapped:
                return None  # a product shared by the batch
            term, d = mul_batch(pair, pdims)
            if d != 0 or type(term) is not np.ndarray:
                return None
            dense.append(term)
            continue
        found = _onehot_and_shared(pair, pdims)
        if found is None:
            return None
        oh, y, _ = found
        if oh0 is None:
            oh0 = oh
        elif oh.offset != oh0.offset or oh.size != oh0.size or \
                oh.example_aval is not oh0.example_aval:
            return None
        shape = _shape(y)
        if shape and shape != oh.scale.shape:
            return None
        term = oh.scale * y
        scale = term if scale is None else scale + term
    if oh0 is None:  # pragma: no cover - the rule runs only with a OneHot among the operands
        return None
    out = oh0.like(scale)
    if not dense:
        return out, 0
    # Every dense product a whole batch of the output's shape (a product of
    # two 0-d factors batches to (size,) only: the dense path broadcasts it).
    want = (oh0.size,) + scale.shape
    total = None
    for term in dense:
        if term.dtype != scale.dtype or term.shape != want:
            return None
        total = term if total is None else total + term
    return out.add_to(total), 0


def _sum_of_products_batch(args, dims):
    # Batched as the products and sums it stands for (mul's and add's rules:
    # NumPy broadcasting of shared operands, no copies), in its order, so
    # the value is the same bit for bit.  The examples' operands are checked
    # first, as staging checks them.
    example_avals = []
    for x, d in zip(args, dims):
        a = _aval(x)
        if d is not not_mapped:
            a = shaped(a.shape[:d] + a.shape[d + 1:], a.dtype, a.weak_type)
        example_avals.append(a)
    _sum_of_products_abstract_eval(*example_avals)
    mul_rule = batch_rules[mul_p]
    add_rule = batch_rules[add_p]
    out = out_dim = None
    for i in range(0, len(args), 2):
        pair = args[i:i + 2]
        pdims = dims[i:i + 2]
        if pdims[0] is not_mapped and pdims[1] is not_mapped:
            term, d = mul(*pair), not_mapped  # a product shared by the batch
        else:
            term, d = mul_rule(pair, pdims)
        if out is None:
            out, out_dim = term, d
        elif out_dim is not_mapped and d is not_mapped:
            out = add(out, term)
        else:
            out, out_dim = add_rule([out, term], [out_dim, d])
    return out, out_dim


def _emit_sum_of_products(ctx):
    ins = ctx.ins
    if ctx.operators_exact():
        return "(" + " + ".join(f"({ins[i]} * {ins[i + 1]})" for i in range(0, len(ins), 2)) + ")"
    out = f"xp.multiply({ins[0]}, {ins[1]})"
    for i in range(2, len(ins), 2):
        out = f"xp.add({out}, xp.multiply({ins[i]}, {ins[i + 1]}))"
    return out


def _emit_py_sum_of_products(ctx):
    ins = ctx.ins
    return "(" + " + ".join(f"({ins[i]} * {ins[i + 1]})" for i in range(0, len(ins), 2)) + ")"


sum_of_products_p = new_primitive("sum_of_products")
sum_of_products_p.def_impl(_sum_of_products_impl)
sum_of_products_p.def_abstract_eval(_sum_of_products_abstract_eval)
def_strict(sum_of_products_p)
batch_rules[sum_of_products_p] = _sum_of_products_batch
codegen.def_emitter(sum_of_products_p, _emit_sum_of_products, scalar=_emit_py_sum_of_products,
                    impl=_sum_of_products_impl, elementwise_op=True)
jvp_rules[sum_of_products_p] = _sum_of_products_jvp
deftranspose(sum_of_products_p, _sum_of_products_transpose)
onehot_rules[sum_of_products_p] = _sum_of_products_onehot


def div(x, y):
    """Elementwise quotient ``x / y`` (integers round toward minus infinity, as NumPy's
    ``//``); ``x`` and ``y`` must have the same shape and dtype, as ``jax.lax.div``.
    """
    return bind(div_p, x, y)


def _div_transpose(ct, x, y):
    if is_undefined(y):
        raise TypeError("div is linear in its numerator only")
    return [_unbcast(div(ct, y), x.aval), None]


def _div_impl(x, y):
    t = type(x)
    kind = x.dtype.kind if t is np.ndarray or t is np.float64 else np.result_type(x).kind
    if kind in "iu":
        return np.floor_divide(x, y)  # lax.div on integers rounds; used by floor_divide
    return np.true_divide(x, y)


div_p = standard_binop("div", _div_impl)
optimize.def_forwarding(div_p, optimize.identity_element_rule(_unit))
codegen.def_emitter(div_p, codegen.emit_div, scalar=codegen.emit_py_div, elementwise_op=True,
                    literal_ok=True)
defjvp2(div_p,
        lambda t, ans, x, y: div(t, y),
        lambda t, ans, x, y: neg(mul(t, div(ans, y))))
deftranspose(div_p, _div_transpose)


def integer_pow(x, y: int):
    """``x ** y`` for a static Python integer ``y``, as ``jax.lax.integer_pow``."""
    return bind(integer_pow_p, x, y=y)


def _integer_pow_impl(x, *, y):
    if y == 2:
        return np.multiply(x, x)
    if y < 0 and np.issubdtype(np.result_type(x), np.integer):
        # 1 / x**|y| in integer arithmetic, as lax does: the dtype stays integer
        # (NumPy refuses negative integer powers of integers).
        p = np.power(x, -y)
        return np.where(np.abs(x) == 1, p, np.zeros_like(p))[()]
    return np.power(x, y)


def _integer_pow_jvp(t, x, *, y):
    if y == 0:
        return mul(t, _c(x, 0))
    if y == 1:
        return t
    if y == 2:
        return mul(t, mul(_c(x, 2), x))
    return mul(t, mul(_c(x, y), integer_pow(x, y - 1)))


integer_pow_p = new_primitive("integer_pow")
optimize.def_forwarding(integer_pow_p, optimize.forward_operand_if(lambda e: e.params["y"] == 1))
codegen.def_emitter(integer_pow_p, codegen.emit_integer_pow, scalar=codegen.emit_py_integer_pow)
codegen.def_math(integer_pow_p, "pow", probe=(-30.0, 30.0))
integer_pow_p.def_impl(_integer_pow_impl)
integer_pow_p.def_abstract_eval(lambda x, *, y: x)
defjvp(integer_pow_p, _integer_pow_jvp)
defvectorized(integer_pow_p)


def pow(x, y):  # noqa: A001 - the lax name
    """Elementwise power ``x ** y``; ``x`` and ``y`` must have the same shape and dtype (no
    broadcasting, no promotion), as ``jax.lax.pow``.
    """
    return bind(pow_p, x, y)


def _pow_jvp_x(t, ans, x, y):
    # y * x ** (y - 1), computed without dividing by x (finite at x == 0).
    return mul(t, mul(y, pow(x, sub(y, _c(y, 1)))))


def _pow_jvp_y(t, ans, x, y):
    # log(x) * x ** y, taken as 0 where x == 0 (JAX's convention).
    shape = _aval(x).shape
    zero = eq(x, _c(x, 0))
    safe_x = select_n(zero, x, _bcast(_c(x, 1), shape))
    logx = select_n(zero, log(safe_x), _bcast(_c(x, 0), shape))
    return mul(t, mul(logx, ans))


pow_p = standard_binop("pow", np.power)
codegen.def_binary_ufunc(pow_p, "pow", math="pow", probe=(0.01, 50.0))
defjvp2(pow_p, _pow_jvp_x, _pow_jvp_y)


def _balanced_eq(x, z, y):
    """1 where x == z != y, 0.5 where x == z == y, else 0 (ties share)."""
    xz = eq(x, z)
    yz = eq(y, z)
    one = _c(z, 1)
    half = _c(z, 0.5)
    zero = _c(z, 0)
    shape = _aval(z).shape
    return select_n(_bcast(xz, shape), _bcast(zero, shape),
                    select_n(_bcast(yz, shape), _bcast(one, shape), _bcast(half, shape)))


def max(x, y):  # noqa: A001 - the lax name
    """Elementwise maximum (the tangent of a tie is split evenly, as JAX); ``x`` and ``y`` must
    have the same shape and dtype (no broadcasting, no promotion), as ``jax.lax.max``.
    """
    return bind(max_p, x, y)


def min(x, y):  # noqa: A001 - the lax name
    """Elementwise minimum (the tangent of a tie is split evenly, as JAX); ``x`` and ``y`` must
    have the same shape and dtype (no broadcasting, no promotion), as ``jax.lax.min``.
    """
    return bind(min_p, x, y)


max_p = standard_binop("max", np.maximum)
codegen.def_binary_ufunc(max_p, "maximum")
defjvp2(max_p,
        lambda t, ans, x, y: mul(t, _balanced_eq(x, ans, y)),
        lambda t, ans, x, y: mul(t, _balanced_eq(y, ans, x)))
min_p = standard_binop("min", np.minimum)
codegen.def_binary_ufunc(min_p, "minimum")
defjvp2(min_p,
        lambda t, ans, x, y: mul(t, _balanced_eq(x, ans, y)),
        lambda t, ans, x, y: mul(t, _balanced_eq(y, ans, x)))


def rem(x, y):
    """Elementwise remainder with the sign of ``x`` (``numpy.fmod``); ``x`` and ``y`` must have the
    same shape and dtype (no broadcasting, no promotion), as ``jax.lax.rem``.
    """
    return bind(rem_p, x, y)


rem_p = standard_binop("rem", np.fmod)
codegen.def_binary_ufunc(rem_p, "fmod", math="fmod", probe=(-100.0, 100.0))
# x - y * trunc(x / y): d/dx = 1, d/dy = -trunc(x / y).
defjvp(rem_p,
       lambda t, x, y: _bcast(t, np.broadcast_shapes(_aval(x).shape, _aval(y).shape)),
       lambda t, x, y: mul(neg(t), trunc(div(x, y))))

# ---------------------------------------------------------------------------
# Elementwise transcendental functions (derivatives reuse the output)


def _unary(name, impl):
    p = standard_unop(name, impl)
    return p


exp_p = _unary("exp", np.exp)
codegen.def_ufunc(exp_p, "exp", math="exp", probe=(-700.0, 700.0))
defjvp2(exp_p, lambda t, ans, x: mul(t, ans))
log_p = _unary("log", np.log)
codegen.def_ufunc(log_p, "log", math="log", probe=(1e-300, 1e+300))
defjvp(log_p, lambda t, x: div(t, x))
log1p_p = _unary("log1p", np.log1p)
codegen.def_ufunc(log1p_p, "log1p", math="log1p", probe=(-0.999, 1000000.0))
defjvp(log1p_p, lambda t, x: div(t, add(x, _c(x, 1))))
expm1_p = _unary("expm1", np.expm1)
codegen.def_ufunc(expm1_p, "expm1", math="expm1", probe=(-40.0, 700.0))
defjvp2(expm1_p, lambda t, ans, x: mul(t, add(ans, _c(ans, 1))))
sin_p = _unary("sin", np.sin)
codegen.def_ufunc(sin_p, "sin", math="sin", probe=(-100.0, 100.0))
defjvp(sin_p, lambda t, x: mul(t, cos(x)))
cos_p = _unary("cos", np.cos)
codegen.def_ufunc(cos_p, "cos", math="cos", probe=(-100.0, 100.0))
defjvp(cos_p, lambda t, x: neg(mul(t, sin(x))))
tan_p = _unary("tan", np.tan)
codegen.def_ufunc(tan_p, "tan", math="tan", probe=(-10.0, 10.0))
defjvp2(tan_p, lambda t, ans, x: mul(t, add(_c(ans, 1), mul(ans, ans))))
asin_p = _unary("asin", np.arcsin)
codegen.def_ufunc(asin_p, "asin", math="asin", probe=(-1.0, 1.0))
defjvp(asin_p, lambda t, x: div(t, sqrt(sub(_c(x, 1), mul(x, x)))))
acos_p = _unary("acos", np.arccos)
codegen.def_ufunc(acos_p, "acos", math="acos", probe=(-1.0, 1.0))
defjvp(acos_p, lambda t, x: neg(div(t, sqrt(sub(_c(x, 1), mul(x, x))))))
atan_p = _unary("atan", np.arctan)
codegen.def_ufunc(atan_p, "atan", math="atan", probe=(-100.0, 100.0))
defjvp(atan_p, lambda t, x: div(t, add(_c(x, 1), mul(x, x))))
sinh_p = _unary("sinh", np.sinh)
codegen.def_ufunc(sinh_p, "sinh", math="sinh", probe=(-700.0, 700.0))
defjvp(sinh_p, lambda t, x: mul(t, cosh(x)))
cosh_p = _unary("cosh", np.cosh)
codegen.def_ufunc(cosh_p, "cosh", math="cosh", probe=(-700.0, 700.0))
defjvp(cosh_p, lambda t, x: mul(t, sinh(x)))
tanh_p = _unary("tanh", np.tanh)
codegen.def_ufunc(tanh_p, "tanh", math="tanh", probe=(-25.0, 25.0))
defjvp2(tanh_p, lambda t, ans, x: mul(t, sub(_c(ans, 1), mul(ans, ans))))
sqrt_p = _unary("sqrt", np.sqrt)
codegen.def_ufunc(sqrt_p, "sqrt", math="sqrt", probe=(0.0, 1e+300))


def _sqrt_jvp(t, ans, x):
    # t * (0.5 / sqrt(x)): the coefficient is computed with the primal (and is
    # inf at x == 0, as in JAX, without NumPy's divide-by-zero warning).
    with np.errstate(divide="ignore", invalid="ignore"):
        coef = div(_c(ans, 0.5), ans)
    return mul(t, coef)


defjvp2(sqrt_p, _sqrt_jvp)
asinh_p = _unary("asinh", np.arcsinh)
codegen.def_ufunc(asinh_p, "asinh", math="asinh", probe=(-1000000.0, 1000000.0))
defjvp(asinh_p, lambda t, x: div(t, sqrt(add(mul(x, x), _c(x, 1)))))
acosh_p = _unary("acosh", np.arccosh)
codegen.def_ufunc(acosh_p, "acosh", math="acosh", probe=(1.0, 1000000.0))
# sqrt(x - 1) * sqrt(x + 1), not sqrt(x * x - 1): equal for real x > 1, but only
# the first is the derivative of NumPy's principal arccosh for complex x with
# Re(x) < 0 (sqrt(x * x - 1) has a branch cut on the imaginary axis that
# arccosh has not).
defjvp(acosh_p, lambda t, x: div(t, mul(sqrt(sub(x, _c(x, 1))), sqrt(add(x, _c(x, 1))))))
atanh_p = _unary("atanh", np.arctanh)
codegen.def_ufunc(atanh_p, "atanh", math="atanh", probe=(-0.999, 0.999))
defjvp(atanh_p, lambda t, x: div(t, sub(_c(x, 1), mul(x, x))))
# Primitives rather than composites (exp(x * log 2), log(x) / log(10), ...) so
# that values are NumPy's to the last bit: exp2(3) is 8 and log10(1000) is 3.
exp2_p = _unary("exp2", np.exp2)
defjvp2(exp2_p, lambda t, ans, x: mul(t, mul(ans, _c(ans, np.log(2)))))
log2_p = _unary("log2", np.log2)
defjvp(log2_p, lambda t, x: div(t, mul(x, _c(x, np.log(2)))))
log10_p = _unary("log10", np.log10)
defjvp(log10_p, lambda t, x: div(t, mul(x, _c(x, np.log(10)))))
cbrt_p = _unary("cbrt", np.cbrt)


def _cbrt_jvp(t, ans, x):
    # t / (3 cbrt(x)**2): inf at x == 0, as in JAX, without NumPy's warning.
    with np.errstate(divide="ignore", invalid="ignore"):
        coef = mul(_c(ans, 1 / 3), integer_pow(ans, -2))
    return mul(t, coef)


defjvp2(cbrt_p, _cbrt_jvp)


def exp2(x):
    """Elementwise base-2 exponential: strict (no broadcasting, no promotion), as ``jax.lax.exp2``.
    """
    return bind(exp2_p, x)


def log2(x):
    """Elementwise base-2 logarithm: strict (no broadcasting, no promotion), as ``jax.lax.log2``."""
    return bind(log2_p, x)


def log10(x):
    """Elementwise base-10 logarithm: strict (no broadcasting, no promotion), as ``jax.lax.log10``.
    """
    return bind(log10_p, x)


def cbrt(x):
    """Elementwise real cube root: strict (no broadcasting, no promotion), as ``jax.lax.cbrt``."""
    return bind(cbrt_p, x)


def sinc_maclaurin(x, k):
    """The k-th derivative of ``sin(y) / y`` at ``y = 0``, shaped like ``x``.

    JAX's ``_sinc_maclaurin``: its value does not depend on ``x``, but its
    JVP is the next coefficient times the tangent, so ``fxad.numpy.sinc``
    (which uses it at ``x == 0``) has exact derivatives there to any order.
    """
    return bind(sinc_maclaurin_p, x, k=int(k))


def _sinc_maclaurin_impl(x, *, k):
    c = 0.0 if k % 2 else (-1) ** (k // 2) / (k + 1)
    out = np.full(np.shape(x), c, np.result_type(x))
    return out[()] if out.ndim == 0 else out


sinc_maclaurin_p = new_primitive("sinc_maclaurin")
sinc_maclaurin_p.def_impl(_sinc_maclaurin_impl)
sinc_maclaurin_p.def_abstract_eval(lambda x, *, k: _unop_abstract_eval("sinc_maclaurin")(x))
def_strict(sinc_maclaurin_p, _inexact_operand)
defjvp(sinc_maclaurin_p, lambda t, x, *, k: mul(t, sinc_maclaurin(x, k + 1)))
defvectorized(sinc_maclaurin_p)


def exp(x):
    """Elementwise exponential; its JVP reuses the output: strict (no broadcasting, no promotion),
    as ``jax.lax.exp``.
    """
    return bind(exp_p, x)


def log(x):
    """Elementwise natural logarithm: strict (no broadcasting, no promotion), as ``jax.lax.log``."""
    return bind(log_p, x)


def log1p(x):
    """Elementwise ``log(1 + x)``, accurate near zero: strict (no broadcasting, no promotion), as
    ``jax.lax.log1p``.
    """
    return bind(log1p_p, x)


def expm1(x):
    """Elementwise ``exp(x) - 1``, accurate near zero: strict (no broadcasting, no promotion), as
    ``jax.lax.expm1``.
    """
    return bind(expm1_p, x)


def sin(x):
    """Elementwise sine: strict (no broadcasting, no promotion), as ``jax.lax.sin``."""
    return bind(sin_p, x)


def cos(x):
    """Elementwise cosine: strict (no broadcasting, no promotion), as ``jax.lax.cos``."""
    return bind(cos_p, x)


def tan(x):
    """Elementwise tangent: strict (no broadcasting, no promotion), as ``jax.lax.tan``."""
    return bind(tan_p, x)


def asin(x):
    """Elementwise inverse sine: strict (no broadcasting, no promotion), as ``jax.lax.asin``."""
    return bind(asin_p, x)


def acos(x):
    """Elementwise inverse cosine: strict (no broadcasting, no promotion), as ``jax.lax.acos``."""
    return bind(acos_p, x)


def atan(x):
    """Elementwise inverse tangent: strict (no broadcasting, no promotion), as ``jax.lax.atan``."""
    return bind(atan_p, x)


def sinh(x):
    """Elementwise hyperbolic sine: strict (no broadcasting, no promotion), as ``jax.lax.sinh``."""
    return bind(sinh_p, x)


def cosh(x):
    """Elementwise hyperbolic cosine: strict (no broadcasting, no promotion), as ``jax.lax.cosh``.
    """
    return bind(cosh_p, x)


def tanh(x):
    """Elementwise hyperbolic tangent: strict (no broadcasting, no promotion), as ``jax.lax.tanh``.
    """
    return bind(tanh_p, x)


def sqrt(x):
    """Elementwise square root: strict (no broadcasting, no promotion), as ``jax.lax.sqrt``."""
    return bind(sqrt_p, x)


def asinh(x):
    """Elementwise inverse hyperbolic sine: strict (no broadcasting, no promotion), as
    ``jax.lax.asinh``.
    """
    return bind(asinh_p, x)


def acosh(x):
    """Elementwise inverse hyperbolic cosine: strict (no broadcasting, no promotion), as
    ``jax.lax.acosh``.
    """
    return bind(acosh_p, x)


def atanh(x):
    """Elementwise inverse hyperbolic tangent: strict (no broadcasting, no promotion), as
    ``jax.lax.atanh``.
    """
    return bind(atanh_p, x)


def atan2(x, y):
    """Elementwise two-argument arctangent ``atan(x / y)`` in the right quadrant; ``x`` and ``y``
    must have the same shape and dtype (no broadcasting, no promotion), as ``jax.lax.atan2``.
    """
    return bind(atan2_p, x, y)


def _atan2_denom(x, y):
    return add(mul(x, x), mul(y, y))


atan2_p = standard_binop("atan2", np.arctan2)
codegen.def_binary_ufunc(atan2_p, "atan2", math="atan2", probe=(-10.0, 10.0))
defjvp(atan2_p,
       lambda t, x, y: mul(t, div(y, _atan2_denom(x, y))),
       lambda t, x, y: mul(t, neg(div(x, _atan2_denom(x, y)))))


def abs(x):  # noqa: A001 - the lax name
    """Elementwise absolute value (``|z|`` for complex, a real result): strict (no broadcasting, no
    promotion), as ``jax.lax.abs``.
    """
    return bind(abs_p, x)


def _abs_abstract_eval(x):
    if np.issubdtype(x.dtype, np.complexfloating):  # |z| is real
        return shaped(x.shape, np.finfo(x.dtype).dtype)
    return x


def _abs_jvp(t, ans, x):
    if not np.issubdtype(_aval(x).dtype, np.complexfloating):
        # d|x| = dx where x >= 0, else -dx: 1 at x == 0 (JAX's convention).
        return select_n(ge(x, _c(x, 0)), neg(t), t)
    # d|z| = Re(conj(z) dz) / |z|, taken as 0 at z == 0.
    shape = _aval(x).shape
    ans_c = convert_element_type(ans, _aval(x).dtype)
    safe = select_n(eq(ans_c, _c(ans_c, 0)), ans_c, _bcast(_c(ans_c, 1), shape))
    return real(mul(t, div(conj(x), safe)))


abs_p = new_primitive("abs")
codegen.def_ufunc(abs_p, "abs", math="fabs", probe=(-1e300, 1e300))
abs_p.def_impl(np.abs)
abs_p.def_abstract_eval(_abs_abstract_eval)
defjvp2(abs_p, _abs_jvp)
defvectorized(abs_p)

# ---------------------------------------------------------------------------
# Piecewise-constant functions: derivative zero, outputs carry no tangent


def sign(x):
    """Elementwise sign, -1, 0 or 1 (zero derivative): strict (no broadcasting, no promotion), as
    ``jax.lax.sign``.
    """
    return bind(sign_p, x)


def floor(x):
    """Elementwise floor (zero derivative almost everywhere): strict (no broadcasting, no
    promotion), as ``jax.lax.floor``.
    """
    return bind(floor_p, x)


def ceil(x):
    """Elementwise ceiling (zero derivative almost everywhere): strict (no broadcasting, no
    promotion), as ``jax.lax.ceil``.
    """
    return bind(ceil_p, x)


def round(x):  # noqa: A001 - the lax name
    """Elementwise rounding, half to even as ``numpy.round`` (zero derivative): strict (no
    broadcasting, no promotion), as ``jax.lax.round``.
    """
    return bind(round_p, x)


def trunc(x):
    """Elementwise truncation toward zero (zero derivative): strict (no broadcasting, no
    promotion), as ``jax.lax.trunc``.
    """
    return bind(trunc_p, x)


sign_p = standard_unop("sign", np.sign, float_only=False)
codegen.def_ufunc(sign_p, "sign")
defjvp_zero(sign_p)
floor_p = standard_unop("floor", np.floor)
codegen.def_ufunc(floor_p, "floor")
defjvp_zero(floor_p)
ceil_p = standard_unop("ceil", np.ceil)
codegen.def_ufunc(ceil_p, "ceil")
defjvp_zero(ceil_p)
round_p = standard_unop("round", np.round)  # half to even, as NumPy
codegen.def_ufunc(round_p, "round")
defjvp_zero(round_p)
trunc_p = standard_unop("trunc", np.trunc)
codegen.def_ufunc(trunc_p, "trunc")
defjvp_zero(trunc_p)


def _real_unop_abstract_eval(name):
    def abstract_eval(x):
        if not np.issubdtype(x.dtype, np.floating):
            raise TypeError(f"lax.{name} requires a real floating-point input, got "
                            f"{x.dtype.name}")
        return x

    return abstract_eval


for _p in (floor_p, ceil_p, round_p, trunc_p):  # complex has no order to round by
    _p.def_abstract_eval(_real_unop_abstract_eval(_p.name))
    def_strict(_p, _real_float_operand)


def _real_binop_abstract_eval(name):
    general = _binop_abstract_eval(name)

    def abstract_eval(x, y):
        if np.issubdtype(x.dtype, np.complexfloating):
            raise TypeError(f"lax.{name} requires real inputs, got {x.dtype.name}")
        return general(x, y)

    return abstract_eval


for _p in (atan2_p, rem_p):  # NumPy has no complex arctan2 or fmod either
    _p.def_abstract_eval(_real_binop_abstract_eval(_p.name))
    def_strict(_p, _real_same_dtype_shape)

# ---------------------------------------------------------------------------
# Comparisons and logic (boolean outputs, not differentiable)

_BOOL = np.dtype(bool)


def _cmp(name, impl):
    p = standard_binop(name, impl, out_dtype=_BOOL)
    defjvp_zero(p)
    return p


eq_p = _cmp("eq", np.equal)
optimize.def_commutative(eq_p)
codegen.def_operator(eq_p, "==", "equal")
ne_p = _cmp("ne", np.not_equal)
optimize.def_commutative(ne_p)
codegen.def_operator(ne_p, "!=", "not_equal")
lt_p = _cmp("lt", np.less)
codegen.def_operator(lt_p, "<", "less")
le_p = _cmp("le", np.less_equal)
codegen.def_operator(le_p, "<=", "less_equal")
gt_p = _cmp("gt", np.greater)
codegen.def_operator(gt_p, ">", "greater")
ge_p = _cmp("ge", np.greater_equal)
codegen.def_operator(ge_p, ">=", "greater_equal")


def eq(x, y):
    """Elementwise ``x == y`` as a boolean array; same shape and dtype required, not differentiable
    (zero tangent), as ``jax.lax.eq``.
    """
    return bind(eq_p, x, y)


def ne(x, y):
    """Elementwise ``x != y`` as a boolean array; same shape and dtype required, not differentiable
    (zero tangent), as ``jax.lax.ne``.
    """
    return bind(ne_p, x, y)


def lt(x, y):
    """Elementwise ``x < y`` as a boolean array; same shape and dtype required, not differentiable
    (zero tangent), as ``jax.lax.lt``.
    """
    return bind(lt_p, x, y)


def le(x, y):
    """Elementwise ``x <= y`` as a boolean array; same shape and dtype required, not differentiable
    (zero tangent), as ``jax.lax.le``.
    """
    return bind(le_p, x, y)


def gt(x, y):
    """Elementwise ``x > y`` as a boolean array; same shape and dtype required, not differentiable
    (zero tangent), as ``jax.lax.gt``.
    """
    return bind(gt_p, x, y)


def ge(x, y):
    """Elementwise ``x >= y`` as a boolean array; same shape and dtype required, not differentiable
    (zero tangent), as ``jax.lax.ge``.
    """
    return bind(ge_p, x, y)


def _logical_binop(name, impl):
    p = new_primitive(name)
    p.def_impl(impl)
    p.def_abstract_eval(_binop_abstract_eval(name))
    def_strict(p, _same_dtype_shape)
    defjvp_zero(p)
    defbroadcasting(p)
    return p


# Bitwise, as in lax (logical on booleans): the output dtype is the input's.
and_p = _logical_binop("and", np.bitwise_and)
optimize.def_commutative(and_p)
codegen.def_operator(and_p, "&", "bitwise_and")
or_p = _logical_binop("or", np.bitwise_or)
optimize.def_commutative(or_p)
codegen.def_operator(or_p, "|", "bitwise_or")
xor_p = _logical_binop("xor", np.bitwise_xor)
optimize.def_commutative(xor_p)
codegen.def_operator(xor_p, "^", "bitwise_xor")
not_p = standard_unop("not", np.invert, float_only=False)
codegen.def_emitter(not_p, codegen.emit_not, scalar=codegen.emit_py_not, impl=np.invert,
                    literal_ok=True)
defjvp_zero(not_p)
is_finite_p = new_primitive("is_finite")
codegen.def_ufunc(is_finite_p, "isfinite", math="isfinite", probe=(-1e300, 1e300))
is_finite_p.def_impl(np.isfinite)
is_finite_p.def_abstract_eval(lambda x: shaped(x.shape, _BOOL))
defjvp_zero(is_finite_p)
defvectorized(is_finite_p)


def bitwise_and(x, y):
    """Elementwise bitwise AND; ``x`` and ``y`` must have the same shape and dtype (no
    broadcasting, no promotion), as ``jax.lax.bitwise_and``.
    """
    return bind(and_p, x, y)


def bitwise_or(x, y):
    """Elementwise bitwise OR; ``x`` and ``y`` must have the same shape and dtype (no broadcasting,
    no promotion), as ``jax.lax.bitwise_or``.
    """
    return bind(or_p, x, y)


def bitwise_xor(x, y):
    """Elementwise bitwise XOR; ``x`` and ``y`` must have the same shape and dtype (no
    broadcasting, no promotion), as ``jax.lax.bitwise_xor``.
    """
    return bind(xor_p, x, y)


def bitwise_not(x):
    """Elementwise bitwise NOT of an integer or boolean array: strict (no broadcasting, no
    promotion), as ``jax.lax.bitwise_not``.
    """
    return bind(not_p, x)


def is_finite(x):
    """Elementwise test for finite values (boolean, not differentiable): strict (no broadcasting,
    no promotion), as ``jax.lax.is_finite``.
    """
    return bind(is_finite_p, x)


# ---------------------------------------------------------------------------
# select_n: pick from cases by an integer or boolean predicate


def select_n(which, *cases):
    """Elementwise choice: ``cases[which]``; a boolean ``which`` picks ``cases[1]`` where true, as
    ``jax.lax.select_n``.
    """
    return bind(select_n_p, which, *cases)


def _select_n_impl(which, *cases):
    if len(cases) == 1:
        return cases[0]
    if len(cases) == 2:
        return np.where(which, cases[1], cases[0])
    return np.choose(np.asarray(which, dtype=np.intp), cases)


def _select_n_abstract_eval(which, *cases):
    if not cases:
        raise TypeError("select_n needs at least one case")
    _check_same_dtype("select_n", *cases)
    shape = cases[0].shape
    for c in cases[1:]:
        if c.shape != shape:
            raise TypeError(
                f"select_n cases must have one shape, got {[c.str_short() for c in cases]}")
    if which.shape and which.shape != shape:
        raise TypeError(f"select_n predicate {which.str_short()} does not match cases {shape}")
    if which.dtype != _BOOL and not np.issubdtype(which.dtype, np.integer):
        raise TypeError("select_n predicate must be boolean or integer")
    return cases[0].strip_weak_type()


def _select_n_jvp(primals, tangents):
    which, *cases = primals
    ans = select_n(which, *cases)
    tcases = tangents[1:]
    if all(type(t) is Zero for t in tcases):
        return ans, Zero.from_value(ans)
    return ans, select_n(which, *[instantiate(t) for t in tcases])


def _select_n_transpose(ct, which, *cases):
    if is_undefined(which):
        raise TypeError("select_n is not linear in its predicate")
    zeros = np.zeros(_aval(ct).shape, _aval(ct).dtype)
    out = [None]
    for i, c in enumerate(cases):
        if is_undefined(c):
            out.append(select_n(which, *[ct if j == i else zeros for j in range(len(cases))]))
        else:
            out.append(None)
    return out


def _select_n_forward(eqn, invars, producer):
    cases = invars[1:]
    first = cases[0]
    if all(c is first for c in cases) and optimize.same(first, eqn.outvars[0].aval):
        return first
    return None


select_n_p = new_primitive("select_n")
optimize.def_forwarding(select_n_p, _select_n_forward)
codegen.def_emitter(select_n_p, codegen.emit_select_n, scalar=codegen.emit_py_select_n,
                    elementwise_op=True)
select_n_p.def_impl(_select_n_impl)
select_n_p.def_abstract_eval(_select_n_abstract_eval)
def_strict(select_n_p)
jvp_rules[select_n_p] = _select_n_jvp
deftranspose(select_n_p, _select_n_transpose)
defbroadcasting(select_n_p, scalar_ok=lambda i: i == 0)  # only the predicate may be 0-d

# ---------------------------------------------------------------------------
# Type conversion


def convert_element_type(x, new_dtype):
    """``x`` cast to ``new_dtype`` (complex to real keeps the real part), as
    ``jax.lax.convert_element_type``.
    """
    new_dtype = np.dtype(new_dtype)
    if _aval(x).dtype == new_dtype:
        return x
    return bind(convert_element_type_p, x, new_dtype=new_dtype)


def _convert_impl(x, *, new_dtype):
    x = np.asarray(x)
    if np.issubdtype(x.dtype, np.complexfloating) and not np.issubdtype(
            new_dtype, np.complexfloating):
        x = x.real  # complex -> real keeps the real part (NumPy would warn)
    out = x.astype(new_dtype)
    return out[()] if out.ndim == 0 else out


def _convert_jvp(primals, tangents, *, new_dtype):
    (x,), (t,) = primals, tangents
    ans = bind(convert_element_type_p, x, new_dtype=new_dtype)
    # Integers and booleans have no tangent space: converting to or from them
    # carries no derivative (linearize hands integer inputs tangent tracers).
    if type(t) is Zero or not np.issubdtype(new_dtype, np.inexact) \
            or not np.issubdtype(_aval(x).dtype, np.inexact):
        return ans, Zero.from_value(ans)
    return ans, bind(convert_element_type_p, t, new_dtype=new_dtype)


def _convert_transpose(ct, x, *, new_dtype):
    old = x.aval.dtype
    if np.issubdtype(new_dtype, np.complexfloating) and not np.issubdtype(old, np.complexfloating):
        ct = real(ct)
    return [bind(convert_element_type_p, ct, new_dtype=old)]


def _convert_forward(eqn, invars, producer):
    x = invars[0]
    # A literal stays converted: its Python type would otherwise leak through.
    return x if optimize.same(x, eqn.outvars[0].aval) and type(x) is not Literal else None


convert_element_type_p = new_primitive("convert_element_type")
optimize.def_forwarding(convert_element_type_p, _convert_forward)
codegen.def_emitter(convert_element_type_p, scalar=codegen.emit_py_convert)
convert_element_type_p.def_impl(_convert_impl)
convert_element_type_p.def_abstract_eval(lambda x, *, new_dtype: shaped(x.shape, new_dtype))
jvp_rules[convert_element_type_p] = _convert_jvp
deftranspose(convert_element_type_p, _convert_transpose)
defvectorized(convert_element_type_p)
onehot_rules[convert_element_type_p] = onehot_scaling(
    lambda scale, *, new_dtype: np.asarray(_convert_impl(scale, new_dtype=new_dtype)))


def real(x):
    """Elementwise real part of a complex array (linear): strict (no broadcasting, no promotion),
    as ``jax.lax.real``.
    """
    return bind(real_p, x)


def _real_abstract_eval(x):
    return shaped(x.shape, np.empty((), x.dtype).real.dtype)


real_p = new_primitive("real")
codegen.def_ufunc(real_p, "real")
codegen.def_alias(real_p, array=False)  # the scalar form's values are real
real_p.def_impl(np.real)
real_p.def_abstract_eval(_real_abstract_eval)
deflinear(real_p, lambda ct, x: [convert_element_type(ct, x.aval.dtype)])
defvectorized(real_p)


def conj(x):
    """Elementwise complex conjugate (linear; the identity on real input): strict (no broadcasting,
    no promotion), as ``jax.lax.conj``.
    """
    return bind(conj_p, x)


conj_p = new_primitive("conj")
codegen.def_ufunc(conj_p, "conj")
codegen.def_alias(conj_p, array=False)
conj_p.def_impl(np.conjugate)
conj_p.def_abstract_eval(lambda x: x)
deflinear(conj_p, lambda ct, x: [conj(ct)])
defvectorized(conj_p)


def imag(x):
    """Elementwise imaginary part of a complex array (linear): strict (no broadcasting, no
    promotion), as ``jax.lax.imag``.
    """
    return bind(imag_p, x)


def _imag_abstract_eval(x):
    if not np.issubdtype(x.dtype, np.complexfloating):
        raise TypeError(f"lax.imag requires a complex input, got {x.dtype.name} (the "
                        "imaginary part of a real array is zero)")
    return shaped(x.shape, np.finfo(x.dtype).dtype)


def _imag_transpose(ct, x):
    # Re(ct_x * x) == ct * imag(x) for ct_x = -i * ct (JAX's complex(0, -ct)).
    return [mul(convert_element_type(neg(ct), x.aval.dtype), _c(x, 1j))]


imag_p = new_primitive("imag")
imag_p.def_impl(np.imag)
imag_p.def_abstract_eval(_imag_abstract_eval)
def_strict(imag_p)
deflinear(imag_p, _imag_transpose)
defvectorized(imag_p)


def complex(x, y):  # noqa: A001 - the lax name
    """``x + 1j * y`` from real and imaginary parts of one floating dtype."""
    return bind(complex_p, x, y)


def _complex_impl(x, y):
    x, y = np.asarray(x), np.asarray(y)
    # Filled part by part: x + 1j * y would turn an infinite y into nan + inf j.
    out = np.empty(np.broadcast_shapes(x.shape, y.shape), np.result_type(x, np.complex64))
    out.real, out.imag = x, y
    return out[()] if out.ndim == 0 else out


def _complex_abstract_eval(x, y):
    _check_same_dtype("complex", x, y)
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"lax.complex requires real floating-point parts, got {x.dtype.name}")
    return shaped(_binop_shape("complex", x, y), np.result_type(x.dtype, np.complex64))


def _complex_transpose(ct, x, y):
    # Re(ct * (x + i y)) == Re(ct) x - Im(ct) y.
    return [_unbcast(real(ct), _aval(x)) if is_undefined(x) else None,
            _unbcast(neg(imag(ct)), _aval(y)) if is_undefined(y) else None]


complex_p = new_primitive("complex")
complex_p.def_impl(_complex_impl)
complex_p.def_abstract_eval(_complex_abstract_eval)
def_strict(complex_p)
deflinear(complex_p, _complex_transpose)
defbroadcasting(complex_p)


def bitcast_convert_type(x, new_dtype):
    """The bits of ``x`` reinterpreted as ``new_dtype`` (of the same width),
    e.g. the sign bit of a float (``signbit``), NaNs included."""
    return bind(bitcast_convert_type_p, x, new_dtype=np.dtype(new_dtype))


def _bitcast_impl(x, *, new_dtype):
    out = np.asarray(x).view(new_dtype)
    return out[()] if out.ndim == 0 else out


def _bitcast_abstract_eval(x, *, new_dtype):
    if x.dtype.itemsize != new_dtype.itemsize:
        raise TypeError(f"lax.bitcast_convert_type: {x.dtype.name} and {new_dtype.name} "
                        "differ in width")
    return shaped(x.shape, new_dtype)


bitcast_convert_type_p = new_primitive("bitcast_convert_type")
bitcast_convert_type_p.def_impl(_bitcast_impl)
bitcast_convert_type_p.def_abstract_eval(_bitcast_abstract_eval)
def_strict(bitcast_convert_type_p)
defjvp_zero(bitcast_convert_type_p)
defvectorized(bitcast_convert_type_p)


# ---------------------------------------------------------------------------
# stop_gradient


def stop_gradient_prim(x):
    """Bind the ``stop_gradient`` primitive: the identity with a zero tangent
    (``fxad.stop_gradient`` maps it over a pytree).
    """
    return bind(stop_gradient_p, x)


def _stop_gradient_jvp(primals, tangents):
    ans = stop_gradient_prim(primals[0])
    return ans, Zero.from_value(ans)


stop_gradient_p = new_primitive("stop_gradient")
codegen.def_alias(stop_gradient_p)
stop_gradient_p.def_impl(lambda x: x)
stop_gradient_p.def_abstract_eval(lambda x: x)
jvp_rules[stop_gradient_p] = _stop_gradient_jvp
defvectorized(stop_gradient_p)


# ---------------------------------------------------------------------------
# Reductions


def _check_axes(name, aval, axes):
    for a in axes:
        if not 0 <= a < aval.ndim:
            raise ValueError(f"lax.{name}: axis {a} out of range for {aval.str_short()}")
    if len(set(axes)) != len(axes):
        raise ValueError(f"lax.{name}: repeated axis in {axes}")


def _reduce_abstract_eval(name):
    def abstract_eval(x, *, axes):
        _check_axes(name, x, axes)
        shape = tuple(d for i, d in enumerate(x.shape) if i not in axes)
        return shaped(shape, x.dtype)

    return abstract_eval


def _kept_dims(ndim, axes):
    return tuple(i for i in range(ndim) if i not in axes)


def reduce_sum(x, axes):
    """Sum over the tuple of axes ``axes``, as ``jax.lax.reduce_sum``."""
    axes = tuple(axes)
    if not axes:
        return x
    return bind(reduce_sum_p, x, axes=axes)


def _reduce_sum_impl(x, *, axes):
    return np.sum(x, axis=axes, dtype=np.result_type(x))


def _reduce_sum_transpose(ct, x, *, axes):
    shape = x.aval.shape
    return [broadcast_in_dim(ct, shape, _kept_dims(len(shape), axes))]


reduce_sum_p = new_primitive("reduce_sum")
optimize.def_forwarding(reduce_sum_p, _no_axes)
codegen.def_emitter(reduce_sum_p, codegen.reduction_emitter("sum", True))
reduce_sum_p.def_impl(_reduce_sum_impl)
reduce_sum_p.def_abstract_eval(_reduce_abstract_eval("reduce_sum"))
def_strict(reduce_sum_p)
deflinear(reduce_sum_p, _reduce_sum_transpose)
defreducer(reduce_sum_p)


def _reduce_sum_onehot(args, dims, *, axes):
    # Over every axis of an example: example b is its one nonzero element.
    (x,) = args
    if sorted(axes) != list(range(x.scale.ndim)):
        return None
    return x.rows(np.asarray(x.scale).reshape(x.scale.size)), 0


onehot_rules[reduce_sum_p] = _reduce_sum_onehot


def _reduce_chooser_jvp(prim):
    # The derivative flows to the locations of the extremum, shared equally
    # among ties (JAX's convention).
    def rule(primals, tangents, *, axes):
        (x,), (t,) = primals, tangents
        ans = bind(prim, x, axes=axes)
        shape = _aval(x).shape
        loc = convert_element_type(
            eq(x, broadcast_in_dim(ans, shape, _kept_dims(len(shape), axes))), _aval(x).dtype)
        counts = reduce_sum(loc, axes)
        return ans, div(reduce_sum(mul(t, loc), axes), counts)

    return rule


def reduce_max(x, axes):
    """Maximum over the tuple of axes ``axes`` (the cotangent is split evenly among ties), as
    ``jax.lax.reduce_max``.
    """
    axes = tuple(axes)
    return bind(reduce_max_p, x, axes=axes) if axes else x


def reduce_min(x, axes):
    """Minimum over the tuple of axes ``axes`` (the cotangent is split evenly among ties), as
    ``jax.lax.reduce_min``.
    """
    axes = tuple(axes)
    return bind(reduce_min_p, x, axes=axes) if axes else x


def _reduce_identity(dtype, is_max):
    """The identity of max/min, which an empty reduction returns (lax's)."""
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return info.min if is_max else info.max
    if dtype == np.dtype(bool):
        return not is_max
    return -np.inf if is_max else np.inf


def _reduce_max_impl(x, *, axes):
    if np.size(x) == 0:
        return np.max(x, axis=axes, initial=_reduce_identity(np.result_type(x), True))
    return np.max(x, axis=axes)


def _reduce_min_impl(x, *, axes):
    if np.size(x) == 0:
        return np.min(x, axis=axes, initial=_reduce_identity(np.result_type(x), False))
    return np.min(x, axis=axes)


reduce_max_p = new_primitive("reduce_max")
optimize.def_forwarding(reduce_max_p, _no_axes)
codegen.def_emitter(reduce_max_p, codegen.reduction_emitter("max", False))
reduce_max_p.def_impl(_reduce_max_impl)
reduce_max_p.def_abstract_eval(_reduce_abstract_eval("reduce_max"))
def_strict(reduce_max_p)
jvp_rules[reduce_max_p] = _reduce_chooser_jvp(reduce_max_p)
defreducer(reduce_max_p)
reduce_min_p = new_primitive("reduce_min")
optimize.def_forwarding(reduce_min_p, _no_axes)
codegen.def_emitter(reduce_min_p, codegen.reduction_emitter("min", False))
reduce_min_p.def_impl(_reduce_min_impl)
reduce_min_p.def_abstract_eval(_reduce_abstract_eval("reduce_min"))
def_strict(reduce_min_p)
jvp_rules[reduce_min_p] = _reduce_chooser_jvp(reduce_min_p)
defreducer(reduce_min_p)


def reduce_prod(x, axes):
    """Product over the tuple of axes ``axes``, as ``jax.lax.reduce_prod``."""
    axes = tuple(axes)
    return bind(reduce_prod_p, x, axes=axes) if axes else x


def _reduce_prod_impl(x, *, axes):
    return np.prod(x, axis=axes, dtype=np.result_type(x))


def _reduce_prod_jvp(primals, tangents, *, axes):
    # d prod = sum_i t_i * prod_{j != i} x_j, computed as JAX does: the product
    # is taken pairwise (a balanced tree of muls over the reduced elements)
    # carrying the tangent through the product rule.  There is no division, so
    # zeros in x are handled exactly, and the rule is built from differentiable
    # primitives, so higher derivatives (at zeros too) are right as well.
    (x,), (t,) = primals, tangents
    ans = reduce_prod(x, axes)
    xa = _aval(x)
    kept = _kept_dims(xa.ndim, axes)
    out_shape = tuple(xa.shape[d] for d in kept)
    n = int(np.prod([xa.shape[a] for a in axes], dtype=np.int64))
    m = int(np.prod(out_shape, dtype=np.int64))
    if n == 0:
        return ans, Zero.from_value(ans)
    perm = tuple(axes) + kept
    x = reshape(transpose(x, perm), (n, m))
    t = reshape(transpose(t, perm), (n, m))
    while n > 1:
        if n % 2:
            x = pad(x, _c(x, 1), ((0, 1, 0), (0, 0, 0)))
            t = pad(t, _c(t, 0), ((0, 1, 0), (0, 0, 0)))
            n += 1
        h = n // 2
        x0, x1 = slice(x, (0, 0), (h, m)), slice(x, (h, 0), (n, m))
        t0, t1 = slice(t, (0, 0), (h, m)), slice(t, (h, 0), (n, m))
        t = add(mul(t0, x1), mul(x0, t1))
        x = mul(x0, x1)
        n = h
    return ans, reshape(t, out_shape)


reduce_prod_p = new_primitive("reduce_prod")
optimize.def_forwarding(reduce_prod_p, _no_axes)
codegen.def_emitter(reduce_prod_p, codegen.reduction_emitter("prod", True))
reduce_prod_p.def_impl(_reduce_prod_impl)
reduce_prod_p.def_abstract_eval(_reduce_abstract_eval("reduce_prod"))
def_strict(reduce_prod_p)
jvp_rules[reduce_prod_p] = _reduce_prod_jvp
defreducer(reduce_prod_p)


def argmax(x, axis, index_dtype=np.int64):
    """Index of the largest element along ``axis`` (first on ties), of dtype ``index_dtype``; not
    differentiable, as ``jax.lax.argmax``.
    """
    return bind(argmax_p, x, axes=(axis,), index_dtype=np.dtype(index_dtype))


def argmin(x, axis, index_dtype=np.int64):
    """Index of the smallest element along ``axis`` (first on ties), of dtype ``index_dtype``; not
    differentiable, as ``jax.lax.argmin``.
    """
    return bind(argmin_p, x, axes=(axis,), index_dtype=np.dtype(index_dtype))


def _arg_abstract_eval(x, *, axes, index_dtype):
    _check_axes("argmax", x, axes)
    return shaped(tuple(d for i, d in enumerate(x.shape) if i not in axes), index_dtype)


argmax_p = new_primitive("argmax")
argmax_p.def_impl(lambda x, *, axes, index_dtype: np.argmax(x, axis=axes[0]).astype(index_dtype))
argmax_p.def_abstract_eval(_arg_abstract_eval)
def_strict(argmax_p)
defjvp_zero(argmax_p)
defreducer(argmax_p)
argmin_p = new_primitive("argmin")
argmin_p.def_impl(lambda x, *, axes, index_dtype: np.argmin(x, axis=axes[0]).astype(index_dtype))
argmin_p.def_abstract_eval(_arg_abstract_eval)
def_strict(argmin_p)
defjvp_zero(argmin_p)
defreducer(argmin_p)


def cumsum(x, axis, reverse=False):
    """Cumulative sum along ``axis`` (from the end if ``reverse``), as ``jax.lax.cumsum``."""
    return bind(cumsum_p, x, axis=axis, reverse=reverse)


def _cumsum_impl(x, *, axis, reverse):
    if reverse:
        return np.flip(np.cumsum(np.flip(x, axis), axis=axis, dtype=np.result_type(x)), axis)
    return np.cumsum(x, axis=axis, dtype=np.result_type(x))


def _cumsum_abstract_eval(x, *, axis, reverse):
    _check_axes("cumsum", x, (axis,))
    return x.strip_weak_type()


cumsum_p = new_primitive("cumsum")
cumsum_p.def_impl(_cumsum_impl)
cumsum_p.def_abstract_eval(_cumsum_abstract_eval)
def_strict(cumsum_p)
deflinear(cumsum_p, lambda ct, x, *, axis, reverse: [cumsum(ct, axis, not reverse)])
defreducer(cumsum_p, "axis")


# ---------------------------------------------------------------------------
# cumprod, cummax, cummin: the impl gives NumPy's values; the JVP is a prefix
# scan (Hillis-Steele, log2(n) levels of slices) over (value, tangent) pairs,
# as JAX's cumulative JVP rule: no division by x, so zeros are exact, and the
# scan is made of differentiable primitives, so every order is exact too.


def cumprod(x, axis, reverse=False):
    """Cumulative product along ``axis`` (from the end if ``reverse``), as ``jax.lax.cumprod``."""
    return bind(cumprod_p, x, axis=axis, reverse=reverse)


def cummax(x, axis, reverse=False):
    """Cumulative maximum along ``axis`` (from the end if ``reverse``), as ``jax.lax.cummax``."""
    return bind(cummax_p, x, axis=axis, reverse=reverse)


def cummin(x, axis, reverse=False):
    """Cumulative minimum along ``axis`` (from the end if ``reverse``), as ``jax.lax.cummin``."""
    return bind(cummin_p, x, axis=axis, reverse=reverse)


def _slice_axis(x, start, stop, axis):
    shape = _aval(x).shape
    lo, hi = [0] * len(shape), list(shape)
    lo[axis], hi[axis] = start, stop
    return slice(x, lo, hi)


def _prefix_scan(combine, xs, axis, reverse):
    """Inclusive scan of the arrays ``xs`` (scanned jointly) along ``axis``:
    ``combine(earlier, later)`` takes and returns lists like ``xs``."""
    if reverse:
        xs = [rev(x, (axis,)) for x in xs]
    n = _aval(xs[0]).shape[axis]
    s = 1
    while s < n:
        new = combine([_slice_axis(x, 0, n - s, axis) for x in xs],
                      [_slice_axis(x, s, n, axis) for x in xs])
        xs = [concatenate([_slice_axis(x, 0, s, axis), y], axis) for x, y in zip(xs, new)]
        s *= 2
    if reverse:
        xs = [rev(x, (axis,)) for x in xs]
    return xs


def _mul_pairs(a, b):
    (x, tx), (y, ty) = a, b
    return [mul(x, y), add(mul(tx, y), mul(x, ty))]


def _extremum_pairs(op):
    def combine(a, b):
        (x, tx), (y, ty) = a, b
        z = op(x, y)  # ties share the tangent, as for max and min
        return [z, add(mul(tx, _balanced_eq(x, z, y)), mul(ty, _balanced_eq(y, z, x)))]

    return combine


def _cumulative_impl(np_fn):
    def impl(x, *, axis, reverse):
        x = np.asarray(x)
        if reverse:
            return np.flip(np_fn(np.flip(x, axis), axis), axis)
        return np_fn(x, axis)

    return impl


def _cumulative(name, np_fn, combine):
    p = new_primitive(name)
    p.def_impl(_cumulative_impl(np_fn))
    p.def_abstract_eval(_cumsum_abstract_eval)
    def_strict(p)
    defjvp(p, lambda t, x, *, axis, reverse: _prefix_scan(combine, [x, t], axis, reverse)[1])
    defreducer(p, "axis")
    return p


cumprod_p = _cumulative("cumprod", lambda x, a: np.cumprod(x, a, dtype=x.dtype), _mul_pairs)
cummax_p = _cumulative("cummax", lambda x, a: np.maximum.accumulate(x, a), _extremum_pairs(max))
cummin_p = _cumulative("cummin", lambda x, a: np.minimum.accumulate(x, a), _extremum_pairs(min))

# ---------------------------------------------------------------------------
# sort: operands sorted together (stably) along ``dimension`` by the first
# ``num_keys`` of them, as lax.sort.  The JVP sorts an iota along with the
# operands and gathers the tangents with the permutation it comes back as.


def sort(operands, dimension=-1, is_stable=True, num_keys=1):
    """Sort the tuple ``operands`` along ``dimension`` by its first ``num_keys`` arrays
    (lexicographically), returning every operand permuted, as ``jax.lax.sort``.
    """
    operands = tuple(operands)
    nd = _aval(operands[0]).ndim
    if nd:
        dimension = dimension % nd
    return bind(sort_p, *operands, dimension=int(dimension), is_stable=bool(is_stable),
                num_keys=int(num_keys))


def _sort_permutation(keys, dimension):
    if len(keys) == 1:
        return np.argsort(keys[0], axis=dimension, kind="stable")
    moved = [np.moveaxis(np.asarray(k), dimension, -1) for k in keys]
    return np.moveaxis(np.lexsort(moved[::-1], axis=-1), -1, dimension)  # last key first


def _sort_impl(*operands, dimension, is_stable, num_keys):
    perm = _sort_permutation(operands[:num_keys], dimension)
    return [np.take_along_axis(np.asarray(x), perm, axis=dimension) for x in operands]


def _sort_abstract_eval(*operands, dimension, is_stable, num_keys):
    shape = operands[0].shape
    if any(x.shape != shape for x in operands):
        raise TypeError(f"sort: operands must have one shape, got "
                        f"{[x.str_short() for x in operands]}")
    if not 0 <= dimension < len(shape):
        raise TypeError(f"sort: dimension {dimension} out of range for {operands[0].str_short()}")
    if not 1 <= num_keys <= len(operands):
        raise TypeError(f"sort: num_keys {num_keys} out of range")
    return [x.strip_weak_type() for x in operands]


def _iota(shape, dimension, dtype=np.int64):
    """0, 1, 2, ... along ``dimension``, broadcast to ``shape`` (a constant)."""
    bshape = tuple(n if d == dimension else 1 for d, n in enumerate(shape))
    return np.broadcast_to(np.arange(shape[dimension], dtype=dtype).reshape(bshape), shape)


def _take_along_axis(x, indices, axis):
    """``numpy.take_along_axis`` for equal shapes, as one gather."""
    shape = _aval(indices).shape
    arrays = [indices if d == axis else
              np.arange(n).reshape(tuple(n if i == d else 1 for i in range(len(shape))))
              for d, n in enumerate(shape)]
    return gather(x, arrays, tuple(("a", d) for d in range(len(shape))))


def _sort_jvp(primals, tangents, *, dimension, is_stable, num_keys):
    iota = _iota(_aval(primals[0]).shape, dimension)
    *outs, perm = sort(tuple(primals) + (iota,), dimension, is_stable, num_keys)
    t_out = [Zero.from_value(o) if type(t) is Zero else _take_along_axis(t, perm, dimension)
             for o, t in zip(outs, tangents)]
    return outs, t_out


def _sort_batch(args, dims, *, dimension, is_stable, num_keys):
    size = _axis_size(args, dims)
    xs = [bdim_at_front(x, d, size) for x, d in zip(args, dims)]
    return sort(xs, dimension + 1, is_stable, num_keys), [0] * len(xs)


sort_p = new_primitive("sort", multiple_results=True)
sort_p.def_impl(_sort_impl)
sort_p.def_abstract_eval(_sort_abstract_eval)
def_strict(sort_p)
jvp_rules[sort_p] = _sort_jvp
batch_rules[sort_p] = _sort_batch

# ---------------------------------------------------------------------------
# Shape operations (all linear)


def broadcast_in_dim(x, shape, broadcast_dimensions):
    """Broadcast ``x`` to ``shape``, input axis ``i`` becoming output axis
    ``broadcast_dimensions[i]``, as ``jax.lax.broadcast_in_dim``.
    """
    shape = tuple(int(d) for d in shape)
    broadcast_dimensions = tuple(broadcast_dimensions)
    if _aval(x).shape == shape and broadcast_dimensions == tuple(range(len(shape))):
        return x
    return bind(broadcast_in_dim_p, x, shape=shape, broadcast_dimensions=broadcast_dimensions)


def _broadcast_in_dim_impl(x, *, shape, broadcast_dimensions):
    x = np.asarray(x)
    in_shape = [1] * len(shape)
    for i, d in enumerate(broadcast_dimensions):
        in_shape[d] = x.shape[i]
    return np.broadcast_to(x.reshape(in_shape), shape)


def _broadcast_in_dim_abstract_eval(x, *, shape, broadcast_dimensions):
    if len(broadcast_dimensions) != x.ndim:
        raise TypeError(
            f"broadcast_in_dim: broadcast_dimensions {broadcast_dimensions} must name one "
            f"output axis per operand axis of {x.str_short()}")
    for i, d in enumerate(broadcast_dimensions):
        if not 0 <= d < len(shape) or x.shape[i] not in (1, shape[d]):
            raise TypeError(
                f"broadcast_in_dim: operand {x.str_short()} cannot broadcast to {shape} "
                f"along {broadcast_dimensions}")
    if list(broadcast_dimensions) != sorted(broadcast_dimensions):
        raise TypeError("broadcast_in_dim: broadcast_dimensions must be increasing")
    return shaped(shape, x.dtype)


def _broadcast_in_dim_transpose(ct, x, *, shape, broadcast_dimensions):
    in_shape = x.aval.shape
    sum_axes = tuple(
        i for i in range(len(shape))
        if i not in broadcast_dimensions
        or in_shape[broadcast_dimensions.index(i)] != shape[i]
    )
    out = reduce_sum(ct, sum_axes)
    if _aval(out).shape != in_shape:
        out = reshape(out, in_shape)
    return [out]


def _broadcast_in_dim_compose(eqn, invars, producer):
    # A broadcast of a broadcast is one broadcast (pure data movement).
    p = producer.get(invars[0]) if type(invars[0]) is Var else None
    if p is None or p.primitive is not broadcast_in_dim_p:
        return None
    outer = tuple(eqn.params["broadcast_dimensions"])
    dims = tuple(outer[d] for d in p.params["broadcast_dimensions"])
    return JaxprEqn(eqn.primitive, [p.invars[0]], dict(eqn.params, broadcast_dimensions=dims),
                    eqn.outvars)


broadcast_in_dim_p = new_primitive("broadcast_in_dim")
optimize.def_forwarding(broadcast_in_dim_p, optimize.forward_operand_if(
    lambda e: tuple(e.params["broadcast_dimensions"]) == tuple(range(len(e.params["shape"])))))
optimize.def_compose(broadcast_in_dim_p, _broadcast_in_dim_compose)
optimize.def_scalar_broadcast(broadcast_in_dim_p,
                              lambda shape: {"shape": tuple(shape), "broadcast_dimensions": ()})
codegen.def_emitter(broadcast_in_dim_p, codegen.emit_broadcast_in_dim)
codegen.implicit_broadcasts[broadcast_in_dim_p] = codegen.broadcast_in_dim_operand_shape
broadcast_in_dim_p.def_impl(_broadcast_in_dim_impl)
broadcast_in_dim_p.def_abstract_eval(_broadcast_in_dim_abstract_eval)
def_strict(broadcast_in_dim_p)
deflinear(broadcast_in_dim_p, _broadcast_in_dim_transpose)


def _broadcast_in_dim_batch(args, dims, *, shape, broadcast_dimensions):
    (x,), (d,) = args, dims
    x = moveaxis(x, d, 0)
    size = get_aval(x).shape[0]
    return broadcast_in_dim(x, (size,) + shape,
                            (0,) + tuple(b + 1 for b in broadcast_dimensions)), 0


batch_rules[broadcast_in_dim_p] = _broadcast_in_dim_batch


def reshape(x, new_sizes):
    """``x`` reshaped to ``new_sizes`` in C order, as ``jax.lax.reshape``."""
    new_sizes = tuple(int(d) for d in new_sizes)
    if _aval(x).shape == new_sizes:
        return x
    return bind(reshape_p, x, new_sizes=new_sizes, dimensions=None)


def _reshape_abstract_eval(x, *, new_sizes, dimensions):
    if int(np.prod(new_sizes, dtype=np.int64)) != x.size:
        raise TypeError(f"reshape: cannot reshape {x.str_short()} to {new_sizes}")
    return shaped(new_sizes, x.dtype)


def _reshape_compose(eqn, invars, producer):
    p = producer.get(invars[0]) if type(invars[0]) is Var else None
    if p is None or p.primitive is not reshape_p or eqn.params.get("dimensions") is not None \
            or p.params.get("dimensions") is not None:
        return None
    return JaxprEqn(eqn.primitive, [p.invars[0]] + invars[1:], eqn.params, eqn.outvars)


reshape_p = new_primitive("reshape")
optimize.def_forwarding(reshape_p, optimize.forward_operand_if(
    lambda e: e.params.get("dimensions") is None))
optimize.def_compose(reshape_p, _reshape_compose)
codegen.def_emitter(reshape_p, codegen.emit_reshape)
reshape_p.def_impl(lambda x, *, new_sizes, dimensions: np.reshape(x, new_sizes))
reshape_p.def_abstract_eval(_reshape_abstract_eval)
def_strict(reshape_p)
deflinear(reshape_p, lambda ct, x, **_: [reshape(ct, x.aval.shape)])


def _reshape_batch(args, dims, *, new_sizes, dimensions):
    (x,), (d,) = args, dims
    x = moveaxis(x, d, 0)
    return reshape(x, (get_aval(x).shape[0],) + new_sizes), 0


batch_rules[reshape_p] = _reshape_batch
onehot_rules[reshape_p] = lambda args, dims, *, new_sizes, dimensions: (
    None if dimensions is not None else (args[0].like(args[0].scale.reshape(new_sizes)), 0))


def transpose(x, permutation):
    """Permute the axes of ``x`` by ``permutation``, as ``jax.lax.transpose``."""
    permutation = tuple(int(p) for p in permutation)
    if permutation == tuple(range(len(permutation))):
        return x
    return bind(transpose_p, x, permutation=permutation)


def _transpose_abstract_eval(x, *, permutation):
    if sorted(permutation) != list(range(x.ndim)):
        raise TypeError(f"transpose: {permutation} is not a permutation of {x.ndim} axes")
    return shaped(tuple(x.shape[p] for p in permutation), x.dtype)


transpose_p = new_primitive("transpose")
optimize.def_forwarding(transpose_p, optimize.forward_operand_if(
    lambda e: tuple(e.params["permutation"]) == tuple(range(len(e.params["permutation"])))))
codegen.def_emitter(transpose_p, codegen.emit_transpose)
transpose_p.def_impl(lambda x, *, permutation: np.transpose(x, permutation))
transpose_p.def_abstract_eval(_transpose_abstract_eval)
def_strict(transpose_p)
deflinear(transpose_p,
          lambda ct, x, *, permutation: [transpose(ct, tuple(np.argsort(permutation)))])


def _transpose_batch(args, dims, *, permutation):
    (x,), (d,) = args, dims
    x = moveaxis(x, d, 0)
    return transpose(x, (0,) + tuple(p + 1 for p in permutation)), 0


batch_rules[transpose_p] = _transpose_batch


def squeeze(x, dimensions):
    """Remove the size-1 axes ``dimensions``, as ``jax.lax.squeeze``."""
    dimensions = tuple(sorted(int(d) for d in dimensions))
    if not dimensions:
        return x
    return bind(squeeze_p, x, dimensions=dimensions)


def _squeeze_abstract_eval(x, *, dimensions):
    for d in dimensions:
        if not 0 <= d < x.ndim or x.shape[d] != 1:
            raise TypeError(f"squeeze: axis {d} of {x.str_short()} is not of size 1")
    return shaped(tuple(s for i, s in enumerate(x.shape) if i not in dimensions), x.dtype)


squeeze_p = new_primitive("squeeze")
optimize.def_forwarding(squeeze_p, _no_dimensions)
codegen.def_emitter(squeeze_p, codegen.axis_emitter("squeeze"))
squeeze_p.def_impl(lambda x, *, dimensions: np.squeeze(x, axis=dimensions))
squeeze_p.def_abstract_eval(_squeeze_abstract_eval)
def_strict(squeeze_p)
deflinear(squeeze_p, lambda ct, x, **_: [reshape(ct, x.aval.shape)])
defreducer(squeeze_p, "dimensions")


def expand_dims(x, dimensions):
    """Insert size-1 axes at ``dimensions``, as ``jax.lax.expand_dims``."""
    dimensions = tuple(sorted(int(d) for d in dimensions))
    if not dimensions:
        return x
    return bind(expand_dims_p, x, dimensions=dimensions)


def _expand_dims_abstract_eval(x, *, dimensions):
    shape = list(x.shape)
    n = x.ndim + len(dimensions)
    for d in dimensions:
        if not 0 <= d < n:
            raise TypeError(f"expand_dims: axis {d} out of range")
        shape.insert(d, 1)
    return shaped(tuple(shape), x.dtype)


expand_dims_p = new_primitive("expand_dims")
optimize.def_forwarding(expand_dims_p, _no_dimensions)
codegen.def_emitter(expand_dims_p, codegen.axis_emitter("expand_dims"))
expand_dims_p.def_impl(lambda x, *, dimensions: np.expand_dims(x, dimensions))
expand_dims_p.def_abstract_eval(_expand_dims_abstract_eval)
def_strict(expand_dims_p)
deflinear(expand_dims_p, lambda ct, x, **_: [reshape(ct, x.aval.shape)])
defreducer(expand_dims_p, "dimensions")


def rev(x, dimensions):
    """Reverse ``x`` along the axes ``dimensions``, as ``jax.lax.rev``."""
    dimensions = tuple(dimensions)
    if not dimensions:
        return x
    return bind(rev_p, x, dimensions=dimensions)


rev_p = new_primitive("rev")
optimize.def_forwarding(rev_p, _no_dimensions)
codegen.def_emitter(rev_p, codegen.axis_emitter("flip"))
rev_p.def_impl(lambda x, *, dimensions: np.flip(x, dimensions))
rev_p.def_abstract_eval(lambda x, *, dimensions: x.strip_weak_type())
deflinear(rev_p, lambda ct, x, *, dimensions: [rev(ct, dimensions)])
defreducer(rev_p, "dimensions")


def slice(x, start_indices, limit_indices, strides=None):  # noqa: A001 - the lax name
    """``x[start:limit:stride]`` along every axis, with static bounds, as ``jax.lax.slice``."""
    start_indices = tuple(int(i) for i in start_indices)
    limit_indices = tuple(int(i) for i in limit_indices)
    strides = None if strides is None else tuple(int(s) for s in strides)
    if strides is not None and all(s == 1 for s in strides):
        strides = None
    if start_indices == (0,) * len(start_indices) and limit_indices == _aval(x).shape \
            and strides is None:
        return x
    return bind(slice_p, x, start_indices=start_indices, limit_indices=limit_indices,
                strides=strides)


def _slice_impl(x, *, start_indices, limit_indices, strides):
    st = strides or (1,) * len(start_indices)
    return x[tuple(_builtin_slice(a, b, s) for a, b, s in zip(start_indices, limit_indices, st))]


_builtin_slice = __builtins__["slice"] if isinstance(__builtins__, dict) else __builtins__.slice


def _slice_abstract_eval(x, *, start_indices, limit_indices, strides):
    st = strides or (1,) * x.ndim
    if not len(start_indices) == len(limit_indices) == len(st) == x.ndim:
        raise TypeError("slice: one start, limit and stride per axis")
    shape = []
    for a, b, s, n in zip(start_indices, limit_indices, st, x.shape):
        if not 0 <= a <= b <= n or s < 1:
            raise TypeError(f"slice: bad bounds {a}:{b}:{s} for an axis of size {n}")
        shape.append((b - a + s - 1) // s)
    return shaped(tuple(shape), x.dtype)


def _slice_transpose(ct, x, *, start_indices, limit_indices, strides):
    shape = x.aval.shape
    st = strides or (1,) * len(shape)
    ct_shape = _aval(ct).shape
    config = []
    for a, s, n, m in zip(start_indices, st, shape, ct_shape):
        used = a + (m - 1) * s + 1 if m else a
        config.append((a, n - used, s - 1))
    return [pad(ct, _c(ct, 0), tuple(config))]


slice_p = new_primitive("slice")
codegen.def_emitter(slice_p, codegen.emit_slice)
slice_p.def_impl(_slice_impl)
slice_p.def_abstract_eval(_slice_abstract_eval)
def_strict(slice_p)
deflinear(slice_p, _slice_transpose)


def _slice_batch(args, dims, *, start_indices, limit_indices, strides):
    (x,), (d,) = args, dims
    x = moveaxis(x, d, 0)
    size = get_aval(x).shape[0]
    st = None if strides is None else (1,) + strides
    return slice(x, (0,) + start_indices, (size,) + limit_indices, st), 0


batch_rules[slice_p] = _slice_batch


def pad(x, padding_value, padding_config):
    """Pad ``x`` with the scalar ``padding_value``; ``padding_config`` holds one non-negative
    ``(low, high, interior)`` triple per axis, as ``jax.lax.pad`` (no negative cropping).
    """
    padding_config = tuple(tuple(int(v) for v in c) for c in padding_config)
    return bind(pad_p, x, padding_value, padding_config=padding_config)


def _pad_out_shape(shape, config):
    return tuple(lo + hi + n + builtins_max(n - 1, 0) * it
                 for n, (lo, hi, it) in zip(shape, config))


def builtins_max(a, b):
    """Python's ``max`` of two numbers (``lax.max`` shadows the builtin here)."""
    return a if a > b else b


def _pad_impl(x, padding_value, *, padding_config):
    x = np.asarray(x)
    out = np.full(_pad_out_shape(x.shape, padding_config), padding_value, dtype=x.dtype)
    idx = tuple(_builtin_slice(lo, lo + (n - 1) * (it + 1) + 1 if n else lo, it + 1)
                for n, (lo, hi, it) in zip(x.shape, padding_config))
    out[idx] = x
    return out


def _pad_abstract_eval(x, padding_value, *, padding_config):
    if len(padding_config) != x.ndim:
        raise TypeError("pad: one (lo, hi, interior) per axis")
    if padding_value.shape:
        raise TypeError("pad: padding_value must be 0-d")
    if any(v < 0 for c in padding_config for v in c):
        raise TypeError("pad: negative padding is not supported")
    _check_same_dtype("pad", x, padding_value)
    return shaped(_pad_out_shape(x.shape, padding_config), x.dtype)


def _pad_transpose(ct, x, padding_value, *, padding_config):
    shape = x.aval.shape if is_undefined(x) else _aval(x).shape
    start = tuple(lo for lo, hi, it in padding_config)
    limit = tuple(lo + (n - 1) * (it + 1) + 1 if n else lo
                  for n, (lo, hi, it) in zip(shape, padding_config))
    strides = tuple(it + 1 for lo, hi, it in padding_config)
    ct_x = slice(ct, start, limit, strides)
    ct_pad = None
    if is_undefined(padding_value):
        ct_pad = sub(reduce_sum(ct, tuple(range(_aval(ct).ndim))),
                     reduce_sum(ct_x, tuple(range(len(shape)))))
    return [ct_x if is_undefined(x) else None, ct_pad]


pad_p = new_primitive("pad")
pad_p.def_impl(_pad_impl)
pad_p.def_abstract_eval(_pad_abstract_eval)
def_strict(pad_p)
deflinear(pad_p, _pad_transpose)


def _pad_batch(args, dims, *, padding_config):
    (x, padval), (dx, dp) = args, dims
    if dp is not not_mapped:  # a batched padding value: one pad per example
        return loop_batch_rule(pad_p)(args, dims, padding_config=padding_config)
    x = moveaxis(x, dx, 0)
    return pad(x, padval, ((0, 0, 0),) + padding_config), 0


batch_rules[pad_p] = _pad_batch


def concatenate(operands, dimension):
    """Join the arrays ``operands`` (same dtype) along axis ``dimension``, as
    ``jax.lax.concatenate``.
    """
    operands = list(operands)
    if len(operands) == 1:
        return operands[0]
    return bind(concatenate_p, *operands, dimension=int(dimension))


def _concatenate_abstract_eval(*xs, dimension):
    _check_same_dtype("concatenate", *xs)
    nd = xs[0].ndim
    if not 0 <= dimension < nd:
        raise TypeError(f"concatenate: dimension {dimension} out of range")
    for x in xs:
        if x.ndim != nd or any(a != b for i, (a, b) in enumerate(zip(x.shape, xs[0].shape))
                               if i != dimension):
            raise TypeError(f"concatenate: shapes {[x.str_short() for x in xs]} do not match")
    shape = list(xs[0].shape)
    shape[dimension] = sum(x.shape[dimension] for x in xs)
    return shaped(tuple(shape), xs[0].dtype)


def _concatenate_transpose(ct, *xs, dimension):
    out = []
    start = 0
    ct_shape = _aval(ct).shape
    for x in xs:
        n = _aval(x).shape[dimension]
        if is_undefined(x):
            lo = [0] * len(ct_shape)
            hi = list(ct_shape)
            lo[dimension] = start
            hi[dimension] = start + n
            out.append(slice(ct, lo, hi))
        else:
            out.append(None)
        start += n
    return out


concatenate_p = new_primitive("concatenate")
codegen.def_emitter(concatenate_p, codegen.emit_concatenate)
concatenate_p.def_impl(lambda *xs, dimension: np.concatenate(xs, axis=dimension))
concatenate_p.def_abstract_eval(_concatenate_abstract_eval)
def_strict(concatenate_p)
deflinear(concatenate_p, _concatenate_transpose)


def _concatenate_batch(args, dims, *, dimension):
    size = _axis_size(args, dims)
    xs = [bdim_at_front(x, d, size) for x, d in zip(args, dims)]
    return concatenate(xs, dimension + 1), 0


batch_rules[concatenate_p] = _concatenate_batch

# ---------------------------------------------------------------------------
# gather and scatter-add: NumPy indexing as a primitive
#
# ``indexer`` is a static tuple with one entry per index position, after
# ``fxad.numpy`` has expanded Ellipsis and converted boolean masks:
#   ("s", start, stop, step)   a slice       ("i", k)   an integer
#   ("n",)                     np.newaxis    ("a", j)   the j-th index array
# Index arrays are operands after the array being indexed, so they may be
# traced (e.g. computed by argmax) while the indexer stays hashable.


_static_index_tuples: dict = {}  # indexer without index arrays -> its index tuple


def _index_tuple(indexer, arrays):
    if not arrays:
        t = _static_index_tuples.get(indexer)
        if t is None:
            if len(_static_index_tuples) >= _STRICT_MEMO_SIZE:
                _static_index_tuples.clear()
            t = _static_index_tuples[indexer] = _make_index_tuple(indexer, arrays)
        return t
    return _make_index_tuple(indexer, arrays)


def _make_index_tuple(indexer, arrays):
    out = []
    for e in indexer:
        k = e[0]
        if k == "s":
            out.append(_builtin_slice(e[1], e[2], e[3]))
        elif k == "i":
            out.append(e[1])
        elif k == "n":
            out.append(None)
        else:
            out.append(arrays[e[1]])
    return tuple(out)


def _dummy(shape, dtype=np.float64):
    return np.broadcast_to(np.zeros((), dtype), shape)


def gather(x, indices, indexer):
    """``x[index]`` where ``indexer`` describes the NumPy index expression and ``indices`` the
    integer index arrays it refers to (the primitive behind fxad.numpy indexing).
    """
    return bind(gather_p, x, *indices, indexer=indexer)


def _gather_impl(x, *arrays, indexer):
    return np.asarray(x)[_index_tuple(indexer, arrays)]


def _gather_abstract_eval(x, *arrays, indexer):
    for a in arrays:
        if not np.issubdtype(a.dtype, np.integer):
            raise TypeError(f"gather: index arrays must be integer, got {a.dtype.name}")
    key = (x.shape, tuple([a.shape for a in arrays]), indexer)
    shape = _gather_shapes.get(key)
    if shape is None:
        dummies = [_dummy(a.shape, np.intp) for a in arrays]
        try:
            shape = _dummy(x.shape)[_index_tuple(indexer, dummies)].shape
        except IndexError as e:
            raise IndexError(f"gather: {e} (indexing {x.str_short()})") from None
        if len(_gather_shapes) >= _STRICT_MEMO_SIZE:
            _gather_shapes.clear()
        _gather_shapes[key] = shape
    return shaped(shape, x.dtype)


_gather_shapes: dict = {}  # (operand shape, index array shapes, indexer) -> result shape


def _gather_jvp(primals, tangents, *, indexer):
    x, *arrays = primals
    ans = gather(x, arrays, indexer)
    if type(tangents[0]) is Zero:
        return ans, Zero.from_value(ans)
    return ans, gather(tangents[0], arrays, indexer)


def _gather_transpose(ct, x, *arrays, indexer):
    if any(is_undefined(a) for a in arrays):
        raise TypeError("gather is not linear in its indices")
    zeros = np.zeros(x.aval.shape, x.aval.dtype)
    return [scatter_add(zeros, ct, arrays, indexer)] + [None] * len(arrays)


gather_p = new_primitive("gather")
codegen.def_emitter(gather_p, codegen.emit_gather)
gather_p.def_impl(_gather_impl)
gather_p.def_abstract_eval(_gather_abstract_eval)
def_strict(gather_p)
jvp_rules[gather_p] = _gather_jvp
deftranspose(gather_p, _gather_transpose)


def _batched_indexer(indexer, size):
    """Prepend a full slice for the batch axis; return the new indexer and
    where the batch axis lands in the result (advanced indices separated by a
    slice move their broadcast axes to the front, as NumPy does)."""
    new = (("s", 0, size, 1),) + tuple(indexer)
    for e in indexer:
        if e[0] == "a":
            break
    else:  # no index arrays: the batch axis stays in front
        return new, 0
    kinds = [e[0] for e in new]
    arr_pos = [i for i, k in enumerate(kinds) if k in ("a", "i")]
    if not any(k == "a" for k in kinds):
        return new, 0
    contiguous = arr_pos == list(range(arr_pos[0], arr_pos[-1] + 1))
    if contiguous:
        return new, 0
    return new, None  # batch axis moves behind the broadcast index axes


def _gather_batch(args, dims, *, indexer):
    x, *arrays = args
    dx, *darrays = dims
    if any(d is not not_mapped for d in darrays):
        return _gather_batch_indices(x, dx, arrays, darrays, indexer,
                                     _axis_size(args, dims))
    x = moveaxis(x, dx, 0)
    new, out_dim = _batched_indexer(indexer, _shape(x)[0])
    if out_dim is None:
        shapes = [get_aval(a).shape for a in arrays]
        out_dim = len(np.broadcast_shapes(*shapes)) if shapes else 0
    return gather(x, arrays, new), out_dim


batch_rules[gather_p] = _gather_batch


def scatter_add(operand, updates, indices, indexer):
    """A copy of ``operand`` with ``updates`` added at the index ``indexer`` (repeated indices
    accumulate, as ``numpy.add.at``; ``.at[...].add``).
    """
    return bind(scatter_add_p, operand, updates, *indices, indexer=indexer)


def _scatter_add_impl(operand, updates, *arrays, indexer):
    # C order: ``out.reshape(-1)`` below must be a view, not a copy (a copy of
    # a transposed or broadcast operand keeps its layout, and the updates
    # would then go to a temporary).
    out = np.array(operand, copy=True, order="C")
    idx = _index_tuple(indexer, arrays)
    if not arrays:
        out[idx] += updates  # basic indexing never repeats an element
        return out
    # Advanced indexing may repeat elements: find each element's flat
    # position by indexing an arange the same way, then accumulate.
    pos = np.arange(out.size).reshape(out.shape)[idx].ravel()
    upd = np.broadcast_to(updates, np.shape(pos)).ravel() if np.ndim(updates) == 0 else \
        np.asarray(updates).ravel()
    flat = out.reshape(-1)
    if np.issubdtype(out.dtype, np.complexfloating):
        flat += (np.bincount(pos, upd.real, out.size)
                 + 1j * np.bincount(pos, upd.imag, out.size)).astype(out.dtype)
    elif np.issubdtype(out.dtype, np.floating):
        flat += np.bincount(pos, upd, out.size).astype(out.dtype)
    else:
        np.add.at(flat, pos, upd)
    return out


def _scatter_add_abstract_eval(operand, updates, *arrays, indexer):
    _check_same_dtype("scatter-add", operand, updates)
    expected = _gather_abstract_eval(operand, *arrays, indexer=indexer)
    if updates.shape != expected.shape:
        raise TypeError(
            f"scatter-add: updates {updates.str_short()} do not match the indexed "
            f"shape {expected.str_short()}")
    return operand.strip_weak_type()


def _scatter_add_jvp(primals, tangents, *, indexer):
    operand, updates, *arrays = primals
    t_op, t_up = tangents[0], tangents[1]
    ans = scatter_add(operand, updates, arrays, indexer)
    if type(t_op) is Zero and type(t_up) is Zero:
        return ans, Zero.from_value(ans)
    return ans, scatter_add(instantiate(t_op), instantiate(t_up), arrays, indexer)


def _scatter_add_transpose(ct, operand, updates, *arrays, indexer):
    return ([ct if is_undefined(operand) else None,
             gather(ct, arrays, indexer) if is_undefined(updates) else None]
            + [None] * len(arrays))


scatter_add_p = new_primitive("scatter-add")
scatter_add_p.def_impl(_scatter_add_impl)
scatter_add_p.def_abstract_eval(_scatter_add_abstract_eval)
def_strict(scatter_add_p)
jvp_rules[scatter_add_p] = _scatter_add_jvp
deftranspose(scatter_add_p, _scatter_add_transpose)


def _scatter_add_batch(args, dims, *, indexer):
    operand, updates, *arrays = args
    dop, dup, *darrays = dims
    if any(d is not not_mapped for d in darrays):
        return _scatter_batch(scatter_add_p, args, dims, indexer)
    size = _axis_size(args, dims)
    if dop is not_mapped and type(operand) is np.ndarray:
        # A shared concrete operand (the zeros of a gather's transpose): the
        # impl copies it anyway, so a filled copy costs no broadcast bind.
        full = np.empty((size,) + operand.shape, operand.dtype)
        full[...] = operand
        operand = full
    else:
        operand = bdim_at_front(operand, dop, size)
    new, upd_dim = _batched_indexer(indexer, size)
    if upd_dim is None:
        shapes = [get_aval(a).shape for a in arrays]
        upd_dim = len(np.broadcast_shapes(*shapes)) if shapes else 0
    updates = matchaxis(updates, dup, upd_dim, size)
    return scatter_add(operand, updates, arrays, new), 0


batch_rules[scatter_add_p] = _scatter_add_batch


def _batch_index_arrays(indexer, arrays, darrays, size):
    """Index arrays of which some carry a batch axis (vmap of ``x[i]`` with
    ``i`` batched): each gets the batch axis first (a unit axis when
    unmapped), all are padded to one rank, and an iota over the batch joins
    them to index the operand's leading batch axis.  Returns the new arrays
    and indexer, and ``layout(nd)``: the permutation that puts the axes of
    the new gather's result (of rank ``nd``) in one example's order, batch
    first (None when they are already)."""
    per = [get_aval(a).shape if d is not_mapped else
           get_aval(a).shape[:d] + get_aval(a).shape[d + 1:] for a, d in zip(arrays, darrays)]
    r = 0
    for s in per:
        r = builtins_max(r, len(s))
    new = []
    for a, d, s in zip(arrays, darrays, per):
        if d is not_mapped:
            new.append(reshape(a, (1,) * (r - len(s) + 1) + s))
        else:
            new.append(reshape(moveaxis(a, d, 0), (size,) + (1,) * (r - len(s)) + s))
    new.append(np.arange(size).reshape((size,) + (1,) * r))
    new_indexer = (("a", len(arrays)),) + tuple(indexer)
    adv = [i for i, e in enumerate(indexer) if e[0] in ("a", "i")]
    # One example's advanced indices, if adjacent but not first, put their
    # broadcast axes in place; with the iota in front they now go first.
    nb = adv[0] if adv == list(range(adv[0], adv[-1] + 1)) else 0

    def layout(nd):
        if not nb:
            return None
        return ((0,) + tuple(range(1 + r, 1 + r + nb)) + tuple(range(1, 1 + r))
                + tuple(range(1 + r + nb, nd)))

    return new, new_indexer, layout


def _gather_batch_indices(x, dx, arrays, darrays, indexer, size):
    x = bdim_at_front(x, dx, size)
    new, new_indexer, layout = _batch_index_arrays(indexer, arrays, darrays, size)
    out = gather(x, new, new_indexer)
    perm = layout(_aval(out).ndim)
    return (out if perm is None else transpose(out, perm)), 0


def _scatter_batch(prim, args, dims, indexer):
    operand, updates, *arrays = args
    dop, dup, *darrays = dims
    size = _axis_size(args, dims)
    operand = bdim_at_front(operand, dop, size)
    if any(d is not not_mapped for d in darrays):
        new, new_indexer, layout = _batch_index_arrays(indexer, arrays, darrays, size)
        updates = bdim_at_front(updates, dup, size)
        perm = layout(_aval(updates).ndim)
        if perm is not None:
            updates = transpose(updates, tuple(int(i) for i in np.argsort(perm)))
        return bind(prim, operand, updates, *new, indexer=new_indexer), 0
    new_indexer, upd_dim = _batched_indexer(indexer, size)
    if upd_dim is None:
        shapes = [get_aval(a).shape for a in arrays]
        upd_dim = len(np.broadcast_shapes(*shapes)) if shapes else 0
    updates = matchaxis(updates, dup, upd_dim, size)
    return bind(prim, operand, updates, *arrays, indexer=new_indexer), 0


def _scatter_batch_rule(prim):
    def rule(args, dims, *, indexer):
        return _scatter_batch(prim, args, dims, indexer)

    batch_rules[prim] = rule


# ---------------------------------------------------------------------------
# scatter, scatter-mul, scatter-min, scatter-max: indexed updates (``x.at[i]``)
#
# The operands are those of scatter-add.  The impls work on flat positions
# (the operand's element numbers, indexed like the operand), so repeated
# indices behave as in NumPy: ``scatter`` is NumPy's assignment (the last of
# repeated updates wins), the others accumulate like ``numpy.multiply.at``.


def scatter(operand, updates, indices, indexer):
    """A copy of ``operand`` with ``updates`` written at the index ``indexer`` (``.at[...].set``;
    the last of repeated indices wins).
    """
    return bind(scatter_p, operand, updates, *indices, indexer=indexer)


def scatter_mul(operand, updates, indices, indexer):
    """A copy of ``operand`` multiplied by ``updates`` at the index ``indexer``
    (``.at[...].multiply``; repeated indices accumulate).
    """
    return bind(scatter_mul_p, operand, updates, *indices, indexer=indexer)


def scatter_min(operand, updates, indices, indexer):
    """A copy of ``operand`` with the minimum with ``updates`` at the index ``indexer``
    (``.at[...].min``).
    """
    return bind(scatter_min_p, operand, updates, *indices, indexer=indexer)


def scatter_max(operand, updates, indices, indexer):
    """A copy of ``operand`` with the maximum with ``updates`` at the index ``indexer``
    (``.at[...].max``).
    """
    return bind(scatter_max_p, operand, updates, *indices, indexer=indexer)


def _flat_positions(shape, arrays, indexer):
    return np.arange(int(np.prod(shape, dtype=np.int64))).reshape(shape)[
        _index_tuple(indexer, arrays)]


def _scatter_impl(update):
    def impl(operand, updates, *arrays, indexer):
        out = np.array(operand, copy=True, order="C")
        pos = _flat_positions(out.shape, arrays, indexer)
        upd = np.broadcast_to(np.asarray(updates, out.dtype), pos.shape)
        update(out.reshape(-1), pos.ravel(), upd.ravel())
        return out[()] if out.ndim == 0 else out

    return impl


def _set_flat(flat, pos, upd):
    flat[pos] = upd


def _scatter_abstract_eval(name):
    def abstract_eval(operand, updates, *arrays, indexer):
        _check_same_dtype(name, operand, updates)
        expected = _gather_abstract_eval(operand, *arrays, indexer=indexer)
        if updates.shape != expected.shape:
            raise TypeError(f"{name}: updates {updates.str_short()} do not match the indexed "
                            f"shape {expected.str_short()}")
        return operand.strip_weak_type()

    return abstract_eval


def _zeros(x):
    a = _aval(x)
    return np.zeros(a.shape, a.dtype)


def _scatter_jvp(primals, tangents, *, indexer):
    # JAX's rule for scatter with repeated indices: scatter ids to learn
    # which update wins each element, then route the tangents with masks
    # and one scatter-add (so scatter itself needs no transpose rule).
    operand, updates, *arrays = primals
    t_op, t_up = tangents[0], tangents[1]
    ans = scatter(operand, updates, arrays, indexer)
    if type(t_op) is Zero and type(t_up) is Zero:
        return ans, Zero.from_value(ans)
    ushape = _aval(updates).shape
    ids = np.arange(1, int(np.prod(ushape, dtype=np.int64)) + 1).reshape(ushape)
    scattered = scatter(np.zeros(_aval(operand).shape, ids.dtype), ids, arrays, indexer)
    t = select_n(eq(scattered, np.int64(0)), _zeros(ans), instantiate(t_op))
    if type(t_up) is not Zero:
        if arrays:  # only index arrays can repeat an element
            won = eq(gather(scattered, arrays, indexer), ids)
            t_up = select_n(won, _zeros(t_up), t_up)
        t = scatter_add(t, t_up, arrays, indexer)
    return ans, t


def _unique_positions(shape, arrays, indexer):
    """Whether no element is indexed twice (known without tracing)."""
    if not arrays:
        return True
    concrete = [full_lower_concrete(a) for a in arrays]
    if any(c is None for c in concrete):
        return False
    pos = _flat_positions(shape, concrete, indexer).ravel()
    return len(np.unique(pos)) == pos.size


def _others_product(y, shape, arrays, indexer):
    """For each update, the product of the other updates to its element
    (no division: exact with zeros, and differentiable to any order)."""
    ya = _aval(y)
    n = ya.size
    pos = reshape(gather(np.arange(int(np.prod(shape, dtype=np.int64))).reshape(shape),
                         arrays, indexer), (n,))
    same = eq(broadcast_in_dim(pos, (n, n), (0,)), broadcast_in_dim(pos, (n, n), (1,)))
    others = bitwise_and(same, ~np.eye(n, dtype=bool))
    yy = broadcast_in_dim(reshape(y, (n,)), (n, n), (1,))
    return reshape(reduce_prod(select_n(others, np.ones((n, n), ya.dtype), yy), (1,)), ya.shape)


def _scatter_mul_jvp(primals, tangents, *, indexer):
    operand, updates, *arrays = primals
    t_op, t_up = tangents[0], tangents[1]
    ans = scatter_mul(operand, updates, arrays, indexer)
    out = None
    if type(t_op) is not Zero:
        out = scatter_mul(t_op, updates, arrays, indexer)
    if type(t_up) is not Zero:
        shape = _aval(operand).shape
        if not _unique_positions(shape, arrays, indexer):
            t_up = mul(t_up, _others_product(updates, shape, arrays, indexer))
        v = mul(operand, scatter_add(_zeros(ans), t_up, arrays, indexer))
        out = v if out is None else add(out, v)
    return ans, (Zero.from_value(ans) if out is None else out)


def _scatter_mul_transpose(ct, operand, updates, *arrays, indexer):
    if is_undefined(updates) or any(is_undefined(a) for a in arrays):
        raise TypeError("scatter-mul is linear in its operand only")
    return [scatter_mul(ct, updates, arrays, indexer), None] + [None] * len(arrays)


def _scatter_extremum_jvp(prim):
    # The tangent of each element comes from the values that attain the
    # extremum there, shared equally among ties (as for max and min).
    def rule(primals, tangents, *, indexer):
        operand, updates, *arrays = primals
        t_op, t_up = tangents[0], tangents[1]
        ans = bind(prim, operand, updates, *arrays, indexer=indexer)
        if type(t_op) is Zero and type(t_up) is Zero:
            return ans, Zero.from_value(ans)
        dt = _aval(ans).dtype
        kept = convert_element_type(eq(operand, ans), dt)
        won = convert_element_type(eq(updates, gather(ans, arrays, indexer)), dt)
        count = add(kept, scatter_add(_zeros(ans), won, arrays, indexer))
        t = mul(instantiate(t_op), kept)
        if type(t_up) is not Zero:
            t = scatter_add(t, mul(t_up, won), arrays, indexer)
        return ans, div(t, count)

    return rule


scatter_p = new_primitive("scatter")
scatter_p.def_impl(_scatter_impl(_set_flat))
scatter_p.def_abstract_eval(_scatter_abstract_eval("scatter"))
def_strict(scatter_p)
jvp_rules[scatter_p] = _scatter_jvp
_scatter_batch_rule(scatter_p)

scatter_mul_p = new_primitive("scatter-mul")
scatter_mul_p.def_impl(_scatter_impl(np.multiply.at))
scatter_mul_p.def_abstract_eval(_scatter_abstract_eval("scatter-mul"))
def_strict(scatter_mul_p)
jvp_rules[scatter_mul_p] = _scatter_mul_jvp
deftranspose(scatter_mul_p, _scatter_mul_transpose)
_scatter_batch_rule(scatter_mul_p)

scatter_min_p = new_primitive("scatter-min")
scatter_min_p.def_impl(_scatter_impl(np.minimum.at))
scatter_min_p.def_abstract_eval(_scatter_abstract_eval("scatter-min"))
def_strict(scatter_min_p)
jvp_rules[scatter_min_p] = _scatter_extremum_jvp(scatter_min_p)
_scatter_batch_rule(scatter_min_p)

scatter_max_p = new_primitive("scatter-max")
scatter_max_p.def_impl(_scatter_impl(np.maximum.at))
scatter_max_p.def_abstract_eval(_scatter_abstract_eval("scatter-max"))
def_strict(scatter_max_p)
jvp_rules[scatter_max_p] = _scatter_extremum_jvp(scatter_max_p)
_scatter_batch_rule(scatter_max_p)

# ---------------------------------------------------------------------------
# dynamic_slice and dynamic_update_slice: static sizes at traced positions
#
# The start indices are scalar integer operands (one per axis, any integer
# dtype), so they may be traced; the sizes are static params.  The primitives
# have XLA's semantics: each start is clamped into ``[0, n - size]`` so the
# slice always fits.  Python-style negative starts (counted from the end) are
# the wrappers' business (``allow_negative_indices``, JAX's default): they add
# ``n`` to a negative start before binding, so rules that bind the primitives
# again (JVP, transpose, batching) pass their index operands through as they
# are.


def _start_list(name, start_indices):
    """``start_indices`` as a list of scalars (a 1-D array is split)."""
    if isinstance(start_indices, (Tracer, np.ndarray)):
        a = _aval(start_indices)
        if a.ndim != 1:
            raise TypeError(f"lax.{name}: start_indices must be a sequence of scalars or a "
                            f"1-D integer array, got {a.str_short()}")
        if isinstance(start_indices, np.ndarray):
            return list(start_indices)
        return [reshape(slice(start_indices, (k,), (k + 1,)), ()) for k in range(a.shape[0])]
    return list(start_indices)


def _wrap_negative(name, idx, shape, allow_negative_indices):
    """Count negative starts from the end of their axes (as JAX's wrappers do)."""
    if isinstance(allow_negative_indices, (bool, np.bool_)):
        allow = [bool(allow_negative_indices)] * len(idx)
    else:
        allow = [bool(a) for a in allow_negative_indices]
    if len(allow) != len(idx) or len(idx) != len(shape):
        raise TypeError(
            f"lax.{name}: got {len(idx)} start indices and {len(allow)} "
            f"allow_negative_indices flags for an operand of rank {len(shape)}; give one "
            "scalar start index (and flag) per axis")
    out = []
    for i, n, a in zip(idx, shape, allow):
        if isinstance(i, (bool, np.bool_)) or not np.issubdtype(_aval(i).dtype, np.integer):
            raise TypeError(f"lax.{name}: start indices must be integer scalars, got "
                            f"{_aval(i).str_short()}")
        if not a:
            out.append(i)
        elif isinstance(i, Tracer):
            out.append(select_n(lt(i, _c(i, 0)), i, add(i, _c(i, n))))
        else:
            k = int(i)
            out.append(k + n if k < 0 else k)
    return out


def _clamped_starts(shape, idx, sizes):
    return tuple(builtins_min(builtins_max(int(i), 0), n - s)
                 for i, n, s in zip(idx, shape, sizes))


def builtins_min(a, b):
    """Python's ``min`` of two numbers (``lax.min`` shadows the builtin here)."""
    return a if a < b else b


def _check_starts(name, x, idx):
    if len(idx) != x.ndim:
        raise TypeError(f"{name}: got {len(idx)} start indices for an operand "
                        f"{x.str_short()}; give one scalar start index per axis")
    for a in idx:
        if a.shape or not np.issubdtype(a.dtype, np.integer):
            raise TypeError(f"{name}: start indices must be integer scalars, got "
                            f"{a.str_short()}")


def dynamic_slice(operand, start_indices, slice_sizes, *, allow_negative_indices=True):
    """The slice of ``operand`` of static shape ``slice_sizes`` starting at
    ``start_indices`` (one scalar per axis, which may be traced).

    As in JAX: a negative start counts from the end of its axis (unless
    ``allow_negative_indices=False``), and starts are then clamped so that
    the slice fits in ``operand`` (an out-of-range start never raises; the
    slice moves back inside).

    Example:
        >>> import numpy as np
        >>> from fxad import lax
        >>> x = np.arange(12.0).reshape(3, 4)
        >>> lax.dynamic_slice(x, (1, 1), (2, 3))
        array([[ 5.,  6.,  7.],
               [ 9., 10., 11.]])
        >>> lax.dynamic_slice(x, (2, -1), (2, 2))  # clamped to start at (1, 2)
        array([[ 6.,  7.],
               [10., 11.]])
    """
    shape = _aval(operand).shape
    slice_sizes = tuple(int(s) for s in slice_sizes)
    idx = _wrap_negative("dynamic_slice", _start_list("dynamic_slice", start_indices), shape,
                         allow_negative_indices)
    return bind(dynamic_slice_p, operand, *idx, slice_sizes=slice_sizes)


def _dynamic_slice_impl(x, *idx, slice_sizes):
    x = np.asarray(x)
    starts = _clamped_starts(x.shape, idx, slice_sizes)
    return x[tuple(_builtin_slice(a, a + s) for a, s in zip(starts, slice_sizes))]


def _dynamic_slice_abstract_eval(x, *idx, slice_sizes):
    _check_starts("dynamic_slice", x, idx)
    if len(slice_sizes) != x.ndim or any(not 0 <= s <= n for s, n in zip(slice_sizes,
                                                                          x.shape)):
        raise TypeError(f"dynamic_slice: slice_sizes {slice_sizes} do not fit in the operand "
                        f"{x.str_short()}; give one size per axis, at most the axis' length")
    return shaped(slice_sizes, x.dtype)


def _dynamic_slice_jvp(primals, tangents, *, slice_sizes):
    x, *idx = primals
    ans = bind(dynamic_slice_p, x, *idx, slice_sizes=slice_sizes)
    if type(tangents[0]) is Zero:
        return ans, Zero.from_value(ans)
    return ans, bind(dynamic_slice_p, tangents[0], *idx, slice_sizes=slice_sizes)


def _dynamic_slice_transpose(ct, x, *idx, slice_sizes):
    if any(is_undefined(i) for i in idx):
        raise TypeError("dynamic_slice is not linear in its start indices")
    zeros = np.zeros(x.aval.shape, x.aval.dtype)
    return [bind(dynamic_update_slice_p, zeros, ct, *idx)] + [None] * len(idx)


dynamic_slice_p = new_primitive("dynamic_slice")
dynamic_slice_p.def_impl(_dynamic_slice_impl)
dynamic_slice_p.def_abstract_eval(_dynamic_slice_abstract_eval)
def_strict(dynamic_slice_p)
jvp_rules[dynamic_slice_p] = _dynamic_slice_jvp
deftranspose(dynamic_slice_p, _dynamic_slice_transpose)


def _slice_positions(shape, idx, dims, sizes, size):
    """Batched starts (vmap with a batched index) as gather index arrays of
    shape ``(size,) + sizes``: an iota over the batch, then per axis the
    clamped start plus an iota over the slice -- the same elements the
    primitive takes, one slice per example."""
    full = (size,) + tuple(sizes)
    r = len(sizes)
    arrays = [broadcast_in_dim(np.arange(size), full, (0,))]
    for d, (i, di, n, s) in enumerate(zip(idx, dims, shape, sizes)):
        i = convert_element_type(i, np.dtype(np.int64))
        start = max(min(i, np.int64(n - s)), np.int64(0))
        start = (broadcast_in_dim(start, full, ()) if di is not_mapped
                 else broadcast_in_dim(moveaxis(start, di, 0), full, (0,)))
        arrays.append(add(start, broadcast_in_dim(np.arange(s), full, (1 + d,))))
    return arrays, tuple(("a", k) for k in range(r + 1))


def _dynamic_slice_batch(args, dims, *, slice_sizes):
    x, *idx = args
    dx, *didx = dims
    size = _axis_size(args, dims)
    x = bdim_at_front(x, dx, size)
    if all(d is not_mapped for d in didx):
        return bind(dynamic_slice_p, x, 0, *idx, slice_sizes=(size,) + slice_sizes), 0
    arrays, indexer = _slice_positions(_aval(x).shape[1:], idx, didx, slice_sizes, size)
    return gather(x, arrays, indexer), 0


batch_rules[dynamic_slice_p] = _dynamic_slice_batch


def dynamic_update_slice(operand, update, start_indices, *, allow_negative_indices=True):
    """``operand`` with the slice of ``update``'s shape at ``start_indices``
    (one scalar per axis, which may be traced) replaced by ``update``.

    Starts are wrapped and clamped as in ``dynamic_slice`` (the update is
    moved back inside ``operand`` rather than cut).

    Example:
        >>> import numpy as np
        >>> from fxad import lax
        >>> lax.dynamic_update_slice(np.zeros(6), np.ones(3), (2,))
        array([0., 0., 1., 1., 1., 0.])
        >>> lax.dynamic_update_slice(np.zeros(6), np.ones(3), (5,))  # clamped to 3
        array([0., 0., 0., 1., 1., 1.])
    """
    shape = _aval(operand).shape
    idx = _wrap_negative("dynamic_update_slice",
                         _start_list("dynamic_update_slice", start_indices), shape,
                         allow_negative_indices)
    return bind(dynamic_update_slice_p, operand, update, *idx)


def _dynamic_update_slice_impl(operand, update, *idx):
    out = np.array(operand, copy=True)
    update = np.asarray(update)
    starts = _clamped_starts(out.shape, idx, update.shape)
    out[tuple(_builtin_slice(a, a + s) for a, s in zip(starts, update.shape))] = update
    return out


def _dynamic_update_slice_abstract_eval(operand, update, *idx):
    _check_same_dtype("dynamic_update_slice", operand, update)
    _check_starts("dynamic_update_slice", operand, idx)
    if update.ndim != operand.ndim or any(u > n for u, n in zip(update.shape, operand.shape)):
        raise TypeError(f"dynamic_update_slice: the update {update.str_short()} does not fit "
                        f"in the operand {operand.str_short()}; give an update of the "
                        "operand's rank, no longer than it on any axis")
    return operand.strip_weak_type()


def _dynamic_update_slice_jvp(primals, tangents):
    operand, update, *idx = primals
    t_op, t_up = tangents[0], tangents[1]
    ans = bind(dynamic_update_slice_p, operand, update, *idx)
    if type(t_op) is Zero and type(t_up) is Zero:
        return ans, Zero.from_value(ans)
    return ans, bind(dynamic_update_slice_p, instantiate(t_op), instantiate(t_up), *idx)


def _dynamic_update_slice_transpose(ct, operand, update, *idx):
    if any(is_undefined(i) for i in idx):
        raise TypeError("dynamic_update_slice is not linear in its start indices")
    ushape = _aval(update).shape
    ct_op = ct_up = None
    if is_undefined(operand):
        ct_op = bind(dynamic_update_slice_p, ct, np.zeros(ushape, _aval(ct).dtype), *idx)
    if is_undefined(update):
        ct_up = bind(dynamic_slice_p, ct, *idx, slice_sizes=ushape)
    return [ct_op, ct_up] + [None] * len(idx)


dynamic_update_slice_p = new_primitive("dynamic_update_slice")
dynamic_update_slice_p.def_impl(_dynamic_update_slice_impl)
dynamic_update_slice_p.def_abstract_eval(_dynamic_update_slice_abstract_eval)
def_strict(dynamic_update_slice_p)
jvp_rules[dynamic_update_slice_p] = _dynamic_update_slice_jvp
deftranspose(dynamic_update_slice_p, _dynamic_update_slice_transpose)


def _dynamic_update_slice_batch(args, dims):
    operand, update, *idx = args
    dop, dup, *didx = dims
    size = _axis_size(args, dims)
    operand = bdim_at_front(operand, dop, size)
    update = bdim_at_front(update, dup, size)
    if all(d is not_mapped for d in didx):
        return bind(dynamic_update_slice_p, operand, update, 0, *idx), 0
    # Batched starts: a scatter at the positions the slice would take (one
    # slice per example, so no element is written twice).
    sizes = _aval(update).shape[1:]
    arrays, indexer = _slice_positions(_aval(operand).shape[1:], idx, didx, sizes, size)
    return scatter(operand, update, arrays, indexer), 0


batch_rules[dynamic_update_slice_p] = _dynamic_update_slice_batch


def dynamic_slice_in_dim(operand, start_index, slice_size, axis=0, *,
                         allow_negative_indices=True):
    """``dynamic_slice`` along one axis: ``operand[..., i:i + slice_size]``
    with the start ``i`` (possibly traced) wrapped and clamped.

    Example:
        >>> import numpy as np
        >>> from fxad import lax
        >>> lax.dynamic_slice_in_dim(np.arange(5.0), 4, 3)  # clamped to start at 2
        array([2., 3., 4.])
    """
    shape = _aval(operand).shape
    axis = _one_axis("dynamic_slice_in_dim", axis, len(shape))
    starts = [0] * len(shape)
    starts[axis] = start_index
    sizes = list(shape)
    sizes[axis] = slice_size
    allow = [True] * len(shape)
    allow[axis] = allow_negative_indices
    return dynamic_slice(operand, starts, sizes, allow_negative_indices=allow)


def dynamic_index_in_dim(operand, index, axis=0, keepdims=True, *,
                         allow_negative_indices=True):
    """``operand[..., index]`` along ``axis`` for a possibly traced
    ``index`` (wrapped and clamped; the axis is kept with length 1 when
    ``keepdims``).

    Example:
        >>> import numpy as np
        >>> from fxad import lax
        >>> x = np.arange(12.0).reshape(3, 4)
        >>> lax.dynamic_index_in_dim(x, 1, axis=1, keepdims=False)
        array([1., 5., 9.])
    """
    axis = _one_axis("dynamic_index_in_dim", axis, _aval(operand).ndim)
    out = dynamic_slice_in_dim(operand, index, 1, axis,
                               allow_negative_indices=allow_negative_indices)
    return out if keepdims else squeeze(out, (axis,))


def dynamic_update_slice_in_dim(operand, update, start_index, axis, *,
                                allow_negative_indices=True):
    """``dynamic_update_slice`` along one axis: the other axes start at 0.

    Example:
        >>> import numpy as np
        >>> from fxad import lax
        >>> lax.dynamic_update_slice_in_dim(np.zeros((2, 4)), np.ones((2, 2)), 1, axis=1)
        array([[0., 1., 1., 0.],
               [0., 1., 1., 0.]])
    """
    nd = _aval(operand).ndim
    axis = _one_axis("dynamic_update_slice_in_dim", axis, nd)
    starts = [0] * nd
    starts[axis] = start_index
    allow = [True] * nd
    allow[axis] = allow_negative_indices
    return dynamic_update_slice(operand, update, starts, allow_negative_indices=allow)


def dynamic_update_index_in_dim(operand, update, index, axis, *, allow_negative_indices=True):
    """``operand`` with index ``index`` of ``axis`` replaced by ``update``
    (which may lack that axis).

    Example:
        >>> import numpy as np
        >>> from fxad import lax
        >>> lax.dynamic_update_index_in_dim(np.zeros((3, 2)), np.ones(2), -1, axis=0)
        array([[0., 0.],
               [0., 0.],
               [1., 1.]])
    """
    nd = _aval(operand).ndim
    axis = _one_axis("dynamic_update_index_in_dim", axis, nd)
    if _aval(update).ndim == nd - 1:
        update = expand_dims(update, (axis,))
    return dynamic_update_slice_in_dim(operand, update, index, axis,
                                       allow_negative_indices=allow_negative_indices)


def _one_axis(name, axis, nd):
    axis = int(axis)
    if not -nd <= axis < nd:
        raise ValueError(f"lax.{name}: axis {axis} is out of range for an operand of rank {nd}")
    return axis % nd


# ---------------------------------------------------------------------------
# dot_general


def dot_general(x, y, dimension_numbers):
    """Tensor contraction: ``dimension_numbers`` is ``((lhs_contract, rhs_contract), (lhs_batch,
    rhs_batch))``, output axes batch, then free axes of ``x``, then of ``y``, as
    ``jax.lax.dot_general``.
    """
    (lc, rc), (lb, rb) = dimension_numbers
    dn = ((tuple(lc), tuple(rc)), (tuple(lb), tuple(rb)))
    return bind(dot_general_p, x, y, dimension_numbers=dn)


def _free_dims(ndim, contract, batch):
    return tuple([i for i in range(ndim) if i not in contract and i not in batch])


def _dot_general_impl(x, y, *, dimension_numbers):
    (lc, rc), (lb, rb) = dimension_numbers
    xn, yn = np.ndim(x), np.ndim(y)
    if not lb:
        if xn <= 2 and yn <= 2 and xn and yn and lc == (xn - 1,) and rc == (0,):
            return np.dot(x, y)
        if xn == 2 and yn == 2 and len(lc) == 1:
            # What np.tensordot computes for two matrices (np.dot of the
            # transposed views), without its Python-level axis bookkeeping.
            return np.dot(x.T if lc[0] == 0 else x, y.T if rc[0] == 1 else y)
        return np.tensordot(x, y, axes=(lc, rc))
    x = np.asarray(x)
    y = np.asarray(y)
    lf = _free_dims(xn, lc, lb)
    rf = _free_dims(yn, rc, rb)
    bshape = tuple(x.shape[d] for d in lb)
    lfs = tuple(x.shape[d] for d in lf)
    rfs = tuple(y.shape[d] for d in rf)
    k = int(np.prod([x.shape[d] for d in lc], dtype=np.int64))
    b = int(np.prod(bshape, dtype=np.int64))
    xt = np.transpose(x, lb + lf + lc).reshape(b, int(np.prod(lfs, dtype=np.int64)), k)
    yt = np.transpose(y, rb + rc + rf).reshape(b, k, int(np.prod(rfs, dtype=np.int64)))
    return np.matmul(xt, yt).reshape(bshape + lfs + rfs)


_dot_general_avals: dict = {}  # avals are interned: memoised on them and the dimension numbers


def _dot_general_abstract_eval(x, y, *, dimension_numbers):
    key = (x, y, dimension_numbers)
    out = _dot_general_avals.get(key)
    if out is None:
        out = _dot_general_aval(x, y, dimension_numbers)
        if len(_dot_general_avals) >= 4096:
            _dot_general_avals.clear()
        _dot_general_avals[key] = out
    return out


def _dot_general_aval(x, y, dimension_numbers):
    (lc, rc), (lb, rb) = dimension_numbers
    _check_same_dtype("dot_general", x, y)
    if len(lc) != len(rc) or len(lb) != len(rb):
        raise TypeError(f"dot_general: mismatched dimension_numbers {dimension_numbers}")
    for a, b in list(zip(lc, rc)) + list(zip(lb, rb)):
        if not (0 <= a < x.ndim and 0 <= b < y.ndim) or x.shape[a] != y.shape[b]:
            raise TypeError(
                f"dot_general: cannot contract/batch {x.str_short()} axis {a} with "
                f"{y.str_short()} axis {b}")
    lf = _free_dims(x.ndim, lc, lb)
    rf = _free_dims(y.ndim, rc, rb)
    shape = tuple(x.shape[d] for d in lb) + tuple(x.shape[d] for d in lf) + \
        tuple(y.shape[d] for d in rf)
    return shaped(shape, x.dtype)


def _dot_general_transpose_lhs(ct, x_aval, y, dimension_numbers, swap=False):
    (lc, rc), (lb, rb) = dimension_numbers
    x_nd = x_aval.ndim
    y_nd = _aval(y).ndim
    lf = _free_dims(x_nd, lc, lb)
    rf = _free_dims(y_nd, rc, rb)
    nb = len(lb)
    if swap:  # ct layout is (batch, y-free, x-free) when x is the rhs
        ct_yf = tuple(range(nb, nb + len(rf)))
    else:
        ct_yf = tuple(range(nb + len(lf), nb + len(lf) + len(rf)))
    res = dot_general(ct, y, ((ct_yf, rf), (tuple(range(nb)), rb)))
    # res layout: batch, x-free (ct order), remaining y dims (= rc, sorted).
    rc_sorted = sorted(rc)
    out_to_x = list(lb) + list(lf) + [lc[rc.index(d)] for d in rc_sorted]
    # np.argsort(out_to_x) (a permutation: distinct entries), in Python
    return transpose(res, tuple(sorted(range(len(out_to_x)), key=out_to_x.__getitem__)))


def _dot_general_transpose(ct, x, y, *, dimension_numbers):
    (lc, rc), (lb, rb) = dimension_numbers
    if is_undefined(x) and is_undefined(y):
        raise TypeError("dot_general is not linear in both operands at once")
    if is_undefined(x):
        return [_dot_general_transpose_lhs(ct, x.aval, y, dimension_numbers), None]
    swapped = ((rc, lc), (rb, lb))
    return [None, _dot_general_transpose_lhs(ct, y.aval, x, swapped, swap=True)]


dot_general_p = new_primitive("dot_general")
codegen.def_emitter(dot_general_p, codegen.emit_dot_general)
dot_general_p.def_impl(_dot_general_impl)
dot_general_p.def_abstract_eval(_dot_general_abstract_eval)
def_strict(dot_general_p)
defjvp(dot_general_p,
       lambda t, x, y, *, dimension_numbers: dot_general(t, y, dimension_numbers),
       lambda t, x, y, *, dimension_numbers: dot_general(x, t, dimension_numbers))
deftranspose(dot_general_p, _dot_general_transpose)


def _dot_general_batch(args, dims, *, dimension_numbers):
    (x, y), (dx, dy) = args, dims
    (lc, rc), (lb, rb) = dimension_numbers

    def shift(ds):
        return tuple(d + 1 for d in ds)

    if dx is not not_mapped and dy is not not_mapped:
        x, y = moveaxis(x, dx, 0), moveaxis(y, dy, 0)
        dn = ((shift(lc), shift(rc)), ((0,) + shift(lb), (0,) + shift(rb)))
        return dot_general(x, y, dn), 0
    if dx is not not_mapped:  # the batch axis is the first free axis of x
        x = moveaxis(x, dx, 0)
        return dot_general(x, y, ((shift(lc), rc), (shift(lb), rb))), len(lb)
    y = moveaxis(y, dy, 0)
    x_free = get_aval(x).ndim - len(lc) - len(lb)
    return dot_general(x, y, ((lc, shift(rc)), (lb, shift(rb)))), len(lb) + x_free


batch_rules[dot_general_p] = _dot_general_batch


def _dot_general_onehot(args, dims, *, dimension_numbers):
    """A contraction with the basis (jacfwd's ``A @ e_b``, jacrev's
    ``e_b @ A``) is a copy of the other operand, its contracted axes
    flattened into the batch axis, scaled: no matrix product.  Taken when
    the one-hot operand's axes that are not contracted have size 1 and
    there are no dot batch axes."""
    (lc, rc), (lb, _) = dimension_numbers
    found = None if lb else _onehot_and_shared(args, dims)
    if found is None:
        return None
    oh, other, oh_lhs = found
    c, oc = (lc, rc) if oh_lhs else (rc, lc)
    shape = oh.scale.shape
    other = np.asarray(other)
    if any(shape[i] != 1 for i in range(len(shape)) if i not in c) or \
            any(shape[a] != other.shape[b] for a, b in zip(c, oc)):
        return None
    # Example b is one-hot at flat position k = b - offset of its shape;
    # its contracted axes in increasing order index ``other`` at k.
    order = sorted(range(len(c)), key=lambda j: c[j])
    free = [i for i in range(other.ndim) if i not in oc]
    g = np.transpose(other, [oc[j] for j in order] + free)
    n = oh.scale.size
    free_shape = g.shape[len(c):]
    g = g.reshape((n,) + free_shape)
    ones = (1,) * (len(shape) - len(c))
    example = ones + free_shape if oh_lhs else free_shape + ones
    block = np.asarray(oh.scale).reshape((n,) + (1,) * len(free_shape)) * g
    return oh.rows(block.reshape((n,) + example)), 0


onehot_rules[dot_general_p] = _dot_general_onehot


# The elementwise functions above, with their eager calls inline (see
# ``eager_entry``); rebound here, once every primitive and rule is defined.
for _fn, _p, _scalar in [
    (neg, neg_p, operator.neg), (add, add_p, operator.add), (sub, sub_p, operator.sub),
    (div, div_p, operator.truediv),
]:
    globals()[_fn.__name__] = eager_entry(_fn, _p, _scalar)
mul = eager_entry(mul, mul_p, operator.mul, unit=True)
for _fn, _p in [
    (pow, pow_p), (max, max_p), (min, min_p),
    (exp, exp_p), (exp2, exp2_p), (log, log_p), (log2, log2_p), (log10, log10_p),
    (log1p, log1p_p), (expm1, expm1_p), (cbrt, cbrt_p), (sqrt, sqrt_p),
    (sin, sin_p), (cos, cos_p), (tan, tan_p), (asin, asin_p), (acos, acos_p),
    (atan, atan_p), (sinh, sinh_p), (cosh, cosh_p), (tanh, tanh_p), (asinh, asinh_p),
    (acosh, acosh_p), (atanh, atanh_p), (abs, abs_p), (sign, sign_p),
    (eq, eq_p), (ne, ne_p), (lt, lt_p), (le, le_p), (gt, gt_p), (ge, ge_p),
]:
    globals()[_fn.__name__] = eager_entry(_fn, _p)
del _fn, _p, _scalar

__all__ = [n for n in dir() if not n.startswith("_")]
_ = (linear_primitives, nondiff_primitives)
