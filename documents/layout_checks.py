"""A candidate layout judged: each check with its numbers, and a score among valid ones.

Checks (``Check.name``): ``area`` (each room within its bounds, and every requested room
placed), ``min_width`` (the short side of each room's minimum rotated rectangle),
``reachable`` (a path from the entrance through the corridor and doors to every room;
existing inner walls block the corridor except at their doors), ``openings`` (no new
partition across an existing door or window), ``walls`` (no new partition over an existing
wall), ``corridor_width`` (the corridor survives an opening by half its width), and
``windows`` (each room that needs one has a window on its edge) and ``adjacency`` (each
room sharing a wall with a room it is asked to be next to, or within a corridor's width of
the entrance). ``shortfall`` says by how
much a check fails, in its own unit (m2, m, rooms), so callers can rank near misses.
"""

from __future__ import annotations

from typing import Any

import msgspec
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from documents.layout_candidate import Candidate
from documents.layout_program import ENTRANCE, Resolved, room_key, room_names
from documents.layout_site import Site, polygons, side_lengths

AREA_SLACK = 0.005  # 0.5 %: areas are cut to a millimetre grid
WIDTH_SLACK_M = 0.005
TOUCH_M = 0.02
SLIVER_M2 = 1.0  # a room may keep a corner this small behind an existing wall's end
SHARED_MIN_M = 0.5  # rooms are next to each other when they share this much wall
WINDOW_MIN_M = 0.5  # a room "has" a window when this much of it (or half of it) is on its edge


class Check(msgspec.Struct, frozen=True):
    name: str
    passed: bool
    shortfall: float  # how far from passing, in ``unit``; 0 when passed
    unit: str
    details: list[dict[str, Any]]  # one line per room or partition that fails (or all)
    summary: str


class Validation(msgspec.Struct, frozen=True):
    valid: bool
    checks: list[Check]

    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]


class Score(msgspec.Struct, frozen=True):
    """Lower is better. ``area_error``: the mean of |area - wanted| / wanted over rooms
    (wanted: the middle of the bounds, or the minimum without a maximum);
    ``compactness``: the mean of 16 A / P^2 (1 for a square, lower for long or ragged
    rooms), counted as 1 - compactness; ``partition_m``: new partitions' length, counted
    as its ratio to the site's perimeter, halved; ``walls_cut_m2``: room area an existing
    wall cuts off from the rest of its room (``cut_by_walls``), counted as its ratio
    to the rooms' area, ten times over. ``total`` is the sum of the terms."""

    total: float
    area_error: float
    compactness: float
    partition_m: float
    walls_cut_m2: float = 0.0


def validate(site: Site, resolved: Resolved, candidate: Candidate) -> Validation:
    checks = [
        _area(resolved, candidate),
        _width(resolved, candidate),
        _reachable(site, candidate),
        _openings(site, candidate),
        _walls(site, candidate),
        _corridor(resolved, candidate),
        _windows(site, candidate),
        _adjacency(site, resolved, candidate),
    ]
    return Validation(all(c.passed for c in checks), checks)


def _check(name: str, unit: str, details: list[dict[str, Any]], short: float, ok: str) -> Check:
    passed = not details
    summary = ok if passed else f"{len(details)} failing, short by {short:.2f} {unit}"
    return Check(name, passed, round(short, 3), unit, details, summary)


def _area(resolved: Resolved, candidate: Candidate) -> Check:
    details: list[dict[str, Any]] = []
    short = 0.0
    for room in candidate.rooms:
        want = resolved.rooms[room.request]
        area = room.polygon.area
        low = want.min_area_m2 * (1 - AREA_SLACK)
        high = None if want.max_area_m2 is None else want.max_area_m2 * (1 + AREA_SLACK)
        bounds = [want.min_area_m2, want.max_area_m2]
        if area < low:
            by = want.min_area_m2 - area
            details.append({"room": room.name, "area_m2": round(area, 2), "bounds_m2": bounds,
                            "below_by_m2": round(by, 2)})  # fmt: skip
            short += by
        elif high is not None and area > high:
            by = area - (want.max_area_m2 or 0.0)
            details.append({"room": room.name, "area_m2": round(area, 2), "bounds_m2": bounds,
                            "above_by_m2": round(by, 2)})  # fmt: skip
            short += by
    placed = {r.name for r in candidate.rooms}
    for index, name in room_names(resolved.rooms):
        if name not in placed:
            want = resolved.rooms[index]
            details.append({"room": name, "area_m2": 0, "missing": True,
                            "below_by_m2": want.min_area_m2, "request": index})  # fmt: skip
            short += want.min_area_m2
    return _check("area", "m2", details, short, "every room within its bounds")


def _width(resolved: Resolved, candidate: Candidate) -> Check:
    least = resolved.min_room_width_m
    details: list[dict[str, Any]] = []
    short = 0.0
    for room in candidate.rooms:
        width = side_lengths(room.polygon)[0]
        if width < least - WIDTH_SLACK_M:
            details.append({"room": room.name, "width_m": round(width, 3), "min_m": least,
                            "narrower_by_m": round(least - width, 3)})  # fmt: skip
            short += least - width
    return _check("min_width", "m", details, short, f"every room at least {least:g} m wide")


def _reachable(site: Site, candidate: Candidate) -> Check:
    """Circulation (corridor pieces between the existing walls, open areas) joins where
    its floor meets along 0.9 m or the entrance opens onto it; a room is reached when the
    entrance opens into it or one of its doors opens onto circulation joined to the
    entrance. Rooms are not thoroughfares: no path runs through another room."""
    blocking = site.blocking_walls()
    spaces = polygons(candidate.corridor.difference(blocking)) + candidate.open_areas
    parent = list(range(len(spaces) + 1))
    entrance = len(spaces)

    def find(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    thickest = max((w.thickness for w in site.walls), default=0.3)
    door_zone = site.entrance.buffer(thickest)
    for k, space in enumerate(spaces):
        if space.intersection(door_zone).area > 1e-4:
            parent[find(k)] = find(entrance)
        for j in range(k):  # open floor: corridor and open areas meeting along 0.9 m
            if space.intersection(spaces[j].buffer(TOUCH_M)).area > 0.9 * TOUCH_M:
                parent[find(k)] = find(j)
    through = blocking.buffer(TOUCH_M)
    reached = set()
    for index, room in enumerate(candidate.rooms):
        if room.polygon.intersection(door_zone).area > 1e-4:
            reached.add(index)
    for door in candidate.doors:
        if door.span.within(through):
            continue
        if any(
            door.span.distance(space) <= TOUCH_M and find(k) == find(entrance)
            for k, space in enumerate(spaces)
        ):
            reached.add(door.room)
    details = [
        {"room": r.name, "doors": len(candidate.doors_of(i))}
        for i, r in enumerate(candidate.rooms)
        if i not in reached
    ]
    return _check("reachable", "rooms", details, len(details), "every room reached")


def _partition_shapes(candidate: Candidate) -> list[BaseGeometry]:
    half = max(candidate.thickness_m, 1e-3) / 2
    return [p.buffer(half, cap_style="flat", join_style="mitre") for p in candidate.partitions]


def _openings(site: Site, candidate: Candidate) -> Check:
    details: list[dict[str, Any]] = []
    short = 0.0
    shapes = _partition_shapes(candidate)
    for opening in site.openings:
        zone = opening.zone if opening.face is None else opening.face.buffer(TOUCH_M)
        for j, shape in enumerate(shapes):
            hit = shape.intersection(zone)
            if hit.area > 1e-6 or (opening.face is not None and hit.length > 1e-3):
                x0, y0, x1, y1 = hit.bounds
                across = round(max(x1 - x0, y1 - y0), 3)
                middle = opening.span.interpolate(0.5, normalized=True)
                at = [round(v, 2) for v in site.to_plan(middle.x, middle.y)]
                details.append({"partition": j, "opening": opening.kind, "opening_at": at,
                                "overlap_m": across})  # fmt: skip
                short += across
    return _check("openings", "m", details, short, "no new partition across an opening")


def _walls(site: Site, candidate: Candidate) -> Check:
    inner = site.inner_walls()
    details: list[dict[str, Any]] = []
    short = 0.0
    for j, shape in enumerate(_partition_shapes(candidate)):
        overlap = shape.intersection(inner).area
        if overlap > 1e-4:
            length = overlap / max(candidate.thickness_m, 1e-3)
            details.append({"partition": j, "overlap_m2": round(overlap, 4),
                            "overlap_m": round(length, 3)})  # fmt: skip
            short += length
    return _check("walls", "m", details, short, "no new partition over an existing wall")


def _corridor(resolved: Resolved, candidate: Candidate) -> Check:
    width = resolved.corridor_width_m
    corridor = candidate.corridor
    if corridor.is_empty:
        detail = {"corridor_m2": 0, "width_m": 0, "min_m": width}
        return _check("corridor_width", "m", [detail], width, "")
    narrowest = _narrowest(corridor, width)
    details = []
    if narrowest < width - WIDTH_SLACK_M:
        details.append({"narrowest_m": round(narrowest, 3), "min_m": width,
                        "narrower_by_m": round(width - narrowest, 3)})  # fmt: skip
    return _check("corridor_width", "m", details, width - narrowest if details else 0.0,
                  f"corridor at least {width:g} m wide")  # fmt: skip


def _kept(shape: BaseGeometry, half: float) -> float:
    opened = shape.buffer(-half, join_style="mitre").buffer(half, join_style="mitre")
    return float(opened.intersection(shape).area / shape.area)


def _narrowest(corridor: BaseGeometry, width: float) -> float:
    """The width every part of the corridor has: the largest whose opening keeps it."""
    if _kept(corridor, width / 2 - 1e-3) > 0.995:
        return width
    lo, hi = 0.0, width
    for _ in range(12):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _kept(corridor, mid / 2 - 1e-3) > 0.995 else (lo, mid)
    return lo


def _windows(site: Site, candidate: Candidate) -> Check:
    faces = [w.face for w in site.windows if w.face is not None]
    details = []
    for room in candidate.rooms:
        if not room.needs_window:
            continue
        edge = room.polygon.boundary
        got = sum(f.intersection(edge.buffer(TOUCH_M)).length for f in faces)
        need = min((min(WINDOW_MIN_M, f.length / 2) for f in faces), default=WINDOW_MIN_M)
        if got < need:
            details.append({"room": room.name, "window_m": round(got, 3), "need_m": need})
    return _check("windows", "rooms", details, len(details), "every room needing one has a window")


def _adjacency(site: Site, resolved: Resolved, candidate: Candidate) -> Check:
    details: list[dict[str, Any]] = []
    for room in candidate.rooms:
        for target in resolved.rooms[room.request].adjacent_to:
            key = room_key(target)
            if key == ENTRANCE:
                gap = room.polygon.distance(site.entrance)
                if gap > resolved.corridor_width_m + TOUCH_M:
                    details.append({"room": room.name, "next_to": ENTRANCE,
                                    "away_m": round(gap, 2)})  # fmt: skip
                continue
            others = [o for o in candidate.rooms if room_key(o.kind) == key and o is not room]
            shared = max((_shared(room.polygon, o.polygon) for o in others), default=0.0)
            if shared < SHARED_MIN_M:
                details.append({"room": room.name, "next_to": target,
                                "shared_m": round(shared, 2), "need_m": SHARED_MIN_M})  # fmt: skip
    return _check("adjacency", "pairs", details, len(details),
                  "every room beside the rooms it is asked to be next to")  # fmt: skip


def _shared(a: Polygon, b: Polygon) -> float:
    """The length of a's edge along b (the wall they would share)."""
    return float(a.exterior.intersection(b.buffer(TOUCH_M)).length)


def cut_by_walls(site: Site, candidate: Candidate) -> list[dict[str, Any]]:
    """Rooms an existing inner wall cuts in two (beyond a sliver): the generator lays
    rooms across the floor, keeping new partitions off the walls, not rooms within them."""
    walls = site.inner_walls()
    found = []
    for room in candidate.rooms:
        parts = sorted((p.area for p in polygons(room.polygon.difference(walls))), reverse=True)
        beyond = sum(parts[1:])
        if beyond > SLIVER_M2:
            found.append({"room": room.name, "cut_off_m2": round(beyond, 2)})
    return found


def score(candidate: Candidate, validation: Validation, site: Site | None = None) -> Score:
    """The score of a candidate (see ``Score``); invalid ones score like valid ones, the
    caller keeps only valid ones. Without ``site`` no wall is counted."""
    del validation  # the score does not depend on the checks; the caller filters
    errors, compact = [], []
    for room in candidate.rooms:
        top = room.max_m2
        wanted = room.min_m2 if top is None else (room.min_m2 + top) / 2
        area = room.polygon.area
        errors.append(abs(area - wanted) / max(wanted, 1e-6))
        compact.append(_compactness(room.polygon))
    area_error = sum(errors) / len(errors) if errors else 1.0
    compactness = sum(compact) / len(compact) if compact else 0.0
    length = sum(p.length for p in candidate.partitions)
    ratio = length / max(candidate.outline_m, 1e-6)
    cut = sum(d["cut_off_m2"] for d in cut_by_walls(site, candidate)) if site else 0.0
    rooms_m2 = sum(room.polygon.area for room in candidate.rooms)
    total = area_error + (1 - compactness) + 0.5 * ratio + 10 * cut / max(rooms_m2, 1e-6)
    return Score(
        round(total, 4),
        round(area_error, 4),
        round(compactness, 4),
        round(length, 3),
        round(cut, 2),
    )


def _compactness(polygon: Polygon) -> float:
    perimeter = polygon.exterior.length
    return 0.0 if perimeter <= 0 else min(1.0, 16 * polygon.area / perimeter**2)
