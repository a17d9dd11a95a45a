"""The consumer: ensure groups -> read / reclaim -> run -> complete, retry or release.

Its parts: consumers/slots.py (never more than --concurrency handlers),
consumers/intake.py (entries become jobs), consumers/running.py (a job to its outcome),
consumers/recovery.py (the reclaim loop), consumers/leases.py (heartbeats, cancellations,
lost leases, a blocked event loop), consumers/outcomes.py (what became of each run).
The worker starts them and stops them gracefully.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, cast

import structlog

from consumers.callbacks import Callbacks
from consumers.chains import FollowUps
from consumers.intake import Intake
from consumers.leases import Leases
from consumers.lifecycle import Lifecycle, cancel_until_done
from consumers.membership import Membership
from consumers.outcomes import REDIS_DOWN, Outcomes, RunningJob, release_entries
from consumers.pausing import PausedStreams
from consumers.pool import ProcessPool
from consumers.recovery import recovery_loop
from consumers.running import Runner
from consumers.slots import Slots
from consumers.timers import Timers
from shared.client import Sluice
from shared.functions import FunctionSpec, registered_functions
from shared.keys import GROUP, FunctionKeys, function_of, keys_for
from shared.redis import Client, client
from shared.scripts import Scripts
from shared.settings import Settings

log = structlog.get_logger("consumer")


class Worker:
    def __init__(
        self,
        settings: Settings,
        specs: Sequence[FunctionSpec],
        *,
        concurrency: int,
        name: str,
        burst: bool = False,
    ) -> None:
        """``burst``: return once every stream is empty and nothing runs (tests, one-off
        runs) instead of at SIGTERM."""
        self.settings = settings
        self.name = name
        self.concurrency = concurrency
        self.burst = burst
        self.keys = {spec.name: keys_for(settings.namespace, spec.name) for spec in specs}
        self.specs = {self.keys[spec.name].stream.encode(): spec for spec in specs}
        self.slots: Slots[RunningJob] = Slots(concurrency)
        self.lifecycle = Lifecycle(settings.shutdown_grace)
        preload = tuple(dict.fromkeys(module for spec in specs for module in spec.preload))
        self.pool = ProcessPool((*settings.function_modules, *preload), max_idle=concurrency)
        self._runner: Runner | None = None
        self._outcomes: Outcomes | None = None
        # Set when one of the loops died of an unexpected error; the process exits 1.
        self.crashed = False
        # Set once it takes work (consumer_started): in-process users wait on it.
        self.started = asyncio.Event()
        # Its functions that are paused, as its timers last learnt (its intakes read the rest).
        self.paused = PausedStreams()

    def stop(self) -> None:
        """Begin a graceful shutdown (SIGTERM)."""
        if self.lifecycle.stop():
            log.info("shutdown_requested", running=len(self.slots.running))
        if self._runner is not None:
            self._runner.give_back_taken_ahead()

    def _loop_ended(self, task: asyncio.Task[None]) -> None:
        """A loop that dies of a bug must not leave a half-working consumer: stop, exit 1."""
        if task.cancelled() or task.exception() is None:
            return
        log.error("consumer_loop_crashed", exc_info=task.exception())
        self.crashed = True
        self.stop()

    async def run(self) -> None:
        structlog.contextvars.bind_contextvars(consumer=self.name)
        url, cluster = self.settings.redis_url, self.settings.redis_cluster
        redis = client(url, cluster=cluster)
        # On a cluster each function's stream is read on its own (one slot per command);
        # else one read covers them all. A reader is used only through run_command.
        groups = [{s: spec} for s, spec in self.specs.items()] if cluster else [self.specs]
        readers = [client(url, max_connections=1, cluster=cluster) for _ in groups]
        try:
            await self._serve(redis, list(zip(groups, readers, strict=True)))
        finally:
            self.pool.close()
            for reader in readers:
                await reader.aclose()
            await redis.aclose()
            finished = self._outcomes.finished if self._outcomes is not None else 0
            log.info("consumer_stopped", finished=finished)

    async def _serve(
        self, redis: Client, reads: list[tuple[dict[bytes, FunctionSpec], Client]]
    ) -> None:
        settings, lifecycle = self.settings, self.lifecycle
        scripts = Scripts(redis)
        wake_recovery = asyncio.Event()
        membership = Membership(
            redis, scripts, self.keys.values(), self.name, settings.forget_consumers_after
        )
        sluice = Sluice(redis, settings, registered_functions())
        follow_ups = FollowUps(sluice, [spec.name for spec in self.specs.values()])
        outcomes = Outcomes(
            redis, scripts, settings, self.name, follow_ups, lifecycle.until_redis, wake_recovery
        )
        self._outcomes = outcomes
        leases = Leases(settings, self.name, lambda job, why: runner.interrupt(job, why))
        runner = Runner(redis, self.slots, lifecycle, outcomes, leases, self.pool, wake_recovery)
        self._runner = runner
        paused = self.paused
        paused.on_resume = wake_recovery.set
        intakes = [
            Intake(
                settings, self.name, specs, self.keys, self.slots, runner, lifecycle, redis,
                self.burst, paused,
            )
            for specs, _ in reads
        ]  # fmt: skip
        if any(not spec.is_async for spec in self.specs.values()):
            await self.pool.start(self.concurrency)
        for intake in intakes:
            if not await lifecycle.until_stopped(lifecycle.until_redis(intake.ensure_groups)):
                return  # told to stop before Redis ever answered: nothing to drain
        log.info(
            "consumer_started",
            functions=sorted(s.name for s in self.specs.values()),
            concurrency=self.concurrency,
        )
        self.started.set()
        # A first recovery pass at once: jobs released by consumers that just stopped (a
        # deploy) wait for no timer.
        wake_recovery.set()
        interval = settings.visibility_timeout / 2

        async def reclaim_all() -> None:
            for intake in intakes:
                await intake.reclaim()

        for intake in intakes:
            intake.reclaim_all = reclaim_all
        recovery = recovery_loop(
            reclaim_all,
            outcomes,
            membership,
            lifecycle,
            wake_recovery,
            interval,
            settings.heartbeat_interval,
        )
        # Delayed jobs queued when due; ended jobs' callback_urls told.
        timers = Timers(redis, self.keys.values(), paused)
        await timers.first_look()  # a consumer started during a pause reads nothing of it
        callbacks = Callbacks(redis, settings, self.keys.values())
        taking = [
            *(intake.read_loop(reader) for intake, (_, reader) in zip(intakes, reads, strict=True)),
            recovery,
            timers.loop(lifecycle.stopping),
            callbacks.loop(lifecycle.stopping),
        ]
        loops = [asyncio.create_task(work) for work in taking]
        loops.append(asyncio.create_task(leases.loop()))
        for loop in loops:
            loop.add_done_callback(self._loop_ended)
        await lifecycle.stopping.wait()
        # Stop taking work (reading and reclaiming); heartbeats go on while draining.
        await cancel_until_done(loops[:-1])
        await asyncio.gather(*(i.await_start() for i in intakes), return_exceptions=True)
        await runner.drain(settings.shutdown_grace)
        await cancel_until_done(loops[-1:])
        await self._release_unstarted(redis, membership)

    async def _release_unstarted(self, redis: Client, membership: Membership) -> None:
        """Entries delivered to us that we never started go back to the group."""
        for stream, spec in self.specs.items():
            try:
                pending = await redis.xpending_range(
                    stream, GROUP, min="-", max="+", count=1000, consumername=self.name
                )
                keys: FunctionKeys = self.keys[spec.name]
                # Made claimable at once; an attempt start.lua began here and nobody ran
                # (a read cut short by the shutdown) is given back too.
                named: list[tuple[bytes, str]] = []
                for item in pending:
                    entry_id = cast(bytes, item["message_id"])
                    entries = await redis.xrange(stream, entry_id, entry_id)
                    named.append((entry_id, _job_id_of(entries)))
                await release_entries(redis, keys, self.name, named, self.settings)
                if not pending:
                    await membership.leave(keys)
            except REDIS_DOWN as exc:
                log.warning("release_failed", error=str(exc))


def _job_id_of(entries: Any) -> str:
    """The job id of the one entry XRANGE returned, or "" (deleted, or not ours)."""
    for _, fields in entries or ():
        raw = (fields or {}).get(b"job_id", b"")
        job_id = raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)
        return job_id if function_of(job_id) else ""
    return ""
