"""Inputs the document functions used to retry or refuse wrongly, end to end over HTTP:
MuPDF's own errors on a malformed page tree, blank images, images sent to ``render``; and
how every message and parameter numbers pages."""

from __future__ import annotations

import struct
from typing import Any

import cv2
import httpx
import numpy as np
import numpy.typing as npt
import pytest

from documents.bom import BomInput, BomInputError, Page
from documents.model import Wall
from shared.client import Sluice
from shared.jobs import JobStatus
from shared.settings import Settings
from tests.inprocess import run_burst

pytestmark = pytest.mark.any_redis


def pdf(*objects: bytes) -> bytes:
    """A PDF of ``objects`` (numbered from 1, the first the catalog) with an exact
    cross-reference table, so MuPDF reads the objects as written, without repairing."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref, size = len(out), len(objects) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref)
    return bytes(out)


CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"
PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>"
# One page, but the page tree claims a billion.
LYING = pdf(CATALOG, b"<< /Type /Pages /Kids [3 0 R] /Count 1000000000 >>", PAGE)
# The page tree holds itself beside its one page.
LOOPING = pdf(CATALOG, b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>", PAGE)


def encode(image: npt.NDArray[Any], ext: str) -> bytes:
    ok, buffer = cv2.imencode(ext, image)
    assert ok
    return buffer.tobytes()


def with_exif_orientation(jpeg: bytes, orientation: int) -> bytes:
    """The JPEG with an APP1 EXIF segment (big-endian TIFF, one IFD entry) after SOI."""
    entry = struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0)  # SHORT, count 1
    tiff = b"MM\x00\x2a" + struct.pack(">I", 8) + struct.pack(">H", 1) + entry + bytes(4)
    body = b"Exif\x00\x00" + tiff
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body + jpeg[2:]


async def submit(http: httpx.AsyncClient, function: str, data: bytes, query: str = "") -> str:
    """Submit ``data`` as a raw body; the job's id."""
    kind = "application/pdf" if data.startswith(b"%PDF") else "image/png"
    reply = await http.post(
        f"/v1/jobs/{function}{query}", content=data, headers={"content-type": kind}
    )
    assert reply.status_code == 202, reply.text
    return str(reply.json()["job_id"])


async def ended(sluice: Sluice, job_ids: list[str]) -> list[JobStatus]:
    """The jobs' statuses, each ended (after a burst has run them)."""
    statuses = [await sluice.status(job_id) for job_id in job_ids]
    assert all(status.status in ("succeeded", "failed") for status in statuses), statuses
    return statuses


@pytest.mark.parametrize("data", [LYING, LOOPING], ids=["lying-count", "cycle"])
async def test_a_malformed_page_tree_fails_corrupt_at_once(
    data: bytes, gateway_http: httpx.AsyncClient, sluice: Sluice, settings: Settings
) -> None:
    """MuPDF's own errors (RuntimeError, FzErrorFormat) are the document's fault: no retry."""
    functions = ("ingest", "render")
    jobs = [await submit(gateway_http, function, data) for function in functions]
    consumer = await run_burst(settings, *functions, concurrency=2)
    for function, done in zip(functions, await ended(sluice, jobs), strict=True):
        assert done.status == "failed" and done.error is not None, (function, done)
        assert (done.error.type, done.attempts) == ("CorruptDocument", 1), (function, done)
    assert not consumer.crashed


async def test_a_blank_image_is_ingested_with_no_walls_at_once(
    gateway_http: httpx.AsyncClient, sluice: Sluice, settings: Settings
) -> None:
    blank = encode(np.full((400, 400), 255, np.uint8), ".png")
    job_id = await submit(gateway_http, "ingest", blank)
    await run_burst(settings, "ingest", concurrency=1)
    (done,) = await ended(sluice, [job_id])
    assert done.status == "succeeded" and done.attempts == 1, done.error
    (page,) = done.result_value()["pages"]
    assert page["walls"] == [] and (page["page"], page["index"], page["unit"]) == (1, 0, "px")


async def test_render_gives_an_image_as_its_one_page_at_its_own_pixel_size(
    gateway_http: httpx.AsyncClient, sluice: Sluice, settings: Settings
) -> None:
    colour = np.zeros((120, 200, 4), np.uint8)
    colour[..., 2], colour[..., 3] = 255, 200  # red, partly transparent
    colour[10:30, 10:50] = (255, 0, 0, 255)  # an opaque blue block
    gray = np.full((40, 80), 255, np.uint8)
    gray[:10, :20] = 0  # a dark block in the top-left corner, turned by EXIF 6
    upright = with_exif_orientation(encode(gray, ".jpg"), 6)
    cases = [
        (encode(colour, ".png"), "?dpi=72", (200, 120)),
        (encode(colour, ".png"), "?dpi=600&last_page=3", (200, 120)),
        (upright, "", (40, 80)),
    ]
    jobs = [await submit(gateway_http, "render", data, query) for data, query, _ in cases]
    await run_burst(settings, "render", concurrency=1)
    for (_, _, size), done in zip(cases, await ended(sluice, jobs), strict=True):
        assert done.status == "succeeded", done.error
        result = done.result_value()
        assert result["page_count"] == 1 and len(result["pages"]) == 1
        page = result["pages"][0]
        assert (page["page"], page["name"], (page["width"], page["height"])) == (
            1,
            "page-1.png",
            size,
        )
        artifact = await gateway_http.get(page["url"])
        assert artifact.headers["content-type"] == "image/png"
        assert len(artifact.content) == page["bytes"]
        image = cv2.imdecode(np.frombuffer(artifact.content, np.uint8), cv2.IMREAD_UNCHANGED)
        assert image is not None and image.shape[1::-1] == size
        if image.ndim == 3:  # the PNG's own pixels, alpha kept
            assert (image == colour).all()
        else:  # the JPEG turned upright: its dark block is now top-right
            assert image[5, 35] < 64 and image[75, 5] > 192


async def test_an_images_page_range_is_page_1(
    gateway_http: httpx.AsyncClient, sluice: Sluice, settings: Settings
) -> None:
    png = encode(np.full((50, 50), 255, np.uint8), ".png")
    functions = ("ingest", "render")
    jobs = [await submit(gateway_http, function, png, "?first_page=2") for function in functions]
    await run_burst(settings, *functions, concurrency=2)
    for done in await ended(sluice, jobs):
        assert done.status == "failed" and done.error is not None and done.attempts == 1
        assert done.error.type == "BadPageRange"
        assert done.error.message == (
            "first_page 2 is past the end: an image has 1 page (pages are numbered from 1)"
        )


async def test_the_function_list_says_how_pages_are_numbered(
    gateway_http: httpx.AsyncClient,
) -> None:
    reply = await gateway_http.get("/v1/functions")
    functions = {spec["name"]: spec for spec in reply.json()["functions"]}
    for name in ("ingest", "render"):
        schema = functions[name]["input_schema"]
        fields = schema["$defs"][schema["$ref"].rsplit("/", 1)[-1]]["properties"]
        for field in ("first_page", "last_page"):
            assert "numbered from 1" in fields[field]["description"], (name, field)
        assert "numbered from 1" in " ".join(functions[name]["description"].split())
    assert "image" in functions["render"]["description"]


def test_bom_says_how_it_counts_the_page_it_names() -> None:
    """bom names a page by the ingest result's ``index`` (from 0) and says so."""
    walls = [Wall(0, 0, 100, 0, 5)]
    named = r"page 3 has 1 wall\(s\) but no scale \(pages counted from 0, by `index`\)"
    with pytest.raises(BomInputError, match=named):
        BomInput(pages=[Page(index=3, walls=walls)])
    with pytest.raises(BomInputError, match=r"page 0 .* counted from 0, by position in `pages`"):
        BomInput(pages=[Page(walls=walls)])


def test_a_missing_scale_names_the_value_to_pass_as_a_number() -> None:
    """It was an expression (0.0254 / 72 * 100), which no one can paste."""
    walls = [Wall(0, 0, 100, 0, 5)]
    for unit, value in (("pt", "0.035278"), ("px", "0.016933"), (None, "0.035278")):
        with pytest.raises(BomInputError) as refused:
            BomInput(pages=[Page(index=0, walls=walls, unit=unit)])
        assert f"metres_per_unit={value}" in str(refused.value), str(refused.value)
        assert BomInput(pages=[Page(index=0, walls=walls, unit=unit)], metres_per_unit=float(value))
