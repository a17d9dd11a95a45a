"""Opening untrusted PDFs with PyMuPDF, with every refusal a clear permanent error.

Whatever PyMuPDF raises while a document is opened or read (a page tree that lies about
its size or contains itself, a broken content stream) is the document's fault, not the
machine's: ``pdf_errors`` turns it into a CorruptDocumentError, which fails the job at
once instead of retrying it. A failed allocation stays a MemoryError, and errors from
our own code or the platform (progress, artifacts, cancellation) pass unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pymupdf

from documents.errors import (
    CorruptDocumentError,
    DocumentError,
    DocumentTooLargeError,
    EmptyDocumentError,
    EncryptedDocumentError,
    NotADocumentError,
)
from shared.uploads import sniff

_LIBRARY = os.path.dirname(os.path.abspath(pymupdf.__file__)) + os.sep


def _raised_by_library(exc: BaseException) -> bool:
    """MuPDF's own error types, or any exception whose innermost frame is PyMuPDF's code
    (it raises RuntimeError, ValueError and others for malformed files)."""
    if isinstance(exc, pymupdf.mupdf.FzErrorBase):
        return True
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and os.path.abspath(tb.tb_frame.f_code.co_filename).startswith(_LIBRARY)


@contextmanager
def pdf_errors(what: str = "the PDF cannot be read") -> Iterator[None]:
    """Raise PyMuPDF's errors inside the block as CorruptDocumentError("{what}: ...")."""
    try:
        yield
    except (DocumentError, MemoryError):
        raise
    except pymupdf.mupdf.FzErrorSystem as exc:
        # MuPDF reports a failed malloc (the job's memory limit) as a system error: the
        # machine's limit, not the document's damage, so it is retried like a MemoryError.
        # Its other system errors, on a document read from memory, are the document's.
        if "alloc" in str(exc):
            raise MemoryError(str(exc)) from exc
        raise CorruptDocumentError(f"{what}: {exc}") from exc
    except Exception as exc:
        if not _raised_by_library(exc):
            raise
        raise CorruptDocumentError(f"{what}: {exc}") from exc


@contextmanager
def opened_pdf(data: bytes, max_pages: int) -> Iterator[Any]:
    """A pymupdf.Document for the block, closed after it; a DocumentError saying why not.
    PyMuPDF's errors inside the block are a CorruptDocumentError (see ``pdf_errors``)."""
    with pdf_errors():
        document = open_pdf(data, max_pages)
        try:
            yield document
        finally:
            document.close()


def open_pdf(data: bytes, max_pages: int) -> Any:
    """A pymupdf.Document, or a DocumentError saying why not (the caller closes it)."""
    if sniff(data[:1024]) != "application/pdf":
        raise NotADocumentError("the document is not a PDF")
    with pdf_errors():
        document: Any = pymupdf.open(stream=data, filetype="pdf")
    try:
        with pdf_errors():
            _check(document, max_pages)
    except BaseException:
        document.close()
        raise
    return document


def _check(document: Any, max_pages: int) -> None:
    if document.needs_pass:
        raise EncryptedDocumentError("the PDF is encrypted with a password")
    pages = document.page_count
    if pages == 0:
        # MuPDF rebuilds a broken file (a truncated upload, a bad cross-reference table)
        # from what it can find; finding no page there is damage, not an empty document.
        if document.is_repaired:
            raise CorruptDocumentError(
                "the PDF is damaged (truncated, or its cross-reference table is broken) "
                "and no page could be recovered from it"
            )
        raise EmptyDocumentError("the PDF has no pages")
    if pages > max_pages:
        raise DocumentTooLargeError(f"the PDF has {pages} pages, the limit is {max_pages}")


def check_pixels(width_pt: float, height_pt: float, dpi: int, max_pixels: int) -> None:
    """Refuse a render before allocating it: a huge page at a high DPI is a memory bomb."""
    pixels = (width_pt * dpi / 72) * (height_pt * dpi / 72)
    if pixels > max_pixels:
        raise DocumentTooLargeError(
            f"a {width_pt:.0f} x {height_pt:.0f} pt page at {dpi} dpi is {pixels:,.0f} pixels, "
            f"the limit is {max_pixels:,}"
        )
