"""Redis's cost per job of a drain, in instructions (valgrind's callgrind), which unlike
seconds does not move with what else the machine runs: ``--jobs`` echo jobs are queued with
submit_many, then one in-process burst consumer (concurrency 256) drains them, all against
a redis-server run under callgrind. Run it from each tree to compare, side by side:

    python -m bench.redis_cost --runs 3            # this tree
    (cd ../other-tree && python -m bench.redis_cost --runs 3)

It prints, per run, the instructions Redis executed (start-up, submission and drain) and
per job, then their median. The submission and start-up are the same in both trees when
only the consumer's scripts changed, so the difference is the drain's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from shared.client import Sluice
from shared.embedded import RedisServer
from shared.settings import Settings
from tests.inprocess import run_burst


async def one_run(jobs: int, redis_server: str, work: Path) -> int:
    out = work / "callgrind.out"
    wrapper = work / "redis-under-callgrind"
    wrapper.write_text(
        "#!/bin/sh\n"
        f'exec valgrind --tool=callgrind --callgrind-out-file={out} {redis_server} "$@"\n'
    )
    wrapper.chmod(0o755)
    server = RedisServer(str(wrapper), work)
    server.start(timeout=120)
    try:
        env = {"REDIS_URL": server.url, "SLUICE_NAMESPACE": "bench", "LOG_LEVEL": "warning"}
        settings = Settings.from_env(env)
        async with Sluice.connect(settings) as sluice:
            for start in range(0, jobs, 1000):
                await sluice.submit_many("echo", [{"n": n} for n in range(start, start + 1000)])
        await run_burst(settings, "echo", concurrency=256, timeout=600)
    finally:
        server.stop()
    found = re.search(r"^totals: (\d+)", out.read_text(), re.MULTILINE)
    assert found, f"no totals in {out}"
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--redis-server", default=shutil.which("redis-server") or "redis-server")
    args = parser.parse_args()
    if not shutil.which("valgrind"):
        sys.exit("valgrind is not installed (apt-get install valgrind)")
    os.environ.setdefault("LOG_LEVEL", "warning")
    totals = []
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as work:
            total = asyncio.run(one_run(args.jobs, args.redis_server, Path(work)))
        totals.append(total)
        print(f"run {run + 1}: {total:,} instructions, {total / args.jobs:,.0f} per job")
    median = statistics.median(totals)
    print(f"median: {median:,.0f} instructions, {median / args.jobs:,.0f} per job")


if __name__ == "__main__":
    main()
