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
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from bench.processes import Stack
from shared.jobs import SUCCEEDED
from shared.keys import keys_for

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


def _machine_busy() -> float:
    """CPU seconds all processes of the machine have used (every field but idle, iowait)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(fields) - fields[3] - fields[4]) / _TICKS


async def quiet_machine(patience: float, threshold: float = 0.3) -> float:
    """Wait up to ``patience`` seconds for a half second in which the machine's processes
    used less than ``threshold`` cores; return the cores used in the last half second."""
    deadline = time.monotonic() + patience
    while True:
        before, began = _machine_busy(), time.monotonic()
        await asyncio.sleep(0.5)
        busy = (_machine_busy() - before) / (time.monotonic() - began)
        if busy < threshold or time.monotonic() >= deadline:
            return busy


class CpuMeter:
    """CPU used by each process of the run (and this one) between start() and stop()."""

    def __init__(self, running: Stack) -> None:
        self.running = running
        self.wall = 0.0
        self._before: dict[str, float] = {}
        self._machine = 0.0

    def _now(self) -> dict[str, float]:
        return {**self.running.cpu(), "bench": time.process_time()}

    def start(self) -> None:
        self._before = self._now()
        self._machine = _machine_busy()
        self.wall = time.time()

    def stop(self, jobs: int) -> Result:
        """A Result holding CPU per job and the machine's other load since start()."""
        elapsed = time.time() - self.wall
        machine = _machine_busy() - self._machine
        used = {
            role: seconds - self._before.get(role, 0.0) for role, seconds in self._now().items()
        }
        others = max(0.0, machine - sum(used.values())) / max(elapsed, 1e-3)
        per_job = {role: seconds * 1e6 / max(jobs, 1) for role, seconds in used.items()}
        return Result({}, per_job, others)


def payload(index: int) -> dict[str, Any]:
    """The echo input of job ``index``, for Sluice.submit."""
    return {"n": index, "tag": "bench"}


def body(index: int) -> bytes:
    """The same input as a JSON request body."""
    return b'{"n":%d,"tag":"bench"}' % index


async def drain(redis: Redis, namespace: str) -> None:
    """Wait until the stream is empty: every submitted job has ended."""
    stream = keys_for(namespace, FUNCTION).stream
    last, since = -1, time.monotonic()
    while backlog := await redis.xlen(stream):
        if backlog != last:
            last, since = backlog, time.monotonic()
        elif time.monotonic() - since > STALL_SECONDS:
            raise TimeoutError(f"backlog stuck at {backlog} for {STALL_SECONDS}s")
        await asyncio.sleep(POLL_SECONDS)


def _time(raw: bytes | None) -> float:
    return datetime.fromisoformat(raw.decode()).timestamp() if raw else float("nan")


@dataclasses.dataclass(frozen=True)
class JobTimes:
    """Epoch seconds (millisecond resolution) of one succeeded job."""

    created: float
    started: float
    finished: float


async def succeeded(
    redis: Redis, namespace: str, job_ids: Sequence[str], expected: int, result: Result
) -> list[JobTimes]:
    """The times of the jobs that succeeded; the others are noted as problems."""
    keys = keys_for(namespace, FUNCTION)
    rows: list[list[Any]] = []
    for start in range(0, len(job_ids), 2000):
        pipe = redis.pipeline(transaction=False)
        for job_id in job_ids[start : start + 2000]:
            pipe.hmget(keys.job(job_id), _FIELDS)
        rows.extend(await pipe.execute())
    done = [
        JobTimes(_time(row[1]), _time(row[2]), _time(row[3]))
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
