"""``render``: PDF pages, or an image as its one page, to PNG artifacts.

Pages are numbered from 1 (``first_page``, ``last_page``, each result's ``page`` and its
artifact name ``page-N.png``). A PNG or JPEG is one page, rendered at its own pixel size:
its pixels carry no trustworthy physical size, so it is taken to be at the requested
``dpi`` already (as ``ingest`` takes an image for a ratio scale) and is not resampled.
It comes out as a PNG with the EXIF orientation of a JPEG applied, colour and
transparency kept.
"""

from __future__ import annotations

from typing import Any

from documents.errors import DocumentTooLargeError, NotADocumentError, page_numbers
from documents.model import DocumentLimits
from documents.pdf import check_pixels, opened_pdf, pdf_errors
from shared.functions import JobContext
from shared.uploads import sniff


def render_pages(
    job: JobContext, first_page: int, last_page: int | None, dpi: int, limits: DocumentLimits
) -> dict[str, Any]:
    """Render pages first_page..last_page (from 1, inclusive) as PNG artifacts."""
    data = job.document()
    kind = sniff(data[:1024])
    if kind in ("image/png", "image/jpeg"):
        return _render_image(job, data, first_page, last_page, dpi, limits)
    if kind != "application/pdf":
        raise NotADocumentError("the document is not a PDF, PNG or JPEG (by its first bytes)")
    with opened_pdf(data, limits.max_pages) as document:
        count = document.page_count
        numbers = page_numbers(first_page, last_page, count)
        if len(numbers) > limits.max_render_pages:
            raise DocumentTooLargeError(
                f"{len(numbers)} pages asked, at most {limits.max_render_pages} per job"
            )
        pages = []
        for done, number in enumerate(numbers):
            with pdf_errors(f"page {number} of {count} (numbered from 1) cannot be rendered"):
                page = document[number - 1]
                check_pixels(page.rect.width, page.rect.height, dpi, limits.max_pixels)
                pixmap = page.get_pixmap(dpi=dpi, alpha=False)
                png: bytes = pixmap.tobytes("png")
                size = (pixmap.width, pixmap.height)
            pages.append(_save(job, number, png, size))
            job.progress(100 * (done + 1) / len(numbers), f"page {number} of {numbers[-1]}")
        return {"dpi": dpi, "page_count": count, "pages": pages}


def _render_image(
    job: JobContext,
    data: bytes,
    first_page: int,
    last_page: int | None,
    dpi: int,
    limits: DocumentLimits,
) -> dict[str, Any]:
    from documents.raster import image_png  # OpenCV: images only

    page_numbers(first_page, last_page, 1, "an image")
    png, size = image_png(data, limits.max_pixels)
    pages = [_save(job, 1, png, size)]
    job.progress(100, "page 1 of 1")
    return {"dpi": dpi, "page_count": 1, "pages": pages}


def _save(job: JobContext, number: int, png: bytes, size: tuple[int, int]) -> dict[str, Any]:
    name = f"page-{number}.png"
    url = job.save_artifact(name, png, "image/png")
    return {
        "page": number,
        "name": name,
        "url": url,
        "width": size[0],
        "height": size[1],
        "bytes": len(png),
    }
