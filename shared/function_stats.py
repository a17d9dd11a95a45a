"""What operators watch, per function: the numbers of one instant (stats.lua, one script
call per function, all functions in one round trip) and the counters and histograms the
scripts keep in Redis (prelude.lua's ``count_outcome`` and ``observe``), so they are the
same from every gateway and survive restarts. ``/metrics``, the admin API, the dashboard
and ``sluice top`` all read them here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec

from shared.function_activity import ConsumerState, Minute, activity
from shared.keys import GROUP, FunctionKeys, keys_for
from shared.redis import Client, redis_errors
from shared.scripts import SCRIPTS, ScriptCall, run_batched

# The outcomes counted in jobs_total. ``failed`` counts every job that ended failed,
# dead-lettered ones included; ``retried`` counts failed attempts that were retried.
OUTCOMES = ("succeeded", "failed", "retried", "cancelled", "dead_lettered")
# The histograms the scripts keep (seconds).
DURATION = "job_duration_seconds"
QUEUE_WAIT = "queue_wait_seconds"

_STATS = SCRIPTS["stats"]


class Histogram(msgspec.Struct, frozen=True):
    """Cumulative buckets as Prometheus has them: (upper bound as Prometheus writes it,
    observations at or below it), ascending, the last one "+Inf" (= count)."""

    buckets: list[tuple[str, int]]
    sum: float
    count: int


class FunctionStats(msgspec.Struct, frozen=True):
    function: str
    paused: bool
    # XLEN: jobs on the stream (not yet started, running, or waiting to be retried).
    backlog: int
    # XINFO GROUPS lag: entries never delivered (None: Redis < 7.0, or it says nil).
    lag: int | None
    # Entries delivered and not yet acknowledged (running, retrying, being started, and
    # any read in the instant of a pause and held back).
    pending: int
    running: int
    retrying: int
    # Delayed jobs not yet due.
    scheduled: int
    dead_letters: int
    # How long the oldest job never delivered has waited (0: none waits).
    oldest_queued_seconds: float
    # Consumers that said they were alive within alive_ms (Settings.alive_ms).
    consumers: int
    jobs_total: dict[str, int]
    job_duration_seconds: Histogram
    queue_wait_seconds: Histogram


def stats_call(keys: FunctionKeys, *, alive_ms: int) -> ScriptCall:
    return ScriptCall(
        _STATS,
        [
            keys.stream,
            keys.scheduled,
            keys.retrying,
            keys.dead,
            keys.paused,
            keys.metrics,
            keys.consumers,
            keys.held,
        ],
        [GROUP, alive_ms],
    )


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _histogram(metrics: dict[str, str], name: str, fields: list[str]) -> Histogram:
    """The scripts' per-bucket counts (``fields``: every bucket's, ``<name>:le:<bound>``,
    ascending) made cumulative, every bucket present (a series must not appear midway)."""
    buckets, total = [], 0
    for field in fields:
        total += int(metrics.get(field, 0))
        buckets.append((_le(field.rpartition(":le:")[2]), total))
    return Histogram(buckets, int(metrics.get(f"{name}:sum_us", 0)) / 1e6, total)


def _le(bound: str) -> str:
    """A bucket's bound as Prometheus writes it (Go's float format: 1.0, 0.5, +Inf)."""
    return bound if bound == "+Inf" else repr(float(bound))


def _parse(function: str, reply: list[Any]) -> FunctionStats:
    backlog, lag, pending, alive, waited_ms, scheduled, retrying, dead, paused, held = (
        int(value) for value in reply[:10]
    )
    flat = [_text(item) for item in reply[10]]
    metrics = dict(zip(flat[::2], flat[1::2], strict=True))
    duration_fields, wait_fields = ([_text(f) for f in fields] for fields in reply[11:13])
    return FunctionStats(
        function=function,
        paused=bool(paused),
        backlog=backlog,
        lag=lag if lag >= 0 else None,
        pending=pending,
        running=max(0, pending - retrying - held),
        retrying=retrying,
        scheduled=scheduled,
        dead_letters=dead,
        oldest_queued_seconds=max(0, waited_ms) / 1000,
        consumers=alive,
        jobs_total={outcome: int(metrics.get(f"jobs:{outcome}", 0)) for outcome in OUTCOMES},
        job_duration_seconds=_histogram(metrics, DURATION, duration_fields),
        queue_wait_seconds=_histogram(metrics, QUEUE_WAIT, wait_fields),
    )


async def function_stats(
    redis: Client, namespace: str, functions: Iterable[str], *, alive_ms: int = 30_000
) -> list[FunctionStats]:
    """Each function's numbers now, in one round trip (one script call per function);
    ``alive_ms``: how recently a consumer must have said it is alive to count
    (Settings.alive_ms)."""
    names = sorted(functions)
    calls = [stats_call(keys_for(namespace, name), alive_ms=alive_ms) for name in names]
    with redis_errors():
        replies = await run_batched(redis, calls)
    stats = []
    for name, reply in zip(names, replies, strict=True):
        if isinstance(reply, Exception):
            raise reply
        stats.append(_parse(name, reply))
    return stats


class FunctionDetail(msgspec.Struct, frozen=True):
    stats: FunctionStats
    last_hour: list[Minute]
    consumers: list[ConsumerState]
    recent_failures: list[str]


async def function_detail(
    redis: Client, namespace: str, function: str, *, alive_ms: int = 30_000
) -> FunctionDetail:
    """One function's numbers with its last hour, consumers and recent failures."""
    keys = keys_for(namespace, function)
    [stats] = await function_stats(redis, namespace, [function], alive_ms=alive_ms)
    seen = await activity(redis, keys, alive_ms=alive_ms)
    return FunctionDetail(stats, seen.last_hour, seen.consumers, seen.recent_failures)
