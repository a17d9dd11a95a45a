"""The processes a benchmark run starts: redis-server, consumers, a uvicorn gateway.

Each run gets a fresh namespace and fresh processes, started the way the Procfile and the
tests start them, with their output in log files under the run's folder.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import redis

from shared.embedded import RedisServer, find_redis_server, free_port
from shared.keys import GROUP, keys_for

ROOT = Path(__file__).resolve().parent.parent
# Clock ticks per second, for the utime/stime fields of /proc/PID/stat.
_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name, or None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces; the fields after it do not.
    return stat[stat.rindex(")") + 2 :].split()


def process_cpu(pid: int | None) -> float:
    """CPU seconds (user + system) of one process alone, without its children; 0 once it
    is gone."""
    fields = None if pid is None else _stat(pid)
    return 0.0 if fields is None else (int(fields[11]) + int(fields[12])) / _TICKS


def _children() -> dict[int, list[int]]:
    """Parent pid -> the pids of its living children."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def process_tree(root: int, children: dict[int, list[int]] | None = None) -> list[int]:
    """``root`` and its living descendants, each parent before its children."""
    children = _children() if children is None else children
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def cpu_seconds(roles: dict[int, str]) -> dict[str, float]:
    """CPU seconds (user + system) used so far by each process of ``roles`` (pid -> role)
    and its living descendants, summed per role."""
    children = _children()
    used: dict[str, float] = {}
    for root, role in roles.items():
        for pid in process_tree(root, children):
            used[role] = used.get(role, 0.0) + process_cpu(pid)
    return used


@contextlib.contextmanager
def redis_server(workdir: Path) -> Iterator[RedisServer]:
    """One redis-server for a whole benchmark, its data under ``workdir``/redis."""
    server = RedisServer(find_redis_server(), workdir / "redis")
    server.start()
    try:
        yield server
    finally:
        server.stop()


class Proc:
    """A child process in its own session, its output in a log file."""

    def __init__(self, role: str, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.role = role
        self.log_path = log_path
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(
                args,
                env=env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def tail(self, lines: int = 20) -> str:
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def stop(self) -> None:
        """SIGTERM (a graceful stop), SIGKILL for the whole session after 10 s."""
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


class Stack:
    """Consumers and gateways on one namespace of a shared redis-server."""

    def __init__(
        self,
        server: RedisServer,
        workdir: Path,
        python: str | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.server = server
        self.namespace = f"bench{uuid.uuid4().hex[:10]}"
        self.workdir = workdir
        self.python = python or sys.executable
        self.env = {
            **os.environ,
            **(extra_env or {}),
            "REDIS_URL": server.url,
            "SLUICE_NAMESPACE": self.namespace,
            "PYTHONPATH": str(ROOT),
        }
        self.procs: list[Proc] = []

    def start(self, role: str, args: list[str], python: str | None = None) -> Proc:
        """``python args...`` (this stack's interpreter unless told), logging to a file."""
        log = self.workdir / f"{self.namespace}-{role}-{len(self.procs)}.log"
        proc = Proc(role, [python or self.python, *args], self.env, log)
        self.procs.append(proc)
        return proc

    def start_consumers(
        self, count: int, concurrency: int, functions: Sequence[str] = ("echo",)
    ) -> list[Proc]:
        """``count`` processes of ``python -m consumers FUNCTIONS --concurrency N``."""
        args = ["-m", "consumers", *functions, "--concurrency", str(concurrency)]
        return [self.start("consumer", args) for _ in range(count)]

    def start_gateway(self, uvicorn_args: Sequence[str]) -> int:
        """uvicorn as the Procfile runs it, plus ``uvicorn_args``; returns its port."""
        port = free_port()
        args = ["-m", "uvicorn", "gateway.app:app", "--host", "127.0.0.1", "--port", str(port)]
        args += ["--http", "gateway.server:HttpProtocol"]
        self.start("gateway", [*args, *uvicorn_args])
        return port

    def wait_ready(
        self,
        consumers: int,
        gateway_port: int | None,
        timeout: float = 30,
        functions: Sequence[str] = ("echo",),
    ) -> None:
        """Until ``consumers`` consumers read the stream of each of ``functions`` and the
        gateway accepts connections."""
        streams = [keys_for(self.namespace, function).stream for function in functions]
        client = self.sync_client()
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                for proc in self.procs:
                    if not proc.alive():
                        raise RuntimeError(f"{proc.role} exited:\n{proc.tail()}")
                readers = all(_readers(client, stream) >= consumers for stream in streams)
                if readers and _listening(gateway_port):
                    return
                time.sleep(0.05)
        finally:
            client.close()
        logs = "\n".join(f"--- {p.role}\n{p.tail()}" for p in self.procs)
        raise TimeoutError(f"processes not ready after {timeout}s:\n{logs}")

    def sync_client(self) -> redis.Redis | redis.RedisCluster:
        return redis.Redis.from_url(self.server.url)

    def redis_pids(self) -> list[int]:
        return [self.server.process.pid] if self.server.process is not None else []

    def cpu(self) -> dict[str, float]:
        """CPU seconds used so far by role: redis, consumer, gateway (summed per role)."""
        roles = {proc.pid: proc.role for proc in self.procs}
        roles.update(dict.fromkeys(self.redis_pids(), "redis"))
        return cpu_seconds(roles)

    def stop(self) -> None:
        for proc in self.procs:
            proc.stop()
        client = redis.Redis.from_url(self.server.url)
        try:
            client.flushall()  # the next run starts on an empty server
        finally:
            client.close()


def _readers(client: redis.Redis | redis.RedisCluster, stream: str) -> int:
    """Consumers of the group that have issued a read (XINFO CONSUMERS lists them then)."""
    try:
        return len(client.xinfo_consumers(stream, GROUP))
    except redis.exceptions.ResponseError:
        return 0  # no stream or group yet


def _listening(port: int | None) -> bool:
    if port is None:
        return True
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def stack(running: Stack) -> Iterator[Stack]:
    """Stop the stack's processes and empty Redis when the run ends, however it ends."""
    try:
        yield running
    finally:
        running.stop()
