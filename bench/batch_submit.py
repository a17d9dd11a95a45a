"""Jobs/s submitted through one gateway process: batches of 1,000 inputs
(``POST /v1/jobs/echo/batch``) against one job per request (``POST /v1/jobs/echo``).

    .venv/bin/python -m bench.batch_submit            # 5 runs of each (~1 minute)
    .venv/bin/python -m bench.batch_submit --runs 1   # a smoke run

Every run gets a fresh uvicorn gateway (as the Procfile starts it) on a fresh namespace
of one redis-server, and no consumer: only submission is measured. The runs alternate
between the two ways; the median of each, their ratio and the gateway's CPU per job are
printed.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import NamedTuple

import msgspec

from bench import report
from bench.http import _read_response, post_jobs
from bench.measure import quiet_machine
from bench.processes import Stack, redis_server, stack
from shared.embedded import RedisServer
from shared.keys import keys_for


class Run(NamedTuple):
    rate: float  # jobs/s
    gateway: float  # CPU microseconds per job
    redis: float


# Far above what a run queues: the bound is not what is measured.
BACKLOG = "10000000"


async def post_batches(port: int, batches: int, size: int, connections: int) -> int:
    """POST ``batches`` batches of ``size`` echo inputs over ``connections`` keep-alive
    connections; the jobs accepted (202)."""
    body = msgspec.json.encode([{"n": n} for n in range(size)])
    request = (
        f"POST /v1/jobs/echo/batch HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    counter = iter(range(batches))
    accepted = 0

    async def send_all() -> None:
        nonlocal accepted
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for _ in counter:
                writer.write(request)
                status, answer, _ = await _read_response(reader)
                if status != 202:
                    raise RuntimeError(f"batch refused: {status} {answer[:200]!r}")
                accepted += answer.count(b'"job_id"')
        finally:
            writer.close()

    await asyncio.gather(*(send_all() for _ in range(connections)))
    return accepted


async def one_run(
    server: RedisServer, workdir: Path, submit: Callable[[int], Awaitable[int]]
) -> Run:
    """Jobs/s, and the gateway's and Redis's CPU per job, of one ``submit(port)``."""
    with stack(Stack(server, workdir, extra_env={"MAX_BACKLOG": BACKLOG})) as running:
        port = running.start_gateway(["--no-access-log"])
        running.wait_ready(0, port)
        before = running.cpu()
        began = time.perf_counter()
        accepted = await submit(port)
        took = time.perf_counter() - began
        after = running.cpu()
        used = {role: (after[role] - before.get(role, 0.0)) / accepted * 1e6 for role in after}
        client = running.sync_client()
        try:
            queued = int(client.xlen(keys_for(running.namespace, "echo").stream))
        finally:
            client.close()
        if queued != accepted:
            raise RuntimeError(f"{accepted} jobs accepted, {queued} in the stream")
        return Run(accepted / took, used["gateway"], used["redis"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.batch_submit", description=__doc__)
    add = parser.add_argument
    add("--runs", type=int, default=5, help="runs of each way (5)")
    add("--batches", type=int, default=100, help="batches per run (100)")
    add("--size", type=int, default=1000, help="inputs per batch (1000)")
    add("--batch-connections", type=int, default=4, help="connections sending batches (4)")
    add("--jobs", type=int, default=10_000, help="single submissions per run (10000)")
    add("--connections", type=int, default=64, help="connections sending single jobs (64)")
    add("--settle", type=float, default=0.0, help="wait up to S s for a quiet machine per run")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)

    async def batches(port: int) -> int:
        return await post_batches(port, args.batches, args.size, args.batch_connections)

    async def singles(port: int) -> int:
        results = await post_jobs(
            port, "echo", args.jobs, lambda n: b'{"n": %d}' % n, args.connections
        )
        if results.refused or results.errors:
            raise RuntimeError(f"refused {results.refused}, {results.errors} lost")
        return len(results.job_ids)

    ways = {f"batches of {args.size}": batches, "one job per request": singles}
    print(report.machine(), flush=True)
    measured: dict[str, list[Run]] = {name: [] for name in ways}
    with tempfile.TemporaryDirectory(prefix="sluice-bench-") as scratch:
        with redis_server(Path(scratch)) as server:
            for run in range(args.runs):
                for name, submit in ways.items():
                    if args.settle:
                        asyncio.run(quiet_machine(args.settle))
                    result = asyncio.run(one_run(server, Path(scratch), submit))
                    measured[name].append(result)
                    print(
                        f"  run {run + 1}/{args.runs} {name}: {result.rate:,.0f} jobs/s, CPU"
                        f" us/job gateway {result.gateway:.1f}, redis {result.redis:.1f}",
                        file=sys.stderr,
                        flush=True,
                    )
    medians = {}
    for name, results in measured.items():
        rates = [result.rate for result in results]
        medians[name] = statistics.median(rates)
        gateway = statistics.median(result.gateway for result in results)
        redis = statistics.median(result.redis for result in results)
        print(
            f"{name:20} {medians[name]:>7,.0f} jobs/s (min {min(rates):,.0f}, max"
            f" {max(rates):,.0f}); CPU us/job: gateway {gateway:.1f}, redis {redis:.1f}"
        )
    batch_rate, single_rate = medians.values()
    print(
        f"ratio {batch_rate / single_rate:.1f}x; goal 50,000 jobs/s in batches:"
        f" {'met' if batch_rate >= 50_000 else 'not met'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
