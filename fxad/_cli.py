"""The ``fxad`` command line (also ``python -m fxad``).

``fxad trace EXPR --at x1=1.5 x2=0.5`` prints ``fxad.explain`` of the
expression (or its picture, ``--mermaid`` / ``--dot``, or ``--markdown``);
``fxad jaxpr EXPR --at ...`` prints its jaxpr; ``fxad [--at X1 X2]`` prints
the tutorial's worked example.

The expression is user text, so it is never given to ``eval`` or
``compile``: ``ast.parse`` reads it and a whitelist accepts numbers, the
variables named by ``--at``, ``+ - * / **``, unary ``-`` and ``+``, list
literals and calls (positional arguments only) to the fxad.numpy functions
in ``FUNCTIONS``.  Anything else is rejected, naming the token and its
column, before anything runs; the accepted tree is then walked by a small
evaluator.  Powers of constants are bounded (``9**9**9`` is an error, not a
hang), as are the text's length, its nesting and the arrays' sizes.
"""

from __future__ import annotations

import argparse
import ast
import keyword
import sys
import textwrap

import numpy as np

import fxad.numpy as fnp
from fxad import _tutorial, viz
from fxad._explain import explain
from fxad.api import make_jaxpr

#: The fxad.numpy functions an expression may call (by their own name).
FUNCTIONS = tuple(
    n for n in (
        "sin cos tan arcsin arccos arctan sinh cosh tanh arcsinh arccosh arctanh "
        "exp exp2 expm1 log log2 log10 log1p sqrt cbrt square abs absolute fabs sign "
        "reciprocal negative positive sinc deg2rad rad2deg floor ceil rint trunc "
        "add subtract multiply divide power maximum minimum arctan2 hypot logaddexp "
        "logaddexp2 fmax fmin copysign sum prod mean max min std var cumsum cumprod "
        "dot matmul inner outer vdot"
    ).split()
    if callable(getattr(fnp, n, None))
)

MAX_LENGTH = 2000  # characters of an expression
MAX_DEPTH = 60  # nesting of the expression tree
MAX_EXPONENT = 64  # |exponent| of a power whose exponent is a constant
MAX_ARGS = 4  # arguments of a call
MAX_SIZE = 10_000  # elements of an array given by --at

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_UNARY = {ast.USub: "-", ast.UAdd: "+"}

# What an ast node is, for the error message.
_DESCRIBE = {
    ast.Attribute: "attribute access", ast.Lambda: "a lambda", ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension", ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a generator expression", ast.Subscript: "indexing",
    ast.Compare: "a comparison", ast.BoolOp: "a boolean operator", ast.IfExp: "a conditional",
    ast.Dict: "a dict", ast.Set: "a set", ast.Tuple: "a tuple", ast.Starred: "unpacking",
    ast.JoinedStr: "an f-string", ast.NamedExpr: "an assignment (:=)", ast.Await: "await",
    ast.Yield: "yield", ast.YieldFrom: "yield", ast.Slice: "a slice",
}


class ExpressionError(ValueError):
    """Bad user input: the message names the offending token and its column."""


class _Source(str):
    """The expression's text without its leading blanks, which ``pad``
    counts: a column in a message counts from the text as given."""

    pad = 0


def _where(text, node):
    seg = ast.get_source_segment(text, node) or type(node).__name__
    if len(seg) > 40:
        seg = seg[:37] + "..."
    return f"{seg!r} at column {node.col_offset + 1 + getattr(text, 'pad', 0)}"


ALLOWED = (
    "numbers, the variables given by --at, + - * / **, unary - and +, [lists] and "
    "calls of fxad.numpy functions such as sin(x1)"
)


def parse(text: str, variables) -> ast.Expression:
    """``text`` as an ``ast.Expression`` that passes the whitelist, or an
    ``ExpressionError``.  Nothing in ``text`` runs."""
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("the expression is empty; write e.g. 'x1*x2 + sin(x2)'")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the expression has {len(text)} characters; at most {MAX_LENGTH}")
    for i, c in enumerate(text):
        if not c.isprintable():
            raise ExpressionError(
                f"the control character {c!r} at column {i + 1}; write the expression on "
                "one line")
    src = _Source(text.strip())
    src.pad = len(text) - len(text.lstrip())
    try:
        tree = ast.parse(src, mode="eval")
    except SyntaxError as e:
        col = f" at column {e.offset + src.pad}" if e.offset else " at the end"
        bad = ""
        if e.offset and e.text and 0 < e.offset <= len(e.text):
            bad = f" near {e.text[e.offset - 1:].strip()[:20]!r}"
        raise ExpressionError(f"syntax error{col}{bad}: {e.msg}") from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError(f"the expression is nested too deeply (at most {MAX_DEPTH})") \
            from None
    _check(tree.body, src, set(variables), 0)
    return tree


def _check(node, text, variables, depth):
    if depth > MAX_DEPTH:
        raise ExpressionError(f"the expression is nested too deeply (at most {MAX_DEPTH})")
    t = type(node)
    if t is ast.Constant:
        v = node.value
        if type(v) not in (int, float):
            what = "a string" if isinstance(v, (str, bytes)) else f"the constant {v!r}"
            raise ExpressionError(f"{what} {_where(text, node)} is not allowed; use {ALLOWED}")
        if type(v) is int and abs(v) > 10**30:
            raise ExpressionError(f"the number {_where(text, node)} is too large")
        return
    if t is ast.Name:
        if node.id in variables:
            return
        hint = f"the variables are {', '.join(sorted(variables))} (from --at)" if variables \
            else "give variables with --at, e.g. --at x1=1.5"
        if node.id in FUNCTIONS:
            hint = f"{node.id} is a function: call it, e.g. {node.id}(x1)"
        raise ExpressionError(f"unknown name {_where(text, node)}; {hint}")
    if t is ast.BinOp:
        if type(node.op) not in _BINOPS:
            # The operator's token lies between its operands.
            start, stop = node.left.end_col_offset, node.right.col_offset
            token = text[start:stop].strip().strip("()").strip() or "?"
            col = start + text[start:stop].index(token[0]) + 1 + text.pad
            raise ExpressionError(
                f"the operator {token!r} at column {col} is not allowed; use + - * / **")
        if type(node.op) is ast.Pow:
            value = _constant(node.right)
            if value is not None and not abs(value) <= MAX_EXPONENT:
                raise ExpressionError(
                    f"the exponent {_where(text, node.right)} is {value:g}; a constant "
                    f"exponent is bounded by {MAX_EXPONENT} in size"
                )
        _check(node.left, text, variables, depth + 1)
        _check(node.right, text, variables, depth + 1)
        return
    if t is ast.UnaryOp:
        if type(node.op) not in _UNARY:
            raise ExpressionError(
                f"the operator {_where(text, node)} is not allowed; use unary - or +")
        _check(node.operand, text, variables, depth + 1)
        return
    if t is ast.List:
        if not node.elts:
            raise ExpressionError(f"an empty list {_where(text, node)}")
        for x in node.elts:
            _check(x, text, variables, depth + 1)
        return
    if t is ast.Call:
        f = node.func
        if type(f) is not ast.Name:
            raise ExpressionError(
                f"calling {_where(text, f)} is not allowed: call fxad.numpy functions by "
                "their name, e.g. sin(x1)")
        if f.id not in FUNCTIONS:
            raise ExpressionError(
                f"unknown function {_where(text, f)}; call fxad.numpy functions such as "
                "sin, exp, log, sqrt, sum, dot (the list is in --help)")
        if node.keywords:
            raise ExpressionError(
                f"keyword argument {_where(text, node.keywords[0].value)} in a call to "
                f"{f.id}: give arguments by position")
        if len(node.args) > MAX_ARGS:
            raise ExpressionError(f"{f.id} {_where(text, node)} has too many arguments")
        for x in node.args:
            _check(x, text, variables, depth + 1)
        return
    what = _DESCRIBE.get(t, type(node).__name__)
    raise ExpressionError(f"{what} {_where(text, node)} is not allowed; use {ALLOWED}")


def _constant(node):
    """The value of a variable-free arithmetic subtree (floats, bounded), or
    None when it holds a variable or a call."""
    t = type(node)
    if t is ast.Constant and type(node.value) in (int, float):
        return float(node.value)
    if t is ast.UnaryOp and type(node.op) in _UNARY:
        v = _constant(node.operand)
        return None if v is None else (-v if type(node.op) is ast.USub else v)
    if t is ast.BinOp and type(node.op) in _BINOPS:
        a, b = _constant(node.left), _constant(node.right)
        if a is None or b is None:
            return None
        op = type(node.op)
        try:
            if op is ast.Pow:
                if abs(b) > MAX_EXPONENT:
                    return b  # reported by the caller's check of this power
                return float(a**b) if not (a < 0 and b != int(b)) else float("nan")
            return {ast.Add: a + b, ast.Sub: a - b, ast.Mult: a * b}.get(op, a / b if b else
                                                                          float("inf"))
        except OverflowError:
            return float("inf")
    return None


def evaluator(tree: ast.Expression, names):
    """A Python function of the variables ``names`` computing ``tree`` (already
    checked by ``parse``) with fxad.numpy."""
    names = list(names)

    def ev(node, env, arg_pos=0):
        t = type(node)
        if t is ast.Constant:
            # Floats, so that no constant arithmetic runs on Python's big ints;
            # an integer argument after the first (an axis) stays an int.
            return node.value if arg_pos and type(node.value) is int else float(node.value)
        if t is ast.Name:
            return env[node.id]
        if t is ast.BinOp:
            a, b = ev(node.left, env), ev(node.right, env)
            op = type(node.op)
            if op is ast.Add:
                return a + b
            if op is ast.Sub:
                return a - b
            if op is ast.Mult:
                return a * b
            if op is ast.Div:
                return a / b
            return a**b
        if t is ast.UnaryOp:
            x = ev(node.operand, env)
            return -x if type(node.op) is ast.USub else +x
        if t is ast.List:
            return fnp.stack([fnp.asarray(ev(x, env)) for x in node.elts])
        if t is ast.Call:
            fn = getattr(fnp, node.func.id)
            return fn(*[ev(x, env, i) for i, x in enumerate(node.args)])
        raise AssertionError(f"unchecked node {t.__name__}")  # parse() rejects it

    def f(*xs):
        return ev(tree.body, dict(zip(names, xs, strict=True)))

    f.__name__ = "f"
    return f


def parse_at(items) -> dict[str, np.ndarray]:
    """``["x1=1.5", "x2=[1, 2]"]`` -> ``{"x1": 1.5, "x2": array([1., 2.])}``."""
    out: dict = {}
    for item in items:
        name, eq, value = item.partition("=")
        name = name.strip()
        if not eq:
            raise ExpressionError(f"--at {item!r}: write NAME=VALUE, e.g. --at x1=1.5 x2=0.5")
        if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
            raise ExpressionError(f"--at {item!r}: {name!r} is not a variable name")
        if name in FUNCTIONS:
            raise ExpressionError(f"--at {item!r}: {name!r} is a function's name")
        if name in out:
            raise ExpressionError(f"--at {item!r}: {name} is given twice")
        out[name] = _parse_value(value.strip(), item)
    return out


def _parse_value(text, item):
    try:
        node = ast.parse(text, mode="eval").body if len(text) <= MAX_LENGTH else None
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        node = None

    def literal(n, depth=0):
        if depth > 8:
            raise ExpressionError(f"--at {item!r}: the array is nested too deeply")
        if type(n) is ast.Constant and type(n.value) in (int, float):
            return float(n.value)
        if type(n) is ast.UnaryOp and type(n.op) in _UNARY:
            v = literal(n.operand, depth + 1)
            return -v if type(n.op) is ast.USub else v
        if type(n) is ast.List and n.elts:
            return [literal(x, depth + 1) for x in n.elts]
        raise ExpressionError(
            f"--at {item!r}: the value must be a number or a list of numbers, e.g. x1=1.5 "
            "or x1=[1, 2, 3]")

    if node is None:
        literal(None)
    value = literal(node)
    try:
        a = np.asarray(value, dtype=np.float64)
    except ValueError:
        raise ExpressionError(f"--at {item!r}: the rows of the array differ in length") \
            from None
    if a.size > MAX_SIZE:
        raise ExpressionError(f"--at {item!r}: {a.size} elements; at most {MAX_SIZE}")
    return a[()]


# ---------------------------------------------------------------------------
# The command line

EPILOG = """\
examples:
  fxad                                   the tutorial's worked example at (1.5, 0.5)
  fxad --at 1.0 2.0                      ... at (x1, x2) = (1.0, 2.0)
  fxad trace "x1*x2 + exp(x1*x2) - sin(x2)" --at x1=1.5 x2=0.5
  fxad trace "x1*x2 + exp(x1*x2) - sin(x2)" --at x1=1.5 x2=0.5 --wrt x2
  fxad trace "sum(sin(x) * x)" --at "x=[0.5, 1.0, 2.0]" --markdown
  fxad trace "x1*exp(x2)" --at x1=2 x2=0 --mermaid
  fxad trace "x1*exp(x2)" --at x1=2 x2=0 --dot --values reverse | dot -Tsvg > trace.svg
  fxad jaxpr "sum(sin(x) * x)" --at "x=[0.5, 1.0, 2.0]"
  fxad trace --at x1=2 -- "-x1**2"        (an expression starting with -: after --)

""" + textwrap.fill("Expressions: " + ALLOWED + ".", 79) + "\n" + textwrap.fill(
    "fxad.numpy functions: " + ", ".join(FUNCTIONS) + ".", 79) + """
Bad input exits with status 2."""


def _parser(prog):
    p = argparse.ArgumentParser(
        prog=prog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="fxad's evaluation traces: the jaxpr, the primal trace v1..vn, the "
        "forward tangent trace and the reverse cotangent (adjoint) trace of an expression. "
        f"Without a subcommand: the tutorial's worked example, {_tutorial.FUNCTION}.",
        epilog=EPILOG,
    )
    p.add_argument(
        "--at", nargs=2, type=float, metavar=("X1", "X2"), default=list(_tutorial.DEFAULT_AT),
        help="the worked example's point (default: 1.5 0.5)",
    )
    sub = p.add_subparsers(dest="command", metavar="{trace,jaxpr}")
    for name, helptext in (
        ("trace", "print fxad.explain of an expression: the jaxpr and the trace tables"),
        ("jaxpr", "print the jaxpr of an expression (fxad.make_jaxpr)"),
    ):
        s = sub.add_parser(name, help=helptext, description=helptext, epilog=EPILOG,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        s.add_argument("expression", help='e.g. "x1*x2 + exp(x1*x2) - sin(x2)"')
        s.add_argument("--at", nargs="+", required=True, metavar="NAME=VALUE",
                       help="the variables, in order, and their values: x1=1.5 x2=[1, 2]")
        if name == "trace":
            s.add_argument("--wrt", metavar="NAME",
                           help="the forward trace's variable (default: the first)")
            out = s.add_mutually_exclusive_group()
            out.add_argument("--mermaid", action="store_true", help="a Mermaid flowchart")
            out.add_argument("--dot", action="store_true", help="a Graphviz DOT graph")
            out.add_argument("--markdown", action="store_true", help="Markdown tables")
            out.add_argument("--html", action="store_true", help="an HTML fragment")
            s.add_argument("--values", choices=("forward", "reverse"),
                           help="with --mermaid or --dot: show these values on the nodes")
    return p


def run(args) -> str:
    """The text ``fxad trace`` / ``fxad jaxpr`` prints for parsed ``args``."""
    at = parse_at(args.at)
    tree = parse(args.expression, at)
    names = list(at)
    fun = evaluator(tree, names)
    values = [at[n] for n in names]
    if args.command == "jaxpr":
        return str(make_jaxpr(fun)(*values))
    if args.wrt is not None and args.wrt not in at:
        raise ExpressionError(
            f"--wrt {args.wrt}: not a variable; the variables are {', '.join(names)}")
    wrt = names.index(args.wrt) if args.wrt is not None else 0
    if args.values and not (args.mermaid or args.dot):
        raise ExpressionError("--values goes with --mermaid or --dot")
    e = explain(fun, wrt=wrt, description=f"f({', '.join(names)}) = {args.expression.strip()}",
                inputs=names)(*values)
    if args.mermaid:
        return viz.to_mermaid(e, values=args.values)
    if args.dot:
        return viz.to_dot(e, values=args.values)
    if args.markdown:
        return e.to_markdown()
    if args.html:
        return e.to_html()
    return str(e)


def main(argv=None, prog="fxad") -> int:
    """Run the command line on ``argv`` (default ``sys.argv[1:]``); returns
    the exit status: 0, or 2 for bad input (with the reason on stderr)."""
    p = _parser(prog)
    try:
        args = p.parse_args(argv)
    except SystemExit as e:  # --help (0) or argparse's own usage error (2)
        return int(e.code or 0)
    if args.command is None:
        print(_tutorial.render(*args.at))
        return 0
    try:
        text = run(args)
    except ExpressionError as e:
        sub = f"{prog} {args.command}"
        print(f"usage: {sub} EXPRESSION --at NAME=VALUE ...  (see {sub} --help)",
              file=sys.stderr)
        print(f"{sub}: error: {e}", file=sys.stderr)
        return 2
    except (OverflowError, ZeroDivisionError) as e:
        print(f"{prog} {args.command}: error: evaluating the expression: {e}", file=sys.stderr)
        return 2
    except (TypeError, ValueError) as e:
        # fxad's own message (a shape mismatch, a wrong argument to a function).
        print(f"{prog} {args.command}: error: {e}", file=sys.stderr)
        return 2
    print(text)
    return 0


def console() -> int:
    """The ``fxad`` console script."""
    return main(sys.argv[1:], prog="fxad")
