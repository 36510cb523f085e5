"""NumPy indexing of tracers: ``x[...]`` becomes one ``gather``.

The index is normalised to one static entry per position (see the gather
block in ``fxad.lax.lax``): Ellipsis is expanded, slices are resolved
against the shape, concrete boolean masks become integer index arrays
(``nonzero``), and integer index arrays (lists too, even of traced integers)
become operands of the gather.  A scalar boolean (``x[True]``) is NumPy's
advanced index on a new unit axis: the operand gets that axis first (one
``expand_dims``) and the entry indexes it with ``[0]`` or ``[]``.

A traced integer position (``x[i]``, ``x[i:i + k]`` with ``i`` abstract:
under jit, make_jaxpr or vmap) is a ``dynamic_slice`` instead (see
``_split_dynamic``).  It cannot raise IndexError, so it follows JAX: a
negative position counts from the end (as NumPy), and a position out of
range is clamped so the slice fits (NumPy would raise, or shorten a slice).
"""

from __future__ import annotations

import numpy as np

from fxad import lax
from fxad.core import Literal, Tracer, get_aval
from fxad.interpreters.ad import JVPTracer
from fxad.interpreters.batching import BatchTracer
from fxad.interpreters.partial_eval import JaxprTracer
from fxad.numpy._core import (
    greater_equal,
    less,
    logical_and,
    negative,
    remainder,
    true_divide,
    where,
)
from fxad.numpy._creation import ones_like
from fxad.numpy._shape import array, asarray, clip, ravel, reshape
from fxad.numpy._util import asarray_value, broadcast_to_shape, canonical_axis, convert, shape_of


def _is_int_scalar(i):
    return isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_))


def _normalize(shape, idx):
    if not isinstance(idx, tuple):
        idx = (idx,)
    # Lists and masks first: they change how many axes an entry consumes.
    items = []
    for i in idx:
        if isinstance(i, Tracer):
            if i.aval.dtype == np.bool_:
                v = i.to_concrete_value()
                if v is None:
                    raise IndexError(
                        "fxad: a boolean mask index must be concrete (the result's shape "
                        "depends on its values); use fxad.numpy.where(mask, x, 0) instead.")
                i = np.asarray(v)
            elif not np.issubdtype(i.aval.dtype, np.integer):
                raise IndexError(f"fxad: index arrays must be integer or boolean, got "
                                 f"{i.aval.dtype.name}")
        elif isinstance(i, list):
            if _has_tracer(i):
                i = array(i)
                if not np.issubdtype(i.aval.dtype, np.integer):
                    raise IndexError("fxad: a list of traced indices must hold integers")
            else:
                i = np.asarray(i)
                if i.size == 0:
                    i = i.astype(np.intp)
        elif isinstance(i, (bool, np.bool_)):
            i = np.asarray(i)
        items.append(i)

    def consumed(i):
        if i is None or i is Ellipsis:
            return 0
        if isinstance(i, np.ndarray) and i.dtype == np.bool_:
            return i.ndim
        return 1

    n_ell = sum(1 for i in items if i is Ellipsis)
    if n_ell > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    used = sum(consumed(i) for i in items)
    if used > len(shape):
        raise IndexError(f"too many indices for array: array is {len(shape)}-dimensional, "
                         f"but {used} were indexed")
    expanded = []
    for i in items:
        if i is Ellipsis:
            expanded.extend([slice(None)] * (len(shape) - used))
        else:
            expanded.append(i)
    if n_ell == 0:
        expanded.extend([slice(None)] * (len(shape) - used))

    shape = list(shape)
    indexer, arrays, new_axes = [], [], []
    dim = 0
    for i in expanded:
        if i is None:
            indexer.append(("n",))
            continue
        if isinstance(i, np.ndarray) and i.dtype == np.bool_ and i.ndim == 0:
            # A scalar mask indexes a new unit axis (inserted into the operand
            # here) with [0] if True and [] if False: advanced indexing, as NumPy.
            new_axes.append(dim)
            shape.insert(dim, 1)
            indexer.append(("a", len(arrays)))
            arrays.append(np.zeros(int(i), np.intp))
            dim += 1
            continue
        if isinstance(i, slice):
            n = shape[dim]
            start, stop, step = i.indices(n)
            if step < 0 and stop < 0:
                stop = None
            indexer.append(("s", start, stop, step))
            dim += 1
        elif _is_int_scalar(i):
            n = shape[dim]
            k = int(i)
            if not -n <= k < n:
                raise IndexError(f"index {k} is out of bounds for axis {dim} with size {n}")
            indexer.append(("i", k % n))
            dim += 1
        elif isinstance(i, np.ndarray) and i.dtype == np.bool_:
            if i.shape != tuple(shape[dim:dim + i.ndim]):
                raise IndexError(f"boolean index of shape {i.shape} does not match the "
                                 f"indexed axes {tuple(shape[dim:dim + i.ndim])}")
            for nz in np.nonzero(i):
                indexer.append(("a", len(arrays)))
                arrays.append(nz.astype(np.intp))
            dim += i.ndim
        elif isinstance(i, (np.ndarray, Tracer)):
            if isinstance(i, np.ndarray):
                if not np.issubdtype(i.dtype, np.integer):
                    raise IndexError("arrays used as indices must be of integer (or boolean) type")
                n = shape[dim]
                if i.size and (i.max() >= n or i.min() < -n):
                    raise IndexError(f"index out of bounds for axis {dim} with size {n}")
            indexer.append(("a", len(arrays)))
            arrays.append(i)
            dim += 1
        else:
            raise IndexError(
                f"fxad: unsupported index {i!r} of type {type(i).__name__}; use integers, "
                "slices, None, Ellipsis, integer arrays or concrete boolean masks.")
    return tuple(indexer), arrays, tuple(new_axes)


def _has_tracer(x):
    if isinstance(x, Tracer):
        return True
    return isinstance(x, (list, tuple)) and any(_has_tracer(e) for e in x)


def getitem(x, idx):
    """``x[idx]`` for a tracer ``x`` (basic and advanced NumPy indexing), or a
    NumPy ``x`` with traced index arrays.  Traced positions (``x[i]``,
    ``x[i:i + k]`` under jit or vmap) take one ``dynamic_slice``."""
    shape = np.shape(x) if not isinstance(x, Tracer) else x.aval.shape
    split = _split_dynamic(shape, idx)
    if split is not None:
        return _dynamic_getitem(x, *split)
    indexer, arrays, new_axes = _normalize(shape, idx)
    if new_axes:
        x = lax.expand_dims(x, new_axes)
    shape = np.shape(x) if not isinstance(x, Tracer) else x.aval.shape
    if all(e[0] == "s" and e[1] == 0 and e[2] == n and e[3] == 1
           for e, n in zip(indexer, shape)) and len(indexer) == len(shape):
        return x
    return lax.gather(x, arrays, indexer)


# ---------------------------------------------------------------------------
# Traced positions: ``x[i]``, ``x[i:i + k]`` with ``i`` traced (under jit,
# make_jaxpr or vmap) become one ``dynamic_slice`` of the indexed region,
# then the rest of the index (static) applied to that region.  The region
# keeps every axis, so a traced scalar becomes the static index 0 on its
# length-1 axis: the rest is then the same NumPy index (advanced indices
# keep NumPy's placement, a scalar counting as one).  A traced position
# cannot raise, so NumPy's bounds check gives way to JAX's rule: a negative
# position counts from the end, then the slice is clamped to fit.

_DYNAMIC_SCALAR = object()  # where a traced scalar was, in the rest of the index


def _is_traced(v):
    return isinstance(v, Tracer) and v.to_concrete_value() is None


def _concrete_int(v, what):
    if isinstance(v, Tracer):
        if not (v.aval.shape == () and np.issubdtype(v.aval.dtype, np.integer)):
            raise IndexError(f"fxad: slice {what} must be integer scalars, got "
                             f"{v.aval.str_short()}")
        return int(v.to_concrete_value())
    return v


def _is_dynamic_entry(i):
    if isinstance(i, slice):
        return any(_is_traced(v) for v in (i.start, i.stop, i.step))
    return (_is_traced(i) and i.aval.shape == ()
            and np.issubdtype(i.aval.dtype, np.integer))


def _static_offset(stop, start, depth=0):
    """``k`` when ``stop`` is ``start + k`` for a static int ``k`` (read off
    the staged equations, through vmap's and jvp's tracers), else None."""
    if stop is start:
        return 0
    if depth > 8:
        return None
    if isinstance(stop, JaxprTracer) and isinstance(start, JaxprTracer):
        if stop._trace is not start._trace:
            return None
        return _var_offset(stop._trace.eqns, stop.ir_var, start.ir_var)
    if isinstance(stop, BatchTracer) and isinstance(start, BatchTracer):
        if stop._trace is not start._trace or stop.bdim != start.bdim:
            return None
        return _static_offset(stop.val, start.val, depth + 1)
    if isinstance(stop, JVPTracer) and isinstance(start, JVPTracer):
        if stop._trace is not start._trace:
            return None
        return _static_offset(stop.primal, start.primal, depth + 1)
    if isinstance(stop, Tracer) or isinstance(start, Tracer):
        return None
    d = np.asarray(stop) - np.asarray(start)  # vmap's per-example values
    if d.size and np.issubdtype(d.dtype, np.integer) and np.all(d == d.flat[0]):
        return int(d.flat[0])
    return None


def _var_offset(eqns, var, start_var):
    (r1, k1), (r2, k2) = _var_base(eqns, var), _var_base(eqns, start_var)
    return k1 - k2 if r1 is r2 else None


#: How far back (in staged equations) the adds that make ``i + k`` are looked
#: for: they are written just before the slice, and a bound keeps indexing
#: from scanning a long trace once per slice.
_OFFSET_WINDOW = 256


def _var_base(eqns, var):
    """``(root, k)`` with ``var`` staged as ``root + k`` (adds and subtracts
    of integer literals), so ``i - 1`` and ``i + 1`` share the root ``i``."""
    k = 0
    recent = eqns[-_OFFSET_WINDOW:]
    for _ in range(8):
        for eqn in reversed(recent):
            if eqn.outvars[0] is var:
                break
        else:
            return var, k
        prim = eqn.primitive
        if (prim is not lax.add_p and prim is not lax.sub_p) or len(eqn.invars) != 2:
            return var, k
        a, b = eqn.invars
        if isinstance(b, Literal) and not isinstance(a, Literal):
            k, var = k + (int(b.val) if prim is lax.add_p else -int(b.val)), a
        elif prim is lax.add_p and isinstance(a, Literal) and not isinstance(b, Literal):
            k, var = k + int(a.val), b
        else:
            return var, k
    return var, k


def _dynamic_slice_entry(s, n, dim):
    """(start, size, step) of a slice with a traced start and a static size."""
    step = 1 if s.step is None else _concrete_int(s.step, "steps")
    if _is_traced(s.step) or step < 1:
        raise IndexError(
            f"fxad: a slice with a traced start needs a static positive step, got "
            f"step {s.step!r} on axis {dim}; reverse with fxad.numpy.flip after slicing.")
    start, stop = s.start, s.stop
    k = None
    if _is_traced(start) and isinstance(stop, Tracer):
        if not (stop.aval.shape == () and np.issubdtype(stop.aval.dtype, np.integer)):
            raise IndexError(f"fxad: slice bounds must be integer scalars, got "
                             f"{stop.aval.str_short()}")
        k = _static_offset(stop, start)
    if k is None:
        raise IndexError(
            f"fxad: the slice on axis {dim} has a traced bound and no static size "
            f"(slice({start!r}, {stop!r})), but an array's shape must be static. Write "
            "x[i:i + k] with a traced i and a Python int k, or call "
            "fxad.lax.dynamic_slice(x, start_indices, slice_sizes) (or "
            "fxad.lax.dynamic_slice_in_dim) with the static size.")
    if not (start.aval.shape == () and np.issubdtype(start.aval.dtype, np.integer)):
        raise IndexError(f"fxad: slice bounds must be integer scalars, got "
                         f"{start.aval.str_short()}")
    k = k if k > 0 else 0
    if k > n:
        raise IndexError(
            f"fxad: the slice i:i + {k} on axis {dim} is longer than the axis ({n}); a "
            "slice at a traced start must fit in the array.")
    return start, k, step


def _consumed(i):
    if i is None or i is Ellipsis or isinstance(i, (bool, np.bool_)):
        return 0
    if isinstance(i, Tracer) and i.aval.dtype == np.bool_:
        return i.aval.ndim
    if isinstance(i, (np.ndarray, list)) and not _has_tracer(i):
        a = np.asarray(i)
        return a.ndim if a.dtype == np.bool_ else 1
    return 1


def _split_dynamic(shape, idx):
    """``(starts, sizes, rest)`` when ``idx`` has traced positions (scalars or
    slices): ``x[idx]`` is ``dynamic_slice(x, starts, sizes)[rest]``.
    None when every position is static."""
    if not isinstance(idx, tuple):
        idx = (idx,)
    if not any(_is_dynamic_entry(i) for i in idx):
        return None
    used = sum(_consumed(i) for i in idx)
    n_ell = sum(1 for i in idx if i is Ellipsis)
    if n_ell > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if used > len(shape):
        raise IndexError(f"too many indices for array: array is {len(shape)}-dimensional, "
                         f"but {used} were indexed")
    starts, sizes, rest = [0] * len(shape), list(shape), []
    dim = 0
    for i in idx:
        if i is Ellipsis:
            dim += len(shape) - used
            rest.append(i)
        elif isinstance(i, slice) and _is_dynamic_entry(i):
            starts[dim], sizes[dim], step = _dynamic_slice_entry(i, shape[dim], dim)
            rest.append(_builtin_slice(None, None, None if step == 1 else step))
            dim += 1
        elif _is_dynamic_entry(i):
            if shape[dim] == 0:
                raise IndexError(f"index is out of bounds for axis {dim} with size 0")
            starts[dim], sizes[dim] = i, 1
            rest.append(_DYNAMIC_SCALAR)
            dim += 1
        else:
            rest.append(i)
            dim += _consumed(i)
    return starts, sizes, tuple(rest)


_builtin_slice = slice


def _dynamic_getitem(x, starts, sizes, rest):
    region = lax.dynamic_slice(x, starts, sizes)
    if all(r is _DYNAMIC_SCALAR or r is Ellipsis or _is_full_slice(r) for r in rest):
        # Only traced scalars and full slices: the rest is a squeeze (the
        # common x[i], x[i, :], x[..., i] under jit).
        ell = [k for k, r in enumerate(rest) if r is Ellipsis]
        cut = ell[0] if ell else len(rest)
        nd = len(sizes)
        axes = [k for k, r in enumerate(rest[:cut]) if r is _DYNAMIC_SCALAR]
        axes += [nd - (len(rest) - cut - 1) + k for k, r in enumerate(rest[cut + 1:])
                 if r is _DYNAMIC_SCALAR]
        return lax.squeeze(region, tuple(axes)) if axes else region
    return getitem(region, _static_rest(rest))


def _is_full_slice(r):
    return isinstance(r, _builtin_slice) and r.start is None and r.stop is None and \
        r.step is None


def _static_rest(rest):
    return tuple(0 if r is _DYNAMIC_SCALAR else r for r in rest)


def take(a, indices, axis=None, out=None, mode=None):
    """``numpy.take``: ``mode`` ``'raise'`` (the default: out-of-range
    concrete indices raise), ``'wrap'`` or ``'clip'``.

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> fxad.grad(lambda x: fnp.take(x, [0, 0, 2]).sum())(np.ones(3))
        array([2., 0., 1.])
    """
    if out is not None:
        raise TypeError("fxad.numpy functions do not support out=: arrays are immutable")
    if not isinstance(a, Tracer) and not _has_tracer(indices):
        return np.take(a, indices, axis=axis, mode=mode or "raise")
    if axis is None:
        a = ravel(a)
        axis = 0
    shape = np.shape(a) if not isinstance(a, Tracer) else a.aval.shape
    axis = _canonical_axis(axis, len(shape))
    n = shape[axis]
    indices = asarray(indices)
    if mode in ("wrap", "clip"):
        indices = _wrap_or_clip(indices, n, mode)
    elif mode not in (None, "raise"):
        raise ValueError(f"clipmode must be one of 'clip', 'raise', or 'wrap' (got {mode!r})")
    if not isinstance(indices, Tracer):
        indices = np.asarray(indices)
        if not np.issubdtype(indices.dtype, np.integer):
            if indices.size:
                raise IndexError("arrays used as indices must be of integer type")
            indices = indices.astype(np.intp)
        if indices.ndim == 0:
            k = int(indices)
            if not -n <= k < n:
                raise IndexError(f"index {k} is out of bounds for axis {axis} with size {n}")
            return getitem(a, (slice(None),) * axis + (k % n,))
    return getitem(a, (slice(None),) * axis + (indices,))


def _canonical_axis(axis, nd):
    return canonical_axis(axis, nd)


def _wrap_or_clip(indices, n, mode):
    if n == 0:
        raise IndexError("cannot do a non-empty take from an empty axes.")
    if mode == "wrap":
        return remainder(indices, n)
    return clip(indices, 0, n - 1)


def take_along_axis(arr, indices, axis=-1):
    """Differentiable ``numpy.take_along_axis`` (one gather; its transpose
    scatters back, repeated indices accumulating).

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> x = np.array([[3.0, 1.0, 2.0]])
        >>> fnp.take_along_axis(x, fnp.argsort(x, axis=1), axis=1)
        array([[1., 2., 3.]])
    """
    if not isinstance(arr, Tracer) and not isinstance(indices, Tracer):
        return np.take_along_axis(arr, indices, axis=axis)
    arr, indices = asarray(arr), asarray(indices)
    if axis is None:
        if np.ndim(indices) != 1 if not isinstance(indices, Tracer) else indices.ndim != 1:
            raise ValueError("when axis=None, `indices` must have a single dimension.")
        arr = ravel(arr)
        axis = 0
    a_shape = np.shape(arr) if not isinstance(arr, Tracer) else arr.aval.shape
    i_shape = np.shape(indices) if not isinstance(indices, Tracer) else indices.aval.shape
    nd = len(a_shape)
    if len(i_shape) != nd:
        raise ValueError("`indices` and `arr` must have the same number of dimensions")
    i_dt = indices.dtype
    if not np.issubdtype(i_dt, np.integer):
        raise IndexError("`indices` must be an integer array")
    axis = _canonical_axis(axis, nd)
    # NumPy's own construction: an arange for every other axis, broadcast
    # against the indices (size-1 axes on either side broadcast).
    idx = []
    for d in range(nd):
        if d == axis:
            idx.append(indices)
        else:
            idx.append(np.arange(a_shape[d]).reshape(
                tuple(a_shape[d] if i == d else 1 for i in range(nd))))
    return getitem(arr, tuple(idx))


def put_along_axis(arr, indices, values, axis, *, inplace=False):
    """``numpy.put_along_axis`` as a function: the array with ``values`` put
    at ``indices`` along ``axis`` (NumPy's index construction, as
    ``take_along_axis``), returned rather than written in place (fxad arrays
    are immutable; ``inplace=True`` is refused, as ``jax.numpy``'s).
    Differentiable in ``arr`` (zero where overwritten) and ``values``.

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> x = np.array([[10.0, 30.0, 20.0]])
        >>> fnp.put_along_axis(x, np.array([[1]]), 0.0, axis=1)
        array([[10.,  0., 20.]])
    """
    if inplace:
        raise ValueError("fxad.numpy.put_along_axis: inplace=True is not supported (arrays "
                         "are immutable); use out = fxad.numpy.put_along_axis(arr, indices, "
                         "values, axis)")
    if not isinstance(arr, Tracer):
        arr = np.asarray(asarray_value(arr))
    if axis is None:  # NumPy writes through arr.flat: the shape is kept
        shape = arr.aval.shape if isinstance(arr, Tracer) else arr.shape
        return reshape(put_along_axis(ravel(arr), indices, values, 0), shape)
    a_shape = arr.aval.shape if isinstance(arr, Tracer) else arr.shape
    indices = indices if isinstance(indices, Tracer) else np.asarray(indices)
    i_shape = indices.aval.shape if isinstance(indices, Tracer) else indices.shape
    nd = len(a_shape)
    if len(i_shape) != nd:
        raise ValueError("`indices` and `arr` must have the same number of dimensions")
    if not np.issubdtype(_dtype_of(indices), np.integer):
        raise IndexError("`indices` must be an integer array")
    axis = _canonical_axis(axis, nd)
    idx = tuple(indices if d == axis else np.arange(a_shape[d]).reshape(
        tuple(a_shape[d] if i == d else 1 for i in range(nd))) for d in range(nd))
    return _scatter(lax.scatter, arr, idx, values)


# ---------------------------------------------------------------------------
# Indexed updates: ``x.at[idx].set(v)`` and friends, JAX's API


class _IndexUpdateHelper:
    """``x.at``: functional indexed updates, as JAX's ``Array.at``.

    ``x.at[idx].set(v)`` returns a copy of ``x`` with ``x[idx]`` replaced by
    ``v``; ``.add``, ``.subtract``, ``.multiply`` (``.mul``), ``.divide``,
    ``.min`` and ``.max`` combine instead, and ``.get()`` is ``x[idx]``.
    ``idx`` is any NumPy index (ints, slices, None, Ellipsis, integer arrays,
    even traced ones, concrete boolean masks).  ``v`` is broadcast to the
    shape of ``x[idx]`` and cast to ``x``'s dtype, as in JAX.

    Repeated indices: ``add``, ``multiply``, ``min`` and ``max`` combine every
    update (like ``numpy.add.at``); ``set`` follows NumPy's assignment
    ``x[idx] = v``, where the last of the repeated updates wins (JAX leaves
    the winner unspecified).  Out-of-range concrete indices raise, as in
    NumPy (JAX drops them).

    Derivatives are JAX's: ``set`` gives the tangent of ``v`` where it was
    written and that of ``x`` elsewhere; ``add`` is linear; ``multiply`` is
    exact with zeros and repeated indices; ``min``/``max`` send the tangent
    to the values that attain the extremum, ties sharing it equally.

    Tracers have ``.at`` (inside transformations every input is a tracer);
    for NumPy arrays, ``fxad.numpy.at(x)[idx]`` gives the same interface.

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> f = lambda x: x.at[1].set(x[0] ** 2).sum()
        >>> fxad.grad(f)(np.array([3.0, 5.0, 7.0]))
        array([7., 0., 1.])
        >>> fnp.at(np.zeros(3))[[0, 0, 2]].add(1.0)
        array([2., 0., 1.])
    """

    __slots__ = ("array",)

    def __init__(self, array):
        self.array = array

    def __getitem__(self, index):
        return _IndexUpdateRef(self.array, index)

    def __repr__(self):
        return f"_IndexUpdateHelper({self.array!r})"


class _IndexUpdateRef:
    """``x.at[idx]``: call ``.set``, ``.add``, ... on it (see ``x.at``)."""

    __slots__ = ("array", "index")

    def __init__(self, array, index):
        self.array = array
        self.index = index

    def __repr__(self):
        return f"_IndexUpdateRef({self.array!r}, {self.index!r})"

    def get(self, *, indices_are_sorted=False, unique_indices=False, mode=None,
            fill_value=None):
        """``x[idx]``; with ``mode="fill"`` (or ``"drop"``) out-of-bound
        integer indices give ``fill_value`` (default NaN for floats, the
        most negative integer for signed, the largest for unsigned, True for
        booleans, as JAX)."""
        if _check_mode(mode, fill_value, get=True):
            return _get_filled(self.array, self.index, fill_value)
        x = self.array
        if isinstance(x, Tracer) or _has_tracer(self.index):
            return getitem(x, self.index)
        return np.asarray(x)[self.index]

    def set(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """``x`` with ``x[idx] = values`` (NumPy's assignment)."""
        if _check_mode(mode):
            return _drop_out_of_bounds(lax.scatter, self.array, self.index, values)
        return _scatter(lax.scatter, self.array, self.index, values)

    def add(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """``x`` with ``values`` added at ``idx`` (repeats accumulate)."""
        if _check_mode(mode):
            return _drop_out_of_bounds(lax.scatter_add, self.array, self.index, values)
        return _scatter(lax.scatter_add, self.array, self.index, values)

    def subtract(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """``x`` with ``values`` subtracted at ``idx``."""
        if _check_mode(mode):
            return _drop_out_of_bounds(lax.scatter_add, self.array, self.index, values,
                                       negative)
        return _scatter(lax.scatter_add, self.array, self.index, values, negative)

    def multiply(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """``x`` with ``x[idx]`` multiplied by ``values`` (repeats multiply)."""
        if _check_mode(mode):
            return _drop_out_of_bounds(lax.scatter_mul, self.array, self.index, values)
        return _scatter(lax.scatter_mul, self.array, self.index, values)

    mul = multiply

    def divide(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """``x`` with ``x[idx]`` divided by ``values`` (JAX's: ``x`` over the
        product of the divisors scattered into ones)."""
        drop = _check_mode(mode)
        x = self.array
        dt = _dtype_of(x)
        if not np.issubdtype(dt, np.inexact):
            raise TypeError(f"x.at[...].divide needs a floating-point array, got {dt.name}")
        scatter = _drop_out_of_bounds if drop else _scatter
        return true_divide(x, scatter(lax.scatter_mul, ones_like(x), self.index, values))

    def min(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):  # noqa: A003
        """``x`` with ``x[idx] = minimum(x[idx], values)`` (repeats too)."""
        if _check_mode(mode):
            return _drop_out_of_bounds(lax.scatter_min, self.array, self.index, values)
        return _scatter(lax.scatter_min, self.array, self.index, values)

    def max(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):  # noqa: A003
        """``x`` with ``x[idx] = maximum(x[idx], values)`` (repeats too)."""
        if _check_mode(mode):
            return _drop_out_of_bounds(lax.scatter_max, self.array, self.index, values)
        return _scatter(lax.scatter_max, self.array, self.index, values)


def at(x):
    """``x.at`` for any array: ``fxad.numpy.at(x)[idx].set(v)`` works on
    NumPy arrays (constants, ``fxad.numpy.zeros(...)``) as ``x.at[idx]``
    does on traced values.

    Example:
        >>> import fxad.numpy as fnp
        >>> fnp.at(fnp.zeros(4))[1:3].set(5.0)
        array([0., 5., 5., 0.])
    """
    return _IndexUpdateHelper(x)


def _check_mode(mode, fill_value=None, get=False):
    """Whether out-of-bound indices are dropped (``mode="drop"``; for ``get``
    also ``"fill"``), or raise as NumPy's (None, "raise", "promise_in_bounds")."""
    dropping = ("drop", "fill") if get else ("drop",)
    if mode in dropping:
        return True
    if mode not in (None, "promise_in_bounds", "raise") or fill_value is not None:
        raise NotImplementedError(
            f"fxad: .at[...] supports mode=None (NumPy's: out-of-range indices raise) and "
            f"mode='drop' (out-of-bound indices dropped; get: also mode='fill' with "
            f"fill_value), "
            f"got mode={mode!r}, fill_value={fill_value!r}")
    return False


def _bounded_index(shape, idx, name):
    """``idx`` with every integer (array) component mapped into the array
    padded by one slot on its axis: valid indices (``-n <= i < n``) to
    ``0..n-1``, the others to ``n``, the pad.  Returns (new index, axes to
    pad).  Slices and Ellipsis pass; None and boolean masks are refused."""
    idx = idx if isinstance(idx, tuple) else (idx,)
    n_ell = sum(1 for c in idx if c is Ellipsis)
    if n_ell > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    used = sum(1 for c in idx if c is not Ellipsis)
    if used > len(shape):
        raise IndexError(f"too many indices for array: array is {len(shape)}-dimensional, "
                         f"but {used} were indexed")
    out, axes, d = [], [], 0
    for c in idx:
        if c is Ellipsis:
            k = len(shape) - used
            out.extend([slice(None)] * k)
            d += k
            continue
        if c is None or isinstance(c, (bool, np.bool_)) or (
                not isinstance(c, slice) and np.issubdtype(_dtype_of(c), np.bool_)):
            raise NotImplementedError(f"fxad: .at[...].{name}(mode='drop') takes integer, "
                                      "integer-array, slice and Ellipsis indices (no None or "
                                      "boolean masks)")
        if isinstance(c, slice):
            out.append(c)
        else:
            n = shape[d]
            c = c if isinstance(c, Tracer) else np.asarray(c)
            if not np.issubdtype(_dtype_of(c), np.integer):
                raise IndexError("only integers, slices (`:`), ellipsis (`...`) and integer "
                                 "arrays are valid indices")
            valid = logical_and(greater_equal(c, -n), less(c, n))
            out.append(where(valid, remainder(c, n) if n else c, n))
            axes.append(d)
        d += 1
    return tuple(out), axes


def _pad_axes(x, axes, value):
    shape = x.aval.shape if isinstance(x, Tracer) else np.shape(x)
    widths = [(0, 1 if d in axes else 0, 0) for d in range(len(shape))]
    dt = _dtype_of(x)
    return lax.pad(x if isinstance(x, Tracer) else np.asarray(x), np.asarray(value, dt)[()],
                   widths)


def _drop_out_of_bounds(lax_fn, x, idx, values, transform=None):
    """The update with out-of-bound integer indices dropped: they point at a
    pad slot, sliced off afterwards (so repeated and dropped indices never
    interact)."""
    shape = x.aval.shape if isinstance(x, Tracer) else np.shape(x)
    new_idx, axes = _bounded_index(shape, idx, lax_fn.__name__)
    if not axes:
        return _scatter(lax_fn, x, idx, values, transform)
    out = _scatter(lax_fn, _pad_axes(x, axes, 0), new_idx, values, transform)
    return lax.slice(out, (0,) * len(shape), tuple(shape))


def _default_fill(dt):
    if np.issubdtype(dt, np.inexact):
        return np.nan
    if dt == np.bool_:
        return True
    return np.iinfo(dt).min if np.issubdtype(dt, np.signedinteger) else np.iinfo(dt).max


def _get_filled(x, idx, fill_value):
    shape = x.aval.shape if isinstance(x, Tracer) else np.shape(x)
    new_idx, axes = _bounded_index(shape, idx, "get")
    if not axes:
        return getitem(x, idx) if isinstance(x, Tracer) or _has_tracer(idx) else \
            np.asarray(x)[idx]
    fill = _default_fill(_dtype_of(x)) if fill_value is None else fill_value
    padded = _pad_axes(x, axes, fill)
    if isinstance(padded, Tracer) or _has_tracer(new_idx):
        return getitem(padded, new_idx)
    return np.asarray(padded)[new_idx]


def _dtype_of(x):
    return x.aval.dtype if isinstance(x, Tracer) else np.asarray(x).dtype


def _scatter(lax_fn, x, idx, values, transform=None):
    if not isinstance(x, Tracer):
        x = np.asarray(x)
    shape = x.aval.shape if isinstance(x, Tracer) else x.shape
    split = _split_dynamic(shape, idx)
    if split is not None:
        # Update the dynamically sliced region, then write it back.
        starts, sizes, rest = split
        region = lax.dynamic_slice(x, starts, sizes)
        region = _scatter(lax_fn, region, _static_rest(rest), values, transform)
        return lax.dynamic_update_slice(x, region, starts)
    dt = _dtype_of(x)
    indexer, arrays, new_axes = _normalize(shape, idx)
    xe = lax.expand_dims(x, new_axes) if new_axes else x
    target = lax.gather_p.abstract_eval(
        get_aval(xe), *[get_aval(a) for a in arrays], indexer=indexer).shape
    v = asarray_value(values)
    if transform is not None:
        v = transform(v)
    v = convert(v, dt)
    vs = shape_of(v)
    if len(vs) > len(target):  # leading unit axes are dropped, as NumPy assigns
        extra = len(vs) - len(target)
        if any(d != 1 for d in vs[:extra]):
            raise ValueError(f"shape mismatch: value array of shape {vs} could not be "
                             f"broadcast to indexing result of shape {target}")
        v = lax.reshape(v, vs[extra:])
    try:
        v = broadcast_to_shape(v, target)
    except ValueError:
        raise ValueError(f"shape mismatch: value array of shape {vs} could not be broadcast "
                         f"to indexing result of shape {target}") from None
    out = lax_fn(xe, v, arrays, indexer)
    return lax.squeeze(out, new_axes) if new_axes else out
