"""Quotas per tenant, through the real gateway (uvicorn) and consumers: jobs not yet
ended, submissions per second, bytes stored. Each test tries to exceed one; a tenant at
its limit gets 429/413/507 naming the quota, and another tenant keeps submitting and
getting results."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import redis

from shared.keys import keys_for
from tests.conftest import Proc

ADMIN = "admin-secret-for-quota-tests"
GLOBEX = "globex-secret-for-quota-tests"
PNG = b"\x89PNG\r\n\x1a\n"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
async def gateway(start_gateway: Callable[..., str]) -> AsyncIterator[httpx.AsyncClient]:
    """A keyed gateway: the admin key, and globex's key with the default quotas."""
    url = start_gateway(SLUICE_ADMIN_KEY=ADMIN, SLUICE_API_KEYS=f"globex={GLOBEX}")
    async with httpx.AsyncClient(base_url=url, timeout=20) as client:
        yield client


async def acme_key(http: httpx.AsyncClient, **quotas: float) -> dict[str, str]:
    """A new key of tenant acme with ``quotas``, as its Authorization header."""
    reply = await http.post(
        "/v1/admin/keys",
        json={"tenant": "acme", "scopes": ["submit", "read"], "quotas": quotas},
        headers=bearer(ADMIN),
    )
    assert reply.status_code == 201, reply.text
    return bearer(reply.json()["key"])


def refused(reply: httpx.Response, status: int, error_type: str, quota: str) -> str:
    assert reply.status_code == status, reply.text
    error = reply.json()["error"]
    assert error["type"] == error_type and error["quota"] == quota, error
    return str(error["message"])


async def another_tenant_still_works(http: httpx.AsyncClient) -> None:
    """globex submits and gets its result while acme is held at its limit."""
    reply = await http.post("/v1/jobs/echo", json={"from": "globex"}, headers=bearer(GLOBEX))
    assert reply.status_code == 202, reply.text
    done = await final(http, reply.json()["status_url"], bearer(GLOBEX))
    assert done["result"] == {"from": "globex"}


async def final(http: httpx.AsyncClient, status_url: str, headers: dict[str, str]) -> Any:
    """The job's status once it has ended (long polls)."""
    done = await http.get(f"{status_url}?wait=20", headers=headers)
    while done.json()["status"] not in ("succeeded", "failed", "cancelled"):
        done = await http.get(f"{status_url}?wait=20", headers=headers)
    return done.json()


async def test_jobs_not_yet_ended_are_held_to_the_quota_under_concurrent_submissions(
    gateway: httpx.AsyncClient, start_consumer: Callable[..., Proc]
) -> None:
    acme = await acme_key(gateway, jobs=5)
    # No consumer of `work`: acme's jobs stay queued. Twenty at once, five accepted.
    replies = await asyncio.gather(
        *(gateway.post("/v1/jobs/work", json={}, headers=acme) for _ in range(20))
    )
    accepted = [reply for reply in replies if reply.status_code == 202]
    assert len(accepted) == 5, [reply.text for reply in replies]
    over = next(reply for reply in replies if reply.status_code != 202)
    message = refused(over, 429, "quota_exceeded", "jobs")
    assert "acme" in message and "quota is 5" in message
    assert int(over.headers["retry-after"]) >= 1
    # Delayed jobs and batches count too; another function's jobs count with these.
    refused(
        await gateway.post("/v1/jobs/echo?delay=60", json={}, headers=acme),
        429,
        "quota_exceeded",
        "jobs",
    )
    refused(
        await gateway.post("/v1/jobs/echo/batch", json=[{}], headers=acme),
        429,
        "quota_exceeded",
        "jobs",
    )
    start_consumer("echo")
    await another_tenant_still_works(gateway)
    # A job that ends makes room again.
    cancelled = await gateway.delete(accepted[0].json()["status_url"], headers=acme)
    assert cancelled.status_code == 200, cancelled.text
    assert (await gateway.post("/v1/jobs/work", json={}, headers=acme)).status_code == 202


async def test_submissions_per_second_are_a_token_bucket(
    gateway: httpx.AsyncClient, start_consumer: Callable[..., Proc]
) -> None:
    acme = await acme_key(gateway, rate=0.5, burst=3)
    codes = [
        (await gateway.post("/v1/jobs/echo", json={}, headers=acme)).status_code for _ in range(3)
    ]
    assert codes == [202, 202, 202]
    over = await gateway.post("/v1/jobs/echo", json={}, headers=acme)
    message = refused(over, 429, "rate_limited", "rate")
    assert "acme" in message and int(over.headers["retry-after"]) >= 1
    # A batch over the bucket's size could never pass: 413, not a 429 to retry.
    batch = await gateway.post("/v1/jobs/echo/batch", json=[{}] * 4, headers=acme)
    refused(batch, 413, "payload_too_large", "burst")
    start_consumer("echo")
    await another_tenant_still_works(gateway)


async def test_bytes_stored_are_refused_before_the_upload_is_stored(
    gateway: httpx.AsyncClient,
    start_consumer: Callable[..., Proc],
    sync_redis: redis.Redis,
    namespace: str,
) -> None:
    acme = await acme_key(gateway, bytes=3000)
    uploads = keys_for(namespace, "digest").upload("*")
    png = {**acme, "content-type": "image/png"}
    # One document over the whole quota: 413, whatever else is stored.
    reply = await gateway.post("/v1/jobs/digest", content=PNG + b"\0" * 4000, headers=png)
    assert "3000" in refused(reply, 413, "payload_too_large", "bytes")
    assert (
        await gateway.post("/v1/jobs/digest", content=PNG + b"\0" * 2000, headers=png)
    ).status_code == 202
    # Declared (Content-Length) or not (chunked), a document past what is left: 507.
    reply = await gateway.post("/v1/jobs/digest", content=PNG + b"\0" * 1500, headers=png)
    assert "acme" in refused(reply, 507, "storage_quota_exceeded", "bytes")
    assert int(reply.headers["retry-after"]) >= 1

    async def chunked() -> AsyncIterator[bytes]:
        yield PNG
        for _ in range(15):
            yield b"\0" * 100

    reply = await gateway.post("/v1/jobs/digest", content=chunked(), headers=png)
    refused(reply, 507, "storage_quota_exceeded", "bytes")
    assert len(list(sync_redis.scan_iter(uploads))) == 1  # only the accepted one is stored
    start_consumer("echo")
    await another_tenant_still_works(gateway)


async def test_results_count_against_the_bytes_quota(
    gateway: httpx.AsyncClient,
    start_consumer: Callable[..., Proc],
    sync_redis: redis.Redis,
    namespace: str,
) -> None:
    acme = await acme_key(gateway, bytes=2000)
    start_consumer("echo")
    reply = await gateway.post("/v1/jobs/echo", json={"pad": "x" * 1500}, headers=acme)
    assert reply.status_code == 202, reply.text
    assert (await final(gateway, reply.json()["status_url"], acme))["status"] == "succeeded"
    stored = sync_redis.hvals(keys_for(namespace, "echo").stored("acme"))
    assert sum(int(value) for value in stored) >= 1500
    # The result took most of the quota: a document of 1000 bytes no longer fits.
    png = {**acme, "content-type": "image/png"}
    reply = await gateway.post("/v1/jobs/digest", content=PNG + b"\0" * 1000, headers=png)
    refused(reply, 507, "storage_quota_exceeded", "bytes")
    # Another result takes it over the quota: then nothing more is taken, JSON included.
    reply = await gateway.post("/v1/jobs/echo", json={"pad": "x" * 600}, headers=acme)
    assert reply.status_code == 202, reply.text
    assert (await final(gateway, reply.json()["status_url"], acme))["status"] == "succeeded"
    reply = await gateway.post("/v1/jobs/echo", json={}, headers=acme)
    refused(reply, 507, "storage_quota_exceeded", "bytes")
    refused(
        await gateway.post("/v1/jobs/echo/batch", json=[{}], headers=acme),
        507,
        "storage_quota_exceeded",
        "bytes",
    )
    await another_tenant_still_works(gateway)


async def test_uploads_at_once_cannot_share_the_last_room(
    gateway: httpx.AsyncClient, sync_redis: redis.Redis, namespace: str
) -> None:
    """The issue's ten uploads at once: each reserves its bytes before it is stored, so of
    ten 4,000-byte documents against a quota of 10,000 two are taken."""
    acme = await acme_key(gateway, bytes=10_000)
    png = {**acme, "content-type": "image/png"}
    replies = await asyncio.gather(
        *(
            gateway.post("/v1/jobs/digest", content=PNG + bytes(3992), headers=png)
            for _ in range(10)
        )
    )
    codes = sorted(reply.status_code for reply in replies)
    assert codes == [202] * 2 + [507] * 8, [reply.text for reply in replies]
    uploads = keys_for(namespace, "digest").upload("*")
    assert len(list(sync_redis.scan_iter(uploads))) == 2


async def test_a_retried_request_gets_its_job_back_at_the_quotas(
    gateway: httpx.AsyncClient,
) -> None:
    """An Idempotency-Key naming a living job: its retry adds nothing, so no quota refuses
    it (a client that lost the first answer gets its job id)."""
    acme = await acme_key(gateway, bytes=5000, rate=0.01, burst=1)
    png = {**acme, "content-type": "image/png", "Idempotency-Key": "plan-7"}
    document = PNG + bytes(4000)
    first = await gateway.post("/v1/jobs/digest", content=document, headers=png)
    assert first.status_code == 202, first.text
    again = await gateway.post("/v1/jobs/digest", content=document, headers=png)
    assert again.status_code == 202, again.text
    assert again.json()["job_id"] == first.json()["job_id"]
    assert again.headers["idempotent-replayed"] == "true"
    # A new request is held to the rate (and the bytes) as ever.
    other = {**png, "Idempotency-Key": "plan-8"}
    refused(
        await gateway.post("/v1/jobs/digest", content=document, headers=other),
        429,
        "rate_limited",
        "rate",
    )


async def test_a_refused_submission_gives_back_its_tokens(gateway: httpx.AsyncClient) -> None:
    """The rate counts jobs submitted: one refused for another quota, or a bad option,
    spends none (a client obeying Retry-After on quota_exceeded is not rate limited)."""
    acme = await acme_key(gateway, jobs=1, rate=0.01, burst=2)
    first = await gateway.post("/v1/jobs/work", json={}, headers=acme)
    assert first.status_code == 202, first.text
    for _ in range(3):
        over = await gateway.post("/v1/jobs/work", json={}, headers=acme)
        refused(over, 429, "quota_exceeded", "jobs")
    bad = await gateway.post("/v1/jobs/work?delay=soon", json={}, headers=acme)
    assert bad.status_code == 400, bad.text
    assert (await gateway.delete(first.json()["status_url"], headers=acme)).status_code == 200
    assert (await gateway.post("/v1/jobs/work", json={}, headers=acme)).status_code == 202
