"""The libraries compared, one column each.

A column is a *base* library (whose builder a workload supplies) plus a way of
calling the built function: eagerly, or through the library's ``jit``. A
column whose library is not installed is skipped with the reason.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Library:
    """One column of the table.

    Attributes:
      name: the column's name (``--libs`` takes these).
      base: which builder of a workload it runs (``numpy``, ``fxad``, ...).
      jit: whether the built function goes through the library's ``jit``
        (its first call is then timed apart as the compile time).
      modules: modules that must be importable for the column to run.
    """

    name: str
    base: str
    jit: bool = False
    modules: tuple[str, ...] = ()

    def missing(self) -> str | None:
        """Why the column cannot run here, or None."""
        for m in self.modules:
            if importlib.util.find_spec(m) is None:
                return f"{m} not installed"
        if self.base == "fxad" and self.jit:
            import fxad

            if not hasattr(fxad, "jit"):
                return "fxad.jit not available in this fxad"
        return None

    def wrap(self, fun: Callable) -> Callable:
        """``fun`` as this column calls it (jitted where asked)."""
        if not self.jit:
            return fun
        if self.base == "fxad":
            import fxad

            return fxad.jit(fun)
        if self.base == "jax":
            import jax

            return jax.jit(fun)
        raise ValueError(f"{self.name}: no jit for {self.base}")

    def thunk(self, fun: Callable, args: tuple) -> Callable[[], object]:
        """A no-argument call of ``fun(*args)`` that returns when the work is done."""
        if self.base == "jax":
            import jax

            block = jax.block_until_ready
            return lambda: block(fun(*args))
        return lambda: fun(*args)


HAND = Library("numpy", "numpy")

LIBRARIES: tuple[Library, ...] = (
    HAND,
    Library("fxad", "fxad", modules=("fxad",)),
    Library("fxad-jit", "fxad", jit=True, modules=("fxad",)),
    Library("autograd", "autograd", modules=("autograd",)),
    Library("jax", "jax", modules=("jax", "jaxlib")),
    Library("jax-jit", "jax", jit=True, modules=("jax", "jaxlib")),
    Library("torch", "torch", modules=("torch",)),
)

BY_NAME = {lib.name: lib for lib in LIBRARIES}


# ---------------------------------------------------------------------------
# One-time set-up of each library: float64 and one thread


_configured: set[str] = set()


def configure(base: str) -> None:
    """Put ``base`` in float64, single-thread mode (idempotent)."""
    if base in _configured:
        return
    _configured.add(base)
    if base == "jax":
        import jax

        jax.config.update("jax_enable_x64", True)
        jax.config.update("jax_platforms", "cpu")
    elif base == "torch":
        import torch

        torch.set_num_threads(1)
        torch.set_default_dtype(torch.float64)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(1)  # any BLAS or OpenMP pool the import just loaded


def versions() -> dict[str, str]:
    """Installed version of each base library (absent ones left out)."""
    out = {"numpy": np.__version__}
    for mod in ("fxad", "autograd", "jax", "jaxlib", "torch", "matplotlib", "threadpoolctl"):
        if importlib.util.find_spec(mod) is None:
            continue
        try:
            from importlib.metadata import version

            out[mod] = version(mod)
        except Exception:  # noqa: BLE001 - a missing dist-info is not worth failing over
            out[mod] = "?"
    return out


# ---------------------------------------------------------------------------
# Moving values in and out


def to_numpy(tree):
    """Any library's answer as NumPy values, nested as given (tuples, lists, dicts)."""
    if isinstance(tree, (tuple, list)):
        return type(tree)(to_numpy(t) for t in tree)
    if isinstance(tree, dict):
        return {k: to_numpy(v) for k, v in tree.items()}
    if hasattr(tree, "detach"):  # torch.Tensor
        return tree.detach().cpu().numpy()
    return np.asarray(tree)


def to_jax(tree):
    """NumPy arrays as JAX arrays (Python scalars left as they are, weakly typed)."""
    import jax.numpy as jnp

    if isinstance(tree, (tuple, list)):
        return type(tree)(to_jax(t) for t in tree)
    if isinstance(tree, np.ndarray):
        return jnp.asarray(tree)
    return tree


def to_torch(tree, requires_grad: bool = False):
    """NumPy arrays and Python floats as float64 tensors."""
    import torch

    if isinstance(tree, (tuple, list)):
        return type(tree)(to_torch(t, requires_grad) for t in tree)
    return torch.tensor(tree, dtype=torch.float64, requires_grad=requires_grad)
