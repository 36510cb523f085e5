"""Op records of the random-number primitives (``fxad/random/_prng.py``);
they join ``RECORDS`` in ``tests/op_records.py``.

The references are independent of the impls where one exists: the key and
bit streams against a pure-Python Philox4x64-10 (the Random123 round
function, written out below), ``random_gamma`` against the quantile of the
documented uniform (SciPy's ``gammaincinv``), and ``random_gamma_grad``
against a quadrature of ``dP/da``.  ``random_poisson`` is NumPy's own
sampler on the documented counter domain (its reference says so).

``random_gamma`` is smooth in ``a`` at a fixed key (a draw is a quantile),
so its record checks the implicit gradient against finite differences."""

from __future__ import annotations

import numpy as np
import scipy.special as sp
from op_records import DOMAINS, F32, F64, Arg, C, OpRecord

from fxad.random import _prng

U64 = np.dtype(np.uint64)
U32 = np.dtype(np.uint32)
_M64 = (1 << 64) - 1

DOMAINS.setdefault("key", lambda rng, shape: rng.integers(0, 2 ** 64, shape, dtype=np.uint64))
DOMAINS.setdefault("word", lambda rng, shape: rng.integers(0, 2 ** 64, shape, dtype=np.uint64))

# ---------------------------------------------------------------------------
# Philox4x64-10, by the book (Salmon et al. 2011, Random123's philox.h)

_PHILOX_M = (0xD2E7470EE14C6C93, 0xCA5A826395121157)
_PHILOX_W = (0x9E3779B97F4A7C15, 0xBB67AE8584CAA73B)


def _philox_block(counter, key):
    c, k = list(counter), list(key)
    for r in range(10):
        if r:
            k = [(k[0] + _PHILOX_W[0]) & _M64, (k[1] + _PHILOX_W[1]) & _M64]
        p0, p1 = _PHILOX_M[0] * c[0], _PHILOX_M[1] * c[2]
        c = [(p1 >> 64) ^ c[1] ^ k[0], p1 & _M64, (p0 >> 64) ^ c[3] ^ k[1], p0 & _M64]
    return c


def philox_words(key, domain, n, word0=0):
    """``n`` 64-bit words from counter ``[word0, 0, 0, domain]`` on: the blocks
    at counters ``+1, +2, ...`` (NumPy increments before it draws)."""
    key = [int(w) for w in np.asarray(key)]
    ctr = word0 | (domain << 192)
    out = []
    while len(out) < n:
        ctr = (ctr + 1) & ((1 << 256) - 1)
        out.extend(_philox_block([(ctr >> (64 * i)) & _M64 for i in range(4)], key))
    return out[:n]


def _bits_ref(key, *, shape, dtype):
    n = int(np.prod(shape, dtype=np.int64))
    if dtype == U64:
        return np.array(philox_words(key, 0, n), U64).reshape(shape)
    words = philox_words(key, 0, (n + 1) // 2)
    halves = [h for w in words for h in (w & 0xFFFFFFFF, w >> 32)]
    return np.array(halves[:n], U32).reshape(shape)


def _split_ref(key, *, shape):
    n = int(np.prod(shape, dtype=np.int64))
    return np.array(philox_words(key, 1, 2 * n), U64).reshape(tuple(shape) + (2,))


def _fold_in_ref(key, data):
    return np.array(philox_words(key, 2, 2, int(data)), U64)


def per_key(single):
    """A reference for a batch of keys (``uint64[*batch, 2]``, the other
    operands led by the batch): ``single`` key by key, stacked."""

    def ref(key, *operands, **params):
        key = np.asarray(key)
        if key.ndim == 1:
            return single(key, *operands, **params)
        rows = [np.asarray(single(key[i], *[np.asarray(x)[i] for x in operands], **params))
                for i in np.ndindex(key.shape[:-1])]
        return np.stack(rows).reshape(key.shape[:-1] + rows[0].shape)

    return ref


def _poisson_ref(k, lam, *, dtype):
    gen = np.random.Generator(np.random.Philox(key=k, counter=np.array([0, 0, 0, 4], U64)))
    return np.asarray(gen.poisson(lam), dtype)[()]


# ---------------------------------------------------------------------------
# Gamma


def _gamma_ref(key, a):
    a = np.asarray(a)
    words = np.array(philox_words(key, 3, a.size), U64).reshape(a.shape)
    u = ((words >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0 ** -53
    return np.asarray(sp.gammaincinv(a.astype(np.float64), u)).astype(a.dtype)[()]


def gamma_grad_quad(a, x):
    """``dx/da = -(dP/da) / (dP/dx)`` by quadrature: with ``t = x s``,
    ``-x * int_0^1 s^(a-1) e^(x (1 - s)) (log(x s) - digamma(a)) ds``, the
    endpoint singularities ``s^(a-1)`` and ``s^(a-1) log s`` integrated
    exactly by QUADPACK's algebraic-logarithmic weights."""
    from scipy.integrate import quad

    def one(a, x):
        def f(s):
            return np.exp(x * (1 - s))

        opts = dict(weight="alg", wvar=(a - 1, 0), epsabs=0, epsrel=2e-14, limit=200)
        i1 = quad(f, 0, 1, **opts)[0]
        i2 = quad(f, 0, 1, **{**opts, "weight": "alg-loga"})[0]
        return -x * ((np.log(x) - sp.psi(a)) * i1 + i2)

    a, x = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(x, np.float64))
    return np.array([one(ai, xi) for ai, xi in zip(a.ravel(), x.ravel())]).reshape(a.shape)


def _gamma_grad_ref(a, x):
    return np.asarray(gamma_grad_quad(a, x)).astype(np.result_type(a, x))[()]


def _quantile_pairs(shape, dtype=F64, q=(0.02, 0.85)):
    """``(a, x)`` with ``x`` a ``Gamma(a)`` quantile at levels in ``q`` (where
    the record's reference and the series both hold 1e-13)."""

    def make(rng):
        a = rng.uniform(0.3, 4.0, shape)
        x = sp.gammaincinv(a, rng.uniform(*q, shape))
        return [np.asarray(a, dtype), np.asarray(x, dtype)]

    return make


def _gamma_case(shape, dtype=F64, **kw):
    return C(Arg((2,), "key", U64), Arg(shape, "positive", dtype), **kw)


RECORDS = [
    OpRecord("random_bits", lambda k, *, shape, dtype: _prng.random_bits(k, shape, dtype),
             per_key(_bits_ref), (
                 C(Arg((2,), "key", U64), shape=(), dtype=U64),
                 C(Arg((2,), "key", U64), shape=(5,), dtype=U64),
                 C(Arg((2,), "key", U64), shape=(2, 3), dtype=U64),
                 C(Arg((2,), "key", U64), shape=(0,), dtype=U64),
                 C(Arg((2,), "key", U64), shape=(3,), dtype=U32),
                 C(Arg((2,), "key", U64), shape=(2, 2), dtype=U32),
                 C(np.array([0, 0], U64), shape=(6,), dtype=U64, name="key0"),
                 C(Arg((3, 2), "key", U64), shape=(2,), dtype=U64, name="key_batch"),
                 C(Arg((2, 2, 2), "key", U64), shape=(3,), dtype=U32, name="key_batch2"),
             ), diff="none"),
    OpRecord("random_split", lambda k, *, shape: _prng.random_split(k, shape),
             per_key(_split_ref), (
        C(Arg((2,), "key", U64), shape=(2,)),
        C(Arg((2,), "key", U64), shape=(3,)),
        C(Arg((2,), "key", U64), shape=(2, 2)),
        C(Arg((2,), "key", U64), shape=()),
        C(Arg((2,), "key", U64), shape=(0,)),
        C(Arg((4, 2), "key", U64), shape=(2,), name="key_batch"),
    ), diff="none"),
    OpRecord("random_fold_in", lambda k, d: _prng.random_fold_in(k, d),
             per_key(_fold_in_ref), (
        C(Arg((2,), "key", U64), Arg((), "word", U64)),
        C(Arg((2,), "key", U64), np.array(0, U64)),
        C(Arg((2,), "key", U64), np.array(2 ** 64 - 1, U64), name="counter_carry"),
        C(Arg((3, 2), "key", U64), Arg((3,), "word", U64), name="key_batch"),
    ), diff="none"),
    OpRecord("random_gamma", lambda k, a: _prng.random_gamma(k, a), per_key(_gamma_ref), (
        _gamma_case(()), _gamma_case((3,)), _gamma_case((2, 3)), _gamma_case((0,)),
        _gamma_case((3,), F32),
        C(Arg((2,), "key", U64), np.array([0.05, 0.5, 30.0]), name="small_and_large_a"),
        C(Arg((3, 2), "key", U64), Arg((3, 2), "positive"), name="key_batch"),
    )),
    OpRecord("random_gamma_grad", lambda a, x: _prng.random_gamma_grad(a, x),
             _gamma_grad_ref, (
                 C((), (), make=_quantile_pairs(())),
                 C((3,), (3,), make=_quantile_pairs((3,))),
                 C((2, 3), (2, 3), make=_quantile_pairs((2, 3))),
                 C((0,), (0,), make=_quantile_pairs((0,))),
                 C(Arg((3,), dtype=F32), Arg((3,), dtype=F32),
                   make=_quantile_pairs((3,), F32)),
             )),
    OpRecord("random_poisson",
             lambda k, lam, *, dtype: _prng.random_poisson(k, lam, dtype),
             per_key(_poisson_ref),
             (C(Arg((2,), "key", U64), Arg((), "positive"), dtype=np.dtype(np.int64)),
              C(Arg((2,), "key", U64), Arg((4,), "positive"), dtype=np.dtype(np.int64)),
              C(Arg((2,), "key", U64), Arg((2, 3), "gt1"), dtype=np.dtype(np.int32)),
              C(Arg((2,), "key", U64), Arg((0,), "positive"), dtype=np.dtype(np.int64)),
              C(Arg((2, 2), "key", U64), Arg((2, 3), "positive"), dtype=np.dtype(np.int64),
                name="key_batch")),
             diff="zero"),
]
