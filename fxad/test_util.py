"""Numerical checks of derivatives: ``check_grads`` and its helpers.

``check_grads(f, args, order)`` follows ``jax.test_util.check_grads``:

* forward mode ("fwd"): ``fxad.jvp(f, args, v)`` along a random direction
  ``v`` must match central finite differences of ``f`` along ``v``;
* reverse mode ("rev"): ``fxad.vjp`` must satisfy the inner-product identity
  ``<vjp(u), v> == <u, J v>`` for random ``v`` (input-like) and ``u``
  (output-like), with ``J v`` from finite differences, as JAX does. Each mode
  is therefore tied to finite differences on its own, so ``modes=("rev",)``
  still catches a wrong JVP rule (fxad's VJP is the transposed JVP);
* ``order > 1`` recurses, as in JAX, on the functions
  ``(x, t) -> fxad.jvp(f, x, t)`` (forward) and ``x -> vjp_fun(u)`` of
  ``fxad.vjp(f, *x)`` (reverse), so every mixed composition up to ``order``
  is checked ("VJP of JVP" is the reverse-mode check of the JVP function).

Differences from JAX, both deliberate:

* The finite differences use the 4-point central stencil
  ``(-f(x+2h) + 8 f(x+h) - 8 f(x-h) + f(x-2h)) / (12 h)``, whose truncation
  error is ``O(h**4)`` instead of ``O(h**2)``: with ``h = 1e-4`` in float64
  the truncation error (~``1e-17 |f'''''|``) is negligible next to rounding
  (~``1e-12 |f|``), so the default tolerance ``1e-5`` holds even for rapidly
  varying functions such as ``exp(10 x)``. It is exact for polynomials of
  degree up to 4 (up to rounding). float32 uses ``h = 1e-2``, near the
  optimum ``eps_mach ** (1/5)`` for this stencil.
* The recursion evaluates the JVP function at a fixed random tangent and the
  VJP function at a fixed random cotangent, where JAX reuses the point
  ``args`` and the output ``f(args)``; those vanish at zero inputs and
  outputs, and with them the higher-order terms being checked.

Directions are standard normal, scaled to unit norm over the whole pytree,
drawn from ``np.random.default_rng`` with a fixed seed, so every check is
deterministic. Complex leaves get complex directions, and the reverse check
uses JAX's convention that the VJP is the transpose for the bilinear pairing
``Re(sum(a * b))``. Leaves that are not floating point (integers, booleans)
are held fixed: their direction is zero. Python scalars in ``args`` become
NumPy scalars first (``float`` -> ``float64``), as fxad's transformations
make them, so ``f(*args)`` sees the dtypes its derivatives see; outputs must
then keep their dtypes under fxad (a check failure says so otherwise).

Tolerances are chosen by the least precise float dtype among the inputs and
outputs (the step by the inputs alone); a dict tolerance maps dtypes (a
complex dtype counts as its real counterpart) to numbers.

Example:
    >>> import fxad.numpy as fnp
    >>> from fxad.test_util import check_grads
    >>> check_grads(lambda x, y: fnp.sin(x) * y, (0.5, 2.0), order=2)
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import numpy as np

from fxad import api, tree_util

__all__ = [
    "DEFAULT_EPS",
    "DEFAULT_GRADIENT_TOLERANCE",
    "check_grads",
    "check_jvp",
    "check_vjp",
    "numerical_jvp",
]

# Finite-difference step per precision (the real dtype of the inputs), and the
# absolute and relative tolerance used when none is given.
DEFAULT_EPS = {
    np.dtype(np.float16): 1e-1,
    np.dtype(np.float32): 1e-2,
    np.dtype(np.float64): 1e-4,
}
DEFAULT_GRADIENT_TOLERANCE = {
    np.dtype(np.float16): 5e-2,
    np.dtype(np.float32): 2e-2,
    np.dtype(np.float64): 1e-5,
}

_SEED = 0  # directions of the checks themselves
_RECURSION_SEED = 1  # fixed tangents / cotangents at which order > 1 recurses

# ---------------------------------------------------------------------------
# Leaves and directions


def _dtype(x) -> np.dtype:
    return np.asarray(x).dtype


def _is_float(x) -> bool:
    return np.issubdtype(_dtype(x), np.inexact)


def _real_dtype(dt: np.dtype) -> np.dtype:
    if np.issubdtype(dt, np.complexfloating):
        return np.dtype(np.finfo(dt).dtype)
    return np.dtype(dt)


def _lowest_precision(trees) -> np.dtype:
    """The least precise real float dtype among the leaves (float64 if none)."""
    dts = [_real_dtype(_dtype(x)) for t in trees for x in tree_util.tree_leaves(t)
           if _is_float(x)]
    return max(dts, key=lambda d: np.finfo(d).eps, default=np.dtype(np.float64))


def _as_values(tree):
    """Python scalars as the NumPy scalars fxad's transformations make of them,
    so that ``f(*args)`` and ``fxad.jvp(f, args, ...)`` see the same dtypes."""
    return tree_util.tree_map(
        lambda x: np.asarray(x)[()] if type(x) in (bool, int, float, complex) else x, tree)


def _out(x: np.ndarray):
    """fxad's convention: 0-d values as NumPy scalars."""
    return x[()] if x.ndim == 0 else x


def _random_like(rng: np.random.Generator, tree):
    """A standard normal direction shaped like ``tree``, unit norm over all its
    floating leaves (complex leaves get complex entries); zero elsewhere."""
    leaves, treedef = tree_util.tree_flatten(tree)
    dirs = []
    for x in leaves:
        a = np.asarray(x)
        if not np.issubdtype(a.dtype, np.inexact):
            dirs.append(np.zeros(a.shape, a.dtype))
            continue
        d = rng.standard_normal(a.shape)
        if np.issubdtype(a.dtype, np.complexfloating):
            d = d + 1j * rng.standard_normal(a.shape)
        dirs.append(d)
    norm = np.sqrt(sum(float(np.sum(np.abs(d) ** 2)) for d in dirs))
    if norm > 0:
        dirs = [d / norm for d in dirs]
    dirs = [_out(np.asarray(d).astype(_dtype(x))) for d, x in zip(dirs, leaves)]
    return tree_util.tree_unflatten(treedef, dirs)


def _step(x, v, h: float):
    """``x + h * v`` in ``x``'s dtype; non-float leaves stay as they are."""
    if not _is_float(x):
        return x
    a = np.asarray(x)
    return _out((a + h * np.asarray(v)).astype(a.dtype))


def _tolerance_of(dt: np.dtype) -> float:
    return DEFAULT_GRADIENT_TOLERANCE.get(dt, DEFAULT_GRADIENT_TOLERANCE[np.dtype(np.float64)])


def _eps_of(dt: np.dtype) -> float:
    return DEFAULT_EPS.get(dt, DEFAULT_EPS[np.dtype(np.float64)])


def _tol(tol, dt: np.dtype) -> float:
    if tol is None:
        return _tolerance_of(dt)
    if isinstance(tol, dict):
        tols = {_real_dtype(np.dtype(k)): v for k, v in tol.items()}
        return float(tols[dt]) if dt in tols else _tolerance_of(dt)
    return float(tol)


# ---------------------------------------------------------------------------
# Finite differences


def numerical_jvp(f: Callable, primals: Sequence, tangents: Sequence,
                  eps: float | None = None):
    """The derivative of ``f`` at ``primals`` along ``tangents`` by finite
    differences: the 4-point central stencil
    ``(-f(x+2h) + 8 f(x+h) - 8 f(x-h) + f(x-2h)) / (12 h)`` with ``h = eps``.

    Args:
      f: a function of ``len(primals)`` positional arguments returning a
        pytree of arrays or scalars.
      primals: a tuple of arguments (pytrees of arrays or scalars).
      tangents: a tuple with the structure, shapes and dtypes of ``primals``.
        Leaves that are not floating point are not perturbed.
      eps: the step ``h``; by default ``DEFAULT_EPS`` for the least precise
        floating dtype among ``primals`` (``1e-4`` for float64).

    Returns:
      A pytree shaped like ``f(*primals)``: each leaf the directional
      derivative in that leaf's dtype (zeros for non-float outputs); 0-d
      leaves are NumPy scalars.

    Example:
        >>> import numpy as np
        >>> from fxad.test_util import numerical_jvp
        >>> round(float(numerical_jvp(np.sin, (0.0,), (2.0,))), 8)
        2.0
    """
    primals, tangents = tuple(primals), tuple(tangents)
    p_tree = tree_util.tree_structure(primals)
    t_tree = tree_util.tree_structure(tangents)
    if p_tree != t_tree:
        raise TypeError(f"numerical_jvp: primal structure {p_tree} and tangent structure "
                        f"{t_tree} differ")
    if eps is None:
        eps = _eps_of(_lowest_precision([primals]))

    def f_at(h):
        moved = tree_util.tree_map(lambda x, v: _step(x, v, h), primals, tangents)
        return f(*moved)

    ys = [f_at(h) for h in (2 * eps, eps, -eps, -2 * eps)]
    leaves = [tree_util.tree_flatten(y) for y in ys]
    out_tree = leaves[0][1]
    for _, tree in leaves[1:]:
        if tree != out_tree:
            raise TypeError(f"numerical_jvp: f's output structure changed between "
                            f"evaluations: {out_tree} and {tree}")

    def stencil(y2, y1, ym1, ym2):
        dt = _dtype(y1)
        if not np.issubdtype(dt, np.inexact):
            return _out(np.zeros(np.shape(y1), dt))
        wide = np.complex128 if np.issubdtype(dt, np.complexfloating) else np.float64
        y2, y1, ym1, ym2 = (np.asarray(y, wide) for y in (y2, y1, ym1, ym2))
        return _out(((-y2 + 8 * y1 - 8 * ym1 + ym2) / (12 * eps)).astype(dt))

    cols = zip(*(lv for lv, _ in leaves))
    return tree_util.tree_unflatten(out_tree, [stencil(*c) for c in cols])


# ---------------------------------------------------------------------------
# Comparisons


def _abbrev(x) -> str:
    s = np.array2string(np.asarray(x), precision=6, threshold=12, edgeitems=2,
                        max_line_width=88)
    return s if len(s) <= 400 else s[:400] + " ..."


def _assert_close(actual, expected, *, atol, rtol, eps, label, what):
    """Assert ``|actual - expected| <= atol + rtol * |expected|`` leafwise."""
    a_leaves, a_tree = tree_util.tree_flatten(actual)
    e_leaves, e_tree = tree_util.tree_flatten(expected)
    if a_tree != e_tree:
        raise AssertionError(f"{label} check failed: {what}: structure {a_tree} differs "
                             f"from the expected {e_tree}")
    worst = None  # (excess, leaf index, actual, expected, index in the leaf)
    max_abs = max_rel = 0.0
    for k, (a, e) in enumerate(zip(a_leaves, e_leaves)):
        a, e = np.asarray(a), np.asarray(e)
        if a.shape != e.shape:
            raise AssertionError(f"{label} check failed: {what}: shape {a.shape} differs "
                                 f"from the expected {e.shape} (output leaf {k})")
        if a.size == 0:
            continue
        wide = np.complex128 if np.iscomplexobj(a) or np.iscomplexobj(e) else np.float64
        a_w, e_w = a.astype(wide), e.astype(wide)
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            err = np.abs(a_w - e_w)
            same = (a_w == e_w) | (np.isnan(a_w) & np.isnan(e_w))
            err = np.where(same, 0.0, np.where(np.isnan(err), np.inf, err))
            rel = np.where(err == 0, 0.0, err / np.abs(e_w))
            excess = err - (atol + rtol * np.abs(e_w))
        max_abs = max(max_abs, float(np.max(err)))
        max_rel = max(max_rel, float(np.max(rel)))
        i = int(np.argmax(excess))
        if excess.flat[i] > 0 and (worst is None or excess.flat[i] > worst[0]):
            worst = (excess.flat[i], k, a, e, np.unravel_index(i, a.shape))
    if worst is None:
        return
    _, k, a, e, idx = worst
    where = []
    if len(a_leaves) > 1:
        where.append(f"output leaf {k} of {len(a_leaves)}")
    if a.ndim:
        where.append(f"index {tuple(int(j) for j in idx)}")
    where = f"; worst at {', '.join(where)}" if where else ""
    raise AssertionError(
        f"{label} check failed: {what}\n"
        f"  max abs error {max_abs:.3e}, max rel error {max_rel:.3e} "
        f"(atol={atol:g}, rtol={rtol:g}, eps={eps:g}){where}\n"
        f"  expected: {_abbrev(e)}\n"
        f"  actual:   {_abbrev(a)}"
    )


def _assert_dtypes(actual, reference, *, label, what):
    """Each floating leaf of ``actual`` has the dtype of its ``reference`` leaf."""
    a_leaves, r_leaves = tree_util.tree_leaves(actual), tree_util.tree_leaves(reference)
    if len(a_leaves) != len(r_leaves):
        raise AssertionError(f"{label} check failed: {what}: {len(a_leaves)} leaves, "
                             f"expected {len(r_leaves)}")
    for k, (a, r) in enumerate(zip(a_leaves, r_leaves)):
        a_dt, r_dt = _dtype(a), _dtype(r)
        if np.issubdtype(r_dt, np.inexact) and a_dt != r_dt:
            where = f" (leaf {k} of {len(a_leaves)})" if len(a_leaves) > 1 else ""
            raise AssertionError(f"{label} check failed: {what}: dtype {a_dt.name}, "
                                 f"expected {r_dt.name}{where}")


def _inner(xs, ys) -> complex | float:
    """``Re(sum(x * y))`` over matching pytrees: the bilinear pairing under which
    fxad's (and JAX's) VJP is the transpose of the JVP."""
    x_leaves, y_leaves = tree_util.tree_leaves(xs), tree_util.tree_leaves(ys)
    if len(x_leaves) != len(y_leaves):
        raise AssertionError(f"inner product of pytrees with {len(x_leaves)} and "
                             f"{len(y_leaves)} leaves")
    total = 0.0
    for x, y in zip(x_leaves, y_leaves):
        x, y = np.asarray(x), np.asarray(y)
        if not (np.issubdtype(x.dtype, np.inexact) and np.issubdtype(y.dtype, np.inexact)):
            continue
        total += float(np.real(np.sum(x.astype(np.complex128) * y.astype(np.complex128))))
    return total


# ---------------------------------------------------------------------------
# The checks


def check_jvp(f: Callable, f_jvp: Callable, args: Sequence,
              atol: float | dict | None = None, rtol: float | dict | None = None,
              eps: float | None = None, err_msg: str = "") -> None:
    """Check a JVP of ``f`` against finite differences along a random direction.

    Args:
      f: the function, called as ``f(*args)``.
      f_jvp: called as ``f_jvp(args, tangents)`` and returning
        ``(primals_out, tangents_out)``, e.g. ``functools.partial(fxad.jvp, f)``.
      args: a tuple of arguments (pytrees of float arrays or scalars).
      atol, rtol: absolute and relative tolerance, a number or a dict from
        dtype to number; by default ``DEFAULT_GRADIENT_TOLERANCE`` for the
        least precise float dtype among the inputs and outputs.
      eps: finite-difference step (see :func:`numerical_jvp`).
      err_msg: the name of the check in the error message (default "JVP").

    Returns:
      None.

    Raises:
      AssertionError: the primal or tangent output is off; the message names
        the check, the largest absolute and relative errors, and the expected
        and actual values.

    Example:
        >>> import functools, fxad, fxad.numpy as fnp
        >>> from fxad.test_util import check_jvp
        >>> check_jvp(fnp.exp, functools.partial(fxad.jvp, fnp.exp), (1.0,))
    """
    args = _as_values(tuple(args))
    label = err_msg or "JVP"
    tangents = _random_like(np.random.default_rng(_SEED), args)
    out, out_dot = f_jvp(args, tangents)
    out_expected = f(*args)
    _assert_dtypes(out, out_expected, label=label, what="the primal output of f_jvp has a "
                   "dtype other than f(*args)'s")
    _assert_dtypes(out_dot, out, label=label, what="the tangent output has a dtype other "
                   "than the primal output's")
    dt = _lowest_precision([args, out_expected])
    atol, rtol = _tol(atol, dt), _tol(rtol, dt)
    eps = _eps_of(_lowest_precision([args])) if eps is None else eps
    kw = dict(atol=atol, rtol=rtol, eps=eps, label=label)
    _assert_close(out, out_expected, what="the primal output differs from f(*args)", **kw)
    out_dot_expected = numerical_jvp(f, args, tangents, eps)
    _assert_close(out_dot, out_dot_expected,
                  what="the tangent output differs from central finite differences", **kw)


def check_vjp(f: Callable, f_vjp: Callable, args: Sequence,
              atol: float | dict | None = None, rtol: float | dict | None = None,
              eps: float | None = None, err_msg: str = "") -> None:
    """Check a VJP of ``f`` by the inner-product identity ``<vjp(u), v> == <u, J v>``
    for random ``v`` and ``u``, with ``J v`` by finite differences.

    Args:
      f: the function, called as ``f(*args)``.
      f_vjp: called as ``f_vjp(*args)`` and returning ``(primals_out, vjp_fun)``
        with ``vjp_fun(u)`` a tuple shaped like ``args``, e.g.
        ``functools.partial(fxad.vjp, f)``.
      args: a tuple of arguments (pytrees of float arrays or scalars).
      atol, rtol: absolute and relative tolerance, a number or a dict from
        dtype to number; by default ``DEFAULT_GRADIENT_TOLERANCE`` for the
        least precise float dtype among the inputs and outputs.
      eps: finite-difference step (see :func:`numerical_jvp`).
      err_msg: the name of the check in the error message (default "VJP").

    Returns:
      None.

    Raises:
      AssertionError: the primal output or the inner product is off.

    Example:
        >>> import functools, fxad, fxad.numpy as fnp, numpy as np
        >>> from fxad.test_util import check_vjp
        >>> f = lambda x: fnp.sum(fnp.sin(x) ** 2)
        >>> check_vjp(f, functools.partial(fxad.vjp, f), (np.arange(3.0),))
    """
    args = _as_values(tuple(args))
    label = err_msg or "VJP"
    rng = np.random.default_rng(_SEED)
    out, vjp_fun = f_vjp(*args)
    out_expected = f(*args)
    _assert_dtypes(out, out_expected, label=label, what="the primal output of f_vjp has a "
                   "dtype other than f(*args)'s")
    dt = _lowest_precision([args, out_expected])
    atol, rtol = _tol(atol, dt), _tol(rtol, dt)
    eps = _eps_of(_lowest_precision([args])) if eps is None else eps
    kw = dict(atol=atol, rtol=rtol, eps=eps, label=label)
    _assert_close(out, out_expected, what="the primal output differs from f(*args)", **kw)
    tangents = _random_like(rng, args)
    cotangents = _random_like(rng, out)
    jv = numerical_jvp(f, args, tangents, eps)
    ct_in = vjp_fun(cotangents)
    if not isinstance(ct_in, tuple) or len(ct_in) != len(args):
        raise AssertionError(f"{label} check failed: vjp_fun returned "
                             f"{type(ct_in).__name__}, expected a tuple of {len(args)} "
                             "cotangents (one per argument)")
    _assert_dtypes(ct_in, args, label=label, what="the cotangent vjp_fun returned has a "
                   "dtype other than its argument's")
    _assert_close(_inner(tangents, ct_in), _inner(jv, cotangents),
                  what="<vjp(u), v> differs from <u, J v> by central finite differences",
                  **kw)


def check_grads(f: Callable, args: Sequence, order: int,
                modes: Sequence[str] = ("fwd", "rev"), atol: float | dict | None = None,
                rtol: float | dict | None = None, eps: float | None = None) -> None:
    """Check fxad's derivatives of ``f`` at ``args`` up to ``order`` against
    finite differences, in forward mode, reverse mode, and every mix of them.

    Args:
      f: a function of ``len(args)`` positional arguments returning a pytree
        of arrays or scalars.
      args: a tuple of arguments (pytrees of float arrays or scalars; complex
        works too; non-float leaves are held fixed).
      order: how many derivatives to check (1 = first derivatives).
      modes: "fwd" checks ``fxad.jvp``, "rev" checks ``fxad.vjp``.
      atol, rtol: absolute and relative tolerance, a number or a dict from
        dtype to number; default ``DEFAULT_GRADIENT_TOLERANCE`` (``1e-5`` for
        float64, ``2e-2`` for float32).
      eps: finite-difference step; default ``DEFAULT_EPS`` (``1e-4`` for
        float64, ``1e-2`` for float32).

    Returns:
      None.

    Raises:
      AssertionError: a derivative is off. The message starts with the check
        that failed, e.g. ``"VJP of JVP (order 2) check failed"`` (the reverse
        check of the JVP function), then the largest absolute and relative
        errors, the tolerances, and the expected and actual values.

    Example:
        >>> import fxad, fxad.numpy as fnp
        >>> from fxad.test_util import check_grads
        >>> check_grads(fnp.sin, (0.5,), order=2)  # passes silently
        >>> wrong = lambda x: fnp.sin(x) + fxad.stop_gradient(x ** 2)  # AD misses 2x
        >>> try:
        ...     check_grads(wrong, (0.5,), order=1, modes=("rev",))
        ... except AssertionError as e:
        ...     print(str(e).splitlines()[0])
        VJP (order 1) check failed: <vjp(u), v> differs from <u, J v> by central finite differences
    """
    args = _as_values(tuple(args))
    modes = (modes,) if isinstance(modes, str) else tuple(modes)
    unknown = [m for m in modes if m not in ("fwd", "rev")]
    if unknown:
        raise ValueError(f"check_grads: unknown mode(s) {unknown}; modes must be a tuple "
                         'of "fwd" (checks jvp) and/or "rev" (checks vjp)')
    if not isinstance(order, (int, np.integer)) or order < 1:
        raise ValueError(f"check_grads: order must be an integer >= 1, got {order!r}")
    if eps is None:
        eps = _eps_of(_lowest_precision([args]))
    check = dict(atol=atol, rtol=rtol, eps=eps)

    def recurse(f, args, level, path):
        rng = np.random.default_rng(_RECURSION_SEED)
        if "fwd" in modes:
            name = f"JVP of {path}" if path else "JVP"
            jvp_f = functools.partial(api.jvp, f)
            check_jvp(f, jvp_f, args, err_msg=f"{name} (order {level})", **check)
            if level < order:
                # The JVP function of (primals, tangents), at a fixed tangent.
                recurse(jvp_f, (args, _random_like(rng, args)), level + 1, name)
        if "rev" in modes:
            name = f"VJP of {path}" if path else "VJP"
            check_vjp(f, functools.partial(api.vjp, f), args,
                      err_msg=f"{name} (order {level})", **check)
            if level < order:
                u = _random_like(rng, f(*args))

                def vjp_f(*xs):
                    return api.vjp(f, *xs)[1](u)

                recurse(vjp_f, args, level + 1, name)

    recurse(f, args, 1, "")
