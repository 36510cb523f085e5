"""NumPy's dispatch protocols (NEP 13 ``__array_ufunc__``, NEP 18
``__array_function__``) for tracers: plain ``numpy`` calls on traced values
route to ``fxad.numpy``, so unmodified NumPy code can be differentiated.

A NumPy function that fxad does not implement raises a ``TypeError`` naming
it (never a silent wrong answer); ``docs/coverage.md`` lists what is covered.
"""

from __future__ import annotations

import importlib

import numpy as np

_COVERAGE = "docs/coverage.md"

# numpy module -> fxad module implementing it
_MODULES = {
    "numpy": "fxad.numpy",
    "numpy.linalg": "fxad.numpy.linalg",
    "numpy.fft": "fxad.numpy.fft",
}

# ufunc.reduce / ufunc.accumulate -> fxad.numpy function names
_REDUCE = {"add": "sum", "multiply": "prod", "maximum": "max", "minimum": "min",
           "logical_and": "all", "logical_or": "any"}
_ACCUMULATE = {"add": "cumsum", "multiply": "cumprod"}

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
        target = _MODULES.get(module)
        impl = None
        if target is not None:
            try:
                mod = importlib.import_module(target)
            except ImportError:
                mod = None
            impl = getattr(mod, name, None) if mod is not None else None
        if impl is None or impl is original or getattr(impl, "_fxad_unsupported", False):
            impl = False
        _cache[key] = impl
    return impl


def array_ufunc(ufunc, method, *inputs, **kwargs):
    name = ufunc.__name__
    if kwargs.get("out") is not None:
        raise TypeError(f"numpy.{name}(..., out=...) cannot write into a traced array: "
                        "fxad arrays are immutable; drop out= and use the result.")
    kwargs.pop("out", None)
    for k in ("where", "casting", "order", "subok", "signature"):
        if k in kwargs:
            raise _unsupported(f"numpy.{name}(..., {k}=...)")
    dtype = kwargs.pop("dtype", None)
    if method == "__call__":
        impl = _lookup("numpy", name, ufunc)
        if not impl:
            raise _unsupported(f"the ufunc numpy.{name}")
        if kwargs:
            raise _unsupported(f"numpy.{name} with keyword arguments {sorted(kwargs)}")
        out = impl(*inputs)
        if dtype is not None:
            out = importlib.import_module("fxad.numpy").astype(out, dtype)
        return out
    if method in ("reduce", "accumulate"):
        table = _REDUCE if method == "reduce" else _ACCUMULATE
        fname = table.get(name)
        impl = _lookup("numpy", fname, None) if fname else False
        if not impl:
            raise _unsupported(f"numpy.{name}.{method}")
        (x,) = inputs
        axis = kwargs.pop("axis", 0)
        if method == "reduce":
            keepdims = kwargs.pop("keepdims", False)
            if kwargs:
                raise _unsupported(f"numpy.{name}.reduce with {sorted(kwargs)}")
            out = impl(x, axis=axis, keepdims=keepdims)
        else:
            out = impl(x, axis=axis)
        if dtype is not None:
            out = importlib.import_module("fxad.numpy").astype(out, dtype)
        return out
    raise _unsupported(f"numpy.{name}.{method}")


def array_function(func, types, args, kwargs):
    module = getattr(func, "__module__", "numpy") or "numpy"
    name = func.__name__
    impl = _lookup(module, name, func)
    if not impl:
        raise _unsupported(f"{module}.{name}")
    return impl(*args, **kwargs)


__all__ = ["array_ufunc", "array_function", "np"]
