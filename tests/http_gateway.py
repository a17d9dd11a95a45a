"""The gateway as the Procfile runs it, started once per test module, and a raw socket's
view of it: what the HTTP limit tests (tests/test_http_limits.py, tests/test_http_timeouts.py)
send and read. Each module binds the ``gateways`` and ``gateway`` fixtures to start its own.
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
