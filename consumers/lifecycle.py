"""The consumer's stop request and its waits through Redis outages, shared by its loops."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog

from consumers.outcomes import REDIS_DOWN

log = structlog.get_logger("consumer")
T = TypeVar("T")

# After SIGTERM, how long past the grace period the consumer keeps trying to write its
# releases and outcomes through a Redis outage; then it exits and leaves those jobs to the
# visibility timeout (a stop must not wait for Redis to come back).
SHUTDOWN_WRITE_SECONDS = 2.0


class Lifecycle:
    def __init__(self, shutdown_grace: float) -> None:
        self.stopping = asyncio.Event()
        self._shutdown_grace = shutdown_grace
        # After a stop request: when writes stop waiting for Redis to come back.
        self._give_up_at = float("inf")
        # When Redis last failed us: recovery gives running jobs' owners a heartbeat to
        # renew their leases before it reclaims anything.
        self.reconnected_at = 0.0

    @property
    def stopped(self) -> bool:
        return self.stopping.is_set()

    def stop(self) -> bool:
        """Ask for a stop; True the first time."""
        first = not self.stopping.is_set()
        if first:
            self._give_up_at = time.monotonic() + self._shutdown_grace + SHUTDOWN_WRITE_SECONDS
        self.stopping.set()
        return first

    def redis_lost(self) -> None:
        self.reconnected_at = time.monotonic()

    async def until_redis(self, action: Callable[[], Awaitable[T]]) -> T:
        """Run ``action`` until Redis answers it; after a stop request, only until the
        grace period and SHUTDOWN_WRITE_SECONDS are over (then its error is raised)."""
        delay = 0.1
        while True:
            try:
                return await action()
            except REDIS_DOWN as exc:
                if self.stopped and time.monotonic() + delay > self._give_up_at:
                    raise
                log.warning("redis_unavailable", error=str(exc), retry_in=delay)
                self.redis_lost()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def until_stopped(self, work: Awaitable[None]) -> bool:
        """Run ``work``; False if a stop request came first (``work`` is then cancelled)."""
        task = asyncio.ensure_future(work)
        stopping = asyncio.ensure_future(self.stopping.wait())
        await asyncio.wait([task, stopping], return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if task.done():
            task.result()
            return True
        await cancel_until_done([task])
        return False


async def cancel_until_done(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel the tasks and wait for them to end, cancelling again while they run on:
    on Python 3.11, asyncio.wait_for (redis-py sends every command through it) swallows
    a cancellation that arrives as the awaited operation completes."""
    for task in tasks:
        task.cancel()
    while True:
        _, running = await asyncio.wait(tasks, timeout=0.5)
        if not running:
            return
        for task in running:
            task.cancel()
