"""Tests for fxad.test_util: check_grads passes on correct derivatives and,
just as important, fails -- naming the mode and order -- on wrong ones.

Wrong derivatives are built with stop_gradient, which changes what AD sees
without changing values:

* ``sin(x) + sg(x**2)``: values have derivative ``cos + 2x``, AD says ``cos``.
* ``_SECOND_WRONG``: the value is ``x**3`` and AD's first derivative is
  ``sg(3x**2)``, right in value but constant to any enclosing transformation,
  so the second derivative AD reports is 0 instead of ``6x``.
* ``_THIRD_WRONG``: the same trick one level up; AD's first two derivatives
  are right, the third is 0 instead of ``24x``.
"""

import functools
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fxad
import fxad.api
import fxad.numpy as fnp
from fxad.test_util import (
    DEFAULT_EPS,
    DEFAULT_GRADIENT_TOLERANCE,
    check_grads,
    check_jvp,
    check_vjp,
    numerical_jvp,
)

sg = fxad.stop_gradient
hyp = settings(deadline=None, max_examples=30, derandomize=True)


def _points(seed, shape, low=0.5, high=1.5):
    """Deterministic test points away from 0 (where wrong terms like 2x vanish)."""
    return np.random.default_rng(seed).uniform(low, high, shape)


def _wrong_first(x):
    return fnp.sin(x) + sg(x ** 2)


def _second_wrong(x):
    return sg(x ** 3) + (x - sg(x)) * sg(3 * x ** 2)


def _third_wrong(x):
    d = x - sg(x)  # value 0, derivative 1
    return sg(x ** 4) + d * sg(4 * x ** 3) + 0.5 * d ** 2 * sg(12 * x ** 2)


def _off_by(c):
    """sin with a derivative that is off by ``c`` (values are exactly sin)."""
    return lambda x: fnp.sin(x) + c * (x - sg(x))


# ---------------------------------------------------------------------------
# Correct derivatives pass


@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("modes", [("fwd",), ("rev",), ("fwd", "rev")])
def test_scalar_functions_pass(order, modes):
    check_grads(fnp.sin, (0.5,), order, modes=modes)
    check_grads(lambda x: fnp.exp(x) * fnp.sin(x), (0.3,), order, modes=modes)
    check_grads(lambda x, y: fnp.sin(x) * y + fnp.exp(y), (0.5, -0.7), order, modes=modes)


def test_steep_function_passes_at_default_tolerance():
    # |f'''''| ~ 1e5 |f|: the 4-point stencil keeps the truncation error tiny.
    check_grads(lambda x: fnp.exp(10.0 * x), (0.7,), order=3)


def test_python_and_numpy_scalars_in_and_out():
    check_grads(lambda x: x * x, (np.float64(1.5),), order=2)
    check_grads(lambda x, y: fnp.sin(x) * y, (0.5, 2.0), order=2)
    assert isinstance(fnp.sin(0.5), np.float64)  # a NumPy scalar output


def test_matrix_products_pass():
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    check_grads(lambda a, b: fnp.sin(a @ b), (A, B), order=2)
    check_grads(lambda a, b: fnp.sum(fnp.matmul(a, b) ** 2), (A, B), order=3)


def test_pytree_inputs_and_outputs_pass():
    rng = np.random.default_rng(1)
    params = {"w": rng.standard_normal((2, 3)), "b": (rng.standard_normal(2), 0.3)}
    x = rng.standard_normal(3)

    def f(p, x):
        h = fnp.tanh(p["w"] @ x + p["b"][0]) * p["b"][1]
        return {"loss": fnp.sum(h ** 2), "h": [h, fnp.exp(h)]}

    check_grads(f, (params, x), order=2)
    check_grads(lambda t: t[0] * fnp.cos(t[1]), ([1.5, 0.4],), order=2)


def test_none_and_integer_leaves_are_held_fixed():
    check_grads(lambda d: d["a"] * 2.0, ({"a": 1.5, "b": None},), order=2)
    check_grads(lambda x, n: x * n, (np.arange(3.0), 3), order=2)


def test_float32_passes_with_its_defaults():
    x = np.linspace(0.1, 1.0, 4).astype(np.float32)
    check_grads(lambda x: fnp.sin(x) * fnp.exp(x), (x,), order=3)
    check_grads(fnp.tanh, (np.float32(0.3),), order=2)


def test_complex_inputs_pass():
    z = np.array([0.3 + 0.4j, 1.0 - 2.0j])
    check_grads(lambda z: fnp.sin(z) * fnp.exp(z), (z,), order=2)  # holomorphic
    check_grads(lambda z: fnp.sin(z) * fnp.conj(z), (z,), order=2)  # not holomorphic
    check_grads(lambda z: fnp.real(z * z) + fnp.imag(fnp.exp(z)), (z,), order=2)  # C -> R


_UNARY = {
    "sin": fnp.sin,
    "exp_sin": lambda x: fnp.exp(x) * fnp.sin(x),
    "sum_sq": lambda x: fnp.sum(fnp.sin(x) ** 2),
    "tree_out": lambda x: {"a": fnp.cos(x), "b": (fnp.sum(x * x),)},
}


@hyp
@given(name=st.sampled_from(sorted(_UNARY)),
       shape=hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3),
       seed=st.integers(0, 2 ** 16), order=st.integers(1, 3),
       modes=st.sampled_from([("fwd",), ("rev",), ("fwd", "rev")]))
def test_unary_functions_pass(name, shape, seed, order, modes):
    x = np.random.default_rng(seed).standard_normal(shape)
    check_grads(_UNARY[name], (x,), order, modes=modes)


@hyp
@given(n=st.integers(1, 3), k=st.integers(1, 3), m=st.integers(1, 3),
       seed=st.integers(0, 2 ** 16))
def test_matmul_and_tuple_input_pass(n, k, m, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal((n, k)), rng.standard_normal((k, m))
    check_grads(lambda ab: fnp.sin(ab[0] @ ab[1]) * 2.0, ((a, b),), order=2)


# ---------------------------------------------------------------------------
# Wrong derivatives fail, naming the mode and order


@hyp
@given(shape=hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3),
       seed=st.integers(0, 2 ** 16), order=st.integers(1, 2))
def test_wrong_first_derivative_fails_in_each_mode(shape, seed, order):
    x = _points(seed, shape)
    with pytest.raises(AssertionError, match=r"^JVP \(order 1\) check failed"):
        check_grads(_wrong_first, (x,), order, modes=("fwd",))
    with pytest.raises(AssertionError, match=r"^VJP \(order 1\) check failed"):
        check_grads(_wrong_first, (x,), order, modes=("rev",))
    with pytest.raises(AssertionError, match=r"^JVP \(order 1\)"):
        check_grads(_wrong_first, (x,), order)  # forward runs first


def test_stop_gradient_of_everything_fails():
    with pytest.raises(AssertionError, match="^VJP"):
        check_grads(lambda x: sg(fnp.sin(x)), (np.array([0.5, 1.0]),), 1, modes=("rev",))


def test_wrong_derivative_in_one_pytree_leaf_fails():
    def f(d):
        return {"good": fnp.sin(d["x"]), "bad": fnp.cos(d["y"]) + sg(d["y"] ** 2)}

    args = ({"x": np.array([0.5, 1.0]), "y": np.array([0.7, 1.2])},)
    # Leaves come in sorted key order: "bad" is leaf 0.
    with pytest.raises(AssertionError, match=r"JVP \(order 1\).*\n.*worst at output leaf 0 of 2"):
        check_grads(f, args, 1, modes=("fwd",))
    with pytest.raises(AssertionError, match="^VJP"):
        check_grads(f, args, 1, modes=("rev",))


@pytest.mark.parametrize("x", [0.7, np.array([0.6, 1.3, 0.9])])
def test_second_order_error_caught_at_order_2_only(x):
    np.testing.assert_allclose(_second_wrong(x), x ** 3)
    check_grads(_second_wrong, (x,), order=1)
    with pytest.raises(AssertionError, match=r"^JVP of JVP \(order 2\) check failed"):
        check_grads(_second_wrong, (x,), order=2)
    with pytest.raises(AssertionError, match=r"^VJP of VJP \(order 2\) check failed"):
        check_grads(_second_wrong, (x,), order=2, modes=("rev",))


def test_third_order_error_caught_at_order_3_only():
    x = 0.7
    np.testing.assert_allclose(_third_wrong(x), x ** 4)
    check_grads(_third_wrong, (x,), order=2)
    with pytest.raises(AssertionError, match=r"^JVP of JVP of JVP \(order 3\)"):
        check_grads(_third_wrong, (x,), order=3)
    with pytest.raises(AssertionError, match=r"^VJP of VJP of VJP \(order 3\)"):
        check_grads(_third_wrong, (x,), order=3, modes=("rev",))


def test_complex_wrong_derivative_fails():
    z = np.array([0.3 + 0.4j, 1.0 - 2.0j])
    wrong = lambda z: z + sg(fnp.conj(z))  # noqa: E731 - AD misses the conj term
    with pytest.raises(AssertionError, match="^JVP"):
        check_grads(wrong, (z,), 1, modes=("fwd",))
    with pytest.raises(AssertionError, match="^VJP"):
        check_grads(wrong, (z,), 1, modes=("rev",))


# ---------------------------------------------------------------------------
# The error message


def test_message_names_mode_order_errors_and_values():
    with pytest.raises(AssertionError) as info:
        check_grads(_wrong_first, (0.5,), 1, modes=("fwd",))
    msg = str(info.value)
    lines = msg.splitlines()
    assert lines[0] == ("JVP (order 1) check failed: the tangent output differs from "
                        "central finite differences")
    # The direction has unit norm, so for a scalar the error is exactly |2x| * 1.
    assert "max abs error 1.000e+00" in lines[1]
    assert re.search(r"max rel error \d\.\d{3}e[+-]\d\d", lines[1])
    assert "(atol=1e-05, rtol=1e-05, eps=0.0001)" in lines[1]
    expected = float(lines[2].split(":")[1])
    actual = float(lines[3].split(":")[1])
    assert lines[2].startswith("  expected:") and lines[3].startswith("  actual:")
    assert abs(abs(expected) - (np.cos(0.5) + 1.0)) < 1e-5
    assert abs(abs(actual) - np.cos(0.5)) < 1e-5


def test_message_abbreviates_large_arrays_and_locates_the_worst_element():
    x = np.full(1000, 0.5)
    x[123] = 3.0
    with pytest.raises(AssertionError) as info:
        check_grads(_wrong_first, (x,), 1, modes=("fwd",))
    msg = str(info.value)
    assert "worst at index (" in msg
    assert "..." in msg and len(msg) < 1200


def test_vjp_message():
    with pytest.raises(AssertionError) as info:
        check_grads(_wrong_first, (np.array([0.5, 1.0]),), 1, modes=("rev",))
    lines = str(info.value).splitlines()
    assert lines[0] == ("VJP (order 1) check failed: <vjp(u), v> differs from <u, J v> by "
                        "central finite differences")
    assert "max abs error" in lines[1] and "expected:" in lines[2] and "actual:" in lines[3]


def test_deterministic():
    messages = set()
    for _ in range(2):
        with pytest.raises(AssertionError) as info:
            check_grads(_second_wrong, (np.array([0.6, 1.3]),), order=2)
        messages.add(str(info.value))
    assert len(messages) == 1


# ---------------------------------------------------------------------------
# Tolerances


def test_default_tolerances():
    assert DEFAULT_EPS[np.dtype(np.float64)] == 1e-4
    assert DEFAULT_EPS[np.dtype(np.float32)] == 1e-2
    assert DEFAULT_GRADIENT_TOLERANCE[np.dtype(np.float64)] == 1e-5
    assert DEFAULT_GRADIENT_TOLERANCE[np.dtype(np.float32)] == 2e-2
    x = np.array([0.5, 1.0])
    check_grads(_off_by(1e-8), (x,), order=2)  # within float64's defaults
    with pytest.raises(AssertionError, match="atol=1e-05, rtol=1e-05, eps=0.0001"):
        check_grads(_off_by(1e-3), (x,), order=1)


def test_float32_default_tolerance():
    x = np.array([0.5, 1.0], np.float32)
    check_grads(_off_by(1e-3), (x,), order=1)  # within float32's 2e-2
    with pytest.raises(AssertionError, match="atol=0.02, rtol=0.02, eps=0.01"):
        check_grads(_off_by(0.5), (x,), order=1)


def test_explicit_tolerances():
    x = np.array([0.5, 1.0])
    check_grads(_off_by(1e-3), (x,), order=1, atol=1e-2, rtol=1e-2)
    check_grads(_off_by(1e-3), (x,), order=1, atol={np.float64: 1e-2}, rtol=0.0)
    with pytest.raises(AssertionError, match="atol=1e-06"):
        check_grads(_off_by(1e-3), (x,), order=1, atol=1e-6, rtol=0.0)
    check_grads(fnp.sin, (x,), order=2, eps=1e-3)


# ---------------------------------------------------------------------------
# Modes


def _counting(monkeypatch, name):
    calls = []
    original = getattr(fxad.api, name)

    def counted(*args, **kwargs):
        calls.append(name)
        return original(*args, **kwargs)

    monkeypatch.setattr(fxad.api, name, counted)
    return calls


@pytest.mark.parametrize("order", [1, 2])
def test_fwd_mode_runs_only_forward_checks(monkeypatch, order):
    jvps, vjps = _counting(monkeypatch, "jvp"), _counting(monkeypatch, "vjp")
    check_grads(fnp.sin, (0.5,), order, modes=("fwd",))
    assert jvps and not vjps


@pytest.mark.parametrize("order", [1, 2])
def test_rev_mode_runs_only_reverse_checks(monkeypatch, order):
    jvps, vjps = _counting(monkeypatch, "jvp"), _counting(monkeypatch, "vjp")
    check_grads(fnp.sin, (0.5,), order, modes=("rev",))
    assert vjps and not jvps


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown mode"):
        check_grads(fnp.sin, (0.5,), 1, modes=("forward",))
    with pytest.raises(ValueError, match="order"):
        check_grads(fnp.sin, (0.5,), 0)
    check_grads(fnp.sin, (0.5,), 1, modes="fwd")  # a single mode as a string


# ---------------------------------------------------------------------------
# The helpers


def test_numerical_jvp_stencil_is_exact_for_quartics():
    # The 4-point stencil's error is O(h**4) f''''': zero for degree <= 4.
    f = lambda x: 3 * x ** 4 - x ** 3 + 2 * x  # noqa: E731
    assert numerical_jvp(f, (1.5,), (1.0,), eps=0.5) == pytest.approx(12 * 1.5 ** 3
                                                                      - 3 * 1.5 ** 2 + 2)


def test_numerical_jvp_pytrees_and_dtypes():
    x = np.array([0.2, 0.4])
    out = numerical_jvp(lambda d: (np.exp(d["a"]), np.int64(3)), ({"a": x},), ({"a": x},))
    np.testing.assert_allclose(out[0], np.exp(x) * x, rtol=1e-11)
    assert out[1] == 0 and out[1].dtype == np.int64
    y = numerical_jvp(np.sin, (np.float32(0.5),), (np.float32(1.0),))
    assert y.dtype == np.float32 and abs(y - np.cos(0.5)) < 1e-5
    with pytest.raises(TypeError, match="structure"):
        numerical_jvp(np.sin, (0.5,), ((0.5, 0.5),))


def test_check_jvp_and_check_vjp_helpers():
    f = lambda x: fnp.sum(fnp.sin(x) ** 2)  # noqa: E731
    x = (np.arange(3.0),)
    check_jvp(f, functools.partial(fxad.jvp, f), x)
    check_vjp(f, functools.partial(fxad.vjp, f), x)

    def wrong_jvp(args, tangents):
        return f(*args), 0.0 * fnp.sum(tangents[0])

    def wrong_vjp(*args):
        return f(*args), lambda ct: (ct * np.ones(3),)

    with pytest.raises(AssertionError, match="^JVP check failed: the tangent output"):
        check_jvp(f, wrong_jvp, x)
    with pytest.raises(AssertionError, match="^VJP check failed: <vjp"):
        check_vjp(f, wrong_vjp, x)
    with pytest.raises(AssertionError, match="^mine check failed: the primal output"):
        check_jvp(f, lambda a, t: (f(*a) + 1.0, fxad.jvp(f, a, t)[1]), x, err_msg="mine")
    with pytest.raises(AssertionError, match="tangent output has a dtype"):
        check_jvp(f, lambda a, t: (f(*a), np.float32(fxad.jvp(f, a, t)[1])), x)
    with pytest.raises(AssertionError, match="expected a tuple"):
        check_vjp(f, lambda *a: (f(*a), lambda ct: ct * np.ones(3)), x)
