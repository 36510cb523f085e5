"""The built site in a real browser (headless Chromium, driven by playwright):
the tutorial's trace graph renders as an SVG with one node per equation of
fxad's trace, and the site's search finds ``hessian``.

Needs a built site (``mkdocs build --strict`` writes ``site/``), the
``browser`` extra and Chromium (Debian's ``chromium`` package; ``.ci/run``
installs it when missing).  Without the browser, the tests that need it are
skipped saying so, and ``test_built_html_has_the_graph_and_the_index``
still checks the HTML the build produced.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import threading
from pathlib import Path

import pytest

import fxad
from fxad._tutorial import f

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(os.environ.get("FXAD_SITE_DIR", ROOT / "site"))

pytestmark = pytest.mark.browser

# Generous for a loaded 2-core machine (ms); a page that never renders fails.
PAGE_TIMEOUT = 30_000


def _site():
    if not (SITE / "tutorial" / "index.html").exists():
        pytest.skip(f"no built site in {SITE}: run `mkdocs build --strict` first "
                    "(pip install -e '.[docs]')")
    return SITE


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("Chromium is not installed (apt-get install -y chromium); "
                "the built HTML is still checked by test_built_html_has_the_graph_and_the_index")


def _equations():
    return fxad.make_jaxpr(f)(1.5, 0.5).jaxpr.eqns


def test_built_html_has_the_graph_and_the_index():
    site = _site()
    page = (site / "tutorial" / "index.html").read_text()
    graphs = re.findall(r'<pre class="fxad-graph"[^>]*>(.*?)</pre>', page, re.S)
    assert len(graphs) == 1
    # One node per equation in the Mermaid text, numbered after the inputs.
    n_in = len(fxad.make_jaxpr(f)(1.5, 0.5).jaxpr.invars)
    numbered = sorted(int(k) for k in re.findall(r"\bv(\d+)\[", graphs[0]))
    assert numbered == list(range(1, n_in + len(_equations()) + 1))
    # The graph is drawn offline: the vendored Mermaid and the renderer load.
    assert "assets/javascripts/mermaid-11.17.2.min.js" in page
    assert "assets/javascripts/graphs.js" in page
    assert (site / "assets" / "javascripts" / "mermaid-11.17.2.min.js").stat().st_size > 1e6
    assert "unpkg.com" not in page and "cdn.jsdelivr" not in page
    index = json.loads((site / "search" / "search_index.json").read_text())
    hits = [d["location"] for d in index["docs"] if "hessian" in d["text"].lower()]
    assert any(h.startswith("transformations/jacobians/") for h in hits), hits[:5]


@pytest.fixture(scope="module")
def server():
    site = _site()
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def page(server):
    executable = _chromium()
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install -e '.[browser]')")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, headless=True,
                                    args=["--no-sandbox"])
        try:
            pg = browser.new_page()
            errors = []
            pg.on("pageerror", lambda e: errors.append(str(e)))
            pg.errors = errors
            # No request may leave the machine: the site works offline.
            outside = []
            pg.route(re.compile(r"^(?!http://127\.0\.0\.1).*"),
                     lambda route: (outside.append(route.request.url), route.abort()))
            pg.outside = outside
            yield pg
        finally:
            browser.close()


def test_tutorial_trace_graph_renders_one_node_per_equation(page, server):
    page.goto(server + "/tutorial/", timeout=PAGE_TIMEOUT)
    page.wait_for_selector("div.fxad-graph-rendered svg", timeout=PAGE_TIMEOUT)
    assert page.evaluate(
        "document.querySelectorAll('pre.fxad-graph[data-render-error]').length") == 0
    # The picture replaces the Mermaid text it was drawn from.
    assert page.evaluate(
        "getComputedStyle(document.querySelector('pre.fxad-graph')).display") == "none"
    labels = page.evaluate(
        "Array.from(document.querySelectorAll('div.fxad-graph-rendered svg g.node'))"
        ".map(n => n.textContent.trim())")
    eqns = _equations()
    n_in = 2
    # Nodes v3..v7 are the equations (v1, v2 the inputs' values; x1, x2, f ends).
    eq_nodes = [s for s in labels if (m := re.match(r"v(\d+) = ", s)) and int(m.group(1)) > n_in]
    assert len(eq_nodes) == len(eqns) == 5, labels
    assert sorted(int(re.match(r"v(\d+)", s).group(1)) for s in eq_nodes) == [3, 4, 5, 6, 7]
    for want in ("x1", "x2", "f"):
        assert want in labels, labels
    edges = page.evaluate(
        "document.querySelectorAll('div.fxad-graph-rendered svg .edgePaths path').length")
    source = page.evaluate(
        "document.querySelector('div.fxad-graph-rendered').dataset.graphSource")
    assert edges == source.count("-->") > 0
    assert page.errors == [] and page.outside == []


def test_search_finds_hessian(page, server):
    page.goto(server + "/tutorial/", timeout=PAGE_TIMEOUT)
    # The search box of the header (a desktop-sized window shows it), typed into.
    page.click("input.md-search__input", timeout=PAGE_TIMEOUT)
    page.keyboard.type("hessian")
    page.wait_for_selector(".md-search-result__item", timeout=PAGE_TIMEOUT)
    results = page.evaluate(
        "Array.from(document.querySelectorAll('.md-search-result__item a'))"
        ".map(a => [a.getAttribute('href'), a.textContent])")
    assert any("hessian" in text.lower() for _, text in results), results[:5]
    assert any("transformations/jacobians/" in href for href, _ in results), results[:5]
    assert page.errors == [] and page.outside == []
