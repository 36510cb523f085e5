"""The ``fxad`` command line: ``fxad trace``, ``fxad jaxpr``, the worked example.

The expression is user text: hostile strings must be refused with a message
naming the offending token and its column, exit status 2, and nothing run.
What ``fxad trace`` prints must be exactly what ``fxad.explain`` prints.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import fxad
import fxad.numpy as fnp
from fxad import _cli, _tutorial, viz

ROOT = Path(__file__).resolve().parent.parent
SEED_EXPR = "x1*x2 + exp(x1*x2) - sin(x2)"


def f(x1, x2):
    return x1 * x2 + fnp.exp(x1 * x2) - fnp.sin(x2)


def cli(capsys, *argv):
    code = _cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ---------------------------------------------------------------------------
# fxad trace prints what fxad.explain prints


def test_trace_prints_exactly_what_explain_prints(capsys):
    code, out, err = cli(capsys, "trace", SEED_EXPR, "--at", "x1=1.5", "x2=0.5")
    assert code == 0 and err == ""
    e = fxad.explain(f, description=f"f(x1, x2) = {SEED_EXPR}")(1.5, 0.5)
    assert out == str(e) + "\n"
    # and the numbers are the derivatives
    g1, g2 = fxad.grad(f, argnums=(0, 1))(1.5, 0.5)
    assert f"df/dx1(1.5, 0.5) = v1_bar = {float(g1)!r}" in out
    assert f"df/dx2(1.5, 0.5) = v2_bar = {float(g2)!r}" in out


def test_trace_wrt_and_the_other_formats(capsys):
    at = ("--at", "x1=1.5", "x2=0.5")
    e = fxad.explain(f, wrt=1, description=f"f(x1, x2) = {SEED_EXPR}")(1.5, 0.5)
    assert cli(capsys, "trace", SEED_EXPR, *at, "--wrt", "x2")[1] == str(e) + "\n"
    assert "Forward (tangent) trace for d/dx2" in str(e)
    assert cli(capsys, "trace", SEED_EXPR, *at, "--markdown")[1] == \
        fxad.explain(f)(1.5, 0.5).to_markdown() + "\n"
    assert cli(capsys, "trace", SEED_EXPR, *at, "--html")[1] == \
        fxad.explain(f)(1.5, 0.5).to_html() + "\n"
    assert cli(capsys, "trace", SEED_EXPR, *at, "--mermaid")[1] == \
        viz.to_mermaid(f, 1.5, 0.5) + "\n"
    assert cli(capsys, "trace", SEED_EXPR, *at, "--dot", "--values", "reverse")[1] == \
        viz.to_dot(f, 1.5, 0.5, values="reverse") + "\n"


def test_trace_of_arrays_and_names(capsys):
    code, out, _ = cli(capsys, "trace", "sum(sin(x) * x) + 2*y", "--at", "x=[0.5, 1.0, 2.0]",
                       "y=3")

    def g(x, y):
        return fnp.sum(fnp.sin(x) * x) + 2.0 * y

    x = np.array([0.5, 1.0, 2.0])
    e = fxad.explain(g, inputs=["x", "y"], name="f",
                     description="f(x, y) = sum(sin(x) * x) + 2*y")(x, 3.0)
    assert code == 0 and out == str(e) + "\n"
    np.testing.assert_allclose(e.grad[0], np.sin(x) + x * np.cos(x), rtol=1e-15)
    assert float(e.grad[1]) == 2.0
    assert "f64[3] [0.5, 1, 2]" in out


def test_jaxpr_subcommand(capsys):
    code, out, _ = cli(capsys, "jaxpr", SEED_EXPR, "--at", "x1=1.5", "x2=0.5")
    assert code == 0
    assert out == str(fxad.make_jaxpr(f)(1.5, 0.5)) + "\n"


def test_constants_and_calls_with_an_axis(capsys):
    code, out, _ = cli(capsys, "jaxpr", "-x**2 / 2 + sum(cumsum(x, 0))", "--at", "x=[1, 2]")
    assert code == 0
    expect = fxad.make_jaxpr(lambda x: -x**2.0 / 2.0 + fnp.sum(fnp.cumsum(x, 0)))(
        np.array([1.0, 2.0]))
    assert out == str(expect) + "\n"


def test_leading_minus_and_columns_of_padded_text(capsys):
    code, out, _ = cli(capsys, "trace", "--at", "x1=2", "--", "-x1**2")
    assert code == 0 and out == str(fxad.explain(lambda x1: -x1**2.0,
                                                 description="f(x1) = -x1**2")(2.0)) + "\n"
    code, _, err = cli(capsys, "trace", "   x1.real", "--at", "x1=2")
    assert code == 2 and "'x1.real' at column 4" in err


def test_without_subcommand_it_is_the_worked_example(capsys):
    assert cli(capsys)[1] == _tutorial.render() + "\n"
    assert cli(capsys, "--at", "-0.3", "2.0")[1] == _tutorial.render(-0.3, 2.0) + "\n"


# ---------------------------------------------------------------------------
# Hostile input: a clear message, exit 2, nothing evaluated

HOSTILE = [
    ("__import__('os').system('touch PWNED')", "calling \"__import__('os').system\" at column 1"),
    ("__import__('os')", "unknown function '__import__' at column 1"),
    ("open('PWNED', 'w')", "unknown function 'open' at column 1"),
    ("x1.__class__", "attribute access 'x1.__class__' at column 1"),
    ("sin.__globals__", "attribute access"),
    ("fxad.numpy.sin(x1)", "calling 'fxad.numpy.sin' at column 1"),
    ("(lambda: 1)()", "calling 'lambda: 1' at column 2"),
    ("lambda x: x", "a lambda 'lambda x: x' at column 1"),
    ("[x for x in [x1, x2]]", "a comprehension"),
    ("sum(x for x in [x1])", "a generator expression"),
    ("9**9**9", "the exponent '9**9' at column 4"),
    ("x1 ** 100000", "the exponent '100000' at column 7"),
    ("2 ** (10 ** 10)", "the exponent"),
    ("x3 + x1", "unknown name 'x3' at column 1"),
    ("x1 + (x2", "syntax error at column 6"),
    ("x1 + x2)", "syntax error at column 8"),
    ("x1 if x2 else 0", "a conditional"),
    ("x1 < x2", "a comparison"),
    ("x1[0]", "indexing 'x1[0]' at column 1"),
    ("'x1'", "a string"),
    ("x1 @ x2", "the operator '@' at column 4"),
    ("x1 // x2", "the operator '//' at column 4"),
    ("sin(x1, out=x2)", "keyword argument 'x2' at column 13"),
    ("(x1 := 3)", "an assignment (:=) 'x1 := 3' at column 2"),
    ("x1; x2", "syntax error at column 3"),
    ("breakpoint()", "unknown function 'breakpoint'"),
    ("x1\nx2", "control character"),
    ("(" * 300 + "x1" + ")" * 300, "too many nested parentheses"),
    ("2*" + "-" * 100 + "x1", "nested too deeply"),
    ("x1 + " * 600 + "x1", "characters; at most"),
    ("", "empty"),
]


@pytest.mark.parametrize("text, message", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_expressions_are_refused_unevaluated(text, message, capsys, monkeypatch,
                                                     tmp_path):
    monkeypatch.chdir(tmp_path)
    ran = []
    monkeypatch.setattr(_cli, "evaluator", lambda *a: ran.append(a))
    monkeypatch.setattr(_cli, "explain", lambda *a, **k: ran.append(a))
    monkeypatch.setattr(_cli, "make_jaxpr", lambda *a, **k: ran.append(a))
    for command in ("trace", "jaxpr"):
        code, out, err = cli(capsys, command, text, "--at", "x1=1.5", "x2=0.5")
        assert code == 2, (text, out)
        assert out == ""
        assert f"fxad {command}: error: " in err
        assert message in err, err
    assert ran == []  # refused before anything was built
    assert list(tmp_path.iterdir()) == []  # no side effect


def test_the_checks_and_not_the_monkeypatch_stop_side_effects(capsys, monkeypatch, tmp_path):
    """Without the stand-ins above, hostile text still does nothing."""
    monkeypatch.chdir(tmp_path)
    for text, _ in HOSTILE[:2]:
        assert cli(capsys, "trace", text, "--at", "x1=1")[0] == 2
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("at, message", [
    (["x1"], "write NAME=VALUE"),
    (["x1=abc"], "must be a number or a list of numbers"),
    (["x1=__import__('os')"], "must be a number or a list of numbers"),
    (["x1=1", "x1=2"], "given twice"),
    (["x1=[1, [2]]"], "differ in length"),
    (["__class__=1"], "not a variable name"),
    (["sin=1"], "a function's name"),
    (["x1=[" + "1," * 20000 + "1]"], "characters"),
])
def test_bad_at(at, message, capsys):
    code, _, err = cli(capsys, "trace", "x1", "--at", *at)
    assert code == 2
    assert message in err or (message == "characters" and "number or a list" in err), err


def test_bad_wrt_values_and_evaluation_errors(capsys):
    code, _, err = cli(capsys, "trace", "x1", "--at", "x1=1", "--wrt", "x9")
    assert code == 2 and "--wrt x9: not a variable; the variables are x1" in err
    code, _, err = cli(capsys, "trace", "x1", "--at", "x1=1", "--values", "forward")
    assert code == 2 and "--values goes with --mermaid or --dot" in err
    code, _, err = cli(capsys, "trace", "dot(x, y)", "--at", "x=[1, 2]", "y=[1, 2, 3]")
    assert code == 2 and "fxad trace: error:" in err
    code, _, err = cli(capsys, "trace", "2.0 / 0 + x1", "--at", "x1=1")
    assert code == 2 and "evaluating the expression" in err
    code, _, err = cli(capsys, "trace", "x1", "--mermaid", "--dot", "--at", "x1=1")
    assert code == 2 and "not allowed with argument" in err
    assert fxad.core.trace_state.stack == []


def test_help_lists_the_commands_and_examples(capsys):
    code, out, _ = cli(capsys, "--help")
    assert code == 0
    assert "--at X1 X2" in out and "{trace,jaxpr}" in out
    assert 'fxad trace "x1*x2 + exp(x1*x2) - sin(x2)" --at x1=1.5 x2=0.5' in out
    assert "Bad input exits with status 2" in out
    code, out, _ = cli(capsys, "trace", "--help")
    assert code == 0 and "--wrt NAME" in out and "--mermaid" in out and "examples:" in out
    for name in _cli.FUNCTIONS:
        assert callable(getattr(fnp, name))
    assert "sin" in _cli.FUNCTIONS and "open" not in _cli.FUNCTIONS


# ---------------------------------------------------------------------------
# The real entry points: python -m fxad and the console script


def test_python_m_fxad_exit_status():
    def run(*args):
        return subprocess.run([sys.executable, "-m", "fxad", *args], capture_output=True,
                              text=True, cwd=ROOT, check=False)

    ok = run("trace", "x1*x2", "--at", "x1=3", "x2=4")
    assert ok.returncode == 0
    assert re.search(r"df/dx2\(3\.0, 4\.0\) += v2_bar += 3\.0", ok.stdout)
    bad = run("trace", "__import__('os').getcwd()", "--at", "x1=3")
    assert bad.returncode == 2 and bad.stdout == ""
    assert "calling \"__import__('os').getcwd\" at column 1 is not allowed" in bad.stderr


def test_console_script_entry_point(capsys, monkeypatch):
    # tomllib is Python 3.11+; the section is two lines.
    text = (ROOT / "pyproject.toml").read_text()
    m = re.search(r'^\[project\.scripts\]\nfxad = "([\w.]+):(\w+)"$', text, re.M)
    module, attr = m.groups()
    target = getattr(__import__(module, fromlist=[attr]), attr)
    monkeypatch.setattr(sys, "argv", ["fxad", "jaxpr", "sin(x1)", "--at", "x1=0"])
    assert target() == 0
    assert capsys.readouterr().out == str(fxad.make_jaxpr(fnp.sin)(0.0)) + "\n"
    monkeypatch.setattr(sys, "argv", ["fxad", "trace", "x1.real", "--at", "x1=0"])
    assert target() == 2
    assert "usage: fxad trace" in capsys.readouterr().err
