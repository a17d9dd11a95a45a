"""Walls, openings and rooms measured in metres, page by page, with their boarded faces.

A wall list is one page at its ``units`` (or ``metres_per_unit``); an ingest result's
plan pages (``documents.bom_pages``) each at their own scale, or ``metres_per_unit``; a
layout's partitions and plan (``documents.bom_layout``) are measured here page by page too.

Faces: a wall with ``exterior`` true is boarded on ``exterior_sides`` faces (the inside
one, by default), any other wall, ``exterior`` false or not known, on ``interior_sides``;
a wall whose ``exterior`` is null (ingest leaves it so on a page where no room closes, a
hand-written list may) is counted as such, so the bill can say how many were guessed.

Openings (with ``deduct_openings``): an opening whose midpoint lies within its wall's
length (the wall's centre line runs through it, as in a hand-made list) is deducted from
that wall's faces, width x its height (at most the wall's own area); an opening in a gap
between walls (as CAD plans draw them: the wall lines stop at the jambs), or with no wall,
is already missing from the walls' lengths, so the board above it (a door) or above and
below it (a window) is added: width x (ceiling - its height), on its wall's faces (an
opening with no wall: an interior wall's).

Rooms: each room's outline perimeter, and the area of the openings on it (width x
height), which a room's boarded face does not have.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import msgspec

from documents.bom_pages import choose_pages, page_index
from documents.bom_shapes import BomInputError, BomRoom, Scale
from documents.bom_units import UNIT_METRES
from documents.model import MAX_COORDINATE, Opening, Wall, at_field
from documents.scale import MAX_METRES_PER_UNIT

if TYPE_CHECKING:
    from documents.bom_input import BomInput


class Heights(NamedTuple):
    """In metres: the ceiling, and the openings' heights (clamped to the ceiling)."""

    ceiling: float
    door: float
    window_sill: float
    window: float

    def hole(self, kind: str) -> float:
        """The height of an opening of ``kind`` within the wall, floor to ceiling at most."""
        if kind == "window":
            bottom = min(self.window_sill, self.ceiling)
            return min(self.window_sill + self.window, self.ceiling) - bottom
        return min(self.door, self.ceiling)  # a door or a plain opening


class MeasuredWall(NamedTuple):
    length_m: float
    exterior: bool
    flagged: bool  # ``exterior`` was given (true or false); not: boarded as interior
    faces: int
    deducted_m2: float  # per face: openings inside it, at most length x ceiling


class MeasuredOpening(NamedTuple):
    kind: str
    width_m: float
    in_wall: bool  # deducted; else in a gap, the board above (and below) added
    faces: int
    area_m2: float  # per face: deducted (in_wall) or added


class MeasuredRoom(NamedTuple):
    id: int
    name: str | None
    number: str | None
    perimeter_m: float
    openings: int
    opening_area_m2: float  # one face: width x height of the openings on its outline


@dataclass(frozen=True)
class MeasuredPage:
    index: int | None  # None: a wall list
    kind: str | None
    scale: Scale | None
    walls: list[MeasuredWall]
    openings: list[MeasuredOpening]
    rooms: list[MeasuredRoom]


def heights_of(params: BomInput) -> Heights:
    """The ceiling and opening heights of ``params``, in metres."""
    return Heights(
        params.ceiling_height_mm / 1000,
        params.door_height_mm / 1000,
        params.window_sill_mm / 1000,
        params.window_height_mm / 1000,
    )


def measure(params: BomInput) -> list[MeasuredPage]:
    """Each page used (a wall list: one page), measured in metres; raises BomInputError."""
    if (params.walls is None) == (params.pages is None):
        # Neither: the walls are missing (as msgspec names a missing field); both: the
        # pages are the one too many.
        path = "$.walls" if params.walls is None else "$.pages"
        message = (
            "give exactly one of 'walls' or 'pages' (or a layout: the `layout` function's"
            " result, as 'layout' or at the top level)"
        )
        raise BomInputError(at_field(message, path))
    override = params.metres_per_unit
    if params.walls is not None:
        if params.use_pages is not None:
            raise BomInputError(
                at_field("use_pages picks from 'pages', not 'walls'", "$.use_pages")
            )
        listed_scale = (
            Scale(UNIT_METRES[params.units], f"units {params.units}")
            if override is None
            else Scale(override, "parameter", 1.0)
        )
        listed = PlanPage(None, None, listed_scale, params.walls, params.openings or [], [])
        return [measure_page(listed, "$", params)]
    if params.openings is not None:
        message = "openings go with 'walls'; an ingest page carries its own"
        raise BomInputError(at_field(message, "$.openings"))
    measured = []
    used, _ = choose_pages(params.pages or [], params.use_pages)
    for position, page in used:
        scale = page.scale if override is None else Scale(override, "parameter", 1.0)
        path = f"$.pages[{position}]"
        if scale is None:
            if page.walls or page.openings or page.rooms:
                _no_scale(position, page.index, page.unit, page.walls, page.openings, page.rooms)
        else:
            scale_bounded(scale, f"{path}.scale")
        index = page_index(position, page)
        shape = PlanPage(index, page.kind, scale, page.walls, page.openings, page.rooms)
        measured.append(measure_page(shape, path, params))
    return measured


@dataclass(frozen=True)
class PlanPage:
    """Walls and openings in one unit, at ``scale``: a page, a wall list, a layout's."""

    index: int | None
    kind: str | None
    scale: Scale | None
    walls: list[Wall]
    openings: list[Opening]
    rooms: list[BomRoom]


def _scale_hint(unit: str | None) -> str:
    """The value to pass, as a number one can paste, for the page's unit."""
    if unit == "px":
        per_unit, of = 0.0254 / 150 * 100, "for a 1:100 drawing scanned at 150 dpi (0.0254 / dpi"
    else:
        per_unit, of = 0.0254 / 72 * 100, "for a 1:100 drawing in PDF points (0.00035278"
    return (
        f"pass metres_per_unit as a number, e.g. {per_unit:.6f} {of} x the ratio), in a"
        f" chain ?then=bom&bom.metres_per_unit={per_unit:.6f}; or give ingest the scale"
        " (scale=1:100)"
    )


def _no_scale(
    position: int,
    index: int | None,
    unit: str | None,
    walls: list[Wall],
    openings: list[Opening],
    rooms: list[BomRoom],
) -> None:
    # Named as the ingest result names it (its ``index``), which counts from 0.
    name, by = (index, "`index`") if index is not None else (position, "position in `pages`")
    counts = [(len(walls), "wall"), (len(openings), "opening"), (len(rooms), "room")]
    has = " and ".join(f"{count} {what}(s)" for count, what in counts if count)
    message = (
        f"page {name} has {has} but no scale (pages counted from 0, by {by}): {_scale_hint(unit)}"
    )
    raise BomInputError(at_field(message, f"$.pages[{position}].scale"))


def check_bounded(shape: msgspec.Struct, names: tuple[str, ...], path: str) -> None:
    # The schema bounds these when decoding; a BomInput constructed directly is checked here.
    for name in names:
        value = getattr(shape, name)
        low = 0 if name in ("thickness", "width") else -MAX_COORDINATE
        if not low <= value <= MAX_COORDINATE:
            message = f"{name} must be a finite number in {low:g}..{MAX_COORDINATE:g}"
            raise BomInputError(at_field(message, f"{path}.{name}"))


class Placed(NamedTuple):
    """A span's midpoint against a wall's centre line: how far along it from (x1, y1),
    how far off it, and the wall's length (plan units)."""

    along: float
    off: float
    length: float


def placed(x1: float, y1: float, x2: float, y2: float, wall: Wall) -> Placed | None:
    """Where the span's midpoint lies against ``wall``; None for a wall of no length."""
    dx, dy = wall.x2 - wall.x1, wall.y2 - wall.y1
    length = math.hypot(dx, dy)
    if length == 0:
        return None
    mx, my = (x1 + x2) / 2, (y1 + y2) / 2
    along = ((mx - wall.x1) * dx + (my - wall.y1) * dy) / length
    off = abs((mx - wall.x1) * dy - (my - wall.y1) * dx) / length
    return Placed(along, off, length)


def scale_bounded(scale: Scale | None, path: str) -> None:
    """A scale within bounds (the schema's, for a struct constructed directly)."""
    if scale is not None and not 0 < scale.metres_per_unit <= MAX_METRES_PER_UNIT:
        message = f"metres_per_unit must be > 0 and <= {MAX_METRES_PER_UNIT:g}"
        raise BomInputError(at_field(message, f"{path}.metres_per_unit"))


def _inside(opening: Opening, wall: Wall) -> bool:
    """Whether the opening's midpoint projects strictly between the wall's ends."""
    at = placed(opening.x1, opening.y1, opening.x2, opening.y2, wall)
    return at is not None and 0 < at.along < at.length


def _check_opening(opening: Opening, walls: list[Wall], where: str) -> None:
    """An opening's ``width`` is its span's length, and the span lies on its wall's line,
    within the wall or in a gap at its end (as ingest gives them; a hand-made list may
    not)."""
    span = math.hypot(opening.x2 - opening.x1, opening.y2 - opening.y1)
    if abs(opening.width - span) > max(0.02 * span, 0.05):
        message = f"width {opening.width:g} is not the length of the span x1..y2 ({span:.4g})"
        raise BomInputError(at_field(message, f"{where}.width"))
    if opening.wall is None:
        return
    wall = walls[opening.wall]
    at = placed(opening.x1, opening.y1, opening.x2, opening.y2, wall)
    if at is None:
        return
    along, off, length = at
    beyond = max(-along, along - length, 0.0)
    if off > max(wall.thickness, 0.05) or beyond > span + max(wall.thickness, 0.05):
        message = (
            f"the opening is not on wall {opening.wall}: its middle lies {off:.4g} from the"
            f" wall's line and {beyond:.4g} past its end"
        )
        raise BomInputError(at_field(message, f"{where}.wall"))


def measure_page(
    page: PlanPage, path: str, params: BomInput, interior_sides: int | None = None
) -> MeasuredPage:
    """``page`` in metres; ``interior_sides`` overrides the parameter (a layout's new
    partitions are boarded on both faces)."""
    mpu = page.scale.metres_per_unit if page.scale is not None else 0.0
    heights = heights_of(params)
    inner = params.interior_sides if interior_sides is None else interior_sides
    sides = {True: params.exterior_sides, False: inner}
    lengths = []
    for i, wall in enumerate(page.walls):
        check_bounded(wall, ("x1", "y1", "x2", "y2", "thickness"), f"{path}.walls[{i}]")
        lengths.append(math.hypot(wall.x2 - wall.x1, wall.y2 - wall.y1) * mpu)
    deducted = [0.0] * len(page.walls)
    openings = []
    for j, opening in enumerate(page.openings):
        where = f"{path}.openings[{j}]"
        check_bounded(opening, ("x1", "y1", "x2", "y2", "width"), where)
        if opening.wall is not None and not 0 <= opening.wall < len(page.walls):
            have = f"0..{len(page.walls) - 1}" if page.walls else "none: there are no walls"
            message = f"wall {opening.wall} is not an index in walls ({have})"
            raise BomInputError(at_field(message, f"{where}.wall"))
        _check_opening(opening, page.walls, where)
        if not params.deduct_openings:
            continue
        holder = page.walls[opening.wall] if opening.wall is not None else None
        faces = sides[holder is not None and holder.exterior is True]
        width = opening.width * mpu
        hole = heights.hole(opening.kind)
        in_wall = holder is not None and _inside(opening, holder)
        if in_wall and opening.wall is not None:
            deducted[opening.wall] += width * hole
        area = width * (hole if in_wall else heights.ceiling - hole)
        openings.append(MeasuredOpening(opening.kind, width, in_wall, faces, area))
    walls = [
        MeasuredWall(
            length,
            wall.exterior is True,
            wall.exterior is not None,
            sides[wall.exterior is True],
            min(deducted[i], length * heights.ceiling),
        )
        for i, (wall, length) in enumerate(zip(page.walls, lengths, strict=True))
        if length > 1e-9
    ]
    rooms = [
        _measure_room(room, f"{path}.rooms[{k}]", page.openings, mpu, params, heights)
        for k, room in enumerate(page.rooms)
    ]
    return MeasuredPage(page.index, page.kind, page.scale, walls, openings, rooms)


def _measure_room(
    room: BomRoom,
    path: str,
    openings: list[Opening],
    mpu: float,
    params: BomInput,
    heights: Heights,
) -> MeasuredRoom:
    for k, (x, y) in enumerate(room.polygon):
        if not (-MAX_COORDINATE <= x <= MAX_COORDINATE and -MAX_COORDINATE <= y <= MAX_COORDINATE):
            message = f"a point must be finite numbers in {-MAX_COORDINATE:g}..{MAX_COORDINATE:g}"
            raise BomInputError(at_field(message, f"{path}.polygon[{k}]"))
    points = room.polygon
    perimeter = sum(
        math.hypot(x2 - x1, y2 - y1)
        for (x1, y1), (x2, y2) in zip(points, points[1:] + points[:1], strict=True)
    )
    area = 0.0
    for k, which in enumerate(room.openings):
        if not 0 <= which < len(openings):
            have = f"0..{len(openings) - 1}" if openings else "none: the page has no openings"
            message = f"opening {which} is not an index in the page's openings ({have})"
            raise BomInputError(at_field(message, f"{path}.openings[{k}]"))
        opening = openings[which]
        area += opening.width * mpu * heights.hole(opening.kind)
    if not params.deduct_openings:
        area = 0.0
    counted = len(room.openings) if params.deduct_openings else 0
    return MeasuredRoom(room.id, room.name, room.number, perimeter * mpu, counted, area)
