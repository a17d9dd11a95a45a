"""bom's parameters: the walls (a list, an ingest result's pages, or a layout's partitions
and its plan) and the bill's sizes.

Every number is bounded in the schema (so a chain's parameters are checked at submission,
field by field) and again in ``__post_init__`` for a BomInput constructed directly; checks
across fields (walls, pages or a layout, a page's scale, opening and room indexes) run
there too, and a refusal names its field ("... - at `$.walls[0].x2`").
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from documents.bom_layout import measure_input
from documents.bom_shapes import (
    BomDoor,
    BomInputError,
    BomLayout,
    BomPlan,
    MetresPerUnit,
    Page,
    Scale,
)
from documents.model import Opening, Partition, Wall, at_field
from documents.scale import MAX_METRES_PER_UNIT

MAX_CEILING_MM = 100_000  # 100 m: any storey, any hall
# Lower bounds: a ceiling divides (a sheet covers at most its height), and below these no
# room, door or window is real: a 0.4 mm ceiling is a typo, not a 5000-sheet bill.
MIN_CEILING_MM = 500  # a knee wall under a roof slope
MIN_DOOR_MM = 600  # a cupboard door or an access hatch (plain openings use it too)
MIN_WINDOW_MM = 100  # a slit or clerestory window
# Stud spacing and sheet sides divide: their lower bound keeps every count finite (no real
# stud or sheet is this small), the upper one any sensible input.
MIN_SIZE_MM, MAX_SIZE_MM = 50, 10_000
MAX_OVERHEAD_PERCENT = 1000
MAX_LAYERS = 10
Size = Annotated[float, Meta(ge=MIN_SIZE_MM, le=MAX_SIZE_MM)]
Ceiling = Annotated[float, Meta(ge=MIN_CEILING_MM, le=MAX_CEILING_MM)]
DoorHeight = Annotated[float, Meta(ge=MIN_DOOR_MM, le=MAX_CEILING_MM)]
WindowHeight = Annotated[float, Meta(ge=MIN_WINDOW_MM, le=MAX_CEILING_MM)]
Sill = Annotated[float, Meta(ge=0, le=MAX_CEILING_MM)]
Units = Literal["m", "cm", "mm", "in", "ft", "pt", "metric", "imperial"]


class BomInput(msgspec.Struct, frozen=True, forbid_unknown_fields=False):
    """Give exactly one of ``walls`` (in ``units``), ``pages`` (the ingest result's) or a
    layout (the ``layout`` result: as ``layout``, or at the top level as a chain passes it)."""

    walls: list[Wall] | None = None
    openings: Annotated[
        list[Opening] | None,
        Meta(description="with walls: doors and windows in the same units (`wall` indexes walls)"),
    ] = None
    units: Annotated[
        Units,
        Meta(description="the wall list's unit (metric: m, imperial: ft); in, ft and imperial "
             "also make the bill imperial (ft, ft², lb, US gal)"),
    ] = "m"  # fmt: skip
    unit_system: Annotated[
        Literal["metric", "imperial"] | None,
        Meta(description="the bill's units, whatever `units` is; null: follow `units`"),
    ] = None
    pages: list[Page] | None = None
    use_pages: Annotated[
        list[Annotated[int, Meta(ge=0)]] | None,
        Meta(description="ingest `index` values (from 0) of the pages to use, any kind"),
    ] = None
    metres_per_unit: Annotated[
        MetresPerUnit | None, Meta(description="overrides units and every page's scale")
    ] = None
    ceiling_height_mm: Ceiling = 3048
    interior_sides: Annotated[
        int, Meta(ge=0, le=2, description="boarded faces of an interior wall (or not known)")
    ] = 2
    exterior_sides: Annotated[
        int, Meta(ge=1, le=2, description="boarded faces of an exterior wall (1: the inside)")
    ] = 1
    deduct_openings: Annotated[
        bool, Meta(description="false: openings neither deducted nor added")
    ] = True
    door_height_mm: Annotated[
        DoorHeight, Meta(description="doors and plain openings (open passages too)")
    ] = 2100
    window_height_mm: WindowHeight = 1200
    window_sill_mm: Sill = 900
    overhead_percent: Annotated[float, Meta(ge=0, le=MAX_OVERHEAD_PERCENT)] = 10
    stud_spacing_mm: Annotated[
        Size | None, Meta(description="null: 400 mm metric, 16 in imperial")
    ] = None
    sheet_width_mm: Annotated[
        Size | None, Meta(description="null: 1200 mm metric, 4 ft imperial")
    ] = None
    sheet_height_mm: Annotated[
        Size | None,
        Meta(description="null: the shortest standard length that spans the ceiling"),
    ] = None
    layers_per_side: Annotated[int, Meta(ge=1, le=MAX_LAYERS)] = 1
    # What an ingest result says of its document; bom does not read it.
    document: dict[str, Any] | None = None
    layout: Annotated[
        BomLayout | None,
        Meta(description="a `layout` result: its new `partitions` are billed boarded on both "
             "faces (whatever interior_sides says), less its new `doors`; a chain "
             "(?then=layout,bom) passes the result at the top level instead"),
    ] = None  # fmt: skip
    existing_walls: Annotated[
        bool,
        Meta(description="with a layout: also bill the walls and openings of the plan it was "
             "made for (its `plan`), as a wall list is billed (exterior walls on "
             "exterior_sides, the others on interior_sides); false: only the new partitions"),
    ] = False  # fmt: skip
    # A layout at the top level, as ``ingest?then=layout,bom`` passes it: what bom reads ...
    partitions: Annotated[
        list[Partition] | None,
        Meta(description="a layout's new walls, in its plan's units (a layout result at the "
             "top level, as a chain passes it)"),
    ] = None  # fmt: skip
    doors: Annotated[
        list[BomDoor] | None, Meta(description="a layout's new doors, on its partitions")
    ] = None
    scale: Annotated[
        Scale | None, Meta(description="a layout's scale: metres per plan unit")
    ] = None  # fmt: skip
    plan: Annotated[
        BomPlan | None,
        Meta(description="the walls and openings a layout was made for (existing_walls)"),
    ] = None
    # ... and what a layout result says besides (accepted, not read).
    rooms: Any = None
    corridor: Any = None
    open_areas: Any = None
    validation: Any = None
    score: Any = None
    seed: Any = None
    notes: Any = None
    candidates: Any = None
    brief: Any = None
    program: Any = None
    preview: Any = None

    def __post_init__(self) -> None:
        # Meta constraints hold when decoding; check them for direct construction too.
        most = MAX_CEILING_MM
        for name, least in (
            ("ceiling_height_mm", MIN_CEILING_MM),
            ("door_height_mm", MIN_DOOR_MM),
            ("window_height_mm", MIN_WINDOW_MM),
            ("window_sill_mm", 0),
        ):
            _check(least <= getattr(self, name) <= most, name, f"{least}..{most}")
        for name in ("stud_spacing_mm", "sheet_width_mm", "sheet_height_mm"):
            size = getattr(self, name)
            ok = size is None or MIN_SIZE_MM <= size <= MAX_SIZE_MM
            _check(ok, name, f"{MIN_SIZE_MM}..{MAX_SIZE_MM}")
        overhead = self.overhead_percent
        _check(
            0 <= overhead <= MAX_OVERHEAD_PERCENT, "overhead_percent", f"0..{MAX_OVERHEAD_PERCENT}"
        )
        _check(1 <= self.layers_per_side <= MAX_LAYERS, "layers_per_side", f"1..{MAX_LAYERS}")
        _check(0 <= self.interior_sides <= 2, "interior_sides", "0, 1 or 2")
        _check(1 <= self.exterior_sides <= 2, "exterior_sides", "1 or 2")
        mpu, top = self.metres_per_unit, MAX_METRES_PER_UNIT
        _check(mpu is None or 0 < mpu <= top, "metres_per_unit", f"> 0, <= {top:g}")
        measure_input(self)  # raises BomInputError, a ValidationError when decoding


def _check(ok: bool, name: str, bounds: str) -> None:
    if not ok:
        raise BomInputError(at_field(f"{name} must be {bounds}", f"$.{name}"))
