"""A steady submit load and the final statuses of what it sent: how the cluster tests
count what a failover loses."""

from __future__ import annotations

import asyncio
import time

import redis

from shared.client import Sluice
from shared.errors import JobNotFoundError, UnavailableError
from shared.jobs import FINAL_STATUSES


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
