"""Searching, counting and set membership: ``searchsorted``, ``digitize``,
``lexsort``, ``bincount``, ``histogram``, ``unique`` and ``isin``.

Traced searches compare every query with every sorted element and count
(NaN sorts last, as NumPy): integer outputs, no derivative, and no
value-dependent control flow.  ``bincount`` scatter-adds its weights, so it
is differentiable in them; a traced ``x`` needs an explicit ``length`` (as
in JAX), since the output's length would depend on its values.
``histogram`` counts with ``searchsorted`` and ``bincount``: its edges are
differentiable in the data when they come from its range (``bins`` an
integer, ``range`` None), and its weights and density differentiate too.
``unique`` has a value-dependent shape: it needs concrete values (as under
``grad``), and its values are then gathered from the input, so they carry
the input's derivative.
"""

from __future__ import annotations

import builtins
import warnings

import numpy as np

from fxad import lax
from fxad.core import Tracer
from fxad.errors import ConcretizationTypeError
from fxad.numpy._core import (
    any,
    equal,
    greater_equal,
    less,
    less_equal,
    logical_and,
    logical_not,
    logical_or,
    max,
    min,
    stop_gradient,
    subtract,
    sum,
    true_divide,
)
from fxad.numpy._creation import linspace
from fxad.numpy._indexing import at, take
from fxad.numpy._reductions import diff
from fxad.numpy._shape import asarray, concatenate, expand_dims, flip, ravel, where
from fxad.numpy._util import any_tracer, canonical_axis, convert, result_type, shape_of
from fxad.numpy._util import concrete_value as _value
from fxad.numpy._util import isnan_traced as _isnan


def _dtype(a):
    return a.aval.dtype if isinstance(a, Tracer) else np.asarray(a).dtype



# ---------------------------------------------------------------------------
# Sorted search



def _count_before(a, v, side):
    """How many of the sorted 1-D ``a`` go before each ``v`` (NaN last)."""
    dt = result_type(a, v)
    if np.issubdtype(dt, np.complexfloating):
        raise NotImplementedError("fxad.numpy.searchsorted: complex values are not "
                                  "supported for traced arrays")
    a, v = convert(asarray(a), dt), convert(asarray(v), dt)
    vv = expand_dims(v, -1)
    if side == "left":
        before = less(a, vv)
        if np.issubdtype(dt, np.inexact):
            before = logical_or(before, logical_and(_isnan(vv), logical_not(_isnan(a))))
    else:
        before = less_equal(a, vv)
        if np.issubdtype(dt, np.inexact):
            before = logical_or(before, _isnan(vv))
    n = shape_of(a)[0]
    if n == 0:
        return np.zeros(shape_of(v), np.intp)
    return sum(convert(before, np.dtype(np.intp)), axis=-1)


def searchsorted(a, v, side="left", sorter=None):
    """``numpy.searchsorted``: where ``v`` would go in the sorted 1-D ``a``
    (int64; not differentiable).  Traced, each query is compared with all of
    ``a``: ``O(len(a) * v.size)`` work, and no control flow on the values.

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.searchsorted(np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.5]), side="right")
        array([2, 2])
    """
    if not any_tracer(a, v, sorter):
        return np.searchsorted(a, v, side=side, sorter=sorter)
    if side not in ("left", "right"):
        raise ValueError(f"side must be 'left' or 'right' (got {side!r})")
    a = asarray(a)
    if len(shape_of(a)) != 1:
        raise ValueError("object too deep for desired array")
    if sorter is not None:
        a = take(a, sorter)
    return _count_before(a, v, side)


def _monotonicity(bins):
    d = np.diff(bins)
    if np.all(d >= 0):
        return 1
    if np.all(d <= 0):
        return -1
    return 0


def digitize(x, bins, right=False):
    """``numpy.digitize``: the index of the bin of each ``x`` (int64; not
    differentiable), for increasing or decreasing ``bins``.  Traced bins are
    taken as decreasing when the first exceeds the last.

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.digitize(np.array([0.5, 1.5, 3.0]), np.array([1.0, 2.0, 3.0]))
        array([0, 1, 3])
    """
    if not any_tracer(x, bins):
        return np.digitize(x, bins, right)
    x, bins = asarray(x), asarray(bins)
    if np.issubdtype(_dtype(x), np.complexfloating):
        raise TypeError("x may not be complex")
    if len(shape_of(bins)) != 1:
        raise ValueError("object too deep for desired array")
    side = "left" if right else "right"
    n = shape_of(bins)[0]
    bv = _value(bins)
    if bv is not None:
        mono = _monotonicity(bv)
        if mono == 0:
            raise ValueError("bins must be monotonically increasing or decreasing")
        if mono == -1:
            return subtract(np.intp(n), searchsorted(flip(bins), x, side=side))
        return searchsorted(bins, x, side=side)
    inc = searchsorted(bins, x, side=side)
    dec = subtract(np.intp(n), searchsorted(flip(bins), x, side=side))
    return where(lax.gt(bins[0], bins[n - 1]), dec, inc)


def lexsort(keys, axis=-1):
    """``numpy.lexsort``: the indices that sort by the last key, then the one
    before... (stable; int64; not differentiable).

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.lexsort((np.array([1, 0, 1]), np.array([0, 0, 1])))
        array([1, 0, 2])
    """
    if not any_tracer(keys) and not (isinstance(keys, (list, tuple))
                                     and any_tracer(*keys)):
        return np.lexsort(keys, axis=axis)
    if isinstance(keys, Tracer):
        if keys.ndim == 0:
            raise TypeError("need sequence of keys with len > 0 in lexsort")
        keys = [keys[i] for i in range(keys.aval.shape[0])]  # the first axis lists keys
    keys = [stop_gradient(asarray(k)) for k in keys]
    if not keys:
        raise TypeError("need sequence of keys with len > 0 in lexsort")
    shape = shape_of(keys[0])
    if builtins.any(shape_of(k) != shape for k in keys):
        raise ValueError("all keys need to be the same shape")
    if not shape:
        return np.intp(0)
    ax = canonical_axis(axis, len(shape))
    iota = np.broadcast_to(np.arange(shape[ax], dtype=np.intp).reshape(
        tuple(n if d == ax else 1 for d, n in enumerate(shape))), shape)
    keys = [k if isinstance(k, Tracer) else np.asarray(k) for k in keys]
    return lax.sort(keys[::-1] + [iota], ax, num_keys=len(keys))[-1]


# ---------------------------------------------------------------------------
# Counting


def _bincount(idx, weights, length, dtype):
    """Sum of ``weights`` (ones if None) per value of the int64 ``idx`` in
    ``[0, length)``; other values are dropped."""
    valid = logical_and(greater_equal(idx, 0), less(idx, length))
    idx = where(valid, idx, np.intp(0))
    w = np.ones((), dtype) if weights is None else convert(weights, dtype)
    w = where(valid, w, dtype.type(0))
    return at(np.zeros(length, dtype))[idx].add(w)


def bincount(x, /, weights=None, minlength=0, *, length=None):
    """``numpy.bincount``: how often each non-negative integer occurs in
    ``x`` (int64), or the sum of ``weights`` per value (float64,
    differentiable in the weights).

    The output's length is ``max(x) + 1`` (at least ``minlength``), which
    needs a concrete ``x``; with a traced ``x`` pass ``length=`` (as JAX
    does): values outside ``[0, length)`` are then dropped.

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> fnp.bincount(np.array([0, 2, 2]))
        array([1, 0, 2])
        >>> fxad.grad(lambda w: fnp.bincount(np.array([0, 2, 2]), w)[2])(np.ones(3))
        array([0., 1., 1.])
    """
    if not any_tracer(x, weights) and length is None:
        return np.bincount(x, weights, minlength)
    x = asarray(x)
    if len(shape_of(x)) != 1:
        raise ValueError("object too deep for desired array" if shape_of(x) else
                         "object of too small depth for desired array")
    if not (np.issubdtype(_dtype(x), np.integer) or _dtype(x) == np.bool_) \
            and int(np.prod(shape_of(x))):
        raise TypeError(f"Cannot cast array data from dtype('{_dtype(x)}') to "
                        "dtype('int64') according to the rule 'safe'")
    if weights is not None:
        weights = asarray(weights)
        if shape_of(weights) != shape_of(x):
            raise ValueError("The weights and list don't have the same length.")
    xv = _value(x)
    if xv is not None and xv.size and xv.min() < 0:
        raise ValueError("'list' argument must have no negative elements")
    if length is None:
        if xv is None:
            raise ConcretizationTypeError(
                "fxad.numpy.bincount: the length of the result is max(x) + 1, which "
                "depends on the values of the traced x; pass length= (the number of "
                "bins; values outside [0, length) are dropped).")
        length = builtins.max(int(xv.max()) + 1 if xv.size else 0, int(minlength))
    dtype = np.dtype(np.intp if weights is None else np.float64)
    return _bincount(convert(x, np.dtype(np.intp)), weights, int(length), dtype)


def _outer_edges(a, range_):
    """NumPy's ``_get_outer_edges``: from ``range`` or the data's extremes
    (traced extremes stay traced: the edges then differentiate in ``a``)."""
    if range_ is not None:
        first, last = range_
        if any_tracer(first, last):
            raise ConcretizationTypeError("fxad.numpy.histogram: range must be concrete")
        if first > last:
            raise ValueError("max must be larger than min in range parameter.")
        if not (np.isfinite(first) and np.isfinite(last)):
            raise ValueError(f"supplied range of [{first}, {last}] is not finite")
    elif int(np.prod(shape_of(a))) == 0:
        first, last = 0, 1
    else:
        first, last = min(a), max(a)
        fv, lv = _value(first), _value(last)
        if fv is not None and not (np.isfinite(fv) and np.isfinite(lv)):
            raise ValueError(f"autodetected range of [{fv}, {lv}] is not finite")
        if isinstance(first, Tracer):
            same = equal(first, last)
            return where(same, subtract(first, 0.5), first), where(same, last + 0.5, last)
    if first == last:
        first, last = first - 0.5, last + 0.5
    return first, last


def _bin_edges(a, bins, range_, weights):
    if isinstance(bins, str):
        av = _value(a)
        if av is None:
            raise ConcretizationTypeError(
                f"fxad.numpy.histogram: bins={bins!r} estimates the number of bins from the "
                "values, so a must be concrete; pass an integer or an array of edges.")
        return np.histogram_bin_edges(av, bins, range_,
                                      None if weights is None else _value(weights)), False
    if np.ndim(bins) == 0:
        n = int(bins)
        if n < 1:
            raise ValueError("`bins` must be positive, when an integer")
        first, last = _outer_edges(a, range_)
        bin_type = result_type(first, last, a)
        if np.issubdtype(bin_type, np.integer) or bin_type == np.bool_:
            bin_type = np.result_type(bin_type, float)
        edges = linspace(first, last, n + 1, endpoint=True, dtype=bin_type)
        ev = _value(edges)
        if ev is not None and np.any(ev[:-1] >= ev[1:]):
            raise ValueError(f"Too many bins for data range. Cannot create {n} finite-sized "
                             "bins.")
        return edges, True
    if np.ndim(bins) != 1:
        raise ValueError("`bins` must be 1d, when an array")
    edges = asarray(bins)
    ev = _value(edges)
    if ev is not None and np.any(ev[:-1] > ev[1:]):
        raise ValueError("`bins` must increase monotonically, when an array")
    return edges, False


def histogram_bin_edges(a, bins=10, range=None, weights=None):  # noqa: A002 - NumPy's name
    """``numpy.histogram_bin_edges``; with an integer ``bins`` and no
    ``range`` the edges are differentiable in ``a`` (through its extremes).

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.histogram_bin_edges(np.array([0.0, 1.0, 3.0]), bins=3)
        array([0., 1., 2., 3.])
    """
    if not any_tracer(a, bins, weights):
        return np.histogram_bin_edges(a, bins, range, weights)
    return _bin_edges(ravel(asarray(a)), bins, range, weights)[0]


def histogram(a, bins=10, range=None, density=None, weights=None):  # noqa: A002
    """``numpy.histogram``: ``(counts, bin_edges)``.  The counts have no
    derivative in ``a``; weighted counts differentiate in the weights, and
    ``density=True`` in the edges too.  With an integer ``bins`` and no
    ``range`` the edges are ``linspace(min(a), max(a))``, differentiable in
    ``a``.  Each value falls in ``[edge_i, edge_{i+1})`` (the last bin
    closed), as in NumPy.

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> counts, edges = fnp.histogram(np.array([0.0, 0.5, 1.0, 3.0]), bins=3)
        >>> counts, edges
        (array([2, 1, 1]), array([0., 1., 2., 3.]))
    """
    if not any_tracer(a, bins, weights):
        return np.histogram(a, bins, range, density, weights)
    a = ravel(asarray(a))
    if weights is not None:
        weights = ravel(asarray(weights))
        if shape_of(weights) != shape_of(a):
            raise ValueError("weights should have the same shape as a.")
    edges, _ = _bin_edges(a, bins, range, weights)
    nb = shape_of(edges)[0] - 1
    ntype = np.dtype(np.intp) if weights is None else _dtype(weights)
    ab = convert(a, _dtype(edges))
    first, last = edges[0], edges[nb]
    keep = logical_and(greater_equal(ab, first), less_equal(ab, last))
    idx = subtract(searchsorted(edges, ab, side="right"), np.intp(1))
    idx = where(equal(ab, last), np.intp(nb - 1), idx)
    idx = where(keep, idx, np.intp(-1))
    n = _bincount(idx, weights, nb, ntype)
    if density:
        db = convert(asarray(diff(edges)), np.dtype(np.float64))
        return true_divide(true_divide(n, db), sum(n)), edges
    return n, edges


# ---------------------------------------------------------------------------
# Sets


def _concrete(x, name):
    v = _value(x)
    if v is None:
        raise ConcretizationTypeError(
            f"fxad.numpy.{name}: the number of unique values fixes the shape of the "
            "result, so the input must be concrete (a NumPy value, or traced by grad/jvp, "
            "whose values are known), not abstract inside make_jaxpr, jit or vmap.")
    return v


def unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None, *,
           equal_nan=True, sorted=True):  # noqa: A002 - NumPy's name
    """``numpy.unique`` of concrete values (as under ``grad``/``jvp``): the
    unique values are gathered from ``ar`` at their first occurrences, so
    they are differentiable; the index, inverse and count arrays are NumPy's.

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> fxad.grad(lambda x: fnp.unique(x).sum())(np.array([2.0, 1.0, 2.0]))
        array([1., 1., 0.])
    """
    if not isinstance(ar, Tracer):
        return np.unique(ar, return_index, return_inverse, return_counts, axis,
                         equal_nan=equal_nan, sorted=sorted)
    v = _concrete(ar, "unique")
    res = np.unique(v, True, return_inverse, return_counts, axis, equal_nan=equal_nan,
                    sorted=sorted)
    vals = take(ravel(ar), res[1]) if axis is None else take(ar, res[1], axis=axis)
    out = [vals] + ([res[1]] if return_index else []) + list(res[2:])
    return tuple(out) if len(out) > 1 else vals


def _unique_api(np_fn, name):
    def fn(x, /):
        if not isinstance(x, Tracer):
            return np_fn(x)
        v = _concrete(x, name)
        res = np_fn(v)
        values = res if isinstance(res, np.ndarray) else res[0]
        # Each unique value's first position in x (NaNs: the first NaN).
        flat = v.ravel()
        u, first = np.unique(flat, return_index=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pos = np.searchsorted(u, values) if u.size else np.zeros(values.shape, np.intp)
        gathered = take(ravel(x), first[pos]) if values.size else values
        if isinstance(res, np.ndarray):
            return gathered
        return type(res)(gathered, *res[1:])

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"``numpy.{name}`` of concrete values (as under ``grad``); the values are "
                  "gathered from ``x``, so they are differentiable.\n\n"
                  "Example:\n    >>> import fxad.numpy as fnp, numpy as np\n"
                  f"    >>> r = fnp.{name}(np.array([1.0, 1.0, 2.0]))\n")
    return fn


unique_values = _unique_api(np.unique_values, "unique_values")
unique_counts = _unique_api(np.unique_counts, "unique_counts")
unique_inverse = _unique_api(np.unique_inverse, "unique_inverse")
unique_all = _unique_api(np.unique_all, "unique_all")


def _gathered(flat, flat_value, values):
    """``values`` (a NumPy array of elements of the 1-D ``flat_value``) as a
    gather from the traced ``flat``, each at its first position."""
    if not values.size:
        return values
    u, first = np.unique(flat_value, return_index=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return take(flat, first[np.searchsorted(u, values)])


def _set_operation(np_fn, name, doc):
    def fn(ar1, ar2, *args, **kwargs):
        if not any_tracer(ar1, ar2):
            return np_fn(ar1, ar2, *args, **kwargs)
        v1, v2 = _concrete(ar1, name), _concrete(ar2, name)
        res = np_fn(v1, v2, *args, **kwargs)
        flat = _concat_flat(ar1, ar2)
        values = res[0] if isinstance(res, tuple) else res
        out = _gathered(flat, np.concatenate([v1.ravel(), v2.ravel()]), values)
        return (out,) + tuple(res[1:]) if isinstance(res, tuple) else out

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (
        f"``numpy.{name}`` of concrete values (as under ``grad``): {doc}.  The values "
        "are gathered from the inputs (from ``ar1`` where they occur in both), so they "
        "are differentiable.\n\nExample:\n    >>> import fxad.numpy as fnp, numpy as np\n"
        f"    >>> fnp.{name}(np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0]))\n"
        f"    {np.array_repr(np_fn(np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0])))}\n")
    return fn


def _concat_flat(a, b):
    dt = result_type(a, b)
    return concatenate([ravel(convert(asarray(a), dt)), ravel(convert(asarray(b), dt))])


union1d = _set_operation(np.union1d, "union1d", "the sorted values in either")
intersect1d = _set_operation(np.intersect1d, "intersect1d", "the sorted values in both")
setdiff1d = _set_operation(np.setdiff1d, "setdiff1d", "the values of ``ar1`` not in ``ar2``")
setxor1d = _set_operation(np.setxor1d, "setxor1d", "the sorted values in exactly one")


def isin(element, test_elements, assume_unique=False, invert=False, *, kind=None):
    """``numpy.isin``: whether each element occurs in ``test_elements``
    (boolean; every element compared with every test element when traced).

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.isin(np.array([1, 2, 3]), [2, 4])
        array([False,  True, False])
    """
    if not any_tracer(element, test_elements):
        return np.isin(element, test_elements, assume_unique=assume_unique, invert=invert,
                       kind=kind)
    e, t = asarray(element), ravel(asarray(test_elements))
    if shape_of(t)[0] == 0:
        out = np.zeros(shape_of(e), bool)
    else:
        out = any(equal(expand_dims(e, -1), t), axis=-1)
    return logical_not(out) if invert else out
