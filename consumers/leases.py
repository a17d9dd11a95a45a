"""Keeping the leases of running jobs: heartbeats, and what they bring back (a job
cancelled, or a lease another consumer has taken).

The heartbeats are sent from a thread of their own, on its own synchronous Redis
connection: an ``async def`` handler that blocks the event loop must not cost the other
running jobs (nor itself) their leases, which another consumer would then take and run a
second time. What the thread learns (a lease lost, a job cancelled) is handed to the
event loop, which stops the run as soon as it turns again. The same thread watches the
loop for such blocks (consumers/watchdog.py).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import redis
import redis.exceptions
import structlog
from redis.backoff import NoBackoff
from redis.exceptions import NoScriptError
from redis.retry import Retry

from consumers.outcomes import REDIS_DOWN, RunningJob
from consumers.watchdog import LOOP_BLOCKED_SECONDS, PULSE_SECONDS, LoopWatch
from shared.redis import POOL_OPTIONS, SOCKET_TIMEOUT_SECONDS
from shared.script_calls import lease_call
from shared.scripts import Batch, group_calls
from shared.settings import Settings

SyncClient = redis.Redis | redis.RedisCluster

log = structlog.get_logger("consumer")

# How often running jobs are looked at (heartbeats are due less often).
LEASE_TICK_SECONDS = 0.5
# A job running this long has its lease looked at on every tick, for a cancel (and so does
# a job taken ahead while it waits for a slot: cancelled, its handler must not begin).
CANCEL_CHECK_AFTER_SECONDS = 1.0
# How long a stopping consumer waits for the thread to finish its round trip.
THREAD_STOP_SECONDS = 1.0


class Leases:
    """Heartbeats for the jobs the consumer ``name`` holds (``hold`` / ``drop``, from the
    event loop); a job whose lease is lost or which was cancelled is handed to
    ``interrupt`` with the reason, in the event loop."""

    def __init__(
        self,
        settings: Settings,
        name: str,
        interrupt: Callable[[RunningJob, str], None],
    ) -> None:
        self.settings = settings
        self.name = name
        self.interrupt = interrupt
        self.watch = LoopWatch(settings.stuck_grace)
        # The jobs whose leases are kept, shared with the thread: it copies them under
        # the lock, the loop adds and removes them under it.
        self._lock = threading.Lock()
        # Keyed as the slots key running jobs: two functions' streams may give one id.
        self._held: dict[tuple[str, bytes], RunningJob] = {}
        self._stop = threading.Event()
        self._crashed: BaseException | None = None

    def hold(self, job: RunningJob) -> None:
        with self._lock:
            self._held[job.function, job.entry_id] = job

    def drop(self, job: RunningJob) -> None:
        with self._lock:
            if self._held.get((job.function, job.entry_id)) is job:
                del self._held[job.function, job.entry_id]

    def held(self) -> list[RunningJob]:
        with self._lock:
            return list(self._held.values())

    async def loop(self) -> None:
        """Run the lease thread until cancelled; meanwhile show it that the loop turns.
        A thread that dies of a bug raises here, so the consumer stops (exit 1)."""
        self._stop.clear()
        self.watch.alive_at = time.monotonic()  # a loop not yet watched was not blocked
        thread = threading.Thread(
            target=self._thread_main,
            args=(asyncio.get_running_loop(),),
            name="leases",
            daemon=True,
        )
        thread.start()
        try:
            while self._crashed is None:
                self.watch.turned()
                await asyncio.sleep(PULSE_SECONDS)
            raise RuntimeError("the lease thread crashed") from self._crashed
        finally:
            self._stop.set()
            deadline = time.monotonic() + THREAD_STOP_SECONDS
            while thread.is_alive() and time.monotonic() < deadline:
                await asyncio.sleep(0.02)

    # In the thread

    def _thread_main(self, loop: asyncio.AbstractEventLoop) -> None:
        structlog.contextvars.bind_contextvars(consumer=self.name)
        client = sync_client(self.settings.redis_url, self.settings.redis_cluster)
        next_tick = time.monotonic() + LEASE_TICK_SECONDS
        try:
            while not self._stop.wait(PULSE_SECONDS):
                now = time.monotonic()
                if now - self.watch.alive_at > PULSE_SECONDS + LOOP_BLOCKED_SECONDS:
                    self.watch.look(loop, self.held(), now)
                if now < next_tick:
                    continue
                next_tick = now + LEASE_TICK_SECONDS
                try:
                    self.check(client, loop, self.held(), now)
                except REDIS_DOWN as exc:
                    # Keep running: the lease is only lost if another consumer takes it.
                    log.warning("heartbeat_failed", error=str(exc))
                except redis.exceptions.RedisError:
                    log.exception("heartbeat_error")
        except BaseException as exc:
            log.exception("lease_thread_crashed")
            self._crashed = exc
        finally:
            client.close()

    def check(
        self,
        client: SyncClient,
        loop: asyncio.AbstractEventLoop,
        held: Sequence[RunningJob],
        now: float,
    ) -> None:
        """One round trip of lease.lua: the jobs due a heartbeat renew their leases, the
        others that have run a while (or wait for a slot) only look at them. Either way
        the reply says whether the lease is still held and whether the job was cancelled."""
        interval = self.settings.heartbeat_interval
        old = now - CANCEL_CHECK_AFTER_SECONDS
        looked: list[tuple[RunningJob, bool]] = []
        for job in held:
            if job.finishing:
                continue
            # Renewed at the last tick before the interval is up, not the first after it:
            # beats then come at most an interval apart, not an interval and a tick.
            renew = now + LEASE_TICK_SECONDS - job.last_beat > interval
            if renew or job.started <= old or not job.began:
                looked.append((job, renew))
        if not looked:
            return
        calls = [
            lease_call(
                job.keys, job_id=job.job_id, entry_id=job.entry_id, consumer=self.name, renew=renew
            )
            for job, renew in looked
        ]
        batches = group_calls(calls)
        for batch, reply in zip(batches, _run(client, batches), strict=True):
            if isinstance(reply, Exception):
                log.warning("heartbeat_refused", error=str(reply), jobs=len(batch.calls))
                continue
            for index, one in zip(batch.indexes, reply, strict=True):
                job, renew = looked[index]
                if one == 0:
                    self._hand(loop, job, "lost")
                elif one == 2:
                    self._hand(loop, job, "cancelled")
                elif renew:
                    job.last_beat = now  # only this thread writes it once the job runs

    def _hand(self, loop: asyncio.AbstractEventLoop, job: RunningJob, reason: str) -> None:
        """Stop the job's run from the event loop, when it next turns."""
        try:
            loop.call_soon_threadsafe(self.interrupt, job, reason)
        except RuntimeError:
            pass  # the loop has closed: the consumer is exiting


def _run(client: SyncClient, batches: Sequence[Batch]) -> list[Any]:
    """Each batch's reply (or error), in one pipeline; batches that met NOSCRIPT (a
    restarted Redis) are sent again once their script is loaded."""
    pipe = client.pipeline(transaction=False)
    for batch in batches:
        pipe.execute_command(*batch.evalsha())
    replies: list[Any] = pipe.execute(raise_on_error=False)
    missing = [i for i, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
    if missing:
        for script in {batches[i].script.sha: batches[i].script for i in missing}.values():
            client.script_load(script.source)
        pipe = client.pipeline(transaction=False)
        for i in missing:
            pipe.execute_command(*batches[i].evalsha())
        for i, reply in zip(missing, pipe.execute(raise_on_error=False), strict=True):
            replies[i] = reply
    return replies


def sync_client(url: str, cluster: bool = False) -> SyncClient:
    """A synchronous client for the lease thread, configured as shared.redis.client:
    no retries by itself, the same timeouts."""
    if cluster:
        return redis.RedisCluster.from_url(
            url,
            socket_timeout=SOCKET_TIMEOUT_SECONDS,
            socket_connect_timeout=5.0,
            health_check_interval=0,
            retry=Retry(NoBackoff(), 0),
        )
    pool = redis.ConnectionPool.from_url(
        url,
        socket_timeout=SOCKET_TIMEOUT_SECONDS,
        socket_connect_timeout=5.0,
        health_check_interval=0,
        retry=Retry(NoBackoff(), 0),
        **POOL_OPTIONS,
    )
    return redis.Redis(connection_pool=pool)
