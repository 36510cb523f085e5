"""Control flow nested across primitives: ``scan`` inside ``cond`` inside
``scan``, ``cond`` and ``checkpoint`` and ``custom_jvp`` inside loops,
traced indexing inside ``fori_loop``, each against the same program written
with Python ``if``/``for`` (eagerly, where Python can branch on values),
under grad, jacfwd, jacrev, hessian, vmap and jit."""

from __future__ import annotations

import numpy as np
import pytest
from numpy_checks import tree_close

import fxad
import fxad.numpy as fnp
from fxad import lax


def close(a, b, rtol=1e-11, atol=1e-12):
    tree_close(a, b, rtol, atol)


# -- scan inside cond inside scan, and its unrolled twin ------------------------


def _inner(c, w):
    return lax.scan(lambda d, x: (fnp.sin(d) * x + w, d * x), c, fnp.array([0.9, 1.1, 0.7]))


def structured(x, w):
    def outer(c, k):
        c2, ys = lax.cond(k > 0.5, lambda c: _inner(c, w), lambda c: (fnp.cos(c) * w,
                                                                      fnp.zeros(3) + c), c)
        return c2, fnp.sum(ys)
    c, ys = lax.scan(outer, x, fnp.array([0.2, 0.8, 0.6, 0.1]))
    return c + fnp.sum(ys)


def unrolled(x, w):
    total = 0.0
    c = x
    for k in (0.2, 0.8, 0.6, 0.1):
        if k > 0.5:
            ys = []
            for xi in (0.9, 1.1, 0.7):
                ys.append(c * xi)
                c = fnp.sin(c) * xi + w
            total = total + sum(ys)
        else:
            ys_sum = (fnp.zeros(3) + c).sum()
            c = fnp.cos(c) * w
            total = total + ys_sum
    return c + total


TRANSFORMS = {
    "value": lambda f: f,
    "grad": lambda f: fxad.grad(f, argnums=(0, 1)),
    "jacfwd": lambda f: fxad.jacfwd(f, argnums=(0, 1)),
    "jacrev": lambda f: fxad.jacrev(f, argnums=(0, 1)),
    "hessian": lambda f: fxad.hessian(f, argnums=(0, 1)),
    "vmap_grad": lambda f: fxad.vmap(fxad.grad(f), in_axes=(0, None)),
}


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_scan_in_cond_in_scan_equals_python_loops(name):
    t = TRANSFORMS[name]
    args = (np.array([0.3, 0.7, 1.2]), 0.4) if name == "vmap_grad" else (0.3, 0.4)
    want = t(unrolled)(*args)
    close(t(structured)(*args), want)
    close(fxad.jit(t(structured))(*args), want)
    close(t(fxad.jit(structured))(*args), want)


# -- other primitives inside loops ------------------------------------------------


@fxad.custom_jvp
def soft_clip(x):
    return fnp.tanh(x)


@soft_clip.defjvp
def _soft_clip_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    y = fnp.tanh(x)
    return y, t * 0.5  # deliberately not tanh's derivative: the rule must be used


def test_custom_jvp_rule_is_used_inside_a_scan():
    def f(x):
        c, _ = lax.scan(lambda c, _: (soft_clip(c) * 2.0, None), x, None, length=3)
        return c

    # d/dx of 2*clip(2*clip(2*clip(x))) with the rule's slope 0.5: (2 * 0.5) ** 3.
    assert float(fxad.grad(f)(0.2)) == 1.0
    assert float(fxad.jit(fxad.grad(f))(0.2)) == 1.0
    close(fxad.vmap(fxad.grad(f))(np.array([0.1, 0.5])), np.ones(2))


def test_checkpointed_body_with_a_cond_inside_a_scan():
    def body(c, x):
        return lax.cond(x > 0, lambda c: fnp.sin(c) * x, lambda c: c * c, c), None

    def f(c, xs, ckpt):
        step = fxad.checkpoint(body) if ckpt else body
        return lax.scan(step, c, xs)[0]

    xs = np.array([0.5, -0.3, 1.2, -0.8])
    for t in (fxad.grad, fxad.hessian):
        close(t(lambda c: f(c, xs, True))(0.4), t(lambda c: f(c, xs, False))(0.4))


def test_traced_indexing_inside_fori_loop_under_grad_and_jit():
    x = np.linspace(0.5, 2.0, 6)

    def f(x):
        # (Indexing a plain NumPy array with a traced i cannot be intercepted,
        # as in JAX: the eager call goes through lax.dynamic_index_in_dim.)
        def body(i, acc):
            xi = lax.dynamic_index_in_dim(x, i, keepdims=False)
            return acc + xi * x[i + 1] if isinstance(x, fxad.core.Tracer) else \
                acc + xi * lax.dynamic_index_in_dim(x, i + 1, keepdims=False)
        return lax.fori_loop(0, 5, body, 0.0)

    def ref(x):
        return sum(x[i] * x[i + 1] for i in range(5))

    close(f(x), ref(x))
    close(fxad.grad(f)(x), fxad.grad(ref)(x))
    close(fxad.jit(fxad.grad(f))(x), fxad.grad(ref)(x))
    close(fxad.vmap(fxad.grad(f))(np.stack([x, 2 * x])),
          np.stack([fxad.grad(ref)(x), fxad.grad(ref)(2 * x)]))


def test_while_loop_inside_cond_forward_mode():
    def f(a):
        return lax.cond(a > 1.0,
                        lambda a: lax.while_loop(lambda c: c * c > a + 1e-12,
                                                 lambda c: 0.5 * (c + a / c), a),
                        lambda a: a * a, a)

    y, y_dot = fxad.jvp(f, (4.0,), (1.0,))
    assert float(y) == pytest.approx(2.0, rel=1e-12)
    assert float(y_dot) == pytest.approx(0.25, rel=1e-9)
    assert float(fxad.jacfwd(f)(0.5)) == pytest.approx(1.0)
