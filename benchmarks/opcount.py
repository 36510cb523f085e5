"""Deterministic cost counts of a call: Python function calls, calls into C,
and bytecode instructions executed (``sys.settrace`` with opcode events).

Wall time on a shared machine is noisy; these counts are not, and they track
the interpreter overhead that dominates fxad's eager reverse mode (the
NumPy work itself is one C call per array operation).  ``python -m
benchmarks.opcount`` prints them per user operation for the workloads at
their small sizes; ``tests/test_benchmarks_opcount.py`` guards them.
"""

from __future__ import annotations

import sys


def count(fn, *args):
    """``(python_calls, c_calls, bytecodes)`` executed by ``fn(*args)``."""
    calls = 0
    c_calls = 0
    ops = 0

    def tracer(frame, event, arg):
        nonlocal calls, ops
        if event == "call":
            calls += 1
            frame.f_trace_opcodes = True
            return tracer
        if event == "opcode":
            ops += 1
        return tracer

    def profiler(frame, event, arg):
        nonlocal c_calls
        if event == "c_call":
            c_calls += 1

    old_trace, old_prof = sys.gettrace(), sys.getprofile()
    sys.settrace(tracer)
    sys.setprofile(profiler)
    try:
        fn(*args)
    finally:
        sys.settrace(old_trace)
        sys.setprofile(old_prof)
    return calls, c_calls, ops


class unchecked:
    """Counts are of the fast path as users run it: without the test
    suite's ``check_jaxprs`` (which rebuilds and type-checks every program)."""

    def __enter__(self):
        from fxad import core

        self.old = core.config.check_jaxprs
        core.config.check_jaxprs = False

    def __exit__(self, *exc):
        from fxad import core

        core.config.check_jaxprs = self.old
        return False


def per_op(fn, args, n_ops):
    """``count`` divided by the number of user operations, after a warm-up
    call (caches filled, as in a timed run)."""
    with unchecked():
        fn(*args)
        return tuple(c / n_ops for c in count(fn, *args))


def peak_memory(fn, *args):
    """``(fn(*args), peak bytes allocated by Python during the call)``
    (tracemalloc)."""
    import tracemalloc

    with unchecked():
        tracemalloc.start()
        try:
            out = fn(*args)
            return out, tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()


def deep_grad(steps):
    """The deep workload's eager gradient function and arguments."""
    from benchmarks.workloads import deep

    return deep.fxad_builder(0.5, steps)


def workload_counts(small=True):
    """``{name: (calls, c_calls, bytecodes) per user operation}`` of the
    eager fxad derivative of each scalar/small workload."""
    import numpy as np

    import fxad
    import fxad.numpy as fnp
    from benchmarks.workloads import chain, higher, seed

    x = np.random.default_rng(0).uniform(-1.0, 1.0, 16)
    out = {}
    steps = 20
    out["chain"] = per_op(fxad.grad(lambda x: chain.loss(fnp, x, steps)), (x,), 7 * steps + 1)
    f, a = seed.fxad_builder(*seed.inputs(small))
    out["seed"] = per_op(f, a, 6)
    f, a = higher.fxad_builder(*higher.inputs(small))
    out["higher"] = per_op(f, a, 1)
    return out


def jacobian_counts(small=True):
    """``{name: (calls, c_calls, bytecodes)}`` of one eager call of the
    Jacobian workloads (``hessian``, ``jacfwd``, ``jacrev``): whole calls, as
    their cost is the batched passes' fixed and per-primitive overhead."""
    import fxad
    import fxad.numpy as fnp
    from benchmarks.workloads import hessian, jacobian

    f, a = hessian.fxad_builder(*hessian.inputs(small))
    out = {"hessian": per_op(f, a, 1)}
    A, x = jacobian.inputs(small)
    for name, jac in (("jacfwd", fxad.jacfwd), ("jacrev", fxad.jacrev)):
        out[name] = per_op(jac(lambda x: jacobian.f(fnp, A, x)), (x,), 1)
    return out


def main():
    print("| workload | Python calls / op | C calls / op | bytecodes / op |")
    print("|---|---|---|---|")
    for k, (c, cc, b) in workload_counts().items():
        print(f"| {k} | {c:.0f} | {cc:.0f} | {b:.0f} |")
    print()
    print("| Jacobian workload | Python calls | C calls | bytecodes (one call) |")
    print("|---|---|---|---|")
    for k, (c, cc, b) in jacobian_counts().items():
        print(f"| {k} | {c:.0f} | {cc:.0f} | {b:.0f} |")


if __name__ == "__main__":
    main()
