"""``fxad.random``: key-based draws.

The same key gives the same draws eagerly, under ``jit`` and under ``vmap``
of a split key batch; the draws are primitives of the jaxpr with the key as
an operand (not constants); ``split`` and ``fold_in`` give independent
streams; each distribution's moments (and its CDF, by a KS test) match for
10^5 draws with a fixed key; reparameterised gradients match finite
differences of the Monte Carlo expectation with common random numbers (the
same key) and the analytic derivative of the expectation; bad keys, dtypes
and shapes raise errors that say what to do.  The primitives themselves
(bit streams against a pure-Python Philox) are covered by their op records
(``tests/op_records_random.py``)."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import numpy as np
import op_records  # noqa: F401 - the table first: it imports op_records_random
import pytest
import scipy.special as sp
import scipy.stats as st
from op_records_random import gamma_grad_quad, philox_words

import fxad
import fxad.numpy as fnp
import fxad.random as fr
from fxad import core
from fxad.random import _prng
from fxad.test_util import check_grads

N = 100_000
KEY = fr.key(20261202)

# name -> f(key): every public sampler, with parameters
SAMPLERS = {
    "uniform": lambda k: fr.uniform(k, (50,), minval=-1.0, maxval=2.0),
    "normal": lambda k: fr.normal(k, (5, 10)),
    "normal_f32": lambda k: fr.normal(k, (50,), np.float32),
    "exponential": lambda k: fr.exponential(k, (50,)),
    "laplace": lambda k: fr.laplace(k, (50,)),
    "logistic": lambda k: fr.logistic(k, (50,)),
    "cauchy": lambda k: fr.cauchy(k, (50,)),
    "gumbel": lambda k: fr.gumbel(k, (50,)),
    "bernoulli": lambda k: fr.bernoulli(k, 0.3, (50,)),
    "randint": lambda k: fr.randint(k, (50,), -3, 9),
    "gamma": lambda k: fr.gamma(k, np.array([0.3, 2.5]), (25, 2)),
    "gamma_f32": lambda k: fr.gamma(k, 1.5, (20,), np.float32),
    "beta": lambda k: fr.beta(k, 0.5, 2.0, (50,)),
    "dirichlet": lambda k: fr.dirichlet(k, np.array([0.5, 1.0, 3.0]), (10,)),
    "multivariate_normal": lambda k: fr.multivariate_normal(k, np.ones(3), np.eye(3) + 0.5,
                                                            (10,)),
    "truncated_normal": lambda k: fr.truncated_normal(k, -0.5, 2.0, (50,)),
    "poisson": lambda k: fr.poisson(k, 4.0, (50,)),
    "categorical": lambda k: fr.categorical(k, np.log([0.2, 0.3, 0.5]), shape=(50,)),
    "choice": lambda k: fr.choice(k, np.arange(10.0) ** 2, (5,), replace=False,
                                  p=np.arange(1.0, 11.0)),
    "choice_replace_p": lambda k: fr.choice(k, 6, (20,), p=np.arange(1.0, 7.0)),
    "permutation": lambda k: fr.permutation(k, np.arange(12).reshape(4, 3), axis=1,
                                            independent=True),
    "split": lambda k: fr.split(k, 3),
    "fold_in": lambda k: fr.fold_in(k, 12),
    "bits_u32": lambda k: fr.bits(k, (5,), np.uint32),
    "rademacher": lambda k: fr.rademacher(k, (20,)),
    "loggamma": lambda k: fr.loggamma(k, np.array([1e-3, 2.0]), (10, 2)),
    "chisquare": lambda k: fr.chisquare(k, 3.0, (20,)),
    "t": lambda k: fr.t(k, 4.0, (20,)),
    "lognormal": lambda k: fr.lognormal(k, 0.5, (20,)),
}

RANDOM_PRIMS = {_prng.random_bits_p, _prng.random_split_p, _prng.random_fold_in_p,
                _prng.random_gamma_p, _prng.random_poisson_p}


def _same(a, b):
    """Same dtype and shape; integers exactly, floats to the last bits (a
    composite such as Cholesky may round differently under jit)."""
    a, b = np.asarray(a), np.asarray(b)
    assert (a.dtype, a.shape) == (b.dtype, b.shape), ((a.dtype, a.shape), (b.dtype, b.shape))
    if a.dtype.kind in "fc":
        np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-15)
    else:
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------------
# Keys


def test_key_representation():
    assert fr.key(42).dtype == np.uint64 and fr.key(42).tolist() == [0, 42]
    assert fr.PRNGKey(42).tolist() == [0, 42]
    assert fr.key(2 ** 64 + 5).tolist() == [1, 5]
    assert fr.key(-1).tolist() == [0, 2 ** 64 - 1]
    assert fr.key(np.int32(7)).tolist() == [0, 7]
    # a traced seed makes the same key
    _same(fxad.jit(fr.key)(np.int64(-3)), fr.key(-3))
    _same(fxad.vmap(fr.key)(np.arange(3)), np.stack([fr.key(i) for i in range(3)]))


def test_a_key_is_the_philox_key_of_its_draws():
    # Documented: bits are the Philox4x64-10 stream of the key, counter domain 0.
    k = fr.key(123)
    assert fr.bits(k, (6,)).tolist() == philox_words(k, 0, 6)
    assert fr.split(k, 2).ravel().tolist() == philox_words(k, 1, 4)
    assert fr.fold_in(k, 5).tolist() == philox_words(k, 2, 2, 5)


# ---------------------------------------------------------------------------
# Same key, same draws: eager, jit, vmap


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_same_key_same_draws_in_eager_jit_and_vmap(name):
    f = SAMPLERS[name]
    eager = f(KEY)
    _same(f(KEY), eager)
    jf = fxad.jit(f)
    _same(jf(KEY), eager)
    keys = fr.split(KEY, 4)
    loop = np.stack([np.asarray(f(k)) for k in keys])
    _same(fxad.vmap(f)(keys), loop)
    _same(fxad.jit(fxad.vmap(f))(keys), loop)
    # a jitted function called with another key draws again (nothing frozen)
    other = np.asarray(jf(keys[0]))
    assert not np.array_equal(other, np.asarray(eager))


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_draws_are_primitives_of_the_key_in_the_jaxpr(name):
    closed = fxad.make_jaxpr(SAMPLERS[name])(KEY)
    (key_var,) = closed.jaxpr.invars
    uses = [e for e in closed.eqns if e.primitive in RANDOM_PRIMS]
    assert uses, [e.primitive.name for e in closed.eqns]
    assert any(key_var in e.invars for e in uses)
    # no constant of the jaxpr is the draw itself
    eager = np.asarray(SAMPLERS[name](KEY))
    assert not any(np.shape(c) == eager.shape and np.array_equal(c, eager)
                   for c in closed.consts)


def test_vmap_over_keys_is_one_equation_per_draw():
    # The primitives take a batch of keys: vmap does not unroll a loop.
    keys = fr.split(KEY, 50)
    eqns = fxad.make_jaxpr(fxad.vmap(lambda k: fr.gamma(k, 2.0, (3,))))(keys).eqns
    assert [e.primitive for e in eqns].count(_prng.random_gamma_p) == 1
    nested = fxad.vmap(fxad.vmap(lambda k: fr.normal(fr.fold_in(k, 3), (2,))))
    keys2 = fr.split(KEY, (4, 5))
    eqns = fxad.make_jaxpr(nested)(keys2).eqns
    assert [e.primitive for e in eqns].count(_prng.random_bits_p) == 1
    _same(nested(keys2), np.stack([np.stack([fr.normal(fr.fold_in(k, 3), (2,)) for k in row])
                                   for row in keys2]))


def test_vmap_over_parameters_with_one_key_is_the_loop():
    a = np.array([0.5, 1.0, 4.0])
    f = fxad.vmap(lambda a: fr.gamma(KEY, a, (3,)))
    _same(f(a), np.stack([fr.gamma(KEY, ai, (3,)) for ai in a]))
    g = fxad.vmap(lambda k, m: m + fr.normal(k, (2,)), in_axes=(0, None))
    keys = fr.split(KEY, 3)
    _same(g(keys, 5.0), np.stack([5.0 + fr.normal(k, (2,)) for k in keys]))


def test_traced_data_in_fold_in_and_seed_in_key():
    f = fxad.jit(lambda i: fr.normal(fr.fold_in(KEY, i), (3,)))
    _same(f(np.int64(4)), fr.normal(fr.fold_in(KEY, 4), (3,)))
    _same(fxad.vmap(lambda i: fr.uniform(fr.fold_in(KEY, i)))(np.arange(3)),
          np.array([fr.uniform(fr.fold_in(KEY, i)) for i in range(3)]))


# ---------------------------------------------------------------------------
# Independent streams


def _corr(x, y):
    return float(np.corrcoef(x, y)[0, 1])


def test_split_and_fold_in_give_independent_streams():
    k1, k2 = fr.split(KEY)
    streams = {
        "parent": fr.uniform(KEY, (N,)),
        "split0": fr.uniform(k1, (N,)),
        "split1": fr.uniform(k2, (N,)),
        "fold1": fr.uniform(fr.fold_in(KEY, 1), (N,)),
        "fold2": fr.uniform(fr.fold_in(KEY, 2), (N,)),
        "seed+1": fr.uniform(fr.key(20261203), (N,)),
    }
    names = sorted(streams)
    bound = 5 / np.sqrt(N)  # five standard errors of a correlation of 0
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            x, y = streams[a], streams[b]
            assert abs(_corr(x, y)) < bound, (a, b)
            # lagged and in a nonlinear function too
            assert abs(_corr(x[1:], y[:-1])) < bound, (a, b)
            assert abs(_corr(np.log(x + 1e-300), y ** 3)) < bound, (a, b)
            # both from one law: two-sample Kolmogorov-Smirnov
            assert st.ks_2samp(x, y).pvalue > 1e-4, (a, b)
    # each is uniform, and not the same numbers
    for name, x in streams.items():
        assert st.kstest(x, "uniform").pvalue > 1e-4, name
    assert len({float(x[0]) for x in streams.values()}) == len(streams)


def test_keys_of_a_split_batch_are_independent():
    keys = fr.split(KEY, 1000)
    assert len({tuple(k) for k in keys.tolist()}) == 1000
    first = fxad.vmap(lambda k: fr.normal(k))(keys)  # one draw per key
    assert st.kstest(first, "norm").pvalue > 1e-4
    assert abs(_corr(first[1:], first[:-1])) < 5 / np.sqrt(1000)


def test_each_sampler_uses_the_key_afresh():
    # Draws of one key with different shapes share their first numbers (a
    # stream); the key's draws and its split children's differ.
    _same(fr.uniform(KEY, (10,))[:5], fr.uniform(KEY, (5,)))
    assert not np.array_equal(fr.split(KEY, 2)[0], KEY)


# ---------------------------------------------------------------------------
# Moments and laws, 10^5 draws


def _check_moments(x, mean, var, what):
    x = np.asarray(x, np.float64)
    n = x.shape[0]
    m, v = x.mean(0), x.var(0)
    se_m = np.sqrt(v / n)
    se_v = np.sqrt(np.maximum(((x - m) ** 4).mean(0) - v ** 2, 0) / n)
    assert np.all(np.abs(m - mean) < 5 * se_m + 1e-12), (what, "mean", m, mean)
    assert np.all(np.abs(v - var) < 5 * se_v + 1e-12), (what, "var", v, var)


CONTINUOUS = {
    # name: (sampler, scipy distribution)
    "uniform": (lambda k: fr.uniform(k, (N,), minval=2.0, maxval=5.0), st.uniform(2, 3)),
    "normal": (lambda k: fr.normal(k, (N,)), st.norm()),
    "exponential": (lambda k: fr.exponential(k, (N,)), st.expon()),
    "laplace": (lambda k: fr.laplace(k, (N,)), st.laplace()),
    "logistic": (lambda k: fr.logistic(k, (N,)), st.logistic()),
    "gumbel": (lambda k: fr.gumbel(k, (N,)), st.gumbel_r()),
    "gamma_2.5": (lambda k: fr.gamma(k, 2.5, (N,)), st.gamma(2.5)),
    "gamma_0.3": (lambda k: fr.gamma(k, 0.3, (N,)), st.gamma(0.3)),
    "gamma_50": (lambda k: fr.gamma(k, 50.0, (N,)), st.gamma(50.0)),
    "beta": (lambda k: fr.beta(k, 2.0, 5.0, (N,)), st.beta(2.0, 5.0)),
    "beta_small": (lambda k: fr.beta(k, 0.2, 0.3, (N,)), st.beta(0.2, 0.3)),
    "truncated_normal": (lambda k: fr.truncated_normal(k, -1.0, 2.0, (N,)),
                         st.truncnorm(-1.0, 2.0)),
    "truncated_normal_tail": (lambda k: fr.truncated_normal(k, 6.0, 7.0, (N,)),
                              st.truncnorm(6.0, 7.0)),
    "truncated_normal_lower_tail": (lambda k: fr.truncated_normal(k, -np.inf, -5.0, (N,)),
                                    st.truncnorm(-np.inf, -5.0)),
    "normal_f32": (lambda k: fr.normal(k, (N,), np.float32), st.norm()),
    "loggamma": (lambda k: fr.loggamma(k, 0.5, (N,)), st.loggamma(0.5)),
    "chisquare": (lambda k: fr.chisquare(k, 3.0, (N,)), st.chi2(3.0)),
    "t": (lambda k: fr.t(k, 9.0, (N,)), st.t(9.0)),
    "lognormal": (lambda k: fr.lognormal(k, 0.5, (N,)), st.lognorm(0.5)),
}


@pytest.mark.parametrize("name", sorted(CONTINUOUS))
def test_moments_and_law_of_continuous_samplers(name):
    f, dist = CONTINUOUS[name]
    x = np.asarray(f(KEY))
    assert x.shape == (N,) and np.isfinite(x).all()
    _check_moments(x, dist.mean(), dist.var(), name)
    assert st.kstest(x, dist.cdf).pvalue > 1e-4, name
    lo, hi = dist.support()
    assert (x >= lo).all() and (x <= hi).all()


def test_cauchy_law_by_quantiles():
    x = np.asarray(fr.cauchy(KEY, (N,)))
    assert st.kstest(x, "cauchy").pvalue > 1e-4
    q = np.quantile(x, [0.25, 0.5, 0.75])
    np.testing.assert_allclose(q, [-1.0, 0.0, 1.0], atol=0.03)


def test_moments_of_discrete_samplers():
    r = np.asarray(fr.rademacher(KEY, (N,)))
    assert r.dtype == np.int64 and set(np.unique(r)) == {-1, 1}
    _check_moments(r, 0.0, 1.0, "rademacher")
    _check_moments(fr.bernoulli(KEY, 0.3, (N,)), 0.3, 0.21, "bernoulli")
    r = np.asarray(fr.randint(KEY, (N,), 3, 9))
    assert r.dtype == np.int64 and set(np.unique(r)) == set(range(3, 9))
    _check_moments(r, 5.5, (6 ** 2 - 1) / 12, "randint")
    assert st.chisquare(np.bincount(r - 3)).pvalue > 1e-4
    _check_moments(fr.poisson(KEY, 3.5, (N,)), 3.5, 3.5, "poisson")
    _check_moments(fr.poisson(KEY, 250.0, (N,)), 250.0, 250.0, "poisson_large")
    p = np.array([0.1, 0.2, 0.3, 0.4])
    c = np.asarray(fr.categorical(KEY, np.log(p) + 3.0, shape=(N,)))
    assert st.chisquare(np.bincount(c, minlength=4), N * p).pvalue > 1e-4
    c = np.asarray(fr.choice(KEY, 4, (N,), p=2 * p))  # p is normalised
    assert st.chisquare(np.bincount(c, minlength=4), N * p).pvalue > 1e-4
    c = np.asarray(fr.choice(KEY, np.array([10.0, 20.0, 30.0]), (N,)))
    assert st.chisquare(np.unique(c, return_counts=True)[1]).pvalue > 1e-4


def test_categorical_batch_and_axis():
    logits = np.log(np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]]))
    c = np.asarray(fr.categorical(KEY, logits.T, axis=0, shape=(N // 10, 2)))
    for row, p in enumerate(np.exp(logits)):
        counts = np.bincount(c[:, row], minlength=3)
        assert st.chisquare(counts, len(c) * p).pvalue > 1e-4


def test_dirichlet_and_multivariate_normal_moments():
    alpha = np.array([0.5, 2.0, 3.5])
    x = np.asarray(fr.dirichlet(KEY, alpha, (N,)))
    s = alpha.sum()
    _check_moments(x, alpha / s, alpha * (s - alpha) / (s ** 2 * (s + 1)), "dirichlet")
    np.testing.assert_allclose(x.sum(-1), 1.0, rtol=1e-14)
    mean = np.array([1.0, -2.0, 0.5])
    a = np.array([[1.0, 0.3, 0.0], [0.2, 1.0, 0.5], [0.0, -0.4, 0.7]])
    cov = a @ a.T
    for method in ("cholesky", "eigh", "svd"):
        z = np.asarray(fr.multivariate_normal(KEY, mean, cov, (N,), method=method))
        _check_moments(z, mean, np.diag(cov), method)
        np.testing.assert_allclose(np.cov(z.T), cov, atol=0.02)
    # a batch of means broadcasts against one cov
    z = np.asarray(fr.multivariate_normal(KEY, np.zeros((4, 3)), cov))
    assert z.shape == (4, 3)


def test_permutation_and_choice_without_replacement_are_uniform():
    keys = fr.split(KEY, 3000)
    perms = np.asarray(fxad.vmap(lambda k: fr.permutation(k, 5))(keys))
    assert (np.sort(perms, 1) == np.arange(5)).all()
    for pos in range(5):
        assert st.chisquare(np.bincount(perms[:, pos], minlength=5)).pvalue > 1e-4
    x = np.arange(12.0).reshape(3, 4)
    p = np.asarray(fr.permutation(KEY, x, axis=1))
    assert sorted(p[0].tolist()) == x[0].tolist() and (p == x[:, p[0].astype(int)]).all()
    p = np.asarray(fr.permutation(KEY, x, axis=1, independent=True))
    assert (np.sort(p, 1) == x).all()
    c = np.asarray(fxad.vmap(lambda k: fr.choice(k, 6, (3,), replace=False,
                                                 p=np.array([1., 1, 1, 1, 2, 4])))(keys))
    assert all(len(set(r)) == 3 for r in c.tolist())
    # Gumbel top-k: the first draw has the probabilities p
    assert st.chisquare(np.bincount(c[:, 0], minlength=6),
                        3000 * np.array([1, 1, 1, 1, 2, 4]) / 10).pvalue > 1e-4


# ---------------------------------------------------------------------------
# Reparameterised gradients


def _fd(f, x, h=1e-5):
    """Central difference of ``f`` at ``x`` (a float or an array, one
    coordinate at a time)."""
    x = np.asarray(x, np.float64)
    out = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        e = np.zeros(x.shape)
        e[i] = h
        out[i] = (f(x + e) - f(x - e)) / (2 * h)
    return out


def test_normal_gradient_through_loc_and_scale():
    def mc(theta):  # E[(loc + scale z)^2] = loc^2 + scale^2
        loc, scale = theta[0], theta[1]
        return fnp.mean((loc + scale * fr.normal(KEY, (N,))) ** 2)

    theta = np.array([0.7, 1.3])
    g = fxad.grad(mc)(theta)
    np.testing.assert_allclose(g, _fd(lambda t: float(mc(t)), theta), rtol=1e-7)
    np.testing.assert_allclose(g, 2 * theta, rtol=0.02)


@pytest.mark.parametrize("a", [0.2, 1.0, 3.7, 40.0])
def test_gamma_implicit_gradient_against_common_random_numbers(a):
    def mc_log(a):  # E[log x] = digamma(a)
        return fnp.mean(fnp.log(fr.gamma(KEY, a, (N // 4,))))

    g = fxad.grad(mc_log)(a)
    np.testing.assert_allclose(g, _fd(lambda t: float(mc_log(t)), a, 1e-5 * a), rtol=1e-6)
    np.testing.assert_allclose(g, sp.polygamma(1, a), rtol=0.05)

    def mc(a):
        return fnp.mean(fr.gamma(KEY, a, (N // 4,)))

    np.testing.assert_allclose(fxad.grad(mc)(a), 1.0, rtol=0.05)  # E[x] = a
    np.testing.assert_allclose(fxad.grad(mc)(a), _fd(lambda t: float(mc(t)), a, 1e-5 * a),
                               rtol=1e-6)


def test_gamma_pathwise_derivatives_to_second_order():
    check_grads(lambda a: fr.gamma(KEY, a, (4,)), (np.array([0.4, 1.0, 2.5, 30.0]),), order=2)
    check_grads(lambda a: fr.gamma(KEY, a, (3,), np.float32),
                (np.array([0.7, 2.0, 9.0], np.float32),), order=1)
    # the draw holds its quantile: d/da P(a, x(a)) = 0
    a = np.array([0.3, 1.5, 12.0])
    x = fr.gamma(KEY, a)
    dx = fxad.jacfwd(lambda a: fr.gamma(KEY, a))(a).diagonal()
    dp_da = (sp.gammainc(a + 1e-6, x) - sp.gammainc(a - 1e-6, x)) / 2e-6
    dp_dx = np.exp((a - 1) * np.log(x) - x - sp.gammaln(a))
    np.testing.assert_allclose(dp_da + dp_dx * dx, 0.0, atol=1e-8)


def test_beta_and_dirichlet_gradients():
    def mc_beta(t):
        return fnp.mean(fr.beta(KEY, t[0], t[1], (N // 4,)))

    t = np.array([2.0, 3.0])
    g = fxad.grad(mc_beta)(t)
    np.testing.assert_allclose(g, _fd(lambda s: float(mc_beta(s)), t), rtol=1e-6)
    # E = a / (a + b)
    np.testing.assert_allclose(g, [t[1] / t.sum() ** 2, -t[0] / t.sum() ** 2], rtol=0.05)

    alpha = np.array([0.5, 1.5, 3.0])

    def mc_dir(alpha):
        return fnp.mean(fr.dirichlet(KEY, alpha, (N // 4,)), axis=0)

    jac = fxad.jacrev(mc_dir)(alpha)
    np.testing.assert_allclose(jac, fxad.jacfwd(mc_dir)(alpha), rtol=1e-12)
    fd = np.stack([_fd(lambda a, i=i: float(mc_dir(a)[i]), alpha) for i in range(3)])
    np.testing.assert_allclose(jac, fd, rtol=1e-5, atol=1e-8)
    s = alpha.sum()
    np.testing.assert_allclose(jac, (np.eye(3) * s - alpha[:, None]) / s ** 2, atol=0.01)
    check_grads(lambda a, b: fr.beta(KEY, a, b, (3,)), (0.3, 2.0), order=1)
    check_grads(lambda a: fr.dirichlet(KEY, a, (2,)), (alpha,), order=1)


def test_multivariate_normal_and_truncated_normal_gradients():
    mean = np.array([0.5, -1.0])
    a = np.array([[1.0, 0.0], [0.4, 0.8]])

    def mc(mean, a):  # E|x|^2 = |mean|^2 + trace(a a^T)
        cov = a @ a.T
        return fnp.mean(fnp.sum(fr.multivariate_normal(KEY, mean, cov, (N // 4,)) ** 2, -1))

    gm, ga = fxad.grad(mc, argnums=(0, 1))(mean, a)
    np.testing.assert_allclose(ga, _fd(lambda s: float(mc(mean, s)), a), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(gm, 2 * mean, rtol=0.05)
    np.testing.assert_allclose(ga, 2 * a, atol=0.05)
    check_grads(lambda m, a: fr.multivariate_normal(KEY, m, a @ a.T, (3,), method="eigh"),
                (mean, a), order=1)

    def mc_t(b):
        return fnp.mean(fr.truncated_normal(KEY, b[0], b[1], (N // 4,)))

    b = np.array([-0.5, 1.5])
    g = fxad.grad(mc_t)(b)
    np.testing.assert_allclose(g, _fd(lambda s: float(mc_t(s)), b), rtol=1e-6)
    exact = _fd(lambda s: st.truncnorm(s[0], s[1]).mean(), b)
    np.testing.assert_allclose(g, exact, atol=0.01)
    check_grads(lambda lo, hi: fr.truncated_normal(KEY, lo, hi, (3,)), (-0.3, 0.9), order=2)


def test_loggamma_chisquare_t_and_lognormal_gradients():
    # loggamma stays finite where gamma underflows, and E log x = digamma(a)
    small = np.asarray(fr.loggamma(KEY, 1e-3, (N,)))
    assert np.isfinite(small).all() and (np.asarray(fr.gamma(KEY, 1e-3, (N,))) == 0).any()

    def mc(a):
        return fnp.mean(fr.loggamma(KEY, a, (N // 4,)))

    np.testing.assert_allclose(fxad.grad(mc)(0.5), _fd(lambda s: float(mc(s)), 0.5), rtol=1e-6)
    np.testing.assert_allclose(fxad.grad(mc)(0.5), sp.polygamma(1, 0.5), rtol=0.05)
    # E chi2(df) = df
    np.testing.assert_allclose(fxad.grad(lambda d: fnp.mean(fr.chisquare(KEY, d, (N // 4,))))(3.0),
                               1.0, rtol=0.05)
    check_grads(lambda d: fr.t(KEY, d, (3,)), (np.array(4.0),), order=1)
    check_grads(lambda s: fr.lognormal(KEY, s, (3,)), (np.array(0.7),), order=2)


def test_uniform_and_location_scale_samplers_differentiate_in_their_parameters():
    check_grads(lambda lo, hi: fr.uniform(KEY, (4,), minval=lo, maxval=hi), (-1.0, 2.0),
                order=2)
    for f in (fr.normal, fr.exponential, fr.laplace, fr.logistic, fr.cauchy, fr.gumbel):
        check_grads(lambda loc, scale, f=f: loc + scale * f(KEY, (3,)), (0.3, 1.7), order=2)


def test_gradients_through_vmap_of_keys_and_jit():
    keys = fr.split(KEY, 5)

    def f(a, k):
        return fnp.sum(fr.gamma(k, a, (3,)))

    g = fxad.jit(fxad.vmap(fxad.grad(f), in_axes=(None, 0)))(2.0, keys)
    _same(g, np.array([fxad.grad(f)(2.0, k) for k in keys]))
    # keys are integers: not differentiable, and said so
    with pytest.raises(TypeError, match="uint64"):
        fxad.grad(lambda k: fr.normal(k))(KEY)


# ---------------------------------------------------------------------------
# random_gamma_grad accuracy (the series and the upper-tail complement)


def test_gamma_grad_against_quadrature_and_quantile_differences():
    a = np.repeat([0.05, 0.3, 1.0, 2.5, 10.0], 5)
    q = np.tile([1e-6, 0.01, 0.3, 0.6, 0.89], 5)
    x = sp.gammaincinv(a, q)
    np.testing.assert_allclose(_prng.random_gamma_grad(a, x), gamma_grad_quad(a, x),
                               rtol=1e-12)
    # Large a (where the quadrature's peaked integrand loses digits) and the
    # upper tail (P > 0.9: the complement's branch) against the derivative
    # of the quantile function at a fixed level.
    a = np.repeat([0.05, 1.0, 10.0, 200.0, 1000.0], 6)
    q = np.tile([0.3, 0.6, 0.91, 0.99, 1 - 1e-6, 1 - 1e-9], 5)
    x = sp.gammaincinv(a, q)
    h = 1e-5 * a
    dq = (-sp.gammaincinv(a + 2 * h, q) + 8 * sp.gammaincinv(a + h, q)
          - 8 * sp.gammaincinv(a - h, q) + sp.gammaincinv(a - 2 * h, q)) / (12 * h)
    np.testing.assert_allclose(_prng.random_gamma_grad(a, x), dq, rtol=1e-8)


def test_gamma_edges():
    x = np.asarray(fr.gamma(KEY, np.array([0.0, -1.0, np.nan, 1e-3, 1e4])))
    assert x[0] == 0 and np.isnan(x[1]) and np.isnan(x[2]) and x[3] >= 0
    assert abs(x[4] - 1e4) < 6 * 100
    g = np.asarray(_prng.random_gamma_grad(np.array([1.0, 2.0, -1.0]),
                                           np.array([0.0, np.inf, 1.0])))
    assert g[0] == 0 and np.isnan(g[1]) and np.isnan(g[2])
    assert (np.asarray(fr.poisson(KEY, np.array([-1.0, np.nan, 0.0]))) == [-1, -1, 0]).all()


# ---------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize("bad,match", [
    (0, r"got the int 0 \(make one with fxad.random.key\(0\)\)"),
    (np.array([0.0, 1.0]), r"uint64 array of shape \(2,\).*got float64\[2\]"),
    (np.array([0, 1], np.uint32), r"got uint32\[2\]"),
    (np.array([0, 1, 2], np.uint64), r"shape \(2,\), got uint64\[3\]"),
    (np.zeros((4, 2), np.uint64), r"batch of keys uint64\[4,2\].*fxad.vmap"),
    ("key", r"must be a key made by fxad.random.key"),
])
def test_bad_keys_say_what_a_key_is(bad, match):
    for f in (lambda k: fr.normal(k), lambda k: fr.split(k), lambda k: fr.gamma(k, 1.0),
              lambda k: fr.fold_in(k, 1), lambda k: fr.choice(k, 3)):
        with pytest.raises(TypeError, match=match):
            f(bad)


def test_bad_arguments():
    with pytest.raises(TypeError, match=r"fxad.random.normal: dtype must be float32 or "
                                        r"float64, got int64"):
        fr.normal(KEY, (2,), np.int64)
    with pytest.raises(TypeError, match="shape must be an int or a tuple of ints"):
        fr.uniform(KEY, (2.5,))
    with pytest.raises(ValueError, match="negative dimension"):
        fr.normal(KEY, (-1,))
    with pytest.raises(ValueError, match=r"gamma: shape \(3,\) does not hold the shape of the "
                                         r"parameters \(a \(2,\)\)"):
        fr.gamma(KEY, np.ones(2), (3,))
    with pytest.raises(ValueError, match=r"beta: the shapes of the parameters do not "
                                         r"broadcast: a \(2,\), b \(3,\)"):
        fr.beta(KEY, np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match="cannot take 5 draws from 3 entries without "
                                         "replacement"):
        fr.choice(KEY, 3, (5,), replace=False)
    with pytest.raises(ValueError, match=r"p must have shape \(3,\)"):
        fr.choice(KEY, 3, (2,), p=np.ones(4))
    with pytest.raises(ValueError, match=r"mean must have shape \(..., n\) and cov"):
        fr.multivariate_normal(KEY, np.zeros(2), np.eye(3))
    with pytest.raises(ValueError, match="method must be 'cholesky', 'eigh' or 'svd'"):
        fr.multivariate_normal(KEY, np.zeros(2), np.eye(2), method="lu")
    with pytest.raises(TypeError, match="randint: minval must be integers"):
        fr.randint(KEY, (2,), 0.5, 3)
    with pytest.raises(TypeError, match="fold_in: data must be an integer scalar"):
        fr.fold_in(KEY, 1.5)
    with pytest.raises(TypeError, match="key: the seed must be an int"):
        fr.key(1.0)
    with pytest.raises(ValueError, match="out of range"):
        fr.key(2 ** 128)
    with pytest.raises(ValueError, match=r"categorical: shape \(3,\) does not hold the batch "
                                         r"shape \(2,\)"):
        fr.categorical(KEY, np.zeros((2, 4)), shape=(3,))


def test_state_is_clean_after_an_error_inside_a_transformation():
    def f(k):
        return fr.normal(k.astype(np.float64))

    with pytest.raises(TypeError, match="got float64"):
        fxad.jit(f)(KEY)
    with pytest.raises(TypeError, match="got float64"):
        fxad.vmap(f)(fr.split(KEY, 2))
    assert core.trace_state.stack == []
    _same(fxad.jit(fr.normal)(KEY), fr.normal(KEY))


def test_numpy_random_is_still_numpys_and_frozen_under_jit():
    # What fxad.random exists for: a NumPy draw inside jit is a constant.
    f = fxad.jit(lambda x: x + fnp.random.default_rng(0).normal())
    assert f(0.0) == f(0.0) and fnp.random is np.random
    g = fxad.jit(lambda k: fr.normal(k))
    k1, k2 = fr.split(KEY)
    assert g(k1) != g(k2) and g(k1) == fr.normal(k1)


# ---------------------------------------------------------------------------
# docs/random.md: every code block runs, in order, in one namespace, and a
# ``text`` block right under a code block is exactly what it prints

_DOC = Path(__file__).resolve().parent.parent / "docs" / "random.md"
_BLOCK = re.compile(r"```python\n(.*?)```(?:\s*```text\n(.*?)```)?", re.S)


def test_docs_random_examples_run_and_print_what_the_page_shows():
    text = _DOC.read_text()
    blocks = _BLOCK.findall(text)
    assert len(blocks) >= 9
    assert sum(1 for _, shown in blocks if shown) == text.count("```text\n")
    ns: dict = {"__name__": "docs_random"}
    for i, (code, shown) in enumerate(blocks):
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                exec(compile(code, f"{_DOC.name}[block {i}]", "exec"), ns)
        except Exception as e:  # noqa: BLE001 - re-raised with the block number
            raise AssertionError(f"{_DOC.name} code block {i} failed: {e!r}\n{code}") from e
        if shown:
            assert out.getvalue() == shown, (i, code, out.getvalue())
        assert core.trace_state.stack == [], i


def test_docs_random_is_linked_from_the_index():
    assert "(random.md)" in (_DOC.parent / "index.md").read_text()
