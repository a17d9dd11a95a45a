"""bom on a layout: its new partitions, boarded on both faces less its new doors, and (with
``existing_walls``) the walls of the plan it was made for, measured and billed per source.

A layout (the ``layout`` function's result, ``documents.layout_result``) comes as
``layout`` or at the top level of bom's parameters, as a chain passes it
(``ingest?then=layout,bom``); its other fields (rooms, corridor, validation, score, ...)
are not read. Its partitions and doors are in the plan's units at its ``scale`` (else its
plan's); ``metres_per_unit`` overrides it, or stands in when it has none.

- Partitions are new stud partitions: boarded on both faces whatever ``interior_sides``
  says; each one's ``length_m`` must be its centre line's length at the layout's scale.
- A new door whose midpoint lies within a partition's length, off its line by at most the
  partition's thickness, is deducted from it as a door (``deduct_openings``); a door on no
  partition is not, and the assumptions say how many.
- ``existing_walls``: the plan's walls and openings are billed as a wall list is
  (``documents.bom_measure``): exterior walls on ``exterior_sides``, the others on
  ``interior_sides``.

The bill keeps its shape; ``layout_totals`` gives each source's share, as ``page_totals``
gives a page's. Light (msgspec only): ``BomInput`` checks a layout with it at decoding.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, NamedTuple

import msgspec

from documents.bom_lines import Sizes, length
from documents.bom_measure import (
    MeasuredPage,
    PlanPage,
    check_bounded,
    measure,
    measure_page,
    placed,
    scale_bounded,
)
from documents.bom_numbers import fmt, plural
from documents.bom_result import BomResult
from documents.bom_shapes import BomDoor, BomInputError, BomLayout, Scale
from documents.model import Opening, OpeningKind, Wall, at_field

if TYPE_CHECKING:
    from documents.bom_input import BomInput

PARTITIONS, EXISTING = "partitions", "existing walls"
# A layout result's fields besides its partitions: at the top level, they come with them.
LAYOUT_FIELDS = (
    "doors", "scale", "plan", "rooms", "corridor", "open_areas", "validation", "score",
    "seed", "notes", "candidates", "brief", "program", "preview",
)  # fmt: skip
# A layout rounds length_m and width_m to a millimetre and its coordinates to a thousandth
# of a unit: a disagreement past 1 % (at least 1 cm) is a wrong scale, not rounding.
TOLERANCE = 0.01
# How far off a partition's line a door may lie, at least, in plan units (as bom allows
# an opening off its wall's line).
NEAR = 0.05


class GivenLayout(NamedTuple):
    layout: BomLayout
    path: str  # "$.layout", or "$" at the top level: where its fields are named


class MeasuredLayout(NamedTuple):
    pages: list[MeasuredPage]  # the partitions, then (existing_walls) the plan's walls
    doors: int  # the layout's new doors
    doors_off: int  # of them, on no partition: not deducted


class LayoutTotals(msgspec.Struct, frozen=True):
    """One source's share of a layout's bill (the new partitions, or the plan's existing
    walls), in the bill's units without overhead, ``wall_length_m`` in metres. Its sheets
    are rounded up per source, so they may add up to more than the bill's."""

    source: str  # "partitions" | "existing walls"
    scale: Scale | None  # as used: the layout's, or "parameter" (metres_per_unit)
    interior_sides: int  # faces boarded on its interior walls: 2 for new partitions
    walls: int
    exterior_walls: int
    unflagged_walls: int  # ``exterior`` null: boarded as interior walls
    wall_length_m: float
    wall_length: float
    wall_area: float  # one face: ΣL x H
    openings_deducted: int
    openings_added: int
    board_area: float
    board_formula: str
    sheets: int
    studs: int
    doors: int = 0  # partitions: the layout's new doors
    doors_off_partitions: int = 0  # of them, on no partition: not deducted


class LayoutBill(BomResult, frozen=True, omit_defaults=True):
    """A layout's bill: what every bill gives, and each source's share."""

    layout_totals: list[LayoutTotals] | None = None


def _error(message: str, path: str) -> BomInputError:
    return BomInputError(at_field(message, path))


def layout_of(params: BomInput) -> GivenLayout | None:
    """The layout in ``params`` (None: walls or pages), checked against the other fields."""
    if params.layout is None and params.partitions is None:
        for name in LAYOUT_FIELDS:
            if getattr(params, name) is not None:
                message = (
                    f"{name} is a layout result's field: give the layout's `partitions` with"
                    " it, or the whole result as 'layout'"
                )
                raise _error(message, f"$.{name}")
        if params.existing_walls:
            message = (
                "existing_walls is for a layout (its `plan`): walls and pages are billed whole"
            )
            raise _error(message, "$.existing_walls")
        return None
    if params.layout is not None:
        for name in ("partitions", *LAYOUT_FIELDS):
            if getattr(params, name) is not None:
                message = f"the layout is given as 'layout': {name} does not go beside it too"
                raise _error(message, f"$.{name}")
        given = GivenLayout(params.layout, "$.layout")
    else:
        top = BomLayout(params.partitions or [], params.doors or [], params.scale, params.plan)
        given = GivenLayout(top, "$")
    for name in ("walls", "pages"):
        if getattr(params, name) is not None:
            message = (
                f"give a layout or '{name}', not both: a layout's existing walls are its"
                " `plan`'s (existing_walls: true bills them)"
            )
            raise _error(message, f"$.{name}")
    if params.openings is not None:
        message = (
            "openings go with 'walls': a layout's new doors are its `doors`, its plan's"
            " openings its `plan.openings`"
        )
        raise _error(message, "$.openings")
    if params.use_pages is not None:
        raise _error("use_pages picks from 'pages', not a layout", "$.use_pages")
    if params.existing_walls and given.layout.plan is None:
        where = "plan" if given.path == "$" else "layout.plan"
        message = (
            "existing_walls bills the walls of the plan the layout was made for, and this"
            f" layout has no `plan` (a layout result carries it): give it as `{where}`"
            ' ({"walls": [...], "openings": [...]} in the layout\'s units), or leave'
            " existing_walls false"
        )
        raise _error(message, "$.existing_walls")
    return given


def _scales(given: GivenLayout, params: BomInput) -> tuple[Scale, float]:
    """The scale billed at, and the metres per unit the layout's own lengths (``length_m``,
    ``width_m``) are checked at: its scale, else the parameter standing in for it."""
    layout, path = given
    own, planned = layout.scale, layout.plan.scale if layout.plan is not None else None
    scale_bounded(own, f"{path}.scale")
    scale_bounded(planned, f"{path}.plan.scale")
    if own is not None and planned is not None:
        if not math.isclose(own.metres_per_unit, planned.metres_per_unit, rel_tol=1e-6):
            message = (
                f"the plan's scale ({planned.metres_per_unit:g} m per unit) is not the"
                f" layout's ({own.metres_per_unit:g}): a layout and its plan share their units"
            )
            raise _error(message, f"{path}.plan.scale.metres_per_unit")
    own = own or planned
    if params.metres_per_unit is not None:
        used = Scale(params.metres_per_unit, "parameter", 1.0)
    elif own is None:
        message = (
            "the layout has no scale (no `scale`, nor one in its `plan`): pass"
            " metres_per_unit, the metres per plan unit (0.0254 for a plan in inches; in a"
            " chain ?then=layout,bom&bom.metres_per_unit=0.0254)"
        )
        raise _error(message, "$.metres_per_unit")
    else:
        used = Scale(own.metres_per_unit, own.source or "layout", own.confidence)
    return used, (own or used).metres_per_unit


def _check_metres(span: float, given: float | None, per_unit: float, path: str) -> None:
    if given is None:
        return
    metres = span * per_unit
    if abs(metres - given) > max(TOLERANCE * metres, TOLERANCE):
        name = path.rsplit(".", 1)[-1]
        message = (
            f"{name} {given:g} is not the length of x1..y2 at {per_unit:g} m per unit"
            f" ({metres:.4g} m): the layout's coordinates and its scale disagree"
        )
        raise _error(message, path)


def _partition_under(door: BomDoor, walls: list[Wall]) -> int | None:
    """The partition whose length the door's midpoint lies within, nearest its line."""
    found, nearest = None, math.inf
    for index, wall in enumerate(walls):
        at = placed(door.x1, door.y1, door.x2, door.y2, wall)
        if at is None:
            continue
        if 0 < at.along < at.length and at.off <= max(wall.thickness, NEAR) and at.off < nearest:
            found, nearest = index, at.off
    return found


def measure_layout(params: BomInput, given: GivenLayout) -> MeasuredLayout:
    """The layout's partitions (with its doors on them) and, with ``existing_walls``, its
    plan's walls, each one page in metres; raises BomInputError."""
    layout, path = given
    scale, check = _scales(given, params)
    walls = []
    for i, partition in enumerate(layout.partitions):
        where = f"{path}.partitions[{i}]"
        check_bounded(partition, ("x1", "y1", "x2", "y2", "thickness"), where)
        span = math.hypot(partition.x2 - partition.x1, partition.y2 - partition.y1)
        _check_metres(span, partition.length_m, check, f"{where}.length_m")
        ends = (partition.x1, partition.y1, partition.x2, partition.y2)
        walls.append(Wall(*ends, partition.thickness, exterior=False))
    openings, off = [], 0
    for j, door in enumerate(layout.doors):
        where = f"{path}.doors[{j}]"
        check_bounded(door, ("x1", "y1", "x2", "y2"), where)
        span = math.hypot(door.x2 - door.x1, door.y2 - door.y1)
        _check_metres(span, door.width_m, check, f"{where}.width_m")
        holder = _partition_under(door, walls)
        if holder is None:
            off += 1
            continue
        kind: OpeningKind = "window" if door.kind == "window" else "door"
        openings.append(Opening(kind, holder, door.x1, door.y1, door.x2, door.y2, span))
    new = PlanPage(None, PARTITIONS, scale, walls, openings, [])
    pages = [measure_page(new, f"{path}.partitions", params, interior_sides=2)]
    if params.existing_walls and layout.plan is not None:
        plan = layout.plan
        old = PlanPage(None, EXISTING, scale, plan.walls, plan.openings, [])
        pages.append(measure_page(old, f"{path}.plan", params))
    return MeasuredLayout(pages, len(layout.doors), off)


def measure_input(params: BomInput) -> list[MeasuredPage]:
    """What ``params`` bills, page by page in metres: a layout's sources, or the walls."""
    given = layout_of(params)
    return measure(params) if given is None else measure_layout(params, given).pages


def wall_lengths_m(params: BomInput) -> list[float]:
    """Each non-degenerate wall's centre-line length in metres, in input order."""
    return [wall.length_m for page in measure_input(params) for wall in page.walls]


def sides_of(page: MeasuredPage, params: BomInput) -> tuple[int, int]:
    """The faces boarded on ``page``'s interior and exterior walls: new partitions on both."""
    inner = 2 if page.kind == PARTITIONS else params.interior_sides
    return inner, params.exterior_sides


def _swapped(sentences: list[str], prefix: str, new: list[str]) -> list[str]:
    """``sentences`` with the one starting with ``prefix`` replaced by ``new``."""
    for index, sentence in enumerate(sentences):
        if sentence.startswith(prefix):
            return [*sentences[:index], *new, *sentences[index + 1 :]]
    return [*sentences, *new]


def _layout_sentences(params: BomInput, measured: MeasuredLayout, sizes: Sizes) -> list[str]:
    """What a layout's bill took to be so: its partitions, doors and existing walls."""
    system = sizes.system
    new, *old = measured.pages
    run = length(sum(wall.length_m for wall in new.walls), system)
    on = measured.doors - measured.doors_off
    doors = f"The layout's new doors: {on} on its partitions, " + (
        "deducted from them as doors"
        if params.deduct_openings
        else "not deducted (deduct_openings false)"
    )
    if measured.doors_off:
        doors += f"; {measured.doors_off} on no new partition, not deducted"
    if not measured.doors:
        doors = "The layout has no new doors"
    sentences = [
        f"New partitions: {plural(len(new.walls), 'partition')} of the layout,"
        f" {fmt(run)} {system.length} in all along the centre lines, boarded on both faces"
        " whatever interior_sides says (they are new stud partitions).",
        f"{doors}.",
    ]
    if not old:
        sentences.append(
            "The plan's existing walls are not billed (existing_walls false): only what the"
            " layout builds."
        )
        return sentences
    walls = old[0].walls
    outer = sum(wall.exterior for wall in walls)
    unflagged = sum(not wall.flagged for wall in walls)
    guessed = f" ({unflagged} with no exterior flag, boarded as interior)" if unflagged else ""
    sentences.append(
        f"Existing walls (existing_walls true): the plan's {plural(len(walls), 'wall')},"
        f" billed as a wall list: interior walls on {plural(params.interior_sides, 'face')}"
        f" (interior_sides), exterior walls (exterior true) on"
        f" {plural(params.exterior_sides, 'face')} (exterior_sides); here {outer} exterior,"
        f" {len(walls) - outer} interior{guessed}."
    )
    if walls and unflagged == len(walls):
        sentences.append(
            f"Warning: none of the plan's {plural(len(walls), 'wall')} has an exterior flag,"
            f" so all were boarded as interior walls on {plural(params.interior_sides, 'face')};"
            " the exterior ones are likely over-counted (set exterior on the plan's walls to"
            " correct it)."
        )
    return sentences


def layout_bill(
    result: BomResult,
    measured: MeasuredLayout,
    totals: list[LayoutTotals],
    params: BomInput,
    sizes: Sizes,
) -> LayoutBill:
    """``result`` (the bill of ``measured``'s pages) with each source's share (``totals``),
    and the assumptions a layout's bill makes in place of a wall list's."""
    sentences = list(result.assumptions)
    if params.metres_per_unit is None:
        scale = measured.pages[0].scale
        per = scale.metres_per_unit if scale is not None else 0.0
        said = f"The layout in its plan's units, at {per:g} m per unit (its scale)."
        sentences = _swapped(sentences, "Wall list in units", [said])
    sentences = _swapped(
        sentences, "Interior walls are boarded on", _layout_sentences(params, measured, sizes)
    )
    fields: dict[str, Any] = msgspec.structs.asdict(result)
    fields["assumptions"] = sentences
    return LayoutBill(**fields, layout_totals=totals)
