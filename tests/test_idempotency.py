"""An Idempotency-Key makes a retried submission return the same job: no second job hash,
no second stream entry, however the retry comes (lost reply, concurrent, Python API)."""

from __future__ import annotations

import asyncio
import time

import httpx
import msgspec
import pytest
import redis

from shared.client import Sluice
from shared.errors import IdempotencyKeyReusedError, InvalidInputError, QueueFullError
from shared.keys import keys_for
from tests.test_documents_api import plan_pdf

JSON = {"content-type": "application/json"}


def text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


def job_hashes(sync_redis: redis.Redis, namespace: str, function: str) -> list[str | None]:
    return [text(key) for key in sync_redis.keys(keys_for(namespace, function).job("*"))]


def assert_one_job(sync_redis: redis.Redis, namespace: str, function: str, job_id: str) -> None:
    keys = keys_for(namespace, function)
    assert sync_redis.xlen(keys.stream) == 1
    assert job_hashes(sync_redis, namespace, function) == [keys.job(job_id)]


async def test_same_key_twice_is_one_job(
    gateway_http: httpx.AsyncClient, sync_redis: redis.Redis, namespace: str
) -> None:
    headers = {"Idempotency-Key": "order-42"}
    first = await gateway_http.post("/v1/jobs/echo", json={"n": 1}, headers=headers)
    second = await gateway_http.post("/v1/jobs/echo", json={"n": 1}, headers=headers)
    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()
    assert second.headers["location"] == f"/v1/jobs/{first.json()['job_id']}"
    job_id = first.json()["job_id"]
    assert_one_job(sync_redis, namespace, "echo", job_id)
    assert sync_redis.get(keys_for(namespace, "echo").idempotency("order-42")) == job_id.encode()
    # The job keeps the first submission's input.
    assert sync_redis.hget(keys_for(namespace, "echo").job(job_id), "input") == b'{"n":1}'


async def test_retry_after_a_lost_reply_returns_the_job_the_server_created(
    http: httpx.AsyncClient, sync_redis: redis.Redis, namespace: str
) -> None:
    """The first request reaches the gateway, but the client hangs up before the answer."""
    key = "lost-reply-1"
    idempotency = keys_for(namespace, "work").idempotency(key)
    body = b'{"seconds": 0.5}'
    url = httpx.URL(str(http.base_url))
    reader, writer = await asyncio.open_connection(url.host, url.port)
    writer.write(
        b"POST /v1/jobs/work HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Idempotency-Key: " + key.encode() + b"\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    await writer.drain()
    writer.close()  # without reading the reply
    await writer.wait_closed()

    deadline = time.monotonic() + 5
    while (created := text(sync_redis.get(idempotency))) is None and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert created is not None, "the gateway did not queue the first request"

    retry = await http.post("/v1/jobs/work", content=body, headers={"Idempotency-Key": key, **JSON})
    assert retry.status_code == 202, retry.text
    assert retry.json()["job_id"] == created
    assert retry.json()["status"] == "queued"
    assert_one_job(sync_redis, namespace, "work", created)
    status = (await http.get(f"/v1/jobs/{created}")).json()
    assert status["status"] == "queued" and status["created_at"] == retry.json()["created_at"]


async def test_different_keys_are_separate_jobs(
    gateway_http: httpx.AsyncClient, sync_redis: redis.Redis, namespace: str
) -> None:
    ids: dict[tuple[str, str], set[str]] = {}
    for function, key in (("echo", "a"), ("echo", "b"), ("work", "c"), ("echo", "a")):
        reply = await gateway_http.post(
            f"/v1/jobs/{function}", json={}, headers={"Idempotency-Key": key}
        )
        assert reply.status_code == 202, reply.text
        ids.setdefault((function, key), set()).add(reply.json()["job_id"])
    # Without a key, every submission is a job of its own.
    for _ in range(2):
        assert (await gateway_http.post("/v1/jobs/work", json={})).status_code == 202
    assert all(len(found) == 1 for found in ids.values()), ids
    assert len(set.union(*ids.values())) == 3
    assert sync_redis.xlen(keys_for(namespace, "echo").stream) == 2
    assert sync_redis.xlen(keys_for(namespace, "work").stream) == 3
    assert len(job_hashes(sync_redis, namespace, "echo")) == 2
    assert len(job_hashes(sync_redis, namespace, "work")) == 3


async def test_concurrent_submissions_with_one_key_make_one_job(
    gateway_http: httpx.AsyncClient, sync_redis: redis.Redis, namespace: str
) -> None:
    replies = await asyncio.gather(
        *(
            gateway_http.post("/v1/jobs/echo", json={"i": 1}, headers={"Idempotency-Key": "burst"})
            for _ in range(20)
        )
    )
    assert {reply.status_code for reply in replies} == {202}
    assert sum(reply.headers.get("idempotent-replayed") == "true" for reply in replies) == 19
    job_ids = {reply.json()["job_id"] for reply in replies}
    assert len(job_ids) == 1
    assert_one_job(sync_redis, namespace, "echo", job_ids.pop())


async def test_retry_of_a_queued_job_is_not_refused_when_the_queue_is_full(
    gateway_http: httpx.AsyncClient, sync_redis: redis.Redis, namespace: str
) -> None:
    """tiny_queue holds 2: a retry of one of them is no new job, so it is not over the bound."""
    headers = {"Idempotency-Key": "full-1"}
    first = await gateway_http.post("/v1/jobs/tiny_queue", json={}, headers=headers)
    assert (await gateway_http.post("/v1/jobs/tiny_queue", json={})).status_code == 202
    retry = await gateway_http.post("/v1/jobs/tiny_queue", json={}, headers=headers)
    assert retry.status_code == 202 and retry.json()["job_id"] == first.json()["job_id"]
    other = await gateway_http.post(
        "/v1/jobs/tiny_queue", json={}, headers={"Idempotency-Key": "full-2"}
    )
    assert other.status_code == 429
    assert sync_redis.xlen(keys_for(namespace, "tiny_queue").stream) == 2
    assert sync_redis.get(keys_for(namespace, "tiny_queue").idempotency("full-2")) is None


async def test_idempotency_through_the_python_api(
    sluice: Sluice, sync_redis: redis.Redis, namespace: str
) -> None:
    first = await sluice.submit("echo", {"a": 1}, idempotency_key="py-1")
    again = await sluice.submit("echo", {"a": 1}, idempotency_key="py-1")
    assert again == msgspec.structs.replace(first, replayed=True)
    burst = await asyncio.gather(
        *(sluice.submit("echo", {"i": 1}, idempotency_key="py-2") for _ in range(20))
    )
    assert len({submission.job_id for submission in burst}) == 1
    assert burst[0].job_id != first.job_id
    with pytest.raises(IdempotencyKeyReusedError):
        await sluice.submit("work", {}, idempotency_key="py-1")
    assert sync_redis.xlen(keys_for(namespace, "echo").stream) == 2
    assert len(job_hashes(sync_redis, namespace, "echo")) == 2
    assert not sync_redis.exists(keys_for(namespace, "work").stream)

    # A retry after the job ended still names that job, with its status.
    await sluice.cancel(first.job_id)
    retried = await sluice.submit("echo", {"a": 1}, idempotency_key="py-1")
    assert retried.job_id == first.job_id and retried.status == "cancelled"
    assert sync_redis.xlen(keys_for(namespace, "echo").stream) == 1  # the cancelled one left

    for bad in ("", "with space", "x" * 256, "tab\t", "ünï"):
        with pytest.raises(InvalidInputError) as caught:
            await sluice.submit("echo", {}, idempotency_key=bad)
        assert caught.value.details["field"] == "Idempotency-Key"
    for _ in range(2):
        await sluice.submit("tiny_queue", {})
    with pytest.raises(QueueFullError):
        await sluice.submit("tiny_queue", {}, idempotency_key="py-3")
    assert len(job_hashes(sync_redis, namespace, "echo")) == 2


async def test_a_key_sent_with_another_request_is_422_and_queues_nothing(
    gateway_http: httpx.AsyncClient, sync_redis: redis.Redis, namespace: str
) -> None:
    """Same key, other parameters, other follow-ups, other function or other document:
    not a retry of the first request, so not answered with its job."""
    key = {"Idempotency-Key": "order-7"}
    first = await gateway_http.post("/v1/jobs/echo", json={"n": 1, "m": 2}, headers=key)
    assert first.status_code == 202 and "idempotent-replayed" not in first.headers
    same = await gateway_http.post("/v1/jobs/echo", content=b'{"m": 2, "n": 1}', headers=key | JSON)
    assert same.status_code == 202 and same.headers["idempotent-replayed"] == "true"
    assert same.json()["job_id"] == first.json()["job_id"]
    for reply in (
        await gateway_http.post("/v1/jobs/echo", json={"n": 2, "m": 2}, headers=key),
        await gateway_http.post("/v1/jobs/echo?then=echo", json={"n": 1, "m": 2}, headers=key),
        await gateway_http.post("/v1/jobs/work", json={}, headers=key),
    ):
        assert reply.status_code == 422, reply.text
        assert reply.json()["error"]["type"] == "idempotency_key_reused"
    assert_one_job(sync_redis, namespace, "echo", first.json()["job_id"])
    assert not sync_redis.exists(keys_for(namespace, "work").stream)

    pdf = {"content-type": "application/pdf", "Idempotency-Key": "plan-1"}
    plan = plan_pdf()
    document = await gateway_http.post("/v1/jobs/render", content=plan, headers=pdf)
    # The same bytes under a name: the same request (the name is no part of it).
    again = await gateway_http.post(
        "/v1/jobs/render",
        files={"file": ("named.pdf", plan, "application/pdf")},
        headers={"Idempotency-Key": "plan-1"},
    )
    other = await gateway_http.post("/v1/jobs/render", content=plan_pdf(pages=2), headers=pdf)
    assert (document.status_code, again.status_code, other.status_code) == (202, 202, 422)
    assert again.json()["job_id"] == document.json()["job_id"]
    # Neither the replay's nor the refused request's upload is kept.
    assert len(sync_redis.keys(keys_for(namespace, "render").upload("*"))) == 1


async def test_a_key_whose_job_expired_takes_a_new_request(
    gateway_http: httpx.AsyncClient, sync_redis: redis.Redis, namespace: str
) -> None:
    key = {"Idempotency-Key": "expired-1"}
    first = (await gateway_http.post("/v1/jobs/echo", json={"n": 1}, headers=key)).json()
    sync_redis.delete(keys_for(namespace, "echo").job(first["job_id"]))  # as if expired
    other = await gateway_http.post("/v1/jobs/work", json={}, headers=key)
    assert other.status_code == 202, other.text
    again = await gateway_http.post("/v1/jobs/work", json={}, headers=key)
    assert again.json()["job_id"] == other.json()["job_id"]


async def test_a_key_with_other_options_is_another_request(
    sluice: Sluice, sync_redis: redis.Redis, namespace: str
) -> None:
    """delay, not_before and callback_url are part of the request: the key sent again with
    other options is refused, with the same ones it is the same job; and the key of a
    delayed job lives as much longer as the job waits."""
    first = await sluice.submit("echo", {"n": 1}, idempotency_key="d1", delay=3600)
    with pytest.raises(IdempotencyKeyReusedError):
        await sluice.submit("echo", {"n": 1}, idempotency_key="d1")
    with pytest.raises(IdempotencyKeyReusedError):
        await sluice.submit("echo", {"n": 1}, idempotency_key="d1", delay=60)
    again = await sluice.submit("echo", {"n": 1}, idempotency_key="d1", delay=3600.0)
    assert again.job_id == first.job_id and again.replayed
    plain = await sluice.submit("echo", {"n": 2}, idempotency_key="d2")
    key_ttl = sync_redis.ttl(keys_for(namespace, "echo").idempotency("d1"))
    plain_ttl = sync_redis.ttl(keys_for(namespace, "echo").idempotency("d2"))
    assert 3590 <= key_ttl - plain_ttl <= 3600, (key_ttl, plain_ttl)
    assert plain.status == "queued"
