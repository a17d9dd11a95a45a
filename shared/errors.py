"""One exception tree: every exception class of ours derives from SluiceError.

- HttpError: what a client is told over HTTP (and what the Python client raises); each
  subclass names its entry of shared/error_types.py, which gives its status and type.
- PermanentError: raised by a handler, it fails the job at once (documents.errors'
  DocumentError and the rest under it); consumers.errors.AttemptFailed is an attempt
  that is retried while attempts remain.
- shared.settings.SettingsError and the modules' own errors (OcrError, BomInputError...).

Only HttpError reaches a client as itself: the gateway answers any other exception as a
500 ``internal`` error.
"""

from __future__ import annotations

from typing import Any, ClassVar

from shared import error_types
from shared.error_types import HttpErrorType


def status_of(http: HttpErrorType) -> int:
    """The status of a type that has its own (all but ``http_error``)."""
    if http.status is None:
        raise ValueError(f"{http.type} has no status of its own")
    return http.status


def error_body(http: HttpErrorType, message: str, **details: Any) -> dict[str, Any]:
    """What the gateway answers with, for any error: ``{"error": {"type", "message", ...}}``."""
    return {"error": {"type": http.type, "message": message, **details}}


class SluiceError(Exception):
    """Root of every exception class of ours."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message


class HttpError(SluiceError):
    """An error the gateway answers with its catalogue entry's status and type. A
    subclass names the entry: ``class X(HttpError, http=error_types.HTTP_...)``."""

    http: ClassVar[HttpErrorType]
    status_code: ClassVar[int]
    type: ClassVar[str]

    def __init_subclass__(cls, http: HttpErrorType | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if http is not None:
            cls.http, cls.status_code, cls.type = http, status_of(http), http.type

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = error_body(self.http, self.message, **self.details)["error"]
        return body


class InvalidInputError(HttpError, http=error_types.HTTP_INVALID_INPUT):
    """Body is not valid JSON or does not match the function's schema."""


class UnauthorizedError(HttpError, http=error_types.HTTP_UNAUTHORIZED):
    pass


class ForbiddenError(HttpError, http=error_types.HTTP_FORBIDDEN):
    pass


class UnknownFunctionError(HttpError, http=error_types.HTTP_UNKNOWN_FUNCTION):
    pass


class KeyNotFoundError(HttpError, http=error_types.HTTP_KEY_NOT_FOUND):
    pass


class JobNotFoundError(HttpError, http=error_types.HTTP_JOB_NOT_FOUND):
    """Unknown, malformed or expired job id."""


class ArtifactNotFoundError(HttpError, http=error_types.HTTP_ARTIFACT_NOT_FOUND):
    pass


class NotFoundError(HttpError, http=error_types.HTTP_NOT_FOUND):
    pass


class MethodNotAllowedError(HttpError, http=error_types.HTTP_METHOD_NOT_ALLOWED):
    pass


class JobStateError(HttpError, http=error_types.HTTP_CONFLICT):
    """The job is not in a state that allows this (result before success, cancel after end)."""


class RequestTimeoutError(HttpError, http=error_types.HTTP_REQUEST_TIMEOUT):
    """The request body stopped arriving while the gateway waited for it."""


class PayloadTooLargeError(HttpError, http=error_types.HTTP_PAYLOAD_TOO_LARGE):
    pass


class UnsupportedMediaTypeError(HttpError, http=error_types.HTTP_UNSUPPORTED_MEDIA_TYPE):
    pass


class IdempotencyKeyReusedError(HttpError, http=error_types.HTTP_IDEMPOTENCY_KEY_REUSED):
    """The Idempotency-Key came with another request (function, parameters or document)."""


class RetryLaterError(HttpError):
    """Carries how long to wait, sent as Retry-After."""

    retry_after: int = 1

    def __init__(self, message: str, retry_after: int = 1, **details: Any) -> None:
        super().__init__(message, **details)
        self.retry_after = retry_after


class QueueFullError(RetryLaterError, http=error_types.HTTP_QUEUE_FULL):
    pass


class QuotaExceededError(RetryLaterError, http=error_types.HTTP_QUOTA_EXCEEDED):
    """The tenant's jobs not yet ended are at its quota."""


class RateLimitedError(RetryLaterError, http=error_types.HTTP_RATE_LIMITED):
    """The tenant's submissions per second are over its quota (token bucket)."""


class StorageQuotaError(RetryLaterError, http=error_types.HTTP_STORAGE_QUOTA_EXCEEDED):
    """The tenant's stored bytes are at its quota."""


class UnavailableError(RetryLaterError, http=error_types.HTTP_UNAVAILABLE):
    """Redis cannot be reached."""


class PermanentError(SluiceError):
    """Raised by a handler: the job fails at once, without retry (bad document, bad input).
    ``type`` is the job's ``error.type``: one of shared/error_types.py, or the handler's own."""

    def __init__(self, message: str, type: str = error_types.PERMANENT_ERROR) -> None:
        super().__init__(message)
        self.type = type
