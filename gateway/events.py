"""Status without polling: a job's changes as Server-Sent Events, and ``?wait=N``.

Every script that changes a job's status or progress publishes on the job hash's name
(prelude.lua's ``changed``). A gateway process keeps one Redis subscription for all its
watchers: a channel is subscribed while someone watches that job, and each message wakes
them to read the status again (changes between two reads come as one event).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import hashlib
import math
import time
from collections.abc import AsyncIterator
from typing import Any

import structlog
from redis.asyncio.client import PubSub
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from gateway.auth import authorize
from gateway.responses import sluice_of
from shared.api_keys import READ
from shared.errors import InvalidInputError, JobNotFoundError, UnavailableError
from shared.jobs import FINAL_STATUSES, JobStatus, json_encoder
from shared.redis import OUTAGE, Client

log = structlog.get_logger("gateway")

# Seconds between status reads when no message came: a message lost with a dropped
# subscription connection costs at most this delay.
RECHECK_SECONDS = 5.0
# The longest ?wait=N.
MAX_WAIT_SECONDS = 30


def event_id(status: JobStatus) -> str:
    """The same id for the same state: a stream resumed with it does not repeat it."""
    state = f"{status.status}|{status.progress}|{status.message}|{status.attempts}"
    return hashlib.sha256(state.encode()).hexdigest()[:16]


def sse_event(status: JobStatus) -> bytes:
    return b"id: %s\nevent: status\ndata: %s\n\n" % (
        event_id(status).encode(),
        json_encoder.encode(status),
    )


def is_final(status: JobStatus) -> bool:
    return status.status in FINAL_STATUSES


class Watchers:
    """One subscription per process; ``asyncio.Event``s per watched channel.

    Who watches what is kept without awaiting (a client hanging up cancels its stream at
    any await); subscribing and unsubscribing follow it in the listener's task, or in a
    task of their own, never in a request's."""

    def __init__(self, redis: Client) -> None:
        self._redis = redis
        self._pubsub: PubSub | None = None
        self._waiting: dict[str, set[asyncio.Event]] = {}
        self._subscribed: set[str] = set()
        self._listener: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._lock = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def watching(self, channel: str) -> AsyncIterator[asyncio.Event]:
        """An event set each time the job behind ``channel`` changes (clear it to wait
        for the next change)."""
        woken = asyncio.Event()
        self._waiting.setdefault(channel, set()).add(woken)
        try:
            if channel not in self._subscribed:
                await self._reconcile()
            if self._listener is None or self._listener.done():
                # A context of its own: the request that started it is not its log's.
                self._listener = asyncio.create_task(self._listen(), context=contextvars.Context())
            yield woken
        finally:
            watchers = self._waiting.get(channel, set())
            watchers.discard(woken)
            if not watchers:
                self._waiting.pop(channel, None)
                task = asyncio.create_task(self._reconcile(), context=contextvars.Context())
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _reconcile(self) -> None:
        """Subscribed to the channels watched, and to no other."""
        async with self._lock:
            if self._pubsub is None:
                self._pubsub = self._redis.pubsub()
            try:
                if added := set(self._waiting) - self._subscribed:
                    await self._pubsub.subscribe(*added)
                    self._subscribed |= added
                if dropped := self._subscribed - set(self._waiting):
                    await self._pubsub.unsubscribe(*dropped)
                    self._subscribed -= dropped
            except OUTAGE as exc:  # watchers recheck on their timer; the listener retries
                log.warning("watch_subscribe_failed", error=str(exc))

    async def _listen(self) -> None:
        while True:
            try:
                if self._subscribed != set(self._waiting):
                    await self._reconcile()  # what failed before, or left meanwhile
                if self._pubsub is None or not self._subscribed:
                    await asyncio.sleep(0.5)
                    continue
                message: Any = await self._pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=1.0
                )
            except OUTAGE as exc:
                log.warning("watch_connection_lost", error=str(exc))
                await asyncio.sleep(1.0)
                continue
            except Exception:  # a bug here must not leave every watcher on its timer
                log.exception("watch_listener_error")
                await asyncio.sleep(1.0)
                continue
            if message and message.get("type") == "message":
                channel = message["channel"]
                name = channel.decode() if isinstance(channel, bytes) else str(channel)
                for woken in self._waiting.get(name, ()):
                    woken.set()

    async def close(self) -> None:
        for task in [self._listener, *self._tasks]:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._pubsub is not None:
            with contextlib.suppress(*OUTAGE):
                await self._pubsub.aclose()


def _watchers(request: Request) -> Watchers:
    watchers: Watchers = request.app.state.watchers
    return watchers


def wait_seconds(request: Request) -> float | None:
    """``?wait=N`` (0 < N <= MAX_WAIT_SECONDS), or None without it."""
    raw = request.query_params.get("wait")
    if raw is None:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not 0 < seconds <= MAX_WAIT_SECONDS:
        raise InvalidInputError(
            f"wait must be a number of seconds above 0 and at most {MAX_WAIT_SECONDS}, got {raw!r}",
            field="wait",
        )
    return seconds


async def status_after_change(
    request: Request, job_id: str, tenant: str | None, seconds: float
) -> JobStatus:
    """The job's status once it differs from now (or is final), or after ``seconds``."""
    sluice = sluice_of(request)
    deadline = time.monotonic() + seconds
    async with _watchers(request).watching(sluice.changes_channel(job_id)) as woken:
        # Read once subscribed: a change between a read and the subscription is not lost.
        status = await sluice.status(job_id, tenant=tenant)
        seen = event_id(status)
        while event_id(status) == seen and not is_final(status):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(woken.wait(), min(left, RECHECK_SECONDS))
            woken.clear()  # before the read: a change after it wakes the next wait
            status = await sluice.status(job_id, tenant=tenant)
    return status


async def job_events(request: Request) -> Response:
    """``text/event-stream``: the status now (unless it is the state Last-Event-ID names),
    then at each change, ending after the final status."""
    tenant = (await authorize(request, READ)).job_tenant
    job_id = request.path_params["job_id"]
    sluice = sluice_of(request)
    now = await sluice.status(job_id, tenant=tenant)  # 404 before the stream begins
    resumed = request.headers.get("last-event-id")
    if is_final(now) and resumed == event_id(now):
        # Nothing will follow: 204 tells an EventSource not to reconnect.
        return Response(status_code=204)

    async def stream() -> AsyncIterator[bytes]:
        sent = resumed
        async with _watchers(request).watching(sluice.changes_channel(job_id)) as woken:
            while True:
                woken.clear()  # before the read: a change after it wakes the wait below
                try:
                    status = await sluice.status(job_id, tenant=tenant)
                except JobNotFoundError:
                    return  # expired while watched
                except UnavailableError:
                    yield b": redis unavailable, retrying\n\n"
                    await asyncio.sleep(RECHECK_SECONDS)
                    continue
                if event_id(status) != sent:
                    sent = event_id(status)
                    yield sse_event(status)
                if is_final(status):
                    return
                try:
                    await asyncio.wait_for(woken.wait(), RECHECK_SECONDS)
                except TimeoutError:
                    yield b": still watching\n\n"  # keeps proxies from closing a quiet stream

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)


ROUTES = [Route("/v1/jobs/{job_id}/events", job_events, methods=["GET"])]
