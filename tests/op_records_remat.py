"""Op records of ``remat`` (``fxad.checkpoint``'s call primitive), joined to
``tests/op_records.py``'s table: the bodies of ``tests/op_records_calls.py``
bound as ``remat`` calls, so the value, autodiff, vmap and jit suites push
its rules (recomputing linearize split included) through every interpreter."""

from __future__ import annotations

import numpy as np
from op_records import ALL, OpRecord
from op_records_calls import _cases, _linear, _smooth, _two, _unused

from fxad import lax
from fxad._remat import remat_p
from fxad.core import get_aval
from fxad.interpreters.partial_eval import trace_to_jaxpr

_bodies: dict = {}


def rcall(body):
    def fun(*args):
        avals = tuple(get_aval(a).strip_weak_type() for a in args)
        closed = _bodies.get((body, avals))
        if closed is None:
            closed = _bodies[(body, avals)] = trace_to_jaxpr(
                lambda *xs: list(body(*xs)), list(avals))
        return remat_p.bind(*args, jaxpr=closed, prevent_cse=True, name=body.__name__)

    return fun


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
