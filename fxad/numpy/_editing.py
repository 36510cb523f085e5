"""Editing and assembling arrays with NumPy semantics: ``append``,
``insert``, ``delete``, ``resize``, ``block``, ``compress``, ``extract``,
``choose``, ``piecewise``, ``apply_along_axis``, ``trim_zeros``, ``ix_``,
the NumPy 2 names (``concat``, ``unstack``, ``matrix_transpose``,
``cumulative_sum``...) and the identities (``copy``, ``asanyarray``...).

Where the output's layout depends only on concrete arguments (positions,
masks, shapes), NumPy itself computes it: the NumPy function is applied to
arrays of *positions* (``arange``), and the traced operands are gathered by
the result in one ``take``.  Values, dtypes and every corner of NumPy's
semantics (negative and repeated indices, broadcasting of inserted values)
are then NumPy's, and the derivative is that of a gather: repeated elements
sum their cotangents.
"""

from __future__ import annotations

import numpy as np

from fxad import lax
from fxad.core import Tracer
from fxad.errors import ConcretizationTypeError
from fxad.numpy._core import add, cumsum, floor_divide, logical_not, multiply, remainder
from fxad.numpy._core import any as any_
from fxad.numpy._indexing import at, take
from fxad.numpy._reductions import cumprod
from fxad.numpy._shape import (
    asarray,
    broadcast_arrays,
    broadcast_to,
    clip,
    concatenate,
    expand_dims,
    moveaxis,
    ravel,
    reshape,
    stack,
    swapaxes,
    transpose,
    vstack,
    where,
)
from fxad.numpy._util import (
    _contains_tracer,
    any_tracer,
    asarray_value,
    canonical_axis,
    convert,
    result_type,
    shape_of,
)


def _concrete(x, name, what):
    """The NumPy value of ``x``, which fixes the shape of ``name``'s result."""
    if isinstance(x, Tracer):
        v = x.to_concrete_value()
        if v is None:
            raise ConcretizationTypeError(
                f"fxad.numpy.{name}: `{what}` determines the shape of the result, so it "
                "must be concrete (a Python or NumPy value, or a value known under "
                "grad/jvp), not a traced value inside make_jaxpr, jit or vmap.")
        return np.asarray(v)
    if isinstance(x, (list, tuple)) and _contains_tracer(x):
        return _concrete(asarray(x), name, what)
    return x


def _dtype(a):
    return a.aval.dtype if isinstance(a, Tracer) else np.asarray(a).dtype


def _gather_by(np_fn, arrays, dtype):
    """``np_fn(*arrays)`` for a function that only moves elements: NumPy runs
    it on the elements' positions, and the result gathers them."""
    positions, flat, offset = [], [], 0
    for a in arrays:
        shape = shape_of(a)
        n = int(np.prod(shape, dtype=np.int64))
        positions.append(np.arange(offset, offset + n, dtype=np.intp).reshape(shape))
        flat.append(ravel(convert(asarray(a), dtype)))
        offset += n
    idx = np.asarray(np_fn(*positions))
    if idx.size == 0:
        return np.zeros(idx.shape, dtype)
    return take(flat[0] if len(flat) == 1 else concatenate(flat), idx.astype(np.intp))


# ---------------------------------------------------------------------------
# Inserting and deleting


def append(arr, values, axis=None):
    """Differentiable ``numpy.append``: ``concatenate`` (of the flattened
    arrays when ``axis`` is None).

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.append(np.array([1.0, 2.0]), [[3.0]])
        array([1., 2., 3.])
    """
    if not any_tracer(arr, values) and not _contains_tracer(values):
        return np.append(arr, values, axis=axis)
    arr, values = asarray(arr), asarray(values)
    if axis is None:
        if len(shape_of(arr)) != 1:
            arr = ravel(arr)
        values = ravel(values)
        axis = len(shape_of(arr)) - 1
    return concatenate((arr, values), axis=axis)


def insert(arr, obj, values, axis=None):
    """Differentiable ``numpy.insert`` (in ``arr`` and ``values``); ``obj``
    (an index, indices, a slice) must be concrete.  The values are cast to
    ``arr``'s dtype and broadcast as NumPy does.

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> fnp.insert(np.array([1.0, 2.0, 3.0]), [0, 2], 9.0)
        array([9., 1., 2., 9., 3.])
        >>> float(fxad.grad(lambda v: fnp.insert(np.zeros(3), [0, 2], v).sum())(1.0))
        2.0
    """
    if not any_tracer(arr, obj, values) and not _contains_tracer(values):
        return np.insert(arr, obj, values, axis=axis)
    obj = _concrete(obj, "insert", "obj")
    dt = _dtype(asarray(arr))
    return _gather_by(lambda a, v: np.insert(a, obj, v, axis=axis),
                      [asarray(arr), asarray(values)], dt)


def delete(arr, obj, axis=None):
    """Differentiable ``numpy.delete``; ``obj`` (indices, a slice or a mask)
    must be concrete.

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.delete(np.arange(5.0), [0, -1])
        array([1., 2., 3.])
    """
    if not any_tracer(arr, obj):
        return np.delete(arr, obj, axis=axis)
    obj = _concrete(obj, "delete", "obj")
    arr = asarray(arr)
    return _gather_by(lambda a: np.delete(a, obj, axis=axis), [arr], _dtype(arr))


def resize(a, new_shape):
    """Differentiable ``numpy.resize``: the flattened ``a`` repeated (or cut)
    to fill ``new_shape``.

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.resize(np.array([1, 2, 3]), (2, 2))
        array([[1, 2],
               [3, 1]])
    """
    if not isinstance(a, Tracer):
        return np.resize(a, new_shape)
    return _gather_by(lambda p: np.resize(p, new_shape), [a], a.aval.dtype)


def compress(condition, a, axis=None, out=None):
    """Differentiable ``numpy.compress``; the condition must be concrete.

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.compress([False, True], np.array([[1, 2], [3, 4]]), axis=0)
        array([[3, 4]])
    """
    if out is not None:
        raise TypeError("fxad.numpy functions do not support out=: arrays are immutable")
    if not any_tracer(condition, a):
        return np.compress(condition, a, axis=axis)
    cond = _concrete(condition, "compress", "condition")
    a = asarray(a)
    return _gather_by(lambda p: np.compress(cond, p, axis=axis), [a], _dtype(a))


def extract(condition, arr):
    """Differentiable ``numpy.extract``: the elements of ``arr`` where the
    (concrete) condition is true, flattened.

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.extract(np.array([True, False, True]), np.array([1.0, 2.0, 3.0]))
        array([1., 3.])
    """
    if not any_tracer(condition, arr):
        return np.extract(condition, arr)
    cond = _concrete(condition, "extract", "condition")
    arr = asarray(arr)
    return _gather_by(lambda p: np.extract(cond, p), [arr], _dtype(arr))


def choose(a, choices, out=None, mode="raise"):
    """Differentiable ``numpy.choose`` (in the choices): ``a`` picks, per
    element, which choice to take.  A traced ``a`` selects with
    ``lax.select_n``; ``mode`` ``'wrap'`` and ``'clip'`` map it into range
    first (with ``'raise'``, an out-of-range traced index raises when the
    values are computed).

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.choose(np.array([0, 1, 0]), [np.zeros(3), np.ones(3)])
        array([0., 1., 0.])
    """
    if out is not None:
        raise TypeError("fxad.numpy functions do not support out=: arrays are immutable")
    if isinstance(choices, Tracer):  # an array: its first axis lists the choices
        choices = [choices[i] for i in range(choices.aval.shape[0])]
    choices = [asarray_value(c) for c in choices]
    if not any_tracer(a, *choices):
        return np.choose(a, choices, mode=mode)
    dt = result_type(*choices)
    if not isinstance(a, Tracer) or a.to_concrete_value() is not None:
        a_val = _concrete(a, "choose", "a")
        return _gather_by(lambda *cs: np.choose(a_val, cs, mode=mode), choices, dt)
    if mode not in ("raise", "wrap", "clip"):
        raise ValueError(f"clipmode must be one of 'clip', 'raise', or 'wrap' (got {mode!r})")
    n = len(choices)
    if mode == "wrap":
        a = remainder(a, n)
    elif mode == "clip":
        a = clip(a, 0, n - 1)
    a, *choices = broadcast_arrays(a, *[convert(c, dt) for c in choices])
    if not isinstance(a, Tracer) or not np.issubdtype(a.aval.dtype, np.integer):
        raise TypeError("fxad.numpy.choose: `a` must be an integer array")
    return lax.select_n(a, *choices)


def piecewise(x, condlist, funclist, *args, **kw):
    """Differentiable ``numpy.piecewise``: each function is applied to the
    elements its condition selects (concrete conditions: exactly NumPy's
    evaluation, so a function never sees the other pieces' inputs); traced
    conditions evaluate each function on all of ``x`` and select with
    ``where``.

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> x = np.array([-2.0, 0.5, 3.0])
        >>> fnp.piecewise(x, [x < 0, x >= 0], [lambda v: -v, lambda v: v ** 2])
        array([2.  , 0.25, 9.  ])
    """
    conds_traced = _contains_tracer(condlist) if isinstance(condlist, (list, tuple)) \
        else isinstance(condlist, Tracer)
    if not isinstance(x, Tracer) and not conds_traced:
        return np.piecewise(x, condlist, funclist, *args, **kw)
    x = asarray(x)
    nd = len(shape_of(x))
    n2 = len(funclist)
    if np.isscalar(condlist) or (nd != 0 and not _array_like(condlist[0])):
        condlist = [condlist]  # one condition (NumPy's undocumented rule)
    concrete = [c.to_concrete_value() if isinstance(c, Tracer) else c for c in condlist]
    if all(c is not None for c in concrete):
        conds = list(np.asarray(concrete, dtype=bool))
    else:
        conds = [asarray(c) for c in condlist]
    if len(conds) == n2 - 1:
        if all(isinstance(c, np.ndarray) for c in conds):
            conds.append(~np.any(np.asarray(conds), axis=0))
        else:
            conds.append(logical_not(any_(stack(conds), axis=0)))
    elif len(conds) != n2:
        raise ValueError(f"with {len(conds)} condition(s), either {len(conds)} or "
                         f"{len(conds) + 1} functions are expected")
    dt = _dtype(x)
    y = np.zeros(shape_of(x), dt)
    for cond, func in zip(conds, funclist):
        if isinstance(cond, np.ndarray):
            cond = np.broadcast_to(cond, shape_of(x))
            if not callable(func):
                y = _set_where(y, cond, func, dt)
            elif np.any(cond):
                y = _set_where(y, cond, func(x[cond], *args, **kw), dt)
        else:
            val = func(x, *args, **kw) if callable(func) else func
            y = where(cond, convert(asarray_value(val), dt), y)
    return y


def _array_like(c):
    return isinstance(c, (list, np.ndarray)) or (isinstance(c, Tracer) and c.ndim > 0)


def _set_where(y, mask, values, dt):
    return at(y)[mask].set(convert(asarray_value(values), dt))


# ---------------------------------------------------------------------------
# Applying functions along axes


def apply_along_axis(func1d, axis, arr, *args, **kwargs):
    """``numpy.apply_along_axis``: ``func1d`` on every 1-D slice along
    ``axis`` (a Python loop over the slices), the results stacked in NumPy's
    layout and cast to the first result's dtype.

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.apply_along_axis(lambda v: v[0] + v[-1], 1, np.arange(6.0).reshape(2, 3))
        array([2., 8.])
    """
    if not isinstance(arr, Tracer):
        return np.apply_along_axis(func1d, axis, arr, *args, **kwargs)
    nd = arr.ndim
    axis = canonical_axis(axis, nd)
    view = moveaxis(arr, axis, -1)
    outer = shape_of(view)[:-1]
    inds = list(np.ndindex(*outer))
    if not inds:
        raise ValueError("Cannot apply_along_axis when any iteration dimensions are 0")
    results = [asarray(func1d(view[ind + (Ellipsis,)], *args, **kwargs)) for ind in inds]
    dt = _dtype(results[0])
    res_shape = shape_of(results[0])
    buff = reshape(stack([convert(r, dt) for r in results]), outer + res_shape)
    bnd, rnd = len(outer) + len(res_shape), len(res_shape)
    dims = list(range(bnd))
    perm = dims[:axis] + dims[bnd - rnd:] + dims[axis:bnd - rnd]
    return transpose(buff, perm)


_DIM = r"\w+"
_CORE = rf"\((?:{_DIM}(?:,{_DIM})*)?\)"
_SIGNATURE = rf"^{_CORE}(?:,{_CORE})*->{_CORE}(?:,{_CORE})*$"


def _parse_signature(signature):
    import re

    sig = signature.replace(" ", "")
    if not re.match(_SIGNATURE, sig):
        raise ValueError(f"not a valid gufunc signature: {signature}")
    ins, outs = sig.split("->")
    parse = lambda part: [tuple(re.findall(_DIM, c)) for c in re.findall(_CORE, part)]  # noqa: E731
    return parse(ins), parse(outs)


class vectorize:  # noqa: N801 - NumPy's name
    """``numpy.vectorize`` through ``vmap``: ``pyfunc`` is traced once on one
    element (one core block with ``signature``), mapped over the broadcast
    loop dimensions, so it must use ``fxad.numpy`` functions on its
    arguments; without tracers among the arguments the call is NumPy's own
    ``numpy.vectorize``.  ``excluded`` (positions or keyword names) are passed
    unchanged; ``otypes`` casts the outputs.

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> norm = fnp.vectorize(lambda v: fnp.sqrt(fnp.sum(v * v)), signature="(n)->()")
        >>> fxad.grad(lambda x: norm(x).sum())(np.array([[3.0, 4.0], [0.0, 2.0]]))
        array([[0.6, 0.8],
               [0. , 1. ]])
    """

    def __init__(self, pyfunc=np._NoValue, otypes=None, doc=None, excluded=None, cache=False,
                 signature=None):
        if pyfunc is np._NoValue:  # the decorator form @vectorize(signature=...)
            self.pyfunc = None
        else:
            self.pyfunc = pyfunc
        if isinstance(otypes, str):
            otypes = list(otypes)
        self.otypes = otypes
        self.excluded = set(excluded or ())
        self.cache = cache
        self.signature = signature
        self._core = None if signature is None else _parse_signature(signature)
        self.__doc__ = doc if doc is not None else getattr(pyfunc, "__doc__", None)

    def __call__(self, *args, **kwargs):
        if self.pyfunc is None:
            self.pyfunc = args[0]
            self.__doc__ = self.__doc__ or getattr(args[0], "__doc__", None)
            return self
        if not any_tracer(*args, *kwargs.values()):
            return np.vectorize(self.pyfunc, otypes=self.otypes, excluded=self.excluded,
                                cache=self.cache, signature=self.signature)(*args, **kwargs)
        # Mapped arguments, positional then keyword; the rest are closed over.
        names = [i for i in range(len(args)) if i not in self.excluded]
        names += [k for k in kwargs if k not in self.excluded]
        values = [asarray(args[n] if isinstance(n, int) else kwargs[n]) for n in names]
        ins_core, outs_core = self._core or ([()] * len(values), None)
        if len(ins_core) != len(values):
            raise TypeError(f"wrong number of positional arguments: expected {len(ins_core)}, "
                            f"got {len(values)}")
        sizes: dict = {}
        loops = []
        for v, core in zip(values, ins_core):
            shp = shape_of(v)
            if len(shp) < len(core):
                raise ValueError(f"input with shape {shp} does not have enough dimensions for "
                                 f"the core dimensions {core} of signature {self.signature!r}")
            for dim, n in zip(core, shp[len(shp) - len(core):]):
                if sizes.setdefault(dim, n) != n:
                    raise ValueError(f"inconsistent size for core dimension {dim!r}: {n} vs "
                                     f"{sizes[dim]}")
            loops.append(shp[:len(shp) - len(core)])
        loop = np.broadcast_shapes(*loops)
        size = int(np.prod(loop))
        flat = [reshape(_broadcast_loop(v, loop + shape_of(v)[len(lp):]), (size,) +
                        shape_of(v)[len(lp):]) for v, lp in zip(values, loops)]

        def one(*xs):
            a, kw = list(args), dict(kwargs)
            for n, x in zip(names, xs):
                if isinstance(n, int):
                    a[n] = x
                else:
                    kw[n] = x
            out = self.pyfunc(*a, **kw)
            out = tuple(out) if isinstance(out, tuple) else (out,)
            return [asarray(o) for o in out]

        if size == 0:
            raise ValueError("fxad.numpy.vectorize: cannot trace pyfunc over an empty loop "
                             "(zero-size input); give otypes and handle the empty case")
        outs = lax.vmap_flat(one, flat, [0] * len(flat), lambda n: [0] * n, size)
        if outs_core is not None and len(outs_core) != len(outs):
            raise ValueError(f"wrong number of outputs from pyfunc: expected {len(outs_core)}, "
                             f"got {len(outs)}")
        res = []
        for k, o in enumerate(outs):
            core_shape = shape_of(o)[1:]
            if outs_core is not None:
                core = outs_core[k]
                if len(core) != len(core_shape):
                    raise ValueError(f"output {k} of pyfunc has shape {core_shape}, which does "
                                     f"not match its core dimensions {core}")
            o = reshape(o, loop + core_shape)
            if self.otypes:
                o = o.astype(np.dtype(self.otypes[k]))
            res.append(o)
        single = outs_core is None and len(res) == 1 or outs_core is not None and len(
            outs_core) == 1
        return res[0] if single else tuple(res)


def _broadcast_loop(v, shape):
    return v if shape_of(v) == tuple(shape) else broadcast_to(v, tuple(shape))


def apply_over_axes(func, a, axes):
    """``numpy.apply_over_axes``: ``func(a, axis)`` for each axis in turn,
    keeping the reduced axes.

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.apply_over_axes(fnp.sum, np.ones((2, 3)), [0, 1])
        array([[6.]])
    """
    if not isinstance(a, Tracer):
        return np.apply_over_axes(func, a, axes)
    val = a
    nd = a.ndim
    for axis in np.atleast_1d(axes):
        axis = int(axis) + nd if axis < 0 else int(axis)
        res = asarray(func(val, axis))
        if len(shape_of(res)) == len(shape_of(val)):
            val = res
        else:
            res = expand_dims(res, axis)
            if len(shape_of(res)) != len(shape_of(val)):
                raise ValueError("function is not returning an array of the correct shape")
            val = res
    return val


# ---------------------------------------------------------------------------
# Shapes and assembly


def rollaxis(a, axis, start=0):
    """``numpy.rollaxis``: move ``axis`` to before ``start`` (a transpose).

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.rollaxis(np.ones((2, 3, 4)), 2).shape
        (4, 2, 3)
    """
    if not isinstance(a, Tracer):
        return np.rollaxis(a, axis, start)
    n = a.ndim
    axis = canonical_axis(axis, n)
    if start < 0:
        start += n
    if not 0 <= start < n + 1:
        raise np.exceptions.AxisError(
            f"'start' arg requires {-n} <= start < {n + 1}, but {start} was passed in")
    if axis < start:
        start -= 1
    if axis == start:
        return a
    axes = list(range(n))
    axes.remove(axis)
    axes.insert(start, axis)
    return transpose(a, axes)


def matrix_transpose(x, /):
    """``numpy.matrix_transpose``: swap the last two axes.

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.matrix_transpose(np.ones((2, 3, 4))).shape
        (2, 4, 3)
    """
    if not isinstance(x, Tracer):
        return np.matrix_transpose(x)
    if x.ndim < 2:
        raise ValueError(f"Input array must be at least 2-dimensional, but it is {x.ndim}")
    return swapaxes(x, -1, -2)


def unstack(x, /, *, axis=0):
    """``numpy.unstack``: the slices along ``axis``, as a tuple.

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> [v.tolist() for v in fnp.unstack(np.arange(4).reshape(2, 2))]
        [[0, 1], [2, 3]]
    """
    if not isinstance(x, Tracer):
        return np.unstack(x, axis=axis)
    if x.ndim == 0:
        raise ValueError("Input array must be at least 1-d.")
    axis = canonical_axis(axis, x.ndim)
    return tuple(x[(slice(None),) * axis + (i,)] for i in range(x.aval.shape[axis]))


def concat(arrays, /, axis=0, out=None, *, dtype=None, casting="same_kind"):
    """``numpy.concat``, NumPy 2's name for ``concatenate``.

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.concat([np.zeros(1), np.ones(2)])
        array([0., 1., 1.])
    """
    if out is not None:
        raise TypeError("fxad.numpy functions do not support out=: arrays are immutable")
    arrays = list(arrays)
    if not any(_contains_tracer(a) for a in arrays):
        return np.concat(arrays, axis=axis, dtype=dtype, casting=casting)
    return concatenate(arrays, axis=axis, dtype=dtype)


def row_stack(tup, *, dtype=None, casting="same_kind"):
    """``numpy.row_stack``, NumPy's deprecated name for ``vstack``.

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.row_stack([np.zeros(2), np.ones(2)]).shape
        (2, 2)
    """
    tup = list(tup)
    if not any(_contains_tracer(a) for a in tup):
        return np.vstack(tup, dtype=dtype, casting=casting)
    return vstack(tup, dtype=dtype)


def block(arrays):
    """Differentiable ``numpy.block``: nested lists of arrays joined along
    the last axes (the innermost lists along the last axis).

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.block([[np.eye(2), np.zeros((2, 1))], [np.ones((1, 2)), np.ones((1, 1))]])
        array([[1., 0., 0.],
               [0., 1., 0.],
               [1., 1., 1.]])
    """
    if not _contains_tracer(arrays):
        return np.block(arrays)
    depths, max_nd = set(), [0]

    def walk(x, depth):
        if isinstance(x, tuple):
            raise TypeError("fxad.numpy.block: arrays is a tuple; only lists can be used "
                            "to arrange blocks, as in NumPy")
        if isinstance(x, list):
            if not x:
                raise ValueError("List at this depth is empty")
            for e in x:
                walk(e, depth + 1)
        else:
            depths.add(depth)
            max_nd[0] = max(max_nd[0], len(shape_of(x)))

    walk(arrays, 0)
    if len(depths) != 1:
        raise ValueError("List depths are mismatched")
    (depth,) = depths
    ndim = max(depth, max_nd[0])

    def build(x, d):
        if d < depth:
            return concatenate([build(e, d + 1) for e in x], axis=-(depth - d))
        x = asarray(x)
        s = shape_of(x)
        return reshape(x, (1,) * (ndim - len(s)) + s) if len(s) < ndim else x

    return build(arrays, 0)


# ---------------------------------------------------------------------------
# NumPy 2 cumulative functions


def _cumulative(np_fn, scan, identity, name):
    def fn(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
        if out is not None:
            raise TypeError("fxad.numpy functions do not support out=: arrays are immutable")
        if not isinstance(x, Tracer):
            return np_fn(x, axis=axis, dtype=dtype, include_initial=include_initial)
        if x.ndim == 0:
            x = reshape(x, (1,))
        if axis is None:
            if x.ndim >= 2:
                raise ValueError("For arrays which have more than one dimension ``axis`` "
                                 "argument is required.")
            axis = 0
        axis = canonical_axis(axis, x.ndim)
        res = scan(x, axis=axis, dtype=dtype)
        if include_initial:
            shape = list(shape_of(res))
            shape[axis] = 1
            res = concatenate([np.full(shape, identity, _dtype(res)), res], axis=axis)
        return res

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (
        f"Differentiable ``numpy.{name}`` (NumPy 2): ``{scan.__name__}`` along ``axis`` "
        f"(required for more than one dimension), with ``include_initial`` putting the "
        f"identity ({identity}) first.\n\n"
        "Example:\n    >>> import fxad.numpy as fnp, numpy as np\n"
        f"    >>> fnp.{name}(np.array([1.0, 2.0, 3.0]), include_initial=True)\n"
        f"    {np.array_repr(np_fn(np.array([1.0, 2.0, 3.0]), include_initial=True))}\n")
    return fn


cumulative_sum = _cumulative(np.cumulative_sum, cumsum, 0, "cumulative_sum")
cumulative_prod = _cumulative(np.cumulative_prod, cumprod, 1, "cumulative_prod")


# ---------------------------------------------------------------------------
# Identities, trimming, open grids


def copy(a, order="K", subok=False):
    """``numpy.copy``: the value itself for a tracer (fxad arrays are
    immutable, so a copy is never observable).

    Example:
        >>> import fxad.numpy as fnp
        >>> fnp.copy([1, 2])
        array([1, 2])
    """
    if not _contains_tracer(a):
        return np.copy(a, order=order, subok=subok)
    return asarray(a)


def asanyarray(a, dtype=None, order=None, *, like=None):
    """``numpy.asanyarray``: ``asarray`` (tracers are kept).

    Example:
        >>> import fxad.numpy as fnp
        >>> fnp.asanyarray([1.0]).dtype
        dtype('float64')
    """
    if not _contains_tracer(a):
        return np.asanyarray(a, dtype=dtype, order=order)
    return asarray(a, dtype=dtype)


def ascontiguousarray(a, dtype=None, *, like=None):
    """``numpy.ascontiguousarray``: ``asarray`` (memory layout is not
    observable on traced values; 0-d becomes 1-d, as NumPy).

    Example:
        >>> import fxad.numpy as fnp
        >>> fnp.ascontiguousarray(1.0).shape
        (1,)
    """
    if not _contains_tracer(a):
        return np.ascontiguousarray(a, dtype=dtype)
    a = asarray(a, dtype=dtype)
    return reshape(a, (1,)) if not shape_of(a) else a


def asfortranarray(a, dtype=None, *, like=None):
    """``numpy.asfortranarray``: ``asarray`` (memory layout is not
    observable on traced values; 0-d becomes 1-d, as NumPy).

    Example:
        >>> import fxad.numpy as fnp
        >>> fnp.asfortranarray(1.0).shape
        (1,)
    """
    if not _contains_tracer(a):
        return np.asfortranarray(a, dtype=dtype)
    a = asarray(a, dtype=dtype)
    return reshape(a, (1,)) if not shape_of(a) else a


def trim_zeros(filt, trim="fb", axis=None):
    """``numpy.trim_zeros``: drop the leading and/or trailing zeros (the
    bounding box of the nonzeros along ``axis``).  Which ones are zero fixes
    the shape, so the values must be concrete (as under ``grad``); the result
    is a differentiable slice.

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.trim_zeros(np.array([0.0, 1.0, 2.0, 0.0]))
        array([1., 2.])
    """
    if not isinstance(filt, Tracer):
        return np.trim_zeros(filt, trim, axis)
    v = _concrete(filt, "trim_zeros", "filt")
    trim = trim.lower()
    if trim not in {"fb", "bf", "f", "b"}:
        raise ValueError(f"unexpected character(s) in `trim`: {trim!r}")
    nd = v.ndim
    axes = tuple(range(nd)) if axis is None else tuple(
        canonical_axis(ax, nd) for ax in np.atleast_1d(axis))
    if not axes:
        return filt
    nz = np.argwhere(v)
    if nz.size == 0:
        start = stop = np.zeros(nd, np.intp)
    else:
        start, stop = nz.min(axis=0), nz.max(axis=0) + 1
        if "f" not in trim:
            start = (None,) * nd
        if "b" not in trim:
            stop = (None,) * nd
    return filt[tuple(slice(start[d], stop[d]) if d in axes else slice(None)
                      for d in range(nd))]


def require(a, dtype=None, requirements=None, *, like=None):
    """``numpy.require``: ``asarray(a, dtype)`` (memory-layout requirements
    are not observable on traced values).

    Example:
        >>> import fxad.numpy as fnp
        >>> fnp.require([1, 2], float).dtype
        dtype('float64')
    """
    if not _contains_tracer(a):
        return np.require(a, dtype, requirements)
    return asarray(a, dtype=dtype)


def unravel_index(indices, shape, order="C"):
    """``numpy.unravel_index``: flat indices to a tuple of coordinate arrays
    (integer arithmetic on traced indices).

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.unravel_index(np.array([5, 7]), (3, 4))
        (array([1, 1]), array([1, 3]))
    """
    if not _contains_tracer(indices):
        return np.unravel_index(indices, shape, order)
    shape = (int(shape),) if np.ndim(shape) == 0 else tuple(int(d) for d in shape)
    idx = convert(asarray(indices), np.dtype(np.intp))
    dims = list(enumerate(shape))
    out = [None] * len(shape)
    for i, d in (reversed(dims) if order == "C" else dims):
        out[i] = remainder(idx, np.intp(d)) if d else idx
        idx = floor_divide(idx, np.intp(d)) if d else idx
    return tuple(out)


def ravel_multi_index(multi_index, dims, mode="raise", order="C"):
    """``numpy.ravel_multi_index``: coordinate arrays to flat indices
    (``mode`` ``'wrap'`` or ``'clip'`` for traced coordinates; with
    ``'raise'`` they are taken to be in range).

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.ravel_multi_index((np.array([1, 2]), np.array([3, 0])), (3, 4))
        array([7, 8])
    """
    if not _contains_tracer(multi_index):
        return np.ravel_multi_index(multi_index, dims, mode, order)
    dims = tuple(int(d) for d in np.atleast_1d(dims))
    if len(multi_index) != len(dims):
        raise ValueError(f"parameter multi_index must be a sequence of length {len(dims)}")
    modes = (mode,) * len(dims) if isinstance(mode, str) else tuple(mode)
    strides = np.cumprod((1,) + (dims[::-1] if order == "C" else dims)[:-1])
    strides = strides[::-1] if order == "C" else strides
    out = np.intp(0)
    for i, d, s, m in zip(multi_index, dims, strides, modes):
        i = convert(asarray(i), np.dtype(np.intp))
        if m == "wrap":
            i = remainder(i, np.intp(d))
        elif m == "clip":
            i = clip(i, 0, d - 1)
        out = add(out, multiply(i, np.intp(s)))
    return out


def ix_(*args):
    """``numpy.ix_``: open-mesh index arrays from 1-D sequences (traced
    integer sequences are reshaped; boolean ones must be concrete).

    Example:
        >>> import fxad.numpy as fnp
        >>> [i.shape for i in fnp.ix_([0, 1], [2, 3, 4])]
        [(2, 1), (1, 3)]
    """
    if not any(_contains_tracer(a) for a in args):
        return np.ix_(*args)
    out = []
    nd = len(args)
    for k, new in enumerate(args):
        new = asarray(new)
        if not isinstance(new, Tracer):
            new = np.asarray(new)
            if new.size == 0:
                new = new.astype(np.intp)
        elif new.aval.dtype == np.bool_:
            new = _concrete(new, "ix_", "a boolean sequence")
        if len(shape_of(new)) != 1:
            raise ValueError("Cross index must be 1 dimensional")
        if _dtype(new) == np.bool_:
            (new,) = np.nonzero(new)
        n = shape_of(new)[0]
        out.append(reshape(new, (1,) * k + (n,) + (1,) * (nd - k - 1)))
    return tuple(out)

