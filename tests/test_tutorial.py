"""The tutorial's worked example: ``python -m fxad`` and ``docs/tutorial.md``.

The output blocks embedded in the tutorial must be exactly what fxad prints
today (regenerate with ``python -m fxad._tutorial --write-docs``), and every
number in the printed tables must agree with fxad's transformations and with
the analytic derivatives of f(x1, x2) = x1*x2 + exp(x1*x2) - sin(x2).
"""

from __future__ import annotations

import doctest
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import fxad
from fxad import _tutorial
from fxad._tutorial import f

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "tutorial.md"

# The constants at the default point (1.5, 0.5).
F = 2.387574478008472
DF_DX1 = 1.5585000083063374
DF_DX2 = 3.7979174630286394

NAMES = [f"v{i}" for i in range(1, 8)]


def close(a, b, rel=1e-15, scale=None):
    """``a`` and ``b`` agree to ``rel`` relative to ``scale`` (default: their size)."""
    scale = max(abs(a), abs(b)) if scale is None else scale
    return abs(a - b) <= rel * scale or a == b


def run_cli(*args):
    # ``-m`` puts the working directory first on sys.path: this checkout's fxad runs.
    proc = subprocess.run(
        [sys.executable, "-m", "fxad", *args], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def tables(text):
    """``{name: (expression, value)}`` from the printed tables' rows."""
    rows = {}
    for line in text.splitlines():
        m = re.fullmatch(r"\| (v\d(?:_dot|_bar)?) +\| \S+ +\| (.+?) +\| (\S+) +\|", line)
        if m:
            name, expr, value = m.groups()
            lhs, rhs = expr.split(" = ", 1)
            assert lhs == name
            assert name not in rows, f"{name} printed twice"
            rows[name] = (rhs, float(value))
    return rows


def summary(text):
    """``{"f": .., "df/dx1 forward": .., "df/dx1": .., "df/dx2": ..}`` from the last lines."""
    out = {}
    for line in text.splitlines():
        m = re.match(r"(f|df/dx1|df/dx2)\(.*?\) += (\w+) += (\S+)", line)
        if m:
            key = m[1] + (" forward" if m[2] == "v7_dot" else "")
            out[key] = float(m[3])
    return out


def analytic(x1, x2):
    """Primals, tangents d/dx1 and adjoints df/dv of every v_k, by hand."""
    v = {"v1": x1, "v2": x2, "v3": x1 * x2, "v4": math.sin(x2)}
    v["v5"] = math.exp(v["v3"])
    v["v6"] = v["v3"] - v["v4"]
    v["v7"] = v["v5"] + v["v6"]
    dot = {
        "v1": 1.0,
        "v2": 0.0,
        "v3": x2,
        "v4": 0.0,
        "v5": x2 * v["v5"],
        "v6": x2,
        "v7": x2 + x2 * v["v5"],
    }
    bar = {"v7": 1.0, "v6": 1.0, "v5": 1.0, "v4": -1.0, "v3": 1.0 + v["v5"]}
    bar["v2"] = bar["v3"] * x1 + bar["v4"] * math.cos(x2)
    bar["v1"] = bar["v3"] * x2
    return v, dot, bar


@pytest.fixture(scope="module")
def default_output():
    return run_cli()


# ---------------------------------------------------------------------------
# (a) the tutorial shows exactly what fxad prints today


def test_docs_blocks_are_current_in_process(capsys):
    blocks = _tutorial.doc_blocks(DOCS.read_text())
    secs = _tutorial.sections()
    assert list(blocks) == list(secs), "tutorial blocks missing or out of order"
    for key in secs:
        assert blocks[key] == secs[key], (
            f"docs/tutorial.md block '{key}' is stale; run python -m fxad._tutorial --write-docs"
        )
    assert _tutorial.main([]) == 0
    assert capsys.readouterr().out == "\n\n".join(blocks.values()) + "\n"


def test_docs_blocks_are_current_subprocess(default_output):
    blocks = _tutorial.doc_blocks(DOCS.read_text())
    assert default_output == "\n\n".join(blocks.values()) + "\n"
    assert run_cli("--at", "1.5", "0.5") == default_output


def test_write_docs_rewrites_stale_blocks(tmp_path):
    current = DOCS.read_text()
    stale = tmp_path / "tutorial.md"
    assert current.count("3.117000016612675") == 1  # v3_bar, in the reverse block only
    stale.write_text(current.replace("3.117000016612675", "3.1"))
    assert stale.read_text() != current
    assert _tutorial.write_docs(stale) is True
    assert stale.read_text() == current
    assert _tutorial.write_docs(stale) is False


def test_printed_jaxprs_are_fxads(default_output):
    assert str(fxad.make_jaxpr(f)(1.5, 0.5)) in default_output
    assert str(fxad.linearize(f, 1.5, 0.5)[1].jaxpr) in default_output


def test_help_and_bad_arguments():
    assert "--at X1 X2" in run_cli("--help")
    proc = subprocess.run(
        [sys.executable, "-m", "fxad", "--at", "1.0"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 2 and "--at" in proc.stderr


def test_tutorial_code_runs():
    """The ``>>>`` examples of docs/tutorial.md (grad, jvp, vjp, make_jaxpr)."""
    result = doctest.testfile(
        str(DOCS), module_relative=False, verbose=False, optionflags=doctest.NORMALIZE_WHITESPACE
    )
    assert result.attempted >= 10
    assert result.failed == 0


def test_tutorial_says_adjoint_is_cotangent():
    text = DOCS.read_text()
    assert "adjoint `vi_bar` is what fxad (like JAX) calls the cotangent" in text
    assert "python -m fxad._tutorial --write-docs" in text
    assert "(tutorial.md)" in (ROOT / "docs" / "index.md").read_text()


# ---------------------------------------------------------------------------
# (b) the values at (1.5, 0.5)


def test_values_at_default_point(default_output):
    s = summary(default_output)
    assert close(s["f"], F)
    assert close(s["df/dx1 forward"], DF_DX1)
    assert close(s["df/dx1"], DF_DX1)
    assert close(s["df/dx2"], DF_DX2)
    g1, g2 = fxad.grad(f, argnums=(0, 1))(1.5, 0.5)
    assert close(s["df/dx1"], float(g1)) and close(s["df/dx2"], float(g2))
    assert close(s["df/dx1 forward"], float(g1))
    rows = tables(default_output)
    assert close(rows["v7"][1], F)
    assert close(rows["v7_dot"][1], DF_DX1)
    assert close(rows["v1_bar"][1], DF_DX1)
    assert close(rows["v2_bar"][1], DF_DX2)


# ---------------------------------------------------------------------------
# (c) another point: the printed values against fxad and the formulas


def test_values_at_another_point():
    x1, x2 = -0.3, 2.0
    out = run_cli("--at", "-0.3", "2.0")
    rows, s = tables(out), summary(out)
    df1 = x2 + x2 * math.exp(x1 * x2)
    df2 = x1 + x1 * math.exp(x1 * x2) - math.cos(x2)
    # df2 cancels (-0.3 - 0.16 + 0.42): compare it relative to its terms' size.
    df2_scale = abs(x1) + abs(x1 * math.exp(x1 * x2)) + abs(math.cos(x2))
    g1, g2 = fxad.grad(f, argnums=(0, 1))(x1, x2)
    y, y_dot = fxad.jvp(f, (x1, x2), (1.0, 0.0))
    _, f_vjp = fxad.vjp(f, x1, x2)
    c1, c2 = f_vjp(1.0)
    for printed in (rows["v7_dot"][1], rows["v1_bar"][1], s["df/dx1"], s["df/dx1 forward"]):
        assert close(printed, df1)
        assert close(printed, float(g1)) and close(printed, float(y_dot))
        assert close(printed, float(c1))
    for printed in (rows["v2_bar"][1], s["df/dx2"]):
        assert close(printed, df2, scale=df2_scale)
        assert close(printed, float(g2)) and close(printed, float(c2))
    assert close(rows["v7"][1], float(y)) and close(s["f"], float(f(x1, x2)))


# ---------------------------------------------------------------------------
# (d), (e) every row against the analytic trace; the zero rows are there


@pytest.mark.parametrize("at", [(1.5, 0.5), (-0.3, 2.0), (0.7, -1.2)])
def test_every_row_is_the_analytic_one(at):
    t = _tutorial.Traces(*at)
    v, dot, bar = analytic(*at)
    assert [r[0] for r in t.primal] == NAMES
    assert [r[0] for r in t.forward] == [n + "_dot" for n in NAMES]
    assert [r[0] for r in t.reverse] == [n + "_bar" for n in reversed(NAMES)]
    for name, _, _, value in t.primal:
        assert close(value, v[name], 1e-15), name
    for name, _, _, value in t.forward:
        assert close(value, dot[name[:-4]], 1e-15), name
    for name, _, _, value in t.reverse:
        assert close(value, bar[name[:-4]], 1e-15), name
    assert t.grad == (t.reverse[-1][3], t.reverse[-2][3])


def test_forward_table_has_zero_rows(default_output):
    rows = tables(default_output)
    assert rows["v2_dot"] == ("0.0", 0.0)
    assert rows["v4_dot"] == ("v2_dot*cos(v2)", 0.0)
    assert "| v2_dot | b     | v2_dot = 0.0 " in default_output
    assert set(rows) == set(NAMES) | {n + "_dot" for n in NAMES} | {n + "_bar" for n in NAMES}


def test_expressions_are_fxads_rules_in_the_notes_notation(default_output):
    rows = tables(default_output)
    expected = {
        "v3": "v1*v2",
        "v4": "sin(v2)",
        "v5": "exp(v3)",
        "v6": "v3 - v4",
        "v7": "v5 + v6",
        "v1_dot": "1.0",
        "v2_dot": "0.0",
        "v3_dot": "v1_dot*v2 + v1*v2_dot",
        "v4_dot": "v2_dot*cos(v2)",
        "v5_dot": "v3_dot*v5",
        "v6_dot": "v3_dot - v4_dot",
        "v7_dot": "v5_dot + v6_dot",
        "v7_bar": "1.0",
        "v6_bar": "v7_bar",
        "v5_bar": "v7_bar",
        "v4_bar": "-v6_bar",
        "v3_bar": "v6_bar + v5_bar*v5",
        "v2_bar": "v4_bar*cos(v2) + v1*v3_bar",
        "v1_bar": "v3_bar*v2",
    }
    for name, expr in expected.items():
        assert rows[name][0] == expr, name


@pytest.mark.parametrize("args", [(), ("--at", "-0.3", "2.0")])
def test_expressions_evaluate_to_the_printed_values(args):
    """Each printed expression, evaluated on the printed values, gives its row."""
    out = run_cli(*args) if args else run_cli()
    rows = tables(out)
    x1, x2 = rows["v1"][1], rows["v2"][1]
    scope = {"sin": np.sin, "cos": np.cos, "exp": np.exp, "x1": x1, "x2": x2}
    scope.update({name: value for name, (_, value) in rows.items()})
    for name, (expr, value) in rows.items():
        assert close(float(eval(expr, scope)), value, 1e-15), (name, expr)


def test_no_trace_left_behind():
    _tutorial.Traces(1.5, 0.5)
    assert fxad.core.trace_state.stack == []
