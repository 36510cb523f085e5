"""Per-stage cost of one traced operation in eager reverse mode.

``python -m benchmarks.breakdown`` runs the chain workload's body (7 NumPy
operations per step on a vector of 16) through growing prefixes of the
reverse-mode pipeline and reports, per user operation, what each stage
adds:

* ``numpy``: the body on NumPy arrays (NumPy's own work);
* ``jvp``: forward mode with a concrete tangent (the NumPy layer, ``bind``,
  ``JVPTrace`` and the JVP rules, whose tangent operations run eagerly);
* ``linearize``: the same JVP with the tangents staged (``ad.linearize_flat``):
  the extra is the staging of the tangent program;
* ``grad``: linearize and the backward pass (``fxad.grad``): the extra is
  the transpose of the staged program plus grad's own fixed cost.

Every stage is timed side by side in one process (median of repeats), so
the differences are meaningful on a shared machine; the numbers are
microseconds per user operation.
"""

from __future__ import annotations

import argparse
import timeit

import numpy as np


def _body(np_, x, steps):
    for _ in range(steps):
        x = np_.sin(x) * 0.5 + x * x * 0.1 - np_.tanh(x)
    return np_.sum(x)


OPS_PER_STEP = 7


def _median_time(f, repeats, min_time):
    f()
    n = 1
    while timeit.timeit(f, number=n) < min_time:
        n *= 2
    return float(np.median([timeit.timeit(f, number=n) / n for _ in range(repeats)]))


def stages(steps=300, repeats=7, min_time=0.2):
    """``{stage: microseconds per user operation}`` (cumulative)."""
    import fxad
    import fxad.numpy as fnp
    from fxad.interpreters import ad

    x = np.random.default_rng(0).uniform(-1.0, 1.0, 16)
    v = np.ones_like(x)

    def body(x):
        return _body(fnp, x, steps)

    def lin():
        return ad.linearize_flat(lambda x: [body(x)], [x])

    runs = {
        "numpy": lambda: _body(np, x, steps),
        "jvp": lambda: ad.jvp_flat(lambda x: [body(x)], [x], [v]),
        "linearize": lin,
        "grad": lambda: fxad.grad(body)(x),
    }
    n_ops = steps * OPS_PER_STEP + 1
    return {k: _median_time(f, repeats, min_time) / n_ops * 1e6 for k, f in runs.items()}


def table(t):
    rows = ["| stage | us per op (cumulative) | this stage adds |", "|---|---|---|"]
    prev = 0.0
    for k, us in t.items():
        rows.append(f"| {k} | {us:.2f} | {us - prev:+.2f} |")
        prev = us
    return "\n".join(rows)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--repeats", type=int, default=7)
    a = p.parse_args(argv)
    print(table(stages(a.steps, a.repeats)))


if __name__ == "__main__":
    main()
