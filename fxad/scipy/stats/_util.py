"""Shared helpers of ``fxad.scipy.stats``: argument promotion and SciPy's
treatment of invalid parameters (NaN) and points outside the support."""

from __future__ import annotations

import numpy as np

import fxad.numpy as fnp
from fxad.numpy._util import asarray_value, convert, result_type
from fxad.scipy.special import _float_dtype, _floats

LOG_SQRT_2PI = 0.5 * np.log(2 * np.pi)


def promote(*args, broadcast=True):
    """``args`` in one real floating dtype, broadcast (0-d operands stay 0-d)
    unless ``broadcast=False``; also returns the dtype's scalar type."""
    dt = _float_dtype(result_type(*args)).type
    if broadcast:
        return (*_floats(*args), dt)
    return (*[convert(asarray_value(a), np.dtype(dt)) for a in args], dt)


def safe(ok, x, value):
    """``x`` where ``ok``, else the harmless ``value``: keeps branches that
    ``masked`` discards free of NaNs (which would leak into derivatives)."""
    return fnp.where(ok, x, value)


def masked(out, params_ok, in_support, outside, dt):
    """SciPy's convention: NaN for invalid parameters, ``outside`` for points
    outside the support, ``out`` elsewhere."""
    if in_support is not None:
        out = fnp.where(in_support, out, dt(outside))
    return fnp.where(params_ok, out, dt(np.nan))


def standardize(x, loc, scale, dt):
    """``((x - loc) / scale, scale > 0, the scale made safe)``."""
    ok = scale > 0
    scale = safe(ok, scale, dt(1))
    return fnp.true_divide(fnp.subtract(x, loc), scale), ok, scale


def log_of(p, q, dt):
    """``log(p)`` given ``p`` and its complement ``q = 1 - p`` (both accurate):
    ``log1p(-q)`` where ``p > 1/2`` (where ``log(p)`` would lose ``q``'s
    digits to the rounding of ``p``), ``log(p)`` elsewhere; each branch fed
    a harmless value where it is not used, so no NaN reaches a derivative."""
    upper = p > dt(0.5)
    return fnp.where(upper, fnp.log1p(fnp.negative(fnp.where(upper, q, dt(0)))),
                     fnp.log(fnp.where(upper, dt(1), p)))
