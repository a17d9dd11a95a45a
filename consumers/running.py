"""A job from its start to its outcome: wait for a handler slot, run the attempt under
its time limit, and write what became of it (consumers/outcomes.py)."""

from __future__ import annotations

import asyncio
import functools
import time
from typing import Any

import structlog

from consumers.attempt import run_attempt, time_limit_exceeded
from consumers.context import Attempt
from consumers.errors import AttemptFailed
from consumers.leases import Leases
from consumers.lifecycle import Lifecycle
from consumers.outcomes import Outcomes, RunningJob, elapsed_ms
from consumers.pool import ProcessPool
from consumers.slots import AHEAD_BELOW_SECONDS, Slots
from consumers.watchdog import check_time_limit
from shared import error_types
from shared.errors import PermanentError
from shared.jobs import CANCELLED, FAILED, SUCCEEDED, encode_error, now_iso
from shared.redis import Client

log = structlog.get_logger("consumer")

# How long a finished job's files wait for the next job to begin (see _next_job_began):
# about twice what picking up the next job takes here, and all an idle consumer adds to
# such a job's finished_at.
ARTIFACTS_WAIT_SECONDS = 0.002


class Runner:
    def __init__(
        self,
        redis: Client,
        slots: Slots[RunningJob],
        lifecycle: Lifecycle,
        outcomes: Outcomes,
        leases: Leases,
        pool: ProcessPool,
        wake_recovery: asyncio.Event,
    ) -> None:
        self.redis = redis
        self.slots = slots
        self.lifecycle = lifecycle
        self.outcomes = outcomes
        self.leases = leases
        self.pool = pool
        self.wake_recovery = wake_recovery
        # Jobs taken ahead that wait for a handler slot.
        self._taken_ahead: set[RunningJob] = set()
        # Set while the read of all streams blocks: no next job is known to be coming.
        self.reading_all = False
        # Resolved when the next handler begins (made when a finished job waits for it).
        self._next_begin: asyncio.Future[None] | None = None

    def start(self, job: RunningJob, payload: bytes, document: Any) -> None:
        """Run the job (``document``: its upload, if read along with its start)."""
        self.slots.add(job)
        self.leases.hold(job)
        job.task = asyncio.create_task(self._run(job, payload, document))
        job.task.add_done_callback(functools.partial(self._run_ended, job))

    def began(self) -> None:
        """A handler is about to run: wake the outcomes waiting for that."""
        if self._next_begin is not None:
            self._next_begin.set_result(None)
            self._next_begin = None

    def interrupt(self, job: RunningJob, reason: str) -> None:
        if job.finishing or job.task is None:
            return
        if job.stop_reason is None:
            job.stop_reason = reason
        elif reason != "shutdown":
            return
        # Cancelled again at shutdown: a cancellation swallowed on its way (Python 3.11's
        # wait_for can) must not leave the drain waiting for ever.
        job.task.cancel()

    def give_back_taken_ahead(self) -> None:
        """At a stop: jobs whose handlers have not begun go back to the queue."""
        for job in list(self._taken_ahead):
            self.interrupt(job, "shutdown")

    async def drain(self, grace: float) -> None:
        """Let running jobs finish for ``grace`` seconds; release the rest."""
        tasks = [job.task for job in self.slots.running.values() if job.task is not None]
        log.info("draining", running=len(tasks), grace=grace)
        if tasks:
            await asyncio.wait(tasks, timeout=grace)
        left = [job for job in self.slots.running.values() if job.task is not None]
        for job in left:
            self.interrupt(job, "shutdown")
        await asyncio.gather(*(job.task for job in left if job.task), return_exceptions=True)
        log.info("drained", finished_in_grace=len(tasks) - len(left), released=len(left))

    def _finishing(self, job: RunningJob) -> None:
        """The handler is done: from now on the job is only writing its outcome, which
        nothing interrupts, and its slot goes to the next job."""
        if not job.finishing:
            job.finishing = True
            self.outcomes.stop_progress(job)
            self.slots.finished(job)

    async def _run(self, job: RunningJob, payload: bytes, document: Any) -> None:
        structlog.contextvars.bind_contextvars(
            job_id=job.job_id, function=job.spec.name, attempt=job.attempt
        )
        began = time.perf_counter()
        time_limit: asyncio.TimerHandle | None = None
        attempt = Attempt(
            job.job_id,
            job.attempt,
            payload,
            None,
            lambda percent, message: self.outcomes.report(job, percent, message),
        )
        try:
            try:
                if not self.slots.handler_free:  # taken ahead: wait for a slot
                    await self._wait_for_slot(job)
                    job.began_at = now_iso()
                    began = time.perf_counter()
                else:
                    await self.slots.acquire_handler()
                job.began = time.monotonic()
                # A timer, not asyncio.timeout: one handle per job is all a busy consumer pays.
                time_limit = asyncio.get_running_loop().call_later(
                    job.spec.timeout, self.interrupt, job, "timeout"
                )
                if job.spec.takes_document:
                    attempt.document = await self._read_document(job, document)
                self.began()
                result = await run_attempt(job.spec, self.pool, attempt)
                if job.spec.is_async:
                    check_time_limit(job)  # it may have blocked the loop past its timer
            except asyncio.CancelledError:
                if not await self._stopped(job, began):
                    raise
            except PermanentError as exc:
                self._finishing(job)
                error = encode_error(exc.type, exc.message)
                await self.outcomes.complete(job, FAILED, b"", error, began)
            except AttemptFailed as exc:
                self._finishing(job)
                await self.outcomes.fail_attempt(job, exc.type, exc.message, began)
            except Exception as exc:  # a bug of ours; the job must still end somewhere
                log.exception("attempt_crashed")
                self._finishing(job)
                await self.outcomes.fail_attempt(job, type(exc).__name__, str(exc), began)
            else:
                self._finishing(job)
                await self._succeeded(job, attempt, result, began)
        finally:
            if time_limit is not None:
                time_limit.cancel()
            self._finishing(job)
            self.slots.remove(job)
            self.leases.drop(job)
            if self.slots.claim_first:
                self.wake_recovery.set()  # a free slot: the read loop may be blocked

    async def _stopped(self, job: RunningJob, began: float) -> bool:
        """Write what an interrupted run comes to; False if nothing of ours stopped it."""
        reason = job.stop_reason
        if reason == "lost":
            log.warning("lease_lost", ms=elapsed_ms(began))
            return True
        if reason not in ("shutdown", "waited", "timeout", "cancelled"):
            return False
        self._finishing(job)
        if reason == "timeout":
            error = time_limit_exceeded(job.spec)
            await self.outcomes.fail_attempt(job, error.type, error.message, began)
        elif reason == "cancelled":
            await self.outcomes.complete(job, CANCELLED, b"", b"", began)
        elif await self.outcomes.write(lambda: self.outcomes.release(job)):
            log.info("job_released", ms=elapsed_ms(began), reason=reason)
            if reason == "waited":
                self.slots.claim_first = True  # the next free slot claims it first
        else:
            log.warning("release_refused", reason="no longer the owner")
        return True

    async def _succeeded(
        self, job: RunningJob, attempt: Attempt, result: bytes, began: float
    ) -> None:
        try:
            if attempt.artifacts:
                await self._next_job_began()
                await self.outcomes.write(
                    lambda: self.outcomes.save_artifacts(job, attempt.artifacts)
                )
        except Exception as exc:  # e.g. Redis refusing the bytes (maxmemory)
            log.exception("artifacts_not_saved")
            await self.outcomes.fail_attempt(job, type(exc).__name__, str(exc), began)
        else:
            await self.outcomes.complete(job, SUCCEEDED, result, b"", began)

    def _run_ended(self, job: RunningJob, task: asyncio.Task[None]) -> None:
        """A job's task that raised: its outcome write was refused by Redis (out of memory,
        a key of the wrong type). Said as a log line of its own, not asyncio's bare
        traceback; an entry still pending is claimed again after the visibility timeout."""
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error(
                "outcome_not_written",
                job_id=job.job_id,
                function=job.spec.name,
                attempt=job.attempt,
                error=f"{type(exc).__name__}: {exc}",
            )

    async def _wait_for_slot(self, job: RunningJob) -> None:
        """A job taken ahead waits for a running handler to end, for at most
        AHEAD_BELOW_SECONDS: then it is given back (the running ones took longer than
        they used to, and another consumer may be free)."""
        give_back = asyncio.get_running_loop().call_later(
            AHEAD_BELOW_SECONDS, self.interrupt, job, "waited"
        )
        self._taken_ahead.add(job)
        if self.lifecycle.stopped:  # taken by a read that was on its way at SIGTERM
            self.interrupt(job, "shutdown")
        try:
            await self.slots.acquire_handler()
        finally:
            give_back.cancel()
            self._taken_ahead.discard(job)

    async def _next_job_began(self) -> None:
        """Hold a finished job's files until the job taking its slot has begun (at most
        ARTIFACTS_WAIT_SECONDS): written at once, their bytes would go to Redis alongside
        the next job's read and start and slow both."""
        if self.reading_all:
            return
        if self._next_begin is None:
            self._next_begin = asyncio.get_running_loop().create_future()
        await asyncio.wait([self._next_begin], timeout=ARTIFACTS_WAIT_SECONDS)

    async def _read_document(self, job: RunningJob, read: Any) -> bytes:
        """The upload as read along with the start, or read now if that read failed."""
        document = read
        if not isinstance(document, bytes):
            upload = job.keys.upload(job.job_id)
            document = await self.lifecycle.until_redis(lambda: self.redis.get(upload))
        if not isinstance(document, bytes):
            message = "the job's document is gone (expired)"
            raise PermanentError(message, type=error_types.DOCUMENT_MISSING)
        return document
