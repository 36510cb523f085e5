"""Unmodified NumPy/SciPy code under fxad's transformations (issue 10):
this module is written with ``import numpy as np`` / ``import scipy`` only
(plus fxad's transforms), as a user's program is.  It covers lists of traced
values (item 1), gradients of one-element outputs (item 7) and the messages
at the edges of what NumPy's dispatch can reach (item 9)."""

import math

import numpy as np
import pytest
import scipy.linalg
import scipy.special
import scipy.stats

from fxad import grad, jit, value_and_grad, vmap
from fxad.errors import ConcretizationTypeError

# ---------------------------------------------------------------------------
# Item 1: lists of traced values where NumPy dispatches (a traced operand;
# numpy.sum([x, x]) converts the list before any dispatch: fxad.numpy.sum or
# numpy.stack take it)


def test_operators_and_ufuncs_with_lists_of_traced_values():
    def f(x):
        v = np.add(x, [1.0, x]) * [x, 2.0]       # ufunc and operator
        w = np.maximum([x, -x], 0.0 * x) + np.exp(x + [0.0, 1.0]) * x
        return np.sum(v) + np.dot(w, [1.0, 2.0] * x)

    def ref(x):
        v = (x + np.array([1.0, x])) * np.array([x, 2.0])
        w = np.maximum(np.array([x, -x]), 0.0) + np.exp(x + np.array([0.0, 1.0])) * x
        return np.sum(v) + np.dot(w, np.array([1.0, 2.0]) * x)

    x = 0.6
    np.testing.assert_allclose(jit(f)(x), ref(x), rtol=1e-14)
    h = 1e-6
    np.testing.assert_allclose(grad(f)(x), (ref(x + h) - ref(x - h)) / (2 * h), rtol=1e-8)
    np.testing.assert_allclose(vmap(f)(np.array([0.6, -0.2])), [ref(0.6), ref(-0.2)],
                               rtol=1e-14)


def test_concatenate_and_stack_of_traced_pieces():
    def f(x):
        return np.sum(np.concatenate([np.ones(2), x * [1.0, x]]) ** 2) + np.sum(np.stack([x, 1.0]))

    np.testing.assert_allclose(grad(f)(3.0), 2 * 3.0 + 4 * 27.0 + 1.0, rtol=1e-14)
    np.testing.assert_allclose(jit(f)(3.0), 2 + 9 + 81 + 4.0, rtol=1e-14)


# ---------------------------------------------------------------------------
# Item 7: one-element outputs, as autograd programs write them


def test_grad_of_a_one_element_output():
    def loss(w):
        X = np.array([[1.0, 2.0], [0.5, -1.0]])
        y = np.array([[1.0], [0.0]])
        r = X @ w.reshape(2, 1) - y
        return r.T @ r  # shape (1, 1)

    w = np.array([0.3, -0.4])
    X = np.array([[1.0, 2.0], [0.5, -1.0]])
    want = 2 * X.T @ (X @ w - np.array([1.0, 0.0]))
    np.testing.assert_allclose(grad(loss)(w), want, rtol=1e-14)
    v, g = value_and_grad(loss)(w)
    assert v.shape == (1, 1)
    np.testing.assert_allclose(v, loss(w), rtol=1e-15)
    np.testing.assert_allclose(g, want, rtol=1e-14)
    with pytest.raises(TypeError, match="scalar output"):
        grad(lambda w: X @ w)(w)


# ---------------------------------------------------------------------------
# Item 9: clearer edges


@pytest.mark.parametrize("call, fxad_name", [
    (lambda x: scipy.special.logsumexp(x), "fxad.scipy.special.logsumexp"),
    (lambda x: scipy.linalg.expm(np.diag(x)).sum(), "fxad.scipy.linalg.expm"),
    (lambda x: scipy.stats.norm.logpdf(x).sum(), "fxad.scipy.stats.norm.logpdf"),
])
def test_scipy_non_ufunc_names_the_fxad_function(call, fxad_name):
    for transform in (grad, jit):
        with pytest.raises(ConcretizationTypeError, match=fxad_name.replace(".", r"\.")) as e:
            transform(lambda x: np.sum(call(x)))(np.array([0.5, 1.0]))
        assert "is not a ufunc" in str(e.value)


def test_a_missing_scipy_ufunc_is_named_as_scipys():
    # scipy.special.struve is a SciPy ufunc fxad does not implement.
    with pytest.raises(TypeError, match=r"ufunc scipy\.special\.struve ") as e:
        grad(lambda x: scipy.special.struve(1.0, x))(0.5)
    assert "numpy.struve" not in str(e.value)


@pytest.mark.parametrize("fn, suggestion", [
    (lambda x: math.sqrt(x), "fxad.numpy.sqrt"),
    (lambda x: math.exp(x) * 2.0, "fxad.numpy.exp"),
    (lambda x: math.atan2(x, 1.0), "fxad.numpy.arctan2"),
    (lambda x: math.lgamma(x), "fxad.scipy.special.gammaln"),
])
def test_math_functions_on_a_tracer_say_what_to_use(fn, suggestion):
    for transform in (grad, jit, vmap):
        arg = np.array([0.5, 0.7]) if transform is vmap else 0.5
        with pytest.raises(ConcretizationTypeError, match=suggestion.replace(".", r"\.")):
            transform(fn)(arg)


def test_writing_a_traced_value_into_a_numpy_array_is_fxads_own_error():
    def f(x):
        out = np.zeros(3)
        for i in range(3):
            out[i] = x[i] ** 2
        return out.sum()

    for transform in (grad, jit, vmap):
        arg = np.ones((2, 3)) if transform is vmap else np.ones(3)
        with pytest.raises(ConcretizationTypeError, match=r"out\[i\] = value") as e:
            transform(f)(arg)
        assert ".at(out)[i].set(value)" in str(e.value) and "stack(values)" in str(e.value)
        # The top-level error is fxad's, not NumPy's ValueError with a cause.
        assert not isinstance(e.value, ValueError)


def test_the_functional_fix_works():
    import fxad.numpy as fnp  # the fix the message names

    def f(x):
        out = fnp.zeros(3)
        for i in range(3):
            out = fnp.at(out)[i].set(x[i] ** 2)
        return out.sum()

    np.testing.assert_allclose(grad(f)(np.array([1.0, 2.0, 3.0])), [2.0, 4.0, 6.0])


E = np.array([10.0, 20.0, 30.0, 40.0])


def test_indexing_a_numpy_constant_with_a_traced_index():
    for transform, arg in ((jit, 2), (vmap, np.array([0, 3]))):
        with pytest.raises(ConcretizationTypeError, match=r"fxad\.numpy\.asarray\(E\)\[i\]"):
            transform(lambda i: E[i])(arg)
    import fxad.numpy as fnp  # the fix the message names

    assert float(jit(lambda i: fnp.asarray(E)[i])(2)) == 30.0
    np.testing.assert_array_equal(vmap(lambda i: fnp.asarray(E)[i])(np.array([0, 3])), [10., 40.])
    g = grad(lambda x, i: fnp.asarray(E)[i] * x)(2.0, 1)
    assert float(g) == 20.0
    # .at works on it too, and operations give plain NumPy arrays back.
    out = jit(lambda i: fnp.asarray(E).at[i].set(0.0))(1)
    np.testing.assert_array_equal(out, [10.0, 0.0, 30.0, 40.0])
    assert type(fnp.asarray(E)) is np.ndarray  # outside transformations: NumPy's
