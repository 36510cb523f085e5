"""The call primitive ``pjit``: sub-jaxprs in the IR, and ``jit`` under every
transformation as one call of its traced body.

Covers the printer (nested, JAX's notation), the checker (recursing, and
catching a call whose operands do not match its body), the optimiser passes
on calls (inlining, DCE inside a call, CSE of calls), trace counts (a body
traced once however often ``grad(jit(f))`` runs; one generated function for
``jit(grad(jit(f)))``), the linear call that ``linearize`` stages, and every
op record pushed through ``jit`` inside and outside the other
transformations, against the same transformation of the eager function.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy_checks import tree_close
from op_records import RECORDS, diff_argnums, rng_for
from op_records_calls import _nested, call

import fxad
import fxad.numpy as fnp
from fxad import core, lax, tree_util
from fxad.core import ClosedJaxpr, Jaxpr, JaxprEqn, JaxprTypeError, Var, shaped
from fxad.interpreters import ad, codegen, optimize
from fxad.jit import pjit_p

J = fxad.jit
F64 = shaped((), np.dtype(np.float64))


def names(closed):
    return [e.primitive.name for e in closed.eqns]



def close(a, b, rtol=1e-12, atol=1e-13):
    tree_close(a, b, rtol, atol, single=(1e-5, 1e-6))


# ---------------------------------------------------------------------------
# The IR: printing and checking calls


def _f(x):
    return fnp.sin(x)


_f.__name__ = "f"


def test_make_jaxpr_shows_one_pjit_equation_printed_nested():
    text = str(fxad.make_jaxpr(lambda x: J(_f)(x) + 1.0)(2.0))
    assert text == (
        "{ lambda ; a:f64[]. let\n"
        "    b:f64[] = pjit[\n"
        "      name=f\n"
        "      jaxpr={ lambda ; c:f64[]. let\n"
        "          d:f64[] = sin c\n"
        "        in (d,) }\n"
        "    ] a\n"
        "    e:f64[] = add b 1.0:f64[]\n"
        "  in (e,) }")


def test_a_jit_body_is_optimised_with_inner_jits_inlined():
    g = J(lambda x: J(_f)(x) * x)
    closed = fxad.make_jaxpr(lambda x: g(x) - 1.0)(0.5)
    inner = closed.eqns[0].params["jaxpr"]
    assert names(closed) == ["pjit", "sub"] and names(inner) == ["sin", "mul"]


def test_nested_calls_print_and_check_with_names_bound_once():
    closed = fxad.make_jaxpr(lambda x, y: call(_nested)(x, y)[0] - 1.0)(0.5, 0.25)
    core.check_jaxpr(closed.jaxpr)
    inner = closed.eqns[0].params["jaxpr"]
    assert names(closed) == ["pjit", "sub"] and names(inner) == ["pjit", "cos", "mul"]
    assert "name=_smooth" in str(closed)
    text = str(closed)
    # every binder appears once on the left of a declaration
    decls = [tok.split(":")[0] for line in text.splitlines()
             for tok in line.split("=")[0].split() if ":" in tok]
    assert len(decls) == len(set(decls))


def _call_eqn(body, operand_aval, out_aval=None):
    x = Var(operand_aval)
    out = Var(out_aval or body.out_avals[0])
    eqn = JaxprEqn(pjit_p, [x], dict(jaxpr=body, name="g"), [out])
    return Jaxpr([], [x], [eqn], [out])


def test_check_jaxpr_fails_on_a_call_that_does_not_match_its_body():
    body = fxad.make_jaxpr(lambda x: fnp.sin(x))(np.ones(3))
    core.check_jaxpr(_call_eqn(body, shaped((3,), np.float64)))
    with pytest.raises(JaxprTypeError, match=r"pjit g: operand 0 is f64\[2\] but the body's "
                                             r"input 0 is f64\[3\]"):
        core.check_jaxpr(_call_eqn(body, shaped((2,), np.float64)))
    with pytest.raises(JaxprTypeError, match=r"output f32\[3\] but abstract eval gives "
                                             r"f64\[3\]"):
        core.check_jaxpr(_call_eqn(body, shaped((3,), np.float64), shaped((3,), np.float32)))


def test_check_jaxpr_recurses_into_the_body():
    a = Var(F64)
    b = Var(shaped((), np.float32))  # declared f32, but sin of f64 is f64
    bad_body = ClosedJaxpr(Jaxpr([], [a], [JaxprEqn(lax.sin_p, [a], {}, [b])], [b]), [])
    with pytest.raises(JaxprTypeError, match=r"equation 0 \(pjit\), in its parameter jaxpr: "
                                             r"equation 0 \(sin\)"):
        core.check_jaxpr(_call_eqn(bad_body, F64, shaped((), np.float32)))


def test_eval_jaxpr_runs_calls():
    closed = fxad.make_jaxpr(lambda x: J(lambda y: y * 3.0)(x) + 1.0)(2.0)
    (out,) = closed(4.0)
    assert float(out) == 13.0


# ---------------------------------------------------------------------------
# The optimiser on calls


def test_dce_prunes_unused_outputs_of_a_call_and_inside_it():
    two = J(lambda x: (fnp.sin(x), fnp.cos(x) * 2.0))
    closed = fxad.make_jaxpr(lambda x: two(x)[0])(1.0)
    (eqn,) = closed.eqns
    assert len(eqn.outvars) == 2 and len(eqn.params["jaxpr"].eqns) == 3
    pruned = optimize.dce(closed.jaxpr)
    core.check_jaxpr(pruned)
    (eqn,) = pruned.eqns
    assert len(eqn.outvars) == 1 and names(eqn.params["jaxpr"]) == ["sin"]
    assert float(core.eval_jaxpr(pruned, closed.consts, 1.0)[0]) == np.sin(1.0)


def test_dce_drops_operands_only_unused_outputs_needed():
    two = J(lambda x, y: (x * 2.0, fnp.exp(y)))
    closed = fxad.make_jaxpr(lambda x, y: two(x, y)[0])(1.0, 2.0)
    (eqn,) = optimize.dce(closed.jaxpr).eqns
    assert len(eqn.invars) == 1 and eqn.invars[0] is closed.jaxpr.invars[0]


def test_optimize_inlines_calls_and_simplifies_across_them():
    g = J(lambda x: fnp.sin(x) * 1.0)
    closed = fxad.make_jaxpr(lambda x: g(x) + g(x))(np.ones(2))
    assert names(closed) == ["pjit", "pjit", "add"]
    opt = optimize.optimize(closed)
    assert names(opt) == ["sin", "add"]  # inlined, the two calls merged by CSE
    x = np.linspace(0, 1, 2)
    close(opt(x)[0], 2 * np.sin(x), rtol=0, atol=0)


def test_cse_merges_identical_calls_without_inlining():
    g = J(lambda x: fnp.exp(x))
    closed = fxad.make_jaxpr(lambda x: g(x) * g(x))(1.0)
    assert names(optimize.cse(closed.jaxpr)) == ["pjit", "mul"]


def test_constant_folding_through_an_inlined_call():
    g = J(lambda x: x * 2.0)
    opt = optimize.optimize(fxad.make_jaxpr(lambda x: g(3.0) + x)(1.0))
    assert names(opt) == ["add"] and float(opt(1.0)[0]) == 7.0


# ---------------------------------------------------------------------------
# Trace counts and compiled functions


def _counting(fn):
    count = {"n": 0}

    def f(*args):
        count["n"] += 1
        return fn(*args)

    return f, count


def test_grad_of_jit_traces_the_body_once():
    f, count = _counting(lambda x: fnp.sum(fnp.sin(x) * x))
    jf = J(f)
    g = fxad.grad(jf)
    x = np.linspace(0, 1, 5)
    want = np.cos(x) * x + np.sin(x)
    for _ in range(5):
        close(g(x), want)
    assert count["n"] == 1
    # Other transformations reuse the same trace too.
    close(fxad.jacrev(jf)(x), want)
    close(fxad.jvp(jf, (x,), (np.ones(5),))[1], want @ np.ones(5))
    assert count["n"] == 1


def test_derived_bodies_are_made_once(monkeypatch):
    f = J(lambda x: fnp.tanh(x) * x)
    g = fxad.grad(f)
    g(0.3)
    # The general path too: grad of a call of f runs pjit's JVP, split and
    # transpose rules on every call, each deriving its body once.
    g_general = fxad.grad(lambda x: f(x))
    g_general(0.3)
    traced = []
    real = fxad.interpreters.partial_eval.trace_to_jaxpr
    monkeypatch.setattr(ad, "trace_to_jaxpr",
                        lambda *a, **k: traced.append(1) or real(*a, **k))
    generated = []
    real_gen = codegen.generate
    monkeypatch.setattr(codegen, "generate", lambda *a, **k: generated.append(1) or
                        real_gen(*a, **k))
    for x in (0.1, 0.2, 0.3, 0.4):
        close(g(x), np.tanh(x) + x * (1 - np.tanh(x) ** 2))
        close(g_general(x), np.tanh(x) + x * (1 - np.tanh(x) ** 2))
    assert traced == [] and generated == []


def test_jit_of_grad_of_jit_is_one_generated_function(monkeypatch):
    generated = []
    real_gen = codegen.generate
    monkeypatch.setattr(codegen, "generate", lambda closed, *a, **k: generated.append(
        closed) or real_gen(closed, *a, **k))
    f, count = _counting(lambda x: fnp.sum(fnp.exp(x) * x))
    jf = J(f)
    h = J(fxad.grad(jf))
    x = np.array([0.5, -1.0])
    close(h(x), np.exp(x) * (1 + x))
    close(h(x), np.exp(x) * (1 + x))
    assert count["n"] == 1
    assert len(generated) == 1
    assert "pjit" not in names(generated[0])
    # The general path (grad of a call of jf binds pjit under the trace, and
    # its JVP, split and transpose rules run there): inlined as well.
    h2 = J(fxad.grad(lambda x: jf(x)))
    close(h2(x), np.exp(x) * (1 + x))
    assert count["n"] == 1
    assert len(generated) == 2
    assert "pjit" not in names(generated[1])


def test_linearize_stages_a_linear_call_and_runs_the_primal_now():
    f = J(lambda x: fnp.sin(x) * fnp.exp(x))
    y, f_jvp = fxad.linearize(f, 0.7)
    assert float(y) == pytest.approx(np.sin(0.7) * np.exp(0.7), rel=1e-15)
    lin = f_jvp.jaxpr
    assert names(lin) == ["pjit"]
    body = lin.eqns[0].params["jaxpr"]
    assert all(e.primitive in ad.linear_primitives for e in body.eqns), names(body)
    assert "sin" not in names(body) and "exp" not in names(body)
    want = (np.cos(0.7) + np.sin(0.7)) * np.exp(0.7)
    assert float(f_jvp(2.0)) == pytest.approx(2 * want, rel=1e-14)


# ---------------------------------------------------------------------------
# jit(f) under the transformations equals them applied to f


def _fn(x, y):
    return fnp.sum(fnp.sin(x) * y ** 2 + fnp.exp(-x) * y) + fnp.max(x) * fnp.prod(y)


XS = (np.array([0.3, -1.2, 0.7]), np.array([1.1, 0.4, -0.6]))

TRANSFORMS = {
    "grad": lambda f: fxad.grad(f, argnums=(0, 1)),
    "jvp": lambda f: (lambda x, y: fxad.jvp(f, (x, y), (np.ones(3), np.full(3, 0.5)))),
    "vjp": lambda f: (lambda x, y: fxad.vjp(f, x, y)[1](1.5)),
    "vmap": lambda f: fxad.vmap(f, in_axes=(0, None)),
    "jacfwd": lambda f: fxad.jacfwd(f, argnums=(0, 1)),
    "jacrev": lambda f: fxad.jacrev(f, argnums=(0, 1)),
    "hessian": lambda f: fxad.hessian(f),
    "linearize": lambda f: (lambda x, y: fxad.linearize(f, x, y)[1](x, y)),
    "jit": J,
}


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_transform_of_jit_equals_transform(name):
    t = TRANSFORMS[name]
    args = XS if name != "vmap" else (np.stack([XS[0], XS[1]]), XS[1])
    want = t(_fn)(*args)
    close(t(J(_fn))(*args), want)
    jf = J(_fn)
    close(t(lambda *a: jf(*a))(*args), want)  # the general path: pjit's rules, eagerly
    close(J(t(lambda *a: jf(*a)))(*args), want)  # and under jit's tracing
    close(t(J(J(_fn)))(*args), want)
    close(J(t(J(_fn)))(*args), want)


def test_closure_over_a_tracer_becomes_an_operand_of_the_call():
    def outer(y):
        return J(lambda x: x * y + fnp.sin(y))(2.0)

    assert float(fxad.grad(outer)(0.5)) == pytest.approx(2.0 + np.cos(0.5), rel=1e-15)
    closed = fxad.make_jaxpr(outer)(0.5)
    # sin(y) involves only the outer value, so the outer trace records it.
    assert names(closed) == ["sin", "pjit"]
    eqn = closed.eqns[1]
    assert closed.jaxpr.invars[0] in eqn.invars and closed.eqns[0].outvars[0] in eqn.invars
    assert float(fxad.grad(fxad.grad(outer))(0.5)) == pytest.approx(-np.sin(0.5), rel=1e-15)


def test_integer_and_static_arguments_under_grad():
    f = J(lambda x, n, k: x ** n * k, static_argnums=1)
    assert float(fxad.grad(f)(2.0, 3, 4)) == pytest.approx(48.0)
    assert float(fxad.grad(fxad.grad(f))(2.0, 3, np.int64(4))) == pytest.approx(48.0)


def test_jit_nested_three_deep_under_transformations():
    f3 = J(J(J(_fn)))
    for name in ("grad", "jacrev", "hessian", "vmap", "jvp"):
        t = TRANSFORMS[name]
        args = XS if name != "vmap" else (np.stack([XS[0], XS[1]]), XS[1])
        close(t(f3)(*args), t(_fn)(*args))
        close(J(t(f3))(*args), t(_fn)(*args))


def test_fourth_derivative_through_jit():
    f = J(lambda x: fnp.tanh(x))
    d4 = fxad.grad(fxad.grad(fxad.grad(fxad.grad(f))))
    t = np.tanh(0.3)
    s = 1 - t * t
    assert float(d4(0.3)) == pytest.approx(16 * t * s * s - 8 * t ** 3 * s, rel=1e-12)


def test_errors_inside_a_called_body_leave_no_trace_behind():
    f = J(lambda x: fnp.log(x) if x > 0 else x)  # Python control flow on a tracer
    with pytest.raises(fxad.errors.ConcretizationTypeError):
        fxad.grad(f)(1.0)
    assert core.trace_state.stack == []
    assert float(fxad.grad(J(fnp.log))(2.0)) == 0.5


# ---------------------------------------------------------------------------
# Every op record through jit, inside and around the transformations


def _first_cases():
    out = []
    for r in RECORDS:
        for k, c in enumerate(r.cases):
            if r.case_diff(c) in ("smooth", "zero", "kink"):
                out.append((r, c, f"{r.name}-{k}-{c.label()}"))
                break
    return out


FIRST = _first_cases()

RECORD_TRANSFORMS = ["grad", "jvp", "vmap", "jacrev", "hessian"]


def _scalarised(rec, case, args):
    """``rec.fun`` as a scalar function of its float arguments: the sum of
    its outputs weighted by fixed random weights (so every output entry
    contributes), others held fixed."""
    nums = diff_argnums(args)
    out = rec.fun(*args, **case.params)
    rng = rng_for("weights", rec.name, case.label())
    weights = [rng.standard_normal(np.shape(o)) for o in tree_util.tree_leaves(out)]

    def f(*dyn):
        full = list(args)
        for i, d in zip(nums, dyn):
            full[i] = d
        outs = tree_util.tree_leaves(rec.fun(*full, **case.params))
        total = 0.0
        for o, w in zip(outs, weights):
            o = fnp.real(o) if np.iscomplexobj(w) or fnp.iscomplexobj(o) else o
            total = total + fnp.sum(o * w.astype(o.dtype))
        return total

    return f, [args[i] for i in nums]


def _apply(name, f, dyn):
    if name == "grad":
        return fxad.grad(f, argnums=tuple(range(len(dyn))))(*dyn)
    if name == "jvp":
        ts = [np.ones_like(d) for d in dyn]
        return fxad.jvp(f, tuple(dyn), tuple(ts))
    if name == "vmap":
        return fxad.vmap(f)(*[np.stack([d, d * 0.5 + 0.1 * np.ones_like(d)]) for d in dyn])
    if name == "jacrev":
        return fxad.jacrev(f, argnums=tuple(range(len(dyn))))(*dyn)
    if name == "hessian":
        return fxad.hessian(f)(*dyn)
    raise AssertionError(name)


@pytest.mark.parametrize("name", RECORD_TRANSFORMS)
@pytest.mark.parametrize("rec,case", [(r, c) for r, c, _ in FIRST], ids=[i for *_, i in FIRST])
def test_every_record_through_jit_under_and_around_transforms(rec, case, name):
    args = case.sample(rng_for(rec.name, case.label()))
    f, dyn = _scalarised(rec, case, args)
    if name == "hessian" and (rec.case_diff(case) != "smooth" or rec.order < 2 or
                              sum(np.size(d) for d in dyn) > 12 or
                              any(np.iscomplexobj(d) for d in dyn)):
        name = "jacrev"  # a Hessian of a big or piecewise-linear case says little more
    if name == "jvp" and "fwd" not in rec.modes:
        name = "jacrev"  # reverse mode only (custom_vjp): forward mode is an error
    want = _apply(name, f, dyn)
    rtol = 1e-9 if rec.tol is None else max(rec.tol, 1e-9)
    close(_apply(name, J(f), dyn), want, rtol=rtol, atol=1e-11)  # transform(jit)
    # The general path (transform of a call of the jit function, which does
    # not commute with the transformation): pjit's rules on concrete values.
    jf = J(f)
    close(_apply(name, lambda *d: jf(*d), dyn), want, rtol=rtol, atol=1e-11)
    close(J(lambda *d: _apply(name, f, d))(*dyn), want, rtol=rtol, atol=1e-11)  # jit(transform)
    if name == "grad":
        f3 = J(J(J(f)))
        close(_apply(name, f3, dyn), want, rtol=rtol, atol=1e-11)


# ---------------------------------------------------------------------------
# Edge cases of bodies: forwarding, constants, duplicates, unused inputs


EDGE = {
    "identity": (lambda x, y: x, lambda x, y: (1.0, 0.0)),
    "constant": (lambda x, y: fnp.float64(3.0) + 0.0 * 0, lambda x, y: (0.0, 0.0)),
    "duplicate": (lambda x, y: (x * y, x * y), lambda x, y: (2 * y, 2 * x)),
    "unused": (lambda x, y: fnp.sin(x), lambda x, y: (np.cos(x), 0.0)),
    "passthrough_pair": (lambda x, y: (y, x * 2.0), lambda x, y: (2.0, 1.0)),
    "integer_out": (lambda x, y: (fnp.floor(x).astype(int), x * y),
                    lambda x, y: (y, x)),
}


def _total(out):
    leaves = tree_util.tree_leaves(out)
    total = 0.0
    for o in leaves:
        if np.dtype(getattr(o, "dtype", np.float64)).kind in "fc":
            total = total + fnp.sum(o)
    return total


@pytest.mark.parametrize("name", sorted(EDGE))
def test_edge_bodies_under_grad_jvp_vmap_linear_transpose(name):
    body, grads = EDGE[name]
    jb = J(body)

    def loss(x, y):
        return _total(jb(x, y)) + 0.0 * x

    gx, gy = fxad.grad(loss, argnums=(0, 1))(0.7, -0.4)
    want = grads(0.7, -0.4)
    assert (float(gx), float(gy)) == pytest.approx(want, rel=1e-15)
    close(fxad.jvp(jb, (0.7, -0.4), (1.0, 0.5)), fxad.jvp(body, (0.7, -0.4), (1.0, 0.5)))
    xs = np.array([0.1, 0.2, 0.3])
    close(fxad.vmap(jb, in_axes=(0, None))(xs, 2.0), fxad.vmap(body, in_axes=(0, None))(xs, 2.0))
    close(fxad.hessian(loss, argnums=(0, 1))(0.7, -0.4),
          fxad.hessian(lambda x, y: _total(body(x, y)) + 0.0 * x, argnums=(0, 1))(0.7, -0.4))


def test_linear_transpose_of_a_jit_function():
    A = np.arange(6.0).reshape(2, 3)
    f = J(lambda x: A @ x * 2.0)
    t = fxad.linear_transpose(f, np.zeros(3))
    closed = t.jaxpr
    assert names(closed) == ["pjit"]
    (ct,) = t(np.array([1.0, -1.0]))
    close(ct, 2.0 * A.T @ np.array([1.0, -1.0]))


def test_complex_body_under_grad_and_vjp():
    f = J(lambda z: fnp.sin(z) * fnp.conj(z))
    z = np.array([0.3 + 0.2j, -0.5 + 1.0j])
    y, vjp = fxad.vjp(f, z)
    y0, vjp0 = fxad.vjp(lambda z: fnp.sin(z) * fnp.conj(z), z)
    close(y, y0)
    ct = np.array([1.0 - 0.5j, 0.25 + 2.0j])
    close(vjp(ct), vjp0(ct))
    g = fxad.grad(lambda z: fnp.real(fnp.sum(f(z) * fnp.conj(f(z)))))(z)
    g0 = fxad.grad(lambda z: fnp.real(fnp.sum(fnp.sin(z) * fnp.conj(z) *
                                              fnp.conj(fnp.sin(z) * fnp.conj(z)))))(z)
    close(g, g0)


def test_integer_array_arguments_under_vmap_and_grad():
    f = J(lambda x, idx: fnp.sum(x[idx] ** 2))
    x = np.array([1.0, 2.0, 3.0])
    idx = np.array([0, 2, 2])
    close(fxad.grad(f)(x, idx), np.array([2.0, 0.0, 12.0]))
    xs = np.stack([x, 2 * x])
    close(fxad.vmap(f, in_axes=(0, None))(xs, idx), np.array([19.0, 76.0]))


def test_docs_jit_shows_the_printed_call_it_computes():
    import re
    from pathlib import Path

    doc = (Path(__file__).resolve().parent.parent / "docs" / "jit.md").read_text()
    section = doc[doc.index("## Under other transformations"):]
    code = re.search(r"```python\n(.*?)```", section, flags=re.S).group(1)
    shown = re.search(r"is \(`tests/test_pjit.py` checks it\)\n\n```\n(.*?)\n```",
                      section, flags=re.S).group(1)
    ns = {"np": np, "fxad": fxad, "fnp": fnp}
    exec(compile(code, "docs/jit.md", "exec"), ns)
    assert ns["text"] == shown
