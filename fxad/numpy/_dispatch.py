"""NumPy's dispatch protocols (NEP 13 ``__array_ufunc__``, NEP 18
``__array_function__``) for tracers: plain ``numpy`` calls on traced values
route to ``fxad.numpy``, so unmodified NumPy code can be differentiated.

Ufunc methods: ``__call__`` (with ``dtype=``), ``reduce`` and ``accumulate``
(the fxad.numpy reduction where there is one, else the ufunc applied along the
axis, so ``numpy.maximum.accumulate`` differentiates) and ``outer``.  Another
array library's operands get ``NotImplemented``, as NEP 13/18 ask.

This module belongs to the NumPy layer and installs the two protocol methods
on ``Tracer`` when ``fxad.numpy`` imports it (the core never imports it).

A NumPy function, method or keyword argument that fxad does not implement
raises a ``TypeError`` naming it (never a silent wrong answer);
``docs/coverage.md`` lists what is covered.  ``out=`` (and so ``a += x`` on a
NumPy array) raises a ``TypeError``: a traced value cannot be written into an
array.
"""

from __future__ import annotations

import inspect
import sys

import numpy as np

from fxad.core import Tracer
from fxad.numpy._core import astype
from fxad.numpy._indexing import take
from fxad.numpy._shape import asarray, expand_dims, ndim, reshape, shape, stack

_COVERAGE = "docs/coverage.md"

#: numpy module name -> the fxad namespace implementing it.  Each namespace
#: registers itself (``register``) when it is imported: ``fxad.numpy``,
#: ``fxad.numpy.linalg`` and ``fxad.numpy.fft`` with ``fxad.numpy``, and
#: ``fxad.scipy.special`` (which needs SciPy) when it is imported.
_MODULES: dict = {}


def register(module: str, namespace) -> None:
    """Route NumPy calls of ``module`` (e.g. ``"numpy.fft"``) on tracers to
    the functions of the same name in ``namespace``."""
    _MODULES[module] = namespace
    _cache.clear()  # a name not found before may be found now

# ufunc.reduce / ufunc.accumulate -> fxad.numpy function names
_REDUCE = {"add": "sum", "multiply": "prod", "maximum": "max", "minimum": "min",
           "logical_and": "all", "logical_or": "any"}
_ACCUMULATE = {"add": "cumsum", "multiply": "cumprod", "maximum": "_cummax",
               "minimum": "_cummin"}

#: NumPy functions that write into their first argument, and the functional
#: form that replaces each (fxad arrays are immutable).
_IN_PLACE = {
    "fill_diagonal": "a.at[fxad.numpy.diag_indices_from(a)].set(val)",
    "put": "a.ravel().at[ind].set(v).reshape(a.shape)",
    "place": "fxad.numpy.where(mask, ..., arr) or arr.at[mask].set(vals)",
    "putmask": "fxad.numpy.where(mask, values, a)",
    "copyto": "fxad.numpy.where(where, src, dst) (or just use src)",
    "put_along_axis": "out = fxad.numpy.put_along_axis(arr, indices, values, axis)",
}

_cache: dict = {}


def _unsupported(name: str, extra: str = "") -> TypeError:
    return TypeError(
        f"fxad does not implement {name} for traced arrays{extra}. See {_COVERAGE} for "
        "the NumPy functions fxad differentiates, or use fxad.numpy / fxad.lax directly."
    )


def _lookup(module: str, name: str, original):
    key = (module, name)
    impl = _cache.get(key)
    if impl is None:
        impl = getattr(_MODULES.get(module), name, None)
        if impl is None or impl is original or getattr(impl, "_fxad_unsupported", False):
            impl = False
        _cache[key] = impl
    return impl


def _scipy_special_hint(ufunc) -> str:
    """Why a SciPy ufunc has no fxad implementation when fxad.scipy.special
    was never imported (it is not imported by ``import fxad``: it needs SciPy)."""
    if "scipy.special" in _MODULES:
        return ""
    sp = sys.modules.get("scipy.special")
    if sp is None or getattr(sp, ufunc.__name__, None) is not ufunc:
        return ""
    return (f" (scipy.special.{ufunc.__name__} on traced arrays is implemented in "
            "fxad.scipy.special: `import fxad.scipy.special` first)")


def _ufunc_module(ufunc) -> str:
    """Where the user's ufunc comes from, for messages: SciPy's special
    functions are ufuncs too (``scipy.special.gamma``, not ``numpy.gamma``)."""
    name = ufunc.__name__
    if getattr(np, name, None) is ufunc:
        return "numpy"
    sp = sys.modules.get("scipy.special")
    if sp is not None and getattr(sp, name, None) is ufunc:
        return "scipy.special"
    return "numpy"


def _no_out(out, what):
    """``out=`` (a tuple for ufuncs, ``(a,)`` for ``a += x``) cannot receive a
    traced result: there is no array to write the derivative into."""
    outs = out if isinstance(out, tuple) else (out,)
    if any(o is not None for o in outs):
        raise TypeError(
            f"{what}(..., out=...) cannot write a traced value into an output array "
            "(in-place updates such as `a += x` on a NumPy array included): fxad arrays "
            "are immutable. Drop out= and use the returned value (`a = a + x`).")


def _foreign(x) -> bool:
    """An operand of another array library: defer to it (NEP 13)."""
    t = type(x)
    return hasattr(t, "__array_ufunc__") and not issubclass(t, (Tracer, np.ndarray, np.generic))


#: ufunc methods fxad implements and the keyword arguments each takes.
_UFUNC_KWARGS = {"__call__": {"dtype"}, "reduce": {"axis", "dtype", "keepdims"},
                 "accumulate": {"axis", "dtype"}, "outer": {"dtype"}}


def array_ufunc(ufunc, method, *inputs, **kwargs):
    """NEP 13: ``ufunc.method(*inputs, **kwargs)`` with a tracer among the inputs."""
    name = ufunc.__name__
    if any(_foreign(x) for x in inputs):
        return NotImplemented
    what = f"{_ufunc_module(ufunc)}.{name}"
    if method != "__call__":
        what += f".{method}"
    _no_out(kwargs.pop("out", None), what)
    if kwargs.get("where", None) is True:  # the default, spelled out
        del kwargs["where"]
    allowed = _UFUNC_KWARGS.get(method)
    if allowed is None:
        extra = (f" ({what} updates its first argument in place, and fxad arrays are "
                 "immutable: compute the updated array as a new value)") if method == "at" else ""
        raise _unsupported(what, extra)
    for k in kwargs:
        if k not in allowed:
            raise _unsupported(f"{what}(..., {k}=...)")
    dtype = kwargs.pop("dtype", None)
    dtype = None if dtype is None else np.dtype(dtype)
    impl = _lookup("numpy", name, ufunc)
    if not impl and method == "__call__":  # SciPy's special functions are ufuncs too
        impl = _lookup("scipy.special", name, ufunc)
    if method == "__call__":
        if not impl:
            if what.startswith("scipy.special.") and "scipy.special" in _MODULES:
                raise TypeError(
                    f"fxad does not implement the ufunc {what} for traced arrays: "
                    f"fxad.scipy.special has no {name}. See {_COVERAGE} for the SciPy "
                    "functions fxad differentiates.")
            raise _unsupported(f"the ufunc {what}", _scipy_special_hint(ufunc))
        if dtype is not None and np.issubdtype(dtype, np.inexact):
            inputs = [asarray(x, dtype=dtype) for x in inputs]  # compute in dtype, as NumPy
        return _cast(impl(*inputs), dtype)
    if method == "outer":
        if not impl:
            raise _unsupported(what)
        a, b = (asarray(v) for v in inputs)
        a = reshape(a, tuple(shape(a)) + (1,) * ndim(b))
        return _cast(impl(a, b), dtype)
    (x,) = inputs
    if dtype is not None and np.issubdtype(dtype, np.inexact):
        x = asarray(x, dtype=dtype)
    axis = kwargs.get("axis", 0)
    if method == "reduce":
        keepdims = kwargs.get("keepdims", False)
        fname = _REDUCE.get(name)
        red = _lookup("numpy", fname, None) if fname else False
        if red:
            out = red(x, axis=axis, keepdims=keepdims)
        elif impl:
            out = _fold(impl, x, axis, what, keepdims=keepdims)
        else:
            raise _unsupported(what)
        return _cast(out, dtype)
    acc = _lookup("numpy", _ACCUMULATE[name], None) if name in _ACCUMULATE else False
    if acc:
        out = acc(x, axis=axis)
    elif impl:
        out = _fold(impl, x, axis, what, accumulate=True)
    else:
        raise _unsupported(what)
    return _cast(out, dtype)


def _cast(out, dtype):
    if dtype is None or np.result_type(out) == dtype:
        return out
    return astype(out, dtype)


def _fold(impl, x, axis, what, keepdims=False, accumulate=False):
    """``ufunc.reduce``/``ufunc.accumulate`` for any binary ufunc fxad
    implements, by applying it along the axis, one element at a time (so
    ``numpy.maximum.accumulate`` or ``numpy.subtract.reduce`` differentiate)."""
    x = asarray(x)
    nd = ndim(x)
    if axis is None and not accumulate:
        if nd != 1:
            raise _unsupported(f"{what} over all the axes of a {nd}-d array")
        axis = 0
    if isinstance(axis, tuple):
        if len(axis) != 1:
            raise _unsupported(f"{what} over several axes")
        (axis,) = axis
    if not -nd <= axis < nd:
        raise np.exceptions.AxisError(axis, nd)
    axis %= nd
    n = shape(x)[axis]
    if n == 0:
        if accumulate:
            return x
        raise _unsupported(f"{what} of an empty axis")
    items = [take(x, i, axis=axis) for i in range(n)]
    acc = [items[0]]
    for item in items[1:]:
        acc.append(impl(acc[-1], item))
    if accumulate:
        return stack(acc, axis=axis)
    return expand_dims(acc[-1], axis) if keepdims else acc[-1]


def _dtype_arg(x):
    return x.aval.dtype if isinstance(x, Tracer) else x


#: Functions of dtypes only: NumPy's own, on the tracers' dtypes.
_DTYPE_ONLY = {
    "result_type": lambda *xs: np.result_type(*map(_dtype_arg, xs)),
    "can_cast": lambda x, to, casting="safe": np.can_cast(_dtype_arg(x), to, casting),
    "iscomplexobj": lambda x: np.issubdtype(_dtype_arg(x), np.complexfloating),
    "isrealobj": lambda x: not np.issubdtype(_dtype_arg(x), np.complexfloating),
}

_params_cache: dict = {}


def _unknown_kwargs(impl, kwargs):
    """Keyword arguments ``impl`` does not take (none if it takes ``**kwargs``
    or has no signature)."""
    params = _params_cache.get(impl)
    if params is None:
        try:
            sig = inspect.signature(impl)
        except (TypeError, ValueError):
            sig = None
        if sig is None or any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
            params = ()
        else:
            params = frozenset(n for n, p in sig.parameters.items()
                               if p.kind is not p.POSITIONAL_ONLY)
        _params_cache[impl] = params
    if params == ():
        return []
    return [k for k in kwargs if k not in params]


def _has_tracer(x) -> bool:
    if isinstance(x, Tracer):
        return True
    if isinstance(x, (list, tuple)):
        return any(_has_tracer(v) for v in x)
    if isinstance(x, dict):
        return any(_has_tracer(v) for v in x.values())
    return False


def array_function(func, types, args, kwargs):
    """NEP 18: ``func(*args, **kwargs)`` with a tracer among the arguments."""
    if not all(issubclass(t, (Tracer, np.ndarray)) for t in types):
        return NotImplemented  # another array library's type: let it handle the call
    module = getattr(func, "__module__", "numpy") or "numpy"
    name = func.__name__
    if "out" in kwargs:
        _no_out(kwargs["out"], f"{module}.{name}")
        kwargs = {k: v for k, v in kwargs.items() if k != "out"}
    if module == "numpy" and name in _DTYPE_ONLY:
        return _DTYPE_ONLY[name](*args, **kwargs)
    if module == "numpy" and name in _IN_PLACE:
        raise TypeError(
            f"numpy.{name} updates its first argument in place, and fxad arrays are "
            f"immutable: compute the updated array as a new value, e.g. "
            f"{_IN_PLACE[name]} (the .at[...].set form of JAX).")
    if not _has_tracer(args) and not _has_tracer(kwargs):
        # Only like=x brings a tracer here (np.zeros(3, like=x)), and NumPy has
        # already dropped it: the result is NumPy's own constant.
        return func(*args, **kwargs)
    impl = _lookup(module, name, func)
    if not impl:
        raise _unsupported(f"{module}.{name}")
    if kwargs:
        unknown = _unknown_kwargs(impl, kwargs)
        if unknown:
            raise _unsupported(f"{module}.{name}(..., {unknown[0]}=...)")
    return impl(*args, **kwargs)


def _tracer_array_ufunc(self, ufunc, method, *inputs, **kwargs):
    return array_ufunc(ufunc, method, *inputs, **kwargs)


def _tracer_array_function(self, func, types, args, kwargs):
    return array_function(func, types, args, kwargs)


# ``np.sin(tracer)``, ``np.ones(3) * tracer`` and ``np.sum(tracer)`` route here.
Tracer.__array_ufunc__ = _tracer_array_ufunc
Tracer.__array_function__ = _tracer_array_function

__all__ = ["array_ufunc", "array_function", "register"]
