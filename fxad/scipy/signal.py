"""``fxad.scipy.signal``: differentiable ``scipy.signal.convolve`` (and
``correlate``), N-dimensional, in both inputs.

On plain NumPy values these are SciPy's own.  On tracers, ``convolve`` is a
composite: the direct method gathers, for every output point, the window of
the zero-padded ``in1`` that meets the kernel (one ``gather``, whose
transpose is a ``scatter-add``) and contracts it with ``in2`` (one
``dot_general``); ``method="fft"`` multiplies spectra instead
(``fxad.numpy.fft``).  ``method="auto"`` is the direct method, whose values
agree with SciPy's direct method to rounding.

Example:
    >>> import fxad, fxad.numpy as fnp, numpy as np
    >>> import fxad.scipy.signal as fsig
    >>> k = np.array([1.0, 2.0])
    >>> fxad.grad(lambda x: fnp.sum(fsig.convolve(x, k) ** 2))(np.array([1.0, 0.0]))
    array([10.,  4.])
"""

from __future__ import annotations

import numpy as np
import scipy.signal as _ss

import fxad.numpy as fnp
from fxad import lax
from fxad.core import Tracer
from fxad.numpy._util import any_tracer, promote_broadcast, result_type, shape_of
from fxad.numpy._util import install_numpy_functions as _install_numpy_functions

__all__ = ["convolve", "correlate"]

_MODES = ("full", "same", "valid")
_METHODS = ("auto", "direct", "fft")


def _window(mode, s1, s2):
    """Per axis: the first index of the full convolution kept, and how many."""
    if mode == "full":
        return [0] * len(s1), [a + b - 1 for a, b in zip(s1, s2)]
    if mode == "same":
        return [(b - 1) // 2 for b in s2], list(s1)
    return [b - 1 for b in s2], [a - b + 1 for a, b in zip(s1, s2)]


def _pad(x, widths):
    if not isinstance(x, Tracer):
        return np.pad(np.asarray(x), [(w, w) for w in widths])
    return lax.pad(x, x.aval.dtype.type(0), tuple((w, w, 0) for w in widths))


def _direct(in1, in2, start, length):
    s2 = shape_of(in2)
    n = len(s2)
    # padded[i + K - 1] = in1[i]; out[m] = sum_k in2[k] padded[m + K - 1 - k].
    padded = _pad(in1, [k - 1 for k in s2])
    index = []
    for d, (st, ln, k) in enumerate(zip(start, length, s2)):
        idx = (st + k - 1 + np.arange(ln))[:, None] - np.arange(k)[None, :]
        shape = [1] * (2 * n)
        shape[d], shape[n + d] = ln, k
        index.append(idx.reshape(shape))
    windows = padded[tuple(index)]  # (length..., kernel...)
    return fnp.tensordot(windows, in2, axes=n)


def _fft(in1, in2, start, length, dtype):
    s1, s2 = shape_of(in1), shape_of(in2)
    n = len(s1)
    full = [a + b - 1 for a, b in zip(s1, s2)]
    axes = list(range(n))
    if np.issubdtype(dtype, np.complexfloating):
        sp = fnp.multiply(fnp.fft.fftn(in1, full, axes), fnp.fft.fftn(in2, full, axes))
        out = fnp.fft.ifftn(sp, full, axes)
    else:
        sp = fnp.multiply(fnp.fft.rfftn(in1, full, axes), fnp.fft.rfftn(in2, full, axes))
        out = fnp.fft.irfftn(sp, full, axes)
    return out[tuple(slice(st, st + ln) for st, ln in zip(start, length))]


def convolve(in1, in2, mode="full", method="auto"):
    """Differentiable ``scipy.signal.convolve``: the N-dimensional convolution
    of ``in1`` and ``in2`` (of one dimensionality), ``mode`` "full", "same"
    (the size of ``in1``, centred) or "valid" (where they overlap fully; the
    inputs are swapped if ``in2`` is the larger, as SciPy does).

    Example:
        >>> import fxad.scipy.signal as fsig, numpy as np
        >>> fsig.convolve(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5]), mode="same")
        array([1. , 2.5, 4. ])
    """
    if mode not in _MODES:
        raise ValueError(f"convolve: mode must be one of {_MODES}, got {mode!r}")
    if method not in _METHODS:
        raise ValueError(f"convolve: method must be one of {_METHODS}, got {method!r}")
    if not any_tracer(in1, in2):
        return _ss.convolve(in1, in2, mode=mode, method=method)
    dtype = result_type(in1, in2)
    in1, in2 = (fnp.asarray(a) for a in (in1, in2))
    s1, s2 = shape_of(in1), shape_of(in2)
    if len(s1) != len(s2):
        raise ValueError("in1 and in2 should have the same dimensionality")
    in1, in2 = promote_broadcast(in1, dtype=dtype)[0], promote_broadcast(in2, dtype=dtype)[0]
    if not s1:
        return fnp.multiply(in1, in2)
    if 0 in s1 or 0 in s2:
        raise ValueError("convolve: the inputs must not be empty")
    if mode == "valid":
        bigger = all(a >= b for a, b in zip(s1, s2))
        if not bigger:
            if not all(b >= a for a, b in zip(s1, s2)):
                raise ValueError("For 'valid' mode, one must be at least as large as the other "
                                 "in every dimension")
            in1, in2, s1, s2 = in2, in1, s2, s1
    start, length = _window(mode, s1, s2)
    if method == "fft":
        return _fft(in1, in2, start, length, dtype)
    return _direct(in1, in2, start, length)


def correlate(in1, in2, mode="full", method="auto"):
    """Differentiable ``scipy.signal.correlate``: ``convolve(in1, conj(in2)
    reversed along every axis)``, as SciPy defines it.

    Example:
        >>> import fxad.scipy.signal as fsig, numpy as np
        >>> fsig.correlate(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5]), mode="same")
        array([2. , 3.5, 3. ])
    """
    if not any_tracer(in1, in2):
        return _ss.correlate(in1, in2, mode=mode, method=method)
    in2 = fnp.asarray(in2)
    rev = fnp.conj(fnp.flip(in2)) if fnp.ndim(in2) else fnp.conj(in2)
    return convolve(in1, rev, mode, method)


# Public functions take lists holding tracers and return NumPy's result types
# (fxad/numpy/_util.py: numpy_function); keep this after the last function.
_install_numpy_functions(globals())
