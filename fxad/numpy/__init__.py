"""``fxad.numpy``: differentiable NumPy.

Functions follow NumPy's semantics (broadcasting, NumPy 2 promotion with
Python scalars weakly typed, float64 by default).  Called on plain NumPy
values they return exactly what NumPy returns; called on tracers they bind
fxad primitives.

Example:
    >>> import fxad, fxad.numpy as fnp, numpy as np
    >>> fxad.grad(lambda x: fnp.sum(fnp.sin(x) ** 2))(np.zeros(2))
    array([0., 0.])
"""

import numpy as _np
from numpy import (  # noqa: F401 - dtypes and constants, as NumPy has them
    bool_,
    complex64,
    complex128,
    complexfloating,
    dtype,
    e,
    euler_gamma,
    finfo,
    float16,
    float32,
    float64,
    floating,
    iinfo,
    inexact,
    inf,
    int8,
    int16,
    int32,
    int64,
    integer,
    issubdtype,
    nan,
    ndarray,
    newaxis,
    number,
    pi,
    result_type,
    uint8,
    uint32,
    uint64,
)

from fxad.numpy._constant import array, asarray  # noqa: F401
from fxad.numpy._core import (  # noqa: F401
    abs,
    absolute,
    add,
    all,
    amax,
    amin,
    any,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctan2,
    arctanh,
    argmax,
    argmin,
    around,
    astype,
    bitwise_and,
    bitwise_invert,
    bitwise_not,
    bitwise_or,
    bitwise_xor,
    ceil,
    conj,
    conjugate,
    cos,
    cosh,
    cumsum,
    divide,
    equal,
    exp,
    expm1,
    floor,
    floor_divide,
    fmod,
    greater,
    greater_equal,
    imag,
    invert,
    isfinite,
    less,
    less_equal,
    log,
    log1p,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    max,
    maximum,
    mean,
    min,
    minimum,
    mod,
    multiply,
    negative,
    not_equal,
    positive,
    power,
    prod,
    real,
    reciprocal,
    remainder,
    round,
    sign,
    sin,
    sinh,
    sqrt,
    square,
    std,
    stop_gradient,
    subtract,
    sum,
    tan,
    tanh,
    true_divide,
    trunc,
    var,
)
from fxad.numpy._creation import (  # noqa: F401
    arange,
    empty,
    empty_like,
    eye,
    full,
    full_like,
    identity,
    linspace,
    logspace,
    ones,
    ones_like,
    tri,
    zeros,
    zeros_like,
)
from fxad.numpy._editing import (  # noqa: F401
    append,
    apply_along_axis,
    apply_over_axes,
    asanyarray,
    ascontiguousarray,
    asfortranarray,
    block,
    choose,
    compress,
    concat,
    copy,
    cumulative_prod,
    cumulative_sum,
    delete,
    extract,
    insert,
    ix_,
    matrix_transpose,
    piecewise,
    ravel_multi_index,
    require,
    resize,
    rollaxis,
    row_stack,
    trim_zeros,
    unravel_index,
    unstack,
    vectorize,
)
from fxad.numpy._einsum import einsum  # noqa: F401
from fxad.numpy._floating import (  # noqa: F401
    angle,
    fmax,
    fmin,
    frexp,
    i0,
    iscomplex,
    iscomplexobj,
    isreal,
    isrealobj,
    ldexp,
    modf,
    nextafter,
    real_if_close,
    spacing,
)
from fxad.numpy._index_tricks import c_, r_  # noqa: F401
from fxad.numpy._indexing import (  # noqa: F401
    _IndexUpdateHelper,
    _IndexUpdateRef,
    at,
    put_along_axis,
    take,
    take_along_axis,
)
from fxad.numpy._indexing import getitem as _getitem  # noqa: F401
from fxad.numpy._integer import (  # noqa: F401
    bitwise_count,
    bitwise_left_shift,
    bitwise_right_shift,
    gcd,
    lcm,
    left_shift,
    right_shift,
)
from fxad.numpy._linalg_ops import (  # noqa: F401
    cross,
    diagonal,
    dot,
    inner,
    matmul,
    matvec,
    outer,
    tensordot,
    trace,
    vdot,
    vecdot,
    vecmat,
)
from fxad.numpy._manipulation import (  # noqa: F401
    argwhere,
    array_split,
    atleast_3d,
    column_stack,
    diag,
    diag_indices,
    diag_indices_from,
    diagflat,
    dsplit,
    dstack,
    flatnonzero,
    fliplr,
    flipud,
    hsplit,
    indices,
    kron,
    meshgrid,
    nonzero,
    pad,
    repeat,
    roll,
    rot90,
    select,
    split,
    tile,
    tril,
    tril_indices,
    tril_indices_from,
    triu,
    triu_indices,
    triu_indices_from,
    vsplit,
)
from fxad.numpy._numerical import (  # noqa: F401
    bartlett,
    blackman,
    convolve,
    corrcoef,
    correlate,
    cov,
    geomspace,
    gradient,
    hamming,
    hanning,
    interp,
    kaiser,
    poly,
    polyadd,
    polyder,
    polyfit,
    polyint,
    polymul,
    polysub,
    polyval,
    roots,
    trapezoid,
    unwrap,
    vander,
)
from fxad.numpy._reductions import (  # noqa: F401
    _cummax,
    _cummin,
    argpartition,
    argsort,
    average,
    count_nonzero,
    cumprod,
    diff,
    ediff1d,
    median,
    nanargmax,
    nanargmin,
    nancumprod,
    nancumsum,
    nanmax,
    nanmean,
    nanmedian,
    nanmin,
    nanpercentile,
    nanprod,
    nanquantile,
    nanstd,
    nansum,
    nanvar,
    partition,
    percentile,
    ptp,
    quantile,
    sort,
    sort_complex,
)
from fxad.numpy._searching import (  # noqa: F401
    bincount,
    digitize,
    histogram,
    histogram_bin_edges,
    intersect1d,
    isin,
    lexsort,
    searchsorted,
    setdiff1d,
    setxor1d,
    union1d,
    unique,
    unique_all,
    unique_counts,
    unique_inverse,
    unique_values,
)
from fxad.numpy._shape import (  # noqa: F401
    atleast_1d,
    atleast_2d,
    broadcast_arrays,
    broadcast_to,
    clip,
    concatenate,
    expand_dims,
    flip,
    hstack,
    moveaxis,
    ndim,
    permute_dims,
    ravel,
    reshape,
    shape,
    size,
    squeeze,
    stack,
    swapaxes,
    transpose,
    vstack,
    where,
)
from fxad.numpy._ufuncs import (  # noqa: F401
    allclose,
    array_equal,
    array_equiv,
    cbrt,
    copysign,
    deg2rad,
    degrees,
    divmod,
    exp2,
    fabs,
    fix,
    float_power,
    heaviside,
    hypot,
    isclose,
    isinf,
    isnan,
    isneginf,
    isposinf,
    log2,
    log10,
    logaddexp,
    logaddexp2,
    nan_to_num,
    rad2deg,
    radians,
    rint,
    signbit,
    sinc,
)

# NumPy 2's array-API names for existing functions.
acos, acosh, asin, asinh = arccos, arccosh, arcsin, arcsinh
atan, atan2, atanh = arctan, arctan2, arctanh
pow = power  # noqa: A001 - NumPy's name

# Functions of shapes, dtypes and Python objects: NumPy's own.
broadcast_shapes = _np.broadcast_shapes
can_cast, promote_types, min_scalar_type = _np.can_cast, _np.promote_types, _np.min_scalar_type
common_type, mintypecode, isdtype = _np.common_type, _np.mintypecode, _np.isdtype
isscalar, iterable = _np.isscalar, _np.iterable
fromfunction, mask_indices = _np.fromfunction, _np.mask_indices  # call fxad on index grids

# Subpackages (one line each, appended by their authors); not sorted.
# isort: off
from fxad.numpy import fft  # noqa: E402,F401
from fxad.numpy import linalg  # noqa: E402,F401

# fxad.numpy.random is NumPy's own module: random numbers are data, not traced.
import sys as _sys  # noqa: E402

from numpy import random  # noqa: E402,F401

_sys.modules.setdefault("fxad.numpy.random", random)

# Every public function takes (nested) lists holding tracers where NumPy takes
# arrays, and returns NumPy's (never weak) result types: fxad/numpy/_util.py.
from fxad.numpy import _util  # noqa: E402

_util.install_numpy_functions(globals())
_util.install_numpy_functions(vars(linalg))
_util.install_numpy_functions(vars(fft))

# The layer installs itself on the core: the tracer's operators and methods,
# and NumPy's dispatch protocols routed to the namespaces above.
from fxad.numpy import _array_methods  # noqa: E402,F401
from fxad.numpy import _dispatch  # noqa: E402

_dispatch.register("numpy", _sys.modules[__name__])
_dispatch.register("numpy.linalg", linalg)
_dispatch.register("numpy.fft", fft)
