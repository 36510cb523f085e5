"""Strict primitives in the style of ``jax.lax`` (see ``fxad.lax.lax``)."""

from fxad.lax.lax import *  # noqa: F403
from fxad.lax.lax import __all__  # noqa: F401
