"""``fxad.scipy.stats``: differentiable distributions of ``scipy.stats``, as
modules of functions (as ``jax.scipy.stats``): ``fxad.scipy.stats.norm.logpdf(x,
loc, scale)`` is ``scipy.stats.norm.logpdf(x, loc, scale)``, differentiable in
every argument where SciPy's formula is smooth.

On plain NumPy values each function is SciPy's own.  On traced values,
SciPy's conventions hold: NaN for invalid parameters (``scale <= 0``, a
non-positive shape), ``-inf`` log-density and 0 density outside the support.

Quantiles (``ppf``/``isf``) that no composite computes are primitives with
SciPy's inverse as impl (``fxad/scipy/stats/_primitives.py``), differentiated
by the implicit function theorem: ``d ppf / dq = 1 / pdf(ppf)``, and in a
parameter wherever the CDF is differentiable in it.  Discrete quantiles are
floats, as SciPy's, with derivative zero.

Example:
    >>> import fxad, fxad.scipy.stats as fst, numpy as np
    >>> x = np.array([0.5, -1.0, 2.0])
    >>> nll = lambda mu: -fxad.numpy.sum(fst.norm.logpdf(x, mu, 1.0))
    >>> float(fxad.grad(nll)(0.0))  # -(sum(x) - n mu)
    -1.5
"""

from fxad.scipy.stats import (  # noqa: F401
    beta,
    binom,
    cauchy,
    chi2,
    dirichlet,
    expon,
    gamma,
    laplace,
    logistic,
    lognorm,
    multivariate_normal,
    nbinom,
    norm,
    poisson,
    t,
    uniform,
)

__all__ = ["beta", "binom", "cauchy", "chi2", "dirichlet", "expon", "gamma", "laplace",
           "logistic", "lognorm", "multivariate_normal", "nbinom", "norm", "poisson", "t",
           "uniform"]

# Every distribution's functions take lists holding tracers and return NumPy's
# result types (fxad/numpy/_util.py: numpy_function).
import sys as _sys  # noqa: E402

from fxad.numpy._util import install_numpy_functions as _install  # noqa: E402

for _name, _mod in list(_sys.modules.items()):
    if _name.startswith(__name__ + ".") and not _name.rsplit(".", 1)[1].startswith("_"):
        _install(vars(_mod))
