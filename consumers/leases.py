"""Keeping the leases of running jobs: heartbeats, and what they bring back (a job
cancelled, or a lease another consumer has taken)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import redis.exceptions
import structlog
from redis.asyncio import Redis

from consumers.outcomes import REDIS_DOWN, RunningJob
from shared.keys import GROUP
from shared.scripts import Scripts, run_batched
from shared.settings import Settings

log = structlog.get_logger("consumer")

# How often running jobs are looked at (heartbeats are due less often).
LEASE_TICK_SECONDS = 0.5
# A job running this long gets its cancel flag checked on every tick (and so does a job
# taken ahead while it waits for a slot: cancelled, its handler must not begin).
CANCEL_CHECK_AFTER_SECONDS = 1.0


class Leases:
    """Heartbeats for the ``running`` jobs of the consumer ``name``; a job whose lease is
    lost or which was cancelled is handed to ``interrupt`` with the reason."""

    def __init__(
        self,
        redis: Redis,
        scripts: Scripts,
        settings: Settings,
        name: str,
        running: dict[bytes, RunningJob],
        interrupt: Callable[[RunningJob, str], None],
    ) -> None:
        self.redis = redis
        self.scripts = scripts
        self.settings = settings
        self.name = name
        self.running = running
        self.interrupt = interrupt

    async def loop(self) -> None:
        while True:
            await asyncio.sleep(LEASE_TICK_SECONDS)
            try:
                await self.check()
            except REDIS_DOWN as exc:
                # Keep running: the lease is only lost if another consumer takes it.
                log.warning("heartbeat_failed", error=str(exc))
            except redis.exceptions.RedisError:
                log.exception("heartbeat_error")

    async def check(self) -> None:
        now = time.monotonic()
        jobs = [job for job in self.running.values() if not job.finishing]
        beats = [j for j in jobs if now - j.last_beat >= self.settings.heartbeat_interval]
        old = now - CANCEL_CHECK_AFTER_SECONDS
        checks = [j for j in jobs if j not in beats and (j.started <= old or not j.began)]
        if not beats and not checks:
            return
        beat_replies = (
            await run_batched(
                self.redis,
                [
                    (
                        self.scripts.heartbeat.script,
                        [job.keys.stream, job.keys.job(job.job_id)],
                        [GROUP, self.name, job.entry_id],
                    )
                    for job in beats
                ],
            )
            if beats
            else []
        )
        pipe = self.redis.pipeline(transaction=False)
        for job in checks:
            pipe.hget(job.keys.job(job.job_id), "cancel")
        check_replies = await pipe.execute(raise_on_error=False) if checks else []
        for job, reply in zip(beats, beat_replies, strict=True):
            if reply == 0:
                self.interrupt(job, "lost")
            elif reply == 2:
                self.interrupt(job, "cancelled")
            elif reply == 1:
                job.last_beat = now
        for job, reply in zip(checks, check_replies, strict=True):
            if reply == b"1":
                self.interrupt(job, "cancelled")
