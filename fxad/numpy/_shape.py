"""Shape manipulation, joining, creation and selection with NumPy semantics."""

from __future__ import annotations

import numpy as np

from fxad import lax
from fxad.core import Tracer
from fxad.numpy._core import maximum, minimum, where  # noqa: F401 - where re-exported
from fxad.numpy._util import (
    any_tracer,
    array_of_traced,
    asarray_value,
    broadcast_to_shape,
    canonical_axes,
    canonical_axis,
    convert,
    promote_broadcast,
    result_type,
    shape_of,
)

# ---------------------------------------------------------------------------
# Array construction from (possibly traced) data


def array(object, dtype=None, copy=True, ndmin=0):  # noqa: A002 - NumPy's name
    """``numpy.array`` that accepts (nested) lists of tracers.

    Example:
        >>> import fxad, fxad.numpy as fnp
        >>> fxad.jacfwd(lambda x: fnp.array([x, 2.0 * x]))(1.0)
        array([1., 2.])
    """
    if isinstance(object, Tracer):
        out = object if dtype is None else convert(object, np.dtype(dtype))
    elif isinstance(object, (list, tuple)) and _has_tracer(object):
        out = array_of_traced(object, dtype)
    else:
        return np.array(object, dtype=dtype, copy=copy, ndmin=ndmin)
    if ndmin and out.ndim < ndmin:
        out = lax.reshape(out, (1,) * (ndmin - out.ndim) + out.aval.shape)
    return out


def asarray(a, dtype=None):
    """``numpy.asarray`` that keeps tracers and accepts lists of tracers."""
    if isinstance(a, Tracer):
        return a if dtype is None else convert(a, np.dtype(dtype))
    if isinstance(a, (list, tuple)) and _has_tracer(a):
        return array(a, dtype=dtype)
    return np.asarray(a, dtype=dtype)


def _has_tracer(x):
    if isinstance(x, Tracer):
        return True
    if isinstance(x, (list, tuple)):
        return any(_has_tracer(e) for e in x)
    return False


# ---------------------------------------------------------------------------
# Shapes


def shape(a):
    """``numpy.shape``."""
    return shape_of(a)


def ndim(a):
    """``numpy.ndim``."""
    return len(shape_of(a))


def size(a, axis=None):
    """``numpy.size``."""
    s = shape_of(a)
    if axis is None:
        return int(np.prod(s, dtype=np.int64))
    return s[axis]


def _resolve_shape(newshape, size_):
    if isinstance(newshape, (int, np.integer)):
        newshape = (int(newshape),)
    newshape = [int(d) for d in newshape]
    if newshape.count(-1) > 1:
        raise ValueError("can only specify one unknown dimension")
    if -1 in newshape:
        known = int(np.prod([d for d in newshape if d != -1], dtype=np.int64))
        if known == 0 or size_ % known:
            raise ValueError(f"cannot reshape array of size {size_} into shape {tuple(newshape)}")
        newshape[newshape.index(-1)] = size_ // known
    if int(np.prod(newshape, dtype=np.int64)) != size_:
        raise ValueError(f"cannot reshape array of size {size_} into shape {tuple(newshape)}")
    return tuple(newshape)


def reshape(a, shape=None, order="C", *, newshape=None):
    """``numpy.reshape`` (C order; ``order='F'`` via transposes)."""
    if shape is None:
        shape = newshape
    if not isinstance(a, Tracer):
        return np.reshape(a, shape, order=order)
    new = _resolve_shape(shape, a.aval.size)
    if order == "F":
        a = lax.transpose(a, tuple(reversed(range(a.ndim))))
        out = lax.reshape(a, tuple(reversed(new)))
        return lax.transpose(out, tuple(reversed(range(len(new)))))
    if order not in ("C", "A"):
        raise ValueError(f"reshape: order {order!r} is not supported")
    return lax.reshape(a, new)


def ravel(a, order="C"):
    """``numpy.ravel``."""
    if not isinstance(a, Tracer):
        return np.ravel(a, order=order)
    return reshape(a, (a.aval.size,), order=order)


def transpose(a, axes=None):
    """``numpy.transpose``."""
    if not isinstance(a, Tracer):
        return np.transpose(a, axes)
    nd = a.ndim
    if axes is None:
        perm = tuple(reversed(range(nd)))
    else:
        perm = tuple(canonical_axis(ax, nd) for ax in axes)
        if sorted(perm) != list(range(nd)):
            raise ValueError("axes don't match array")
    return lax.transpose(a, perm)


permute_dims = transpose


def swapaxes(a, axis1, axis2):
    """``numpy.swapaxes``."""
    if not isinstance(a, Tracer):
        return np.swapaxes(a, axis1, axis2)
    nd = a.ndim
    i, j = canonical_axis(axis1, nd), canonical_axis(axis2, nd)
    perm = list(range(nd))
    perm[i], perm[j] = perm[j], perm[i]
    return lax.transpose(a, tuple(perm))


def moveaxis(a, source, destination):
    """``numpy.moveaxis``."""
    if not isinstance(a, Tracer):
        return np.moveaxis(a, source, destination)
    nd = a.ndim
    src = [canonical_axis(s, nd) for s in np.atleast_1d(source)]
    dst = [canonical_axis(d, nd) for d in np.atleast_1d(destination)]
    if len(src) != len(dst):
        raise ValueError("`source` and `destination` arguments must have the same number of "
                         "elements")
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise ValueError("moveaxis: repeated axis in `source` or `destination`")
    order = [n for n in range(nd) if n not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return lax.transpose(a, tuple(order))


def squeeze(a, axis=None):
    """``numpy.squeeze``."""
    if not isinstance(a, Tracer):
        return np.squeeze(a, axis=axis)
    s = a.aval.shape
    if axis is None:
        dims = tuple(i for i, d in enumerate(s) if d == 1)
    else:
        dims = canonical_axes(axis, a.ndim)
        for d in dims:
            if s[d] != 1:
                raise ValueError("cannot select an axis to squeeze out which has size not "
                                 "equal to one")
    return lax.squeeze(a, dims)


def expand_dims(a, axis):
    """``numpy.expand_dims``."""
    if not isinstance(a, Tracer):
        return np.expand_dims(a, axis)
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    out_nd = a.ndim + len(axes)
    dims = tuple(sorted(canonical_axis(ax, out_nd) for ax in axes))
    if len(set(dims)) != len(dims):
        raise ValueError("repeated axis")
    return lax.expand_dims(a, dims)


def atleast_1d(*arys):
    """``numpy.atleast_1d``."""
    res = [a if ndim(a) >= 1 else reshape(asarray(a), (1,)) for a in arys]
    return res[0] if len(res) == 1 else tuple(res)


def atleast_2d(*arys):
    """``numpy.atleast_2d``."""
    out = []
    for a in arys:
        a = asarray(a)
        n = ndim(a)
        out.append(a if n >= 2 else reshape(a, (1,) * (2 - n) + shape_of(a)))
    return out[0] if len(out) == 1 else tuple(out)


def broadcast_to(a, shape):
    """``numpy.broadcast_to``."""
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
    if not isinstance(a, Tracer):
        return np.broadcast_to(a, shape)
    return broadcast_to_shape(a, shape)


def broadcast_arrays(*args):
    """``numpy.broadcast_arrays`` (a tuple, as NumPy 2)."""
    args = [asarray_value(a) for a in args]
    if not any_tracer(*args):
        return np.broadcast_arrays(*args)
    shp = np.broadcast_shapes(*[shape_of(a) for a in args])
    return tuple(broadcast_to(a, shp) for a in args)


def flip(m, axis=None):
    """``numpy.flip``."""
    if not isinstance(m, Tracer):
        return np.flip(m, axis)
    return lax.rev(m, canonical_axes(axis, m.ndim))


# ---------------------------------------------------------------------------
# Joining


def concatenate(arrays, axis=0, dtype=None):
    """``numpy.concatenate`` (``axis=None`` flattens first)."""
    arrays = list(arrays)
    if not any(_has_tracer(a) for a in arrays):
        return np.concatenate(arrays, axis=axis, dtype=dtype)
    if axis is None:
        arrays = [ravel(asarray(a)) for a in arrays]
        axis = 0
    arrays = [asarray_value(a) for a in arrays]
    dt = np.dtype(dtype) if dtype is not None else result_type(*arrays)
    nd = ndim(arrays[0])
    if nd == 0:
        raise ValueError("zero-dimensional arrays cannot be concatenated")
    ax = canonical_axis(axis, nd)
    arrays = [convert(a, dt) for a in arrays]
    return lax.concatenate(arrays, ax)


def stack(arrays, axis=0, dtype=None):
    """``numpy.stack``; accepts lists of tracers."""
    arrays = [asarray_value(a) for a in arrays]
    if not arrays:
        raise ValueError("need at least one array to stack")
    if not any_tracer(*arrays):
        return np.stack(arrays, axis=axis, dtype=dtype)
    shp = shape_of(arrays[0])
    for a in arrays:
        if shape_of(a) != shp:
            raise ValueError("all input arrays must have the same shape")
    ax = canonical_axis(axis, len(shp) + 1)
    expanded = [expand_dims(asarray(a), ax) for a in arrays]
    return concatenate(expanded, axis=ax, dtype=dtype)


def hstack(tup, dtype=None):
    """``numpy.hstack``."""
    arrs = [atleast_1d(a) for a in tup]
    return concatenate(arrs, axis=0 if ndim(arrs[0]) == 1 else 1, dtype=dtype)


def vstack(tup, dtype=None):
    """``numpy.vstack``."""
    return concatenate([atleast_2d(a) for a in tup], axis=0, dtype=dtype)


# ---------------------------------------------------------------------------
# Selection


def clip(a, a_min=None, a_max=None, *, min=None, max=None):  # noqa: A002
    """``numpy.clip``: ``minimum(maximum(a, a_min), a_max)`` (ties share the
    derivative, as in JAX)."""
    lo = a_min if a_min is not None else min
    hi = a_max if a_max is not None else max
    if not any_tracer(a, lo, hi):
        return np.clip(a, lo, hi)
    out = a
    if lo is not None:
        out = maximum(out, lo)
    if hi is not None:
        out = minimum(out, hi)
    return out


def _promote_all(*xs):
    return promote_broadcast(*xs)
