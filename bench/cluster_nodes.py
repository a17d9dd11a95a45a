"""A Redis Cluster of 1 to 3 masters for the scaling bench, and the stack of consumers on it.

tests/cluster.py's LocalCluster starts the nodes; joining them is done here by hand
(CLUSTER ADDSLOTSRANGE and MEET) because ``redis-cli --cluster create`` refuses fewer
than three masters, and the curve starts at one.
"""

from __future__ import annotations

import time
from pathlib import Path

import redis

from bench.cluster_functions import NAMES
from bench.processes import Stack
from shared.embedded import RedisServer, find_redis_server
from tests.cluster import LocalCluster

SLOTS = 16384


class BenchCluster(LocalCluster):
    """``masters`` masters and no replicas, each serving an equal run of the slots (the
    split redis-cli makes)."""

    def __init__(self, data_dir: Path, masters: int) -> None:
        super().__init__(find_redis_server(), data_dir, masters=masters, replicas=0)

    def start(self, timeout: float = 30.0) -> None:
        for node in self.nodes:
            node.start()
        for n, node in enumerate(self.nodes):
            first, end = n * SLOTS // self.masters, (n + 1) * SLOTS // self.masters
            with self.client(node) as client:
                # Distinct epochs up front, as redis-cli sets them: no collision to resolve.
                client.execute_command("CLUSTER", "SET-CONFIG-EPOCH", n + 1)
                client.execute_command("CLUSTER", "ADDSLOTSRANGE", first, end - 1)
        with self.client(self.nodes[0]) as client:
            for node in self.nodes[1:]:
                client.execute_command("CLUSTER", "MEET", "127.0.0.1", node.port)
        self._wait_joined(timeout)
        self.wait_ok(timeout)

    def _wait_joined(self, timeout: float) -> None:
        """Until every node knows every other and who serves every slot: a client that
        learnt an incomplete slot map from its first node would send commands astray."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(self._joined(node) for node in self.nodes):
                return
            time.sleep(0.05)
        raise TimeoutError(f"{self.masters} nodes did not join in {timeout}s")

    def _joined(self, node: RedisServer) -> bool:
        with self.client(node) as client:
            info = dict(
                line.split(":", 1)
                for line in client.execute_command("CLUSTER", "INFO").decode().split()
            )
        known = int(info["cluster_known_nodes"]) == len(self.nodes)
        return known and int(info["cluster_slots_assigned"]) == SLOTS

    def functions_per_master(self) -> list[str]:
        """One function name of bench/cluster_functions.py per master, served by it
        (CLUSTER KEYSLOT of the name's hash tag), in the order of the masters' slots."""
        chosen: dict[int, str] = {}
        for name in NAMES:
            chosen.setdefault(self.master_of(f"{{{name}}}").port, name)
        missing = [node.port for node in self.nodes if node.port not in chosen]
        if missing:
            raise LookupError(f"no name in bench/cluster_functions.py lands on {missing}")
        return [chosen[node.port] for node in self.nodes]

    def slot_of(self, name: str) -> int:
        with self.client(self.nodes[0]) as client:
            return int(client.execute_command("CLUSTER", "KEYSLOT", f"{{{name}}}"))


class ClusterStack(Stack):
    """Consumers on one namespace of a BenchCluster, with REDIS_CLUSTER=1; every node's
    CPU counts as ``redis``."""

    def __init__(self, cluster: BenchCluster, workdir: Path, env: dict[str, str]) -> None:
        super().__init__(cluster.nodes[0], workdir, extra_env={**env, "REDIS_CLUSTER": "1"})
        self.cluster = cluster

    def sync_client(self) -> redis.Redis | redis.RedisCluster:
        return redis.RedisCluster(host="127.0.0.1", port=self.cluster.nodes[0].port)

    def redis_pids(self) -> list[int]:
        return [n.process.pid for n in self.cluster.nodes if n.process is not None]

    def stop(self) -> None:
        """Stop the consumers and empty every node for the next run."""
        for proc in self.procs:
            proc.stop()
        for node in self.cluster.nodes:
            with self.cluster.client(node) as client:
                client.flushall()
