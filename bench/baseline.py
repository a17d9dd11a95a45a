"""The Celery 5 baseline run: bench/celery_echo.py under an interpreter that has celery."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
import time
from pathlib import Path

from bench.measure import CpuMeter, Result
from bench.processes import Stack, stack
from shared.embedded import RedisServer

# Where the README suggests installing celery, outside the project's virtualenv.
DEFAULT_CELERY_VENV = Path("/tmp/celery-venv/bin/python")
# Worker options that cut start-up and cluster chatter, not the work per task.
_QUIET = ("--loglevel", "warning", "--without-gossip", "--without-mingle", "--without-heartbeat")
INSTALL_HINT = (
    'python3 -m venv /tmp/celery-venv && /tmp/celery-venv/bin/pip install "celery[redis]>=5,<6"'
)


def celery_python(explicit: str | None) -> str:
    """An interpreter that can import celery: the one given, this one, or the default venv."""
    if explicit:
        return explicit
    if importlib.util.find_spec("celery") is not None:
        return sys.executable
    if DEFAULT_CELERY_VENV.exists():
        return str(DEFAULT_CELERY_VENV)
    raise SystemExit(f"--celery needs celery; install it outside the project:\n  {INSTALL_HINT}")


async def _client(python: str, env: dict[str, str], *args: str) -> bytes:
    process = await asyncio.create_subprocess_exec(
        python,
        "-m",
        "bench.celery_echo",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=600)
    if process.returncode != 0:
        raise RuntimeError(f"bench.celery_echo {args[0]} failed:\n{err.decode()[-2000:]}")
    return out


async def e2e_celery(
    server: RedisServer, workdir: Path, python: str, pool: str, concurrency: int, jobs: int
) -> Result:
    """One Celery worker (``pool`` with ``concurrency``) runs ``jobs`` echoes."""
    celery_stack = Stack(server, workdir, python, {"CELERY_BENCH_BROKER": server.url})
    with stack(celery_stack) as running:
        worker = ["-m", "celery", "-A", "bench.celery_echo", "worker", "--pool", pool]
        running.start("celery", [*worker, "--concurrency", str(concurrency), *_QUIET])
        await _client(python, running.env, "ping")
        meter = CpuMeter(running)
        meter.start()
        report = json.loads(await _client(python, running.env, "submit", "--jobs", str(jobs)))
        result = meter.stop(jobs)
        # The submitting client is the child process, not this (idle) one; the machine's
        # "other" load includes all of its CPU time, so take that out there.
        elapsed = time.time() - meter.wall
        result.other_cores = max(0.0, result.other_cores - report["process_cpu"] / elapsed)
        result.cpu_us["bench"] = report["cpu"] * 1e6 / jobs
        result.metrics["jobs/s"] = report["succeeded"] / (report["last"] - report["began"])
        if report["succeeded"] != jobs:
            result.problems.append(f"{jobs - report['succeeded']} of {jobs} did not succeed")
        return result
