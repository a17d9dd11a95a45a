"""Each tenant's quota of bytes stored: its uploads, results and artifacts.

Each function keeps a ledger per tenant (``stored:<tenant>``, a hash): bytes under the
hour (since the epoch, rounded up) by which they are gone, their key's expiry. Bytes
count until that hour has come, so a delayed job's upload, kept until it runs, counts as
long. An upload reserves its bytes before it is stored, atomically within its function
(reserve_bytes.lua: two uploads at once cannot both take the last room), then gives back
what it did not use; results and artifacts are counted when the job ends (complete.lua).
Two uploads racing to two functions may pass the quota by one upload each.

This over-counts: an upload is deleted when its job ends, but its bytes count until the
hour it could have been kept to; ``Retry-After`` says when enough hours will have passed.
Tenant "" (no keys configured, the admin key) has no quota.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Sequence
from typing import Any

import hiredis

from shared.errors import PayloadTooLargeError, StorageQuotaError
from shared.keys import keys_for
from shared.quotas import Limits
from shared.redis import Client
from shared.scripts import Scripts
from shared.upkeep_calls import reserve_bytes_call
from shared.wire import round_trip

HOUR = 3600


@dataclasses.dataclass(frozen=True)
class Reservation:
    """Bytes counted for an upload before it is stored: ``bytes`` under ``until_hour`` in
    the ledger ``key``."""

    key: str
    until_hour: int
    bytes: int
    ttl: int


def until_hour(now_s: float, keep_s: float) -> int:
    """The hour by which bytes written at ``now_s`` and kept ``keep_s`` are gone."""
    return math.ceil((now_s + keep_s) / HOUR)


async def stored_by_hour(
    redis: Client, namespace: str, tenant: str, functions: Sequence[str], now_s: float
) -> dict[int, int]:
    """The tenant's bytes still stored, by the hour they are gone, over ``functions``."""
    names = list(dict.fromkeys(functions))
    if not tenant or not names:
        return {}
    keys = [keys_for(namespace, name).stored(tenant) for name in names]
    replies = await round_trip(redis, [_pack("HGETALL", key) for key in keys], keys)
    now_hour, totals = int(now_s // HOUR), dict[int, int]()
    for reply in replies:
        if isinstance(reply, Exception):
            raise reply
        fields = (
            reply if isinstance(reply, dict) else dict(zip(reply[::2], reply[1::2], strict=True))
        )
        for field, value in fields.items():
            hour = _int(field)
            if hour > now_hour and int(value) > 0:
                totals[hour] = totals.get(hour, 0) + int(value)
    return totals


async def check(
    redis: Client,
    namespace: str,
    tenant: str,
    limits: Limits | None,
    functions: Sequence[str],
    incoming: int = 0,
    now_s: float | None = None,
) -> int:
    """The bytes the tenant may still store: 507 when it is at its quota or ``incoming``
    bytes would take it over, 413 when ``incoming`` alone is. No tenant or no limits: no
    quota (a very large number)."""
    if not tenant or limits is None:
        return 2**62
    if incoming > limits.bytes:
        raise PayloadTooLargeError(
            f"a document of {incoming} bytes is over tenant {tenant}'s quota of"
            f" {limits.bytes} bytes stored",
            quota="bytes",
            limit=limits.bytes,
        )
    now = time.time() if now_s is None else now_s
    by_hour = await stored_by_hour(redis, namespace, tenant, functions, now)
    stored = sum(by_hour.values())
    if stored < limits.bytes and stored + incoming <= limits.bytes:
        return limits.bytes - stored
    raise refusal(tenant, limits, by_hour, incoming, now)


def refusal(
    tenant: str, limits: Limits, by_hour: dict[int, int], incoming: int, now_s: float
) -> StorageQuotaError:
    """507, with a Retry-After of when enough bytes are gone for ``incoming`` to fit."""
    stored = sum(by_hour.values())
    short = max(stored - limits.bytes + 1, stored - limits.bytes + incoming)
    freed, retry_after = 0, HOUR
    for hour in sorted(by_hour):
        freed += by_hour[hour]
        if freed >= short:
            retry_after = max(1, math.ceil(hour * HOUR - now_s))
            break
    more = f" and {incoming} bytes more would pass" if incoming and stored < limits.bytes else ""
    return StorageQuotaError(
        f"tenant {tenant} stores {stored} bytes{more}, its quota is {limits.bytes} bytes;"
        f" retry in {retry_after} s",
        retry_after=retry_after,
        quota="bytes",
        limit=limits.bytes,
    )


async def reserve(
    redis: Client,
    namespace: str,
    tenant: str,
    limits: Limits,
    functions: Sequence[str],
    function: str,
    n: int,
    keep_s: float,
    now_s: float | None = None,
) -> Reservation:
    """Count ``n`` bytes about to be stored through ``function`` for ``keep_s`` seconds, if
    the tenant's quota holds them (StorageQuotaError, nothing counted, if not)."""
    now = time.time() if now_s is None else now_s
    others = [name for name in dict.fromkeys(functions) if name != function]
    elsewhere = await stored_by_hour(redis, namespace, tenant, others, now)
    key = keys_for(namespace, function).stored(tenant)
    hour = until_hour(now, keep_s)
    ttl = math.ceil(hour * HOUR - now) + 60
    call = reserve_bytes_call(
        key,
        now_hour=int(now // HOUR),
        until_hour=hour,
        bytes=n,
        limit=limits.bytes,
        elsewhere=sum(elsewhere.values()),
        ttl=ttl,
    )
    counted, _ = await Scripts(redis).run(call)
    if not counted:
        here = await stored_by_hour(redis, namespace, tenant, [function], now)
        raise refusal(tenant, limits, _merged(elsewhere, here), n, now)
    return Reservation(key, hour, n, ttl)


async def settle(redis: Client, reservation: Reservation, used: int) -> None:
    """Count what the upload used of its reservation (0: it was not stored after all)."""
    if used == reservation.bytes:
        return
    call = reserve_bytes_call(
        reservation.key,
        now_hour=0,  # drops nothing: only a correction
        until_hour=reservation.until_hour,
        bytes=used - reservation.bytes,
        limit=None,
        elsewhere=0,
        ttl=reservation.ttl,
    )
    await Scripts(redis).run(call)


def _merged(a: dict[int, int], b: dict[int, int]) -> dict[int, int]:
    return {hour: a.get(hour, 0) + b.get(hour, 0) for hour in {*a, *b}}


def _int(field: Any) -> int:
    try:
        return int(field)
    except ValueError:
        return -1


def _pack(*args: str | int) -> bytes:
    packed: bytes = hiredis.pack_command(args)  # type: ignore[arg-type]
    return packed
