"""Straight edges and dimension marks from a PDF page's vector drawings (PyMuPDF).

``page.get_drawings()`` gives paths of items: ``("l", p1, p2)`` lines, ``("c", p1, p2,
p3, p4)`` Bézier curves, ``("re", rect, orientation)`` rectangles and ``("qu", quad)``
quads, with ``type`` "f" (fill), "s" (stroke) or "fs", ``color``, ``fill``, ``width`` and
``dashes``. Coordinates are the unrotated page's; everything here is returned as displayed
(``page.rotation_matrix`` applied), the same frame as ``page.rect`` and rendered pixmaps.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

MARK_FRAC = 0.012  # arrowheads, dots and ticks are at most this big (of the page's side)
TWIN_SIN = 0.09  # strokes within 5 degrees (sin 5° = 0.09) of each other are parallel
TWIN_BAND = 1.3  # lengths within 30 % of each other are alike (see _ticks)
TICK_ROWS = 256  # strokes compared at once with their neighbours (bounds the memory)


def white(color: Any) -> bool:
    """A colour too light to see on paper (masks, erasers)."""
    return color is not None and len(color) > 0 and min(color) > 0.95


def _edges(path: dict[str, Any]) -> list[tuple[Any, Any]]:
    """Straight edges of a path; subpaths that are filled or closed get their closing edge."""
    close = bool(path.get("fill") is not None or path.get("closePath"))
    edges: list[tuple[Any, Any]] = []
    start = last = None

    def finish() -> None:
        if close and start is not None and last is not None and abs(last - start) > 1e-3:
            edges.append((last, start))

    for item in path["items"]:
        if item[0] in ("l", "c"):  # curves (door swings, symbols) only move the pen
            if last is None or abs(item[1] - last) > 1e-3:
                finish()
                start = item[1]
            if item[0] == "l":
                edges.append((item[1], item[2]))
            last = item[-1]
        elif item[0] in ("re", "qu"):
            finish()
            q = item[1].quad if item[0] == "re" else item[1]
            corners = [q.ul, q.ur, q.lr, q.ll]
            edges += [(corners[k], corners[(k + 1) % 4]) for k in range(4)]
            start = last = None
    finish()
    return edges


def to_display(points: Any, page: Any) -> Array:
    """Unrotated page coordinates (as get_drawings/get_text give them) -> displayed ones."""
    m = page.rotation_matrix
    xy = np.asarray(points, dtype=float).reshape(-1, 2)
    return np.stack(
        [m.a * xy[:, 0] + m.c * xy[:, 1] + m.e, m.b * xy[:, 0] + m.d * xy[:, 1] + m.f], 1
    )


def straight_edges(items: list[Any], quads: bool = True) -> list[tuple[float, float, float, float]]:
    """The straight edges (x1, y1, x2, y2, unrotated) of a path's items from
    ``get_cdrawings``: lines, rectangles' four sides and, if ``quads``, quads' sides."""
    rows: list[tuple[float, float, float, float]] = []
    for item in items:
        if item[0] == "l":
            rows.append((*item[1], *item[2]))
        elif item[0] == "re":
            x0, y0, x1, y1 = item[1]
            rows += [(x0, y0, x1, y0), (x1, y0, x1, y1), (x1, y1, x0, y1), (x0, y1, x0, y0)]
        elif item[0] == "qu" and quads:
            q = [tuple(p) for p in item[1]]  # ul, ur, ll, lr
            for a, b in ((0, 1), (1, 3), (3, 2), (2, 0)):
                rows.append((*q[a], *q[b]))
    return rows


@functools.lru_cache(maxsize=1)
def page_drawings(page: Any) -> list[dict[str, Any]]:
    """``page.get_drawings()``, read once for the page that ingest is on: walls, openings
    and lettering all look at the same paths (``forget_page`` lets it go)."""
    return list(page.get_drawings())


@functools.lru_cache(maxsize=1)
def page_cdrawings(page: Any) -> list[dict[str, Any]]:
    """``page.get_cdrawings()`` (raw tuples, faster), read once for the page."""
    return list(page.get_cdrawings())


def forget_page() -> None:
    """Drop what was read of the last page (and with it its document)."""
    for cached in (page_drawings, page_cdrawings, page_segments):
        cached.cache_clear()


@functools.lru_cache(maxsize=1)
def page_segments(page: Any) -> tuple[Array, Array]:
    """Visible straight edges (x1, y1, x2, y2, stroke width) and marks (x, y, size, angle).

    Dashed paths (hidden edges, axes) and white ones are skipped. Marks are small filled
    shapes (arrowheads, dots; angle NaN) and short strokes without a parallel twin close by
    (ticks; a short stroke with a twin is hatching).
    """
    s = max(page.rect.width, page.rect.height)
    edges: list[tuple[float, float, float, float, float, bool]] = []
    boxes: list[tuple[float, float, float, float]] = []
    for path in page_drawings(page):
        if path.get("dashes") not in (None, "[] 0", "[] 0.0"):
            continue
        stroke = "s" in path["type"] and path.get("color") is not None
        fill = "f" in path["type"] and path.get("fill") is not None
        stroke, fill = stroke and not white(path["color"]), fill and not white(path["fill"])
        if not (stroke or fill):
            continue
        width = float(path.get("width") or 0.0) if stroke else 0.0
        box = path["rect"]
        if fill and max(box.width, box.height) <= MARK_FRAC * s:
            boxes.append((box.x0, box.y0, box.x1, box.y1))
        edges += [(p.x, p.y, q.x, q.y, width, fill) for p, q in _edges(path)]
    raw = np.array(edges, dtype=float).reshape(-1, 6)
    segs = np.concatenate(
        [to_display(raw[:, 0:2], page), to_display(raw[:, 2:4], page), raw[:, 4:5]], axis=1
    )
    corners = np.array(boxes, dtype=float).reshape(-1, 4)
    a, b = to_display(corners[:, 0:2], page), to_display(corners[:, 2:4], page)
    size = np.abs(a - b).max(axis=1, initial=0.0)
    marks = np.stack([(a[:, 0] + b[:, 0]) / 2, (a[:, 1] + b[:, 1]) / 2, size, size * np.nan], 1)
    length = np.hypot(segs[:, 2] - segs[:, 0], segs[:, 3] - segs[:, 1])
    short = (raw[:, 5] == 0) & (length <= MARK_FRAC * s) & (length > 1e-6)
    return segs, np.concatenate([marks, _ticks(segs[short, :4])])


_NONE = np.zeros(0, dtype=np.int64)


def _cells(keys: NDArray[np.int64], members: NDArray[np.intp]) -> dict[tuple[int, int], Any]:
    """``members`` grouped by their grid cell (``keys``, one row per member)."""
    if len(members) == 0:
        return {}
    order = np.lexsort((keys[:, 1], keys[:, 0]))
    keys, members = keys[order], members[order]
    starts = np.flatnonzero(np.any(np.diff(keys, axis=0) != 0, axis=1)) + 1
    bounds = zip(np.r_[0, starts], np.r_[starts, len(keys)], strict=True)
    return {(int(keys[a, 0]), int(keys[a, 1])): members[a:z] for a, z in bounds}


def _ticks(strokes: Array) -> Array:
    """Short strokes with no parallel twin of a similar length nearby, as marks."""
    mid = (strokes[:, :2] + strokes[:, 2:]) / 2
    vec = strokes[:, 2:] - strokes[:, :2]
    length = np.hypot(vec[:, 0], vec[:, 1])
    unit = vec / np.maximum(length, 1e-9)[:, None]
    lone = np.ones(len(mid), dtype=bool)
    # A twin lies within length[i] of stroke i and is within 30 % of its length, so it is
    # in stroke i's band of lengths or the two below or the one above (bands grow by
    # TWIN_BAND). Per band, a grid of cells as wide as the longest twin has each stroke
    # look at 3 x 3 cells: strokes crowded into one strip no longer see each other all.
    band = np.floor(np.log(np.maximum(length, 1e-9)) / np.log(TWIN_BAND)).astype(np.int64)
    for b in np.unique(band):
        pool = np.flatnonzero((band >= b - 2) & (band <= b + 1))
        # Cells at least as wide as the longest twin; wider where strokes are sparse, so
        # that a cell holds some 16 of them (each cell costs a Python step).
        extent = np.ptp(mid[pool], axis=0) + 1.0
        size = max(TWIN_BAND ** float(b + 2), math.sqrt(extent[0] * extent[1] * 16 / len(pool)))
        cells = _cells(np.floor(mid[pool] / size).astype(np.int64), pool)
        asking = np.flatnonzero(band == b)
        for (cx, cy), members in _cells(
            np.floor(mid[asking] / size).astype(np.int64), asking
        ).items():
            j = np.concatenate(
                [cells.get((cx + dx, cy + dy), _NONE) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
            )
            # In rows of TICK_ROWS: strokes stacked on one spot (duplicated geometry) would
            # make one matrix of their count squared.
            for i in np.array_split(members, -(-len(members) // TICK_ROWS)):
                cross = unit[i, :1] * unit[j, 1] - unit[i, 1:] * unit[j, 0]
                dist = np.hypot(mid[j, 0] - mid[i, :1], mid[j, 1] - mid[i, 1:])
                twin = (np.abs(cross) < TWIN_SIN) & (dist <= length[i, None]) & (j != i[:, None])
                twin &= np.abs(length[j] - length[i, None]) <= 0.3 * length[i, None]
                lone[i] = ~twin.any(axis=1)
    angle = np.degrees(np.arctan2(vec[:, 1], vec[:, 0])) % 180
    return np.stack([mid[:, 0], mid[:, 1], length, angle], 1)[lone]
