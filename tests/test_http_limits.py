"""Header and connection limits of the gateway as the Procfile runs it
(gateway.server.HttpProtocol): header size and count (431), and the connection cap (idle
ones evicted, else 503).

Raw sockets to 127.0.0.1: an HTTP client library would refuse to send most of this.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest

from tests import http_gateway
from tests.http_gateway import (
    PATIENCE,
    Gateway,
    Reply,
    closed_by_gateway,
    get,
    read_reply,
    send_until_answered,
)

pytestmark = pytest.mark.any_redis

# This module's own gateway: the fixtures are module-scoped where they are bound.
gateways = http_gateway.gateways
gateway = http_gateway.gateway

# The settings of this module's gateway: a connection cap small enough to reach (the
# other tests hold at most two connections at once).
CAP = 5
CAPPED = {"MAX_CONNECTIONS": str(CAP)}


def test_huge_header_is_431_without_being_kept(gateway: Callable[..., Gateway]) -> None:
    server = gateway(**CAPPED)
    server.reset_peak_rss()
    before = server.peak_rss_kb()
    with server.connect() as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ")
        send_until_answered(sock, (b"a" * 65536 for _ in range(512)))  # 32 MiB
        reply = read_reply(sock)
    assert reply is not None and reply.status == 431, reply
    assert reply.error_type() == "header_too_large"
    assert reply.headers["connection"] == "close"
    # The header was dropped as it came, not gathered.
    assert server.peak_rss_kb() - before < 8192
    # A head near the limit (32 KiB) is served.
    with server.connect() as sock:
        sock.sendall(get("/healthz", "X-Big: " + "a" * 30_000))
        reply = read_reply(sock)
    assert reply is not None and reply.status == 200, reply


def test_too_many_headers_is_431(gateway: Callable[..., Gateway]) -> None:
    server = gateway(**CAPPED)
    with server.connect() as sock:
        sock.sendall(get("/healthz", *(f"X-Field-{n}: {n}" for n in range(150))))
        reply = read_reply(sock)
    assert reply is not None and reply.status == 431, reply
    assert reply.error_type() == "header_too_large"
    with server.connect() as sock:
        sock.sendall(get("/healthz", *(f"X-Field-{n}: {n}" for n in range(90))))
        reply = read_reply(sock)
    assert reply is not None and reply.status == 200, reply


def read_replies(sock: socket.socket, timeout: float = PATIENCE) -> list[Reply]:
    """Every response on ``sock`` until the gateway closes it (each with a content-length)."""
    sock.settimeout(timeout)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass
    replies = []
    while b"\r\n\r\n" in data:
        head, _, data = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in lines[1:])
        }
        length = int(headers.get("content-length", "0"))
        body, data = data[:length], data[length:]
        replies.append(Reply(int(lines[0].split(" ", 2)[1]), headers, body))
    return replies


def test_pipelined_request_is_answered_before_a_431(gateway: Callable[..., Gateway]) -> None:
    server = gateway(**CAPPED)
    big = get("/healthz", "X-Big: " + "a" * 100_000)  # 3 times the limit
    with server.connect() as sock:
        sock.sendall(get("/healthz") + big)  # one packet: parsed before the first is served
        replies = read_replies(sock)
    assert [reply.status for reply in replies] == [200, 431], replies
    assert replies[1].error_type() == "header_too_large"


def test_idle_connections_past_the_cap_make_room_for_readyz(
    gateway: Callable[..., Gateway],
) -> None:
    server = gateway(**CAPPED)
    idle = [server.connect() for _ in range(12)]
    with server.connect() as probe:
        probe.sendall(get("/readyz"))
        reply = read_reply(probe)
        assert reply is not None and reply.status == 200, reply
        # 13 connections, CAP (5) kept: the 8 that waited longest were closed.
        for sock in idle[: 13 - CAP]:
            assert closed_by_gateway(sock, 3)
        # The ones kept still work.
        idle[-1].sendall(get("/readyz"))
        reply = read_reply(idle[-1])
        assert reply is not None and reply.status == 200, reply
    for sock in idle:
        sock.close()


def test_busy_connections_at_the_cap_get_503(gateway: Callable[..., Gateway]) -> None:
    server = gateway(**CAPPED)
    busy = [server.connect() for _ in range(CAP)]
    for sock in busy:
        sock.sendall(
            b"POST /v1/jobs/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
            b"\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n"
        )
    for sock in busy:  # "100 Continue" comes once the app waits for the body
        reply = read_reply(sock)
        assert reply is not None and reply.status == 100, reply
    with server.connect() as sock:
        sock.sendall(get("/readyz"))
        reply = read_reply(sock)
    assert reply is not None and reply.status == 503, reply
    assert reply.error_type() == "unavailable"
    assert reply.headers["retry-after"] == "1"
    # Once a request ends, a new connection is served again.
    busy.pop().close()
    for _ in range(50):
        with server.connect() as sock:
            sock.sendall(get("/readyz"))
            reply = read_reply(sock)
        if reply is not None and reply.status == 200:
            break
    assert reply is not None and reply.status == 200, reply
    for sock in busy:
        sock.close()
