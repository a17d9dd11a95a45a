"""One exception tree. Each SluiceError maps to exactly one HTTP status."""

from __future__ import annotations

from typing import Any, ClassVar


class SluiceError(Exception):
    """Base of every error a client can be told about."""

    status_code: ClassVar[int] = 400
    type: ClassVar[str] = "bad_request"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "message": self.message, **self.details}


class InvalidInputError(SluiceError):
    """Body is not valid JSON or does not match the function's schema."""

    status_code = 400
    type = "invalid_input"


class UnknownFunctionError(SluiceError):
    status_code = 404
    type = "unknown_function"


class JobNotFoundError(SluiceError):
    """Unknown, malformed or expired job id."""

    status_code = 404
    type = "job_not_found"


class ArtifactNotFoundError(SluiceError):
    status_code = 404
    type = "artifact_not_found"


class NotFoundError(SluiceError):
    status_code = 404
    type = "not_found"


class MethodNotAllowedError(SluiceError):
    status_code = 405
    type = "method_not_allowed"


class JobStateError(SluiceError):
    """The job is not in a state that allows this (result before success, cancel after end)."""

    status_code = 409
    type = "conflict"


class RequestTimeoutError(SluiceError):
    """The request body stopped arriving while the gateway waited for it."""

    status_code = 408
    type = "request_timeout"


class PayloadTooLargeError(SluiceError):
    status_code = 413
    type = "payload_too_large"


class UnsupportedMediaTypeError(SluiceError):
    status_code = 415
    type = "unsupported_media_type"


class IdempotencyKeyReusedError(SluiceError):
    """The Idempotency-Key came with another request (function, parameters or document)."""

    status_code = 422
    type = "idempotency_key_reused"


class RetryLaterError(SluiceError):
    """Carries how long to wait, sent as Retry-After."""

    retry_after: int = 1

    def __init__(self, message: str, retry_after: int = 1, **details: Any) -> None:
        super().__init__(message, **details)
        self.retry_after = retry_after


class QueueFullError(RetryLaterError):
    status_code = 429
    type = "queue_full"


class UnavailableError(RetryLaterError):
    """Redis cannot be reached."""

    status_code = 503
    type = "unavailable"


class PermanentError(Exception):
    """Raised by a handler: the job fails at once, without retry (bad document, bad input)."""

    def __init__(self, message: str, type: str = "PermanentError") -> None:
        super().__init__(message)
        self.message = message
        self.type = type
