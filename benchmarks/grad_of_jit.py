"""``grad(jit(f))`` against ``jit(grad(f))`` on the benchmark workloads.

``grad(jit(f))`` (and ``jacfwd``, ``jacrev``, ``hessian``, ``vmap`` of a jit
function) is rewritten to ``jit(grad(jit(f)))`` (docs/jit.md, "Transforms of
a jitted function"): a cache lookup and one compiled program, the same
program ``jit(grad(f))`` compiles.  Both are timed interleaved (median of
``--repeats`` measurements of at least ``--min-time`` seconds each), after
checking that they agree; ``--general`` times the general path instead
(``grad`` of a function calling the jit function: the call's JVP, split and
transpose rules on every call).  Run ``python -m benchmarks.grad_of_jit``.
"""

from __future__ import annotations

import os

# One BLAS thread, as in the suite (set before NumPy loads its BLAS).
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import fxad  # noqa: E402
import fxad.numpy as fnp  # noqa: E402
from benchmarks.workloads import chain, hessian, higher, jacobian, mlp, seed  # noqa: E402


def _cases():
    x1, x2 = seed.inputs()
    yield "seed", (lambda a, b: seed.f(fnp, a, b)), (x1, x2), \
        lambda f: fxad.grad(f, argnums=(0, 1))
    x, steps = chain.inputs()
    yield "chain", (lambda x: chain.loss(fnp, x, steps)), (x,), fxad.grad
    params, X, Y = mlp.inputs()
    yield "mlp", (lambda p: mlp.loss(fnp, p, X, Y)), (params,), fxad.grad
    (xh,) = hessian.inputs()
    yield "hessian", (lambda x: hessian.rosenbrock(fnp, x)), (xh,), fxad.hessian
    A, xj = jacobian.inputs()
    yield "jacobian-rev", (lambda x: jacobian.f(fnp, A, x)), (xj,), fxad.jacrev
    yield "jacobian-fwd", (lambda x: jacobian.f(fnp, A, x)), (xj,), fxad.jacfwd
    (xd,) = higher.inputs()
    yield "higher", fnp.tanh, (xd,), \
        lambda f: fxad.grad(fxad.grad(fxad.grad(fxad.grad(f))))


def _calling(jf):
    """A plain function calling ``jf``: transformations of it bind ``pjit``."""
    return lambda *args: jf(*args)


def time_per_call(fn, args, min_time):
    """Seconds per call of ``fn(*args)``, over at least ``min_time`` seconds
    (the call count doubles until it lasts that long)."""
    n = 1
    while True:
        start = time.perf_counter()
        for _ in range(n):
            fn(*args)
        t = time.perf_counter() - start
        if t >= min_time:
            return t / n
        n *= 2


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--min-time", type=float, default=0.2)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--general", action="store_true",
                    help="time T(lambda *a: jit(f)(*a)), which binds pjit on every call")
    a = ap.parse_args(argv)
    print("| workload | jit(T(f)) | T(jit(f)) | ratio |")
    print("|---|---|---|---|")
    for name, f, args, T in _cases():
        outer = fxad.jit(T(f))
        inner = T(_calling(fxad.jit(f)) if a.general else fxad.jit(f))
        want, got = outer(*args), inner(*args)
        for w, g in zip(fxad.tree_util.tree_leaves(want), fxad.tree_util.tree_leaves(got)):
            np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12)
        ta, tb = [], []
        for _ in range(a.repeats):
            ta.append(time_per_call(outer, args, a.min_time))
            tb.append(time_per_call(inner, args, a.min_time))
        ma, mb = statistics.median(ta), statistics.median(tb)
        print(f"| {name} | {ma * 1e6:.1f} us | {mb * 1e6:.1f} us | x{mb / ma:.2f} |")


if __name__ == "__main__":
    main()
