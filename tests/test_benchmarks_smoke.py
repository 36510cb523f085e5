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
