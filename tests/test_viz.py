"""``fxad.viz``: Mermaid and DOT pictures of evaluation traces.

The seed function's pictures must have exactly the course notes' graph: the
same nodes and the same edges.  Nested jaxprs are subgraphs; every edge joins
declared nodes; values on the nodes are the trace tables'.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import fxad
import fxad.numpy as fnp
from fxad import _tutorial, lax, viz
from fxad._explain import format_value

# The graph of the course notes (../shared/seed/, "Forward-mode automatic
# differentiation"), copied verbatim: its states and transitions.
SEED_MERMAID = """\
stateDiagram-v2
    direction LR
    x1: $$x_1$$
    x2: $$x_2$$
    v1: $$v_1 = x_1$$
    v2: $$v_2 = x_2$$
    v3: $$v_3 = v_1v_2$$
    v4: $$v_4 = \\sin(v_2)$$
    v5: $$v_5 = \\exp(v_3)$$
    v6: $$v_6 = v_3 - v_4$$
    v7: $$v_7 = v_5 + v_6$$
    f: $$f = v_5 + v_6$$
    x1 --> v1
    x2 --> v2
    v1 --> v3
    v2 --> v4
    v2 --> v3
    v3 --> v5
    v4 --> v6
    v3 --> v6
    v5 --> v7
    v6 --> v7
    v7 --> f
"""


def mermaid_graph(text):
    """(nodes, edges) of Mermaid text: flowchart ``id["..."]`` / ``id(["..."])``
    or state ``id: ...`` declarations, and ``a --> b`` edges."""
    nodes, edges = set(), []
    for line in text.splitlines():
        line = line.strip()
        if m := re.fullmatch(r"(\w+) --> (\w+)", line):
            edges.append(m.groups())
        elif m := re.fullmatch(r'(\w+)\(?\["(.*)"\]\)?', line):
            nodes.add(m[1])
        elif m := re.fullmatch(r"(\w+): (.*)", line):
            nodes.add(m[1])
    return nodes, edges


def dot_graph(text):
    nodes, edges = set(), []
    for line in text.splitlines():
        line = line.strip()
        if m := re.fullmatch(r"(\w+) -> (\w+);", line):
            edges.append(m.groups())
        elif m := re.fullmatch(r'(\w+) \[label="((?:[^"\\]|\\.)*)"(, shape=\w+)?\];', line):
            nodes.add(m[1])
    return nodes, edges


SEED_NODES, SEED_EDGES = mermaid_graph(SEED_MERMAID)


def test_the_copied_seed_graph():
    assert SEED_NODES == {"x1", "x2", "f"} | {f"v{i}" for i in range(1, 8)}
    assert len(SEED_EDGES) == 11


@pytest.mark.parametrize("render", [
    lambda *a, **k: mermaid_graph(viz.to_mermaid(*a, **k)),
    lambda *a, **k: mermaid_graph(viz.to_mermaid(*a, diagram="state", **k)),
    lambda *a, **k: dot_graph(viz.to_dot(*a, **k)),
], ids=["flowchart", "state", "dot"])
@pytest.mark.parametrize("values", [None, "forward", "reverse"])
def test_seed_function_has_exactly_the_seed_graph(render, values):
    nodes, edges = render(_tutorial.f, 1.5, 0.5, values=values)
    assert nodes == SEED_NODES
    assert set(edges) == set(SEED_EDGES) and len(edges) == len(set(edges))


def test_seed_graph_from_its_jaxpr_and_its_explanation():
    closed = fxad.make_jaxpr(_tutorial.f)(1.5, 0.5)
    e = fxad.explain(_tutorial.f)(1.5, 0.5)
    for source in (closed, closed.jaxpr, e):
        nodes, edges = mermaid_graph(viz.to_mermaid(source))
        assert nodes == SEED_NODES and set(edges) == set(SEED_EDGES)
    assert viz.to_dot(closed) == viz.to_dot(_tutorial.f, 1.5, 0.5)


def test_labels_are_the_operations_and_values_the_tables():
    text = viz.to_mermaid(_tutorial.f, 1.5, 0.5)
    for name, label in [("v3", "v3 = v1*v2"), ("v4", "v4 = sin(v2)"), ("v5", "v5 = exp(v3)"),
                        ("v6", "v6 = v3 - v4"), ("v7", "v7 = v5 + v6"), ("v1", "v1 = x1")]:
        assert f'    {name}["{label}"]' in text
    e = fxad.explain(_tutorial.f)(1.5, 0.5)
    fwd = viz.to_mermaid(_tutorial.f, 1.5, 0.5, values="forward")
    rev = viz.to_dot(_tutorial.f, 1.5, 0.5, values="reverse")
    for (n, _, expr, v), (nd, _, _, vd), (nb, _, _, vb) in zip(
            e.primal, e.forward, reversed(e.reverse)):
        assert f'{n}["{n} = {expr} = {format_value(v)}<br>{nd} = {format_value(vd)}"]' in fwd
        assert f'{n} [label="{n} = {expr} = {format_value(v)}\\n{nb} = {format_value(vb)}"];' \
            in rev


def nested(x, y):
    z = fxad.jit(lambda a: fnp.sin(a) * y)(x)
    w = lax.cond(x > 0, lambda a: a * 2.0, lambda a: -a, z)

    def body(c, xs):
        return c * xs, c + xs

    c, ys = lax.scan(body, w, fnp.arange(3.0))
    return c + ys.sum()


def test_nested_jaxprs_are_subgraphs():
    closed = fxad.make_jaxpr(nested)(1.0, 2.0)
    g = viz.graph(nested, 1.0, 2.0)
    top = [n for n, (_, parent, kind) in g.nodes.items()
           if kind == "eqn" and (parent is None or parent.endswith("_sg"))]
    assert len(top) == len(closed.eqns)  # one node per top-level equation
    assert g.nodes["c1"][2] == "const" and g.nodes["v1"][2] == "var"
    # each body equation is a node inside its body's subgraph
    n_body_eqns = sum(len(b.jaxpr.eqns) for q in closed.eqns for b in _bodies(q))
    assert sum(1 for n in g.nodes if re.search(r"_b\d+_e\d+$", n)) == n_body_eqns
    assert {s for s in g.subgraphs if s.endswith("_sg")} == {"v3_sg", "v6_sg", "v7_v8_sg"}
    assert g.subgraphs["v6_b1"] == ("branches[1] {3}", "v6_sg")
    assert g.nodes["v6"][1] == "v6_sg"
    for a, b in g.edges:
        assert a in g.nodes and b in g.nodes
    assert ("v7_v8", "v9") in g.edges and ("v7_v8", "v10") in g.edges
    mm = viz.to_mermaid(nested, 1.0, 2.0)
    assert mm.count("subgraph ") == len(g.subgraphs) == sum(
        1 for line in mm.splitlines() if line.strip() == "end")
    assert 'subgraph v3_b0 ["jaxpr {1}"]' in mm and '["v3 = pjit{1}(v2, v1)"]' in mm
    nodes, edges = mermaid_graph(mm)
    assert nodes == set(g.nodes) and edges == g.edges
    dot = viz.to_dot(nested, 1.0, 2.0)
    assert dot.count("{") == dot.count("}") and dot.count("subgraph cluster_") == len(g.subgraphs)
    nodes, edges = dot_graph(dot)
    assert nodes == set(g.nodes) and edges == g.edges
    st = viz.to_mermaid(nested, 1.0, 2.0, diagram="state")
    assert st.count("    state ") == len(g.subgraphs)
    nodes, edges = mermaid_graph(st)
    assert edges == g.edges and nodes == set(g.nodes) | set(g.subgraphs)
    # no transition crosses into a composite state from outside it
    depth = {}
    stack = []
    for line in st.splitlines():
        line = line.strip()
        if m := re.fullmatch(r"state (\w+) \{", line):
            stack.append(m[1])
        elif line == "}":
            stack.pop()
        elif m := re.fullmatch(r"(\w+): .*", line):
            depth.setdefault(m[1], tuple(stack))
    for a, b in edges:
        assert depth[a] == depth[b], (a, b)


def _bodies(eqn):
    for v in eqn.params.values():
        if isinstance(v, fxad.ClosedJaxpr):
            yield v
        elif isinstance(v, tuple) and v and all(isinstance(b, fxad.ClosedJaxpr) for b in v):
            yield from v


def test_escaping():
    g = viz.Graph()
    g.node("a", 'say "hi"\nnext', None, "eqn")
    g.node("b", "b", None, "output")
    g.edge("a", "b")
    assert viz._mermaid_flowchart(g, "LR").splitlines()[1] == '    a["say #quot;hi#quot;<br>next"]'
    assert viz._dot_text('say "hi"\\ \n') == 'say \\"hi\\"\\\\ \\n'


def test_several_outputs_and_a_literal_output():
    nodes, edges = mermaid_graph(viz.to_mermaid(lambda x: (x * 2.0, fnp.sin(x)), 1.0))
    assert {"f1", "f2"} <= nodes and ("v2", "f1") in edges and ("v3", "f2") in edges
    g = viz.graph(lambda x: 3.0, 1.0)
    assert g.nodes["f"] == ("f = 3.0", None, "output")

    def end(x1):
        return x1 * 2.0

    assert ("v2", "f") in viz.graph(end, 1.0).edges  # "end" is Mermaid syntax
    assert viz.graph(end, 1.0, name="g").edges[-1] == ("v2", "g")


def test_bad_arguments():
    closed = fxad.make_jaxpr(_tutorial.f)(1.5, 0.5)
    with pytest.raises(ValueError, match="needs numbers: pass the function and its arguments"):
        viz.to_mermaid(closed, values="forward")
    with pytest.raises(ValueError, match="values='sideways'; use None, 'forward' or 'reverse'"):
        viz.to_dot(_tutorial.f, 1.5, 0.5, values="sideways")
    with pytest.raises(TypeError, match="pass the function's arguments after it"):
        viz.to_mermaid(_tutorial.f)
    with pytest.raises(TypeError, match="a jaxpr takes no arguments"):
        viz.to_mermaid(closed, 1.0)
    with pytest.raises(TypeError, match="expected a function, a jaxpr"):
        viz.to_dot("x1*x2")
    with pytest.raises(ValueError, match="diagram='pie'; use 'flowchart' or 'state'"):
        viz.to_mermaid(_tutorial.f, 1.5, 0.5, diagram="pie")
    assert fxad.core.trace_state.stack == []


def test_arrays():
    x = np.array([0.5, 1.0, 2.0])
    text = viz.to_dot(lambda x: fnp.sum(fnp.sin(x) * x), x, values="reverse")
    assert 'v1 [label="v1 = x1 = f64[3] [0.5, 1, 2]\\nv1_bar = ' in text
    nodes, edges = dot_graph(text)
    assert edges == [("x1", "v1"), ("v1", "v2"), ("v2", "v3"), ("v1", "v3"), ("v3", "v4"),
                     ("v4", "f")]
