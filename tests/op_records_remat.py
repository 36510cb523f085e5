"""Op records of ``remat`` (``fxad.checkpoint``'s call primitive), joined to
``tests/op_records.py``'s table: the bodies of ``tests/op_records_calls.py``
bound as ``remat`` calls, so the value, autodiff, vmap and jit suites push
its rules (recomputing linearize split included) through every interpreter."""

from __future__ import annotations

import numpy as np
from op_records import ALL, OpRecord
from op_records_calls import _cases, _linear, _smooth, _two, _unused, call

from fxad import lax
from fxad._remat import remat_p


def rcall(body):
    return call(body, remat_p, prevent_cse=True)


def _two_combined(x, y):
    a, b = rcall(_two)(x, y)
    return lax.add(a, lax.mul(b, b))


RECORDS = [
    OpRecord("remat", lambda x, y: rcall(_smooth)(x, y)[0],
             lambda x, y: np.sin(x) * y + np.exp(x), _cases()),
    OpRecord("remat", lambda x, y: rcall(_linear)(x, y)[0], lambda x, y: 2.0 * x - y,
             _cases(), linear=(ALL,)),
    OpRecord("remat", _two_combined, lambda x, y: x * y + np.tanh(x) ** 2, _cases()),
    OpRecord("remat", lambda x, y: rcall(_unused)(x, y)[0], lambda x, y: x * x, _cases()),
]
