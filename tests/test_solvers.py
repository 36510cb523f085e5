"""``custom_root`` and ``custom_linear_solve``: implicit differentiation of
solvers that run a ``while_loop`` (which reverse mode cannot transpose).

References: analytic derivatives of a Newton square root and of a fixed
point, finite differences (``check_grads``), ``np.linalg.solve`` for the
linear solves (gradients with respect to ``b`` and to the matrix entries
``matvec`` closes over), forward vs reverse mode, ``vmap`` vs a loop, ``jit``
vs eager (values and dtypes).  A bisection solve (whose iterates do not
depend on the parameter, so differentiating it would give zero) and trace
counters show the solver itself is never differentiated.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import fxad
import fxad.numpy as jnp
from fxad import core, lax
from fxad.test_util import check_grads


def assert_clean():
    assert core.trace_state.stack == []
    assert fxad.grad(lambda x: x * jnp.sin(x))(0.5) == pytest.approx(
        math.sin(0.5) + 0.5 * math.cos(0.5), rel=1e-15)


def newton(f, x0):
    # Until converged (float64), or 40 steps (float32 stalls above 1e-13).
    def step(c):
        i, x = c
        return i + 1, x - f(x) / (2 * x)

    def go_on(c):
        i, x = c
        return (i < 40) & (jnp.max(jnp.abs(f(x))) > 1e-13)

    return lax.while_loop(go_on, step, (0, x0))[1]


def scalar_tangent_solve(g, y):
    return y / g(jnp.ones_like(y))


def sqrt(a):
    return lax.custom_root(lambda x: x * x - a, jnp.ones_like(a), newton, scalar_tangent_solve)


# ---------------------------------------------------------------------------
# custom_root


def test_newton_sqrt_value_and_derivatives():
    a = 2.0
    assert float(sqrt(a)) == pytest.approx(math.sqrt(a), rel=1e-14)
    want = 0.5 / math.sqrt(a)
    assert float(fxad.grad(sqrt)(a)) == pytest.approx(want, rel=1e-12)
    _, t = fxad.jvp(sqrt, (a,), (3.0,))
    assert float(t) == pytest.approx(3.0 * want, rel=1e-12)
    # Second derivative: -1/4 a^(-3/2).
    assert float(fxad.grad(fxad.grad(sqrt))(a)) == pytest.approx(-0.25 * a ** -1.5, rel=1e-10)
    check_grads(sqrt, (a,), order=2)


def test_newton_sqrt_jacfwd_jacrev_of_a_vector():
    a = np.array([0.5, 2.0, 9.0])
    want = np.diag(0.5 / np.sqrt(a))
    np.testing.assert_allclose(fxad.jacfwd(sqrt)(a), want, rtol=1e-12)
    np.testing.assert_allclose(fxad.jacrev(sqrt)(a), want, rtol=1e-12)
    check_grads(sqrt, (a,), order=2)


def test_reverse_mode_never_sees_the_while_loop():
    def plain(a):
        return newton(lambda x: x * x - a, jnp.ones_like(a))

    with pytest.raises(Exception, match="while_loop"):
        fxad.grad(plain)(2.0)
    assert_clean()
    assert float(fxad.grad(sqrt)(2.0)) == pytest.approx(0.5 / math.sqrt(2.0), rel=1e-12)


def test_the_solve_is_not_differentiated_bisection():
    # Bisection on [0, 4]: its iterates are built from constants and signs
    # only, so differentiating them would give 0; custom_root's gradient
    # comes from f alone.
    def bisect(f, x0):
        def body(c):
            i, lo, hi = c
            mid = (lo + hi) / 2
            left = f(mid) > 0
            return i + 1, jnp.where(left, lo, mid), jnp.where(left, mid, hi)

        _, lo, hi = lax.while_loop(lambda c: c[0] < 60, body, (0, x0 * 0.0, x0 * 0.0 + 4.0))
        return (lo + hi) / 2

    def cube_root(a):
        return lax.custom_root(lambda x: x ** 3 - a, 1.0, bisect, scalar_tangent_solve)

    a = 3.0
    assert float(cube_root(a)) == pytest.approx(a ** (1 / 3), rel=1e-12)
    want = a ** (-2 / 3) / 3
    assert float(fxad.grad(cube_root)(a)) == pytest.approx(want, rel=1e-10)
    assert float(fxad.jvp(cube_root, (a,), (1.0,))[1]) == pytest.approx(want, rel=1e-10)


def test_fixed_point_against_the_analytic_derivative():
    # x = cos(a x): dx/da = -x sin(a x) / (1 + a sin(a x)).
    def fixed_point(f, x0):
        def body(c):
            i, x = c
            return i + 1, x - f(x)

        return lax.while_loop(lambda c: c[0] < 200, body, (0, x0))[1]

    def solution(a):
        return lax.custom_root(lambda x: x - jnp.cos(a * x), 0.5, fixed_point,
                               scalar_tangent_solve)

    a = 0.7
    x = float(solution(a))
    assert x == pytest.approx(math.cos(a * x), abs=1e-14)
    s = math.sin(a * x)
    want = -x * s / (1 + a * s)
    assert float(fxad.grad(solution)(a)) == pytest.approx(want, rel=1e-10)
    assert float(fxad.jacfwd(solution)(a)) == pytest.approx(want, rel=1e-10)
    check_grads(solution, (a,), order=2)


def test_solve_and_tangent_solve_are_traced_once_per_call():
    counts = {"solve": 0, "tangent_solve": 0}

    def solve(f, x0):
        counts["solve"] += 1
        return newton(f, x0)

    def tangent_solve(g, y):
        counts["tangent_solve"] += 1
        return scalar_tangent_solve(g, y)

    def f(a):
        return lax.custom_root(lambda x: x * x - a, 1.0, solve, tangent_solve)

    assert float(fxad.grad(f)(4.0)) == pytest.approx(0.25, rel=1e-12)
    assert counts == {"solve": 1, "tangent_solve": 1}


def test_vector_root_with_a_matrix_tangent_solve():
    # f(x) = A x + x^3 - c elementwise cubic; Newton with the Jacobian.
    a_mat = np.array([[3.0, 1.0], [0.5, 4.0]])

    def solve(f, x0):
        def step(x):
            jac = a_mat + jnp.diag(3 * x * x)
            return x - jnp.linalg.solve(jac, f(x))

        return lax.fori_loop(0, 30, lambda i, x: step(x), x0)

    def tangent_solve(g, y):
        return jnp.linalg.solve(fxad.jacfwd(g)(y), y)

    def root(c):
        return lax.custom_root(lambda x: a_mat @ x + x ** 3 - c, jnp.zeros(2), solve,
                               tangent_solve)

    c = np.array([1.0, 2.0])
    x = np.asarray(root(c))
    np.testing.assert_allclose(a_mat @ x + x ** 3, c, rtol=1e-12)
    want = np.linalg.inv(a_mat + np.diag(3 * x * x))  # dx/dc
    np.testing.assert_allclose(fxad.jacrev(root)(c), want, rtol=1e-10)
    np.testing.assert_allclose(fxad.jacfwd(root)(c), want, rtol=1e-10)


def test_custom_root_pytree_and_aux():
    def solve(f, x0):
        x = newton(lambda v: f({"v": v})["v"], x0["v"])  # f takes the pytree
        return {"v": x}, {"iters": np.int64(7)}

    def root(a):
        sol, aux = lax.custom_root(lambda x: {"v": x["v"] * x["v"] - a}, {"v": 1.0}, solve,
                                   lambda g, y: {"v": y["v"] / g({"v": 1.0})["v"]},
                                   has_aux=True)
        return sol["v"], aux

    x, aux = root(9.0)
    assert float(x) == pytest.approx(3.0, rel=1e-14) and int(aux["iters"]) == 7
    assert float(fxad.grad(lambda a: root(a)[0])(9.0)) == pytest.approx(1 / 6, rel=1e-12)


def test_custom_root_vmap_jit_against_a_loop():
    a = np.array([0.5, 2.0, 3.0, 7.0])
    loop = np.array([float(sqrt(x)) for x in a])
    np.testing.assert_allclose(fxad.vmap(sqrt)(a), loop, rtol=1e-14)
    g = fxad.vmap(fxad.grad(sqrt))(a)
    np.testing.assert_allclose(g, [float(fxad.grad(sqrt)(x)) for x in a], rtol=1e-12)
    for dtype in (np.float64, np.float32):
        x = a.astype(dtype)
        jitted, eager = fxad.jit(sqrt)(x), sqrt(x)
        assert jitted.dtype == eager.dtype == dtype
        np.testing.assert_allclose(jitted, eager, rtol=1e-6 if dtype == np.float32 else 1e-14)
    np.testing.assert_allclose(fxad.jit(fxad.grad(lambda x: sqrt(x).sum()))(a),
                               0.5 / np.sqrt(a), rtol=1e-12)


def test_custom_root_errors_name_the_function_and_the_fix():
    with pytest.raises(TypeError, match=r"custom_root: tangent_solve returned f64\[3\].*"
                                        r"f64\[\].*reshape or cast"):
        fxad.grad(lambda a: lax.custom_root(lambda x: x * x - a, 1.0, newton,
                                            lambda g, y: jnp.ones(3) * y))(2.0)
    assert_clean()
    with pytest.raises(TypeError, match="custom_root: solve returned a str"):
        lax.custom_root(lambda x: x - 1.0, 1.0, lambda f, x: "done", scalar_tangent_solve)
    assert_clean()
    with pytest.raises(TypeError, match="custom_root: f returned the structure"):
        lax.custom_root(lambda x: (x, x), 1.0, newton, scalar_tangent_solve)
    assert_clean()
    with pytest.raises(TypeError, match="custom_root: initial_guess contains a str"):
        lax.custom_root(lambda x: x, "one", newton, scalar_tangent_solve)
    assert_clean()


# ---------------------------------------------------------------------------
# custom_linear_solve


def cg(matvec, b):
    """Conjugate gradients in a while_loop (never differentiated)."""

    def body(c):
        i, x, r, p, rs = c
        ap = matvec(p)
        alpha = rs / jnp.vdot(p, ap)
        x, r = x + alpha * p, r - alpha * ap
        rs_new = jnp.vdot(r, r)
        return i + 1, x, r, r + (rs_new / rs) * p, rs_new

    x0 = jnp.zeros_like(b)
    c = (0, x0, b, b, jnp.vdot(b, b))
    return lax.while_loop(lambda c: (c[0] < 50) & (c[4] > 1e-28), body, c)[1]


def spd(m):
    return m @ m.T + 3.0 * jnp.eye(m.shape[0], dtype=m.dtype)


def solve_cg(m, b):
    a = spd(m)
    return lax.custom_linear_solve(lambda x: a @ x, b, cg, symmetric=True)


def solve_direct(m, b):
    a = m + 4.0 * jnp.eye(m.shape[0], dtype=m.dtype)
    return lax.custom_linear_solve(lambda x: a @ x, b, lambda mv, b: jnp.linalg.solve(a, b),
                                   lambda vm, b: jnp.linalg.solve(a.T, b))


RNG = np.random.default_rng(0)
M = RNG.standard_normal((3, 3)) * 0.5
B = RNG.standard_normal(3)
W = RNG.standard_normal(3)


def _spd_np(m):
    return m @ m.T + 3.0 * np.eye(len(m))


@pytest.mark.parametrize("kind", ["cg", "direct"])
def test_linear_solve_values_and_grad_wrt_b(kind):
    fun, a = {"cg": (solve_cg, _spd_np(M)), "direct": (solve_direct, M + 4.0 * np.eye(3))}[kind]
    np.testing.assert_allclose(fun(M, B), np.linalg.solve(a, B), rtol=1e-11)
    g = fxad.grad(lambda b: jnp.vdot(W, fun(M, b)))(B)
    np.testing.assert_allclose(g, np.linalg.solve(a.T, W), rtol=1e-11)
    _, t = fxad.jvp(lambda b: fun(M, b), (B,), (W,))
    np.testing.assert_allclose(t, np.linalg.solve(a, W), rtol=1e-11)


@pytest.mark.parametrize("kind", ["cg", "direct"])
def test_linear_solve_grad_wrt_the_matrix_entries(kind):
    # x = A^-1 b: d(w.x)/dA = -A^-T w x^T, then the chain rule through A(m).
    fun, make, dmake = {
        "cg": (solve_cg, _spd_np, lambda m, ga: (ga + ga.T) @ m),
        "direct": (solve_direct, lambda m: m + 4.0 * np.eye(3), lambda m, ga: ga)}[kind]
    a = make(M)
    x = np.linalg.solve(a, B)
    ga = -np.outer(np.linalg.solve(a.T, W), x)
    g = fxad.grad(lambda m: jnp.vdot(W, fun(m, B)))(M)
    np.testing.assert_allclose(g, dmake(M, ga), rtol=1e-10)
    jf = fxad.jacfwd(lambda m: fun(m, B))(M)
    jr = fxad.jacrev(lambda m: fun(m, B))(M)
    np.testing.assert_allclose(jf, jr, rtol=1e-10, atol=1e-13)
    check_grads(lambda m, b: fun(m, b), (M, B), order=2)


def test_linear_solve_hessian():
    def loss(m):
        return jnp.sum(solve_cg(m, B) ** 2)

    def ref(m):
        return jnp.sum(jnp.linalg.solve(spd(m), B) ** 2)

    np.testing.assert_allclose(fxad.hessian(loss)(M), fxad.hessian(ref)(M), rtol=1e-9,
                               atol=1e-12)


@pytest.mark.parametrize("fun", [solve_cg, solve_direct])
def test_linear_solve_vmap_against_a_loop(fun):
    bs = RNG.standard_normal((4, 3))
    ms = RNG.standard_normal((4, 3, 3)) * 0.5
    np.testing.assert_allclose(fxad.vmap(fun, in_axes=(None, 0))(M, bs),
                               np.stack([fun(M, b) for b in bs]), rtol=1e-11)
    np.testing.assert_allclose(fxad.vmap(fun)(ms, bs),
                               np.stack([fun(m, b) for m, b in zip(ms, bs)]), rtol=1e-11)
    np.testing.assert_allclose(fxad.vmap(fun, in_axes=(0, None))(ms, B),
                               np.stack([fun(m, B) for m in ms]), rtol=1e-11)
    g = fxad.vmap(fxad.grad(lambda m, b: jnp.vdot(W, fun(m, b))))(ms, bs)
    loop = [fxad.grad(lambda m, b: jnp.vdot(W, fun(m, b)))(m, b) for m, b in zip(ms, bs)]
    np.testing.assert_allclose(g, np.stack(loop), rtol=1e-10)


def test_linear_solve_jit_values_and_dtypes():
    for dtype in (np.float64, np.float32):
        m, b = M.astype(dtype), B.astype(dtype)
        for fun in (solve_cg, solve_direct):
            jitted, eager = fxad.jit(fun)(m, b), fun(m, b)
            assert jitted.dtype == eager.dtype == dtype
            np.testing.assert_allclose(jitted, eager, rtol=1e-5 if dtype == np.float32 else 1e-13)
    g = fxad.jit(fxad.grad(lambda m: jnp.vdot(W, solve_cg(m, B))))(M)
    np.testing.assert_allclose(g, fxad.grad(lambda m: jnp.vdot(W, solve_cg(m, B)))(M),
                               rtol=1e-12)


def test_linear_solve_pytree_b():
    def f(b):
        def matvec(x):
            return {"u": 2.0 * x["u"] + x["v"], "v": x["u"] + 3.0 * x["v"]}

        def solve(mv, b):
            # The 2x2 system [[2, 1], [1, 3]] solved by hand.
            return {"u": (3 * b["u"] - b["v"]) / 5, "v": (2 * b["v"] - b["u"]) / 5}

        return lax.custom_linear_solve(matvec, b, solve, symmetric=True)

    b = {"u": np.array(1.0), "v": np.array(2.0)}
    x = f(b)
    np.testing.assert_allclose([x["u"], x["v"]], np.linalg.solve([[2, 1], [1, 3]], [1, 2]))
    g = fxad.grad(lambda b: f(b)["u"])(b)
    np.testing.assert_allclose([g["u"], g["v"]], np.linalg.solve([[2, 1], [1, 3]], [1, 0]))


def test_linear_solve_errors_name_the_function_and_the_fix():
    def nonsym(b):
        return lax.custom_linear_solve(lambda x: 2.0 * x, b, lambda mv, b: b / 2.0)

    # Forward mode needs no transposed solve; reverse mode does.
    assert float(fxad.jvp(nonsym, (1.0,), (1.0,))[1]) == 0.5
    with pytest.raises(TypeError, match="custom_linear_solve: reverse-mode.*transpose_solve"
                                        ".*symmetric=True"):
        fxad.grad(nonsym)(1.0)
    assert_clean()
    with pytest.raises(TypeError, match=r"custom_linear_solve: solve returned f64\[2\].*"
                                        r"f64\[3\]"):
        lax.custom_linear_solve(lambda x: x, np.ones(3), lambda mv, b: b[:2])
    assert_clean()
    with pytest.raises(TypeError, match="custom_linear_solve: matvec returned a str"):
        lax.custom_linear_solve(lambda x: "Ax", np.ones(3), lambda mv, b: b)
    assert_clean()
    with pytest.raises(TypeError, match="custom_linear_solve: matvec returned the structure "
                                        r"PyTreeDef\(None\).*one array per leaf"):
        lax.custom_linear_solve(lambda x: None, np.ones(3), lambda mv, b: b)
    assert_clean()
    with pytest.raises(TypeError, match="custom_linear_solve: with has_aux=True, solve must "
                                        "return a pair"):
        lax.custom_linear_solve(lambda x: x, np.ones(3), lambda mv, b: b, has_aux=True)
    assert_clean()


def test_linear_solve_with_aux():
    def cg_aux(matvec, b):
        x = cg(matvec, b)
        return x, {"residual": jnp.linalg.norm(matvec(x) - b), "n": np.int64(3)}

    def f(m, b):
        a = spd(m)
        return lax.custom_linear_solve(lambda x: a @ x, b, cg_aux, symmetric=True,
                                       has_aux=True)

    x, aux = f(M, B)
    np.testing.assert_allclose(x, np.linalg.solve(_spd_np(M), B), rtol=1e-11)
    assert float(aux["residual"]) < 1e-12 and int(aux["n"]) == 3
    g = fxad.grad(lambda b: jnp.vdot(W, f(M, b)[0]))(B)
    np.testing.assert_allclose(g, np.linalg.solve(_spd_np(M), W), rtol=1e-11)
    gm = fxad.grad(lambda m: jnp.vdot(W, f(m, B)[0]))(M)
    np.testing.assert_allclose(gm, fxad.grad(lambda m: jnp.vdot(W, solve_cg(m, B)))(M),
                               rtol=1e-12)
    xs, auxs = fxad.vmap(f, in_axes=(None, 0))(M, np.stack([B, W]))
    np.testing.assert_allclose(xs, np.stack([f(M, B)[0], f(M, W)[0]]), rtol=1e-12)
    assert auxs["n"].tolist() == [3, 3]
    xj, auxj = fxad.jit(f)(M, B)
    np.testing.assert_allclose(xj, x, rtol=1e-13)
    assert auxj["n"].dtype == np.int64
