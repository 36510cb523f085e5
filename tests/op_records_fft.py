"""Op records of the ``fft`` primitive (``fxad/lax/fft.py``): they join
``RECORDS`` in ``tests/op_records.py`` and so drive the value, jaxpr,
autodiff (check_grads, linearity, transposes) and vmap suites."""

from __future__ import annotations

import numpy as np
from op_records import ALL, C128, F32, F64, Arg, C, OpRecord

from fxad.lax.fft import fft

C64 = np.dtype(np.complex64)


def _fft_ref(x, *, fft_type, fft_lengths, norm):
    x = np.asarray(x)
    axes = tuple(range(x.ndim - len(fft_lengths), x.ndim))
    if fft_type == "FFT":
        return np.fft.fftn(x, axes=axes, norm=norm)
    if fft_type == "IFFT":
        return np.fft.ifftn(x, axes=axes, norm=norm)
    if fft_type == "RFFT":
        return np.fft.rfftn(x, axes=axes, norm=norm)
    return np.fft.irfftn(x, s=fft_lengths, axes=axes, norm=norm)


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
