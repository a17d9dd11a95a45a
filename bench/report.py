"""The report: what was measured (machine, code), the results table (median, min and max
per row, CPU per job by process), and the goals."""

from __future__ import annotations

import dataclasses
import math
import os
import platform
import statistics
import subprocess
from collections.abc import Container, Iterable

from bench.measure import Result
from bench.processes import ROOT
from shared.embedded import find_redis_server

CORES = os.cpu_count() or 1
# Other processes busier than this (in cores) during the runs make the numbers pessimistic.
NOISY_CORES = 0.25
# Process roles in the order their CPU columns are printed.
ROLES = ("bench", "redis", "consumer", "gateway", "celery")


@dataclasses.dataclass(frozen=True)
class Row:
    """One line of the table: a metric of one measurement."""

    measurement: str
    metric: str
    label: str
    unit: str
    goal: str = ""


def _number(value: float) -> str:
    if math.isnan(value):
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}"


def median(values: Iterable[float]) -> float:
    """The median of the values that are not NaN; NaN if there are none."""
    clean = [v for v in values if not math.isnan(v)]
    return statistics.median(clean) if clean else float("nan")


def median_of(results: list[Result], metric: str) -> float:
    return median(r.metrics[metric] for r in results if metric in r.metrics)


# Columns of the table; the numeric ones are right-aligned.
HEADER = ("measurement", "median", "min", "max", "unit", "goal", "runs", "CPU us/job",
          "busy cores", "other load")  # fmt: skip
_NUMERIC = {1, 2, 3, 6, 8, 9}


def table(rows: list[Row], results: dict[str, list[Result]]) -> str:
    lines = [list(HEADER)]
    for row in rows:
        runs = results.get(row.measurement, [])
        values = [r.metrics[row.metric] for r in runs if row.metric in r.metrics]
        if not values:
            continue
        throughput = row.unit == "jobs/s"
        lines.append([
            row.label,
            _number(statistics.median(values)),
            _number(min(values)),
            _number(max(values)),
            row.unit,
            row.goal,
            str(len(values)),
            _cpu(runs),
            _busy(runs) if throughput else "",
            f"{other_load(runs):.2f}",
        ])  # fmt: skip
    return columns(lines, _NUMERIC)


def columns(lines: list[list[str]], right: Container[int]) -> str:
    """Lines of cells as aligned columns, the first line a header underlined with dashes;
    the columns numbered in ``right`` are right-aligned, the others left-aligned."""
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    out = []
    for n, line in enumerate(lines):
        cells = [
            cell.rjust(width) if i in right else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(line, widths, strict=True))
        ]
        out.append("  ".join(cells).rstrip())
        if n == 0:
            out.append("  ".join("-" * width for width in widths))
    return "\n".join(out)


def _cpu(runs: list[Result]) -> str:
    """Median CPU microseconds per job of each process role, e.g. ``bench 97 redis 82``."""
    parts = []
    for role in ROLES:
        values = [r.cpu_us[role] for r in runs if role in r.cpu_us]
        if values:
            parts.append(f"{role} {statistics.median(values):.0f}")
    return " ".join(parts)


def _busy(runs: list[Result]) -> str:
    """Cores kept busy: CPU seconds per job of all processes times jobs per second."""
    busy = [
        sum(r.cpu_us.values()) * r.metrics["jobs/s"] / 1e6 for r in runs if "jobs/s" in r.metrics
    ]
    return f"{statistics.median(busy):.2f}" if busy else ""


def other_load(runs: list[Result]) -> float:
    """Median cores kept busy by processes outside the benchmark during the runs."""
    return statistics.median(r.other_cores for r in runs) if runs else 0.0


def problems(results: dict[str, list[Result]]) -> list[str]:
    return [
        f"{name} run {n + 1}: {problem}"
        for name, runs in results.items()
        for n, run in enumerate(runs)
        for problem in run.problems
    ]


def verdict(label: str, measured: float, goal: float, higher_is_better: bool = True) -> str:
    if math.isnan(measured):
        return f"{label}: not measured"
    met = measured >= goal if higher_is_better else measured <= goal
    share = measured / goal * 100
    return f"{label}: {_number(measured)} ({share:.0f} % of goal) {'MET' if met else 'NOT MET'}"


def _output(*command: str) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip()


def redis_version() -> str:
    """The version of the redis-server the benchmarks start, or ``?``."""
    version = _output(find_redis_server(), "--version")
    return next((w[2:] for w in version.split() if w.startswith("v=")), "?")


def machine(*software: str) -> str:
    """The line every bench prints first: machine, cores, load, Python, redis-server,
    ``software`` (more "name version" parts) and the code measured."""
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    parts = [f"Python {platform.python_version()}", *software]
    parts += [f"redis-server {redis_version()}", f"code {code_version()}"]
    return f"machine: {platform.machine()}, {CORES} cores, load average {load}; " + "; ".join(parts)


def code_version() -> str:
    """The commit measured, with a note when tracked files have uncommitted changes."""
    commit = _output("git", "rev-parse", "--short", "HEAD") or "?"
    if _output("git", "status", "--porcelain", "--untracked-files=no"):
        commit += " + uncommitted changes"
    return commit
