"""Array creation: constants are plain NumPy arrays (no derivative flows
through a shape), except ``full``/``*_like`` with a traced fill value."""

from __future__ import annotations

import numpy as np

from fxad.core import Tracer
from fxad.numpy._util import broadcast_to_shape, convert, shape_of

zeros = np.zeros
ones = np.ones
empty = np.zeros  # no uninitialised memory: deterministic results
eye = np.eye
identity = np.identity
arange = np.arange
linspace = np.linspace
logspace = np.logspace
tri = np.tri


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
