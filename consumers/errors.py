"""How an attempt can end other than with a result. Internal to the consumers."""

from __future__ import annotations

from shared.errors import SluiceError


class AttemptFailed(SluiceError):
    """The attempt failed; it is retried while attempts remain. ``type`` is the job's
    ``error.type`` (shared/error_types.py, or the class name of what the handler raised)."""

    def __init__(self, type: str, message: str) -> None:
        super().__init__(message)
        self.type = type

    def __str__(self) -> str:
        return f"{self.type}: {self.message}"
