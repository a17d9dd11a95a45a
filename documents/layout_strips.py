"""Strips: the floor between the corridor and the outline, cut into rooms.

What the corridor leaves of the site falls into pieces; each piece is a strip along its
longest contact with the corridor, and rooms are slices of it across that contact, one
after the other, each cut where the slice reaches its area (bisection on the area, so a
strip of any shape works). A cut that would land on a window moves to the window's nearer
jamb. Each room gets a door on its longest straight edge shared with the corridor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import shapely
from shapely.geometry import LineString, Polygon
from shapely.geometry.base import BaseGeometry

from documents.layout_site import Site, lines, polygons

DOOR_M = 0.9  # a door's clear width
JAMB_M = 0.1  # at least this much wall between a door and a corner
BISECTIONS = 40
BIG = 1e6


@dataclass(frozen=True)
class Strip:
    """A piece of floor beside the corridor. ``axis`` 0: rooms follow one another along x
    (cuts are lines of constant x), 1: along y. Ranges are along that axis."""

    piece: Polygon
    axis: int
    span: tuple[float, float]
    contact: tuple[float, float]
    windows: list[tuple[float, float]]
    walls: list[float]  # existing walls across the strip: where along the axis
    avoid: list[tuple[float, float]]  # where no cut may go: windows, openings inside

    @property
    def area(self) -> float:
        return float(self.piece.area)

    @property
    def depth(self) -> float:
        """The mean depth across the axis."""
        return self.area / max(self.span[1] - self.span[0], 1e-9)

    def slab(self, a: float, b: float) -> BaseGeometry:
        """The part of the piece between ``a`` and ``b`` along the axis (empty when the
        strip is used up: GEOS refuses a rectangle of no width)."""
        if b - a <= 1e-9:
            return Polygon()
        x0, y0, x1, y1 = self.piece.bounds
        if self.axis == 0:
            return shapely.clip_by_rect(self.piece, a, y0 - 1, b, y1 + 1)
        return shapely.clip_by_rect(self.piece, x0 - 1, a, x1 + 1, b)


def strips_of(pieces: list[Polygon], corridor: BaseGeometry, site: Site) -> list[Strip]:
    """A strip per piece that touches the corridor."""
    out = []
    reach = corridor.buffer(1e-3)
    for piece in pieces:
        touching = lines(piece.boundary.intersection(reach))
        along = [0.0, 0.0]
        for line in touching:
            x0, y0, x1, y1 = line.bounds
            along[0] += x1 - x0
            along[1] += y1 - y0
        if max(along) < DOOR_M:
            continue
        axis = 0 if along[0] >= along[1] else 1
        contact = shapely.unary_union(touching).bounds
        x0, y0, x1, y1 = piece.bounds
        span = (x0, x1) if axis == 0 else (y0, y1)
        near = (contact[0], contact[2]) if axis == 0 else (contact[1], contact[3])
        windows = _windows(piece, axis, site)
        walls = _walls_across(piece, axis, site)
        avoid = windows + _openings_along(piece, axis, site)
        out.append(Strip(piece, axis, span, near, windows, walls, avoid))
    return out


def _openings_along(piece: Polygon, axis: int, site: Site) -> list[tuple[float, float]]:
    """Existing openings a cut across the axis could run through: inside the piece, or
    doors and plain openings in the outer walls along it (windows are the strip's own)."""
    found = []
    for opening in site.openings:
        if opening.on_outline:
            if opening.kind == "window" or opening.face is None:
                continue
            if piece.boundary.distance(opening.face) > 1e-3:
                continue
            x0, y0, x1, y1 = opening.face.bounds
        elif opening.zone.intersects(piece):
            x0, y0, x1, y1 = opening.span.bounds
        else:
            continue
        found.append((x0, x1) if axis == 0 else (y0, y1))
    return found


def _walls_across(piece: Polygon, axis: int, site: Site) -> list[float]:
    """Existing walls that run across the strip (most of its depth): a cut there reuses
    them instead of building a partition beside them."""
    found = []
    for line, _ in site.inner_lines():
        inside = piece.intersection(line)
        x0, y0, x1, y1 = line.bounds
        across = (y1 - y0) if axis == 0 else (x1 - x0)
        if inside.length > 1.0 and across > 0.9 * line.length:
            found.append((x0 + x1) / 2 if axis == 0 else (y0 + y1) / 2)
    return found


def _windows(piece: Polygon, axis: int, site: Site) -> list[tuple[float, float]]:
    found = []
    for window in site.windows:
        assert window.face is not None
        if piece.boundary.distance(window.face) > 1e-3:
            continue
        x0, y0, x1, y1 = window.face.bounds
        found.append((x0, x1) if axis == 0 else (y0, y1))
    return found


def cut(
    strip: Strip, targets: list[float], from_low: bool, keep_clear: float, least: float = 0.0
) -> tuple[list[Polygon], list[Polygon]]:
    """Slices of ``targets`` m2, from the low end of the strip (or the high one); the
    rest of the strip comes back as left over. A cut is kept ``keep_clear`` from windows
    and openings; moving it onto a wall or off a window never makes a slice narrower than
    ``least``."""
    low, high = strip.span
    rooms: list[Polygon] = []
    rest: list[Polygon] = []
    at = low if from_low else high
    for k, target in enumerate(targets):
        last = k == len(targets) - 1 and target >= BIG
        if last:
            end = high if from_low else low
        else:
            end = _reach(strip, at, target, from_low)
            end = _on_walls(strip, end, at, least)
            end = _clear_of_windows(strip, end, keep_clear, at, least)
        a, b = (at, end) if from_low else (end, at)
        slab = sorted(polygons(strip.slab(a, b)), key=lambda p: -p.area)
        if slab:  # a slice of a ragged strip may fall apart: its main part is the room
            rooms.append(slab[0])
            rest += slab[1:]
        at = end
    a, b = (at, high) if from_low else (low, at)
    rest += polygons(strip.slab(a, b)) if b - a > 1e-6 else []
    return rooms, [p for p in rest if p.area > 1e-3]


def _reach(strip: Strip, start: float, area: float, from_low: bool) -> float:
    """Where a slice from ``start`` reaches ``area`` (or the strip's end)."""
    low, high = strip.span
    lo, hi = (start, high) if from_low else (low, start)

    def slice_area(u: float) -> float:
        return float(strip.slab(start, u).area if from_low else strip.slab(u, start).area)

    far = hi if from_low else lo
    if slice_area(far) <= area:
        return far
    for _ in range(BISECTIONS):
        mid = (lo + hi) / 2
        more = slice_area(mid) > area
        if from_low:
            lo, hi = (lo, mid) if more else (mid, hi)
        else:
            lo, hi = (mid, hi) if more else (lo, mid)
    return (lo + hi) / 2


def _on_walls(strip: Strip, u: float, start: float, least: float) -> float:
    """``u`` moved onto an existing wall across the strip within 15 % of the slice."""
    reach = max(0.3, 0.15 * abs(u - start))
    near = [
        w
        for w in strip.walls
        if abs(w - u) <= reach and (w - start) * (u - start) > 0 and abs(w - start) >= least
    ]
    return min(near, key=lambda w: abs(w - u)) if near else u


def _clear_of_windows(strip: Strip, u: float, clear: float, start: float, least: float) -> float:
    for a, b in strip.avoid:
        if a - clear < u < b + clear:
            options = [a - clear, b + clear]
            # Towards the start would leave no room (or too narrow a one): only away then.
            options = [
                o
                for o in options
                if abs(o - start) > max(least, 1e-6) and (o - start) * (u - start) > 0
            ]
            if options:
                return min(options, key=lambda o: abs(o - u))
    return u


def door(room: Polygon, corridor: BaseGeometry) -> LineString | None:
    """A door on the room's longest straight edge along the corridor, in its middle."""
    shared = lines(room.boundary.intersection(corridor.buffer(1e-3)))
    best: tuple[float, float] | None = None
    best_segment: tuple[tuple[float, float], tuple[float, float]] | None = None
    for line in shared:
        coords = list(line.coords)
        for a, b in zip(coords, coords[1:], strict=False):
            length = math.dist(a, b)
            if best is None or length > best[0]:
                best, best_segment = (length, 0.0), ((a[0], a[1]), (b[0], b[1]))
    if best is None or best_segment is None or best[0] < 0.6 + 2 * JAMB_M:
        return None
    length = best[0]
    width = min(DOOR_M, length - 2 * JAMB_M)
    segment = LineString(best_segment)
    return LineString(
        [segment.interpolate((length - width) / 2), segment.interpolate((length + width) / 2)]
    )
