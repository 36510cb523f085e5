"""``fxad.scipy.linalg`` against SciPy: values under ``jit`` (and dtypes),
derivatives against finite differences in both modes, ``vmap`` against a
loop.  The primitives underneath have op records (tests/op_records_linalg*.py);
these tests check the SciPy conventions of the wrappers."""

from __future__ import annotations

import numpy as np
import pytest

import fxad
import fxad.numpy as fnp
import fxad.scipy.linalg as fsl
from fxad.test_util import check_grads

sl = pytest.importorskip("scipy.linalg")

RNG = np.random.default_rng(7)
A = RNG.standard_normal((3, 3)) + 3 * np.eye(3)
A_SHUFFLED = A[[2, 0, 1]]
S = A @ A.T
B = RNG.standard_normal((3, 2))
V = RNG.standard_normal(3)


def check(f, ref, args, grads=True, rtol=1e-9):
    """``f`` traced (jit) equals ``ref`` in values and dtypes, and its
    derivatives match finite differences in forward and reverse mode."""
    got, exp = fxad.jit(f)(*args), ref(*args)
    got = got if isinstance(got, tuple) else (got,)
    exp = exp if isinstance(exp, tuple) else (exp,)
    assert len(got) == len(exp)
    for g, e in zip(got, exp):
        np.testing.assert_allclose(np.asarray(g), e, rtol=rtol, atol=1e-11)
        assert np.asarray(g).dtype == np.asarray(e).dtype
    if grads:
        check_grads(f, args, order=1, modes=("fwd", "rev"))


ASSUME = ["gen", "sym", "her", "pos", "diagonal", "banded", "tridiagonal",
          "upper triangular", "lower triangular", None]


@pytest.mark.parametrize("assume_a", ASSUME)
@pytest.mark.parametrize("lower", [False, True])
@pytest.mark.parametrize("transposed", [False, True])
def test_solve_assume_a(assume_a, lower, transposed):
    # The structured solvers read parts of a: a non-symmetric a checks which.
    a = S + 0.3 * A
    check(lambda a, b: fsl.solve(a, b, assume_a=assume_a, lower=lower, transposed=transposed),
          lambda a, b: sl.solve(a, b, assume_a=assume_a, lower=lower, transposed=transposed),
          (a, B))


def test_solve_vector_complex_and_float32():
    check(fsl.solve, sl.solve, (A, V))
    ac = A + 1j * RNG.standard_normal((3, 3))
    check(lambda a, b: fsl.solve(a, b, assume_a="her"),
          lambda a, b: sl.solve(a, b, assume_a="her"), (ac @ ac.conj().T, V + 0j))
    check(fsl.solve, sl.solve, (A.astype(np.float32), V.astype(np.float32)), grads=False,
          rtol=1e-5)
    # complex64 stays complex64; "her" reads the real part of the diagonal only.
    h = (ac @ ac.conj().T + 0.3j * np.eye(3)).astype(np.complex64)
    for assume_a in ("her", "pos", "sym"):
        check(lambda a, b, assume_a=assume_a: fsl.solve(a, b, assume_a=assume_a),
              lambda a, b, assume_a=assume_a: sl.solve(a, b, assume_a=assume_a),
              (h, V.astype(np.complex64)), grads=False, rtol=1e-4)
    with pytest.raises(ValueError, match="not a recognized matrix structure"):
        fxad.grad(lambda a: fsl.solve(a, V, assume_a="spd").sum())(A)
    with pytest.raises(NotImplementedError, match="complex"):
        fxad.jit(lambda a: fsl.solve(a, V, transposed=True))(ac)


def test_inv_det_cholesky():
    check(fsl.inv, sl.inv, (A,))
    check(lambda a: fsl.inv(a, assume_a="pos", lower=True),
          lambda a: sl.inv(a, assume_a="pos", lower=True), (S,))
    check(fsl.det, sl.det, (A,))
    check(fsl.cholesky, sl.cholesky, (S,))
    check(lambda a: fsl.cholesky(a, lower=True), lambda a: sl.cholesky(a, lower=True), (S,))
    # d det / dA = det(A) A^-T (Jacobi's formula).
    np.testing.assert_allclose(fxad.grad(fsl.det)(A), np.linalg.det(A) * np.linalg.inv(A).T)


@pytest.mark.parametrize("a", [A, A_SHUFFLED], ids=["A", "shuffled"])
def test_lu(a):
    check(fsl.lu, sl.lu, (a,))
    check(lambda a: fsl.lu(a, permute_l=True), lambda a: sl.lu(a, permute_l=True), (a,))
    p, lo, up = fxad.jit(lambda a: fsl.lu(a, p_indices=True))(a)
    ep, elo, eup = sl.lu(a, p_indices=True)
    np.testing.assert_array_equal(p, ep)
    np.testing.assert_allclose(lo, elo)
    np.testing.assert_allclose(up, eup)
    packed, piv = fxad.jit(fsl.lu_factor)(a)
    epacked, epiv = sl.lu_factor(a)
    np.testing.assert_allclose(packed, epacked)
    np.testing.assert_array_equal(piv, epiv)
    check(lambda a: fsl.lu_factor(a)[0], lambda a: sl.lu_factor(a)[0], (a,))


@pytest.mark.parametrize("trans", [0, 1, 2])
def test_lu_solve(trans):
    check(lambda a, b: fsl.lu_solve(fsl.lu_factor(a), b, trans=trans),
          lambda a, b: sl.lu_solve(sl.lu_factor(a), b, trans=trans), (A_SHUFFLED, B))
    # A concrete factorisation and a traced right-hand side.
    factors = sl.lu_factor(A_SHUFFLED)
    check(lambda b: fsl.lu_solve(factors, b, trans=trans),
          lambda b: sl.lu_solve(factors, b, trans=trans), (V,))


def test_lu_rectangular_traced_is_refused():
    with pytest.raises(NotImplementedError, match="square matrices only"):
        fxad.jit(fsl.lu)(np.ones((3, 2)))


def test_lu_solve_vmap_matches_loop():
    mats = np.stack([A, A_SHUFFLED, A.T])
    got = fxad.vmap(lambda a, b: fsl.lu_solve(fsl.lu_factor(a), b))(mats, B.T[[0, 1, 0]])
    exp = np.stack([sl.solve(m, b) for m, b in zip(mats, B.T[[0, 1, 0]])])
    np.testing.assert_allclose(got, exp)


def test_eigh():
    check(lambda a: fsl.eigh(a, eigvals_only=True), lambda a: sl.eigh(a, eigvals_only=True),
          (S,))
    lopsided = S + np.triu(A, 1)  # the upper triangle differs from the lower one
    for lower in (True, False):
        check(lambda a, lower=lower: fsl.eigh(a, lower=lower, eigvals_only=True),
              lambda a, lower=lower: sl.eigh(a, lower=lower, eigvals_only=True), (lopsided,))
    check(lambda a: fsl.eigh(a, eigvals_only=True, subset_by_index=(1, 2)),
          lambda a: sl.eigh(a, eigvals_only=True, subset_by_index=[1, 2]), (S,))
    # Eigenvectors up to sign: compare |v|.
    check(lambda a: fnp.abs(fsl.eigh(a, subset_by_index=(0, 1))[1]),
          lambda a: np.abs(sl.eigh(a, subset_by_index=[0, 1])[1]), (S,))


def test_eigh_generalized():
    a = S + A + A.T
    check(lambda a, b: fsl.eigh(a, b, eigvals_only=True),
          lambda a, b: sl.eigh(a, b, eigvals_only=True), (a, S))
    check(lambda a, b: fnp.abs(fsl.eigh(a, b)[1]), lambda a, b: np.abs(sl.eigh(a, b)[1]),
          (a, S))
    w, v = fxad.jit(fsl.eigh)(a, S)
    np.testing.assert_allclose(a @ v, S @ v * w, atol=1e-10)
    with pytest.raises(NotImplementedError, match="subset_by_value"):
        fxad.jit(lambda a: fsl.eigh(a, subset_by_value=(0.0, 1.0)))(S)


def test_svd_qr():
    check(lambda a: fsl.svd(a, compute_uv=False), lambda a: sl.svd(a, compute_uv=False), (B,))
    # U diag(s) Vh reassembles a, whatever the signs.
    u, s, vh = fxad.jit(lambda a: fsl.svd(a, full_matrices=False))(B)
    np.testing.assert_allclose((u * s) @ vh, B)
    assert fxad.jit(fsl.svd)(B)[0].shape == (3, 3)
    check(lambda a: fnp.abs(fsl.qr(a, mode="r")[0]), lambda a: np.abs(sl.qr(a, mode="r")[0]),
          (A,))
    check(lambda a: fnp.abs(fsl.qr(a, mode="economic")[0]),
          lambda a: np.abs(sl.qr(a, mode="economic")[0]), (B,))
    q, r = fxad.jit(fsl.qr)(B)
    assert q.shape == (3, 3) and r.shape == (3, 2)
    np.testing.assert_allclose(q @ r, B)
    assert len(fxad.jit(lambda a: fsl.qr(a, mode="r"))(A)) == 1
    with pytest.raises(NotImplementedError, match="pivoting"):
        fxad.jit(lambda a: fsl.qr(a, pivoting=True))(A)


def test_schur_values_and_traced_refusal():
    t, z = fsl.schur(A)
    et, ez = sl.schur(A)
    np.testing.assert_allclose(t, et)
    with pytest.raises(NotImplementedError, match="eig"):
        fxad.grad(lambda a: fsl.schur(a)[0].sum())(A)


def test_block_diag_and_toeplitz():
    check(lambda x, y: fsl.block_diag(x, y, 2.0), lambda x, y: sl.block_diag(x, y, 2.0),
          (V, A))
    check(lambda x: fsl.block_diag(x[:, None], x), lambda x: sl.block_diag(x[:, None], x), (V,))
    check(fsl.toeplitz, sl.toeplitz, (V, np.arange(4.0)))
    check(fsl.toeplitz, sl.toeplitz, (V,))
    vc = V + 1j * V[::-1]
    check(fsl.toeplitz, sl.toeplitz, (vc,), grads=False)
    with pytest.raises(ValueError, match="dimension greater than 2"):
        fxad.jit(lambda x: fsl.block_diag(x))(np.ones((2, 2, 2)))


@pytest.mark.parametrize("l_and_u", [(1, 1), (0, 2), (2, 0)])
def test_solve_banded(l_and_u):
    nl, nu = l_and_u
    ab = RNG.standard_normal((nl + nu + 1, 4))
    ab[nu] += 4.0  # the diagonal dominates
    check(lambda ab, b: fsl.solve_banded(l_and_u, ab, b),
          lambda ab, b: sl.solve_banded(l_and_u, ab, b), (ab, RNG.standard_normal((4, 2))))
    with pytest.raises(ValueError, match="l\\+u\\+1"):
        fxad.jit(lambda ab: fsl.solve_banded((1, 1), ab, np.ones(4)))(np.ones((2, 4)))


def test_wrappers_vmap_match_loop():
    mats = np.stack([S, S + np.eye(3), 2 * S])
    for f in (lambda a: fsl.solve(a, V, assume_a="pos"), fsl.det, fsl.cholesky,
              lambda a: fsl.eigh(a, eigvals_only=True), lambda a: fsl.lu(a)[2]):
        np.testing.assert_allclose(fxad.vmap(f)(mats), np.stack([f(m) for m in mats]),
                                   rtol=1e-10)
