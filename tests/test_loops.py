"""Structured loops: ``lax.scan``, ``lax.fori_loop``, ``lax.map`` and
``lax.while_loop``.

Every loop is compared with the same computation unrolled in plain Python
(fxad eager, one iteration after another): values and dtypes, and the
derivatives of grad, jacfwd, jacrev, hessian, vmap and jit of the loop
against those transformations of the unrolled loop, and against finite
differences (``check_grads``).  Nested loops (scan in scan, scan in jit in
grad, vmap of grad of scan), ``reverse=True``, ``xs=None``, pytree carries,
an RNN and an RK4 integrator differentiated wrt their parameters, while
loops in forward mode and the reverse-mode error, hypothesis-drawn bodies,
and the size and speed of tracing a 100,000-step loop.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy_checks import tree_close

import fxad
import fxad.numpy as fnp
from fxad import core, lax, tree_util
from fxad.core import trace_state
from fxad.interpreters import optimize
from fxad.test_util import check_grads

J = fxad.jit



def close(a, b, rtol=1e-10, atol=1e-12):
    tree_close(a, b, rtol, atol)


def unrolled_scan(f, init, xs=None, length=None, reverse=False):
    """The reference: scan as a Python loop (fxad eager or traced)."""
    leaves, tree = tree_util.tree_flatten(xs)
    n = length if length is not None else leaves[0].shape[0]
    carry, ys = init, [None] * n
    for i in (reversed(range(n)) if reverse else range(n)):
        x = None if xs is None else tree_util.tree_unflatten(tree, [v[i] for v in leaves])
        carry, ys[i] = f(carry, x)
    if n == 0 or ys[0] is None:
        return carry, None
    y_leaves = [tree_util.tree_leaves(y) for y in ys]
    stacked = [fnp.stack([yl[k] for yl in y_leaves]) for k in range(len(y_leaves[0]))]
    return carry, tree_util.tree_unflatten(tree_util.tree_structure(ys[0]), stacked)


def _cell(c, x):
    h = fnp.tanh(c * 0.9 + fnp.sin(x))
    return h, h * x + c


W = np.random.default_rng(0).standard_normal((3, 3)) * 0.5


def _mat_cell(c, x):
    h = fnp.tanh(W @ c + x)
    return h, fnp.sum(h * h)


XS = np.random.default_rng(1).standard_normal((5, 3))
C0 = np.random.default_rng(2).standard_normal(3)


# ---------------------------------------------------------------------------
# Values


@pytest.mark.parametrize("reverse", [False, True])
def test_scan_values_equal_unrolled_loop(reverse):
    got = lax.scan(_mat_cell, C0, XS, reverse=reverse)
    want = unrolled_scan(_mat_cell, C0, XS, reverse=reverse)
    close(got, want)


def test_scan_xs_none_with_length_and_pytree_carry():
    def f(c, x):
        assert x is None
        a, (b, d) = c["a"], c["bd"]
        return {"a": a * b, "bd": (b + 1.0, d - a)}, (a, d)

    init = {"a": np.float64(1.5), "bd": (np.float64(0.5), np.ones(2))}
    got = lax.scan(f, init, None, length=4)
    want = unrolled_scan(f, init, None, length=4)
    close(got, want)
    assert set(got[0]) == {"a", "bd"}


def test_scan_length_zero_returns_init_and_empty_ys():
    c, ys = lax.scan(_mat_cell, C0, np.zeros((0, 3)))
    close(c, C0)
    assert ys.shape == (0,) and ys.dtype == np.float64


def test_scan_dtypes_kept_float32_and_int():
    def f(c, x):
        s, k = c
        return (s + x, k + np.int32(1)), s * x

    init = (np.float32(0.0), np.int32(0))
    xs = np.arange(4, dtype=np.float32)
    got = lax.scan(f, init, xs)
    close(got, unrolled_scan(f, init, xs))
    assert got[0][1].dtype == np.int32 and got[1].dtype == np.float32


def test_scan_python_scalar_init_takes_the_body_dtype():
    # A weakly typed initial carry adopts the dtype the body gives it (JAX).
    c, _ = lax.scan(lambda c, x: (c + x, c), 0.0, np.ones(3, np.float32))
    assert np.asarray(c).dtype == np.float32 and float(c) == 3.0


def test_map_equals_stacked_python_map():
    xs = np.linspace(-1, 1, 6).reshape(3, 2)
    got = lax.map(lambda x: fnp.sin(x) * x.sum(), xs)
    close(got, np.stack([np.sin(x) * x.sum() for x in xs]))


def test_fori_loop_values_static_and_traced_bounds():
    def body(i, x):
        return x * 1.1 + fnp.sin(i * 1.0)

    want = 0.3
    for i in range(2, 7):
        want = want * 1.1 + np.sin(i * 1.0)
    close(lax.fori_loop(2, 7, body, np.float64(0.3)), np.float64(want))
    traced = J(lambda lo, hi, x: lax.fori_loop(lo, hi, body, x))
    close(traced(2, 7, np.float64(0.3)), np.float64(want))
    close(lax.fori_loop(5, 2, body, np.float64(0.3)), np.float64(0.3))  # no iteration


def test_while_loop_values():
    def cond(c):
        return c[0] < 10

    def body(c):
        return c[0] + 1, c[1] * 1.5

    out = lax.while_loop(cond, body, (np.int64(3), np.float64(2.0)))
    assert int(out[0]) == 10 and out[0].dtype == np.int64
    close(out[1], np.float64(2.0 * 1.5 ** 7))


# ---------------------------------------------------------------------------
# Derivatives against the unrolled loop and finite differences


def _loss_scan(p, xs, reverse=False):
    def f(c, x):
        h = fnp.tanh(p[0] * c + p[1] * x)
        return h, h * p[2]

    c, ys = lax.scan(f, p[3], xs, reverse=reverse)
    return c + fnp.sum(ys * ys)


def _loss_unrolled(p, xs, reverse=False):
    def f(c, x):
        h = fnp.tanh(p[0] * c + p[1] * x)
        return h, h * p[2]

    c, ys = unrolled_scan(f, p[3], xs, reverse=reverse)
    return c + fnp.sum(ys * ys)


P = np.array([0.8, -0.6, 1.3, 0.2])
X1 = np.array([0.5, -1.0, 0.3, 0.9, -0.2])


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("transform", ["grad", "jacfwd", "jacrev", "hessian"])
def test_scan_derivatives_equal_unrolled(transform, reverse):
    t = getattr(fxad, transform)
    got = t(_loss_scan)(P, X1, reverse)
    want = t(_loss_unrolled)(P, X1, reverse)
    close(got, want, rtol=1e-9, atol=1e-11)


def test_scan_derivatives_wrt_xs_and_init_all_orders():
    check_grads(lambda p, xs: _loss_scan(p, xs), (P, X1), order=2)
    check_grads(lambda c, xs: lax.scan(_mat_cell, c, xs), (C0, XS), order=2)


def test_scan_jit_equals_eager_values_and_dtypes():
    f = J(lambda p, xs: _loss_scan(p, xs))
    close(f(P, X1), _loss_scan(P, X1))
    close(J(fxad.grad(_loss_scan))(P, X1), fxad.grad(_loss_unrolled)(P, X1))
    close(fxad.grad(J(_loss_scan))(P, X1), fxad.grad(_loss_unrolled)(P, X1))


def test_scan_vmap_equals_python_loop_over_examples():
    ps = P + 0.1 * np.arange(3)[:, None]
    got = fxad.vmap(_loss_scan, (0, None))(ps, X1)
    close(got, np.stack([_loss_unrolled(p, X1) for p in ps]))
    xss = np.stack([X1, -X1, X1 * 0.5])
    got = fxad.vmap(lambda xs: lax.scan(_cell, 0.3, xs), 0)(xss)
    want = [unrolled_scan(_cell, 0.3, xs) for xs in xss]
    close(got, (np.stack([w[0] for w in want]), np.stack([w[1] for w in want])))
    # batched along another axis of xs, and a batched init
    got = fxad.vmap(lambda c, xs: lax.scan(_mat_cell, c, xs), (1, 2))(
        np.stack([C0, -C0], 1), np.stack([XS, XS * 2], 2))
    want = [unrolled_scan(_mat_cell, c, xs) for c, xs in ((C0, XS), (-C0, XS * 2))]
    close(got, (np.stack([w[0] for w in want]), np.stack([w[1] for w in want])))


def test_vmap_of_grad_of_scan():
    ps = P + 0.05 * np.arange(4)[:, None]
    got = fxad.vmap(fxad.grad(_loss_scan), (0, None))(ps, X1)
    close(got, np.stack([fxad.grad(_loss_unrolled)(p, X1) for p in ps]), rtol=1e-9)


def test_scan_inside_scan():
    def inner_loss(p, xs):
        def outer(c, row):
            c2, ys = lax.scan(lambda a, x: (fnp.sin(a * p[0] + x), a * x), c, row)
            return c2 * p[1], fnp.sum(ys)
        return lax.scan(outer, p[2], xs)

    def unrolled(p, xs):
        def outer(c, row):
            c2, ys = unrolled_scan(lambda a, x: (fnp.sin(a * p[0] + x), a * x), c, row)
            return c2 * p[1], fnp.sum(ys)
        return unrolled_scan(outer, p[2], xs)

    p = np.array([0.7, 0.9, 0.4])
    close(inner_loss(p, XS), unrolled(p, XS))

    def total(f):
        return lambda p: (lambda c, ys: c + fnp.sum(ys))(*f(p, XS))

    close(fxad.grad(total(inner_loss))(p), fxad.grad(total(unrolled))(p), rtol=1e-9)
    close(fxad.hessian(total(inner_loss))(p), fxad.hessian(total(unrolled))(p), rtol=1e-8)
    check_grads(total(inner_loss), (p,), order=2)


def test_scan_inside_jit_inside_grad():
    g = fxad.grad(lambda p: J(_loss_scan)(p, X1) * 2.0)
    close(g(P), 2.0 * fxad.grad(_loss_unrolled)(P, X1), rtol=1e-9)
    close(J(fxad.grad(lambda p: J(_loss_scan)(p, X1)))(P), fxad.grad(_loss_unrolled)(P, X1),
          rtol=1e-9)


def test_closed_over_traced_values_are_differentiated():
    # The body closes over p (a tracer of grad): it becomes a const operand.
    def f(p):
        return lax.scan(lambda c, x: (c * p + x, c), 1.0, X1)[0]

    def g(p):
        return unrolled_scan(lambda c, x: (c * p + x, c), 1.0, X1)[0]

    close(fxad.grad(f)(0.7), fxad.grad(g)(0.7))
    close(fxad.jacfwd(f)(0.7), fxad.jacfwd(g)(0.7))
    check_grads(f, (0.7,), order=2)


# ---------------------------------------------------------------------------
# An RNN and an RK4 integrator, differentiated wrt their parameters


def _rnn(params, xs):
    wh, wx, b = params

    def cell(h, x):
        h = fnp.tanh(wh @ h + wx @ x + b)
        return h, fnp.sum(h)

    h, ys = lax.scan(cell, np.zeros(3), xs)
    return fnp.sum(h * h) + fnp.sum(ys)


def test_rnn_gradients_against_finite_differences():
    rng = np.random.default_rng(5)
    params = (rng.standard_normal((3, 3)) * 0.4, rng.standard_normal((3, 2)) * 0.4,
              rng.standard_normal(3) * 0.1)
    xs = rng.standard_normal((6, 2))
    check_grads(_rnn, (params, xs), order=1)
    check_grads(lambda b: _rnn((params[0], params[1], b), xs), (params[2],), order=2)


def _rk4(theta, y0, n=20, dt=0.05):
    def f(y):
        return fnp.stack([y[1], -theta[0] * fnp.sin(y[0]) - theta[1] * y[1]])

    def step(y, _):
        k1 = f(y)
        k2 = f(y + dt / 2 * k1)
        k3 = f(y + dt / 2 * k2)
        k4 = f(y + dt * k3)
        y = y + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        return y, y[0]

    y, traj = lax.scan(step, y0, None, length=n)
    return fnp.sum(traj) + y[1]


def test_rk4_integrator_gradients_against_finite_differences():
    theta, y0 = np.array([2.0, 0.3]), np.array([1.0, 0.0])
    check_grads(_rk4, (theta, y0), order=2)
    close(fxad.grad(_rk4)(theta, y0), fxad.jacfwd(_rk4)(theta, y0), rtol=1e-9)


# ---------------------------------------------------------------------------
# fori_loop and while_loop derivatives


def _fori(x):
    return lax.fori_loop(0, 5, lambda i, v: fnp.sin(v) * x + i, x)


def _fori_unrolled(x):
    v = x
    for i in range(5):
        v = fnp.sin(v) * x + i
    return v


def test_fori_loop_static_bounds_support_reverse_mode():
    for t in (fxad.grad, fxad.jacfwd, fxad.jacrev, fxad.hessian):
        close(t(_fori)(0.6), t(_fori_unrolled)(0.6), rtol=1e-9)
    check_grads(_fori, (0.6,), order=2)


def _while_f(x):
    return lax.while_loop(lambda c: c[0] < 4, lambda c: (c[0] + 1, fnp.sin(c[1]) * x),
                          (0, x))[1]


def test_while_loop_forward_mode_equals_unrolled():
    close(fxad.jacfwd(_while_f)(0.8), fxad.jacfwd(_fori_like)(0.8))
    close(fxad.jvp(_while_f, (0.8,), (1.0,)), fxad.jvp(_fori_like, (0.8,), (1.0,)))
    check_grads(_while_f, (0.8,), order=2, modes=("fwd",))


def _fori_like(x):
    v = x
    for _ in range(4):
        v = fnp.sin(v) * x
    return v


@pytest.mark.parametrize("transform", [fxad.grad, fxad.jacrev])
def test_while_loop_reverse_mode_error_names_the_way_out(transform):
    with pytest.raises(ValueError, match="scan.*fori_loop with Python-int"):
        transform(_while_f)(0.8)
    assert trace_state.stack == []
    close(fxad.grad(_fori)(0.6), fxad.grad(_fori_unrolled)(0.6))  # still usable


def test_fori_loop_with_traced_bounds_is_forward_mode_only():
    def f(x, n):
        return lax.fori_loop(0, n, lambda i, v: v * x, 1.0)

    close(fxad.jacfwd(f)(1.5, np.int64(3)), np.float64(3 * 1.5 ** 2))
    close(J(fxad.jacfwd(f))(1.5, np.int64(3)), np.float64(3 * 1.5 ** 2))
    with pytest.raises(ValueError, match="static"):
        J(fxad.grad(f))(1.5, np.int64(3))
    assert trace_state.stack == []


def test_while_loop_vmap_with_batched_predicate_runs_each_lane_to_its_end():
    def f(x):
        return lax.while_loop(lambda c: c[1] < 10.0, lambda c: (c[0] + 1, c[1] * x),
                              (0, x))

    xs = np.array([1.5, 3.0, 11.0, 2.0])
    got = fxad.vmap(f)(xs)
    want = [f(x) for x in xs]
    close(got, (np.stack([w[0] for w in want]), np.stack([w[1] for w in want])))
    # unbatched predicate: only the body is batched
    got = fxad.vmap(lambda y: lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] * y),
                                             (0, y)))(xs)
    close(got[1], xs ** 4)
    close(fxad.vmap(fxad.jacfwd(lambda x: f(x)[1]))(xs),
          np.stack([fxad.jacfwd(lambda x: f(x)[1])(x) for x in xs]))


# ---------------------------------------------------------------------------
# The jaxpr: one equation, printed nested; DCE; tracing cost


def test_make_jaxpr_of_100000_step_fori_loop_is_one_scan_and_fast():
    t0 = time.perf_counter()
    closed = fxad.make_jaxpr(lambda x: lax.fori_loop(0, 100_000, lambda i, v: v * 0.5 + 1.0, x))(
        1.0)
    elapsed = time.perf_counter() - t0
    assert [e.primitive.name for e in closed.eqns] == ["scan"]
    (eqn,) = closed.eqns
    assert eqn.params["length"] == 100_000 and len(eqn.params["jaxpr"].eqns) <= 4
    assert elapsed < 2.0, elapsed  # tracing is independent of the trip count


def test_scan_jaxpr_prints_nested_and_checks():
    closed = fxad.make_jaxpr(lambda c, xs: lax.scan(_cell, c, xs))(0.5, X1)
    text = str(closed)
    assert "scan[" in text and "length=5" in text and "num_carry=1" in text
    assert "jaxpr={ lambda" in text and "tanh" in text
    core.check_jaxpr(closed)


def test_dce_drops_unused_ys_and_unneeded_carries():
    def f(xs):
        def body(c, x):
            a, b = c
            return (a + x, b * 2.0 + a), (fnp.sin(x), fnp.cos(a))
        (a, b), (s, co) = lax.scan(body, (0.0, 1.0), xs)
        return a, s

    closed = fxad.make_jaxpr(f)(X1)
    opt = optimize.optimize(closed)
    (eqn,) = [e for e in opt.eqns if e.primitive.name == "scan"]
    assert eqn.params["num_carry"] == 1  # b is not needed
    assert len(eqn.outvars) == 2  # a and the sines
    body_prims = {e.primitive.name for e in eqn.params["jaxpr"].eqns}
    assert "cos" not in body_prims and "mul" not in body_prims
    close(J(f)(X1), f(X1))


def test_dce_keeps_a_carry_that_feeds_a_used_one():
    def f(xs):
        def body(c, x):
            a, b = c
            return (a + b, b + x), None
        return lax.scan(body, (0.0, 1.0), xs)[0][0]

    opt = optimize.optimize(fxad.make_jaxpr(f)(X1))
    (eqn,) = opt.eqns
    assert eqn.params["num_carry"] == 2
    close(J(f)(X1), f(X1))


def test_grad_of_scan_traced_once_and_derived_bodies_cached():
    calls = []

    def body(c, x):
        calls.append(1)
        return fnp.sin(c) * x, c

    g = fxad.grad(lambda c: lax.scan(body, c, X1)[0])
    g(0.3)
    n = len(calls)
    g(0.4)
    # The body is traced once per call of scan (not per step, nor again by
    # grad's JVP, linearize or transpose, which transform the traced body).
    assert n == 1 and len(calls) == 2


# ---------------------------------------------------------------------------
# Errors


def test_carry_type_change_is_an_error_naming_the_leaf():
    with pytest.raises(TypeError, match=r"init\[1\] has type f64\[3\].*f64\[\]"):
        lax.scan(lambda c, x: ((c[0], fnp.sum(c[1])), x), (0.0, np.ones(3)), X1)
    with pytest.raises(TypeError, match=r"init\['a'\] has type i64\[\].*dtypes"):
        lax.scan(lambda c, x: ({"a": c["a"] * 0.5}, x), {"a": np.int64(1)}, X1)
    assert trace_state.stack == []


@pytest.mark.parametrize("kwargs, msg", [
    (dict(xs=None), "pass length="),
    (dict(xs=np.ones((3, 2)), length=4), "length=4"),
    (dict(xs=(np.ones(3), np.ones(4))), "different leading axis sizes"),
    (dict(xs=np.float64(1.0)), "leading axis"),
])
def test_scan_argument_errors(kwargs, msg):
    with pytest.raises((TypeError, ValueError), match=msg):
        lax.scan(lambda c, x: (c, x), 0.0, **kwargs)
    assert trace_state.stack == []


def test_scan_body_must_return_a_pair_and_keep_the_structure():
    with pytest.raises(TypeError, match="pair"):
        lax.scan(lambda c, x: c, 0.0, X1)
    with pytest.raises(TypeError, match="same pytree structure"):
        lax.scan(lambda c, x: ((c, c), x), 0.0, X1)
    with pytest.raises(TypeError, match="boolean scalar"):
        lax.while_loop(lambda c: c, lambda c: c, 1.0)


# ---------------------------------------------------------------------------
# Hypothesis-drawn bodies

_UNARY = [fnp.sin, fnp.tanh, lambda v: v * 0.7, lambda v: fnp.cos(v) * v]


@settings(max_examples=25, deadline=None)
@given(ops=st.lists(st.sampled_from(range(len(_UNARY))), min_size=1, max_size=3),
       mix=st.floats(-1.0, 1.0), n=st.integers(0, 4), reverse=st.booleans())
def test_hypothesis_bodies_equal_unrolled(ops, mix, n, reverse):
    def body(c, x):
        v = c * mix + x
        for k in ops:
            v = _UNARY[k](v)
        return v, v * c

    xs = np.linspace(-1.0, 1.0, n)

    def loss(s, f):
        c, ys = f(body, s, xs, reverse=reverse)
        return c + (fnp.sum(ys) if ys is not None else 0.0)

    close(loss(0.4, lax.scan), loss(0.4, unrolled_scan))
    close(fxad.grad(lambda s: loss(s, lax.scan))(0.4),
          fxad.grad(lambda s: loss(s, unrolled_scan))(0.4), rtol=1e-9)
    close(fxad.jacfwd(lambda s: loss(s, lax.scan))(0.4),
          fxad.grad(lambda s: loss(s, unrolled_scan))(0.4), rtol=1e-9)


# ---------------------------------------------------------------------------
# The derived loops: linearize's split, the transpose, residuals


def test_linearize_stages_one_linear_scan_and_hoists_loop_invariant_residuals():
    w = np.random.default_rng(3).standard_normal((3, 3))

    def f(w, c):
        return lax.scan(lambda h, x: (fnp.tanh(w @ h + x), h), c, XS)[0]

    y, f_jvp = fxad.linearize(f, w, C0)
    close(y, f(w, C0))
    (eqn,) = [e for e in f_jvp.jaxpr.eqns if e.primitive.name == "scan"]
    in_shapes = [v.aval.shape for v in eqn.invars]
    # w is read by the tangent body as a const, not stacked per iteration
    assert (3, 3) in in_shapes[:eqn.params["num_consts"]]
    assert (5, 3, 3) not in in_shapes
    tw, tc = np.ones((3, 3)) * 0.1, np.ones(3)
    close(f_jvp(tw, tc), fxad.jvp(f, (w, C0), (tw, tc))[1])


def test_transpose_of_a_linear_scan_is_a_reversed_scan():
    def f(c, xs):
        return lax.scan(lambda c, x: (c * 0.5 + x, c * 2.0), c, xs)

    f_t = fxad.linear_transpose(f, 1.0, X1)
    closed = fxad.make_jaxpr(lambda ct: f_t(ct))((1.0, np.ones(5)))
    (eqn,) = [e for e in closed.eqns if e.primitive.name == "scan"]
    assert eqn.params["reverse"] is True
    # <ct, f(v)> == <f^T(ct), v>
    rng = np.random.default_rng(4)
    v = (rng.standard_normal(()), rng.standard_normal(5))
    ct = (rng.standard_normal(()), rng.standard_normal(5))
    out = f(*v)
    lhs = ct[0] * out[0] + np.dot(ct[1], out[1])
    tc, tx = f_t(ct)
    np.testing.assert_allclose(lhs, tc * v[0] + np.dot(tx, v[1]), rtol=1e-12)


def test_carry_reset_to_a_constant_under_grad():
    # The carry's tangent is zero after one step: linearize forces it to stay
    # an unknown carry (a residual feeds it).
    def f(x):
        return lax.scan(lambda c, s: (np.float64(1.0), c * s), x, X1)[1].sum()

    close(fxad.grad(f)(0.5), np.float64(X1[0]))
    close(fxad.jacfwd(f)(0.5), np.float64(X1[0]))


def test_while_loop_jit_equals_eager_values_and_dtypes():
    def f(x, n):
        return lax.while_loop(lambda c: c[0] < n, lambda c: (c[0] + 1, fnp.sin(c[1]) + x),
                              (np.int32(0), x))

    for x in (np.float64(0.3), np.float32(0.3)):
        close(J(f)(x, np.int32(4)), f(x, np.int32(4)))
    closed = fxad.make_jaxpr(f)(0.3, np.int32(4))
    assert [e.primitive.name for e in closed.eqns] == ["while"]
    core.check_jaxpr(closed)


def test_while_dce_drops_an_unused_carry():
    def f(x):
        return lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] * x, fnp.cos(c[2])),
                              (0, x, x))[1]

    opt = optimize.optimize(fxad.make_jaxpr(f)(0.7))
    (eqn,) = [e for e in opt.eqns if e.primitive.name == "while"]
    assert len(eqn.outvars) == 2
    assert "cos" not in {e.primitive.name for e in eqn.params["body_jaxpr"].eqns}
    close(J(f)(0.7), f(0.7))


# ---------------------------------------------------------------------------
# More compositions


def test_pytree_xs_and_ys_under_grad_vmap_and_jit():
    xs = {"a": XS, "b": (X1, np.arange(5.0))}

    def f(c, xs):
        def body(c, x):
            h = fnp.tanh(c * x["b"][0] + x["a"])
            return h, {"h": h, "s": fnp.sum(h) * x["b"][1]}
        c, ys = lax.scan(body, c, xs)
        return fnp.sum(c) + fnp.sum(ys["h"]) + fnp.sum(ys["s"])

    def g(c, xs):
        def body(c, x):
            h = fnp.tanh(c * x["b"][0] + x["a"])
            return h, {"h": h, "s": fnp.sum(h) * x["b"][1]}
        c, ys = unrolled_scan(body, c, xs)
        return fnp.sum(c) + fnp.sum(ys["h"]) + fnp.sum(ys["s"])

    close(f(C0, xs), g(C0, xs))
    close(fxad.grad(f, argnums=(0, 1))(C0, xs), fxad.grad(g, argnums=(0, 1))(C0, xs),
          rtol=1e-9)
    close(J(f)(C0, xs), g(C0, xs))
    cs = np.stack([C0, C0 * 0.5])
    close(J(fxad.vmap(fxad.grad(f), (0, None)))(cs, xs),
          np.stack([fxad.grad(g)(c, xs) for c in cs]), rtol=1e-9)


def test_an_error_inside_the_body_leaves_fxad_usable():
    def bad(c, x):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fxad.grad(lambda c: lax.scan(bad, c, X1)[0])(0.5)
    with pytest.raises(RuntimeError, match="boom"):
        J(lambda c: lax.while_loop(lambda c: c < 1.0, lambda c: bad(c, c), c))(0.5)
    assert trace_state.stack == []
    close(fxad.grad(_fori)(0.6), fxad.grad(_fori_unrolled)(0.6))


def test_while_loop_vmap_with_batched_body_consts_and_integer_carry():
    def f(x, n):
        return lax.while_loop(lambda c: c[0] < n, lambda c: (c[0] + 1, c[1] * x + 1.0),
                              (np.int64(0), np.float64(1.0)))

    xs = np.array([0.5, 1.5, 2.0])
    ns = np.array([0, 3, 5])
    got = fxad.vmap(f)(xs, ns)
    want = [f(x, n) for x, n in zip(xs, ns)]
    close(got, (np.stack([w[0] for w in want]), np.stack([w[1] for w in want])))
    got = fxad.vmap(f, (0, None))(xs, np.int64(4))
    close(got[1], np.stack([f(x, np.int64(4))[1] for x in xs]))
    # forward derivatives of the batched loop, under jit too
    jf = fxad.vmap(fxad.jacfwd(lambda x, n: f(x, n)[1]))
    want = np.stack([fxad.jacfwd(lambda x, n=n: f(x, n)[1])(x) for x, n in zip(xs, ns)])
    close(jf(xs, ns), want)
    close(J(jf)(xs, ns), want)


def test_scan_with_integer_carry_and_batched_xs():
    def f(xs):
        return lax.scan(lambda c, x: ((c[0] + 1, c[1] + x * c[0]), c[0] * 2), (0, 0.0), xs)

    xss = np.stack([X1, X1 * 2.0])
    got = fxad.vmap(f)(xss)
    want = [unrolled_scan(lambda c, x: ((c[0] + 1, c[1] + x * c[0]), c[0] * 2), (0, 0.0), xs)
            for xs in xss]
    close(got, tree_util.tree_map(lambda *a: np.stack(a), *want))


def test_benchmark_cases_agree_with_hand_written_reverse_mode():
    from benchmarks.loops import cases
    from benchmarks.workloads import chain

    x, _ = chain.inputs(small=True)
    want = chain.by_hand(x, 20)
    for name, fn in cases(20).items():
        if not name.startswith("make_jaxpr"):
            np.testing.assert_allclose(fn(x), want, rtol=1e-10, atol=1e-12, err_msg=name)


def test_linearize_reads_x_residuals_from_xs_without_a_stacked_copy():
    def f(c):
        return lax.scan(lambda c, x: (fnp.sin(c) * x, c * x), c, XS)

    _, f_jvp = fxad.linearize(f, C0)
    closed = f_jvp.jaxpr
    (eqn,) = [e for e in closed.eqns if e.primitive.name == "scan"]
    const_of = dict(zip(closed.jaxpr.constvars, closed.consts))
    operands = [const_of[v] for v in eqn.invars if v in const_of]
    assert any(o is XS for o in operands)  # the xs themselves, not a copy
    t = np.ones(3) * 0.3
    close(f_jvp(t), fxad.jvp(f, (C0,), (t,))[1])


def test_scan_of_length_zero_under_grad_and_vmap():
    def f(c):
        return lax.scan(lambda c, x: (fnp.sin(c) * x, c), c, np.zeros(0))[0]

    close(fxad.grad(f)(0.5), np.float64(1.0))
    close(fxad.vmap(f)(np.array([0.5, 1.0])), np.array([0.5, 1.0]))


def test_fori_loop_counter_dtype_follows_the_bounds_and_integer_xs_get_no_tangent():
    seen = []

    def body(i, x):
        seen.append(i.dtype)
        return x * 2.0

    close(lax.fori_loop(np.int32(0), np.int32(3), body, 1.0), np.float64(8.0))
    assert seen == [np.dtype(np.int32)]

    def f(c):
        return lax.scan(lambda c, k: (c * (k * 1.0 + 0.5), k), c, np.arange(4))[0]

    close(fxad.grad(f)(2.0), np.float64(0.5 * 1.5 * 2.5 * 3.5))
    close(fxad.jacfwd(f)(2.0), np.float64(0.5 * 1.5 * 2.5 * 3.5))


def test_check_jaxpr_catches_a_scan_whose_operands_do_not_match_its_body():
    closed = fxad.make_jaxpr(lambda c, xs: lax.scan(_cell, c, xs))(0.5, X1)
    (eqn,) = closed.eqns
    bad = core.JaxprEqn(eqn.primitive, eqn.invars, dict(eqn.params, length=4), eqn.outvars)
    jaxpr = core.Jaxpr(closed.jaxpr.constvars, closed.jaxpr.invars, [bad],
                       closed.jaxpr.outvars)
    with pytest.raises(core.JaxprTypeError, match="scan: xs operand 1 is f64\\[5\\]"):
        core.check_jaxpr(jaxpr)


def test_jit_of_scan_keeps_float32():
    xs = np.linspace(0, 1, 4, dtype=np.float32)
    f = J(lambda c, xs: lax.scan(lambda c, x: (c * x + 1.0, fnp.sin(c)), c, xs))
    got = f(np.float32(0.5), xs)
    want = unrolled_scan(lambda c, x: (c * x + 1.0, fnp.sin(c)), np.float32(0.5), xs)
    close(got, want, rtol=1e-6)
    assert got[0].dtype == np.float32 and got[1].dtype == np.float32
    g = J(fxad.grad(lambda c: f(c, xs)[0]))(np.float32(0.5))
    assert np.asarray(g).dtype == np.float32
