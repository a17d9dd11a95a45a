"""Openings (doors, windows, plain gaps) on their walls, against the synthetic plans' truth."""

from __future__ import annotations

import math
import random

import numpy as np
import pymupdf
import pytest

from documents.model import Opening, Wall
from documents.openings import (
    ALIGN,
    ALIKE,
    MAX_GAP_FRAC,
    MAX_GAP_T,
    MIN_GAP_FRAC,
    MIN_GAP_T,
    PARALLEL_SIN,
    Gap,
    _axis,
    _extent,
    gap_openings,
    vector_openings,
    wall_gaps,
)
from documents.vector import vector_walls
from documents.wall_filters import GLAZING_OFFSET, GLAZING_RATIO, without_glazing
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


def _gaps_by_all_pairs(walls: list[Wall], s: float) -> list[Gap]:
    """The gap search as a pass over every pair of walls, and every wall for the crossing
    test (the reference the indexed ``wall_gaps`` must agree with)."""
    found = []
    seen: set[tuple[int, int]] = set()
    forward = list(enumerate(walls))
    backward = [(i, Wall(w.x2, w.y2, w.x1, w.y1, w.thickness)) for i, w in forward]
    for i, a in forward + backward:
        ux, uy, la = _axis(a)
        best: tuple[float, int, tuple[float, float, float, float]] | None = None
        for j, b in enumerate(walls):
            vx, vy, _ = _axis(b)
            thick = max(a.thickness, b.thickness)
            if j == i or abs(ux * vy - uy * vx) > PARALLEL_SIN:
                continue
            if abs(a.thickness - b.thickness) > max(1.0, ALIKE * thick):
                continue
            ends = [
                ((x - a.x1) * ux + (y - a.y1) * uy, x, y) for x, y in ((b.x1, b.y1), (b.x2, b.y2))
            ]
            if any(
                abs((x - a.x1) * uy - (y - a.y1) * ux) > max(1.0, ALIGN * thick) for _, x, y in ends
            ):
                continue
            t_near, x, y = min(ends)
            if min(t for t, _, _ in ends) < la:
                continue
            gap = t_near - la
            lo = max(MIN_GAP_T * thick, MIN_GAP_FRAC * s)
            hi = min(MAX_GAP_T * thick, MAX_GAP_FRAC * s)
            if lo <= gap <= hi and (best is None or gap < best[0]):
                start = (a.x1 + ux * la, a.y1 + uy * la)
                end = (a.x1 + ux * t_near, a.y1 + uy * t_near)
                best = (gap, j, (start[0], start[1], end[0], end[1]))
        if best is None or (min(i, best[1]), max(i, best[1])) in seen:
            continue
        seen.add((min(i, best[1]), max(i, best[1])))
        x1, y1, x2, y2 = best[2]
        crossed = False
        for k, w in enumerate(walls):
            if k in (i, best[1]):
                continue
            d1 = (x2 - x1) * (w.y1 - y1) - (y2 - y1) * (w.x1 - x1)
            d2 = (x2 - x1) * (w.y2 - y1) - (y2 - y1) * (w.x2 - x1)
            d3 = (w.x2 - w.x1) * (y1 - w.y1) - (w.y2 - w.y1) * (x1 - w.x1)
            d4 = (w.x2 - w.x1) * (y2 - w.y1) - (w.y2 - w.y1) * (x2 - w.x1)
            crossed = crossed or (d1 * d2 < 0 and d3 * d4 < 0)
        if not crossed:
            found.append((min(i, best[1]), max(i, best[1]), best[2]))
    return found


def rooms_grid(n: int, room: float = 200.0, thick: float = 2.0, door: float = 40.0) -> list[Wall]:
    """n x n square rooms, each side two walls with a door-wide gap in its middle."""
    walls = []
    for r in range(n + 1):
        for c in range(n):
            a, b = c * room + (room - door) / 2, c * room + (room + door) / 2
            line, start, end = r * room, c * room, (c + 1) * room
            walls += [Wall(start, line, a, line, thick), Wall(b, line, end, line, thick)]
            walls += [Wall(line, start, line, a, thick), Wall(line, b, line, end, thick)]
    return walls


def random_walls(rng: random.Random) -> list[Wall]:
    """Up to 40 walls, most on a few shared lines (some a little askew or off the line),
    the rest at any angle, a few of them points: gaps, near misses and crossings."""
    walls = []
    for _ in range(rng.randint(0, 40)):
        thick = rng.choice([1.0, 2.0, 4.0, 10.0, rng.uniform(0.5, 12)])
        kind = rng.random()
        if kind < 0.6:
            off = rng.choice([0, 100, 103, 200]) + rng.uniform(-2, 2) * (rng.random() < 0.3)
            a = rng.uniform(0, 600)
            b = a + rng.uniform(0, 150)
            slope = rng.uniform(-0.04, 0.04) if rng.random() < 0.3 else 0.0
            w = Wall(a, off, b, off + (b - a) * slope, thick)
            if rng.random() < 0.5:
                w = Wall(w.y1, w.x1, w.y2, w.x2, thick)
            if rng.random() < 0.5:
                w = Wall(w.x2, w.y2, w.x1, w.y1, thick)
        elif kind < 0.95:
            angle = math.radians(rng.choice([0, 45, 90, 30, 179.5, 0.9]) + rng.uniform(-2, 2))
            x, y, length = rng.uniform(0, 600), rng.uniform(0, 600), rng.uniform(0, 200)
            w = Wall(x, y, x + length * math.cos(angle), y + length * math.sin(angle), thick)
        else:
            x, y = rng.choice([0, 100, 200]), rng.uniform(0, 600)
            w = Wall(x, y, x, y, thick)
        walls.append(w)
    return walls


def test_gaps_agree_with_a_pass_over_all_pairs() -> None:
    """On 300 random wall sets and a grid of rooms with corridor walls across some doors,
    the indexed search finds exactly the gaps (walls and spans) the all-pairs pass does."""
    rng = random.Random(5)
    found = 0
    for _ in range(300):
        walls = random_walls(rng)
        s = rng.choice([600.0, 3000.0, _extent(walls)])
        gaps, _ = wall_gaps(walls, s)
        assert gaps == _gaps_by_all_pairs(walls, s)
        found += len(gaps)
    assert found >= 100  # the sets do have gaps to find
    grid = rooms_grid(5)
    corridors = [Wall(c * 200 + 100, -50, c * 200 + 100, 250, 2.0) for c in range(3)]
    walls = grid + corridors
    gaps, work = wall_gaps(walls, _extent(walls))
    assert gaps == _gaps_by_all_pairs(walls, _extent(walls))
    assert len(gaps) == 2 * 5 * 6 - 3 * 2  # the corridors cross doors in rows 0 and 1
    assert work.crossings > 0


def test_gap_search_compares_only_nearby_walls() -> None:
    """3,968 walls (31 x 31 rooms, a door in every side): every door found, with a few
    pairs compared per wall instead of the 31 million of a pass over all pairs."""
    walls = rooms_grid(31)
    gaps, work = wall_gaps(walls, _extent(walls))
    assert len(gaps) == 2 * 31 * 32
    assert all(round(math.dist(span[:2], span[2:]), 6) == 40.0 for _, _, span in gaps)
    assert work.pairs <= 6 * len(walls)
    assert work.crossings <= 2 * len(walls)
    assert [o.width for o in gap_openings(walls)] == [40.0] * len(gaps)


def _glazing_by_all_pairs(walls: list[Wall]) -> list[Wall]:
    """The glazing filter as a pass over every wall for each wall's ends (the reference)."""
    rows = np.array([(w.x1, w.y1, w.x2, w.y2, w.thickness) for w in walls]).reshape(-1, 5)
    ax, ay = rows[:, 2] - rows[:, 0], rows[:, 3] - rows[:, 1]
    length = np.maximum(np.hypot(ax, ay), 1e-9)
    ux, uy = ax / length, ay / length
    kept = []
    for k, w in enumerate(walls):
        thicker = (rows[:, 4] >= GLAZING_RATIO * w.thickness) & (
            np.abs(ux * uy[k] - uy * ux[k]) < 0.03
        )
        sides = 0
        for x, y in ((w.x1, w.y1), (w.x2, w.y2)):
            along = (x - rows[:, 0]) * ux + (y - rows[:, 1]) * uy
            across = np.abs((x - rows[:, 0]) * uy - (y - rows[:, 1]) * ux)
            slack = np.maximum(1.0, 0.5 * rows[:, 4])
            at_end = (np.abs(along) <= slack) | (np.abs(along - length) <= slack)
            sides += bool(np.any(thicker & at_end & (across <= GLAZING_OFFSET * rows[:, 4])))
        if sides < 2:
            kept.append(w)
    return kept


def test_glazing_filter_agrees_with_a_pass_over_all_pairs() -> None:
    """Runs of thick walls with thin pieces bridging some gaps (on the line, off it, short
    of the ends), and stray walls and points: the same walls are kept as the all-pairs pass
    keeps, and some thin bridges are dropped."""
    rng = np.random.default_rng(7)
    dropped = 0
    for _ in range(200):
        walls = []
        for _ in range(int(rng.integers(0, 6))):
            line, along = float(rng.choice([0, 100, 200])), 0.0
            for _ in range(int(rng.integers(1, 6))):
                thick, length = float(rng.choice([10, 8, 4, 3, 2, 1])), rng.uniform(5, 120)
                off = float(rng.normal(0, 1.5)) * (rng.random() < 0.4)
                w = Wall(along, line + off, along + length, line + off, thick)
                if rng.random() < 0.5:
                    w = Wall(w.y1, w.x1, w.y2, w.x2, thick)
                walls.append(w)
                along += length + float(rng.choice([0, 0.5, 2, 30]))
        for _ in range(int(rng.integers(0, 8))):
            angle, length = rng.uniform(0, math.pi), float(rng.choice([0, 1e-10, 50, 200]))
            x, y = (float(v) for v in rng.uniform(-50, 500, 2))
            end = (x + length * math.cos(angle), y + length * math.sin(angle))
            walls.append(Wall(x, y, *end, float(rng.choice([0.5, 3, 10, 40]))))
        kept = without_glazing(walls)
        assert kept == _glazing_by_all_pairs(walls)
        dropped += len(walls) - len(kept)
    assert dropped >= 50


def test_a_wide_gap_with_neither_door_nor_glazing_is_no_opening() -> None:
    # Tuning seed 28 of bench.vector_plans: the 3.6 m mouth of a recess in the outline
    # was a plain "opening", so rooms closed it and the recess became a room.
    walls = [Wall(0, 0, 400, 0, 10), Wall(480, 0, 1000, 0, 10)]  # an 80 px gap
    assert [round(o.width) for o in gap_openings(walls, 1000, metres_per_unit=0.02)] == [80]
    assert gap_openings(walls, 1000, metres_per_unit=0.05) == []  # 4 m: a recess
