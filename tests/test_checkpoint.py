"""``fxad.checkpoint`` / ``remat``: same values and derivatives as the function
it wraps under every transformation, and a linear program that stores the
function's inputs instead of its intermediate values (measured in bytes of
the residual arrays the linearized jaxpr holds, not in wall time)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy_checks import tree_close

import fxad
import fxad.numpy as fnp
from fxad import core
from fxad._remat import remat_p
from fxad.core import ClosedJaxpr, Jaxpr
from fxad.interpreters import ad


def close(a, b, rtol=1e-13, atol=1e-14):
    tree_close(a, b, rtol, atol)


def deep(x, steps=20):
    for _ in range(steps):
        x = fnp.sin(x) * 1.1 + fnp.tanh(x) * x
    return x


def loss(x, w):
    return fnp.sum(deep(x) * w)


X = np.linspace(-1.0, 1.0, 7)
W = np.linspace(0.5, 2.0, 7)


def residual_bytes(closed):
    """Bytes of the arrays a staged program holds: its consts and those of the
    bodies it calls (recursively)."""
    total = 0
    for c in closed.consts:
        total += np.asarray(c).nbytes
    jaxpr = closed.jaxpr if isinstance(closed, ClosedJaxpr) else closed
    for eqn in jaxpr.eqns:
        for v in eqn.params.values():
            if isinstance(v, ClosedJaxpr):
                total += residual_bytes(v)
            elif isinstance(v, Jaxpr):
                total += residual_bytes(ClosedJaxpr(v, []))
    return total


TRANSFORMS = {
    "grad": lambda f: fxad.grad(f, argnums=(0, 1)),
    "jvp": lambda f: (lambda x, w: fxad.jvp(f, (x, w), (np.ones(7), W))),
    "jacrev": lambda f: fxad.jacrev(f),
    "jacfwd": lambda f: fxad.jacfwd(f),
    "hessian": lambda f: fxad.hessian(f),
    "vmap_grad": lambda f: fxad.vmap(fxad.grad(f), in_axes=(0, None)),
    "jit_grad": lambda f: fxad.jit(fxad.grad(f)),
    "grad_jit": lambda f: fxad.grad(fxad.jit(f)),
    "grad_grad": lambda f: fxad.grad(lambda x, w: fxad.grad(f)(x, w).sum()),
}


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
@pytest.mark.parametrize("prevent_cse", [True, False])
def test_checkpoint_equals_the_function_under_transforms(name, prevent_cse):
    t = TRANSFORMS[name]
    args = (np.stack([X, X * 0.5]), W) if name == "vmap_grad" else (X, W)
    want = t(loss)(*args)
    close(t(fxad.checkpoint(loss, prevent_cse=prevent_cse))(*args), want)
    # A checkpointed piece inside a larger function.
    inner = fxad.checkpoint(deep, prevent_cse=prevent_cse)
    close(t(lambda x, w: fnp.sum(inner(x) * w))(*args), want)


def test_outside_transformations_checkpoint_is_the_function():
    f = fxad.checkpoint(loss)
    assert f(X, W) == loss(X, W)
    assert fxad.remat is fxad.checkpoint


def test_linearized_program_stores_inputs_not_intermediates():
    x = np.linspace(-1.0, 1.0, 1000)
    _, plain = fxad.linearize(lambda x: deep(x), x)
    _, ckpt = fxad.linearize(fxad.checkpoint(lambda x: deep(x)), x)
    plain_bytes, ckpt_bytes = residual_bytes(plain.jaxpr), residual_bytes(ckpt.jaxpr)
    # 20 steps keep a few length-1000 arrays each; the checkpoint keeps x.
    assert plain_bytes >= 20 * x.nbytes
    assert ckpt_bytes <= 2 * x.nbytes
    (eqn,) = ckpt.jaxpr.eqns
    assert eqn.primitive is remat_p
    # The staged body recomputes the primal: it holds the nonlinear equations.
    prims = {e.primitive.name for e in eqn.params["jaxpr"].eqns}
    assert {"sin", "tanh", "cos"} <= prims
    t = np.cos(x)
    close(ckpt(t), plain(t))


def test_checkpointed_pieces_of_a_chain_store_only_their_boundaries():
    x = np.linspace(-1.0, 1.0, 500)
    piece = fxad.checkpoint(lambda x: deep(x, 10))

    def chain(x):
        for _ in range(4):
            x = piece(x)
        return fnp.sum(x)

    _, plain = fxad.vjp(lambda x: fnp.sum(deep(x, 40)), x)
    g = fxad.grad(chain)(x)
    close(g, fxad.grad(lambda x: fnp.sum(deep(x, 40)))(x), rtol=1e-12)
    _, lin = fxad.linearize(chain, x)
    assert residual_bytes(lin.jaxpr) <= 5 * x.nbytes
    assert [e.primitive for e in lin.jaxpr.eqns].count(remat_p) == 4


def test_make_jaxpr_prints_the_remat_call_and_jit_keeps_it():
    f = fxad.checkpoint(lambda x: fnp.sin(x) * 2.0)
    closed = fxad.make_jaxpr(lambda x: f(x) + 1.0)(0.5)
    assert [e.primitive.name for e in closed.eqns] == ["remat", "add"]
    text = str(closed)
    assert "remat[" in text and "prevent_cse=True" in text and "sin" in text
    core.check_jaxpr(closed.jaxpr)
    # jit does not inline a prevent_cse remat, and gives the same gradient.
    lowered = fxad.jit(fxad.grad(f)).lower(0.5)
    assert "remat" in [e.primitive.name for e in lowered.jaxpr.eqns]
    assert float(fxad.jit(fxad.grad(f))(0.5)) == pytest.approx(2 * np.cos(0.5), rel=1e-15)
    g = fxad.checkpoint(lambda x: fnp.sin(x) * 2.0, prevent_cse=False)
    lowered = fxad.jit(fxad.grad(g)).lower(0.5)
    assert "remat" not in [e.primitive.name for e in lowered.jaxpr.eqns]


def test_static_argnums_pytrees_kwargs_and_closures():
    f = fxad.checkpoint(lambda p, n, scale=1.0: fnp.sum(p["a"] ** n * scale + p["b"]),
                        static_argnums=1)
    p = {"a": np.array([1.0, 2.0]), "b": np.array([0.5, 0.5])}
    g = fxad.grad(f)(p, 3, scale=2.0)
    close(g["a"], 6.0 * p["a"] ** 2)
    close(g["b"], np.ones(2))

    def outer(y):
        return fxad.checkpoint(lambda x: fnp.sin(x * y))(2.0)

    assert float(fxad.grad(outer)(0.3)) == pytest.approx(2.0 * np.cos(0.6), rel=1e-15)
    assert float(fxad.grad(fxad.grad(outer))(0.3)) == pytest.approx(-4.0 * np.sin(0.6),
                                                                    rel=1e-14)


def test_traced_once_per_signature():
    calls = []

    def f(x):
        calls.append(1)
        return fnp.exp(x) * x

    c = fxad.checkpoint(f)
    g = fxad.grad(c)
    for v in (0.1, 0.2, 0.3):
        assert float(g(v)) == pytest.approx(np.exp(v) * (1 + v), rel=1e-15)
    assert len(calls) == 1


def test_errors():
    with pytest.raises(NotImplementedError, match="only policy=None"):
        fxad.checkpoint(loss, policy="dots_saveable")
    with pytest.raises(TypeError, match="expected a callable"):
        fxad.checkpoint(3)
    f = fxad.checkpoint(lambda x, n: x * n, static_argnums=1)
    with pytest.raises(TypeError, match="static arguments must be hashable"):
        fxad.grad(f)(1.0, [2])
    assert core.trace_state.stack == []
    assert float(fxad.grad(f)(1.0, 3)) == 3.0


def test_transpose_of_remat_recomputes_inside_the_backward_pass():
    f = fxad.checkpoint(lambda x: fnp.sin(x) * fnp.cos(x))
    _, lin = fxad.linearize(f, 0.4)
    (eqn,) = lin.jaxpr.eqns
    assert eqn.primitive in ad.linear_primitives
    ct = fxad.linear_transpose(lin, 0.4)(1.0)
    assert float(ct[0]) == pytest.approx(np.cos(0.8), rel=1e-14)


def test_checkpoint_around_a_whole_scan():
    from fxad import lax

    def f(x):
        return lax.scan(lambda c, _: (fnp.sin(c) * c, None), x, None, length=50)[0]

    x = np.linspace(0.2, 0.9, 300)
    c = fxad.checkpoint(f)
    close(fxad.grad(lambda x: fnp.sum(c(x)))(x), fxad.grad(lambda x: fnp.sum(f(x)))(x))
    close(fxad.hessian(lambda x: fnp.sum(c(x)))(x[:3]),
          fxad.hessian(lambda x: fnp.sum(f(x)))(x[:3]))
    _, plain = fxad.linearize(f, x)
    _, ckpt = fxad.linearize(c, x)
    assert residual_bytes(plain.jaxpr) >= 50 * x.nbytes
    assert residual_bytes(ckpt.jaxpr) <= 2 * x.nbytes
