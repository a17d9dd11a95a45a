"""structlog set-up: JSON lines in production, readable lines in a terminal."""

from __future__ import annotations

import logging
import sys
from typing import Any

import msgspec
import structlog

from shared.settings import Settings

_json = msgspec.json.Encoder()


def _encode_json(event: Any, **_: Any) -> bytes:
    try:
        return _json.encode(event)
    except (TypeError, msgspec.EncodeError):
        return _json.encode({key: str(value) for key, value in event.items()})


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
        logger_factory = structlog.BytesLoggerFactory(file=sys.stderr.buffer)
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
        logger_factory = structlog.PrintLoggerFactory(file=sys.stderr)
    level = logging.getLevelNamesMapping().get(settings.log_level.upper(), logging.INFO)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=logger_factory,
        cache_logger_on_first_use=True,
    )
