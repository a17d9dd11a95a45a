"""``render``: PDF pages to PNG artifacts."""

from __future__ import annotations

from typing import Any

from documents.errors import DocumentError, DocumentTooLargeError
from documents.model import DocumentLimits
from documents.pdf import check_pixels, open_pdf
from shared.functions import JobContext


def render_pages(
    job: JobContext, first_page: int, last_page: int | None, dpi: int, limits: DocumentLimits
) -> dict[str, Any]:
    """Render pages first_page..last_page (1-based, inclusive) as PNG artifacts."""
    document = open_pdf(job.document(), limits.max_pages)
    try:
        last = min(last_page or document.page_count, document.page_count)
        if first_page > last:
            raise DocumentError(
                f"page range {first_page}-{last_page} is outside the document's "
                f"{document.page_count} pages",
                type="BadPageRange",
            )
        numbers = range(first_page, last + 1)
        if len(numbers) > limits.max_render_pages:
            raise DocumentTooLargeError(
                f"{len(numbers)} pages asked, at most {limits.max_render_pages} per job"
            )
        pages = []
        for done, number in enumerate(numbers):
            page = document[number - 1]
            check_pixels(page.rect.width, page.rect.height, dpi, limits.max_pixels)
            pixmap = page.get_pixmap(dpi=dpi, alpha=False)
            png = pixmap.tobytes("png")
            name = f"page-{number}.png"
            url = job.save_artifact(name, png, "image/png")
            pages.append(
                {
                    "page": number,
                    "name": name,
                    "url": url,
                    "width": pixmap.width,
                    "height": pixmap.height,
                    "bytes": len(png),
                }
            )
            job.progress(100 * (done + 1) / len(numbers), f"page {number} of {last}")
        return {"dpi": dpi, "page_count": document.page_count, "pages": pages}
    finally:
        document.close()
