"""What "never more than --concurrency handlers" means, decided in one place.

A consumer's jobs pass through three counts:

- *reserved*: entries being read, claimed or started, not yet jobs;
- *busy*: jobs whose handler runs or will run (one per slot, plus one taken ahead);
- *running*: busy jobs and finishing ones (writing their outcome, handler done), at most
  twice the concurrency, since a finishing job holds its result in memory.

A handler runs only while it holds one of ``concurrency`` handler slots, so at most
``concurrency`` handlers run however the counts move. Free slots are what reads and
claims may fill: ``concurrency - busy`` (and room for finishing jobs) minus reserved.

A consumer whose slots are all busy may take one job ahead from a backlog of short jobs
(``ahead_allowed``): its handler then begins the moment a slot frees, not one round trip
later. A job taken ahead waits at most ``AHEAD_BELOW_SECONDS`` for a slot.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from typing import Generic, Protocol, TypeVar

# Jobs of a function whose last handler here ran under this long are short: only they
# are taken ahead, and only while a short handler began less than this long ago.
AHEAD_BELOW_SECONDS = 1.0


class Job(Protocol):
    """What the slots read of a running job."""

    @property
    def entry_id(self) -> bytes: ...
    @property
    def function(self) -> str: ...
    @property
    def began(self) -> float: ...
    @property
    def finishing(self) -> bool: ...


J = TypeVar("J", bound=Job)


class Slots(Generic[J]):
    def __init__(self, concurrency: int) -> None:
        self.concurrency = concurrency
        # Keyed by function and entry id: two functions' streams may give the same id.
        self.running: dict[tuple[str, bytes], J] = {}
        self.busy = 0
        self.reserved = 0
        self.freed = asyncio.Event()
        self._handlers = asyncio.Semaphore(concurrency)
        self._last_run: dict[str, float] = {}
        # Entries may be claimable that a recovery pass could not take for lack of free
        # slots: the next free slot looks at them before reading new entries.
        self.claim_first = False

    def free(self) -> int:
        """Entries that reads and claims may start now."""
        return min(self.concurrency - self.busy, 2 * self.concurrency - len(self.running)) - (
            self.reserved
        )

    def reserve(self, count: int) -> None:
        """Hold ``count`` slots while entries are read or started: no other read starts
        jobs in them."""
        self.reserved += count

    def unreserve(self, count: int) -> None:
        """Held slots are free again (or taken by their jobs): a read waiting for a free
        slot looks again."""
        self.reserved -= count
        self.freed.set()

    @contextlib.contextmanager
    def reserving(self, count: int) -> Iterator[None]:
        self.reserve(count)
        try:
            yield
        finally:
            self.unreserve(count)

    async def room_for(self, wanted: int, mine: int) -> int:
        """Slots a read may start ``wanted`` entries in, holding ``mine`` reserved; a claim
        in flight holds slots it may not fill, so it is waited for (a second at most)
        before the read gives entries back, which that claim would then take again."""
        deadline = time.monotonic() + 1.0
        while self.free() + mine < wanted and self.reserved > mine:
            self.freed.clear()
            try:
                await asyncio.wait_for(self.freed.wait(), max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                break
        return self.free() + mine

    async def wait_freed(self) -> None:
        self.freed.clear()
        await self.freed.wait()

    def add(self, job: J) -> None:
        """A job begins its attempt here: it is busy until it finishes."""
        self.running[job.function, job.entry_id] = job
        self.busy += 1

    def runs(self, function: str, entry_id: bytes) -> bool:
        return (function, entry_id) in self.running

    @property
    def handler_free(self) -> bool:
        return not self._handlers.locked()

    async def acquire_handler(self) -> None:
        await self._handlers.acquire()

    def finished(self, job: J) -> None:
        """The job's handler is done (or never began): its slot goes to the next job,
        while the job writes its outcome. Call once per job."""
        self.busy -= 1
        if job.began:  # it holds a handler slot
            self._handlers.release()
            self._last_run[job.function] = time.monotonic() - job.began
        self.freed.set()

    def remove(self, job: J) -> None:
        """The job has written its outcome (or given up): it holds nothing any more."""
        self.running.pop((job.function, job.entry_id), None)
        self.freed.set()

    def short(self, function: str) -> bool:
        """Whether the function's last handler here ran under AHEAD_BELOW_SECONDS."""
        return self._last_run.get(function, AHEAD_BELOW_SECONDS) < AHEAD_BELOW_SECONDS

    def ahead_allowed(self) -> bool:
        """Whether one job may be taken ahead: every slot is busy, nothing is reserved,
        there is room for one more running job and a short handler should end soon."""
        now = time.monotonic()
        return (
            self.busy == self.concurrency
            and not self.reserved
            and len(self.running) < 2 * self.concurrency
            and any(self._ends_soon(job, now) for job in self.running.values())
        )

    def _ends_soon(self, job: J, now: float) -> bool:
        if not job.began or job.finishing or now - job.began >= AHEAD_BELOW_SECONDS:
            return False
        return self.short(job.function)
