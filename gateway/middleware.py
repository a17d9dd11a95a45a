"""Pure-ASGI request logging: one canonical line per request, with its context bound.

Pure ASGI rather than BaseHTTPMiddleware, which breaks contextvar propagation.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import RequestTimeoutError
from shared.keys import random_hex
from shared.settings import Settings

log = structlog.get_logger("gateway")


class RequestLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(
            request_id=random_hex(8), method=scope["method"], path=scope["path"]
        )

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            ms = round((time.perf_counter() - started) * 1000, 2)
            if status >= 500:
                log.error("request", status=status, ms=ms)
            elif status >= 400:
                log.info("request", status=status, ms=ms)
            else:
                log.debug("request", status=status, ms=ms)


# A body up to this size that the app did not read is read before its early answer.
SMALL_BODY_BYTES = 65_536
SMALL_BODY_WAIT_SECONDS = 2.0
# Scope key of a callable telling whether the request body has been read to its end.
BODY_DONE = "sluice.body_done"


@functools.cache
def _body_timeout_from_env() -> float:
    return Settings.from_env().body_timeout


class CloseOnUnreadBody:
    """Answer ``Connection: close`` when the response starts before the request body ended.

    An early answer (413, 415, 404 for a POST) otherwise leaves the server reading and
    discarding the rest of the body to keep the connection alive, without end for a
    chunked stream. Closing refuses the rest. A small body (SMALL_BODY_BYTES, by its
    Content-Length) is read to its end instead, and the connection kept.

    A body that stops arriving is refused here too: a wait for its next part longer than
    ``body_timeout`` seconds (``BODY_TIMEOUT`` by default) raises ``RequestTimeoutError``,
    which the app answers as a 408 like any of its errors (and closes, the body being
    unread). uvicorn itself waits for a body without end.
    """

    def __init__(self, app: ASGIApp, body_timeout: float | None = None) -> None:
        self.app = app
        self.body_timeout = body_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        body_done = b"transfer-encoding" not in headers and headers.get(
            b"content-length", b"0"
        ).strip() in (b"0", b"")

        timeout = self.body_timeout or _body_timeout_from_env()
        length = headers.get(b"content-length", b"").strip()
        small = b"transfer-encoding" not in headers and length.isdigit()
        small = small and int(length) <= SMALL_BODY_BYTES

        async def receive_tracking() -> Message:
            nonlocal body_done
            if body_done:
                # Only http.disconnect is left to come, whenever the client leaves.
                return await receive()
            try:
                async with asyncio.timeout(timeout):
                    message = await receive()
            except TimeoutError:
                raise RequestTimeoutError(
                    f"no part of the request body arrived for {timeout:g} s", timeout=timeout
                ) from None
            if message["type"] == "http.disconnect" or not message.get("more_body", False):
                body_done = True
            return message

        async def send_closing(message: Message) -> None:
            start = message["type"] == "http.response.start"
            if start and not body_done and small and message["status"] != 408:
                # Read a small body to its end first: a connection closed with request
                # bytes still arriving is reset, and the reset can destroy this answer
                # before the client reads it. Then the connection may stay open too. A
                # client that is sending it sends the rest at once: the wait is short.
                with contextlib.suppress(RequestTimeoutError, TimeoutError):
                    async with asyncio.timeout(SMALL_BODY_WAIT_SECONDS):
                        while not body_done:
                            await receive_tracking()
            if message["type"] == "http.response.start" and not body_done:
                message = {
                    **message,
                    "headers": [*message.get("headers", []), (b"connection", b"close")],
                }
            await send(message)

        # gateway.body.drain asks this, so it never waits for a body that has ended.
        scope[BODY_DONE] = lambda: body_done
        await self.app(scope, receive_tracking, send_closing)
