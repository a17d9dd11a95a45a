"""Pure-ASGI request logging: one canonical line per request, with its context bound.

Pure ASGI rather than BaseHTTPMiddleware, which breaks contextvar propagation.
"""

from __future__ import annotations

import secrets
import time

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
            request_id=secrets.token_hex(8), method=scope["method"], path=scope["path"]
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
