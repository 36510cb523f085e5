"""Dynamic slicing: ``lax.dynamic_slice`` / ``dynamic_update_slice`` and their
``_in_dim`` helpers (JAX's wrap-then-clamp semantics), and NumPy indexing
with traced positions (``x[i]``, ``x[i:i + k]``, ``x.at[i:i + k]``) under jit,
make_jaxpr, vmap and grad, against eager NumPy and per-example loops.  The
primitives' own values, derivatives, transposes and batching are driven by
``tests/op_records_dynamic.py``."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fxad
import fxad.numpy as fnp
from fxad import lax
from fxad.core import trace_state
from fxad.test_util import check_grads

X = np.arange(60.0).reshape(4, 3, 5) * 0.5 - 3.0
V = np.arange(5.0) ** 2


def _names(f, *args):
    return [e.primitive.name for e in fxad.make_jaxpr(f)(*args).jaxpr.eqns]


def _same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, a.dtype, b.shape, b.dtype)
    np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------------
# lax: JAX's semantics


def test_dynamic_slice_wraps_negative_then_clamps():
    x = np.arange(12).reshape(3, 4)
    _same(lax.dynamic_slice(x, (1, 1), (2, 3)), x[1:3, 1:4])
    _same(lax.dynamic_slice(x, (-1, 0), (1, 4)), x[2:3])  # -1 counts from the end
    _same(lax.dynamic_slice(x, (5, 3), (2, 3)), x[1:3, 1:4])  # clamped to fit
    _same(lax.dynamic_slice(x, (-9, 0), (1, 2)), x[0:1, 0:2])  # wraps once, then clamps
    _same(lax.dynamic_slice(x, (-1, 0), (1, 4), allow_negative_indices=False), x[0:1])
    _same(lax.dynamic_slice(x, np.array([2, 1]), (1, 2)), x[2:3, 1:3])  # a 1-D array


def test_dynamic_update_slice_and_in_dim_helpers():
    _same(lax.dynamic_update_slice(np.zeros(6), np.ones(3), (5,)),
          np.array([0.0, 0, 0, 1, 1, 1]))
    x = np.arange(12.0).reshape(3, 4)
    _same(lax.dynamic_slice_in_dim(x, -1, 2, axis=1), x[:, 2:4])
    _same(lax.dynamic_index_in_dim(x, 2), x[2:3])
    _same(lax.dynamic_index_in_dim(x, -1, axis=1, keepdims=False), x[:, 3])
    expected = x.copy()
    expected[:, 1:3] = -1.0
    _same(lax.dynamic_update_slice_in_dim(x, -np.ones((3, 2)), 1, axis=1), expected)
    expected = x.copy()
    expected[0] = 7.0
    _same(lax.dynamic_update_index_in_dim(x, np.full(4, 7.0), -3, 0), expected)
    _same(lax.dynamic_update_index_in_dim(x, np.full((1, 4), 7.0), 0, 0), expected)


def test_jit_equals_eager_with_traced_starts():
    x = np.arange(12.0).reshape(3, 4)
    for i, j in [(0, 0), (1, 2), (-1, -2), (7, -9), (2, 3)]:
        f = lambda x, i, j: lax.dynamic_slice(x, (i, j), (2, 2))  # noqa: E731
        _same(fxad.jit(f)(x, i, j), f(x, i, j))
        g = lambda x, i, j: lax.dynamic_update_slice(x, -x[:2, :3], (i, j))  # noqa: E731
        _same(fxad.jit(g)(x, i, j), g(x, i, j))


@pytest.mark.parametrize("call, args, match", [
    (lambda: lax.dynamic_slice(np.ones((2, 3)), (0,), (1, 1)), (), "one scalar start index"),
    (lambda: lax.dynamic_slice(np.ones(3), (0,), (4,)), (), "slice_sizes"),
    (lambda: lax.dynamic_slice(np.ones(3), (0.5,), (1,)), (), "integer scalars"),
    (lambda: lax.dynamic_update_slice(np.ones(3), np.ones(4), (0,)), (), "does not fit"),
    (lambda: lax.dynamic_update_slice(np.ones(3), np.ones(2, np.float32), (0,)), (),
     "one dtype"),
])
def test_bad_arguments_name_the_function_and_leave_fxad_usable(call, args, match):
    with pytest.raises(TypeError, match=match):
        call()
    with pytest.raises(TypeError, match=match):
        fxad.jit(lambda: call())()
    assert not trace_state.stack
    _same(lax.dynamic_slice(np.arange(3.0), (1,), (2,)), np.array([1.0, 2.0]))


def test_grad_of_dynamic_slice_and_update_fwd_equals_rev():
    def f(x, u):
        y = lax.dynamic_update_slice(x, lax.sin(u), (1, -1))
        return lax.dynamic_slice(y * y, (0, 1), (2, 3))

    x, u = np.linspace(-1, 1, 12).reshape(3, 4), np.array([[0.3, -0.7]])
    check_grads(f, (x, u), order=2, modes=("fwd", "rev"))
    np.testing.assert_allclose(fxad.jacfwd(f)(x, u), fxad.jacrev(f)(x, u), rtol=1e-14)


# ---------------------------------------------------------------------------
# NumPy indexing with traced positions

BASIC = [
    ("x[i]", lambda x, i: x[i]),
    ("x[i, j]", lambda x, i, j=2: x[i, j]),
    ("x[i:i+2]", lambda x, i: x[i:i + 2]),
    ("x[i, 1:3]", lambda x, i: x[i, 1:3]),
    ("x[1, i:i+2]", lambda x, i: x[1, i:i + 2]),
    ("x[..., i]", lambda x, i: x[..., i]),
    ("x[:, i:i+2, ::2]", lambda x, i: x[:, i:i + 2, ::2]),
    ("x[None, i, :, i-1:i+1]", lambda x, i: x[None, i, :, i - 1:i + 1]),
    ("x[i:i+3:2]", lambda x, i: x[:, :, i:i + 3:2]),
    ("x[[1,0], :, i]", lambda x, i: x[np.array([1, 0]), :, i]),
    ("x[:, [0,2], i]", lambda x, i: x[:, [0, 2], i]),
]
IN_RANGE = [0, 1]


@pytest.mark.parametrize("name, f", BASIC, ids=[n for n, _ in BASIC])
@pytest.mark.parametrize("i", IN_RANGE)
def test_traced_position_under_jit_equals_eager_numpy(name, f, i):
    if "i-1" in name and i == 0:
        i = 1  # NumPy's x[-1:1] is empty; the traced form needs a fixed size
    expected = f(X, i)  # NumPy itself, eagerly
    _same(fxad.jit(f)(X, i), expected)
    assert "dynamic_slice" in _names(f, X, i)


def test_traced_scalar_stages_dynamic_slice_not_gather():
    assert _names(lambda x, i: x[i], V, 1)[-2:] == ["dynamic_slice", "squeeze"]
    assert "dynamic_slice" in _names(lambda x, i: x[i:i + 2], V, 1)
    assert "gather" not in _names(lambda x, i: x[i:i + 2], V, 1)


def test_traced_position_wraps_negative_and_clamps_out_of_range():
    f = fxad.jit(lambda x, i: x[i])
    _same(f(V, -1), V[-1])  # NumPy's wrap-around
    _same(f(V, -5), V[0])
    _same(f(V, 9), V[4])  # cannot raise under jit: clamped, as in JAX
    g = fxad.jit(lambda x, i: x[i:i + 2])
    _same(g(V, 4), V[3:5])  # moved back to fit
    _same(g(V, -2), V[3:5])  # -2 counts from the end
    # Eagerly (a Python int), NumPy's rules are unchanged.
    with pytest.raises(IndexError, match="out of bounds"):
        fxad.grad(lambda x: x[9])(V)


def test_vmap_over_batched_positions_equals_a_loop():
    xs = np.stack([V, V + 10, V * 2])
    idx = np.array([0, 3, -1])
    for f in (lambda x, i: x[i], lambda x, i: x[i:i + 2], lambda x, i: x[i - 1:i + 1]):
        loop = np.stack([np.asarray(fxad.jit(f)(x, i)) for x, i in zip(xs, idx)])
        _same(fxad.vmap(f)(xs, idx), loop)
        _same(fxad.jit(fxad.vmap(f))(xs, idx), loop)
        _same(fxad.vmap(fxad.jit(f))(xs, idx), loop)
    # Batched array, unbatched position: one dynamic_slice of the whole batch.
    f = lambda x, i: x[i:i + 2]  # noqa: E731
    vf = fxad.vmap(f, in_axes=(0, None))
    _same(fxad.jit(vf)(xs, 1), xs[:, 1:3])
    names = _names(vf, xs, 1)
    assert "dynamic_slice" in names and "gather" not in names


def test_grad_wrt_x_with_traced_position():
    def loss(x, i):
        return fnp.sum(fnp.sin(x[i:i + 3]) ** 2) + x[i - 1] * x[i]

    for i in (1, 3, -2):
        g = fxad.jit(fxad.grad(loss))(V, i)
        # Reference: the same computation with the (clamped) static slice.
        k = i % 5
        s = min(k, 2)
        ref = fxad.grad(lambda x, s=s, k=k: fnp.sum(fnp.sin(x[s:s + 3]) ** 2)
                        + x[k - 1] * x[k])(V)
        np.testing.assert_allclose(g, ref, rtol=1e-14)
        check_grads(lambda x, i=i: fxad.jit(loss)(x, i), (V,), order=2, modes=("fwd", "rev"))
    # vmap of grad over batched positions, against a loop.
    idx = np.array([1, 2, 0])
    vg = fxad.vmap(fxad.grad(loss), in_axes=(None, 0))(fnp.asarray(V), idx)
    loop = np.stack([fxad.jit(fxad.grad(loss))(V, i) for i in idx])
    np.testing.assert_allclose(vg, loop, rtol=1e-14)


def test_at_with_traced_positions():
    cases = [
        (lambda x, i: x.at[i].set(-1.0), lambda i: _np_set(V, i, -1.0)),
        (lambda x, i: x.at[i:i + 2].set(np.array([7.0, 8.0])),
         lambda i: _np_set(V, slice(i, i + 2), [7.0, 8.0])),
        (lambda x, i: x.at[i:i + 2].add(1.0), lambda i: _np_add(V, slice(i, i + 2), 1.0)),
        (lambda x, i: x.at[i].multiply(3.0), lambda i: _np_mul(V, i, 3.0)),
    ]
    for f, ref in cases:
        for i in (0, 2, -3):
            _same(fxad.jit(f)(V, i), ref(i))
    x2 = np.arange(12.0).reshape(3, 4)
    expected = x2.copy()
    expected[1, 1:3] = 0.0
    _same(fxad.jit(lambda x, i: x.at[i, i:i + 2].set(0.0))(x2, 1), expected)
    _same(fxad.jit(lambda x, i: x.at[i].get())(V, 2), V[2])
    g = fxad.jit(fxad.grad(lambda x, i: fnp.sum(x.at[i:i + 2].set(x[0] ** 2) ** 2)))(V, 2)
    ref = fxad.grad(lambda x: fnp.sum(x.at[2:4].set(x[0] ** 2) ** 2))(V)
    np.testing.assert_allclose(g, ref, rtol=1e-14)


def _np_set(x, idx, v):
    y = x.copy()
    y[idx] = v
    return y


def _np_add(x, idx, v):
    y = x.copy()
    y[idx] += v
    return y


def _np_mul(x, idx, v):
    y = x.copy()
    y[idx] *= v
    return y


@pytest.mark.parametrize("f, match", [
    (lambda x, i, j: x[i:j], "dynamic_slice"),
    (lambda x, i, j: x[i:], "dynamic_slice"),
    (lambda x, i, j: x[:i], "dynamic_slice"),
    (lambda x, i, j: x[i:i + 9], "longer than the axis"),
    (lambda x, i, j: x[i:i + 2:-1], "static positive step"),
    (lambda x, i, j: x.at[i:j].set(0.0), "dynamic_slice"),
])
def test_slice_of_traced_size_raises_naming_dynamic_slice(f, match):
    with pytest.raises(IndexError, match=match):
        fxad.jit(f)(V, 1, 3)
    assert not trace_state.stack
    _same(fxad.jit(lambda x, i: x[i:i + 1])(V, 1), V[1:2])


@settings(max_examples=60)
@given(data=st.data())
def test_hypothesis_traced_positions_match_numpy(data):
    # In-range positions, where NumPy's eager answer is the reference: a
    # scalar in [-n, n), a slice i:i + k that fits (0 <= i <= n - k).
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5),
                      label="shape")
    kinds, positions = [], []
    for n in shape:
        kind = data.draw(st.sampled_from(["int", "slice", "full", "static"]), label="kind")
        if kind == "int":
            positions.append(data.draw(st.integers(-n, n - 1), label="i"))
        elif kind == "slice":
            k = data.draw(st.integers(0, n), label="k")
            positions.append((data.draw(st.integers(0, n - k), label="i"), k))
        kinds.append(kind)

    def index(ps):
        ps, out = list(ps), []
        for kind in kinds:
            if kind == "int":
                out.append(ps.pop(0))
            elif kind == "slice":
                i, k = ps.pop(0)
                out.append(slice(i, i + k))
            else:
                out.append(slice(None) if kind == "full" else 0)
        return tuple(out)

    x = np.arange(float(np.prod(shape))).reshape(shape)
    flat = [p[0] if isinstance(p, tuple) else p for p in positions]
    sizes = [p[1] if isinstance(p, tuple) else None for p in positions]

    def traced(ps):
        return [(i, k) if k is not None else i for i, k in zip(ps, sizes)]

    expected = x[index(positions)]
    _same(fxad.jit(lambda x, *ps: x[index(traced(ps))])(x, *flat), expected)
    set_ref = x.copy()
    set_ref[index(positions)] = -1.0
    _same(fxad.jit(lambda x, *ps: x.at[index(traced(ps))].set(-1.0))(x, *flat), set_ref)
