"""``fxad.scipy.linalg``: differentiable ``scipy.linalg`` (a selection).

Without tracers each function is SciPy's own call (SciPy is imported then,
not by ``import fxad``); with tracers it binds the primitives of
``fxad.lax.linalg``, differentiable in forward and reverse mode to any
order:

* ``solve_triangular``, ``cho_factor``, ``cho_solve``: triangular solves and
  the Cholesky factorisation (NumPy's LAPACK computes their values);
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

from fxad.lax import linalg as lax_linalg
from fxad.lax.linalg import _H
from fxad.numpy import _core as _fc
from fxad.numpy import _shape as _fs
from fxad.numpy._util import any_tracer, broadcast_to_shape, shape_of
from fxad.numpy._util import install_numpy_functions as _install_numpy_functions
from fxad.numpy.linalg import _broadcast_batch, _check_stacked_square, _inexact

__all__ = ["cho_factor", "cho_solve", "expm", "expm_frechet", "solve_sylvester",
           "solve_triangular", "sqrtm"]


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


# Public functions take lists holding tracers and return NumPy's result types
# (fxad/numpy/_util.py: numpy_function); keep this after the last function.
_install_numpy_functions(globals())
