"""Which rooms touch: through a wall (a room beyond each face of it) or an opening.

Both are found from points just beyond a wall's faces (or an opening's), at stations along
it: where the two points of one station fall in two rooms, the rooms are adjacent through
it. Every room lists the openings with a face point inside it.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import Polygon

from documents.model import Adjacency, Opening, Room, Wall

Points = NDArray[np.float64]
# Stations along a wall: one per STATION_T typical thicknesses, 3 to MAX_STATIONS of them,
# so a room beside a short stretch of a long wall is still seen.
STATION_T, MAX_STATIONS = 2.0, 64
# How far beyond a face the points lie, in typical thicknesses: past a slightly
# misplaced face line, short of the far side of a narrow room.
REACH_T = 0.75


def face_points(
    walls: list[Wall], widths: NDArray[np.float64], typical: float
) -> tuple[NDArray[np.int64], Points, Points]:
    """For each station of each wall: the wall's index and a point beyond either face."""
    ends = np.array([[w.x1, w.y1, w.x2, w.y2] for w in walls], dtype=float).reshape(-1, 4)
    along = ends[:, 2:] - ends[:, :2]
    length = np.hypot(along[:, 0], along[:, 1])
    count = np.where(
        length > 0, np.clip(np.ceil(length / (STATION_T * typical)), 3, MAX_STATIONS), 0
    ).astype(np.int64)
    owner = np.repeat(np.arange(len(walls)), count)
    # Station s of a wall with n of them sits at (s + 0.5) / n of its length.
    first = np.repeat(np.cumsum(count) - count, count)
    share = (np.arange(len(owner)) - first + 0.5) / count[owner]
    centre = ends[owner, :2] + along[owner] * share[:, None]
    reach = widths[owner] / 2 + REACH_T * typical
    normal = np.stack([-along[owner, 1], along[owner, 0]], axis=1) / length[owner, None]
    offset = normal * reach[:, None]
    return owner, centre + offset, centre - offset


def _opening_points(
    openings: list[Opening], widths: NDArray[np.float64], typical: float
) -> tuple[NDArray[np.int64], Points, Points]:
    """Points beyond both faces at a quarter, half and three quarters of each opening."""
    owner: list[int] = []
    left: list[tuple[float, float]] = []
    right: list[tuple[float, float]] = []
    for k, o in enumerate(openings):
        length = math.hypot(o.x2 - o.x1, o.y2 - o.y1)
        if length == 0:
            continue
        width = widths[o.wall] if o.wall is not None and 0 <= o.wall < len(widths) else typical
        reach = width / 2 + REACH_T * typical
        nx, ny = -(o.y2 - o.y1) / length * reach, (o.x2 - o.x1) / length * reach
        for s in (0.25, 0.5, 0.75):
            cx, cy = o.x1 + (o.x2 - o.x1) * s, o.y1 + (o.y2 - o.y1) * s
            owner.append(k)
            left.append((cx + nx, cy + ny))
            right.append((cx - nx, cy - ny))
    return np.array(owner, dtype=np.int64), np.array(left), np.array(right)


def _room_at(spaces: list[Polygon], points: Points) -> NDArray[np.int64]:
    """The index of the room holding each point, -1 for none."""
    out = np.full(len(points), -1, dtype=np.int64)
    if len(points) and spaces:
        tree = shapely.STRtree(spaces)
        point_index, room_index = tree.query(shapely.points(points), predicate="within")
        out[point_index] = room_index
    return out


def adjacency(
    rooms: list[Room],
    spaces: list[Polygon],
    walls: list[Wall],
    widths: NDArray[np.float64],
    openings: list[Opening],
    typical: float,
) -> list[Room]:
    """``rooms`` (in the order of ``spaces``, their polygons) with openings and neighbours."""
    links: list[set[tuple[int, str, int | None, int | None]]] = [set() for _ in rooms]
    doors: list[set[int]] = [set() for _ in rooms]
    owner, left, right = face_points(walls, widths, typical)
    a, b = _room_at(spaces, left), _room_at(spaces, right)
    for wall, ra, rb in zip(owner.tolist(), a.tolist(), b.tolist(), strict=True):
        if ra >= 0 and rb >= 0 and ra != rb:
            links[ra].add((rb, "wall", wall, None))
            links[rb].add((ra, "wall", wall, None))
    owner, left, right = _opening_points(openings, widths, typical)
    if len(owner):
        a, b = _room_at(spaces, left), _room_at(spaces, right)
        for k, ra, rb in zip(owner.tolist(), a.tolist(), b.tolist(), strict=True):
            for r in (ra, rb):
                if r >= 0:
                    doors[r].add(k)
            if ra >= 0 and rb >= 0 and ra != rb:
                kind = openings[k].kind
                links[ra].add((rb, kind, None, k))
                links[rb].add((ra, kind, None, k))
    out = []
    for room, link, door in zip(rooms, links, doors, strict=True):
        ordered = sorted(link, key=lambda t: (t[0], t[1], t[2] or -1, t[3] or -1))
        adjacent = [Adjacency(r, via, wall, opening) for r, via, wall, opening in ordered]  # type: ignore[arg-type]
        out.append(
            Room(
                room.id,
                room.name,
                room.number,
                room.polygon,
                room.area,
                sorted(door),
                adjacent,
            )
        )
    return out
