"""Vectorisation: ``vmap``.

``BatchTrace`` carries ``(val, bdim)`` pairs: ``val`` holds every example of
the batch, stacked along axis ``bdim``; ``not_mapped`` (None) marks a value
shared by all examples.  Each primitive has a batch rule ``rule(args, dims,
**params) -> (out, out_dim)`` in ``batch_rules``, registered in its block in
``fxad/lax/`` through the helpers below and those of ``fxad/lax/lax.py``
(which move and broadcast batch axes with lax primitives).  Most rules move the batch
axis to the front first (a view in NumPy) and shift the primitive's axis
parameters by one.
"""

from __future__ import annotations

import numpy as np

from fxad import core
from fxad.core import Trace, Tracer, get_aval, new_trace, safe_zip, shaped
from fxad.interpreters.partial_eval import trace_to_jaxpr as _trace_to_jaxpr

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

    def _strip_weak_type(self):
        v = self.val  # weak: a weak tracer of an outer trace, or a Python scalar
        v = v._strip_weak_type() if isinstance(v, Tracer) else get_aval(v).dtype.type(v)
        return None if v is None else BatchTracer(self._trace, v, self.bdim)

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
        if len(args) == 1:  # bind sends it here: it is this trace's tracer
            x = args[0]
            vals = [x.val]
            dims = [x.bdim]
        else:
            vals = []
            dims = []
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
        out, out_dim = rule(vals, dims, **params) if params else rule(vals, dims)
        if prim.multiple_results:
            return [o if d is not_mapped else BatchTracer(self, o, d)
                    for o, d in safe_zip(out, out_dim)]
        if out_dim is not_mapped:
            return out
        return BatchTracer(self, out, out_dim)


# ---------------------------------------------------------------------------
# Rule helpers that need no primitive (the ones that move or broadcast batch
# axes bind lax primitives, so they live in the lax layer: fxad/lax/lax.py,
# "Batching helpers")


def axis_size(args, dims):
    for x, d in zip(args, dims):
        if d is not not_mapped:
            return (x.shape if type(x) is np.ndarray else get_aval(x).shape)[d]
    raise ValueError("no mapped argument")  # pragma: no cover - bind guarantees one


def defvectorized(prim):
    """Elementwise in one operand: the batch axis stays where it is."""

    def rule(args, dims, **params):
        return core.bind(prim, *args, **params), dims[0]

    batch_rules[prim] = rule
    return rule


# ---------------------------------------------------------------------------
# Batching on flat lists


def batch_flat(fun, args, in_dims, size):
    """Run ``fun`` on the batch: ``args[i]`` mapped along ``in_dims[i]`` (or
    not_mapped).  Returns ``(outs, out_dims)``: each output's values with its
    batch axis where the computation left it (not_mapped for an output that
    does not depend on the mapped inputs).  ``fxad.lax.lax.vmap_flat`` moves
    the axes where the caller asks."""
    with new_trace(BatchTrace, size) as trace:
        tracers = [x if d is not_mapped else BatchTracer(trace, x, d)
                   for x, d in safe_zip(args, in_dims)]
        outs = fun(*tracers)
        vals, dims = [], []
        for o in outs:
            if type(o) is BatchTracer and o._trace is trace:
                vals.append(o.val)
                dims.append(o.bdim)
            else:
                vals.append(o)
                dims.append(not_mapped)
    return vals, dims


def batch_call_jaxpr(closed, dims, size):
    """A call's body batched: operand ``i`` has its batch axis at ``dims[i]``
    (or is not_mapped).  Returns ``(batched, out_dims)``: the outputs keep the
    batch axes the batch rules gave them (not_mapped for outputs that do not
    depend on a mapped operand).  Memoised on ``closed``."""
    dims = tuple(dims)
    return closed.memo(("batch", dims, size), lambda: _batch_call_jaxpr(closed, dims, size))


def _batch_call_jaxpr(closed, dims, size):
    in_avals = []
    for a, d in safe_zip(closed.in_avals, dims):
        if d is not_mapped:
            in_avals.append(a)
        else:
            in_avals.append(shaped(a.shape[:d] + (size,) + a.shape[d:], a.dtype, a.weak_type))
    out_dims: list = []

    def f(*args):
        vals, out_dims[:] = batch_flat(closed, list(args), dims, size)
        return vals

    batched = _trace_to_jaxpr(f, in_avals)
    return batched, list(out_dims)


__all__ = ["BatchTrace", "BatchTracer", "batch_rules", "not_mapped", "batch_flat",
           "axis_size", "defvectorized", "batch_call_jaxpr"]
