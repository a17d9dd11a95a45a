"""Each tenant's quotas: jobs not yet ended, bytes stored, submissions per second.

The defaults are the settings' (QUOTA_JOBS, QUOTA_BYTES, QUOTA_RATE, QUOTA_BURST); an API
key may override any of them (its Quotas). Tenant "" (no keys configured, the admin key)
has no quota: every function here returns at once for it.

- **Jobs**: each function's ``active`` hash counts a tenant's jobs not yet ended, kept
  exact by submit.lua and the scripts that end jobs. submit.lua refuses a job when the
  count in its function plus ``active_elsewhere`` (the other functions', read just before)
  is at the quota; two submissions racing on two functions may pass it by one each.
- **Submissions per second**: a token bucket (lua/rate.lua) in a slot of the tenant's own.
- **Bytes**: each function's ``stored`` hash for the tenant adds up the bytes written in
  each hour (``record_bytes``). An hour's bytes count until the hour leaves the window:
  the longest any of them may be kept (RESULT_TTL or UPLOAD_TTL, in whole hours) after
  the hour. This over-estimates: an upload deleted when its job ends, or results that
  expired early, still count until their hour leaves the window, so a tenant at its quota
  waits for hours to pass (``Retry-After`` says how long), not for its jobs to end.

Redis errors are raised as redis-py raises them; callers turn them into 503s as usual
(shared.redis.redis_errors).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from typing import Annotated, Any

import hiredis
import msgspec

from shared.errors import (
    InvalidInputError,
    PayloadTooLargeError,
    QuotaExceededError,
    RateLimitedError,
    StorageQuotaError,
)
from shared.keys import keys_for
from shared.redis import Client
from shared.script_calls import rate_call
from shared.scripts import Scripts
from shared.settings import Settings
from shared.validation import field_of
from shared.wire import round_trip

# Counts and bytes stay integers a Lua number (a double) holds exactly; a rate is any
# positive one a token bucket's arithmetic stays sane with.
_Jobs = Annotated[
    int, msgspec.Meta(ge=1, le=2**53, description="jobs not yet ended (scheduled, queued, running)")
]
_Bytes = Annotated[
    int, msgspec.Meta(ge=1, le=2**53, description="bytes stored (uploads, results, artifacts)")
]
_Rate = Annotated[float, msgspec.Meta(gt=0, le=1e9, description="jobs submitted per second")]
_Burst = Annotated[
    int, msgspec.Meta(ge=1, le=2**53, description="jobs submitted at once (the bucket's size)")
]
# What check_storage allows a tenant without a quota.
UNLIMITED = 2**63 - 1
HOUR = 3600


class Quotas(msgspec.Struct, frozen=True, omit_defaults=True, forbid_unknown_fields=True):
    """A key's overrides of the tenant's quotas; one absent (or null) is the gateway's
    (QUOTA_JOBS, QUOTA_BYTES, QUOTA_RATE, QUOTA_BURST)."""

    jobs: _Jobs | None = None
    bytes: _Bytes | None = None
    rate: _Rate | None = None
    burst: _Burst | None = None

    def effective(self, settings: Settings) -> Limits:
        """These quotas, the settings' defaults filling in those not set."""
        return Limits(
            jobs=settings.quota_jobs if self.jobs is None else self.jobs,
            bytes=settings.quota_bytes if self.bytes is None else self.bytes,
            rate=settings.quota_rate if self.rate is None else self.rate,
            burst=settings.quota_burst if self.burst is None else self.burst,
        )


# No override: the settings' quotas (environment keys, keys made without quotas).
DEFAULT_QUOTAS = Quotas()


class Limits(msgspec.Struct, frozen=True):
    """A tenant's quotas in force: jobs not yet ended, bytes stored, submissions a second
    and the most submitted at once (the bucket's size)."""

    jobs: int
    bytes: int
    rate: float
    burst: int


def quotas_from(value: Any, field: str = "$.quotas") -> Quotas:
    """``value`` (a JSON object's dict) as Quotas, or a 400 naming the field to blame
    (``$.quotas.rate``)."""
    try:
        return msgspec.convert(value, Quotas)
    except msgspec.ValidationError as exc:
        path = field_of(exc)
        where = field + path[1:] if path else field
        raise InvalidInputError(f"invalid quotas: {exc}", field=where) from exc


def number(value: float) -> str:
    """A quota as people write it: ``1000`` not ``1000.0`` nor ``1e+03``, ``2.5`` as is."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


# Submissions per second.


def rate_limited(tenant: str, limits: Limits, wait_ms: int) -> RateLimitedError:
    retry_after = max(1, math.ceil(wait_ms / 1000))
    return RateLimitedError(
        f"tenant {tenant} submits over its quota of {number(limits.rate)} jobs per second"
        f" (burst {limits.burst}); retry in {retry_after} s",
        retry_after=retry_after,
        quota="rate",
        limit=limits.rate,
    )


def over_burst(tenant: str, limits: Limits, n: int) -> PayloadTooLargeError:
    """A batch that could never fit the tenant's bucket: waiting would not help."""
    return PayloadTooLargeError(
        f"a batch of {n} jobs is over tenant {tenant}'s burst of {limits.burst} jobs"
        f" submitted at once: send at most {limits.burst} at a time",
        quota="burst",
        limit=limits.burst,
    )


async def take_submissions(
    redis: Client,
    settings: Settings,
    tenant: str,
    limits: Limits,
    n: int = 1,
    now_ms: int | None = None,
) -> None:
    """Take ``n`` submissions from the tenant's bucket, all or none: 429 rate_limited
    when they are not there, 413 when ``n`` is over its burst."""
    if not tenant or n <= 0:
        return
    if n > limits.burst:
        raise over_burst(tenant, limits, n)
    now = int(time.time() * 1000) if now_ms is None else now_ms
    call = rate_call(
        settings.namespace, tenant, now_ms=now, rate=limits.rate, burst=limits.burst, n=n
    )
    wait_ms = int(await Scripts(redis).run(call))
    if wait_ms:
        raise rate_limited(tenant, limits, wait_ms)


# Jobs not yet ended.


async def active_elsewhere(
    redis: Client, namespace: str, tenant: str, functions: Sequence[str], here: str
) -> int:
    """The tenant's jobs not yet ended in every function but ``here``, in one round trip
    (each function's count is in its own slot)."""
    others = [name for name in dict.fromkeys(functions) if name != here]
    if not tenant or not others:
        return 0
    keys = [keys_for(namespace, name).active for name in others]
    replies = await round_trip(redis, [_pack("HGET", key, tenant) for key in keys], keys)
    return sum(int(reply or 0) for reply in _checked(replies))


def quota_exceeded(tenant: str, count: int, limit: int, retry_after: int) -> QuotaExceededError:
    return QuotaExceededError(
        f"tenant {tenant} has {count} jobs not yet ended, its quota is {limit}",
        retry_after=max(1, retry_after),
        quota="jobs",
        limit=limit,
    )


# Bytes stored.


def window_hours(settings: Settings) -> int:
    """Hours after the one they were written in that stored bytes may still be kept."""
    return math.ceil(max(settings.result_ttl, settings.upload_ttl) / HOUR)


async def record_bytes(
    redis: Client,
    settings: Settings,
    function: str,
    tenant: str,
    n: int,
    now_s: float | None = None,
) -> None:
    """Count ``n`` bytes the tenant stored through ``function`` (an upload, a result, an
    artifact) in the current hour."""
    if not tenant or n <= 0:
        return
    hour = int((time.time() if now_s is None else now_s) // HOUR)
    window = window_hours(settings)
    key = keys_for(settings.namespace, function).stored(tenant)
    # Kept an hour past the last hour that counts: an idle tenant's hash goes by itself.
    commands = [_pack("HINCRBY", key, hour, n), _pack("EXPIRE", key, (window + 2) * HOUR)]
    total, _ = _checked(await round_trip(redis, commands, [key, key]))
    if total == n:
        # The hour's first bytes here: hours that left the window are dropped, once an hour
        # at most (a busy tenant's hash never expires).
        stale = [f for f in await redis.hkeys(key) if _hour(f) < hour - window]
        if stale:
            await redis.hdel(key, *stale)


async def stored_bytes(
    redis: Client,
    settings: Settings,
    tenant: str,
    functions: Sequence[str],
    now_s: float | None = None,
) -> int:
    """The bytes the tenant stored through ``functions`` that may still be kept."""
    now = time.time() if now_s is None else now_s
    return sum((await _stored_by_hour(redis, settings, tenant, functions, now)).values())


async def check_storage(
    redis: Client,
    settings: Settings,
    tenant: str,
    limits: Limits,
    functions: Sequence[str],
    incoming: int | None,
    now_s: float | None = None,
) -> int:
    """The bytes the tenant may still store (UNLIMITED for tenant ""): 507 when it is at
    its quota or ``incoming`` bytes (None: not known yet) would take it over, 413 when
    ``incoming`` alone is. An upload stream passing the bytes returned: call again with
    ``incoming`` = the bytes read, to raise the refusal with its Retry-After."""
    if not tenant:
        return UNLIMITED
    if incoming is not None and incoming > limits.bytes:
        raise PayloadTooLargeError(
            f"an upload of {incoming} bytes is over tenant {tenant}'s quota of"
            f" {limits.bytes} bytes stored",
            quota="bytes",
            limit=limits.bytes,
        )
    now = time.time() if now_s is None else now_s
    by_hour = await _stored_by_hour(redis, settings, tenant, functions, now)
    stored = sum(by_hour.values())
    # Bytes to be freed: to be under the quota, and to leave room for the upload.
    short = max(stored - limits.bytes + 1, stored - limits.bytes + (incoming or 0))
    if short <= 0:
        return limits.bytes - stored
    freed, retry_after = 0, 1
    for hour in sorted(by_hour):
        freed += by_hour[hour]
        if freed >= short:
            leaves_at = (hour + window_hours(settings) + 1) * HOUR
            retry_after = max(1, math.ceil(leaves_at - now))
            break
    full = incoming is None or stored >= limits.bytes
    upload = "" if full else f" and an upload of {incoming} bytes would pass"
    raise StorageQuotaError(
        f"tenant {tenant} stores {stored} bytes{upload}, its quota is {limits.bytes} bytes;"
        f" retry in {retry_after} s",
        retry_after=retry_after,
        quota="bytes",
        limit=limits.bytes,
    )


async def _stored_by_hour(
    redis: Client, settings: Settings, tenant: str, functions: Iterable[str], now: float
) -> dict[int, int]:
    """The tenant's bytes per hour of the window, over ``functions`` (hours without any
    left out)."""
    names = list(dict.fromkeys(functions))
    if not tenant or not names:
        return {}
    hour = int(now // HOUR)
    hours = list(range(hour - window_hours(settings), hour + 1))
    keys = [keys_for(settings.namespace, name).stored(tenant) for name in names]
    replies = await round_trip(redis, [_pack("HMGET", key, *hours) for key in keys], keys)
    totals: dict[int, int] = {}
    for values in _checked(replies):
        for at, value in zip(hours, values, strict=True):
            if value is not None and int(value) > 0:
                totals[at] = totals.get(at, 0) + int(value)
    return totals


def _hour(field: bytes | str) -> int:
    """A ``stored`` hash's field as its hour (one not ours counts as stale)."""
    try:
        return int(field)
    except ValueError:
        return -1


def _pack(*args: str | int) -> bytes:
    packed: bytes = hiredis.pack_command(args)  # type: ignore[arg-type]
    return packed


def _checked(replies: list[Any]) -> list[Any]:
    """The replies of a round trip, its first error raised."""
    for reply in replies:
        if isinstance(reply, Exception):
            raise reply
    return replies
