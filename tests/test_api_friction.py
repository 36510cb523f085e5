"""grad of one-element outputs (issue 10 item 7) and vmap's keyword
arguments and out_axes bounds (item 8)."""

import numpy as np
import pytest

import fxad
import fxad.numpy as fnp

X = np.array([0.3, -1.2, 2.0])


@pytest.mark.parametrize("shape", [(1,), (1, 1), (1, 1, 1)])
def test_grad_of_one_element_output(shape):
    def f(x):
        return fnp.reshape(fnp.sum(fnp.sin(x) * x), shape)

    want = np.cos(X) * X + np.sin(X)
    np.testing.assert_allclose(fxad.grad(f)(X), want, rtol=1e-14)
    np.testing.assert_allclose(fxad.jit(fxad.grad(f))(X), want, rtol=1e-14)
    v, g = fxad.value_and_grad(f)(X)
    assert v.shape == shape  # the value keeps its shape, as in autograd
    np.testing.assert_allclose(v.ravel(), [np.sum(np.sin(X) * X)], rtol=1e-14)
    np.testing.assert_allclose(g, want, rtol=1e-14)
    # Agrees with the Jacobian's one row.
    np.testing.assert_allclose(fxad.jacrev(f)(X).reshape(-1), want, rtol=1e-14)


def test_grad_of_one_element_output_nested_and_aux():
    # Second derivative through a (1,)-shaped output.
    g2 = fxad.grad(fxad.grad(lambda x: (x ** 3) * np.ones(1)))(2.0)
    assert float(g2) == 12.0
    g, aux = fxad.grad(lambda x: (fnp.sum(x ** 2, keepdims=True), x.shape), has_aux=True)(X)
    np.testing.assert_allclose(g, 2 * X, rtol=1e-15)
    assert aux == (3,)


@pytest.mark.parametrize("shape", [(2,), (1, 2), (0,)])
def test_grad_of_several_elements_still_refused(shape):
    n = int(np.prod(shape))
    with pytest.raises(TypeError, match=r"scalar output .*shape " + str(shape).replace("(", r"\(")
                       .replace(")", r"\)")):
        fxad.grad(lambda x: fnp.reshape(x * np.ones(n), shape))(1.0)
    with pytest.raises(TypeError, match="jacrev"):
        fxad.value_and_grad(lambda x: fnp.reshape(x * np.ones(n), shape))(1.0)


def test_vmap_maps_keyword_arguments_over_axis_0():
    a, b = np.arange(3.0), np.arange(3.0) + 1
    out = fxad.vmap(lambda x, y: x * y)(a, y=b)
    np.testing.assert_array_equal(out, a * b)  # not the outer product
    # in_axes applies to the positional arguments only.
    m = np.arange(6.0).reshape(2, 3)
    out = fxad.vmap(lambda x, y: x + y, in_axes=1)(m, y=np.arange(3.0))
    np.testing.assert_array_equal(out, np.stack([m[:, j] + j for j in range(3)]))
    # Pytrees as keyword arguments, and under jit and grad.
    f = fxad.vmap(lambda x, p: fnp.sum(p["w"] * x) + p["b"])
    w, bias = np.ones((3, 2)), np.array([1.0, 2.0, 3.0])
    want = np.array([np.sum(w[i] * m[:, i]) + bias[i] for i in range(3)])
    np.testing.assert_allclose(f(m.T, p={"w": w, "b": bias}), want, rtol=1e-15)
    np.testing.assert_allclose(fxad.jit(f)(m.T, p={"w": w, "b": bias}), want, rtol=1e-15)
    g = fxad.grad(lambda w: fnp.sum(f(m.T, p={"w": w, "b": bias})))(w)
    np.testing.assert_allclose(g, m.T, rtol=1e-15)


def test_vmap_keyword_argument_size_mismatch_is_an_error():
    with pytest.raises(ValueError, match="inconsistent sizes"):
        fxad.vmap(lambda x, y: x * y)(np.ones(3), y=np.ones(4))
    with pytest.raises(ValueError, match="keyword arguments are mapped over axis 0"):
        fxad.vmap(lambda x, y: x * y)(np.ones(3), y=2.0)


@pytest.mark.parametrize("out_axes", [2, 3, -3])
def test_vmap_out_axes_out_of_range(out_axes):
    with pytest.raises(ValueError, match=f"out_axes={out_axes} is out of bounds"):
        fxad.vmap(lambda x: x * 2.0, out_axes=out_axes)(np.ones((4, 3)))


@pytest.mark.parametrize("out_axes", [0, 1, -1, -2])
def test_vmap_out_axes_in_range(out_axes):
    m = np.arange(12.0).reshape(4, 3)
    out = fxad.vmap(lambda x: x * 2.0, out_axes=out_axes)(m)
    np.testing.assert_array_equal(out, np.moveaxis(m * 2.0, 0, out_axes))
    # An unmapped output is broadcast, and its out axis checked the same way.
    out = fxad.vmap(lambda x: np.ones(3), out_axes=out_axes)(m)
    assert out.shape == np.moveaxis(np.ones((4, 3)), 0, out_axes).shape
