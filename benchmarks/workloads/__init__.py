"""The workloads, in the order the table lists them.

A workload module defines the inputs (fixed seeds), the derivative written by
hand in NumPy, and one builder per library. A builder takes the inputs and
returns ``(fun, args)``: ``fun(*args)`` computes the derivative, and is what
gets timed (through the library's ``jit`` for the jit columns). Building
(closures, moving arrays into the library) is not timed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Workload:
    """One row of the table.

    Attributes:
      name: the row's name (``--only`` takes these).
      description: one line for the report.
      inputs: ``inputs(small) -> tuple`` of arguments, float64, fixed seeds;
        ``small=True`` shrinks sizes for the smoke test.
      numpy: the hand-written derivative: ``numpy(*inputs)``.
      builders: base library name -> ``builder(*inputs) -> (fun, args)``.
      rtol: relative tolerance of the check against ``numpy``; ``atol`` is
        ``atol_scale`` times the largest magnitude of the expected answer.
      memory: also report the peak memory of one call (tracemalloc).
      notes: base library name -> a note printed under the table.
      skip: column name -> why it is not run by default (``--force`` runs it).
    """

    name: str
    description: str
    inputs: Callable[[bool], tuple]
    numpy: Callable
    builders: dict[str, Callable]
    rtol: float = 1e-9
    atol_scale: float = 1e-12
    memory: bool = False
    notes: dict[str, str] = field(default_factory=dict)
    skip: dict[str, str] = field(default_factory=dict)


def all_workloads() -> list[Workload]:
    from benchmarks.workloads import chain, deep, deep_loop, hessian, higher, jacobian, mlp, seed

    out: list[Workload] = []
    for mod in (seed, chain, mlp, hessian, jacobian, higher, deep, deep_loop):
        out.extend(mod.WORKLOADS)
    return out
