"""The consumer of ``bench.documents``: starting it, its CPU split between the consumer
process and its children, and the memory of its warm processes."""

from __future__ import annotations

from pathlib import Path

from bench.document_workloads import FUNCTIONS
from bench.measure import CpuMeter
from bench.processes import Stack, process_cpu, process_tree


def start_consumer(running: Stack, timeout: float = 60.0) -> int:
    """``python -m consumers ingest render --concurrency 1``; its pid once it reads."""
    [proc] = running.start_consumers(1, 1, FUNCTIONS)
    running.wait_ready(1, None, timeout, FUNCTIONS)
    return proc.pid


def consumer_meter(running: Stack, consumer: int) -> CpuMeter:
    """A meter of CPU by role: bench (this process), redis, the ``consumer`` process alone,
    and ``child``: its forkserver and warm children."""

    def roles() -> dict[str, float]:
        alone = process_cpu(consumer)
        used = running.cpu()  # the consumer's role holds its whole process tree
        return {
            "redis": used.get("redis", 0.0),
            "consumer": alone,
            "child": used.get("consumer", 0.0) - alone,
        }

    return CpuMeter(running, roles)


def without_uvloop(workdir: Path) -> Path:
    """A folder that, first on PYTHONPATH, makes ``import uvloop`` fail: the consumer then
    runs on asyncio's own event loop (``consumers.__main__.run``)."""
    shim = workdir / "no-uvloop"
    (shim / "uvloop").mkdir(parents=True, exist_ok=True)
    (shim / "uvloop" / "__init__.py").write_text(
        'raise ImportError("uvloop is switched off by bench.documents --no-uvloop")\n'
    )
    return shim


def warm_processes(root: int) -> list[tuple[int, int, str, float]]:
    """(pid, parent, role, RSS MB) of the consumer ``root`` and its descendants."""
    found = []
    for pid in process_tree(root):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue  # gone meanwhile
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        parent = int(fields["PPid"])
        rss = int(fields.get("VmRSS", "0 kB").split()[0]) / 1024
        if pid == root:
            role = "consumer"
        elif "resource_tracker" in cmdline:
            role = "resource tracker"
        elif parent == root:
            role = "forkserver"
        else:
            role = "warm child"
        found.append((pid, parent, role, rss))
    return found
