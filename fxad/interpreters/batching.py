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


class OneHot:
    """A batch of scaled standard basis vectors, kept symbolic (``jacfwd``
    and ``jacrev`` batch their basis as these, along axis 0).

    Example ``b`` of the ``size`` examples is zero except, for ``offset <= b
    < offset + n`` (``n = scale.size``), the element at flat position ``b -
    offset``, which is ``scale.flat[b - offset]``; ``offset`` places one
    input's (or output's) block in the basis of several.  A rule in
    ``onehot_rules`` applies its primitive to this structure without the
    dense array (a matrix product with the basis is a copy of the matrix, a
    product with a 0-d or per-example operand scales ``scale``); every other
    primitive, and a rule that declines, sees the dense array
    (``dense()``).  ``scale`` is always a concrete NumPy array."""

    __slots__ = ("scale", "offset", "size", "example_aval", "_dense")

    def __init__(self, scale, offset, size):
        self.scale = scale
        self.offset = offset
        self.size = size
        #: the aval of one example (the tracer's aval)
        self.example_aval = shaped(scale.shape, scale.dtype)
        self._dense = None

    @property
    def aval(self):
        """The aval of the whole batch, batch axis first."""
        return shaped((self.size,) + self.scale.shape, self.scale.dtype)

    def like(self, scale):
        """The same basis positions with another ``scale`` (of the same shape)."""
        return OneHot(scale, self.offset, self.size)

    def rows(self, block):
        """The dense batch whose examples ``offset .. offset + n`` are the
        rows of ``block`` (shape ``(n,) + example shape``), the others zero."""
        if self.offset == 0 and block.shape[0] == self.size:
            return block
        out = np.zeros((self.size,) + block.shape[1:], block.dtype)
        out[self.offset:self.offset + block.shape[0]] = block
        return out

    def dense(self):
        """The batch as an array (made once: every primitive without a rule
        that meets this value gets the same array)."""
        out = self._dense
        if out is None:
            scale = self.scale
            n = scale.size
            out = np.zeros((self.size, n), scale.dtype)
            k = np.arange(n)
            out[k + self.offset, k] = scale.reshape(n)
            out = self._dense = out.reshape((self.size,) + scale.shape)
        return out

    def add_to(self, x, x_sign=1, sign=1):
        """``x_sign * x + sign * self`` for a concrete ``x`` of the whole
        batch's shape and dtype (signs +1 or -1)."""
        out = np.array(x, copy=True, order="C")
        if x_sign < 0:
            np.negative(out, out=out)
        n = self.scale.size
        k = np.arange(n)
        flat = out.reshape(self.size, n)  # a view: ``out`` is C-contiguous
        scale = self.scale.reshape(n)
        if sign > 0:
            flat[k + self.offset, k] += scale
        else:
            flat[k + self.offset, k] -= scale
        return out


#: ``prim -> rule(args, dims, **params)`` for operands among which one or
#: more are ``OneHot`` (mapped at axis 0): returns ``(out, out_dim)`` (``out``
#: maybe a ``OneHot``), or None to decline (the rule then sees dense arrays).
onehot_rules: dict = {}


def onehot_scaling(fn):
    """A rule for a primitive that maps each example's values elementwise and
    linearly (``neg``, a dtype conversion): ``fn(scale, **params)``."""

    def rule(args, dims, **params):
        return args[0].like(fn(args[0].scale, **params)), 0

    return rule


def onehot_sum(sign):
    """A rule for ``x + sign * y`` of two ``OneHot``s at the same positions
    (a ``OneHot``), or of a ``OneHot`` and a concrete batch of its shape
    mapped in front (an array)."""

    def rule(args, dims, **params):
        x, y = args
        if type(x) is OneHot and type(y) is OneHot:
            if x.offset == y.offset and x.size == y.size and x.example_aval is y.example_aval:
                return x.like(x.scale + y.scale if sign > 0 else x.scale - y.scale), 0
            return None
        # One OneHot and a dense batch of the same shape, mapped in front: the
        # basis is added to a copy of it (not materialised first).
        oh, other, d = (x, y, dims[1]) if type(x) is OneHot else (y, x, dims[0])
        if d != 0 or type(other) is not np.ndarray or other.dtype != oh.scale.dtype or \
                other.shape != (oh.size,) + oh.scale.shape:
            return None
        if oh is x:
            out = oh.add_to(other, sign, 1)
        else:
            out = oh.add_to(other, 1, sign)
        return out, 0

    return rule


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
            v = self.val
            va = get_aval(v)
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


class OneHotTracer(BatchTracer):
    """A ``BatchTracer`` whose ``val`` is a ``OneHot`` (batch axis 0).  Its own
    type keeps the check off the common path: ``BatchTrace`` looks for it
    only among operands that are not plain ``BatchTracer``s.  A primitive
    without a rule for it sees a plain ``BatchTracer`` of the dense array
    (made once per value)."""

    __slots__ = ()

    def __init__(self, trace, val, bdim):
        self._trace = trace
        self.val = val
        self.bdim = 0
        self._aval = val.example_aval


class BatchTrace(Trace):
    __slots__ = ("axis_size",)

    def __init__(self, level, axis_size):
        super().__init__(level)
        self.axis_size = axis_size

    def process_primitive(self, prim, args, params):
        if len(args) == 1:  # bind sends it here: it is this trace's tracer
            x = args[0]
            if type(x) is not BatchTracer:
                return self._process_onehot(prim, args, params)
            vals = [x.val]
            dims = [x.bdim]
        elif len(args) == 2:  # the loop below, unrolled for the common binary case
            x, y = args
            tx = type(x)
            ty = type(y)
            if (tx is OneHotTracer and x._trace is self) or \
                    (ty is OneHotTracer and y._trace is self):
                return self._process_onehot(prim, args, params)
            if tx is BatchTracer and x._trace is self:
                if ty is BatchTracer and y._trace is self:
                    vals = [x.val, y.val]
                    dims = [x.bdim, y.bdim]
                else:
                    vals = [x.val, y]
                    dims = [x.bdim, not_mapped]
            else:
                vals = [x, y.val]
                dims = [not_mapped, y.bdim]
        else:
            vals = []
            dims = []
            for x in args:
                if type(x) is BatchTracer and x._trace is self:
                    vals.append(x.val)
                    dims.append(x.bdim)
                elif type(x) is OneHotTracer and x._trace is self:
                    return self._process_onehot(prim, args, params)
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

    def _process_onehot(self, prim, args, params):
        """Operands among which some are ``OneHotTracer``s: the primitive's
        rule in ``onehot_rules`` if it takes them, else the dense batch."""
        rule = onehot_rules.get(prim)
        if rule is not None:
            vals = []
            dims = []
            for x in args:
                if isinstance(x, BatchTracer) and x._trace is self:
                    vals.append(x.val)
                    dims.append(x.bdim)
                else:
                    vals.append(x)
                    dims.append(not_mapped)
            res = rule(vals, dims, **params)
            if res is not None:
                out, out_dim = res
                if type(out) is OneHot:
                    return OneHotTracer(self, out, 0)
                return out if out_dim is not_mapped else BatchTracer(self, out, out_dim)
        # The dense batch instead (``OneHot.dense`` makes it once per value,
        # however many primitives without a rule use it).
        dense = [BatchTracer(self, x.val.dense(), 0)
                 if type(x) is OneHotTracer and x._trace is self else x for x in args]
        return self.process_primitive(prim, dense, params)


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
    not_mapped; a ``OneHot`` is mapped along 0).  Returns ``(outs,
    out_dims)``: each output's values (dense) with its batch axis where the
    computation left it (not_mapped for an output that does not depend on
    the mapped inputs).  ``fxad.lax.lax.vmap_flat`` moves the axes where the
    caller asks."""
    with new_trace(BatchTrace, size) as trace:
        tracers = []
        for x, d in safe_zip(args, in_dims):
            if d is not_mapped:
                tracers.append(x)
                continue
            tracers.append(OneHotTracer(trace, x, 0) if type(x) is OneHot else
                           BatchTracer(trace, x, d))
        outs = fun(*tracers)
        vals, dims = [], []
        for o in outs:
            if isinstance(o, BatchTracer) and o._trace is trace:
                v = o.val
                vals.append(v.dense() if type(v) is OneHot else v)
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
           "axis_size", "defvectorized", "batch_call_jaxpr", "OneHot", "OneHotTracer",
           "onehot_rules",
           "onehot_scaling", "onehot_sum"]
