"""Elementwise functions and reductions with NumPy semantics."""

from __future__ import annotations

import builtins

import numpy as np

from fxad import lax
from fxad.core import Tracer
from fxad.errors import ConcretizationTypeError
from fxad.numpy._util import (
    any_tracer,
    array_like,
    asarray_value,
    broadcast_to_shape,
    canonical_axes,
    convert,
    promote_broadcast,
    result_type,
    shape_of,
    strong,
    to_inexact,
)

# ---------------------------------------------------------------------------
# Elementwise


def _ufunc_float(dtype) -> np.dtype:
    """The float dtype a float ufunc (``sin``, ``sqrt``, ...) computes in:
    NumPy's loop for the input (bool/int8/uint8 to float16, int16 to float32,
    wider integers to float64; inexact dtypes unchanged)."""
    return np.result_type(dtype, np.float16)


def _unary(np_fn, lax_fn, float_only=True, name=None, int_identity=False):
    # A ufunc factory does what numpy_function (fxad/numpy/_util.py) does for
    # the other functions inline, to keep NumPy's speed on the eager path.
    def op(x, /):
        """Python's operator (``-x``, ``abs(x)``) on a tracer: weak stays weak."""
        dt = x.aval.dtype
        if dt.kind not in "fc":  # np.issubdtype(dt, np.inexact), without its cost
            if int_identity:  # floor/ceil/trunc keep integers (NumPy 2)
                return x
            if float_only:
                x = lax.convert_element_type(x, _ufunc_float(dt))
        return lax_fn(x)

    def fn(x, /):
        if not isinstance(x, Tracer):
            try:
                return np_fn(x)
            except ConcretizationTypeError:  # a list holding tracers
                x = array_like(x)
                if not isinstance(x, Tracer):
                    raise
        a = x.aval
        if a.weak_type:  # NumPy's result is a NumPy scalar, not weak
            x = strong(x)
            a = x.aval
        if a.dtype.kind in "fc":  # op's common case, without its frame
            return lax_fn(x)
        return op(x)

    fn.__name__ = op.__name__ = name or np_fn.__name__
    fn.__qualname__ = op.__qualname__ = fn.__name__
    fn._fxad_array_like = True
    fn._operator = op
    fn.__doc__ = (
        f"Differentiable ``numpy.{fn.__name__}``.\n\n"
        "Example:\n    >>> import fxad, fxad.numpy as fnp\n"
        + (f"    >>> b = fnp.{fn.__name__}(0.5)\n" if fn.__name__ in ("isfinite", "logical_not")
           else f"    >>> g = fxad.grad(fnp.{fn.__name__})"
           f"({1.5 if fn.__name__ == 'arccosh' else 0.5})\n")
    )
    return fn


def _py_operand(y, a):
    """The Python number ``y`` as the other operand of a float tracer of
    aval ``a``: of its dtype, and still a Python scalar (weak) when the tracer
    is weak, so that Python arithmetic on Python scalars stays weak."""
    if a.weak_type:
        k = a.dtype.kind
        return float(y) if k == "f" else int(y) if k == "i" else complex(y)
    return a.dtype.type(y)


def _same_dtype_broadcast(x, y, xs, ys):
    """``(x, y)`` of one dtype broadcast as ``promote_broadcast`` does it
    when one shape equals the other, is 0-d, or is a trailing part of it
    with no size-1 axis that grows (a bias added to a batch); else None (the
    general path)."""
    if xs == ys or not xs or not ys:
        return x, y
    nx, ny = len(xs), len(ys)
    if ny < nx and xs[nx - ny:] == ys:
        return x, broadcast_to_shape(y, xs)
    if nx < ny and ys[ny - nx:] == xs:
        return broadcast_to_shape(x, ys), y
    return None


def _binary(np_fn, lax_fn, float_only=False, name=None, to_float=to_inexact):
    def op(x, y, /):
        """Python's operator: at least one tracer; weak operands give a weak result."""
        tx = isinstance(x, Tracer)
        ty = isinstance(y, Tracer)
        # Fast paths (the common cases under a transformation): two float
        # tracers of one aval (avals are interned) or of one dtype and shape,
        # or a float tracer with a Python number.
        if tx and ty:
            ax, ay = x.aval, y.aval
            if ax is ay:
                if ax.dtype.kind in "fc":
                    return lax_fn(x, y)
            elif ax.dtype == ay.dtype and ax.dtype.kind in "fc":
                xy = _same_dtype_broadcast(x, y, ax.shape, ay.shape)
                if xy is not None:
                    return lax_fn(*xy)
        elif (tx and type(y) is np.ndarray) or (ty and type(x) is np.ndarray):
            # A float tracer and a NumPy array of its dtype (no promotion):
            # promote_broadcast's answer without its general walk.
            ax = x.aval if tx else x
            ay = y if tx else y.aval
            weak = ax.weak_type if tx else ay.weak_type  # (promotion strips it: general path)
            if ax.dtype is ay.dtype and ax.dtype.kind in "fc" and not weak:
                xy = _same_dtype_broadcast(x, y, ax.shape, ay.shape)
                if xy is not None:
                    return lax_fn(*xy)
        elif tx and (type(y) is float or type(y) is int):
            a = x.aval
            k = a.dtype.kind
            if k in "fc" or (k == "i" and type(y) is int and not float_only):
                return lax_fn(x, _py_operand(y, a) if a.weak_type else a.dtype.type(y))
        elif ty and (type(x) is float or type(x) is int):
            a = y.aval
            k = a.dtype.kind
            if k in "fc" or (k == "i" and type(x) is int and not float_only):
                return lax_fn(_py_operand(x, a) if a.weak_type else a.dtype.type(x), y)
        x, y = array_like(x), array_like(y)
        dtype = result_type(x, y)
        if float_only:
            dtype = to_float(dtype)
        x, y = promote_broadcast(x, y, dtype=dtype)
        return lax_fn(x, y)

    def fn(x, y, /):
        if not (isinstance(x, Tracer) or isinstance(y, Tracer)):
            try:
                return np_fn(x, y)
            except ConcretizationTypeError:  # a list holding tracers
                x, y = array_like(x), array_like(y)
                if not (isinstance(x, Tracer) or isinstance(y, Tracer)):
                    raise
        # NumPy's function returns a NumPy scalar, never a weak Python one.
        return strong(op(x, y))

    fn.__name__ = op.__name__ = name or np_fn.__name__
    fn.__qualname__ = op.__qualname__ = fn.__name__
    fn._fxad_array_like = True
    fn._operator = op
    fn.__doc__ = (
        f"Differentiable ``numpy.{fn.__name__}`` (NumPy broadcasting and promotion).\n\n"
        f"Example:\n    >>> import fxad.numpy as fnp\n"
        f"    >>> z = fnp.{fn.__name__}(2.0, 3.0)\n"
    )
    return fn


exp = _unary(np.exp, lax.exp)
log = _unary(np.log, lax.log)
log1p = _unary(np.log1p, lax.log1p)
expm1 = _unary(np.expm1, lax.expm1)
sin = _unary(np.sin, lax.sin)
cos = _unary(np.cos, lax.cos)
tan = _unary(np.tan, lax.tan)
arcsin = _unary(np.arcsin, lax.asin)
arccos = _unary(np.arccos, lax.acos)
arctan = _unary(np.arctan, lax.atan)
sinh = _unary(np.sinh, lax.sinh)
cosh = _unary(np.cosh, lax.cosh)
tanh = _unary(np.tanh, lax.tanh)
arcsinh = _unary(np.arcsinh, lax.asinh)
arccosh = _unary(np.arccosh, lax.acosh)
arctanh = _unary(np.arctanh, lax.atanh)
sqrt = _unary(np.sqrt, lax.sqrt)
floor = _unary(np.floor, lax.floor, int_identity=True)
ceil = _unary(np.ceil, lax.ceil, int_identity=True)
trunc = _unary(np.trunc, lax.trunc, int_identity=True)
absolute = _unary(np.absolute, lax.abs, float_only=False, name="absolute")
abs = absolute  # noqa: A001 - NumPy's name
sign = _unary(np.sign, lax.sign, float_only=False)
negative = _unary(np.negative, lax.neg, float_only=False)
logical_not = _unary(np.logical_not, lambda x: lax.bitwise_not(convert(x, np.dtype(bool))),
                     float_only=False)
isfinite = _unary(np.isfinite, lax.is_finite)


def positive(x, /):
    """Differentiable ``numpy.positive`` (identity)."""
    return x


def square(x, /):
    """``x * x``."""
    if not isinstance(x, Tracer):
        return np.square(x)
    if x.aval.dtype == np.bool_:  # NumPy squares booleans as int8
        x = lax.convert_element_type(x, np.int8)
    return lax.integer_pow(x, 2)


def reciprocal(x, /):
    """``1 / x``; integers stay integers, as in NumPy (``1 // x`` truncated:
    0 except at 1 and -1).

    Example:
        >>> import fxad, fxad.numpy as fnp
        >>> float(fxad.grad(fnp.reciprocal)(2.0))
        -0.25
    """
    if not isinstance(x, Tracer):
        return np.reciprocal(x)
    dt = x.aval.dtype
    if np.issubdtype(dt, np.inexact):
        return true_divide(dt.type(1), x)
    if dt == np.bool_:  # NumPy's loop for booleans is int8
        x = lax.convert_element_type(x, np.int8)
        dt = np.dtype(np.int8)
    is_unit = lax.eq(x, dt.type(1))
    if np.issubdtype(dt, np.signedinteger):
        is_unit = lax.bitwise_or(is_unit, lax.eq(x, dt.type(-1)))
    return lax.select_n(is_unit, lax.broadcast_in_dim(dt.type(0), x.aval.shape, ()), x)


def round(x, decimals=0):  # noqa: A001 - NumPy's name
    """Differentiable ``numpy.round`` (derivative zero)."""
    if not isinstance(x, Tracer):
        return np.round(x, decimals)
    dt = x.aval.dtype
    if dt == np.bool_:  # NumPy rounds booleans in float16
        return lax.convert_element_type(x, np.float16)
    if not np.issubdtype(dt, np.inexact):
        if decimals >= 0:
            return x  # integers are already rounded
        scale = 10 ** -decimals  # round half to even in the integers, as NumPy
        return lax.convert_element_type(
            multiply(lax.round(true_divide(x, scale)), scale), dt)
    if decimals == 0:
        return lax.round(x)
    # As NumPy: multiply then divide by 10**decimals, or divide then multiply
    # by 10**-decimals when decimals < 0 (never a rounded 0.1).
    if decimals > 0:
        scale = 10.0 ** decimals
        return true_divide(lax.round(multiply(x, scale)), scale)
    scale = 10.0 ** -decimals
    return multiply(lax.round(true_divide(x, scale)), scale)


around = round

add = _binary(np.add, lax.add)
subtract = _binary(np.subtract, lax.sub)
multiply = _binary(np.multiply, lax.mul)
true_divide = _binary(np.true_divide, lax.div, float_only=True, name="true_divide")
divide = true_divide
maximum = _binary(np.maximum, lax.max)
minimum = _binary(np.minimum, lax.min)
arctan2 = _binary(np.arctan2, lax.atan2, float_only=True, to_float=_ufunc_float)
fmod = _binary(np.fmod, lax.rem)
equal = _binary(np.equal, lax.eq)
not_equal = _binary(np.not_equal, lax.ne)
less = _binary(np.less, lax.lt)
less_equal = _binary(np.less_equal, lax.le)
greater = _binary(np.greater, lax.gt)
greater_equal = _binary(np.greater_equal, lax.ge)


def _logical(np_fn, lax_fn):
    def fn(x, y, /):
        if not (isinstance(x, Tracer) or isinstance(y, Tracer)):
            return np_fn(x, y)
        x, y = promote_broadcast(x, y, dtype=np.dtype(bool))
        return lax_fn(x, y)

    fn.__name__ = fn.__qualname__ = np_fn.__name__
    fn.__doc__ = f"``numpy.{np_fn.__name__}`` (boolean output, not differentiable)."
    return fn


logical_and = _logical(np.logical_and, lax.bitwise_and)
logical_or = _logical(np.logical_or, lax.bitwise_or)
logical_xor = _logical(np.logical_xor, lax.bitwise_xor)


def _check_integral(name, dtype):
    if not (dtype == np.bool_ or np.issubdtype(dtype, np.integer)):
        raise TypeError(f"ufunc '{name}' not supported for the input types: fxad.numpy."
                        f"{name} takes integers and booleans, got {dtype.name}")


def _bitwise(np_fn, lax_fn):
    def fn(x, y, /):
        if not (isinstance(x, Tracer) or isinstance(y, Tracer)):
            return np_fn(x, y)
        dtype = result_type(x, y)
        _check_integral(np_fn.__name__, dtype)
        x, y = promote_broadcast(x, y, dtype=dtype)
        return lax_fn(x, y)

    fn.__name__ = fn.__qualname__ = np_fn.__name__
    fn.__doc__ = (f"``numpy.{np_fn.__name__}`` of integers and booleans (not "
                  "differentiable).\n\nExample:\n    >>> import fxad.numpy as fnp\n"
                  f"    >>> int(fnp.{np_fn.__name__}(6, 3))\n"
                  f"    {np_fn(6, 3)}\n")
    return fn


bitwise_and = _bitwise(np.bitwise_and, lax.bitwise_and)
bitwise_or = _bitwise(np.bitwise_or, lax.bitwise_or)
bitwise_xor = _bitwise(np.bitwise_xor, lax.bitwise_xor)


def invert(x, /):
    """``numpy.invert`` (``~x``): bitwise not of integers, logical not of booleans.

    Example:
        >>> import fxad.numpy as fnp
        >>> int(fnp.invert(5))
        -6
    """
    if not isinstance(x, Tracer):
        return np.invert(x)
    _check_integral("invert", x.aval.dtype)
    return lax.bitwise_not(x)


bitwise_not = bitwise_invert = invert


def _float_divmod(x, y, dtype):
    """NumPy's ``divmod`` for floats (``npy_divmod``): the remainder from
    ``fmod``, which is exact, then both results adjusted to the sign of the
    divisor.  ``x - floor(x / y) * y`` would be off by up to ``y`` where
    ``x / y`` rounds up to an integer (``1 % 0.1``)."""
    mod = lax.rem(x, y)
    div = true_divide(subtract(x, mod), y)
    zero = dtype.type(0)
    adjust = logical_and(not_equal(mod, zero), not_equal(less(y, zero), less(mod, zero)))
    mod = where(adjust, add(mod, y), mod)
    div = where(adjust, subtract(div, 1), div)
    fdiv = lax.floor(div)
    fdiv = where(greater(subtract(div, fdiv), 0.5), add(fdiv, 1), fdiv)
    return where(equal(y, zero), true_divide(x, y), fdiv), mod


def floor_divide(x, y, /):
    """``numpy.floor_divide``: ``floor(x / y)`` as NumPy rounds it (derivative zero)."""
    if not (isinstance(x, Tracer) or isinstance(y, Tracer)):
        return np.floor_divide(x, y)
    dtype = result_type(x, y)
    x, y = promote_broadcast(x, y, dtype=dtype)
    if np.issubdtype(dtype, np.integer):
        return lax.div(x, y)  # lax.div of integers is floor division
    if np.issubdtype(dtype, np.bool_):
        raise TypeError("floor_divide is not defined for booleans")
    x, y = stop_gradient(x), stop_gradient(y)
    return _float_divmod(x, y, dtype)[0]


def power(x, y, /):
    """Differentiable ``numpy.power``; an integer exponent uses ``integer_pow``.

    Example:
        >>> import fxad, fxad.numpy as fnp
        >>> float(fxad.grad(lambda x: fnp.power(x, 3))(2.0))
        12.0
    """
    if not (isinstance(x, Tracer) or isinstance(y, Tracer)):
        return np.power(x, y)
    if type(y) is int or (isinstance(y, np.integer) and not isinstance(y, np.bool_)):
        dtype = result_type(x, y)
        if np.issubdtype(dtype, np.integer) and y < 0:
            raise ValueError("Integers to negative integer powers are not allowed.")
        return lax.integer_pow(convert(x, dtype), int(y))
    # integer ** integer array stays integer, as in NumPy.
    x, y = promote_broadcast(x, y, dtype=result_type(x, y))
    return lax.pow(x, y)


def _power_operator(x, y, /):
    """Python's ``**``: a weak float tracer with a Python number stays weak
    (Python arithmetic on Python scalars), as for the other operators."""
    if isinstance(x, Tracer):
        a = x.aval
        if type(y) is float and a.dtype.kind in "fc":
            return lax.pow(x, _py_operand(y, a))
    elif isinstance(y, Tracer) and (type(x) is float or type(x) is int):
        a = y.aval
        if a.dtype.kind in "fc":
            return lax.pow(_py_operand(x, a), y)
    return power(x, y)


power._operator = _power_operator


def remainder(x, y, /):
    """``numpy.remainder`` (the sign of the divisor), exactly as NumPy computes it.

    Example:
        >>> import fxad, fxad.numpy as fnp
        >>> float(fxad.grad(lambda x: fnp.remainder(x, 0.3))(1.0))
        1.0
    """
    if not (isinstance(x, Tracer) or isinstance(y, Tracer)):
        return np.remainder(x, y)
    dtype = result_type(x, y)
    if not np.issubdtype(dtype, np.inexact):
        # NumPy: the remainder of a division by zero is 0.
        r = subtract(x, multiply(floor_divide(x, y), y))
        return where(equal(y, 0), np.zeros((), r.aval.dtype), r)
    x, y = promote_broadcast(x, y, dtype=dtype)
    return _float_divmod(x, y, dtype)[1]


mod = remainder


def real(x, /):
    """Real part (identity on real input)."""
    if not isinstance(x, Tracer):
        return np.real(x)
    if np.issubdtype(x.aval.dtype, np.complexfloating):
        return lax.real(x)
    return x


def imag(x, /):
    """Imaginary part (zeros on real input)."""
    if not isinstance(x, Tracer):
        return np.imag(x)
    if np.issubdtype(x.aval.dtype, np.complexfloating):
        return lax.imag(x)
    return _zeros_like_value(x)


def conj(x, /):
    """Complex conjugate (identity on real input)."""
    if not isinstance(x, Tracer):
        return np.conj(x)
    if np.issubdtype(x.aval.dtype, np.complexfloating):
        return lax.conj(x)
    return x


conjugate = conj


def _zeros_like_value(x):
    a = x.aval
    return np.zeros(a.shape, a.dtype)


def astype(x, dtype):
    """``x.astype(dtype)``."""
    dtype = np.dtype(dtype)
    if not isinstance(x, Tracer):
        return np.asarray(x).astype(dtype)
    return lax.convert_element_type(x, dtype)


def stop_gradient(x):
    """Identity whose derivative is zero (see ``fxad.stop_gradient``)."""
    if not isinstance(x, Tracer):
        return x
    return lax.stop_gradient_prim(x)


# ---------------------------------------------------------------------------
# Reductions


def _keepdims(out, axes, ndim, keepdims):
    if not keepdims:
        return out
    shape = list(shape_of(out))
    for a in axes:
        shape.insert(a, 1)
    assert len(shape) == ndim
    return lax.reshape(out, tuple(shape))


def _sum_dtype(dt, dtype):
    if dtype is not None:
        return np.dtype(dtype)
    if dt == np.bool_ or (np.issubdtype(dt, np.integer) and dt.itemsize < 8):
        return np.dtype(np.uint64 if np.issubdtype(dt, np.unsignedinteger) else np.int64)
    return dt


def asarray_traced(a):
    """A tracer as it is, anything else as a NumPy array (lax ops take both)."""
    return a if isinstance(a, Tracer) else np.asarray(asarray_value(a))


def _masked_input(a, where, fill, name):
    """``a`` (a tracer) with the entries ``where`` is false replaced by ``fill``
    (their derivative is zero); ``where`` broadcasts to ``a``'s shape."""
    w = asarray_value(where)
    _check_where(w, shape_of(a), name)
    return _where_fn(w, a, np.asarray(fill, result_type(a)))


def _check_where(w, shape, name):
    try:
        ok = np.broadcast_shapes(shape_of(w), shape) == tuple(shape)
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"fxad.numpy.{name}: where= of shape {shape_of(w)} does not "
                         f"broadcast to the array's shape {tuple(shape)}")


def _with_initial(out, initial, op):
    if initial is np._NoValue:
        return out
    return op(out, convert(asarray_value(initial), result_type(out)))


def sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=np._NoValue,  # noqa: A001
        where=np._NoValue):
    """Differentiable ``numpy.sum``; ``where=`` leaves entries out (zero
    derivative there), ``initial=`` is added.

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> fxad.grad(lambda x: fnp.sum(x ** 2))(np.array([1.0, 2.0]))
        array([2., 4.])
        >>> fxad.grad(lambda x: fnp.sum(x ** 2, where=x > 1.5))(np.array([1.0, 2.0]))
        array([0., 4.])
    """
    _no_out(out)
    if not any_tracer(a, initial, where):
        return np.sum(a, axis=axis, dtype=dtype, keepdims=keepdims, initial=initial,
                      where=where)
    a = asarray_traced(a)
    axes = canonical_axes(axis, len(shape_of(a)))
    a = convert(a, _sum_dtype(result_type(a), dtype))
    if where is not np._NoValue:
        a = _masked_input(a, where, 0, "sum")
    res = _keepdims(lax.reduce_sum(a, axes), axes, len(shape_of(a)), keepdims)
    return _with_initial(res, initial, lax.add)


def prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=np._NoValue,
         where=np._NoValue):
    """Differentiable ``numpy.prod`` (exact at zeros: no division); ``where=``
    leaves entries out, ``initial=`` multiplies."""
    _no_out(out)
    if not any_tracer(a, initial, where):
        return np.prod(a, axis=axis, dtype=dtype, keepdims=keepdims, initial=initial,
                       where=where)
    a = asarray_traced(a)
    axes = canonical_axes(axis, len(shape_of(a)))
    a = convert(a, _sum_dtype(result_type(a), dtype))
    if where is not np._NoValue:
        a = _masked_input(a, where, 1, "prod")
    res = _keepdims(lax.reduce_prod(a, axes), axes, len(shape_of(a)), keepdims)
    return _with_initial(res, initial, lax.mul)


def _count(shape, axes):
    n = 1
    for ax in axes:
        n *= shape[ax]
    return n


def mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=np._NoValue):
    """Differentiable ``numpy.mean``; with ``where=`` the mean of the selected
    entries (NaN where none is, as NumPy)."""
    _no_out(out)
    if not any_tracer(a, where):
        return np.mean(a, axis=axis, dtype=dtype, keepdims=keepdims, where=where)
    a = asarray_traced(a)
    axes = canonical_axes(axis, len(shape_of(a)))
    dt = np.dtype(dtype) if dtype is not None else to_inexact(result_type(a))
    a = convert(a, dt)
    if where is not np._NoValue:
        w = asarray_value(where)
        w = w.to_concrete_value() if isinstance(w, Tracer) else w
        if w is None:  # a traced mask: count it under tracing too
            wt = broadcast_to_shape(convert(asarray_value(where), dt), shape_of(a))
            s = lax.reduce_sum(_masked_input(a, where, 0, "mean"), axes)
            return _keepdims(lax.div(s, lax.reduce_sum(wt, axes)), axes, len(shape_of(a)), keepdims)
        count = np.sum(np.broadcast_to(np.asarray(w, bool), shape_of(a)), axis=axes)
        s = lax.reduce_sum(_masked_input(a, w, 0, "mean"), axes)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(count > 0, 1.0 / np.maximum(count, 1), np.nan).astype(dt)
        return _keepdims(lax.mul(s, scale), axes, len(shape_of(a)), keepdims)
    n = _count(shape_of(a), axes)
    s = lax.reduce_sum(a, axes)
    out_ = lax.div(s, dt.type(n) if n else dt.type(np.nan))
    return _keepdims(out_, axes, len(shape_of(a)), keepdims)


def _extremum(np_fn, lax_fn, binary, name):
    def fn(a, axis=None, out=None, keepdims=False, initial=np._NoValue, where=np._NoValue):
        _no_out(out)
        if not any_tracer(a, initial, where):
            return np_fn(a, axis=axis, keepdims=keepdims, initial=initial, where=where)
        a = asarray_traced(a)
        axes = canonical_axes(axis, len(shape_of(a)))
        if initial is np._NoValue:
            if where is not np._NoValue:
                raise ValueError(f"reduction operation '{name}imum' does not have an "
                                 "identity, so to use a where mask one has to specify "
                                 "'initial'")
            if builtins.any(shape_of(a)[ax] == 0 for ax in axes):
                raise ValueError(f"zero-size array to reduction operation {name} which has "
                                 "no identity")
            return _keepdims(lax_fn(a, axes), axes, len(shape_of(a)), keepdims)
        init = asarray_value(initial)
        if shape_of(init) != ():
            raise ValueError(f"fxad.numpy.{name}: initial= must be a scalar, got shape "
                             f"{shape_of(init)}")
        dt = result_type(a, init)
        a = convert(a, dt)
        if any_tracer(init):
            init = convert(init, dt)
            fill = stop_gradient(init)
        else:
            init = fill = np.asarray(init, dt)
        if where is not np._NoValue:
            w = asarray_value(where)
            _check_where(w, shape_of(a), name)
            # Left-out entries take initial's value, a constant: the result's
            # derivative flows to initial only through the final comparison.
            a = _where_fn(w, a, broadcast_to_shape(fill, shape_of(a)))
        if builtins.any(shape_of(a)[ax] == 0 for ax in axes):
            shape = tuple(d for i, d in enumerate(shape_of(a)) if i not in axes)
            res = broadcast_to_shape(convert(asarray_value(init), dt), shape)
        else:
            res = binary(lax_fn(a, axes), init)
        return _keepdims(res, axes, len(shape_of(a)), keepdims)

    fn.__name__ = fn.__qualname__ = name
    init = "0.0" if name == "max" else "10.0"
    fn.__doc__ = (f"Differentiable ``numpy.{name}``; ties share the derivative equally "
                  f"(JAX's convention).  ``initial=`` joins the comparison; ``where=`` "
                  f"(which needs ``initial``, as in NumPy) leaves entries out.\n\n"
                  f"Example:\n"
                  f"    >>> import fxad, fxad.numpy as fnp, numpy as np\n"
                  f"    >>> x = np.array([1.0, 5.0, 3.0])\n"
                  f"    >>> fxad.grad(lambda x: fnp.{name}(x, initial={init}, where=x < 4))(x)\n"
                  f"    {np.array_repr(np.array([0, 0, 1.0] if name == 'max' else [1.0, 0, 0]))}\n")
    return fn


max = _extremum(np.max, lax.reduce_max, lambda r, i: lax.max(r, i), "max")  # noqa: A001
min = _extremum(np.min, lax.reduce_min, lambda r, i: lax.min(r, i), "min")  # noqa: A001
amax = max
amin = min


def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    """Differentiable ``numpy.var``."""
    _no_out(out)
    if not isinstance(a, Tracer):
        return np.var(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims)
    axes = canonical_axes(axis, a.ndim)
    dt = np.dtype(dtype) if dtype is not None else to_inexact(a.aval.dtype)
    a = convert(a, dt)
    centered = subtract(a, mean(a, axis=axes, keepdims=True))
    if np.issubdtype(dt, np.complexfloating):
        sq = real(multiply(centered, conj(centered)))
    else:
        sq = multiply(centered, centered)
    # NumPy divides by max(n - ddof, 0): inf or nan when the degrees of freedom run out.
    n = builtins.max(_count(a.aval.shape, axes) - ddof, 0)
    out_ = lax.div(lax.reduce_sum(sq, axes), sq.aval.dtype.type(n))
    return _keepdims(out_, axes, a.ndim, keepdims)


def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    """Differentiable ``numpy.std``."""
    _no_out(out)
    if not isinstance(a, Tracer):
        return np.std(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims)
    return sqrt(var(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims))


def cumsum(a, axis=None, dtype=None):
    """Differentiable ``numpy.cumsum``."""
    if not isinstance(a, Tracer):
        return np.cumsum(a, axis=axis, dtype=dtype)
    if axis is None:
        a = lax.reshape(a, (a.aval.size,))
        axis = 0
    ax = canonical_axes(axis, a.ndim)[0]
    a = convert(a, _sum_dtype(a.aval.dtype, dtype))
    return lax.cumsum(a, ax)


def _count_true(a, axis, keepdims):
    """How many elements along ``axis`` are true (nonzero), as int64."""
    axes = canonical_axes(axis, a.ndim)
    nonzero = lax.convert_element_type(lax.convert_element_type(a, np.dtype(bool)), np.int64)
    return _keepdims(lax.reduce_sum(nonzero, axes), axes, a.ndim, keepdims), axes


def any(a, axis=None, out=None, keepdims=False):  # noqa: A001 - NumPy's name
    """``numpy.any`` (boolean output, not differentiable).

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.any(np.array([[0.0, 1.0], [0.0, 0.0]]), axis=1)
        array([ True, False])
    """
    _no_out(out)
    if not isinstance(a, Tracer):
        return np.any(a, axis=axis, keepdims=keepdims)
    n, _ = _count_true(a, axis, keepdims)
    return lax.gt(n, np.int64(0))


def all(a, axis=None, out=None, keepdims=False):  # noqa: A001 - NumPy's name
    """``numpy.all`` (boolean output, not differentiable).

    Example:
        >>> import fxad.numpy as fnp, numpy as np
        >>> fnp.all(np.array([[0.0, 1.0], [2.0, 3.0]]), axis=1)
        array([False,  True])
    """
    _no_out(out)
    if not isinstance(a, Tracer):
        return np.all(a, axis=axis, keepdims=keepdims)
    n, axes = _count_true(a, axis, keepdims)
    return lax.eq(n, np.int64(_count(a.aval.shape, axes)))


def argmax(a, axis=None, keepdims=False):
    """``numpy.argmax`` (integer output, not differentiable)."""
    if not isinstance(a, Tracer):
        return np.argmax(a, axis=axis, keepdims=keepdims)
    return _arg(lax.argmax, a, axis, keepdims)


def argmin(a, axis=None, keepdims=False):
    """``numpy.argmin`` (integer output, not differentiable)."""
    if not isinstance(a, Tracer):
        return np.argmin(a, axis=axis, keepdims=keepdims)
    return _arg(lax.argmin, a, axis, keepdims)


def _arg(fn, a, axis, keepdims):
    if axis is None:
        out = fn(lax.reshape(a, (a.aval.size,)), 0)
        return lax.reshape(out, (1,) * a.ndim) if keepdims else out
    ax = canonical_axes(axis, a.ndim)[0]
    return _keepdims(fn(a, ax), (ax,), a.ndim, keepdims)


def _no_out(out):
    if out is not None:
        raise TypeError("fxad.numpy functions do not support out=: arrays are immutable")


# ---------------------------------------------------------------------------
# Selection (here rather than in _shape: the elementwise functions above use it)


def where(condition, x=None, y=None):
    """``numpy.where``: three-argument form is differentiable in ``x`` and
    ``y`` (the unselected branch gets a zero derivative, never NaN)."""
    if x is None and y is None:
        if isinstance(condition, Tracer):
            condition = condition.to_concrete_value()
            if condition is None:
                raise TypeError(
                    "fxad.numpy.where(condition) with one argument needs a concrete "
                    "condition (its output shape depends on the values); use the "
                    "three-argument form.")
        return np.where(condition)
    if x is None or y is None:
        raise ValueError("either both or neither of x and y should be given")
    if not any_tracer(condition, x, y):
        return np.where(condition, x, y)
    cond = asarray_value(condition)
    x, y = asarray_value(x), asarray_value(y)
    dt = result_type(x, y)
    shp = np.broadcast_shapes(shape_of(cond), shape_of(x), shape_of(y))
    x, y = [broadcast_to_shape(convert(v, dt), shp) for v in (x, y)]
    cond = convert(cond, np.dtype(bool))
    if shape_of(cond) != shp:
        cond = broadcast_to_shape(cond, shp)
    return lax.select_n(cond, y, x)


_where_fn = where  # for the functions whose where= parameter shadows it
