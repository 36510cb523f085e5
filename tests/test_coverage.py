"""docs/coverage.md is generated from fxad itself and must be current; no
implemented function may have a wrong or failing derivative."""

from __future__ import annotations

import pytest

from fxad import _coverage


@pytest.fixture(scope="module")
def rows():
    return _coverage.rows()


def _implemented(lines):
    # Rows of implemented functions only: the set of reference functions
    # (and the totals in the headings) depends on the installed NumPy/SciPy.
    return sorted(line for line in lines if line.startswith("| `") and "| yes |" in line)


def test_coverage_doc_is_current(rows):
    generated = _implemented(_coverage.render(rows).splitlines())
    on_disk = _implemented(_coverage.DOC.read_text().splitlines())
    assert on_disk == generated, (
        "docs/coverage.md is out of date: run `python -m fxad._coverage --write`")


def test_no_implemented_function_is_wrong(rows):
    bad = [r for r in rows if r[2] == "yes" and any(s in ("WRONG", "error") for s in r[3:])]
    assert not bad, f"functions with wrong or failing transforms: {bad}"


def test_probes_find_inputs_for_implemented_functions(rows):
    unprobed = [r[:2] for r in rows if r[2] == "yes" and r[3] == "?"]
    assert not unprobed, f"add a probe in fxad/_coverage.py PROBES for {unprobed}"
