"""Doors, windows and plain openings: gaps between collinear walls, and what fills them.

A gap is the stretch between the facing ends of two walls on one line (centre lines within
``ALIGN`` of the thicker's thickness, thicknesses alike), at least ``MIN_GAP_T`` wall
thicknesses and ``MIN_GAP_FRAC`` of the page wide, at most ``MAX_GAP_T`` thicknesses and
``MAX_GAP_FRAC`` of the page, with no other wall crossing it. On a vector page a gap with a
curve (a door swing, Bézier ``c`` items) starting at it is a door; one spanned by at least
two straight lines along the wall inside its band (glazing) is a window; otherwise it is a
plain "opening". Thresholds are relative to the wall thickness and the page, as the scale
may be unknown. Coordinates are as displayed, like the walls'.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from documents.drawings import Array, page_drawings, page_segments, to_display
from documents.model import Opening, Wall

ALIGN = 0.3  # centre lines this far apart (of the thicker wall's thickness) are one line
ALIKE = 0.35  # thicknesses within 35 % of each other
MIN_GAP_T = 1.5  # a door is wider than 1.5 wall thicknesses (0.6 m in a 0.4 m wall)
MAX_GAP_T = 25.0  # a window is narrower than 25 thicknesses (3 m in a 0.12 m wall)
MIN_GAP_FRAC = 0.005  # and wider than 6 pt on A3 (0.2 m at 1:100)
MAX_GAP_FRAC = 0.15  # and narrower than 180 pt on A3 (6.3 m at 1:100)
PARALLEL_SIN = 0.03  # walls within 1.7 degrees are parallel
GLAZING_MIN = 2  # straight lines spanning a gap that make it a window
SPAN_SHARE = 0.8  # of the gap a glazing line spans


def _axis(w: Wall) -> tuple[float, float, float]:
    """Unit direction and length of a wall's centre line."""
    length = math.hypot(w.x2 - w.x1, w.y2 - w.y1) or 1e-9
    return (w.x2 - w.x1) / length, (w.y2 - w.y1) / length, length


def _gaps(walls: list[Wall], s: float) -> list[tuple[int, int, tuple[float, float, float, float]]]:
    """Facing ends of collinear walls with a door-to-window-wide gap: (i, j, span)."""
    found = []
    seen: set[tuple[int, int]] = set()
    forward = list(enumerate(walls))
    backward = [(i, Wall(w.x2, w.y2, w.x1, w.y1, w.thickness)) for i, w in forward]
    for i, a in forward + backward:  # looking past either end of each wall
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
            if min(t for t, _, _ in ends) < la:  # b is not beyond a's end (the gap is b's)
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
        if not _crossed(walls, best[2], (i, best[1])):
            found.append((min(i, best[1]), max(i, best[1]), best[2]))
    return found


def _crossed(
    walls: list[Wall], span: tuple[float, float, float, float], pair: tuple[int, int]
) -> bool:
    """Whether another wall's centre line crosses the gap's span (a corridor, a junction)."""
    x1, y1, x2, y2 = span
    for k, w in enumerate(walls):
        if k in pair:
            continue
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


def gap_openings(walls: list[Wall], page_size: float | None = None) -> list[Opening]:
    """Plain openings (kind "opening") at the gaps between collinear walls; for raster walls.

    ``page_size`` is the drawing's longer side in the walls' units (default: the walls'
    extent), for the page-relative bounds on a gap's width.
    """
    s = page_size if page_size is not None else _extent(walls)
    return [_opening("opening", i, span) for i, _, span in _gaps(walls, s)]


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


def vector_openings(page: Any, walls: list[Wall]) -> list[Opening]:
    """Doors, windows and plain openings in the gaps between ``walls`` (see the docstring)."""
    s = max(page.rect.width, page.rect.height)
    segs, _ = page_segments(page)
    curves = _curves(page)
    found = []
    for i, j, span in _gaps(walls, s):
        thick = max(walls[i].thickness, walls[j].thickness)
        if _door(curves, span, thick):
            kind = "door"
        elif _window(segs, span, thick):
            kind = "window"
        else:
            kind = "opening"
        found.append(_opening(kind, i, span))
    return found
