"""The code that runs inside a warm child process: take a task, run the handler, reply.

Messages on the pipe are the tagged structs of consumers/execution.py, msgpack-encoded,
one per frame of multiprocessing's Connection (``send_bytes``/``recv_bytes``):
consumer -> child one ``Task``; child -> consumer ``Progress`` and ``SavedArtifact`` any
number of times, then one ``Succeeded`` (the result JSON) or ``Failed`` (type, message and
whether it is permanent). Then the child waits for its next task.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import resource
import signal
import sys
import threading
import time
from multiprocessing.connection import Connection

from consumers.context import Artifact, HandlerJob
from consumers.execution import (
    Failed,
    Outcome,
    Progress,
    SavedArtifact,
    Task,
    execute,
    message_encoder,
    task_decoder,
)
from shared import error_types
from shared.functions import get_function, load_functions

_MB = 1024 * 1024
# linux/prctl.h: deliver a signal to this process when its parent exits.
_PR_SET_PDEATHSIG = 1
# glibc malloc.h: mallopt(3) parameters.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


class ChildJob(HandlerJob):
    """A synchronous handler's context: reports and artifacts go back over the pipe."""

    def __init__(self, conn: Connection, task: Task) -> None:
        super().__init__(task.job_id, task.attempt, task.document)
        self._conn = conn

    def _report(self, percent: float, message: str) -> None:
        self._conn.send_bytes(message_encoder.encode(Progress(percent, message)))

    def _keep(self, artifact: Artifact) -> None:
        saved = SavedArtifact(artifact.name, artifact.content_type, artifact.data)
        self._conn.send_bytes(message_encoder.encode(saved))


def _virtual_memory_bytes() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _die_with(parent_pid: int) -> None:
    """Exit as soon as the consumer is gone, so an orphan never finishes a job twice.

    Our parent is the forkserver, which exits the moment the consumer does: the kernel
    then SIGKILLs us (PR_SET_PDEATHSIG). A thread that checks the consumer's pid covers
    the rest (a consumer that died before we got here, a zombie not yet reaped).
    """
    forkserver = os.getppid()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != forkserver:
        os._exit(1)

    def watch() -> None:
        while True:
            try:
                os.kill(parent_pid, 0)
            except ProcessLookupError:
                os._exit(1)
            time.sleep(0.2)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _limit_memory(limit: int) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _run_one(conn: Connection, task: Task, baseline: int) -> Outcome:
    spec = get_function(task.function)
    if spec is None:
        message = f"no function {task.function!r} in this process"
        return Failed(error_types.UNKNOWN_FUNCTION, message, permanent=True)
    _limit_memory(baseline + task.memory_mb * _MB)
    try:
        return execute(spec, ChildJob(conn, task), task.payload, task.memory_mb)
    finally:
        _limit_memory(resource.RLIM_INFINITY)


def reuse_freed_memory() -> None:
    """Keep the memory a job frees for the next job instead of giving it back to the kernel.

    A page job holds several page-sized buffers at once (pixmaps, images, masks) and frees
    them all; by default glibc gives back the free top of the heap once it is over twice
    the largest block freed so far, and the next job takes it again page fault by page
    fault. Blocks up to 32 MB (glibc's own ceiling for its sliding threshold) are taken
    from the heap and its free top is kept up to 128 MB (beyond that glibc gives it all
    back); bench/README.md has the page faults saved. Left alone where the operator
    tuned malloc (``MALLOC_*``, ``GLIBC_TUNABLES``) and where there is no glibc mallopt
    (musl, macOS) or it refuses.
    """
    if any(name.startswith("MALLOC_") or name == "GLIBC_TUNABLES" for name in os.environ):
        return
    with contextlib.suppress(OSError, AttributeError):
        mallopt = ctypes.CDLL(None).mallopt
        # Setting either turns glibc's sliding thresholds off: the trim one only if the
        # mmap one was taken (a 32-bit glibc refuses 32 MB).
        if mallopt(_M_MMAP_THRESHOLD, 32 * _MB) == 1:
            mallopt(_M_TRIM_THRESHOLD, 128 * _MB)


def _share_cpus(slots: int) -> None:
    """OpenCV starts a worker thread per CPU it may use (affinity and cgroup quota) in
    every process: ``slots`` children running at once would oversubscribe the cores (two
    raster ingests at once on two cores: 1.99 s per job with two threads each, 1.92 s
    with one), so each takes its share."""
    cv2 = sys.modules.get("cv2")  # imported by a function module, or not needed
    if cv2 is not None and slots > 1:
        cv2.setNumThreads(max(1, cv2.getNumberOfCPUs() // slots))


def child_main(conn: Connection, modules: tuple[str, ...], parent_pid: int, slots: int) -> None:
    """Entry point of a child process: serve tasks until the pipe closes."""
    # The consumer decides about shutdown; a signal to the whole group must not kill us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _die_with(parent_pid)
    reuse_freed_memory()
    load_functions(modules)
    _share_cpus(slots)
    # The imported libraries are tens of thousands of objects (PyMuPDF, OpenCV, numpy):
    # frozen, garbage collections skip them (and their pages stay shared with the
    # forkserver).
    gc.freeze()
    baseline = _virtual_memory_bytes()
    while True:
        try:
            task = task_decoder.decode(conn.recv_bytes())
        except (EOFError, OSError):
            return
        outcome = _run_one(conn, task, baseline)
        conn.send_bytes(message_encoder.encode(outcome))
