"""The primitives of ``fxad.random``: one block each, keyed by the Primitive.

A key is the 128-bit key of NumPy's counter-based Philox4x64-10 bit
generator, held as a ``uint64`` array of shape ``(2,)``.  Philox is a keyed
pseudo-random function of a 256-bit counter, so each use of a key reads its
own counter domain (the last counter word) and draws never depend on what
was drawn before, on the trace, or on the batch:

===============  =====================  ========================================
primitive        counter (before use)   what it returns
===============  =====================  ========================================
random_bits      ``[0, 0, 0, 0]``       raw ``uint64``/``uint32`` bits
random_split     ``[0, 0, 0, 1]``       ``shape + (2,)`` new keys
random_fold_in   ``[data, 0, 0, 2]``    one new key
random_gamma     ``[0, 0, 0, 3]``       ``Gamma(a, 1)`` draws (inverse CDF)
random_poisson   ``[0, 0, 0, 4]``       ``Poisson(lam)`` counts (NumPy's sampler)
===============  =====================  ========================================

(NumPy's Philox adds one to the counter before each 4-word block, so the
first block of ``random_bits`` is at counter ``[1, 0, 0, 0]``; a stream
would need ``2**64`` blocks to reach another domain.)

Keys, bits and counts are integers: no derivative (``ad.defjvp_zero``).
The gamma draw is differentiable in its shape ``a`` by implicit
reparameterisation (``random_gamma_grad``, below); the gamma primitives'
impls use SciPy (imported at call time, as ``fxad.lax.special``'s do).

The primitives take a batch of keys, ``uint64[*batch, 2]`` (their other
operands then lead with the same batch shape): the impl draws key by key
(``_per_key``), so row ``i`` of a batch is the draw of key ``i`` by
construction, at the cost of one Philox set-up (~10 us) per key, and a
``vmap`` over keys stays one equation (``_batch_keyed``).  The public
functions of ``fxad.random`` take one key.  None has a jit emitter: jit
calls the impl, where the drawing happens anyway.
"""

from __future__ import annotations

import numpy as np

from fxad.core import bind, new_primitive, shaped
from fxad.interpreters.ad import defjvp, defjvp2, defjvp_zero
from fxad.interpreters.batching import axis_size, batch_rules, not_mapped
from fxad.lax.lax import (
    _aval,
    _c,
    add,
    broadcast_in_dim,
    convert_element_type,
    def_strict,
    div,
    log,
    moveaxis,
    mul,
    sub,
)
from fxad.lax.special import digamma

KEY_DTYPE = np.dtype(np.uint64)
KEY_SHAPE = (2,)

_BITS, _SPLIT, _FOLD_IN, _GAMMA, _POISSON = range(5)


def _philox(key, domain, word0=0):
    key = np.asarray(key, KEY_DTYPE)
    return np.random.Philox(key=key, counter=np.array([word0, 0, 0, domain], KEY_DTYPE))


def _key_batch(name, key, *operands):
    """The batch shape of ``key`` (``uint64[*batch, 2]``), checked to lead the
    shape of each operand."""
    if key.dtype != KEY_DTYPE or key.shape[-1:] != KEY_SHAPE:
        raise TypeError(f"{name}: the key must be a uint64 array of shape (..., 2), got "
                        f"{key.str_short()}")
    batch = key.shape[:-1]
    for x in operands:
        if x.shape[:len(batch)] != batch:
            raise TypeError(f"{name}: the operands' shapes must start with the key batch "
                            f"shape {batch}, got {x.str_short()}")
    return batch


def _as(out, dtype):
    out = np.asarray(out, dtype)
    return out[()] if out.ndim == 0 else out


def _per_key(prim, single):
    """``prim``'s impl: ``single(key, *operands, **params)`` for one key, and
    for a batch of keys (``uint64[*batch, 2]``, operands led by the batch)
    the stack of each key's draw, so row ``i`` is key ``i``'s draw."""

    def impl(key, *operands, **params):
        key = np.asarray(key)
        if key.ndim == 1:
            return single(key, *operands, **params)
        aval = prim.abstract_eval(*[shaped(np.shape(x), np.asarray(x).dtype)
                                    for x in (key, *operands)], **params)
        out = np.empty(aval.shape, aval.dtype)
        for i in np.ndindex(key.shape[:-1]):
            out[i] = single(key[i], *[np.asarray(x)[i] for x in operands], **params)
        return out

    prim.def_impl(impl)


def _batch_keyed(prim):
    """The batch rule of a primitive whose impl takes batches (``_per_key``, or
    elementwise): every operand gets the batch axis in front, an unmapped one
    by broadcasting, and one bind draws the whole batch."""

    def rule(args, dims, **params):
        size = axis_size(args, dims)
        front = []
        for x, d in zip(args, dims):
            if d is not_mapped:
                shape = _aval(x).shape
                x = broadcast_in_dim(x, (size,) + shape, tuple(range(1, len(shape) + 1)))
            else:
                x = moveaxis(x, d, 0)
            front.append(x)
        return bind(prim, *front, **params), 0

    batch_rules[prim] = rule


# ---------------------------------------------------------------------------
# random_bits: the raw stream of a key


def random_bits(key, shape, dtype=KEY_DTYPE):
    return bind(random_bits_p, key, shape=tuple(shape), dtype=np.dtype(dtype))


def _bits_impl(key, *, shape, dtype):
    n = int(np.prod(shape, dtype=np.int64))
    if dtype == np.uint64:
        raw = _philox(key, _BITS).random_raw(n)
    else:  # uint32: the low then the high half of each 64-bit word
        words = _philox(key, _BITS).random_raw((n + 1) // 2)
        raw = np.stack([words & np.uint64(0xFFFFFFFF), words >> np.uint64(32)], -1)
        raw = raw.reshape(-1)[:n].astype(np.uint32)
    return _as(raw.reshape(shape), dtype)


def _bits_abstract_eval(key, *, shape, dtype):
    batch = _key_batch("random_bits", key)
    if dtype not in (np.dtype(np.uint32), np.dtype(np.uint64)):
        raise TypeError(f"random_bits: dtype must be uint32 or uint64, got {dtype}")
    return shaped(batch + tuple(shape), dtype)


random_bits_p = new_primitive("random_bits")
_per_key(random_bits_p, _bits_impl)
random_bits_p.def_abstract_eval(_bits_abstract_eval)
def_strict(random_bits_p)
defjvp_zero(random_bits_p)
_batch_keyed(random_bits_p)

# ---------------------------------------------------------------------------
# random_split and random_fold_in: new keys from a key


def random_split(key, shape):
    return bind(random_split_p, key, shape=tuple(shape))


def _split_impl(key, *, shape):
    n = int(np.prod(shape, dtype=np.int64))
    return _philox(key, _SPLIT).random_raw(2 * n).reshape(tuple(shape) + KEY_SHAPE)


def _split_abstract_eval(key, *, shape):
    batch = _key_batch("random_split", key)
    return shaped(batch + tuple(shape) + KEY_SHAPE, KEY_DTYPE)


random_split_p = new_primitive("random_split")
_per_key(random_split_p, _split_impl)
random_split_p.def_abstract_eval(_split_abstract_eval)
def_strict(random_split_p)
defjvp_zero(random_split_p)
_batch_keyed(random_split_p)


def random_fold_in(key, data):
    return bind(random_fold_in_p, key, data)


def _fold_in_impl(key, data):
    return _philox(key, _FOLD_IN, int(data)).random_raw(2)


def _fold_in_abstract_eval(key, data):
    batch = _key_batch("random_fold_in", key, data)
    if data.dtype != KEY_DTYPE or data.shape != batch:
        raise TypeError("random_fold_in: data must be uint64, one scalar per key, got "
                        f"{data.str_short()}")
    return shaped(batch + KEY_SHAPE, KEY_DTYPE)


random_fold_in_p = new_primitive("random_fold_in")
_per_key(random_fold_in_p, _fold_in_impl)
random_fold_in_p.def_abstract_eval(_fold_in_abstract_eval)
def_strict(random_fold_in_p)
defjvp_zero(random_fold_in_p)
_batch_keyed(random_fold_in_p)

# ---------------------------------------------------------------------------
# random_gamma: Gamma(a, 1) draws, differentiable in a
#
# A draw is the quantile x = P^-1(a, u) of a uniform u from the key (P the
# regularised lower incomplete gamma function, SciPy's gammainc; its inverse
# is SciPy's gammaincinv, imported at call time).  At a fixed key the draw
# is then a smooth function of a, and its derivative is the implicit
# reparameterisation gradient (Figurnov et al. 2018) exactly:
# dx/da = -(dP/da) / (dP/dx), holding u = P(a, x) fixed.  (A rejection
# sampler such as NumPy's would be cheaper but would move the draws
# discontinuously with a, so finite differences at a fixed key, and common
# random numbers, would not see that derivative.)


def random_gamma(key, a):
    return bind(random_gamma_p, key, a)


def _gamma_impl(key, a):
    from scipy import special

    a = np.asarray(a)
    n = int(np.prod(a.shape, dtype=np.int64))
    raw = _philox(key, _GAMMA).random_raw(n).reshape(a.shape)
    u = ((raw >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0 ** -53  # in (0, 1)
    a64 = a.astype(np.float64)
    bad = ~(a64 >= 0)  # negative or NaN
    x = special.gammaincinv(np.where(bad | (a64 == 0), 1.0, a64), u)
    # Gamma(0, 1) is the point mass at 0 (as NumPy's sampler has it)
    return _as(np.where(bad, np.nan, np.where(a64 == 0, 0.0, x)), a.dtype)


def _float_abstract_eval(name, *xs):
    for x in xs:
        if x.dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise TypeError(f"{name}: requires float32 or float64 operands, got "
                            f"{x.str_short()}")
    if len({(x.dtype, x.shape) for x in xs}) > 1:
        raise TypeError(f"{name}: operands must have one dtype and shape, got "
                        + ", ".join(x.str_short() for x in xs))
    return shaped(xs[0].shape, xs[0].dtype)


def _gamma_abstract_eval(key, a):
    _key_batch("random_gamma", key, a)
    return _float_abstract_eval("random_gamma", a)


random_gamma_p = new_primitive("random_gamma")
_per_key(random_gamma_p, _gamma_impl)
random_gamma_p.def_abstract_eval(_gamma_abstract_eval)
def_strict(random_gamma_p)
defjvp2(random_gamma_p, None, lambda t, ans, key, a: mul(t, random_gamma_grad(a, ans)))
_batch_keyed(random_gamma_p)


# ---------------------------------------------------------------------------
# random_gamma_grad: dx/da of a Gamma(a, 1) draw x, -(dP/da) / (dP/dx)
#
# With the series P(a, x) = x^a e^-x sum_n x^n / Gamma(a + n + 1), the
# prefactors of dP/da and dP/dx = x^(a-1) e^-x / Gamma(a) cancel:
#     dx/da = -(x / a) sum_n t_n (log x - digamma(a + n + 1)),
#     t_0 = 1, t_n = t_(n-1) x / (a + n).
# The terms change sign once, and the sum cancels where P(a, x) is near 1,
# so draws with P(a, x) > 0.9 use the complement (_gamma_grad_upper).  Both
# agree with an independent quadrature to ~1e-15 (series) and ~1e-11 (upper
# tail) relative (tests/test_random.py).


def random_gamma_grad(a, x):
    return bind(random_gamma_grad_p, a, x)


_SERIES_MAX_TERMS = 100_000


def _gamma_grad_series(a, x, psi_a1):
    logx = np.log(x)
    t = np.ones_like(x)
    psi = psi_a1.copy()
    acc = logx - psi
    live = np.ones(x.shape, bool)
    for n in range(1, _SERIES_MAX_TERMS):
        t = t * x / (a + n)
        psi = psi + 1.0 / (a + n)
        term = t * (logx - psi)
        acc = acc + np.where(live, term, 0.0)
        # terms decay once a + n > x; stop when they no longer change the sum
        live = live & ~((a + n > x) & (np.abs(term) <= 1e-17 * np.abs(acc)))
        if not live.any():
            break
    return -(x / a) * acc


def _gamma_grad_upper(a, x):
    """dx/da where P(a, x) > 0.9: d log Q / da by a 4-point central difference
    of SciPy's gammaincc (Q itself is accurate there, unlike 1 - P)."""
    from scipy import special

    h = 1e-4 * a
    with np.errstate(divide="ignore", invalid="ignore"):  # Q underflows past any draw
        lq = [np.log(special.gammaincc(a + k * h, x)) for k in (-2, -1, 1, 2)]
    dlogq = (lq[0] - 8 * lq[1] + 8 * lq[2] - lq[3]) / (12 * h)
    q = special.gammaincc(a, x)
    log_px = (a - 1) * np.log(x) - x - special.gammaln(a)
    # dx/da = -(dP/da) / (dP/dx) = (dQ/da) / (dP/dx) = Q d(log Q)/da / (dP/dx)
    return q * dlogq / np.exp(log_px)


def _gamma_grad_impl(a, x):
    from scipy import special

    dtype = np.result_type(a, x)
    a64 = np.asarray(a, np.float64)
    x64 = np.asarray(x, np.float64)
    out = np.full(np.shape(x64), np.nan)
    ok = (a64 > 0) & (x64 > 0) & np.isfinite(x64)
    upper = ok & (special.gammainc(np.where(ok, a64, 1.0), np.where(ok, x64, 1.0)) > 0.9)
    lower = ok & ~upper
    if lower.any():
        out[lower] = _gamma_grad_series(a64[lower], x64[lower], special.psi(a64[lower] + 1))
    if upper.any():
        out[upper] = _gamma_grad_upper(a64[upper], x64[upper])
    out[(a64 > 0) & (x64 == 0)] = 0.0  # the draw at 0 stays there
    return _as(out, dtype)


def _gamma_grad_dx(t, a, x):
    # d/dx of -(dP/da)/(dP/dx), with d2P/dadx = dP/dx (log x - digamma(a)) and
    # d2P/dx2 = dP/dx ((a - 1) / x - 1):
    #     -(log x - digamma(a)) - g ((a - 1) / x - 1)
    g = random_gamma_grad(a, x)
    slope = sub(digamma(a), log(x))
    curve = sub(div(sub(a, _c(a, 1.0)), x), _c(x, 1.0))
    return mul(t, sub(slope, mul(g, curve)))


def _gamma_grad_da(t, a, x):
    # No closed form: a 4-point central difference of the primitive itself,
    # relative step 1e-4 (truncation ~1e-16, rounding ~1e-12 relative), in
    # float64 whatever the dtype (float32 rounding would swamp it), bound as
    # primitives so that it differentiates again.
    dtype = _aval(a).dtype
    a64, x64 = convert_element_type(a, np.float64), convert_element_type(x, np.float64)
    h = mul(a64, 1e-4)
    g = [random_gamma_grad(add(a64, mul(h, k)), x64) for k in (-2.0, -1.0, 1.0, 2.0)]
    num = add(sub(g[0], g[3]), mul(8.0, sub(g[2], g[1])))
    return mul(t, convert_element_type(div(num, mul(h, 12.0)), dtype))


random_gamma_grad_p = new_primitive("random_gamma_grad")
random_gamma_grad_p.def_impl(_gamma_grad_impl)
random_gamma_grad_p.def_abstract_eval(
    lambda a, x: _float_abstract_eval("random_gamma_grad", a, x))
def_strict(random_gamma_grad_p)
defjvp(random_gamma_grad_p, _gamma_grad_da, _gamma_grad_dx)
_batch_keyed(random_gamma_grad_p)  # elementwise: the batch is more elements

# ---------------------------------------------------------------------------
# random_poisson: Poisson(lam) counts (integers: no derivative)


def random_poisson(key, lam, dtype):
    return bind(random_poisson_p, key, lam, dtype=np.dtype(dtype))


def _poisson_impl(key, lam, *, dtype):
    lam = np.asarray(lam)
    bad = ~(lam >= 0)
    out = np.random.Generator(_philox(key, _POISSON)).poisson(np.where(bad, 0.0, lam))
    return _as(np.where(bad, -1, out), dtype)


def _poisson_abstract_eval(key, lam, *, dtype):
    _key_batch("random_poisson", key, lam)
    _float_abstract_eval("random_poisson", lam)
    if dtype.kind not in "iu":
        raise TypeError(f"random_poisson: dtype must be an integer dtype, got {dtype}")
    return shaped(lam.shape, dtype)


random_poisson_p = new_primitive("random_poisson")
_per_key(random_poisson_p, _poisson_impl)
random_poisson_p.def_abstract_eval(_poisson_abstract_eval)
def_strict(random_poisson_p)
defjvp_zero(random_poisson_p)
_batch_keyed(random_poisson_p)

__all__ = ["KEY_DTYPE", "KEY_SHAPE", "random_bits", "random_split", "random_fold_in",
           "random_gamma", "random_gamma_grad", "random_poisson"]
