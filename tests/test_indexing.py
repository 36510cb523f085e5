"""Indexing of traced arrays (``x[...]``) against NumPy: every index kind
(ints, slices with negative steps, None, Ellipsis, integer arrays and lists,
concrete boolean masks, scalar booleans, and their mixes), values eagerly,
staged and under ``jvp``, and gradients scattered back, repeated indices
accumulating."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fxad
import fxad.numpy as fnp
from fxad.test_util import check_grads

examples = settings(deadline=None, max_examples=25, derandomize=True)
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)


def assert_same(actual, expected):
    a, e = np.asarray(actual), np.asarray(expected)
    assert a.dtype == e.dtype and a.shape == e.shape, (a.dtype, a.shape, e.dtype, e.shape)
    np.testing.assert_allclose(a, e, rtol=1e-12, atol=0)


def normal(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def check_index(x, idx, grads=True):
    """``x[idx]`` as NumPy has it: eagerly on a tracer, staged, under jvp; and
    its derivatives (gather forward, scatter-add backward)."""
    expected = x[idx]

    def f(a):
        return a[idx]

    (staged,) = fxad.make_jaxpr(f)(x)(x)
    assert_same(staged, expected)
    primal, tangent = fxad.jvp(f, (x,), (np.ones_like(x),))
    assert_same(primal, expected)
    assert_same(tangent, np.ones_like(x)[idx])
    if grads:
        check_grads(f, (x,), order=2, modes=("fwd", "rev"))
        # The gradient of sum(x[idx] * w) counts how often each element is picked.
        w = normal(np.shape(expected), seed=1)
        g = fxad.grad(lambda a: fnp.sum(a[idx] * w))(x)
        ref = np.zeros_like(x)
        np.add.at(ref, idx, w)
        assert_same(g, ref)


# ---------------------------------------------------------------------------
# Hypothesis-drawn indices


@examples
@given(data=st.data())
def test_basic_indices(data):
    shape = data.draw(shapes, label="shape")
    idx = data.draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True),
                    label="index")
    check_index(normal(shape), idx)


@examples
@given(data=st.data())
def test_integer_array_indices(data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4),
                      label="shape")
    idx = data.draw(hnp.integer_array_indices(
        shape, result_shape=hnp.array_shapes(min_dims=0, max_dims=2, max_side=3)), label="index")
    check_index(normal(shape), idx)


@st.composite
def mixed_indices(draw):
    """Per axis one of: int, slice (any step sign), int array, list; with
    None and one Ellipsis sprinkled in (advanced indices adjacent or not)."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4))
    idx = []
    for n in shape:
        kind = draw(st.sampled_from(["int", "slice", "array", "list", "full"]))
        if kind == "int":
            idx.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            bounds = st.none() | st.integers(-n - 2, n + 2)
            step = draw(st.none() | st.integers(-3, 3).filter(bool))
            idx.append(slice(draw(bounds), draw(bounds), step))
        elif kind == "array":
            idx.append(np.asarray(draw(st.lists(st.integers(-n, n - 1), max_size=3))
                                  or [0], dtype=np.intp))
        elif kind == "list":
            idx.append(draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=3)))
        else:
            idx.append(slice(None))
    # advanced indices must broadcast: give them one common length
    adv = [i for i, v in enumerate(idx) if isinstance(v, (list, np.ndarray))]
    if adv:
        m = len(idx[adv[0]])
        for i in adv:
            v = np.resize(np.asarray(idx[i], dtype=np.intp), m)
            idx[i] = v.tolist() if isinstance(idx[i], list) else v
    if draw(st.booleans()):
        idx.insert(draw(st.integers(0, len(idx))), None)
    if draw(st.booleans()):
        k = draw(st.integers(0, len(idx)))
        drop = draw(st.integers(0, len(idx) - k))
        idx[k:k + drop] = [Ellipsis]
    return shape, tuple(idx)


@examples
@given(mixed_indices())
def test_mixed_indices(case):
    shape, idx = case
    check_index(normal(shape), idx)


@examples
@given(data=st.data())
def test_boolean_masks(data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=4))
    k = data.draw(st.integers(1, len(shape)), label="mask dims")
    start = data.draw(st.integers(0, len(shape) - k), label="mask start")
    mask = data.draw(hnp.arrays(np.bool_, shape[start:start + k]), label="mask")
    x = normal(shape)
    idx = (slice(None),) * start + (mask,)
    check_index(x, idx)
    if start == 0:
        check_index(x, mask)
        check_index(x, (mask, Ellipsis))
        check_index(x, mask.tolist())


# ---------------------------------------------------------------------------
# Each index kind, explicitly

X = normal((4, 5, 3))

CASES = {
    "int": 1, "negative int": -1, "numpy int": np.int64(2), "tuple of ints": (1, -2, 0),
    "slice": slice(1, 3), "negative step": slice(None, None, -1),
    "negative step bounds": (slice(3, 0, -2), slice(-1, -6, -2)),
    "negative step empty": slice(0, 3, -1), "step beyond": slice(-10, 10, 3),
    "empty slice": slice(2, 2), "None": None, "None between": (1, None, slice(None), None),
    "Ellipsis": Ellipsis, "Ellipsis last": (Ellipsis, 1), "Ellipsis middle": (0, ..., 1),
    "Ellipsis and None": (None, ..., None, 2), "empty tuple": (),
    "int array": np.array([0, 2, 3]), "negative int array": np.array([-1, 0, -4]),
    "2-d int array": np.array([[0, 1], [3, 3]]), "list": [3, 0], "empty list": [],
    "0-d int array": np.array(2), "repeated": [0, 0, 1, 0],
    "arrays adjacent": (slice(None), [0, 1, 1], [2, 0, 2]),
    "arrays separated": ([0, 1], slice(None), [2, 0]),
    "array and int separated": (1, slice(1, 4), [0, 2]),
    "array, slice with negative step": ([3, 0, 3], slice(None, None, -2)),
    "broadcast arrays": (np.array([[0], [2]]), np.array([1, 3, 4])),
    "array and None": ([0, 1], None, 1),
    "mask": X[..., 0] > 0, "mask 1-d": np.array([True, False, True, True]),
    "mask and slice": (slice(None, None, -1), np.array([True, False, True, False, True])),
    "mask and array": (np.array([True, False, True, False]), slice(None), [0, 2]),
    "mask all false": np.zeros(4, bool), "mask list": [True, False, False, True],
    "scalar True": True, "scalar False": False, "numpy True": (np.True_, 1),
    "True with array": (True, [0, 1]), "Ellipsis True": (Ellipsis, True),
}


@pytest.mark.parametrize("name", list(CASES))
def test_index_kinds(name):
    check_index(X, CASES[name])


def test_index_of_0d_and_empty_arrays():
    s = np.float64(1.5)
    for idx in [(), Ellipsis, None, (None, ...), True]:
        check_index(np.asarray(s), idx)
    e = normal((0, 3))
    for idx in [slice(None), (slice(None), 1), (Ellipsis, [0, 2]), np.zeros(0, np.intp),
                (slice(None, None, -1),)]:
        check_index(e, idx)


# ---------------------------------------------------------------------------
# Gradients scatter back


def test_repeated_integer_indices_accumulate():
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(fxad.grad(lambda a: fnp.sum(a[[0, 0, 1]]))(x), [2, 1, 0])
    np.testing.assert_array_equal(fxad.jacrev(lambda a: a[[0, 0, 1]])(x),
                                  [[1, 0, 0], [1, 0, 0], [0, 1, 0]])
    np.testing.assert_array_equal(fxad.jacfwd(lambda a: a[[0, 0, 1]])(x),
                                  [[1, 0, 0], [1, 0, 0], [0, 1, 0]])
    m = np.arange(6.0).reshape(2, 3)
    g = fxad.grad(lambda a: fnp.sum(a[[1, 1, 0], [2, 2, 2]] ** 2))(m)
    np.testing.assert_array_equal(g, [[0, 0, 4], [0, 0, 20]])


def test_traced_integer_indices():
    x = normal((3, 4))

    def f(a):
        i = fnp.argmax(a[:, 0])
        j = fnp.argmin(a, axis=1)
        return a[i] * 2.0 + a[[0, 1, 2], j][0]

    i, j = np.argmax(x[:, 0]), np.argmin(x, axis=1)
    expected = x[i] * 2.0 + x[[0, 1, 2], j][0]
    assert_same(fxad.make_jaxpr(f)(x)(x)[0], expected)
    check_grads(f, (x,), order=2)
    # a list holding traced integers
    g = fxad.grad(lambda a: fnp.sum(a[[fnp.argmax(a), 0]]))(np.array([1.0, 5.0, 2.0]))
    np.testing.assert_array_equal(g, [1, 1, 0])


def test_concrete_tracer_masks_and_take():
    x = normal((3, 4))
    g = fxad.grad(lambda a: fnp.sum(a[a > 0] ** 2))(x)
    np.testing.assert_allclose(g, 2 * x * (x > 0), rtol=1e-12)
    for axis in (None, 0, -1):
        for ind in ([2, 0, 2], np.array([[1], [0]])):
            def f(a, ind=ind, axis=axis):
                return fnp.take(a, ind, axis=axis)

            assert_same(fxad.make_jaxpr(f)(x)(x)[0], np.take(x, ind, axis=axis))
            check_grads(f, (x,), order=2)


# ---------------------------------------------------------------------------
# Errors


def test_abstract_boolean_mask_is_an_error():
    with pytest.raises(IndexError, match="boolean mask index must be concrete"):
        fxad.make_jaxpr(lambda a: a[a > 0])(normal(3))


@pytest.mark.parametrize("idx", [5, -6, (0, 0, 0, 0), [0, 7], (Ellipsis, Ellipsis),
                                 np.array([1.0]), np.ones(3, bool), "a"])
def test_bad_indices_raise_index_error(idx):
    with pytest.raises(IndexError):
        fxad.make_jaxpr(lambda a: a[idx])(normal((5, 2, 3)))


def test_setitem_is_a_type_error():
    def f(a):
        a[0] = 1.0
        return a

    with pytest.raises(TypeError, match="immutable"):
        fxad.grad(lambda a: fnp.sum(f(a)))(normal(3))
