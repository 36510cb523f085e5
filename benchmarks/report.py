"""The report: the table of medians and ratios (text and Markdown), the jit
first calls, deep's peak memory, fxad against its targets, and a plot."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from benchmarks.harness import Cell
from benchmarks.libraries import versions
from benchmarks.targets import COMPILE_TARGETS_S, FXAD_TARGETS, ISSUE_REFERENCE


def fmt_time(t: float | None) -> str:
    if t is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if t >= scale:
            return f"{t / scale:.3g} {unit}"
    return f"{t * 1e9:.3g} ns"


def fmt_ratio(r: float | None) -> str:
    if r is None:
        return "-"
    return f"x{r:.3g}" if r < 1000 else f"x{r:,.0f}"


def fmt_bytes(b: int | None) -> str:
    if b is None:
        return "-"
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if b >= scale:
            return f"{b / scale:.3g} {unit}"
    return f"{b} B"


def cell_text(c: Cell | None) -> str:
    if c is None:
        return "-"
    if c.status == "ok":
        if c.library == "numpy":
            return fmt_time(c.median)
        return f"{fmt_ratio(c.ratio)} ({fmt_time(c.median)})"
    return {"skipped": "skipped", "error": "FAILED", "mismatch": "WRONG"}[c.status]


# ---------------------------------------------------------------------------
# The machine


def code_version() -> str | None:
    """The git commit of this checkout, marked when fxad/ has uncommitted changes."""
    here = Path(__file__).resolve().parent
    try:
        git = lambda *a: subprocess.run(["git", *a], cwd=here, capture_output=True,  # noqa: E731
                                        text=True, timeout=10).stdout.strip()
        head = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no", "--", "../fxad")
    except (OSError, subprocess.SubprocessError):
        return None
    return (head + (" (fxad/ modified)" if dirty else "")) if head else None


def machine_info(code: str | None = None) -> dict[str, str]:
    info = {"date": datetime.date.today().isoformat()}
    cpu = platform.processor() or platform.machine()
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                cpu = line.split(":", 1)[1].strip()
    except (OSError, subprocess.SubprocessError):
        pass
    info["cpu"] = f"{cpu}, {os.cpu_count()} logical CPUs"
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        info["memory"] = fmt_bytes(mem)
    except (ValueError, OSError, AttributeError):
        pass
    if hasattr(os, "getloadavg"):
        info["load average at the end (1, 5, 15 min)"] = ", ".join(
            f"{x:.2f}" for x in os.getloadavg())
    info["os"] = f"{platform.system()} {platform.release()}"
    info["python"] = platform.python_version()
    try:
        from threadpoolctl import threadpool_info

        blas = [f"{p.get('internal_api')} {p.get('version')} ({p.get('architecture')}, "
                f"{p.get('num_threads')} thread(s), {Path(p.get('filepath', '')).name})"
                for p in threadpool_info() if p.get("user_api") == "blas"]
        info["BLAS"] = "; ".join(blas) or "?"
    except ImportError:
        info["BLAS"] = "? (threadpoolctl not installed)"
    info.update({f"{k} version": v for k, v in versions().items()})
    if code:
        info["fxad commit at the start of the run"] = code
    return info


# ---------------------------------------------------------------------------
# Tables


def _grid(cells: Sequence[Cell]):
    workloads = list(dict.fromkeys(c.workload for c in cells))
    libs = list(dict.fromkeys(c.library for c in cells))
    by = {(c.workload, c.library): c for c in cells}
    return workloads, libs, by


def _text_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(s.ljust(w) for s, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(s.replace("|", "\\|") for s in r) + " |" for r in rows]
    return "\n".join(out)


def main_table(cells: Sequence[Cell]) -> tuple[list[str], list[list[str]]]:
    workloads, libs, by = _grid(cells)
    header = ["workload"] + [f"{lib} (time)" if lib == "numpy" else lib for lib in libs]
    rows = [[w] + [cell_text(by.get((w, lib))) for lib in libs] for w in workloads]
    return header, rows


def first_call_table(cells: Sequence[Cell]) -> tuple[list[str], list[list[str]]]:
    jit = [c for c in cells if c.first_call is not None]
    workloads, libs, by = _grid(jit)
    header = ["workload"] + [f"{lib} first call" for lib in libs]
    rows = [[w] + [fmt_time(by[(w, lib)].first_call) if (w, lib) in by else "-"
                   for lib in libs] for w in workloads]
    return header, rows


def memory_table(cells: Sequence[Cell]) -> tuple[list[str], list[list[str]]]:
    mem = [c for c in cells if c.peak_bytes is not None]
    workloads, libs, by = _grid(mem)
    native = {"jax", "jax-jit", "torch"}
    header = ["workload"] + [f"{lib}{' (*)' if lib in native else ''}" for lib in libs]
    rows = [[w] + [fmt_bytes(by[(w, lib)].peak_bytes) if (w, lib) in by else "-"
                   for lib in libs] for w in workloads]
    return header, rows


def _verdict(ratio: float | None, target: float) -> str:
    if ratio is None:
        return "not measured"
    if ratio <= target:
        return "met"
    miss = ratio / target
    return f"MISSED by {100 * (miss - 1):.1f}%" if miss < 1.1 else f"MISSED by x{miss:.2f}"


def target_table(cells: Sequence[Cell]) -> tuple[list[str], list[list[str]]]:
    _, _, by = _grid(cells)
    header = ["workload", "fxad", "target", "verdict", "fxad-jit", "target", "verdict"]
    rows = []
    for w, (t_eager, t_jit) in FXAD_TARGETS.items():
        e, j = by.get((w, "fxad")), by.get((w, "fxad-jit"))
        if e is None and j is None:
            continue
        re = e.ratio if e is not None and e.status == "ok" else None
        rj = j.ratio if j is not None and j.status == "ok" else None
        eager = (["none", ""] if t_eager is None
                 else [f"<= x{t_eager:g}", _verdict(re, t_eager)])
        rows.append([w, fmt_ratio(re), *eager,
                     fmt_ratio(rj), f"<= x{t_jit:g}", _verdict(rj, t_jit)])
    for w, limit in COMPILE_TARGETS_S.items():
        jit = by.get((w, "fxad-jit"))
        if jit is not None and jit.first_call is not None:
            rows.append([f"{w} compile", "", "", "", fmt_time(jit.first_call),
                         f"<= {limit:g} s", "met" if jit.first_call <= limit else "MISSED"])
    return header, rows


def reference_table(cells: Sequence[Cell]) -> tuple[list[str], list[list[str]]]:
    workloads, _, by = _grid(cells)
    libs = list(ISSUE_REFERENCE)
    header = ["workload"] + [f"{lib} here / issue" for lib in libs]
    rows = []
    for w in workloads:
        row = [w]
        for lib in libs:
            c = by.get((w, lib))
            here = cell_text(c).split(" ")[0] if c is not None else "-"
            row.append(f"{here} / {ISSUE_REFERENCE[lib].get(w, '-')}")
        rows.append(row)
    return header, rows


def problems(cells: Sequence[Cell]) -> list[str]:
    """Lines for the columns and cells that did not run or failed."""
    whole, out = [], []
    for lib in dict.fromkeys(c.library for c in cells):
        mine = [c for c in cells if c.library == lib]
        if all(c.status == "skipped" for c in mine):
            whole.append(f"{lib}: skipped ({mine[0].reason})")
            continue
        for c in mine:
            if c.status == "skipped":
                out.append(f"{lib} on {c.workload}: not run: {c.reason}")
            elif c.status != "ok":
                word = "FAILED" if c.status == "error" else "WRONG answer"
                out.append(f"{lib} on {c.workload}: {word}: {c.reason}")
    return whole + out


# ---------------------------------------------------------------------------
# Whole reports


def text_report(cells: Sequence[Cell], notes: Sequence[str], targets: bool = True) -> str:
    parts = ["Median time per call and ratio to hand-written NumPy (measured interleaved):",
             _text_table(*main_table(cells))]
    if any(c.first_call is not None for c in cells):
        parts += ["", "jit first call (trace + compile + one run):",
                  _text_table(*first_call_table(cells))]
    if any(c.peak_bytes is not None for c in cells):
        parts += ["", "Peak memory of one call (tracemalloc; (*) Python heap only, "
                  "native allocators unseen):", _text_table(*memory_table(cells))]
    target = target_table(cells)
    if targets and target[1]:
        parts += ["", "fxad against its targets:", _text_table(*target)]
    extra = problems(cells) + list(notes)
    if extra:
        parts += ["", *(f"- {n}" for n in extra)]
    return "\n".join(parts)


def markdown_report(cells: Sequence[Cell], notes: Sequence[str], settings_line: str,
                    info: dict[str, str], targets: bool = True) -> str:
    parts = ["# fxad benchmark results", "",
             "Ratio = median time / hand-written NumPy's median, measured interleaved "
             "in the same process; each library's answer was checked against "
             "hand-written NumPy before timing.", "",
             f"Settings: {settings_line}", "",
             "## Machine", "", *(f"- {k}: {v}" for k, v in info.items()), "",
             "## Median time per call, ratio to hand-written NumPy", "",
             _md_table(*main_table(cells))]
    if any(c.first_call is not None for c in cells):
        parts += ["", "## jit first call (trace + compile + one run)", "",
                  _md_table(*first_call_table(cells))]
    if any(c.peak_bytes is not None for c in cells):
        parts += ["", "## Peak memory of one call", "",
                  "tracemalloc's peak during one call. (*) tracemalloc sees the Python "
                  "heap and NumPy's buffers only: XLA's and torch's own allocators are "
                  "invisible to it, so those columns undercount.", "",
                  _md_table(*memory_table(cells))]
    target = target_table(cells)
    if targets and target[1]:
        parts += ["", "## fxad against its targets", "", _md_table(*target)]
    if targets:
        parts += ["", "## Other libraries: here / as the issue measured them", "",
                  _md_table(*reference_table(cells))]
    extra = problems(cells) + list(notes)
    if extra:
        parts += ["", "## Notes", "", *(f"- {n}" for n in extra)]
    return "\n".join(parts) + "\n"


def plot(cells: Sequence[Cell], path: Path) -> bool:
    """A bar chart of the ratios on a log scale; False if matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    workloads, libs, by = _grid(cells)
    libs = [lib for lib in libs if lib != "numpy"
            and any(by[(w, lib)].status == "ok" for w in workloads if (w, lib) in by)]
    fig, ax = plt.subplots(figsize=(max(8, 1.3 * len(workloads)), 4.5))
    width = 0.8 / max(len(libs), 1)
    x = np.arange(len(workloads))
    for k, lib in enumerate(libs):
        ratios = [by[(w, lib)].ratio if (w, lib) in by and by[(w, lib)].status == "ok"
                  else np.nan for w in workloads]
        ax.bar(x + (k - (len(libs) - 1) / 2) * width, ratios, width, label=lib)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_yscale("log")
    ax.set_xticks(x, workloads, rotation=20)
    ax.set_ylabel("time / hand-written NumPy")
    ax.set_title("Gradient time relative to hand-written NumPy (lower is better)")
    ax.legend(fontsize=8, ncol=min(len(libs), 6))
    ax.grid(axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
