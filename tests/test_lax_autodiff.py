"""Derivatives of every primitive, from the op records.

For each differentiable case: ``check_grads`` to second order in forward and
reverse mode; the forward-mode and reverse-mode Jacobians agree; the jaxpr
``linearize`` stages type-checks and holds only linear primitives.  For each
linear argument group: the transpose satisfies the inner-product identity.
Non-differentiable cases have zero derivatives.  Then JAX's conventions at
kinks, ties, zeros and infinities, one test each.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_records import (
    INTERVALS,
    RECORDS,
    all_cases,
    close_over,
    diff_argnums,
    linear_groups,
    rng_for,
)

import fxad
from fxad import core, lax
from fxad.interpreters import ad
from fxad.test_util import check_grads


def _params(cases):
    return pytest.mark.parametrize("rec,case", [(r, c) for r, c, _ in cases],
                                   ids=[i for _, _, i in cases])


def _args(rec, case):
    return case.sample(rng_for(rec.name, case.label()))


def _diff_fun(rec, case, args):
    """``rec.fun`` as a function of the floating-point arguments only."""
    nums = diff_argnums(args)
    return close_over(rec.fun, args, nums, case.params), [args[i] for i in nums]


def _is_real(x):
    return np.asarray(x).dtype.kind == "f"


SMOOTH = all_cases(lambda r, c: r.case_diff(c) == "smooth")
# Cases with derivatives whose values are fixed by a convention at a kink
# (max at ties) are not finite-differenced, but must agree across modes.
DIFFERENTIABLE = all_cases(lambda r, c: r.case_diff(c) in ("smooth", "kink"))
# Forward mode is needed to compare with reverse mode (and to run a linearized
# function); reverse-only records (custom_vjp) are checked by check_grads in
# reverse mode, to second order.
DIFFERENTIABLE_FWD = [(r, c, i) for r, c, i in DIFFERENTIABLE if "fwd" in r.modes]
ZERO = all_cases(lambda r, c: r.case_diff(c) == "zero")
NONE = all_cases(lambda r, c: r.case_diff(c) == "none")
# Cases with at least one floating-point argument group in which the op is linear.
LINEAR = all_cases(lambda r, c: bool(r.case_linear(c)) and r.case_diff(c) == "smooth"
                   and bool(linear_groups(r, c, _args(r, c))))


# ---------------------------------------------------------------------------
# check_grads


def _tols(*xs):
    """(rtol, atol) for comparing two fxad computations of the same quantity."""
    single = any(np.asarray(x).dtype in (np.float32, np.complex64) for x in xs)
    return (1e-5, 1e-6) if single else (1e-12, 1e-13)


@_params(SMOOTH)
@pytest.mark.parametrize("seed", [0, 1])
def test_check_grads(rec, case, seed):
    args = case.sample(rng_for(rec.name, case.label(), seed))
    f, dargs = _diff_fun(rec, case, args)
    check_grads(f, dargs, order=rec.order, modes=rec.modes, atol=rec.tol, rtol=rec.tol)


_HYPOTHESIS_RECORDS = [
    r for r in RECORDS
    if len(r.cases) and all(len(c.args) == 1 for c in r.cases)
    and r.cases[0].args[0].domain in INTERVALS and r.diff == "smooth"
    and r.cases[0].args[0].dtype == np.float64 and r.cases[0].make is None
    and not r.cases[0].params
]


@pytest.mark.parametrize("rec", _HYPOTHESIS_RECORDS, ids=[r.name for r in _HYPOTHESIS_RECORDS])
@settings(deadline=None, max_examples=10, derandomize=True)
@given(data=st.data())
def test_check_grads_hypothesis_unary(rec, data):
    """Unary elementwise primitives at hypothesis-drawn points of their domain."""
    lo, hi = INTERVALS[rec.cases[0].args[0].domain]
    shape = data.draw(st.sampled_from([(), (3,), (2, 2)]), label="shape")
    x = data.draw(hnp.arrays(np.float64, shape,
                             elements=st.floats(lo, hi, allow_nan=False)), label="x")
    check_grads(rec.fun, (x,), order=2, modes=("fwd", "rev"))


# ---------------------------------------------------------------------------
# Forward and reverse mode agree


@_params(DIFFERENTIABLE_FWD)
def test_jacfwd_equals_jacrev(rec, case):
    args = _args(rec, case)
    f, dargs = _diff_fun(rec, case, args)
    if not all(_is_real(a) for a in dargs) or not _is_real(f(*dargs)):
        # Complex: jacfwd/jacrev need holomorphic=True (tests/test_complex.py);
        # here forward and reverse mode must agree through the pairing
        # Re(sum(a * b)) that JAX's transposes use: <u, J v> = <J^T u, v>.
        rng = np.random.default_rng(7)
        vs = [_random_like(rng, a) for a in dargs]
        y, jv = fxad.jvp(f, tuple(dargs), tuple(vs))
        _, f_vjp = fxad.vjp(f, *dargs)
        u = _random_like(rng, y)
        cts = f_vjp(u)
        lhs = np.sum(np.asarray(u) * np.asarray(jv)).real
        rhs = sum(np.sum(np.asarray(c) * np.asarray(v)).real for c, v in zip(cts, vs))
        rtol, atol = _tols(*dargs, y)
        np.testing.assert_allclose(lhs, rhs, rtol=rtol, atol=atol * max(1.0, abs(lhs)))
        return
    argnums = tuple(range(len(dargs)))
    jf = fxad.jacfwd(f, argnums=argnums)(*dargs)
    jr = fxad.jacrev(f, argnums=argnums)(*dargs)
    rtol, atol = _tols(*dargs)
    for a, b, x in zip(jf, jr, dargs):
        assert np.shape(a) == np.shape(b) == np.shape(f(*dargs)) + np.shape(x)
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def _random_like(rng, x):
    x = np.asarray(x)
    v = rng.standard_normal(x.shape)
    if x.dtype.kind == "c":
        v = v + 1j * rng.standard_normal(x.shape)
    v = v.astype(x.dtype)
    return v[()] if v.ndim == 0 else v


# ---------------------------------------------------------------------------
# linearize stages a linear program


def _linear_eqn_names(jaxpr):
    """Names of the primitives of equations with a linear (tangent) input."""
    linear = set(jaxpr.invars)
    names = []
    for eqn in jaxpr.eqns:
        if any(not isinstance(v, core.Literal) and v in linear for v in eqn.invars):
            linear.update(eqn.outvars)
            names.append(eqn.primitive)
    return names


@_params(DIFFERENTIABLE_FWD)
def test_linearize_jaxpr_is_linear(rec, case):
    args = _args(rec, case)
    f, dargs = _diff_fun(rec, case, args)
    y, f_jvp = fxad.linearize(f, *dargs)
    closed = f_jvp.jaxpr
    core.check_jaxpr(closed.jaxpr)
    bad = [p.name for p in _linear_eqn_names(closed.jaxpr) if p not in ad.linear_primitives]
    assert not bad, f"linearize of {rec.name} staged non-linear primitives {bad}:\n{closed}"
    # ... and it computes the JVP
    rng = rng_for("tangents", rec.name, case.label())
    ts = [_random_like(rng, a) for a in dargs]
    _, expected = fxad.jvp(f, dargs, ts)
    rtol, atol = _tols(*dargs)
    np.testing.assert_allclose(f_jvp(*ts), expected, rtol=rtol, atol=atol)
    np.testing.assert_allclose(y, f(*dargs), rtol=rtol, atol=atol)


# ---------------------------------------------------------------------------
# Transposes of linear primitives: <ct, f(x)> == <f^T(ct), x>


def _pairing(a, b):
    """``Re(sum(a * b))``: the pairing under which fxad's (and JAX's) transpose
    is the transpose (no conjugation, so complex maps check too)."""
    return float(np.real(np.sum(np.asarray(a, np.complex128) * np.asarray(b, np.complex128))))


@_params(LINEAR)
def test_transpose_inner_product(rec, case):
    args = _args(rec, case)
    groups = linear_groups(rec, case, args)
    assert groups
    rng = rng_for("transpose", rec.name, case.label())
    for group in groups:
        f = close_over(rec.fun, args, group, case.params)
        xs = [_random_like(rng, args[i]) for i in group]
        y = f(*xs)
        ct = _random_like(rng, y)
        f_t = fxad.linear_transpose(f, *xs)
        cts = f_t(ct)
        assert len(cts) == len(xs)
        for c, x in zip(cts, xs):
            assert np.shape(c) == np.shape(x) and np.asarray(c).dtype == np.asarray(x).dtype
        tol = _tols(y, *xs)[0] * 100
        lhs = _pairing(ct, y)
        rhs = sum(_pairing(c, x) for c, x in zip(cts, xs))
        np.testing.assert_allclose(lhs, rhs, rtol=tol, atol=tol,
                                   err_msg=f"{rec.name} transpose in args {group}")
        # The transpose of the transpose is the map itself.
        f_tt = fxad.linear_transpose(f_t, ct)
        (back,) = f_tt(tuple(xs))
        np.testing.assert_allclose(back, y, rtol=tol, atol=tol)


# ---------------------------------------------------------------------------
# Non-differentiable primitives give zero derivatives


def _float_sum(y):
    """A float scalar of ``y``, whatever its dtype (bool, int, float)."""
    y = lax.convert_element_type(y, np.float64)
    return lax.reduce_sum(y, tuple(range(core.get_aval(y).ndim)))


@_params(ZERO)
def test_zero_derivative(rec, case):
    args = _args(rec, case)
    f, dargs = _diff_fun(rec, case, args)
    assert dargs, "a zero-derivative case needs a floating-point input"

    def g(*xs):
        return _float_sum(f(*xs))

    grads = fxad.grad(g, argnums=tuple(range(len(dargs))))(*dargs)
    for gr, x in zip(grads, dargs):
        assert np.shape(gr) == np.shape(x)
        np.testing.assert_array_equal(gr, np.zeros_like(gr))
    _, t = fxad.jvp(f, dargs, [np.ones_like(x) for x in dargs])
    np.testing.assert_array_equal(t, np.zeros_like(t))
    # Staged: the linear program is just zeros.
    _, f_jvp = fxad.linearize(f, *dargs)
    assert not _linear_eqn_names(f_jvp.jaxpr.jaxpr)


@_params(NONE)
def test_no_float_inputs_pass_through_transforms(rec, case):
    """Integer and boolean arguments only: under linearize (which makes JVP
    tracers of them) and jvp, no error and no derivative reaches a float."""
    args = _args(rec, case)
    f = close_over(rec.fun, args, tuple(range(len(args))), case.params)
    y, f_jvp = fxad.linearize(f, *args)
    np.testing.assert_array_equal(y, rec.ref(*args, **case.params))
    jaxpr = f_jvp.jaxpr.jaxpr
    core.check_jaxpr(jaxpr)
    linear = set(jaxpr.invars)
    for eqn in jaxpr.eqns:
        if any(not isinstance(v, core.Literal) and v in linear for v in eqn.invars):
            linear.update(eqn.outvars)
            for v in eqn.outvars:
                assert v.aval.dtype.kind not in "fc", (
                    f"{eqn.primitive.name} turned an integer tangent into a float one:\n"
                    f"{f_jvp.jaxpr}")
    _, t = fxad.jvp(f, args, [np.zeros_like(a) for a in args])
    np.testing.assert_array_equal(t, np.zeros_like(t))


def test_grad_through_piecewise_constant_is_zero():
    x = np.array([0.3, -1.7, 2.2])
    for op in (lax.floor, lax.ceil, lax.round, lax.trunc, lax.sign, lax.stop_gradient_prim):
        g = fxad.grad(lambda x, op=op: lax.reduce_sum(lax.mul(op(x), x), (0,)))(x)
        np.testing.assert_array_equal(g, op(x))  # d(op(x) * x) = op(x) only
    g = fxad.grad(lambda x: _float_sum(lax.argmax(x, 0)) * lax.reduce_sum(x, (0,)))(x)
    np.testing.assert_array_equal(g, np.full(3, 2.0))


# ---------------------------------------------------------------------------
# Conventions at kinks, ties, zeros and infinities (JAX's unless noted)


def test_abs_derivative_at_zero_is_one():
    # JAX's rule for real x: select(x >= 0, t, -t), so d|x|/dx is 1 at 0 (and
    # at -0.0, which compares >= 0).  sign(x) would give 0 there instead.
    assert fxad.grad(lax.abs)(0.0) == 1.0
    assert fxad.grad(lax.abs)(-0.0) == 1.0
    x = np.array([-2.0, 0.0, 3.0])
    np.testing.assert_array_equal(fxad.jacfwd(lax.abs)(x), np.diag([-1.0, 1.0, 1.0]))
    np.testing.assert_array_equal(fxad.jacrev(lax.abs)(x), np.diag([-1.0, 1.0, 1.0]))
    assert fxad.grad(fxad.grad(lax.abs))(0.0) == 0.0


def test_abs_of_complex_derivative():
    z = np.array([3 + 4j, 0j])
    # d|z| = Re(conj(z) dz) / |z|; 0 at z == 0.
    _, t = fxad.jvp(lax.abs, (z,), (np.array([1 + 2j, 5 - 1j]),))
    np.testing.assert_allclose(t, [(3 * 1 + 4 * 2) / 5, 0.0], rtol=1e-15)


@pytest.mark.parametrize("op", [lax.max, lax.min], ids=["max", "min"])
def test_max_min_ties_split_the_derivative(op):
    gx, gy = fxad.grad(op, argnums=(0, 1))(1.5, 1.5)
    assert (gx, gy) == (0.5, 0.5)
    x = np.array([1.0, 2.0, 3.0])
    gx, gy = fxad.grad(lambda x, y: lax.reduce_sum(op(x, y), (0,)), argnums=(0, 1))(x, 2.0)
    want_x = np.array([0.0, 0.5, 1.0]) if op is lax.max else np.array([1.0, 0.5, 0.0])
    np.testing.assert_array_equal(gx, want_x)
    assert gy == 1.5 and np.shape(gy) == ()  # the 0-d operand's cotangent is summed back
    # Forward mode agrees.
    _, t = fxad.jvp(op, (1.5, 1.5), (1.0, 0.0))
    assert t == 0.5


@pytest.mark.parametrize("op", [lax.reduce_max, lax.reduce_min], ids=["max", "min"])
def test_reduce_max_ties_share_equally(op):
    x = np.array([3.0, 1.0, 3.0, 3.0]) if op is lax.reduce_max else np.array([1.0, 3, 1, 1])
    g = fxad.grad(lambda x: op(x, (0,)))(x)
    np.testing.assert_allclose(g, [1 / 3, 0, 1 / 3, 1 / 3], rtol=1e-15)
    m = np.array([[1.0, 5.0, 5.0], [2.0, 0.0, -1.0]])
    if op is lax.reduce_min:
        m = -m
    j = fxad.jacrev(lambda m: op(m, (1,)))(m)
    np.testing.assert_allclose(j, [[[0, 0.5, 0.5], [0, 0, 0]], [[0, 0, 0], [1, 0, 0]]])
    np.testing.assert_allclose(fxad.jacfwd(lambda m: op(m, (1,)))(m), j)


def test_sqrt_derivative_at_zero_is_inf():
    with np.errstate(divide="ignore"):
        assert fxad.grad(lax.sqrt)(0.0) == np.inf
        _, t = fxad.jvp(lax.sqrt, (0.0,), (1.0,))
    assert t == np.inf


def _where_sqrt(x):
    return lax.select_n(lax.gt(x, 0.0), 0.0, lax.sqrt(x))


def test_where_of_sqrt_at_zero_is_nan():
    # The famous case: the cotangent select_n sends to the sqrt branch is 0, but
    # sqrt's own partial at 0 is inf, and 0 * inf is NaN (as in JAX).
    with np.errstate(divide="ignore", invalid="ignore"):
        assert np.isnan(fxad.grad(_where_sqrt)(0.0))
    assert fxad.grad(_where_sqrt)(4.0) == 0.25


def test_double_where_trick_gives_zero():
    def f(x):
        pos = lax.gt(x, 0.0)
        safe = lax.select_n(pos, 1.0, x)  # sqrt never sees 0
        return lax.select_n(pos, 0.0, lax.sqrt(safe))

    assert fxad.grad(f)(0.0) == 0.0
    assert fxad.grad(f)(4.0) == 0.25


def test_select_n_unselected_branch_gets_exact_zero():
    which = np.array([True, False, True])
    f = lambda a, b: lax.select_n(which, a, b)  # noqa: E731
    x = np.array([1.0, 2.0, 3.0])
    _, f_vjp = fxad.vjp(f, x, x)
    ct = np.array([np.inf, np.nan, -np.inf])
    ct_a, ct_b = f_vjp(ct)
    # Selected branches get the cotangent as it is; the others an exact 0
    # (not 0 * inf = nan).
    np.testing.assert_array_equal(ct_a, [0.0, np.nan, 0.0])
    np.testing.assert_array_equal(ct_b, [np.inf, 0.0, -np.inf])
    # Forward mode: the unselected branch's tangent (inf/nan here) is dropped.
    _, t = fxad.jvp(f, (x, x), (np.array([5.0, 6.0, 7.0]), np.array([np.nan, 1.0, np.inf])))
    np.testing.assert_array_equal(t, [np.nan, 6.0, np.inf])
    # An unselected branch whose value is inf but whose partial is finite
    # contributes an exact 0: the gradient is the selected branch's.
    f = lambda x: lax.select_n(lax.gt(x, 0.0), x, lax.add(x, np.inf))  # noqa: E731
    assert fxad.grad(f)(-1.0) == 1.0
    # (With an infinite partial, 0 * inf = nan: see test_where_of_sqrt_at_zero_is_nan.)


def _prod_grad(x):
    n = x.size
    return np.array([np.prod(np.delete(x, i)) for i in range(n)])


def _prod_hessian(x):
    n = x.size
    h = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            if i != j:
                h[i, j] = np.prod(np.delete(x, [i, j]))
    return h


@pytest.mark.parametrize("x", [
    np.array([2.0, -1.5, 3.0, 0.5]),
    np.array([2.0, 0.0, 3.0, 0.5]),
    np.array([0.0, -1.5, 3.0, 0.0]),
    np.array([0.0, 0.0, 0.0]),
    np.array([0.0]),
], ids=["no_zero", "one_zero", "two_zeros", "all_zeros", "single_zero"])
def test_reduce_prod_derivatives_with_zeros(x):
    f = lambda x: lax.reduce_prod(x, (0,))  # noqa: E731
    for g in (fxad.grad(f)(x), fxad.jacfwd(f)(x)):
        np.testing.assert_allclose(g, _prod_grad(x), rtol=1e-14, atol=0)
    # Second derivatives too: with zeros the off-diagonal partials
    # prod_{k != i, j} x_k are not zero.
    for h in (fxad.hessian(f)(x), fxad.jacrev(fxad.jacrev(f))(x),
              fxad.jacfwd(fxad.jacfwd(f))(x)):
        np.testing.assert_allclose(h, _prod_hessian(x), rtol=1e-14, atol=0)
    check_grads(f, (x,), order=3)


def test_reduce_prod_with_zeros_along_axes():
    x = np.array([[0.0, 2.0, 0.0], [1.5, 0.0, -0.5], [1.0, 2.0, 3.0]])
    j = fxad.jacrev(lambda x: lax.reduce_prod(x, (1,)))(x)
    for r in range(3):
        np.testing.assert_allclose(j[r, r], _prod_grad(x[r]))
    check_grads(lambda x: lax.reduce_prod(x, (1,)), (x,), order=2)
    check_grads(lambda x: lax.reduce_prod(x, (0, 1)), (x[1:, :2] + 1.0,), order=2)


def test_pow_derivatives_at_zero_base():
    gx, gy = fxad.grad(lax.pow, argnums=(0, 1))(0.0, 2.0)
    assert (gx, gy) == (0.0, 0.0)  # d/dy x**y = log(x) x**y, taken as 0 at x == 0
    gx, gy = fxad.grad(lax.pow, argnums=(0, 1))(0.0, 1.0)
    assert (gx, gy) == (1.0, 0.0)


def test_rem_derivatives():
    x, y = 7.5, 2.0  # fmod = 1.5 = x - 3 y
    gx, gy = fxad.grad(lax.rem, argnums=(0, 1))(x, y)
    assert (gx, gy) == (1.0, -3.0)
    gx, gy = fxad.grad(lax.rem, argnums=(0, 1))(-7.5, 2.0)
    assert (gx, gy) == (1.0, 3.0)  # trunc(-3.75) = -3


def test_integer_pow_zero_and_one():
    assert fxad.grad(lambda x: lax.integer_pow(x, 0))(3.0) == 0.0
    assert fxad.grad(lambda x: lax.integer_pow(x, 1))(3.0) == 1.0
    assert fxad.grad(fxad.grad(lambda x: lax.integer_pow(x, 3)))(2.0) == 12.0
