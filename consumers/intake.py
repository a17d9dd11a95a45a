"""How entries become jobs here: read new ones, take the next of a backlog, claim pending
ones, re-read our own after a reconnect, and give back what the free slots cannot hold.

One blocking XREADGROUP connection reads all streams. While reads of a stream come back
full, free slots take its next entries with take.lua (a read and its starts in one round
trip); all streams are read at least every READ_ALL_SECONDS, so a backlog of one
function holds back the jobs of another no longer than that.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import redis.exceptions
import structlog

from consumers.burst import work_left
from consumers.lifecycle import Lifecycle
from consumers.membership import ensure_groups
from consumers.outcomes import REDIS_DOWN, RunningJob, release_entries
from consumers.pausing import PausedStreams
from consumers.running import Runner
from consumers.slots import Slots
from consumers.streams import Entry, parse_xautoclaim, parse_xreadgroup
from shared.functions import FunctionSpec
from shared.jobs import now_iso, now_ms
from shared.keys import GROUP, FunctionKeys, function_of
from shared.redis import READ_BLOCK_SECONDS, Client
from shared.script_calls import drop_call, start_call, take_call
from shared.scripts import ScriptCall, run_batched, run_command
from shared.settings import Settings

log = structlog.get_logger("consumer")

# Entries per XREADGROUP: small reads keep a busy consumer's batches in different phases
# (read, started, run, completed) instead of moving in lockstep.
READ_BATCH = 32
READ_ALL_SECONDS = 1.0
# A burst (tests, one-off runs) reads with a short block: an empty read says it may be done.
BURST_BLOCK_SECONDS = 0.05
# Uploads up to this size come along with take.lua's reply (through a copy in Redis);
# a larger one is read on its own, a round trip that is nothing next to its job.
TAKE_COPY_MAX_BYTES = 4 * 1024 * 1024


class Intake:
    def __init__(
        self,
        settings: Settings,
        name: str,
        specs: dict[bytes, FunctionSpec],
        keys: dict[str, FunctionKeys],
        slots: Slots[RunningJob],
        runner: Runner,
        lifecycle: Lifecycle,
        redis: Client,
        burst: bool = False,
        paused: PausedStreams | None = None,
    ) -> None:
        self.settings = settings
        self.name = name
        self.specs = specs
        self.keys = keys
        self.slots = slots
        self.runner = runner
        self.lifecycle = lifecycle
        self.redis = redis
        # Entries read and being started, not yet running.
        self._pending_start: asyncio.Future[None] | None = None
        # Streams whose last read gave all it asked for: free slots take their next
        # entries (take.lua) until READ_ALL_SECONDS after the last read of all streams.
        self._waiting: list[bytes] = []
        self._read_all_by = 0.0
        # Claims over every intake's streams (set by a worker of several: they share slots).
        self.reclaim_all: Callable[[], Awaitable[None]] = self.reclaim
        # Our own pending entries are read first: at start and after a lost connection.
        self.need_pending = True
        # A key of the streams read, for the node to read them from (on a cluster, an
        # intake reads one function's stream: one slot).
        self._key = next(iter(specs)).decode()
        self.burst = burst  # stop once every stream is empty and nothing runs (burst_done)
        self.paused = paused or PausedStreams()  # streams not to read (Timers learns them)

    async def read_loop(self, reader: Client) -> None:
        delay = 0.1
        while True:
            self._waiting = self.paused.readable(self._waiting)  # none paused since read
            free = self.slots.free()
            ahead = self._ahead_stream() if free <= 0 else None
            if free <= 0 and ahead is None:
                await self.slots.wait_freed()
                continue
            try:
                await self._next(reader, free, ahead)
                delay = 0.1
            except REDIS_DOWN as exc:
                log.warning("redis_connection_lost", error=str(exc), retry_in=delay)
                self.need_pending = True
                self.lifecycle.redis_lost()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
            except redis.exceptions.ResponseError as exc:
                log.warning("read_failed", error=str(exc))
                self.need_pending = True  # entries read but not started are read again
                if "NOGROUP" in str(exc):
                    await self.lifecycle.until_redis(self.ensure_groups)
                else:
                    await asyncio.sleep(1)
            if self.lifecycle.stopped:
                return  # read after SIGTERM: the worker gives the entries back

    async def _next(self, reader: Client, free: int, ahead: bytes | None) -> None:
        """One step: what the free slots should look at next, in this order. All but a
        read of all streams wait for the start of the previous read first."""
        if ahead is None and not self.need_pending and not self.slots.claim_first:
            if not self._waiting or time.monotonic() >= self._read_all_by:
                return await self._read_all(reader, min(free, READ_BATCH))
        await self.await_start()
        if ahead is not None:
            if self._ahead_stream() == ahead:
                await self._take(ahead, 1)
        elif self.need_pending:
            await self._read_own_pending(reader)
            self.need_pending = False
        elif self.slots.claim_first:
            # Pending entries first (retries due, entries given back, released or a dead
            # consumer's), then new ones: a backlog must not starve them.
            self.slots.claim_first = False
            await self.reclaim_all()
        elif (free := self.slots.free()) > 0:
            await self._take(self._waiting[0], free)

    async def _read_all(self, reader: Client, count: int) -> None:
        if not (streams := self.paused.readable(self.specs)):  # all paused: until resumed
            if self.burst:
                await self._burst_done()
            return await self.paused.changed(
                BURST_BLOCK_SECONDS if self.burst else READ_BLOCK_SECONDS
            )
        self.runner.reading_all = True  # nothing known to wait: a job's files need not stay
        self.runner.began()
        try:
            reply = await run_command(
                reader,
                *("XREADGROUP", "GROUP", GROUP, self.name, "COUNT", count),
                *("BLOCK", int((BURST_BLOCK_SECONDS if self.burst else READ_BLOCK_SECONDS) * 1000)),
                "STREAMS",
                *streams,
                *[">"] * len(streams),
                key=self._key,
            )
        finally:
            self.runner.reading_all = False
        if self.lifecycle.stopped:
            return
        # If starting them meets a Redis outage, they are re-read from our own pending
        # entries once it is back. They start while the next read is on its way (one
        # start at a time).
        await self.await_start()
        delivered = parse_xreadgroup(reply)
        if self.burst and not delivered:
            await self._burst_done()
        self._waiting = [s for s, entries in delivered.items() if len(entries) == count]
        self._read_all_by = time.monotonic() + READ_ALL_SECONDS
        reserved = sum(len(entries) for entries in delivered.values())
        self.slots.reserve(reserved)  # until _start_delivered is done
        self._pending_start = asyncio.ensure_future(self._start_delivered(delivered, reserved))

    async def _burst_done(self) -> None:
        """After an empty read in a burst: stop when nothing runs and nothing is left for
        this worker (consumers/burst.py); else claim what may be due at once."""
        if self.slots.running:
            return
        if await work_left(self.redis, self.keys.values(), self.paused):
            self.slots.claim_first = True
        else:
            log.info("burst_done")
            self.lifecycle.stop()

    async def await_start(self) -> None:
        """Wait for the start of the previous read; raises what it raised."""
        if self._pending_start is not None:
            start, self._pending_start = self._pending_start, None
            await start

    async def _start_delivered(self, delivered: dict[bytes, list[Entry]], reserved: int) -> None:
        # COUNT applies to each stream, and the recovery loop may have started jobs
        # meanwhile: start no more than the free slots, and give the rest back.
        try:
            room = await self.slots.room_for(reserved, reserved)
            for stream, entries in delivered.items():
                await self._start(stream, entries[: max(0, room)])
                if len(entries) > room:
                    await self._give_back(stream, entries[max(0, room) :])
                room -= len(entries)
        finally:
            self.slots.unreserve(reserved)

    async def _give_back(self, stream: bytes, entries: list[Entry]) -> None:
        """Entries read beyond our free slots: claimable at once, by anyone (us included)."""
        keys = self.keys[self.specs[stream].name]
        named = [
            (entry_id, (job_id or b"").decode(errors="replace")) for entry_id, job_id in entries
        ]
        try:
            await release_entries(self.redis, keys, self.name, named, self.settings)
        except REDIS_DOWN as exc:
            # They stay pending to us: claimable after the visibility timeout all the same.
            log.warning("give_back_failed", error=str(exc))
        self.slots.claim_first = True

    async def _read_own_pending(self, reader: Client) -> None:
        """After (re)connecting: entries delivered to us whose reply we may have lost."""
        cursors: dict[bytes, bytes] = {stream: b"0" for stream in self.specs}
        while cursors:
            reply = await run_command(
                reader,
                *("XREADGROUP", "GROUP", GROUP, self.name, "COUNT", 100, "STREAMS"),
                *cursors,
                *cursors.values(),
                key=self._key,
            )
            batch = parse_xreadgroup(reply)
            for stream in list(cursors):
                entries = batch.get(stream, [])
                if not entries:
                    del cursors[stream]
                    continue
                cursors[stream] = entries[-1][0]
                fresh = [e for e in entries if not self.slots.runs(self.specs[stream].name, e[0])]
                room = fresh[: max(0, self.slots.free())]
                with self.slots.reserving(len(room)):
                    await self._start(stream, room)

    async def reclaim(self) -> None:
        """XAUTOCLAIM over each whole pending list, as far as free slots allow; if they
        run out first, the next free slot comes back here (``claim_first``)."""
        for stream in self.specs:
            cursor = b"0-0"
            while True:
                count = self.slots.free()
                if count <= 0:
                    self.slots.claim_first = True
                    return
                with self.slots.reserving(count):
                    reply = await self.redis.execute_command(
                        *("XAUTOCLAIM", stream, GROUP, self.name),
                        *(self.settings.visibility_ms, cursor, "COUNT", count),
                    )
                    cursor, entries, saw_deleted = parse_xautoclaim(reply)
                    if saw_deleted:
                        self.need_pending = True  # 6.2 keeps deleted ids pending: ack them
                    if entries:
                        log.info("entries_reclaimed", count=len(entries))
                        await self._start(stream, entries)
                if cursor == b"0-0":
                    break

    async def ensure_groups(self) -> None:
        await ensure_groups(self.redis, self.specs)

    async def _start(self, stream: bytes, entries: list[Entry]) -> None:
        """Begin attempts on delivered or claimed entries, in one round trip."""
        if not entries:
            return
        spec = self.specs[stream]
        keys = self.keys[spec.name]
        calls: list[ScriptCall] = []
        started: list[tuple[bytes, str]] = []
        dropped: list[bytes] = []
        at_ms, at = now_ms(), now_iso()
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
                start_call(
                    keys,
                    job_id=job_id,
                    entry_id=entry_id,
                    consumer=self.name,
                    settings=self.settings,
                    now_ms=at_ms,
                    now=at,
                    with_upload=with_upload,
                )
            )
            started.append((entry_id, job_id))
        if dropped:  # acknowledged and deleted, so XLEN stays the backlog
            await run_batched(self.redis, [drop_call(keys, entry_id=e) for e in dropped])
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
        call = take_call(
            keys,
            consumer=self.name,
            count=count,
            settings=self.settings,
            now_ms=now_ms(),
            now=now_iso(),
            copy_to=copy[0] if copy else None,
            copy_max=TAKE_COPY_MAX_BYTES,
        )
        with self.slots.reserving(count):  # the recovery loop must not start jobs in these
            taken, *copied = await run_batched(self.redis, [call], copy, read="GETDEL")
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
            elif outcome == "paused":  # read before this consumer knew: read no more of it
                self.paused.set(keys.stream.encode(), True)
            return
        if self.slots.runs(spec.name, entry_id):
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
        self.runner.start(job, bytes(reply[1]), document)

    def _ahead_stream(self) -> bytes | None:
        """A stream of short jobs to take one job ahead from, if the slots allow one and
        nothing else waits for a slot (see slots.AHEAD_BELOW_SECONDS)."""
        if (
            self.need_pending
            or self.slots.claim_first
            or self.lifecycle.stopped
            or time.monotonic() >= self._read_all_by
            or not self._waiting
            or not self.slots.ahead_allowed()
        ):
            return None
        return next((s for s in self._waiting if self.slots.short(self.specs[s].name)), None)
