"""Opening untrusted PDFs with PyMuPDF, with every refusal a clear permanent error."""

from __future__ import annotations

from typing import Any

import pymupdf

from documents.errors import (
    CorruptDocumentError,
    DocumentTooLargeError,
    EmptyDocumentError,
    EncryptedDocumentError,
    NotADocumentError,
)
from shared.uploads import sniff


def open_pdf(data: bytes, max_pages: int) -> Any:
    """A pymupdf.Document, or a DocumentError saying why not."""
    if sniff(data[:1024]) != "application/pdf":
        raise NotADocumentError("the document is not a PDF")
    try:
        document: Any = pymupdf.open(stream=data, filetype="pdf")
    except Exception as exc:  # PyMuPDF raises several types for unreadable files
        raise CorruptDocumentError(f"the PDF cannot be read: {exc}") from exc
    if document.needs_pass:
        document.close()
        raise EncryptedDocumentError("the PDF is encrypted with a password")
    pages = document.page_count
    if pages == 0:
        # MuPDF rebuilds a broken file (a truncated upload, a bad cross-reference table)
        # from what it can find; finding no page there is damage, not an empty document.
        repaired = document.is_repaired
        document.close()
        if repaired:
            raise CorruptDocumentError(
                "the PDF is damaged (truncated, or its cross-reference table is broken) "
                "and no page could be recovered from it"
            )
        raise EmptyDocumentError("the PDF has no pages")
    if pages > max_pages:
        document.close()
        raise DocumentTooLargeError(f"the PDF has {pages} pages, the limit is {max_pages}")
    return document


def check_pixels(width_pt: float, height_pt: float, dpi: int, max_pixels: int) -> None:
    """Refuse a render before allocating it: a huge page at a high DPI is a memory bomb."""
    pixels = (width_pt * dpi / 72) * (height_pt * dpi / 72)
    if pixels > max_pixels:
        raise DocumentTooLargeError(
            f"a {width_pt:.0f} x {height_pt:.0f} pt page at {dpi} dpi is {pixels:,.0f} pixels, "
            f"the limit is {max_pixels:,}"
        )
