"""Shared helpers of the NumPy layer: promotion, broadcasting, axes.

NumPy semantics on top of the strict primitives of ``fxad.lax``: NumPy 2
promotion (Python scalars weakly typed), NumPy broadcasting, float64 default.
Every public function first checks for tracers; with none it calls NumPy
itself, so eager code gets exactly NumPy's result at NumPy's speed.
"""

from __future__ import annotations

import numpy as np

from fxad import lax
from fxad.core import Tracer, get_aval

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
    return np.asarray(x).dtype


def result_type(*args) -> np.dtype:
    return np.result_type(*[_stand_in(a) for a in args])


def asarray_value(x):
    """Non-tracer input to a NumPy value (lists become arrays)."""
    if isinstance(x, (np.ndarray, np.generic, Tracer)) or type(x) in _PY_SCALARS:
        return x
    if isinstance(x, (list, tuple)):
        if any(_contains_tracer(e) for e in x):
            return array_of_traced(x)
        return np.asarray(x)
    return np.asarray(x)


def array_of_traced(seq, dtype=None):
    """``numpy.array`` of a (nested) list or tuple holding tracers: its
    elements, promoted to one dtype, stacked along a new first axis."""
    elems = [e if isinstance(e, Tracer)
             else array_of_traced(e) if isinstance(e, (list, tuple)) and _contains_tracer(e)
             else np.array(e) for e in seq]
    dt = np.dtype(dtype) if dtype is not None else result_type(*elems)
    elems = [convert(e, dt) for e in elems]
    shp = shape_of(elems[0])
    if any(shape_of(e) != shp for e in elems):
        raise ValueError("all input arrays must have the same shape")
    return lax.concatenate([lax.expand_dims(e, (0,)) if isinstance(e, Tracer)
                            else np.expand_dims(e, 0) for e in elems], 0)


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
