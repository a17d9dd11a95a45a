"""Every Redis key sluice uses is built here.

Each function's keys share one hash tag (``{echo}``), so a script that touches one
function's keys works on Redis Cluster. A job id carries its function's name
(``echo-3f2a...``), so the job's hash is found from the id alone.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import threading

FUNCTION_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_JOB_ID = re.compile(r"^([a-z][a-z0-9_]{0,62})-([0-9a-f]{32})$")
# Consumer group name on every function stream.
GROUP = "workers"


class _RandomBits:
    """os.urandom read 4 KiB at a time, not one getrandom call per job id (a gateway's
    hot path). Thread-safe, and emptied in a forked child (which must not reuse bits)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool = b""
        self._at = 0
        os.register_at_fork(after_in_child=self._forget)

    def _forget(self) -> None:
        self._lock = threading.Lock()
        self._pool, self._at = b"", 0

    def hex(self, size: int) -> str:
        with self._lock:
            if self._at + size > len(self._pool):
                self._pool, self._at = os.urandom(max(4096, size)), 0
            chunk = self._pool[self._at : self._at + size]
            self._at += size
        return chunk.hex()


_random_bits = _RandomBits()


def random_hex(size: int) -> str:
    """``size`` random bytes (from os.urandom) as hex."""
    return _random_bits.hex(size)


def new_job_id(function: str) -> str:
    """128 random bits, prefixed with the function's name."""
    return f"{function}-{random_hex(16)}"


def function_of(job_id: str) -> str | None:
    """The function named in a job id, or None if the id is not one of ours."""
    match = _JOB_ID.fullmatch(job_id)  # not .match: "$" also matches before a newline
    return match.group(1) if match else None


@dataclasses.dataclass(frozen=True, slots=True)
class FunctionKeys:
    namespace: str
    function: str
    # Built once: a busy consumer names these keys for every job.
    _prefix: str = dataclasses.field(init=False, repr=False)
    # The function's job stream; XLEN is its backlog.
    stream: str = dataclasses.field(init=False, repr=False)
    # Dead-letter stream: jobs that ran out of attempts.
    dead: str = dataclasses.field(init=False, repr=False)
    # Outbox of follow-up jobs decided by completions, waiting to be queued.
    chain: str = dataclasses.field(init=False, repr=False)
    # Consumer name -> when it last said it is alive (ms since the epoch).
    consumers: str = dataclasses.field(init=False, repr=False)
    # Delayed jobs not yet due (status scheduled): job id -> when it is due (ms since the
    # epoch); the consumers move the due ones onto the stream.
    scheduled: str = dataclasses.field(init=False, repr=False)
    # Ended jobs whose callback_url is to be told: job id -> when the next delivery
    # attempt is due (ms since the epoch; 0: at once).
    callbacks: str = dataclasses.field(init=False, repr=False)
    # Tenant -> its jobs of this function not yet ended (scheduled, queued, running).
    active: str = dataclasses.field(init=False, repr=False)
    # Jobs waiting out a retry's backoff: job id -> when it is due (ms since the epoch).
    retrying: str = dataclasses.field(init=False, repr=False)
    # Set ("1") while the function is paused: jobs queue, consumers start none.
    paused: str = dataclasses.field(init=False, repr=False)
    # Jobs read in the instant of a pause and handed back unstarted: job id -> when it was
    # queued (ms since the epoch). Delivered, so pending, yet not running.
    held: str = dataclasses.field(init=False, repr=False)
    # Counters and histograms since the function's first job (a hash; see prelude.lua's
    # count_outcome and observe, read by shared/function_stats.py).
    metrics: str = dataclasses.field(init=False, repr=False)
    # The ids of the latest jobs that ended failed, newest first (a list, capped).
    failures: str = dataclasses.field(init=False, repr=False)

    def __post_init__(self) -> None:
        prefix = f"{self.namespace}:{{{self.function}}}"
        object.__setattr__(self, "_prefix", prefix)
        object.__setattr__(self, "stream", f"{prefix}:stream")
        object.__setattr__(self, "dead", f"{prefix}:dead")
        object.__setattr__(self, "chain", f"{prefix}:chain")
        object.__setattr__(self, "consumers", f"{prefix}:consumers")
        object.__setattr__(self, "scheduled", f"{prefix}:scheduled")
        object.__setattr__(self, "callbacks", f"{prefix}:callbacks")
        object.__setattr__(self, "active", f"{prefix}:active")
        object.__setattr__(self, "retrying", f"{prefix}:retrying")
        object.__setattr__(self, "paused", f"{prefix}:paused")
        object.__setattr__(self, "held", f"{prefix}:held")
        object.__setattr__(self, "metrics", f"{prefix}:metrics")
        object.__setattr__(self, "failures", f"{prefix}:failures")

    def job(self, job_id: str) -> str:
        """The job's status hash."""
        return f"{self._prefix}:job:{job_id}"

    def upload(self, job_id: str) -> str:
        """The document uploaded with the job (a string, written in chunks)."""
        return f"{self._prefix}:upload:{job_id}"

    def taking(self, consumer: str) -> str:
        """A consumer's copy of the upload of the job it is taking (take.lua): read and
        deleted in the round trip that made it; expires after 60 s if that was cut."""
        return f"{self._prefix}:taking:{consumer}"

    def artifacts(self, job_id: str) -> str:
        """Index of the files a job produced: hash of name -> content type."""
        return f"{self._prefix}:artifacts:{job_id}"

    def artifact(self, job_id: str, name: str) -> str:
        """One file a job produced (a string of its bytes)."""
        return f"{self._prefix}:artifact:{job_id}:{name}"

    def expiring_with(self, job_id: str, idempotency_key: str = "") -> list[str]:
        """The keys that expire when the job's status does."""
        keys = [self.upload(job_id), self.artifacts(job_id)]
        if idempotency_key:
            keys.append(self.idempotency(idempotency_key))
        return keys

    def minute(self, minute: int) -> str:
        """What happened in one minute (``minute``: seconds since the epoch // 60): a hash
        of outcome -> jobs, and the backlog and running sampled in it; kept an hour."""
        return f"{self._prefix}:minute:{minute}"

    def stored(self, tenant: str) -> str:
        """Bytes the tenant stored through this function (uploads, results, artifacts): a
        hash of hour (hours since the epoch) -> bytes written in it."""
        return f"{self._prefix}:stored:{tenant}"

    def idempotency(self, key: str) -> str:
        """Maps a client's Idempotency-Key to the job it created."""
        return f"{self._prefix}:idem:{key}"


def tenant_rate(namespace: str, tenant: str) -> str:
    """A tenant's token bucket of submissions (a hash: tokens, at_ms), in a slot of its own."""
    return f"{namespace}:{{tenant:{tenant}}}:rate"


@functools.lru_cache(maxsize=1024)  # bounded: names may come from job ids clients send
def keys_for(namespace: str, function: str) -> FunctionKeys:
    return FunctionKeys(namespace, function)
