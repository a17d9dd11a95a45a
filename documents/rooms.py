"""Rooms: the closed spaces between a page's walls, their labels, and which walls are exterior.

Each wall becomes its rectangle (its thickness, at least half the page's typical one);
openings close their gaps with a piece of wall, and so does a wall end whose line meets
another wall within a door's width (a door the openings step missed). A small closing
(half the typical thickness) seals walls that stop a little short of each other. The holes
of that union are rooms when they are big and wide enough; a hole around another building
(a sheet frame, a site boundary) is outside instead. The footprint is the union with its
room holes filled; a wall is exterior when a point just beyond either face, at one of the
stations along it, lies outside the footprint. Names come from ``documents.room_labels``,
adjacency from ``documents.room_graph``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import LineString, Polygon
from shapely.geometry.base import BaseGeometry

from documents.model import Opening, Room, Wall
from documents.room_graph import adjacency, face_points
from documents.room_labels import Word, label

Geometries = NDArray[np.object_]

# Without a scale sizes follow the page's typical (median) wall thickness: a door is at
# most DOOR_T of them wide, a room at least ROOM_T of them across.
DOOR_T, ROOM_T = 10.0, 1.5
ROOM_SIDE_T = 4.0  # ...and a room's area at least a square this many of them on a side
# With a scale: a door or passage the missing-opening rule closes (double doors are 1.8 m,
# a corridor left open 2 m), the smallest room (a shower, a closet), a typical wall.
DOOR_M, ROOM_M2, WALL_M = 1.6, 0.5, 0.15
# A wall broken by a window or a wide opening goes on along the same line: gaps up to
# this wide between the pieces of one line are closed too (the widest windows, 3.5 m).
WINDOW_M, WINDOW_T = 3.5, 20.0
# Rooms that are all their walls enclose, together smaller than this, are no building: the
# counters of outlined letters (an "O" in a title is a 1 m2 "room" at 1:100).
BUILDING_M2, BUILDING_T = 4.0, 10.0
PARALLEL_SIN = 0.03  # walls within 1.7 degrees are parallel
THIN_FRACTION = 0.5  # a wall is drawn at least this share of the typical thickness
OUTSIDE_SHARE = 0.1  # a hole around another body this big (of its area) is outside
OUTSIDE_PAGE = 0.5  # so is a hole covering half the page


@dataclass(frozen=True)
class Sizes:
    """Page-unit sizes the rules use, from the walls and the scale when it is known."""

    thickness: float  # typical wall thickness
    door: float  # widest gap a wall end is extended across to any wall
    window: float  # widest gap it is extended across to the wall continuing its line
    min_area: float
    min_width: float
    min_building: float  # the rooms of one body of walls together

    @classmethod
    def of(cls, walls: list[Wall], page_size: tuple[float, float], mpu: float | None) -> Sizes:
        drawn = [w.thickness for w in walls if w.thickness > 0]
        if drawn:
            typical = float(np.median(drawn))
        elif mpu:
            typical = WALL_M / mpu
        else:  # a hand-written list without thicknesses: 1/500 of the page's diagonal
            typical = math.hypot(*page_size) / 500
        width = ROOM_T * typical
        if mpu:
            return cls(
                typical,
                DOOR_M / mpu,
                WINDOW_M / mpu,
                ROOM_M2 / mpu**2,
                width,
                BUILDING_M2 / mpu**2,
            )
        least = (ROOM_SIDE_T * typical) ** 2
        return cls(
            typical,
            DOOR_T * typical,
            WINDOW_T * typical,
            least,
            width,
            (BUILDING_T * typical) ** 2,
        )


def find_rooms(
    walls: list[Wall],
    openings: list[Opening],
    words: list[Word],
    page_size: tuple[float, float],
    metres_per_unit: float | None = None,
) -> tuple[list[Room], list[Wall]]:
    """The page's rooms, and its walls (same order) with ``exterior`` set.

    ``words``: the page's words ``(text, (x0, y0, x1, y1))`` in the walls' frame;
    ``page_size``: (width, height) in the same units; ``metres_per_unit`` when the scale is
    known (sizes then follow metres, else the typical wall thickness). Room areas are page
    units squared. ``exterior`` stays None when no room is found around or beside a wall.
    """
    if not walls:
        return [], []
    sizes = Sizes.of(walls, page_size, metres_per_unit)
    widths = np.array([max(w.thickness, THIN_FRACTION * sizes.thickness) for w in walls])
    bodies = _bodies(walls, widths)
    closers = _opening_bodies(openings, walls, widths, sizes) + _bridges(
        walls, widths, bodies, sizes
    )
    solid = shapely.union_all(np.concatenate([bodies, np.array(closers, dtype=object)]))
    eps = sizes.thickness / 2
    solid = solid.buffer(eps, join_style="mitre").buffer(-eps, join_style="mitre")
    parts = [p for p in shapely.get_parts(solid) if isinstance(p, Polygon) and not p.is_empty]
    spaces, outside, building = _spaces(parts, sizes, page_size)
    if not spaces:
        return [], [_with_exterior(w, None) for w in walls]
    footprint = shapely.union_all(
        [shapely.difference(Polygon(p.exterior), shapely.union_all(outside)) for p in parts]
    )
    # Where a wall piece was missed the outside leaks into a room, and the walls around it
    # would be called exterior: the envelope is also sealed across gaps up to a door wide
    # (missed openings) and filled (see _exterior).
    seal = sizes.door / 2
    sealed = solid.buffer(seal, join_style="mitre").buffer(-seal, join_style="mitre")
    envelope = shapely.union_all(
        [Polygon(p.exterior) for p in shapely.get_parts(sealed) if isinstance(p, Polygon)]
    )
    exterior = _exterior(walls, widths, parts, building, (footprint, envelope), sizes)
    spaces.sort(key=lambda s: (round(s.bounds[1], 3), s.bounds[0]))  # top to bottom
    rooms = _rooms(spaces, words, sizes)
    linked = adjacency(rooms, spaces, walls, widths, openings, sizes.thickness)
    return linked, [_with_exterior(w, e) for w, e in zip(walls, exterior, strict=True)]


def _with_exterior(wall: Wall, exterior: bool | None) -> Wall:
    return Wall(wall.x1, wall.y1, wall.x2, wall.y2, wall.thickness, exterior)


def _bodies(walls: list[Wall], widths: NDArray[np.float64]) -> Geometries:
    """Each wall's rectangle (flat ends; a zero-length wall is a square)."""
    ends = np.array([[(w.x1, w.y1), (w.x2, w.y2)] for w in walls], dtype=float)
    zero = (ends[:, 0] == ends[:, 1]).all(axis=1)
    out = np.empty(len(walls), dtype=object)
    lines = shapely.linestrings(ends[~zero])
    out[~zero] = shapely.buffer(lines, widths[~zero] / 2, cap_style="flat", join_style="mitre")
    dots = shapely.points(ends[zero, 0])
    out[zero] = shapely.buffer(dots, widths[zero] / 2, cap_style="square", join_style="mitre")
    return out


def _opening_bodies(
    openings: list[Opening], walls: list[Wall], widths: NDArray[np.float64], sizes: Sizes
) -> list[BaseGeometry]:
    """An opening's span as a piece of its wall (its wall's thickness, else the typical)."""
    out: list[BaseGeometry] = []
    for o in openings:
        width = widths[o.wall] if o.wall is not None and 0 <= o.wall < len(walls) else None
        half = (width if width is not None else sizes.thickness) / 2
        span = LineString([(o.x1, o.y1), (o.x2, o.y2)])
        out.append(span.buffer(half, cap_style="flat" if span.length > 0 else "square"))
    return out


def _bridges(
    walls: list[Wall], widths: NDArray[np.float64], bodies: Geometries, sizes: Sizes
) -> list[BaseGeometry]:
    """Wall ends carried across a gap to the first wall on their line: any wall up to a
    door's width away, the wall continuing the same line up to a window's."""
    ends = np.array([[(w.x1, w.y1), (w.x2, w.y2)] for w in walls], dtype=float)
    along = ends[:, 1] - ends[:, 0]
    length = np.hypot(along[:, 0], along[:, 1])
    owners = np.flatnonzero(length > 0)
    if not len(owners):
        return []
    unit = along[owners] / length[owners, None]
    starts = np.concatenate([ends[owners, 0], ends[owners, 1]])  # first ends, then second
    outward = np.concatenate([-unit, unit])
    owners = np.concatenate([owners, owners])
    # Only free ends: an end on or in another wall needs no bridge.
    tree = shapely.STRtree(bodies)
    end_index, on_index = tree.query(shapely.points(starts), predicate="intersects")
    joined = np.zeros(len(starts), dtype=bool)
    joined[end_index[owners[end_index] != on_index]] = True
    starts, outward, owners = starts[~joined], outward[~joined], owners[~joined]
    if not len(owners):
        return []
    rays: Geometries = np.asarray(
        shapely.linestrings(np.stack([starts, starts + outward * sizes.window], axis=1))
    )
    ray_index, body_index = tree.query(rays, predicate="intersects")
    keep = owners[ray_index] != body_index
    ray_index, body_index = ray_index[keep], body_index[keep]
    hits = shapely.intersection(rays[ray_index], bodies[body_index])
    reach = shapely.distance(shapely.points(starts[ray_index]), hits)
    # Past a door's width only the wall on the same line counts: parallel, its centre
    # line within half the thicker wall of the ray.
    other = ends[body_index]
    direction = other[:, 1] - other[:, 0]
    span = np.hypot(direction[:, 0], direction[:, 1])
    ray_unit = outward[ray_index]
    cross = np.abs(ray_unit[:, 0] * direction[:, 1] - ray_unit[:, 1] * direction[:, 0])
    parallel = cross <= PARALLEL_SIN * np.maximum(span, 1e-9)
    offset = other[:, 0] - starts[ray_index]
    off_line = np.abs(ray_unit[:, 0] * offset[:, 1] - ray_unit[:, 1] * offset[:, 0])
    in_line = parallel & (off_line <= np.maximum(widths[owners[ray_index]], widths[body_index]) / 2)
    reach = np.where((reach <= sizes.door) | in_line, reach, np.inf)
    nearest = np.full(len(rays), np.inf)
    np.minimum.at(nearest, ray_index, np.where(reach > 0, reach, np.inf))
    bridged = np.flatnonzero(np.isfinite(nearest))
    tips = starts[bridged] + outward[bridged] * nearest[bridged, None]
    # Square caps reach half a thickness into both walls, so the union has no seam.
    spans = shapely.linestrings(np.stack([starts[bridged], tips], axis=1))
    halves = widths[owners[bridged]] / 2
    return list(shapely.buffer(spans, halves, cap_style="square", join_style="mitre"))


def _spaces(
    parts: list[Polygon], sizes: Sizes, page_size: tuple[float, float]
) -> tuple[list[Polygon], list[Polygon], set[int]]:
    """Room polygons (holes less the bodies inside them), holes that are outside, and the
    parts that belong to a building (around or inside a room)."""
    filled = np.array([Polygon(p.exterior) for p in parts], dtype=object)
    filled_area = shapely.area(filled)
    holes = [(k, Polygon(ring)) for k, p in enumerate(parts) for ring in p.interiors]
    holes = [(k, h) for k, h in holes if h.area >= sizes.min_area]
    hole_shapes = np.array([h for _, h in holes], dtype=object)
    islands: dict[int, list[int]] = {}
    if len(hole_shapes):
        tree = shapely.STRtree(filled)
        hole_index, part_index = tree.query(hole_shapes, predicate="contains_properly")
        for h, i in zip(hole_index.tolist(), part_index.tolist(), strict=True):
            islands.setdefault(h, []).append(i)
    page_area = page_size[0] * page_size[1]
    outside: list[Polygon] = []
    found: dict[int, list[Polygon]] = {}
    held: dict[int, set[int]] = {}
    for n, (k, hole) in enumerate(holes):
        inside = islands.get(n, [])
        biggest = max((filled_area[i] for i in inside), default=0.0)
        if biggest >= OUTSIDE_SHARE * hole.area or hole.area >= OUTSIDE_PAGE * page_area:
            outside.append(hole)
            continue
        space = shapely.difference(hole, shapely.union_all(filled[inside])) if inside else hole
        pieces = [p for p in shapely.get_parts(space) if isinstance(p, Polygon)]
        found.setdefault(k, []).extend(pieces)
        held.setdefault(k, set()).update(inside)
    rooms: list[Polygon] = []
    building: set[int] = set()
    for k, pieces in found.items():
        roomy = _roomy(pieces, sizes)
        if sum(p.area for p in roomy) >= sizes.min_building:
            rooms += roomy
            building |= held[k] | {k}
    return rooms, outside, building


def _roomy(pieces: list[Polygon], sizes: Sizes) -> list[Polygon]:
    """The pieces big enough for a room and wide enough somewhere (not a sliver)."""
    big = [p for p in pieces if p.area >= sizes.min_area]
    core = shapely.buffer(np.array(big, dtype=object), -sizes.min_width / 2)
    return [p for p, c in zip(big, core.tolist(), strict=True) if not c.is_empty]


def _exterior(
    walls: list[Wall],
    widths: NDArray[np.float64],
    parts: list[Polygon],
    building: set[int],
    shapes: tuple[BaseGeometry, BaseGeometry],
    sizes: Sizes,
) -> list[bool | None]:
    """Exterior when a face point lies outside the footprint (the rooms and walls) and
    either outside the sealed envelope or within half a door of its edge (a porch, a
    recess); None for walls away from any room."""
    footprint, envelope = shapes
    tree = shapely.STRtree(parts)
    middles = shapely.points([((w.x1 + w.x2) / 2, (w.y1 + w.y2) / 2) for w in walls])
    point_index, part_index = tree.query(middles, predicate="intersects")
    in_building = np.zeros(len(walls), dtype=bool)
    in_building[point_index[np.isin(part_index, list(building))]] = True
    # A wall in a part of its own (its corners missed) still belongs to the building
    # when it lies along the footprint.
    in_building |= shapely.distance(middles, footprint) <= widths / 2 + sizes.thickness
    owner, left, right = face_points(walls, widths, sizes.thickness)
    shapely.prepare(footprint)
    shapely.prepare(envelope)
    edge = envelope.boundary
    outside = np.zeros(len(walls), dtype=bool)
    for side in (left, right):
        points = shapely.points(side)
        out = ~shapely.contains_xy(footprint, side[:, 0], side[:, 1]) & (
            ~shapely.contains_xy(envelope, side[:, 0], side[:, 1])
            | (shapely.distance(points, edge) <= sizes.door / 2)
        )
        np.logical_or.at(outside, owner, out)
    return [bool(o) if b else None for o, b in zip(outside, in_building, strict=True)]


def _rooms(spaces: list[Polygon], words: list[Word], sizes: Sizes) -> list[Room]:
    """Rooms numbered in order, with the words inside them."""
    word_index, room_index = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if words:
        centres = shapely.points([((b[0] + b[2]) / 2, (b[1] + b[3]) / 2) for _, b in words])
        word_index, room_index = shapely.STRtree(spaces).query(centres, predicate="within")
    inside: dict[int, list[Word]] = {}
    for w, r in zip(word_index.tolist(), room_index.tolist(), strict=True):
        inside.setdefault(int(r), []).append(words[int(w)])
    rooms = []
    for k, space in enumerate(spaces):
        outline = space.exterior.simplify(sizes.thickness / 20)
        name, number = label(inside.get(k, []))
        polygon = [(float(x), float(y)) for x, y in list(outline.coords)[:-1]]
        rooms.append(Room(k, name, number, polygon, float(space.area)))
    return rooms
