"""Indexed updates, ``x.at[idx].set(v)`` and friends, against NumPy.

Values: ``set`` is NumPy's ``x[idx] = v`` (the last repeated update wins);
``add``, ``multiply``, ``min`` and ``max`` accumulate every update, as
``numpy.add.at`` and friends; every NumPy index kind; eagerly on NumPy arrays
(``fxad.numpy.at``), staged and under ``jvp``.  Derivatives: ``check_grads``
to order 2 in both modes with repeated indices (and zeros for ``multiply``),
JAX's conventions where a rule is a choice (the winner of ``set``, ties of
``min``/``max``), and ``vmap`` (batched arrays, values and indices) against
the loop.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fxad
import fxad.numpy as fnp
from fxad.core import Tracer
from fxad.test_util import check_grads

examples = settings(deadline=None, max_examples=15, derandomize=True)

OPS = ["set", "add", "subtract", "multiply", "divide", "min", "max"]


def assert_same(actual, expected):
    a, e = np.asarray(actual), np.asarray(expected)
    assert a.dtype == e.dtype and a.shape == e.shape, (a.dtype, a.shape, e.dtype, e.shape)
    np.testing.assert_allclose(a, e, rtol=1e-12, atol=1e-12)


def normal(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def spaced(shape, seed=0, offset=0.0):
    """Values 0.3 apart (no ties between the array and the updates)."""
    n = int(np.prod(shape, dtype=np.int64))
    v = 0.3 * np.random.default_rng(seed).permutation(n) - 0.15 * n + 0.07 + offset
    return v.reshape(shape)


def reference(op, x, idx, v):
    """NumPy: assignment for set, ``ufunc.at`` (on flat positions, so that
    every index kind works) for the others."""
    out = np.array(x, copy=True)
    pos = np.arange(out.size).reshape(out.shape)[idx]
    v = np.broadcast_to(np.asarray(v, out.dtype), pos.shape)
    flat = out.reshape(-1)
    if op == "set":
        flat[pos.ravel()] = v.ravel()
        return out
    if op == "divide":
        den = np.ones_like(out)
        np.multiply.at(den.reshape(-1), pos.ravel(), v.ravel())
        return out / den
    ufunc = {"add": np.add, "subtract": np.subtract, "multiply": np.multiply,
             "min": np.minimum, "max": np.maximum}[op]
    ufunc.at(flat, pos.ravel(), v.ravel())
    return out


def update(op, x, idx, v):
    return getattr(fnp.at(x)[idx], op)(v)


def check_update(op, x, idx, v, grads=True):
    """Values against NumPy (eager, staged, jvp primal) and derivatives in
    both ``x`` and ``v``."""
    expected = reference(op, x, idx, v)
    assert_same(update(op, x, idx, v), expected)

    def f(a, b):
        return update(op, a, idx, b)

    (staged,) = fxad.make_jaxpr(f)(x, v)(x, v)
    assert_same(staged, expected)
    primal, _ = fxad.jvp(f, (x, v), (np.ones_like(x), np.ones_like(v)))
    assert_same(primal, expected)
    if grads:
        check_grads(f, (x, v), order=2, modes=("fwd", "rev"))


# ---------------------------------------------------------------------------
# Every index kind, each operation

X = spaced((4, 5))
INDICES = {
    "int": 1, "negative int": -1, "int pair": (2, -3), "slice": slice(1, 3),
    "negative step": slice(None, None, -2), "column": (slice(None), 2),
    "Ellipsis": (Ellipsis, 1), "None": (None, 0), "empty tuple": (),
    "int array": np.array([0, 3]), "repeated array": np.array([2, 0, 2, 2]),
    "repeated pairs": (np.array([1, 1, 3]), np.array([4, 4, 0])), "list": [3, 1],
    "2-d array": np.array([[0, 1], [1, 0]]), "arrays separated": ([0, 0], slice(1, 3)),
    "array and slice": (slice(None, None, -1), [4, 0, 4]), "mask": X > 0.5,
    "row mask": np.array([True, False, True, True]), "scalar True": True,
    "empty": np.zeros(0, np.intp),
}


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("name", list(INDICES))
def test_index_kinds(op, name):
    idx = INDICES[name]
    shape = np.shape(X[idx])
    v = spaced(shape, seed=1, offset=0.11) if op in ("min", "max") else \
        np.random.default_rng(1).uniform(0.5, 1.5, shape)
    check_update(op, X, idx, v)


@pytest.mark.parametrize("op", OPS)
@examples
@given(data=st.data())
def test_hypothesis_indices_and_broadcast_values(op, data):
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3),
                      label="shape")
    if shape and 0 not in shape and data.draw(st.booleans(), label="advanced"):
        idx = data.draw(hnp.integer_array_indices(
            shape, result_shape=hnp.array_shapes(min_dims=0, max_dims=2, max_side=3)),
            label="index")
    else:
        idx = data.draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True),
                        label="index")
    x = spaced(shape)
    target = np.shape(x[idx])
    # values broadcast to x[idx]: the full shape, a trailing part, or a scalar
    k = data.draw(st.integers(0, len(target)), label="value dims")
    vshape = target[len(target) - k:] if k else ()
    if vshape and data.draw(st.booleans(), label="unit axis"):
        vshape = (1,) + vshape[1:]
    v = spaced(vshape, seed=1, offset=0.11) if op in ("min", "max") else \
        np.random.default_rng(2).uniform(0.5, 1.5, vshape)
    # scalar values broadcast over repeated indices tie with each other in
    # min/max; check those values only
    tied = op in ("min", "max") and int(np.prod(target, dtype=np.int64)) > \
        int(np.prod(vshape, dtype=np.int64))
    check_update(op, x, idx, v, grads=not tied)


# ---------------------------------------------------------------------------
# Derivatives: the conventions


def test_set_last_repeated_update_wins_and_gets_the_derivative():
    x, v = np.zeros(3), np.array([1.0, 2.0, 3.0])
    idx = np.array([1, 1, 0])
    out = fnp.at(x)[idx].set(v)
    np.testing.assert_array_equal(out, [3.0, 2.0, 0.0])  # NumPy's x[idx] = v
    jv = fxad.jacrev(lambda b: fnp.at(x)[idx].set(b))(v)
    np.testing.assert_array_equal(jv, [[0, 0, 1], [0, 1, 0], [0, 0, 0]])
    np.testing.assert_array_equal(fxad.jacfwd(lambda b: fnp.at(x)[idx].set(b))(v), jv)
    jx = fxad.jacrev(lambda a: fnp.at(a)[idx].set(v))(x)
    np.testing.assert_array_equal(jx, np.diag([0.0, 0.0, 1.0]))


def test_add_accumulates_and_is_linear():
    x, v = np.zeros(3), np.array([1.0, 2.0, 3.0])
    idx = [1, 1, 0]
    np.testing.assert_array_equal(fnp.at(x)[idx].add(v), [3.0, 3.0, 0.0])
    jv = fxad.jacfwd(lambda b: fnp.at(x)[idx].add(b))(v)
    np.testing.assert_array_equal(jv, [[0, 0, 1], [1, 1, 0], [0, 0, 0]])
    f = lambda a, b: fnp.at(a)[idx].add(b)  # noqa: E731
    jaxpr = fxad.make_jaxpr(f)(x, v)
    assert [e.primitive.name for e in jaxpr.eqns] == ["scatter-add"]
    t = fxad.linear_transpose(lambda b: fnp.at(x)[idx].add(b), v)
    np.testing.assert_array_equal(t(np.array([1.0, 10.0, 100.0]))[0], [10.0, 10.0, 1.0])


def test_multiply_is_exact_with_zeros_and_repeats():
    x = np.array([2.0, 3.0, 5.0])
    idx = np.array([0, 0, 0, 2])
    v = np.array([0.0, 4.0, 0.0, 7.0])
    f = lambda a, b: fnp.at(a)[idx].multiply(b)  # noqa: E731
    np.testing.assert_array_equal(f(x, v), [0.0, 3.0, 35.0])
    jv = fxad.jacrev(lambda b: f(x, b))(v)
    # d out0 / d v_k = x0 * prod of the other updates to element 0
    np.testing.assert_array_equal(jv, [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 5.0]])
    v1 = np.array([0.0, 4.0, 1.5, 7.0])
    np.testing.assert_array_equal(fxad.jacfwd(lambda b: f(x, b))(v1)[0],
                                  [2.0 * 4.0 * 1.5, 0, 0, 0])
    check_grads(f, (x, v), order=3, modes=("fwd", "rev"))
    check_grads(f, (x, v1), order=2, modes=("fwd", "rev"))
    # unique indices, traced, and the operand only
    check_grads(lambda a: fnp.at(a)[1:].multiply(v1[:2]), (x,), order=2)
    check_grads(lambda a, b: fnp.at(a)[fnp.argmax(a)].multiply(b), (x, np.float64(3.0)),
                order=2)


def test_min_max_ties_share_the_derivative():
    x = np.array([1.0, 2.0, 0.0])
    v = np.array([1.0, 0.5, 3.0])
    idx = np.array([0, 0, 1])
    for op, expected in (("min", [0.5, 2.0, 0.0]), ("max", [1.0, 3.0, 0.0])):
        f = lambda a, b, op=op: getattr(fnp.at(a)[idx], op)(b)  # noqa: E731
        np.testing.assert_array_equal(f(x, v), expected)
        jx, jv = fxad.jacrev(f, argnums=(0, 1))(x, v)
        jx2, jv2 = fxad.jacfwd(f, argnums=(0, 1))(x, v)
        np.testing.assert_array_equal(jx, jx2)
        np.testing.assert_array_equal(jv, jv2)
        if op == "max":  # element 0: x0 == v0 == 1 tie; element 1: v2 wins
            np.testing.assert_array_equal(jx, np.diag([0.5, 0.0, 1.0]))
            np.testing.assert_array_equal(jv, [[0.5, 0, 0], [0, 0, 1], [0, 0, 0]])
        else:  # element 0: v1 wins; element 1: x1 stays (3 > 2)
            np.testing.assert_array_equal(jx, np.diag([0.0, 1.0, 1.0]))
            np.testing.assert_array_equal(jv, [[0, 1, 0], [0, 0, 0], [0, 0, 0]])


def test_traced_indices_and_composition():
    x = spaced((3, 4))

    def f(a):
        i = fnp.argmax(a, axis=1)
        rows = np.arange(3)
        a = fnp.at(a)[rows, i].set(0.0)  # zero the row maxima
        a = fnp.at(a)[:, 0].add(a[:, 1] ** 2)
        a = fnp.at(a)[fnp.argmin(a[:, 2])].multiply(2.0)
        return fnp.at(a)[..., -1].max(0.1)

    check_grads(f, (x,), order=2)
    jaxpr = fxad.make_jaxpr(f)(x)
    names = [e.primitive.name for e in jaxpr.eqns]
    for p in ("scatter", "scatter-add", "scatter-mul", "scatter-max"):
        assert p in names, names


# ---------------------------------------------------------------------------
# dtypes, shapes, errors


def test_dtypes_follow_the_array():
    i = np.arange(5)
    assert_same(fnp.at(i)[1].set(2.7), np.array([0, 2, 2, 3, 4]))
    assert_same(fnp.at(i)[[1, 1]].add(1.9), np.array([0, 3, 2, 3, 4]))
    x32 = np.ones(3, np.float32)
    out = fxad.make_jaxpr(lambda a: fnp.at(a)[0].set(np.float64(2.0)))(x32)(x32)[0]
    assert out.dtype == np.float32
    g = fxad.grad(lambda a: fnp.sum(fnp.at(a)[0].multiply(2.5)))(x32)
    assert g.dtype == np.float32
    b = np.zeros(3, bool)
    assert_same(fnp.at(b)[1].set(True), np.array([False, True, False]))
    c = np.zeros(2, complex)
    check_grads(lambda a, v: fnp.at(a)[[0, 0]].add(v), (c, np.array([1j, 2.0 + 0j])), order=2)
    with pytest.raises(TypeError, match="divide"):
        fnp.at(i)[0].divide(2)


def test_shape_errors_and_out_of_bounds():
    x = np.zeros((3, 4))
    with pytest.raises(ValueError, match="shape mismatch"):
        fnp.at(x)[0].set(np.ones(3))
    with pytest.raises(ValueError, match="shape mismatch"):
        fxad.make_jaxpr(lambda a: fnp.at(a)[:, 1].add(np.ones((2, 3))))(x)
    assert_same(fnp.at(x)[0:2].set(np.ones((1, 1, 4))), reference("set", x, slice(0, 2), 1.0))
    with pytest.raises(IndexError):
        fnp.at(x)[[0, 3]].set(1.0)
    with pytest.raises(IndexError):
        fxad.make_jaxpr(lambda a: fnp.at(a)[5].add(1.0))(x)
    with pytest.raises(NotImplementedError, match="mode"):
        fnp.at(x)[0].set(1.0, mode="clip")
    # mode="drop" drops out-of-bound updates (tests/test_numpy_round2.py has the rest).
    assert_same(fnp.at(x)[5].set(1.0, mode="drop"), x)


def test_get_and_zero_d():
    x = normal((3, 2))
    assert_same(fnp.at(x)[1:, 0].get(), x[1:, 0])
    s = np.float64(2.0)
    assert_same(fnp.at(s)[()].set(5.0), np.float64(5.0))
    assert_same(fnp.at(s)[...].add(1.0), np.array(3.0))
    check_grads(lambda a, b: fnp.at(a)[()].multiply(b), (s, np.float64(3.0)), order=2)
    check_grads(lambda a: fnp.at(a)[1:, 0].get() * 2, (x,), order=2)


def test_setitem_on_a_tracer_shows_the_at_form():
    def f(a):
        a[0] = 1.0
        return a

    with pytest.raises(TypeError, match=r"\.at\[0\]\.set"):
        fxad.grad(lambda a: fnp.sum(f(a)))(np.ones(3))


def test_tracer_at_property():
    assert isinstance(Tracer.at, property)
    x = spaced((2, 3))
    for op in OPS:
        f = lambda a, op=op: getattr(a.at[0, [1, 1]], op)(np.array([0.7, 1.3]))  # noqa: E731
        g = lambda a, op=op: getattr(fnp.at(a)[0, [1, 1]], op)(np.array([0.7, 1.3]))  # noqa: E731
        assert_same(fxad.make_jaxpr(f)(x)(x)[0], g(x))
        np.testing.assert_array_equal(fxad.jacrev(f)(x), fxad.jacrev(g)(x))
    assert_same(fxad.make_jaxpr(lambda a: a.at[1].get())(x)(x)[0], x[1])


# ---------------------------------------------------------------------------
# vmap: batched arrays, values and indices


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("batched", ["array", "values", "indices", "all"])
def test_vmap_equals_loop(op, batched):
    B = 3
    xs = np.stack([spaced((4, 3), seed=s) for s in range(B)])
    vs = np.stack([spaced((2, 3), seed=10 + s, offset=0.11) for s in range(B)])
    idxs = np.array([[1, 1], [0, 2], [2, 2]])  # repeats in some examples
    x0, v0, i0 = xs[0], vs[0], idxs[0]

    def f(x, v, i):
        return getattr(fnp.at(x)[i], op)(v)

    in_axes = {"array": (0, None, None), "values": (None, 0, None),
               "indices": (None, None, 0), "all": (0, 0, 0)}[batched]
    args = [xs if in_axes[0] == 0 else x0, vs if in_axes[1] == 0 else v0,
            idxs if in_axes[2] == 0 else i0]
    out = fxad.vmap(f, in_axes=in_axes)(*args)
    loop = np.stack([f(*[a[b] if ax == 0 else a for a, ax in zip(args, in_axes)])
                     for b in range(B)])
    assert_same(out, loop)
    # and with the index in the middle of the indexer (the batch axis moves)
    g = lambda x, v, i: getattr(fnp.at(x)[1:, i], op)(v[:, :1].T)  # noqa: E731
    args2 = [a if ax is None else a for a, ax in zip(args, in_axes)]
    out2 = fxad.vmap(g, in_axes=in_axes)(*args2)
    loop2 = np.stack([g(*[a[b] if ax == 0 else a for a, ax in zip(args2, in_axes)])
                      for b in range(B)])
    assert_same(out2, loop2)
    # gradients through vmap agree with per-example gradients
    if batched == "all":
        grad_b = fxad.grad(lambda x: fnp.sum(fxad.vmap(f)(x, vs, idxs) ** 2))(xs)
        grad_l = np.stack([fxad.grad(lambda x, b=b: fnp.sum(f(x, vs[b], idxs[b]) ** 2))(xs[b])
                           for b in range(B)])
        np.testing.assert_allclose(grad_b, grad_l, rtol=1e-12, atol=1e-12)
