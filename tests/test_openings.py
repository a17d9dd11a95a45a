"""Openings (doors, windows, plain gaps) on their walls, against the synthetic plans' truth."""

from __future__ import annotations

import math

import pymupdf
import pytest

from documents.model import Opening, Wall
from documents.openings import gap_openings, vector_openings
from documents.vector import vector_walls
from tests.plans import STYLES, openings_truth, plan_pdf, truth


def on_span(found: Opening, span: Wall) -> bool:
    """Both ends of ``found`` within 1.5 pt of the true span's ends (either order)."""
    ends = [(found.x1, found.y1), (found.x2, found.y2)]
    true = [(span.x1, span.y1), (span.x2, span.y2)]
    return any(
        all(math.dist(e, t) <= 1.5 for e, t in zip(ends, order, strict=True))
        for order in (true, true[::-1])
    )


@pytest.mark.parametrize("rotate", [0, 90])
@pytest.mark.parametrize("style", list(STYLES))
def test_every_door_and_window_found_on_its_wall(style: str, rotate: int) -> None:
    page = pymupdf.Document(stream=plan_pdf((style,), rotate=rotate), filetype="pdf")[0]  # type: ignore[no-untyped-call]
    walls = vector_walls(page)
    found = vector_openings(page, walls)
    expected = openings_truth(rotate)
    assert len(found) == len(expected), found  # no false openings
    true_walls = truth(rotate)
    for kind, span, pair in expected:
        (match,) = [o for o in found if on_span(o, span)]
        width = math.hypot(span.x2 - span.x1, span.y2 - span.y1)
        assert match.kind == kind
        assert match.width == pytest.approx(width, rel=0.05)
        # The opening's wall is one of the two pieces beside the gap.
        assert match.wall is not None
        wall = walls[match.wall]
        beside = [true_walls[k] for k in pair]
        assert any(inside((wall.x1 + wall.x2) / 2, (wall.y1 + wall.y2) / 2, t) for t in beside)


def inside(x: float, y: float, wall: Wall) -> bool:
    """Whether the point lies on the wall's centre line, between its ends (1.5 pt slack)."""
    length = math.hypot(wall.x2 - wall.x1, wall.y2 - wall.y1)
    ux, uy = (wall.x2 - wall.x1) / length, (wall.y2 - wall.y1) / length
    along = (x - wall.x1) * ux + (y - wall.y1) * uy
    return abs((x - wall.x1) * uy - (y - wall.y1) * ux) <= 1.5 and 0 <= along <= length


def test_gap_openings_from_a_wall_list() -> None:
    """Raster walls (pixels): collinear gaps only, each once, as plain openings."""
    walls = [
        Wall(0, 0, 400, 0, 10),
        Wall(480, 0, 1000, 0, 10),  # an 80 px gap
        Wall(0, 0, 0, 600, 10),
        Wall(0, 600, 300, 600, 10),
        Wall(1000, 600, 330, 600, 10),  # a 30 px gap, drawn the other way
        Wall(500, 0, 500, 600, 10),  # crosses nothing: it starts past the first gap
        Wall(0, 300, 200, 300, 4),
        Wall(260, 300, 600, 300, 10),  # in line, but not alike: no opening
    ]
    found = gap_openings(walls)
    spans = sorted((o.wall, round(o.width), o.kind) for o in found)
    assert spans == [(0, 80, "opening"), (3, 30, "opening")]
    crossed = [*walls[:2], Wall(440, -50, 440, 50, 10)]  # a wall through the gap
    assert gap_openings(crossed) == []
