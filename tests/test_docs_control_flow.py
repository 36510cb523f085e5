"""docs/control_flow.md: every code block runs, in order, in one namespace,
and a ``text`` block right under a code block is exactly what it prints."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import numpy as np

from fxad import core

DOC = Path(__file__).resolve().parent.parent / "docs" / "control_flow.md"

# A python block, optionally followed (after blank lines only) by a text block.
_BLOCK = re.compile(r"```python\n(.*?)```(?:\s*```text\n(.*?)```)?", re.S)


def _blocks():
    return _BLOCK.findall(DOC.read_text())


def test_docs_control_flow_examples_run_and_print_what_the_page_shows():
    blocks = _blocks()
    assert len(blocks) >= 12
    # Every shown output sits under a code block (else it would go unchecked).
    shown_count = sum(1 for _, shown in blocks if shown)
    assert shown_count == DOC.read_text().count("```text\n") >= 7
    ns: dict = {"__name__": "docs_control_flow"}
    for i, (code, shown) in enumerate(blocks):
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                exec(compile(code, f"{DOC.name}[block {i}]", "exec"), ns)
        except Exception as e:  # noqa: BLE001 - re-raised with the block number
            raise AssertionError(f"{DOC.name} code block {i} failed: {e!r}\n{code}") from e
        if shown:
            assert out.getvalue() == shown, (i, code, out.getvalue())
        # An example that left a transformation running would break the next.
        assert core.trace_state.stack == [], i
    # The page's headline claims, re-checked on the namespace it built.
    assert ns["fxad"].grad(ns["log1pexp"])(100.0) == 1.0
    np.testing.assert_array_equal(ns["fxad"].grad(ns["loss"])(np.array([-3.0, 0.2, 4.0])),
                                  [-1.0, 0.4, 1.0])


def test_docs_control_flow_is_linked_from_the_index():
    index = (DOC.parent / "index.md").read_text()
    assert "(control_flow.md)" in index
