"""Values of every primitive, from the op records: eager results equal NumPy,
the staged jaxpr type-checks and evaluates to the eager value, and each
primitive's abstract eval agrees with what its impl actually returns."""

from __future__ import annotations

import numpy as np
import pytest
from op_records import all_cases, rng_for

import fxad
from fxad import core, lax

CASES = all_cases()


def _params(cases):
    return pytest.mark.parametrize("rec,case", [(r, c) for r, c, _ in cases],
                                   ids=[i for _, _, i in cases])


def _args(rec, case):
    return case.sample(rng_for(rec.name, case.label()))


def assert_same(actual, expected, rtol=1e-12, atol=1e-14, what="value"):
    """Same shape and dtype; exact for integers and booleans, ``rtol`` for floats."""
    a, e = np.asarray(actual), np.asarray(expected)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != expected {e.shape}"
    assert a.dtype == e.dtype, f"{what}: dtype {a.dtype} != expected {e.dtype}"
    if a.dtype.kind in "biu":
        np.testing.assert_array_equal(a, e, err_msg=what)
    else:
        np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)


def _staged(rec, case, args):
    return fxad.make_jaxpr(lambda *a: rec.fun(*a, **case.params))(*args)


# ---------------------------------------------------------------------------
# Eager values


@_params(CASES)
def test_eager_matches_numpy(rec, case):
    args = _args(rec, case)
    expected = rec.ref(*args, **case.params)
    # A reference computed another way (fft's DFT matrices) differs in the
    # last bits of single precision; float64 results must agree to 1e-12.
    single = np.asarray(expected).dtype in (np.float32, np.complex64)
    assert_same(rec.fun(*args, **case.params), expected,
                rtol=1e-5 if single else 1e-12, atol=1e-6 if single else 1e-14,
                what=f"lax.{rec.name} vs NumPy")


# ---------------------------------------------------------------------------
# Staging: make_jaxpr, check_jaxpr, eval_jaxpr


@_params(CASES)
def test_jaxpr_checks_and_evaluates_to_eager_value(rec, case):
    args = _args(rec, case)
    closed = _staged(rec, case, args)
    core.check_jaxpr(closed.jaxpr)
    if rec.staged_in == "linearize":
        dargs = [a for a in args if np.asarray(a).dtype.kind in "fc"]
        _, f_jvp = fxad.linearize(lambda *a: rec.fun(*a, **case.params), *dargs)
        core.check_jaxpr(f_jvp.jaxpr.jaxpr)
        names = [e.primitive.name for e in f_jvp.jaxpr.eqns]
    else:
        names = [e.primitive.name for e in closed.eqns]
    assert rec.name in names, f"the record for {rec.name} staged {names}: it does not bind it"
    eager = rec.fun(*args, **case.params)
    (out,) = closed(*args)
    assert_same(out, eager, rtol=0, atol=0, what="jaxpr evaluation vs eager")
    (out,) = core.eval_jaxpr(closed.jaxpr, closed.consts, *args)
    assert_same(out, eager, rtol=0, atol=0, what="eval_jaxpr vs eager")
    (aval,) = closed.out_avals
    assert aval.shape == np.shape(eager) and aval.dtype == np.asarray(eager).dtype, \
        f"staged output {aval} but eager value {np.asarray(eager).dtype}{np.shape(eager)}"


@_params(CASES)
def test_abstract_eval_matches_impl(rec, case):
    """Run the staged jaxpr equation by equation with each primitive's impl and
    compare every result with the aval its abstract eval gave."""
    args = _args(rec, case)
    closed = _staged(rec, case, args)
    env = dict(zip(closed.jaxpr.constvars, closed.consts))
    env.update(zip(closed.jaxpr.invars, args))

    def read(v):
        return v.val if isinstance(v, core.Literal) else env[v]

    for eqn in closed.eqns:
        ins = [read(v) for v in eqn.invars]
        out = eqn.primitive.impl(*ins, **eqn.params)
        outs = out if eqn.primitive.multiple_results else [out]
        # ... and the abstract eval called afresh on the avals of the values
        fresh = eqn.primitive.abstract_eval(*[core.get_aval(np.asarray(x)) for x in ins],
                                            **eqn.params)
        fresh = fresh if eqn.primitive.multiple_results else [fresh]
        assert len(outs) == len(eqn.outvars) == len(fresh)
        for v, o, a in zip(eqn.outvars, outs, fresh):
            o = np.asarray(o)
            assert (o.shape, o.dtype) == (v.aval.shape, v.aval.dtype), (
                f"{eqn.primitive.name}: abstract eval says {v.aval.str_short()} but impl "
                f"returns {o.dtype}{list(o.shape)}")
            assert (a.shape, a.dtype) == (o.shape, o.dtype)
            env[v] = o


# ---------------------------------------------------------------------------
# Semantics worth stating outright (each also covered by a record)


def test_integer_div_floors():
    # fxad.numpy.floor_divide relies on this; jax.lax.div truncates toward zero.
    assert_same(lax.div(np.array([7, -7]), np.array([2, 2])), np.array([3, -4]))


def test_integer_pow_negative_exponent_on_integers_stays_integer():
    assert_same(lax.integer_pow(np.array([1, -1, 2, -3]), -1), np.array([1, -1, 0, 0]))
    assert_same(lax.integer_pow(np.array([1, -1, 2]), -2), np.array([1, 1, 0]))


def test_bitwise_ops_on_integers_are_bitwise():
    x, y = np.array([3, 5, -1]), np.array([6, 4, 2])
    assert_same(lax.bitwise_and(x, y), x & y)
    assert_same(lax.bitwise_or(x, y), x | y)
    assert_same(lax.bitwise_xor(x, y), x ^ y)
    assert_same(lax.bitwise_not(x), ~x)
    assert_same(lax.bitwise_not(np.array([True, False])), np.array([False, True]))


def test_abs_of_complex_is_real():
    z = np.array([3 + 4j, -1j, 0j])
    assert_same(lax.abs(z), np.array([5.0, 1.0, 0.0]))
    assert fxad.make_jaxpr(lax.abs)(z).out_avals[0].dtype == np.float64


def test_convert_complex_to_real_keeps_real_part():
    assert_same(lax.convert_element_type(np.array([1.5 + 2j, -3j]), np.float64),
                np.array([1.5, 0.0]))


def test_empty_reductions_give_the_identity():
    assert_same(lax.reduce_max(np.zeros((2, 0)), (1,)), np.full(2, -np.inf))
    assert_same(lax.reduce_min(np.zeros((0, 2)), (0,)), np.full(2, np.inf))
    assert_same(lax.reduce_max(np.zeros((0,), np.int64), (0,)),
                np.iinfo(np.int64).min + np.zeros((), np.int64))
    assert_same(lax.reduce_sum(np.zeros((0, 3)), (0,)), np.zeros(3))
    assert_same(lax.reduce_prod(np.zeros((0, 3)), (0,)), np.ones(3))


def test_scatter_add_into_non_contiguous_operand():
    # A transposed (Fortran-ordered) or broadcast operand: vmap and jacrev
    # produce these, and the updates must not be lost.
    idx = [np.array([0, 0, 2]), np.array([1, 1, 3])]
    want = np.zeros((3, 4))
    want[0, 1], want[2, 3] = 3.0, 3.0
    for op in (np.zeros((4, 3)).T, np.broadcast_to(np.zeros(4), (3, 4))):
        out = lax.scatter_add(op, np.array([1.0, 2.0, 3.0]), idx, (("a", 0), ("a", 1)))
        assert_same(out, want)
    assert_same(lax.scatter_add(np.zeros((4, 3)).T, np.ones(4), [], (("i", 1), ("s", 0, 4, 1))),
                np.array([[0.0] * 4, [1.0] * 4, [0.0] * 4]))


def test_round_is_half_to_even():
    # NumPy's rounding; jax.lax.round defaults to rounding half away from zero.
    assert_same(lax.round(np.array([-2.5, -0.5, 0.5, 1.5, 2.5])),
                np.array([-2.0, -0.0, 0.0, 2.0, 2.0]))


@pytest.mark.parametrize("fun,args", [
    (lax.add, (np.ones(3), np.ones(3, np.float32))),  # dtypes differ
    (lax.mul, (np.ones((2, 3)), np.ones(3))),  # implicit rank broadcasting
    (lax.sin, (np.ones(3, np.int64),)),  # float-only op on integers
    (lambda x: lax.reshape(x, (4,)), (np.ones(3),)),
    (lambda x: lax.reduce_sum(x, (1,)), (np.ones(3),)),
    (lambda x: lax.transpose(x, (0, 0)), (np.ones((2, 2)),)),
    (lambda x: lax.squeeze(x, (0,)), (np.ones((2, 2)),)),
    (lambda x, y: lax.dot_general(x, y, (((1,), (0,)), ((), ()))), (np.ones((2, 3)),
                                                                    np.ones((2, 3)))),
    (lambda x: lax.select_n(np.array([True, False]), x, x[:1]), (np.ones(2),)),
], ids=["add-dtypes", "mul-shapes", "sin-int", "reshape-size", "reduce-axis",
        "transpose-perm", "squeeze-size", "dot-contract", "select-shapes"])
def test_strict_primitives_reject_bad_operands_when_staged(fun, args):
    with pytest.raises((TypeError, ValueError)):
        fxad.make_jaxpr(fun)(*args)
