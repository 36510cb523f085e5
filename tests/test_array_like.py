"""array_like means array_like (issue 10 item 1): (nested) lists and tuples
holding traced values are accepted wherever NumPy accepts a list, by every
fxad.numpy / fxad.scipy function and by the tracer's operators, through one
conversion (``fxad.numpy._util.array_like``)."""

import numpy as np
import pytest

import fxad
import fxad.numpy as fnp
import fxad.scipy.special as fss
from fxad.numpy import _util
from fxad.test_util import check_grads

V = np.array([0.7, -1.3])
C = np.array([True, False])

#: name -> (f(m, x, y) written for namespace m, with lists of traced x, y;
#: the NumPy reference is the same code on floats).
CASES = {
    "sum": lambda m, x, y: m.sum([x, x, y]),
    "mean": lambda m, x, y: m.mean([x, y]),
    "sin": lambda m, x, y: m.sum(m.sin([x, 1.0, y])),
    "dot": lambda m, x, y: m.dot([x, 1.0], V) * y,
    "where": lambda m, x, y: m.sum(m.where(C, [x, 1.0], [y, y])),
    "norm": lambda m, x, y: m.linalg.norm([x, y]),
    "nested": lambda m, x, y: m.sum(m.exp([[x, y], [y, 1.0]]) * [[1.0, 2.0], (3.0, x)]),
    "max": lambda m, x, y: m.max([x, y * 2.0]),
    "prod_tuple": lambda m, x, y: m.prod((x, y, 2.0)),
    "cumsum": lambda m, x, y: m.sum(m.cumsum([x, y, x]) ** 2),
    "outer": lambda m, x, y: m.sum(m.outer([x, y], [1.0, x])),
    "matmul": lambda m, x, y: m.sum(m.matmul([[x, y], [1.0, 2.0]], [x, 1.0])),
    "concatenate": lambda m, x, y: m.sum(m.concatenate([V, [x, y]]) ** 2),
    "stack_nested": lambda m, x, y: m.sum(m.stack([[x, 1.0], [y, x]]) ** 2),
    "clip": lambda m, x, y: m.sum(m.clip([x, y, 3.0], -1.0, 1.0)),
    "sort": lambda m, x, y: m.sort([y, x, 0.0])[0] * x,
    "add_list": lambda m, x, y: m.sum(m.add([x, y], 1.0) * [y, 2.0]),
    "linalg_det": lambda m, x, y: m.linalg.det([[x, y], [1.0, 2.0]]),
    "linalg_solve": lambda m, x, y: m.sum(m.linalg.solve([[2.0, x], [y, 3.0]], [1.0, x])),
}


def _np_ref(fn, x, y):
    import scipy.special  # noqa: F401 - scipy namespace for the SciPy cases

    return fn(np, x, y)


@pytest.mark.parametrize("name", sorted(CASES))
def test_lists_of_tracers_in_every_mode(name):
    fn = CASES[name]
    x, y = 0.4, -0.9
    want = _np_ref(fn, x, y)
    f = lambda x, y: fn(fnp, x, y)  # noqa: E731
    got = f(x, y)
    np.testing.assert_allclose(got, want, rtol=1e-14)
    j = fxad.jit(f)(x, y)
    np.testing.assert_allclose(j, want, rtol=1e-13)
    assert np.result_type(j) == np.result_type(want)
    check_grads(f, (x, y), order=1, modes=("fwd", "rev"))
    xs = np.array([0.4, 0.1, -0.2])
    np.testing.assert_allclose(fxad.vmap(f, in_axes=(0, None))(xs, y),
                               [fn(np, xi, y) for xi in xs], rtol=1e-13)


def test_scipy_special_logsumexp_of_a_list():
    f = lambda x: fss.logsumexp([x, x, 1.0])  # noqa: E731
    want = lambda x: np.log(2 * np.exp(x) + np.e)  # noqa: E731
    np.testing.assert_allclose(f(0.3), want(0.3), rtol=1e-14)
    np.testing.assert_allclose(fxad.jit(f)(0.3), want(0.3), rtol=1e-14)
    np.testing.assert_allclose(fxad.grad(f)(0.3), 2 * np.exp(0.3) / (2 * np.exp(0.3) + np.e),
                               rtol=1e-14)


def test_tracer_operators_take_lists():
    def f(x):
        return fnp.sum((x + [1.0, x]) * [x, 2.0] - [x, x] / (x + 1.0) + x ** [2.0, x]
                       - [x, 1.0] // (x + 2.0) + [3.0, x] % (x + 0.5))

    def ref(x):
        return np.sum((x + np.array([1.0, x])) * np.array([x, 2.0])
                      - np.array([x, x]) / (x + 1.0) + x ** np.array([2.0, x])
                      - np.array([x, 1.0]) // (x + 2.0) + np.array([3.0, x]) % (x + 0.5))

    np.testing.assert_allclose(fxad.jit(f)(0.3), ref(0.3), rtol=1e-14)
    check_grads(f, (0.3,), order=2, modes=("fwd", "rev"))
    m = fxad.jit(lambda s: np.array([1.0, 2.0]) @ fnp.asarray([[1.0, s], [s, 2.0]])
                 + fnp.asarray([s, 1.0]) @ [[1.0, s], [s, 2.0]])(3.0)
    np.testing.assert_allclose(m, np.array([1.0, 2.0]) @ np.array([[1.0, 3.0], [3.0, 2.0]])
                               + np.array([3.0, 1.0]) @ np.array([[1.0, 3.0], [3.0, 2.0]]))
    x = np.array([1.0, 2.0])
    got = fxad.jit(lambda s: (s * x) * [s, 2.0] < [1.0, s])(3.0)
    np.testing.assert_array_equal(got, 3.0 * x * np.array([3.0, 2.0]) < np.array([1.0, 3.0]))


@pytest.mark.parametrize("key", [
    lambda m, x: m.r_[x, 1.0, [x, 2.0 * x]],
    lambda m, x: m.r_[m.sin(x), np.arange(2), 0:3],
    lambda m, x: m.r_[-1:1:3j, x],
    lambda m, x: m.r_["0,2", [x, 2.0], [3.0, x]],
    lambda m, x: m.r_["1,2,0", [x, 2.0], [3.0, x]],
    lambda m, x: m.c_[np.array([1.0, 2.0]), m.array([x, 2.0 * x])],
    lambda m, x: m.c_[np.ones((2, 2)), [x, 3.0]],
])
def test_r_and_c_with_traced_pieces(key):
    x = 1.5
    want = key(np, x)
    for got in (key(fnp, x), fxad.jit(lambda x: key(fnp, x))(x)):
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=1e-15)
    check_grads(lambda x: fnp.sum(key(fnp, x) ** 2), (x,), order=1, modes=("fwd", "rev"))
    # Without a tracer they are NumPy's own.
    np.testing.assert_array_equal(key(fnp, 0.5), key(np, 0.5))


def test_r_rejects_a_matrix_directive():
    with pytest.raises(NotImplementedError, match="numpy.matrix"):
        fxad.jit(lambda x: fnp.r_["r", [x, 1.0]])(1.0)


def test_array_of_traced_values_cast_to_int():
    def f(x, y):
        k = fnp.array([x, y]).astype(int)
        return fnp.sum(k) * x, k

    (v, k) = fxad.jit(f)(2.7, -1.2)
    np.testing.assert_array_equal(k, np.array([2.7, -1.2]).astype(int))
    assert k.dtype == np.array([2.7, -1.2]).astype(int).dtype
    assert float(v) == 1 * 2.7
    assert float(fxad.grad(lambda x, y: f(x, y)[0])(2.7, -1.2)) == 1.0


def test_list_dtypes_follow_numpy_array_literals():
    # Python scalars inside a list count as float64 / int64 (no weak
    # promotion inside an array literal), as numpy.array does.
    for x in (np.float32(0.5), np.int32(2), 0.5, 2):
        for other in (1, 1.0, np.float32(1.0), np.int32(1)):
            want = np.array([x, other]).dtype
            got = fxad.jit(lambda x, o=other: fnp.array([x, o]))(x)
            assert got.dtype == want, (x, other, got.dtype, want)


def test_no_tracer_calls_are_numpys_own():
    lst = [1.0, 2.0, 3.0]
    for name in ("sum", "mean", "sin", "cumsum", "sort"):
        np.testing.assert_array_equal(getattr(fnp, name)(lst), getattr(np, name)(lst))
        assert type(getattr(fnp, name)(lst)) is type(getattr(np, name)(lst))


def test_other_concretization_errors_are_not_retried():
    # A concretization that has nothing to do with a list surfaces as is.
    with pytest.raises(fxad.errors.ConcretizationTypeError, match="float"):
        fxad.jit(lambda x: fnp.sum([1.0, 2.0], axis=None, dtype=None) * float(x))(1.0)
    with pytest.raises(ValueError, match="different shapes"):
        fxad.jit(lambda x: fnp.sum([x, [x, x]]))(1.0)


def test_wrappers_keep_the_signature_and_the_docstring():
    import inspect

    assert inspect.signature(fnp.sum) == inspect.signature(fnp.sum.__wrapped__)
    assert fnp.sum.__doc__ == fnp.sum.__wrapped__.__doc__
    assert fnp.arccos is fnp.acos
    assert _util.numpy_function(fnp.sum) is fnp.sum  # idempotent
    with pytest.raises(TypeError):
        fnp.sum([1.0], 0, None, None, False, 0.0, True, 1)  # too many arguments, as before
