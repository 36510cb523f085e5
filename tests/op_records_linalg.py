"""Op records of the linear-algebra primitives (``fxad.lax.linalg``), joined to
``tests/op_records.py``'s table.

Inputs are drawn jointly (``make``) to be well conditioned: positive-definite
matrices for ``cholesky``, spectra with gaps of at least 1 for ``eigh``,
``eig`` and ``svd``, dominant diagonals for the solves.  Finite-difference
steps then stay in the domain: ``cholesky`` and ``eigh`` read one triangle,
so any perturbation is a perturbation of a Hermitian matrix.  Primitives
with several results are recorded through one array of their gauge-invariant
content: eigenvalues with ``|V|^2`` (signs and phases of eigenvectors are
arbitrary), ``U diag(c) V^H`` for the SVD, and so on.
"""

from __future__ import annotations

import numpy as np
from op_records import C128, F32, F64, Arg, C, OpRecord

from fxad import lax
from fxad.lax import linalg

# ---------------------------------------------------------------------------
# Drawing structured matrices


def _orthogonal(rng, n, dtype=F64):
    z = rng.standard_normal((n, n))
    if np.dtype(dtype).kind == "c":
        z = z + 1j * rng.standard_normal((n, n))
    q, r = np.linalg.qr(z)
    return q * (np.diagonal(r) / np.abs(np.diagonal(r)))


def _each(batch, draw):
    """``draw()`` for each index of ``batch``, stacked."""
    if not batch:
        return draw()
    n = int(np.prod(batch))
    return np.stack([draw() for _ in range(n)]).reshape(batch + np.shape(draw()))


def _spectrum(rng, n):
    """Values 1 apart at least, in [-n, n]."""
    return np.sort(rng.permutation(2 * n)[:n] - n + rng.uniform(0.0, 0.2, n))


def _hermitian(shape, dtype=F64, positive=False):
    *batch, n = shape[:-1]

    def draw(rng):
        def one():
            q = _orthogonal(rng, n, dtype)
            w = rng.uniform(1.0, 3.0, n) if positive else _spectrum(rng, n)
            return ((q * w) @ q.conj().T).astype(dtype)

        return [_each(tuple(batch), one)]

    return draw


def _general(shape, dtype=F64, shift=3.0, scale=1.0):
    """Random entries plus ``shift`` on the diagonal (well conditioned)."""

    def draw(rng):
        a = scale * rng.standard_normal(shape)
        if np.dtype(dtype).kind == "c":
            a = a + 1j * scale * rng.standard_normal(shape)
        return [(a + shift * np.eye(*shape[-2:])).astype(dtype)]

    return draw


def _with_rhs(a_draw, b_shape, dtype=F64):
    def draw(rng):
        (a,) = a_draw(rng) if callable(a_draw) else [a_draw]
        b = rng.standard_normal(b_shape)
        if np.dtype(dtype).kind == "c":
            b = b + 1j * rng.standard_normal(b_shape)
        return [np.asarray(a, dtype), b.astype(dtype)]

    return draw


_square = _general


def _distinct_eigenvalues(shape, complex_pair=False, dtype=F64):
    """``P diag(w) P^-1`` with well separated eigenvalues; with ``complex_pair``
    a real matrix whose first two eigenvalues are ``1 +- 2i``."""
    *batch, n = shape[:-1]

    def draw(rng):
        def one():
            p = np.eye(n) + 0.3 * rng.standard_normal((n, n))
            d = np.diag(_spectrum(rng, n))
            if complex_pair:
                d[:2, :2] = [[1.0, 2.0], [-2.0, 1.0]]
            if np.dtype(dtype).kind == "c":
                p = p + 0.3j * rng.standard_normal((n, n))
                d = d + 0.5j * np.diag(rng.standard_normal(n))
            return (p @ d @ np.linalg.inv(p)).astype(dtype)

        return [_each(tuple(batch), one)]

    return draw


def _distinct_singular_values(shape, dtype=F64):
    *batch, m, n = shape
    k = min(m, n)

    def draw(rng):
        def one():
            u, v = _orthogonal(rng, m, dtype)[:, :k], _orthogonal(rng, n, dtype)[:, :k]
            s = np.sort(_spectrum(rng, k) + k + 1.0)[::-1]
            return ((u * s) @ v.conj().T).astype(dtype)

        return [_each(tuple(batch), one)]

    return draw


def _scaled_orthogonal(n):
    return lambda rng: [2.0 * _orthogonal(rng, n)]


def _triangular(shape, lower, dtype=F64, rhs=None):
    def draw(rng):
        a = rng.standard_normal(shape) * 0.5
        if np.dtype(dtype).kind == "c":
            a = a + 0.5j * rng.standard_normal(shape)
        n = shape[-1]
        sign = np.where(rng.random(shape[:-1]) < 0.5, -1.0, 1.0)
        a = a + np.eye(n) * (sign * rng.uniform(2.0, 3.0, shape[:-1]))[..., None, :]
        # The unread triangle holds junk: the primitive must not read it.
        out = [a.astype(dtype)]
        if rhs is not None:
            b = rng.standard_normal(rhs)
            if np.dtype(dtype).kind == "c":
                b = b + 1j * rng.standard_normal(rhs)
            out.append(b.astype(dtype))
        return out

    return draw


def _sylvester(m, n, batch=(), dtype=F64):
    def draw(rng):
        a = 0.3 * rng.standard_normal(batch + (m, m)) + 2.0 * np.eye(m)
        b = 0.3 * rng.standard_normal(batch + (n, n)) + 1.0 * np.eye(n)
        c = rng.standard_normal(batch + (m, n))
        return [x.astype(dtype) for x in (a, b, c)]

    return draw


def _expm_args(shape, k):
    def draw(rng):
        return [0.5 * rng.standard_normal(shape) for _ in range(k + 1)]

    return draw


# ---------------------------------------------------------------------------
# One array out of several results (gauge-invariant where they are not unique)


def _flat(x):
    shape = np.shape(x) if not hasattr(x, "aval") else x.aval.shape
    return lax.reshape(x, shape[:-2] + (shape[-2] * shape[-1],))


def _cat(*xs):
    """Concatenate along the last axis, in the dtype of the first complex
    operand if any (each operand at least 1-D per example)."""
    dts = [np.asarray(x).dtype if not hasattr(x, "aval") else x.aval.dtype for x in xs]
    dt = np.result_type(*dts)
    xs = [lax.convert_element_type(x, dt) for x in xs]
    return lax.concatenate(xs, len(_shape(xs[0])) - 1)


def _shape(x):
    return x.aval.shape if hasattr(x, "aval") else np.shape(x)


def _np_cat(*xs):
    dt = np.result_type(*[np.asarray(x).dtype for x in xs])
    return np.concatenate([np.asarray(x, dt) for x in xs], -1)


def _np_flat(x):
    x = np.asarray(x)
    return x.reshape(x.shape[:-2] + (-1,))


def _abs2(x):
    return lax.real(lax.mul(lax.conj(x), x)) if np.dtype(_dtype(x)).kind == "c" else \
        lax.mul(x, x)


def _dtype(x):
    return x.aval.dtype if hasattr(x, "aval") else np.asarray(x).dtype


def _np_abs2(x):
    return np.real(np.conj(x) * x)


def _H(x):
    return linalg._H(x)


def _mm(x, y):
    return linalg._matmul(x, y)


def _slogdet_fun(a):
    sign, logabsdet = linalg.slogdet(a)
    return _cat(lax.expand_dims(sign, (len(_shape(sign)),)),
                lax.expand_dims(logabsdet, (len(_shape(logabsdet)),)))


def _slogdet_ref(a):
    sign, logabsdet = np.linalg.slogdet(a)
    return _np_cat(np.asarray(sign)[..., None], np.asarray(logabsdet)[..., None])


def _eigh_fun(a, *, lower, compute_eigenvectors):
    if not compute_eigenvectors:
        return linalg.eigh(a, lower, compute_eigenvectors=False)
    v, w = linalg.eigh(a, lower)
    return _cat(w, _flat(_abs2(v)))


def _eigh_ref(a, *, lower, compute_eigenvectors):
    if not compute_eigenvectors:
        return np.linalg.eigvalsh(a, "L" if lower else "U")
    w, v = np.linalg.eigh(a, "L" if lower else "U")
    return _np_cat(w, _np_flat(_np_abs2(v)))


def _eig_fun(a, *, compute_right_eigenvectors):
    if not compute_right_eigenvectors:
        return linalg.eig(a, compute_right_eigenvectors=False)
    w, v = linalg.eig(a)
    return _cat(w, _flat(v))


def _eig_ref(a, *, compute_right_eigenvectors):
    dt = np.result_type(a, np.complex64)
    if not compute_right_eigenvectors:
        return np.linalg.eigvals(a).astype(dt)
    w, v = np.linalg.eig(a)
    return _np_cat(w.astype(dt), _np_flat(v).astype(dt))


def _weights(k):
    return np.arange(1.0, k + 1.0)


def _svd_fun(a, *, full_matrices, compute_uv):
    if not compute_uv:
        return linalg.svd(a, full_matrices, compute_uv=False)
    u, s, vh = linalg.svd(a, full_matrices, compute_uv=True)
    *_, m, n = _shape(a)
    k = min(m, n)
    u1 = linalg._take(u, -1, 0, k)
    vh1 = linalg._take(vh, -2, 0, k)
    c = np.broadcast_to(_weights(k).astype(_dtype(vh)), _shape(vh1)[:-2] + (k,))
    parts = [s, _flat(_abs2(u1)), _flat(_abs2(vh1)),
             _flat(_mm(u1, lax.mul(linalg._cols(c, vh1), vh1)))]
    if full_matrices and m > n:
        u2 = linalg._take(u, -1, k, m)
        parts.append(_flat(_mm(u2, _H(u2))))
    if full_matrices and n > m:
        vh2 = linalg._take(vh, -2, k, n)
        parts.append(_flat(_mm(_H(vh2), vh2)))
    return _cat(*parts)


def _svd_ref(a, *, full_matrices, compute_uv):
    if not compute_uv:
        return np.linalg.svd(a, compute_uv=False)
    u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
    *_, m, n = a.shape
    k = min(m, n)
    u1, vh1 = u[..., :, :k], vh[..., :k, :]
    parts = [s, _np_flat(_np_abs2(u1)), _np_flat(_np_abs2(vh1)),
             _np_flat(u1 @ (_weights(k)[:, None] * vh1))]
    if full_matrices and m > n:
        u2 = u[..., :, k:]
        parts.append(_np_flat(u2 @ np.conj(np.swapaxes(u2, -1, -2))))
    if full_matrices and n > m:
        vh2 = vh[..., k:, :]
        parts.append(_np_flat(np.conj(np.swapaxes(vh2, -1, -2)) @ vh2))
    return _np_cat(*parts)


def _qr_fun(a, *, full_matrices):
    q, r = linalg.qr(a, full_matrices)
    *_, m, n = _shape(a)
    if full_matrices and m > n:  # the completing columns are not unique: their projector is
        q1, q2 = linalg._take(q, -1, 0, n), linalg._take(q, -1, n, m)
        return _cat(_flat(q1), _flat(_mm(q2, _H(q2))), _flat(r))
    return _cat(_flat(q), _flat(r))


def _qr_ref(a, *, full_matrices):
    q, r = np.linalg.qr(a, mode="complete" if full_matrices else "reduced")
    *_, m, n = a.shape
    if full_matrices and m > n:
        q1, q2 = q[..., :, :n], q[..., :, n:]
        return _np_cat(_np_flat(q1), _np_flat(q2 @ np.conj(np.swapaxes(q2, -1, -2))),
                       _np_flat(r))
    return _np_cat(_np_flat(q), _np_flat(r))


def _per_matrix(fn, *arrays):
    arrays = [np.asarray(a) for a in arrays]
    batch = arrays[0].shape[:-2]
    if not batch:
        return fn(*arrays)
    outs = [fn(*[a[i] for a in arrays]) for i in np.ndindex(*batch)]
    return np.stack(outs).reshape(batch + np.shape(outs[0]))


def _triangular_ref(a, b, *, left_side, lower, transpose_a, conjugate_a, unit_diagonal):
    from scipy.linalg import solve_triangular

    def one(a, b):
        if conjugate_a:
            a = np.conj(a)
        if left_side:
            return solve_triangular(a, b, trans=1 if transpose_a else 0, lower=lower,
                                    unit_diagonal=unit_diagonal)
        # X op(A) = B  <=>  op(A)^T X^T = B^T
        return solve_triangular(a, b.T, trans=0 if transpose_a else 1, lower=lower,
                                unit_diagonal=unit_diagonal).T

    return _per_matrix(one, a, b)


def _solve_sylvester_ref(a, b, c):
    from scipy.linalg import solve_sylvester

    return _per_matrix(solve_sylvester, a, b, c)


def _sqrtm_ref(a):
    from scipy.linalg import sqrtm

    return _per_matrix(sqrtm, a).astype(np.asarray(a).dtype)


def _expm_ref(a, *es):
    from scipy.linalg import expm, expm_frechet

    if not es:
        return _per_matrix(expm, a)
    if len(es) == 1:
        return _per_matrix(lambda a, e: expm_frechet(a, e, compute_expm=False), a, es[0])

    def one(a, *es):  # the block-bidiagonal exponential, by SciPy directly
        n, k = a.shape[-1], len(es)
        big = np.kron(np.eye(k + 1), a)
        for i, e in enumerate(es):
            big[i * n:(i + 1) * n, (i + 1) * n:(i + 2) * n] = e
        return expm(big)[:n, k * n:]

    return _per_matrix(one, a, *es)


def _tri_case(shape, rhs, lower, dtype=F64, **flags):
    params = dict(left_side=True, lower=lower, transpose_a=False, conjugate_a=False,
                  unit_diagonal=False)
    params.update(flags)
    return C(Arg(shape, dtype=dtype), Arg(rhs, dtype=dtype),
             make=_triangular(shape, lower, dtype, rhs), **params)


def _c(make, *shapes, dtype=F64, **params):
    return C(*[Arg(s, dtype=dtype) for s in shapes], make=make, **params)


RECORDS = [
    OpRecord("cholesky", lambda a: linalg.cholesky(a), np.linalg.cholesky, (
        _c(_hermitian((3, 3), positive=True), (3, 3)),
        _c(_hermitian((2, 3, 3), positive=True), (2, 3, 3)),
        _c(_hermitian((1, 1), positive=True), (1, 1)),
        _c(_hermitian((2, 2), C128, positive=True), (2, 2), dtype=C128),
    )),
    OpRecord("triangular_solve",
             lambda a, b, **params: linalg.triangular_solve(a, b, **params), _triangular_ref, (
                 _tri_case((3, 3), (3, 2), lower=True),
                 _tri_case((3, 3), (3, 1), lower=False, transpose_a=True),
                 _tri_case((3, 3), (2, 3), lower=True, left_side=False),
                 _tri_case((3, 3), (2, 3), lower=False, left_side=False, transpose_a=True,
                           unit_diagonal=True),
                 _tri_case((2, 3, 3), (2, 3, 2), lower=True, unit_diagonal=True),
                 _tri_case((2, 2), (2, 2), lower=True, transpose_a=True, conjugate_a=True,
                           dtype=C128),
             ), linear=((1,),)),
    OpRecord("solve", lambda a, b: linalg.solve(a, b), np.linalg.solve, (
        _c(_with_rhs(_square((3, 3)), (3, 2)), (3, 3), (3, 2)),
        _c(_with_rhs(_square((2, 3, 3)), (2, 3, 1)), (2, 3, 3), (2, 3, 1)),
        _c(_with_rhs(_square((2, 2), C128), (2, 2), C128), (2, 2), (2, 2), dtype=C128),
        _c(_with_rhs(_square((3, 3), F32), (3, 2), F32), (3, 3), (3, 2), dtype=F32),
    ), linear=((1,),)),
    OpRecord("slogdet", _slogdet_fun, _slogdet_ref, (
        _c(_square((3, 3)), (3, 3)),
        _c(_square((2, 3, 3), shift=-3.0), (2, 3, 3)),  # negative determinants too
        _c(_square((2, 2), C128), (2, 2), dtype=C128),
    )),
    OpRecord("eigh", _eigh_fun, _eigh_ref, (
        _c(_hermitian((3, 3)), (3, 3), lower=True, compute_eigenvectors=True),
        _c(_hermitian((3, 3)), (3, 3), lower=False, compute_eigenvectors=True),
        _c(_hermitian((2, 3, 3)), (2, 3, 3), lower=True, compute_eigenvectors=True),
        _c(_hermitian((2, 2), C128), (2, 2), dtype=C128, lower=True,
           compute_eigenvectors=True),
        _c(_hermitian((3, 3)), (3, 3), lower=False, compute_eigenvectors=False),
    )),
    OpRecord("eig", _eig_fun, _eig_ref, (
        _c(_distinct_eigenvalues((3, 3)), (3, 3), compute_right_eigenvectors=True),
        _c(_distinct_eigenvalues((3, 3), complex_pair=True), (3, 3),
           compute_right_eigenvectors=True),
        _c(_distinct_eigenvalues((2, 2, 2)), (2, 2, 2), compute_right_eigenvectors=True),
        _c(_distinct_eigenvalues((2, 2), dtype=C128), (2, 2), dtype=C128,
           compute_right_eigenvectors=True),
        _c(_distinct_eigenvalues((3, 3), complex_pair=True), (3, 3),
           compute_right_eigenvectors=False),
    )),
    OpRecord("svd", _svd_fun, _svd_ref, (
        _c(_distinct_singular_values((3, 3)), (3, 3), full_matrices=False, compute_uv=True),
        _c(_distinct_singular_values((4, 2)), (4, 2), full_matrices=False, compute_uv=True),
        _c(_distinct_singular_values((2, 3)), (2, 3), full_matrices=False, compute_uv=True),
        _c(_distinct_singular_values((2, 3, 2)), (2, 3, 2), full_matrices=False,
           compute_uv=True),
        _c(_distinct_singular_values((4, 2)), (4, 2), full_matrices=True, compute_uv=True),
        _c(_distinct_singular_values((2, 3)), (2, 3), full_matrices=True, compute_uv=True),
        _c(_distinct_singular_values((3, 2)), (3, 2), full_matrices=True, compute_uv=False),
        _c(_distinct_singular_values((3, 2), C128), (3, 2), dtype=C128, full_matrices=False,
           compute_uv=True),
    )),
    OpRecord("pinv", lambda a, *, rcond: linalg.pinv(a, rcond),
             lambda a, *, rcond: np.linalg.pinv(a, rcond=rcond), (
                 _c(_distinct_singular_values((3, 2)), (3, 2), rcond=1e-15),
                 _c(_distinct_singular_values((2, 3)), (2, 3), rcond=1e-15),
                 _c(_distinct_singular_values((2, 3, 3)), (2, 3, 3), rcond=1e-10),
                 _c(_scaled_orthogonal(3), (3, 3), rcond=1e-15, name="repeated_singular_values"),
                 _c(_distinct_singular_values((3, 2), C128), (3, 2), dtype=C128, rcond=1e-15),
             )),
    OpRecord("qr", _qr_fun, _qr_ref, (
        _c(_square((3, 3), shift=2.0), (3, 3), full_matrices=False),
        _c(_general((4, 2), shift=0.0), (4, 2), full_matrices=False),
        _c(_general((2, 4), shift=2.0), (2, 4), full_matrices=False),
        _c(_general((2, 3, 2), shift=1.0), (2, 3, 2), full_matrices=False),
        _c(_general((4, 2), shift=1.0), (4, 2), full_matrices=True),
        _c(_general((3, 2), C128, 1.0), (3, 2), dtype=C128,
           full_matrices=False),
    )),
    OpRecord("solve_sylvester", lambda a, b, c: linalg.solve_sylvester(a, b, c),
             _solve_sylvester_ref, (
                 _c(_sylvester(3, 2), (3, 3), (2, 2), (3, 2)),
                 _c(_sylvester(2, 2, (2,)), (2, 2, 2), (2, 2, 2), (2, 2, 2)),
                 _c(_sylvester(2, 3, dtype=C128), (2, 2), (3, 3), (2, 3), dtype=C128),
             ), linear=((2,),)),
    OpRecord("sqrtm", lambda a: linalg.sqrtm(a), _sqrtm_ref, (
        _c(_hermitian((3, 3), positive=True), (3, 3)),
        _c(_square((3, 3), shift=2.0, scale=0.4), (3, 3)),
        _c(_square((2, 2, 2), shift=2.0, scale=0.4), (2, 2, 2)),
        _c(_square((2, 2), C128, shift=2.0, scale=0.4), (2, 2), dtype=C128),
    )),
    OpRecord("expm", lambda a, *es: linalg.expm(a, *es), _expm_ref, (
        _c(_expm_args((3, 3), 0), (3, 3), linear=()),
        _c(_expm_args((2, 2, 2), 0), (2, 2, 2), linear=()),
        _c(_expm_args((3, 3), 1), (3, 3), (3, 3), name="frechet"),
        _c(_expm_args((2, 2), 2), (2, 2), (2, 2), (2, 2), name="second_order"),
    ), linear=((1,), (2,))),
]
