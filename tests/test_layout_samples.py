"""layout on the three vector sample plans through a real gateway and consumers (ingest,
layout, bom, model3d): ``ingest?then=layout,bom`` with a held-out brief of
tests/data/layout_briefs.json, the layout's bill, then the layout's model; and a held-out
brief that cannot be laid out failing once, naming the check and its numbers.

This is the pipeline's test on real drawings, not the generator's score: the brief run on
each plan is a held-out one its truth expects valid and that the generator lays out now
(on Ranch and boptest the first such brief in the file does not: ranch-h1 and boptest-h1
end LayoutInfeasible). bench/layout_samples.py runs every brief of the file and scores
them, and bench/README.md keeps the table.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import trimesh

from bench.layout_samples import DATA, INFEASIBLE, VALID, rooms_outside_bounds, truth
from tests.conftest import Proc
from tests.test_model3d import check_glb, final_status

pytestmark = pytest.mark.any_redis

PLANS: dict[str, Any] = truth()["plans"]
# An ingest of the largest plan takes ~7 s and a layout up to its budget: room for both.
TIMEOUT_S = 90
PARTITION_SHARE = 0.01  # the bill's partition length against the layout's: within 1 %


PIPELINE_BRIEFS = {"east": "east-h1", "ranch": "ranch-h4", "boptest": "boptest-h2"}


def held_out(plan: str, brief_id: str) -> dict[str, Any]:
    briefs: list[dict[str, Any]] = PLANS[plan]["briefs"]
    (brief,) = [b for b in briefs if b["id"] == brief_id]
    assert brief["set"] == "held-out" and brief["expected"] == VALID
    return brief


def first_held_out(plan: str, expected: str) -> dict[str, Any]:
    briefs = PLANS[plan]["briefs"]
    brief: dict[str, Any] = next(
        b for b in briefs if b["set"] == "held-out" and b["expected"] == expected
    )
    return brief


@pytest.fixture
def system(start_gateway: Callable[..., str], start_consumer: Callable[..., Proc]) -> str:
    url = start_gateway()
    start_consumer("ingest", "layout", "bom", "model3d", concurrency=2)
    return url


def submit_ingest(url: str, plan: dict[str, Any], brief: str, **layout: Any) -> dict[str, Any]:
    """POST the plan's PDF to ingest, then layout from ``brief``, then bom: the reply."""
    params = {"then": "layout,bom", "layout.brief": brief, "layout.page": plan["page"]}
    params |= {f"layout.{name}": value for name, value in layout.items()}
    reply = httpx.post(
        f"{url}/v1/jobs/ingest",
        params=params,
        content=(DATA / plan["file"]).read_bytes(),
        headers={"Content-Type": "application/pdf"},
        timeout=30,
    )
    assert reply.status_code == 202, reply.text
    queued: dict[str, Any] = reply.json()
    return queued


def follow_up(url: str, status: dict[str, Any]) -> dict[str, Any]:
    """The final status of the job ``status`` is followed by, once ``status`` succeeded."""
    assert status["status"] == "succeeded", status["error"]
    assert status["next_job_id"], status
    return final_status(url, status["next_job_id"], TIMEOUT_S)


@pytest.mark.parametrize("plan", sorted(PLANS))
def test_a_held_out_brief_is_laid_out_billed_and_modelled(system: str, plan: str) -> None:
    brief = held_out(plan, PIPELINE_BRIEFS[plan])
    # A valid layout comes in about a second; a failing search stops after 20 s.
    queued = submit_ingest(system, PLANS[plan], brief["brief"], time_budget_s=20)
    ingested = final_status(system, queued["job_id"], TIMEOUT_S)
    assert ingested["next_job_id"] == queued["next_job_id"]
    laid_out = follow_up(system, ingested)
    assert laid_out["status"] == "succeeded", (brief["id"], laid_out["error"])
    layout = laid_out["result"]
    assert layout["validation"]["valid"], layout["validation"]
    assert rooms_outside_bounds(layout) == []
    asked = sum(room["count"] for room in layout["program"]["rooms"])
    assert len(layout["rooms"]) == asked
    assert layout["partitions"] and all(p["length_m"] > 0 for p in layout["partitions"])

    # The bill boards the layout's new partitions: their length is the layout's.
    billed = follow_up(system, laid_out)
    assert billed["status"] == "succeeded", billed["error"]
    bill = billed["result"]
    assert bill["lines"] and bill["totals"]["board_area_m2"] > 0
    (share,) = [s for s in bill["layout_totals"] if s["source"] == "partitions"]
    partitions_m = sum(p["length_m"] for p in layout["partitions"])
    assert share["walls"] == len(layout["partitions"])
    assert share["wall_length_m"] == pytest.approx(partitions_m, rel=PARTITION_SHARE)

    # The layout's model: a GLB that loads and validates, with every partition in it.
    reply = httpx.post(f"{system}/v1/jobs/model3d", json=layout, timeout=30)
    assert reply.status_code == 202, reply.text
    modelled = final_status(system, reply.json()["job_id"], TIMEOUT_S)
    assert modelled["status"] == "succeeded", modelled["error"]
    model = modelled["result"]
    assert model["partitions"] == len(layout["partitions"])
    glb = httpx.get(system + model["model"]["url"], timeout=30)
    assert glb.status_code == 200 and glb.headers["content-type"] == "model/gltf-binary"
    check_glb(glb.content)
    scene = trimesh.load(io.BytesIO(glb.content), file_type="glb")
    assert isinstance(scene, trimesh.Scene) and scene.geometry


def test_a_held_out_brief_that_cannot_fit_fails_once_naming_the_check(system: str) -> None:
    """East's one window cannot light two offices: the job fails without a retry, before
    the search or when every candidate of a 5 s budget fails the windows check."""
    brief = first_held_out("east", INFEASIBLE)
    assert "along the windows" in brief["brief"]
    queued = submit_ingest(system, PLANS["east"], brief["brief"], time_budget_s=5)
    ingested = final_status(system, queued["job_id"], TIMEOUT_S)
    failed = follow_up(system, ingested)
    assert failed["status"] == "failed" and failed["attempts"] == 1
    assert failed["error"]["type"] == INFEASIBLE
    # Said before the search ("need a window and the plan has 1") or after it ("checks
    # failed windows in 120 ... window_m 0.0, need_m 0.5"): the check, with its numbers.
    message = failed["error"]["message"]
    said = re.search(r"plan has (\d+) in its outer walls|failed windows in (\d+)", message)
    assert said is not None, message
    if said[1] is not None:
        assert said[1] == "1" and "need a window" in message
    else:
        assert "window_m 0.0, need_m 0.5" in message
    # The bom after it is not run: cancelled, naming the layout and why.
    bom = final_status(system, failed["next_job_id"], TIMEOUT_S)
    assert bom["status"] == "cancelled" and bom["attempts"] == 0
    assert INFEASIBLE in bom["error"]["message"]
