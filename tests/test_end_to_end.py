"""A job's life through HTTP with real consumer processes."""

from __future__ import annotations

import os
import platform
import resource
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import redis

from shared.client import Sluice
from shared.embedded import RedisServer
from shared.keys import keys_for
from shared.settings import Settings
from tests.conftest import Proc
from tests.helpers import effects, wait_for_status


async def test_submit_runs_and_succeeds_with_result(
    http: httpx.AsyncClient,
    sluice: Sluice,
    start_consumer: Callable[..., Proc],
    tmp_path: Path,
) -> None:
    start_consumer("work")
    effect = tmp_path / "effect"
    reply = await http.post("/v1/jobs/work", json={"seconds": 1.0, "effect_path": str(effect)})
    assert reply.status_code == 202
    body = reply.json()
    assert body["status"] == "queued" and body["function"] == "work"
    assert reply.headers["location"] == body["status_url"] == f"/v1/jobs/{body['job_id']}"
    assert body["created_at"].endswith("Z")
    job_id = body["job_id"]

    running = await wait_for_status(sluice, job_id, "running")
    assert running.attempts == 1 and running.started_at is not None
    seen = (await http.get(f"/v1/jobs/{job_id}")).json()
    assert seen["status"] in ("running", "succeeded")

    await wait_for_status(sluice, job_id, "succeeded")
    status = (await http.get(f"/v1/jobs/{job_id}")).json()
    assert status["status"] == "succeeded"
    assert status["progress"] == 100
    assert status["attempts"] == 1 and status["max_attempts"] == 3
    assert status["error"] is None
    assert status["result"]["slept"] == 1.0
    assert status["finished_at"] >= status["started_at"] >= status["created_at"]
    result = await http.get(f"/v1/jobs/{job_id}/result")
    assert result.status_code == 200 and result.json() == status["result"]
    assert len(effects(effect)) == 1


async def test_progress_is_visible_while_running(
    http: httpx.AsyncClient, sluice: Sluice, start_consumer: Callable[..., Proc]
) -> None:
    start_consumer("work")
    job_id = (await http.post("/v1/jobs/work", json={"seconds": 1.5})).json()["job_id"]
    await wait_for_status(sluice, job_id, "running")
    for _ in range(100):
        status = (await http.get(f"/v1/jobs/{job_id}")).json()
        if status["progress"] == 10:
            break
        await __import__("asyncio").sleep(0.02)
    assert status["progress"] == 10 and status["message"] == "started"


async def test_progress_reports_are_written_at_most_every_50_ms_and_a_success_keeps_the_last(
    own_redis: RedisServer, env: dict[str, str], start_consumer: Callable[..., Proc]
) -> None:
    """2000 reports over a second reach the job's hash as ~20 writes (a handler may report
    in a tight loop), and the last one, made just before the handler returned, is in the
    final status although it was never written on its own."""
    env["REDIS_URL"] = own_redis.url
    admin = redis.Redis.from_url(own_redis.url)
    admin.config_set("notify-keyspace-events", "Kh")  # an event per HSET on a job hash
    writes = admin.pubsub()
    try:
        start_consumer("chatty", concurrency=1)
        writes.psubscribe(f"__keyspace@0__:{keys_for(env['SLUICE_NAMESPACE'], 'chatty').job('*')}")
        async with Sluice.connect(Settings.from_env(env)) as sluice:
            job = await sluice.submit("chatty", {"count": 2000, "seconds": 1.0})
            done = await wait_for_status(sluice, job.job_id, "succeeded", timeout=20)
        assert done.progress == 100 and done.message == "report 2000"
        events = []
        while (event := writes.get_message(timeout=0.5)) is not None:
            if event["type"] == "pmessage":
                events.append(event["data"])
        hsets = events.count(b"hset")
        # Submission, start, ~20 reports (one per 50 ms), completion. Writing each report
        # as soon as the last write was done took ~1000-2000.
        assert 10 <= hsets <= 40, hsets
    finally:
        writes.close()
        admin.close()


async def test_echo_returns_its_input_through_the_python_api(
    sluice: Sluice, start_consumer: Callable[..., Proc]
) -> None:
    start_consumer("echo")
    submission = await sluice.submit("echo", {"hello": ["world", 1]})
    done = await sluice.wait(submission.job_id, timeout=20)
    assert done.status == "succeeded"
    assert done.result_value() == {"hello": ["world", 1]}
    assert await sluice.result(submission.job_id) == {"hello": ["world", 1]}


async def test_user_function_module_is_served_and_runs(
    http: httpx.AsyncClient, sluice: Sluice, start_consumer: Callable[..., Proc]
) -> None:
    """FUNCTION_MODULES=tests.functions adds functions to the gateway and the consumers."""
    listed = (await http.get("/v1/functions")).json()["functions"]
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
    start_consumer("async_work")
    job_id = (await http.post("/v1/jobs/async_work", json={"seconds": 0.1})).json()["job_id"]
    done = await wait_for_status(sluice, job_id, "succeeded")
    assert done.result_value() == {"slept": 0.1, "attempt": 1}


async def test_entries_that_do_not_become_jobs_never_stall_a_consumer(
    sluice: Sluice, start_consumer: Callable[..., Proc], sync_redis: redis.Redis
) -> None:
    """With one slot, a read's entry that start.lua skips (its job is gone) or that is not
    ours must give the slot back: the next job still runs."""
    start_consumer("async_work", concurrency=1)
    stream = keys_for(sluice.settings.namespace, "async_work").stream
    sync_redis.xadd(stream, {"job_id": "async_work-" + "0" * 32})  # no such job: skipped
    sync_redis.xadd(stream, {"job_id": "garbage"})  # not a job id: dropped
    for _ in range(3):
        job = await sluice.submit("async_work", {"seconds": 0})
        done = await wait_for_status(sluice, job.job_id, "succeeded", timeout=10)
        assert done.attempts == 1
    assert sync_redis.xlen(stream) == 0


@pytest.mark.skipif(
    platform.libc_ver()[0] != "glibc" or any(name.startswith("MALLOC_") for name in os.environ),
    reason="glibc's malloc, as shipped",
)
async def test_warm_children_keep_freed_memory_for_the_next_job(
    sluice: Sluice, start_consumer: Callable[..., Proc]
) -> None:
    """Page-sized buffers one job frees are reused by the next job in the same warm child,
    not returned to the kernel and faulted in again page by page (glibc's default gives
    back all of 40 MB held at once)."""
    start_consumer("buffers", concurrency=1)
    seen = []
    for _ in range(2):
        job = await sluice.submit("buffers", {"count": 10, "mb": 4})
        done = await wait_for_status(sluice, job.job_id, "succeeded", timeout=30)
        seen.append(done.result_value())
    assert seen[0]["pid"] == seen[1]["pid"]
    pages = 10 * 4 * 2**20 // resource.getpagesize()
    assert seen[1]["faults"] < pages // 10, seen


async def test_warm_children_share_the_cpus_among_the_slots(
    sluice: Sluice, start_consumer: Callable[..., Proc]
) -> None:
    """With --concurrency N, a child's OpenCV gets 1/N of the CPUs (at least one thread),
    so N children at once do not run N times as many threads as there are cores."""
    for concurrency in (1, 2, 3):
        consumer = start_consumer("cv2_threads", concurrency=concurrency)
        job = await sluice.submit("cv2_threads", {})
        done = await wait_for_status(sluice, job.job_id, "succeeded", timeout=30)
        seen = done.result_value()
        assert seen["threads"] == max(1, seen["cpus"] // concurrency), (concurrency, seen)
        consumer.stop()
