"""What the Lua script tests share: the ``redis`` fixture (a client with the scripts
loaded), the settings the calls run under, submit.lua's call, and a job queued and started
by hand (queue, start)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest

from shared import script_calls as builders
from shared.embedded import RedisServer
from shared.jobs import now_iso
from shared.keys import GROUP, FunctionKeys, keys_for, new_job_id
from shared.redis import Client, connect
from shared.scripts import SCRIPTS, ScriptCall, Scripts
from shared.settings import Settings

BACKLOG = 1_000_000
SETTINGS = Settings(visibility_timeout=30.0, result_ttl=3600, dead_letter_max=10_000)


@pytest.fixture(name="redis")
async def scripts_redis(redis_server: RedisServer) -> AsyncIterator[Client]:
    """A client made as sluice makes them, with the scripts loaded (no NOSCRIPT round)."""
    async with connect(redis_server.url) as client:
        for script in SCRIPTS.values():
            await client.script_load(script.source)
        yield client


def submit_call(
    namespace: str, function: str, job_id: str, *, backlog: int = BACKLOG
) -> ScriptCall:
    return builders.submit_call(
        keys_for(namespace, function),
        job_id=job_id,
        payload=b'{"n":1}',
        max_attempts=3,
        created_at=now_iso(),
        max_backlog=backlog,
        idempotency_ttl=3600,
    )


async def queue(redis: Client, keys: FunctionKeys, max_attempts: int = 1) -> tuple[str, str]:
    """A job with a follow-up and an upload, delivered to consumer c1: (job id, follow-up's)."""
    job_id, next_job_id = new_job_id("echo"), new_job_id("echo")
    call = builders.submit_call(
        keys,
        job_id=job_id,
        payload=b"{}",
        max_attempts=max_attempts,
        created_at=now_iso(),
        max_backlog=1000,
        idempotency_ttl=3600,
        next_job_id=next_job_id,
    )
    assert await Scripts(redis).run(call) == [b"queued", job_id.encode()]
    await redis.set(keys.upload(job_id), b"%PDF")
    if not await redis.xinfo_groups(keys.stream):
        await redis.xgroup_create(keys.stream, GROUP, id="0")
    await redis.xreadgroup(GROUP, "c1", {keys.stream: ">"})
    return job_id, next_job_id


async def start(redis: Client, keys: FunctionKeys, job_id: str, consumer: str) -> Any:
    """start.lua by ``consumer``, on the entry of ``job_id`` (claimed for it first)."""
    entry_id = await redis.hget(keys.job(job_id), "entry_id")
    assert isinstance(entry_id, bytes)
    await redis.xclaim(keys.stream, GROUP, consumer, 0, [entry_id], justid=True)
    call = builders.start_call(
        keys,
        job_id=job_id,
        entry_id=entry_id,
        consumer=consumer,
        settings=SETTINGS,
        now_ms=int(time.time() * 1000),
        now=now_iso(),
        with_upload=True,
    )
    return await Scripts(redis).run(call)


def failing_call(
    keys: FunctionKeys,
    job_id: str,
    entry_id: bytes,
    next_job_id: str,
    *,
    settings: Settings = SETTINGS,
    ending: Sequence[str] = (),
    now_ms: int | None = None,
    duration_us: int | None = None,
) -> ScriptCall:
    """fail.lua for consumer c1's attempt: a ValueError "boom", to retry in 400 ms."""
    return builders.fail_call(
        keys,
        job_id=job_id,
        entry_id=entry_id,
        consumer="c1",
        error_type="ValueError",
        message="boom",
        retry_in_ms=400,
        settings=settings,
        ending=ending,
        now_ms=int(time.time() * 1000) if now_ms is None else now_ms,
        now=now_iso(),
        next_job_id=next_job_id,
        began_at="",
        duration_us=duration_us,
    )
