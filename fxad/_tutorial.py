"""The worked example of ``docs/tutorial.md``, computed by fxad itself.

``python -m fxad [--at X1 X2]`` prints, for the course notes' function
``f(x1, x2) = x1*x2 + exp(x1*x2) - sin(x2)``, its jaxpr and three traces: the
primal (evaluation) trace v1..v7, the forward tangent trace for d/dx1 and the
reverse cotangent trace (the notes' adjoints v_bar).  Nothing is a
hand-written table: the report is ``fxad.explain(f)(x1, x2)`` (see
``fxad/_explain.py`` for how the walks run fxad's own JVP and transpose rules
on numbers and on symbols) under the tutorial's title.

``python -m fxad._tutorial --write-docs`` rewrites the output blocks embedded
in ``docs/tutorial.md``; ``tests/test_tutorial.py`` checks they are current.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np

import fxad.numpy as fnp
from fxad._explain import Explanation, explain

DEFAULT_AT = (1.5, 0.5)
FUNCTION = "f(x1, x2) = x1*x2 + exp(x1*x2) - sin(x2)"
TITLE = "fxad worked example: forward and reverse mode on one function"


def f(x1, x2):
    """The notes' function, one operation per line in the notes' order."""
    v1, v2 = x1, x2
    v3 = v1 * v2  # computed once, used twice
    v4 = fnp.sin(v2)
    v5 = fnp.exp(v3)
    v6 = v3 - v4
    v7 = v5 + v6
    return v7


def Traces(x1, x2) -> Explanation:  # noqa: N802 (was a class; its callers still say Traces)
    """``fxad.explain(f)`` at ``(x1, x2)``: d/dx1 forward, one reverse pass."""
    t = explain(f, wrt=0)(np.float64(x1), np.float64(x2))
    jaxpr = t.closed.jaxpr
    if any(len(e.outvars) != 1 for e in jaxpr.eqns) or len(jaxpr.outvars) != 1:
        raise AssertionError("the worked example has one output per equation")
    return t


def sections(x1=DEFAULT_AT[0], x2=DEFAULT_AT[1]) -> dict[str, str]:
    """The output of ``python -m fxad --at x1 x2``, by section (in order)."""
    return Traces(x1, x2).sections(title=TITLE, description=FUNCTION)


def render(x1=DEFAULT_AT[0], x2=DEFAULT_AT[1]) -> str:
    """The full output of ``python -m fxad --at x1 x2`` (without the last newline)."""
    return "\n\n".join(sections(x1, x2).values())


# ---------------------------------------------------------------------------
# Command line and the docs

DOCS = Path(__file__).resolve().parent.parent / "docs" / "tutorial.md"
_BLOCK = re.compile(
    r"<!-- BEGIN python -m fxad: (?P<key>\w+) -->\n```text\n(?:(?P<body>.*?)\n)?```\n"
    r"<!-- END python -m fxad: (?P=key) -->",
    re.S,
)


def _block(key, body):
    return (
        f"<!-- BEGIN python -m fxad: {key} -->\n```text\n{body}\n```\n"
        f"<!-- END python -m fxad: {key} -->"
    )


def doc_blocks(text: str) -> dict[str, str]:
    """The output blocks embedded in the tutorial, by section, in order."""
    return {m["key"]: m["body"] or "" for m in _BLOCK.finditer(text)}


def write_docs(path: Path = DOCS) -> bool:
    """Rewrite the embedded blocks of ``path`` with today's output; True if changed."""
    text = path.read_text()
    secs = sections()
    missing = set(secs) - set(doc_blocks(text))
    if missing:
        raise SystemExit(
            f"{path}: no block for section(s) {sorted(missing)}; add "
            "'<!-- BEGIN python -m fxad: KEY -->' ... '<!-- END ... -->' markers"
        )
    new = _BLOCK.sub(lambda m: _block(m["key"], secs[m["key"]]), text)
    if new != text:
        path.write_text(new)
    return new != text


def _parser(prog, docs):
    p = argparse.ArgumentParser(
        prog=prog,
        description=f"Print fxad's forward and reverse traces of {FUNCTION}: the jaxpr, the "
        "primal trace v1..v7, the tangent trace for d/dx1, the cotangent "
        "(adjoint) trace, and the derivatives.",
    )
    p.add_argument(
        "--at",
        nargs=2,
        type=float,
        metavar=("X1", "X2"),
        default=list(DEFAULT_AT),
        help="the point (default: 1.5 0.5)",
    )
    if docs:
        p.add_argument(
            "--write-docs",
            action="store_true",
            help=f"rewrite the output blocks of {DOCS.name} instead of printing",
        )
    return p


def main(argv=None, prog="python -m fxad", docs=False) -> int:
    args = _parser(prog, docs).parse_args(argv)
    if docs and args.write_docs:
        changed = write_docs()
        print(f"{DOCS}: {'updated' if changed else 'already up to date'}")
        return 0
    print(render(*args.at))
    return 0


if __name__ == "__main__":
    sys.exit(main(prog="python -m fxad._tutorial", docs=True))
