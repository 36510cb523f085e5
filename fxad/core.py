"""fxad's core: abstract values, primitives, bind, traces and tracers, the jaxpr.

Reading order: helpers; abstract values (``ShapedArray``); ``Primitive`` and
``bind``; the trace stack; ``Trace`` and ``Tracer``; the IR (``Var``,
``Literal``, ``JaxprEqn``, ``Jaxpr``, ``ClosedJaxpr``), its printer, its
checker and its evaluator.

Design: *levels on a stack*.  Every active transformation (a JVP, a staging
trace for ``make_jaxpr``/``linearize``, ...) is a ``Trace`` object pushed on
a per-thread stack and numbered by its depth (``level``).  A tracer belongs to
exactly one trace.  ``bind`` hands a primitive application to the trace of
highest level among its arguments' tracers; a value from a lower level (or a
plain array) is a constant for that trace.  With no tracer among the
arguments, ``bind`` calls the primitive's NumPy ``impl`` directly, so eager
code pays one loop over the arguments and nothing else.  Two nested JVPs of
the same function therefore never mix their tangents (no perturbation
confusion): each tangent is tied to its own trace object.
"""

from __future__ import annotations

import functools
import gc
import math
import threading
from collections.abc import Callable

import numpy as np

from fxad.errors import (
    ConcretizationTypeError,
    UnexpectedTracerError,
    conversion_hint,
    setitem_error,
)

# ---------------------------------------------------------------------------
# Configuration


class _Config:
    """Global switches, read and set as in JAX: ``fxad.config.update(name,
    value)`` (or the attribute, ``fxad.config.check_jaxprs = True``).

    ``check_jaxprs``: type-check every jaxpr that a transformation stages
    (the test suite turns it on; it costs a pass).  ``log_compiles``: log
    (logger ``fxad.jit``, level WARNING) each time ``jit`` traces a function,
    with its name and the signature that caused the trace.
    ``jit_cache_size``: how many signatures each ``jit`` function keeps
    (least recently used evicted first).

    Example:
        >>> import fxad
        >>> fxad.config.update("jit_cache_size", 16)
        >>> fxad.config.jit_cache_size
        16
        >>> fxad.config.update("jit_cache_size", 256)
    """

    __slots__ = ("check_jaxprs", "log_compiles", "jit_cache_size")

    def __init__(self):
        self.check_jaxprs = False
        self.log_compiles = False
        self.jit_cache_size = 256

    def update(self, name: str, value) -> None:
        if name not in self.__slots__:
            raise ValueError(f"fxad.config.update: unknown option {name!r}; the options "
                             f"are {', '.join(self.__slots__)}")
        if name == "jit_cache_size":
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"fxad.config.update: jit_cache_size must be a positive "
                                 f"int, got {value!r}")
        elif not isinstance(value, bool):
            raise ValueError(f"fxad.config.update: {name} must be True or False, "
                             f"got {value!r}")
        setattr(self, name, value)

    def __repr__(self):
        return "fxad.config(" + ", ".join(f"{n}={getattr(self, n)!r}"
                                          for n in self.__slots__) + ")"


config = _Config()

# ---------------------------------------------------------------------------
# Length-checked helpers: a silent truncation in the core is always a bug.


def safe_zip(*args):
    """``zip`` that raises ValueError when the arguments differ in length."""
    n = len(args[0])
    for a in args[1:]:
        if len(a) != n:
            raise ValueError(f"safe_zip: length mismatch {[len(a) for a in args]}")
    return list(zip(*args))


def safe_map(f, *args):
    n = len(args[0])
    for a in args[1:]:
        if len(a) != n:
            raise ValueError(f"safe_map: length mismatch {[len(a) for a in args]}")
    return list(map(f, *args))


class gc_paused:
    """``with gc_paused():`` the cyclic garbage collector is off, and back on
    afterwards if it was on.  Tracing, linearizing, transposing and
    compiling allocate many small objects that all stay alive (and form no
    cycles); collections triggered by those allocations would rescan them
    again and again (it doubles tracing time on a 200,000-equation program).
    A class, not a generator: it is entered on every reverse-mode call."""

    __slots__ = ("enabled",)

    def __enter__(self):
        self.enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc):
        if self.enabled:
            gc.enable()
        return False


# ---------------------------------------------------------------------------
# Abstract values


_DTYPE_SHORT = {
    "float64": "f64", "float32": "f32", "float16": "f16",
    "int64": "i64", "int32": "i32", "int16": "i16", "int8": "i8",
    "uint64": "u64", "uint32": "u32", "uint16": "u16", "uint8": "u8",
    "bool": "bool", "complex128": "c128", "complex64": "c64",
}


class ShapedArray:
    """The abstract value of an array: its shape and dtype.

    ``weak_type`` marks values that came from Python scalars, which NumPy 2
    promotion treats as weakly typed.  Instances are interned: there is one
    object per ``(shape, dtype, weak_type)``, whichever way it is made
    (``ShapedArray(...)`` or ``shaped(...)``), so avals compare and hash by
    identity, at C speed, on every traced operation.
    """

    __slots__ = ("shape", "dtype", "weak_type", "ndim", "size", "__weakref__")

    def __new__(cls, shape, dtype, weak_type=False):
        try:
            return _aval_cache[(shape, dtype, weak_type)]
        except (KeyError, TypeError):
            pass
        shape = tuple(int(d) for d in shape)
        dtype = np.dtype(dtype)
        weak_type = bool(weak_type)
        key = (shape, dtype, weak_type)
        aval = _aval_cache.get(key)
        if aval is None:
            aval = object.__new__(cls)
            aval.shape = shape
            aval.dtype = dtype
            aval.weak_type = weak_type
            aval.ndim = len(shape)
            aval.size = math.prod(shape)  # a Python int (np.prod costs microseconds)
            _aval_cache[key] = aval
            if dtype is _F64 and not weak_type:
                f64_avals[shape] = aval
        return aval

    def __reduce__(self):  # pickling and copying give the interned object
        return ShapedArray, (self.shape, self.dtype, self.weak_type)

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def strip_weak_type(self):
        return shaped(self.shape, self.dtype) if self.weak_type else self

    def str_short(self):
        name = _DTYPE_SHORT.get(self.dtype.name, self.dtype.name)
        return f"{name}[{','.join(map(str, self.shape))}]"

    def __repr__(self):
        weak = ", weak_type=True" if self.weak_type else ""
        return f"ShapedArray({self.shape}, {self.dtype.name}{weak})"


_aval_cache: dict = {}
_F64 = np.dtype(np.float64)
#: shape -> the float64 aval of that shape (not weak): the traced
#: operations' most frequent lookup, without hashing a dtype.
f64_avals: dict = {}


def shaped(shape, dtype, weak_type=False) -> ShapedArray:
    """Interned ``ShapedArray``: one object per (shape, dtype, weak_type)."""
    try:
        return _aval_cache[(shape, dtype, weak_type)]
    except (KeyError, TypeError):
        return ShapedArray(shape, dtype, weak_type)


_PY_SCALAR_DTYPES = {
    bool: (np.dtype(bool), False),
    int: (np.dtype(np.int64), True),
    float: (np.dtype(np.float64), True),
    complex: (np.dtype(np.complex128), True),
}


_PY_SCALAR_AVALS = {t: shaped((), dt, weak) for t, (dt, weak) in _PY_SCALAR_DTYPES.items()}
_F64_SCALAR_AVAL = shaped((), np.dtype(np.float64))  # every np.float64's


def get_aval(x) -> ShapedArray:
    """The abstract value of a tracer, a NumPy value or a Python scalar."""
    t = type(x)
    if t is np.float64:
        return _F64_SCALAR_AVAL
    if t is np.ndarray:
        if x.dtype is _F64:  # found by shape, without hashing the dtype
            a = f64_avals.get(x.shape)
            if a is not None:
                return a
        return shaped(x.shape, x.dtype)
    a = _PY_SCALAR_AVALS.get(t)
    if a is not None:
        return a
    if isinstance(x, Tracer):
        return x.aval
    if isinstance(x, (np.ndarray, np.generic)):
        return shaped(x.shape, x.dtype)
    raise TypeError(
        f"fxad: a value of type {t.__name__} is not a valid array: {x!r}. "
        "Pass NumPy arrays, NumPy scalars or Python numbers (or pytrees of them)."
    )


def is_float_dtype(dtype) -> bool:
    """Floating point or complex (a dtype with a tangent space)."""
    return np.dtype(dtype).kind in "fc"


# ---------------------------------------------------------------------------
# Primitives and bind


class Primitive:
    """A primitive operation: a name, an ``impl`` and an ``abstract_eval``.

    Interpreters keep their own rule tables keyed by the primitive
    (``ad.jvp_rules``, ``ad.transpose_rules``).  Arrays are positional,
    parameters keyword-only: ``bind(prim, *arrays, **params)``.
    """

    __slots__ = ("name", "multiple_results", "impl", "abstract_eval", "check", "entry",
                 "__weakref__")

    def __init__(self, name: str, multiple_results: bool = False):
        self.name = name
        self.multiple_results = multiple_results
        self.impl: Callable | None = None
        self.abstract_eval: Callable | None = None
        #: ``check(*args, **params)``, run before ``impl`` on concrete values:
        #: raises what staging's ``abstract_eval`` would, so a primitive is
        #: equally strict eagerly, under grad and vmap (whose rules end in
        #: concrete binds) and under jit (see ``lax.def_strict``).
        self.check: Callable | None = None
        #: ``entry(*args)``: ``bind(self, *args)`` without parameters; a
        #: layer above may install one with the common operands dispatched
        #: inline (``lax.eager_entry``).  The rule helpers call it for a
        #: rule's primal.
        self.entry: Callable = functools.partial(bind, self)

    def def_impl(self, impl):
        self.impl = impl
        return impl

    def def_abstract_eval(self, abstract_eval):
        self.abstract_eval = abstract_eval
        return abstract_eval

    def def_check(self, check):
        self.check = check
        return check

    def bind(self, *args, **params):
        return bind(self, *args, **params)

    def __repr__(self):
        return self.name


#: Every primitive ever made, by name (the completeness test walks it).
primitives: dict[str, Primitive] = {}


def new_primitive(name: str, multiple_results: bool = False) -> Primitive:
    """Create and register a new Primitive called ``name`` (it then appears in the completeness
    test and docs/primitives.md).
    """
    if name in primitives:
        raise ValueError(f"primitive {name!r} is already registered")
    p = Primitive(name, multiple_results)
    primitives[name] = p
    return p


def bind(prim: Primitive, *args, **params):
    """Apply ``prim`` to ``args``: in the top trace among them, else eagerly."""
    top = None
    for x in args:
        if isinstance(x, Tracer):
            t = x._trace
            if top is None:
                top = t
            elif t is not top:
                if t.level > top.level:
                    top = t
                elif t.level == top.level:
                    raise _escaped_error(x)
    if top is None:
        check = prim.check
        if params:
            if check is not None:
                check(*args, **params)
            return prim.impl(*args, **params)
        if check is not None:
            check(*args)
        return prim.impl(*args)
    if not top.active:
        raise _escaped_error(next(a for a in args if isinstance(a, Tracer) and a._trace is top))
    return top.process_primitive(prim, args, params)


def _escaped_error(tracer):
    return UnexpectedTracerError(
        f"fxad: a {type(tracer).__name__} ({tracer.aval.str_short()}) from a "
        "transformation that has already finished was used. A traced value was "
        "probably stored in a global, a closure or an attribute inside a "
        "transformed function; return it as an output instead."
    )


# ---------------------------------------------------------------------------
# The trace stack (one per thread)


class _TraceState(threading.local):
    def __init__(self):
        self.stack: list[Trace] = []


trace_state = _TraceState()


class new_trace:
    """Push a new trace of ``trace_type`` for the duration of a ``with`` block.

    The stack is restored on the way out, exception or not, and the trace is
    marked inactive so that tracers which escape are detected when used.
    (A class rather than a generator-based context manager: it is entered on
    every transformation call.)
    """

    __slots__ = ("trace", "stack")

    def __init__(self, trace_type, *args, **kwargs):
        stack = self.stack = trace_state.stack  # this thread's (looked up once)
        self.trace = trace_type(len(stack), *args, **kwargs) if args or kwargs else \
            trace_type(len(stack))

    def __enter__(self):
        trace = self.trace
        self.stack.append(trace)
        return trace

    def __exit__(self, exc_type, exc, tb):
        trace = self.trace
        trace.active = False
        del self.stack[trace.level:]
        if exc_type is ValueError:
            _reraise_setitem_error(exc)
        return False


class new_traces:
    """``new_trace`` for several traces at once: ``with new_traces(A, B) as
    (a, b):`` pushes an ``A`` and a ``B`` one level above it, and pops both
    on the way out (one context instead of two nested ones: linearize
    enters its tape and its JVP trace on every reverse-mode call)."""

    __slots__ = ("traces", "stack")

    def __init__(self, *trace_types):
        stack = self.stack = trace_state.stack
        traces = self.traces = []
        for trace_type in trace_types:
            traces.append(trace_type(len(stack) + len(traces)))

    def __enter__(self):
        traces = self.traces
        self.stack.extend(traces)
        return traces

    def __exit__(self, exc_type, exc, tb):
        traces = self.traces
        for trace in traces:
            trace.active = False
        del self.stack[traces[0].level:]
        if exc_type is ValueError:
            _reraise_setitem_error(exc)
        return False


def _reraise_setitem_error(exc):
    # `out[i] = tracer` on a NumPy array: NumPy replaces fxad's error (its
    # cause) by its own; the transformation raises fxad's again.
    err = setitem_error(exc)
    if err is not None:
        raise err


class Trace:
    """One active transformation.  Subclasses define ``process_primitive``."""

    __slots__ = ("level", "active")

    def __init__(self, level: int):
        self.level = level
        self.active = True

    def process_primitive(self, prim, args, params):  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}(level={self.level})"


class Tracer:
    """A value inside a transformation.  Behaves like a NumPy array.

    The core gives it what needs no layer above: the aval's attributes,
    ``len``/``iter``, the concretization errors and ``repr``.  Python's
    operators, the ndarray methods (``x.sum()``, ``x.T``, ``x.at``) and NumPy's
    dispatch protocols are set on this class by ``fxad.numpy`` when it is
    imported (``fxad/numpy/_array_methods.py``, ``fxad/numpy/_dispatch.py``),
    as JAX's NumPy layer does, so that the core never imports it.
    """

    __slots__ = ("_trace",)
    __array_priority__ = 1000

    @property
    def aval(self) -> ShapedArray:  # pragma: no cover - abstract
        raise NotImplementedError

    def to_concrete_value(self):
        """The concrete value, or None when it is abstract."""
        return None

    # -- array attributes -------------------------------------------------
    @property
    def shape(self):
        return self.aval.shape

    @property
    def dtype(self):
        return self.aval.dtype

    @property
    def ndim(self):
        return self.aval.ndim

    @property
    def size(self):
        return self.aval.size

    def __len__(self):
        if not self.aval.shape:
            raise TypeError("len() of unsized object (a 0-d traced array)")
        return self.aval.shape[0]

    def __iter__(self):
        if not self.aval.shape:
            raise TypeError("iteration over a 0-d traced array")
        return (self[i] for i in range(self.aval.shape[0]))

    def __pos__(self):
        return self

    def _strip_weak_type(self):
        """This value typed strong (not weak), staging nothing: the NumPy layer
        retypes a function's result of a Python scalar this way (NumPy returns
        a NumPy scalar).  None where a trace cannot: the caller converts."""
        return None

    __hash__ = None  # arrays are unhashable, as in NumPy

    def __setitem__(self, idx, value):
        i = _idx_repr(idx)
        raise TypeError(
            "fxad arrays inside a transformation are immutable: "
            f"`x[{i}] = v` is not supported. Use the functional form "
            f"`x = x.at[{i}].set(v)` (or .add, .multiply, .min, .max), which "
            "returns an updated copy."
        )

    def sort(self, axis=-1):
        raise TypeError("x.sort() sorts in place, which fxad arrays cannot do; "
                        "use fxad.numpy.sort(x) (or numpy.sort(x)) instead.")

    # -- concretization ------------------------------------------------------
    def _concrete(self, what: str):
        raise ConcretizationTypeError(
            f"fxad: {what} needs a concrete value, but got a traced array "
            f"{self.aval.str_short()} ({type(self).__name__}).{conversion_hint(what, self.dtype)}"
            f" {self._concrete_hint()}"
        )

    def _concrete_hint(self) -> str:
        return (
            "Its value is abstract here (inside make_jaxpr or jit), so Python "
            "cannot branch on it or convert it. Use fxad.numpy.where for "
            "data-dependent choices, or make the argument static "
            "(jit's static_argnums)."
        )

    def __bool__(self):
        v = self.to_concrete_value()
        if v is None:
            self._concrete("bool() / an `if` or `while` on a traced value")
        return bool(v)

    def __float__(self):
        self._concrete("float()")

    def __int__(self):
        self._concrete("int()")

    def __complex__(self):
        self._concrete("complex()")

    def __index__(self):
        self._concrete("using a traced value as an index (__index__)")

    def item(self, *args):
        self._concrete(".item()")

    def tolist(self):
        self._concrete(".tolist()")

    def __array__(self, dtype=None, copy=None):
        self._concrete(
            "numpy.asarray / numpy.array on a traced value (to build an array from "
            "traced values use fxad.numpy.array or fxad.numpy.stack)")

    def __repr__(self):
        v = self.to_concrete_value()
        base = f"{type(self).__name__}<{self.aval.str_short()}>"
        if v is None:
            return base
        return f"{base}(value={np.array2string(np.asarray(v), precision=6)})"

    __str__ = __repr__


def _idx_repr(idx):
    if not isinstance(idx, tuple):
        idx = (idx,)
    out = []
    for i in idx:
        if isinstance(i, slice):
            s = "" if i.start is None else str(i.start)
            s += ":" + ("" if i.stop is None else str(i.stop))
            if i.step is not None:
                s += f":{i.step}"
            out.append(s)
        elif i is Ellipsis:
            out.append("...")
        elif isinstance(i, (int, np.integer)):
            out.append(str(i))
        else:
            out.append("idx")
    return ", ".join(out)


def full_lower_concrete(x):
    """Whether ``x`` has a concrete value (plain value, or concrete tracer)."""
    if isinstance(x, Tracer):
        return x.to_concrete_value()
    return x


# ---------------------------------------------------------------------------
# The IR: Var, Literal, JaxprEqn, Jaxpr, ClosedJaxpr


class Var:
    """A variable of the IR: just an abstract value and an identity."""

    __slots__ = ("aval",)

    def __init__(self, aval: ShapedArray):
        self.aval = aval

    def __repr__(self):
        return f"Var({self.aval.str_short()})"


class Literal:
    """A scalar constant written inline in the IR."""

    __slots__ = ("val", "aval")

    def __init__(self, val, aval: ShapedArray):
        self.val = val
        self.aval = aval

    def __repr__(self):
        return f"Literal({self.val!r})"


class JaxprEqn:
    """``outvars = primitive[params] invars``."""

    __slots__ = ("primitive", "invars", "params", "outvars")

    def __init__(self, primitive, invars, params, outvars):
        self.primitive = primitive
        self.invars = invars
        self.params = params
        self.outvars = outvars

    def __repr__(self):
        return f"JaxprEqn({self.primitive.name}, {len(self.invars)} in, {len(self.outvars)} out)"


class Jaxpr:
    """A typed, first-order program: ``{ lambda constvars ; invars. let eqns in outvars }``."""

    __slots__ = ("constvars", "invars", "eqns", "outvars")

    def __init__(self, constvars, invars, eqns, outvars):
        self.constvars = list(constvars)
        self.invars = list(invars)
        self.eqns = list(eqns)
        self.outvars = list(outvars)

    @property
    def in_avals(self):
        return [v.aval for v in self.invars]

    @property
    def out_avals(self):
        return [v.aval for v in self.outvars]

    def __str__(self):
        return pp_jaxpr(self)

    __repr__ = __str__


class ClosedJaxpr:
    """A jaxpr with values for its constvars.

    Call primitives hold one in their params (``pjit[jaxpr=...]``).  The
    transformations of a call derive new jaxprs from it (its JVP, its
    known/unknown split, its transpose, its batched form, its compiled
    code); ``memo`` caches them on the object, so a call traced once is
    transformed once however often it runs.  A ClosedJaxpr is treated as
    immutable: hash and equality are by identity.
    """

    __slots__ = ("jaxpr", "consts", "_memo", "__weakref__")

    def __init__(self, jaxpr: Jaxpr, consts):
        self.jaxpr = jaxpr
        self.consts = list(consts)
        self._memo = None

    def memo(self, key, make):
        """``make()``, computed once per ``key`` for this jaxpr."""
        m = self._memo
        if m is None:
            m = self._memo = {}
        try:
            return m[key]
        except KeyError:
            pass
        out = m[key] = make()
        return out

    @property
    def in_avals(self):
        return self.jaxpr.in_avals

    @property
    def out_avals(self):
        return self.jaxpr.out_avals

    @property
    def eqns(self):
        return self.jaxpr.eqns

    def __call__(self, *args):
        return eval_jaxpr(self.jaxpr, self.consts, *args)

    def __str__(self):
        return pp_jaxpr(self.jaxpr)

    __repr__ = __str__

    def _repr_pretty_(self, p, cycle):  # IPython
        p.text(str(self))


# ---------------------------------------------------------------------------
# Printer (JAX's notation)


def _var_names():
    letters = "abcdefghijklmnopqrstuvwxyz"
    n = 0
    while True:
        k, s = n, ""
        while True:
            s = letters[k % 26] + s
            k = k // 26 - 1
            if k < 0:
                break
        yield s
        n += 1


def _pp_param(v, ctx=None, indent=0):
    if isinstance(v, np.dtype):
        return v.name
    if isinstance(v, type) and issubclass(v, np.generic):
        return np.dtype(v).name
    if isinstance(v, tuple) and _is_jaxprs(v):
        # A tuple of bodies (cond's branches): one body a line, as JAX prints it.
        bodies = [_pp_jaxpr_lines(b.jaxpr if isinstance(b, ClosedJaxpr) else b,
                                  indent + 2, ctx) for b in v]
        return "(\n" + "\n".join(bodies) + "\n" + " " * indent + ")"
    if isinstance(v, tuple):
        inner = ", ".join(_pp_param(x, ctx, indent) for x in v)
        return f"({inner},)" if len(v) == 1 else f"({inner})"
    if isinstance(v, (Jaxpr, ClosedJaxpr)):
        inner = v.jaxpr if isinstance(v, ClosedJaxpr) else v
        return _pp_jaxpr_lines(inner, indent, ctx).lstrip()
    if isinstance(v, slice):
        return f"slice({v.start}, {v.stop}, {v.step})"
    return repr(v) if isinstance(v, str) else str(v)


def _pp_literal(lit: Literal):
    v = lit.val
    if isinstance(v, (np.ndarray, np.generic)):
        v = v.item()
    return f"{v!r}:{lit.aval.str_short()}"


def _is_jaxprs(v) -> bool:
    """A jaxpr, or a non-empty tuple of them (a parameter holding bodies)."""
    if isinstance(v, tuple):
        return bool(v) and all(isinstance(x, (Jaxpr, ClosedJaxpr)) for x in v)
    return isinstance(v, (Jaxpr, ClosedJaxpr))


def _has_subjaxpr(params) -> bool:
    return any(_is_jaxprs(v) for v in params.values())


class _PPNames:
    """Variable names shared by a jaxpr and the jaxprs nested in its
    equations, so that every name in one printout is bound once."""

    __slots__ = ("names", "gen")

    def __init__(self):
        self.names: dict = {}
        self.gen = _var_names()

    def __call__(self, v):
        if isinstance(v, Literal):
            return _pp_literal(v)
        n = self.names.get(v)
        if n is None:
            n = self.names[v] = next(self.gen)
        return n


def pp_jaxpr(jaxpr: Jaxpr, indent: int = 0) -> str:
    """``jaxpr`` in JAX's notation; jaxprs held by an equation's params (a
    call's body) are printed nested, under the equation, as JAX does."""
    return _pp_jaxpr_lines(jaxpr, indent, None)


def _pp_jaxpr_lines(jaxpr: Jaxpr, indent: int, ctx) -> str:
    name = _PPNames() if ctx is None else ctx

    def decl(v):
        return f"{name(v)}:{v.aval.str_short()}"

    pad = " " * indent
    consts = " ".join(decl(v) for v in jaxpr.constvars)
    ins = " ".join(decl(v) for v in jaxpr.invars)
    lines = [f"{pad}{{ lambda {consts}; {ins}. let"]
    for eqn in jaxpr.eqns:
        lhs = " ".join(decl(v) for v in eqn.outvars)
        rhs = " ".join(name(v) for v in eqn.invars)
        params = eqn.params
        if params and _has_subjaxpr(params):
            # One parameter a line, the body indented under the equation.
            sub = indent + 6
            lines.append(f"{pad}    {lhs} = {eqn.primitive.name}[")
            # Plain parameters first, bodies last; a name printed bare (JAX's style).
            for k, v in sorted(params.items(),
                               key=lambda kv: (_is_jaxprs(kv[1]), kv[0])):
                text = v if isinstance(v, str) else _pp_param(v, name, sub)
                lines.append(f"{' ' * sub}{k}={text}")
            lines.append(f"{pad}    ] {rhs}".rstrip())
            continue
        ptext = ""
        if params:
            ptext = "[" + " ".join(
                f"{k}={_pp_param(v, name, indent)}" for k, v in sorted(params.items())
            ) + "]"
        lines.append(f"{pad}    {lhs} = {eqn.primitive.name}{ptext} {rhs}".rstrip())
    outs = ", ".join(name(v) for v in jaxpr.outvars)
    lines.append(f"{pad}  in ({outs}{',' if len(jaxpr.outvars) == 1 else ''}) }}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# Checker


class JaxprTypeError(TypeError):
    pass


def check_jaxpr(jaxpr: Jaxpr) -> None:
    """Type-check ``jaxpr``: every Var bound once before use, and every
    equation's output avals equal to what its primitive's abstract eval says.
    Jaxprs held by an equation's params (a call's body) are checked too, and a
    call primitive's abstract eval compares its operands with its body's
    inputs.  Raises ``JaxprTypeError`` naming the equation at fault."""
    if isinstance(jaxpr, ClosedJaxpr):
        _check_closed(jaxpr)
        return
    env: set = set()

    def bind_var(v):
        if not isinstance(v, Var):
            raise JaxprTypeError(f"binder {v!r} is not a Var")
        if v in env:
            raise JaxprTypeError(f"variable {v!r} bound twice")
        env.add(v)

    def read(x):
        if isinstance(x, Literal):
            if get_aval(x.val).shape != x.aval.shape:
                raise JaxprTypeError(f"literal {x!r} does not match its aval {x.aval}")
            return x.aval
        if x not in env:
            raise JaxprTypeError(f"variable {x!r} used before it is bound")
        return x.aval

    for v in jaxpr.constvars:
        bind_var(v)
    for v in jaxpr.invars:
        bind_var(v)
    for i, eqn in enumerate(jaxpr.eqns):
        in_avals = [read(x) for x in eqn.invars]
        prim = eqn.primitive
        for k, v in eqn.params.items():
            if not _is_jaxprs(v):
                continue
            subs = [(k, v)] if not isinstance(v, tuple) else \
                [(f"{k}[{j}]", b) for j, b in enumerate(v)]
            for where, sub in subs:
                try:
                    check_jaxpr(sub)
                except JaxprTypeError as e:
                    raise JaxprTypeError(
                        f"equation {i} ({prim.name}), in its parameter {where}: {e}") from e
        try:
            out = prim.abstract_eval(*in_avals, **eqn.params)
        except Exception as e:  # noqa: BLE001 - re-raised with context
            raise JaxprTypeError(
                f"equation {i} ({prim.name}): abstract evaluation failed: {e}"
            ) from e
        outs = list(out) if prim.multiple_results else [out]
        if len(outs) != len(eqn.outvars):
            raise JaxprTypeError(f"equation {i} ({prim.name}): wrong number of outputs")
        for v, a in zip(eqn.outvars, outs):
            if v.aval.strip_weak_type() != a.strip_weak_type():
                raise JaxprTypeError(
                    f"equation {i} ({prim.name}): output {v.aval.str_short()} but "
                    f"abstract eval gives {a.str_short()}"
                )
            bind_var(v)
    for x in jaxpr.outvars:
        read(x)


def _check_closed(closed: ClosedJaxpr) -> None:
    def check():
        if len(closed.consts) != len(closed.jaxpr.constvars):
            raise JaxprTypeError(
                f"closed jaxpr has {len(closed.consts)} consts for "
                f"{len(closed.jaxpr.constvars)} constvars")
        for v, c in zip(closed.jaxpr.constvars, closed.consts):
            a = get_aval(c)
            if a.shape != v.aval.shape or a.dtype != v.aval.dtype:
                raise JaxprTypeError(
                    f"const of aval {a.str_short()} bound to constvar {v.aval.str_short()}")
        check_jaxpr(closed.jaxpr)
        return True

    # Checked once: a call's body is shared by every equation that calls it.
    closed.memo("checked", check)


# ---------------------------------------------------------------------------
# Evaluator


def eval_jaxpr(jaxpr: Jaxpr, consts, *args):
    """Run ``jaxpr`` on ``consts`` and ``args``; works on tracers too, so any
    active transformation applies to the evaluation."""
    env: dict = {}
    for v, x in safe_zip(jaxpr.constvars, consts):
        env[v] = x
    for v, x in safe_zip(jaxpr.invars, args):
        env[v] = x

    def read(x):
        return x.val if type(x) is Literal else env[x]

    for eqn in jaxpr.eqns:
        out = bind(eqn.primitive, *[read(x) for x in eqn.invars], **eqn.params)
        if eqn.primitive.multiple_results:
            for v, o in safe_zip(eqn.outvars, out):
                env[v] = o
        else:
            env[eqn.outvars[0]] = out
    return [read(x) for x in jaxpr.outvars]
