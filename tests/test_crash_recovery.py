"""Crashes and stalls, with real signals.

Each test checks the guarantees of the contract from the outside: how often a handler
really ran (its effect file), the attempts and final status in the job's hash, and the
function's stream (XLEN, XPENDING) and dead-letter stream in Redis. The consumer that is
killed or frozen is a real process; the one that takes over runs in the test's process.
Poison jobs are in tests/test_poison_jobs.py.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis
import structlog
from structlog.testing import capture_logs

from consumers.membership import Membership
from shared.client import Sluice
from shared.keys import GROUP, FunctionKeys, keys_for
from shared.settings import Settings
from tests.conftest import Proc
from tests.helpers import effects, process_gone, wait_for_lines, wait_for_status
from tests.inprocess import serving
from tests.recovery_checks import (
    TAKEOVER_VISIBILITY,
    assert_drained,
    dead_letters,
    logged,
    until,
)


def _owner(sync_redis: redis.Redis, keys: FunctionKeys, job_id: str) -> bytes:
    """The name of the consumer running the job (a process's ends in ``-<pid>``)."""
    consumer = sync_redis.hget(keys.job(job_id), "consumer")
    assert isinstance(consumer, bytes) and consumer, f"nobody runs {job_id}"
    return consumer


def _with_consumer() -> Any:
    """Captured lines with the contextvars the worker bound (consumer, job_id)."""
    return capture_logs(processors=[structlog.contextvars.merge_contextvars])


async def test_consumer_killed_mid_job_is_finished_by_another(
    sluice: Sluice,
    settings: Settings,
    sync_redis: redis.Redis,
    start_consumer: Callable[..., Proc],
    namespace: str,
    tmp_path: Path,
) -> None:
    """SIGKILL the consumer (its pid alone): its warm child exits by itself, because it
    watches its parent, and another consumer reclaims the job after the visibility
    timeout and finishes it; the killed attempt counts, its effect never happened."""
    owner = start_consumer("work", concurrency=1)
    keys = keys_for(namespace, "work")
    effect = tmp_path / "effect"
    job_id = (await sluice.submit("work", {"seconds": 2, "effect_path": str(effect)})).job_id

    (first_start,) = await wait_for_lines(effect, "start", 1)
    child_pid = int(first_start[2])
    assert _owner(sync_redis, keys, job_id).endswith(b"-%d" % owner.pid)
    assert not process_gone(child_pid)
    owner.kill()  # SIGKILL to the consumer's pid only, reaped as a supervisor would
    killed_at = time.monotonic()
    while not process_gone(child_pid):
        assert time.monotonic() - killed_at < 1.0, "the orphaned child is still running"
        await asyncio.sleep(0.02)

    takeover = settings.replace(visibility_timeout=TAKEOVER_VISIBILITY)
    with _with_consumer() as logs:
        async with serving(takeover, "work", concurrency=1) as other:
            done = await wait_for_status(sluice, job_id, "succeeded", "failed", timeout=15)
    assert done.status == "succeeded"
    assert done.attempts == 2 and done.error is None
    starts = effects(effect, "start")
    assert [row[1] for row in starts] == ["1", "2"]
    (effect_row,) = effects(effect)
    assert effect_row[1] == "2" and effect_row[2] == starts[1][2] != str(child_pid)
    assert done.result_value() == {"slept": 2, "attempt": 2, "pid": int(starts[1][2])}
    assert logged(logs, "entries_reclaimed", consumer=other.name), logs
    assert_drained(sync_redis, keys)
    assert dead_letters(sync_redis, keys) == []


# A lease shorter than the tests' 2 s, so the job that outlives it three times is short;
# still three lease-thread beats (0.5 s), so a beat a little late on a loaded machine
# does not lose it.
LEASE_VISIBILITY = 1.5
# How often the test looks at the running job's pending entry.
LOOK_EVERY = 0.1


async def test_long_job_on_healthy_consumer_keeps_its_lease(
    sluice: Sluice,
    settings: Settings,
    sync_redis: redis.Redis,
    namespace: str,
    tmp_path: Path,
) -> None:
    """A job three times longer than the visibility timeout, with an idle consumer ready
    to reclaim anything unattended: heartbeats keep it with its owner, it runs once."""
    leased = settings.replace(visibility_timeout=LEASE_VISIBILITY)
    keys = keys_for(namespace, "work")
    effect = tmp_path / "effect"
    seconds = 3 * LEASE_VISIBILITY
    with _with_consumer() as logs:
        async with serving(leased, "work", concurrency=1) as first:
            payload = {"seconds": seconds, "effect_path": str(effect)}
            job_id = (await sluice.submit("work", payload)).job_id
            await wait_for_lines(effect, "start", 1)
            owner = _owner(sync_redis, keys, job_id)
            assert owner == first.name.encode()
            async with serving(leased, "work", concurrency=1):  # idle, reclaiming
                samples = 0
                while (await sluice.status(job_id)).status == "running":
                    pending = sync_redis.xpending_range(keys.stream, GROUP, "-", "+", 10)
                    if pending:  # (empty once the job has just finished)
                        (entry,) = pending
                        assert entry["consumer"] == owner
                        assert entry["times_delivered"] == 1
                        assert int(entry["time_since_delivered"]) < LEASE_VISIBILITY * 1000
                        samples += 1
                    await asyncio.sleep(LOOK_EVERY)
    assert samples > seconds / LOOK_EVERY / 2  # the job was watched for most of its run

    done = await wait_for_status(sluice, job_id, "succeeded", "failed", timeout=5)
    assert done.status == "succeeded" and done.attempts == 1
    assert len(effects(effect, "start")) == 1
    (effect_row,) = effects(effect)
    assert done.result_value() == {"slept": seconds, "attempt": 1, "pid": int(effect_row[2])}
    events = {line["event"] for line in logs}
    assert "entries_reclaimed" not in events and "lease_lost" not in events, events
    assert_drained(sync_redis, keys)


# What a frozen owner may do about its attempt once it wakes: each ends the attempt there
# (a line job_* would be a write of its own, which the test then refuses).
STALE_OUTCOMES = ("completion_refused", "lease_lost", "retry_refused")


async def test_stale_owner_cannot_overwrite_the_final_status(
    sluice: Sluice,
    settings: Settings,
    sync_redis: redis.Redis,
    start_consumer: Callable[..., Proc],
    namespace: str,
    tmp_path: Path,
) -> None:
    """Consumer A is frozen (SIGSTOP) mid-job past the visibility timeout; B reclaims the
    job and finishes it; then A wakes up and must not write anything final.

    What is guaranteed: the final status is written once, by the owner (B): when A wakes
    its heartbeat or its completion is refused, and the hash stays exactly as B left it.
    What is not: the handler's effect happening once. A alone was stopped, not its warm
    child, which runs attempt 1 to the end while B runs attempt 2: execution is
    at-least-once, so handlers' effects must be idempotent. Each attempt's effect happens
    at most once, and the result is that of the attempt that owned the job.
    """
    stale = start_consumer("work", concurrency=1)
    keys = keys_for(namespace, "work")
    effect = tmp_path / "effect"
    job_id = (await sluice.submit("work", {"seconds": 2, "effect_path": str(effect)})).job_id

    (first_start,) = await wait_for_lines(effect, "start", 1)
    assert _owner(sync_redis, keys, job_id).endswith(b"-%d" % stale.pid)
    os.kill(stale.pid, signal.SIGSTOP)  # the consumer only, not its process group
    takeover = settings.replace(visibility_timeout=TAKEOVER_VISIBILITY)
    with _with_consumer() as logs:
        async with serving(takeover, "work", concurrency=1) as fresh:
            try:
                done = await wait_for_status(sluice, job_id, "succeeded", "failed", timeout=20)
                assert done.status == "succeeded" and done.attempts == 2
                hash_before = sync_redis.hgetall(keys.job(job_id))
            finally:
                os.kill(stale.pid, signal.SIGCONT)
            # A ends its attempt; then, stopped as SIGTERM stops it, it has done all it
            # ever will (heartbeats, retries, giving back what it holds): none of it may
            # change what B wrote.
            await until(
                lambda: any(
                    line["event"] in STALE_OUTCOMES or line["event"].startswith("job_")
                    for line in stale.events()
                ),
                lambda: f"A did nothing after SIGCONT:\n{stale.log()}",
            )
            assert stale.alive()
            stale.signal(signal.SIGTERM)
            await until(lambda: not stale.alive(), stale.log)
    assert stale.wait(0) == 0, stale.log()

    assert await sluice.status(job_id) == done
    assert sync_redis.hgetall(keys.job(job_id)) == hash_before
    stale_events = [line["event"] for line in stale.events()]
    assert "completion_refused" in stale_events or "lease_lost" in stale_events, stale_events
    starts = effects(effect, "start")
    assert [row[1] for row in starts] == ["1", "2"]
    assert starts[0] == first_start
    fresh_child = int(starts[1][2])
    assert fresh_child != int(first_start[2])
    assert done.result_value() == {"slept": 2, "attempt": 2, "pid": fresh_child}
    assert done.finished_at is not None and done.finished_at >= (done.started_at or "")
    written = effects(effect)
    by_attempt = {attempt: [r for r in written if r[1] == attempt] for attempt in ("1", "2")}
    assert len(by_attempt["2"]) == 1 and by_attempt["2"][0][2] == str(fresh_child)
    assert len(by_attempt["1"]) <= 1  # at-least-once: A's child may have finished too
    assert len(written) == len(by_attempt["1"]) + 1
    assert logged(logs, "job_succeeded", consumer=fresh.name, job_id=job_id), logs
    assert not any(event.startswith("job_") for event in stale_events), stale_events
    assert_drained(sync_redis, keys)
    assert dead_letters(sync_redis, keys) == []


# Twice the say-alive interval (half the visibility timeout) of the consumers that stay:
# a live consumer on a loaded machine may say so a little late, and must not be forgotten.
FORGET = TAKEOVER_VISIBILITY


async def test_a_killed_consumer_is_forgotten_once_its_job_is_reclaimed(
    sluice: Sluice,
    settings: Settings,
    sync_redis: redis.Redis,
    start_consumer: Callable[..., Proc],
    namespace: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SIGKILLed mid-job, a consumer says no goodbye: XPENDING still names it as the job's
    owner; once another consumer has reclaimed and finished the job and the dead one has
    been silent FORGET_CONSUMERS_AFTER, it leaves XINFO CONSUMERS. The live one stays,
    though idle longer than that (before Redis 7.2, XINFO's idle grows through empty reads)."""
    keys = keys_for(namespace, "work")
    effect = tmp_path / "effect"
    doomed = start_consumer("work", concurrency=1, FORGET_CONSUMERS_AFTER=str(FORGET))
    job_id = (await sluice.submit("work", {"seconds": 1, "effect_path": str(effect)})).job_id
    await wait_for_lines(effect, "start", 1)
    owner = _owner(sync_redis, keys, job_id)
    assert owner.endswith(b"-%d" % doomed.pid)
    doomed.kill()
    owned = sync_redis.xpending_range(keys.stream, GROUP, "-", "+", 10, consumername=owner)
    assert len(owned) == 1
    assert owner in _consumer_names(sync_redis, keys)

    # When each consumer in this process last looked for departed ones to forget (it
    # looks at most every FORGET / 2 s, when its recovery loop asks it to).
    swept: dict[str, float] = {}
    look = Membership.forget_departed

    async def looking(membership: Membership) -> None:
        before = membership._forgot_at
        await look(membership)
        if membership._forgot_at != before:
            swept[membership.name] = time.monotonic()

    monkeypatch.setattr(Membership, "forget_departed", looking)
    staying = settings.replace(
        visibility_timeout=TAKEOVER_VISIBILITY, forget_consumers_after=FORGET
    )
    with _with_consumer() as logs:
        async with serving(staying, "work", concurrency=1) as live:
            done = await wait_for_status(sluice, job_id, "succeeded", "failed", timeout=15)
            assert done.status == "succeeded" and done.attempts == 2
            await until(
                lambda: owner not in _consumer_names(sync_redis, keys),
                lambda: f"still listed: {_consumer_names(sync_redis, keys)}",
            )
            # Another consumer, which gets no entry, sweeps too: both look again once
            # `live` has gone longer than FORGET_CONSUMERS_AFTER without an entry.
            async with serving(staying, "work", concurrency=1) as sweeper:
                await until(lambda: _idle_ms(sync_redis, keys, live.name) > FORGET * 1000, str)
                idle_since = time.monotonic()
                await until(
                    lambda: min(swept.get(w.name, 0) for w in (live, sweeper)) > idle_since,
                    lambda: f"no second look: {swept}",
                )
                names = _consumer_names(sync_redis, keys)
    assert names == {live.name.encode(), sweeper.name.encode()}
    forgotten = [line for line in logs if line["event"] == "consumers_forgotten"]
    assert forgotten and all(line["consumer"] == live.name for line in forgotten), forgotten
    assert owner.decode() in forgotten[0]["names"]
    assert_drained(sync_redis, keys)


def _consumer_names(sync_redis: redis.Redis, keys: FunctionKeys) -> set[bytes]:
    consumers = sync_redis.xinfo_consumers(keys.stream, GROUP)
    return {consumer["name"] for consumer in consumers}


def _idle_ms(sync_redis: redis.Redis, keys: FunctionKeys, name: str) -> int:
    """XINFO CONSUMERS' idle of the consumer ``name``."""
    consumers = sync_redis.xinfo_consumers(keys.stream, GROUP)
    (idle,) = [c["idle"] for c in consumers if c["name"] == name.encode()]
    return int(idle)
