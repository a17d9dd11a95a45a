"""The Redis Cluster scaling curve: echo-like jobs/s on 1, 2 and 3 masters.

    .venv/bin/python -m bench.cluster_scaling              # 3 runs per master count
    .venv/bin/python -m bench.cluster_scaling --quick      # a smoke run (< 1 minute)

For each master count a cluster of that many masters (bench/cluster_nodes.py) serves one
function per master (bench/cluster_functions.py, the name chosen with CLUSTER KEYSLOT so
that its slot is on that master), each consumed by one process (``python -m consumers
NAME``, REDIS_CLUSTER=1). ``Sluice.submit`` from concurrent tasks of this process spreads
the jobs over the functions in turn; jobs/s runs from the first submission to the last
``finished_at``. The three clusters run side by side, idle but for the one measured, and
the runs go round-robin over them so that drift on a shared machine hits all alike.

No replicas: a replica replays its master's writes, so it adds CPU per job to every
curve point alike and says nothing about how masters scale; on two cores it would only
take CPU from the processes measured. CPU us per job per role (the nodes summed, the
consumers summed, ``bench``: the submitting process) says what a bigger machine would
need; the last column is the jobs/s that the nodes and consumers would reach with a core
each (the submitters, then, a core per 1e6 / bench us/job jobs/s).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import math
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from bench import report
from bench.cluster_nodes import BenchCluster, ClusterStack
from bench.measure import CpuMeter, Result, drain, payload, quiet_machine, succeeded
from bench.processes import stack
from shared.client import Sluice
from shared.settings import Settings

ROLES = ("redis", "consumer", "bench")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.cluster_scaling",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--runs", type=int, default=3, help="runs per master count (3)")
    add("--jobs", type=int, default=10_000, help="jobs per run (10000)")
    add("--quick", action="store_true", help="smoke run: 1,000 jobs, one run")
    add("--masters", default="1,2,3", help="master counts to measure (1,2,3)")
    add("--concurrency", type=int, default=256, help="consumer --concurrency (256)")
    add("--submitters", type=int, default=64, help="concurrent Sluice.submit tasks (64)")
    add("--log-level", default=None, help="LOG_LEVEL of the consumers (product default)")
    add("--settle", type=float, default=0.0, help="wait up to S s for a quiet machine per run")
    add("--workdir", type=Path, default=None, help="keep node data and logs here")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.jobs = 1, 1_000
    args.masters = [int(m) for m in args.masters.split(",")]
    return args


async def submit_spread(
    sluice: Sluice, functions: Sequence[str], jobs: int, tasks: int
) -> list[str]:
    """``jobs`` Sluice.submit calls from ``tasks`` concurrent tasks, job n to function
    n mod len(functions); their job ids."""
    job_ids = [""] * jobs
    counter = iter(range(jobs))

    async def submitter() -> None:
        for index in counter:
            function = functions[index % len(functions)]
            job_ids[index] = (await sluice.submit(function, payload(index))).job_id

    await asyncio.gather(*(submitter() for _ in range(min(tasks, jobs))))
    return job_ids


async def one_run(
    cluster: BenchCluster, functions: Sequence[str], workdir: Path, args: argparse.Namespace
) -> Result:
    """Fresh consumers on a fresh namespace, ``args.jobs`` jobs, until all have ended."""
    env = {"FUNCTION_MODULES": "bench.cluster_functions"}
    if args.log_level:
        env["LOG_LEVEL"] = args.log_level
    running = ClusterStack(cluster, workdir, env)
    with stack(running):
        for function in functions:
            running.start_consumers(1, args.concurrency, (function,))
        running.wait_ready(1, None, functions=functions)
        async with Sluice.connect(Settings.from_env(running.env)) as sluice:
            meter = CpuMeter(running)
            meter.start()
            job_ids = await submit_spread(sluice, functions, args.jobs, args.submitters)
            await drain(sluice.redis, running.namespace, functions)
            result = meter.stop(len(job_ids))
            times = await succeeded(sluice.redis, running.namespace, job_ids, len(job_ids), result)
            finished = [t.finished for t in times]
    last = max(finished, default=meter.wall)
    result.metrics["jobs/s"] = len(finished) / max(last - meter.wall, 1e-3)
    return result


@contextlib.contextmanager
def clusters(masters: Sequence[int], workdir: Path) -> Iterator[dict[int, BenchCluster]]:
    started: dict[int, BenchCluster] = {}
    try:
        for count in masters:
            started[count] = BenchCluster(workdir / f"masters{count}", count)
            started[count].start()
        yield started
    finally:
        for cluster in started.values():
            cluster.stop()


async def run_all(
    started: dict[int, BenchCluster], workdir: Path, args: argparse.Namespace
) -> dict[int, list[Result]]:
    chosen = {count: cluster.functions_per_master() for count, cluster in started.items()}
    for count, functions in chosen.items():
        slots = ", ".join(f"{f} (slot {started[count].slot_of(f)})" for f in functions)
        print(f"{count} master(s): {slots}", flush=True)
    results: dict[int, list[Result]] = {count: [] for count in started}
    for run, count in itertools.product(range(args.runs), started):
        if args.settle:
            await quiet_machine(args.settle)
        began = time.monotonic()
        result = await one_run(started[count], chosen[count], workdir, args)
        results[count].append(result)
        took = time.monotonic() - began
        print(
            f"  run {run + 1}/{args.runs} {count} master(s): {result.metrics['jobs/s']:,.0f}"
            f" jobs/s, other load {result.other_cores:.2f} cores ({took:.1f} s)",
            file=sys.stderr,
            flush=True,
        )
    return results


def role_us(runs: list[Result], role: str) -> float:
    return report.median(r.cpu_us.get(role, float("nan")) for r in runs)


def ceiling(masters: int, runs: list[Result]) -> float:
    """jobs/s with a core for each node and consumer: each serves 1/masters of the jobs."""
    busiest = max(role_us(runs, "redis"), role_us(runs, "consumer"))
    return masters * 1e6 / busiest


def table(results: dict[int, list[Result]]) -> str:
    header = ["masters", "jobs/s", "min", "max", "x 1 master"]
    header += [f"{role} us/job" for role in ROLES]
    header += ["busy cores", "other load", "ceiling, a core each"]
    lines = [header]
    base = report.median(r.metrics["jobs/s"] for r in results.get(1, []))
    for count, runs in results.items():
        rates = [r.metrics["jobs/s"] for r in runs]
        median = report.median(rates)
        busy = report.median(sum(r.cpu_us.values()) * r.metrics["jobs/s"] / 1e6 for r in runs)
        lines.append([
            str(count),
            f"{median:,.0f}",
            f"{min(rates):,.0f}",
            f"{max(rates):,.0f}",
            "-" if math.isnan(base) else f"{median / base:.2f}",
            *(f"{role_us(runs, role):.0f}" for role in ROLES),
            f"{busy:.2f}",
            f"{report.other_load(runs):.2f}",
            f"{ceiling(count, runs):,.0f}",
        ])  # fmt: skip
    return report.columns(lines, set(range(len(header))) - {0})


def describe(args: argparse.Namespace) -> str:
    return (
        f"{report.machine()}\n"
        f"runs {args.runs}; {args.jobs:,} jobs per run; {args.submitters} submit tasks in one"
        f" process; one consumer process per function, --concurrency {args.concurrency};"
        f" LOG_LEVEL {args.log_level or 'default'}; no replicas"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    print(describe(args), flush=True)
    with tempfile.TemporaryDirectory(prefix="sluice-cluster-bench-") as scratch:
        workdir = args.workdir or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        with clusters(args.masters, workdir) as started:
            results = asyncio.run(run_all(started, workdir, args))
    print()
    print(table(results))
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"\nload average after: {load}")
    found = report.problems({f"{count} master(s)": runs for count, runs in results.items()})
    for line in found:
        print(f"PROBLEM: {line}")
    sys.stdout.flush()
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
