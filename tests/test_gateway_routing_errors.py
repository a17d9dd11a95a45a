"""Unknown functions, job ids and routes are a JSON 404, a wrong method a JSON 405 naming
the allowed ones, and nothing is queued; asked of the app in this process. Plus uvicorn's
early 405 that must wait for a small body and keep the connection.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
import redis

from tests.gateway_replies import UNKNOWN_ID, assert_error, assert_nothing_queued

pytestmark = pytest.mark.any_redis


async def test_unknown_function_is_404(
    gateway_http: httpx.AsyncClient, sync_redis: redis.Redis, namespace: str
) -> None:
    for name in ("nope", "ECHO", "echo_", "a" * 200, "échö", "%00"):
        reply = await gateway_http.post(f"/v1/jobs/{name}", json={})
        error = assert_error(reply, 404, "unknown_function", "no function")
        assert error["function"] == httpx.URL(f"/{name}").path[1:]
    assert_nothing_queued(sync_redis, namespace)


async def test_unknown_and_malformed_job_ids_are_404(
    gateway_http: httpx.AsyncClient, sync_redis: redis.Redis, namespace: str
) -> None:
    ids = [
        UNKNOWN_ID,  # well formed, never created
        "nope-" + "0" * 32,  # of a function that does not exist
        "echo",
        "echo-",
        "echo-" + "0" * 31,
        "echo-" + "0" * 33,
        "echo-" + "A" * 32,
        "echo-" + "g" * 32,
        "-" + "0" * 32,
        "Echo-" + "0" * 32,
        "echo-" + "0" * 31 + "é",
        "{echo}-" + "0" * 32,
        "x" * 1000,
    ]
    for job_id in ids:
        for method, path in (
            ("GET", f"/v1/jobs/{job_id}"),
            ("GET", f"/v1/jobs/{job_id}/result"),
            ("DELETE", f"/v1/jobs/{job_id}"),
        ):
            reply = await gateway_http.request(method, path)
            error = assert_error(reply, 404, "job_not_found", "no job")
            assert error["job_id"] == job_id, (method, path, error)
    # Looking up (and cancelling) an unknown id creates nothing either.
    assert_nothing_queued(sync_redis, namespace)


async def test_unknown_route_and_wrong_method_are_json(
    gateway_http: httpx.AsyncClient, sync_redis: redis.Redis, namespace: str
) -> None:
    for path in ("/", "/nothing", "/v1", "/v1/jobs", "/v1/jobs/", f"/v1/jobs/{UNKNOWN_ID}/x"):
        reply = await gateway_http.get(path)
        assert_error(reply, 404, "not_found", path)
    cases = [
        ("PUT", "/v1/jobs/echo", {"GET", "POST", "DELETE"}),
        ("PATCH", f"/v1/jobs/{UNKNOWN_ID}", {"GET", "POST", "DELETE"}),
        ("POST", f"/v1/jobs/{UNKNOWN_ID}/result", {"GET"}),
        ("DELETE", f"/v1/jobs/{UNKNOWN_ID}/result", {"GET"}),
        ("POST", "/healthz", {"GET"}),
        ("DELETE", "/v1/functions", {"GET"}),
    ]
    for method, path, allowed in cases:
        reply = await gateway_http.request(method, path, json={})
        assert_error(reply, 405, "method_not_allowed", method, path)
        # Allow names every method the path takes, not only those of its first route.
        assert allowed <= set(reply.headers["allow"].replace(" ", "").split(",")), reply.headers
    assert_nothing_queued(sync_redis, namespace)


async def test_an_early_answer_waits_for_a_small_body_and_keeps_the_connection(
    http: httpx.AsyncClient,
) -> None:
    """A 405 answered while a 2-byte body was still on its way, then the connection
    closed, was reset by the late body's arrival: the client could lose the answer."""
    url = httpx.URL(str(http.base_url))
    reader, writer = await asyncio.open_connection(url.host, url.port)
    try:
        head = b"PUT /v1/jobs/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n"
        writer.write(head)
        await writer.drain()
        with pytest.raises(TimeoutError):  # no answer before the body has arrived
            await asyncio.wait_for(reader.read(1), 0.3)
        writer.write(b"{}")
        await writer.drain()
        answer = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert answer.startswith(b"HTTP/1.1 405") and b"connection: close" not in answer.lower()
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")  # the same connection
        await writer.drain()
        rest = b""
        while b"HTTP/1.1 200" not in rest:  # after the 405's own body
            chunk = await asyncio.wait_for(reader.read(65536), 5)
            assert chunk, rest
            rest += chunk
    finally:
        writer.close()
