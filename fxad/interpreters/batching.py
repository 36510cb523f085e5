"""Vectorisation: ``vmap``.

``BatchTrace`` carries ``(val, bdim)`` pairs: ``val`` holds every example of
the batch, stacked along axis ``bdim``; ``not_mapped`` (None) marks a value
shared by all examples.  Each primitive has a batch rule ``rule(args, dims,
**params) -> (out, out_dim)`` in ``batch_rules``, registered in its block in
``fxad/lax/lax.py`` through the helpers below.  Most rules move the batch
axis to the front first (a view in NumPy) and shift the primitive's axis
parameters by one.
"""

from __future__ import annotations

import numpy as np

from fxad import core
from fxad.core import Trace, Tracer, get_aval, new_trace, safe_zip, shaped

not_mapped = None
batch_rules: dict = {}


class BatchTracer(Tracer):
    __slots__ = ("val", "bdim", "_aval")

    def __init__(self, trace, val, bdim):
        self._trace = trace
        self.val = val
        self.bdim = bdim
        self._aval = None

    @property
    def aval(self):
        a = self._aval
        if a is None:
            va = get_aval(self.val)
            shape = va.shape[: self.bdim] + va.shape[self.bdim + 1:]
            a = self._aval = shaped(shape, va.dtype, va.weak_type)
        return a

    def _concrete_hint(self):
        return (
            "Inside vmap a value stands for a whole batch of values, so Python "
            "cannot branch on it or convert it. Use fxad.numpy.where for "
            "per-example choices."
        )


class BatchTrace(Trace):
    __slots__ = ("axis_size",)

    def __init__(self, level, axis_size):
        super().__init__(level)
        self.axis_size = axis_size

    def process_primitive(self, prim, args, params):
        vals, dims = [], []
        for x in args:
            if type(x) is BatchTracer and x._trace is self:
                vals.append(x.val)
                dims.append(x.bdim)
            else:
                vals.append(x)
                dims.append(not_mapped)
        rule = batch_rules.get(prim)
        if rule is None:
            raise NotImplementedError(
                f"fxad: batching rule for primitive '{prim.name}' is not implemented "
                "(needed by vmap, or by jacfwd/jacrev/hessian which batch through vmap)."
            )
        out, out_dim = rule(vals, dims, **params)
        if prim.multiple_results:
            return [o if d is not_mapped else BatchTracer(self, o, d)
                    for o, d in safe_zip(out, out_dim)]
        if out_dim is not_mapped:
            return out
        return BatchTracer(self, out, out_dim)


# ---------------------------------------------------------------------------
# Moving and broadcasting batch axes


class _LazyLax:
    """``fxad.lax`` imports this module (its blocks register batch rules), so
    the rules here reach lax through this proxy, bound on first use."""

    def __getattr__(self, name):
        from fxad import lax as _lax

        globals()["lax"] = _lax
        return getattr(_lax, name)


lax = _LazyLax()


def _shape(x):
    return get_aval(x).shape


def moveaxis(x, src, dst):
    if src == dst:
        return x
    nd = len(_shape(x))
    perm = [i for i in range(nd) if i != src]
    perm.insert(dst, src)
    return lax.transpose(x, tuple(perm))


def bdim_at_front(x, bdim, size):
    """``x`` with its batch axis first; an unmapped ``x`` is broadcast."""
    if bdim is not_mapped:
        shape = _shape(x)
        return lax.broadcast_in_dim(x, (size,) + shape, tuple(range(1, len(shape) + 1)))
    return moveaxis(x, bdim, 0)


def axis_size(args, dims):
    for x, d in zip(args, dims):
        if d is not not_mapped:
            return _shape(x)[d]
    raise ValueError("no mapped argument")  # pragma: no cover - bind guarantees one


def matchaxis(x, src, dst, size):
    """Batch axis of ``x`` from ``src`` (maybe unmapped) to ``dst``."""
    if src is not_mapped:
        return moveaxis(bdim_at_front(x, None, size), 0, dst)
    return moveaxis(x, src, dst)


# ---------------------------------------------------------------------------
# Rule helpers


def defvectorized(prim):
    """Elementwise in one operand: the batch axis stays where it is."""

    def rule(args, dims, **params):
        return core.bind(prim, *args, **params), dims[0]

    batch_rules[prim] = rule
    return rule


def defbroadcasting(prim, scalar_ok=None):
    """Elementwise in several operands of one shape (0-d operands allowed
    where ``scalar_ok(i)`` says so): mapped operands get their batch axis in
    front; per-example 0-d operands and unmapped shaped operands are
    broadcast to the batched shape."""

    def rule(args, dims, **params):
        size = axis_size(args, dims)
        ex_shapes = [
            _shape(x) if d is not_mapped else _shape(x)[:d] + _shape(x)[d + 1:]
            for x, d in zip(args, dims)
        ]
        out_ex = ()
        for s in ex_shapes:
            if s:
                out_ex = s
                break
        # Fast path: every operand mapped at the same axis with the same shape.
        d0 = dims[0]
        if d0 is not not_mapped and all(d == d0 for d in dims) and \
                all(s == out_ex for s in ex_shapes):
            return core.bind(prim, *args, **params), d0
        if any(s and s != out_ex for s in ex_shapes):
            # Per-example shapes that do not fit: the primitive's own error, as
            # unbatched (not a confusing one from the broadcast below).
            avals = [get_aval(x) for x in args]
            prim.abstract_eval(*[shaped(s, a.dtype, a.weak_type)
                                 for a, s in zip(avals, ex_shapes)], **params)
        new = []
        full = (size,) + out_ex
        for i, (x, d, s) in enumerate(zip(args, dims, ex_shapes)):
            if d is not_mapped:
                if not s and (scalar_ok is None or scalar_ok(i)):
                    new.append(x)
                else:
                    new.append(lax.broadcast_in_dim(x, full, tuple(range(1 + len(out_ex) - len(s),
                                                                          1 + len(out_ex)))))
            else:
                x = moveaxis(x, d, 0)
                if s != out_ex:
                    x = lax.broadcast_in_dim(x, full, (0,))
                new.append(x)
        return core.bind(prim, *new, **params), 0

    batch_rules[prim] = rule
    return rule


def defreducer(prim, axes_param="axes"):
    """A reduction/scan over ``axes`` (a tuple param) or ``axis`` (an int)."""

    def rule(args, dims, **params):
        (x,), (d,) = args, dims
        x = moveaxis(x, d, 0)
        p = dict(params)
        v = p[axes_param]
        p[axes_param] = tuple(a + 1 for a in v) if isinstance(v, tuple) else v + 1
        return core.bind(prim, x, **p), 0

    batch_rules[prim] = rule
    return rule


def loop_batch_rule(prim):
    """Batch by applying ``prim`` to each example and stacking: correct for
    any primitive, used only where a vectorised rule does not apply (e.g.
    gather with a batched index array)."""

    def rule(args, dims, **params):
        size = axis_size(args, dims)
        fronts = [x if d is not_mapped else moveaxis(x, d, 0) for x, d in zip(args, dims)]
        outs = []
        for b in range(size):
            ex = [x if d is not_mapped else _take0(x, b) for x, d in zip(fronts, dims)]
            outs.append(core.bind(prim, *ex, **params))
        if prim.multiple_results:
            return ([lax.concatenate([lax.expand_dims(o[k], (0,)) for o in outs], 0)
                     for k in range(len(outs[0]))], [0] * len(outs[0]))
        return lax.concatenate([lax.expand_dims(o, (0,)) for o in outs], 0), 0

    return rule


def _take0(x, b):
    shape = _shape(x)
    x = lax.slice(x, (b,) + (0,) * (len(shape) - 1), (b + 1,) + shape[1:])
    return lax.reshape(x, shape[1:])


# ---------------------------------------------------------------------------
# vmap on flat lists


def vmap_flat(fun, args, in_dims, out_dims_fn, size):
    """Run ``fun`` on the batch: ``args[i]`` mapped along ``in_dims[i]``
    (or not_mapped); ``out_dims_fn(n)`` gives the output axes for n outputs.
    Returns outputs with their batch axes moved to the requested places
    (unmapped outputs are broadcast unless their out axis is None)."""
    with new_trace(BatchTrace, size) as trace:
        tracers = [x if d is not_mapped else BatchTracer(trace, x, d)
                   for x, d in safe_zip(args, in_dims)]
        outs = fun(*tracers)
        out_dims = out_dims_fn(len(outs))
        results = []
        for o, od in safe_zip(outs, out_dims):
            if type(o) is BatchTracer and o._trace is trace:
                val, bd = o.val, o.bdim
            else:
                val, bd = o, not_mapped
            if od is None:
                if bd is not not_mapped:
                    raise ValueError(
                        "vmap has out_axes=None for an output that depends on the "
                        "mapped inputs; give it an integer out axis.")
                results.append(val)
                continue
            nd = len(_shape(val)) + (1 if bd is not_mapped else 0)
            od = od % nd if nd else 0
            results.append(matchaxis(val, bd, od, size))
    return results


__all__ = ["BatchTrace", "BatchTracer", "batch_rules", "not_mapped", "vmap_flat",
           "defvectorized", "defbroadcasting", "defreducer", "loop_batch_rule",
           "moveaxis", "bdim_at_front", "np"]
