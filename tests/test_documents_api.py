"""Document uploads, artifacts and the document functions, end to end over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pymupdf
import pytest
import redis

from shared.client import Sluice
from shared.errors import JobNotFoundError
from shared.keys import keys_for
from shared.settings import Settings
from tests.helpers import wait_for_status
from tests.inprocess import asgi_client, run_burst, serving

pytestmark = pytest.mark.any_redis

# pymupdf.PDF_ENCRYPT_AES_256, which its type hints do not declare.
PDF_ENCRYPT_AES_256 = 4


def plan_pdf(pages: int = 1, password: str | None = None) -> bytes:
    """A small vector drawing: a rectangle of walls and a label."""
    document = pymupdf.open()
    for _ in range(pages):
        page = document.new_page(width=595, height=842)
        page.draw_rect(pymupdf.Rect(100, 100, 400, 300), width=6)
        page.insert_text((120, 200), "LIVING 1:100")
    if password is None:
        data: bytes = document.tobytes()
    else:
        data = document.tobytes(encryption=PDF_ENCRYPT_AES_256, user_pw=password, owner_pw=password)
    document.close()
    return data


def nothing_queued(sync_redis: redis.Redis, namespace: str, function: str) -> None:
    keys = keys_for(namespace, function)
    assert sync_redis.xlen(keys.stream) == 0 if sync_redis.exists(keys.stream) else True
    assert not sync_redis.keys(f"{namespace}:*:job:*")
    assert not sync_redis.keys(f"{namespace}:*:upload:*")


async def test_render_multipart_upload_serves_png_artifacts(
    gateway_http: httpx.AsyncClient,
    sluice: Sluice,
    settings: Settings,
    sync_redis: redis.Redis,
    namespace: str,
) -> None:
    reply = await gateway_http.post(
        "/v1/jobs/render",
        files={"file": ("plan.pdf", plan_pdf(pages=2), "application/pdf")},
        data={"params": '{"dpi": 72}'},
    )
    assert reply.status_code == 202, reply.text
    job_id = reply.json()["job_id"]
    await run_burst(settings, "render", concurrency=1)
    done = await sluice.status(job_id)
    assert done.status == "succeeded", done.error
    result = done.result_value()
    assert [page["name"] for page in result["pages"]] == ["page-1.png", "page-2.png"]
    assert result["pages"][0]["width"] == 595 and result["pages"][0]["height"] == 842
    artifact = await gateway_http.get(result["pages"][1]["url"])
    assert artifact.status_code == 200
    assert artifact.headers["content-type"] == "image/png"
    assert (
        artifact.content.startswith(b"\x89PNG")
        and len(artifact.content) == result["pages"][1]["bytes"]
    )
    # The files expire with the job, its upload is gone; the index hash holds only text.
    keys = keys_for(namespace, "render")
    for key in (keys.artifact(job_id, "page-1.png"), keys.artifacts(job_id)):
        assert 0 < sync_redis.ttl(key) <= 86_400, key
    assert not sync_redis.exists(keys.upload(job_id))
    index = sync_redis.hgetall(keys.artifacts(job_id))
    assert index == {b"page-1.png": b"image/png", b"page-2.png": b"image/png"}
    missing = await gateway_http.get(f"/v1/jobs/{job_id}/artifacts/page-9.png")
    assert missing.status_code == 404 and missing.json()["error"]["type"] == "artifact_not_found"


async def test_raw_pdf_body_with_query_parameters(
    gateway_http: httpx.AsyncClient, sluice: Sluice, settings: Settings
) -> None:
    reply = await gateway_http.post(
        "/v1/jobs/render?dpi=36&last_page=1",
        content=plan_pdf(pages=3),
        headers={"content-type": "application/pdf"},
    )
    assert reply.status_code == 202, reply.text
    await run_burst(settings, "render", concurrency=1)
    done = await sluice.status(reply.json()["job_id"])
    assert done.status == "succeeded", done.error
    pages = done.result_value()["pages"]
    assert len(pages) == 1 and pages[0]["width"] == 298  # 595 pt at 36 dpi


async def test_fake_pdf_is_refused_by_its_bytes_and_nothing_is_queued(
    gateway_http: httpx.AsyncClient, sync_redis: redis.Redis, namespace: str
) -> None:
    for body, content_type in [
        (b"hello, I am not a PDF", "application/pdf"),
        (b"GIF89a.....", "image/png"),
    ]:
        reply = await gateway_http.post(
            "/v1/jobs/render", content=body, headers={"content-type": content_type}
        )
        assert reply.status_code == 415, reply.text
        assert reply.json()["error"]["type"] == "unsupported_media_type"
    multipart = await gateway_http.post(
        "/v1/jobs/ingest", files={"file": ("plan.pdf", b"%!PS-Adobe not a pdf", "application/pdf")}
    )
    assert multipart.status_code == 415
    json_body = await gateway_http.post("/v1/jobs/render", json={"dpi": 72})
    assert json_body.status_code == 415
    no_file = await gateway_http.post("/v1/jobs/render", files={"other": ("a", b"x")})
    assert no_file.status_code == 400 and no_file.json()["error"]["field"] == "file"
    # `curl -F 'file=<plan.pdf'` sends the document as a text field (no filename).
    as_text = await gateway_http.post("/v1/jobs/render", files={"file": (None, b"%PDF-1.4 ...")})
    assert as_text.status_code == 400, as_text.text
    assert as_text.json()["error"]["field"] == "file"
    assert "file=@" in as_text.json()["error"]["message"]
    bad_params = await gateway_http.post(
        "/v1/jobs/render",
        files={"file": ("p.pdf", plan_pdf(), "application/pdf")},
        data={"params": '{"dpi": 5000}'},
    )
    assert bad_params.status_code == 400 and "dpi" in bad_params.json()["error"]["field"]
    nothing_queued(sync_redis, namespace, "render")


async def test_upload_over_the_limit_is_413_and_leaves_nothing(
    settings: Settings, sync_redis: redis.Redis, namespace: str
) -> None:
    big = plan_pdf() + b"%" * 200_000
    async with asgi_client(settings.replace(max_upload_bytes=100_000)) as http:
        raw = await http.post(
            "/v1/jobs/render", content=big, headers={"content-type": "application/pdf"}
        )
        assert raw.status_code == 413, raw.text

        async def chunked() -> AsyncIterator[bytes]:
            for _ in range(50):
                yield b"%PDF-" + b"0" * 10_000

        streamed = await http.post(
            "/v1/jobs/render", content=chunked(), headers={"content-type": "application/pdf"}
        )
        assert streamed.status_code == 413
        multipart = await http.post(
            "/v1/jobs/render", files={"file": ("a.pdf", big, "application/pdf")}
        )
        assert multipart.status_code == 413
    nothing_queued(sync_redis, namespace, "render")


async def test_a_document_sent_as_a_text_part_over_the_part_limit_is_told_how_to_send_it(
    settings: Settings, sync_redis: redis.Redis, namespace: str
) -> None:
    """Text parts are bounded by MAX_BODY_BYTES."""
    async with asgi_client(settings.replace(max_body_bytes=100_000)) as http:
        reply = await http.post(
            "/v1/jobs/render", files={"file": (None, b"%PDF-" + b"0" * 200_000)}
        )
    assert reply.status_code == 400, reply.text
    assert reply.json()["error"]["field"] == "file"
    assert "file=@" in reply.json()["error"]["message"]
    nothing_queued(sync_redis, namespace, "render")


async def test_encrypted_pdf_fails_its_job_at_once_and_the_consumer_lives(
    gateway_http: httpx.AsyncClient, sluice: Sluice, settings: Settings
) -> None:
    """One slot: the consumer that failed the encrypted job then runs the next one."""
    reply = await gateway_http.post(
        "/v1/jobs/render",
        content=plan_pdf(password="secret"),
        headers={"content-type": "application/pdf"},
    )
    again = await gateway_http.post(
        "/v1/jobs/render", content=plan_pdf(), headers={"content-type": "application/pdf"}
    )
    consumer = await run_burst(settings, "render", concurrency=1)
    done = await sluice.status(reply.json()["job_id"])
    assert done.status == "failed" and done.attempts == 1
    assert done.error is not None and done.error.type == "EncryptedDocument"
    ok = await sluice.status(again.json()["job_id"])
    assert ok.status == "succeeded" and not consumer.crashed


async def test_bom_from_a_hand_written_wall_list(
    gateway_http: httpx.AsyncClient, sluice: Sluice, settings: Settings
) -> None:
    reply = await gateway_http.post(
        "/v1/jobs/bom",
        json={"walls": [{"x1": 0, "y1": 0, "x2": 5, "y2": 0, "thickness": 0.1}]},
    )
    assert reply.status_code == 202, reply.text
    await run_burst(settings, "bom")
    done = await sluice.status(reply.json()["job_id"])
    assert done.status == "succeeded", done.error
    items = {line["key"] for line in done.result_value()["lines"]}
    assert {"sheets", "studs"} <= items


async def wait_for_follow_up(sluice: Sluice, job_id: str) -> None:
    """A follow-up exists a moment after its first job's completion (it is relayed)."""
    for _ in range(300):
        try:
            await sluice.status(job_id)
            return
        except JobNotFoundError:
            await asyncio.sleep(0.05)
    raise AssertionError(f"follow-up {job_id} was never queued")


async def test_an_unreadable_scale_is_refused_at_submission(
    gateway_http: httpx.AsyncClient, sync_redis: redis.Redis, namespace: str
) -> None:
    reply = await gateway_http.post(
        "/v1/jobs/ingest?scale=about%20right",
        content=plan_pdf(),
        headers={"content-type": "application/pdf"},
    )
    assert reply.status_code == 400, reply.text
    assert "scale" in reply.json()["error"]["message"]
    nothing_queued(sync_redis, namespace, "ingest")


DATA = Path(__file__).parent / "data"


async def test_ingest_a_real_plan_then_bom_through_http(
    gateway_http: httpx.AsyncClient, sluice: Sluice, settings: Settings
) -> None:
    """The issue's chain on a real CAD plot: ingest -> bom, progress and links included."""
    pdf = (DATA / "cfast_UL_NIJ_Ranch_layout.pdf").read_bytes()
    reply = await gateway_http.post(
        "/v1/jobs/ingest?then=bom",
        files={"file": ("ranch.pdf", pdf, "application/pdf")},
        data={"params": '{"scale": "1:100"}'},
    )
    assert reply.status_code == 202, reply.text
    job_id, bom_id = reply.json()["job_id"], reply.json()["next_job_id"]
    async with serving(settings, "ingest", "bom", concurrency=2):
        done = await wait_for_status(sluice, job_id, "succeeded", "failed", timeout=90)
        await wait_for_follow_up(sluice, bom_id)
        bom = await wait_for_status(sluice, bom_id, "succeeded", "failed", timeout=30)
    assert done.status == "succeeded", done.error
    assert done.progress == 100
    pages = done.result_value()["pages"]
    page = pages[0]
    assert {"index", "width", "height", "source", "scale", "walls", "text"} <= set(page)
    assert page["source"] == "vector" and page["index"] == 0
    assert page["scale"]["source"] == "parameter"
    assert page["scale"]["metres_per_unit"] == pytest.approx(0.0254 / 72 * 100)
    assert len(page["walls"]) >= 20
    wall = page["walls"][0]
    assert {"x1", "y1", "x2", "y2", "thickness"} <= set(wall)
    assert 0 <= wall["x1"] <= page["width"] and 0 <= wall["y1"] <= page["height"]
    assert any(block["text"].strip() for block in page["text"])
    assert bom.status == "succeeded", bom.error
    assert bom.previous_job_id == job_id
    totals = bom.result_value()["totals"]
    assert totals["wall_length_m"] > 10


async def test_ingest_of_an_image_upload_takes_the_raster_path(
    gateway_http: httpx.AsyncClient, sluice: Sluice, settings: Settings
) -> None:
    document = pymupdf.open()
    page = document.new_page(width=400, height=300)
    page.draw_rect(pymupdf.Rect(40, 40, 360, 260), width=8)
    png = page.get_pixmap(dpi=72).tobytes("png")
    document.close()
    # Named .jpg and declared image/jpeg: the bytes say PNG, and that is what counts.
    reply = await gateway_http.post(
        "/v1/jobs/ingest", files={"file": ("plan.jpg", png, "image/jpeg")}
    )
    assert reply.status_code == 202, reply.text
    await run_burst(settings, "ingest", concurrency=1)
    done = await sluice.status(reply.json()["job_id"])
    assert done.status == "succeeded", done.error
    page_result = done.result_value()["pages"][0]
    assert page_result["source"] == "raster"
    assert (page_result["width"], page_result["height"]) == (400, 300)
    assert len(page_result["walls"]) >= 4


async def test_hostile_parameters_are_400s_not_500s(
    gateway_http: httpx.AsyncClient, sync_redis: redis.Redis, namespace: str
) -> None:
    zero = await gateway_http.post(
        "/v1/jobs/ingest?scale=1/0%22%20%3D%201%27",
        content=plan_pdf(),
        headers={"content-type": "application/pdf"},
    )
    assert zero.status_code == 400, zero.text
    deep = await gateway_http.post(
        "/v1/jobs/ingest",
        files={"file": ("p.pdf", plan_pdf(), "application/pdf")},
        data={"params": "[" * 50_000},
    )
    assert deep.status_code == 400, deep.text
    assert deep.json()["error"]["field"] == "params"
    nothing_queued(sync_redis, namespace, "ingest")


async def test_render_of_a_scanned_page_at_300_dpi_sends_a_large_artifact(
    gateway_http: httpx.AsyncClient, sluice: Sluice, settings: Settings
) -> None:
    """A PNG of most of a MB crosses the pipe from the child in pieces."""
    pdf = (DATA / "Seige_of_Vicksburg_Sample_OCR.pdf").read_bytes()
    reply = await gateway_http.post(
        "/v1/jobs/render?dpi=300",
        content=pdf,
        headers={"content-type": "application/pdf"},
    )
    await run_burst(settings, "render", concurrency=1)
    done = await sluice.status(reply.json()["job_id"])
    assert done.status == "succeeded", done.error
    pages = done.result_value()["pages"]
    assert len(pages) == 6
    assert all(page["bytes"] > 200_000 for page in pages)  # far more than a pipe holds
    for page in pages:
        artifact = await gateway_http.get(page["url"])
        assert artifact.status_code == 200 and len(artifact.content) == page["bytes"]
