"""Failed attempts: backoff between retries, permanent errors, giving up, time and memory limits."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from structlog.testing import capture_logs

from shared.client import Sluice
from shared.jobs import JobStatus
from shared.keys import GROUP, keys_for
from shared.settings import Settings
from tests.helpers import effects, seconds_between, wait_for_status, wait_gone
from tests.inprocess import run_burst, serving


async def stream_state(sluice: Sluice, settings: Settings, function: str) -> tuple[int, int]:
    """(XLEN, number of pending entries) of a function's stream."""
    stream = keys_for(settings.namespace, function).stream
    pending = await sluice.redis.xpending(stream, GROUP)
    return await sluice.redis.xlen(stream), int(pending["pending"])


async def dead_job_ids(sluice: Sluice, settings: Settings, function: str) -> list[str]:
    dead = await sluice.redis.xrange(keys_for(settings.namespace, function).dead)
    entries = cast(list[tuple[bytes, dict[bytes, bytes]]], dead)
    return [fields[b"job_id"].decode() for _, fields in entries]


async def logged(
    logs: Sequence[Mapping[str, Any]], event: str, timeout: float = 10.0
) -> Mapping[str, Any]:
    """The first captured log line of ``event``, once an in-process worker wrote it."""
    deadline = time.monotonic() + timeout
    while not (found := [line for line in logs if line["event"] == event]):
        if time.monotonic() > deadline:
            raise AssertionError(f"no {event!r} among {[line['event'] for line in logs]}")
        await asyncio.sleep(0.02)
    return found[0]


async def test_retry_backoff_grows_between_attempts(
    gateway_http: httpx.AsyncClient, sluice: Sluice, settings: Settings, tmp_path: Path
) -> None:
    """backoff=0.4: about 0.4-0.5 s after attempt 1, 0.8-1.0 s after attempt 2. With a
    visibility timeout of 10 s, a retry not woken when its backoff ends would wait for the
    recovery loop's next turn (5 s): the bounds below tell the two apart even on a busy
    machine (a 2 s timeout's 1 s turns were within reach of a starved event loop)."""
    settings = settings.replace(visibility_timeout=10.0)
    effect = tmp_path / "effect"
    reply = await gateway_http.post(
        "/v1/jobs/work", json={"succeed_on": 3, "effect_path": str(effect)}
    )
    assert reply.status_code == 202
    job_id = reply.json()["job_id"]

    async with serving(settings, "work"):
        retrying = await wait_for_status(sluice, job_id, "retrying", timeout=10)
        assert retrying.error is not None
        assert retrying.error.type == "ValueError"
        assert "failing attempt 1" in retrying.error.message
        assert retrying.attempts == 1 and retrying.finished_at is None
        seen = (await gateway_http.get(f"/v1/jobs/{job_id}")).json()
        if seen["status"] == "retrying":
            assert seen["error"]["type"] == "ValueError"

        done = await wait_for_status(sluice, job_id, "succeeded", "failed", timeout=15)
    assert done.status == "succeeded", done
    assert done.attempts == 3 and done.error is None
    assert done.result_value()["attempt"] == 3

    starts = effects(effect, "start")
    assert [int(row[1]) for row in starts] == [1, 2, 3]
    times = [float(row[4]) for row in starts]
    first_gap, second_gap = times[1] - times[0], times[2] - times[1]
    assert first_gap >= 0.4, times
    assert second_gap >= 0.8, times
    assert second_gap > first_gap, times
    # The retry is picked up when its backoff is over, not at the recovery loop's turn.
    assert first_gap < 4.0 and second_gap < 4.0, times
    assert len(effects(effect)) == 1


async def test_permanent_error_fails_at_once_without_retry(
    sluice: Sluice, settings: Settings, tmp_path: Path
) -> None:
    effect = tmp_path / "effect"
    with capture_logs() as logs:
        async with serving(settings, "work"):
            await logged(logs, "consumer_started")  # timed from a consumer ready to take it
            submitted = time.monotonic()
            submission = await sluice.submit(
                "work", {"permanent": True, "effect_path": str(effect)}
            )
            done = await wait_for_status(
                sluice, submission.job_id, "failed", "succeeded", timeout=10
            )
            assert time.monotonic() - submitted < 3.0
    assert done.status == "failed"
    assert done.attempts == 1
    assert done.error is not None and done.error.type == "BadInput"
    assert done.error.message == "this input can never work"
    assert done.finished_at is not None
    # A retry would need the entry: a burst returns only once the stream is empty.
    await run_burst(settings, "work")
    assert len(effects(effect, "start")) == 1
    assert (await sluice.status(submission.job_id)).status == "failed"
    assert submission.job_id not in await dead_job_ids(sluice, settings, "work")
    assert await stream_state(sluice, settings, "work") == (0, 0)


async def test_attempts_exhausted_ends_failed_in_dead_letter_stream(
    gateway_http: httpx.AsyncClient, sluice: Sluice, settings: Settings, tmp_path: Path
) -> None:
    effect = tmp_path / "effect"
    reply = await gateway_http.post(
        "/v1/jobs/work", json={"succeed_on": 10, "effect_path": str(effect)}
    )
    job_id = reply.json()["job_id"]
    await run_burst(settings, "work")  # returns once no retry is left
    done = await sluice.status(job_id)
    assert done.status == "failed"
    assert done.attempts == 3 and done.max_attempts == 3
    assert done.error is not None and done.error.type == "ValueError"
    assert "failing attempt 3" in done.error.message
    assert [int(row[1]) for row in effects(effect, "start")] == [1, 2, 3]
    assert effects(effect) == []
    assert await dead_job_ids(sluice, settings, "work") == [job_id]
    assert await stream_state(sluice, settings, "work") == (0, 0)
    status = (await gateway_http.get(f"/v1/jobs/{job_id}")).json()
    assert status["status"] == "failed" and status["result"] is None
    assert (await gateway_http.get(f"/v1/jobs/{job_id}/result")).status_code == 409


async def test_dead_letter_stream_keeps_the_latest_entries(
    sluice: Sluice, settings: Settings, env: dict[str, str]
) -> None:
    """DEAD_LETTER_MAX bounds the stream (a handler failing every job cannot fill Redis);
    the statuses of jobs trimmed away still say why they failed."""
    jobs = [await sluice.submit("doomed", {}) for _ in range(5)]
    bounded = Settings.from_env({**env, "DEAD_LETTER_MAX": "3"})
    await run_burst(bounded, "doomed", concurrency=1)
    for job in jobs:
        assert (await sluice.status(job.job_id)).status == "failed"
    assert await dead_job_ids(sluice, settings, "doomed") == [job.job_id for job in jobs[2:]]
    first = await sluice.status(jobs[0].job_id)
    assert first.error is not None and first.error.type == "ValueError"


async def stopped_on_time(done: JobStatus, elapsed: float, effect: Path) -> None:
    """``spin``'s job failed at its 1.5 s limit and the child that ran it is gone."""
    assert done.status == "failed"
    assert done.error is not None and done.error.type == "TimeLimitExceeded"
    assert "1.5 s" in done.error.message
    assert done.attempts == 1
    assert 1.5 <= elapsed < 5.0, elapsed
    # The attempt's own clock: it ran its 1.5 s, and was stopped soon after.
    ran = seconds_between(done.started_at, done.finished_at)
    assert 1.5 <= ran < 5.0, ran
    starts = effects(effect, "start")
    assert len(starts) == 1
    await wait_gone(int(starts[0][2]))  # the child that ran it


async def test_time_limit_stops_the_handler_and_the_consumer_lives_on(
    sluice: Sluice, settings: Settings, tmp_path: Path
) -> None:
    effect = tmp_path / "effect"
    async with serving(settings, "spin", "work", concurrency=1) as consumer:
        # A first job warms the one child (its functions loaded): the 1.5 s that follow are
        # the handler's own, even on a busy machine.
        warm_up = await sluice.submit("work", {})
        await wait_for_status(sluice, warm_up.job_id, "succeeded", timeout=10)
        submitted = time.monotonic()
        spinning = await sluice.submit("spin", {"effect_path": str(effect)})
        done = await wait_for_status(sluice, spinning.job_id, "failed", "succeeded", timeout=8)
        elapsed = time.monotonic() - submitted
        await stopped_on_time(done, elapsed, effect)

        assert not consumer.crashed
        after = await sluice.submit("work", {"seconds": 0.1, "effect_path": str(effect)})
        finished = await wait_for_status(sluice, after.job_id, "succeeded", "failed", timeout=10)
        assert finished.status == "succeeded"
        assert not consumer.crashed  # and serving checks it still runs
    assert await stream_state(sluice, settings, "spin") == (0, 0)


async def test_memory_limit_fails_the_job_with_a_clear_error(
    sluice: Sluice, settings: Settings
) -> None:
    async with serving(settings, "hog", "echo") as consumer:
        hog = await sluice.submit("hog", {"megabytes": 1000})
        done = await wait_for_status(sluice, hog.job_id, "failed", "succeeded", timeout=15)
        assert done.status == "failed"
        assert done.error is not None and done.error.type == "MemoryLimitExceeded"
        assert "200 MB" in done.error.message
        assert done.attempts == 1

        assert not consumer.crashed
        small = await sluice.submit("hog", {"megabytes": 10})
        fits = await wait_for_status(sluice, small.job_id, "succeeded", "failed", timeout=10)
        assert fits.status == "succeeded", fits
        assert fits.result_value() == {"allocated": 10 * 1024 * 1024}
        echoed = await sluice.submit("echo", {"still": "alive"})
        assert (await sluice.wait(echoed.job_id, timeout=10)).status == "succeeded"
        assert not consumer.crashed  # and serving checks it still runs


async def test_a_refused_outcome_write_is_logged_and_the_consumer_lives_on(
    sluice: Sluice, settings: Settings, namespace: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The job's hash turns into a string while its handler runs: the completion script
    meets WRONGTYPE. That is a log line naming the job (not asyncio's bare traceback),
    and the next job runs."""
    with capture_logs() as logs:
        async with serving(settings, "work", concurrency=1) as consumer:
            job = await sluice.submit("work", {"seconds": 1.0})
            await wait_for_status(sluice, job.job_id, "running", timeout=10)
            keys = keys_for(namespace, "work")
            await sluice.redis.delete(keys.job(job.job_id))
            await sluice.redis.set(keys.job(job.job_id), "not a hash")
            line = await logged(logs, "outcome_not_written")
            assert line["job_id"] == job.job_id and "WRONGTYPE" in line["error"], line
            later = await sluice.submit("work", {"seconds": 0})
            done = await wait_for_status(sluice, later.job_id, "succeeded", timeout=10)
            assert done.attempts == 1
            assert not consumer.crashed  # and serving checks it still runs
    # A task whose exception nobody retrieved is reported by asyncio when it is collected.
    del consumer
    gc.collect()
    unretrieved = [r for r in caplog.records if "never retrieved" in r.getMessage()]
    assert unretrieved == [], unretrieved
