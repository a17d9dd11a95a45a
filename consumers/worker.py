"""The consumer: ensure groups -> read / reclaim -> run -> complete, retry or release.

One blocking XREADGROUP connection reads new entries; a recovery loop XAUTOCLAIMs entries
whose owner stopped heartbeating (crashed consumers, and retries whose backoff is over);
a lease thread (consumers/leases.py) heartbeats running jobs, notices cancellations and
lost leases, and logs an event loop blocked by a handler (consumers/watchdog.py). What
became of each run is written by consumers/outcomes.py.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import redis.exceptions
import structlog
from redis.asyncio import Redis

from consumers.attempt import run_attempt, time_limit_exceeded
from consumers.chains import FollowUps
from consumers.context import Attempt
from consumers.errors import AttemptFailed
from consumers.leases import Leases
from consumers.membership import Membership
from consumers.outcomes import REDIS_DOWN, Outcomes, RunningJob, elapsed_ms
from consumers.pool import ProcessPool
from consumers.streams import Entry, parse_xautoclaim, parse_xreadgroup
from consumers.watchdog import check_time_limit
from shared.client import Sluice
from shared.errors import PermanentError
from shared.functions import FunctionSpec, registered_functions
from shared.jobs import CANCELLED, FAILED, SUCCEEDED, encode_error, now_iso, now_ms
from shared.keys import GROUP, FunctionKeys, function_of, keys_for
from shared.redis import READ_BLOCK_SECONDS, client
from shared.scripts import ScriptCall, Scripts, run_batched, run_command
from shared.settings import Settings

log = structlog.get_logger("consumer")
T = TypeVar("T")

# Outbox entries older than this are relayed by the recovery sweep (younger ones are
# being relayed by the consumer that completed the job).
FOLLOW_UP_SWEEP_AGE_MS = 5000
# Entries per XREADGROUP. Small reads keep a busy consumer's batches in different phases
# (being read, started, run, completed) instead of moving in lockstep; measured with
# bench/throughput.py: 32 beat 8, 16, 64 and "all free slots".
READ_BATCH = 32
# After SIGTERM, how long past the grace period the consumer keeps trying to write its
# releases and outcomes through a Redis outage; then it exits and leaves those jobs to the
# visibility timeout (a stop must not wait for Redis to come back).
SHUTDOWN_WRITE_SECONDS = 2.0
# While reads of a stream come back full, free slots take its next entries with take.lua
# (a read and its starts in one round trip); all streams are read at least this often, so
# a backlog of one function holds back the jobs of another no longer than this.
READ_ALL_SECONDS = 1.0
# Uploads up to this size come along with take.lua's reply (through a copy in Redis);
# a larger one is read on its own, a round trip that is nothing next to its job.
TAKE_COPY_MAX_BYTES = 4 * 1024 * 1024
# A consumer whose slots are all busy takes one more job ahead from a backlog of a
# function whose last handler here ran under this long, while a handler that began less
# than this long ago, of a function as short, runs: the job's handler begins the moment
# a slot frees, not one round trip later (a 1-page render: ~0.8 ms of its ~45, more with
# Redis across a network). Longer jobs gain next to nothing from it. A job taken ahead
# that waits longer than this is given back (queued, claimable at once).
AHEAD_BELOW_SECONDS = 1.0
# How long a finished job's files wait for the next job to begin (see _next_job_began):
# about twice what picking up the next job takes here, and all an idle consumer adds to
# such a job's finished_at.
ARTIFACTS_WAIT_SECONDS = 0.002


class Worker:
    def __init__(
        self, settings: Settings, specs: Sequence[FunctionSpec], *, concurrency: int, name: str
    ) -> None:
        self.settings = settings
        self.name = name
        self.concurrency = concurrency
        self.keys = {spec.name: keys_for(settings.namespace, spec.name) for spec in specs}
        self.specs = {self.keys[spec.name].stream.encode(): spec for spec in specs}
        self.running: dict[bytes, RunningJob] = {}
        # Running jobs not yet finishing: what --concurrency bounds, plus one taken ahead.
        # A finishing job (writing its outcome) has given its slot to the next job already.
        self._busy = 0
        # Held by a job while its handler may run (--concurrency of them).
        self._handler_slots = asyncio.Semaphore(concurrency)
        # How long each function's last handler here ran (see AHEAD_BELOW_SECONDS).
        self._last_run: dict[str, float] = {}
        # The job taken ahead that waits for a slot, if any.
        self._taken_ahead: set[RunningJob] = set()
        # Entries read and being started (by _pending_start), not yet running.
        self._reserved = 0
        self._pending_start: asyncio.Future[None] | None = None
        # Streams whose last read gave all it asked for: free slots take their next
        # entries (take.lua) until READ_ALL_SECONDS after the last read of all streams.
        self._waiting: list[bytes] = []
        self._read_all_by = 0.0
        # Set while the read of all streams blocks: no next job is known to be coming.
        self._reading_all = False
        # Resolved when the next handler begins (made when a finished job waits for it).
        self._next_begin: asyncio.Future[None] | None = None
        preload = tuple(dict.fromkeys(module for spec in specs for module in spec.preload))
        self.pool = ProcessPool((*settings.function_modules, *preload), max_idle=concurrency)
        self._stopping = asyncio.Event()
        self._slot_freed = asyncio.Event()
        self._wake_recovery = asyncio.Event()
        self._need_pending = True
        # Entries may be claimable that a recovery pass could not take for lack of free
        # slots: the next free slot looks at them before reading new entries.
        self._claimable = False
        self._reconnected_at = 0.0
        # After a stop request: when writes stop waiting for Redis to come back.
        self._give_up_at = float("inf")
        self._redis: Redis | None = None
        self._scripts: Scripts | None = None
        # Set when one of the loops died of an unexpected error; the process exits 1.
        self.crashed = False

    @property
    def redis(self) -> Redis:
        assert self._redis is not None, "the worker is not running"
        return self._redis

    @property
    def scripts(self) -> Scripts:
        assert self._scripts is not None, "the worker is not running"
        return self._scripts

    def _loop_ended(self, task: asyncio.Task[None]) -> None:
        """A loop that dies of a bug must not leave a half-working consumer: stop, exit 1."""
        if task.cancelled() or task.exception() is None:
            return
        log.error("consumer_loop_crashed", exc_info=task.exception())
        self.crashed = True
        self.stop()

    def stop(self) -> None:
        """Begin a graceful shutdown (SIGTERM)."""
        if not self._stopping.is_set():
            log.info("shutdown_requested", running=len(self.running))
            self._give_up_at = (
                time.monotonic() + self.settings.shutdown_grace + SHUTDOWN_WRITE_SECONDS
            )
        self._stopping.set()
        for job in list(self._taken_ahead):  # their handlers have not begun: given back
            self._interrupt(job, "shutdown")

    async def run(self) -> None:
        structlog.contextvars.bind_contextvars(consumer=self.name)
        self._redis = client(self.settings.redis_url)
        # Used only through run_command (which keeps its one connection checked out).
        reader = client(self.settings.redis_url, max_connections=1)
        self._scripts = Scripts(self._redis)
        self.membership = Membership(
            self._redis,
            self._scripts,
            self.keys.values(),
            self.name,
            self.settings.forget_consumers_after,
        )
        sluice = Sluice(self._redis, self.settings, registered_functions())
        self.outcomes = Outcomes(
            self._redis,
            self._scripts,
            self.settings,
            self.name,
            FollowUps(sluice, [spec.name for spec in self.specs.values()]),
            self._until_redis,
            self._wake_recovery,
        )
        self.leases = Leases(self.settings, self.name, self._interrupt)
        try:
            if any(not spec.is_async for spec in self.specs.values()):
                await self.pool.start(self.concurrency)
            if not await self._until_stopped(self._until_redis(self._ensure_groups)):
                return  # told to stop before Redis ever answered: nothing to drain
            log.info(
                "consumer_started",
                functions=sorted(s.name for s in self.specs.values()),
                concurrency=self.concurrency,
            )
            # A first recovery pass at once: jobs released by consumers that just stopped
            # (a deploy) wait for no timer.
            self._wake_recovery.set()
            loops = [
                asyncio.create_task(self._read_loop(reader)),
                asyncio.create_task(self._recovery_loop()),
                asyncio.create_task(self.leases.loop()),
            ]
            for loop in loops:
                loop.add_done_callback(self._loop_ended)
            await self._stopping.wait()
            # Stop taking work (reading and reclaiming); heartbeats go on while draining.
            await _cancel_until_done(loops[:2])
            if self._pending_start is not None:
                await asyncio.gather(self._pending_start, return_exceptions=True)
            await self._drain()
            await _cancel_until_done(loops[2:])
            await self._release_unstarted()
        finally:
            self.pool.close()
            await reader.aclose()
            await self._redis.aclose()
            log.info("consumer_stopped", finished=self.outcomes.finished)

    async def _until_stopped(self, work: Awaitable[None]) -> bool:
        """Run ``work``; False if a stop request came first (``work`` is then cancelled)."""
        task = asyncio.ensure_future(work)
        stopping = asyncio.ensure_future(self._stopping.wait())
        await asyncio.wait([task, stopping], return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if task.done():
            task.result()
            return True
        await _cancel_until_done([task])
        return False

    async def _until_redis(self, action: Callable[[], Awaitable[T]]) -> T:
        """Run ``action`` until Redis answers it; after a stop request, only until the
        grace period and SHUTDOWN_WRITE_SECONDS are over (then its error is raised)."""
        delay = 0.1
        while True:
            try:
                return await action()
            except REDIS_DOWN as exc:
                if self._stopping.is_set() and time.monotonic() + delay > self._give_up_at:
                    raise
                log.warning("redis_unavailable", error=str(exc), retry_in=delay)
                self._reconnected_at = time.monotonic()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def _ensure_groups(self) -> None:
        for stream in self.specs:
            try:
                await self.redis.xgroup_create(stream, GROUP, id="0", mkstream=True)
            except redis.exceptions.ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    # Reading

    async def _read_loop(self, reader: Redis) -> None:
        delay = 0.1
        while True:
            free = self._free_slots()
            ahead = self._ahead_stream() if free <= 0 else None
            if free <= 0 and ahead is None:
                self._slot_freed.clear()
                await self._slot_freed.wait()
                continue
            try:
                if ahead is not None:
                    await self._await_start()
                    if self._ahead_stream() == ahead:
                        await self._take(ahead, 1)
                    continue
                if self._need_pending:
                    await self._await_start()
                    await self._read_own_pending(reader)
                    self._need_pending = False
                    continue
                if self._claimable:
                    # Pending entries first (retries due, entries given back, released or
                    # a dead consumer's), then new ones: a backlog must not starve them.
                    self._claimable = False
                    await self._await_start()
                    await self._reclaim()
                    continue
                if self._waiting and time.monotonic() < self._read_all_by:
                    await self._await_start()
                    if (free := self._free_slots()) > 0:
                        await self._take(self._waiting[0], free)
                    continue
                count = min(free, READ_BATCH)
                # Nothing known to be waiting: a finished job need not hold its files for
                # a next job, which may be a long way off.
                self._reading_all = True
                self._began()
                try:
                    reply = await run_command(
                        reader,
                        "XREADGROUP",
                        "GROUP",
                        GROUP,
                        self.name,
                        "COUNT",
                        count,
                        "BLOCK",
                        int(READ_BLOCK_SECONDS * 1000),
                        "STREAMS",
                        *self.specs,
                        *[">"] * len(self.specs),
                    )
                finally:
                    self._reading_all = False
                if self._stopping.is_set():
                    return  # read after SIGTERM: _release_unstarted gives the entries back
                # Delivered entries: if starting them meets a Redis outage, they are
                # re-read from our own pending entries once it is back. They are started
                # while the next read is on its way (one start at a time).
                await self._await_start()
                delivered = parse_xreadgroup(reply)
                self._waiting = [s for s, entries in delivered.items() if len(entries) == count]
                self._read_all_by = time.monotonic() + READ_ALL_SECONDS
                reserved = sum(len(entries) for entries in delivered.values())
                self._reserved += reserved
                self._pending_start = asyncio.ensure_future(
                    self._start_delivered(delivered, reserved)
                )
                delay = 0.1
            except REDIS_DOWN as exc:
                log.warning("redis_connection_lost", error=str(exc), retry_in=delay)
                self._need_pending = True
                self._reconnected_at = time.monotonic()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            except redis.exceptions.ResponseError as exc:
                log.warning("read_failed", error=str(exc))
                self._need_pending = True  # entries read but not started are read again
                if "NOGROUP" in str(exc):
                    await self._until_redis(self._ensure_groups)
                else:
                    await asyncio.sleep(1)
                continue

    async def _await_start(self) -> None:
        """Wait for the start of the previous read; raises what it raised."""
        if self._pending_start is not None:
            start, self._pending_start = self._pending_start, None
            await start

    async def _start_delivered(self, delivered: dict[bytes, list[Entry]], reserved: int) -> None:
        # COUNT applies to each stream, and the recovery loop may have started jobs
        # meanwhile: start no more than the free slots, and give the rest back.
        try:
            room = self._free_slots() + reserved
            for stream, entries in delivered.items():
                await self._start(stream, entries[: max(0, room)])
                if len(entries) > room:
                    await self._give_back(stream, entries[max(0, room) :])
                room -= len(entries)
        finally:
            self._unreserve(reserved)  # entries that did not become jobs free their slots

    async def _give_back(self, stream: bytes, entries: list[Entry]) -> None:
        """Entries read beyond our free slots: claimable at once, by anyone (us included)."""
        try:
            for entry_id, _ in entries:
                await self.scripts.release(
                    [stream], [GROUP, self.name, entry_id, self.settings.visibility_ms]
                )
        except REDIS_DOWN as exc:
            # They stay pending to us: claimable after the visibility timeout all the same.
            log.warning("give_back_failed", error=str(exc))
        self._claimable = True

    async def _read_own_pending(self, reader: Redis) -> None:
        """After (re)connecting: entries delivered to us whose reply we may have lost."""
        cursors: dict[bytes, bytes] = {stream: b"0" for stream in self.specs}
        while cursors:
            reply = await run_command(
                reader,
                *("XREADGROUP", "GROUP", GROUP, self.name, "COUNT", 100, "STREAMS"),
                *cursors,
                *cursors.values(),
            )
            batch = parse_xreadgroup(reply)
            for stream in list(cursors):
                entries = batch.get(stream, [])
                if not entries:
                    del cursors[stream]
                    continue
                cursors[stream] = entries[-1][0]
                fresh = [e for e in entries if e[0] not in self.running]
                room = fresh[: max(0, self._free_slots())]
                self._reserved += len(room)
                try:
                    await self._start(stream, room)
                finally:
                    self._unreserve(len(room))

    async def _start(self, stream: bytes, entries: list[Entry]) -> None:
        """Begin attempts on delivered or claimed entries, in one round trip."""
        if not entries:
            return
        spec = self.specs[stream]
        keys = self.keys[spec.name]
        calls: list[ScriptCall] = []
        started: list[tuple[bytes, str]] = []
        dropped: list[bytes] = []
        start = self.scripts.start.script
        common = (
            now_ms(),
            now_iso(),
            self.settings.visibility_ms,
            self.settings.result_ttl,
            self.settings.dead_letter_max,
        )
        # Keys that end with the job on start's rarer paths (skip, cancel, dead-letter):
        # an upload exists only for a document function; a non-document job's artifacts
        # were saved by an attempt that died, and expire by ORPHAN_TTL_SECONDS anyway.
        with_upload = spec.takes_document
        for entry_id, raw_job_id in entries:
            job_id = raw_job_id.decode(errors="replace") if raw_job_id else ""
            if function_of(job_id) != spec.name:
                # A deleted entry (or one that is not ours to run): acknowledge it away.
                log.warning("entry_dropped", entry_id=entry_id.decode(), job_id=job_id)
                dropped.append(entry_id)
                continue
            calls.append(
                (
                    start,
                    [keys.stream, keys.job(job_id), keys.dead]
                    + (keys.expiring_with(job_id) if with_upload else []),
                    [GROUP, self.name, entry_id, *common],
                )
            )
            started.append((entry_id, job_id))
        if dropped:  # acknowledged and deleted, so XLEN stays the backlog
            pipe = self.redis.pipeline(transaction=False)
            pipe.xack(stream, GROUP, *dropped)
            pipe.xdel(stream, *dropped)
            await pipe.execute()
        # A document job's upload comes back in the same round trip as its start: one
        # less wait between two jobs. (Entries per start are bounded by free slots.)
        reads = [keys.upload(job_id) for _, job_id in started] if spec.takes_document else []
        replies = await run_batched(self.redis, calls, reads) if calls else []
        documents = replies[len(started) :] or [None] * len(started)
        for (entry_id, job_id), reply, document in zip(
            started, replies[: len(started)], documents, strict=True
        ):
            self._begin(spec, keys, entry_id, job_id, reply, document)

    async def _take(self, stream: bytes, free: int) -> None:
        """Read and start the next entries of a stream whose last read was full, in one
        round trip (take.lua): between two jobs of a backlog, one wait for Redis instead
        of two (read, then start). A document comes along through this consumer's copy of
        it (one job per take), unless it is over TAKE_COPY_MAX_BYTES."""
        spec = self.specs[stream]
        keys = self.keys[spec.name]
        count = 1 if spec.takes_document else min(free, READ_BATCH)
        copy = [keys.taking(self.name)] if spec.takes_document else []
        args = [GROUP, self.name, count, now_ms(), now_iso(), self.settings.visibility_ms]
        args += [self.settings.result_ttl, self.settings.dead_letter_max, spec.name]
        args += [keys.job(""), keys.upload(""), keys.artifacts(""), TAKE_COPY_MAX_BYTES]
        call = (self.scripts.take.script, [keys.stream, keys.dead, *copy], args)
        self._reserved += count  # the recovery loop must not start jobs in these slots
        try:
            taken, *copied = await run_batched(self.redis, [call], copy, read="GETDEL")
        finally:
            self._unreserve(count)
        if isinstance(taken, Exception):
            raise taken
        self._waiting.remove(stream)
        if len(taken) == count:
            self._waiting.append(stream)  # more may wait: after the other waiting streams
        for entry_id, job_id, reply, in_copy in taken:
            if reply[0] == b"dropped":
                log.warning("entry_dropped", entry_id=entry_id.decode(), job_id=job_id.decode())
                continue
            document = copied[0] if in_copy == b"1" else None
            self._begin(spec, keys, entry_id, job_id.decode(), reply, document)

    def _begin(
        self,
        spec: FunctionSpec,
        keys: FunctionKeys,
        entry_id: bytes,
        job_id: str,
        reply: Any,
        document: Any,
    ) -> None:
        """Run the job if start.lua's ``reply`` says so (``document``: its upload, if read)."""
        if isinstance(reply, Exception):
            log.error("start_failed", job_id=job_id, error=str(reply))
            return
        outcome = reply[0].decode()
        if outcome != "run":
            log.info("entry_" + outcome, job_id=job_id, entry_id=entry_id.decode())
            if outcome == "dead":
                log.warning("job_dead_lettered", job_id=job_id, reason="attempts used up")
            return
        if entry_id in self.running:
            # Our own job, reclaimed while it was writing its outcome (finishing jobs
            # send no heartbeats, e.g. through a long Redis outage): it runs once.
            return
        now = time.monotonic()
        job = RunningJob(
            spec=spec,
            keys=keys,
            job_id=job_id,
            entry_id=entry_id,
            attempt=int(reply[2]),
            max_attempts=int(reply[3]),
            idempotency_key=reply[4].decode(),
            next_job_id=reply[5].decode(),
            started=now,
            last_beat=now,
        )
        self.running[entry_id] = job
        self.leases.hold(job)
        self._busy += 1
        job.task = asyncio.create_task(self._run(job, bytes(reply[1]), document))
        job.task.add_done_callback(functools.partial(self._run_ended, job))

    # Running

    def _unreserve(self, count: int) -> None:
        """Slots held for entries being read or started are free again (or taken by
        their jobs): a read loop waiting for a free slot looks again."""
        self._reserved -= count
        self._slot_freed.set()

    def _ahead_stream(self) -> bytes | None:
        """A stream to take one job ahead from (see AHEAD_BELOW_SECONDS), if any: only
        while every slot is busy, nothing else waits for one, none is taken ahead yet and
        a running handler should end soon."""
        now = time.monotonic()
        if (
            self._busy != self.concurrency
            or self._reserved
            or self._need_pending
            or self._claimable
            or self._stopping.is_set()
            or len(self.running) >= 2 * self.concurrency
            or now >= self._read_all_by
            or not self._waiting
            or not any(self._short(job, now) for job in self.running.values())
        ):
            return None
        for stream in self._waiting:
            if (
                self._last_run.get(self.specs[stream].name, AHEAD_BELOW_SECONDS)
                < AHEAD_BELOW_SECONDS
            ):
                return stream
        return None

    def _short(self, job: RunningJob, now: float) -> bool:
        """Whether the job's handler runs and should end within AHEAD_BELOW_SECONDS."""
        if not job.began or job.finishing or now - job.began >= AHEAD_BELOW_SECONDS:
            return False
        return self._last_run.get(job.spec.name, AHEAD_BELOW_SECONDS) < AHEAD_BELOW_SECONDS

    def _free_slots(self) -> int:
        # Finishing jobs are bounded too: at most one per slot (their results are in memory).
        free = min(self.concurrency - self._busy, 2 * self.concurrency - len(self.running))
        return free - self._reserved

    def _finishing(self, job: RunningJob) -> None:
        """The handler is done: from now on the job is only writing its outcome, which
        nothing interrupts, and its slot goes to the next job."""
        if not job.finishing:
            job.finishing = True
            self.outcomes.stop_progress(job)
            self._busy -= 1
            if job.began:  # it holds a handler slot
                self._handler_slots.release()
                self._last_run[job.spec.name] = time.monotonic() - job.began
            self._slot_freed.set()

    async def _run(self, job: RunningJob, payload: bytes, document: Any) -> None:
        structlog.contextvars.bind_contextvars(
            job_id=job.job_id, function=job.spec.name, attempt=job.attempt
        )
        began = time.perf_counter()
        time_limit: asyncio.TimerHandle | None = None
        attempt = Attempt(
            job.job_id,
            job.attempt,
            payload,
            None,
            lambda percent, message: self.outcomes.report(job, percent, message),
        )
        try:
            try:
                if self._handler_slots.locked():  # taken ahead: wait for a slot
                    await self._wait_for_slot(job)
                    job.began_at = now_iso()
                    began = time.perf_counter()
                else:
                    await self._handler_slots.acquire()
                job.began = time.monotonic()
                # A timer, not asyncio.timeout: one handle per job is all a busy consumer pays.
                time_limit = asyncio.get_running_loop().call_later(
                    job.spec.timeout, self._interrupt, job, "timeout"
                )
                if job.spec.takes_document:
                    attempt.document = await self._read_document(job, document)
                self._began()
                result = await run_attempt(job.spec, self.pool, attempt)
                if job.spec.is_async:
                    check_time_limit(job)  # it may have blocked the loop past its timer
            except asyncio.CancelledError:
                if job.stop_reason == "lost":
                    log.warning("lease_lost", ms=elapsed_ms(began))
                    return
                if job.stop_reason in ("shutdown", "waited"):
                    self._finishing(job)
                    if await self.outcomes.write(lambda: self.outcomes.release(job)):
                        log.info("job_released", ms=elapsed_ms(began), reason=job.stop_reason)
                        if job.stop_reason == "waited":
                            self._claimable = True  # the next free slot claims it first
                    else:
                        log.warning("release_refused", reason="no longer the owner")
                    return
                if job.stop_reason == "timeout":
                    self._finishing(job)
                    error = time_limit_exceeded(job.spec)
                    await self.outcomes.fail_attempt(job, error.type, error.message, began)
                    return
                if job.stop_reason != "cancelled":
                    raise
                self._finishing(job)
                await self.outcomes.complete(job, CANCELLED, b"", b"", began)
            except PermanentError as exc:
                self._finishing(job)
                await self.outcomes.complete(
                    job, FAILED, b"", encode_error(exc.type, exc.message), began
                )
            except AttemptFailed as exc:
                self._finishing(job)
                await self.outcomes.fail_attempt(job, exc.type, exc.message, began)
            except Exception as exc:  # a bug of ours; the job must still end somewhere
                log.exception("attempt_crashed")
                self._finishing(job)
                await self.outcomes.fail_attempt(job, type(exc).__name__, str(exc), began)
            else:
                self._finishing(job)
                try:
                    if attempt.artifacts:
                        await self._next_job_began()
                        await self.outcomes.write(
                            lambda: self.outcomes.save_artifacts(job, attempt.artifacts)
                        )
                except Exception as exc:  # e.g. Redis refusing the bytes (maxmemory)
                    log.exception("artifacts_not_saved")
                    await self.outcomes.fail_attempt(job, type(exc).__name__, str(exc), began)
                else:
                    await self.outcomes.complete(job, SUCCEEDED, result, b"", began)
        finally:
            if time_limit is not None:
                time_limit.cancel()
            self._finishing(job)
            self.running.pop(job.entry_id, None)
            self.leases.drop(job)
            self._slot_freed.set()
            if self._claimable:
                self._wake_recovery.set()  # a free slot: the read loop may be blocked

    def _run_ended(self, job: RunningJob, task: asyncio.Task[None]) -> None:
        """A job's task that raised: its outcome write was refused by Redis (out of memory,
        a key of the wrong type). Said as a log line of its own, not asyncio's bare
        traceback; an entry still pending is claimed again after the visibility timeout."""
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error(
                "outcome_not_written",
                job_id=job.job_id,
                function=job.spec.name,
                attempt=job.attempt,
                error=f"{type(exc).__name__}: {exc}",
            )

    def _began(self) -> None:
        """A handler is about to run: wake the outcomes waiting for that."""
        if self._next_begin is not None:
            self._next_begin.set_result(None)
            self._next_begin = None

    async def _wait_for_slot(self, job: RunningJob) -> None:
        """A job taken ahead waits for a running handler to end, for at most
        AHEAD_BELOW_SECONDS: then it is given back (the running ones took longer than
        they used to, and another consumer may be free)."""
        give_back = asyncio.get_running_loop().call_later(
            AHEAD_BELOW_SECONDS, self._interrupt, job, "waited"
        )
        self._taken_ahead.add(job)
        if self._stopping.is_set():  # taken by a read that was on its way at SIGTERM
            self._interrupt(job, "shutdown")
        try:
            await self._handler_slots.acquire()
        finally:
            give_back.cancel()
            self._taken_ahead.discard(job)

    async def _next_job_began(self) -> None:
        """Hold a finished job's files until the job taking its slot has begun (at most
        ARTIFACTS_WAIT_SECONDS): written at once, their bytes went to Redis alongside the
        next job's read and start and slowed both (a 1-page render: 1.8 -> 1.1 ms between
        two jobs)."""
        if self._reading_all:
            return
        if self._next_begin is None:
            self._next_begin = asyncio.get_running_loop().create_future()
        await asyncio.wait([self._next_begin], timeout=ARTIFACTS_WAIT_SECONDS)

    async def _read_document(self, job: RunningJob, read: Any) -> bytes:
        """The upload as read along with the start, or read now if that read failed."""
        document = read
        if not isinstance(document, bytes):
            upload = job.keys.upload(job.job_id)
            document = await self._until_redis(lambda: self.redis.get(upload))
        if not isinstance(document, bytes):
            raise PermanentError("the job's document is gone (expired)", type="DocumentMissing")
        return document

    # Interrupting a run

    def _interrupt(self, job: RunningJob, reason: str) -> None:
        if job.finishing or job.task is None:
            return
        if job.stop_reason is None:
            job.stop_reason = reason
        elif reason != "shutdown":
            return
        # Cancelled again at shutdown: a cancellation swallowed on its way (Python 3.11's
        # wait_for can) must not leave the drain waiting for ever.
        job.task.cancel()

    # Recovery

    async def _recovery_loop(self) -> None:
        interval = self.settings.visibility_timeout / 2
        while True:
            try:
                await asyncio.wait_for(self._wake_recovery.wait(), timeout=interval)
            except TimeoutError:
                pass
            self._wake_recovery.clear()
            if self._stopping.is_set():
                return
            if time.monotonic() - self._reconnected_at < self.settings.heartbeat_interval:
                # Just reconnected: give running jobs' owners one heartbeat to renew.
                continue
            try:
                # Follow-ups whose first relay was lost (a crash right after completing).
                await self.outcomes.relay_follow_ups(min_age_ms=FOLLOW_UP_SWEEP_AGE_MS)
                await self.membership.say_alive()
                await self._reclaim()
                await self.membership.forget_departed()
            except REDIS_DOWN as exc:
                log.warning("reclaim_failed", error=str(exc))
                self._reconnected_at = time.monotonic()
            except redis.exceptions.RedisError:
                log.exception("reclaim_error")

    async def _reclaim(self) -> None:
        """XAUTOCLAIM over each whole pending list, as far as free slots allow; if they
        run out first, the next free slot comes back here (``_claimable``)."""
        for stream in self.specs:
            cursor = b"0-0"
            while True:
                count = self._free_slots()
                if count <= 0:
                    self._claimable = True
                    return
                self._reserved += count  # no other read starts jobs in these slots
                try:
                    reply = await self.redis.execute_command(  # type: ignore[no-untyped-call]
                        "XAUTOCLAIM",
                        stream,
                        GROUP,
                        self.name,
                        self.settings.visibility_ms,
                        cursor,
                        "COUNT",
                        count,
                    )
                    cursor, entries, saw_deleted = parse_xautoclaim(reply)
                    if saw_deleted:
                        self._need_pending = True  # 6.2 keeps deleted ids pending: ack them
                    if entries:
                        log.info("entries_reclaimed", count=len(entries))
                        await self._start(stream, entries)
                finally:
                    self._unreserve(count)
                if cursor == b"0-0":
                    break

    # Shutdown

    async def _drain(self) -> None:
        tasks = [job.task for job in self.running.values() if job.task is not None]
        log.info("draining", running=len(tasks), grace=self.settings.shutdown_grace)
        if tasks:
            await asyncio.wait(tasks, timeout=self.settings.shutdown_grace)
        left = [job for job in self.running.values() if job.task is not None]
        for job in left:
            self._interrupt(job, "shutdown")
        await asyncio.gather(*(job.task for job in left if job.task), return_exceptions=True)
        log.info("drained", finished_in_grace=len(tasks) - len(left), released=len(left))

    async def _release_unstarted(self) -> None:
        """Entries delivered to us that we never started go back to the group."""
        for stream, spec in self.specs.items():
            try:
                pending = await self.redis.xpending_range(
                    stream, GROUP, min="-", max="+", count=1000, consumername=self.name
                )
                keys = self.keys[spec.name]
                # Made claimable at once; an attempt start.lua began here and nobody ran
                # (a read cut short by the shutdown) is given back too.
                for item in pending:
                    entry_id = item["message_id"]
                    entries = await self.redis.xrange(stream, entry_id, entry_id)
                    job_id = _job_id_of(entries)
                    await self.scripts.release(
                        [keys.stream, keys.job(job_id)] if job_id else [keys.stream],
                        [GROUP, self.name, entry_id, self.settings.visibility_ms],
                    )
                if not pending:
                    await self.membership.leave(keys)
            except REDIS_DOWN as exc:
                log.warning("release_failed", error=str(exc))


def _job_id_of(entries: Any) -> str:
    """The job id of the one entry XRANGE returned, or "" (deleted, or not ours)."""
    for _, fields in entries or ():
        raw = (fields or {}).get(b"job_id", b"")
        job_id = raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)
        return job_id if function_of(job_id) else ""
    return ""


async def _cancel_until_done(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel the loops and wait for them to end, cancelling again while they run on:
    on Python 3.11, asyncio.wait_for (redis-py sends every command through it) swallows
    a cancellation that arrives as the awaited operation completes."""
    for task in tasks:
        task.cancel()
    while True:
        _, running = await asyncio.wait(tasks, timeout=0.5)
        if not running:
            return
        for task in running:
            task.cancel()
