"""The tables and the summary ``bench.documents`` prints: pages per second and the
platform's overhead per row, where the system's time goes, and cold start vs warm."""

from __future__ import annotations

from collections.abc import Sequence

from bench import report
from bench.document_cold import Cold, Fixed
from bench.document_runs import RowRun
from bench.document_workloads import Workload
from bench.report import columns, median

GOAL_OVERHEAD = 5.0  # percent: the platform's overhead on a document job
# The CPU roles of the system side, in the order the time table prints them.
ROLES = ("child", "consumer", "redis", "bench")


def overhead(direct: float, system: float) -> float:
    return (direct / system - 1) * 100 if system > 0 else float("nan")


def paired_overheads(runs: list[RowRun]) -> list[float]:
    """Each run's own overhead: its two sides ran in alternating blocks over the same
    seconds. Their median is the row's overhead; a ratio of the two sides' medians would
    pair a fast run's direct side with a slow run's system side."""
    return [
        overhead(r.direct.metrics["pages/s"], r.system.metrics["pages/s"])
        for r in runs
        if "pages/s" in r.direct.metrics and "pages/s" in r.system.metrics
    ]


def _metric(runs: list[RowRun], side: str, metric: str) -> list[float]:
    results = [getattr(r, side) for r in runs]
    return [r.metrics[metric] for r in results if metric in r.metrics]


def _cpu_ms(runs: list[RowRun], side: str, role: str) -> float:
    return median([getattr(r, side).cpu_us.get(role, float("nan")) / 1000 for r in runs])


def _number(value: float, digits: int = 1) -> str:
    return "-" if value != value else f"{value:,.{digits}f}"


def _table(header: Sequence[str], lines: list[list[str]], left: int) -> str:
    """The first ``left`` columns left-aligned, the rest right-aligned."""
    return columns([list(header), *lines], range(left, len(header)))


def main_table(workloads: list[Workload], rows: dict[str, list[RowRun]]) -> str:
    header = ("workload", "function", "source", "dpi", "jobs", "pages", "direct pages/s",
              "system pages/s", "overhead %", "goal", "per run %", "runs", "failed/wrong",
              "other load")  # fmt: skip
    lines = []
    for w in workloads:
        runs = rows[w.name]
        direct, system = _metric(runs, "direct", "pages/s"), _metric(runs, "system", "pages/s")
        paired = paired_overheads(runs)
        spread = f"{min(paired):+.1f}..{max(paired):+.1f}" if paired else "-"
        failed = sum(_metric(runs, "system", "failed"))
        others = [r.direct.other_cores for r in runs] + [r.system.other_cores for r in runs]
        lines.append([
            w.name, w.function, w.kind, str(w.dpi or "n/a"), str(w.jobs),
            str(w.jobs * w.pages), _number(median(direct), 2), _number(median(system), 2),
            _number(median(paired)), f"< {GOAL_OVERHEAD:g} %",
            spread, str(len(paired)), f"{failed:.0f} of {w.jobs * len(runs)}",
            _number(median(others), 2),
        ])  # fmt: skip
    return _table(header, lines, left=3)


def time_table(workloads: list[Workload], rows: dict[str, list[RowRun]]) -> str:
    """Where the system's time per job goes, and CPU per job by process (medians)."""
    header = ("workload", "direct ms/job", "system ms/job", "extra ms/job", "running",
              "between jobs", "CPU ms/job direct", "CPU ms/job system",
              "CPU overhead %")  # fmt: skip
    lines = []
    for w in workloads:
        runs = rows[w.name]
        direct = median(_metric(runs, "direct", "ms/job"))
        system = median(_metric(runs, "system", "ms/job"))
        cpu = " ".join(f"{role} {_number(_cpu_ms(runs, 'system', role))}" for role in ROLES)
        cpu_direct = _cpu_ms(runs, "direct", "bench")
        cpu_system = median([
            sum(r.system.cpu_us.get(role, 0.0) for role in ROLES) / 1000
            for r in runs
            if "pages/s" in r.system.metrics
        ])  # fmt: skip
        lines.append([
            w.name, _number(direct), _number(system), _number(system - direct),
            _number(median(_metric(runs, "system", "running ms/job"))),
            _number(median(_metric(runs, "system", "gap ms/job"))),
            _number(cpu_direct), cpu, _number((cpu_system / cpu_direct - 1) * 100),
        ])  # fmt: skip
    return _table(header, lines, left=1)


def cold_table(
    colds: list[Cold], fixed: Fixed, processes: list[tuple[int, int, str, float]]
) -> str:
    header = ("what", "median", "max RSS MB")
    lines = [[c.label, f"{c.seconds * 1000:,.0f} ms", f"{c.rss_mb:,.0f}"] for c in colds]
    direct, e2e = median(fixed.direct), median(fixed.e2e)
    runs = len(fixed.first)
    lines += [
        [f"tiny 1-page ingest, direct in this process ({len(fixed.direct)} jobs)",
         f"{_number(direct, 2)} ms", ""],
        [f"tiny 1-page ingest, system: submit -> succeeded ({len(fixed.e2e)} jobs)",
         f"{_number(e2e, 1)} ms", ""],
        ["  of which queued -> running (pickup)", f"{_number(median(fixed.pickup))} ms", ""],
        ["  of which running -> succeeded", f"{_number(median(fixed.running))} ms", ""],
        [f"  first job on a fresh consumer ({runs} consumers)",
         f"{_number(median(fixed.first))} ms", ""],
        ["per-job fixed cost in the system (system - direct)", f"{_number(e2e - direct)} ms", ""],
    ]  # fmt: skip
    for _, _, role, rss in processes:
        lines.append([f"warm process RSS: {role}", "", f"{rss:,.0f}"])
    return _table(header, lines, left=1)


def summary(workloads: list[Workload], rows: dict[str, list[RowRun]]) -> list[str]:
    lines = []
    for w in workloads:
        value = median(paired_overheads(rows[w.name]))
        if value != value:
            lines.append(f"{w.name}: overhead not measured")
            continue
        met = "MET" if value < GOAL_OVERHEAD else "NOT MET"
        lines.append(f"{w.name}: overhead {value:+.1f} % (goal < {GOAL_OVERHEAD:g} %) {met}")
    broken = [w.name for w in workloads if sum(_metric(rows[w.name], "system", "failed"))]
    if broken:
        lines.append(
            f"failed jobs or wrong results in: {', '.join(broken)} (PROBLEM lines below);"
            " the runs they happened in are left out of pages/s"
        )
    others = [
        side.other_cores for runs in rows.values() for r in runs for side in (r.direct, r.system)
    ]
    if median(others) > report.NOISY_CORES:
        lines.append(
            f"note: other processes kept {median(others):.2f} cores busy (median; up to"
            f" {max(others):.2f}) of {report.CORES} during the runs: pages/s are understated"
            " and overhead % is noisy; CPU ms/job is the steadier figure (--settle waits)"
        )
    return lines


def problems(rows: dict[str, list[RowRun]], fixed: Fixed) -> list[str]:
    """Every side's problems, by row and run, then the tiny ingests'."""
    return [
        f"{name} run {n + 1}: {side}: {problem}"
        for name, runs in rows.items()
        for n, run in enumerate(runs)
        for side, result in (("direct", run.direct), ("system", run.system))
        for problem in result.problems
    ] + fixed.problems
