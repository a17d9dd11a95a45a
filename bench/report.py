"""The results table: median, min and max per row, CPU per job by process, and the goals."""

from __future__ import annotations

import dataclasses
import math
import os
import statistics

from bench.measure import Result

CORES = os.cpu_count() or 1
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


def median_of(results: list[Result], metric: str) -> float:
    values = [r.metrics[metric] for r in results if metric in r.metrics]
    return statistics.median(values) if values else float("nan")


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
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADER))]
    out = []
    for n, line in enumerate(lines):
        cells = [
            cell.rjust(width) if i in _NUMERIC else cell.ljust(width)
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
