"""Jaxpr-to-jaxpr optimisations, run by ``jit`` before it generates code.

* ``dce``: dead-code elimination.  Every fxad primitive is pure, so an
  equation none of whose outputs is used is dropped.
* ``cse``: common-subexpression elimination.  Two equations with the same
  primitive, the same params and the same inputs compute the same value; the
  second is replaced by the first.  Inputs of ``add``/``mul`` (and the other
  commutative operations on real numbers) are put in a canonical order first.
* ``constant_fold``: an equation whose inputs are all known (literals, or
  constvars with concrete values) is evaluated now with its primitive's
  ``impl``; a 0-d result becomes a ``Literal``, an array a new constvar
  (unless it would be much bigger than the inputs: a broadcast of a scalar
  stays a cheap view at run time).  The same pass forwards copies and exact
  identities (``x * 1``, ``x / 1``, ``x - 0.0``, ``x + -0.0``,
  ``neg (neg x)``, a one-case ``select_n``, an identity reshape, ...) and
  merges a broadcast of a broadcast (a reshape of a reshape) into one.
* ``optimize``: folding and CSE in one forward sweep (each rule looks only
  at earlier equations, so one sweep is a fixpoint of both), then DCE; then
  unused constvars are dropped.  A constvar whose array repeats one value
  (the ones a gradient of ``sum`` starts from) becomes a broadcast of that
  value as a literal, so ``x * ones`` is forwarded to ``x`` and the program
  holds a scalar instead of the array.

The passes know primitives only through the registries below (commutative
operations, forwarding and compose rules, producers, scalar broadcasts),
keyed by the ``Primitive`` and filled from each primitive's block.

Each pass is pure and linear-time: it returns new ``Jaxpr`` objects (equations
whose inputs did not change are shared, never mutated) and leaves its input
untouched.  Every rewrite preserves values exactly, bit for bit, including
NaNs, infinities and signed zeros (which is why ``x + 0.0`` is *not*
simplified: ``-0.0 + 0.0`` is ``+0.0``).  What changes is only whether and
when a NumPy warning of a dropped or folded equation appears: an equation
whose folding raises or warns (``log 0.0``) is left for run time, where it
warns as before; a dropped one (its result unused) no longer warns.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from fxad import core
from fxad.core import ClosedJaxpr, Jaxpr, JaxprEqn, Literal, Tracer, Var, get_aval

__all__ = ["dce", "cse", "constant_fold", "prune_constvars", "optimize", "inline_calls",
           "dce_rules", "inline_rules"]

#: ``rule(eqn, used_outputs) -> eqn``: the equation without its unused
#: outputs (and the inputs only they needed), for primitives that hold a
#: jaxpr (a call prunes its body).  Without a rule an equation is kept whole
#: or dropped whole.
dce_rules: dict = {}
#: ``rule(eqn) -> ClosedJaxpr | None``: the body a call equation can be
#: replaced with (its invars stand for the equation's operands, its outvars
#: for its outputs), or None to keep the call.  ``optimize`` inlines these
#: before simplifying, so folding, CSE and DCE see across call boundaries
#: and jit generates one function.
inline_rules: dict = {}

# ---------------------------------------------------------------------------
# Registries, keyed by the Primitive object and filled from each primitive's
# block in fxad/lax (this module must not import lax).

#: Operations whose two operands may be swapped without changing any bit of
#: the result, for real (float, integer, boolean) operands.
commutative: set = set()
#: Primitive -> ``rule(eqn, invars, producer) -> atom or None``: the atom the
#: equation's single output equals exactly (a copy or an identity), if any.
#: ``producer`` maps a Var to the equation that made it, for the primitives in
#: ``producers``.
forwarding_rules: dict = {}
#: Primitive -> ``rule(eqn, invars, producer) -> JaxprEqn or None``: one
#: equation for this one and its operand's producer (a broadcast of a
#: broadcast).
compose_rules: dict = {}
#: Primitives whose equations the rules above may look at as producers.
producers: set = set()
#: Primitive -> ``params(shape) -> params``: how to write a broadcast of a 0-d
#: value to ``shape`` (a constant array of one repeated value becomes one).
scalar_broadcasts: dict = {}


def def_commutative(prim):
    """``prim``'s two operands may be swapped (bit for bit) for real dtypes."""
    commutative.add(prim)


def def_forwarding(prim, rule, *, looks_at_producers=()):
    """Register ``prim``'s forwarding rule; it may look at the producers of
    its operands when they are equations of ``looks_at_producers``."""
    forwarding_rules[prim] = rule
    producers.update(looks_at_producers)


def def_compose(prim, rule):
    """Register ``prim``'s compose rule (it looks at equations of ``prim``)."""
    compose_rules[prim] = rule
    producers.add(prim)


def def_scalar_broadcast(prim, params):
    """``prim`` with one 0-d operand and ``params(shape)`` broadcasts it to
    ``shape``; its equations are producers, so ``x * broadcast(1.0)`` is seen."""
    scalar_broadcasts[prim] = params
    producers.add(prim)


# -- pieces for the rules ------------------------------------------------------


def same(x, aval):
    """Whether the atom ``x`` has ``aval``'s shape and dtype (a forwarded atom
    must)."""
    return x.aval.shape == aval.shape and x.aval.dtype == aval.dtype


def forward_operand_if(cond):
    """The rule "the output is the first operand when ``cond(eqn)``" (and it
    has the output's shape and dtype)."""

    def rule(eqn, invars, producer):
        x = invars[0]
        return x if cond(eqn) and same(x, eqn.outvars[0].aval) else None

    return rule


def scalar_value(x, producer):
    """The 0-d value ``x`` holds in every element: a 0-d literal, or a
    registered broadcast of one; else None."""
    if type(x) is Var:
        p = producer.get(x)
        if p is None or p.primitive not in scalar_broadcasts:
            return None
        x = p.invars[0]
    if type(x) is not Literal:
        return None
    v = x.val
    if type(v) is np.ndarray and v.ndim != 0:
        return None
    return v


def _holds(x, pred, producer):
    v = scalar_value(x, producer)
    if v is None:
        return False
    try:
        return bool(pred(v))
    except (TypeError, ValueError):
        return False


def is_one(v):
    return v == 1


def is_plus_zero(v):
    return v == 0 and math.copysign(1.0, float(v)) > 0


def is_minus_zero(v):
    return v == 0 and math.copysign(1.0, float(v)) < 0


def additive_identity(dtype):
    """The test for the identity element of addition in ``dtype``: -0.0 + 0.0
    is +0.0, so only -0.0 is the identity of float addition."""
    return is_minus_zero if dtype.kind == "f" else is_plus_zero


def identity_element_rule(right, left=None):
    """The rule of a binary operation with an identity element: ``x op e`` is
    ``x`` where ``right(dtype)(e)`` holds (``e op x`` is ``x`` where
    ``left(dtype)(e)``), ``e`` a 0-d literal or a broadcast of one.  Real
    dtypes only: for complex ``(a+bj) * 1`` is not exact when b is infinite."""

    def rule(eqn, invars, producer):
        out = eqn.outvars[0].aval
        if len(invars) != 2 or out.dtype.kind not in "iuf":
            return None
        x, y = invars
        if right is not None and _holds(y, right(out.dtype), producer) and same(x, out):
            return x
        if left is not None and _holds(x, left(out.dtype), producer) and same(y, out):
            return y
        return None

    return rule


# ---------------------------------------------------------------------------
# Helpers


def _rewrite(eqn, invars):
    """``eqn`` with new inputs (the same object when they did not change)."""
    old = eqn.invars
    if len(old) == len(invars) and all(a is b for a, b in zip(old, invars)):
        return eqn
    return JaxprEqn(eqn.primitive, invars, eqn.params, eqn.outvars)


def _subst(env, x):
    if type(x) is Literal:
        return x
    return env.get(x, x)


def _check(jaxpr):
    if core.config.check_jaxprs:
        core.check_jaxpr(jaxpr)
    return jaxpr


# ---------------------------------------------------------------------------
# Dead-code elimination


def dce(jaxpr: Jaxpr) -> Jaxpr:
    """Drop the equations whose outputs are not used (all primitives are pure).

    Invars and constvars are kept (they are the signature); see
    ``prune_constvars`` for unused constants.
    """
    live = {v for v in jaxpr.outvars if type(v) is Var}
    kept = []
    for eqn in reversed(jaxpr.eqns):
        used = [v in live for v in eqn.outvars]
        if any(used):
            rule = dce_rules.get(eqn.primitive)
            if rule is not None:
                eqn = rule(eqn, used)
            kept.append(eqn)
            for x in eqn.invars:
                if type(x) is Var:
                    live.add(x)
    kept.reverse()
    return Jaxpr(jaxpr.constvars, jaxpr.invars, kept, jaxpr.outvars)


def dce_jaxpr(jaxpr: Jaxpr, used_outputs, prune_invars=True):
    """``jaxpr`` keeping only the outputs where ``used_outputs``, DCE'd; with
    ``prune_invars`` its unused invars are dropped too.  Returns ``(jaxpr,
    used_inputs)``."""
    outvars = [x for x, u in zip(jaxpr.outvars, used_outputs) if u]
    body = dce(Jaxpr(jaxpr.constvars, jaxpr.invars, jaxpr.eqns, outvars))
    needed = {x for x in body.outvars if type(x) is Var}
    for eqn in body.eqns:
        needed.update(x for x in eqn.invars if type(x) is Var)
    used_inputs = [v in needed for v in jaxpr.invars]
    if prune_invars:
        invars = [v for v, u in zip(jaxpr.invars, used_inputs) if u]
        body = Jaxpr(body.constvars, invars, body.eqns, body.outvars)
    return body, used_inputs


# ---------------------------------------------------------------------------
# Inlining calls


def inline_calls(closed: ClosedJaxpr) -> ClosedJaxpr:
    """Replace every call equation that has an ``inline_rules`` entry by its
    body, recursively; the bodies' constants become constants of the result.
    Each inlined body gets fresh variables (one body may be called twice)."""
    jaxpr = closed.jaxpr
    if not _has_calls(jaxpr):
        return closed
    constvars = list(jaxpr.constvars)
    consts = list(closed.consts)
    eqns: list = []
    sub: dict = {}
    _inline_into(jaxpr.eqns, sub, eqns, constvars, consts, fresh=False)
    outvars = [_subst(sub, x) for x in jaxpr.outvars]
    return ClosedJaxpr(Jaxpr(constvars, jaxpr.invars, eqns, outvars), consts)


def _has_calls(jaxpr):
    return any(eqn.primitive in inline_rules and inline_rules[eqn.primitive](eqn) is not None
               for eqn in jaxpr.eqns)


def _inline_into(body, sub, eqns, constvars, consts, fresh):
    for eqn in body:
        invars = [_subst(sub, x) for x in eqn.invars]
        rule = inline_rules.get(eqn.primitive)
        callee = None if rule is None else rule(eqn)
        if callee is not None:
            inner = callee.jaxpr
            inner_sub = dict(zip(inner.invars, invars))
            for v, c in zip(inner.constvars, callee.consts):
                nv = Var(v.aval)
                constvars.append(nv)
                consts.append(c)
                inner_sub[v] = nv
            _inline_into(inner.eqns, inner_sub, eqns, constvars, consts, fresh=True)
            for v, x in zip(eqn.outvars, inner.outvars):
                sub[v] = _subst(inner_sub, x)
            continue
        if fresh:
            outvars = []
            for v in eqn.outvars:
                nv = sub[v] = Var(v.aval)
                outvars.append(nv)
            eqns.append(JaxprEqn(eqn.primitive, invars, eqn.params, outvars))
        else:
            eqns.append(_rewrite(eqn, invars))


def prune_constvars(closed: ClosedJaxpr) -> ClosedJaxpr:
    """Drop constvars (and their values) that no equation or output uses."""
    jaxpr = closed.jaxpr
    used = {v for v in jaxpr.outvars if type(v) is Var}
    for eqn in jaxpr.eqns:
        for x in eqn.invars:
            if type(x) is Var:
                used.add(x)
    pairs = [(v, c) for v, c in zip(jaxpr.constvars, closed.consts) if v in used]
    if len(pairs) == len(jaxpr.constvars):
        return closed
    new = Jaxpr([v for v, _ in pairs], jaxpr.invars, jaxpr.eqns, jaxpr.outvars)
    return ClosedJaxpr(new, [c for _, c in pairs])


# ---------------------------------------------------------------------------
# Common-subexpression elimination

_UNHASHABLE = object()


def _value_key(v):
    """A hashable key that tells apart every value an impl could tell apart:
    the type, the dtype, and the exact bits (so 0.0 and -0.0 differ and a NaN
    equals itself)."""
    t = type(v)
    if t is float or t is np.float64:
        return (t, v.hex())
    if t is bool or t is int or t is str or v is None:
        return (t, v)
    if t is complex:
        return (t, v.real.hex(), v.imag.hex())
    if isinstance(v, (np.ndarray, np.generic)):
        if v.dtype.hasobject:
            return _UNHASHABLE
        return (t, v.dtype.str, v.shape, v.tobytes())
    return _UNHASHABLE


def _param_key(v):
    t = type(v)
    if t is tuple or t is list:
        out = []
        for x in v:
            k = _param_key(x)
            if k is _UNHASHABLE:
                return _UNHASHABLE
            out.append(k)
        return (t, tuple(out))
    if t is dict:
        return _params_key(v)
    if t is slice:
        return (t, _param_key(v.start), _param_key(v.stop), _param_key(v.step))
    k = _value_key(v)
    if k is not _UNHASHABLE:
        return k
    # dtypes, types, functions, jaxprs: hashable by value or identity.
    try:
        hash(v)
    except TypeError:
        return _UNHASHABLE
    return (t, v)


def _params_key(params):
    if not params:
        return ()
    out = []
    for name in sorted(params):
        k = _param_key(params[name])
        if k is _UNHASHABLE:
            return _UNHASHABLE
        out.append((name, k))
    return tuple(out)


def cse(jaxpr: Jaxpr) -> Jaxpr:
    """Replace each equation that repeats an earlier one (same primitive,
    params and inputs) by the earlier one's outputs.  Equations whose params
    cannot be hashed are left alone."""
    return _simplify(ClosedJaxpr(jaxpr, [None] * len(jaxpr.constvars)), fold=False)[0].jaxpr


def _cse_key(eqn, invars, number):
    """The key under which ``eqn`` (with inputs ``invars``) is looked up, or
    None when it cannot be hashed."""
    params = eqn.params
    pkey = _params_key(params) if params else ()
    if pkey is _UNHASHABLE:
        return None
    ikeys = []
    for x in invars:
        if type(x) is Literal:
            vk = _value_key(x.val)
            if vk is _UNHASHABLE:
                return None
            ikeys.append((x.aval, vk))
        else:
            ikeys.append(number[x])
    if len(ikeys) == 2 and eqn.primitive in commutative and \
            invars[0].aval.dtype.kind in "biuf" and _later(ikeys[0], ikeys[1]):
        ikeys.reverse()
    return (eqn.primitive, pkey, tuple(ikeys))


def _later(a, b):
    """Whether operand key ``a`` sorts after ``b``: Vars (ints, by definition
    order) before literals (tuples, by their printed form)."""
    ta, tb = type(a) is int, type(b) is int
    if ta and tb:
        return a > b
    if ta or tb:
        return tb
    return repr(a) > repr(b)


# ---------------------------------------------------------------------------
# Constant folding and forwarding

#: An equation is folded only when its outputs are not much larger than its
#: inputs, so that broadcasting a scalar to a huge array stays a cheap
#: ``broadcast_to`` at run time instead of becoming a materialised constant.
FOLD_GROWTH_LIMIT = 64  # elements an output may exceed its inputs by


def _fold(eqn, vals):
    """Evaluate ``eqn`` on ``vals`` now, or return None when it should be left
    for run time (no impl, an error or warning, an unexpected result)."""
    prim = eqn.primitive
    if prim.impl is None:
        return None
    out_size = sum(v.aval.size for v in eqn.outvars)
    in_size = sum(int(np.size(v)) for v in vals)
    if out_size > in_size + FOLD_GROWTH_LIMIT:
        return None
    try:
        with warnings.catch_warnings(), np.errstate(all="raise"):
            warnings.simplefilter("error")
            out = prim.impl(*vals, **eqn.params)
    except Exception:  # noqa: BLE001 - left for run time, where it will be raised
        return None
    outs = list(out) if prim.multiple_results else [out]
    if len(outs) != len(eqn.outvars):
        return None
    for o, v in zip(outs, eqn.outvars):
        if isinstance(o, Tracer):
            return None
        try:
            a = get_aval(o)
        except TypeError:
            return None
        if a.shape != v.aval.shape or a.dtype != v.aval.dtype:
            return None
    return outs


def _uniform(c):
    """Whether every element of the array ``c`` has the same bits."""
    if type(c) is not np.ndarray or c.ndim == 0 or c.size < 2 or c.dtype.kind not in "biuf" \
            or c.dtype.itemsize not in (1, 2, 4, 8):
        return False
    u = c.reshape(-1).view(f"u{c.dtype.itemsize}")
    return bool((u == u[0]).all())


def _as_scalar_broadcast(v, c):
    """For a constvar ``v`` whose value ``c`` repeats one value: an equation
    that broadcasts that value (as a literal) to a fresh Var of ``v``'s aval,
    so that the program holds a scalar and ``x * ones`` is seen as ``x * 1``.
    Else None."""
    if c is None or v.aval.weak_type or not _uniform(c):
        return None
    prim, params = next(iter(scalar_broadcasts.items()))
    lit = Literal(c.reshape(-1)[0], core.shaped((), c.dtype))
    return JaxprEqn(prim, [lit], params(c.shape), [Var(v.aval)])


def constant_fold(closed: ClosedJaxpr) -> ClosedJaxpr:
    """Evaluate the equations whose inputs are all known, now.

    Known values are literals and the constvars bound to concrete values.  A
    0-d result becomes a ``Literal`` (holding exactly what the impl returned,
    so the program sees the same NumPy value as before); a larger one becomes
    a new constvar.  Copies and exact identities are forwarded at the same
    time, and a broadcast of a broadcast becomes one (see the module
    docstring).
    """
    return _simplify(closed, cse=False)[0]


def _simplify(closed, fold=True, cse=True):
    """Constant folding (with forwarding) and CSE in one forward sweep, and
    the number of equations removed.

    One sweep reaches a fixpoint of both: every rule looks only at earlier
    equations, whose results are final when it runs (a select_n whose cases
    CSE merged is forwarded when the sweep reaches it).
    """
    jaxpr = closed.jaxpr
    known = {v: c for v, c in zip(jaxpr.constvars, closed.consts)
             if fold and c is not None and not isinstance(c, Tracer)}
    env: dict = {}  # Var -> the atom that replaces it
    producer: dict = {}
    seen: dict = {}
    number: dict = {}  # Var -> definition order: CSE's key and operand order
    for v in jaxpr.constvars + jaxpr.invars:
        number[v] = len(number)
    constvars = list(jaxpr.constvars)
    consts = list(closed.consts)
    eqns = []
    if fold and scalar_broadcasts:
        made: dict = {}  # (aval, bits) -> the Var of that broadcast: CSE of these
        for v in jaxpr.constvars:
            eqn = _as_scalar_broadcast(v, known.get(v))
            if eqn is not None:
                key = (v.aval, known[v].reshape(-1)[:1].tobytes())
                if key in made:
                    env[v] = made[key]
                    continue
                nv = made[key] = eqn.outvars[0]
                env[v] = nv
                known[nv] = known[v]
                number[nv] = len(number)
                producer[nv] = eqn
                eqns.append(eqn)
    for eqn in jaxpr.eqns:
        invars = eqn.invars
        if env:
            invars = [_subst(env, x) for x in invars]
        if fold:
            vals = []
            for x in invars:
                if type(x) is Literal:
                    vals.append(x.val)
                elif x in known:
                    vals.append(known[x])
                else:
                    break
            else:
                outs = _fold(eqn, vals)
                if outs is not None:
                    for v, o in zip(eqn.outvars, outs):
                        if np.ndim(o) == 0:
                            env[v] = Literal(o, v.aval)
                        else:
                            nv = Var(v.aval.strip_weak_type())
                            constvars.append(nv)
                            consts.append(o)
                            known[nv] = o
                            number[nv] = len(number)
                            env[v] = nv
                    continue
            prim = eqn.primitive
            rule = forwarding_rules.get(prim)
            if rule is not None and not prim.multiple_results:
                fwd = rule(eqn, invars, producer)
                if fwd is not None:
                    env[eqn.outvars[0]] = fwd
                    continue
            rule = compose_rules.get(prim)
            new = (rule(eqn, invars, producer) if rule is not None else None) or \
                _rewrite(eqn, invars)
        else:
            new = _rewrite(eqn, invars)
        if cse:
            key = _cse_key(new, new.invars, number)
            if key is not None:
                prev = seen.get(key)
                if prev is not None and all(
                        a.aval.strip_weak_type() == b.aval.strip_weak_type()
                        for a, b in zip(prev, new.outvars)):
                    for a, b in zip(new.outvars, prev):
                        env[a] = b
                    continue
                seen[key] = new.outvars
        for v in new.outvars:
            number[v] = len(number)
        if fold and new.primitive in producers:
            producer[new.outvars[0]] = new
        eqns.append(new)
    outvars = [_subst(env, x) for x in jaxpr.outvars]
    removed = len(jaxpr.eqns) - len(eqns)
    return ClosedJaxpr(Jaxpr(constvars, jaxpr.invars, eqns, outvars), consts), removed


# ---------------------------------------------------------------------------
# The pipeline


def optimize(closed: ClosedJaxpr) -> ClosedJaxpr:
    """Calls inlined, constant folding (with forwarding) and CSE in one sweep, DCE, then
    unused constants dropped.  The result is checked with ``check_jaxpr``
    when ``core.config.check_jaxprs`` is on.

    Example:
        >>> import fxad, fxad.numpy as fnp
        >>> from fxad.interpreters.optimize import optimize
        >>> closed = fxad.make_jaxpr(lambda x: fnp.sin(x) * 1.0 + fnp.sin(x))(0.5)
        >>> print(optimize(closed))
        { lambda ; a:f64[]. let
            b:f64[] = sin a
            c:f64[] = add b b
          in (c,) }
    """
    closed, _ = _simplify(inline_calls(closed))
    closed = prune_constvars(ClosedJaxpr(dce(closed.jaxpr), closed.consts))
    _check(closed.jaxpr)
    return closed
