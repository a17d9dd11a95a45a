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
import contextlib
import dataclasses
import gc
import importlib
import itertools
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pymupdf
import redis

from bench import report
from bench.measure import Result, quiet_machine
from bench.processes import ROOT, Stack, cpu_seconds, stack
from consumers.child import reuse_freed_memory
from documents.functions import LIMITS
from documents.ingest import IngestOptions, ingest_document
from documents.render import render_pages
from shared.client import Sluice
from shared.embedded import RedisServer, find_redis_server
from shared.errors import SluiceError
from shared.functions import registered_functions
from shared.jobs import SUCCEEDED, JobStatus
from shared.keys import GROUP, keys_for
from shared.settings import Settings

DATA = ROOT / "tests" / "data"
FUNCTIONS = ("ingest", "render")
GOAL_OVERHEAD = 5.0  # percent: the platform's overhead on a document job
# Other processes busier than this (in cores) during a row make its numbers pessimistic.
NOISY_CORES = 0.25
# A block of system jobs gets SLACK seconds + PATIENCE times the direct time, then its
# unfinished jobs are cancelled (a broken system must not hold the run for many minutes).
SLACK, PATIENCE = 10.0, 4.0
_TICKS = os.sysconf("SC_CLK_TCK")


@dataclasses.dataclass(frozen=True)
class Workload:
    """One row: ``jobs`` jobs of ``function`` on one file, each ``pages`` pages long, run
    in blocks of ``block`` jobs that alternate between the two sides."""

    name: str
    function: str
    file: str
    kind: str  # "vector" or "raster" pages
    dpi: int | None  # None: ingest of vector pages, where dpi does not apply
    jobs: int
    block: int
    pages: int

    @property
    def params(self) -> dict[str, Any]:
        return {} if self.dpi is None else {"dpi": self.dpi}

    @property
    def warm_params(self) -> dict[str, Any]:
        """The untimed warm-up job: the first page only."""
        return {**self.params, "first_page": 1, "last_page": 1}

    def scaled(self, factor: float) -> Workload:
        blocks = max(1, round(self.jobs * factor / self.block))
        return dataclasses.replace(self, jobs=blocks * min(self.block, self.jobs))


RANCH = "cfast_UL_NIJ_Ranch_layout.pdf"  # 1 vector page
BOPTEST = "boptest_Detached_house_plan_and_section.pdf"  # 2 vector pages, A3
VICKSBURG = "Seige_of_Vicksburg_Sample_OCR.pdf"  # 6 scanned pages
# Each side of a row takes about 2-5 s on the 2-core development machine, in blocks of
# about half a second or one job: this machine's speed drifts by 10-20 % within seconds,
# and alternating small blocks keeps that drift out of the comparison.
WORKLOADS = (
    Workload("ingest-vector-ranch", "ingest", RANCH, "vector", None, 40, 8, 1),
    Workload("ingest-vector-boptest", "ingest", BOPTEST, "vector", None, 12, 2, 2),
    Workload("ingest-raster-150", "ingest", VICKSBURG, "raster", 150, 2, 1, 6),
    Workload("ingest-raster-300", "ingest", VICKSBURG, "raster", 300, 2, 1, 6),
    Workload("render-vector-150", "render", RANCH, "vector", 150, 48, 12, 1),
    Workload("render-vector-300", "render", RANCH, "vector", 300, 12, 3, 1),
    Workload("render-raster-150", "render", VICKSBURG, "raster", 150, 6, 1, 6),
    Workload("render-raster-300", "render", VICKSBURG, "raster", 300, 3, 1, 6),
)
NAMES = tuple(w.name for w in WORKLOADS)


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


# Direct: the functions in this process


class DirectJob:
    """The JobContext a handler gets, for a direct call: artifacts are kept in memory."""

    def __init__(self, document: bytes) -> None:
        self.job_id = "render-direct"
        self.attempt = 1
        self._document = document
        self.artifacts: dict[str, bytes] = {}

    def progress(self, percent: float, message: str = "") -> None:
        pass

    def document(self) -> bytes:
        return self._document

    def save_artifact(self, name: str, data: bytes, content_type: str) -> str:
        self.artifacts[name] = data
        return name


def _no_progress(percent: float, message: str) -> None:
    pass


def call_directly(function: str, data: bytes, params: dict[str, Any]) -> dict[str, Any]:
    """What the registered handler does, without the platform around it."""
    if function == "ingest":
        return ingest_document(data, IngestOptions(**params), _no_progress, LIMITS)
    return render_pages(
        DirectJob(data),
        params.get("first_page", 1),
        params.get("last_page"),
        params.get("dpi", 150),
        LIMITS,
    )


def pages_of(result: Any) -> int:
    return len(result.get("pages", [])) if isinstance(result, dict) else 0


# Measuring CPU: the consumer process apart from its children


def process_cpu(pid: int | None) -> float:
    """CPU seconds (user + system) of one process alone; 0 once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def machine_busy() -> float:
    """CPU seconds all processes of the machine have used (every field but idle, iowait)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(fields) - fields[3] - fields[4]) / _TICKS


class Meter:
    """CPU seconds by role (bench: this process; redis; consumer: the consumer process;
    child: its forkserver and warm children) and the cores other processes kept busy,
    summed over the intervals between resume() and pause()."""

    def __init__(self, running: Stack, consumer_pid: int) -> None:
        self.redis_pid = running.server.process.pid if running.server.process else None
        self.consumer_pid = consumer_pid
        self.used: dict[str, float] = {}
        self.wall = self.machine = 0.0
        self._start: tuple[float, float, dict[str, float]] = (0.0, 0.0, {})

    def _now(self) -> tuple[float, float, dict[str, float]]:
        consumer = process_cpu(self.consumer_pid)
        tree = cpu_seconds({self.consumer_pid: "tree"}).get("tree", 0.0)
        roles = {
            "bench": time.process_time(),
            "redis": process_cpu(self.redis_pid),
            "consumer": consumer,
            "child": tree - consumer,
        }
        return time.monotonic(), machine_busy(), roles

    def resume(self) -> None:
        self._start = self._now()

    def pause(self) -> None:
        (wall, machine, roles), (wall0, machine0, roles0) = self._now(), self._start
        self.wall += wall - wall0
        self.machine += machine - machine0
        for role, seconds in roles.items():
            self.used[role] = self.used.get(role, 0.0) + max(0.0, seconds - roles0[role])

    def result(self, jobs: int) -> Result:
        """CPU microseconds per job by role, and the other load, so far."""
        others = max(0.0, self.machine - sum(self.used.values())) / max(self.wall, 1e-3)
        per_job = {role: seconds * 1e6 / max(jobs, 1) for role, seconds in self.used.items()}
        return Result({}, per_job, others)


# One row, one run: blocks of jobs, alternating between the sides


def _epoch(iso: str | None) -> float:
    return datetime.fromisoformat(iso).timestamp() if iso else float("nan")


@dataclasses.dataclass
class RowRun:
    """One run of one row: both sides' results."""

    direct: Result
    system: Result


@dataclasses.dataclass
class Side:
    """What one side of a row has measured so far, block by block."""

    meter: Meter
    seconds: float = 0.0
    jobs: int = 0
    pages: int = 0
    failed: int = 0
    running: list[float] = dataclasses.field(default_factory=list)
    gaps: list[float] = dataclasses.field(default_factory=list)
    problems: list[str] = dataclasses.field(default_factory=list)

    def result(self, workload: Workload) -> Result:
        result = self.meter.result(self.jobs)
        result.problems = self.problems
        if self.failed:
            result.metrics["failed"] = self.failed
        elif self.jobs:
            result.metrics["pages/s"] = self.pages / max(self.seconds, 1e-3)
            result.metrics["ms/job"] = self.seconds * 1000 / self.jobs
            if self.running:
                result.metrics["running ms/job"] = statistics.mean(self.running) * 1000
            if self.gaps:
                result.metrics["gap ms/job"] = statistics.mean(self.gaps) * 1000
        return result


def direct_block(workload: Workload, data: bytes, jobs: int, side: Side) -> None:
    """``jobs`` jobs one after the other in this process."""
    side.meter.resume()
    began = time.perf_counter()
    pages = [pages_of(call_directly(workload.function, data, workload.params)) for _ in range(jobs)]
    side.seconds += time.perf_counter() - began
    side.meter.pause()
    side.jobs += jobs
    side.pages += sum(pages)
    if sum(pages) != jobs * workload.pages:
        side.problems.append(f"{sum(pages)} pages, expected {jobs * workload.pages}")
        side.failed += 1


async def _finished(
    sluice: Sluice, job_ids: Sequence[str], deadline: float, side: Side, quiet: float = 0.0
) -> list[JobStatus]:
    """Wait for every job until ``deadline`` (time.monotonic), then cancel the rest; the
    jobs that did not succeed are noted as failed. Nothing is read for the first ``quiet``
    seconds: on the 2-core development machine, a process waking every 20 ms on the other
    core slowed a render by ~7 % (a client polls from another machine in production)."""
    await asyncio.sleep(quiet)
    done = []
    # The last job first: the others are done by then (one consumer slot, in order), so
    # this process does not poll all along, taking CPU from the system it measures (its
    # times come from the status hashes, not from when this notices them).
    order = [*job_ids[-1:], *job_ids[:-1]]
    for n, job_id in enumerate(order):
        try:
            left = max(0.1, deadline - time.monotonic())
            status = await sluice.wait(job_id, timeout=left, poll=0.02)
        except TimeoutError:
            late = order[n:]
            side.problems.append(f"{len(late)} jobs not finished in time, cancelled")
            side.failed += len(late)
            await _cancel(sluice, late)
            break
        if status.status == SUCCEEDED:
            done.append(status)
        else:
            error = f"{status.error.type}: {status.error.message}" if status.error else ""
            side.problems.append(f"job {job_id} {status.status} {error}")
            side.failed += 1
    return done


async def _cancel(sluice: Sluice, job_ids: Sequence[str]) -> None:
    """Cancel jobs and wait until they have ended, so the next block starts on its own."""
    for job_id in job_ids:
        with contextlib.suppress(SluiceError):
            await sluice.cancel(job_id)
    for job_id in job_ids:
        with contextlib.suppress(SluiceError, TimeoutError):
            await sluice.wait(job_id, timeout=30)


async def _forget(sluice: Sluice, job_ids: Sequence[str]) -> None:
    """Delete the jobs' status, upload and artifacts: Redis stays small."""
    pipe = sluice.redis.pipeline(transaction=False)
    for job_id in job_ids:
        keys = keys_for(sluice.settings.namespace, job_id.split("-", 1)[0])
        pipe.delete(keys.job(job_id), keys.upload(job_id), keys.artifacts(job_id))
    await pipe.execute()


async def system_block(
    sluice: Sluice,
    workload: Workload,
    data: bytes,
    jobs: int,
    expected: float | None,
    side: Side,
) -> None:
    """Queue ``jobs`` jobs while the consumer is stopped (SIGSTOP), continue it and wait
    for all: the time from then to the last ``finished_at``, the consumer working through
    a queue. The submissions (this client's work and Redis storing the uploads, on other
    machines in production) took CPU from the block's first job here. Jobs unfinished
    after SLACK + PATIENCE x ``expected`` seconds (the direct time, if known yet) are
    cancelled and count as failed; their statuses are read from 0.9 x ``expected`` on."""
    consumer = side.meter.consumer_pid
    os.kill(consumer, signal.SIGSTOP)
    try:
        job_ids = [
            (await sluice.submit_document(workload.function, data, workload.params)).job_id
            for _ in range(jobs)
        ]
    finally:
        os.kill(consumer, signal.SIGCONT)
    side.meter.resume()
    patience = PATIENCE * (15.0 * jobs if expected is None else expected)
    began, deadline = time.time(), time.monotonic() + SLACK + patience
    done = await _finished(sluice, job_ids, deadline, side, quiet=0.9 * (expected or 0.0))
    side.meter.pause()
    await _forget(sluice, job_ids)
    side.jobs += jobs
    if not done:
        return
    done.sort(key=lambda s: _epoch(s.started_at))
    side.seconds += max(_epoch(s.finished_at) for s in done) - began
    for status in done:
        pages = pages_of(status.result_value())
        side.pages += pages
        if pages != workload.pages:  # a result that is not this job's
            side.problems.append(
                f"job {status.job_id} succeeded with {pages} pages, expected {workload.pages}"
            )
            side.failed += 1
    side.running += [_epoch(s.finished_at) - _epoch(s.started_at) for s in done]
    # From one job's finished_at to the next one's started_at: the consumer between jobs
    # (the completion script, XREADGROUP, the start script).
    side.gaps += [_epoch(b.started_at) - _epoch(a.finished_at) for a, b in itertools.pairwise(done)]


async def run_row(
    sluice: Sluice,
    workload: Workload,
    data: bytes,
    new_meter: Callable[[], Meter],
    system_first: bool,
) -> RowRun:
    """Warm both sides up (one untimed first-page job each), then the blocks, alternating
    which side goes first; a row whose system side fails stops after that block."""
    direct, system = Side(new_meter()), Side(new_meter())
    call_directly(workload.function, data, workload.warm_params)
    warm = await sluice.submit_document(workload.function, data, workload.warm_params)
    await _finished(sluice, [warm.job_id], time.monotonic() + 120, system)
    system.failed = 0  # a failed warm-up is noted as a problem, it is no timed job
    await _forget(sluice, [warm.job_id])
    left = workload.jobs
    for n in range(-(-workload.jobs // workload.block)):
        jobs, left = min(workload.block, left), left - workload.block
        if (n % 2 == 0) != system_first:
            direct_block(workload, data, jobs, direct)
        expected = direct.seconds / direct.jobs * jobs if direct.jobs else None
        await system_block(sluice, workload, data, jobs, expected, system)
        if (n % 2 == 0) == system_first:
            direct_block(workload, data, jobs, direct)
        if system.failed:
            break
    return RowRun(direct.result(workload), system.result(workload))


# The stack: one redis-server (shared), one consumer per round


def start_consumer(running: Stack, timeout: float = 60.0) -> int:
    """``python -m consumers ingest render --concurrency 1``; its pid once it reads."""
    proc = running.start("consumer", ["-m", "consumers", *FUNCTIONS, "--concurrency", "1"])
    client = redis.Redis.from_url(running.server.url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not proc.alive():
                raise RuntimeError(f"consumer exited:\n{proc.tail()}")
            if all(_reads(client, running.namespace, name) for name in FUNCTIONS):
                return proc.pid
            time.sleep(0.05)
    finally:
        client.close()
    raise TimeoutError(f"consumer not ready after {timeout}s:\n{proc.tail()}")


def _reads(client: redis.Redis, namespace: str, function: str) -> bool:
    try:
        return bool(client.xinfo_consumers(keys_for(namespace, function).stream, GROUP))
    except redis.exceptions.ResponseError:
        return False  # no stream or group yet


def without_uvloop(workdir: Path) -> Path:
    """A folder that, first on PYTHONPATH, makes ``import uvloop`` fail: the consumer then
    runs on asyncio's own event loop (``consumers.__main__.run``)."""
    shim = workdir / "no-uvloop"
    (shim / "uvloop").mkdir(parents=True, exist_ok=True)
    (shim / "uvloop" / "__init__.py").write_text(
        'raise ImportError("uvloop is switched off by bench.documents --no-uvloop")\n'
    )
    return shim


def _tree(root: int) -> list[tuple[int, int, str, float]]:
    """(pid, parent, role, RSS MB) of ``root`` and its descendants."""
    procs: dict[int, tuple[int, str, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        rss = int(fields.get("VmRSS", "0 kB").split()[0]) / 1024
        procs[int(entry.name)] = (int(fields["PPid"]), cmdline, rss)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        parent, cmdline, rss = procs[pid]
        if pid == root:
            role = "consumer"
        elif "resource_tracker" in cmdline:
            role = "resource tracker"
        elif parent == root:
            role = "forkserver"
        else:
            role = "warm child"
        found.append((pid, parent, role, rss))
        todo.extend(p for p, (pp, _, _) in procs.items() if pp == pid)
    return found


# Cold start: what a job would pay without warm children


@dataclasses.dataclass
class Cold:
    label: str
    seconds: float
    rss_mb: float


# Printed by each fresh interpreter as it ends: its own peak RSS in kB. (The rusage of a
# child is no good here: its max RSS starts at this process's size, inherited at fork.)
_PEAK_RSS = "\nprint(open('/proc/self/status').read().split('VmHWM:')[1].split()[0])"


def cold_import(code: str, runs: int) -> Cold:
    """Median wall time and peak RSS of ``python -c CODE`` in fresh interpreters."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    times, rss = [], []
    for _ in range(runs):
        began = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", code + _PEAK_RSS],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        times.append(time.perf_counter() - began)
        if done.returncode:
            raise RuntimeError(f"python -c {code!r} exited with {done.returncode}:{done.stderr}")
        rss.append(int(done.stdout.split()[-1]) / 1024)
    return Cold(f"python -c '{code}'", statistics.median(times), statistics.median(rss))


def tiny_pdf() -> bytes:
    """A 1-page vector PDF with one line and one text line: almost no work to ingest."""
    document = pymupdf.open()
    page = document.new_page(width=300, height=200)
    page.draw_line((20, 20), (280, 20), width=4)
    page.insert_text((20, 60), "tiny plan, scale 1:100")
    data = bytes(document.tobytes())
    document.close()
    return data


@dataclasses.dataclass
class Fixed:
    """Per-job fixed cost: a tiny ingest, direct and end to end (milliseconds)."""

    direct: list[float] = dataclasses.field(default_factory=list)
    e2e: list[float] = dataclasses.field(default_factory=list)
    pickup: list[float] = dataclasses.field(default_factory=list)
    running: list[float] = dataclasses.field(default_factory=list)
    first: list[float] = dataclasses.field(default_factory=list)
    problems: list[str] = dataclasses.field(default_factory=list)


async def fixed_cost(sluice: Sluice, jobs: int, fixed: Fixed) -> None:
    """Tiny ingests one at a time, submit to succeeded; the first one on a fresh consumer
    is kept apart (it shows whether the child was warm before its first job)."""
    data = tiny_pdf()
    job_ids = []
    for n in range(jobs + 1):
        began = time.time()
        job = await sluice.submit_document("ingest", data, {})
        job_ids.append(job.job_id)
        status = await sluice.wait(job.job_id, timeout=60, poll=0.002)
        if status.status != SUCCEEDED:
            fixed.problems.append(f"tiny ingest {status.status}: {status.error}")
            continue
        e2e = (_epoch(status.finished_at) - began) * 1000
        if n == 0:
            fixed.first.append(e2e)
            continue
        fixed.e2e.append(e2e)
        fixed.pickup.append((_epoch(status.started_at) - _epoch(status.created_at)) * 1000)
        fixed.running.append((_epoch(status.finished_at) - _epoch(status.started_at)) * 1000)
    await _forget(sluice, job_ids)
    for _ in range(jobs):
        began_direct = time.perf_counter()
        call_directly("ingest", data, {})
        fixed.direct.append((time.perf_counter() - began_direct) * 1000)


# Running it all


@dataclasses.dataclass
class Outcome:
    rows: dict[str, list[RowRun]]
    fixed: Fixed
    processes: list[tuple[int, int, str, float]]


async def run_all(args: argparse.Namespace, workloads: list[Workload], workdir: Path) -> Outcome:
    """Every row ``runs`` times, round-robin; a fresh consumer (and namespace) per round."""
    files = {w.file: (DATA / w.file).read_bytes() for w in workloads}
    if not args.direct_default_malloc:
        reuse_freed_memory()  # the direct side allocates as a warm child does
    call_directly("ingest", tiny_pdf(), {})  # imports and first-call set-up, untimed
    # As a warm child does after importing what the functions preload (OpenCV is imported
    # lazily, by the first raster page): collections skip what is loaded (without it, the
    # direct side's collections walk PyMuPDF's, OpenCV's and this program's objects).
    functions = registered_functions()
    for module in {module for name in FUNCTIONS for module in functions[name].preload}:
        importlib.import_module(module)
    gc.freeze()
    server = RedisServer(find_redis_server(), workdir / "redis")
    server.start()
    outcome = Outcome({w.name: [] for w in workloads}, Fixed(), [])
    try:
        for run in range(args.runs):
            with stack(Stack(server, workdir)) as running:
                if args.no_uvloop:
                    running.env["PYTHONPATH"] = f"{without_uvloop(workdir)}{os.pathsep}{ROOT}"
                consumer = start_consumer(running)
                async with Sluice.connect(Settings.from_env(running.env)) as sluice:
                    await fixed_cost(sluice, args.tiny_jobs, outcome.fixed)
                    if run == 0:
                        outcome.processes = _tree(consumer)
                    for n, workload in enumerate(workloads):
                        if args.settle:
                            await quiet_machine(args.settle)
                        began = time.monotonic()
                        row = await run_row(
                            sluice,
                            workload,
                            files[workload.file],
                            lambda: Meter(running, consumer),  # noqa: B023 (called at once)
                            system_first=(run + n) % 2 == 1,
                        )
                        outcome.rows[workload.name].append(row)
                        _progress(run, args.runs, workload, row, began)
    finally:
        server.stop()
    return outcome


def _progress(run: int, runs: int, workload: Workload, row: RowRun, began: float) -> None:
    d = row.direct.metrics.get("pages/s", float("nan"))
    s = row.system.metrics.get("pages/s", float("nan"))
    line = (
        f"  run {run + 1}/{runs} {workload.name:22} direct {d:7.2f} pages/s, system {s:7.2f}"
        f" pages/s, overhead {overhead(d, s):+5.1f} %  ({time.monotonic() - began:.1f} s)"
    )
    print(line, file=sys.stderr, flush=True)


# The report


def overhead(direct: float, system: float) -> float:
    return (direct / system - 1) * 100 if system > 0 else float("nan")


def _median(values: Sequence[float]) -> float:
    clean = [v for v in values if v == v]
    return statistics.median(clean) if clean else float("nan")


def paired_overheads(runs: list[RowRun]) -> list[float]:
    """Each run's own overhead: its two sides ran in alternating blocks over the same
    seconds. Their median is the row's overhead; a ratio of the two sides' medians would
    pair a fast run's direct side with a slow run's system side (the VM's speed varies
    by 10-20 % between runs)."""
    return [
        overhead(r.direct.metrics["pages/s"], r.system.metrics["pages/s"])
        for r in runs
        if "pages/s" in r.direct.metrics and "pages/s" in r.system.metrics
    ]


def _metric(runs: list[RowRun], side: str, metric: str) -> list[float]:
    results = [getattr(r, side) for r in runs]
    return [r.metrics[metric] for r in results if metric in r.metrics]


def _cpu_ms(runs: list[RowRun], side: str, role: str) -> float:
    return _median([getattr(r, side).cpu_us.get(role, float("nan")) / 1000 for r in runs])


def _number(value: float, digits: int = 1) -> str:
    return "-" if value != value else f"{value:,.{digits}f}"


def render_table(header: Sequence[str], lines: list[list[str]], left: int) -> str:
    """Columns as in bench/report.py: the first ``left`` left-aligned, the rest right."""
    rows = [list(header), *lines]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    out = []
    for n, row in enumerate(rows):
        cells = [
            cell.ljust(width) if i < left else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        out.append("  ".join(cells).rstrip())
        if n == 0:
            out.append("  ".join("-" * width for width in widths))
    return "\n".join(out)


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
            str(w.jobs * w.pages), _number(_median(direct), 2), _number(_median(system), 2),
            _number(_median(paired)), f"< {GOAL_OVERHEAD:g} %",
            spread, str(len(paired)), f"{failed:.0f} of {w.jobs * len(runs)}",
            _number(_median(others), 2),
        ])  # fmt: skip
    return render_table(header, lines, left=3)


ROLES = ("child", "consumer", "redis", "bench")


def time_table(workloads: list[Workload], rows: dict[str, list[RowRun]]) -> str:
    """Where the system's time per job goes, and CPU per job by process (medians)."""
    header = ("workload", "direct ms/job", "system ms/job", "extra ms/job", "running",
              "between jobs", "CPU ms/job direct", "CPU ms/job system",
              "CPU overhead %")  # fmt: skip
    lines = []
    for w in workloads:
        runs = rows[w.name]
        direct = _median(_metric(runs, "direct", "ms/job"))
        system = _median(_metric(runs, "system", "ms/job"))
        cpu = " ".join(f"{role} {_number(_cpu_ms(runs, 'system', role))}" for role in ROLES)
        cpu_direct = _cpu_ms(runs, "direct", "bench")
        cpu_system = _median([
            sum(r.system.cpu_us.get(role, 0.0) for role in ROLES) / 1000
            for r in runs
            if "pages/s" in r.system.metrics
        ])  # fmt: skip
        lines.append([
            w.name, _number(direct), _number(system), _number(system - direct),
            _number(_median(_metric(runs, "system", "running ms/job"))),
            _number(_median(_metric(runs, "system", "gap ms/job"))),
            _number(cpu_direct), cpu, _number((cpu_system / cpu_direct - 1) * 100),
        ])  # fmt: skip
    return render_table(header, lines, left=1)


def cold_table(
    colds: list[Cold], fixed: Fixed, processes: list[tuple[int, int, str, float]]
) -> str:
    header = ("what", "median", "max RSS MB")
    lines = [[c.label, f"{c.seconds * 1000:,.0f} ms", f"{c.rss_mb:,.0f}"] for c in colds]
    direct, e2e = _median(fixed.direct), _median(fixed.e2e)
    runs = len(fixed.first)
    lines += [
        [f"tiny 1-page ingest, direct in this process ({len(fixed.direct)} jobs)",
         f"{_number(direct, 2)} ms", ""],
        [f"tiny 1-page ingest, system: submit -> succeeded ({len(fixed.e2e)} jobs)",
         f"{_number(e2e, 1)} ms", ""],
        ["  of which queued -> running (pickup)", f"{_number(_median(fixed.pickup))} ms", ""],
        ["  of which running -> succeeded", f"{_number(_median(fixed.running))} ms", ""],
        [f"  first job on a fresh consumer ({runs} consumers)",
         f"{_number(_median(fixed.first))} ms", ""],
        ["per-job fixed cost in the system (system - direct)", f"{_number(e2e - direct)} ms", ""],
    ]  # fmt: skip
    for _, _, role, rss in processes:
        lines.append([f"warm process RSS: {role}", "", f"{rss:,.0f}"])
    return render_table(header, lines, left=1)


def summary(workloads: list[Workload], rows: dict[str, list[RowRun]]) -> list[str]:
    lines = []
    for w in workloads:
        value = _median(paired_overheads(rows[w.name]))
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
    if _median(others) > NOISY_CORES:
        lines.append(
            f"note: other processes kept {_median(others):.2f} cores busy (median; up to"
            f" {max(others):.2f}) of {report.CORES} during the runs: pages/s are understated"
            " and overhead % is noisy; CPU ms/job is the steadier figure (--settle waits)"
        )
    return lines


def describe(args: argparse.Namespace) -> str:
    version = _output(find_redis_server(), "--version")
    redis_version = next((w[2:] for w in version.split() if w.startswith("v=")), "?")
    commit = _output("git", "rev-parse", "--short", "HEAD") or "?"
    if _output("git", "status", "--porcelain", "--untracked-files=no"):
        commit += " + uncommitted changes"
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    loop = "asyncio's loop (--no-uvloop)" if args.no_uvloop else "uvloop if installed (as shipped)"
    malloc = (
        "glibc's default malloc settings (--direct-default-malloc)"
        if args.direct_default_malloc
        else "the warm children's malloc settings"
    )
    return (
        f"machine: {platform.machine()}, {report.CORES} cores, load average {load};"
        f" Python {platform.python_version()}; PyMuPDF {pymupdf.VersionBind};"
        f" redis-server {redis_version}; code {commit}\n"
        f"runs {args.runs}; job counts x{args.scale:g}; one consumer"
        f" ({' '.join(FUNCTIONS)} --concurrency 1), a fresh one per round, on"
        f" {loop}; one untimed first-page job per row and side before timing;"
        f" direct side on {malloc}"
    )


def _output(*command: str) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip()


COLD_IMPORTS = (
    "pass",
    "import pymupdf",
    "import pymupdf, cv2, numpy",
    "import documents.ingest, documents.raster, documents.render",
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
    found = [
        f"{name} run {n + 1}: {side}: {problem}"
        for name, runs in outcome.rows.items()
        for n, run in enumerate(runs)
        for side, result in (("direct", run.direct), ("system", run.system))
        for problem in result.problems
    ] + outcome.fixed.problems
    for line in found:
        print(f"PROBLEM: {line}")
    sys.stdout.flush()
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
