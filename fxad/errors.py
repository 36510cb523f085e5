"""Errors that fxad raises on purpose, with messages that say the way out."""

from __future__ import annotations

import linecache
import re
import sys
import threading

__all__ = ["ConcretizationTypeError", "ForwardModeError", "UnexpectedTracerError"]


class ConcretizationTypeError(TypeError):
    """A traced value was needed as a concrete Python or NumPy value.

    Raised when Python control flow, ``float()``, ``int()``, ``.item()`` or
    ``numpy.asarray`` meets a tracer whose value is abstract (inside
    ``make_jaxpr`` or ``jit``), or whose derivative would be silently dropped
    (inside ``grad``/``jvp``).
    """


class ForwardModeError(TypeError):
    """Forward mode (``jvp``, ``jacfwd``) met a function that defines only
    reverse mode (a ``custom_vjp`` function).

    A ``TypeError``, as JAX raises.  Differentiate it with ``grad``, ``vjp``
    or ``jacrev``, or define it with ``fxad.custom_jvp``; a nested ``grad``
    that chose forward mode for a scalar argument falls back to reverse mode
    on it (it counts the errors made in this thread, ``forward_refusals``,
    so that one caught by the user's own ``except TypeError`` is seen too).
    """

    def __init__(self, *args):
        super().__init__(*args)
        forward_refusals.made += 1


class _Refusals(threading.local):
    made = 0  # how many ForwardModeErrors this thread has made


forward_refusals = _Refusals()


class UnexpectedTracerError(RuntimeError):
    """A tracer was used after the transformation that created it finished.

    This happens when a traced value is stored in a global, a closure or an
    attribute inside a transformed function and then used outside it.
    """


# ---------------------------------------------------------------------------
# What a failed conversion of a tracer was part of, for its message.  Only
# computed when the error is raised: it reads the calling frames.

#: ``math`` functions and the fxad function taking traced values instead.
_MATH_TO_FXAD = {
    "fabs": "fxad.numpy.abs", "pow": "fxad.numpy.power", "asin": "fxad.numpy.arcsin",
    "acos": "fxad.numpy.arccos", "atan": "fxad.numpy.arctan", "atan2": "fxad.numpy.arctan2",
    "asinh": "fxad.numpy.arcsinh", "acosh": "fxad.numpy.arccosh",
    "atanh": "fxad.numpy.arctanh", "isfinite": "fxad.numpy.isfinite",
    "erf": "fxad.scipy.special.erf", "erfc": "fxad.scipy.special.erfc",
    "gamma": "fxad.scipy.special.gamma", "lgamma": "fxad.scipy.special.gammaln",
    "fsum": "fxad.numpy.sum", "prod": "fxad.numpy.prod", "dist": "fxad.numpy.linalg.norm",
}
_MATH_CALL = re.compile(r"\bmath\.([a-z0-9_]+)\s*\(")
_SETITEM = re.compile(r"(?:^|[:;]\s*)[\w.]+\s*\[[^\]]*\]\s*(?:[-+*/%@&|^]|//|\*\*)?=(?!=)")


def _outside_frames():
    """The calling frames, innermost first, from the first one outside fxad."""
    f = sys._getframe(2)
    while f is not None and f.f_globals.get("__name__", "").startswith("fxad."):
        f = f.f_back
    while f is not None:
        yield f
        f = f.f_back


def _line(frame) -> str:
    return linecache.getline(frame.f_code.co_filename, frame.f_lineno)


def _scipy_function(frames):
    """The public name (``scipy.special.logsumexp``) of the outermost SciPy
    function among the innermost library frames, or None."""
    found = None
    for f in frames:
        mod = f.f_globals.get("__name__", "")
        if mod.startswith("scipy."):
            found = f
        elif not mod.startswith("numpy"):
            break
    if found is None:
        return None
    mod = found.f_globals["__name__"]
    public = ".".join(p for p in mod.split(".") if not p.startswith("_")) or mod
    name = found.f_code.co_name
    inst = found.f_locals.get("self")
    if public == "scipy.stats" and inst is not None:  # a distribution's method
        dist = getattr(inst, "name", None) or type(inst).__name__.removesuffix("_gen")
        return f"scipy.stats.{dist}.{name}"
    return f"{public}.{name}"


def conversion_hint(what: str, dtype) -> str:
    """More on a failed conversion of a traced value: the call it was part of
    and what to write instead (empty when nothing more is known)."""
    frames = _outside_frames()
    if what.startswith("numpy.asarray"):
        sp = _scipy_function(frames)
        if sp is not None:
            return (f" {sp} is not a ufunc, so it cannot dispatch to fxad and converts "
                    f"its input to a NumPy array: call fxad.{sp} instead (import "
                    f"fxad.{sp.rsplit('.', 2 if sp.startswith('scipy.stats.') else 1)[0]}; "
                    "docs/coverage.md lists the SciPy functions fxad has).")
        if dtype.kind in "iub":
            return (" If it indexes a NumPy array (`E[i]`, E a constant), write "
                    "`fxad.numpy.asarray(E)[i]`, which traced indices can index.")
        return ""
    frame = next(frames, None)
    line = _line(frame) if frame is not None else ""
    if what.startswith("using a traced value as an index"):
        return (" To index a constant NumPy array E with it write "
                "`fxad.numpy.asarray(E)[i]`, and use fxad.lax.fori_loop (or "
                "fxad.numpy.arange) for a traced range.")
    m = _MATH_CALL.search(line)
    if m is not None:
        fn = _MATH_TO_FXAD.get(m.group(1), f"fxad.numpy.{m.group(1)}")
        return (f" math.{m.group(1)} takes Python numbers only: use {fn}, which takes "
                "traced values (math.* functions on a tracer fail this way).")
    if _SETITEM.search(line.strip()):
        return (" It is being written into a NumPy array (`out[i] = value`), which can "
                "only hold plain numbers. Build the array functionally instead: "
                "`out = fxad.numpy.at(out)[i].set(value)` (fxad arrays have "
                "`out.at[i].set(value)`), or collect the values in a list and use "
                "`fxad.numpy.stack(values)`.")
    if what in ("float()", "int()", "complex()"):
        return (f" ({what[:-2]}(x) is also what math.sqrt(x), math.exp(x) ... do: use "
                "fxad.numpy.sqrt, fxad.numpy.exp ..., which take traced values.)")
    return ""


def setitem_error(exc):
    """NumPy's ``ValueError: setting an array element with a sequence`` of
    ``out[i] = tracer`` as fxad's own error (its cause says what to do), or
    None for any other error."""
    cause = exc.__cause__
    if type(exc) is ValueError and isinstance(cause, ConcretizationTypeError) \
            and "setting an array element" in str(exc):
        err = ConcretizationTypeError(str(cause))
        err.__suppress_context__ = True
        return err.with_traceback(exc.__traceback__)
    return None
