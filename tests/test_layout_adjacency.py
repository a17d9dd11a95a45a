"""``adjacent_to``: a room shares a wall with a room of the kind it names, or lies within
a corridor's width of the entrance; the generator places such rooms together and the
``adjacency`` check says which pair failed and by how much."""

from __future__ import annotations

import msgspec
import pytest
from shapely.geometry import Polygon

from documents.layout_checks import SHARED_MIN_M, validate
from documents.layout_generate import generate
from documents.layout_program import Program, RoomRequest, resolve
from documents.layout_site import site_of
from tests.layout_sites import L_SHAPE, RECTANGLE, wall_list
from tests.test_layout_generate import L_OPENINGS, RECT_OPENINGS

# The L of 120 m2 with six rooms, two of them asked to be beside another: without the
# generator's pairing most seeds fail (4 of 30 passed before it; all 30 after).
PAIRED = [
    RoomRequest("office", 9, 3, needs_window=True),
    RoomRequest("meeting room", 14, adjacent_to=["kitchen"]),
    RoomRequest("kitchen", 6),
    RoomRequest("store", 4, adjacent_to=["office"]),
]


def shared(a: Polygon, b: Polygon) -> float:
    return float(a.exterior.intersection(b.buffer(0.02)).length)


@pytest.mark.parametrize("seed", range(6))
def test_paired_rooms_share_a_wall(seed: int) -> None:
    site = site_of(wall_list(L_SHAPE, L_OPENINGS))
    program = resolve(Program(PAIRED))
    candidate = generate(site, program, seed)
    validation = validate(site, program, candidate)
    assert validation.valid, [(c.name, c.details) for c in validation.failed()]
    rooms = {room.name: room.polygon for room in candidate.rooms}
    assert shared(rooms["meeting room"], rooms["kitchen"]) >= SHARED_MIN_M
    offices = [rooms[f"office {n}"] for n in (1, 2, 3)]
    assert max(shared(rooms["store"], office) for office in offices) >= SHARED_MIN_M


def test_a_room_wanted_by_the_entrance_is_within_a_corridor_width_of_it() -> None:
    site = site_of(wall_list(RECTANGLE, RECT_OPENINGS))
    program = resolve(
        Program([
            RoomRequest("office", 12, 3, needs_window=True),
            RoomRequest("reception", 10, adjacent_to=["entrance"]),
            RoomRequest("kitchen", 8),
        ])
    )  # fmt: skip
    for seed in range(4):
        candidate = generate(site, program, seed)
        assert validate(site, program, candidate).valid
        (reception,) = [r for r in candidate.rooms if r.kind == "reception"]
        assert reception.polygon.distance(site.entrance) <= program.corridor_width_m + 0.02


def test_an_adjacency_not_held_fails_with_its_numbers() -> None:
    """Candidates made without the wish, judged with it: a meeting room apart from the
    kitchen fails, saying how much wall they share."""
    site = site_of(wall_list(RECTANGLE, RECT_OPENINGS))
    rooms = [RoomRequest("office", 12, 3, needs_window=True), RoomRequest("kitchen", 8)]
    meeting = RoomRequest("meeting room", 20, max_area_m2=30)
    free = resolve(Program([*rooms, meeting]))
    wished = resolve(Program([*rooms, msgspec.structs.replace(meeting, adjacent_to=["kitchen"])]))
    seen = 0
    for seed in range(12):
        candidate = generate(site, free, seed)
        (check,) = [c for c in validate(site, wished, candidate).checks if c.name == "adjacency"]
        named = {r.name: r.polygon for r in candidate.rooms}
        apart = shared(named["meeting room"], named["kitchen"]) < SHARED_MIN_M
        assert check.passed is not apart
        if apart:
            seen += 1
            (detail,) = check.details
            assert detail == {"room": "meeting room", "next_to": "kitchen",
                              "shared_m": detail["shared_m"], "need_m": SHARED_MIN_M}  # fmt: skip
            assert detail["shared_m"] < SHARED_MIN_M and check.shortfall == 1
    assert seen  # some seed put them apart
