"""What the scripts count and note for operators stays right through the rarer paths: an
outcome written twice after a lost reply, a job released and started again, a job held
back by a pause and then run by the consumer that had it all along. Against a real Redis
(7.0 and 6.2), through the builders of shared/script_calls.py, with no consumer process."""

from __future__ import annotations

import time

from consumers.outcomes import release_entries
from consumers.timers import Timers
from shared import script_calls as builders
from shared.function_activity import last_hours
from shared.function_stats import function_stats
from shared.jobs import now_iso
from shared.keys import FunctionKeys, keys_for
from shared.pausing import set_paused
from shared.redis import Client
from shared.scripts import Scripts
from tests.script_redis import (
    SETTINGS,
    failing_call,
    queue,
    scripts_redis,  # noqa: F401  (the redis fixture)
    start,
)


async def metrics(redis: Client, keys: FunctionKeys) -> dict[str, int]:
    raw: dict[bytes, bytes] = await redis.hgetall(keys.metrics)  # type: ignore[assignment]
    return {k.decode(): int(v) for k, v in raw.items()}


async def test_a_failure_written_twice_counts_once(redis: Client, namespace: str) -> None:
    keys = keys_for(namespace, "echo")
    job_id, next_job_id = await queue(redis, keys, max_attempts=3)
    assert (await start(redis, keys, job_id, "c1"))[0] == b"run"
    entry_id = await redis.hget(keys.job(job_id), "entry_id")
    assert isinstance(entry_id, bytes)
    call = failing_call(keys, job_id, entry_id, next_job_id, duration_us=20_000)
    assert await Scripts(redis).run(call) == 1
    assert await Scripts(redis).run(call) == 1  # sent again
    counted = await metrics(redis, keys)
    assert counted["jobs:retried"] == 1
    assert counted["job_duration_seconds:le:0.1"] == 1
    assert await redis.zcard(keys.retrying) == 1


async def test_a_released_job_waited_in_the_queue_once(redis: Client, namespace: str) -> None:
    keys = keys_for(namespace, "echo")
    job_id, _ = await queue(redis, keys)
    assert (await start(redis, keys, job_id, "c1"))[0] == b"run"
    entry_id = await redis.hget(keys.job(job_id), "entry_id")
    assert isinstance(entry_id, bytes)
    assert await release_entries(redis, keys, "c1", [(entry_id, job_id)], SETTINGS) == [True]
    assert await redis.hget(keys.job(job_id), "status") == b"queued"
    assert (await start(redis, keys, job_id, "c2"))[0] == b"run"
    [stats] = await function_stats(redis, namespace, ["echo"])
    assert stats.queue_wait_seconds.count == 1


async def test_a_held_job_its_first_consumer_completes_is_held_no_more(
    redis: Client, namespace: str
) -> None:
    """c1 runs the job; during a pause c2 claims it (c1's lease looked lapsed) and hands it
    back, held and queued; c1 claims it again (paused: handed back) but its handler still
    runs, and completes it: the job no longer counts as held, nor ages the queue."""
    keys = keys_for(namespace, "echo")
    job_id, next_job_id = await queue(redis, keys, max_attempts=2)
    assert (await start(redis, keys, job_id, "c1"))[0] == b"run"
    await set_paused(redis, namespace, "echo", True)
    assert await start(redis, keys, job_id, "c2") == [b"paused"]
    assert await redis.zcard(keys.held) == 1
    assert await redis.hget(keys.job(job_id), "status") == b"queued"
    assert await start(redis, keys, job_id, "c1") == [b"paused"]
    entry_id = await redis.hget(keys.job(job_id), "entry_id")
    assert isinstance(entry_id, bytes)
    complete = builders.complete_call(
        keys,
        job_id=job_id,
        entry_id=entry_id,
        consumer="c1",
        status="succeeded",
        result=b"{}",
        error=b"",
        ending=[],
        now=now_iso(),
        result_ttl=SETTINGS.result_ttl,
        next_job_id=next_job_id,
        message="",
        began_at="",
        duration_us=5_000,
    )
    assert await Scripts(redis).run(complete) == 2
    [stats] = await function_stats(redis, namespace, ["echo"])
    assert (stats.running, stats.pending, stats.oldest_queued_seconds) == (0, 0, 0)
    assert await redis.zcard(keys.held) == 0


async def test_a_stale_held_job_does_not_age_the_queue(redis: Client, namespace: str) -> None:
    """A held job's hash no longer says so (it ended by a path that did not know): the
    stats drop it rather than report an age that grows for ever."""
    keys = keys_for(namespace, "echo")
    job_id, _ = await queue(redis, keys)
    await redis.zadd(keys.held, {job_id: int(time.time() * 1000) - 60_000})
    [stats] = await function_stats(redis, namespace, ["echo"])
    assert stats.oldest_queued_seconds < 60 and await redis.zcard(keys.held) == 0


async def test_a_minute_keeps_its_highest_backlog(redis: Client, namespace: str) -> None:
    """The consumers note backlog and running every few seconds; the chart's point for a
    minute is the highest noted in it, so a burst between two notes still shows."""
    keys = keys_for(namespace, "echo")
    for _ in range(3):
        await queue(redis, keys)
    await Timers(redis, [keys]).promote_due()  # a new Timers notes at its first look
    await redis.delete(keys.stream)
    await Timers(redis, [keys]).promote_due()
    [hour] = await last_hours(redis, [keys])
    assert hour[-1].backlog == 3 and hour[-1].running == 3  # queue() delivers them
