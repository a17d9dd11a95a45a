"""A real local Redis Cluster for tests and the bench: redis-server processes with
``--cluster-enabled yes``, joined by ``redis-cli --cluster create``."""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import time
from pathlib import Path

import redis

from shared.embedded import RedisServer

# Short, so that a killed master's replica is promoted within a couple of seconds.
NODE_TIMEOUT_MS = 1000


class LocalCluster:
    """``masters`` masters with ``replicas`` replicas each, on free loopback ports."""

    def __init__(self, binary: str, data_dir: Path, masters: int = 3, replicas: int = 1) -> None:
        self.masters = masters
        self.replicas = replicas
        extra = (
            *("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"),
            *("--cluster-node-timeout", str(NODE_TIMEOUT_MS)),
            # A lone master serves its slots even while another shard has none.
            *("--cluster-require-full-coverage", "no"),
        )
        count = masters * (1 + replicas)
        self.nodes = [
            RedisServer(binary, data_dir / f"n{n}", port=_cluster_port(), extra=extra)
            for n in range(count)
        ]

    @property
    def url(self) -> str:
        """Any node will do: the client learns the others from it."""
        return self.nodes[0].url

    def start(self, timeout: float = 30.0) -> None:
        for node in self.nodes:
            node.start()
        cli = shutil.which("redis-cli")
        assert cli is not None, "redis-cli is needed to create a cluster"
        addresses = [f"127.0.0.1:{node.port}" for node in self.nodes]
        subprocess.run(
            [cli, "--cluster", "create", *addresses, "--cluster-replicas", str(self.replicas)]
            + ["--cluster-yes"],
            check=True,
            capture_output=True,
            timeout=timeout,
        )
        self.wait_ok(timeout)

    def wait_ok(self, timeout: float = 30.0) -> None:
        """Until every live node says the cluster is ok and every replica is in sync
        with its master (a replica that never synced would not take over)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(self._ok(node) for node in self.live()):
                return
            time.sleep(0.1)
        raise TimeoutError("the cluster did not become ok in time")

    def live(self) -> list[RedisServer]:
        return [n for n in self.nodes if n.process is not None and n.process.poll() is None]

    def client(self, node: RedisServer) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=node.port, socket_timeout=5)

    def role(self, node: RedisServer) -> str:
        with self.client(node) as client:
            return str(client.execute_command("ROLE")[0].decode())

    def master_of(self, key: str) -> RedisServer:
        """The node serving the slot of ``key`` now."""
        with self.client(self.live()[0]) as client:
            slot = int(client.execute_command("CLUSTER", "KEYSLOT", key))
            for start, end, master, *_ in client.execute_command("CLUSTER", "SLOTS"):
                if start <= slot <= end:
                    port = int(master[1])
                    return next(n for n in self.nodes if n.port == port)
        raise LookupError(f"no node serves the slot of {key!r}")

    def replica_of(self, master: RedisServer) -> RedisServer:
        with self.client(master) as client:
            node_id = client.execute_command("CLUSTER", "MYID").decode()
            for line in client.execute_command("CLUSTER", "REPLICAS", node_id):
                port = int(line.decode().split()[1].split(":")[1].split("@")[0])
                return next(n for n in self.nodes if n.port == port)
        raise LookupError("the master has no replica")

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def _ok(self, node: RedisServer) -> bool:
        try:
            with self.client(node) as client:
                info = client.execute_command("CLUSTER", "INFO").decode()
                replication = client.info("replication")
        except redis.RedisError:
            return False
        synced = replication["role"] == "master" or replication["master_link_status"] == "up"
        return "cluster_state:ok" in info and synced


def _cluster_port() -> int:
    """A free port whose cluster bus port (+10000) is free and exists too."""
    for _ in range(200):
        port = random.randrange(20000, 55000)
        if all(_free(p) for p in (port, port + 10000)):
            return port
    raise RuntimeError("no free port pair for a cluster node")


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
