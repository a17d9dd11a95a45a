"""Functions the tests load through FUNCTION_MODULES=tests.functions, as a user would.

Handlers that must leave a trace write lines to a file named in their input, so a test
can count how often each one really ran (its effect).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import resource
import signal
import sys
import time
from typing import Literal

import msgspec

from shared.functions import JobContext, PermanentError, function
from shared.uploads import Document


class Work(msgspec.Struct, frozen=True):
    seconds: float = 0.0
    # A file the handler appends "<job_id> <attempt> <pid> <what>" lines to.
    effect_path: str | None = None
    # Fail with an ordinary error on attempts before this one.
    succeed_on: int = 1
    permanent: bool = False


def _note(params: Work, job: JobContext, what: str) -> None:
    if params.effect_path:
        with open(params.effect_path, "a", encoding="utf-8") as effect:
            effect.write(f"{job.job_id} {job.attempt} {os.getpid()} {what} {time.time()}\n")


@function("work", input=Work, timeout=60, max_attempts=3, backoff=0.4)
def work(job: JobContext, params: Work) -> dict[str, object]:
    """Sleeps, optionally failing first; notes its start and its effect."""
    _note(params, job, "start")
    job.progress(10, "started")
    if params.permanent:
        raise PermanentError("this input can never work", type="BadInput")
    if job.attempt < params.succeed_on:
        raise ValueError(f"failing attempt {job.attempt} on purpose")
    deadline = time.monotonic() + params.seconds
    while time.monotonic() < deadline:
        time.sleep(min(0.05, params.seconds))
    job.progress(90, "writing")
    _note(params, job, "effect")
    return {"slept": params.seconds, "attempt": job.attempt, "pid": os.getpid()}


@function("async_work", input=Work, timeout=60, max_attempts=3, backoff=0.4)
async def async_work(job: JobContext, params: Work) -> dict[str, object]:
    _note(params, job, "start")
    await asyncio.sleep(params.seconds)
    _note(params, job, "effect")
    return {"slept": params.seconds, "attempt": job.attempt}


@function("slow_retry", input=Work, timeout=30, max_attempts=2, backoff=60)
def slow_retry(job: JobContext, params: Work) -> dict[str, object]:
    """``work``, retried a minute later: a test acts on the job while it waits to retry."""
    result: dict[str, object] = work(job, params)
    return result


@function("crash", input=Work, timeout=30, max_attempts=3, backoff=0.2)
def crash(job: JobContext, params: Work) -> None:
    """A poison job: kills the process running it, every time."""
    _note(params, job, "start")
    os.kill(os.getpid(), signal.SIGKILL)


@function("spin", input=Work, timeout=1.5, max_attempts=1)
def spin(job: JobContext, params: Work) -> None:
    """CPU-bound and never returns."""
    _note(params, job, "start")
    while True:
        pass


class Hog(msgspec.Struct, frozen=True):
    megabytes: int


@function("hog", input=Hog, timeout=30, max_attempts=1, memory_mb=200)
def hog(job: JobContext, params: Hog) -> dict[str, int]:
    """Allocates more memory than its limit allows."""
    block = bytearray(params.megabytes * 1024 * 1024)
    return {"allocated": len(block)}


@function("tiny_queue", input=Work, max_backlog=2)
def tiny_queue(job: JobContext, params: Work) -> None:
    """A function whose backlog bound is 2 jobs."""


@function("crash_consumer", input=Work, timeout=30, max_attempts=3, backoff=0.2)
async def crash_consumer(job: JobContext, params: Work) -> None:
    """A poison async job: it runs inside the consumer, and kills it, every time."""
    _note(params, job, "start")
    os.kill(os.getpid(), signal.SIGKILL)


class Pages(msgspec.Struct, frozen=True):
    count: int = 2
    # Bytes per page; page n is all one letter ("a" for page 1, "b" for page 2, ...).
    size: int = 1024
    content_type: str = "application/octet-stream"


def page_bytes(number: int, size: int) -> bytes:
    """The bytes the ``pages`` function saves as page ``number`` (from 1)."""
    return bytes([ord("a") + (number - 1) % 26]) * size


@function("pages", input=Pages, timeout=30, max_attempts=2, backoff=0.2)
def pages(job: JobContext, params: Pages) -> dict[str, object]:
    """Saves ``count`` artifacts page-1.bin, page-2.bin, ..."""
    names: list[str] = []
    for number in range(1, params.count + 1):
        name = f"page-{number}.bin"
        job.save_artifact(name, page_bytes(number, params.size), params.content_type)
        names.append(name)
    return {"pages": names, "attempt": job.attempt}


class Nothing(msgspec.Struct, frozen=True):
    pass


@function("cv2_threads", input=Nothing, timeout=30, preload=("cv2",))
def cv2_threads(job: JobContext, params: Nothing) -> dict[str, int]:
    """How many worker threads OpenCV was given in this child, and the CPUs it may use
    (its own count: affinity and cgroup quota)."""
    cv2 = sys.modules["cv2"]
    return {"threads": int(cv2.getNumThreads()), "cpus": int(cv2.getNumberOfCPUs())}


@function("doomed", input=Nothing, timeout=10, max_attempts=1)
async def doomed(job: JobContext, params: Nothing) -> None:
    """Fails its only attempt: every job ends in the dead-letter stream."""
    raise ValueError(f"{job.job_id} fails on purpose")


class Buffers(msgspec.Struct, frozen=True):
    count: int = 10
    mb: int = 4


@function("buffers", input=Buffers, timeout=30)
def buffers(job: JobContext, params: Buffers) -> dict[str, int]:
    """Hold ``count`` buffers of ``mb`` MB at once and free them, as a page pipeline does
    with its images: the page faults that took, and this process."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    held = [bytearray(params.mb << 20) for _ in range(params.count)]
    del held
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    return {"faults": faults, "pid": os.getpid()}


class Reports(msgspec.Struct, frozen=True):
    count: int = 2000
    seconds: float = 1.0


@function("chatty", input=Reports, timeout=30)
def chatty(job: JobContext, params: Reports) -> dict[str, int]:
    """Reports progress ``count`` times, spread over ``seconds``, and returns at once."""
    for n in range(1, params.count + 1):
        job.progress(100 * n / params.count, f"report {n}")
        time.sleep(params.seconds / params.count)
    return {"reports": params.count}


class Upload(msgspec.Struct, frozen=True):
    document: Document
    seconds: float = 0.0
    # Fail the attempts before this one (after reading the document).
    succeed_on: int = 1


@function("digest", input=Upload, timeout=30, takes_document=True, backoff=0.2)
def digest(job: JobContext, params: Upload) -> dict[str, object]:
    """The size and SHA-256 of the job's own upload, after ``seconds``."""
    time.sleep(params.seconds)
    data = job.document()
    if job.attempt < params.succeed_on:
        raise RuntimeError(f"attempt {job.attempt} fails on purpose")
    return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


class Ending(msgspec.Struct, frozen=True):
    """How an ``ending`` function (sync here, async in tests/async_functions.py) ends."""

    how: Literal[
        "succeed",
        "permanent",
        "error",
        "unencodable",
        "document",
        "progress",
        "bad_artifact",
        "not_utf8",
    ] = "succeed"


def end_as(job: JobContext, params: Ending) -> dict[str, object]:
    """The body of both ``ending`` functions, so each outcome is the same code sync or async."""
    if params.how == "permanent":
        raise PermanentError("refused on purpose", type="Refused")
    if params.how == "error":
        raise LookupError(f"attempt {job.attempt} fails on purpose")
    if params.how == "unencodable":
        return {"value": object()}
    if params.how == "document":
        job.document()
    if params.how == "progress":
        job.progress(-5, "below")
        job.progress(150, "above")
        job.progress(42.5, "between")
        job.save_artifact("note.txt", b"hello", "text/plain")
    if params.how == "bad_artifact":
        job.save_artifact("../escape", b"hello", "text/plain")
    if params.how == "not_utf8":
        name = os.fsdecode(b"plan-\xff.pdf")  # a lone surrogate stands for the byte
        job.progress(50, f"reading {name}")
        raise FileNotFoundError(f"no {name}")
    return {"how": params.how, "attempt": job.attempt, "pid": os.getpid()}


@function("ending", input=Ending, timeout=30, max_attempts=2, backoff=0.2)
def ending(job: JobContext, params: Ending) -> dict[str, object]:
    return end_as(job, params)
