"""Every registered primitive is complete: it is in every required registry
declared in ``fxad/_registries.py`` (an impl, an abstract eval, a JVP rule or
a declaration that it has no derivative, a transpose rule if it is linear, a
batch rule) and has a record in ``tests/op_records.py`` so that the value and
autodiff suites cover it.  Adding a primitive without one of these fails here,
naming the primitive, the registry and how to register.  The optional
registries (jit emitters) are reported in ``docs/primitives.md``, generated
and checked here.  No table in ``fxad/`` is keyed by primitive names."""

from __future__ import annotations

import ast
import pathlib

import numpy as np
import pytest
from op_records import RECORDS, rng_for

import fxad
from fxad import _registries, core
from fxad.interpreters import ad, batching, codegen


def completeness_problems(prim, record_names) -> list[str]:
    """What ``prim`` lacks, one sentence each (empty when complete): every
    required registry of ``fxad/_registries.py``, the op record, and rules
    that contradict each other."""
    name = prim.name
    out = _registries.missing(prim, required=True)
    if prim in ad.jvp_rules and prim in ad.nondiff_primitives:
        out.append(f"primitive '{name}' has a JVP rule but is also in ad.nondiff_primitives; "
                   "keep one")
    if prim in ad.transpose_rules and prim not in ad.linear_primitives:
        out.append(f"primitive '{name}' has a transpose rule but is not in "
                   "ad.linear_primitives (use ad.deftranspose, which adds it)")
    if name not in record_names:
        out.append(f"primitive '{name}' has no record in tests/op_records.py: add an "
                   "OpRecord so that the value and autodiff suites test it")
    return out


def all_problems(primitives=None, records=None) -> list[str]:
    primitives = core.primitives if primitives is None else primitives
    names = {r.name for r in (RECORDS if records is None else records)}
    return [p for prim in primitives.values() for p in completeness_problems(prim, names)]


@pytest.mark.parametrize("name", sorted(core.primitives))
def test_primitive_is_complete(name):
    problems = completeness_problems(core.primitives[name], {r.name for r in RECORDS})
    assert not problems, "\n".join(problems)


def test_every_record_names_a_registered_primitive():
    stale = sorted({r.name for r in RECORDS} - set(core.primitives))
    assert not stale, f"records for primitives that are not registered: {stale}"


@pytest.mark.parametrize("name", sorted({r.name for r in RECORDS if core.primitives.get(r.name)
                                         in ad.linear_primitives}))
def test_linear_primitive_records_check_the_transpose(name):
    # Per primitive, not per record: a call primitive (pjit) is linear where its
    # body is, so only some of its records (bodies) can name a linear group.
    recs = [r for r in RECORDS if r.name == name]
    assert any(r.case_linear(c) for r in recs for c in r.cases), (
        f"primitive '{name}' is linear, but no record of it in tests/op_records.py names a "
        "linear argument group (OpRecord.linear), so its transpose is never checked")


@pytest.mark.parametrize("rec", RECORDS, ids=lambda r: r.name)
def test_differentiable_primitive_records_are_differentiated(rec):
    prim = core.primitives[rec.name]
    diffs = {rec.case_diff(c) for c in rec.cases}
    if prim in ad.nondiff_primitives:
        assert "smooth" not in diffs, f"'{rec.name}' has no derivative but a case is smooth"
    elif rec.name != "stop_gradient" and prim not in ad.untransposable:
        # (an untransposable primitive, ``while``, has no reverse mode for
        # check_grads to check; its forward mode is tested in its own file)
        assert "smooth" in diffs, (
            f"primitive '{rec.name}' has a JVP rule but no case of its record in "
            "tests/op_records.py is checked with check_grads (diff='smooth')")


def test_completeness_check_reports_a_bare_primitive():
    name = "fxad_test_dummy_primitive"
    prim = core.new_primitive(name)
    try:
        problems = all_problems()
        mine = [p for p in problems if f"'{name}'" in p]
        assert len(mine) == 5, mine
        assert any("no impl" in p for p in mine)
        assert any("no abstract_eval" in p for p in mine)
        assert any("no JVP rule" in p for p in mine)
        assert any("no batch rule" in p for p in mine)
        assert any("no record in tests/op_records.py" in p for p in mine)
        # Declared non-differentiable, with impl, abstract eval and a batch
        # rule: only the record is missing.
        prim.def_impl(lambda x: x)
        prim.def_abstract_eval(lambda x: x)
        ad.defjvp_zero(prim)
        batching.batch_rules[prim] = lambda args, dims: (args[0], dims[0])
        assert completeness_problems(prim, set()) == [
            f"primitive '{name}' has no record in tests/op_records.py: add an OpRecord so "
            "that the value and autodiff suites test it"]
        # Linear without a transpose rule.
        ad.nondiff_primitives.discard(prim)
        ad.jvp_rules[prim] = lambda primals, tangents: None
        ad.linear_primitives.add(prim)
        (problem,) = completeness_problems(prim, {name})
        assert "no transpose rule" in problem and f"'{name}'" in problem
    finally:
        del core.primitives[name]
        ad.nondiff_primitives.discard(prim)
        ad.linear_primitives.discard(prim)
        ad.jvp_rules.pop(prim, None)
        ad.transpose_rules.pop(prim, None)
        batching.batch_rules.pop(prim, None)
    assert name not in core.primitives
    assert not [p for p in all_problems() if name in p]


# ---------------------------------------------------------------------------
# Optional registries: reported, and the report is true


def test_primitives_doc_is_current():
    assert _registries.DOC.read_text() == _registries.render(), (
        "docs/primitives.md is out of date: run `python -m fxad._registries --write`")


def test_optional_registries_are_reported_for_a_bare_primitive():
    name = "fxad_test_dummy_primitive_2"
    prim = core.new_primitive(name)
    try:
        assert _registries.missing(prim, required=False) == [
            f"primitive '{name}' has no jit emitter: jit calls the impl (register one with "
            "codegen.def_ufunc, codegen.def_operator, codegen.def_emitter, "
            "codegen.def_statement or codegen.def_alias to change that)",
            f"primitive '{name}' has no scalar-form emitter: the scalar form calls the impl "
            "(register one with codegen.def_ufunc(..., math=..., probe=...), "
            "codegen.def_operator or codegen.def_emitter(..., scalar=...) to change that)"]
        assert f"| `{name}` |" in _registries.render()
    finally:
        del core.primitives[name]


@pytest.mark.parametrize("rec", RECORDS, ids=lambda r: r.name)
def test_a_primitive_without_a_jit_emitter_calls_its_impl(rec):
    # What the report says happens does happen: the generated array form of
    # the record's cases calls the impl when there is no emitter, and not in
    # every case when there is one (an emitter may decline some params).
    prim = core.primitives[rec.name]
    reported = any("no jit emitter" in m for m in _registries.missing(prim, required=False))
    call = f"_impl_{rec.name.replace('-', '_')}("
    sources = []
    for case in rec.cases:
        args = case.sample(rng_for(rec.name, case.label()))
        if rec.staged_in == "linearize":  # a primitive only linearize stages
            dargs = [a for a in args if np.asarray(a).dtype.kind in "fc"]
            closed = fxad.linearize(lambda *a, case=case: rec.fun(*a, **case.params),
                                    *dargs)[1].jaxpr
        else:
            closed = fxad.make_jaxpr(lambda *a, case=case: rec.fun(*a, **case.params))(*args)
        if any(e.primitive is prim for e in closed.jaxpr.eqns):
            sources.append(codegen.generate(closed, scalar=False).source)
    assert sources, f"no case of the record of '{rec.name}' stages the primitive"
    if reported:
        assert all(call in s for s in sources), sources
    else:
        assert not all(call in s for s in sources), sources


# ---------------------------------------------------------------------------
# No table keyed by primitive names

_FXAD = pathlib.Path(fxad.__file__).resolve().parent


def _is_prim_name(node):
    if not (isinstance(node, ast.Attribute) and node.attr == "name"):
        return False
    base = node.value
    return (isinstance(base, ast.Attribute) and base.attr == "primitive") or (
        isinstance(base, ast.Name) and base.id in ("prim", "primitive"))


def _name_keyed(tree, prim_names):
    """Places in a module's ast that key something by a primitive's name: a
    comparison or lookup of ``<primitive>.name`` (``prim.name``,
    ``eqn.primitive.name``), and dict or set literals with three or more
    string keys that are all primitive names."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "name":
            if _is_prim_name(node):
                found.append((node.lineno, ast.unparse(node)))
        keys = None
        if isinstance(node, ast.Dict):
            keys = node.keys
        elif isinstance(node, ast.Set):
            keys = node.elts
        if keys and len(keys) >= 3 and all(
                isinstance(k, ast.Constant) and isinstance(k.value, str) for k in keys):
            if all(k.value in prim_names for k in keys):
                found.append((node.lineno, "a table keyed by primitive names"))
    return found


def _local_names(tree):
    """(function, local names assigned a primitive's name in it), e.g.
    ``name = eqn.primitive.name``."""
    out = []
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.Lambda)):
            local = set()
            for node in ast.walk(fn):
                if isinstance(node, ast.Assign) and _is_prim_name(node.value):
                    local.update(t.id for t in node.targets if isinstance(t, ast.Name))
            if local:
                out.append((fn, local))
    return out


def _uses(tree, found):
    # ``prim.name`` in a message or a generated name is fine; compared or
    # looked up, it is a table keyed by the name.
    bad = []
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Compare):
            targets = [node.left, *node.comparators]
        elif isinstance(node, ast.Subscript):
            targets = [node.slice]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr in ("get", "pop", "setdefault") and node.args:
            targets = [node.args[0]]
        for t in targets:
            s = ast.unparse(t)
            if any(s == text for _, text in found):
                bad.append((node.lineno, ast.unparse(node)))
    for fn, local in _local_names(tree):
        for node in ast.walk(fn):
            if isinstance(node, ast.Compare):
                if any(isinstance(t, ast.Name) and t.id in local
                       for t in [node.left, *node.comparators]):
                    bad.append((node.lineno, ast.unparse(node)))
    return bad + [f for f in found if f[1] == "a table keyed by primitive names"]


def test_no_table_in_fxad_is_keyed_by_primitive_names():
    prim_names = set(core.primitives)
    problems = []
    for path in sorted(_FXAD.rglob("*.py")):
        tree = ast.parse(path.read_text())
        for line, what in _uses(tree, _name_keyed(tree, prim_names)):
            problems.append(f"{path.relative_to(_FXAD.parent)}:{line}: {what}")
    assert not problems, (
        "key these by the Primitive object (register from the primitive's block):\n"
        + "\n".join(problems))


def test_the_name_scan_finds_name_keyed_tables():
    src = (
        "_T = {'sin': 1, 'cos': 2, 'exp': 3}\n"
        "def f(eqn, prim):\n"
        "    if eqn.primitive.name == 'sin':\n"
        "        return _T.get(prim.name)\n"
        "    return prim.name in _S\n"
        "def h(eqn):\n"
        "    name = eqn.primitive.name\n"
        "    return name == 'neg'\n"
        "def g(prim):\n"
        "    raise TypeError(f'{prim.name} is fine in a message')\n")
    tree = ast.parse(src)
    found = _uses(tree, _name_keyed(tree, {"sin", "cos", "exp"}))
    assert sorted(line for line, _ in found) == [1, 3, 4, 5, 8], found
