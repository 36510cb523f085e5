"""Build-time helpers of the documentation site (imported by docs/_build/hooks.py,
by the pages' executed code blocks and by tests/test_docs_*.py).

One definition of "the public API" serves the API reference pages and the
test that fails on a public name without a docstring, so the two cannot
disagree.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import types

# The public modules, in the order the API reference lists them.  Each has
# an ``__all__`` (or, for fxad.numpy, every non-underscore name).
MODULES = [
    "fxad",
    "fxad.viz",
    "fxad.random",
    "fxad.numpy",
    "fxad.numpy.linalg",
    "fxad.numpy.fft",
    "fxad.lax",
    "fxad.lax.linalg",
    "fxad.lax.fft",
    "fxad.tree_util",
    "fxad.custom_derivatives",
    "fxad.test_util",
    "fxad.errors",
    "fxad.scipy",
    "fxad.scipy.special",
    "fxad.scipy.linalg",
    "fxad.scipy.signal",
    "fxad.scipy.integrate",
    "fxad.scipy.stats",
]


def _stats_modules():
    import fxad.scipy.stats as stats

    return sorted("fxad.scipy.stats." + m.name for m in pkgutil.iter_modules(stats.__path__)
                  if not m.name.startswith("_"))


def modules() -> list[str]:
    return MODULES + _stats_modules()


def public_names(modname: str) -> tuple[list[str], list[str], list[str]]:
    """``(documented, from_numpy, objects)`` of a public module.

    ``documented``: the functions and classes fxad defines (each needs a
    docstring and gets an entry in the reference); ``from_numpy``: names
    re-exported from NumPy unchanged (dtypes, constants, creation helpers),
    listed with a pointer to NumPy; ``objects``: the other values a module
    exports (its primitives, configuration, constants), listed with their
    type.  Submodules are left out: they have pages of their own.
    """
    import numpy as np

    mod = importlib.import_module(modname)
    names = getattr(mod, "__all__", None)
    if names is None:
        names = [n for n in vars(mod) if not n.startswith("_")]
    documented, from_numpy, objects = [], [], []
    for n in names:
        obj = getattr(mod, n)
        if isinstance(obj, types.ModuleType):
            continue
        if inspect.isroutine(obj) or inspect.isclass(obj) or type(obj).__name__ == "ufunc":
            home = getattr(obj, "__module__", None) or ""
            (documented if home.startswith("fxad") else from_numpy).append(n)
        elif n in vars(np) and (getattr(np, n) is obj or (
                isinstance(obj, float) and obj == getattr(np, n))):
            from_numpy.append(n)
        elif type(obj).__module__.startswith("fxad") and callable(obj):
            documented.append(n)  # a callable instance of an fxad class
        else:
            objects.append(n)
    return sorted(documented), sorted(from_numpy), sorted(objects)


def missing_docstrings() -> list[str]:
    """Every public name (and module) of fxad without a docstring."""
    missing = []
    for modname in modules():
        mod = importlib.import_module(modname)
        if not (mod.__doc__ or "").strip():
            missing.append(modname)
        for n in public_names(modname)[0]:
            obj = getattr(mod, n)
            doc = obj.__doc__ if inspect.isclass(obj) else inspect.getdoc(obj)
            if not (doc or "").strip():
                missing.append(f"{modname}.{n}")
    return missing


def api_page_path(modname: str) -> str:
    return f"api/{modname}.md"


_SECTIONS = ("Args:", "Arguments:", "Returns:", "Raises:", "Example:", "Examples:", "Note:",
             "Notes:", "Yields:", "Attributes:")


def docstring_markdown(doc: str) -> str:
    """A Google-style docstring as Markdown: section titles in bold, the
    entries of Args/Returns/Raises/Attributes as list items, ``>>>`` examples
    as Python code blocks (the doctests run them), everything else as written.
    Text that could be read as HTML or a link stays literal."""
    import html

    def literal(t):
        # Outside code spans only: inside them Markdown shows text as written.
        parts = re.split(r"((`+).+?\2)", t)
        out = []
        for k in range(0, len(parts), 3):
            out.append(html.escape(parts[k], quote=False).replace("[", "\\["))
            if k + 1 < len(parts):
                out.append(parts[k + 1])
        return "".join(out)

    out, code = [], None
    section, item_indent = None, None
    for line in inspect.cleandoc(doc).splitlines():
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if code is not None:
            if stripped:
                code.append(stripped)
                continue
            out += ["```pycon", *code, "```", ""]
            code = None
            continue
        if stripped.startswith(">>>"):
            code = [stripped]
            if out and out[-1] != "":
                out.append("")
            continue
        if stripped in _SECTIONS and indent == 0:
            section, item_indent = stripped[:-1], None
            out += ["", f"**{section}**", ""]
            continue
        if not stripped:
            out.append("")
            continue
        if indent == 0:
            section = None
        if section in _LISTED and indent > 0:
            if item_indent is None:
                item_indent = indent
            if indent == item_indent and _is_item(stripped):
                out.append("- " + literal(stripped))
                continue
            out.append("  " + literal(stripped))
            continue
        out.append(literal(stripped))
    if code is not None:
        out += ["```pycon", *code, "```"]
    return "\n".join(out).strip() + "\n"


_LISTED = ("Args", "Arguments", "Raises", "Attributes")


def _is_item(line: str) -> bool:
    # "name: text" or "name (type): text"
    head = line.split(":", 1)[0]
    return ":" in line and 0 < len(head) < 40 and " " not in head.split(" (", 1)[0].strip()


def _signature(obj) -> str:
    try:
        return str(inspect.signature(obj))
    except (TypeError, ValueError):
        return "(...)"


def api_entry(modname: str, name: str) -> str:
    obj = getattr(importlib.import_module(modname), name)
    kind = "class" if inspect.isclass(obj) else "function" if callable(obj) else "object"
    head = f"## `{name}`"
    # The signature as inline code: the site's code blocks are all run, and a
    # signature is not a program.
    sig = f"`{modname}.{name}{_signature(obj) if callable(obj) else ''}`"
    doc = obj.__doc__ if inspect.isclass(obj) else inspect.getdoc(obj)
    lines = [head, "", f"*{kind}*", "", sig, "", docstring_markdown(doc or "")]
    if inspect.isclass(obj):
        for m, member in vars(obj).items():
            if m.startswith("_") or not callable(member) or not getattr(member, "__doc__", None):
                continue
            lines += [f"### `{name}.{m}`", "", docstring_markdown(member.__doc__), ""]
    return "\n".join(lines)


def api_page(modname: str) -> str:
    """Markdown of one API reference page, generated from the docstrings."""
    mod = importlib.import_module(modname)
    documented, from_numpy, objects = public_names(modname)
    lines = [f"# `{modname}`", "", docstring_markdown(mod.__doc__ or ""), ""]
    lines += [api_entry(modname, n) for n in documented]
    if from_numpy:
        lines += ["## Re-exported from NumPy", "",
                  "These names are NumPy's own objects (dtypes, constants and helpers that "
                  "never see a traced value); see NumPy's documentation.", "",
                  "| name | what it is |", "|---|---|"]
        for n in from_numpy:
            obj = getattr(mod, n)
            kind = "class" if inspect.isclass(obj) else type(obj).__name__
            lines.append(f"| `{n}` | `numpy.{n}` ({kind}) |")
        lines.append("")
    if objects:
        lines += ["## Other public objects", "",
                  "Values the module exports: primitives (their rules are listed in "
                  "[Primitives](../primitives.md)), configuration and constants.", "",
                  "| name | type | value |", "|---|---|---|"]
        for n in objects:
            obj = getattr(mod, n)
            lines.append(f"| `{n}` | `{type(obj).__name__}` | {_short(obj)} |")
        lines.append("")
    return "\n".join(lines)


def _short(obj) -> str:
    from fxad import core

    if isinstance(obj, core.Primitive):
        return f"the `{obj.name}` primitive"
    text = repr(obj)
    if len(text) > 60:
        text = text[:57] + "..."
    return "`" + text.replace("|", "\\|").replace("`", "'") + "`"


def api_index() -> str:
    lines = ["# API reference", "",
             "Generated from the docstrings at build time: every public name of every "
             "public module (the build and `tests/test_docs_api.py` fail on a public "
             "name without a docstring).", "", "| module | names |", "|---|---|"]
    for m in modules():
        lines.append(f"| [`{m}`]({m}.md) | {sum(map(len, public_names(m)))} |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------
# The trace graph of a function, for the pages.


def graph_html(fun, *args, label: str = "trace graph") -> str:
    """The ``<pre class="fxad-graph">`` element docs/assets/javascripts/graphs.js
    renders with Mermaid in the browser (the Mermaid text stays readable
    without JavaScript)."""
    import html

    from fxad import viz

    text = viz.to_mermaid(fun, *args)
    return (f'<pre class="fxad-graph" aria-label="{html.escape(label)}">'
            f"{html.escape(text)}</pre>")

