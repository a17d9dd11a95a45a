# mypy: disallow-untyped-calls=False
"""Scale from dimensions when the lettering is drawn as outlines (read by OCR).

    .venv/bin/python -m bench.outlined [--held-out 2000:2020] [--tune 0,7,14,21,28,35,1,29]

Each synthetic page of ``bench.scale_pages`` is turned into one whose text is filled glyph
paths (PyMuPDF's SVG with text as paths, converted back to PDF: no text layer left, as
many CAD plots are), then ingested. A page is right when it gets the scale its text-layer
twin gets (within 2 %) or, when that one has none, none either; it also prints what share
of the text layer's words OCR read back. The ``--tune`` seeds are the ones looked at while
writing ``documents.glyphs``; ``--held-out`` ones were not. Exit 1 when a held-out page
is wrong. Needs Debian's tesseract-ocr.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Any

import pymupdf

from bench.scale_pages import scale_page
from documents.glyphs import ocr_available, outlined_words
from documents.ingest import IngestOptions, Limits, ingest_document


def outlined(pdf: bytes) -> bytes:
    """The same pages with every letter drawn as a filled path and no text layer."""
    source: Any = pymupdf.open(stream=pdf, filetype="pdf")
    out = pymupdf.open()
    for page in source:
        svg = pymupdf.open(stream=page.get_svg_image(text_as_path=True).encode(), filetype="svg")
        out.insert_pdf(pymupdf.open("pdf", svg.convert_to_pdf()))
    return bytes(out.tobytes())


def _mpu(pdf: bytes) -> float | None:
    page: dict[str, Any] = ingest_document(pdf, IngestOptions(), lambda *_: None, Limits())[
        "pages"
    ][0]
    return page["scale"]["metres_per_unit"] if page["scale"] else None


def _words_read(pdf: bytes, twin: bytes) -> float:
    """Share of the text layer's words (of two characters or more) that OCR read back."""
    said = [w[4] for w in pymupdf.open(stream=pdf, filetype="pdf")[0].get_text("words")]
    said = [w for w in said if len(w) > 1]
    read = {w[4] for w in outlined_words(pymupdf.open(stream=twin, filetype="pdf")[0])}
    return sum(1 for w in said if w in read) / len(said) if said else 1.0


def run(label: str, seeds: list[int]) -> bool:
    right, times, shares = 0, [], []
    for seed in seeds:
        sample = scale_page(seed)
        twin = outlined(sample.pdf)
        expected = _mpu(sample.pdf)
        start = time.perf_counter()
        found = _mpu(twin)
        times.append(time.perf_counter() - start)
        shares.append(_words_read(sample.pdf, twin))
        ok = (found is None) == (expected is None) and (
            found is None or expected is None or abs(found / expected - 1) <= 0.02
        )
        right += ok
        if not ok:
            print(f"  wrong: {sample.name}: text layer {expected}, outlines {found}")
    print(
        f"{label}: {right}/{len(seeds)} pages get their text-layer scale; words read back"
        f" median {statistics.median(shares):.0%}; ingest median {statistics.median(times):.1f}"
        " s per page"
    )
    return right == len(seeds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tune", default="0,7,14,21,28,35,1,29")
    parser.add_argument("--held-out", default="2000:2020", help="seeds not tuned on")
    args = parser.parse_args()
    if not ocr_available():
        print("Tesseract is not installed (apt-get install tesseract-ocr)")
        return 1
    run("tuned", [int(s) for s in args.tune.split(",")])
    held = list(range(*map(int, args.held_out.split(":"))))
    return 0 if run("held out", held) else 1


if __name__ == "__main__":
    sys.exit(main())
