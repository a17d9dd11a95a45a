"""Held-out phrasings for the brief parser: written before the parser, never tuned on.

Each row is a brief a user might write and the program it should give. The parser was
not changed to make a row here pass (tests/test_layout_brief.py holds the tuning table);
a failing row is a known gap, reported, not fixed by editing this file.
"""

from __future__ import annotations

import pytest

from documents.layout_brief import parse_brief
from documents.layout_program import RoomRequest

# (name, count, min_area_m2, max_area_m2, needs_window, adjacent_to)
Row = tuple[str, int, float, float | None, bool, tuple[str, ...]]

HELD_OUT: list[tuple[str, list[Row], float | None]] = [
    (
        "three offices of min 12 m2 each, one conference room of 25 m2",
        [("office", 3, 12, None, False, ()), ("meeting room", 1, 25, None, False, ())],
        None,
    ),
    (
        "Two bedrooms (at least 9 m²) with windows; a living room of 18 sqm",
        [("bedroom", 2, 9, None, True, ()), ("living room", 1, 18, None, False, ())],
        None,
    ),
    (
        "- 6 offices, 10m2 minimum, on the facade\n- 1 kitchenette 6 m2\n- corridor 1.4 m",
        [("office", 6, 10, None, True, ()), ("kitchenette", 1, 6, None, False, ())],
        1.4,
    ),
    (
        "a WC of 2 m2 next to the reception and a reception of 15 m2",
        [("toilet", 1, 2, None, False, ("reception",)), ("reception", 1, 15, None, False, ())],
        None,
    ),
    (
        "5 offices between 9 and 11 m2 along the windows",
        [("office", 5, 9, 11, True, ())],
        None,
    ),
    (
        "one store room up to 6 m2",
        [("storage", 1, 0, 6, False, ())],
        None,
    ),
    (
        "an open-plan office of about 60 m2 facing the facade",
        [("open-plan office", 1, 54, 66, True, ())],
        None,
    ),
    (
        "4 meeting rooms of 15 square meters; corridors of 1.5 m",
        [("meeting room", 4, 15, None, False, ())],
        1.5,
    ),
    (
        "2 toilets 3 m2, 1 kitchen 12 m2 beside the meeting room, 1 meeting room 20 m2",
        [
            ("toilet", 2, 3, None, False, ()),
            ("kitchen", 1, 12, None, False, ("meeting room",)),
            ("meeting room", 1, 20, None, False, ()),
        ],
        None,
    ),
    (
        "1 office of 150 sq ft",
        [("office", 1, 13.94, None, False, ())],
        None,
    ),
    (
        "eight offices (10 m2) and a boardroom of 30 m2",
        [("office", 8, 10, None, False, ()), ("meeting room", 1, 30, None, False, ())],
        None,
    ),
    (
        "2 bathrooms of at least 5 m2\n1 storage of 4 m2",
        [("bathroom", 2, 5, None, False, ()), ("storage", 1, 4, None, False, ())],
        None,
    ),
    (
        "4 x office 10 m2",
        [("office", 4, 10, None, False, ())],
        None,
    ),
    (
        "10 offices of at least 8 m2, 1.2m wide corridor",
        [("office", 10, 8, None, False, ())],
        1.2,
    ),
    (
        "a reception of approx. 20 m2 adjacent to the entrance",
        [("reception", 1, 18, 22, False, ("entrance",))],
        None,
    ),
    (
        "two meeting rooms 12-16 m2",
        [("meeting room", 2, 12, 16, False, ())],
        None,
    ),
]

# Briefs whose every fragment is read, except the ones listed (verbatim).
HELD_OUT_UNREAD: list[tuple[str, list[str]]] = [
    ("4 offices of 10 m2, a rooftop garden", ["a rooftop garden"]),
    ("2 offices of 10 m2, lots of offices", ["lots of offices"]),
    ("a meeting room of 20 m2 with a nice view", ["with a nice view"]),
]


def _row(room: RoomRequest) -> Row:
    return (
        room.name,
        room.count,
        round(room.min_area_m2, 2),
        None if room.max_area_m2 is None else round(room.max_area_m2, 2),
        room.needs_window,
        tuple(room.adjacent_to),
    )


@pytest.mark.parametrize(("brief", "rooms", "corridor"), HELD_OUT)
def test_held_out_phrasing(brief: str, rooms: list[Row], corridor: float | None) -> None:
    reading = parse_brief(brief)
    expected = [(n, c, round(lo, 2), hi, w, a) for n, c, lo, hi, w, a in rooms]
    assert [_row(room) for room in reading.program.rooms] == expected
    assert reading.program.corridor_width_m == corridor
    assert reading.unread == []


@pytest.mark.parametrize(("brief", "unread"), HELD_OUT_UNREAD)
def test_held_out_unread(brief: str, unread: list[str]) -> None:
    assert parse_brief(brief).unread == unread
