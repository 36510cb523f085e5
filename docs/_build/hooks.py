"""MkDocs hooks of the fxad site (see mkdocs.yml).

- The API reference pages are generated from fxad at build time (one page
  per public module, mkdocstrings renders the docstrings), and the build
  fails when a public name has no docstring.
- Pages' executed code blocks (markdown-exec) can ``import fxad_site``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def _paths():
    # MkDocs restores sys.path after loading a hook, so set it on each event;
    # the checkout's fxad comes first (the same one the tests import).
    for p in (str(HERE), str(ROOT)):
        if p not in sys.path:
            sys.path.insert(0, p)


_paths()
import fxad_site  # noqa: E402 - after the path set-up


def on_config(config, **kwargs):
    _paths()
    missing = fxad_site.missing_docstrings()
    if missing:
        raise PluginError("public names without a docstring (write one): " + ", ".join(missing))
    # The reference's part of the navigation follows the module list.
    api = [{"Overview": "api/index.md"}]
    api += [{m: fxad_site.api_page_path(m)} for m in fxad_site.modules()]
    config["nav"].append({"API reference": api})
    return config


def on_files(files, config, **kwargs):
    _paths()
    files.append(File.generated(config, "api/index.md", content=fxad_site.api_index()))
    for m in fxad_site.modules():
        files.append(File.generated(config, fxad_site.api_page_path(m),
                                    content=fxad_site.api_page(m)))
    return files
