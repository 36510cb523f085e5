"""Bad input gets a clear error, and fxad is left clean afterwards; deep
programs, threads and escaped tracers."""

from __future__ import annotations

import math
import sys
import threading

import numpy as np
import pytest

import fxad
import fxad.numpy as fnp
from fxad import core
from fxad.errors import ConcretizationTypeError, UnexpectedTracerError


def assert_clean():
    """No trace left on the stack, and the next grad is right."""
    assert core.trace_state.stack == []
    assert fxad.grad(lambda x: x * fnp.sin(x))(0.5) == pytest.approx(
        math.sin(0.5) + 0.5 * math.cos(0.5), rel=1e-15)


def test_grad_of_non_scalar_output():
    with pytest.raises(TypeError, match=r"scalar.*shape \(3,\).*jacrev.*vjp"):
        fxad.grad(lambda x: x * 2.0)(np.ones(3))
    assert_clean()


def test_grad_of_pytree_output():
    with pytest.raises(TypeError, match="scalar"):
        fxad.grad(lambda x: (x, x))(1.0)
    assert_clean()


def test_grad_of_integer_output():
    with pytest.raises(TypeError, match="floating-point"):
        fxad.grad(lambda x: (x > 0).astype(np.int64).sum())(np.ones(2))
    assert_clean()


@pytest.mark.parametrize("bad", [3, np.int32(3), True, np.arange(3)])
def test_grad_wrt_integer_or_bool(bad):
    with pytest.raises(TypeError, match=r"argument 1 has dtype (int|bool)"):
        fxad.grad(lambda x, y: x * y, argnums=1)(2.0, bad)
    assert_clean()


def test_grad_wrt_integer_message_names_the_way_out():
    with pytest.raises(TypeError, match="argument 0 has dtype int64.*float"):
        fxad.grad(lambda x: x * 2.0)(3)


def test_integer_argument_outside_argnums_is_fine():
    assert fxad.grad(lambda x, n: x ** 2 * n)(3.0, 2) == pytest.approx(12.0)


def test_string_argument():
    with pytest.raises(TypeError, match="str"):
        fxad.grad(lambda x: x)("hello")
    with pytest.raises(TypeError, match="str"):
        fxad.jvp(lambda x: x, ("a",), ("b",))
    assert_clean()


def test_bad_argnums():
    with pytest.raises(ValueError, match="argnums"):
        fxad.grad(lambda x: x, argnums=2)(1.0)
    assert_clean()


def test_jvp_shape_mismatch():
    with pytest.raises(ValueError, match="same shape"):
        fxad.jvp(fnp.sin, (np.ones(3),), (np.ones(2),))
    with pytest.raises(TypeError, match="dtype"):
        fxad.jvp(fnp.sin, (np.ones(3),), (np.ones(3, np.float32),))
    assert_clean()


def test_vjp_cotangent_mismatch():
    _, f_vjp = fxad.vjp(fnp.sin, np.ones(3))
    with pytest.raises(ValueError, match="cotangent"):
        f_vjp(np.ones(2))
    assert_clean()


# ---------------------------------------------------------------------------
# Concretization


def branchy(x):
    if x > 0:
        return x
    return -x


def test_transpose_rule_with_a_wrong_cotangent_count(monkeypatch):
    # A transpose rule returns one cotangent per operand: a rule that breaks
    # that is named, and a ValueError of a rule's own passes through as it is.
    from fxad import lax
    from fxad.interpreters import ad

    monkeypatch.setitem(ad.transpose_rules, lax.neg_p, lambda ct, x: [lax.neg(ct), None])
    with pytest.raises(ValueError, match=r"transpose rule of 'neg' returned 2 cotangent\(s\) "
                                         r"for 1 operand\(s\)") as info:
        fxad.grad(lambda x: -fnp.sin(x))(0.5)
    assert info.value.__context__ is None or info.value.__suppress_context__

    def boom(ct, x):
        raise ValueError("a rule's own error")

    monkeypatch.setitem(ad.transpose_rules, lax.neg_p, boom)
    with pytest.raises(ValueError, match="a rule's own error"):
        fxad.grad(lambda x: -fnp.sin(x))(0.5)
    monkeypatch.undo()
    assert_clean()


def test_linear_program_transpose_wants_one_cotangent_per_output():
    from fxad.interpreters import ad

    _, linear, _ = ad.linearize_flat(lambda x: [fnp.sin(x)], [0.5])
    with pytest.raises(ValueError, match=r"2 output cotangent\(s\) for 1 output\(s\)"):
        linear.transpose([1.0, 2.0])
    (ct,) = linear.transpose([np.float64(2.0)])
    assert ct == pytest.approx(2.0 * math.cos(0.5), rel=1e-15)
    assert_clean()


@pytest.mark.parametrize("fn", [
    branchy,
    lambda x: float(x),
    lambda x: np.asarray(x),
    lambda x: int(x),
    lambda x: x.item(),
    lambda x: range(x),
    lambda x: bool(x),
])
def test_concretization_in_make_jaxpr(fn):
    with pytest.raises(ConcretizationTypeError) as info:
        fxad.make_jaxpr(fn)(1.0)
    assert isinstance(info.value, TypeError)
    msg = str(info.value)
    assert "abstract" in msg and ("where" in msg or "static" in msg)
    assert_clean()


@pytest.mark.parametrize("fn", [
    lambda x: float(x) * 2.0,
    lambda x: int(x) * 2.0,
    lambda x: x.item() * 2.0,
    lambda x: np.asarray(x) * 2.0,
])
@pytest.mark.parametrize("transform", ["grad", "jvp"])
def test_conversion_under_grad_and_jvp_raises(fn, transform):
    with pytest.raises(ConcretizationTypeError, match="derivative.*stop_gradient"):
        if transform == "grad":
            fxad.grad(fn)(1.5)
        else:
            fxad.jvp(fn, (1.5,), (1.0,))
    assert_clean()


def test_comparisons_on_concrete_values_work_under_grad():
    assert fxad.grad(branchy)(2.0) == 1.0
    assert fxad.grad(branchy)(-2.0) == -1.0
    assert fxad.grad(lambda x: x ** 2 if bool(x < 1) else x)(0.5) == 1.0
    assert_clean()


def test_conversion_after_stop_gradient_works():
    assert fxad.grad(lambda x: x * float(fxad.stop_gradient(x)))(3.0) == 3.0
    assert_clean()


def test_error_inside_user_function_leaves_clean_state():
    def f(x):
        raise RuntimeError("boom")

    for transform in (fxad.grad, fxad.jacfwd, fxad.jacrev, fxad.hessian):
        with pytest.raises(RuntimeError, match="boom"):
            transform(f)(1.0)
        assert_clean()
    with pytest.raises(RuntimeError, match="boom"):
        fxad.grad(lambda x: fxad.grad(f)(x))(1.0)
    assert_clean()


def test_escaped_tracer():
    leaked = []

    def f(x):
        leaked.append(x)
        return x * 2.0

    fxad.grad(f)(1.0)
    with pytest.raises(UnexpectedTracerError, match="finished"):
        fxad.grad(lambda y: y * leaked[0])(2.0)
    assert_clean()


def test_setitem_on_tracer():
    def f(x):
        x[0] = 1.0
        return x.sum()

    with pytest.raises(TypeError, match="immutable"):
        fxad.grad(f)(np.ones(3))
    assert_clean()


def test_tracer_repr_shows_shape_dtype_value():
    seen = []
    fxad.grad(lambda x: seen.append(repr(x)) or x.sum())(np.array([1.0, 2.0]))
    assert "f64[2]" in seen[0] and "1." in seen[0] and "2." in seen[0]
    text = []
    fxad.make_jaxpr(lambda x: text.append(repr(x)) or x)(1.0)
    assert "f64[]" in text[0] and "value" not in text[0]


# ---------------------------------------------------------------------------
# Deep programs and threads


def test_deep_chain_reverse_mode_no_recursion_error():
    n = 20_000

    def f(x):
        for _ in range(n):
            x = fnp.sin(x)
        return x

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)  # a recursive backward pass would fail here
    try:
        g = fxad.grad(f)(0.5)
    finally:
        sys.setrecursionlimit(limit)
    # Reference: d/dx sin^n(x) = prod cos(x_k) by the chain rule, forward.
    x, d = 0.5, 1.0
    for _ in range(n):
        d *= math.cos(x)
        x = math.sin(x)
    assert g == pytest.approx(d, rel=1e-10)


def test_threads_get_their_own_answers():
    results = {}
    errors = []

    def work(k):
        try:
            x0 = 0.1 * (k + 1)
            for _ in range(20):
                g = fxad.grad(lambda x: fxad.grad(lambda y: fnp.sin(y) * k)(x) * x)(x0)
                # d/dx [k cos(x) x] = k (cos x - x sin x)
                expected = k * (math.cos(x0) - x0 * math.sin(x0))
                if abs(g - expected) > 1e-12 * (1 + abs(expected)):
                    errors.append((k, g, expected))
            results[k] = True
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append((k, repr(e)))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(results) == 8
    assert_clean()
