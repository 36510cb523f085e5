"""``jit``: trace once per signature, optimise, generate Python, run that.

``fxad.jit(f)`` returns a ``JitFunction``.  A call flattens the arguments
(pytrees; the static ones are set aside) and looks up a cache keyed by the
pytree structure, the abstract value of each leaf *including its weak type*
(a Python float and a ``numpy.float64`` promote differently, so they are
traced separately), and the static arguments.  On a miss it traces ``f`` to a
jaxpr on abstract inputs (``partial_eval.trace_to_jaxpr``), optimises it
(``interpreters.optimize``: constant folding, CSE, DCE) and, on the first
concrete call, generates and compiles straight-line Python for it
(``interpreters.codegen``).  Later calls with the same signature run the
compiled function directly.  The cache is a bounded LRU
(``fxad.config.jit_cache_size``); ``fxad.config.update("log_compiles", True)``
logs each trace with the signature that caused it.  Arrays ``f`` closes over
are copied at trace time, so later mutation does not reach the program
(JAX's rule; docs/jit.md says all of this with examples).

Composition.  When any argument is a tracer (``jit`` is called under
``grad``, ``jvp``, ``vmap``, ``make_jaxpr`` or an outer ``jit``'s tracing),
the compiled code is not run: the jit function binds the call primitive
``pjit`` with its traced, optimised body (``pjit[name=f jaxpr={...}]``), and
the transformation applies to the call as a whole (the ``pjit`` block below
has its rule for every interpreter).  So ``make_jaxpr(lambda x: jit(f)(x) +
1)`` shows one ``pjit`` equation holding ``f``'s jaxpr; ``grad`` of a
function calling ``jit(f)`` traces ``f`` once and afterwards runs two
compiled bodies per call (the known half of the JVP, computing the value
and the residuals, and the transposed tangent half); ``jit(grad(jit(f)))``
holds calls in its traced program, which ``optimize`` inlines, so one
function is generated.  ``grad``, ``jacfwd``, ``jacrev``, ``hessian`` and
``vmap`` of a jit function itself are rewritten to that form
(``JitFunction._commute``, installed in ``api.commute_rules``).  A body
that closed over a tracer of an enclosing transformation (``f`` uses a value
being differentiated) is closure-converted: the tracers become leading
operands of the call; such a trace is not cached.

Python control flow on a traced value inside ``jit`` raises
``fxad.errors.ConcretizationTypeError``: mark the argument static with
``static_argnums``/``static_argnames`` (static arguments are passed to ``f``
as the Python values themselves and are part of the cache key, so they must
be hashable), or compute both branches and choose with
``fxad.numpy.where``.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np

from fxad import api as _api
from fxad import lax as _lax
from fxad import tree_util
from fxad.api import _to_output
from fxad.core import (
    ClosedJaxpr,
    Literal,
    Tracer,
    config,
    eval_jaxpr,
    gc_paused,
    new_primitive,
    pp_jaxpr,
    shaped,
)
from fxad.errors import ConcretizationTypeError
from fxad.interpreters import calls, codegen
from fxad.interpreters import optimize as _opt
from fxad.interpreters.optimize import optimize
from fxad.interpreters.partial_eval import trace_to_jaxpr

__all__ = ["jit", "JitFunction", "Lowered", "pjit_p"]

#: ``fxad.config.update("log_compiles", True)`` logs each trace here.
logger = logging.getLogger("fxad.jit")

_PY_SCALARS = (float, int, complex)
# Python scalars are weakly typed (get_aval's rule), looked up directly.
_PY_AVALS = {float: shaped((), np.dtype(np.float64), True),
             int: shaped((), np.dtype(np.int64), True),
             complex: shaped((), np.dtype(np.complex128), True)}




# ---------------------------------------------------------------------------
# The call primitive ``pjit``
#
# ``pjit[name=f jaxpr={...}] *args`` calls the closed jaxpr ``jaxpr`` (the
# traced, optimised body of a jit function) on ``args``.  Under any
# transformation a jit function binds it instead of inlining its body, so the
# body is traced once and every interpreter transforms it as a whole: its
# JVP is a call of the body's JVP, linearize splits it into a known call
# (evaluated now) and an unknown, linear call (staged, residuals crossing the
# boundary), its transpose is a call of the transposed body, vmap calls the
# batched body, and eagerly it runs the body's generated code.  Every derived
# body is memoised on the jaxpr it comes from (``ClosedJaxpr.memo``), so
# ``grad(jit(f))`` in a loop re-traces nothing.

pjit_p = new_primitive("pjit", multiple_results=True)
calls.defcall(pjit_p)
# Under an outer jit the call is inlined, so one function is generated.
_opt.inline_rules[pjit_p] = lambda eqn: eqn.params["jaxpr"]


class _Entry:
    """One cache entry: the optimised program of one signature."""

    __slots__ = ("closed", "out_tree", "executable", "cacheable", "run", "finish",
                 "finish_run", "const_args")

    def __init__(self, closed, out_tree, cacheable, const_args=()):
        self.closed = closed
        # Tracers the body closed over, passed to the call as leading operands.
        self.const_args = list(const_args)
        self.out_tree = out_tree
        self.executable = None
        self.cacheable = cacheable
        self.finish = _output_builder(out_tree, True)
        self.run = None  # the compiled program, once generated
        self.finish_run = None

    def compiled(self):
        exe = self.executable
        if exe is None:
            with gc_paused():
                exe = self.executable = codegen.generate(self.closed)
            # The scalar form returns NumPy scalars already.
            self.finish_run = _output_builder(self.out_tree, not exe.scalar)
            self.run = exe.run
        return exe


def _capture_copies(closed):
    """The arrays ``f`` closed over, copied: as in JAX, a jit function sees
    their values at trace time, whatever the optimiser later does with them
    (folded into a constant or read at run time).  Without this, mutating a
    captured array after the trace changed some programs and not others."""
    consts = [np.array(c) if isinstance(c, np.ndarray) else c for c in closed.consts]
    for eqn in closed.jaxpr.eqns:
        for v in eqn.invars:
            if type(v) is Literal and isinstance(v.val, np.ndarray):  # 0-d arrays inline
                v.val = v.val.copy()
    for v in closed.jaxpr.outvars:
        if type(v) is Literal and isinstance(v.val, np.ndarray):
            v.val = v.val.copy()
    return ClosedJaxpr(closed.jaxpr, consts)


def _output_builder(out_tree, convert):
    """``outs -> result``: NumPy outputs (``_to_output``, unless ``convert``
    is false) in ``out_tree``'s structure, with shortcuts for one output and
    for a flat tuple."""
    n = out_tree.num_leaves
    if out_tree == _LEAF:
        return (lambda outs: _to_output(outs[0])) if convert else (lambda outs: outs[0])
    if out_tree == tree_util.tree_structure((0,) * n):
        return (lambda outs: tuple([_to_output(o) for o in outs])) if convert else tuple
    if convert:
        return lambda outs: tree_util.tree_unflatten(out_tree, [_to_output(o) for o in outs])
    return lambda outs: tree_util.tree_unflatten(out_tree, list(outs))


_LEAF = tree_util.tree_structure(0)


class Lowered:
    """A traced and optimised program for one signature of a ``JitFunction``.

    ``as_text()`` is the optimised jaxpr, ``source()`` the generated Python,
    ``jaxpr`` the ``ClosedJaxpr`` itself, ``compile()`` a callable running it.
    """

    def __init__(self, jit_fun, entry, key):
        self._jit_fun = jit_fun
        self._entry = entry
        self._key = key

    @property
    def jaxpr(self) -> ClosedJaxpr:
        return self._entry.closed

    def as_text(self) -> str:
        return pp_jaxpr(self._entry.closed.jaxpr)

    def source(self) -> str:
        return self._entry.compiled().source

    def compile(self):
        """A callable that runs this program (same arguments as the jit
        function; other shapes, dtypes or static values are an error)."""
        self._entry.compiled()
        key = self._key
        call = self._jit_fun._call_lowered
        return lambda *args, **kwargs: call(key, args, kwargs)

    def __repr__(self):
        return f"Lowered({getattr(self._jit_fun, '__name__', 'fun')})"


class _NotAnArray(TypeError):
    """An argument leaf jit cannot trace (a transformation's jit then lets
    the transformation itself say what is wrong)."""


def _static_key(v, where):
    try:
        hash(v)
    except TypeError:
        raise TypeError(
            f"{where} is static, so it must be hashable (it is part of jit's cache key), "
            f"but got an unhashable {type(v).__name__}: {v!r}. Pass a tuple instead of a "
            "list, or make the argument dynamic (an array) by leaving it out of "
            "static_argnums/static_argnames."
        ) from None
    return (type(v), v)


def _validate_statics(name, params, positional, nums, names):
    """As JAX does when ``jit`` is applied: a static position past the
    positional parameters, or a static name that is not a parameter, is a
    mistake that would otherwise be ignored silently."""
    if not any(p.kind is p.VAR_POSITIONAL for p in params):
        n = len(positional)
        bad = sorted(i for i in nums if not -n <= i < n)
        if bad:
            raise ValueError(
                f"jit({name}): static_argnums {tuple(bad)} out of range: {name} takes "
                f"{n} positional argument{'s' if n != 1 else ''} "
                f"({', '.join(p.name for p in positional) or 'none'}); use positions "
                f"0 to {n - 1} (or -{n} to -1), or static_argnames.")
    if not any(p.kind is p.VAR_KEYWORD for p in params):
        by_name = [p.name for p in params if p.kind is not p.POSITIONAL_ONLY
                   and p.kind is not p.VAR_POSITIONAL]
        bad = sorted(s for s in names if s not in by_name)
        if bad:
            raise ValueError(
                f"jit({name}): static_argnames {tuple(bad)} are not parameters of {name}, "
                f"which takes {', '.join(by_name) or 'no arguments'} by name; check the "
                "spelling, or use static_argnums for positional-only parameters.")


class JitFunction:
    """The object ``fxad.jit`` returns: call it like ``fun``.

    Also ``lower(*args, **kwargs)`` (the ``Lowered`` program for those
    arguments), ``_cache_size()`` and ``_trace_count`` (for tests).
    """

    def __init__(self, fun: Callable, static_argnums=(), static_argnames=()):
        if not callable(fun):
            raise TypeError(f"jit: expected a callable, got {type(fun).__name__}: {fun!r}")
        functools.update_wrapper(self, fun)
        self._fun = fun
        nums = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
        names = (static_argnames,) if isinstance(static_argnames, str) else \
            tuple(static_argnames)
        for n in nums:
            if not isinstance(n, int):
                raise TypeError(f"jit: static_argnums must be ints, got {n!r}")
        for s in names:
            if not isinstance(s, str):
                raise TypeError(f"jit: static_argnames must be strings, got {s!r}")
        # As JAX does: a static position also makes its parameter name static
        # (and vice versa), so passing it by keyword works the same.
        nums, names = set(nums), set(names)
        try:
            params = list(inspect.signature(fun).parameters.values())
        except (TypeError, ValueError):
            params = []
        positional = [p for p in params
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        if params:
            _validate_statics(getattr(fun, "__name__", type(fun).__name__), params,
                              positional, nums, names)
        for i, p in enumerate(positional):
            if i in nums and p.kind is p.POSITIONAL_OR_KEYWORD:
                names.add(p.name)
            if p.name in names:
                nums.add(i)
        self._static_argnums = frozenset(nums)
        self._static_argnames = frozenset(names)
        self._has_static = bool(nums or names)
        # Least recently used first; bounded by config.jit_cache_size.
        self._cache: OrderedDict = OrderedDict()
        self._trace_count = 0
        self._name = getattr(fun, "__name__", type(fun).__name__)
        # For a transformation's jit (``_commute``): that transformation on the
        # general path, which gives its own error for a non-array argument.
        self._general = None
        self._transforms: dict = {}  # (transform, params) -> its jit, made once

    # -- the cache key -------------------------------------------------------
    #
    # ``(in_tree, avals, statics)``.  Without static arguments and keyword
    # arguments (the fast path) ``in_tree`` is the structure of ``args`` and
    # ``statics`` is None; otherwise ``in_tree`` is that of ``(args, kwargs)``
    # without the static ones, and ``statics`` holds those.

    def _signature(self, args, kwargs):
        """``(leaves, key, has_tracer)`` for a call."""
        if not kwargs and not self._has_static:
            leaves, in_tree = tree_util.tree_flatten(args)
            statics = None
        else:
            statics = ()
            if self._has_static:
                where = f"jit({self._name})"
                nargs = len(args)
                static_pos = {n % nargs for n in self._static_argnums if -nargs <= n < nargs}
                sargs = tuple((i, _static_key(args[i], f"{where}: argument {i}"))
                              for i in sorted(static_pos))
                skw = tuple((k, _static_key(kwargs[k], f"{where}: argument {k!r}"))
                            for k in sorted(kwargs) if k in self._static_argnames)
                statics = (sargs, skw)
                if static_pos:
                    args = tuple(a for i, a in enumerate(args) if i not in static_pos)
                if skw:
                    kwargs = {k: v for k, v in kwargs.items()
                              if k not in self._static_argnames}
            leaves, in_tree = tree_util.tree_flatten((args, kwargs))
        avals = []
        has_tracer = False
        for k, x in enumerate(leaves):
            t = type(x)
            a = _PY_AVALS.get(t)
            if a is None:
                if t is np.ndarray or t is np.float64:
                    a = shaped(x.shape, x.dtype)
                elif isinstance(x, Tracer):
                    a = x.aval
                    has_tracer = True
                elif isinstance(x, np.ndarray):  # subclasses (np.matrix) as plain arrays
                    x = leaves[k] = np.asarray(x)
                    a = shaped(x.shape, x.dtype)
                elif isinstance(x, np.generic):
                    a = shaped(x.shape, x.dtype)
                elif t is bool:
                    x = leaves[k] = np.bool_(x)
                    a = shaped((), x.dtype)
                else:
                    raise _NotAnArray(
                        f"jit({self._name}): an argument leaf of type {t.__name__} is not an "
                        f"array: {x!r}. Arguments must be NumPy arrays, NumPy scalars or "
                        "Python numbers (or pytrees of them); mark other arguments static "
                        "with static_argnums or static_argnames, or pass them through a "
                        "closure.")
            avals.append(a)
        return leaves, (in_tree, tuple(avals), statics), has_tracer

    # -- tracing ---------------------------------------------------------------

    def _trace(self, key):
        in_tree, avals, statics = key
        store = {}
        fun = self._fun
        static_pos = dict(statics[0]) if statics else {}
        static_kw = dict(statics[1]) if statics else {}

        def flat_fun(*leaves):
            if statics is None:
                full, kw = list(tree_util.tree_unflatten(in_tree, list(leaves))), {}
            else:
                dyn_args, kw = tree_util.tree_unflatten(in_tree, list(leaves))
                full = list(dyn_args)
                for i in sorted(static_pos):
                    full.insert(i, static_pos[i][1])
                kw = dict(kw)
                for k, (_, v) in static_kw.items():
                    kw[k] = v
            out = fun(*full, **kw)
            out_leaves, store["out_tree"] = tree_util.tree_flatten(out)
            for x in out_leaves:
                if not isinstance(x, (Tracer, np.ndarray, np.generic, bool) + _PY_SCALARS):
                    raise TypeError(
                        f"jit({self._name}): the function returned a {type(x).__name__} "
                        f"({x!r}); outputs must be arrays or scalars (or pytrees of them).")
            return out_leaves

        self._trace_count += 1
        if config.log_compiles:
            logger.warning("jit: tracing %s for %s", self._name, self._describe(key))
        with gc_paused():
            try:
                closed = trace_to_jaxpr(flat_fun, list(avals))
            except ConcretizationTypeError as e:
                if self._general is not None:
                    raise  # from the jit function inside, which explained it
                raise ConcretizationTypeError(self._concretization_message(e, avals)) from e
            closed, const_args = calls.closure_convert(closed)
            closed = optimize(_capture_copies(closed))
        return _Entry(closed, store["out_tree"], not const_args, const_args)

    def _describe(self, key):
        """The signature ``key`` as a user reads it: ``(f32[3], f64[] weak)``
        and the static values."""
        in_tree, avals, statics = key
        text = "(" + ", ".join(a.str_short() + (" weak" if a.weak_type else "")
                               for a in avals) + ")"
        if statics:
            sargs, skw = statics
            parts = [f"argument {i}={v!r}" for i, (_, v) in sargs]
            parts += [f"{k}={v!r}" for k, (_, v) in skw]
            text += " with static " + ", ".join(parts)
        return text

    def _concretization_message(self, e, avals):
        shapes = ", ".join(a.str_short() + (" weak" if a.weak_type else "") for a in avals)
        ways = ("mark that argument static with static_argnums=... or static_argnames=... "
                "(it is then a Python value at trace time and part of the cache key), or "
                "compute both branches and select with fxad.numpy.where")
        if hasattr(_lax, "cond"):
            ways += ", or use structured control flow (fxad.lax.cond, fxad.lax.while_loop)"
        return (f"{e}\n\nWhile tracing {self._name} for jit with abstract arguments "
                f"({shapes}): a Python `if`, `while`, bool(), float() or int() needs the "
                f"value of an argument, which jit does not know when it traces. To branch "
                f"on it, {ways}.")

    def _entry(self, key):
        cache = self._cache
        entry = cache.get(key)
        if entry is None:
            entry = self._trace(key)
            if entry.cacheable:
                cache[key] = entry
                while len(cache) > config.jit_cache_size:
                    cache.popitem(last=False)
        elif len(cache) > 1:
            cache.move_to_end(key)
        return entry

    # -- calling ---------------------------------------------------------------

    def __call__(self, *args, **kwargs):
        try:
            leaves, key, has_tracer = self._signature(args, kwargs)
        except _NotAnArray:
            if self._general is None:
                raise
            return self._general(*args, **kwargs)  # the transformation's own error
        cache = self._cache
        entry = cache.get(key)
        if entry is None:
            entry = self._entry(key)
        elif len(cache) > 1:  # LRU order; one signature (the usual case) needs none
            cache.move_to_end(key)
        if has_tracer or not entry.cacheable:
            # Under a transformation: one call of the body, which the
            # transformation applies to as a whole.
            return entry.finish(pjit_p.bind(*entry.const_args, *leaves,
                                            jaxpr=entry.closed, name=self._name))
        run = entry.run
        if run is None:
            entry.compiled()
            run = entry.run
        return entry.finish_run(run(*leaves))

    def _call_lowered(self, key, args, kwargs):
        leaves, k, _ = self._signature(args, kwargs)
        if k != key:
            raise TypeError(
                f"jit({self._name}): the compiled program was lowered for other argument "
                "shapes, dtypes or static values; call the jit function itself instead.")
        return self(*args, **kwargs)

    def lower(self, *args, **kwargs) -> Lowered:
        """Trace and optimise for these arguments (without running).

        Example:
            >>> import fxad, fxad.numpy as fnp
            >>> lowered = fxad.jit(lambda x: fnp.sin(x) * 1.0 + 0.0).lower(2.0)
            >>> print(lowered.as_text())
            { lambda ; a:f64[]. let
                b:f64[] = sin a
                c:f64[] = add b 0.0:f64[]
              in (c,) }
            >>> print(lowered.source(), end="")
            def fxad_jit_fn(a0):
                a0 = float(a0)
                v0 = (_m.sin(a0) + 0.0)
                if (v0 - v0) != 0.0:
                    return None
                return (xp.float64(v0),)
        """
        _, key, _ = self._signature(args, kwargs)
        return Lowered(self, self._entry(key), key)

    # -- transformations of a jit function ------------------------------------
    #
    # ``T(jit(f))`` is ``jit(T(jit(f)))`` (``api.commute_rules``): jit is the
    # identity on values, so the two agree, and the right side is one
    # compiled program per signature.  ``T`` is applied to a plain function
    # calling this one (``_inline``), so it does not commute again; under the
    # outer jit's trace that function evaluates this one's cached body, so
    # ``f``'s Python runs once per signature whichever transformations ask.
    # The result is made once per (transformation, parameters) and kept here,
    # so ``grad(jf)`` written inside a loop does not trace again.

    def _commute(self, transform, argnums, params):
        """``jit(transform(self, **params))``, or None for the general path:
        when a static argument is differentiated or mapped (``argnums`` None
        means every argument is), or the numbers cannot be compared."""
        if self._has_static:
            if argnums is None:
                return None
            nums = (argnums,) if isinstance(argnums, int) else argnums
            if not isinstance(nums, (tuple, list)) or not all(
                    type(n) is int and n >= 0 for n in nums):
                return None
            if any(n < 0 for n in self._static_argnums) or \
                    self._static_argnums.intersection(nums):
                return None
        try:
            key = (transform, tuple(sorted(
                (k, tuple(v) if isinstance(v, list) else v) for k, v in params.items())))
            hash(key)
        except TypeError:  # e.g. vmap's in_axes as a dict: not kept
            key = None
        out = self._transforms.get(key) if key is not None else None
        if out is None:
            jf = self

            @functools.wraps(self._fun)
            def call(*args, **kwargs):
                return jf._inline(args, kwargs)

            general = transform(call, **params)
            out = JitFunction(general, tuple(self._static_argnums),
                              tuple(self._static_argnames))
            out._general = general
            out._name = f"{transform.__name__}({self._name})"
            if key is not None:
                self._transforms[key] = out
        return out

    def _inline(self, args, kwargs):
        """``self(*args, **kwargs)`` for the transformation inside its jit:
        on tracers, the cached body is evaluated equation by equation, so the
        transformation sees the body's primitives (as in ``jit(T(f))``) and
        not one call of it, whose JVP, split and transpose make a program the
        outer optimiser simplifies less well (residuals as array constants).
        The body is still traced once per signature."""
        leaves, key, has_tracer = self._signature(args, kwargs)
        if not has_tracer:
            return self(*args, **kwargs)
        entry = self._entry(key)
        closed = entry.closed
        return entry.finish(eval_jaxpr(closed.jaxpr, closed.consts, *entry.const_args,
                                       *leaves))

    # -- hooks for tests and introspection -------------------------------------

    def _cache_size(self) -> int:
        return len(self._cache)

    def _clear_cache(self):
        self._cache.clear()

    def __get__(self, obj, objtype=None):
        # Methods: ``self`` becomes the first (dynamic or static) argument.
        if obj is None:
            return self
        return functools.partial(self, obj)

    def __repr__(self):
        return f"<fxad.jit of {self._name}>"


_api.commute_rules[JitFunction] = JitFunction._commute


def jit(fun: Callable, static_argnums: int | Sequence[int] = (),
        static_argnames: str | Sequence[str] = ()) -> JitFunction:
    """Compile ``fun``: trace it once per argument signature, optimise the
    program and run generated straight-line Python on later calls.

    Args:
      fun: a function of arrays (pytrees of arrays) returning arrays.
      static_argnums: positions of arguments that are not traced: they reach
        ``fun`` as the Python values themselves (so ``fun`` may branch on
        them) and are part of the cache key, so they must be hashable.
      static_argnames: the same, by keyword name.

    Returns:
      A ``JitFunction`` with ``fun``'s signature; ``.lower(*args)`` gives the
      ``Lowered`` program (``.as_text()``: the optimised jaxpr, ``.source()``:
      the generated Python).

    ``jit`` composes with ``grad``, ``vmap``, the other transformations and
    itself in any order.  Python control flow on a traced value raises
    ``fxad.errors.ConcretizationTypeError``; use ``static_argnums`` or
    ``fxad.numpy.where``.

    Example:
        >>> import fxad, fxad.numpy as fnp
        >>> f = fxad.jit(lambda x1, x2: x1 * x2 + fnp.exp(x1 * x2) - fnp.sin(x2))
        >>> round(float(f(1.5, 0.5)), 6)
        2.387574
        >>> g = fxad.jit(fxad.grad(lambda x, n: x ** n), static_argnums=1)
        >>> float(g(2.0, 3))
        12.0
    """
    return JitFunction(fun, static_argnums, static_argnames)
