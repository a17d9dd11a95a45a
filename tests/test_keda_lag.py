"""KEDA's redis-streams scaler reads XINFO GROUPS' ``lag``; Redis 7.0 reports it as nil
(KEDA reads 0: no scale-up) once an entry at or after the group's last delivered one is
deleted. Here lag is checked against the jobs not yet started after every step that
writes the stream: submit, run, retry, cancel while queued, dead-letter, replay, an entry
naming no job, and each XDEL those make (prelude.lua's keep_lag keeps it a number)."""

from __future__ import annotations

from typing import Any

import pytest
import redis

from shared.client import Sluice
from shared.dead_letters import ALL, replay
from shared.keys import GROUP, keys_for
from shared.pausing import set_paused
from shared.settings import Settings
from tests.helpers import consumer_knows_paused, wait_for_status
from tests.inprocess import serving
from tests.recovery_checks import until

pytestmark = pytest.mark.any_redis  # Redis 7.0: 6.2 has no lag


def lag_of(sync_redis: redis.Redis, stream: str) -> Any:
    [group] = sync_redis.xinfo_groups(stream)
    assert group["name"] == GROUP.encode()
    return group["lag"]


def lag_and_not_started(
    sync_redis: redis.Redis, settings: Settings, job_ids: list[str]
) -> tuple[Any, int]:
    """The group's lag, and the jobs still queued whose entries were never delivered (a
    paused function's entry read just before its consumer learnt of the pause is delivered,
    and not in lag), read at one instant (a transaction): a consumer runs meanwhile."""
    keys = keys_for(settings.namespace, "work")
    pipe = sync_redis.pipeline(transaction=True)
    pipe.xinfo_groups(keys.stream)
    pipe.xpending_range(keys.stream, GROUP, "-", "+", 1000)
    for job_id in job_ids:
        pipe.hmget(keys.job(job_id), "status", "entry_id")
    [group], pending, *jobs = pipe.execute()
    delivered = {item["message_id"] for item in pending}
    waiting = sum(status == b"queued" and entry_id not in delivered for status, entry_id in jobs)
    return group["lag"], waiting


async def test_lag_is_the_jobs_not_yet_started_through_every_step(
    sluice: Sluice, settings: Settings, sync_redis: redis.Redis
) -> None:
    keys = keys_for(settings.namespace, "work")
    assert sync_redis.info("server")["redis_version"] >= "7.0"
    jobs: list[str] = []

    def check(step: str) -> None:
        lag, waiting = lag_and_not_started(sync_redis, settings, jobs)
        assert lag is not None, f"after {step}: lag is nil"
        assert lag == waiting, f"after {step}"

    async def submit(**params: Any) -> str:
        job_id = (await sluice.submit("work", params)).job_id
        jobs.append(job_id)
        return job_id

    await set_paused(sluice.redis, settings.namespace, "work", True)
    async with serving(settings, "work", concurrency=1) as worker:
        await consumer_knows_paused(worker, sync_redis, keys.stream)
        first = await submit(seconds=0.6)
        for _ in range(4):
            await submit()
        retried = await submit(succeed_on=2)
        dead = await submit(succeed_on=99)  # its 3 attempts fail: dead-lettered
        cancelled = await submit()
        check("submit")
        assert lag_of(sync_redis, keys.stream) == 8

        assert (await sluice.cancel(cancelled)).status == "cancelled"
        check("a cancel while queued (XDEL of an entry never delivered)")
        assert lag_of(sync_redis, keys.stream) == 7

        await set_paused(sluice.redis, settings.namespace, "work", False)
        await wait_for_status(sluice, first, "running")
        await set_paused(sluice.redis, settings.namespace, "work", True)
        await consumer_knows_paused(worker, sync_redis, keys.stream)
        await wait_for_status(sluice, first, "succeeded")
        # The last entry delivered is deleted, others wait: what 7.0 reports as nil.
        check("a run (XDEL of the last entry delivered)")

        # An entry naming no job: read, acknowledged and deleted (drop.lua).
        sync_redis.xadd(keys.stream, {"job_id": "not-a-job"})
        await set_paused(sluice.redis, settings.namespace, "work", False)
        await wait_for_status(sluice, retried, "retrying", "succeeded")
        check("a failed attempt")
        for job_id in jobs:
            await wait_for_status(sluice, job_id, "succeeded", "failed", "cancelled")
        await until(lambda: sync_redis.xlen(keys.stream) == 0, lambda: "entries left")
        assert (await sluice.status(dead)).status == "failed"
        assert sync_redis.xlen(keys.dead) == 1
        check("runs, a retry, a dead letter, a dropped entry")
        assert lag_of(sync_redis, keys.stream) == 0

        await set_paused(sluice.redis, settings.namespace, "work", True)
        await consumer_knows_paused(worker, sync_redis, keys.stream)
        await submit()
        result = await replay(sluice.redis, settings.namespace, "work", ALL)
        assert result.replayed == 1
        check("a dead letter replayed")
        assert lag_of(sync_redis, keys.stream) == 2
