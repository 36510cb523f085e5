"""fxad's targets, and the ratios the issue measured for the other libraries.

Ratios are time / hand-written NumPy in the same process (2 cores, one BLAS
thread, float64).
"""

from __future__ import annotations

# workload -> (fxad eager target, fxad jit target): the ratio must be at most this
# (None: the issue sets no target)
# (eager targets: issue 11's, "eager reverse mode at half today's per-operation cost")
FXAD_TARGETS: dict[str, tuple[float | None, float]] = {
    "seed": (90, 10),
    "chain": (7, 1.3),
    "mlp": (1.15, 1.05),
    "hessian": (60, 5),
    "jacobian-fwd": (12, 4),
    "jacobian-rev": (15, 4),
    "higher": (350, 10),
    "deep": (60, 2),
    "deep-loop": (None, 1.3),
}

# workload -> seconds fxad-jit's first call (trace + compile + one run) may take
COMPILE_TARGETS_S: dict[str, float] = {"deep": 10.0, "deep-loop": 1.0}

# the issue's measurements of the other libraries (strings, as the issue gives them)
ISSUE_REFERENCE: dict[str, dict[str, str]] = {
    "autograd": {"seed": "x246", "chain": "x18", "mlp": "x1.21", "hessian": "x755",
                 "jacobian-fwd": "x170", "jacobian-rev": "x170", "higher": "x1330",
                 "deep": "x228"},
    "jax": {"seed": "x3200", "chain": "x270", "mlp": "x2.7", "hessian": "x1630",
            "jacobian-fwd": "x90-300", "jacobian-rev": "x90-300", "higher": "x41000",
            "deep": "x1840"},
    "jax-jit": {"seed": "x14.5", "chain": "x0.07", "mlp": "x0.87", "hessian": "x6.9",
                "jacobian-fwd": "x5.2", "jacobian-rev": "x5.2", "higher": "x12.7",
                "deep": "fails to compile"},
    "torch": {"seed": "x109", "chain": "x7.5", "mlp": "x1.34", "hessian": "x197",
              "jacobian-fwd": "x20", "jacobian-rev": "x20", "higher": "x355", "deep": "x83"},
}
