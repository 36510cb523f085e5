"""Op records of the ``fft`` primitive (``fxad/lax/fft.py``): they join
``RECORDS`` in ``tests/op_records.py`` and so drive the value, jaxpr,
autodiff (check_grads, linearity, transposes) and vmap suites."""

from __future__ import annotations

import numpy as np
from op_records import ALL, C128, F32, F64, Arg, C, OpRecord

from fxad.lax.fft import fft

C64 = np.dtype(np.complex64)


def _dft(x, axis, inverse):
    """The DFT along one axis as a matrix product: a reference independent of
    np.fft (which the primitive's impl calls)."""
    n = x.shape[axis]
    k = np.arange(n)
    w = np.exp((2j if inverse else -2j) * np.pi * np.outer(k, k) / n)
    return np.moveaxis(np.tensordot(w, np.moveaxis(x, axis, 0), axes=(1, 0)), 0, axis)


def _fft_ref(x, *, fft_type, fft_lengths, norm):
    x = np.asarray(x)
    axes = tuple(range(x.ndim - len(fft_lengths), x.ndim))
    total = int(np.prod(fft_lengths))
    inverse = fft_type in ("IFFT", "IRFFT")
    # "backward": 1/N on the inverse; "forward": 1/N on the forward; "ortho": both 1/sqrt(N)
    scale = {"backward": 1 / total if inverse else 1.0,
             "forward": 1.0 if inverse else 1 / total,
             "ortho": total ** -0.5}[norm]
    out = x.astype(np.complex128)
    if fft_type == "IRFFT":
        # Inverse over the leading axes, then a Hermitian extension of the
        # last axis (the imaginary parts of its DC and Nyquist terms drop out).
        for ax in axes[:-1]:
            out = _dft(out, ax, True)
        n = fft_lengths[-1]
        half = out[..., : n // 2 + 1]
        mirror = np.conj(half[..., 1:(n + 1) // 2][..., ::-1])
        out = _dft(np.concatenate([half, mirror], axis=-1), x.ndim - 1, True).real
    else:
        for ax in axes:
            out = _dft(out, ax, inverse)
        if fft_type == "RFFT":
            out = out[..., : fft_lengths[-1] // 2 + 1]
    dtype = {np.dtype(np.float32): np.complex64, np.dtype(np.complex64): np.complex64}.get(
        x.dtype, np.complex128)
    if fft_type == "IRFFT":
        dtype = np.float32 if x.dtype == np.complex64 else np.float64
    return (out * scale).astype(dtype)


def _half(lengths):
    return tuple(lengths[:-1]) + (lengths[-1] // 2 + 1,)


def _cases():
    out = []
    # (batch shape, fft_lengths): 1-D, 2-D over trailing axes, odd and even
    # lengths (the Nyquist entry of RFFT/IRFFT), length 1, an empty batch.
    layouts = [((), (4,)), ((), (5,)), ((2,), (3,)), ((), (2, 3)), ((2,), (3, 4)),
               ((), (1,)), ((0,), (4,))]
    for norm in ("backward", "ortho", "forward"):
        for k, (batch, lengths) in enumerate(layouts):
            if norm != "backward" and k not in (1, 3):
                continue  # every norm on a 1-D and a 2-D layout
            p = dict(fft_lengths=lengths, norm=norm)
            out += [C(Arg(batch + lengths, dtype=C128), fft_type="FFT", **p),
                    C(Arg(batch + lengths, dtype=C128), fft_type="IFFT", **p),
                    C(Arg(batch + lengths, dtype=F64), fft_type="RFFT", **p),
                    C(Arg(batch + _half(lengths), dtype=C128), fft_type="IRFFT", **p)]
    # single precision stays single
    out += [C(Arg((2, 4), dtype=C64), fft_type="FFT", fft_lengths=(4,), norm="backward"),
            C(Arg((5,), dtype=F32), fft_type="RFFT", fft_lengths=(5,), norm="ortho"),
            C(Arg((3,), dtype=C64), fft_type="IRFFT", fft_lengths=(4,), norm="backward")]
    return tuple(out)


RECORDS = [
    OpRecord("fft",
             lambda x, *, fft_type, fft_lengths, norm: fft(x, fft_type, fft_lengths, norm),
             _fft_ref, _cases(), linear=(ALL,)),
]
