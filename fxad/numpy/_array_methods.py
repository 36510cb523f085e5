"""Python's operators and the ndarray methods of ``Tracer``, set on the class
by the NumPy layer (as JAX's ``jax/_src/numpy/array_methods.py`` does), so
that ``fxad.core`` never imports the layer above it.  ``fxad.numpy`` imports
this module last, once every function it calls exists.

Each operator is a function of this module calling the fxad.numpy function
directly: one call frame and no namespace lookup, as every traced operator
goes through here.
"""

from __future__ import annotations

import numpy as np

from fxad.core import Tracer
from fxad.numpy._core import (
    absolute,
    add,
    all,
    any,
    argmax,
    argmin,
    astype,
    bitwise_and,
    bitwise_or,
    bitwise_xor,
    conj,
    cumsum,
    equal,
    floor_divide,
    greater,
    greater_equal,
    imag,
    invert,
    less,
    less_equal,
    max,
    mean,
    min,
    multiply,
    negative,
    not_equal,
    power,
    prod,
    real,
    remainder,
    round,
    std,
    subtract,
    sum,
    true_divide,
    var,
)
from fxad.numpy._indexing import _IndexUpdateHelper, getitem, take
from fxad.numpy._linalg_ops import diagonal, dot, matmul, trace
from fxad.numpy._manipulation import repeat
from fxad.numpy._reductions import argsort, cumprod
from fxad.numpy._shape import clip, ravel, reshape, squeeze, swapaxes, transpose

# Python's operators follow Python's arithmetic on weakly typed values (a
# Python scalar argument of jit): ``-x``, ``x + 1.0`` stay weak, where the
# NumPy functions return NumPy scalars.  So the operators call the ufuncs'
# operator forms.
absolute, negative = absolute._operator, negative._operator
add, subtract, multiply, true_divide = (add._operator, subtract._operator,
                                        multiply._operator, true_divide._operator)
equal, not_equal, less, less_equal, greater, greater_equal = (
    equal._operator, not_equal._operator, less._operator, less_equal._operator,
    greater._operator, greater_equal._operator)

# ---------------------------------------------------------------------------
# Operators: the forward ones are the operator forms themselves (no frame of
# this module in between, as every traced operator goes through them); the
# reflected ones swap the operands.


def _radd(self, o):
    return add(o, self)


def _rsub(self, o):
    return subtract(o, self)


def _rmul(self, o):
    return multiply(o, self)


def _rtruediv(self, o):
    return true_divide(o, self)


def _pow(self, o):
    return power._operator(self, o)


def _rpow(self, o):
    return power._operator(o, self)


def _matmul(self, o):
    return matmul(self, o)


def _rmatmul(self, o):
    return matmul(o, self)


def _floordiv(self, o):
    return floor_divide(self, o)


def _rfloordiv(self, o):
    return floor_divide(o, self)


def _mod(self, o):
    return remainder(self, o)


def _rmod(self, o):
    return remainder(o, self)


def _divmod(self, o):
    return floor_divide(self, o), remainder(self, o)


def _rdivmod(self, o):
    return floor_divide(o, self), remainder(o, self)


def _and(self, o):
    return bitwise_and(self, o)


def _rand(self, o):
    return bitwise_and(o, self)


def _or(self, o):
    return bitwise_or(self, o)


def _ror(self, o):
    return bitwise_or(o, self)


def _xor(self, o):
    return bitwise_xor(self, o)


def _rxor(self, o):
    return bitwise_xor(o, self)


def _invert(self):
    return invert(self)


def _round(self, ndigits=None):
    return round(self, ndigits or 0)


def _getitem(self, idx):
    return getitem(self, idx)


_OPERATORS = {
    "__neg__": negative, "__abs__": absolute,
    "__add__": add, "__radd__": _radd, "__sub__": subtract, "__rsub__": _rsub,
    "__mul__": multiply, "__rmul__": _rmul, "__truediv__": true_divide, "__rtruediv__": _rtruediv,
    "__pow__": _pow, "__rpow__": _rpow, "__matmul__": _matmul, "__rmatmul__": _rmatmul,
    "__lt__": less, "__le__": less_equal, "__gt__": greater, "__ge__": greater_equal,
    "__eq__": equal, "__ne__": not_equal,
    "__floordiv__": _floordiv, "__rfloordiv__": _rfloordiv, "__mod__": _mod, "__rmod__": _rmod,
    "__divmod__": _divmod, "__rdivmod__": _rdivmod,
    "__and__": _and, "__rand__": _rand, "__or__": _or, "__ror__": _ror,
    "__xor__": _xor, "__rxor__": _rxor, "__invert__": _invert,
    "__round__": _round, "__getitem__": _getitem,
}

# ---------------------------------------------------------------------------
# Properties


def _T(self):
    return transpose(self)


def _at(self):
    """Functional indexed updates, as in JAX: ``x.at[idx].set(v)``,
    ``.add``, ``.multiply``, ``.min``, ``.max``, ``.get``."""
    return _IndexUpdateHelper(self)


def _real(self):
    return real(self)


def _imag(self):
    return imag(self)


_PROPERTIES = {"T": _T, "at": _at, "real": _real, "imag": _imag}

# ---------------------------------------------------------------------------
# ndarray methods (NumPy's signatures)


def _sum(self, axis=None, dtype=None, keepdims=False):
    return sum(self, axis=axis, dtype=dtype, keepdims=keepdims)


def _mean(self, axis=None, dtype=None, keepdims=False):
    return mean(self, axis=axis, dtype=dtype, keepdims=keepdims)


def _prod(self, axis=None, dtype=None, keepdims=False):
    return prod(self, axis=axis, dtype=dtype, keepdims=keepdims)


def _max(self, axis=None, keepdims=False):
    return max(self, axis=axis, keepdims=keepdims)


def _min(self, axis=None, keepdims=False):
    return min(self, axis=axis, keepdims=keepdims)


def _var(self, axis=None, dtype=None, ddof=0, keepdims=False):
    return var(self, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims)


def _std(self, axis=None, dtype=None, ddof=0, keepdims=False):
    return std(self, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims)


def _reshape(self, *shape, order="C"):
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
        shape = shape[0]
    return reshape(self, shape, order=order)


def _ravel(self, order="C"):
    return ravel(self, order=order)


def _transpose(self, *axes):
    if len(axes) == 1 and not isinstance(axes[0], (int, np.integer)):
        axes = axes[0]
    return transpose(self, axes or None)


def _swapaxes(self, a, b):
    return swapaxes(self, a, b)


def _squeeze(self, axis=None):
    return squeeze(self, axis)


def _astype(self, dtype):
    return astype(self, dtype)


def _dot(self, other):
    return dot(self, other)


def _conj(self):
    return conj(self)


def _clip(self, min=None, max=None):
    return clip(self, min, max)


def _cumsum(self, axis=None, dtype=None):
    return cumsum(self, axis, dtype)


def _cumprod(self, axis=None, dtype=None):
    return cumprod(self, axis, dtype)


def _argmax(self, axis=None, keepdims=False):
    return argmax(self, axis=axis, keepdims=keepdims)


def _argmin(self, axis=None, keepdims=False):
    return argmin(self, axis=axis, keepdims=keepdims)


def _any(self, axis=None, keepdims=False):
    return any(self, axis=axis, keepdims=keepdims)


def _all(self, axis=None, keepdims=False):
    return all(self, axis=axis, keepdims=keepdims)


def _round_method(self, decimals=0):
    return round(self, decimals)


def _trace(self, offset=0, axis1=0, axis2=1, dtype=None):
    return trace(self, offset, axis1, axis2, dtype)


def _diagonal(self, offset=0, axis1=0, axis2=1):
    return diagonal(self, offset, axis1, axis2)


def _take(self, indices, axis=None):
    return take(self, indices, axis=axis)


def _argsort(self, axis=-1):
    return argsort(self, axis=axis)


def _repeat(self, repeats, axis=None):
    return repeat(self, repeats, axis=axis)


_METHODS = {
    "sum": _sum, "mean": _mean, "prod": _prod, "max": _max, "min": _min,
    "var": _var, "std": _std, "reshape": _reshape, "ravel": _ravel, "flatten": _ravel,
    "transpose": _transpose, "swapaxes": _swapaxes, "squeeze": _squeeze,
    "astype": _astype, "dot": _dot, "conj": _conj, "conjugate": _conj, "clip": _clip,
    "cumsum": _cumsum, "cumprod": _cumprod, "argmax": _argmax, "argmin": _argmin,
    "any": _any, "all": _all, "round": _round_method, "trace": _trace,
    "diagonal": _diagonal, "take": _take, "argsort": _argsort, "repeat": _repeat,
}


def install(cls=Tracer):
    """Set the operators, properties and methods on ``cls``."""
    for name, fn in _OPERATORS.items():
        setattr(cls, name, fn)
    for name, fn in _METHODS.items():
        setattr(cls, name, fn)
    for name, fn in _PROPERTIES.items():
        setattr(cls, name, property(fn, doc=fn.__doc__))


install()
