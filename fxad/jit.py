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
compiled function directly.

Composition.  When any argument is a tracer (``jit`` is called under
``grad``, ``jvp``, ``vmap``, ``make_jaxpr`` or an outer ``jit``'s tracing),
the compiled code is not run: ``jit`` takes the same optimised jaxpr (from
the cache, or traced for the tracers' abstract values) and evaluates it with
``core.eval_jaxpr``, which binds every primitive again, so the outer
transformation applies to the program.  This is how ``jit`` composes with the
other transformations and with itself in any order: ``grad(jit(f))``
differentiates ``f``'s optimised jaxpr; ``jit(grad(f))`` traces the whole
gradient computation into one jaxpr and compiles it; under an outer ``jit``
the inner program is inlined into the outer one, which compiles it all.  The
same happens when the traced jaxpr captured a tracer from an enclosing
transformation as a constant (``f`` closes over a value being
differentiated); such a jaxpr is not cached.

Python control flow on a traced value inside ``jit`` raises
``fxad.errors.ConcretizationTypeError``: mark the argument static with
``static_argnums``/``static_argnames`` (static arguments are passed to ``f``
as the Python values themselves and are part of the cache key, so they must
be hashable), or compute both branches and choose with
``fxad.numpy.where``.
"""

from __future__ import annotations

import functools
import gc
import inspect
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from fxad import lax as _lax
from fxad import tree_util
from fxad.api import _to_output
from fxad.core import ClosedJaxpr, Tracer, eval_jaxpr, get_aval, pp_jaxpr
from fxad.errors import ConcretizationTypeError
from fxad.interpreters import codegen
from fxad.interpreters.optimize import optimize
from fxad.interpreters.partial_eval import trace_to_jaxpr

__all__ = ["jit", "JitFunction", "Lowered"]

_PY_SCALARS = (float, int, complex)


@contextmanager
def _gc_paused():
    """Tracing a big program allocates millions of small objects that all
    stay alive; the cyclic collector would rescan them again and again (it
    doubles tracing time on a 200,000-equation program)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _Entry:
    """One cache entry: the optimised program of one signature."""

    __slots__ = ("closed", "out_tree", "in_tree", "executable", "cacheable")

    def __init__(self, closed, in_tree, out_tree, cacheable):
        self.closed = closed
        self.in_tree = in_tree
        self.out_tree = out_tree
        self.executable = None
        self.cacheable = cacheable

    def compiled(self):
        exe = self.executable
        if exe is None:
            with _gc_paused():
                exe = self.executable = codegen.generate(self.closed)
        return exe


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
        self._entry.compiled()
        return functools.partial(self._jit_fun._call, _expected_key=self._key)

    def __repr__(self):
        return f"Lowered({getattr(self._jit_fun, '__name__', 'fun')})"


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
        for i, p in enumerate(positional):
            if i in nums and p.kind is p.POSITIONAL_OR_KEYWORD:
                names.add(p.name)
            if p.name in names:
                nums.add(i)
        self._static_argnums = frozenset(nums)
        self._static_argnames = frozenset(names)
        self._has_static = bool(nums or names)
        self._cache: dict = {}
        self._trace_count = 0
        self._name = getattr(fun, "__name__", type(fun).__name__)

    # -- the cache key -------------------------------------------------------

    def _signature(self, args, kwargs):
        """``(leaves, key, statics)`` for a call."""
        where = f"jit({self._name})"
        statics = ()
        if self._has_static:
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
                kwargs = {k: v for k, v in kwargs.items() if k not in self._static_argnames}
        leaves, in_tree = tree_util.tree_flatten((args, kwargs))
        avals = []
        for k, x in enumerate(leaves):
            t = type(x)
            if t is np.ndarray or t is np.float64 or t in _PY_SCALARS:
                pass
            elif t is bool:
                x = leaves[k] = np.bool_(x)
            elif isinstance(x, np.ndarray):
                x = leaves[k] = np.asarray(x)  # subclasses (np.matrix) as plain arrays
            elif not isinstance(x, (Tracer, np.generic)):
                raise TypeError(
                    f"{where}: an argument leaf of type {t.__name__} is not an array: "
                    f"{x!r}. Arguments must be NumPy arrays, NumPy scalars or Python "
                    "numbers (or pytrees of them); mark other arguments static with "
                    "static_argnums or static_argnames, or pass them through a closure.")
            avals.append(get_aval(x))
        return leaves, (in_tree, tuple(avals), statics), statics

    # -- tracing ---------------------------------------------------------------

    def _trace(self, args, kwargs, key):
        in_tree, avals, statics = key
        store = {}
        fun = self._fun
        static_pos = dict(statics[0]) if statics else {}
        static_kw = dict(statics[1]) if statics else {}

        def flat_fun(*leaves):
            dyn_args, dyn_kwargs = tree_util.tree_unflatten(in_tree, list(leaves))
            full = list(dyn_args)
            for i in sorted(static_pos):
                full.insert(i, static_pos[i][1])
            kw = dict(dyn_kwargs)
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
        with _gc_paused():
            try:
                closed = trace_to_jaxpr(flat_fun, list(avals))
            except ConcretizationTypeError as e:
                raise ConcretizationTypeError(self._concretization_message(e, avals)) from e
            cacheable = not any(isinstance(c, Tracer) for c in closed.consts)
            closed = optimize(closed)
        return _Entry(closed, in_tree, store["out_tree"], cacheable)

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

    def _entry(self, args, kwargs, key):
        entry = self._cache.get(key)
        if entry is None:
            entry = self._trace(args, kwargs, key)
            if entry.cacheable:
                self._cache[key] = entry
        return entry

    # -- calling ---------------------------------------------------------------

    def __call__(self, *args, **kwargs):
        return self._call(*args, **kwargs)

    def _call(self, *args, _expected_key=None, **kwargs):
        leaves, key, _ = self._signature(args, kwargs)
        if _expected_key is not None and key != _expected_key:
            raise TypeError(
                f"jit({self._name}): the compiled program was lowered for other argument "
                "shapes, dtypes or static values; call the jit function itself instead.")
        entry = self._cache.get(key)
        if entry is None:
            entry = self._entry(args, kwargs, key)
        if entry.cacheable and not any(isinstance(x, Tracer) for x in leaves):
            outs = entry.compiled()(*leaves)
        else:
            closed = entry.closed
            outs = eval_jaxpr(closed.jaxpr, closed.consts, *leaves)
        return tree_util.tree_unflatten(entry.out_tree, [_to_output(o) for o in outs])

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
                return (xp.float64(v0),)
        """
        leaves, key, _ = self._signature(args, kwargs)
        entry = self._entry(args, kwargs, key)
        return Lowered(self, entry, key)

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


def jit(fun: Callable, static_argnums: int | Sequence[int] = (),
        static_argnames: str | Sequence[str] = ()) -> Any:
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
        >>> float(f(1.5, 0.5))
        2.3379...
        >>> g = fxad.jit(fxad.grad(lambda x, n: x ** n), static_argnums=1)
        >>> float(g(2.0, 3))
        12.0
    """
    return JitFunction(fun, static_argnums, static_argnames)
