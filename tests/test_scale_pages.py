# mypy: disallow-untyped-calls=False
"""A page's scale through ``ingest``: synthetic pages with exact truth, the real plans
against ``bench/truth/scales.json``, and a sheet of 38,000 drawings against the clock.

The synthetic seeds here are from the tuning set of ``bench.scales`` (0..79); the
held-out seeds are measured by ``python -m bench.scales``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pymupdf
import pytest

from bench.scale_pages import POINT_M, scale_page
from bench.scales import big_sheet
from documents.dimensions import text_lines
from documents.ingest import IngestOptions, Limits, ingest_document
from documents.page_scale import page_scale

ROOT = Path(__file__).parent.parent
SAMPLES = json.loads((ROOT / "bench" / "truth" / "scales.json").read_text())["samples"]
TRUTH = {sample["file"]: sample for sample in SAMPLES}


def ingest(data: bytes, **options: Any) -> dict[str, Any]:
    return ingest_document(data, IngestOptions(**options), lambda *_: None, Limits())


def close(found: float, truth: float) -> bool:
    return abs(found / truth - 1) <= 0.02


@pytest.mark.parametrize("seed", [0, 7, 14, 21, 28, 35])  # cm, mm, m, bare m, m, ft-in
def test_scale_from_dimensions(seed: int) -> None:
    sample = scale_page(seed)
    assert sample.kind == "dims" and sample.truth is not None
    page = ingest(sample.pdf)["pages"][0]
    scale = page["scale"]
    assert scale["source"] == "dimensions" and close(scale["metres_per_unit"], sample.truth)
    assert 0.5 <= scale["confidence"] <= 1 and page["warnings"] == []
    evidence = scale["evidence"][0]
    assert evidence["kind"] == "dimension" and evidence["length"] > 0
    assert evidence["metres"] / evidence["length"] == pytest.approx(
        scale["metres_per_unit"], rel=0.05
    )


@pytest.mark.parametrize("seed", [1, 29, 36])  # bare m, ft-in ('1/4" = 1\'-0"'), mm
def test_a_note_that_the_dimensions_confirm(seed: int) -> None:
    sample = scale_page(seed)
    scale = ingest(sample.pdf)["pages"][0]["scale"]
    assert scale["source"] == "note"
    assert scale["metres_per_unit"] == pytest.approx(sample.ratio * POINT_M)
    kinds = {e["kind"] for e in scale["evidence"]}
    assert kinds == {"note", "dimension"}


@pytest.mark.parametrize("seed", [2, 9, 30])
def test_a_note_that_the_dimensions_contradict_warns(seed: int) -> None:
    sample = scale_page(seed)
    assert sample.truth is not None
    page = ingest(sample.pdf)["pages"][0]
    assert page["scale"]["source"] == "dimensions"
    assert close(page["scale"]["metres_per_unit"], sample.truth)
    (warning,) = page["warnings"]
    assert "scale note" in warning and "differ by 50%" in warning


@pytest.mark.parametrize("seed", [3, 10, 17])  # bare m, ft-in notes
def test_a_note_alone(seed: int) -> None:
    sample = scale_page(seed)
    page = ingest(sample.pdf)["pages"][0]
    assert page["scale"]["source"] == "note" and page["warnings"] == []
    assert page["scale"]["metres_per_unit"] == pytest.approx(sample.ratio * POINT_M)


@pytest.mark.parametrize("seed", [4, 11])
def test_not_to_scale(seed: int) -> None:
    sample = scale_page(seed)
    assert sample.truth is not None
    page = ingest(sample.pdf)["pages"][0]
    scale = page["scale"]
    assert scale["source"] == "dimensions" and close(scale["metres_per_unit"], sample.truth)
    assert scale["evidence"][0]["kind"] == "not_to_scale"
    assert any("not to scale" in w for w in page["warnings"])


def test_not_to_scale_without_dimensions_warns() -> None:
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), "DETAIL A - NTS", fontsize=10)
    result = ingest(doc.tobytes())["pages"][0]
    assert result["scale"] is None
    assert result["warnings"] == ["marked not to scale: no scale from its notes"]


@pytest.mark.parametrize("seed", [5, 12, 19, 26, 33])
def test_no_scale(seed: int) -> None:
    page = ingest(scale_page(seed).pdf)["pages"][0]
    assert page["scale"] is None and page["warnings"] == []


@pytest.mark.parametrize("seed", [6, 13, 20, 27, 34])
def test_two_views_at_two_scales(seed: int) -> None:
    sample = scale_page(seed)
    assert sample.truth is not None
    page = page_scale_of(sample.pdf)
    regions = sorted(r["metres_per_unit"] for r in page["regions"])
    assert close(regions[0], sample.truth / 5) and close(regions[1], sample.truth)


def page_scale_of(pdf: bytes) -> dict[str, Any]:
    page = pymupdf.open(stream=pdf, filetype="pdf")[0]
    scale, _ = page_scale(page, text_lines(page), vector=True)
    assert scale is not None
    return scale


@pytest.mark.parametrize("name", list(TRUTH))
def test_real_plans_against_their_truth(name: str) -> None:
    truth = TRUTH[name]
    data = (ROOT / "tests" / "data" / name).read_bytes()
    page = ingest(data, first_page=truth["page"], last_page=truth["page"])["pages"][0]
    if not truth["readable"]:  # its strings are glyph outlines: nothing to read
        assert page["scale"] is None
        return
    assert page["scale"]["source"] == "dimensions"
    assert close(page["scale"]["metres_per_unit"], truth["metres_per_unit"])
    assert page["scale"]["confidence"] >= 0.8


def test_the_parameter_wins() -> None:
    sample = scale_page(2)
    page = ingest(sample.pdf, scale="1:500")["pages"][0]
    assert page["scale"]["source"] == "parameter" and page["warnings"] == []
    assert page["scale"]["metres_per_unit"] == pytest.approx(500 * POINT_M)


def test_a_sheet_of_38000_drawings_stays_fast() -> None:
    data, truth = big_sheet(38_000)
    page = pymupdf.open(stream=data, filetype="pdf")[0]
    started = time.perf_counter()
    scale, _ = page_scale(page, text_lines(page), vector=True)
    elapsed = time.perf_counter() - started
    assert scale is not None and truth is not None
    assert close(scale["metres_per_unit"], truth)
    assert elapsed < 3, elapsed  # the whole ingest of such a sheet has 10 s
