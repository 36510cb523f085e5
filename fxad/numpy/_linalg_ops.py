"""Products: dot, matmul, vdot, inner, outer, tensordot, trace (on dot_general)."""

from __future__ import annotations

import numpy as np

from fxad import lax
from fxad.core import Tracer
from fxad.numpy._core import conj, multiply, negative, subtract
from fxad.numpy._core import sum as _sum
from fxad.numpy._indexing import getitem
from fxad.numpy._shape import asarray, moveaxis, ravel, stack
from fxad.numpy._util import (
    any_tracer,
    asarray_value,
    broadcast_to_shape,
    canonical_axis,
    convert,
    result_type,
    shape_of,
)


def _promote2(a, b):
    a, b = asarray_value(a), asarray_value(b)
    dt = result_type(a, b)
    return convert(a, dt), convert(b, dt)


def _as_traced_or_array(x):
    return x if isinstance(x, Tracer) else np.asarray(x)


def matmul(a, b, /):
    """``numpy.matmul`` (``@``), with batch broadcasting.

    Example:
        >>> import fxad, numpy as np
        >>> A = np.array([[1.0, 2.0], [3.0, 4.0]])
        >>> fxad.grad(lambda x: (A @ x).sum())(np.ones(2))
        array([4., 6.])
    """
    if not any_tracer(a, b):
        return np.matmul(a, b)
    a, b = _promote2(a, b)
    a, b = _as_traced_or_array(a), _as_traced_or_array(b)
    sa, sb = shape_of(a), shape_of(b)
    if not sa or not sb:
        raise ValueError("matmul: Input operand does not have enough dimensions")
    a_vec, b_vec = len(sa) == 1, len(sb) == 1
    if a_vec:
        a = lax.reshape(a, (1,) + sa) if isinstance(a, Tracer) else a.reshape((1,) + sa)
    if b_vec:
        b = lax.reshape(b, sb + (1,)) if isinstance(b, Tracer) else b.reshape(sb + (1,))
    sa, sb = shape_of(a), shape_of(b)
    if sa[-1] != sb[-2]:
        raise ValueError(f"matmul: mismatch in core dimension: {sa} @ {sb}")
    batch = np.broadcast_shapes(sa[:-2], sb[:-2])
    if len(batch) == 0:
        out = lax.dot_general(a, b, (((1,), (0,)), ((), ())))
    else:
        a = broadcast_to_shape(a, batch + sa[-2:])
        b = broadcast_to_shape(b, batch + sb[-2:])
        nb = len(batch)
        bd = tuple(range(nb))
        out = lax.dot_general(a, b, (((nb + 1,), (nb,)), (bd, bd)))
    shp = shape_of(out)
    if a_vec and b_vec:
        return lax.reshape(out, shp[:-2])
    if a_vec:
        return lax.reshape(out, shp[:-2] + shp[-1:])
    if b_vec:
        return lax.reshape(out, shp[:-1])
    return out


def dot(a, b, /):
    """``numpy.dot``: scalars multiply, vectors/matrices contract the last axis
    of ``a`` with the second-to-last of ``b``."""
    if not any_tracer(a, b):
        return np.dot(a, b)
    a, b = _promote2(a, b)
    sa, sb = shape_of(a), shape_of(b)
    if not sa or not sb:
        return multiply(a, b)
    ca = len(sa) - 1
    cb = 0 if len(sb) == 1 else len(sb) - 2
    if sa[ca] != sb[cb]:
        raise ValueError(f"shapes {sa} and {sb} not aligned")
    return lax.dot_general(a, b, (((ca,), (cb,)), ((), ())))


def vdot(a, b, /):
    """``numpy.vdot``: flatten both, conjugate ``a``, inner product."""
    if not any_tracer(a, b):
        return np.vdot(a, b)
    return dot(conj(ravel(a)), ravel(b))


def inner(a, b, /):
    """``numpy.inner``: contract the last axes."""
    if not any_tracer(a, b):
        return np.inner(a, b)
    a, b = _promote2(a, b)
    sa, sb = shape_of(a), shape_of(b)
    if not sa or not sb:
        return multiply(a, b)
    return lax.dot_general(a, b, (((len(sa) - 1,), (len(sb) - 1,)), ((), ())))


def outer(a, b):
    """``numpy.outer`` (inputs flattened)."""
    if not any_tracer(a, b):
        return np.outer(a, b)
    a, b = _promote2(a, b)
    return lax.dot_general(ravel(a), ravel(b), (((), ()), ((), ())))


def tensordot(a, b, axes=2):
    """``numpy.tensordot``."""
    if not any_tracer(a, b):
        return np.tensordot(a, b, axes)
    a, b = _promote2(a, b)
    na, nb = len(shape_of(a)), len(shape_of(b))
    if isinstance(axes, (int, np.integer)):
        k = int(axes)
        ca = tuple(range(na - k, na))
        cb = tuple(range(k))
    else:
        ax_a, ax_b = axes
        ax_a = (ax_a,) if isinstance(ax_a, (int, np.integer)) else tuple(ax_a)
        ax_b = (ax_b,) if isinstance(ax_b, (int, np.integer)) else tuple(ax_b)
        if len(ax_a) != len(ax_b):
            raise ValueError("shape-mismatch for sum")
        ca = tuple(canonical_axis(x, na) for x in ax_a)
        cb = tuple(canonical_axis(x, nb) for x in ax_b)
    return lax.dot_general(a, b, ((ca, cb), ((), ())))


def trace(a, offset=0, axis1=0, axis2=1, dtype=None):
    """``numpy.trace``: sum along a diagonal."""
    if not isinstance(a, Tracer):
        return np.trace(a, offset, axis1, axis2, dtype)
    d = diagonal(a, offset, axis1, axis2)
    return _sum(d, axis=-1, dtype=dtype)


def diagonal(a, offset=0, axis1=0, axis2=1):
    """``numpy.diagonal`` (as a gather of the diagonal)."""
    if not isinstance(a, Tracer):
        return np.diagonal(a, offset, axis1, axis2)
    nd = a.ndim
    ax1, ax2 = canonical_axis(axis1, nd), canonical_axis(axis2, nd)
    if ax1 == ax2:
        raise ValueError("axis1 and axis2 cannot be the same")
    a = moveaxis(a, (ax1, ax2), (-2, -1))
    n, m = a.aval.shape[-2], a.aval.shape[-1]
    if offset >= 0:
        k = max(0, min(n, m - offset))
        rows = np.arange(k)
        cols = rows + offset
    else:
        k = max(0, min(n + offset, m))
        cols = np.arange(k)
        rows = cols - offset
    return getitem(a, (Ellipsis, rows, cols))


# ---------------------------------------------------------------------------
# NumPy 2 vector products and the cross product


def vecdot(x1, x2, /, *, axis=-1):
    """``numpy.vecdot``: ``sum(conj(x1) * x2, axis)`` with broadcasting (the
    dtype is the operands', as NumPy's gufunc).

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> fnp.vecdot(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, 1.0]))
        array([3., 7.])
    """
    if not any_tracer(x1, x2):
        return np.vecdot(x1, x2, axis=axis)
    x1, x2 = _promote2(x1, x2)
    n1, n2 = len(shape_of(x1)), len(shape_of(x2))
    if not n1 or not n2:
        raise ValueError("vecdot: Input operand does not have enough dimensions")
    x1 = moveaxis(conj(x1), canonical_axis(axis, n1), -1)
    x2 = moveaxis(x2, canonical_axis(axis, n2), -1)
    out = matmul(_as_traced_or_array(x1)[..., None, :], _as_traced_or_array(x2)[..., :, None])
    return out[..., 0, 0]


def matvec(x1, x2, /):
    """``numpy.matvec``: matrix-vector products ``x1 @ x2`` over broadcast
    batch axes.

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.matvec(np.eye(2), np.array([1.0, 2.0]))
        array([1., 2.])
    """
    if not any_tracer(x1, x2):
        return np.matvec(x1, x2)
    x2 = _as_traced_or_array(x2)
    if len(shape_of(x1)) < 2 or len(shape_of(x2)) < 1:
        raise ValueError("matvec: Input operand does not have enough dimensions")
    return matmul(x1, x2[..., None])[..., 0]


def vecmat(x1, x2, /):
    """``numpy.vecmat``: vector-matrix products ``conj(x1) @ x2`` over
    broadcast batch axes.

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.vecmat(np.array([1.0, 2.0]), np.eye(2))
        array([1., 2.])
    """
    if not any_tracer(x1, x2):
        return np.vecmat(x1, x2)
    x1 = _as_traced_or_array(conj(x1))
    if len(shape_of(x1)) < 1 or len(shape_of(x2)) < 2:
        raise ValueError("vecmat: Input operand does not have enough dimensions")
    return matmul(x1[..., None, :], x2)[..., 0, :]


def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Differentiable ``numpy.cross``: the cross product of 3-vectors (or of
    2-vectors, NumPy's deprecated z-component form) along ``axisa`` and
    ``axisb``, the result's vectors along ``axisc`` (``axis`` sets all three).

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.cross(np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0]))
        array([0., 0., 1.])
    """
    if not any_tracer(a, b):
        return np.cross(a, b, axisa, axisb, axisc, axis)
    import warnings

    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = asarray(a), asarray(b)
    if not shape_of(a) or not shape_of(b):
        raise ValueError("At least one array has zero dimension")
    a = moveaxis(a, canonical_axis(axisa, len(shape_of(a)), "axisa"), -1)
    b = moveaxis(b, canonical_axis(axisb, len(shape_of(b)), "axisb"), -1)
    na, nb = shape_of(a)[-1], shape_of(b)[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError("incompatible dimensions for cross product\n"
                         "(dimension must be 2 or 3)")
    if na == 2 or nb == 2:
        warnings.warn("Arrays of 2-dimensional vectors are deprecated. Use arrays of "
                      "3-dimensional vectors instead. (deprecated in NumPy 2.0)",
                      DeprecationWarning, stacklevel=2)
    dt = np.promote_types(a.dtype, b.dtype)
    a, b = convert(a, dt), convert(b, dt)
    a0, a1, b0, b1 = a[..., 0], a[..., 1], b[..., 0], b[..., 1]
    cp2 = subtract(multiply(a0, b1), multiply(a1, b0))
    if na == 2 and nb == 2:
        return cp2
    if na == 2:
        b2 = b[..., 2]
        cp0, cp1 = multiply(a1, b2), negative(multiply(a0, b2))
    elif nb == 2:
        a2 = a[..., 2]
        cp0, cp1 = negative(multiply(a2, b1)), multiply(a2, b0)
    else:
        a2, b2 = a[..., 2], b[..., 2]
        cp0 = subtract(multiply(a1, b2), multiply(a2, b1))
        cp1 = subtract(multiply(a2, b0), multiply(a0, b2))
    shape = np.broadcast_shapes(shape_of(cp0), shape_of(cp1), shape_of(cp2))
    cp = stack([broadcast_to_shape(asarray(c), shape) for c in (cp0, cp1, cp2)], axis=-1)
    return moveaxis(cp, -1, canonical_axis(axisc, len(shape) + 1, "axisc"))
