"""Measuring a run: CPU per process, completion, and the times in the status hashes.

Completion is detected cheaply: a finished entry is deleted from the stream, so once every
submission has returned, XLEN reaching 0 means every job has ended. The status hashes are
read once afterwards, in pipelined HMGETs, to check that all succeeded and to take times.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.processes import Stack
from shared.jobs import SUCCEEDED
from shared.keys import function_of, keys_for
from shared.redis import Client

FUNCTION = "echo"
# Seconds the backlog may stay the same before a run is declared stuck.
STALL_SECONDS = 30.0
# How often XLEN is polled while draining: fine next to any run, one cheap command.
POLL_SECONDS = 0.01
# Status hash fields read after a run, in this order (see JobTimes).
_FIELDS = ("status", "created_at", "started_at", "finished_at")
_TICKS = os.sysconf("SC_CLK_TCK")


@dataclasses.dataclass
class Result:
    """Metric name -> value; CPU microseconds per job by process role; cores that other
    processes on the machine kept busy meanwhile; problems (failed jobs, refusals)."""

    metrics: dict[str, float]
    cpu_us: dict[str, float] = dataclasses.field(default_factory=dict)
    other_cores: float = 0.0
    problems: list[str] = dataclasses.field(default_factory=list)


def machine_busy() -> float:
    """CPU seconds all processes of the machine have used (every field but idle, iowait)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(fields) - fields[3] - fields[4]) / _TICKS


async def quiet_machine(patience: float, threshold: float = 0.3) -> float:
    """Wait up to ``patience`` seconds for a half second in which the machine's processes
    used less than ``threshold`` cores; return the cores used in the last half second."""
    deadline = time.monotonic() + patience
    while True:
        before, began = machine_busy(), time.monotonic()
        await asyncio.sleep(0.5)
        busy = (machine_busy() - before) / (time.monotonic() - began)
        if busy < threshold or time.monotonic() >= deadline:
            return busy


_Reading = tuple[float, float, dict[str, float]]  # monotonic time, machine CPU, CPU by role


class CpuMeter:
    """CPU seconds used by each process role (``bench``: this process) and the cores other
    processes kept busy, summed over the intervals between resume() and pause().

    ``roles`` reads the CPU seconds used so far by role; by default ``running.cpu``.
    """

    def __init__(self, running: Stack, roles: Callable[[], dict[str, float]] | None = None) -> None:
        self._roles = roles or running.cpu
        self.wall = 0.0  # epoch seconds of the last start()
        self.used: dict[str, float] = {}
        self.elapsed = self.machine = 0.0
        self._start: _Reading = (0.0, 0.0, {})

    def _now(self) -> _Reading:
        roles = {**self._roles(), "bench": time.process_time()}
        return time.monotonic(), machine_busy(), roles

    def resume(self) -> None:
        self._start = self._now()

    def pause(self) -> None:
        (now, machine, roles), (now0, machine0, roles0) = self._now(), self._start
        self.elapsed += now - now0
        self.machine += machine - machine0
        for role, seconds in roles.items():
            used = max(0.0, seconds - roles0.get(role, 0.0))
            self.used[role] = self.used.get(role, 0.0) + used

    def result(self, jobs: int) -> Result:
        """CPU microseconds per job by role, and the other load, so far."""
        others = max(0.0, self.machine - sum(self.used.values())) / max(self.elapsed, 1e-3)
        per_job = {role: seconds * 1e6 / max(jobs, 1) for role, seconds in self.used.items()}
        return Result({}, per_job, others)

    def start(self) -> None:
        """Begin the one interval of a run; ``wall`` is then its start in epoch seconds."""
        self.wall = time.time()
        self.resume()

    def stop(self, jobs: int) -> Result:
        """End that interval: a Result holding CPU per job and the machine's other load."""
        self.pause()
        return self.result(jobs)


def payload(index: int) -> dict[str, Any]:
    """The echo input of job ``index``, for Sluice.submit."""
    return {"n": index, "tag": "bench"}


def body(index: int) -> bytes:
    """The same input as a JSON request body."""
    return b'{"n":%d,"tag":"bench"}' % index


async def drain(redis: Client, namespace: str, functions: Sequence[str] = (FUNCTION,)) -> None:
    """Wait until the functions' streams are empty: every submitted job has ended."""
    streams = [keys_for(namespace, function).stream for function in functions]
    last, since = -1, time.monotonic()
    while backlog := sum(await asyncio.gather(*(redis.xlen(s) for s in streams))):
        if backlog != last:
            last, since = backlog, time.monotonic()
        elif time.monotonic() - since > STALL_SECONDS:
            raise TimeoutError(f"backlog stuck at {backlog} for {STALL_SECONDS}s")
        await asyncio.sleep(POLL_SECONDS)


def epoch(iso: str | bytes | None) -> float:
    """Epoch seconds of a status hash's ISO time; NaN when it is not set."""
    if not iso:
        return float("nan")
    return datetime.fromisoformat(iso.decode() if isinstance(iso, bytes) else iso).timestamp()


@dataclasses.dataclass(frozen=True)
class JobTimes:
    """Epoch seconds (millisecond resolution) of one succeeded job."""

    created: float
    started: float
    finished: float


async def succeeded(
    redis: Client, namespace: str, job_ids: Sequence[str], expected: int, result: Result
) -> list[JobTimes]:
    """The times of the jobs (of any function) that succeeded; the others are noted as
    problems."""
    rows: list[list[Any]] = []
    for start in range(0, len(job_ids), 2000):
        pipe = redis.pipeline(transaction=False)
        for job_id in job_ids[start : start + 2000]:
            keys = keys_for(namespace, function_of(job_id) or FUNCTION)
            pipe.hmget(keys.job(job_id), _FIELDS)
        rows.extend(await pipe.execute())
    done = [
        JobTimes(epoch(row[1]), epoch(row[2]), epoch(row[3]))
        for row in rows
        if row[0] == SUCCEEDED.encode()
    ]
    if len(rows) != expected:
        result.problems.append(f"{expected - len(rows)} of {expected} submissions not accepted")
    if len(done) != len(rows):
        result.problems.append(f"{len(rows) - len(done)} of {len(rows)} jobs did not succeed")
    return done


def percentile(values: list[float], percent: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(percent / 100 * (len(ordered) - 1)))]
