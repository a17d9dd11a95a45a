"""documents.raster: safe image decoding and wall detection on raster plans.

The MLSTRUCT test (two real floor plans, ~9600 x 6800 px each, ~550 MB peak and 2-4 s
each) checks the wall recall against the ground truth in tests/data/fp.json; the other
tests use small synthetic images and take milliseconds.
"""

from __future__ import annotations

import json
import math
import struct
import time
import zlib
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import pymupdf
import pytest

from bench.walls_recall import MIN_COVER, coverage, truth_walls
from documents.errors import CorruptDocumentError, DocumentTooLargeError, NotADocumentError
from documents.ingest import IngestOptions, Limits, ingest_document
from documents.model import Wall
from documents.raster import image_header, load_image, raster_walls

DATA = Path(__file__).resolve().parent / "data"
MAX_PIXELS = 100_000_000
U8 = npt.NDArray[np.uint8]


def encode(image: npt.NDArray[Any], ext: str) -> bytes:
    ok, buf = cv2.imencode(ext, image)
    assert ok
    return buf.tobytes()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_header(width: int, height: int, depth: int = 8, colour: int = 0) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)


def with_exif_orientation(jpeg: bytes, orientation: int) -> bytes:
    """The JPEG with an APP1 EXIF segment (big-endian TIFF, one IFD entry) after SOI."""
    entry = struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0)  # SHORT, count 1
    tiff = b"MM\x00\x2a" + struct.pack(">I", 8) + struct.pack(">H", 1) + entry + bytes(4)
    body = b"Exif\x00\x00" + tiff
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body + jpeg[2:]


# A plan: four outer walls and one inner wall, centre lines in px (x1, y1, x2, y2).
PLAN = [(200, 200, 1400, 200), (1400, 200, 1400, 1000), (1400, 1000, 200, 1000)]
PLAN += [(200, 1000, 200, 200), (800, 200, 800, 650)]
THICK = 24


def draw_plan(hollow: bool, angle: float = 0.0) -> U8:
    """A 1600 x 1200 plan with the PLAN walls, a label, a table and a door swing."""
    image = np.full((1200, 1600), 255, np.uint8)
    half = THICK // 2
    boxes = [(min(a, c) - half, min(b, d) - half, max(a, c) + half, max(b, d) + half)
             for a, b, c, d in PLAN]  # fmt: skip
    for x1, y1, x2, y2 in boxes:  # filled, or outlined and then emptied
        cv2.rectangle(image, (x1, y1), (x2, y2), 0, 2 if hollow else -1)
    for x1, y1, x2, y2 in boxes if hollow else []:
        cv2.rectangle(image, (x1 + 2, y1 + 2), (x2 - 2, y2 - 2), 255, -1)
    cv2.putText(image, "LIVING 24 m2", (400, 500), cv2.FONT_HERSHEY_SIMPLEX, 1.5, 0, 3)
    cv2.rectangle(image, (1000, 500), (1200, 620), 0, 2)
    cv2.ellipse(image, (900, 1000), (90, 90), 0, 180, 270, 0, 1)
    if angle:
        turn = cv2.getRotationMatrix2D((800, 600), angle, 1.0)
        image = np.asarray(cv2.warpAffine(image, turn, (1600, 1200), borderValue=255), np.uint8)
    return image


def turned(wall: tuple[int, int, int, int], angle: float) -> Wall:
    """A PLAN wall as it lands after draw_plan's rotation about (800, 600)."""
    turn = cv2.getRotationMatrix2D((800, 600), angle, 1.0)
    (a, b), (c, d) = (turn @ np.array([[wall[0], wall[2]], [wall[1], wall[3]], [1, 1]])).T
    return Wall(float(a), float(b), float(c), float(d), THICK)


def assert_plan_walls(walls: list[Wall], angle: float = 0.0) -> None:
    """Each PLAN wall found along its whole length, thickness within 3 px, nothing else."""
    for wall in PLAN:
        truth = turned(wall, angle)
        cover, thick = coverage(truth, walls, strict=True)
        assert cover >= 0.9, (wall, walls)
        assert abs(thick - THICK) <= 3, (wall, walls)
    assert len(walls) == len(PLAN), walls
    for found in walls:
        assert coverage(found, [turned(w, angle) for w in PLAN], strict=True)[0] >= 0.9


@pytest.mark.parametrize("hollow", [False, True], ids=["filled", "hollow"])
def test_synthetic_plan_gives_its_walls_with_thickness(hollow: bool) -> None:
    assert_plan_walls(raster_walls(draw_plan(hollow)))


@pytest.mark.parametrize("angle", [17.0, 30.0])
def test_rotated_plan_gives_rotated_walls(angle: float) -> None:
    assert_plan_walls(raster_walls(draw_plan(hollow=True, angle=angle)), angle)


def test_walls_meet_at_corners() -> None:
    walls = raster_walls(draw_plan(hollow=False))
    ends = {(round(w.x1), round(w.y1)) for w in walls} | {(round(w.x2), round(w.y2)) for w in walls}
    for corner in [(200, 200), (1400, 200), (1400, 1000), (200, 1000)]:
        assert min(math.dist(corner, end) for end in ends) <= 2, (corner, sorted(ends))


def test_blank_and_tiny_images_have_no_walls() -> None:
    assert raster_walls(np.full((600, 800), 255, np.uint8)) == []
    assert raster_walls(np.zeros((300, 400), np.uint8)) == []  # all ink, no paper
    assert raster_walls(np.zeros((5, 5), np.uint8)) == []


@pytest.mark.parametrize("ink", [255, 0], ids=["white", "black"])
def test_blank_and_all_ink_images_ingest_with_no_walls(ink: int) -> None:
    """Nothing to find a direction in: the job succeeds with no walls (no retry)."""
    data = encode(np.full((400, 400), ink, np.uint8), ".png")
    result = ingest_document(data, IngestOptions(), lambda *_: None, Limits())
    (page,) = result["pages"]
    assert page["walls"] == [] and page["source"] == "raster"
    assert (page["index"], page["page"], page["unit"]) == (0, 1, "px")
    assert (page["width"], page["height"]) == (400, 400)


def test_transparent_png_is_composited_on_white() -> None:
    plan = draw_plan(hollow=False)
    rgba = np.zeros((*plan.shape, 4), np.uint8)  # transparent black everywhere ...
    rgba[..., 3] = 255 - plan  # ... but the ink, opaque black
    gray = load_image(encode(rgba, ".png"), MAX_PIXELS)
    assert gray.dtype == np.uint8 and gray.shape == plan.shape
    assert gray[100, 100] == 255 and gray[200, 200] == 0  # paper white, wall black
    assert_plan_walls(raster_walls(gray))


def test_half_transparent_ink_is_blended() -> None:
    rgba = np.zeros((20, 30, 4), np.uint8)
    rgba[:, :, 3] = 128
    assert abs(int(load_image(encode(rgba, ".png"), MAX_PIXELS)[5, 5]) - 127) <= 1


@pytest.mark.parametrize(
    "orientation, shape, dark", [(1, (40, 80), (4, 10)), (3, (40, 80), (34, 70)),
                                 (6, (80, 40), (10, 34)), (8, (80, 40), (70, 4))],
)  # fmt: skip
def test_jpeg_exif_orientation_is_applied(
    orientation: int, shape: tuple[int, int], dark: tuple[int, int]
) -> None:
    image = np.full((40, 80), 255, np.uint8)
    image[:10, :20] = 0  # a dark block in the top-left corner
    gray = load_image(with_exif_orientation(encode(image, ".jpg"), orientation), MAX_PIXELS)
    assert gray.shape == shape
    ys, xs = np.nonzero(gray < 128)
    assert (round(ys.mean()), round(xs.mean())) == dark


def test_a_jpeg_named_png_is_read_as_jpeg(tmp_path: Path) -> None:
    path = tmp_path / "plan.png"
    path.write_bytes(encode(draw_plan(hollow=False), ".jpg"))
    data = path.read_bytes()
    assert image_header(data) == ("jpeg", 1600, 1200)
    assert_plan_walls(raster_walls(load_image(data, MAX_PIXELS)))


@pytest.mark.parametrize("kind", ["png", "jpeg"])
def test_huge_header_is_refused_before_decoding(kind: str) -> None:
    if kind == "png":
        data = png_header(50_000, 50_000) + png_chunk(b"IDAT", zlib.compress(b"")) + bytes(12)
    else:  # SOI, then a baseline frame header: precision 8, 50,000 x 50,000, 1 component
        frame = struct.pack(">BHHB", 8, 50_000, 50_000, 1) + b"\x01\x11\x00"
        data = b"\xff\xd8" + b"\xff\xc0" + struct.pack(">H", len(frame) + 2) + frame
        data += b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00" + bytes(100) + b"\xff\xd9"
    began = time.perf_counter()
    with pytest.raises(DocumentTooLargeError, match="50000 x 50000"):
        load_image(data, MAX_PIXELS)
    assert time.perf_counter() - began < 0.1


def test_decompression_bomb_is_refused() -> None:
    """A valid 1-bit PNG, 6,000 x 6,000 px of white in ~5 kB, over a 10 Mpx limit."""
    row = b"\x00" + b"\xff" * 750
    squeeze = zlib.compressobj(9)
    idat = b"".join(squeeze.compress(row) for _ in range(6_000)) + squeeze.flush()
    data = png_header(6_000, 6_000, depth=1) + png_chunk(b"IDAT", idat)
    data += png_chunk(b"IEND", b"")
    assert len(data) < 50_000
    with pytest.raises(DocumentTooLargeError):
        load_image(data, 10_000_000)
    assert load_image(data, 40_000_000).shape == (6_000, 6_000)  # it is a real image


@pytest.mark.parametrize(
    "data", [b"", b"hello world", b"GIF89a" + bytes(100), b"%PDF-1.7\n", bytes(64)]
)
def test_unknown_bytes_are_not_a_document(data: bytes) -> None:
    with pytest.raises(NotADocumentError):
        load_image(data, MAX_PIXELS)


def test_truncated_or_damaged_images_are_corrupt() -> None:
    noise = np.random.default_rng(1).integers(0, 255, (300, 400), np.uint8)
    png, jpeg = encode(noise, ".png"), encode(noise, ".jpg")
    cases = [png[: len(png) // 2], png[:30], png_header(10, 10)[:20], jpeg[: len(jpeg) // 2]]
    cases += [jpeg[:200], png[:33] + b"garbage" * 10, png_header(0, 10)]
    for data in cases:
        with pytest.raises(CorruptDocumentError):
            load_image(data, MAX_PIXELS)


def test_sixteen_bit_and_colour_images_become_8_bit_gray() -> None:
    deep = np.full((10, 10), 65535, np.uint16)
    deep[0, 0] = 0
    gray = load_image(encode(deep, ".png"), MAX_PIXELS)
    assert gray.dtype == np.uint8 and gray[0, 0] == 0 and gray[5, 5] == 255
    colour = np.zeros((10, 10, 3), np.uint8)
    colour[..., 2] = 255  # red
    assert abs(int(load_image(encode(colour, ".png"), MAX_PIXELS)[5, 5]) - 76) <= 1


@pytest.mark.parametrize("floor", ["748", "302"])
def test_mlstruct_wall_recall(floor: str) -> None:
    """Recall >= 0.9 against the MLSTRUCT truth (measured: 1.0 on both floors; see
    bench/walls_recall.py for the matching rule and the precision)."""
    fp = json.loads((DATA / "fp.json").read_text())
    gray = load_image((DATA / fp["floor"][floor]["image"]).read_bytes(), MAX_PIXELS)
    walls = raster_walls(gray)
    truth = truth_walls(fp, floor)
    hits = [(t, *coverage(t, walls)) for t in truth]
    found = [(t, thick) for t, cover, thick in hits if cover >= MIN_COVER]
    assert len(found) / len(truth) >= 0.9
    assert np.median([abs(thick - t.thickness) / t.thickness for t, thick in found]) < 0.1


# Scanned PDF pages: the words of an OCR text layer are not walls


def scanned_plan_with_ocr(words: bool, labels_on_walls: bool = False) -> bytes:
    """draw_plan's walls on a 1600 x 1200 pt page, scanned at 72 dpi (1 px = 1 pt), with
    two lines of heavy print below the building; with ``words``, an invisible text layer
    (as OCR adds) covers the print; with ``labels_on_walls``, it also has words whose boxes
    lie across the inner wall and on the top wall (labels touching walls, or hatching
    read as letters)."""
    document = pymupdf.open()
    page = document.new_page(width=1600, height=1200)
    if words:
        for y in (1100, 1170):
            page.insert_text((260, y), "PRINTED LINE", fontsize=40, render_mode=3)
    if labels_on_walls:
        page.insert_text((740, 430), "HALL", fontsize=40, render_mode=3)
        page.insert_text((500, 215), "IIIIIIII", fontsize=30, render_mode=3)
    image = draw_plan(hollow=False)
    for y in (1100, 1170):  # inside those words' boxes: x 260-436 and 447-536, y-43 to y+12
        for x0, x1 in ((264, 430), (451, 531)):
            cv2.rectangle(image, (x0, y - 35), (x1, y - 35 + THICK), 0, -1)
    page.insert_image(page.rect, stream=encode(image, ".png"))
    data: bytes = document.tobytes()
    return data


def ingest_walls(data: bytes, **options: Any) -> list[list[Wall]]:
    result = ingest_document(data, IngestOptions(**options), lambda *_: None, Limits())
    assert all(page["source"] == "raster" for page in result["pages"])
    return [[Wall(**wall) for wall in page["walls"]] for page in result["pages"]]


def test_words_of_a_scans_text_layer_are_not_taken_for_walls() -> None:
    without_layer = ingest_walls(scanned_plan_with_ocr(words=False), dpi=72)[0]
    assert len(without_layer) > len(PLAN)  # the print alone passes for walls
    assert_plan_walls(ingest_walls(scanned_plan_with_ocr(words=True), dpi=72)[0])


def scanned_pages(*images: U8, text: tuple[str, ...] = ()) -> bytes:
    """A PDF of full-page scans (1 px = 1 pt), each with the invisible ``text`` layer."""
    document = pymupdf.open()
    for image in images:
        page = document.new_page(width=image.shape[1], height=image.shape[0])
        for n, line in enumerate(text):
            page.insert_text((60, 80 + 40 * n), line, fontsize=24, render_mode=3)
        page.insert_image(page.rect, stream=encode(image, ".png"))
    data: bytes = document.tobytes()
    return data


def print_only(text: tuple[str, ...]) -> U8:
    """A page of ``text`` as a scanner sees it: the print of the words, nothing else."""
    document = pymupdf.open()
    page = document.new_page(width=600, height=800)
    for n, line in enumerate(text):
        page.insert_text((60, 80 + 40 * n), line, fontsize=24)
    pixmap = page.get_pixmap(dpi=72, colorspace=pymupdf.csGRAY)
    gray = np.frombuffer(pixmap.samples, np.uint8).reshape(pixmap.height, pixmap.width)
    document.close()
    return gray.copy()


def test_blank_all_ink_and_print_only_scanned_pages_have_no_walls() -> None:
    """Scanned pages with nothing to find a direction in (blank paper, all ink, print the
    text layer blanks out) succeed with no walls, their sizes in points."""
    lines = tuple(f"Chapter {n}: the siege went on through the summer" for n in range(16))
    blank, black = np.full((800, 600), 255, np.uint8), np.zeros((800, 600), np.uint8)
    data = scanned_pages(blank, black, print_only(lines), text=lines)
    result = ingest_document(data, IngestOptions(dpi=72), lambda *_: None, Limits())
    assert [page["walls"] for page in result["pages"]] == [[], [], []]
    assert [page["source"] for page in result["pages"]] == ["raster"] * 3
    assert [(page["page"], page["unit"]) for page in result["pages"]] == [
        (1, "pt"),
        (2, "pt"),
        (3, "pt"),
    ]


def test_scanned_pages_of_text_have_no_walls() -> None:
    """Pages 4 and 5 of the OCR'd book scan hold nothing but print (they gave 28 and 47)."""
    data = (DATA / "Seige_of_Vicksburg_Sample_OCR.pdf").read_bytes()
    assert ingest_walls(data, dpi=150, first_page=4, last_page=5) == [[], []]


def test_walls_under_words_of_a_scans_text_layer_stay_whole() -> None:
    data = scanned_plan_with_ocr(words=True, labels_on_walls=True)
    assert_plan_walls(ingest_walls(data, dpi=72)[0])
