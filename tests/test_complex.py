"""Complex numbers, following JAX's conventions (the "Complex numbers and
differentiation" section of JAX's autodiff cookbook), case by case.

Identify ``f: C -> C`` with ``g(x, y) = (u(x, y), v(x, y))``, ``z = x + i y``:

* the JVP is the real Jacobian of ``g`` applied to ``(c, d)`` for the tangent
  ``c + i d``, read back as a complex number (holomorphic or not);
* the VJP of the cotangent ``c + i d`` is ``[c, -d] J(g) [1, -i]^T``; for a
  holomorphic ``f`` the JVP is ``f'(z) v`` and the VJP ``ct f'(z)`` (no
  conjugation: the transpose for the pairing ``Re(sum(a * b))``);
* ``grad(f)(z)`` of a real-valued ``f`` is ``vjp(1.0)``, that is
  ``df/dx - i df/dy`` (twice the Wirtinger derivative df/dz, the conjugate of
  the steepest-ascent direction): ``grad(lambda z: abs(z)**2)(3+4j) == 6-8j``;
* ``holomorphic=True`` lets ``grad``/``jacfwd``/``jacrev`` take complex
  outputs and gives ``f'(z)``; for a non-holomorphic ``f`` it gives the
  derivative of the function with the imaginary part of the output dropped.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from op_records import RECORDS, diff_argnums, rng_for
from op_records_complex import NON_HOLOMORPHIC
from op_records_complex import RECORDS as COMPLEX_RECORDS

import fxad
import fxad.numpy as fnp
from fxad import lax
from fxad.test_util import check_grads

RTOL = 1e-12


def _close(a, b, rtol=RTOL, atol=1e-12):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=atol)


def _crandn(rng, shape=()):
    z = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    return z[()] if z.ndim == 0 else z


# ---------------------------------------------------------------------------
# The cookbook's checks, as tests


def _cookbook_fun(u, v):
    def fun(z):
        x, y = fnp.real(z), fnp.imag(z)
        return u(x, y) + v(x, y) * 1j

    return fun


def _linear_uv(rng):
    a, b, c, d = rng.uniform(size=4)
    return (lambda x, y: a * x + b * y), (lambda x, y: c * x + d * y)


def _nonlinear_uv(rng):
    a, b = rng.uniform(0.5, 1.5, size=2)
    return (lambda x, y: a * x ** 2 * y + fnp.sin(y)), (lambda x, y: fnp.exp(b * x) - x * y ** 3)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("make_uv", [_linear_uv, _nonlinear_uv], ids=["linear", "nonlinear"])
def test_cookbook_jvp_is_the_real_jacobian(make_uv, seed):
    rng = np.random.default_rng(seed)
    u, v = make_uv(rng)
    x, y = rng.uniform(size=2)
    c, d = rng.uniform(size=2)
    _, ans = fxad.jvp(_cookbook_fun(u, v), (x + y * 1j,), (c + d * 1j,))
    expected = (fxad.grad(u, 0)(x, y) * c + fxad.grad(u, 1)(x, y) * d
                + fxad.grad(v, 0)(x, y) * c * 1j + fxad.grad(v, 1)(x, y) * d * 1j)
    _close(ans, expected)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("make_uv", [_linear_uv, _nonlinear_uv], ids=["linear", "nonlinear"])
def test_cookbook_vjp_covector_convention(make_uv, seed):
    rng = np.random.default_rng(seed)
    u, v = make_uv(rng)
    x, y = rng.uniform(size=2)
    c, d = rng.uniform(size=2)
    _, fun_vjp = fxad.vjp(_cookbook_fun(u, v), x + y * 1j)
    (ans,) = fun_vjp(np.complex128(c + d * 1j))
    expected = (fxad.grad(u, 0)(x, y) * c + fxad.grad(v, 0)(x, y) * (-d)
                + fxad.grad(u, 1)(x, y) * c * (-1j) + fxad.grad(v, 1)(x, y) * (-d) * (-1j))
    _close(ans, expected)


def test_cookbook_grad_of_real_valued_function():
    def f(z):
        x, y = fnp.real(z), fnp.imag(z)
        return x ** 2 + y ** 2

    g = fxad.grad(f)(3.0 + 4j)
    assert g == 6 - 8j and isinstance(g, np.complex128)
    # The same function written with abs (the example).
    _close(fxad.grad(lambda z: fnp.abs(z) ** 2)(3.0 + 4j), 6 - 8j)


def test_cookbook_holomorphic_grad():
    z = 3.0 + 4j
    _close(fxad.grad(fnp.sin, holomorphic=True)(z), np.cos(z))


def test_cookbook_holomorphic_on_a_non_holomorphic_function():
    # conj is not holomorphic: holomorphic=True then differentiates the
    # function with the imaginary part of the output dropped, Re(conj(z)) = x,
    # whose gradient in JAX's convention is d/dx - i d/dy = 1.
    g = fxad.grad(fnp.conjugate, holomorphic=True)(3.0 + 4j)
    assert g == 1.0 and np.iscomplexobj(g)
    _close(g, fxad.grad(lambda z: fnp.real(fnp.conj(z)))(3.0 + 4j))


def test_cookbook_descent_along_the_conjugate_gradient():
    """Upshot 2: optimize a real loss of complex parameters by stepping along
    the conjugate of grad."""
    target = np.array([1.0 + 2j, -0.5j])

    def loss(z):
        return fnp.sum(fnp.abs(z - target) ** 2)

    z = np.zeros(2, complex)
    for _ in range(50):
        z = z - 0.25 * np.conj(fxad.grad(loss)(z))
    _close(z, target, atol=1e-10)
    # Stepping along grad itself (not conjugated) goes wrong in Im.
    assert not np.allclose(np.zeros(2) - 0.5 * fxad.grad(loss)(np.zeros(2, complex)), target)


def _dft(n):
    k = np.arange(n)
    return np.exp(-2j * np.pi * np.outer(k, k) / n)


def test_cookbook_real_function_through_complex_intermediates():
    """Upshot 3: an R -> R function computed with complex operations (some
    not holomorphic) gets the gradient a real implementation gets."""

    def f_complex(x):
        return fnp.real(fnp.exp(1j * x) * (2.0 + 3j))

    def f_real(x):
        return 2.0 * fnp.cos(x) - 3.0 * fnp.sin(x)

    for x in (0.3, -1.2):
        _close(fxad.grad(f_complex)(x), fxad.grad(f_real)(x))
        _close(fxad.grad(fxad.grad(f_complex))(x), fxad.grad(fxad.grad(f_real))(x))
    # Parseval through a DFT matrix: sum |W x|^2 = n sum x^2.
    w = _dft(5)
    x = np.random.default_rng(0).standard_normal(5)
    g = fxad.grad(lambda x: fnp.sum(fnp.abs(w @ x) ** 2))(x)
    assert g.dtype == np.float64
    _close(g, 2 * 5 * x, rtol=1e-10)
    check_grads(lambda x: fnp.sum(fnp.abs(w @ x) ** 2), (x,), order=2)


def test_cookbook_full_jacobian_of_non_holomorphic_function_by_jvp_and_vjp():
    """JVPs and VJPs always give the whole 2x2 real Jacobian."""

    def f(z):
        return fnp.conj(z) * z ** 2  # u + i v with z conj(z) z = |z|^2 z

    z = 0.7 - 0.4j
    x, y = z.real, z.imag
    # f = (x^2 + y^2)(x + i y): u = x^3 + x y^2, v = x^2 y + y^3
    jac = np.array([[3 * x ** 2 + y ** 2, 2 * x * y],
                    [2 * x * y, x ** 2 + 3 * y ** 2]])
    cols = [fxad.jvp(f, (z,), (t,))[1] for t in (1.0 + 0j, 1j)]
    _close(np.array([[c.real for c in cols], [c.imag for c in cols]]), jac)
    _, f_vjp = fxad.vjp(f, z)
    # The cotangent c + i d pulls back to [c, -d] J [1, -i]^T.
    for c, d in ((1.0, 0.0), (0.0, 1.0), (0.3, -2.0)):
        row = np.array([c, -d]) @ jac
        _close(f_vjp(np.complex128(c + 1j * d))[0], row[0] - 1j * row[1])


def test_cookbook_cholesky_of_a_complex_matrix():
    linalg = fnp.linalg
    a = np.array([[5.0, 2.0 + 3j, 5j], [2.0 - 3j, 7.0, 1.0 + 7j], [-5j, 1.0 - 7j, 12.0]])

    def f(x):
        ell = linalg.cholesky(x)
        return fnp.sum((ell - fnp.sin(ell)) ** 2)

    g = fxad.grad(f, holomorphic=True)(a)
    assert g.shape == a.shape and g.dtype == np.complex128 and np.all(np.isfinite(g))
    # grad with holomorphic=True is vjp(1.0), and the VJP is the transpose of
    # the JVP: <E, jvp(v)> == <vjp(E), v> with E = 1.
    rng = np.random.default_rng(0)
    v = _crandn(rng, a.shape)
    v = v + v.conj().T  # a Hermitian direction, where Cholesky is defined
    _, t = fxad.jvp(f, (a,), (v,))
    _close(np.real(t), np.real(np.sum(g * v)), rtol=1e-10)


# ---------------------------------------------------------------------------
# Holomorphic functions against their analytic derivatives

HOLOMORPHIC = {
    "square": (lambda z: z ** 2, lambda z: 2 * z, lambda z: 2 + 0 * z),
    "polynomial": (lambda z: 3 * z ** 4 - (2 - 1j) * z ** 2 + 5j * z - 1,
                   lambda z: 12 * z ** 3 - 2 * (2 - 1j) * z + 5j,
                   lambda z: 36 * z ** 2 - 2 * (2 - 1j)),
    "exp": (fnp.exp, np.exp, np.exp),
    "sin": (fnp.sin, np.cos, lambda z: -np.sin(z)),
    "reciprocal": (lambda z: 1 / z, lambda z: -1 / z ** 2, lambda z: 2 / z ** 3),
    "exp_sin": (lambda z: fnp.exp(z) * fnp.sin(z),
                lambda z: np.exp(z) * (np.sin(z) + np.cos(z)),
                lambda z: 2 * np.exp(z) * np.cos(z)),
    "log": (fnp.log, lambda z: 1 / z, lambda z: -1 / z ** 2),
    "sqrt": (fnp.sqrt, lambda z: 0.5 / np.sqrt(z), lambda z: -0.25 * z ** -1.5),
    "tanh": (fnp.tanh, lambda z: 1 / np.cosh(z) ** 2,
             lambda z: -2 * np.tanh(z) / np.cosh(z) ** 2),
    "power": (lambda z: z ** (0.5 + 2j), lambda z: (0.5 + 2j) * z ** (-0.5 + 2j),
              lambda z: (0.5 + 2j) * (-0.5 + 2j) * z ** (-1.5 + 2j)),
}
Z = np.array([0.8 + 0.3j, -0.4 + 1.1j, 1.5 - 0.7j])  # off the negative real axis


@pytest.mark.parametrize("name", sorted(HOLOMORPHIC))
def test_holomorphic_derivatives(name):
    f, df, d2f = HOLOMORPHIC[name]
    for z in Z:
        _close(fxad.grad(f, holomorphic=True)(z), df(z), rtol=1e-10)
        _close(fxad.jacfwd(f, holomorphic=True)(z), df(z), rtol=1e-10)
        _close(fxad.jacrev(f, holomorphic=True)(z), df(z), rtol=1e-10)
        _close(fxad.grad(fxad.grad(f, holomorphic=True), holomorphic=True)(z), d2f(z),
               rtol=1e-10)
        _close(fxad.hessian(f, holomorphic=True)(z), d2f(z), rtol=1e-10)
        v, ct = 0.3 - 1.2j, -0.6 + 0.25j
        _close(fxad.jvp(f, (z,), (v,))[1], df(z) * v, rtol=1e-10)  # f'(z) v
        _close(fxad.vjp(f, z)[1](np.complex128(ct))[0], ct * df(z), rtol=1e-10)  # ct f'(z)
    # Vectorized: the Jacobian is diagonal.
    for jac in (fxad.jacfwd, fxad.jacrev):
        _close(jac(f, holomorphic=True)(Z), np.diag(df(Z)), rtol=1e-10)
    check_grads(f, (Z,), order=2)


def test_holomorphic_functions_of_several_arguments():
    def f(z, w):
        return fnp.sum(z * fnp.exp(w) + w ** 2 / z)

    z, w = Z, Z[::-1] * 0.5
    gz, gw = fxad.grad(f, argnums=(0, 1), holomorphic=True)(z, w)
    _close(gz, np.exp(w) - w ** 2 / z ** 2)
    _close(gw, z * np.exp(w) + 2 * w / z)
    jz, jw = fxad.jacrev(f, argnums=(0, 1), holomorphic=True)(z, w)
    _close(jz, gz)
    _close(jw, gw)
    check_grads(f, (z, w), order=2)


def test_holomorphic_complex64_stays_complex64():
    z = np.array([0.5 + 0.5j, 1.0 - 0.2j], np.complex64)
    g = fxad.grad(lambda z: fnp.sum(fnp.sin(z) * z), holomorphic=True)(z)
    assert g.dtype == np.complex64
    _close(g, np.cos(z) * z + np.sin(z), rtol=1e-6, atol=1e-6)
    g = fxad.grad(lambda z: fnp.sum(fnp.abs(z) ** 2))(z)
    assert g.dtype == np.complex64
    _close(g, 2 * np.conj(z), rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------------------
# Real-valued losses of complex inputs: grad = df/dx - i df/dy


def _grad_by_parts(f, z, h=1e-6):
    """df/dx - i df/dy by central differences, elementwise."""
    z = np.asarray(z, complex)
    g = np.zeros_like(z)
    for k in np.ndindex(z.shape):
        e = np.zeros_like(z)
        e[k] = 1.0
        dx = (f(z + h * e) - f(z - h * e)) / (2 * h)
        dy = (f(z + 1j * h * e) - f(z - 1j * h * e)) / (2 * h)
        g[k] = dx - 1j * dy
    return g


A = np.array([[1.0 + 1j, 2.0, -0.5j], [0.3, -1.0 + 0.5j, 2.0j]])
B = np.array([1.0 - 1j, 0.5j])


@pytest.mark.parametrize("name,f,g", [
    ("abs2", lambda z: fnp.sum(fnp.abs(z) ** 2), lambda z: 2 * np.conj(z)),
    ("re2_im3", lambda z: fnp.sum(fnp.real(z) ** 2 + fnp.imag(z) ** 3),
     lambda z: 2 * z.real - 3j * z.imag ** 2),
    ("z_conj_z", lambda z: fnp.sum(fnp.real(z * fnp.conj(z))), lambda z: 2 * np.conj(z)),
    ("dft_power", lambda z: fnp.sum(fnp.abs(_dft(3) @ z) ** 2), lambda z: 2 * 3 * np.conj(z)),
    ("abs", lambda z: fnp.sum(fnp.abs(z)), lambda z: np.conj(z) / np.abs(z)),
    ("least_squares", lambda z: fnp.sum(fnp.abs(A @ z - B) ** 2),
     lambda z: 2 * A.T @ np.conj(A @ z - B)),
    ("re_of_holomorphic", lambda z: fnp.sum(fnp.real(fnp.exp(z) * z)),
     lambda z: np.exp(z) * (z + 1)),  # Re(h): grad = h'(z) (Cauchy-Riemann)
    ("im_of_holomorphic", lambda z: fnp.sum(fnp.imag(z ** 3)), lambda z: -3j * z ** 2),
    ("angle", lambda z: fnp.sum(fnp.arctan2(fnp.imag(z), fnp.real(z))), lambda z: -1j / z),
])
def test_real_valued_loss_matches_jax_convention(name, f, g):
    z = Z
    got = fxad.grad(f)(z)
    assert got.dtype == np.complex128 and got.shape == z.shape
    _close(got, g(z), rtol=1e-10)
    _close(got, _grad_by_parts(lambda z: float(f(z)), z), rtol=1e-6, atol=1e-7)
    # jacrev agrees (complex inputs, real output: allowed as in JAX) ...
    _close(fxad.jacrev(f)(z), got)
    # ... and so does vjp with the cotangent 1.0
    _close(fxad.vjp(f, z)[1](1.0)[0], got)
    check_grads(f, (z,), order=2)


def test_mixed_real_and_complex_arguments():
    def loss(x, z):
        return fnp.sum(fnp.abs(x * z - 1.0) ** 2)

    x, z = np.array([0.5, -1.5, 2.0]), Z
    gx, gz = fxad.grad(loss, argnums=(0, 1))(x, z)
    assert gx.dtype == np.float64 and gz.dtype == np.complex128
    r = x * z - 1.0
    _close(gx, 2 * np.real(np.conj(r) * z))  # real input: the ordinary gradient
    _close(gz, 2 * x * np.conj(r))
    check_grads(loss, (x, z), order=2)


# ---------------------------------------------------------------------------
# JVP and VJP with complex tangents and cotangents


def _pair(a, b):
    return float(sum(np.real(np.sum(np.asarray(x) * np.asarray(y))) for x, y in zip(a, b)))


FUNCTIONS = {
    "holomorphic": lambda z, w: fnp.sin(z) * w + z ** 3,
    "conj": lambda z, w: fnp.conj(z) * w,
    "abs_to_complex": lambda z, w: fnp.abs(z) * w,
    "real_imag": lambda z, w: fnp.real(z) * w - 1j * fnp.imag(w) * z,
    "matmul": lambda z, w: fnp.matmul(A, z) * fnp.sum(w),
    "mixed_reductions": lambda z, w: fnp.cumsum(z * w) + fnp.prod(w),
}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_vjp_is_the_transpose_of_jvp_for_complex_cotangents(name):
    f = FUNCTIONS[name]
    rng = rng_for("vjp_jvp", name)
    z, w = Z, _crandn(rng, 3)
    v = (_crandn(rng, 3), _crandn(rng, 3))
    y, t = fxad.jvp(f, (z, w), v)
    ct = _crandn(rng, np.shape(y))
    _, f_vjp = fxad.vjp(f, z, w)
    np.testing.assert_allclose(_pair([ct], [t]), _pair(f_vjp(ct), v), rtol=1e-12)
    check_grads(f, (z, w), order=2)


def test_linearize_and_linear_transpose_with_complex_values():
    f = FUNCTIONS["holomorphic"]
    w = Z[::-1]
    _, f_jvp = fxad.linearize(lambda z: f(z, w), Z)
    v = np.array([1.0, 1j, -1.0 + 0.5j])
    _close(f_jvp(v), (np.cos(Z) * w + 3 * Z ** 2) * v)
    # a complex-linear map and its (non-conjugating) transpose
    f_t = fxad.linear_transpose(lambda x: A @ x, Z)
    ct = np.array([1.0 - 1j, 2j])
    _close(f_t(ct)[0], A.T @ ct)


# ---------------------------------------------------------------------------
# Every holomorphic complex case of the op records: jacfwd == jacrev with
# holomorphic=True, and a JVP that is complex-linear in the tangent.


def _holomorphic_cases():
    out = []
    for rec in COMPLEX_RECORDS:
        if rec.name in NON_HOLOMORPHIC:
            continue
        for k, case in enumerate(rec.cases):
            if rec.case_diff(case) != "smooth":
                continue
            # Only cases with a complex argument and a complex output are
            # holomorphic Jacobians; the others are covered elsewhere.
            args = case.sample(rng_for(rec.name, case.label()))
            if not any(np.iscomplexobj(args[i]) for i in diff_argnums(args)):
                continue
            if not np.iscomplexobj(rec.fun(*args, **case.params)):
                continue
            out.append(pytest.param(rec, case, id=f"{rec.name}-{k}-{case.label()}"))
    return out


@pytest.mark.parametrize("rec,case", _holomorphic_cases())
def test_records_holomorphic_jacobians(rec, case):
    args = case.sample(rng_for(rec.name, case.label()))
    nums = [i for i in diff_argnums(args) if np.iscomplexobj(args[i])]

    def f(*zs):
        full = list(args)
        for i, z in zip(nums, zs):
            full[i] = z
        return rec.fun(*full, **case.params)

    zs = [args[i] for i in nums]
    y = f(*zs)
    assert np.iscomplexobj(y)
    argnums = tuple(range(len(zs)))
    jf = fxad.jacfwd(f, argnums=argnums, holomorphic=True)(*zs)
    jr = fxad.jacrev(f, argnums=argnums, holomorphic=True)(*zs)
    single = any(np.asarray(a).dtype == np.complex64 for a in [*zs, y])
    rtol, atol = (1e-5, 1e-5) if single else (1e-11, 1e-12)
    for a, b in zip(jf, jr):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    # Holomorphic: the tangent map is complex-linear, jvp(i v) == i jvp(v),
    # and it is the Jacobian applied to v.
    rng = rng_for("holo", rec.name, case.label())
    vs = [np.asarray(_crandn(rng, np.shape(z))).astype(np.asarray(z).dtype) for z in zs]
    _, t = fxad.jvp(f, tuple(zs), tuple(vs))
    _, t_i = fxad.jvp(f, tuple(zs), tuple(np.asarray(1j * v, np.asarray(v).dtype) for v in vs))
    np.testing.assert_allclose(t_i, 1j * np.asarray(t), rtol=rtol, atol=atol)
    jv = sum(np.tensordot(j, v, axes=np.ndim(v)) for j, v in zip(jf, vs))
    np.testing.assert_allclose(t, jv, rtol=rtol * 10, atol=atol * 10)


def test_every_complex_capable_primitive_has_complex_records():
    names = {r.name for r in COMPLEX_RECORDS}
    for must in ("add", "sub", "mul", "div", "integer_pow", "pow", "exp", "log", "log1p",
                 "expm1", "sin", "cos", "tan", "sinh", "cosh", "tanh", "sqrt", "asin", "acos",
                 "atan", "asinh", "acosh", "atanh", "abs", "sign", "real", "imag", "conj",
                 "complex", "convert_element_type", "reduce_sum", "reduce_prod", "cumsum",
                 "dot_general", "select_n", "broadcast_in_dim", "reshape", "transpose",
                 "squeeze", "expand_dims", "rev", "slice", "pad", "concatenate", "gather",
                 "scatter-add"):
        assert must in names, must
    assert all(any(r is q for q in RECORDS) for r in COMPLEX_RECORDS)  # picked up


# ---------------------------------------------------------------------------
# Primitive details


def test_imag_and_complex_primitives():
    z = np.array([1.0 + 2j, -3.0 - 0.5j])
    assert lax.imag(z).dtype == np.float64
    _close(lax.imag(z), z.imag)
    assert lax.imag(z.astype(np.complex64)).dtype == np.float32
    assert lax.complex(np.float32(1.0), np.float32(2.0)).dtype == np.complex64
    _close(lax.complex(np.array([1.0, 2.0]), 3.0), [1 + 3j, 2 + 3j])
    # Infinities in the imaginary part stay where they are (x + 1j * y would
    # turn them into nan + inf j).
    c = lax.complex(1.0, np.inf)
    assert c.real == 1.0 and c.imag == np.inf
    # d imag(z) = imag(dz); its transpose takes ct to -i ct.
    _, t = fxad.jvp(lax.imag, (z,), (np.array([1j, 2.0 + 3j]),))
    _close(t, [1.0, 3.0])
    _close(fxad.grad(lambda z: lax.reduce_sum(lax.imag(z), (0,)))(z), [-1j, -1j])
    # complex(x, y) is linear over the reals; its transpose takes ct to
    # (Re ct, -Im ct).
    gx, gy = fxad.grad(lambda x, y: lax.abs(lax.complex(x, y)), argnums=(0, 1))(3.0, 4.0)
    _close([gx, gy], [0.6, 0.8])
    _, f_vjp = fxad.vjp(lax.complex, 1.0, 2.0)
    _close(f_vjp(np.complex128(2.0 + 5j)), (2.0, -5.0))
    with pytest.raises(TypeError, match="complex input"):
        fxad.make_jaxpr(lax.imag)(1.0)
    with pytest.raises(TypeError, match="real floating-point parts"):
        fxad.make_jaxpr(lax.complex)(1j, 2j)
    with pytest.raises(TypeError, match="one dtype"):
        fxad.make_jaxpr(lax.complex)(np.float32(1.0), 2.0)


@pytest.mark.parametrize("op", [lax.floor, lax.ceil, lax.round, lax.trunc])
def test_rounding_rejects_complex(op):
    with pytest.raises(TypeError, match="real floating-point input"):
        fxad.make_jaxpr(op)(1.0 + 2j)


@pytest.mark.parametrize("op", [lax.atan2, lax.rem])
def test_real_binary_ops_reject_complex(op):
    with pytest.raises(TypeError, match="requires real inputs"):
        fxad.make_jaxpr(op)(1.0 + 2j, 1j)


def test_acosh_derivative_in_the_left_half_plane():
    # sqrt(z*z - 1) has a branch cut on the imaginary axis that arccosh has
    # not: the derivative is 1 / (sqrt(z - 1) sqrt(z + 1)).
    z = np.array([-1.5 + 0.5j, -0.3 - 1.0j, 2.0 + 0.1j])
    h = 1e-7
    numeric = (np.arccosh(z + h) - np.arccosh(z - h)) / (2 * h)
    _close(fxad.jacfwd(fnp.arccosh, holomorphic=True)(z), np.diag(numeric), rtol=1e-7,
           atol=1e-8)


def test_abs_of_complex_at_zero_has_zero_derivative():
    # d|z| = Re(conj(z) dz) / |z|, taken as 0 at z == 0 (JAX's convention).
    z = np.array([0j, 3 + 4j])
    _close(fxad.grad(lambda z: fnp.sum(fnp.abs(z)))(z), [0, 0.6 - 0.8j])
    _close(fxad.grad(lambda z: fnp.sum(fnp.abs(z) ** 2))(z), [0, 6 - 8j])


def test_complex_sign_has_zero_derivative_as_in_jax():
    # JAX declares sign's derivative zero for complex inputs too (sign(z) =
    # z / |z| is not piecewise constant there): write z / abs(z) to
    # differentiate the phase.
    z = np.array([3 + 4j, -1j])
    _close(lax.sign(z), z / np.abs(z))
    assert np.all(fxad.grad(lambda z: fnp.sum(fnp.real(fnp.sign(z))))(z) == 0)
    g = fxad.grad(lambda z: fnp.sum(fnp.real(z / fnp.abs(z))))(z)
    _close(g, _grad_by_parts(lambda z: np.sum(np.real(z / np.abs(z))), z), rtol=1e-6)


def test_conversions_between_real_and_complex():
    # real -> complex -> real: the cotangent of the conversion to complex is
    # the real part of the complex cotangent.
    f = lambda x: fnp.real(fnp.exp(1j * x.astype(np.complex128)))  # noqa: E731
    x = np.array([0.2, 1.0])
    _close(fxad.grad(lambda x: fnp.sum(f(x)))(x), -np.sin(x))
    # complex -> real keeps the real part, so its derivative is d Re(z).
    g = fxad.grad(lambda z: lax.reduce_sum(lax.convert_element_type(z, np.float64) ** 2, (0,)))(Z)
    _close(g, 2 * Z.real)
    # complex128 -> complex64 is holomorphic (the identity, rounded).
    j = fxad.jacfwd(lambda z: lax.convert_element_type(z, np.complex64), holomorphic=True)(Z)
    assert j.dtype == np.complex64
    _close(j, np.eye(3), rtol=0, atol=0)


# ---------------------------------------------------------------------------
# Errors, as JAX raises them


def test_grad_of_complex_output_needs_holomorphic():
    with pytest.raises(TypeError, match=r"grad requires real-valued outputs.*complex128.*"
                                        r"holomorphic=True.*fxad\.vjp"):
        fxad.grad(fnp.sin)(1.0 + 1j)
    with pytest.raises(TypeError, match="grad requires real-valued outputs"):
        fxad.grad(lambda x: x * 1j)(1.0)  # a real input does not help
    with pytest.raises(TypeError, match="value_and_grad|grad requires real-valued outputs"):
        fxad.value_and_grad(fnp.exp)(1j)


def test_jacfwd_of_complex_input_needs_holomorphic():
    with pytest.raises(TypeError, match=r"jacfwd requires real-valued inputs.*complex128.*"
                                        r"holomorphic=True.*fxad\.jvp"):
        fxad.jacfwd(lambda z: fnp.abs(z))(1.0 + 1j)
    with pytest.raises(TypeError, match="jacfwd requires real-valued inputs"):
        fxad.hessian(lambda z: fnp.abs(z) ** 2)(1.0 + 1j)
    # jacfwd of a real input with a complex output is fine (R -> C).
    _close(fxad.jacfwd(lambda x: fnp.exp(1j * x))(0.5), 1j * np.exp(0.5j))


def test_jacrev_of_complex_output_needs_holomorphic():
    with pytest.raises(TypeError, match=r"jacrev requires real-valued outputs.*holomorphic"):
        fxad.jacrev(fnp.sin)(np.array([1.0 + 1j]))
    with pytest.raises(TypeError, match="jacrev requires real-valued outputs"):
        fxad.jacrev(lambda x: fnp.exp(1j * x))(0.5)
    # Complex inputs with a real output are fine, as for grad.
    _close(fxad.jacrev(lambda z: fnp.abs(z) ** 2)(np.array([3 + 4j])), [[6 - 8j]])


@pytest.mark.parametrize("transform", [fxad.grad, fxad.jacfwd, fxad.jacrev, fxad.hessian,
                                       fxad.value_and_grad])
def test_holomorphic_requires_complex_inputs(transform):
    name = transform.__name__
    name = "grad" if name == "value_and_grad" else ("jacfwd" if name == "hessian" else name)
    with pytest.raises(TypeError, match=f"{name} with holomorphic=True requires inputs with "
                                        "complex dtype, but argument 0 has dtype float64"):
        transform(fnp.sin, holomorphic=True)(1.0)
    with pytest.raises(TypeError, match="requires inputs with complex dtype.*argument 1"):
        transform(lambda z, x: z * x, argnums=(0, 1), holomorphic=True)(1j, np.float64(2.0))


@pytest.mark.parametrize("transform", [fxad.grad, fxad.jacfwd, fxad.jacrev])
def test_holomorphic_requires_complex_outputs(transform):
    with pytest.raises(TypeError, match=f"{transform.__name__} with holomorphic=True requires "
                                        "outputs with complex dtype"):
        transform(fnp.abs, holomorphic=True)(1.0 + 1j)


def test_holomorphic_hessian_and_nesting():
    f = lambda z: fnp.sum(fnp.exp(z) * z)  # noqa: E731
    h = fxad.hessian(f, holomorphic=True)(Z)
    _close(h, np.diag(np.exp(Z) * (Z + 2)), rtol=1e-12)
    g2 = fxad.jacfwd(fxad.grad(f, holomorphic=True), holomorphic=True)(Z)
    _close(g2, h)
    third = fxad.grad(fxad.grad(fxad.grad(fnp.sin, holomorphic=True), holomorphic=True),
                      holomorphic=True)
    _close(third(0.5 + 0.5j), -np.cos(0.5 + 0.5j))


@pytest.mark.parametrize("order", [1, 2])
def test_check_grads_complex_functions(order):
    rng = np.random.default_rng(3)
    z = _crandn(rng, (2, 3)) * 0.5
    x = rng.standard_normal(3)
    for f in (lambda z, x: fnp.sum(fnp.abs(z @ x) ** 2),
              lambda z, x: fnp.tanh(z) * x + fnp.conj(z) ** 2,
              lambda z, x: fnp.real(fnp.sum(z, axis=0)) * fnp.imag(z[0]) + x,
              lambda z, x: fnp.where(fnp.real(z) > 0, z * x, fnp.exp(z)),
              functools.partial(lambda z, x, k: fnp.concatenate([z[:, ::k], z * x], axis=1), k=2)):
        check_grads(f, (z, x), order=order)
