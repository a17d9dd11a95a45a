"""The shape of a bill: its lines, totals, subtotals per page and per room, assumptions."""

from __future__ import annotations

import msgspec

from documents.bom_pages import PageChoice
from documents.bom_shapes import Scale


class BomLine(msgspec.Struct, frozen=True):
    key: str
    item: str
    quantity: int | float
    unit: str
    formula: str
    quantity_with_overhead: int | float
    overhead_formula: str


class OutputUnits(msgspec.Struct, frozen=True):
    """The units of every quantity not named by its field (``wall_length_m`` is in m)."""

    system: str  # "metric" | "imperial"
    length: str
    area: str
    mass: str
    volume: str


class BomTotals(msgspec.Struct, frozen=True):
    walls: int
    wall_length_m: float
    wall_area_m2: float  # one face: ΣL x H
    board_area_m2: float  # every boarded face x layers, openings deducted or added
    overhead_percent: float
    without_overhead: dict[str, int | float]  # line key -> quantity
    with_overhead: dict[str, int | float]
    # The same in the bill's units (``units``), and how the board was found.
    exterior_walls: int = 0
    wall_length: float = 0.0
    wall_area: float = 0.0
    board_area: float = 0.0
    board_formula: str = ""
    openings_deducted: int = 0
    openings_added: int = 0


class PageTotals(msgspec.Struct, frozen=True):
    """One page's share, in the bill's units, without overhead. Its sheets are rounded up
    per page, so they may add up to more than the bill's."""

    index: int
    kind: str | None
    scale: Scale | None  # as used: the page's own, or "parameter" (metres_per_unit)
    walls: int
    exterior_walls: int
    wall_length: float
    wall_area: float  # one face: ΣL x H
    openings_deducted: int
    openings_added: int
    board_area: float
    sheets: int
    studs: int
    unflagged_walls: int = 0  # ``exterior`` null: boarded as interior walls


class RoomTotals(msgspec.Struct, frozen=True):
    """One room's boarded face: its outline x the ceiling, less its openings, x layers;
    ``index`` is its page's ingest ``index`` (from 0), as in ``page_totals``."""

    index: int
    id: int
    name: str | None
    number: str | None
    perimeter: float
    openings: int  # deducted
    wall_area: float  # perimeter x H - openings
    board_area: float  # wall_area x layers
    sheets: int
    paint: float


class BomResult(msgspec.Struct, frozen=True, omit_defaults=True):
    lines: list[BomLine]
    totals: BomTotals
    # Given ``pages``: which were used and which skipped (with their kind and why).
    pages_used: list[PageChoice] | None = None
    pages_skipped: list[PageChoice] | None = None
    units: OutputUnits | None = None
    assumptions: list[str] = []
    page_totals: list[PageTotals] | None = None
    room_totals: list[RoomTotals] | None = None
