"""Generate one layout for a seed: a corridor spine, rooms in strips beside it.

The site is turned (x and y swapped) so its long axis runs along x. The spine is a band
``corridor_width_m`` wide along x at one of several offsets (centred for rooms on both
sides, at a side for rooms on one, or level with a corner of an L-shaped site), kept only
where it is that wide; a door on a long side adds a stub from it to the spine (an L or T).
The rest of the site falls into strips (``documents.layout_strips``); rooms go to strips
(window rooms first, to strips with windows), are sized between their bounds to fill
their strip, and are cut across it. What no room takes is open area, noted.

The seed orders the spine's offsets, the rooms and the end of a strip each starts from.
Arrangements are tried in that order until one passes every check (at most ``TRIES``);
otherwise the one failing by the least is returned, for the checks to report.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from typing import TypeVar, cast

import shapely
from shapely import affinity
from shapely.geometry import Polygon, box
from shapely.geometry.base import BaseGeometry

from documents.layout_candidate import Candidate, Door, PlacedRoom, partitions_of, snapped
from documents.layout_checks import Validation, validate
from documents.layout_program import ENTRANCE, Resolved, room_key, room_names
from documents.layout_site import Site, polygons
from documents.layout_strips import BIG, Strip, cut, door, strips_of

TRIES = 12
G = TypeVar("G", bound=BaseGeometry)
SLIVER_M2 = 0.05
WINDOW_CLEAR_M = 0.05  # a partition's face this far from a window's jamb, at least


@dataclass(frozen=True)
class _Want:
    name: str
    kind: str
    request: int
    min_m2: float
    max_m2: float | None
    needs_window: bool
    beside: frozenset[str] = frozenset()  # room keys (or ENTRANCE) it is to be next to

    def pairs_with(self, other: _Want) -> bool:
        """Whether either asks to be next to the other's kind."""
        return room_key(other.kind) in self.beside or room_key(self.kind) in other.beside


def generate(site: Site, resolved: Resolved, seed: int) -> Candidate:
    """The layout for ``seed``: the first arrangement that passes every check, else the
    one that fails by the least. Deterministic for a seed."""
    rng = random.Random(seed)
    turned = site.outline.bounds[3] - site.outline.bounds[1] > (
        site.outline.bounds[2] - site.outline.bounds[0]
    )
    frame = _turn(site.outline, turned)
    assert isinstance(frame, Polygon)
    entrance = _turn(site.entrance, turned)
    wants = _wants(resolved)
    turned_site = _turned_site(site, turned)
    clear = resolved.partition_thickness_mm / 2000 + WINDOW_CLEAR_M
    offsets = _offsets(frame, resolved.corridor_width_m, turned_site, clear, entrance)
    # Seed 0 leads with the most promising offset, others with another one in turn.
    first = seed % len(offsets)
    offsets = offsets[first:] + offsets[:first]
    best: tuple[float, Candidate] | None = None
    for attempt in range(TRIES):
        offset = offsets[attempt % len(offsets)]
        candidate = _arrange(
            site, turned_site, frame, entrance, turned, wants, resolved, offset, rng, seed
        )
        result = validate(site, resolved, candidate)
        if result.valid:
            return candidate
        badness = _badness(result)
        if best is None or badness < best[0]:
            best = (badness, candidate)
    assert best is not None
    return best[1]


def _badness(result: Validation) -> float:
    return sum(check.shortfall for check in result.checks if not check.passed)


def _turn(shape: G, turned: bool) -> G:
    """Swap x and y (its own inverse), so the long axis runs along x."""
    if not turned:
        return shape
    return affinity.affine_transform(shape, [0, 1, 1, 0, 0, 0])


def _wants(resolved: Resolved) -> list[_Want]:
    wants = []
    for index, name in room_names(resolved.rooms):
        room = resolved.rooms[index]
        beside = frozenset(room_key(target) for target in room.adjacent_to)
        wants.append(
            _Want(
                name,
                room.name,
                index,
                room.min_area_m2,
                room.max_area_m2,
                room.needs_window,
                beside,
            )
        )
    return wants


def _offsets(
    frame: Polygon, width: float, site: Site, clear: float, entrance: BaseGeometry
) -> list[float]:
    """Where the spine's centre line may run (y), the most promising first: level with a
    door on an end, the middle, level with the site's corners, at its sides, at thirds;
    each moved off the windows its sides would meet at the site's ends."""
    x0, y0, x1, y1 = frame.bounds
    low, high = y0 + width / 2, y1 - width / 2
    if high < low:
        return [(y0 + y1) / 2]
    corners = sorted({round(y, 3) for y in frame.exterior.coords.xy[1]})
    ex0, ey0, ex1, ey1 = entrance.bounds
    found = [(ey0 + ey1) / 2] if ey1 - ey0 > ex1 - ex0 else []
    found.append((y0 + y1) / 2)
    for y in corners:
        found += [y + width / 2, y - width / 2]
    found += [low, high, y0 + (y1 - y0) / 3, y1 - (y1 - y0) / 3]
    for line, thickness in site.inner_lines():  # beside an existing wall along x
        lx0, ly0, lx1, ly1 = line.bounds
        if lx1 - lx0 > 1.0 and ly1 - ly0 < 0.1 * (lx1 - lx0):
            middle = (ly0 + ly1) / 2
            found += [middle - thickness / 2 - width / 2, middle + thickness / 2 + width / 2]
    # Openings on the ends and inside, along y: the spine's sides must miss them.
    ends = []
    for opening in site.openings:
        shape = opening.face if opening.face is not None else opening.span
        fx0, fy0, fx1, fy1 = shape.bounds
        if fy1 - fy0 > fx1 - fx0:
            ends.append((fy0 - clear, fy1 + clear))
    out: list[float] = []
    for wish in found:
        at = _off_windows(wish, width / 2, ends, low, high)
        if at is not None and all(abs(at - o) > 0.05 for o in out):
            out.append(at)
    return out or [(low + high) / 2]


def _off_windows(
    y: float, half: float, ends: list[tuple[float, float]], low: float, high: float
) -> float | None:
    """``y`` or the nearest offset whose sides (y +- half) miss every window's span."""
    choices = [y]
    for a, b in ends:
        choices += [a - half, b - half, a + half, b + half]
    for choice in sorted(choices, key=lambda c: abs(c - y)):
        sides = (choice - half, choice + half)
        if low - 1e-9 <= choice <= high + 1e-9 and not any(
            a < side < b for side in sides for a, b in ends
        ):
            return choice
    return None


def _corridor(
    frame: Polygon, entrance: BaseGeometry, y: float, width: float, clear: float
) -> BaseGeometry:
    """The spine at ``y``, where it is ``width`` wide, and a stub from the entrance that
    covers the door's whole span (``clear`` beyond each jamb)."""
    x0, y0, x1, y1 = frame.bounds
    half = width / 2
    parts = [box(x0 - 1, y - half, x1 + 1, y + half)]
    ex0, ey0, ex1, ey1 = entrance.bounds
    middle = entrance.centroid
    if ex1 - ex0 >= ey1 - ey0:  # on a side along x: a stub across to the spine
        left, right = min(middle.x - half, ex0 - clear), max(middle.x + half, ex1 + clear)
        parts.append(box(left, min(middle.y, y), right, max(middle.y, y)))
    elif not (y - half < ey0 - clear and ey1 + clear < y + half):  # on an end: along it
        side = x0 if abs(middle.x - x0) < abs(middle.x - x1) else x1
        left = side if side == x0 else side - width
        low, high = min(ey0 - clear, y - half), max(ey1 + clear, y + half)
        parts.append(box(left, low, left + width, high))
    band = frame.intersection(shapely.unary_union(parts))
    # Keep only where it is the full width (an opening by just under half of it).
    kept = band.buffer(-half + 1e-3, join_style="mitre").buffer(half - 1e-3, join_style="mitre")
    pieces = polygons(kept.intersection(frame))
    if not pieces:
        return band
    door_side = entrance.buffer(width)
    touching = [p for p in pieces if p.intersects(door_side)]
    return shapely.unary_union(touching or [max(pieces, key=lambda p: p.area)])


def _arrange(
    site: Site,
    turned_site: Site,
    frame: Polygon,
    entrance: BaseGeometry,
    turned: bool,
    wants: list[_Want],
    resolved: Resolved,
    offset: float,
    rng: random.Random,
    seed: int,
) -> Candidate:
    clear = resolved.partition_thickness_mm / 2000 + WINDOW_CLEAR_M
    corridor = snapped(_corridor(frame, entrance, offset, resolved.corridor_width_m, clear))
    pieces = polygons(snapped(frame.difference(corridor)))
    rest = [p for p in pieces if p.area > SLIVER_M2]
    strips = strips_of(rest, corridor, turned_site)
    # No strip deep enough for a room: use them all, for the checks to say by how much.
    fit = [s for s in strips if s.depth >= resolved.min_room_width_m * 0.99] or strips
    notes: list[str] = []
    placed = _assign(fit, wants, resolved.min_room_width_m, rng, entrance)
    rooms: list[PlacedRoom] = []
    used = {id(strip) for strip, _ in placed}
    open_areas = [p for p in pieces if not any(p is s.piece and id(s) in used for s in fit)]
    clear = resolved.partition_thickness_mm / 2000 + WINDOW_CLEAR_M
    for strip, members in placed:
        targets = _sizes(strip, members, resolved.min_room_width_m)
        members, targets = _order(members, targets, rng)
        from_low = _start(strip, members, rng, entrance)
        polys, left = cut(strip, targets, from_low, clear, resolved.min_room_width_m)
        for want, poly in zip(members, polys, strict=False):
            rooms.append(
                PlacedRoom(
                    want.name,
                    want.kind,
                    want.request,
                    poly,
                    want.min_m2,
                    want.max_m2,
                    want.needs_window,
                )
            )
        open_areas += left
    unplaced = [w.name for w in wants if all(w.name != r.name for r in rooms)]
    if unplaced:
        notes.append(f"no strip left for: {', '.join(unplaced)}")
    if open_areas:
        total = sum(p.area for p in open_areas)
        notes.append(f"{total:.1f} m2 left over as open area ({len(open_areas)} part(s))")
    rooms = [replace(r, polygon=_back(r.polygon, turned)) for r in rooms]
    corridor = _back(corridor, turned)
    doors = []
    for index, room in enumerate(rooms):
        span = door(room.polygon, corridor)
        if span is not None:
            doors.append(Door(span, index))
    thickness = resolved.partition_thickness_mm / 1000
    partitions = partitions_of([r.polygon for r in rooms], site.outline, site.inner_walls())
    opens = [_back(p, turned) for p in open_areas]
    outline_m = site.outline.exterior.length
    return Candidate(seed, rooms, corridor, opens, doors, partitions, thickness, outline_m, notes)


def _back(shape: G, turned: bool) -> G:
    return cast(G, snapped(_turn(shape, turned)))


def _turned_site(site: Site, turned: bool) -> Site:
    if not turned:
        return site
    openings = [
        replace(o, span=_turn(o.span, True), face=None if o.face is None else _turn(o.face, True))
        for o in site.openings
    ]
    walls = [replace(w, x1=w.z1, z1=w.x1, x2=w.z2, z2=w.x2) for w in site.walls]
    return replace(site, outline=_turn(site.outline, True), openings=openings, walls=walls)


def _assign(
    strips: list[Strip],
    wants: list[_Want],
    min_width: float,
    rng: random.Random,
    entrance: BaseGeometry,
) -> list[tuple[Strip, list[_Want]]]:
    """Rooms to strips: window rooms first, then the largest; each to the strip with the
    most room left (a strip with windows for a window room; the strip of a room it pairs
    with; the nearest to the entrance for a room wanted there), ties broken by the seed."""
    order = sorted(wants, key=lambda w: (not w.needs_window, -w.min_m2 - rng.random() * 1e-3))
    left = {id(s): s.area for s in strips}
    members: dict[int, list[_Want]] = {id(s): [] for s in strips}
    for want in order:
        if not strips:
            break

        def need(s: Strip, w: _Want = want) -> float:
            return max(w.min_m2, min_width * s.depth)

        fitting = [s for s in strips if left[id(s)] >= need(s)]
        pool = fitting or strips
        if want.needs_window and any(s.windows for s in pool):
            pool = [s for s in pool if s.windows]
        # Beside a room it pairs with when that strip can take it: adjacency needs a wall.
        partnered = [s for s in pool if any(want.pairs_with(m) for m in members[id(s)])]
        pool = partnered or pool
        if ENTRANCE in want.beside:
            nearest = min(s.piece.distance(entrance) for s in pool)
            pool = [s for s in pool if s.piece.distance(entrance) <= nearest + 0.5]
        jitter = {id(s): rng.random() for s in pool}
        chosen = max(pool, key=lambda s: (left[id(s)] - need(s)) * (1 + 0.3 * jitter[id(s)]))
        left[id(chosen)] -= need(chosen)
        members[id(chosen)].append(want)
    return [(s, members[id(s)]) for s in strips if members[id(s)]]


def _sizes(strip: Strip, members: list[_Want], min_width: float) -> list[float]:
    """Areas that fill the strip: each at least its minimum (and wide enough), surplus
    shared in proportion up to each maximum; a strip too small shrinks all alike."""
    floor = [max(w.min_m2, min_width * strip.depth) for w in members]
    caps = [BIG if w.max_m2 is None else max(w.max_m2, 0.0) for w in members]
    floor = [
        min(f, c) if w.max_m2 is not None else f
        for f, c, w in zip(floor, caps, members, strict=True)
    ]
    total = strip.area
    if sum(floor) >= total:
        scale = total / sum(floor)
        return [f * scale for f in floor[:-1]] + [BIG]
    sizes = list(floor)
    surplus = total - sum(sizes)
    for _ in range(len(sizes)):
        open_ = [k for k in range(len(sizes)) if sizes[k] < caps[k] - 1e-9]
        if surplus <= 1e-9 or not open_:
            break
        weight = sum(floor[k] for k in open_) or 1.0
        for k in open_:
            grow = min(surplus * floor[k] / weight, caps[k] - sizes[k])
            sizes[k] += grow
        surplus = total - sum(sizes)
    if all(c >= BIG for c in caps) or surplus <= 0.01 * total:
        sizes[-1] = BIG  # the last room takes the strip's end (no sliver left)
    return sizes


def _order(
    members: list[_Want], sizes: list[float], rng: random.Random
) -> tuple[list[_Want], list[float]]:
    """Rooms in a strip: window rooms first (from the windows' end), then those by the
    entrance, the rest after, each group in the seed's order, and a room asked to be next
    to another moved beside it; the room that fills the strip's end stays last."""
    pairs = list(zip(members, sizes, strict=True))
    last = pairs.pop() if pairs[-1][1] >= BIG else None
    rng.shuffle(pairs)
    pairs.sort(key=lambda p: (not p[0].needs_window, ENTRANCE not in p[0].beside))
    for pair in [p for p in pairs if p[0].beside - {ENTRANCE}]:
        partner = next((q for q in pairs if q is not pair and pair[0].pairs_with(q[0])), None)
        if partner is not None:
            pairs.remove(pair)
            pairs.insert(pairs.index(partner) + 1, pair)
    if last is not None:
        # The end room stays put: one that pairs with it goes just before it.
        mate = next((p for p in pairs if p[0].pairs_with(last[0])), None)
        if mate is not None:
            pairs.remove(mate)
            pairs.append(mate)
        pairs.append(last)
    return [p[0] for p in pairs], [p[1] for p in pairs]


def _start(strip: Strip, members: list[_Want], rng: random.Random, entrance: BaseGeometry) -> bool:
    """Start from the low end of the strip? From the end nearer its windows when a room
    needs one, else nearer the entrance when a room is wanted there, else as the seed
    says."""
    low, high = strip.span
    if strip.windows and any(m.needs_window for m in members):
        middle = sum(a + b for a, b in strip.windows) / (2 * len(strip.windows))
        return middle - low <= high - middle
    if any(ENTRANCE in m.beside for m in members):
        at = entrance.centroid.x if strip.axis == 0 else entrance.centroid.y
        return bool(at - low <= high - at)
    return rng.random() < 0.5
