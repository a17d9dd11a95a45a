"""One run of each measurement, on fresh processes and a fresh namespace."""

from __future__ import annotations

import asyncio
import dataclasses
import signal
import time
from pathlib import Path

from bench.http import PostResults, post_jobs
from bench.measure import (
    FUNCTION,
    CpuMeter,
    Result,
    body,
    drain,
    payload,
    percentile,
    succeeded,
)
from bench.processes import Stack, stack
from shared.client import Sluice
from shared.embedded import RedisServer
from shared.redis import Client, connect
from shared.settings import Settings


@dataclasses.dataclass(frozen=True)
class Options:
    consumer_concurrency: int = 32
    submitters: int = 64
    connections: int = 64
    # Interpreter for consumers and gateway (None: this one).
    python: str | None = None
    uvicorn_args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()


def _stack(server: RedisServer, workdir: Path, options: Options) -> Stack:
    return Stack(server, workdir, options.python, dict(options.env))


async def _throughput(
    redis: Client, running: Stack, meter: CpuMeter, job_ids: list[str], expected: int
) -> Result:
    """Drain, then jobs/s from the meter's start to the last finished_at."""
    await drain(redis, running.namespace)
    result = meter.stop(len(job_ids))
    done = await succeeded(redis, running.namespace, job_ids, expected, result)
    last = max((job.finished for job in done), default=meter.wall)
    result.metrics["jobs/s"] = len(done) / max(last - meter.wall, 1e-3)
    return result


async def submit_python(sluice: Sluice, jobs: int, submitters: int) -> list[str]:
    """``jobs`` Sluice.submit calls from ``submitters`` concurrent tasks; their job ids."""
    job_ids = [""] * jobs
    counter = iter(range(jobs))

    async def submitter() -> None:
        for index in counter:
            job_ids[index] = (await sluice.submit(FUNCTION, payload(index))).job_id

    await asyncio.gather(*(submitter() for _ in range(min(submitters, jobs))))
    return job_ids


async def e2e_python(
    server: RedisServer, workdir: Path, options: Options, consumers: int, jobs: int
) -> Result:
    """Sluice.submit from many concurrent tasks; jobs/s until the last one succeeded."""
    with stack(_stack(server, workdir, options)) as running:
        running.start_consumers(consumers, options.consumer_concurrency)
        running.wait_ready(consumers, None)
        async with Sluice.connect(Settings.from_env(running.env)) as sluice:
            meter = CpuMeter(running)
            meter.start()
            job_ids = await submit_python(sluice, jobs, options.submitters)
            return await _throughput(sluice.redis, running, meter, job_ids, jobs)


async def e2e_http(
    server: RedisServer, workdir: Path, options: Options, consumers: int, jobs: int
) -> Result:
    """POST /v1/jobs/echo over keep-alive connections; jobs/s until the last succeeded."""
    with stack(_stack(server, workdir, options)) as running:
        running.start_consumers(consumers, options.consumer_concurrency)
        port = running.start_gateway(options.uvicorn_args)
        running.wait_ready(consumers, port)
        meter = CpuMeter(running)
        posted = await post_jobs(port, FUNCTION, jobs, body, options.connections, meter.start)
        async with connect(server.url) as redis:
            result = await _throughput(redis, running, meter, posted.job_ids, jobs)
        _note_refusals(result, posted)
        return result


def _note_refusals(result: Result, posted: PostResults) -> None:
    if posted.refused:
        result.problems.append(f"HTTP answers other than 202: {posted.refused}")
    if posted.errors:
        result.problems.append(f"{posted.errors} requests lost to connection errors")


async def http_submit(server: RedisServer, workdir: Path, options: Options, jobs: int) -> Result:
    """Submissions accepted per second by one gateway process, with no consumer running."""
    with stack(_stack(server, workdir, options)) as running:
        port = running.start_gateway(options.uvicorn_args)
        running.wait_ready(0, port)
        meter = CpuMeter(running)
        posted = await post_jobs(port, FUNCTION, jobs, body, options.connections, meter.start)
        result = meter.stop(jobs)
        result.metrics["jobs/s"] = len(posted.job_ids) / (time.time() - meter.wall)
        _note_refusals(result, posted)
        return result


async def consumer_drain(server: RedisServer, workdir: Path, options: Options, jobs: int) -> Result:
    """One consumer alone on a backlog of ``jobs``: its ceiling, with no submitter around.

    The consumer is started and stopped (SIGSTOP) before the backlog is filled, so neither
    its start-up nor the filling counts; SIGCONT starts the clock.
    """
    with stack(_stack(server, workdir, options)) as running:
        [consumer] = running.start_consumers(1, options.consumer_concurrency)
        running.wait_ready(1, None)
        consumer.process.send_signal(signal.SIGSTOP)
        try:
            async with Sluice.connect(Settings.from_env(running.env)) as sluice:
                job_ids = await submit_python(sluice, jobs, options.submitters)
                meter = CpuMeter(running)
                meter.start()
                consumer.process.send_signal(signal.SIGCONT)
                result = await _throughput(sluice.redis, running, meter, job_ids, jobs)
                del result.cpu_us["bench"]  # it only polled XLEN
                return result
        finally:
            consumer.process.send_signal(signal.SIGCONT)


async def pickup_latency(
    server: RedisServer, workdir: Path, options: Options, jobs: int, rate: float
) -> Result:
    """Submit at a steady ``rate`` (open loop) to one consumer; started_at - created_at."""
    with stack(_stack(server, workdir, options)) as running:
        running.start_consumers(1, options.consumer_concurrency)
        running.wait_ready(1, None)
        async with Sluice.connect(Settings.from_env(running.env)) as sluice:
            meter = CpuMeter(running)
            meter.start()
            job_ids = await _submit_steadily(sluice, jobs, rate)
            await drain(sluice.redis, running.namespace)
            result = meter.stop(jobs)
            done = await succeeded(sluice.redis, running.namespace, job_ids, jobs, result)
        pickup = [(job.started - job.created) * 1000 for job in done]
        total = [(job.finished - job.created) * 1000 for job in done]
        result.metrics = {
            "pickup p50": percentile(pickup, 50),
            "pickup p99": percentile(pickup, 99),
            "queued->succeeded p99": percentile(total, 99),
        }
        return result


async def _submit_steadily(sluice: Sluice, jobs: int, rate: float) -> list[str]:
    """One submission every 1/rate seconds, each in its own task (an open loop)."""
    loop = asyncio.get_running_loop()
    began = loop.time()
    tasks = []
    for index in range(jobs):
        delay = began + index / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(sluice.submit(FUNCTION, payload(index))))
    return [submission.job_id for submission in await asyncio.gather(*tasks)]
