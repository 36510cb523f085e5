"""Differentiating plain NumPy code: every function below is written against
``import numpy as np`` only (no fxad.numpy), and reaches fxad through NumPy's
dispatch protocols (``__array_ufunc__``, NEP 13, and ``__array_function__``,
NEP 18) implemented by fxad's tracers.

Each function is checked with ``check_grads`` (to second order where that is
cheap) and, where a closed form is easy, against its analytic gradient.  Then
the edges of the protocols: unsupported functions, methods and keywords raise
a ``TypeError`` naming them, ``out=`` and in-place updates raise, NumPy cannot
turn a tracer into an array (``np.asarray``/``np.array``), and operands of
other array libraries are left to them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import fxad
from fxad.errors import ConcretizationTypeError
from fxad.test_util import check_grads

DOCS = Path(__file__).resolve().parent.parent / "docs"

rng = np.random.default_rng(20240607)
X = rng.standard_normal(5)
A = rng.standard_normal((4, 5))
M = rng.standard_normal((3, 3))
SPD = M @ M.T + 3 * np.eye(3)
Q = rng.standard_normal((5, 5))
V = rng.standard_normal(5)
Y = rng.standard_normal(4)
ONE_HOT = np.eye(5)[2]
POS = rng.uniform(0.5, 2.0, 5)
DISTINCT = np.array([0.3, -1.2, 2.5, 0.9, -0.4])


# ---------------------------------------------------------------------------
# The functions, in plain NumPy


def softmax(x):
    e = np.exp(x - np.max(x))
    return e / np.sum(e)


def log_softmax(x):
    m = np.max(x)
    return x - m - np.log(np.sum(np.exp(x - m)))


def logsumexp(x):
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


W1 = rng.standard_normal((3, 4)) * 0.5
B1 = rng.standard_normal(4) * 0.1
W2 = rng.standard_normal((4, 2)) * 0.5
INPUTS = rng.standard_normal((6, 3))
TARGETS = rng.standard_normal((6, 2))


def mlp_loss(w1, b1, w2):
    hidden = np.tanh(INPUTS @ w1 + b1)
    pred = np.dot(hidden, w2)
    return np.mean((pred - TARGETS) ** 2)


def least_squares_solve(b):
    """The least-squares fit of b by the columns of A.T, through the normal
    equations (np.linalg.solve), and its residual."""
    gram = A @ A.T + 0.1 * np.eye(4)
    w = np.linalg.solve(gram, A @ b)
    return np.sum((A.T @ w - b) ** 2)


def ridge_in_lambda(lam):
    w = np.linalg.solve(A @ A.T + lam * np.eye(4), Y)
    return np.sum(w ** 2)


FUNCTIONS = {
    # name: (function, args, analytic gradient of the scalar ones or None, order)
    "sum_of_squares": (lambda x: np.sum(x ** 2), (X,), lambda x: 2 * x, 2),
    "square_ufunc": (lambda x: np.sum(np.square(x)), (X,), lambda x: 2 * x, 2),
    "dot": (lambda x: np.dot(V, x), (X,), lambda x: V, 2),
    "vdot": (lambda x: np.vdot(x, x), (X,), lambda x: 2 * x, 2),
    "inner": (lambda x: np.inner(x, V), (X,), lambda x: V, 2),
    "outer": (lambda x: np.sum(np.outer(x, V) ** 2), (X,), lambda x: 2 * x * np.sum(V ** 2), 2),
    "matmul_operator": (lambda x: np.sum(A @ x), (X,), lambda x: A.sum(0), 2),
    "quadratic_form": (lambda x: x @ Q @ x, (X,), lambda x: (Q + Q.T) @ x, 2),
    "norm_l2": (lambda x: np.linalg.norm(x), (X,), lambda x: x / np.linalg.norm(x), 2),
    "norm_frobenius": (lambda m: np.linalg.norm(m), (M,), lambda m: m / np.linalg.norm(m), 2),
    "norm_l1": (lambda x: np.sum(np.abs(x)), (X,), lambda x: np.sign(x), 2),
    "cosine_similarity": (lambda x: np.dot(x, V) / (np.linalg.norm(x) * np.linalg.norm(V)),
                          (X,), lambda x: (V / np.linalg.norm(V) - np.dot(x, V) * x
                                           / (np.linalg.norm(V) * np.dot(x, x)))
                          / np.linalg.norm(x), 2),
    "logsumexp": (logsumexp, (X,), softmax, 2),
    "softmax": (softmax, (X,), None, 2),
    "cross_entropy": (lambda x: -np.sum(ONE_HOT * log_softmax(x)), (X,),
                      lambda x: softmax(x) - ONE_HOT, 2),
    "sigmoid": (lambda x: np.sum(sigmoid(x)), (X,), lambda x: sigmoid(x) * (1 - sigmoid(x)), 2),
    "softplus": (lambda x: np.sum(np.log1p(np.exp(x))), (X,), sigmoid, 2),
    "tanh": (lambda x: np.sum(np.tanh(x)), (X,), lambda x: 1 - np.tanh(x) ** 2, 2),
    "mlp_loss": (mlp_loss, (W1, B1, W2), None, 2),
    "least_squares_solve": (least_squares_solve, (X,), None, 2),
    "ridge_in_lambda": (ridge_in_lambda, (0.7,), None, 2),
    "linear_regression_mse": (lambda w: np.mean((A @ w - Y) ** 2), (X,),
                              lambda w: 2 * A.T @ (A @ w - Y) / len(Y), 2),
    "solve": (lambda b: np.sum(np.linalg.solve(SPD, b) ** 2), (Y[:3],),
              lambda b: 2 * np.linalg.solve(SPD.T, np.linalg.solve(SPD, b)), 2),
    "inv_trace": (lambda m: np.trace(np.linalg.inv(m)), (SPD,),
                  lambda m: -np.linalg.inv(m).T @ np.linalg.inv(m).T, 2),
    "det": (lambda m: np.linalg.det(m), (SPD,), lambda m: np.linalg.det(m) * np.linalg.inv(m).T,
            2),
    "mean": (lambda x: np.mean(x), (X,), lambda x: np.full_like(x, 1 / x.size), 2),
    "var": (lambda x: np.var(x), (X,), lambda x: 2 * (x - x.mean()) / x.size, 2),
    "std": (lambda x: np.std(x), (X,), lambda x: (x - x.mean()) / (x.size * x.std()), 2),
    "prod": (lambda x: np.prod(x), (POS,), lambda x: np.prod(x) / x, 2),
    "cumsum": (lambda x: np.sum(np.cumsum(x) ** 2), (X,),
               lambda x: 2 * np.cumsum(np.cumsum(x)[::-1])[::-1], 2),
    "max": (lambda x: np.max(x), (DISTINCT,), lambda x: (x == x.max()).astype(float), 2),
    "relu": (lambda x: np.sum(np.maximum(x, 0.0) ** 2), (DISTINCT,),
             lambda x: 2 * np.maximum(x, 0.0), 2),
    "leaky_relu_where": (lambda x: np.sum(np.where(x > 0, x, 0.1 * x)), (DISTINCT,),
                         lambda x: np.where(x > 0, 1.0, 0.1), 2),
    "huber": (lambda x: np.sum(np.where(np.abs(x) < 1, 0.5 * x ** 2, np.abs(x) - 0.5)),
              (DISTINCT * 0.7,), lambda x: np.clip(x, -1, 1), 2),
    "clip": (lambda x: np.sum(np.clip(x, -0.5, 1.0) * x), (DISTINCT,),
             lambda x: np.clip(x, -0.5, 1.0) + x * ((x > -0.5) & (x < 1.0)), 2),
    "exp_sin_chain": (lambda x: np.sum(np.exp(np.sin(x))), (X,),
                      lambda x: np.exp(np.sin(x)) * np.cos(x), 2),
    "sqrt_power": (lambda x: np.sum(np.sqrt(x) + np.power(x, 3)), (POS,),
                   lambda x: 0.5 / np.sqrt(x) + 3 * x ** 2, 2),
    "log_divide": (lambda x: np.sum(np.log(x) / (1.0 + x)), (POS,),
                   lambda x: (1 / x) / (1 + x) - np.log(x) / (1 + x) ** 2, 2),
    "arctan2": (lambda x: np.sum(np.arctan2(x, V)), (X,), lambda x: V / (x ** 2 + V ** 2), 2),
    "einsum": (lambda m: np.einsum("ij,j->i", m, X), (A,), None, 2),
    "trace_of_square": (lambda m: np.trace(m @ m), (M,), lambda m: 2 * m.T, 2),
    "shapes": (lambda x: np.sum(np.concatenate([x, x ** 2]).reshape(2, -1).T
                                * np.arange(10.0).reshape(5, 2)), (X,),
               lambda x: np.arange(0.0, 10, 2) + 2 * x * np.arange(1.0, 10, 2), 2),
    "stack_transpose": (lambda x: np.stack([x, np.flip(x)], axis=1).T @ V, (X,), None, 2),
    "mean_axis": (lambda m: np.sum(np.mean(m, axis=0) ** 2), (A,),
                  lambda m: np.broadcast_to(2 * m.mean(0) / m.shape[0], m.shape), 2),
    "ufunc_reduce": (lambda x: np.add.reduce(x * x) + np.multiply.reduce(x[:3]), (X,),
                     lambda x: 2 * x + np.r_[np.prod(x[:3]) / x[:3], 0.0, 0.0], 2),
    "ufunc_accumulate": (lambda x: np.sum(np.maximum.accumulate(x) ** 2), (DISTINCT,), None, 2),
    "ufunc_outer": (lambda x: np.sum(np.subtract.outer(x, V) ** 2), (X,),
                    lambda x: 2 * (V.size * x - V.sum()), 2),
}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_check_grads_through_numpy(name):
    f, args, _, order = FUNCTIONS[name]
    check_grads(f, args, order=order)


@pytest.mark.parametrize("name", sorted(n for n, v in FUNCTIONS.items() if v[2] is not None))
def test_analytic_gradient_through_numpy(name):
    f, args, g, _ = FUNCTIONS[name]
    got = fxad.grad(f)(*args)
    assert type(got) is type(args[0]) or np.ndim(got) == np.ndim(args[0])
    np.testing.assert_allclose(got, g(*args), rtol=1e-10, atol=1e-12)


def test_at_least_thirty_functions():
    assert len(FUNCTIONS) >= 30


def test_softmax_jacobian():
    s = softmax(X)
    expected = np.diag(s) - np.outer(s, s)
    np.testing.assert_allclose(fxad.jacfwd(softmax)(X), expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(fxad.jacrev(softmax)(X), expected, rtol=1e-12, atol=1e-14)


def test_mlp_gradient_against_manual_backprop():
    g1, gb, g2 = fxad.grad(mlp_loss, argnums=(0, 1, 2))(W1, B1, W2)
    pre = INPUTS @ W1 + B1
    hidden = np.tanh(pre)
    d_pred = 2 * (hidden @ W2 - TARGETS) / TARGETS.size
    d_pre = (d_pred @ W2.T) * (1 - hidden ** 2)
    np.testing.assert_allclose(g2, hidden.T @ d_pred, rtol=1e-12)
    np.testing.assert_allclose(gb, d_pre.sum(0), rtol=1e-12)
    np.testing.assert_allclose(g1, INPUTS.T @ d_pre, rtol=1e-12)


def test_least_squares_gradient_against_closed_form():
    gram = A @ A.T + 0.1 * np.eye(4)
    proj = A.T @ np.linalg.solve(gram, A)  # b -> A.T w, linear in b
    r = np.eye(5) - proj
    np.testing.assert_allclose(fxad.grad(least_squares_solve)(X), 2 * r.T @ r @ X, rtol=1e-10)
    # d/dlam of |w|^2 with (G + lam I) w = y: -2 w^T (G + lam I)^{-1} w.
    k = A @ A.T + 0.7 * np.eye(4)
    w = np.linalg.solve(k, Y)
    np.testing.assert_allclose(fxad.grad(ridge_in_lambda)(0.7), -2 * w @ np.linalg.solve(k, w),
                               rtol=1e-10)


def test_hessian_and_jvp_of_plain_numpy():
    h = fxad.hessian(lambda x: x @ Q @ x + np.sum(np.sin(x)))(X)
    np.testing.assert_allclose(h, Q + Q.T - np.diag(np.sin(X)), rtol=1e-12, atol=1e-12)
    _, t = fxad.jvp(lambda x: np.exp(x) * np.cos(x), (X,), (V,))
    np.testing.assert_allclose(t, (np.exp(X) * (np.cos(X) - np.sin(X))) * V, rtol=1e-12)


def test_outputs_are_numpy():
    g = fxad.grad(lambda x: np.sum(x ** 2))(X)
    assert type(g) is np.ndarray and g.dtype == np.float64
    v = fxad.grad(lambda x: np.sin(x))(0.5)
    assert type(v) is np.float64


# ---------------------------------------------------------------------------
# Ufunc keywords and methods


def test_ufunc_dtype_computes_in_that_dtype():
    x = np.array([-4.0, 9.0])
    y, t = fxad.jvp(lambda x: np.sqrt(x, dtype=np.complex128), (x,), (np.ones(2),))
    assert y.dtype == np.complex128 and t.dtype == np.complex128
    np.testing.assert_allclose(y, [2j, 3.0])
    np.testing.assert_allclose(t, 0.5 / np.array([2j, 3.0]))
    g = fxad.grad(lambda x: np.add.reduce(x, dtype=np.float32).astype(np.float64))(x)
    np.testing.assert_array_equal(g, [1.0, 1.0])


def test_where_true_is_the_default():
    assert fxad.grad(lambda x: np.sin(x, where=True))(0.0) == 1.0


def test_ufunc_methods_match_numpy_values():
    x = DISTINCT

    def check(f):
        np.testing.assert_allclose(fxad.jvp(f, (x,), (np.ones(5),))[0], f(x), rtol=1e-15)

    check(lambda x: np.maximum.accumulate(x))
    check(lambda x: np.minimum.accumulate(x))
    check(lambda x: np.multiply.accumulate(x))
    check(lambda x: np.subtract.reduce(x))
    check(lambda x: np.add.outer(x, x[:2]))
    check(lambda x: np.maximum.reduce(x.reshape(1, 5), axis=1, keepdims=True))
    # cummax's derivative flows to the running maximum's location
    g = fxad.jacfwd(lambda x: np.maximum.accumulate(x))(x)
    running = np.maximum.accumulate(x)
    expected = (x[None, :] == running[:, None]) & (np.arange(5)[None, :] <= np.arange(5)[:, None])
    np.testing.assert_array_equal(g, expected.astype(float))


# ---------------------------------------------------------------------------
# What cannot be dispatched, or is not implemented


def _coverage_rows():
    return (DOCS / "coverage.md").read_text()


@pytest.mark.parametrize("call,name", [
    (lambda x: np.histogram2d(x, x)[0], "numpy.histogram2d"),
    (lambda x: np.histogramdd(x[:, None])[0], "numpy.histogramdd"),
])
def test_unsupported_function_names_itself_and_the_coverage_doc(call, name):
    with pytest.raises(TypeError, match=rf"{name}.*docs/coverage\.md") as info:
        fxad.grad(lambda x: np.sum(call(x)))(X)
    assert not isinstance(info.value, ConcretizationTypeError)
    short = name.split(".")[-1]
    assert f"| `{short}` | no |" in _coverage_rows(), f"{name} is not in the coverage table"


@pytest.mark.parametrize("call,what", [
    (lambda x: np.sin(x, where=x > 0), r"numpy\.sin\(\.\.\., where=\.\.\.\)"),
    (lambda x: np.add.reduce(x, initial=1.0), r"numpy\.add\.reduce\(\.\.\., initial=\.\.\.\)"),
    (lambda x: np.add.at(x, [0], 1.0), r"numpy\.add\.at.*in place"),
    (lambda x: np.add.reduceat(x, [0, 2]), r"numpy\.add\.reduceat"),
    (lambda x: np.matmul(x, x, axes=[(0,), (0,), ()]), r"numpy\.matmul\(\.\.\., axes=\.\.\.\)"),
])
def test_unsupported_keywords_and_methods_raise_type_error(call, what):
    with pytest.raises(TypeError, match=what + r".*docs/coverage\.md"):
        fxad.grad(lambda x: np.sum(call(x)))(X)


@pytest.mark.parametrize("call", [
    lambda x: np.sum(x, out=np.zeros(())),
    lambda x: np.add(x, 1.0, out=np.zeros(5)),
    lambda x: np.cumsum(x, out=np.zeros(5)),
], ids=["sum", "add", "cumsum"])
def test_out_raises_type_error(call):
    with pytest.raises(TypeError, match=r"out=.*immutable"):
        fxad.grad(lambda x: np.sum(call(x)))(X)


def test_in_place_update_of_a_numpy_array_raises():
    def f(x):
        acc = np.zeros(5)
        acc += x  # numpy.add(acc, x, out=(acc,))
        return np.sum(acc)

    with pytest.raises(TypeError, match=r"numpy\.add\(\.\.\., out=\.\.\.\).*a \+= x"):
        fxad.grad(f)(X)


def test_asarray_of_a_tracer_raises_concretization_error():
    with pytest.raises(ConcretizationTypeError, match="numpy.asarray"):
        fxad.grad(lambda x: np.sum(np.asarray(x)))(X)
    with pytest.raises(ConcretizationTypeError):
        fxad.make_jaxpr(lambda x: np.asarray(x))(X)
    assert issubclass(ConcretizationTypeError, TypeError)


def test_np_array_of_tracers_raises_and_the_docs_point_to_fnp_array():
    # NumPy builds the array itself, calling __array__ on each tracer: no
    # dispatch is possible, and no value escapes the trace unseen.
    with pytest.raises(ConcretizationTypeError):
        fxad.grad(lambda x: np.sum(np.array([x[0], x[1] ** 2])))(X)
    with pytest.raises(ConcretizationTypeError):
        fxad.jvp(lambda a, b: np.stack(np.array([a, b])), (1.0, 2.0), (1.0, 0.0))
    assert "fxad.numpy.array" in _coverage_rows()


def test_dtype_functions_work_on_tracers():
    def f(x):
        assert np.result_type(x, 1.0) == np.float64
        assert np.result_type(x, np.float32) == np.float64
        assert not np.iscomplexobj(x) and np.isrealobj(x)
        assert np.can_cast(x, np.complex128)
        assert np.ndim(x) == 1 and np.shape(x) == (5,) and np.size(x) == 5
        return np.sum(x)

    fxad.grad(f)(X)
    assert fxad.grad(lambda z: np.real(z * np.conj(z)) * np.iscomplexobj(z))(1j) == -2j


def test_array_creation_like_a_tracer_gives_numpy_constants():
    def f(x):
        zeros = np.zeros(5, like=x)
        assert type(zeros) is np.ndarray
        return np.sum(x * np.full(5, 2.0, like=x) + zeros)

    np.testing.assert_array_equal(fxad.grad(f)(X), np.full(5, 2.0))


class _Foreign:
    """Another array library's array: fxad must leave the operation to it."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return ("foreign", ufunc.__name__)

    def __array_function__(self, func, types, args, kwargs):
        return ("foreign", func.__name__)


def test_operands_of_other_array_libraries_are_left_to_them():
    seen = []

    def f(x):
        seen.append(np.add(x, _Foreign()))
        seen.append(np.concatenate([x, _Foreign()]))
        return np.sum(x)

    fxad.grad(f)(X)
    assert seen == [("foreign", "add"), ("foreign", "concatenate")]
