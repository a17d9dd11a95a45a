"""The layout brief parser (documents.layout_brief) and the program it feeds
(documents.layout_program): a table of phrasings and their programs, the fragments
reported unread, the assumptions noted, merging with an explicit program, and the
program's validation errors naming their field. Pure: no Redis, no processes.
"""

from __future__ import annotations

import re

import msgspec
import pytest

from documents.layout_brief import BriefReading, parse_brief
from documents.layout_program import (
    LayoutProgramError,
    Program,
    RoomRequest,
    decode_program,
    merge,
    resolve,
)
from shared import error_types

# (name, count, min_area_m2, max_area_m2, needs_window, adjacent_to)
Row = tuple[str, int, float, float | None, bool, tuple[str, ...]]


def office(count: int, least: float, most: float | None = None, window: bool = False) -> Row:
    return ("office", count, least, most, window, ())


PHRASINGS: list[tuple[str, list[Row]]] = [
    # The example.
    (
        "4 offices of at least 10 m2 along the windows, a 20 m2 meeting room, 1.5 m corridor",
        [office(4, 10, window=True), ("meeting room", 1, 20, None, False, ())],
    ),
    # Counts as digits and words.
    ("four offices of 10 m2", [office(4, 10)]),
    ("an office of 12 m2", [office(1, 12)]),
    ("one office 12 m2", [office(1, 12)]),
    ("twelve offices of 9 m2", [office(12, 9)]),
    ("a dozen offices of 9 m2", [office(12, 9)]),
    ("a pair of offices of 9 m2", [office(2, 9)]),
    ("office x3 10 m2", [office(3, 10)]),
    ("3x office 10 m2", [office(3, 10)]),
    ("office 10 m2", [office(1, 10)]),
    # Area units and bounds.
    ("2 offices of 10 m²", [office(2, 10)]),
    ("2 offices of 10m2", [office(2, 10)]),
    ("2 offices of 10 sqm", [office(2, 10)]),
    ("2 offices of 10 sq m", [office(2, 10)]),
    ("2 offices of 10 square metres", [office(2, 10)]),
    ("2 offices of 10 m^2", [office(2, 10)]),
    ("2 offices min 10m2", [office(2, 10)]),
    ("2 offices min. 10 m2", [office(2, 10)]),
    ("2 offices minimum of 10 m2", [office(2, 10)]),
    ("2 offices of 10 m2 or more", [office(2, 10)]),
    ("2 offices of 10+ m2", [office(2, 10)]),
    ("2 offices no less than 10 m2", [office(2, 10)]),
    ("2 offices between 10 and 12 m2", [office(2, 10, 12)]),
    ("2 offices from 10 to 12 m2", [office(2, 10, 12)]),
    ("2 offices 10-12 m2", [office(2, 10, 12)]),
    ("2 offices of 12 to 10 m2", [office(2, 10, 12)]),
    ("2 offices of 10,5 m2", [office(2, 10.5)]),
    ("a store room up to 15 m2", [("storage", 1, 0, 15, False, ())]),
    ("a store room of at most 15 m2", [("storage", 1, 0, 15, False, ())]),
    ("a store room of 15 m2 max", [("storage", 1, 0, 15, False, ())]),
    ("a meeting room of about 20 m2", [("meeting room", 1, 18, 22, False, ())]),
    ("a meeting room of approx 20 m2", [("meeting room", 1, 18, 22, False, ())]),
    ("a meeting room of ~20 m2", [("meeting room", 1, 18, 22, False, ())]),
    ("a meeting room of roughly 20 m2", [("meeting room", 1, 18, 22, False, ())]),
    ("an office of 100 sq ft", [office(1, 9.2903)]),
    ("an office of 100 square feet", [office(1, 9.2903)]),
    ("an office of 100 ft²", [office(1, 9.2903)]),
    # Room names, synonyms, plurals.
    ("a conference room of 20 m2", [("meeting room", 1, 20, None, False, ())]),
    ("2 conference rooms of 20 m2", [("meeting room", 2, 20, None, False, ())]),
    ("a kitchenette of 5 m2", [("kitchenette", 1, 5, None, False, ())]),
    ("a kitchen of 12 m2", [("kitchen", 1, 12, None, False, ())]),
    ("2 WCs of 2 m2", [("toilet", 2, 2, None, False, ())]),
    ("2 W.C. of 2 m2", [("toilet", 2, 2, None, False, ())]),
    ("3 toilets of 2 m2", [("toilet", 3, 2, None, False, ())]),
    ("a bathroom of 5 m2", [("bathroom", 1, 5, None, False, ())]),
    ("a storeroom of 4 m2", [("storage", 1, 4, None, False, ())]),
    ("storage 4 m2", [("storage", 1, 4, None, False, ())]),
    ("a reception area of 15 m2", [("reception", 1, 15, None, False, ())]),
    ("an open plan office of 80 m2", [("open-plan office", 1, 80, None, False, ())]),
    ("an open-plan office of 80 m2", [("open-plan office", 1, 80, None, False, ())]),
    ("3 bedrooms of 10 m2", [("bedroom", 3, 10, None, False, ())]),
    ("a living room of 20 m2", [("living room", 1, 20, None, False, ())]),
    ("a lounge of 20 m2", [("living room", 1, 20, None, False, ())]),
    ("OFFICES: 4 of 10 m2", [office(4, 10)]),
    # Windows.
    ("2 offices of 10 m2 with a window", [office(2, 10, window=True)]),
    ("2 offices of 10 m2 with windows", [office(2, 10, window=True)]),
    ("2 offices of 10 m2 facing the facade", [office(2, 10, window=True)]),
    ("2 offices of 10 m2 facing the façade", [office(2, 10, window=True)]),
    ("2 offices of 10 m2 with natural light", [office(2, 10, window=True)]),
    ("2 offices of 10 m2 by the window", [office(2, 10, window=True)]),
    ("a store room of 4 m2 without windows", [("storage", 1, 4, None, False, ())]),
    # Adjacency.
    (
        "a kitchen of 8 m2 next to the meeting room, a meeting room of 20 m2",
        [
            ("kitchen", 1, 8, None, False, ("meeting room",)),
            ("meeting room", 1, 20, None, False, ()),
        ],
    ),
    (
        "a WC of 2 m2 adjacent to the kitchen, a kitchen of 8 m2",
        [("toilet", 1, 2, None, False, ("kitchen",)), ("kitchen", 1, 8, None, False, ())],
    ),
    (
        "a reception of 15 m2 beside the entrance",
        [("reception", 1, 15, None, False, ("entrance",))],
    ),
    # "by" reads as next to; "the entrance" is the door, never a room to place (both
    # found by the held-out sample briefs, tests/data/layout_briefs.json).
    (
        "a toilet of 2 m2 by the entrance, an office by the window",
        [("toilet", 1, 2, None, False, ("entrance",)), ("office", 1, 9, None, True, ())],
    ),
    (
        "a WC of 2 m2 next to the reception next to the kitchen",
        [("toilet", 1, 2, None, False, ("reception", "kitchen"))],
    ),
    # "all X ..." qualifies the rooms named before.
    (
        "4 offices of 10 m2; all offices along the windows",
        [office(4, 10, window=True)],
    ),
    # Separators: semicolons, new lines, bullets, "and", "plus".
    (
        "4 offices of 10 m2; 2 WCs of 2 m2\n- a kitchen of 8 m2\n* a store of 3 m2",
        [
            office(4, 10),
            ("toilet", 2, 2, None, False, ()),
            ("kitchen", 1, 8, None, False, ()),
            ("storage", 1, 3, None, False, ()),
        ],
    ),
    (
        "We need:\n1. four offices (10 m2 each)\n2. a kitchen of 8 m2",
        [office(4, 10), ("kitchen", 1, 8, None, False, ())],
    ),
    (
        "4 offices of 10 m2 and a meeting room of 20 m2 plus a kitchen of 8 m2",
        [
            office(4, 10),
            ("meeting room", 1, 20, None, False, ()),
            ("kitchen", 1, 8, None, False, ()),
        ],
    ),
    ("4 offices, 10 m2 minimum, along the windows", [office(4, 10, window=True)]),
    # A name the vocabulary lacks, sized by the brief: kept as written.
    ("a 12 m2 archive", [("archive", 1, 12, None, False, ())]),
]


def _row(room: RoomRequest) -> Row:
    most = None if room.max_area_m2 is None else round(room.max_area_m2, 4)
    return (
        room.name,
        room.count,
        round(room.min_area_m2, 4),
        most,
        room.needs_window,
        tuple(room.adjacent_to),
    )


@pytest.mark.parametrize(("brief", "rooms"), PHRASINGS)
def test_phrasing(brief: str, rooms: list[Row]) -> None:
    reading = parse_brief(brief)
    assert [_row(room) for room in reading.program.rooms] == rooms
    assert reading.unread == []


@pytest.mark.parametrize(
    ("brief", "field", "value"),
    [
        ("1.5 m corridor", "corridor_width_m", 1.5),
        ("corridors of 1.2 m", "corridor_width_m", 1.2),
        ("corridor width: 1500 mm", "corridor_width_m", 1.5),
        ("hallways 120 cm wide", "corridor_width_m", 1.2),
        ("corridor of 1,4 m", "corridor_width_m", 1.4),
        ("corridors at least 4 ft wide", "corridor_width_m", 1.2192),
        ("rooms at least 2.4 m wide", "min_room_width_m", 2.4),
        ("minimum room width 2.5 m", "min_room_width_m", 2.5),
        ("100 mm partitions", "partition_thickness_mm", 100),
        ("partitions of 12.5 cm", "partition_thickness_mm", 125),
    ],
)
def test_sizes(brief: str, field: str, value: float) -> None:
    reading = parse_brief(brief)
    assert getattr(reading.program, field) == pytest.approx(value)
    assert reading.unread == [] and reading.program.rooms == []


@pytest.mark.parametrize(
    ("brief", "unread"),
    [
        ("4 offices of 10 m2, a swimming pool", ["a swimming pool"]),
        ("several offices of 10 m2", ["several offices of 10 m2"]),
        ("offices of 10 m2", ["offices of 10 m2"]),  # how many is not said
        ("4 offices of 10 m2 with nice views", ["with nice views"]),
        ("4 offices of 10, a kitchen of 8 m2", ["4 offices of 10"]),  # no unit
        ("a meeting room of 20 m2 in the basement", ["in the basement"]),
        ("a 200 m corridor", ["a 200 m corridor"]),  # past the corridor bounds
        ("250 offices of 10 m2", ["250 offices of 10 m2"]),  # past the count bound
        ("a kitchen of 8 m2 next to the garden", ["next to the garden"]),
        ("partitions, thin ones", ["partitions", "thin ones"]),
    ],
)
def test_unread_is_reported_verbatim(brief: str, unread: list[str]) -> None:
    assert parse_brief(brief).unread == unread


def test_read_parts_survive_an_unread_neighbour() -> None:
    reading = parse_brief("4 offices of 10 m2, a swimming pool, a kitchen of 8 m2")
    assert [room.name for room in reading.program.rooms] == ["office", "kitchen"]


def _notes(brief: str) -> str:
    return "\n".join(parse_brief(brief).notes)


def test_assumptions_are_noted() -> None:
    assert re.search(r"'kitchen': no area given, 7 m2 assumed", _notes("a kitchen"))
    assert parse_brief("a kitchen").program.rooms[0].min_area_m2 == 7
    assert "read as 18-22 m2 (+-10 %)" in _notes("a meeting room of about 20 m2")
    assert "read in m2" in _notes("an office of 100 sq ft")
    assert "no lower bound" in _notes("a store up to 6 m2")
    assert "read as a minimum" in _notes("a 20 m2 meeting room")
    assert "kept as named" in _notes("a 12 m2 archive")
    assert "read as adjacent to 'kitchen'" in _notes("a WC of 2 m2 near the kitchen")
    assert "read as 1.2192 m" in _notes("4 ft corridor")
    assert "no corridor width given" in _notes("4 offices of 10 m2, a corridor")
    assert "how many is not said" in _notes("offices of 10 m2")


def test_parsing_is_deterministic_and_empty_briefs_are_empty() -> None:
    brief = PHRASINGS[0][0]
    assert parse_brief(brief) == parse_brief(brief)
    assert parse_brief("") == BriefReading(Program(), [], [])
    assert parse_brief("  \n- \n") == BriefReading(Program(), [], [])


def test_an_overlong_brief_is_refused() -> None:
    with pytest.raises(LayoutProgramError, match=r"at `\$.brief`"):
        parse_brief("office " * 5000)


# Merging: the explicit program wins, room name by room name.


def test_explicit_rooms_replace_the_briefs_and_say_so() -> None:
    brief = parse_brief("4 offices of 10 m2, a kitchen of 8 m2, 1.5 m corridor").program
    explicit = decode_program([{"name": "Office", "count": 2, "min_area_m2": 14}])
    merged, notes = merge(brief, explicit)
    assert [(r.name, r.count, r.min_area_m2) for r in merged.rooms] == [
        ("kitchen", 1, 8),
        ("Office", 2, 14),
    ]
    assert notes == ["program's 'office' replaces the brief's (4 x 10 m2)"]
    assert merged.corridor_width_m == 1.5


def test_merging_drops_a_brief_adjacency_whose_room_is_gone() -> None:
    brief = parse_brief("a WC of 2 m2 next to the kitchen, a kitchen of 8 m2").program
    explicit = decode_program([{"name": "pantry", "min_area_m2": 5}])
    merged, _ = merge(brief, explicit)
    assert merged.rooms[0].adjacent_to == ["kitchen"]  # still there: kept
    toilet = [{"name": "toilet", "min_area_m2": 3, "adjacent_to": ["kitchen"]}]
    merged, notes = merge(brief, decode_program(toilet))
    assert [room.name for room in merged.rooms] == ["kitchen", "toilet"]  # the brief's kitchen
    assert notes == ["program's 'toilet' replaces the brief's (1 x 2 m2)"]
    toilet = [{"name": "toilet", "min_area_m2": 3, "adjacent_to": ["pantry"]}]
    with pytest.raises(LayoutProgramError, match=r"'pantry' is no room .* - at `\$.program\[0\]"):
        merge(brief, decode_program(toilet))


def test_merging_with_nothing() -> None:
    assert merge(None, None) == (Program(), [])
    rooms = decode_program([{"name": "office", "min_area_m2": 10}])
    assert merge(None, rooms)[0].rooms == rooms


def test_resolve_parameters_over_brief_over_defaults() -> None:
    brief = parse_brief("4 offices of 10 m2, 1.5 m corridor").program
    settled = resolve(brief)
    assert (settled.corridor_width_m, settled.min_room_width_m) == (1.5, 2.1)
    assert settled.partition_thickness_mm == 100
    assert settled.notes == ["corridor_width_m 1.5 from the brief"]
    settled = resolve(brief, corridor_width_m=1.8)
    assert settled.corridor_width_m == 1.8
    assert settled.notes == ["corridor_width_m 1.8 (parameter) over the brief's 1.5"]
    with pytest.raises(LayoutProgramError, match="no room to lay out"):
        resolve(Program())


# The program parameter's validation: each refusal names its field.


@pytest.mark.parametrize(
    ("program", "field"),
    [
        ([{"name": "office", "count": 0, "min_area_m2": 10}], "$.program[0].count"),
        ([{"name": "office", "count": 2.5, "min_area_m2": 10}], "$.program[0].count"),
        ([{"name": "office", "min_area_m2": -1}], "$.program[0].min_area_m2"),
        ([{"name": "office"}], "$.program[0].min_area_m2"),
        ([{"name": "", "min_area_m2": 3}], "$.program[0].name"),
        ([{"name": "  ", "min_area_m2": 3}], "$.program[0].name"),
        ([{"name": "a", "min_area_m2": 3, "max_area": 5}], "$.program[0].max_area"),
        ([{"name": "a", "min_area_m2": 9, "max_area_m2": 5}], "$.program[0].max_area_m2"),
        ([{"name": "a", "min_area_m2": 9, "needs_window": "yes"}], "$.program[0].needs_window"),
        ({"name": "office"}, "$.program"),
    ],
)
def test_program_errors_name_the_field(program: object, field: str) -> None:
    with pytest.raises(LayoutProgramError) as caught:
        decode_program(program)
    assert caught.value.type == error_types.BAD_PARAMETER
    assert f"`{field}`" in caught.value.message or field in caught.value.message, (
        caught.value.message
    )


def test_a_room_request_decodes_inside_a_schema_naming_the_field() -> None:
    class Input(msgspec.Struct):
        program: list[RoomRequest]

    raw = b'{"program": [{"name": "x", "min_area_m2": 9, "max_area_m2": 5}]}'
    with pytest.raises(msgspec.ValidationError, match=r"max_area_m2 5 is below min_area_m2 9"):
        msgspec.json.decode(raw, type=Input)
    with pytest.raises(LayoutProgramError, match=r"at `\$.count`"):
        RoomRequest("office", 10, count=0)


def test_a_valid_program_decodes_with_its_defaults() -> None:
    rooms = decode_program(
        [
            {"name": "office", "count": 4, "min_area_m2": 10, "needs_window": True},
            {"name": "kitchen", "min_area_m2": 8, "max_area_m2": 12, "adjacent_to": ["Office"]},
        ]
    )
    assert rooms[0] == RoomRequest("office", 10, 4, None, [], True)
    assert rooms[1].count == 1 and rooms[1].adjacent_to == ["Office"]


def test_an_explicit_adjacency_must_name_a_room() -> None:
    rooms = decode_program(
        [{"name": "a", "min_area_m2": 9}, {"name": "b", "min_area_m2": 9, "adjacent_to": ["c"]}]
    )
    with pytest.raises(LayoutProgramError, match=r"at `\$.program\[1\].adjacent_to\[0\]`"):
        merge(None, rooms)


def test_a_brief_adjacency_to_no_room_is_dropped_with_a_note() -> None:
    brief = parse_brief("a WC of 2 m2 next to the kitchen").program
    merged, notes = merge(brief, None)
    assert merged.rooms[0].adjacent_to == []
    assert notes == ["brief's 'toilet' next to 'kitchen' dropped: no such room"]
    kitchen = decode_program([{"name": "kitchen", "min_area_m2": 8}])
    assert merge(brief, kitchen)[0].rooms[0].adjacent_to == ["kitchen"]
