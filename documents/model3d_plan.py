"""The plan model3d builds, in metres: walls, the openings cut from them, rooms.

Whatever the input (``documents.model3d_input``), the plan comes out as centre-line walls
with their thickness, openings placed on their walls (``Cut``: the midpoint lies within
the wall's length, the wall is split around it) or in a gap between walls as CAD plans
draw them (``Gap``: the wall above the opening, and below a window, is filled in), and
room outlines. Plan coordinates (x right, y down the page) become metres from the plan's
top-left corner: the model's x and z (glTF is y up, so z runs down the page).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from documents.bom_units import UNIT_METRES
from documents.model import Opening, Wall, at_field
from documents.model3d_input import (
    Model3dInput,
    Model3dParameterError,
    Model3dRoom,
    Plan,
    PlanFields,
)

# An opening whose middle lies within this many wall thicknesses of a wall's centre line
# (and at most 50 mm more) is on that wall; ingest puts it on the line itself.
HOST_REACH = 1.0
HOST_SLACK_M = 0.05
Segment = tuple[float, float, float, float]


@dataclass(frozen=True)
class Wall3d:
    x1: float
    z1: float
    x2: float
    z2: float
    thickness: float
    kind: str  # "wall" (the plan's) or "partition" (a layout's)

    @property
    def length(self) -> float:
        return math.hypot(self.x2 - self.x1, self.z2 - self.z1)


@dataclass(frozen=True)
class Cut:
    """An opening within wall ``wall``: ``start``..``end`` metres along it from (x1, z1)."""

    wall: int
    start: float
    end: float
    kind: str


@dataclass(frozen=True)
class Gap:
    """An opening between walls: its span, filled above (and below a window)."""

    span: Segment
    thickness: float
    kind: str


@dataclass(frozen=True)
class Room3d:
    name: str
    polygon: list[tuple[float, float]]  # metres, x and z


@dataclass
class Plan3d:
    walls: list[Wall3d]
    cuts: list[Cut]
    gaps: list[Gap]
    rooms: list[Room3d]
    origin: tuple[float, float]  # plan units: the plan point at the model's x = z = 0
    metres_per_unit: float
    scale_source: str
    page: int | None
    warnings: list[str] = field(default_factory=list)
    # The plan's own walls and openings as given (plan units): the first of ``walls``.
    given_walls: list[Wall] = field(default_factory=list)
    given_openings: list[Opening] = field(default_factory=list)


@dataclass
class _Raw:
    """Geometry gathered in plan units, before the scale is applied."""

    walls: list[tuple[float, float, float, float, float, str]] = field(default_factory=list)
    openings: list[tuple[str, int | None, Segment, str]] = field(default_factory=list)
    rooms: list[Model3dRoom] = field(default_factory=list)
    scale: float | None = None
    source: str = ""
    page: int | None = None
    unit: str | None = None
    warnings: list[str] = field(default_factory=list)
    given_walls: list[Wall] = field(default_factory=list)
    given_openings: list[Opening] = field(default_factory=list)


def plan_of(params: Model3dInput, function: str = "model3d") -> Plan3d:
    """The plan of ``params`` in metres; Model3dParameterError when it cannot be had (the
    message says how to pass a scale to ``function`` in a chain)."""
    raw = _gather(params, params.page, "$")
    if params.metres_per_unit is not None:
        raw.scale, raw.source = params.metres_per_unit, "parameter"
    if not raw.walls and not any(len(room.polygon) >= 3 for room in raw.rooms):
        where = f"page {raw.page}" if raw.page is not None else "the plan"
        what = "lay out" if function == "layout" else "model"
        raise Model3dParameterError(f"{where} has no walls or rooms: nothing to {what}")
    if raw.scale is None:
        raise Model3dParameterError(_no_scale(raw, function))
    return _in_metres(raw, raw.scale, params.default_thickness_mm / 1000)


def _gather(source: PlanFields, page: int, path: str) -> _Raw:
    """``source``'s geometry over its ``plan``'s (a layout's partitions, doors and rooms
    over the plan it was made for); the walls themselves come from one level only."""
    raw = _Raw()
    if isinstance(source, Plan) and source.plan is not None:
        for name in ("pages", "walls", "openings"):
            if getattr(source, name) is not None:
                message = f"give {name} in `plan` or beside it, not both"
                raise Model3dParameterError(at_field(message, f"{path}.{name}"))
        raw = _gather(source.plan, page, f"{path}.plan")
    if source.pages is not None:
        _take_page(raw, source, page, path)
    if source.walls is not None:
        first = len(raw.walls)
        raw.walls += [(w.x1, w.y1, w.x2, w.y2, w.thickness, "wall") for w in source.walls]
        raw.given_walls += source.walls
        raw.given_openings += source.openings or []
        for j, opening in enumerate(source.openings or []):
            held = opening.wall
            if held is not None and not 0 <= held < len(source.walls):
                message = f"wall {held} is not an index in walls (0..{len(source.walls) - 1})"
                raise Model3dParameterError(at_field(message, f"{path}.openings[{j}].wall"))
            span = (opening.x1, opening.y1, opening.x2, opening.y2)
            at = None if held is None else first + held
            raw.openings.append((opening.kind, at, span, f"{path}.openings[{j}]"))
        if raw.scale is None:
            units = source.units or "m"
            raw.scale, raw.source = UNIT_METRES[units], f"units {units}"
    elif source.openings is not None:
        message = "openings go with 'walls'; an ingest page carries its own"
        raise Model3dParameterError(at_field(message, f"{path}.openings"))
    for part in source.partitions or []:
        raw.walls.append((part.x1, part.y1, part.x2, part.y2, part.thickness, "partition"))
    _take_doors(raw, source.doors or [], path)
    if source.rooms is not None:
        raw.rooms = list(source.rooms)  # a layout's rooms replace its plan's
    if source.scale is not None:
        raw.scale, raw.source = source.scale.metres_per_unit, source.scale.source or "scale"
    elif raw.scale is None and source.units is not None:
        raw.scale, raw.source = UNIT_METRES[source.units], f"units {source.units}"
    return raw


def _take_page(raw: _Raw, source: PlanFields, page: int, path: str) -> None:
    pages = source.pages or []
    indexes = [p.index if p.index is not None else k for k, p in enumerate(pages)]
    if page not in indexes:
        have = ", ".join(map(str, indexes)) or "none"
        message = f"page {page} is not in pages (their `index` values, from 0: {have})"
        raise Model3dParameterError(at_field(message, "$.page"))
    position = indexes.index(page)
    chosen = pages[position]
    first = len(raw.walls)
    raw.walls += [(w.x1, w.y1, w.x2, w.y2, w.thickness, "wall") for w in chosen.walls]
    raw.given_walls += chosen.walls
    raw.given_openings += chosen.openings
    for j, opening in enumerate(chosen.openings):
        held = opening.wall
        if held is not None and not 0 <= held < len(chosen.walls):
            message = f"wall {held} is not an index in the page's walls"
            raise Model3dParameterError(
                at_field(message, f"{path}.pages[{position}].openings[{j}].wall")
            )
        span = (opening.x1, opening.y1, opening.x2, opening.y2)
        at = None if held is None else first + held
        raw.openings.append((opening.kind, at, span, f"{path}.pages[{position}].openings[{j}]"))
    raw.rooms = list(chosen.rooms)
    raw.page, raw.unit = page, chosen.unit
    if chosen.kind not in (None, "plan"):
        raw.warnings.append(
            f"page {page} is a {chosen.kind}, not a plan: its lines may not be walls"
        )
    if chosen.scale is not None:
        raw.scale, raw.source = chosen.scale.metres_per_unit, chosen.scale.source or "page"


def _take_doors(raw: _Raw, doors: list[dict[str, object]], path: str) -> None:
    # A layout's doors have no fixed shape here yet: those with a span are placed.
    for j, door in enumerate(doors):
        values = [door.get(name) for name in ("x1", "y1", "x2", "y2")]
        numbers = [float(v) for v in values if isinstance(v, int | float)]
        if len(numbers) < 4 or not all(math.isfinite(v) for v in numbers):
            raw.warnings.append(f"{path}.doors[{j}] has no span (x1, y1, x2, y2): not cut")
            continue
        kind = door.get("kind")
        named = kind if kind in ("door", "window", "opening") else "door"
        span = (numbers[0], numbers[1], numbers[2], numbers[3])
        raw.openings.append((str(named), None, span, f"{path}.doors[{j}]"))


def _no_scale(raw: _Raw, function: str) -> str:
    # The number to paste, for a 1:100 drawing in the page's unit.
    if raw.unit == "px":
        example, what = 0.0254 / 150 * 100, "a 1:100 drawing scanned at 150 dpi"
    else:
        example, what = 0.0254 / 72 * 100, "a 1:100 drawing in PDF points"
    where = f"page {raw.page}" if raw.page is not None else "the plan"
    return at_field(
        f"{where} has no scale: pass metres_per_unit (metres per plan unit, e.g."
        f" {example:.6f} for {what}; in a chain ?then={function}&{function}.metres_per_unit="
        f"{example:.6f}), or give ingest the scale (scale=1:100)",
        "$.metres_per_unit",
    )


def _in_metres(raw: _Raw, scale: float, default_thickness: float) -> Plan3d:
    walls = []
    for x1, y1, x2, y2, thickness, kind in raw.walls:
        t = thickness * scale if thickness > 0 else default_thickness
        walls.append(Wall3d(x1 * scale, y1 * scale, x2 * scale, y2 * scale, t, kind))
    rooms, names = [], set()
    for k, room in enumerate(raw.rooms):
        name = _room_name(k, room)
        if name in names:  # node names must differ (trimesh keys its graph by them)
            name = f"{name} ({k})"
        names.add(name)
        rooms.append(Room3d(name, [(x * scale, y * scale) for x, y in room.polygon]))
    left, top = _corner(walls, rooms)
    walls = [
        Wall3d(w.x1 - left, w.z1 - top, w.x2 - left, w.z2 - top, w.thickness, w.kind) for w in walls
    ]
    rooms = [Room3d(r.name, [(x - left, z - top) for x, z in r.polygon]) for r in rooms]
    warnings = list(raw.warnings)
    short = sum(1 for w in walls if w.length <= 1e-6)
    if short:
        warnings.append(f"{short} wall(s) of zero length skipped")
    plan = Plan3d(
        walls, [], [], rooms, (left / scale, top / scale), scale, raw.source, raw.page, warnings,
        raw.given_walls, raw.given_openings,
    )  # fmt: skip
    typical = sorted(w.thickness for w in walls)[len(walls) // 2] if walls else default_thickness
    for kind, held, span, where in raw.openings:
        metres = (
            span[0] * scale - left,
            span[1] * scale - top,
            span[2] * scale - left,
            span[3] * scale - top,
        )
        _place(plan, kind, held, metres, typical, where)
    return plan


def _room_name(k: int, room: Model3dRoom) -> str:
    label = " ".join(part for part in (room.number, room.name) if part)
    return f"room-{room.id if room.id is not None else k}" + (f" {label}" if label else "")


def _corner(walls: list[Wall3d], rooms: list[Room3d]) -> tuple[float, float]:
    """The plan's top-left corner (metres): the walls' faces and the rooms' outlines."""
    xs = [p[0] for room in rooms for p in room.polygon]
    zs = [p[1] for room in rooms for p in room.polygon]
    for wall in walls:
        for x, z in _footprint(wall):
            xs.append(x)
            zs.append(z)
    return min(xs), min(zs)


def _footprint(wall: Wall3d) -> list[tuple[float, float]]:
    """The four corners of a wall's box seen from above."""
    length = wall.length
    if length <= 1e-6:
        return [(wall.x1, wall.z1)]
    nx = -(wall.z2 - wall.z1) / length * wall.thickness / 2
    nz = (wall.x2 - wall.x1) / length * wall.thickness / 2
    return [
        (wall.x1 + nx, wall.z1 + nz),
        (wall.x1 - nx, wall.z1 - nz),
        (wall.x2 + nx, wall.z2 + nz),
        (wall.x2 - nx, wall.z2 - nz),
    ]


def _place(
    plan: Plan3d, kind: str, held: int | None, span: Segment, typical: float, where: str
) -> None:
    """A Cut in the wall holding the opening's middle, or a Gap where no wall does."""
    mx, mz = (span[0] + span[2]) / 2, (span[1] + span[3]) / 2
    host = held if held is not None and _along(plan.walls[held], mx, mz) is not None else None
    if host is None:
        host = _host(plan.walls, mx, mz)
    if host is None:
        near = plan.walls[held].thickness if held is not None else typical
        if math.hypot(span[2] - span[0], span[3] - span[1]) > 1e-6:
            plan.gaps.append(Gap(span, near, kind))
        else:
            plan.warnings.append(f"{where} has zero width: not placed")
        return
    wall = plan.walls[host]
    ends = [_project(wall, span[0], span[1]), _project(wall, span[2], span[3])]
    start, end = max(min(ends), 0.0), min(max(ends), wall.length)
    if end - start > 1e-6:
        plan.cuts.append(Cut(host, start, end, kind))
    else:
        plan.warnings.append(f"{where} has zero width along its wall: not cut")


def _project(wall: Wall3d, x: float, z: float) -> float:
    return ((x - wall.x1) * (wall.x2 - wall.x1) + (z - wall.z1) * (wall.z2 - wall.z1)) / (
        wall.length
    )


def _along(wall: Wall3d, x: float, z: float) -> float | None:
    """How far along the wall (x, z) lies, if it lies on it (strictly between its ends)."""
    length = wall.length
    if length <= 1e-6:
        return None
    along = _project(wall, x, z)
    off = abs((x - wall.x1) * (wall.z2 - wall.z1) - (z - wall.z1) * (wall.x2 - wall.x1)) / length
    if 0 < along < length and off <= wall.thickness * HOST_REACH + HOST_SLACK_M:
        return along
    return None


def _host(walls: list[Wall3d], x: float, z: float) -> int | None:
    """The wall whose centre line passes nearest (x, z), within its reach."""
    best, best_off = None, math.inf
    for index, wall in enumerate(walls):
        if _along(wall, x, z) is None:
            continue
        length = wall.length
        off = abs((x - wall.x1) * (wall.z2 - wall.z1) - (z - wall.z1) * (wall.x2 - wall.x1))
        if off / length < best_off:
            best, best_off = index, off / length
    return best
