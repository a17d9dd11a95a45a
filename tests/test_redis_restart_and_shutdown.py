"""Surviving a Redis crash, and draining on SIGTERM.

Consumers that are signalled or lose Redis are processes; the gateway, and consumers that
only take over after them, run in the test's process (tests/inprocess.py). Cancelling is in
tests/test_cancelling.py.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import redis

from consumers.lifecycle import SHUTDOWN_WRITE_SECONDS
from shared.client import Sluice
from shared.embedded import RedisServer
from shared.keys import keys_for
from shared.script_calls import start_call
from shared.scripts import Scripts
from shared.settings import Settings
from tests.conftest import Proc
from tests.helpers import effects, wait_for_lines, wait_for_status, wait_gone
from tests.inprocess import asgi_client, serving


async def wait_ready(http: httpx.AsyncClient, code: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        reply = await http.get("/readyz")
        if reply.status_code == code:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"/readyz is {reply.status_code}, not {code}")
        await asyncio.sleep(0.05)


# Redis restart


async def test_redis_killed_under_submissions_loses_no_accepted_job(
    own_redis: RedisServer, env: dict[str, str], start_consumer: Callable[..., Proc]
) -> None:
    env["REDIS_URL"] = own_redis.url
    consumers = [start_consumer("echo", "async_work", concurrency=16) for _ in range(2)]
    settings = Settings.from_env(env)

    accepted: list[str] = []
    accepted_after_restart: list[str] = []
    codes: list[int] = []
    restarted = asyncio.Event()

    async def submit(http: httpx.AsyncClient, stop_at: float) -> None:
        n = 0
        while time.monotonic() < stop_at:
            n += 1
            if n % 2:
                reply = await http.post("/v1/jobs/echo", json={"n": n})
            else:
                # Long enough that some are running on the consumers when Redis dies.
                reply = await http.post("/v1/jobs/async_work", json={"seconds": 0.3})
            codes.append(reply.status_code)
            if reply.status_code == 202:
                accepted.append(reply.json()["job_id"])
                if restarted.is_set():
                    accepted_after_restart.append(reply.json()["job_id"])
            else:
                assert reply.status_code == 503, reply.text
                assert reply.json()["error"]["type"] == "unavailable"
                assert int(reply.headers["retry-after"]) >= 1
            await asyncio.sleep(0.01)

    # The gateway app in this process: requests through its ASGI transport run at once.
    async with asgi_client(settings) as http:
        await wait_ready(http, 200)
        begin = time.monotonic()
        submitters = [asyncio.create_task(submit(http, begin + 4.5)) for _ in range(2)]
        await asyncio.sleep(1.5)
        accepted_before_kill = len(accepted)
        own_redis.kill()
        killed = time.monotonic()
        await wait_ready(http, 503, timeout=3)
        reply = await http.get("/readyz")
        assert reply.status_code == 503 and "retry-after" in reply.headers
        await asyncio.sleep(max(0.0, killed + 1.0 - time.monotonic()))
        own_redis.start()
        restarted.set()
        await wait_ready(http, 200, timeout=5)
        await asyncio.gather(*submitters)

    assert accepted_before_kill > 10
    assert 503 in codes, "no submission saw Redis down"
    assert accepted_after_restart, "the gateway did not reconnect"
    assert set(codes) <= {202, 503}

    async with Sluice.connect(settings) as sluice:
        for job_id in accepted:
            status = await wait_for_status(sluice, job_id, "succeeded", "failed", timeout=15)
            assert status.status == "succeeded", status
        for function in ("echo", "async_work"):
            stream = keys_for(settings.namespace, function).stream
            deadline = time.monotonic() + 5
            while await sluice.redis.xlen(stream) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert await sluice.redis.xlen(stream) == 0
        # The same processes reconnected by themselves, and each one still reads new jobs:
        # with the other one frozen, new jobs run only if this one's read loop is alive.
        assert all(consumer.alive() for consumer in consumers)
        for reading, frozen in (consumers, consumers[::-1]):
            frozen.signal(signal.SIGSTOP)
            try:
                # Let the frozen one's blocking read (2 s) time out, so it takes no entry.
                await asyncio.sleep(2.3)
                late = [await sluice.submit("echo", {"on": reading.pid, "n": n}) for n in range(3)]
                for job in late:
                    done = await wait_for_status(sluice, job.job_id, "succeeded", timeout=5)
                    assert done.result_value() == {"on": reading.pid, "n": late.index(job)}
            finally:
                frozen.signal(signal.SIGCONT)


async def test_connections_redis_closed_are_not_handed_to_requests(
    own_redis: RedisServer, env: dict[str, str]
) -> None:
    """Redis closing the gateway's pooled connections (a restart, a dropped network, its
    idle `timeout`) costs no request a 503: a closed connection is replaced before use."""
    settings = Settings.from_env({**env, "REDIS_URL": own_redis.url})
    admin = redis.Redis.from_url(own_redis.url)
    try:
        async with asgi_client(settings) as http:
            job_id = (await http.post("/v1/jobs/echo", json={"n": 1})).json()["job_id"]
            # Several pooled connections: requests at once each take one.
            replies = await asyncio.gather(*(http.get(f"/v1/jobs/{job_id}") for _ in range(8)))
            assert {reply.status_code for reply in replies} == {200}
            admin.client_kill_filter(_type="normal", skipme=True)
            await asyncio.sleep(0.5)
            replies = await asyncio.gather(
                *(http.get(f"/v1/jobs/{job_id}") for _ in range(8)),
                http.get(f"/v1/jobs/{job_id}/result"),
                http.get("/readyz"),
            )
            assert [reply.status_code for reply in replies] == [200] * 8 + [409, 200], [
                reply.text for reply in replies
            ]
    finally:
        admin.close()


# Graceful shutdown


async def test_sigterm_finishes_short_jobs_and_releases_long_ones(
    sluice: Sluice,
    env: dict[str, str],
    start_consumer: Callable[..., Proc],
    tmp_path: Path,
) -> None:
    grace = 2.0
    # The visibility timeout of production: released entries are claimable at once, and a
    # consumer starting reclaims at once, not at its first timed recovery pass (15 s).
    visibility = "30"
    first = start_consumer("work", SHUTDOWN_GRACE=str(grace), VISIBILITY_TIMEOUT=visibility)
    effect = tmp_path / "effect"
    short = await sluice.submit("work", {"seconds": 1.0})
    long = await sluice.submit("work", {"seconds": 4.0, "effect_path": str(effect)})
    await wait_for_status(sluice, short.job_id, "running", timeout=10)
    await wait_for_status(sluice, long.job_id, "running", timeout=10)
    [started] = await wait_for_lines(effect, "start", 1)

    signalled = time.monotonic()
    first.signal(signal.SIGTERM)
    first.wait_for_event("shutdown_requested", timeout=5)
    late_effect = tmp_path / "late"
    late = await sluice.submit("work", {"seconds": 0.1, "effect_path": str(late_effect)})

    assert await asyncio.to_thread(first.wait, grace + 5) == 0
    assert time.monotonic() - signalled < grace + 3

    assert (await sluice.status(short.job_id)).status == "succeeded"
    released = await sluice.status(long.job_id)
    assert released.status == "queued", released
    assert released.attempts == 0
    assert released.progress == 0 and released.message == ""  # not the stopped attempt's
    assert released.started_at is None
    assert effects(effect) == []
    await wait_gone(int(started[2]))  # its child too: nothing of it can take the late job
    queued = await sluice.status(late.job_id)
    assert queued.status == "queued" and queued.attempts == 0
    assert effects(late_effect, "start") == []

    # Not signalled: the next consumer runs in this process (it lives to the block's end).
    async with serving(
        Settings.from_env({**env, "VISIBILITY_TIMEOUT": visibility}), "work"
    ) as next_:
        # Its process pool may take a while on a loaded machine; from its start, the
        # released job is taken at once (its first timed recovery pass is 15 s away).
        await asyncio.wait_for(next_.started.wait(), 30)
        await wait_for_status(sluice, long.job_id, "running", timeout=5)
        done = await wait_for_status(sluice, long.job_id, "succeeded", "failed", timeout=15)
        assert done.status == "succeeded", done
        assert done.attempts == 1
        assert len(effects(effect)) == 1
        assert len(effects(effect, "start")) == 2
        late_done = await wait_for_status(sluice, late.job_id, "succeeded", "failed", timeout=10)
        assert late_done.status == "succeeded" and late_done.attempts == 1


async def test_sigterm_during_a_redis_outage_exits_after_the_grace_and_loses_no_job(
    own_redis: RedisServer,
    env: dict[str, str],
    start_consumer: Callable[..., Proc],
    tmp_path: Path,
) -> None:
    """Releasing needs Redis: while it is down, a stopping consumer tries until the grace
    period and SHUTDOWN_WRITE_SECONDS are over, then exits 0 (it waited for Redis for as
    long as the outage lasted). Once Redis is back, another consumer runs the job, once."""
    env["REDIS_URL"] = own_redis.url
    # Under load, appendfsync everysec may postpone an acknowledged write past the kill;
    # what is tested here is the consumer, given a Redis that keeps what it acknowledged.
    with redis.Redis.from_url(own_redis.url) as admin:
        admin.config_set("appendfsync", "always")
    grace = 1.0
    first = start_consumer("work", SHUTDOWN_GRACE=str(grace))
    effect = tmp_path / "effect"
    async with Sluice.connect(Settings.from_env(env)) as sluice:
        job = await sluice.submit("work", {"seconds": 3.0, "effect_path": str(effect)})
        await wait_for_status(sluice, job.job_id, "running", timeout=10)
    await wait_for_lines(effect, "start", 1)

    own_redis.kill()
    signalled = time.monotonic()
    first.signal(signal.SIGTERM)
    assert await asyncio.to_thread(first.wait, 30) == 0
    took = time.monotonic() - signalled
    assert took < grace + SHUTDOWN_WRITE_SECONDS + 3, took

    own_redis.start()
    settings = Settings.from_env(env)
    async with Sluice.connect(settings) as sluice, serving(settings, "work"):
        done = await wait_for_status(sluice, job.job_id, "succeeded", "failed", timeout=30)
    assert done.status == "succeeded" and done.attempts == 2, done
    assert len(effects(effect)) == 1 and len(effects(effect, "start")) == 2


async def test_sigterm_to_the_whole_process_group_lets_sync_jobs_finish(
    sluice: Sluice, start_consumer: Callable[..., Proc], tmp_path: Path
) -> None:
    """A PaaS (and honcho) signals the process group: the warm children must live on
    and finish their job within the grace period; only the consumer decides."""
    consumer = start_consumer("work", concurrency=1, SHUTDOWN_GRACE="10")
    effect = tmp_path / "effect"
    job_id = (await sluice.submit("work", {"seconds": 2.0, "effect_path": str(effect)})).job_id
    await wait_for_lines(effect, "start", 1)
    os.killpg(consumer.pid, signal.SIGTERM)
    assert consumer.wait(20) == 0
    done = await wait_for_status(sluice, job_id, "succeeded", "failed", "retrying", "queued")
    assert done.status == "succeeded" and done.attempts == 1, done
    assert len(effects(effect)) == 1


async def test_a_lost_reply_to_start_does_not_use_up_an_attempt(
    sluice: Sluice, settings: Settings, namespace: str
) -> None:
    """start.lua run twice for the same entry by the same consumer (its first reply lost)
    is the same attempt, not a second one."""
    submission = await sluice.submit("hog", {"megabytes": 1})  # max_attempts=1
    keys = keys_for(namespace, "hog")
    redis = sluice.redis
    await redis.xgroup_create(keys.stream, "workers", id="0")
    reply: Any = await redis.xreadgroup("workers", "c1", {keys.stream: ">"}, count=1)
    entries = reply[0][1] if isinstance(reply, list) else next(iter(reply.values()))[0]
    entry_id: bytes = entries[0][0]
    call = start_call(
        keys,
        job_id=submission.job_id,
        entry_id=entry_id,
        consumer="c1",
        settings=settings,
        now_ms=int(time.time() * 1000),
        now="2026-01-01T00:00:00Z",
        with_upload=False,
    )
    scripts = Scripts(redis)
    first = await scripts.run(call)
    again = await scripts.run(call)
    assert first[0] == again[0] == b"run"
    assert first[2] == again[2] == b"1"
    status = await sluice.status(submission.job_id)
    assert status.status == "running" and status.attempts == 1


def test_sigterm_before_redis_ever_answered_exits_at_once(
    env: dict[str, str], tmp_path: Path, nowhere: str
) -> None:
    """A consumer still waiting for Redis at start-up stops on SIGTERM (exit 0), instead of
    retrying until the platform SIGKILLs it."""
    consumer = Proc(
        [sys.executable, "-m", "consumers", "echo"],
        {**env, "REDIS_URL": nowhere},
        tmp_path / "consumer.log",
    )
    try:
        consumer.wait_for_event("redis_unavailable")
        consumer.signal(signal.SIGTERM)
        assert consumer.wait(timeout=5) == 0, consumer.log()
        assert consumer.events("consumer_stopped")
        assert not consumer.events("consumer_started")
    finally:
        consumer.stop()
