"""structlog set-up: JSON lines in production, readable lines in a terminal."""

from __future__ import annotations

import asyncio
import atexit
import logging
import sys
import threading
from collections.abc import MutableMapping
from typing import Any, BinaryIO

import msgspec
import structlog

from shared.jobs import now_iso
from shared.settings import Settings

_json = msgspec.json.Encoder()


def _encode_json(event: Any, **_: Any) -> bytes:
    try:
        return _json.encode(event)
    except (TypeError, msgspec.EncodeError):
        return _json.encode({key: str(value) for key, value in event.items()})


def _timestamp(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    event["timestamp"] = now_iso()
    return event


class TurnBufferedLogger:
    """Writes the JSON lines logged in one event-loop turn with one write.

    A consumer logs a line per job; a write per line cost a syscall per job. Outside an
    event loop (or from another thread) a line is written at once.
    """

    def __init__(self, file: BinaryIO) -> None:
        self._file = file
        self._lock = threading.Lock()
        self._pending: list[bytes] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        atexit.register(self.flush)

    def msg(self, message: bytes) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        with self._lock:
            self._pending.append(message + b"\n")
            if loop is not None and loop is self._loop:
                return  # a flush is scheduled on this loop already
            self._loop = loop
        if loop is None:
            self.flush()
        else:
            loop.call_soon(self.flush)

    def flush(self) -> None:
        with self._lock:
            lines, self._pending, self._loop = self._pending, [], None
            if lines:
                self._file.write(b"".join(lines))
                self._file.flush()

    log = debug = info = warn = warning = err = error = critical = exception = fatal = msg


def configure_logging(settings: Settings) -> None:
    """Configure structlog once per process."""
    as_json = settings.log_format == "json" or (
        settings.log_format == "auto" and not sys.stderr.isatty()
    )
    renderer: structlog.typing.Processor
    logger_factory: structlog.typing.WrappedLogger
    if as_json:
        # msgspec renders straight to bytes: a consumer logs one line per job.
        renderer = structlog.processors.JSONRenderer(serializer=_encode_json)
        json_logger = TurnBufferedLogger(sys.stderr.buffer)
        logger_factory = lambda *_: json_logger  # noqa: E731
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
        logger_factory = structlog.PrintLoggerFactory(file=sys.stderr)
    level = logging.getLevelNamesMapping().get(settings.log_level.upper(), logging.INFO)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            _timestamp,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=logger_factory,
        cache_logger_on_first_use=True,
    )
