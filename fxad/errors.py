"""Errors that fxad raises on purpose, with messages that say the way out."""

from __future__ import annotations

__all__ = ["ConcretizationTypeError", "UnexpectedTracerError"]


class ConcretizationTypeError(TypeError):
    """A traced value was needed as a concrete Python or NumPy value.

    Raised when Python control flow, ``float()``, ``int()``, ``.item()`` or
    ``numpy.asarray`` meets a tracer whose value is abstract (inside
    ``make_jaxpr`` or ``jit``), or whose derivative would be silently dropped
    (inside ``grad``/``jvp``).
    """


class UnexpectedTracerError(RuntimeError):
    """A tracer was used after the transformation that created it finished.

    This happens when a traced value is stored in a global, a closure or an
    attribute inside a transformed function and then used outside it.
    """
