"""Walls from a PDF page's vector drawings (PyMuPDF ``page.get_drawings()``).

A wall is drawn as two parallel face lines (strokes, or the edges of a filled polygon, so a
filled thin rectangle or a ring-shaped outline works too) or as one thick stroke; either
way it comes out as one centre line with its thickness. Per direction (horizontal,
vertical, or any angle for lines long enough), collinear pieces are joined, then:

- dimension lines go: a line with an arrowhead, dot or oblique tick on its axis at an end;
- face lines are paired greedily, nearest first; a line is the face of one wall only, so
  a dimension line or a corridor's far side beside a wall never pairs with its face;
- a pair is no wall when another line lies between (hatching, an inner layer), when two
  more lines repeat its spacing (hatching, stair treads, symbol stripes) or when it is
  short with text between (dimension extension lines around their number);
- pieces of one wall are merged; walls inside a thicker one (hatching, a filled wall's
  outline), squat ones (columns), ones along the page edge (the sheet frame) and short
  ones touching no other wall (furniture, legends, symbols) are dropped.

Size bounds (thinnest and thickest wall, shortest, ...) are metres when the page's scale
is known, else fractions of the page's longer side ``s`` (``documents.wall_sizes``); marks
and joins stay in points. Curves (door swings) and dashed lines are never faces. Output
is in points, as displayed (rotation applied).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from documents.drawings import Array, page_segments, to_display
from documents.glyph_rows import glyph_boxes, in_glyphs
from documents.model import Wall
from documents.wall_filters import MIN_WALL_ASPECT, clean, without_glazing
from documents.wall_sizes import WallSizes

AXIS_SNAP_DEG = 2.0  # lines this close to horizontal/vertical are taken as exactly so
ANGLE_GROUP_DEG = 0.5  # other lines are parallel when their angles differ by less
MIN_ASPECT = 1.0  # a paired piece is at least this many times longer than thick
DIM_PERP_FRAC = 0.0015  # a mark this close to a line's axis, at its end, makes it a dimension
TEXT_ASPECT = 4.0  # a pair shorter than this many gaps with text between is no wall
TICK_PAST_PT = 0.5  # a tick's centre this far past a line's end still marks it
JOIN_PT = 0.5  # collinear pieces of one line closer than this are one line


@dataclass
class _Line:
    """A straight piece in a direction group: offset along the normal, interval along it."""

    d: float
    t0: float
    t1: float
    width: float


def _group(segs: Array, sizes: WallSizes) -> list[tuple[float, NDArray[np.intp]]]:
    """Split segments into groups of one direction (angle in degrees, [0, 180))."""
    dx, dy = segs[:, 2] - segs[:, 0], segs[:, 3] - segs[:, 1]
    length = np.hypot(dx, dy)
    angle = np.degrees(np.arctan2(dy, dx)) % 180.0
    angle[(angle < AXIS_SNAP_DEG) | (angle > 180 - AXIS_SNAP_DEG)] = 0.0
    angle[np.abs(angle - 90.0) < AXIS_SNAP_DEG] = 90.0
    axis = (angle == 0.0) | (angle == 90.0)
    idx = np.flatnonzero((length > 1e-6) & (axis | (length >= sizes.min_diagonal)))
    idx = idx[np.argsort(angle[idx], kind="stable")]
    groups: list[tuple[float, NDArray[np.intp]]] = []
    start = 0
    for k in range(1, len(idx) + 1):
        if k == len(idx) or angle[idx[k]] - angle[idx[k - 1]] > ANGLE_GROUP_DEG:
            members = idx[start:k]
            groups.append((float(np.median(angle[members])), members))
            start = k
    return groups


def _lines(segs: Array, theta: float, tol: float) -> list[_Line]:
    """Project a direction group onto (normal offset, interval) and join collinear pieces."""
    u = np.array([math.cos(math.radians(theta)), math.sin(math.radians(theta))])
    d = (segs[:, 0:2] + segs[:, 2:4]) @ np.array([-u[1], u[0]]) / 2
    ta, tb = segs[:, 0:2] @ u, segs[:, 2:4] @ u
    raw = [
        _Line(float(d[k]), float(min(ta[k], tb[k])), float(max(ta[k], tb[k])), float(segs[k, 4]))
        for k in range(len(segs))
    ]
    raw.sort(key=lambda line: line.d)
    joined: list[_Line] = []
    k = 0
    while k < len(raw):
        m = k
        while m + 1 < len(raw) and raw[m + 1].d - raw[k].d <= tol:
            m += 1
        band = sorted(raw[k : m + 1], key=lambda line: line.t0)
        d_mean = sum(line.d for line in band) / len(band)
        current = _Line(d_mean, band[0].t0, band[0].t1, band[0].width)
        for line in band[1:]:
            if line.t0 <= current.t1 + max(JOIN_PT, line.width, current.width):
                current.t1 = max(current.t1, line.t1)
                current.width = max(current.width, line.width)
            else:
                joined.append(current)
                current = _Line(d_mean, line.t0, line.t1, line.width)
        joined.append(current)
        k = m + 1
    return joined


def _subtract(pieces: list[tuple[float, float]], a: float, b: float) -> list[tuple[float, float]]:
    """The intervals ``pieces`` without [a, b]."""
    out = []
    for p0, p1 in pieces:
        out += [q for q in ((p0, min(p1, a)), (max(p0, b), p1)) if q[1] > q[0]]
    return out


def _dimensions(lines: list[_Line], marks: Array, u: Array, s: float) -> list[bool]:
    """Which lines have an arrowhead, dot or oblique tick on their axis at one end.

    Ticks must cross at 20-70 degrees (a stroke square to a line is a wall's end cap) and
    through their middle half (a clipped hatch stroke only ends on the line).
    """
    skew = np.abs((marks[:, 3] - math.degrees(math.atan2(u[1], u[0])) + 90) % 180 - 90)
    tick = ~np.isnan(marks[:, 3])
    marks, skew, tick = [x[~tick | ((skew >= 20) & (skew <= 70))] for x in (marks, skew, tick)]
    half_span = 0.25 * marks[:, 2] * np.sin(np.radians(np.nan_to_num(skew)))
    across = np.where(tick, half_span, max(1.0, DIM_PERP_FRAC * s))
    mt, md = marks[:, :2] @ u, marks[:, :2] @ np.array([-u[1], u[0]])
    reach = np.maximum(1.0, 0.6 * marks[:, 2])
    order = np.argsort(md)
    mt, md, reach, across = mt[order], md[order], reach[order], across[order]
    past = np.where(tick[order], TICK_PAST_PT, 1.0)
    widest = float(across.max()) if len(across) else 0.0
    flags = []
    for line in lines:
        k = slice(
            np.searchsorted(md, line.d - widest), np.searchsorted(md, line.d + widest, "right")
        )
        on_axis = np.abs(md[k] - line.d) <= across[k]
        # On the line's own side of its end: an arrowhead touching a wall's end is not on it.
        # A tick sits on the line's end; a hatch stroke of the wall across it stops short
        # of a face that ends at that wall (0.9 pt at 1:200), so past the end only
        # arrowheads and dots (whose tips reach the end) get the 1 pt.
        at_start = (mt[k] >= line.t0 - past[k]) & (mt[k] <= line.t0 + reach[k])
        at_end = (mt[k] <= line.t1 + past[k]) & (mt[k] >= line.t1 - reach[k])
        flags.append(bool(np.any(on_axis & (at_start | at_end))))
    return flags


def _pair(lines: list[_Line], sizes: WallSizes, words: Array, u: Array) -> list[_Line]:
    """Pair thin parallel face lines, nearest first; returns walls (width = thickness).

    A pair with two more lines beside it at the same spacing is a regular family of
    strokes (hatching, stair treads, symbols), not a wall.
    """
    min_gap, max_gap, min_len = sizes.min_gap, sizes.max_gap, sizes.min_wall
    d = np.array([line.d for line in lines])
    t0 = np.array([line.t0 for line in lines])
    t1 = np.array([line.t1 for line in lines])
    candidates = []
    for i in range(len(lines)):
        lo, hi = np.searchsorted(d, d[i] + min_gap), np.searchsorted(d, d[i] + max_gap, "right")
        js = np.arange(lo, hi)
        overlap = np.minimum(t1[i], t1[js]) - np.maximum(t0[i], t0[js])
        for j in js[overlap >= np.maximum(min_len, MIN_ASPECT * (d[js] - d[i]))]:
            candidates.append((d[j] - d[i], i, int(j)))
    candidates.sort()
    claimed: list[list[tuple[float, float]]] = [[] for _ in lines]
    walls = []
    wt, wd = words @ u, words @ np.array([-u[1], u[0]])
    for gap, i, j in candidates:
        a, b = max(t0[i], t0[j]), min(t1[i], t1[j])
        near = slice(np.searchsorted(d, d[i] - 2.6 * gap), np.searchsorted(d, d[j] + 2.6 * gap))
        steps = (d[near] - d[i]) / gap  # nearby lines, in multiples of this gap from line i
        repeat = (np.abs(steps - np.round(steps)) < 0.12) & (np.abs(steps - 0.5) > 1)
        along = np.minimum(t1[near], b) - np.maximum(t0[near], a) > 0.75 * (b - a)
        if np.count_nonzero(repeat & (np.abs(steps - 0.5) < 3) & along) > 1:
            continue  # two more lines at the same spacing: hatching, stair treads, symbols
        free = [(a, b)]
        for c0, c1 in claimed[i] + claimed[j]:
            free = _subtract(free, c0, c1)
        ks = np.arange(i + 1, j)  # d is sorted: the lines between i and j
        for k in ks[(d[ks] > d[i] + 1e-6) & (d[ks] < d[j] - 1e-6) & (t0[ks] < b) & (t1[ks] > a)]:
            free = _subtract(free, t0[k], t1[k])
        for p0, p1 in free:
            if p1 - p0 < max(min_len, MIN_ASPECT * gap):
                continue
            if p1 - p0 < TEXT_ASPECT * gap and np.any(
                (wt > p0) & (wt < p1) & (wd > d[i]) & (wd < d[j])
            ):
                continue  # short lines with text between: dimension extension lines
            walls.append(_Line(float(d[i] + d[j]) / 2, p0, p1, float(gap)))
            claimed[i].append((p0, p1))
            claimed[j].append((p0, p1))
    return walls


def _merge(walls: list[_Line], sizes: WallSizes) -> list[_Line]:
    """Join collinear wall pieces of a similar thickness (split by junctions or seams)."""
    bands: list[list[_Line]] = []  # runs of walls at about the same offset
    for w in sorted(walls, key=lambda w: w.d):
        if bands and w.d - bands[-1][-1].d <= max(1.0, 0.3 * w.width):
            bands[-1].append(w)
        else:
            bands.append([w])
    merged: list[_Line] = []
    for band in bands:
        done = len(merged)
        for w in sorted(band, key=lambda w: w.t0):
            for m in merged[done:]:
                thick = max(w.width, m.width)
                if (
                    abs(w.d - m.d) <= max(1.0, 0.3 * thick)
                    and abs(w.width - m.width) <= max(1.0, 0.35 * thick)
                    and w.t0 <= m.t1 + max(1.5 * thick, sizes.merge_gap)
                ):
                    total = (m.t1 - m.t0) + (w.t1 - w.t0)
                    m.d = (m.d * (m.t1 - m.t0) + w.d * (w.t1 - w.t0)) / total
                    m.width = (m.width * (m.t1 - m.t0) + w.width * (w.t1 - w.t0)) / total
                    m.t1 = max(m.t1, w.t1)
                    break
            else:
                merged.append(_Line(w.d, w.t0, w.t1, w.width))
    return merged


def _unpaired(lines: list[_Line], sizes: WallSizes) -> list[_Line]:
    """Strokes at least ``lone_stroke`` wide (thinner than a thick stroke) with no parallel
    line as heavy beside them at a wall's spacing along most of their length: a wall drawn
    as one line at a small scale (0.1 m at 1:200 is 1.4 pt), not one face of a pair."""
    heavy = [x for x in lines if sizes.lone_stroke <= x.width < sizes.thick_stroke]
    if not heavy:
        return []
    ordered = sorted(lines, key=lambda x: x.d)
    d = np.array([x.d for x in ordered])
    out = []
    for w in heavy:
        lo = np.searchsorted(d, w.d - sizes.face_gap)
        hi = np.searchsorted(d, w.d + sizes.face_gap, "right")
        # A face's partner is drawn with the same pen.
        paired = any(
            m is not w
            and abs(m.d - w.d) >= sizes.min_gap
            and abs(m.width - w.width) <= 0.35 * w.width
            and min(m.t1, w.t1) - max(m.t0, w.t0) >= 0.5 * (w.t1 - w.t0)
            for m in ordered[lo:hi]
        )
        if not paired:
            out.append(_Line(w.d, w.t0, w.t1, w.width))
    return out


def _in_line(w: _Line, walls: list[_Line], offsets: NDArray[np.float64], sizes: WallSizes) -> bool:
    """Whether another wall as thick continues ``w``'s line within a window's width: then a
    short piece is a wall's stub between a window and a corner, not a column. ``walls`` are
    sorted by offset (``offsets``), so only those at ``w``'s are looked at."""
    band = max(1.0, 0.3 * w.width)
    lo, hi = np.searchsorted(offsets, w.d - band), np.searchsorted(offsets, w.d + band, "right")
    for m in walls[lo:hi]:
        if m is w or abs(m.width - w.width) > max(1.0, 0.35 * max(m.width, w.width)):
            continue
        gap = max(m.t0 - w.t1, w.t0 - m.t1)
        if 0 < gap <= sizes.window:
            return True
    return False


def vector_walls(page: Any, metres_per_unit: float | None = None) -> list[Wall]:
    """Walls of a PDF page from its vector drawings, in points (see the module docstring);
    with the page's scale, its size bounds are metres (``documents.wall_sizes``)."""
    width, height = page.rect.width, page.rect.height
    s = max(width, height)
    segs, marks = page_segments(page)
    if not len(segs):
        return []
    words = to_display(
        [((w[0] + w[2]) / 2, (w[1] + w[3]) / 2) for w in page.get_text("words")], page
    )
    sizes = WallSizes.of(s, metres_per_unit)
    walls: list[Wall] = []
    for theta, members in _group(segs, sizes):
        u = np.array([math.cos(math.radians(theta)), math.sin(math.radians(theta))])
        n = np.array([-u[1], u[0]])
        group = segs[members]
        thick, tol = group[:, 4] >= sizes.thick_stroke, sizes.min_gap / 2
        lines = _lines(group[~thick], theta, tol)
        dims = _dimensions(lines, marks, u, s)
        faces = [x for x, dim in zip(lines, dims, strict=True) if not dim]
        found = _pair(faces, sizes, words, u)
        found += _lines(group[thick], theta, tol)  # a thick stroke: width = thickness
        found += _unpaired(faces, sizes)  # a heavy one no line pairs with, at its scale
        merged = sorted(_merge(found, sizes), key=lambda w: w.d)
        offsets = np.array([w.d for w in merged])
        for w in merged:
            if w.t1 - w.t0 < sizes.min_wall:
                continue
            squat = w.t1 - w.t0 < MIN_WALL_ASPECT * w.width
            if squat and not _in_line(w, merged, offsets, sizes):
                continue  # squat and alone: a column, a symbol
            p, q = w.t0 * u + w.d * n, w.t1 * u + w.d * n
            walls.append(Wall(float(p[0]), float(p[1]), float(q[0]), float(q[1]), float(w.width)))
    walls = clean(walls, width, height, sizes)
    boxes = glyph_boxes(page)
    if len(boxes) and walls:
        ends = np.array([(w.x1, w.y1, w.x2, w.y2) for w in walls])
        lettered = in_glyphs(ends[:, :2], boxes) & in_glyphs(ends[:, 2:], boxes)
        walls = [w for w, drop in zip(walls, lettered, strict=True) if not drop]
    return without_glazing(walls)
