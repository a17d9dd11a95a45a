"""Pausing a function with a backlog being worked through: the consumer stops reading it at
once (its read-ahead too), so the backlog stays undelivered (in lag, where an autoscaler
sees it) rather than being read and handed back entry by entry."""

from __future__ import annotations

import pytest
import redis

from shared.client import Sluice
from shared.function_stats import function_stats
from shared.keys import GROUP, keys_for
from shared.pausing import set_paused
from shared.settings import Settings
from tests.helpers import blocked_reads, consumer_knows_paused, wait_for_status
from tests.inprocess import serving
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


async def test_a_job_read_as_the_pause_came_is_held_then_runs_at_the_resume(
    sluice: Sluice, settings: Settings, sync_redis: redis.Redis
) -> None:
    """The consumer is blocked in a read when the pause comes: the job that read delivers
    is handed back unstarted (held): not running, still the oldest waiting; at the resume
    it starts at once, not at the recovery loop's next turn (15 s here)."""
    settings = settings.replace(visibility_timeout=30.0)
    keys = keys_for(settings.namespace, "work")
    async with serving(settings, "work", concurrency=2):
        await until(lambda: blocked_reads(sync_redis) > 0, lambda: "no read blocks")
        await set_paused(sluice.redis, settings.namespace, "work", True)
        job_id = (await sluice.submit("work", {})).job_id
        await until(lambda: sync_redis.zcard(keys.held) == 1, lambda: "not held")
        status = await sluice.status(job_id)
        assert status.status == "queued" and status.paused and status.attempts == 0
        [stats] = await function_stats(sluice.redis, settings.namespace, ["work"])
        assert (stats.pending, stats.running, stats.lag) == (1, 0, 0)
        assert stats.oldest_queued_seconds > 0
        await set_paused(sluice.redis, settings.namespace, "work", False)
        await wait_for_status(sluice, job_id, "succeeded", timeout=5)
        assert sync_redis.zcard(keys.held) == 0


async def test_held_and_retrying_jobs_cancelled_leave_their_sets(
    sluice: Sluice, settings: Settings, sync_redis: redis.Redis
) -> None:
    keys = keys_for(settings.namespace, "work")
    async with serving(settings, "work", concurrency=2):
        retrying = (await sluice.submit("work", {"succeed_on": 2, "seconds": 0})).job_id
        await wait_for_status(sluice, retrying, "retrying")
        assert sync_redis.zscore(keys.retrying, retrying) is not None
        assert (await sluice.cancel(retrying)).status == "cancelled"
        assert sync_redis.zcard(keys.retrying) == 0
        await until(lambda: blocked_reads(sync_redis) > 0, lambda: "no read blocks")
        await set_paused(sluice.redis, settings.namespace, "work", True)
        held = (await sluice.submit("work", {})).job_id
        await until(lambda: sync_redis.zcard(keys.held) == 1, lambda: "not held")
        assert (await sluice.cancel(held)).status == "cancelled"
        assert sync_redis.zcard(keys.held) == 0
        [stats] = await function_stats(sluice.redis, settings.namespace, ["work"])
        assert (stats.pending, stats.running, stats.retrying, stats.backlog) == (0, 0, 0, 0)
        assert stats.jobs_total["cancelled"] == 2 and stats.jobs_total["retried"] == 1
