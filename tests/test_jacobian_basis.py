"""jacfwd/jacrev's basis as symbolic ``OneHot`` values, and jacfwd as vmap of jvp.

Each rule in ``batching.onehot_rules`` is checked against the same primitive
batched over the dense basis (values and dtypes), including the cases where
it must decline; then the Jacobians end to end against analytic and
finite-difference Jacobians, with several inputs and outputs (offsets in the
basis), size-1 and empty inputs, float32 and complex, nesting (jacfwd of
jacfwd, under vmap, under jit, hessian), and the structure itself: the
primal runs once unbatched, and a product with the basis multiplies nothing.
"""

from __future__ import annotations

import numpy as np
import pytest

import fxad
import fxad.numpy as fnp
from fxad import lax
from fxad.interpreters import batching
from fxad.interpreters.batching import OneHot, batch_flat, onehot_rules


def _same(a, b, rtol=1e-14, atol=1e-14):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    assert a.dtype == b.dtype, (a.dtype, b.dtype)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def _numerical_jacobian(f, x, eps=1e-6):
    x = np.asarray(x, dtype=float)
    y0 = np.asarray(f(x))
    J = np.zeros(y0.shape + x.shape)
    for idx in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[idx] = eps
        J[(...,) + idx] = (np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * eps)
    return J


def _onehot(shape, dtype=np.float64, offset=0, size=None, seed=0):
    rng = np.random.default_rng(seed)
    scale = rng.uniform(0.5, 2.0, shape).astype(dtype)
    if np.dtype(dtype).kind == "c":
        scale = scale + 1j * rng.uniform(-1, 1, shape).astype(dtype)
    n = scale.size
    return OneHot(scale, offset, n + offset if size is None else size)


def _both(fun, onehots, shared=()):
    """``fun(*batched, *shared)`` batched over the OneHots and over their dense
    arrays: the two results (batch axis first), and the primitives that met
    a OneHot."""
    calls = []
    orig = batching.BatchTrace._process_onehot

    def spy(self, prim, args, params):
        calls.append(prim.name)
        return orig(self, prim, args, params)

    size = onehots[0].size
    f = lambda *xs: [fun(*xs, *shared)]  # noqa: E731
    batching.BatchTrace._process_onehot = spy
    try:
        (sym,), (dsym,) = batch_flat(f, list(onehots), [0] * len(onehots), size)
    finally:
        batching.BatchTrace._process_onehot = orig
    (ref,), (dref,) = batch_flat(f, [o.dense() for o in onehots], [0] * len(onehots), size)
    return np.moveaxis(sym, dsym, 0), np.moveaxis(ref, dref, 0), calls


# ---------------------------------------------------------------------------
# OneHot itself


@pytest.mark.parametrize("shape,offset,size", [((3,), 0, 3), ((2, 3), 2, 9), ((), 1, 2),
                                               ((4,), 0, 6), ((0,), 1, 2)])
def test_onehot_dense_rows_add_to(shape, offset, size):
    oh = _onehot(shape, offset=offset, size=size)
    n = oh.scale.size
    ref = np.zeros((size, n))
    for k in range(n):
        ref[offset + k, k] = oh.scale.reshape(n)[k]
    _same(oh.dense(), ref.reshape((size,) + shape))
    assert oh.dense() is oh.dense()  # made once
    block = np.arange(n * 2.0).reshape(n, 2)
    rows = oh.rows(block)
    _same(rows[offset:offset + n], block)
    assert not rows[:offset].any() and not rows[offset + n:].any()
    x = np.random.default_rng(1).normal(size=(size,) + shape)
    for xs, s in [(1, 1), (1, -1), (-1, 1), (-1, -1)]:
        _same(oh.add_to(x, xs, s), xs * x + s * oh.dense())
    xt = np.asfortranarray(x.reshape(size, -1)).reshape(x.shape)  # not C-contiguous
    _same(oh.add_to(xt, -1, 1), -x + oh.dense())


# ---------------------------------------------------------------------------
# Each rule against the dense batch


def test_reshape_neg_convert_keep_it_onehot():
    oh = _onehot((2, 3), offset=1, size=8)
    for fun in (lambda x: lax.reshape(x, (3, 2)), lax.neg,
                lambda x: lax.convert_element_type(x, np.float32)):
        sym, ref, calls = _both(fun, [oh])
        _same(sym, ref)
        assert calls
    sym, ref, _ = _both(lambda x: lax.convert_element_type(x, np.float64),
                        [_onehot((3,), np.complex128)])
    _same(sym, ref)


@pytest.mark.parametrize("prim", ["add", "sub", "add_any"])
def test_sums(prim):
    op = {"add": lax.add, "sub": lax.sub, "add_any": fxad.interpreters.ad.add_any}[prim]
    a = _onehot((4,), offset=2, size=7, seed=1)
    b = OneHot(np.random.default_rng(2).normal(size=4), 2, 7)
    c = OneHot(np.random.default_rng(3).normal(size=4), 3, 7)  # other positions: dense
    for x, y in [(a, b), (a, c), (c, a)]:
        sym, ref, _ = _both(op, [x, y])
        _same(sym, ref)
    dense = np.random.default_rng(4).normal(size=(7, 4))
    # a OneHot and a mapped dense batch, both orders
    sym, ref, _ = _both(lambda x: op(x, lax.mul(x, x)), [a])
    _same(sym, ref)
    for first in (True, False):
        def f(x, d, first=first):
            return op(x, d) if first else op(d, x)

        size = a.size
        (sym,), _ = batch_flat(lambda x, d: [f(x, d)], [a, dense], [0, 0], size)
        (ref,), _ = batch_flat(lambda x, d: [f(x, d)], [a.dense(), dense], [0, 0], size)
        _same(sym, ref)
        # dense batched along another axis
        (sym,), d1 = batch_flat(lambda x, d: [f(x, d)], [a, dense.T.copy()], [0, 1], size)
        (ref,), d2 = batch_flat(lambda x, d: [f(x, d)], [a.dense(), dense.T.copy()], [0, 1],
                                size)
        _same(np.moveaxis(sym, d1[0], 0), np.moveaxis(ref, d2[0], 0))


def test_mul_by_shared_operands():
    oh = _onehot((2, 3), offset=1, size=7)
    rng = np.random.default_rng(5)
    for y in (np.float64(2.5), 2.5, rng.normal(size=(2, 3)), np.array(3.0)):
        for order in (0, 1):
            fun = (lambda x, y: lax.mul(x, y)) if order == 0 else (lambda x, y: lax.mul(y, x))
            sym, ref, calls = _both(fun, [oh], (y,))
            _same(sym, ref)
            assert calls == ["mul"]
    # a mapped operand, or another dtype: the rule declines, the value is the same
    sym, ref, _ = _both(lambda x: lax.mul(x, lax.neg(x)), [oh])
    _same(sym, ref)
    oh32 = _onehot((3,), np.float32)
    sym, ref, _ = _both(lambda x: x * np.float32(2.0), [oh32])
    _same(sym, ref)


def test_sum_of_products():
    a = _onehot((2, 3), offset=1, size=7, seed=1)
    b = OneHot(np.random.default_rng(2).normal(size=(2, 3)), 1, 7)  # a's positions
    c = OneHot(np.random.default_rng(3).normal(size=(2, 3)), 0, 7)  # other positions
    rng = np.random.default_rng(6)
    y, z = rng.normal(size=(2, 3)), np.float64(-1.5)
    sop = lax.sum_of_products
    # OneHots at the same positions by shared operands (either factor): one OneHot
    for fun in (lambda p, q: sop(p, y, z, q), lambda p, q: sop(y, p, q, z),
                lambda p, q: sop(p, y, q, z, p, z)):
        sym, ref, calls = _both(fun, [a, b])
        _same(sym, ref)
        assert calls == ["sum_of_products"]
    nm = batching.not_mapped
    out, d = onehot_rules[lax.sum_of_products_p]([a, y, z, b], [0, nm, nm, 0])
    assert type(out) is OneHot and d == 0 and (out.offset, out.size) == (1, 7)
    _same(out.scale, a.scale * y + z * b.scale)
    # a OneHot beside a dense product of mapped operands (the product rule's
    # tangent under jacfwd): the OneHot is added into the dense batch
    dense = rng.normal(size=(7, 2, 3))
    for order in (0, 1):
        def f(p, d, order=order):
            return [sop(p, y, d, d) if order == 0 else sop(d, y, z, p)]

        (sym,), _ = batch_flat(f, [a, dense], [0, 0], 7)
        (ref,), _ = batch_flat(f, [a.dense(), dense], [0, 0], 7)
        _same(sym, ref)
    out, d = onehot_rules[lax.sum_of_products_p]([dense, y, z, a], [0, nm, nm, 0])
    assert type(out) is np.ndarray and d == 0
    _same(out, dense * y + z * a.dense())
    # declines, with the dense batch's value: other positions, a mapped
    # factor of the OneHot, another dtype, a dense product not at axis 0
    for fun in (lambda p, q: sop(p, y, q, z), lambda p, q: sop(p, q, q, y)):
        sym, ref, _ = _both(fun, [a, c])
        _same(sym, ref)
    (sym,), d1 = batch_flat(lambda p, d: [sop(p, y, d, y)], [a, dense.transpose(1, 0, 2).copy()],
                            [0, 1], 7)
    (ref,), d2 = batch_flat(lambda p, d: [sop(p, y, d, y)],
                            [a.dense(), dense.transpose(1, 0, 2).copy()], [0, 1], 7)
    _same(np.moveaxis(sym, d1[0], 0), np.moveaxis(ref, d2[0], 0))
    oh32 = _onehot((3,), np.float32)
    y32 = np.ones(3, np.float32)
    sym, ref, _ = _both(lambda p: sop(p, y32, y32, y32), [oh32])
    _same(sym, ref)
    # a product of two 0-d factors batches to (size,) only: the dense path
    # broadcasts it (the rule declines rather than adding misaligned terms),
    # for a batch as long as the example (3) and for another length (5)
    for size in (3, 5):
        oh = _onehot((3,), offset=0, size=size, seed=7)
        w, e0 = rng.normal(size=3), rng.normal(size=3)

        def g(p, w=w, e0=e0):
            s = lax.dot_general(w, p, (((0,), (0,)), ((), ())))  # 0-d, mapped
            return sop(p, z, s, np.float64(0.5), p, e0)

        sym, ref, _ = _both(g, [oh])
        _same(sym, ref)
    # end to end: jacfwd against jacrev and the analytic Jacobian
    n = 3
    y0, d0 = np.float64(0.7), np.float64(-1.3)
    e0, w, M = rng.normal(size=n), rng.normal(size=n), rng.normal(size=(n, n))

    def f(x):
        s = lax.dot_general(w, x, (((0,), (0,)), ((), ())))
        c = lax.dot_general(M, x, (((1,), (0,)), ((), ())))
        return sop(x, y0, s, d0, c, e0)

    x = rng.normal(size=n)
    exact = y0 * np.eye(n) + d0 * np.outer(np.ones(n), w) + e0[:, None] * M
    _same(fxad.jacfwd(f)(x), exact, rtol=1e-13, atol=1e-13)
    _same(fxad.jacrev(f)(x), exact, rtol=1e-13, atol=1e-13)
    J = fxad.jacfwd(lambda x, q: f(x) + q[0], argnums=(0, 1))(x, np.ones(5))
    _same(J[0], exact, rtol=1e-13, atol=1e-13)
    _same(J[1], np.outer(np.ones(n), np.eye(5)[0]))


@pytest.mark.parametrize("axes", [(0, 1), (1, 0), (1,), (0,)])
def test_reduce_sum(axes):
    sym, ref, _ = _both(lambda x: lax.reduce_sum(x, axes), [_onehot((2, 3), offset=2, size=9)])
    _same(sym, ref)


DOT_CASES = [
    # (onehot example shape, other shape, dimension numbers with the onehot's
    # axes first, whether the onehot is the lhs)
    ((5, 1), (4, 5), (((0,), (1,)), ((), ())), False),  # A @ x as fnp.matmul stages it
    ((5,), (4, 5), (((0,), (1,)), ((), ())), False),
    ((4, 1), (4, 5), (((0,), (0,)), ((), ())), True),   # jacrev's ct @ A
    ((4,), (4, 5), (((0,), (0,)), ((), ())), True),
    ((2, 3), (3, 4, 2), (((0, 1), (2, 0)), ((), ())), True),  # two axes, crossed order
    ((2, 3), (3, 4, 2), (((1, 0), (0, 2)), ((), ())), True),
    ((3, 1, 2), (2, 5, 3), (((0, 2), (2, 0)), ((), ())), True),  # a size-1 free axis
    ((2, 3), (4, 3, 2), (((0, 1), (2, 1)), ((), ())), False),
    ((2, 3), (3, 4), (((1,), (0,)), ((), ())), True),   # a free axis of size 2: declines
    ((2, 3), (2, 3, 4), (((1,), (1,)), ((0,), (0,))), True),  # dot batch axes: declines
]


@pytest.mark.parametrize("oh_shape,other_shape,dn,lhs", DOT_CASES)
@pytest.mark.parametrize("offset,extra", [(0, 0), (2, 3)])
def test_dot_general(oh_shape, other_shape, dn, lhs, offset, extra):
    oh = _onehot(oh_shape, offset=offset, size=int(np.prod(oh_shape)) + offset + extra)
    other = np.random.default_rng(6).normal(size=other_shape)
    if lhs:
        fun = lambda x, y: lax.dot_general(x, y, dn)  # noqa: E731
    else:
        fun = lambda x, y: lax.dot_general(y, x, ((dn[0][1], dn[0][0]), (dn[1][1], dn[1][0])))  # noqa: E731,E501
    dots = []
    impl = lax.dot_general_p.impl
    lax.dot_general_p.impl = lambda *a, **p: dots.append(1) or impl(*a, **p)
    try:
        sym, ref, _ = _both(fun, [oh], (other,))
    finally:
        lax.dot_general_p.impl = impl
    _same(sym, ref)
    declines = len(DOT_CASES) - DOT_CASES.index((oh_shape, other_shape, dn, lhs)) <= 2
    assert len(dots) == (2 if declines else 1)  # the dense batch's product, and no other
    out = np.asarray(sym)
    out[...] = 0.0  # a fresh array: the operand is not aliased
    assert other.any()


def test_rules_decline_for_tracer_operands():
    # Under make_jaxpr the shared operand is a tracer: the dense basis is staged.
    oh = _onehot((3,), size=3)

    def f(y):
        (out,), _ = batch_flat(lambda x: [lax.mul(x, y) + lax.dot_general(
            lax.reshape(x, (3, 1)), lax.reshape(y, (3, 1)), (((0,), (0,)), ((), ())))[0]],
            [oh], [0], 3)
        return out

    y = np.array([1.0, 2.0, 3.0])
    closed = fxad.make_jaxpr(f)(y)
    _same(closed(y)[0], np.diag(oh.scale * y) + (oh.scale * y)[:, None])


def test_an_inner_vmap_sees_an_outer_onehot_as_shared():
    oh = _onehot((3,), size=3)
    z = np.array([1.0, -2.0])

    def outer(e, *extra):
        return [lax.add(fxad.vmap(lambda z: lax.mul(lax.broadcast_in_dim(z, (3,), ()), e))(z),
                        fxad.vmap(lambda z: lax.mul(e, lax.broadcast_in_dim(z, (3,), ())))(z))]

    (sym,), _ = batch_flat(outer, [oh], [0], 3)
    (ref,), _ = batch_flat(outer, [oh.dense()], [0], 3)
    _same(sym, ref)
    _same(np.asarray(sym)[:, 1], -4.0 * oh.dense())


def test_every_onehot_rule_is_tested_here():
    names = {p.name for p in onehot_rules}
    assert names == {"reshape", "neg", "convert_element_type", "add", "sub", "add_any", "mul",
                     "sum_of_products", "reduce_sum", "dot_general"}


# ---------------------------------------------------------------------------
# The Jacobians end to end


def test_jacobians_of_matmul_match_analytic_and_multiply_nothing():
    rng = np.random.default_rng(7)
    A = rng.normal(size=(5, 4))
    x = rng.normal(size=4)

    def f(x):
        return fnp.tanh(A @ x) * x[:1]

    t = np.tanh(A @ x)
    J = (x[0] * (1 - t * t))[:, None] * A
    J[:, 0] += t
    dots = []
    impl = lax.dot_general_p.impl
    lax.dot_general_p.impl = lambda a, b, **p: dots.append((np.shape(a), np.shape(b))) or \
        impl(a, b, **p)
    try:
        jf = fxad.jacfwd(f)(x)
        jr = fxad.jacrev(f)(x)
    finally:
        lax.dot_general_p.impl = impl
    _same(jf, J, rtol=1e-12)
    _same(jr, J, rtol=1e-12)
    assert dots == [((5, 4), (4, 1))] * 2  # the primal A @ x only (once per Jacobian)
    jf[...] = 0.0
    jr[...] = 0.0
    assert A.all()  # the Jacobians do not alias A


def test_jacfwd_runs_the_primal_once_unbatched():
    shapes = []
    impl = lax.sin_p.impl
    lax.sin_p.impl = lambda x: shapes.append(np.shape(x)) or impl(x)
    try:
        J = fxad.jacfwd(lambda x: fnp.sin(x) * 2.0)(np.array([0.1, 0.2, 0.3]))
    finally:
        lax.sin_p.impl = impl
    assert shapes == [(3,)]
    _same(J, np.diag(2 * np.cos([0.1, 0.2, 0.3])))


def _f_multi(x, y):
    return {"a": fnp.sin(x) * y[0], "b": fnp.sum(x * x) * y, "c": (x @ x) * 1.0}


@pytest.mark.parametrize("jac", [fxad.jacfwd, fxad.jacrev])
def test_several_inputs_and_outputs(jac):
    x = np.array([0.3, -0.7, 1.1])
    y = np.array([2.0, -1.0])
    J = jac(_f_multi, argnums=(0, 1))(x, y)
    for k in ("a", "b", "c"):
        for i, arg in enumerate([x, y]):
            def g(v, i=i, k=k):
                args = (v, y) if i == 0 else (x, v)
                return np.asarray(_f_multi(*args)[k])

            num = _numerical_jacobian(g, arg)
            np.testing.assert_allclose(J[k][i], num, rtol=1e-7, atol=1e-8)
            assert J[k][i].shape == np.shape(_f_multi(x, y)[k]) + arg.shape


@pytest.mark.parametrize("jac", [fxad.jacfwd, fxad.jacrev])
def test_odd_shapes(jac):
    # size-1 and 0-d inputs and outputs, an empty input next to a full one
    _same(jac(lambda x: x * x)(np.array([3.0])), np.array([[6.0]]))
    _same(jac(lambda x: x * x)(np.float64(3.0)), np.float64(6.0))
    _same(jac(lambda x: fnp.sum(x * x, keepdims=True))(np.array([1.0, 2.0])),
          np.array([[2.0, 4.0]]))
    J = jac(lambda x, e: x * 2.0 + fnp.sum(e), argnums=(0, 1))(np.ones(2), np.zeros(0))
    _same(J[0], 2.0 * np.eye(2))
    _same(J[1], np.zeros((2, 0)))
    # one output of one element next to an empty one (jacrev's single cotangent)
    J = jac(lambda x: (fnp.sum(x * x), x[:0]))(np.array([1.0, 2.0]))
    _same(J[0], np.array([2.0, 4.0]))
    _same(J[1], np.zeros((0, 2)))


@pytest.mark.parametrize("jac", [fxad.jacfwd, fxad.jacrev])
def test_float32_and_complex(jac):
    x = np.array([0.5, 1.5], np.float32)
    J = jac(lambda x: fnp.exp(x) * x)(x)
    assert J.dtype == np.float32
    np.testing.assert_allclose(J, np.diag(np.exp(x) * (1 + x)), rtol=1e-6)
    z = np.array([0.5 + 0.2j, -0.1 + 1.0j])
    Jz = jac(lambda z: z * z * np.complex128(1 + 1j), holomorphic=True)(z)
    _same(Jz, np.diag(2 * z * (1 + 1j)), rtol=1e-14)


def test_nesting():
    x = np.array([0.3, -0.5, 0.8])

    def f(x):
        return fnp.sin(x) * fnp.sum(x * x)

    num = _numerical_jacobian(lambda v: np.asarray(fxad.jacrev(f)(v)), x)
    for H in (fxad.jacfwd(fxad.jacfwd(f))(x), fxad.jacfwd(fxad.jacrev(f))(x),
              fxad.jacrev(fxad.jacfwd(f))(x), fxad.jit(fxad.jacfwd(fxad.jacfwd(f)))(x)):
        np.testing.assert_allclose(H, num, rtol=1e-6, atol=1e-8)
    # jacfwd under vmap, against a loop
    xs = np.random.default_rng(8).normal(size=(4, 3))
    for jac in (fxad.jacfwd, fxad.jacrev):
        batched = fxad.vmap(jac(f))(xs)
        _same(batched, np.stack([jac(f)(v) for v in xs]), rtol=1e-13, atol=1e-14)
    # grad of a jacfwd (the basis meets JVP tracers of the outer grad)
    g = fxad.grad(lambda x: fnp.sum(fxad.jacfwd(f)(x) * fxad.jacrev(f)(x)))(x)
    num_g = _numerical_jacobian(
        lambda v: np.sum(np.asarray(fxad.jacfwd(f)(v)) ** 2), x)
    np.testing.assert_allclose(g, num_g, rtol=1e-6, atol=1e-8)


def test_hessian_is_analytic():
    x = np.random.default_rng(9).uniform(-2, 2, 6)

    def rosen(x):
        return fnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    from benchmarks.workloads.hessian import by_hand

    _same(fxad.hessian(rosen)(x), by_hand(x), rtol=1e-12, atol=1e-10)
    assert fxad.hessian(rosen)(x).flags.writeable


def test_integer_argument_left_out_of_argnums():
    f = lambda x, k: x * k  # noqa: E731
    _same(fxad.jacfwd(f)(np.array([1.0, 2.0]), 3), 3.0 * np.eye(2))
    _same(fxad.jacrev(f)(np.array([1.0, 2.0]), 3), 3.0 * np.eye(2))
    with pytest.raises(TypeError, match="floating-point"):
        fxad.jacfwd(f, argnums=1)(np.array([1.0, 2.0]), 3)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
def test_vmap_of_scatter_add_into_a_shared_operand(dtype):
    # The batch rule fills a copy of the shared operand (no broadcast bind).
    base = np.arange(6).astype(dtype)
    U = np.arange(8).reshape(4, 2).astype(dtype) + 1
    out = fxad.vmap(lambda u: fnp.asarray(base).at[1:5:2].add(u))(U)
    want = np.stack([base.copy() for _ in U])
    want[:, 1:5:2] += U
    _same(out, want)
    _same(base, np.arange(6).astype(dtype))  # the shared operand is not written to
    # the single-example path of the rule, and the gather transpose that uses it
    g = fxad.jacrev(lambda x: x[1:4] * 2.0)(np.ones(5))
    _same(g, 2.0 * np.eye(5)[1:4])
