"""Words of a PDF page whose lettering is drawn as outlines (filled glyph paths).

Many CAD plots export text as outlines: the page shows dimensions, room names and the title,
but its text layer is empty, so neither the scale nor a room's name could be read. For such
a page (almost no words, many small filled paths) the small filled paths alone are redrawn
on a blank page cropped to them, which Tesseract reads (through PyMuPDF) upright and turned
a quarter, and the other way too when that finds hardly any decimals (CAD sheets write
vertical dimensions either way). Only tokens that look like words or numbers are kept, so
the dots and arrowheads redrawn with the letters do not turn into text.

Without Tesseract (its ``tessdata`` with ``eng.traineddata`` not found) such pages have no
words; ``ocr_available`` says which, so ingest can warn; a Tesseract that fails raises
``OcrError``, which ingest turns into a warning too.
"""

from __future__ import annotations

import functools
import math
import re
from pathlib import Path
from typing import Any

import pymupdf

from documents.drawings import page_drawings
from shared.errors import SluiceError

_pymupdf: Any = pymupdf  # untyped: its calls are Any

Word = tuple[float, float, float, float, str, int, int, int]  # as page.get_text("words")

GLYPH_FRAC = 0.03  # a glyph's box is at most this share of the page's longer side
MIN_GLYPHS = 40  # fewer small filled paths than this: symbols, not lettering
MAX_TEXT_WORDS = 5  # a page with more words in its text layer has real text
OCR_DPI = 250  # 7 pt digits come out ~24 px tall, which Tesseract reads reliably
OCR_PIXELS = 40_000_000  # ~120 MB per rendering (RGB), whatever the sheet's size
CROP_MARGIN = 5.0  # points of white around the lettering
ENOUGH_DECIMALS = 2  # a quarter turn reading this many decimal numbers reads the right way
# A token worth keeping: a number (with decimals, feet-inches, m2), a room number ("B-12"),
# or a word in one case ("HALL", "Hall", "hall"; two letters only in capitals: "WC").
TOKEN = re.compile(
    r"""^(?:\d+(?:[.,]\d+)?(?:m2|m²|m|cm|mm)?|\d+'(?:-?\d+(?:\s?\d/\d)?")?"""
    r"""|[A-Z]?\d{1,4}[A-Z]?|[A-Z]-\d{1,4}|1:\d+"""
    r"""|[A-ZÀ-Þ]{2,}|[A-ZÀ-Þ]?[a-zß-ÿ]{2,})\.?$"""
)

DECIMAL = re.compile(r"^\d+[.,]\d{1,3}")


@functools.cache
def _tessdata() -> str | None:
    try:
        folder = str(_pymupdf.get_tessdata())
    except RuntimeError:
        return None
    # A TESSDATA_PREFIX pointing at the wrong folder is as good as no Tesseract.
    return folder if (Path(folder) / "eng.traineddata").is_file() else None


class OcrError(SluiceError):
    """Tesseract was found but failed (broken language data, out of memory)."""


def ocr_available() -> bool:
    """Tesseract's language data is installed (Debian: ``tesseract-ocr``)."""
    return _tessdata() is not None


def _glyph_paths(page: Any) -> list[dict[str, Any]]:
    limit = GLYPH_FRAC * max(page.rect.width, page.rect.height)
    return [
        path
        for path in page_drawings(page)
        if path.get("fill") is not None
        and path["type"] in ("f", "fs")
        and max(path["rect"].width, path["rect"].height) <= limit
    ]


def has_outlined_text(page: Any) -> bool:
    """Almost no text layer but many small filled paths: lettering drawn as outlines."""
    if len(page.get_text("words")) > MAX_TEXT_WORDS:
        return False
    return len(_glyph_paths(page)) >= MIN_GLYPHS


def _lettering(page: Any) -> tuple[Any, tuple[float, float]]:
    """A blank page holding only the glyph paths, in black, cropped to them (Tesseract's
    time and memory grow with the pixels), and where its origin lies on ``page``
    (unrotated coordinates)."""
    paths = _glyph_paths(page)
    x0 = min(path["rect"].x0 for path in paths) - CROP_MARGIN
    y0 = min(path["rect"].y0 for path in paths) - CROP_MARGIN
    x1 = max(path["rect"].x1 for path in paths) + CROP_MARGIN
    y1 = max(path["rect"].y1 for path in paths) + CROP_MARGIN
    shift = _pymupdf.Matrix(1, 0, 0, 1, -x0, -y0)
    document: Any = _pymupdf.open()
    letters: Any = document.new_page(width=x1 - x0, height=y1 - y0)
    shape = letters.new_shape()
    for path in paths:
        for item in path["items"]:
            # Points, a rect or a quad (a rect's item also carries its orientation).
            points = [x if isinstance(x, int | float) else x * shift for x in item[1:]]
            if item[0] == "l":
                shape.draw_line(*points)
            elif item[0] == "c":
                shape.draw_bezier(*points)
            elif item[0] == "re":
                shape.draw_rect(points[0])
            elif item[0] == "qu":
                shape.draw_quad(points[0])
        shape.finish(
            fill=(0, 0, 0),
            color=None,
            closePath=bool(path.get("closePath", True)),
            even_odd=bool(path.get("even_odd", False)),
        )
    shape.commit()
    return letters, (x0, y0)


def _overlap(a: Word, b: Word) -> float:
    """Share of the smaller box that the two boxes have in common."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return w * h / smaller if smaller > 0 else 0.0


def outlined_words(page: Any) -> list[Word]:
    """The words of a page's outlined lettering, in unrotated page coordinates as
    ``page.get_text("words")`` gives them ([] without Tesseract; OcrError if it fails)."""
    tessdata = _tessdata()
    if tessdata is None:
        return []
    letters, (dx, dy) = _lettering(page)
    # At most OCR_PIXELS whatever the sheet's size (an A0 sheet is read at about 150 dpi).
    area = letters.rect.width * letters.rect.height
    dpi = max(1, min(OCR_DPI, int(72 * math.sqrt(OCR_PIXELS / max(area, 1.0)))))
    try:
        upright, turned = _read(letters, 0, dpi, tessdata), _read(letters, 270, dpi, tessdata)
        # Vertical text read upside down still gives letters ("GNNOYD"), but its decimal
        # points move up ("1.63" reads "€9'b"): when the first quarter turn finds hardly
        # any decimal numbers, the sheet's vertical text may run the other way.
        if _decimals(turned) < ENOUGH_DECIMALS:
            other = _read(letters, 90, dpi, tessdata)
            turned = max(turned, other, key=lambda words: (_decimals(words), _letters(words)))
    except (RuntimeError, _pymupdf.mupdf.FzErrorBase) as exc:
        raise OcrError(f"OCR failed: {exc}") from None
    # Where readings overlap, the longest wins: a stray reading of part of a word must not
    # hide the word.
    kept: list[Word] = []
    for word in sorted(upright + turned, key=lambda w: -len(w[4])):
        if not any(_overlap(word, seen) > 0.3 for seen in kept):
            kept.append(word)
    return [(w[0] + dx, w[1] + dy, w[2] + dx, w[3] + dy, w[4], w[5], w[6], w[7]) for w in kept]


def _read(letters: Any, rotation: int, dpi: int, tessdata: str) -> list[Word]:
    """The tokens Tesseract reads on the lettering page turned by ``rotation`` degrees."""
    letters.set_rotation(rotation)
    textpage = letters.get_textpage_ocr(dpi=dpi, full=True, tessdata=tessdata)
    readings = []
    for x0, y0, x1, y1, text, block, line, number in letters.get_text("words", textpage=textpage):
        token = text.strip(".,;:|()[]{}")
        # Upright text reads in the upright pass, vertical text in a turned one: a reading
        # whose box runs the other way is lettering read sideways (garbage). One character
        # alone is more often a dot or an arrowhead read as a letter, but for the unit of
        # "12.2 m".
        upright = x1 - x0 >= y1 - y0
        if token == "m" or (len(token) > 1 and TOKEN.match(token) and upright == (rotation == 0)):
            readings.append((x0, y0, x1, y1, token, block + 1000 * rotation, line, number))
    return readings


def _decimals(words: list[Word]) -> int:
    return sum(1 for word in words if DECIMAL.match(word[4]))


def _letters(words: list[Word]) -> int:
    return sum(len(word[4]) for word in words)
