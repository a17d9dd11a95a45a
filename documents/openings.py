"""Doors, windows and plain openings: gaps between collinear walls, and what fills them.

A gap is the stretch between the facing ends of two walls on one line (centre lines within
``ALIGN`` of the thicker's thickness, thicknesses alike), at least ``MIN_GAP_T`` wall
thicknesses and ``MIN_GAP_FRAC`` of the page wide, at most ``MAX_GAP_T`` thicknesses and
``MAX_GAP_FRAC`` of the page, with no other wall crossing it. On a vector page a gap with a
curve (a door swing, Bézier ``c`` items) starting at it is a door; one spanned by at least
two straight lines along the wall inside its band (glazing) is a window; otherwise it is a
plain "opening". Thresholds are relative to the wall thickness and to the page, or to
metres when the scale is known (the fractions are those of an A3 sheet at 1:100).
Coordinates are as displayed, like the walls'.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

from documents.drawings import Array, page_drawings, page_segments, to_display
from documents.model import Opening, Wall
from documents.wall_sizes import reference_side

ALIGN = 0.3  # centre lines this far apart (of the thicker wall's thickness) are one line
ALIKE = 0.35  # thicknesses within 35 % of each other
MIN_GAP_T = 1.5  # a door is wider than 1.5 wall thicknesses (0.6 m in a 0.4 m wall)
MAX_GAP_T = 25.0  # a window is narrower than 25 thicknesses (3 m in a 0.12 m wall)
MIN_GAP_FRAC = 0.005  # and wider than 6 pt on A3 (0.2 m at 1:100)
MAX_GAP_FRAC = 0.15  # and narrower than 180 pt on A3 (6.3 m at 1:100)
PLAIN_MAX_FRAC = 0.06  # a gap with neither door nor glazing wider than 2.5 m is no opening
PARALLEL_SIN = 0.03  # walls within 1.7 degrees are parallel
GLAZING_MIN = 2  # straight lines spanning a gap that make it a window
SPAN_SHARE = 0.8  # of the gap a glazing line spans
ANGLE_BIN = 2.0  # degrees: walls parallel within PARALLEL_SIN (1.7 degrees) share a bin or are next
ANGLE_BINS = 90  # bins in 180 degrees


def _axis(w: Wall) -> tuple[float, float, float]:
    """Unit direction and length of a wall's centre line."""
    length = math.hypot(w.x2 - w.x1, w.y2 - w.y1) or 1e-9
    return (w.x2 - w.x1) / length, (w.y2 - w.y1) / length, length


Span = tuple[float, float, float, float]
Gap = tuple[int, int, Span]  # the two walls (lower index first) and the gap's span


@dataclass
class GapWork:
    """What ``wall_gaps`` compared: pairs of walls tested as the two sides of a gap, and
    walls tested as crossing a gap. Both grow with the walls near each end, not all walls."""

    pairs: int = 0
    crossings: int = 0


def _reach(thickness: float, s: float) -> float:
    """How far from a wall's end the near end of the wall across its gap can lie: the gap's
    widest along, the line's tolerance across, for the thickest wall alike to this one."""
    thick = max(thickness + 1.0, thickness / (1 - ALIKE), 0.0)
    along = min(MAX_GAP_T * thick, MAX_GAP_FRAC * s)
    return math.hypot(along, max(1.0, ALIGN * thick)) * 1.001 + 1e-6  # rounding slack


def _angle_bin(w: Wall) -> int:
    """The wall's direction in ANGLE_BIN-degree bins (0 to 180); -1 for a point, which
    the parallel test takes as parallel to every wall."""
    if w.x1 == w.x2 and w.y1 == w.y2:
        return -1
    angle = math.degrees(math.atan2(w.y2 - w.y1, w.x2 - w.x1)) % 180
    return int(angle // ANGLE_BIN) % ANGLE_BINS


class _Ends:
    """Walls by their ends' grid cell and direction bin: the walls that may be across a
    gap from a wall's end are those parallel to it (its bin or the next) with an end
    within ``_reach``, found without a pass over every wall."""

    def __init__(self, walls: list[Wall], s: float) -> None:
        self.reach = [_reach(w.thickness, s) for w in walls]
        self.cell = float(np.median(self.reach)) if walls else 1.0
        self.bins = [_angle_bin(w) for w in walls]
        self.cells: dict[tuple[int, int, int], list[int]] = {}
        for j, w in enumerate(walls):
            for x, y in {(w.x1, w.y1), (w.x2, w.y2)}:
                key = (self.bins[j], math.floor(x / self.cell), math.floor(y / self.cell))
                self.cells.setdefault(key, []).append(j)

    def near(self, i: int, x: float, y: float) -> list[int]:
        """Walls (ascending, without ``i``) that may be across a gap at wall ``i``'s end
        (x, y)."""
        r, c, b = self.reach[i], self.cell, self.bins[i]
        bins = {-1, b} if b < 0 else {-1, b, (b - 1) % ANGLE_BINS, (b + 1) % ANGLE_BINS}
        found: set[int] = set()
        for cx in range(math.floor((x - r) / c), math.floor((x + r) / c) + 1):
            for cy in range(math.floor((y - r) / c), math.floor((y + r) / c) + 1):
                for k in bins:
                    found.update(self.cells.get((k, cx, cy), ()))
        found.discard(i)
        return sorted(found)


def wall_gaps(walls: list[Wall], s: float | tuple[float, float]) -> tuple[list[Gap], GapWork]:
    """Facing ends of collinear walls with a door-to-window-wide gap, each pair once and
    uncrossed, and the work done to find them. ``s`` is the page's longer side."""
    work = GapWork()
    if not walls:
        return [], work
    s_low, s_high = (s, s) if isinstance(s, int | float) else s
    ends = _Ends(walls, s_high)
    tree = shapely.STRtree(
        shapely.box(
            [min(w.x1, w.x2) for w in walls],
            [min(w.y1, w.y2) for w in walls],
            [max(w.x1, w.x2) for w in walls],
            [max(w.y1, w.y2) for w in walls],
        )
    )
    found = []
    seen: set[tuple[int, int]] = set()
    forward = list(enumerate(walls))
    backward = [(i, Wall(w.x2, w.y2, w.x1, w.y1, w.thickness)) for i, w in forward]
    for i, a in forward + backward:  # looking past either end of each wall
        ux, uy, la = _axis(a)
        if ux == 0 and uy == 0:
            continue  # a point has no end to look past
        best: tuple[float, int, Span] | None = None
        for j in ends.near(i, a.x1 + ux * la, a.y1 + uy * la):
            work.pairs += 1
            b = walls[j]
            vx, vy, _ = _axis(b)
            thick = max(a.thickness, b.thickness)
            if abs(ux * vy - uy * vx) > PARALLEL_SIN:
                continue
            if abs(a.thickness - b.thickness) > max(1.0, ALIKE * thick):
                continue
            ends_b = [
                ((x - a.x1) * ux + (y - a.y1) * uy, x, y) for x, y in ((b.x1, b.y1), (b.x2, b.y2))
            ]
            if any(
                abs((x - a.x1) * uy - (y - a.y1) * ux) > max(1.0, ALIGN * thick)
                for _, x, y in ends_b
            ):
                continue
            t_near, x, y = min(ends_b)
            if min(t for t, _, _ in ends_b) < la:  # b is not beyond a's end (the gap is b's)
                continue
            gap = t_near - la
            lo = max(MIN_GAP_T * thick, MIN_GAP_FRAC * s_low)
            hi = min(MAX_GAP_T * thick, MAX_GAP_FRAC * s_high)
            if lo <= gap <= hi and (best is None or gap < best[0]):
                start = (a.x1 + ux * la, a.y1 + uy * la)
                end = (a.x1 + ux * t_near, a.y1 + uy * t_near)
                best = (gap, j, (start[0], start[1], end[0], end[1]))
        if best is None or (min(i, best[1]), max(i, best[1])) in seen:
            continue
        seen.add((min(i, best[1]), max(i, best[1])))
        if not _crossed(walls, tree, best[2], (i, best[1]), work):
            found.append((min(i, best[1]), max(i, best[1]), best[2]))
    return found, work


def _crossed(
    walls: list[Wall], tree: shapely.STRtree, span: Span, pair: tuple[int, int], work: GapWork
) -> bool:
    """Whether another wall's centre line crosses the gap's span (a corridor, a junction).
    Only walls whose box meets the span's (grown by a rounding slack) can cross it."""
    x1, y1, x2, y2 = span
    slack = 1e-6 * (1.0 + max(abs(x1), abs(y1), abs(x2), abs(y2)))
    box = shapely.box(
        min(x1, x2) - slack, min(y1, y2) - slack, max(x1, x2) + slack, max(y1, y2) + slack
    )
    for k in sorted(int(k) for k in tree.query(box)):
        if k in pair:
            continue
        work.crossings += 1
        w = walls[k]
        d1 = (x2 - x1) * (w.y1 - y1) - (y2 - y1) * (w.x1 - x1)
        d2 = (x2 - x1) * (w.y2 - y1) - (y2 - y1) * (w.x2 - x1)
        d3 = (w.x2 - w.x1) * (y1 - w.y1) - (w.y2 - w.y1) * (x1 - w.x1)
        d4 = (w.x2 - w.x1) * (y2 - w.y1) - (w.y2 - w.y1) * (x2 - w.x1)
        if d1 * d2 < 0 and d3 * d4 < 0:
            return True
    return False


def _opening(kind: str, wall: int, span: tuple[float, float, float, float]) -> Opening:
    x1, y1, x2, y2 = span
    width = math.hypot(x2 - x1, y2 - y1)
    return Opening(kind, wall, x1, y1, x2, y2, width)  # type: ignore[arg-type]


def gap_openings(
    walls: list[Wall], page_size: float | None = None, metres_per_unit: float | None = None
) -> list[Opening]:
    """Plain openings (kind "opening") at the gaps between collinear walls; for raster walls.

    ``page_size`` is the drawing's longer side in the walls' units (default: the walls'
    extent), for the page-relative bounds on a gap's width; with ``metres_per_unit`` the
    bounds are metres (``documents.wall_sizes.reference_side``).
    """
    side = page_size if page_size is not None else _extent(walls)
    bounds, widest = _bounds(side, metres_per_unit)
    return [
        _opening("opening", i, span)
        for i, _, span in wall_gaps(walls, bounds)[0]
        if math.hypot(span[2] - span[0], span[3] - span[1]) <= widest
    ]


def _bounds(side: float, metres_per_unit: float | None) -> tuple[tuple[float, float], float]:
    """The sides the gap-width fractions apply to, loosest first for the narrowest and last
    for the widest (a scale misread tenfold must not hide every opening), and the widest
    plain opening: 2.5 m, known only with a scale (a recess's mouth is wider)."""
    scaled = reference_side(side, metres_per_unit)
    widest = PLAIN_MAX_FRAC * scaled if metres_per_unit else math.inf
    return (min(side, scaled), max(side, scaled)), widest


def _extent(walls: list[Wall]) -> float:
    xs = [v for w in walls for v in (w.x1, w.x2)] or [0.0]
    ys = [v for w in walls for v in (w.y1, w.y2)] or [0.0]
    return max(max(xs) - min(xs), max(ys) - min(ys), 1.0)


def _curves(page: Any) -> Array:
    """Bézier curves of the page as rows (start x, y, end x, y, box x0, y0, x1, y1), displayed."""
    rows = []
    for path in page_drawings(page):
        for item in path["items"]:
            if item[0] == "c":
                points = [(p.x, p.y) for p in item[1:5]]
                rows.append(points)
    if not rows:
        return np.zeros((0, 8))
    xy = to_display(np.array(rows, dtype=float).reshape(-1, 2), page).reshape(-1, 4, 2)
    return np.concatenate([xy[:, 0], xy[:, 3], xy.min(axis=1), xy.max(axis=1)], axis=1)


def _door(curves: Array, span: tuple[float, float, float, float], thick: float) -> bool:
    """A curve starting or ending at the gap (near its span), no bigger than the gap."""
    if not len(curves):
        return False
    x1, y1, x2, y2 = span
    gap = math.hypot(x2 - x1, y2 - y1)
    ux, uy = (x2 - x1) / gap, (y2 - y1) / gap
    reach = max(thick, 0.2 * gap)
    for end in (curves[:, 0:2], curves[:, 2:4]):
        along = (end[:, 0] - x1) * ux + (end[:, 1] - y1) * uy
        across = np.abs((end[:, 0] - x1) * uy - (end[:, 1] - y1) * ux)
        size = np.maximum(curves[:, 6] - curves[:, 4], curves[:, 7] - curves[:, 5])
        near = (along >= -reach) & (along <= gap + reach) & (across <= reach)
        if np.any(near & (size >= 0.2 * gap) & (size <= 1.3 * gap)):
            return True
    return False


def _window(segs: Array, span: tuple[float, float, float, float], thick: float) -> bool:
    """At least GLAZING_MIN straight lines along the gap, inside the wall's band, spanning it."""
    x1, y1, x2, y2 = span
    gap = math.hypot(x2 - x1, y2 - y1)
    ux, uy = (x2 - x1) / gap, (y2 - y1) / gap
    a = (segs[:, 0] - x1) * ux + (segs[:, 1] - y1) * uy
    b = (segs[:, 2] - x1) * ux + (segs[:, 3] - y1) * uy
    da = (segs[:, 0] - x1) * uy - (segs[:, 1] - y1) * ux
    db = (segs[:, 2] - x1) * uy - (segs[:, 3] - y1) * ux
    inside = (np.abs(da) <= thick / 2 + 0.5) & (np.abs(da - db) <= 0.5)
    covered = np.minimum(np.maximum(a, b), gap) - np.maximum(np.minimum(a, b), 0.0)
    spanning = inside & (covered >= SPAN_SHARE * gap)
    offsets = np.unique(np.round(da[spanning], 1))
    return len(offsets) >= GLAZING_MIN


def vector_openings(
    page: Any, walls: list[Wall], metres_per_unit: float | None = None
) -> list[Opening]:
    """Doors, windows and plain openings in the gaps between ``walls`` (see the docstring);
    with the page's scale the bounds on a gap's width are metres."""
    bounds, widest = _bounds(max(page.rect.width, page.rect.height), metres_per_unit)
    segs, _ = page_segments(page)
    curves = _curves(page)
    found = []
    for i, j, span in wall_gaps(walls, bounds)[0]:
        thick = max(walls[i].thickness, walls[j].thickness)
        if _door(curves, span, thick):
            kind = "door"
        elif _window(segs, span, thick):
            kind = "window"
        elif math.hypot(span[2] - span[0], span[3] - span[1]) <= widest:
            kind = "opening"
        else:
            continue  # wide, with no door or glazing: the mouth of a recess, not an opening
        found.append(_opening(kind, i, span))
    return found
