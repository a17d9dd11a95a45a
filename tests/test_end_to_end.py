"""A job's life through HTTP, with the gateway and a consumer in the test's process."""

from __future__ import annotations

import asyncio
import os
import platform
import resource
import time
from pathlib import Path

import httpx
import pytest
import redis

from consumers.outcomes import PROGRESS_INTERVAL_SECONDS
from shared.client import Sluice
from shared.embedded import RedisServer
from shared.keys import keys_for
from shared.settings import Settings
from tests.helpers import effects, seconds_between, wait_for_status
from tests.inprocess import run_burst, serving


async def test_submit_runs_and_succeeds_with_result(
    gateway_http: httpx.AsyncClient, sluice: Sluice, settings: Settings, tmp_path: Path
) -> None:
    effect = tmp_path / "effect"
    reply = await gateway_http.post(
        "/v1/jobs/work", json={"seconds": 1.0, "effect_path": str(effect)}
    )
    assert reply.status_code == 202
    body = reply.json()
    assert body["status"] == "queued" and body["function"] == "work"
    assert reply.headers["location"] == body["status_url"] == f"/v1/jobs/{body['job_id']}"
    assert body["created_at"].endswith("Z")
    job_id = body["job_id"]

    async with serving(settings, "work"):
        running = await wait_for_status(sluice, job_id, "running")
        assert running.attempts == 1 and running.started_at is not None
        seen = (await gateway_http.get(f"/v1/jobs/{job_id}")).json()
        assert seen["status"] in ("running", "succeeded")
        await wait_for_status(sluice, job_id, "succeeded")

    status = (await gateway_http.get(f"/v1/jobs/{job_id}")).json()
    assert status["status"] == "succeeded"
    assert status["progress"] == 100
    assert status["attempts"] == 1 and status["max_attempts"] == 3
    assert status["error"] is None
    assert status["result"]["slept"] == 1.0
    assert status["finished_at"] >= status["started_at"] >= status["created_at"]
    result = await gateway_http.get(f"/v1/jobs/{job_id}/result")
    assert result.status_code == 200 and result.json() == status["result"]
    assert len(effects(effect)) == 1


async def test_progress_is_visible_while_running(
    gateway_http: httpx.AsyncClient, sluice: Sluice, settings: Settings
) -> None:
    job_id = (await gateway_http.post("/v1/jobs/work", json={"seconds": 1.5})).json()["job_id"]
    async with serving(settings, "work"):
        await wait_for_status(sluice, job_id, "running")
        # The handler reports 10 at once and 90 only after its 1.5 s.
        deadline = time.monotonic() + 10
        status = (await gateway_http.get(f"/v1/jobs/{job_id}")).json()
        while status["progress"] != 10 and status["status"] == "running":
            assert time.monotonic() < deadline, status
            await asyncio.sleep(0.02)
            status = (await gateway_http.get(f"/v1/jobs/{job_id}")).json()
    assert status["status"] == "running", status
    assert status["progress"] == 10 and status["message"] == "started"


async def test_progress_reports_are_written_at_most_every_50_ms_and_a_success_keeps_the_last(
    own_redis: RedisServer, env: dict[str, str]
) -> None:
    """2000 reports over a second reach the job's hash as ~20 writes (a handler may report
    in a tight loop), and the last one, made just before the handler returned, is in the
    final status although it was never written on its own."""
    # A server of its own: keyspace events are a server-wide setting.
    settings = Settings.from_env({**env, "REDIS_URL": own_redis.url})
    admin = redis.Redis.from_url(own_redis.url)
    admin.config_set("notify-keyspace-events", "Kh")  # an event per HSET on a job hash
    writes = admin.pubsub()
    try:
        writes.psubscribe(f"__keyspace@0__:{keys_for(settings.namespace, 'chatty').job('*')}")
        async with Sluice.connect(settings) as sluice:
            job = await sluice.submit("chatty", {"count": 2000, "seconds": 1.0})
            await run_burst(settings, "chatty", concurrency=1, timeout=20)
            done = await sluice.status(job.job_id)
        assert done.status == "succeeded", done
        assert done.progress == 100 and done.message == "report 2000"
        events = []
        while (event := writes.get_message(timeout=0.5)) is not None:
            if event["type"] == "pmessage":
                events.append(event["data"])
        hsets = events.count(b"hset")
        # Submission, start, one report per 50 ms of the handler's run (~20 for its second,
        # more when a busy machine stretches it), completion. Writing each report as soon
        # as the last write was done took ~1000-2000.
        ran = seconds_between(done.started_at, done.finished_at)
        assert 10 <= hsets <= 10 + 1.5 * ran / PROGRESS_INTERVAL_SECONDS, (hsets, ran)
    finally:
        writes.close()
        admin.close()


async def test_echo_returns_its_input_through_the_python_api(
    sluice: Sluice, settings: Settings
) -> None:
    submission = await sluice.submit("echo", {"hello": ["world", 1]})
    await run_burst(settings, "echo")
    done = await sluice.wait(submission.job_id, timeout=20)
    assert done.status == "succeeded"
    assert done.result_value() == {"hello": ["world", 1]}
    assert await sluice.result(submission.job_id) == {"hello": ["world", 1]}


async def test_user_function_module_is_served_and_runs(
    gateway_http: httpx.AsyncClient, sluice: Sluice, settings: Settings
) -> None:
    """FUNCTION_MODULES=tests.functions adds functions to the gateway and the consumers."""
    listed = (await gateway_http.get("/v1/functions")).json()["functions"]
    by_name = {f["name"]: f for f in listed}
    assert {"echo", "work", "async_work"} <= set(by_name)
    schema = by_name["work"]["input_schema"]
    assert "seconds" in str(schema)
    # A document function's `document` is the gateway's to fill: clients are not asked for it.
    for name in ("ingest", "render"):
        inputs = by_name[name]["input_schema"]
        top = inputs["$defs"][inputs["$ref"].rsplit("/", 1)[-1]]
        assert "document" not in top.get("required", []), top
        assert top["properties"]["document"]["readOnly"] is True
    reply = await gateway_http.post("/v1/jobs/async_work", json={"seconds": 0.1})
    job_id = reply.json()["job_id"]
    await run_burst(settings, "async_work")
    done = await wait_for_status(sluice, job_id, "succeeded")
    assert done.result_value() == {"slept": 0.1, "attempt": 1}


async def test_entries_that_do_not_become_jobs_never_stall_a_consumer(
    sluice: Sluice, settings: Settings, sync_redis: redis.Redis
) -> None:
    """With one slot, a read's entry that start.lua skips (its job is gone) or that is not
    ours must give the slot back: the jobs queued behind them still run."""
    stream = keys_for(sluice.settings.namespace, "async_work").stream
    sync_redis.xadd(stream, {"job_id": "async_work-" + "0" * 32})  # no such job: skipped
    sync_redis.xadd(stream, {"job_id": "garbage"})  # not a job id: dropped
    jobs = [await sluice.submit("async_work", {"seconds": 0}) for _ in range(3)]
    # A slot kept by an entry would leave the burst waiting: it times out.
    await run_burst(settings, "async_work", concurrency=1, timeout=20)
    for job in jobs:
        done = await sluice.status(job.job_id)
        assert done.status == "succeeded" and done.attempts == 1, done
    assert sync_redis.xlen(stream) == 0


@pytest.mark.any_redis
@pytest.mark.skipif(
    platform.libc_ver()[0] != "glibc" or any(name.startswith("MALLOC_") for name in os.environ),
    reason="glibc's malloc, as shipped",
)
async def test_warm_children_keep_freed_memory_for_the_next_job(
    sluice: Sluice, settings: Settings
) -> None:
    """Page-sized buffers one job frees are reused by the next job in the same warm child,
    not returned to the kernel and faulted in again page by page (glibc's default gives
    back all of 40 MB held at once)."""
    jobs = [await sluice.submit("buffers", {"count": 10, "mb": 4}) for _ in range(2)]
    await run_burst(settings, "buffers", concurrency=1)  # one child, the jobs in turn
    seen = []
    for job in jobs:
        done = await sluice.status(job.job_id)
        assert done.status == "succeeded", done
        seen.append(done.result_value())
    assert seen[0]["pid"] == seen[1]["pid"]
    pages = 10 * 4 * 2**20 // resource.getpagesize()
    assert seen[1]["faults"] < pages // 10, seen


@pytest.mark.any_redis
async def test_warm_children_share_the_cpus_among_the_slots(
    sluice: Sluice, settings: Settings
) -> None:
    """With --concurrency N, a child's OpenCV gets 1/N of the CPUs (at least one thread),
    so N children at once do not run N times as many threads as there are cores."""
    for concurrency in (1, 2, 3):
        job = await sluice.submit("cv2_threads", {})
        await run_burst(settings, "cv2_threads", concurrency=concurrency)
        done = await sluice.status(job.job_id)
        assert done.status == "succeeded", done
        seen = done.result_value()
        assert seen["threads"] == max(1, seen["cpus"] // concurrency), (concurrency, seen)
