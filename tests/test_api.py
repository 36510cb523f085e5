"""The transformations: values against analytic derivatives, forward against
reverse, nesting, pytrees, and the transformations' own contracts."""

from __future__ import annotations

import collections
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fxad
import fxad.numpy as fnp
from fxad.test_util import check_grads

finite = st.floats(-2.0, 2.0, allow_nan=False, allow_infinity=False)
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)


def arrays(shape=shapes, elements=finite):
    return hnp.arrays(np.float64, shape, elements=elements)


def f_scalar(x):
    return fnp.sin(x) * fnp.exp(x) + x ** 3


def df_scalar(x):
    return np.cos(x) * np.exp(x) + np.sin(x) * np.exp(x) + 3 * x ** 2


def f_vec(x):
    return fnp.sum(fnp.tanh(x) * x) + fnp.sum(x) ** 2


def df_vec(x):
    t = np.tanh(x)
    return t + x * (1 - t ** 2) + 2 * np.sum(x)


# ---------------------------------------------------------------------------
# grad, value_and_grad, jvp, vjp against analytic formulas


@given(finite)
def test_grad_scalar_analytic(x):
    g = fxad.grad(f_scalar)(x)
    assert isinstance(g, np.float64)
    np.testing.assert_allclose(g, df_scalar(x), rtol=1e-12, atol=1e-12)


@given(arrays())
def test_grad_array_analytic(x):
    g = fxad.grad(f_vec)(x)
    assert isinstance(g, np.ndarray) and g.shape == x.shape or np.ndim(g) == 0
    np.testing.assert_allclose(g, df_vec(x), rtol=1e-12, atol=1e-12)


@given(arrays(), arrays())
def test_check_grads_order2_arrays(x, v):
    check_grads(f_vec, (x,), order=2, modes=("fwd", "rev"))


def test_check_grads_matrices():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(3, 4))
    B = rng.normal(size=(4, 2))

    def f(A, B):
        return fnp.tanh(A @ B).sum() + fnp.sum(A[:, :2] @ B[:2] ** 2)

    check_grads(f, (A, B), order=2, modes=("fwd", "rev"))
    gA, gB = fxad.grad(f, argnums=(0, 1))(A, B)
    t = np.tanh(A @ B)
    ga_expected = (1 - t ** 2) @ B.T
    ga_expected[:, :2] += np.ones((3, 2)) @ (B[:2] ** 2).T
    np.testing.assert_allclose(gA, ga_expected, rtol=1e-12)
    gb_expected = A.T @ (1 - t ** 2)
    gb_expected[:2] += 2 * B[:2] * (A[:, :2].T @ np.ones((3, 2)))
    np.testing.assert_allclose(gB, gb_expected, rtol=1e-12)


def test_value_and_grad():
    v, g = fxad.value_and_grad(f_scalar)(0.7)
    assert v == pytest.approx(float(f_scalar(0.7)), rel=1e-15)
    assert g == pytest.approx(df_scalar(0.7), rel=1e-14)


def test_value_and_grad_argnums_and_aux():
    def f(x, y, z):
        return x * y + fnp.sin(z), {"aux": x + 1.0}

    (v, aux), (gx, gz) = fxad.value_and_grad(f, argnums=(0, 2), has_aux=True)(2.0, 3.0, 0.5)
    assert v == pytest.approx(6.0 + math.sin(0.5))
    assert gx == pytest.approx(3.0) and gz == pytest.approx(math.cos(0.5))
    assert aux == {"aux": 3.0} and isinstance(aux["aux"], np.float64)
    g, aux2 = fxad.grad(f, argnums=1, has_aux=True)(2.0, 3.0, 0.5)
    assert g == pytest.approx(2.0) and aux2["aux"] == 3.0


def test_grad_negative_argnums():
    assert fxad.grad(lambda x, y: x * y ** 2, argnums=-1)(3.0, 2.0) == pytest.approx(12.0)


@given(arrays(), st.integers(0, 2 ** 31))
def test_jvp_matches_analytic(x, seed):
    v = np.random.default_rng(seed).normal(size=x.shape)
    y, y_dot = fxad.jvp(f_vec, (x,), (v,))
    np.testing.assert_allclose(y, f_vec(x), rtol=1e-13)
    np.testing.assert_allclose(y_dot, np.sum(df_vec(x) * v), rtol=1e-11, atol=1e-11)


@given(arrays(), st.integers(0, 2 ** 31))
def test_vjp_matches_analytic(x, seed):
    def f(x):
        return fnp.sin(x) * x

    u = np.random.default_rng(seed).normal(size=x.shape)
    y, f_vjp = fxad.vjp(f, x)
    (ct,) = f_vjp(u)
    np.testing.assert_allclose(ct, u * (np.cos(x) * x + np.sin(x)), rtol=1e-12, atol=1e-14)


def test_vjp_has_aux():
    y, f_vjp, aux = fxad.vjp(lambda x: (x * 2.0, x ** 2), np.arange(3.0), has_aux=True)
    np.testing.assert_array_equal(aux, np.arange(3.0) ** 2)
    np.testing.assert_array_equal(f_vjp(np.ones(3))[0], 2 * np.ones(3))


@given(arrays(shape=hnp.array_shapes(min_dims=1, max_dims=2, max_side=4)))
def test_jacfwd_equals_jacrev(x):
    def f(x):
        return fnp.concatenate([fnp.sin(x).ravel() * x.sum(), fnp.cumsum(x.ravel() ** 2)])

    jf = fxad.jacfwd(f)(x)
    jr = fxad.jacrev(f)(x)
    assert jf.shape == (2 * x.size,) + x.shape
    np.testing.assert_allclose(jf, jr, rtol=1e-12, atol=1e-12)


def test_jacobian_analytic():
    A = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.0]])
    x = np.array([0.3, -0.7])

    def f(x):
        return fnp.tanh(A @ x) * x[0]

    t = np.tanh(A @ x)
    expected = (1 - t ** 2)[:, None] * A * x[0]
    expected[:, 0] += t
    np.testing.assert_allclose(fxad.jacfwd(f)(x), expected, rtol=1e-13)
    np.testing.assert_allclose(fxad.jacrev(f)(x), expected, rtol=1e-13)


def test_jacobian_pytrees():
    def f(p):
        return {"out": p["w"] * p["b"][0], "s": fnp.sum(p["w"] ** 2)}

    p = {"w": np.array([1.0, 2.0, 3.0]), "b": np.array([2.0])}
    for jac in (fxad.jacfwd, fxad.jacrev):
        J = jac(f)(p)
        np.testing.assert_allclose(J["out"]["w"], 2.0 * np.eye(3))
        np.testing.assert_allclose(J["out"]["b"], p["w"][:, None])
        np.testing.assert_allclose(J["s"]["w"], 2 * p["w"])
        np.testing.assert_allclose(J["s"]["b"], np.zeros(1))


# ---------------------------------------------------------------------------
# Pytrees


Params = collections.namedtuple("Params", ["w", "b"])


@fxad.tree_util.register_pytree_node_class
class Affine:
    def __init__(self, w, b):
        self.w, self.b = w, b

    def tree_flatten(self):
        return (self.w, self.b), None

    @classmethod
    def tree_unflatten(cls, aux, children):
        return cls(*children)


class Pair:
    def __init__(self, a, b):
        self.a, self.b = a, b


fxad.tree_util.register_pytree_node(Pair, lambda p: ((p.a, p.b), None),
                                    lambda aux, ch: Pair(*ch))


def test_grad_pytrees():
    x = np.array([1.0, -2.0])

    def loss(params, x):
        w, b = params["layer"]
        return fnp.sum(fnp.tanh(w * x + b[0]) ** 2) + params["extra"][0] ** 2

    params = {"layer": (np.array([0.5, 0.1]), [np.array(0.3)]), "extra": [1.5, None]}
    g = fxad.grad(loss)(params, x)
    assert g["extra"][1] is None
    assert g["extra"][0] == pytest.approx(3.0)
    t = np.tanh(params["layer"][0] * x + 0.3)
    np.testing.assert_allclose(g["layer"][0], 2 * t * (1 - t ** 2) * x, rtol=1e-13)
    np.testing.assert_allclose(g["layer"][1][0], np.sum(2 * t * (1 - t ** 2)), rtol=1e-13)
    check_grads(loss, (params, x), order=2)


def test_grad_namedtuple_and_registered_classes():
    def f(p, a, pair):
        return fnp.sum(p.w * p.b) + fnp.sum(a.w ** 2) * a.b + pair.a * pair.b

    p = Params(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    a = Affine(np.array([1.0, 3.0]), 2.0)
    g = fxad.grad(f, argnums=(0, 1, 2))(p, a, Pair(2.0, 5.0))
    assert isinstance(g[0], Params) and isinstance(g[1], Affine) and isinstance(g[2], Pair)
    np.testing.assert_allclose(g[0].w, p.b)
    np.testing.assert_allclose(g[1].w, 2 * a.w * 2.0)
    assert g[1].b == pytest.approx(10.0)
    assert g[2].a == pytest.approx(5.0) and g[2].b == pytest.approx(2.0)


def test_jvp_pytree_outputs():
    primals = ({"a": 1.0, "b": np.array([2.0, 3.0])},)
    tangents = ({"a": 1.0, "b": np.array([0.0, 1.0])},)
    out, out_dot = fxad.jvp(lambda d: (d["a"] * d["b"], [d["a"] ** 2]), primals, tangents)
    np.testing.assert_allclose(out_dot[0], [2.0, 4.0])
    assert out_dot[1][0] == pytest.approx(2.0)


# ---------------------------------------------------------------------------
# Nesting


def test_fourth_derivative_of_tanh():
    # With t = tanh x and s = 1 - t^2: dt = s, ds = -2 t s, so the second
    # derivative is -2ts, the third 4t^2 s - 2s^2, the fourth 16 t s^2 - 8 t^3 s.
    d4 = fxad.grad(fxad.grad(fxad.grad(fxad.grad(fnp.tanh))))
    for x in (-1.3, 0.0, 0.3, 2.0):
        t = math.tanh(x)
        s = 1 - t ** 2
        assert d4(x) == pytest.approx(16 * t * s ** 2 - 8 * t ** 3 * s, rel=1e-12, abs=1e-14)


def rosenbrock(x):
    return fnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosenbrock_hessian(x):
    n = len(x)
    H = np.zeros((n, n))
    for i in range(n - 1):
        H[i, i] += 1200 * x[i] ** 2 - 400 * x[i + 1] + 2
        H[i, i + 1] += -400 * x[i]
        H[i + 1, i] += -400 * x[i]
        H[i + 1, i + 1] += 200
    return H


@given(arrays(shape=st.integers(2, 6).map(lambda n: (n,))))
def test_hessian_rosenbrock(x):
    np.testing.assert_allclose(fxad.hessian(rosenbrock)(x), rosenbrock_hessian(x),
                               rtol=1e-12, atol=1e-9)


def test_grad_of_grad_with_python_control_flow():
    def f(x):
        out = 0.0
        for k in range(3):
            if x > 0:
                out = out + x ** (k + 2)
            else:
                out = out - fnp.sin(x)
        return out

    # x > 0: f = x^2 + x^3 + x^4, f'' = 2 + 6x + 12x^2
    assert fxad.grad(fxad.grad(f))(0.5) == pytest.approx(2 + 3.0 + 3.0)
    # x < 0: f = -3 sin x, f'' = 3 sin x
    assert fxad.grad(fxad.grad(f))(-0.5) == pytest.approx(3 * math.sin(-0.5))


@given(arrays(shape=st.integers(2, 5).map(lambda n: (n,))), st.integers(0, 2 ** 31))
def test_forward_over_reverse_is_hvp(x, seed):
    v = np.random.default_rng(seed).normal(size=x.shape)
    _, hvp = fxad.jvp(fxad.grad(rosenbrock), (x,), (v,))
    np.testing.assert_allclose(hvp, fxad.hessian(rosenbrock)(x) @ v, rtol=1e-10, atol=1e-8)
    np.testing.assert_allclose(hvp, rosenbrock_hessian(x) @ v, rtol=1e-10, atol=1e-8)


def test_reverse_over_reverse_and_forward_over_forward():
    x = np.array([0.3, -0.4, 1.1])
    H = rosenbrock_hessian(x)
    np.testing.assert_allclose(fxad.jacrev(fxad.grad(rosenbrock))(x), H, rtol=1e-12)
    np.testing.assert_allclose(fxad.jacfwd(fxad.jacfwd(rosenbrock))(x), H, rtol=1e-12)
    np.testing.assert_allclose(fxad.jacrev(fxad.jacrev(rosenbrock))(x), H, rtol=1e-12)


def test_perturbation_confusion():
    # d/dx [x * d/dy (x + y)] = d/dx [x * 1] = 1, at any x.
    def f(x):
        return x * fxad.grad(lambda y: x + y)(1.0)

    assert fxad.grad(f)(3.0) == 1.0

    def f_fwd(x):
        return x * fxad.jvp(lambda y: x + y, (1.0,), (1.0,))[1]

    assert fxad.jvp(f_fwd, (3.0,), (1.0,))[1] == 1.0


def test_closure_over_outer_tracer():
    # d/dx grad_y(x * y^2)(y=2) = d/dx (4x) = 4
    assert fxad.grad(lambda x: fxad.grad(lambda y: x * y ** 2)(2.0))(1.5) == pytest.approx(4.0)


@given(finite)
def test_third_order_mixed_modes(x):
    f = fnp.sin
    d3_fwd = fxad.jacfwd(fxad.jacfwd(fxad.jacfwd(f)))(x)
    d3_mix = fxad.grad(lambda x: fxad.jvp(fxad.grad(f), (x,), (1.0,))[1])(x)
    assert d3_fwd == pytest.approx(-math.cos(x), abs=1e-12)
    assert d3_mix == pytest.approx(-math.cos(x), abs=1e-12)


# ---------------------------------------------------------------------------
# linearize, linear_transpose, stop_gradient


def test_linearize_matches_jvp_and_is_linear():
    x = np.array([0.2, 0.5, -1.0])
    y, f_jvp = fxad.linearize(lambda x: fnp.sin(x) * fnp.exp(x).sum(), x)
    v = np.array([1.0, -2.0, 0.5])
    _, expected = fxad.jvp(lambda x: fnp.sin(x) * fnp.exp(x).sum(), (x,), (v,))
    np.testing.assert_allclose(f_jvp(v), expected, rtol=1e-14)
    from fxad.interpreters.ad import linear_primitives

    eqns = f_jvp.jaxpr.jaxpr.eqns
    assert eqns
    for eqn in eqns:
        assert eqn.primitive in linear_primitives, eqn.primitive.name
    fxad.check_jaxpr(f_jvp.jaxpr.jaxpr)


def test_linear_transpose_user_function():
    A = np.array([[1.0, 2.0, 0.0], [0.0, -1.0, 3.0]])

    def f(x, y):
        return A @ x + 2.0 * y[::-1], fnp.sum(x)

    x, y = np.zeros(3), np.zeros(2)
    f_t = fxad.linear_transpose(f, x, y)
    ct = (np.array([1.0, 2.0]), 3.0)
    ct_x, ct_y = f_t(ct)
    np.testing.assert_allclose(ct_x, A.T @ ct[0] + 3.0)
    np.testing.assert_allclose(ct_y, 2.0 * ct[0][::-1])
    # inner-product identity <ct, f(v)> = <f^T(ct), v>
    rng = np.random.default_rng(1)
    vx, vy = rng.normal(size=3), rng.normal(size=2)
    out = f(vx, vy)
    lhs = np.dot(ct[0], out[0]) + ct[1] * out[1]
    assert lhs == pytest.approx(np.dot(ct_x, vx) + np.dot(ct_y, vy), rel=1e-13)


def test_stop_gradient():
    assert fxad.grad(lambda x: x * fxad.stop_gradient(x))(3.0) == 3.0
    g = fxad.grad(lambda d: fnp.sum(fxad.stop_gradient(d)["a"] * d["b"]))(
        {"a": np.ones(2), "b": np.full(2, 2.0)})
    np.testing.assert_array_equal(g["a"], 0.0)
    np.testing.assert_array_equal(g["b"], 1.0)
    assert fxad.stop_gradient(2.0) == 2.0


# ---------------------------------------------------------------------------
# make_jaxpr and the printed IR


def test_make_jaxpr_prints_jax_notation():
    text = str(fxad.make_jaxpr(lambda x1, x2: x1 * x2 + fnp.sin(x2))(1.0, 2.0))
    assert text == (
        "{ lambda ; a:f64[] b:f64[]. let\n"
        "    c:f64[] = mul a b\n"
        "    d:f64[] = sin b\n"
        "    e:f64[] = add c d\n"
        "  in (e,) }"
    )


def test_make_jaxpr_params_literals_consts():
    w = np.arange(3.0)
    jaxpr = fxad.make_jaxpr(lambda x: fnp.sum(x * w * 2.0, axis=0))(np.ones((2, 3)))
    text = str(jaxpr)
    assert text.startswith("{ lambda a:f64[")  # w, a constant of the jaxpr
    assert "; b:f64[2,3]. let" in text
    assert "reduce_sum[axes=(0,)]" in text
    assert "2.0:f64[]" in text
    np.testing.assert_allclose(jaxpr(np.ones((2, 3)))[0], 2 * w * 2)


def test_make_jaxpr_of_grad_is_checked_and_runs():
    closed = fxad.make_jaxpr(fxad.grad(lambda x: fnp.sum(fnp.sin(x) ** 2)))(np.ones(3))
    fxad.check_jaxpr(closed.jaxpr)
    x = np.array([0.1, 0.2, 0.3])
    np.testing.assert_allclose(closed(x)[0], 2 * np.sin(x) * np.cos(x), rtol=1e-14)


def test_check_jaxpr_catches_errors():
    from fxad.core import JaxprTypeError, Var

    closed = fxad.make_jaxpr(lambda x: fnp.sin(x) * 2.0)(1.0)
    jaxpr = closed.jaxpr
    bad = fxad.Jaxpr(jaxpr.constvars, jaxpr.invars, list(reversed(jaxpr.eqns)), jaxpr.outvars)
    with pytest.raises(JaxprTypeError, match="before it is bound"):
        fxad.check_jaxpr(bad)
    eqn = jaxpr.eqns[0]
    eqn.outvars = [Var(fxad.ShapedArray((2,), np.float64))]
    with pytest.raises(JaxprTypeError, match="sin"):
        fxad.check_jaxpr(fxad.Jaxpr([], jaxpr.invars, [eqn], eqn.outvars))


# ---------------------------------------------------------------------------
# Return types


def test_return_types_follow_numpy():
    assert type(fxad.grad(lambda x: x ** 2)(3.0)) is np.float64
    g32 = fxad.grad(lambda x: fnp.sum(x ** 2))(np.ones(3, np.float32))
    assert g32.dtype == np.float32 and isinstance(g32, np.ndarray)
    y, _ = fxad.jvp(lambda x: x.sum(), (np.ones(3),), (np.ones(3),))
    assert type(y) is np.float64
    g = fxad.grad(lambda x: fnp.sum(x))(np.ones(3))
    g[0] = 5.0  # writable, not a broadcast view
    assert fxad.hessian(lambda x: x ** 3)(2.0) == pytest.approx(12.0)


def test_jvp_of_a_jaxpr():
    from fxad.interpreters.ad import jvp_jaxpr

    closed = fxad.make_jaxpr(lambda x, y: fnp.sin(x) * y + fnp.exp(y))(0.3, 0.7)
    jvp_closed = jvp_jaxpr(closed)
    fxad.check_jaxpr(jvp_closed.jaxpr)
    assert len(jvp_closed.in_avals) == 4 and len(jvp_closed.out_avals) == 2
    y, y_dot = jvp_closed(0.3, 0.7, 1.0, 2.0)
    assert y == pytest.approx(math.sin(0.3) * 0.7 + math.exp(0.7))
    expected = math.cos(0.3) * 0.7 * 1.0 + (math.sin(0.3) + math.exp(0.7)) * 2.0
    assert y_dot == pytest.approx(expected, rel=1e-14)
