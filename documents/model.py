"""The shapes documents produce and consume (light: no heavy imports)."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

import msgspec

# Drawing coordinates (PDF points, pixels, or the units of a hand-written wall list) are
# finite and at most this far from the origin: 1e12 mm is a million km (georeferenced
# coordinates in mm, a UTM northing of 5e9 mm, fit). The bound keeps every product a bill
# of materials forms far below float overflow.
MAX_COORDINATE = 1e12
Coordinate = Annotated[float, msgspec.Meta(ge=-MAX_COORDINATE, le=MAX_COORDINATE)]
# >= 0, not > 0: lengths run along the centre line, so the bill of materials never uses the
# thickness, and a hand-written wall list may give 0 for "not known"; < 0 means nothing.
Thickness = Annotated[float, msgspec.Meta(ge=0, le=MAX_COORDINATE)]


def at_field(message: str, path: str) -> str:
    """``message`` naming the input field as msgspec does: "... - at `$.scale`".

    A ValueError raised in a schema's ``__post_init__`` becomes msgspec's ValidationError
    with this text (msgspec appends the path of a nested struct after it), and the
    gateway's 400 names the field from it.
    """
    return f"{message} - at `{path}`"


class Wall(msgspec.Struct, frozen=True):
    """A wall as one segment along its centre line, with its thickness.

    Coordinates: origin at the page's top-left corner, x right, y down; PDF points for
    PDF input, pixels for image input. The bounds hold when decoding (msgspec), not when
    constructing one directly.
    """

    x1: Coordinate
    y1: Coordinate
    x2: Coordinate
    y2: Coordinate
    thickness: Thickness
    # True on the building's outline, False inside it, None when not known (a hand-written
    # list): ingest decides (documents.rooms), bom boards exterior walls on one face.
    exterior: bool | None = None


class Partition(msgspec.Struct, frozen=True):
    """A layout's new wall: its centre line and thickness in the plan's units, and its
    length in metres (bom checks it against the centre line at the layout's scale)."""

    ignore_unknown_fields: ClassVar[bool] = True

    x1: Coordinate
    y1: Coordinate
    x2: Coordinate
    y2: Coordinate
    thickness: Thickness = 0.0
    length_m: Annotated[float, msgspec.Meta(ge=0)] | None = None


OpeningKind = Literal["door", "window", "opening"]


class Opening(msgspec.Struct, frozen=True):
    """A door, window or plain opening (a gap with neither) in a wall.

    ``x1, y1, x2, y2`` span the opening along its wall's centre line, jamb to jamb, and
    ``width`` is that span's length, in page units like the walls. ``wall`` is the index
    in the page's ``walls`` of the wall it belongs to (one of the two beside a gap), or
    None when no wall holds it.
    """

    kind: OpeningKind
    wall: int | None
    x1: Coordinate
    y1: Coordinate
    x2: Coordinate
    y2: Coordinate
    width: Thickness


class Adjacency(msgspec.Struct, frozen=True):
    """Another room reached through a wall (``wall`` set) or an opening (``opening`` set)."""

    room: int
    via: Literal["wall", "door", "window", "opening"]
    wall: int | None = None
    opening: int | None = None


class Room(msgspec.Struct, frozen=True):
    """A closed space bounded by walls (openings closed), with the label found inside it.

    ``polygon`` is its outline (page units, not closed: the last point is not repeated),
    ``area`` in page units squared; ``openings`` are indexes in the page's ``openings``
    on its boundary; ``adjacent`` the rooms beside it.
    """

    id: int
    name: str | None
    number: str | None
    polygon: list[tuple[float, float]]
    area: float
    openings: list[int] = []
    adjacent: list[Adjacency] = []


class DocumentLimits(msgspec.Struct, frozen=True):
    """Bounds that keep a hostile document from taking a consumer's time or memory."""

    max_pages: int = 500
    # Pixels of one rendered page or decoded image (about 4 bytes each while decoding).
    max_pixels: int = 100_000_000
    # Pages one render job may produce.
    max_render_pages: int = 50
