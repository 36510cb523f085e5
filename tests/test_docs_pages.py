"""Every page of the documentation site: its code blocks run, in page order,
in one namespace per page (as the build runs them), and a ``text`` block
right under a plain ``python`` block is exactly what that block printed.

The build (``mkdocs build --strict``, run by ``.ci/run``) executes the
``exec="on"`` blocks too and puts their output on the page; this test also
runs the blocks the build only shows, so no example can rot unnoticed in a
plain test run.  ``>>>`` blocks run as doctests, ``bash`` blocks are checked
against the project (the extras they install exist, the ``python -m fxad``
commands succeed).
"""

from __future__ import annotations

import contextlib
import doctest
import io
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from fxad import core

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS / "_build"))

PAGES = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")
               if "_build" not in p.parts)
# Pages whose blocks a test of their own runs, with the same rules and more
# (claims re-checked on the namespace they build); not run twice.
OWN_TESTS = {"control_flow.md": "tests/test_docs_control_flow.py",
             "jit.md": "tests/test_jit_semantics.py",
             "optimize.md": "tests/test_scipy_optimize.py",
             "random.md": "tests/test_random.py",
             "integrate.md": "tests/test_integrate.py"}

# A fenced block: its language, its attributes (markdown-exec's options) and body.
_FENCE = re.compile(r"^```(\w*)([^\n]*)\n(.*?)^```[ \t]*$", re.S | re.M)


def _blocks(text):
    """``(lang, attrs, body, end)`` for each fenced block, in order."""
    return [(m.group(1), m.group(2).strip(), m.group(3), m.end()) for m in _FENCE.finditer(text)]


def _shown_output(text, blocks, i):
    """The ``text`` block right under block ``i`` (blank lines only between)."""
    if i + 1 >= len(blocks) or blocks[i + 1][0] != "text":
        return None
    between = text[blocks[i][3]:text.index("```text", blocks[i][3])]
    return blocks[i + 1][2] if not between.strip() else None


def _run_page(page):
    text = (DOCS / page).read_text()
    blocks = _blocks(text)
    ns: dict = {"__name__": "docs_" + re.sub(r"\W", "_", page)}
    ran = 0
    for i, (lang, attrs, body, _) in enumerate(blocks):
        if lang not in ("python", "pycon"):
            continue
        where = f"docs/{page} code block {i}"
        if body.lstrip().startswith(">>>"):
            test = doctest.DocTestParser().get_doctest(body, ns, where, page, 0)
            runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
            with contextlib.redirect_stdout(io.StringIO()) as report:
                runner.run(test, clear_globs=False)
            assert runner.failures == 0, f"{where} failed:\n{report.getvalue()}"
            ns.update(test.globs)
        else:
            out = io.StringIO()
            try:
                with contextlib.redirect_stdout(out):
                    exec(compile(body, where, "exec"), ns)
            except Exception as e:  # noqa: BLE001 - re-raised with the block named
                raise AssertionError(f"{where} failed: {e!r}\n{body}") from e
            shown = _shown_output(text, blocks, i)
            if shown is not None and "exec=" not in attrs:
                assert out.getvalue() == shown, (where, out.getvalue(), shown)
        # An example that left a transformation running would break the next.
        assert core.trace_state.stack == [], where
        ran += 1
    return ran


@pytest.mark.parametrize("page", [p for p in PAGES if p not in OWN_TESTS and p not in (
    # Generated tables, and the page on building the site (bash only).
    "coverage.md", "primitives.md", "contributing.md")])
def test_page_code_blocks_run(page):
    text = (DOCS / page).read_text()
    if "```python" not in text:
        pytest.fail(f"docs/{page} has no code: every page shows fxad running")
    assert _run_page(page) >= 1


def test_new_pages_produce_their_output_at_build_time():
    """The transformation pages, sharp bits and internals show outputs the
    build computes (markdown-exec), not pasted text that could go stale."""
    for page in [p for p in PAGES if p.startswith("transformations/")] + [
            "getting_started.md", "sharp_bits.md", "internals.md", "from_jax.md",
            "from_autograd.md", "index.md"]:
        blocks = _blocks((DOCS / page).read_text())
        py = [b for b in blocks if b[0] == "python"]
        assert py and all('exec="on"' in b[1] for b in py), page
        assert not [b for b in blocks if b[0] == "text"], page


def test_pages_with_their_own_tests_are_run_there():
    for page, test in OWN_TESTS.items():
        assert f"docs/{page}" in (ROOT / test).read_text() or page in (ROOT / test).read_text()


def _extras():
    # The keys of [project.optional-dependencies] (tomllib is 3.11+; fxad runs on 3.10).
    text = (ROOT / "pyproject.toml").read_text()
    section = text.split("[project.optional-dependencies]\n", 1)[1].split("\n[", 1)[0]
    return set(re.findall(r"^(\w[\w-]*) = \[", section, re.M))


def test_bash_blocks_name_real_extras_and_commands():
    extras, commands = _extras(), []
    for page in PAGES:
        for lang, _, body, _ in _blocks((DOCS / page).read_text()):
            if lang != "bash":
                continue
            for line in body.splitlines():
                cmd = line.split("#", 1)[0].strip()
                for part in filter(None, (c.strip() for c in cmd.split("&&"))):
                    words = shlex.split(part)
                    if words[:3] == ["pip", "install", "-e"]:
                        spec = words[3]
                        if "[" in spec:
                            assert set(spec[spec.index("[") + 1:-1].split(",")) <= extras, part
                    elif words[:3] == ["python", "-m", "fxad"] or words[:3] == [
                            "python", "-m", "fxad._tutorial"]:
                        commands.append(words)
                    elif words[0] == "fxad":
                        # The console script is `python -m fxad`; what a
                        # pipe feeds (Graphviz's dot) is not fxad's to run.
                        words = shlex.split(part.split("|", 1)[0])
                        commands.append(["python", "-m", "fxad", *words[1:]])
                    else:
                        # The remaining commands are the ones .ci/run runs.
                        assert part in ("mkdocs build --strict", "python -m pytest -q"), part
    assert commands
    for words in commands:
        if "--write-docs" in words:
            continue  # rewrites docs/tutorial.md; test_tutorial.py checks it is current
        proc = subprocess.run([sys.executable, *words[1:]], cwd=ROOT, capture_output=True,
                              text=True, check=False)
        assert proc.returncode == 0, (words, proc.stderr)
        assert proc.stdout.strip(), words
