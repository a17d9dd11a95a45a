"""Pausing a function with a backlog being worked through: the consumer stops reading it at
once (its read-ahead too), so the backlog stays undelivered (in lag, where an autoscaler
sees it) rather than being read and handed back entry by entry."""

from __future__ import annotations

from typing import Any

import pytest
import redis

from shared.client import Sluice
from shared.function_stats import function_stats
from shared.jobs import now_iso, now_ms
from shared.keys import GROUP, keys_for
from shared.pausing import set_paused
from shared.script_calls import start_call
from shared.scripts import Scripts
from shared.settings import Settings
from tests.helpers import consumer_knows_paused, wait_for_status
from tests.inprocess import run_burst, serving
from tests.recovery_checks import until

pytestmark = pytest.mark.any_redis  # Redis 7.0: lag


async def test_a_pause_stops_a_backlog_being_taken(
    sluice: Sluice, settings: Settings, sync_redis: redis.Redis
) -> None:
    keys = keys_for(settings.namespace, "work")
    jobs = [(await sluice.submit("work", {"seconds": 0.1})).job_id for _ in range(60)]
    async with serving(settings, "work", concurrency=2) as worker:
        await wait_for_status(sluice, jobs[3], "succeeded")
        await set_paused(sluice.redis, settings.namespace, "work", True)
        await consumer_knows_paused(worker, sync_redis, keys.stream)

        def running() -> int:
            return sum(sync_redis.hget(keys.job(job_id), "status") == b"running" for job_id in jobs)

        await until(lambda: running() == 0, lambda: f"{running()} still running")
        queued = [j for j in jobs if sync_redis.hget(keys.job(j), "status") == b"queued"]
        pending = sync_redis.xpending(keys.stream, GROUP)["pending"]
        # At most one read's worth was delivered in the instant of the pause, handed back.
        assert len(queued) > 40 and pending <= 4, (len(queued), pending)
        [group] = sync_redis.xinfo_groups(keys.stream)
        assert group["lag"] == len(queued) - pending
        await set_paused(sluice.redis, settings.namespace, "work", False)
        for job_id in jobs:
            await wait_for_status(sluice, job_id, "succeeded")


async def held_job(sluice: Sluice, settings: Settings, sync_redis: redis.Redis) -> str:
    """A ``work`` job a consumer ("ghost") read just as the function was paused, and handed
    back unstarted (start.lua): held. The function is left paused."""
    keys = keys_for(settings.namespace, "work")
    if not sync_redis.exists(keys.stream):
        sync_redis.xgroup_create(keys.stream, GROUP, id="0", mkstream=True)
    await set_paused(sluice.redis, settings.namespace, "work", True)
    job_id = (await sluice.submit("work", {})).job_id
    read: Any = sync_redis.xreadgroup(GROUP, "ghost", {keys.stream: ">"})
    [(_, [(entry_id, _)])] = read
    start = start_call(
        keys, job_id=job_id, entry_id=entry_id, consumer="ghost", settings=settings,
        now_ms=now_ms(), now=now_iso(), with_upload=False,
    )  # fmt: skip
    assert await Scripts(sluice.redis).run(start) == [b"paused"]
    assert sync_redis.zcard(keys.held) == 1
    return job_id


async def test_a_job_read_as_the_pause_came_is_held_then_runs_at_the_resume(
    sluice: Sluice, settings: Settings, sync_redis: redis.Redis
) -> None:
    """A consumer ("ghost") read the job just as the pause came and started it: handed back
    unstarted (held), it is not running and is still the oldest waiting; at the resume a
    consumer starts it at once, not at its recovery loop's next turn (15 s here)."""
    settings = settings.replace(visibility_timeout=30.0)
    keys = keys_for(settings.namespace, "work")
    job_id = await held_job(sluice, settings, sync_redis)
    async with serving(settings, "work", concurrency=2):
        status = await sluice.status(job_id)
        assert status.status == "queued" and status.paused and status.attempts == 0
        [stats] = await function_stats(sluice.redis, settings.namespace, ["work"])
        assert (stats.pending, stats.running, stats.lag, stats.backlog) == (1, 0, 0, 1)
        assert stats.oldest_queued_seconds > 0 and sync_redis.zcard(keys.held) == 1
        await set_paused(sluice.redis, settings.namespace, "work", False)
        await wait_for_status(sluice, job_id, "succeeded", timeout=5)
        assert sync_redis.zcard(keys.held) == 0


async def test_held_and_retrying_jobs_cancelled_leave_their_sets(
    sluice: Sluice, settings: Settings, sync_redis: redis.Redis
) -> None:
    retry_keys, keys = (
        keys_for(settings.namespace, "slow_retry"),
        keys_for(settings.namespace, "work"),
    )
    async with serving(settings, "slow_retry", concurrency=2):
        retrying = (await sluice.submit("slow_retry", {"succeed_on": 2})).job_id
        await wait_for_status(sluice, retrying, "retrying")
        assert sync_redis.zscore(retry_keys.retrying, retrying) is not None
        assert (await sluice.cancel(retrying)).status == "cancelled"
        assert sync_redis.zcard(retry_keys.retrying) == 0
    # No consumer now: none reads the held job's stream meanwhile.
    held = await held_job(sluice, settings, sync_redis)
    assert (await sluice.cancel(held)).status == "cancelled"
    assert sync_redis.zcard(keys.held) == 0
    stats = await function_stats(sluice.redis, settings.namespace, ["slow_retry", "work"])
    for found in stats:
        assert (found.pending, found.running, found.retrying, found.backlog) == (0, 0, 0, 0)
    assert stats[0].jobs_total["cancelled"] == stats[1].jobs_total["cancelled"] == 1
    assert stats[0].jobs_total["retried"] == 1


async def test_a_burst_leaves_a_paused_functions_jobs_queued(
    sluice: Sluice, settings: Settings
) -> None:
    await set_paused(sluice.redis, settings.namespace, "work", True)
    waiting = (await sluice.submit("work", {})).job_id
    ran = (await sluice.submit("async_work", {})).job_id
    await run_burst(settings, "work", "async_work", concurrency=2, timeout=20)
    assert (await sluice.status(ran)).status == "succeeded"
    assert (await sluice.status(waiting)).status == "queued"
    await set_paused(sluice.redis, settings.namespace, "async_work", True)
    await run_burst(settings, "work", "async_work", concurrency=2, timeout=20)  # all paused
    assert (await sluice.status(waiting)).status == "queued"
