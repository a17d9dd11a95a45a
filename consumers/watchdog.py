"""Watching the event loop for handlers that block it.

An ``async def`` handler runs inline in the consumer's event loop; one that blocks it
(``time.sleep``, a CPU-bound loop) stops every other job's progress on that consumer and
cannot be preempted. The lease thread (consumers/leases.py) keeps the leases meanwhile and
asks ``LoopWatch.look`` whether the loop still turns; a loop that has not for
LOOP_BLOCKED_SECONDS is logged with the job that holds it. The time limit of such a job
is applied when its handler returns (``check_time_limit``): its result is thrown away. A
handler that holds the loop far past its limit is taken never to return: the consumer
exits, so that its jobs go to other consumers.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Sequence

import structlog

from consumers.errors import AttemptFailed
from consumers.outcomes import RunningJob
from shared import error_types

log = structlog.get_logger("consumer")

# A loop that has not turned for this long is logged as blocked (and again each time the
# block has doubled, so a handler that never returns keeps saying so).
LOOP_BLOCKED_SECONDS = 1.0
# How often the loop shows it turns: a timer this cheap costs nothing next to the jobs.
PULSE_SECONDS = 0.1
# A handler holding the loop past its time limit by the settings' stuck_grace (or by its
# time limit, if longer) is taken never to return: the consumer exits with EXIT_STUCK.
EXIT_STUCK = 70


class LoopWatch:
    """``turned`` is called in the event loop; ``look`` from another thread."""

    def __init__(self, stuck_grace: float) -> None:
        self.stuck_grace = stuck_grace
        # Written by the loop only; read by the thread (a float: no lock needed).
        self.alive_at = time.monotonic()
        # The block last reported (its alive_at) and when to report it again.
        self._reported_at = 0.0
        self._report_after = LOOP_BLOCKED_SECONDS

    def turned(self) -> None:
        """Called by the loop every PULSE_SECONDS: it is alive. After a block, say how
        long it lasted."""
        now = time.monotonic()
        blocked = now - self.alive_at - PULSE_SECONDS
        if blocked >= LOOP_BLOCKED_SECONDS:
            log.warning("event_loop_unblocked", blocked_s=round(blocked, 3))
        self.alive_at = now

    def look(self, loop: asyncio.AbstractEventLoop, held: Sequence[RunningJob], now: float) -> None:
        """From the lease thread: log a loop blocked for LOOP_BLOCKED_SECONDS or more,
        naming the job whose task holds it (if a job's) and every job running inline."""
        alive_at = self.alive_at
        blocked = now - alive_at - PULSE_SECONDS
        if blocked < LOOP_BLOCKED_SECONDS:
            return
        if alive_at != self._reported_at:  # a new block
            self._reported_at = alive_at
            self._report_after = LOOP_BLOCKED_SECONDS
        # The task running at this moment is the one holding the loop (CPython keeps the
        # current task per loop, readable from another thread).
        task = asyncio.current_task(loop)
        culprit = next((job for job in held if job.task is task), None)
        if culprit is not None and culprit.began:
            stuck_after = culprit.spec.timeout + max(self.stuck_grace, culprit.spec.timeout)
            if now - culprit.began > stuck_after:
                self.give_up(culprit, now - culprit.began)
        if blocked < self._report_after:
            return
        self._report_after = 2 * blocked
        inline = [job for job in held if job.spec.is_async and job.began and not job.finishing]
        log.warning(
            "event_loop_blocked",
            blocked_s=round(blocked, 3),
            job_id=culprit.job_id if culprit else None,
            function=culprit.spec.name if culprit else None,
            attempt=culprit.attempt if culprit else None,
            inline_job_ids=[job.job_id for job in inline],
        )

    def give_up(self, culprit: RunningJob, ran: float) -> None:
        """End the process: a handler that never returns holds the loop for ever, and
        only the process's end frees its jobs (reclaimed by other consumers after the
        visibility timeout; the attempt counts, as for a consumer that was killed)."""
        log.error(
            "event_loop_stuck",
            job_id=culprit.job_id,
            function=culprit.spec.name,
            attempt=culprit.attempt,
            ran_s=round(ran, 3),
            timeout=culprit.spec.timeout,
            action="exit: its jobs go to other consumers",
        )
        os._exit(EXIT_STUCK)  # the log line is written: from a thread, lines go at once


def check_time_limit(job: RunningJob) -> None:
    """An inline handler that returned past its time limit (it blocked the loop, so its
    timer could not stop it) fails the attempt: its result is thrown away."""
    ran = time.monotonic() - job.began
    if ran > job.spec.timeout:
        raise AttemptFailed(
            error_types.TIME_LIMIT_EXCEEDED,
            f"the handler ran over its {job.spec.timeout:g} s time limit (it returned"
            f" after {ran:.1f} s, having blocked the consumer's event loop; its result"
            " was thrown away)",
        )
