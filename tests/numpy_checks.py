"""Value-and-derivative checks shared by the fxad.numpy test modules; each
module binds them to its own ``assert_same`` (its tolerance policy)."""

from __future__ import annotations

import numpy as np

import fxad
from fxad.test_util import check_grads


def is_float(x):
    return np.issubdtype(np.asarray(x).dtype, np.inexact)


def value_checks(assert_same):
    """``(check_values, check)`` comparing with ``assert_same``."""

    def check_values(f, args, expected):
        """``f(*args)`` equals ``expected`` eagerly, staged by ``make_jaxpr``
        and evaluated, and as the primal output of ``fxad.jvp``."""
        assert_same(f(*args), expected)
        (staged,) = fxad.make_jaxpr(f)(*args)(*args)
        assert_same(staged, expected)
        if args and all(is_float(a) for a in args):
            tangents = tuple(np.zeros_like(np.asarray(a)) for a in args)
            primal, _ = fxad.jvp(f, args, tangents)
            assert_same(primal, expected)

    def check(fnp_fn, np_fn, args, grads=True, **kw):
        """Values of ``fnp_fn(*args, **kw)`` against ``np_fn``, then derivatives."""

        def f(*a):
            return fnp_fn(*a, **kw)

        check_values(f, args, np_fn(*args, **kw))
        if grads:
            check_grads(f, args, order=2, modes=("fwd", "rev"))

    return check_values, check


def tree_close(a, b, rtol, atol, single=None):
    """``a`` and ``b`` are pytrees of the same structure whose leaves agree
    in shape and dtype and in value to ``rtol``/``atol`` (single-precision
    leaves to at least ``single = (rtol, atol)`` when given)."""
    tree_util = fxad.tree_util
    assert tree_util.tree_structure(a) == tree_util.tree_structure(b)
    for x, y in zip(tree_util.tree_leaves(a), tree_util.tree_leaves(b)):
        x, y = np.asarray(x), np.asarray(y)
        assert x.shape == y.shape, (x.shape, y.shape)
        assert x.dtype == y.dtype, (x.dtype, y.dtype)
        r, t = rtol, atol
        if single is not None and x.dtype in (np.float32, np.float16, np.complex64):
            r, t = max(r, single[0]), max(t, single[1])
        np.testing.assert_allclose(x, y, rtol=r, atol=t)
