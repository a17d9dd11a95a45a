"""The same echo workload on Celery 5, as the baseline sluice is compared with.

Runs under an interpreter that has ``celery[redis]`` (it is not a project dependency), so
it imports nothing from the project and loads celery dynamically:

    CELERY_BENCH_BROKER=redis://... celery -A bench.celery_echo worker ...   # the worker
    python -m bench.celery_echo ping|submit --jobs N                         # the client

Configuration as a careful Celery user sets it for reliability: Redis broker and result
backend, ``acks_late=True``, ``worker_prefetch_multiplier=1``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
from datetime import UTC, datetime
from typing import Any

# Kombu's Redis transport keeps the queue in a list named after it and the messages
# delivered but not yet acknowledged (acks_late) in this hash.
QUEUE = "celery"
UNACKED = "unacked"
RESULT_PREFIX = "celery-task-meta-"


def make_app(broker: str) -> Any:
    celery = importlib.import_module("celery")
    app = celery.Celery("bench_echo", broker=broker, backend=broker)
    app.conf.update(
        task_acks_late=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
    )

    app.task(name="echo")(echo)
    return app


def echo(params: dict[str, Any]) -> dict[str, Any]:
    """The task: returns its input, like sluice's built-in echo."""
    return params


app = make_app(os.environ.get("CELERY_BENCH_BROKER", "redis://127.0.0.1:6379/0"))


def _done_time(meta: bytes) -> float:
    stamp = datetime.fromisoformat(json.loads(meta)["date_done"])
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.timestamp()


def _results(redis: Any, task_ids: list[str], timeout: float = 30.0) -> list[bytes]:
    """The result metas of all tasks; the ones not written yet are awaited (a message in
    flight between the queue and the unacked hash is in neither for a moment)."""
    found: dict[str, bytes] = {}
    missing = task_ids
    deadline = time.monotonic() + timeout
    while missing and time.monotonic() < deadline:
        for start in range(0, len(missing), 2000):
            chunk = missing[start : start + 2000]
            metas = redis.mget([RESULT_PREFIX + task_id for task_id in chunk])
            found.update((t, m) for t, m in zip(chunk, metas, strict=True) if m)
        missing = [task_id for task_id in missing if task_id not in found]
        if missing:
            time.sleep(0.05)
    return list(found.values())


def submit(jobs: int) -> dict[str, Any]:
    """Queue ``jobs`` echo tasks, wait until the queue and the unacked set are empty."""
    redis = app.backend.client
    cpu, began = time.process_time(), time.time()
    task_ids = [app.send_task("echo", args=[{"n": n, "tag": "bench"}]).id for n in range(jobs)]
    while redis.llen(QUEUE) or redis.hlen(UNACKED):
        time.sleep(0.01)
    cpu = time.process_time() - cpu
    done = [m for m in _results(redis, task_ids) if json.loads(m)["status"] == "SUCCESS"]
    last = max((_done_time(m) for m in done), default=time.time())
    return {
        "jobs": jobs,
        "succeeded": len(done),
        "began": began,
        "last": last,
        "cpu": cpu,
        "process_cpu": time.process_time(),
    }


def ping(timeout: float) -> None:
    """One task through, so the worker is known to be consuming."""
    app.send_task("echo", args=[{"ping": True}]).get(timeout=timeout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.celery_echo")
    parser.add_argument("command", choices=["ping", "submit"])
    parser.add_argument("--jobs", type=int, default=1000)
    args = parser.parse_args(argv)
    if args.command == "ping":
        ping(timeout=60)
    else:
        print(json.dumps(submit(args.jobs)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
