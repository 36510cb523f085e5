"""Floating-point ufuncs and tests: ``fmax``/``fmin``, ``angle``, the
representation functions (``ldexp``, ``frexp``, ``modf``, ``spacing``,
``nextafter``), the Bessel function ``i0``, and the real/complex tests.

``ldexp`` multiplies by powers of two built exactly from their bits (no
``exp2`` rounding, no overflow of the power itself); ``frexp``'s mantissa is
``ldexp(x, -exponent)``, so its derivative ``2**-exponent`` comes for free.
``i0`` is NumPy's own Chebyshev expansion (Cephes) written with fxad
operations: the same values, and derivatives of any order.
"""

from __future__ import annotations

import numpy as np

from fxad import lax
from fxad.core import Tracer
from fxad.errors import ConcretizationTypeError
from fxad.numpy._core import (
    _ufunc_float,
    absolute,
    add,
    arctan2,
    equal,
    exp,
    floor,
    greater,
    greater_equal,
    imag,
    isfinite,
    less,
    logical_and,
    logical_or,
    multiply,
    not_equal,
    real,
    sqrt,
    stop_gradient,
    subtract,
    true_divide,
    trunc,
)
from fxad.numpy._shape import broadcast_arrays, clip, where
from fxad.numpy._ufuncs import log2
from fxad.numpy._util import any_tracer, asarray_value, convert, promote_broadcast, result_type
from fxad.numpy._util import isnan_traced as _isnan

# ---------------------------------------------------------------------------
# NaN-ignoring extrema


def _nan_ignoring(np_fn, lax_fn, name, pick):
    def fn(x1, x2, /):
        if not any_tracer(x1, x2):
            return np_fn(x1, x2)
        dt = result_type(x1, x2)
        x1, x2 = promote_broadcast(x1, x2, dtype=dt)
        if np.issubdtype(dt, np.inexact):
            # A NaN operand is replaced by the other one: max(y, y) is y, and
            # the tie rule gives y's tangent half from each side, so all of it.
            x1, x2 = where(_isnan(x1), x2, x1), where(_isnan(x2), x1, x2)
        return lax_fn(x1, x2)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (
        f"Differentiable ``numpy.{name}``: the elementwise {pick}, ignoring NaNs (NaN only "
        f"where both are NaN).  The derivative is ``{pick}imum``'s: ties share it "
        "equally (JAX's convention), and a NaN operand passes all of it to the other.\n\n"
        "Example:\n    >>> import fxad.numpy as fnp, numpy as np\n"
        f"    >>> fnp.{name}(np.array([1.0, np.nan]), np.array([2.0, 3.0]))\n"
        f"    array([{'2.' if pick == 'max' else '1.'}, 3.])\n")
    return fn


fmax = _nan_ignoring(np.fmax, lax.max, "fmax", "max")
fmin = _nan_ignoring(np.fmin, lax.min, "fmin", "min")


# ---------------------------------------------------------------------------
# Complex argument


def angle(z, deg=False):
    """Differentiable ``numpy.angle``: ``arctan2(z.imag, z.real)`` (in degrees
    with ``deg=True``); real input gives ``arctan2(0, z)``, as NumPy.

    Example:
        >>> import fxad.numpy as fnp
        >>> float(fnp.angle(1j, deg=True))
        90.0
    """
    if not isinstance(z, Tracer):
        return np.angle(z, deg)
    if np.issubdtype(z.aval.dtype, np.complexfloating):
        a = arctan2(imag(z), real(z))
    else:  # 0 or pi (piecewise constant: no 0/0 in the derivative at z = 0)
        a = arctan2(0, stop_gradient(z))
    return multiply(a, 180 / np.pi) if deg else a


def isreal(x):
    """``numpy.isreal``: the imaginary part is zero (boolean).

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.isreal(np.array([1 + 1j, 2 + 0j]))
        array([False,  True])
    """
    if not isinstance(x, Tracer):
        return np.isreal(x)
    return equal(imag(x), 0)


def iscomplex(x):
    """``numpy.iscomplex``: the imaginary part is nonzero (all false for a
    real dtype).

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.iscomplex(np.array([1 + 1j, 2 + 0j]))
        array([ True, False])
    """
    if not isinstance(x, Tracer):
        return np.iscomplex(x)
    if np.issubdtype(x.aval.dtype, np.complexfloating):
        return not_equal(imag(x), 0)
    return np.zeros(x.aval.shape, bool)[()]


def iscomplexobj(x):
    """``numpy.iscomplexobj``: whether the dtype is complex (from the dtype
    alone, so also for tracers).

    Example:
        >>> import fxad.numpy as fnp
        >>> fnp.iscomplexobj(1j)
        True
    """
    if not isinstance(x, Tracer):
        return np.iscomplexobj(x)
    return bool(np.issubdtype(x.aval.dtype, np.complexfloating))


def isrealobj(x):
    """``numpy.isrealobj``: whether the dtype is not complex.

    Example:
        >>> import fxad.numpy as fnp
        >>> fnp.isrealobj(1.0)
        True
    """
    return not iscomplexobj(x)


def real_if_close(a, tol=100):
    """``numpy.real_if_close``: the real part if every imaginary part is
    below ``tol`` machine epsilons.  The result's dtype depends on the values,
    so a complex traced input must be concrete (as under ``grad``).

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.real_if_close(np.array([1 + 1e-18j, 2 + 0j]))
        array([1., 2.])
    """
    if not isinstance(a, Tracer):
        return np.real_if_close(a, tol)
    dt = a.aval.dtype
    if not np.issubdtype(dt, np.complexfloating):
        return a
    v = a.to_concrete_value()
    if v is None:
        raise ConcretizationTypeError(
            "fxad.numpy.real_if_close: whether the result is real depends on the values, "
            "so a complex input must be concrete (not inside make_jaxpr, jit or vmap); "
            "use fxad.numpy.real(a) to take the real part unconditionally.")
    if tol > 1:
        tol = np.finfo(dt).eps * tol
    return real(a) if np.all(np.absolute(np.imag(v)) < tol) else a


# ---------------------------------------------------------------------------
# The floating-point representation: powers of two built from their bits

_INT_OF = {2: np.int16, 4: np.int32, 8: np.int64}


def _pow2(k, dt):
    """``2.0 ** k`` in ``dt`` for integer ``k`` in the normal exponent range,
    exactly (the biased exponent written into the bits)."""
    info = np.finfo(dt)
    idt = np.dtype(_INT_OF[dt.itemsize])
    bias = -int(info.minexp) + 1
    biased = lax.convert_element_type(add(k, bias), idt)
    return lax.bitcast_convert_type(multiply(biased, idt.type(2 ** info.nmant)), dt)


def _ldexp(x, k):
    """``x * 2**k`` (``x`` floating, ``k`` int64), each factor an exact power
    of two in the normal range; three factors cover every ``k`` whose result
    is neither zero nor infinite."""
    dt = x.dtype
    info = np.finfo(dt)
    lo, hi = int(info.minexp), int(info.maxexp) - 1
    span = 2 * hi + int(info.nmant) + 3
    k = clip(k, -span, span)
    out = x
    for _ in range(3):
        part = clip(k, lo, hi)
        out = multiply(out, _pow2(part, dt))
        k = subtract(k, part)
    return out


def ldexp(x1, x2, /):
    """Differentiable ``numpy.ldexp``: ``x1 * 2**x2`` for integer ``x2``
    (derivative ``2**x2`` in ``x1``; none in the integer ``x2``).

    Example:
        >>> import fxad, fxad.numpy as fnp
        >>> float(fnp.ldexp(0.75, 3)), float(fxad.grad(fnp.ldexp)(0.75, 3))
        (6.0, 8.0)
    """
    if not any_tracer(x1, x2):
        return np.ldexp(x1, x2)
    x1, x2 = asarray_value(x1), asarray_value(x2)
    k_dt = result_type(x2)
    if not (np.issubdtype(k_dt, np.integer) or k_dt == np.bool_):
        raise TypeError(f"ufunc 'ldexp' not supported for the input types: the exponent "
                        f"must be an integer, got {k_dt.name}")
    dt = _ufunc_float(result_type(x1))
    if np.issubdtype(dt, np.complexfloating):
        raise TypeError("ufunc 'ldexp' not supported for complex input")
    x1, k = broadcast_arrays(convert(x1, dt), convert(x2, np.dtype(np.int64)))
    return _ldexp(x1, k)


def frexp(x, /):
    """``numpy.frexp``: ``(mantissa, exponent)`` with ``x = mantissa *
    2**exponent`` and ``0.5 <= |mantissa| < 1`` (``(x, 0)`` for 0, inf and
    NaN).  The mantissa is differentiable (``2**-exponent``); the int32
    exponent is not.

    Example:
        >>> import fxad, fxad.numpy as fnp
        >>> [float(v) for v in fnp.frexp(12.0)], float(fxad.grad(lambda x: fnp.frexp(x)[0])(12.0))
        ([0.75, 4.0], 0.0625)
    """
    if not isinstance(x, Tracer):
        return np.frexp(x)
    dt = _ufunc_float(x.aval.dtype)
    if np.issubdtype(dt, np.complexfloating):
        raise TypeError("ufunc 'frexp' not supported for complex input")
    x = convert(x, dt)
    ax = absolute(stop_gradient(x))
    regular = logical_and(isfinite(ax), not_equal(ax, 0))
    safe = where(regular, ax, dt.type(1))
    # floor(log2) can be off by one next to a power of two: correct it.
    e = convert(add(floor(log2(safe)), 1), np.dtype(np.int64))
    m = _ldexp(safe, subtract(0, e))
    e = where(greater_equal(m, 1), add(e, 1), where(less(m, 0.5), subtract(e, 1), e))
    e = where(regular, e, np.int64(0))
    return _ldexp(x, subtract(0, e)), convert(e, np.dtype(np.int32))


def modf(x, /):
    """``numpy.modf``: ``(x - trunc(x), trunc(x))``, the fractional part with
    derivative 1, the integral part with derivative 0 (``(±0, ±inf)`` for
    infinities).

    Example:
        >>> import fxad.numpy as fnp
        >>> [float(v) for v in fnp.modf(-2.5)]
        [-0.5, -2.0]
    """
    if not isinstance(x, Tracer):
        return np.modf(x)
    dt = _ufunc_float(x.aval.dtype)
    x = convert(x, dt)
    whole = trunc(x)
    inf = lax.eq(absolute(x), dt.type(np.inf))
    finite = where(inf, dt.type(0), x)  # no inf - inf
    frac = subtract(finite, where(inf, dt.type(0), whole))
    frac = where(inf, where(less(x, 0), dt.type(-0.0), dt.type(0.0)), frac)
    return frac, whole


def nextafter(x1, x2, /):
    """``numpy.nextafter``: the next floating-point value after ``x1``
    towards ``x2`` (one step of the bit pattern).  It is ``x1`` to within an
    ulp, so its derivative is 1 in ``x1`` and 0 in ``x2``.

    Example:
        >>> import fxad.numpy as fnp
        >>> float(fnp.nextafter(1.0, 2.0)) - 1.0 == 2.0 ** -52
        True
    """
    if not any_tracer(x1, x2):
        return np.nextafter(x1, x2)
    dt = _ufunc_float(result_type(x1, x2))
    if np.issubdtype(dt, np.complexfloating):
        raise TypeError("ufunc 'nextafter' not supported for complex input")
    x, y = promote_broadcast(x1, x2, dtype=dt)
    step = _nextafter(stop_gradient(x), stop_gradient(y), dt)
    # Within an ulp of x: derivative 1 in x (0 in y).  ``x - x`` is an exact
    # zero, so the value stays the step's (signed zeros included).
    return subtract(step, where(isfinite(x), subtract(stop_gradient(x), x), dt.type(0)))


def _nextafter(x, y, dt):
    idt = np.dtype(_INT_OF[dt.itemsize])
    mag = lax.bitcast_convert_type(absolute(x), idt)
    grows = equal(greater(y, x), greater(x, 0))  # moving away from zero
    step = lax.bitcast_convert_type(where(grows, add(mag, idt.type(1)),
                                          subtract(mag, idt.type(1))), dt)
    out = where(less(x, 0), lax.neg(step), step)
    tiny = dt.type(np.finfo(dt).smallest_subnormal)
    out = where(equal(x, 0), where(greater(y, 0), tiny, -tiny), out)
    out = where(equal(x, y), y, out)
    return where(logical_or(_isnan(x), _isnan(y)), dt.type(np.nan), out)


def spacing(x, /):
    """``numpy.spacing``: the distance from ``x`` to the next floating-point
    value away from zero (negative for negative ``x``; in half precision
    always the step up, as NumPy's loop does; no derivative).

    Example:
        >>> import fxad.numpy as fnp
        >>> float(fnp.spacing(1.0)) == 2.0 ** -52
        True
    """
    if not isinstance(x, Tracer):
        return np.spacing(x)
    dt = _ufunc_float(x.aval.dtype)
    if np.issubdtype(dt, np.complexfloating):
        raise TypeError("ufunc 'spacing' not supported for complex input")
    x = stop_gradient(convert(x, dt))
    inf = lax.eq(absolute(x), dt.type(np.inf))
    x = where(inf, dt.type(0), x)  # spacing(inf) is NaN, without an inf - inf
    # NumPy's half-precision loop always steps up (its float and double ones
    # step away from zero).
    target = (dt.type(np.inf) if dt == np.float16 else
              where(less(x, 0), dt.type(-np.inf), dt.type(np.inf)))
    return where(inf, dt.type(np.nan), subtract(_nextafter(x, target, dt), x))


# ---------------------------------------------------------------------------
# Modified Bessel function of the first kind, order 0 (NumPy's Cephes code)

# Chebyshev coefficients of exp(-x) I0(x) on [0, 8], and of
# exp(-x) sqrt(x) I0(x) on [8, inf) in 32/x - 2, as in numpy.lib (Cephes).
_I0A = [
    -4.41534164647933937950e-18, 3.33079451882223809783e-17, -2.43127984654795469359e-16,
    1.71539128555513303061e-15, -1.16853328779934516808e-14, 7.67618549860493561688e-14,
    -4.85644678311192946090e-13, 2.95505266312963983461e-12, -1.72682629144155570723e-11,
    9.67580903537323691224e-11, -5.18979560163526290666e-10, 2.65982372468238665035e-09,
    -1.30002500998624804212e-08, 6.04699502254191894932e-08, -2.67079385394061173391e-07,
    1.11738753912010371815e-06, -4.41673835845875056359e-06, 1.64484480707288970893e-05,
    -5.75419501008210370398e-05, 1.88502885095841655729e-04, -5.76375574538582365885e-04,
    1.63947561694133579842e-03, -4.32430999505057594430e-03, 1.05464603945949983183e-02,
    -2.37374148058994688156e-02, 4.93052842396707084878e-02, -9.49010970480476444210e-02,
    1.71620901522208775349e-01, -3.04682672343198398683e-01, 6.76795274409476084995e-01,
]
_I0B = [
    -7.23318048787475395456e-18, -4.83050448594418207126e-18, 4.46562142029675999901e-17,
    3.46122286769746109310e-17, -2.82762398051658348494e-16, -3.42548561967721913462e-16,
    1.77256013305652638360e-15, 3.81168066935262242075e-15, -9.55484669882830764870e-15,
    -4.15056934728722208663e-14, 1.54008621752140982691e-14, 3.85277838274214270114e-13,
    7.18012445138366623367e-13, -1.79417853150680611778e-12, -1.32158118404477131188e-11,
    -3.14991652796324136454e-11, 1.18891471078464383424e-11, 4.94060238822496958910e-10,
    3.39623202570838634515e-09, 2.26666899049817806459e-08, 2.04891858946906374183e-07,
    2.89137052083475648297e-06, 6.88975834691682398426e-05, 3.36911647825569408990e-03,
    8.04490411014108831608e-01,
]


def _chbevl(x, vals):
    b0, b1, b2 = vals[0], 0.0, 0.0
    for v in vals[1:]:
        b2, b1 = b1, b0
        b0 = add(subtract(multiply(x, b1), b2), v)
    return multiply(0.5, subtract(b0, b2))


def i0(x):
    """Differentiable ``numpy.i0``, the modified Bessel function of the first
    kind of order 0: NumPy's Chebyshev expansions (``|x| <= 8`` and beyond)
    in fxad operations, so the values are NumPy's and every derivative is the
    expansion's (``i0' = i1``).  Each branch sees only inputs in its range
    (no NaN from the unused one reaches a derivative).

    Example:
        >>> import fxad, fxad.numpy as fnp
        >>> round(float(fnp.i0(1.0)), 12), round(float(fxad.grad(fnp.i0)(1.0)), 12)
        (1.266065877752, 0.565159103992)
    """
    if not isinstance(x, Tracer):
        return np.i0(x)
    dt = x.aval.dtype
    if np.issubdtype(dt, np.complexfloating):
        raise TypeError("i0 not supported for complex values")
    if dt.kind != "f":
        x = convert(x, np.dtype(np.float64))
    x = absolute(x)
    small = lax.le(x, x.dtype.type(8.0))
    xs = where(small, x, x.dtype.type(0.0))
    xl = where(small, x.dtype.type(9.0), x)
    near = multiply(exp(xs), _chbevl(subtract(true_divide(xs, 2.0), 2), _I0A))
    far = true_divide(multiply(exp(xl), _chbevl(subtract(true_divide(32.0, xl), 2.0), _I0B)),
                      sqrt(xl))
    return where(small, near, far)

