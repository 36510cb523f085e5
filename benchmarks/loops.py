"""Loops: ``lax.scan`` against the unrolled Python loop and hand-written NumPy.

The ``chain`` workload (x in R^16, 300 steps of x = sin(x)*0.5 + x*x*0.1 -
tanh(x), grad of sum(x)) written as one ``scan`` and as the unrolled loop,
through fxad eagerly and under ``fxad.jit``; ratios are to the hand-written
reverse mode of ``benchmarks/workloads/chain.py`` timed interleaved in the
same run (median of ``--repeats`` measurements of at least ``--min-time``
seconds), after checking every answer against it.  Also ``make_jaxpr`` of a
scan and of the unrolled loop (tracing cost).  Run ``python -m benchmarks.loops``.

A scan runs its body's generated code once per step from a Python loop, so
until the code generator emits the loop itself (a ``for`` statement in the
generated source) a scan pays a call per step that the unrolled, inlined
program does not; in exchange its trace, jaxpr and compile time do not grow
with the trip count.
"""

from __future__ import annotations

import os

# One BLAS thread, as in the suite (set before NumPy loads its BLAS).
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import statistics  # noqa: E402

import numpy as np  # noqa: E402

import fxad  # noqa: E402
import fxad.numpy as fnp  # noqa: E402
from benchmarks.grad_of_jit import time_per_call as _time  # noqa: E402
from benchmarks.workloads import chain  # noqa: E402
from fxad import lax  # noqa: E402


def _step(x):
    return fnp.sin(x) * 0.5 + x * x * 0.1 - fnp.tanh(x)


def scan_loss(x, steps):
    x, _ = lax.scan(lambda x, _: (_step(x), None), x, None, length=steps)
    return fnp.sum(x)


def cases(steps):
    unrolled = fxad.grad(lambda x: chain.loss(fnp, x, steps))
    scanned = fxad.grad(lambda x: scan_loss(x, steps))
    return {
        "numpy by hand": lambda x: chain.by_hand(x, steps),
        "fxad grad, unrolled": unrolled,
        "fxad grad, scan": scanned,
        "fxad jit(grad), unrolled": fxad.jit(unrolled),
        "fxad jit(grad), scan": fxad.jit(scanned),
        "make_jaxpr, unrolled": lambda x: fxad.make_jaxpr(
            lambda x: chain.loss(fnp, x, steps))(x),
        "make_jaxpr, scan": lambda x: fxad.make_jaxpr(lambda x: scan_loss(x, steps))(x),
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--min-time", type=float, default=0.2)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--steps", type=int, default=300)
    a = ap.parse_args(argv)
    x, _ = chain.inputs()
    fns = cases(a.steps)
    want = chain.by_hand(x, a.steps)
    for name, fn in fns.items():
        if not name.startswith("make_jaxpr"):
            np.testing.assert_allclose(fn(x), want, rtol=1e-10, atol=1e-12, err_msg=name)
    times = {name: [] for name in fns}
    for _ in range(a.repeats):
        for name, fn in fns.items():
            times[name].append(_time(fn, (x,), a.min_time))
    base = statistics.median(times["numpy by hand"])
    print(f"| chain, {a.steps} steps | time | ratio to NumPy by hand |")
    print("|---|---|---|")
    for name, ts in times.items():
        m = statistics.median(ts)
        print(f"| {name} | {m * 1e6:.1f} us | x{m / base:.1f} |")


if __name__ == "__main__":
    main()
