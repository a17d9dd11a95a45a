"""Well-formed requests refused for what they find: a full backlog is a 429 with
Retry-After; the result of a job that has not succeeded, or cancelling one that has
ended, a 409; Redis away a 503 with Retry-After, while what needs no Redis is answered
as usual. Asked of the app in this process.
"""

from __future__ import annotations

import httpx
import pytest
import redis
from structlog.testing import capture_logs

from shared.keys import keys_for
from shared.settings import Settings
from tests.gateway_replies import JSON, UNKNOWN_ID, assert_error
from tests.inprocess import asgi_client, server_errors

pytestmark = pytest.mark.any_redis


# 429, 409


async def test_backlog_over_its_bound_is_429_with_retry_after(
    gateway_http: httpx.AsyncClient, sync_redis: redis.Redis, namespace: str
) -> None:
    """tiny_queue takes 2 jobs and no consumer runs: the third is refused."""
    stream = keys_for(namespace, "tiny_queue").stream
    for _ in range(2):
        assert (await gateway_http.post("/v1/jobs/tiny_queue", json={})).status_code == 202
    for _ in range(3):
        reply = await gateway_http.post("/v1/jobs/tiny_queue", json={})
        error = assert_error(reply, 429, "queue_full", "tiny_queue", "2")
        assert error["function"] == "tiny_queue"
        assert int(reply.headers["retry-after"]) >= 1
    assert sync_redis.xlen(stream) == 2
    assert len(sync_redis.keys(f"{namespace}:*:job:*")) == 2
    # Other functions are not bounded by it.
    assert (await gateway_http.post("/v1/jobs/echo", json={})).status_code == 202


async def test_result_before_success_is_409(gateway_http: httpx.AsyncClient) -> None:
    job_id = (await gateway_http.post("/v1/jobs/echo", json={"a": 1})).json()["job_id"]
    reply = await gateway_http.get(f"/v1/jobs/{job_id}/result")
    error = assert_error(reply, 409, "conflict", job_id, "queued")
    assert error["status"] == "queued"
    assert (await gateway_http.delete(f"/v1/jobs/{job_id}")).json()["status"] == "cancelled"
    reply = await gateway_http.get(f"/v1/jobs/{job_id}/result")
    assert_error(reply, 409, "conflict", "cancelled")
    # Cancelling what has ended is a conflict too.
    assert_error(await gateway_http.delete(f"/v1/jobs/{job_id}"), 409, "conflict", "cancelled")


# 503


async def test_redis_unreachable_is_503_with_retry_after(settings: Settings, nowhere: str) -> None:
    # A key from the environment: whether a request may go on is known without Redis.
    keyed = settings.replace(redis_url=nowhere, api_keys=(("acme", "acme-key"),))
    with capture_logs() as logs:
        async with asgi_client(keyed) as http:
            http.headers["Authorization"] = "Bearer acme-key"
            assert (await http.get("/healthz")).json() == {"status": "ok"}
            for method, path, body in (
                ("POST", "/v1/jobs/echo", {}),
                ("POST", "/v1/jobs/work", {"seconds": 1}),
                ("GET", "/readyz", None),
                ("GET", f"/v1/jobs/{UNKNOWN_ID}", None),
                ("GET", f"/v1/jobs/{UNKNOWN_ID}/result", None),
                ("DELETE", f"/v1/jobs/{UNKNOWN_ID}", None),
            ):
                reply = await http.request(method, path, json=body)
                assert_error(reply, 503, "unavailable")
                assert int(reply.headers["retry-after"]) >= 1
            reply = await http.post("/v1/jobs/echo", json={}, headers={"Idempotency-Key": "k1"})
            assert_error(reply, 503, "unavailable")
            # What needs no Redis is answered as usual.
            assert (await http.get("/healthz")).status_code == 200
            assert (await http.get("/v1/functions")).status_code == 200
            assert_error(await http.post("/v1/jobs/nope", json={}), 404, "unknown_function")
            assert_error(
                await http.post("/v1/jobs/echo", content=b"{", headers=JSON), 400, "invalid_input"
            )
            assert_error(await http.get("/v1/jobs/junk"), 404, "job_not_found")
    assert not server_errors(logs), logs


async def test_without_environment_keys_redis_unreachable_is_503_not_open(
    settings: Settings, nowhere: str
) -> None:
    """Whether keys exist is in Redis: a gateway that cannot ask it does not serve as if
    there were none."""
    async with asgi_client(settings.replace(redis_url=nowhere)) as http:
        assert (await http.get("/healthz")).status_code == 200
        assert_error(await http.get("/v1/functions"), 503, "unavailable")
