"""A cluster shard failed over under a steady submit load, and the count of what it lost:
the machinery of the failover tests in tests/test_cluster.py."""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import NamedTuple

import redis

from shared.client import Sluice
from shared.embedded import RedisServer
from shared.errors import JobNotFoundError, UnavailableError
from shared.jobs import FINAL_STATUSES
from shared.keys import keys_for
from shared.settings import Settings
from tests.cluster import LocalCluster
from tests.conftest import Proc
from tests.helpers import effects

# The function whose shard the failover tests fail over: its stream's slot (15517, the
# name is the hash tag) is on another master than REDIS_URL's.
FAILED_OVER = "async_work"
# Longer than a killed master's promotion (node timeout and election) and the consumers'
# reconnect backoff, so owners write their jobs' outcomes before anyone may reclaim them:
# with less, jobs running through the outage are reclaimed and run again (at-least-once).
FAILOVER_VISIBILITY = "10"


class Load:
    """Submitters sending jobs continuously; a submission that fails is sent again, after
    a short pause, with the same Idempotency-Key (a lost reply makes no second job)."""

    def __init__(
        self, sluice: Sluice, function: str, params: dict[str, object], submitters: int = 4
    ) -> None:
        self.sluice = sluice
        self.function = function
        self.params = params
        self.acknowledged: list[tuple[float, str]] = []  # (when, job id)
        self.failures: list[tuple[float, str]] = []  # (when, error type)
        self._stopping = False
        self._tasks = [asyncio.create_task(self._submit(n)) for n in range(submitters)]

    async def _submit(self, submitter: int) -> None:
        sent = 0
        while not self._stopping:
            key = f"load-{submitter}-{sent}"
            while not self._stopping:
                try:
                    submission = await self.sluice.submit(
                        self.function, self.params, idempotency_key=key
                    )
                except (UnavailableError, redis.RedisError) as exc:
                    self.failures.append((time.monotonic(), type(exc).__name__))
                    await asyncio.sleep(0.05)
                    continue
                self.acknowledged.append((time.monotonic(), submission.job_id))
                break
            sent += 1
            await asyncio.sleep(0.01)

    async def wait_for(self, count: int, timeout: float = 30.0) -> None:
        """Until ``count`` more submissions are acknowledged."""
        deadline, wanted = time.monotonic() + timeout, len(self.acknowledged) + count
        while len(self.acknowledged) < wanted:
            assert time.monotonic() < deadline, f"{len(self.acknowledged)}, not {wanted}"
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        self._stopping = True
        await asyncio.gather(*self._tasks)

    def longest_gap(self) -> float:
        """The longest time without an acknowledged submission: the outage clients saw."""
        times = [at for at, _ in self.acknowledged]
        return max((b - a for a, b in zip(times, times[1:], strict=False)), default=0.0)


async def final_statuses(sluice: Sluice, job_ids: list[str], timeout: float) -> dict[str, str]:
    """Each job's status once all are final, or "missing" (no job hash); after
    ``timeout``, what they are then."""
    deadline = time.monotonic() + timeout
    while True:
        statuses = {}
        for job_id in job_ids:
            try:
                statuses[job_id] = (await sluice.status(job_id)).status
            except JobNotFoundError:
                statuses[job_id] = "missing"
            except (UnavailableError, redis.RedisError):
                statuses[job_id] = "unknown"  # its node is not reachable yet
        done = all(s in FINAL_STATUSES or s == "missing" for s in statuses.values())
        if done or time.monotonic() > deadline:
            return statuses
        await asyncio.sleep(0.2)


class Failover(NamedTuple):
    """What a run of run_failover saw, for its test to judge."""

    load: Load
    statuses: dict[str, str]  # each acknowledged job's, or "missing" (its hash is gone)
    ran: collections.Counter[str]  # how often each job's effect happened
    # When the failover began (time.time(), as in the effect file); when the slot had
    # moved to the replica (time.monotonic(), as in the load's acknowledgements).
    began: float
    promoted_at: float


async def run_failover(
    cluster: LocalCluster,
    settings: Settings,
    start_consumer: Callable[..., Proc],
    tmp_path: Path,
    fail_over: Callable[[RedisServer, RedisServer], Awaitable[None]],
) -> Failover:
    """Consumers running, submissions flowing; ``fail_over(master, replica)`` of the
    function's shard; then a steady load again on the new master, and every
    acknowledged job waited for."""
    stream = keys_for(settings.namespace, FAILED_OVER).stream
    master = cluster.master_of(stream)
    replica = cluster.replica_of(master)
    assert settings.redis_url not in (master.url, replica.url)
    consumers = [
        start_consumer(FAILED_OVER, concurrency=8, VISIBILITY_TIMEOUT=FAILOVER_VISIBILITY)
        for _ in range(2)
    ]
    effect = tmp_path / "effect"
    async with Sluice.connect(settings) as sluice:
        load = Load(sluice, FAILED_OVER, {"seconds": 0.05, "effect_path": str(effect)})
        try:
            await load.wait_for(50)
            began, began_at = time.time(), time.monotonic()
            await fail_over(master, replica)
            while cluster.master_of(stream) is master:
                assert time.monotonic() - began_at < 30, "the replica was not promoted"
                await asyncio.sleep(0.05)
            promoted_at = time.monotonic()
            await load.wait_for(50)
        finally:
            await load.stop()
        job_ids = [job_id for _, job_id in load.acknowledged]
        statuses = await final_statuses(sluice, job_ids, timeout=60)
    assert all(consumer.alive() for consumer in consumers)
    ran = collections.Counter(row[0] for row in effects(effect))
    errors = collections.Counter(e for _, e in load.failures)
    print(
        f"\nfailover: promoted in {promoted_at - began_at:.2f}s; {len(job_ids)} acknowledged;"
        f" failed submissions {errors}; longest gap without an acknowledgement"
        f" {load.longest_gap():.2f}s; final {collections.Counter(statuses.values())};"
        f" effects twice: {sum(1 for n in ran.values() if n > 1)}"
    )
    return Failover(load, statuses, ran, began, promoted_at)
