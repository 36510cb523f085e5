"""Regression guard of eager reverse mode's per-operation cost.

Wall time is not tested (shared machines are noisy; it is measured side by
side in ``benchmarks/``).  What is tested is deterministic: the Python
bytecodes and function calls executed per user operation by the eager
``grad`` of the benchmark workloads at small sizes (``benchmarks/opcount.py``),
against ceilings a little above today's counts, so a change that makes the
fast path do more work per operation fails here.  The counts before the
flat-tape linearize (issue 11) are in ``benchmarks/README.md``.

Also: deep graphs stay linear (10x the steps costs at most 11x the
bytecodes and 11x the peak memory) and a backward pass over more steps
than the recursion limit does not recurse.
"""

import sys

import numpy as np
import pytest

from benchmarks import opcount

# (Python calls, bytecodes) per user operation: ceilings about 12% above the
# counts measured on 2026-12-04 after the fourth round of issue 11 (chain
# 14 / 786, seed 12 / 841, higher 364 / 18668; third round: chain 15 / 794,
# seed 26 / 1170, higher 517 / 22192; second round: chain 24 / 899, seed 43 /
# 1494, higher 900 / 30887; first round: chain 33 / 955, seed 52 / 1522,
# higher 1113 / 31903; before issue 11: chain 52 / 1452, seed 72 / 1997,
# higher 1982 / 56847).
CEILINGS = {"chain": (16, 880), "seed": (14, 940), "higher": (410, 20900)}


@pytest.fixture(scope="module")
def counts():
    return opcount.workload_counts()


@pytest.mark.parametrize("name", sorted(CEILINGS))
def test_bytecodes_per_op_stay_under_ceiling(counts, name):
    calls, _, bytecodes = counts[name]
    max_calls, max_bytecodes = CEILINGS[name]
    assert bytecodes <= max_bytecodes, (
        f"{name}: {bytecodes:.0f} bytecodes per traced operation, ceiling {max_bytecodes}: "
        "the eager reverse-mode fast path got more expensive")
    assert calls <= max_calls, (
        f"{name}: {calls:.1f} Python calls per traced operation, ceiling {max_calls}")


def test_counts_are_counts():
    # The counter itself: a known function executes a known, positive count.
    def f(n):
        return sum(i for i in range(n))

    c10, _, b10 = opcount.count(f, 10)
    c100, _, b100 = opcount.count(f, 100)
    assert c100 - c10 == 90  # one generator frame resumption per item
    assert b100 > b10 > 0


def test_deep_reverse_mode_is_linear_in_bytecodes():
    f1, a1 = opcount.deep_grad(200)
    f2, a2 = opcount.deep_grad(2000)
    with opcount.unchecked():
        b1 = opcount.count(f1, *a1)[2]
        b2 = opcount.count(f2, *a2)[2]
    assert 9.0 <= b2 / b1 <= 11.0, b2 / b1


def test_deep_reverse_mode_is_linear_in_memory_and_does_not_recurse():
    # Sizes past the small-graph regime, and well past the recursion limit:
    # CPython keeps up to 2000 freed tuples of each small size (and cached
    # ints up to 256), which the first few thousand records reuse without a
    # new allocation, so a tape of 2000 steps allocates less per step.
    steps = 40_000
    assert steps > 10 * sys.getrecursionlimit()
    f1, a1 = opcount.deep_grad(steps // 10)
    f2, a2 = opcount.deep_grad(steps)
    opcount.peak_memory(f1, *a1)  # caches filled once
    _, m1 = opcount.peak_memory(f1, *a1)
    g, m2 = opcount.peak_memory(f2, *a2)
    assert m2 / m1 <= 11.0, m2 / m1
    # The value: d x_n / d x_0 = prod (0.999 + 0.001 cos x_k).
    x, prod = 0.5, 1.0
    for _ in range(steps):
        prod *= 0.999 + 0.001 * np.cos(x)
        x = 0.999 * x + 0.001 * np.sin(x)
    np.testing.assert_allclose(g, prod, rtol=1e-12)


# Whole-call (Python calls, bytecodes) of the Jacobian workloads, about 12%
# above the counts of 2026-12-04 (hessian 892 / 29425, jacfwd 246 / 6795,
# jacrev 367 / 10794; 2026-12-03: hessian 908 / 28973, jacfwd 255 / 6892,
# jacrev 408 / 11682; when this guard was written: hessian 1185 / 31171,
# jacfwd 306 / 7328, jacrev 500 / 12431; before jacfwd became vmap of jvp
# with a OneHot basis: hessian 2471 / 60770, jacfwd 520 / 11950, jacrev 591 /
# 13656).
JACOBIAN_CEILINGS = {"hessian": (1000, 32450), "jacfwd": (276, 7610), "jacrev": (410, 12090)}


@pytest.fixture(scope="module")
def jacobian_counts():
    return opcount.jacobian_counts()


@pytest.mark.parametrize("name", sorted(JACOBIAN_CEILINGS))
def test_jacobian_bytecodes_stay_under_ceiling(jacobian_counts, name):
    calls, _, bytecodes = jacobian_counts[name]
    max_calls, max_bytecodes = JACOBIAN_CEILINGS[name]
    assert bytecodes <= max_bytecodes, (
        f"{name}: {bytecodes:.0f} bytecodes per call, ceiling {max_bytecodes}: the "
        "batched Jacobian path got more expensive")
    assert calls <= max_calls, f"{name}: {calls:.0f} Python calls per call, ceiling {max_calls}"
