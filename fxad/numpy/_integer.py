"""Integer ufuncs: bit shifts, ``gcd``, ``lcm`` and ``bitwise_count`` (no
derivatives).

Shifts are multiplications and floor divisions by a power of two, read from
a table by the shift count, done in the unsigned type of the same width so
that they wrap as the hardware does; counts outside ``[0, bits)`` give what
NumPy gives (0, or -1 for a right shift of a negative number).  ``gcd`` is
Euclid's algorithm unrolled for as many steps as the dtype can need.
"""

from __future__ import annotations

import numpy as np

from fxad import lax
from fxad.core import Tracer
from fxad.numpy._core import _check_integral, absolute, equal, floor_divide, multiply
from fxad.numpy._indexing import take
from fxad.numpy._shape import where
from fxad.numpy._util import any_tracer, promote_broadcast, result_type


def _integer_operands(name, x1, x2):
    dt = result_type(x1, x2)
    _check_integral(name, dt)
    if dt == np.bool_:  # NumPy's loops for booleans are int8
        dt = np.dtype(np.int8)
    return promote_broadcast(x1, x2, dtype=dt) + [dt]


def _shift(np_fn, name, left):
    def fn(x1, x2, /):
        if not any_tracer(x1, x2):
            return np_fn(x1, x2)
        x, s, dt = _integer_operands(name, x1, x2)
        bits = 8 * dt.itemsize
        udt = np.dtype(f"uint{bits}")
        signed = np.issubdtype(dt, np.signedinteger)
        u = lax.bitcast_convert_type(x, udt) if signed else x
        valid = lax.bitwise_and(lax.ge(s, dt.type(0)), lax.lt(s, dt.type(bits)))
        count = lax.convert_element_type(where(valid, s, dt.type(0)), np.dtype(np.intp))
        power = take(np.array([1 << k for k in range(bits)], udt), count)
        zero = dt.type(0)
        if left:
            out = lax.mul(*promote_broadcast(u, power, dtype=udt))
            out = lax.bitcast_convert_type(out, dt) if signed else out
            return where(valid, out, zero)
        if not signed:
            return where(valid, lax.div(*promote_broadcast(u, power, dtype=udt)), zero)
        # Arithmetic shift of a negative number: complement, shift, complement.
        neg = lax.lt(x, zero)
        mag = where(neg, lax.bitwise_not(u), u)
        q = lax.div(*promote_broadcast(mag, power, dtype=udt))
        out = lax.bitcast_convert_type(where(neg, lax.bitwise_not(q), q), dt)
        return where(valid, out, where(neg, dt.type(-1), zero))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (
        f"``numpy.{name}``: shift the bits of integers {'left' if left else 'right'} "
        "(integer output, not differentiable).\n\n"
        f"Example:\n    >>> import fxad.numpy as fnp\n    >>> int(fnp.{name}(-20, 2))\n"
        f"    {np_fn(-20, 2)}\n")
    return fn


left_shift = _shift(np.left_shift, "left_shift", True)
right_shift = _shift(np.right_shift, "right_shift", False)
bitwise_left_shift = _shift(np.bitwise_left_shift, "bitwise_left_shift", True)
bitwise_right_shift = _shift(np.bitwise_right_shift, "bitwise_right_shift", False)


def _euclid_steps(dt):
    # Consecutive Fibonacci numbers are the worst case: about log_phi(2**bits).
    return int(np.ceil(8 * dt.itemsize * np.log(2) / np.log((1 + 5 ** 0.5) / 2))) + 2


def _gcd(a, b, dt):
    a, b = absolute(a), absolute(b)
    zero, one = dt.type(0), dt.type(1)
    for _ in range(_euclid_steps(dt)):
        done = lax.eq(b, zero)
        r = lax.rem(a, where(done, one, b))
        a, b = where(done, a, b), where(done, zero, r)
    return a


def gcd(x1, x2, /):
    """``numpy.gcd``: the greatest common divisor of integers (non-negative;
    not differentiable).

    Example:
        >>> import fxad.numpy as fnp
        >>> int(fnp.gcd(12, -18))
        6
    """
    if not any_tracer(x1, x2):
        return np.gcd(x1, x2)
    a, b, dt = _integer_operands("gcd", x1, x2)
    return _gcd(a, b, dt)


def lcm(x1, x2, /):
    """``numpy.lcm``: the least common multiple of integers (non-negative;
    not differentiable).

    Example:
        >>> import fxad.numpy as fnp
        >>> int(fnp.lcm(-4, 6))
        12
    """
    if not any_tracer(x1, x2):
        return np.lcm(x1, x2)
    a, b, dt = _integer_operands("lcm", x1, x2)
    g = _gcd(a, b, dt)
    zero = equal(g, 0)
    # |a / g| * |b|, wrapping as NumPy's (whose C abs sees the product before
    # it is narrowed).
    return where(zero, dt.type(0),
                 multiply(absolute(floor_divide(a, where(zero, dt.type(1), g))), absolute(b)))



def bitwise_count(x, /):
    """``numpy.bitwise_count``: the number of 1 bits of ``|x|`` (uint8; not
    differentiable), by the classic parallel bit count.

    Example:
        >>> import fxad.numpy as fnp
        >>> int(fnp.bitwise_count(-7))
        3
    """
    if not isinstance(x, Tracer):
        return np.bitwise_count(x)
    dt = x.aval.dtype
    _check_integral("bitwise_count", dt)
    if dt == np.bool_:
        return lax.convert_element_type(x, np.dtype(np.uint8))
    bits = 8 * dt.itemsize
    udt = np.dtype(f"uint{bits}")
    u = x
    if np.issubdtype(dt, np.signedinteger):
        u = lax.bitcast_convert_type(absolute(x), udt)  # |INT_MIN| wraps to 2**(bits-1)

    def c(pattern):  # a byte pattern repeated over the width
        return udt.type(int.from_bytes(bytes([pattern]) * dt.itemsize, "little"))

    def shr(v, k):
        return lax.div(v, udt.type(1 << k))

    u = lax.sub(u, lax.bitwise_and(shr(u, 1), c(0x55)))
    u = lax.add(lax.bitwise_and(u, c(0x33)), lax.bitwise_and(shr(u, 2), c(0x33)))
    u = lax.bitwise_and(lax.add(u, shr(u, 4)), c(0x0F))
    u = shr(lax.mul(u, c(0x01)), bits - 8)
    return lax.convert_element_type(u, np.dtype(np.uint8))
