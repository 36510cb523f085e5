"""fxad: composable automatic differentiation for NumPy, in pure Python.

The public API: transformations from ``fxad.api``, pytrees in
``fxad.tree_util``, differentiable NumPy in ``fxad.numpy``, primitives in
``fxad.lax``, key-based random numbers in ``fxad.random``, numerical checks
in ``fxad.test_util``.

Example:
    >>> import fxad, fxad.numpy as fnp
    >>> float(fxad.grad(lambda x: fnp.sin(x) * x)(0.0))
    0.0
"""

from fxad import (  # noqa: F401
    errors,
    lax,
    numpy,  # noqa: F401
    random,
    test_util,
    tree_util,
    viz,
)
from fxad._explain import Explanation, explain
from fxad._remat import checkpoint, remat
from fxad.api import (
    grad,
    hessian,
    jacfwd,
    jacrev,
    jvp,
    linear_transpose,
    linearize,
    make_jaxpr,
    stop_gradient,
    value_and_grad,
    vjp,
    vmap,
)
from fxad.core import ClosedJaxpr, Jaxpr, ShapedArray, check_jaxpr, config
from fxad.custom_derivatives import custom_jvp, custom_vjp
from fxad.jit import jit

__version__ = "0.1.0"

__all__ = [
    "grad",
    "value_and_grad",
    "jvp",
    "vjp",
    "linearize",
    "linear_transpose",
    "jacfwd",
    "jacrev",
    "hessian",
    "stop_gradient",
    "make_jaxpr",
    "jit",
    "checkpoint",
    "remat",
    "vmap",
    "custom_jvp",
    "custom_vjp",
    "ClosedJaxpr",
    "Jaxpr",
    "ShapedArray",
    "check_jaxpr",
    "config",
    "errors",
    "lax",
    "numpy",
    "random",
    "test_util",
    "tree_util",
    "explain",
    "Explanation",
    "viz",
]
