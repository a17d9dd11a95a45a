"""consumers.slots on its own: what "never more than --concurrency handlers" allows."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import pytest

from consumers.slots import AHEAD_BELOW_SECONDS, Slots


@dataclasses.dataclass(eq=False)
class Job:
    entry_id: bytes
    function: str = "echo"
    began: float = 0.0
    finishing: bool = False


async def start(slots: Slots[Job], entry_id: bytes) -> Job:
    """A job added and holding a handler slot, as consumers/running.py does it."""
    job = Job(entry_id)
    slots.add(job)
    await slots.acquire_handler()
    job.began = time.monotonic()
    return job


async def test_free_slots_count_busy_and_reserved_jobs() -> None:
    slots: Slots[Job] = Slots(3)
    assert slots.free() == 3
    with slots.reserving(2):
        assert slots.free() == 1
    assert slots.free() == 3
    await start(slots, b"1-0")
    assert slots.free() == 2


async def test_a_finishing_job_gives_its_slot_to_the_next_but_holds_memory() -> None:
    """Finishing jobs free their slot, but at most one per slot may be finishing."""
    slots: Slots[Job] = Slots(2)
    jobs = [await start(slots, f"{n}-0".encode()) for n in range(2)]
    assert slots.free() == 0
    for job in jobs:
        job.finishing = True
        slots.finished(job)
    assert slots.free() == 2
    more = [await start(slots, f"{n}-1".encode()) for n in range(2)]
    assert slots.free() == 0 and len(slots.running) == 4
    for job in more:
        job.finishing = True
        slots.finished(job)
    assert slots.free() == 0, "four finishing jobs: no room for a fifth result"
    slots.remove(jobs[0])
    assert slots.free() == 1


async def test_never_more_handlers_than_the_concurrency() -> None:
    """A job taken ahead (busy over the concurrency) waits for a handler slot."""
    slots: Slots[Job] = Slots(2)
    first = [await start(slots, f"{n}-0".encode()) for n in range(2)]
    ahead = Job(b"9-0")
    slots.add(ahead)
    assert not slots.handler_free
    waiting = asyncio.ensure_future(slots.acquire_handler())
    await asyncio.sleep(0)
    assert not waiting.done()
    slots.finished(first[0])
    await asyncio.wait_for(waiting, timeout=5)
    assert not slots.handler_free


async def test_a_job_that_never_began_releases_no_handler_slot() -> None:
    slots: Slots[Job] = Slots(1)
    job = Job(b"1-0")
    slots.add(job)  # given back before its handler began
    slots.finished(job)
    slots.remove(job)
    await asyncio.wait_for(slots.acquire_handler(), timeout=5)
    assert not slots.handler_free, "one slot: taken once, not twice"


async def test_waiting_for_a_free_slot_wakes_when_one_frees() -> None:
    slots: Slots[Job] = Slots(1)
    job = await start(slots, b"1-0")
    waiter = asyncio.ensure_future(slots.wait_freed())
    await asyncio.sleep(0)
    assert not waiter.done()
    job.finishing = True
    slots.finished(job)
    await asyncio.wait_for(waiter, timeout=5)


async def test_one_job_ahead_only_while_all_are_busy_with_short_handlers() -> None:
    slots: Slots[Job] = Slots(2)
    first = await start(slots, b"1-0")
    second = await start(slots, b"2-0")
    assert not slots.ahead_allowed(), "no handler of this function has ended here yet"
    for job in (first, second):  # two short runs of it
        job.finishing = True
        slots.finished(job)
        slots.remove(job)
    first = await start(slots, b"1-1")
    assert not slots.ahead_allowed(), "a free slot: nothing to take ahead"
    second = await start(slots, b"2-1")
    assert slots.ahead_allowed(), "all busy, handlers just began, function known short"
    with slots.reserving(1):
        assert not slots.ahead_allowed(), "a read is on its way"
    slots.add(Job(b"3-0"))  # the one taken ahead
    assert not slots.ahead_allowed(), "one ahead at most"
    for job in (first, second):
        job.began = time.monotonic() - AHEAD_BELOW_SECONDS - 1
    slots.running.pop(("echo", b"3-0"))  # back to two busy jobs, now long running
    slots.busy -= 1
    assert not slots.ahead_allowed(), "the running handlers are not about to end"


@pytest.mark.parametrize("seconds", [0.01, AHEAD_BELOW_SECONDS + 0.5])
async def test_a_function_is_short_by_its_last_handler_here(seconds: float) -> None:
    slots: Slots[Job] = Slots(1)
    job = await start(slots, b"1-0")
    job.began = time.monotonic() - seconds
    job.finishing = True
    slots.finished(job)
    assert slots.short("echo") is (seconds < AHEAD_BELOW_SECONDS)
    assert not slots.short("never-ran-here"), "unknown: not taken ahead"
