"""A consumer working through a backlog: its free slots take the next entries with
take.lua (a read and its starts in one round trip) instead of a read, then a start.

Workers run in the test's process (tests/inprocess.py), but for the one test that
SIGTERMs a consumer.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import redis

from consumers.intake import TAKE_COPY_MAX_BYTES
from consumers.slots import AHEAD_BELOW_SECONDS
from shared.client import Sluice
from shared.keys import GROUP, keys_for
from shared.settings import Settings
from tests.conftest import VISIBILITY_TIMEOUT, Proc
from tests.helpers import effects, wait_for_lines, wait_for_status
from tests.inprocess import serving

# Submits `work` jobs with these params while the consumer stands still; their job ids.
SubmitWhileStill = Callable[[list[dict[str, object]]], Awaitable[list[str]]]


def _pdf(size: int) -> bytes:
    """``size`` bytes that pass for a PDF (the gateway judges by the first bytes)."""
    return b"%PDF-1.4\n" + os.urandom(size - 9)


async def test_documents_taken_from_a_backlog_each_get_their_own_upload(
    sluice: Sluice, settings: Settings, sync_redis: redis.Redis
) -> None:
    """Uploads up to TAKE_COPY_MAX_BYTES come with the take through one copy key per
    consumer; larger ones are read on their own. Each job reads its own bytes either way,
    and no copy is left behind."""
    async with serving(settings, "digest", concurrency=1):
        first = await sluice.submit_document("digest", _pdf(1000), {"seconds": 0.5})
        await wait_for_status(sluice, first.job_id, "running")
        sizes = [10_000, TAKE_COPY_MAX_BYTES + 1, 200_000, TAKE_COPY_MAX_BYTES, 1000, 5_000_000]
        documents = [_pdf(size) for size in sizes]
        jobs = [(await sluice.submit_document("digest", doc)).job_id for doc in documents]
        for job_id, document in zip(jobs, documents, strict=True):
            done = await wait_for_status(sluice, job_id, "succeeded", "failed", timeout=30)
            assert done.result_value() == {
                "size": len(document),
                "sha256": hashlib.sha256(document).hexdigest(),
            }, done
    taking = keys_for(sluice.settings.namespace, "digest").taking("*")
    assert list(sync_redis.scan_iter(match=taking)) == []


async def test_a_backlog_of_one_function_does_not_hold_back_another(
    sluice: Sluice, settings: Settings
) -> None:
    """One slot, two functions: while `work` has a backlog its next entries are taken
    from its stream alone, but every stream is read at least once a second, so an
    `async_work` job starts long before the backlog is done."""
    async with serving(settings, "work", "async_work", concurrency=1):
        backlog = [(await sluice.submit("work", {"seconds": 0.1})).job_id for _ in range(30)]
        await wait_for_status(sluice, backlog[0], "running", "succeeded")
        other = (await sluice.submit("async_work", {"seconds": 0})).job_id
        done = await wait_for_status(sluice, other, "succeeded", timeout=20)
        finished = [await wait_for_status(sluice, job_id, "succeeded") for job_id in backlog]
    before = [s for s in finished if _at(s.started_at) < _at(done.started_at)]
    # About 10 of the 0.1 s jobs fit in the second before the streams are all read again.
    assert len(before) < 20, f"{len(before)} of the backlog's 30 jobs started first"


def _at(iso: str | None) -> datetime:
    assert iso is not None
    return datetime.fromisoformat(iso)


async def test_entries_that_are_not_jobs_in_a_backlog_are_dropped_or_skipped(
    sluice: Sluice, settings: Settings, sync_redis: redis.Redis
) -> None:
    """Entries a take meets that name no job of the function, or a job that is gone:
    acknowledged and deleted, and the jobs behind them run."""
    stream = keys_for(sluice.settings.namespace, "async_work").stream
    async with serving(settings, "async_work", concurrency=1):
        first = await sluice.submit("async_work", {"seconds": 0.5})
        await wait_for_status(sluice, first.job_id, "running")
        sync_redis.xadd(stream, {"job_id": "garbage"})  # not a job id: dropped
        sync_redis.xadd(stream, {"job_id": "async_work-" + "0" * 32})  # no such job: skipped
        sync_redis.xadd(stream, {"job_id": "echo-" + "0" * 32})  # another function's: dropped
        behind = [(await sluice.submit("async_work", {"seconds": 0})).job_id for _ in range(3)]
        for job_id in [first.job_id, *behind]:
            done = await wait_for_status(sluice, job_id, "succeeded", timeout=10)
            assert done.attempts == 1
        assert sync_redis.xlen(stream) == 0


async def test_a_retry_that_is_due_runs_before_the_rest_of_a_backlog(
    sluice: Sluice, settings: Settings
) -> None:
    """A failed attempt's retry is claimed (XAUTOCLAIM) once its backoff is over, while
    the backlog's new entries are taken: it must not wait for the backlog to end."""
    async with serving(settings, "work", concurrency=1):
        failing = await sluice.submit("work", {"succeed_on": 2})  # backoff ~0.4-0.5 s
        backlog = [(await sluice.submit("work", {"seconds": 0.05})).job_id for _ in range(60)]
        retried = await wait_for_status(sluice, failing.job_id, "succeeded", timeout=30)
        assert retried.attempts == 2
        finished = [await wait_for_status(sluice, job_id, "succeeded") for job_id in backlog]
    after = [s for s in finished if _at(s.started_at) > _at(retried.started_at)]
    # ~0.06 s per job: about 50 of the 60 are still to run when the retry is due.
    assert len(after) >= 20, f"only {len(after)} of the backlog's 60 jobs started after it"


async def test_claimed_and_new_entries_together_never_run_more_than_the_concurrency(
    sluice: Sluice, settings: Settings, sync_redis: redis.Redis, tmp_path: Path
) -> None:
    """Entries of a dead consumer (claimed by the recovery loop) and new ones (taken by
    the read loop) share the slots: no more handlers at once than --concurrency."""
    effect = tmp_path / "effect"
    stream = keys_for(sluice.settings.namespace, "work").stream
    sync_redis.xgroup_create(stream, GROUP, id="0", mkstream=True)
    params = {"seconds": 0.05, "effect_path": str(effect)}
    orphans = [(await sluice.submit("work", params)).job_id for _ in range(30)]
    read: Any = sync_redis.xreadgroup(GROUP, "dead-consumer", {stream: ">"}, count=30)
    # Idle past the visibility timeout at once (XCLAIM's IDLE), as if the dead consumer
    # had read them that long ago: claimable now.
    entry_ids: list[Any] = [entry_id for entry_id, _ in read[0][1]]
    assert len(entry_ids) == len(orphans)
    idle_ms = int((VISIBILITY_TIMEOUT + 1) * 1000)
    sync_redis.xclaim(stream, GROUP, "dead-consumer", 0, entry_ids, idle=idle_ms)
    async with serving(settings, "work", concurrency=2):
        fresh = [(await sluice.submit("work", params)).job_id for _ in range(30)]
        for job_id in orphans + fresh:
            await wait_for_status(sluice, job_id, "succeeded", timeout=30)
    edges = sorted(
        (float(line[4]), 1 if what == "start" else -1)
        for what in ("start", "effect")
        for line in effects(effect, what)
    )
    running = most = 0
    for _, step in edges:
        running += step
        most = max(most, running)
    assert most <= 2, f"{most} handlers ran at once"


def loop_stands_still(settings: Settings) -> SubmitWhileStill:
    """Submitting from another thread while this event loop is held, and with it the
    in-process worker: what SIGSTOP does to a consumer process."""

    async def submit_all(jobs: list[dict[str, object]]) -> list[str]:
        async with Sluice.connect(settings) as client:
            return [(await client.submit("work", params)).job_id for params in jobs]

    async def submit(jobs: list[dict[str, object]]) -> list[str]:
        with ThreadPoolExecutor(1) as thread:
            return thread.submit(asyncio.run, submit_all(jobs)).result()  # holds the loop

    return submit


def process_stopped(sluice: Sluice, consumer: Proc) -> SubmitWhileStill:
    """Submitting while the consumer process is stopped (SIGSTOP)."""

    async def submit(jobs: list[dict[str, object]]) -> list[str]:
        consumer.signal(signal.SIGSTOP)
        try:
            return [(await sluice.submit("work", params)).job_id for params in jobs]
        finally:
            consumer.signal(signal.SIGCONT)

    return submit


async def _take_one_ahead(
    sluice: Sluice, while_still: SubmitWhileStill, effect: Path, seconds: float
) -> tuple[str, str]:
    """On a consumer with one slot, whose last `work` job was short: a `seconds` long job
    and one more behind it, which is taken ahead while the first runs (running, not
    begun). Both are queued while the consumer stands still, so the second is in the
    stream when the first is read."""
    warm = await sluice.submit("work", {"seconds": 0})
    await wait_for_status(sluice, warm.job_id, "succeeded")
    params: dict[str, object] = {"effect_path": str(effect)}
    running, ahead = await while_still([{**params, "seconds": seconds}, params])
    await wait_for_lines(effect, "start", 1)
    await wait_for_status(sluice, ahead, "running", timeout=0.5)
    assert [row[0] for row in effects(effect, "start")] == [running]
    assert effects(effect, "effect") == [], "the first job ended before the second was taken"
    return running, ahead


async def test_a_short_job_is_taken_ahead_and_begins_when_the_slot_frees(
    sluice: Sluice, settings: Settings, tmp_path: Path
) -> None:
    """All slots busy, a backlog of a function whose last run was short: one more job is
    taken (running: started, with its lease), its handler waits for the slot, and its
    started_at is corrected to when the handler began."""
    effect = tmp_path / "effect"
    async with serving(settings, "work", concurrency=1):
        running, ahead = await _take_one_ahead(
            sluice, loop_stands_still(settings), effect, seconds=0.8
        )
        taken_at = _at((await sluice.status(ahead)).started_at).timestamp()
        await wait_for_status(sluice, running, "succeeded")
        second = await wait_for_status(sluice, ahead, "succeeded")
    assert second.attempts == 1
    first_end = float(effects(effect, "effect")[0][4])
    second_start = next(float(row[4]) for row in effects(effect, "start") if row[0] == ahead)
    assert second_start >= first_end, "two handlers ran at once on one slot"
    began = _at(second.started_at).timestamp()
    assert taken_at < first_end - 0.5, "not taken while the first job ran"
    # Stamped (in whole milliseconds) after the first handler ended, before this one began.
    assert first_end - 0.001 <= began <= second_start, (second.started_at, first_end)


async def test_a_job_taken_ahead_is_given_back_when_it_waits_too_long(
    sluice: Sluice, settings: Settings, tmp_path: Path
) -> None:
    """A job taken ahead behind a job that runs much longer than the function used to:
    given back after AHEAD_BELOW_SECONDS (queued, its attempt uncounted), and run by
    another consumer while the long one still runs."""
    effect = tmp_path / "effect"
    async with serving(settings, "work", concurrency=1):
        # The long job's 5 s leave room for a busy machine to start the other worker.
        running, ahead = await _take_one_ahead(
            sluice, loop_stands_still(settings), effect, seconds=5.0
        )
        given_back = await wait_for_status(sluice, ahead, "queued", timeout=AHEAD_BELOW_SECONDS + 1)
        assert given_back.attempts == 0
        # Its first recovery pass claims the job.
        async with serving(settings, "work", concurrency=1):
            done = await wait_for_status(sluice, ahead, "succeeded", timeout=15)
        assert done.attempts == 1
        assert effects(effect, "effect")[0][0] == ahead, "it waited for the long job"
        starts = effects(effect, "start")
        assert [row[0] for row in starts] == [running, ahead]
        assert starts[1][2] != starts[0][2], "run by the busy consumer"
        assert (await wait_for_status(sluice, running, "succeeded")).attempts == 1


async def test_a_job_taken_ahead_is_given_back_at_sigterm(
    sluice: Sluice,
    settings: Settings,
    start_consumer: Callable[..., Proc],
    tmp_path: Path,
) -> None:
    """A stopping consumer finishes the job it runs within the grace period but gives
    back the one it took ahead at once: queued again, its attempt not counted, run by
    the next consumer (in this process: it is not signalled)."""
    effect = tmp_path / "effect"
    stopping = start_consumer("work", concurrency=1)
    running, ahead = await _take_one_ahead(
        sluice, process_stopped(sluice, stopping), effect, seconds=2.0
    )
    stopping.signal(signal.SIGTERM)
    # At once: not after AHEAD_BELOW_SECONDS of waiting, as a job taken ahead is anyway.
    given_back = await wait_for_status(sluice, ahead, "queued", timeout=0.5)
    assert given_back.attempts == 0
    assert effects(effect, "effect") == [], "given back only after the running job ended"
    assert (await wait_for_status(sluice, running, "succeeded")).attempts == 1
    assert await asyncio.to_thread(stopping.wait, 10) == 0
    async with serving(settings, "work", concurrency=1):
        done = await wait_for_status(sluice, ahead, "succeeded")
    assert done.attempts == 1
    starts = [row for row in effects(effect, "start") if row[0] == ahead]
    assert len(starts) == 1, starts
    first_pid = effects(effect, "start")[0][2]
    assert starts[0][2] != first_pid, "the stopping consumer ran it"


async def test_a_job_taken_ahead_and_cancelled_never_begins(
    sluice: Sluice, settings: Settings, tmp_path: Path
) -> None:
    effect = tmp_path / "effect"
    async with serving(settings, "work", concurrency=1):
        running, ahead = await _take_one_ahead(
            sluice, loop_stands_still(settings), effect, seconds=0.9
        )
        await sluice.cancel(ahead)
        assert (await wait_for_status(sluice, ahead, "cancelled")).status == "cancelled"
        assert (await wait_for_status(sluice, running, "succeeded")).attempts == 1
        later = (await sluice.submit("work", {"effect_path": str(effect)})).job_id
        await wait_for_status(sluice, later, "succeeded")
    assert [row[0] for row in effects(effect, "start")] == [running, later]
