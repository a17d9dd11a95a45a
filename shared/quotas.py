"""Each tenant's quotas: jobs not yet ended, bytes stored, submissions per second.

The defaults are the settings' (QUOTA_JOBS, QUOTA_BYTES, QUOTA_RATE, QUOTA_BURST); an API
key may override any of them (its Quotas). Tenant "" (no keys configured, the admin key)
has no quota: every function here returns at once for it.

- **Jobs**: each function's ``active`` hash counts a tenant's jobs not yet ended, kept
  exact by submit.lua and the scripts that end jobs. submit.lua refuses a job when the
  count in its function plus ``active_elsewhere`` (the other functions', read just before)
  is at the quota; two submissions racing on two functions may pass it by one each.
- **Submissions per second**: a token bucket (lua/rate.lua) in a slot of the tenant's own.
- **Bytes** stored: shared/storage_quota.py.

Redis errors are raised as redis-py raises them; callers turn them into 503s as usual
(shared.redis.redis_errors).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Annotated, Any

import hiredis
import msgspec

from shared.errors import (
    InvalidInputError,
    PayloadTooLargeError,
    QuotaExceededError,
    RateLimitedError,
)
from shared.keys import keys_for
from shared.redis import Client
from shared.scripts import Scripts
from shared.settings import Settings
from shared.upkeep_calls import rate_call
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


def quota_exceeded(
    tenant: str, count: int, limit: int, retry_after: int, batch: int = 1
) -> QuotaExceededError:
    more = f": a batch of {batch} does not fit" if batch > 1 else ""
    return QuotaExceededError(
        f"tenant {tenant} has {count} jobs not yet ended, its quota is {limit}{more}",
        retry_after=max(1, retry_after),
        quota="jobs",
        limit=limit,
    )


def _pack(*args: str | int) -> bytes:
    packed: bytes = hiredis.pack_command(args)  # type: ignore[arg-type]
    return packed


def _checked(replies: list[Any]) -> list[Any]:
    """The replies of a round trip, its first error raised."""
    for reply in replies:
        if isinstance(reply, Exception):
            raise reply
    return replies
