"""Tenants are isolated from each other: a job records its tenant, which another tenant
cannot see or touch (not found, exactly as a job that does not exist); Idempotency-Keys
are per tenant; dead letters and follow-ups carry the tenant of their job. Through the
Python API and in-process workers (the HTTP side maps these errors to 404).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
import pytest
import redis

from shared.client import Sluice
from shared.errors import IdempotencyKeyReusedError, JobNotFoundError
from shared.jobs import now_iso
from shared.keys import function_of, keys_for, new_job_id
from shared.script_calls import cancel_call
from shared.scripts import Scripts
from shared.settings import Settings
from tests.helpers import wait_for_status
from tests.inprocess import run_burst, serving


async def not_found(call: Awaitable[Any]) -> dict[str, Any]:
    """The error a call raised, which must be JobNotFoundError itself, as its body."""
    with pytest.raises(JobNotFoundError) as caught:
        await call
    assert type(caught.value) is JobNotFoundError
    return caught.value.to_dict()


async def assert_hidden(sluice: Sluice, job_id: str, tenant: str) -> None:
    """Every read of the job as ``tenant`` fails as for an id that names no job."""
    missing = new_job_id(function_of(job_id) or "")

    def as_job(body: dict[str, Any]) -> dict[str, Any]:
        text = msgspec.json.encode(body).decode().replace(missing, job_id)
        return msgspec.json.decode(text)  # type: ignore[no-any-return]

    reads: list[Callable[[str], Awaitable[Any]]] = [
        lambda job: sluice.status(job, tenant=tenant),
        lambda job: sluice.result(job, tenant=tenant),
        lambda job: sluice.artifact(job, "page-1.bin", tenant=tenant),
        lambda job: sluice.wait(job, timeout=5, tenant=tenant),
        lambda job: sluice.cancel(job, tenant=tenant),
    ]
    for read in reads:
        assert await not_found(read(job_id)) == as_job(await not_found(read(missing)))


async def test_a_job_records_its_tenant_which_its_status_does_not_show(
    sluice: Sluice, sync_redis: redis.Redis, namespace: str
) -> None:
    keys = keys_for(namespace, "echo")
    acme = await sluice.submit("echo", {"n": 1}, tenant="acme")
    assert sync_redis.hget(keys.job(acme.job_id), "tenant") == b"acme"
    shown = msgspec.json.encode(await sluice.status(acme.job_id, tenant="acme"))
    assert b"acme" not in shown and b"tenant" not in shown
    # Auth off: no tenant, the hash as it was before tenants.
    open_job = await sluice.submit("echo", {"n": 1})
    assert not sync_redis.hexists(keys.job(open_job.job_id), "tenant")
    assert (await sluice.status(open_job.job_id, tenant="")).job_id == open_job.job_id


async def test_another_tenant_cannot_read_a_job_or_learn_that_it_exists(
    sluice: Sluice, settings: Settings
) -> None:
    job = await sluice.submit("pages", {"count": 1, "size": 8}, tenant="acme")
    await run_burst(settings, "pages")
    for other in ("globex", ""):
        await assert_hidden(sluice, job.job_id, other)
    # Its own tenant and an admin (any tenant) see it all.
    for tenant in ("acme", None):
        assert (await sluice.status(job.job_id, tenant=tenant)).status == "succeeded"
        assert (await sluice.result(job.job_id, tenant=tenant))["pages"] == ["page-1.bin"]
        assert (await sluice.artifact(job.job_id, "page-1.bin", tenant=tenant))[1] == b"a" * 8
        assert (await sluice.wait(job.job_id, timeout=5, tenant=tenant)).status == "succeeded"
    # A job of no tenant is not another tenant's either.
    open_job = await sluice.submit("echo", {})
    await assert_hidden(sluice, open_job.job_id, "acme")


async def test_cancel_of_another_tenants_queued_job_leaves_it_untouched(
    sluice: Sluice, sync_redis: redis.Redis, namespace: str, settings: Settings
) -> None:
    keys = keys_for(namespace, "work")
    job = await sluice.submit("work", {}, tenant="acme", idempotency_key="q-1")
    before = sync_redis.hgetall(keys.job(job.job_id))
    await not_found(sluice.cancel(job.job_id, tenant="globex"))
    # The script itself refuses it: no read before it decides.
    call = cancel_call(
        keys, job_id=job.job_id, idempotency_key="", now=now_iso(), result_ttl=60, tenant="globex"
    )
    assert await Scripts(sluice.redis).run(call) == [b"missing"]
    assert sync_redis.hgetall(keys.job(job.job_id)) == before
    assert sync_redis.xlen(keys.stream) == 1
    assert sync_redis.ttl(keys.job(job.job_id)) == -1
    assert (await sluice.cancel(job.job_id, tenant="acme")).status == "cancelled"
    admin_cancels = await sluice.submit("work", {}, tenant="acme")
    assert (await sluice.cancel(admin_cancels.job_id)).status == "cancelled"


async def test_cancel_of_another_tenants_running_job_leaves_it_running(
    sluice: Sluice, sync_redis: redis.Redis, namespace: str, settings: Settings
) -> None:
    keys = keys_for(namespace, "work")
    async with serving(settings, "work", concurrency=1):
        job = await sluice.submit("work", {"seconds": 30}, tenant="acme")
        await wait_for_status(sluice, job.job_id, "running")
        await not_found(sluice.cancel(job.job_id, tenant="globex"))
        assert not sync_redis.hexists(keys.job(job.job_id), "cancel")
        assert (await sluice.status(job.job_id)).status == "running"
        assert (await sluice.cancel(job.job_id, tenant="acme")).status == "running"
        assert (await sluice.wait(job.job_id, timeout=10)).status == "cancelled"


async def test_idempotency_keys_are_per_tenant(
    sluice: Sluice, sync_redis: redis.Redis, namespace: str, settings: Settings
) -> None:
    keys = keys_for(namespace, "echo")
    acme = await sluice.submit("echo", {"n": 1}, idempotency_key="order-42", tenant="acme")
    globex = await sluice.submit("echo", {"n": 2}, idempotency_key="order-42", tenant="globex")
    open_job = await sluice.submit("echo", {"n": 3}, idempotency_key="order-42")
    assert len({acme.job_id, globex.job_id, open_job.job_id}) == 3
    assert not (acme.replayed or globex.replayed or open_job.replayed)
    # Each tenant's retry gets its own job; another request under its key is refused.
    again = await sluice.submit("echo", {"n": 1}, idempotency_key="order-42", tenant="acme")
    assert again.job_id == acme.job_id and again.replayed
    with pytest.raises(IdempotencyKeyReusedError):
        await sluice.submit("echo", {"n": 9}, idempotency_key="order-42", tenant="acme")
    # The key names: tenant "" keeps the names from before tenants.
    assert sync_redis.get(keys.idempotency("order-42")) == open_job.job_id.encode()
    assert sync_redis.get(keys.idempotency("acme order-42")) == acme.job_id.encode()
    assert sync_redis.get(keys.idempotency("globex order-42")) == globex.job_id.encode()
    assert sync_redis.get(f"{namespace}:idem:acme order-42") == b"echo"
    # Which function holds a key is per tenant too: another's use of it is no reuse.
    other_function = await sluice.submit("work", {}, idempotency_key="w-1", tenant="acme")
    await sluice.submit("echo", {}, idempotency_key="w-1", tenant="globex")
    with pytest.raises(IdempotencyKeyReusedError):
        await sluice.submit("echo", {}, idempotency_key="w-1", tenant="acme")
    await sluice.cancel(other_function.job_id, tenant="acme")
    # The tenant's key expires with its job (the consumer names it as the submit did).
    await run_burst(settings, "echo")
    assert 0 < sync_redis.ttl(keys.idempotency("acme order-42")) <= settings.result_ttl


async def test_a_dead_letter_records_the_tenant(
    sluice: Sluice, sync_redis: redis.Redis, namespace: str, settings: Settings
) -> None:
    acme = await sluice.submit("doomed", {}, tenant="acme")
    open_job = await sluice.submit("doomed", {})
    await run_burst(settings, "doomed")
    entries: Any = sync_redis.xrange(keys_for(namespace, "doomed").dead)
    letters = {fields[b"job_id"].decode(): fields for _, fields in entries}
    assert letters[acme.job_id][b"tenant"] == b"acme"
    assert b"tenant" not in letters[open_job.job_id]  # as before tenants


async def test_a_follow_up_belongs_to_the_tenant_of_the_job_before_it(
    sluice: Sluice, sync_redis: redis.Redis, namespace: str, settings: Settings
) -> None:
    """Queued with the result (the relay), ended because the job before it failed (the
    relay, from the outbox) or was cancelled (by its tenant or by an admin): acme's."""
    ran = await sluice.submit("echo", {"n": 1}, then=["echo"], tenant="acme")
    failed = await sluice.submit("doomed", {}, then=["echo"], tenant="acme")
    cancelled = await sluice.submit("work", {}, then=["echo"], tenant="acme")
    by_admin = await sluice.submit("work", {}, then=["echo"], tenant="acme")
    await sluice.cancel(cancelled.job_id, tenant="acme")
    await sluice.cancel(by_admin.job_id)
    async with serving(settings, "echo", "doomed"):
        ends: dict[str, list[str]] = {}
        for job in (ran, failed, cancelled, by_admin):
            assert job.next_job_id is not None
            done = await sluice.wait(job.next_job_id, timeout=20, missing_ok=True, tenant="acme")
            ends[job.function] = ends.get(job.function, []) + [done.status]
            key = keys_for(namespace, "echo").job(job.next_job_id)
            assert sync_redis.hget(key, "tenant") == b"acme"
            await assert_hidden(sluice, job.next_job_id, "globex")
    assert ends == {"echo": ["succeeded"], "doomed": ["cancelled"], "work": ["cancelled"] * 2}
