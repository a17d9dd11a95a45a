"""Worker processes for ``documents.layout_search``: forked, fed seeds through pipes.

Forked rather than started afresh: a candidate takes 10-150 ms, and a new interpreter
importing numpy and shapely and reading the site took 0.35 s, more than two workers saved
(bench/README.md). multiprocessing will not do it either: the job runs in a daemonic
child process, which multiprocessing does not let have children. A forked worker keeps
only its two pipe ends, computes, and leaves with ``os._exit``; it dies with its parent
(PR_SET_PDEATHSIG) and ends when its seed pipe closes.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pickle
import queue
import signal
import threading
from collections.abc import Callable
from typing import IO, Any

_PR_SET_PDEATHSIG = 1
Work = Callable[[int], Any]


class ForkedWorkers:
    """``count`` forked processes running ``work(seed)``; answers come back in ``get``."""

    def __init__(self, work: Work, count: int) -> None:
        self._seeds: queue.Queue[int | None] = queue.Queue()
        self._done: queue.Queue[Any] = queue.Queue()
        self._workers: list[tuple[int, IO[bytes], IO[bytes]]] = []
        # Fork every worker before any feeder thread starts: a fork copies only the
        # calling thread, so no other thread of ours can hold a lock the child needs.
        for _ in range(count):
            self._workers.append(_fork(work))
        self._threads = [
            threading.Thread(target=self._feed, args=(to, back), daemon=True)
            for _, to, back in self._workers
        ]
        for thread in self._threads:
            thread.start()

    def _feed(self, to: IO[bytes], back: IO[bytes]) -> None:
        try:
            while (seed := self._seeds.get()) is not None:
                pickle.dump(seed, to)
                to.flush()
                self._done.put(pickle.load(back))
        except Exception as exc:  # a dead pipe, or an answer that does not unpickle
            self._done.put(RuntimeError(f"a layout worker process ended: {exc!r}"))

    @property
    def pids(self) -> list[int]:
        return [pid for pid, _, _ in self._workers]

    def put(self, seed: int) -> None:
        self._seeds.put(seed)

    def get(self, timeout: float) -> Any:
        """The next answer (raised if it is an exception); queue.Empty after ``timeout``."""
        answer = self._done.get(timeout=timeout)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def close(self) -> None:
        # Killed mid-candidate (the search is over); each feeder then sees its pipe end
        # or the stop sentinel, and the pipes are closed once no thread uses them.
        for pid, _, _ in self._workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for _ in self._threads:
            self._seeds.put(None)
        for thread in self._threads:
            thread.join()
        for pid, to, back in self._workers:
            os.waitpid(pid, 0)
            for pipe in (to, back):
                with contextlib.suppress(OSError):
                    pipe.close()


def _fork(work: Work) -> tuple[int, IO[bytes], IO[bytes]]:
    prctl = _prctl()  # looked up before the fork: the child only calls it
    parent = os.getpid()
    seeds_in, seeds_out = os.pipe()
    answers_in, answers_out = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker: never returns into the parent's code
        status = 1
        try:
            _only_fds(seeds_in, answers_out)
            if prctl is not None:
                prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
            if os.getppid() == parent:  # else the parent died before the line above
                _serve(work, os.fdopen(seeds_in, "rb"), os.fdopen(answers_out, "wb"))
            status = 0
        finally:
            os._exit(status)
    os.close(seeds_in)
    os.close(answers_out)
    return pid, os.fdopen(seeds_out, "wb"), os.fdopen(answers_in, "rb")


def _prctl() -> Callable[..., int] | None:
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None  # not Linux: a worker then ends when its seed pipe closes


def _only_fds(*keep: int) -> None:
    """Close every inherited descriptor but ``keep`` and stderr, so a sibling worker's
    pipe is held open by its parent alone (its end is its parent's to close)."""
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd not in keep and fd != 2:
            with contextlib.suppress(OSError):
                os.close(fd)


def _serve(work: Work, seeds: IO[bytes], answers: IO[bytes]) -> None:
    try:
        while True:
            seed = pickle.load(seeds)
            try:
                answer = work(seed)
            except Exception as exc:  # the parent raises it as its own
                answer = exc
            pickle.dump(answer, answers)
            answers.flush()
    except (EOFError, BrokenPipeError):
        return
