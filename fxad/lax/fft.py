"""The ``fft`` primitive: discrete Fourier transforms over trailing axes,
as ``jax.lax.fft``.

``fft[fft_type, fft_lengths, norm]`` transforms the last ``len(fft_lengths)``
axes of its operand; ``fft_type`` is one of

* ``"FFT"``: complex to complex, ``numpy.fft.fftn``;
* ``"IFFT"``: complex to complex, ``numpy.fft.ifftn``;
* ``"RFFT"``: real to the half spectrum, ``numpy.fft.rfftn`` (the last axis
  shrinks from ``n`` to ``n // 2 + 1``);
* ``"IRFFT"``: the half spectrum back to real, ``numpy.fft.irfftn`` with
  ``s=fft_lengths``.

``norm`` is NumPy's (``"backward"``, ``"ortho"``, ``"forward"``), so the
impl is NumPy's own transform and values agree with NumPy to the last bit.
``fxad.numpy.fft`` moves the requested axes to the end and crops or pads
them for ``n``/``s``; the primitive is strict about shapes and dtypes.

Every transform is linear (over the reals), so its JVP is the transform of
the tangent; the transposes, for the pairing ``Re(sum(a * b))`` (no
conjugation, JAX's convention for complex cotangents):

* FFT and IFFT are symmetric matrices: each is its own transpose.
* RFFT is FFT followed by dropping the upper half of the last axis and
  discarding imaginary parts of the input: its transpose zero-pads the
  cotangent back to ``n``, applies FFT (same norm) and keeps the real part.
* IRFFT reads each half-spectrum entry ``X_j`` of the last axis as the pair
  ``X_j, conj(X_j)`` of the full spectrum (except the zero frequency and, for
  even ``n``, the Nyquist one), so ``y = a * sum_j w_j Re(X_j e^(2 pi i j k / n))``
  with ``w_j`` in {1, 2} and ``a`` the norm's scale; its transpose is
  ``w * conj(RFFT(ct))`` with the RFFT normalised by the same ``a`` (the
  "dual" norm: backward <-> forward, ortho <-> ortho).
"""

from __future__ import annotations

import numpy as np

from fxad.core import bind, new_primitive, shaped
from fxad.interpreters.ad import deflinear
from fxad.interpreters.batching import batch_rules
from fxad.lax.lax import _aval, conj, convert_element_type, def_strict, moveaxis, mul, pad, real

__all__ = ["FFT_TYPES", "NORMS", "fft", "fft_p"]

FFT_TYPES = ("FFT", "IFFT", "RFFT", "IRFFT")
NORMS = ("backward", "ortho", "forward")
# The norm whose forward scale equals this norm's inverse scale (see the
# module docstring: the transpose of IRFFT is an RFFT).
_DUAL_NORM = {"backward": "forward", "ortho": "ortho", "forward": "backward"}

_COMPLEX = {np.dtype(np.float32): np.dtype(np.complex64),
            np.dtype(np.float64): np.dtype(np.complex128)}
_REAL = {c: r for r, c in _COMPLEX.items()}


def _canonical_type(fft_type) -> str:
    name = getattr(fft_type, "name", fft_type)  # also accepts an enum, as JAX's FftType
    name = str(name).upper()
    if name not in FFT_TYPES:
        raise ValueError(f"lax.fft: unknown fft_type {fft_type!r}; use one of {FFT_TYPES}")
    return name


def fft(x, fft_type, fft_lengths, norm="backward"):
    """Discrete Fourier transform of the trailing ``len(fft_lengths)`` axes.

    Args:
      x: complex operand for ``"FFT"``, ``"IFFT"``, ``"IRFFT"`` (a real one is
        converted, as ``jax.lax.fft`` does); real for ``"RFFT"``.
      fft_type: ``"FFT"``, ``"IFFT"``, ``"RFFT"`` or ``"IRFFT"``.
      fft_lengths: the lengths of the transformed axes (of the real signal
        for RFFT and IRFFT).
      norm: ``"backward"`` (default), ``"ortho"`` or ``"forward"``, as NumPy.

    Returns:
      The transform: the shape of ``x`` for FFT/IFFT; the last axis
      ``fft_lengths[-1] // 2 + 1`` long for RFFT; ``fft_lengths`` for IRFFT.

    Example:
        >>> import numpy as np
        >>> from fxad.lax.fft import fft
        >>> fft(np.array([1.0, 2.0, 3.0, 4.0]), "FFT", (4,))
        array([10.+0.j, -2.+2.j, -2.+0.j, -2.-2.j])
    """
    fft_type = _canonical_type(fft_type)
    fft_lengths = tuple(int(n) for n in fft_lengths)
    norm = "backward" if norm is None else norm
    if fft_type != "RFFT":
        dt = _aval(x).dtype
        if not np.issubdtype(dt, np.complexfloating):
            x = convert_element_type(x, np.dtype(np.complex64) if dt == np.float32
                                     else np.dtype(np.complex128))
    return bind(fft_p, x, fft_type=fft_type, fft_lengths=fft_lengths, norm=norm)


def _fft_impl(x, *, fft_type, fft_lengths, norm):
    nd = np.ndim(x)
    axes = tuple(range(nd - len(fft_lengths), nd))
    if fft_type == "FFT":
        return np.fft.fftn(x, axes=axes, norm=norm)
    if fft_type == "IFFT":
        return np.fft.ifftn(x, axes=axes, norm=norm)
    if fft_type == "RFFT":
        return np.fft.rfftn(x, axes=axes, norm=norm)
    return np.fft.irfftn(x, s=fft_lengths, axes=axes, norm=norm)


def _half(fft_lengths):
    """The trailing shape of a half spectrum."""
    return fft_lengths[:-1] + (fft_lengths[-1] // 2 + 1,)


def _fft_abstract_eval(x, *, fft_type, fft_lengths, norm):
    k = len(fft_lengths)
    if fft_type not in FFT_TYPES or norm not in NORMS:
        raise TypeError(f"fft: fft_type {fft_type!r} must be one of {FFT_TYPES} and norm "
                        f"{norm!r} one of {NORMS}")
    if not 1 <= k <= x.ndim or any(n < 1 for n in fft_lengths):
        raise TypeError(f"fft: fft_lengths {fft_lengths} must be 1 to {x.ndim} positive "
                        f"lengths of trailing axes of {x.str_short()}")
    batch, trailing = x.shape[:x.ndim - k], x.shape[x.ndim - k:]
    if fft_type == "RFFT":
        if x.dtype not in _COMPLEX:
            raise TypeError(f"fft: RFFT takes float32 or float64, got {x.dtype.name}")
        expected, out = fft_lengths, shaped(batch + _half(fft_lengths), _COMPLEX[x.dtype])
    else:
        if x.dtype not in _REAL:
            raise TypeError(f"fft: {fft_type} takes complex64 or complex128, got "
                            f"{x.dtype.name} (lax.fft converts real operands)")
        if fft_type == "IRFFT":
            expected, out = _half(fft_lengths), shaped(batch + fft_lengths, _REAL[x.dtype])
        else:
            expected, out = fft_lengths, x.strip_weak_type()
    if trailing != expected:
        raise TypeError(f"fft: {fft_type} with fft_lengths {fft_lengths} needs trailing axes "
                        f"{expected}, got {x.str_short()}")
    return out


def _irfft_weights(fft_lengths, dtype):
    """``w_j``: 2 for the half-spectrum entries that stand for a conjugate
    pair of the full spectrum, 1 for the zero and (even n) Nyquist frequency."""
    n = fft_lengths[-1]
    w = np.full(n // 2 + 1, 2.0)
    w[0] = 1.0
    if n % 2 == 0:
        w[-1] = 1.0
    return w.astype(dtype)


def _fft_transpose(ct, x, *, fft_type, fft_lengths, norm):
    if fft_type in ("FFT", "IFFT"):
        return [fft(ct, fft_type, fft_lengths, norm)]
    if fft_type == "RFFT":
        nd = _aval(ct).ndim
        n = fft_lengths[-1]
        config = ((0, 0, 0),) * (nd - 1) + ((0, n - (n // 2 + 1), 0),)
        full = pad(ct, _aval(ct).dtype.type(0), config)
        return [real(fft(full, "FFT", fft_lengths, norm))]
    spec = fft(ct, "RFFT", fft_lengths, _DUAL_NORM[norm])
    w = _irfft_weights(fft_lengths, _aval(spec).dtype)
    return [mul(conj(spec), np.broadcast_to(w, _aval(spec).shape))]


fft_p = new_primitive("fft")
fft_p.def_impl(_fft_impl)
fft_p.def_abstract_eval(_fft_abstract_eval)
def_strict(fft_p)
deflinear(fft_p, _fft_transpose)


def _fft_batch(args, dims, *, fft_type, fft_lengths, norm):
    # The transform acts on trailing axes: put the batch axis in front.
    (x,), (d,) = args, dims
    return bind(fft_p, moveaxis(x, d, 0), fft_type=fft_type, fft_lengths=fft_lengths,
                norm=norm), 0


batch_rules[fft_p] = _fft_batch
