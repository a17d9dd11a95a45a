"""Which of a consumer's functions are paused: learnt at each look of the timers (promote.lua
says), read by the intakes, which read no paused stream. An entry read just before a pause
is not started either: start.lua hands it back while the function is paused."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable


class PausedStreams:
    def __init__(self) -> None:
        self._paused: set[bytes] = set()
        self._changed = asyncio.Event()
        # Called at a resume: entries held back while paused are pending, so claimed (by
        # the recovery loop) rather than read; they need not wait for its next turn.
        self.on_resume: Callable[[], None] = lambda: None

    def set(self, stream: bytes, paused: bool) -> None:
        if paused == (stream in self._paused):
            return
        if paused:
            self._paused.add(stream)
        else:
            self._paused.discard(stream)
            self.on_resume()
        self._changed.set()
        self._changed = asyncio.Event()

    def readable(self, streams: Iterable[bytes]) -> list[bytes]:
        """``streams`` less the paused ones, in their order."""
        return [stream for stream in streams if stream not in self._paused]

    async def changed(self, timeout: float) -> None:
        """Wait for the next change (a pause or a resume), ``timeout`` seconds at most."""
        try:
            await asyncio.wait_for(self._changed.wait(), timeout)
        except TimeoutError:
            pass
