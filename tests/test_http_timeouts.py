"""Timeouts of the gateway as the Procfile runs it (gateway.server.HttpProtocol and the
body timeout of gateway.middleware): slow or silent headers (408 or closed) and a stalled
body (408), while a slow but steady one is served.

Raw sockets to 127.0.0.1: an HTTP client library would refuse to send most of this.
"""

from __future__ import annotations

import select
import time
from collections.abc import Callable

import pytest

from tests import http_gateway
from tests.http_gateway import Gateway, closed_by_gateway, get, read_reply

pytestmark = pytest.mark.any_redis

# This module's own gateway: the fixtures are module-scoped where they are bound.
gateways = http_gateway.gateways
gateway = http_gateway.gateway

# The settings of this module's gateway: short header and body timeouts.
TIMED = {"HEADER_TIMEOUT": "1", "BODY_TIMEOUT": "1"}


def test_slow_or_silent_header_sender_is_cut(gateway: Callable[..., Gateway]) -> None:
    server = gateway(**TIMED)
    silent = server.connect()
    slow = server.connect()
    started = time.monotonic()
    slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    for n in range(40):  # a header line every 0.25 s, for at most 10 s
        readable, _, _ = select.select([slow], [], [], 0.25)
        if readable:
            break
        slow.sendall(f"X-Slow-{n}: {n}\r\n".encode())
    reply = read_reply(slow)
    assert time.monotonic() - started < 3.5
    assert reply is not None and reply.status == 408, reply
    assert reply.error_type() == "request_timeout"
    assert closed_by_gateway(slow, 3)
    # A connection that never sends a byte is closed, with no answer.
    assert closed_by_gateway(silent, 3 - (time.monotonic() - started))
    silent.close()
    slow.close()


def test_blank_line_between_requests_does_not_stop_the_timers(
    gateway: Callable[..., Gateway],
) -> None:
    # uvicorn's keep-alive timer (5 s) stops at any input; llhttp skips a CRLF between
    # requests without a callback, so only the header timeout can close this one.
    server = gateway(**TIMED)
    with server.connect() as sock:
        sock.sendall(get("/healthz"))
        reply = read_reply(sock)
        assert reply is not None and reply.status == 200, reply
        sock.sendall(b"\r\n")
        assert closed_by_gateway(sock, 3)
    # A blank line before a request is still allowed.
    with server.connect() as sock:
        sock.sendall(b"\r\n")
        time.sleep(0.3)
        sock.sendall(get("/healthz"))
        reply = read_reply(sock)
    assert reply is not None and reply.status == 200, reply


def test_stalled_body_is_408_and_a_slow_one_is_served(
    gateway: Callable[..., Gateway],
) -> None:
    server = gateway(**TIMED)
    json_head = (
        "POST /v1/jobs/echo HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n"
    )
    raw_head = (
        "POST /v1/jobs/ingest HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/pdf\r\nContent-Length: 10000\r\n\r\n%PDF-1.4\n"
    )
    multipart_head = (
        "POST /v1/jobs/render HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: multipart/form-data; boundary=b0undary\r\nContent-Length: 10000\r\n\r\n"
        '--b0undary\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n%PDF-1.4\n"
    )
    stalled = [server.connect() for _ in range(3)]
    started = time.monotonic()
    for sock, head in zip(
        stalled, [json_head.format(100) + '{"hello": ', raw_head, multipart_head], strict=True
    ):
        sock.sendall(head.encode())
    for sock in stalled:
        reply = read_reply(sock)
        assert reply is not None and reply.status == 408, reply
        assert reply.error_type() == "request_timeout"
        assert reply.headers["connection"] == "close"
        assert closed_by_gateway(sock, 3)
        sock.close()
    # One BODY_TIMEOUT, not two: a small body's 408 is not held back to read its rest.
    assert time.monotonic() - started < 1.8
    # A body that keeps coming, however slowly, is read to its end (past both timeouts).
    body = b'{"hello": "a slow but steady client"}'
    with server.connect() as sock:
        sock.sendall(json_head.format(len(body)).encode())
        for part in (body[:10], body[10:20], body[20:]):
            readable, _, _ = select.select([sock], [], [], 0.6)
            assert not readable, read_reply(sock)
            sock.sendall(part)
        reply = read_reply(sock)
    assert reply is not None and reply.status == 202, reply
