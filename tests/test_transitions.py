"""Each transition of a job written in one place (shared/lua/prelude.lua), whichever script
reaches it: dead-lettered by a last failure or by a start that finds the attempts used up,
cancelled while queued, while running, or after its consumer died, and entries released
by the one release function. Against a real Redis (7.0 and 6.2), through the builders of
shared/script_calls.py, with no consumer process."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from importlib import resources
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from consumers.outcomes import release_entries
from shared import script_calls as builders
from shared.embedded import RedisServer
from shared.jobs import now_iso
from shared.keys import GROUP, FunctionKeys, keys_for, new_job_id
from shared.redis import Client, connect
from shared.scripts import Scripts, run_batched
from shared.settings import Settings
from tests.script_redis import failing_call, queue, start

SETTINGS = Settings(visibility_timeout=30.0, result_ttl=3600, dead_letter_max=100)


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[Client]:
    async with connect(redis_server.url) as client:
        yield client


@pytest.fixture
def keys(namespace: str) -> FunctionKeys:
    return keys_for(namespace, "echo")


async def ended(redis: Redis, keys: FunctionKeys, job_id: str, dead: bool = False) -> Any:
    """The job's status hash, after checking what every end does: entry acknowledged and
    deleted, upload deleted (kept with the status, for a replay, if ``dead``), status
    expiring."""
    assert await redis.xlen(keys.stream) == 0
    assert (await redis.xpending(keys.stream, GROUP))["pending"] == 0
    ttl = await redis.pttl(keys.job(job_id))
    assert 0 < ttl <= SETTINGS.result_ttl * 1000
    upload_ttl = await redis.pttl(keys.upload(job_id))
    assert abs(upload_ttl - ttl) <= 100 if dead else upload_ttl == -2
    status: Any = await redis.hgetall(keys.job(job_id))
    assert status[b"consumer"] == b"" and status[b"finished_at"]
    return status


async def outbox(redis: Redis, keys: FunctionKeys) -> list[dict[bytes, bytes]]:
    entries: Any = await redis.xrange(keys.chain)
    return [fields for _, fields in entries]


async def test_dead_lettered_by_a_last_failure_or_by_a_start_alike(
    redis: Redis, keys: FunctionKeys
) -> None:
    """One rule (max_attempts attempts, no more), one message, the same dead letter: a
    last attempt that failed keeps its error type; one whose consumer died is
    AttemptsExhausted, naming the error of the attempt before."""
    failed_id, failed_next = await queue(redis, keys)
    assert (await start(redis, keys, failed_id, "c1"))[0] == b"run"
    entry_id = await redis.hget(keys.job(failed_id), "entry_id")
    assert isinstance(entry_id, bytes)
    fail = failing_call(
        keys, failed_id, entry_id, failed_next, settings=SETTINGS, ending=[keys.upload(failed_id)]
    )
    assert await Scripts(redis).run(fail) == 3  # dead-lettered, its follow-up in the outbox
    by_failure = await ended(redis, keys, failed_id, dead=True)

    died_id, died_next = await queue(redis, keys, max_attempts=2)
    for consumer in ("c1", "c2"):  # c1 fails attempt 1; c2 dies in attempt 2
        assert (await start(redis, keys, died_id, consumer))[0] == b"run"
    await redis.hset(keys.job(died_id), "error", '{"type":"KeyError","message":"no x"}')
    assert await start(redis, keys, died_id, "c3") == [b"dead"]
    by_start = await ended(redis, keys, died_id, dead=True)

    assert by_failure[b"status"] == by_start[b"status"] == b"failed"
    assert _error(by_failure) == {
        "type": "ValueError",
        "message": "boom (attempt 1 of 1, giving up)",
    }
    assert _error(by_start) == {
        "type": "AttemptsExhausted",
        "message": "the process running it died; last error: no x (attempt 2 of 2, giving up)",
    }
    dead: Any = await redis.xrange(keys.dead)
    assert [fields for _, fields in dead] == [
        {
            b"job_id": job_id.encode(),
            b"entry_id": status[b"entry_id"],
            b"error": status[b"error"],
            b"attempts": status[b"attempts"],
        }
        for job_id, status in ((failed_id, by_failure), (died_id, by_start))
    ]
    assert await outbox(redis, keys) == [
        {b"job_id": job_id.encode(), b"next_job_id": next_id.encode(), b"outcome": b"failed"}
        for job_id, next_id in ((failed_id, failed_next), (died_id, died_next))
    ]


def _error(status: dict[bytes, bytes]) -> Any:
    return json.loads(status[b"error"])


async def test_a_failure_with_attempts_left_is_retried_not_dead_lettered(
    redis: Redis, keys: FunctionKeys
) -> None:
    job_id, next_id = await queue(redis, keys, max_attempts=2)
    assert (await start(redis, keys, job_id, "c1"))[0] == b"run"
    entry_id = await redis.hget(keys.job(job_id), "entry_id")
    assert isinstance(entry_id, bytes)
    before = int(time.time() * 1000)
    fail = failing_call(
        keys, job_id, entry_id, next_id, settings=SETTINGS, ending=[keys.upload(job_id)],
        now_ms=before,
    )  # fmt: skip
    assert await Scripts(redis).run(fail) == 1
    status: Any = await redis.hgetall(keys.job(job_id))
    assert status[b"status"] == b"retrying" and status[b"consumer"] == b""
    assert _error(status) == {"type": "ValueError", "message": "boom"}
    assert int(status[b"not_before_ms"]) == before + 400
    assert await redis.xlen(keys.dead) == 0 and await outbox(redis, keys) == []
    assert await redis.exists(keys.upload(job_id)) == 1  # kept for the next attempt


async def test_cancelled_queued_running_or_after_its_consumer_died_ends_alike(
    redis: Redis, keys: FunctionKeys
) -> None:
    """cancel.lua decides: a queued job ends at once; a running one is flagged, which the
    lease reports whether it renews or only looks, and ends when its consumer stops it or
    when the next start finds its consumer dead. All three end the same way."""
    queued_id, queued_next = await queue(redis, keys)
    cancel = builders.cancel_call(
        keys, job_id=queued_id, idempotency_key="", now=now_iso(), result_ttl=SETTINGS.result_ttl
    )
    assert await Scripts(redis).run(cancel) == [b"cancelled"]
    endings = {"queued": await ended(redis, keys, queued_id)}

    for how in ("stopped", "died"):
        job_id, _ = await queue(redis, keys)
        assert (await start(redis, keys, job_id, "c1"))[0] == b"run"
        cancel = builders.cancel_call(
            keys, job_id=job_id, idempotency_key="", now=now_iso(), result_ttl=3600
        )
        assert await Scripts(redis).run(cancel) == [b"cancelling"]
        entry_id = await redis.hget(keys.job(job_id), "entry_id")
        assert isinstance(entry_id, bytes)
        leases = [
            builders.lease_call(keys, job_id=job_id, entry_id=entry_id, consumer="c1", renew=renew)
            for renew in (True, False)
        ]
        assert await run_batched(redis, leases) == [2, 2]
        if how == "stopped":
            complete = builders.complete_call(
                keys,
                job_id=job_id,
                entry_id=entry_id,
                consumer="c1",
                status="cancelled",
                result=b"",
                error=b"",
                ending=[keys.upload(job_id)],
                now=now_iso(),
                result_ttl=SETTINGS.result_ttl,
                next_job_id=await _next_job_id(redis, keys, job_id),
                message="",
                began_at="",
            )
            assert await Scripts(redis).run(complete) == 2
        else:
            assert await start(redis, keys, job_id, "c2") == [b"skip", b"cancelled"]
        endings[how] = await ended(redis, keys, job_id)

    for status in endings.values():
        assert (status[b"status"], status[b"cancel"]) == (b"cancelled", b"1")
        assert b"result" not in status and b"error" not in status
    outcomes = [entry[b"outcome"] for entry in await outbox(redis, keys)]
    assert outcomes == [b"cancelled"] * 3
    assert (await outbox(redis, keys))[0][b"next_job_id"] == queued_next.encode()


async def _next_job_id(redis: Redis, keys: FunctionKeys, job_id: str) -> str:
    value = await redis.hget(keys.job(job_id), "next_job_id")
    return value.decode() if isinstance(value, bytes) else ""


async def test_release_gives_entries_back_claimable_at_once_attempts_not_counted(
    redis: Redis, keys: FunctionKeys
) -> None:
    """The one release (shutdown, an entry read beyond the free slots, a job taken ahead
    that waited): an attempt begun here is not counted, an entry never started is only
    given back, one no longer ours is refused."""
    started_id, _ = await queue(redis, keys)
    unstarted_id, _ = await queue(redis, keys)
    assert (await start(redis, keys, started_id, "c1"))[0] == b"run"
    assert await redis.hget(keys.job(started_id), "attempts") == b"1"
    theirs_id, _ = await queue(redis, keys)
    await start(redis, keys, theirs_id, "c2")
    entries = [
        (await _entry_id(redis, keys, job_id), job_id)
        for job_id in (started_id, unstarted_id, theirs_id)
    ]
    released = await release_entries(redis, keys, "c1", entries, SETTINGS)
    assert released == [True, True, False]
    for job_id in (started_id, unstarted_id):
        status, attempts, consumer = await redis.hmget(
            keys.job(job_id), ["status", "attempts", "consumer"]
        )
        assert (status, attempts, consumer or b"") == (b"queued", b"0", b"")
    # Claimable at once: idle as long as the visibility timeout already.
    pending: Any = await redis.xpending_range(keys.stream, GROUP, min="-", max="+", count=10)
    idle = {item["message_id"]: item["time_since_delivered"] for item in pending}
    for entry_id, _ in entries[:2]:
        assert idle[entry_id] >= SETTINGS.visibility_ms
    assert idle[entries[2][0]] < SETTINGS.visibility_ms


async def _entry_id(redis: Redis, keys: FunctionKeys, job_id: str) -> bytes:
    entry_id = await redis.hget(keys.job(job_id), "entry_id")
    assert isinstance(entry_id, bytes)
    return entry_id


async def test_an_error_in_a_script_body_names_its_own_line(
    redis: Redis, keys: FunctionKeys
) -> None:
    """The prelude is composed after the body: Lua's error positions in a body are still
    its file's line numbers."""
    call = builders.submit_call(
        keys,
        job_id=new_job_id("echo"),
        payload=b"{}",
        max_attempts=1,
        created_at=now_iso(),
        max_backlog=1000,
        idempotency_ttl=3600,
    )
    args = list(call.args)
    args[5] = "lots"  # the backlog bound: no number
    source = resources.files("shared").joinpath("lua", "submit.lua").read_text("utf-8")
    line = source.splitlines().index("if backlog >= max_backlog then") + 1
    with pytest.raises(ResponseError, match=f"user_script:{line}:"):
        await Scripts(redis).run(call._replace(args=args))
