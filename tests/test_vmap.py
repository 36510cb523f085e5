"""vmap: every primitive against a Python loop over the batch (driven by the
op records, so a primitive without a batching rule fails here), in_axes and
out_axes variants, nesting, and composition with grad."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_records import RECORDS, rng_for

import fxad
import fxad.numpy as fnp
from fxad.core import primitives
from fxad.interpreters.batching import batch_rules

B = 3

CASES = [
    pytest.param(rec, case, id=f"{rec.name}-{i}-{case.label()}")
    for rec in RECORDS
    for i, case in enumerate(rec.cases)
]


def _examples(rec, case, n, label):
    rng = rng_for("vmap", rec.name, label)
    return [case.sample(rng) for _ in range(n)]


def _assert_same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    assert a.dtype == b.dtype, (a.dtype, b.dtype)
    if a.dtype.kind in "fc":
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13, equal_nan=True)
    else:
        np.testing.assert_array_equal(a, b)


def _loop(rec, case, examples):
    return np.stack([np.asarray(rec.fun(*ex, **case.params)) for ex in examples])


@pytest.mark.parametrize("rec,case", CASES)
def test_vmap_all_args_mapped(rec, case):
    exs = _examples(rec, case, B, case.label())
    stacked = [np.stack([ex[k] for ex in exs]) for k in range(len(exs[0]))]
    out = fxad.vmap(lambda *a: rec.fun(*a, **case.params))(*stacked)
    _assert_same(out, _loop(rec, case, exs))


@pytest.mark.parametrize("rec,case", CASES)
def test_vmap_first_arg_last_axis_others_unmapped(rec, case):
    exs = _examples(rec, case, B, case.label() + "/2")
    shared = exs[0][1:]
    exs = [[ex[0], *shared] for ex in exs]
    first = np.stack([ex[0] for ex in exs], axis=-1)
    in_axes = (-1,) + (None,) * len(shared)
    out = fxad.vmap(lambda *a: rec.fun(*a, **case.params), in_axes=in_axes, out_axes=-1)(
        first, *shared)
    _assert_same(out, np.moveaxis(_loop(rec, case, exs), 0, -1))


@pytest.mark.parametrize("rec,case", [CASES[i] for i in range(0, len(CASES), 3)])
def test_nested_vmap(rec, case):
    n1, n2 = 2, 3
    exs = _examples(rec, case, n1 * n2, case.label() + "/nested")
    stacked = [np.stack([ex[k] for ex in exs]).reshape((n1, n2) + np.shape(exs[0][k]))
               for k in range(len(exs[0]))]
    f = fxad.vmap(fxad.vmap(lambda *a: rec.fun(*a, **case.params)))
    out = f(*stacked)
    expected = _loop(rec, case, exs)
    _assert_same(out, expected.reshape((n1, n2) + expected.shape[1:]))


def test_every_primitive_has_a_batching_rule_and_is_tested():
    tested = {rec.name for rec in RECORDS}
    for name, prim in primitives.items():
        assert prim in batch_rules, f"primitive {name!r} has no batching rule"
        assert name in tested, f"primitive {name!r} has no op record (so no vmap test)"


# ---------------------------------------------------------------------------
# The API


def test_in_axes_pytrees_and_out_axes():
    x = np.arange(6.0).reshape(2, 3)
    p = {"w": np.arange(3.0), "b": np.array([1.0, 2.0])}

    def f(p, x):
        return {"y": p["w"] * x + p["b"][0], "s": fnp.sum(x)}

    out = fxad.vmap(f, in_axes=({"w": None, "b": None}, 0), out_axes={"y": 1, "s": 0})(p, x)
    np.testing.assert_allclose(out["y"], (p["w"] * x + 1.0).T)
    np.testing.assert_allclose(out["s"], x.sum(1))
    out2 = fxad.vmap(f, in_axes=(None, 1))(p, x.T)
    np.testing.assert_allclose(out2["y"], p["w"] * x + 1.0)


def test_unmapped_output_is_broadcast_and_out_axes_none():
    out = fxad.vmap(lambda x, y: y * 2.0, in_axes=(0, None))(np.ones(4), 3.0)
    np.testing.assert_array_equal(out, np.full(4, 6.0))
    same = fxad.vmap(lambda x, y: (x, y * 2.0), in_axes=(0, None), out_axes=(0, None))(
        np.ones(4), 3.0)
    assert same[1] == 6.0
    with pytest.raises(ValueError, match="out_axes=None"):
        fxad.vmap(lambda x: x, out_axes=None)(np.ones(3))


def test_axis_size_and_errors():
    out = fxad.vmap(lambda: np.float64(1.0), in_axes=(), axis_size=3)()
    np.testing.assert_array_equal(out, np.ones(3))
    with pytest.raises(ValueError, match="inconsistent sizes"):
        fxad.vmap(lambda x, y: x + y)(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="out of bounds"):
        fxad.vmap(lambda x: x, in_axes=2)(np.ones((2, 3)))
    with pytest.raises(ValueError, match="in_axes"):
        fxad.vmap(lambda x, y: x, in_axes=(0,))(np.ones(2), np.ones(2))
    with pytest.raises(fxad.errors.ConcretizationTypeError, match="batch"):
        fxad.vmap(lambda x: x if x > 0 else -x)(np.ones(2))
    assert fxad.core.trace_state.stack == []


@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 4)),
                  elements=st.floats(-2, 2)))
def test_vmap_of_grad_and_grad_of_vmap(x):
    def f(v):
        return fnp.sum(fnp.sin(v) * v)

    per_row = fxad.vmap(fxad.grad(f))(x)
    np.testing.assert_allclose(per_row, np.cos(x) * x + np.sin(x), rtol=1e-13, atol=1e-15)
    g = fxad.grad(lambda x: fnp.sum(fxad.vmap(f)(x)))(x)
    np.testing.assert_allclose(g, np.cos(x) * x + np.sin(x), rtol=1e-13, atol=1e-15)
    # per-example Hessian-vector products: vmap over jvp of grad
    v = np.ones_like(x)
    hvp = fxad.vmap(lambda a, b: fxad.jvp(fxad.grad(f), (a,), (b,))[1])(x, v)
    np.testing.assert_allclose(hvp, 2 * np.cos(x) - x * np.sin(x), rtol=1e-12, atol=1e-13)


def test_vmap_matmul_batched_both_and_one():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(4, 2, 3))
    x = rng.normal(size=(4, 3))
    np.testing.assert_allclose(fxad.vmap(fnp.matmul)(A, x), np.einsum("bij,bj->bi", A, x))
    np.testing.assert_allclose(fxad.vmap(fnp.matmul, in_axes=(None, 0))(A[0], x), x @ A[0].T)
    np.testing.assert_allclose(fxad.vmap(fnp.matmul, in_axes=(0, None))(A, x[0]), A @ x[0])


def test_vmap_indexing_with_batched_indices():
    x = np.arange(12.0).reshape(4, 3)
    idx = np.array([0, 2, 1, 1])
    out = fxad.vmap(lambda row, i: row[i])(x, idx)
    np.testing.assert_array_equal(out, x[np.arange(4), idx])
    g = fxad.grad(lambda x: fnp.sum(fxad.vmap(lambda row, i: row[i] ** 2)(x, idx)))(x)
    expected = np.zeros_like(x)
    expected[np.arange(4), idx] = 2 * x[np.arange(4), idx]
    np.testing.assert_array_equal(g, expected)


def test_jacobians_batch_through_vmap():
    # jacfwd/jacrev must not loop in Python over basis vectors: count the
    # primitive applications the JVP makes while jacfwd runs.
    from fxad.interpreters import ad

    calls = []
    rule = ad.jvp_rules[primitives["sin"]]
    ad.jvp_rules[primitives["sin"]] = lambda *a, **k: (calls.append(1), rule(*a, **k))[1]
    try:
        J = fxad.jacfwd(lambda x: fnp.sin(x) * 2.0)(np.linspace(0, 1, 50))
    finally:
        ad.jvp_rules[primitives["sin"]] = rule
    assert len(calls) == 1
    np.testing.assert_allclose(J, np.diag(2 * np.cos(np.linspace(0, 1, 50))), atol=1e-15)
