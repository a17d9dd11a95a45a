"""Delayed jobs and batches end to end: a real uvicorn gateway and real consumer
processes (killed and restarted while jobs wait), as a client in any language uses them."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.conftest import Proc

# The scripts are the ones the other tests run on both versions.
pytestmark = pytest.mark.any_redis


@pytest.fixture
async def http(start_gateway: Callable[..., str]) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=start_gateway(), timeout=20) as client:
        yield client


async def final(http: httpx.AsyncClient, status_url: str) -> dict[str, Any]:
    """The status once final, by long polls."""
    for _ in range(20):
        status: dict[str, Any] = (await http.get(f"{status_url}?wait=10")).json()
        if status["status"] in ("succeeded", "failed", "cancelled"):
            return status
    raise AssertionError(f"not final: {status}")


def ms(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp() * 1000


async def test_a_delayed_job_waits_through_a_consumer_killed_and_runs_when_due(
    http: httpx.AsyncClient, start_consumer: Callable[..., Proc]
) -> None:
    consumer = start_consumer("echo")
    job = (await http.post("/v1/jobs/echo?delay=2", json={"n": 3})).json()
    cancelled = (await http.post("/v1/jobs/echo?delay=2", json={"n": 4})).json()
    assert job["status"] == cancelled["status"] == "scheduled"
    reply = await http.delete(cancelled["status_url"])
    assert reply.status_code == 200 and reply.json()["status"] == "cancelled"
    consumer.kill()  # SIGKILL while the job waits: it waits in Redis, not in a process
    start_consumer("echo")
    up = time.time() * 1000  # on a loaded machine, perhaps after the job was due
    done = await final(http, job["status_url"])
    assert done["status"] == "succeeded" and done["result"] == {"n": 3}
    assert ms(done["started_at"]) >= ms(job["not_before"])
    late = ms(done["started_at"]) - max(ms(job["not_before"]), up)
    assert late < 1000, "queued within a second of being due (with a consumer up)"
    assert (await http.get(cancelled["status_url"])).json()["started_at"] is None


async def test_a_batch_runs_every_job_and_a_delayed_batch_waits(
    http: httpx.AsyncClient, start_consumer: Callable[..., Proc]
) -> None:
    start_consumer("echo")
    inputs = [{"n": n} for n in range(200)]
    reply = await http.post("/v1/jobs/echo/batch", json=inputs)
    assert reply.status_code == 202, reply.text
    jobs = reply.json()["jobs"]
    for job, params in zip(jobs[::20], inputs[::20], strict=True):
        done = await final(http, job["status_url"])
        assert done["result"] == params
    began = time.time() * 1000
    later = await http.post("/v1/jobs/echo/batch?delay=1", json=[{"n": -1}, {"n": -2}])
    delayed = later.json()["jobs"]
    assert {job["status"] for job in delayed} == {"scheduled"}
    for job in delayed:
        done = await final(http, job["status_url"])
        assert done["status"] == "succeeded" and ms(done["started_at"]) >= began + 1000
