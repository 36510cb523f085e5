"""The generated code computes nothing twice: for every op record and every
benchmark workload, running the generated array form makes no more calls of
any ufunc (or matrix product) than running the optimised jaxpr's equations
once each through their impls.  Both runs are counted by an ndarray subclass
that sees every ufunc call and every NumPy function call on its values."""

from __future__ import annotations

import collections

import numpy as np
import pytest
from op_records import all_cases, rng_for

import fxad
import fxad.numpy as fnp
from benchmarks.workloads import all_workloads
from fxad.core import ClosedJaxpr, Literal
from fxad.interpreters import codegen

#: NumPy functions that compute (not views or shape bookkeeping, whose names
#: differ between an impl and its emitter: ``transpose``/``permute_dims``).
_COUNTED_FUNCTIONS = frozenset({"dot", "tensordot", "matmul", "einsum", "vdot", "inner",
                                "outer", "where", "sort", "argsort", "cumsum", "cumprod"})


class Counting(np.ndarray):
    """An ndarray that counts the ufunc calls and NumPy function calls made
    on it (``Counting.counts``), and whose results count too."""

    counts: collections.Counter = collections.Counter()

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        Counting.counts[f"{ufunc.__name__}.{method}"] += 1
        inputs = tuple(_plain(x) for x in inputs)
        if "out" in kwargs:
            kwargs["out"] = tuple(_plain(x) for x in kwargs["out"])
        return _wrap(getattr(ufunc, method)(*inputs, **kwargs))

    def __array_function__(self, func, types, args, kwargs):
        if func.__name__ in _COUNTED_FUNCTIONS:
            Counting.counts[func.__name__] += 1
        args = _plain(args)
        kwargs = {k: _plain(v) for k, v in kwargs.items()}
        return _wrap(func(*args, **kwargs))


def _plain(x):
    if isinstance(x, Counting):
        return x.view(np.ndarray)
    if type(x) in (tuple, list):
        return type(x)(_plain(y) for y in x)
    return x


def _wrap(x):
    if isinstance(x, (np.ndarray, np.generic)) and x.dtype != object:
        return np.asarray(x).view(Counting)
    if type(x) in (tuple, list):
        return type(x)(_wrap(y) for y in x)
    return x


def _count(fn):
    Counting.counts = collections.Counter()
    fn()
    return Counting.counts


def eager_counts(closed, args):
    """The calls made by evaluating each equation of ``closed`` once."""

    def run():
        env = dict(zip(closed.jaxpr.constvars, _wrap(list(closed.consts))))
        env.update(zip(closed.jaxpr.invars, _wrap(list(args))))
        for eqn in closed.jaxpr.eqns:
            vals = [x.val if type(x) is Literal else env[x] for x in eqn.invars]
            out = eqn.primitive.impl(*vals, **eqn.params)
            outs = out if eqn.primitive.multiple_results else [out]
            env.update(zip(eqn.outvars, _wrap(list(outs))))

    return _count(run)


def generated_counts(closed, args):
    """The calls made by the generated array form of ``closed``."""
    wrapped = ClosedJaxpr(closed.jaxpr, _wrap(list(closed.consts)))
    exe = codegen.generate(wrapped, scalar=False)
    return _count(lambda: exe.run_numpy(*_wrap(list(args)))), exe.source


def excess(closed, args):
    """The calls the generated code makes more often than the jaxpr holds
    them, as ``{call: (generated, jaxpr)}``, and the source."""
    want = eager_counts(closed, args)
    got, src = generated_counts(closed, args)
    return {k: (n, want[k]) for k, n in got.items() if n > want[k]}, src


def _lowered(f, *args):
    lowered = fxad.jit(f).lower(*args)
    return lowered.jaxpr, fxad.tree_util.tree_leaves(args)


# ---------------------------------------------------------------------------
# The two examples of fxad issue 7


def test_sum_of_squared_sin_computes_sin_once():
    x = np.linspace(-2.0, 2.0, 50)
    closed, args = _lowered(lambda x: fnp.sum(fnp.sin(x) ** 2), x)
    over, src = excess(closed, args)
    assert not over, src
    assert src.count("xp.sin(") == 1, src
    got, _ = generated_counts(closed, args)
    assert got["sin.__call__"] == 1 and got["multiply.__call__"] == 1
    np.testing.assert_array_equal(fxad.jit(lambda x: fnp.sum(fnp.sin(x) ** 2))(x),
                                  np.sum(np.sin(x) * np.sin(x)))


def test_least_squares_does_the_matrix_product_once():
    rng = np.random.default_rng(0)
    W, x, y = rng.standard_normal((5, 4)), rng.standard_normal(4), rng.standard_normal(5)

    def f(W, x, y):
        return fnp.sum((W @ x - y) ** 2)

    closed, args = _lowered(f, W, x, y)
    over, src = excess(closed, args)
    assert not over, src
    assert src.count("xp.dot(") == 1, src
    r = W @ x - y
    np.testing.assert_array_equal(fxad.jit(f)(W, x, y), np.sum(r * r))


def test_the_counter_sees_a_repeated_computation():
    # The check itself: an emitter that computes its operand twice is caught
    # (the planner names the operand, so only the repeated *call* remains).
    x = np.linspace(0.0, 1.0, 8)
    closed, args = _lowered(lambda x: fnp.sin(x) + 1.0, x)
    sin_p = fxad.core.primitives["sin"]
    saved = codegen.emitters[sin_p]
    codegen.emitters[sin_p] = lambda ctx: f"(xp.sin({ctx.ins[0]}) + 0.0 * xp.sin({ctx.ins[0]}))"
    try:
        over, _ = excess(closed, args)
    finally:
        codegen.emitters[sin_p] = saved
    assert over["sin.__call__"] == (2, 1)
    assert not excess(closed, args)[0]


def test_an_operand_an_emitter_repeats_is_named_not_inlined():
    x = np.linspace(0.0, 1.0, 8)
    closed, _ = _lowered(lambda x: fnp.exp(fnp.cos(x)) * 3.0, x)
    exp_p = fxad.core.primitives["exp"]
    saved = codegen.emitters[exp_p]
    codegen.emitters[exp_p] = lambda ctx: f"xp.exp({ctx.ins[0]} + 0.0 * {ctx.ins[0]})"
    try:
        src = codegen.generate(closed, scalar=False).source
    finally:
        codegen.emitters[exp_p] = saved
    # cos is computed once, into a name that the repeated text reads twice.
    assert src.count("xp.cos(") == 1, src
    assert "v0 = xp.cos(a0)" in src, src
    assert "xp.exp(v0 + 0.0 * v0)" in src, src


# ---------------------------------------------------------------------------
# Every op record and every benchmark workload


CASES = all_cases()


@pytest.mark.parametrize("rec,case", [(r, c) for r, c, _ in CASES],
                         ids=[i for _, _, i in CASES])
def test_op_record_generated_code_computes_each_equation_once(rec, case):
    args = case.sample(rng_for(rec.name, case.label()))
    closed, flat = _lowered(lambda *a: rec.fun(*a, **case.params), *args)
    over, src = excess(closed, flat)
    assert not over, f"{over}\n{src}"


@pytest.mark.parametrize("wl", all_workloads(), ids=lambda w: w.name)
def test_workload_generated_code_computes_each_equation_once(wl):
    fun, args = wl.builders["fxad"](*wl.inputs(True))
    closed, flat = _lowered(fun, *args)
    over, src = excess(closed, flat)
    assert not over, f"{over}\n{src}"
    if wl.name == "deep-loop":
        # Two scans (forward, then the reversed linear one) whose bodies run as
        # compiled scalar code, which the counting ndarray does not see.
        assert [e.primitive.name for e in closed.eqns] == ["scan", "scan"]
    else:
        assert sum(eager_counts(closed, flat).values()) > 0
