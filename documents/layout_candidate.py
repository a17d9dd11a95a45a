"""One generated layout (a candidate), in the site's metres, and its new partitions.

A candidate is what ``documents.layout_generate`` makes and ``documents.layout_checks``
judges: rooms (each a polygon with the request it answers), the corridor, the open areas
left over, doors, and the new partitions: every room edge that is not on the site's
outline, each shared edge once, as straight centre-line segments.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import shapely
from shapely.geometry import LineString, Polygon
from shapely.geometry.base import BaseGeometry

from documents.layout_site import lines

GRID_M = 0.001  # coordinates are snapped to a millimetre, so shared edges match exactly
CORRIDOR = "corridor"


@dataclass(frozen=True)
class PlacedRoom:
    """Room ``name`` ("office 2"), answering request ``request`` (its ``kind``)."""

    name: str
    kind: str
    request: int
    polygon: Polygon
    min_m2: float
    max_m2: float | None
    needs_window: bool = False


@dataclass(frozen=True)
class Door:
    """A new door: its span (metres), the room it serves and what it opens onto."""

    span: LineString
    room: int
    to: str = CORRIDOR


@dataclass(frozen=True)
class Candidate:
    seed: int
    rooms: list[PlacedRoom]
    corridor: BaseGeometry
    open_areas: list[Polygon]
    doors: list[Door]
    partitions: list[LineString]
    thickness_m: float
    outline_m: float  # the site's perimeter
    notes: list[str] = field(default_factory=list)

    def doors_of(self, room: int) -> list[Door]:
        return [d for d in self.doors if d.room == room]


def snapped(shape: BaseGeometry) -> BaseGeometry:
    return shapely.set_precision(shape, GRID_M)


def partitions_of(
    rooms: list[Polygon], outline: Polygon, existing: BaseGeometry
) -> list[LineString]:
    """The rooms' edges off the outline and off the ``existing`` walls, each once, as
    straight segments."""
    if not rooms:
        return []
    edges = shapely.unary_union([snapped(room).boundary for room in rooms])
    built = outline.exterior.buffer(GRID_M * 5).union(existing.buffer(GRID_M * 5))
    inside = edges.difference(built)
    merged = shapely.line_merge(shapely.unary_union(lines(inside))) if lines(inside) else None
    segments: list[LineString] = []
    for line in lines(merged) if merged is not None else []:
        coords = list(line.simplify(GRID_M).coords)
        for a, b in zip(coords, coords[1:], strict=False):
            segment = LineString([a, b])
            if segment.length > GRID_M * 10:
                segments.append(segment)
    return sorted(segments, key=lambda s: (round(s.bounds[1], 3), round(s.bounds[0], 3)))
