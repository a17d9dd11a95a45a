"""Throughput and pickup latency of ``echo`` jobs, end to end, on real processes.

    .venv/bin/python -m bench.throughput            # the full run (~2-3 minutes)
    .venv/bin/python -m bench.throughput --quick    # a smoke run (< 30 s)
    .venv/bin/python -m bench.throughput --celery   # also the Celery 5 baseline

Starts its own redis-server, consumer processes (``python -m consumers echo``) and a
uvicorn gateway, fresh for every run, and prints the median, min and max of each row.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from bench import report
from bench.measure import Result, quiet_machine
from bench.plan import NAMES, Measurement, plan, summary
from bench.processes import redis_server


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.throughput",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--runs", type=int, default=3, help="repetitions of each measurement (3)")
    add("--quick", action="store_true", help="smoke run: small counts, one run")
    add("--jobs", type=int, default=10_000, help="jobs per end-to-end run (10000)")
    add("--submit-jobs", type=int, default=10_000, help="jobs per HTTP submission run")
    add("--latency-jobs", type=int, default=1_000, help="jobs per latency run (1000)")
    add("--latency-rate", type=float, default=200.0, help="jobs/s in latency runs (200)")
    add("--concurrency", type=int, default=256, help="consumer --concurrency (256, as in Procfile)")
    add("--submitters", type=int, default=64, help="concurrent Python submitters (64)")
    add("--connections", type=int, default=64, help="HTTP keep-alive connections (64)")
    add(
        "--only",
        default="",
        help=f"comma-separated measurements to run (default all): {','.join(NAMES)}",
    )
    add("--log-level", default=None, help="LOG_LEVEL for consumers and gateway (product default)")
    add("--gateway-args", default="", help="extra uvicorn arguments, e.g. '--no-access-log'")
    add("--server-python", default=None, help="interpreter for consumers and gateway")
    add("--celery", action="store_true", help="also run the Celery 5 baseline")
    add("--celery-python", default=None, help="interpreter with celery installed")
    add("--celery-pool", default="prefork", help="celery worker --pool (prefork)")
    add("--celery-concurrency", type=int, default=None, help="default: --concurrency, at most 64")
    add("--celery-jobs", type=int, default=3_000, help="jobs per Celery run (3000)")
    add(
        "--settle",
        type=float,
        default=0.0,
        help="before each run, wait up to this many seconds for other processes to go quiet",
    )
    add("--workdir", type=Path, default=None, help="keep Redis data and logs here")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs = 1
        args.jobs = args.submit_jobs = 1_000
        args.latency_jobs, args.celery_jobs = 200, 300
    return args


async def run_all(
    measurements: list[Measurement], runs: int, workdir: Path, settle: float
) -> dict[str, list[Result]]:
    """Every measurement ``runs`` times, round-robin so slow drift hits all rows alike."""
    results: dict[str, list[Result]] = {m.name: [] for m in measurements}
    with redis_server(workdir) as server:
        for run in range(runs):
            for measurement in measurements:
                if settle:
                    await quiet_machine(settle)
                began = time.monotonic()
                result = await measurement.run(server, workdir)
                results[measurement.name].append(result)
                shown = ", ".join(f"{k} {v:,.1f}" for k, v in result.metrics.items())
                took = time.monotonic() - began
                line = f"  run {run + 1}/{runs} {measurement.name:8} {shown}  ({took:.1f} s)"
                print(line, file=sys.stderr, flush=True)
    return results


def describe(args: argparse.Namespace) -> str:
    """What was measured: the machine, the code (commit, uncommitted changes), the settings."""
    return (
        f"{report.machine()}\n"
        f"runs {args.runs}; {args.jobs:,} jobs per e2e run, {args.submit_jobs:,} per submit run;"
        f" {args.submitters} Python submitters, {args.connections} HTTP connections;"
        f" consumer --concurrency {args.concurrency}; LOG_LEVEL {args.log_level or 'default'};"
        f" uvicorn args {args.gateway_args or '(none, as in the Procfile)'}"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    measurements = plan(args)
    print(describe(args), flush=True)
    with tempfile.TemporaryDirectory(prefix="sluice-bench-") as scratch:
        workdir = args.workdir or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        results = asyncio.run(run_all(measurements, args.runs, workdir, args.settle))
    print(flush=True)
    print(report.table([row for m in measurements for row in m.rows], results))
    print()
    for line in summary(results):
        print(line)
    found = report.problems(results)
    for line in found:
        print(f"PROBLEM: {line}")
    sys.stdout.flush()
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
