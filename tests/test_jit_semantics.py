"""jit semantics as JAX users expect them (issue 7, item 6): captured arrays
are copied at trace time, static-argument mistakes are ValueErrors, the
per-function cache is a bounded LRU, ``log_compiles`` logs each trace, and
a result has the same type whichever path computed it."""

from __future__ import annotations

import logging
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

import fxad
import fxad.numpy as fnp
from fxad import core

DOC = Path(__file__).resolve().parent.parent / "docs" / "jit.md"


@pytest.fixture
def config_restored():
    saved = {n: getattr(core.config, n) for n in core.config.__slots__}
    yield core.config
    for n, v in saved.items():
        setattr(core.config, n, v)


# ---------------------------------------------------------------------------
# Captured constants


@pytest.mark.parametrize("make", [
    lambda W: (lambda x: W @ x),  # W stays a run-time constant
    lambda W: (lambda x: (W * 2.0) @ x),  # W * 2 is folded at optimisation time
    lambda W: (lambda x: fnp.sum(W) * x),  # folded to a scalar literal
], ids=["read-at-run-time", "folded", "folded-to-scalar"])
def test_mutating_a_captured_array_after_the_trace_is_not_seen(make):
    W = np.arange(4.0).reshape(2, 2)
    x = np.array([1.0, -2.0])
    f = make(W)
    before = f(x)  # eager, on the original W
    jf = fxad.jit(f)
    np.testing.assert_array_equal(jf(x), before)
    W[:] = 5.0
    # Eager sees the mutation; the jit function keeps the traced values.
    assert not np.array_equal(f(x), before)
    np.testing.assert_array_equal(jf(x), before)
    # A retrace (a new signature) captures the new value.
    np.testing.assert_array_equal(jf(x.astype(np.float32)), f(x.astype(np.float32)))


def test_captured_0d_array_is_copied_too():
    s = np.array(3.0)
    jf = fxad.jit(lambda x: x * s)
    assert jf(2.0) == 6.0
    s[()] = 10.0
    assert jf(2.0) == 6.0


def test_captured_copy_leaves_the_users_array_alone():
    W = np.ones(3)
    fxad.jit(lambda x: W * x)(np.ones(3))
    W[0] = 7.0  # still writable, still the user's
    assert W[0] == 7.0


# ---------------------------------------------------------------------------
# Static arguments


def test_static_argnums_out_of_range():
    def f(x, y):
        return x * y

    with pytest.raises(ValueError, match=re.escape(
            "jit(f): static_argnums (2,) out of range: f takes 2 positional arguments (x, y)")):
        fxad.jit(f, static_argnums=2)
    with pytest.raises(ValueError, match=re.escape("static_argnums (-3, 5) out of range")):
        fxad.jit(f, static_argnums=(5, -3, 1))
    # In range (also negative) is fine, and *args accepts any position.
    assert float(fxad.jit(f, static_argnums=-1)(2.0, 3)) == 6.0
    assert float(fxad.jit(lambda *a: a[0] * a[3], static_argnums=3)(2.0, 0, 0, 4)) == 8.0


def test_unknown_static_argnames():
    def f(x, *, scale):
        return x * scale

    with pytest.raises(ValueError, match=re.escape(
            "jit(f): static_argnames ('sacle',) are not parameters of f, which takes x, "
            "scale by name")):
        fxad.jit(f, static_argnames=("scale", "sacle"))
    assert float(fxad.jit(f, static_argnames="scale")(2.0, scale=3)) == 6.0
    # **kwargs takes any name.
    assert float(fxad.jit(lambda x, **kw: x * kw["k"], static_argnames="k")(2.0, k=4)) == 8.0


def test_positional_only_name_is_not_a_static_argname():
    def f(x, /, y):
        return x + y

    with pytest.raises(ValueError, match=r"static_argnames \('x',\)"):
        fxad.jit(f, static_argnames="x")


# ---------------------------------------------------------------------------
# The cache: bounded, least recently used evicted first


def test_cache_is_lru_bounded(config_restored):
    fxad.config.update("jit_cache_size", 2)
    f = fxad.jit(lambda x: x * 2.0)
    a, b, c = np.ones(1), np.ones(2), np.ones(3)
    f(a)
    f(b)
    assert (f._trace_count, f._cache_size()) == (2, 2)
    f(a)  # a is now the most recently used
    assert f._trace_count == 2
    f(c)  # evicts b, the least recently used
    assert (f._trace_count, f._cache_size()) == (3, 2)
    f(a)
    assert f._trace_count == 3  # still cached
    np.testing.assert_array_equal(f(b), 2.0 * b)
    assert f._trace_count == 4  # b was evicted: traced again
    assert f._cache_size() == 2


def test_cache_size_config_validation(config_restored):
    for bad in (0, -1, 2.5, True, "8"):
        with pytest.raises(ValueError, match="jit_cache_size must be a positive int"):
            fxad.config.update("jit_cache_size", bad)
    with pytest.raises(ValueError, match="unknown option 'log_compile'.*log_compiles"):
        fxad.config.update("log_compile", True)
    with pytest.raises(ValueError, match="log_compiles must be True or False"):
        fxad.config.update("log_compiles", 1)
    assert fxad.config.jit_cache_size == 256 and fxad.config.log_compiles is False
    fxad.config.update("check_jaxprs", True)
    assert core.config.check_jaxprs is True  # one object, both spellings


# ---------------------------------------------------------------------------
# log_compiles


def test_log_compiles_logs_each_trace_with_its_signature(caplog, config_restored):
    def poly(x, n):
        return x ** n

    f = fxad.jit(poly, static_argnums=1)
    with caplog.at_level(logging.WARNING, logger="fxad.jit"):
        f(1.0, 2)  # logging is off by default
        assert caplog.records == []
        fxad.config.update("log_compiles", True)
        f(1.0, 2)  # cached: no trace, no log
        f(np.ones(3, np.float32), 2)
        f(np.float64(1.0), 3)
        f(np.float64(2.0), 3)  # cached
    msgs = [r.getMessage() for r in caplog.records]
    assert msgs == [
        "jit: tracing poly for (f32[3]) with static argument 1=2",
        "jit: tracing poly for (f64[]) with static argument 1=3",
    ]
    assert all(r.name == "fxad.jit" and r.levelno == logging.WARNING for r in caplog.records)


def test_log_compiles_shows_weak_types_and_static_names(caplog, config_restored):
    fxad.config.update("log_compiles", True)
    f = fxad.jit(lambda x, y, *, mode: x + y if mode else x, static_argnames="mode")
    with caplog.at_level(logging.WARNING, logger="fxad.jit"):
        f(1.0, np.ones(2), mode=True)
        f(1.0, np.ones(2), mode=True)
    assert [r.getMessage() for r in caplog.records] == [
        "jit: tracing <lambda> for (f64[] weak, f64[2]) with static mode=True"]


# ---------------------------------------------------------------------------
# One result type whichever path computed it


@pytest.mark.parametrize("f, args", [
    (lambda x, y: x % y, (7.5, 0.0)),  # scalar form raises; the array form answers
    (lambda x, y: x % y, (7.5, 2.0)),
    (lambda x, y: x / y, (1.0, 0.0)),  # inf
    (lambda x, y: (x / y, x * y), (0.0, 0.0)),  # nan in one output of two
    (lambda x: fnp.log(x), (-1.0,)),
    (lambda x: fnp.sqrt(x) > 0.0, (-1.0,)),  # a boolean next to the fallback
])
def test_jit_result_type_matches_eager_on_the_scalar_fallback(f, args):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        eager = f(*[np.float64(a) for a in args])
        jitted = fxad.jit(f)(*args)
    eager_leaves = eager if isinstance(eager, tuple) else (eager,)
    jit_leaves = jitted if isinstance(jitted, tuple) else (jitted,)
    assert len(eager_leaves) == len(jit_leaves)
    for e, j in zip(eager_leaves, jit_leaves):
        assert type(j) is type(e), (type(j), type(e))
        assert j.dtype == e.dtype
        np.testing.assert_array_equal(j, e)


# ---------------------------------------------------------------------------
# docs/jit.md: its code blocks run


def _doc_blocks():
    return re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)


def test_docs_jit_examples_run(config_restored, caplog):
    blocks = _doc_blocks()
    assert len(blocks) >= 6
    ns: dict = {"__name__": "docs_jit"}
    with caplog.at_level(logging.WARNING, logger="fxad.jit"):
        for i, code in enumerate(blocks):
            try:
                exec(compile(code, f"{DOC.name}[block {i}]", "exec"), ns)
            except Exception as e:  # noqa: BLE001 - re-raised with the block number
                raise AssertionError(f"docs/jit.md code block {i} failed: {e!r}\n{code}") from e
    # The log_compiles block's retrace, as the doc shows it.
    assert "jit: tracing scale for (f32[3]) with static argument 1=2" in caplog.messages


def test_docs_jit_is_linked_from_the_index():
    index = (DOC.parent / "index.md").read_text()
    assert "(jit.md)" in index
