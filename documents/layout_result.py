"""A candidate in the shape ``layout`` returns (``GeneratedLayout``, CONTRACT.md).

Rooms and doors keep metres (``polygon_m``, ``span_m``) beside the plan's own units
(``polygon``, ``x1..y2``), so model3d and bom read a layout over its plan as they read the
plan; partitions are new walls in the plan's units with the thickness converted by the
page's scale, and their ``length_m``.
"""

from __future__ import annotations

from typing import Any

import msgspec
from shapely.geometry import LineString, Polygon

from documents.layout_candidate import Candidate
from documents.layout_checks import Score, Validation
from documents.layout_site import Site, polygons

PLACES = 3  # plan units rounded to a thousandth (points, pixels or metres alike)


class LayoutDoor(msgspec.Struct, frozen=True):
    kind: str
    room: str
    to: str
    x1: float
    y1: float
    x2: float
    y2: float
    width_m: float


class LayoutRoom(msgspec.Struct, frozen=True):
    name: str
    type: str  # the program's room name this room answers
    polygon: list[tuple[float, float]]  # plan units, not closed
    area_m2: float
    doors: list[int]  # indexes in the layout's doors
    needs_window: bool


class LayoutPartition(msgspec.Struct, frozen=True):
    x1: float
    y1: float
    x2: float
    y2: float
    thickness: float  # plan units
    length_m: float


class GeneratedLayout(msgspec.Struct, frozen=True):
    rooms: list[LayoutRoom]
    partitions: list[LayoutPartition]
    doors: list[LayoutDoor]
    corridor: list[list[tuple[float, float]]]  # its polygons, plan units
    open_areas: list[dict[str, Any]]
    validation: Validation
    score: Score
    seed: int
    scale: dict[str, Any]
    notes: list[str]


def generated_layout(
    site: Site, candidate: Candidate, validation: Validation, score: Score
) -> GeneratedLayout:
    k = site.metres_per_unit
    doors = []
    for door in candidate.doors:
        (ax, ay), (bx, by) = (site.to_plan(*p) for p in door.span.coords)
        name = candidate.rooms[door.room].name
        doors.append(LayoutDoor("door", name, door.to, *_r(ax, ay, bx, by), _m(door.span)))
    rooms = []
    for index, room in enumerate(candidate.rooms):
        rooms.append(
            LayoutRoom(
                room.name,
                room.kind,
                _ring(site, room.polygon),
                round(room.polygon.area, 2),
                [j for j, d in enumerate(candidate.doors) if d.room == index],
                room.needs_window,
            )
        )
    partitions = []
    thickness = round(candidate.thickness_m / k, PLACES)
    for line in candidate.partitions:
        (ax, ay), (bx, by) = (site.to_plan(*p) for p in line.coords)
        partitions.append(LayoutPartition(*_r(ax, ay, bx, by), thickness, _m(line)))
    corridor = [_ring(site, p) for p in polygons(candidate.corridor)]
    opens = [{"polygon": _ring(site, p), "area_m2": round(p.area, 2)} for p in candidate.open_areas]
    scale = {"metres_per_unit": k}
    return GeneratedLayout(
        rooms,
        partitions,
        doors,
        corridor,
        opens,
        validation,
        score,
        candidate.seed,
        scale,
        site.notes + candidate.notes,
    )


def _ring(site: Site, polygon: Polygon) -> list[tuple[float, float]]:
    coords = list(polygon.exterior.coords)[:-1]
    points = [site.to_plan(x, y) for x, y in coords]
    return [(round(x, PLACES), round(y, PLACES)) for x, y in points]


def _r(ax: float, ay: float, bx: float, by: float) -> tuple[float, float, float, float]:
    return round(ax, PLACES), round(ay, PLACES), round(bx, PLACES), round(by, PLACES)


def _m(line: LineString) -> float:
    return round(float(line.length), 3)
