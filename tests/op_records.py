"""One record per primitive: the table that drives the per-primitive suites.

``tests/test_lax.py`` (values, jaxprs, abstract eval), ``tests/test_lax_autodiff.py``
(derivatives, linearity, transposes) and ``tests/test_completeness.py`` (every
registered primitive has a record) all read ``RECORDS``, as JAX's lax_test and
lax_autodiff_test share their op records.

A record names the primitive (a key of ``fxad.core.primitives``), the
``fxad.lax`` function that binds it, a NumPy reference, and its cases.  A case
gives the arguments (shape, dtype and domain of each, or a fixed array), the
static params (keyword arguments of both the lax function and the
reference), and may override how the record differentiates.  Adding a
primitive means adding one record here; the completeness test says when one
is missing.

How a case differentiates (``diff``):

* ``"smooth"``: differentiable in its floating-point arguments; derivatives are
  checked up to ``order`` against finite differences.  Domains keep the
  random values (and the finite-difference stencil around them) away from
  poles, branch cuts and kinks.
* ``"zero"``: has floating-point inputs but a derivative that is identically
  zero (``floor``, comparisons, ``argmax``, ``stop_gradient``, a conversion to
  an integer dtype).
* ``"none"``: no floating-point input at all (booleans and integers), so there
  is nothing to differentiate; checked only to pass through the transforms.
* ``"kink"``: values at a point where the derivative follows a convention
  (``max`` at ties); the convention has its own test, and forward and reverse
  mode must still agree there.
* ``"values"``: values only (an empty ``reduce_max`` is ``-inf``).

``linear``: groups of argument positions in which the lax function is linear
when the other arguments are held fixed (``mul`` is linear in each operand
separately, ``add`` in both jointly); ``ALL`` stands for all the
floating-point arguments of the case (``select_n``'s cases, ``concatenate``'s
operands, whatever their number).  Every record of a primitive in
``fxad.interpreters.ad.linear_primitives`` has at least one group, and the
autodiff suite checks the transpose of each group by the inner-product
identity.
"""

from __future__ import annotations

import pathlib as _pathlib
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from fxad import lax
from fxad.interpreters import ad

#: In ``linear``: all the floating-point arguments of a case, jointly.
ALL = "all"

F64 = np.dtype(np.float64)
F32 = np.dtype(np.float32)
I64 = np.dtype(np.int64)
I32 = np.dtype(np.int32)
C128 = np.dtype(np.complex128)
BOOL = np.dtype(bool)

# ---------------------------------------------------------------------------
# Domains: where random argument values are drawn


def _distinct(rng, shape):
    """Values at least 0.2 apart (no ties): for max/min/argmax and friends."""
    n = int(np.prod(shape, dtype=np.int64))
    v = rng.permutation(n) * 0.3 + rng.uniform(-0.05, 0.05, n) - 0.15 * n
    return v.reshape(shape)


def _away_from_half_integers(rng, shape):
    """Away from integers and half-integers (the jumps of floor/ceil/round/trunc)."""
    k = rng.integers(-3, 3, shape)
    return k + rng.choice([0.2, 0.3, 0.7, 0.8], shape) + rng.uniform(-0.05, 0.05, shape)


def _with_nonfinite(rng, shape):
    v = rng.standard_normal(shape)
    flat = v.reshape(-1)
    for i, special in zip(range(flat.size), (np.inf, np.nan, -np.inf)):
        flat[i] = special
    return v


DOMAINS: dict[str, Callable] = {
    "normal": lambda rng, shape: rng.standard_normal(shape),
    "positive": lambda rng, shape: rng.uniform(0.5, 2.0, shape),
    "unit": lambda rng, shape: rng.uniform(-0.9, 0.9, shape),
    "gt1": lambda rng, shape: rng.uniform(1.2, 3.0, shape),
    "nonzero": lambda rng, shape: rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 2.0, shape),
    "log1p": lambda rng, shape: rng.uniform(-0.5, 2.0, shape),
    "tan": lambda rng, shape: rng.uniform(-1.2, 1.2, shape),
    "distinct": _distinct,
    "noninteger": _away_from_half_integers,
    "ties": lambda rng, shape: rng.integers(-2, 3, shape).astype(float),  # many ties
    "nonfinite": _with_nonfinite,
    "small_int": lambda rng, shape: rng.integers(-4, 5, shape),
    "nonzero_int": lambda rng, shape: rng.choice([-3, -2, -1, 1, 2, 3], shape),
    "unit_int": lambda rng, shape: rng.choice([-1, 1, 2, -3], shape),
    "bool": lambda rng, shape: rng.random(shape) < 0.5,
}

#: Interval of each domain that is an interval (for hypothesis-drawn values).
INTERVALS = {
    "normal": (-3.0, 3.0),
    "positive": (0.5, 2.0),
    "unit": (-0.9, 0.9),
    "gt1": (1.2, 3.0),
    "log1p": (-0.5, 2.0),
    "tan": (-1.2, 1.2),
}


@dataclass(frozen=True)
class Arg:
    """One argument: shape, dtype and domain of its random values."""

    shape: tuple
    domain: str = "normal"
    dtype: np.dtype = F64

    def sample(self, rng):
        v = np.asarray(DOMAINS[self.domain](rng, self.shape))
        if self.dtype.kind == "c" and v.dtype.kind != "c":
            v = v + 1j * np.asarray(DOMAINS[self.domain](rng, self.shape))
        return np.asarray(v).astype(self.dtype)

    def __str__(self):
        return f"{self.dtype.name}{list(self.shape)}".replace(" ", "")


@dataclass(frozen=True)
class Fixed:
    """A fixed argument (index arrays, predicates chosen to exercise repeats)."""

    value: np.ndarray

    def sample(self, rng):
        return np.array(self.value)

    def __str__(self):
        return f"fixed{list(np.shape(self.value))}".replace(" ", "")


@dataclass(frozen=True)
class Case:
    args: tuple
    params: dict = field(default_factory=dict)
    #: ``rng -> list of arguments`` drawing them jointly (e.g. keeping
    #: ``max(x, y)`` away from ties); ``args`` then only documents shapes.
    make: Callable | None = None
    diff: str | None = None  # overrides the record's
    linear: tuple | None = None  # overrides the record's
    name: str = ""

    def sample(self, rng):
        if self.make is not None:
            return [np.asarray(a) for a in self.make(rng)]
        return [a.sample(rng) for a in self.args]

    def label(self):
        if self.name:
            return self.name
        s = ",".join(str(a) for a in self.args)
        if self.params:
            s += "|" + ",".join(f"{k}={_short(v)}" for k, v in sorted(self.params.items()))
        return s


def _short(v):
    if isinstance(v, np.dtype):
        return v.name
    return str(v).replace(" ", "")


def C(*args, make=None, diff=None, linear=None, name="", **params):
    """A case; ``args`` are ``Arg``, ``Fixed``, NumPy arrays (fixed) or shapes."""
    specs = []
    for a in args:
        if isinstance(a, (Arg, Fixed)):
            specs.append(a)
        elif isinstance(a, np.ndarray):
            specs.append(Fixed(a))
        else:
            specs.append(Arg(tuple(a)))
    return Case(tuple(specs), params, make, diff, linear, name)


@dataclass(frozen=True)
class OpRecord:
    name: str  # the primitive's name in fxad.core.primitives
    fun: Callable  # fun(*args, **params), calling fxad.lax
    ref: Callable  # ref(*args, **params), NumPy
    cases: tuple
    diff: str = "smooth"  # "smooth" | "zero" | "none" | "kink" | "values" (module doc)
    order: int = 2  # highest derivative order checked for "smooth" cases
    linear: tuple = ()  # groups of argnums in which fun is linear
    tol: float | None = None  # check_grads atol/rtol when the default is too tight
    # The autodiff modes the primitive supports: custom_vjp's are ("rev",), since
    # forward mode through it is an error (as in JAX); the suites check only these.
    modes: tuple = ("fwd", "rev")
    # Where the primitive shows up: "make_jaxpr" of ``fun``, or "linearize" for
    # one that only reverse mode stages (custom_lin, the linear map of a custom_vjp).
    staged_in: str = "make_jaxpr"

    def case_diff(self, case):
        diff = case.diff or self.diff
        if diff in ("smooth", "zero", "kink") and not case_has_float_arg(case):
            return "none"  # integer or boolean arguments only
        return diff

    def case_linear(self, case):
        return self.linear if case.linear is None else case.linear


def case_has_float_arg(case):
    for a in case.args:
        dt = a.dtype if isinstance(a, Arg) else np.asarray(a.value).dtype
        if dt.kind in "fc":
            return True
    return False


def rng_for(*labels) -> np.random.Generator:
    """A generator seeded by a stable hash of the labels (test ids)."""
    return np.random.default_rng(zlib.crc32("/".join(map(str, labels)).encode()))


def diff_argnums(args):
    """Positions of the floating-point (differentiable) arguments."""
    return tuple(i for i, a in enumerate(args) if np.asarray(a).dtype.kind in "fc")


def linear_groups(rec, case, args):
    """The argument groups of ``case`` in which ``rec.fun`` is linear, resolved
    (``ALL`` expanded), keeping only groups of floating-point arguments."""
    floats = diff_argnums(args)
    out = []
    for g in rec.case_linear(case):
        g = floats if g == ALL else tuple(g)
        if g and all(i in floats for i in g):
            out.append(g)
    return out


def close_over(fun, args, argnums, params):
    """``fun`` as a function of ``args[argnums]`` only (others held fixed)."""

    def f(*dyn):
        full = list(args)
        for i, d in zip(argnums, dyn):
            full[i] = d
        return fun(*full, **params)

    return f


# ---------------------------------------------------------------------------
# Case builders

UNARY_SHAPES = [(), (3,), (2, 3), (0,)]
BINARY_SHAPES = [((), ()), ((3,), (3,)), ((2, 3), (2, 3)), ((2, 3), ()), ((), (2, 3)),
                 ((0,), (0,))]


def unary(domain="normal", dtype=F64, shapes=UNARY_SHAPES, **kw):
    return [C(Arg(s, domain, dtype), **kw) for s in shapes]


def binary(d1="normal", d2="normal", dtype=F64, shapes=BINARY_SHAPES, **kw):
    return [C(Arg(s1, d1, dtype), Arg(s2, d2, dtype), **kw) for s1, s2 in shapes]


def _out_shape(s1, s2):
    return s1 if s1 else s2


def _joint_apart(s1, s2, dtype=F64):
    """x and y at least 0.2 apart elementwise (no ties of max/min)."""

    def make(rng):
        shape = _out_shape(s1, s2)
        d = rng.choice([-1.0, 1.0], shape) * rng.uniform(0.2, 1.0, shape)
        if not s1 and s2:
            x = rng.standard_normal(())
            return [np.asarray(x, dtype), np.asarray(x + d, dtype)]
        y = rng.standard_normal(s2)
        return [np.asarray(y + d, dtype), np.asarray(y, dtype)]

    return make


def _joint_rem(s1, s2):
    """y != 0 and x / y away from integers (the jumps of trunc(x / y))."""

    def make(rng):
        shape = _out_shape(s1, s2)
        q = rng.integers(-2, 3, shape) + rng.uniform(0.2, 0.8, shape)
        if not s1 and s2:
            x = rng.uniform(0.5, 2.0)
            return [np.asarray(x), np.asarray(x / q)]
        y = DOMAINS["nonzero"](rng, s2)
        return [np.asarray(y * q), np.asarray(y)]

    return make


def joint_binary(make_for, shapes=BINARY_SHAPES, **kw):
    return [C(Arg(s1), Arg(s2), make=make_for(s1, s2), **kw) for s1, s2 in shapes]


# ---------------------------------------------------------------------------
# NumPy references for the structured primitives


def _integer_pow_ref(x, *, y):
    x = np.asarray(x)
    if y < 0 and x.dtype.kind in "iu":
        # lax: 1 / x**|y| in integer arithmetic (truncates toward zero).
        return np.where(np.abs(x) == 1, np.power(x, -y), 0).astype(x.dtype)[()]
    return np.power(x, y)[()] if x.ndim == 0 else np.power(x, y)


def _sum_of_products_ref(*xs):
    out = np.multiply(xs[0], xs[1])
    for i in range(2, len(xs), 2):
        out = np.add(out, np.multiply(xs[i], xs[i + 1]))
    return out


def _div_ref(x, y):
    if np.asarray(x).dtype.kind in "iu":
        return np.floor_divide(x, y)  # fxad's lax.div on integers floors (see test_lax)
    return np.true_divide(x, y)


def _select_n_ref(which, *cases):
    if len(cases) == 1:
        return cases[0]
    return np.choose(np.asarray(which, dtype=np.intp), np.broadcast_arrays(*cases))


def _convert_ref(x, *, new_dtype):
    x = np.asarray(x)
    if x.dtype.kind == "c" and np.dtype(new_dtype).kind != "c":
        x = x.real
    return x.astype(new_dtype)


def _reduce_ref(np_fn):
    def ref(x, *, axes):
        return np_fn(x, axis=axes)

    return ref


def _extreme_ref(np_fn, is_max):
    # lax reduces an empty axis to the identity (-inf for max), NumPy raises.
    def ref(x, *, axes):
        x = np.asarray(x)
        if x.dtype.kind in "iu":
            info = np.iinfo(x.dtype)
            initial = info.min if is_max else info.max
        else:
            initial = -np.inf if is_max else np.inf
        return np_fn(x, axis=axes, initial=initial)

    return ref


def _arg_ref(np_fn):
    def ref(x, *, axis, index_dtype):
        return np_fn(x, axis=axis).astype(index_dtype)

    return ref


def _cumsum_ref(x, *, axis, reverse):
    if reverse:
        return np.flip(np.cumsum(np.flip(x, axis), axis=axis), axis)
    return np.cumsum(x, axis=axis)


def _broadcast_in_dim_ref(x, *, shape, broadcast_dimensions):
    x = np.asarray(x)
    expanded = np.expand_dims(x, tuple(i for i in range(len(shape))
                                       if i not in broadcast_dimensions))
    return np.broadcast_to(expanded, shape)


def _slice_ref(x, *, start_indices, limit_indices, strides=None):
    strides = strides or (1,) * len(start_indices)
    return np.asarray(x)[tuple(slice(a, b, s)
                               for a, b, s in zip(start_indices, limit_indices, strides))]


def _pad_ref(x, padding_value, *, padding_config):
    # Interior padding by hand: NumPy's pad has none.
    x = np.asarray(x)
    shape = tuple(lo + hi + n + max(n - 1, 0) * it for n, (lo, hi, it) in zip(x.shape,
                                                                            padding_config))
    out = np.full(shape, padding_value, x.dtype)
    out[tuple(slice(lo, lo + n + max(n - 1, 0) * it, it + 1)
              for n, (lo, hi, it) in zip(x.shape, padding_config))] = x
    return out


def _index(indexer, arrays):
    out = []
    for e in indexer:
        if e[0] == "s":
            out.append(slice(*e[1:]))
        elif e[0] == "i":
            out.append(e[1])
        elif e[0] == "n":
            out.append(None)
        else:
            out.append(arrays[e[1]])
    return tuple(out)


def _gather_ref(x, *arrays, indexer):
    return np.asarray(x)[_index(indexer, arrays)]


def _scatter_add_ref(operand, updates, *arrays, indexer):
    out = np.array(operand, copy=True)
    np.add.at(out, _index(indexer, arrays), updates)
    return out


def _dot_general_ref(x, y, *, dimension_numbers):
    (lc, rc), (lb, rb) = dimension_numbers
    letters = iter("abcdefghijklmnopqrstuvwxyz")
    xs = [next(letters) for _ in range(np.ndim(x))]
    ys = [next(letters) for _ in range(np.ndim(y))]
    for a, b in zip(lc + lb, rc + rb):
        ys[b] = xs[a]
    out = ([xs[d] for d in lb] + [xs[d] for d in range(np.ndim(x)) if d not in lc + lb]
           + [ys[d] for d in range(np.ndim(y)) if d not in rc + rb])
    return np.einsum(f"{''.join(xs)},{''.join(ys)}->{''.join(out)}", x, y)


# ---------------------------------------------------------------------------
# The records


def _unop(name, ref, domain="normal", **kw):
    fun = getattr(lax, name)
    cases = unary(domain) + unary(domain, F32, shapes=[(3,)])
    return OpRecord(name, lambda x: fun(x), ref, tuple(cases), **kw)


def _binop(name, ref, d1="normal", d2="normal", **kw):
    fun = getattr(lax, name)
    cases = binary(d1, d2) + binary(d1, d2, F32, shapes=[((3,), (3,))])
    return OpRecord(name, lambda x, y: fun(x, y), ref, tuple(cases), **kw)


def _cmp(name, ref):
    fun = getattr(lax, name)
    cases = binary("ties", "ties") + binary("small_int", "small_int", I64, shapes=[((4,), (4,))])
    return OpRecord(name, lambda x, y: fun(x, y), ref, tuple(cases), diff="zero")


def _bitwise(name, lax_name, ref):
    fun = getattr(lax, lax_name)
    cases = (binary("bool", "bool", BOOL)
             + binary("small_int", "small_int", I64, shapes=[((3,), (3,)), ((2, 3), ())]))
    return OpRecord(name, lambda x, y: fun(x, y), ref, tuple(cases), diff="none")


RECORDS: list[OpRecord] = [
    # -- arithmetic -----------------------------------------------------------
    OpRecord("neg", lambda x: lax.neg(x), np.negative,
             tuple(unary() + unary("small_int", I64, shapes=[(3,)])
                   + unary(dtype=C128, shapes=[(3,)])), linear=(ALL,)),
    OpRecord("add", lambda x, y: lax.add(x, y), np.add,
             tuple(binary() + binary("small_int", "small_int", I64, shapes=[((3,), ())])
                   + binary(dtype=C128, shapes=[((3,), (3,))])), linear=(ALL,)),
    # AD's own primitives (fxad/interpreters/ad.py): the sum of two tangents
    # of one aval, and the zeros AD stages for a symbolic Zero.  (12 cases in
    # all: a multiple of 3, so test_vmap's every-third-case selection for
    # test_nested_vmap still picks the same cases of the records below.)
    OpRecord("add_any", lambda x, y: ad.add_any(x, y), np.add,
             tuple(binary(shapes=[((), ()), ((3,), (3,)), ((2, 3), (2, 3)), ((0,), (0,))])
                   + binary(dtype=F32, shapes=[((3,), (3,))])
                   + binary(dtype=C128, shapes=[((3,), (3,))])), linear=(ALL,)),
    OpRecord("zeros", lambda x, *, shape: ad.zeros(x, shape),
             lambda x, *, shape: np.zeros(shape, x.dtype), (
                 C((), shape=(2, 3)), C((), shape=()), C(Arg((), dtype=F32), shape=(4,)),
                 C(Arg((), dtype=C128), shape=(2,)), C((3,), shape=(0,)),
                 C((2, 2), shape=(3,)),
             ), linear=(ALL,)),
    OpRecord("sub", lambda x, y: lax.sub(x, y), np.subtract,
             tuple(binary() + binary("small_int", "small_int", I64, shapes=[((), (3,))])),
             linear=(ALL,)),
    OpRecord("mul", lambda x, y: lax.mul(x, y), np.multiply,
             tuple(binary() + binary("small_int", "small_int", I64, shapes=[((3,), (3,))])
                   + binary(dtype=C128, shapes=[((3,), (3,)), ((), (3,))])
                   + binary(dtype=F32, shapes=[((2, 3), ())])),
             linear=((0,), (1,))),
    # The product rule's tangent tx*y + x*ty as one equation: linear in one
    # factor of every pair (cases of 6 operands say their own groups).
    OpRecord("sum_of_products", lambda *xs: lax.sum_of_products(*xs), _sum_of_products_ref, (
        C((), (), (), ()), C((3,), (3,), (3,), (3,)), C((2, 3), (), (), (2, 3)),
        C((3,), (3,), (), (3,), (3,), (3,), linear=((0, 2, 4), (1, 3, 5), (0, 3, 5))),
        C(*[Arg((3,), dtype=F32)] * 4), C(*[Arg((2,), dtype=C128)] * 4),
    ), linear=((0, 2), (1, 3), (0, 3), (1, 2))),
    OpRecord("div", lambda x, y: lax.div(x, y), _div_ref,
             tuple(binary("normal", "nonzero")
                   + binary("normal", "nonzero", F32, shapes=[((3,), (3,))])
                   + binary("small_int", "nonzero_int", I64, shapes=[((4,), (4,))])),
             linear=((0,),)),
    OpRecord("integer_pow", lambda x, *, y: lax.integer_pow(x, y), _integer_pow_ref,
             tuple([c for y in (0, 1, 2, 3) for c in unary(y=y)]
                   + unary("nonzero", y=-2) + unary("nonzero", shapes=[(3,)], y=-1)
                   + unary("small_int", I64, shapes=[(5,)], y=3)
                   + unary("unit_int", I64, shapes=[(), (4,)], y=-1))),
    OpRecord("pow", lambda x, y: lax.pow(x, y), np.power,
             tuple(binary("positive", "normal")
                   + binary("positive", "normal", F32, shapes=[((3,), ())]))),
    OpRecord("max", lambda x, y: lax.max(x, y), np.maximum,
             tuple(joint_binary(_joint_apart)
                   + binary("ties", "ties", shapes=[((2, 3), (2, 3))], diff="kink")
                   + binary("small_int", "small_int", I64, shapes=[((4,), ())]))),
    OpRecord("min", lambda x, y: lax.min(x, y), np.minimum,
             tuple(joint_binary(_joint_apart)
                   + binary("ties", "ties", shapes=[((2, 3), (2, 3))], diff="kink")
                   + binary("small_int", "small_int", I64, shapes=[((), (4,))]))),
    OpRecord("rem", lambda x, y: lax.rem(x, y), np.fmod,
             tuple(joint_binary(_joint_rem)
                   + binary("small_int", "nonzero_int", I64, shapes=[((5,), (5,))]))),
    # -- transcendental -------------------------------------------------------
    _unop("exp", np.exp),
    _unop("log", np.log, "positive"),
    _unop("log1p", np.log1p, "log1p"),
    _unop("expm1", np.expm1),
    _unop("sin", np.sin),
    _unop("cos", np.cos),
    _unop("tan", np.tan, "tan"),
    _unop("asin", np.arcsin, "unit"),
    _unop("acos", np.arccos, "unit"),
    _unop("atan", np.arctan),
    _unop("sinh", np.sinh),
    _unop("cosh", np.cosh),
    _unop("tanh", np.tanh),
    _unop("sqrt", np.sqrt, "positive"),
    _unop("asinh", np.arcsinh),
    _unop("acosh", np.arccosh, "gt1"),
    _unop("atanh", np.arctanh, "unit"),
    _binop("atan2", np.arctan2, "nonzero", "nonzero"),
    OpRecord("abs", lambda x: lax.abs(x), np.abs,
             tuple(unary("nonzero") + unary("small_int", I64, shapes=[(5,)])
                   + unary("nonzero", C128, shapes=[(), (3,)]))),
    # -- piecewise constant ---------------------------------------------------
    OpRecord("sign", lambda x: lax.sign(x), np.sign,
             tuple(unary("ties") + unary("small_int", I64, shapes=[(5,)])), diff="zero"),
    OpRecord("floor", lambda x: lax.floor(x), np.floor, tuple(unary("noninteger")),
             diff="zero"),
    OpRecord("ceil", lambda x: lax.ceil(x), np.ceil, tuple(unary("noninteger")), diff="zero"),
    OpRecord("round", lambda x: lax.round(x), np.round,
             tuple(unary("noninteger")
                   + [C(np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5]), name="halves")]),
             diff="zero"),
    OpRecord("trunc", lambda x: lax.trunc(x), np.trunc, tuple(unary("noninteger")),
             diff="zero"),
    # -- comparisons and logic ------------------------------------------------
    _cmp("eq", np.equal),
    _cmp("ne", np.not_equal),
    _cmp("lt", np.less),
    _cmp("le", np.less_equal),
    _cmp("gt", np.greater),
    _cmp("ge", np.greater_equal),
    _bitwise("and", "bitwise_and", np.bitwise_and),
    _bitwise("or", "bitwise_or", np.bitwise_or),
    _bitwise("xor", "bitwise_xor", np.bitwise_xor),
    OpRecord("not", lambda x: lax.bitwise_not(x), np.invert,
             tuple(unary("bool", BOOL) + unary("small_int", I64, shapes=[(4,)])), diff="none"),
    OpRecord("is_finite", lambda x: lax.is_finite(x), np.isfinite,
             tuple(unary() + unary("nonfinite", shapes=[(4,), (2, 3)])), diff="zero"),
    # -- select_n -------------------------------------------------------------
    OpRecord("select_n", lambda which, *cases: lax.select_n(which, *cases), _select_n_ref, (
        C(Arg((2, 3), "bool", BOOL), (2, 3), (2, 3)),
        C(Arg((), "bool", BOOL), (2, 3), (2, 3)),
        C(Arg((), "bool", BOOL), (), ()),
        C(np.array([0, 2, 1, 2, 0], np.int32), (5,), (5,), (5,)),
        C(np.array(1, np.int64), (3,), (3,), (3,)),
        C(Arg((3,), "bool", BOOL), (3,)),  # one case: the identity
        C(Arg((0,), "bool", BOOL), (0,), (0,)),
        C(Arg((3,), "bool", BOOL), Arg((3,), "small_int", I64),
          Arg((3,), "small_int", I64)),
    ), linear=(ALL,)),
    # -- types ----------------------------------------------------------------
    OpRecord("convert_element_type",
             lambda x, *, new_dtype: lax.convert_element_type(x, new_dtype), _convert_ref, (
                 C(Arg((2, 3)), new_dtype=F32),
                 C(Arg(()), new_dtype=F32),
                 C(Arg((3,), dtype=F32), new_dtype=F64),
                 C(Arg((3,)), new_dtype=C128),
                 C(Arg((3,), dtype=C128), new_dtype=F64),
                 C(Arg((2, 3), "noninteger"), new_dtype=I64, diff="zero", linear=()),
                 C(Arg((4,), "small_int", I64), new_dtype=F64, diff="none", linear=()),
                 C(Arg((4,), "bool", BOOL), new_dtype=F64, diff="none", linear=()),
                 C(Arg((4,), "small_int", I64), new_dtype=BOOL, diff="none", linear=()),
             ), linear=(ALL,)),
    OpRecord("real", lambda x: lax.real(x), np.real,
             tuple(unary("normal", C128) + unary(shapes=[(3,)])), linear=(ALL,)),
    OpRecord("conj", lambda x: lax.conj(x), np.conjugate,
             tuple(unary("normal", C128) + unary(shapes=[(3,)])), linear=(ALL,)),
    OpRecord("stop_gradient", lambda x: lax.stop_gradient_prim(x), lambda x: x,
             tuple(unary()), diff="zero"),
    # -- reductions -----------------------------------------------------------
    OpRecord("reduce_sum", lambda x, *, axes: lax.reduce_sum(x, axes), _reduce_ref(np.sum), (
        C((3,), axes=(0,)), C((2, 3), axes=(0,)), C((2, 3), axes=(1,)),
        C((2, 3), axes=(0, 1)), C((2, 3, 4), axes=(0, 2)), C((0,), axes=(0,)),
        C((2, 0, 3), axes=(1,)), C(Arg((2, 3), "small_int", I64), axes=(1,)),
    ), linear=(ALL,)),
    OpRecord("reduce_max", lambda x, *, axes: lax.reduce_max(x, axes), _extreme_ref(np.max, True), (
        C(Arg((4,), "distinct"), axes=(0,)), C(Arg((2, 3), "distinct"), axes=(0,)),
        C(Arg((2, 3), "distinct"), axes=(1,)), C(Arg((2, 3), "distinct"), axes=(0, 1)),
        C(Arg((2, 3, 2), "distinct"), axes=(0, 2)),
        C(Arg((3, 4), "small_int", I64), axes=(1,)),
        C(Arg((2, 0)), axes=(1,), diff="values", name="empty->-inf"),
    )),
    OpRecord("reduce_min", lambda x, *, axes: lax.reduce_min(x, axes),
             _extreme_ref(np.min, False), (
        C(Arg((4,), "distinct"), axes=(0,)), C(Arg((2, 3), "distinct"), axes=(1,)),
        C(Arg((2, 3), "distinct"), axes=(0, 1)),
        C(Arg((3, 4), "small_int", I64), axes=(0,)),
        C(Arg((0, 2)), axes=(0,), diff="values", name="empty->+inf"),
    )),
    OpRecord("reduce_prod", lambda x, *, axes: lax.reduce_prod(x, axes),
             _reduce_ref(np.prod), (
                 C((4,), axes=(0,)), C((2, 3), axes=(0,)), C((2, 3), axes=(1,)),
                 C((2, 3), axes=(0, 1)), C((3, 1, 2), axes=(0, 2)), C((5,), axes=(0,)),
                 C((0,), axes=(0,)), C((2, 0), axes=(1,)),
                 C(np.array([0.0, 2.0, -1.5]), axes=(0,), name="one_zero"),
                 C(np.array([[0.0, 2.0, 0.0], [1.5, 0.0, -0.5]]), axes=(1,), name="zeros"),
                 C(Arg((2, 3), "small_int", I64), axes=(1,)),
             )),
    OpRecord("argmax", lambda x, *, axis, index_dtype: lax.argmax(x, axis, index_dtype),
             _arg_ref(np.argmax), (
                 C(Arg((5,), "distinct"), axis=0, index_dtype=I64),
                 C(Arg((2, 3), "distinct"), axis=1, index_dtype=I32),
                 C(Arg((3, 4), "ties"), axis=0, index_dtype=I64),
                 C(Arg((3, 4), "small_int", I64), axis=1, index_dtype=I64),
             ), diff="zero"),
    OpRecord("argmin", lambda x, *, axis, index_dtype: lax.argmin(x, axis, index_dtype),
             _arg_ref(np.argmin), (
                 C(Arg((5,), "distinct"), axis=0, index_dtype=I64),
                 C(Arg((2, 3), "distinct"), axis=0, index_dtype=I32),
                 C(Arg((3, 4), "ties"), axis=1, index_dtype=I64),
             ), diff="zero"),
    OpRecord("cumsum", lambda x, *, axis, reverse: lax.cumsum(x, axis, reverse), _cumsum_ref, (
        C((4,), axis=0, reverse=False), C((4,), axis=0, reverse=True),
        C((2, 3), axis=1, reverse=False), C((2, 3), axis=0, reverse=True),
        C((0, 3), axis=0, reverse=False),
        C(Arg((5,), "small_int", I64), axis=0, reverse=False),
    ), linear=(ALL,)),
    # -- shapes ---------------------------------------------------------------
    OpRecord("broadcast_in_dim",
             lambda x, *, shape, broadcast_dimensions:
             lax.broadcast_in_dim(x, shape, broadcast_dimensions),
             _broadcast_in_dim_ref, (
                 C((), shape=(2, 3), broadcast_dimensions=()),
                 C((3,), shape=(2, 3), broadcast_dimensions=(1,)),
                 C((2,), shape=(2, 3), broadcast_dimensions=(0,)),
                 C((2, 1), shape=(2, 3), broadcast_dimensions=(0, 1)),
                 C((1, 3), shape=(4, 2, 3), broadcast_dimensions=(1, 2)),
                 C((3,), shape=(0, 3), broadcast_dimensions=(1,)),
                 C(Arg((3,), "small_int", I64), shape=(2, 3), broadcast_dimensions=(1,)),
             ), linear=(ALL,)),
    OpRecord("reshape", lambda x, *, new_sizes: lax.reshape(x, new_sizes),
             lambda x, *, new_sizes: np.reshape(x, new_sizes), (
                 C((2, 3), new_sizes=(3, 2)), C((6,), new_sizes=(2, 3)),
                 C((), new_sizes=(1, 1)), C((1, 1), new_sizes=()),
                 C((0, 3), new_sizes=(3, 0)), C((2, 3, 4), new_sizes=(4, 6)),
                 C(Arg((2, 2), "bool", BOOL), new_sizes=(4,)),
             ), linear=(ALL,)),
    OpRecord("transpose", lambda x, *, permutation: lax.transpose(x, permutation),
             lambda x, *, permutation: np.transpose(x, permutation), (
                 C((2, 3), permutation=(1, 0)), C((2, 3, 4), permutation=(2, 0, 1)),
                 C((0, 3), permutation=(1, 0)),
                 C(Arg((2, 3), "small_int", I64), permutation=(1, 0)),
             ), linear=(ALL,)),
    OpRecord("squeeze", lambda x, *, dimensions: lax.squeeze(x, dimensions),
             lambda x, *, dimensions: np.squeeze(x, dimensions), (
                 C((1, 3), dimensions=(0,)), C((2, 1, 1), dimensions=(1, 2)),
                 C((1,), dimensions=(0,)), C((1, 0), dimensions=(0,)),
             ), linear=(ALL,)),
    OpRecord("expand_dims", lambda x, *, dimensions: lax.expand_dims(x, dimensions),
             lambda x, *, dimensions: np.expand_dims(x, dimensions), (
                 C((3,), dimensions=(0,)), C((2, 3), dimensions=(1, 3)),
                 C((), dimensions=(0,)), C((0,), dimensions=(1,)),
             ), linear=(ALL,)),
    OpRecord("rev", lambda x, *, dimensions: lax.rev(x, dimensions),
             lambda x, *, dimensions: np.flip(x, dimensions), (
                 C((4,), dimensions=(0,)), C((2, 3), dimensions=(0, 1)),
                 C((2, 3), dimensions=(1,)), C((0,), dimensions=(0,)),
             ), linear=(ALL,)),
    OpRecord("slice",
             lambda x, *, start_indices, limit_indices, strides:
             lax.slice(x, start_indices, limit_indices, strides),
             _slice_ref, (
                 C((5,), start_indices=(1,), limit_indices=(4,), strides=None),
                 C((6,), start_indices=(0,), limit_indices=(6,), strides=(2,)),
                 C((7,), start_indices=(1,), limit_indices=(6,), strides=(3,)),
                 C((4, 6), start_indices=(1, 0), limit_indices=(4, 5), strides=(2, 3)),
                 C((5,), start_indices=(2,), limit_indices=(2,), strides=None),
                 C(Arg((5,), "small_int", I64), start_indices=(1,), limit_indices=(3,),
                   strides=None),
             ), linear=(ALL,)),
    OpRecord("pad", lambda x, v, *, padding_config: lax.pad(x, v, padding_config), _pad_ref, (
        C((3,), (), padding_config=((1, 2, 0),)),
        C((3,), (), padding_config=((0, 0, 1),)),
        C((2, 3), (), padding_config=((1, 0, 1), (0, 2, 0))),
        C((2, 3), (), padding_config=((0, 0, 0), (2, 1, 2))),
        C((0,), (), padding_config=((1, 1, 0),)),
        C((1,), (), padding_config=((0, 0, 3),)),
        C(Arg((3,), "small_int", I64), Arg((), "small_int", I64),
          padding_config=((1, 1, 1),)),
    ), linear=(ALL,)),
    OpRecord("concatenate", lambda *xs, dimension: lax.concatenate(xs, dimension),
             lambda *xs, dimension: np.concatenate(xs, axis=dimension), (
                 C((2, 3), (1, 3), dimension=0),
                 C((2, 1), (2, 2), (2, 0), dimension=1),
                 C((3,), (4,), dimension=0),
                 C((0,), (2,), dimension=0),
                 C(Arg((2,), "small_int", I64), Arg((1,), "small_int", I64), dimension=0),
             ), linear=(ALL,)),
    # -- indexing -------------------------------------------------------------
    OpRecord("gather", lambda x, *idx, indexer: lax.gather(x, idx, indexer), _gather_ref, (
        C((5,), indexer=(("s", 0, 5, 2),)),
        C((3, 4), indexer=(("i", 1), ("s", None, None, None))),
        C((4,), np.array([2, 0, 2, 3]), indexer=(("a", 0),), name="repeated_index"),
        C((4, 3), np.array([[1, 1], [0, 3]]), indexer=(("a", 0), ("s", 0, 3, 1))),
        C((4, 3), np.array([0, -1, 2]), np.array([2, 0, 0]),
          indexer=(("a", 0), ("a", 1)), name="two_arrays_negative"),
        C((3,), indexer=(("n",), ("s", None, None, -1))),
        C((3, 2), np.zeros((0,), np.int64), indexer=(("a", 0),), name="empty_index"),
        C(Arg((5,), "small_int", I64), np.array([4, 4, 1]), indexer=(("a", 0),)),
    ), linear=(ALL,)),
    OpRecord("scatter-add",
             lambda x, u, *idx, indexer: lax.scatter_add(x, u, idx, indexer),
             _scatter_add_ref, (
                 C((4,), (3,), np.array([2, 0, 2]), indexer=(("a", 0),),
                   name="repeated_index"),
                 C((4,), (2,), indexer=(("s", 1, 3, 1),)),
                 C((3, 4), (4,), indexer=(("i", 1), ("s", None, None, None))),
                 C((4, 3), (2, 2, 3), np.array([[1, 1], [0, 3]]), indexer=(("a", 0),)),
                 C((4, 3), (), np.array(1), np.array(2), indexer=(("a", 0), ("a", 1))),
                 C((3,), (0,), np.zeros((0,), np.int64), indexer=(("a", 0),)),
                 C(Arg((5,), "small_int", I64), Arg((3,), "small_int", I64),
                   np.array([4, 4, 1]), indexer=(("a", 0),)),
             ), linear=(ALL,)),
    OpRecord("dot_general",
             lambda x, y, *, dimension_numbers: lax.dot_general(x, y, dimension_numbers),
             _dot_general_ref, (
                 C((3,), (3,), dimension_numbers=(((0,), (0,)), ((), ()))),
                 C((2, 3), (3,), dimension_numbers=(((1,), (0,)), ((), ()))),
                 C((2, 3), (3, 4), dimension_numbers=(((1,), (0,)), ((), ()))),
                 C((3, 2), (4, 3), dimension_numbers=(((0,), (1,)), ((), ()))),
                 C((2,), (3,), dimension_numbers=(((), ()), ((), ())), name="outer"),
                 C((), (2, 3), dimension_numbers=(((), ()), ((), ())), name="scalar"),
                 C((5, 2, 3), (5, 3, 4), dimension_numbers=(((2,), (1,)), ((0,), (0,)))),
                 C((2, 3, 4), (4, 2, 3),
                   dimension_numbers=(((1, 2), (2, 0)), ((), ()))),
                 C((3, 2, 4), (4, 2, 3),
                   dimension_numbers=(((1,), (1,)), ((2, 0), (0, 2))), name="batch_unsorted"),
                 C((3, 0), (0, 2), dimension_numbers=(((1,), (0,)), ((), ()))),
                 C(Arg((2, 3), "small_int", I64), Arg((3,), "small_int", I64),
                   dimension_numbers=(((1,), (0,)), ((), ()))),
             ), linear=((0,), (1,))),
]


# Families of primitives defined outside fxad/lax/lax.py keep their records
# in their own modules (tests/op_records_<family>.py, each with a RECORDS
# list built from the helpers above); they join the one table here.
# The first five keep their place in the table (suites that sample every
# k-th case depend on the order); later families join in name order.
_FIRST = ("linalg", "fft", "special", "numpy_extra", "complex")
_LATER = sorted(p.stem[len("op_records_"):] for p in
                _pathlib.Path(__file__).parent.glob("op_records_*.py")
                if p.stem[len("op_records_"):] not in _FIRST)
for _family in _FIRST + tuple(_LATER):
    try:
        _mod = __import__(f"op_records_{_family}")
    except ModuleNotFoundError as _e:
        if _e.name != f"op_records_{_family}":
            raise
        continue
    RECORDS.extend(_mod.RECORDS)


def records_by_name() -> dict[str, list[OpRecord]]:
    out: dict[str, list[OpRecord]] = {}
    for r in RECORDS:
        out.setdefault(r.name, []).append(r)
    return out


def all_cases(select=lambda rec, case: True):
    """``(record, case, id)`` triples for pytest.mark.parametrize."""
    out = []
    for r in RECORDS:
        for k, c in enumerate(r.cases):
            if select(r, c):
                out.append((r, c, f"{r.name}-{k}-{c.label()}"))
    return out
