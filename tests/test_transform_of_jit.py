"""Transformations of a jit function: ``T(jit(f))`` is ``jit(T(jit(f)))``.

``grad``, ``value_and_grad``, ``jacfwd``, ``jacrev``, ``hessian`` and
``vmap`` of a ``JitFunction`` return a ``JitFunction`` of the transformation
(``fxad.api.commute_rules``): one compiled program per signature.  Checked
here: values and dtypes equal ``T(f)`` and ``jit(T(f))``; trace counts (``f``'s
Python runs once per signature, whichever transformations ask; one generated
function for ``grad`` of ``grad`` of ... ``jit(f)``); the transformed function
made once per (transformation, parameters); static arguments; keyword
arguments, ``has_aux``, ``argnums`` tuples and pytrees; the same errors as the
general path (a transformation of a call of the jit function, which binds
``pjit``); ``make_jaxpr``; a jit function closing over an outer tracer.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest
from numpy_checks import tree_close

import fxad
import fxad.numpy as fnp
from fxad import core, tree_util
from fxad.interpreters import codegen
from fxad.jit import JitFunction

J = fxad.jit


def same(got, want, rtol=1e-13):
    """Same tree, shapes, dtypes and types (NumPy scalar or array); values
    within ``rtol``."""
    lg, tg = tree_util.tree_flatten(got)
    lw, tw = tree_util.tree_flatten(want)
    assert tg == tw
    for g, w in zip(lg, lw):
        assert type(g) is type(w), (type(g), type(w))
        assert np.shape(g) == np.shape(w) and np.asarray(g).dtype == np.asarray(w).dtype
        np.testing.assert_allclose(g, w, rtol=rtol, atol=1e-14)


def general(jf):
    """A plain function calling ``jf``: transformations of it do not commute
    with jit, they bind ``pjit`` and run its rules."""
    return lambda *args, **kwargs: jf(*args, **kwargs)


def _counting(fn):
    count = {"n": 0}

    def f(*args, **kwargs):
        count["n"] += 1
        return fn(*args, **kwargs)

    return f, count


def _loss(p, x, scale=1.0):
    return fnp.sum(fnp.tanh(x @ p["w"] + p["b"]) ** 2) * scale


P = {"w": np.linspace(-1.0, 1.0, 6).reshape(3, 2), "b": np.array([0.1, -0.2])}
X = np.arange(6.0).reshape(2, 3) / 5


def _vec(x):
    return fnp.sin(x) * fnp.sum(x ** 2)


XV = np.array([0.3, -1.2, 0.7])

CASES = {
    "grad": (lambda f: fxad.grad(f), _loss, (P, X), {}),
    "grad-argnums": (lambda f: fxad.grad(f, argnums=(0, 1)), _loss, (P, X), {}),
    "grad-kwargs": (lambda f: fxad.grad(f, argnums=(0, 1)), _loss, (P, X), {"scale": 0.5}),
    "grad-aux": (lambda f: fxad.grad(f, has_aux=True),
                 lambda x: (fnp.sum(fnp.sin(x)), {"y": fnp.cos(x), "n": fnp.argmax(x)}),
                 (XV,), {}),
    "value_and_grad": (lambda f: fxad.value_and_grad(f, argnums=1), _loss, (P, X), {}),
    "value_and_grad-aux": (lambda f: fxad.value_and_grad(f, has_aux=True),
                           lambda x: (fnp.sum(x ** 3), x * 2.0), (XV,), {}),
    "jacfwd": (lambda f: fxad.jacfwd(f), _vec, (XV,), {}),
    "jacrev": (lambda f: fxad.jacrev(f), _vec, (XV,), {}),
    "jacrev-pytree": (lambda f: fxad.jacrev(f, argnums=(0, 1)),
                      lambda p, x: {"h": fnp.tanh(x @ p["w"]), "s": fnp.sum(p["b"])},
                      (P, X), {}),
    "jacfwd-aux": (lambda f: fxad.jacfwd(f, has_aux=True), lambda x: (_vec(x), x[0]),
                   (XV,), {}),
    "hessian": (lambda f: fxad.hessian(f), lambda x: fnp.sum(fnp.sin(x) * x ** 3), (XV,), {}),
    "hessian-argnums": (lambda f: fxad.hessian(f, argnums=(0, 1)),
                        lambda x, y: fnp.sum(fnp.exp(x * y)), (XV, XV[::-1].copy()), {}),
    "vmap": (lambda f: fxad.vmap(f, in_axes=(None, 0)), _loss, (P, np.stack([X, 2 * X])), {}),
    "vmap-out_axes": (lambda f: fxad.vmap(f, out_axes=1), _vec, (np.stack([XV, -XV]),), {}),
    "vmap-grad": (lambda f: fxad.vmap(fxad.grad(f)), lambda x: fnp.sum(fnp.sin(x) * x),
                  (np.stack([XV, -XV]),), {}),
    "grad-grad": (lambda f: fxad.grad(fxad.grad(f)), lambda x: fnp.sin(x) * x ** 2, (0.7,), {}),
    "jacfwd-grad": (lambda f: fxad.jacfwd(fxad.grad(f)), lambda x: fnp.sum(fnp.cos(x) * x),
                    (XV,), {}),
    "grad-scalar": (lambda f: fxad.grad(f), lambda x, y: x * fnp.exp(y), (0.5, np.float64(2.0)),
                    {}),
    "grad-float32": (lambda f: fxad.grad(f), lambda x: fnp.sum(fnp.sin(x)),
                     (XV.astype(np.float32),), {}),
    "grad-int-argument": (lambda f: fxad.grad(f), lambda x, k: fnp.sum(x ** 2) * k,
                          (XV, 3), {}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_transform_of_jit_is_jit_of_transform(name):
    make, fn, args, kwargs = CASES[name]
    want = make(fn)(*args, **kwargs)
    t = make(J(fn))
    assert isinstance(t, JitFunction)
    rtol = 1e-5 if name.endswith("float32") else 1e-13
    same(t(*args, **kwargs), want, rtol)
    same(t(*args, **kwargs), want, rtol)  # the cached program
    same(J(make(fn))(*args, **kwargs), want, rtol)
    same(make(general(J(fn)))(*args, **kwargs), want, rtol)


def test_the_body_runs_once_whichever_transformations_ask():
    f, count = _counting(lambda x: fnp.sum(fnp.sin(x) * x))
    jf = J(f)
    x = np.linspace(0.0, 1.0, 5)
    want = np.cos(x) * x + np.sin(x)
    for _ in range(5):
        tree_close(fxad.grad(jf)(x), want, 1e-13, 1e-14)
    tree_close(fxad.jacrev(jf)(x), want, 1e-13, 1e-14)
    tree_close(fxad.hessian(jf)(x), np.diag(2 * np.cos(x) - x * np.sin(x)), 1e-13, 1e-14)
    tree_close(fxad.vmap(fxad.grad(jf))(np.stack([x, x])), np.stack([want, want]), 1e-13, 1e-14)
    assert count["n"] == 1
    fxad.grad(jf)(np.ones(3))  # a new signature traces again
    assert count["n"] == 2


def test_made_once_per_transformation_and_parameters():
    jf = J(lambda x, y: fnp.sum(x * y))
    g = fxad.grad(jf)
    assert fxad.grad(jf) is g and fxad.grad(fxad.grad(jf)) is fxad.grad(g)
    assert fxad.grad(jf, argnums=(0, 1)) is fxad.grad(jf, argnums=[0, 1])
    assert fxad.grad(jf, argnums=1) is not g and fxad.jacrev(jf) is not g
    # ``grad(jf)`` written inside a loop: traced once.
    for k in range(4):
        assert float(fxad.grad(jf)(2.0, float(k))) == k
    assert g._trace_count == 1
    # Unhashable parameters (vmap's in_axes as a dict) work, without being kept.
    vm = J(lambda p: p["a"] * 2.0)
    assert fxad.vmap(vm, in_axes=({"a": 0},)) is not fxad.vmap(vm, in_axes=({"a": 0},))
    tree_close(fxad.vmap(vm, in_axes=({"a": 0},))({"a": XV}), 2 * XV, 0, 0)


def test_grad_of_grad_of_jit_is_one_generated_function(monkeypatch):
    generated = []
    real = codegen.generate
    monkeypatch.setattr(codegen, "generate",
                        lambda closed, *a, **k: generated.append(closed) or real(closed, *a, **k))
    f, count = _counting(fnp.tanh)
    d4 = fxad.grad(fxad.grad(fxad.grad(fxad.grad(J(f)))))
    t = np.tanh(0.3)
    s = 1 - t * t
    want = 16 * t * s * s - 8 * t ** 3 * s
    for x in (0.3, 0.3):
        assert float(d4(x)) == pytest.approx(want, rel=1e-12)
    assert count["n"] == 1 and len(generated) == 1
    assert all(e.primitive.name != "pjit" for e in generated[0].jaxpr.eqns)
    v = fxad.vmap(fxad.grad(J(fnp.sin)))
    tree_close(v(XV), np.cos(XV), 1e-15, 0)
    assert len(generated) == 2 and all(e.primitive.name != "pjit"
                                       for e in generated[1].jaxpr.eqns)


def test_static_arguments_stay_static():
    f, count = _counting(lambda x, n, k=1.0: x ** n * k if n > 1 else x * k)
    jf = J(f, static_argnums=1, static_argnames="k")
    g = fxad.grad(jf)
    assert isinstance(g, JitFunction)
    assert float(g(2.0, 3)) == 12.0 and float(g(2.0, 1)) == 1.0
    assert float(g(2.0, 3, k=2.0)) == 24.0
    assert count["n"] == 3 and g._trace_count == 3
    assert float(fxad.grad(fxad.grad(jf))(2.0, 3)) == 12.0
    assert float(fxad.jacrev(jf)(2.0, 3)) == 12.0
    assert float(g(2.0, 3)) == 12.0 and g._trace_count == 3
    with pytest.raises(TypeError, match="must be hashable"):
        g(2.0, [3])


def test_a_differentiated_or_mapped_static_argument_stays_on_the_general_path():
    jf = J(lambda x, n: x ** n, static_argnums=1)
    for t in (fxad.grad(jf, argnums=1), fxad.grad(jf, argnums=-1), fxad.vmap(jf),
              fxad.jacrev(jf, argnums=(0, 1))):
        assert not isinstance(t, JitFunction)
    with pytest.raises(TypeError, match="argument 1 is static, so it must be hashable"):
        fxad.grad(jf, argnums=1)(2.0, 3.0)
    jneg = J(lambda x, n: x ** n, static_argnums=-1)
    assert not isinstance(fxad.grad(jneg), JitFunction)
    assert float(fxad.grad(jneg)(2.0, 3)) == 12.0
    xs = np.array([1.0, 2.0])
    tree_close(fxad.vmap(jf, in_axes=(0, None))(xs, 2), xs ** 2, 0, 0)


def _message(fn, *args, **kwargs):
    with pytest.raises(Exception) as info:
        fn(*args, **kwargs)
    return type(info.value), str(info.value)


ERRORS = {
    "int-argument": (lambda f: fxad.grad(f), lambda x: x * 2.0, (3,), {}),
    "int-array": (lambda f: fxad.grad(f), lambda x: fnp.sum(x), (np.arange(3),), {}),
    "string-argument": (lambda f: fxad.grad(f), lambda x: x * 2.0, ("a",), {}),
    "string-other-argument": (lambda f: fxad.grad(f), lambda x, y: x * 2.0, (1.0, "a"), {}),
    "string-kwarg": (lambda f: fxad.grad(f), lambda x, y=1.0: x * y, (1.0,), {"y": "a"}),
    "argnums": (lambda f: fxad.grad(f, argnums=2), lambda x: x, (1.0,), {}),
    "not-scalar": (lambda f: fxad.grad(f), fnp.sin, (XV,), {}),
    "complex-output": (lambda f: fxad.jacrev(f), lambda x: x * 1j, (XV,), {}),
    "aux-not-pair": (lambda f: fxad.grad(f, has_aux=True), lambda x: x, (1.0,), {}),
    "jacfwd-int": (lambda f: fxad.jacfwd(f), lambda x: x, (np.arange(2),), {}),
    "vmap-sizes": (lambda f: fxad.vmap(f), lambda a, b: a + b, (XV, np.ones(2)), {}),
    "vmap-axis": (lambda f: fxad.vmap(f, in_axes=1), lambda a: a, (XV,), {}),
    "branch": (lambda f: fxad.grad(f), lambda x: fnp.log(x) if x > 0 else x, (1.0,), {}),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_the_same_errors_as_the_general_path(name):
    make, fn, args, kwargs = ERRORS[name]
    t = make(J(fn))
    assert isinstance(t, JitFunction)
    got = _message(t, *args, **kwargs)
    assert got == _message(make(general(J(fn))), *args, **kwargs)
    assert got[1].count("While tracing") <= 1
    assert core.trace_state.stack == []
    assert t._cache_size() == 0  # a failed trace is not kept


def test_make_jaxpr_shows_one_call_of_the_transformed_body():
    jf = J(lambda x: fnp.sin(x) * 2.0)
    closed = fxad.make_jaxpr(lambda x: fxad.grad(jf)(x) + 1.0)(0.5)
    assert [e.primitive.name for e in closed.eqns] == ["pjit", "add"]
    call = closed.eqns[0]
    assert call.params["name"] == "grad(<lambda>)"
    body = call.params["jaxpr"]
    assert [e.primitive.name for e in body.eqns] == ["cos", "mul"]  # inlined and simplified
    # jvp, vjp and linearize stay on the general path: the JVP of the call.
    closed = fxad.make_jaxpr(lambda x: fxad.jvp(jf, (x,), (1.0,))[1])(0.5)
    assert [e.primitive.name for e in closed.eqns] == ["pjit"]
    assert closed.eqns[0].params["name"] == "jvp(<lambda>)"


def test_a_jit_function_closing_over_an_outer_tracer():
    def outer(y):
        return fxad.grad(J(lambda x: fnp.sin(x * y)))(2.0)

    # d/dy [y cos(2y)] = cos(2y) - 2y sin(2y)
    assert float(fxad.grad(outer)(0.5)) == pytest.approx(np.cos(1.0) - np.sin(1.0), rel=1e-14)
    ys = np.array([0.5, 1.5])
    tree_close(fxad.vmap(outer)(ys), ys * np.cos(2 * ys), 1e-14, 0)


def test_log_compiles_names_the_transformation(caplog):
    def square(x):
        return x * x

    jf = J(square)
    fxad.config.update("log_compiles", True)
    try:
        with caplog.at_level(logging.WARNING, logger="fxad.jit"):
            fxad.grad(jf)(1.0)
            fxad.grad(jf)(2.0)
    finally:
        fxad.config.update("log_compiles", False)
    assert [r.getMessage() for r in caplog.records] == [
        "jit: tracing grad(square) for (f64[] weak)", "jit: tracing square for (f64[] weak)"]
