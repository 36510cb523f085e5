"""Complex cases of the primitives that take complex values (complex128, and
complex64 where the precision allows), plus the records of ``imag`` and
``complex``.  ``tests/op_records.py`` appends ``RECORDS`` to its table, so the
value, autodiff and batching suites run every case here too: eager values
against NumPy, the staged jaxpr and abstract eval (output dtypes!),
``check_grads`` to second order along complex directions (JAX's pairing
``Re(sum(a * b))`` for reverse mode), the transpose of each linear group,
and ``vmap`` against a loop.

Import ``op_records`` before this module (it imports this one at its end).

Domains keep the random values, and the finite-difference stencil around
them, away from the branch cuts of NumPy's principal branches (``log``,
``sqrt`` and ``pow`` on the negative real axis, ``acosh`` on ``(-inf, 1]``)
and from poles.  ``NON_HOLOMORPHIC`` names the primitives whose complex cases
are not complex-differentiable; every other complex-in, complex-out case is
holomorphic, which ``tests/test_complex.py`` checks with
``jacfwd``/``jacrev(..., holomorphic=True)``.
"""

from __future__ import annotations

import numpy as np
from op_records import (
    ALL,
    BOOL,
    C128,
    DOMAINS,
    F32,
    F64,
    Arg,
    C,
    OpRecord,
    _convert_ref,
    _cumsum_ref,
    _dot_general_ref,
    _gather_ref,
    _pad_ref,
    _reduce_ref,
    _scatter_add_ref,
    _select_n_ref,
    _slice_ref,
    binary,
    unary,
)

from fxad import lax

C64 = np.dtype(np.complex64)

# ---------------------------------------------------------------------------
# Complex domains (each returns complex values, used as they are)


def _polar(rng, shape, r=(0.5, 2.0), theta=2.5):
    """Modulus in ``r``, argument in ``(-theta, theta)``: away from the
    negative real axis (the branch cut of log, sqrt and pow)."""
    return rng.uniform(*r, shape) * np.exp(1j * rng.uniform(-theta, theta, shape))


def _off_real_axis(rng, shape):
    """Real part in (-2, 2), imaginary part at least 0.4 away from 0: away
    from acosh's cut (-inf, 1], in both half-planes (Re < 0 included)."""
    im = rng.choice([-1.0, 1.0], shape) * rng.uniform(0.4, 1.5, shape)
    return rng.uniform(-2.0, 2.0, shape) + 1j * im


DOMAINS.setdefault("cplx_cut", _polar)
DOMAINS.setdefault("cplx_off_axis", _off_real_axis)

#: Primitives whose complex cases are not holomorphic (or not
#: complex-to-complex), so they have no complex derivative f'(z).
NON_HOLOMORPHIC = frozenset({"abs", "sign", "real", "imag", "conj", "complex",
                             "stop_gradient", "eq", "ne", "is_finite"})

CX = [(), (3,), (2, 3), (0,)]
CX_BINARY = [((), ()), ((3,), (3,)), ((2, 3), (2, 3)), ((2, 3), ()), ((), (2, 3))]


def _cunop(name, ref, domain="normal", shapes=CX, c64=True, **kw):
    fun = getattr(lax, name)
    cases = unary(domain, C128, shapes=shapes)
    if c64:
        cases += unary(domain, C64, shapes=[(3,)])
    return OpRecord(name, lambda x: fun(x), ref, tuple(cases), **kw)


def _cbinop(name, ref, d1="normal", d2="normal", shapes=CX_BINARY, **kw):
    fun = getattr(lax, name)
    cases = binary(d1, d2, C128, shapes=shapes) + binary(d1, d2, C64, shapes=[((3,), (3,))])
    return OpRecord(name, lambda x, y: fun(x, y), ref, tuple(cases), **kw)


def _z(shape, domain="normal", dtype=C128):
    return Arg(shape, domain, dtype)


def _cx(values):
    return np.asarray(values, dtype=np.complex128)


def _complex_ref(x, y):
    # Part by part: x + 1j * y would make nan + inf j of an infinite y.
    x, y = np.broadcast_arrays(x, y)
    out = np.zeros(x.shape, np.result_type(x, np.complex64))
    out.real, out.imag = x, y
    return out


RECORDS: list[OpRecord] = [
    # -- arithmetic -----------------------------------------------------------
    _cunop("neg", np.negative, shapes=[(), (2, 3)], linear=(ALL,)),
    _cbinop("add", np.add, shapes=[((), ()), ((2, 3), ()), ((), (2, 3))], linear=(ALL,)),
    _cbinop("sub", np.subtract, linear=(ALL,)),
    _cbinop("mul", np.multiply, linear=((0,), (1,))),
    _cbinop("div", np.true_divide, "normal", "nonzero", linear=((0,),)),
    OpRecord("integer_pow", lambda x, *, y: lax.integer_pow(x, y),
             lambda x, *, y: np.power(x, y),
             tuple([c for y in (2, 3) for c in unary("normal", C128, shapes=[(), (3,)], y=y)]
                   + unary("nonzero", C128, shapes=[(), (2, 3)], y=-1)
                   + unary("nonzero", C128, shapes=[(3,)], y=-2)
                   + unary("normal", C64, shapes=[(3,)], y=3))),
    _cbinop("pow", np.power, "cplx_cut", "normal"),
    # -- holomorphic elementwise functions --------------------------------------
    _cunop("exp", np.exp),
    _cunop("log", np.log, "cplx_cut"),
    _cunop("log1p", np.log1p, "log1p"),  # Re(1 + z) >= 0.5: off the cut
    _cunop("expm1", np.expm1),
    _cunop("sin", np.sin),
    _cunop("cos", np.cos),
    _cunop("tan", np.tan, "tan"),  # |Re| <= 1.2 < pi / 2
    _cunop("asin", np.arcsin, "unit"),
    _cunop("acos", np.arccos, "unit"),
    _cunop("atan", np.arctan, "unit"),
    _cunop("sinh", np.sinh),
    _cunop("cosh", np.cosh),
    _cunop("tanh", np.tanh, "tan"),  # |Im| <= 1.2 < pi / 2
    _cunop("sqrt", np.sqrt, "cplx_cut"),
    _cunop("asinh", np.arcsinh, "unit"),
    _cunop("acosh", np.arccosh, "cplx_off_axis"),
    _cunop("atanh", np.arctanh, "unit"),
    # -- not holomorphic: real outputs and linear maps over the reals ----------
    # (Records of one-argument primitives start with a random case: the
    # hypothesis suite in test_lax_autodiff reads the first case's domain.)
    OpRecord("abs", lambda x: lax.abs(x), np.abs,
             tuple(unary("nonzero", C128, shapes=[(2, 3)]) + unary("nonzero", C64, shapes=[(3,)])
                   + [C(_cx([0.0, 3 + 4j, -1j]), diff="values", name="at_zero")])),
    # JAX's convention: sign has derivative zero, complex inputs included.
    _cunop("sign", np.sign, "nonzero", shapes=[(), (2, 3)], diff="zero"),
    _cunop("real", np.real, shapes=[(2, 3)], linear=(ALL,)),
    _cunop("conj", np.conjugate, shapes=[(2, 3)], linear=(ALL,)),
    _cunop("imag", np.imag, linear=(ALL,)),
    OpRecord("complex", lambda x, y: lax.complex(x, y), _complex_ref,
             tuple(binary() + binary(dtype=F32, shapes=[((3,), (3,))])
                   + [C(np.array([1.0, np.inf, 0.0]), np.array([np.inf, 2.0, -0.0]),
                        diff="values", name="infinities")]),
             linear=(ALL,)),
    OpRecord("convert_element_type",
             lambda x, *, new_dtype: lax.convert_element_type(x, new_dtype), _convert_ref, (
                 C(_z((2, 3)), new_dtype=C64),
                 C(_z((3,), dtype=C64), new_dtype=C128),
                 C(Arg((3,), dtype=F32), new_dtype=C64),
                 C(Arg((3,)), new_dtype=C64),
                 C(_z((3,), dtype=C64), new_dtype=F32),
                 C(_z(()), new_dtype=F64),
             ), linear=(ALL,)),
    OpRecord("stop_gradient", lambda x: lax.stop_gradient_prim(x), lambda x: x,
             tuple(unary("normal", C128, shapes=[(3,)])), diff="zero"),
    # -- comparisons (boolean outputs) -----------------------------------------
    OpRecord("eq", lambda x, y: lax.eq(x, y), np.equal,
             tuple(binary("ties", "ties", C128, shapes=[((2, 3), (2, 3)), ((3,), ())])),
             diff="zero"),
    OpRecord("ne", lambda x, y: lax.ne(x, y), np.not_equal,
             tuple(binary("ties", "ties", C128, shapes=[((2, 3), (2, 3))])), diff="zero"),
    OpRecord("is_finite", lambda x: lax.is_finite(x), np.isfinite,
             tuple(unary("normal", C128)
                   + [C(_cx([complex(np.inf, 1.0), complex(0.0, -np.inf),
                             complex(np.nan, 0.0), 1 + 2j]), name="nonfinite")]),
             diff="zero"),
    # -- select_n, reductions ---------------------------------------------------
    OpRecord("select_n", lambda which, *cases: lax.select_n(which, *cases), _select_n_ref, (
        C(Arg((2, 3), "bool", BOOL), _z((2, 3)), _z((2, 3))),
        C(Arg((), "bool", BOOL), _z((3,)), _z((3,))),
        C(np.array([0, 2, 1, 2], np.int32), _z((4,)), _z((4,)), _z((4,))),
    ), linear=(ALL,)),
    OpRecord("reduce_sum", lambda x, *, axes: lax.reduce_sum(x, axes), _reduce_ref(np.sum), (
        C(_z((3,)), axes=(0,)), C(_z((2, 3)), axes=(1,)), C(_z((2, 3, 2)), axes=(0, 2)),
        C(_z((0, 2)), axes=(0,)), C(_z((2, 3), dtype=C64), axes=(0, 1)),
    ), linear=(ALL,)),
    OpRecord("reduce_prod", lambda x, *, axes: lax.reduce_prod(x, axes),
             _reduce_ref(np.prod), (
                 C(_z((4,)), axes=(0,)), C(_z((2, 3)), axes=(1,)), C(_z((2, 3)), axes=(0, 1)),
                 C(_cx([0.0, 1 + 2j, -1.5 + 0.5j]), axes=(0,), name="one_zero"),
                 C(_cx([[0.0, 2j, 0.0], [1.5, 0.0, -0.5j]]), axes=(1,), name="zeros"),
             )),
    OpRecord("cumsum", lambda x, *, axis, reverse: lax.cumsum(x, axis, reverse), _cumsum_ref, (
        C(_z((4,)), axis=0, reverse=False), C(_z((4,)), axis=0, reverse=True),
        C(_z((2, 3)), axis=1, reverse=False), C(_z((3,), dtype=C64), axis=0, reverse=True),
    ), linear=(ALL,)),
    OpRecord("dot_general",
             lambda x, y, *, dimension_numbers: lax.dot_general(x, y, dimension_numbers),
             _dot_general_ref, (
                 C(_z((3,)), _z((3,)), dimension_numbers=(((0,), (0,)), ((), ()))),
                 C(_z((2, 3)), _z((3, 4)), dimension_numbers=(((1,), (0,)), ((), ()))),
                 C(_z((3, 2)), _z((4, 3)), dimension_numbers=(((0,), (1,)), ((), ()))),
                 C(_z((5, 2, 3)), _z((5, 3, 4)),
                   dimension_numbers=(((2,), (1,)), ((0,), (0,)))),
                 C(_z((2,)), _z((3,)), dimension_numbers=(((), ()), ((), ())), name="outer"),
                 C(_z((2, 3), dtype=C64), _z((3,), dtype=C64),
                   dimension_numbers=(((1,), (0,)), ((), ()))),
             ), linear=((0,), (1,))),
    # -- shapes and indexing -------------------------------------------------------
    OpRecord("broadcast_in_dim",
             lambda x, *, shape, broadcast_dimensions:
             lax.broadcast_in_dim(x, shape, broadcast_dimensions),
             lambda x, *, shape, broadcast_dimensions: np.broadcast_to(
                 np.expand_dims(x, tuple(i for i in range(len(shape))
                                         if i not in broadcast_dimensions)), shape), (
                 C(_z(()), shape=(2, 3), broadcast_dimensions=()),
                 C(_z((3,)), shape=(2, 3), broadcast_dimensions=(1,)),
                 C(_z((2, 1)), shape=(2, 3), broadcast_dimensions=(0, 1)),
             ), linear=(ALL,)),
    OpRecord("reshape", lambda x, *, new_sizes: lax.reshape(x, new_sizes),
             lambda x, *, new_sizes: np.reshape(x, new_sizes), (
                 C(_z((2, 3)), new_sizes=(3, 2)), C(_z(()), new_sizes=(1, 1)),
             ), linear=(ALL,)),
    OpRecord("transpose", lambda x, *, permutation: lax.transpose(x, permutation),
             lambda x, *, permutation: np.transpose(x, permutation), (
                 C(_z((2, 3)), permutation=(1, 0)), C(_z((2, 3, 4)), permutation=(2, 0, 1)),
             ), linear=(ALL,)),
    OpRecord("squeeze", lambda x, *, dimensions: lax.squeeze(x, dimensions),
             lambda x, *, dimensions: np.squeeze(x, dimensions),
             (C(_z((2, 1, 1)), dimensions=(1, 2)),), linear=(ALL,)),
    OpRecord("expand_dims", lambda x, *, dimensions: lax.expand_dims(x, dimensions),
             lambda x, *, dimensions: np.expand_dims(x, dimensions),
             (C(_z((2, 3)), dimensions=(1, 3)),), linear=(ALL,)),
    OpRecord("rev", lambda x, *, dimensions: lax.rev(x, dimensions),
             lambda x, *, dimensions: np.flip(x, dimensions),
             (C(_z((2, 3)), dimensions=(0, 1)),), linear=(ALL,)),
    OpRecord("slice",
             lambda x, *, start_indices, limit_indices, strides:
             lax.slice(x, start_indices, limit_indices, strides),
             _slice_ref, (
                 C(_z((5,)), start_indices=(1,), limit_indices=(4,), strides=None),
                 C(_z((4, 6)), start_indices=(1, 0), limit_indices=(4, 5), strides=(2, 3)),
             ), linear=(ALL,)),
    OpRecord("pad", lambda x, v, *, padding_config: lax.pad(x, v, padding_config), _pad_ref, (
        C(_z((3,)), _z(()), padding_config=((1, 2, 0),)),
        C(_z((2, 3)), _z(()), padding_config=((1, 0, 1), (0, 2, 0))),
    ), linear=(ALL,)),
    OpRecord("concatenate", lambda *xs, dimension: lax.concatenate(xs, dimension),
             lambda *xs, dimension: np.concatenate(xs, axis=dimension), (
                 C(_z((2, 3)), _z((1, 3)), dimension=0),
                 C(_z((2, 1)), _z((2, 2)), _z((2, 0)), dimension=1),
             ), linear=(ALL,)),
    OpRecord("gather", lambda x, *idx, indexer: lax.gather(x, idx, indexer), _gather_ref, (
        C(_z((4,)), np.array([2, 0, 2, 3]), indexer=(("a", 0),), name="repeated_index"),
        C(_z((3, 4)), indexer=(("i", 1), ("s", None, None, None))),
        C(_z((4, 3), dtype=C64), np.array([[1, 1], [0, 3]]), indexer=(("a", 0), ("s", 0, 3, 1))),
    ), linear=(ALL,)),
    OpRecord("scatter-add",
             lambda x, u, *idx, indexer: lax.scatter_add(x, u, idx, indexer),
             _scatter_add_ref, (
                 C(_z((4,)), _z((3,)), np.array([2, 0, 2]), indexer=(("a", 0),),
                   name="repeated_index"),
                 C(_z((3, 4)), _z((4,)), indexer=(("i", 1), ("s", None, None, None))),
                 C(_z((4, 3), dtype=C64), _z((2, 2, 3), dtype=C64), np.array([[1, 1], [0, 3]]),
                   indexer=(("a", 0),)),
             ), linear=(ALL,)),
]
