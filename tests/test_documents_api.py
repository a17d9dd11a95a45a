"""Document uploads, artifacts and the document functions, end to end over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pymupdf
import pytest
import redis

from shared.client import Sluice
from shared.errors import JobNotFoundError
from shared.keys import keys_for
from tests.conftest import Proc
from tests.helpers import wait_for_status

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
    http: httpx.AsyncClient,
    sluice: Sluice,
    start_consumer: Callable[..., Proc],
    sync_redis: redis.Redis,
    namespace: str,
) -> None:
    start_consumer("render", concurrency=1)
    reply = await http.post(
        "/v1/jobs/render",
        files={"file": ("plan.pdf", plan_pdf(pages=2), "application/pdf")},
        data={"params": '{"dpi": 72}'},
    )
    assert reply.status_code == 202, reply.text
    job_id = reply.json()["job_id"]
    done = await wait_for_status(sluice, job_id, "succeeded", "failed", timeout=60)
    assert done.status == "succeeded", done.error
    result = done.result_value()
    assert [page["name"] for page in result["pages"]] == ["page-1.png", "page-2.png"]
    assert result["pages"][0]["width"] == 595 and result["pages"][0]["height"] == 842
    artifact = await http.get(result["pages"][1]["url"])
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
    missing = await http.get(f"/v1/jobs/{job_id}/artifacts/page-9.png")
    assert missing.status_code == 404 and missing.json()["error"]["type"] == "artifact_not_found"


async def test_raw_pdf_body_with_query_parameters(
    http: httpx.AsyncClient, sluice: Sluice, start_consumer: Callable[..., Proc]
) -> None:
    start_consumer("render", concurrency=1)
    reply = await http.post(
        "/v1/jobs/render?dpi=36&last_page=1",
        content=plan_pdf(pages=3),
        headers={"content-type": "application/pdf"},
    )
    assert reply.status_code == 202, reply.text
    done = await wait_for_status(sluice, reply.json()["job_id"], "succeeded", "failed", timeout=60)
    assert done.status == "succeeded", done.error
    pages = done.result_value()["pages"]
    assert len(pages) == 1 and pages[0]["width"] == 298  # 595 pt at 36 dpi


async def test_fake_pdf_is_refused_by_its_bytes_and_nothing_is_queued(
    http: httpx.AsyncClient, sync_redis: redis.Redis, namespace: str
) -> None:
    for body, content_type in [
        (b"hello, I am not a PDF", "application/pdf"),
        (b"GIF89a.....", "image/png"),
    ]:
        reply = await http.post(
            "/v1/jobs/render", content=body, headers={"content-type": content_type}
        )
        assert reply.status_code == 415, reply.text
        assert reply.json()["error"]["type"] == "unsupported_media_type"
    multipart = await http.post(
        "/v1/jobs/ingest", files={"file": ("plan.pdf", b"%!PS-Adobe not a pdf", "application/pdf")}
    )
    assert multipart.status_code == 415
    json_body = await http.post("/v1/jobs/render", json={"dpi": 72})
    assert json_body.status_code == 415
    no_file = await http.post("/v1/jobs/render", files={"other": ("a", b"x")})
    assert no_file.status_code == 400 and no_file.json()["error"]["field"] == "file"
    # `curl -F 'file=<plan.pdf'` sends the document as a text field (no filename).
    as_text = await http.post("/v1/jobs/render", files={"file": (None, b"%PDF-1.4 ...")})
    assert as_text.status_code == 400, as_text.text
    assert as_text.json()["error"]["field"] == "file"
    assert "file=@" in as_text.json()["error"]["message"]
    bad_params = await http.post(
        "/v1/jobs/render",
        files={"file": ("p.pdf", plan_pdf(), "application/pdf")},
        data={"params": '{"dpi": 5000}'},
    )
    assert bad_params.status_code == 400 and "dpi" in bad_params.json()["error"]["field"]
    nothing_queued(sync_redis, namespace, "render")


async def test_upload_over_the_limit_is_413_and_leaves_nothing(
    start_gateway: Callable[..., str], sync_redis: redis.Redis, namespace: str
) -> None:
    base = start_gateway(MAX_UPLOAD_BYTES="100000")
    big = plan_pdf() + b"%" * 200_000
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
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
    start_gateway: Callable[..., str], sync_redis: redis.Redis, namespace: str
) -> None:
    """Text parts are bounded by MAX_BODY_BYTES (small here, so the client has sent its
    whole body before the early answer closes the connection)."""
    base = start_gateway(MAX_BODY_BYTES="100000")
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        reply = await http.post(
            "/v1/jobs/render", files={"file": (None, b"%PDF-" + b"0" * 200_000)}
        )
    assert reply.status_code == 400, reply.text
    assert reply.json()["error"]["field"] == "file"
    assert "file=@" in reply.json()["error"]["message"]
    nothing_queued(sync_redis, namespace, "render")


async def test_encrypted_pdf_fails_its_job_at_once_and_the_consumer_lives(
    http: httpx.AsyncClient, sluice: Sluice, start_consumer: Callable[..., Proc]
) -> None:
    consumer = start_consumer("render", concurrency=1)
    reply = await http.post(
        "/v1/jobs/render",
        content=plan_pdf(password="secret"),
        headers={"content-type": "application/pdf"},
    )
    done = await wait_for_status(sluice, reply.json()["job_id"], "failed", "succeeded", timeout=60)
    assert done.status == "failed" and done.attempts == 1
    assert done.error is not None and done.error.type == "EncryptedDocument"
    again = await http.post(
        "/v1/jobs/render", content=plan_pdf(), headers={"content-type": "application/pdf"}
    )
    ok = await wait_for_status(sluice, again.json()["job_id"], "succeeded", "failed", timeout=60)
    assert ok.status == "succeeded" and consumer.alive()


async def test_bom_from_a_hand_written_wall_list(
    http: httpx.AsyncClient, sluice: Sluice, start_consumer: Callable[..., Proc]
) -> None:
    start_consumer("bom")
    reply = await http.post(
        "/v1/jobs/bom",
        json={"walls": [{"x1": 0, "y1": 0, "x2": 5, "y2": 0, "thickness": 0.1}]},
    )
    assert reply.status_code == 202, reply.text
    done = await wait_for_status(sluice, reply.json()["job_id"], "succeeded", "failed")
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


async def test_chain_queues_the_follow_up_with_the_result_and_links_both(
    http: httpx.AsyncClient, sluice: Sluice, start_consumer: Callable[..., Proc]
) -> None:
    """echo's result is a wall list, which bom takes: echo -> bom."""
    start_consumer("echo", "bom")
    walls = {"walls": [{"x1": 0, "y1": 0, "x2": 3, "y2": 0, "thickness": 0.1}]}
    reply = await http.post("/v1/jobs/echo?then=bom", json=walls)
    assert reply.status_code == 202, reply.text
    first_id = reply.json()["job_id"]
    next_id = reply.json()["next_job_id"]
    assert next_id.startswith("bom-")
    first = await wait_for_status(sluice, first_id, "succeeded")
    assert first.next_job_id == next_id and first.previous_job_id is None
    await wait_for_follow_up(sluice, next_id)
    follow_up = await wait_for_status(sluice, next_id, "succeeded", "failed")
    assert follow_up.status == "succeeded", follow_up.error
    assert follow_up.previous_job_id == first_id
    assert {line["key"] for line in follow_up.result_value()["lines"]} >= {"sheets"}
    status = (await http.get(f"/v1/jobs/{next_id}")).json()
    assert status["previous_job_id"] == first_id


async def test_a_failed_job_ends_its_follow_up_cancelled_naming_it(
    http: httpx.AsyncClient,
    sluice: Sluice,
    start_consumer: Callable[..., Proc],
    sync_redis: redis.Redis,
    namespace: str,
) -> None:
    """The follow-up's id was handed out at submission: it must not stay 404 for ever."""
    start_consumer("work", "echo")
    reply = await http.post("/v1/jobs/work?then=echo", json={"permanent": True})
    job = reply.json()
    failed = await wait_for_status(sluice, job["job_id"], "failed")
    assert failed.next_job_id == job["next_job_id"]
    await wait_for_follow_up(sluice, job["next_job_id"])
    follow_up = (await http.get(f"/v1/jobs/{job['next_job_id']}")).json()
    assert follow_up["status"] == "cancelled" and follow_up["attempts"] == 0, follow_up
    assert follow_up["error"]["type"] == "PreviousJobFailed"
    assert job["job_id"] in follow_up["error"]["message"]
    assert "BadInput: this input can never work" in follow_up["error"]["message"]  # why
    assert follow_up["previous_job_id"] == job["job_id"]
    assert sync_redis.xlen(keys_for(namespace, "echo").stream) == 0


async def test_a_follow_up_that_cannot_take_the_result_fails_with_a_clear_error(
    sluice: Sluice, start_consumer: Callable[..., Proc]
) -> None:
    start_consumer("echo", "work")
    submission = await sluice.submit("echo", {"seconds": "not a number"}, then=["work"])
    assert submission.next_job_id is not None
    await wait_for_status(sluice, submission.job_id, "succeeded")
    await wait_for_follow_up(sluice, submission.next_job_id)
    follow_up = await wait_for_status(sluice, submission.next_job_id, "failed", "succeeded")
    assert follow_up.error is not None and follow_up.error.type == "InvalidInput"
    assert follow_up.attempts == 1


async def test_chain_naming_an_unknown_or_document_function_is_refused(
    http: httpx.AsyncClient,
) -> None:
    unknown = await http.post("/v1/jobs/echo?then=nope", json={})
    assert unknown.status_code == 404
    for empty in ("", ",", "echo,"):
        reply = await http.post(f"/v1/jobs/echo?then={empty}", json={})
        assert reply.status_code == 400 and reply.json()["error"]["field"] == "then", reply.text
    document = await http.post("/v1/jobs/echo?then=render", json={})
    assert document.status_code == 400 and document.json()["error"]["field"] == "then"
    too_long = await http.post("/v1/jobs/echo?then=" + ",".join(["echo"] * 17), json={})
    assert too_long.status_code == 400 and too_long.json()["error"]["field"] == "then"
    longest = await http.post("/v1/jobs/echo?then=" + ",".join(["echo"] * 16), json={})
    assert longest.status_code == 202, longest.text


async def test_a_follow_up_whose_relay_was_lost_is_queued_by_the_sweep(
    sluice: Sluice, start_consumer: Callable[..., Proc], sync_redis: redis.Redis, namespace: str
) -> None:
    """A consumer that died right after completing left its follow-up in the outbox."""
    submission = await sluice.submit("echo", {"walls": []}, then=["echo"])
    assert submission.next_job_id is not None
    keys = keys_for(namespace, "echo")
    # What the completion script leaves behind when its consumer dies before relaying.
    sync_redis.hset(
        keys.job(submission.job_id),
        mapping={"status": "succeeded", "result": '{"relayed": "late"}'},
    )
    sync_redis.xadd(
        keys.chain, {"job_id": submission.job_id, "next_job_id": submission.next_job_id}
    )
    sync_redis.delete(keys.stream)  # the first job's own entry is done with
    start_consumer("echo")
    await wait_for_follow_up(sluice, submission.next_job_id)
    follow_up = await wait_for_status(sluice, submission.next_job_id, "succeeded", timeout=20)
    assert follow_up.result_value() == {"relayed": "late"}
    assert sync_redis.xlen(keys.chain) == 0


async def test_an_unreadable_scale_is_refused_at_submission(
    http: httpx.AsyncClient, sync_redis: redis.Redis, namespace: str
) -> None:
    reply = await http.post(
        "/v1/jobs/ingest?scale=about%20right",
        content=plan_pdf(),
        headers={"content-type": "application/pdf"},
    )
    assert reply.status_code == 400, reply.text
    assert "scale" in reply.json()["error"]["message"]
    nothing_queued(sync_redis, namespace, "ingest")


DATA = Path(__file__).parent / "data"


async def test_ingest_a_real_plan_then_bom_through_http(
    http: httpx.AsyncClient, sluice: Sluice, start_consumer: Callable[..., Proc]
) -> None:
    """The issue's chain on a real CAD plot: ingest -> bom, progress and links included."""
    start_consumer("ingest", "bom", concurrency=2)
    pdf = (DATA / "cfast_UL_NIJ_Ranch_layout.pdf").read_bytes()
    reply = await http.post(
        "/v1/jobs/ingest?then=bom",
        files={"file": ("ranch.pdf", pdf, "application/pdf")},
        data={"params": '{"scale": "1:100"}'},
    )
    assert reply.status_code == 202, reply.text
    job_id, bom_id = reply.json()["job_id"], reply.json()["next_job_id"]
    done = await wait_for_status(sluice, job_id, "succeeded", "failed", timeout=90)
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
    await wait_for_follow_up(sluice, bom_id)
    bom = await wait_for_status(sluice, bom_id, "succeeded", "failed", timeout=30)
    assert bom.status == "succeeded", bom.error
    assert bom.previous_job_id == job_id
    totals = bom.result_value()["totals"]
    assert totals["wall_length_m"] > 10


async def test_ingest_of_an_image_upload_takes_the_raster_path(
    http: httpx.AsyncClient, sluice: Sluice, start_consumer: Callable[..., Proc]
) -> None:
    start_consumer("ingest", concurrency=1)
    document = pymupdf.open()
    page = document.new_page(width=400, height=300)
    page.draw_rect(pymupdf.Rect(40, 40, 360, 260), width=8)
    png = page.get_pixmap(dpi=72).tobytes("png")
    document.close()
    # Named .jpg and declared image/jpeg: the bytes say PNG, and that is what counts.
    reply = await http.post("/v1/jobs/ingest", files={"file": ("plan.jpg", png, "image/jpeg")})
    assert reply.status_code == 202, reply.text
    done = await wait_for_status(sluice, reply.json()["job_id"], "succeeded", "failed", timeout=60)
    assert done.status == "succeeded", done.error
    page_result = done.result_value()["pages"][0]
    assert page_result["source"] == "raster"
    assert (page_result["width"], page_result["height"]) == (400, 300)
    assert len(page_result["walls"]) >= 4


async def test_hostile_parameters_are_400s_not_500s(
    http: httpx.AsyncClient, sync_redis: redis.Redis, namespace: str
) -> None:
    zero = await http.post(
        "/v1/jobs/ingest?scale=1/0%22%20%3D%201%27",
        content=plan_pdf(),
        headers={"content-type": "application/pdf"},
    )
    assert zero.status_code == 400, zero.text
    deep = await http.post(
        "/v1/jobs/ingest",
        files={"file": ("p.pdf", plan_pdf(), "application/pdf")},
        data={"params": "[" * 50_000},
    )
    assert deep.status_code == 400, deep.text
    assert deep.json()["error"]["field"] == "params"
    nothing_queued(sync_redis, namespace, "ingest")


async def test_render_of_a_scanned_page_at_300_dpi_sends_a_large_artifact(
    http: httpx.AsyncClient, sluice: Sluice, start_consumer: Callable[..., Proc]
) -> None:
    """A PNG of most of a MB crosses the pipe from the child in pieces."""
    start_consumer("render", concurrency=1)
    pdf = (DATA / "Seige_of_Vicksburg_Sample_OCR.pdf").read_bytes()
    reply = await http.post(
        "/v1/jobs/render?dpi=300",
        content=pdf,
        headers={"content-type": "application/pdf"},
    )
    done = await wait_for_status(sluice, reply.json()["job_id"], "succeeded", "failed", timeout=60)
    assert done.status == "succeeded", done.error
    pages = done.result_value()["pages"]
    assert len(pages) == 6
    assert all(page["bytes"] > 200_000 for page in pages)  # far more than a pipe holds
    for page in pages:
        artifact = await http.get(page["url"])
        assert artifact.status_code == 200 and len(artifact.content) == page["bytes"]
