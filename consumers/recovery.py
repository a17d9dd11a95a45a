"""The recovery loop: every half visibility timeout (or when woken), relay lost
follow-ups, say this consumer is alive, XAUTOCLAIM entries whose owner stopped
heartbeating (crashed consumers, retries whose backoff is over), forget departed
consumers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import redis.exceptions
import structlog

from consumers.lifecycle import Lifecycle
from consumers.membership import Membership
from consumers.outcomes import REDIS_DOWN, Outcomes

log = structlog.get_logger("consumer")

# Outbox entries older than this are relayed here (younger ones are being relayed by the
# consumer that completed the job).
FOLLOW_UP_SWEEP_AGE_MS = 5000


async def recovery_loop(
    reclaim: Callable[[], Awaitable[None]],
    outcomes: Outcomes,
    membership: Membership,
    lifecycle: Lifecycle,
    wake: asyncio.Event,
    interval: float,
    heartbeat_interval: float,
) -> None:
    while True:
        try:
            await asyncio.wait_for(wake.wait(), timeout=interval)
        except TimeoutError:
            pass
        wake.clear()
        if lifecycle.stopped:
            return
        if time.monotonic() - lifecycle.reconnected_at < heartbeat_interval:
            # Just reconnected: give running jobs' owners one heartbeat to renew.
            continue
        try:
            # Follow-ups whose first relay was lost (a crash right after completing).
            await outcomes.relay_follow_ups(min_age_ms=FOLLOW_UP_SWEEP_AGE_MS)
            await membership.say_alive()
            await reclaim()
            await membership.forget_departed()
        except REDIS_DOWN as exc:
            log.warning("reclaim_failed", error=str(exc))
            lifecycle.redis_lost()
        except redis.exceptions.RedisError:
            log.exception("reclaim_error")
