"""The platform in the test's own process: a burst worker and the gateway through an
ASGI transport. For logic tests; tests where a process must die, be signalled or lose
Redis start real processes (tests/conftest.py)."""

from __future__ import annotations

import asyncio
import contextvars
import uuid
from collections.abc import AsyncIterator

import httpx
from starlette.types import ASGIApp, Receive, Scope, Send

from consumers.worker import Worker
from gateway.app import create_app, served
from shared.functions import get_function
from shared.settings import Settings


async def run_burst(
    settings: Settings, *names: str, concurrency: int = 4, timeout: float = 60.0
) -> Worker:
    """Consume ``names`` in this process until their streams are empty and nothing runs."""
    specs = []
    for name in names:
        spec = get_function(name)
        assert spec is not None, f"no function {name!r}"
        specs.append(spec)
    worker = Worker(
        settings, specs, concurrency=concurrency, name=f"burst-{uuid.uuid4().hex[:6]}", burst=True
    )
    # In a context of its own, as in its own process: the contextvars it binds for its
    # log lines (consumer, job_id) stay out of the test's.
    run = asyncio.create_task(worker.run(), context=contextvars.Context())
    await asyncio.wait_for(run, timeout)
    assert not worker.crashed
    return worker


async def asgi_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the gateway app, called in this process (lifespan included)."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=_own_context(served(app)))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://gateway", timeout=10
        ) as client:
            yield client


def _own_context(app: ASGIApp) -> ASGIApp:
    """Each request in a context of its own, as a server's task per request has: the
    request's log fields (request_id, path) stay out of the test's."""

    async def call(scope: Scope, receive: Receive, send: Send) -> None:
        async def request() -> None:
            await app(scope, receive, send)

        await asyncio.create_task(request(), context=contextvars.Context())

    return call
