"""The eager fast paths of issue 11's third round give the results of the
general paths they bypass.

* ``lax.eager_entry``: a lax function called on NumPy operands goes straight
  to the primitive's impl (or, on float64 scalars, to NumPy's scalar math for
  ``+ - * /`` and negation), and one tracer straight to its trace; the
  results, dtypes, warnings and errors are ``bind``'s.
* ``mul`` by the float64 scalar 1.0 of a float64 tracer is the tracer.
* A ``grad`` of one real scalar argument that an outer derivative traces
  runs in forward mode (``api._forward_value_and_grad``), with reverse
  mode's values, shapes and dtypes, and falls back to reverse mode on a
  ``custom_vjp`` function.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fxad
import fxad.api
import fxad.numpy as fnp
from fxad import core, lax
from fxad.errors import ForwardModeError
from fxad.test_util import check_grads

SCALAR_OPS = {"add": (lax.add, np.add), "sub": (lax.sub, np.subtract),
              "mul": (lax.mul, np.multiply), "div": (lax.div, np.true_divide)}
SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, 3.0, 1e308, -1e308, 5e-324, -5e-324, 2.2250738585072014e-308,
           np.inf, -np.inf, np.nan]


def _same_bits(a, b):
    assert type(a) is type(b), (type(a), type(b))
    assert np.asarray(a).dtype == np.asarray(b).dtype
    assert np.asarray(a).tobytes() == np.asarray(b).tobytes() or (np.isnan(a) and np.isnan(b))


def _quiet(fn, *args):
    with np.errstate(all="ignore"):
        return fn(*args)


@pytest.mark.parametrize("name", sorted(SCALAR_OPS))
@pytest.mark.parametrize("x", SPECIAL)
@pytest.mark.parametrize("y", SPECIAL)
def test_scalar_math_is_the_ufunc_bit_for_bit(name, x, y):
    op, ufunc = SCALAR_OPS[name]
    want = _quiet(ufunc, np.float64(x), np.float64(y))
    _same_bits(_quiet(op, np.float64(x), np.float64(y)), want)
    # Python floats meet it as float64 scalars, as the ufunc sees them.
    _same_bits(_quiet(op, x, y), want)
    _same_bits(_quiet(op, x, np.float64(y)), want)
    _same_bits(_quiet(op, np.float64(x), y), want)


@given(st.floats(allow_nan=True, allow_infinity=True), st.floats(allow_nan=True,
                                                                  allow_infinity=True),
       st.sampled_from(sorted(SCALAR_OPS)))
def test_scalar_math_matches_the_ufunc_on_any_floats(x, y, name):
    op, ufunc = SCALAR_OPS[name]
    _same_bits(_quiet(op, np.float64(x), np.float64(y)), _quiet(ufunc, np.float64(x),
                                                                 np.float64(y)))


@pytest.mark.parametrize("x", SPECIAL)
def test_scalar_neg_is_the_ufunc(x):
    _same_bits(lax.neg(np.float64(x)), np.negative(np.float64(x)))


def test_scalar_math_warns_as_numpy_does():
    # The same warning class as the ufunc (pytest turns warnings into errors).
    for op, args in [(lax.div, (np.float64(1.0), np.float64(0.0))),
                     (lax.mul, (np.float64(1e308), np.float64(10.0))),
                     (lax.div, (1.0, 0.0)), (lax.sub, (np.float64(np.inf), np.float64(np.inf)))]:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            out = op(*args)
        assert any(issubclass(w.category, RuntimeWarning) for w in seen), (op, args)
        assert type(out) is np.float64


@pytest.mark.parametrize("name", sorted(SCALAR_OPS))
def test_entry_keeps_the_strict_checks(name):
    op, _ = SCALAR_OPS[name]
    with pytest.raises(TypeError, match="dtype"):
        op(np.float32(1.0), np.float64(2.0))
    with pytest.raises(TypeError):
        op(np.ones(3), np.ones(4))
    with pytest.raises(TypeError, match="dtype"):
        op(np.ones(3, np.float32), np.ones(3))
    with pytest.raises(TypeError):
        lax.sin(np.arange(3))  # an integer operand of a float-only primitive


@pytest.mark.parametrize("name", sorted(SCALAR_OPS))
def test_entry_arrays_equal_bind(name):
    op, ufunc = SCALAR_OPS[name]
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=5), rng.normal(size=5)
    for a, b in [(x, y), (x, np.float64(2.0)), (np.float64(2.0), y)]:
        got = op(a, b)
        want = core.bind(getattr(lax, name + "_p"), a, b)
        assert type(got) is type(want)
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(got, ufunc(a, b))


def test_entry_sends_a_tracer_to_its_trace():
    jaxpr = fxad.make_jaxpr(lambda x: lax.mul(lax.sin(x), np.float64(0.5)))(np.ones(3))
    assert [e.primitive.name for e in jaxpr.jaxpr.eqns] == ["sin", "mul"]
    with pytest.raises(TypeError, match="dtype"):  # abstract eval still runs
        fxad.make_jaxpr(lambda x: lax.mul(x, np.float32(0.5)))(np.ones(3))


def test_an_escaped_tracer_through_an_entry_is_still_an_error():
    box = []

    def f(x):
        box.append(x)
        return x

    fxad.grad(f)(1.0)
    with pytest.raises(fxad.errors.UnexpectedTracerError):
        lax.mul(box[0], np.float64(2.0))
    with pytest.raises(fxad.errors.UnexpectedTracerError):
        lax.sin(box[0])
    assert core.trace_state.stack == []


def test_mul_by_the_unit_seed_of_a_float64_tracer_is_the_tracer():
    from fxad.interpreters.ad import UNIT_SEED

    seed = UNIT_SEED
    jaxpr = fxad.make_jaxpr(lambda x: lax.mul(seed, lax.mul(lax.sin(x), seed)))(np.ones(3))
    assert [e.primitive.name for e in jaxpr.jaxpr.eqns] == ["sin"]
    # Only the seed object: a user's 1.0 stays a product, so the output is
    # a new array, never the input's (no aliasing of the user's values).
    one = np.float64(1.0)
    jaxpr = fxad.make_jaxpr(lambda x: lax.mul(x, one))(np.ones(3))
    assert [e.primitive.name for e in jaxpr.jaxpr.eqns] == ["mul"]
    a = np.ones(3)
    y = fxad.vmap(lambda x: x * 1.0)(a)
    assert y is not a and not np.shares_memory(y, a)
    p, t = fxad.jvp(lambda x: x * 1.0, (a,), (np.ones(3),))
    assert not np.shares_memory(p, a)
    # Not for a weakly typed or a float32 tracer.
    jaxpr = fxad.make_jaxpr(lambda x: lax.mul(x, seed))(2.0)  # weak x
    assert [e.primitive.name for e in jaxpr.jaxpr.eqns] == ["mul"]
    # A concrete array is never returned as its own product.
    assert lax.mul(a, seed) is not a


# ---------------------------------------------------------------------------
# Forward mode for a scalar grad under an outer derivative


def _count_linearizes(monkeypatch):
    calls = []
    real = fxad.api._linearize_unpaused

    def counting(*args):
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(fxad.api, "_linearize_unpaused", counting)
    return calls


def test_nested_scalar_grad_runs_forward_mode(monkeypatch):
    calls = _count_linearizes(monkeypatch)
    g4 = fxad.grad(fxad.grad(fxad.grad(fxad.grad(fnp.tanh))))
    x = 0.3
    t = np.tanh(x)
    s = 1.0 - t * t
    np.testing.assert_allclose(g4(x), 16.0 * t * s * s - 8.0 * t ** 3 * s, rtol=1e-13)
    assert len(calls) == 1  # the outermost grad only


@pytest.mark.parametrize("f", [
    lambda x: fnp.sin(x) * fnp.exp(x / 3.0),
    lambda x: fnp.tanh(x) ** 3 - 1.0 / (1.0 + x * x),
    lambda x: fnp.log1p(x * x) * fnp.cos(2.0 * x),
])
def test_nested_scalar_grads_agree_with_reverse_over_reverse(f):
    x = np.float64(0.7)
    fwd = fxad.grad(fxad.grad(f))(x)
    # jacrev of jacrev: reverse mode at both levels, never the forward path.
    rev = fxad.jacrev(fxad.jacrev(lambda v: f(v[0])[None]))(np.array([x]))[0, 0, 0]
    np.testing.assert_allclose(fwd, rev, rtol=1e-13)
    check_grads(fxad.grad(f), (x,), order=2)


def test_forward_grad_keeps_the_argument_dtype_and_shape():
    g = fxad.grad(fxad.grad(lambda x: x.astype(np.float64) ** 3))(np.float32(2.0))
    assert g.dtype == np.float32 and g.shape == ()
    np.testing.assert_allclose(g, 12.0)
    # A one-element output, as reverse mode accepts.
    g = fxad.grad(fxad.grad(lambda x: fnp.reshape(x ** 3, (1, 1))))(2.0)
    assert np.shape(g) == () and float(g) == 12.0
    # An output that does not depend on the argument: a zero of its dtype.
    g = fxad.grad(lambda x: fxad.grad(lambda y: 3.0 * x)(x) + x)(2.0)
    assert float(g) == 1.0
    vg = fxad.grad(lambda x: fxad.value_and_grad(lambda y: y ** 3)(x)[1])(2.0)
    assert float(vg) == 12.0


def test_forward_grad_with_aux_and_argnums():
    def inner(a, y):
        return a * y ** 3, {"y2": y * y}

    def outer(x):
        g, aux = fxad.grad(inner, argnums=1, has_aux=True)(2.0, x)
        return g + aux["y2"]

    # d/dx (6 x^2 + x^2) = 14 x
    np.testing.assert_allclose(fxad.grad(outer)(1.5), 21.0)


def test_forward_grad_under_jvp_and_jit():
    f = fnp.sin
    y, y_dot = fxad.jvp(fxad.grad(f), (0.5,), (2.0,))
    np.testing.assert_allclose([y, y_dot], [np.cos(0.5), -2.0 * np.sin(0.5)], rtol=1e-15)
    h = fxad.grad(fxad.grad(f))
    np.testing.assert_allclose(fxad.jit(h)(0.5), h(0.5), rtol=1e-15)
    assert fxad.jit(h)(0.5).dtype == h(0.5).dtype


def test_forward_grad_errors_are_reverse_modes():
    with pytest.raises(TypeError, match="scalar"):
        fxad.grad(lambda x: fxad.grad(lambda y: y * fnp.ones(3))(x))(1.0)
    with pytest.raises(TypeError, match="real-valued outputs"):
        fxad.grad(lambda x: fxad.grad(lambda y: y * 1j)(x).real)(1.0)
    assert core.trace_state.stack == []


def test_custom_vjp_inside_falls_back_to_reverse_mode(monkeypatch):
    @fxad.custom_vjp
    def h(x):
        return fnp.sin(x)

    h.defvjp(lambda x: (fnp.sin(x), x), lambda x, g: (g * 2.0 * fnp.cos(x),))
    calls = _count_linearizes(monkeypatch)
    # The bwd rule doubles the derivative: d/dx (2 cos x) = -2 sin x.
    np.testing.assert_allclose(fxad.grad(fxad.grad(h))(0.3), -2.0 * np.sin(0.3), rtol=1e-15)
    assert len(calls) == 2  # outer, then the inner's reverse-mode fallback
    with pytest.raises(ForwardModeError):
        fxad.jvp(h, (0.3,), (1.0,))
    assert isinstance(ForwardModeError("x"), TypeError)
    assert core.trace_state.stack == []


def test_vector_and_multi_argument_grads_stay_reverse(monkeypatch):
    calls = _count_linearizes(monkeypatch)
    fxad.grad(lambda x: fxad.grad(lambda v: fnp.sum(v ** 3))(x * fnp.ones(2)).sum())(1.0)
    assert len(calls) == 2
    calls.clear()
    fxad.grad(lambda x: fxad.grad(lambda a, b: a * b, argnums=(0, 1))(x, x)[0])(1.0)
    assert len(calls) == 2


def test_forward_mode_only_under_a_reverse_mode_derivative(monkeypatch):
    # Under jvp or jacfwd of grad, the inner grad stays reverse mode, so
    # what reverse mode refuses (a while_loop) is refused there too.
    calls = _count_linearizes(monkeypatch)
    fxad.jvp(fxad.grad(fnp.sin), (0.5,), (1.0,))
    assert len(calls) == 1

    def wl(x):
        return fxad.lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] * x),
                                   (0, x))[1]

    for outer in (lambda g: fxad.jvp(g, (1.5,), (1.0,)), lambda g: fxad.jacfwd(g)(1.5),
                  lambda g: fxad.grad(g)(1.5)):
        with pytest.raises(Exception, match="while"):
            outer(fxad.grad(wl))
        assert core.trace_state.stack == []


def test_a_refusal_caught_by_the_users_code_still_falls_back(monkeypatch):
    @fxad.custom_vjp
    def cv(x):
        return fnp.sin(x)

    cv.defvjp(lambda x: (fnp.sin(x), x), lambda x, g: (g * fnp.cos(x),))

    def h(x):
        try:
            return cv(x)
        except TypeError:  # would swallow forward mode's refusal
            return x ** 2

    calls = _count_linearizes(monkeypatch)
    np.testing.assert_allclose(fxad.grad(fxad.grad(h))(0.7), -np.sin(0.7), rtol=1e-15)
    assert len(calls) == 2


def test_nested_fallbacks_do_not_multiply(monkeypatch):
    @fxad.custom_vjp
    def cv(x):
        return fnp.sin(x)

    cv.defvjp(lambda x: (fnp.sin(x), x), lambda x, g: (g * fnp.cos(x),))
    runs = []

    def f(x):
        runs.append(1)
        return cv(x) * x

    g3 = fxad.grad(fxad.grad(fxad.grad(f)))
    x = 0.4
    # d^3/dx^3 (x sin x) = -3 sin x - x cos x
    np.testing.assert_allclose(g3(x), -3 * np.sin(x) - x * np.cos(x), rtol=1e-13)
    assert len(runs) == 2  # one failed forward attempt, then reverse mode
    runs.clear()
    fxad.grad(g3)(x)  # d^4/dx^4 (x sin x) = x sin x - 4 cos x
    assert len(runs) == 2
    np.testing.assert_allclose(fxad.grad(g3)(x), x * np.sin(x) - 4 * np.cos(x), rtol=1e-13)


def test_masked_infinite_derivative_documented_difference():
    # Reverse mode multiplies sqrt's infinite derivative at 0 by the zero
    # cotangent of the masked branch (nan); forward mode never forms it.
    f = lambda x: fnp.where(x > 0, fnp.sqrt(x), 0.0)  # noqa: E731
    with np.errstate(divide="ignore", invalid="ignore"):
        assert np.isnan(fxad.grad(f)(0.0))
        v, _ = fxad.value_and_grad(fxad.grad(f))(0.0)
    assert float(v) == 0.0


def test_python_float_inputs_stay_weak_under_grad():
    # linearize keeps a Python float's primal as a float64 scalar (the fast
    # paths) and its tracer weakly typed (what promotion reads).
    v, g = fxad.value_and_grad(lambda x: (x * np.ones(3, np.float32)).sum())(2.0)
    assert v.dtype == np.float32 and float(v) == 6.0
    assert type(g) is np.float64 and float(g) == 3.0
    g = fxad.grad(lambda x, y: x * y)(2.0, np.float32(3.0))  # the product is float32,
    assert type(g) is np.float64 and float(g) == 3.0  # the gradient a Python float's
    v, g = fxad.value_and_grad(lambda x: x)(2.0)
    assert type(v) is np.float64 and float(v) == 2.0 and float(g) == 1.0


def _scalar_program(a, b):
    # add, sub, mul (the product rule: sum_of_products), exp, sin: the rules
    # and transposes that take float64 scalars inline
    u = a * b
    return u + fnp.exp(u * 1e-3) - fnp.sin(b) * a - (b - a) * (b + a)


@given(st.floats(-100, 100), st.floats(-100, 100))
def test_scalar_inline_rules_are_bit_for_bit_the_array_paths(a, b):
    # float64 scalars take the rules' inline scalar math; 0-d arrays take the
    # lax functions' array paths: the same values, bit for bit, and dtypes.
    g = fxad.grad(_scalar_program, argnums=(0, 1))
    gs = g(np.float64(a), np.float64(b))
    ga = g(np.array(a), np.array(b))
    gf = g(a, b)  # Python floats: float64 primals, weakly typed tracers
    for x, y, z in zip(gs, ga, gf):
        assert type(x) is np.float64 and type(z) is np.float64
        np.testing.assert_array_equal(x, np.asarray(y))
        np.testing.assert_array_equal(x, z)
    gx = g(np.array(a, np.float32), np.array(b, np.float32))  # other dtypes: the general paths
    assert all(np.asarray(x).dtype == np.float32 for x in gx)


def test_new_traces_push_and_pop_together():
    from fxad.interpreters import ad

    assert core.trace_state.stack == []
    with core.new_traces(ad.LinearTape, ad.JVPTrace) as (tape, trace):
        assert core.trace_state.stack == [tape, trace]
        assert (tape.level, trace.level) == (0, 1) and tape.active and trace.active
    assert core.trace_state.stack == [] and not tape.active and not trace.active
    with pytest.raises(RuntimeError, match="inside"):
        with core.new_trace(ad.JVPTrace) as outer:
            with core.new_traces(ad.LinearTape, ad.JVPTrace) as (tape, trace):
                assert trace.level == 2
                raise RuntimeError("inside")
    assert core.trace_state.stack == [] and not (outer.active or tape.active or trace.active)


def test_staged_avals_are_memoised_and_bounded(monkeypatch):
    from fxad.interpreters import ad

    monkeypatch.setattr(ad, "_staged_avals", {})
    f64 = core.get_aval(np.float64(1.0))
    fxad.grad(lambda x: fnp.sin(x) * x)(0.5)
    assert ad._staged_avals[(lax.mul_p.abstract_eval, f64, f64)] is f64
    monkeypatch.setattr(ad, "_STAGED_AVALS_MAX", 3)
    for n in range(1, 8):  # new avals, new entries: cleared when full
        g = fxad.grad(lambda x: (fnp.sin(x) * x).sum())(np.ones(n))
        np.testing.assert_allclose(g, np.sin(1.0) + np.cos(1.0))
        assert len(ad._staged_avals) <= 3
    # an operand pair that abstract eval rejects raises every time (never memoised)
    tape = ad.LinearTape(0)
    t = tape.new_arg(core.get_aval(np.ones(3)))
    for _ in range(2):
        with pytest.raises(TypeError, match="lax.mul requires equal shapes"):
            tape.process_primitive(lax.mul_p, (t, np.ones(2)), {})


@pytest.mark.parametrize("lc,rc", [(0, 0), (0, 1), (1, 0), (1, 1)])
def test_matrix_dot_general_is_tensordot_bit_for_bit(lc, rc):
    # Two matrices contract by np.dot of transposed views (what np.tensordot
    # computes), eagerly and in jit's generated code.
    rng = np.random.default_rng(3)
    x = rng.standard_normal((7, 5) if lc == 0 else (5, 7))
    y = rng.standard_normal((7, 4) if rc == 0 else (4, 7))
    dn = (((lc,), (rc,)), ((), ()))
    want = np.tensordot(x, y, axes=((lc,), (rc,)))
    got = lax.dot_general(x, y, dn)
    np.testing.assert_array_equal(got, want)
    jitted = fxad.jit(lambda a, b: lax.dot_general(a * 1.0, b, dn))
    np.testing.assert_array_equal(jitted(x, y), want)


def test_numpy_layer_broadcast_fast_paths_match_the_general_path():
    # A tracer beside a NumPy array of its dtype, and a bias of a trailing
    # shape, broadcast as promote_broadcast does: same jaxpr, values, grads.
    rng = np.random.default_rng(4)
    W, b, Y = rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal((3, 4))

    def fast(W, b):
        return fnp.sum(Y * fnp.tanh(W + b) - W * Y)

    def general(W, b):
        return fnp.sum(fnp.asarray(Y) * fnp.tanh(W + fnp.broadcast_to(b, W.shape)) - W * Y)

    np.testing.assert_array_equal(fast(W, b), general(W, b))
    for gf, gg in zip(fxad.grad(fast, argnums=(0, 1))(W, b),
                      fxad.grad(general, argnums=(0, 1))(W, b)):
        np.testing.assert_array_equal(gf, gg)
    printed = str(fxad.make_jaxpr(fast)(W, b))
    assert "broadcast_in_dim" in printed and "convert_element_type" not in printed
    # a size-1 axis that grows, or another dtype: the general path, same answers
    b1 = b.reshape(1, 4)
    np.testing.assert_allclose(fxad.grad(lambda W: fnp.sum(W * b1))(W),
                               np.broadcast_to(b1, W.shape))
    g32 = fxad.grad(lambda W: fnp.sum(W * b.astype(np.float32)))(W)
    assert g32.dtype == np.float64
    np.testing.assert_allclose(g32, np.broadcast_to(b.astype(np.float32), W.shape))


def test_staged_avals_follow_a_redefined_abstract_eval():
    # The memo is keyed by the rule, not the primitive: a primitive whose
    # abstract eval is defined again is staged with the new one.
    from fxad.interpreters import ad

    tape = ad.LinearTape(0)
    t = tape.new_arg(core.get_aval(np.ones(3)))
    saved = lax.neg_p.abstract_eval
    out = tape.process_primitive(lax.neg_p, (t,), {})
    assert out.aval is core.get_aval(np.ones(3))
    try:
        lax.neg_p.def_abstract_eval(lambda x: core.shaped(x.shape, np.dtype(np.float32)))
        assert tape.process_primitive(lax.neg_p, (t,), {}).aval.dtype == np.float32
    finally:
        lax.neg_p.def_abstract_eval(saved)
    assert tape.process_primitive(lax.neg_p, (t,), {}).aval is core.get_aval(np.ones(3))
