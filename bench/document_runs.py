"""One run of one ``bench.documents`` row: blocks of jobs that alternate between the
direct side (the functions in this process) and the system side (one consumer)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import os
import signal
import statistics
import time
from collections.abc import Callable, Sequence

from bench.document_workloads import Workload, call_directly, pages_of
from bench.measure import CpuMeter, Result, epoch
from shared.client import Sluice
from shared.errors import SluiceError
from shared.jobs import SUCCEEDED, JobStatus
from shared.keys import keys_for

# A block of system jobs gets SLACK seconds + PATIENCE times the direct time, then its
# unfinished jobs are cancelled (a broken system must not hold the run for many minutes).
SLACK, PATIENCE = 10.0, 4.0


@dataclasses.dataclass
class RowRun:
    """One run of one row: both sides' results."""

    direct: Result
    system: Result


@dataclasses.dataclass
class Side:
    """What one side of a row has measured so far, block by block."""

    meter: CpuMeter
    seconds: float = 0.0
    jobs: int = 0
    pages: int = 0
    failed: int = 0
    running: list[float] = dataclasses.field(default_factory=list)
    gaps: list[float] = dataclasses.field(default_factory=list)
    problems: list[str] = dataclasses.field(default_factory=list)

    def result(self) -> Result:
        result = self.meter.result(self.jobs)
        result.problems = self.problems
        if self.failed:
            result.metrics["failed"] = self.failed
        elif self.jobs:
            result.metrics["pages/s"] = self.pages / max(self.seconds, 1e-3)
            result.metrics["ms/job"] = self.seconds * 1000 / self.jobs
            if self.running:
                result.metrics["running ms/job"] = statistics.mean(self.running) * 1000
            if self.gaps:
                result.metrics["gap ms/job"] = statistics.mean(self.gaps) * 1000
        return result


def direct_block(workload: Workload, data: bytes, jobs: int, side: Side) -> None:
    """``jobs`` jobs one after the other in this process."""
    side.meter.resume()
    began = time.perf_counter()
    pages = [pages_of(call_directly(workload.function, data, workload.params)) for _ in range(jobs)]
    side.seconds += time.perf_counter() - began
    side.meter.pause()
    side.jobs += jobs
    side.pages += sum(pages)
    if sum(pages) != jobs * workload.pages:
        side.problems.append(f"{sum(pages)} pages, expected {jobs * workload.pages}")
        side.failed += 1


async def finished(
    sluice: Sluice, job_ids: Sequence[str], deadline: float, side: Side, quiet: float = 0.0
) -> list[JobStatus]:
    """Wait for every job until ``deadline`` (time.monotonic), then cancel the rest; the
    jobs that did not succeed are noted as failed. Nothing is read for the first ``quiet``
    seconds, so this process's polling takes no CPU from the jobs it measures."""
    await asyncio.sleep(quiet)
    done = []
    # The last job first: the others are done by then (one consumer slot, in order), so
    # this process does not poll all along, taking CPU from the system it measures (its
    # times come from the status hashes, not from when this notices them).
    order = [*job_ids[-1:], *job_ids[:-1]]
    for n, job_id in enumerate(order):
        try:
            left = max(0.1, deadline - time.monotonic())
            status = await sluice.wait(job_id, timeout=left, poll=0.02)
        except TimeoutError:
            late = order[n:]
            side.problems.append(f"{len(late)} jobs not finished in time, cancelled")
            side.failed += len(late)
            await _cancel(sluice, late)
            break
        if status.status == SUCCEEDED:
            done.append(status)
        else:
            error = f"{status.error.type}: {status.error.message}" if status.error else ""
            side.problems.append(f"job {job_id} {status.status} {error}")
            side.failed += 1
    return done


async def _cancel(sluice: Sluice, job_ids: Sequence[str]) -> None:
    """Cancel jobs and wait until they have ended, so the next block starts on its own."""
    for job_id in job_ids:
        with contextlib.suppress(SluiceError):
            await sluice.cancel(job_id)
    for job_id in job_ids:
        with contextlib.suppress(SluiceError, TimeoutError):
            await sluice.wait(job_id, timeout=30)


async def forget(sluice: Sluice, job_ids: Sequence[str]) -> None:
    """Delete the jobs' status, upload and artifacts: Redis stays small."""
    pipe = sluice.redis.pipeline(transaction=False)
    for job_id in job_ids:
        keys = keys_for(sluice.settings.namespace, job_id.split("-", 1)[0])
        pipe.delete(keys.job(job_id), keys.upload(job_id), keys.artifacts(job_id))
    await pipe.execute()


async def system_block(
    sluice: Sluice,
    consumer: int,
    workload: Workload,
    data: bytes,
    jobs: int,
    expected: float | None,
    side: Side,
) -> None:
    """Queue ``jobs`` jobs while the ``consumer`` process is stopped (SIGSTOP), continue it
    and wait for all: the time from then to the last ``finished_at``, the consumer working
    through a queue. The submissions (this client's work and Redis storing the uploads, on
    other machines in production) took CPU from the block's first job here. Jobs unfinished
    after SLACK + PATIENCE x ``expected`` seconds (the direct time, if known yet) are
    cancelled and count as failed; their statuses are read from 0.9 x ``expected`` on."""
    os.kill(consumer, signal.SIGSTOP)
    try:
        job_ids = [
            (await sluice.submit_document(workload.function, data, workload.params)).job_id
            for _ in range(jobs)
        ]
    finally:
        os.kill(consumer, signal.SIGCONT)
    side.meter.resume()
    patience = PATIENCE * (15.0 * jobs if expected is None else expected)
    began, deadline = time.time(), time.monotonic() + SLACK + patience
    done = await finished(sluice, job_ids, deadline, side, quiet=0.9 * (expected or 0.0))
    side.meter.pause()
    await forget(sluice, job_ids)
    side.jobs += jobs
    if not done:
        return
    done.sort(key=lambda s: epoch(s.started_at))
    side.seconds += max(epoch(s.finished_at) for s in done) - began
    for status in done:
        pages = pages_of(status.result_value())
        side.pages += pages
        if pages != workload.pages:  # a result that is not this job's
            side.problems.append(
                f"job {status.job_id} succeeded with {pages} pages, expected {workload.pages}"
            )
            side.failed += 1
    side.running += [epoch(s.finished_at) - epoch(s.started_at) for s in done]
    # From one job's finished_at to the next one's started_at: the consumer between jobs
    # (the completion script, XREADGROUP, the start script).
    side.gaps += [epoch(b.started_at) - epoch(a.finished_at) for a, b in itertools.pairwise(done)]


async def run_row(
    sluice: Sluice,
    consumer: int,
    workload: Workload,
    data: bytes,
    new_meter: Callable[[], CpuMeter],
    system_first: bool,
) -> RowRun:
    """Warm both sides up (one untimed first-page job each), then the blocks, alternating
    which side goes first; a row whose system side fails stops after that block."""
    direct, system = Side(new_meter()), Side(new_meter())
    call_directly(workload.function, data, workload.warm_params)
    warm = await sluice.submit_document(workload.function, data, workload.warm_params)
    await finished(sluice, [warm.job_id], time.monotonic() + 120, system)
    system.failed = 0  # a failed warm-up is noted as a problem, it is no timed job
    await forget(sluice, [warm.job_id])
    left = workload.jobs
    for n in range(-(-workload.jobs // workload.block)):
        jobs, left = min(workload.block, left), left - workload.block
        if (n % 2 == 0) != system_first:
            direct_block(workload, data, jobs, direct)
        expected = direct.seconds / direct.jobs * jobs if direct.jobs else None
        await system_block(sluice, consumer, workload, data, jobs, expected, system)
        if (n % 2 == 0) == system_first:
            direct_block(workload, data, jobs, direct)
        if system.failed:
            break
    return RowRun(direct.result(), system.result())
