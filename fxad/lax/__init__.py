"""Strict primitives in the style of ``jax.lax`` (see ``fxad.lax.lax``).

Families of primitives live in their own modules (``fxad.lax.linalg``,
``fxad.lax.fft``, ``fxad.lax.special``) and are imported here, so that the
primitive registry is complete after ``import fxad`` (their impls import
SciPy lazily, at call time, where they need it).  As in JAX, the special
functions are also re-exported here (``fxad.lax.erf``); ``fxad.lax.linalg``
and ``fxad.lax.fft`` stay submodules (``fxad.lax.fft.fft``).
"""

from fxad.lax import fft, linalg, special  # noqa: F401 - register their primitives
from fxad.lax.control_flow import cond, cond_p, switch  # noqa: F401
from fxad.lax.lax import *  # noqa: F403
from fxad.lax.lax import __all__  # noqa: F401
from fxad.lax.loops import fori_loop, map, scan, while_loop  # noqa: F401, A004 - loops
from fxad.lax.solvers import custom_linear_solve, custom_root  # noqa: F401 - solvers
from fxad.lax.special import *  # noqa: F403
