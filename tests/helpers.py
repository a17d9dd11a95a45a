"""Small waiting and reading helpers shared by the tests."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from shared.client import Sluice
from shared.jobs import JobStatus


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
