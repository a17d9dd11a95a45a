"""Cross-origin requests from browsers: refused (no CORS headers) unless CORS_ORIGINS
names the page's origin. Starlette's CORSMiddleware, built from the settings the
lifespan resolved (they are not known when the app is built)."""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

# Headers a page's script may send and read, besides the CORS-safelisted ones.
ALLOW_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key", "Last-Event-ID"]
EXPOSE_HEADERS = ["Location", "Retry-After", "Idempotent-Replayed"]


class Cors:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._cors: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        origins: tuple[str, ...] = getattr(scope["app"].state, "cors_origins", ())
        if scope["type"] != "http" or not origins:
            await self.app(scope, receive, send)
            return
        if self._cors is None:
            self._cors = CORSMiddleware(
                self.app,
                allow_origins=list(origins),
                allow_methods=["GET", "POST", "DELETE"],
                allow_headers=ALLOW_HEADERS,
                expose_headers=EXPOSE_HEADERS,
                max_age=600,
            )
        await self._cors(scope, receive, send)
