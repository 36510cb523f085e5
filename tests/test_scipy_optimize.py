"""fxad derivatives as SciPy's callbacks: ``scipy.optimize.minimize`` with
``jac=fxad.grad(f)`` and ``hess=fxad.hessian(f)`` (trust-exact), BFGS with the
gradient, Newton-CG with Hessian-vector products from the JVP of the
gradient, and the runnable examples of ``docs/optimize.md`` (executed here,
so the page and the code cannot drift apart)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import scipy.optimize as optimize  # noqa: E402 - SciPy is in the test extra

import fxad
import fxad.numpy as fnp

DOC = Path(__file__).resolve().parent.parent / "docs" / "optimize.md"


def rosenbrock(x):
    return fnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosen_plain_numpy(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


X0 = np.array([-1.2, 1.0])


@pytest.mark.parametrize("f", [rosenbrock, rosen_plain_numpy], ids=["fxad.numpy", "numpy"])
def test_derivatives_match_scipy_rosen(f):
    x = np.array([-1.2, 1.0, 0.3, 2.0, -0.7])
    np.testing.assert_allclose(f(x), optimize.rosen(x), rtol=1e-14)
    g = fxad.grad(f)(x)
    assert type(g) is np.ndarray and g.dtype == np.float64
    np.testing.assert_allclose(g, optimize.rosen_der(x), rtol=1e-13)
    h = fxad.hessian(f)(x)
    assert type(h) is np.ndarray and h.shape == (5, 5)
    np.testing.assert_allclose(h, optimize.rosen_hess(x), rtol=1e-13)
    p = np.linspace(-1.0, 1.0, 5)
    hp = fxad.jvp(fxad.grad(f), (x,), (p,))[1]
    np.testing.assert_allclose(hp, optimize.rosen_hess_prod(x, p), rtol=1e-13)


@pytest.mark.parametrize("f", [rosenbrock, rosen_plain_numpy], ids=["fxad.numpy", "numpy"])
def test_trust_exact_converges_on_rosenbrock(f):
    res = optimize.minimize(f, X0, jac=fxad.grad(f), hess=fxad.hessian(f),
                            method="trust-exact")
    assert res.success, res.message
    np.testing.assert_allclose(res.x, [1.0, 1.0], rtol=1e-8)
    # The same path as SciPy's own analytic derivatives.
    ref = optimize.minimize(optimize.rosen, X0, jac=optimize.rosen_der,
                            hess=optimize.rosen_hess, method="trust-exact")
    assert res.nit == ref.nit
    np.testing.assert_allclose(res.x, ref.x, rtol=1e-10)


def test_bfgs_with_grad_and_value_and_grad():
    res = optimize.minimize(rosenbrock, X0, jac=fxad.grad(rosenbrock), method="BFGS")
    assert res.success, res.message
    np.testing.assert_allclose(res.x, [1.0, 1.0], atol=1e-5)
    res2 = optimize.minimize(fxad.value_and_grad(rosenbrock), X0, jac=True, method="BFGS")
    assert res2.success and res2.nit == res.nit
    np.testing.assert_allclose(res2.x, res.x, rtol=1e-12)


def test_newton_cg_with_hessian_vector_products():
    grad_f = fxad.grad(rosenbrock)
    calls = []

    def hessp(x, p):
        calls.append(1)
        return fxad.jvp(grad_f, (x,), (p,))[1]  # forward over reverse

    x0 = np.tile([-1.2, 1.0], 5)
    res = optimize.minimize(rosenbrock, x0, jac=grad_f, hessp=hessp, method="Newton-CG",
                            options={"xtol": 1e-10})
    assert res.success, res.message
    np.testing.assert_allclose(res.x, np.ones(10), atol=1e-6)
    assert calls  # the products were used
    # The same iterates as with SciPy's own Hessian-vector product.
    ref = optimize.minimize(optimize.rosen, x0, jac=optimize.rosen_der,
                            hessp=optimize.rosen_hess_prod, method="Newton-CG",
                            options={"xtol": 1e-10})
    np.testing.assert_allclose(res.x, ref.x, rtol=1e-8)


def test_trust_ncg_with_linearized_hessp():
    grad_f = fxad.grad(rosenbrock)

    def hessp(x, p):
        _, h_lin = fxad.linearize(grad_f, x)
        return h_lin(p)

    res = optimize.minimize(rosenbrock, X0, jac=grad_f, hessp=hessp, method="trust-ncg",
                            options={"gtol": 1e-10})
    assert res.success, res.message
    np.testing.assert_allclose(res.x, [1.0, 1.0], rtol=1e-7)


def _doc_blocks():
    return re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)


def test_docs_examples_run():
    blocks = _doc_blocks()
    assert len(blocks) >= 5
    ns: dict = {"__name__": "docs_optimize"}
    for i, code in enumerate(blocks):
        try:
            exec(compile(code, f"{DOC.name}[block {i}]", "exec"), ns)
        except Exception as e:  # noqa: BLE001 - re-raised with the block number
            raise AssertionError(f"docs/optimize.md code block {i} failed: {e!r}\n{code}") from e
    # The first block's trust-exact run on Rosenbrock, as the doc states it.
    assert "trust-exact" in blocks[0] and "fxad.hessian(rosenbrock)" in blocks[0]
    assert ns["fit"].success
    z = ns["res"].x[:2] + 1j * ns["res"].x[2:]  # the last block: complex parameters
    np.testing.assert_allclose(z, ns["target"], atol=1e-6)


def test_docs_rosenbrock_block_converges():
    ns: dict = {}
    exec(compile(_doc_blocks()[0], "optimize.md[0]", "exec"), ns)
    res = ns["res"]
    assert res.success and res.nit < 100
    np.testing.assert_allclose(res.x, np.ones(4), rtol=1e-8)
