"""Numerical routines with NumPy semantics: 1-D ``convolve`` and
``correlate``, ``interp``, ``trapezoid``, ``gradient``, ``cov`` and
``corrcoef``, ``geomspace``, ``unwrap``, and polynomials as coefficient
arrays (``polyval``, ``polyadd``, ``polysub``, ``polymul``, ``polyder``,
``polyint``, ``poly``, ``vander``).

Each is a composite written in the order of NumPy's own arithmetic, so the
values agree with NumPy's to rounding and the derivatives, of any order,
are those of the composite.  ``interp`` is piecewise linear: at a knot its
derivative in ``x`` is the slope of the segment to the right (JAX's
convention), and it is differentiable in ``xp`` and ``fp`` too.
"""

from __future__ import annotations

import warnings

import numpy as np

from fxad import lax
from fxad.core import Tracer
from fxad.numpy import _core as _fc
from fxad.numpy import linalg as fla
from fxad.numpy._core import (
    absolute,
    add,
    conj,
    cumsum,
    equal,
    greater,
    imag,
    isfinite,
    less,
    logical_and,
    logical_not,
    multiply,
    negative,
    power,
    real,
    remainder,
    sign,
    sqrt,
    subtract,
    sum,
    true_divide,
)
from fxad.numpy._creation import linspace
from fxad.numpy._floating import i0
from fxad.numpy._indexing import take
from fxad.numpy._linalg_ops import diagonal, dot, matmul
from fxad.numpy._reductions import argsort, average, cumprod, diff
from fxad.numpy._searching import searchsorted
from fxad.numpy._shape import (
    asarray,
    atleast_1d,
    broadcast_to,
    clip,
    concatenate,
    expand_dims,
    flip,
    moveaxis,
    reshape,
    squeeze,
    where,
)
from fxad.numpy._ufuncs import log10
from fxad.numpy._util import (
    any_tracer,
    canonical_axes,
    canonical_axis,
    convert,
    result_type,
    shape_of,
)
from fxad.numpy._util import concrete_value as _value
from fxad.numpy._util import isnan_traced as _isnan


def _dtype(a):
    return a.aval.dtype if isinstance(a, Tracer) else np.asarray(a).dtype


def _len(a):
    return shape_of(a)[0]




# ---------------------------------------------------------------------------
# Convolution


def _vectors(a, v):
    a, v = atleast_1d(asarray(a)), atleast_1d(asarray(v))
    if len(shape_of(a)) != 1 or len(shape_of(v)) != 1:
        raise ValueError("object too deep for desired array")
    if _len(a) == 0:
        raise ValueError("a cannot be empty")
    if _len(v) == 0:
        raise ValueError("v cannot be empty")
    dt = result_type(a, v)
    return convert(a, dt), convert(v, dt), dt


def _window(a, v, start, length, dt):
    """``out[k] = sum_n a[n + k - (N - 1)] v[n]`` for ``k`` in
    ``[start, start + length)`` (``a`` zero outside): one gather of the
    windows of the padded ``a``, then a matrix-vector product."""
    n = _len(v)
    if isinstance(a, Tracer):
        padded = lax.pad(a, dt.type(0), ((n - 1, n - 1, 0),))
    else:
        padded = np.pad(np.asarray(a), (n - 1, n - 1))
    idx = (start + np.arange(length))[:, None] + np.arange(n)[None, :]
    return dot(take(padded, idx), v)


def correlate(a, v, mode="valid"):
    """Differentiable ``numpy.correlate`` of 1-D sequences:
    ``c[k] = sum_n a[n + k] conj(v[n])``, ``mode`` ``'valid'`` (the default),
    ``'same'`` or ``'full'``, with NumPy's windows.

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.correlate(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5]), "same")
        array([2. , 3.5, 3. ])
    """
    if not any_tracer(a, v):
        return np.correlate(a, v, mode)
    a, v, dt = _vectors(a, v)
    if np.issubdtype(dt, np.complexfloating):
        v = conj(v)
    m, n = _len(a), _len(v)
    lo, hi = (n, m) if n <= m else (m, n)
    if mode == "full":
        start, length = 0, m + n - 1
    elif mode == "same":
        # NumPy centres on the shorter input, from its end when it is ``a``.
        start, length = (n - 1 - n // 2 if m >= n else m // 2), hi
    elif mode == "valid":
        start, length = lo - 1, hi - lo + 1
    else:
        raise ValueError(f"mode must be one of 'valid', 'same', or 'full' (got {mode!r})")
    return _window(a, v, start, length, dt)


def convolve(a, v, mode="full"):
    """Differentiable ``numpy.convolve`` of 1-D sequences:
    ``c[k] = sum_n a[n] v[k - n]``, ``mode`` ``'full'`` (the default),
    ``'same'`` (the longer input's length) or ``'valid'``.  (For N-d inputs
    see ``fxad.scipy.signal.convolve``.)

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> fnp.convolve(np.array([1.0, 2.0]), np.array([1.0, 1.0, 1.0]))
        array([1., 3., 3., 2.])
        >>> fxad.grad(lambda x: fnp.convolve(x, np.array([1.0, 1.0]))[1])(np.ones(2))
        array([1., 1.])
    """
    if not any_tracer(a, v):
        return np.convolve(a, v, mode)
    a, v, dt = _vectors(a, v)
    if _len(v) > _len(a):
        a, v = v, a
    m, n = _len(a), _len(v)
    if mode == "full":
        start, length = 0, m + n - 1
    elif mode == "same":
        start, length = (n - 1) // 2, m
    elif mode == "valid":
        start, length = n - 1, m - n + 1
    else:
        raise ValueError(f"mode must be one of 'valid', 'same', or 'full' (got {mode!r})")
    return _window(a, flip(v), start, length, dt)


# ---------------------------------------------------------------------------
# Interpolation and integration


def interp(x, xp, fp, left=None, right=None, period=None):
    """Differentiable ``numpy.interp``: piecewise-linear interpolation of
    the points ``(xp, fp)`` (``xp`` increasing) at ``x``; ``left``/``right``
    (default ``fp[0]``/``fp[-1]``) outside, and ``period`` for periodic
    data.

    Differentiable in ``x`` (the segment's slope; at a knot the slope to its
    right, as JAX), in ``fp``, in ``xp`` and in ``left``/``right``; the
    result is float64 (complex128 for complex ``fp``), as NumPy's.

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> xp, fp = np.array([0.0, 1.0, 3.0]), np.array([0.0, 2.0, 3.0])
        >>> float(fnp.interp(2.0, xp, fp)), float(fxad.grad(fnp.interp)(2.0, xp, fp))
        (2.5, 0.5)
    """
    if not any_tracer(x, xp, fp, left, right, period):
        return np.interp(x, xp, fp, left, right, period)
    f64 = np.dtype(np.float64)
    fp = asarray(fp)
    dt = np.dtype(np.complex128) if np.issubdtype(_dtype(fp), np.complexfloating) else f64
    x, xp, fp = convert(asarray(x), f64), convert(asarray(xp), f64), convert(fp, dt)
    if len(shape_of(xp)) != 1 or len(shape_of(fp)) != 1:
        raise ValueError("Data points must be 1-D sequences")
    if _len(xp) != _len(fp):
        raise ValueError("fp and xp are not of the same length")
    if _len(xp) == 0:
        raise ValueError("array of sample points is empty")
    if period is not None:
        if isinstance(period, Tracer):
            raise NotImplementedError("fxad.numpy.interp: a traced period is not supported")
        if period == 0:
            raise ValueError("period must be a non-zero value")
        period = abs(period)
        left = right = None
        x, xp = remainder(x, period), remainder(xp, period)
        order = argsort(xp)
        xp, fp = take(xp, order), take(fp, order)
        xp = concatenate([subtract(xp[-1:], period), xp, add(xp[0:1], period)])
        fp = concatenate([fp[-1:], fp, fp[0:1]])
    n = _len(xp)
    lval = fp[0] if left is None else convert(asarray(left), dt)
    rval = fp[n - 1] if right is None else convert(asarray(right), dt)
    if n == 1:
        out = where(greater(x, xp[0]), rval, fp[0])
        return where(less(x, xp[0]), lval, out)
    j = clip(subtract(searchsorted(xp, x, side="right"), 1), 0, n - 2)
    x0, x1 = take(xp, j), take(xp, add(j, 1))
    f0, f1 = take(fp, j), take(fp, add(j, 1))
    slope = true_divide(subtract(f1, f0), subtract(x1, x0))
    # NumPy returns fp[-1] at xp[-1]: anchor that segment at its right end.
    at_end = equal(x, xp[n - 1])
    out = where(at_end, add(multiply(slope, subtract(x, x1)), f1),
                add(multiply(slope, subtract(x, x0)), f0))
    # NumPy's fallbacks: a NaN from one end is retried from the other, and a
    # flat segment (infinite slope times zero) gives its value.
    alt = add(multiply(slope, subtract(x, x1)), f1)
    out = where(_isnan(out), alt, out)
    out = where(logical_and(_isnan(out), equal(f0, f1)), f0, out)
    out = where(logical_and(equal(x, x0), logical_not(isfinite(slope))), f0, out)
    out = where(less(x, xp[0]), lval, out)
    return where(greater(x, xp[n - 1]), rval, out)


def trapezoid(y, x=None, dx=1.0, axis=-1):
    """Differentiable ``numpy.trapezoid``: the trapezoidal rule along
    ``axis``, with sample points ``x`` or a spacing ``dx`` (differentiable
    in ``y``, ``x`` and ``dx``).

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> float(fnp.trapezoid(np.array([1.0, 2.0, 3.0]), dx=0.5))
        2.0
    """
    if not any_tracer(y, x, dx):
        return np.trapezoid(y, x, dx, axis)
    y = asarray(y)
    nd = len(shape_of(y))
    ax = canonical_axis(axis, nd)
    if x is None:
        d = dx
    else:
        x = asarray(x)
        if len(shape_of(x)) == 1:
            d = diff(x)
            shape = [1] * nd
            shape[ax] = shape_of(d)[0]
            d = reshape(d, tuple(shape))
        else:
            d = diff(x, axis=ax)
    m = shape_of(y)[ax]
    hi = _slice(y, 1, m, ax)
    lo = _slice(y, 0, max(m - 1, 0), ax)
    return sum(true_divide(multiply(d, add(hi, lo)), 2.0), axis=ax)


def _slice(a, start, stop, axis):
    if not isinstance(a, Tracer):
        idx = [slice(None)] * np.ndim(a)
        idx[axis] = slice(start, stop)
        return np.asarray(a)[tuple(idx)]
    shape = shape_of(a)
    lo, hi = [0] * len(shape), list(shape)
    lo[axis], hi[axis] = start, stop
    return lax.slice(a, lo, hi)


def _at(a, i, axis):
    """``a`` indexed by ``i`` along ``axis`` (the axis dropped)."""
    return a[(slice(None),) * axis + (i,)]


def gradient(f, *varargs, axis=None, edge_order=1):
    """Differentiable ``numpy.gradient``: second-order central differences
    inside, first- or second-order one-sided differences at the edges
    (``edge_order``), with uniform spacings (scalars) or coordinates (1-D
    arrays) per axis.  Differentiable in ``f`` and in the spacings.

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.gradient(np.array([1.0, 4.0, 9.0, 16.0]))
        array([3., 4., 6., 7.])
    """
    if not any_tracer(f, *varargs):
        return np.gradient(f, *varargs, axis=axis, edge_order=edge_order)
    f = asarray(f)
    nd = len(shape_of(f))
    axes = canonical_axes(axis, nd) if axis is None or isinstance(axis, (tuple, list)) else (
        canonical_axis(axis, nd),)
    if axis is not None and isinstance(axis, (tuple, list)):
        axes = tuple(canonical_axis(a, nd) for a in axis)
    n = len(varargs)
    if n == 0:
        dx = [1.0] * len(axes)
    elif n == 1 and np.ndim(varargs[0]) == 0:
        dx = list(varargs) * len(axes)
    elif n == len(axes):
        dx = list(varargs)
        for i, distances in enumerate(dx):
            distances = asarray(distances)
            if len(shape_of(distances)) == 0:
                continue
            if len(shape_of(distances)) != 1:
                raise ValueError("distances must be either scalars or 1d")
            if _len(distances) != shape_of(f)[axes[i]]:
                raise ValueError("when 1d, distances must match the length of the "
                                 "corresponding dimension")
            if np.issubdtype(_dtype(distances), np.integer):
                distances = convert(distances, np.dtype(np.float64))
            diffx = subtract(distances[1:], distances[:-1])
            if not isinstance(diffx, Tracer) and np.all(diffx == diffx[0]):
                diffx = diffx[0]  # uniform: NumPy's cheaper formula
            dx[i] = diffx
    else:
        raise TypeError("invalid number of arguments")
    if edge_order > 2:
        raise ValueError("'edge_order' greater than 2 not supported")
    otype = _dtype(f)
    if not np.issubdtype(otype, np.inexact):
        if np.issubdtype(otype, np.integer):
            f = convert(f, np.dtype(np.float64))
        otype = np.dtype(np.float64)
    out = []
    for ax, h in zip(axes, dx):
        m = shape_of(f)[ax]
        if m < edge_order + 1:
            raise ValueError("Shape of array too small to calculate a numerical gradient, "
                             "at least (edge_order + 1) elements are required.")
        uniform = np.ndim(h) == 0 and not (isinstance(h, Tracer) and h.ndim)
        f_lo, f_mid, f_hi = _slice(f, 0, m - 2, ax), _slice(f, 1, m - 1, ax), _slice(f, 2, m, ax)
        if uniform:
            inner = true_divide(subtract(f_hi, f_lo), multiply(2.0, h))
        else:
            shape = [1] * nd
            shape[ax] = -1
            dx1, dx2 = h[0:-1], h[1:]
            a = reshape(true_divide(negative(dx2), multiply(dx1, add(dx1, dx2))), shape)
            b = reshape(true_divide(subtract(dx2, dx1), multiply(dx1, dx2)), shape)
            c = reshape(true_divide(dx1, multiply(dx2, add(dx1, dx2))), shape)
            inner = add(add(multiply(a, f_lo), multiply(b, f_mid)), multiply(c, f_hi))
        if edge_order == 1:
            d0 = h if uniform else h[0]
            dn = h if uniform else h[-1]
            first = true_divide(subtract(_at(f, 1, ax), _at(f, 0, ax)), d0)
            last = true_divide(subtract(_at(f, m - 1, ax), _at(f, m - 2, ax)), dn)
        else:
            if uniform:
                a, b, c = (true_divide(-1.5, h), true_divide(2.0, h), true_divide(-0.5, h))
            else:
                dx1, dx2 = h[0], h[1]
                a = true_divide(negative(add(multiply(2.0, dx1), dx2)),
                                multiply(dx1, add(dx1, dx2)))
                b = true_divide(add(dx1, dx2), multiply(dx1, dx2))
                c = true_divide(negative(dx1), multiply(dx2, add(dx1, dx2)))
            first = add(add(multiply(a, _at(f, 0, ax)), multiply(b, _at(f, 1, ax))),
                        multiply(c, _at(f, 2, ax)))
            if uniform:
                a, b, c = (true_divide(0.5, h), true_divide(-2.0, h), true_divide(1.5, h))
            else:
                dx1, dx2 = h[-2], h[-1]
                a = true_divide(dx2, multiply(dx1, add(dx1, dx2)))
                b = true_divide(negative(add(dx2, dx1)), multiply(dx1, dx2))
                c = true_divide(add(multiply(2.0, dx2), dx1), multiply(dx2, add(dx1, dx2)))
            last = add(add(multiply(a, _at(f, m - 3, ax)), multiply(b, _at(f, m - 2, ax))),
                       multiply(c, _at(f, m - 1, ax)))
        pieces = [first, inner, last]
        parts = [convert(asarray(p), otype) for p in pieces]
        parts[0] = _expand(parts[0], ax)
        parts[2] = _expand(parts[2], ax)
        out.append(concatenate(parts, axis=ax))
    return out[0] if len(axes) == 1 else tuple(out)


def _expand(a, axis):
    return expand_dims(a, axis)


# ---------------------------------------------------------------------------
# Covariance


def cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, *,
        dtype=None):
    """Differentiable ``numpy.cov``: the covariance of the rows (``rowvar``)
    or columns, with ``ddof``/``bias`` and frequency (``fweights``) or
    analytic (``aweights``) weights (differentiable in the data and in
    ``aweights``).

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.cov(np.array([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]]))
        array([[ 1., -1.],
               [-1.,  1.]])
    """
    if not any_tracer(m, y, fweights, aweights):
        return np.cov(m, y, rowvar, bias, ddof, fweights, aweights, dtype=dtype)
    if ddof is not None and ddof != int(ddof):
        raise ValueError("ddof must be integer")
    m = asarray(m)
    if len(shape_of(m)) > 2:
        raise ValueError("m has more than 2 dimensions")
    if y is not None:
        y = asarray(y)
        if len(shape_of(y)) > 2:
            raise ValueError("y has more than 2 dimensions")
    if dtype is None:
        dtype = np.result_type(_dtype(m), np.float64) if y is None else np.result_type(
            _dtype(m), _dtype(y), np.float64)
    dtype = np.dtype(dtype)
    X = _atleast_2d(convert(m, dtype))
    if not rowvar and len(shape_of(m)) != 1:
        X = X.T
    if shape_of(X)[0] == 0:
        return np.array([]).reshape(0, 0)
    if y is not None:
        y = _atleast_2d(convert(y, dtype))
        if not rowvar and shape_of(y)[0] != 1:
            y = y.T
        X = concatenate((X, y), axis=0)
    if ddof is None:
        ddof = 1 if bias == 0 else 0
    w = None
    f64 = np.dtype(np.float64)
    nobs = shape_of(X)[1]
    if fweights is not None:
        fweights = convert(asarray(fweights), f64)
        fv = _value(fweights)
        if fv is not None and not np.all(fv == np.around(fv)):
            raise TypeError("fweights must be integer")
        if len(shape_of(fweights)) > 1:
            raise RuntimeError("cannot handle multidimensional fweights")
        if shape_of(fweights)[0] != nobs:
            raise RuntimeError("incompatible numbers of samples and fweights")
        if fv is not None and np.any(fv < 0):
            raise ValueError("fweights cannot be negative")
        w = fweights
    if aweights is not None:
        aweights = convert(asarray(aweights), f64)
        av = _value(aweights)
        if len(shape_of(aweights)) > 1:
            raise RuntimeError("cannot handle multidimensional aweights")
        if shape_of(aweights)[0] != nobs:
            raise RuntimeError("incompatible numbers of samples and aweights")
        if av is not None and np.any(av < 0):
            raise ValueError("aweights cannot be negative")
        w = aweights if w is None else multiply(w, aweights)
    avg, w_sum = average(X, axis=1, weights=w, returned=True)
    w_sum = w_sum[0]
    if w is None:
        fact = nobs - ddof
    elif ddof == 0:
        fact = w_sum
    elif aweights is None:
        fact = subtract(w_sum, ddof)
    else:
        fact = subtract(w_sum, true_divide(multiply(ddof, sum(multiply(w, aweights))), w_sum))
    fv = _value(fact)
    if fv is not None and fv <= 0:
        warnings.warn("Degrees of freedom <= 0 for slice", RuntimeWarning, stacklevel=2)
        fact = 0.0
    X = subtract(X, avg[:, None])
    X_T = X.T if w is None else multiply(X, w).T
    c = matmul(X, conj(X_T))
    inv = true_divide(1, fact) if isinstance(fact, Tracer) else np.true_divide(1, fact)
    c = convert(multiply(c, inv), dtype)
    return squeeze(c)


def _atleast_2d(a):
    s = shape_of(a)
    return reshape(a, (1,) * (2 - len(s)) + s) if len(s) < 2 else a


def corrcoef(x, y=None, rowvar=True, *, dtype=None):
    """Differentiable ``numpy.corrcoef``: ``cov`` normalised by the standard
    deviations, clipped to ``[-1, 1]`` as NumPy does.

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.corrcoef(np.array([0.0, 1.0, 2.0]), np.array([2.0, 1.0, 0.5]))
        array([[ 1.        , -0.98198051],
               [-0.98198051,  1.        ]])
    """
    if not any_tracer(x, y):
        return np.corrcoef(x, y, rowvar, dtype=dtype)
    c = cov(x, y, rowvar, dtype=dtype)
    if len(shape_of(c)) != 2:
        return true_divide(c, c)
    d = diagonal(c)
    stddev = sqrt(real(d))
    c = true_divide(c, stddev[:, None])
    c = true_divide(c, stddev[None, :])
    if np.issubdtype(_dtype(c), np.complexfloating):
        return lax.complex(clip(real(c), -1, 1), clip(imag(c), -1, 1))
    return clip(c, -1, 1)


# ---------------------------------------------------------------------------
# Sequences


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """Differentiable ``numpy.geomspace`` (in ``start`` and ``stop``): a
    geometric sequence, computed as NumPy does (a ``logspace`` of the
    rotated endpoints, whose first and last values are then the endpoints
    themselves).

    Example:
        >>> import fxad, fxad.numpy as fnp
        >>> fxad.jacfwd(lambda b: fnp.geomspace(1.0, b, 3))(4.0)
        array([0.  , 0.25, 1.  ])
    """
    if not any_tracer(start, stop):
        return np.geomspace(start, stop, num, endpoint, dtype, axis)
    start, stop = asarray(start), asarray(stop)
    sv, ev = _value(start), _value(stop)
    if (sv is not None and np.any(sv == 0)) or (ev is not None and np.any(ev == 0)):
        raise ValueError("Geometric sequence cannot include zero")
    num = int(num)
    dt = result_type(start, stop, float(num), np.zeros((), dtype))
    dtype = dt if dtype is None else np.dtype(dtype)
    start, stop = convert(start, dt), convert(stop, dt)
    out_sign = sign(start)
    start = true_divide(start, out_sign)
    stop = true_divide(stop, out_sign)
    y = linspace(log10(start), log10(stop), num=num, endpoint=endpoint)
    result = convert(power(10.0, y), dt)
    if num > 0:
        bshape = np.broadcast_shapes(shape_of(start), shape_of(stop))
        first = reshape(_broadcast(start, bshape), (1,) + bshape)
        pieces = [first]
        if num > 1 and endpoint:
            pieces += [result[1:-1], reshape(_broadcast(stop, bshape), (1,) + bshape)]
        else:
            pieces.append(result[1:])
        result = concatenate([convert(p, dt) for p in pieces], axis=0)
    result = multiply(result, out_sign)
    if axis != 0:
        result = moveaxis(result, 0, axis)
    return convert(result, dtype)


def _broadcast(a, shape):
    return broadcast_to(a, shape)


def unwrap(p, discont=None, axis=-1, *, period=2 * np.pi):
    """Differentiable ``numpy.unwrap``: jumps larger than ``discont``
    replaced by their complement modulo ``period``.  The corrections are
    piecewise constant, so the derivative is the identity's.

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.unwrap(np.array([0.0, 3.0, -3.0]))
        array([0.        , 3.        , 3.28318531])
    """
    if not any_tracer(p, discont, period):
        return np.unwrap(p, discont, axis, period=period)
    p = asarray(p)
    nd = len(shape_of(p))
    ax = canonical_axis(axis, nd)
    dd = diff(p, axis=ax)
    if discont is None:
        discont = period / 2
    dtype = result_type(dd, period)
    if np.issubdtype(dtype, np.integer):
        interval_high, rem = divmod(period, 2)
        boundary_ambiguous = rem == 0
    else:
        interval_high = period / 2
        boundary_ambiguous = True
    interval_low = -interval_high
    ddmod = add(remainder(subtract(dd, interval_low), period), interval_low)
    if boundary_ambiguous:
        ddmod = where(logical_and(equal(ddmod, interval_low), greater(dd, 0)),
                      convert(asarray(interval_high), _dtype(ddmod)), ddmod)
    ph_correct = subtract(ddmod, dd)
    ph_correct = where(less(absolute(dd), discont), _dtype(ph_correct).type(0), ph_correct)
    up = convert(p, dtype)
    m = shape_of(p)[ax]
    rest = convert(add(_slice(p, 1, m, ax), cumsum(ph_correct, axis=ax)), dtype)
    return concatenate([_slice(up, 0, min(m, 1), ax), rest], axis=ax)


# ---------------------------------------------------------------------------
# Polynomials (coefficient arrays, highest power first)


def polyval(p, x):
    """Differentiable ``numpy.polyval`` (in the coefficients and in ``x``):
    Horner's rule, as NumPy evaluates it.

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> float(fxad.grad(fnp.polyval, argnums=1)(np.array([1.0, 0.0, -2.0]), 3.0))
        6.0
    """
    if not any_tracer(p, x):
        return np.polyval(p, x)
    p, x = asarray(p), asarray(x)
    y = np.zeros(shape_of(x), _dtype(x))
    for i in range(_len(atleast_1d(p))):
        y = add(multiply(y, x), p[i] if len(shape_of(p)) else p)
    return y


def _trim_leading_zeros(p):
    """``numpy.poly1d``'s trimming of leading zero coefficients, where the
    values are known (a traced array of unknown values is kept whole)."""
    p = atleast_1d(asarray(p))
    v = _value(p)
    if v is None:
        return p
    nz = np.flatnonzero(v)
    start = int(nz[0]) if nz.size else max(_len(p) - 1, 0)
    if _len(p) == 0:
        return np.array([0], _dtype(p))
    return p[start:]


def polyadd(a1, a2):
    """Differentiable ``numpy.polyadd`` (coefficient arrays).

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.polyadd(np.array([1.0, 2.0]), np.array([3.0, 4.0, 5.0]))
        array([3., 5., 7.])
    """
    if not any_tracer(a1, a2):
        return np.polyadd(a1, a2)
    return _poly_combine(a1, a2, add)


def polysub(a1, a2):
    """Differentiable ``numpy.polysub`` (coefficient arrays).

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.polysub(np.array([1.0, 2.0]), np.array([3.0, 4.0, 5.0]))
        array([-3., -3., -3.])
    """
    if not any_tracer(a1, a2):
        return np.polysub(a1, a2)
    return _poly_combine(a1, a2, subtract)


def _poly_combine(a1, a2, op):
    a1, a2 = atleast_1d(asarray(a1)), atleast_1d(asarray(a2))
    diff = _len(a2) - _len(a1)
    if diff > 0:
        a1 = concatenate((np.zeros(diff, _dtype(a1)), a1))
    elif diff < 0:
        a2 = concatenate((np.zeros(-diff, _dtype(a2)), a2))
    return op(a1, a2)


def polymul(a1, a2):
    """Differentiable ``numpy.polymul``: the convolution of the coefficients.
    NumPy first drops leading zero coefficients; fxad does so where their
    values are known (eagerly and under ``grad``), and keeps them when the
    coefficients are abstract (``make_jaxpr``, ``jit``), as JAX's
    ``trim_leading_zeros=False``.

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.polymul(np.array([1.0, 1.0]), np.array([1.0, -1.0]))
        array([ 1.,  0., -1.])
    """
    if not any_tracer(a1, a2):
        return np.polymul(a1, a2)
    return convolve(_trim_leading_zeros(a1), _trim_leading_zeros(a2))


def polyder(p, m=1):
    """Differentiable ``numpy.polyder``: the coefficients of the ``m``-th
    derivative.

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.polyder(np.array([1.0, 1.0, 1.0]))
        array([2., 1.])
    """
    if not isinstance(p, Tracer):
        return np.polyder(p, m)
    m = int(m)
    if m < 0:
        raise ValueError("Order of derivative must be positive (see polyint)")
    val = p
    for _ in range(m):
        n = _len(val) - 1
        val = multiply(val[:-1], np.arange(n, 0, -1))
    return val


def polyint(p, m=1, k=None):
    """Differentiable ``numpy.polyint``: the coefficients of the ``m``-th
    antiderivative, with integration constants ``k`` (differentiable too).

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.polyint(np.array([3.0, 2.0]), k=1.0)
        array([1.5, 2. , 1. ])
    """
    if not any_tracer(p, k):
        return np.polyint(p, m, k)
    m = int(m)
    if m < 0:
        raise ValueError("Order of integral must be positive (see polyder)")
    k = np.zeros(m, float) if k is None else k
    k = atleast_1d(asarray(k))
    if _len(k) == 1 and m > 1:
        k = multiply(k[0], np.ones(m, float))
    if _len(k) < m:
        raise ValueError("k must be a scalar or a rank-1 array of length 1 or >m.")
    val = asarray(p)
    for i in range(m):
        val = concatenate((true_divide(val, np.arange(_len(val), 0, -1)), k[i:i + 1]))
    return val


def poly(seq_of_zeros):
    """Differentiable ``numpy.poly`` of a 1-D sequence of real roots: the
    coefficients of ``prod(x - r)``, by repeated convolution (complex roots
    and the characteristic polynomial of a matrix are not supported traced).

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.poly(np.array([1.0, 2.0]))
        array([ 1., -3.,  2.])
    """
    if not isinstance(seq_of_zeros, Tracer):
        return np.poly(seq_of_zeros)
    z = atleast_1d(seq_of_zeros)
    if len(shape_of(z)) != 1:
        raise NotImplementedError("fxad.numpy.poly: only a 1-D sequence of roots is supported "
                                  "for traced values")
    dt = np.dtype(np.mintypecode(_dtype(z).char))
    if np.issubdtype(dt, np.complexfloating):
        raise NotImplementedError("fxad.numpy.poly: complex roots are not supported for "
                                  "traced values")
    z = convert(z, dt)
    if _len(z) == 0:
        return 1.0
    a = np.ones((1,), dt)
    for i in range(_len(z)):
        a = convolve(a, concatenate((np.ones(1, dt), negative(z[i:i + 1]))))
    return a


def vander(x, N=None, increasing=False):  # noqa: N803 - NumPy's name
    """Differentiable ``numpy.vander``: the powers of ``x`` (a cumulative
    product, as NumPy computes them), highest first unless ``increasing``.

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.vander(np.array([2.0, 3.0]), 3)
        array([[4., 2., 1.],
               [9., 3., 1.]])
    """
    if not isinstance(x, Tracer):
        return np.vander(x, N, increasing)
    if x.ndim != 1:
        raise ValueError("x must be a one-dimensional array or sequence.")
    n = x.aval.shape[0]
    N = n if N is None else int(N)  # noqa: N806
    dt = np.promote_types(x.aval.dtype, int)
    x = convert(x, dt)
    cols = []
    if N > 0:
        cols.append(np.ones((n, 1), dt))
    if N > 1:
        cols.append(cumprod(broadcast_to(x[:, None], (n, N - 1)), axis=1))
    if not cols:
        return np.zeros((n, 0), dt)
    v = concatenate(cols, axis=1) if len(cols) > 1 else asarray(cols[0])
    return v if increasing else flip(v, 1)



# ---------------------------------------------------------------------------
# Windows: NumPy's own (functions of the length only), and ``kaiser``,
# differentiable in its shape parameter

bartlett, blackman, hamming, hanning = np.bartlett, np.blackman, np.hamming, np.hanning


def kaiser(M, beta):  # noqa: N803 - NumPy's name
    """``numpy.kaiser``: the Kaiser window ``i0(beta * sqrt(1 - t**2)) /
    i0(beta)``, differentiable in ``beta``.

    Example:
        >>> import fxad, fxad.numpy as fnp
        >>> round(float(fxad.grad(lambda b: fnp.kaiser(3, b)[0])(2.0)), 12)  # -i1/i0**2
        -0.30609719112
    """
    if not isinstance(beta, Tracer):
        return np.kaiser(M, beta)
    if M == 1:
        return np.ones(1, dtype=np.result_type(M, 0.0))
    n = np.arange(0, M)
    alpha = (M - 1) / 2.0
    return true_divide(i0(multiply(beta, np.sqrt(1 - ((n - alpha) / alpha) ** 2.0))),
                       i0(convert(beta, np.result_type(_dtype(beta), np.float64))))


# ---------------------------------------------------------------------------
# Fitting and roots


def polyfit(x, y, deg, rcond=None, full=False, w=None, cov=False):
    """``numpy.polyfit``: least-squares polynomial coefficients, highest power
    first, in NumPy's arithmetic (columns of the Vandermonde matrix scaled
    to unit norm, then ``lstsq``); ``w`` weights, ``full`` returns
    ``(p, residuals, rank, s, rcond)``, ``cov`` (True or ``"unscaled"``)
    ``(p, V)``.  Differentiable in ``x``, ``y`` and ``w`` where the
    Vandermonde matrix has full rank (``lstsq``'s derivative).

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> x = np.array([0.0, 1.0, 2.0, 3.0])
        >>> np.round(fxad.grad(lambda y: fnp.polyfit(x, y, 1)[0])(x ** 2), 6)  # the slope
        array([-0.3, -0.1,  0.1,  0.3])
    """
    if not any_tracer(x, y, w):
        return np.polyfit(x, y, deg, rcond=rcond, full=full, w=w, cov=cov)
    order = int(deg) + 1
    x = asarray(x) + 0.0
    y = asarray(y) + 0.0
    if deg < 0:
        raise ValueError("expected deg >= 0")
    if x.ndim != 1:
        raise TypeError("expected 1D vector for x")
    if x.size == 0:
        raise TypeError("expected non-empty vector for x")
    if y.ndim < 1 or y.ndim > 2:
        raise TypeError("expected 1D or 2D array for y")
    if x.shape[0] != y.shape[0]:
        raise TypeError("expected x and y to have same length")
    if rcond is None:
        rcond = len(x) * np.finfo(result_type(x)).eps
    lhs = vander(x, order)
    rhs = y
    if w is not None:
        w = asarray(w) + 0.0
        if w.ndim != 1:
            raise TypeError("expected a 1-d array for weights")
        if w.shape[0] != y.shape[0]:
            raise TypeError("expected w and y to have the same length")
        lhs = _fc.multiply(lhs, w[:, None])
        rhs = _fc.multiply(rhs, w[:, None] if rhs.ndim == 2 else w)
    scale = _fc.sqrt(_fc.sum(_fc.multiply(lhs, lhs), axis=0))
    lhs = _fc.divide(lhs, scale)
    c, resids, rank, s = fla.lstsq(lhs, rhs, rcond)
    c = _fc.divide(c.T, scale).T
    if full:
        return c, resids, rank, s, rcond
    if cov:
        vbase = _fc.divide(fla.inv(matmul(lhs.T, lhs)), scale[:, None] * scale[None, :])
        if cov == "unscaled":
            fac = 1
        else:
            if len(x) <= order:
                raise ValueError("the number of data points must exceed order to scale the "
                                 "covariance matrix")
            fac = _fc.divide(resids, len(x) - order)
            fac = fac[0] if y.ndim == 1 else fac
        if y.ndim == 1:
            return c, _fc.multiply(vbase, fac)
        return c, _fc.multiply(vbase[:, :, None], fac)
    return c


def roots(p):
    """``numpy.roots``: the roots of the polynomial with coefficients ``p``
    (highest power first), the eigenvalues of its companion matrix, as
    NumPy.  Traced, the result is always complex and its derivative is the
    implicit one, ``dr = -dp(r) / p'(r)`` (the eigenvalue derivative of the
    companion matrix), for simple roots.  Leading zeros are stripped when
    ``p``'s values are known (``grad``, ``jvp``); under ``jit`` the leading
    coefficient must be nonzero (output shapes are fixed while tracing).

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> f = lambda c: fnp.sort(fnp.real(fnp.roots(c)))
        >>> np.round(fxad.jacfwd(f)(np.array([1.0, -3.0, 2.0])), 12)  # roots 1, 2
        array([[ 1.,  1.,  1.],
               [-4., -2., -1.]])
    """
    if not any_tracer(p):
        return np.roots(p)
    p = asarray(p)
    if p.ndim != 1:
        raise ValueError("Input must be a rank-1 array.")
    known = _value(p)
    lead = 0
    if known is not None:
        nz = np.flatnonzero(known)
        if len(nz) == 0:
            return np.array([], np.complex128)
        lead = int(nz[0])
        trailing = len(known) - 1 - int(nz[-1])
    else:
        trailing = 0
    p = p[lead:len(p) - trailing]
    n = p.shape[0] - 1
    dt = np.result_type(result_type(p), np.complex64)
    zeros = np.zeros(trailing, dt)
    if n < 1:
        return asarray(zeros)
    first = _fc.negative(_fc.divide(p[1:], p[0]))[None, :]
    companion = concatenate([first, np.eye(n - 1, n, dtype=result_type(first))], axis=0)
    r = _fc.astype(fla.eigvals(companion), dt)
    return concatenate([r, zeros]) if trailing else r
