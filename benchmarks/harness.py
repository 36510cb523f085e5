"""Checking and timing one (workload, library) cell.

The order for every cell: build the function (untimed); call it once, which
for a jit column is the first call, timed apart as the compile time; check
that answer against the hand-written NumPy derivative; only then time it.
Timing interleaves NumPy and the library (NumPy, library, NumPy, library, ...)
so that the ratio compares measurements taken side by side.
"""

from __future__ import annotations

import gc
import signal
import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from benchmarks.libraries import Library, configure, to_numpy
from benchmarks.workloads import Workload


@dataclass(frozen=True)
class Settings:
    """How long to measure.

    Attributes:
      min_time: seconds each measurement lasts at least (calls are repeated).
      repeats: measurements per cell, of which the median is taken.
      budget: seconds a cell may take; slow libraries get fewer repeats.
      compile_timeout: seconds allowed for a jit column's first call (a
        Python-side timer: it cannot interrupt a compiler running in C++).
      small: run the workloads at their small sizes.
      force: also run the cells a workload skips by default.
    """

    min_time: float = 0.2
    repeats: int = 7
    budget: float = 30.0
    compile_timeout: float = 300.0
    small: bool = False
    force: bool = False


QUICK = Settings(min_time=0.02, repeats=3, budget=3.0, compile_timeout=120.0)


@dataclass
class Cell:
    """The outcome of one library on one workload."""

    workload: str
    library: str
    status: str  # "ok", "skipped", "error", "mismatch"
    reason: str = ""
    median: float | None = None  # seconds per call
    base_median: float | None = None  # NumPy's, measured interleaved with this cell
    first_call: float | None = None  # jit columns: trace + compile + one run
    peak_bytes: int | None = None  # tracemalloc peak of one call
    calls: int = 0  # calls per measurement
    samples: list[float] = field(default_factory=list)

    @property
    def ratio(self) -> float | None:
        if self.median is None or not self.base_median:
            return None
        return self.median / self.base_median


# ---------------------------------------------------------------------------
# Checking


def _leaves(tree):
    if isinstance(tree, (tuple, list)):
        return [leaf for t in tree for leaf in _leaves(t)]
    if isinstance(tree, dict):
        return [leaf for k in sorted(tree) for leaf in _leaves(tree[k])]
    return [tree]


def check_answer(actual, expected, rtol: float, atol_scale: float) -> None:
    """Raise AssertionError unless ``actual`` matches the hand-written ``expected``:
    same structure, shapes, float64, and values to ``rtol`` (``atol`` relative to
    the largest expected magnitude)."""
    got, want = _leaves(to_numpy(actual)), _leaves(expected)
    if len(got) != len(want):
        raise AssertionError(f"{len(got)} arrays returned, {len(want)} expected")
    for k, (a, e) in enumerate(zip(got, want)):
        a, e = np.asarray(a), np.asarray(e)
        if a.shape != e.shape:
            raise AssertionError(f"output {k}: shape {a.shape}, expected {e.shape}")
        if a.dtype != np.float64:
            raise AssertionError(f"output {k}: dtype {a.dtype}, expected float64")
        atol = atol_scale * float(np.max(np.abs(e))) if e.size else 0.0
        np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, err_msg=f"output {k}")


# ---------------------------------------------------------------------------
# Timing


def _time(thunk: Callable, n: int) -> float:
    """Seconds for ``n`` calls (the garbage of earlier runs collected first)."""
    gc.collect()
    t0 = time.perf_counter()
    for _ in range(n):
        thunk()
    return time.perf_counter() - t0


def calibrate(thunk: Callable, min_time: float) -> tuple[int, float]:
    """Calls per measurement so that one measurement lasts ``min_time``; also
    the seconds per call seen while finding it."""
    n = 1
    while True:
        t = _time(thunk, n)
        if t >= min_time or n >= 1_000_000:
            return n, t / n
        n = min(n * 100, int(n * 1.2 * min_time / max(t, 1e-9)) + 1)


def measure(thunk: Callable, s: Settings) -> tuple[float, int, list[float]]:
    """Median seconds per call of ``thunk`` alone; calls per measurement; samples."""
    n, t = calibrate(thunk, s.min_time)
    repeats = max(1, min(s.repeats, int(s.budget / max(n * t, 1e-9))))
    samples = [_time(thunk, n) / n for _ in range(repeats)]
    return statistics.median(samples), n, samples


def measure_pair(base: Callable, thunk: Callable, s: Settings):
    """Interleaved medians of ``base`` (hand-written NumPy) and ``thunk``.

    Returns ``(base_median, median, calls, samples)``.
    """
    nb, tb = calibrate(base, s.min_time)
    nl, tl = calibrate(thunk, s.min_time)
    per_repeat = nb * tb + nl * tl
    repeats = max(1, min(s.repeats, int(s.budget / per_repeat)))
    base_samples, samples = [], []
    if nl == 1 and repeats < s.repeats:
        # a single call already lasts min_time: calibration was a measurement
        base_samples.append(tb)
        samples.append(tl)
        repeats -= 1
    for _ in range(repeats):
        base_samples.append(_time(base, nb) / nb)
        samples.append(_time(thunk, nl) / nl)
    return statistics.median(base_samples), statistics.median(samples), nl, samples


def peak_memory(thunk: Callable) -> int:
    """tracemalloc's peak (bytes) during one call. It sees the Python heap and
    NumPy's buffers, not allocators of their own (XLA's, torch's)."""
    gc.collect()
    tracemalloc.start()
    try:
        thunk()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


class _Timeout(Exception):
    pass


def _with_timeout(fn: Callable, seconds: float):
    """``fn()``, raising _Timeout after ``seconds`` (main thread, POSIX only)."""
    if not hasattr(signal, "SIGALRM") or seconds <= 0:
        return fn()

    def on_alarm(signum, frame):
        raise _Timeout

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


# ---------------------------------------------------------------------------
# One cell


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}"[:200]


def build(workload: Workload, lib: Library, args: tuple) -> Callable:
    """The timed call of ``lib`` on ``workload`` (a no-argument thunk)."""
    configure(lib.base)
    if lib.base == "numpy":
        return lambda: workload.numpy(*args)
    fun, fun_args = workload.builders[lib.base](*args)
    return lib.thunk(lib.wrap(fun), fun_args)


def run_cell(workload: Workload, lib: Library, args: tuple, expected, base: Callable,
             s: Settings) -> Cell:
    """Build, first call, check, then time ``lib`` against ``base``."""
    cell = Cell(workload.name, lib.name, "ok")
    if lib.base != "numpy" and lib.base not in workload.builders:
        cell.status, cell.reason = "skipped", "no implementation"
        return cell
    try:
        thunk = build(workload, lib, args)
        t0 = time.perf_counter()
        answer = _with_timeout(thunk, s.compile_timeout) if lib.jit else thunk()
        if lib.jit:
            cell.first_call = time.perf_counter() - t0
    except _Timeout:
        cell.status = "error"
        cell.reason = f"first call (compile) did not finish in {s.compile_timeout:.0f} s"
        return cell
    except Exception as e:  # noqa: BLE001 - any failure is reported in the table
        cell.status, cell.reason = "error", _first_line(e)
        return cell
    try:
        check_answer(answer, expected, workload.rtol, workload.atol_scale)
    except AssertionError as e:
        cell.status = "mismatch"
        cell.reason = " ".join(str(e).split())[:300]
        return cell
    if lib.base == "numpy":
        cell.median, cell.calls, cell.samples = measure(thunk, s)
        cell.base_median = cell.median
    else:
        cell.base_median, cell.median, cell.calls, cell.samples = measure_pair(base, thunk, s)
    if workload.memory:
        cell.peak_bytes = peak_memory(thunk)
    return cell
