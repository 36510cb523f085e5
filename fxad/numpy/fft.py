"""``fxad.numpy.fft``: differentiable ``numpy.fft``.

On plain NumPy values every function is NumPy's own.  On tracers the
requested axes are moved to the end, cropped or zero-padded to ``n``/``s``,
and transformed by one ``fft`` primitive (``fxad.lax.fft``), whose JVP is the
transform of the tangent and whose transpose gives reverse mode.  Complex
results differentiate as everywhere in fxad: the gradient of a real loss of
a complex spectrum, such as ``sum(abs(fft(x)) ** 2)``, is the gradient of
the real function it is.

Example:
    >>> import fxad, fxad.numpy as fnp, numpy as np
    >>> x = np.array([1.0, 2.0, 0.0, -1.0])
    >>> fxad.grad(lambda x: fnp.sum(fnp.abs(fnp.fft.fft(x)) ** 2))(x)  # Parseval: 2 n x
    array([ 8., 16.,  0., -8.])
"""

from __future__ import annotations

import numpy as np

from fxad import lax
from fxad.core import Tracer
from fxad.lax.fft import NORMS
from fxad.lax.fft import fft as _lax_fft
from fxad.numpy._util import asarray_value, canonical_axis, convert, shape_of

__all__ = [
    "fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fft2", "ifft2", "rfft2", "irfft2",
    "fftn", "ifftn", "rfftn", "irfftn", "fftshift", "ifftshift", "fftfreq", "rfftfreq",
]

# Frequencies depend on sizes only: NumPy's own functions.
fftfreq = np.fft.fftfreq
rfftfreq = np.fft.rfftfreq

# ---------------------------------------------------------------------------
# The core: move axes, crop or pad, bind one ``fft`` primitive


def _norm(norm):
    norm = "backward" if norm is None else norm
    if norm not in NORMS:
        raise ValueError(f'Invalid norm value {norm}; should be "backward", "ortho" or '
                         '"forward".')
    return norm


def _swap_direction(norm):
    return {"backward": "forward", "ortho": "ortho", "forward": "backward"}[_norm(norm)]


def _dtypes(kind, dtype):
    """(dtype the primitive computes in, dtype NumPy returns) for ``kind``."""
    if kind == "RFFT":
        if np.issubdtype(dtype, np.complexfloating):
            raise TypeError(f"fxad.numpy.fft.rfft: real input expected, got {dtype.name} "
                            "(NumPy's rfft does not take complex input either)")
        out = np.fft.rfft(np.zeros(2, dtype)).dtype
        return np.dtype(np.finfo(out).dtype), out
    if kind == "IRFFT":
        out = np.fft.irfft(np.zeros(2, dtype)).dtype
        compute = np.result_type(out, np.complex64)
        return compute, out
    out = np.fft.fft(np.zeros(1, dtype)).dtype
    return out, out


def _resize(x, axis, n):
    """Crop or zero-pad ``x`` along ``axis`` to length ``n`` (NumPy's ``n``)."""
    m = x.aval.shape[axis]
    if n == m:
        return x
    if n < m:
        limit = list(x.aval.shape)
        limit[axis] = n
        return lax.slice(x, (0,) * x.ndim, limit)
    config = [(0, 0, 0)] * x.ndim
    config[axis] = (0, n - m, 0)
    return lax.pad(x, x.aval.dtype.type(0), config)


def _cook(a, s, axes, invreal):
    """NumPy's ``_cook_nd_args``: the lengths and the (non-negative) axes."""
    shape = shape_of(a)
    if s is None:
        axes = list(range(len(shape))) if axes is None else list(axes)
        s = [shape[canonical_axis(ax, len(shape), "axes")] for ax in axes]
        if invreal and s:
            s[-1] = (s[-1] - 1) * 2
    else:
        s = list(s)
        axes = list(range(-len(s), 0)) if axes is None else list(axes)
    if len(s) != len(axes):
        raise ValueError("Shape and axes have different lengths.")
    axes = [canonical_axis(ax, len(shape), "axes") for ax in axes]
    s = [shape[ax] if n is None or n == -1 else int(n) for n, ax in zip(s, axes)]
    for n in s:
        if n < 1:
            raise ValueError(f"Invalid number of FFT data points ({n}) specified.")
    return s, axes


def _fftn(kind, a, s, axes, norm):
    """``kind`` ("FFT", "IFFT", "RFFT", "IRFFT") of the traced ``a`` over
    ``axes`` with lengths ``s`` (already cooked)."""
    norm = _norm(norm)
    if len(set(axes)) != len(axes):
        # Repeated axes: one transform per entry in NumPy's order (cropping
        # and padding then depend on it).
        steps = list(zip(axes, s))
        if kind == "RFFT":
            plan = [("RFFT", steps[-1])] + [("FFT", st) for st in steps[:-1]]
        elif kind == "IRFFT":
            plan = [("IFFT", st) for st in steps[:-1]] + [("IRFFT", steps[-1])]
        else:
            plan = [(kind, st) for st in reversed(steps)]
        for k, (ax, n) in plan:
            a = _fftn(k, a, [n], [ax], norm)
        return a
    compute, out_dtype = _dtypes(kind, a.aval.dtype)
    a = convert(a, compute)
    nd = a.ndim
    perm = [i for i in range(nd) if i not in axes] + list(axes)
    a = lax.transpose(a, perm)
    k = len(axes)
    sizes = list(s)
    if kind == "IRFFT":
        sizes[-1] = s[-1] // 2 + 1
    for i, n in enumerate(sizes):
        a = _resize(a, nd - k + i, n)
    out = _lax_fft(a, kind, tuple(s), norm)
    out = lax.transpose(out, tuple(int(i) for i in np.argsort(perm)))
    return convert(out, out_dtype)


def _one_axis(kind, a, n, axis, norm):
    nd = len(shape_of(a))
    ax = canonical_axis(axis, nd)
    if n is None:
        m = shape_of(a)[ax]
        n = 2 * (m - 1) if kind == "IRFFT" else m
    n = int(n)
    if n < 1:
        raise ValueError(f"Invalid number of FFT data points ({n}) specified.")
    return _fftn(kind, a, [n], [ax], norm)


# ---------------------------------------------------------------------------
# One-dimensional transforms


def fft(a, n=None, axis=-1, norm=None):
    """Differentiable ``numpy.fft.fft``: the 1-D discrete Fourier transform.

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.fft.fft(np.array([1.0, 0.0, 0.0, 0.0]))
        array([1.+0.j, 1.+0.j, 1.+0.j, 1.+0.j])
    """
    a = asarray_value(a)  # (a list may hold tracers)
    if not isinstance(a, Tracer):
        return np.fft.fft(a, n, axis, norm)
    return _one_axis("FFT", a, n, axis, norm)


def ifft(a, n=None, axis=-1, norm=None):
    """Differentiable ``numpy.fft.ifft``.

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.fft.ifft(np.array([4.0, 0.0, 0.0, 0.0]))
        array([1.+0.j, 1.+0.j, 1.+0.j, 1.+0.j])
    """
    a = asarray_value(a)  # (a list may hold tracers)
    if not isinstance(a, Tracer):
        return np.fft.ifft(a, n, axis, norm)
    return _one_axis("IFFT", a, n, axis, norm)


def rfft(a, n=None, axis=-1, norm=None):
    """Differentiable ``numpy.fft.rfft``: the half spectrum of real input.

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.fft.rfft(np.array([1.0, 2.0, 3.0, 4.0]))
        array([10.+0.j, -2.+2.j, -2.+0.j])
    """
    a = asarray_value(a)  # (a list may hold tracers)
    if not isinstance(a, Tracer):
        return np.fft.rfft(a, n, axis, norm)
    return _one_axis("RFFT", a, n, axis, norm)


def irfft(a, n=None, axis=-1, norm=None):
    """Differentiable ``numpy.fft.irfft``: real signal from a half spectrum
    (output length ``n``, by default ``2 * (m - 1)``).

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.fft.irfft(np.array([10.0, -2 + 2j, -2.0]))
        array([1., 2., 3., 4.])
    """
    a = asarray_value(a)  # (a list may hold tracers)
    if not isinstance(a, Tracer):
        return np.fft.irfft(a, n, axis, norm)
    return _one_axis("IRFFT", a, n, axis, norm)


def hfft(a, n=None, axis=-1, norm=None):
    """Differentiable ``numpy.fft.hfft`` (a Hermitian-symmetric signal's real
    spectrum): ``irfft(conj(a))`` with the swapped norm, as NumPy computes it.

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.fft.hfft(np.array([1.0, 0.0, 0.0]))
        array([1., 1., 1., 1.])
    """
    a = asarray_value(a)  # (a list may hold tracers)
    if not isinstance(a, Tracer):
        return np.fft.hfft(a, n, axis, norm)
    if np.issubdtype(a.aval.dtype, np.complexfloating):
        a = lax.conj(a)
    return irfft(a, n, axis, _swap_direction(norm))


def ihfft(a, n=None, axis=-1, norm=None):
    """Differentiable ``numpy.fft.ihfft``: ``conj(rfft(a))`` with the swapped norm.

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.fft.ihfft(np.array([4.0, 0.0, 0.0, 0.0]))
        array([1.-0.j, 1.-0.j, 1.-0.j])
    """
    a = asarray_value(a)  # (a list may hold tracers)
    if not isinstance(a, Tracer):
        return np.fft.ihfft(a, n, axis, norm)
    return lax.conj(rfft(a, n, axis, _swap_direction(norm)))


# ---------------------------------------------------------------------------
# N-dimensional transforms


def _nd(kind, np_fn, doc):
    def fn(a, s=None, axes=None, norm=None):
        a = asarray_value(a)  # (a list may hold tracers)
        if not isinstance(a, Tracer):
            return np_fn(a, s, axes, norm)
        s, axes = _cook(a, s, axes, invreal=kind == "IRFFT")
        if not axes:
            if kind in ("RFFT", "IRFFT"):
                raise ValueError(f"{np_fn.__name__}: at least one axis must be transformed")
            return a  # NumPy returns the input unchanged
        return _fftn(kind, a, s, axes, norm)

    fn.__name__ = fn.__qualname__ = np_fn.__name__
    fn.__doc__ = doc
    return fn


def _2d(nd_fn, np_fn, doc):
    def fn(a, s=None, axes=(-2, -1), norm=None):
        a = asarray_value(a)  # (a list may hold tracers)
        if not isinstance(a, Tracer):
            return np_fn(a, s, axes, norm)
        return nd_fn(a, s, axes, norm)

    fn.__name__ = fn.__qualname__ = np_fn.__name__
    fn.__doc__ = doc
    return fn


_EXAMPLE = """

Example:
    >>> import fxad.numpy as fnp, numpy as np
    >>> x = np.arange(6.0).reshape(2, 3)
    >>> bool(np.allclose(fnp.fft.{name}(x), np.fft.{name}(x)))
    True
"""

fftn = _nd("FFT", np.fft.fftn, "Differentiable ``numpy.fft.fftn``." + _EXAMPLE.format(
    name="fftn"))
ifftn = _nd("IFFT", np.fft.ifftn, "Differentiable ``numpy.fft.ifftn``." + _EXAMPLE.format(
    name="ifftn"))
rfftn = _nd("RFFT", np.fft.rfftn, "Differentiable ``numpy.fft.rfftn``." + _EXAMPLE.format(
    name="rfftn"))
irfftn = _nd("IRFFT", np.fft.irfftn, "Differentiable ``numpy.fft.irfftn``." + _EXAMPLE.format(
    name="irfftn"))
fft2 = _2d(fftn, np.fft.fft2, "Differentiable ``numpy.fft.fft2``." + _EXAMPLE.format(
    name="fft2"))
ifft2 = _2d(ifftn, np.fft.ifft2, "Differentiable ``numpy.fft.ifft2``." + _EXAMPLE.format(
    name="ifft2"))
rfft2 = _2d(rfftn, np.fft.rfft2, "Differentiable ``numpy.fft.rfft2``." + _EXAMPLE.format(
    name="rfft2"))
irfft2 = _2d(irfftn, np.fft.irfft2, "Differentiable ``numpy.fft.irfft2``." + _EXAMPLE.format(
    name="irfft2"))

# ---------------------------------------------------------------------------
# Shifts: rolls, as a concatenation of two slices per axis


def _roll(x, shift, axis):
    n = x.aval.shape[axis]
    if n == 0 or shift % n == 0:
        return x
    k = n - shift % n  # the output starts at input index k
    lo, hi = [0] * x.ndim, list(x.aval.shape)
    hi_a, lo_b = list(hi), list(lo)
    lo[axis] = k
    hi_a[axis] = k
    return lax.concatenate([lax.slice(x, lo, hi), lax.slice(x, lo_b, hi_a)], axis)


def _shift(x, axes, sign):
    nd = x.ndim
    if axes is None:
        axes = tuple(range(nd))
    elif isinstance(axes, (int, np.integer)):
        axes = (axes,)
    for ax in axes:
        ax = canonical_axis(ax, nd, "axes")
        x = _roll(x, sign * (x.aval.shape[ax] // 2), ax)
    return x


def fftshift(x, axes=None):
    """Differentiable ``numpy.fft.fftshift``: the zero frequency to the centre.

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.fft.fftshift(np.fft.fftfreq(5))
        array([-0.4, -0.2,  0. ,  0.2,  0.4])
    """
    x = asarray_value(x)
    if not isinstance(x, Tracer):
        return np.fft.fftshift(x, axes)
    return _shift(x, axes, 1)


def ifftshift(x, axes=None):
    """Differentiable ``numpy.fft.ifftshift``, the inverse of ``fftshift``.

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.fft.ifftshift(np.array([-0.4, -0.2, 0.0, 0.2, 0.4]))
        array([ 0. ,  0.2,  0.4, -0.4, -0.2])
    """
    x = asarray_value(x)
    if not isinstance(x, Tracer):
        return np.fft.ifftshift(x, axes)
    return _shift(x, axes, -1)
