"""``fxad.scipy``: differentiable SciPy.

Submodules are imported explicitly, e.g. ``import fxad.scipy.special``.
"""
