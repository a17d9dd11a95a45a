"""``python -m consumers NAME [NAME ...] [--concurrency N] [--burst]``"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import socket
import sys
from collections.abc import Coroutine
from typing import Any

import structlog

from consumers.worker import Worker
from shared.embedded import with_local_redis
from shared.functions import load_functions
from shared.logs import configure_logging
from shared.redis import check_access, connect
from shared.settings import Settings, SettingsError


def consumer_name() -> str:
    """Unique per process: the PaaS dyno name (or the hostname), random bits and the pid.

    The random part matters in containers, where every restart may get the same pid: two
    processes under one name would pass each other's ownership checks.
    """
    host = os.environ.get("DYNO") or socket.gethostname()
    return f"{host}-{secrets.token_hex(3)}-{os.getpid()}"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m consumers", description=__doc__)
    parser.add_argument("functions", nargs="+", metavar="NAME", help="functions to consume")
    parser.add_argument(
        "--concurrency", type=int, default=8, help="jobs run at once by this process (8)"
    )
    parser.add_argument(
        "--burst",
        action="store_true",
        help="exit once the functions' streams are empty and nothing runs",
    )
    args = parser.parse_args(argv)
    if args.concurrency < 1:
        parser.error("--concurrency must be at least 1")
    return args


async def serve(worker: Worker) -> None:
    async with connect(
        worker.settings.redis_url, max_connections=1, cluster=worker.settings.redis_cluster
    ) as redis:
        await check_access(redis)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, worker.stop)
    await worker.run()


def run(main: Coroutine[Any, Any, None]) -> None:
    """uvloop when it is installed (it comes with uvicorn[standard]): a faster event loop."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        settings = Settings.from_env()
        configure_logging(settings)
        settings = with_local_redis(settings)
        functions = load_functions(settings.function_modules)
    except (SettingsError, RuntimeError, OSError) as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    unknown = [name for name in args.functions if name not in functions]
    if unknown:
        print(
            f"unknown functions: {', '.join(unknown)}; known: {', '.join(sorted(functions))}",
            file=sys.stderr,
        )
        return 2
    worker = Worker(
        settings,
        [functions[name] for name in dict.fromkeys(args.functions)],
        concurrency=args.concurrency,
        name=consumer_name(),
        burst=args.burst,
    )
    try:
        run(serve(worker))
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    except Exception:
        structlog.get_logger("consumer").exception("consumer_crashed")
        return 1
    return 1 if worker.crashed else 0


if __name__ == "__main__":
    sys.exit(main())
