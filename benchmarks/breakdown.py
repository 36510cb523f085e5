"""Where one traced operation's cost goes in eager reverse mode.

``python -m benchmarks.breakdown`` runs the eager ``grad`` of the chain
workload (7 NumPy operations per step on a vector of 16, at 40 steps) and
of the seed function under a bytecode counter, attributes every Python
bytecode executed to a stage of the pipeline, and prints bytecodes per user
operation for each stage, with the wall time per operation measured
without the counter and split in the same proportions.  Bytecodes are
deterministic (the table does not depend on the machine's load); NumPy's
own work runs in C and is the ``numpy`` row, timed on plain arrays.

Stages (a function is attributed by what it is, or else to the stage of
its caller):

* NumPy layer: ``fxad/numpy`` (the user's ``fnp.sin``, the operators);
* bind + eager checks: ``core.bind`` and what it runs on concrete values
  (the primitive's strictness check, its impl), and the lax functions' inline
  eager calls (``lax.eager_entry``);
* JVP trace: ``JVPTrace.process_primitive``, the tracers, symbolic zeros;
* JVP rules: what a JVP rule runs (its lax calls, up to their bind);
* staging: recording the tangent equations (``LinearTape``; before issue
  11, ``JaxprTrace`` with ``Var``/``JaxprEqn``/abstract eval);
* backward pass: the loop over the staged program;
* transpose rules: what a transpose rule runs;
* grad's fixed cost: the rest (argument handling, setup, output).
"""

from __future__ import annotations

import argparse
import sys
import timeit

import numpy as np

from benchmarks import opcount
from benchmarks.workloads import chain, seed

STAGES = ("NumPy layer", "bind + eager checks", "JVP trace", "JVP rules", "staging",
          "backward pass", "transpose rules", "grad's fixed cost")


def _classify(code):
    f = code.co_filename.replace("\\", "/")
    name = code.co_name
    qual = getattr(code, "co_qualname", name)
    if "/fxad/numpy/" in f:
        return "NumPy layer"
    if f.endswith("/fxad/core.py"):
        if name == "bind":
            return "bind + eager checks"
        if qual.startswith(("Var.", "JaxprEqn.", "Literal.", "Jaxpr.", "ClosedJaxpr.")):
            return "staging"
        return None
    if f.endswith("/fxad/interpreters/ad.py"):
        if qual.startswith(("JVPTrace.", "JVPTracer.", "Zero.")) or name == "zero_of":
            return "JVP trace"
        if qual.startswith("LinearTape."):
            return "staging"
        if name in ("_transpose", "_backward_pass", "transpose", "backward_pass") or \
                qual.startswith("UndefinedPrimal.") or name == "undefined_of":
            return "backward pass"
        return None
    if f.endswith("/fxad/interpreters/partial_eval.py"):
        return "staging"
    if f.endswith("/fxad/lax/lax.py") and qual.startswith("eager_entry."):
        return "bind + eager checks"  # a lax function's inline eager call
    return None


def _callee_stage(parent):
    # An unclassified function takes the stage of its caller, except that
    # what the JVP trace or the backward pass calls is a rule.
    if parent == "JVP trace":
        return "JVP rules"
    if parent == "backward pass":
        return "transpose rules"
    return parent


def bytecodes_by_stage(fn, args):
    """``{stage: bytecodes}`` executed by ``fn(*args)``."""
    counts = dict.fromkeys(STAGES, 0)
    stack = []

    def tracer(frame, event, arg):
        if event == "call":
            frame.f_trace_opcodes = True
            cat = _classify(frame.f_code)
            if cat is None:
                cat = _callee_stage(stack[-1]) if stack else "grad's fixed cost"
            stack.append(cat)
            return tracer
        if event == "opcode":
            counts[stack[-1]] += 1
        elif event == "return":
            stack.pop()
        return tracer

    with opcount.unchecked():
        fn(*args)  # warm caches
        sys.settrace(tracer)
        try:
            fn(*args)
        finally:
            sys.settrace(None)
    return counts


def _median_time(f, repeats=7, min_time=0.2):
    f()
    n = 1
    while timeit.timeit(f, number=n) < min_time:
        n *= 2
    return float(np.median([timeit.timeit(f, number=n) / n for _ in range(repeats)]))


def cases(steps=40):
    import fxad
    import fxad.numpy as fnp

    x = np.random.default_rng(0).uniform(-1.0, 1.0, 16)
    return {
        "chain": (fxad.grad(lambda x: chain.loss(fnp, x, steps)), (x,),
                  lambda: chain.loss(np, x, steps), 7 * steps + 1),
        "seed": (fxad.grad(lambda a, b: seed.f(fnp, a, b), argnums=(0, 1)), (1.5, 0.5),
                 lambda: seed.f(np, 1.5, 0.5), 6),
    }


def report(steps=40, timed=True):
    out = []
    for name, (fn, args, numpy_fn, n_ops) in cases(steps).items():
        counts = bytecodes_by_stage(fn, args)
        total = sum(counts.values())
        rows = [f"**{name}** ({n_ops} user operations per call)", "",
                "| stage | bytecodes / op | share | us / op |", "|---|---|---|---|"]
        if timed:
            with opcount.unchecked():
                t_fx = _median_time(lambda f=fn, a=args: f(*a)) / n_ops * 1e6
            t_np = _median_time(numpy_fn) / n_ops * 1e6
            t_py = max(t_fx - t_np, 0.0)
        for k in STAGES:
            share = counts[k] / total
            us = f"{share * t_py:.2f}" if timed else ""
            rows.append(f"| {k} | {counts[k] / n_ops:.0f} | {share:.0%} | {us} |")
        if timed:
            rows.append(f"| NumPy's own work (plain NumPy, same ops) | | | {t_np:.2f} |")
            rows.append(f"| **total** | **{total / n_ops:.0f}** | | **{t_fx:.2f}** |")
        else:
            rows.append(f"| **total** | **{total / n_ops:.0f}** | | |")
        out.append("\n".join(rows))
    return "\n\n".join(out)


def deep_scaling(sizes=(20_000, 200_000), repeats=3):
    """Eager reverse mode through ``n`` scalar steps (the deep workload):
    ``{n: (seconds, peak bytes)}``, CPU time (the best of ``repeats``) and
    tracemalloc's peak measured in separate calls."""
    import gc
    import time

    out = {}
    for n in sizes:
        f, a = opcount.deep_grad(n)
        f(*a)
        ts = []
        for _ in range(repeats):
            gc.collect()
            t0 = time.process_time()
            f(*a)
            ts.append(time.process_time() - t0)
        out[n] = (min(ts), opcount.peak_memory(f, *a)[1])
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=40, help="chain steps (default 40)")
    p.add_argument("--no-time", action="store_true", help="bytecode counts only")
    p.add_argument("--deep-scaling", action="store_true",
                   help="instead: deep's eager grad at 2e4 and 2e5 steps (time, memory)")
    a = p.parse_args(argv)
    if a.deep_scaling:
        r = deep_scaling()
        (n1, (t1, m1)), (n2, (t2, m2)) = r.items()
        print("| steps | CPU time | peak memory |\n|---|---|---|")
        for n, (t, m) in r.items():
            print(f"| {n:,} | {t:.3f} s | {m / 2**20:.1f} MiB |")
        print(f"| ratio | x{t2 / t1:.2f} | x{m2 / m1:.2f} |")
        return
    print(report(a.steps, not a.no_time))


if __name__ == "__main__":
    main()
