"""Every per-primitive registry, declared once.

Each interpreter owns its registries, keyed by the ``Primitive`` object and
filled from the primitive's block in ``fxad/lax``.  This list says which of
them a primitive must be in (``required``) and which are optional (then it
says what happens without one).  ``tests/test_completeness.py`` walks it for
every primitive in ``core.primitives`` (and adds the op record, which lives in
the tests); ``docs/primitives.md`` is generated from it::

    python -m fxad._registries --write    # rewrite docs/primitives.md
"""

from __future__ import annotations

import argparse
import pathlib
from collections.abc import Callable
from dataclasses import dataclass

import fxad.scipy.integrate  # noqa: F401  (its primitives, registered on import)
from fxad import core
from fxad.interpreters import ad, batching, codegen

# fxad.scipy.stats registers primitives of its own (its quantiles) and needs
# SciPy, an optional dependency that ``import fxad`` does not import: without
# it those primitives do not exist, and the page does not list them.
try:
    import fxad.scipy.stats  # noqa: F401
except ModuleNotFoundError as _e:
    if _e.name != "scipy" and not (_e.name or "").startswith("scipy."):
        raise

DOC = pathlib.Path(__file__).resolve().parent.parent / "docs" / "primitives.md"


@dataclass(frozen=True)
class Registry:
    """One per-primitive registry.

    Attributes:
      name: what it holds, as the messages say it.
      has: ``has(prim) -> bool``.
      how: how to register ``{name}_p`` in its block (``{name}`` is filled in).
      required: a primitive without it is incomplete (the test fails).
      applies: ``applies(prim) -> bool``: whether ``prim`` needs it at all.
      without: (optional registries) what happens without it.
    """

    name: str
    has: Callable
    how: str
    required: bool
    applies: Callable = lambda prim: True
    without: str = ""


REGISTRIES: tuple[Registry, ...] = (
    Registry("impl", lambda p: p.impl is not None,
             "call {name}_p.def_impl(...)", True),
    Registry("abstract_eval", lambda p: p.abstract_eval is not None,
             "call {name}_p.def_abstract_eval(...)", True),
    Registry("JVP rule", lambda p: p in ad.jvp_rules or p in ad.nondiff_primitives,
             "register one with ad.defjvp, ad.defjvp2 or ad.deflinear (in "
             "ad.jvp_rules), or declare it ad.defjvp_zero(...)", True),
    Registry("transpose rule", lambda p: p in ad.transpose_rules,
             "register it with ad.deftranspose or ad.deflinear (in ad.transpose_rules)", True,
             applies=lambda p: p in ad.linear_primitives),
    Registry("batch rule", lambda p: p in batching.batch_rules,
             "register one in batching.batch_rules, e.g. with batching.defvectorized, "
             "batching.defbroadcasting or batching.defreducer (vmap, jacfwd and jacrev "
             "need it)", True),
    Registry("jit emitter", lambda p: p in codegen.emitters or p in codegen.aliases
             or p in codegen.statements,
             "register one with codegen.def_ufunc, codegen.def_operator, "
             "codegen.def_emitter, codegen.def_statement or codegen.def_alias", False,
             without="jit calls the impl"),
    Registry("scalar-form emitter",
             lambda p: p in codegen.scalar_emitters or p in codegen.scalar_aliases,
             "register one with codegen.def_ufunc(..., math=..., probe=...), "
             "codegen.def_operator or codegen.def_emitter(..., scalar=...)", False,
             without="the scalar form calls the impl"),
    Registry("one-hot batch rule", lambda p: p in batching.onehot_rules,
             "register one in batching.onehot_rules (e.g. batching.onehot_scaling or "
             "batching.onehot_sum)", False,
             applies=lambda p: p in ad.linear_primitives or p in batching.onehot_rules,
             without="jacfwd and jacrev give it their basis as a dense array"),
)


def missing(prim, required: bool) -> list[str]:
    """The (required or optional) registries ``prim`` needs and lacks, one
    sentence each."""
    out = []
    for r in REGISTRIES:
        if r.required is required and r.applies(prim) and not r.has(prim):
            how = r.how.format(name=prim.name)
            what = f"primitive '{prim.name}' has no {r.name}"
            if required:
                out.append(f"{what}: {how} in its block in fxad/lax")
            else:
                out.append(f"{what}: {r.without} ({how} to change that)")
    return out


def _cell(r, prim):
    if not r.applies(prim):
        return ""
    if r.has(prim):
        return "yes"
    return "MISSING" if r.required else f"no: {r.without}"


def render() -> str:
    # (Importing this module imports the package ``fxad`` first, whose
    # ``__init__`` imports every layer, and fxad.scipy.stats above: all
    # primitives are registered.)
    lines = [
        "# Primitives and their registries",
        "",
        "Generated by `python -m fxad._registries --write` from `fxad/_registries.py` "
        "(do not edit by",
        "hand; `tests/test_completeness.py` checks that it is current). An empty cell: "
        "not needed",
        "(a transpose rule only for linear primitives).",
        "",
        "| primitive | " + " | ".join(r.name for r in REGISTRIES) + " |",
        "|---" * (len(REGISTRIES) + 1) + "|",
    ]
    for name in sorted(core.primitives):
        prim = core.primitives[name]
        lines.append(f"| `{name}` | " + " | ".join(_cell(r, prim) for r in REGISTRIES) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m fxad._registries")
    p.add_argument("--write", action="store_true", help=f"rewrite {DOC}")
    a = p.parse_args(argv)
    text = render()
    if a.write:
        DOC.write_text(text)
    else:
        print(text, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
