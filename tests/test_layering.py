"""fxad's layers import only downwards: core <- interpreters <- lax <- numpy
<- scipy, api, jit.  An upper layer installs what the lower one needs (the
NumPy layer sets the tracer's operators), and no function hides an import
that would close a cycle.  The checks read the source with ``ast``, so each
failure names the file, the line and the rule it breaks."""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import fxad
from fxad import core

ROOT = pathlib.Path(fxad.__file__).resolve().parent
REPO = ROOT.parent
FILES = sorted(ROOT.rglob("*.py"))

#: Third-party packages that fxad treats as optional: a function may import
#: them at call time so that ``import fxad`` does not need them.
OPTIONAL = ("scipy",)


def _module_name(path: pathlib.Path, repo=REPO) -> str:
    parts = list(path.relative_to(repo).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imported(node, path, repo=REPO) -> list[str]:
    """The absolute module names an import statement names (for ``from m
    import a``: ``m``, and ``m.a`` too, as ``a`` may be a submodule)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    base = node.module or ""
    if node.level:
        pkg = _module_name(path, repo).split(".")
        if path.name != "__init__.py":
            pkg.pop()
        pkg = pkg[:len(pkg) - node.level + 1]
        base = ".".join(pkg + ([base] if base else []))
    return [base] + [f"{base}.{a.name}" for a in node.names]


def _in(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _function_level_imports(path, repo=REPO):
    """(line, function, names) for each import statement inside a function."""
    tree = ast.parse(path.read_text(), str(path))
    out = []

    def visit(node, fn):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                visit(child, getattr(child, "name", "<lambda>"))
            elif isinstance(child, (ast.Import, ast.ImportFrom)) and fn is not None:
                out.append((child.lineno, fn, _imported(child, path, repo)))
            else:
                visit(child, fn)

    visit(tree, None)
    return out


def _module_level_imports(path, repo=REPO):
    """(line, names) for each import outside functions (module body, class
    bodies, ``try``/``if`` blocks at module level)."""
    tree = ast.parse(path.read_text(), str(path))
    out = []

    def visit(node):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                out.append((child.lineno, _imported(child, path, repo)))
            else:
                visit(child)

    visit(tree)
    return out


def _rel(path, repo=REPO):
    return path.relative_to(repo).as_posix()


# ---------------------------------------------------------------------------
# (a) No function-level import of fxad


def function_level_problems(files=FILES, repo=REPO) -> list[str]:
    problems = []
    for path in files:
        for line, fn, names in _function_level_imports(path, repo):
            if any(_in(n, "fxad") for n in names) or not names[0]:
                problems.append(
                    f"{_rel(path, repo)}:{line}: `{fn}` imports {names[0] or names[1]} inside "
                    "a function. Rule: fxad modules are imported at module level (only optional "
                    f"dependencies such as {', '.join(OPTIONAL)} are imported at call time); a "
                    "function-level import that dodges a cycle hides a layering mistake: move "
                    "the code to the layer it belongs to, or let the upper layer install "
                    "itself on the lower one.")
    return problems


def test_no_function_level_imports_of_fxad():
    problems = function_level_problems()
    assert not problems, "\n".join(problems)


def importlib_problems(files=FILES, repo=REPO) -> list[str]:
    """``importlib.import_module("fxad...")`` and ``__import__`` of an fxad
    module: a function-level import in disguise."""
    problems = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", None)
            if name in ("import_module", "__import__") and "fxad" in ast.unparse(node.args[0]):
                problems.append(
                    f"{_rel(path, repo)}:{node.lineno}: {name}({ast.unparse(node.args[0])}). "
                    "Rule: fxad modules are imported with import statements at module level.")
    return problems


def test_no_importlib_of_fxad_modules():
    problems = importlib_problems()
    assert not problems, "\n".join(problems)


def _fake_tree(tmp_path, rel, text):
    path = tmp_path / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_the_function_level_checks_report_a_lazy_import(tmp_path):
    bad = _fake_tree(tmp_path, "fxad/numpy/_probe.py",
                     "import numpy\n\n\ndef f():\n    from fxad.numpy import sin\n"
                     "    from . import _core\n    import scipy.special\n"
                     "    return importlib.import_module('fxad.lax')\n")
    problems = function_level_problems([bad], tmp_path)
    assert [p.split(" inside")[0] for p in problems] == [
        "fxad/numpy/_probe.py:5: `f` imports fxad.numpy",
        "fxad/numpy/_probe.py:6: `f` imports fxad.numpy"]  # from . import _core
    assert all("Rule: fxad modules are imported at module level" in p for p in problems)
    assert importlib_problems([bad], tmp_path) == [
        "fxad/numpy/_probe.py:8: import_module('fxad.lax'). Rule: fxad modules are imported "
        "with import statements at module level."]


# ---------------------------------------------------------------------------
# (b) Module-level layering

#: package -> the packages its modules must not import (at any level).
FORBIDDEN = {
    "fxad.core": None,  # see test_core_imports_only_errors
    "fxad.interpreters": ("fxad.lax", "fxad.numpy", "fxad.scipy", "fxad.api", "fxad.jit"),
    "fxad.lax": ("fxad.numpy", "fxad.scipy", "fxad.api", "fxad.jit"),
    "fxad.numpy": ("fxad.scipy", "fxad.api", "fxad.jit"),
}


def layering_problems(files=FILES, repo=REPO) -> list[str]:
    problems = []
    for path in files:
        mod = _module_name(path, repo)
        for line, names in _module_level_imports(path, repo):
            fx = [n for n in names if _in(n, "fxad")]
            if mod == "fxad.core":
                bad = [n for n in fx if n != "fxad" and not _in(n, "fxad.errors")]
                if bad:
                    problems.append(
                        f"{_rel(path, repo)}:{line}: fxad.core imports {bad[0]}. Rule: the core "
                        "imports only fxad.errors; an upper layer installs itself on the core.")
                continue
            for layer, banned in FORBIDDEN.items():
                if not banned or not _in(mod, layer):
                    continue
                for n in fx:
                    for b in banned:
                        if _in(n, b):
                            problems.append(
                                f"{_rel(path, repo)}:{line}: {mod} imports {n}. Rule: {layer} sits "
                                f"below {b} and must not import it.")
    return sorted(set(problems))


def test_module_level_imports_go_downwards():
    problems = layering_problems()
    assert not problems, "\n".join(problems)


def test_the_layering_check_reports_an_upward_import(tmp_path):
    files = [_fake_tree(tmp_path, "fxad/lax/_probe.py", "import numpy as np\nimport fxad.numpy\n"),
             _fake_tree(tmp_path, "fxad/core.py",
                        "from fxad.errors import E\nfrom fxad import lax\n"),
             _fake_tree(tmp_path, "fxad/interpreters/_probe.py",
                        "from fxad.core import bind\nfrom ..numpy import _core\n")]
    assert layering_problems(files, tmp_path) == [
        "fxad/core.py:2: fxad.core imports fxad.lax. Rule: the core imports only fxad.errors; "
        "an upper layer installs itself on the core.",
        "fxad/interpreters/_probe.py:2: fxad.interpreters._probe imports fxad.numpy. Rule: "
        "fxad.interpreters sits below fxad.numpy and must not import it.",
        "fxad/interpreters/_probe.py:2: fxad.interpreters._probe imports fxad.numpy._core. "
        "Rule: fxad.interpreters sits below fxad.numpy and must not import it.",
        "fxad/lax/_probe.py:2: fxad.lax._probe imports fxad.numpy. Rule: fxad.lax sits below "
        "fxad.numpy and must not import it.",
    ]


def _import_graph():
    """module -> the fxad modules it imports at module level (``from m import
    a`` counts as importing ``m.a`` when that is a module, else ``m``)."""
    mods = {_module_name(p): p for p in FILES}
    graph = {}
    for name, path in mods.items():
        deps = set()
        for _, names in _module_level_imports(path):
            base, subs = names[0], [n for n in names[1:] if n in mods]
            deps.update(subs if subs else [base])
        graph[name] = {n for n in deps if n in mods and n != name}
    return graph


def find_cycles(graph) -> list[str]:
    state: dict = {}
    path: list = []
    cycles = []

    def visit(u):
        state[u] = "open"
        path.append(u)
        for v in sorted(graph[u]):
            if state.get(v) == "open":
                cycles.append(" -> ".join(path[path.index(v):] + [v]))
            elif v not in state:
                visit(v)
        path.pop()
        state[u] = "done"

    for u in sorted(graph):
        if u not in state:
            visit(u)
    return cycles


def test_module_import_graph_is_acyclic():
    """No cycle among fxad's modules (fxad/numpy's submodules included), so
    no module is ever used half-initialised."""
    cycles = find_cycles(_import_graph())
    assert not cycles, "import cycles (each module imports the next at module level):\n" + \
        "\n".join(cycles)


def test_find_cycles_reports_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycles(graph) == ["a -> b -> c -> a"]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


# ---------------------------------------------------------------------------
# The core alone, and what the NumPy layer installs on it


def test_core_imports_without_the_numpy_layer():
    """``import fxad.core`` works, and the core alone loads no layer above it.
    (A plain ``import fxad.core`` first runs fxad/__init__.py, which imports
    every layer; so the second probe gives the package a bare module object and
    imports the core on its own.)"""
    subprocess.run([sys.executable, "-c", "import fxad.core"], cwd=REPO, check=True)
    code = ("import sys, types\n"
            f"pkg = types.ModuleType('fxad'); pkg.__path__ = [{str(ROOT)!r}]\n"
            "sys.modules['fxad'] = pkg\n"
            "import fxad.core\n"
            "print(' '.join(sorted(m for m in sys.modules if m.startswith('fxad'))))\n"
            "print('__add__' in vars(fxad.core.Tracer), hasattr(fxad.core.Tracer, 'sum'))\n")
    res = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                         text=True, check=True).stdout.splitlines()
    assert res[0].split() == ["fxad", "fxad.core", "fxad.errors"], res[0]
    assert res[1] == "False False", "the core's Tracer has operators of its own"


#: What a tracer has after ``import fxad`` (the same set as before the
#: operators moved to fxad/numpy/_array_methods.py).
OPERATORS = [
    "__abs__", "__add__", "__and__", "__divmod__", "__eq__", "__floordiv__", "__ge__",
    "__getitem__", "__gt__", "__invert__", "__le__", "__lt__", "__matmul__", "__mod__",
    "__mul__", "__ne__", "__neg__", "__or__", "__pos__", "__pow__", "__radd__", "__rand__",
    "__rdivmod__", "__rfloordiv__", "__rmatmul__", "__rmod__", "__rmul__", "__ror__",
    "__round__", "__rpow__", "__rsub__", "__rtruediv__", "__rxor__", "__setitem__",
    "__sub__", "__truediv__", "__xor__",
]
CORE_MEMBERS = [
    "__array__", "__bool__", "__complex__", "__float__", "__hash__", "__index__", "__int__",
    "__iter__", "__len__", "__repr__", "__str__", "_concrete", "_concrete_hint",
    "aval", "dtype", "item", "ndim", "shape", "size", "sort", "to_concrete_value", "tolist",
    "_strip_weak_type",
]
METHODS = [
    "all", "any", "argmax", "argmin", "argsort", "astype", "clip", "conj", "conjugate",
    "cumprod", "cumsum", "diagonal", "dot", "flatten", "max", "mean", "min", "prod",
    "ravel", "repeat", "reshape", "round", "squeeze", "std", "sum", "swapaxes", "take",
    "trace", "transpose", "var",
]
PROPERTIES = ["T", "at", "imag", "real"]
PROTOCOLS = ["__array_function__", "__array_ufunc__", "__array_priority__"]


def test_tracer_has_exactly_its_operators_and_methods_after_import_fxad():
    own = {k for k in vars(core.Tracer) if k not in ("__module__", "__doc__", "__slots__",
                                                     "_trace", "__dict__", "__weakref__")}
    expected = set(OPERATORS + CORE_MEMBERS + METHODS + PROPERTIES + PROTOCOLS)
    assert own == expected, (f"missing: {sorted(expected - own)}; "
                             f"unexpected: {sorted(own - expected)}")
    for name in PROPERTIES:
        assert isinstance(vars(core.Tracer)[name], property), name


def _traced(f, *args):
    """``f`` applied to tracers of ``args`` (inside make_jaxpr, then evaluated)
    and to the arrays themselves through fxad.numpy, for comparison."""
    (out,) = fxad.make_jaxpr(lambda *a: [f(*a)])(*args)(*args)
    return out


@pytest.mark.parametrize("name,f,ref", [
    ("+", lambda x, y: x + y, np.add), ("r+", lambda x, y: 2.0 + x, lambda x, y: 2.0 + x),
    ("-", lambda x, y: x - y, np.subtract), ("r-", lambda x, y: 1.0 - y, lambda x, y: 1.0 - y),
    ("*", lambda x, y: x * y, np.multiply), ("/", lambda x, y: x / y, np.true_divide),
    ("r/", lambda x, y: 1.0 / y, lambda x, y: 1.0 / y), ("**", lambda x, y: x ** 2,
                                                         lambda x, y: x ** 2),
    ("r**", lambda x, y: 2.0 ** x, lambda x, y: 2.0 ** x),
    ("@", lambda x, y: x @ y, np.matmul), ("neg", lambda x, y: -x, lambda x, y: -x),
    ("abs", lambda x, y: abs(y - x), lambda x, y: abs(y - x)),
    ("<", lambda x, y: x < y, np.less), ("==", lambda x, y: x == y, np.equal),
    ("//", lambda x, y: x // y, np.floor_divide), ("%", lambda x, y: x % y, np.remainder),
    ("getitem", lambda x, y: x[1:, 0], lambda x, y: x[1:, 0]),
    ("T", lambda x, y: x.T, lambda x, y: x.T), ("sum", lambda x, y: x.sum(axis=0),
                                                lambda x, y: x.sum(axis=0)),
    ("reshape", lambda x, y: x.reshape(3, 2), lambda x, y: x.reshape(3, 2)),
    ("at", lambda x, y: x.at[0, 1].set(5.0), lambda x, y: np.where(
        np.arange(6).reshape(2, 3) == 1, 5.0, x)),
    ("np.sin", lambda x, y: np.sin(x), np.sin),
    ("np.sum", lambda x, y: np.sum(x * y), lambda x, y: np.sum(x * y)),
])
def test_installed_operators_compute_numpy_values(name, f, ref):
    x = np.array([[0.5, -1.5, 2.0], [3.0, 0.25, -0.75]])
    y = np.array([[1.5, 2.0, -0.5], [0.5, 4.0, 1.25]])
    if name == "@":
        y = y.T
    got = _traced(f, x, y)
    want = ref(x, y)
    assert np.asarray(got).dtype == np.asarray(want).dtype
    np.testing.assert_allclose(got, want, rtol=1e-15, atol=0)


def test_tracer_divmod_and_round():
    x = np.array([7.5, -3.25])
    q, r = fxad.make_jaxpr(lambda a: list(divmod(a, 2.0)))(x)(x)
    np.testing.assert_array_equal(q, np.floor_divide(x, 2.0))
    np.testing.assert_array_equal(r, np.remainder(x, 2.0))
    (rd,) = fxad.make_jaxpr(lambda a: [round(a)])(x)(x)
    np.testing.assert_array_equal(rd, np.round(x))


def test_scipy_special_ufuncs_on_tracers_name_the_module_to_import():
    """fxad.scipy.special (which needs SciPy) registers itself with the NumPy
    layer's dispatcher when imported; before that a SciPy ufunc on a tracer
    says what to import, and afterwards the same call works."""
    code = (
        "import fxad, scipy.special as sp\n"
        "try:\n"
        "    fxad.grad(sp.gammaln)(3.0)\n"
        "except TypeError as e:\n"
        "    print(e)\n"
        "import fxad.scipy.special\n"
        "print(repr(float(fxad.grad(sp.gammaln)(3.0))))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                         text=True, check=True).stdout.splitlines()
    assert "scipy.special.gammaln on traced arrays is implemented in fxad.scipy.special: " \
        "`import fxad.scipy.special` first" in out[0], out
    assert float(out[1]) == pytest.approx(1.5 - np.euler_gamma, rel=1e-14)  # digamma(3)
