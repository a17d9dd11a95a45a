"""Many Server-Sent Event streams on one gateway process: the delay from a job's final
status being written (its ``finished_at``, set by the consumer's script) to the event
reaching the client, at the 50th and 99th percentile.

    python -m bench.event_streams [--streams 1000] [--runs 3]

Each run: ``--streams`` echo jobs queued with no consumer, a stream opened on each
(all through one uvicorn process), every stream's first event (queued) received, then a
consumer started; each stream ends with the job's final status. The client is one Python
process on the same machine, so its own CPU is part of the delay measured.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

import httpx

from bench.measure import epoch, percentile
from bench.processes import Stack, redis_server, stack
from bench.report import machine, median
from shared.client import Sluice
from shared.settings import Settings


async def _stream(
    http: httpx.AsyncClient, job_id: str, opened: asyncio.Event, count: list[int]
) -> float:
    """Seconds from the final status's finished_at to its event's arrival."""
    async with http.stream("GET", f"/v1/jobs/{job_id}/events") as reply:
        async for line in reply.aiter_lines():
            if not line.startswith("data: "):
                continue
            arrived = time.time()
            status = json.loads(line[6:])
            if status["status"] == "queued":
                count[0] += 1
                if count[0] == count[1]:
                    opened.set()
            elif status["status"] in ("succeeded", "failed", "cancelled"):
                return arrived - epoch(status["finished_at"])
    raise RuntimeError(f"the stream of {job_id} ended without a final status")


async def one_run(running: Stack, streams: int) -> list[float]:
    port = running.start_gateway(["--no-access-log", "--log-level", "warning"])
    running.wait_ready(0, port)
    settings = Settings.from_env(running.env)
    async with Sluice.connect(settings) as sluice:
        jobs = [(await sluice.submit("echo", {"n": n})).job_id for n in range(streams)]
    limits = httpx.Limits(max_connections=streams + 10, max_keepalive_connections=0)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=120
    ) as http:
        opened, count = asyncio.Event(), [0, streams]
        tasks = [asyncio.create_task(_stream(http, job_id, opened, count)) for job_id in jobs]
        await asyncio.wait_for(opened.wait(), 120)
        running.start_consumers(1, 256)
        return await asyncio.gather(*tasks)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(machine())
    print(f"{args.streams} event streams on one gateway process, {args.runs} runs")
    p50s, p99s, worst = [], [], []
    with tempfile.TemporaryDirectory() as folder, redis_server(Path(folder)) as server:
        for run in range(args.runs):
            extra = {"MAX_CONNECTIONS": str(args.streams + 100), "LOG_LEVEL": "warning"}
            with stack(Stack(server, Path(folder), extra_env=extra)) as running:
                delays = await one_run(running, args.streams)
            ms = [d * 1000 for d in delays]
            p50s.append(percentile(ms, 50))
            p99s.append(percentile(ms, 99))
            worst.append(max(ms))
            said = f"p50 {p50s[-1]:.1f} ms, p99 {p99s[-1]:.1f} ms, max {worst[-1]:.1f} ms"
            print(f"run {run + 1}: {said}")
    print(
        f"median of runs: p50 {median(p50s):.1f} ms, p99 {median(p99s):.1f} ms,"
        f" max {median(worst):.1f} ms"
    )


if __name__ == "__main__":
    asyncio.run(main())
