"""What single Lua scripts leave in a real Redis (7.0 and 6.2): take.lua's read, starts
and upload copy (after NOSCRIPT too), the job hash submit.lua writes, and the consumers
forget.lua drops."""

from __future__ import annotations

import time
from typing import Any

from redis.asyncio import Redis

from shared import script_calls as builders
from shared.client import Sluice
from shared.jobs import now_iso
from shared.keys import GROUP, keys_for, new_job_id
from shared.scripts import ScriptCall, Scripts, run_batched
from tests.script_redis import (
    SETTINGS,
    scripts_redis,  # noqa: F401  (the redis fixture)
    submit_call,
)

# take.lua: a read and its starts in one call


def take_call(namespace: str, function: str, count: int, copy_max: int = 1000) -> ScriptCall:
    """Consumer c1 takes up to ``count`` entries of a document function."""
    keys = keys_for(namespace, function)
    return builders.take_call(
        keys,
        consumer="c1",
        count=count,
        settings=SETTINGS,
        now_ms=int(time.time() * 1000),
        now=now_iso(),
        copy_to=keys.taking("c1"),
        copy_max=copy_max,
    )


async def queue_documents(redis: Redis, namespace: str, count: int) -> list[str]:
    """``count`` render jobs, each with a 100-byte upload of its own."""
    job_ids = [new_job_id("render") for _ in range(count)]
    keys = keys_for(namespace, "render")
    await run_batched(redis, [submit_call(namespace, "render", job_id) for job_id in job_ids])
    for n, job_id in enumerate(job_ids):
        await redis.set(keys.upload(job_id), bytes([n]) * 100)
    await redis.xgroup_create(keys.stream, GROUP, id="0")
    return job_ids


async def test_take_starts_what_it_reads_and_copies_the_first_upload_for_the_reader(
    redis: Redis, namespace: str
) -> None:
    job_ids = await queue_documents(redis, namespace, 3)
    keys = keys_for(namespace, "render")
    await redis.xadd(keys.stream, {"job_id": "garbage"})
    await redis.xadd(keys.stream, {"job_id": "echo-" + "0" * 32})
    taking = keys.taking("c1")
    taken, copy = await run_batched(redis, [take_call(namespace, "render", 2)], [taking], "GETDEL")
    assert [(job_id, reply[0], in_copy) for _, job_id, reply, in_copy in taken] == [
        (job_ids[0].encode(), b"run", b"1"),
        (job_ids[1].encode(), b"run", b"0"),  # one copy per take
    ]
    assert copy == bytes([0]) * 100 and await redis.exists(taking) == 0
    for job_id in job_ids[:2]:
        status = await redis.hmget(keys.job(job_id), ["status", "attempts", "consumer"])
        assert status == [b"running", b"1", b"c1"]
    # An upload over the bound is not copied; entries naming no job of the function are
    # acknowledged and deleted.
    (taken,) = await run_batched(redis, [take_call(namespace, "render", 10, copy_max=99)])
    assert [(reply[0], in_copy) for _, _, reply, in_copy in taken] == [
        (b"run", b"0"),
        (b"dropped", b"0"),
        (b"dropped", b"0"),
    ]
    assert await redis.exists(taking) == 0
    assert await redis.xlen(keys.stream) == 3  # the three jobs' entries, until completed
    assert await run_batched(redis, [take_call(namespace, "render", 10)]) == [[]]


async def test_after_script_flush_the_reads_follow_the_scripts_sent_again(
    redis: Redis, namespace: str
) -> None:
    """A read in the round trip of a refused script is read again after it ran: take's
    copy of an upload exists only then."""
    await queue_documents(redis, namespace, 1)
    await redis.script_flush()
    taking = keys_for(namespace, "render").taking("c1")
    taken, copy = await run_batched(redis, [take_call(namespace, "render", 1)], [taking], "GETDEL")
    assert taken[0][2][0] == b"run" and taken[0][3] == b"1"
    assert copy == bytes([0]) * 100


# A submitted job's hash holds no empty fields


async def test_submitted_job_hash_has_no_empty_fields(
    sluice: Sluice, namespace: str, redis: Redis
) -> None:
    submission = await sluice.submit("echo", {"hello": "world"})
    stored: dict[Any, Any] = await redis.hgetall(keys_for(namespace, "echo").job(submission.job_id))
    assert {name: value for name, value in stored.items() if value == b""} == {}
    assert set(stored) == {
        b"job_id",
        b"function",
        b"status",
        b"input",
        b"progress",
        b"attempts",
        b"max_attempts",
        b"created_at",
        b"entry_id",
    }
    status = await sluice.status(submission.job_id)
    assert status.job_id == submission.job_id
    assert status.function == "echo"
    assert status.status == "queued"
    assert status.progress == 0.0
    assert status.message == ""
    assert status.attempts == 0
    assert status.max_attempts == 3
    assert status.created_at == submission.created_at
    assert status.started_at is None
    assert status.finished_at is None
    assert status.error is None
    assert status.result is None
    assert status.next_job_id is None
    assert status.previous_job_id is None


async def test_forget_takes_only_silent_consumers_without_pending_entries(
    redis: Redis, namespace: str
) -> None:
    """Forgotten: no pending entry and no word for long (from the consumers hash, else from
    XINFO's idle). Kept: one holding an entry, one idle in XINFO (an empty read does not
    reset idle before Redis 7.2) but alive by its word, one just made, the caller. Old
    words of consumers not in the group are dropped; at most ``most`` go per call."""
    keys = keys_for(namespace, "work")
    stream, said = keys.stream, keys.consumers
    await redis.xgroup_create(stream, GROUP, id="0", mkstream=True)
    await redis.xadd(stream, {"job_id": "x"})
    await redis.xreadgroup(GROUP, "busy", {stream: ">"}, count=1)
    for name in ("gone", "unsaid", "idle-live", "me"):
        await redis.xgroup_createconsumer(stream, GROUP, name)
    time.sleep(0.15)
    await redis.xgroup_createconsumer(stream, GROUP, "fresh")
    now = int(time.time() * 1000)
    old = now - 10_000
    words = {"busy": old, "gone": old, "idle-live": now, "departed": old, "just-left": now}
    await redis.hset(said, mapping=words)  # type: ignore[arg-type]
    forget = builders.forget_call(keys, consumer="me", now_ms=now, silence_ms=100, most=1)
    first = await Scripts(redis).run(forget)
    second = await Scripts(redis).run(forget)
    assert sorted(first + second) == [b"gone", b"unsaid"]
    left = {c["name"]: c["pending"] for c in await redis.xinfo_consumers(stream, GROUP)}
    assert left == {b"busy": 1, b"idle-live": 0, b"fresh": 0, b"me": 0}
    assert set(await redis.hkeys(said)) == {b"busy", b"idle-live", b"just-left"}
