"""model3d's parameters: the plan (an ingest result, a layout or a wall list) and heights.

The plan may be given as ``plan`` or at the top level, as a chain passes the result of
the job before (``ingest?then=model3d``: ``pages`` and ``document``; a layout: ``rooms``,
``partitions``, ``doors`` over its ``plan``; the rest of a layout's result is unread here).
Light (msgspec only): the gateway imports it for the schema.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

import msgspec
from msgspec import Meta

from documents.bom_input import Ceiling, DoorHeight, Sill, Units
from documents.bom_shapes import MetresPerUnit, Scale
from documents.errors import DocumentError
from documents.model import Coordinate, Opening, Partition, Wall, at_field
from shared import error_types

MAX_SLAB_MM = 5_000  # a transfer slab is thick; 5 m is none
MIN_THICKNESS_MM, MAX_THICKNESS_MM = 10, 5_000


class Model3dParameterError(DocumentError, ValueError):
    """A parameter that cannot apply to this plan (a page without scale, a page index
    past the end): the job fails at once as ``BadParameter``, naming what to pass."""

    def __init__(self, message: str) -> None:
        super().__init__(message, type=error_types.BAD_PARAMETER)


class Model3dRoom(msgspec.Struct, frozen=True):
    """A room of an ingest page or a layout: its outline in plan units and its label."""

    ignore_unknown_fields: ClassVar[bool] = True

    id: int | None = None
    name: str | None = None
    number: str | None = None
    polygon: list[tuple[Coordinate, Coordinate]] = []


class Model3dPage(msgspec.Struct, frozen=True):
    """One page of an ingest result; fields other than these are ignored."""

    ignore_unknown_fields: ClassVar[bool] = True

    index: int | None = None
    walls: list[Wall] = []
    openings: list[Opening] = []
    rooms: list[Model3dRoom] = []
    scale: Scale | None = None
    unit: str | None = None
    kind: str | None = None  # ingest's judgement: plan, section, elevation, ...


class PlanFields(msgspec.Struct, frozen=True):
    """An ingest result (``pages``), a wall list (``walls``, ``openings``, ``rooms`` in
    ``units``) or a layout (``rooms``, ``partitions``, ``doors``, over ``walls`` or
    ``pages`` when it carries them). A field none of them has is refused (the gateway
    names it: ``plan.unit`` for ``units`` must not read millimetres as metres)."""

    ignore_unknown_fields: ClassVar[bool] = False

    pages: list[Model3dPage] | None = None
    walls: list[Wall] | None = None
    openings: Annotated[
        list[Opening] | None,
        Meta(description="with walls: doors and windows in the same units (`wall` indexes walls)"),
    ] = None
    units: Annotated[
        Units | None, Meta(description="the wall list's unit; null: m for a wall list")
    ] = None
    rooms: list[Model3dRoom] | None = None
    partitions: list[Partition] | None = None
    # A layout's doors: those with a span (x1, y1, x2, y2) are cut from the wall under them.
    doors: list[dict[str, Any]] | None = None
    scale: Scale | None = None
    # What an ingest result or a layout says besides its geometry, not read here.
    document: dict[str, Any] | None = None
    validation: Any = None
    score: Any = None
    candidates: Any = None
    corridor: Any = None
    open_areas: Any = None
    seed: Any = None
    notes: Any = None
    brief: Any = None
    program: Any = None
    preview: Any = None


class Plan(PlanFields, frozen=True):
    """Those fields, over the ``plan`` a layout was made for (if it carries it). Two
    levels, not a recursive type: a JSON Schema that refers to itself does not expand."""

    plan: PlanFields | None = None


class PlanInput(Plan, frozen=True):
    """A function's plan, as ``plan`` or at the top level (a chain's previous result),
    with the page to read and the scale to read it at (model3d's and layout's)."""

    ignore_unknown_fields: ClassVar[bool] = False

    plan: Plan | None = None  # a layout, over its own plan
    page: Annotated[
        int, Meta(ge=0, description="the ingest page to use, by its `index` (from 0)")
    ] = 0
    metres_per_unit: Annotated[
        MetresPerUnit | None, Meta(description="overrides units and the page's scale")
    ] = None


class Model3dInput(PlanInput, frozen=True):
    """The plan and the heights."""

    ceiling_height_mm: Ceiling = 3048
    slab_thickness_mm: Annotated[
        float, Meta(ge=0, le=MAX_SLAB_MM, description="the floor slab under the plan; 0: none")
    ] = 200
    door_height_mm: Annotated[
        DoorHeight, Meta(description="door head: doors and plain openings, from the floor")
    ] = 2100
    window_sill_mm: Sill = 900
    window_head_mm: Annotated[
        Sill, Meta(description="window head, from the floor; above window_sill_mm")
    ] = 2100
    default_thickness_mm: Annotated[
        float,
        Meta(
            ge=MIN_THICKNESS_MM,
            le=MAX_THICKNESS_MM,
            description="the thickness of walls given as 0 (not known)",
        ),
    ] = 100

    def __post_init__(self) -> None:
        # A ValueError here is a 400 at submission naming the field.
        if self.window_head_mm <= self.window_sill_mm:
            message = f"window_head_mm must be above window_sill_mm ({self.window_sill_mm:g})"
            raise ValueError(at_field(message, "$.window_head_mm"))
