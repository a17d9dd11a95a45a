"""Delayed jobs (``?delay=``, ``?not_before=``, ``Sluice.submit(delay=...)``): scheduled
until due, then queued within a second by any consumer; cancellable while scheduled;
counted in the backlog bound; kept across restarts of Redis and of every process."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest
import redis

from consumers.timers import Timers
from shared.client import Sluice
from shared.embedded import RedisServer
from shared.errors import InvalidInputError, QueueFullError
from shared.jobs import Submission, now_ms
from shared.keys import keys_for
from shared.quotas import Quotas
from shared.redis import client
from shared.settings import Settings
from shared.storage_quota import stored_by_hour
from tests.helpers import seconds_between, wait_for_status
from tests.inprocess import asgi_client, run_burst, serving


def _ms(iso: str | None) -> float:
    assert iso is not None
    return datetime.fromisoformat(iso).timestamp() * 1000


async def test_a_delayed_job_is_scheduled_until_due_then_queued_within_a_second(
    gateway_http: httpx.AsyncClient, settings: Settings, sluice: Sluice, sync_redis: redis.Redis
) -> None:
    before = now_ms()
    reply = await gateway_http.post("/v1/jobs/echo?delay=1.5", json={"n": 1})
    assert reply.status_code == 202, reply.text
    job = reply.json()
    assert job["status"] == "scheduled"
    due = _ms(job["not_before"])
    assert before + 1500 <= due <= now_ms() + 1500
    keys = keys_for(settings.namespace, "echo")
    assert sync_redis.xlen(keys.stream) == 0  # not on the stream yet
    assert sync_redis.zscore(keys.scheduled, job["job_id"]) == due
    status = (await gateway_http.get(f"/v1/jobs/{job['job_id']}")).json()
    assert status["status"] == "scheduled" and status["not_before"] == job["not_before"]

    async with serving(settings, "echo") as worker:
        await asyncio.wait_for(worker.started.wait(), 30)
        up = now_ms()  # a loaded machine may start it after the job was due
        # Long-poll for the first change: scheduled -> queued (or past it).
        changed = await gateway_http.get(f"/v1/jobs/{job['job_id']}?wait=10", timeout=15)
        assert changed.json()["status"] != "scheduled"
        noticed = now_ms()
        done = await wait_for_status(sluice, job["job_id"], "succeeded")
    assert due <= noticed < max(due, up) + 1000, "not queued within a second of being due"
    assert done.result_value() == {"n": 1}
    assert _ms(done.started_at) >= due
    assert sync_redis.zcard(keys.scheduled) == 0


async def test_not_before_takes_an_iso_moment_and_a_past_one_queues_at_once(
    gateway_http: httpx.AsyncClient, settings: Settings, sluice: Sluice
) -> None:
    moment = datetime.now(UTC) + timedelta(hours=2)
    text = moment.isoformat().replace("+00:00", "Z")
    reply = await gateway_http.post("/v1/jobs/echo", params={"not_before": text}, json={})
    assert reply.status_code == 202 and reply.json()["status"] == "scheduled", reply.text
    assert abs(_ms(reply.json()["not_before"]) - moment.timestamp() * 1000) <= 1
    # An offset other than Z names the same kind of moment.
    local = moment.astimezone(timezone(timedelta(hours=2))).isoformat()
    reply = await gateway_http.post("/v1/jobs/echo", params={"not_before": local}, json={})
    assert reply.json()["status"] == "scheduled"
    lower = text[:-1] + "z"  # RFC 3339 allows it
    reply = await gateway_http.post("/v1/jobs/echo", params={"not_before": lower}, json={})
    assert reply.json()["status"] == "scheduled", reply.text
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    reply = await gateway_http.post("/v1/jobs/echo", params={"not_before": past}, json={})
    assert reply.json()["status"] == "queued" and "not_before" not in reply.json()
    submission = await sluice.submit("echo", {}, delay=timedelta(seconds=30))
    assert submission.status == "scheduled"
    assert (await sluice.submit("echo", {}, delay=0)).status == "queued"


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ("delay=soon", "delay", "number of seconds"),
        ("delay=-1", "delay", "number of seconds"),
        ("delay=nan", "delay", "number of seconds"),
        ("delay=99999999", "delay", "MAX_DELAY"),
        ("not_before=tomorrow", "not_before", "ISO 8601"),
        ("not_before=2030-01-01T10:00:00", "not_before", "UTC offset"),
        ("not_before=2999-01-01T10:00:00Z", "not_before", "MAX_DELAY"),
        ("delay=5&not_before=2030-01-01T10:00:00Z", "delay", "not both"),
        ("delay=5&delay=6", "delay", "given 2 times"),
        ("delay=", "delay", "empty"),
        ("callback_url=", "callback_url", "empty"),
        ("delay=5_0", "delay", "number of seconds"),
        ("delay=%D9%A1%D9%A2", "delay", "number of seconds"),
    ],
)
@pytest.mark.any_redis
async def test_a_bad_delay_is_a_400_naming_it_and_queues_nothing(
    gateway_http: httpx.AsyncClient,
    settings: Settings,
    sync_redis: redis.Redis,
    query: str,
    field: str,
    words: str,
) -> None:
    reply = await gateway_http.post(f"/v1/jobs/echo?{query}", json={})
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert error["field"] == field and words in error["message"], error
    keys = keys_for(settings.namespace, "echo")
    assert sync_redis.xlen(keys.stream) == 0 and sync_redis.zcard(keys.scheduled) == 0


async def test_a_scheduled_job_cancelled_never_runs(
    gateway_http: httpx.AsyncClient, settings: Settings, sluice: Sluice, sync_redis: redis.Redis
) -> None:
    job = (await gateway_http.post("/v1/jobs/echo?delay=0.3", json={})).json()
    reply = await gateway_http.delete(f"/v1/jobs/{job['job_id']}")
    assert reply.status_code == 200 and reply.json()["status"] == "cancelled", reply.text
    keys = keys_for(settings.namespace, "echo")
    assert sync_redis.zcard(keys.scheduled) == 0
    # Past its due time a look queues nothing, and a second cancel says it has ended.
    await asyncio.sleep(0.35)
    assert (await Timers(sluice.redis, [keys]).promote_due())[0] == 0
    assert sync_redis.xlen(keys.stream) == 0
    assert (await gateway_http.delete(f"/v1/jobs/{job['job_id']}")).status_code == 409
    assert (await sluice.status(job["job_id"])).started_at is None


async def test_scheduled_jobs_count_in_the_backlog_bound(
    gateway_http: httpx.AsyncClient, settings: Settings, sluice: Sluice
) -> None:
    # tiny_queue's bound is 2: two delayed jobs fill it, for single and batch submissions.
    for _ in range(2):
        assert (await sluice.submit("tiny_queue", {}, delay=60)).status == "scheduled"
    with pytest.raises(QueueFullError):
        await sluice.submit("tiny_queue", {})
    reply = await gateway_http.post("/v1/jobs/tiny_queue/batch?delay=5", json=[{}])
    assert reply.status_code == 429, reply.text


async def test_a_delayed_batch_schedules_every_job(
    gateway_http: httpx.AsyncClient, settings: Settings, sluice: Sluice
) -> None:
    reply = await gateway_http.post("/v1/jobs/echo/batch?delay=0.2", json=[{"n": 1}, {"n": 2}])
    assert reply.status_code == 202, reply.text
    jobs = reply.json()["jobs"]
    assert {job["status"] for job in jobs} == {"scheduled"}
    keys = keys_for(settings.namespace, "echo")
    await asyncio.sleep(0.25)
    assert (await Timers(sluice.redis, [keys]).promote_due())[0] == 2
    await run_burst(settings, "echo")
    for job, n in zip(jobs, (1, 2), strict=True):
        assert (await sluice.status(job["job_id"])).result_value() == {"n": n}


async def test_a_delayed_document_keeps_its_upload_until_it_is_due(
    gateway_http: httpx.AsyncClient, settings: Settings, sync_redis: redis.Redis
) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 100
    reply = await gateway_http.post(
        "/v1/jobs/digest?delay=3600",
        content=png,
        headers={"content-type": "image/png"},
    )
    assert reply.status_code == 202 and reply.json()["status"] == "scheduled", reply.text
    upload = keys_for(settings.namespace, "digest").upload(reply.json()["job_id"])
    assert sync_redis.ttl(upload) > settings.upload_ttl + 3500


async def test_delayed_jobs_survive_restarts_of_redis_and_of_every_process(
    own_redis: RedisServer, namespace: str
) -> None:
    settings = Settings.from_env({"REDIS_URL": own_redis.url, "SLUICE_NAMESPACE": namespace})
    async with asgi_client(settings) as http:
        job = (await http.post("/v1/jobs/echo?delay=1", json={"n": 7})).json()
        assert job["status"] == "scheduled"
    own_redis.stop()  # a restart: the AOF holds the scheduled set
    own_redis.start()
    async with Sluice.connect(settings) as sluice, serving(settings, "echo"):
        done = await wait_for_status(sluice, job["job_id"], "succeeded", timeout=15)
    assert done.result_value() == {"n": 7}
    assert seconds_between(job["not_before"], done.started_at) >= 0


async def test_two_consumers_queue_a_due_job_once(settings: Settings, sluice: Sluice) -> None:
    keys = keys_for(settings.namespace, "echo")
    jobs = [await sluice.submit("echo", {"n": n}, delay=0.05) for n in range(50)]
    await asyncio.sleep(0.06)
    second = client(settings.redis_url)
    try:
        counts = await asyncio.gather(
            Timers(sluice.redis, [keys]).promote_due(), Timers(second, [keys]).promote_due()
        )
    finally:
        await second.aclose()
    assert counts[0][0] + counts[1][0] == len(jobs)
    assert await sluice.redis.xlen(keys.stream) == len(jobs)


async def test_a_bad_delay_in_python_names_the_keyword(sluice: Sluice) -> None:
    with pytest.raises(InvalidInputError) as caught:
        await sluice.submit("echo", {}, not_before=datetime(2030, 1, 1))
    assert caught.value.details["field"] == "not_before"


async def test_the_timer_loop_lives_through_a_redis_refusing_writes(
    own_redis: RedisServer, namespace: str
) -> None:
    """A node demoted to replica (a failover) answers READONLY for a while: the look is
    tried again, and the due job is queued once the node takes writes."""
    settings = Settings.from_env({"REDIS_URL": own_redis.url, "SLUICE_NAMESPACE": namespace})
    keys = keys_for(namespace, "echo")
    async with Sluice.connect(settings) as sluice:
        job = await sluice.submit("echo", {}, delay=0.05)
        await sluice.redis.execute_command("REPLICAOF", "127.0.0.1", "1")  # nothing there
        stopping = asyncio.Event()
        loop = asyncio.create_task(Timers(sluice.redis, [keys]).loop(stopping))
        await asyncio.sleep(0.6)  # a look or two meets READONLY
        assert not loop.done(), "the timer loop died"
        await sluice.redis.execute_command("REPLICAOF", "NO", "ONE")
        await wait_for_status(sluice, job.job_id, "queued", timeout=5)
        stopping.set()
        await loop


async def test_a_delayed_documents_bytes_count_as_long_as_it_waits(
    sluice: Sluice, settings: Settings
) -> None:
    """Its upload is kept until it runs (and UPLOAD_TTL on): its tenant's bytes count as
    long, not only for UPLOAD_TTL."""
    limits = Quotas(bytes=10**6).effective(settings)
    week = 7 * 86_400
    png = b"\x89PNG\r\n\x1a\n" + bytes(992)
    await sluice.submit_document("digest", png, tenant="acme", limits=limits, delay=week)
    later = time.time() + week + settings.upload_ttl - 3600
    ledger = await stored_by_hour(sluice.redis, settings.namespace, "acme", ["digest"], later)
    assert sum(ledger.values()) == 1000


def queue_with_one_entry_id(
    sync_redis: redis.Redis, namespace: str, jobs: Sequence[Submission]
) -> None:
    """Queue delayed jobs of different functions as promote.lua does, all under one stream
    entry id (as entries added to two streams in the same millisecond get)."""
    for job in jobs:
        keys = keys_for(namespace, job.function)
        sync_redis.zrem(keys.scheduled, job.job_id)
        sync_redis.xadd(keys.stream, {"job_id": job.job_id}, id="1700000000000-0")
        sync_redis.hset(
            keys.job(job.job_id), mapping={"status": "queued", "entry_id": "1700000000000-0"}
        )


async def test_jobs_of_two_functions_with_one_entry_id_both_run_at_once(
    settings: Settings, sluice: Sluice, sync_redis: redis.Redis
) -> None:
    """Two streams give the same id to entries added in the same millisecond (delayed jobs
    of two functions falling due together, as promote.lua queues them): a consumer of
    both runs each at once, neither taken for the other."""
    slow = await sluice.submit("work", {"seconds": 0.5}, delay=60)
    quick = await sluice.submit("echo", {"n": 1}, delay=60)
    queue_with_one_entry_id(sync_redis, settings.namespace, [slow, quick])
    # Long visibility: a job skipped would wait for the reclaim, far past this test's waits.
    patient = settings.replace(visibility_timeout=60.0, heartbeat_interval=5.0)
    async with serving(patient, "work", "echo") as worker:
        await asyncio.wait_for(worker.started.wait(), 30)
        done = await wait_for_status(sluice, quick.job_id, "succeeded", timeout=5)
        await wait_for_status(sluice, slow.job_id, "succeeded", timeout=5)
    assert done.result_value() == {"n": 1}


async def test_a_negative_delay_in_python_is_refused(sluice: Sluice) -> None:
    for delay in (-1, float("nan"), timedelta(seconds=-5)):
        with pytest.raises(InvalidInputError) as caught:
            await sluice.submit("echo", {}, delay=delay)
        assert ">= 0" in caught.value.message


async def test_jobs_of_two_functions_with_one_entry_id_both_keep_their_leases(
    settings: Settings, sluice: Sluice, sync_redis: redis.Redis
) -> None:
    """Both run three visibility timeouts long on one consumer: each gets its own
    heartbeats, so neither is ever claimed again (its delivery count stays 1)."""
    jobs = [
        await sluice.submit(function, {"seconds": 3.0}, delay=60)
        for function in ("work", "async_work")
    ]
    queue_with_one_entry_id(sync_redis, settings.namespace, jobs)
    leased = settings.replace(visibility_timeout=1.0, heartbeat_interval=0.3)
    streams = [keys_for(settings.namespace, job.function).stream for job in jobs]
    async with serving(leased, "work", "async_work") as worker:
        await asyncio.wait_for(worker.started.wait(), 30)
        for job in jobs:
            await wait_for_status(sluice, job.job_id, "running", timeout=5)
        while (await sluice.status(jobs[0].job_id)).status == "running":
            for stream in streams:
                for entry in sync_redis.xpending_range(stream, "workers", "-", "+", 10):
                    assert entry["times_delivered"] == 1, (stream, entry)
            await asyncio.sleep(0.1)
        for job in jobs:
            done = await wait_for_status(sluice, job.job_id, "succeeded", timeout=10)
            assert done.attempts == 1
