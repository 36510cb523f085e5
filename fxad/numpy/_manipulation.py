"""Array manipulation with NumPy semantics: tiling and repeating, rolling
and rotating, splitting and stacking, padding, diagonals and triangles,
Kronecker products, grids, ``select``, and the value-dependent ``nonzero``.

All are composites of linear primitives (reshape, broadcast, slice, pad,
concatenate, gather, select), so they are differentiable to any order with
exact transposes: a repeated element gets the sum of its cotangents.  With
no tracer among the arguments each function is NumPy's own.
"""

from __future__ import annotations

import numpy as np

from fxad import lax
from fxad.core import Tracer
from fxad.errors import ConcretizationTypeError
from fxad.numpy import _core as _fc
from fxad.numpy._core import around, floor, multiply, remainder, subtract
from fxad.numpy._indexing import getitem, take
from fxad.numpy._linalg_ops import diagonal
from fxad.numpy._reductions import median
from fxad.numpy._shape import (
    asarray,
    atleast_1d,
    atleast_2d,
    broadcast_to,
    concatenate,
    expand_dims,
    flip,
    ravel,
    reshape,
    transpose,
    where,
)
from fxad.numpy._util import (
    any_tracer,
    asarray_value,
    broadcast_to_shape,
    canonical_axis,
    convert,
    result_type,
    shape_of,
)


def _ndim(a):
    return len(shape_of(a))


def _tracers_in(seq):
    return any_tracer(*seq) or any(isinstance(x, (list, tuple)) and _tracers_in(x)
                                   for x in seq)


def _slice_along(a, start, stop, axis):
    shape = shape_of(a)
    lo, hi = [0] * len(shape), list(shape)
    lo[axis], hi[axis] = start, stop
    return lax.slice(a, lo, hi)


# ---------------------------------------------------------------------------
# Tiling, repeating, rolling, flipping


def tile(A, reps):
    """Differentiable ``numpy.tile`` (a broadcast and a reshape).

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.tile(np.array([1, 2]), (2, 2))
        array([[1, 2, 1, 2],
               [1, 2, 1, 2]])
    """
    if not isinstance(A, Tracer):
        return np.tile(A, reps)
    reps = (int(reps),) if np.ndim(reps) == 0 else tuple(int(r) for r in reps)
    nd = max(A.ndim, len(reps))
    reps = (1,) * (nd - len(reps)) + reps
    A = lax.reshape(A, (1,) * (nd - A.ndim) + A.aval.shape)
    shape = A.aval.shape
    # (r0, d0, r1, d1, ...) then merge each pair.
    inter = tuple(v for r, d in zip(reps, shape) for v in (r, d))
    b = lax.broadcast_in_dim(A, inter, tuple(range(1, 2 * nd, 2)))
    return lax.reshape(b, tuple(r * d for r, d in zip(reps, shape)))


def repeat(a, repeats, axis=None):
    """Differentiable ``numpy.repeat``; ``repeats`` fixes the output's shape,
    so it must be concrete.

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> fxad.grad(lambda x: fnp.repeat(x, [1, 3]).sum())(np.ones(2))
        array([1., 3.])
    """
    if not any_tracer(a, repeats):
        return np.repeat(a, repeats, axis=axis)
    if isinstance(repeats, Tracer):
        repeats = repeats.to_concrete_value()
        if repeats is None:
            raise ConcretizationTypeError(
                "fxad.numpy.repeat: `repeats` determines the shape of the result, so it "
                "must be concrete (a Python or NumPy value), not a traced array.")
    a = asarray(a)
    if axis is None:
        a = ravel(a)
        axis = 0
    ax = canonical_axis(axis, _ndim(a))
    n = shape_of(a)[ax]
    reps = np.asarray(repeats)
    if reps.ndim == 0 or reps.size == 1:
        r = int(reps.reshape(()))
        if r < 0:
            raise ValueError("repeats may not contain negative values.")
        shape = shape_of(a)
        b = lax.broadcast_in_dim(a, shape[:ax + 1] + (r,) + shape[ax + 1:],
                                 tuple(range(ax + 1)) + tuple(range(ax + 2, len(shape) + 1)))
        return lax.reshape(b, shape[:ax] + (n * r,) + shape[ax + 1:])
    if reps.shape != (n,):
        raise ValueError(f"operands could not be broadcast together with shape ({n},) "
                         f"{reps.shape}")
    if np.any(reps < 0):
        raise ValueError("repeats may not contain negative values.")
    return take(a, np.repeat(np.arange(n), reps), axis=ax)


def roll(a, shift, axis=None):
    """Differentiable ``numpy.roll``; a traced ``shift`` becomes a gather.

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.roll(np.arange(5), 2)
        array([3, 4, 0, 1, 2])
    """
    if not any_tracer(a, shift):
        return np.roll(a, shift, axis=axis)
    a = asarray(a)
    if axis is None:
        return reshape(roll(ravel(a), shift, 0), shape_of(a))
    nd = _ndim(a)
    if isinstance(shift, Tracer):
        if shift.ndim:
            raise NotImplementedError("fxad.numpy.roll: a traced shift must be a scalar")
        shifts, axes = [shift], [axis] if np.ndim(axis) == 0 else list(axis)
        shifts = shifts * len(axes)
    else:
        shifts, axes = np.broadcast_arrays(np.asarray(shift), np.asarray(axis))
        shifts, axes = list(shifts.ravel()), list(axes.ravel())
    total = {}
    for s, ax in zip(shifts, axes):
        ax = canonical_axis(int(ax), nd)
        s = s if isinstance(s, Tracer) else int(s)  # NumPy truncates each shift
        total[ax] = total[ax] + s if ax in total else s
    for ax, s in total.items():
        n = shape_of(a)[ax]
        if n == 0:
            continue
        if isinstance(s, Tracer):
            idx = remainder(subtract(np.arange(n), s), n)
            a = take(a, idx, axis=ax)
            continue
        s = int(s) % n
        if s:
            a = lax.concatenate([_slice_along(a, n - s, n, ax), _slice_along(a, 0, n - s, ax)],
                                ax)
    return a


def fliplr(m):
    """``numpy.fliplr``: reverse the second axis."""
    if not isinstance(m, Tracer):
        return np.fliplr(m)
    if m.ndim < 2:
        raise ValueError("Input must be >= 2-d.")
    return flip(m, 1)


def flipud(m):
    """``numpy.flipud``: reverse the first axis."""
    if not isinstance(m, Tracer):
        return np.flipud(m)
    if m.ndim < 1:
        raise ValueError("Input must be >= 1-d.")
    return flip(m, 0)


def rot90(m, k=1, axes=(0, 1)):
    """``numpy.rot90``: rotate by 90 degrees ``k`` times in the plane of
    ``axes`` (flips and a transpose, as NumPy)."""
    if not isinstance(m, Tracer):
        return np.rot90(m, k, axes)
    axes = tuple(axes)
    nd = m.ndim
    if len(axes) != 2:
        raise ValueError("len(axes) must be 2.")
    if axes[0] == axes[1] or abs(axes[0] - axes[1]) == nd:
        raise ValueError("Axes must be different.")
    if axes[0] >= nd or axes[0] < -nd or axes[1] >= nd or axes[1] < -nd:
        raise ValueError(f"Axes={axes} out of range for array of ndim={nd}.")
    k %= 4
    if k == 0:
        return m
    if k == 2:
        return flip(flip(m, axes[0]), axes[1])
    perm = list(range(nd))
    perm[axes[0]], perm[axes[1]] = perm[axes[1]], perm[axes[0]]
    if k == 1:
        return transpose(flip(m, axes[1]), perm)
    return flip(transpose(m, perm), axes[1])


# ---------------------------------------------------------------------------
# Splitting


def _split_points(n, indices_or_sections, even):
    if np.ndim(indices_or_sections) == 0:
        sections = int(indices_or_sections)
        if sections <= 0:
            raise ValueError("number sections must be larger than 0.")
        if even and n % sections:
            raise ValueError("array split does not result in an equal division")
        each, extra = divmod(n, sections)
        sizes = [each + 1] * extra + [each] * (sections - extra)
        return list(np.cumsum([0] + sizes))
    points = [int(i) for i in indices_or_sections]
    return [0] + points + [n]


def array_split(ary, indices_or_sections, axis=0):
    """``numpy.array_split`` (sections of unequal sizes allowed)."""
    if not isinstance(ary, Tracer):
        return np.array_split(ary, indices_or_sections, axis=axis)
    return _split(ary, indices_or_sections, axis, even=False)


def split(ary, indices_or_sections, axis=0):
    """Differentiable ``numpy.split``: a list of slices.

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> [p.tolist() for p in fnp.split(np.arange(6), [2, 5])]
        [[0, 1], [2, 3, 4], [5]]
    """
    if not isinstance(ary, Tracer):
        return np.split(ary, indices_or_sections, axis=axis)
    return _split(ary, indices_or_sections, axis, even=True)


def _split(ary, indices_or_sections, axis, even):
    ax = canonical_axis(axis, ary.ndim)
    n = ary.aval.shape[ax]
    pts = _split_points(n, indices_or_sections, even)
    out = []
    for lo, hi in zip(pts[:-1], pts[1:]):
        # NumPy slices ary[lo:hi], clamping like Python slicing does.
        lo_c, hi_c = slice(lo, hi).indices(n)[:2]
        out.append(_slice_along(ary, lo_c, max(lo_c, hi_c), ax))
    return out


def hsplit(ary, indices_or_sections):
    """``numpy.hsplit``: split along axis 1 (axis 0 for 1-D)."""
    if not isinstance(ary, Tracer):
        return np.hsplit(ary, indices_or_sections)
    if ary.ndim == 0:
        raise ValueError("hsplit only works on arrays of 1 or more dimensions")
    return split(ary, indices_or_sections, 1 if ary.ndim > 1 else 0)


def vsplit(ary, indices_or_sections):
    """``numpy.vsplit``: split along axis 0 (at least 2-D)."""
    if not isinstance(ary, Tracer):
        return np.vsplit(ary, indices_or_sections)
    if ary.ndim < 2:
        raise ValueError("vsplit only works on arrays of 2 or more dimensions")
    return split(ary, indices_or_sections, 0)


def dsplit(ary, indices_or_sections):
    """``numpy.dsplit``: split along axis 2 (at least 3-D)."""
    if not isinstance(ary, Tracer):
        return np.dsplit(ary, indices_or_sections)
    if ary.ndim < 3:
        raise ValueError("dsplit only works on arrays of 3 or more dimensions")
    return split(ary, indices_or_sections, 2)


# ---------------------------------------------------------------------------
# Stacking


def atleast_3d(*arys):
    """``numpy.atleast_3d``: ``(1, 1, 1)``, ``(1, n, 1)`` or ``(m, n, 1)``."""
    out = []
    for a in arys:
        a = asarray(a)
        s = shape_of(a)
        if len(s) == 0:
            a = reshape(a, (1, 1, 1))
        elif len(s) == 1:
            a = reshape(a, (1,) + s + (1,))
        elif len(s) == 2:
            a = reshape(a, s + (1,))
        out.append(a)
    return out[0] if len(out) == 1 else tuple(out)


def dstack(tup, dtype=None):
    """``numpy.dstack``: stack along the third axis."""
    tup = list(tup)
    if not _tracers_in(tup):
        return np.dstack(tup) if dtype is None else np.dstack(tup).astype(dtype)
    arrs = [atleast_3d(a) for a in tup]
    return concatenate(arrs, axis=2, dtype=dtype)


def column_stack(tup):
    """``numpy.column_stack``: 1-D arrays as columns, then ``hstack``."""
    tup = list(tup)
    if not _tracers_in(tup):
        return np.column_stack(tup)
    arrs = []
    for v in tup:
        v = asarray(v)
        if _ndim(v) < 2:
            v = transpose(atleast_2d(v))
        arrs.append(v)
    return concatenate(arrs, axis=1)


# ---------------------------------------------------------------------------
# Padding

_INDEX_MODES = ("edge", "reflect", "symmetric", "wrap")


_STAT_MODES = ("maximum", "mean", "median", "minimum")


def pad(array, pad_width, mode="constant", **kwargs):
    """Differentiable ``numpy.pad`` for every NumPy mode but a callable:
    ``constant`` (the value may be traced too), ``empty`` (zeros here:
    deterministic), ``edge``, ``reflect``, ``symmetric``, ``wrap``,
    ``linear_ramp`` (``end_values``), and the statistics ``maximum``,
    ``mean``, ``median``, ``minimum`` (``stat_length``).

    The index modes are one gather per padded axis, with the indices NumPy
    itself computes for an ``arange``: any pad width works, and the
    derivative of a repeated element sums its cotangents.  The other modes
    pad the axes in order, as NumPy, each side from the array padded so far.

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> fnp.pad(np.array([1.0, 2.0, 3.0]), (2, 1), mode="reflect")
        array([3., 2., 1., 2., 3., 2.])
        >>> fxad.grad(lambda x: fnp.pad(x, 1, mode="edge").sum())(np.ones(3))
        array([2., 1., 2.])
    """
    if mode == "empty":  # zeros rather than uninitialised memory (as fxad.numpy.empty)
        if kwargs:
            raise TypeError(f"unsupported keyword arguments for mode 'empty': {sorted(kwargs)}")
        mode = "constant"
    if not any_tracer(array, *kwargs.values()):
        return np.pad(array, pad_width, mode=mode, **kwargs)
    modes = ("constant", "empty", "linear_ramp") + _INDEX_MODES + _STAT_MODES
    if callable(mode):
        raise NotImplementedError("fxad.numpy.pad: a callable mode is not supported for traced "
                                  f"arrays; use one of {modes}")
    if mode not in modes:
        raise ValueError(f"mode '{mode}' is not supported")
    array = asarray(array)
    nd = _ndim(array)
    widths = np.asarray(pad_width)
    if not np.issubdtype(widths.dtype, np.integer):
        raise TypeError("`pad_width` must be of integral type.")
    widths = np.broadcast_to(widths, (nd, 2))
    if np.any(widths < 0):
        raise ValueError("index can't contain negative values")
    if mode == "constant":
        return _pad_constant(array, widths, kwargs.pop("constant_values", 0), kwargs)
    if mode == "linear_ramp":
        return _pad_blocks(array, widths, _ramp_blocks(kwargs.pop("end_values", 0), nd), kwargs,
                           mode)
    if mode in _STAT_MODES:
        return _pad_blocks(array, widths, _stat_blocks(mode, kwargs.pop("stat_length", None), nd),
                           kwargs, mode)
    if kwargs.get("reflect_type", "even") != "even":
        raise NotImplementedError("fxad.numpy.pad: reflect_type='odd' is not supported")
    kwargs.pop("reflect_type", None)
    if kwargs:
        raise TypeError(f"unsupported keyword arguments for mode '{mode}': {sorted(kwargs)}")
    for ax, (lo, hi) in enumerate(widths):
        if lo or hi:
            n = shape_of(array)[ax]
            idx = np.pad(np.arange(n), (int(lo), int(hi)), mode=mode)
            array = take(array, idx, axis=ax)
    return array


def _pad_blocks(array, widths, blocks, rest, mode):
    """Pad each axis in turn with the blocks ``blocks(array, axis, side, width)``."""
    if rest:
        raise TypeError(f"unsupported keyword arguments for mode '{mode}': {sorted(rest)}")
    dt = result_type(array)
    for ax, (lo, hi) in enumerate(widths):
        lo, hi = int(lo), int(hi)
        if not (lo or hi):
            continue
        if shape_of(array)[ax] == 0:
            raise ValueError(f"can't extend empty axis {ax} using modes other than 'constant' "
                             "or 'empty'")
        parts = [array]
        if lo:
            parts.insert(0, blocks(array, ax, 0, lo))
        if hi:
            parts.append(blocks(array, ax, 1, hi))
        parts = [_cast_like(p, dt) for p in parts]
        array = concatenate(parts, axis=ax)
    return array


def _cast_like(x, dt):
    if np.issubdtype(dt, np.integer) and not np.issubdtype(result_type(x), np.integer):
        x = _around(x)  # NumPy rounds statistics and ramps of integers
    return convert(x, dt)


def _around(x):
    return around(x)


def _edge(array, ax, side):
    n = shape_of(array)[ax]
    return take(array, np.array([0 if side == 0 else n - 1]), axis=ax)


def _per_side(values, nd, name):
    values = np.asarray(values if not isinstance(values, Tracer) else values)
    try:
        return np.broadcast_to(values, (nd, 2))
    except ValueError:
        raise ValueError(f"fxad.numpy.pad: {name} of shape {values.shape} does not broadcast "
                         f"to ({nd}, 2)") from None


def _ramp_blocks(end_values, nd):
    if isinstance(end_values, Tracer):
        raise NotImplementedError("fxad.numpy.pad: traced end_values are not supported")
    ends = _per_side(end_values, nd, "end_values")

    def blocks(array, ax, side, w):
        edge = _edge(array, ax, side)
        dt = np.result_type(result_type(array), np.float64)
        # NumPy's linspace(end, edge, w, endpoint=False), read from the outside in.
        k = np.arange(w, dtype=dt)
        if side == 1:
            k = k[::-1]
        shape = [1] * len(shape_of(array))
        shape[ax] = w
        k = k.reshape(shape)
        end = np.asarray(ends[ax][side]).astype(result_type(array)).astype(dt)
        # linspace's own arithmetic: start + k * ((stop - start) / num).
        ramp = end + k * ((convert(edge, dt) - end) / w)
        if np.issubdtype(result_type(array), np.integer):  # linspace's integer rounding
            ramp = floor(ramp)
        return ramp

    return blocks


def _stat_blocks(mode, stat_length, nd):
    fns = {"maximum": _fc.max, "minimum": _fc.min, "mean": _fc.mean, "median": median}
    lengths = None if stat_length is None else _per_side(stat_length, nd, "stat_length")
    if lengths is not None and np.any(lengths < 0):
        raise ValueError("index can't contain negative values")

    def blocks(array, ax, side, w):
        n = shape_of(array)[ax]
        k = n if lengths is None else min(int(lengths[ax][side]), n)
        if k == 0:
            raise ValueError(f"stat_length of 0 yields no value for padding (mode '{mode}')")
        idx = np.arange(k) if side == 0 else np.arange(n - k, n)
        stat = fns[mode](take(array, idx, axis=ax), axis=ax, keepdims=True)
        shape = list(shape_of(array))
        shape[ax] = w
        return broadcast_to(stat, tuple(shape))

    return blocks


def _pad_constant(array, widths, values, rest):
    if rest:
        raise TypeError(f"unsupported keyword arguments for mode 'constant': {sorted(rest)}")
    dt = array.dtype
    nd = len(widths)
    if isinstance(values, Tracer):
        vals = [[values, values]] * nd if values.ndim == 0 else None
        if vals is None:
            raise NotImplementedError("fxad.numpy.pad: traced constant_values must be a scalar")
    else:
        vals = np.broadcast_to(np.asarray(values), (nd, 2)) if nd else []
        vals = [[v[0], v[1]] for v in vals]
    # NumPy pads the axes in order, a later axis overwriting the corners.
    for ax in range(nd):
        lo, hi = int(widths[ax][0]), int(widths[ax][1])
        for w, v, at_lo in ((lo, vals[ax][0], True), (hi, vals[ax][1], False)):
            if not w:
                continue
            v = convert(asarray_value(v), dt)
            if not isinstance(array, Tracer) and not isinstance(v, Tracer):
                array = np.asarray(array)
            config = [(0, 0, 0)] * nd
            config[ax] = (w, 0, 0) if at_lo else (0, w, 0)
            array = lax.pad(array, v, config)
    return array


# ---------------------------------------------------------------------------
# Diagonals, triangles, Kronecker products


def diag(v, k=0):
    """Differentiable ``numpy.diag``: the ``k``-th diagonal of a matrix, or a
    matrix with ``v`` on its ``k``-th diagonal (one interior ``pad``).

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.diag(np.array([1, 2]), k=1)
        array([[0, 1, 0],
               [0, 0, 2],
               [0, 0, 0]])
    """
    if not isinstance(v, Tracer):
        return np.diag(v, k)
    if v.ndim == 2:
        return diagonal(v, k)
    if v.ndim != 1:
        raise ValueError("Input must be 1- or 2-d.")
    k = int(k)
    n = v.aval.shape[0]
    m = n + abs(k)
    if n == 0:
        return np.zeros((m, m), v.aval.dtype)
    # Element i lands at flat position i * (m + 1) + offset of an m x m matrix.
    lo = k if k >= 0 else -k * m
    hi = m * m - (lo + (n - 1) * (m + 1) + 1)
    flat = lax.pad(v, v.aval.dtype.type(0), ((lo, hi, m),))
    return lax.reshape(flat, (m, m))


def diagflat(v, k=0):
    """``numpy.diagflat``: ``diag`` of the flattened input."""
    if not isinstance(v, Tracer):
        return np.diagflat(v, k)
    return diag(ravel(v), k)


def _tri_mask(a, k, lower):
    s = shape_of(a)
    rows, cols = (s[-2], s[-1]) if len(s) >= 2 else (s[-1], s[-1])
    mask = np.tri(rows, cols, k=k if lower else k - 1, dtype=bool)
    return mask if lower else ~mask


def tril(m, k=0):
    """Differentiable ``numpy.tril`` (zeros above the ``k``-th diagonal)."""
    if not isinstance(m, Tracer):
        return np.tril(m, k)
    return where(_tri_mask(m, k, True), m, np.zeros((), m.aval.dtype))


def triu(m, k=0):
    """Differentiable ``numpy.triu`` (zeros below the ``k``-th diagonal)."""
    if not isinstance(m, Tracer):
        return np.triu(m, k)
    return where(_tri_mask(m, k, False), m, np.zeros((), m.aval.dtype))


def kron(a, b):
    """Differentiable ``numpy.kron`` (an outer product and a reshape, as
    NumPy computes it).

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.kron(np.array([1, 10]), np.array([1, 2]))
        array([ 1,  2, 10, 20])
    """
    if not any_tracer(a, b):
        return np.kron(a, b)
    a, b = asarray(a), asarray(b)
    na, nb = _ndim(a), _ndim(b)
    if na == 0 or nb == 0:
        return multiply(a, b)
    nd = max(na, nb)
    as_ = (1,) * max(0, nb - na) + shape_of(a)
    bs = (1,) * max(0, na - nb) + shape_of(b)
    a = reshape(a, as_)
    b = reshape(b, bs)
    a = expand_dims(a, tuple(range(1, nd * 2, 2)))
    b = expand_dims(b, tuple(range(0, nd * 2, 2)))
    return reshape(multiply(a, b), tuple(x * y for x, y in zip(as_, bs)))


# ---------------------------------------------------------------------------
# Grids and selection


def meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    """Differentiable ``numpy.meshgrid`` (a tuple, as NumPy 2)."""
    if not any_tracer(*xi):
        return np.meshgrid(*xi, copy=copy, sparse=sparse, indexing=indexing)
    if indexing not in ("xy", "ij"):
        raise ValueError("Valid values for `indexing` are 'xy' and 'ij'.")
    nd = len(xi)
    out = []
    for i, x in enumerate(xi):
        shape = [1] * nd
        shape[i] = -1
        out.append(reshape(ravel(asarray(x)), tuple(shape)))
    if indexing == "xy" and nd > 1:
        for k in range(len(out)):
            s = list(shape_of(out[k]))
            s[0], s[1] = s[1], s[0]
            out[k] = reshape(out[k], tuple(s))
    if not sparse:
        full = np.broadcast_shapes(*[shape_of(o) for o in out])
        out = [broadcast_to(o, full) for o in out]
    return tuple(out)


def select(condlist, choicelist, default=0):
    """Differentiable ``numpy.select``: the first true condition picks the
    choice; the derivative flows to the picked choice (or the default).

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> x = np.arange(4.0)
        >>> fnp.select([x < 1, x > 2], [x, x ** 2], default=-1.0)
        array([ 0., -1., -1.,  9.])
    """
    condlist, choicelist = list(condlist), list(choicelist)
    if not _tracers_in(condlist + choicelist + [default]):
        return np.select(condlist, choicelist, default)
    if len(condlist) != len(choicelist):
        raise ValueError("list of cases must be same length as list of conditions")
    if not choicelist:
        raise ValueError("select with an empty condition list is not possible")
    choices = [asarray_value(c) for c in choicelist]
    default = asarray_value(default)
    dt = result_type(*choices, default)
    conds = [asarray_value(c) for c in condlist]
    for i, c in enumerate(conds):
        cdt = c.aval.dtype if isinstance(c, Tracer) else np.asarray(c).dtype
        if cdt != np.bool_:
            raise TypeError(f"invalid entry {i} in condlist: should be boolean ndarray")
    shape = np.broadcast_shapes(*[shape_of(x) for x in conds + choices + [default]])
    out = broadcast_to_shape(convert(default, dt), shape)
    for c, x in zip(reversed(conds), reversed(choices)):
        out = where(c, convert(x, dt), out)
    return out


# ---------------------------------------------------------------------------
# Value-dependent shapes: concrete values only


def _concrete(a, name):
    if isinstance(a, Tracer):
        v = a.to_concrete_value()
        if v is None:
            raise ConcretizationTypeError(
                f"fxad.numpy.{name}: the shape of the result depends on the values, so "
                "the argument must be concrete (not inside make_jaxpr, jit or vmap). "
                "Use fxad.numpy.where(condition, x, y) instead.")
        return np.asarray(v)
    return a


# Index arrays from shapes alone: NumPy's own (constants), so that they can
# index traced arrays and their ``.at``.

diag_indices = np.diag_indices
tril_indices = np.tril_indices
triu_indices = np.triu_indices
indices = np.indices


def diag_indices_from(arr):
    """``numpy.diag_indices_from`` (from the shape only)."""
    s = shape_of(arr)
    if len(s) < 2 or len(set(s)) != 1:
        raise ValueError("All dimensions of input must be of equal length"
                         if len(s) >= 2 else "input array must be at least 2-d")
    return np.diag_indices(s[0], len(s))


def tril_indices_from(arr, k=0):
    """``numpy.tril_indices_from`` (from the shape only)."""
    s = shape_of(arr)
    if len(s) != 2:
        raise ValueError("input array must be 2-d")
    return np.tril_indices(s[-2], k=k, m=s[-1])


def triu_indices_from(arr, k=0):
    """``numpy.triu_indices_from`` (from the shape only)."""
    s = shape_of(arr)
    if len(s) != 2:
        raise ValueError("input array must be 2-d")
    return np.triu_indices(s[-2], k=k, m=s[-1])


def nonzero(a):
    """``numpy.nonzero`` (index arrays, so ``a`` must be concrete; inside
    grad/jvp its value is)."""
    return np.nonzero(_concrete(a, "nonzero"))


def flatnonzero(a):
    """``numpy.flatnonzero`` (concrete ``a`` only)."""
    return np.flatnonzero(_concrete(a, "flatnonzero"))


def argwhere(a):
    """``numpy.argwhere`` (concrete ``a`` only)."""
    return np.argwhere(_concrete(a, "argwhere"))


_ = (getitem, atleast_1d)
