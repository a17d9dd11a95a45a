"""The parts of tenant quotas (shared/quotas.py) against real Redis 6.2 and 7.0, and one
Redis Cluster: the token bucket of submissions, the jobs not yet ended elsewhere, the bytes
stored per hour and the storage check. Time is given (now_ms, now_s): nothing sleeps."""

from __future__ import annotations

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
    UNLIMITED,
    Limits,
    Quotas,
    active_elsewhere,
    check_storage,
    quota_exceeded,
    quotas_from,
    record_bytes,
    stored_bytes,
    take_submissions,
)
from shared.redis import Client, connect
from shared.script_calls import rate_call
from shared.scripts import run_batched
from shared.settings import Settings
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


@pytest.fixture
def hourly(settings: Settings) -> Settings:
    """Bytes kept two hours at most: the window is hours h-2..h."""
    return settings.replace(result_ttl=2 * HOUR, upload_ttl=HOUR)


async def record(redis: Client, settings: Settings, function: str, hour: int, n: int) -> None:
    await record_bytes(redis, settings, function, "acme", n, now_s=hour * HOUR + 5)


async def test_stored_bytes_count_the_hours_of_the_window(sluice: Sluice, hourly: Settings) -> None:
    redis = sluice.redis
    for function, hour, n in [
        ("work", 997, 50),
        ("work", 998, 100),
        ("crash", 999, 150),
        ("work", 999, 50),
        ("crash", 1000, 300),
    ]:
        await record(redis, hourly, function, hour, n)
    both = ["work", "crash"]
    assert await stored_bytes(redis, hourly, "acme", both, now_s=NOW_S) == 600
    assert await stored_bytes(redis, hourly, "acme", ["work"], now_s=NOW_S) == 150
    assert await stored_bytes(redis, hourly, "acme", both, now_s=NOW_S + HOUR) == 500
    assert await stored_bytes(redis, hourly, "acme", both, now_s=NOW_S + 3 * HOUR) == 0
    assert await stored_bytes(redis, hourly, "globex", both, now_s=NOW_S) == 0
    stored = keys_for(hourly.namespace, "work").stored("acme")
    # Kept an hour past the window after the last bytes.
    assert 3 * HOUR < await redis.ttl(stored) <= 4 * HOUR
    assert await redis.hgetall(stored) == {b"997": b"50", b"998": b"100", b"999": b"50"}
    # The first bytes of a new hour drop the hours that left the window.
    await record(redis, hourly, "work", 1001, 7)
    await record(redis, hourly, "work", 1001, 3)
    assert await redis.hgetall(stored) == {b"999": b"50", b"1001": b"10"}


async def test_check_storage_refuses_at_the_quota_with_a_retry_after(
    sluice: Sluice, hourly: Settings
) -> None:
    redis, limit, both = sluice.redis, limits(size=1000), ["work", "crash"]
    for function, hour, n in [("work", 998, 100), ("crash", 999, 200), ("work", 1000, 300)]:
        await record(redis, hourly, function, hour, n)

    async def check(incoming: int | None) -> int:
        return await check_storage(redis, hourly, "acme", limit, both, incoming, now_s=NOW_S)

    assert await check(None) == 400
    assert await check(400) == 400  # just fits
    with pytest.raises(StorageQuotaError) as refused:
        await check(401)
    # One byte short: hour 998 leaves the window at the start of hour 1001.
    error = refused.value
    assert (error.status_code, error.retry_after) == (507, 1001 * HOUR - NOW_S)
    assert error.details == {"quota": "bytes", "limit": 1000}
    assert error.message == (
        "tenant acme stores 600 bytes and an upload of 401 bytes would pass, its quota is"
        " 1000 bytes; retry in 3590 s"
    )
    with pytest.raises(StorageQuotaError) as refused:
        await check(700)  # 300 short: hours 998 and 999 must leave
    assert refused.value.retry_after == 1002 * HOUR - NOW_S
    with pytest.raises(PayloadTooLargeError) as too_large:
        await check(1001)
    assert too_large.value.status_code == 413
    assert too_large.value.details == {"quota": "bytes", "limit": 1000}

    await record(redis, hourly, "crash", 1000, 400)  # at the quota now
    for incoming in (0, 1, None):
        with pytest.raises(StorageQuotaError) as refused:
            await check(incoming)
        assert refused.value.retry_after == 1001 * HOUR - NOW_S
    assert "stores 1000 bytes, its quota is 1000 bytes" in refused.value.message
    later = await check_storage(redis, hourly, "acme", limit, both, None, now_s=1001 * HOUR)
    assert later == 100


async def test_tenant_none_has_no_quota(sluice: Sluice, settings: Settings) -> None:
    redis, tight = sluice.redis, limits(rate=0.001, burst=1, size=1)
    for _ in range(3):
        await take_submissions(redis, settings, "", tight, 1, now_ms=T0)
    await record_bytes(redis, settings, "work", "", 10_000, now_s=NOW_S)
    assert await check_storage(redis, settings, "", tight, ["work"], 10_000) == UNLIMITED
    assert await stored_bytes(redis, settings, "", ["work"]) == 0
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
    for hour, function in enumerate(functions, start=999):
        await record_bytes(redis, settings, function, "acme", 100, now_s=hour * HOUR)
        await redis.hset(keys_for(settings.namespace, function).active, "acme", hour - 998)
    ns, limit = settings.namespace, limits(rate=1, burst=2, size=1000)
    assert await active_elsewhere(redis, ns, "acme", functions, "crash") == 5
    assert await stored_bytes(redis, settings, "acme", functions, now_s=NOW_S + HOUR) == 300
    remaining = await check_storage(redis, settings, "acme", limit, functions, 700, NOW_S + HOUR)
    assert remaining == 700
    await take_submissions(redis, settings, "acme", limit, 2, now_ms=T0)
    with pytest.raises(RateLimitedError):
        await take_submissions(redis, settings, "acme", limit, 1, now_ms=T0)
