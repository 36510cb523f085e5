"""Scans, NaN-aware and weighted reductions, sorting and order statistics
with NumPy semantics.

``cumprod`` binds ``lax.cumprod``, whose JVP is a prefix scan with no
division (exact at zeros).  ``sort`` binds ``lax.sort``; its JVP gathers the
tangent with the sorting permutation, so ``median``, ``quantile`` and
``percentile`` (a sort, then the selected elements) are differentiable
through the elements they select, and ``quantile`` in ``q`` too.
``argsort`` is stable, as JAX's (``numpy.argsort`` defaults to an unstable
sort, which orders ties differently).
"""

from __future__ import annotations

import numpy as np

from fxad import lax
from fxad.core import Tracer
from fxad.numpy._core import (
    _count,
    _no_out,
    _sum_dtype,
    add,
    all,
    argmax,
    argmin,
    around,
    ceil,
    conj,
    cumsum,
    equal,
    floor,
    floor_divide,
    greater,
    greater_equal,
    less,
    logical_not,
    max,
    maximum,
    mean,
    min,
    minimum,
    multiply,
    not_equal,
    prod,
    real,
    sqrt,
    stop_gradient,
    subtract,
    sum,
    true_divide,
    var,
)
from fxad.numpy._indexing import take, take_along_axis
from fxad.numpy._shape import (
    asarray,
    broadcast_to,
    concatenate,
    moveaxis,
    ravel,
    reshape,
    transpose,
    where,
)
from fxad.numpy._util import (
    any_tracer,
    asarray_value,
    canonical_axes,
    canonical_axis,
    convert,
    result_type,
    shape_of,
    to_inexact,
)
from fxad.numpy._util import isnan_traced as _isnan


def _slice_along(x, start, stop, axis):
    shape = shape_of(x)
    lo, hi = [0] * len(shape), list(shape)
    lo[axis], hi[axis] = start, stop
    return lax.slice(x, lo, hi)


# ---------------------------------------------------------------------------
# Scans


def cumprod(a, axis=None, dtype=None):
    """Differentiable ``numpy.cumprod`` (exact derivatives at zeros: the JVP
    is a prefix scan of products, never a division by ``a``).

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> fxad.grad(lambda x: fnp.cumprod(x)[-1])(np.array([2.0, 0.0, 3.0]))
        array([0., 6., 0.])
    """
    if not isinstance(a, Tracer):
        return np.cumprod(a, axis=axis, dtype=dtype)
    if axis is None:
        a = lax.reshape(a, (a.aval.size,))
        axis = 0
    ax = canonical_axis(axis, a.ndim)
    a = convert(a, _sum_dtype(a.aval.dtype, dtype))
    return lax.cumprod(a, ax)


def nancumsum(a, axis=None, dtype=None):
    """``numpy.nancumsum``: NaNs count as zero."""
    if not isinstance(a, Tracer):
        return np.nancumsum(a, axis=axis, dtype=dtype)
    return cumsum(_replace_nan(a, 0), axis=axis, dtype=dtype)


def nancumprod(a, axis=None, dtype=None):
    """``numpy.nancumprod``: NaNs count as one."""
    if not isinstance(a, Tracer):
        return np.nancumprod(a, axis=axis, dtype=dtype)
    return cumprod(_replace_nan(a, 1), axis=axis, dtype=dtype)


def diff(a, n=1, axis=-1, prepend=np._NoValue, append=np._NoValue):
    """Differentiable ``numpy.diff`` (booleans compare with ``!=``, as NumPy).

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.diff(np.array([1.0, 4.0, 9.0, 16.0]), n=2)
        array([2., 2.])
    """
    extra = {k: v for k, v in (("prepend", prepend), ("append", append))
             if v is not np._NoValue}
    if not any_tracer(a, *extra.values()):
        return np.diff(a, n=n, axis=axis, **extra)
    if n < 0:
        raise ValueError(f"order must be non-negative but got {n!r}")
    a = asarray(a)
    if n == 0:
        return a  # NumPy returns the input itself, without prepend or append
    nd = len(shape_of(a))
    if nd == 0:
        raise ValueError("diff requires input that is at least one dimensional")
    ax = canonical_axis(axis, nd)
    if extra:
        parts = []
        for key in ("prepend", "append"):
            if key not in extra:
                continue
            v = asarray(extra[key])
            if not shape_of(v):
                shp = list(shape_of(a))
                shp[ax] = 1
                v = broadcast_to(v, tuple(shp))
            parts.append((key, v))
        pre = [v for k, v in parts if k == "prepend"]
        post = [v for k, v in parts if k == "append"]
        a = concatenate(pre + [a] + post, axis=ax)
    a = asarray(a)
    if not isinstance(a, Tracer):
        return np.diff(a, n=n, axis=ax)
    op = not_equal if a.dtype == np.bool_ else subtract
    for _ in range(n):
        m = shape_of(a)[ax]
        if m == 0:
            break
        a = op(_slice_along(a, 1, m, ax), _slice_along(a, 0, m - 1, ax))
    return a


def ediff1d(ary, to_end=None, to_begin=None):
    """``numpy.ediff1d``: differences of the flattened array, with optional
    values before and after."""
    if not any_tracer(ary, to_end, to_begin):
        return np.ediff1d(ary, to_end=to_end, to_begin=to_begin)
    ary = ravel(asarray(ary))
    dt = ary.dtype
    parts = [ravel(convert(asarray_value(to_begin), dt))] if to_begin is not None else []
    parts.append(diff(ary))
    if to_end is not None:
        parts.append(ravel(convert(asarray_value(to_end), dt)))
    return concatenate([asarray(p) for p in parts]) if len(parts) > 1 else parts[0]


# ---------------------------------------------------------------------------
# Weighted and NaN-aware reductions


def average(a, axis=None, weights=None, returned=False, *, keepdims=False):
    """Differentiable ``numpy.average`` (in ``a`` and in ``weights``).

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> float(fnp.average(np.array([1.0, 3.0]), weights=np.array([3.0, 1.0])))
        1.5
    """
    if not any_tracer(a, weights):
        return np.average(a, axis=axis, weights=weights, returned=returned, keepdims=keepdims)
    a = asarray(a)
    nd = len(shape_of(a))
    if weights is None:
        avg = mean(a, axis=axis, keepdims=keepdims)
        n_avg = int(np.prod(shape_of(avg), dtype=np.int64))
        size = int(np.prod(shape_of(a), dtype=np.int64))
        scl = np.asarray(size / n_avg, dtype=avg.dtype)
    else:
        wgt = asarray(weights)
        a_dt, w_dt = a.dtype, wgt.dtype
        if np.issubdtype(a_dt, np.integer) or a_dt == np.bool_:
            rdt = np.result_type(a_dt, w_dt, "f8")
        else:
            rdt = np.result_type(a_dt, w_dt)
        if shape_of(a) != shape_of(wgt):
            if axis is None:
                raise TypeError("Axis must be specified when shapes of a and weights differ.")
            axes = (axis,) if not isinstance(axis, (tuple, list)) else tuple(axis)
            axes = tuple(canonical_axis(ax, nd) for ax in axes)
            if shape_of(wgt) != tuple(shape_of(a)[ax] for ax in axes):
                raise ValueError("Shape of weights must be consistent with shape of a along "
                                 "specified axis.")
            wgt = moveaxis(wgt, tuple(range(len(axes))), tuple(np.argsort(np.argsort(axes))))
            wgt = reshape(wgt, tuple(s if ax in axes else 1 for ax, s in enumerate(shape_of(a))))
        scl = sum(wgt, axis=axis, dtype=rdt, keepdims=keepdims)
        concrete = scl.to_concrete_value() if isinstance(scl, Tracer) else scl
        if concrete is not None and np.any(np.asarray(concrete) == 0.0):
            raise ZeroDivisionError("Weights sum to zero, can't be normalized")
        avg = true_divide(sum(multiply(convert(a, rdt), convert(wgt, rdt)), axis=axis,
                              keepdims=keepdims), scl)
    if returned:
        if shape_of(scl) != shape_of(avg):
            scl = broadcast_to(scl, shape_of(avg))
        return avg, scl
    return avg


def _replace_nan(a, value):
    if not np.issubdtype(a.aval.dtype, np.inexact):
        return a
    return where(_isnan(a), value, a)


def nansum(a, axis=None, dtype=None, out=None, keepdims=False):
    """Differentiable ``numpy.nansum`` (NaNs count as zero and get a zero
    derivative)."""
    _no_out(out)
    if not isinstance(a, Tracer):
        return np.nansum(a, axis=axis, dtype=dtype, keepdims=keepdims)
    return sum(_replace_nan(a, 0), axis=axis, dtype=dtype, keepdims=keepdims)


def nanprod(a, axis=None, dtype=None, out=None, keepdims=False):
    """Differentiable ``numpy.nanprod`` (NaNs count as one)."""
    _no_out(out)
    if not isinstance(a, Tracer):
        return np.nanprod(a, axis=axis, dtype=dtype, keepdims=keepdims)
    return prod(_replace_nan(a, 1), axis=axis, dtype=dtype, keepdims=keepdims)


def _nan_count(a, axis, keepdims):
    """How many elements along ``axis`` are not NaN (int64)."""
    ok = lax.convert_element_type(logical_not(_isnan(a)), np.int64)
    return sum(ok, axis=axis, keepdims=keepdims)


def _divide_count(tot, cnt):
    """``tot / cnt`` in the dtype of ``tot``; NaN where ``cnt`` is 0 (NumPy
    warns there; traced values cannot)."""
    dt = tot.dtype
    c = convert(where(lax.eq(cnt, np.int64(0)), np.int64(1), cnt), dt)
    return where(lax.eq(cnt, np.int64(0)), dt.type(np.nan), true_divide(tot, c))


def nanmean(a, axis=None, dtype=None, out=None, keepdims=False):
    """Differentiable ``numpy.nanmean`` (NaN for an all-NaN slice)."""
    _no_out(out)
    if not isinstance(a, Tracer):
        return np.nanmean(a, axis=axis, dtype=dtype, keepdims=keepdims)
    if not np.issubdtype(a.aval.dtype, np.inexact):
        return mean(a, axis=axis, dtype=dtype, keepdims=keepdims)
    tot = sum(_replace_nan(a, 0), axis=axis, dtype=dtype, keepdims=keepdims)
    return _divide_count(tot, _nan_count(a, axis, keepdims))


def nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    """Differentiable ``numpy.nanvar`` (NaN where fewer than ``ddof + 1``
    values are not NaN)."""
    _no_out(out)
    if not isinstance(a, Tracer):
        return np.nanvar(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims)
    if not np.issubdtype(a.aval.dtype, np.inexact):
        return var(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims)
    if dtype is not None:
        a = convert(a, np.dtype(dtype))
    cnt = _nan_count(a, axis, True)
    avg = _divide_count(sum(_replace_nan(a, 0), axis=axis, keepdims=True), cnt)
    dev = _replace_nan(subtract(a, avg), 0)
    if np.issubdtype(dev.dtype, np.complexfloating):
        sq = real(multiply(dev, conj(dev)))
    else:
        sq = multiply(dev, dev)
    dof = subtract(_nan_count(a, axis, keepdims), ddof)
    tot = sum(sq, axis=axis, keepdims=keepdims)
    return _divide_count(tot, where(lax.lt(dof, np.int64(0)), np.int64(0), dof))


def nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    """Differentiable ``numpy.nanstd``."""
    _no_out(out)
    if not isinstance(a, Tracer):
        return np.nanstd(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims)
    return sqrt(nanvar(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims))


def _nan_extremum(np_fn, fn, fill, name):
    def f(a, axis=None, out=None, keepdims=False):
        _no_out(out)
        if not isinstance(a, Tracer):
            return np_fn(a, axis=axis, keepdims=keepdims)
        if not np.issubdtype(a.aval.dtype, np.inexact):
            return fn(a, axis=axis, keepdims=keepdims)
        m = fn(where(_isnan(a), fill, a), axis=axis, keepdims=keepdims)
        all_nan = all(_isnan(a), axis=axis, keepdims=keepdims)
        return where(all_nan, a.aval.dtype.type(np.nan), m)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = (f"Differentiable ``numpy.{name}``: NaNs ignored (NaN for an all-NaN "
                 "slice, where NumPy also warns); ties share the derivative.")
    return f


nanmax = _nan_extremum(np.nanmax, max, -np.inf, "nanmax")
nanmin = _nan_extremum(np.nanmin, min, np.inf, "nanmin")


def _nan_arg(np_fn, fn, fill, name):
    def f(a, axis=None, out=None, *, keepdims=False):
        _no_out(out)
        if not isinstance(a, Tracer):
            return np_fn(a, axis=axis, keepdims=keepdims)
        if np.issubdtype(a.aval.dtype, np.inexact):
            concrete = a.to_concrete_value()
            if concrete is not None and np.any(np.all(np.isnan(concrete), axis=axis)):
                raise ValueError("All-NaN slice encountered")
            a = where(_isnan(a), fill, a)
        return fn(a, axis=axis, keepdims=keepdims)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = (f"``numpy.{name}`` (integer output): NaNs ignored.  An all-NaN slice "
                 "raises when the values are concrete; traced, its index is unspecified.")
    return f


nanargmax = _nan_arg(np.nanargmax, argmax, -np.inf, "nanargmax")
nanargmin = _nan_arg(np.nanargmin, argmin, np.inf, "nanargmin")


def ptp(a, axis=None, out=None, keepdims=False):
    """Differentiable ``numpy.ptp``: ``max - min`` (peak to peak)."""
    _no_out(out)
    if not isinstance(a, Tracer):
        return np.ptp(a, axis=axis, keepdims=keepdims)
    return subtract(max(a, axis=axis, keepdims=keepdims), min(a, axis=axis, keepdims=keepdims))


def count_nonzero(a, axis=None, *, keepdims=False):
    """``numpy.count_nonzero`` (int64 when traced)."""
    if not isinstance(a, Tracer):
        return np.count_nonzero(a, axis=axis, keepdims=keepdims)
    nz = lax.convert_element_type(lax.convert_element_type(a, np.dtype(bool)), np.int64)
    return sum(nz, axis=axis, keepdims=keepdims)


# ---------------------------------------------------------------------------
# Sorting


def _sort_axis(a, axis):
    if axis is None:
        return lax.reshape(a, (int(np.prod(shape_of(a), dtype=np.int64)),)), 0
    return a, canonical_axis(axis, len(shape_of(a)))


def _iota_like(shape, axis):
    bshape = tuple(n if d == axis else 1 for d, n in enumerate(shape))
    return np.broadcast_to(np.arange(shape[axis], dtype=np.intp).reshape(bshape), shape)


def sort(a, axis=-1, kind=None, order=None, *, stable=None):
    """Differentiable ``numpy.sort`` (NaNs last, as NumPy); the derivative
    follows each element to its sorted place.

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> fxad.grad(lambda x: fnp.sort(x)[0])(np.array([3.0, 1.0, 2.0]))
        array([0., 1., 0.])
    """
    if not isinstance(a, Tracer):
        return np.sort(a, axis=axis, kind=kind, order=order, stable=stable)
    if order is not None:
        raise NotImplementedError("fxad.numpy.sort: order= (structured arrays) is not supported")
    a, ax = _sort_axis(a, axis)
    return lax.sort([a], ax)[0]


def argsort(a, axis=-1, kind=None, order=None, *, stable=None):
    """``numpy.argsort`` (integer output, not differentiable).  The sort is
    stable (ties keep their order), as in JAX, unless ``kind`` or ``stable``
    asks otherwise eagerly (NumPy's default ``quicksort`` orders ties
    arbitrarily).

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.argsort(np.array([3.0, 1.0, 2.0]))
        array([1, 2, 0])
    """
    if not isinstance(a, Tracer):
        if kind is None and stable is None:
            stable = True  # the traced sort's order for ties
        return np.argsort(a, axis=axis, kind=kind, order=order, stable=stable)
    if order is not None:
        raise NotImplementedError("fxad.numpy.argsort: order= is not supported")
    a, ax = _sort_axis(stop_gradient(a), axis)  # no tangent to carry
    return lax.sort([a, _iota_like(shape_of(a), ax)], ax, num_keys=1)[1]


def _check_kth(kth, n):
    for k in np.atleast_1d(kth):
        if not -n <= int(k) < n:
            raise ValueError(f"kth(={int(k)}) out of bounds ({n})")


def partition(a, kth, axis=-1, kind="introselect", order=None):
    """``numpy.partition``.  Traced, the result is fully sorted, which is a
    valid partition for every ``kth`` (NumPy leaves the order within the two
    parts unspecified; the element at ``kth`` is the same)."""
    if not isinstance(a, Tracer):
        return np.partition(a, kth, axis=axis, kind=kind, order=order)
    s = sort(a, axis=axis)
    _check_kth(kth, shape_of(s)[-1 if axis is None else canonical_axis(axis, len(shape_of(s)))])
    return s


def argpartition(a, kth, axis=-1, kind="introselect", order=None):
    """``numpy.argpartition``.  Traced, the full (stable) ``argsort``."""
    if not isinstance(a, Tracer):
        return np.argpartition(a, kth, axis=axis, kind=kind, order=order)
    s = argsort(a, axis=axis)
    _check_kth(kth, shape_of(s)[-1 if axis is None else canonical_axis(axis, len(shape_of(s)))])
    return s


# ---------------------------------------------------------------------------
# Order statistics: median, quantile, percentile


def _to_last(a, axis):
    """``a`` with the reduced axes merged into one last axis, and the axes."""
    nd = len(shape_of(a))
    axes = canonical_axes(axis, nd)
    kept = tuple(d for d in range(nd) if d not in axes)
    a = transpose(a, kept + axes)
    shape = shape_of(a)
    n = _count(shape[len(kept):], tuple(range(len(axes))))
    return reshape(a, shape[:len(kept)] + (n,)), axes, n


def _keepdims_shape(a_shape, axes):
    return tuple(1 if d in axes else s for d, s in enumerate(a_shape))


def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """Differentiable ``numpy.median`` (through the middle element, or the
    mean of the two middle ones; NaN if a slice has a NaN).

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> fxad.grad(fnp.median)(np.array([4.0, 1.0, 3.0, 2.0]))
        array([0. , 0. , 0.5, 0.5])
    """
    _no_out(out)
    if not isinstance(a, Tracer):
        return np.median(a, axis=axis, overwrite_input=overwrite_input, keepdims=keepdims)
    a_shape = a.aval.shape
    s, axes, n = _to_last(a, axis)
    dt = to_inexact(a.aval.dtype)
    if n == 0:
        out_ = np.full(s.aval.shape[:-1], np.nan, dt)
    else:
        s = lax.sort([convert(s, dt)], s.ndim - 1)[0]
        k = s.ndim - 1
        if n % 2:
            out_ = lax.squeeze(_slice_along(s, n // 2, n // 2 + 1, k), (k,))
        else:
            out_ = mean(_slice_along(s, n // 2 - 1, n // 2 + 1, k), axis=-1)
        last = lax.squeeze(_slice_along(s, n - 1, n, k), (k,))
        out_ = where(_isnan(last), dt.type(np.nan), out_)
    return reshape(out_, _keepdims_shape(a_shape, axes)) if keepdims else out_


_METHODS = ("linear", "lower", "higher", "nearest", "midpoint")


def quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
             keepdims=False, *, weights=None, interpolation=None):
    """Differentiable ``numpy.quantile`` (methods ``linear``, NumPy's default,
    ``lower``, ``higher``, ``nearest`` and ``midpoint``; with ``weights=``
    NumPy 2's ``inverted_cdf``, the one weighted method).

    The data are sorted and the two neighbours of the virtual index
    ``(n - 1) * q`` interpolated as NumPy does (its ``_lerp``); the
    derivative flows to the selected elements, and in ``q`` through the
    interpolation weight.  Dtypes follow NumPy (a Python float ``q`` keeps
    float32 data float32; an integer ``q`` selects without interpolating).

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> x = np.array([1.0, 2.0, 4.0, 8.0])
        >>> float(fnp.quantile(x, 0.5)), float(fxad.grad(lambda q: fnp.quantile(x, q))(0.5))
        (3.0, 6.0)
    """
    _no_out(out)
    if not any_tracer(a, q, weights):
        return np.quantile(a, q, axis=axis, overwrite_input=overwrite_input, method=method,
                           keepdims=keepdims, weights=weights,
                             **_interp(interpolation))
    weak_q = type(q) in (int, float) or (isinstance(q, Tracer) and q.aval.weak_type)
    return _quantile(a, asarray(q), axis, method, keepdims, weights, interpolation, weak_q,
                     "Quantiles", 1)


def percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
               keepdims=False, *, weights=None, interpolation=None):
    """Differentiable ``numpy.percentile``: ``quantile(a, q / 100)``.

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> float(fnp.percentile(np.array([1.0, 2.0, 4.0, 8.0]), 50))
        3.0
    """
    _no_out(out)
    if not any_tracer(a, q, weights):
        return np.percentile(a, q, axis=axis, overwrite_input=overwrite_input, method=method,
                             keepdims=keepdims, weights=weights,
                               **_interp(interpolation))
    weak_q = type(q) in (int, float) or (isinstance(q, Tracer) and q.aval.weak_type)
    q = true_divide(q, 100) if isinstance(q, Tracer) else np.true_divide(q, 100)
    return _quantile(a, asarray(q), axis, method, keepdims, weights, interpolation, weak_q,
                     "Percentiles", 100)


def _interp(interpolation):
    return {} if interpolation is None else {"interpolation": interpolation}


def _quantile(a, q, axis, method, keepdims, weights, interpolation, weak_q, what, scale):
    if interpolation is not None:
        method = interpolation
    if weights is not None:
        if method != "inverted_cdf":
            raise ValueError("Only method 'inverted_cdf' supports weights. Got: "
                             f"{method}.")
        return _weighted_quantile(a, q, axis, keepdims, weights, what, scale)
    if method not in _METHODS:
        raise NotImplementedError(f"fxad.numpy.quantile: method {method!r} is not supported "
                                  f"for traced arrays; use one of {_METHODS}")
    a = asarray(a)
    if a.dtype.kind == "c":
        raise TypeError("a must be an array of real numbers")
    qv = q.to_concrete_value() if isinstance(q, Tracer) else q
    if qv is not None and np.size(qv) and not (np.all(qv >= 0) and np.all(qv <= 1)):
        raise ValueError(f"{what} must be in the range [0, {scale}]")
    a_shape = shape_of(a)
    s, axes, n = _to_last(a, axis)
    if n == 0:
        raise IndexError(f"cannot do a non-empty take from an empty axes (the quantile of "
                         f"an empty axis of an array of shape {a_shape})")
    s = sort(s, axis=-1)
    k = len(shape_of(s)) - 1
    gamma = None
    if method == "linear" and not np.issubdtype(q.dtype, np.integer):
        virtual = multiply(n - 1, q)
        prev = floor(stop_gradient(virtual))
        gamma = subtract(virtual, prev)
        lo, hi = _index(prev, n), _index(add(prev, 1), n)
    elif method == "midpoint":
        v = multiply(n - 1, q)
        prev = floor(v)
        frac_zero = equal(subtract(v, prev), 0)
        gamma = convert(where(frac_zero, 0.0, 0.5), to_inexact(v.dtype))
        lo, hi = _index(prev, n), _index(add(prev, 1), n)
    else:
        v = multiply(n - 1, q)
        if method == "lower":
            v = floor(v)
        elif method == "higher":
            v = ceil(v)
        elif method == "nearest":
            v = around(v)
        lo, hi = _index(v, n), None
    res = _take_last(s, lo)
    if gamma is not None:
        if weak_q and not isinstance(gamma, Tracer):
            gamma = float(gamma)
        g = _expand_q(gamma, k)
        right = _take_last(s, hi)
        d = subtract(right, res)
        one_minus = 1.0 - g if isinstance(g, float) else subtract(1, g)  # weak stays weak
        res = where(greater_equal(g, 0.5), subtract(right, multiply(d, one_minus)),
                    add(res, multiply(d, g)))
    if np.issubdtype(s.dtype, np.inexact):
        last = _take_last(s, np.int64(n - 1))
        res = where(_isnan(last), last, res)
    if keepdims:
        res = reshape(res, shape_of(q) + _keepdims_shape(a_shape, axes))
    return res


def _weighted_quantile(a, q, axis, keepdims, weights, what, scale):
    """NumPy 2's weighted ``inverted_cdf``: the smallest sorted value whose
    cumulative weight share reaches ``q``.  Piecewise constant in the weights
    and ``q``; the derivative in ``a`` is that of the selected element."""
    a = asarray(a)
    if a.dtype.kind == "c":
        raise TypeError("a must be an array of real numbers")
    qv = q.to_concrete_value() if isinstance(q, Tracer) else q
    if qv is not None and np.size(qv) and not (np.all(qv >= 0) and np.all(qv <= 1)):
        raise ValueError(f"{what} must be in the range [0, {scale}]")
    w = asarray(weights)
    a_shape = shape_of(a)
    if shape_of(w) != a_shape:
        if len(shape_of(w)) != 1 or axis is None or len(canonical_axes(axis, len(a_shape))) != 1:
            raise ValueError("Shape of weights must be consistent with shape of a along "
                             f"specified axis (weights {shape_of(w)}, a {a_shape}, axis {axis})")
        ax = canonical_axes(axis, len(a_shape))[0]
        if shape_of(w)[0] != a_shape[ax]:
            raise ValueError("Shape of weights must be consistent with shape of a along "
                             "specified axis.")
        w = reshape(w, tuple(a_shape[ax] if d == ax else 1 for d in range(len(a_shape))))
        w = _broadcast(w, a_shape)
    wv = w.to_concrete_value() if isinstance(w, Tracer) else np.asarray(w)
    if wv is not None and np.any(wv < 0):
        raise ValueError("Weights must be non-negative.")
    s, axes, n = _to_last(a, axis)
    if n == 0:
        raise IndexError(f"cannot do a non-empty take from an empty axes (the quantile of "
                         f"an empty axis of an array of shape {a_shape})")
    wl, _, _ = _to_last(stop_gradient(w), axis)
    order = argsort(stop_gradient(s), axis=-1)
    s = take_along_axis(s, order, axis=-1)
    wl = take_along_axis(convert(wl, np.dtype(np.float64)), order, axis=-1)
    cdf = cumsum(wl, axis=-1)
    cdf = true_divide(cdf, take(cdf, np.array([n - 1]), axis=-1))
    k = len(shape_of(s)) - 1
    q_shape = shape_of(q)
    qe = reshape(stop_gradient(convert(q, np.dtype(np.float64))), q_shape + (1,) * (k + 1))
    count = sum(convert(less(cdf, qe), np.dtype(np.int64)), axis=-1)  # searchsorted, left
    idx = _index(count, n)
    full = _broadcast(s, q_shape + shape_of(s))
    res = take_along_axis(full, reshape(idx, shape_of(idx) + (1,)), axis=-1)
    res = reshape(res, shape_of(res)[:-1])
    if np.issubdtype(s.dtype, np.inexact):
        last = take(s, np.array([n - 1]), axis=-1)
        last = _broadcast(reshape(last, shape_of(last)[:-1]), shape_of(res))
        res = where(_isnan(last), last, res)
    if keepdims:
        res = reshape(res, q_shape + _keepdims_shape(a_shape, axes))
    return res


def _broadcast(x, shape):
    return x if shape_of(x) == tuple(shape) else broadcast_to(x, tuple(shape))


def _index(v, n):
    """A (float or int) index as int64, clipped into ``[0, n - 1]`` as NumPy's
    ``_get_indexes`` does (its out-of-range neighbours are equal values)."""
    if isinstance(v, Tracer):
        v = lax.convert_element_type(v, np.int64)
        return where(lax.lt(v, np.int64(0)), np.int64(0),
                     where(lax.gt(v, np.int64(n - 1)), np.int64(n - 1), v))
    return np.clip(np.asarray(v).astype(np.int64), 0, n - 1)


def _take_last(s, idx):
    """``s[..., idx]`` with the axes of ``idx`` moved to the front."""
    k = len(shape_of(s)) - 1
    q_nd = len(shape_of(idx))
    out = take(s, idx, axis=-1)
    if q_nd and k:
        out = moveaxis(out, tuple(range(k, k + q_nd)), tuple(range(q_nd)))
    return out


def _expand_q(g, k):
    """Weights shaped like ``q``, broadcast against ``q.shape + kept``."""
    shp = shape_of(g)
    if not shp or not k:
        return g
    return reshape(g, shp + (1,) * k)


# ---------------------------------------------------------------------------
# NaN-aware order statistics: each slice's statistic of its non-NaN values


def _nan_sorted(a, axis):
    """The slices sorted (NaNs last), and each slice's count of non-NaNs."""
    s, axes, n = _to_last(a, axis)
    s = sort(s, axis=-1)
    k = sum(lax.convert_element_type(logical_not(_isnan(s)), np.int64), axis=-1)
    return s, k, axes, n


def _take_per_slice(s, idx):
    """``s[..., idx]`` where ``idx`` has shape ``q.shape + kept`` (an index
    for every slice), with the axes of ``q`` in front."""
    kept = shape_of(s)[:-1]
    q_nd = len(shape_of(idx)) - len(kept)
    k = len(kept)
    idx = moveaxis(idx, tuple(range(q_nd)), tuple(range(k, k + q_nd))) if q_nd and k else idx
    s = reshape(s, kept + (1,) * q_nd + shape_of(s)[-1:])
    out = take_along_axis(s, reshape(idx, shape_of(idx) + (1,)), axis=-1)
    out = reshape(out, shape_of(out)[:-1])
    return moveaxis(out, tuple(range(k, k + q_nd)), tuple(range(q_nd))) if q_nd and k else out


def nanmedian(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """Differentiable ``numpy.nanmedian``: the median of the non-NaN values
    of each slice (NaN for an all-NaN slice, where NumPy also warns).

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> fxad.grad(fnp.nanmedian)(np.array([4.0, np.nan, 1.0, 3.0]))
        array([0., 0., 0., 1.])
    """
    _no_out(out)
    if not isinstance(a, Tracer):
        return np.nanmedian(a, axis=axis, overwrite_input=overwrite_input, keepdims=keepdims)
    if not np.issubdtype(a.aval.dtype, np.inexact):
        return median(a, axis=axis, keepdims=keepdims)
    a_shape = a.aval.shape
    s, k, axes, n = _nan_sorted(a, axis)
    if n == 0:
        res = np.full(shape_of(s)[:-1], np.nan, a.dtype)
    else:
        top = np.int64(n - 1)
        lo = where(lax.lt(k, np.int64(1)), np.int64(0), _floor_half(k - 1))
        hi = where(lax.gt(k // 2, top), top, k // 2)
        res = true_divide(add(_take_per_slice(s, lo), _take_per_slice(s, hi)), 2)
        res = where(lax.eq(k, np.int64(0)), a.dtype.type(np.nan), res)
    return reshape(res, _keepdims_shape(a_shape, axes)) if keepdims else res


def _floor_half(x):
    return floor_divide(x, 2)


def nanquantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                keepdims=False, *, weights=None, interpolation=None):
    """Differentiable ``numpy.nanquantile``: ``quantile`` of the non-NaN
    values of each slice (method ``linear`` only, NumPy's default; NaN for an
    all-NaN slice).

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> float(fnp.nanquantile(np.array([1.0, np.nan, 2.0, 4.0]), 0.5))
        2.0
    """
    _no_out(out)
    if not any_tracer(a, q):
        return np.nanquantile(a, q, axis=axis, overwrite_input=overwrite_input, method=method,
                              keepdims=keepdims, weights=weights, **_interp(interpolation))
    weak_q = type(q) in (int, float) or (isinstance(q, Tracer) and q.aval.weak_type)
    return _nanquantile(a, asarray(q), axis, method, keepdims, weights, interpolation, weak_q,
                        "Quantiles", 1)


def nanpercentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                  keepdims=False, *, weights=None, interpolation=None):
    """Differentiable ``numpy.nanpercentile``: ``nanquantile(a, q / 100)``."""
    _no_out(out)
    if not any_tracer(a, q):
        return np.nanpercentile(a, q, axis=axis, overwrite_input=overwrite_input,
                                method=method, keepdims=keepdims, weights=weights,
                                **_interp(interpolation))
    weak_q = type(q) in (int, float) or (isinstance(q, Tracer) and q.aval.weak_type)
    q = true_divide(q, 100) if isinstance(q, Tracer) else np.true_divide(q, 100)
    return _nanquantile(a, asarray(q), axis, method, keepdims, weights, interpolation, weak_q,
                        "Percentiles", 100)


def _nanquantile(a, q, axis, method, keepdims, weights, interpolation, weak_q, what, scale):
    a = asarray(a)
    if not np.issubdtype(a.dtype, np.inexact):
        return _quantile(a, q, axis, method, keepdims, weights, interpolation, weak_q, what,
                         scale)
    if weights is not None or (interpolation or method) != "linear":
        raise NotImplementedError("fxad.numpy.nanquantile: only method='linear' (without "
                                  "weights) is supported for traced arrays")
    if a.dtype.kind == "c":
        raise TypeError("a must be an array of real numbers")
    qv = q.to_concrete_value() if isinstance(q, Tracer) else q
    if qv is not None and np.size(qv) and not (np.all(qv >= 0) and np.all(qv <= 1)):
        raise ValueError(f"{what} must be in the range [0, {scale}]")
    a_shape = shape_of(a)
    s, k, axes, n = _nan_sorted(a, axis)
    if n == 0:
        raise IndexError("cannot do a non-empty take from an empty axes (the quantile of an "
                         f"empty axis of an array of shape {a_shape})")
    kept = shape_of(s)[:-1]
    q_dt = to_inexact(q.dtype)
    qb = reshape(convert(q, q_dt), shape_of(q) + (1,) * len(kept))
    # (k - 1) * q per slice, in q's dtype as NumPy computes it slice by slice
    virtual = multiply(convert(subtract(k, 1), q_dt), qb)
    prev = floor(stop_gradient(virtual))
    gamma = subtract(virtual, prev)
    top = subtract(k, 1)
    lo_i = lax.convert_element_type(prev, np.int64) if isinstance(prev, Tracer) else \
        np.asarray(prev).astype(np.int64)
    lo_i = where(lax.lt(lo_i, np.int64(0)), np.int64(0), where(greater(lo_i, top), top, lo_i))
    hi_i = where(greater(add(lo_i, 1), top), top, add(lo_i, 1))
    lo_i = where(lax.lt(lo_i, np.int64(0)), np.int64(0), lo_i)  # all-NaN slices (k == 0)
    hi_i = where(lax.lt(hi_i, np.int64(0)), np.int64(0), hi_i)
    left, right = _take_per_slice(s, lo_i), _take_per_slice(s, hi_i)
    if weak_q:
        gamma = convert(gamma, result_type(a, 1.0))
    d = subtract(right, left)
    res = where(greater_equal(gamma, 0.5), subtract(right, multiply(d, subtract(1, gamma))),
                add(left, multiply(d, gamma)))
    res = where(lax.eq(k, np.int64(0)), a.dtype.type(np.nan), res)
    if keepdims:
        res = reshape(res, shape_of(q) + _keepdims_shape(a_shape, axes))
    return res


def sort_complex(a):
    """``numpy.sort_complex``: sort (real part first, then imaginary) as complex."""
    if not isinstance(a, Tracer):
        return np.sort_complex(a)
    dt = np.result_type(a.aval.dtype, np.complex64)
    return sort(convert(a, dt), axis=-1)


# ---------------------------------------------------------------------------
# Cumulative extrema: ``numpy.maximum.accumulate`` / ``minimum.accumulate``


def _cumulative_extremum(np_ufunc, lax_fn):
    def fn(a, axis=0, dtype=None):
        if not isinstance(a, Tracer):
            return np_ufunc.accumulate(a, axis=axis, dtype=dtype)
        if dtype is not None:
            a = convert(a, np.dtype(dtype))
        if axis is None:
            a = ravel(a)
            axis = 0
        if a.ndim == 0:
            raise TypeError("cannot accumulate on a scalar")
        return lax_fn(a, canonical_axis(axis, a.ndim))

    fn.__name__ = fn.__qualname__ = f"_cum{np_ufunc.__name__[:3]}"
    fn.__doc__ = (f"``numpy.{np_ufunc.__name__}.accumulate`` (``lax.cum"
                  f"{np_ufunc.__name__[:3]}``: ties share the derivative).")
    return fn


_cummax = _cumulative_extremum(np.maximum, lax.cummax)
_cummin = _cumulative_extremum(np.minimum, lax.cummin)


# ---------------------------------------------------------------------------
# ``fxad.numpy.add.accumulate`` and friends: the methods NumPy's ufuncs have,
# on the four functions whose folds fxad has as primitives.


def _ufunc_methods(fn, np_ufunc, accumulate_fn, reduce_fn):
    name = np_ufunc.__name__

    def accumulate(array, axis=0, dtype=None, out=None):
        _no_out(out)
        if not isinstance(array, Tracer):
            return np_ufunc.accumulate(array, axis=axis, dtype=dtype)
        if array.ndim == 0:
            raise TypeError("cannot accumulate on a scalar")
        if axis is None:
            if array.ndim != 1:
                raise ValueError("accumulate does not allow multiple axes")
            axis = 0
        return accumulate_fn(array, axis=axis, dtype=dtype)

    def reduce(array, axis=0, dtype=None, out=None, keepdims=False, initial=np._NoValue,
               where=True):
        _no_out(out)
        kw = {} if where is True else {"where": where}
        if initial is not np._NoValue:
            kw["initial"] = initial
        if dtype is not None and name in ("add", "multiply"):
            kw["dtype"] = dtype
        out_ = reduce_fn(array, axis=axis, keepdims=keepdims, **kw)
        if dtype is not None and name not in ("add", "multiply"):
            out_ = out_.astype(dtype)
        return out_

    accumulate.__name__ = accumulate.__qualname__ = f"{name}.accumulate"
    accumulate.__doc__ = (f"``numpy.{name}.accumulate``: the running {name} along ``axis`` "
                          f"(default 0), differentiable.\n\n"
                          f"Example:\n"
                          f"    >>> import fxad.numpy as fnp, numpy as np\n"
                          f"    >>> fnp.{name}.accumulate(np.array([2.0, 1.0, 3.0]))\n"
                          f"    {np.array_repr(np_ufunc.accumulate(np.array([2.0, 1.0, 3.0])))}\n")
    reduce.__name__ = reduce.__qualname__ = f"{name}.reduce"
    reduce.__doc__ = (f"``numpy.{name}.reduce`` along ``axis`` (default 0), with "
                      f"``keepdims``, ``initial`` and ``where`` as NumPy, differentiable.")
    fn.accumulate = accumulate
    fn.reduce = reduce


_ufunc_methods(add, np.add, cumsum, sum)
_ufunc_methods(multiply, np.multiply, cumprod, prod)
_ufunc_methods(maximum, np.maximum, lambda a, axis, dtype: _cummax(a, axis, dtype), max)
_ufunc_methods(minimum, np.minimum, lambda a, axis, dtype: _cummin(a, axis, dtype), min)
