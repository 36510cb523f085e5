"""NumPy indexing of tracers: ``x[...]`` becomes one ``gather``.

The index is normalised to one static entry per position (see the gather
block in ``fxad.lax.lax``): Ellipsis is expanded, slices are resolved
against the shape, concrete boolean masks become integer index arrays
(``nonzero``), and integer index arrays (lists too, even of traced integers)
become operands of the gather.  A scalar boolean (``x[True]``) is NumPy's
advanced index on a new unit axis: the operand gets that axis first (one
``expand_dims``) and the entry indexes it with ``[0]`` or ``[]``.
"""

from __future__ import annotations

import numpy as np

from fxad import lax
from fxad.core import Tracer


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
                from fxad.numpy._shape import array

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
    """``x[idx]`` for a tracer ``x`` (basic and advanced NumPy indexing)."""
    indexer, arrays, new_axes = _normalize(x.aval.shape, idx)
    if new_axes:
        x = lax.expand_dims(x, new_axes)
    shape = x.aval.shape
    if all(e[0] == "s" and e[1] == 0 and e[2] == n and e[3] == 1
           for e, n in zip(indexer, shape)) and len(indexer) == len(shape):
        return x
    return lax.gather(x, arrays, indexer)


def take(a, indices, axis=None):
    """``numpy.take`` (mode 'raise' only)."""
    if not isinstance(a, Tracer) and not isinstance(indices, Tracer):
        return np.take(a, indices, axis=axis)
    from fxad.numpy._shape import ravel

    if axis is None:
        a = ravel(a)
        axis = 0
    nd = a.ndim
    axis = axis % nd
    idx = (slice(None),) * axis + (np.asarray(indices) if not isinstance(indices, Tracer)
                                   else indices,)
    return getitem(a, idx)
