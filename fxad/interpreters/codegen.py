"""Code generation: a jaxpr becomes straight-line Python source that calls the
array library directly, one statement per equation and no interpreter loop.

The generated function reaches the array library through one global name,
``xp`` (``numpy`` by default; ``generate`` takes the namespace as a
parameter), and uses Array API names where NumPy 2 has them (``xp.asin``,
``xp.pow``, ``xp.permute_dims``, ``xp.concat``), so another namespace can be
plugged in without touching the generator.  Primitives without an entry in
the emitter table call their own ``impl`` through a generated global name
(``_impl_gather(v1, v2, indexer=_k0)``); those impls are NumPy code.

Safety: nothing the user wrote reaches the source text.  Local names are
generated (``a0`` for inputs, ``v0``... for the rest, reused once a value is
dead, which keeps the frame small and big programs quick to compile);
constants (constvars, dtypes, arrays, any param that is not a plain int,
bool, None or finite float) live in the function's globals under generated
names; scalar literals appear as ``repr`` of a plain Python ``int``,
``float`` or ``bool``; keyword names are checked with ``str.isidentifier``.

Exactness: in the array path every equation computes exactly what its
``impl`` computes (same NumPy call, or an operator that NumPy maps to the
same ufunc).  Operators are used where that is exact: on arrays, and on 0-d
float32/float64/bool values (NumPy's scalar arithmetic there is the same
IEEE operation; for 0-d integers it would warn on overflow where the ufunc
wraps silently, and for complex its algorithm may differ).  Python scalar
inputs are converted to NumPy scalars on entry, so operators never see two
plain Python numbers.

Scalar specialisation: when every value of the program is a 0-d float64 or
boolean, a second form is generated that computes with Python floats and the
``math`` module (through the global name ``_m``), which is about ten times
cheaper than NumPy calls on 0-d values.  Python's ``+ - * /`` and
comparisons are the same IEEE operations as NumPy's.  A ``math`` function
(``sin``, ``exp``, ...) is used only where it gives bit-for-bit the results of
the primitive's impl on a probe set of 20,000 points (``math_agrees``; NumPy's
SIMD ``exp`` or ``tanh`` differ from the C library's in the last bit on some
inputs, so on such a platform those equations call the impl instead).  A
disagreement the probe missed would be of 1 ulp.  Where Python and NumPy
differ on edge cases, Python raises (``ZeroDivisionError``, ``ValueError``
from ``math.log(0.0)``, ``OverflowError``), and when an output is inf or nan
the scalar form returns None: ``Executable`` then runs the array form, which
gives NumPy's values and NumPy's warnings.  (An inf or nan that arises inside
and does not reach an output, e.g. ``exp(b) / (x * x)`` with ``x * x``
overflowing, gives the same values but not NumPy's RuntimeWarning.)
Primitives with subtle semantics (``max``/``min`` with signed zeros,
``floor`` of ``-0.0``, ``sign`` of NaN) call their impl in the scalar form too.
"""

from __future__ import annotations

import itertools
import keyword
import linecache
import math
import re
import warnings
import weakref

import numpy as np

from fxad.core import ClosedJaxpr, Literal, Var

__all__ = ["generate", "Executable", "scalar_specialisable", "math_agrees"]

# ---------------------------------------------------------------------------
# Values in the source: literals and constants

_F64 = np.dtype(np.float64)
_F32 = np.dtype(np.float32)
_BOOL = np.dtype(bool)


def _py_scalar(v):
    """``v`` as a plain Python scalar when that is exact, else None."""
    t = type(v)
    if t is bool or t is int:
        return v
    if t is float:
        return v if math.isfinite(v) else None
    if isinstance(v, (np.generic, np.ndarray)) and np.ndim(v) == 0:
        kind = v.dtype.kind
        if kind == "b":
            return bool(v)
        if kind in "iu":
            return int(v)
        if kind == "f" and v.dtype.itemsize <= 8:
            f = float(v)
            return f if math.isfinite(f) else None
    return None


def _plain_repr(v):
    """Source text for a value that is safe to print: exact ``int``,
    ``bool``, ``None``, finite ``float``, and tuples of them.  None otherwise."""
    t = type(v)
    if v is None or t is bool or t is int:
        return repr(v)
    if t is float:
        return _num_repr(v) if math.isfinite(v) else None
    if t is tuple:
        parts = [_plain_repr(x) for x in v]
        if any(p is None for p in parts):
            return None
        return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"
    return None


def _num_repr(v):
    """Source for a plain Python number (negative numbers parenthesised)."""
    s = repr(v)
    return f"({s})" if s.startswith("-") else s


_SAFE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,40}$")


class _Globals:
    """The generated function's globals: every non-source value by a
    generated name."""

    def __init__(self, xp):
        self.ns = {"xp": xp, "_m": math, "__builtins__": {"float": float, "bool": bool}}
        self._by_id: dict = {}
        self._keep: list = []  # keep the objects alive so ids stay unique
        self._count = itertools.count()
        self._impl_names: dict = {}

    def const(self, obj, stem="_k"):
        key = id(obj)
        name = self._by_id.get(key)
        if name is None:
            name = f"{stem}{next(self._count)}"
            self._by_id[key] = name
            self._keep.append(obj)
            self.ns[name] = obj
        return name

    def impl(self, prim):
        name = self._impl_names.get(prim)
        if name is None:
            base = prim.name.replace("-", "_")
            name = f"_impl_{base}" if _SAFE_NAME.match(base) else "_impl"
            if name in self.ns:
                name = f"{name}{next(self._count)}"
            self._impl_names[prim] = name
            self.ns[name] = prim.impl
        return name

    def param(self, v):
        s = _plain_repr(v)
        return s if s is not None else self.const(v)


# ---------------------------------------------------------------------------
# Emitters: primitive name -> source of an expression.
#
# An emitter gets the ``_Ctx`` of one equation and returns the expression
# (a string) or None to fall back to calling the impl.

_UNARY_XP = {
    "exp": "exp", "log": "log", "log1p": "log1p", "expm1": "expm1", "sin": "sin",
    "cos": "cos", "tan": "tan", "asin": "asin", "acos": "acos", "atan": "atan",
    "sinh": "sinh", "cosh": "cosh", "tanh": "tanh", "sqrt": "sqrt", "asinh": "asinh",
    "acosh": "acosh", "atanh": "atanh", "abs": "abs", "sign": "sign", "floor": "floor",
    "ceil": "ceil", "trunc": "trunc", "round": "round", "is_finite": "isfinite",
    "real": "real", "conj": "conj",
}
_BINARY_XP = {"max": "maximum", "min": "minimum", "rem": "fmod", "pow": "pow",
              "atan2": "atan2"}
_BINOPS = {  # name -> (operator, ufunc name)
    "add": ("+", "add"), "sub": ("-", "subtract"), "mul": ("*", "multiply"),
    "eq": ("==", "equal"), "ne": ("!=", "not_equal"), "lt": ("<", "less"),
    "le": ("<=", "less_equal"), "gt": (">", "greater"), "ge": (">=", "greater_equal"),
    "and": ("&", "bitwise_and"), "or": ("|", "bitwise_or"), "xor": ("^", "bitwise_xor"),
}


#: The NumPy function each ufunc-backed emitter assumes the primitive's impl
#: is.  If an impl changes, its equations fall back to calling the impl.
_EXPECTED_IMPL = {
    **{name: getattr(np, f) for name, f in _UNARY_XP.items()},
    **{name: getattr(np, f) for name, f in _BINARY_XP.items()},
    **{name: getattr(np, f) for name, (_, f) in _BINOPS.items()},
    "neg": np.negative, "not": np.invert,
}
_impl_checked: dict = {}


def _impl_as_expected(prim) -> bool:
    ok = _impl_checked.get(prim)
    if ok is None:
        want = _EXPECTED_IMPL.get(prim.name)
        ok = _impl_checked[prim] = want is None or prim.impl is want
    return ok


class _Ctx:
    """What an emitter sees: the equation, its inputs as source text, and the
    globals."""

    __slots__ = ("eqn", "ins", "atoms", "g")

    def __init__(self, eqn, ins, atoms, g):
        self.eqn = eqn
        self.ins = ins
        self.atoms = atoms
        self.g = g

    @property
    def params(self):
        return self.eqn.params

    @property
    def out(self):
        return self.eqn.outvars[0].aval

    def in_aval(self, i):
        return self.atoms[i].aval

    def operators_exact(self):
        """Whether Python operators compute exactly what the ufunc does:
        some operand is a NumPy value (a Var), and either the result is an
        array or the operands are 0-d float32/float64/bool."""
        if not any(type(a) is Var for a in self.atoms):
            return False
        if self.out.ndim > 0:
            return True
        dt = self.atoms[0].aval.dtype
        return dt == _F64 or dt == _F32 or dt == _BOOL


def _np_binop(ctx):
    op, ufunc = _BINOPS[ctx.eqn.primitive.name]
    a, b = ctx.ins
    if ctx.operators_exact():
        return f"({a} {op} {b})"
    return f"xp.{ufunc}({a}, {b})"


def _np_neg(ctx):
    if ctx.operators_exact():
        return f"(-{ctx.ins[0]})"
    return f"xp.negative({ctx.ins[0]})"


def _np_not(ctx):
    if ctx.operators_exact():
        return f"(~{ctx.ins[0]})"
    return f"xp.bitwise_invert({ctx.ins[0]})"


def _np_div(ctx):
    a, b = ctx.ins
    kind = ctx.in_aval(0).dtype.kind
    if kind in "iu":
        return f"xp.floor_divide({a}, {b})"
    if kind == "f" and ctx.operators_exact():
        return f"({a} / {b})"
    if kind in "fc":
        return f"xp.divide({a}, {b})"
    return None


def _np_integer_pow(ctx):
    y = ctx.params["y"]
    (a,) = ctx.ins
    if y == 2:
        return f"({a} * {a})" if ctx.operators_exact() else f"xp.multiply({a}, {a})"
    if y < 0 and ctx.in_aval(0).dtype.kind in "iu":
        return None
    return f"xp.pow({a}, {int(y)})"


def _np_unary(ctx):
    return f"xp.{_UNARY_XP[ctx.eqn.primitive.name]}({ctx.ins[0]})"


def _np_binary(ctx):
    a, b = ctx.ins
    return f"xp.{_BINARY_XP[ctx.eqn.primitive.name]}({a}, {b})"


def _np_select_n(ctx):
    if len(ctx.ins) != 3:
        return None
    p, c0, c1 = ctx.ins
    return f"xp.where({p}, {c1}, {c0})"


def _np_reduce(fn, dtype_arg):
    def emit(ctx):
        axes = ctx.params["axes"]
        x = ctx.atoms[0]
        if fn in ("max", "min") and x.aval.size == 0:
            return None  # the impl supplies the identity of an empty reduction
        dt = f", dtype={ctx.g.const(ctx.out.dtype)}" if dtype_arg else ""
        return f"xp.{fn}({ctx.ins[0]}, axis={_plain_repr(tuple(axes))}{dt})"

    return emit


def _np_broadcast_in_dim(ctx):
    shape = tuple(ctx.params["shape"])
    dims = tuple(ctx.params["broadcast_dimensions"])
    x = ctx.atoms[0]
    in_shape = [1] * len(shape)
    for i, d in enumerate(dims):
        in_shape[d] = x.aval.shape[i]
    a = ctx.ins[0]
    if tuple(in_shape) != x.aval.shape:
        a = f"xp.reshape({a}, {_plain_repr(tuple(in_shape))})"
    return f"xp.broadcast_to({a}, {_plain_repr(shape)})"


def _np_reshape(ctx):
    if ctx.params.get("dimensions") is not None:
        return None
    return f"xp.reshape({ctx.ins[0]}, {_plain_repr(tuple(ctx.params['new_sizes']))})"


def _np_transpose(ctx):
    return f"xp.permute_dims({ctx.ins[0]}, {_plain_repr(tuple(ctx.params['permutation']))})"


def _np_squeeze(ctx):
    return f"xp.squeeze({ctx.ins[0]}, axis={_plain_repr(tuple(ctx.params['dimensions']))})"


def _np_expand_dims(ctx):
    return f"xp.expand_dims({ctx.ins[0]}, axis={_plain_repr(tuple(ctx.params['dimensions']))})"


def _np_rev(ctx):
    return f"xp.flip({ctx.ins[0]}, axis={_plain_repr(tuple(ctx.params['dimensions']))})"


def _np_concatenate(ctx):
    return f"xp.concat(({', '.join(ctx.ins)},), axis={int(ctx.params['dimension'])})"


def _np_slice(ctx):
    p = ctx.params
    strides = p["strides"] or (1,) * len(p["start_indices"])
    parts = []
    for a, b, s in zip(p["start_indices"], p["limit_indices"], strides):
        parts.append(f"{int(a)}:{int(b)}" + (f":{int(s)}" if s != 1 else ""))
    if type(ctx.atoms[0]) is not Var or not parts:
        return None
    return f"{ctx.ins[0]}[{', '.join(parts)}{',' if len(parts) == 1 else ''}]"


def _np_gather(ctx):
    """Basic indexing (slices, integers, new axes) with a static index: the
    same ``x[index]`` view the impl makes, without building the index at
    run time."""
    if len(ctx.ins) != 1 or type(ctx.atoms[0]) is not Var or ctx.in_aval(0).ndim == 0:
        return None
    parts = []
    for e in ctx.params["indexer"]:
        if type(e) is not tuple or not e:
            return None
        if e[0] == "s" and len(e) == 4 and all(v is None or type(v) is int for v in e[1:]):
            a, b, c = ("" if v is None else str(v) for v in e[1:])
            parts.append(f"{a}:{b}" + (f":{c}" if c else ""))
        elif e[0] == "i" and len(e) == 2 and type(e[1]) is int:
            parts.append(str(e[1]))
        elif e == ("n",):
            parts.append("None")
        else:
            return None
    if not parts:
        return None
    return f"{ctx.ins[0]}[{', '.join(parts)}{',' if len(parts) == 1 else ''}]"


def _np_dot_general(ctx):
    (lc, rc), (lb, rb) = ctx.params["dimension_numbers"]
    if lb or rb:
        return None
    xn, yn = ctx.in_aval(0).ndim, ctx.in_aval(1).ndim
    a, b = ctx.ins
    # The same choice as the impl makes, taken now since the ranks are known.
    if 1 <= xn <= 2 and 1 <= yn <= 2 and tuple(lc) == (xn - 1,) and tuple(rc) == (0,):
        return f"xp.dot({a}, {b})"
    return f"xp.tensordot({a}, {b}, axes=({_plain_repr(tuple(lc))}, {_plain_repr(tuple(rc))}))"


NUMPY_EMITTERS: dict = {
    **{name: _np_binop for name in _BINOPS},
    **{name: _np_unary for name in _UNARY_XP},
    **{name: _np_binary for name in _BINARY_XP},
    "neg": _np_neg,
    "not": _np_not,
    "div": _np_div,
    "integer_pow": _np_integer_pow,
    "select_n": _np_select_n,
    "reduce_sum": _np_reduce("sum", True),
    "reduce_prod": _np_reduce("prod", True),
    "reduce_max": _np_reduce("max", False),
    "reduce_min": _np_reduce("min", False),
    "broadcast_in_dim": _np_broadcast_in_dim,
    "reshape": _np_reshape,
    "transpose": _np_transpose,
    "squeeze": _np_squeeze,
    "expand_dims": _np_expand_dims,
    "rev": _np_rev,
    "concatenate": _np_concatenate,
    "slice": _np_slice,
    "dot_general": _np_dot_general,
    "gather": _np_gather,
}

# -- scalar form: Python floats and bools, math functions ----------------------

_MATH_UNARY = {
    "exp": "exp", "log": "log", "log1p": "log1p", "expm1": "expm1", "sin": "sin",
    "cos": "cos", "tan": "tan", "asin": "asin", "acos": "acos", "atan": "atan",
    "sinh": "sinh", "cosh": "cosh", "tanh": "tanh", "sqrt": "sqrt", "asinh": "asinh",
    "acosh": "acosh", "atanh": "atanh", "abs": "fabs", "is_finite": "isfinite",
}
_MATH_BINARY = {"pow": "pow", "atan2": "atan2", "rem": "fmod"}
_PY_BINOPS = {"add": "+", "sub": "-", "mul": "*", "div": "/", "eq": "==", "ne": "!=",
              "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "and": "&", "or": "|",
              "xor": "^"}

# Where the math module and NumPy agree.  Python's float arithmetic and
# comparisons are the same IEEE operations as NumPy's.  The math functions
# come from the C library, NumPy's from the C library or its own SIMD code,
# which may differ in the last bit; so each math function is compared with the
# primitive's impl on a fixed probe set (a few milliseconds, once per process)
# and used only where every result agrees bit for bit.  Elsewhere the scalar
# form calls the impl for that equation, so it stays exact.

_PROBE_DOMAINS = {  # name -> (lo, hi) of the probe points
    "exp": (-700.0, 700.0), "expm1": (-40.0, 700.0), "log": (1e-300, 1e300),
    "log1p": (-0.999, 1e6), "sqrt": (0.0, 1e300), "sin": (-100.0, 100.0),
    "cos": (-100.0, 100.0), "tan": (-10.0, 10.0), "asin": (-1.0, 1.0),
    "acos": (-1.0, 1.0), "atan": (-100.0, 100.0), "sinh": (-700.0, 700.0),
    "cosh": (-700.0, 700.0), "tanh": (-25.0, 25.0), "asinh": (-1e6, 1e6),
    "acosh": (1.0, 1e6), "atanh": (-0.999, 0.999), "abs": (-1e300, 1e300),
    "is_finite": (-1e300, 1e300), "pow": (0.01, 50.0), "atan2": (-10.0, 10.0),
    "rem": (-100.0, 100.0), "integer_pow": (-30.0, 30.0),
}
_agrees: dict = {}


def _probe_points(lo, hi, n):
    rng = np.random.default_rng(0)
    parts = [np.linspace(lo, hi, n // 4), rng.uniform(lo, hi, n // 2),
             np.clip(rng.standard_normal(n // 4), lo, hi)]
    if lo > 0 and hi / lo > 1e6:
        parts.append(np.geomspace(lo, hi, n // 4))
    return np.concatenate(parts)


def math_agrees(prim, y=None) -> bool:
    """Whether ``math``'s version of ``prim`` (``integer_pow`` with exponent
    ``y``) gives bit-for-bit the same float64 results as ``prim.impl`` on
    the probe set."""
    key = (prim, y)
    ok = _agrees.get(key)
    if ok is None:
        ok = _agrees[key] = _probe(prim, y)
    return ok


_PROBE_SIZE = 20000


def _probe(prim, y):
    name = prim.name
    lo, hi = _PROBE_DOMAINS[name]
    xs = _probe_points(lo, hi, _PROBE_SIZE)
    impl = prim.impl
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            if name == "integer_pow":
                xs = xs[xs != 0]
                fy = float(y)
                want = impl(xs, y=y)
                got = [math.pow(x, fy) for x in xs.tolist()]
                scalar = [impl(np.float64(x), y=y) for x in xs[:500]]
            elif name in _MATH_BINARY:
                fn = getattr(math, _MATH_BINARY[name])
                ys = _probe_points(0.5, 3.0, len(xs))[:len(xs)]
                xs = xs[:len(ys)]
                want = impl(xs, ys)
                got = [fn(x, y_) for x, y_ in zip(xs.tolist(), ys.tolist())]
                scalar = [impl(np.float64(x), np.float64(y_)) for x, y_ in zip(xs[:500], ys)]
            else:
                fn = getattr(math, _MATH_UNARY[name])
                want = impl(xs)
                got = [fn(x) for x in xs.tolist()]
                scalar = [impl(np.float64(x)) for x in xs[:500]]
    except (ValueError, OverflowError, ZeroDivisionError, TypeError):
        return False
    got = np.asarray(got, dtype=want.dtype)
    if want.dtype == _BOOL:
        return bool(np.array_equal(got, want)) and all(
            bool(a) == bool(b) for a, b in zip(scalar, want))
    # Bit for bit (signed zeros too); the 0-d calls agree with the array calls.
    return bool(np.array_equal(got.view(np.int64), want.view(np.int64))) and all(
        float(a) == float(b) for a, b in zip(scalar, want))


def _py_binop(ctx):
    a, b = ctx.ins
    return f"({a} {_PY_BINOPS[ctx.eqn.primitive.name]} {b})"


def _py_math(ctx):
    prim = ctx.eqn.primitive
    if not math_agrees(prim):
        return None
    if prim.name in _MATH_BINARY:
        return f"_m.{_MATH_BINARY[prim.name]}({ctx.ins[0]}, {ctx.ins[1]})"
    return f"_m.{_MATH_UNARY[prim.name]}({ctx.ins[0]})"


def _py_integer_pow(ctx):
    y = int(ctx.params["y"])
    (a,) = ctx.ins
    if y == 2:
        return f"({a} * {a})"  # the impl's multiply(x, x)
    if not math_agrees(ctx.eqn.primitive, y):
        return None
    return f"_m.pow({a}, {float(y)!r})"


def _py_select_n(ctx):
    if len(ctx.ins) != 3 or ctx.in_aval(0).dtype != _BOOL:
        return None
    p, c0, c1 = ctx.ins
    return f"({c1} if {p} else {c0})"


def _py_convert(ctx):
    src, dst = ctx.in_aval(0).dtype, ctx.out.dtype
    (a,) = ctx.ins
    if src == _F64 and dst == _BOOL:
        return f"({a} != 0.0)"
    if src == _BOOL and dst == _F64:
        return f"(1.0 if {a} else 0.0)"
    return None


SCALAR_EMITTERS: dict = {
    **{name: _py_binop for name in _PY_BINOPS},
    **{name: _py_math for name in list(_MATH_UNARY) + list(_MATH_BINARY)},
    "neg": lambda ctx: f"(-{ctx.ins[0]})",
    "not": lambda ctx: f"(not {ctx.ins[0]})",
    "integer_pow": _py_integer_pow,
    "select_n": _py_select_n,
    "convert_element_type": _py_convert,
}

#: Primitives that are the identity on values (their output is their input).
ALIASES = frozenset({"stop_gradient"})
_SCALAR_ALIASES = frozenset({"stop_gradient", "real", "conj"})

# ---------------------------------------------------------------------------
# The generator


def scalar_specialisable(closed: ClosedJaxpr) -> bool:
    """Whether every value of the program is a 0-d float64 or boolean (so the
    scalar form applies)."""
    jaxpr = closed.jaxpr
    if jaxpr.constvars:
        return False
    ok = (_F64, _BOOL)

    def good(aval):
        return aval.shape == () and aval.dtype in ok

    if not all(good(v.aval) for v in jaxpr.invars):
        return False
    for eqn in jaxpr.eqns:
        if eqn.primitive.multiple_results:
            return False
        if not good(eqn.outvars[0].aval):
            return False
        for x in eqn.invars:
            if not good(x.aval):
                return False
    return all(good(x.aval) for x in jaxpr.outvars)


#: An expression is inlined into its single use when that use comes within
#: this many equations, up to this nesting depth.
INLINE_WINDOW = 24
INLINE_DEPTH = 6


class _Pending:
    """An expression not yet written out: it will be inlined into its use."""

    __slots__ = ("text", "depth", "refs")

    def __init__(self, text, depth, refs):
        self.text = text
        self.depth = depth
        self.refs = refs  # the Vars whose local names the text reads


def _generate_source(closed, g, fn_name, scalar):
    jaxpr = closed.jaxpr
    emitters = SCALAR_EMITTERS if scalar else NUMPY_EMITTERS
    aliases = _SCALAR_ALIASES if scalar else ALIASES

    # Identity primitives are not emitted: their output reads their input.
    alias: dict = {}

    def resolve(x):
        return alias.get(x, x) if type(x) is Var else x

    if any(eqn.primitive.name in aliases for eqn in jaxpr.eqns):
        body_eqns = []
        for eqn in jaxpr.eqns:
            if eqn.primitive.name in aliases and len(eqn.invars) == 1:
                alias[eqn.outvars[0]] = resolve(eqn.invars[0])
            else:
                body_eqns.append((eqn, [resolve(x) for x in eqn.invars]))
        outvars = [resolve(x) for x in jaxpr.outvars]
    else:
        body_eqns = [(eqn, eqn.invars) for eqn in jaxpr.eqns]
        outvars = jaxpr.outvars

    # Uses and last uses, for inlining and for reusing names.
    n = len(body_eqns)
    last: dict = {}
    uses: dict = {}
    for i, (_, ins) in enumerate(body_eqns):
        for x in ins:
            if type(x) is Var:
                last[x] = i
                uses[x] = uses.get(x, 0) + 1
    for x in outvars:
        if type(x) is Var:
            last[x] = n
            uses[x] = uses.get(x, 0) + 2  # never inlined into the return

    implicit = set() if scalar else _implicit_broadcasts(body_eqns, outvars)

    consts = {v: g.const(c, "_c") for v, c in zip(jaxpr.constvars, closed.consts)}
    names: dict = {}  # Var -> its local name, while it is live
    free: list = []  # local names that can be reused
    held: dict = {}  # Var -> number of pending expressions reading its name
    pending: dict = {}  # Var -> _Pending
    counter = itertools.count()

    def new_name():
        return free.pop() if free else f"v{next(counter)}"

    def release(candidates, i):
        """Free the names of candidates that are dead after equation i and
        that no pending expression still reads.  Input names are not reused
        (the caller holds the inputs anyway, and the source reads better)."""
        for x in candidates:
            if last[x] <= i and x not in held:
                nm = names.pop(x, None)
                if nm is not None and nm[0] == "v":  # (x may appear twice)
                    free.append(nm)

    def lit_text(lit, plain_ok):
        p = _py_scalar(lit.val) if (scalar or plain_ok) else None
        if p is not None:
            return repr(p) if type(p) is bool else _num_repr(p)
        if scalar:
            return g.const(float(lit.val) if lit.aval.dtype == _F64 else bool(lit.val))
        return g.const(lit.val)

    params_in = [f"a{i}" for i in range(len(jaxpr.invars))]
    for v, nm in zip(jaxpr.invars, params_in):
        names[v] = nm
    body = []
    # Entry conversions: Python scalars to NumPy scalars (array form), or
    # everything to Python floats and bools (scalar form).
    for v, nm in zip(jaxpr.invars, params_in):
        if v not in last:
            continue
        if scalar:
            body.append(f"{nm} = {'float' if v.aval.dtype == _F64 else 'bool'}({nm})")
        elif v.aval.weak_type and v.aval.shape == ():
            body.append(f"{nm} = xp.{v.aval.dtype.name}({nm})")

    for i, (eqn, ins) in enumerate(body_eqns):
        prim = eqn.primitive
        texts = []
        has_lit = False
        direct = []  # Vars read by their local name
        consumed = []  # pending expressions inlined here
        for x in ins:
            if type(x) is Literal:
                texts.append(None)
                has_lit = True
                continue
            p = pending.pop(x, None)
            if p is not None:
                consumed.append(p)
                texts.append(p.text)
            elif x in consts:
                texts.append(consts[x])
            else:
                direct.append(x)
                texts.append(names[x])
        emitter = emitters.get(prim.name)
        if emitter is not None and not _impl_as_expected(prim):
            emitter = None
        expr = None
        if implicit and outs_0(eqn) in implicit:
            expr = _implicit_broadcast(eqn, ins, texts)
        elif emitter is not None:
            et = texts
            if has_lit:
                # A literal is a plain Python number only as an operand of an
                # operator or ufunc next to a Var of its dtype (the strict
                # primitives guarantee the dtype), where NumPy's weak
                # promotion gives it that dtype.
                plain_ok = prim.name in _LITERAL_SAFE and len(direct) + len(consumed) > 0
                et = [lit_text(x, plain_ok) if t is None else t for x, t in zip(ins, texts)]
            expr = emitter(_Ctx(eqn, et, ins, g))
        if expr is None:
            if has_lit:
                texts = [lit_text(x, False) if t is None else t for x, t in zip(ins, texts)]
            expr = _call_impl(eqn, texts, g, scalar)
        depth = 1
        if consumed:
            refs = list(direct)
            for p in consumed:
                refs.extend(p.refs)
                if p.depth >= depth:
                    depth = p.depth + 1
        else:
            refs = direct
        outs = eqn.outvars
        single = len(outs) == 1 and not prim.multiple_results
        if single and depth < INLINE_DEPTH:
            v = outs[0]
            if uses.get(v) == 1 and last[v] - i <= INLINE_WINDOW:
                for x in direct:
                    held[x] = held.get(x, 0) + 1
                pending[v] = _Pending(expr, depth, refs)
                continue
        # Written out now: the consumed expressions no longer hold their names.
        for p in consumed:
            for x in p.refs:
                c = held[x] - 1
                if c:
                    held[x] = c
                else:
                    del held[x]
        if refs:
            release(refs, i)
        if single:
            v = outs[0]
            if v not in last:
                continue  # dead (DCE did not run): nothing to compute
            nm = new_name()
            names[v] = nm
            body.append(f"{nm} = {expr}")
            continue
        targets = []
        for v in outs:
            if v in last:
                nm = new_name()
                names[v] = nm
                targets.append(nm)
            else:
                targets.append("_")
        body.append(f"{', '.join(targets)}{',' if len(targets) == 1 else ''} = {expr}")

    invars = set(jaxpr.invars)
    rets = []
    for x in outvars:
        if type(x) is Literal:
            t = lit_text(x, False)
        elif x in consts:
            t = consts[x]
            if x.aval.ndim:  # never hand out the cached constant itself
                t = f"xp.asarray({t}, copy=True)"
        else:
            t = names[x]
            if x in invars and x.aval.ndim and not scalar:
                t = f"xp.asarray({t}, copy=True)"
        rets.append(t)
    if scalar:
        # inf or nan out: None, and the caller runs the NumPy form, whose
        # values are the same and which also gives NumPy's warnings.
        checks = [f"({t} - {t})" for t, x in zip(rets, outvars) if x.aval.dtype == _F64]
        if checks:
            body.append(f"if {' + '.join(checks)} != 0.0:")
            body.append("    return None")
        rets = [f"xp.float64({t})" if x.aval.dtype == _F64 else f"xp.bool_({t})"
                for t, x in zip(rets, outvars)]
    body.append(f"return ({', '.join(rets)}{',' if len(rets) == 1 else ''})")
    return f"def {fn_name}({', '.join(params_in)}):\n" + "".join(
        f"    {line}\n" for line in body)


def outs_0(eqn):
    return eqn.outvars[0]


#: Elementwise primitives whose emitted form broadcasts its operands as NumPy
#: does, with the same value for every element.
_ELEMENTWISE = frozenset(set(_BINOPS) | set(_BINARY_XP) | {"div", "select_n"})


def _implicit_broadcasts(body_eqns, outvars):
    """The ``broadcast_in_dim`` outputs that need not be materialised.

    ``np.broadcast_to`` costs microseconds, while an elementwise operation
    broadcasts for free with the same result for every element.  A broadcast
    qualifies when every use is an elementwise operation with another operand
    that has the full shape and is itself materialised (checked in program
    order, so that of two broadcasts meeting in one operation one stays), and
    it is not an output of the program.
    """
    bcast = {}
    for k, (eqn, _) in enumerate(body_eqns):
        if eqn.primitive.name == "broadcast_in_dim":
            bcast[eqn.outvars[0]] = k
    if not bcast:
        return set()
    consumers: dict = {}
    for k, (_, ins) in enumerate(body_eqns):
        for x in ins:
            if x in bcast:
                consumers.setdefault(x, []).append(k)
    out_set = {x for x in outvars if type(x) is Var}
    implicit: set = set()
    for v in sorted(bcast, key=bcast.get):
        if v in out_set or v not in consumers:
            continue
        shape = v.aval.shape
        ok = True
        for k in consumers[v]:
            eqn, ins = body_eqns[k]
            if eqn.primitive.name not in _ELEMENTWISE or eqn.primitive.multiple_results \
                    or eqn.outvars[0].aval.shape != shape or not any(
                        y is not v and y.aval.shape == shape and y not in implicit
                        for y in ins):
                ok = False
                break
        if ok:
            implicit.add(v)
    return implicit


def _implicit_broadcast(eqn, ins, texts):
    """The operand of an implicit broadcast: reshaped to the output's rank (or
    as it is, when that is already its shape or it is 0-d)."""
    x = ins[0]
    shape = tuple(eqn.params["shape"])
    in_shape = [1] * len(shape)
    for i, d in enumerate(eqn.params["broadcast_dimensions"]):
        in_shape[d] = x.aval.shape[i]
    if tuple(in_shape) == x.aval.shape or x.aval.ndim == 0:
        return texts[0]
    return f"xp.reshape({texts[0]}, {_plain_repr(tuple(in_shape))})"


#: Primitives whose operands have one dtype (strict) and whose emitted form is
#: an operator or a ufunc: a literal may be written as a plain Python number
#: there, since NumPy's weak promotion gives it the other operand's dtype.
_LITERAL_SAFE = frozenset(set(_BINOPS) | set(_BINARY_XP) | {"div", "neg", "not"})


def _call_impl(eqn, texts, g, scalar):
    """Fallback: call the primitive's impl through a generated global name."""
    name = g.impl(eqn.primitive)
    args = list(texts)
    extra = {}
    for k, v in eqn.params.items():
        if type(k) is str and k.isidentifier() and not keyword.iskeyword(k):
            args.append(f"{k}={g.param(v)}")
        else:
            extra[k] = v
    if extra:
        args.append(f"**{g.const(extra)}")
    call = f"{name}({', '.join(args)})"
    if scalar:
        conv = "float" if eqn.outvars[0].aval.dtype == _F64 else "bool"
        return f"{conv}({call})"
    return call


_file_counter = itertools.count()


class Executable:
    """A compiled program: ``exe(*flat_args) -> list of flat outputs``.

    ``source`` is the Python source that runs (the scalar form when the
    program was specialised); ``numpy_source`` the array form.
    """

    def __init__(self, closed: ClosedJaxpr, xp=np, scalar: bool | None = None):
        self.closed = closed
        self.xp = xp
        if scalar is None:
            scalar = scalar_specialisable(closed)
        self.scalar = scalar
        self._np_fn = None
        self._numpy_source = None
        if scalar:
            self.source, self._fn = _compile(closed, xp, True)
            #: ``run(*flat_args) -> outputs``: the fastest way to call the program.
            self.run = self._run_scalar
        else:
            self._numpy_source, self._np_fn = _compile(closed, xp, False)
            self.source = self._numpy_source
            self._fn = self._np_fn
            self.run = self._np_fn

    @property
    def numpy_source(self):
        if self._numpy_source is None:
            self._numpy_source, self._np_fn = _compile(self.closed, self.xp, False)
        return self._numpy_source

    def run_numpy(self, *args):
        """Run the array form (generated on first use for a scalar program)."""
        if self._np_fn is None:
            self._numpy_source, self._np_fn = _compile(self.closed, self.xp, False)
        return self._np_fn(*args)

    def _run_scalar(self, *args):
        try:
            outs = self._fn(*args)
        except (ZeroDivisionError, ValueError, OverflowError):
            # Python's float arithmetic or math raised where NumPy returns
            # inf or nan (with a warning): the array form gives NumPy's answer.
            outs = None
        if outs is None:  # (also when an output is inf or nan)
            # The array form returns 0-d arrays; a result is the same type
            # (a NumPy scalar) whichever form computed it.
            return [o[()] if type(o) is np.ndarray else o for o in self.run_numpy(*args)]
        return outs

    def __call__(self, *args):
        return self.run(*args)


def _compile(closed, xp, scalar):
    g = _Globals(xp)
    fn_name = "fxad_jit_fn"
    src = _generate_source(closed, g, fn_name, scalar)
    filename = f"<fxad-jit-{next(_file_counter)}>"
    code = compile(src, filename, "exec")
    exec(code, g.ns)
    fn = g.ns[fn_name]
    # Tracebacks through generated code show its lines, while it lives.
    linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)
    weakref.finalize(fn, linecache.cache.pop, filename, None)
    return src, fn


def generate(closed: ClosedJaxpr, xp=np, scalar: bool | None = None) -> Executable:
    """Compile ``closed`` to Python calling the namespace ``xp``.

    ``scalar=None`` picks the scalar form when every value is a 0-d float64
    or boolean; ``False`` forces the array form.

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> from fxad.interpreters.codegen import generate
        >>> closed = fxad.make_jaxpr(lambda x: fnp.sin(x) * 2.0)(np.ones(3))
        >>> exe = generate(closed)
        >>> print(exe.source, end="")
        def fxad_jit_fn(a0):
            v0 = (xp.sin(a0) * 2.0)
            return (v0,)
        >>> exe(np.zeros(3))
        (array([0., 0., 0.]),)
    """
    return Executable(closed, xp, scalar)
