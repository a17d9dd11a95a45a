"""A scale given as a parameter sets the lengths, never which walls are found, and says
when it contradicts the drawing (a black-box tester's report: 15 walls became 63)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2

from documents.ingest import IngestOptions, Limits, ingest_document
from tests.test_raster import draw_plan

EAST = Path(__file__).parent / "data" / "cfast_East_Structure_Dimensioned_Instrumentation.pdf"


def page_of(data: bytes, **options: Any) -> dict[str, Any]:
    pages: list[dict[str, Any]] = ingest_document(
        data, IngestOptions(**options), lambda *_: None, Limits()
    )["pages"]
    return pages[0]


def test_a_wrong_scale_changes_lengths_not_walls_and_warns() -> None:
    own = page_of(EAST.read_bytes())
    given = page_of(EAST.read_bytes(), scale="1:100")
    assert own["scale"]["source"] == "dimensions" and own["warnings"] == []
    assert [w["thickness"] for w in given["walls"]] == [w["thickness"] for w in own["walls"]]
    ratio = given["scale"]["metres_per_unit"] / own["scale"]["metres_per_unit"]
    for a, b in zip(own["walls"], given["walls"], strict=True):
        assert abs(b["length_m"] - a["length_m"] * ratio) <= 0.002
    (warning,) = given["warnings"]
    assert "scale given (1:100)" in warning and "from its dimensions" in warning


def test_a_scale_that_agrees_gives_no_warning() -> None:
    own = page_of(EAST.read_bytes())["scale"]["metres_per_unit"]
    assert page_of(EAST.read_bytes(), scale=own * 1.01)["warnings"] == []


def test_an_image_scale_that_leaves_no_walls_says_so() -> None:
    ok, png = cv2.imencode(".png", draw_plan(hollow=False))
    assert ok
    assert page_of(png.tobytes())["walls"]
    # One metre per pixel: every stroke would be metres thick, none a wall.
    page = page_of(png.tobytes(), scale=1.0)
    assert page["walls"] == []
    assert any("is the scale (or dpi) right?" in w for w in page["warnings"])
