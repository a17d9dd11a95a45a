"""Never a 5xx for anything a client sent, however odd: odd bodies, headers, paths and raw
bytes, and a client hanging up mid-body. Against uvicorn as the Procfile runs it (a raw
socket, its parser), with its log read for the 500s no client saw.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from tests.gateway_replies import (
    JSON,
    assert_no_server_error_logged,
    assert_nothing_queued,
    requests_logged,
)

pytestmark = pytest.mark.any_redis


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
