"""Bill of materials for drywall partitions (pure Python, msgspec only).

Input (``documents.bom_input.BomInput``): walls as centre-line segments, either a list
(``walls``, optional ``openings``, in ``units``) or the ``ingest`` result's ``pages`` (each
at its ``scale``; ``metres_per_unit`` overrides both). A page with walls, openings or rooms
but no scale is a ``BomInputError`` naming the page and the value to pass. Only plan pages
count unless ``use_pages`` names them (``documents.bom_pages``). Or a ``layout`` result
(``documents.bom_layout``): its new partitions, boarded on both faces less its new doors,
and with ``existing_walls`` its plan's walls as a wall list; ``layout_totals`` gives each
source's share.

The rules (``documents.bom_measure``), each stated in the result's ``assumptions``:

- Every wall is one stud partition from floor to ceiling, measured along its centre line.
- Faces: interior walls boarded on ``interior_sides`` (2), exterior walls (``exterior``
  true) on ``exterior_sides`` (1, the inside face); ``exterior`` null counts as interior,
  counted apart (``page_totals[].unflagged_walls``), with a warning among the assumptions
  for a page none of whose walls has the flag.
- Openings: one whose midpoint lies within its wall's length is deducted from that wall's
  faces, width x height (doors and plain openings ``door_height_mm`` 2100, windows
  ``window_height_mm`` 1200 on a ``window_sill_mm`` 900 sill); one in a gap between walls
  (as CAD plans draw them) or with no wall adds the board above it (and below a window),
  width x (ceiling - height); plain openings include open passages between spaces.
  ``deduct_openings`` false ignores openings.
- Units (``documents.bom_units``): ``unit_system``, else imperial when ``units`` is in, ft
  or imperial: ft, ft², lb, US gal; otherwise m, m², kg, l.
- Sheets: ``sheet_height_mm`` null picks the shortest standard length that spans the
  ceiling (2400/2700/3000/3600 mm, 8/9/10/12 ft), else the longest with a horizontal
  joint; a sheet covers its width x min(its length, the ceiling).

Formulas (L = a wall's length, H = the ceiling height, F = boarded faces: interior sides x
ΣL·H of interior walls + exterior sides x ΣL·H of exterior walls - deducted + added,
B = layers_per_side x F), in the bill's units:

- sheets   = ceil(B / (sheet width x min(sheet length, H)))
- studs    = Σ over walls of (ceil(L / stud spacing) + 1), each of length H
- track    = 2 x ΣL (top and bottom)
- screws   = ceil(board area x SCREWS_PER_M2) (11 per m², 1 per ft²)
- tape     = board area x TAPE_M_PER_M2 (1.2 m per m², 0.37 ft per ft²; every layer taped)
- compound = B x 0.5 kg/m² (0.1024 lb/ft²; every layer's joints are filled)
- paint    = F x PAINT_COATS / 10 m² per l (407.5 ft² per US gal) per coat

The result also gives ``page_totals`` (each page's share and the scale it used, with its
source), ``room_totals`` (pages with ``rooms``: perimeter x H less openings, x layers) and
the ``units``. Overhead and rounding: ``documents.bom_lines``; before any ``ceil`` the
value is rounded to 6 decimals, so float noise never adds a piece.

Every number is bounded (``documents.model.Coordinate`` for the geometry, the schema's
``Annotated`` types for the rest), so no input the schema accepts can overflow a float or
divide by zero: a wall is under 3e13 m (2.9e12 units x 10 m per unit), so even 1e12 walls
give fewer than 1e32 sheets, far below float's 1.8e308; the sizes that divide have positive
lower bounds (the ceiling 500 mm, a sheet side and the stud spacing 50 mm), and no count
divides by a rounded size. Doors are at least 600 mm tall, windows 100 mm: nothing smaller
is a real one. Refusals name the field ("... - at `$.walls[0].x2`").
"""

from __future__ import annotations

import msgspec

from documents.bom_assumptions import assumptions
from documents.bom_input import BomInput
from documents.bom_layout import (
    PARTITIONS,
    LayoutBill,
    LayoutTotals,
    MeasuredLayout,
    layout_bill,
    layout_of,
    measure_layout,
    sides_of,
    wall_lengths_m,
)
from documents.bom_lines import (
    Board,
    Sizes,
    area,
    bill_lines,
    board_formula,
    board_of,
    length,
    sheet_count,
    stud_count,
)
from documents.bom_measure import MeasuredPage, heights_of, measure
from documents.bom_numbers import fmt
from documents.bom_pages import PageChoice, choose_pages, page_index
from documents.bom_result import BomLine, BomResult, BomTotals, OutputUnits, PageTotals, RoomTotals
from documents.bom_shapes import BomInputError, BomRoom, Page, Scale
from documents.bom_units import (
    COMPOUND_KG_PER_M2,
    PAINT_COATS,
    PAINT_L_PER_M2_PER_COAT,
    SCREWS_PER_M2,
    TAPE_M_PER_M2,
    UNIT_METRES,
    choose_sheet,
    choose_system,
)

__all__ = [
    "COMPOUND_KG_PER_M2",
    "PAINT_COATS",
    "PAINT_L_PER_M2_PER_COAT",
    "SCREWS_PER_M2",
    "TAPE_M_PER_M2",
    "UNIT_METRES",
    "BomInput",
    "BomInputError",
    "BomLine",
    "BomResult",
    "BomRoom",
    "BomTotals",
    "LayoutBill",
    "LayoutTotals",
    "Page",
    "PageChoice",
    "PageTotals",
    "RoomTotals",
    "Scale",
    "bill_of_materials",
    "choose_pages",
    "wall_lengths_m",
]


def _page_totals(page: MeasuredPage, board: Board, sizes: Sizes) -> PageTotals:
    system = sizes.system
    walls = board.lengths
    return PageTotals(
        index=page.index if page.index is not None else 0,
        kind=page.kind,
        scale=page.scale,
        walls=len(walls),
        exterior_walls=board.exterior_walls,
        unflagged_walls=board.unflagged_walls,
        wall_length=round(length(sum(walls), system), 3),
        wall_area=round(area(board.interior_face_m2 + board.exterior_face_m2, system), 3),
        openings_deducted=board.openings_deducted,
        openings_added=board.openings_added,
        board_area=round(area(board.painted_m2 * sizes.layers, system), 3),
        sheets=sheet_count(board.painted_m2 * sizes.layers, sizes)[0],
        studs=stud_count(walls, sizes)[0],
    )


def _room_totals(pages: list[MeasuredPage], ceiling_m: float, sizes: Sizes) -> list[RoomTotals]:
    system = sizes.system
    rooms = []
    for page in pages:
        for room in page.rooms:
            face = max(room.perimeter_m * ceiling_m - room.opening_area_m2, 0.0)
            paint = area(face, system) * PAINT_COATS / system.paint_area_per_volume
            rooms.append(
                RoomTotals(
                    index=page.index if page.index is not None else 0,
                    id=room.id,
                    name=room.name,
                    number=room.number,
                    perimeter=round(length(room.perimeter_m, system), 3),
                    openings=room.openings,
                    wall_area=round(area(face, system), 3),
                    board_area=round(area(face * sizes.layers, system), 3),
                    sheets=sheet_count(face * sizes.layers, sizes)[0],
                    paint=round(paint, 3),
                )
            )
    return rooms


def _sizes(params: BomInput) -> tuple[Sizes, str]:
    """What the lines are computed from, beside the board, and why the units are these."""
    system, why_system = choose_system(params.units, params.unit_system)
    sheet = choose_sheet(
        system, params.ceiling_height_mm, params.sheet_width_mm, params.sheet_height_mm
    )
    spacing = params.stud_spacing_mm
    sizes = Sizes(
        system=system,
        sheet=sheet,
        ceiling_mm=params.ceiling_height_mm,
        stud_spacing_mm=spacing if spacing is not None else system.stud_spacing_mm,
        layers=params.layers_per_side,
        interior_sides=params.interior_sides,
        exterior_sides=params.exterior_sides,
    )
    return sizes, why_system


def _joined(boards: list[Board]) -> Board:
    """The board of several sources, each boarded on its own faces."""
    return Board(
        lengths=[each for board in boards for each in board.lengths],
        exterior_walls=sum(board.exterior_walls for board in boards),
        unflagged_walls=sum(board.unflagged_walls for board in boards),
        interior_face_m2=sum(board.interior_face_m2 for board in boards),
        exterior_face_m2=sum(board.exterior_face_m2 for board in boards),
        deducted_m2=sum(board.deducted_m2 for board in boards),
        added_m2=sum(board.added_m2 for board in boards),
        openings_deducted=sum(board.openings_deducted for board in boards),
        openings_added=sum(board.openings_added for board in boards),
        painted_m2=sum(board.painted_m2 for board in boards),
    )


def _layout_totals(
    page: MeasuredPage, board: Board, measured: MeasuredLayout, sizes: Sizes
) -> LayoutTotals:
    system = sizes.system
    walls = board.lengths
    new = page.kind == PARTITIONS
    return LayoutTotals(
        source=page.kind or "",
        scale=page.scale,
        interior_sides=sizes.interior_sides,
        walls=len(walls),
        exterior_walls=board.exterior_walls,
        unflagged_walls=board.unflagged_walls,
        wall_length_m=round(sum(walls), 3),
        wall_length=round(length(sum(walls), system), 3),
        wall_area=round(area(board.interior_face_m2 + board.exterior_face_m2, system), 3),
        openings_deducted=board.openings_deducted,
        openings_added=board.openings_added,
        board_area=round(area(board.painted_m2 * sizes.layers, system), 3),
        board_formula=board_formula(board, sizes),
        sheets=sheet_count(board.painted_m2 * sizes.layers, sizes)[0],
        studs=stud_count(walls, sizes)[0],
        doors=measured.doors if new else 0,
        doors_off_partitions=measured.doors_off if new else 0,
    )


def _layout_bill(
    params: BomInput, measured: MeasuredLayout, sizes: Sizes, why_system: str
) -> LayoutBill:
    """A layout's bill: each source (its partitions, the plan's walls) on its own faces."""
    ceiling = heights_of(params).ceiling
    pages, formulas, totals, boards = measured.pages, [], [], []
    for page in pages:
        inner, outer = sides_of(page, params)
        board = board_of([page], ceiling, inner, outer)
        own = sizes._replace(interior_sides=inner)
        boards.append(board)
        formulas.append(f"{page.kind}: {board_formula(board, own)}")
        totals.append(_layout_totals(page, board, measured, own))
    board = _joined(boards)
    if len(pages) > 1:
        together = area(board.painted_m2 * sizes.layers, sizes.system)
        formulas.append(f"together {fmt(together)} {sizes.system.area}")
    result = msgspec.structs.replace(
        _bill(params, board, "; ".join(formulas), sizes),
        assumptions=assumptions(params, pages, board, sizes, why_system),
    )
    return layout_bill(result, measured, totals, params, sizes)


def _bill(params: BomInput, board: Board, formula: str, sizes: Sizes) -> BomResult:
    """The lines and totals of ``board``, which ``formula`` explains."""
    system = sizes.system
    lines = bill_lines(board, sizes, params.overhead_percent)
    one_face = board.interior_face_m2 + board.exterior_face_m2
    totals = BomTotals(
        walls=len(board.lengths),
        wall_length_m=round(sum(board.lengths), 3),
        wall_area_m2=round(one_face, 3),
        board_area_m2=round(board.painted_m2 * sizes.layers, 3),
        overhead_percent=params.overhead_percent,
        without_overhead={line.key: line.quantity for line in lines},
        with_overhead={line.key: line.quantity_with_overhead for line in lines},
        exterior_walls=board.exterior_walls,
        wall_length=round(length(sum(board.lengths), system), 3),
        wall_area=round(area(one_face, system), 3),
        board_area=round(area(board.painted_m2 * sizes.layers, system), 3),
        board_formula=formula,
        openings_deducted=board.openings_deducted,
        openings_added=board.openings_added,
    )
    return BomResult(
        lines=lines,
        totals=totals,
        units=OutputUnits(system.name, system.length, system.area, system.mass, system.volume),
    )


def bill_of_materials(params: BomInput) -> BomResult:
    """The bill of materials for ``params``; see the module docstring for the rules."""
    sizes, why_system = _sizes(params)
    ceiling = heights_of(params).ceiling
    given = layout_of(params)
    if given is not None:
        return _layout_bill(params, measure_layout(params, given), sizes, why_system)
    pages = measure(params)
    sides = (params.interior_sides, params.exterior_sides)
    board = board_of(pages, ceiling, *sides)
    rooms = _room_totals(pages, ceiling, sizes)
    result = msgspec.structs.replace(
        _bill(params, board, board_formula(board, sizes), sizes),
        assumptions=assumptions(params, pages, board, sizes, why_system),
        room_totals=rooms or None,
    )
    if params.pages is None:
        return result
    used, skipped = choose_pages(params.pages, params.use_pages)
    return msgspec.structs.replace(
        result,
        pages_used=[PageChoice(page_index(k, p), p.kind, len(p.walls)) for k, p in used],
        pages_skipped=skipped,
        page_totals=[
            _page_totals(page, board_of([page], ceiling, *sides), sizes) for page in pages
        ],
    )
