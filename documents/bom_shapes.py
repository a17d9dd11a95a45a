"""What bom reads of an ingest page (scale, walls, openings, rooms) and of a layout, and
its input error.

An ingest result or a layout is passed on whole, with fields bom does not read: they are
ignored here (the gateway refuses unknown fields elsewhere: shared/unknown_fields.py).
Every number bom computes with is bounded, as ``documents.model.Coordinate`` bounds the
walls.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

import msgspec
from msgspec import Meta

from documents.model import Coordinate, Opening, Partition, Wall
from documents.scale import MAX_METRES_PER_UNIT
from shared.errors import SluiceError

MetresPerUnit = Annotated[float, Meta(gt=0, le=MAX_METRES_PER_UNIT)]


class BomInputError(SluiceError, ValueError):
    """The input cannot be turned into walls in metres (e.g. a page without a scale)."""


class Scale(msgspec.Struct, frozen=True):
    """A page's scale as ingest gives it; bom names it, with its source, per page."""

    metres_per_unit: MetresPerUnit
    source: str = ""
    confidence: Annotated[float, Meta(ge=0, le=1)] | None = None


class BomRoom(msgspec.Struct, frozen=True):
    """A room of an ingest page (``documents.model.Room``): its outline, in page units, and
    the indexes in the page's ``openings`` of those on its boundary."""

    ignore_unknown_fields: ClassVar[bool] = True

    id: int
    name: str | None = None
    number: str | None = None
    polygon: list[tuple[Coordinate, Coordinate]] = []
    openings: list[int] = []


class Page(msgspec.Struct, frozen=True):
    """One page of the ingest result; fields other than these are ignored."""

    ignore_unknown_fields: ClassVar[bool] = True

    index: int | None = None
    walls: list[Wall] = []
    openings: list[Opening] = []
    rooms: list[BomRoom] = []
    scale: Scale | None = None
    # "pt" (PDF points) or "px" (an image's pixels): what a missing scale's hint is in.
    unit: str | None = None
    # What the page shows (ingest's ``kind``): only plans count unless ``use_pages`` says.
    kind: str | None = None
    kind_reason: str | None = None


class BomDoor(msgspec.Struct, frozen=True):
    """A layout's new door: its span on a partition, in the plan's units, and its width
    in metres (checked as a partition's length is)."""

    ignore_unknown_fields: ClassVar[bool] = True

    x1: Coordinate
    y1: Coordinate
    x2: Coordinate
    y2: Coordinate
    width_m: Annotated[float, Meta(ge=0)] | None = None
    kind: str = "door"


class BomPlan(msgspec.Struct, frozen=True):
    """The walls and openings of the page a layout was made for, in the plan's units (a
    layout result's ``plan``); billed with ``existing_walls``."""

    ignore_unknown_fields: ClassVar[bool] = True

    walls: list[Wall] = []
    openings: list[Opening] = []
    scale: Scale | None = None


class BomLayout(msgspec.Struct, frozen=True):
    """What bom reads of a ``layout`` result; its other fields (rooms, corridor,
    validation, score, ...) are ignored."""

    ignore_unknown_fields: ClassVar[bool] = True

    partitions: list[Partition]
    doors: list[BomDoor] = []
    scale: Scale | None = None
    plan: BomPlan | None = None
