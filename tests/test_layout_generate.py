"""The layout generator's core (documents.layout_site, layout_generate, layout_checks,
layout_result) on synthetic sites and one real plan. Pure: no Redis, no processes.

Feasible programs give layouts that pass every check (and independent geometry agrees:
rooms inside the site, apart from each other and the corridor); an infeasible program
fails with the numbers saying by how much; a seed always gives the same layout and
different seeds different ones; the result converts back to the plan's units.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest
import shapely

from documents.ingest import IngestOptions, Limits, ingest_document
from documents.layout_brief import parse_brief
from documents.layout_candidate import Candidate
from documents.layout_checks import score, validate
from documents.layout_generate import generate
from documents.layout_program import Program, Resolved, RoomRequest, resolve
from documents.layout_result import generated_layout
from documents.layout_site import Site, site_of
from tests.layout_sites import L_SHAPE, RECTANGLE, OpeningSpec, wall_list, windows_along

DATA = Path(__file__).parent / "data"
EAST = DATA / "cfast_East_Structure_Dimensioned_Instrumentation.pdf"
RANCH = DATA / "cfast_UL_NIJ_Ranch_layout.pdf"
CHECKS = {
    "area", "min_width", "reachable", "openings", "walls", "corridor_width", "windows", "adjacency"
}  # fmt: skip

# A 15 x 10 m rectangle: a door in the north wall, windows along the south and east.
RECT_OPENINGS: list[OpeningSpec] = [
    (0, "door", 6.5, 7.4),
    *windows_along(2, 15),
    *windows_along(1, 10),
]
# The L: a door in its west end, windows along its north arm and its south side.
L_OPENINGS: list[OpeningSpec] = [(5, "door", 4.0, 4.9), *windows_along(0, 9), *windows_along(4, 15)]


def office(count: int, least: float, window: bool = True) -> RoomRequest:
    return RoomRequest("office", least, count, needs_window=window)


FEASIBLE: dict[str, tuple[Any, list[RoomRequest]]] = {
    "rectangle, 3 rooms": (
        wall_list(RECTANGLE, RECT_OPENINGS),
        [office(1, 12), RoomRequest("meeting room", 20, max_area_m2=30), RoomRequest("store", 6)],
    ),
    "rectangle, 6 rooms": (
        wall_list(RECTANGLE, RECT_OPENINGS),
        [office(4, 12), RoomRequest("meeting room", 20, max_area_m2=30), RoomRequest("kitchen", 8)],
    ),
    "rectangle, 5 rooms, 1.5 m corridor": (
        wall_list(RECTANGLE, RECT_OPENINGS),
        [office(3, 10), RoomRequest("meeting room", 16, max_area_m2=24), RoomRequest("store", 5)],
    ),
    "L-shape, 5 rooms": (
        wall_list(L_SHAPE, L_OPENINGS),
        [office(3, 10), RoomRequest("meeting room", 16, max_area_m2=25), RoomRequest("store", 6)],
    ),
    "L-shape, 4 rooms, no door": (
        wall_list(L_SHAPE, windows_along(0, 9) + windows_along(4, 15)),
        [office(2, 12), RoomRequest("meeting room", 18), RoomRequest("kitchen", 8)],
    ),
}


def resolved(rooms: list[RoomRequest], corridor: float | None = None) -> Resolved:
    return resolve(Program(rooms), corridor_width_m=corridor)


def check_geometry(site: Site, program: Resolved, candidate: Candidate) -> None:
    """What the checks claim, seen independently: every requested room is there, inside
    the site, within its bounds, overlapping nothing, with a door onto the corridor."""
    requested = sum(room.count for room in program.rooms)
    assert len(candidate.rooms) == requested
    shapes = [r.polygon for r in candidate.rooms] + [candidate.corridor, *candidate.open_areas]
    for shape in shapes:
        assert shape.difference(site.outline).area < 1e-3
    union = shapely.unary_union(shapes)
    assert abs(union.area - sum(s.area for s in shapes)) < 1e-2  # no overlaps
    assert abs(union.area - site.outline.area) < 1e-2  # the site fully used
    for index, room in enumerate(candidate.rooms):
        want = program.rooms[room.request]
        assert room.polygon.area >= want.min_area_m2 * 0.995
        if want.max_area_m2 is not None:
            assert room.polygon.area <= want.max_area_m2 * 1.005
        (door,) = candidate.doors_of(index)
        assert door.span.distance(candidate.corridor) < 0.01
        assert door.span.distance(room.polygon.exterior) < 0.01
    assert candidate.corridor.intersects(site.entrance.buffer(0.5))


@pytest.mark.parametrize("case", sorted(FEASIBLE))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_feasible_programs_give_layouts_passing_every_check(case: str, seed: int) -> None:
    plan, rooms = FEASIBLE[case]
    site = site_of(plan)
    program = resolved(rooms, 1.5 if "1.5 m" in case else None)
    candidate = generate(site, program, seed)
    validation = validate(site, program, candidate)
    assert {c.name for c in validation.checks} == CHECKS
    failed = [(c.name, c.details) for c in validation.checks if not c.passed]
    assert validation.valid, failed
    check_geometry(site, program, candidate)
    total = score(candidate, validation)
    assert total.total > 0 and 0 < total.compactness <= 1 and total.partition_m > 0


def test_a_site_without_a_door_takes_the_middle_of_its_longest_side() -> None:
    site = site_of(FEASIBLE["L-shape, 4 rooms, no door"][0])
    assert any("no door on the outline" in note for note in site.notes)
    middle = site.entrance.centroid
    assert middle.distance(site.outline.exterior) < 1e-6
    assert site.entrance.length == pytest.approx(0.9)


def test_an_infeasible_program_fails_saying_by_how_much() -> None:
    site = site_of(wall_list(RECTANGLE, RECT_OPENINGS))
    program = resolved([RoomRequest("office", 50, 4, max_area_m2=60)])  # 200 m2 in 143
    candidate = generate(site, program, 0)
    validation = validate(site, program, candidate)
    assert not validation.valid
    (area,) = [c for c in validation.checks if c.name == "area"]
    assert not area.passed and area.unit == "m2"
    # At least what the program asks beyond the whole floor is missing.
    assert area.shortfall >= 200 - site.outline.area
    for line in area.details:
        assert line["below_by_m2"] > 0 and line["bounds_m2"][0] == 50 or line.get("missing")
    assert area.summary.startswith(f"{len(area.details)} failing, short by")


def test_a_too_narrow_room_and_corridor_fail_with_their_numbers() -> None:
    site = site_of(wall_list(RECTANGLE, RECT_OPENINGS))
    program = resolve(Program([office(2, 12)]), min_room_width_m=12.0, corridor_width_m=1.2)
    validation = validate(site, program, generate(site, program, 0))
    (width,) = [c for c in validation.checks if c.name == "min_width"]
    assert not width.passed
    assert all(line["narrower_by_m"] == pytest.approx(12.0 - line["width_m"], abs=1e-3)
               for line in width.details)  # fmt: skip
    assert width.shortfall == pytest.approx(sum(d["narrower_by_m"] for d in width.details), 1e-3)
    # A corridor wider than the site (9.7 m inside): the checks give its narrowest width.
    program = resolve(Program([office(2, 12)]), corridor_width_m=20.0)
    validation = validate(site, program, generate(site, program, 0))
    (corridor,) = [c for c in validation.checks if c.name == "corridor_width"]
    assert not corridor.passed and not validation.valid
    (line,) = corridor.details
    assert line["narrowest_m"] == pytest.approx(9.7, abs=0.01)
    assert line["narrower_by_m"] == pytest.approx(20 - 9.7, abs=0.01)


def test_a_seed_gives_the_same_layout_and_seeds_differ() -> None:
    plan, rooms = FEASIBLE["rectangle, 6 rooms"]
    site = site_of(plan)
    program = resolved(rooms)

    def encoded(seed: int) -> bytes:
        candidate = generate(site, program, seed)
        validation = validate(site, program, candidate)
        result = generated_layout(site, candidate, validation, score(candidate, validation))
        return msgspec.json.encode(msgspec.structs.replace(result, seed=0))

    assert encoded(7) == encoded(7)
    assert len({encoded(seed) for seed in range(4)}) > 1
    shapes = {
        tuple(sorted(r.polygon.wkt for r in generate(site, program, seed).rooms))
        for seed in range(4)
    }
    assert len(shapes) > 1  # the geometry differs, not only the rooms' names


def test_partitions_come_back_in_the_plans_units() -> None:
    """The same site drawn in metres and in centimetres: coordinates x100, lengths equal."""
    plan_m, rooms = FEASIBLE["rectangle, 3 rooms"]
    plan_cm = dict(plan_m, units="cm")
    for key in ("walls", "openings"):
        plan_cm[key] = [
            {k: v * 100 if k in ("x1", "y1", "x2", "y2", "thickness", "width") else v
             for k, v in item.items()}
            for item in plan_m[key]
        ]  # fmt: skip
    results = []
    for plan in (plan_m, plan_cm):
        site = site_of(plan)
        program = resolved(rooms)
        candidate = generate(site, program, 3)
        validation = validate(site, program, candidate)
        assert validation.valid
        results.append(generated_layout(site, candidate, validation, score(candidate, validation)))
    metres, centimetres = results
    assert len(metres.partitions) == len(centimetres.partitions) > 0
    for a, b in zip(metres.partitions, centimetres.partitions, strict=True):
        assert b.length_m == pytest.approx(a.length_m, abs=1e-3)
        assert b.x1 == pytest.approx(a.x1 * 100, abs=0.2)
        assert b.y2 == pytest.approx(a.y2 * 100, abs=0.2)
        assert a.thickness == pytest.approx(0.1) and b.thickness == pytest.approx(10)
    for room in metres.rooms:
        assert room.doors and room.area_m2 > 0 and len(room.polygon) >= 4


def test_a_real_plan_lays_out_a_brief_of_four_rooms() -> None:
    """The East structure (ingest finds its scale, about 1:48, and four rooms): its
    shell is 10.96 x 6.09 m inside, with one window and existing inner walls."""
    result = ingest_document(EAST.read_bytes(), IngestOptions(), lambda *_: None, Limits())
    page = result["pages"][0]
    assert page["scale"] is not None and page["rooms"]
    site = site_of(result)
    assert site.outline.area == pytest.approx(10.96 * 6.09, rel=0.01)
    assert len(site.windows) == 1 and site.inner_lines()
    reading = parse_brief(
        "an office of at least 9 m2 along the windows, a 12 m2 meeting room, 2 stores of 4 m2"
    )
    assert not reading.unread
    program = resolve(reading.program)
    for seed in range(3):
        candidate = generate(site, program, seed)
        validation = validate(site, program, candidate)
        assert validation.valid, [(c.name, c.details) for c in validation.failed()]
        check_geometry(site, program, candidate)
    layout = generated_layout(site, candidate, validation, score(candidate, validation))
    # Partitions are in PDF points: metres over the page's scale.
    k = page["scale"]["metres_per_unit"]
    for part in layout.partitions:
        length = ((part.x2 - part.x1) ** 2 + (part.y2 - part.y1) ** 2) ** 0.5
        assert length * k == pytest.approx(part.length_m, abs=0.01)
        assert 0 <= part.x1 <= page["width"] and 0 <= part.y1 <= page["height"]


def test_two_window_rooms_for_one_window_fail_the_window_check() -> None:
    result = ingest_document(EAST.read_bytes(), IngestOptions(), lambda *_: None, Limits())
    site = site_of(result)
    program = resolve(Program([office(2, 9), RoomRequest("meeting room", 12)]))
    validation = validate(site, program, generate(site, program, 0))
    (windows,) = [c for c in validation.checks if c.name == "windows"]
    assert not windows.passed and windows.shortfall == 1
    assert windows.details[0]["window_m"] == 0


def test_the_ranch_plan_lays_out_around_its_inner_walls_and_openings() -> None:
    """A plan with 24 inner walls and 5 inner openings: cuts land on existing walls or
    miss the openings, and windows drawn on the shell's faces count as on the outline."""
    result = ingest_document(RANCH.read_bytes(), IngestOptions(), lambda *_: None, Limits())
    site = site_of(result)
    assert len([w for w in site.windows if w.on_outline]) >= 6
    program = resolve(
        parse_brief("2 offices of at least 9 m2, a 12 m2 meeting room, a store of 4 m2").program
    )
    for seed in range(3):
        candidate = generate(site, program, seed)
        validation = validate(site, program, candidate)
        assert validation.valid, [(c.name, c.details) for c in validation.failed()]
        check_geometry(site, program, candidate)
