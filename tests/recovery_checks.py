"""What the crash and poison-job tests look at in Redis and in captured logs: a function's
stream and dead letters, log lines by their fields, and a wait that lets a worker in the
test's process run.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import redis

from shared.keys import GROUP, FunctionKeys

# The visibility timeout of the consumers that take over: alone once the owner is dead
# or frozen, they need not wait the tests' 2 s to reclaim its job; still twice the lease
# thread's beat (0.5 s), so their own running job stays theirs.
TAKEOVER_VISIBILITY = 1.0


def assert_drained(sync_redis: redis.Redis, keys: FunctionKeys) -> None:
    """Nothing left of the function's jobs: no entry in the stream, none pending."""
    assert sync_redis.xlen(keys.stream) == 0
    assert sync_redis.xpending(keys.stream, GROUP)["pending"] == 0


def dead_letters(sync_redis: redis.Redis, keys: FunctionKeys) -> list[dict[bytes, bytes]]:
    """The dead-letter stream's entries, oldest first."""
    entries: list[tuple[bytes, dict[bytes, bytes]]] = sync_redis.xrange(keys.dead)  # type: ignore[assignment]
    return [fields for _, fields in entries]


async def until(ready: Callable[[], object], what: Callable[[], str], timeout: float = 20) -> None:
    """Wait for ``ready()`` without blocking the loop (a worker may run in it)."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert time.monotonic() < deadline, what()
        await asyncio.sleep(0.02)


def logged(logs: Sequence[Mapping[str, Any]], event: str, **fields: object) -> bool:
    """Whether a captured line of ``event`` has all of ``fields``."""
    return any(
        line["event"] == event and all(line.get(k) == v for k, v in fields.items()) for line in logs
    )
