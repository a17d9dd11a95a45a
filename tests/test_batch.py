"""Batches: ``POST /v1/jobs/{function}/batch`` and ``Sluice.submit_many`` queue one job per
input, all of them or none (an invalid input, a batch too large or empty, a backlog
bound the batch does not fit: nothing queued). Through the gateway in this process and
an in-process burst worker."""

from __future__ import annotations

import asyncio

import httpx
import msgspec
import pytest
import redis

from shared.client import Sluice
from shared.errors import InvalidInputError
from shared.job_batches import MAX_BATCH_INPUTS
from shared.keys import keys_for
from shared.settings import Settings
from tests.inprocess import asgi_client, run_burst

BATCH = "/v1/jobs/{}/batch"


def nothing_queued(sync_redis: redis.Redis, namespace: str, function: str) -> bool:
    """No stream entry and no job hash of ``function``."""
    keys = keys_for(namespace, function)
    return sync_redis.xlen(keys.stream) == 0 and not list(sync_redis.scan_iter(keys.job("*")))


def refused(reply: httpx.Response, status: int, error_type: str) -> dict[str, object]:
    assert reply.status_code == status, reply.text
    error: dict[str, object] = reply.json()["error"]
    assert error["type"] == error_type, reply.text
    return error


async def test_a_batch_queues_a_job_per_input_each_with_its_own_input(
    gateway_http: httpx.AsyncClient, settings: Settings, sluice: Sluice
) -> None:
    inputs = [{"n": n} for n in range(300)]
    reply = await gateway_http.post(BATCH.format("echo"), json=inputs)
    assert reply.status_code == 202, reply.text
    jobs = reply.json()["jobs"]
    assert len(jobs) == len(inputs) and len({job["job_id"] for job in jobs}) == len(inputs)
    for job in jobs:
        assert job["function"] == "echo" and job["status"] == "queued"
        assert job["status_url"] == f"/v1/jobs/{job['job_id']}"
    await run_burst(settings, "echo")
    for job, params in zip(jobs, inputs, strict=True):  # the jobs come in input order
        status = await sluice.status(job["job_id"])
        assert status.status == "succeeded" and status.result_value() == params


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"seconds": "slow"}, "$[3].seconds"),
        ({"seconds": 1, "secnods": 2}, "$[3].secnods"),
        ([1], "$[3]"),
    ],
)
async def test_an_invalid_input_refuses_the_whole_batch_naming_it(
    gateway_http: httpx.AsyncClient,
    sync_redis: redis.Redis,
    namespace: str,
    bad: object,
    field: str,
) -> None:
    inputs: list[object] = [{"seconds": 0}] * 6
    inputs[3] = bad
    reply = await gateway_http.post(BATCH.format("work"), json=inputs)
    error = refused(reply, 400, "invalid_input")
    assert error["field"] == field, error
    assert nothing_queued(sync_redis, namespace, "work")


@pytest.mark.any_redis
@pytest.mark.parametrize(
    "body",
    [b"[]", msgspec.json.encode([{}] * (MAX_BATCH_INPUTS + 1)), b'{"n": 1}', b'"x"', b"[{"],
)
async def test_an_empty_batch_one_too_large_or_not_an_array_is_refused(
    gateway_http: httpx.AsyncClient, sync_redis: redis.Redis, namespace: str, body: bytes
) -> None:
    reply = await gateway_http.post(
        BATCH.format("echo"), content=body, headers={"Content-Type": "application/json"}
    )
    refused(reply, 400, "invalid_input")
    assert nothing_queued(sync_redis, namespace, "echo")
    # The largest batch goes.
    reply = await gateway_http.post(BATCH.format("echo"), json=[{}] * MAX_BATCH_INPUTS)
    assert reply.status_code == 202 and len(reply.json()["jobs"]) == MAX_BATCH_INPUTS


@pytest.mark.any_redis
async def test_what_a_batch_is_not_is_refused_before_anything_is_queued(
    gateway_http: httpx.AsyncClient, sync_redis: redis.Redis, namespace: str
) -> None:
    refused(await gateway_http.post(BATCH.format("digest"), json=[{}]), 400, "invalid_input")
    error = refused(
        await gateway_http.post(
            BATCH.format("echo"), json=[{}], headers={"Idempotency-Key": "order-42"}
        ),
        400,
        "invalid_input",
    )
    assert error["field"] == "Idempotency-Key"
    reply = await gateway_http.post(
        BATCH.format("echo"), content=b"[{}]", headers={"Content-Type": "text/plain"}
    )
    refused(reply, 415, "unsupported_media_type")
    refused(await gateway_http.post(BATCH.format("nope"), json=[{}]), 404, "unknown_function")
    reply = await gateway_http.post(BATCH.format("echo") + "?n=1", json=[{}])
    refused(reply, 400, "invalid_input")
    assert nothing_queued(sync_redis, namespace, "echo")


async def test_a_batch_over_the_backlog_bound_queues_nothing(
    gateway_http: httpx.AsyncClient, sync_redis: redis.Redis, namespace: str
) -> None:
    # tiny_queue's bound is 2 jobs.
    reply = await gateway_http.post(BATCH.format("tiny_queue"), json=[{}] * 3)
    error = refused(reply, 429, "queue_full")
    assert int(reply.headers["Retry-After"]) >= 1 and error["function"] == "tiny_queue"
    assert nothing_queued(sync_redis, namespace, "tiny_queue")
    reply = await gateway_http.post(BATCH.format("tiny_queue"), json=[{}] * 2)
    assert reply.status_code == 202, reply.text
    refused(await gateway_http.post(BATCH.format("tiny_queue"), json=[{}]), 429, "queue_full")
    assert sync_redis.xlen(keys_for(namespace, "tiny_queue").stream) == 2


async def test_two_batches_racing_for_the_last_room_one_is_queued_whole(
    sluice: Sluice, sync_redis: redis.Redis, namespace: str
) -> None:
    """The bound is checked in the step that writes: of two batches that each fit alone
    but not together, one is queued whole and the other not at all."""
    outcomes = await asyncio.gather(
        sluice.submit_many("tiny_queue", [{}, {}]),
        sluice.submit_many("tiny_queue", [{}, {}]),
        return_exceptions=True,
    )
    assert sorted(type(o).__name__ for o in outcomes) == ["QueueFullError", "list"], outcomes
    keys = keys_for(namespace, "tiny_queue")
    assert sync_redis.xlen(keys.stream) == 2
    assert len(list(sync_redis.scan_iter(keys.job("*")))) == 2


async def test_a_batchs_jobs_are_its_submitters_tenants(
    settings: Settings, sync_redis: redis.Redis, namespace: str
) -> None:
    keyed = settings.replace(api_keys=(("acme", "k1"), ("globex", "k2")))
    async with asgi_client(keyed) as http:
        refused(await http.post(BATCH.format("echo"), json=[{}]), 401, "unauthorized")
        acme = {"Authorization": "Bearer k1"}
        reply = await http.post(BATCH.format("echo"), json=[{"n": 1}, {"n": 2}], headers=acme)
        assert reply.status_code == 202, reply.text
        for job in reply.json()["jobs"]:
            key = keys_for(namespace, "echo").job(job["job_id"])
            assert sync_redis.hget(key, "tenant") == b"acme"
            assert (await http.get(job["status_url"], headers=acme)).status_code == 200
            other = await http.get(job["status_url"], headers={"Authorization": "Bearer k2"})
            refused(other, 404, "job_not_found")


async def test_submit_many_from_python_with_follow_ups(
    sluice: Sluice, settings: Settings, sync_redis: redis.Redis, namespace: str
) -> None:
    inputs = [{"n": n} for n in range(5)]
    jobs = await sluice.submit_many("echo", inputs, then=["echo"], tenant="acme")
    assert [job.function for job in jobs] == ["echo"] * 5
    await run_burst(settings, "echo")
    for job, params in zip(jobs, inputs, strict=True):
        assert job.next_job_id is not None
        follow_up = await sluice.wait(job.next_job_id, timeout=10, missing_ok=True)
        assert follow_up.result_value() == params
        assert (await sluice.status(job.job_id, tenant="acme")).status == "succeeded"
    with pytest.raises(InvalidInputError) as caught:
        await sluice.submit_many("work", [{"seconds": 0}, {"seconds": None}])
    assert caught.value.details["field"] == "$[1].seconds"
    bad: object
    for bad in ([], "not a list", [{}] * (MAX_BATCH_INPUTS + 1)):
        with pytest.raises(InvalidInputError):
            await sluice.submit_many("echo", bad)
    assert nothing_queued(sync_redis, namespace, "work")
