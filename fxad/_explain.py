"""Trace tables for any function: ``fxad.explain(f)(*args)``.

The course notes fxad follows explain automatic differentiation with three
tables over the evaluation trace v1..vn of a function: the primal trace, the
forward tangent trace (``v_dot``) and the reverse adjoint trace (``v_bar``,
the cotangent).  ``explain`` prints those tables for a function of scalars or
small arrays, computed by fxad's own machinery.  Nothing is a template:

* the variables v1..vn are the jaxpr's: its inputs, then the outputs of its
  equations in order (its constants, if any, are c1..cm);
* the primal trace binds each equation in turn (what ``eval_jaxpr`` does);
* the forward trace walks the same jaxpr calling ``ad.jvp_rules[prim]``;
* the reverse trace takes the linear jaxpr of ``ad.linearize_flat`` and walks
  it backwards with ``ad.transpose_rules``, accumulating cotangents exactly as
  ``ad.backward_pass`` does, but recording the cotangent of every v_k.

Each walk runs twice.  Once on numbers, which gives the value column.  Once
on *symbols*: the arguments are tracers of a staging trace, so the same rules
stage the operations they perform and a small printer turns those into the
expression column (``v3_dot = v1_dot*v2 + v1*v2_dot`` is what fxad's ``mul``
rule does).  After a row is recorded, later rows refer to it by its name.

Calls, loops and branches (``pjit``, ``cond``, ``scan``, ``while``...) are
*not* inlined: an equation holding a jaxpr is one row, like any other
primitive, written ``scan{1}(v2, c1)`` where ``{1}`` refers to the bodies
listed (numbered) after the jaxpr; its tangent and cotangent rows show what
its JVP and transpose rules staged (a call of the transformed body).  That
keeps one row per equation of the printed jaxpr, which is the contract of
the tables, and it is the only faithful choice for a loop or a branch, whose
body runs a data-dependent number of times.
"""

from __future__ import annotations

import html
import textwrap
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from fxad import core, lax
from fxad.api import make_jaxpr
from fxad.core import ClosedJaxpr, Jaxpr, Literal, new_trace, safe_zip
from fxad.interpreters import ad
from fxad.interpreters.partial_eval import JaxprTrace, JaxprTracer

__all__ = ["explain", "Explanation"]

_MAX_VALUES = 4  # array values shown in a cell before "..."


# ---------------------------------------------------------------------------
# Showing values: scalars in full (repr), arrays by shape and a few values.


def format_value(x) -> str:
    """A table cell for value ``x``: ``repr`` of a scalar, ``f64[3] [1, 2, 3]``
    for an array (at most four values, then ``...``)."""
    a = np.asarray(x)
    if a.ndim == 0:
        v = a.item()
        if isinstance(v, float):
            return repr(float(v))
        return repr(v)
    head = a.ravel()[:_MAX_VALUES]
    vals = ", ".join(
        f"{v:.6g}" if isinstance(v, float) else repr(v) for v in (e.item() for e in head)
    )
    more = ", ..." if a.size > _MAX_VALUES else ""
    return f"{core.get_aval(a).str_short()} [{vals}{more}]"


def _zeros(aval):
    dtype = aval.dtype if np.issubdtype(aval.dtype, np.inexact) else np.float64
    return np.zeros(aval.shape, dtype)


# ---------------------------------------------------------------------------
# Recorders: what happens to a value when a row of a table is written.
# The numeric one keeps the value; the symbolic one prints the expression the
# value was staged from and hands back a fresh named symbol, so that the rows
# after it say ``v3`` rather than repeating ``v1*v2``.


class _Numbers:
    def __init__(self):
        self.rows: dict[str, Any] = {}

    def record(self, name, x, aval=None):
        if x is None or type(x) is ad.Zero:
            aval = x.aval if type(x) is ad.Zero else aval
            self.rows[name] = np.float64(0.0) if aval is None else _zeros(aval)[()]
        else:
            self.rows[name] = np.asarray(x)[()]
        return x


class _Symbols:
    def __init__(self, sym: JaxprTrace, bodies):
        self.sym = sym
        self.bodies = bodies
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

    def record(self, name, x, aval=None):
        if x is None or type(x) is ad.Zero:
            self.rows[name] = "0"
            return x
        self.rows[name] = self.expr(x)
        return self.symbol(name, core.get_aval(x).strip_weak_type())

    def expr(self, x) -> str:
        if not isinstance(x, JaxprTracer):
            return _number(x)
        producer = {}
        for e in self.sym.eqns:
            for i, v in enumerate(e.outvars):
                producer[v] = (e, i)
        consts = dict(zip(self.sym.constvars, self.sym.consts))
        return _expr(x.ir_var, self.names, producer, consts, self.bodies)[0]


def _number(x) -> str:
    return format_value(x)


# Infix printing: operator, precedence, and whether the right operand needs
# parentheses at equal precedence too (a non-commutative operator).  add_any
# is AD's own sum of tangents (or cotangents): written as +, like add.
_INFIX = {lax.add_p: (" + ", 1, False), ad.add_any_p: (" + ", 1, False),
          lax.sub_p: (" - ", 1, True), lax.mul_p: ("*", 2, False), lax.div_p: ("/", 2, True)}
_ATOM = 4


def _is_body(v):
    return isinstance(v, (Jaxpr, ClosedJaxpr))


def _body_params(params):
    """The jaxprs held in an equation's params (a call's, a loop's, a cond's)."""
    out = []
    for v in params.values():
        if _is_body(v):
            out.append(v)
        elif isinstance(v, (tuple, list)) and v and all(_is_body(b) for b in v):
            out.extend(v)
    return out


class _Bodies:
    """Numbers the nested jaxprs met while printing, so that a row can say
    ``pjit{1}(...)`` and the report list body 1 once."""

    def __init__(self):
        self.items: list = []
        self.origin: list[str] = []  # which walk staged each body
        self.phase = "the jaxpr"

    def number(self, body) -> int:
        for i, b in enumerate(self.items, 1):
            if b is body:
                return i
        self.items.append(body)
        self.origin.append(self.phase)
        return len(self.items)


def _expr(v, names, producer, consts, bodies):
    """``(text, precedence)`` of staged variable ``v`` in Python syntax,
    stopping at named variables."""
    if type(v) is Literal:
        text = _number(v.val)
        return text, (3 if text.startswith("-") else _ATOM)
    if v in names:
        return names[v], _ATOM
    if v in consts:
        return _number(consts[v]), _ATOM
    found = producer.get(v)
    if found is None:
        return "?", _ATOM
    eqn, index = found
    args = [_expr(x, names, producer, consts, bodies) for x in eqn.invars]
    prim = eqn.primitive

    def wrap(arg, prec, strict=False):
        text, p = arg
        return f"({text})" if p < prec or (strict and p == prec) else text

    if prim in _INFIX and len(args) == 2 and not eqn.params:
        op, prec, strict = _INFIX[prim]
        return wrap(args[0], prec) + op + wrap(args[1], prec, strict), prec
    if prim is lax.neg_p:
        return "-" + wrap(args[0], _ATOM), 3
    if prim is lax.sum_of_products_p:  # the product rule's tx*y + x*ty, as one equation
        return " + ".join(wrap(args[i], 2) + "*" + wrap(args[i + 1], 2)
                          for i in range(0, len(args), 2)), 1
    held = _body_params(eqn.params)
    if held:
        # The bodies are listed under the jaxpr; the other params are in it.
        refs = ",".join(str(bodies.number(b)) for b in held)
        text = f"{prim.name}{{{refs}}}({', '.join(a[0] for a in args)})"
    else:
        params = "".join(f", {k}={core._pp_param(p)}" for k, p in sorted(eqn.params.items()))
        text = f"{prim.name}({', '.join(a[0] for a in args)}{params})"
    if len(eqn.outvars) > 1:
        text += f"[{index}]"
    return text, _ATOM


# ---------------------------------------------------------------------------
# The three walks.  ``labels`` maps the jaxpr's variables to v1..vn (and its
# constvars to c1..cm).


def _labels(jaxpr):
    vs = list(jaxpr.invars) + [v for e in jaxpr.eqns for v in e.outvars]
    labels = {v: f"c{i}" for i, v in enumerate(jaxpr.constvars, 1)}
    labels.update({v: f"v{i}" for i, v in enumerate(vs, 1)})
    return labels


def _read(env, x):
    return x.val if type(x) is Literal else env[x]


def primal_walk(jaxpr, consts, args, record):
    """Evaluate ``jaxpr`` one equation at a time (as ``core.eval_jaxpr``),
    passing every constant, input and equation output through
    ``record(name, value)``."""
    labels = _labels(jaxpr)
    env = {}
    for v, x in safe_zip(jaxpr.constvars, consts):
        env[v] = record(labels[v], x)
    for v, x in safe_zip(jaxpr.invars, args):
        env[v] = record(labels[v], x)
    for eqn in jaxpr.eqns:
        out = core.bind(eqn.primitive, *[_read(env, x) for x in eqn.invars], **eqn.params)
        outs = out if eqn.primitive.multiple_results else [out]
        for v, o in safe_zip(eqn.outvars, outs):
            env[v] = record(labels[v], o)
    return [_read(env, x) for x in jaxpr.outvars]


def forward_walk(jaxpr, consts, primals, tangents, record, name_primal=None):
    """Forward mode by hand: call ``ad.jvp_rules[prim]`` on each equation and
    pass every tangent through ``record(name + "_dot", tangent)`` (and every
    primal output through ``name_primal(value, name)``).  The input tangents
    are not symbolic zeros, so every row appears, zeros included."""
    labels = _labels(jaxpr)
    name_primal = name_primal or (lambda x, name: None)
    env_p, env_t = {}, {}
    for v, c in safe_zip(jaxpr.constvars, consts):
        env_p[v] = c
        env_t[v] = ad.Zero(v.aval)
        name_primal(c, labels[v])
    for v, p, t in safe_zip(jaxpr.invars, primals, tangents):
        env_p[v] = p
        env_t[v] = record(labels[v] + "_dot", t, v.aval)
    for eqn in jaxpr.eqns:
        ps = [_read(env_p, x) for x in eqn.invars]
        ts = [ad.Zero(x.aval) if type(x) is Literal else env_t[x] for x in eqn.invars]
        prim = eqn.primitive
        if prim in ad.nondiff_primitives or all(type(t) is ad.Zero for t in ts):
            # What JVPTrace does: no rule runs, the outputs' tangents are zero.
            out = core.bind(prim, *ps, **eqn.params)
            out = out if prim.multiple_results else [out]
            out_dot = [ad.Zero(v.aval) for v in eqn.outvars]
        else:
            out, out_dot = ad.jvp_rules[prim](ps, ts, **eqn.params)
            if not prim.multiple_results:
                out, out_dot = [out], [out_dot]
        for v, o, t in safe_zip(eqn.outvars, out, out_dot):
            env_p[v] = o
            name_primal(o, labels[v])
            env_t[v] = record(labels[v] + "_dot", t, v.aval)
    return [_read(env_p, x) for x in jaxpr.outvars], [
        ad.Zero(x.aval) if type(x) is Literal else env_t[x] for x in jaxpr.outvars
    ]


def linearize_walk(jaxpr, consts, primals, name_primal=None):
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
        elif name_primal is not None:
            name_primal(x, name)
        return x

    def fun(*xs):
        return primal_walk(jaxpr, consts, xs, note)

    primals_out, program, _ = ad.linearize_flat(fun, list(primals))
    # The tangents were slots of linearize's tape; name the variables of
    # the jaxpr rebuilt from it.
    linear = program.closed
    tangent_of = {program.slot_vars[s]: name for s, name in tangent_of.items()}
    for lv, v in safe_zip(linear.jaxpr.invars, jaxpr.invars):
        if tangent_of.get(lv) != labels[v]:
            raise AssertionError("linearize: the linear jaxpr's inputs are not the tangents")
    return primals_out, linear, tangent_of


class NoReverseTrace(ValueError):
    """The linear jaxpr holds a primitive that cannot be transposed (a
    ``while`` loop): there is no reverse trace, as there is no ``grad``."""


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
            ct = record(tangent_of[v] + "_bar", ct, v.aval)
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
        rule = ad.transpose_rules.get(eqn.primitive)
        if rule is None:
            raise NoReverseTrace(ad.untransposable.get(
                eqn.primitive, f"the primitive {eqn.primitive.name} has no transpose rule"))
        cts_in = rule(cts, *args, **eqn.params)
        for x, ct in safe_zip(eqn.invars, list(cts_in)):
            write_ct(x, ct)
    # The inputs in reverse, so that the table reads vn_bar ... v1_bar.
    cts_in = {v: take_ct(v) for v in reversed(jaxpr.invars)}
    return [cts_in[v] for v in jaxpr.invars]


def _pp_names(jaxpr):
    """The names ``core.pp_jaxpr`` gives the variables: in order of binding."""
    names = core._var_names()
    vs = list(jaxpr.constvars) + list(jaxpr.invars) + [v for e in jaxpr.eqns for v in e.outvars]
    return {v: next(names) for v in vs}


# ---------------------------------------------------------------------------
# Rendering: plain text (the seed's boxes), Markdown, HTML.


def _text_table(title, header, rows):
    cells = [header] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"

    def line(r):
        return "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"

    return "\n".join([title, rule, line(header), rule, *map(line, cells[1:]), rule])


def _summary(rows):
    w0 = max(len(r[0]) for r in rows)
    w1 = max(6, max(len(r[1]) for r in rows))
    w2 = max(len(r[2]) for r in rows)
    lines = [
        f"{a.ljust(w0)} = {b.ljust(w1)} = {c}".ljust(w0 + w1 + w2 + 6)
        + (f"  ({note})" if note else "")
        for a, b, c, note in rows
    ]
    return "\n".join(line.rstrip() for line in lines)


def _md_cell(s):
    return str(s).replace("|", "\\|").replace("\n", " ")


def _list(names):
    return names[0] if len(names) == 1 else "(" + ", ".join(names) + ")"


class Explanation:
    """What ``fxad.explain(f)(*args)`` returns: the jaxpr and the three traces
    of one evaluation, as data and as text.

    Attributes:
        closed: the ``ClosedJaxpr`` of ``f`` at the arguments (``make_jaxpr``).
        linear: the linear ``ClosedJaxpr`` of ``fxad.linearize`` at them.
        primal, forward, reverse: the tables' rows, each a tuple
            ``(name, jaxpr_name, expression, value)``, e.g.
            ``("v3_dot", "c", "v1_dot*v2 + v1*v2_dot", 0.5)``; ``jaxpr_name`` is
            the variable's name in the printed jaxpr (in the linear jaxpr for
            ``reverse``, ``"-"`` when no linear variable holds it).
        inputs: the input names (``"x1"``, ...); outputs: ``"v7"``, ...
        value: the outputs' values (one per output, in order).
        tangent: the outputs' tangents along the ``wrt`` direction.
        grad: the inputs' cotangents (the gradient for a scalar output
            seeded with 1), one per differentiated input; ``None`` when
            there is no reverse trace (see ``reverse_error``).
        reverse_error: why there is no reverse trace (a ``while`` loop is
            not transposable, as for ``fxad.grad``), else ``None``; the
            reverse table is then empty and says so.
        bodies: the nested jaxprs (of calls, loops, branches) that rows refer
            to as ``{1}``, ``{2}``...

    ``str()`` is the plain-text report; ``to_markdown()`` and ``to_html()``
    render the same sections; ``sections()`` gives them as a dict.
    """

    def __init__(self, fun, args, argnums, wrt, ct, name, inputs=None, description=None):
        self.name = name
        self.description = description
        self.args = args
        self.argnums = argnums
        self.inputs = list(inputs) if inputs is not None else [f"x{i + 1}" for i in argnums]
        dyn = [args[i] for i in argnums]
        static = tuple(i for i in range(len(args)) if i not in argnums)
        self.closed = closed = _make_jaxpr(fun, static, args)
        jaxpr, consts = closed.jaxpr, closed.consts
        labels = _labels(jaxpr)
        self._labels = labels
        self.outputs = [
            labels[v] if type(v) is not Literal else format_value(v.val) for v in jaxpr.outvars
        ]
        self.wrt_text, seed_in = _direction(wrt, argnums, self.inputs, dyn)
        seed_out = _cotangents(ct, jaxpr.out_avals)
        self.seed_out = seed_out

        # Values.
        prim, fwd, rev = _Numbers(), _Numbers(), _Numbers()
        self.value = tuple(np.asarray(v)[()] for v in primal_walk(jaxpr, consts, dyn, prim.record))
        _, out_dot = forward_walk(jaxpr, consts, dyn, seed_in, fwd.record)
        self.tangent = tuple(
            _zeros(t.aval)[()] if type(t) is ad.Zero else np.asarray(t)[()] for t in out_dot
        )
        _, self.linear, tangent_of = linearize_walk(jaxpr, consts, dyn)
        self.reverse_error = None
        try:
            grads = reverse_walk(self.linear, seed_out, tangent_of, rev.record)
        except NoReverseTrace as err:
            self.reverse_error, self.grad = str(err), None
        else:
            self.grad = tuple(
                _zeros(v.aval)[()] if g is None or type(g) is ad.Zero else np.asarray(g)[()]
                for g, v in safe_zip(grads, jaxpr.invars)
            )

        # Expressions: the same walks on symbols.
        self._body_list = _Bodies()
        prim_expr, fwd_expr, rev_expr = self._symbolic(jaxpr, consts, seed_in, seed_out)
        self.bodies = self._body_list.items

        jnames = _pp_names(jaxpr)
        lnames = _pp_names(self.linear.jaxpr)
        self.primal = [
            (n, jnames[v], prim_expr.get(n, "?"), prim.rows[n]) for v, n in labels.items()
        ]
        vs = [(v, n) for v, n in labels.items() if v not in set(jaxpr.constvars)]
        self.forward = [
            (n + "_dot", jnames[v], fwd_expr.get(n + "_dot", "0"),
             fwd.rows.get(n + "_dot", _zeros(v.aval)[()]))
            for v, n in vs
        ]
        lin_of = {n: v for v, n in tangent_of.items()}
        self.reverse = [
            (
                n + "_bar",
                lnames[lin_of[n]] if n in lin_of else "-",
                rev_expr.get(n + "_bar", "0"),
                rev.rows.get(n + "_bar", _zeros(v.aval)[()]),
            )
            for v, n in reversed(vs)
        ] if self.reverse_error is None else []

    def _symbolic(self, jaxpr, consts, seed_in, seed_out):
        bodies = self._body_list
        const_names = [self._labels[v] for v in jaxpr.constvars]
        in_avals = [v.aval for v in jaxpr.invars]
        c_avals = [v.aval for v in jaxpr.constvars]
        prim_expr = primal_expressions(jaxpr, self.inputs, bodies)
        bodies.phase = "the JVP rule of the forward trace"
        vnames = [self._labels[v] for v in jaxpr.invars]
        with new_trace(JaxprTrace) as sym:
            s = _Symbols(sym, bodies)
            cs = [s.symbol(n, a) for n, a in zip(const_names, c_avals)]
            vs = [s.symbol(n, a) for n, a in zip(vnames, in_avals)]
            forward_walk(jaxpr, cs, vs, seed_in, s.record, s.name)
            fwd_expr = s.rows
        bodies.phase = "linearize and the transpose rule of the reverse trace"
        if self.reverse_error is not None:
            return prim_expr, fwd_expr, {}
        with new_trace(JaxprTrace) as sym:
            s = _Symbols(sym, bodies)
            cs = [s.symbol(n, a) for n, a in zip(const_names, c_avals)]
            vs = [s.symbol(n, a) for n, a in zip(vnames, in_avals)]
            _, linear_sym, tangent_of_sym = linearize_walk(jaxpr, cs, vs, s.name)
            reverse_walk(linear_sym, seed_out, tangent_of_sym, s.record)
            rev_expr = s.rows
        return prim_expr, fwd_expr, rev_expr

    # -- text ---------------------------------------------------------------

    def _at(self):
        """``(1.5, 0.5)`` when every differentiated argument is a scalar."""
        dyn = [self.args[i] for i in self.argnums]
        if all(np.ndim(x) == 0 for x in dyn):
            return "(" + ", ".join(format_value(x) for x in dyn) + ")"
        return None

    def _rows(self):
        """The summary's rows: (what, which row, value, note)."""
        at = self._at() or ""
        rows = []
        outs = self.outputs
        fname = self.name
        for i, (o, v) in enumerate(zip(outs, self.value)):
            what = f"{fname}{at}" if len(outs) == 1 else f"{fname}{at}[{i}]"
            rows.append((what, o, format_value(v), ""))
        scalar_out = len(outs) == 1 and np.ndim(self.value[0]) == 0
        d = self.wrt_text[0]
        k = self.inputs.index(d) if d in self.inputs else None
        scalar_wrt = k is not None and np.ndim(self.args[self.argnums[k]]) == 0
        along = "" if scalar_wrt or k is None else f" . {d}_dot"
        for i, (o, t) in enumerate(zip(outs, self.tangent)):
            what = f"d{fname}/d{d}{along}{at}" if len(outs) == 1 else \
                f"d{fname}[{i}]/d{d}{along}{at}"
            rows.append((what, o + "_dot", format_value(t), "forward mode: one pass per input"
                         if i == 0 else ""))
        for k, (x, g) in enumerate(zip(self.inputs, self.grad or ())):
            label = self._labels[self.closed.jaxpr.invars[k]] + "_bar"
            what = f"d{fname}/d{x}{at}" if scalar_out else f"ct . d{fname}/d{x}{at}"
            note = "reverse mode: one pass for all inputs" if k == 0 else "the same reverse pass"
            rows.append((what, label, format_value(g), note))
        return rows

    def _intro(self):
        jaxpr = self.closed.jaxpr
        n_in, n_eq = len(jaxpr.invars), sum(len(e.outvars) for e in jaxpr.eqns)
        one_each = all(len(e.outvars) == 1 for e in jaxpr.eqns)
        ins = [self._labels[v] for v in jaxpr.invars]
        parts = []
        if jaxpr.constvars:
            cs = [self._labels[v] for v in jaxpr.constvars]
            what = "is its constant" if len(cs) == 1 else "are its constants"
            parts.append(f"{', '.join(cs)} {what}")
        if n_in:
            parts.append(f"{', '.join(ins)} {'is its input' if n_in == 1 else 'are its inputs'}")
        if n_eq:
            first, last = f"v{n_in + 1}", f"v{n_in + n_eq}"
            span = first if n_eq == 1 else f"{first}..{last}"
            what = "its equations" if one_each else "the outputs of its equations"
            if n_eq == 1:
                what = "its equation" if one_each else "the output of its equation"
            parts.append(f"{span} {what}")
        desc = ", ".join(parts[:-1]) + " and\n" + parts[-1] if len(parts) > 1 else parts[0]
        return desc

    def sections(self, title=None, description=None) -> dict[str, str]:
        """The plain-text report by section, in order: ``function``, ``primal``,
        ``forward``, ``linear``, ``reverse``, ``bodies`` (only when the jaxpr
        holds calls, loops or branches) and ``summary``.  ``title`` replaces
        the first line; ``description`` the function's line (e.g.
        ``"f(x1, x2) = x1*x2 + exp(x1*x2) - sin(x2)"``)."""
        at = self._at()
        call = at if at is not None else "(" + ", ".join(self.inputs) + ")"
        fname = self.name
        head = f"{fname}({', '.join(self.inputs)})"
        description = description or self.description or head
        title = title or "fxad.explain: forward and reverse mode on one function"
        at_line = f"    at {_list(self.inputs)} = {at if len(self.inputs) > 1 else at[1:-1]}" \
            if at is not None else ""
        if at is None:
            at_line = "\n".join(
                ["    at"] + [f"      {x} = {format_value(self.args[i])}"
                             for x, i in zip(self.inputs, self.argnums)]
            )
        secs = {
            "function": "\n".join(
                [
                    title,
                    "",
                    f"  {description}{at_line}",
                    "",
                    f"The jaxpr, fxad.make_jaxpr({fname}){call}. {self._intro()}, in order:",
                    "",
                    str(self.closed),
                ]
            ),
        }
        secs["primal"] = _text_table(
            "Primal (evaluation) trace",
            ["v", "jaxpr", "primal", "value"],
            [(n, j, f"{n} = {e}", format_value(v)) for n, j, e, v in self.primal],
        )
        d, seeded = self.wrt_text
        secs["forward"] = _text_table(
            f"Forward (tangent) trace for d/d{d}: v_dot = dv/d{d}, seeded with "
            f"{seeded}",
            ["v_dot", "jaxpr", "tangent", "value"],
            [(n, j, f"{n} = {e}", format_value(v)) for n, j, e, v in self.forward],
        )
        ins_dot = _list([self._labels[v] + "_dot" for v in self.closed.jaxpr.invars])
        outs_dot = _list([o + "_dot" for o in self.outputs])
        lin_args = ", ".join([fname] + [format_value(self.args[i]) if at else self.inputs[k]
                                        for k, i in enumerate(self.argnums)])
        secs["linear"] = "\n".join(
            [
                f"The linear jaxpr, fxad.linearize({lin_args})[1].jaxpr: the tangent",
                f"equations alone, maps {ins_dot} to {outs_dot}; primal values are constants:",
                "",
                str(self.linear),
            ]
        )
        seeds = ", ".join(
            f"{o}_bar = {_seed_text(c)}" for o, c in zip(self.outputs, self.seed_out)
        )
        if self.reverse_error is None:
            secs["reverse"] = _text_table(
                "Reverse (adjoint) trace: v_bar = df/dv, the cotangent (ct) of v, seeded with "
                f"{seeds}.\nThe linear jaxpr above, transposed: 'linear' names the variable "
                "holding v_dot.",
                ["v_bar", "linear", "cotangent", "value"],
                [(n, j, f"{n} = {e}", format_value(v)) for n, j, e, v in self.reverse],
            )
        else:
            secs["reverse"] = "Reverse (adjoint) trace: none, the linear jaxpr cannot be " \
                "transposed.\n" + textwrap.fill(self.reverse_error, 88)
        if self.bodies:
            secs["bodies"] = "\n\n".join(
                f"Body {{{i}}}, from {o}:\n{b}"
                for i, (b, o) in enumerate(zip(self.bodies, self._body_list.origin), 1)
            )
        secs["summary"] = _summary(self._rows())
        return secs

    def __str__(self):
        return "\n\n".join(self.sections().values())

    def __repr__(self):
        return f"<fxad.explain of {self.name}{self._at() or ''}: {len(self.primal)} rows>"

    # -- Markdown and HTML ----------------------------------------------------

    def _tables(self):
        """(title, header, rows) of the three traces, cells as text."""
        d, seeded = self.wrt_text
        seeds = ", ".join(f"{o}_bar = {_seed_text(c)}" for o, c in zip(self.outputs,
                                                                        self.seed_out))
        tables = [
            ("Primal (evaluation) trace", ["v", "jaxpr", "primal", "value"],
             [(n, j, f"{n} = {e}", format_value(v)) for n, j, e, v in self.primal]),
            (f"Forward (tangent) trace for d/d{d}, seeded with {seeded}",
             ["v_dot", "jaxpr", "tangent", "value"],
             [(n, j, f"{n} = {e}", format_value(v)) for n, j, e, v in self.forward]),
            (f"Reverse (adjoint) trace: v_bar = df/dv, seeded with {seeds}",
             ["v_bar", "linear", "cotangent", "value"],
             [(n, j, f"{n} = {e}", format_value(v)) for n, j, e, v in self.reverse]),
        ]
        return tables if self.reverse_error is None else tables[:2]

    def to_markdown(self) -> str:
        """The report as Markdown: the jaxprs in ``text`` code blocks, the
        traces as Markdown tables, the derivatives as a list."""
        out = [f"**fxad.explain** of `{self.name}({', '.join(self.inputs)})`", "",
               "```text", str(self.closed), "```"]
        for i, b in enumerate(self.bodies, 1):
            out += ["", f"Body {{{i}}}, from {self._body_list.origin[i - 1]}:", "", "```text",
                    str(b), "```"]
        for title, header, rows in self._tables():
            out += ["", f"*{title}*", "", "| " + " | ".join(header) + " |",
                    "|" + "|".join("---" for _ in header) + "|"]
            out += ["| " + " | ".join(f"`{_md_cell(c)}`" if k == 2 else _md_cell(c)
                                      for k, c in enumerate(r)) + " |" for r in rows]
        if self.reverse_error is not None:
            out += ["", f"*No reverse trace*: {self.reverse_error}"]
        out += ["", "Linear jaxpr (`fxad.linearize`):", "", "```text", str(self.linear), "```",
                ""]
        out += [f"- {a} = `{b}` = {c}" + (f" ({n})" if n else "") for a, b, c, n in self._rows()]
        return "\n".join(out)

    def to_html(self) -> str:
        """The report as an HTML fragment (``<div class="fxad-explain">``): the
        jaxprs in ``<pre>``, the traces as ``<table>``s."""
        e = html.escape
        out = ['<div class="fxad-explain">',
               f"<p><b>fxad.explain</b> of <code>{e(self.name)}"
               f"({e(', '.join(self.inputs))})</code></p>",
               f"<pre>{e(str(self.closed))}</pre>"]
        for i, b in enumerate(self.bodies, 1):
            out.append(f"<p>Body {{{i}}}, from {e(self._body_list.origin[i - 1])}:</p>"
                       f"<pre>{e(str(b))}</pre>")
        for title, header, rows in self._tables():
            out.append(f"<table><caption>{e(title)}</caption>")
            out.append("<tr>" + "".join(f"<th>{e(h)}</th>" for h in header) + "</tr>")
            for r in rows:
                out.append("<tr>" + "".join(
                    f"<td><code>{e(str(c))}</code></td>" if k == 2 else f"<td>{e(str(c))}</td>"
                    for k, c in enumerate(r)) + "</tr>")
            out.append("</table>")
        if self.reverse_error is not None:
            out.append(f"<p><i>No reverse trace</i>: {e(self.reverse_error)}</p>")
        out.append(f"<p>Linear jaxpr:</p><pre>{e(str(self.linear))}</pre>")
        out.append("<ul>" + "".join(
            f"<li>{e(a)} = <code>{e(b)}</code> = {e(c)}" + (f" ({e(n)})" if n else "") + "</li>"
            for a, b, c, n in self._rows()) + "</ul>")
        out.append("</div>")
        return "\n".join(out)

    def _repr_html_(self):  # Jupyter
        return self.to_html()


def primal_expressions(jaxpr, inputs, bodies=None) -> dict[str, str]:
    """The primal trace's expression column of ``jaxpr``, ``{"v3": "v1*v2", ...}``
    (constants say ``"constant"``), its inputs called ``inputs``.  Needs no
    values: the primal walk runs on symbols."""
    bodies = _Bodies() if bodies is None else bodies
    labels = _labels(jaxpr)
    const_names = [labels[v] for v in jaxpr.constvars]
    with new_trace(JaxprTrace) as sym:
        s = _Symbols(sym, bodies)
        cs = [s.symbol(n, v.aval) for n, v in safe_zip(const_names, jaxpr.constvars)]
        xs = [s.symbol(n, v.aval) for n, v in safe_zip(list(inputs), jaxpr.invars)]
        s.rows.update({n: "constant" for n in const_names})
        primal_walk(jaxpr, cs, xs, _keep_consts(s, const_names))
    return s.rows


def _keep_consts(s, const_names):
    """The primal walk's recorder, except that a constant keeps its row
    ("constant") and is not re-staged."""
    consts = set(const_names)

    def record(name, x, aval=None):
        if name in consts:
            return x
        return s.record(name, x, aval)

    return record


def _seed_text(c):
    a = np.asarray(c)
    if a.ndim == 0:
        v = a.item()
        return "1" if v == 1 else format_value(a)
    if np.all(a == 1):
        return "ones"
    return format_value(a)


def _make_jaxpr(fun, static, args):
    return make_jaxpr(fun, static_argnums=static)(*args)


def _as_value(x, i):
    if isinstance(x, (np.ndarray, np.generic)):
        return x
    if type(x) in (float, int, complex, bool):
        return np.asarray(x)[()] if type(x) is not float else np.float64(x)
    if isinstance(x, (list, tuple)):
        try:
            return np.asarray(x)
        except ValueError:
            pass
    raise TypeError(
        f"fxad.explain: argument x{i + 1} of type {type(x).__name__} is not a scalar or an "
        f"array: {x!r}. Pass NumPy arrays or numbers; give other arguments through a closure "
        "or leave them out of argnums."
    )


def _direction(wrt, argnums, inputs, dyn):
    """The forward trace's input tangents for ``wrt``, and its description
    ``("x1", "(x1_dot, x2_dot) = (1, 0)")`` (the variable of d/dx1)."""
    if wrt is None:
        wrt = argnums[0]
    if isinstance(wrt, str):
        if wrt not in inputs:
            raise ValueError(
                f"fxad.explain: wrt={wrt!r} names no differentiated input; the inputs are "
                f"{', '.join(inputs)} (argnums={tuple(argnums)})."
            )
        wrt = argnums[inputs.index(wrt)]
    if isinstance(wrt, (int, np.integer)) and not isinstance(wrt, bool):
        if int(wrt) not in argnums:
            raise ValueError(
                f"fxad.explain: wrt={wrt} is not one of argnums={tuple(argnums)}; pass an "
                "argument index from argnums, an input name like 'x1', or a tuple of tangents."
            )
        k = argnums.index(int(wrt))
        seed = [np.ones_like(x) if j == k else np.zeros_like(x) for j, x in enumerate(dyn)]
        names = [x + "_dot" for x in inputs]
        if all(np.ndim(x) == 0 for x in dyn):
            vals = ["1" if j == k else "0" for j in range(len(dyn))]
            seeded = f"{_list(names)} = {_list(vals)}"
        else:
            seeded = ", ".join(
                f"{n} = {'ones' if j == k else 'zeros'}" for j, n in enumerate(names)
            )
        return (inputs[k], seeded), seed
    if isinstance(wrt, (tuple, list)) and len(wrt) == len(dyn):
        seed = []
        for t, x, n in zip(wrt, dyn, inputs):
            t = np.asarray(t, dtype=np.result_type(x))
            if t.shape != np.shape(x):
                raise ValueError(
                    f"fxad.explain: the tangent for {n} has shape {t.shape}, but {n} has "
                    f"shape {np.shape(x)}; give one tangent per input, shaped like it."
                )
            seed.append(t[()])
        seeded = ", ".join(f"{n}_dot = {format_value(t)}" for n, t in zip(inputs, seed))
        return ("t", seeded), seed
    raise TypeError(
        f"fxad.explain: wrt={wrt!r} must be an argument index from argnums={tuple(argnums)}, "
        f"an input name ({', '.join(inputs)}) or a tuple of {len(dyn)} tangents, one per input."
    )


def _cotangents(ct, out_avals):
    if ct is None:
        return [np.ones(a.shape, a.dtype)[()] for a in out_avals]
    cts = list(ct) if isinstance(ct, (tuple, list)) and len(out_avals) > 1 else [ct]
    if len(cts) != len(out_avals):
        raise ValueError(
            f"fxad.explain: ct has {len(cts)} entries but the function has {len(out_avals)} "
            "outputs; give one cotangent per output."
        )
    out = []
    for c, a in zip(cts, out_avals):
        c = np.asarray(c, dtype=a.dtype)
        if c.shape != a.shape:
            raise ValueError(
                f"fxad.explain: a cotangent has shape {c.shape}, but its output has shape "
                f"{a.shape}; shape ct like the output."
            )
        out.append(c[()])
    return out


def explain(
    fun: Callable,
    wrt: int | str | Sequence[Any] | None = None,
    argnums: int | Sequence[int] | None = None,
    *,
    ct: Any = None,
    name: str | None = None,
    inputs: Sequence[str] | None = None,
    description: str | None = None,
) -> Callable[..., Explanation]:
    """Trace tables of ``fun``: ``fxad.explain(fun)(*args)`` returns an
    :class:`Explanation` whose ``str`` is the course notes' report: the
    jaxpr, the primal trace v1..vn, the forward tangent trace along ``wrt``,
    the reverse cotangent (adjoint) trace and the derivatives.

    Args:
        fun: a function of scalars or small arrays returning an array, a
            scalar, or a tuple of them.
        wrt: the forward trace's direction: an argument index (or an input
            name ``"x1"``, ``"x2"``...) to differentiate by (its tangent is 1,
            or ones for an array; the others' are 0), or a tuple of tangents,
            one per differentiated argument.  Default: the first of
            ``argnums``.
        argnums: the arguments to differentiate (default: all).  The others
            are fixed: they are baked into the jaxpr as constants.
        ct: the reverse trace's seed, the outputs' cotangent (default: 1, or
            ones; one per output for several outputs).
        name: the function's name in the report (default: ``fun.__name__``,
            or ``f`` for a lambda).
        inputs: names for the differentiated arguments (default ``x1``,
            ``x2``... by position).
        description: the report's line describing the function, e.g.
            ``"f(x1, x2) = x1*x2 + exp(x1*x2) - sin(x2)"`` (default ``f(x1, x2)``).

    Returns:
        A function of ``*args`` returning an :class:`Explanation`; its
        ``to_markdown()``, ``to_html()`` and ``_repr_html_()`` (Jupyter)
        render the same tables.

    Inputs are named by position, ``x1``, ``x2``..., and the trace's
    variables as the notes do: v1..vk are the inputs, then one per equation
    output.  Array values are shown by shape and their first few values.
    An equation holding a jaxpr (``pjit``, ``cond``, ``scan``, ``while``) is
    one row; its body is listed under the jaxpr and referred to as ``{1}``.

    Example:
        >>> import fxad, fxad.numpy as fnp
        >>> e = fxad.explain(lambda x1, x2: x1 * fnp.sin(x2))(2.0, 0.0)
        >>> [row[2] for row in e.forward]
        ['1.0', '0.0', 'v2_dot*cos(v2)', 'v1_dot*v3 + v1*v3_dot']
        >>> [float(g) for g in e.grad]
        [0.0, 2.0]
    """
    if not callable(fun):
        raise TypeError(f"fxad.explain: expected a function, got {type(fun).__name__}")
    if name is None:
        name = getattr(fun, "__name__", "f")
        if not name.isidentifier():
            name = "f"

    def explained(*args) -> Explanation:
        if not args:
            raise TypeError("fxad.explain: call the result with the function's arguments")
        nums = tuple(range(len(args))) if argnums is None else (
            (argnums,) if isinstance(argnums, int) else tuple(argnums))
        for i in nums:
            if not isinstance(i, (int, np.integer)) or not 0 <= i < len(args):
                raise ValueError(
                    f"fxad.explain: argnums={argnums!r} must hold indices of the "
                    f"{len(args)} arguments."
                )
        if not nums:
            raise ValueError("fxad.explain: argnums is empty; differentiate at least one input")
        args = list(args)
        for i in nums:
            args[i] = _as_value(args[i], i)
            if not np.issubdtype(np.result_type(args[i]), np.inexact):
                raise TypeError(
                    f"fxad.explain: argument x{i + 1} has dtype {np.result_type(args[i])}; "
                    "derivatives are taken by float (or complex) inputs. Pass a float, or "
                    "leave it out of argnums."
                )
        if inputs is not None and (len(inputs) != len(nums) or len(set(inputs)) != len(nums)
                                   or not all(isinstance(n, str) and n for n in inputs)):
            raise ValueError(
                f"fxad.explain: inputs={inputs!r} must be {len(nums)} distinct names, one per "
                "differentiated argument."
            )
        return Explanation(fun, tuple(args), tuple(int(i) for i in nums), wrt, ct, name,
                           inputs, description)

    return explained
