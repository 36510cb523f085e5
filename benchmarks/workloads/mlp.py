"""mlp: a 784-512-256-10 tanh MLP on a batch of 128, softmax cross-entropy,
gradient with respect to all six parameter arrays.

Matrix products dominate: this measures what a library adds on top of BLAS.
The logits stay small (tanh hidden layers, 1/sqrt(fan-in) weights), so the
log-sum-exp is written without the max shift, the same in every library.
"""

from __future__ import annotations

import numpy as np

from benchmarks.libraries import to_jax, to_torch
from benchmarks.workloads import Workload


def loss(np_, params, X, Y):
    W1, b1, W2, b2, W3, b3 = params
    h1 = np_.tanh(X @ W1 + b1)
    h2 = np_.tanh(h1 @ W2 + b2)
    z = h2 @ W3 + b3
    return np_.mean(np_.log(np_.sum(np_.exp(z), axis=1)) - np_.sum(Y * z, axis=1))


def inputs(small=False):
    sizes, batch = ((784, 512, 256, 10), 128) if not small else ((12, 8, 6, 4), 5)
    rng = np.random.default_rng(0)
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        params.append(rng.normal(size=(n_in, n_out)) / np.sqrt(n_in))
        params.append(rng.normal(size=n_out) * 0.1)
    X = rng.normal(size=(batch, sizes[0]))
    Y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], batch)]  # one-hot labels
    return (tuple(params), X, Y)


def by_hand(params, X, Y):
    """Backpropagation written out: forward pass, then the chain rule layer by layer."""
    W1, b1, W2, b2, W3, b3 = params
    h1 = np.tanh(X @ W1 + b1)
    h2 = np.tanh(h1 @ W2 + b2)
    z = h2 @ W3 + b3
    e = np.exp(z)
    p = e / np.sum(e, axis=1, keepdims=True)
    dz = (p - Y) / X.shape[0]
    da2 = (dz @ W3.T) * (1.0 - h2 * h2)
    da1 = (da2 @ W2.T) * (1.0 - h1 * h1)
    return (X.T @ da1, da1.sum(axis=0), h1.T @ da2, da2.sum(axis=0), h2.T @ dz, dz.sum(axis=0))


def fxad_builder(params, X, Y):
    import fxad
    import fxad.numpy as fnp

    return fxad.grad(lambda p, X, Y: loss(fnp, p, X, Y)), (params, X, Y)


def autograd_builder(params, X, Y):
    import autograd
    import autograd.numpy as anp

    return autograd.grad(lambda p, X, Y: loss(anp, p, X, Y)), (params, X, Y)


def jax_builder(params, X, Y):
    import jax
    import jax.numpy as jnp

    return jax.grad(lambda p, X, Y: loss(jnp, p, X, Y)), to_jax((params, X, Y))


def torch_builder(params, X, Y):
    import torch

    def g(params, X, Y):
        return torch.autograd.grad(loss(torch, params, X, Y), params)

    return g, (to_torch(params, requires_grad=True), to_torch(X), to_torch(Y))


WORKLOADS = [
    Workload(
        name="mlp",
        description="784-512-256-10 tanh MLP, batch 128, softmax cross-entropy, grad of 6 arrays",
        inputs=inputs,
        numpy=by_hand,
        builders={"fxad": fxad_builder, "autograd": autograd_builder,
                  "jax": jax_builder, "torch": torch_builder},
        rtol=1e-7,  # matrix products summed in another order
        atol_scale=1e-9,
    )
]
