"""Shared helpers of the NumPy layer: promotion, broadcasting, axes.

NumPy semantics on top of the strict primitives of ``fxad.lax``: NumPy 2
promotion (Python scalars weakly typed), NumPy broadcasting, float64 default.
Every public function first checks for tracers; with none it calls NumPy
itself, so eager code gets exactly NumPy's result at NumPy's speed.
"""

from __future__ import annotations

import inspect
import types

import numpy as np

from fxad import lax
from fxad.core import Tracer, bind, get_aval
from fxad.errors import ConcretizationTypeError

_PY_SCALARS = (int, float, complex, bool)
float_ = np.dtype(np.float64)


def is_tracer(x) -> bool:
    return isinstance(x, Tracer)


def any_tracer(*args) -> bool:
    for a in args:
        if isinstance(a, Tracer):
            return True
    return False


def _stand_in(x):
    """What ``np.result_type`` should see for ``x`` (weak values as Python scalars)."""
    if isinstance(x, Tracer):
        a = x.aval
        if a.weak_type:
            k = a.dtype.kind
            return {"f": 0.0, "i": 0, "u": 0, "c": 0j, "b": False}[k]
        return a.dtype
    if type(x) in _PY_SCALARS:
        return x
    if isinstance(x, (np.ndarray, np.generic)):
        return x.dtype
    if isinstance(x, (list, tuple)) and _contains_tracer(x):
        return _list_dtype(x)
    return np.asarray(x).dtype


def result_type(*args) -> np.dtype:
    return np.result_type(*[_stand_in(a) for a in args])


def asarray_value(x):
    """Non-tracer input to a NumPy value (lists become arrays, traced ones
    through ``array_like``)."""
    if isinstance(x, (np.ndarray, np.generic, Tracer)) or type(x) in _PY_SCALARS:
        return x
    if isinstance(x, (list, tuple)) and _contains_tracer(x):
        return array_of_traced(x)
    return np.asarray(x)


# ---------------------------------------------------------------------------
# array_like arguments and NumPy's result types, for the whole namespace
#
# NumPy accepts (nested) lists wherever it takes an array.  A list holding
# tracers reaches NumPy only in the no-tracer branch of a function (the list
# is not a tracer), where NumPy's conversion calls ``Tracer.__array__`` and
# that raises ConcretizationTypeError.  So a public function is called as it
# is, and only when that error comes out of it are its list arguments turned
# into traced arrays by ``array_like`` and the call made again: calls without
# such lists pay nothing but a ``try`` (free in Python 3.11).
#
# NumPy 2's functions return NumPy scalars and arrays, never Python scalars,
# so a function's result is never weakly typed, even of a weakly typed input
# (a Python scalar argument of jit); only Python's operators on Python
# scalars stay weak (``Tracer.__add__`` calls the unwrapped function).


def array_like(x):
    """``x`` as an array argument: a (nested) list or tuple holding tracers
    becomes their stacked traced array (``numpy.array`` of it); anything
    else is returned unchanged."""
    if isinstance(x, (list, tuple)) and _contains_tracer(x):
        return array_of_traced(x)
    return x


def strong(x):
    """``x`` without its weak type (a tracer of a Python scalar), as the
    NumPy function computing it would return a NumPy scalar."""
    if isinstance(x, Tracer) and x.aval.weak_type:
        y = x._strip_weak_type()
        return bind(lax.convert_element_type_p, x, new_dtype=x.aval.dtype) if y is None else y
    return x


def _strong_result(out):
    if isinstance(out, Tracer):
        return strong(out)
    if type(out) is tuple:  # divmod, frexp, meshgrid ...
        return tuple(strong(o) for o in out)
    return out


def retry_array_like(fn, err, args, kwargs):
    """``fn(*args, **kwargs)`` again with its list arguments holding tracers
    converted by ``array_like``; ``err`` (the ConcretizationTypeError of the
    first call) again when there are none (the tracer was met elsewhere)."""
    new_args = [array_like(a) for a in args]
    new_kwargs = {k: array_like(v) for k, v in kwargs.items()}
    if all(a is b for a, b in zip(new_args, args)) and all(
            new_kwargs[k] is v for k, v in kwargs.items()):
        raise err
    return fn(*new_args, **new_kwargs)


def _wrapper_source(name, sig):
    """``def name(<sig without defaults>): ...`` calling ``_fn`` with every
    parameter passed on as declared (the defaults are copied onto the
    function object, so the wrapper costs one call frame and no packing)."""
    params, call, kinds = [], [], inspect.Parameter
    star = False
    for p in sig.parameters.values():
        if p.kind is kinds.POSITIONAL_ONLY:
            params.append(p.name)
            call.append(p.name)
        elif p.kind is kinds.POSITIONAL_OR_KEYWORD:
            params.append(p.name)
            call.append(p.name)
        elif p.kind is kinds.VAR_POSITIONAL:
            params.append("*" + p.name)
            call.append("*" + p.name)
            star = True
        elif p.kind is kinds.KEYWORD_ONLY:
            if not star:
                params.append("*")
                star = True
            params.append(p.name)
            call.append(f"{p.name}={p.name}")
        else:
            params.append("**" + p.name)
            call.append("**" + p.name)
    if any(p.kind is kinds.POSITIONAL_ONLY for p in sig.parameters.values()):
        last = max(i for i, p in enumerate(sig.parameters.values())
                   if p.kind is kinds.POSITIONAL_ONLY)
        params.insert(last + 1, "/")
    pos = [p.name for p in sig.parameters.values()
           if p.kind in (kinds.POSITIONAL_ONLY, kinds.POSITIONAL_OR_KEYWORD)]
    var = next((p.name for p in sig.parameters.values() if p.kind is kinds.VAR_POSITIONAL), None)
    kw = [p.name for p in sig.parameters.values() if p.kind is kinds.KEYWORD_ONLY]
    varkw = next((p.name for p in sig.parameters.values() if p.kind is kinds.VAR_KEYWORD), None)
    args = "(" + "".join(f"{n}, " for n in pos) + ")" + (f" + tuple({var})" if var else "")
    kwargs = "{" + "".join(f"{n!r}: {n}, " for n in kw) + "}" + (f" | {varkw}" if varkw else "")
    c = ", ".join(call)
    # Only underscored names of its own: a parameter may be called ``out``
    # or ``type`` (scipy.linalg.eigh's).
    return (f"def {name}({', '.join(params)}):\n"
            f"    try:\n"
            f"        _fxad_out = _fn({c})\n"
            f"    except _Concrete as _fxad_err:\n"
            f"        _fxad_out = _retry(_fn, _fxad_err, {args}, {kwargs})\n"
            f"    return _fxad_out if _type(_fxad_out) in _plain else _strong_result(_fxad_out)\n")


#: Result types that are never weakly typed tracers (the eager path's).
_PLAIN = frozenset([np.ndarray, type(None), *_PY_SCALARS, *set(np.sctypeDict.values())])


def numpy_function(fn):
    """``fn`` as a public function of the NumPy/SciPy layer: (nested) lists
    holding tracers accepted wherever arrays are (``array_like``), results
    not weakly typed (NumPy's).  Idempotent; functions that do both
    themselves (the ufunc factories) are marked ``_fxad_array_like``."""
    if getattr(fn, "_fxad_array_like", False) or type(fn) is not types.FunctionType:
        return fn
    if "__signature__" in fn.__dict__:
        # A generated function checking its own arguments against its stated
        # signature (scipy.stats methods): pass everything on as given.
        P = inspect.Parameter
        sig = inspect.Signature([P("args", P.VAR_POSITIONAL), P("kwargs", P.VAR_KEYWORD)])
    else:
        sig = inspect.signature(fn)
    src = _wrapper_source(fn.__name__ if fn.__name__.isidentifier() else "wrapper", sig)
    env = {"_fn": fn, "_Concrete": ConcretizationTypeError, "_retry": retry_array_like,
           "_strong_result": _strong_result, "_plain": _PLAIN, "_type": type}
    exec(src, env)  # noqa: S102 - a wrapper with fn's exact signature (see _wrapper_source)
    w = env[fn.__name__ if fn.__name__.isidentifier() else "wrapper"]
    # The defaults as the signature states them (a generated function may
    # carry them in __signature__ only).
    params = sig.parameters.values()
    pos = [p.default for p in params if p.default is not p.empty
           and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    w.__defaults__ = tuple(pos) or None
    w.__kwdefaults__ = {p.name: p.default for p in params
                        if p.kind is p.KEYWORD_ONLY and p.default is not p.empty} or None
    for attr in ("__name__", "__qualname__", "__doc__", "__module__"):
        setattr(w, attr, getattr(fn, attr))
    w.__dict__.update(fn.__dict__)
    w.__wrapped__ = fn
    w._fxad_array_like = True
    return w


def install_numpy_functions(namespace: dict, names=None) -> None:
    """Wrap the public functions defined by fxad in a module's namespace
    (``globals()``) with ``numpy_function``; call it at the end of a module."""
    done = {}  # one wrapper per function under all its names (acos, arccos)
    for name in list(namespace if names is None else names):
        obj = namespace[name]
        if name.startswith("_") or type(obj) is not types.FunctionType:
            continue
        if not (getattr(obj, "__module__", None) or "").startswith("fxad."):
            continue
        w = done.get(id(obj))
        if w is None:
            w = done[id(obj)] = numpy_function(obj)
        namespace[name] = w


def _elements(seq):
    return [e if isinstance(e, Tracer)
            else array_of_traced(e) if isinstance(e, (list, tuple)) and _contains_tracer(e)
            else np.array(e) for e in seq]


def _list_dtype(seq):
    """The dtype ``numpy.array(seq)`` has: Python scalars in a list count as
    float64/int64 (no weak promotion inside an array literal)."""
    return np.result_type(*[_list_dtype(e) if isinstance(e, (list, tuple))
                            else e.aval.dtype if isinstance(e, Tracer)
                            else np.asarray(e).dtype for e in seq])


def array_of_traced(seq, dtype=None):
    """``numpy.array`` of a (nested) list or tuple holding tracers: its
    elements, promoted to one dtype, stacked along a new first axis."""
    if not len(seq):
        return np.array(seq, dtype=dtype)
    elems = _elements(seq)
    dt = np.dtype(dtype) if dtype is not None else np.result_type(
        *[e.aval.dtype if isinstance(e, Tracer) else e.dtype for e in elems])
    elems = [convert(e, dt) for e in elems]
    shp = shape_of(elems[0])
    if any(shape_of(e) != shp for e in elems):
        raise ValueError(
            "setting an array element with a sequence: the elements of the list have "
            f"different shapes {[shape_of(e) for e in elems]} (an inhomogeneous list, "
            "which numpy.array refuses too)")
    return strong(lax.concatenate([lax.expand_dims(e, (0,)) if isinstance(e, Tracer)
                                   else np.expand_dims(e, 0) for e in elems], 0))


def _contains_tracer(x):
    if isinstance(x, Tracer):
        return True
    if isinstance(x, (list, tuple)):
        return any(_contains_tracer(e) for e in x)
    return False


def shape_of(x):
    if isinstance(x, Tracer):
        return x.aval.shape
    return np.shape(x)


def ndim_of(x):
    return len(shape_of(x))


def dtype_of(x):
    if isinstance(x, Tracer):
        return x.aval.dtype
    return get_aval(x).dtype if type(x) in _PY_SCALARS else np.result_type(x)


def convert(x, dtype):
    """``x`` as ``dtype``: tracers through convert_element_type, scalars as
    NumPy scalars of that dtype, arrays with astype."""
    if isinstance(x, Tracer):
        return lax.convert_element_type(x, dtype)
    if type(x) in _PY_SCALARS:
        return dtype.type(x)
    if x.dtype != dtype:
        return x.astype(dtype)
    return x


def broadcast_to_shape(x, shape):
    """NumPy broadcasting of ``x`` to ``shape`` (explicit broadcast_in_dim)."""
    xs = shape_of(x)
    if xs == shape:
        return x
    if not isinstance(x, Tracer):
        return np.broadcast_to(x, shape)
    nd = len(shape)
    lead = nd - len(xs)
    if lead < 0:
        raise ValueError(f"cannot broadcast shape {xs} to {shape}")
    # Size-1 axes that grow are squeezed first, so broadcast_in_dim only adds axes.
    squeeze_dims = tuple(i for i, d in enumerate(xs) if d == 1 and shape[lead + i] != 1)
    for i, d in enumerate(xs):
        if d != 1 and d != shape[lead + i]:
            raise ValueError(f"operands could not be broadcast together: {xs} to {shape}")
    if squeeze_dims:
        x = lax.reshape(x, tuple(d for i, d in enumerate(xs) if i not in squeeze_dims))
    dims = tuple(lead + i for i in range(len(xs)) if i not in squeeze_dims)
    return lax.broadcast_in_dim(x, shape, dims)


def promote_broadcast(*args, dtype=None):
    """Promote to a common dtype and broadcast to a common shape; 0-d operands
    are left 0-d (the primitives broadcast scalars themselves)."""
    args = [asarray_value(a) for a in args]
    if dtype is None:
        dtype = result_type(*args)
    args = [convert(a, dtype) for a in args]
    shapes = [shape_of(a) for a in args]
    shape = shapes[0]
    if any(s != shape for s in shapes[1:]):
        shape = np.broadcast_shapes(*shapes)
        args = [a if s == shape or not s else broadcast_to_shape(a, shape)
                for a, s in zip(args, shapes)]
    return args


def to_inexact(dtype) -> np.dtype:
    """The dtype a float-only function computes in (ints and bools to float64)."""
    return dtype if np.issubdtype(dtype, np.inexact) else float_


def canonical_axis(axis, ndim, name="axis"):
    a = int(axis)
    if not -ndim <= a < ndim:
        raise np.exceptions.AxisError(
            f"{name} {axis} is out of bounds for array of dimension {ndim}")
    return a % ndim if ndim else 0


def canonical_axes(axis, ndim):
    """``axis`` (None, int or tuple) as a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (tuple, list)):
        axes = tuple(canonical_axis(a, ndim) for a in axis)
        if len(set(axes)) != len(axes):
            raise ValueError("duplicate value in 'axis'")
        return tuple(sorted(axes))
    return (canonical_axis(axis, ndim),)


def concrete_value(x):
    """The NumPy value of ``x`` if it is known (not abstract), else None."""
    if isinstance(x, Tracer):
        v = x.to_concrete_value()
        return None if v is None else np.asarray(v)
    return np.asarray(x)


def isnan_traced(x):
    """``x != x``: NaN test on a tracer (no primitive of its own)."""
    return lax.ne(x, x)
