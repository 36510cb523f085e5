"""Op records of ``fxad.scipy.integrate``'s primitives (``odeint``,
``odeint_tangent`` and ``odeint_adjoint``), joined to ``tests/op_records.py``'s
table.

``odeint``: values against SciPy's own ``odeint`` / ``solve_ivp`` called
the same way with the right-hand side written in NumPy (so equal to the last
bit), derivatives in ``y0``, the times and a rate against finite
differences, integrating at 1e-11 and checking at ``tol=1e-5``.  Reverse
mode only (``modes=("rev",)``) because the suites compare ``jacfwd`` with
``jacrev`` to float64's last bits, and the forward sensitivities and the
adjoint agree to the solver's tolerance; the two linear maps have their own
records below, and ``tests/test_integrate.py`` checks forward mode.

``odeint_tangent`` (the forward sensitivities, staged by ``jvp``) and
``odeint_adjoint`` (their transpose, staged by ``vjp``) at a fixed point:
their cases are in single precision because their reference is
independent, the sensitivity equations with the Jacobian written by hand
integrated by SciPy, which agrees to the solver's tolerance (1e-10), not to
float64's last bits; the records integrate in float64 and round the result
(the adjoint's cotangents concatenated: ``y0``'s, the times', the rate's).
"""

from __future__ import annotations

import numpy as np
from op_records import ALL, F32, F64, Arg, C, Fixed, OpRecord

import fxad
import fxad.numpy as fnp
from fxad.scipy.integrate import odeint, solve_ivp

TOL = dict(rtol=1e-11, atol=1e-11)
TIMES = Fixed(np.array([0.0, 0.4, 1.1, 1.5]))


def _f(y, t, k):
    return -k * y + fnp.sin(t) * fnp.tanh(y)


def _f_np(y, t, k):
    return -k * y + np.sin(t) * np.tanh(y)


def _odeint(y0, t, k):
    return odeint(_f, y0, t, k, **TOL)


def _odeint_ref(y0, t, k):
    import scipy.integrate

    return scipy.integrate.odeint(_f_np, y0, t, (k,), **TOL)


def _ivp(method):
    def fun(y0, t, k):
        sol = solve_ivp(lambda s, y, k: _f(y, s, k), (0.0, 2.0), y0, method=method,
                        t_eval=t, args=(k,), **TOL)
        return sol.y

    def ref(y0, t, k):
        import scipy.integrate

        return scipy.integrate.solve_ivp(lambda s, y, k: _f_np(y, s, k), (0.0, 2.0), y0,
                                         method=method, t_eval=t, args=(k,), **TOL).y

    return fun, ref


_rk45, _rk45_ref = _ivp("RK45")
_dop853, _dop853_ref = _ivp("DOP853")
EVAL_TIMES = Fixed(np.array([0.3, 1.0, 1.7]))


# ---------------------------------------------------------------------------
# odeint_tangent and odeint_adjoint, at a fixed point (they are linear in the
# record's arguments, and have no derivative in the others)

Y0 = np.array([0.8, -0.6])
K = np.array([0.9, 1.4])


def _sensitivities():
    """``ys`` and the (diagonal) sensitivities ``dy/dy0``, ``dy/dk`` at the
    times, from SciPy's odeint of the forward sensitivity equations."""
    import scipy.integrate

    t, n = TIMES.value, Y0.size

    def aug(z, s):
        y, sy, sk = z[:n], z[n:2 * n], z[2 * n:]
        dfdy = -K + np.sin(s) * (1 - np.tanh(y) ** 2)
        return np.concatenate([_f_np(y, s, K), dfdy * sy, dfdy * sk - y])

    z = scipy.integrate.odeint(aug, np.concatenate([Y0, np.ones(n), np.zeros(n)]), t,
                               rtol=1e-12, atol=1e-12)
    return z[:, :n], z[:, n:2 * n], z[:, 2 * n:]


def _fixed(y0, t, k):
    return odeint(_f, y0, t, k, rtol=1e-10, atol=1e-10)


def _jvp(y0_dot, t_dot, k_dot):
    # The map is built in float64 at the fixed point; the record's tangents
    # and outputs are single precision (see the module doc).
    dots = tuple(x.astype(np.float64) for x in (y0_dot, t_dot, k_dot))
    return fxad.jvp(_fixed, (Y0, TIMES.value, K), dots)[1].astype(np.float32)


def _jvp_ref(y0_dot, t_dot, k_dot):
    ys, sy, sk = _sensitivities()
    t = TIMES.value
    y0_dot, t_dot, k_dot = (np.asarray(x, np.float64) for x in (y0_dot, t_dot, k_dot))
    s0 = y0_dot - _f_np(Y0, t[0], K) * t_dot[0]
    out = sy * s0 + sk * k_dot + np.stack([_f_np(ys[i], t[i], K) * t_dot[i]
                                          for i in range(len(t))])
    return out.astype(np.float32)


def _vjp(g):
    _, pull = fxad.vjp(_fixed, Y0, TIMES.value, K)
    return fnp.concatenate([c.astype(np.float32) for c in pull(g.astype(np.float64))])


def _vjp_ref(g):
    ys, sy, sk = _sensitivities()
    t, g = TIMES.value, np.asarray(g, np.float64)
    y0_ct = np.sum(g * sy, axis=0)
    k_ct = np.sum(g * sk, axis=0)
    t_ct = np.array([np.sum(g[i] * _f_np(ys[i], t[i], K)) for i in range(len(t))])
    t_ct[0] = -np.sum((y0_ct - g[0]) * _f_np(Y0, t[0], K))
    return np.concatenate([y0_ct, t_ct, k_ct]).astype(np.float32)


def _pos(shape, dtype=F64):
    return Arg(shape, "positive", dtype)


RECORDS = [
    OpRecord("odeint", _odeint, _odeint_ref,
             (C(Arg((2,)), TIMES, _pos((2,))), C(Arg((3,)), TIMES, _pos(()))),
             order=1, modes=("rev",), tol=1e-5),
    OpRecord("odeint", _rk45, _rk45_ref, (C(Arg((2,)), EVAL_TIMES, _pos((2,))),),
             order=1, modes=("rev",), tol=1e-5),
    OpRecord("odeint", _dop853, _dop853_ref, (C(Arg((2,)), EVAL_TIMES, _pos(())),),
             order=1, modes=("rev",), tol=1e-5),
    OpRecord("odeint_tangent", _jvp, _jvp_ref,
             (C(Arg((2,), dtype=F32), Arg((4,), dtype=F32), Arg((2,), dtype=F32)),),
             linear=(ALL,)),
    OpRecord("odeint_adjoint", _vjp, _vjp_ref, (C(Arg((4, 2), dtype=F32)),),
             linear=((0,),)),
]
