"""``numpy.r_`` and ``numpy.c_`` with traced pieces.

Without a tracer in the index these are NumPy's own objects' results; with
one, NumPy's rules (AxisConcatenator) are followed: each piece is made at
least ``ndmin``-dimensional (a 1-d piece of ``c_`` becomes a column), all
are promoted to one dtype (Python scalars weakly) and concatenated.
"""

from __future__ import annotations

import numpy as np

from fxad import lax
from fxad.core import Tracer
from fxad.numpy._util import _contains_tracer, array_like, convert, result_type, strong


def _directive(s, axis, ndmin, trans1d):
    if s in ("r", "c"):
        raise NotImplementedError(
            f"fxad.numpy.r_['{s}', ...] makes a numpy.matrix, which fxad does not have; "
            "build the array and reshape it instead")
    parts = [int(p) for p in s.split(",")]
    if len(parts) > 3:
        raise ValueError(f"unknown special directive {s!r}")
    return tuple(parts + [ndmin, trans1d][len(parts) - 1:]) if len(parts) < 3 else tuple(parts)


def _ndmin(x, ndmin, trans1d):
    """NumPy's upgrade of a piece: leading 1-axes up to ``ndmin``, then its
    own axes moved to ``trans1d`` (``c_`` puts a vector into a column)."""
    nd = x.ndim
    if nd >= ndmin:
        return x
    x = lax.reshape(x, (1,) * (ndmin - nd) + tuple(x.shape))
    if trans1d != -1:
        k2, k1 = ndmin - nd, trans1d
        if k1 < 0:
            k1 += k2 + 1
        axes = list(range(ndmin))
        x = lax.transpose(x, tuple(axes[:k1] + axes[k2:] + axes[k1:k2]))
    return x


class _Concatenator:
    def __init__(self, np_obj, axis, ndmin, trans1d):
        self._np = np_obj
        self._defaults = (axis, ndmin, trans1d)

    def __getitem__(self, key):
        items = key if isinstance(key, tuple) else (key,)
        if not any(_contains_tracer(k) for k in items):
            return self._np[key]
        axis, ndmin, trans1d = self._defaults
        if items and isinstance(items[0], str):
            axis, ndmin, trans1d = _directive(items[0], axis, ndmin, trans1d)
            items = items[1:]
        pieces = []
        for it in items:
            if isinstance(it, slice):
                it = self._np[it]  # a concrete range (a traced bound is an error there)
            elif isinstance(it, str):
                raise ValueError("a string directive must come first in r_[...] / c_[...]")
            pieces.append(array_like(it))
        dt = result_type(*pieces)
        pieces = [_ndmin(lax.convert_element_type(p, dt) if isinstance(p, Tracer)
                         else convert(np.asarray(p), dt), ndmin, trans1d)
                  for p in pieces]
        nd = pieces[0].ndim
        return strong(lax.concatenate(pieces, axis % nd if nd else 0))

    def __len__(self):
        return 0

    def __repr__(self):
        return f"fxad.numpy.{'r_' if self._defaults[0] == 0 else 'c_'}"


r_ = _Concatenator(np.r_, 0, 1, -1)
c_ = _Concatenator(np.c_, -1, 2, 0)
