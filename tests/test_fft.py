"""``fxad.numpy.fft`` against ``numpy.fft``: values on traced arrays (every
function, ``n``/``s``, axes, norms, dtypes), derivatives to second order on
hypothesis-drawn shapes, transposes, vmap against a loop, and the errors.
The ``fft`` primitive itself is covered by its op records
(``tests/op_records_fft.py``)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import fxad
import fxad.numpy as fnp
from fxad.test_util import check_grads

FFT = fnp.fft
NORMS = [None, "backward", "ortho", "forward"]
ONE_D = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft"]
N_D = ["fftn", "ifftn", "rfftn", "irfftn", "fft2", "ifft2", "rfft2", "irfft2"]
REAL_INPUT = {"rfft", "ihfft", "rfftn", "rfft2"}
HYP = settings(deadline=None, max_examples=15, derandomize=True)


def traced(f, *args):
    """``f(*args)`` computed on tracers (a staged jaxpr, evaluated)."""
    return fxad.make_jaxpr(f)(*args)(*args)[0]


def assert_same(actual, expected, rtol=1e-12, atol=1e-13):
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


def _input(name, shape, rng, dtype=np.float64):
    x = rng.standard_normal(shape)
    if name not in REAL_INPUT and np.dtype(dtype).kind != "f":
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype)


# ---------------------------------------------------------------------------
# Values


@pytest.mark.parametrize("name", ONE_D)
@pytest.mark.parametrize("norm", NORMS)
def test_one_dimensional_values(name, norm):
    rng = np.random.default_rng(0)
    f, ref = getattr(FFT, name), getattr(np.fft, name)
    x = _input(name, (3, 6), rng, np.float64 if name in REAL_INPUT else np.complex128)
    for n in (None, 1, 4, 6, 9):
        for axis in (-1, 0, 1):
            assert_same(traced(lambda v, n=n, axis=axis: f(v, n, axis, norm), x),
                        ref(x, n, axis, norm))
    # eager: NumPy's own, to the last bit
    assert_same(f(x, 5, 0, norm), ref(x, 5, 0, norm), rtol=0, atol=0)


@pytest.mark.parametrize("name,dtype", [
    (name, dtype) for name in ONE_D
    for dtype in [np.float32, np.int64, np.complex64, np.bool_]
    # NumPy's real transforms reject complex input (tested below)
    if not (name in REAL_INPUT and np.dtype(dtype).kind == "c")])
def test_dtypes_follow_numpy(name, dtype):
    rng = np.random.default_rng(1)
    x = (rng.standard_normal(6) * 3).astype(dtype) if dtype != np.bool_ else rng.random(6) < 0.5
    if np.dtype(dtype).kind == "c":
        x = (x + 1j * rng.standard_normal(6)).astype(dtype)
    single = np.dtype(dtype) in (np.float32, np.complex64)
    assert_same(traced(getattr(FFT, name), x), getattr(np.fft, name)(x),
                rtol=1e-5 if single else 1e-12, atol=1e-5 if single else 1e-13)


@pytest.mark.parametrize("name", N_D)
@pytest.mark.parametrize("s,axes", [
    (None, None), (None, (0,)), (None, (1, 0)), ((4, 3), (0, 1)), ((2, 7), (-1, 0)),
    ((3,), (2,)), (None, (0, 1, 2)), ((3, 3), (1, 1)), (None, (2, 0, 2)),
], ids=lambda v: str(v).replace(" ", ""))
@pytest.mark.parametrize("norm", [None, "ortho", "forward"])
def test_n_dimensional_values(name, s, axes, norm):
    rng = np.random.default_rng(2)
    f, ref = getattr(FFT, name), getattr(np.fft, name)
    x = _input(name, (3, 4, 5), rng, np.float64 if name in REAL_INPUT else np.complex128)
    if name.endswith("2"):
        if axes is None or len(axes) != 2:
            axes = (-2, -1)
        if s is not None and len(s) != 2:
            s = None
    assert_same(traced(lambda v: f(v, s, axes, norm), x), ref(x, s, axes, norm))


@pytest.mark.parametrize("shift", ["fftshift", "ifftshift"])
@pytest.mark.parametrize("shape,axes", [
    (shape, axes) for shape in [(5,), (6,), (3, 4), (2, 0), (1,)]
    for axes in [None, 0, -1, (0,), (0, -1)]
    if not (isinstance(axes, tuple) and len(shape) < len(axes))])
def test_shifts_match_numpy(shift, shape, axes):
    x = np.arange(float(np.prod(shape))).reshape(shape)
    f, ref = getattr(FFT, shift), getattr(np.fft, shift)
    assert_same(traced(lambda v: f(v, axes), x), ref(x, axes), rtol=0, atol=0)
    assert_same(traced(lambda v: FFT.ifftshift(FFT.fftshift(v, axes), axes), x), x)


def test_fftfreq_is_numpy():
    assert FFT.fftfreq is np.fft.fftfreq and FFT.rfftfreq is np.fft.rfftfreq


def test_staged_jaxpr_is_one_fft_primitive():
    x = np.ones((2, 8))
    text = str(fxad.make_jaxpr(lambda v: FFT.rfft(v, norm="ortho"))(x))
    assert "fft[fft_lengths=(8,) fft_type='RFFT' norm='ortho']" in text
    assert text.count(" fft[") == 1
    # over the first axis: transposes around one fft
    text = str(fxad.make_jaxpr(lambda v: FFT.fft(v, axis=0))(x))
    assert text.count(" fft[") == 1 and "transpose" in text


def test_numpy_fft_on_tracers_dispatches_here():
    x = np.array([1.0, 2.0, 0.5, -1.0])
    g = fxad.grad(lambda v: np.sum(np.abs(np.fft.rfft(v)) ** 2))(x)
    np.testing.assert_allclose(g, fxad.grad(lambda v: fnp.sum(fnp.abs(FFT.rfft(v)) ** 2))(x))


# ---------------------------------------------------------------------------
# Derivatives


def test_gradient_of_power_spectrum_is_parseval():
    # sum |fft(x)|**2 = n sum x**2, so its gradient is 2 n x.
    x = np.random.default_rng(3).standard_normal(7)
    g = fxad.grad(lambda v: fnp.sum(fnp.abs(FFT.fft(v)) ** 2))(x)
    np.testing.assert_allclose(g, 2 * 7 * x, rtol=1e-13)
    check_grads(lambda v: fnp.sum(fnp.abs(FFT.fft(v)) ** 2), (x,), order=2,
                modes=("fwd", "rev"))
    z = x + 1j * x[::-1]
    gz = fxad.grad(lambda v: fnp.sum(fnp.abs(FFT.fft(v)) ** 2))(z)
    # At complex inputs fxad follows JAX: the gradient of n sum |z|**2 is 2 n conj(z).
    np.testing.assert_allclose(gz, 2 * 7 * np.conj(z), rtol=1e-13)


@HYP
@given(data=st.data())
def test_check_grads_one_dimensional(data):
    name = data.draw(st.sampled_from(ONE_D), label="function")
    shape = data.draw(st.sampled_from([(1,), (4,), (5,), (2, 3), (0, 4), (3, 0, 2)]),
                      label="shape")
    axis = data.draw(st.sampled_from([-1, 0]), label="axis")
    if shape[axis] == 0 and name in ("fft", "ifft", "rfft", "ihfft"):
        axis = -1
    m = shape[axis]
    n = data.draw(st.sampled_from([None, 1, 3, 6]), label="n")
    if n is None and (m == 0 or (name in ("irfft", "hfft") and m < 2)):
        n = 3  # the default length would be 0 (NumPy raises)
    norm = data.draw(st.sampled_from(NORMS), label="norm")
    rng = np.random.default_rng(len(shape) * 7 + (n or 0))
    dtype = np.float64 if name in REAL_INPUT or data.draw(st.booleans(), label="real") \
        else np.complex128
    x = _input(name, shape, rng, dtype)
    f = getattr(FFT, name)
    assert_same(traced(lambda v: f(v, n, axis, norm), x), getattr(np.fft, name)(x, n, axis, norm))
    check_grads(lambda v: f(v, n, axis, norm), (x,), order=2, modes=("fwd", "rev"))


@HYP
@given(data=st.data())
def test_check_grads_n_dimensional(data):
    name = data.draw(st.sampled_from(N_D), label="function")
    shape = data.draw(st.sampled_from([(3,), (2, 3), (3, 4), (2, 1, 4), (0, 3, 2)]),
                      label="shape")
    nd = len(shape)
    if name.endswith("2"):
        nd = max(nd, 2)
        shape = shape if len(shape) >= 2 else (2,) + shape
        axes = (-2, -1)
    else:
        k = data.draw(st.integers(1, nd), label="k")
        axes = tuple(data.draw(st.permutations(range(nd)), label="axes")[:k])
    assume(shape[axes[-1]] > 0)  # a zero-length transform: NumPy raises
    s = data.draw(st.one_of(st.none(), st.lists(st.integers(1, 5), min_size=len(axes),
                                                max_size=len(axes))), label="s")
    if s is None and name.startswith("irfft") and shape[axes[-1]] < 2:
        s = [3] * len(axes)
    norm = data.draw(st.sampled_from(NORMS), label="norm")
    rng = np.random.default_rng(nd)
    x = _input(name, shape, rng, np.float64 if name in REAL_INPUT else np.complex128)
    f = getattr(FFT, name)
    assert_same(traced(lambda v: f(v, s, axes, norm), x),
                getattr(np.fft, name)(x, s, axes, norm))
    check_grads(lambda v: f(v, s, axes, norm), (x,), order=2, modes=("fwd", "rev"))


@HYP
@given(shape=st.sampled_from([(5,), (4,), (2, 3), (3, 0)]),  # NumPy fails on 0-d
       inverse=st.booleans(), data=st.data())
def test_check_grads_shifts(shape, inverse, data):
    f = FFT.ifftshift if inverse else FFT.fftshift
    axes = data.draw(st.sampled_from([None, -1]), label="axes")
    x = np.random.default_rng(len(shape)).standard_normal(shape)
    assert_same(traced(lambda v: f(v, axes), x),
                (np.fft.ifftshift if inverse else np.fft.fftshift)(x, axes))
    check_grads(lambda v: f(v, axes), (x,), order=2, modes=("fwd", "rev"))


def test_real_loss_of_spectrum_round_trip():
    x = np.random.default_rng(4).standard_normal((2, 7))

    def loss(v):
        spec = FFT.rfft(v, n=8, axis=1, norm="ortho")
        low = spec * np.exp(-np.arange(5.0))  # a low-pass filter
        return fnp.sum(FFT.irfft(low, n=8, axis=1, norm="ortho") ** 2)

    check_grads(loss, (x,), order=2, modes=("fwd", "rev"))
    np.testing.assert_allclose(fxad.jacfwd(loss)(x), fxad.jacrev(loss)(x), rtol=1e-12,
                               atol=1e-13)


@pytest.mark.parametrize("name,n", [("fft", 5), ("ifft", 3), ("rfft", 7), ("irfft", 5),
                                    ("irfft", 4), ("hfft", 6), ("ihfft", 3)])
def test_numpy_level_transposes(name, n):
    """<ct, f(x)> == <f^T(ct), x>, cropping and padding included."""
    rng = np.random.default_rng(5)
    x = _input(name, (2, 5), rng, np.float64 if name in REAL_INPUT else np.complex128)
    f = lambda v: getattr(FFT, name)(v, n, -1, "ortho")  # noqa: E731
    y = f(x)
    ct = rng.standard_normal(y.shape) + (1j * rng.standard_normal(y.shape) if y.dtype.kind == "c"
                                         else 0)
    (ct_x,) = fxad.linear_transpose(f, x)(ct.astype(y.dtype))
    lhs = np.real(np.sum(ct * y))
    rhs = np.real(np.sum(ct_x * x))
    np.testing.assert_allclose(lhs, rhs, rtol=1e-12)


# ---------------------------------------------------------------------------
# vmap


@pytest.mark.parametrize("f", [
    lambda v: FFT.fft(v),
    lambda v: FFT.rfft(v, n=6, norm="ortho"),
    lambda v: FFT.irfft(FFT.rfft(v), n=5),
    lambda v: FFT.fft2(v.reshape(2, 2)),
    lambda v: FFT.fftshift(v),
    lambda v: FFT.ifftn(v, axes=(0,)),
], ids=["fft", "rfft-n", "irfft-rfft", "fft2", "fftshift", "ifftn"])
@pytest.mark.parametrize("in_axis", [0, 1])
def test_vmap_equals_loop(f, in_axis):
    xs = np.random.default_rng(6).standard_normal((3, 4))
    batch = xs if in_axis == 0 else xs.T
    out = fxad.vmap(f, in_axes=in_axis)(batch)
    expected = np.stack([f(x) for x in xs])
    assert_same(out, expected)
    # and the batched derivative
    g = fxad.vmap(fxad.grad(lambda v: fnp.sum(fnp.abs(f(v)) ** 2)), in_axes=in_axis)(batch)
    assert_same(g, np.stack([fxad.grad(lambda v: fnp.sum(fnp.abs(f(v)) ** 2))(x)
                             for x in xs]))


# ---------------------------------------------------------------------------
# Errors


def _on_tracer(f, x):
    return fxad.make_jaxpr(f)(x)


def test_errors_as_numpy():
    x = np.ones(4)
    with pytest.raises(ValueError, match="norm"):
        _on_tracer(lambda v: FFT.fft(v, norm="bad"), x)
    with pytest.raises(ValueError, match="Invalid number of FFT data points"):
        _on_tracer(lambda v: FFT.fft(v, n=0), x)
    with pytest.raises(ValueError, match="Invalid number of FFT data points"):
        _on_tracer(lambda v: FFT.irfft(v), np.ones(1))
    with pytest.raises(TypeError, match="real input"):
        _on_tracer(lambda v: FFT.rfft(v), x + 1j)
    with pytest.raises(ValueError, match="different lengths"):
        _on_tracer(lambda v: FFT.fftn(v, s=(2, 2), axes=(0,)), x)
    with pytest.raises(np.exceptions.AxisError):
        _on_tracer(lambda v: FFT.fft(v, axis=1), x)
    with pytest.raises(TypeError, match="fft"):  # the strict primitive
        from fxad.lax.fft import fft
        _on_tracer(lambda v: fft(v, "RFFT", (5,)), x)
