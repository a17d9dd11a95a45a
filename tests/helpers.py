"""Small waiting and reading helpers shared by the tests."""

from __future__ import annotations

import asyncio
import os
import time
from datetime import datetime
from pathlib import Path

import redis

from consumers.worker import Worker
from shared.client import Sluice
from shared.jobs import JobStatus
from tests.recovery_checks import until


async def wait_for_status(
    sluice: Sluice, job_id: str, *statuses: str, timeout: float = 30.0
) -> JobStatus:
    """Poll until the job is in one of ``statuses``; fail the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    status = await sluice.status(job_id)
    while status.status not in statuses:
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} is {status.status}, not {statuses}: {status}")
        await asyncio.sleep(0.02)
        status = await sluice.status(job_id)
    return status


def effects(path: Path, what: str = "effect") -> list[list[str]]:
    """Lines ``job_id attempt pid what time`` a test handler wrote, filtered by ``what``."""
    if not path.exists():
        return []
    rows = [line.split() for line in path.read_text().splitlines() if line.strip()]
    return [row for row in rows if row[3] == what]


async def wait_for_lines(
    path: Path, what: str, count: int, timeout: float = 15.0
) -> list[list[str]]:
    """Wait until the effect file holds ``count`` lines of kind ``what``."""
    deadline = time.monotonic() + timeout
    while len(rows := effects(path, what)) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(rows)} {what!r} lines in {path}, not {count}")
        await asyncio.sleep(0.02)
    return rows


def process_gone(pid: int) -> bool:
    """True once ``pid`` no longer runs (exited and reaped, or a zombie)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (FileNotFoundError, ProcessLookupError):
        return True


async def wait_gone(pid: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not process_gone(pid):
        if time.monotonic() > deadline:
            raise AssertionError(f"process {pid} still runs after {timeout}s")
        await asyncio.sleep(0.05)


def seconds_between(earlier: str | None, later: str | None) -> float:
    """Seconds from one ISO timestamp of a job's status to another (both must be set)."""
    assert earlier is not None and later is not None
    return (datetime.fromisoformat(later) - datetime.fromisoformat(earlier)).total_seconds()


async def consumer_knows_paused(worker: Worker, sync_redis: redis.Redis, stream: str) -> None:
    """Until the consumer knows the function is paused and its read in flight (if any) is
    over: one begun before it knew may yet deliver an entry (which start.lua hands back)."""
    await until(lambda: not worker.paused.readable([stream.encode()]), lambda: "not paused")

    await until(lambda: not blocked_reads(sync_redis), lambda: "a read still blocks")


def blocked_reads(sync_redis: redis.Redis) -> int:
    """Clients blocked in XREADGROUP now."""
    return sum(c["cmd"] == "xreadgroup" and "b" in c["flags"] for c in sync_redis.client_list())
