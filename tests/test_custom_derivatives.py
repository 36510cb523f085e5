"""``fxad.custom_jvp`` and ``fxad.custom_vjp``: the custom rule is the one
used (a deliberately different rule is observed) under every transformation
and nesting; nondiff_argnums, pytrees, closures; the documented examples
(stable log1pexp, gradient clipping); JAX's errors, each leaving fxad usable.

References are independent of the machinery under test: analytic
derivatives, finite differences (check_grads), the plain function, and loops
in place of vmap.  The op records (tests/op_records_custom.py) push the
primitives through the shared value, autodiff, vmap and jit suites.
"""

from __future__ import annotations

import numpy as np
import pytest

import fxad
import fxad.numpy as fnp
from fxad import core
from fxad.interpreters import ad
from fxad.test_util import check_grads

J = fxad.jit


def clean():
    assert core.trace_state.stack == []


# ---------------------------------------------------------------------------
# A custom_jvp whose rule deliberately differs from the body's derivative:
# sin with the "derivative" 3 cos(x) + x.


@fxad.custom_jvp
def fake_sin(x):
    return fnp.sin(x)


@fake_sin.defjvp
def _fake_sin_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return fake_sin(x), (3.0 * fnp.cos(x) + x) * t


def fake_d(x):
    return 3.0 * np.cos(x) + x


def fake_dd(x):  # derivative of the rule's tangent coefficient
    return -3.0 * np.sin(x) + 1.0


XS = np.array([0.3, -1.2, 2.0])


def test_custom_jvp_eager_is_the_body():
    assert fake_sin(0.5) == np.sin(0.5)
    np.testing.assert_array_equal(fake_sin(XS), np.sin(XS))


@pytest.mark.parametrize("x", [0.3, -1.2])
def test_custom_jvp_rule_under_grad_jvp_jacfwd_jacrev(x):
    assert float(fxad.grad(fake_sin)(x)) == pytest.approx(fake_d(x), rel=1e-14)
    y, t = fxad.jvp(fake_sin, (x,), (2.0,))
    assert float(y) == np.sin(x) and float(t) == pytest.approx(2.0 * fake_d(x), rel=1e-14)
    assert float(fxad.jacfwd(fake_sin)(x)) == pytest.approx(fake_d(x), rel=1e-14)
    assert float(fxad.jacrev(fake_sin)(x)) == pytest.approx(fake_d(x), rel=1e-14)


def test_custom_jvp_rule_under_vmap_jit_and_their_compositions():
    want = fake_d(XS)
    g = fxad.grad(fake_sin)
    np.testing.assert_allclose(fxad.vmap(g)(XS), want, rtol=1e-14)
    np.testing.assert_allclose([float(J(g)(x)) for x in XS], want, rtol=1e-14)
    np.testing.assert_allclose([float(fxad.grad(J(fake_sin))(x)) for x in XS], want,
                               rtol=1e-14)
    # grad of a vmapped function: the batch rule keeps the custom rule
    np.testing.assert_allclose(fxad.grad(lambda v: fxad.vmap(fake_sin)(v).sum())(XS), want,
                               rtol=1e-14)
    np.testing.assert_allclose(fxad.jacfwd(fxad.vmap(fake_sin))(XS), np.diag(want),
                               rtol=1e-14)
    np.testing.assert_allclose(J(fxad.vmap(g))(XS), want, rtol=1e-14)
    np.testing.assert_allclose(fxad.vmap(J(g))(XS), want, rtol=1e-14)
    np.testing.assert_allclose(fxad.grad(lambda v: J(fxad.vmap(fake_sin))(v).sum())(XS),
                               want, rtol=1e-14)
    clean()


def test_custom_jvp_hessian_differentiates_the_rule():
    for x in XS:
        assert float(fxad.hessian(fake_sin)(x)) == pytest.approx(fake_dd(x), rel=1e-13)
        assert float(fxad.grad(fxad.grad(fake_sin))(x)) == pytest.approx(fake_dd(x),
                                                                         rel=1e-13)
        assert float(fxad.jacfwd(fxad.jacfwd(fake_sin))(x)) == pytest.approx(fake_dd(x),
                                                                             rel=1e-13)
        assert float(J(fxad.hessian(fake_sin))(x)) == pytest.approx(fake_dd(x), rel=1e-13)
    np.testing.assert_allclose(fxad.vmap(fxad.hessian(fake_sin))(XS), fake_dd(XS), rtol=1e-13)


def test_custom_jvp_in_a_bigger_function_and_dtypes_under_jit():
    def f(x):
        return fnp.exp(fake_sin(x * 2.0)) * x

    def df(x):  # chain rule through the custom derivative
        return np.exp(np.sin(2 * x)) * (fake_d(2 * x) * 2 * x + 1)

    for x in XS:
        assert float(fxad.grad(f)(x)) == pytest.approx(df(x), rel=1e-13)
    x32 = np.float32(0.7)
    got = J(fxad.grad(f))(x32)
    assert got.dtype == fxad.grad(f)(x32).dtype == np.float32
    assert float(got) == pytest.approx(df(0.7), rel=1e-5)


def test_make_jaxpr_shows_the_call_with_its_body():
    text = str(fxad.make_jaxpr(fake_sin)(1.0))
    assert text == (
        "{ lambda ; a:f64[]. let\n"
        "    b:f64[] = custom_jvp_call[\n"
        "      jvp=_fake_sin_jvp\n"
        "      name=fake_sin\n"
        "      num_consts=0\n"
        "      call_jaxpr={ lambda ; c:f64[]. let\n"
        "          d:f64[] = sin c\n"
        "        in (d,) }\n"
        "    ] a\n"
        "  in (b,) }")
    core.check_jaxpr(fxad.make_jaxpr(fake_sin)(1.0).jaxpr)


def test_jit_keeps_the_call_so_grad_of_jit_uses_the_rule():
    closed = J(fake_sin).lower(1.0).jaxpr
    assert [e.primitive.name for e in closed.eqns] == ["custom_jvp_call"]
    # linearize stages only the rule's tangent part, which is linear
    _, f_jvp = fxad.linearize(fake_sin, 0.4)
    for eqn in f_jvp.jaxpr.eqns:
        if any(not isinstance(v, core.Literal) and v in f_jvp.jaxpr.jaxpr.invars
               for v in eqn.invars):
            assert eqn.primitive in ad.linear_primitives
    assert float(f_jvp(1.0)) == pytest.approx(fake_d(0.4), rel=1e-14)


# ---------------------------------------------------------------------------
# The documented examples


@fxad.custom_jvp
def log1pexp(x):
    return fnp.log(1.0 + fnp.exp(x))


@log1pexp.defjvp
def _log1pexp_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return log1pexp(x), t * (1.0 - 1.0 / (1.0 + fnp.exp(x)))


def test_log1pexp_gradient_at_100_is_exactly_one():
    naive = lambda x: fnp.log(1.0 + fnp.exp(x))  # noqa: E731
    x32 = np.float32(100.0)
    with np.errstate(all="ignore"):  # exp overflows: inf / inf without the rule
        assert np.isnan(fxad.grad(naive)(x32)) and np.isnan(fxad.grad(naive)(1000.0))
        g32 = fxad.grad(log1pexp)(x32)
        assert g32 == 1.0 and g32.dtype == np.float32
        assert float(fxad.grad(log1pexp)(1000.0)) == 1.0
    assert float(fxad.grad(log1pexp)(100.0)) == 1.0
    assert float(J(fxad.grad(log1pexp))(100.0)) == 1.0
    np.testing.assert_array_equal(fxad.vmap(fxad.grad(log1pexp))(np.array([100.0, 200.0])),
                                  [1.0, 1.0])
    for x in (-3.0, 0.0, 2.5):
        assert float(fxad.grad(log1pexp)(x)) == pytest.approx(1 / (1 + np.exp(-x)), rel=1e-14)
    check_grads(log1pexp, (0.7,), order=2)


@fxad.custom_vjp
def clip_gradient(lo, hi, x):
    return x


def _clip_fwd(lo, hi, x):
    return x, (lo, hi)


def _clip_bwd(res, g):
    lo, hi = res
    return (None, None, fnp.clip(g, lo, hi))


clip_gradient.defvjp(_clip_fwd, _clip_bwd)


def test_gradient_clipping_with_custom_vjp():
    f = lambda x: clip_gradient(-1.0, 1.0, x) * 5.0  # noqa: E731
    assert f(2.0) == 10.0
    assert float(fxad.grad(f)(2.0)) == 1.0  # 5 clipped to 1
    assert float(fxad.grad(lambda x: clip_gradient(-1.0, 1.0, x) * 0.5)(2.0)) == 0.5
    np.testing.assert_array_equal(
        fxad.grad(lambda v: (clip_gradient(-1.0, 1.0, v) * np.array([-3.0, 0.2, 4.0])).sum())(
            np.zeros(3)), [-1.0, 0.2, 1.0])
    np.testing.assert_array_equal(fxad.vmap(fxad.grad(f))(np.array([1.0, 2.0])), [1.0, 1.0])
    assert float(J(fxad.grad(f))(2.0)) == 1.0
    assert float(fxad.grad(J(f))(2.0)) == 1.0
    # the bounds are ordinary (traced) arguments: vmap over them works
    lo = np.array([-0.5, -2.0, -10.0])
    got = fxad.vmap(lambda lo_: fxad.grad(lambda x: clip_gradient(lo_, 10.0, x) * -5.0)(1.0))(lo)
    np.testing.assert_array_equal(got, [-0.5, -2.0, -5.0])
    clean()


# ---------------------------------------------------------------------------
# custom_vjp: the rule is the one used


@fxad.custom_vjp
def fake_exp(x):
    return fnp.exp(x)


def _fake_exp_fwd(x):
    e = fnp.exp(x)
    return e, (e, x)


def _fake_exp_bwd(res, g):
    e, x = res
    return (g * (2.0 * e + x),)  # deliberately not e


fake_exp.defvjp(_fake_exp_fwd, _fake_exp_bwd)


def fake_exp_d(x):
    return 2.0 * np.exp(x) + x


def test_custom_vjp_rule_under_grad_vjp_jacrev_vmap_jit():
    for x in XS:
        assert float(fxad.grad(fake_exp)(x)) == pytest.approx(fake_exp_d(x), rel=1e-14)
        y, pull = fxad.vjp(fake_exp, x)
        assert float(y) == np.exp(x)
        assert float(pull(3.0)[0]) == pytest.approx(3 * fake_exp_d(x), rel=1e-14)
    want = fake_exp_d(XS)
    np.testing.assert_allclose(fxad.jacrev(fake_exp)(XS), np.diag(want), rtol=1e-14)
    np.testing.assert_allclose(fxad.vmap(fxad.grad(fake_exp))(XS), want, rtol=1e-14)
    np.testing.assert_allclose(fxad.grad(lambda v: fxad.vmap(fake_exp)(v).sum())(XS), want,
                               rtol=1e-14)
    np.testing.assert_allclose([J(fxad.grad(fake_exp))(x) for x in XS], want, rtol=1e-14)
    np.testing.assert_allclose([fxad.grad(J(fake_exp))(x) for x in XS], want, rtol=1e-14)
    np.testing.assert_allclose(fxad.grad(lambda v: J(fxad.vmap(fake_exp))(v).sum())(XS),
                               want, rtol=1e-14)
    np.testing.assert_allclose(fxad.vmap(J(fxad.grad(fake_exp)))(XS), want, rtol=1e-14)
    np.testing.assert_array_equal(fxad.vmap(fake_exp)(XS), np.exp(XS))
    clean()


def test_custom_vjp_second_order_differentiates_bwd():
    # d/dx of the rule's 2 e^x + x is 2 e^x + 1, by jacrev of jacrev and by
    # forward over reverse (hessian), which differentiates fwd and bwd.
    for x in XS:
        want = 2 * np.exp(x) + 1
        assert float(fxad.grad(fxad.grad(fake_exp))(x)) == pytest.approx(want, rel=1e-13)
        assert float(fxad.hessian(fake_exp)(x)) == pytest.approx(want, rel=1e-13)
        assert float(fxad.jacfwd(fxad.grad(fake_exp))(x)) == pytest.approx(want, rel=1e-13)


def test_custom_vjp_linearize_stages_custom_lin_which_transposes_to_bwd():
    _, f_jvp = fxad.linearize(fake_exp, 0.5)
    names = [e.primitive.name for e in f_jvp.jaxpr.eqns]
    assert "custom_lin" in names
    core.check_jaxpr(f_jvp.jaxpr.jaxpr)
    (ct,) = fxad.linear_transpose(f_jvp, 1.0)(1.0)
    assert float(ct) == pytest.approx(fake_exp_d(0.5), rel=1e-14)


FORWARD_ERROR = "can't apply forward-mode autodiff (jvp) to a custom_vjp function."


@pytest.mark.parametrize("how", ["jvp", "jacfwd", "linearize", "jvp_of_jit", "jvp_vmap"])
def test_custom_vjp_forward_mode_raises_jaxs_error(how):
    with pytest.raises(TypeError) as e:
        if how == "jvp":
            fxad.jvp(fake_exp, (1.0,), (1.0,))
        elif how == "jacfwd":
            fxad.jacfwd(fake_exp)(XS)
        elif how == "linearize":
            fxad.linearize(fake_exp, 1.0)[1](1.0)
        elif how == "jvp_of_jit":
            fxad.jvp(J(fake_exp), (1.0,), (1.0,))
        else:
            fxad.jvp(fxad.vmap(fake_exp), (XS,), (XS,))
    assert FORWARD_ERROR in str(e.value)
    assert "fake_exp" in str(e.value) and "fxad.custom_jvp" in str(e.value)
    clean()
    assert float(fxad.grad(fake_exp)(0.0)) == 2.0  # usable afterwards


# ---------------------------------------------------------------------------
# nondiff_argnums, pytrees, keyword arguments


def _apply_fn(f, x):
    return f(x)


app = fxad.custom_jvp(_apply_fn, nondiff_argnums=(0,))


@app.defjvp
def _app_jvp(f, primals, tangents):
    (x,), (t,) = primals, tangents
    return app(f, x), 10.0 * t  # deliberately a constant slope


def test_custom_jvp_nondiff_argnums_get_the_static_value_first():
    assert app(fnp.sin, 0.5) == np.sin(0.5)
    assert float(fxad.grad(lambda x: app(fnp.sin, x))(0.5)) == 10.0
    assert float(J(fxad.grad(lambda x: app(fnp.cos, x)))(0.5)) == 10.0
    np.testing.assert_array_equal(fxad.vmap(fxad.grad(lambda x: app(fnp.sin, x)))(XS),
                                  [10.0] * 3)


def test_custom_jvp_nondiff_traced_argument_gets_no_derivative():
    f = fxad.custom_jvp(lambda s, x: s * fnp.sin(x), nondiff_argnums=(0,))
    f.defjvp(lambda s, p, t: (f(s, p[0]), s * fnp.cos(p[0]) * t[0]))
    # d/ds would be sin(x); s is non-differentiable, so only x's term remains
    g = fxad.grad(lambda s: f(s, 0.3) + s * 0.0)(2.0)
    assert float(g) == 0.0
    gx = fxad.grad(lambda x, s: f(s, x), argnums=(0, 1))(0.3, 2.0)
    assert float(gx[0]) == pytest.approx(2.0 * np.cos(0.3), rel=1e-14) and float(gx[1]) == 0.0


power = fxad.custom_vjp(lambda x, n: x ** n, nondiff_argnums=(1,))
power.defvjp(lambda x, n: (x ** n, x), lambda n, x, g: (g * n * x ** (n - 1) + 100.0,))


def test_custom_vjp_nondiff_argnums_go_first_to_bwd():
    assert power(2.0, 3) == 8.0
    assert float(fxad.grad(power)(2.0, 3)) == 112.0
    assert float(J(fxad.grad(power), static_argnums=1)(2.0, 3)) == 112.0


def test_custom_vjp_nondiff_tracer_is_refused():
    with pytest.raises(TypeError, match=r"custom_vjp <lambda>: argument 1 is in "
                                        r"nondiff_argnums but is a traced value.*Pass "
                                        "array-valued arguments as ordinary arguments"):
        fxad.grad(lambda n: power(2.0, n))(3.0)
    clean()


@fxad.custom_jvp
def tree_fn(p):
    return {"a": p["x"] * p["y"], "b": (fnp.sin(p["x"]),)}


@tree_fn.defjvp
def _tree_jvp(primals, tangents):
    (p,), (t,) = primals, tangents
    out = tree_fn(p)
    return out, {"a": t["x"] * p["y"] + p["x"] * t["y"] + t["y"], "b": (2.0 * t["x"],)}


def test_custom_jvp_pytrees_in_and_out():
    p = {"x": 0.5, "y": 3.0}
    out = tree_fn(p)
    assert out["a"] == 1.5 and out["b"][0] == np.sin(0.5)
    g = fxad.grad(lambda q: tree_fn(q)["a"] + tree_fn(q)["b"][0])(p)
    assert float(g["x"]) == 3.0 + 2.0 and float(g["y"]) == 0.5 + 1.0
    _, t = fxad.jvp(tree_fn, (p,), ({"x": 1.0, "y": 0.0},))
    assert float(t["a"]) == 3.0 and float(t["b"][0]) == 2.0


@fxad.custom_vjp
def tree_vjp(a, pair):
    x, y = pair
    return {"s": a * x, "t": [y * y]}


tree_vjp.defvjp(lambda a, pair: (tree_vjp(a, pair), (a, pair)),
                lambda res, ct: (ct["s"] * 7.0, (ct["s"] * res[0], None)))


def test_custom_vjp_pytrees_and_none_cotangents():
    g = fxad.grad(lambda a, x, y: tree_vjp(a, (x, y))["s"] + tree_vjp(a, (x, y))["t"][0],
                  argnums=(0, 1, 2))(2.0, 3.0, 4.0)
    assert [float(v) for v in g] == [7.0, 2.0, 0.0]


def test_keyword_arguments_are_resolved_to_positions():
    f = fxad.custom_jvp(lambda x, scale=2.0: scale * fnp.sin(x))
    f.defjvp(lambda p, t: (f(*p), 5.0 * t[0]))
    assert float(fxad.grad(lambda x: f(x, scale=3.0))(0.1)) == 5.0
    assert float(fxad.grad(lambda x: f(x=x))(0.1)) == 5.0


def test_defjvps_sums_the_per_argument_contributions():
    f = fxad.custom_jvp(lambda x, y: x * y)
    f.defjvps(lambda t, ans, x, y: t * y * 2.0, None)  # y gets no derivative
    g = fxad.grad(f, argnums=(0, 1))(3.0, 4.0)
    assert float(g[0]) == 8.0 and float(g[1]) == 0.0


# ---------------------------------------------------------------------------
# Closures over traced values


def test_closure_over_an_outer_vmap_value_is_an_operand():
    def f(x, s):
        g = fxad.custom_jvp(lambda y: s * fnp.sin(y))
        g.defjvp(lambda p, t: (g(p[0]), s * 4.0 * t[0]))
        return fxad.grad(g)(x)

    s = np.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(fxad.vmap(f, in_axes=(None, 0))(0.3, s), 4.0 * s)
    closed = fxad.make_jaxpr(lambda y: fxad.custom_jvp(lambda z: y * z)(1.0))
    with pytest.raises(AttributeError, match="No JVP defined for custom_jvp function <lambda>"):
        closed(2.0)
    clean()


def test_differentiating_a_closed_over_value_is_refused():
    def f(s):
        g = fxad.custom_jvp(lambda y: s * fnp.sin(y))
        g.defjvp(lambda p, t: (g(p[0]), s * fnp.cos(p[0]) * t[0]))
        return g(0.3)

    with pytest.raises(TypeError, match=r"Detected differentiation of a custom_jvp function "
                                        r"\(<lambda>\) with respect to a closed-over value.*"
                                        "Pass the closed-over value"):
        fxad.grad(f)(2.0)
    clean()

    def h(s):
        g = fxad.custom_vjp(lambda y: s * y)
        g.defvjp(lambda y: (s * y, None), lambda _, ct: (ct,))
        return g(0.3)

    with pytest.raises(TypeError, match="Detected differentiation of a custom_vjp function"):
        fxad.grad(h)(2.0)
    clean()
    assert float(fxad.grad(fake_sin)(0.0)) == 3.0


# ---------------------------------------------------------------------------
# Errors in the rules: named, with the way out, fxad clean after each


def _jvp_rule_fn(rule):
    f = fxad.custom_jvp(lambda x: fnp.sin(x))
    f.__name__ = "myfun"
    f.defjvp(rule)
    return f


@pytest.mark.parametrize("rule,match", [
    (lambda p, t: fnp.sin(p[0]), r"custom_jvp myfun: the JVP rule must return a pair"),
    (lambda p, t: ((fnp.sin(p[0]),), t[0]), r"primal output has structure .* but myfun "
                                            r"returns"),
    (lambda p, t: (fnp.sin(p[0]), (t[0], t[0])), r"tangent output has structure"),
    (lambda p, t: (fnp.sin(p[0]), fnp.ones(2) * t[0][0]),
     r"tangent output 0 is f64\[2\] but the primal output 0 is f64\[3\]"),
    (lambda p, t: (fnp.sin(p[0])[:2], t[0]),
     r"primal output 0 is f64\[2\] but myfun's output 0 is f64\[3\]"),
])
def test_bad_jvp_rules_are_named(rule, match):
    f = _jvp_rule_fn(rule)
    with pytest.raises(TypeError, match=match):
        fxad.jvp(f, (XS,), (XS,))
    clean()
    with pytest.raises(TypeError, match=match):
        fxad.grad(lambda x: f(x).sum())(XS)
    clean()
    np.testing.assert_array_equal(f(XS), np.sin(XS))


def _vjp_fn(fwd, bwd):
    f = fxad.custom_vjp(lambda x, y: x * y)
    f.__name__ = "myfun"
    f.defvjp(fwd, bwd)
    return f


GOOD_FWD = lambda x, y: (x * y, (x, y))  # noqa: E731


@pytest.mark.parametrize("fwd,bwd,exc,match", [
    (GOOD_FWD, lambda r, g: (g * r[1],), TypeError,
     r"custom_vjp myfun: bwd returned 1 cotangent\(s\) but myfun has 2 differentiable "
     r"argument\(s\); return one per argument \(None for"),
    (GOOD_FWD, lambda r, g: g * r[1], TypeError,
     r"bwd must return a tuple with one cotangent per differentiable argument of myfun"),
    (GOOD_FWD, lambda r, g: (g * r[1], fnp.ones(2)), ValueError,
     r"bwd's cotangent 1 is f64\[2\] but argument 1 of myfun is f64\[3\]; each cotangent "
     r"must have its argument's shape and dtype"),
    (GOOD_FWD, lambda r, g: (g * r[1], (g, g)), TypeError,
     r"bwd's cotangent 1 has structure"),
    (lambda x, y: x * y, lambda r, g: (g, g), TypeError,
     r"custom_vjp myfun: fwd must return a pair \(primal_out, residuals\)"),
    (lambda x, y: ((x * y)[:2], None), lambda r, g: (g, g), TypeError,
     r"fwd's primal output 0 is f64\[2\] but myfun's output 0 is f64\[3\]"),
    (lambda x, y: (x * y, "res"), lambda r, g: (g, g), TypeError,
     r"fwd's residuals must be arrays"),
])
def test_bad_vjp_rules_are_named(fwd, bwd, exc, match):
    f = _vjp_fn(fwd, bwd)
    with pytest.raises(exc, match=match):
        fxad.grad(lambda x, y: f(x, y).sum(), argnums=(0, 1))(XS, XS + 1.0)
    clean()
    with pytest.raises(exc, match=match):
        fxad.vmap(fxad.grad(lambda x, y: f(x, y).sum()))(XS[None], XS[None])
    clean()
    np.testing.assert_array_equal(f(XS, XS), XS * XS)
    assert float(fxad.grad(fake_exp)(0.0)) == 2.0


def test_missing_rules_and_bad_definitions():
    f = fxad.custom_jvp(lambda x: x)
    with pytest.raises(AttributeError, match="No JVP defined for custom_jvp function <lambda> "
                                             r"using defjvp: call its .defjvp\(rule\)"):
        f(1.0)
    g = fxad.custom_vjp(lambda x: x)
    with pytest.raises(AttributeError, match="No VJP defined for custom_vjp function"):
        g(1.0)
    with pytest.raises(TypeError, match="defjvps can't be used with nondiff_argnums"):
        fxad.custom_jvp(lambda n, x: x, nondiff_argnums=(0,)).defjvps(None)
    with pytest.raises(ValueError, match="nondiff_argnums .* out of range"):
        h = fxad.custom_jvp(lambda x: x, nondiff_argnums=(3,))
        h.defjvp(lambda p, t: (p[0], t[0]))
        fxad.grad(h)(1.0)
    clean()


# ---------------------------------------------------------------------------
# Against finite differences, and vmap against a loop


def test_check_grads_with_true_rules():
    @fxad.custom_jvp
    def f(x, y):
        return fnp.sin(x) * fnp.exp(y)

    @f.defjvp
    def _(p, t):
        (x, y), (tx, ty) = p, t
        return f(x, y), fnp.cos(x) * fnp.exp(y) * tx + f(x, y) * ty

    check_grads(f, (XS, XS[::-1]), order=2)

    @fxad.custom_vjp
    def g(x, y):
        return fnp.sin(x) * fnp.exp(y)

    g.defvjp(lambda x, y: (fnp.sin(x) * fnp.exp(y), (x, y)),
             lambda r, c: (c * fnp.cos(r[0]) * fnp.exp(r[1]), c * fnp.sin(r[0]) *
                           fnp.exp(r[1])))
    check_grads(g, (XS, XS[::-1]), order=2, modes=("rev",))


def test_vmap_of_grad_equals_a_loop_with_unmapped_arguments():
    @fxad.custom_vjp
    def f(x, w):
        return fnp.tanh(x * w)

    f.defvjp(lambda x, w: (fnp.tanh(x * w), (x, w, fnp.tanh(x * w))),
             lambda r, c: (c * (1 - r[2] ** 2) * r[1], c * (1 - r[2] ** 2) * r[0]))
    w = np.array([0.5, -1.0, 2.0])
    xs = np.array([[0.1, 0.2, 0.3], [1.0, -1.0, 0.5]])
    loss = lambda x, w: fnp.sum(f(x, w))  # noqa: E731
    got = fxad.vmap(fxad.grad(loss, argnums=(0, 1)), in_axes=(0, None))(xs, w)
    for k in range(2):
        want = fxad.grad(loss, argnums=(0, 1))(xs[k], w)
        np.testing.assert_allclose(got[0][k], want[0], rtol=1e-14)
        np.testing.assert_allclose(got[1][k], want[1], rtol=1e-14)
    # grad of the vmapped function: the unmapped w's cotangent sums over the batch
    gw = fxad.grad(lambda w: fnp.sum(fxad.vmap(f, in_axes=(0, None))(xs, w)))(w)
    want = sum(fxad.grad(loss, argnums=1)(xs[k], w) for k in range(2))
    np.testing.assert_allclose(gw, want, rtol=1e-14)


# ---------------------------------------------------------------------------
# The optimiser on the calls


def test_dce_prunes_unused_outputs_of_the_calls_and_keeps_the_rules():
    from fxad.interpreters import optimize

    @fxad.custom_jvp
    def two(x):
        return fnp.sin(x), fnp.cos(x) * 2.0

    two.defjvp(lambda p, t: (two(p[0]), (7.0 * t[0], 9.0 * t[0])))

    @fxad.custom_vjp
    def two_v(x):
        return fnp.sin(x), fnp.cos(x) * 2.0

    two_v.defvjp(lambda x: (two_v(x), None), lambda _, cts: (5.0 * cts[0] + 11.0 * cts[1],))

    for f, want in ((two, 9.0), (two_v, 11.0)):
        closed = fxad.make_jaxpr(lambda x: f(x)[1])(0.5)  # noqa: B023
        pruned = optimize.dce(closed.jaxpr)
        core.check_jaxpr(pruned)
        (eqn,) = pruned.eqns
        assert len(eqn.outvars) == 1
        assert [e.primitive.name for e in eqn.params["call_jaxpr"].eqns] == ["cos", "mul"]
        (out,) = core.eval_jaxpr(pruned, closed.consts, 0.5)
        assert float(out) == 2.0 * np.cos(0.5)
        # the pruned call, run under grad, still uses the rule (for the kept output)
        g = fxad.grad(lambda x: core.eval_jaxpr(pruned, closed.consts, x)[0])(0.5)  # noqa: B023
        assert float(g) == want
        assert float(J(fxad.grad(lambda x: f(x)[1]))(0.5)) == want  # noqa: B023
        assert float(fxad.grad(J(lambda x: f(x)[1]))(0.5)) == want  # noqa: B023
