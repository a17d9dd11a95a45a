"""Job messages: what a status hash holds, and how it reads as the API's JSON."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final

import msgspec

# A delayed job not yet due; it becomes queued when it is (consumers/timers.py).
SCHEDULED: Final = "scheduled"
QUEUED: Final = "queued"
RUNNING: Final = "running"
RETRYING: Final = "retrying"
SUCCEEDED: Final = "succeeded"
FAILED: Final = "failed"
CANCELLED: Final = "cancelled"
FINAL_STATUSES: Final = frozenset({SUCCEEDED, FAILED, CANCELLED})

# Hash fields the API shows; the others (entry_id, consumer, cancel, ...) are internal.
STATUS_FIELDS: Final = (
    "job_id",
    "function",
    "status",
    "progress",
    "message",
    "attempts",
    "max_attempts",
    "created_at",
    "started_at",
    "finished_at",
    "error",
    "result",
    "next_job_id",
    "previous_job_id",
    "not_before",
    "callback",
)
# The hash field naming whose job it is (the API key's tenant; absent or "" with auth off).
# Never shown in the status: a tenant sees only its own jobs.
TENANT_FIELD: Final = "tenant"


def belongs_to(job_tenant: bytes | str | None, tenant: str | None) -> bool:
    """Whether a job whose hash holds ``job_tenant`` may be seen and touched by ``tenant``;
    None is any tenant (an admin, the platform itself). cancel.lua decides it too."""
    if tenant is None:
        return True
    if isinstance(job_tenant, bytes):
        job_tenant = job_tenant.decode()
    return (job_tenant or "") == tenant


class JobError(msgspec.Struct, frozen=True):
    type: str
    message: str


class CallbackState(msgspec.Struct, frozen=True):
    """Where the delivery of the final status to the job's callback_url stands: pending
    (not yet tried, or retrying: ``last_error`` says why), delivered, or failed (given up
    after its attempts)."""

    status: str
    attempts: int = 0
    last_error: str | None = None


class JobStatus(msgspec.Struct, frozen=True):
    job_id: str
    function: str
    status: str
    progress: float
    message: str
    attempts: int
    max_attempts: int
    created_at: str | None
    started_at: str | None
    finished_at: str | None
    error: JobError | None
    # Kept as raw JSON: the gateway passes it through without decoding.
    result: msgspec.Raw | None
    # A chain: the job queued with this one's result, and the job whose result this is.
    next_job_id: str | None = None
    previous_job_id: str | None = None
    # A delayed job: when it is due (RFC 3339); None for a job queued at once.
    not_before: str | None = None
    # A job submitted with a callback_url, once it has ended: its delivery's state.
    callback: CallbackState | None = None
    # A queued or retrying job whose function is paused: it waits until it is resumed.
    paused: bool = False

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    def result_value(self) -> Any:
        return None if self.result is None else msgspec.json.decode(self.result)


class FollowUp(msgspec.Struct, frozen=True, omit_defaults=True, forbid_unknown_fields=True):
    """One function of a chain (``?then=bom&bom.ceiling_height_mm=2400``): its input is
    the result of the job before it with ``params`` on top (an object result; the
    follow-up's own fields win)."""

    function: str
    params: dict[str, Any] = {}


# A chain as a job's hash keeps it (``then``): older hashes hold bare function names.
chain_decoder = msgspec.json.Decoder(list[str | FollowUp])


def follow_ups(raw: bytes | str | None) -> list[FollowUp]:
    """The chain kept in a job's ``then`` field."""
    items = chain_decoder.decode(raw or b"[]")
    return [FollowUp(item) if isinstance(item, str) else item for item in items]


class Submission(msgspec.Struct, frozen=True, omit_defaults=True):
    job_id: str
    function: str
    status: str
    status_url: str
    created_at: str
    # Only for a chain: the job that will get this one's result.
    next_job_id: str | None = None
    # An Idempotency-Key's replay: this is the job the first request made.
    replayed: bool = False
    # A delayed job: when it is due (RFC 3339).
    not_before: str | None = None


_error_decoder = msgspec.json.Decoder(JobError)
_callback_decoder = msgspec.json.Decoder(CallbackState)
json_encoder = msgspec.json.Encoder()


def _decode_error(raw: bytes | str) -> JobError:
    """The error field's JSON; plain text (written by hand or by an old version) as is."""
    try:
        return _error_decoder.decode(raw)
    except msgspec.DecodeError:
        message = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
        return JobError(type="error", message=message)


_last_iso: tuple[int, str] = (0, "")


def now_iso() -> str:
    """Now as an RFC 3339 UTC string with milliseconds (formatted once per millisecond:
    a busy consumer stamps thousands of jobs and log lines a second)."""
    global _last_iso
    ms = time.time_ns() // 1_000_000
    if ms != _last_iso[0]:
        second = datetime.fromtimestamp(ms // 1000, UTC).replace(microsecond=ms % 1000 * 1000)
        text = second.isoformat(timespec="milliseconds")
        _last_iso = (ms, text.replace("+00:00", "Z"))
    return _last_iso[1]


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def encode_error(type: str, message: str) -> bytes:
    return json_encoder.encode(JobError(type=type, message=message))


def status_from_hash(values: Sequence[bytes | str | None]) -> JobStatus | None:
    """Build a JobStatus from an HMGET of STATUS_FIELDS; None if the hash does not exist.

    Missing or empty fields (a hash an older version wrote) read as their defaults, and
    values may come as bytes or, from a client that decodes responses, as str.
    """
    fields = dict(zip(STATUS_FIELDS, values, strict=True))
    if fields["job_id"] is None or fields["status"] is None:
        return None

    def text(name: str) -> str | None:
        raw = fields[name]
        if not raw:
            return None
        return raw.decode() if isinstance(raw, bytes) else raw

    error = _decode_error(fields["error"]) if fields["error"] else None
    return JobStatus(
        job_id=text("job_id") or "",
        function=text("function") or "",
        status=text("status") or "",
        progress=float(fields["progress"] or 0),
        message=text("message") or "",
        attempts=int(fields["attempts"] or 0),
        max_attempts=int(fields["max_attempts"] or 0),
        created_at=text("created_at"),
        started_at=text("started_at"),
        finished_at=text("finished_at"),
        error=error,
        result=msgspec.Raw(fields["result"]) if fields["result"] else None,
        next_job_id=text("next_job_id"),
        previous_job_id=text("previous_job_id"),
        not_before=text("not_before"),
        callback=_callback_decoder.decode(fields["callback"]) if fields["callback"] else None,
    )
