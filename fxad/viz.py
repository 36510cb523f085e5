"""Pictures of evaluation traces: Mermaid and Graphviz DOT text.

``to_mermaid(f, *args)`` and ``to_dot(f, *args)`` draw the evaluation trace
of ``f`` the way the course notes do: the inputs ``x1 -> v1``, one node per
equation of the jaxpr labelled with its operation (``v3 = v1*v2``), an edge
from each parent to its child, and the output ``vn -> f``.  The node names and
labels are :func:`fxad.explain`'s, so a picture and a trace table of the same
function agree.  An equation holding jaxprs (a ``pjit`` call, a ``cond``, a
``scan`` or ``while`` loop) keeps its node, drawn inside a subgraph that also
holds its bodies, each one a subgraph of its own equations.

Both functions return text, with no dependency: paste Mermaid into a
Markdown page (mkdocs-material, GitHub) or the Mermaid live editor; render
DOT with Graphviz (``dot -Tsvg``) or the ``graphviz`` Python package where
installed.  ``graph(...)`` gives the same picture as data (nodes, edges and
subgraphs) for other renderers.

Example:
    >>> import fxad.numpy as fnp
    >>> from fxad import viz
    >>> print(viz.to_mermaid(lambda x1, x2: x1 * fnp.sin(x2), 1.0, 2.0))
    flowchart LR
        x1(["x1"])
        x2(["x2"])
        v1["v1 = x1"]
        v2["v2 = x2"]
        v3["v3 = sin(v2)"]
        v4["v4 = v1*v3"]
        f(["f"])
        x1 --> v1
        x2 --> v2
        v2 --> v3
        v1 --> v4
        v3 --> v4
        v4 --> f
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fxad._explain import (
    Explanation,
    _Bodies,
    _labels,
    _pp_names,
    explain,
    format_value,
    primal_expressions,
)
from fxad.api import make_jaxpr
from fxad.core import ClosedJaxpr, Jaxpr, Literal

__all__ = ["graph", "to_mermaid", "to_dot", "Graph"]

_VALUES = (None, "forward", "reverse")
# Words Mermaid reads as syntax where a node id stands.
_RESERVED = {"end", "graph", "subgraph", "flowchart", "style", "class", "classdef", "click",
             "linkstyle", "state", "direction", "note"}


@dataclass
class Graph:
    """A picture as data.

    ``nodes``: ``{id: (label, subgraph id or None, kind)}`` in drawing order,
    ``kind`` one of ``"input"`` (x1), ``"output"`` (f), ``"var"`` (v1 = x1, or
    a body's input), ``"const"`` (c1) and ``"eqn"`` (one per equation).
    ``edges``: ``(parent, child)`` pairs, in order.  ``subgraphs``:
    ``{id: (label, parent subgraph id or None)}``.  ``order``: what to draw,
    in order.  ``node``, ``subgraph`` and ``edge`` add to it.
    """

    nodes: dict[str, tuple[str, str | None, str]] = field(default_factory=dict)
    edges: list[tuple[str, str]] = field(default_factory=list)
    subgraphs: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    order: list[tuple[str, str]] = field(default_factory=list)  # drawing order

    def node(self, ident, label, parent, kind):
        self.nodes[ident] = (label, parent, kind)
        self.order.append(("node", ident))

    def subgraph(self, ident, label, parent):
        self.subgraphs[ident] = (label, parent)
        self.order.append(("sg", ident))

    def edge(self, parent, child):
        if (parent, child) not in self.edges:
            self.edges.append((parent, child))

    def edge_set(self) -> set[tuple[str, str]]:
        return set(self.edges)


def _bodies_of(eqn, numbers):
    """``(label, jaxpr)`` of the bodies an equation holds, numbered as
    ``fxad.explain`` numbers them (``{1}``...)."""
    out = []
    for key, v in eqn.params.items():
        if isinstance(v, (Jaxpr, ClosedJaxpr)):
            out.append((f"{key} {{{numbers.number(v)}}}", v))
        elif isinstance(v, (tuple, list)) and v and all(
            isinstance(b, (Jaxpr, ClosedJaxpr)) for b in v
        ):
            out.extend((f"{key}[{i}] {{{numbers.number(b)}}}", b) for i, b in enumerate(v))
    return out


def _add_body(g: Graph, jaxpr, prefix: str, parent: str | None, numbers):
    """A nested jaxpr's own picture: its inputs and equations under ``prefix``,
    named as the jaxpr printer names them."""
    jaxpr = jaxpr.jaxpr if isinstance(jaxpr, ClosedJaxpr) else jaxpr
    names = _pp_names(jaxpr)
    node_of = {}
    for v in list(jaxpr.constvars) + list(jaxpr.invars):
        nid = f"{prefix}_{names[v]}"
        g.node(nid, names[v], parent, "var")
        node_of[v] = nid
    for k, eqn in enumerate(jaxpr.eqns):
        outs = " ".join(names[v] for v in eqn.outvars)
        args = " ".join(
            format_value(x.val) if type(x) is Literal else names[x] for x in eqn.invars
        )
        nid = f"{prefix}_e{k}"
        node_parent = parent
        bodies = _bodies_of(eqn, numbers)
        if bodies:
            node_parent = nid + "_sg"
            g.subgraph(node_parent, eqn.primitive.name, parent)
        g.node(nid, f"{outs} = {eqn.primitive.name} {args}".rstrip(), node_parent, "eqn")
        for x in eqn.invars:
            if type(x) is not Literal:
                g.edge(node_of[x], nid)
        for v in eqn.outvars:
            node_of[v] = nid
        for i, (key, body) in enumerate(bodies):
            sid = f"{nid}_b{i}"
            g.subgraph(sid, key, node_parent)
            _add_body(g, body, sid, sid, numbers)


def graph(fun_or_jaxpr: Any, *args, values: str | None = None, wrt=None, argnums=None,
          name: str | None = None) -> Graph:
    """The evaluation trace of ``fun_or_jaxpr`` as a :class:`Graph`.

    Args:
        fun_or_jaxpr: a function (then ``args`` are its arguments, as for
            ``fxad.explain``), a ``ClosedJaxpr`` or ``Jaxpr`` (no ``args``;
            its inputs are called x1, x2...), or an ``Explanation``.
        values: ``None`` (operations only), ``"forward"`` (each node also
            shows its value and its tangent along ``wrt``) or ``"reverse"``
            (its value and its cotangent).  Values need a function and its
            arguments, or an ``Explanation``.
        wrt, argnums, name: as for ``fxad.explain``.
    """
    if values not in _VALUES:
        raise ValueError(f"fxad.viz: values={values!r}; use None, 'forward' or 'reverse'.")
    e = None
    jaxpr = inputs = None
    if isinstance(fun_or_jaxpr, Explanation):
        e = fun_or_jaxpr
    elif isinstance(fun_or_jaxpr, (ClosedJaxpr, Jaxpr)):
        if args:
            raise TypeError("fxad.viz: a jaxpr takes no arguments; pass the function to "
                            "draw one evaluation")
        if values is not None:
            raise ValueError(
                f"fxad.viz: values={values!r} needs numbers: pass the function and its "
                "arguments (or an fxad.explain result), not a jaxpr."
            )
        jaxpr = fun_or_jaxpr.jaxpr if isinstance(fun_or_jaxpr, ClosedJaxpr) else fun_or_jaxpr
        inputs = [f"x{i}" for i in range(1, len(jaxpr.invars) + 1)]
    elif callable(fun_or_jaxpr):
        if not args:
            raise TypeError("fxad.viz: pass the function's arguments after it, e.g. "
                            "to_mermaid(f, 1.5, 0.5)")
        if values is not None:
            e = explain(fun_or_jaxpr, wrt=wrt, argnums=argnums, name=name)(*args)
        else:
            fun = fun_or_jaxpr
            nums = tuple(range(len(args))) if argnums is None else (
                (argnums,) if isinstance(argnums, int) else tuple(argnums))
            static = tuple(i for i in range(len(args)) if i not in nums)
            jaxpr = make_jaxpr(fun, static_argnums=static)(*args).jaxpr
            inputs = [f"x{i + 1}" for i in nums]
    else:
        raise TypeError(
            f"fxad.viz: expected a function, a jaxpr or an fxad.explain result, got "
            f"{type(fun_or_jaxpr).__name__}"
        )

    numbers = _Bodies()
    if e is not None:
        jaxpr, inputs, fname = e.closed.jaxpr, e.inputs, e.name
        exprs = {n: expr for n, _, expr, _ in e.primal}
        numbers.items = list(e.bodies)  # the same {k} as the report's
    else:
        fname = name or "f"
        exprs = primal_expressions(jaxpr, inputs, numbers)
    labels = _labels(jaxpr)

    value: dict[str, str] = {}  # " = 0.75" after the expression
    extra: dict[str, str] = {}  # the tangent or cotangent, on its own line
    if e is not None and values == "reverse" and e.reverse_error is not None:
        raise ValueError(f"fxad.viz: values='reverse', but there is no reverse trace: "
                         f"{e.reverse_error}")
    if e is not None and values is not None:
        value = {n: f" = {format_value(v)}" for n, _, _, v in e.primal}
        table = e.forward if values == "forward" else e.reverse
        extra = {n[:-4]: f"{n} = {format_value(v)}" for n, _, _, v in table}

    def label(n):
        text = f"{n} = {exprs[n]}{value.get(n, '')}"
        return f"{text}\n{extra[n]}" if n in extra else text

    g = Graph()
    node_of = {}
    for x in inputs:
        g.node(x, x, None, "input")
    for v in jaxpr.constvars:
        n = labels[v]
        g.node(n, label(n), None, "const")
        node_of[v] = n
    for x, v in zip(inputs, jaxpr.invars):
        n = labels[v]
        g.node(n, label(n), None, "var")
        g.edge(x, n)
        node_of[v] = n
    for eqn in jaxpr.eqns:
        outs = [labels[v] for v in eqn.outvars]
        nid = "_".join(outs)
        if len(outs) == 1:
            text = label(outs[0])
        else:
            head = exprs[outs[0]].rsplit("[", 1)[0]
            text = f"{', '.join(outs)} = {head}"
            text += "".join(f"\n{o}{value[o]}" for o in outs if o in value)
            text += "".join(f"\n{extra[o]}" for o in outs if o in extra)
        bodies = _bodies_of(eqn, numbers)
        parent = None
        if bodies:
            parent = nid + "_sg"
            g.subgraph(parent, f"{nid}: {eqn.primitive.name}", None)
        g.node(nid, text, parent, "eqn")
        for x in eqn.invars:
            if type(x) is not Literal:
                g.edge(node_of[x], nid)
        for v in eqn.outvars:
            node_of[v] = nid
        for i, (key, body) in enumerate(bodies):
            sid = f"{nid}_b{i}"
            g.subgraph(sid, key, parent)
            _add_body(g, body, sid, sid, numbers)
    outs = jaxpr.outvars
    if fname.lower() in _RESERVED or fname in g.nodes:
        fname = "f"  # an id Mermaid would read as a keyword, or one taken
    for i, v in enumerate(outs):
        oid = fname if len(outs) == 1 else f"{fname}{i + 1}"
        if type(v) is Literal:
            g.node(oid, f"{oid} = {format_value(v.val)}", None, "output")
            continue
        g.node(oid, oid, None, "output")
        g.edge(node_of[v], oid)
    return g


# ---------------------------------------------------------------------------
# Mermaid


def _mm_text(s: str) -> str:
    return s.replace('"', "#quot;").replace("\n", "<br>")


def to_mermaid(fun_or_jaxpr: Any, *args, values: str | None = None, diagram: str = "flowchart",
               direction: str = "LR", **kwargs) -> str:
    """Mermaid text of the evaluation trace (see :func:`graph` for the
    arguments).

    ``diagram="flowchart"`` (the default) draws ``flowchart LR`` with the
    bodies of calls, loops and branches as ``subgraph`` blocks;
    ``diagram="state"`` draws the course notes' ``stateDiagram-v2``, bodies as
    composite states (beside their equation's state: Mermaid draws no
    transition into a composite state's inner states from outside).
    ``direction`` is Mermaid's (``LR``, ``TB``...).
    """
    g = graph(fun_or_jaxpr, *args, values=values, **kwargs)
    if diagram == "flowchart":
        return _mermaid_flowchart(g, direction)
    if diagram == "state":
        return _mermaid_state(g, direction)
    raise ValueError(f"fxad.viz.to_mermaid: diagram={diagram!r}; use 'flowchart' or 'state'.")


def _children(g: Graph):
    kids: dict[str | None, list] = {}
    for what, ident in g.order:
        parent = g.nodes[ident][1] if what == "node" else g.subgraphs[ident][1]
        kids.setdefault(parent, []).append((what, ident))
    return kids


def _mermaid_flowchart(g: Graph, direction: str) -> str:
    kids = _children(g)
    lines = [f"flowchart {direction}"]

    def emit(parent, depth):
        pad = "    " * depth
        for what, ident in kids.get(parent, []):
            if what == "node":
                text, _, kind = g.nodes[ident]
                open_, close = ('(["', '"])') if kind in ("input", "output") else ('["', '"]')
                lines.append(f"{pad}{ident}{open_}{_mm_text(text)}{close}")
            else:
                lines.append(f'{pad}subgraph {ident} ["{_mm_text(g.subgraphs[ident][0])}"]')
                emit(ident, depth + 1)
                lines.append(f"{pad}end")

    emit(None, 1)
    lines += [f"    {a} --> {b}" for a, b in g.edges]
    return "\n".join(lines)


def _mermaid_state(g: Graph, direction: str) -> str:
    # Mermaid refuses a transition into a state inside a composite one, and a
    # composite state declared with a quoted description: so an equation's
    # node stays beside the composite state of its bodies, which gets its
    # description on a line of its own.
    kids: dict[str | None, list] = {}
    for what, ident in g.order:
        if what == "node":
            parent = g.nodes[ident][1]
            if parent == f"{ident}_sg":
                parent = g.subgraphs[parent][1]
        else:
            parent = g.subgraphs[ident][1]
        kids.setdefault(parent, []).append((what, ident))
    lines = ["stateDiagram-v2", f"    direction {direction}"]

    def text(s):
        return s.replace("\n", " ; ").replace(":", "").replace("{", "(").replace("}", ")")

    def emit(parent, depth):
        pad = "    " * depth
        for what, ident in kids.get(parent, []):
            if what == "node":
                lines.append(f"{pad}{ident}: {text(g.nodes[ident][0])}")
            else:
                lines.append(f"{pad}state {ident} {{")
                emit(ident, depth + 1)
                lines.append(f"{pad}}}")
                lines.append(f"{pad}{ident}: {text(g.subgraphs[ident][0])}")

    emit(None, 1)
    lines += [f"    {a} --> {b}" for a, b in g.edges]
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# Graphviz DOT


def _dot_text(s: str) -> str:
    return s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def to_dot(fun_or_jaxpr: Any, *args, values: str | None = None, rankdir: str = "LR",
           **kwargs) -> str:
    """Graphviz DOT text of the evaluation trace (see :func:`graph` for the
    arguments): a ``digraph`` with inputs and outputs as ellipses, equations
    as boxes, and each call, loop or branch with its bodies as nested
    ``subgraph cluster_...``.  Render it with ``dot -Tsvg`` or
    ``graphviz.Source(text)``."""
    g = graph(fun_or_jaxpr, *args, values=values, **kwargs)
    kids = _children(g)
    lines = ["digraph trace {", f"    rankdir={rankdir};", "    node [shape=box];"]

    def emit(parent, depth):
        pad = "    " * depth
        for what, ident in kids.get(parent, []):
            if what == "node":
                text, _, kind = g.nodes[ident]
                shape = ", shape=ellipse" if kind in ("input", "output") else ""
                lines.append(f'{pad}{ident} [label="{_dot_text(text)}"{shape}];')
            else:
                lines.append(f"{pad}subgraph cluster_{ident} {{")
                lines.append(f'{pad}    label="{_dot_text(g.subgraphs[ident][0])}";')
                emit(ident, depth + 1)
                lines.append(f"{pad}}}")

    emit(None, 1)
    lines += [f"    {a} -> {b};" for a, b in g.edges]
    lines.append("}")
    return "\n".join(lines)
