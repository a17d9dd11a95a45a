"""Batched Lua scripts against a real Redis (7.0 and 6.2): one EVALSHA per (script, first
key) group, each call's own reply or error, and recovery from NOSCRIPT."""

from __future__ import annotations

import math
import time
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from shared import script_calls as builders
from shared.jobs import now_iso
from shared.keys import GROUP, keys_for, new_job_id
from shared.scripts import MAX_BATCH, SCRIPTS, ScriptCall, Scripts, run_batched
from tests.script_redis import (
    SETTINGS,
    scripts_redis,  # noqa: F401  (the redis fixture)
    submit_call,
)


async def evalsha_calls(redis: Redis) -> int:
    stats: dict[str, Any] = await redis.info("commandstats")
    return int(stats.get("cmdstat_evalsha", {}).get("calls", 0))


async def script_calls(redis: Redis) -> int:
    """SCRIPT subcommands (LOAD among them): 7.0 counts them per subcommand, 6.2 as one."""
    stats: dict[str, Any] = await redis.info("commandstats")
    return sum(
        int(value["calls"])
        for name, value in stats.items()
        if name in ("cmdstat_script", "cmdstat_script|load")
    )


def start_call(namespace: str, function: str, job_id: str, entry_id: bytes) -> ScriptCall:
    return builders.start_call(
        keys_for(namespace, function),
        job_id=job_id,
        entry_id=entry_id,
        consumer="c1",
        settings=SETTINGS,
        now_ms=int(time.time() * 1000),
        now=now_iso(),
        with_upload=True,
    )


def progress_call(namespace: str, function: str, job_id: str, percent: int) -> ScriptCall:
    return builders.progress_call(
        keys_for(namespace, function),
        job_id=job_id,
        consumer="c1",
        percent=percent,
        message=f"at {percent}",
    )


async def stream_job_ids(redis: Redis, namespace: str, function: str) -> list[bytes]:
    entries: Any = await redis.xrange(keys_for(namespace, function).stream)
    return [fields[b"job_id"] for _, fields in entries]


async def assert_queued_in_order(
    redis: Redis, namespace: str, functions: list[str], job_ids: list[str]
) -> None:
    """Each function's stream holds its jobs of ``job_ids`` in submission order."""
    for function in set(functions):
        expected = [j.encode() for f, j in zip(functions, job_ids, strict=True) if f == function]
        assert await stream_job_ids(redis, namespace, function) == expected


async def submit_and_deliver(redis: Redis, namespace: str, count: int) -> list[tuple[str, bytes]]:
    """Queue ``count`` echo jobs and deliver them to consumer c1: (job id, entry id) each."""
    job_ids = [new_job_id("echo") for _ in range(count)]
    await run_batched(redis, [submit_call(namespace, "echo", job_id) for job_id in job_ids])
    stream = keys_for(namespace, "echo").stream
    await redis.xgroup_create(stream, GROUP, id="0")
    reply: Any = await redis.xreadgroup(GROUP, "c1", {stream: ">"})
    entries = reply[0][1]
    assert [fields[b"job_id"].decode() for _, fields in entries] == job_ids
    return [(job_id, entry_id) for job_id, (entry_id, _) in zip(job_ids, entries, strict=True)]


# 1. One EVALSHA per group, replies in order


async def test_many_calls_on_one_function_share_an_evalsha_per_128(
    redis: Redis, namespace: str
) -> None:
    job_ids = [new_job_id("echo") for _ in range(300)]
    before = await evalsha_calls(redis)
    replies = await run_batched(redis, [submit_call(namespace, "echo", j) for j in job_ids])
    assert await evalsha_calls(redis) - before == math.ceil(300 / MAX_BATCH) == 3
    assert replies == [[b"queued", job_id.encode()] for job_id in job_ids]
    # Each call ran once, in input order.
    assert await stream_job_ids(redis, namespace, "echo") == [j.encode() for j in job_ids]


async def test_calls_for_two_functions_interleaved_are_two_groups_in_input_order(
    redis: Redis, namespace: str
) -> None:
    functions = ["echo", "work"] * 150
    job_ids = [new_job_id(function) for function in functions]
    calls = [submit_call(namespace, f, j) for f, j in zip(functions, job_ids, strict=True)]
    before = await evalsha_calls(redis)
    replies = await run_batched(redis, calls)
    # 150 calls per function: two EVALSHAs each.
    assert await evalsha_calls(redis) - before == 4
    assert replies == [[b"queued", job_id.encode()] for job_id in job_ids]
    await assert_queued_in_order(redis, namespace, functions, job_ids)


async def test_small_interleaved_groups_are_one_evalsha_per_script_and_function(
    redis: Redis, namespace: str
) -> None:
    """Two scripts on two functions: four groups, whatever the order of the calls."""
    submits = [submit_call(namespace, f, new_job_id(f)) for f in ["echo", "work"] * 5]
    progress = [progress_call(namespace, "echo", "echo-" + "0" * 32, 10)] * 3
    calls = [submits[0], progress[0], *submits[1:6], progress[1], *submits[6:], progress[2]]
    before = await evalsha_calls(redis)
    replies = await run_batched(redis, calls)
    # submit/echo, submit/work, progress/<one job hash>
    assert await evalsha_calls(redis) - before == 3
    assert replies[1] == replies[7] == replies[-1] == 0  # no such job: progress ignored
    assert [r for i, r in enumerate(replies) if i not in (1, 7, len(calls) - 1)] == [
        [b"queued", call.args[0].encode()] for call in submits
    ]


# 2. A call that raises gets its own error; the others take effect


async def test_a_raising_call_in_an_evalsha_leaves_the_others_to_run(
    redis: Redis, namespace: str
) -> None:
    jobs = await submit_and_deliver(redis, namespace, 5)
    keys = keys_for(namespace, "echo")
    broken_id = jobs[2][0]
    await redis.delete(keys.job(broken_id))
    await redis.set(keys.job(broken_id), "not a hash")
    before = await evalsha_calls(redis)
    replies = await run_batched(
        redis, [start_call(namespace, "echo", job_id, entry) for job_id, entry in jobs]
    )
    assert await evalsha_calls(redis) - before == 1  # all in one EVALSHA
    error = replies[2]
    assert isinstance(error, ResponseError) and "WRONGTYPE" in str(error), error
    for index, (job_id, _) in enumerate(jobs):
        if index == 2:
            continue
        assert replies[index] == [b"run", b'{"n":1}', b"1", b"3", b"", b""]
        status, consumer, attempts = await redis.hmget(
            keys.job(job_id), ["status", "consumer", "attempts"]
        )
        assert (status, consumer, attempts) == (b"running", b"c1", b"1")
    assert await redis.get(keys.job(broken_id)) == b"not a hash"


async def test_the_backlog_bound_counts_the_submissions_earlier_in_the_same_batch(
    redis: Redis, namespace: str
) -> None:
    """submit.lua reads XLEN once per batch and counts on from there."""
    await run_batched(redis, [submit_call(namespace, "echo", new_job_id("echo"))])
    job_ids = [new_job_id("echo") for _ in range(8)]
    replies = await run_batched(
        redis, [submit_call(namespace, "echo", j, backlog=5) for j in job_ids]
    )
    assert replies[:4] == [[b"queued", j.encode()] for j in job_ids[:4]]
    assert replies[4:] == [[b"full", b"5"]] * 4
    assert await redis.xlen(keys_for(namespace, "echo").stream) == 5


async def test_a_lua_runtime_error_is_that_calls_alone(redis: Redis, namespace: str) -> None:
    """Not a Redis error but Lua's own (a backlog bound that is no number)."""
    job_ids = [new_job_id("echo") for _ in range(5)]
    calls = [submit_call(namespace, "echo", job_id) for job_id in job_ids]
    args = list(calls[1].args)
    args[5] = "lots"  # the backlog bound
    calls[1] = calls[1]._replace(args=args)
    replies = await run_batched(redis, calls)
    assert isinstance(replies[1], ResponseError)
    assert [r for i, r in enumerate(replies) if i != 1] == [
        [b"queued", j.encode()] for i, j in enumerate(job_ids) if i != 1
    ]
    expected = [j.encode() for i, j in enumerate(job_ids) if i != 1]
    assert await stream_job_ids(redis, namespace, "echo") == expected
    assert not await redis.exists(keys_for(namespace, "echo").job(job_ids[1]))


async def test_an_error_in_one_group_leaves_the_other_groups_to_run(
    redis: Redis, namespace: str
) -> None:
    jobs = await submit_and_deliver(redis, namespace, 3)
    keys = keys_for(namespace, "echo")
    started = await run_batched(redis, [start_call(namespace, "echo", j, e) for j, e in jobs])
    assert [reply[0] for reply in started] == [b"run"] * 3
    broken_id = new_job_id("echo")
    await redis.set(keys.job(broken_id), "not a hash")
    calls = [
        progress_call(namespace, "echo", jobs[0][0], 10),
        progress_call(namespace, "echo", broken_id, 20),
        progress_call(namespace, "echo", jobs[1][0], 30),
        submit_call(namespace, "work", new_job_id("work")),
        progress_call(namespace, "echo", jobs[2][0], 40),
    ]
    replies = await run_batched(redis, calls)
    assert isinstance(replies[1], ResponseError) and "WRONGTYPE" in str(replies[1])
    assert replies[0] == replies[2] == replies[4] == 1
    assert replies[3][0] == b"queued"
    for (job_id, _), percent in zip(jobs, (10, 30, 40), strict=True):
        assert await redis.hmget(keys.job(job_id), ["progress", "message"]) == [
            str(percent).encode(),
            f"at {percent}".encode(),
        ]
    assert await redis.xlen(keys_for(namespace, "work").stream) == 1


async def test_a_bound_script_raises_its_calls_error(redis: Redis, namespace: str) -> None:
    job_id = new_job_id("echo")
    await redis.set(keys_for(namespace, "echo").job(job_id), "not a hash")
    with pytest.raises(ResponseError, match="WRONGTYPE"):
        await Scripts(redis).run(progress_call(namespace, "echo", job_id, 5))


# 3. NOSCRIPT: load and send again, each call still runs once


async def test_after_script_flush_every_call_runs_exactly_once(
    redis: Redis, namespace: str
) -> None:
    functions = ["echo", "work"] * 100
    job_ids = [new_job_id(function) for function in functions]
    calls = [submit_call(namespace, f, j) for f, j in zip(functions, job_ids, strict=True)]
    await redis.script_flush()
    before, loads_before = await evalsha_calls(redis), await script_calls(redis)
    replies = await run_batched(redis, calls)
    assert replies == [[b"queued", job_id.encode()] for job_id in job_ids]
    # Two groups refused with NOSCRIPT, the script loaded once, both groups sent again.
    assert await evalsha_calls(redis) - before == 4
    assert await script_calls(redis) - loads_before == 1
    assert await redis.script_exists(SCRIPTS["submit"].sha) == [True]
    await assert_queued_in_order(redis, namespace, functions, job_ids)


async def test_after_script_flush_only_the_refused_groups_are_sent_again(
    redis: Redis, namespace: str
) -> None:
    """A group whose script was loaded ran the first time: it must not run twice."""
    jobs = await submit_and_deliver(redis, namespace, 2)
    await redis.script_flush()
    await redis.script_load(SCRIPTS["submit"].source)
    submit_ids = [new_job_id("echo") for _ in range(3)]
    calls = [
        submit_call(namespace, "echo", submit_ids[0]),
        start_call(namespace, "echo", *jobs[0]),
        submit_call(namespace, "echo", submit_ids[1]),
        start_call(namespace, "echo", *jobs[1]),
        submit_call(namespace, "echo", submit_ids[2]),
    ]
    before = await evalsha_calls(redis)
    replies = await run_batched(redis, calls)
    assert await evalsha_calls(redis) - before == 3  # submit once, start twice
    assert [replies[0], replies[2], replies[4]] == [[b"queued", j.encode()] for j in submit_ids]
    assert replies[1][0] == replies[3][0] == b"run"
    queued = [job_id.encode() for job_id, _ in jobs] + [j.encode() for j in submit_ids]
    assert await stream_job_ids(redis, namespace, "echo") == queued
    keys = keys_for(namespace, "echo")
    for job_id, _ in jobs:
        assert await redis.hget(keys.job(job_id), "attempts") == b"1"


async def test_a_bound_script_recovers_from_script_flush(redis: Redis, namespace: str) -> None:
    job_id = new_job_id("echo")
    await redis.script_flush()
    call = submit_call(namespace, "echo", job_id)
    assert await Scripts(redis).run(call) == [b"queued", job_id.encode()]
    assert await redis.xlen(keys_for(namespace, "echo").stream) == 1
