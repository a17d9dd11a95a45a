"""HTTP limits of the gateway as the Procfile runs it (gateway.server.HttpProtocol and the
body timeout of gateway.middleware): header size and count (431), slow headers (408 or
closed), a stalled body (408) and the connection cap (idle ones evicted, else 503).

Raw sockets to 127.0.0.1: an HTTP client library would refuse to send most of this.
"""

from __future__ import annotations

import dataclasses
import json
import os
import select
import shlex
import socket
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest

from shared.embedded import RedisServer
from tests.conftest import ROOT, Proc, listening_socket

pytestmark = pytest.mark.any_redis

# Seconds any single wait for the gateway may take before the test gives up.
PATIENCE = 10.0


def procfile_web_command() -> list[str]:
    """The Procfile's web line, run by this interpreter, with the address left out (the
    test hands the gateway a listening socket)."""
    line = next(
        line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:")
    )
    words = shlex.split(line.removeprefix("web:"))
    assert words[0] == "uvicorn", line
    command = [sys.executable, "-m", "uvicorn"]
    rest = iter(words[1:])
    for word in rest:
        if word in ("--host", "--port"):
            next(rest)
        else:
            command.append(word)
    return command


# States in /proc/net/tcp of a connection whose server side is still open: SYN_RECV,
# ESTABLISHED (accepted or waiting to be), CLOSE_WAIT (the client left, the server not yet).
HELD_STATES = frozenset({"03", "01", "08"})


@dataclasses.dataclass
class Gateway:
    port: int
    proc: Proc

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=PATIENCE)

    def reset_peak_rss(self) -> None:
        """Start the peak (VmHWM) over from the current RSS: the gateway is shared."""
        Path(f"/proc/{self.proc.pid}/clear_refs").write_text("5")

    def peak_rss_kb(self) -> int:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
        return int(line.split()[1])

    def held_connections(self) -> int:
        """Connections to the gateway that it has not closed yet."""
        local = f":{self.port:04X}"
        rows = (line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:])
        return sum(1 for row in rows if row[1].endswith(local) and row[3] in HELD_STATES)

    def settled(self) -> bool:
        """Whether the gateway comes to hold no connection (within PATIENCE)."""
        deadline = time.monotonic() + PATIENCE
        while self.held_connections():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True


@dataclasses.dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def error_type(self) -> str:
        error = json.loads(self.body)["error"]
        assert isinstance(error["message"], str) and error["message"], error
        return str(error["type"])


def read_reply(sock: socket.socket, timeout: float = PATIENCE) -> Reply | None:
    """The next response on ``sock``; None if the gateway closed it without one."""
    sock.settimeout(timeout)
    data = b""
    try:
        while b"\r\n\r\n" not in data and len(data) < 1 << 20:
            chunk = sock.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
    except ConnectionResetError:
        return None
    return Reply(int(lines[0].split(" ", 2)[1]), headers, body)


def closed_by_gateway(sock: socket.socket, timeout: float) -> bool:
    """Whether the gateway closes ``sock`` (sending nothing more) within ``timeout`` s."""
    sock.settimeout(timeout)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def send_until_answered(sock: socket.socket, chunks: Iterable[bytes]) -> None:
    """Send ``chunks`` until the gateway answers or stops reading."""
    for chunk in chunks:
        readable, _, _ = select.select([sock], [], [], 0)
        if readable:
            return
        try:
            sock.sendall(chunk)
        except OSError:
            return


def get(path: str, *headers: str) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", *headers, "", ""]
    return "\r\n".join(lines).encode()


def start_gateway(env: dict[str, str], log: Path) -> Gateway:
    """Start the Procfile's web command; returns once it answers."""
    with listening_socket() as sock:
        port = sock.getsockname()[1]
        proc = Proc(
            [*procfile_web_command(), "--fd", str(sock.fileno()), "--log-level", "warning"],
            env,
            log,
            pass_fds=(sock.fileno(),),
        )
    started = Gateway(port, proc)
    # The socket already listens: the first request waits for the app's startup.
    with started.connect() as probe:
        probe.sendall(get("/healthz", "Connection: close"))
        reply = read_reply(probe, timeout=30)
    assert reply is not None and reply.status == 200, proc.log()
    return started


@pytest.fixture(scope="module")
def gateways(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Gateway]]:
    """The module's gateways, started on first use, one per set of settings: each costs
    a process start."""
    started: dict[str, Gateway] = {}
    yield started
    for server in started.values():
        server.proc.stop()


@pytest.fixture
def gateway(
    gateways: dict[str, Gateway],
    redis_server: RedisServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., Gateway]]:
    """The module's gateway with this extra environment; the test must leave it as it
    found it, holding no connection (checked after the test; one that does not recover
    is stopped, and the next test starts another)."""
    used: list[tuple[str, Gateway]] = []

    def server(**extra_env: str) -> Gateway:
        key = " ".join(f"{name}={value}" for name, value in sorted(extra_env.items()))
        if key not in gateways:
            env = {
                **os.environ,
                "REDIS_URL": redis_server.url,
                "SLUICE_NAMESPACE": f"t{uuid.uuid4().hex[:12]}",
                "FUNCTION_MODULES": "tests.functions",
                "LOG_FORMAT": "json",
                "PYTHONPATH": str(ROOT),
                **extra_env,
            }
            gateways[key] = start_gateway(env, tmp_path_factory.mktemp("gateway") / "log")
        assert gateways[key].settled()
        used.append((key, gateways[key]))
        return gateways[key]

    yield server
    for key, shared in used:
        if not shared.settled():
            gateways.pop(key).proc.stop()
            raise AssertionError(f"the gateway {key} still holds connections")


# Settings the tests share gateways by: a connection cap small enough to reach (the other
# tests hold at most two connections at once), and short header and body timeouts.
CAP = 5
CAPPED = {"MAX_CONNECTIONS": str(CAP)}
TIMED = {"HEADER_TIMEOUT": "1", "BODY_TIMEOUT": "1"}


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
