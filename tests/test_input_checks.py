"""Input the document functions cannot work with is a 400 naming the field, at submission.

Over HTTP to the gateway app (in this process) and a real Redis: bom inputs that overflowed
its arithmetic, the "exactly one of" and "no scale" checks, and ingest's scale as query
string text.
"""

from __future__ import annotations

from typing import Any

import httpx
import msgspec
import pytest
import redis

from shared.keys import keys_for
from shared.validation import field_of
from tests.test_documents_api import nothing_queued, plan_pdf

pytestmark = pytest.mark.any_redis

JSON = {"content-type": "application/json"}
PDF = {"content-type": "application/pdf"}
WALL = {"x1": 0, "y1": 0, "x2": 1, "y2": 0, "thickness": 1}


def field_error(reply: httpx.Response) -> dict[str, Any]:
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert error["type"] == "invalid_input", error
    assert isinstance(error, dict)
    return error


async def test_bom_input_that_would_overflow_or_mean_nothing_is_400_naming_the_field(
    gateway_http: httpx.AsyncClient, sync_redis: redis.Redis, namespace: str
) -> None:
    huge = {"x1": 0, "y1": 0, "x2": 1e308, "y2": 1e308, "thickness": 1}
    cases: list[tuple[dict[str, Any], str]] = [
        ({"walls": [huge]}, "$.walls[0].x2"),  # was 202, then OverflowError twice
        ({"walls": [WALL | {"thickness": -1}]}, "$.walls[0].thickness"),
        ({"walls": [WALL | {"y1": -1e300}]}, "$.walls[0].y1"),
        ({"walls": [WALL], "metres_per_unit": 1e300}, "$.metres_per_unit"),
        ({"walls": [WALL], "ceiling_height_mm": 1e300}, "$.ceiling_height_mm"),
        ({"walls": [WALL], "stud_spacing_mm": 1e-300}, "$.stud_spacing_mm"),
        ({"walls": [WALL], "sheet_width_mm": 1e-300}, "$.sheet_width_mm"),
        ({"walls": [WALL], "sheet_height_mm": 1e-300}, "$.sheet_height_mm"),
        ({"pages": [{"walls": [huge], "scale": {"metres_per_unit": 1}}]}, "$.pages[0].walls[0].x2"),
        (
            {"pages": [{"walls": [WALL], "scale": {"metres_per_unit": 1e300}}]},
            "$.pages[0].scale.metres_per_unit",
        ),
    ]
    for body, field in cases:
        reply = await gateway_http.post(
            "/v1/jobs/bom", content=msgspec.json.encode(body), headers=JSON
        )
        assert field_error(reply).get("field") == field, (body, reply.text)
    nothing_queued(sync_redis, namespace, "bom")


async def test_bom_checks_across_fields_name_a_field(
    gateway_http: httpx.AsyncClient, sync_redis: redis.Redis, namespace: str
) -> None:
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({}, "$.walls", "exactly one of"),
        ({"walls": [], "pages": []}, "$.pages", "exactly one of"),
        ({"pages": [{}, {"index": 3, "walls": [WALL]}]}, "$.pages[1].scale", "metres_per_unit"),
    ]
    for body, field, words in cases:
        reply = await gateway_http.post(
            "/v1/jobs/bom", content=msgspec.json.encode(body), headers=JSON
        )
        error = field_error(reply)
        assert error.get("field") == field and words in error["message"], (body, error)
    nothing_queued(sync_redis, namespace, "bom")


async def test_an_unusable_scale_in_the_query_string_is_400_naming_it(
    gateway_http: httpx.AsyncClient, sync_redis: redis.Redis, namespace: str
) -> None:
    for scale in ("abc", "-1", "0", "1:0", "nan", "inf", "1e999", "100"):  # 100: meant 1:100?
        reply = await gateway_http.post(
            "/v1/jobs/ingest", params={"scale": scale}, content=plan_pdf(), headers=PDF
        )
        error = field_error(reply)
        assert error.get("field") == "$.scale", (scale, error)
        assert "scale" in error["message"], error
    nothing_queued(sync_redis, namespace, "ingest")


async def test_a_numeric_scale_in_the_query_string_is_the_number(
    gateway_http: httpx.AsyncClient, sync_redis: redis.Redis, namespace: str
) -> None:
    def stored_scale(reply: httpx.Response) -> object:
        assert reply.status_code == 202, reply.text
        job = keys_for(namespace, "ingest").job(reply.json()["job_id"])
        return msgspec.json.decode(sync_redis.hget(job, "input") or b"{}")["scale"]

    query = await gateway_http.post("/v1/jobs/ingest?scale=0.01", content=plan_pdf(), headers=PDF)
    params = await gateway_http.post(
        "/v1/jobs/ingest",
        files={"file": ("plan.pdf", plan_pdf(), "application/pdf")},
        data={"params": '{"scale": 0.01}'},
    )
    assert stored_scale(query) == stored_scale(params) == 0.01
    ratio = await gateway_http.post("/v1/jobs/ingest?scale=1:100", content=plan_pdf(), headers=PDF)
    assert stored_scale(ratio) == "1:100"


@pytest.mark.parametrize(
    ("message", "field"),
    [
        ("Expected `float` - at `$.walls[0].x2`", "$.walls[0].x2"),
        ("Object missing required field `seconds`", "$.seconds"),
        ("Object missing required field `walls` - at `$.pages[2]`", "$.pages[2].walls"),
        # A __post_init__ naming its field, in a struct nested at $.pages[1].
        ("no scale - at `$.scale` - at `$.pages[1]`", "$.pages[1].scale"),
        # Text the client sent, quoted inside the message, is not taken for the path.
        ("cannot read 'x - at `$.evil`' - at `$.scale`", "$.scale"),
        ("cannot read 'x - at `$.evil`'", None),
        ("something else", None),
    ],
)
def test_field_of_reads_the_trailing_paths(message: str, field: str | None) -> None:
    assert field_of(msgspec.ValidationError(message)) == field


async def test_unknown_fields_of_a_struct_input_are_400_naming_the_field(
    gateway_http: httpx.AsyncClient, sync_redis: redis.Redis, namespace: str
) -> None:
    """A typo would otherwise be dropped and the default used: for a bill of materials,
    other quantities."""
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("bom", {"walls": [WALL], "ceiling_height": 2400}, "$.ceiling_height"),
        ("bom", {"walls": [WALL | {"thick": 2}]}, "$.walls[0].thick"),
        ("work", {"seconds": 0, "effect": "x"}, "$.effect"),
    ]
    for function, body, field in cases:
        reply = await gateway_http.post(
            f"/v1/jobs/{function}", content=msgspec.json.encode(body), headers=JSON
        )
        error = field_error(reply)
        assert error.get("field") == field and "unknown field" in error["message"], error
        nothing_queued(sync_redis, namespace, function)
    raw = await gateway_http.post("/v1/jobs/ingest?dpii=100", content=plan_pdf(), headers=PDF)
    form = await gateway_http.post(
        "/v1/jobs/render",
        files={"file": ("plan.pdf", plan_pdf(), "application/pdf")},
        data={"params": '{"dpi": 100, "first": 1}'},
    )
    assert field_error(raw).get("field") == "$.dpii"
    assert field_error(form).get("field") == "$.first"
    nothing_queued(sync_redis, namespace, "ingest")


async def test_free_inputs_and_whole_ingest_results_keep_their_extra_fields(
    gateway_http: httpx.AsyncClient,
) -> None:
    """A dict input (echo) takes any field; bom takes an ingest result as it comes, with
    the fields bom does not read (page text, sizes, the document summary)."""
    echo = await gateway_http.post("/v1/jobs/echo", json={"anything": 1})
    page = {"index": 0, "unit": "pt", "width": 595, "height": 842, "text": [], "walls": [WALL]}
    page["scale"] = {"metres_per_unit": 0.01, "source": "parameter", "evidence": []}
    result = {"pages": [page], "document": {"type": "pdf", "pages": 1, "repaired": False}}
    bom = await gateway_http.post("/v1/jobs/bom", json=result)
    assert (echo.status_code, bom.status_code) == (202, 202), (echo.text, bom.text)


async def test_parameters_in_a_place_that_is_not_read_are_400(
    gateway_http: httpx.AsyncClient, sync_redis: redis.Redis, namespace: str
) -> None:
    """They were dropped without a word and the defaults used."""
    pdf = plan_pdf()
    multipart = {"files": {"file": ("plan.pdf", pdf, "application/pdf")}}
    cases = [
        (await gateway_http.post("/v1/jobs/ingest?dpi=40", **multipart), "$.dpi"),  # type: ignore[arg-type]
        (
            await gateway_http.post("/v1/jobs/bom?ceiling_height_mm=2400", json={"walls": [WALL]}),
            "$.ceiling_height_mm",
        ),
        (
            await gateway_http.post(
                "/v1/jobs/render",
                files={"file": ("plan.pdf", pdf, "application/pdf")},
                data={"paramz": '{"dpi": 100}'},
            ),
            "paramz",
        ),
        (
            await gateway_http.post("/v1/jobs/ingest?dpi=100&dpi=200", content=pdf, headers=PDF),
            "$.dpi",
        ),
    ]
    for reply, field in cases:
        assert field_error(reply).get("field") == field, reply.text
    for function in ("ingest", "bom", "render"):
        nothing_queued(sync_redis, namespace, function)
