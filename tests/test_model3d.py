"""model3d: plans as GLB models. The model is read back (trimesh) and its file checked
(pygltflib); its size is the plan's times the scale, its wall volume the walls' less the
openings. Then through a real gateway and consumer: ingest?then=model3d on a sample plan
(the curl commands of the README's section), and a wall list.
"""

from __future__ import annotations

import io
import json
import shutil
import struct
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pygltflib  # type: ignore[import-untyped]
import pytest
import trimesh

from documents.model3d import Model, make_model
from documents.model3d_input import Model3dInput, Model3dParameterError
from shared import error_types
from tests.conftest import Proc
from tests.model3d_plans import grid_plan
from tests.readme_parsing import session
from tests.test_readme import run_command

pytestmark = pytest.mark.any_redis

DATA = Path(__file__).parent / "data"
EAST = DATA / "cfast_East_Structure_Dimensioned_Instrumentation.pdf"  # ingest finds 1:~48
POINTS_1_50 = 0.0254 / 72 * 50  # metres per PDF point at 1:50


def model_of(body: dict[str, Any]) -> Model:
    """As the consumer decodes a job's input, then builds."""
    return make_model(msgspec.json.decode(msgspec.json.encode(body), type=Model3dInput))


def scene_of(glb: bytes) -> trimesh.Scene:
    scene = trimesh.load(io.BytesIO(glb), file_type="glb")
    assert isinstance(scene, trimesh.Scene)
    return scene


def check_glb(glb: bytes) -> Any:
    """The file is binary glTF 2.0 whose chunks, buffer, views and accessors agree."""
    magic, version, length = struct.unpack_from("<4sII", glb)
    assert (magic, version, length) == (b"glTF", 2, len(glb))
    gltf = pygltflib.GLTF2.load_from_bytes(glb)
    assert gltf.asset.version == "2.0"
    assert len(gltf.buffers) == 1 and gltf.meshes and gltf.nodes and gltf.scenes
    blob = gltf.binary_blob()
    assert blob is not None and len(blob) >= gltf.buffers[0].byteLength
    for view in gltf.bufferViews:
        assert view.buffer == 0 and view.byteOffset + view.byteLength <= len(blob)
    for accessor in gltf.accessors:
        assert accessor.bufferView is not None and accessor.count > 0
    for mesh in gltf.meshes:
        for primitive in mesh.primitives:
            assert primitive.attributes.POSITION is not None
            assert primitive.indices is not None and primitive.material is not None
    return gltf


def children(gltf: Any, name: str) -> list[str]:
    (group,) = [node for node in gltf.nodes if node.name == name]
    return [gltf.nodes[k].name for k in group.children]


def test_a_wall_list_gives_a_valid_glb_with_named_nodes() -> None:
    plan = grid_plan(3, 2)
    model = model_of(plan.wall_list())
    gltf = check_glb(model.glb)
    rooms = children(gltf, "rooms")
    assert rooms == [room["node"] for room in model.result["rooms"]]
    assert "room-0 Room 0-0" in rooms and len(rooms) == 6
    assert sorted(children(gltf, "walls")) == sorted(f"wall-{k}" for k in range(len(plan.walls)))
    assert any(node.name == "slab" and node.mesh is not None for node in gltf.nodes)
    scene = scene_of(model.glb)
    assert all(mesh.is_volume for name, mesh in scene.geometry.items() if "room" not in name)
    assert model.png.startswith(b"\x89PNG") and min(model.png_size) > 100
    result = model.result
    assert result["walls"] == len(plan.walls) == 17
    assert result["openings"] == len(plan.openings) and result["openings_in_gaps"] == 0
    assert [room["area_m2"] for room in result["rooms"]] == [16.0] * 6


def test_bounds_are_the_plans_extent_times_its_scale() -> None:
    # A plan in PDF points at 1:50: cells of 170 pt (3 m), walls 8.5 pt (0.15 m) thick.
    plan = grid_plan(4, 3, cell=170, thickness=8.5, metres_per_unit=POINTS_1_50)
    model = model_of(plan.ingest_result() | {"slab_thickness_mm": 250})
    width, depth = (size * POINTS_1_50 for size in plan.size)
    expected = ([0.0, -0.25, 0.0], [width, 3.048, depth])
    for low, high in (scene_of(model.glb).bounds, model.result["bounds_m"].values()):
        for got, want in zip([*low, *high], [*expected[0], *expected[1]], strict=True):
            assert got == pytest.approx(want, rel=0.01, abs=0.005)
    assert model.result["scale_source"] == "dimensions" and model.result["page"] == 0
    assert model.result["origin"] == pytest.approx([-4.25, -4.25])


@pytest.mark.parametrize(
    "heights",
    [
        {},
        {
            "ceiling_height_mm": 2700,
            "door_height_mm": 2000,
            "window_sill_mm": 1000,
            "window_head_mm": 2200,
        },
    ],  # fmt: skip
)
def test_wall_volume_is_the_walls_less_the_openings(heights: dict[str, float]) -> None:
    plan = grid_plan(5, 4, cell=3.5, thickness=0.15)
    model = model_of(plan.wall_list() | heights)
    metres = {"ceiling_height_mm": 3048, "door_height_mm": 2100, "window_sill_mm": 900,
              "window_head_mm": 2100} | heights  # fmt: skip
    ceiling, door, sill, head = (value / 1000 for value in metres.values())
    expected = plan.wall_volume_m3(ceiling, door, sill, head)
    assert model.result["wall_volume_m3"] == pytest.approx(expected, rel=0.02)
    scene = scene_of(model.glb)
    in_file = sum(mesh.volume for name, mesh in scene.geometry.items() if name.startswith("wall"))
    assert in_file == pytest.approx(expected, rel=0.02)
    # The openings took something: without them the volume is larger by their holes.
    solid = model_of(plan.wall_list() | heights | {"openings": []}).result["wall_volume_m3"]
    assert solid > expected * 1.02


def test_a_page_without_scale_fails_naming_the_parameter_to_pass() -> None:
    plan = grid_plan(2, 2, cell=170, thickness=8.5, metres_per_unit=POINTS_1_50)
    with pytest.raises(Model3dParameterError) as refused:
        model_of(plan.ingest_result(scale=False))
    assert refused.value.type == error_types.BAD_PARAMETER
    assert "metres_per_unit" in str(refused.value) and "page 0 has no scale" in str(refused.value)
    given = model_of(plan.ingest_result(scale=False) | {"metres_per_unit": POINTS_1_50})
    assert given.result["scale_source"] == "parameter"
    with pytest.raises(Model3dParameterError, match=r"page 3 is not in pages .*\$\.page"):
        model_of(plan.ingest_result() | {"page": 3})


def test_an_opening_in_a_gap_between_walls_gets_the_wall_above_it() -> None:
    # As CAD draws a door: the wall stops at both jambs; the opening names one of them.
    walls = [
        {"x1": 0, "y1": 0, "x2": 2, "y2": 0, "thickness": 0.2},
        {"x1": 3, "y1": 0, "x2": 5, "y2": 0, "thickness": 0.2},
    ]
    door = {"kind": "door", "wall": 0, "x1": 2, "y1": 0, "x2": 3, "y2": 0, "width": 1}
    result = model_of({"walls": walls, "openings": [door], "units": "m"}).result
    assert result["openings"] == result["openings_in_gaps"] == 1
    walls_m3 = 4 * 0.2 * 3.048
    lintel_m3 = 1 * 0.2 * (3.048 - 2.1)
    assert result["wall_volume_m3"] == pytest.approx(walls_m3 + lintel_m3, rel=1e-6)


def test_a_layout_adds_its_partitions_doors_and_rooms_to_its_plan() -> None:
    plan = grid_plan(1, 1, cell=10, thickness=0.2)
    layout = {
        "plan": plan.wall_list(),
        "rooms": [
            {"name": "office", "polygon": [[0, 0], [4, 0], [4, 10], [0, 10]], "area_m2": 40},
            {"name": "meeting", "polygon": [[4, 0], [10, 0], [10, 10], [4, 10]]},
        ],
        "partitions": [
            {"x1": 4, "y1": 0, "x2": 4, "y2": 10, "thickness": 0.1, "length_m": 10},
        ],
        "doors": [{"x1": 4, "y1": 5, "x2": 4, "y2": 6}, {"room": "office"}],
        "validation": {"valid": True, "checks": []},
        "score": 0.9,
    }
    # As a chain passes it (the layout's result on top), and inside `plan`.
    for body in (layout, {"plan": layout, "ceiling_height_mm": 2700}):
        model = model_of(body)
        result = model.result
        assert result["walls"] == 5 and result["partitions"] == 1
        assert [room["node"] for room in result["rooms"]] == ["room-0 office", "room-1 meeting"]
        assert "partition-4" in children(check_glb(model.glb), "walls")
        assert result["openings"] == len(plan.openings) + 1  # the door with a span
        assert any("doors[1] has no span" in warning for warning in result["warnings"])
    unscaled = {key: value for key, value in layout.items() if key != "plan"}
    with pytest.raises(Model3dParameterError, match="metres_per_unit"):
        model_of(unscaled)
    assert model_of(unscaled | {"metres_per_unit": 1}).result["walls"] == 1


def test_heights_and_fields_are_checked_when_decoding() -> None:
    with pytest.raises(msgspec.ValidationError, match="window_head_mm"):
        model_of({"walls": [], "window_sill_mm": 2200, "window_head_mm": 2100})
    with pytest.raises(Model3dParameterError, match=r"not both - at `\$\.walls`"):
        model_of({"plan": {"walls": []}, "walls": []})
    with pytest.raises(Model3dParameterError, match="nothing to model"):
        model_of({"walls": [], "units": "m"})


# The README's section (its sh block), run as tests/test_readme.py runs it: each output
# must be the one shown, ids stand for the real ones, reads repeat until the job is there.
README_EXAMPLE = """\
$ curl -s -X POST 'localhost:8000/v1/jobs/ingest?then=model3d&model3d.ceiling_height_mm=2700' \\
    -H 'Content-Type: application/pdf' --data-binary @plan.pdf
{"job_id":"ingest-5e1b...","function":"ingest","status":"queued",...,"next_job_id":"model3d-4c2d..."}
$ curl -s localhost:8000/v1/jobs/model3d-4c2d.../result
{"page":0,...,"bounds_m":{"min":[...],"max":[...]},...,"model":{"name":"model.glb",
 "url":"/v1/jobs/model3d-4c2d.../artifacts/model.glb",...},...}
$ curl -s localhost:8000/v1/jobs/model3d-4c2d.../artifacts/model.glb -o model.glb
$ curl -s localhost:8000/v1/jobs/model3d-4c2d.../artifacts/preview.png -o preview.png
$ curl -s -X POST localhost:8000/v1/jobs/model3d -H 'Content-Type: application/json' \\
    -d '{"walls": [{"x1": 0, "y1": 0, "x2": 6, "y2": 0, "thickness": 0.2}], "units": "m"}'
{"job_id":"model3d-7a3f...","function":"model3d","status":"queued",...}
$ curl -s localhost:8000/v1/jobs/model3d-7a3f.../result
{...,"walls":1,"wall_volume_m3":3.6576,...}
"""


def sh(command: str, cwd: Path) -> str:
    done = subprocess.run(command, shell=True, cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout


@pytest.fixture
def system(start_gateway: Callable[..., str], start_consumer: Callable[..., Proc]) -> str:
    url = start_gateway()
    start_consumer("ingest", "model3d", concurrency=2)
    return url


def final_status(url: str, job_id: str, timeout: float = 60) -> dict[str, Any]:
    """The job's status once final (long polls; a follow-up may 404 until relayed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reply = httpx.get(f"{url}/v1/jobs/{job_id}", params={"wait": 10}, timeout=15)
        if reply.status_code == 200:
            status: dict[str, Any] = reply.json()
            if status["status"] in ("succeeded", "failed", "cancelled"):
                return status
        else:
            assert reply.status_code == 404, reply.text
            time.sleep(0.05)  # the follow-up is relayed a moment after ingest ends
    raise AssertionError(f"{job_id} did not end")


def test_ingest_then_model3d_through_gateway_and_consumer(
    system: str, env: dict[str, str], tmp_path: Path
) -> None:
    shutil.copy(EAST, tmp_path / "plan.pdf")  # a vector plan whose ingest finds its scale
    host = system.removeprefix("http://")
    ids: dict[str, str] = {}
    for command in session(README_EXAMPLE):
        run_command(command, host, tmp_path, env, ids)
    glb = (tmp_path / "model.glb").read_bytes()
    check_glb(glb)
    assert scene_of(glb).bounds[1][1] == pytest.approx(2.7)
    assert (tmp_path / "preview.png").read_bytes().startswith(b"\x89PNG")
    follow_up = ids["model3d-4c2d..."]
    result = json.loads(sh(f"curl -s {system}/v1/jobs/{follow_up}/result", tmp_path))
    assert result["scale_source"] == "dimensions" and result["walls"] >= 10
    assert result["bounds_m"]["max"][1] == pytest.approx(2.7)
    assert 10 < result["size_m"][0] < 14 and 6 < result["size_m"][2] < 9  # about 12.2 x 7.3
    assert result["model"]["bytes"] == len(glb)


def test_model3d_over_http_refusals_and_bad_parameters(system: str) -> None:
    plan = grid_plan(2, 1, cell=170, thickness=8.5, metres_per_unit=POINTS_1_50)
    with httpx.Client(base_url=system, timeout=15) as http:
        typo = http.post("/v1/jobs/model3d", json=plan.wall_list() | {"ceiling_mm": 2400})
        assert typo.status_code == 400 and typo.json()["error"]["field"] == "$.ceiling_mm"
        low = http.post("/v1/jobs/model3d", json={"walls": [], "window_head_mm": 100})
        assert low.status_code == 400 and low.json()["error"]["field"] == "$.window_head_mm"
        # A whole ingest result is accepted as the input; its page has no scale.
        queued = http.post("/v1/jobs/model3d", json=plan.ingest_result(scale=False))
        assert queued.status_code == 202, queued.text
        glb = http.post("/v1/jobs/model3d", json=plan.wall_list("pt"))
        assert glb.status_code == 202, glb.text
    failed = final_status(system, queued.json()["job_id"])
    assert failed["status"] == "failed" and failed["attempts"] == 1
    assert failed["error"]["type"] == "BadParameter"
    assert "metres_per_unit" in failed["error"]["message"]
    done = final_status(system, glb.json()["job_id"])
    assert done["status"] == "succeeded", done["error"]
    artifact = httpx.get(system + done["result"]["model"]["url"], timeout=15)
    assert artifact.status_code == 200
    assert artifact.headers["content-type"] == "model/gltf-binary"
    check_glb(artifact.content)
