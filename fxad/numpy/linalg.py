"""``fxad.numpy.linalg``: differentiable ``numpy.linalg``.

As everywhere in ``fxad.numpy``, a call without tracers is NumPy's own call;
with tracers the arguments are converted to a floating dtype (integers to
float64, as NumPy), broadcast over their leading (batch) axes, and the
primitives of ``fxad.lax.linalg`` are bound.  Every function is
differentiable in forward and reverse mode, to any order.

Where a derivative needs more than the function itself:

* ``eigh``/``eigvalsh``/``cholesky`` read one triangle of the matrix, as
  NumPy does; their derivatives are those of that reading (the other
  triangle gets a zero gradient).
* Eigenvectors (``eigh``, ``eig``) and singular vectors (``svd``) are
  differentiable where the eigenvalues / singular values are distinct
  (repeated ones give infinities and NaNs, as in JAX); differentiate
  functions that do not depend on their signs or phases (``V diag(c) V^H``,
  eigenvalues, singular values, norms).  ``pinv`` has its own rule, right at
  repeated singular values too.
* ``eig`` returns complex arrays under tracing (NumPy returns real ones when
  every eigenvalue happens to be real, which a traced program cannot know).
* ``det`` is ``sign * exp(logabsdet)``: its derivative at a singular matrix
  is not available (``d det = det tr(A^-1 dA)``).
* ``svd(full_matrices=True)`` of a non-square matrix: the extra columns of
  ``u`` (or rows of ``vh``) are not unique; their derivative is the least
  motion keeping them orthonormal.  ``qr(mode="complete")`` likewise.

Example:
    >>> import fxad, fxad.numpy as fnp, numpy as np
    >>> A = np.array([[2.0, 1.0], [1.0, 3.0]])
    >>> fxad.grad(lambda a: fnp.linalg.slogdet(a).logabsdet)(A)  # A^-T
    array([[ 0.6, -0.2],
           [-0.2,  0.4]])
"""

from __future__ import annotations

import operator
from collections import namedtuple

import numpy as np

from fxad.lax import linalg as lax_linalg
from fxad.numpy import _core as _fc
from fxad.numpy import _linalg_ops as _ops
from fxad.numpy import _shape as _fs
from fxad.numpy._linalg_ops import dot as _dot
from fxad.numpy._linalg_ops import matmul
from fxad.numpy._util import (
    any_tracer,
    asarray_value,
    broadcast_to_shape,
    canonical_axis,
    convert,
    result_type,
    shape_of,
    to_inexact,
)

__all__ = [
    "EigResult", "EighResult", "LinAlgError", "QRResult", "SVDResult", "SlogdetResult",
    "cholesky", "cond", "det", "diagonal", "eig", "eigh", "eigvals", "eigvalsh", "inv",
    "lstsq", "matmul", "matrix_norm", "matrix_power", "matrix_rank", "matrix_transpose",
    "multi_dot", "norm", "outer", "pinv", "qr", "slogdet", "solve", "svd", "svdvals", "tensordot",
    "tensorinv", "tensorsolve", "trace", "vecdot", "vector_norm",
]

LinAlgError = np.linalg.LinAlgError


def _result_types():
    try:  # NumPy's own namedtuples, so traced and eager results look alike
        from numpy.linalg import _linalg

        return (_linalg.EigResult, _linalg.EighResult, _linalg.QRResult, _linalg.SlogdetResult,
                _linalg.SVDResult)
    except (ImportError, AttributeError):  # pragma: no cover - other NumPy versions
        return (namedtuple("EigResult", "eigenvalues eigenvectors"),
                namedtuple("EighResult", "eigenvalues eigenvectors"),
                namedtuple("QRResult", "Q R"),
                namedtuple("SlogdetResult", "sign logabsdet"),
                namedtuple("SVDResult", "U S Vh"))


EigResult, EighResult, QRResult, SlogdetResult, SVDResult = _result_types()

_NoValue = object()

# ---------------------------------------------------------------------------
# Helpers


def _inexact(*args):
    """Arguments in their common floating dtype (integers and booleans to float64)."""
    args = [asarray_value(a) for a in args]
    dtype = to_inexact(result_type(*args))
    if dtype == np.float16:
        raise TypeError("array type float16 is unsupported in linalg")
    out = [convert(a if any_tracer(a) else np.asarray(a), dtype) for a in args]
    return out[0] if len(out) == 1 else out


def _check_stacked_2d(name, *arrays):
    for a in arrays:
        if len(shape_of(a)) < 2:
            raise LinAlgError(f"{len(shape_of(a))}-dimensional array given to "
                              f"fxad.numpy.linalg.{name}. Array must be at least two-dimensional")


def _check_stacked_square(name, *arrays):
    _check_stacked_2d(name, *arrays)
    for a in arrays:
        m, n = shape_of(a)[-2:]
        if m != n:
            raise LinAlgError(f"fxad.numpy.linalg.{name}: last 2 dimensions of the array must "
                              "be square")


def _broadcast_batch(a, b):
    """``a`` and ``b`` (stacks of matrices) broadcast to one batch shape."""
    sa, sb = shape_of(a), shape_of(b)
    batch = np.broadcast_shapes(sa[:-2], sb[:-2])
    return broadcast_to_shape(a, batch + sa[-2:]), broadcast_to_shape(b, batch + sb[-2:])


def _eye_like(a):
    shape = shape_of(a)
    dtype = a.aval.dtype if any_tracer(a) else np.asarray(a).dtype
    return np.broadcast_to(np.eye(shape[-1], dtype=dtype), shape)


def _matrix_T(a):
    return _fs.swapaxes(a, -1, -2)


# ---------------------------------------------------------------------------
# Solving and inverting


def solve(a, b):
    """``numpy.linalg.solve``: ``x`` with ``a @ x == b``.  As in NumPy 2, ``b``
    is a vector only when it is 1-D; otherwise a stack of matrices.

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> A = np.array([[3.0, 1.0], [1.0, 2.0]])
        >>> fxad.grad(lambda b: fnp.linalg.solve(A, b).sum())(np.ones(2))  # A^-T 1
        array([0.2, 0.4])
    """
    if not any_tracer(a, b):
        return np.linalg.solve(a, b)
    a, b = _inexact(a, b)
    _check_stacked_square("solve", a)
    vector = len(shape_of(b)) == 1
    if vector:
        b = _fs.reshape(b, shape_of(b) + (1,))
    a, b = _broadcast_batch(a, b)
    x = lax_linalg.solve(a, b)
    return _fs.reshape(x, shape_of(x)[:-1]) if vector else x


def inv(a):
    """``numpy.linalg.inv`` (``solve(a, I)``, as NumPy computes it).

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> A = np.array([[2.0, 0.0], [0.0, 4.0]])
        >>> fxad.jvp(fnp.linalg.inv, (A,), (np.eye(2),))[1]  # -A^-1 dA A^-1
        array([[-0.25  ,  0.    ],
               [ 0.    , -0.0625]])
    """
    if not any_tracer(a):
        return np.linalg.inv(a)
    a = _inexact(a)
    _check_stacked_square("inv", a)
    return lax_linalg.solve(a, _eye_like(a))


def slogdet(a):
    """``numpy.linalg.slogdet``: ``(sign, logabsdet)``; ``d logabsdet = tr(a^-1 da)``.

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> fxad.grad(lambda a: fnp.linalg.slogdet(a)[1])(np.diag([2.0, 4.0]))
        array([[0.5 , 0.  ],
               [0.  , 0.25]])
    """
    if not any_tracer(a):
        return np.linalg.slogdet(a)
    a = _inexact(a)
    _check_stacked_square("slogdet", a)
    return SlogdetResult(*lax_linalg.slogdet(a))


def det(a):
    """``numpy.linalg.det``, as ``sign * exp(logabsdet)`` (so not differentiable
    at a singular matrix).

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> fxad.grad(fnp.linalg.det)(np.array([[1.0, 2.0], [3.0, 4.0]]))  # det(a) a^-T
        array([[ 4., -3.],
               [-2.,  1.]])
    """
    if not any_tracer(a):
        return np.linalg.det(a)
    sign, logabsdet = slogdet(a)
    return _fc.multiply(sign, _fc.exp(logabsdet))


def matrix_power(a, n):
    """``numpy.linalg.matrix_power``: repeated squaring, as NumPy (negative
    powers invert first).

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> fxad.grad(lambda a: fnp.linalg.matrix_power(a, 3).sum())(np.eye(2))
        array([[3., 3.],
               [3., 3.]])
    """
    if not any_tracer(a):
        return np.linalg.matrix_power(a, n)
    try:
        n = operator.index(n)
    except TypeError as e:
        raise TypeError("exponent must be an integer") from e
    _check_stacked_square("matrix_power", a)
    if n == 0:
        return np.array(_eye_like(a))
    if n < 0:
        a, n = inv(a), -n
    if n == 1:
        return a
    if n == 2:
        return matmul(a, a)
    if n == 3:
        return matmul(matmul(a, a), a)
    z = result = None
    while n > 0:
        z = a if z is None else matmul(z, z)
        n, bit = divmod(n, 2)
        if bit:
            result = z if result is None else matmul(result, z)
    return result


def _chain_order(shapes):
    """NumPy's optimal parenthesisation of a chain of matrices (dynamic
    programming on the cost of the products): ``split[i][j]``."""
    n = len(shapes)
    p = [s[0] for s in shapes] + [shapes[-1][1]]
    cost = [[0.0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = np.inf
            for k in range(i, j):
                q = cost[i][k] + cost[k + 1][j] + p[i] * p[k + 1] * p[j + 1]
                if q < cost[i][j]:
                    cost[i][j], split[i][j] = q, k
    return split


def multi_dot(arrays, *, out=None):
    """``numpy.linalg.multi_dot``: the product of a chain of matrices in the
    cheapest order (NumPy's order, so values agree); the first and last may
    be vectors.

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> A, B = np.eye(2), np.array([[1.0, 2.0], [3.0, 4.0]])
        >>> fxad.grad(lambda v: fnp.linalg.multi_dot([v, A, B, v]))(np.ones(2))  # (B + B^T) v
        array([ 7., 13.])
    """
    arrays = list(arrays)
    if not any_tracer(*arrays):
        return np.linalg.multi_dot(arrays) if out is None else \
            np.linalg.multi_dot(arrays, out=out)
    if out is not None:
        raise TypeError("fxad.numpy.linalg.multi_dot: out= is not supported on traced values")
    n = len(arrays)
    if n < 2:
        raise ValueError("Expecting at least two arrays.")
    if n == 2:
        return _dot(arrays[0], arrays[1])
    arrays = [asarray_value(a) for a in arrays]
    first, last = len(shape_of(arrays[0])), len(shape_of(arrays[-1]))
    if first == 1:
        arrays[0] = _fs.reshape(arrays[0], (1, -1))
    if last == 1:
        arrays[-1] = _fs.reshape(arrays[-1], (-1, 1))
    for a in arrays:
        if len(shape_of(a)) != 2:
            raise LinAlgError(f"{len(shape_of(a))}-dimensional array given. Array must be "
                              "two-dimensional")
    shapes = [shape_of(a) for a in arrays]
    if n == 3:
        (a0, a1), (_, c1) = shapes[0], shapes[2]
        b1 = shapes[1][1]
        if a0 * b1 * (a1 + c1) < a1 * c1 * (a0 + b1):
            result = _dot(_dot(arrays[0], arrays[1]), arrays[2])
        else:
            result = _dot(arrays[0], _dot(arrays[1], arrays[2]))
    else:
        split = _chain_order(shapes)

        def product(i, j):
            if i == j:
                return arrays[i]
            k = split[i][j]
            return _dot(product(i, k), product(k + 1, j))

        result = product(0, n - 1)
    if first == 1 and last == 1:
        return _fs.reshape(result, ())
    if first == 1 or last == 1:
        return _fs.ravel(result)
    return result


# ---------------------------------------------------------------------------
# Factorisations


def cholesky(a, /, *, upper=False):
    """``numpy.linalg.cholesky``: ``L`` with ``L L^H = a`` (``upper=True``:
    ``U`` with ``U^H U = a``), reading only that triangle of ``a``.

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> fxad.jvp(fnp.linalg.cholesky, (np.array([[4.0]]),), (np.array([[1.0]]),))[1]
        array([[0.25]])
    """
    if not any_tracer(a):
        return np.linalg.cholesky(a, upper=upper)
    a = _inexact(a)
    _check_stacked_square("cholesky", a)
    if upper:  # the upper triangle of a is the lower triangle of a^H
        return _fc.conj(_matrix_T(lax_linalg.cholesky(_fc.conj(_matrix_T(a)))))
    return lax_linalg.cholesky(a)


def _uplo(UPLO):
    if UPLO not in ("L", "U"):
        raise ValueError("UPLO argument must be 'L' or 'U'")
    return UPLO == "L"


def eigh(a, UPLO="L"):
    """``numpy.linalg.eigh``: ``(eigenvalues, eigenvectors)`` of the Hermitian
    matrix read from the lower (``UPLO="L"``) or upper triangle of ``a``.

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> A = np.array([[2.0, 1.0], [1.0, 2.0]])
        >>> fxad.grad(lambda a: fnp.linalg.eigh(a).eigenvalues[-1])(A)  # v v^T, lower part
        array([[0.5, 0. ],
               [1. , 0.5]])
    """
    if not any_tracer(a):
        return np.linalg.eigh(a, UPLO=UPLO)
    lower = _uplo(UPLO)
    a = _inexact(a)
    _check_stacked_square("eigh", a)
    v, w = lax_linalg.eigh(a, lower=lower)
    return EighResult(w, v)


def eigvalsh(a, UPLO="L"):
    """``numpy.linalg.eigvalsh``: the eigenvalues of ``eigh``, ascending (their
    derivative is finite at repeated eigenvalues too).

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> fxad.grad(lambda a: fnp.linalg.eigvalsh(a).sum())(np.diag([1.0, 2.0]))  # trace
        array([[1., 0.],
               [0., 1.]])
    """
    if not any_tracer(a):
        return np.linalg.eigvalsh(a, UPLO=UPLO)
    lower = _uplo(UPLO)
    a = _inexact(a)
    _check_stacked_square("eigvalsh", a)
    return lax_linalg.eigh(a, lower=lower, compute_eigenvectors=False)


def eig(a):
    """``numpy.linalg.eig``: ``(eigenvalues, eigenvectors)`` of a general
    matrix; complex under tracing.  Eigenvectors are differentiable where the
    eigenvalues are distinct (each keeps unit norm and a real largest entry).

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> A = np.array([[1.0, 2.0], [0.0, 3.0]])
        >>> fxad.grad(lambda a: fnp.real(fnp.linalg.eig(a).eigenvalues).prod())(A)  # det(a) a^-T
        array([[ 3.,  0.],
               [-2.,  1.]])
    """
    if not any_tracer(a):
        return np.linalg.eig(a)
    a = _inexact(a)
    _check_stacked_square("eig", a)
    return EigResult(*lax_linalg.eig(a))


def eigvals(a):
    """``numpy.linalg.eigvals``: the eigenvalues of ``eig`` (complex under tracing).

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> fxad.grad(lambda a: fnp.real(fnp.linalg.eigvals(a)).sum())(np.eye(2))
        array([[1., 0.],
               [0., 1.]])
    """
    if not any_tracer(a):
        return np.linalg.eigvals(a)
    a = _inexact(a)
    _check_stacked_square("eigvals", a)
    return lax_linalg.eig(a, compute_right_eigenvectors=False)


def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """``numpy.linalg.svd``: ``(U, S, Vh)``, or ``S`` without ``compute_uv``.
    Under tracing ``hermitian`` only hints (the general SVD is used: the same
    singular values, singular vectors equal up to sign).

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> fxad.grad(lambda a: fnp.linalg.svd(a, compute_uv=False)[0])(np.diag([3.0, -1.0]))
        array([[1., 0.],
               [0., 0.]])
    """
    if not any_tracer(a):
        return np.linalg.svd(a, full_matrices=full_matrices, compute_uv=compute_uv,
                             hermitian=hermitian)
    a = _inexact(a)
    _check_stacked_2d("svd", a)
    out = lax_linalg.svd(a, full_matrices=full_matrices, compute_uv=compute_uv)
    return SVDResult(*out) if compute_uv else out


def svdvals(x, /):
    """``numpy.linalg.svdvals``: the singular values, descending.

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.linalg.svdvals(np.diag([1.0, -2.0]))
        array([2., 1.])
    """
    if not any_tracer(x):
        return np.linalg.svdvals(x)
    return svd(x, compute_uv=False)


def qr(a, mode="reduced"):
    """``numpy.linalg.qr`` with ``mode`` ``"reduced"``, ``"complete"`` or ``"r"``
    (``"raw"`` only without tracers).  Differentiable where ``a``'s leading
    square block (or ``a`` itself, when tall) has full rank.

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> fxad.jvp(lambda a: fnp.linalg.qr(a).R, (np.eye(2),), (np.eye(2),))[1]
        array([[1., 0.],
               [0., 1.]])
    """
    if not any_tracer(a):
        return np.linalg.qr(a, mode=mode)
    if mode not in ("reduced", "complete", "r", "raw"):
        raise ValueError(f"Unrecognized mode '{mode}'")
    if mode == "raw":
        raise NotImplementedError("fxad.numpy.linalg.qr: mode='raw' (Householder reflectors) "
                                  "is not differentiable; use mode='reduced'")
    a = _inexact(a)
    _check_stacked_2d("qr", a)
    q, r = lax_linalg.qr(a, full_matrices=mode == "complete")
    return r if mode == "r" else QRResult(q, r)


# ---------------------------------------------------------------------------
# Composites of the factorisations


def pinv(a, rcond=None, hermitian=False, *, rtol=_NoValue):
    """``numpy.linalg.pinv``: the pseudo-inverse, singular values at or below
    ``rcond * max(s)`` dropped.  Its derivative is that of a matrix of locally
    constant rank (Golub & Pereyra), repeated singular values included.

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> fxad.jvp(fnp.linalg.pinv, (np.diag([2.0, 0.0]),), (np.diag([1.0, 0.0]),))[1]
        array([[-0.25,  0.  ],
               [ 0.  ,  0.  ]])
    """
    if not any_tracer(a, rcond) and (rtol is _NoValue or not any_tracer(rtol)):
        kw = {} if rtol is _NoValue else {"rtol": rtol}
        return np.linalg.pinv(a, rcond, hermitian, **kw)
    a = _inexact(a)
    _check_stacked_2d("pinv", a)
    dtype = a.aval.dtype
    if rcond is None:
        if rtol is _NoValue:
            rcond = 1e-15
        elif rtol is None:
            rcond = max(shape_of(a)[-2:]) * np.finfo(dtype).eps
        else:
            rcond = rtol
    elif rtol is not _NoValue:
        raise ValueError("`rtol` and `rcond` can't be both set.")
    if np.ndim(rcond) == 0 and not any_tracer(rcond):
        return lax_linalg.pinv(a, float(rcond))
    # A cutoff per matrix: NumPy's computation, through the SVD (whose
    # derivative needs distinct singular values).
    *batch, m, n = shape_of(a)
    if m == 0 or n == 0:
        return np.empty(tuple(batch) + (n, m), dtype)
    u, s, vt = svd(_fc.conj(a), full_matrices=False)
    rcond = asarray_value(rcond)
    cutoff = _fc.multiply(_fs.expand_dims(rcond, -1), _fc.max(s, axis=-1, keepdims=True))
    large = _fc.greater(s, cutoff)
    safe = _fs.where(large, s, 1.0)
    s_inv = _fs.where(large, _fc.divide(1.0, safe), 0.0)
    return matmul(_matrix_T(vt), _fc.multiply(_fs.expand_dims(s_inv, -1), _matrix_T(u)))


def lstsq(a, b, rcond=None):
    """``numpy.linalg.lstsq``: ``(x, residuals, rank, s)`` with ``x`` the
    minimum-norm least-squares solution ``pinv(a, rcond) @ b`` (``rcond``
    None: ``eps * max(M, N)``, NumPy 2's default).  ``x`` is differentiable
    where the rank is locally constant (full rank included: the pseudo-
    inverse's Golub-Pereyra derivative), ``residuals`` and ``s`` too.

    NumPy returns empty residuals when the rank is below N or M <= N; under
    ``jit`` the rank is not known while tracing, so for M > N the residuals
    ``sum |b - a x|^2`` are always returned there (JAX's convention); with
    concrete values (``grad``, ``jvp``) NumPy's shapes are kept.

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> a = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]])
        >>> g = fxad.grad(lambda y: fnp.linalg.lstsq(a, y)[0][1])(np.array([0.0, 1.0, 2.0]))
        >>> np.round(g, 12) + 0.0  # the slope's weights
        array([-0.5,  0. ,  0.5])
    """
    if not any_tracer(a, b):
        return np.linalg.lstsq(a, b, rcond=rcond)
    a, b = _inexact(a, b)
    if len(shape_of(a)) != 2:
        raise LinAlgError(f"{len(shape_of(a))}-dimensional array given. Array must be "
                          "two-dimensional")
    vector = len(shape_of(b)) == 1
    if len(shape_of(b)) not in (1, 2):
        raise LinAlgError(f"{len(shape_of(b))}-dimensional array given. Array must be one or "
                          "two-dimensional")
    m, n = shape_of(a)
    if shape_of(b)[0] != m:
        raise LinAlgError("Incompatible dimensions")
    if rcond is None:
        rcond = np.finfo(result_type(a)).eps * max(m, n)
    if any_tracer(rcond):
        raise TypeError("fxad.numpy.linalg.lstsq: rcond must be a concrete number")
    x = matmul(lax_linalg.pinv(a, float(rcond)), b)
    s = lax_linalg.svd(a, full_matrices=False, compute_uv=False) if min(m, n) else \
        np.zeros((0,), np.finfo(result_type(a)).dtype)
    cutoff = _fc.multiply(float(rcond), _fc.max(s)) if min(m, n) else 0.0
    rank = _fc.sum(_fc.greater(s, cutoff)) if min(m, n) else np.int64(0)
    rank = _fc.astype(rank, np.int32)
    concrete = rank.to_concrete_value() if hasattr(rank, "to_concrete_value") else rank
    if m > n and (concrete is None or int(concrete) == n):
        r = _fc.subtract(b, matmul(a, x))
        resid = _fc.sum(_fc.real(_fc.multiply(_fc.conj(r), r)), axis=0)
        resid = _fs.reshape(resid, (1,)) if vector else resid
    else:
        resid = np.zeros((0,), np.finfo(result_type(a)).dtype)
    return x, resid, rank, s


def _vector_norm(x, ord, axis, keepdims):
    if ord == np.inf:
        return _fc.max(_fc.abs(x), axis=axis, keepdims=keepdims)
    if ord == -np.inf:
        return _fc.min(_fc.abs(x), axis=axis, keepdims=keepdims)
    if ord == 0:
        real = np.empty((), x.aval.dtype).real.dtype
        return _fc.sum(_fc.astype(_fc.not_equal(x, 0), real), axis=axis, keepdims=keepdims)
    if ord == 1:
        return _fc.sum(_fc.abs(x), axis=axis, keepdims=keepdims)
    if ord is None or ord == 2:
        return _fc.sqrt(_fc.sum(_fc.real(_fc.multiply(_fc.conj(x), x)), axis=axis,
                                keepdims=keepdims))
    if isinstance(ord, str):
        raise ValueError(f"Invalid norm order '{ord}' for vectors")
    s = _fc.sum(_fc.power(_fc.abs(x), ord), axis=axis, keepdims=keepdims)
    return _fc.power(s, np.reciprocal(np.asarray(ord, np.result_type(float, x.aval.dtype)).real))


def _svd_norm(x, row, col, reduce):
    s = svd(_fs.moveaxis(x, (row, col), (-2, -1)), compute_uv=False)
    return reduce(s, axis=-1)


def _matrix_norm(x, ord, axis, keepdims):
    nd = len(shape_of(x))
    row, col = (canonical_axis(ax, nd) for ax in axis)
    if row == col:
        raise ValueError("Duplicate axes given.")
    if ord == 2:
        ret = _svd_norm(x, row, col, _fc.max)
    elif ord == -2:
        ret = _svd_norm(x, row, col, _fc.min)
    elif ord in (1, -1):
        red = _fc.max if ord == 1 else _fc.min
        ret = red(_fc.sum(_fc.abs(x), axis=row), axis=col - 1 if col > row else col)
    elif ord in (np.inf, -np.inf):
        red = _fc.max if ord == np.inf else _fc.min
        ret = red(_fc.sum(_fc.abs(x), axis=col), axis=row - 1 if row > col else row)
    elif ord in (None, "fro", "f"):
        ret = _fc.sqrt(_fc.sum(_fc.real(_fc.multiply(_fc.conj(x), x)), axis=(row, col)))
    elif ord == "nuc":
        ret = _svd_norm(x, row, col, _fc.sum)
    else:
        raise ValueError("Invalid norm order for matrices.")
    if keepdims:
        shape = list(shape_of(x))
        shape[row] = shape[col] = 1
        ret = _fs.reshape(ret, tuple(shape))
    return ret


def norm(x, ord=None, axis=None, keepdims=False):
    """``numpy.linalg.norm``: vector norms (``ord`` in inf, -inf, 0, 1, 2, any
    p) and matrix norms (``"fro"``, ``"nuc"``, 1, -1, 2, -2, inf, -inf) over
    ``axis`` (an int or a pair), as NumPy.  The 2-norm's derivative at 0 is
    NaN (that of ``sqrt``); the matrix 2-norms and ``"nuc"`` go through the
    SVD.

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> fxad.grad(fnp.linalg.norm)(np.array([3.0, 4.0]))
        array([0.6, 0.8])
        >>> fxad.grad(lambda x: fnp.linalg.norm(x, ord=np.inf))(np.array([3.0, -4.0]))
        array([ 0., -1.])
    """
    if not any_tracer(x):
        return np.linalg.norm(x, ord, axis, keepdims)
    x = _inexact(x)
    nd = len(shape_of(x))
    if axis is None:
        if ord is None or (ord in ("f", "fro") and nd == 2) or (ord == 2 and nd == 1):
            ret = _vector_norm(_fs.ravel(x), None, None, False)
            return _fs.reshape(ret, (1,) * nd) if keepdims else ret
        axis = tuple(range(nd))
    elif not isinstance(axis, tuple):
        try:
            axis = (operator.index(axis),)
        except TypeError as e:
            raise TypeError("'axis' must be None, an integer or a tuple of integers") from e
    if len(axis) == 1:
        return _vector_norm(x, ord, axis[0], keepdims)
    if len(axis) == 2:
        return _matrix_norm(x, ord, axis, keepdims)
    raise ValueError("Improper number of dimensions to norm.")


def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    """``numpy.linalg.vector_norm`` (the array API's): ``axis=None`` flattens.

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> fxad.grad(lambda x: fnp.linalg.vector_norm(x, ord=1))(np.array([[1.0, -2.0]]))
        array([[ 1., -1.]])
    """
    if not any_tracer(x):
        return np.linalg.vector_norm(x, axis=axis, keepdims=keepdims, ord=ord)
    x = _inexact(x)
    shape = shape_of(x)
    if axis is None:
        ret = _vector_norm(_fs.ravel(x), ord, 0, False)
        return _fs.reshape(ret, (1,) * len(shape)) if keepdims else ret
    axes = axis if isinstance(axis, tuple) else (axis,)
    if len(axes) == 1:
        return _vector_norm(x, ord, axes[0], keepdims)
    # Several axes: move them to the end, flatten them, take the norm there.
    nd = len(shape)
    axes = tuple(int(a) % nd for a in axes)
    rest = tuple(i for i in range(nd) if i not in axes)
    moved = _fs.transpose(x, rest + axes)
    flat = _fs.reshape(moved, tuple(shape[i] for i in rest) + (-1,))
    ret = _vector_norm(flat, ord, -1, False)
    if keepdims:
        ret = _fs.reshape(ret, tuple(1 if i in axes else shape[i] for i in range(nd)))
    return ret


def matrix_norm(x, /, *, keepdims=False, ord="fro"):
    """``numpy.linalg.matrix_norm`` (the array API's): the norm of each matrix
    of a stack.

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> fxad.grad(lambda x: fnp.linalg.matrix_norm(x, ord="nuc"))(np.diag([2.0, -1.0]))
        array([[ 1.,  0.],
               [ 0., -1.]])
    """
    if not any_tracer(x):
        return np.linalg.matrix_norm(x, keepdims=keepdims, ord=ord)
    return norm(x, ord=ord, axis=(-2, -1), keepdims=keepdims)


def matrix_transpose(x, /):
    """``numpy.linalg.matrix_transpose``: swap the last two axes.

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> fxad.jvp(fnp.linalg.matrix_transpose, (np.eye(2),), (np.triu(np.ones((2, 2))),))[1]
        array([[1., 0.],
               [1., 1.]])
    """
    if not any_tracer(x):
        return np.linalg.matrix_transpose(x)
    _check_stacked_2d("matrix_transpose", x)
    return _matrix_T(x)


# ---------------------------------------------------------------------------
# The array API's names (products over the last axes) and tensor forms


def outer(x1, x2, /):
    """``numpy.linalg.outer``: the outer product of two vectors.

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> fxad.grad(lambda x: fnp.linalg.outer(x, x).sum())(np.array([1.0, 2.0]))
        array([6., 6.])
    """
    if not any_tracer(x1, x2):
        return np.linalg.outer(x1, x2)
    if len(shape_of(x1)) != 1 or len(shape_of(x2)) != 1:
        raise ValueError("Input arrays must be one-dimensional")
    return _ops.outer(x1, x2)


def trace(x, /, *, offset=0, dtype=None):
    """``numpy.linalg.trace``: the trace of each matrix (the last two axes).

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> fxad.grad(lambda x: fnp.linalg.trace(x).sum())(np.ones((1, 2, 2)))
        array([[[1., 0.],
                [0., 1.]]])
    """
    if not any_tracer(x):
        return np.linalg.trace(x, offset=offset, dtype=dtype)
    return _ops.trace(x, offset, -2, -1, dtype)


def diagonal(x, /, *, offset=0):
    """``numpy.linalg.diagonal``: the diagonal of each matrix (the last two axes).

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> fxad.grad(lambda x: fnp.linalg.diagonal(x, offset=1).sum())(np.ones((2, 2)))
        array([[0., 1.],
               [0., 0.]])
    """
    if not any_tracer(x):
        return np.linalg.diagonal(x, offset=offset)
    return _ops.diagonal(x, offset, -2, -1)


def tensordot(x1, x2, /, *, axes=2):
    """``numpy.linalg.tensordot``.

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> fxad.grad(lambda x: fnp.linalg.tensordot(x, x, axes=1))(np.array([1.0, 2.0]))
        array([2., 4.])
    """
    if not any_tracer(x1, x2):
        return np.linalg.tensordot(x1, x2, axes=axes)
    return _ops.tensordot(x1, x2, axes)


def vecdot(x1, x2, /, *, axis=-1):
    """``numpy.linalg.vecdot``: ``sum(conj(x1) * x2, axis)``, broadcasting.

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> fxad.grad(lambda x: fnp.linalg.vecdot(x, x))(np.array([1.0, 2.0]))
        array([2., 4.])
    """
    if not any_tracer(x1, x2):
        return np.linalg.vecdot(x1, x2, axis=axis)
    return _fc.sum(_fc.multiply(_fc.conj(x1), x2), axis=axis)


def cond(x, p=None):
    """``numpy.linalg.cond``: ``s_max / s_min`` (``p`` None, 2, -2: the inverse),
    else ``norm(x, p) * norm(inv(x), p)``.

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> fxad.grad(fnp.linalg.cond)(np.diag([4.0, 2.0]))
        array([[ 0.5,  0. ],
               [ 0. , -1. ]])
    """
    if not any_tracer(x):
        return np.linalg.cond(x, p)
    x = _inexact(x)
    _check_stacked_2d("cond", x)
    if p is None or p == 2 or p == -2:
        s = svd(x, compute_uv=False)
        big, small = s[..., 0], s[..., -1]
        return _fc.divide(small, big) if p == -2 else _fc.divide(big, small)
    _check_stacked_square("cond", x)
    return _fc.multiply(norm(x, p, axis=(-2, -1)), norm(inv(x), p, axis=(-2, -1)))


def matrix_rank(A, tol=None, hermitian=False, *, rtol=None):
    """``numpy.linalg.matrix_rank``: how many singular values exceed the
    tolerance (an integer: no derivative).

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> int(fnp.linalg.matrix_rank(np.ones((3, 3))))
        1
    """
    if not any_tracer(A, tol, rtol):
        return np.linalg.matrix_rank(A, tol, hermitian, rtol=rtol)
    A = _inexact(A)
    if len(shape_of(A)) < 2:
        return _fc.astype(_fc.any(_fc.not_equal(A, 0)), np.int64)
    s = svd(A, compute_uv=False)
    if tol is None:
        if rtol is None:
            rtol = max(shape_of(A)[-2:]) * np.finfo(s.aval.dtype).eps
        else:
            rtol = _fs.expand_dims(asarray_value(rtol), -1)
        tol = _fc.multiply(_fc.max(s, axis=-1, keepdims=True), rtol)
    else:
        tol = _fs.expand_dims(asarray_value(tol), -1)
    return _fc.sum(_fc.astype(_fc.greater(s, tol), np.int64), axis=-1)


def tensorinv(a, ind=2):
    """``numpy.linalg.tensorinv``: the inverse of ``a`` read as a matrix whose
    rows are its first ``ind`` axes.

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.linalg.tensorinv(np.eye(4).reshape(4, 2, 2), ind=1).shape
        (2, 2, 4)
    """
    if not any_tracer(a):
        return np.linalg.tensorinv(a, ind)
    shape = shape_of(a)
    if ind <= 0:
        raise ValueError("Invalid ind argument.")
    inv_shape = shape[ind:] + shape[:ind]
    rows = int(np.prod(shape[ind:], dtype=np.int64))
    return _fs.reshape(inv(_fs.reshape(a, (rows, -1))), inv_shape)


def tensorsolve(a, b, axes=None):
    """``numpy.linalg.tensorsolve``: ``x`` with ``tensordot(a, x, x.ndim) == b``.

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.linalg.tensorsolve(np.eye(6).reshape(2, 3, 6), np.ones((2, 3))).shape
        (6,)
    """
    if not any_tracer(a, b):
        return np.linalg.tensorsolve(a, b, axes)
    a, b = asarray_value(a), asarray_value(b)
    an = len(shape_of(a))
    if axes is not None:
        order = list(range(an))
        for k in axes:
            order.remove(k)
            order.insert(an, k)
        a = _fs.transpose(a, tuple(order))
    old_shape = shape_of(a)[-(an - len(shape_of(b))):]
    n = int(np.prod(old_shape, dtype=np.int64))
    if int(np.prod(shape_of(a), dtype=np.int64)) != n * n:
        raise LinAlgError("Input arrays must satisfy the requirement "
                          "prod(a.shape[b.ndim:]) == prod(a.shape[:b.ndim])")
    x = solve(_fs.reshape(a, (n, n)), _fs.ravel(b))
    return _fs.reshape(x, old_shape)
