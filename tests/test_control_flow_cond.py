"""``fxad.lax.cond`` and ``switch``: the ``cond`` primitive against the same
computation written with a Python ``if`` (eagerly, where Python can branch),
NumPy, finite differences, a loop over the batch, and eager vs jit.

Covers values with pytree operands and outputs, derivatives (grad, jacfwd,
jacrev, hessian, linearize) and their nesting (cond in cond, cond in jit under
grad, vmap of grad of cond), vmap with a batched and an unbatched predicate,
jit values and dtypes, the printed jaxpr, check_jaxpr, the linear program
linearize stages, residual sharing, DCE of unused outputs, closure over
traced values, errors and the state after them, and hypothesis-drawn branch
bodies against ``np.where``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy_checks import tree_close

import fxad
import fxad.numpy as fnp
from fxad import core, lax
from fxad.core import ClosedJaxpr, Jaxpr, JaxprEqn, JaxprTypeError, Var, shaped
from fxad.interpreters import ad
from fxad.interpreters import optimize as opt
from fxad.lax.control_flow import cond_p
from fxad.test_util import check_grads

J = fxad.jit


def names(closed):
    return [e.primitive.name for e in closed.eqns]



def close(a, b, rtol=1e-12, atol=1e-13):
    tree_close(a, b, rtol, atol)


# ---------------------------------------------------------------------------
# A piecewise function written twice: with cond, and with a Python if


def _true(x, y):
    return fnp.sin(x) * y + x ** 3, fnp.exp(-x) * y


def _false(x, y):
    return fnp.cos(y) * x, x * y


def with_cond(x, y):
    a, b = lax.cond(fnp.sum(x) > 0, _true, _false, x, y)
    return fnp.sum(a * b)


def with_if(x, y):
    a, b = (_true if np.sum(x) > 0 else _false)(x, y)
    return fnp.sum(a * b)


POINTS = [(np.array([0.3, 0.9, -0.4]), np.array([1.1, -0.5, 0.7])),
          (np.array([-0.3, -0.9, 0.4]), np.array([0.2, 0.6, -1.3]))]


@pytest.mark.parametrize("k", [0, 1], ids=["true", "false"])
def test_values_and_derivatives_equal_python_if(k):
    x, y = POINTS[k]
    close(with_cond(x, y), with_if(x, y))
    for t in (lambda f: fxad.grad(f, argnums=(0, 1)),
              lambda f: fxad.jacfwd(f, argnums=(0, 1)),
              lambda f: fxad.jacrev(f, argnums=(0, 1)),
              lambda f: fxad.hessian(f, argnums=(0, 1))):
        close(t(with_cond)(x, y), t(with_if)(x, y))
        close(J(t(with_cond))(x, y), t(with_if)(x, y))
        close(t(J(with_cond))(x, y), t(with_if)(x, y))
    check_grads(with_cond, (x, y), order=2)


def test_jit_equals_eager_values_and_dtypes():
    for dt in (np.float32, np.float64):
        x, y = (p.astype(dt) for p in POINTS[0])
        f = lambda x, y: lax.cond(x[0] > 0, _true, _false, x, y)  # noqa: E731
        eager = f(x, y)
        assert all(np.asarray(o).dtype == dt for o in eager)
        close(J(f)(x, y), eager, rtol=1e-6)
        close(J(f)(-x, y), f(-x, y), rtol=1e-6)


def test_pytree_operands_and_outputs():
    ops = {"w": np.array([1.0, 2.0]), "b": (np.float64(0.5), np.array([3.0, -1.0]))}

    def yes(o):
        return [o["w"] * o["b"][0], {"s": fnp.sum(o["b"][1])}]

    def no(o):
        return [o["w"] - 1.0, {"s": fnp.prod(o["b"][1])}]

    for pred in (True, False):
        got = lax.cond(pred, yes, no, ops)
        want = (yes if pred else no)(ops)
        close(got, want)
        close(J(lambda p, o: lax.cond(p, yes, no, o))(pred, ops), want)
        g = fxad.grad(lambda o, p=pred: lax.cond(p, yes, no, o)[1]["s"] +
                      fnp.sum(lax.cond(p, yes, no, o)[0]))(ops)
        g_if = fxad.grad(lambda o, p=pred: (yes if p else no)(o)[1]["s"] +
                         fnp.sum((yes if p else no)(o)[0]))(ops)
        close(g, g_if)


def test_integer_predicate_is_nonzero_and_switch_clamps():
    x = np.float64(0.7)
    assert float(lax.cond(np.int64(3), fnp.sin, fnp.cos, x)) == np.sin(x)
    assert float(lax.cond(0, fnp.sin, fnp.cos, x)) == np.cos(x)
    fs = [lambda v: v * 2.0, lambda v: v * 3.0, lambda v: v * 5.0]
    for i, want in [(-10, 2.0), (0, 2.0), (1, 3.0), (2, 5.0), (99, 5.0), (2 ** 40, 5.0)]:
        assert float(lax.switch(i, fs, x)) == want * x
        assert float(J(lambda i, x: lax.switch(i, fs, x))(i, x)) == want * x
        assert float(fxad.grad(lambda x, i=i: lax.switch(i, fs, x))(x)) == want
    # One branch: called directly, as JAX does.
    assert names(fxad.make_jaxpr(lambda x: lax.switch(0, [fnp.sin], x))(x)) == ["sin"]


# ---------------------------------------------------------------------------
# The IR: printing, checking, staging both branches


def test_make_jaxpr_prints_the_branches_nested():
    text = str(fxad.make_jaxpr(lambda x, i: lax.switch(i, [fnp.sin, lambda v: v + 1.0], x))(
        np.ones(2), 1))
    assert text == (
        "{ lambda ; a:f64[2] b:i64[]. let\n"
        "    c:i64[] = max b 0:i64[]\n"
        "    d:i64[] = min c 1:i64[]\n"
        "    e:i32[] = convert_element_type[new_dtype=int32] d\n"
        "    f:f64[2] = cond[\n"
        "      branches=(\n"
        "        { lambda ; g:f64[2]. let\n"
        "            h:f64[2] = sin g\n"
        "          in (h,) }\n"
        "        { lambda ; i:f64[2]. let\n"
        "            j:f64[2] = add i 1.0:f64[]\n"
        "          in (j,) }\n"
        "      )\n"
        "    ] e a\n"
        "  in (f,) }")


def test_a_python_bool_predicate_still_stages_both_branches():
    closed = fxad.make_jaxpr(lambda x: lax.cond(True, fnp.sin, fnp.cos, x))(1.0)
    assert names(closed) == ["cond"]
    branches = closed.eqns[0].params["branches"]
    assert [names(b) for b in branches] == [["cos"], ["sin"]]
    # Hence a branch that is never taken must still agree with the other.
    with pytest.raises(TypeError, match="false_fun and true_fun must return arrays of"):
        lax.cond(True, lambda x: x, lambda x: fnp.stack([x, x]), 1.0)


def _cond_eqn(branches, operand_avals, out_avals):
    index = Var(shaped((), np.dtype(np.int32)))
    ins = [Var(a) for a in operand_avals]
    outs = [Var(a) for a in out_avals]
    eqn = JaxprEqn(cond_p, [index, *ins], dict(branches=tuple(branches)), outs)
    return Jaxpr([], [index, *ins], [eqn], outs)


F64 = shaped((), np.dtype(np.float64))
F32 = shaped((), np.dtype(np.float32))


def test_check_jaxpr_compares_operands_branches_and_recurses():
    sin = fxad.make_jaxpr(fnp.sin)(1.0)
    cos = fxad.make_jaxpr(fnp.cos)(1.0)
    core.check_jaxpr(_cond_eqn([sin, cos], [F64], [F64]))
    with pytest.raises(JaxprTypeError, match=r"operand 0 is f32\[\] but input 0 of branch 0 "
                                             r"is f64\[\]"):
        core.check_jaxpr(_cond_eqn([sin, cos], [F32], [F64]))
    unbound = ClosedJaxpr(Jaxpr([], [Var(F64)], [], [Var(F64)]), [])  # output never bound
    with pytest.raises(JaxprTypeError, match=r"parameter branches\[1\]: variable .* used "
                                             r"before it is bound"):
        core.check_jaxpr(_cond_eqn([sin, unbound], [F64], [F64]))
    x = Var(F64)
    bad = ClosedJaxpr(Jaxpr([], [x], [], [x]), [])
    two = fxad.make_jaxpr(lambda v: fnp.stack([v, v]))(1.0)
    with pytest.raises(JaxprTypeError, match=r"branch 0 returns \(f64\[\]\) but branch 1 "
                                             r"returns \(f64\[2\]\)"):
        core.check_jaxpr(_cond_eqn([bad, two], [F64], [F64]))
    idx = Var(shaped((), np.dtype(np.int64)))
    eqn = JaxprEqn(cond_p, [idx, x], dict(branches=(sin, cos)), [Var(F64)])
    with pytest.raises(JaxprTypeError, match="index operand must be an int32 scalar"):
        core.check_jaxpr(Jaxpr([], [idx, x], [eqn], eqn.outvars))


def test_eager_bind_is_as_strict_as_staging():
    sin, cos = (fxad.make_jaxpr(f)(1.0) for f in (fnp.sin, fnp.cos))
    assert float(cond_p.bind(np.int32(1), 0.5, branches=(sin, cos))[0]) == np.cos(0.5)
    for bad, msg in ((np.ones(2), r"operand 0 is f64\[2\] but input 0 of branch 0"),
                     (np.float32(0.5), r"operand 0 is f32\[\]")):
        with pytest.raises(TypeError, match=msg):
            cond_p.bind(np.int32(1), bad, branches=(sin, cos))
    with pytest.raises(TypeError, match="index operand must be an int32 scalar"):
        cond_p.bind(1, 0.5, branches=(sin, cos))


def test_weak_type_of_outputs_is_joined():
    both = fxad.make_jaxpr(lambda p: lax.cond(p, lambda: 1.0, lambda: 2.0))(True)
    one = fxad.make_jaxpr(lambda p: lax.cond(p, lambda: 1.0, lambda: np.float64(2.0)))(True)
    assert both.out_avals[0].weak_type and not one.out_avals[0].weak_type


# ---------------------------------------------------------------------------
# Closure over traced values


def test_closure_over_a_tracer_becomes_an_operand_of_every_branch():
    def f(x, y):
        return lax.cond(x > 0, lambda v: v * y, lambda v: v + fnp.sin(x), x)

    def f_if(x, y):
        return x * y if x > 0 else x + fnp.sin(x)

    for x in (0.6, -0.6):
        close(fxad.grad(f, argnums=(0, 1))(x, 1.5), fxad.grad(f_if, argnums=(0, 1))(x, 1.5))
        close(fxad.hessian(f, argnums=(0, 1))(x, 1.5),
              fxad.hessian(f_if, argnums=(0, 1))(x, 1.5))
    closed = fxad.make_jaxpr(f)(0.6, 1.5)
    eqn = closed.eqns[-1]
    a, b = closed.jaxpr.invars
    # sin(x) involves only the outer value, so the outer trace computes it; it
    # (captured by the false branch) and y (by the true one) are leading
    # operands of every branch, then the operand x itself.
    assert names(closed) == ["gt", "convert_element_type", "sin", "cond"]
    assert eqn.invars[1:] == [closed.eqns[2].outvars[0], b, a]
    assert all(len(br.jaxpr.invars) == 3 for br in eqn.params["branches"])


# ---------------------------------------------------------------------------
# linearize, transposition, residuals


def test_linearize_runs_the_primal_now_and_stages_a_linear_cond():
    f = lambda x: lax.cond(x > 0, lambda v: fnp.sin(v) * v, fnp.exp, x)  # noqa: E731
    for x in (0.4, -0.4):
        y, f_jvp = fxad.linearize(f, x)
        assert float(y) == (np.sin(x) * x if x > 0 else np.exp(x))
        lin = f_jvp.jaxpr
        assert names(lin) == ["cond"]
        for b in lin.eqns[0].params["branches"]:
            assert all(e.primitive in ad.linear_primitives for e in b.eqns), names(b)
            assert not {"sin", "exp"} & set(names(b))
        want = np.sin(x) + x * np.cos(x) if x > 0 else np.exp(x)
        assert float(f_jvp(2.0)) == pytest.approx(2 * want, rel=1e-14)


def test_residuals_of_the_branches_share_slots_of_one_aval():
    x = np.linspace(-1, 1, 4)

    def f(x):
        return fnp.sum(lax.cond(True, fnp.sin, fnp.tanh, x))

    closed = fxad.make_jaxpr(fxad.grad(f))(x)
    known = closed.eqns[[n for n in names(closed)].index("cond")]
    # each branch keeps one f64[4] residual (cos x; 1 - tanh^2 or tanh): one slot
    assert [v.aval.str_short() for v in known.outvars] == ["f64[4]", "f64[4]"]
    close(fxad.grad(f)(x), np.cos(x))


def test_an_output_with_zero_tangent_in_one_branch_only():
    def f(x, p):
        return lax.cond(p, lambda v: (v * v, v), lambda v: (fnp.sin(v), 3.0), x)

    for p in (True, False):
        jac = fxad.jacfwd(lambda x, p=p: f(x, p))(0.5)
        jrev = fxad.jacrev(lambda x, p=p: f(x, p))(0.5)
        want = (1.0, 1.0) if p else (np.cos(0.5), 0.0)
        assert tuple(map(float, jac)) == pytest.approx(want, rel=1e-15)
        close(jac, jrev)


def test_linear_transpose_of_a_cond():
    A = np.arange(6.0).reshape(2, 3)

    def f(x, p):
        return lax.cond(p, lambda v: A @ v, lambda v: -2.0 * v[:2], x)

    ct = np.array([1.0, -3.0])
    for p, want in ((True, A.T @ ct), (False, np.array([-2.0, 6.0, 0.0]))):
        (got,) = fxad.linear_transpose(lambda x, p=p: f(x, p), np.zeros(3))(ct)
        close(got, want)


# ---------------------------------------------------------------------------
# vmap


def _per_example(f, *args):
    return np.stack([np.asarray(f(*ex)) for ex in zip(*args)])


def test_vmap_with_a_batched_predicate_selects_per_example():
    xs = np.array([-1.5, -0.2, 0.3, 2.0])
    f = lambda x: lax.cond(x > 0, fnp.sin, lambda v: v * v, x)  # noqa: E731
    close(fxad.vmap(f)(xs), _per_example(f, xs))
    close(fxad.vmap(fxad.grad(f))(xs), _per_example(fxad.grad(f), xs))
    close(fxad.grad(lambda xs: fnp.sum(fxad.vmap(f)(xs)))(xs),
          np.where(xs > 0, np.cos(xs), 2 * xs))
    close(J(fxad.vmap(f))(xs), _per_example(f, xs))
    closed = fxad.make_jaxpr(fxad.vmap(f))(xs)
    assert "cond" not in names(closed) and "select_n" in names(closed)


def test_vmap_of_switch_with_batched_out_of_range_indices():
    fs = [lambda x, y: x * y, lambda x, y: x - y, lambda x, y: fnp.sin(x) + y]
    idx = np.array([-3, 0, 1, 2, 9])
    xs = np.linspace(0.1, 0.5, 5)
    f = lambda i, x, y: lax.switch(i, fs, x, y)  # noqa: E731
    close(fxad.vmap(f, in_axes=(0, 0, None))(idx, xs, 2.0),
          np.stack([f(i, x, 2.0) for i, x in zip(idx, xs)]))
    close(fxad.vmap(fxad.grad(f, argnums=1), in_axes=(0, 0, None))(idx, xs, 2.0),
          np.stack([fxad.grad(f, argnums=1)(i, x, 2.0) for i, x in zip(idx, xs)]))


def test_vmap_with_an_unbatched_predicate_keeps_one_cond():
    xs = np.arange(6.0).reshape(3, 2)
    ws = np.array([0.5, -1.0])

    def f(x, w, p):
        return lax.cond(p, lambda a, b: a * b, lambda a, b: a + 0.0 * b, x, w)

    for p in (True, False):
        got = fxad.vmap(f, in_axes=(0, None, None))(xs, ws, p)
        close(got, _per_example(lambda x, p=p: f(x, ws, p), xs))
        # the false branch leaves w unbatched, the true one batches it: one axis
        got = fxad.vmap(f, in_axes=(1, None, None), out_axes=1)(xs.T.copy(), ws, p)
        close(got, _per_example(lambda x, p=p: f(x, ws, p), xs).T)
    closed = fxad.make_jaxpr(fxad.vmap(f, in_axes=(0, None, None)))(xs, ws, True)
    assert "cond" in names(closed)


# ---------------------------------------------------------------------------
# Nesting


def test_cond_inside_cond_inside_jit_under_grad_and_vmap():
    def inner(v):
        return lax.cond(v < 1.0, lambda u: u * fnp.exp(u), lambda u: fnp.sqrt(u * u + 1.0), v)

    def f(x):
        return lax.cond(x > 0, inner, lambda v: -v ** 3, x)

    def f_if(x):
        if x > 0:
            return x * fnp.exp(x) if x < 1.0 else fnp.sqrt(x * x + 1.0)
        return -x ** 3

    xs = np.array([-0.7, 0.4, 2.5])
    for x in xs:
        close(f(x), f_if(x))
        close(fxad.grad(J(f))(x), fxad.grad(f_if)(x))
        close(J(fxad.grad(J(f)))(x), fxad.grad(f_if)(x))
        close(fxad.hessian(J(f))(x), fxad.hessian(f_if)(x))
    close(fxad.vmap(fxad.grad(f))(xs), np.stack([fxad.grad(f_if)(x) for x in xs]))
    close(fxad.vmap(fxad.hessian(J(f)))(xs), np.stack([fxad.hessian(f_if)(x) for x in xs]))


def test_cond_in_a_jit_body_under_grad_is_split_inside_the_call():
    f = J(lambda x, y: lax.cond(y > 0, lambda a: fnp.sin(a) * y, fnp.cos, x))
    g = fxad.grad(f)
    close(g(0.3, 2.0), 2.0 * np.cos(0.3))
    close(g(0.3, -2.0), -np.sin(0.3))
    y, f_jvp = fxad.linearize(lambda x: f(x, 2.0), 0.3)
    (eqn,) = f_jvp.jaxpr.eqns
    body = eqn.params["jaxpr"]
    assert names(body) == ["cond"]
    for b in body.eqns[0].params["branches"]:
        assert all(e.primitive in ad.linear_primitives for e in b.eqns), names(b)


# ---------------------------------------------------------------------------
# Optimiser


def test_dce_prunes_unused_outputs_in_every_branch():
    def f(x, y):
        return lax.cond(x > 0, lambda a, b: (fnp.sin(a), fnp.exp(b)),
                        lambda a, b: (a * 2.0, fnp.cos(b)), x, y)[0]

    closed = fxad.make_jaxpr(f)(1.0, 2.0)
    pruned = opt.dce(closed.jaxpr)
    core.check_jaxpr(pruned)
    eqn = pruned.eqns[-1]
    assert len(eqn.outvars) == 1 and len(eqn.invars) == 2  # y is no longer an operand
    assert [names(b) for b in eqn.params["branches"]] == [["mul"], ["sin"]]
    assert float(core.eval_jaxpr(pruned, closed.consts, 1.0, 2.0)[0]) == np.sin(1.0)
    assert float(J(f)(-1.0, 2.0)) == -2.0


# ---------------------------------------------------------------------------
# Errors name the function, the argument and the way out; fxad stays usable


ERRORS = {
    "different trees": (lambda: lax.cond(True, lambda x: (x, x), lambda x: [x, x], 1.0),
                        TypeError, r"false_fun and true_fun must return the same pytree "
                                   r"structure"),
    "different dtypes": (lambda: lax.cond(True, lambda x: x, lambda x: x.astype(np.float32),
                                          1.0),
                         TypeError, r"output leaf 0 is f32\[\] from false_fun and f64\[\] "
                                    r"from true_fun. Convert"),
    "different shapes in switch": (
        lambda: lax.switch(0, [fnp.sin, fnp.cos, lambda x: x[:1]], np.ones(2)),
        TypeError, r"branches\[0\] and branches\[2\] must return arrays of the same shapes"),
    "non-scalar predicate": (lambda: lax.cond(np.array([True, False]), fnp.sin, fnp.cos, 1.0),
                             TypeError, r"pred must be a scalar, got bool\[2\]. Reduce it"),
    "float predicate": (lambda: lax.cond(1.0, fnp.sin, fnp.cos, 1.0),
                        TypeError, r"pred must be a boolean or integer scalar, got f64\[\]"),
    "float index": (lambda: lax.switch(1.0, [fnp.sin, fnp.cos], 1.0),
                    TypeError, r"switch: index must be an integer scalar, got f64\[\]"),
    "boolean index": (lambda: lax.switch(True, [fnp.sin, fnp.cos], 1.0),
                      TypeError, r"index must be an integer scalar, got bool\[\]"),
    "vector index": (lambda: lax.switch(np.array([0, 1]), [fnp.sin, fnp.cos], 1.0),
                     TypeError, r"index must be an integer scalar, got i64\[2\]"),
    "empty branches": (lambda: lax.switch(0, [], 1.0), ValueError, "branches is empty"),
    "not callable": (lambda: lax.cond(True, 1.0, fnp.cos, 1.0), TypeError,
                     r"cond: true_fun must be callable, got float"),
    "bad operand": (lambda: lax.cond(True, fnp.sin, fnp.cos, "x"), TypeError,
                    r"cond: an operand must be an array or a Python number, got str"),
    "bad output": (lambda: lax.cond(True, lambda: "yes", lambda: "no"), TypeError,
                   r"cond: an output of false_fun must be an array or a Python number, got "
                   r"str: 'no'"),
    "traced dtypes under jit": (lambda: J(lambda x: lax.cond(x > 0, lambda v: v,
                                                             lambda v: v > 0, x))(1.0),
                                TypeError, r"output leaf 0 is bool\[\] from false_fun and f64\[\] "
                                           r"from true_fun"),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_name_the_function_and_leave_fxad_usable(name):
    fn, exc, pattern = ERRORS[name]
    with pytest.raises(exc, match=pattern):
        fn()
    assert core.trace_state.stack == []
    with pytest.raises(exc, match=pattern):
        fxad.grad(lambda x: fn() if True else x)(1.0)
    assert core.trace_state.stack == []
    assert float(fxad.grad(lambda x: lax.cond(x > 0, fnp.sin, fnp.cos, x))(0.5)) == np.cos(0.5)


# ---------------------------------------------------------------------------
# Hypothesis-drawn branch bodies against np.where

_OPS = {
    "sin": (fnp.sin, np.sin), "cos": (fnp.cos, np.cos), "tanh": (fnp.tanh, np.tanh),
    "square": (lambda v: v * v, lambda v: v * v), "exp": (fnp.exp, np.exp),
    "affine": (lambda v: 0.5 * v - 1.0, lambda v: 0.5 * v - 1.0),
    "y_times": (None, None),  # multiplies by the second operand
}


def _body(ops, lib):
    def f(x, y):
        v = x
        for op in ops:
            v = v * y if op == "y_times" else _OPS[op][lib](v)
        return v

    return f


_ops = st.lists(st.sampled_from(sorted(_OPS)), min_size=1, max_size=4)


@settings(deadline=None, max_examples=25, derandomize=True)
@given(t_ops=_ops, f_ops=_ops, shape=st.sampled_from([(), (3,)]),
       seed=st.integers(0, 2 ** 16))
def test_drawn_branches_match_np_where(t_ops, f_ops, shape, seed):
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(-1, 1, shape), rng.uniform(-1, 1, shape)
    p = rng.uniform(-1, 1, shape)
    t_fx, f_fx = _body(t_ops, 0), _body(f_ops, 0)
    t_np, f_np = _body(t_ops, 1), _body(f_ops, 1)

    def one(p, x, y):
        return lax.cond(p > 0, t_fx, f_fx, x, y)

    f = fxad.vmap(one) if shape else one
    want = np.where(p > 0, t_np(x, y), f_np(x, y))
    close(f(p, x, y), want)
    close(J(f)(p, x, y), want)
    loss = lambda x, y: fnp.sum(f(p, x, y))  # noqa: E731
    ref = lambda x, y: fnp.sum(fnp.where(p > 0, t_fx(x, y), f_fx(x, y)))  # noqa: E731
    close(fxad.grad(loss, argnums=(0, 1))(x, y), fxad.grad(ref, argnums=(0, 1))(x, y),
          rtol=1e-11)
    check_grads(lambda x, y: one(p.reshape(-1)[0], x, y), (x, y), order=2)


def test_derived_branches_are_made_once(monkeypatch):
    from fxad.interpreters import codegen
    from fxad.lax import control_flow

    f = J(lambda x: lax.cond(x > 0, lambda v: fnp.sin(v) * v, fnp.tanh, x))
    g = fxad.grad(f)
    for x in (0.3, -0.3, 0.3, -0.3):  # a branch's code is generated on its second run
        g(x)
    traced, generated = [], []
    real_trace = control_flow.trace_to_jaxpr
    for mod in (ad, control_flow):
        monkeypatch.setattr(mod, "trace_to_jaxpr",
                            lambda *a, **k: traced.append(1) or real_trace(*a, **k))
    real_gen = codegen.generate
    monkeypatch.setattr(codegen, "generate",
                        lambda *a, **k: generated.append(1) or real_gen(*a, **k))
    for x in (0.1, -0.2, 0.3, -0.4):
        want = np.sin(x) + x * np.cos(x) if x > 0 else 1 - np.tanh(x) ** 2
        assert float(g(x)) == pytest.approx(want, rel=1e-14)
    assert traced == [] and generated == []


def test_a_branch_interpreted_first_then_compiled_gives_the_same_values_and_dtypes():
    def yes(x, n):
        return x * np.float32(2.0), n + 1, 1.0, fnp.sum(x)

    def no(x, n):
        return -x, n, 2.0, fnp.prod(x)

    closed = fxad.make_jaxpr(lambda p, x, n: lax.cond(p, yes, no, x, n))(
        True, np.ones(3, np.float32), 3)
    branches = closed.eqns[-1].params["branches"]
    x = np.array([1.0, 2.0, -3.0], np.float32)
    for i in (0, 1):
        first = cond_p.bind(np.int32(i), x, np.int64(3), branches=branches)
        again = cond_p.bind(np.int32(i), x, np.int64(3), branches=branches)  # compiled
        assert branches[i].memo("cond_runs", list)[1] is not None
        close(first, again, rtol=0, atol=0)
        close(first, list((no, yes)[i](x, np.int64(3))), rtol=0, atol=0)


def test_complex_operands_and_integer_operands_under_transforms():
    def f(z):
        return fnp.real(fnp.sum(lax.cond(True, lambda z: fnp.sin(z) * fnp.conj(z),
                                         lambda z: z * z, z)))

    z = np.array([0.3 + 0.2j, -0.5 + 1.0j])
    close(fxad.grad(f)(z), fxad.grad(lambda z: fnp.real(fnp.sum(fnp.sin(z) * fnp.conj(z))))(z))

    def g(x, n):  # n is an integer operand: no tangent, passed through every transform
        return lax.cond(x > 0, lambda x, n: x * n, lambda x, n: x + n, x, n)

    assert fxad.jvp(lambda x: g(x, 3), (2.0,), (1.0,)) == (6.0, 3.0)
    assert float(fxad.grad(g)(2.0, 3)) == 3.0 and float(fxad.grad(g)(-2.0, np.int64(3))) == 1.0
    close(fxad.jacrev(fxad.vmap(g))(np.array([1.0, -1.0]), np.array([2, 3])),
          np.diag([2.0, 1.0]))


def test_jit_of_vmap_of_grad_of_switch_and_linearize_under_jit():
    h = J(fxad.vmap(fxad.grad(lambda x, i: lax.switch(i, [fnp.sin, fnp.cos, fnp.exp], x))))
    x = np.array([0.1, 0.2, 0.3])
    close(h(x, np.array([0, 1, 2])), np.array([np.cos(0.1), -np.sin(0.2), np.exp(0.3)]))
    k = J(lambda x: fxad.linearize(lambda v: lax.cond(v > 0, fnp.sin, fnp.cos, v), x)[1](2.0))
    close(k(0.5), 2.0 * np.cos(0.5))
    close(k(-0.5), 2.0 * np.sin(0.5))
