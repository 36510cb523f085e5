"""Code generation: a jaxpr becomes straight-line Python source that calls the
array library directly, one statement per equation and no interpreter loop.

The generated function reaches the array library through one global name,
``xp`` (``numpy`` by default; ``generate`` takes the namespace as a
parameter), and uses Array API names where NumPy 2 has them (``xp.asin``,
``xp.pow``, ``xp.permute_dims``, ``xp.concat``), so another namespace can be
plugged in without touching the generator.  Each primitive's block in
``fxad/lax`` registers its emitters here (``emitters``, ``scalar_emitters``,
keyed by the ``Primitive``; helpers ``def_ufunc``, ``def_operator``,
``def_emitter``, ...).  Primitives without an emitter call their own
``impl`` through a generated global name (``_impl_gather(v1, v2,
indexer=_k0)``); those impls are NumPy code.

Generation is a planning pass (``plan``: identities resolved, uses counted,
which values are inlined into their single use and which are named, names
reused once dead) and a printer (``print_plan``).  A value is inlined only
where its use's expression reads it once, so nothing is computed twice.

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

import collections
import itertools
import keyword
import linecache
import math
import re
import warnings

import numpy as np

from fxad.core import ClosedJaxpr, Literal, Var

__all__ = ["generate", "Executable", "scalar_specialisable", "math_agrees", "plan",
           "print_plan", "emitters", "scalar_emitters", "def_emitter", "def_ufunc",
           "def_binary_ufunc", "def_operator", "def_alias", "def_math"]

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
        self.ns = {"xp": xp, "_m": math,
                   "__builtins__": {"float": float, "bool": bool, "int": int, "range": range,
                                    "ZeroDivisionError": ZeroDivisionError,
                                    "ValueError": ValueError, "OverflowError": OverflowError}}
        self._by_id: dict = {}
        self._keep: list = []  # keep the objects alive so ids stay unique
        self._count = itertools.count()
        self._impl_names: dict = {}
        self._locals = itertools.count()

    def local(self):
        """A fresh local name for a statement emitter's temporaries (``_t0``,
        ...: never one of the planner's ``a``/``v`` names or a global)."""
        return f"_t{next(self._locals)}"

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
# Registries, keyed by the Primitive object and filled from each primitive's
# block in fxad/lax (codegen must not import lax).  An emitter gets the
# ``_Ctx`` of one equation and returns the source of an expression, or None
# to fall back to calling the impl.  The operands it sees are placeholders;
# the planner decides what each one becomes (a name, or an expression inlined
# into this single use), so an emitter may repeat an operand freely.

#: Primitive -> emitter of the array form.
emitters: dict = {}
#: Primitive -> emitter of the scalar form (Python floats and ``math``).
scalar_emitters: dict = {}
#: Primitive -> the NumPy function its emitters assume the impl is.  If the
#: impl changes, its equations fall back to calling the impl.
expected_impls: dict = {}
#: Primitive -> (``math`` function name, (lo, hi) probe domain, arity).
math_functions: dict = {}
#: Primitives that are the identity on values (their output is their input),
#: in the array form and in the scalar form.
aliases: set = set()
scalar_aliases: set = set()
#: Elementwise primitives whose emitted form broadcasts its operands as NumPy
#: does, with the same value for every element.
elementwise: set = set()
#: Primitives whose operands have one dtype (strict) and whose emitted form is
#: an operator or a ufunc: a literal may be written as a plain Python number
#: there, since NumPy's weak promotion gives it the other operand's dtype.
literal_safe: set = set()
#: Primitive -> ``rule(eqn) -> shape``: a broadcast whose operand, reshaped to
#: that shape (the output's rank), an elementwise use broadcasts implicitly.
implicit_broadcasts: dict = {}
#: Primitive -> statement emitter of the array form: ``emit(ctx) -> lines``, a
#: block of statements (loops, branches) that reads the operands
#: (``ctx.ins``) and assigns every output (``ctx.outs``); see
#: ``def_statement``.
statements: dict = {}


def def_emitter(prim, emit=None, *, scalar=None, impl=None, elementwise_op=False,
                literal_ok=False):
    """Register ``prim``'s array-form emitter ``emit``, scalar-form emitter
    ``scalar``, the NumPy function ``impl`` both assume its impl is, and its
    traits (``elementwise_op``: broadcasts like NumPy; ``literal_ok``: a
    literal operand may be a plain Python number)."""
    if emit is not None:
        emitters[prim] = emit
    if scalar is not None:
        scalar_emitters[prim] = scalar
    if impl is not None:
        expected_impls[prim] = impl
    if elementwise_op:
        elementwise.add(prim)
    if literal_ok:
        literal_safe.add(prim)


def def_statement(prim, emit):
    """Register ``prim``'s statement emitter: ``emit(ctx)`` returns a list of
    source lines (a block, indented relative to the first) that reads the
    operands ``ctx.ins`` and assigns each output ``ctx.outs[i]``; temporaries
    come from ``ctx.g.local()`` and objects (a loop body's compiled code)
    through ``ctx.g.const``.  The planner names every operand (nothing is
    inlined into a block: a loop would recompute it) and gives the outputs
    names distinct from the operands (a block may assign an output before it
    last reads an operand)."""
    statements[prim] = emit


def emit_run(ctx, exe, args, targets, indent="    "):
    """Lines calling the compiled program ``exe`` on ``args`` (source texts)
    and assigning its outputs to ``targets``, for a statement emitter's loop
    body: a scalar-form program is called in its raw form (Python floats in
    and out, see ``Executable.raw_form``; the emitter converts the loop's
    values around the loop) with its fallback to the array form written out
    (``Executable._run_scalar`` without the call of the wrapper): what
    matters once per loop step."""
    call_args = ", ".join(args)
    lhs = f"{', '.join(targets)}, = " if targets else ""
    if not exe.scalar:
        return [f"{indent}{lhs}{ctx.g.const(exe.run, '_run')}({call_args})"]
    fn, slow = ctx.g.const(exe.raw_form(), "_fast"), ctx.g.const(exe._run_scalar, "_slow")
    r = ctx.g.local()
    return [f"{indent}try:",
            f"{indent}    {r} = {fn}({call_args})",
            f"{indent}except (ZeroDivisionError, ValueError, OverflowError):",
            f"{indent}    {r} = None",
            f"{indent}if {r} is None:",
            f"{indent}    {r} = {slow}({call_args})",
            f"{indent}{lhs}{r}" if targets else f"{indent}{r}"]


def def_math(prim, name, probe, arity=1):
    """``math.<name>`` computes ``prim`` in the scalar form where it agrees
    with the impl bit for bit on probe points in ``probe = (lo, hi)``."""
    math_functions[prim] = (name, (float(probe[0]), float(probe[1])), arity)


def def_ufunc(prim, name, *, math=None, probe=None):
    """A unary primitive whose impl is the ufunc ``np.<name>``, emitted as
    ``xp.<name>(x)``; with ``math``, the scalar form uses ``math.<math>``."""

    def emit(ctx):
        return f"xp.{name}({ctx.ins[0]})"

    def_emitter(prim, emit, impl=getattr(np, name))
    if math is not None:
        def_math(prim, math, probe)
        scalar_emitters[prim] = _py_math


def def_binary_ufunc(prim, name, *, math=None, probe=None):
    """A binary elementwise primitive whose impl is ``np.<name>``."""

    def emit(ctx):
        a, b = ctx.ins
        return f"xp.{name}({a}, {b})"

    def_emitter(prim, emit, impl=getattr(np, name), elementwise_op=True, literal_ok=True)
    if math is not None:
        def_math(prim, math, probe, arity=2)
        scalar_emitters[prim] = _py_math


def def_operator(prim, op, ufunc):
    """A binary elementwise primitive whose impl is ``np.<ufunc>``, written as
    the Python operator ``op`` where that is exact (``_Ctx.operators_exact``)."""

    def emit(ctx):
        a, b = ctx.ins
        if ctx.operators_exact():
            return f"({a} {op} {b})"
        return f"xp.{ufunc}({a}, {b})"

    def emit_py(ctx):
        a, b = ctx.ins
        return f"({a} {op} {b})"

    def_emitter(prim, emit, scalar=emit_py, impl=getattr(np, ufunc), elementwise_op=True,
                literal_ok=True)


def def_alias(prim, *, array=True):
    """``prim`` is the identity on the values of the scalar form (and of the
    array form, with ``array``): its output reads its input."""
    scalar_aliases.add(prim)
    if array:
        aliases.add(prim)


_impl_checked: dict = {}


def _impl_as_expected(prim) -> bool:
    ok = _impl_checked.get(prim)
    if ok is None:
        want = expected_impls.get(prim)
        ok = _impl_checked[prim] = want is None or prim.impl is want
    return ok


def stale_emitters() -> list:
    """The primitives whose impl is no longer the NumPy function their
    emitters assume (their equations call the impl instead)."""
    return [p for p in expected_impls if p.impl is not expected_impls[p]]


class _Ctx:
    """What an emitter sees: the equation, its operands as source text
    (placeholders for Vars, literal text for literals), and the globals."""

    __slots__ = ("eqn", "ins", "atoms", "g", "outs")

    def __init__(self, eqn, ins, atoms, g, outs=None):
        self.eqn = eqn
        self.ins = ins
        self.atoms = atoms
        self.g = g
        self.outs = outs  # (statement emitters) a hole per output

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


# -- emitters that a single primitive's block registers -------------------------


def emit_neg(ctx):
    if ctx.operators_exact():
        return f"(-{ctx.ins[0]})"
    return f"xp.negative({ctx.ins[0]})"


def emit_py_neg(ctx):
    return f"(-{ctx.ins[0]})"


def emit_not(ctx):
    if ctx.operators_exact():
        return f"(~{ctx.ins[0]})"
    return f"xp.bitwise_invert({ctx.ins[0]})"


def emit_py_not(ctx):
    return f"(not {ctx.ins[0]})"


def emit_div(ctx):
    a, b = ctx.ins
    kind = ctx.in_aval(0).dtype.kind
    if kind in "iu":
        return f"xp.floor_divide({a}, {b})"
    if kind == "f" and ctx.operators_exact():
        return f"({a} / {b})"
    if kind in "fc":
        return f"xp.divide({a}, {b})"
    return None


def emit_py_div(ctx):
    a, b = ctx.ins
    return f"({a} / {b})"


def emit_integer_pow(ctx):
    y = ctx.params["y"]
    (a,) = ctx.ins
    if y == 2:
        return f"({a} * {a})" if ctx.operators_exact() else f"xp.multiply({a}, {a})"
    if y < 0 and ctx.in_aval(0).dtype.kind in "iu":
        return None
    return f"xp.pow({a}, {int(y)})"


def emit_py_integer_pow(ctx):
    y = int(ctx.params["y"])
    (a,) = ctx.ins
    if y == 2:
        return f"({a} * {a})"  # the impl's multiply(x, x)
    if not math_agrees(ctx.eqn.primitive, y):
        return None
    return f"_m.pow({a}, {float(y)!r})"


def emit_select_n(ctx):
    if len(ctx.ins) != 3:
        return None
    p, c0, c1 = ctx.ins
    return f"xp.where({p}, {c1}, {c0})"


def emit_py_select_n(ctx):
    if len(ctx.ins) != 3 or ctx.in_aval(0).dtype != _BOOL:
        return None
    p, c0, c1 = ctx.ins
    return f"({c1} if {p} else {c0})"


def emit_py_convert(ctx):
    src, dst = ctx.in_aval(0).dtype, ctx.out.dtype
    (a,) = ctx.ins
    if src == _F64 and dst == _BOOL:
        return f"({a} != 0.0)"
    if src == _BOOL and dst == _F64:
        return f"(1.0 if {a} else 0.0)"
    return None


def reduction_emitter(fn, dtype_arg):
    """``xp.<fn>(x, axis=axes)`` (with the output dtype, with ``dtype_arg``)."""

    def emit(ctx):
        axes = ctx.params["axes"]
        x = ctx.atoms[0]
        if fn in ("max", "min") and x.aval.size == 0:
            return None  # the impl supplies the identity of an empty reduction
        dt = f", dtype={ctx.g.const(ctx.out.dtype)}" if dtype_arg else ""
        return f"xp.{fn}({ctx.ins[0]}, axis={_plain_repr(tuple(axes))}{dt})"

    return emit


def broadcast_in_dim_operand_shape(eqn):
    """The operand of a ``broadcast_in_dim`` reshaped to the output's rank."""
    shape = eqn.params["shape"]
    in_shape = [1] * len(shape)
    for i, d in enumerate(eqn.params["broadcast_dimensions"]):
        in_shape[d] = eqn.invars[0].aval.shape[i]
    return tuple(in_shape)


def emit_broadcast_in_dim(ctx):
    shape = tuple(ctx.params["shape"])
    in_shape = broadcast_in_dim_operand_shape(ctx.eqn)
    a = ctx.ins[0]
    if in_shape != ctx.in_aval(0).shape:
        a = f"xp.reshape({a}, {_plain_repr(in_shape)})"
    return f"xp.broadcast_to({a}, {_plain_repr(shape)})"


def emit_reshape(ctx):
    if ctx.params.get("dimensions") is not None:
        return None
    return f"xp.reshape({ctx.ins[0]}, {_plain_repr(tuple(ctx.params['new_sizes']))})"


def emit_transpose(ctx):
    return f"xp.permute_dims({ctx.ins[0]}, {_plain_repr(tuple(ctx.params['permutation']))})"


def axis_emitter(fn):
    """``xp.<fn>(x, axis=dimensions)``."""

    def emit(ctx):
        return f"xp.{fn}({ctx.ins[0]}, axis={_plain_repr(tuple(ctx.params['dimensions']))})"

    return emit


def emit_concatenate(ctx):
    return f"xp.concat(({', '.join(ctx.ins)},), axis={int(ctx.params['dimension'])})"


def emit_slice(ctx):
    p = ctx.params
    strides = p["strides"] or (1,) * len(p["start_indices"])
    parts = []
    for a, b, s in zip(p["start_indices"], p["limit_indices"], strides):
        parts.append(f"{int(a)}:{int(b)}" + (f":{int(s)}" if s != 1 else ""))
    if type(ctx.atoms[0]) is not Var or not parts:
        return None
    return f"{ctx.ins[0]}[{', '.join(parts)}{',' if len(parts) == 1 else ''}]"


def emit_gather(ctx):
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


def emit_dot_general(ctx):
    (lc, rc), (lb, rb) = ctx.params["dimension_numbers"]
    if lb or rb:
        return None
    xn, yn = ctx.in_aval(0).ndim, ctx.in_aval(1).ndim
    a, b = ctx.ins
    # The same choice as the impl makes, taken now since the ranks are known.
    if 1 <= xn <= 2 and 1 <= yn <= 2 and tuple(lc) == (xn - 1,) and tuple(rc) == (0,):
        return f"xp.dot({a}, {b})"
    if xn == 2 and yn == 2 and len(lc) == 1:  # two matrices: np.dot of transposed views
        # (an operand may be an inlined expression: parenthesised before .T)
        a = f"({a}).T" if lc[0] == 0 else a
        b = f"({b}).T" if rc[0] == 1 else b
        return f"xp.dot({a}, {b})"
    return f"xp.tensordot({a}, {b}, axes=({_plain_repr(tuple(lc))}, {_plain_repr(tuple(rc))}))"


# -- scalar form: where the math module and NumPy agree --------------------------
#
# Python's float arithmetic and comparisons are the same IEEE operations as
# NumPy's.  The math functions come from the C library, NumPy's from the C
# library or its own SIMD code, which may differ in the last bit; so each math
# function is compared with the primitive's impl on a fixed probe set (a few
# milliseconds, once per process) and used only where every result agrees bit
# for bit.  Elsewhere the scalar form calls the impl for that equation, so it
# stays exact.

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
    entry = math_functions.get(prim)
    if entry is None:
        return False
    name, (lo, hi), arity = entry
    fn = getattr(math, name)
    xs = _probe_points(lo, hi, _PROBE_SIZE)
    impl = prim.impl
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            if y is not None:  # an exponent parameter: integer_pow
                xs = xs[xs != 0]
                fy = float(y)
                want = impl(xs, y=y)
                got = [fn(x, fy) for x in xs.tolist()]
                scalar = [impl(np.float64(x), y=y) for x in xs[:500]]
            elif arity == 2:
                ys = _probe_points(0.5, 3.0, len(xs))[:len(xs)]
                # Signed zeros first, with the exponents NumPy special-cases
                # for a 0-d operand (power(-0.0, 0.5) is its sqrt's -0.0;
                # math.pow's is 0.0).
                edge = [-0.0, 0.0, -0.0, 0.0, -0.0, 0.0]
                xs = np.concatenate([edge, xs[:len(ys) - len(edge)]])
                ys = np.concatenate([[0.5, 0.5, 2.0, 2.0, 3.0, 3.0], ys[len(edge):]])
                want = impl(xs, ys)
                got = [fn(x, y_) for x, y_ in zip(xs.tolist(), ys.tolist())]
                scalar = [impl(np.float64(x), np.float64(y_)) for x, y_ in zip(xs[:500], ys)]
            else:
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
    # The 0-d calls are compared with math's results bit for bit too.
    scalar = np.asarray([float(a) for a in scalar], dtype=np.float64)
    return bool(np.array_equal(got.view(np.int64), want.view(np.int64))) and bool(
        np.array_equal(scalar.view(np.int64), got[:len(scalar)].view(np.int64)))


def _py_math(ctx):
    prim = ctx.eqn.primitive
    if not math_agrees(prim):
        return None
    name, _, arity = math_functions[prim]
    return f"_m.{name}({', '.join(ctx.ins[:arity])})"


# ---------------------------------------------------------------------------
# The generator: a planning pass, then a printer


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

# An emitter sees each Var operand as a hole; the printer fills it in.  NUL
# never occurs in generated source otherwise.
_HOLE = "\x00{}\x00"


class Plan:
    """What the printer prints, decided by ``plan``.

    * ``eqns``: ``(eqn, operands)`` pairs, identities resolved and
      equations with no used output dropped; ``templates[k]`` the expression
      of equation ``k`` with a hole per Var operand.
    * ``inlined``: Var -> index of the equation whose expression is written
      into the single use of that Var (the hole appears once there).
    * ``steps``: the equations written as statements, in order, each with
      its assignment targets (``"_"`` for a dead output).
    * ``names``: Var -> local or global name (inputs, constants, statement
      results; a name is reused once its Var is dead).
    * ``entry``: conversion statements on entry; ``returns``: the returned
      expressions; ``finite_checks``: (scalar form) outputs checked for inf/nan.
    """

    __slots__ = ("params", "entry", "eqns", "templates", "inlined", "steps", "names",
                 "returns", "finite_checks", "scalar")


def _implicit_broadcasts(eqns, outvars):
    """Var -> operand shape, for the broadcasts that need not be materialised.

    ``np.broadcast_to`` costs microseconds, while an elementwise operation
    broadcasts for free with the same result for every element.  A broadcast
    qualifies when it is not an output of the program and every use is an
    elementwise operation with an operand that has the full shape as written:
    the broadcast itself (when it only reshapes), or another operand that is
    not an implicit broadcast of a smaller shape (checked in program order,
    so that of two broadcasts meeting in one operation one stays).
    """
    bcast = {}
    for k, (eqn, _) in enumerate(eqns):
        rule = implicit_broadcasts.get(eqn.primitive)
        if rule is not None:
            bcast[eqn.outvars[0]] = (k, rule(eqn))
    if not bcast:
        return {}
    consumers: dict = {}
    for k, (_, ins) in enumerate(eqns):
        for x in ins:
            if x in bcast:
                consumers.setdefault(x, []).append(k)
    out_set = {x for x in outvars if type(x) is Var}
    implicit: dict = {}
    written: dict = {}  # implicit broadcast -> the shape it has as written

    def full(y, shape):
        return written.get(y, y.aval.shape) == shape

    for v in sorted(bcast, key=lambda v: bcast[v][0]):
        if v in out_set or v not in consumers:
            continue
        shape = v.aval.shape
        k0, in_shape = bcast[v]
        operand = eqns[k0][1][0]
        mine = () if operand.aval.ndim == 0 else in_shape
        ok = True
        for k in consumers[v]:
            eqn, ins = eqns[k]
            if eqn.primitive not in elementwise or eqn.primitive.multiple_results \
                    or eqn.outvars[0].aval.shape != shape or not (mine == shape or any(
                        y is not v and full(y, shape) for y in ins)):
                ok = False
                break
        if ok:
            implicit[v] = in_shape
            written[v] = mine
    return implicit


def _hole(j):
    while j >= len(_HOLES):
        _HOLES.append(_HOLE.format(len(_HOLES)))
    return _HOLES[j]


_HOLES: list = [_HOLE.format(j) for j in range(16)]
# A statement emitter's outputs: holes of their own, filled with target names.
_OUT_HOLE = "\x00o{}\x00"


def plan(closed: ClosedJaxpr, g, scalar: bool, raw: bool = False) -> Plan:
    """Decide what to write: identities and implicit broadcasts resolved,
    uses counted, which Vars are inlined into their single use and which are
    named, and the names (reused once dead)."""
    jaxpr = closed.jaxpr
    table = scalar_emitters if scalar else emitters
    identities = scalar_aliases if scalar else aliases
    alias: dict = {}

    def resolve(x):
        return alias.get(x, x) if type(x) is Var else x

    if any(eqn.primitive in identities for eqn in jaxpr.eqns):
        eqns = []
        for eqn in jaxpr.eqns:
            ins = [resolve(x) for x in eqn.invars]
            if eqn.primitive in identities and len(ins) == 1 and len(eqn.outvars) == 1:
                alias[eqn.outvars[0]] = ins[0]
            else:
                eqns.append((eqn, ins))
        outvars = [resolve(x) for x in jaxpr.outvars]
    else:
        eqns = [(eqn, eqn.invars) for eqn in jaxpr.eqns]
        outvars = jaxpr.outvars

    implicit = {} if scalar else _implicit_broadcasts(eqns, outvars)
    if implicit:
        # An implicit broadcast whose operand needs no reshape is its operand.
        kept = []
        for eqn, ins in eqns:
            ins = [resolve(x) for x in ins]
            v = eqn.outvars[0]
            shape = implicit.get(v)
            if shape is not None and (type(ins[0]) is Literal or ins[0].aval.ndim == 0
                                      or shape == ins[0].aval.shape):
                alias[v] = ins[0]
                del implicit[v]
            else:
                kept.append((eqn, ins))
        eqns = kept
        outvars = [resolve(x) for x in outvars]

    # Uses (an equation none of whose outputs is used is not written: DCE may
    # not have run).
    out_set = {x for x in outvars if type(x) is Var}
    uses: dict = dict.fromkeys(out_set, 0)
    for _, ins in eqns:
        for x in ins:
            if type(x) is Var:
                uses[x] = uses.get(x, 0) + 1

    consts = {v: g.const(c, "_c") for v, c in zip(jaxpr.constvars, closed.consts)}

    def lit_text(lit, plain_ok):
        p = _py_scalar(lit.val) if (scalar or plain_ok) else None
        if p is not None:
            return repr(p) if type(p) is bool else _num_repr(p)
        if scalar:
            return g.const(float(lit.val) if lit.aval.dtype == _F64 else bool(lit.val))
        return g.const(lit.val)

    # One forward sweep: each equation's template (its emitter's expression,
    # a hole per Var operand), then whether each operand is inlined: it has
    # exactly one use, this one, whose template reads it once (an emitter
    # that repeats an operand, ``a * a``, gets a name for it), nearby and
    # not too deep.
    kept = []
    templates = []
    depth = []
    reads = []  # the Vars each template reads by name, through inlined ones
    producer: dict = {}  # Var -> index in kept of its single-output equation
    inlined: dict = {}
    for eqn, ins in eqns:
        outs = eqn.outvars
        v = outs[0]
        if v not in uses and (len(outs) == 1 or not any(o in uses for o in outs)):
            continue
        prim = eqn.primitive
        if not scalar and prim in implicit_broadcasts and type(ins[0]) is Literal \
                and v not in implicit:
            # Any other broadcast of a literal is a constant: a view of the
            # scalar (no memory, nothing to do per call), read-only as the
            # impl's is.
            xp = g.ns["xp"]
            consts[v] = g.const(xp.broadcast_to(xp.asarray(ins[0].val), v.aval.shape), "_c")
            continue
        n = len(ins)
        if n > len(_HOLES):
            _hole(n)
        has_lit = False
        for x in ins:
            if type(x) is not Var:
                has_lit = True
                break
        holes = [_HOLES[j] if type(x) is Var else None for j, x in enumerate(ins)] if has_lit \
            else _HOLES[:n]
        block = None if scalar else statements.get(prim)
        if block is not None:
            texts = holes
            if has_lit:
                texts = [lit_text(x, False) if h is None else h for x, h in zip(ins, holes)]
            outs_holes = [_OUT_HOLE.format(i) for i in range(len(outs))]
            expr = "\n".join(block(_Ctx(eqn, texts, ins, g, outs_holes)))
        elif v in implicit:
            expr = f"xp.reshape({holes[0]}, {_plain_repr(implicit[v])})"
        else:
            emitter = table.get(prim)
            if emitter is not None and _impl_checked.get(prim) is not True and \
                    not _impl_as_expected(prim):
                emitter = None
            expr = None
            if emitter is not None:
                texts = holes
                if has_lit:
                    # A literal is a plain Python number only as an operand of
                    # an operator or ufunc next to a Var of its dtype (the
                    # strict primitives guarantee the dtype), where NumPy's
                    # weak promotion gives it that dtype.
                    plain_ok = prim in literal_safe and any(
                        type(x) is Var and x not in consts for x in ins)
                    texts = [lit_text(x, plain_ok) if h is None else h
                             for x, h in zip(ins, holes)]
                expr = emitter(_Ctx(eqn, texts, ins, g))
            if expr is None:
                if has_lit:
                    holes = [lit_text(x, False) if h is None else h for x, h in zip(ins, holes)]
                expr = _call_impl(eqn, holes, g, scalar)
        k = len(kept)
        r = []
        d = 1
        for j, x in enumerate(ins):
            if type(x) is not Var:
                continue
            p = producer.get(x)
            if p is None:
                if x not in consts:
                    r.append(x)
            elif uses[x] == 1 and k - p <= INLINE_WINDOW and block is None and \
                    depth[p] < INLINE_DEPTH and expr.count(_HOLES[j]) == 1:
                inlined[x] = p
                r.extend(reads[p])
                if depth[p] >= d:
                    d = depth[p] + 1
            else:
                r.append(x)
        kept.append((eqn, ins))
        templates.append(expr)
        depth.append(d)
        reads.append(r)
        if len(outs) == 1 and not prim.multiple_results and v not in out_set:
            producer[v] = k
    eqns = kept

    # Statements and names.  Input names are not reused (the caller holds the
    # inputs anyway, and the source reads better).
    steps = [k for k, (eqn, _) in enumerate(eqns) if eqn.outvars[0] not in inlined]
    last_read: dict = {}
    for s, k in enumerate(steps):
        for x in reads[k]:
            last_read[x] = s
    names: dict = {v: f"a{i}" for i, v in enumerate(jaxpr.invars)}
    names.update(consts)
    free: list = []
    counter = itertools.count()
    planned = []
    for s, k in enumerate(steps):
        eqn = eqns[k][0]
        is_block = not scalar and eqn.primitive in statements
        released = []
        for x in reads[k]:
            if last_read.get(x) == s and x not in out_set:
                del last_read[x]  # (x may be read twice here)
                nm = names[x]
                if nm[0] == "v":
                    released.append(nm)
        if not is_block:  # a block's outputs must not take its operands' names
            free.extend(released)
        targets = []
        for v in eqn.outvars:
            if v in uses:
                nm = free.pop() if free else f"v{next(counter)}"
                names[v] = nm
                targets.append(nm)
            else:
                targets.append("_" if not is_block else g.local())
        if is_block:
            free.extend(released)
        planned.append((k, targets))

    p = Plan()
    p.scalar = scalar
    p.params = [f"a{i}" for i in range(len(jaxpr.invars))]
    # Entry conversions: Python scalars to NumPy scalars (array form), or
    # everything to Python floats and bools (scalar form).
    p.entry = []
    for v, nm in zip(jaxpr.invars, p.params):
        if v not in uses or raw:
            continue
        if scalar:
            p.entry.append(f"{nm} = {'float' if v.aval.dtype == _F64 else 'bool'}({nm})")
        elif v.aval.weak_type and v.aval.shape == ():
            p.entry.append(f"{nm} = xp.{v.aval.dtype.name}({nm})")
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
    p.finite_checks = []
    if scalar:
        p.finite_checks = [t for t, x in zip(rets, outvars) if x.aval.dtype == _F64]
        if not raw:
            rets = [f"xp.float64({t})" if x.aval.dtype == _F64 else f"xp.bool_({t})"
                    for t, x in zip(rets, outvars)]
    p.returns = rets
    p.eqns = eqns
    p.templates = templates
    p.inlined = inlined
    p.steps = planned
    p.names = names
    return p


def print_plan(p: Plan, fn_name: str) -> str:
    """The source of the planned function: fill each statement's holes with
    names or with the inlined expressions."""
    eqns, templates, inlined, names = p.eqns, p.templates, p.inlined, p.names

    def text(k):
        t = templates[k]
        for j, x in enumerate(eqns[k][1]):
            if type(x) is Var:
                i = inlined.get(x)
                # (a filled-in text has no holes left, so the order is free)
                t = t.replace(_HOLES[j], names[x] if i is None else text(i))
        return t

    body = list(p.entry)
    for k, targets in p.steps:
        if not p.scalar and eqns[k][0].primitive in statements:
            t = text(k)
            for i, nm in enumerate(targets):
                t = t.replace(_OUT_HOLE.format(i), nm)
            body.extend(t.split("\n"))
            continue
        lhs = targets[0] if len(targets) == 1 and not eqns[k][0].primitive.multiple_results \
            else ", ".join(targets) + ("," if len(targets) == 1 else "")
        body.append(f"{lhs} = {text(k)}")
    if p.finite_checks:
        # inf or nan out: None, and the caller runs the NumPy form, whose
        # values are the same and which also gives NumPy's warnings.
        body.append(f"if {' + '.join(f'({t} - {t})' for t in p.finite_checks)} != 0.0:")
        body.append("    return None")
    rets = p.returns
    body.append(f"return ({', '.join(rets)}{',' if len(rets) == 1 else ''})")
    return f"def {fn_name}({', '.join(p.params)}):\n" + "".join(
        f"    {line}\n" for line in body)


def _generate_source(closed, g, fn_name, scalar, raw=False):
    src = print_plan(plan(closed, g, scalar, raw), fn_name)
    if "\x00" in src:  # a hole the printer did not fill: a bug in the planner
        raise AssertionError(f"codegen left an operand placeholder in:\n{src!r}")
    return src


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
        self._raw_fn = None
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

    def raw_form(self):
        """(Scalar programs) the scalar form without its entry conversions and
        with Python floats and bools out: what a loop step calls, its carries
        kept as Python values from step to step (``emit_run``).  It returns
        None where the scalar form would fall back to the array form."""
        fn = self._raw_fn
        if fn is None:
            _, fn = self._raw_fn = _compile(self.closed, self.xp, True, raw=True)
        else:
            fn = fn[1]
        return fn

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


def _compile(closed, xp, scalar, raw=False):
    g = _Globals(xp)
    fn_name = "fxad_jit_fn"
    src = _generate_source(closed, g, fn_name, scalar, raw)
    filename = f"<fxad-jit-{next(_file_counter)}>"
    code = compile(src, filename, "exec")
    exec(code, g.ns)
    fn = g.ns[fn_name]
    # Tracebacks through generated code show its lines: the last
    # _LINECACHE_KEPT sources stay in linecache.  (Not removed when the
    # function dies: a finalizer run by the garbage collector inside
    # linecache.checkcache's loop over the cache made it raise KeyError.)
    linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)
    _linecache_names.append(filename)
    if len(_linecache_names) > _LINECACHE_KEPT:
        linecache.cache.pop(_linecache_names.popleft(), None)
    return src, fn


_LINECACHE_KEPT = 512
_linecache_names: collections.deque = collections.deque()


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
