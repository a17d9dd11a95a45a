"""``layout`` through a real gateway and consumers: the README's pipeline (ingest, then a
layout from a brief, then its bill; then the layout's model) on a real drawing, and a
LayoutInfeasible job that fails once, without retry, saying why."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.conftest import Proc
from tests.layout_sites import RECTANGLE, wall_list, windows_along
from tests.readme_parsing import readme_blocks, session
from tests.test_model3d import EAST, check_glb, children, final_status, sh
from tests.test_readme import run_command

pytestmark = pytest.mark.any_redis


def pipeline_block() -> str:
    (block,) = [b for b in readme_blocks() if "then=layout,bom" in b.text]
    return block.text


@pytest.fixture
def system(start_gateway: Callable[..., str], start_consumer: Callable[..., Proc]) -> str:
    url = start_gateway()
    start_consumer("ingest", "layout", "bom", "model3d", concurrency=2)
    return url


def test_the_readme_pipeline_on_a_real_plan(
    system: str, env: dict[str, str], tmp_path: Path
) -> None:
    shutil.copy(EAST, tmp_path / "plan.pdf")  # a vector plan whose ingest finds its scale
    host = system.removeprefix("http://")
    ids: dict[str, str] = {}
    for command in session(pipeline_block()):
        run_command(command, host, tmp_path, env, ids)
    layout_id, bom_id = ids["layout-8f1e..."], ids["bom-3a9d..."]
    layout = json.loads(sh(f"curl -s {system}/v1/jobs/{layout_id}/result", tmp_path))
    assert layout["validation"]["valid"] and layout["partitions"]
    assert sorted(room["type"] for room in layout["rooms"]) == ["meeting room", "office", "office"]
    assert (tmp_path / "layout.png").read_bytes().startswith(b"\x89PNG")
    # The bill boards the layout's new partitions.
    bill = final_status(system, bom_id)
    assert bill["status"] == "succeeded", bill["error"]
    partitions_m = sum(part["length_m"] for part in layout["partitions"])
    (billed,) = bill["result"]["layout_totals"]  # only the partitions: no existing_walls
    assert billed["source"] == "partitions" and billed["interior_sides"] == 2
    assert billed["wall_length_m"] == pytest.approx(partitions_m, rel=0.01)
    assert billed["doors"] == len(layout["doors"])
    # The model has the plan's walls and the partitions, and loads as glTF 2.0.
    gltf = check_glb((tmp_path / "layout.glb").read_bytes())
    walls = children(gltf, "walls")
    assert sum(name.startswith("partition-") for name in walls) >= len(layout["partitions"])
    assert any(name.startswith("wall-") for name in walls)


def test_an_infeasible_brief_fails_once_saying_which_checks_and_by_how_much(
    system: str,
) -> None:
    plan = wall_list(RECTANGLE, [(0, "door", 6.5, 7.4), *windows_along(2, 15)])
    body = {"plan": plan, "brief": "2 offices of at least 60 m2 with windows", "time_budget_s": 2}
    with httpx.Client(base_url=system, timeout=15) as http:
        queued = http.post("/v1/jobs/layout", json=body)
        assert queued.status_code == 202, queued.text
        for wrong, field in (
            ({}, "$.brief"),
            ({"brief": "an office", "seeds": 2}, "$.seeds"),
            # Misspelt, the brief is missing too: the misspelling is what is named.
            ({"breif": "an office"}, "$.breif"),
        ):
            refused = http.post("/v1/jobs/layout", json={"plan": plan, **wrong})
            assert refused.status_code == 400 and refused.json()["error"]["field"] == field
        chained = http.post(
            "/v1/jobs/model3d?then=layout&layout.max_workers=99", json={"walls": []}
        )
        assert chained.status_code == 400
        assert "max_workers" in chained.json()["error"]["field"]
    failed = final_status(system, queued.json()["job_id"])
    assert failed["status"] == "failed" and failed["attempts"] == 1
    assert failed["error"]["type"] == "LayoutInfeasible"
    message = failed["error"]["message"]
    assert message.startswith("no valid layout in ") and "below_by_m2" in message
