"""Every registered primitive is complete: an impl, an abstract eval, a JVP
rule (or a declaration that it has no derivative), a transpose rule if it is
linear, a batch rule, and a record in ``tests/op_records.py`` so that the
value and autodiff suites cover it.  Adding a primitive without one of these fails here,
naming the primitive and what is missing."""

from __future__ import annotations

import pytest
from op_records import RECORDS

from fxad import core
from fxad.interpreters import ad, batching


def completeness_problems(prim, record_names) -> list[str]:
    """What ``prim`` lacks, one sentence each (empty when complete)."""
    name = prim.name
    out = []
    if prim.impl is None:
        out.append(f"primitive '{name}' has no impl: call {name}_p.def_impl(...) in its "
                   "block in fxad/lax")
    if prim.abstract_eval is None:
        out.append(f"primitive '{name}' has no abstract_eval: call "
                   f"{name}_p.def_abstract_eval(...)")
    has_jvp = prim in ad.jvp_rules
    nondiff = prim in ad.nondiff_primitives
    if not has_jvp and not nondiff:
        out.append(f"primitive '{name}' has no JVP rule in fxad.interpreters.ad.jvp_rules and "
                   "is not in ad.nondiff_primitives: register one with ad.defjvp, "
                   "ad.defjvp2 or ad.deflinear, or declare it ad.defjvp_zero")
    if has_jvp and nondiff:
        out.append(f"primitive '{name}' has a JVP rule but is also in ad.nondiff_primitives; "
                   "keep one")
    if prim in ad.linear_primitives and prim not in ad.transpose_rules:
        out.append(f"primitive '{name}' is in ad.linear_primitives but has no transpose rule "
                   "in ad.transpose_rules (register it with ad.deftranspose or ad.deflinear)")
    if prim in ad.transpose_rules and prim not in ad.linear_primitives:
        out.append(f"primitive '{name}' has a transpose rule but is not in "
                   "ad.linear_primitives (use ad.deftranspose, which adds it)")
    if prim not in batching.batch_rules:
        out.append(f"primitive '{name}' has no batch rule in "
                   "fxad.interpreters.batching.batch_rules (needed by vmap, jacfwd, jacrev): "
                   "register one in its block, e.g. with batching.defvectorized")
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
