"""``fxad.random``: key-based, functional random numbers, as ``jax.random``.

A key is a ``uint64`` array of shape ``(2,)``: the 128-bit key of NumPy's
counter-based Philox4x64-10 bit generator.  Every draw is a pure function
of its key (and of shape, dtype and parameters): the same key gives the
same numbers eagerly, under ``jit`` and under ``vmap``, and the draws are
primitives in the jaxpr (``random_bits``, ``random_split``,
``random_fold_in``, ``random_gamma``, ``random_poisson``; see
``fxad/random/_prng.py``) with the key as an operand, so a jitted function
called with two keys gives two draws.  Never reuse a key for two draws that
should be independent: ``split`` it, or ``fold_in`` a counter.

``fxad.numpy.random`` stays NumPy's own stateful module: its draws are
NumPy values, and inside ``jit`` they are constants frozen at trace time.
``docs/random.md`` says more.

Samplers are reparameterised where that is possible: ``uniform``,
``normal``, ``multivariate_normal``, ``truncated_normal``, ``lognormal``,
``exponential``, ``laplace``, ``logistic``, ``cauchy`` and ``gumbel`` are
differentiable functions of their parameters (their noise does not depend
on them); ``gamma`` is differentiable in its shape ``a`` by implicit
reparameterisation, and ``loggamma``, ``chisquare``, ``t``, ``beta`` and
``dirichlet`` through it (these and ``truncated_normal`` use SciPy's special
functions, imported at call time; the rest needs NumPy only).  Keys, integer
draws (``randint``, ``poisson``, ``categorical``, ``choice``,
``permutation``, ``rademacher``) and ``bernoulli`` have no derivative.

Example:
    >>> import fxad, fxad.random as fr
    >>> k1, k2 = fr.split(fr.key(0))
    >>> x = fr.normal(k1, (3,))
    >>> bool((x == fxad.jit(fr.normal, static_argnums=1)(k1, (3,))).all())
    True
"""

from __future__ import annotations

import operator

import numpy as np

from fxad import lax
from fxad import numpy as fnp
from fxad.core import Tracer, get_aval
from fxad.lax import special as lsp
from fxad.random._prng import (
    KEY_DTYPE,
    random_bits,
    random_fold_in,
    random_gamma,
    random_poisson,
    random_split,
)

__all__ = ["key", "PRNGKey", "split", "fold_in", "bits", "uniform", "normal", "bernoulli",
           "rademacher", "categorical", "choice", "permutation", "randint", "gamma",
           "loggamma", "chisquare", "t", "beta", "dirichlet", "multivariate_normal",
           "truncated_normal", "lognormal", "exponential", "laplace", "logistic", "cauchy",
           "gumbel", "poisson"]

_MASK64 = (1 << 64) - 1

# ---------------------------------------------------------------------------
# Argument checks


def _check_key(k, fn):
    """``k`` as a single key (array or tracer), or a TypeError naming ``fn``."""
    where = f"fxad.random.{fn}"
    if isinstance(k, (bool, int, float, np.integer, np.floating)) or (
            isinstance(k, np.ndarray) and k.ndim == 0):
        raise TypeError(f"{where}: the key must be a key made by fxad.random.key(seed), got "
                        f"the {type(k).__name__} {k!r} (make one with "
                        f"fxad.random.key({k!r}))")
    if not isinstance(k, Tracer):
        try:
            arr = np.asarray(k)
        except (TypeError, ValueError):
            arr = None
        if arr is None or arr.dtype.kind not in "biuf":
            raise TypeError(f"{where}: the key must be a key made by fxad.random.key(seed), "
                            f"got {type(k).__name__} {k!r}")
        k = arr
    aval = get_aval(k)
    got = f"{aval.dtype.name}[{','.join(map(str, aval.shape))}]"
    if aval.dtype != KEY_DTYPE:
        raise TypeError(f"{where}: the key must be a uint64 array of shape (2,) made by "
                        f"fxad.random.key, split or fold_in, got {got}")
    if aval.shape != (2,):
        if len(aval.shape) > 1 and aval.shape[-1] == 2:
            raise TypeError(f"{where}: got a batch of keys {got}, but a draw "
                            "takes one key (uint64[2]): draw with one of them, or map over "
                            "the batch with fxad.vmap")
        raise TypeError(f"{where}: the key must be a uint64 array of shape (2,), got {got}")
    return k


def _shape(shape, fn, what="shape"):
    if shape is None:
        return None
    try:
        out = (operator.index(shape),)
    except TypeError:
        try:
            out = tuple(operator.index(d) for d in shape)
        except TypeError:
            raise TypeError(f"fxad.random.{fn}: {what} must be an int or a tuple of ints, "
                            f"got {shape!r}") from None
    if any(d < 0 for d in out):
        raise ValueError(f"fxad.random.{fn}: {what} {out} has a negative dimension")
    return out


def _float(dtype, fn):
    dtype = np.dtype(np.float64 if dtype is None else dtype)
    if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(f"fxad.random.{fn}: dtype must be float32 or float64, got {dtype}")
    return dtype


def _param(x, dtype):
    return fnp.asarray(x, dtype)


def _draw_shape(fn, shape, **params):
    """``shape`` (or, when None, the broadcast shape of the parameters), checked
    to hold every parameter's shape."""
    shapes = {k: tuple(fnp.shape(v)) for k, v in params.items()}
    try:
        joint = np.broadcast_shapes(*shapes.values())
    except ValueError:
        raise ValueError(f"fxad.random.{fn}: the shapes of the parameters do not broadcast: "
                         + ", ".join(f"{k} {s}" for k, s in shapes.items())) from None
    if shape is None:
        return joint
    try:
        ok = np.broadcast_shapes(shape, joint) == shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"fxad.random.{fn}: shape {shape} does not hold the shape of the "
                         "parameters (" + ", ".join(f"{k} {s}" for k, s in shapes.items())
                         + "): they must broadcast to shape")
    return shape


# ---------------------------------------------------------------------------
# Keys


def key(seed) -> np.ndarray:
    """A key from an integer seed (``jax.random.key``).

    Args:
      seed: an int in ``[-2**63, 2**128)`` (a negative seed is taken modulo
        ``2**64``), or a traced integer scalar.

    Returns:
      A ``uint64`` array of shape ``(2,)``: the Philox key ``[seed >> 64,
      seed mod 2**64]``.

    Example:
        >>> import fxad.random as fr
        >>> fr.key(42)
        array([ 0, 42], dtype=uint64)
    """
    if isinstance(seed, Tracer):
        aval = get_aval(seed)
        if aval.shape != () or aval.dtype.kind not in "iu":
            raise TypeError("fxad.random.key: the seed must be an integer scalar, got "
                            f"{aval.str_short()}")
        lo = lax.convert_element_type(seed, KEY_DTYPE)
        return fnp.stack([fnp.zeros((), KEY_DTYPE), lo])
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) and not (
            isinstance(seed, np.ndarray) and seed.shape == () and seed.dtype.kind in "iu"):
        raise TypeError(f"fxad.random.key: the seed must be an int, got {seed!r}")
    seed = int(seed)
    if not -(1 << 63) <= seed < (1 << 128):
        raise ValueError(f"fxad.random.key: the seed {seed} is out of range [-2**63, 2**128)")
    seed &= (1 << 128) - 1 if seed >= 0 else _MASK64
    return np.array([seed >> 64, seed & _MASK64], KEY_DTYPE)


#: ``jax.random.PRNGKey``: the same as ``key``.
PRNGKey = key


def split(key, num=2):
    """``num`` new keys from ``key`` (``jax.random.split``), independent of
    each other and of the draws of ``key``.

    Args:
      key: a key.
      num: an int, or a tuple for a batch of that shape.

    Returns:
      A ``uint64`` array of shape ``(num, 2)`` (``num + (2,)`` for a tuple).

    Example:
        >>> import fxad.random as fr
        >>> fr.split(fr.key(0), 3).shape
        (3, 2)
    """
    return random_split(_check_key(key, "split"), _shape(num, "split", "num"))


def fold_in(key, data):
    """A new key from ``key`` and an integer ``data`` (``jax.random.fold_in``):
    ``fold_in(key, i)`` for ``i = 0, 1, ...`` are independent keys.

    Args:
      key: a key.
      data: an int (taken modulo ``2**64``) or a traced integer scalar.

    Example:
        >>> import fxad.random as fr
        >>> k = fr.key(0)
        >>> bool((fr.fold_in(k, 1) != fr.fold_in(k, 2)).any())
        True
    """
    key = _check_key(key, "fold_in")
    if isinstance(data, Tracer):
        aval = get_aval(data)
        if aval.shape != () or aval.dtype.kind not in "iu":
            raise TypeError("fxad.random.fold_in: data must be an integer scalar, got "
                            f"{aval.str_short()}")
        data = lax.convert_element_type(data, KEY_DTYPE)
    else:
        if isinstance(data, (bool, np.bool_)) or np.asarray(data).dtype.kind not in "iu" \
                or np.ndim(data):
            raise TypeError(f"fxad.random.fold_in: data must be an integer scalar, got "
                            f"{data!r}")
        data = np.uint64(int(data) & _MASK64)
    return random_fold_in(key, data)


# ---------------------------------------------------------------------------
# Bits and the unit interval


def bits(key, shape=(), dtype=np.uint64):
    """Uniform random bits (``jax.random.bits``): ``uint64`` or ``uint32``.

    Example:
        >>> import fxad.random as fr
        >>> fr.bits(fr.key(0), (2,)).dtype
        dtype('uint64')
    """
    dtype = np.dtype(dtype)
    if dtype not in (np.dtype(np.uint32), np.dtype(np.uint64)):
        raise TypeError(f"fxad.random.bits: dtype must be uint32 or uint64, got {dtype}")
    return random_bits(_check_key(key, "bits"), _shape(shape, "bits"), dtype)


def _unit(key, shape, dtype, open_=False):
    """Uniform on ``[0, 1)`` (``open_``: on ``(0, 1)``) from the top bits of
    the mantissa: ``m / 2**p`` (``(m + 1/2) / 2**p``) for the low ``p`` bits
    ``m`` of the key's 64-bit words (``p`` = 53 for float64, 24 for float32)."""
    p = 53 if dtype == np.float64 else 24
    b = random_bits(key, shape, KEY_DTYPE)
    m = lax.convert_element_type(lax.rem(b, np.uint64(1 << p)), dtype)
    if open_:
        m = lax.add(m, dtype.type(0.5))
    return lax.mul(m, dtype.type(2.0 ** -p))


def uniform(key, shape=(), dtype=None, minval=0.0, maxval=1.0):
    """Uniform on ``[minval, maxval)`` (``jax.random.uniform``);
    differentiable in ``minval`` and ``maxval``.

    Example:
        >>> import fxad.random as fr
        >>> u = fr.uniform(fr.key(0), (1000,), minval=2.0, maxval=3.0)
        >>> bool((u >= 2).all() and (u < 3).all())
        True
    """
    key = _check_key(key, "uniform")
    dtype = _float(dtype, "uniform")
    shape = _shape(shape, "uniform")
    u = _unit(key, shape, dtype)
    if type(minval) in (int, float) and type(maxval) in (int, float) and (minval, maxval) == (0, 1):
        return u  # the unit interval itself: no rounding to guard against
    minval, maxval = _param(minval, dtype), _param(maxval, dtype)
    _draw_shape("uniform", shape, minval=minval, maxval=maxval)
    # u * (maxval - minval) may round up to maxval; max keeps minval a bound.
    return fnp.maximum(minval, u * (maxval - minval) + minval)


def normal(key, shape=(), dtype=None):
    """Standard normal draws (``jax.random.normal``), by the Box-Muller
    transform of two uniforms.  ``loc + scale * normal(key)`` is the
    reparameterised sampler of ``N(loc, scale**2)``.

    Example:
        >>> import fxad.random as fr
        >>> fr.normal(fr.key(0), (2, 3)).shape
        (2, 3)
    """
    key = _check_key(key, "normal")
    dtype = _float(dtype, "normal")
    shape = _shape(shape, "normal")
    return _normal(key, shape, dtype)


def _normal(key, shape, dtype):
    u = _unit(key, (2,) + shape, dtype, open_=True)
    r = fnp.sqrt(dtype.type(-2.0) * fnp.log(u[0]))
    return r * fnp.cos(dtype.type(2 * np.pi) * u[1])


def bernoulli(key, p=0.5, shape=None):
    """``True`` with probability ``p`` (``jax.random.bernoulli``).

    Example:
        >>> import fxad.random as fr
        >>> fr.bernoulli(fr.key(0), 0.3, (4,)).dtype
        dtype('bool')
    """
    key = _check_key(key, "bernoulli")
    p = fnp.asarray(p)
    dtype = p.dtype if p.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    p = _param(p, dtype)
    shape = _draw_shape("bernoulli", _shape(shape, "bernoulli"), p=p)
    return _unit(key, shape, dtype) < p


def rademacher(key, shape=(), dtype=np.int64):
    """``-1`` or ``+1`` with probability 1/2 each (``jax.random.rademacher``).

    Example:
        >>> import fxad.random as fr
        >>> sorted(set(fr.rademacher(fr.key(0), (100,)).tolist()))
        [-1, 1]
    """
    key = _check_key(key, "rademacher")
    shape = _shape(shape, "rademacher")
    b = fnp.asarray(_unit(key, shape, np.dtype(np.float64)) < 0.5, dtype)
    return 2 * b - 1


def _gumbel(key, shape, dtype):
    return -fnp.log(-fnp.log(_unit(key, shape, dtype, open_=True)))


def gumbel(key, shape=(), dtype=None):
    """Standard Gumbel draws, ``-log(-log(u))`` (``jax.random.gumbel``).

    Example:
        >>> import fxad.random as fr
        >>> fr.gumbel(fr.key(0), (3,)).shape
        (3,)
    """
    key = _check_key(key, "gumbel")
    return _gumbel(key, _shape(shape, "gumbel"), _float(dtype, "gumbel"))


def exponential(key, shape=(), dtype=None):
    """Standard exponential draws, ``-log1p(-u)`` (``jax.random.exponential``).

    Example:
        >>> import fxad.random as fr
        >>> bool((fr.exponential(fr.key(0), (5,)) >= 0).all())
        True
    """
    key = _check_key(key, "exponential")
    dtype = _float(dtype, "exponential")
    return -fnp.log1p(-_unit(key, _shape(shape, "exponential"), dtype))


def laplace(key, shape=(), dtype=None):
    """Standard Laplace draws (density ``exp(-|x|) / 2``; ``jax.random.laplace``).

    Example:
        >>> import fxad.random as fr
        >>> fr.laplace(fr.key(0), (3,)).shape
        (3,)
    """
    key = _check_key(key, "laplace")
    dtype = _float(dtype, "laplace")
    u = dtype.type(2.0) * _unit(key, _shape(shape, "laplace"), dtype, open_=True) - 1
    return -fnp.sign(u) * fnp.log1p(-fnp.abs(u))


def logistic(key, shape=(), dtype=None):
    """Standard logistic draws, ``log(u / (1 - u))`` (``jax.random.logistic``).

    Example:
        >>> import fxad.random as fr
        >>> fr.logistic(fr.key(0), (3,)).shape
        (3,)
    """
    key = _check_key(key, "logistic")
    dtype = _float(dtype, "logistic")
    u = _unit(key, _shape(shape, "logistic"), dtype, open_=True)
    return fnp.log(u) - fnp.log1p(-u)


def cauchy(key, shape=(), dtype=None):
    """Standard Cauchy draws, ``tan(pi (u - 1/2))`` (``jax.random.cauchy``).

    Example:
        >>> import fxad.random as fr
        >>> fr.cauchy(fr.key(0), (3,)).shape
        (3,)
    """
    key = _check_key(key, "cauchy")
    dtype = _float(dtype, "cauchy")
    u = _unit(key, _shape(shape, "cauchy"), dtype, open_=True)
    return fnp.tan(dtype.type(np.pi) * (u - dtype.type(0.5)))


# ---------------------------------------------------------------------------
# Integers, indices and orderings (no derivative)


def randint(key, shape, minval, maxval, dtype=np.int64):
    """Integers uniform on ``[minval, maxval)`` (``jax.random.randint``):
    ``minval + floor(u * (maxval - minval))`` for a float64 uniform ``u``,
    exact for ranges below ``2**53``.

    Example:
        >>> import fxad.random as fr
        >>> r = fr.randint(fr.key(0), (1000,), 3, 7)
        >>> sorted(set(r.tolist()))
        [3, 4, 5, 6]
    """
    key = _check_key(key, "randint")
    dtype = np.dtype(dtype)
    if dtype.kind not in "iu":
        raise TypeError(f"fxad.random.randint: dtype must be an integer dtype, got {dtype}")
    shape = _shape(shape, "randint")
    lo, hi = fnp.asarray(minval), fnp.asarray(maxval)
    for name, v in (("minval", lo), ("maxval", hi)):
        if fnp.result_type(v).kind not in "iub":
            raise TypeError(f"fxad.random.randint: {name} must be integers, got "
                            f"{fnp.result_type(v)}")
    _draw_shape("randint", shape, minval=lo, maxval=hi)
    lo, hi = fnp.asarray(lo, np.float64), fnp.asarray(hi, np.float64)
    span = fnp.maximum(hi - lo, 0.0)
    r = fnp.minimum(fnp.floor(_unit(key, shape, np.dtype(np.float64)) * span),
                    fnp.maximum(span - 1, 0.0))
    return fnp.asarray(lo + r, dtype)


def permutation(key, x, axis=0, independent=False):
    """A random permutation (``jax.random.permutation``): of ``arange(x)``
    for an int ``x``, else of ``x`` along ``axis`` (each slice on its own
    when ``independent``).  Sorts uniform keys.

    Example:
        >>> import fxad.random as fr
        >>> sorted(fr.permutation(fr.key(0), 5).tolist())
        [0, 1, 2, 3, 4]
    """
    key = _check_key(key, "permutation")
    if isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_)):
        n = operator.index(x)
        if n < 0:
            raise ValueError(f"fxad.random.permutation: x must be >= 0, got {n}")
        return fnp.argsort(_unit(key, (n,), np.dtype(np.float64)))
    x = fnp.asarray(x)
    shape = tuple(fnp.shape(x))
    if not shape:
        raise TypeError("fxad.random.permutation: x must be an int or an array with at least "
                        "one dimension, got a 0-d array")
    axis = _axis(axis, len(shape), "permutation")
    if independent:
        order = fnp.argsort(_unit(key, shape, np.dtype(np.float64)), axis=axis)
        return fnp.take_along_axis(x, order, axis=axis)
    return fnp.take(x, fnp.argsort(_unit(key, (shape[axis],), np.dtype(np.float64))),
                    axis=axis)


def _axis(axis, ndim, fn):
    axis = operator.index(axis)
    if not -ndim <= axis < ndim:
        raise ValueError(f"fxad.random.{fn}: axis {axis} is out of bounds for an array "
                         f"with {ndim} dimensions")
    return axis % ndim


def choice(key, a, shape=(), replace=True, p=None, axis=0):
    """Draws from ``a`` (``jax.random.choice``): from ``arange(a)`` for an int
    ``a``, else from the slices of ``a`` along ``axis``; with replacement or
    not, uniformly or with probabilities ``p`` (normalised here).  The draws
    take the place of ``axis`` (``numpy.take``'s layout).

    Example:
        >>> import fxad.random as fr
        >>> sorted(fr.choice(fr.key(0), 5, (5,), replace=False).tolist())
        [0, 1, 2, 3, 4]
    """
    key = _check_key(key, "choice")
    shape = _shape(shape, "choice")
    if isinstance(a, (int, np.integer)) and not isinstance(a, (bool, np.bool_)):
        n, arr = operator.index(a), None
    else:
        arr = fnp.asarray(a)
        if not fnp.shape(arr):
            raise TypeError("fxad.random.choice: a must be an int or an array with at least "
                            "one dimension, got a 0-d array")
        axis = _axis(axis, fnp.ndim(arr), "choice")
        n = fnp.shape(arr)[axis]
    size = int(np.prod(shape, dtype=np.int64))
    if n <= 0 and size:
        raise ValueError("fxad.random.choice: a must be non-empty to draw from it")
    if p is not None:
        p = fnp.asarray(p, np.float64)
        if tuple(fnp.shape(p)) != (n,):
            raise ValueError(f"fxad.random.choice: p must have shape ({n},) (one probability "
                             f"per entry of a), got {tuple(fnp.shape(p))}")
    if replace:
        if p is None:
            idx = randint(key, shape, 0, n)
        else:
            cdf = fnp.cumsum(p)
            u = _unit(key, shape, np.dtype(np.float64)) * cdf[-1]
            idx = fnp.minimum(fnp.searchsorted(cdf, u, side="right"), n - 1)
    else:
        if size > n:
            raise ValueError(f"fxad.random.choice: cannot take {size} draws from {n} entries "
                             "without replacement (pass replace=True, or a smaller shape)")
        if p is None:
            order = permutation(key, n)
        else:  # Gumbel top-k: the k largest log p + Gumbel noise
            order = fnp.argsort(-(fnp.log(p) + _gumbel(key, (n,), np.dtype(np.float64))))
        idx = fnp.reshape(order[:size], shape)
    return idx if arr is None else fnp.take(arr, idx, axis=axis)


def categorical(key, logits, axis=-1, shape=None):
    """Indices drawn with probabilities ``softmax(logits, axis)``
    (``jax.random.categorical``), by the Gumbel-max trick.

    Args:
      logits: unnormalised log-probabilities.
      axis: the axis of the categories.
      shape: the shape of the draws; it must hold the batch shape (``logits``'
        shape without ``axis``), which is the default.

    Example:
        >>> import fxad.random as fr, numpy as np
        >>> fr.categorical(fr.key(0), np.log([0.2, 0.8]), shape=(4,)).shape
        (4,)
    """
    key = _check_key(key, "categorical")
    logits = fnp.asarray(logits)
    dtype = logits.dtype if logits.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    logits = fnp.asarray(logits, dtype)
    if not fnp.shape(logits):
        raise TypeError("fxad.random.categorical: logits must have at least one dimension")
    axis = _axis(axis, fnp.ndim(logits), "categorical")
    logits = fnp.moveaxis(logits, axis, -1)
    batch = tuple(fnp.shape(logits)[:-1])
    shape = _shape(shape, "categorical")
    if shape is None:
        shape = batch
    else:
        try:
            ok = np.broadcast_shapes(shape, batch) == shape
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(f"fxad.random.categorical: shape {shape} does not hold the "
                             f"batch shape {batch} of logits (their shape without axis)")
    g = _gumbel(key, shape + (fnp.shape(logits)[-1],), dtype)
    return fnp.argmax(g + logits, axis=-1)


# ---------------------------------------------------------------------------
# Gamma and the distributions built on it


def gamma(key, a, shape=None, dtype=None):
    """``Gamma(a, 1)`` draws (``jax.random.gamma``), differentiable in ``a``
    by implicit reparameterisation: ``dx/da = -(dP/da) / (dP/dx)`` with ``P``
    the regularised lower incomplete gamma function.  A draw is the
    quantile ``P^-1(a, u)`` of a uniform ``u`` from the key, so at a fixed key
    it moves smoothly with ``a`` (finite differences with common random
    numbers agree with the gradient).  Needs SciPy (``gammaincinv``,
    imported at call time).  ``scale * gamma(key, a)`` has scale ``scale``.

    Example:
        >>> import fxad, fxad.numpy as fnp, fxad.random as fr
        >>> k = fr.key(0)
        >>> g = fxad.grad(lambda a: fnp.mean(fr.gamma(k, a, (1000,))))(3.0)
        >>> bool(0.9 < g < 1.1)  # d E[x] / da = 1
        True
    """
    key = _check_key(key, "gamma")
    dtype = _float(dtype, "gamma")
    a = _param(a, dtype)
    shape = _draw_shape("gamma", _shape(shape, "gamma"), a=a)
    return random_gamma(key, fnp.broadcast_to(a, shape))


def loggamma(key, a, shape=None, dtype=None):
    """``log`` of ``Gamma(a, 1)`` draws (``jax.random.loggamma``), finite for
    small ``a`` where the draws themselves underflow to 0; differentiable in
    ``a``.  (Its stream differs from ``log(gamma(key, a))``.)

    Example:
        >>> import fxad.random as fr, numpy as np
        >>> bool(np.isfinite(fr.loggamma(fr.key(0), 1e-3, (1000,))).all())
        True
    """
    key = _check_key(key, "loggamma")
    dtype = _float(dtype, "loggamma")
    a = _param(a, dtype)
    shape = _draw_shape("loggamma", _shape(shape, "loggamma"), a=a)
    return _log_gamma(key, a, shape)


def chisquare(key, df, shape=None, dtype=None):
    """Chi-square draws with ``df`` degrees of freedom, ``2 Gamma(df / 2)``
    (``jax.random.chisquare``); differentiable in ``df``.

    Example:
        >>> import fxad.random as fr
        >>> bool((fr.chisquare(fr.key(0), 3.0, (10,)) > 0).all())
        True
    """
    key = _check_key(key, "chisquare")
    dtype = _float(dtype, "chisquare")
    df = _param(df, dtype)
    shape = _draw_shape("chisquare", _shape(shape, "chisquare"), df=df)
    return dtype.type(2.0) * random_gamma(key, fnp.broadcast_to(df / dtype.type(2.0), shape))


def t(key, df, shape=None, dtype=None):
    """Student's t draws with ``df`` degrees of freedom, ``z / sqrt(v / df)``
    for ``z ~ N(0, 1)`` and ``v ~ chi2(df)`` (``jax.random.t``); differentiable
    in ``df``.

    Example:
        >>> import fxad.random as fr
        >>> fr.t(fr.key(0), 4.0, (3,)).shape
        (3,)
    """
    key = _check_key(key, "t")
    dtype = _float(dtype, "t")
    df = _param(df, dtype)
    shape = _draw_shape("t", _shape(shape, "t"), df=df)
    kz, kv = random_split(key, (2,))
    v = dtype.type(2.0) * random_gamma(kv, fnp.broadcast_to(df / dtype.type(2.0), shape))
    return _normal(kz, shape, dtype) * fnp.sqrt(df / v)


def _log_gamma(key, a, shape):
    """``log`` of ``Gamma(a, 1)`` draws that stay finite for small ``a``:
    ``Gamma(a) = Gamma(a + 1) * u ** (1 / a)`` in law, so the log is
    ``log Gamma(a + 1) + log(u) / a`` (reparameterised in ``a`` too)."""
    k1, k2 = random_split(key, (2,))
    a = fnp.broadcast_to(a, shape)
    g = random_gamma(k1, a + a.dtype.type(1.0))
    return fnp.log(g) + fnp.log(_unit(k2, shape, a.dtype, open_=True)) / a


def beta(key, a, b, shape=None, dtype=None):
    """``Beta(a, b)`` draws (``jax.random.beta``), ``X / (X + Y)`` for
    ``X ~ Gamma(a)``, ``Y ~ Gamma(b)`` (in log space, so small ``a``, ``b``
    do not give ``0 / 0``); differentiable in ``a`` and ``b``.

    Example:
        >>> import fxad.random as fr
        >>> x = fr.beta(fr.key(0), 2.0, 5.0, (1000,))
        >>> bool((x > 0).all() and (x < 1).all())
        True
    """
    key = _check_key(key, "beta")
    dtype = _float(dtype, "beta")
    a, b = _param(a, dtype), _param(b, dtype)
    shape = _draw_shape("beta", _shape(shape, "beta"), a=a, b=b)
    ka, kb = random_split(key, (2,))
    la, lb = _log_gamma(ka, a, shape), _log_gamma(kb, b, shape)
    # X / (X + Y) = 1 / (1 + exp(log Y - log X))
    return fnp.exp(-fnp.logaddexp(dtype.type(0.0), lb - la))


def dirichlet(key, alpha, shape=None, dtype=None):
    """``Dirichlet(alpha)`` draws (``jax.random.dirichlet``): normalised
    gamma draws (in log space), differentiable in ``alpha``.

    Args:
      alpha: concentrations, shape ``(..., K)``.
      shape: the batch shape; the draws have shape ``shape + (K,)``.

    Example:
        >>> import fxad.random as fr
        >>> x = fr.dirichlet(fr.key(0), [1.0, 2.0, 3.0], (4,))
        >>> x.shape, bool(abs(x.sum(-1) - 1).max() < 1e-12)
        ((4, 3), True)
    """
    key = _check_key(key, "dirichlet")
    dtype = _float(dtype, "dirichlet")
    alpha = _param(alpha, dtype)
    if not fnp.shape(alpha):
        raise ValueError("fxad.random.dirichlet: alpha must have at least one dimension "
                         "(the K concentrations)")
    k = fnp.shape(alpha)[-1]
    shape = _shape(shape, "dirichlet")
    if shape is None:
        shape = tuple(fnp.shape(alpha)[:-1])
    full = _draw_shape("dirichlet", shape + (k,), alpha=alpha)
    lg = _log_gamma(key, alpha, full)
    lg = lg - fnp.max(lax.stop_gradient_prim(lg), axis=-1, keepdims=True)
    e = fnp.exp(lg)
    return e / fnp.sum(e, axis=-1, keepdims=True)


# ---------------------------------------------------------------------------
# Normal families


def multivariate_normal(key, mean, cov, shape=None, dtype=None, method="cholesky"):
    """``N(mean, cov)`` draws (``jax.random.multivariate_normal``), ``mean +
    L z`` with ``L L^T = cov`` from ``method`` (``"cholesky"``, ``"eigh"``
    or ``"svd"``, the last two for singular ``cov``); differentiable in
    ``mean`` and ``cov``.

    Args:
      mean: shape ``(..., n)``.
      cov: shape ``(..., n, n)``, symmetric positive (semi-)definite.
      shape: the batch shape (default: ``mean``'s and ``cov``'s broadcast);
        the draws have shape ``shape + (n,)``.

    Example:
        >>> import fxad.random as fr, numpy as np
        >>> fr.multivariate_normal(fr.key(0), np.zeros(2), np.eye(2), (5,)).shape
        (5, 2)
    """
    key = _check_key(key, "multivariate_normal")
    dtype = _float(dtype, "multivariate_normal")
    if method not in ("cholesky", "eigh", "svd"):
        raise ValueError("fxad.random.multivariate_normal: method must be 'cholesky', 'eigh' "
                         f"or 'svd', got {method!r}")
    mean, cov = _param(mean, dtype), _param(cov, dtype)
    ms, cs = tuple(fnp.shape(mean)), tuple(fnp.shape(cov))
    if len(ms) < 1 or len(cs) < 2 or cs[-2:] != (ms[-1], ms[-1]):
        raise ValueError("fxad.random.multivariate_normal: mean must have shape (..., n) and "
                         f"cov (..., n, n), got mean {ms} and cov {cs}")
    n = ms[-1]
    try:
        batch = np.broadcast_shapes(ms[:-1], cs[:-2])
    except ValueError:
        raise ValueError("fxad.random.multivariate_normal: the batch shapes of mean "
                         f"{ms[:-1]} and cov {cs[:-2]} do not broadcast") from None
    shape = _shape(shape, "multivariate_normal")
    if shape is None:
        shape = batch
    _draw_shape("multivariate_normal", shape, mean=mean[..., 0], cov=cov[..., 0, 0])
    if method == "cholesky":
        factor = fnp.linalg.cholesky(cov)
    elif method == "eigh":
        w, v = fnp.linalg.eigh(cov)
        factor = v * fnp.sqrt(fnp.maximum(w, 0.0))[..., None, :]
    else:
        u, s, _ = fnp.linalg.svd(cov)
        factor = u * fnp.sqrt(s)[..., None, :]
    z = _normal(key, shape + (n,), dtype)
    return mean + fnp.matmul(factor, z[..., None])[..., 0]


def lognormal(key, sigma=1.0, shape=None, dtype=None):
    """Log-normal draws, ``exp(sigma * z)`` for ``z ~ N(0, 1)``
    (``jax.random.lognormal``); differentiable in ``sigma``.

    Example:
        >>> import fxad.random as fr
        >>> bool((fr.lognormal(fr.key(0), 0.5, (10,)) > 0).all())
        True
    """
    key = _check_key(key, "lognormal")
    dtype = _float(dtype, "lognormal")
    sigma = _param(sigma, dtype)
    shape = _draw_shape("lognormal", _shape(shape, "lognormal"), sigma=sigma)
    return fnp.exp(sigma * _normal(key, shape, dtype))


def truncated_normal(key, lower, upper, shape=None, dtype=None):
    """Standard normal draws truncated to ``[lower, upper]``
    (``jax.random.truncated_normal``), by the inverse CDF; differentiable in
    ``lower`` and ``upper``.  The interval is mirrored into the lower half
    line, where the CDF keeps its relative accuracy, so far-tail intervals
    (``lower = 8``) sample correctly.  Its functions (``erfc``, ``ndtri``)
    need SciPy.

    Example:
        >>> import fxad.random as fr
        >>> x = fr.truncated_normal(fr.key(0), 1.0, 2.0, (100,))
        >>> bool((x >= 1).all() and (x <= 2).all())
        True
    """
    key = _check_key(key, "truncated_normal")
    dtype = _float(dtype, "truncated_normal")
    lower, upper = _param(lower, dtype), _param(upper, dtype)
    shape = _draw_shape("truncated_normal", _shape(shape, "truncated_normal"),
                        lower=lower, upper=upper)
    lower, upper = fnp.broadcast_to(lower, shape), fnp.broadcast_to(upper, shape)
    flip = lax.stop_gradient_prim(lower + upper) > 0
    lo = fnp.where(flip, -upper, lower)
    hi = fnp.where(flip, -lower, upper)

    def cdf(x):
        return dtype.type(0.5) * lsp.erfc(-x * dtype.type(1 / np.sqrt(2)))

    c_lo, c_hi = cdf(lo), cdf(hi)
    u = _unit(key, shape, dtype, open_=True)
    x = fnp.clip(lsp.ndtri(c_lo + u * (c_hi - c_lo)), lo, hi)
    return fnp.where(flip, -x, x)


# ---------------------------------------------------------------------------
# Counts


def poisson(key, lam, shape=None, dtype=np.int64):
    """``Poisson(lam)`` counts (``jax.random.poisson``; NumPy's sampler);
    ``-1`` where ``lam`` is negative or NaN.

    Example:
        >>> import fxad.random as fr
        >>> fr.poisson(fr.key(0), 3.0, (4,)).dtype
        dtype('int64')
    """
    key = _check_key(key, "poisson")
    dtype = np.dtype(dtype)
    if dtype.kind not in "iu":
        raise TypeError(f"fxad.random.poisson: dtype must be an integer dtype, got {dtype}")
    lam = _param(lam, np.float64)
    shape = _draw_shape("poisson", _shape(shape, "poisson"), lam=lam)
    return random_poisson(key, fnp.broadcast_to(lam, shape), dtype)
