"""Coalescing script calls: the outcomes written in one event-loop turn share a round trip."""

from __future__ import annotations

import asyncio
from typing import Any

from shared.redis import Client
from shared.scripts import ScriptCall, run_batched


class ScriptBatcher:
    """``ordered``: one batch in flight at a time, so calls reach Redis in the order they
    were made (calls made meanwhile wait, and go together in the next batch). Otherwise
    batches go out at once, each on a connection of its own, and may overtake."""

    def __init__(self, redis: Client, *, ordered: bool = False) -> None:
        self._redis = redis
        self._ordered = ordered
        self._queue: list[tuple[ScriptCall, asyncio.Future[Any]]] = []
        self._tasks: set[asyncio.Task[None]] = set()

    async def call(self, call: ScriptCall) -> Any:
        """The script's reply; raises what the call raised (connection errors included)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        if not self._queue and not (self._ordered and self._tasks):
            loop.call_soon(self._flush_soon)
        self._queue.append((call, future))
        return await future

    def _flush_soon(self) -> None:
        batch, self._queue = self._queue, []
        task = asyncio.ensure_future(self._flush(batch))
        self._tasks.add(task)
        task.add_done_callback(self._flushed)

    def _flushed(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if self._ordered and self._queue:
            self._flush_soon()  # what was called while that batch was in flight

    async def _flush(self, batch: list[tuple[ScriptCall, asyncio.Future[Any]]]) -> None:
        try:
            replies = await run_batched(self._redis, [call for call, _ in batch])
        except Exception as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), reply in zip(batch, replies, strict=True):
            if future.done():
                continue
            if isinstance(reply, Exception):
                future.set_exception(reply)
            else:
                future.set_result(reply)
