"""``model3d``: a plan (an ingest page, a layout or a wall list) as a 3D model.

Walls are extruded from the floor to ``ceiling_height_mm`` along their centre lines, as
thick as drawn; doors (and plain openings) are cut to ``door_height_mm``, windows between
``window_sill_mm`` and ``window_head_mm`` (``documents.model3d_mesh``); a slab
``slab_thickness_mm`` thick lies under the plan's extent, its top at y = 0; each room is a
named floor patch. Metres come from the page's scale (or ``units``, or
``metres_per_unit``); a page without one fails at once (``BadParameter``).

Artifacts: ``model.glb`` (binary glTF 2.0, metres, y up; x along the page's x and z down
the page, from the plan's top-left corner, which is ``origin`` in plan units) and
``preview.png`` (an axonometric drawing). The result gives ``bounds_m``, the counts and
the wall volume: Σ length x thickness x height of the walls, less each opening's width x
height x thickness, plus the wall over (and under) openings in gaps between walls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from documents.model3d_input import Model3dInput
from documents.model3d_mesh import (
    Heights,
    RoomFloor,
    extent,
    room_floors,
    slab_boxes,
    wall_boxes,
)
from documents.model3d_plan import plan_of
from documents.model3d_preview import preview_png
from documents.model3d_scene import bounds_of, build_scene, glb_bytes
from shared.functions import JobContext

Progress = Callable[[float, str], None]
AXES = "metres; y up, x along the page's x, z down the page, from the plan's top-left corner"


@dataclass(frozen=True)
class Model:
    result: dict[str, Any]
    glb: bytes
    png: bytes
    png_size: tuple[int, int]


def heights_of(params: Model3dInput) -> Heights:
    return Heights(
        params.ceiling_height_mm / 1000,
        params.door_height_mm / 1000,
        params.window_sill_mm / 1000,
        params.window_head_mm / 1000,
        params.slab_thickness_mm / 1000,
    )


def make_model(params: Model3dInput, progress: Progress | None = None) -> Model:
    """The model of ``params``: its result (without artifact URLs), GLB and preview PNG."""
    report = progress or (lambda _percent, _message: None)
    plan = plan_of(params)
    heights = heights_of(params)
    walls = wall_boxes(plan, heights)
    floors = room_floors(plan)
    patches = [floor for floor in floors if isinstance(floor, RoomFloor)]
    width, depth = extent(walls, patches)
    slab = slab_boxes(width, depth, heights.slab) if heights.slab > 0 else None
    report(30, f"{len(walls.base)} wall pieces from {len(plan.walls)} walls")
    kinds = [wall.kind for wall in plan.walls]
    scene = build_scene(walls, kinds, slab, floors)
    glb = glb_bytes(scene)
    report(60, f"model.glb: {len(glb)} bytes")
    png, size = preview_png(walls, kinds, slab, floors)
    report(90, "preview.png drawn")
    low, high = bounds_of(scene)
    modelled = [wall for wall in plan.walls if wall.length > 1e-6]
    result: dict[str, Any] = {
        "page": plan.page,
        "metres_per_unit": plan.metres_per_unit,
        "scale_source": plan.scale_source,
        "origin": [round(v, 4) for v in plan.origin],
        "axes": AXES,
        "bounds_m": {"min": low, "max": high},
        "size_m": [round(b - a, 4) for a, b in zip(low, high, strict=True)],
        "walls": len(modelled),
        "partitions": sum(1 for wall in modelled if wall.kind == "partition"),
        "wall_pieces": len(walls.base),
        "wall_volume_m3": round(float(walls.volumes().sum()), 4),
        "openings": len(plan.cuts) + len(plan.gaps),
        "openings_in_gaps": len(plan.gaps),
        "rooms": [
            {"node": floor.name, "area_m2": round(floor.area_m2, 3)}
            if isinstance(floor, RoomFloor)
            else {"node": floor, "area_m2": 0.0}
            for floor in floors
        ],
        "slab": None
        if slab is None
        else {
            "thickness_m": heights.slab,
            "area_m2": round(width * depth, 3),
            "volume_m3": round(float(slab.volumes().sum()), 4),
        },
        "ceiling_height_m": heights.ceiling,
        "warnings": plan.warnings,
    }
    return Model(result, glb, png, size)


def model3d(job: JobContext, params: Model3dInput) -> dict[str, Any]:
    """Build the model and keep model.glb and preview.png as the job's artifacts."""
    model = make_model(params, job.progress)
    glb_url = job.save_artifact("model.glb", model.glb, "model/gltf-binary")
    png_url = job.save_artifact("preview.png", model.png, "image/png")
    job.progress(100, "model.glb and preview.png saved")
    width, height = model.png_size
    return {
        **model.result,
        "model": {"name": "model.glb", "url": glb_url, "bytes": len(model.glb)},
        "preview": {
            "name": "preview.png",
            "url": png_url,
            "bytes": len(model.png),
            "width": width,
            "height": height,
        },
    }
