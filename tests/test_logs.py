"""Log lines written once per event-loop turn, and the cached RFC 3339 timestamp."""

from __future__ import annotations

import asyncio
import atexit
import io
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.jobs import now_iso
from shared.logs import TurnBufferedLogger


class RecordingFile(io.BytesIO):
    """A binary file that keeps each write call's bytes."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []

    def write(self, data: Any, /) -> int:
        self.writes.append(bytes(data))
        return super().write(data)


@pytest.fixture
def file() -> RecordingFile:
    return RecordingFile()


@pytest.fixture
def logger(file: RecordingFile) -> Iterator[TurnBufferedLogger]:
    logger = TurnBufferedLogger(file)
    yield logger
    atexit.unregister(logger.flush)


def test_lines_of_one_loop_turn_are_one_write(
    file: RecordingFile, logger: TurnBufferedLogger
) -> None:
    async def main() -> None:
        logger.msg(b'{"n":1}')
        logger.info(b'{"n":2}')
        logger.error(b'{"n":3}')
        assert file.writes == []  # not before the turn ends
        await asyncio.sleep(0)
        assert file.writes == [b'{"n":1}\n{"n":2}\n{"n":3}\n']
        logger.warning(b'{"n":4}')
        logger.msg(b'{"n":5}')
        await asyncio.sleep(0)

    asyncio.run(main())
    assert file.writes == [b'{"n":1}\n{"n":2}\n{"n":3}\n', b'{"n":4}\n{"n":5}\n']
    assert file.getvalue() == b"".join(b'{"n":%d}\n' % n for n in range(1, 6))


def test_lines_from_concurrent_tasks_in_one_turn_share_a_write(
    file: RecordingFile, logger: TurnBufferedLogger
) -> None:
    async def task(n: int) -> None:
        logger.msg(b"task %d" % n)

    async def main() -> None:
        await asyncio.gather(*(task(n) for n in range(10)))
        await asyncio.sleep(0)

    asyncio.run(main())
    assert file.writes == [b"".join(b"task %d\n" % n for n in range(10))]


def test_lines_outside_a_loop_are_written_at_once(
    file: RecordingFile, logger: TurnBufferedLogger
) -> None:
    logger.msg(b"one")
    assert file.writes == [b"one\n"]
    logger.info(b"two")
    assert file.writes == [b"one\n", b"two\n"]


def test_a_logger_used_in_two_event_loops_loses_no_line(
    file: RecordingFile, logger: TurnBufferedLogger
) -> None:
    async def main(first: int) -> None:
        logger.msg(b"line %d" % first)
        await asyncio.sleep(0)
        logger.msg(b"line %d" % (first + 1))  # the loop ends right after this

    asyncio.run(main(1))
    asyncio.run(main(3))
    logger.msg(b"line 5")
    assert file.getvalue() == b"".join(b"line %d\n" % n for n in range(1, 6))


def run_one_callback(callback: Callable[[], None]) -> None:
    """Run ``callback`` in a fresh loop that stops and closes before its next turn."""
    loop = asyncio.new_event_loop()

    def then_stop() -> None:
        callback()
        loop.stop()

    loop.call_soon(then_stop)
    loop.run_forever()
    loop.close()


def test_a_loop_closed_before_its_flush_ran_loses_no_line(
    file: RecordingFile, logger: TurnBufferedLogger
) -> None:
    """The flush scheduled on the first loop never runs: the next line carries it out."""
    run_one_callback(lambda: logger.msg(b"stranded"))
    assert file.writes == []

    async def main() -> None:
        logger.msg(b"next loop")
        await asyncio.sleep(0)

    asyncio.run(main())
    assert file.writes == [b"stranded\nnext loop\n"]


def test_flush_writes_what_is_pending(file: RecordingFile, logger: TurnBufferedLogger) -> None:
    """What atexit calls: a line logged in a loop that ended before flushing is written."""
    run_one_callback(lambda: logger.msg(b"last words"))
    logger.flush()
    assert file.writes == [b"last words\n"]
    logger.flush()
    assert file.writes == [b"last words\n"]  # nothing pending: no empty write


# now_iso

ISO_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def test_now_iso_format_and_agreement_with_the_clock() -> None:
    """Sampled across some 50 ms, so a cached string that outlives its millisecond shows."""
    for _ in range(50):
        time.sleep(0.0007)
        before = datetime.now(UTC)
        text = now_iso()
        after = datetime.now(UTC)
        assert ISO_MS.fullmatch(text), text
        stamp = datetime.fromisoformat(text)
        assert stamp.tzinfo is not None and stamp.utcoffset() == timedelta(0)
        floor = before.replace(microsecond=before.microsecond // 1000 * 1000)
        assert floor - timedelta(milliseconds=2) <= stamp <= after + timedelta(milliseconds=2)


def test_now_iso_never_goes_back() -> None:
    stamps = [now_iso() for _ in range(1000)]
    assert all(ISO_MS.fullmatch(stamp) for stamp in stamps)
    parsed = [datetime.fromisoformat(stamp) for stamp in stamps]
    assert parsed == sorted(parsed)
