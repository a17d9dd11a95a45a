"""model3d's time for a plan of 300 walls with openings (issue 16: under 1 s).

    .venv/bin/python -m bench.model3d [--walls 300] [--runs 7]

The plan is ``tests.model3d_plans.grid_plan``: a grid of 3.5 m rooms (14 x 10 gives 304
walls, cut to ``--walls``), a door in every interior wall and a window in every other
exterior one, each room a named floor. Each run decodes the JSON input as the consumer
does and builds everything a job returns: the walls cut around the openings, the slab,
the rooms, model.glb and preview.png (saving the artifacts to Redis is not timed). The
median of ``--runs`` runs (after one warm-up) is printed, with each step's median.
"""

from __future__ import annotations

import argparse
import statistics
import time

import msgspec

from documents.model3d import heights_of, make_model
from documents.model3d_input import Model3dInput
from documents.model3d_mesh import RoomFloor, extent, room_floors, slab_boxes, wall_boxes
from documents.model3d_plan import plan_of
from documents.model3d_preview import preview_png
from documents.model3d_scene import build_scene, glb_bytes
from tests.model3d_plans import grid_plan

GOAL_S = 1.0


def steps(params: Model3dInput) -> dict[str, float]:
    """Seconds per step of one model, as ``make_model`` runs them."""
    times: dict[str, float] = {}
    started = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal started
        now = time.perf_counter()
        times[name] = now - started
        started = now

    plan = plan_of(params)
    lap("plan")
    heights = heights_of(params)
    walls = wall_boxes(plan, heights)
    floors = room_floors(plan)
    patches = [floor for floor in floors if isinstance(floor, RoomFloor)]
    slab = slab_boxes(*extent(walls, patches), heights.slab)
    lap("solids")
    kinds = [wall.kind for wall in plan.walls]
    scene = build_scene(walls, kinds, slab, floors)
    lap("scene")
    glb_bytes(scene)
    lap("glb")
    preview_png(walls, kinds, slab, floors)
    lap("png")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--walls", type=int, default=300)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    columns = 14
    rows = max(1, -(-args.walls // (2 * columns + 1)))  # enough rows for the walls asked
    plan = grid_plan(columns, rows, cell=3.5, thickness=0.15, limit=args.walls)
    body = msgspec.json.encode(plan.wall_list())
    make_model(msgspec.json.decode(body, type=Model3dInput))  # warm-up: imports, caches
    totals, parts = [], []
    result = {}
    for _ in range(args.runs):
        started = time.perf_counter()
        model = make_model(msgspec.json.decode(body, type=Model3dInput))
        totals.append(time.perf_counter() - started)
        result = model.result | {"glb_bytes": len(model.glb), "png_bytes": len(model.png)}
        parts.append(steps(msgspec.json.decode(body, type=Model3dInput)))
    median = statistics.median(totals)
    print(
        f"model3d: {result['walls']} walls, {len(plan.openings)} openings,"
        f" {len(result['rooms'])} rooms -> {result['wall_pieces']} wall pieces,"
        f" model.glb {result['glb_bytes'] / 1e6:.2f} MB, preview.png"
        f" {result['png_bytes'] / 1e3:.0f} kB"
    )
    print(
        f"median of {args.runs} runs: {median:.3f} s (min {min(totals):.3f},"
        f" max {max(totals):.3f}); goal < {GOAL_S:g} s: {'met' if median < GOAL_S else 'MISSED'}"
    )
    for name in parts[0]:
        print(f"  {name:<7} {statistics.median(p[name] for p in parts) * 1000:7.1f} ms")


if __name__ == "__main__":
    main()
