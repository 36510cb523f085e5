"""``fxad.explain``: trace tables for any function of scalars or small arrays.

Every value in the tables is checked against an independent computation
(NumPy by hand, fxad's grad / jvp / vjp), every expression of a scalar
function is evaluated on the printed values, and the tutorial's worked
example is this same code.
"""

from __future__ import annotations

import doctest
import html.parser
import math
from pathlib import Path

import numpy as np
import pytest

import fxad
import fxad.numpy as fnp
from fxad import _tutorial, lax
from fxad._explain import format_value

ROOT = Path(__file__).resolve().parent.parent


def rows_of(table):
    return {name: (expr, value) for name, _, expr, value in table}


# ---------------------------------------------------------------------------
# The worked example is explain's output


def test_the_tutorial_is_explain_with_a_title():
    e = fxad.explain(_tutorial.f, description=_tutorial.FUNCTION)(1.5, 0.5)
    generic = str(e).split("\n")
    tutorial = _tutorial.render().split("\n")
    assert generic[0] == "fxad.explain: forward and reverse mode on one function"
    assert tutorial[0] == _tutorial.TITLE
    assert generic[1:] == tutorial[1:]


def test_sections_and_rows_of_the_seed():
    e = fxad.explain(_tutorial.f)(1.5, 0.5)
    assert list(e.sections()) == ["function", "primal", "forward", "linear", "reverse",
                                  "summary"]
    assert [r[0] for r in e.primal] == [f"v{i}" for i in range(1, 8)]
    assert e.inputs == ["x1", "x2"] and e.outputs == ["v7"]
    g = fxad.grad(_tutorial.f, argnums=(0, 1))(1.5, 0.5)
    assert e.grad == tuple(g)
    _, t = fxad.jvp(_tutorial.f, (1.5, 0.5), (1.0, 0.0))
    assert e.tangent == (t,)
    assert repr(e) == "<fxad.explain of f(1.5, 0.5): 7 rows>"


# ---------------------------------------------------------------------------
# Other scalar functions: expressions evaluate to their values


def g(x1, x2, x3):
    a = fnp.cos(x1) * x2 / x3
    return a - fnp.exp(a) + x1 * x1


SCOPE = {"sin": math.sin, "cos": math.cos, "exp": math.exp}


@pytest.mark.parametrize("wrt", [0, 1, "x3", (0.5, -1.0, 2.0)])
def test_scalar_function_every_row(wrt):
    at = (0.7, -1.3, 2.5)
    e = fxad.explain(g, wrt=wrt)(*at)
    prim, fwd, rev = rows_of(e.primal), rows_of(e.forward), rows_of(e.reverse)
    # the expressions, evaluated on the printed values, give each row
    scope = dict(SCOPE, x1=at[0], x2=at[1], x3=at[2])
    scope.update({n: float(v) for n, (_, v) in {**prim, **fwd, **rev}.items()})
    for n, (expr, v) in {**prim, **fwd, **rev}.items():
        assert math.isclose(eval(expr, scope), float(v), rel_tol=1e-14, abs_tol=1e-300), (n, expr)
    # the derivatives against fxad's transformations
    direction = wrt if isinstance(wrt, tuple) else tuple(
        1.0 if k == (wrt if isinstance(wrt, int) else int(wrt[1:]) - 1) else 0.0
        for k in range(3))
    y, y_dot = fxad.jvp(g, at, direction)
    assert e.value == (y,) and e.tangent == (y_dot,)
    assert fwd[e.outputs[0] + "_dot"][1] == y_dot
    assert e.grad == tuple(fxad.grad(g, argnums=(0, 1, 2))(*at))
    assert [rev[f"v{k}_bar"][1] for k in (1, 2, 3)] == list(e.grad)
    # by hand
    a = math.cos(at[0]) * at[1] / at[2]
    assert math.isclose(float(e.value[0]), a - math.exp(a) + at[0] ** 2, rel_tol=1e-15)


def test_argnums_fixes_the_others():
    e = fxad.explain(g, argnums=(1,))(0.7, -1.3, 2.5)
    assert e.inputs == ["x2"] and len(e.grad) == 1
    assert e.grad[0] == fxad.grad(g, argnums=1)(0.7, -1.3, 2.5)
    assert "Forward (tangent) trace for d/dx2" in str(e)
    assert [r[0] for r in e.primal][0] == "v1"  # v1 is x2: the fixed ones are constants


def test_dtypes_are_kept():
    e = fxad.explain(lambda x: fnp.sin(x) * 2)(np.float32(0.5))
    for _, _, _, v in e.primal + e.forward + e.reverse:
        assert np.asarray(v).dtype == np.float32
    assert "f32" in str(e.closed)


# ---------------------------------------------------------------------------
# Arrays, several outputs, cotangent seeds


def test_arrays_shown_by_shape_and_a_few_values():
    x = np.linspace(0.1, 1.0, 6)
    e = fxad.explain(lambda x: fnp.sum(fnp.sin(x) * x))(x)
    prim, rev = rows_of(e.primal), rows_of(e.reverse)
    np.testing.assert_allclose(prim["v2"][1], np.sin(x), rtol=1e-15)
    np.testing.assert_allclose(rev["v1_bar"][1], np.sin(x) + x * np.cos(x), rtol=1e-15)
    np.testing.assert_allclose(e.grad[0], fxad.grad(lambda x: fnp.sum(fnp.sin(x) * x))(x))
    text = str(e)
    assert format_value(np.sin(x)) in text
    assert format_value(np.arange(6.0) / 3) == "f64[6] [0, 0.333333, 0.666667, 1, ...]"
    assert format_value(np.arange(4, dtype=np.int32)) == "i32[4] [0, 1, 2, 3]"
    assert format_value(np.float64(0.1)) == "0.1" and format_value(True) == "True"
    assert "df/dx1 . x1_dot = v4_dot" in text  # the directional derivative along ones
    np.testing.assert_allclose(e.tangent[0], np.sum(np.sin(x) + x * np.cos(x)), rtol=1e-14)


def test_vector_output_and_cotangent_seed():
    def h(x, y):
        return x * y, fnp.sum(x) + y

    x, y = np.array([1.0, 2.0, 3.0]), 0.5
    ct = (np.array([1.0, -1.0, 2.0]), 3.0)
    e = fxad.explain(h, ct=ct, wrt=(np.ones(3), 0.0))(x, y)
    _, vjp = fxad.vjp(h, x, y)
    want = vjp(ct)
    np.testing.assert_array_equal(e.grad[0], want[0])
    assert e.grad[1] == want[1]
    _, t = fxad.jvp(h, (x, y), (np.ones(3), 0.0))
    np.testing.assert_array_equal(e.tangent[0], t[0])
    assert e.tangent[1] == t[1]
    assert "seeded with v3_bar = f64[3] [1, -1, 2], v5_bar = 3.0" in str(e)
    assert "ct . dh/dx1" in str(e)


def test_constants_are_rows():
    c = np.array([1.0, 2.0, 3.0])
    e = fxad.explain(lambda x: fnp.sum(c * x))(np.ones(3))
    assert e.primal[0][0] == "c1" and e.primal[0][2] == "constant"
    np.testing.assert_array_equal(e.primal[0][3], c)
    assert [r[0] for r in e.forward] == ["v1_dot", "v2_dot", "v3_dot"]
    assert "c1 is its constant, v1 is its input" in str(e)
    np.testing.assert_array_equal(e.grad[0], c)


# ---------------------------------------------------------------------------
# Calls, branches, loops: one row per equation, bodies listed


def nested(x, y):
    z = fxad.jit(lambda a: fnp.sin(a) * y)(x)
    w = lax.cond(x > 0, lambda a: a * 2.0, lambda a: -a, z)

    def body(c, xs):
        return c * xs, c + xs

    c, ys = lax.scan(body, w, fnp.arange(3.0))
    return c + ys.sum()


@pytest.mark.parametrize("at", [(1.0, 2.0), (-0.5, 0.3)])
def test_control_flow(at):
    e = fxad.explain(nested)(*at)
    jaxpr = e.closed.jaxpr
    n_out = sum(len(q.outvars) for q in jaxpr.eqns)
    consts = len(jaxpr.constvars)
    assert len(e.primal) == consts + 2 + n_out
    assert len(e.forward) == len(e.reverse) == 2 + n_out
    assert e.grad == tuple(fxad.grad(nested, argnums=(0, 1))(*at))
    _, t = fxad.jvp(nested, at, (1.0, 0.0))
    assert e.tangent == (t,)
    exprs = [r[2] for r in e.primal]
    assert any(x.startswith("pjit{1}(") for x in exprs)
    assert any(x.startswith("cond{2,3}(") for x in exprs)
    assert any(x.startswith("scan{4}(") and x.endswith("[1]") for x in exprs)
    secs = e.sections()
    assert list(secs)[-2:] == ["bodies", "summary"]
    assert secs["bodies"].startswith("Body {1}, from the jaxpr:\n{ lambda ; ")
    assert "from the JVP rule of the forward trace" in secs["bodies"]
    assert "from linearize and the transpose rule of the reverse trace" in secs["bodies"]
    for i, b in enumerate(e.bodies, 1):
        assert f"Body {{{i}}}, from " in secs["bodies"] and str(b) in secs["bodies"]


def test_while_has_forward_but_no_reverse_trace():
    def w(x):
        return lax.while_loop(lambda s: s[0] < 3, lambda s: (s[0] + 1, s[1] * x), (0, x))[1]

    e = fxad.explain(w)(1.5)
    assert any(r[2].startswith("while{1,2}(") for r in e.primal)
    assert float(e.value[0]) == 1.5**4
    _, t = fxad.jvp(w, (1.5,), (1.0,))
    assert e.tangent == (t,) and float(t) == 4 * 1.5**3
    assert e.grad is None and e.reverse == []
    with pytest.raises(ValueError) as info:
        fxad.grad(w)(1.5)
    assert e.reverse_error == str(info.value)
    text = str(e)
    assert "Reverse (adjoint) trace: none, the linear jaxpr cannot be transposed." in text
    assert "v1_bar" not in text and "dw/dx1(1.5) = v3_dot = 13.5" in text
    assert "No reverse trace" in e.to_markdown() and "No reverse trace" in e.to_html()
    with pytest.raises(ValueError, match="no reverse trace"):
        fxad.viz.to_mermaid(w, 1.5, values="reverse")
    assert "<br>v3_dot = 13.5" in fxad.viz.to_mermaid(w, 1.5, values="forward")


def test_integer_rows_have_zero_tangents():
    e = fxad.explain(lambda x: lax.cond(x > 0, lambda a: a * a, lambda a: a, x))(3.0)
    fwd, rev = rows_of(e.forward), rows_of(e.reverse)
    assert fwd["v2_dot"] == ("0", 0.0)  # gt: a bool
    assert rev["v2_bar"] == ("0", 0.0)
    assert e.grad == (6.0,)


# ---------------------------------------------------------------------------
# Markdown, HTML, Jupyter


class _Tables(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tables, self.rows, self.stack = 0, 0, []

    def handle_starttag(self, tag, attrs):
        self.stack.append(tag)
        self.tables += tag == "table"
        self.rows += tag == "tr"

    def handle_endtag(self, tag):
        assert self.stack.pop() == tag, tag


def test_markdown_and_html_hold_the_same_rows():
    e = fxad.explain(nested)(1.0, 2.0)
    md, page = e.to_markdown(), e.to_html()
    assert e._repr_html_() == page
    for name, _, expr, value in e.primal + e.forward + e.reverse:
        cell = f"{name} = {expr}"
        assert f"`{cell}`".replace("|", "\\|") in md
        assert f"<code>{html.escape(cell)}</code>" in page
        assert format_value(value) in md and html.escape(format_value(value)) in page
    p = _Tables()
    p.feed(page)
    p.close()
    assert p.stack == [] and p.tables == 3
    assert p.rows == 3 + len(e.primal) + len(e.forward) + len(e.reverse)
    assert md.count("```text") == 2 + len(e.bodies)
    assert "<lambda>" not in page and "&lt;lambda&gt;" in page  # escaped


# ---------------------------------------------------------------------------
# Bad input: a clear error, nothing left behind


@pytest.mark.parametrize("kwargs, args, error, message", [
    ({"wrt": 5}, (1.0, 2.0), ValueError, "wrt=5 is not one of argnums=(0, 1)"),
    ({"wrt": "x9"}, (1.0, 2.0), ValueError, "wrt='x9' names no differentiated input"),
    ({"wrt": 1.5}, (1.0, 2.0), TypeError, "must be an argument index"),
    ({"wrt": (1.0, np.ones(2))}, (1.0, 2.0), ValueError, "the tangent for x2 has shape (2,)"),
    ({"argnums": 3}, (1.0, 2.0), ValueError, "argnums=3 must hold indices"),
    ({"argnums": ()}, (1.0, 2.0), ValueError, "argnums is empty"),
    ({}, (1, 2.0), TypeError, "argument x1 has dtype int64"),
    ({}, ("a", 2.0), TypeError, "argument x1 of type str is not a scalar or an array"),
    ({"ct": np.ones(2)}, (1.0, 2.0), ValueError, "a cotangent has shape (2,)"),
    ({"inputs": ["a"]}, (1.0, 2.0), ValueError, "must be 2 distinct names"),
])
def test_bad_arguments(kwargs, args, error, message):
    with pytest.raises(error) as info:
        fxad.explain(lambda a, b: a * b, **kwargs)(*args)
    assert message in str(info.value)
    assert fxad.core.trace_state.stack == []
    assert float(fxad.explain(lambda a, b: a * b)(3.0, 4.0).grad[0]) == 4.0


def test_not_a_function():
    with pytest.raises(TypeError, match="expected a function, got int"):
        fxad.explain(3)


def test_docs_page_runs():
    result = doctest.testfile(str(ROOT / "docs" / "explain.md"), module_relative=False,
                              optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 8 and result.failed == 0
