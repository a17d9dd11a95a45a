"""Pages per second of document jobs through the whole system, next to the same functions
called directly in this process; and what the warm child processes save.

    .venv/bin/python -m bench.documents            # the full run, 9 runs per row (~16 min)
    .venv/bin/python -m bench.documents --quick    # a smoke run, 1 small run per row (< 1 min)

Direct: ``ingest_document`` / ``render_pages`` called in this process, one job after the
other, on the same bytes and options. System: one redis-server and one consumer process
(``python -m consumers ingest render --concurrency 1``), the jobs submitted through
``Sluice.submit_document`` while the consumer is stopped; its time runs from continuing
it to the last ``finished_at``. Each row runs in blocks of jobs that alternate between
the two sides.
A run's overhead % = (direct pages/s / system pages/s - 1) * 100; a row's is the median
of its runs'; the goal is under 5 %.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import functools
import gc
import importlib
import os
import sys
import tempfile
import time
from pathlib import Path

import pymupdf

from bench import report
from bench.document_cold import COLD_IMPORTS, Fixed, cold_import, fixed_cost, tiny_pdf
from bench.document_processes import consumer_meter, start_consumer, warm_processes, without_uvloop
from bench.document_report import (
    cold_table,
    main_table,
    overhead,
    problems,
    summary,
    time_table,
)
from bench.document_runs import RowRun, run_row
from bench.document_workloads import DATA, FUNCTIONS, NAMES, WORKLOADS, Workload, call_directly
from bench.measure import quiet_machine
from bench.processes import ROOT, Stack, redis_server, stack
from consumers.child import reuse_freed_memory
from shared.client import Sluice
from shared.functions import registered_functions
from shared.settings import Settings


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.documents",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--runs", type=int, default=9, help="repetitions of each row (9)")
    add("--quick", action="store_true", help="smoke run: a quarter of the jobs, one run")
    add("--scale", type=float, default=1.0, help="multiply every row's job count (1)")
    add("--only", default="", help=f"comma-separated rows (default all): {','.join(NAMES)}")
    add("--cold-runs", type=int, default=5, help="fresh interpreters per import row (5)")
    add("--tiny-jobs", type=int, default=20, help="tiny 1-page jobs for the fixed cost (20)")
    add(
        "--settle",
        type=float,
        default=0.0,
        help="before each row, wait up to this many seconds for other processes to go quiet",
    )
    add(
        "--no-uvloop",
        action="store_true",
        help="run the consumer on asyncio's own loop (uvloop made unimportable for it)",
    )
    add(
        "--direct-default-malloc",
        action="store_true",
        help="leave the direct side on glibc's default malloc settings (warm children keep"
        " freed memory for the next job; by default the direct side does the same)",
    )
    add("--workdir", type=Path, default=None, help="keep Redis data and logs here")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.scale = 1, args.scale / 4
        args.cold_runs, args.tiny_jobs = 3, 8
    unknown = set(filter(None, args.only.split(","))) - set(NAMES)
    if unknown:
        parser.error(f"unknown rows: {', '.join(sorted(unknown))}")
    return args


def workloads_of(args: argparse.Namespace) -> list[Workload]:
    only = set(filter(None, args.only.split(",")))
    return [w.scaled(args.scale) for w in WORKLOADS if not only or w.name in only]


@dataclasses.dataclass
class Outcome:
    rows: dict[str, list[RowRun]]
    fixed: Fixed
    processes: list[tuple[int, int, str, float]]


def prepare_direct_side(direct_default_malloc: bool) -> None:
    """Make this process run the functions as a warm child does."""
    if not direct_default_malloc:
        reuse_freed_memory()  # the direct side allocates as a warm child does
    call_directly("ingest", tiny_pdf(), {})  # imports and first-call set-up, untimed
    # As a warm child does after importing what the functions preload (OpenCV is imported
    # lazily, by the first raster page): collections skip what is loaded (without it, the
    # direct side's collections walk PyMuPDF's, OpenCV's and this program's objects).
    functions = registered_functions()
    for module in {module for name in FUNCTIONS for module in functions[name].preload}:
        importlib.import_module(module)
    gc.freeze()


async def run_all(args: argparse.Namespace, workloads: list[Workload], workdir: Path) -> Outcome:
    """Every row ``runs`` times, round-robin; a fresh consumer (and namespace) per round."""
    files = {w.file: (DATA / w.file).read_bytes() for w in workloads}
    prepare_direct_side(args.direct_default_malloc)
    outcome = Outcome({w.name: [] for w in workloads}, Fixed(), [])
    with redis_server(workdir) as server:
        for run in range(args.runs):
            with stack(Stack(server, workdir)) as running:
                if args.no_uvloop:
                    running.env["PYTHONPATH"] = f"{without_uvloop(workdir)}{os.pathsep}{ROOT}"
                consumer = start_consumer(running)
                async with Sluice.connect(Settings.from_env(running.env)) as sluice:
                    await fixed_cost(sluice, args.tiny_jobs, outcome.fixed)
                    if run == 0:
                        outcome.processes = warm_processes(consumer)
                    for n, workload in enumerate(workloads):
                        if args.settle:
                            await quiet_machine(args.settle)
                        began = time.monotonic()
                        row = await run_row(
                            sluice,
                            consumer,
                            workload,
                            files[workload.file],
                            functools.partial(consumer_meter, running, consumer),
                            system_first=(run + n) % 2 == 1,
                        )
                        outcome.rows[workload.name].append(row)
                        _progress(run, args.runs, workload, row, began)
    return outcome


def _progress(run: int, runs: int, workload: Workload, row: RowRun, began: float) -> None:
    d = row.direct.metrics.get("pages/s", float("nan"))
    s = row.system.metrics.get("pages/s", float("nan"))
    line = (
        f"  run {run + 1}/{runs} {workload.name:22} direct {d:7.2f} pages/s, system {s:7.2f}"
        f" pages/s, overhead {overhead(d, s):+5.1f} %  ({time.monotonic() - began:.1f} s)"
    )
    print(line, file=sys.stderr, flush=True)


def describe(args: argparse.Namespace) -> str:
    """What was measured: the machine, the code, the settings."""
    loop = "asyncio's loop (--no-uvloop)" if args.no_uvloop else "uvloop if installed (as shipped)"
    malloc = (
        "glibc's default malloc settings (--direct-default-malloc)"
        if args.direct_default_malloc
        else "the warm children's malloc settings"
    )
    return (
        f"{report.machine(f'PyMuPDF {pymupdf.VersionBind}')}\n"
        f"runs {args.runs}; job counts x{args.scale:g}; one consumer"
        f" ({' '.join(FUNCTIONS)} --concurrency 1), a fresh one per round, on"
        f" {loop}; one untimed first-page job per row and side before timing;"
        f" direct side on {malloc}"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    workloads = workloads_of(args)
    print(describe(args), flush=True)
    print("  cold imports ...", file=sys.stderr, flush=True)
    colds = [cold_import(code, args.cold_runs) for code in COLD_IMPORTS]
    with tempfile.TemporaryDirectory(prefix="sluice-bench-") as scratch:
        workdir = args.workdir or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        outcome = asyncio.run(run_all(args, workloads, workdir))
    print(flush=True)
    print(main_table(workloads, outcome.rows))
    print()
    print(time_table(workloads, outcome.rows))
    print()
    print(f"cold start (fresh interpreters, median of {args.cold_runs}) vs warm children")
    print(cold_table(colds, outcome.fixed, outcome.processes))
    print()
    for line in summary(workloads, outcome.rows):
        print(line)
    found = problems(outcome.rows, outcome.fixed)
    for line in found:
        print(f"PROBLEM: {line}")
    sys.stdout.flush()
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
