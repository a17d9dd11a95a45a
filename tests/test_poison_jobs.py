"""Poison jobs, with real signals: a job that kills the process running it, every time,
ends failed and dead-lettered after its attempts, and the jobs beside it still run.

As in tests/test_crash_recovery.py, each test checks from the outside: the handler's
effect file, the job's hash, and the function's stream and dead-letter stream in Redis.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

import redis
from structlog.testing import capture_logs

from shared.client import Sluice
from shared.keys import keys_for
from shared.settings import Settings
from tests.conftest import Proc
from tests.helpers import effects, wait_for_status
from tests.inprocess import run_burst, serving
from tests.recovery_checks import (
    TAKEOVER_VISIBILITY,
    assert_drained,
    dead_letters,
    logged,
    until,
)


async def test_poison_job_killing_its_child_is_dead_lettered_queue_moves_on(
    sluice: Sluice,
    settings: Settings,
    sync_redis: redis.Redis,
    namespace: str,
    tmp_path: Path,
) -> None:
    """``crash`` SIGKILLs the warm child running it, every time: it ends failed after its
    max attempts, dead-lettered, while the same consumer runs other jobs untouched (the
    child is the process that dies: the consumer runs in the test's process)."""
    crash_keys, work_keys = keys_for(namespace, "crash"), keys_for(namespace, "work")
    crash_effect, work_effect = tmp_path / "crash", tmp_path / "work"
    crash_id = (await sluice.submit("crash", {"effect_path": str(crash_effect)})).job_id
    work_ids = [
        (await sluice.submit("work", {"seconds": 0.3, "effect_path": str(work_effect)})).job_id
        for _ in range(4)
    ]
    await run_burst(settings, "crash", "work", concurrency=2)  # fails if the worker crashed

    failed = await wait_for_status(sluice, crash_id, "failed", "succeeded", timeout=1)
    assert failed.status == "failed"
    assert failed.attempts == failed.max_attempts == 3
    assert failed.error is not None and failed.error.type == "WorkerDied"
    assert "killed by signal 9" in failed.error.message
    assert "attempt 3 of 3, giving up" in failed.error.message
    assert failed.result is None and failed.finished_at is not None
    starts = effects(crash_effect, "start")
    assert [row[1] for row in starts] == ["1", "2", "3"]
    assert len({row[2] for row in starts}) == 3  # a fresh child each time

    (dead,) = dead_letters(sync_redis, crash_keys)
    assert dead[b"job_id"].decode() == crash_id
    assert dead[b"attempts"] == b"3"
    assert b"WorkerDied" in dead[b"error"]
    assert_drained(sync_redis, crash_keys)

    for work_id in work_ids:
        done = await wait_for_status(sluice, work_id, "succeeded", "failed", timeout=1)
        assert done.status == "succeeded" and done.attempts == 1
    assert sorted(row[0] for row in effects(work_effect)) == sorted(work_ids)
    assert_drained(sync_redis, work_keys)
    assert dead_letters(sync_redis, work_keys) == []


async def test_poison_job_killing_its_consumer_is_dead_lettered_after_restarts(
    sluice: Sluice,
    settings: Settings,
    sync_redis: redis.Redis,
    start_consumer: Callable[..., Proc],
    namespace: str,
    tmp_path: Path,
) -> None:
    """``crash_consumer`` is async, so it runs in the consumer itself and SIGKILLs it,
    every time. Restarted like a PaaS would, consumers reclaim it after the visibility
    timeout until its attempts are used up: the next one to claim it dead-letters it
    instead of running it, and a job submitted alongside still succeeds."""
    crash_keys, work_keys = keys_for(namespace, "crash_consumer"), keys_for(namespace, "work")
    crash_effect, work_effect = tmp_path / "crash", tmp_path / "work"
    crash_id = (await sluice.submit("crash_consumer", {"effect_path": str(crash_effect)})).job_id
    work_id = (
        await sluice.submit("work", {"seconds": 1.0, "effect_path": str(work_effect)})
    ).job_id

    for attempt in (1, 2, 3):
        # Each one alone: it claims the job as soon as it is up, and dies of it.
        proc = start_consumer("crash_consumer", "work", VISIBILITY_TIMEOUT=str(TAKEOVER_VISIBILITY))
        await until(lambda: not proc.alive(), lambda: f"still {proc.log()}")  # noqa: B023
        assert proc.wait(0) == -signal.SIGKILL
        status = await sluice.status(crash_id)
        assert status.status != "failed" and status.attempts == attempt, status

    # Only now one that runs in this process: a job with attempts left would kill it.
    takeover = settings.replace(visibility_timeout=TAKEOVER_VISIBILITY)
    with capture_logs() as logs:
        async with serving(takeover, "crash_consumer", "work"):
            failed = await wait_for_status(sluice, crash_id, "failed", "succeeded", timeout=15)
            # Logged once start.lua's reply is back, which can be after the status was read.
            await until(lambda: logged(logs, "job_dead_lettered", job_id=crash_id), str)
            done = await wait_for_status(sluice, work_id, "succeeded", "failed", timeout=15)
    assert failed.status == "failed"
    assert failed.attempts == failed.max_attempts == 3
    assert failed.error is not None and failed.error.type == "AttemptsExhausted"
    assert failed.error.message.startswith("the process running it died")
    assert failed.error.message.endswith("(attempt 3 of 3, giving up)")
    assert failed.result is None and failed.finished_at is not None
    assert [row[1] for row in effects(crash_effect, "start")] == ["1", "2", "3"]
    (dead,) = dead_letters(sync_redis, crash_keys)
    assert dead[b"job_id"].decode() == crash_id
    assert dead[b"attempts"] == b"3"
    assert b"AttemptsExhausted" in dead[b"error"]
    assert_drained(sync_redis, crash_keys)

    assert done.status == "succeeded"
    # At-least-once: an attempt of `work` can finish its effect just as the poison job
    # kills the consumer under it (the recovery tick and the 1 s job line up), and then
    # runs again; each attempt has at most one effect, and the last one is the result's.
    rows = effects(work_effect)
    assert 1 <= len(rows) <= done.attempts
    assert len({row[1] for row in rows}) == len(rows)
    assert rows[-1][0] == work_id and rows[-1][1] == str(done.attempts)
    assert_drained(sync_redis, work_keys)
    assert dead_letters(sync_redis, work_keys) == []
