"""Job status hashes read back (shared.jobs.status_from_hash): old, minimal, queued and
finished hashes, bytes or text, and how a status encodes to JSON.
"""

from __future__ import annotations

import msgspec
import pytest

from shared.jobs import STATUS_FIELDS, JobError, JobStatus, json_encoder, status_from_hash

pytestmark = pytest.mark.any_redis


def hmget(fields: dict[str, bytes | str]) -> list[bytes | str | None]:
    """What HMGET of STATUS_FIELDS returns for a hash holding ``fields``."""
    return [fields.get(name) for name in STATUS_FIELDS]


def test_status_of_a_missing_hash_is_none() -> None:
    assert status_from_hash([None] * len(STATUS_FIELDS)) is None
    assert status_from_hash(hmget({"job_id": b"echo-1", "function": b"echo"})) is None
    assert status_from_hash(hmget({"status": b"queued"})) is None


def test_status_of_a_minimal_old_hash() -> None:
    """Only the fields every version wrote; the rest read as their defaults."""
    hashes: list[dict[str, bytes | str]] = [
        {"job_id": b"echo-1", "function": b"echo", "status": b"queued"},
        {"job_id": "echo-1", "function": "echo", "status": "queued"},  # decoded responses
    ]
    for raw in hashes:
        status = status_from_hash(hmget(raw))
        assert status is not None
        assert status == JobStatus(
            job_id="echo-1",
            function="echo",
            status="queued",
            progress=0.0,
            message="",
            attempts=0,
            max_attempts=0,
            created_at=None,
            started_at=None,
            finished_at=None,
            error=None,
            result=None,
        )
        assert not status.is_final and status.result_value() is None


def test_status_of_a_queued_hash_as_submit_writes_it() -> None:
    fields: dict[str, bytes | str] = {
        "job_id": b"echo-1",
        "function": b"echo",
        "status": b"queued",
        "progress": b"0",
        "message": b"",
        "attempts": b"0",
        "max_attempts": b"3",
        "created_at": b"2024-01-02T03:04:05.678Z",
        "started_at": b"",
        "finished_at": b"",
        "error": b"",
        "result": b"",
    }
    status = status_from_hash(hmget(fields))
    assert status is not None
    assert status.max_attempts == 3 and status.created_at == "2024-01-02T03:04:05.678Z"
    assert status.started_at is None and status.finished_at is None
    assert status.error is None and status.result is None
    shown = msgspec.json.decode(json_encoder.encode(status))
    assert set(shown) == {
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
        "paused",
    }
    assert status.next_job_id is None and status.previous_job_id is None
    assert status.not_before is None and status.callback is None and status.paused is False


@pytest.mark.parametrize("as_text", [False, True])
def test_status_of_a_finished_hash(as_text: bool) -> None:
    fields = {
        "job_id": "work-1",
        "function": "work",
        "status": "succeeded",
        "progress": "100",
        "message": "done ✓",
        "attempts": "2",
        "max_attempts": "3",
        "created_at": "2024-01-02T03:04:05.000Z",
        "started_at": "2024-01-02T03:04:06.000Z",
        "finished_at": "2024-01-02T03:04:07.000Z",
        "error": '{"type": "ValueError", "message": "first try", "traceback": "..."}',
        "result": '{"slept": 1.5, "items": [1, 2]}',
    }
    raw: dict[str, bytes | str] = {
        name: (value if as_text else value.encode()) for name, value in fields.items()
    }
    status = status_from_hash(hmget(raw))
    assert status is not None and status.is_final
    assert status.progress == 100.0 and status.message == "done ✓" and status.attempts == 2
    # Unknown error fields (a newer or older writer) are ignored.
    assert status.error == JobError(type="ValueError", message="first try")
    assert status.result_value() == {"slept": 1.5, "items": [1, 2]}
    # The result is passed through as the raw JSON it was stored as.
    shown = msgspec.json.decode(json_encoder.encode(status))
    assert shown["result"] == {"slept": 1.5, "items": [1, 2]}
    assert shown["error"] == {"type": "ValueError", "message": "first try"}


def test_status_with_a_plain_text_error() -> None:
    """An error field that is not JSON (set by hand, or by an old version) still reads."""
    raw: dict[str, bytes | str] = {
        "job_id": b"echo-1",
        "function": b"echo",
        "status": b"failed",
        "error": b"it broke",
    }
    status = status_from_hash(hmget(raw))
    assert status is not None
    assert status.error == JobError(type="error", message="it broke")
