"""Errors a document can cause: each fails its own job at once (no retry)."""

from __future__ import annotations

from shared import error_types
from shared.errors import PermanentError


class DocumentError(PermanentError):
    """A document we cannot or will not process; ``type`` names the reason."""

    def __init__(self, message: str, type: str = error_types.DOCUMENT_ERROR) -> None:
        super().__init__(message, type=type)


class NotADocumentError(DocumentError):
    def __init__(self, message: str) -> None:
        super().__init__(message, type=error_types.NOT_A_DOCUMENT)


class EncryptedDocumentError(DocumentError):
    def __init__(self, message: str) -> None:
        super().__init__(message, type=error_types.ENCRYPTED_DOCUMENT)


class EmptyDocumentError(DocumentError):
    def __init__(self, message: str) -> None:
        super().__init__(message, type=error_types.EMPTY_DOCUMENT)


class CorruptDocumentError(DocumentError):
    def __init__(self, message: str) -> None:
        super().__init__(message, type=error_types.CORRUPT_DOCUMENT)


class DocumentTooLargeError(DocumentError):
    """Over the page or pixel limit."""

    def __init__(self, message: str) -> None:
        super().__init__(message, type=error_types.DOCUMENT_TOO_LARGE)


class BadPageRangeError(DocumentError):
    """``first_page``/``last_page`` (numbered from 1) name no page of the document."""

    def __init__(self, message: str) -> None:
        super().__init__(message, type=error_types.BAD_PAGE_RANGE)


def page_numbers(first: int, last: int | None, count: int, what: str = "the PDF") -> range:
    """Page numbers ``first..last`` (from 1, inclusive; ``last`` None or past the end: to
    the last page) of a document of ``count`` pages, or a BadPageRangeError."""
    end = count if last is None else min(last, count)
    if first <= end:
        return range(first, end + 1)
    pages = f"{count} page" + ("" if count == 1 else "s")
    if last is not None and first > last:
        problem = f"first_page {first} is after last_page {last}"
    else:
        problem = f"first_page {first} is past the end: {what} has {pages}"
    raise BadPageRangeError(f"{problem} (pages are numbered from 1)")
