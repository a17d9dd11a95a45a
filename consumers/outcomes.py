"""What the consumer writes about a job it runs: its progress, its files, and what became
of the attempt (final status, retry, or release at shutdown).

Every script here checks that this consumer still owns the job's entry, so each write is
safe to repeat after a lost connection: they are retried until Redis answers.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import redis.exceptions
import structlog

from consumers.chains import FollowUps
from consumers.context import Artifact
from shared.batch import ScriptBatcher
from shared.errors import SluiceError
from shared.functions import FunctionSpec
from shared.jobs import FAILED, encode_error, now_iso, now_ms
from shared.keys import FunctionKeys, function_of
from shared.redis import OUTAGE, Client
from shared.script_calls import complete_call, fail_call, progress_call, release_call
from shared.scripts import ScriptCall, Scripts, run_batched
from shared.settings import Settings

log = structlog.get_logger("consumer")
T = TypeVar("T")

REDIS_DOWN = OUTAGE
# Artifacts written by a run whose completion may yet be refused expire after this.
ORPHAN_TTL_SECONDS = 7 * 86_400
# Progress reports are written at most this often per job, the latest one each time. A
# job that ends sooner after a report does not write it: a 1-page render's "page 1 of 1"
# reached Redis during the hand-off to the next job, and the final status says it anyway.
PROGRESS_INTERVAL_SECONDS = 0.05


@dataclasses.dataclass(eq=False, slots=True)
class RunningJob:
    spec: FunctionSpec
    keys: FunctionKeys
    job_id: str
    entry_id: bytes
    attempt: int
    max_attempts: int
    idempotency_key: str
    # The follow-up job queued when this one succeeds ("" when none).
    next_job_id: str
    started: float
    last_beat: float
    task: asyncio.Task[None] | None = None
    # Why the local run was stopped: "lost", "cancelled", "shutdown", "timeout" or
    # "waited" (taken ahead, given back: see slots.AHEAD_BELOW_SECONDS).
    stop_reason: str | None = None
    # Set once the outcome is being written; the run is not interrupted after that.
    finishing: bool = False
    # When its handler began (time.monotonic()), holding one of the --concurrency handler
    # slots; 0 before (a job taken ahead waits for a slot).
    began: float = 0.0
    # When the handler of a job taken ahead began, after waiting for a slot (its status
    # says when it was taken): the outcome writes it as started_at.
    began_at: str = ""
    # The latest progress report not yet written; the timer that writes it, or whether a
    # writer is on it.
    progress: tuple[float, str] | None = None
    progress_timer: asyncio.TimerHandle | None = None
    progress_writer: bool = False
    progress_refused: bool = False
    # The latest report's message, written or not: a success's final status shows it.
    message: str = ""
    # Files this attempt saved; they expire with the job.
    artifact_keys: list[str] = dataclasses.field(default_factory=list)
    # Their size, counted against the tenant's quota of bytes stored.
    artifact_bytes: int = 0

    @property
    def function(self) -> str:
        return self.spec.name

    def ending_keys(self) -> list[str]:
        """The keys that end with the job, those that exist: only they are given an expiry
        (each EXPIRE is a call inside the script, for every job)."""
        keys = []
        if self.spec.takes_document:
            keys.append(self.keys.upload(self.job_id))
        if self.idempotency_key:
            keys.append(self.keys.idempotency(self.idempotency_key))
        if self.artifact_keys:
            keys += [self.keys.artifacts(self.job_id), *self.artifact_keys]
        return keys


class Outcomes:
    """The writes of one consumer (named ``name``) about the jobs it runs."""

    def __init__(
        self,
        redis: Client,
        scripts: Scripts,
        settings: Settings,
        name: str,
        follow_ups: FollowUps,
        until_redis: Callable[[Callable[[], Awaitable[Any]]], Awaitable[Any]],
        wake_recovery: asyncio.Event,
    ) -> None:
        self.redis = redis
        self.scripts = scripts
        self.settings = settings
        self.name = name
        self.follow_ups = follow_ups
        self._until_redis = until_redis
        self._wake_recovery = wake_recovery
        # In order: a consumer's outcomes reach Redis in the order they were decided (with
        # one slot, the dead-letter stream lists failures in the order the jobs ran).
        self._batcher = ScriptBatcher(redis, ordered=True)
        self._background: set[asyncio.Task[Any]] = set()
        self.finished = 0

    async def write(self, action: Callable[[], Awaitable[T]]) -> T:
        """Run ``action`` until Redis answers it."""
        result: T = await self._until_redis(action)
        return result

    def spawn(self, coroutine: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # Progress and files

    def report(self, job: RunningJob, percent: float, message: str) -> None:
        """Keep the latest report; it is written PROGRESS_INTERVAL_SECONDS later, with
        whatever came meanwhile, by one writer per job (a handler reporting in a tight
        loop must not flood Redis or the connection pool)."""
        job.progress = (percent, message)
        job.message = message
        if job.progress_timer is None and not job.progress_writer:
            job.progress_timer = asyncio.get_running_loop().call_later(
                PROGRESS_INTERVAL_SECONDS, self._progress_due, job
            )

    def stop_progress(self, job: RunningJob) -> None:
        """The handler is done: a report not yet written never is (the final status
        follows, with the last report's message), and no timer wakes this process for it
        while the next job runs."""
        if job.progress_timer is not None:
            job.progress_timer.cancel()
            job.progress_timer = None

    def _progress_due(self, job: RunningJob) -> None:
        job.progress_timer = None
        if job.progress is not None and not job.finishing:
            job.progress_writer = True
            self.spawn(self._write_progress(job))

    async def _write_progress(self, job: RunningJob) -> None:
        assert job.progress is not None
        percent, message = job.progress
        job.progress = None
        try:
            await self.scripts.run(
                progress_call(
                    job.keys,
                    job_id=job.job_id,
                    consumer=self.name,
                    percent=percent,
                    message=message,
                )
            )
        except REDIS_DOWN:
            pass  # progress is advisory; the next report or the final status follows
        except redis.exceptions.ResponseError as exc:
            if not job.progress_refused:  # once per job: a handler may report often
                job.progress_refused = True
                log.warning("progress_not_written", error=str(exc))
        finally:
            job.progress_writer = False
            if job.progress is not None and not job.finishing:
                self.report(job, *job.progress)  # reported while this was written

    async def save_artifacts(self, job: RunningJob, artifacts: list[Artifact]) -> None:
        """Each file under its own key, named in the job's index; the completion gives
        them the job's expiry, and this bound covers a run whose completion is refused."""
        index = job.keys.artifacts(job.job_id)
        pipe = self.redis.pipeline(transaction=False)
        for artifact in artifacts:
            key = job.keys.artifact(job.job_id, artifact.name)
            pipe.set(key, artifact.data, ex=ORPHAN_TTL_SECONDS)
            pipe.hset(index, artifact.name, artifact.content_type)
            job.artifact_keys.append(key)
            job.artifact_bytes += len(artifact.data)
        pipe.expire(index, ORPHAN_TTL_SECONDS)
        await pipe.execute()

    # What became of the attempt

    async def complete(
        self, job: RunningJob, status: str, result: bytes, error: bytes, began: float
    ) -> None:
        """The job's final status: succeeded, failed (a permanent error) or cancelled."""
        call = complete_call(
            job.keys,
            job_id=job.job_id,
            entry_id=job.entry_id,
            consumer=self.name,
            status=status,
            result=result,
            error=error,
            ending=job.ending_keys(),
            now=now_iso(),
            result_ttl=self.settings.result_ttl,
            next_job_id=job.next_job_id,
            message=job.message,
            began_at=job.began_at,
            artifact_bytes=job.artifact_bytes,
            duration_us=ran_us(job, began),
        )
        written = await self._write_outcome(call, follow_up_waits=2)
        self.finished += 1
        if not written:
            log.warning("completion_refused", status=status, reason="no longer the owner")
        elif status == FAILED:
            log.warning("job_failed", ms=elapsed_ms(began), error=error.decode(), dead=False)
        else:
            log.info("job_" + status, ms=elapsed_ms(began))

    async def _write_outcome(self, call: ScriptCall, follow_up_waits: int) -> Any:
        """Write an outcome (until Redis answers); the script's reply. The reply
        ``follow_up_waits`` says a follow-up waits in the outbox: it is relayed at once."""
        try:
            written = await self._batcher.call(call)
        except REDIS_DOWN:
            written = await self.write(lambda: self._batcher.call(call))
        if written == follow_up_waits:
            self.spawn(self.relay_follow_ups())
        return written

    async def relay_follow_ups(self, min_age_ms: int = 0) -> None:
        try:
            await self.follow_ups.relay(min_age_ms)
        except (*REDIS_DOWN, SluiceError) as exc:
            log.warning("follow_up_relay_failed", error=str(exc))  # the sweep retries

    async def fail_attempt(self, job: RunningJob, type: str, message: str, began: float) -> None:
        """Retry after the function's backoff, or, after its last attempt, the job ends
        failed and dead-lettered: fail.lua decides (see dead_letter in prelude.lua)."""
        delay = job.spec.retry_delay(job.attempt)
        call = fail_call(
            job.keys,
            job_id=job.job_id,
            entry_id=job.entry_id,
            consumer=self.name,
            error_type=type,
            message=message,
            retry_in_ms=int(delay * 1000),
            settings=self.settings,
            ending=job.ending_keys(),
            now_ms=now_ms(),
            now=now_iso(),
            next_job_id=job.next_job_id,
            began_at=job.began_at,
            duration_us=ran_us(job, began),
        )
        written = await self._write_outcome(call, follow_up_waits=3)
        if written == 1:
            log.warning(
                "job_retrying",
                ms=elapsed_ms(began),
                error_type=type,
                error=message,
                retry_in=round(delay, 3),
            )
            asyncio.get_running_loop().call_later(delay + 0.05, self._wake_recovery.set)
        elif written:
            self.finished += 1
            error = encode_error(type, message).decode()
            log.warning("job_failed", ms=elapsed_ms(began), error=error, dead=True)
        else:
            log.warning("retry_refused", reason="no longer the owner")

    async def release(self, job: RunningJob) -> bool:
        """Give the job back, claimable at once (shutdown, or taken ahead and waited)."""
        (released,) = await release_entries(
            self.redis, job.keys, self.name, [(job.entry_id, job.job_id)], self.settings
        )
        return released


async def release_entries(
    redis: Client,
    keys: FunctionKeys,
    consumer: str,
    entries: Sequence[tuple[bytes, str]],
    settings: Settings,
) -> list[bool]:
    """The one way entries pending to ``consumer`` go back to the group, claimable at once
    (by anyone, ``consumer`` included), in one round trip: ``entries`` are (entry id, the
    job id it names, "" if none). A job whose attempt began here and never ran to an
    outcome is queued again, that attempt not counted (release.lua). Whether each was
    released (not if it was no longer ours); raises the first error a call met."""
    calls = [
        release_call(
            keys,
            entry_id=entry_id,
            consumer=consumer,
            # Only a job of this function: its hash is in the stream's slot.
            job_id=job_id if function_of(job_id) == keys.function else "",
            visibility_ms=settings.visibility_ms,
        )
        for entry_id, job_id in entries
    ]
    replies = await run_batched(redis, calls) if calls else []
    for reply in replies:
        if isinstance(reply, Exception):
            raise reply
    return [reply == 1 for reply in replies]


def elapsed_ms(began: float) -> float:
    return round((time.perf_counter() - began) * 1000, 2)


def ran_us(job: RunningJob, began: float) -> int | None:
    """How long the attempt's handler ran in microseconds (``began``: time.perf_counter()
    then), for the duration histogram; None if it never began (stopped waiting for a slot)."""
    return round((time.perf_counter() - began) * 1e6) if job.began else None
