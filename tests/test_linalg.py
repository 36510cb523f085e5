"""``fxad.numpy.linalg`` and ``fxad.scipy.linalg`` against NumPy and SciPy.

For every public function, on hypothesis-drawn sizes (with a batch axis
where NumPy/SciPy batch) and well-conditioned matrices (positive definite,
with separated eigenvalues or singular values, dominant diagonals):

* values: traced (the primal output of ``fxad.jvp``) equal NumPy's/SciPy's
  own to ``rtol=1e-12``;
* derivatives: ``check_grads`` to order 2 in forward and reverse mode, of
  gauge-invariant functions where a decomposition is unique only up to signs
  or phases (``V diag(c) V^H`` rather than ``V``);
* ``vmap`` equals a Python loop;

then analytic derivatives (``d det = det A^-T`` and friends), the defining
equations of the JVPs, ``norm`` in every order, and errors.  The primitives
themselves are covered by ``tests/op_records_linalg.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
import scipy.linalg as sla
from hypothesis import given, settings
from hypothesis import strategies as st

import fxad
import fxad.numpy as fnp
import fxad.scipy.linalg as fsl
from fxad import tree_util
from fxad.test_util import check_grads

fla = fnp.linalg

values_settings = settings(deadline=None, max_examples=12, derandomize=True)
grads_settings = settings(deadline=None, max_examples=6, derandomize=True)

# ---------------------------------------------------------------------------
# Well-conditioned matrices


def _orthogonal(rng, n):
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diagonal(r))


def _stack(batch, draw):
    if not batch:
        return draw()
    return np.stack([draw() for _ in range(int(np.prod(batch)))]).reshape(
        batch + np.shape(draw()))


def _gapped(rng, n):
    """n values at least 1 apart."""
    return np.sort(rng.permutation(2 * n)[:n] - n + rng.uniform(0.0, 0.2, n))


def spd(rng, batch, n):
    def one():
        q = _orthogonal(rng, n)
        return (q * rng.uniform(1.0, 3.0, n)) @ q.T
    return _stack(batch, one)


def symmetric(rng, batch, n):
    def one():
        q = _orthogonal(rng, n)
        return (q * _gapped(rng, n)) @ q.T
    return _stack(batch, one)


def general(rng, batch, n, m=None, shift=3.0):
    m = n if m is None else m
    return rng.standard_normal(batch + (n, m)) + shift * np.eye(n, m)


def distinct_eig(rng, batch, n):
    def one():
        p = np.eye(n) + 0.3 * rng.standard_normal((n, n))
        d = np.diag(_gapped(rng, n))
        if n >= 2 and rng.random() < 0.5:  # a complex-conjugate pair
            d[:2, :2] = [[1.0, 2.0], [-2.0, 1.0]]
        return p @ d @ np.linalg.inv(p)
    return _stack(batch, one)


def distinct_sv(rng, batch, m, n):
    k = min(m, n)

    def one():
        u, v = _orthogonal(rng, m)[:, :k], _orthogonal(rng, n)[:, :k]
        return (u * (_gapped(rng, k) + k + 1.0)) @ v.T
    return _stack(batch, one)


def triangular(rng, batch, n, lower):
    a = 0.5 * rng.standard_normal(batch + (n, n))
    return a + np.eye(n) * rng.choice([-1.0, 1.0], batch + (n,))[..., None, :] * 2.5


def near_identity(rng, batch, n):  # eigenvalues well inside the right half plane
    return 2.0 * np.eye(n) + 0.4 * rng.standard_normal(batch + (n, n))


def _weights(k):
    return np.arange(1.0, k + 1.0)


def _h(x):
    return fnp.conj(fnp.swapaxes(x, -1, -2))


# ---------------------------------------------------------------------------
# The table: one entry per public function


@dataclass
class Fn:
    name: str
    fx: Callable  # the fxad function, of the drawn arguments
    ref: Callable  # NumPy's or SciPy's, same arguments
    make: Callable  # (rng, batch, n) -> list of arguments
    batched: bool = True  # NumPy/SciPy accept a batch axis
    diff: Callable | None = None  # a gauge-invariant function to differentiate (default fx)
    grads: bool = True  # False: an integer result, no derivative


def _eigh_inv(a):
    w, v = fla.eigh(a)
    return w, (v * _weights(a.shape[-1])) @ _h(v)


def _svd_inv(a):
    u, s, vh = fla.svd(a, full_matrices=False)
    k = s.shape[-1]
    return s, (u * _weights(k)) @ vh


def _svd_full_inv(a):
    u, s, vh = fla.svd(a)  # vh has extra rows: their projector is gauge invariant
    k = s.shape[-1]
    return s, _h(vh[..., k:, :]) @ vh[..., k:, :], (u * _weights(k)) @ vh[..., :k, :]


def _complex(tree):
    """Eagerly NumPy's eig is real when every eigenvalue is; traced it is always
    complex: the functions differentiated here are complex both ways."""
    return tree_util.tree_map(lambda x: fnp.astype(x, np.complex128), tree)


FUNCTIONS = [
    Fn("solve", fla.solve, np.linalg.solve,
       lambda rng, b, n: [general(rng, b, n), rng.standard_normal(b + (n, 2))]),
    Fn("solve_vector", fla.solve, np.linalg.solve,
       lambda rng, b, n: [general(rng, b, n), rng.standard_normal(n)]),
    Fn("inv", fla.inv, np.linalg.inv, lambda rng, b, n: [general(rng, b, n)]),
    Fn("det", fla.det, np.linalg.det, lambda rng, b, n: [general(rng, b, n)]),
    Fn("slogdet", fla.slogdet, np.linalg.slogdet,
       lambda rng, b, n: [general(rng, b, n, shift=-3.0)]),
    Fn("matrix_power_5", lambda a: fla.matrix_power(a, 5), lambda a: np.linalg.matrix_power(a, 5),
       lambda rng, b, n: [0.5 * general(rng, b, n, shift=0.0)]),
    Fn("matrix_power_-2", lambda a: fla.matrix_power(a, -2),
       lambda a: np.linalg.matrix_power(a, -2), lambda rng, b, n: [general(rng, b, n)]),
    Fn("multi_dot", lambda *xs: fla.multi_dot(xs), lambda *xs: np.linalg.multi_dot(xs),
       lambda rng, b, n: [rng.standard_normal(n), rng.standard_normal((n, 3)),
                          rng.standard_normal((3, 1)), rng.standard_normal((1, n + 1))],
       batched=False),
    Fn("cholesky", fla.cholesky, np.linalg.cholesky, lambda rng, b, n: [spd(rng, b, n)]),
    Fn("cholesky_upper", lambda a: fla.cholesky(a, upper=True),
       lambda a: np.linalg.cholesky(a, upper=True), lambda rng, b, n: [spd(rng, b, n)]),
    Fn("eigh", fla.eigh, np.linalg.eigh, lambda rng, b, n: [symmetric(rng, b, n)],
       diff=_eigh_inv),
    Fn("eigvalsh_U", lambda a: fla.eigvalsh(a, "U"), lambda a: np.linalg.eigvalsh(a, "U"),
       lambda rng, b, n: [symmetric(rng, b, n)]),
    Fn("eig", fla.eig, np.linalg.eig, lambda rng, b, n: [distinct_eig(rng, b, n)],
       diff=lambda a: _complex(fla.eig(a))),
    Fn("eigvals", fla.eigvals, np.linalg.eigvals, lambda rng, b, n: [distinct_eig(rng, b, n)],
       diff=lambda a: _complex(fla.eigvals(a))),
    Fn("svd", lambda a: fla.svd(a, full_matrices=False),
       lambda a: np.linalg.svd(a, full_matrices=False),
       lambda rng, b, n: [distinct_sv(rng, b, n + 1, n)], diff=_svd_inv),
    Fn("svd_full", fla.svd, np.linalg.svd, lambda rng, b, n: [distinct_sv(rng, b, n, n + 2)],
       diff=_svd_full_inv),
    Fn("svdvals", fla.svdvals, np.linalg.svdvals,
       lambda rng, b, n: [distinct_sv(rng, b, n, n + 1)]),
    Fn("qr", fla.qr, np.linalg.qr, lambda rng, b, n: [general(rng, b, n + 1, n, shift=2.0)]),
    Fn("qr_wide_r", lambda a: fla.qr(a, "r"), lambda a: np.linalg.qr(a, "r"),
       lambda rng, b, n: [general(rng, b, n, n + 2, shift=2.0)]),
    Fn("pinv", fla.pinv, np.linalg.pinv, lambda rng, b, n: [distinct_sv(rng, b, n + 1, n)]),
    Fn("norm_fro", fla.norm, np.linalg.norm, lambda rng, b, n: [rng.standard_normal((n, n))],
       batched=False),
    Fn("norm_nuc", lambda a: fla.norm(a, "nuc", axis=(-2, -1)),
       lambda a: np.linalg.norm(a, "nuc", axis=(-2, -1)),
       lambda rng, b, n: [distinct_sv(rng, b, n, n + 1)]),
    Fn("norm_2", lambda a: fla.norm(a, 2, axis=(-2, -1)),
       lambda a: np.linalg.norm(a, 2, axis=(-2, -1)),
       lambda rng, b, n: [distinct_sv(rng, b, n + 1, n)]),
    Fn("norm_p3", lambda a: fla.norm(a, 3, axis=-1), lambda a: np.linalg.norm(a, 3, axis=-1),
       lambda rng, b, n: [rng.uniform(0.5, 2.0, b + (n,)) * rng.choice([-1, 1], b + (n,))]),
    Fn("vector_norm", fla.vector_norm, np.linalg.vector_norm,
       lambda rng, b, n: [rng.standard_normal(b + (n,))]),
    Fn("matrix_norm", fla.matrix_norm, np.linalg.matrix_norm,
       lambda rng, b, n: [rng.standard_normal(b + (n, n))]),
    Fn("cond", fla.cond, np.linalg.cond, lambda rng, b, n: [distinct_sv(rng, b, n + 1, n)]),
    Fn("cond_1", lambda a: fla.cond(a, 1), lambda a: np.linalg.cond(a, 1),
       lambda rng, b, n: [general(rng, b, n)]),
    Fn("matrix_rank", fla.matrix_rank, np.linalg.matrix_rank,
       lambda rng, b, n: [distinct_sv(rng, b, n + 1, n) @ np.diag([1.0] * (n - 1) + [0.0])],
       grads=False),
    Fn("outer", fla.outer, np.linalg.outer,
       lambda rng, b, n: [rng.standard_normal(n), rng.standard_normal(n + 1)], batched=False),
    Fn("trace", fla.trace, np.linalg.trace, lambda rng, b, n: [rng.standard_normal(b + (n, n))]),
    Fn("diagonal", lambda x: fla.diagonal(x, offset=1), lambda x: np.linalg.diagonal(x, offset=1),
       lambda rng, b, n: [rng.standard_normal(b + (n, n + 1))]),
    Fn("tensordot", lambda x, y: fla.tensordot(x, y, axes=1),
       lambda x, y: np.linalg.tensordot(x, y, axes=1),
       lambda rng, b, n: [rng.standard_normal((2, n)), rng.standard_normal((n, 3))],
       batched=False),
    Fn("vecdot", fla.vecdot, np.linalg.vecdot,
       lambda rng, b, n: [rng.standard_normal(b + (n,)), rng.standard_normal((n,))]),
    Fn("tensorinv", lambda a: fla.tensorinv(a, ind=1), lambda a: np.linalg.tensorinv(a, ind=1),
       lambda rng, b, n: [general(rng, (), 2 * n).reshape(2 * n, 2, n)], batched=False),
    Fn("tensorsolve", fla.tensorsolve, np.linalg.tensorsolve,
       lambda rng, b, n: [general(rng, (), 2 * n).reshape(2, n, 2 * n),
                          rng.standard_normal((2, n))], batched=False),
    Fn("solve_triangular", lambda a, b: fsl.solve_triangular(a, b, lower=True),
       lambda a, b: sla.solve_triangular(a, b, lower=True),
       lambda rng, b, n: [triangular(rng, (), n, True), rng.standard_normal((n, 2))],
       batched=False),
    Fn("solve_triangular_T", lambda a, b: fsl.solve_triangular(a, b, trans="T"),
       lambda a, b: sla.solve_triangular(a, b, trans="T"),
       lambda rng, b, n: [triangular(rng, (), n, False), rng.standard_normal(n)], batched=False),
    Fn("cho_factor", lambda a: fsl.cho_factor(a)[0], lambda a: sla.cho_factor(a)[0],
       lambda rng, b, n: [spd(rng, (), n)], batched=False),
    Fn("cho_solve", lambda a, b: fsl.cho_solve(fsl.cho_factor(a, lower=True), b),
       lambda a, b: sla.cho_solve(sla.cho_factor(a, lower=True), b),
       lambda rng, b, n: [spd(rng, (), n), rng.standard_normal(n)], batched=False),
    Fn("cho_solve_upper", lambda a, b: fsl.cho_solve(fsl.cho_factor(a), b),
       lambda a, b: sla.cho_solve(sla.cho_factor(a), b),
       lambda rng, b, n: [spd(rng, (), n), rng.standard_normal((n, 2))], batched=False),
    Fn("solve_sylvester", fsl.solve_sylvester, sla.solve_sylvester,
       lambda rng, b, n: [near_identity(rng, (), n), near_identity(rng, (), n + 1),
                          rng.standard_normal((n, n + 1))], batched=False),
    Fn("sqrtm", fsl.sqrtm, sla.sqrtm, lambda rng, b, n: [near_identity(rng, (), n)],
       batched=False),
    Fn("expm", fsl.expm, sla.expm, lambda rng, b, n: [0.6 * rng.standard_normal(b + (n, n))]),
    Fn("expm_frechet", fsl.expm_frechet, sla.expm_frechet,
       lambda rng, b, n: [0.6 * rng.standard_normal((n, n)), rng.standard_normal((n, n))],
       batched=False),
]
IDS = [f.name for f in FUNCTIONS]


@st.composite
def draws(draw, fn, max_n=3):
    n = draw(st.integers(1, max_n), label="n")
    batch = draw(st.sampled_from([(), (2,)] if fn.batched else [()]), label="batch")
    seed = draw(st.integers(0, 2**16), label="seed")
    return fn.make(np.random.default_rng(seed), batch, n)


def _leaves(x):
    return tree_util.tree_leaves(x)


def assert_close(actual, expected, rtol=1e-12, atol=1e-12):
    a_leaves, e_leaves = _leaves(actual), _leaves(expected)
    assert len(a_leaves) == len(e_leaves)
    for a, e in zip(a_leaves, e_leaves):
        a, e = np.asarray(a), np.asarray(e)
        assert a.shape == e.shape, (a.shape, e.shape)
        np.testing.assert_allclose(a, e, rtol=rtol, atol=atol)


def traced(f, *args):
    """``f(*args)`` computed under a transformation (the primal of ``fxad.jvp``)."""
    return fxad.jvp(f, args, tuple(np.zeros_like(a) for a in args))[0]


# ---------------------------------------------------------------------------
# Values, derivatives and vmap, function by function


@pytest.mark.parametrize("fn", FUNCTIONS, ids=IDS)
@values_settings
@given(data=st.data())
def test_values_match_numpy_and_scipy(fn, data):
    args = data.draw(draws(fn, max_n=4))
    expected = fn.ref(*args)
    assert_close(fn.fx(*args), expected, rtol=0, atol=0)  # eager: NumPy's own call
    out = traced(fn.fx, *args)
    assert type(out) is type(expected) or not isinstance(expected, tuple)
    assert_close(out, expected)


@pytest.mark.parametrize("fn", FUNCTIONS, ids=IDS)
@grads_settings
@given(data=st.data())
def test_check_grads(fn, data):
    args = data.draw(draws(fn))
    if not fn.grads:
        assert_close(fxad.grad(lambda *a: fnp.sum(fn.fx(*a)) * fnp.sum(a[0]))(*args),
                     np.sum(fn.fx(*args)) * np.ones_like(args[0]))
        return
    check_grads(fn.diff or fn.fx, args, order=2, modes=("fwd", "rev"))


@pytest.mark.parametrize("fn", [f for f in FUNCTIONS if f.name != "multi_dot"],
                         ids=[i for i in IDS if i != "multi_dot"])
def test_vmap_equals_loop(fn):
    rng = np.random.default_rng(0)
    examples = [fn.make(rng, (), 3) for _ in range(3)]
    stacked = [np.stack(xs) for xs in zip(*examples)]
    out = fxad.vmap(fn.fx)(*stacked)
    loop = [fn.fx(*ex) for ex in examples]
    want = tree_util.tree_map(lambda *xs: np.stack(xs), *loop)
    assert_close(out, want, rtol=1e-13, atol=1e-13)


def test_vmap_of_a_shared_matrix_solves_all_columns_at_once():
    rng = np.random.default_rng(1)
    a, bs = general(rng, (), 3), rng.standard_normal((4, 3, 2))
    for f in (fla.solve, lambda a, b: fsl.solve_triangular(a, b, lower=True)):
        out = fxad.vmap(f, in_axes=(None, 0))(a, bs)
        assert_close(out, np.stack([f(a, b) for b in bs]), rtol=1e-13, atol=1e-13)
    jf = fxad.jacfwd(fla.solve, argnums=(0, 1))(a, bs[0])
    jr = fxad.jacrev(fla.solve, argnums=(0, 1))(a, bs[0])
    assert_close(jf, jr)


# ---------------------------------------------------------------------------
# Analytic derivatives


A3 = np.array([[2.0, 1.0, 0.5], [-1.0, 3.0, 0.2], [0.3, 0.4, -2.5]])


def test_grad_det_is_det_times_inverse_transpose():
    g = fxad.grad(fla.det)(A3)
    assert_close(g, np.linalg.det(A3) * np.linalg.inv(A3).T, rtol=1e-13)


def test_grad_logdet_is_inverse_transpose():
    g = fxad.grad(lambda a: fla.slogdet(a).logabsdet)(A3)
    assert_close(g, np.linalg.inv(A3).T, rtol=1e-13)
    # and its Hessian is -A^-T (.) A^-T, the derivative of the inverse
    h = fxad.hessian(lambda a: fla.slogdet(a).logabsdet)(A3)
    inv = np.linalg.inv(A3)
    assert_close(h, -np.einsum("li,jk->ijkl", inv, inv), rtol=1e-12)


def test_grad_sum_of_inverse():
    g = fxad.grad(lambda a: fla.inv(a).sum())(A3)
    it = np.linalg.inv(A3).T
    ones = np.ones((3, 3))
    assert_close(g, -it @ ones @ it, rtol=1e-13)


def test_jvps_satisfy_their_defining_equations():
    rng = np.random.default_rng(2)
    s, ds = spd(rng, (), 4), rng.standard_normal((4, 4))
    ds_sym = np.tril(ds) + np.tril(ds, -1).T  # what cholesky's reading of s + t ds moves
    L, dL = fxad.jvp(fla.cholesky, (s,), (ds,))
    assert_close(dL @ L.T + L @ dL.T, ds_sym, rtol=1e-12, atol=1e-12)
    assert_close(np.triu(dL, 1), np.zeros((4, 4)), atol=0)
    S, dS = fxad.jvp(fsl.sqrtm, (s,), (ds,))
    assert_close(S @ dS + dS @ S, ds, rtol=1e-11, atol=1e-11)
    # d/dt expm(t A) = A expm(t A) at t = 1
    a = 0.5 * rng.standard_normal((3, 3))
    e, de = fxad.jvp(lambda t: fsl.expm(t * a), (1.0,), (1.0,))
    assert_close(de, a @ sla.expm(a), rtol=1e-12, atol=1e-13)
    assert_close(fsl.expm_frechet(a, ds[:3, :3])[1],
                 fxad.jvp(fsl.expm, (a,), (ds[:3, :3],))[1], rtol=1e-12, atol=1e-13)


def test_eigenvalue_derivatives():
    a = symmetric(np.random.default_rng(3), (), 4)
    w, v = np.linalg.eigh(a)
    # dw_i / dA = v_i v_i^T, read from the lower triangle (so doubled off it)
    g = fxad.grad(lambda a: fla.eigvalsh(a)[1])(a)
    vv = np.outer(v[:, 1], v[:, 1])
    assert_close(g, np.tril(2 * vv, -1) + np.diag(np.diag(vv)), atol=1e-12)
    # eig's derivative of the same eigenvalue, reading the whole matrix: v v^T
    k = int(np.argmin(np.abs(np.linalg.eigvals(a) - w[1])))
    ge = fxad.grad(lambda a: fnp.real(fla.eigvals(a)[k]))(a)
    assert_close(ge, vv, atol=1e-10)


def test_norm_gradients():
    a = distinct_sv(np.random.default_rng(4), (), 3, 3)
    u, s, vh = np.linalg.svd(a)
    assert_close(fxad.grad(lambda a: fla.norm(a, "nuc"))(a), u @ vh, atol=1e-12)
    assert_close(fxad.grad(lambda a: fla.norm(a, 2))(a), np.outer(u[:, 0], vh[0]), atol=1e-12)
    assert_close(fxad.grad(lambda a: fla.norm(a, -2))(a), np.outer(u[:, -1], vh[-1]),
                 atol=1e-12)
    assert_close(fxad.grad(fla.norm)(a), a / np.linalg.norm(a), rtol=1e-13)


def test_pinv_derivative_at_repeated_and_zero_singular_values():
    # pinv has the Golub-Pereyra rule: right where the SVD's derivative is not
    # (repeated singular values), and for rank-deficient matrices of constant rank.
    t = np.random.default_rng(5).standard_normal((3, 3))
    _, dp = fxad.jvp(fla.pinv, (np.eye(3),), (t,))
    assert_close(dp, -t, atol=1e-12)
    q = _orthogonal(np.random.default_rng(6), 3)
    check_grads(fla.pinv, (2.0 * q,), order=2, modes=("fwd", "rev"))
    low_rank = np.outer([1.0, 2.0, 0.5], [1.0, -1.0]) + np.outer([0.0, 1.0, 1.0], [2.0, 1.0])
    check_grads(lambda a: fla.pinv(a @ np.array([[1.0, 0, 1], [0, 1.0, 1]])), (low_rank,),
                order=2, modes=("fwd", "rev"))


def test_eigenvalues_alone_are_differentiable_at_repeated_eigenvalues():
    # Symmetric functions of the eigenvalues are smooth there, and their first
    # derivative forms no eigenvector derivative (which would be infinite; the
    # second derivative goes through it, as in JAX).
    for f in (lambda a: fla.eigvalsh(a).sum(), lambda a: fnp.real(fla.eigvals(a)).sum(),
              lambda a: (fla.eigvalsh(a) ** 2).sum()):
        check_grads(f, (np.eye(3),), order=1, modes=("fwd", "rev"))
    assert_close(fxad.grad(lambda a: fla.eigvalsh(a).sum())(np.eye(3)), np.eye(3))


def test_repeated_eigenvalues_give_nonfinite_eigenvector_derivatives():
    # As in JAX: the eigenvectors of a repeated eigenvalue are not unique.
    with np.errstate(divide="ignore", invalid="ignore"):
        _, dv = fxad.jvp(lambda a: fla.eigh(a).eigenvectors, (np.eye(2),), (np.ones((2, 2)),))
    assert not np.all(np.isfinite(dv))


@pytest.mark.parametrize("ord_,axis", [
    (None, None), (None, 0), (None, (0, 1)), ("fro", None), ("nuc", None), (np.inf, None),
    (-np.inf, None), (1, None), (-1, None), (2, None), (-2, None), (np.inf, 1), (-np.inf, 1),
    (0, 1), (1, 0), (2, 1), (3.5, 0), (-1.5, 1), (1, (1, 0)), (np.inf, (1, 0)),
])
@pytest.mark.parametrize("keepdims", [False, True])
def test_norm_every_order(ord_, axis, keepdims):
    a = np.array([[3.0, -1.5, 0.5], [0.25, 2.0, -4.0], [1.0, 0.7, 2.2]])
    f = lambda x: fla.norm(x, ord_, axis, keepdims)  # noqa: E731
    expected = np.linalg.norm(a, ord_, axis, keepdims)
    assert_close(traced(f, a), expected)
    assert np.shape(traced(f, a)) == np.shape(expected)
    if ord_ != 0:
        check_grads(f, (a,), order=1, modes=("fwd", "rev"))


def test_norm_of_integers_and_complex():
    x = np.array([3, -4])
    assert fxad.grad(lambda y: fla.norm(y * x))(1.0) == 5.0
    z = np.array([3 + 4j, 1 - 1j])
    val, grad = fxad.value_and_grad(lambda s: fla.norm(s * z))(2.0)
    assert_close(val, np.linalg.norm(2.0 * z))
    assert_close(grad, np.linalg.norm(z))


# ---------------------------------------------------------------------------
# Conventions and errors


def test_eig_is_complex_under_tracing():
    a = np.diag([1.0, 2.0])
    assert np.linalg.eig(a).eigenvalues.dtype == np.float64  # NumPy: real when it can
    w = traced(lambda a: fla.eigvals(a), a)
    assert w.dtype == np.complex128
    assert_close(w, np.array([1.0, 2.0]))


def test_decompositions_reconstruct_their_input_under_tracing():
    rng = np.random.default_rng(6)
    a = general(rng, (2,), 3)
    w, v = traced(fla.eigh, a + np.swapaxes(a, -1, -2))
    assert_close((v * w[..., None, :]) @ np.swapaxes(v, -1, -2), a + np.swapaxes(a, -1, -2),
                 rtol=1e-12, atol=1e-12)
    u, s, vh = traced(lambda a: fla.svd(a, full_matrices=False), a)
    assert_close((u * s[..., None, :]) @ vh, a, atol=1e-12)
    q, r = traced(fla.qr, a)
    assert_close(q @ r, a, atol=1e-12)
    wc, vc = traced(fla.eig, a)
    assert_close(vc @ (wc[..., :, None] * np.linalg.inv(vc)), a, atol=1e-12)


def test_lower_and_upper_triangles_are_read_as_numpy_reads_them():
    s = spd(np.random.default_rng(7), (), 3)
    junk = s + np.triu(np.full((3, 3), 9.0), 1)  # only the upper triangle changed
    assert_close(traced(fla.cholesky, junk), np.linalg.cholesky(s))
    assert_close(traced(fla.eigvalsh, junk), np.linalg.eigvalsh(s))
    g = fxad.grad(lambda a: fla.cholesky(a).sum())(junk)
    assert_close(np.triu(g, 1), np.zeros((3, 3)), atol=0)
    g = fxad.grad(lambda a: fla.cholesky(a, upper=True).sum())(s)
    assert_close(np.tril(g, -1), np.zeros((3, 3)), atol=0)


def test_errors():
    t = lambda f, *a: traced(f, *a)  # noqa: E731
    with pytest.raises(fla.LinAlgError, match="square"):
        t(fla.inv, np.ones((2, 3)))
    with pytest.raises(fla.LinAlgError, match="two-dimensional"):
        t(fla.det, np.ones(3))
    with pytest.raises(NotImplementedError, match="raw"):
        t(lambda a: fla.qr(a, "raw"), np.eye(2))
    with pytest.raises(ValueError, match="complex dtype"):
        t(fsl.sqrtm, np.diag([1.0, -1.0]))
    with pytest.raises(ValueError, match="UPLO"):
        t(lambda a: fla.eigh(a, "X"), np.eye(2))
    assert_close(traced(fsl.sqrtm, np.diag([1.0, -1.0]).astype(complex)), np.diag([1.0, 1j]))


def test_import_fxad_does_not_import_scipy():
    code = ("import sys, fxad, fxad.numpy, fxad.numpy.linalg, fxad.lax.linalg; "
            "import fxad.numpy as fnp, numpy as np; "
            "fxad.grad(lambda a: fnp.linalg.slogdet(a)[1] + fnp.linalg.cholesky(a).sum())"
            "(np.eye(2) * 2); assert 'scipy' not in sys.modules, 'scipy was imported'")
    root = os.path.dirname(os.path.dirname(os.path.abspath(fxad.__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]))
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
