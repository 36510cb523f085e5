"""The worked example of ``docs/tutorial.md``, computed by fxad itself.

``python -m fxad [--at X1 X2]`` prints, for the course notes' function
``f(x1, x2) = x1*x2 + exp(x1*x2) - sin(x2)``, its jaxpr and three traces: the
primal (evaluation) trace v1..v7, the forward tangent trace for d/dx1 and the
reverse cotangent trace (the notes' adjoints v_bar).  Nothing is a
hand-written table:

* the variables v1..v7 are the jaxpr's: its two inputs, then one per equation;
* the primal trace binds each equation in turn (what ``eval_jaxpr`` does);
* the forward trace walks the same jaxpr calling ``ad.jvp_rules[prim]``;
* the reverse trace takes the linear jaxpr of ``ad.linearize_flat`` and walks
  it backwards with ``ad.transpose_rules``, accumulating cotangents exactly as
  ``ad.backward_pass`` does, but recording the cotangent of every v_k.

Each walk runs twice.  Once on numbers, which gives the value column.  Once on
*symbols*: the arguments are tracers of a staging trace, so the same rules
stage the operations they perform and a small printer turns those into the
expression column (``v3_dot = v1_dot*v2 + v1*v2_dot`` is what fxad's ``mul``
rule does, not a template).  After a row is recorded, later rows refer to it
by its name, as the notes do.

``python -m fxad._tutorial --write-docs`` rewrites the output blocks embedded
in ``docs/tutorial.md``; ``tests/test_tutorial.py`` checks they are current.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np

import fxad
import fxad.numpy as fnp
from fxad import core, lax
from fxad.core import Literal, new_trace, safe_zip
from fxad.interpreters import ad
from fxad.interpreters.partial_eval import JaxprTrace, JaxprTracer

DEFAULT_AT = (1.5, 0.5)
FUNCTION = "f(x1, x2) = x1*x2 + exp(x1*x2) - sin(x2)"


def f(x1, x2):
    """The notes' function, one operation per line in the notes' order."""
    v1, v2 = x1, x2
    v3 = v1 * v2  # computed once, used twice
    v4 = fnp.sin(v2)
    v5 = fnp.exp(v3)
    v6 = v3 - v4
    v7 = v5 + v6
    return v7


# ---------------------------------------------------------------------------
# Recorders: what happens to a value when a row of a table is written.
# The numeric one keeps the value; the symbolic one prints the expression the
# value was staged from and hands back a fresh named symbol, so that the rows
# after it say ``v3`` rather than repeating ``v1*v2``.


class _Numbers:
    def __init__(self):
        self.rows: dict[str, float] = {}

    def record(self, name, x):
        self.rows[name] = 0.0 if x is None or type(x) is ad.Zero else float(x)
        return x


class _Symbols:
    def __init__(self, sym: JaxprTrace):
        self.sym = sym
        self.names: dict = {}  # Var of the staging trace -> its row name
        self.rows: dict[str, str] = {}

    def symbol(self, name, aval):
        t = self.sym.new_arg(aval)
        self.names[t.ir_var] = name
        return t

    def name(self, x, name):
        """Call staged value ``x`` by ``name`` where it is used (no row)."""
        if isinstance(x, JaxprTracer):
            self.names.setdefault(x.ir_var, name)

    def record(self, name, x):
        if x is None or type(x) is ad.Zero:
            self.rows[name] = "0"
            return x
        self.rows[name] = self.expr(x)
        return self.symbol(name, core.get_aval(x).strip_weak_type())

    def expr(self, x) -> str:
        if not isinstance(x, JaxprTracer):
            return _number(x)
        producer = {e.outvars[0]: e for e in self.sym.eqns if len(e.outvars) == 1}
        return _expr(x.ir_var, self.names, producer)[0]


def _number(x) -> str:
    return repr(float(np.asarray(x).item()))


# Infix printing: operator, precedence, and whether the right operand needs
# parentheses at equal precedence too (a non-commutative operator).  add_any
# is AD's own sum of tangents (or cotangents): written as +, like add.
_INFIX = {lax.add_p: (" + ", 1, False), ad.add_any_p: (" + ", 1, False),
          lax.sub_p: (" - ", 1, True), lax.mul_p: ("*", 2, False), lax.div_p: ("/", 2, True)}
_ATOM = 4


def _expr(v, names, producer):
    """``(text, precedence)`` of staged variable ``v`` in Python syntax,
    stopping at named variables."""
    if type(v) is Literal:
        text = _number(v.val)
        return text, (3 if text.startswith("-") else _ATOM)
    if v in names:
        return names[v], _ATOM
    eqn = producer.get(v)
    if eqn is None:
        return "?", _ATOM
    args = [_expr(x, names, producer) for x in eqn.invars]
    prim = eqn.primitive

    def wrap(arg, prec, strict=False):
        text, p = arg
        return f"({text})" if p < prec or (strict and p == prec) else text

    if prim in _INFIX and len(args) == 2 and not eqn.params:
        op, prec, strict = _INFIX[prim]
        return wrap(args[0], prec) + op + wrap(args[1], prec, strict), prec
    if prim is lax.neg_p:
        return "-" + wrap(args[0], _ATOM), 3
    params = "".join(f", {k}={v!r}" for k, v in sorted(eqn.params.items()))
    return f"{prim.name}({', '.join(a[0] for a in args)}{params})", _ATOM


# ---------------------------------------------------------------------------
# The three walks.  ``labels`` maps the jaxpr's variables to v1..v7.


def _labels(jaxpr):
    vs = list(jaxpr.invars) + [v for e in jaxpr.eqns for v in e.outvars]
    return {v: f"v{i}" for i, v in enumerate(vs, 1)}


def _read(env, x):
    return x.val if type(x) is Literal else env[x]


def primal_walk(jaxpr, args, record):
    """Evaluate ``jaxpr`` one equation at a time (as ``core.eval_jaxpr``),
    passing every input and equation output through ``record(name, value)``."""
    labels = _labels(jaxpr)
    env = {}
    for v, x in safe_zip(jaxpr.invars, args):
        env[v] = record(labels[v], x)
    for eqn in jaxpr.eqns:
        out = core.bind(eqn.primitive, *[_read(env, x) for x in eqn.invars], **eqn.params)
        outs = out if eqn.primitive.multiple_results else [out]
        for v, o in safe_zip(eqn.outvars, outs):
            env[v] = record(labels[v], o)
    return [_read(env, x) for x in jaxpr.outvars]


def forward_walk(jaxpr, primals, tangents, record, name_primal=None):
    """Forward mode by hand: call ``ad.jvp_rules[prim]`` on each equation and
    pass every tangent through ``record(name + "_dot", tangent)`` (and every
    primal output through ``name_primal(value, name)``).  The tangents are not
    symbolic zeros, so every row appears, zeros included."""
    labels = _labels(jaxpr)
    name_primal = name_primal or (lambda x, name: None)
    env_p, env_t = {}, {}
    for v, p, t in safe_zip(jaxpr.invars, primals, tangents):
        env_p[v] = p
        env_t[v] = record(labels[v] + "_dot", t)
    for eqn in jaxpr.eqns:
        ps = [_read(env_p, x) for x in eqn.invars]
        ts = [ad.Zero(x.aval) if type(x) is Literal else env_t[x] for x in eqn.invars]
        out, out_dot = ad.jvp_rules[eqn.primitive](ps, ts, **eqn.params)
        if not eqn.primitive.multiple_results:
            out, out_dot = [out], [out_dot]
        for v, o, t in safe_zip(eqn.outvars, out, out_dot):
            env_p[v] = o
            name_primal(o, labels[v])
            env_t[v] = record(labels[v] + "_dot", t)
    return [_read(env_p, x) for x in jaxpr.outvars], [env_t[x] for x in jaxpr.outvars]


def linearize_walk(jaxpr, primals, name_primal=None):
    """``ad.linearize_flat`` of ``jaxpr``'s evaluation.  Returns the output
    primals, the linear ``ClosedJaxpr`` and ``{linear-jaxpr Var: "vk"}``: which
    variable of the linear jaxpr holds the tangent of v_k."""
    labels = _labels(jaxpr)
    tangent_of = {}

    def note(name, x):
        if type(x) is ad.JVPTracer and isinstance(x.tangent, JaxprTracer):
            tangent_of.setdefault(x.tangent.ir_var, name)
            if name_primal is not None:
                name_primal(x.primal, name)
        return x

    def fun(*xs):
        return primal_walk(jaxpr, xs, note)

    primals_out, program, _ = ad.linearize_flat(fun, list(primals))
    # The tangents were slots of linearize's tape; name the variables of
    # the jaxpr rebuilt from it.
    linear = program.closed
    tangent_of = {program.slot_vars[s]: name for s, name in tangent_of.items()}
    for lv, v in safe_zip(linear.jaxpr.invars, jaxpr.invars):
        assert tangent_of[lv] == labels[v]
    return primals_out, linear, tangent_of


def reverse_walk(linear, cts_out, tangent_of, record):
    """``ad.backward_pass`` on the linear jaxpr, except that the cotangent of
    every v_k is passed through ``record(name + "_bar", ct)`` when it is
    complete: when the walk reaches the equation defining v_k's tangent, or,
    for the inputs, at the end.  Returns the input cotangents."""
    jaxpr = linear.jaxpr
    linear_vars = set(jaxpr.invars)
    env = dict(safe_zip(jaxpr.constvars, linear.consts))
    lin_eqns = []
    for eqn in jaxpr.eqns:
        if any(type(x) is not Literal and x in linear_vars for x in eqn.invars):
            linear_vars.update(eqn.outvars)
            lin_eqns.append(eqn)
        else:
            out = core.bind(eqn.primitive, *[_read(env, x) for x in eqn.invars], **eqn.params)
            outs = out if eqn.primitive.multiple_results else [out]
            env.update(safe_zip(eqn.outvars, outs))

    ct_env = {}

    def write_ct(v, ct):
        if ct is None or type(ct) is ad.Zero or type(v) is Literal or v not in linear_vars:
            return
        prev = ct_env.get(v)
        ct_env[v] = ct if prev is None else ad.add_tangents(prev, ct)

    def take_ct(v):
        ct = ct_env.pop(v, None)
        if v in tangent_of:
            ct = record(tangent_of[v] + "_bar", ct)
        return ct

    for v, ct in safe_zip(jaxpr.outvars, cts_out):
        write_ct(v, ct)
    for eqn in reversed(lin_eqns):
        if eqn.primitive.multiple_results:
            cts = [take_ct(v) for v in eqn.outvars]
            if all(c is None for c in cts):
                continue
            cts = [ad.Zero(v.aval) if c is None else c for c, v in zip(cts, eqn.outvars)]
        else:
            cts = take_ct(eqn.outvars[0])
            if cts is None:
                continue
        args = [
            ad.UndefinedPrimal(x.aval)
            if type(x) is not Literal and x in linear_vars
            else _read(env, x)
            for x in eqn.invars
        ]
        cts_in = ad.transpose_rules[eqn.primitive](cts, *args, **eqn.params)
        for x, ct in safe_zip(eqn.invars, list(cts_in)):
            write_ct(x, ct)
    # The inputs in reverse, so that the table reads v7_bar ... v1_bar.
    cts_in = {v: take_ct(v) for v in reversed(jaxpr.invars)}
    return [cts_in[v] for v in jaxpr.invars]


# ---------------------------------------------------------------------------
# Putting it together


class Traces:
    """Everything ``python -m fxad`` prints, as data.

    ``primal``, ``forward`` and ``reverse`` are lists of rows
    ``(name, jaxpr_name, expression, value)``: e.g.
    ``("v3_dot", "c", "v1_dot*v2 + v1*v2_dot", 0.5)``.
    """

    def __init__(self, x1, x2):
        self.x1, self.x2 = float(x1), float(x2)
        args = (np.float64(x1), np.float64(x2))
        self.closed = fxad.make_jaxpr(f)(*args)
        jaxpr = self.closed.jaxpr
        if any(len(e.outvars) != 1 for e in jaxpr.eqns) or len(jaxpr.outvars) != 1:
            raise AssertionError("the worked example has one output per equation")
        seed_in = [np.float64(1.0), np.float64(0.0)]  # the direction d/dx1
        seed_out = np.float64(1.0)  # df/dv7 = df/df

        # Values.
        prim, fwd, rev = _Numbers(), _Numbers(), _Numbers()
        primal_walk(jaxpr, args, prim.record)
        forward_walk(jaxpr, args, seed_in, fwd.record)
        _, self.linear, tangent_of = linearize_walk(jaxpr, args)
        grads = reverse_walk(self.linear, [seed_out], tangent_of, rev.record)
        self.grad = tuple(float(g) for g in grads)

        # Expressions: the same walks on symbols.
        with new_trace(JaxprTrace) as sym:
            s = _Symbols(sym)
            xs = [s.symbol(n, a) for n, a in zip(("x1", "x2"), self.closed.in_avals)]
            primal_walk(jaxpr, xs, s.record)
            prim_expr = s.rows
        with new_trace(JaxprTrace) as sym:
            s = _Symbols(sym)
            vs = [s.symbol(f"v{i}", a) for i, a in enumerate(self.closed.in_avals, 1)]
            forward_walk(jaxpr, vs, seed_in, s.record, s.name)
            fwd_expr = s.rows
        with new_trace(JaxprTrace) as sym:
            s = _Symbols(sym)
            vs = [s.symbol(f"v{i}", a) for i, a in enumerate(self.closed.in_avals, 1)]
            _, linear_sym, tangent_of_sym = linearize_walk(jaxpr, vs, s.name)
            reverse_walk(linear_sym, [seed_out], tangent_of_sym, s.record)
            rev_expr = s.rows

        jnames = _pp_names(jaxpr)
        lnames = _pp_names(self.linear.jaxpr)
        labels = _labels(jaxpr)
        self.primal = [(n, jnames[v], prim_expr[n], prim.rows[n]) for v, n in labels.items()]
        self.forward = [
            (n + "_dot", jnames[v], fwd_expr[n + "_dot"], fwd.rows[n + "_dot"])
            for v, n in labels.items()
        ]
        lin_of = {n: v for v, n in tangent_of.items()}
        self.reverse = [
            (
                n + "_bar",
                lnames[lin_of[n]] if n in lin_of else "-",
                rev_expr[n + "_bar"],
                rev.rows[n + "_bar"],
            )
            for n in reversed(labels.values())
        ]
        self.value = prim.rows[labels[jaxpr.outvars[0]]]
        self.dfdx1_forward = fwd.rows[labels[jaxpr.outvars[0]] + "_dot"]


def _pp_names(jaxpr):
    """The names ``core.pp_jaxpr`` gives the variables: in order of binding."""
    names = core._var_names()
    vs = list(jaxpr.constvars) + list(jaxpr.invars) + [v for e in jaxpr.eqns for v in e.outvars]
    return {v: next(names) for v in vs}


def _table(title, header, rows):
    cells = [header] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"

    def line(r):
        return "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"

    return "\n".join([title, rule, line(header), rule, *map(line, cells[1:]), rule])


def _summary(rows):
    w0 = max(len(r[0]) for r in rows)
    w2 = max(len(repr(r[2])) for r in rows)
    lines = [
        f"{a.ljust(w0)} = {b.ljust(6)} = {c!r}".ljust(w0 + w2 + 12)
        + (f"  ({note})" if note else "")
        for a, b, c, note in rows
    ]
    return "\n".join(line.rstrip() for line in lines)


def sections(x1=DEFAULT_AT[0], x2=DEFAULT_AT[1]) -> dict[str, str]:
    """The output of ``python -m fxad --at x1 x2``, by section (in order)."""
    t = Traces(x1, x2)
    at = f"({t.x1!r}, {t.x2!r})"
    g1, g2 = t.grad
    return {
        "function": "\n".join(
            [
                "fxad worked example: forward and reverse mode on one function",
                "",
                f"  {FUNCTION}    at (x1, x2) = {at}",
                "",
                f"The jaxpr, fxad.make_jaxpr(f){at}. v1, v2 are its inputs and",
                "v3..v7 its equations, in order:",
                "",
                str(t.closed),
            ]
        ),
        "primal": _table(
            "Primal (evaluation) trace",
            ["v", "jaxpr", "primal", "value"],
            [(n, j, f"{n} = {e}", repr(v)) for n, j, e, v in t.primal],
        ),
        "forward": _table(
            "Forward (tangent) trace for d/dx1: v_dot = dv/dx1, seeded with (x1_dot, x2_dot) = "
            "(1, 0)",
            ["v_dot", "jaxpr", "tangent", "value"],
            [(n, j, f"{n} = {e}", repr(v)) for n, j, e, v in t.forward],
        ),
        "linear": "\n".join(
            [
                f"The linear jaxpr, fxad.linearize(f, {t.x1!r}, {t.x2!r})[1].jaxpr: the tangent",
                "equations alone, maps (v1_dot, v2_dot) to v7_dot; primal values are constants:",
                "",
                str(t.linear),
            ]
        ),
        "reverse": _table(
            "Reverse (adjoint) trace: v_bar = df/dv, the cotangent (ct) of v, seeded with "
            "v7_bar = 1.\nThe linear jaxpr above, transposed: 'linear' names the variable "
            "holding v_dot.",
            ["v_bar", "linear", "cotangent", "value"],
            [(n, j, f"{n} = {e}", repr(v)) for n, j, e, v in t.reverse],
        ),
        "summary": _summary(
            [
                (f"f{at}", "v7", t.value, ""),
                (f"df/dx1{at}", "v7_dot", t.dfdx1_forward, "forward mode: one pass per input"),
                (f"df/dx1{at}", "v1_bar", g1, "reverse mode: one pass for all inputs"),
                (f"df/dx2{at}", "v2_bar", g2, "the same reverse pass"),
            ]
        ),
    }


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
