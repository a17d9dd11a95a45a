"""Errors a document can cause: each fails its own job at once (no retry)."""

from __future__ import annotations

from shared.errors import PermanentError


class DocumentError(PermanentError):
    """A document we cannot or will not process; ``type`` names the reason."""

    def __init__(self, message: str, type: str = "DocumentError") -> None:
        super().__init__(message, type=type)


class NotADocumentError(DocumentError):
    def __init__(self, message: str) -> None:
        super().__init__(message, type="NotADocument")


class EncryptedDocumentError(DocumentError):
    def __init__(self, message: str) -> None:
        super().__init__(message, type="EncryptedDocument")


class EmptyDocumentError(DocumentError):
    def __init__(self, message: str) -> None:
        super().__init__(message, type="EmptyDocument")


class CorruptDocumentError(DocumentError):
    def __init__(self, message: str) -> None:
        super().__init__(message, type="CorruptDocument")


class DocumentTooLargeError(DocumentError):
    """Over the page or pixel limit."""

    def __init__(self, message: str) -> None:
        super().__init__(message, type="DocumentTooLarge")
