"""A function's activity for the dashboard: the last hour minute by minute (the outcomes
prelude.lua's ``count_outcome`` counts into each minute's hash, and the backlog and running
the consumers' timers note in it), the consumers and the jobs each runs, recent failures."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from shared.keys import GROUP, FunctionKeys
from shared.redis import Client, redis_errors

MINUTES = 60
# Failed jobs listed (the list keeps 50) and pending entries looked at, at most.
FAILURES_SHOWN = 20
PENDING_SHOWN = 1000


class Minute(msgspec.Struct, frozen=True):
    minute: int  # seconds since the epoch // 60
    succeeded: int
    failed: int
    retried: int
    cancelled: int
    dead_lettered: int
    # Sampled in the minute by a consumer (None: no consumer ran then).
    backlog: int | None
    running: int | None


class ConsumerState(msgspec.Struct, frozen=True):
    name: str
    # Since it last said it is alive (None: it never said, yet holds entries).
    last_seen_seconds: float | None
    jobs: list[str]


class Activity(msgspec.Struct, frozen=True):
    last_hour: list[Minute]
    consumers: list[ConsumerState]
    recent_failures: list[str]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _minute(minute: int, raw: dict[Any, Any]) -> Minute:
    fields = {_text(k): int(v) for k, v in raw.items()}
    return Minute(
        minute=minute,
        succeeded=fields.get("succeeded", 0),
        failed=fields.get("failed", 0),
        retried=fields.get("retried", 0),
        cancelled=fields.get("cancelled", 0),
        dead_lettered=fields.get("dead_lettered", 0),
        backlog=fields.get("backlog"),
        running=fields.get("running"),
    )


async def redis_now(redis: Client) -> float:
    """Seconds since the epoch by Redis's clock, which named the minutes' keys."""
    with redis_errors():
        seconds, micros = await redis.time()
    return seconds + micros / 1e6


def _minutes(now: float) -> range:
    """The last MINUTES minutes, oldest first, this one last."""
    this_minute = int(now // 60)
    return range(this_minute - MINUTES + 1, this_minute + 1)


async def last_hours(redis: Client, all_keys: Sequence[FunctionKeys]) -> list[list[Minute]]:
    """Each function's last MINUTES minutes (oldest first): two round trips."""
    minutes = _minutes(await redis_now(redis))
    with redis_errors():
        pipe = redis.pipeline(transaction=False)
        for keys in all_keys:
            for minute in minutes:
                pipe.hgetall(keys.minute(minute))
        hashes = await pipe.execute()
    return [
        [_minute(m, raw) for m, raw in zip(minutes, hashes[i : i + MINUTES], strict=True)]
        for i in range(0, len(hashes), MINUTES)
    ]


async def activity(redis: Client, keys: FunctionKeys, *, alive_ms: int) -> Activity:
    """The last MINUTES minutes (oldest first, this one last), consumers alive or holding
    entries with the job ids they hold, and the latest failed job ids (newest first):
    three round trips."""
    now = await redis_now(redis)
    minutes = _minutes(now)
    with redis_errors():
        pipe = redis.pipeline(transaction=False)
        for minute in minutes:
            pipe.hgetall(keys.minute(minute))
        pipe.hgetall(keys.consumers)
        pipe.xpending_range(keys.stream, GROUP, min="-", max="+", count=PENDING_SHOWN)
        pipe.lrange(keys.failures, 0, FAILURES_SHOWN - 1)
        replies = await pipe.execute(raise_on_error=False)
        *hashes, seen, pending, failures = replies
        if isinstance(pending, Exception):  # no group yet: nothing delivered
            pending = []
        pipe = redis.pipeline(transaction=False)
        for item in pending:
            pipe.xrange(keys.stream, item["message_id"], item["message_id"])
        entries = await pipe.execute() if pending else []
    held: dict[str, list[str]] = {}
    for item, found in zip(pending, entries, strict=True):
        job_id = _text(found[0][1].get(b"job_id", b"")) if found else ""
        held.setdefault(_text(item["consumer"]), []).append(job_id)
    last_seen = {_text(name): now - int(ms) / 1000 for name, ms in seen.items()}
    names = sorted({n for n, ago in last_seen.items() if ago * 1000 <= alive_ms} | set(held))
    return Activity(
        last_hour=[_minute(m, raw) for m, raw in zip(minutes, hashes, strict=True)],
        consumers=[
            ConsumerState(name, last_seen.get(name), sorted(filter(None, held.get(name, []))))
            for name in names
        ],
        recent_failures=[_text(job_id) for job_id in failures],
    )
