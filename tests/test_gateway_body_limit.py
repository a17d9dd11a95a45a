"""Bodies over MAX_BODY_BYTES are a 413, declared or chunked, in this process; an endless
body is refused by uvicorn, as the Procfile runs it, without reading it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
import redis
from structlog.testing import capture_logs

from shared.keys import keys_for
from shared.settings import Settings
from tests.gateway_replies import (
    JSON,
    assert_error,
    assert_no_server_error_logged,
    assert_nothing_queued,
)
from tests.inprocess import asgi_client, server_errors

pytestmark = pytest.mark.any_redis


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
