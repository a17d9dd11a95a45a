"""Words of a PDF page whose lettering is drawn as outlines (filled glyph paths).

Many CAD plots export text as outlines: the page shows dimensions, room names and the title,
but its text layer is empty, so neither the scale nor a room's name could be read. For such
a page (almost no words, many small filled paths) the small filled paths alone are redrawn
on a blank page, which Tesseract reads (through PyMuPDF) upright and turned a quarter each
way, as CAD sheets write vertical dimensions either way. Only tokens that look like words
or numbers are kept, so the dots and arrowheads redrawn with the letters do not turn into
text.

Without Tesseract (its ``tessdata`` not found) such pages have no words; ``ocr_available``
says which, so ingest can warn.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import pymupdf

from documents.drawings import page_drawings

_pymupdf: Any = pymupdf  # untyped: its calls are Any

Word = tuple[float, float, float, float, str, int, int, int]  # as page.get_text("words")

GLYPH_FRAC = 0.03  # a glyph's box is at most this share of the page's longer side
MIN_GLYPHS = 40  # fewer small filled paths than this: symbols, not lettering
MAX_TEXT_WORDS = 5  # a page with more words in its text layer has real text
OCR_DPI = 250  # 7 pt digits come out ~24 px tall, which Tesseract reads reliably
TURNS = (0, 270, 90)  # upright, then vertical text read bottom-up and top-down
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
        return str(_pymupdf.get_tessdata())
    except RuntimeError:
        return None


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


def _lettering(page: Any) -> Any:
    """A blank page of the same (unrotated) size with only the glyph paths, in black."""
    document: Any = _pymupdf.open()
    mediabox = page.mediabox
    letters: Any = document.new_page(width=mediabox.width, height=mediabox.height)
    shape = letters.new_shape()
    for path in _glyph_paths(page):
        for item in path["items"]:
            if item[0] == "l":
                shape.draw_line(item[1], item[2])
            elif item[0] == "c":
                shape.draw_bezier(item[1], item[2], item[3], item[4])
            elif item[0] == "re":
                shape.draw_rect(item[1])
            elif item[0] == "qu":
                shape.draw_quad(item[1])
        shape.finish(
            fill=(0, 0, 0),
            color=None,
            closePath=bool(path.get("closePath", True)),
            even_odd=bool(path.get("even_odd", False)),
        )
    shape.commit()
    return letters


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
    ``page.get_text("words")`` gives them ([] without Tesseract)."""
    tessdata = _tessdata()
    if tessdata is None:
        return []
    letters = _lettering(page)
    passes: list[list[Word]] = []
    for turn, rotation in enumerate(TURNS):
        letters.set_rotation(rotation)
        textpage = letters.get_textpage_ocr(dpi=OCR_DPI, full=True, tessdata=tessdata)
        readings = []
        for x0, y0, x1, y1, text, block, line, number in letters.get_text(
            "words", textpage=textpage
        ):
            token = text.strip(".,;:|()[]{}")
            # Upright text reads in the upright pass, vertical text in a turned one: a
            # reading whose box runs the other way is lettering read sideways (garbage).
            # One character alone is more often a dot or an arrowhead read as a letter,
            # but for the unit of "12.2 m".
            upright = x1 - x0 >= y1 - y0
            if token == "m" or (
                len(token) > 1 and TOKEN.match(token) and upright == (rotation == 0)
            ):
                readings.append((x0, y0, x1, y1, token, block + 1000 * turn, line, number))
        passes.append(readings)
    # Vertical text read upside down still gives letters ("GNNOYD"), but its decimal
    # points move up ("1.63" reads "€9'b"): the quarter turn that finds more decimal
    # numbers is the one the sheet's vertical text is written in.
    turned = max(passes[1:], key=lambda words: (_decimals(words), _letters(words)))
    # Where readings overlap, the longest wins: a stray reading of part of a word must not
    # hide the word.
    kept: list[Word] = []
    for word in sorted(passes[0] + turned, key=lambda w: -len(w[4])):
        if not any(_overlap(word, other) > 0.3 for other in kept):
            kept.append(word)
    return kept


def _decimals(words: list[Word]) -> int:
    return sum(1 for word in words if DECIMAL.match(word[4]))


def _letters(words: list[Word]) -> int:
    return sum(len(word[4]) for word in words)
