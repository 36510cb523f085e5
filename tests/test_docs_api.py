"""The site's API reference: every public name of every public module has a
docstring and an entry, generated from the docstrings at build time
(docs/_build/fxad_site.py; the strict build fails on the same check)."""

from __future__ import annotations

import importlib
import re
import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "docs" / "_build"))

import fxad_site  # noqa: E402 - the site's helpers live with the site


def test_every_public_name_has_a_docstring():
    assert fxad_site.missing_docstrings() == []


def test_the_public_api_is_what_the_modules_export():
    documented, from_numpy, objects = fxad_site.public_names("fxad")
    assert {"grad", "jvp", "vjp", "hessian", "vmap", "jit", "custom_jvp"} <= set(documented)
    assert "config" in objects
    documented, from_numpy, objects = fxad_site.public_names("fxad.numpy")
    assert {"sin", "exp2", "sum", "einsum", "where", "at"} <= set(documented)
    # NumPy's own objects are listed as such, not documented as fxad's.
    assert {"float64", "pi", "newaxis", "dtype"} <= set(from_numpy)
    assert "sin" not in from_numpy and len(documented) > 250
    # Primitives are objects of the page, not functions to document.
    documented, from_numpy, objects = fxad_site.public_names("fxad.lax")
    assert "sin_p" in objects and "sin" in documented and "sin_p" not in from_numpy
    assert "| `sin_p` | `Primitive` | the `sin` primitive |" in fxad_site.api_page("fxad.lax")


def test_every_public_submodule_has_a_page():
    """A submodule of a documented module (``fxad.numpy.fft``,
    ``fxad.lax.linalg``...) is documented too."""
    mods = fxad_site.modules()
    for m in mods:
        mod = importlib.import_module(m)
        names = getattr(mod, "__all__", None) or [n for n in vars(mod) if not n.startswith("_")]
        for n in names:
            obj = getattr(mod, n)
            # Its own submodules; fxad.lax's namespace also holds the
            # interpreter modules its rules register with, documented on
            # "How fxad works", not here.
            if isinstance(obj, types.ModuleType) and obj.__name__ == f"{m}.{n}":
                assert obj.__name__ in mods, f"{m}.{n} ({obj.__name__}) has no API page"


def test_a_missing_docstring_is_reported(monkeypatch):
    import fxad.numpy as fnp

    monkeypatch.setattr(fnp.sin, "__doc__", None)
    assert "fxad.numpy.sin" in fxad_site.missing_docstrings()


def test_pages_hold_an_entry_per_name_rendered_from_the_docstring():
    page = fxad_site.api_page("fxad")
    for n in fxad_site.public_names("fxad")[0]:
        assert f"## `{n}`" in page, n
    # Google-style sections become bold titles and list items; examples code.
    grad = page[page.index("## `grad`"):page.index("## `hessian`")]
    assert "**Args**" in grad and "\n- fun: " in grad and "```pycon\n>>> " in grad
    numpy_page = fxad_site.api_page("fxad.numpy")
    assert "| `float64` | `numpy.float64` (class) |" in numpy_page
    assert "## `exp2`" in numpy_page
    index = fxad_site.api_index()
    for m in fxad_site.modules():
        assert f"[`{m}`]({m}.md)" in index


def test_reference_code_blocks_are_doctests():
    """The only code blocks of the reference are docstring examples, which
    pytest's --doctest-modules runs; signatures are inline code."""
    for m in fxad_site.modules():
        page = fxad_site.api_page(m)
        fences = re.findall(r"^```(\w*)\n(.*?)^```$", page, re.S | re.M)
        for lang, body in fences:
            assert lang == "pycon" and body.startswith(">>> "), (m, lang, body[:80])


def test_docstring_markdown_keeps_text_literal():
    md = fxad_site.docstring_markdown("""Summary with x[0] < y, ``a[0] < b``.

    Args:
        x: the input; see [this].
          continued.

    Example:
        >>> 1 + 1
        2
    """)
    assert md == ("Summary with x\\[0] &lt; y, ``a[0] < b``.\n\n\n**Args**\n\n"
                  "- x: the input; see \\[this].\n  continued.\n\n\n"
                  "**Example**\n\n```pycon\n>>> 1 + 1\n2\n```\n")


def test_the_build_fails_on_a_missing_docstring(monkeypatch):
    """The hook mkdocs.yml names aborts the build, naming the function."""
    import importlib.util

    import pytest

    mkdocs_exceptions = pytest.importorskip(
        "mkdocs.exceptions", reason="mkdocs is not installed (pip install -e '.[docs]')")
    spec = importlib.util.spec_from_file_location("fxad_site_hooks",
                                                  ROOT / "docs" / "_build" / "hooks.py")
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    import fxad.numpy as fnp

    monkeypatch.setattr(fnp.cos, "__doc__", "")
    with pytest.raises(mkdocs_exceptions.PluginError, match=r"fxad\.numpy\.cos"):
        hooks.on_config({"nav": []})
    monkeypatch.undo()
    config = hooks.on_config({"nav": []})
    assert config["nav"][-1]["API reference"][1] == {"fxad": "api/fxad.md"}


def test_ci_runs_the_strict_build_and_the_browser_test():
    ci = (ROOT / ".ci" / "run").read_text()
    steps = [line.split("#", 1)[0].strip() for line in ci.splitlines()]
    assert "mkdocs build --strict" in steps  # no --quiet: it would hide the warnings
    # The site is built before the README's test command, which then runs the
    # browser test on it.
    assert steps.index("mkdocs build --strict") < steps.index("python -m pytest -q")
    assert "'.[test,docs,browser]'" in ci
