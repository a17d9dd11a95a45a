"""The layout search's forked workers: answers and errors come back; none outlives its
parent, whether the search closes them or the parent is killed mid-candidate."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from documents.layout_workers import ForkedWorkers
from tests.conftest import ROOT


def double(seed: int) -> int:
    if seed < 0:
        raise ValueError(f"seed {seed} is negative")
    return seed * 2


def gone(pid: int, timeout: float = 10) -> bool:
    """Whether ``pid`` has ended (or is a zombie no one reaped) within ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
                if stat.read().split()[2] == "Z":
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.02)
    return False


def test_answers_and_errors_come_back_and_close_ends_the_workers() -> None:
    workers = ForkedWorkers(double, 2)
    pids = workers.pids
    try:
        for seed in (1, 2, 3):
            workers.put(seed)
        assert sorted(workers.get(10) for _ in range(3)) == [2, 4, 6]
        workers.put(-1)
        with pytest.raises(ValueError, match="seed -1 is negative"):
            workers.get(10)
    finally:
        workers.close()
    # Killed and reaped by close() itself: not even a zombie is left.
    assert not any(os.path.exists(f"/proc/{pid}") for pid in pids)


# A parent that forks two workers busy for a minute, says their pids, and waits.
PARENT = """
import sys, time
from documents.layout_workers import ForkedWorkers
workers = ForkedWorkers(lambda seed: time.sleep(60), 2)
workers.put(1)
workers.put(2)
print(*workers.pids, flush=True)
time.sleep(60)
"""


def test_workers_die_with_a_killed_parent() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    pids = [int(pid) for pid in parent.stdout.readline().split()]
    assert len(pids) == 2 and all(not gone(pid, timeout=0.2) for pid in pids)
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    parent.stdout.close()
    assert all(gone(pid) for pid in pids)
