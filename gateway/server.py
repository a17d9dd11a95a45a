"""uvicorn's httptools protocol with the limits a public HTTP server needs.

``uvicorn gateway.app:app --http gateway.server:HttpProtocol`` (the Procfile's web line).
uvicorn bounds none of these itself: httptools keeps a header of any size in memory, no
timer runs while a request head arrives (its keep-alive timer starts after a response),
and ``--limit-concurrency`` counts idle connections, so idle ones would turn /readyz
into 503s, and it closes none of them.

- Request head (request line and headers) over ``MAX_HEADER_BYTES``, or more than
  ``MAX_HEADERS`` fields: ``431``. Bytes past the limit never reach the parser; a
  pipelined head gets its 431 after the responses to the requests before it.
- Head not complete ``HEADER_TIMEOUT`` seconds after the connection opened (or after
  the first byte after a request, even a bare CRLF): ``408``; a connection that sent
  nothing (or only CRLFs) is closed without an answer.
- More than ``MAX_CONNECTIONS`` open: the connection that has waited longest for a
  request is closed to make room; if every connection has a request in progress, the
  new one gets ``503`` and is closed.

The body timeout is in ``gateway.middleware.CloseOnUnreadBody``, where a 408 can still
go through the app's own error answers.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import http
import resource
import time
from typing import Any, ClassVar

import httptools
import structlog
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from shared import error_types
from shared.error_types import HttpErrorType
from shared.errors import SluiceError, error_body, status_of
from shared.jobs import json_encoder
from shared.settings import Settings

log = structlog.get_logger("gateway")

# Seconds a refused connection is kept half-closed, dropping what the client still
# sends: a socket closed with unread input is reset, and the reset can destroy the
# answer before the client reads it.
LINGER_SECONDS = 2.0
# File descriptors kept for everything but client connections (Redis, logs, listener).
RESERVED_FDS = 256
# Seconds between two warnings that the connection cap is being hit.
CAP_WARNING_INTERVAL = 10.0


@dataclasses.dataclass(frozen=True, slots=True)
class Limits:
    max_header_bytes: int
    max_headers: int
    header_timeout: float
    max_connections: int


@functools.cache
def limits() -> Limits:
    """The limits from the environment, read once; the connection cap fits the file limit."""
    settings = Settings.from_env()
    cap = settings.max_connections
    wanted = cap + RESERVED_FDS
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        # The soft limit may be raised up to the hard one without privileges.
        raised = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
            soft = raised
        except (ValueError, OSError):
            pass
        if soft < wanted:
            cap = max(1, soft - RESERVED_FDS)
            log.warning(
                "max_connections_lowered",
                max_connections=cap,
                configured=settings.max_connections,
                file_limit=soft,
            )
    return Limits(
        max_header_bytes=settings.max_header_bytes,
        max_headers=settings.max_headers,
        header_timeout=settings.header_timeout,
        max_connections=cap,
    )


class _TooManyHeaders(SluiceError):
    """Raised from the parser's header callback, so that parsing stops at once."""


class HttpProtocol(HttpToolsProtocol):
    # Connections with no request in progress, the longest-waiting first: the ones closed
    # to make room when the cap is reached. One uvicorn server per process shares it.
    _waiting: ClassVar[dict[HttpProtocol, None]] = {}
    _cap_hits: ClassVar[int] = 0
    _cap_warned_at: ClassVar[float] = -CAP_WARNING_INTERVAL

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.limits = limits()
        # True from the end of one request's body to the end of the next one's headers:
        # bytes arriving then are head bytes, counted against the limit.
        self.in_head = True
        self.head_bytes = 0
        self.header_count = 0
        # Whether any byte of the current request head has arrived, and when the first did.
        self.head_started = False
        self.head_began = 0.0
        self.head_timer: asyncio.TimerHandle | None = None
        self.linger_timer: asyncio.TimerHandle | None = None
        # Set once an answer of our own went out: the rest of the input is dropped.
        self.lingering = False
        # A refusal held back until the responses to the requests before it are sent.
        self.refusal: tuple[HttpErrorType, str] | None = None

    # Connection life

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections and not self._make_room():
            self._refuse_at_once(error_types.HTTP_UNAVAILABLE, "too many open connections", b"1")
            return
        self._set_waiting()
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._waiting.pop(self, None)
        self._cancel_head_timer()
        if self.linger_timer is not None:
            self.linger_timer.cancel()
            self.linger_timer = None
        super().connection_lost(exc)

    def _make_room(self) -> bool:
        """Close the connection that has waited longest for a request; False if none is."""
        cls = type(self)
        cls._cap_hits += 1
        now = time.monotonic()
        if now - cls._cap_warned_at >= CAP_WARNING_INTERVAL:
            log.warning(
                "connection_cap_reached",
                max_connections=self.limits.max_connections,
                times=cls._cap_hits,
            )
            cls._cap_warned_at = now
            cls._cap_hits = 0
        while self._waiting:
            victim = next(iter(self._waiting))
            del self._waiting[victim]
            if not victim.transport.is_closing():
                victim._cancel_head_timer()
                victim.transport.close()
                return True
        return False

    def _set_waiting(self) -> None:
        # Re-inserted so that the dict stays ordered by when each began waiting.
        self._waiting.pop(self, None)
        self._waiting[self] = None

    def shutdown(self) -> None:
        if self.lingering:
            self.transport.close()
            return
        super().shutdown()

    # Reading

    def data_received(self, data: bytes) -> None:
        if self.lingering or self.refusal is not None:
            return
        self._unset_keepalive_if_required()
        while data:
            chunk = data
            if self.in_head:
                room = self.limits.max_header_bytes - self.head_bytes
                if room <= 0:
                    self._refuse(
                        error_types.HTTP_HEADER_TOO_LARGE,
                        f"the request line and headers are over {self.limits.max_header_bytes}"
                        " bytes",
                    )
                    return
                if len(data) > room:
                    chunk, data = data[:room], data[room:]
                else:
                    data = b""
                self.head_bytes += len(chunk)
            else:
                data = b""
            if not self._feed(chunk):
                return
        if self.in_head and self.head_timer is None:
            # Armed only for a head that did not arrive whole in one read, the rare case, or
            # for input while no request runs: uvicorn's keep-alive timer was just stopped,
            # and llhttp reports no callback for the CRLFs it skips between requests.
            if self.head_started:
                left = self.head_began + self.limits.header_timeout - self.loop.time()
                self._arm_head_timer(left)
            elif self.cycle is None or self.cycle.response_complete:
                self._arm_head_timer()

    def _feed(self, data: bytes) -> bool:
        """Parse ``data`` as uvicorn does; False once the connection is answered or gone."""
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            if isinstance(exc.__context__, _TooManyHeaders):
                self._refuse(
                    error_types.HTTP_HEADER_TOO_LARGE,
                    f"a request has at most {self.limits.max_headers} header fields",
                )
            else:
                self._bad_request()
            return False
        except httptools.HttpParserError:
            self._bad_request()
            return False
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return False
        return True

    def _bad_request(self) -> None:
        msg = "Invalid HTTP request received."
        self.logger.warning(msg)
        self.send_400_response(msg)

    # Parser callbacks

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.header_count = 0
        self.head_started = True
        self.head_began = self.loop.time()

    def on_header(self, name: bytes, value: bytes) -> None:
        self.header_count += 1
        if self.header_count > self.limits.max_headers:
            raise _TooManyHeaders
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self.in_head = False
        self.head_bytes = 0
        self.head_started = False
        self._cancel_head_timer()
        self._waiting.pop(self, None)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self.in_head = True
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # ``self.cycle`` is the last request parsed: once it is answered, all are.
        if self.transport.is_closing() or not self.cycle.response_complete:
            return
        if self.refusal is not None:
            self._unset_keepalive_if_required()
            self._refuse(*self.refusal)
        else:
            self._set_waiting()

    # Header timeout

    def _arm_head_timer(self, delay: float | None = None) -> None:
        self._cancel_head_timer()
        if delay is None:
            delay = self.limits.header_timeout
        self.head_timer = self.loop.call_later(delay, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None

    def _head_timed_out(self) -> None:
        self.head_timer = None
        if self.lingering or self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            # A pipelined head waits behind a response still being sent: its time starts anew.
            self._arm_head_timer()
        elif self.head_started:
            self._refuse(
                error_types.HTTP_REQUEST_TIMEOUT,
                f"the request headers did not arrive within {self.limits.header_timeout:g} s",
            )
        else:
            self.transport.close()

    # Answers of our own

    def _answer(self, error: HttpErrorType, message: str, retry_after: bytes | None) -> bytes:
        body = json_encoder.encode(error_body(error, message))
        status = status_of(error)
        phrase = http.HTTPStatus(status).phrase.encode()
        lines = [b"HTTP/1.1 %d %s\r\n" % (status, phrase)]
        lines += [b"%s: %s\r\n" % header for header in self.server_state.default_headers]
        lines.append(b"content-type: application/json\r\n")
        lines.append(b"content-length: %d\r\n" % len(body))
        if retry_after is not None:
            lines.append(b"retry-after: %s\r\n" % retry_after)
        lines.append(b"connection: close\r\n\r\n")
        lines.append(body)
        return b"".join(lines)

    def _refuse(self, error: HttpErrorType, message: str) -> None:
        """Answer ``error``, then drop the input until the client closes or time is up."""
        self._cancel_head_timer()
        self._waiting.pop(self, None)
        if self.cycle is not None and not self.cycle.response_complete:
            # Requests before this head are still being answered (pipelining): ours goes
            # after their responses, from on_response_complete; the rest is not read.
            self.refusal = (error, message)
            self.flow.pause_reading()
            return
        log.info("request_refused", status=error.status, reason=error.type)
        self.lingering = True
        self.transport.write(self._answer(error, message, None))
        if not self.transport.can_write_eof():
            self.transport.close()
            return
        self.transport.write_eof()
        self.flow.resume_reading()
        self.linger_timer = self.loop.call_later(LINGER_SECONDS, self.transport.close)

    def _refuse_at_once(
        self, error: HttpErrorType, message: str, retry_after: bytes | None
    ) -> None:
        """Answer and close without lingering: a refused connection must free its
        descriptor at once, or a flood of them would use up the file limit."""
        self.lingering = True
        self.transport.write(self._answer(error, message, retry_after))
        self.transport.close()
