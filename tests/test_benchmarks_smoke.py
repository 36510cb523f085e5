"""The benchmark suite's hand-written NumPy derivatives agree with fxad.

Runs every workload of ``benchmarks/`` at its small size through fxad (and
fxad.jit where it exists) and checks the answer as the suite does before
timing, so the hand-written derivatives are themselves checked. No timing.
"""

import pytest

from benchmarks.harness import build, check_answer
from benchmarks.libraries import BY_NAME
from benchmarks.workloads import all_workloads

WORKLOADS = all_workloads()


@pytest.mark.parametrize("lib", ["fxad", "fxad-jit"])
@pytest.mark.parametrize("workload", WORKLOADS, ids=[w.name for w in WORKLOADS])
def test_fxad_matches_hand_written(workload, lib):
    library = BY_NAME[lib]
    assert not library.missing(), library.missing()
    args = workload.inputs(True)
    check_answer(build(workload, library, args)(), workload.numpy(*args),
                 workload.rtol, workload.atol_scale)


def test_deep_loop_is_one_loop_not_unrolled():
    # deep-loop must stage a single loop equation whatever the trip count,
    # else it would measure the same unrolled program as deep.
    import fxad

    (workload,) = [w for w in WORKLOADS if w.name == "deep-loop"]
    x, steps = workload.inputs(False)
    grad_fn, args = workload.builders["fxad"](x, steps)
    closed = fxad.make_jaxpr(grad_fn)(*args)
    prims = [e.primitive.name for e in closed.eqns]
    assert prims.count("scan") >= 1 and len(prims) < 20, prims
