# mypy: disallow-untyped-calls=False
"""Graphic scale bars (``documents.scale_bar``) and how they weigh against notes and
dimensions (``documents.page_scale``). Seeds are from the bars' tuning set (0..69); the
held-out ones are measured by ``python -m bench.scales``."""

from __future__ import annotations

import random
from typing import Any

import pymupdf
import pytest

from bench.scale_pages import POINT_M, bar_page, draw_bar
from documents.dimensions import text_lines
from documents.page_scale import page_scale
from documents.scale_bar import scale_bars


def scale_of(pdf: bytes) -> tuple[dict[str, Any] | None, list[str]]:
    page = pymupdf.open(stream=pdf, filetype="pdf")[0]
    return page_scale(page, text_lines(page), vector=True)


def one_bar(ratio: float, imperial: bool, style: str, unit_style: str) -> bytes:
    doc = pymupdf.open()
    page = doc.new_page(width=842, height=595)
    draw_bar(page, 100, 400, ratio * POINT_M, random.Random(1), imperial, style, unit_style)
    return bytes(doc.tobytes())


@pytest.mark.parametrize("style", ["blocks", "ticks"])
@pytest.mark.parametrize(
    ("ratio", "imperial", "unit_style"),
    [(100, False, "after"), (50, False, "attached"), (200, False, "title"), (48, True, "after"),
     (96, True, "attached"), (192, True, "title")],
)  # fmt: skip
def test_a_bar_alone_gives_the_page_its_scale(
    ratio: float, imperial: bool, style: str, unit_style: str
) -> None:
    scale, warnings = scale_of(one_bar(ratio, imperial, style, unit_style))
    assert scale is not None and warnings == []
    assert scale["source"] == "scale_bar" and scale["confidence"] == 0.9
    assert scale["metres_per_unit"] == pytest.approx(ratio * POINT_M, rel=1e-3)
    evidence = scale["evidence"][0]
    assert evidence["kind"] == "scale_bar" and evidence["values"][0] == 0
    assert len(evidence["stops"]) == len(evidence["values"]) >= 3


def test_a_bar_without_a_unit_is_metres_with_less_confidence() -> None:
    scale, _ = scale_of(one_bar(100, False, "blocks", "none"))
    assert scale is not None and scale["evidence"][0]["unit"] == "m (assumed)"
    assert scale["metres_per_unit"] == pytest.approx(100 * POINT_M, rel=1e-3)
    assert scale["confidence"] == 0.6


def test_numbers_from_zero_without_a_bar_are_no_scale() -> None:
    """Grid bubbles 1..5 on their grid lines and a row "0 10 20 30 40" with nothing drawn
    under it: no bar (seed 6 is a "no bar" page)."""
    sample = bar_page(6)
    assert sample.kind == "no bar"
    page = pymupdf.open(stream=sample.pdf, filetype="pdf")[0]
    assert scale_bars(page, text_lines(page)) == []
    assert scale_of(sample.pdf)[0] is None


def test_a_note_that_the_bar_confirms_keeps_its_exact_ratio() -> None:
    sample = bar_page(1)
    assert sample.kind == "bar+note"
    scale, warnings = scale_of(sample.pdf)
    assert scale is not None and warnings == [] and scale["source"] == "note"
    assert {e["kind"] for e in scale["evidence"]} == {"note", "scale_bar"}


def test_a_bar_beside_a_stale_note_wins_with_a_warning() -> None:
    """The note says 1:10 where the bar beside it measures 1:20: printed at twice the size."""
    sample = bar_page(2)
    assert sample.kind == "bar+printed note" and sample.truth is not None
    scale, warnings = scale_of(sample.pdf)
    assert scale is not None and scale["source"] == "scale_bar"
    assert scale["metres_per_unit"] == pytest.approx(sample.truth, rel=0.02)
    assert len(warnings) == 1 and "printed at another size" in warnings[0]


def test_a_bar_in_another_part_of_the_sheet_is_a_region() -> None:
    """The plan's note (1:384) in the top corner, a detail's bar (1:192) at the bottom."""
    sample = bar_page(3)
    assert sample.kind == "bar+note apart" and sample.truth and sample.region
    scale, warnings = scale_of(sample.pdf)
    assert scale is not None and scale["source"] == "note"
    assert scale["metres_per_unit"] == pytest.approx(sample.truth, rel=1e-6)
    regions = {r["source"]: r["metres_per_unit"] for r in scale["regions"]}
    assert regions["scale_bar"] == pytest.approx(sample.region, rel=0.02)
    assert regions["note"] == pytest.approx(sample.truth, rel=1e-6)
    assert any("separate parts of the sheet" in w for w in warnings)


def test_not_to_scale_halves_a_bars_confidence() -> None:
    sample = bar_page(4)
    assert sample.kind == "bar+nts" and sample.truth is not None
    scale, warnings = scale_of(sample.pdf)
    assert scale is not None and scale["source"] == "scale_bar"
    assert scale["metres_per_unit"] == pytest.approx(sample.truth, rel=0.02)
    assert scale["confidence"] == 0.45
    assert warnings == ["marked not to scale: the scale comes from its scale bar only"]


@pytest.mark.parametrize("seed", [5, 12, 19])
def test_a_bar_that_the_dimensions_confirm(seed: int) -> None:
    sample = bar_page(seed)
    assert sample.kind == "bar+dims" and sample.truth is not None
    scale, warnings = scale_of(sample.pdf)
    assert scale is not None and warnings == []
    assert scale["metres_per_unit"] == pytest.approx(sample.truth, rel=0.02)
    assert scale["source"] in ("scale_bar", "dimensions")
    assert "scale_bar" in {e["kind"] for e in scale["evidence"]}


def dimension(page: pymupdf.Page, x: float, y: float, metres: float, mpu: float) -> None:
    """A dimension line from (x, y) along x, ticks at its ends, its length written above."""
    end = x + metres / mpu
    page.draw_line((x, y), (end, y), width=0.3)
    for s in (x, end):
        page.draw_line((s, y - 6), (s, y + 12), width=0.25)  # extension line
        page.draw_line((s - 2.5, y + 2.5), (s + 2.5, y - 2.5), width=0.6)  # tick
    text = f"{metres:.2f}"
    width = pymupdf.get_text_length(text, fontsize=8)
    page.insert_text(((x + end) / 2 - width / 2, y - 2), text, fontsize=8)


def test_a_bar_beside_a_note_that_the_dimensions_confirm_is_only_a_region() -> None:
    """Note 1:100, three dimension strings at 1:100, a 1:50 bar beside the note: the
    dimensions measure the print, so it was not reprinted and the note stays."""
    doc = pymupdf.open()
    page = doc.new_page(width=842, height=595)
    mpu = 100 * POINT_M
    for k, metres in enumerate((6.0, 4.5, 8.4)):
        dimension(page, 80, 80 + 60 * k, metres, mpu)
        page.draw_rect(pymupdf.Rect(80, 92 + 60 * k, 80 + metres / mpu, 100 + 60 * k))
    page.insert_text((84, 560), "SCALE 1:100", fontsize=9)
    draw_bar(page, 84, 530, 50 * POINT_M, random.Random(3), False, "blocks", "after")
    scale, warnings = scale_of(doc.tobytes())
    assert scale is not None and scale["source"] == "note"
    assert scale["metres_per_unit"] == pytest.approx(mpu, rel=1e-9)
    assert scale["dimensions"]["agreeing"] == 3
    [region] = scale["regions"]
    assert region["source"] == "scale_bar"
    assert region["metres_per_unit"] == pytest.approx(50 * POINT_M, rel=0.02)
    assert len(warnings) == 1 and "the scale bar (1:50" in warnings[0]
    assert "3 dimension strings agree with the note" in warnings[0]
    assert "scale.regions" in warnings[0]
