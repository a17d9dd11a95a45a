"""The geometry of a synthetic vector floor plan, in metres, from a seed.

Frame: metres, x right, y down, the building's outer bounding box from (0, 0). The
footprint is a rectangle, an L or a rectangle with a notch in one side. Exterior walls run
along its edges, their outer face on the edge: a horizontal wall spans to the outer corner
at a convex corner and one thickness past it at a re-entrant one, a vertical wall stops at
the horizontal walls' faces, so the wall bodies tile the ring without overlap. The
centre-line polygon is cut into rectangles through its re-entrant corners, and each is
split recursively across its longer side into rooms of 2.5-8 m; every partition runs from
face to face. Doors and plain openings join the rooms (a random spanning tree and a few
more), windows pierce the exterior walls; each opening splits its wall at the jambs.
Rooms are the cells less every wall body (openings closed), so they tile the interior.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import shapely
from shapely.geometry import LineString, Polygon, box
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

ROOM_MIN, ROOM_MAX = 2.5, 8.0  # a room's side on centre lines, metres
DOOR_MARGIN = 0.35  # a door's jamb from the junction at either end of its wall stretch
WINDOW_MARGIN = 0.5
NAMES = ("KITCHEN", "LIVING", "DINING", "BATH", "WC", "STORE", "HALL", "STUDY", "LAUNDRY",
         "MEETING", "LOBBY", "PLANT")  # fmt: skip
NUMBERED = ("BEDROOM", "OFFICE")  # drawn as "BEDROOM 2": several per plan


@dataclass
class WallM:
    """A wall piece: centre line (x1 <= x2, y1 <= y2, axis-aligned), thickness, exterior,
    and for an exterior wall the side (+1/-1 along x or y) its outside lies on."""

    x1: float
    y1: float
    x2: float
    y2: float
    t: float
    exterior: bool
    outside: int = 0

    def __post_init__(self) -> None:
        # One grid for every coordinate, so lines computed two ways meet exactly.
        self.x1, self.y1, self.x2, self.y2 = (
            round(v, 6) for v in (self.x1, self.y1, self.x2, self.y2)
        )

    @property
    def horizontal(self) -> bool:
        return self.y1 == self.y2

    def body(self) -> Polygon:
        h = self.t / 2
        if self.horizontal:
            return box(self.x1, self.y1 - h, self.x2, self.y2 + h)
        return box(self.x1 - h, self.y1, self.x2 + h, self.y2)


@dataclass
class OpeningM:
    """An opening in wall ``wall`` (index in Layout.walls before cutting) from ``a`` to ``b``
    along it; ``hinge`` (0: at a, 1: at b) and ``swing`` (+1/-1 across) place a door leaf."""

    kind: str
    wall: int
    a: float
    b: float
    hinge: int = 0
    swing: int = 1


@dataclass
class RoomM:
    name: str
    number: str | None
    polygon: Polygon
    cell: tuple[float, float, float, float]  # centre-line rectangle x0, y0, x1, y1


@dataclass
class Layout:
    width: float
    height: float
    footprint: Polygon
    walls: list[WallM] = field(default_factory=list)  # whole walls, before the openings
    openings: list[OpeningM] = field(default_factory=list)
    rooms: list[RoomM] = field(default_factory=list)


def _r(v: float) -> float:
    return round(v / 0.05) * 0.05


def _footprint(rng: random.Random, w: float, h: float) -> Polygon:
    shape = rng.choice(("rect", "rect", "L", "notch"))
    outline: BaseGeometry = box(0, 0, w, h)
    if shape == "L":  # a corner rectangle taken away, leaving arms at least 3.5 m wide
        cw, ch = _r(rng.uniform(3, w - 3.5)), _r(rng.uniform(3, h - 3.5))
        x0, y0 = rng.choice(((0, 0), (w - cw, 0), (0, h - ch), (w - cw, h - ch)))
        outline = outline.difference(box(x0, y0, x0 + cw, y0 + ch))
    elif shape == "notch" and w >= 11:  # a recess in the top or bottom side
        nw, nd = _r(rng.uniform(2.5, w / 3)), _r(rng.uniform(2.5, min(3.5, h - 4)))
        nx = _r(rng.uniform(3, w - 3 - nw))
        y0 = 0 if rng.random() < 0.5 else h - nd
        outline = outline.difference(box(nx, y0, nx + nw, y0 + nd))
    exact = shapely.set_precision(outline, 1e-6)
    assert isinstance(exact, Polygon)
    return orient(Polygon(exact.exterior), 1.0)


def _exterior_walls(outline: Polygon, t: float) -> list[WallM]:
    """The walls along a counter-clockwise rectilinear outline (see the module docstring)."""
    pts = list(outline.exterior.coords)[:-1]
    n = len(pts)
    walls = []
    for k in range(n):
        (ax, ay), (bx, by) = pts[k], pts[(k + 1) % n]
        if (ax, ay) == (bx, by):
            continue
        prev, nxt = pts[k - 1], pts[(k + 2) % n]
        # Convex when the turn at the vertex goes the outline's way (left, counter-clockwise).
        convex_a = (ax - prev[0]) * (by - ay) - (ay - prev[1]) * (bx - ax) > 0
        convex_b = (bx - ax) * (nxt[1] - by) - (by - ay) * (nxt[0] - bx) > 0
        ux, uy = (bx - ax) / abs(bx - ax or by - ay), (by - ay) / abs(bx - ax or by - ay)
        nx, ny = -uy, ux  # the inside is on the left
        horizontal = ay == by
        # How far the wall runs past each end vertex: see the module docstring.
        if horizontal:
            s_a, s_b = (0.0 if convex_a else t), (0.0 if convex_b else t)
        else:
            s_a, s_b = (-t if convex_a else 0.0), (-t if convex_b else 0.0)
        p = (ax - ux * s_a + nx * t / 2, ay - uy * s_a + ny * t / 2)
        q = (bx + ux * s_b + nx * t / 2, by + uy * s_b + ny * t / 2)
        out = -int(ny) if horizontal else -int(nx)
        (x1, x2), (y1, y2) = sorted((p[0], q[0])), sorted((p[1], q[1]))
        walls.append(WallM(x1, y1, x2, y2, t, True, out))
    return walls


def _line_walls(line: BaseGeometry, solid: BaseGeometry, t: float) -> list[WallM]:
    """A partition along ``line`` less the existing wall bodies: its pieces, face to face."""
    rest = line.difference(solid)
    parts = list(getattr(rest, "geoms", [rest]))
    out = []
    for part in parts:
        if isinstance(part, LineString) and part.length > 0.3:
            (x1, y1), (x2, y2) = part.coords[0], part.coords[-1]
            (x1, x2), (y1, y2) = sorted((x1, x2)), sorted((y1, y2))
            out.append(WallM(x1, y1, x2, y2, t, False))
    return out


def _cells(centre: Polygon, walls: list[WallM], t: float, rng: random.Random) -> list[Polygon]:
    """Cut the centre-line polygon into rectangles through its re-entrant corners."""
    horizontal = rng.random() < 0.5
    k = 1 if horizontal else 0
    cuts = sorted({c[k] for c in centre.exterior.coords})
    x0, y0, x1, y1 = centre.bounds
    cells: list[Polygon] = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        slab = box(x0 - 1, a, x1 + 1, b) if horizontal else box(a, y0 - 1, b, y1 + 1)
        piece = slab.intersection(centre)
        cells += [p for p in getattr(piece, "geoms", [piece]) if isinstance(p, Polygon)]
    for c in cuts[1:-1]:
        line = LineString([(x0 - 1, c), (x1 + 1, c)] if horizontal else [(c, y0 - 1), (c, y1 + 1)])
        solid = shapely.union_all([w.body() for w in walls])
        walls += _line_walls(line.intersection(centre), solid, t)
    bounds = [tuple(round(v, 6) for v in p.bounds) for p in cells if p.area > 1.0]
    return [box(x0, y0, x1, y1) for x0, y0, x1, y1 in bounds]


def _split(cell: Polygon, walls: list[WallM], ts: list[float], rng: random.Random) -> list[Polygon]:
    """Split a cell across its longer side until rooms are at most ROOM_MAX (or by chance)."""
    x0, y0, x1, y1 = cell.bounds
    across_x = x1 - x0 >= y1 - y0
    long = max(x1 - x0, y1 - y0)
    if long < 2 * ROOM_MIN + 0.1 or (long <= ROOM_MAX and rng.random() < 0.5):
        return [cell]
    lo, hi = (x0, x1) if across_x else (y0, y1)
    solid = shapely.union_all([w.body() for w in walls])
    for _ in range(10):  # a split too near another wall's end would overlap it: move it
        c = _r(rng.uniform(lo + ROOM_MIN, hi - ROOM_MIN))
        line = LineString([(c, y0), (c, y1)] if across_x else [(x0, c), (x1, c)])
        new = _line_walls(line, solid, rng.choice(ts))
        if all(solid.intersection(w.body()).area < 1e-9 for w in new):
            break
    else:
        return [cell]
    walls += new
    a, b = (box(x0, y0, c, y1), box(c, y0, x1, y1)) if across_x else (
        box(x0, y0, x1, c), box(x0, c, x1, y1))  # fmt: skip
    return _split(a, walls, ts, rng) + _split(b, walls, ts, rng)


def _along(w: WallM, seg: LineString, margin: float) -> tuple[float, float] | None:
    """The stretch of ``seg`` on wall ``w``'s centre line, less ``margin`` at each end."""
    if seg.is_empty or not isinstance(seg, LineString) or seg.length == 0:
        return None
    k = 0 if w.horizontal else 1
    lo = max(min(seg.coords[0][k], seg.coords[-1][k]), (w.x1, w.y1)[k]) + margin
    hi = min(max(seg.coords[0][k], seg.coords[-1][k]), (w.x2, w.y2)[k]) - margin
    return (lo, hi) if hi > lo else None


def _on(w: WallM, edge: LineString) -> LineString:
    line = LineString([(w.x1, w.y1), (w.x2, w.y2)])
    shared = line.intersection(edge)
    return shared if isinstance(shared, LineString) else LineString()


def _doors(cells: list[Polygon], layout: Layout, rng: random.Random) -> None:
    """Doors (sometimes a plain opening) on a random spanning tree of the rooms, and a few more."""
    candidates = []
    for i in range(len(cells)):
        for j in range(i + 1, len(cells)):
            edge = cells[i].boundary.intersection(cells[j].boundary)
            if edge.geom_type == "MultiLineString":
                edge = shapely.line_merge(edge)
            if not isinstance(edge, LineString):
                continue  # cells meeting at a corner, or not at all
            for k, w in enumerate(layout.walls):
                span = None if w.exterior else _along(w, _on(w, edge), DOOR_MARGIN)
                if span and span[1] - span[0] >= 1.0:
                    candidates.append((i, j, k, span))
    rng.shuffle(candidates)
    group = list(range(len(cells)))

    def root(v: int) -> int:
        while group[v] != v:
            v = group[v]
        return v

    for i, j, k, (lo, hi) in candidates:
        if root(i) == root(j) and rng.random() > 0.15:
            continue
        group[root(i)] = root(j)
        plain = rng.random() < 0.15
        width = _r(rng.uniform(0.9, 1.5)) if plain else round(rng.uniform(0.8, 1.0), 2)
        if hi - lo < width:
            continue
        a = round(rng.uniform(lo, hi - width), 3)
        kind = "opening" if plain else "door"
        layout.openings.append(
            OpeningM(kind, k, a, a + width, rng.randint(0, 1), rng.choice((-1, 1)))
        )


def _windows(cells: list[Polygon], layout: Layout, rng: random.Random) -> None:
    for cell in cells:
        for k, w in enumerate(layout.walls):
            span = _along(w, _on(w, LineString(cell.exterior.coords)), WINDOW_MARGIN)
            if not w.exterior or span is None or span[1] - span[0] < 1.0:
                continue
            lo, hi = span
            count = 2 if hi - lo > 6 and rng.random() < 0.5 else int(rng.random() < 0.75)
            step = (hi - lo) / max(count, 1)
            for n in range(count):
                room = step - (0.6 if count > 1 else 0.0)
                width = round(rng.uniform(0.9, min(2.4, room)), 2) if room >= 0.9 else 0.0
                if width:
                    a = round(rng.uniform(lo + n * step, lo + n * step + room - width), 3)
                    layout.openings.append(OpeningM("window", k, a, a + width))


def _name_rooms(cells: list[Polygon], layout: Layout, rng: random.Random) -> None:
    solid = shapely.union_all([w.body() for w in layout.walls])
    names = list(NAMES)
    rng.shuffle(names)
    counts = dict.fromkeys(NUMBERED, 0)
    numbered = rng.random() < 0.4
    for n, cell in enumerate(cells):
        if rng.random() < 0.3 or not names:
            base = rng.choice(NUMBERED)
            counts[base] += 1
            name = f"{base} {counts[base]}"
        else:
            name = names.pop()
        number = f"{rng.choice((1, 2))}{n + 1:02d}" if numbered else None
        space = cell.difference(solid)
        polygon = max(getattr(space, "geoms", [space]), key=lambda p: p.area)
        layout.rooms.append(RoomM(name, number, polygon, cell.bounds))


def layout(rng: random.Random) -> Layout:
    """A building: footprint, walls, openings and rooms (see the module docstring)."""
    w, h = _r(rng.uniform(10, 26)), _r(rng.uniform(8, 16))
    t_ext = round(rng.uniform(0.25, 0.4), 2)
    ts = sorted({round(rng.uniform(0.1, 0.2), 2) for _ in range(rng.randint(1, 2))})
    outline = _footprint(rng, w, h)
    plan = Layout(w, h, outline, _exterior_walls(outline, t_ext))
    centre = shapely.set_precision(outline.buffer(-t_ext / 2, join_style="mitre"), 1e-6)
    cells = [
        room for cell in _cells(centre, plan.walls, ts[-1], rng)
        for room in _split(cell, plan.walls, ts, rng)
    ]  # fmt: skip
    _doors(cells, plan, rng)
    _windows(cells, plan, rng)
    _name_rooms(cells, plan, rng)
    return plan


def pieces(plan: Layout) -> tuple[list[WallM], list[tuple[int, int]]]:
    """The walls cut at every opening's jambs, and per opening the two pieces beside it."""
    out: list[WallM] = []
    beside: dict[int, list[int]] = {}
    for k, w in enumerate(plan.walls):
        gaps = sorted((o.a, o.b, n) for n, o in enumerate(plan.openings) if o.wall == k)
        start = w.x1 if w.horizontal else w.y1
        end = w.x2 if w.horizontal else w.y2
        for a, b, n in [*gaps, (end, end, -1)]:
            if a > start:
                if w.horizontal:
                    out.append(WallM(start, w.y1, a, w.y2, w.t, w.exterior, w.outside))
                else:
                    out.append(WallM(w.x1, start, w.x2, a, w.t, w.exterior, w.outside))
            if n >= 0:
                beside.setdefault(n, []).append(len(out) - 1)
                beside.setdefault(n, []).append(len(out))
            start = b
    pairs = [(beside[n][0], beside[n][1]) for n in range(len(plan.openings))]
    return out, pairs
