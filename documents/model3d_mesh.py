"""model3d's solids as numpy arrays: wall pieces around the openings, the slab, room floors.

A wall is a box along its centre line, its thickness wide, floor to ceiling. An opening
cut from it splits it along its length at the jambs; between them only what lies above
the opening (and below a window) is kept, so every piece is a box and the volumes are
exact (no boolean operations). An opening in a gap between walls gets those same pieces
over its span. Coordinates are metres, y up, x and z across the plan.
"""

from __future__ import annotations

from dataclasses import dataclass

import mapbox_earcut
import numpy as np
import numpy.typing as npt

from documents.model3d_plan import Plan3d

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
# Room floors lie this far above the slab's top, so a viewer does not flicker between them.
ROOM_LIFT_M = 0.005
# The twelve triangles of a box whose corners 0-3 go round its base and 4-7 round its top
# (counter-clockwise seen from above, so each face's normal points out).
BOX_FACES = np.array(
    [
        [0, 2, 1], [0, 3, 2], [4, 5, 6], [4, 6, 7],
        [0, 1, 5], [0, 5, 4], [1, 2, 6], [1, 6, 5],
        [2, 3, 7], [2, 7, 6], [3, 0, 4], [3, 4, 7],
    ],
    dtype=np.int64,
)  # fmt: skip


@dataclass(frozen=True)
class Heights:
    """In metres: the ceiling, door head, window sill and head, and the slab's thickness."""

    ceiling: float
    door: float
    sill: float
    head: float
    slab: float

    def hole(self, kind: str) -> tuple[float, float]:
        """Bottom and top of an opening of ``kind``, within floor..ceiling."""
        if kind == "window":
            return min(self.sill, self.ceiling), min(self.head, self.ceiling)
        return 0.0, min(self.door, self.ceiling)


@dataclass(frozen=True)
class Boxes:
    """Prisms: ``base`` (n, 4, 2) corners round each footprint (x, z), from ``bottom`` to
    ``top``; ``owner`` the wall (>= 0) or gap (-1 - its index) each belongs to."""

    base: Floats
    bottom: Floats
    top: Floats
    owner: Ints

    def volumes(self) -> Floats:
        return _area(self.base) * (self.top - self.bottom)

    def corners(self) -> Floats:
        """(n, 8, 3): the base's corners at ``bottom``, then at ``top``."""
        n = len(self.base)
        low = np.concatenate([self.base[:, :, :1], np.repeat(self.bottom, 4).reshape(n, 4, 1),
                              self.base[:, :, 1:]], axis=2)  # fmt: skip
        high = low.copy()
        high[:, :, 1] = np.repeat(self.top, 4).reshape(n, 4)
        return np.concatenate([low, high], axis=1)


@dataclass(frozen=True)
class RoomFloor:
    name: str
    vertices: Floats  # (n, 3)
    faces: Ints  # (m, 3), normals up
    area_m2: float


def wall_boxes(plan: Plan3d, heights: Heights) -> Boxes:
    """Every piece of wall (and of wall over or under an opening in a gap) as a box."""
    # Per piece: the wall's ends, length and thickness, the piece's span along it and
    # height, and its owner (the wall's index, or -1 - the gap's).
    rows: list[tuple[float, ...]] = []
    cuts: dict[int, list[tuple[float, float, float, float]]] = {}
    for cut in plan.cuts:
        cuts.setdefault(cut.wall, []).append((cut.start, cut.end, *heights.hole(cut.kind)))
    for index, wall in enumerate(plan.walls):
        length = wall.length
        if length <= 1e-6:
            continue
        spans = _pieces(length, cuts.get(index, []), heights.ceiling)
        ends = (wall.x1, wall.z1, wall.x2, wall.z2)
        rows += [(*ends, length, wall.thickness, *span, float(index)) for span in spans]
    for number, gap in enumerate(plan.gaps):
        x1, z1, x2, z2 = gap.span
        length = float(np.hypot(x2 - x1, z2 - z1))
        spans = _pieces(length, [(0.0, length, *heights.hole(gap.kind))], heights.ceiling)
        rows += [(x1, z1, x2, z2, length, gap.thickness, *span, -1.0 - number) for span in spans]
    if not rows:
        empty = np.zeros(0)
        return Boxes(np.zeros((0, 4, 2)), empty, empty, np.zeros(0, dtype=np.int64))
    table = np.array(rows, dtype=np.float64)
    start, end = table[:, :2], table[:, 2:4]
    along = (end - start) / table[:, 4:5]
    normal = np.stack([-along[:, 1], along[:, 0]], axis=1) * (table[:, 5:6] / 2)
    a = start + along * table[:, 6:7]
    b = start + along * table[:, 7:8]
    base = np.stack([a - normal, b - normal, b + normal, a + normal], axis=1)
    # Counter-clockwise seen from above (y up: clockwise in x, z), as BOX_FACES expects.
    flip = _area_signed(base) > 0
    base[flip] = base[flip][:, ::-1]
    return Boxes(base, table[:, 8], table[:, 9], table[:, 10].astype(np.int64))


def _pieces(
    length: float, holes: list[tuple[float, float, float, float]], ceiling: float
) -> list[tuple[float, float, float, float]]:
    """(start, end, bottom, top) of the solid parts of a wall ``length`` long with
    ``holes`` (start, end, bottom, top) cut in it."""
    if not holes:
        return [(0.0, length, 0.0, ceiling)]
    stops = sorted({0.0, length, *(h[0] for h in holes), *(h[1] for h in holes)})
    pieces = []
    for start, end in zip(stops, stops[1:], strict=False):
        if end - start <= 1e-9:
            continue
        middle = (start + end) / 2
        over = sorted((h[2], h[3]) for h in holes if h[0] <= middle <= h[1])
        level = 0.0
        for bottom, top in over:
            if bottom > level:
                pieces.append((start, end, level, bottom))
            level = max(level, top)
        if level < ceiling:
            pieces.append((start, end, level, ceiling))
    return pieces


def _area_signed(base: Floats) -> Floats:
    x, z = base[:, :, 0], base[:, :, 1]
    area: Floats = 0.5 * np.sum(x * np.roll(z, -1, axis=1) - np.roll(x, -1, axis=1) * z, axis=1)
    return area


def _area(base: Floats) -> Floats:
    return np.abs(_area_signed(base))


def box_mesh(boxes: Boxes) -> tuple[Floats, Ints]:
    """Vertices and triangles of all ``boxes`` as one mesh."""
    vertices = boxes.corners().reshape(-1, 3)
    offsets = (np.arange(len(boxes.base), dtype=np.int64) * 8)[:, None, None]
    faces = (BOX_FACES[None, :, :] + offsets).reshape(-1, 3)
    return vertices, faces


def extent(boxes: Boxes, rooms: list[RoomFloor]) -> tuple[float, float]:
    """The plan's width (x) and depth (z) in metres, from the origin at its corner."""
    points = [boxes.base.reshape(-1, 2)] + [room.vertices[:, [0, 2]] for room in rooms]
    every = np.concatenate(points) if points else np.zeros((1, 2))
    return float(every[:, 0].max(initial=0.0)), float(every[:, 1].max(initial=0.0))


def slab_boxes(width: float, depth: float, thickness: float) -> Boxes:
    """The floor slab under the plan's extent, its top at y = 0."""
    base = np.array([[[0.0, 0.0], [0.0, depth], [width, depth], [width, 0.0]]])
    return Boxes(base, np.array([-thickness]), np.array([0.0]), np.array([-1], dtype=np.int64))


def room_floors(plan: Plan3d) -> list[RoomFloor | str]:
    """Each room's floor patch (earcut triangles), or its name alone when it has no area."""
    floors: list[RoomFloor | str] = []
    for room in plan.rooms:
        outline = np.array(room.polygon, dtype=np.float64).reshape(-1, 2)
        if len(outline) >= 3 and (outline[0] == outline[-1]).all():
            outline = outline[:-1]
        area = float(abs(_area_signed(outline[None])[0])) if len(outline) >= 3 else 0.0
        if area <= 1e-9:
            floors.append(room.name)
            continue
        rings = np.array([len(outline)], dtype=np.uint32)
        triangles = mapbox_earcut.triangulate_float64(outline, rings).astype(np.int64)
        faces = triangles.reshape(-1, 3)
        up = _area_signed(outline[faces]) > 0  # each triangle's normal up, as BOX_FACES' tops
        faces[up] = faces[up][:, ::-1]
        lift = np.full((len(outline), 1), ROOM_LIFT_M)
        vertices = np.concatenate([outline[:, :1], lift, outline[:, 1:]], axis=1)
        floors.append(RoomFloor(room.name, vertices, np.ascontiguousarray(faces), area))
    return floors
