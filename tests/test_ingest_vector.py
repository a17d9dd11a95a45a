"""``ingest``'s processing: scale from text, vector walls against exact truth, real samples,
and every refusal. Pure: no Redis, no processes. Samples and licences: tests/data/."""

from __future__ import annotations

import math
import struct
import time
import zlib
from pathlib import Path
from typing import Any

import msgspec
import pymupdf
import pytest

from documents.errors import (
    CorruptDocumentError,
    DocumentError,
    DocumentTooLargeError,
    EmptyDocumentError,
    EncryptedDocumentError,
    NotADocumentError,
)
from documents.ingest import BadParameterError, IngestOptions, Limits, ingest_document
from documents.model import Wall
from documents.pdf import pdf_errors
from documents.scale import POINT_M, parse_scale, scale_from_text
from documents.vector import vector_walls
from tests.blank_pages import many_pages_pdf
from tests.plans import METRES_PER_PT, PT_PER_M, STYLES, plan_pdf, truth

DATA = Path(__file__).parent / "data"


def sample(name: str) -> bytes:
    return (DATA / name).read_bytes()


def ingest(data: bytes, limits: Limits | None = None, **options: Any) -> dict[str, Any]:
    return ingest_document(data, IngestOptions(**options), lambda *_: None, limits or Limits())


def matches(found: Wall, true: Wall) -> bool:
    """Centre lines within max(1.5 pt, half the thickness) of each other, overlapping by
    80 % of the longer of the two, thickness within max(1 pt, 30 %)."""
    tx, ty = true.x2 - true.x1, true.y2 - true.y1
    length = math.hypot(tx, ty)
    ux, uy = tx / length, ty / length
    tolerance = max(1.5, true.thickness / 2)
    ends = ((found.x1, found.y1), (found.x2, found.y2))
    if any(abs((x - true.x1) * uy - (y - true.y1) * ux) > tolerance for x, y in ends):
        return False
    a, b = sorted((x - true.x1) * ux + (y - true.y1) * uy for x, y in ends)
    overlap = min(b, length) - max(a, 0.0)
    if overlap < 0.8 * max(length, b - a):
        return False
    return abs(found.thickness - true.thickness) <= max(1.0, 0.3 * true.thickness)


def recall_precision(found: list[Wall], true: list[Wall]) -> tuple[float, float]:
    recall = sum(any(matches(f, t) for f in found) for t in true) / len(true)
    precision = sum(any(matches(f, t) for t in true) for f in found) / max(1, len(found))
    return recall, precision


# Scale from text


@pytest.mark.parametrize(
    ("lines", "ratio"),
    [
        (["SCALE 1:100"], 100),
        (["1 : 50"], 50),
        (["SCALE 1/100"], 100),
        (["Scale: 1/200."], 200),
        (["échelle 1/50"], 50),
        (['1/4" = 1\'-0"'], 48),
        (["1/8\" = 1'"], 96),
        (['3/16" = 1\'-0"'], 64),
        (["1\" = 20'"], 240),
        (["1 cm = 1 m"], 100),
        (["PLAN 1:50", "DETAIL 1:5", "SECTION 1:50"], 50),  # the most frequent
        (["DETAIL 1:5", "SCALE 1:20"], 20),  # a "scale" word wins
        (["SCALE", "1:100"], 100),  # label and value in separate blocks
    ],
)
def test_scale_from_text(lines: list[str], ratio: float) -> None:
    found = scale_from_text(lines)
    assert found is not None and found == pytest.approx(ratio * POINT_M)


@pytest.mark.parametrize(
    "lines",
    [[], ["no scale here"], ["meeting at 1:30 pm"], ["1:2"], ["NOT TO SCALE", "1:100"],
     ["SCALE: NTS"], ["2021/1/50"], ["1:100 000"], ["room 3.1:4"]],
)  # fmt: skip
def test_no_scale_from_text(lines: list[str]) -> None:
    assert scale_from_text(lines) is None


def test_scale_parameter() -> None:
    assert parse_scale("1:100") == pytest.approx(0.0254 / 72 * 100)
    assert parse_scale("1/50") == pytest.approx(0.0254 / 72 * 50)
    assert parse_scale('1/4" = 1\'-0"') == pytest.approx(0.0254 / 72 * 48)
    with pytest.raises(ValueError, match="scale"):
        parse_scale("big")


# Vector walls against the synthetic plans' exact truth


@pytest.mark.parametrize("rotate", [0, 90, 270])
@pytest.mark.parametrize("style", list(STYLES))
def test_vector_walls_recall_and_precision(style: str, rotate: int) -> None:
    page = pymupdf.open(stream=plan_pdf((style,), rotate=rotate), filetype="pdf")[0]
    found = vector_walls(page)
    recall, precision = recall_precision(found, truth(rotate))
    print(f"{style} rotate={rotate}: {len(found)} walls, recall {recall}, precision {precision}")
    assert (recall, precision) == (1.0, 1.0), found


def test_ingest_synthetic_plan() -> None:
    reports: list[tuple[float, str]] = []
    data = plan_pdf()
    result = ingest_document(data, IngestOptions(), lambda p, m: reports.append((p, m)), Limits())
    assert reports == [(100 / 3, "page 1 of 3"), (200 / 3, "page 2 of 3"), (100.0, "page 3 of 3")]
    assert result["document"] == {"type": "pdf", "pages": 3, "repaired": False}
    for index, page in enumerate(result["pages"]):
        assert page["index"] == index and page["source"] == "vector"
        assert (page["width"], page["height"]) == (1190.55, 841.89)
        assert page["scale"]["source"] == "note"  # and the dimension chains agree
        assert page["scale"]["metres_per_unit"] == pytest.approx(METRES_PER_PT)
        assert any(block["text"] == "SCALE 1:100" for block in page["text"])
        walls = [Wall(**{k: v for k, v in w.items() if k != "length_m"}) for w in page["walls"]]
        assert recall_precision(walls, truth()) == (1.0, 1.0)
        lengths = sorted(w["length_m"] for w in page["walls"])
        assert lengths[-1] == pytest.approx(21.0, abs=0.4)  # the top wall past its window: 21 m
        for wall in page["walls"]:
            length = math.hypot(wall["x2"] - wall["x1"], wall["y2"] - wall["y1"])
            assert wall["length_m"] == pytest.approx(length * METRES_PER_PT, abs=1e-3)


def test_ingest_rotated_page_is_reported_as_displayed() -> None:
    result = ingest(plan_pdf(("pairs",), rotate=90))
    page = result["pages"][0]
    assert (page["width"], page["height"]) == (841.89, 1190.55)
    walls = [Wall(**{k: v for k, v in w.items() if k != "length_m"}) for w in page["walls"]]
    assert recall_precision(walls, truth(90)) == (1.0, 1.0)
    scale_note = next(b for b in page["text"] if b["text"] == "SCALE 1:100")
    x0, y0, x1, y1 = scale_note["bbox"]
    assert 0 <= x0 < x1 <= page["width"] and 0 <= y0 < y1 <= page["height"]
    assert y1 - y0 > x1 - x0  # the note reads upwards on the rotated page


def test_scale_parameter_wins_over_text() -> None:
    ratio = ingest(plan_pdf(("thick",)), scale="1:50")["pages"][0]
    given = {"source": "parameter", "confidence": 1.0, "evidence": []}
    assert ratio["scale"] == {"metres_per_unit": pytest.approx(POINT_M * 50)} | given
    per_unit = ingest(plan_pdf(("thick",)), scale=0.01)["pages"][0]
    assert per_unit["scale"] == {"metres_per_unit": 0.01} | given
    longest = max(w["length_m"] for w in per_unit["walls"])
    assert longest == pytest.approx(21 * PT_PER_M * 0.01, abs=1e-3)  # top wall, 3..24 m


def test_page_range() -> None:
    """Pages are numbered from 1 in parameters, ``page`` and messages; ``index`` from 0."""
    result = ingest(plan_pdf(), first_page=2, last_page=3)
    assert [page["index"] for page in result["pages"]] == [1, 2]
    assert [page["page"] for page in result["pages"]] == [2, 3]
    assert {page["unit"] for page in result["pages"]} == {"pt"}
    assert [page["index"] for page in ingest(plan_pdf(), last_page=1)["pages"]] == [0]
    assert len(ingest(plan_pdf(), first_page=3, last_page=9)["pages"]) == 1  # to the end
    refusals = [
        (4, None, "first_page 4 is past the end: the PDF has 3 pages"),
        (5, 7, "first_page 5 is past the end: the PDF has 3 pages"),
        (3, 2, "first_page 3 is after last_page 2"),
    ]
    for first, last, message in refusals:
        with pytest.raises(DocumentError) as info:
            ingest(plan_pdf(), first_page=first, last_page=last)
        assert info.value.type == "BadPageRange"
        assert info.value.message == f"{message} (pages are numbered from 1)"


def test_bad_options() -> None:
    # Decoding (as a gateway would) reports them as validation errors naming the problem.
    with pytest.raises(msgspec.ValidationError, match="cannot read a drawing scale"):
        msgspec.json.decode(b'{"scale": "huge"}', type=IngestOptions)
    with pytest.raises(msgspec.ValidationError, match=r"\$\.dpi"):
        msgspec.json.decode(b'{"dpi": 1000}', type=IngestOptions)
    # Built directly (as the handler does), they are permanent errors.
    with pytest.raises(BadParameterError, match="scale"):
        IngestOptions(scale="huge")
    with pytest.raises(BadParameterError, match="dpi"):
        IngestOptions(dpi=1200)
    with pytest.raises(BadParameterError):
        IngestOptions(scale=-1.0)


# Real samples


@pytest.mark.parametrize(
    ("name", "least"),
    [
        ("cfast_UL_NIJ_Ranch_layout.pdf", 25),  # ~30 walls drawn; 41 pieces found
        ("cfast_East_Structure_Dimensioned_Instrumentation.pdf", 10),  # 21 found
        ("boptest_Detached_house_plan_and_section.pdf", 25),  # 68 found
    ],
)
def test_real_plans_have_walls(name: str, least: int) -> None:
    result = ingest(sample(name), last_page=1)
    page = result["pages"][0]
    print(f"{name}: {len(page['walls'])} walls")
    assert page["source"] == "vector"  # their scales: tests/test_scale_pages.py
    assert len(page["walls"]) >= least
    thickness = sorted(w["thickness"] for w in page["walls"])
    assert 1.0 <= thickness[len(thickness) // 2] <= 40  # typical wall: a few points


def test_cad_sheet_that_is_no_plan_has_few_walls() -> None:
    page = ingest(sample("AutoCad_Diagram.pdf"))["pages"][0]
    print(f"AutoCad_Diagram.pdf: {len(page['walls'])} walls")
    assert page["source"] == "vector" and len(page["walls"]) <= 5
    assert (page["width"], page["height"]) == (1191, 842)  # /Rotate 270 applied
    assert any("Strip the cable" in block["text"] for block in page["text"])


@pytest.mark.parametrize("name", ["issue-297.pdf", "2788_example_malformed.pdf"])
def test_damaged_pdfs_still_ingest(name: str) -> None:
    result = ingest(sample(name))
    assert result["document"]["repaired"] is True
    assert len(result["pages"]) == 1 and result["pages"][0]["source"] == "vector"
    if name == "issue-297.pdf":
        assert result["pages"][0]["text"][0]["text"] == "test example"


def test_scanned_pages_take_the_raster_path() -> None:
    pytest.importorskip("documents.raster")
    data = sample("Seige_of_Vicksburg_Sample_OCR.pdf")
    result = ingest(data, dpi=72, last_page=2)
    for page in result["pages"]:
        assert page["source"] == "raster" and page["dpi"] == 72 and page["unit"] == "pt"
        assert (page["width"], page["height"]) == (432, 648)
        assert page["text"]  # the invisible OCR layer
        for wall in page["walls"]:  # converted back to points
            assert all(-1 <= wall[k] <= 433 for k in ("x1", "x2"))
            assert all(-1 <= wall[k] <= 649 for k in ("y1", "y2"))


def test_image_upload_takes_the_raster_path_in_pixels() -> None:
    pytest.importorskip("documents.raster")
    page = pymupdf.open(stream=plan_pdf(("thick",)), filetype="pdf")[0]
    png = page.get_pixmap(dpi=50).tobytes("png")  # 827 x 585 px
    result = ingest(png, scale="1:100", dpi=50)
    (only,) = result["pages"]
    assert result["document"]["type"] == "png"
    assert (only["index"], only["unit"], only["source"], only["width"], only["height"]) == (
        0, "px", "raster", 827, 585,
    )  # fmt: skip
    assert only["scale"]["metres_per_unit"] == pytest.approx(0.0254 / 50 * 100)
    assert only["walls"], "the thick-stroke plan has walls in its pixels"
    assert max(max(w["x1"], w["x2"]) for w in only["walls"]) <= 827


# Refusals: each a permanent error, at once


def test_refusals() -> None:
    with pytest.raises(NotADocumentError):
        ingest(b"%!PS-Adobe-3.0 not a pdf")
    with pytest.raises(NotADocumentError):
        ingest(b"")
    with pytest.raises(EncryptedDocumentError):
        ingest(sample("r6-user-password.pdf"))
    with pytest.raises(EmptyDocumentError):
        ingest(many_pages_pdf(0))
    with pytest.raises(CorruptDocumentError):
        ingest(b"%PDF-1.7\n" + b"\x00garbage" * 100)


def test_only_pymupdfs_own_errors_are_the_documents_fault() -> None:
    """What PyMuPDF raises is CorruptDocument (no retry); a MemoryError, or an error of
    our own code or the platform inside the same block, passes unchanged."""
    with pytest.raises(CorruptDocumentError, match="^page 2 cannot be read: ") as raised:
        with pdf_errors("page 2 cannot be read"):
            pymupdf.open(stream=plan_pdf(), filetype="pdf")[7]  # raises IndexError
    assert raised.value.type == "CorruptDocument"
    with pytest.raises(CorruptDocumentError):
        with pdf_errors():
            pymupdf.Rect("not a rectangle")  # raises ValueError inside PyMuPDF
    for ours in (ValueError("ours"), ZeroDivisionError("ours"), MemoryError("ours")):
        with pytest.raises(type(ours)) as passed:
            with pdf_errors():
                raise ours
        assert passed.value is ours


def test_truncated_pdf_is_corrupt_not_empty() -> None:
    # An upload cut short: MuPDF repairs it and finds no page. That is damage (it was
    # EmptyDocument); a well-formed PDF with no pages stays EmptyDocument (test_refusals).
    data = sample("cfast_UL_NIJ_Ranch_layout.pdf")
    with pytest.raises(CorruptDocumentError, match="damaged") as raised:
        ingest(data[: len(data) // 3])
    assert raised.value.type == "CorruptDocument"
    with pytest.raises(EmptyDocumentError, match="no pages"):
        ingest(many_pages_pdf(0))


def test_page_limit_is_checked_before_any_work() -> None:
    with pytest.raises(DocumentTooLargeError, match="501 pages, the limit is 500"):
        ingest(many_pages_pdf(501))
    with pytest.raises(DocumentTooLargeError, match="3 pages, the limit is 2"):
        ingest(plan_pdf(), Limits(max_pages=2))
    started = time.monotonic()
    with pytest.raises(DocumentTooLargeError, match="100000 pages"):
        ingest(many_pages_pdf(100_000))
    assert time.monotonic() - started < 5


def test_pixel_limit_is_checked_before_rendering() -> None:
    with pytest.raises(DocumentTooLargeError, match="pixels"):
        ingest(sample("Seige_of_Vicksburg_Sample_OCR.pdf"), Limits(max_pixels=100_000))


def test_huge_image_fails_by_its_header() -> None:
    pytest.importorskip("documents.raster")
    header = struct.pack(">IIBBBBB", 50_000, 50_000, 8, 0, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + header
    png += struct.pack(">I", zlib.crc32(b"IHDR" + header))
    started = time.monotonic()
    with pytest.raises(DocumentTooLargeError):
        ingest(png)
    assert time.monotonic() - started < 1


def test_heavy_face_lines_pair_as_faces_when_the_scale_is_known() -> None:
    # A reviewer's find: with a scale, 1.5 pt face lines (a 0.5 mm pen) each became a
    # wall of their own instead of pairing as the two faces of one 0.2 m wall.
    document = pymupdf.open()
    page = document.new_page(width=842, height=595)
    gap = 0.2 / (0.0254 / 72 * 100)  # 0.2 m at 1:100 in points
    for x0, y0, x1, y1 in ((100, 100, 500, 100), (100, 400, 500, 400)):
        for off in (-gap / 2, gap / 2):
            page.draw_line((x0, y0 + off), (x1, y1 + off), width=1.5)
    for x in (100, 500):
        for off in (-gap / 2, gap / 2):
            page.draw_line((x + off, 100 - gap / 2), (x + off, 400 + gap / 2), width=1.5)
    page.insert_text((600, 550), "SCALE 1:100", fontsize=10)
    result = ingest_document(document.tobytes(), IngestOptions(), lambda *_: None, Limits())
    walls = result["pages"][0]["walls"]
    assert result["pages"][0]["scale"]["source"] == "note"
    assert len(walls) == 4 and all(abs(w["thickness"] - gap) < 1 for w in walls), walls
