"""Loops and branches compile to real Python loops and branches in jit's
generated source (``for``, ``while``, ``if``), never unrolled: the source of
a 100,000-step ``fori_loop`` and of its gradient is a few lines, and the
results equal the eager ones (values and dtypes)."""

from __future__ import annotations

import numpy as np
import pytest

import fxad
import fxad.numpy as fnp
from fxad import lax

STEPS = 100_000


def _loop(x):
    return lax.fori_loop(0, STEPS, lambda i, c: c * 0.99999 + fnp.sin(c) * 1e-5, x)


def _same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a, b)


def test_fori_loop_compiles_to_a_for_statement():
    jf = fxad.jit(_loop)
    src = jf.lower(0.3).source()
    assert "for " in src and "range(100000)" in src
    assert len(src.splitlines()) < 20
    _same(jf(0.3), _loop(0.3))


def test_gradient_of_a_loop_is_two_loops_forward_and_reversed():
    jg = fxad.jit(fxad.grad(_loop))
    src = jg.lower(0.3).source()
    assert src.count("for ") == 2 and "range(99999, -1, -1)" in src
    assert len(src.splitlines()) < 32
    _same(jg(0.3), fxad.grad(_loop)(0.3))


def test_scan_with_xs_and_ys_and_reverse():
    def f(c, xs):
        return lax.scan(lambda c, x: (c * x + 1.0, c - x), c, xs, reverse=True)

    jf = fxad.jit(f)
    xs = np.linspace(0.5, 1.5, 7)
    src = jf.lower(np.float64(0.2), xs).source()
    assert "range(6, -1, -1)" in src and "xp.empty((7,)" in src
    got, want = jf(np.float64(0.2), xs), f(np.float64(0.2), xs)
    _same(got[0], want[0])
    _same(got[1], want[1])


def test_scan_of_length_zero_returns_a_copy_of_the_carry():
    init = np.arange(3.0)
    jf = fxad.jit(lambda c: lax.scan(lambda c, _: (c * 2.0, None), c, None, length=0)[0])
    out = jf(init)
    _same(out, init)
    out[0] = 99.0
    assert init[0] == 0.0


def test_while_loop_compiles_to_a_while_statement():
    jw = fxad.jit(lambda x: lax.while_loop(lambda c: c < 10.0, lambda c: c * 2.0, x))
    src = jw.lower(0.3).source()
    assert "while " in src
    _same(jw(0.3), lax.while_loop(lambda c: c < 10.0, lambda c: c * 2.0, 0.3))
    # A batched predicate: every lane until all are done.
    xs = np.array([0.3, 4.0, 20.0])
    vw = fxad.jit(fxad.vmap(lambda x: lax.while_loop(lambda c: c < 10.0,
                                                     lambda c: c * 2.0, x)))
    _same(vw(xs), np.array([19.2, 16.0, 20.0]))


@pytest.mark.parametrize("pred", [1.0, -1.0])
def test_cond_compiles_to_an_if_statement(pred):
    def f(x, p):
        return lax.cond(p > 0, lambda x: fnp.sin(x) * 2.0, lambda x: fnp.cos(x), x)

    jf = fxad.jit(f)
    src = jf.lower(0.5, pred).source()
    assert "if " in src and "else:" in src
    _same(jf(0.5, pred), f(0.5, pred))
    _same(fxad.jit(fxad.grad(f))(0.5, pred), fxad.grad(f)(0.5, pred))


def test_switch_with_three_branches():
    branches = [lambda x: x + 1.0, lambda x: x * 2.0, lambda x: x - 3.0]
    jf = fxad.jit(lambda i, x: lax.switch(i, branches, x))
    src = jf.lower(1, 0.5).source()
    assert "elif " in src
    for i, want in ((-5, 1.5), (0, 1.5), (1, 1.0), (2, -2.5), (9, -2.5)):
        assert float(jf(i, 0.5)) == want


def test_nested_loops_in_generated_code():
    def f(x):
        def outer(c, _):
            inner = lax.fori_loop(0, 5, lambda i, d: d * 1.01, c)
            return inner, inner
        return lax.scan(outer, x, None, length=4)

    jf = fxad.jit(f)
    c, ys = jf(np.float64(1.0))
    c0, ys0 = f(np.float64(1.0))
    _same(c, c0)
    _same(ys, ys0)
    _same(fxad.jit(fxad.grad(lambda x: f(x)[1].sum()))(1.0),
          fxad.grad(lambda x: f(x)[1].sum())(1.0))


@pytest.mark.parametrize("body,init", [
    (lambda c: c * 1e200, 1e150),        # overflow to inf: the raw form returns None
    (lambda c: 1.0 / c - 1.0, 1.0),      # 1/0: Python raises ZeroDivisionError
    (lambda c: fnp.log(c - 2.0), 3.0),   # log of a negative: math raises ValueError
])
def test_scalar_loop_bodies_fall_back_to_numpy_where_python_differs(body, init):
    def f(x):
        return lax.fori_loop(0, 3, lambda i, c: body(c), x)

    with np.errstate(all="ignore"):
        _same(fxad.jit(f)(init), f(init))
        src = fxad.jit(f).lower(init).source()
    assert "_fast" in src and "_slow" in src
