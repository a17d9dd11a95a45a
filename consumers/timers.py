"""Delayed jobs become queued when they are due: every consumer looks at its functions'
scheduled sets at least twice a second (promote.lua moves the due ones onto their
streams atomically, so consumers racing for them queue each once). The same look learns
which functions are paused and, every SAMPLE_EVERY_S, notes backlog and running for the
dashboard's charts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

import structlog
from redis.exceptions import RedisError

from consumers.outcomes import REDIS_DOWN
from consumers.pausing import PausedStreams
from shared.jobs import now_ms
from shared.keys import FunctionKeys
from shared.redis import Client
from shared.scripts import run_batched
from shared.upkeep_calls import promote_call

log = structlog.get_logger("consumer")

# The longest a due job waits for a look (the issue asks for "due within 1 s").
LOOK_EVERY_S = 0.5
# Jobs queued per function per look: a look is one round trip, not an unbounded script.
PER_LOOK = 500
# How often a consumer notes its functions' backlog and running (each minute's last note
# is the chart's point; several consumers noting the same minute cost a few writes).
SAMPLE_EVERY_S = 5.0


class Timers:
    def __init__(
        self,
        redis: Client,
        keys: Iterable[FunctionKeys],
        paused: PausedStreams | None = None,
    ) -> None:
        self._redis = redis
        self._keys = list(keys)
        self._paused = paused or PausedStreams()
        self._sampled_at = 0.0

    async def promote_due(self) -> tuple[int, float]:
        """Queue the due jobs; how many, and the seconds until the next look (sooner
        than LOOK_EVERY_S when a job is due sooner or some were left for the next look)."""
        now = now_ms()
        sample = time.monotonic() - self._sampled_at >= SAMPLE_EVERY_S
        calls = [
            promote_call(keys, now_ms=now, count=PER_LOOK, sample=sample) for keys in self._keys
        ]
        replies = await run_batched(self._redis, calls)
        if sample:
            self._sampled_at = time.monotonic()
        queued, wait = 0, LOOK_EVERY_S
        for keys, reply in zip(self._keys, replies, strict=True):
            if isinstance(reply, Exception):
                raise reply
            count, next_due = int(reply[0]), reply[1]
            self._paused.set(keys.stream.encode(), bool(reply[2]))
            queued += count
            if count == PER_LOOK:
                wait = 0.0
            elif next_due:
                wait = min(wait, max(0.0, (float(next_due) - now) / 1000))
            if count:
                log.info("scheduled_jobs_queued", function=keys.function, count=count)
        return queued, wait

    async def first_look(self) -> None:
        """One look before the consumer reads: which functions are paused, what is due."""
        try:
            await self.promote_due()
        except (*REDIS_DOWN, RedisError) as exc:  # the loop looks again
            log.warning("scheduled_look_failed", error=str(exc))

    async def loop(self, stopping: asyncio.Event) -> None:
        """Look until ``stopping`` is set; a Redis outage is waited out."""
        while not stopping.is_set():
            try:
                _, wait = await self.promote_due()
            except (*REDIS_DOWN, RedisError) as exc:  # READONLY after a failover, BUSY, ...
                log.warning("scheduled_look_failed", error=str(exc))
                wait = 1.0
            try:
                await asyncio.wait_for(stopping.wait(), timeout=max(wait, 0.01))
            except TimeoutError:
                pass
