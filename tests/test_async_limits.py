"""Limits of async handlers, which run inline in the consumer's event loop: one that
blocks the loop (time.sleep) costs no other job its lease, is logged, and fails by its
time limit; memory_mb, which nothing could enforce on them, is refused.

The consumer whose handler blocks is a process: in the test's own, the block would hold
the test too, and a handler that never returns ends its process. The consumers that stand
by or take over run in the test's process (tests/inprocess.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from structlog.contextvars import merge_contextvars
from structlog.testing import capture_logs

from consumers.watchdog import EXIT_STUCK
from shared.client import Sluice
from shared.functions import JobContext, function, get_function
from shared.keys import GROUP, keys_for
from shared.settings import Settings
from tests.conftest import VISIBILITY_TIMEOUT, Proc
from tests.functions import Work
from tests.helpers import effects, wait_for_lines, wait_for_status
from tests.inprocess import serving

pytestmark = pytest.mark.any_redis

# Far past the visibility timeout: without heartbeats meanwhile, the idle consumer
# would reclaim every job of the blocked one.
BLOCK_SECONDS = 3 * VISIBILITY_TIMEOUT


@pytest.fixture
def env(env: dict[str, str]) -> dict[str, str]:
    return {**env, "FUNCTION_MODULES": "tests.functions,tests.async_functions"}


async def test_a_handler_blocking_the_loop_costs_no_job_its_lease(
    sluice: Sluice,
    settings: Settings,
    sync_redis: redis.Redis,
    start_consumer: Callable[..., Proc],
    namespace: str,
    tmp_path: Path,
) -> None:
    """Three jobs run on a consumer (two inline, one in a child) when an async handler
    blocks its loop for three visibility timeouts, with an idle consumer ready to reclaim
    anything unattended: every job keeps its lease and runs once, the block is logged
    naming the job, and the blocking job fails by its 1 s time limit, result discarded."""
    owner = start_consumer("async_block", "async_work", "work", concurrency=4)
    effect = tmp_path / "effect"
    path = str(effect)
    # The child's job first: its warm child may take a while to come up.
    in_child = (await sluice.submit("work", {"seconds": 4, "effect_path": path})).job_id
    await wait_for_lines(effect, "start", 1)
    others = [
        (await sluice.submit("async_work", {"seconds": 2, "effect_path": path})).job_id
        for _ in range(2)
    ]
    await wait_for_lines(effect, "start", 3)
    blocking = await sluice.submit("async_block", {"seconds": BLOCK_SECONDS, "effect_path": path})
    await wait_for_lines(effect, "start", 4)  # the loop is blocked from here
    # The idle consumer in this process, whose loop turns: its log lines with job_id bound.
    with capture_logs(processors=[merge_contextvars]) as logs:
        async with serving(settings, "async_block", "async_work", "work") as idle:
            done = await wait_for_status(
                sluice, blocking.job_id, "failed", "succeeded", timeout=BLOCK_SECONDS + 15
            )
            assert done.status == "failed", done
            assert done.error is not None and done.error.type == "TimeLimitExceeded", done.error
            assert "1 s time limit" in done.error.message and "thrown away" in done.error.message
            assert done.attempts == 1 and done.result is None
            for job_id in [*others, in_child]:
                other = await wait_for_status(sluice, job_id, "succeeded", "failed", timeout=15)
                assert other.status == "succeeded" and other.attempts == 1, other

    # Each job ran once, on the blocked consumer; the idle one took nothing.
    starts = effects(effect, "start")
    assert sorted(row[0] for row in starts) == sorted([*others, in_child, blocking.job_id])
    assert all(row[1] == "1" for row in starts), starts
    assert len(effects(effect)) == 4  # the blocking handler did return, late
    idle_lines = [line for line in logs if line.get("consumer") == idle.name]
    assert any(line["event"] == "consumer_started" for line in idle_lines), logs
    took = [line for line in idle_lines if "job_id" in line or "reclaimed" in line["event"]]
    assert not took, took
    assert not owner.events("lease_lost")
    keys = keys_for(namespace, "async_block")
    assert sync_redis.xpending(keys.stream, GROUP)["pending"] == 0

    (blocked, *_) = owner.events("event_loop_blocked")
    assert blocked["job_id"] == blocking.job_id and blocked["function"] == "async_block"
    assert blocked["level"] == "warning" and blocked["blocked_s"] >= 1.0
    assert set(blocked["inline_job_ids"]) == {blocking.job_id, *others}
    (unblocked,) = owner.events("event_loop_unblocked")
    assert unblocked["blocked_s"] >= BLOCK_SECONDS - 0.5
    (timed_out,) = owner.events("job_failed")
    assert timed_out["job_id"] == blocking.job_id and "TimeLimitExceeded" in timed_out["error"]


async def _async_handler(job: JobContext, params: Work) -> None:
    pass


def _sync_handler(job: JobContext, params: Work) -> None:
    pass


def test_an_async_function_setting_memory_mb_is_refused_at_registration() -> None:
    """Nothing could hold an async handler to memory_mb (it shares the consumer's
    process): declaring one is an error that says so, not a limit silently ignored."""
    with pytest.raises(ValueError) as refused:
        function("async_memory", input=Work, memory_mb=200)(_async_handler)
    message = str(refused.value)
    assert "'async_memory'" in message
    assert "memory_mb cannot be enforced on an async def handler" in message
    assert get_function("async_memory") is None

    # Without memory_mb it registers (echo and bom are such functions), and a plain def
    # handler keeps its limit.
    function("async_no_memory", input=Work)(_async_handler)
    function("sync_memory", input=Work, memory_mb=200)(_sync_handler)
    assert (spec := get_function("async_no_memory")) is not None and spec.memory_mb == 2048
    assert (spec := get_function("sync_memory")) is not None and spec.memory_mb == 200
    echo = get_function("echo")
    assert echo is not None and echo.is_async


async def test_a_handler_that_never_returns_ends_its_consumer_and_its_job_moves_on(
    sluice: Sluice, settings: Settings, start_consumer: Callable[..., Proc], tmp_path: Path
) -> None:
    """Blocked far past its 1 s limit (STUCK_GRACE more), the handler is taken never to
    return: the consumer exits, and another consumer takes the job (its one attempt used:
    it ends failed, dead-lettered, not run again)."""
    stuck = start_consumer("async_block", concurrency=2, STUCK_GRACE="5")
    # Never returns as far as STUCK_GRACE=5 goes; were it run again by the consumer in
    # this process (STUCK_GRACE 60 s), it would return in time to fail the test plainly.
    effect = tmp_path / "e"
    job = await sluice.submit("async_block", {"seconds": 20, "effect_path": str(effect)})
    await wait_for_lines(effect, "start", 1)
    assert await asyncio.to_thread(stuck.wait, 15) == EXIT_STUCK
    (line,) = stuck.events("event_loop_stuck")
    assert line["job_id"] == job.job_id and line["timeout"] == 1
    async with serving(settings, "async_block"):
        done = await wait_for_status(sluice, job.job_id, "failed", timeout=30)
    assert done.error is not None and done.error.type == "AttemptsExhausted", done.error
    assert len(effects(effect, "start")) == 1 and effects(effect) == []
