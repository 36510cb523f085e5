"""fxad.scipy.integrate: odeint and solve_ivp against SciPy, their
derivatives against finite differences and a differentiated fixed-step RK4,
forward mode against reverse mode, a stiff system, the time derivatives,
closures, jit, vmap, the errors, and the page docs/integrate.md."""

from __future__ import annotations

import contextlib
import doctest
import io
import re
from pathlib import Path

import numpy as np
import pytest
import scipy.integrate as si

import fxad
import fxad.numpy as fnp
import fxad.scipy.integrate as fint
from fxad import core, lax
from fxad.scipy.integrate import odeint, solve_ivp

TIGHT = dict(rtol=1e-12, atol=1e-12)


def lotka(y, t, p):
    """Lotka-Volterra with a forcing in t (non-autonomous, so d/dt matters)."""
    a, b, c, d = p[0], p[1], p[2], p[3]
    return fnp.stack([a * y[0] - b * y[0] * y[1] + 0.1 * fnp.sin(t),
                      -c * y[1] + d * y[0] * y[1]])


def lotka_np(y, t, p):
    return np.array([p[0] * y[0] - p[1] * y[0] * y[1] + 0.1 * np.sin(t),
                     -p[2] * y[1] + p[3] * y[0] * y[1]])


Y0 = np.array([1.2, 0.8])
P = np.array([1.1, 0.6, 0.9, 0.4])
T = np.array([0.0, 0.7, 1.6, 2.5])
W = np.array([[0.3, -1.0], [1.2, 0.5], [-0.7, 0.9], [0.4, 1.5]])  # output weights


def loss(y0, t, p):
    return fnp.sum(W * odeint(lotka, y0, t, p, **TIGHT))


def central_fd(f, x, h=1e-5):
    x = np.asarray(x, np.float64)
    out = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        e = np.zeros(x.shape)
        e[i] = h
        out[i] = (f(x + e) - f(x - e)) / (2 * h)
    return out


# ---------------------------------------------------------------------------
# Values


def test_odeint_equals_scipy():
    ys = odeint(lotka, Y0, T, P, rtol=1e-9, atol=1e-9)
    ref = si.odeint(lotka_np, Y0, T, (P,), rtol=1e-9, atol=1e-9)
    assert ys.shape == (4, 2) and ys.dtype == np.float64
    np.testing.assert_allclose(ys, ref, rtol=1e-13, atol=1e-14)


def test_odeint_tfirst_lists_and_defaults():
    ys = odeint(lambda t, y, p: lotka(y, t, p), Y0, list(T), P, tfirst=True)
    np.testing.assert_allclose(ys, si.odeint(lotka_np, Y0, T, (P,)), rtol=1e-13, atol=1e-14)


def test_odeint_matrix_state_and_float32():
    a = np.array([[-1.0, 0.3], [0.2, -0.5]])
    y0 = np.eye(2)
    ys = odeint(lambda y, t: a @ y, y0, [0.0, 1.0], **TIGHT)
    assert ys.shape == (2, 2, 2)
    w, v = np.linalg.eig(a)
    expm = (v * np.exp(w)) @ np.linalg.inv(v)
    np.testing.assert_allclose(ys[-1], expm, rtol=1e-9, atol=1e-11)
    y32 = odeint(lambda y, t: -y, np.float32([1.0, 2.0]), np.float32([0.0, 1.0]))
    assert y32.dtype == np.float32
    np.testing.assert_allclose(y32[-1], np.exp(-1.0) * np.array([1.0, 2.0]), rtol=1e-6)


@pytest.mark.parametrize("method", ["RK45", "DOP853", "LSODA", "Radau"])
def test_solve_ivp_equals_scipy(method):
    t_eval = np.array([0.3, 1.0, 2.2])
    sol = solve_ivp(lambda t, y, p: lotka(y, t, p), (0.0, 2.5), Y0, method=method,
                    t_eval=t_eval, args=(P,), rtol=1e-8, atol=1e-10)
    ref = si.solve_ivp(lambda t, y, p: lotka_np(y, t, p), (0.0, 2.5), Y0, method=method,
                       t_eval=t_eval, args=(P,), rtol=1e-8, atol=1e-10)
    assert sol.y.shape == (2, 3) and sol.success and sol.status == 0
    assert sol.message == ref.message
    np.testing.assert_array_equal(sol.t, t_eval)
    np.testing.assert_allclose(sol.y, ref.y, rtol=1e-13, atol=1e-14)
    assert sol["y"] is sol.y


def test_solve_ivp_without_t_eval_gives_scipys_steps():
    sol = solve_ivp(lambda t, y: -0.5 * y, (0.0, 3.0), np.array([1.0, 2.0]))
    ref = si.solve_ivp(lambda t, y: -0.5 * y, (0.0, 3.0), np.array([1.0, 2.0]))
    np.testing.assert_array_equal(sol.t, ref.t)
    np.testing.assert_allclose(sol.y, ref.y, rtol=1e-14)
    assert sol.success and sol.message == ref.message


def test_failed_integration_is_reported():
    # mxstep=5 cannot reach t=10 on a stiff problem: SciPy warns.
    with pytest.warns(si.ODEintWarning):
        odeint(lambda y, t: -1e4 * (y - fnp.cos(t)), np.array([0.0]), [0.0, 10.0],
               mxstep=5)
    # y' = y^2 blows up at t = 1: the step size underflows before t = 2, and
    # the outputs past the failure are NaN.
    sol = solve_ivp(lambda t, y: y ** 2, (0.0, 2.0), np.array([1.0]), t_eval=[0.5, 2.0])
    assert not sol.success and sol.status == -1 and "failed" in sol.message
    np.testing.assert_allclose(sol.y[0, 0], 2.0, rtol=1e-3)
    assert np.isnan(sol.y[0, 1])


# ---------------------------------------------------------------------------
# Reverse mode: finite differences, RK4, the time derivatives


def test_grad_matches_finite_differences():
    g_y0, g_t, g_p = fxad.grad(loss, argnums=(0, 1, 2))(Y0, T, P)
    np.testing.assert_allclose(g_y0, central_fd(lambda v: loss(v, T, P), Y0),
                               rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(g_p, central_fd(lambda v: loss(Y0, T, v), P),
                               rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(g_t, central_fd(lambda v: loss(Y0, v, P), T),
                               rtol=1e-7, atol=1e-9)


def _rk4(f, y0, t0, t1, p, n):
    h = (t1 - t0) / n

    def step(i, y):
        s = t0 + i * h
        k1 = f(y, s, p)
        k2 = f(y + 0.5 * h * k1, s + 0.5 * h, p)
        k3 = f(y + 0.5 * h * k2, s + 0.5 * h, p)
        k4 = f(y + h * k3, s + h, p)
        return y + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)

    return lax.fori_loop(0, n, step, y0)


def rk4_loss(y0, p):
    """The same loss with fixed-step RK4 (written in fxad.numpy, differentiated
    by fxad through the loop)."""
    ys, y = [y0], y0
    for i in range(1, len(T)):
        y = _rk4(lotka, y, T[i - 1], T[i], p, 400)
        ys.append(y)
    return fnp.sum(W * fnp.stack(ys))


def test_grad_matches_differentiated_rk4():
    g_y0, g_p = fxad.grad(loss, argnums=(0, 2))(Y0, T, P)
    r_y0, r_p = fxad.grad(rk4_loss, argnums=(0, 1))(Y0, P)
    np.testing.assert_allclose(loss(Y0, T, P), rk4_loss(Y0, P), rtol=1e-10)
    np.testing.assert_allclose(g_y0, r_y0, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(g_p, r_p, rtol=1e-8, atol=1e-10)


def test_grad_in_t_is_cotangent_dot_f():
    ys = np.asarray(odeint(lotka, Y0, T, P, **TIGHT))
    g_t = fxad.grad(loss, argnums=1)(Y0, T, P)
    # A later output time moves y(t_i) along f; nothing else depends on it.
    for i in range(1, len(T)):
        np.testing.assert_allclose(g_t[i], W[i] @ lotka_np(ys[i], T[i], P), rtol=1e-9)
    # The start moves every later output: checked against finite differences.
    np.testing.assert_allclose(
        g_t[0], central_fd(lambda s: loss(Y0, np.concatenate([s, T[1:]]), P), T[:1])[0],
        rtol=1e-7)


def test_decreasing_times_and_repeated_times():
    tb = np.array([2.0, 1.5, 1.5, 0.0])

    def f(y0, p):
        return fnp.sum(odeint(lotka, y0, tb, p, **TIGHT) ** 2)

    ref = si.odeint(lotka_np, Y0, tb, (P,), **TIGHT)
    np.testing.assert_allclose(odeint(lotka, Y0, tb, P, **TIGHT), ref, rtol=1e-13)
    g_y0, g_p = fxad.grad(f, argnums=(0, 1))(Y0, P)
    np.testing.assert_allclose(g_y0, central_fd(lambda v: f(v, P), Y0), rtol=1e-7)
    np.testing.assert_allclose(g_p, central_fd(lambda v: f(Y0, v), P), rtol=1e-7)


def test_pytree_args_and_integer_args():
    def f(y, t, params, n):
        return -params["k"] * y ** n + params["c"]

    def L(params):
        return fnp.sum(odeint(f, Y0, T, params, 2, **TIGHT))

    params = {"k": np.array(0.7), "c": np.array([0.1, 0.2])}
    g = fxad.grad(L)(params)
    np.testing.assert_allclose(
        g["k"], central_fd(lambda k: L({"k": k, "c": params["c"]}), params["k"]), rtol=1e-7)
    np.testing.assert_allclose(
        g["c"], central_fd(lambda c: L({"k": params["k"], "c": c}), params["c"]), rtol=1e-7)


def test_grad_of_a_closed_over_parameter():
    def L_closure(p):
        return fnp.sum(W * odeint(lambda y, t: lotka(y, t, p), Y0, T, **TIGHT))

    np.testing.assert_allclose(fxad.grad(L_closure)(P), fxad.grad(loss, argnums=2)(Y0, T, P),
                               rtol=1e-10)
    # ... also with the parameter used outside the integration too.
    h = fxad.grad(lambda p: L_closure(p) + fnp.sum(p ** 2))(P)
    np.testing.assert_allclose(h, fxad.grad(loss, argnums=2)(Y0, T, P) + 2 * P, rtol=1e-10)


@pytest.mark.parametrize("method", ["RK45", "DOP853"])
def test_solve_ivp_gradients(method):
    t_eval = np.array([0.5, 1.3, 2.0])

    def L(y0, t0, p, method):
        sol = solve_ivp(lambda t, y, p: lotka(y, t, p), (t0, 2.0), y0, method=method,
                        t_eval=t_eval, args=(p,), rtol=1e-12, atol=1e-12)
        return fnp.sum(W[1:] * sol.y.T)

    g = fxad.grad(L, argnums=(0, 1, 2))(Y0, 0.0, P, method)
    np.testing.assert_allclose(g[0], central_fd(lambda v: L(v, 0.0, P, method), Y0),
                               rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(g[1], central_fd(lambda v: L(Y0, v, P, method),
                                                np.array(0.0)), rtol=1e-6)
    np.testing.assert_allclose(g[2], central_fd(lambda v: L(Y0, 0.0, v, method), P),
                               rtol=1e-6, atol=1e-9)


# ---------------------------------------------------------------------------
# Forward mode


def test_forward_mode_matches_reverse_mode_and_finite_differences():
    def F(y0, t, p):
        return odeint(lotka, y0, t, p, **TIGHT)

    for argnum, x in enumerate((Y0, T, P)):
        jf = fxad.jacfwd(F, argnums=argnum)(Y0, T, P)
        jr = fxad.jacrev(F, argnums=argnum)(Y0, T, P)
        assert jf.shape == jr.shape == (4, 2) + x.shape
        np.testing.assert_allclose(jf, jr, rtol=1e-8, atol=1e-10)
    rng = np.random.default_rng(0)
    v = rng.standard_normal(4)
    _, y_dot = fxad.jvp(lambda p: F(Y0, T, p), (P,), (v,))
    h = 1e-5
    fd = (F(Y0, T, P + h * v) - F(Y0, T, P - h * v)) / (2 * h)
    np.testing.assert_allclose(y_dot, fd, rtol=1e-7, atol=1e-9)


def test_second_derivatives_raise_naming_first_derivatives():
    with pytest.raises(NotImplementedError, match="second derivatives through odeint"):
        fxad.hessian(lambda p: loss(Y0, T, p))(P)
    with pytest.raises(NotImplementedError, match="grad, vjp, jacrev"):
        fxad.grad(lambda p: fnp.sum(fxad.grad(lambda q: loss(Y0, T, q))(p)))(P)
    assert core.trace_state.stack == []
    # ... and the state is clean: a first derivative still works.
    assert np.isfinite(fxad.grad(lambda p: loss(Y0, T, p))(P)).all()


# ---------------------------------------------------------------------------
# A stiff system


def robertson(y, t, logk):
    k = fnp.exp(logk)
    r1, r2, r3 = k[0] * y[0], k[1] * y[1] * y[2], k[2] * y[1] ** 2
    return fnp.stack([-r1 + r2, r1 - r2 - r3, r3])


LOGK = np.log(np.array([0.04, 1e4, 3e7]))
TR = np.array([0.0, 1.0, 10.0, 40.0])


def test_robertson_integrates_and_differentiates():
    def L(logk):
        return odeint(robertson, np.array([1.0, 0.0, 0.0]), TR, logk, rtol=1e-10,
                      atol=1e-12)[:, 0].sum()

    def k_np(y, t):
        k = np.exp(LOGK)
        return np.array([-k[0] * y[0] + k[1] * y[1] * y[2],
                         k[0] * y[0] - k[1] * y[1] * y[2] - k[2] * y[1] ** 2,
                         k[2] * y[1] ** 2])

    ref = si.odeint(k_np, [1.0, 0.0, 0.0], TR, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(L(LOGK), ref[:, 0].sum(), rtol=1e-12)
    g = fxad.grad(L)(LOGK)
    # Finite differences of a stiff solve are noisy at the solver's tolerance:
    # loose, but the gradient entries differ by orders more than this.
    np.testing.assert_allclose(g, central_fd(L, LOGK, h=1e-4), rtol=1e-3)
    assert np.all(np.abs(g) > 0.05)


def test_van_der_pol_mu_1000_differentiates():
    def vdp(y, t, mu):
        return fnp.stack([y[1], mu * (1.0 - y[0] ** 2) * y[1] - y[0]])

    ts = np.array([0.0, 100.0, 300.0, 500.0])

    def L(y0, mu):
        return odeint(vdp, y0, ts, mu, rtol=1e-9, atol=1e-9, mxstep=5000)[-1, 0]

    y0 = np.array([2.0, 0.0])
    g_y0, g_mu = fxad.grad(L, argnums=(0, 1))(y0, 1000.0)
    np.testing.assert_allclose(g_mu, central_fd(lambda m: L(y0, m), np.array(1000.0),
                                                h=0.1), rtol=1e-4)
    np.testing.assert_allclose(g_y0[0], central_fd(lambda v: L(np.array([v, 0.0]), 1000.0),
                                                   np.array(2.0), h=1e-4), rtol=1e-4)


# ---------------------------------------------------------------------------
# jit and vmap


def test_jit_equals_eager():
    g = fxad.grad(loss, argnums=(0, 1, 2))
    for a, b in zip(fxad.jit(g)(Y0, T, P), g(Y0, T, P)):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    ys = fxad.jit(lambda y0, p: odeint(lotka, y0, T, p))(Y0, P)
    assert ys.dtype == np.float64
    np.testing.assert_array_equal(ys, odeint(lotka, Y0, T, P))
    y32 = fxad.jit(lambda y0: odeint(lambda y, t: -y, y0, np.float32([0.0, 1.0])))(
        np.float32([1.0]))
    assert y32.dtype == np.float32


def test_vmap_over_y0_and_params_equals_loop():
    y0s = np.array([[1.2, 0.8], [0.5, 1.5], [2.0, 0.3]])
    out = fxad.vmap(lambda y0: odeint(lotka, y0, T, P))(y0s)
    np.testing.assert_array_equal(out, np.stack([odeint(lotka, y, T, P) for y in y0s]))
    ps = np.stack([P, 1.1 * P])
    grads = fxad.vmap(fxad.grad(loss, argnums=2), in_axes=(None, None, 0))(Y0, T, ps)
    np.testing.assert_allclose(grads, np.stack([fxad.grad(loss, argnums=2)(Y0, T, p)
                                                for p in ps]), rtol=1e-13)
    jit_grads = fxad.jit(fxad.vmap(fxad.grad(loss), in_axes=(0, None, None)))(y0s, T, P)
    np.testing.assert_allclose(jit_grads, np.stack([fxad.grad(loss)(y, T, P) for y in y0s]),
                               rtol=1e-13)


def test_vmap_of_a_closed_over_batched_parameter():
    ks = np.array([0.5, 1.0, 2.0])
    out = fxad.vmap(lambda k: odeint(lambda y, t: -k * y, 1.0, [0.0, 1.0], **TIGHT)[-1])(ks)
    np.testing.assert_allclose(out, np.exp(-ks), rtol=1e-10)


# ---------------------------------------------------------------------------
# Errors


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="func returned dy/dt of shape"):
        odeint(lambda y, t: fnp.sum(y), Y0, T)
    with pytest.raises(ValueError, match="t must be a 1-D"):
        odeint(lambda y, t: -y, Y0, np.zeros((2, 2)))
    with pytest.raises(TypeError, match="func must be a function"):
        odeint(3.0, Y0, T)
    with pytest.raises(TypeError, match="complex"):
        odeint(lambda y, t: -y, np.array([1j]), T)
    with pytest.raises(ValueError, match="method='Euler' is not one of"):
        solve_ivp(lambda t, y: -y, (0.0, 1.0), Y0, method="Euler")
    with pytest.raises(ValueError, match="t_eval is required under a transformation"):
        fxad.grad(lambda y0: solve_ivp(lambda t, y: -y, (0.0, 1.0), y0).y.sum())(Y0)
    with pytest.raises(TypeError, match="events"):
        solve_ivp(lambda t, y: -y, (0.0, 1.0), Y0, events=lambda t, y: y[0])
    with pytest.raises(ValueError, match="y0 must be 1-D"):
        solve_ivp(lambda t, y: -y, (0.0, 1.0), np.eye(2), t_eval=[1.0])
    assert core.trace_state.stack == []


# ---------------------------------------------------------------------------
# Docs


def test_docstring_examples_run():
    result = doctest.testmod(fint, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 6 and result.failed == 0


DOC = Path(__file__).resolve().parent.parent / "docs" / "integrate.md"
_BLOCK = re.compile(r"```python\n(.*?)```(?:\s*```text\n(.*?)```)?", re.S)


def test_docs_integrate_examples_run_and_print_what_the_page_shows():
    text = DOC.read_text()
    blocks = _BLOCK.findall(text)
    assert len(blocks) >= 3
    assert sum(1 for _, shown in blocks if shown) == text.count("```text\n") >= 2
    ns: dict = {"__name__": "docs_integrate"}
    for i, (code, shown) in enumerate(blocks):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, f"{DOC.name}[block {i}]", "exec"), ns)
        if shown:
            assert out.getvalue() == shown, (i, code, out.getvalue())
        assert core.trace_state.stack == [], i
    assert "(integrate.md)" in (DOC.parent / "index.md").read_text()
