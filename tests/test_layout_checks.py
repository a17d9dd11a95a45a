"""Checks on a hand-made candidate: rooms are no thoroughfares (a room reached only
through another room is not reached), and a room an existing wall cuts in two is scored
and named, not passed over."""

from __future__ import annotations

import pytest
from shapely.geometry import LineString, box

from documents.layout_candidate import Candidate, Door, PlacedRoom
from documents.layout_checks import cut_by_walls, score, validate
from documents.layout_program import Program, Resolved, RoomRequest, resolve
from documents.layout_site import Site, site_of
from tests.layout_sites import wall_list

# A 10 x 6 m shell, its door in the south wall at x 6-7, and an inner wall at x = 3 from
# the north wall to the south wall with no opening: the floor west of it is shut off.
SHELL = wall_list([(0.0, 0.0), (10.0, 0.0), (10.0, 6.0), (0.0, 6.0)], [(2, "door", 3.0, 4.0)])
SHELL["walls"].append({"x1": 3.0, "y1": 0.0, "x2": 3.0, "y2": 6.0, "thickness": 0.12})


def hand_made() -> tuple[Site, Resolved, Candidate]:
    site = site_of(SHELL)
    program = resolve(Program([RoomRequest("office", 5, 2)]))
    # Site metres run from the shell's outer corner: the floor is x 0.3-10, y 0.3-6 and
    # the inner wall's centre is at x = 3.15. Office 1 runs along the south, across the
    # wall, the entrance opening into it; its door opens onto the corridor west of the
    # wall. Office 2, north-west, opens there too.
    south = PlacedRoom("office 1", "office", 0, box(0.3, 3.85, 10.0, 6.0), 5, None)
    north_west = PlacedRoom("office 2", "office", 0, box(0.3, 0.3, 3.09, 2.65), 5, None)
    corridor = box(0.3, 2.65, 10.0, 3.85)
    doors = [
        Door(LineString([(1.15, 3.85), (2.05, 3.85)]), 0),
        Door(LineString([(1.15, 2.65), (2.05, 2.65)]), 1),
    ]
    rest = [box(3.21, 0.3, 10.0, 2.65)]
    candidate = Candidate(0, [south, north_west], corridor, rest, doors, [], 0.1, 32.0)
    return site, program, candidate


def test_a_room_reached_only_through_another_room_is_not_reached() -> None:
    site, program, candidate = hand_made()
    (reachable,) = [c for c in validate(site, program, candidate).checks if c.name == "reachable"]
    assert not reachable.passed
    assert reachable.details == [{"room": "office 2", "doors": 1}]


def test_a_room_an_existing_wall_cuts_in_two_is_scored_and_named() -> None:
    site, program, candidate = hand_made()
    cut = cut_by_walls(site, candidate)
    # Office 1 west of the wall: 2.79 m (0.3 to the wall's face at 3.09) x 2.15 m.
    assert cut == [{"room": "office 1", "cut_off_m2": pytest.approx(2.79 * 2.15, abs=0.02)}]
    judged = score(candidate, validate(site, program, candidate), site)
    plain = score(candidate, validate(site, program, candidate))
    assert judged.walls_cut_m2 == pytest.approx(6.0, abs=0.05)
    assert judged.total > plain.total
