"""The platform in the test's own process: a burst worker and the gateway through an
ASGI transport. For logic tests; tests where a process must die, be signalled or lose
Redis start real processes (tests/conftest.py)."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import httpx
from starlette.types import ASGIApp, Receive, Scope, Send

from consumers.worker import Worker
from gateway.app import create_app, served
from shared.functions import get_function, load_functions
from shared.settings import Settings


def _worker(settings: Settings, names: tuple[str, ...], concurrency: int, burst: bool) -> Worker:
    load_functions(settings.function_modules)  # as `python -m consumers` does
    specs = []
    for name in names:
        spec = get_function(name)
        assert spec is not None, f"no function {name!r}"
        specs.append(spec)
    kind = "burst" if burst else "serving"
    name = f"{kind}-{uuid.uuid4().hex[:6]}"
    return Worker(settings, specs, concurrency=concurrency, name=name, burst=burst)


def _start(worker: Worker) -> asyncio.Task[None]:
    # In a context of its own, as in its own process: the contextvars it binds for its
    # log lines (consumer, job_id) stay out of the test's.
    return asyncio.create_task(worker.run(), context=contextvars.Context())


async def run_burst(
    settings: Settings, *names: str, concurrency: int = 4, timeout: float = 60.0
) -> Worker:
    """Consume ``names`` in this process until their streams are empty and nothing runs."""
    worker = _worker(settings, names, concurrency, burst=True)
    await asyncio.wait_for(_start(worker), timeout)
    assert not worker.crashed
    return worker


@contextlib.asynccontextmanager
async def serving(
    settings: Settings, *names: str, concurrency: int = 4, timeout: float = 30.0
) -> AsyncIterator[Worker]:
    """A worker consuming ``names`` in this process for the block, stopped as SIGTERM
    stops one. For tests that act while it runs (cancel a running job, change Redis
    between jobs) or wait on what a burst does not (a follow-up's relay, the outbox
    sweep)."""
    worker = _worker(settings, names, concurrency, burst=False)
    run = _start(worker)
    try:
        yield worker
        assert not run.done(), "the worker stopped by itself"
    finally:
        worker.stop()
        await asyncio.wait_for(run, timeout)
    assert not worker.crashed


@contextlib.asynccontextmanager
async def asgi_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the gateway app, called in this process (lifespan included)."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=_own_context(served(app)))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://gateway", timeout=10
        ) as client:
            yield client


def server_errors(logs: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The log lines (captured, or parsed JSON) that tell of a 500 or an unhandled error,
    including those no client saw (it had hung up). A 503 is an answer (Redis is away)."""
    return [
        line
        for line in logs
        if line["event"] == "unhandled_error"
        or (line["event"] == "request" and line.get("status") == 500)
    ]


def _own_context(app: ASGIApp) -> ASGIApp:
    """Each request in a context of its own, as a server's task per request has: the
    request's log fields (request_id, path) stay out of the test's."""

    async def call(scope: Scope, receive: Receive, send: Send) -> None:
        async def request() -> None:
            await app(scope, receive, send)

        await asyncio.create_task(request(), context=contextvars.Context())

    return call
