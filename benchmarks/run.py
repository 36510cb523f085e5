"""The command line: run the selected workloads on the selected libraries,
print the table, save it as Markdown (and a plot)."""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import io
import json
import pstats
import sys
from pathlib import Path

from benchmarks import harness, report
from benchmarks.harness import Cell, Settings
from benchmarks.libraries import BY_NAME, HAND, LIBRARIES
from benchmarks.workloads import all_workloads


def _csv(s: str) -> list[str]:
    return [p.strip() for p in s.split(",") if p.strip()]


def parse_args(argv):
    names = [w.name for w in all_workloads()]
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Time derivatives in fxad and the other installed libraries against "
                    "hand-written NumPy, after checking each answer against it.")
    p.add_argument("--quick", action="store_true",
                   help="a fast smoke run: short measurements, 3 repeats")
    p.add_argument("--small", action="store_true",
                   help="small problem sizes (checks the suite, not the speed)")
    p.add_argument("--only", type=_csv, default=names, metavar="W1,W2",
                   help=f"workloads to run (default all: {','.join(names)}; "
                        "'jacobian' means both jacobian rows)")
    p.add_argument("--libs", type=_csv, default=[lib.name for lib in LIBRARIES],
                   metavar="L1,L2", help="libraries to run (default all installed: "
                   f"{','.join(lib.name for lib in LIBRARIES)}); numpy always runs")
    p.add_argument("--out", type=Path, default=Path("benchmarks/results"),
                   help="folder for results.md, results.json and results.png (default %(default)s)")
    p.add_argument("--min-time", type=float, help="seconds per measurement (default 0.2)")
    p.add_argument("--repeats", type=int, help="measurements per cell (default 7)")
    p.add_argument("--budget", type=float,
                   help="seconds per cell before repeats are cut (default 30)")
    p.add_argument("--compile-timeout", type=float,
                   help="seconds allowed for a jit column's first call (default 300)")
    p.add_argument("--force", action="store_true",
                   help="also run the cells a workload skips by default (jax-jit on deep)")
    p.add_argument("--render", type=Path, metavar="RESULTS_JSON",
                   help="instead of running, print and re-write the report of a saved "
                        "results.json (into --out)")
    p.add_argument("--profile", metavar="LIB",
                   help="instead of timing, cProfile LIB's call on each workload and "
                        "print where the time goes")
    a = p.parse_args(argv)
    expanded = []
    for w in a.only:
        expanded += [n for n in names if n == w or n.startswith(w + "-")] or [w]
    unknown = [w for w in expanded if w not in names]
    if unknown:
        p.error(f"unknown workload(s) {unknown}; choose from {names}")
    a.only = expanded
    bad = [lib for lib in a.libs if lib not in BY_NAME]
    if bad:
        p.error(f"unknown librar(y/ies) {bad}; choose from {list(BY_NAME)}")
    return a


def settings_from(a) -> Settings:
    s = harness.QUICK if a.quick else Settings()
    changes = {k: v for k, v in (("min_time", a.min_time), ("repeats", a.repeats),
                                 ("budget", a.budget), ("compile_timeout", a.compile_timeout))
               if v is not None}
    return dataclasses.replace(s, small=a.small, force=a.force, **changes)


def run(workloads, libs, s: Settings, log=sys.stderr) -> tuple[list[Cell], list[str]]:
    """Every (workload, library) cell, and the notes to print under the table."""
    cells: list[Cell] = []
    notes: list[str] = []
    missing = {lib.name: lib.missing() for lib in libs}
    for w in workloads:
        args = w.inputs(s.small)
        expected = w.numpy(*args)
        base = lambda w=w, args=args: w.numpy(*args)  # noqa: E731
        for lib in libs:
            if missing[lib.name]:
                cells.append(Cell(w.name, lib.name, "skipped", missing[lib.name]))
                continue
            if lib.name in w.skip and not (s.force or s.small):
                cells.append(Cell(w.name, lib.name, "skipped", w.skip[lib.name]))
                continue
            print(f"{w.name:>13} {lib.name:<9}", end=" ", file=log, flush=True)
            cell = harness.run_cell(w, lib, args, expected, base, s)
            cells.append(cell)
            if cell.status == "ok":
                extra = f" first call {report.fmt_time(cell.first_call)}" \
                    if cell.first_call is not None else ""
                print(f"{report.fmt_time(cell.median):>10}  {report.fmt_ratio(cell.ratio):>8}"
                      f"{extra}", file=log, flush=True)
            else:
                print(f"{cell.status}: {cell.reason}", file=log, flush=True)
        for lib in libs:
            if lib.base in w.notes and not missing[lib.name]:
                note = f"{w.name}, {lib.base}: {w.notes[lib.base]}"
                if note not in notes:
                    notes.append(note)
    return cells, notes


def profile(workloads, lib, s: Settings, top: int = 20) -> None:
    """Print cProfile's view of ``lib`` on each workload (one warm-up call first),
    by own time and by cumulative time."""
    for w in workloads:
        args = w.inputs(s.small)
        thunk = harness.build(w, lib, args)
        thunk()
        n, t = harness.calibrate(thunk, 0.5)
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(n):
            thunk()
        prof.disable()
        out = io.StringIO()
        stats = pstats.Stats(prof, stream=out).strip_dirs()
        print(f"\n=== {lib.name} on {w.name}: {n} call(s), {report.fmt_time(t)} per call "
              "unprofiled ===")
        for order in ("tottime", "cumulative"):
            stats.sort_stats(order).print_stats(top)
        print("\n".join(line for line in out.getvalue().splitlines() if line.strip()))


def main(argv=None) -> int:
    a = parse_args(sys.argv[1:] if argv is None else argv)
    s = settings_from(a)
    workloads = [w for w in all_workloads() if w.name in a.only]
    if a.profile:
        lib = BY_NAME.get(a.profile)
        if lib is None or lib.missing():
            print(f"--profile: {a.profile} cannot run here", file=sys.stderr)
            return 2
        profile(workloads, lib, s)
        return 0
    if a.render:
        raw = json.loads(a.render.read_text())
        cells = [Cell(**{k: v for k, v in c.items() if k != "ratio"}) for c in raw["cells"]]
        notes, line, machine = raw["notes"], raw["settings"], raw["machine"]
    else:
        libs = [HAND] + [BY_NAME[n] for n in a.libs if n != HAND.name]
        code = report.code_version()  # before the run: the tree may change under it
        cells, notes = run(workloads, libs, s)
        machine = report.machine_info(code)
        line = (f"min time {s.min_time} s per measurement, median of up to {s.repeats} "
                f"measurements, {s.budget:g} s budget per cell"
                f"{', small sizes' if s.small else ''}{', --quick' if a.quick else ''}")
    print()
    targets = "small sizes" not in line  # the targets are for the full sizes
    print(report.text_report(cells, notes, targets))
    a.out.mkdir(parents=True, exist_ok=True)
    md = a.out / "results.md"
    md.write_text(report.markdown_report(cells, notes, line, machine, targets))
    raw = {"settings": line, "notes": notes, "machine": machine,
           "cells": [dataclasses.asdict(c) | {"ratio": c.ratio} for c in cells]}
    (a.out / "results.json").write_text(json.dumps(raw, indent=1))
    print(f"\nwrote {md}, {a.out / 'results.json'}", end="")
    if report.plot(cells, a.out / "results.png"):
        print(f" and {a.out / 'results.png'}", end="")
    print()
    bad = [c for c in cells if c.status in ("error", "mismatch")]
    return 1 if bad else 0
