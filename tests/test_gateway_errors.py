"""Every 4xx the gateway gives: its status, a JSON error naming what is wrong, nothing queued.

And never a 5xx for anything a client sent, however odd; a 503 only when Redis is away.
What the app decides is asked of it in this process (tests/inprocess.py); what needs the
server (a raw socket, an endless body, a client hanging up) of uvicorn as the Procfile runs it.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from structlog.testing import capture_logs

from shared.keys import keys_for
from shared.settings import Settings
from tests.inprocess import asgi_client, server_errors

pytestmark = pytest.mark.any_redis

UNKNOWN_ID = "echo-" + "0" * 32
JSON = {"content-type": "application/json"}


def assert_error(reply: httpx.Response, status: int, type: str, *words: str) -> dict[str, Any]:
    """The reply is ``status`` with ``{"error": {"type", "message", ...}}`` naming ``words``."""
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"].startswith("application/json"), reply.headers
    error = reply.json()["error"]
    assert isinstance(error, dict)
    assert error["type"] == type, error
    assert isinstance(error["message"], str) and error["message"], error
    for word in words:
        assert word in error["message"], (word, error)
    return error


def assert_nothing_queued(sync_redis: redis.Redis, namespace: str) -> None:
    assert sync_redis.keys(f"{namespace}:*") == []


def gateway_lines(tmp_path: Path) -> list[dict[str, Any]]:
    """The log lines of the gateways the test started (start_gateway), parsed: its JSON
    lines, and uvicorn's own (plain text) as ``{"event": text}``."""
    lines: list[dict[str, Any]] = []
    for path in sorted(tmp_path.glob("gateway-*.log")):
        text = path.read_text(errors="replace")
        for line in text[: text.rfind("\n") + 1].splitlines():
            lines.append(json.loads(line) if line.startswith("{") else {"event": line})
    return lines


def requests_logged(tmp_path: Path) -> list[dict[str, Any]]:
    return [line for line in gateway_lines(tmp_path) if line["event"] == "request"]


def assert_no_server_error_logged(tmp_path: Path) -> None:
    """Also the 500s no client saw (it had hung up): the gateway logged none."""
    lines = gateway_lines(tmp_path)
    assert not server_errors(lines), lines
    assert not [line for line in lines if "Exception in ASGI application" in line["event"]]


async def raw_exchange(base_url: str, data: bytes, timeout: float = 5.0) -> int | None:
    """Send raw bytes; the status of the answer, or None if the server closed without one."""
    url = httpx.URL(base_url)
    reader, writer = await asyncio.open_connection(url.host, url.port)
    try:
        writer.write(data)
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), timeout)
    except ConnectionError:
        return None
    finally:
        writer.close()
    if not line:
        return None
    assert line.startswith(b"HTTP/1.1 "), line
    return int(line.split()[1])


# 400


async def test_bad_json_is_400(
    gateway_http: httpx.AsyncClient, sync_redis: redis.Redis, namespace: str
) -> None:
    bad = [b"{bad", b"", b" ", b'{"a": 1', b"{'a': 1}", b'{"a": NaN}', b'{"a": 1}x']
    # Invalid UTF-8, bare and inside a string or a key (msgspec raises UnicodeDecodeError).
    not_utf8 = [b"\xff\xfe", b'{"a": "\xff"}', b'{"\xc3": 1}']
    deep = b'{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    with capture_logs() as logs:
        for body in bad:
            reply = await gateway_http.post("/v1/jobs/echo", content=body, headers=JSON)
            assert_error(reply, 400, "invalid_input", "JSON")
        for body in not_utf8:
            reply = await gateway_http.post("/v1/jobs/echo", content=body, headers=JSON)
            assert_error(reply, 400, "invalid_input")
        reply = await gateway_http.post("/v1/jobs/echo", content=deep, headers=JSON)
        assert_error(reply, 400, "invalid_input", "nested")
    assert not server_errors(logs), logs
    assert_nothing_queued(sync_redis, namespace)


async def test_schema_violation_is_400_naming_the_field(
    gateway_http: httpx.AsyncClient, sync_redis: redis.Redis, namespace: str
) -> None:
    cases = [
        ("work", b'{"seconds": "abc"}', "$.seconds"),
        ("work", b'{"seconds": 1e400}', "$.seconds"),
        ("work", b'{"succeed_on": 1.5}', "$.succeed_on"),
        ("work", b'{"effect_path": 5}', "$.effect_path"),
        ("hog", b"{}", "$.megabytes"),
        ("hog", b'{"megabytes": "many"}', "$.megabytes"),
        ("hog", b'{"megabytes": null}', "$.megabytes"),
    ]
    for function, body, field in cases:
        reply = await gateway_http.post(f"/v1/jobs/{function}", content=body, headers=JSON)
        error = assert_error(reply, 400, "invalid_input", field.removeprefix("$."))
        assert error["field"] == field, (function, body, error)
    # echo takes any JSON object, and only an object.
    for body, kind in ((b"[1, 2]", "array"), (b"5", "int"), (b'"text"', "str"), (b"null", "null")):
        reply = await gateway_http.post("/v1/jobs/echo", content=body, headers=JSON)
        assert_error(reply, 400, "invalid_input", "object", kind)
    assert_nothing_queued(sync_redis, namespace)


async def test_bad_idempotency_key_is_400(
    gateway_http: httpx.AsyncClient, sync_redis: redis.Redis, namespace: str
) -> None:
    keys = [b"k" * 256, b"two words", b"tab\there", b"", "é".encode(), b"\xff"]
    for key in keys:
        reply = await gateway_http.post("/v1/jobs/echo", json={}, headers={b"Idempotency-Key": key})
        error = assert_error(reply, 400, "invalid_input", "Idempotency-Key")
        assert error["field"] == "Idempotency-Key"
    assert_nothing_queued(sync_redis, namespace)


# 404 and 405


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


# 413


async def test_body_over_the_limit_with_content_length_is_413(
    settings: Settings, sync_redis: redis.Redis, namespace: str
) -> None:
    with capture_logs() as logs:
        async with asgi_client(settings.replace(max_body_bytes=1000)) as http:
            for size in (1001, 1500, 10_000, 200_000):
                body = b'{"a": "' + b"x" * (size - 9) + b'"}'
                assert len(body) == size
                reply = await http.post("/v1/jobs/echo", content=body, headers=JSON)
                error = assert_error(reply, 413, "payload_too_large", "1000")
                assert error["limit"] == 1000
            # Whatever the function.
            reply = await http.post(
                "/v1/jobs/work", content=b"{" + b" " * 5000 + b"}", headers=JSON
            )
            assert_error(reply, 413, "payload_too_large")
            assert_nothing_queued(sync_redis, namespace)
            # The limit itself is allowed.
            body = b'{"a": "' + b"x" * 991 + b'"}'
            assert len(body) == 1000
            reply = await http.post("/v1/jobs/echo", content=body, headers=JSON)
            assert reply.status_code == 202, reply.text
            assert sync_redis.xlen(keys_for(namespace, "echo").stream) == 1
    assert not server_errors(logs), logs


async def test_chunked_body_over_the_limit_is_413(
    settings: Settings, sync_redis: redis.Redis, namespace: str
) -> None:

    async def chunks(count: int, size: int = 300) -> AsyncIterator[bytes]:
        yield b'{"a": "'
        for _ in range(count):
            yield b"x" * size
        yield b'"}'

    async with asgi_client(settings.replace(max_body_bytes=1000)) as http:
        for count in (4, 10, 100):
            reply = await http.post("/v1/jobs/echo", content=chunks(count), headers=JSON)
            assert reply.request.headers["transfer-encoding"] == "chunked"
            assert "content-length" not in reply.request.headers
            error = assert_error(reply, 413, "payload_too_large", "1000")
            assert error["limit"] == 1000
        assert_nothing_queued(sync_redis, namespace)
        # Under the limit, chunked is fine.
        reply = await http.post("/v1/jobs/echo", content=chunks(2), headers=JSON)
        assert reply.status_code == 202, reply.text


async def test_endless_body_is_refused_without_reading_it(
    start_gateway: Callable[..., str], sync_redis: redis.Redis, namespace: str, tmp_path: Path
) -> None:
    """A 100 MB stream: the gateway answers 413 or closes the connection early on.

    A client still sending when the server closes may see a reset instead of the 413 (the
    kernel drops what it had not read); either way the server stopped reading.
    """
    base_url = start_gateway(MAX_BODY_BYTES="1000")
    hundred_mb = 100 * 1024 * 1024

    for declared in (False, True):
        produced = 0

        async def endless() -> AsyncIterator[bytes]:
            nonlocal produced
            yield b'{"a": "'
            while produced < hundred_mb:
                produced += 65536
                yield b"x" * 65536

        headers = {**JSON, **({"content-length": str(hundred_mb + 7)} if declared else {})}
        started = time.monotonic()
        async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
            try:
                reply = await http.post("/v1/jobs/echo", content=endless(), headers=headers)
            except httpx.TransportError:
                pass  # reset while sending: the server closed on us
            else:
                assert_error(reply, 413, "payload_too_large")
        assert time.monotonic() - started < 8
        assert produced < hundred_mb // 5, f"the server read {produced} bytes (declared={declared})"

    # A chunked body that never ends, over a raw socket: the answer (or the close) comes
    # while we are still sending, so the server cannot have waited for the end.
    url = httpx.URL(base_url)
    reader, writer = await asyncio.open_connection(url.host, url.port)
    writer.write(
        b"POST /v1/jobs/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    sent = 0

    async def send_forever() -> None:
        nonlocal sent
        chunk = b"10000\r\n" + b"x" * 65536 + b"\r\n"
        while sent < hundred_mb:
            writer.write(chunk)
            await writer.drain()
            sent += 65536

    sender = asyncio.create_task(send_forever())
    try:
        answer = await asyncio.wait_for(reader.read(200), 8)
    except ConnectionError:
        answer = b""
    assert sent < hundred_mb // 5
    assert answer == b"" or answer.startswith(b"HTTP/1.1 413 "), answer
    # The server closes the connection: the sender fails soon.
    with pytest.raises(ConnectionError):
        await asyncio.wait_for(sender, 8)
    writer.close()
    assert sent < hundred_mb // 5

    assert_nothing_queued(sync_redis, namespace)
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        assert (await http.get("/healthz")).status_code == 200
    assert_no_server_error_logged(tmp_path)


# 415


async def test_wrong_content_type_is_415(
    gateway_http: httpx.AsyncClient, sync_redis: redis.Redis, namespace: str
) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"content": b"{}", "headers": {"content-type": "text/plain"}}, "text/plain"),
        ({"data": {"seconds": "1"}}, "application/x-www-form-urlencoded"),
        ({"content": b"{}"}, "no content type"),
        ({"content": b"{}", "headers": {"content-type": ""}}, "no content type"),
        ({"content": b"<a/>", "headers": {"content-type": "application/xml"}}, "application/xml"),
        ({"content": b"{}", "headers": {"content-type": "application/jsonx"}}, "jsonx"),
    ]
    for request, named in cases:
        reply = await gateway_http.post("/v1/jobs/work", **request)
        error = assert_error(reply, 415, "unsupported_media_type", named)
        assert "application/json" in error["accepted"]
    assert_nothing_queued(sync_redis, namespace)
    # Parameters and case do not matter.
    for content_type in ("application/json; charset=utf-8", "Application/JSON"):
        reply = await gateway_http.post(
            "/v1/jobs/echo", content=b"{}", headers={"content-type": content_type}
        )
        assert reply.status_code == 202, reply.text


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
    with capture_logs() as logs:
        async with asgi_client(settings.replace(redis_url=nowhere)) as http:
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


# Never a 500


async def test_client_hanging_up_mid_body_is_not_a_server_error(
    http: httpx.AsyncClient, sync_redis: redis.Redis, namespace: str, tmp_path: Path
) -> None:
    url = httpx.URL(str(http.base_url))
    reader, writer = await asyncio.open_connection(url.host, url.port)
    writer.write(
        b"POST /v1/jobs/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b'Content-Length: 100\r\n\r\n{"a": '
    )
    await writer.drain()
    await asyncio.sleep(0.2)  # the gateway is reading the body now
    writer.close()
    await writer.wait_closed()
    # The gateway logs the request once it has given up on it.
    deadline = time.monotonic() + 5
    while not requests_logged(tmp_path) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    (request,) = requests_logged(tmp_path)
    assert request["method"] == "POST" and request["path"] == "/v1/jobs/echo", request
    assert (await http.get("/healthz")).status_code == 200
    assert_nothing_queued(sync_redis, namespace)
    assert_no_server_error_logged(tmp_path)


def _fuzz_requests() -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, httpx request arguments): odd bodies, headers and paths."""
    deep = b"[" * 100_000 + b"]" * 100_000
    odd_bodies = [
        b'{"a": 123456789012345678901234567890123456789012345678901234567890}',
        b'{"a": -1e400}',
        b'{"a": 1e-400}',
        b'{"a": Infinity}',
        b'{"a": "\\ud800"}',
        b'{"a": "\\u0000"}',
        b'{"a": "\x00"}',
        b'{"\xff\xfe": "\xed\xa0\x80"}',
        b'{"a": ' + deep + b"}",
        b'{"a": {"b": ' * 2000 + b"1" + b"}}" * 2000,
        b"\xef\xbb\xbf{}",
        b'{"a": 1, "a": 2}',
        b"{" + b",".join(b'"k%d": %d' % (i, i) for i in range(20_000)) + b"}",
        b'{"' + b"k" * 500_000 + b'": 1}',
        b"\x00" * 1000,
    ]
    requests: list[tuple[str, str, dict[str, Any]]] = []
    for body in odd_bodies:
        requests.append(("POST", "/v1/jobs/echo", {"content": body, "headers": JSON}))
    for body in (b'{"seconds": 1e308, "succeed_on": 99999999999999999999}', b'{"seconds": -0.0}'):
        requests.append(("POST", "/v1/jobs/work", {"content": body, "headers": JSON}))
    for body in (b'{"megabytes": -9223372036854775809}', b'{"megabytes": 1.0}'):
        requests.append(("POST", "/v1/jobs/hog", {"content": body, "headers": JSON}))
    odd_headers: list[dict[str, Any]] = [
        {"Idempotency-Key": "é".encode("latin-1") * 10},
        {"Idempotency-Key": "\u2603".encode()},
        {"content-type": "application/json; charset=\u00ff".encode("latin-1")},
        {"content-type": "application/json" + ";x" * 2000},
        {"content-encoding": "gzip"},
        {"x-" + "h" * 1000: "v" * 8000},
    ]
    for headers in odd_headers:
        requests.append(("POST", "/v1/jobs/echo", {"content": b"{}", "headers": JSON | headers}))
    odd_ids = ["%ff", "%00", "échö", "\u2603-" + "0" * 32, "echo-%00", "..", "%2e%2e", "a%2Fb"]
    odd_ids += ["x" * 6000, "echo-" + "0" * 32 + "?x=%ff&&=", "%F0%9F%92%A9" * 100]
    for job_id in odd_ids:
        for method, suffix in (("GET", ""), ("GET", "/result"), ("DELETE", ""), ("POST", "")):
            requests.append((method, f"/v1/jobs/{job_id}{suffix}", {"json": {}}))
    for method in ("HEAD", "OPTIONS", "TRACE", "FOO"):
        requests.append((method, "/v1/jobs/echo", {}))
    return requests


RAW_REQUESTS = [
    b"POST /v1/jobs/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    b"Content-Length: abc\r\n\r\n{}",
    b"POST /v1/jobs/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    b"Content-Length: -1\r\n\r\n{}",
    b"POST /v1/jobs/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    b"Content-Length: 99999999999999999999999999\r\n\r\n{}",
    b"POST /v1/jobs/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    b"Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
    b"POST /v1/jobs/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    b"GET /v1/jobs/" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /v1/jobs/\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /v1/jobs/echo HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n",
    b"GET /v1/jobs/echo HTTP/9.9\r\nHost: x\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 100,
    b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Many: 1\r\n" * 5000 + b"\r\n",
]


async def test_odd_requests_never_get_a_server_error(
    http: httpx.AsyncClient, tmp_path: Path
) -> None:
    requests = _fuzz_requests()
    assert len(requests) + len(RAW_REQUESTS) >= 30
    for method, path, arguments in requests:
        reply = await http.request(method, path, **arguments)
        assert reply.status_code < 500, (method, path[:100], reply.status_code, reply.text)
        if method == "FOO":
            # llhttp (uvicorn's httptools parser) knows only registered methods and
            # answers an unknown one itself, before the app: a plain 400, never a 5xx.
            assert reply.status_code in (400, 405), reply.text
        elif reply.status_code >= 400 and method != "HEAD":
            assert "error" in reply.json(), (method, path[:100], reply.text)
    for data in RAW_REQUESTS:
        status = await raw_exchange(str(http.base_url), data)
        assert status is None or status < 500, (data[:100], status)
    assert (await http.get("/healthz")).status_code == 200
    assert_no_server_error_logged(tmp_path)
