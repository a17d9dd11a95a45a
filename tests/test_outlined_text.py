# mypy: disallow-untyped-calls=False
"""Lettering drawn as outlines (no text layer) is read by OCR: text, scale, warnings.

The synthetic pages are ``bench.scale_pages`` seeds from the set ``documents.glyphs`` was
written against; ``python -m bench.outlined`` measures held-out ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pymupdf
import pytest

from bench.outlined import outlined
from bench.scale_pages import scale_page
from documents import glyphs
from documents.glyphs import has_outlined_text, ocr_available, outlined_words
from documents.ingest import IngestOptions, Limits, ingest_document

DATA = Path(__file__).parent / "data"
BOPTEST = DATA / "boptest_Detached_house_plan_and_section.pdf"


def ingest(data: bytes) -> dict[str, Any]:
    return ingest_document(data, IngestOptions(), lambda *_: None, Limits())


def test_tesseract_is_installed() -> None:
    # scripts/ensure-system.sh installs it; without it the pages below lose their text.
    assert ocr_available()


@pytest.mark.parametrize("seed", [0, 14])  # "12.20 m" style; vertical chains too
def test_outlined_dimensions_give_the_same_scale(seed: int) -> None:
    sample = scale_page(seed)
    assert sample.truth is not None
    twin = outlined(sample.pdf)
    assert pymupdf.open(stream=twin, filetype="pdf")[0].get_text("words") == []
    page = ingest(twin)["pages"][0]
    assert page["scale"]["source"] == "dimensions"
    assert page["scale"]["metres_per_unit"] == pytest.approx(sample.truth, rel=0.02)
    assert "the lettering is drawn as outlines: read by OCR" in page["warnings"]
    assert any("FLOOR" in block["text"] for block in page["text"])


def test_a_page_with_a_text_layer_is_not_read_again() -> None:
    page = pymupdf.open(stream=scale_page(0).pdf, filetype="pdf")[0]
    assert not has_outlined_text(page)
    assert ingest(scale_page(0).pdf)["pages"][0]["warnings"] == []


def test_the_real_outlined_plan_gives_its_room_names_and_dimensions() -> None:
    page = pymupdf.open(BOPTEST)[0]
    assert page.get_text("words") == [] or len(page.get_text("words")) <= 5
    assert has_outlined_text(page)
    words = {word[4] for word in outlined_words(page)}
    # Overall dimensions, chain pieces written vertically, and room names.
    assert {"8.70", "14.90", "4.07", "GARAGE", "SEJOUR", "SALON", "HALL"} <= words


@pytest.fixture
def tessdata_at(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Path], None]]:
    """Point Tesseract at another folder (TESSDATA_PREFIX, as an operator would)."""

    def point(folder: Path) -> None:
        monkeypatch.setenv("TESSDATA_PREFIX", str(folder))
        glyphs._tessdata.cache_clear()

    yield point
    glyphs._tessdata.cache_clear()


def test_without_tesseract_the_page_warns_and_keeps_no_text(
    tessdata_at: Callable[[Path], None], tmp_path: Path
) -> None:
    tessdata_at(tmp_path / "nowhere")
    assert not ocr_available()
    page = ingest(outlined(scale_page(0).pdf))["pages"][0]
    assert page["text"] == [] and page["scale"] is None
    assert any("Tesseract is not installed" in warning for warning in page["warnings"])


def test_broken_language_data_is_a_warning_not_a_corrupt_document(
    tessdata_at: Callable[[Path], None], tmp_path: Path
) -> None:
    (tmp_path / "eng.traineddata").write_bytes(b"not a model")
    tessdata_at(tmp_path)
    page = ingest(outlined(scale_page(0).pdf))["pages"][0]
    assert page["text"] == [] and page["scale"] is None
    assert any("could not be read: OCR failed" in warning for warning in page["warnings"])
