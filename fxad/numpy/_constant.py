"""``fxad.numpy.asarray`` / ``fxad.numpy.array`` of a NumPy value inside a
transformation: the same array, indexable by traced indices.

``E[i]`` with ``E`` a NumPy array and ``i`` traced cannot work: NumPy's
indexing converts ``i`` to an integer, and nothing dispatches to fxad.  JAX
users write ``jnp.asarray(E)[i]``; here ``fnp.asarray(E)`` returns, while a
transformation is running, ``E`` viewed as ``TraceableConstant``, whose
``[...]`` with a traced index is fxad's indexing and which has ``.at``.
Outside transformations it is NumPy's result, unchanged.
"""

from __future__ import annotations

import numpy as np

from fxad.core import Tracer, trace_state
from fxad.numpy import _shape
from fxad.numpy._indexing import _IndexUpdateHelper, getitem
from fxad.numpy._util import _contains_tracer, strong


def _traced_index(idx) -> bool:
    if isinstance(idx, Tracer):
        return True
    if isinstance(idx, (tuple, list)):
        return any(_traced_index(i) for i in idx)
    return False


class TraceableConstant(np.ndarray):
    """A NumPy array that traced indices can index (``fnp.asarray(E)[i]``
    under jit, vmap or grad), with ``.at[...]`` updates.  Everything else is
    the NumPy array: results of operations on it are plain ndarrays."""

    def __getitem__(self, idx):
        base = self.view(np.ndarray)
        if _traced_index(idx):
            return getitem(base, idx)
        return base[idx]

    @property
    def at(self):
        return _IndexUpdateHelper(self.view(np.ndarray))

    def __array_wrap__(self, arr, context=None, return_scalar=False):
        return arr[()] if return_scalar else arr.view(np.ndarray)


def _traceable(out):
    if type(out) is np.ndarray:
        return out.view(TraceableConstant) if trace_state.stack else out
    return strong(out)


def asarray(a, dtype=None):
    """``numpy.asarray`` that keeps tracers and accepts lists of tracers.
    Inside a transformation a NumPy array comes back indexable by traced
    indices (``fnp.asarray(E)[i]``).

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> E = np.array([10.0, 20.0, 30.0])
        >>> float(fxad.jit(lambda i: fnp.asarray(E)[i])(2))
        30.0
    """
    if isinstance(a, Tracer):
        return strong(a if dtype is None else _shape.asarray(a, dtype))
    if isinstance(a, (list, tuple)) and _contains_tracer(a):
        return strong(_shape.array(a, dtype=dtype))
    out = np.asarray(a, dtype=dtype)
    if type(out) is np.ndarray and trace_state.stack:
        return out.view(TraceableConstant)
    return out


def array(object, dtype=None, copy=True, ndmin=0):  # noqa: A002 - NumPy's name
    """``numpy.array`` that accepts (nested) lists of tracers; inside a
    transformation a NumPy result is indexable by traced indices.

    Example:
        >>> import fxad, fxad.numpy as fnp
        >>> fxad.jacfwd(lambda x: fnp.array([x, 2.0 * x]))(1.0)
        array([1., 2.])
    """
    return _traceable(_shape.array(object, dtype, copy, ndmin))


# They take lists of tracers and return non-weak results themselves.
asarray._fxad_array_like = array._fxad_array_like = True
