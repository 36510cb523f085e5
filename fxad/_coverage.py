"""The coverage table: which NumPy and SciPy functions fxad differentiates.

Generated from fxad itself, never written by hand: for every public function
of NumPy's and SciPy's namespaces that fxad mirrors, it looks up fxad's
implementation and *probes* it: the function is run on a small float64
input, then forward mode (``jvp`` against a central finite difference),
reverse mode (``vjp`` by the inner-product identity against ``jvp``) and
``vmap`` (against a loop) are each tried and checked.  A function whose
derivative is identically zero (``floor``, ``argmax``, comparisons) is
reported as such.

    python -m fxad._coverage            # print the table
    python -m fxad._coverage --write    # rewrite docs/coverage.md

``tests/test_coverage.py`` checks that docs/coverage.md is up to date.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import pathlib
import sys
import warnings

import numpy as np

import fxad
import fxad.numpy as fnp
import fxad.numpy.fft
import fxad.numpy.linalg
from fxad.errors import ConcretizationTypeError

# fxad.scipy needs SciPy, an optional dependency: without it the table has
# no SciPy rows (the reference modules cannot be imported either).
try:
    import fxad.scipy.integrate
    import fxad.scipy.linalg
    import fxad.scipy.signal
    import fxad.scipy.special
    import fxad.scipy.stats
except ModuleNotFoundError as _e:
    if _e.name != "scipy" and not (_e.name or "").startswith("scipy."):
        raise

#: (reference module, fxad module) pairs, in the order of the page.
NAMESPACES = [
    ("numpy", "fxad.numpy"),
    ("numpy.linalg", "fxad.numpy.linalg"),
    ("numpy.fft", "fxad.numpy.fft"),
    ("scipy.special", "fxad.scipy.special"),
    ("scipy.linalg", "fxad.scipy.linalg"),
    ("scipy.integrate", "fxad.scipy.integrate"),
    ("scipy.signal", "fxad.scipy.signal"),
    ("scipy.stats", "fxad.scipy.stats"),
]

DOC = pathlib.Path(__file__).resolve().parent.parent / "docs" / "coverage.md"


def _rng():
    return np.random.default_rng(0)


def _vec(n=4, lo=0.2, hi=0.8):
    return _rng().uniform(lo, hi, n)


def _spd(n=3):
    a = _rng().normal(size=(n, n))
    return a @ a.T + n * np.eye(n)


def _mat(n=3):
    return _rng().normal(size=(n, n)) + n * np.eye(n)


def _decay(y, t):
    return -0.5 * y * (1.0 + 0.1 * t)


# Probe inputs tried in order: the first one the reference function accepts
# (and fxad's too) is used.  Arrays are float64 and away from kinks.
_GENERIC_PROBES = [
    lambda: ((_vec(),), {}),
    lambda: ((_vec(4, 1.2, 1.9),), {}),
    lambda: ((_vec(), _vec(4, 1.1, 1.9)), {}),
    lambda: ((_mat(),), {}),
    lambda: ((_spd(),), {}),
    lambda: ((_mat(), _vec(3)), {}),
    lambda: ((_mat(), _mat()), {}),
    lambda: ((_vec(6).reshape(2, 3),), {}),
    lambda: ((_vec(), 2), {}),
    lambda: ((_vec(), 0), {}),
    lambda: ((_vec(), [1, 2]), {}),
    lambda: ((2, _vec()), {}),
    lambda: (([_vec(), _vec()],), {}),
    lambda: ((_vec() > 0.5,), {}),
    lambda: ((_vec() > 0.5, _vec() > 0.3), {}),
]

#: Per-function probes where the generic ones do not fit.
PROBES: dict = {
    "numpy.where": lambda: ((_vec() > 0.5, _vec(), _vec(4, 1, 2)), {}),
    "numpy.clip": lambda: ((_vec(), 0.3, 0.7), {}),
    "numpy.einsum": lambda: (("ij,j->i", _mat(), _vec(3)), {}),
    "numpy.select": lambda: (([_vec() > 0.5], [_vec()]), {"default": 0.0}),
    "numpy.pad": lambda: ((_vec(), 1), {}),
    "numpy.linalg.eig": lambda: ((np.diag([1.0, 2.0, 3.0]) + 0.1 * _mat(),), {}),
    "numpy.linalg.matrix_power": lambda: ((_mat(), 3), {}),
    "numpy.percentile": lambda: ((_vec(), 30.0), {}),
    "numpy.quantile": lambda: ((_vec(), 0.3), {}),
    "numpy.heaviside": lambda: ((_vec() - 0.5, 0.5), {}),
    "numpy.arange": lambda: ((0.0, 1.0, 0.25), {}),
    "numpy.empty": lambda: ((3,), {}),
    "numpy.broadcast_arrays": lambda: ((_vec(), _vec(8).reshape(2, 4)), {}),
    "scipy.stats.multivariate_normal.logpdf": lambda: ((_vec(3), np.zeros(3), _spd()), {}),
    "scipy.stats.multivariate_normal.pdf": lambda: ((_vec(3), np.zeros(3), _spd()), {}),
    "scipy.stats.multivariate_normal.cdf":
        lambda: ((_vec(2), np.zeros(2), np.array([[1.0, 0.3], [0.3, 1.0]])), {}),
    "scipy.stats.multivariate_normal.logcdf":
        lambda: ((_vec(2), np.zeros(2), np.array([[1.0, 0.3], [0.3, 1.0]])), {}),
    # x must stay on the simplex: differentiate in alpha (argnum 1)
    "scipy.stats.dirichlet.logpdf": lambda: ((np.array([0.2, 0.3, 0.5]),
                                              np.array([1.5, 2.0, 3.0])), {}, 1),
    "scipy.stats.dirichlet.pdf": lambda: ((np.array([0.2, 0.3, 0.5]),
                                           np.array([1.5, 2.0, 3.0])), {}, 1),
    "scipy.stats.beta.logpdf": lambda: ((_vec(), 2.0, 3.0), {}),
    "scipy.stats.beta.pdf": lambda: ((_vec(), 2.0, 3.0), {}),
    "scipy.stats.beta.cdf": lambda: ((_vec(), 2.0, 3.0), {}),
    "scipy.stats.beta.logcdf": lambda: ((_vec(), 2.0, 3.0), {}),
    **{f"scipy.stats.beta.{m}": lambda: ((_vec(), 2.0, 3.0), {})
       for m in ("sf", "logsf", "ppf", "isf")},
    # counts k fixed: differentiate the binomial's p (argnum 2), nbinom's n and p
    **{f"scipy.stats.{d}.{m}": (lambda n=n: ((np.array([1, 2, 3]), n, _vec(3)), {}, 2))
       for d, n in (("binom", 10), ("nbinom", 3.5))
       for m in ("logpmf", "pmf", "cdf", "logcdf", "sf", "logsf")},
    **{f"scipy.stats.{d}.{m}": (lambda n=n: ((_vec(3), n, 0.4), {}))
       for d, n in (("binom", 10), ("nbinom", 3.5)) for m in ("ppf", "isf")},
    **{f"scipy.stats.poisson.{m}": lambda: ((_vec(3), 2.5), {}) for m in ("ppf", "isf")},
    "scipy.stats.t.cdf": lambda: ((_vec(4, -2.0, 2.0), 3.0), {}),
    "scipy.stats.t.logcdf": lambda: ((_vec(4, -2.0, 2.0), 3.0), {}),
    "scipy.stats.gamma.logcdf": lambda: ((_vec(4, 0.5, 3.0), 2.5), {}),
    "scipy.stats.chi2.logcdf": lambda: ((_vec(4, 0.5, 3.0), 3.0), {}),
    "scipy.stats.poisson.logcdf": lambda: ((np.array([1, 2, 3]), _vec(3, 1, 2)), {}),
    "scipy.special.betainc": lambda: ((2.5, 1.5, _vec()), {}),
    "scipy.special.betaincc": lambda: ((2.5, 1.5, _vec()), {}),
    "numpy.vsplit": lambda: ((_vec(8).reshape(4, 2), 2), {}),
    "numpy.dsplit": lambda: ((_vec(8).reshape(1, 2, 4), 2), {}),
    "numpy.take_along_axis": lambda: ((_vec(6).reshape(2, 3), np.array([[0, 2], [1, 1]]), 1),
                                      {}),
    "numpy.linalg.tensorinv": lambda: ((_mat(4).reshape(4, 2, 2), 1), {}),
    "scipy.linalg.cho_solve": lambda: (((np.linalg.cholesky(_spd()), True), _vec(3)), {}, 1),
    "scipy.linalg.solve_sylvester": lambda: ((_mat(), _mat() + 7 * np.eye(3), _mat()), {}),
    "scipy.stats.poisson.logpmf": lambda: ((np.array([1, 2, 3]), _vec(3, 1, 2)), {}),
    "scipy.stats.poisson.pmf": lambda: ((np.array([1, 2, 3]), _vec(3, 1, 2)), {}),
    "scipy.stats.poisson.cdf": lambda: ((np.array([1, 2, 3]), _vec(3, 1, 2)), {}),
    "scipy.stats.poisson.sf": lambda: ((np.array([1, 2, 3]), _vec(3, 1, 2)), {}),
    "scipy.special.polygamma": lambda: ((1, _vec(4, 1.2, 1.9)), {}),
    "scipy.special.gammainc": lambda: ((2.5, _vec(4, 1.2, 1.9)), {}),
    "scipy.special.gammaincc": lambda: ((2.5, _vec(4, 1.2, 1.9)), {}),
    # An ODE right-hand side that runs on NumPy values and traced ones alike.
    "scipy.integrate.odeint": lambda: ((_decay, _vec(3), np.array([0.0, 0.5, 1.0])),
                                       {"rtol": 1e-12, "atol": 1e-12}),
    "scipy.integrate.solve_ivp": lambda: ((lambda t, y: _decay(y, t), (0.0, 1.0), _vec(3)),
                                          {"t_eval": np.array([0.5, 1.0]), "rtol": 1e-12,
                                           "atol": 1e-12}),
    "numpy.reshape": lambda: ((_vec(), (2, 2)), {}),
    "numpy.moveaxis": lambda: ((_vec(6).reshape(2, 3), 0, 1), {}),
    "numpy.swapaxes": lambda: ((_vec(6).reshape(2, 3), 0, 1), {}),
    "numpy.broadcast_to": lambda: ((_vec(), (2, 4)), {}),
    "numpy.astype": lambda: ((_vec(), np.complex128), {}),
    "numpy.full": lambda: ((3, 0.5), {}),
    "numpy.full_like": lambda: ((_vec(), 0.5), {}),
    "numpy.apply_along_axis": lambda: ((np.cumsum, 1, _vec(6).reshape(2, 3)), {}, 2),
    "numpy.apply_over_axes": lambda: ((np.sum, _vec(6).reshape(2, 3), [0]), {}, 1),
    "numpy.gcd": lambda: ((np.array([12, 18]), np.array([8, 27])), {}),
    "numpy.lcm": lambda: ((np.array([12, 18]), np.array([8, 27])), {}),
    "numpy.insert": lambda: ((_vec(), 1, 0.5), {}),
    "numpy.interp": lambda: ((_vec(), np.array([0.0, 0.5, 1.0]), np.array([1.0, 3.0, 2.0])),
                             {}),
    "numpy.piecewise": lambda: ((_vec(), [_vec() > 0.5], [np.sin, np.cos]), {}),
    "numpy.bincount": lambda: ((np.array([0, 2, 2, 1]), _vec()), {}),
    "numpy.histogram": lambda: ((_vec(),), {"bins": 3}),
    "numpy.histogram_bin_edges": lambda: ((_vec(),), {"bins": 3}),
    "numpy.choose": lambda: ((np.array([0, 1, 1, 0]), _vec(8).reshape(2, 4)), {}),
    "numpy.ldexp": lambda: ((_vec(), np.array([1, -2, 0, 3])), {}),
    "numpy.cross": lambda: ((_vec(6).reshape(2, 3), _vec(3, 1, 2)), {}),
    "numpy.cov": lambda: ((_vec(8).reshape(2, 4),), {}),
    "numpy.geomspace": lambda: ((np.array([1.5, 2.0]), 5.0), {"num": 4}),
    "numpy.delete": lambda: ((_vec(), [0, 2]), {}),
    "numpy.compress": lambda: (([True, False, True, True], _vec()), {}),
    "numpy.extract": lambda: ((np.array([True, False, True, True]), _vec()), {}),
    "numpy.kaiser": lambda: ((4, np.array(2.5)), {}),
    "numpy.unravel_index": lambda: ((np.array([5, 7]), (3, 4)), {}),
    "numpy.ravel_multi_index": lambda: (((np.array([1, 2]), np.array([3, 0])), (3, 4)), {}),
}


#: Functions of array metadata, not of values: nothing to differentiate.
METADATA = {"numpy.shape", "numpy.ndim", "numpy.size", "numpy.result_type",
            "numpy.can_cast", "numpy.min_scalar_type", "numpy.promote_types"}


def _reference_names(module):
    names = getattr(module, "__all__", None) or [n for n in dir(module) if not n.startswith("_")]
    out = []
    for n in sorted(set(names)):
        obj = getattr(module, n, None)
        if isinstance(obj, np.ufunc) or inspect.isfunction(obj) or inspect.isbuiltin(obj) or (
                callable(obj) and type(obj).__name__ in ("_ArrayFunctionDispatcher", "function")):
            if inspect.isclass(obj):
                continue
            out.append(n)
    return out


def _probe_args(qualname, ref):
    cands = [PROBES[qualname]] if qualname in PROBES else _GENERIC_PROBES
    for make in cands:
        args, kwargs, *argnum = make()
        if isinstance(ref, np.ufunc) and len(args) != ref.nin:
            continue  # a further positional argument would be the ufunc's out=
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                out = _result_array(ref(*args, **kwargs))
        except Exception:  # noqa: BLE001 - the probe does not fit; try the next
            continue
        if isinstance(out, (list, tuple)):
            try:
                out = np.concatenate([np.ravel(o) for o in out
                                      if not isinstance(o, (bool, np.bool_, type(None)))])
            except ValueError:
                continue
        if isinstance(out, (np.ndarray, np.generic, float, bool, int)) and \
                np.asarray(out).dtype.kind in "fcbiu" and \
                np.all(np.isfinite(np.asarray(out, dtype=complex))):
            return (args, kwargs, *argnum)
    return None


def _result_array(out):
    """A SciPy result object's array (``solve_ivp``'s ``OdeResult.y``)."""
    return out.y if type(out).__name__ == "OdeResult" else out


def _float_positions(args):
    return [i for i, a in enumerate(args)
            if isinstance(a, np.ndarray) and a.dtype.kind == "f"]


def _check(fn, args, kwargs, argnum=None):
    """(fwd, rev, vmap) status strings for ``fn`` at ``args`` (differentiating
    argument ``argnum``, by default the first floating-point array)."""
    pos = _float_positions(args)
    if not pos:
        return ("-", "-", "-")
    i = pos[0] if argnum is None else argnum
    x = args[i]

    def f(v):
        a = list(args)
        a[i] = v
        out = _result_array(fn(*a, **kwargs))
        if isinstance(out, (list, tuple)):  # several outputs: check them all at once
            parts = [fnp.ravel(o) for o in out
                     if not isinstance(o, (bool, np.bool_, type(None)))]
            dt = np.result_type(*[fnp.asarray(p).dtype for p in parts])
            out = fnp.concatenate([fnp.astype(p, dt) for p in parts])
        return out

    rng = np.random.default_rng(1)
    t = rng.normal(size=x.shape)
    statuses = []
    try:
        y, y_dot = fxad.jvp(f, (x,), (t,))
        eps = 1e-6
        fd = (np.asarray(f(x + eps * t), dtype=complex)
              - np.asarray(f(x - eps * t), dtype=complex)) / (2 * eps)
        ok = np.allclose(np.asarray(y_dot), fd, rtol=1e-5, atol=1e-6)
        zero = not np.any(np.asarray(y_dot))
        statuses.append(("zero" if zero else "yes") if ok else "WRONG")
    except Exception as e:  # noqa: BLE001 - reported in the table
        statuses.append(_why(e))
    try:
        y, f_vjp = fxad.vjp(f, x)
        u = rng.normal(size=np.shape(y)).astype(np.asarray(y).dtype)
        if np.asarray(y).dtype.kind not in "fc":
            u = np.zeros(np.shape(y), np.asarray(y).dtype)
        (ct,) = f_vjp(u)
        _, jv = fxad.jvp(f, (x,), (t,))
        ok = np.allclose(np.vdot(u, np.asarray(jv, dtype=complex)).real,
                         np.vdot(np.asarray(ct), t).real, rtol=1e-8, atol=1e-10)
        statuses.append("yes" if ok else "WRONG")
    except Exception as e:  # noqa: BLE001
        statuses.append(_why(e))
    try:
        xs = np.stack([x, x * 1.1])
        out = fxad.vmap(f)(xs)
        loop = np.stack([np.asarray(f(xs[0])), np.asarray(f(xs[1]))])
        statuses.append("yes" if np.allclose(np.asarray(out), loop, rtol=1e-10) else "WRONG")
    except Exception as e:  # noqa: BLE001
        statuses.append(_why(e))
    return tuple(statuses)


def _why(e):
    if isinstance(e, NotImplementedError):
        return "no"
    if isinstance(e, ConcretizationTypeError):
        return "no"  # e.g. vmap of nonzero: the output shape depends on the values
    return "error"


_STATS_METHODS = ("logpdf", "pdf", "logcdf", "cdf", "logsf", "sf", "ppf", "isf",
                  "logpmf", "pmf")


def _stats_rows(ref_mod):
    """scipy.stats: the methods of each distribution fxad implements (fxad,
    like JAX, has a module of functions per distribution)."""
    out = []
    fx = sys.modules.get("fxad.scipy.stats")  # None without SciPy (imported above)
    if fx is None:
        return out
    for dist in sorted(n for n in dir(fx) if not n.startswith("_")):
        sub = getattr(fx, dist)
        ref = getattr(ref_mod, dist, None)
        if not inspect.ismodule(sub) or ref is None:
            continue
        for m in _STATS_METHODS:
            ref_m = getattr(ref, m, None)
            if ref_m is None:
                continue
            fn = getattr(sub, m, None)
            name = f"{dist}.{m}"
            if fn is None:
                out.append(("scipy.stats", name, "no", "", "", ""))
                continue
            probe = _probe_args(f"scipy.stats.{name}", ref_m)
            if probe is None:
                out.append(("scipy.stats", name, "yes", "?", "?", "?"))
                continue
            out.append(("scipy.stats", name, "yes", *_check(fn, *probe)))
    return out


def rows():
    """One row per reference function: (namespace, name, implemented, fwd, rev, vmap)."""
    out = []
    for ref_name, fx_name in NAMESPACES:
        try:
            ref_mod = importlib.import_module(ref_name)
        except ImportError:
            continue
        if ref_name == "scipy.stats":
            out.extend(_stats_rows(ref_mod))
            continue
        fx_mod = sys.modules.get(fx_name)  # imported above, unless SciPy is missing
        for name in _reference_names(ref_mod):
            ref = getattr(ref_mod, name)
            fn = getattr(fx_mod, name, None) if fx_mod is not None else None
            if fn is None:
                out.append((ref_name, name, "no", "", "", ""))
                continue
            if fn is ref:  # NumPy's own function re-exported: it builds constants
                out.append((ref_name, name, "yes", "-", "-", "-"))
                continue
            if f"{ref_name}.{name}" in METADATA:
                out.append((ref_name, name, "yes", "n/a", "n/a", "n/a"))
                continue
            probe = _probe_args(f"{ref_name}.{name}", ref)
            if probe is None:
                out.append((ref_name, name, "yes", "?", "?", "?"))
                continue
            out.append((ref_name, name, "yes", *_check(fn, *probe)))
    return out


def render(rows_):
    lines = [
        "# Coverage: NumPy and SciPy functions in fxad",
        "",
        "Generated by `python -m fxad._coverage --write` from fxad itself (do not edit by",
        "hand). For each public function of the reference namespace: whether fxad",
        "implements it, and whether forward mode (`jvp`, checked against finite",
        "differences), reverse mode (`vjp`, checked against `jvp`) and `vmap` (checked",
        "against a loop) work on a probe input. `zero`: the derivative is identically",
        "zero (piecewise-constant or integer-valued functions). `?`: no probe input fits",
        "the function's signature. `-`: no floating-point input to differentiate (for",
        "example NumPy's own array constructors, which fxad re-exports).",
        "`n/a`: a function of shapes or dtypes, not of values.",
        "Plain `numpy` calls on traced values route to these implementations",
        "(NumPy's `__array_ufunc__`/`__array_function__` protocols); `numpy.array(...)`",
        "over traced values cannot be intercepted: use `fxad.numpy.array`.",
        "",
    ]
    current = None
    for ns, name, impl, fwd, rev, vm in rows_:
        if ns != current:
            current = ns
            done = sum(1 for r in rows_ if r[0] == ns and r[2] == "yes")
            total = sum(1 for r in rows_ if r[0] == ns)
            lines += ["", f"## `{ns}` ({done} of {total})", "",
                      "| function | fxad | fwd | rev | vmap |", "|---|---|---|---|---|"]
        lines.append(f"| `{name}` | {impl} | {fwd} | {rev} | {vm} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m fxad._coverage", description=__doc__.split("\n")[0])
    p.add_argument("--write", action="store_true", help=f"rewrite {DOC}")
    a = p.parse_args(argv)
    text = render(rows())
    if a.write:
        DOC.write_text(text)
    else:
        print(text, end="")


if __name__ == "__main__":
    main()
