"""When a burst consumer (``--burst``: tests, one-off runs) is done: nothing left to run."""

from __future__ import annotations

from collections.abc import Iterable

from consumers.pausing import PausedStreams
from shared.keys import FunctionKeys
from shared.redis import Client


async def work_left(redis: Client, keys: Iterable[FunctionKeys], paused: PausedStreams) -> bool:
    """Whether any function of the worker (not just one intake's) has entries on its stream
    (a failed attempt's stays until it is retried) or follow-ups in its chain outbox not yet
    queued; a paused function's are left for after it is resumed."""
    pipe = redis.pipeline(transaction=False)
    for function in keys:
        if paused.readable([function.stream.encode()]):
            pipe.xlen(function.stream)
            pipe.xlen(function.chain)
    return any(await pipe.execute())
