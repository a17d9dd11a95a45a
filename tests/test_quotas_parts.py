"""The parts of tenant quotas (shared/quotas.py, shared/storage_quota.py) against real
Redis 6.2 and 7.0, and one Redis Cluster: the token bucket of submissions, the jobs not yet
ended elsewhere, the ledger of bytes stored and its reservations. Time is given (now_ms,
now_s): nothing sleeps."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

from shared.client import Sluice
from shared.errors import (
    InvalidInputError,
    PayloadTooLargeError,
    RateLimitedError,
    StorageQuotaError,
)
from shared.keys import keys_for, tenant_rate
from shared.quotas import (
    Limits,
    Quotas,
    active_elsewhere,
    quota_exceeded,
    quotas_from,
    take_submissions,
)
from shared.redis import Client, connect
from shared.scripts import run_batched
from shared.settings import Settings
from shared.storage_quota import Reservation, check, reserve, settle, stored_by_hour
from shared.upkeep_calls import rate_call
from tests.cluster import LocalCluster
from tests.conftest import _binary

T0 = 1_700_000_000_000  # ms: any fixed instant
# Hour 1000 since the epoch, and a little into it.
HOUR = 3600
NOW_S = 1000 * HOUR + 10.0


def limits(*, rate: float = 10, burst: int = 5, jobs: int = 10, size: int = 1000) -> Limits:
    return Limits(jobs=jobs, bytes=size, rate=rate, burst=burst)


def test_effective_quotas_fill_in_the_settings_defaults(settings: Settings) -> None:
    assert Quotas().effective(settings) == Limits(
        jobs=settings.quota_jobs,
        bytes=settings.quota_bytes,
        rate=settings.quota_rate,
        burst=settings.quota_burst,
    )
    assert Quotas(jobs=3, rate=0.5).effective(settings) == Limits(
        jobs=3, bytes=settings.quota_bytes, rate=0.5, burst=settings.quota_burst
    )


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ({"rate": 0}, "$.quotas.rate"),
        ({"jobs": -1}, "$.quotas.jobs"),
        ({"bytes": 1.5}, "$.quotas.bytes"),
        ({"burst": "ten"}, "$.quotas.burst"),
        ({"job": 10}, "$.quotas.job"),
        ([1], "$.quotas"),
    ],
)
def test_bad_quotas_name_the_field(value: object, field: str) -> None:
    with pytest.raises(InvalidInputError) as refused:
        quotas_from(value)
    assert refused.value.details == {"field": field}


def test_quotas_from_takes_what_json_gives() -> None:
    given = {"jobs": 10, "bytes": 1_000_000, "rate": 5, "burst": 10}
    assert quotas_from(given) == Quotas(jobs=10, bytes=1_000_000, rate=5.0, burst=10)
    assert quotas_from({}) == Quotas()


async def test_the_bucket_refuses_past_its_burst_and_refills(
    sluice: Sluice, settings: Settings
) -> None:
    tenant, limit = "acme", limits(rate=10, burst=5)
    for _ in range(5):
        await take_submissions(sluice.redis, settings, tenant, limit, 1, now_ms=T0)
    with pytest.raises(RateLimitedError) as refused:
        await take_submissions(sluice.redis, settings, tenant, limit, 1, now_ms=T0 + 50)
    error = refused.value
    assert error.status_code == 429 and error.retry_after == 1
    assert error.details == {"quota": "rate", "limit": 10.0}
    assert error.message == (
        "tenant acme submits over its quota of 10 jobs per second (burst 5); retry in 1 s"
    )
    # One token a tenth of a second: at T0 + 100 ms one is back, and taken.
    await take_submissions(sluice.redis, settings, tenant, limit, 1, now_ms=T0 + 100)
    with pytest.raises(RateLimitedError):
        await take_submissions(sluice.redis, settings, tenant, limit, 1, now_ms=T0 + 100)
    # Long idle: full again, no more than the burst.
    await take_submissions(sluice.redis, settings, tenant, limit, 5, now_ms=T0 + 60_000)
    with pytest.raises(RateLimitedError):
        await take_submissions(sluice.redis, settings, tenant, limit, 1, now_ms=T0 + 60_000)


async def test_the_script_says_how_long_until_the_tokens_are_there(
    sluice: Sluice, settings: Settings
) -> None:
    """Calls of one bucket batch into one EVALSHA; each says 0 (taken) or the ms to wait."""
    call = rate_call(settings.namespace, "acme", now_ms=T0, rate=2.0, burst=4, n=3)
    later = rate_call(settings.namespace, "acme", now_ms=T0 + 250, rate=2.0, burst=4, n=3)
    # After 3 of 4 taken: 1.5 left at +250 ms, 1.5 more take 750 ms at 2 a second.
    assert await run_batched(sluice.redis, [call, later]) == [0, 750]
    slow = limits(rate=0.1, burst=4)
    with pytest.raises(RateLimitedError) as refused:
        await take_submissions(sluice.redis, settings, "acme", slow, 4, now_ms=T0 + 250)
    # 1 token left at T0 (the refusal took nothing) and 0.025 since: 2.975 more at one
    # per 10 s, rounded up.
    assert refused.value.retry_after == 30


async def test_a_batch_takes_all_its_tokens_or_none(sluice: Sluice, settings: Settings) -> None:
    tenant, limit = "acme", limits(rate=10, burst=5)
    await take_submissions(sluice.redis, settings, tenant, limit, 3, now_ms=T0)
    with pytest.raises(RateLimitedError):
        await take_submissions(sluice.redis, settings, tenant, limit, 3, now_ms=T0)
    # The refused batch took nothing: the two left are there.
    await take_submissions(sluice.redis, settings, tenant, limit, 2, now_ms=T0)
    with pytest.raises(RateLimitedError):
        await take_submissions(sluice.redis, settings, tenant, limit, 1, now_ms=T0)


async def test_a_batch_over_the_burst_is_413_and_touches_nothing(
    sluice: Sluice, settings: Settings
) -> None:
    with pytest.raises(PayloadTooLargeError) as refused:
        await take_submissions(sluice.redis, settings, "acme", limits(burst=5), 6, now_ms=T0)
    assert refused.value.status_code == 413
    assert refused.value.details == {"quota": "burst", "limit": 5}
    assert "burst of 5" in refused.value.message
    assert await sluice.redis.exists(tenant_rate(settings.namespace, "acme")) == 0


async def test_the_bucket_expires_once_it_would_be_full(sluice: Sluice, settings: Settings) -> None:
    bucket = tenant_rate(settings.namespace, "acme")
    await take_submissions(sluice.redis, settings, "acme", limits(rate=1, burst=100), 50, T0)
    assert 49_000 < await sluice.redis.pttl(bucket) <= 50_000  # 50 tokens at 1 a second
    assert await sluice.redis.hgetall(bucket) == {b"tokens": b"50", b"at_ms": str(T0).encode()}
    other = tenant_rate(settings.namespace, "globex")
    await take_submissions(sluice.redis, settings, "globex", limits(rate=1000, burst=10), 1, T0)
    assert 0 < await sluice.redis.pttl(other) <= 1000  # a full second at the least


async def test_a_clock_behind_refills_nothing(sluice: Sluice, settings: Settings) -> None:
    limit = limits(rate=10, burst=2)
    await take_submissions(sluice.redis, settings, "acme", limit, 2, now_ms=T0)
    with pytest.raises(RateLimitedError):
        await take_submissions(sluice.redis, settings, "acme", limit, 1, now_ms=T0 - 5_000)
    await take_submissions(sluice.redis, settings, "acme", limit, 1, now_ms=T0 + 100)


async def test_jobs_not_yet_ended_elsewhere_are_summed(sluice: Sluice, settings: Settings) -> None:
    for function, count in (("work", 2), ("crash", 3), ("spin", 1)):
        for n in range(count):
            await sluice.submit(function, {"seconds": n}, tenant="acme")
    await sluice.submit("work", {}, tenant="globex")
    functions = ["work", "crash", "spin", "pages"]
    ns = settings.namespace
    assert await active_elsewhere(sluice.redis, ns, "acme", functions, "work") == 4
    assert await active_elsewhere(sluice.redis, ns, "acme", functions, "crash") == 3
    assert await active_elsewhere(sluice.redis, ns, "acme", [*functions, "spin"], "pages") == 6
    assert await active_elsewhere(sluice.redis, ns, "globex", functions, "crash") == 1
    assert await active_elsewhere(sluice.redis, ns, "initech", functions, "work") == 0
    assert await active_elsewhere(sluice.redis, ns, "acme", ["work"], "work") == 0


def test_the_jobs_refusal_names_the_quota() -> None:
    error = quota_exceeded("acme", 10, 10, retry_after=0)
    assert (error.status_code, error.type, error.retry_after) == (429, "quota_exceeded", 1)
    assert error.message == "tenant acme has 10 jobs not yet ended, its quota is 10"
    assert error.details == {"quota": "jobs", "limit": 10}


async def ledger(redis: Client, settings: Settings, function: str, n: int, gone_hour: int) -> None:
    """``n`` bytes of acme's through ``function`` that are gone at ``gone_hour``."""
    await reserve(
        redis,
        settings.namespace,
        "acme",
        limits(size=10**9),
        [function],
        function,
        n,
        keep_s=gone_hour * HOUR - NOW_S,
        now_s=NOW_S,
    )


async def test_bytes_count_until_the_hour_they_are_gone(sluice: Sluice, settings: Settings) -> None:
    redis, ns, both = sluice.redis, settings.namespace, ["work", "crash"]
    for function, gone, n in [("work", 1001, 100), ("crash", 1002, 200), ("work", 1003, 300)]:
        await ledger(redis, settings, function, n, gone)
    assert await stored_by_hour(redis, ns, "acme", both, NOW_S) == {1001: 100, 1002: 200, 1003: 300}
    assert await stored_by_hour(redis, ns, "acme", ["work"], NOW_S) == {1001: 100, 1003: 300}
    # At hour 1001 its bytes are gone; at 1003 all are.
    assert await stored_by_hour(redis, ns, "acme", both, 1001 * HOUR) == {1002: 200, 1003: 300}
    assert await stored_by_hour(redis, ns, "acme", both, 1003 * HOUR + 1) == {}
    assert await stored_by_hour(redis, ns, "globex", both, NOW_S) == {}
    work = keys_for(ns, "work").stored("acme")
    # The ledger lives as long as its last bytes (and a minute), never shortened.
    assert 3 * HOUR - 10 < await redis.ttl(work) <= 3 * HOUR + 60
    await ledger(redis, settings, "work", 1, 1001)
    assert 3 * HOUR - 10 < await redis.ttl(work) <= 3 * HOUR + 60


async def test_check_refuses_at_the_quota_with_a_retry_after(
    sluice: Sluice, settings: Settings
) -> None:
    redis, ns, both, limit = sluice.redis, settings.namespace, ["work", "crash"], limits(size=1000)
    for function, gone, n in [("work", 1001, 100), ("crash", 1002, 200), ("work", 1003, 300)]:
        await ledger(redis, settings, function, n, gone)

    async def room(incoming: int = 0) -> int:
        return await check(redis, ns, "acme", limit, both, incoming, now_s=NOW_S)

    assert await room() == 400 and await room(400) == 400
    with pytest.raises(StorageQuotaError) as refused:
        await room(401)  # one byte short: hour 1001's bytes must be gone
    assert (refused.value.status_code, refused.value.retry_after) == (507, 1001 * HOUR - NOW_S)
    assert refused.value.details == {"quota": "bytes", "limit": 1000}
    assert "stores 600 bytes and 401 bytes more would pass" in refused.value.message
    with pytest.raises(StorageQuotaError) as refused:
        await room(700)  # 300 short: hours 1001 and 1002
    assert refused.value.retry_after == 1002 * HOUR - NOW_S
    with pytest.raises(PayloadTooLargeError) as too_large:
        await room(1001)
    assert too_large.value.details == {"quota": "bytes", "limit": 1000}
    await ledger(redis, settings, "crash", 400, 1004)  # at the quota: even 0 more is refused
    with pytest.raises(StorageQuotaError):
        await room()
    assert await check(redis, ns, "acme", limit, both, 0, now_s=1001 * HOUR) == 100


async def test_reservations_at_once_take_the_last_room_once(
    sluice: Sluice, settings: Settings
) -> None:
    """Ten uploads of 4 reserving at once against a quota of 10: two fit, eight are
    refused, whatever their order."""
    ns, limit = settings.namespace, limits(size=10)
    outcomes = await asyncio.gather(
        *(
            reserve(sluice.redis, ns, "acme", limit, ["work"], "work", 4, HOUR, now_s=NOW_S)
            for _ in range(10)
        ),
        return_exceptions=True,
    )
    assert sum(isinstance(o, Reservation) for o in outcomes) == 2
    assert sum(isinstance(o, StorageQuotaError) for o in outcomes) == 8
    # What an upload did not use is given back; one never stored gives back all.
    first, second = (o for o in outcomes if isinstance(o, Reservation))
    await settle(sluice.redis, first, 1)
    await settle(sluice.redis, second, 0)
    assert await stored_by_hour(sluice.redis, ns, "acme", ["work"], NOW_S) == {1002: 1}


async def test_tenant_none_has_no_quota(sluice: Sluice, settings: Settings) -> None:
    redis, tight = sluice.redis, limits(rate=0.001, burst=1, size=1)
    for _ in range(3):
        await take_submissions(redis, settings, "", tight, 1, now_ms=T0)
    assert await check(redis, settings.namespace, "", tight, ["work"], 10_000) > 10**12
    assert await stored_by_hour(redis, settings.namespace, "", ["work"], NOW_S) == {}
    assert await active_elsewhere(redis, settings.namespace, "", ["work", "crash"], "work") == 0
    assert await redis.keys(f"{settings.namespace}:*") == []


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    local = LocalCluster(_binary("7.0"), tmp_path_factory.mktemp("cluster"), replicas=0)
    local.start()
    yield local
    local.stop()


@pytest.fixture
async def on_cluster(
    cluster: LocalCluster, settings: Settings
) -> AsyncIterator[tuple[Client, Settings]]:
    cluster_settings = settings.replace(redis_url=cluster.url, redis_cluster=True)
    async with connect(cluster.url, cluster=True) as redis:
        yield redis, cluster_settings


@pytest.mark.any_redis
async def test_every_part_works_on_a_cluster(on_cluster: tuple[Client, Settings]) -> None:
    """The functions' keys are in slots of three masters, the bucket in one of its own."""
    redis, settings = on_cluster
    functions = ["crash", "work", "async_work"]  # slots on three different masters
    for count, function in enumerate(functions, start=1):
        await ledger(redis, settings, function, 100, 1002)
        await redis.hset(keys_for(settings.namespace, function).active, "acme", count)
    ns, limit = settings.namespace, limits(rate=1, burst=2, size=1000)
    assert await active_elsewhere(redis, ns, "acme", functions, "crash") == 5
    assert await stored_by_hour(redis, ns, "acme", functions, NOW_S) == {1002: 300}
    assert await check(redis, ns, "acme", limit, functions, 700, now_s=NOW_S) == 700
    with pytest.raises(StorageQuotaError):
        await reserve(redis, ns, "acme", limit, functions, "work", 701, HOUR, now_s=NOW_S)
    await take_submissions(redis, settings, "acme", limit, 2, now_ms=T0)
    with pytest.raises(RateLimitedError):
        await take_submissions(redis, settings, "acme", limit, 1, now_ms=T0)
