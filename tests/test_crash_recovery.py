"""Crashes, stalls and poison jobs, with real consumer processes and real signals.

Each test checks the guarantees of the contract from the outside: how often a handler
really ran (its effect file), the attempts and final status in the job's hash, and the
function's stream (XLEN, XPENDING) and dead-letter stream in Redis.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import redis

from shared.client import Sluice
from shared.keys import GROUP, FunctionKeys, keys_for
from tests.conftest import VISIBILITY_TIMEOUT, Proc
from tests.helpers import effects, wait_for_lines, wait_for_status


def _owner_pid(sync_redis: redis.Redis, keys: FunctionKeys, job_id: str) -> int:
    """The pid of the consumer running the job (consumer names end in ``-<pid>``)."""
    consumer = sync_redis.hget(keys.job(job_id), "consumer")
    assert isinstance(consumer, bytes) and consumer, f"nobody runs {job_id}"
    return int(consumer.rsplit(b"-", 1)[1])


def _gone(pid: int) -> bool:
    """The process has exited (a zombie waiting for its reaper counts as exited)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (FileNotFoundError, ProcessLookupError):
        return True


def _assert_drained(sync_redis: redis.Redis, keys: FunctionKeys) -> None:
    """Nothing left of the function's jobs: no entry in the stream, none pending."""
    assert sync_redis.xlen(keys.stream) == 0
    assert sync_redis.xpending(keys.stream, GROUP)["pending"] == 0


def _dead_letters(sync_redis: redis.Redis, keys: FunctionKeys) -> list[dict[bytes, bytes]]:
    """The dead-letter stream's entries, oldest first."""
    entries: list[tuple[bytes, dict[bytes, bytes]]] = sync_redis.xrange(keys.dead)  # type: ignore[assignment]
    return [fields for _, fields in entries]


async def test_consumer_killed_mid_job_is_finished_by_another(
    sluice: Sluice,
    sync_redis: redis.Redis,
    start_consumer: Callable[..., Proc],
    namespace: str,
    tmp_path: Path,
) -> None:
    """SIGKILL the consumer (its pid alone): its warm child exits by itself, because it
    watches its parent, and the other consumer reclaims the job after the visibility
    timeout and finishes it; the killed attempt counts, its effect never happened."""
    consumers = {proc.pid: proc for proc in (start_consumer("work"), start_consumer("work"))}
    keys = keys_for(namespace, "work")
    effect = tmp_path / "effect"
    job_id = (await sluice.submit("work", {"seconds": 3, "effect_path": str(effect)})).job_id

    (first_start,) = await wait_for_lines(effect, "start", 1)
    child_pid = int(first_start[2])
    owner = consumers.pop(_owner_pid(sync_redis, keys, job_id))
    (other,) = consumers.values()
    assert not _gone(child_pid)
    owner.kill()  # SIGKILL to the consumer's pid only, reaped as a supervisor would
    killed_at = time.monotonic()
    while not _gone(child_pid):
        assert time.monotonic() - killed_at < 1.0, "the orphaned child is still running"
        await asyncio.sleep(0.02)

    done = await wait_for_status(sluice, job_id, "succeeded", "failed", timeout=15)
    assert done.status == "succeeded"
    assert done.attempts == 2 and done.error is None
    starts = effects(effect, "start")
    assert [row[1] for row in starts] == ["1", "2"]
    (effect_row,) = effects(effect)
    assert effect_row[1] == "2" and effect_row[2] == starts[1][2] != str(child_pid)
    assert done.result_value() == {"slept": 3, "attempt": 2, "pid": int(starts[1][2])}
    assert "entries_reclaimed" in other.log()
    _assert_drained(sync_redis, keys)
    assert _dead_letters(sync_redis, keys) == []


async def test_long_job_on_healthy_consumer_keeps_its_lease(
    sluice: Sluice,
    sync_redis: redis.Redis,
    start_consumer: Callable[..., Proc],
    namespace: str,
    tmp_path: Path,
) -> None:
    """A job three times longer than the visibility timeout, with an idle consumer ready
    to reclaim anything unattended: heartbeats keep it with its owner, it runs once."""
    procs = [start_consumer("work"), start_consumer("work")]
    keys = keys_for(namespace, "work")
    effect = tmp_path / "effect"
    seconds = 3 * VISIBILITY_TIMEOUT
    job_id = (await sluice.submit("work", {"seconds": seconds, "effect_path": str(effect)})).job_id

    await wait_for_lines(effect, "start", 1)
    owner = _owner_pid(sync_redis, keys, job_id)
    samples = 0
    while (await sluice.status(job_id)).status == "running":
        pending = sync_redis.xpending_range(keys.stream, GROUP, min="-", max="+", count=10)
        if pending:  # (empty once the job has just finished)
            (entry,) = pending
            consumer = entry["consumer"]
            assert isinstance(consumer, bytes) and consumer.endswith(f"-{owner}".encode())
            assert entry["times_delivered"] == 1
            assert int(entry["time_since_delivered"]) < VISIBILITY_TIMEOUT * 1000
            samples += 1
        await asyncio.sleep(0.1)
    assert samples > 30  # the job was watched for most of its run

    done = await wait_for_status(sluice, job_id, "succeeded", "failed", timeout=5)
    assert done.status == "succeeded" and done.attempts == 1
    assert len(effects(effect, "start")) == 1
    (effect_row,) = effects(effect)
    assert done.result_value() == {"slept": seconds, "attempt": 1, "pid": int(effect_row[2])}
    for proc in procs:
        assert "entries_reclaimed" not in proc.log()
        assert "lease_lost" not in proc.log()
    _assert_drained(sync_redis, keys)


async def test_stale_owner_cannot_overwrite_the_final_status(
    sluice: Sluice,
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
    consumers = {proc.pid: proc for proc in (start_consumer("work"), start_consumer("work"))}
    keys = keys_for(namespace, "work")
    effect = tmp_path / "effect"
    job_id = (await sluice.submit("work", {"seconds": 4, "effect_path": str(effect)})).job_id

    (first_start,) = await wait_for_lines(effect, "start", 1)
    stale = consumers.pop(_owner_pid(sync_redis, keys, job_id))
    (fresh,) = consumers.values()
    os.kill(stale.pid, signal.SIGSTOP)  # the consumer only, not its process group
    try:
        done = await wait_for_status(sluice, job_id, "succeeded", "failed", timeout=20)
        assert done.status == "succeeded" and done.attempts == 2
        hash_before = sync_redis.hgetall(keys.job(job_id))
    finally:
        os.kill(stale.pid, signal.SIGCONT)

    # Wait until A has done something about its attempt, then give it time for more
    # (heartbeats, retries): none of it may change what B wrote.
    outcomes = ("completion_refused", "lease_lost", "retry_refused", "job_")
    deadline = time.monotonic() + 10
    while not any(outcome in stale.log() for outcome in outcomes):
        assert time.monotonic() < deadline, f"A did nothing after SIGCONT:\n{stale.log()}"
        await asyncio.sleep(0.05)
    await asyncio.sleep(2 * VISIBILITY_TIMEOUT)
    assert stale.alive() and fresh.alive()

    assert await sluice.status(job_id) == done
    assert sync_redis.hgetall(keys.job(job_id)) == hash_before
    stale_log = stale.log()
    assert "completion_refused" in stale_log or "lease_lost" in stale_log, stale_log
    starts = effects(effect, "start")
    assert [row[1] for row in starts] == ["1", "2"]
    assert starts[0] == first_start
    fresh_child = int(starts[1][2])
    assert fresh_child != int(first_start[2])
    assert done.result_value() == {"slept": 4, "attempt": 2, "pid": fresh_child}
    assert done.finished_at is not None and done.finished_at >= (done.started_at or "")
    written = effects(effect)
    by_attempt = {attempt: [r for r in written if r[1] == attempt] for attempt in ("1", "2")}
    assert len(by_attempt["2"]) == 1 and by_attempt["2"][0][2] == str(fresh_child)
    assert len(by_attempt["1"]) <= 1  # at-least-once: A's child may have finished too
    assert len(written) == len(by_attempt["1"]) + 1
    assert "job_succeeded" in fresh.log() and "job_succeeded" not in stale.log()
    _assert_drained(sync_redis, keys)
    assert _dead_letters(sync_redis, keys) == []


async def test_poison_job_killing_its_child_is_dead_lettered_queue_moves_on(
    sluice: Sluice,
    sync_redis: redis.Redis,
    start_consumer: Callable[..., Proc],
    namespace: str,
    tmp_path: Path,
) -> None:
    """``crash`` SIGKILLs the warm child running it, every time: it ends failed after its
    max attempts, dead-lettered, while the same consumer runs other jobs untouched."""
    consumer = start_consumer("crash", "work", concurrency=2)
    crash_keys, work_keys = keys_for(namespace, "crash"), keys_for(namespace, "work")
    crash_effect, work_effect = tmp_path / "crash", tmp_path / "work"
    crash_id = (await sluice.submit("crash", {"effect_path": str(crash_effect)})).job_id
    work_ids = [
        (await sluice.submit("work", {"seconds": 0.3, "effect_path": str(work_effect)})).job_id
        for _ in range(4)
    ]

    failed = await wait_for_status(sluice, crash_id, "failed", "succeeded", timeout=15)
    assert failed.status == "failed"
    assert failed.attempts == failed.max_attempts == 3
    assert failed.error is not None and failed.error.type == "WorkerDied"
    assert "killed by signal 9" in failed.error.message
    assert "attempt 3 of 3, giving up" in failed.error.message
    assert failed.result is None and failed.finished_at is not None
    starts = effects(crash_effect, "start")
    assert [row[1] for row in starts] == ["1", "2", "3"]
    assert len({row[2] for row in starts}) == 3  # a fresh child each time

    (dead,) = _dead_letters(sync_redis, crash_keys)
    assert dead[b"job_id"].decode() == crash_id
    assert dead[b"attempts"] == b"3"
    assert b"WorkerDied" in dead[b"error"]
    _assert_drained(sync_redis, crash_keys)

    for work_id in work_ids:
        done = await wait_for_status(sluice, work_id, "succeeded", "failed", timeout=10)
        assert done.status == "succeeded" and done.attempts == 1
    assert sorted(row[0] for row in effects(work_effect)) == sorted(work_ids)
    _assert_drained(sync_redis, work_keys)
    assert _dead_letters(sync_redis, work_keys) == []
    assert consumer.alive()


async def test_poison_job_killing_its_consumer_is_dead_lettered_after_restarts(
    sluice: Sluice,
    sync_redis: redis.Redis,
    start_consumer: Callable[..., Proc],
    namespace: str,
    tmp_path: Path,
) -> None:
    """``crash_consumer`` is async, so it runs in the consumer itself and SIGKILLs it,
    every time. Restarted like a PaaS would, consumers reclaim it after the visibility
    timeout until its attempts are used up: the next one to claim it dead-letters it
    instead of running it, and a job submitted alongside still succeeds."""
    crash_keys, work_keys = keys_for(namespace, "crash_consumer"), keys_for(namespace, "work")
    crash_effect, work_effect = tmp_path / "crash", tmp_path / "work"
    crash_id = (await sluice.submit("crash_consumer", {"effect_path": str(crash_effect)})).job_id
    work_id = (
        await sluice.submit("work", {"seconds": 1.0, "effect_path": str(work_effect)})
    ).job_id

    deaths = 0
    deadline = time.monotonic() + 30
    while True:
        proc = start_consumer("crash_consumer", "work")
        while proc.alive() and (await sluice.status(crash_id)).status != "failed":
            assert time.monotonic() < deadline, f"still {await sluice.status(crash_id)}"
            await asyncio.sleep(0.05)
        if proc.alive():
            break
        assert proc.wait(1) == -signal.SIGKILL
        deaths += 1
        assert deaths <= 3, "the poison job ran more often than its max attempts"

    failed = await wait_for_status(sluice, crash_id, "failed", timeout=1)
    assert deaths == 3
    assert failed.attempts == failed.max_attempts == 3
    assert failed.error is not None and failed.error.type == "AttemptsExhausted"
    assert failed.error.message.startswith("the process running it died")
    assert failed.error.message.endswith("(attempt 3 of 3, giving up)")
    assert failed.result is None and failed.finished_at is not None
    assert [row[1] for row in effects(crash_effect, "start")] == ["1", "2", "3"]
    (dead,) = _dead_letters(sync_redis, crash_keys)
    assert dead[b"job_id"].decode() == crash_id
    assert dead[b"attempts"] == b"3"
    assert b"AttemptsExhausted" in dead[b"error"]
    # Logged once start.lua's reply is back, which can be after the status was read.
    proc.wait_for_log("job_dead_lettered", timeout=5)
    _assert_drained(sync_redis, crash_keys)

    done = await wait_for_status(sluice, work_id, "succeeded", "failed", timeout=15)
    assert done.status == "succeeded"
    # At-least-once: an attempt of `work` can finish its effect just as the poison job
    # kills the consumer under it (the recovery tick and the 1 s job line up), and then
    # runs again; each attempt has at most one effect, and the last one is the result's.
    rows = effects(work_effect)
    assert 1 <= len(rows) <= done.attempts
    assert len({row[1] for row in rows}) == len(rows)
    assert rows[-1][0] == work_id and rows[-1][1] == str(done.attempts)
    _assert_drained(sync_redis, work_keys)
    assert _dead_letters(sync_redis, work_keys) == []
    assert proc.alive()


# Twice the consumers' say-alive interval (half the tests' visibility timeout): a live
# consumer on a loaded machine may say so a little late, and must not be forgotten.
FORGET = str(VISIBILITY_TIMEOUT)


async def test_a_killed_consumer_is_forgotten_once_its_job_is_reclaimed(
    sluice: Sluice,
    sync_redis: redis.Redis,
    start_consumer: Callable[..., Proc],
    namespace: str,
    tmp_path: Path,
) -> None:
    """SIGKILLed mid-job, a consumer says no goodbye: XPENDING still names it as the job's
    owner; once the other consumer has reclaimed and finished the job and the dead one
    has been silent FORGET_CONSUMERS_AFTER, it leaves XINFO CONSUMERS. The live one stays,
    though idle longer than that (before Redis 7.2, XINFO's idle grows through empty reads)."""
    keys = keys_for(namespace, "work")
    effect = tmp_path / "effect"
    live = start_consumer("work", concurrency=1, FORGET_CONSUMERS_AFTER=FORGET)
    busy = await sluice.submit("work", {"seconds": 5, "effect_path": str(effect)})
    await wait_for_lines(effect, "start", 1)
    doomed = start_consumer("work", concurrency=1, FORGET_CONSUMERS_AFTER=FORGET)
    # The next job must go to `doomed`: submit it once doomed reads the stream, while
    # `live` is still busy (on a loaded machine a consumer takes seconds to start).
    deadline = time.monotonic() + 30
    while not any(n.endswith(b"-%d" % doomed.pid) for n in _consumer_names(sync_redis, keys)):
        assert time.monotonic() < deadline, doomed.log()
        await asyncio.sleep(0.05)
    job_id = (await sluice.submit("work", {"seconds": 1, "effect_path": str(effect)})).job_id
    await wait_for_lines(effect, "start", 2)
    owner = sync_redis.hget(keys.job(job_id), "consumer")
    assert isinstance(owner, bytes) and owner.endswith(b"-%d" % doomed.pid)
    doomed.kill()
    owned = sync_redis.xpending_range(keys.stream, GROUP, "-", "+", 10, consumername=owner)
    assert len(owned) == 1

    for job in (busy.job_id, job_id):
        done = await wait_for_status(sluice, job, "succeeded", "failed", timeout=15)
        assert done.status == "succeeded"
    assert (await sluice.status(job_id)).attempts == 2
    deadline = time.monotonic() + 10
    while owner in (names := _consumer_names(sync_redis, keys)):
        assert time.monotonic() < deadline, f"still listed: {names}\n{live.log()}"
        await asyncio.sleep(0.1)
    # Another consumer, which gets no entry, sweeps too: `live` then goes longer than
    # FORGET_CONSUMERS_AFTER without an entry, and both stay.
    sweeper = start_consumer("work", concurrency=1, FORGET_CONSUMERS_AFTER=FORGET)
    await asyncio.sleep(float(FORGET) + 1.5)
    pids = {int(name.rsplit(b"-", 1)[1]) for name in _consumer_names(sync_redis, keys)}
    assert pids == {live.pid, sweeper.pid}
    assert "consumers_forgotten" in live.log()
    assert owner.decode() in live.log()
    _assert_drained(sync_redis, keys)


def _consumer_names(sync_redis: redis.Redis, keys: FunctionKeys) -> set[bytes]:
    consumers = sync_redis.xinfo_consumers(keys.stream, GROUP)
    return {consumer["name"] for consumer in consumers}
