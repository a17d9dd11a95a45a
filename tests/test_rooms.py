"""Rooms, their labels and adjacency, and exterior walls (documents.rooms)."""

from __future__ import annotations

import math
from typing import Any

import pymupdf
import pytest

from documents.drawings import to_display
from documents.model import Opening, Room, Wall
from documents.room_labels import Word, label, word_role
from documents.rooms import find_rooms
from documents.vector import vector_walls
from tests import plan_rooms, plans

PAGE = (plans.PAGE_W, plans.PAGE_H)
M2 = plans.PT_PER_M**2  # page points squared per square metre


def _plan_page(style: str, rotate: int = 0) -> Any:
    """Page 1 of the plan drawn in one style (PyMuPDF's calls are untyped: Any)."""
    return pymupdf.open(stream=plans.plan_pdf((style,), rotate), filetype="pdf")[0]  # type: ignore[no-untyped-call]


def _rotation(rotate: int) -> pymupdf.Matrix:
    """Unrotated -> displayed coordinates on a plan-sized page with that /Rotate."""
    page: Any = pymupdf.open().new_page(width=plans.PAGE_W, height=plans.PAGE_H)  # type: ignore[no-untyped-call]
    page.set_rotation(rotate)
    matrix: pymupdf.Matrix = page.rotation_matrix
    return matrix


def _words(page: Any) -> list[Word]:
    """The page's words with their boxes as displayed (as ingest gives text)."""
    out = []
    for x0, y0, x1, y1, text, *_ in page.get_text("words"):
        corners = to_display([(x0, y0), (x1, y1)], page)
        box = (*corners.min(axis=0).tolist(), *corners.max(axis=0).tolist())
        out.append((text, (box[0], box[1], box[2], box[3])))
    return out


def _openings(walls: list[Wall], rotate: int = 0) -> list[Opening]:
    """The plan's openings in page points, each on the wall with the nearest end."""
    m = _rotation(rotate)
    out = []
    for kind, x1, y1, x2, y2, _ in plans.OPENINGS_M:
        a, b = plans.pt(x1, y1) * m, plans.pt(x2, y2) * m

        def reach(w: Wall, a: pymupdf.Point = a, b: pymupdf.Point = b) -> float:
            ends = ((w.x1, w.y1), (w.x2, w.y2))
            return min(math.dist(e, p) for e in ends for p in ((a.x, a.y), (b.x, b.y)))

        wall = min(range(len(walls)), key=lambda k: reach(walls[k]))
        out.append(Opening(kind, wall, a.x, a.y, b.x, b.y, abs(b - a)))  # type: ignore[arg-type]
    return out


def _named(rooms: list[Room], rotate: int = 0) -> dict[str, Room]:
    """Truth name (TRIANGLE for the unlabelled one) -> the room holding its inside point."""
    m = _rotation(rotate)
    out = {}
    for name, (x, y), _ in plan_rooms.ROOMS:
        p = plans.pt(x, y) * m
        holding = [r for r in rooms if _inside(r.polygon, (p.x, p.y))]
        assert len(holding) == 1, f"{name}: {len(holding)} rooms hold its point"
        out[name or "TRIANGLE"] = holding[0]
    return out


def _inside(polygon: list[tuple[float, float]], point: tuple[float, float]) -> bool:
    x, y = point
    crossings = 0
    for (x1, y1), (x2, y2) in zip(polygon, polygon[1:] + polygon[:1], strict=True):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            crossings += 1
    return crossings % 2 == 1


def _check_rooms(rooms: list[Room], tolerance: float, rotate: int = 0) -> dict[str, Room]:
    named = _named(rooms, rotate)
    assert len(rooms) == len(plan_rooms.ROOMS)
    for name, _, area in plan_rooms.ROOMS:
        room = named[name or "TRIANGLE"]
        assert room.name == name
        assert room.number is None  # the bedroom's "1.00" is a dimension
        assert room.area / M2 == pytest.approx(area, rel=tolerance), name
    return named


def test_truth_derivation_matches_the_plan() -> None:
    """plan_rooms was derived from these walls and openings; a change needs a new one."""
    assert [tuple(w) for w in plans.WALLS_M] == plan_rooms.WALLS_M
    assert [tuple(o) for o in plans.OPENINGS_M] == plan_rooms.OPENINGS_M


def test_rooms_areas_names_exterior_and_adjacency_from_the_true_walls() -> None:
    walls = plans.truth()
    page = _plan_page("thick")
    rooms, marked = find_rooms(walls, _openings(walls), _words(page), PAGE)
    named = _check_rooms(rooms, 0.002)
    by_id = {room.id: name for name, room in named.items()}
    assert [w.exterior for w in marked] == [
        k in plan_rooms.EXTERIOR_WALLS for k in range(len(walls))
    ]
    assert [(w.x1, w.y1, w.thickness) for w in marked] == [(w.x1, w.y1, w.thickness) for w in walls]
    through_walls = set()
    through_openings = set()
    for name, room in named.items():
        assert set(room.openings) == plan_rooms.ROOM_OPENINGS[name], name
        for link in room.adjacent:
            pair = tuple(sorted((name, by_id[link.room]), key=_truth_order))
            if link.via == "wall":
                assert link.wall is not None
                through_walls.add((pair[0], pair[1], link.wall))
            else:
                assert link.opening is not None
                through_openings.add((pair[0], pair[1], link.via, link.opening))
    assert through_walls == plan_rooms.WALL_ADJACENCY
    assert through_openings == plan_rooms.OPENING_ADJACENCY


def _truth_order(name: str) -> int:
    names = [n or "TRIANGLE" for n, _, _ in plan_rooms.ROOMS]
    return names.index(name)


@pytest.mark.parametrize("style", ["filled", "pairs", "thick"])
def test_rooms_from_the_walls_vector_walls_finds(style: str) -> None:
    page = _plan_page(style)
    walls = vector_walls(page)
    rooms, marked = find_rooms(walls, _openings(walls), _words(page), PAGE)
    named = _check_rooms(rooms, 0.03)
    assert named["HALL"].adjacent and named["LIVING"].openings
    truth = plans.truth()
    matched = 0
    for wall in marked:
        k = _truth_wall(wall, truth)
        if k is not None:  # window glazing, outlined title letters: no truth wall
            matched += 1
            assert wall.exterior == (k in plan_rooms.EXTERIOR_WALLS), (k, wall)
    assert matched >= len(truth)


def _truth_wall(wall: Wall, truth: list[Wall]) -> int | None:
    """The truth wall whose centre line passes within its thickness of this one's middle."""
    mx, my = (wall.x1 + wall.x2) / 2, (wall.y1 + wall.y2) / 2
    for k, t in enumerate(truth):
        length = math.hypot(t.x2 - t.x1, t.y2 - t.y1)
        ux, uy = (t.x2 - t.x1) / length, (t.y2 - t.y1) / length
        along = (mx - t.x1) * ux + (my - t.y1) * uy
        across = abs(-(mx - t.x1) * uy + (my - t.y1) * ux)
        if 0 <= along <= length and across <= t.thickness / 2:
            return k
    return None


def test_rooms_on_a_rotated_page_with_the_scale_known() -> None:
    """/Rotate 90: walls and words as displayed; sizes in metres when the scale is given."""
    page = _plan_page("filled", 90)
    walls = plans.truth(rotate=90)
    size = (page.rect.width, page.rect.height)
    rooms, marked = find_rooms(
        walls, _openings(walls, 90), _words(page), size, metres_per_unit=plans.METRES_PER_PT
    )
    _check_rooms(rooms, 0.002, rotate=90)
    assert {k for k, w in enumerate(marked) if w.exterior} == plan_rooms.EXTERIOR_WALLS


def test_walls_that_stop_short_of_each_other_still_close_rooms() -> None:
    """Each wall a third of its thickness short at both ends (and the openings known)."""
    short = []
    for w in plans.truth():
        length = math.hypot(w.x2 - w.x1, w.y2 - w.y1)
        dx, dy = (w.x2 - w.x1) / length * w.thickness / 3, (w.y2 - w.y1) / length * w.thickness / 3
        short.append(Wall(w.x1 + dx, w.y1 + dy, w.x2 - dx, w.y2 - dy, w.thickness))
    page = _plan_page("thick")
    rooms, marked = find_rooms(short, _openings(short), _words(page), PAGE)
    _check_rooms(rooms, 0.03)
    assert {k for k, w in enumerate(marked) if w.exterior} == plan_rooms.EXTERIOR_WALLS


def _box_walls(x0: float, y0: float, x1: float, y1: float, t: float) -> list[Wall]:
    """Four walls around a rectangle, centre lines through the corners."""
    return [
        Wall(x0, y0, x1, y0, t),
        Wall(x1, y0, x1, y1, t),
        Wall(x1, y1, x0, y1, t),
        Wall(x0, y1, x0, y0, t),
    ]


def test_a_door_gap_without_an_opening_still_separates_two_rooms() -> None:
    """Two 4 x 4 m rooms (1 unit = 1 cm), the wall between them with a 0.9 m gap."""
    walls = _box_walls(0, 0, 800, 400, 20)
    walls += [Wall(400, 0, 400, 200, 10), Wall(400, 290, 400, 400, 10)]
    words = [("OFFICE", (150.0, 150.0, 250.0, 170.0)), ("101", (180.0, 175.0, 210.0, 190.0))]
    rooms, marked = find_rooms(walls, [], words, (1000, 600), metres_per_unit=0.01)
    assert [(r.name, r.number, round(r.area)) for r in rooms] == [
        ("OFFICE", "101", 380 * 385),
        (None, None, 380 * 385),
    ]
    assert [a.room for a in rooms[0].adjacent] == [1, 1]  # both pieces of the middle wall
    assert [w.exterior for w in marked] == [True] * 4 + [False] * 2


def test_a_page_without_closed_rooms_gives_none_and_no_exterior_flags() -> None:
    walls = _box_walls(0, 0, 800, 400, 20)[:3] + [Wall(0, 400, 0, 250, 20)]  # a 1.5 m gap
    rooms, marked = find_rooms(walls, [], [], (1000, 600), metres_per_unit=0.01)
    assert rooms == []
    assert [w.exterior for w in marked] == [None] * 4
    assert find_rooms([], [], [], (1000, 600)) == ([], [])


def test_a_grid_of_four_thousand_walls() -> None:
    """45 x 45 rooms of 3 m (1 unit = 1 cm), each side its own wall: 4,140 walls."""
    n, size, t = 45, 300.0, 15.0
    walls = [
        Wall(i * size, j * size, (i + 1) * size, j * size, t)
        for j in range(n + 1)
        for i in range(n)
    ]
    walls += [
        Wall(i * size, j * size, i * size, (j + 1) * size, t)
        for i in range(n + 1)
        for j in range(n)
    ]
    rooms, marked = find_rooms(walls, [], [], (n * size, n * size), metres_per_unit=0.01)
    assert len(rooms) == n * n
    assert all(r.area == pytest.approx((size - t) ** 2) for r in rooms)
    edges = (0.0, n * size)
    outline = {k for k, w in enumerate(walls) if w.y1 == w.y2 in edges or w.x1 == w.x2 in edges}
    assert {k for k, w in enumerate(marked) if w.exterior} == outline
    assert sum(len(r.adjacent) for r in rooms) == 2 * 2 * n * (n - 1)


@pytest.mark.parametrize(
    ("text", "role"),
    [
        ("101", "number"),
        ("B-12", "number"),
        ("G01", "number"),
        ("KITCHEN", "name"),
        ("3.96", None),
        ("m", None),
        ("3.96m", None),
        ("12'-6\"", None),
        ("4'", None),
        ("12.5m²", None),
        ("(120sf)", None),
        ("—", None),
    ],
)
def test_word_roles(text: str, role: str | None) -> None:
    assert word_role(text) == role


def test_labels_join_lines_and_keep_numbers_that_belong_to_the_name() -> None:
    def word(text: str, x: float, y: float) -> Word:
        return text, (x, y, x + 8 * len(text), y + 10)

    stacked = [word("LIVING", 0, 0), word("ROOM", 0, 12), word("102", 0, 24)]
    assert label(stacked) == ("LIVING ROOM", "102")
    assert label([word("Bedroom", 0, 0), word("2", 60, 0)]) == ("Bedroom 2", None)
    open_plan = [word("Kitchen", 0, 0), word("Living", 0, 200), word("Room", 52, 200)]
    assert label(open_plan + [word("C", 300, 300), word("3.96", 100, 100)]) == (
        "Kitchen / Living Room",
        None,
    )
    assert label([word("C", 0, 0)]) == ("C", None)


def test_a_one_letter_mark_stacked_on_a_label_is_not_part_of_the_name() -> None:
    # The CFAST ranch plan prints instrument marks ("C") just above room names.
    words = [("C", (850.0, 60.0, 856.0, 68.0)), ("Bedroom", (830.0, 72.0, 870.0, 80.0))]
    words.append(("2", (872.0, 72.0, 876.0, 80.0)))
    assert label(words) == ("Bedroom 2", None)
    assert label([("C", (850.0, 60.0, 856.0, 68.0))]) == ("C", None)


def test_a_long_run_of_dots_is_read_at_once() -> None:
    # Dot leaders ("1......x") once made the measurement pattern backtrack exponentially.
    assert word_role("1" + "." * 60 + "x") == "name"
    assert word_role("12" + "-" * 60) is None
