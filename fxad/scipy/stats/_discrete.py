"""Discrete distributions on ``{0, 1, ...}`` shifted by ``loc``, as SciPy's
``rv_discrete`` builds them: a module gives the log-pmf and the two tails of
the standard distribution at integer ``k`` with its parameters made valid,
and ``methods`` returns SciPy's methods with SciPy's signatures and
conventions (NaN for invalid parameters, ``-inf`` log-pmf off the integers
and outside the support, ``cdf``/``sf`` of the floor of ``k - loc``, ``ppf``
and ``isf`` as floats).  ``k`` is a count: its derivative is zero.  On NumPy
values every method is SciPy's own."""

from __future__ import annotations

import inspect

import scipy.stats as _st

import fxad.numpy as fnp
from fxad.numpy._util import any_tracer
from fxad.scipy.stats._primitives import discrete_quantile
from fxad.scipy.stats._util import log_of, masked, promote, safe


def _signature(first, shapes):
    P = inspect.Parameter
    params = [P(first, P.POSITIONAL_OR_KEYWORD)] if first else []
    params += [P(s, P.POSITIONAL_OR_KEYWORD) for s in shapes]
    params.append(P("loc", P.POSITIONAL_OR_KEYWORD, default=0))
    return inspect.Signature(params)


def methods(name, *, shapes, params_ok, safe_params, upper, logpmf, cdf, sf, moments):
    """``{method: function}`` for ``scipy.stats.<name>``: ``params_ok(*p)``
    says where the parameters are valid, ``safe_params(*p, dt)`` replaces
    invalid ones with harmless values, ``upper(*p)`` is the largest ``k`` of
    the support (``inf`` if unbounded); ``logpmf(k, *p, dt)`` at integer
    ``0 <= k <= upper`` and ``cdf(k, *p, dt)``/``sf`` at integer ``0 <= k <
    upper`` give the standard distribution; ``moments`` maps ``mean``/``var``
    to ``fn(*p, dt)``."""
    ref = getattr(_st, name)
    out = {}

    def prepare(k, p, loc, floor):
        *vals, dt = promote(k, *p, loc)
        k, *p, loc = vals
        k = fnp.subtract(k, loc)
        k = fnp.stop_gradient(fnp.floor(k) if floor else k)
        ok = params_ok(*p)
        return k, ok, safe_params(*p, ok=ok, dt=dt), dt

    def make(method, first, body):
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
                return getattr(ref, method)(*vals)
            return body(*vals)

        f.__name__ = f.__qualname__ = method
        f.__signature__ = sig
        f.__module__ = f"fxad.scipy.stats.{name}"  # (doctest and help() find it there)
        out[method] = f
        return f

    def _logpmf(k, *rest):
        *p, loc = rest
        k, ok, p, dt = prepare(k, p, loc, floor=False)
        inside = (k >= 0) & (fnp.floor(k) == k) & (k <= upper(*p))
        res = logpmf(safe(inside, k, dt(0)), *p, dt=dt)
        return masked(res, ok, inside, -float("inf"), dt)

    make("logpmf", "k", _logpmf)
    make("pmf", "k", lambda *a: fnp.exp(_logpmf(*a)))

    def tail(method, log, lower):
        def body(k, *rest):
            *p, loc = rest
            k, ok, p, dt = prepare(k, p, loc, floor=True)
            below, above = k < 0, k >= upper(*p)
            inside = ~(below | above)
            ks = safe(inside, k, dt(0))
            c, s = cdf(ks, *p, dt=dt), sf(ks, *p, dt=dt)
            if log:
                res = log_of(c, s, dt) if lower else log_of(s, c, dt)
                lo, hi = (-float("inf"), 0.0) if lower else (0.0, -float("inf"))
            else:
                res = c if lower else s
                lo, hi = (0.0, 1.0) if lower else (1.0, 0.0)
            res = fnp.where(below, dt(lo), fnp.where(above, dt(hi), res))
            return masked(res, ok, None, 0, dt)

        make(method, "k", body)

    tail("cdf", False, True)
    tail("sf", False, False)
    tail("logcdf", True, True)
    tail("logsf", True, False)

    def quantile(method):
        def body(q, *rest):
            *vals, dt = promote(q, *rest)
            q, *p, loc = vals
            return fnp.add(discrete_quantile(q, *p, dist=name, fn=method), loc)

        make(method, "q", body)

    quantile("ppf")
    quantile("isf")

    def moment(method, fn):
        def body(*rest):
            *vals, dt = promote(*rest)
            *p, loc = vals
            ok = params_ok(*p)
            res = fn(*safe_params(*p, ok=ok, dt=dt), dt=dt)
            if method == "mean":
                res = fnp.add(res, loc)
            return masked(res, ok, None, 0, dt)

        make(method, None, body)

    for m, fn in moments.items():
        moment(m, fn)
    return out
