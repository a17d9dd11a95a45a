"""``ingest``: a PDF, PNG or JPEG in; per page its size, text, walls, rooms and scale.

The input type comes from the magic bytes, never a name. A PDF page takes the vector path
(``documents.vector``) unless it is a scan: an image covers half the page or more, or it
has images and almost no drawing paths; then it is rendered in grayscale at ``dpi`` (after
checking the pixel count, before allocating) and OpenCV finds the walls
(``documents.raster``), converted back to points (x 72/dpi). Images take the raster path
and stay in pixels. Every refusal is a ``documents.errors`` type, raised at once.

Result (``CONTRACT.md``): ``{"pages": [{"index", "page", "unit", "width", "height",
"source", "kind", "kind_reason", "scale", "warnings", "walls": [{"x1", "y1", "x2", "y2",
"thickness", "exterior", "length_m"?}], "openings": [{"kind", "wall", "x1", "y1", "x2",
"y2", "width", "width_m"?}], "rooms": [{"id", "name", "number", "polygon", "area",
"area_m2", "openings", "adjacent": [{"room", "via", "wall", "opening"}]}], "text":
[{"text", "bbox"}], "dpi"?}], "document": {"type", "pages", "repaired"}}``. ``scale`` is
null or ``{"metres_per_unit", "source", "confidence", "evidence", ...}``
(``documents.page_scale``); ``kind`` comes from ``documents.kinds`` (a schedule or text
page keeps no walls, with a warning), ``openings`` from ``documents.openings``, ``rooms``
and each wall's ``exterior`` from ``documents.rooms``. Lettering drawn as outlines is read
by OCR (``documents.glyphs``), with a warning.

Coordinates are the page as displayed (its /Rotate applied, like ``page.rect`` and
rendered images), origin top-left, in ``unit``: ``"pt"`` (PDF points, scanned pages too)
or ``"px"`` (an image's pixels). Pages are numbered from 1 (``first_page``, ``last_page``,
``page`` and every message); ``index`` is the page's position from 0 (``page`` - 1).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated, Any

import msgspec
import numpy as np
import pymupdf
from msgspec import Meta

from documents.dimensions import TextLine, text_lines
from documents.drawings import forget_page, page_cdrawings
from documents.errors import DocumentError, NotADocumentError, page_numbers
from documents.glyphs import OcrError, Word, has_outlined_text, ocr_available, outlined_words
from documents.kinds import page_kind
from documents.model import DocumentLimits, Wall, at_field
from documents.openings import gap_openings, vector_openings
from documents.page_scale import given_scale, page_scale
from documents.pdf import check_pixels, opened_pdf, pdf_errors
from documents.scale import MAX_METRES_PER_UNIT, parse_scale, scale_parameter
from documents.spatial import display_words, spatial_graph
from documents.vector import vector_walls
from shared import error_types
from shared.uploads import sniff

Limits = DocumentLimits  # max_pages per PDF, max_pixels per rendered page or image
Progress = Callable[[float, str], None]
MIN_DPI, MAX_DPI = 36, 600
SCAN_COVER = 0.5  # images covering this share of a page make it a scan
Box = tuple[int, int, int, int]  # left, top, right, bottom (pixels, right/bottom excluded)
VECTOR_MIN_PATHS = 20  # a page with images and fewer drawing paths is a raster plan too
# Pages of these kinds have no walls: what looks like one is a table's rules or text.
NO_WALLS = ("schedule", "text")
# With a known scale the raster path only looks for walls this thick (metres).
WALL_M = (0.04, 1.0)


class BadParameterError(DocumentError, ValueError):
    """An option that cannot apply (a ValueError too, so msgspec reports it on decoding)."""

    def __init__(self, message: str, type: str = error_types.BAD_PARAMETER) -> None:
        super().__init__(message, type=type)


class IngestOptions(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``scale``: "1:100" (or '1/4" = 1\'-0"'), or metres per page unit; else from text.

    Pages ``first_page``..``last_page`` are 1-based and inclusive; ``dpi`` is the render
    resolution for scanned PDF pages, and the assumed resolution of an image for a ratio
    ``scale``.
    """

    dpi: Annotated[int, Meta(ge=MIN_DPI, le=MAX_DPI)] = 150
    scale: str | Annotated[float, Meta(gt=0, le=MAX_METRES_PER_UNIT)] | None = None
    first_page: Annotated[int, Meta(ge=1)] = 1
    last_page: Annotated[int, Meta(ge=1)] | None = None

    def __post_init__(self) -> None:
        # Meta constraints hold when decoding; check them for direct construction too.
        if not MIN_DPI <= self.dpi <= MAX_DPI:
            message = f"dpi must be {MIN_DPI}..{MAX_DPI}, not {self.dpi}"
            raise BadParameterError(at_field(message, "$.dpi"))
        if self.scale is not None:
            try:
                scale = scale_parameter(self.scale)  # "0.01" (text) is the number 0.01
            except ValueError as exc:
                raise BadParameterError(at_field(str(exc), "$.scale")) from None
            msgspec.structs.force_setattr(self, "scale", scale)
        for name in ("first_page", "last_page"):
            page = getattr(self, name)
            if page is not None and page < 1:
                raise BadParameterError(at_field("pages are numbered from 1", f"$.{name}"))


def ingest_document(
    data: bytes, params: IngestOptions, progress: Progress, limits: DocumentLimits
) -> dict[str, Any]:
    """Walls, text and scale of every page in range (see the module docstring)."""
    kind = sniff(data[:1024])
    if kind == "application/pdf":
        return _ingest_pdf(data, params, progress, limits)
    if kind in ("image/png", "image/jpeg"):
        return _ingest_image(data, params, progress, limits)
    raise NotADocumentError("the document is not a PDF, PNG or JPEG (by its first bytes)")


def _ingest_pdf(
    data: bytes, params: IngestOptions, progress: Progress, limits: DocumentLimits
) -> dict[str, Any]:
    with opened_pdf(data, limits.max_pages) as document:
        count = document.page_count
        numbers = page_numbers(params.first_page, params.last_page, count)
        pages = []
        for done, number in enumerate(numbers):
            with pdf_errors(f"page {number} of {count} (numbered from 1) cannot be read"):
                try:
                    pages.append(_pdf_page(document[number - 1], params, limits))
                finally:
                    forget_page()
            progress(100 * (done + 1) / len(numbers), f"page {number} of {count}")
        info = {"type": "pdf", "pages": count, "repaired": bool(document.is_repaired)}
        return {"pages": pages, "document": info}


def _pdf_page(page: Any, params: IngestOptions, limits: DocumentLimits) -> dict[str, Any]:
    width, height = float(page.rect.width), float(page.rect.height)
    scan = _is_scan(page)
    words, notes = (None, []) if scan else _words(page)
    lines = text_lines(page, words)
    if words is None:
        text = _text(page)
    else:  # outlined lettering: its OCR'd lines are the page's text
        text = [{"text": line.text, "bbox": _rounded(line.bbox)} for line in lines]
    mpu, sizing, source = _scale(params, page, lines, scan)
    source["warnings"] += notes
    extra: dict[str, Any] = {}
    if scan:
        from documents.raster import raster_walls, without_print  # OpenCV: scans only

        check_pixels(width, height, params.dpi, limits.max_pixels)
        pixmap = page.get_pixmap(dpi=params.dpi, colorspace=pymupdf.csGRAY, alpha=False)
        shape = (pixmap.height, pixmap.stride)
        gray = np.frombuffer(pixmap.samples_mv, np.uint8).reshape(shape)[:, : pixmap.width]
        pt_per_px = 72 / params.dpi
        # Print that the text layer marks is not walls (book scans: 238 false walls -> 89).
        gray = without_print(gray, _word_boxes(page, 1 / pt_per_px, gray.shape))
        found = raster_walls(gray, **_bounds(sizing, pt_per_px))
        walls = [_scaled(w, pt_per_px) for w in found]
        kind, extra = "raster", {"dpi": params.dpi}
        openings = gap_openings(walls, max(width, height), sizing)
    else:
        walls, kind = vector_walls(page, sizing), "vector"
        openings = []
    shows = page_kind(width, height, text, walls)  # what the page shows
    if shows["kind"] in NO_WALLS and walls:
        source["warnings"].append(
            f"{len(walls)} wall-like line(s) on a {shows['kind']} page are not walls"
            " (table rules, text): none kept"
        )
        walls, openings = [], []
    elif kind == "vector":
        openings = vector_openings(page, walls, sizing)
    layer = page.get_text("words") if words is None else words
    graph = spatial_graph(walls, openings, display_words(page, layer), (width, height), mpu)
    page_out = _page(page.number, "pt", (width, height), kind, source, graph, text) | extra
    return page_out | shows


def _ingest_image(
    data: bytes, params: IngestOptions, progress: Progress, limits: DocumentLimits
) -> dict[str, Any]:
    from documents.raster import load_image, raster_walls

    page_numbers(params.first_page, params.last_page, 1, "an image")
    gray = load_image(data, limits.max_pixels)
    mpu, _, source = _scale(params, None, image=True)
    walls = raster_walls(gray, **_bounds(mpu, 1.0))
    if mpu is not None and not walls and raster_walls(gray):
        low, high = WALL_M
        source["warnings"].append(
            f"no walls {low:g}-{high:g} m thick at the given scale ({mpu:.6g} m per pixel),"
            " though the image has wall-like strokes: is the scale (or dpi) right?"
        )
    size = (float(gray.shape[1]), float(gray.shape[0]))
    graph = spatial_graph(walls, gap_openings(walls, max(size), mpu), [], size, mpu)
    page = _page(0, "px", size, "raster", source, graph, []) | page_kind(*size, [], walls)
    progress(100, "page 1 of 1")
    kind = "png" if data.startswith(b"\x89PNG") else "jpeg"
    return {"pages": [page], "document": {"type": kind, "pages": 1, "repaired": False}}


def _is_scan(page: Any) -> bool:
    """An image covers half the page or more, or images and hardly any vector paths."""
    infos = page.get_image_info()
    if not infos:
        return False
    area = page.rect * page.derotation_matrix  # image boxes are unrotated
    covered = sum(abs(pymupdf.Rect(info["bbox"]) & area) for info in infos)
    if covered >= SCAN_COVER * abs(area):
        return True
    return len(page_cdrawings(page)) < VECTOR_MIN_PATHS


def _word_boxes(page: Any, px_per_pt: float, shape: tuple[int, ...]) -> list[Box]:
    """The boxes of the page's words (its text layer; an OCR'd scan has one) in pixels of
    its rendering, padded by a fifth of their height and clipped to the image."""
    height, width = shape[:2]
    boxes = []
    for x0, y0, x1, y1, *_ in page.get_text("words"):
        box = pymupdf.Rect(x0, y0, x1, y1) * page.rotation_matrix  # as displayed
        pad = 0.2 * min(box.width, box.height)
        left = max(0, math.floor((box.x0 - pad) * px_per_pt))
        top = max(0, math.floor((box.y0 - pad) * px_per_pt))
        right = min(width, math.ceil((box.x1 + pad) * px_per_pt) + 1)
        bottom = min(height, math.ceil((box.y1 + pad) * px_per_pt) + 1)
        if right > left and bottom > top:
            boxes.append((left, top, right, bottom))
    return boxes


def _text(page: Any) -> list[dict[str, Any]]:
    """Text blocks with their boxes, as displayed (rotation applied)."""
    blocks = []
    for x0, y0, x1, y1, text, _, block_type in page.get_text("blocks"):
        if block_type == 0 and text.strip():
            box = pymupdf.Rect(x0, y0, x1, y1) * page.rotation_matrix
            bbox = _rounded((box.x0, box.y0, box.x1, box.y1))
            blocks.append({"text": text.strip(), "bbox": bbox})
    return blocks


def _words(page: Any) -> tuple[list[Word] | None, list[str]]:
    """The words of a vector page whose lettering is drawn as outlines (read by OCR; None:
    use the text layer), and a note for the page's warnings when that happened."""
    if not has_outlined_text(page):
        return None, []
    if not ocr_available():
        return [], [
            "the lettering is drawn as outlines and Tesseract is not installed to read it:"
            " no text, no scale from dimensions"
        ]
    try:
        words = outlined_words(page)
    except OcrError as exc:  # the machine's Tesseract, not the document
        return [], [f"the lettering is drawn as outlines and could not be read: {exc}"]
    return words, ["the lettering is drawn as outlines: read by OCR"]


def _rounded(box: tuple[float, float, float, float]) -> list[float]:
    return [round(v, 2) for v in box]


def _scale(
    params: IngestOptions,
    page: Any,
    lines: list[TextLine] | None = None,
    scan: bool = False,
    image: bool = False,
) -> tuple[float | None, float | None, dict[str, Any]]:
    """Metres per page unit for lengths (the parameter, else the drawing's), for finding
    walls (the drawing's own when it has one: a mistyped parameter must not change which
    walls are found), and the page's ``scale`` and ``warnings``."""
    drawn: dict[str, Any] | None = None
    found: dict[str, Any] = {"scale": None, "warnings": []}
    if page is not None and lines is not None:  # a PDF page (``documents.page_scale``)
        drawn, warnings = page_scale(page, lines, vector=not scan)
        found = {"scale": drawn, "warnings": warnings}
    own = drawn["metres_per_unit"] if drawn else None
    if isinstance(params.scale, int | float):
        given = float(params.scale)
    elif isinstance(params.scale, str):
        # An image's unit is a pixel: at ``dpi`` pixels per inch, 72/dpi points each.
        given = parse_scale(params.scale) * (72 / params.dpi if image else 1)
    else:
        return own, own, found
    return given, (own if own is not None else given), given_scale(given, drawn)


def _bounds(mpu: float | None, units_per_px: float) -> dict[str, float]:
    """Wall thickness bounds in pixels for raster_walls, when the scale is known."""
    if mpu is None:
        return {}
    px_per_m = 1 / (mpu * units_per_px)
    return {"min_thickness": WALL_M[0] * px_per_m, "max_thickness": WALL_M[1] * px_per_m}


def _scaled(w: Wall, k: float) -> Wall:
    return Wall(w.x1 * k, w.y1 * k, w.x2 * k, w.y2 * k, w.thickness * k)


def _page(
    index: int,
    unit: str,
    size: tuple[float, float],
    source: str,
    scale: dict[str, Any],
    graph: dict[str, Any],
    text: list[dict[str, Any]],
) -> dict[str, Any]:
    return {
        "index": index,
        "page": index + 1,
        "unit": unit,
        "width": round(size[0], 2),
        "height": round(size[1], 2),
        "source": source,
        **scale,  # "scale" and "warnings"
        **graph,  # "walls", "openings" and "rooms"
        "text": text,
    }
