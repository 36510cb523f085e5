"""``fxad.scipy.linalg``: differentiable ``scipy.linalg`` (a selection).

Without tracers each function is SciPy's own call (SciPy is imported then,
not by ``import fxad``); with tracers it binds the primitives of
``fxad.lax.linalg``, differentiable in forward and reverse mode to any
order:

* ``solve`` (every ``assume_a``), ``inv``, ``det``, ``solve_triangular``,
  ``solve_banded``, ``cholesky``, ``cho_factor``, ``cho_solve``: solves and
  the Cholesky factorisation; the structured ``assume_a`` read only the
  triangle (or band, or diagonal) SciPy reads, so their derivatives are
  derivatives in those entries only;
* ``lu``, ``lu_factor``, ``lu_solve``: partial-pivoting LU (primitive
  ``lu``; the pivots are piecewise constant, so the derivative is that of
  ``L`` and ``U`` for fixed pivots);
* ``eigh`` (``eigvals_only``, ``lower``, ``subset_by_index``, and ``b`` for the
  generalized problem, reduced by ``b``'s Cholesky factor), ``svd``, ``qr``
  (``mode`` ``"full"``, ``"economic"``, ``"r"``): the primitives of
  ``fxad.numpy.linalg`` with SciPy's conventions;
* ``block_diag``, ``toeplitz``: compositions, linear in their arguments;
* ``schur``: SciPy's values for arrays; a traced argument raises (the Schur
  vectors are not a differentiable function of the matrix in general:
  differentiate ``eig``/``eigh`` or ``expm``/``sqrtm`` instead);
* ``solve_sylvester``: ``A X + X B = Q``, whose derivative solves the same
  equation again;
* ``sqrtm``: the principal square root, whose derivative solves the Sylvester
  equation ``S dS + dS S = dA``;
* ``expm`` and ``expm_frechet``: the exponential and its Fréchet derivative,
  computed as a block of the exponential of a block-triangular matrix
  (Al-Mohy & Higham), so every derivative of ``expm`` is again such a block.

Example:
    >>> import fxad, fxad.numpy as fnp, numpy as np
    >>> import fxad.scipy.linalg as fsl
    >>> fxad.grad(lambda a: fnp.trace(fsl.expm(a)))(np.zeros((2, 2)))  # expm(a)^T
    array([[1., 0.],
           [0., 1.]])
"""

from __future__ import annotations

import numpy as np

import fxad.numpy as fnp
from fxad.lax import linalg as lax_linalg
from fxad.lax.linalg import _H
from fxad.numpy import _core as _fc
from fxad.numpy import _shape as _fs
from fxad.numpy._util import any_tracer, broadcast_to_shape, shape_of
from fxad.numpy._util import install_numpy_functions as _install_numpy_functions
from fxad.numpy.linalg import _broadcast_batch, _check_stacked_2d, _check_stacked_square, _inexact

__all__ = ["block_diag", "cho_factor", "cho_solve", "cholesky", "det", "eigh", "expm",
           "expm_frechet", "inv", "lu", "lu_factor", "lu_solve", "qr", "schur", "solve",
           "solve_banded", "solve_sylvester", "solve_triangular", "sqrtm", "svd", "toeplitz"]


def _scipy():
    import scipy.linalg

    return scipy.linalg


def _as_matrix_rhs(a, b):
    """``b`` as a stack of matrices broadcast against ``a``; whether it was a vector."""
    vector = len(shape_of(b)) == 1
    if vector:
        b = _fs.reshape(b, shape_of(b) + (1,))
    a, b = _broadcast_batch(a, b)
    return a, b, vector


def _unvector(x, vector):
    return _fs.reshape(x, shape_of(x)[:-1]) if vector else x


_TRANS = {0: (False, False), "N": (False, False), 1: (True, False), "T": (True, False),
          2: (True, True), "C": (True, True)}


def solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False,
                     check_finite=True):
    """``scipy.linalg.solve_triangular``: ``x`` with ``op(a) x = b``, ``a``
    triangular (the other triangle is not read), ``op`` given by ``trans``
    (0/"N": ``a``, 1/"T": ``a^T``, 2/"C": ``a^H``).  ``b`` is a vector (1-D)
    or a matrix; ``a`` may be a stack of matrices with ``b`` a matching stack.

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> import fxad.scipy.linalg as fsl
        >>> L = np.array([[2.0, 0.0], [1.0, 1.0]])
        >>> fxad.grad(lambda b: fsl.solve_triangular(L, b, lower=True).sum())(np.ones(2))
        array([0., 1.])
    """
    if not any_tracer(a, b):
        return _scipy().solve_triangular(a, b, trans=trans, lower=lower,
                                         unit_diagonal=unit_diagonal,
                                         overwrite_b=overwrite_b, check_finite=check_finite)
    if trans not in _TRANS:
        raise ValueError("Unknown trans value: expected 0, 1, 2, 'N', 'T' or 'C'")
    transpose_a, conjugate_a = _TRANS[trans]
    a, b = _inexact(a, b)
    _check_stacked_square("solve_triangular", a)
    a, b, vector = _as_matrix_rhs(a, b)
    x = lax_linalg.triangular_solve(a, b, left_side=True, lower=lower, transpose_a=transpose_a,
                                    conjugate_a=conjugate_a, unit_diagonal=unit_diagonal)
    return _unvector(x, vector)


def cho_factor(a, lower=False, overwrite_a=False, check_finite=True):
    """``scipy.linalg.cho_factor``: ``(c, lower)`` with the Cholesky factor in
    the ``lower`` (or upper) triangle of ``c``; the other triangle holds the
    entries of ``a`` there, as SciPy leaves them.  Only that triangle of ``a``
    is read.

    Example:
        >>> import fxad.scipy.linalg as fsl, numpy as np
        >>> c, lower = fsl.cho_factor(np.array([[4.0, 2.0], [2.0, 5.0]]))
        >>> c
        array([[2., 1.],
               [2., 2.]])
    """
    if not any_tracer(a):
        return _scipy().cho_factor(a, lower=lower, overwrite_a=overwrite_a,
                                   check_finite=check_finite)
    a = _inexact(a)
    _check_stacked_square("cho_factor", a)
    n = shape_of(a)[-1]
    if lower:
        factor = lax_linalg.cholesky(a)
        rest = np.triu(np.ones((n, n)), 1)
    else:  # U = L^H with L the factor of a^H, whose lower triangle is a's upper one
        factor = _H(lax_linalg.cholesky(_H(a)))
        rest = np.tril(np.ones((n, n)), -1)
    return _fc.add(factor, _fc.multiply(a, rest.astype(a.aval.dtype))), lower


def cho_solve(c_and_lower, b, overwrite_b=False, check_finite=True):
    """``scipy.linalg.cho_solve``: ``x`` with ``A x = b`` from ``cho_factor``'s
    ``(c, lower)`` (only the factor's triangle of ``c`` is read).

    Example:
        >>> import fxad, numpy as np
        >>> import fxad.scipy.linalg as fsl
        >>> A = np.array([[4.0, 2.0], [2.0, 5.0]])
        >>> fxad.grad(lambda b: fsl.cho_solve(fsl.cho_factor(A), b).sum())(np.ones(2))
        array([0.1875, 0.125 ])
    """
    c, lower = c_and_lower
    if not any_tracer(c, b):
        return _scipy().cho_solve((c, lower), b, overwrite_b=overwrite_b,
                                  check_finite=check_finite)
    c, b = _inexact(c, b)
    _check_stacked_square("cho_solve", c)
    c, b, vector = _as_matrix_rhs(c, b)
    # A = L L^H: solve L y = b, then L^H x = y (or U^H y = b, then U x = y).
    y = lax_linalg.triangular_solve(c, b, left_side=True, lower=lower, transpose_a=not lower,
                                    conjugate_a=not lower)
    x = lax_linalg.triangular_solve(c, y, left_side=True, lower=lower, transpose_a=lower,
                                    conjugate_a=lower)
    return _unvector(x, vector)


def solve_sylvester(a, b, q):
    """``scipy.linalg.solve_sylvester``: ``x`` with ``a x + x b = q``.

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> import fxad.scipy.linalg as fsl
        >>> a, b = np.diag([1.0, 2.0]), np.diag([3.0, 4.0])
        >>> fxad.grad(lambda q: fsl.solve_sylvester(a, b, q).sum())(np.ones((2, 2)))
        array([[0.25      , 0.2       ],
               [0.2       , 0.16666667]])
    """
    if not any_tracer(a, b, q):
        return _scipy().solve_sylvester(a, b, q)
    a, b, q = _inexact(a, b, q)
    _check_stacked_square("solve_sylvester", a, b)
    batch = np.broadcast_shapes(shape_of(a)[:-2], shape_of(b)[:-2], shape_of(q)[:-2])
    a, b, q = (broadcast_to_shape(x, batch + shape_of(x)[-2:]) for x in (a, b, q))
    return lax_linalg.solve_sylvester(a, b, q)


def sqrtm(A):
    """``scipy.linalg.sqrtm``: the principal square root.  Under tracing a real
    matrix must have a real root (no eigenvalue on the negative real axis);
    pass a complex matrix otherwise.

    Example:
        >>> import fxad, numpy as np
        >>> import fxad.scipy.linalg as fsl
        >>> fxad.jvp(fsl.sqrtm, (np.diag([4.0, 9.0]),), (np.eye(2),))[1]  # 1 / (2 sqrt(a))
        array([[0.25      , 0.        ],
               [0.        , 0.16666667]])
    """
    if not any_tracer(A):
        return _scipy().sqrtm(A)
    A = _inexact(A)
    _check_stacked_square("sqrtm", A)
    return lax_linalg.sqrtm(A)


def expm(A):
    """``scipy.linalg.expm``: the matrix exponential (of each matrix of a stack).

    Example:
        >>> import fxad, numpy as np
        >>> import fxad.scipy.linalg as fsl
        >>> fxad.jvp(fsl.expm, (np.zeros((1, 1)),), (np.ones((1, 1)),))[1]
        array([[1.]])
    """
    if not any_tracer(A):
        return _scipy().expm(A)
    A = _inexact(A)
    _check_stacked_square("expm", A)
    return lax_linalg.expm(A)


def expm_frechet(A, E, method=None, compute_expm=True, check_finite=True):
    """``scipy.linalg.expm_frechet``: ``(expm(A), L(A, E))`` with ``L`` the
    Fréchet derivative of ``expm`` at ``A`` in the direction ``E`` (just ``L``
    without ``compute_expm``).

    Example:
        >>> import numpy as np
        >>> import fxad.scipy.linalg as fsl
        >>> fsl.expm_frechet(np.zeros((1, 1)), np.ones((1, 1)), compute_expm=False)
        array([[1.]])
    """
    if not any_tracer(A, E):
        return _scipy().expm_frechet(A, E, method=method, compute_expm=compute_expm,
                                     check_finite=check_finite)
    A, E = _inexact(A, E)
    _check_stacked_square("expm_frechet", A)
    A, E = _broadcast_batch(A, E)
    frechet = lax_linalg.expm(A, E)
    return (lax_linalg.expm(A), frechet) if compute_expm else frechet



# ---------------------------------------------------------------------------
# Solves, inverse, determinant

_ASSUME = {None: "gen", "gen": "gen", "general": "gen", "sym": "sym", "symmetric": "sym",
           "her": "her", "hermitian": "her", "pos": "pos", "positive definite": "pos",
           "diagonal": "diagonal", "tridiagonal": "tridiagonal", "banded": "gen",
           "upper triangular": "upper", "lower triangular": "lower"}


def _from_triangle(a, lower, hermitian):
    """The symmetric (or Hermitian) matrix whose ``lower`` (or upper) triangle is ``a``'s."""
    tri = fnp.tril(a) if lower else fnp.triu(a)
    strict = fnp.tril(a, -1) if lower else fnp.triu(a, 1)
    other = fnp.swapaxes(strict, -1, -2)
    if hermitian:
        other = fnp.conj(other)
        if fnp.iscomplexobj(a):  # LAPACK's hetrf reads the real part of the diagonal
            eye = np.eye(shape_of(a)[-1], dtype=np.finfo(a.dtype).dtype)
            tri = tri - 1j * (fnp.imag(tri) * eye)
    return tri + other


def _solve_structured(a, b, assume, lower, transposed, name):
    """``x`` with ``op(a) x = b`` for matrices ``a``, ``b`` of one batch shape."""
    if transposed:
        if fnp.iscomplexobj(a):
            raise NotImplementedError(f"fxad.scipy.linalg.{name}: transposed=True is not "
                                      "supported for complex matrices (as SciPy)")
        a = fnp.swapaxes(a, -1, -2)
        if assume in ("upper", "lower"):
            assume = "lower" if assume == "upper" else "upper"
        elif assume in ("sym", "her", "pos"):
            lower = not lower
    if assume == "gen":
        return lax_linalg.solve(a, b)
    if assume == "tridiagonal":  # SciPy's gtsv reads the three diagonals only
        n = shape_of(a)[-1]
        band = np.tri(n, n, 1) * np.tri(n, n, 1).T
        return lax_linalg.solve(a * band.astype(a.aval.dtype), b)
    if assume == "diagonal":
        d = fnp.diagonal(a, 0, -2, -1)
        return b / fnp.expand_dims(d, -1)
    if assume in ("upper", "lower"):
        return lax_linalg.triangular_solve(a, b, left_side=True, lower=assume == "lower")
    if assume == "pos":
        return cho_solve(cho_factor(a, lower=lower), b)
    return lax_linalg.solve(_from_triangle(a, lower, assume == "her"), b)


def _assume(assume_a, name):
    if assume_a not in _ASSUME:
        raise ValueError(f"fxad.scipy.linalg.{name}: {assume_a!r} is not a recognized matrix "
                         f"structure; use one of {sorted(k for k in _ASSUME if k)}")
    return _ASSUME[assume_a]


def solve(a, b, lower=False, overwrite_a=False, overwrite_b=False, check_finite=True,
          assume_a=None, transposed=False):
    """``scipy.linalg.solve``: ``x`` with ``a @ x == b`` (``a.T @ x == b`` with
    ``transposed``).  ``assume_a`` picks the structure as in SciPy:
    ``"sym"``/``"her"``/``"pos"`` read only the ``lower`` (or upper) triangle,
    ``"diagonal"`` only the diagonal, ``"tridiagonal"`` the three diagonals,
    ``"upper triangular"``/``"lower triangular"`` that triangle; ``"gen"``,
    ``"banded"`` (whose band SciPy finds from the entries) and ``None`` solve
    the full matrix (LU).  A 1-D ``b`` is a vector.

    Example:
        >>> import fxad, numpy as np
        >>> import fxad.scipy.linalg as fsl
        >>> A = np.array([[4.0, 1.0], [1.0, 3.0]])
        >>> fxad.grad(lambda b: fsl.solve(A, b, assume_a="pos").sum())(np.ones(2))
        array([0.18181818, 0.27272727])
    """
    if not any_tracer(a, b):
        return _scipy().solve(a, b, lower=lower, overwrite_a=overwrite_a,
                              overwrite_b=overwrite_b, check_finite=check_finite,
                              assume_a=assume_a, transposed=transposed)
    assume = _assume(assume_a, "solve")
    a, b = _inexact(a, b)
    _check_stacked_square("solve", a)
    a, b, vector = _as_matrix_rhs(a, b)
    return _unvector(_solve_structured(a, b, assume, lower, transposed, "solve"), vector)


def inv(a, overwrite_a=False, check_finite=True, *, assume_a=None, lower=False):
    """``scipy.linalg.inv``: ``solve(a, I)`` with ``assume_a`` and ``lower`` as
    in ``solve``.

    Example:
        >>> import fxad, numpy as np
        >>> import fxad.scipy.linalg as fsl
        >>> fxad.jvp(fsl.inv, (np.diag([2.0, 4.0]),), (np.eye(2),))[1]
        array([[-0.25  ,  0.    ],
               [ 0.    , -0.0625]])
    """
    if not any_tracer(a):
        try:
            return _scipy().inv(a, overwrite_a=overwrite_a, check_finite=check_finite,
                                assume_a=assume_a, lower=lower)
        except TypeError:  # SciPy before 1.17 has no assume_a
            if assume_a is not None:
                raise
            return _scipy().inv(a, overwrite_a=overwrite_a, check_finite=check_finite)
    assume = _assume(assume_a, "inv")
    a = _inexact(a)
    _check_stacked_square("inv", a)
    eye = np.broadcast_to(np.eye(shape_of(a)[-1], dtype=a.aval.dtype), shape_of(a))
    return _solve_structured(a, eye, assume, lower, False, "inv")


def det(a, overwrite_a=False, check_finite=True):
    """``scipy.linalg.det`` (``sign * exp(logabsdet)``, so not differentiable at
    a singular matrix; ``d det = det tr(a^-1 da)``).

    Example:
        >>> import fxad, numpy as np
        >>> import fxad.scipy.linalg as fsl
        >>> fxad.grad(fsl.det)(np.array([[1.0, 2.0], [3.0, 4.0]]))
        array([[ 4., -3.],
               [-2.,  1.]])
    """
    if not any_tracer(a):
        return _scipy().det(a, overwrite_a=overwrite_a, check_finite=check_finite)
    return fnp.linalg.det(a)


def solve_banded(l_and_u, ab, b, overwrite_ab=False, overwrite_b=False, check_finite=True):
    """``scipy.linalg.solve_banded``: ``x`` with ``A x = b`` for the banded
    ``A`` stored in ``ab`` (LAPACK's layout: ``A[i, j] = ab[u + i - j, j]``).
    Under tracing the band is expanded to the full matrix and solved by LU,
    so the derivative in ``ab`` is exact (the entries of ``ab`` outside the
    band are not read and get zero derivative).

    Example:
        >>> import fxad, numpy as np
        >>> import fxad.scipy.linalg as fsl
        >>> ab = np.array([[0.0, 1.0, 1.0], [4.0, 4.0, 4.0], [1.0, 1.0, 0.0]])
        >>> fsl.solve_banded((1, 1), ab, np.array([5.0, 6.0, 5.0]))
        array([1., 1., 1.])
    """
    if not any_tracer(ab, b):
        return _scipy().solve_banded(l_and_u, ab, b, overwrite_ab=overwrite_ab,
                                     overwrite_b=overwrite_b, check_finite=check_finite)
    nlower, nupper = (int(v) for v in l_and_u)
    ab, b = _inexact(ab, b)
    rows, n = shape_of(ab)
    if rows != nlower + nupper + 1:
        raise ValueError(f"fxad.scipy.linalg.solve_banded: invalid values for the number of "
                         f"lower and upper diagonals: l+u+1 ({nlower + nupper + 1}) does not "
                         f"equal ab.shape[0] ({rows})")
    if shape_of(b)[0] != n:
        raise ValueError(f"fxad.scipy.linalg.solve_banded: shape of ab {shape_of(ab)} and b "
                         f"{shape_of(b)} are incompatible")
    i, j = np.indices((n, n))
    band = nupper + i - j
    inside = (band >= 0) & (band < rows)
    dense = ab[np.clip(band, 0, rows - 1), j] * inside.astype(ab.aval.dtype if any_tracer(ab)
                                                              else ab.dtype)
    return fnp.linalg.solve(dense, b)


# ---------------------------------------------------------------------------
# Factorisations


def cholesky(a, lower=False, overwrite_a=False, check_finite=True):
    """``scipy.linalg.cholesky``: the upper factor ``U`` (``U^H U = a``), or
    the lower ``L`` (``L L^H = a``) with ``lower``; only that triangle of
    ``a`` is read.

    Example:
        >>> import fxad, numpy as np
        >>> import fxad.scipy.linalg as fsl
        >>> fsl.cholesky(np.array([[4.0, 2.0], [2.0, 5.0]]))
        array([[2., 1.],
               [0., 2.]])
    """
    if not any_tracer(a):
        return _scipy().cholesky(a, lower=lower, overwrite_a=overwrite_a,
                                 check_finite=check_finite)
    a = _inexact(a)
    _check_stacked_square("cholesky", a)
    return lax_linalg.cholesky(a) if lower else _H(lax_linalg.cholesky(_H(a)))


def _square_lu(a, name):
    a = _inexact(a)
    _check_stacked_square(name, a)
    return (a,) + lax_linalg.lu(a)


def _unpack_lu(packed):
    n = shape_of(packed)[-1]
    dtype = packed.aval.dtype if any_tracer(packed) else np.asarray(packed).dtype
    lower = fnp.tril(packed, -1) + np.eye(n, dtype=dtype)
    return lower, fnp.triu(packed)


def lu(a, permute_l=False, overwrite_a=False, check_finite=True, p_indices=False):
    """``scipy.linalg.lu``: ``(p, l, u)`` with ``a = p @ l @ u``; with
    ``p_indices`` the row indices ``p`` with ``a = l[p] @ u``; with
    ``permute_l`` ``(p @ l, u)``.  Under tracing ``a`` is square (a stack
    of square matrices); the derivative is that of ``l`` and ``u`` for the
    pivots chosen (they are piecewise constant).

    Example:
        >>> import fxad, numpy as np
        >>> import fxad.scipy.linalg as fsl
        >>> p, l, u = fsl.lu(np.array([[1.0, 2.0], [4.0, 4.0]]))
        >>> p, l, u
        (array([[0., 1.],
               [1., 0.]]), array([[1.  , 0.  ],
               [0.25, 1.  ]]), array([[4., 4.],
               [0., 1.]]))
    """
    if not any_tracer(a):
        return _scipy().lu(a, permute_l=permute_l, overwrite_a=overwrite_a,
                           check_finite=check_finite, p_indices=p_indices)
    if len(shape_of(a)) >= 2 and shape_of(a)[-1] != shape_of(a)[-2]:
        raise NotImplementedError("fxad.scipy.linalg.lu: a traced rectangular matrix is not "
                                  "supported (square matrices only); factor a square block or "
                                  "use fxad.scipy.linalg.qr")
    a, packed, _, perm = _square_lu(a, "lu")
    lower, upper = _unpack_lu(packed)
    # a[perm] = L U, so a = P^T L U with P @ x == x[perm].
    p = fnp.swapaxes(lax_linalg.permutation_matrix(perm, a.aval.dtype), -1, -2)
    if permute_l:
        return fnp.matmul(p, lower), upper
    if p_indices:
        return fnp.argsort(perm, axis=-1), lower, upper
    return p, lower, upper


def lu_factor(a, overwrite_a=False, check_finite=True):
    """``scipy.linalg.lu_factor``: ``(lu, piv)``, LAPACK getrf's packed factors
    and row swaps (row ``i`` was swapped with row ``piv[i]``).

    Example:
        >>> import fxad.scipy.linalg as fsl, numpy as np
        >>> fsl.lu_factor(np.array([[1.0, 2.0], [4.0, 4.0]]))[1]
        array([1, 1], dtype=int32)
    """
    if not any_tracer(a):
        return _scipy().lu_factor(a, overwrite_a=overwrite_a, check_finite=check_finite)
    _, packed, piv, _ = _square_lu(a, "lu_factor")
    return packed, piv


def lu_solve(lu_and_piv, b, trans=0, overwrite_b=False, check_finite=True):
    """``scipy.linalg.lu_solve``: ``x`` with ``op(A) x = b`` from
    ``lu_factor``'s ``(lu, piv)``, ``op`` given by ``trans`` (0: ``A``, 1:
    ``A^T``, 2: ``A^H``).

    Example:
        >>> import fxad, numpy as np
        >>> import fxad.scipy.linalg as fsl
        >>> A = np.array([[1.0, 2.0], [4.0, 4.0]])
        >>> fxad.grad(lambda b: fsl.lu_solve(fsl.lu_factor(A), b).sum())(np.ones(2))
        array([0.  , 0.25])
    """
    packed, piv = lu_and_piv
    if not any_tracer(packed, piv, b):
        return _scipy().lu_solve((packed, piv), b, trans=trans, overwrite_b=overwrite_b,
                                 check_finite=check_finite)
    if trans not in _TRANS:
        raise ValueError("Unknown trans value: expected 0, 1, 2, 'N', 'T' or 'C'")
    transpose_a, conjugate_a = _TRANS[trans]
    packed, b = _inexact(packed, b)
    _check_stacked_square("lu_solve", packed)
    n = shape_of(packed)[-1]
    if shape_of(b)[0] != n:
        raise ValueError(f"fxad.scipy.linalg.lu_solve: shapes of lu {shape_of(packed)} and b "
                         f"{shape_of(b)} are incompatible")
    dtype = packed.aval.dtype if any_tracer(packed) else packed.dtype
    perm = lax_linalg.lu_pivots_to_permutation(fnp.asarray(piv).astype(np.int32), n)
    p = lax_linalg.permutation_matrix(perm, dtype)
    packed, b, vector = _as_matrix_rhs(packed, b)
    solve_l = dict(left_side=True, lower=True, unit_diagonal=True, transpose_a=transpose_a,
                   conjugate_a=conjugate_a)
    solve_u = dict(left_side=True, lower=False, transpose_a=transpose_a,
                   conjugate_a=conjugate_a)
    if not transpose_a:  # P A = L U: x = U^-1 L^-1 P b
        y = lax_linalg.triangular_solve(packed, fnp.matmul(p, b), **solve_l)
        x = lax_linalg.triangular_solve(packed, y, **solve_u)
    else:  # op(A) = op(U) op(L) P: x = P^T op(L)^-1 op(U)^-1 b
        y = lax_linalg.triangular_solve(packed, b, **solve_u)
        x = fnp.matmul(fnp.swapaxes(p, -1, -2), lax_linalg.triangular_solve(packed, y, **solve_l))
    return _unvector(x, vector)


def eigh(a, b=None, *, lower=True, eigvals_only=False, overwrite_a=False, overwrite_b=False,
         type=1, check_finite=True, subset_by_index=None, subset_by_value=None, driver=None):  # noqa: A002
    """``scipy.linalg.eigh``: ``(w, v)`` (or ``w`` with ``eigvals_only``) of
    the Hermitian ``a`` read from its ``lower`` (or upper) triangle,
    eigenvalues ascending; ``subset_by_index=(lo, hi)`` keeps eigenvalues
    ``lo`` to ``hi`` inclusive.  With ``b`` (Hermitian positive definite,
    ``type=1``): ``a v = w b v``, reduced to a standard problem by ``b``'s
    Cholesky factor (``v`` is then ``b``-orthonormal, as SciPy's).
    Differentiable where the eigenvalues are distinct (the eigenvalues alone
    everywhere).  Each eigenvector's sign is LAPACK's choice, and traced
    calls use NumPy's driver (evd), so a sign may differ from an eager
    SciPy call (evr).  ``subset_by_value`` (a data-dependent output size) and
    other ``type`` values work only without tracers.

    Example:
        >>> import fxad, numpy as np
        >>> import fxad.scipy.linalg as fsl
        >>> fxad.grad(lambda a: fsl.eigh(a, eigvals_only=True)[-1])(np.diag([1.0, 2.0]))
        array([[0., 0.],
               [0., 1.]])
    """
    if not any_tracer(a, b):
        return _scipy().eigh(a, b, lower=lower, eigvals_only=eigvals_only,
                             overwrite_a=overwrite_a, overwrite_b=overwrite_b, type=type,
                             check_finite=check_finite, subset_by_index=subset_by_index,
                             subset_by_value=subset_by_value, driver=driver)
    if subset_by_value is not None:
        raise NotImplementedError("fxad.scipy.linalg.eigh: subset_by_value gives a result "
                                  "whose size depends on the values, which tracing cannot "
                                  "stage; use subset_by_index or select after the call")
    if b is not None and type != 1:
        raise NotImplementedError(f"fxad.scipy.linalg.eigh: type={type} of the generalized "
                                  "problem is not supported for traced arrays; use type=1")
    a = _inexact(a) if b is None else _inexact(a, b)[0]
    _check_stacked_square("eigh", a)
    full = _from_triangle(a, lower, True)
    if b is not None:
        a, b = _inexact(a, b)
        _check_stacked_square("eigh", b)
        chol = lax_linalg.cholesky(_from_triangle(b, lower, True))
        # L^-1 A L^-H u = w u, v = L^-H u.
        tmp = lax_linalg.triangular_solve(chol, full, left_side=True, lower=True)
        full = lax_linalg.triangular_solve(chol, tmp, left_side=False, lower=True,
                                           transpose_a=True, conjugate_a=True)
    out = lax_linalg.eigh(full, lower=True, compute_eigenvectors=not eigvals_only)
    w, v = (out, None) if eigvals_only else (out[1], out[0])
    if v is not None and b is not None:
        v = lax_linalg.triangular_solve(chol, v, left_side=True, lower=True, transpose_a=True,
                                        conjugate_a=True)
    if subset_by_index is not None:
        n = shape_of(a)[-1]
        lo, hi = (int(k) for k in subset_by_index)
        if not 0 <= lo <= hi < n:
            raise ValueError(f"fxad.scipy.linalg.eigh: subset_by_index={subset_by_index!r} "
                             f"must satisfy 0 <= lo <= hi < {n}")
        w = w[..., lo:hi + 1]
        v = None if v is None else v[..., lo:hi + 1]
    return w if eigvals_only else (w, v)


def svd(a, full_matrices=True, compute_uv=True, overwrite_a=False, check_finite=True,
        lapack_driver="gesdd"):
    """``scipy.linalg.svd``: ``(U, s, Vh)``, or ``s`` without ``compute_uv``
    (the primitive ``svd``: differentiable at distinct nonzero singular
    values, ``s`` alone at distinct ones).

    Example:
        >>> import fxad, numpy as np
        >>> import fxad.scipy.linalg as fsl
        >>> fxad.grad(lambda a: fsl.svd(a, compute_uv=False)[0])(np.diag([3.0, 1.0]))
        array([[1., 0.],
               [0., 0.]])
    """
    if not any_tracer(a):
        return _scipy().svd(a, full_matrices=full_matrices, compute_uv=compute_uv,
                            overwrite_a=overwrite_a, check_finite=check_finite,
                            lapack_driver=lapack_driver)
    if lapack_driver not in ("gesdd", "gesvd"):
        raise ValueError(f'lapack_driver must be "gesdd" or "gesvd", not "{lapack_driver}"')
    out = fnp.linalg.svd(a, full_matrices=full_matrices, compute_uv=compute_uv)
    return tuple(out) if compute_uv else out


def qr(a, overwrite_a=False, lwork=None, mode="full", pivoting=False, check_finite=True):
    """``scipy.linalg.qr``: ``(Q, R)`` with ``mode`` ``"full"`` (``Q`` square)
    or ``"economic"``, ``(R,)`` with ``"r"``; ``"raw"`` and ``pivoting`` only
    without tracers.  Differentiable where the leading square block has full
    rank.

    Example:
        >>> import fxad, numpy as np
        >>> import fxad.scipy.linalg as fsl
        >>> fsl.qr(np.array([[3.0], [4.0]]), mode="economic")[1]
        array([[-5.]])
    """
    if not any_tracer(a):
        return _scipy().qr(a, overwrite_a=overwrite_a, lwork=lwork, mode=mode,
                           pivoting=pivoting, check_finite=check_finite)
    if mode not in ("full", "r", "economic", "raw"):
        raise ValueError("Mode argument should be one of ['full', 'r', 'economic', 'raw']")
    if mode == "raw" or pivoting:
        raise NotImplementedError("fxad.scipy.linalg.qr: mode='raw' and pivoting=True (a "
                                  "data-dependent column order) are not supported for traced "
                                  "arrays; use mode='full' or 'economic' without pivoting")
    a = _inexact(a)
    _check_stacked_2d("qr", a)
    q, r = lax_linalg.qr(a, full_matrices=mode == "full")
    return (r,) if mode == "r" else (q, r)


def schur(a, output="real", lwork=None, overwrite_a=False, sort=None, check_finite=True):
    """``scipy.linalg.schur`` for arrays: ``(T, Z)`` with ``a = Z T Z^H``.  A
    traced ``a`` raises: the Schur vectors are not unique (each may be turned
    by a phase, and any basis of an invariant subspace of repeated
    eigenvalues serves), so ``(T, Z)`` has no derivative in general; the
    spectrum's derivative is ``eig``'s or ``eigh``'s.

    Example:
        >>> import fxad.scipy.linalg as fsl, numpy as np
        >>> T, Z = fsl.schur(np.array([[1.0, 2.0], [0.0, 3.0]]))
        >>> T
        array([[1., 2.],
               [0., 3.]])
    """
    if any_tracer(a):
        raise NotImplementedError("fxad.scipy.linalg.schur: the Schur form has no derivative "
                                  "in general (its vectors are not unique); differentiate the "
                                  "eigenvalues with fxad.numpy.linalg.eig / "
                                  "fxad.scipy.linalg.eigh instead, or call scipy.linalg.schur "
                                  "on a concrete array")
    return _scipy().schur(a, output=output, lwork=lwork, overwrite_a=overwrite_a, sort=sort,
                          check_finite=check_finite)


# ---------------------------------------------------------------------------
# Special matrices


def block_diag(*arrs):
    """``scipy.linalg.block_diag``: the arrays (scalars and 1-D arrays count as
    one row) on the diagonal of a zero matrix; linear in each.

    Example:
        >>> import fxad.scipy.linalg as fsl, numpy as np
        >>> fsl.block_diag(np.array([[1.0, 2.0]]), 3.0)
        array([[1., 2., 0.],
               [0., 0., 3.]])
    """
    if not any_tracer(*arrs):
        return _scipy().block_diag(*arrs)
    blocks = []
    for k, x in enumerate(arrs):
        x = fnp.asarray(x)
        if x.ndim > 2:
            raise ValueError(f"arguments in the following positions have dimension greater "
                             f"than 2: [{k}]")
        blocks.append(fnp.atleast_2d(x))
    dtype = np.result_type(*[b.dtype for b in blocks])
    widths = [b.shape[1] for b in blocks]
    total = int(sum(widths))
    rows, start = [], 0
    for blk, w in zip(blocks, widths):
        rows.append(fnp.pad(blk.astype(dtype), ((0, 0), (start, total - start - w))))
        start += w
    return fnp.concatenate(rows, axis=0)


def toeplitz(c, r=None):
    """``scipy.linalg.toeplitz``: first column ``c``, first row ``r`` (default
    ``conj(c)``; ``r[0]`` is ignored); 1-D arguments (others are flattened,
    as SciPy before 1.17).  Linear in ``c`` and ``r``.

    Example:
        >>> import fxad.scipy.linalg as fsl, numpy as np
        >>> fsl.toeplitz(np.array([1.0, 2.0, 3.0]), np.array([1.0, 4.0]))
        array([[1., 4.],
               [2., 1.],
               [3., 2.]])
    """
    if not any_tracer(c, r):
        c1 = np.ravel(c)
        return _scipy().toeplitz(c1, None if r is None else np.ravel(r))
    c = fnp.ravel(fnp.asarray(c))
    r = fnp.conj(c) if r is None else fnp.ravel(fnp.asarray(r))
    m, n = c.shape[0], r.shape[0]
    vals = fnp.concatenate([c[::-1], r[1:]])
    i, j = np.indices((m, n))
    return vals[m - 1 - i + j]


# Public functions take lists holding tracers and return NumPy's result types
# (fxad/numpy/_util.py: numpy_function); keep this after the last function.
_install_numpy_functions(globals())
