"""More elementwise functions with NumPy semantics: other bases of exp and
log, stable ``logaddexp`` and ``hypot``, ``sinc``, angles, signs, NaN and
infinity tests, and closeness tests.

Smooth functions are differentiable to any order; piecewise-constant ones
(``rint``, ``fix``, ``signbit``, the tests) have a zero derivative, as in JAX.
Where a formula has a branch (``logaddexp``, ``hypot``, ``sinc`` at 0), the
branch is picked with ``where`` on the primal values and each branch is an
exact expression of the function there, so derivatives of every order are
exact at the switch too, and the branch not taken never produces NaN.
"""

from __future__ import annotations

import numpy as np

from fxad import lax
from fxad.core import Tracer
from fxad.numpy._core import (
    _ufunc_float,
    _unary,
    absolute,
    add,
    all,
    equal,
    floor_divide,
    greater,
    greater_equal,
    imag,
    isfinite,
    less,
    less_equal,
    log1p,
    logical_and,
    logical_or,
    multiply,
    negative,
    real,
    remainder,
    sin,
    subtract,
    true_divide,
)
from fxad.numpy._core import exp as _exp
from fxad.numpy._shape import broadcast_arrays, where
from fxad.numpy._util import (
    any_tracer,
    asarray_value,
    convert,
    promote_broadcast,
    result_type,
    shape_of,
    to_inexact,
)

# ---------------------------------------------------------------------------
# Exponentials and logarithms in base 2 and 10, cube roots, rounding

exp2 = _unary(np.exp2, lax.exp2)
log2 = _unary(np.log2, lax.log2)
log10 = _unary(np.log10, lax.log10)
rint = _unary(np.rint, lax.round)
fix = _unary(np.fix, lax.trunc, int_identity=True)


def _real_float(name, x):
    """``x`` in the float dtype of NumPy's loop; complex input is an error."""
    dt = x.aval.dtype
    if np.issubdtype(dt, np.complexfloating):
        raise TypeError(f"ufunc '{name}' not supported for complex input ({dt.name})")
    if not np.issubdtype(dt, np.inexact):
        x = lax.convert_element_type(x, _ufunc_float(dt))
    return x


def cbrt(x, /):
    """Differentiable ``numpy.cbrt`` (real cube root, negatives included).

    Example:
        >>> import fxad, fxad.numpy as fnp
        >>> float(fnp.cbrt(-8.0)), float(fxad.grad(fnp.cbrt)(8.0))
        (-2.0, 0.08333333333333333)
    """
    if not isinstance(x, Tracer):
        return np.cbrt(x)
    return lax.cbrt(_real_float("cbrt", x))


def fabs(x, /):
    """``numpy.fabs``: the absolute value as a float (derivative ``sign(x)``,
    1 at 0 as for ``abs``).

    Example:
        >>> import fxad.numpy as fnp
        >>> float(fnp.fabs(-2))
        2.0
    """
    if not isinstance(x, Tracer):
        return np.fabs(x)
    return lax.abs(_real_float("fabs", x))


def float_power(x1, x2, /):
    """``numpy.float_power``: ``x1 ** x2`` computed in float64 (or complex128).

    Example:
        >>> import fxad, fxad.numpy as fnp
        >>> float(fxad.grad(lambda x: fnp.float_power(x, 2))(3.0))
        6.0
    """
    if not any_tracer(x1, x2):
        return np.float_power(x1, x2)
    dt = np.result_type(result_type(x1, x2), np.float64)
    x1, x2 = promote_broadcast(x1, x2, dtype=dt)
    return lax.pow(x1, x2)


# ---------------------------------------------------------------------------
# Angles


def _scaled(np_fn, num, den, name):
    def fn(x, /):
        if not isinstance(x, Tracer):
            return np_fn(x)
        x = _real_float(name, x)
        dt = x.aval.dtype
        if dt == np.float16:  # NumPy's half loop computes in float32
            f32 = np.dtype(np.float32)
            out = lax.mul(lax.convert_element_type(x, f32), f32.type(num) / f32.type(den))
            return lax.convert_element_type(out, dt)
        # The constant as NumPy's loop for the dtype computes it (pi / 180 in
        # float32 arithmetic for float32).
        return lax.mul(x, dt.type(num) / dt.type(den))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"Differentiable ``numpy.{name}`` (a multiplication by a constant, as "
                  "NumPy computes it).\n\nExample:\n    >>> import fxad.numpy as fnp\n"
                  f"    >>> z = fnp.{name}(90.0)\n")
    return fn


deg2rad = _scaled(np.deg2rad, np.pi, 180.0, "deg2rad")
radians = _scaled(np.radians, np.pi, 180.0, "radians")
rad2deg = _scaled(np.rad2deg, 180.0, np.pi, "rad2deg")
degrees = _scaled(np.degrees, 180.0, np.pi, "degrees")


# ---------------------------------------------------------------------------
# sinc


def sinc(x, /):
    """Differentiable ``numpy.sinc``: ``sin(pi x) / (pi x)``, 1 at 0.

    At 0 the value and every derivative come from the Maclaurin series
    (``lax.sinc_maclaurin``, JAX's trick), so ``grad(grad(sinc))(0.0)`` is
    ``-pi**2 / 3`` exactly, not NaN.  Near 0 (``|pi x| < 0.05``) a Taylor
    polynomial of degree 12 replaces the quotient, whose derivatives would
    lose all their digits to cancellation there.

    Example:
        >>> import fxad, fxad.numpy as fnp
        >>> float(fnp.sinc(0.0)), float(fxad.grad(fnp.sinc)(0.0))
        (1.0, 0.0)
    """
    if not isinstance(x, Tracer):
        return np.sinc(x)
    dt = to_inexact(x.aval.dtype)
    x = convert(x, dt)
    pi_x = multiply(x, np.pi)
    at_zero = lax.eq(x, dt.type(0))
    near = less(absolute(pi_x), 0.05)
    safe = where(near, dt.type(1), pi_x)
    small = where(near, pi_x, dt.type(0))
    z = multiply(small, small)
    poly = dt.type(_SINC_TAYLOR[-1])
    for c in _SINC_TAYLOR[-2::-1]:
        poly = add(multiply(poly, z), c)
    out = where(near, poly, true_divide(sin(safe), safe))
    return where(at_zero, lax.sinc_maclaurin(pi_x, 0), out)


# sin(y) / y = sum_n (-1)**n y**(2n) / (2n + 1)!, through y**12.
_SINC_TAYLOR = [(-1) ** n / float(np.prod(np.arange(1, 2 * n + 2, dtype=np.float64)))
                for n in range(7)]


# ---------------------------------------------------------------------------
# Stable two-argument functions


def _real_floats(name, x1, x2):
    dt = _ufunc_float(result_type(x1, x2))
    if np.issubdtype(dt, np.complexfloating):
        raise TypeError(f"ufunc '{name}' not supported for complex input ({dt.name})")
    return promote_broadcast(x1, x2, dtype=dt)


def logaddexp(x1, x2, /):
    """Differentiable ``numpy.logaddexp``: ``log(exp(x1) + exp(x2))`` without
    overflow, as ``max + log1p(exp(-|x1 - x2|))``.

    The larger argument is picked on the primal values; the formula is then
    exact in both arguments, so at ``x1 == x2`` the derivative is ``1/2``
    each, and higher derivatives are exact too.

    Example:
        >>> import fxad, fxad.numpy as fnp
        >>> float(fnp.logaddexp(1000.0, 1000.0)), float(fxad.grad(fnp.logaddexp)(0.0, 0.0))
        (1000.6931471805599, 0.5)
    """
    if not any_tracer(x1, x2):
        return np.logaddexp(x1, x2)
    x1, x2 = _real_floats("logaddexp", x1, x2)
    return _logaddexp(x1, x2, 1.0)


def logaddexp2(x1, x2, /):
    """Differentiable ``numpy.logaddexp2``: ``log2(2**x1 + 2**x2)``, stably.

    Example:
        >>> import fxad.numpy as fnp
        >>> float(fnp.logaddexp2(3.0, 3.0))
        4.0
    """
    if not any_tracer(x1, x2):
        return np.logaddexp2(x1, x2)
    x1, x2 = _real_floats("logaddexp2", x1, x2)
    return _logaddexp(x1, x2, float(np.log(2.0)))


def _logaddexp(x1, x2, scale):
    # Equal infinities would make inf - inf (NaN, with a warning): they take
    # the x1 + x2 branch below, with zeros in the arithmetic.
    same_inf = logical_and(equal(x1, x2), isinf(x1))
    s1, s2 = where(same_inf, 0, x1), where(same_inf, 0, x2)
    first = greater_equal(s1, s2)
    big = where(first, s1, s2)
    gap = where(first, subtract(s2, s1), subtract(s1, s2))  # <= 0: exp cannot overflow
    if scale == 1.0:
        out = add(big, log1p(_exp(gap)))
    else:
        out = add(big, true_divide(log1p(_exp(multiply(gap, scale))), scale))
    # Equal infinities give themselves; NaNs (a NaN gap) propagate.
    return where(same_inf, x1, where(lax.ne(gap, gap), gap, out))


def hypot(x1, x2, /):
    """Differentiable ``numpy.hypot``: ``sqrt(x1**2 + x2**2)`` without
    overflow or underflow, as ``big * sqrt(1 + (small / big)**2)``.

    Example:
        >>> import fxad, fxad.numpy as fnp
        >>> float(fnp.hypot(3e300, 4e300)), round(float(fxad.grad(fnp.hypot)(3.0, 4.0)), 12)
        (5e+300, 0.6)
    """
    if not any_tracer(x1, x2):
        return np.hypot(x1, x2)
    x1, x2 = _real_floats("hypot", x1, x2)
    a, b = absolute(x1), absolute(x2)
    first = greater_equal(a, b)
    big, small = where(first, a, b), where(first, b, a)
    is_zero = equal(big, 0)
    is_inf = logical_or(isposinf(a), isposinf(b))
    safe = logical_or(is_zero, is_inf)  # no 0 / 0 or inf / inf in the ratio
    ratio = true_divide(where(safe, 0, small), where(safe, 1, big))
    # big == 0: small is 0 too, or NaN (which the answer then is).
    out = where(is_zero, small, multiply(big, lax.sqrt(add(multiply(ratio, ratio), 1))))
    return where(is_inf, np.inf, out)


# ---------------------------------------------------------------------------
# Signs


def signbit(x, /):
    """``numpy.signbit`` (boolean; the sign bit itself, so ``-0.0`` and
    negative NaNs count, read with ``lax.bitcast_convert_type``).

    Example:
        >>> import fxad.numpy as fnp
        >>> bool(fnp.signbit(-0.0))
        True
    """
    if not isinstance(x, Tracer):
        return np.signbit(x)
    dt = x.aval.dtype
    if np.issubdtype(dt, np.complexfloating):
        raise TypeError("ufunc 'signbit' not supported for complex input")
    if np.issubdtype(dt, np.floating):
        idt = np.dtype(f"int{8 * dt.itemsize}")
        return lax.lt(lax.bitcast_convert_type(x, idt), idt.type(0))
    if dt == np.bool_:
        return lax.ne(x, x)
    return lax.lt(x, dt.type(0))


def copysign(x1, x2, /):
    """Differentiable ``numpy.copysign``: ``|x1|`` with the sign bit of ``x2``
    (derivative ``±sign(x1)`` in ``x1``, zero in ``x2``).

    Example:
        >>> import fxad, fxad.numpy as fnp
        >>> float(fxad.grad(fnp.copysign)(2.0, -1.0))
        -1.0
    """
    if not any_tracer(x1, x2):
        return np.copysign(x1, x2)
    x1, x2 = _real_floats("copysign", x1, x2)
    a = absolute(x1)
    return where(signbit(x2), negative(a), a)


def heaviside(x1, x2, /):
    """``numpy.heaviside``: 0 for ``x1 < 0``, ``x2`` at 0, 1 for ``x1 > 0``
    (NaN for NaN); the derivative is zero in ``x1`` and flows to ``x2`` where
    ``x1 == 0``.

    Example:
        >>> import fxad.numpy as fnp
        >>> fnp.heaviside(fnp.array([-1.0, 0.0, 2.0]), 0.5)
        array([0. , 0.5, 1. ])
    """
    if not any_tracer(x1, x2):
        return np.heaviside(x1, x2)
    x1, x2 = _real_floats("heaviside", x1, x2)
    out = where(less(x1, 0), 0, where(greater(x1, 0), 1, x2))
    return where(lax.ne(x1, x1), x1, out)


# ---------------------------------------------------------------------------
# NaN and infinity


def isnan(x, /):
    """``numpy.isnan`` (boolean, not differentiable).

    Example:
        >>> import fxad.numpy as fnp
        >>> bool(fnp.isnan(float("nan")))
        True
    """
    if not isinstance(x, Tracer):
        return np.isnan(x)
    return lax.ne(x, x)


def isinf(x, /):
    """``numpy.isinf`` (boolean, not differentiable).

    Example:
        >>> import fxad.numpy as fnp
        >>> bool(fnp.isinf(-float("inf")))
        True
    """
    if not isinstance(x, Tracer):
        return np.isinf(x)
    dt = x.aval.dtype
    if np.issubdtype(dt, np.complexfloating):
        return logical_or(isinf(real(x)), isinf(imag(x)))
    if not np.issubdtype(dt, np.floating):
        return lax.ne(x, x)
    return lax.eq(lax.abs(x), dt.type(np.inf))


def _signed_inf(np_fn, sign):
    name = np_fn.__name__

    def fn(x, /):
        if not isinstance(x, Tracer):
            return np_fn(x)
        dt = x.aval.dtype
        if np.issubdtype(dt, np.complexfloating):
            raise TypeError(f"This operation is not supported for complex values because "
                            f"it would be ambiguous ({name}).")
        if not np.issubdtype(dt, np.floating):
            return lax.ne(x, x)
        return lax.eq(x, dt.type(sign * np.inf))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"``numpy.{name}`` (boolean, not differentiable).\n\nExample:\n"
                  f"    >>> import fxad.numpy as fnp\n    >>> bool(fnp.{name}(1.0))\n    False\n")
    return fn


isposinf = _signed_inf(np.isposinf, 1)
isneginf = _signed_inf(np.isneginf, -1)


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """Differentiable ``numpy.nan_to_num``: NaN and infinities replaced
    (derivative 1 at finite values, and in the replacement values where they
    are used).

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.nan_to_num(np.array([np.nan, 1.0, -np.inf]), neginf=-9.0)
        array([ 0.,  1., -9.])
    """
    if not any_tracer(x, nan, posinf, neginf):
        return np.nan_to_num(x, copy=copy, nan=nan, posinf=posinf, neginf=neginf)
    x = asarray_value(x)
    if not isinstance(x, Tracer):
        x = np.asarray(x)
    dt = x.dtype
    if not np.issubdtype(dt, np.inexact):
        return x
    if np.issubdtype(dt, np.complexfloating):
        re = nan_to_num(real(x), nan=nan, posinf=posinf, neginf=neginf)
        im = nan_to_num(imag(x), nan=nan, posinf=posinf, neginf=neginf)
        return lax.complex(re, im)
    info = np.finfo(dt)
    fill = {k: convert(asarray_value(v), dt) for k, v in
            (("nan", nan), ("pos", info.max if posinf is None else posinf),
             ("neg", info.min if neginf is None else neginf))}
    out = where(lax.eq(x, dt.type(-np.inf)), fill["neg"], x)
    out = where(lax.eq(x, dt.type(np.inf)), fill["pos"], out)
    return where(lax.ne(x, x), fill["nan"], out)


# ---------------------------------------------------------------------------
# Closeness and equality (boolean; traced inputs give traced booleans, as JAX)


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """``numpy.isclose``: ``|a - b| <= atol + rtol * |b|`` elementwise, equal
    infinities close, NaN close to NaN only with ``equal_nan``.

    Example:
        >>> import fxad.numpy as fnp
        >>> bool(fnp.isclose(1.0, 1.0 + 1e-9))
        True
    """
    if not any_tracer(a, b, rtol, atol):
        return np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)
    x, y = asarray_value(a), asarray_value(b)
    y = convert(y, result_type(y, 1.0))
    both_finite = logical_and(_isfinite(x), _isfinite(y))
    # Non-finite values are taken out of the arithmetic (no inf - inf), and
    # the comparison with them is then decided by x == y alone, as in NumPy.
    xs, ys = where(both_finite, x, 0), where(both_finite, y, 0)
    close = less_equal(absolute(subtract(xs, ys)), add(atol, multiply(rtol, absolute(ys))))
    out = logical_or(logical_and(close, both_finite), equal(x, y))
    if equal_nan:
        out = logical_or(out, logical_and(isnan(x), isnan(y)))
    return out


def _isfinite(x):
    return isfinite(x)


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """``numpy.allclose``: a Python bool eagerly; a traced boolean (0-d)
    inside a transformation, as ``jax.numpy.allclose``.

    Example:
        >>> import fxad.numpy as fnp
        >>> fnp.allclose([1.0, 2.0], [1.0, 2.0 + 1e-9])
        True
    """
    if not any_tracer(a, b, rtol, atol):
        return np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)
    return all(isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def array_equal(a1, a2, equal_nan=False):
    """``numpy.array_equal``: a Python bool eagerly (and ``False`` for
    different shapes); a traced boolean (0-d) otherwise, as JAX.

    Example:
        >>> import fxad.numpy as fnp
        >>> fnp.array_equal([1, 2], [1, 2])
        True
    """
    if not any_tracer(a1, a2):
        return np.array_equal(a1, a2, equal_nan=equal_nan)
    a1, a2 = asarray_value(a1), asarray_value(a2)
    if shape_of(a1) != shape_of(a2):
        return False
    eq = equal(a1, a2)
    if equal_nan:
        eq = logical_or(eq, logical_and(isnan(a1), isnan(a2)))
    return all(eq)


def array_equiv(a1, a2):
    """``numpy.array_equiv``: equal after broadcasting (``False`` when the
    shapes do not broadcast).

    Example:
        >>> import fxad.numpy as fnp
        >>> fnp.array_equiv([1, 2], [[1, 2], [1, 2]])
        True
    """
    if not any_tracer(a1, a2):
        return np.array_equiv(a1, a2)
    a1, a2 = asarray_value(a1), asarray_value(a2)
    try:
        a1, a2 = broadcast_arrays(a1, a2)
    except ValueError:
        return False
    return all(equal(a1, a2))


# ---------------------------------------------------------------------------
# Two results


def divmod(x1, x2, /):  # noqa: A001 - NumPy's name
    """``numpy.divmod``: ``(floor_divide(x1, x2), remainder(x1, x2))``.

    Example:
        >>> import fxad.numpy as fnp
        >>> [float(v) for v in fnp.divmod(7.0, 2.0)]
        [3.0, 1.0]
    """
    if not any_tracer(x1, x2):
        return np.divmod(x1, x2)
    return floor_divide(x1, x2), remainder(x1, x2)

