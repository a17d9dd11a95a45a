"""The catalogue of error types clients see: a job's ``error.type`` and an HTTP error's
``error.type`` with its status. README.md's Errors section has the same two tables
(tests/test_error_catalogue.py checks they agree, and that the Lua scripts name only
types listed here).

A job's type is CamelCase; besides these, a handler's exception that is not a
PermanentError is named by its class (``ValueError``) and retried, and a handler's
PermanentError may give any type of its own. HTTP types are snake_case.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Final


@dataclasses.dataclass(frozen=True, slots=True)
class JobErrorType:
    type: str
    meaning: str
    # Whether the attempt that failed so is retried while attempts remain; if not, the
    # job ends ``failed`` (or ``cancelled``, for a follow-up not run) at once.
    retried: bool


@dataclasses.dataclass(frozen=True, slots=True)
class HttpErrorType:
    # None: the status Starlette gave (a routing refusal other than 404 and 405).
    status: int | None
    type: str
    when: str


# Job error types: the value of ``error.type`` in a job's status.
PERMANENT_ERROR: Final = "PermanentError"
INVALID_INPUT: Final = "InvalidInput"
INVALID_RESULT: Final = "InvalidResult"
UNKNOWN_FUNCTION: Final = "UnknownFunction"
NO_DOCUMENT: Final = "NoDocument"
DOCUMENT_MISSING: Final = "DocumentMissing"
TIME_LIMIT_EXCEEDED: Final = "TimeLimitExceeded"
MEMORY_LIMIT_EXCEEDED: Final = "MemoryLimitExceeded"
WORKER_DIED: Final = "WorkerDied"
ATTEMPTS_EXHAUSTED: Final = "AttemptsExhausted"
PREVIOUS_JOB_FAILED: Final = "PreviousJobFailed"
PREVIOUS_JOB_CANCELLED: Final = "PreviousJobCancelled"
PREVIOUS_JOB_EXPIRED: Final = "PreviousJobExpired"
QUEUE_FULL: Final = "QueueFull"
DOCUMENT_ERROR: Final = "DocumentError"
NOT_A_DOCUMENT: Final = "NotADocument"
ENCRYPTED_DOCUMENT: Final = "EncryptedDocument"
EMPTY_DOCUMENT: Final = "EmptyDocument"
CORRUPT_DOCUMENT: Final = "CorruptDocument"
DOCUMENT_TOO_LARGE: Final = "DocumentTooLarge"
BAD_PAGE_RANGE: Final = "BadPageRange"
BAD_PARAMETER: Final = "BadParameter"
LAYOUT_INFEASIBLE: Final = "LayoutInfeasible"
PLAIN_TEXT: Final = "error"


def _job_types(*types: JobErrorType) -> Mapping[str, JobErrorType]:
    return {entry.type: entry for entry in types}


JOB_ERROR_TYPES: Final = _job_types(
    JobErrorType(PERMANENT_ERROR, "the handler raised `PermanentError` without a type", False),
    JobErrorType(INVALID_INPUT, "the input does not match the function's schema", False),
    JobErrorType(INVALID_RESULT, "the handler's result cannot be encoded as JSON", False),
    JobErrorType(UNKNOWN_FUNCTION, "the consumer's child process has no such function", False),
    JobErrorType(NO_DOCUMENT, "`job.document()` in a function that takes no document", False),
    JobErrorType(DOCUMENT_MISSING, "the job's uploaded document expired before it ran", False),
    JobErrorType(TIME_LIMIT_EXCEEDED, "the attempt ran over the function's `timeout`", True),
    JobErrorType(MEMORY_LIMIT_EXCEEDED, "the handler allocated over its `memory_mb`", True),
    JobErrorType(WORKER_DIED, "the child process running a plain `def` handler died", True),
    JobErrorType(
        ATTEMPTS_EXHAUSTED, "the consumer died during the last attempt (dead-lettered)", False
    ),
    JobErrorType(PREVIOUS_JOB_FAILED, "a follow-up not run: the job before it failed", False),
    JobErrorType(
        PREVIOUS_JOB_CANCELLED, "a follow-up not run: the job before it was cancelled", False
    ),
    JobErrorType(
        PREVIOUS_JOB_EXPIRED, "a follow-up not run: the job before it expired first", False
    ),
    JobErrorType(QUEUE_FULL, "a follow-up found its function's backlog full", False),
    JobErrorType(DOCUMENT_ERROR, "a document the function cannot process", False),
    JobErrorType(NOT_A_DOCUMENT, "the document is not a PDF, PNG or JPEG", False),
    JobErrorType(ENCRYPTED_DOCUMENT, "the PDF is encrypted with a password", False),
    JobErrorType(EMPTY_DOCUMENT, "the PDF has no pages", False),
    JobErrorType(CORRUPT_DOCUMENT, "the document is damaged or cannot be decoded", False),
    JobErrorType(
        DOCUMENT_TOO_LARGE, "over 500 pages, or a page or image over 100 million pixels", False
    ),
    JobErrorType(BAD_PAGE_RANGE, "`first_page`/`last_page` name no page of the document", False),
    JobErrorType(BAD_PARAMETER, "an option that cannot apply to this document", False),
    JobErrorType(
        LAYOUT_INFEASIBLE,
        "no layout passed every check; the message says which and by how much",
        False,
    ),
    JobErrorType(PLAIN_TEXT, "the stored error was plain text, not JSON", False),
)


def _http_types(*types: HttpErrorType) -> Mapping[str, HttpErrorType]:
    return {entry.type: entry for entry in types}


# HTTP error types: the gateway's ``{"error": {"type", "message", ...}}`` and its status.
# The exception classes of shared/errors.py and the gateway's own answers take both from
# here.
HTTP_INVALID_INPUT: Final = HttpErrorType(
    400,
    "invalid_input",
    "body is not JSON, violates the schema or has a field it does not"
    ' (`"field": "$.seconds"` names the spot); bad `Idempotency-Key`',
)
HTTP_UNAUTHORIZED: Final = HttpErrorType(
    401, "unauthorized", "no `Authorization: Bearer` key, or one that is unknown or revoked"
)
HTTP_FORBIDDEN: Final = HttpErrorType(403, "forbidden", "the key lacks the scope the route needs")
HTTP_UNKNOWN_FUNCTION: Final = HttpErrorType(404, "unknown_function", "no such function")
HTTP_KEY_NOT_FOUND: Final = HttpErrorType(404, "key_not_found", "no API key with that id")
HTTP_JOB_NOT_FOUND: Final = HttpErrorType(404, "job_not_found", "no such job (or expired)")
HTTP_NOT_FOUND: Final = HttpErrorType(404, "not_found", "no such route")
HTTP_ARTIFACT_NOT_FOUND: Final = HttpErrorType(404, "artifact_not_found", "no such file")
HTTP_METHOD_NOT_ALLOWED: Final = HttpErrorType(405, "method_not_allowed", "wrong method on a route")
HTTP_REQUEST_TIMEOUT: Final = HttpErrorType(
    408,
    "request_timeout",
    "headers not complete in `HEADER_TIMEOUT`, or no body bytes for `BODY_TIMEOUT`",
)
HTTP_CONFLICT: Final = HttpErrorType(
    409, "conflict", "result before `succeeded`; cancel after the job ended"
)
HTTP_PAYLOAD_TOO_LARGE: Final = HttpErrorType(
    413,
    "payload_too_large",
    "body over `MAX_BODY_BYTES` (JSON) or `MAX_UPLOAD_BYTES` (document), refused while it is"
    " read; a document over the tenant's whole quota of bytes; a batch over its burst",
)
HTTP_UNSUPPORTED_MEDIA_TYPE: Final = HttpErrorType(
    415,
    "unsupported_media_type",
    "not a type the function takes (JSON, or a PDF, PNG or JPEG judged by its bytes)",
)
HTTP_IDEMPOTENCY_KEY_REUSED: Final = HttpErrorType(
    422, "idempotency_key_reused", "the `Idempotency-Key` came with another request"
)
HTTP_QUEUE_FULL: Final = HttpErrorType(
    429,
    "queue_full",
    "the function's backlog (XLEN, and its delayed jobs), or a follow-up's, is at its bound;"
    " `Retry-After`",
)
HTTP_QUOTA_EXCEEDED: Final = HttpErrorType(
    429,
    "quota_exceeded",
    "the tenant has as many jobs not yet ended as its quota allows; `Retry-After`",
)
HTTP_RATE_LIMITED: Final = HttpErrorType(
    429,
    "rate_limited",
    "the tenant submits faster than its quota of jobs per second; `Retry-After`",
)
HTTP_HEADER_TOO_LARGE: Final = HttpErrorType(
    431, "header_too_large", "request head over `MAX_HEADER_BYTES`, or over `MAX_HEADERS` fields"
)
HTTP_INTERNAL: Final = HttpErrorType(500, "internal", "a bug of ours (logged as `unhandled_error`)")
HTTP_UNAVAILABLE: Final = HttpErrorType(
    503,
    "unavailable",
    "Redis unreachable, or refusing writes (out of memory: the message says so); too many"
    " connections busy; `Retry-After`",
)
HTTP_STORAGE_QUOTA_EXCEEDED: Final = HttpErrorType(
    507,
    "storage_quota_exceeded",
    "the tenant's stored bytes (uploads, results, artifacts) are at its quota; refused"
    " before the upload is stored; `Retry-After`",
)
HTTP_OTHER: Final = HttpErrorType(None, "http_error", "any other refusal of the router")

HTTP_ERROR_TYPES: Final = _http_types(
    HTTP_INVALID_INPUT,
    HTTP_UNAUTHORIZED,
    HTTP_FORBIDDEN,
    HTTP_UNKNOWN_FUNCTION,
    HTTP_KEY_NOT_FOUND,
    HTTP_JOB_NOT_FOUND,
    HTTP_NOT_FOUND,
    HTTP_ARTIFACT_NOT_FOUND,
    HTTP_METHOD_NOT_ALLOWED,
    HTTP_REQUEST_TIMEOUT,
    HTTP_CONFLICT,
    HTTP_PAYLOAD_TOO_LARGE,
    HTTP_UNSUPPORTED_MEDIA_TYPE,
    HTTP_IDEMPOTENCY_KEY_REUSED,
    HTTP_QUEUE_FULL,
    HTTP_QUOTA_EXCEEDED,
    HTTP_RATE_LIMITED,
    HTTP_HEADER_TOO_LARGE,
    HTTP_INTERNAL,
    HTTP_UNAVAILABLE,
    HTTP_STORAGE_QUOTA_EXCEEDED,
    HTTP_OTHER,
)
