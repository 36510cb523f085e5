"""Location-scale families from their standard form, as SciPy's
``rv_continuous`` builds them: a distribution module gives the standard
density, CDF, ... of ``y = (x - loc) / scale`` and its support, and
``methods`` returns SciPy's methods with SciPy's signatures and conventions
(NaN for invalid parameters, ``loc``/``scale`` keywords or trailing
positionals, ``ppf(0)``/``ppf(1)`` at the ends of the support).  On NumPy
values every method is SciPy's own."""

from __future__ import annotations

import inspect

import numpy as np
import scipy.stats as _st

import fxad.numpy as fnp
from fxad.numpy._util import any_tracer
from fxad.scipy.stats._util import masked, promote, safe

# How each method depends on loc and scale, given its standard form ``fn``.
_IN_X = ("logpdf", "cdf", "logcdf", "sf", "logsf")
_IN_Q = ("ppf", "isf")
_MOMENTS = ("mean", "var", "entropy")


def _signature(first, shapes):
    P = inspect.Parameter
    params = [P(first, P.POSITIONAL_OR_KEYWORD)] if first else []
    params += [P(s, P.POSITIONAL_OR_KEYWORD) for s in shapes]
    params += [P("loc", P.POSITIONAL_OR_KEYWORD, default=0),
               P("scale", P.POSITIONAL_OR_KEYWORD, default=1)]
    return inspect.Signature(params)


def _method(name, method, standard, shapes, shape_ok, support):
    ref = getattr(getattr(_st, name), method)
    first = "x" if method in _IN_X or method == "pdf" else "q" if method in _IN_Q else None
    sig = _signature(first, shapes)

    def f(*args, **kwargs):
        try:
            bound = sig.bind(*args, **kwargs)
        except TypeError as e:
            raise TypeError(f"fxad.scipy.stats.{name}.{method}{sig}: {e} (the arguments "
                            f"of scipy.stats.{name}.{method})") from None
        bound.apply_defaults()
        vals = list(bound.arguments.values())
        if not any_tracer(*vals):
            return ref(*vals)
        if method == "pdf":
            return fnp.exp(methods_of[name]["logpdf"](*vals))
        *vals, dt = promote(*vals)
        *rest, loc, scale = vals
        ok = scale > 0
        for s in rest[1 if first else 0:]:
            ok = ok & shape_ok(s)
        scale = safe(ok, scale, dt(1))
        safe_rest = [v if i == 0 and first else safe(ok, v, dt(1)) for i, v in enumerate(rest)]
        if method in _IN_X:
            y = fnp.true_divide(fnp.subtract(safe_rest[0], loc), scale)
            out = standard(y, *safe_rest[1:], dt=dt)
            if method == "logpdf":
                out = fnp.subtract(out, fnp.log(scale))
        elif method in _IN_Q:
            q = safe_rest[0]
            lo, hi = support if method == "ppf" else support[::-1]
            inside = (q > 0) & (q < 1)
            y = standard(safe(inside, q, dt(0.5)), *safe_rest[1:], dt=dt)
            y = fnp.where(q == 0, dt(lo), fnp.where(q == 1, dt(hi), y))
            y = fnp.where(inside | (q == 0) | (q == 1), y, dt(np.nan))
            out = fnp.add(loc, fnp.multiply(scale, y))
        else:
            out = standard(*safe_rest, dt=dt)
            if method == "mean":
                out = fnp.add(loc, fnp.multiply(scale, out))
            elif method == "var":
                out = fnp.multiply(fnp.square(scale), out)
            else:
                out = fnp.add(out, fnp.log(scale))
        return masked(out, ok, None, 0, dt)

    f.__name__ = f.__qualname__ = method
    f.__signature__ = sig
    f.__module__ = f"fxad.scipy.stats.{name}"  # (doctest and help() find it there)
    return f


methods_of: dict = {}


def methods(name, *, shapes=(), shape_ok=None, support=(-np.inf, np.inf), **standard):
    """``{method: function}`` for ``scipy.stats.<name>``; ``standard[m](y,
    *shapes, dt=...)`` is the method ``m`` of the standard distribution
    (``loc = 0``, ``scale = 1``; the moments take only the shapes), with
    ``pdf`` derived from ``logpdf``.  ``support`` is the standard support,
    ``shape_ok(s)`` whether a shape parameter is valid."""
    out = {m: _method(name, m, fn, shapes, shape_ok, support) for m, fn in standard.items()}
    if "logpdf" in standard:
        out["pdf"] = _method(name, "pdf", None, shapes, shape_ok, support)
    methods_of[name] = out
    return out
