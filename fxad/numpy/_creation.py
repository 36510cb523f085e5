"""Array creation: constants are plain NumPy arrays (no derivative flows
through a shape), except ``full``/``*_like`` with a traced fill value."""

from __future__ import annotations

import numpy as np

from fxad.core import Tracer
from fxad.errors import ConcretizationTypeError
from fxad.numpy._core import add, floor, multiply, subtract, true_divide
from fxad.numpy._shape import asarray, concatenate, moveaxis, reshape
from fxad.numpy._util import any_tracer, broadcast_to_shape, convert, result_type, shape_of

zeros = np.zeros
ones = np.ones
empty = np.zeros  # no uninitialised memory: deterministic results
eye = np.eye
identity = np.identity
logspace = np.logspace
tri = np.tri


def arange(start, stop=None, step=None, dtype=None):
    """``numpy.arange``; its arguments fix the output's shape, so they must be
    concrete (a constant: no derivative flows through it).

    Example:
        >>> import fxad.numpy as fnp
        >>> fnp.arange(3)
        array([0, 1, 2])
    """
    if any_tracer(start, stop, step):
        raise ConcretizationTypeError(
            "fxad.numpy.arange: start, stop and step determine the shape of the result, "
            "so they must be concrete Python or NumPy numbers, not traced values. Compute "
            "them outside the transformed function (or from static shapes), or use "
            "fxad.numpy.linspace, which is differentiable in its endpoints.")
    return np.arange(start, stop, step, dtype=dtype)


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """``numpy.linspace``, differentiable in ``start`` and ``stop``.

    Example:
        >>> import fxad, fxad.numpy as fnp
        >>> fxad.jacfwd(lambda b: fnp.linspace(0.0, b, 3))(2.0)
        array([0. , 0.5, 1. ])
    """
    if not any_tracer(start, stop):
        return np.linspace(start, stop, num, endpoint, retstep, dtype, axis)
    num = int(num)
    if num < 0:
        raise ValueError(f"Number of samples, {num}, must be non-negative.")
    div = num - 1 if endpoint else num
    # NumPy: the computation dtype is that of start, stop and float(num).
    dt = result_type(start, stop, float(num))
    start, stop = convert(asarray(start), dt), convert(asarray(stop), dt)
    bshape = np.broadcast_shapes(shape_of(start), shape_of(stop))
    start, stop = broadcast_to_shape(start, bshape), broadcast_to_shape(stop, bshape)
    delta = subtract(stop, start)
    steps = np.arange(num, dtype=dt).reshape((num,) + (1,) * len(bshape))
    if div > 0:
        step = true_divide(delta, div)
        y = add(multiply(steps, step), start)
        if endpoint and num > 1:  # the last sample is exactly ``stop``, as in NumPy
            y = concatenate([y[:-1], reshape(stop, (1,) + bshape)], axis=0)
    else:
        step = np.full(bshape, np.nan, dt)
        y = add(multiply(steps, delta), start)
    if axis != 0:
        y = moveaxis(y, 0, axis)
    if dtype is not None:
        dtype = np.dtype(dtype)
        if np.issubdtype(dtype, np.integer):
            y = floor(y)
        y = convert(y, dtype)
    if retstep:
        return y, step
    return y


def _like_shape_dtype(a, dtype, shape):
    if isinstance(a, Tracer):
        s, dt = a.aval.shape, a.aval.dtype
    else:
        arr = np.asarray(a)
        s, dt = arr.shape, arr.dtype
    return (s if shape is None else shape), (dt if dtype is None else np.dtype(dtype))


def zeros_like(a, dtype=None, shape=None):
    """``numpy.zeros_like`` (also for tracers; a constant)."""
    s, dt = _like_shape_dtype(a, dtype, shape)
    return np.zeros(s, dt)


def ones_like(a, dtype=None, shape=None):
    """``numpy.ones_like`` (also for tracers; a constant)."""
    s, dt = _like_shape_dtype(a, dtype, shape)
    return np.ones(s, dt)


def empty_like(a, dtype=None, shape=None):
    """``numpy.empty_like`` (zeros, for determinism)."""
    return zeros_like(a, dtype, shape)


def full(shape, fill_value, dtype=None):
    """``numpy.full``; a traced ``fill_value`` is broadcast (differentiably)."""
    if not isinstance(fill_value, Tracer):
        return np.full(shape, fill_value, dtype=dtype)
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(shape)
    v = fill_value if dtype is None else convert(fill_value, np.dtype(dtype))
    return broadcast_to_shape(v, shape)


def full_like(a, fill_value, dtype=None, shape=None):
    """``numpy.full_like``; a traced ``fill_value`` is broadcast (differentiably)."""
    s, dt = _like_shape_dtype(a, dtype, shape)
    if not isinstance(fill_value, Tracer):
        return np.full(s, fill_value, dtype=dt)
    return broadcast_to_shape(convert(fill_value, dt), tuple(s))


_ = shape_of
