"""Status without polling, through a real uvicorn gateway and a worker: Server-Sent Events
(`GET /v1/jobs/{id}/events`) and long polls (`?wait=N`)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import redis

from shared.settings import Settings
from tests.inprocess import serving


async def read_events(
    http: httpx.AsyncClient, job_id: str, first: asyncio.Event | None = None, **headers: str
) -> list[dict[str, Any]]:
    """The events of one stream, until the gateway ends it: each ``{"id", "data"}``;
    ``first`` is set once the first one came."""
    events: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    async with http.stream("GET", f"/v1/jobs/{job_id}/events", headers=headers) as reply:
        assert reply.status_code == 200, await reply.aread()
        assert reply.headers["content-type"].startswith("text/event-stream")
        async for line in reply.aiter_lines():
            if line.startswith("id: "):
                current["id"] = line[4:]
            elif line.startswith("data: "):
                current["data"] = json.loads(line[6:])
            elif line == "" and current:
                events.append(current)
                current = {}
                if first is not None:
                    first.set()
    return events


@pytest.fixture
async def http(start_gateway: Callable[..., str]) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=start_gateway(), timeout=30) as client:
        yield client


async def submit(http: httpx.AsyncClient, seconds: float) -> str:
    reply = await http.post("/v1/jobs/work", json={"seconds": seconds})
    assert reply.status_code == 202, reply.text
    return str(reply.json()["job_id"])


async def test_a_stream_tells_each_change_and_ends_after_the_final_status(
    http: httpx.AsyncClient, settings: Settings
) -> None:
    job_id = await submit(http, 0.3)
    first = asyncio.Event()
    watching = asyncio.create_task(read_events(http, job_id, first))
    await asyncio.wait_for(first.wait(), 10)  # the stream is open before the job runs
    async with serving(settings, "work"):
        events = await asyncio.wait_for(watching, 30)
    statuses = [event["data"]["status"] for event in events]
    assert statuses[0] == "queued" and statuses[-1] == "succeeded", statuses
    assert "running" in statuses
    progress = [(e["data"]["status"], e["data"]["progress"]) for e in events]
    assert ("running", 10) in progress, progress  # the handler's report, as it came
    final = (await http.get(f"/v1/jobs/{job_id}")).json()
    assert events[-1]["data"] == final  # the same JSON as the status
    ids = [event["id"] for event in events]
    assert len(set(ids)) == len(ids)


async def test_a_resumed_stream_skips_the_state_it_had(
    http: httpx.AsyncClient, settings: Settings
) -> None:
    job_id = await submit(http, 0)
    (queued,) = [e for e in await read_events_now(http, job_id) if e["data"]["status"] == "queued"]
    async with serving(settings, "work"):
        await wait_final(http, job_id)
    resumed = await read_events(http, job_id, **{"Last-Event-ID": queued["id"]})
    assert [e["data"]["status"] for e in resumed] == ["succeeded"]
    # Nothing can follow the final state it had: 204, which stops an EventSource.
    again = await http.get(f"/v1/jobs/{job_id}/events", headers={"Last-Event-ID": resumed[0]["id"]})
    assert again.status_code == 204 and again.content == b""


async def read_events_now(http: httpx.AsyncClient, job_id: str) -> list[dict[str, Any]]:
    """The first event of a stream (the state now), then hang up."""
    async with http.stream("GET", f"/v1/jobs/{job_id}/events") as reply:
        lines: list[str] = []
        async for line in reply.aiter_lines():
            if line == "" and lines:
                break
            lines.append(line)
    event_id = next(line[4:] for line in lines if line.startswith("id: "))
    data = next(json.loads(line[6:]) for line in lines if line.startswith("data: "))
    return [{"id": event_id, "data": data}]


async def wait_final(http: httpx.AsyncClient, job_id: str) -> dict[str, Any]:
    while True:
        status: dict[str, Any] = (await http.get(f"/v1/jobs/{job_id}?wait=10")).json()
        if status["status"] in ("succeeded", "failed", "cancelled"):
            return status


async def subscribed(sync_redis: redis.Redis, count: int) -> list[dict[str, Any]]:
    """Once the gateway's subscription holds ``count`` channels: its client entries."""
    deadline = time.monotonic() + 10
    while True:
        subscribers = [c for c in sync_redis.client_list() if int(c.get("sub", 0)) > 0]
        if sum(int(c["sub"]) for c in subscribers) >= count or time.monotonic() > deadline:
            return subscribers
        await asyncio.sleep(0.02)


async def test_a_long_poll_returns_at_the_change(
    http: httpx.AsyncClient, settings: Settings, sync_redis: redis.Redis
) -> None:
    job_id = await submit(http, 0.2)
    polled = asyncio.create_task(http.get(f"/v1/jobs/{job_id}?wait=20"))
    assert await subscribed(sync_redis, 1)  # the poll waits on the queued job
    assert not polled.done()
    async with serving(settings, "work"):
        reply = await asyncio.wait_for(polled, 15)
        assert reply.status_code == 200, reply.text
        assert reply.json()["status"] in ("running", "succeeded"), reply.text
        assert (await wait_final(http, job_id))["status"] == "succeeded"


async def test_a_long_poll_with_no_change_returns_after_its_seconds(
    gateway_http: httpx.AsyncClient,
) -> None:
    job_id = await submit(gateway_http, 0)  # nothing runs it: it stays queued
    began = time.monotonic()
    reply = await gateway_http.get(f"/v1/jobs/{job_id}?wait=1")
    assert reply.status_code == 200 and reply.json()["status"] == "queued"
    assert time.monotonic() - began >= 1.0


@pytest.mark.any_redis
@pytest.mark.parametrize("wait", ["0", "31", "soon", "-1", "nan"])
async def test_a_wait_out_of_range_is_400_naming_it(
    gateway_http: httpx.AsyncClient, wait: str
) -> None:
    job_id = await submit(gateway_http, 0)
    reply = await gateway_http.get(f"/v1/jobs/{job_id}?wait={wait}")
    assert reply.status_code == 400, reply.text
    assert reply.json()["error"]["field"] == "wait"


async def test_one_subscription_serves_every_stream_of_a_gateway(
    http: httpx.AsyncClient, settings: Settings, sync_redis: redis.Redis
) -> None:
    jobs = [await submit(http, 0) for _ in range(20)]
    opened = [asyncio.Event() for _ in jobs]
    streams = [
        asyncio.create_task(read_events(http, job_id, first))
        for job_id, first in zip(jobs, opened, strict=True)
    ]
    await asyncio.wait_for(asyncio.gather(*(first.wait() for first in opened)), 10)
    subscribers = await subscribed(sync_redis, len(jobs))
    assert len(subscribers) == 1 and int(subscribers[0]["sub"]) == len(jobs), subscribers
    async with serving(settings, "work"):
        finished = await asyncio.wait_for(asyncio.gather(*streams), 30)
    assert all(events[-1]["data"]["status"] == "succeeded" for events in finished)


async def test_a_client_hanging_up_takes_its_subscription_with_it(
    http: httpx.AsyncClient, sync_redis: redis.Redis
) -> None:
    job_id = await submit(http, 0)  # nothing runs it: the stream would go on
    await read_events_now(http, job_id)  # the first event, then the client hangs up
    deadline = time.monotonic() + 10
    while sum(int(c.get("sub", 0)) for c in sync_redis.client_list()) > 0:
        assert time.monotonic() < deadline, "the channel is still subscribed"
        await asyncio.sleep(0.05)
