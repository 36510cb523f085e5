"""Linear-algebra primitives, as ``jax.lax.linalg``: one block per primitive
(impl, abstract eval, JVP, transpose where linear, batch rule).

Every primitive works on stacks of matrices: the last two axes are the
matrix, leading axes are a batch (NumPy's ``numpy.linalg`` broadcasts the
same way), so a batch rule moves the vmapped axis to the front and binds
again.  Operands of one primitive have one dtype and equal batch shapes
(``fxad.numpy.linalg`` promotes and broadcasts).

The primitives and the derivative each one carries (reverse mode is the
transpose of these; there are no VJP rules):

* ``cholesky``: ``L = chol(A)`` of the Hermitian matrix whose lower triangle
  is ``A`` (NumPy's reading); ``dL = L phi(L^-1 dA L^-H)`` with ``phi`` the
  lower triangle with its diagonal halved, by two triangular solves.
* ``triangular_solve[left_side, lower, transpose_a, conjugate_a,
  unit_diagonal]``: ``op(A) X = B`` (or ``X op(A) = B``); linear in ``B``, its
  transpose the same solve with ``transpose_a`` flipped; in ``A``,
  ``dX = -op(A)^-1 op(dA) X``.
* ``solve``: ``A X = B`` for a general square ``A`` (LAPACK gesv, as
  ``numpy.linalg.solve``); ``dX = A^-1 (dB - dA X)``; linear in ``B`` with
  transpose ``A^-T``.
* ``slogdet``: ``(sign, log|det A|)``; ``d log|det| = Re tr(A^-1 dA)``.
* ``eigh[lower, compute_eigenvectors]``: ``(V, w)`` (or ``(w,)``) of a
  Hermitian matrix given by one triangle;
  ``dw = diag(V^H dA V)``, ``dV = V (F o V^H dA V)`` with
  ``F_ij = 1 / (w_j - w_i)`` (distinct eigenvalues).
* ``eig[compute_right_eigenvectors]``: ``(w, V)`` (or ``(w,)``) of a general
  matrix, complex, with LAPACK's gauge (unit
  columns whose largest entry is real) kept by the derivative (distinct
  eigenvalues).
* ``svd[full_matrices, compute_uv]``: ``(U, s, Vh)`` or ``(s,)``; the JVP of
  Townsend / JAX (distinct nonzero singular values for ``U`` and ``V``); with
  ``full_matrices`` the extra orthonormal columns move only as much as they
  must to stay orthogonal to the others.
* ``pinv[rcond]``: the pseudo-inverse, with the Golub-Pereyra derivative
  (right at repeated singular values, where the SVD's is not).
* ``qr[full_matrices]``: ``(Q, R)``; the JVP of Walter & Lehmann / JAX for tall
  matrices, split as ``A = [X | Y]`` for wide ones.
* ``lu``: ``(LU, pivots, perm)`` of a square matrix with ``A[perm] = L U`` (partial
  pivoting, LAPACK getrf; ``L`` unit lower, both packed in ``LU``); with
  ``X = L^-1 P dA U^-1``, ``dL = L tril(X, -1)`` and ``dU = triu(X) U``
  (the pivots are piecewise constant).
* ``solve_sylvester``: ``A X + X B = C``; linear in ``C`` (transpose: the
  equation of ``A^T, B^T``); ``dX`` solves the same equation with
  ``dC - dA X - X dB``.
* ``sqrtm``: the principal square root ``S``; ``dS`` solves
  ``S dS + dS S = dA`` (a Sylvester equation).
* ``expm``: ``expm(A, E_1, ..., E_k)`` is the top-right block of the
  exponential of the block-bidiagonal matrix with ``A`` on the diagonal and
  ``E_1 ... E_k`` above it (``k = 0``: ``exp(A)``; ``k = 1``: the Fréchet
  derivative ``L(A, E)``, Al-Mohy & Higham).  It is linear in each ``E_i``
  separately and its derivative in ``A`` inserts ``dA`` at each of the
  ``k + 1`` places, so every order of derivative is again an ``expm``; its
  transpose in ``E_i`` is an ``expm`` of ``A^T`` with the chain reversed.

Impls are NumPy's LAPACK routines; ``sqrtm``, ``solve_sylvester`` and
``expm`` import SciPy when they run (NumPy has none of them), so ``import
fxad`` never needs SciPy.
"""

from __future__ import annotations

import numpy as np

from fxad.core import bind, new_primitive, shaped
from fxad.interpreters.ad import (
    Zero,
    defjvp2,
    defjvp_zero,
    deftranspose,
    instantiate,
    is_undefined,
    jvp_rules,
)
from fxad.interpreters.batching import axis_size, batch_rules, not_mapped
from fxad.lax.lax import (
    _aval,
    add,
    argmax,
    bdim_at_front,
    broadcast_in_dim,
    concatenate,
    conj,
    convert_element_type,
    def_strict,
    dot_general,
    eq,
    imag,
    integer_pow,
    moveaxis,
    mul,
    neg,
    pad,
    real,
    reduce_sum,
    reshape,
    slice,
    sub,
    transpose,
)

__all__ = [
    "cholesky", "cholesky_p", "eig", "eig_p", "eigh", "eigh_p", "expm", "expm_p",
    "lu", "lu_p", "lu_pivots_to_permutation", "lu_pivots_to_permutation_p",
    "permutation_matrix", "pinv", "pinv_p", "qr", "qr_p", "slogdet", "slogdet_p", "solve",
    "solve_p", "solve_sylvester",
    "solve_sylvester_p", "sqrtm", "sqrtm_p", "svd", "svd_p", "triangular_solve",
    "triangular_solve_p",
]

# ---------------------------------------------------------------------------
# Helpers: matrices as the last two axes of a stack


def _shape(x):
    return _aval(x).shape


def _dtype(x):
    return _aval(x).dtype


def _is_complex(x):
    return np.issubdtype(_dtype(x), np.complexfloating)


def _real_dtype(dtype):
    return np.empty((), dtype).real.dtype


def _complex_dtype(dtype):
    return np.result_type(dtype, np.complex64)


def _T(x):
    """Swap the last two axes."""
    nd = len(_shape(x))
    return transpose(x, tuple(range(nd - 2)) + (nd - 1, nd - 2))


def _H(x):
    """Conjugate transpose of the last two axes."""
    return conj(_T(x)) if _is_complex(x) else _T(x)


def _matmul(x, y):
    """``x @ y`` for stacks with equal batch shapes."""
    nd = len(_shape(x))
    batch = tuple(range(nd - 2))
    return dot_general(x, y, (((nd - 1,), (nd - 2,)), (batch, batch)))


def _const(x, m):
    """The constant ``m`` (a matrix) broadcast over the batch of ``x``, in its dtype."""
    return np.broadcast_to(np.asarray(m, _dtype(x)), _shape(x))


def _masked(x, m):
    """``x * m`` for a constant 0/1 (or weight) matrix ``m``: linear in ``x``."""
    return mul(x, _const(x, m))


def _eye(x):
    return np.eye(_shape(x)[-1])


def _tri(n, k, lower):
    """The 0/1 lower (``np.tril``) or upper (``np.triu``) triangle from diagonal ``k``."""
    ones = np.ones((n, n))
    return np.tril(ones, k) if lower else np.triu(ones, k)


def _diag(x):
    """The diagonal of each matrix: (..., n, n) -> (..., n); linear."""
    nd = len(_shape(x))
    return reduce_sum(_masked(x, _eye(x)), (nd - 1,))


def _rows(v, like):
    """``v[..., None, :]`` broadcast to the shape of ``like``: entry [i, j] is v_j."""
    shape = _shape(like)
    nd = len(shape)
    return broadcast_in_dim(v, shape, tuple(range(nd - 2)) + (nd - 1,))


def _cols(v, like):
    """``v[..., :, None]`` broadcast to the shape of ``like``: entry [i, j] is v_i."""
    shape = _shape(like)
    nd = len(shape)
    return broadcast_in_dim(v, shape, tuple(range(nd - 1)))


def _take(x, axis, start, stop):
    """``x[..., start:stop, :]`` (axis -2) or ``x[..., start:stop]`` (axis -1)."""
    shape = _shape(x)
    nd = len(shape)
    axis %= nd
    lo = [0] * nd
    hi = list(shape)
    lo[axis], hi[axis] = start, stop
    return slice(x, lo, hi)


def _safe_inverse(x):
    """``1 / x`` where ``x != 0``, and 0 where ``x == 0`` (without dividing by 0)."""
    zero = convert_element_type(eq(x, _dtype(x).type(0)), _dtype(x))
    return sub(integer_pow(add(x, zero), -1), zero)


def _inverse_gaps(w, like):
    """``F[i, j] = 1 / (w_j - w_i)`` off the diagonal, 0 on it.

    Repeated values give infinities, as in JAX: at a repeated eigenvalue the
    eigenvectors are not differentiable, and the limit of a gauge-invariant
    function's derivative depends on the function (``V diag(w) V^H`` keeps
    the ``F (w_j - w_i)`` terms, ``pinv`` cancels them), so no finite ``F``
    is right for all of them.
    """
    gaps = sub(_rows(w, like), _cols(w, like))
    eye = _const(gaps, _eye(like))
    return sub(integer_pow(add(gaps, eye), -1), eye)


def _check_inexact(name, *avals):
    for a in avals:
        if not np.issubdtype(a.dtype, np.inexact):
            raise TypeError(f"lax.linalg.{name} requires floating-point or complex operands, "
                            f"got {a.str_short()}; fxad.numpy.linalg converts integers for you")
    for a in avals[1:]:
        if a.dtype != avals[0].dtype:
            raise TypeError(f"lax.linalg.{name} requires operands of one dtype, got "
                            f"{', '.join(b.str_short() for b in avals)}")


def _check_matrix(name, a, square=True):
    if a.ndim < 2 or (square and a.shape[-1] != a.shape[-2]):
        what = "a stack of square matrices" if square else "a stack of matrices"
        raise TypeError(f"lax.linalg.{name} requires {what} (..., m, n), got {a.str_short()}")


def _check_batch(name, *avals):
    batch = avals[0].shape[:-2]
    for a in avals[1:]:
        if a.shape[:-2] != batch:
            raise TypeError(f"lax.linalg.{name} requires equal batch shapes, got "
                            f"{', '.join(b.str_short() for b in avals)}; broadcast them first "
                            "(fxad.numpy.linalg does)")


def _batch_front(prim):
    """Batch rule of a primitive of stacks: every operand's batch axis to the
    front (unmapped operands broadcast), then bind once."""

    def rule(args, dims, **params):
        size = axis_size(args, dims)
        out = bind(prim, *[bdim_at_front(x, d, size) for x, d in zip(args, dims)], **params)
        return (out, [0] * len(out)) if prim.multiple_results else (out, 0)

    batch_rules[prim] = rule
    return rule


def _per_matrix(fn, *arrays):
    """Apply ``fn`` to each matrix (or tuple of matrices) of a stack: for
    routines that take 2-D arrays only.  The result has the shape and dtype
    of the last array (``fn`` maps it to its own shape)."""
    arrays = [np.asarray(a) for a in arrays]
    batch = arrays[0].shape[:-2]
    if not batch:
        return fn(*arrays)
    if 0 in batch:
        return np.empty(arrays[-1].shape, arrays[-1].dtype)
    outs = [fn(*[a[idx] for a in arrays]) for idx in np.ndindex(*batch)]
    return np.stack(outs).reshape(batch + outs[0].shape)


def _scipy_linalg(name):
    try:
        import scipy.linalg
    except ImportError as e:  # pragma: no cover - scipy is in the test extra
        raise ImportError(f"lax.linalg.{name} computes its values with SciPy "
                          "(scipy.linalg); install scipy") from e
    return scipy.linalg


# ---------------------------------------------------------------------------
# cholesky


def cholesky(x):
    """The lower Cholesky factor ``L`` (``L L^H = A``) of the Hermitian
    positive-definite ``A`` whose lower triangle is ``x``; its strictly upper
    triangle is not read (as ``numpy.linalg.cholesky``; ``jax.lax.linalg``
    symmetrises instead).

    Example:
        >>> import numpy as np
        >>> from fxad.lax import linalg
        >>> linalg.cholesky(np.array([[4.0, 0.0], [2.0, 5.0]]))
        array([[2., 0.],
               [1., 2.]])
    """
    return bind(cholesky_p, x)


def _cholesky_abstract_eval(x):
    _check_matrix("cholesky", x)
    _check_inexact("cholesky", x)
    return shaped(x.shape, x.dtype)


def _hermitian_tangent(t, lower):
    """The tangent of the Hermitian matrix read from one triangle of ``t``:
    the strict triangle mirrored, the real part of the diagonal."""
    n = _shape(t)[-1]
    strict = _masked(t, _tri(n, -1 if lower else 1, lower))
    diag = _masked(t, np.eye(n))
    if _is_complex(t):
        diag = convert_element_type(real(diag), _dtype(t))
    return add(add(strict, _H(strict)), diag)


def _cholesky_jvp(t, L, x):
    n = _shape(x)[-1]
    sym = _hermitian_tangent(t, lower=True)
    # L^-1 dA L^-H by two triangular solves, then L phi(.) with phi the lower
    # triangle whose diagonal is halved (Murray, arXiv:1602.07527).
    tmp = triangular_solve(L, sym, left_side=False, lower=True, transpose_a=True,
                           conjugate_a=True)
    inner = triangular_solve(L, tmp, left_side=True, lower=True)
    return _matmul(L, _masked(inner, _tri(n, -1, True) + 0.5 * np.eye(n)))


cholesky_p = new_primitive("cholesky")
cholesky_p.def_impl(np.linalg.cholesky)
cholesky_p.def_abstract_eval(_cholesky_abstract_eval)
def_strict(cholesky_p)
defjvp2(cholesky_p, _cholesky_jvp)
_batch_front(cholesky_p)

# ---------------------------------------------------------------------------
# triangular_solve


def triangular_solve(a, b, left_side=False, lower=False, transpose_a=False, conjugate_a=False,
                     unit_diagonal=False):
    """Solve ``op(A) X = B`` (``left_side``) or ``X op(A) = B`` for ``X``, with
    ``A`` the lower or upper triangle of ``a`` (the other is not read; with
    ``unit_diagonal`` neither is its diagonal, taken as ones) and ``op``
    transposing and/or conjugating it.  ``jax.lax.linalg.triangular_solve``'s
    signature and defaults.

    Example:
        >>> import numpy as np
        >>> from fxad.lax import linalg
        >>> a = np.array([[2.0, 0.0], [1.0, 4.0]])
        >>> linalg.triangular_solve(a, np.array([[2.0], [5.0]]), left_side=True, lower=True)
        array([[1.],
               [1.]])
    """
    return bind(triangular_solve_p, a, b, left_side=bool(left_side), lower=bool(lower),
                transpose_a=bool(transpose_a), conjugate_a=bool(conjugate_a),
                unit_diagonal=bool(unit_diagonal))


def _triangle_mask(n, lower, unit_diagonal):
    return _tri(n, -1 if lower else 1, lower) if unit_diagonal else _tri(n, 0, lower)


def _op_a(a, *, lower, transpose_a, conjugate_a, unit_diagonal):
    n = a.shape[-1]
    a = np.tril(a) if lower else np.triu(a)
    if unit_diagonal:
        a = a + np.eye(n, dtype=a.dtype) * (1 - np.diagonal(a, 0, -2, -1))[..., None, :]
    if conjugate_a:
        a = np.conjugate(a)
    return np.swapaxes(a, -1, -2) if transpose_a else a


def _triangular_solve_impl(a, b, *, left_side, lower, transpose_a, conjugate_a, unit_diagonal):
    # NumPy has no triangular solver; LAPACK's gesv on the triangle is exact
    # enough and keeps fxad free of SciPy here.
    op = _op_a(np.asarray(a), lower=lower, transpose_a=transpose_a, conjugate_a=conjugate_a,
               unit_diagonal=unit_diagonal)
    if left_side:
        return np.linalg.solve(op, b)
    return np.swapaxes(np.linalg.solve(np.swapaxes(op, -1, -2), np.swapaxes(b, -1, -2)), -1, -2)


def _triangular_solve_abstract_eval(a, b, *, left_side, lower, transpose_a, conjugate_a,
                                    unit_diagonal):
    _check_matrix("triangular_solve", a)
    _check_matrix("triangular_solve", b, square=False)
    _check_inexact("triangular_solve", a, b)
    _check_batch("triangular_solve", a, b)
    k = b.shape[-2] if left_side else b.shape[-1]
    if k != a.shape[-1]:
        raise TypeError(f"lax.linalg.triangular_solve: {a.str_short()} does not fit "
                        f"{b.str_short()} with left_side={left_side}")
    return shaped(b.shape, b.dtype)


def _triangular_solve_jvp_a(t, x, a, b, **params):
    n = _shape(a)[-1]
    da = _masked(t, _triangle_mask(n, params["lower"], params["unit_diagonal"]))
    if params["conjugate_a"] and _is_complex(da):
        da = conj(da)
    if params["transpose_a"]:
        da = _T(da)
    rhs = _matmul(da, x) if params["left_side"] else _matmul(x, da)
    return neg(triangular_solve(a, rhs, **params))


def _triangular_solve_transpose(ct, a, b, **params):
    if is_undefined(a):
        raise TypeError("triangular_solve is linear in b only (a product of tangents "
                        "in a and b is not linear)")
    params = dict(params, transpose_a=not params["transpose_a"])
    return [None, triangular_solve(a, ct, **params)]


triangular_solve_p = new_primitive("triangular_solve")
triangular_solve_p.def_impl(_triangular_solve_impl)
triangular_solve_p.def_abstract_eval(_triangular_solve_abstract_eval)
def_strict(triangular_solve_p)
defjvp2(triangular_solve_p, _triangular_solve_jvp_a,
        lambda t, x, a, b, **params: triangular_solve(a, t, **params))
deftranspose(triangular_solve_p, _triangular_solve_transpose)


def _solve_batch(prim):
    """Batch rule of a left/right solve: with the matrix unmapped, the batch
    joins the right-hand sides (one factorisation, many columns); otherwise
    every operand's batch axis goes to the front."""

    def rule(args, dims, **params):
        (a, b), (da, db) = args, dims
        if da is not not_mapped:
            size = axis_size(args, dims)
            return bind(prim, moveaxis(a, da, 0), bdim_at_front(b, db, size), **params), 0
        shape = _shape(b)
        nd = len(shape)  # batched b: nd - 1 example axes
        size = shape[db]
        # Left: fold into the columns, (..., m, B, n) -> (..., m, B n); right: into the rows.
        at = nd - 2 if params.get("left_side", True) else nd - 3
        b = moveaxis(b, db, at)
        ex = _shape(b)
        folded = ex[:at] + (size * ex[at + 1],) + ex[at + 2:]
        out = bind(prim, a, reshape(b, folded), **params)
        return reshape(out, ex), at

    batch_rules[prim] = rule
    return rule


_solve_batch(triangular_solve_p)

# ---------------------------------------------------------------------------
# solve


def solve(a, b):
    """``X`` with ``A X = B``, ``a`` of shape (..., n, n) and ``b`` (..., n, k)
    with the same batch shape (LAPACK gesv, as ``numpy.linalg.solve``).

    Example:
        >>> import numpy as np
        >>> from fxad.lax import linalg
        >>> linalg.solve(np.array([[2.0, 1.0], [1.0, 3.0]]), np.array([[3.0], [4.0]]))
        array([[1.],
               [1.]])
    """
    return bind(solve_p, a, b)


def _solve_abstract_eval(a, b):
    _check_matrix("solve", a)
    _check_matrix("solve", b, square=False)
    _check_inexact("solve", a, b)
    _check_batch("solve", a, b)
    if b.shape[-2] != a.shape[-1]:
        raise TypeError(f"lax.linalg.solve: {a.str_short()} does not fit {b.str_short()}")
    return shaped(b.shape, b.dtype)


def _solve_jvp(primals, tangents):
    (a, b), (ta, tb) = primals, tangents
    x = solve(a, b)
    if type(ta) is Zero and type(tb) is Zero:
        return x, Zero.from_value(x)
    # d(A^-1 B) = A^-1 (dB - dA X): one solve for both tangents.
    if type(ta) is Zero:
        rhs = tb
    elif type(tb) is Zero:
        rhs = neg(_matmul(ta, x))
    else:
        rhs = sub(tb, _matmul(ta, x))
    return x, solve(a, rhs)


def _solve_transpose(ct, a, b):
    if is_undefined(a):
        raise TypeError("solve is linear in b only")
    return [None, solve(_T(a), ct)]


solve_p = new_primitive("solve")
solve_p.def_impl(np.linalg.solve)
solve_p.def_abstract_eval(_solve_abstract_eval)
def_strict(solve_p)
jvp_rules[solve_p] = _solve_jvp
deftranspose(solve_p, _solve_transpose)
_solve_batch(solve_p)

# ---------------------------------------------------------------------------
# slogdet


def slogdet(a):
    """``(sign, log|det A|)`` of each matrix, as ``numpy.linalg.slogdet``.

    Example:
        >>> import numpy as np
        >>> from fxad.lax import linalg
        >>> sign, logdet = linalg.slogdet(np.array([[-2.0, 0.0], [0.0, 1.0]]))
        >>> float(sign), round(float(logdet), 6)
        (-1.0, 0.693147)
    """
    sign, logabsdet = bind(slogdet_p, a)
    return sign, logabsdet


def _slogdet_impl(a):
    sign, logabsdet = np.linalg.slogdet(a)
    return [sign, logabsdet]


def _slogdet_abstract_eval(a):
    _check_matrix("slogdet", a)
    _check_inexact("slogdet", a)
    return [shaped(a.shape[:-2], a.dtype), shaped(a.shape[:-2], _real_dtype(a.dtype))]


def _trace(x):
    nd = len(_shape(x))
    return reduce_sum(_masked(x, _eye(x)), (nd - 2, nd - 1))


def _slogdet_jvp(primals, tangents):
    (a,), (t,) = primals, tangents
    sign, logabsdet = slogdet(a)
    # d log det A = tr(A^-1 dA): its real part moves log|det|, its imaginary
    # part the phase of the sign.
    tr = _trace(solve(a, instantiate(t)))
    if not _is_complex(a):
        return [sign, logabsdet], [Zero.from_value(sign), tr]
    i_imag = mul(sub(tr, conj(tr)), _dtype(a).type(0.5))  # i Im(tr)
    return [sign, logabsdet], [mul(sign, i_imag), real(tr)]


slogdet_p = new_primitive("slogdet", multiple_results=True)
slogdet_p.def_impl(_slogdet_impl)
slogdet_p.def_abstract_eval(_slogdet_abstract_eval)
def_strict(slogdet_p)
jvp_rules[slogdet_p] = _slogdet_jvp
_batch_front(slogdet_p)

# ---------------------------------------------------------------------------
# eigh


def eigh(x, lower=True, compute_eigenvectors=True):
    """Eigenvectors and eigenvalues ``(v, w)`` of the Hermitian matrix read
    from the lower (``lower=True``) or upper triangle of ``x``, eigenvalues
    ascending (``numpy.linalg.eigh``; ``jax.lax.linalg.eigh``'s order of
    results); only ``w`` without ``compute_eigenvectors``
    (``numpy.linalg.eigvalsh``, whose derivative is finite at repeated
    eigenvalues too).

    Example:
        >>> import numpy as np
        >>> from fxad.lax import linalg
        >>> v, w = linalg.eigh(np.array([[2.0, 0.0], [1.0, 2.0]]))
        >>> w
        array([1., 3.])
    """
    out = bind(eigh_p, x, lower=bool(lower), compute_eigenvectors=bool(compute_eigenvectors))
    return tuple(out) if compute_eigenvectors else out[0]


def _eigh_impl(x, *, lower, compute_eigenvectors):
    uplo = "L" if lower else "U"
    if not compute_eigenvectors:
        return [np.linalg.eigvalsh(x, UPLO=uplo)]
    w, v = np.linalg.eigh(x, UPLO=uplo)
    return [v, w]


def _eigh_abstract_eval(x, *, lower, compute_eigenvectors):
    _check_matrix("eigh", x)
    _check_inexact("eigh", x)
    w = shaped(x.shape[:-1], _real_dtype(x.dtype))
    return [shaped(x.shape, x.dtype), w] if compute_eigenvectors else [w]


def _eigh_jvp(primals, tangents, *, lower, compute_eigenvectors):
    (x,), (t,) = primals, tangents
    v, w = eigh(x, lower)
    da = _hermitian_tangent(instantiate(t), lower)
    vh_da_v = _matmul(_H(v), _matmul(da, v))
    dw = _diag(vh_da_v)
    dw = real(dw) if _is_complex(x) else dw
    if not compute_eigenvectors:
        return [w], [dw]
    wc = convert_element_type(w, _dtype(x))
    dv = _matmul(v, mul(_inverse_gaps(wc, v), vh_da_v))
    return [v, w], [dv, dw]


eigh_p = new_primitive("eigh", multiple_results=True)
eigh_p.def_impl(_eigh_impl)
eigh_p.def_abstract_eval(_eigh_abstract_eval)
def_strict(eigh_p)
jvp_rules[eigh_p] = _eigh_jvp
_batch_front(eigh_p)

# ---------------------------------------------------------------------------
# eig


def eig(x, compute_right_eigenvectors=True):
    """Eigenvalues and right eigenvectors ``(w, v)`` of a general matrix (just
    ``w`` without ``compute_right_eigenvectors``, ``jax.lax.linalg.eig``'s
    parameter), always complex (NumPy returns real arrays when every
    eigenvalue is real, which a traced program cannot know in advance).
    Columns of ``v`` have unit norm and their largest entry real (LAPACK's
    normalisation).

    Example:
        >>> import numpy as np
        >>> from fxad.lax import linalg
        >>> w, v = linalg.eig(np.array([[0.0, 1.0], [-1.0, 0.0]]))
        >>> w
        array([0.+1.j, 0.-1.j])
    """
    out = bind(eig_p, x, compute_right_eigenvectors=bool(compute_right_eigenvectors))
    return tuple(out) if compute_right_eigenvectors else out[0]


def _eig_impl(x, *, compute_right_eigenvectors):
    dt = _complex_dtype(np.result_type(x))
    if not compute_right_eigenvectors:
        return [np.linalg.eigvals(x).astype(dt)]
    w, v = np.linalg.eig(x)
    return [w.astype(dt), v.astype(dt)]


def _eig_abstract_eval(x, *, compute_right_eigenvectors):
    _check_matrix("eig", x)
    _check_inexact("eig", x)
    dt = _complex_dtype(x.dtype)
    w = shaped(x.shape[:-1], dt)
    return [w, shaped(x.shape, dt)] if compute_right_eigenvectors else [w]


def _eig_jvp(primals, tangents, *, compute_right_eigenvectors):
    (x,), (t,) = primals, tangents
    w, v = eig(x)
    n = _shape(x)[-1]
    nd = len(_shape(x))
    da = convert_element_type(instantiate(t), _dtype(v))
    # V^-1 dA V: its diagonal moves the eigenvalues (arXiv:1701.00392 eq. 4.60),
    # the rest, weighted by 1 / (w_j - w_i), the eigenvectors.
    vinv_da_v = solve(v, _matmul(da, v))
    dw = _diag(vinv_da_v)
    if not compute_right_eigenvectors:
        return [w], [dw]
    dv = _matmul(v, mul(_inverse_gaps(w, v), vinv_da_v))
    # Add the multiple of each column that keeps LAPACK's gauge: unit norm
    # (Re v^H dv = 0) and the largest entry v_k real (Im dv_k = 0).
    re_c = neg(real(reduce_sum(mul(conj(v), dv), (nd - 2,))))
    v2 = real(mul(conj(v), v))
    k = argmax(v2, nd - 2)
    rows = np.broadcast_to(np.arange(n)[:, None], _shape(x))
    onehot = convert_element_type(eq(rows, broadcast_in_dim(k, _shape(x), _rows_dims(nd))),
                                  _dtype(v))
    vk = real(reduce_sum(mul(onehot, v), (nd - 2,)))
    dvk = reduce_sum(mul(onehot, dv), (nd - 2,))
    im_c = neg(mul(imag(dvk), integer_pow(vk, -1)))
    c = add(convert_element_type(re_c, _dtype(v)),
            mul(convert_element_type(im_c, _dtype(v)), _dtype(v).type(1j)))
    dv = add(dv, mul(v, _rows(c, v)))
    return [w, v], [dw, dv]


def _rows_dims(nd):
    return tuple(range(nd - 2)) + (nd - 1,)


eig_p = new_primitive("eig", multiple_results=True)
eig_p.def_impl(_eig_impl)
eig_p.def_abstract_eval(_eig_abstract_eval)
def_strict(eig_p)
jvp_rules[eig_p] = _eig_jvp
_batch_front(eig_p)

# ---------------------------------------------------------------------------
# svd


def svd(x, full_matrices=True, compute_uv=True):
    """``(u, s, vh)`` with ``x = u diag(s) vh`` (or ``s`` alone without
    ``compute_uv``), as ``numpy.linalg.svd`` and ``jax.lax.linalg.svd``.

    Example:
        >>> import numpy as np
        >>> from fxad.lax import linalg
        >>> linalg.svd(np.array([[3.0, 0.0], [0.0, -4.0]]), compute_uv=False)
        array([4., 3.])
    """
    out = bind(svd_p, x, full_matrices=bool(full_matrices), compute_uv=bool(compute_uv))
    return tuple(out) if compute_uv else out[0]


def _svd_impl(x, *, full_matrices, compute_uv):
    if not compute_uv:
        return [np.linalg.svd(x, compute_uv=False)]
    u, s, vh = np.linalg.svd(x, full_matrices=full_matrices)
    return [u, s, vh]


def _svd_abstract_eval(x, *, full_matrices, compute_uv):
    _check_matrix("svd", x, square=False)
    _check_inexact("svd", x)
    *batch, m, n = x.shape
    batch = tuple(batch)
    k = min(m, n)
    s = shaped(batch + (k,), _real_dtype(x.dtype))
    if not compute_uv:
        return [s]
    um, vn = (m, n) if full_matrices else (k, k)
    return [shaped(batch + (m, um), x.dtype), s, shaped(batch + (vn, n), x.dtype)]


def _complement_tangent(q1, dq1, q2):
    """Tangent of the columns ``q2`` completing the orthonormal ``q1``: the
    least motion keeping them orthonormal and orthogonal to ``q1 + dq1``."""
    return neg(_matmul(q1, _matmul(_H(dq1), q2)))


def _svd_jvp(primals, tangents, *, full_matrices, compute_uv):
    (a,), (da,) = primals, tangents
    da = instantiate(da)
    *_, m, n = _shape(a)
    k = min(m, n)
    full = full_matrices and compute_uv and m != n
    u, s, vh = svd(a, full_matrices=full, compute_uv=True)
    u1 = _take(u, -1, 0, k) if full and m > n else u
    vh1 = _take(vh, -2, 0, k) if full and n > m else vh
    v1 = _H(vh1)
    ds_mat = _matmul(_H(u1), _matmul(da, v1))  # U^H dA V
    ds = _diag(ds_mat)
    if _is_complex(a):
        ds = real(ds)
    if not compute_uv:
        return [s], [ds]
    dt = _dtype(a)
    sc = convert_element_type(s, dt)
    s_row, s_col = _rows(sc, ds_mat), _cols(sc, ds_mat)
    # F[i, j] = 1 / (s_j^2 - s_i^2) off the diagonal (distinct singular values;
    # see _inverse_gaps).
    eye = _const(ds_mat, np.eye(k))
    f = sub(integer_pow(add(mul(add(s_row, s_col), sub(s_row, s_col)), eye), -1), eye)
    dss = mul(ds_mat, s_row)  # dS diag(s)
    sds = mul(s_col, ds_mat)  # diag(s) dS
    du_inner = mul(f, add(dss, _H(dss)))
    if _is_complex(a):
        # The phase of each pair (u_i, v_i) is fixed by Im(u_i^H du_i) = Im(dS_ii) / s_i.
        s_inv = _masked(_rows(_safe_inverse(sc), ds_mat), np.eye(k))
        du_inner = add(du_inner, mul(mul(sub(ds_mat, _H(ds_mat)), dt.type(0.5)), s_inv))
    du = _matmul(u1, du_inner)
    dv = _matmul(v1, mul(f, add(sds, _H(sds))))
    if m > n:  # the part of dA V outside the range of U
        dav = _matmul(da, v1)
        du = add(du, mul(sub(dav, _matmul(u1, _matmul(_H(u1), dav))),
                         _rows(integer_pow(sc, -1), dav)))
    if n > m:
        dahu = _matmul(_H(da), u1)
        dv = add(dv, mul(sub(dahu, _matmul(v1, _matmul(vh1, dahu))),
                         _rows(integer_pow(sc, -1), dahu)))
    nd = len(_shape(a))
    if full and m > n:
        du = concatenate([du, _complement_tangent(u1, du, _take(u, -1, k, m))], nd - 1)
    if full and n > m:
        v2 = _H(_take(vh, -2, k, n))
        dv = concatenate([dv, _complement_tangent(v1, dv, v2)], nd - 1)
    return [u, s, vh], [du, ds, _H(dv)]


svd_p = new_primitive("svd", multiple_results=True)
svd_p.def_impl(_svd_impl)
svd_p.def_abstract_eval(_svd_abstract_eval)
def_strict(svd_p)
jvp_rules[svd_p] = _svd_jvp
_batch_front(svd_p)

# ---------------------------------------------------------------------------
# pinv


def pinv(a, rcond=1e-15):
    """The Moore-Penrose pseudo-inverse, singular values at or below
    ``rcond * max(s)`` dropped (``numpy.linalg.pinv``).  A primitive, not a
    composite of ``svd``, for its derivative: the Golub-Pereyra formula is
    right for any matrix of locally constant rank, repeated singular values
    included (an orthogonal matrix), where the SVD's derivative is not.

    Example:
        >>> import numpy as np
        >>> from fxad.lax import linalg
        >>> linalg.pinv(np.array([[2.0, 0.0], [0.0, 0.0]]))
        array([[0.5, 0. ],
               [0. , 0. ]])
    """
    return bind(pinv_p, a, rcond=float(rcond))


def _pinv_abstract_eval(a, *, rcond):
    _check_matrix("pinv", a, square=False)
    _check_inexact("pinv", a)
    return shaped(a.shape[:-2] + (a.shape[-1], a.shape[-2]), a.dtype)


def _pinv_jvp(t, p, a, *, rcond):
    # dP = -P dA P + P P^H dA^H (I - A P) + (I - P A) dA^H P^H P  (Golub & Pereyra 1973)
    th = _H(t)
    ap, pa = _matmul(a, p), _matmul(p, a)
    i_ap = sub(_const(ap, _eye(ap)), ap)
    i_pa = sub(_const(pa, _eye(pa)), pa)
    out = neg(_matmul(p, _matmul(t, p)))
    out = add(out, _matmul(_matmul(p, _H(p)), _matmul(th, i_ap)))
    return add(out, _matmul(i_pa, _matmul(th, _matmul(_H(p), p))))


pinv_p = new_primitive("pinv")
pinv_p.def_impl(lambda a, *, rcond: np.linalg.pinv(a, rcond=rcond))
pinv_p.def_abstract_eval(_pinv_abstract_eval)
def_strict(pinv_p)
defjvp2(pinv_p, _pinv_jvp)
_batch_front(pinv_p)

# ---------------------------------------------------------------------------
# qr


def qr(x, full_matrices=True):
    """``(q, r)`` with ``x = q r``: ``q`` orthonormal columns, ``r`` upper
    triangular; ``full_matrices=False`` is NumPy's ``mode="reduced"``, ``True``
    its ``"complete"`` (``jax.lax.linalg.qr``'s parameter and default).

    Example:
        >>> import numpy as np
        >>> from fxad.lax import linalg
        >>> q, r = linalg.qr(np.array([[3.0, 1.0], [4.0, 2.0]]))
        >>> r
        array([[-5. , -2.2],
               [ 0. ,  0.4]])
    """
    q, r = bind(qr_p, x, full_matrices=bool(full_matrices))
    return q, r


def _qr_impl(x, *, full_matrices):
    q, r = np.linalg.qr(x, mode="complete" if full_matrices else "reduced")
    return [q, r]


def _qr_abstract_eval(x, *, full_matrices):
    _check_matrix("qr", x, square=False)
    _check_inexact("qr", x)
    *batch, m, n = x.shape
    batch = tuple(batch)
    k = m if full_matrices else min(m, n)
    return [shaped(batch + (m, k), x.dtype), shaped(batch + (k, n), x.dtype)]


def _qr_jvp_tall(q, r, dx):
    """JVP of the reduced QR of a tall (m >= n) full-rank matrix
    (j-towns.github.io/papers/qr-derivative.pdf)."""
    n = _shape(r)[-1]
    dx_rinv = triangular_solve(r, dx)  # dX R^-1
    qt_dx_rinv = _matmul(_H(q), dx_rinv)
    low = _masked(qt_dx_rinv, _tri(n, -1, True))
    do = sub(low, _H(low))  # skew-Hermitian
    if _is_complex(q):  # keeps the diagonal of R real
        diag = _masked(qt_dx_rinv, np.eye(n))
        do = add(do, sub(diag, convert_element_type(real(diag), _dtype(q))))
    dq = add(_matmul(q, sub(do, qt_dx_rinv)), dx_rinv)
    dr = _matmul(sub(qt_dx_rinv, do), r)
    return dq, dr


def _qr_jvp(primals, tangents, *, full_matrices):
    (x,), (dx,) = primals, tangents
    dx = instantiate(dx)
    q, r = qr(x, full_matrices)
    *_, m, n = _shape(x)
    nd = len(_shape(x))
    if m >= n:
        q1 = _take(q, -1, 0, n)
        dq, dr = _qr_jvp_tall(q1, _take(r, -2, 0, n), dx)
        if full_matrices and m > n:
            dq = concatenate([dq, _complement_tangent(q1, dq, _take(q, -1, n, m))], nd - 1)
            dr = pad(dr, _dtype(dr).type(0), [(0, 0, 0)] * (nd - 2) + [(0, m - n, 0), (0, 0, 0)])
        return [q, r], [dq, dr]
    # Wide: A = [X | Y] with X square; Q R_X is the QR of X and R = [R_X | Q^H Y].
    dq, drx = _qr_jvp_tall(q, _take(r, -1, 0, m), _take(dx, -1, 0, m))
    y, dy = _take(x, -1, m, n), _take(dx, -1, m, n)
    dry = add(_matmul(_H(dq), y), _matmul(_H(q), dy))
    return [q, r], [dq, concatenate([drx, dry], nd - 1)]


qr_p = new_primitive("qr", multiple_results=True)
qr_p.def_impl(_qr_impl)
qr_p.def_abstract_eval(_qr_abstract_eval)
def_strict(qr_p)
jvp_rules[qr_p] = _qr_jvp
_batch_front(qr_p)

# ---------------------------------------------------------------------------
# lu


def lu(x):
    """``(lu, pivots, perm)`` of the square matrix ``x`` (each of a stack):
    partial pivoting with ``x[perm] = L U``, ``L`` unit lower triangular in
    the strict lower triangle of ``lu``, ``U`` in its upper triangle; ``pivots``
    are LAPACK getrf's row swaps (row ``i`` swapped with row ``pivots[i]``, in
    order), as ``jax.lax.linalg.lu``.

    Example:
        >>> import numpy as np
        >>> from fxad.lax import linalg
        >>> lu, pivots, perm = linalg.lu(np.array([[1.0, 2.0], [4.0, 4.0]]))
        >>> lu
        array([[4.  , 4.  ],
               [0.25, 1.  ]])
        >>> pivots, perm
        (array([1, 1], dtype=int32), array([1, 0], dtype=int32))
    """
    out, pivots, perm = bind(lu_p, x)
    return out, pivots, perm


def _pivots_to_permutation(piv, n):
    perm = np.arange(n)
    for i, p in enumerate(piv):  # LAPACK's row swaps, applied in order
        perm[[i, p]] = perm[[p, i]]
    return perm


def _lu_one(a):
    lu_, piv = _scipy_linalg("lu").lu_factor(a, check_finite=False)
    return lu_, piv.astype(np.int32), _pivots_to_permutation(piv, a.shape[-1]).astype(np.int32)


def _lu_impl(x):
    x = np.asarray(x)
    batch, n = x.shape[:-2], x.shape[-1]
    if 0 in batch or n == 0:
        ints = np.zeros(x.shape[:-1], np.int32)
        return [np.empty(x.shape, x.dtype), ints, ints.copy()]
    if not batch:
        lu_, piv, perm = _lu_one(x)
        return [lu_.astype(x.dtype), piv, perm]
    outs = [_lu_one(x[idx]) for idx in np.ndindex(*batch)]
    return [np.stack([o[0] for o in outs]).reshape(x.shape).astype(x.dtype),
            np.stack([o[1] for o in outs]).reshape(x.shape[:-1]),
            np.stack([o[2] for o in outs]).reshape(x.shape[:-1])]


def _lu_abstract_eval(x):
    _check_matrix("lu", x)
    _check_inexact("lu", x)
    ints = shaped(x.shape[:-1], np.dtype(np.int32))
    return [shaped(x.shape, x.dtype), ints, ints]


def permutation_matrix(perm, dtype):
    """``P`` with ``P @ a == a[perm]`` (rows of ``a`` picked by ``perm``, a
    stack of permutations of shape (..., n)), in ``dtype``."""
    shape = _shape(perm) + (_shape(perm)[-1],)
    rows = broadcast_in_dim(perm, shape, tuple(range(len(shape) - 1)))
    cols = np.broadcast_to(np.arange(shape[-1], dtype=_dtype(perm)), shape)
    return convert_element_type(eq(rows, cols), np.dtype(dtype))


def _lu_jvp(primals, tangents):
    (x,), (dx,) = primals, tangents
    packed, piv, perm = lu(x)
    if type(dx) is Zero:
        return [packed, piv, perm], [Zero.from_value(o) for o in (packed, piv, perm)]
    n = _shape(x)[-1]
    u = _masked(packed, _tri(n, 0, False))
    # X = L^-1 P dA U^-1 splits into L^-1 dL (strictly lower) + dU U^-1 (upper).
    pdx = _matmul(permutation_matrix(perm, _dtype(x)), dx)
    xm = triangular_solve(u, triangular_solve(packed, pdx, left_side=True, lower=True,
                                              unit_diagonal=True),
                          left_side=False, lower=False)
    l_ = add(_masked(packed, _tri(n, -1, True)), _const(packed, np.eye(n)))
    dl = _matmul(l_, _masked(xm, _tri(n, -1, True)))
    du = _matmul(_masked(xm, _tri(n, 0, False)), u)
    return [packed, piv, perm], [add(dl, du), Zero.from_value(piv), Zero.from_value(perm)]


lu_p = new_primitive("lu", multiple_results=True)
lu_p.def_impl(_lu_impl)
lu_p.def_abstract_eval(_lu_abstract_eval)
def_strict(lu_p)
jvp_rules[lu_p] = _lu_jvp
_batch_front(lu_p)

def lu_pivots_to_permutation(pivots, permutation_size):
    """The permutation ``perm`` (``a[perm] = L U``) of LAPACK's row swaps
    ``pivots`` (shape (..., k)), of length ``permutation_size``, as
    ``jax.lax.linalg.lu_pivots_to_permutation``; integer, no derivative.

    Example:
        >>> import numpy as np
        >>> from fxad.lax import linalg
        >>> linalg.lu_pivots_to_permutation(np.array([2, 2, 2], np.int32), 3)
        array([2, 0, 1], dtype=int32)
    """
    return bind(lu_pivots_to_permutation_p, pivots, permutation_size=int(permutation_size))


def _pivots_impl(pivots, *, permutation_size):
    pivots = np.asarray(pivots)
    out = np.empty(pivots.shape[:-1] + (permutation_size,), np.int32)
    for idx in np.ndindex(*pivots.shape[:-1]):
        out[idx] = _pivots_to_permutation(pivots[idx], permutation_size)
    return out


def _pivots_abstract_eval(pivots, *, permutation_size):
    if pivots.dtype.kind not in "iu" or len(pivots.shape) < 1:
        raise TypeError("lax.linalg.lu_pivots_to_permutation takes an integer array of "
                        f"pivots with at least one axis, got {pivots.str_short()}")
    if pivots.shape[-1] > permutation_size:
        raise TypeError(f"lax.linalg.lu_pivots_to_permutation: {pivots.shape[-1]} pivots do "
                        f"not fit permutation_size={permutation_size}")
    return shaped(pivots.shape[:-1] + (permutation_size,), np.dtype(np.int32))


lu_pivots_to_permutation_p = new_primitive("lu_pivots_to_permutation")
lu_pivots_to_permutation_p.def_impl(_pivots_impl)
lu_pivots_to_permutation_p.def_abstract_eval(_pivots_abstract_eval)
def_strict(lu_pivots_to_permutation_p)
defjvp_zero(lu_pivots_to_permutation_p)
_batch_front(lu_pivots_to_permutation_p)


# ---------------------------------------------------------------------------
# solve_sylvester


def solve_sylvester(a, b, c):
    """``X`` with ``A X + X B = C`` (``scipy.linalg.solve_sylvester``; ``a``
    (..., m, m), ``b`` (..., n, n), ``c`` (..., m, n)).

    Example:
        >>> import numpy as np
        >>> from fxad.lax import linalg
        >>> linalg.solve_sylvester(np.eye(2), np.eye(2), np.full((2, 2), 4.0))
        array([[2., 2.],
               [2., 2.]])
    """
    return bind(solve_sylvester_p, a, b, c)


def _solve_sylvester_impl(a, b, c):
    return _per_matrix(_scipy_linalg("solve_sylvester").solve_sylvester, a, b, c)


def _solve_sylvester_abstract_eval(a, b, c):
    for x in (a, b):
        _check_matrix("solve_sylvester", x)
    _check_matrix("solve_sylvester", c, square=False)
    _check_inexact("solve_sylvester", a, b, c)
    _check_batch("solve_sylvester", a, b, c)
    if c.shape[-2:] != (a.shape[-1], b.shape[-1]):
        raise TypeError(f"lax.linalg.solve_sylvester: {c.str_short()} does not fit "
                        f"{a.str_short()} and {b.str_short()}")
    return shaped(c.shape, c.dtype)


def _solve_sylvester_jvp(primals, tangents):
    (a, b, c), (ta, tb, tc) = primals, tangents
    x = solve_sylvester(a, b, c)
    # A dX + dX B = dC - dA X - X dB: one more solve of the same equation.
    rhs = None
    for t, term in ((tc, lambda t: t), (ta, lambda t: neg(_matmul(t, x))),
                    (tb, lambda t: neg(_matmul(x, t)))):
        if type(t) is not Zero:
            rhs = term(t) if rhs is None else add(rhs, term(t))
    if rhs is None:
        return x, Zero.from_value(x)
    return x, solve_sylvester(a, b, rhs)


def _solve_sylvester_transpose(ct, a, b, c):
    if is_undefined(a) or is_undefined(b):
        raise TypeError("solve_sylvester is linear in c only")
    return [None, None, solve_sylvester(_T(a), _T(b), ct)]


solve_sylvester_p = new_primitive("solve_sylvester")
solve_sylvester_p.def_impl(_solve_sylvester_impl)
solve_sylvester_p.def_abstract_eval(_solve_sylvester_abstract_eval)
def_strict(solve_sylvester_p)
jvp_rules[solve_sylvester_p] = _solve_sylvester_jvp
deftranspose(solve_sylvester_p, _solve_sylvester_transpose)
_batch_front(solve_sylvester_p)

# ---------------------------------------------------------------------------
# sqrtm


def sqrtm(a):
    """The principal square root of each matrix (``scipy.linalg.sqrtm``).  A
    real matrix whose root is complex (eigenvalues on the negative real axis)
    is an error here: pass it as a complex matrix.

    Example:
        >>> import numpy as np
        >>> from fxad.lax import linalg
        >>> linalg.sqrtm(np.array([[4.0, 0.0], [0.0, 9.0]]))
        array([[2., 0.],
               [0., 3.]])
    """
    return bind(sqrtm_p, a)


def _sqrtm_impl(a):
    sp = _scipy_linalg("sqrtm")
    a = np.asarray(a)
    out = _per_matrix(sp.sqrtm, a)
    if np.iscomplexobj(out) and not np.iscomplexobj(a):
        raise ValueError("lax.linalg.sqrtm: this real matrix has no real principal square "
                         "root (an eigenvalue is on the negative real axis); convert it to a "
                         "complex dtype first")
    return out.astype(a.dtype, copy=False)


def _sqrtm_abstract_eval(a):
    _check_matrix("sqrtm", a)
    _check_inexact("sqrtm", a)
    return shaped(a.shape, a.dtype)


sqrtm_p = new_primitive("sqrtm")
sqrtm_p.def_impl(_sqrtm_impl)
sqrtm_p.def_abstract_eval(_sqrtm_abstract_eval)
def_strict(sqrtm_p)
# S dS + dS S = dA (Del Moral & Niclas / Higham, "Functions of Matrices" 6.1).
defjvp2(sqrtm_p, lambda t, s, a: solve_sylvester(s, s, t))
_batch_front(sqrtm_p)

# ---------------------------------------------------------------------------
# expm and its Fréchet derivatives


def expm(a, *es):
    """``exp(a)`` for each matrix; with directions ``es`` the top-right block
    of the exponential of the block-bidiagonal matrix with ``a`` on the
    diagonal and ``es`` above it: ``expm(a, e)`` is the Fréchet derivative
    ``L(a, e)``, ``expm(a, e1, e2) + expm(a, e2, e1)`` the second one.

    Example:
        >>> import numpy as np
        >>> from fxad.lax import linalg
        >>> linalg.expm(np.zeros((2, 2)))
        array([[1., 0.],
               [0., 1.]])
        >>> linalg.expm(np.zeros((1, 1)), np.ones((1, 1)))  # d exp(a) / da at 0
        array([[1.]])
    """
    return bind(expm_p, a, *es)


def _norm1(x):
    return np.abs(x).sum(-2).max(-1)


def _expm_impl(a, *es):
    expm_np = _scipy_linalg("expm").expm
    a = np.asarray(a)
    if not es:
        return _per_matrix(expm_np, a)
    k, n = len(es), a.shape[-1]
    big = np.zeros(a.shape[:-2] + ((k + 1) * n, (k + 1) * n), a.dtype)
    for i in range(k + 1):
        big[..., i * n:(i + 1) * n, i * n:(i + 1) * n] = a
    # Each direction scaled to the size of ``a`` (Higham), so the result does
    # not depend on the size of the directions beyond their linear effect.
    na = _norm1(a)
    scale = np.ones(a.shape[:-2])
    for i, e in enumerate(es):
        ne = _norm1(np.asarray(e))
        c = np.where((ne > 0) & (na > 0), na / np.where(ne > 0, ne, 1.0), 1.0)
        big[..., i * n:(i + 1) * n, (i + 1) * n:(i + 2) * n] = e * c[..., None, None]
        scale = scale * c
    out = _per_matrix(expm_np, big)[..., :n, k * n:]
    return (out / scale[..., None, None]).astype(a.dtype, copy=False)


def _expm_abstract_eval(a, *es):
    _check_matrix("expm", a)
    _check_inexact("expm", a, *es)
    for e in es:
        if e.shape != a.shape:
            raise TypeError(f"lax.linalg.expm: direction {e.str_short()} does not match "
                            f"{a.str_short()}")
    return shaped(a.shape, a.dtype)


def _expm_jvp(primals, tangents):
    a, *es = primals
    ta, *tes = tangents
    ans = expm(a, *es)
    terms = []
    for i, t in enumerate(tes):  # linear in each direction
        if type(t) is not Zero:
            terms.append(expm(a, *es[:i], t, *es[i + 1:]))
    if type(ta) is not Zero:  # dA enters each of the k + 1 exponentials
        terms += [expm(a, *es[:j], ta, *es[j:]) for j in range(len(es) + 1)]
    if not terms:
        return ans, Zero.from_value(ans)
    out = terms[0]
    for term in terms[1:]:
        out = add(out, term)
    return ans, out


def _expm_transpose(ct, a, *es):
    undefined = [i for i, e in enumerate(es) if is_undefined(e)]
    if is_undefined(a) or len(undefined) != 1:
        raise TypeError("expm is linear in one of its directions at a time, not in a")
    (i,) = undefined
    # <Y, int e^{A s0} E1 ... Ek e^{A sk}> is cyclic in the chain: the
    # transpose in E_i runs A^T through E_{i-1}^T ... E_1^T, Y, E_k^T ... E_{i+1}^T.
    chain = [_T(e) for e in reversed(es[:i])] + [ct] + [_T(e) for e in reversed(es[i + 1:])]
    return [None] + [expm(_T(a), *chain) if j == i else None for j in range(len(es))]


expm_p = new_primitive("expm")
expm_p.def_impl(_expm_impl)
expm_p.def_abstract_eval(_expm_abstract_eval)
def_strict(expm_p)
jvp_rules[expm_p] = _expm_jvp
deftranspose(expm_p, _expm_transpose)
_batch_front(expm_p)
