"""Pure-ASGI request logging: one canonical line per request, with its context bound.

Pure ASGI rather than BaseHTTPMiddleware, which breaks contextvar propagation.
"""

from __future__ import annotations

import time

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.keys import random_hex

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


# Scope key of a callable telling whether the request body has been read to its end.
BODY_DONE = "sluice.body_done"


class CloseOnUnreadBody:
    """Answer ``Connection: close`` when the response starts before the request body ended.

    An early answer (413, 415, 404 for a POST) otherwise leaves the server reading and
    discarding the rest of the body to keep the connection alive, without end for a
    chunked stream. Closing refuses the rest.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        body_done = b"transfer-encoding" not in headers and headers.get(
            b"content-length", b"0"
        ).strip() in (b"0", b"")

        async def receive_tracking() -> Message:
            nonlocal body_done
            message = await receive()
            if message["type"] == "http.disconnect" or not message.get("more_body", False):
                body_done = True
            return message

        async def send_closing(message: Message) -> None:
            if message["type"] == "http.response.start" and not body_done:
                message = {
                    **message,
                    "headers": [*message.get("headers", []), (b"connection", b"close")],
                }
            await send(message)

        # gateway.body.drain asks this, so it never waits for a body that has ended.
        scope[BODY_DONE] = lambda: body_done
        await self.app(scope, receive_tracking, send_closing)
