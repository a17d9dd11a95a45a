"""A bill's lines: each quantity in the bill's units, with the formula that gives it.

Overhead: each line's (rounded) quantity x (1 + overhead_percent / 100), applied to the
line itself (screws are not recomputed from sheets with overhead). Countable items
(sheets, studs, screws) round up to whole pieces; the others round to 3 decimals.
"""

from __future__ import annotations

from typing import NamedTuple

from documents.bom_measure import MeasuredPage
from documents.bom_numbers import fmt, plural, up
from documents.bom_result import BomLine
from documents.bom_units import PAINT_COATS, SheetChoice, UnitSystem

STUD_FORMULA_WALLS = 10  # the studs formula lists this many walls, then summarises


class Board(NamedTuple):
    """The walls of some pages, in metres: lengths, one face's areas, boarded faces."""

    lengths: list[float]
    exterior_walls: int
    unflagged_walls: int  # ``exterior`` null: boarded as interior walls
    interior_face_m2: float  # ΣL x H over walls that are not exterior, one face
    exterior_face_m2: float
    deducted_m2: float  # faces x openings within walls
    added_m2: float  # faces x the board above and below openings in gaps
    openings_deducted: int
    openings_added: int
    painted_m2: float  # every boarded face, one layer: the faces paint covers


def board_of(pages: list[MeasuredPage], ceiling_m: float, interior: int, exterior: int) -> Board:
    """The board that ``pages`` need, one layer, in metres."""
    walls = [wall for page in pages for wall in page.walls]
    openings = [opening for page in pages for opening in page.openings]
    inner = sum(wall.length_m for wall in walls if not wall.exterior) * ceiling_m
    outer = sum(wall.length_m for wall in walls if wall.exterior) * ceiling_m
    deducted = sum(wall.faces * wall.deducted_m2 for wall in walls)
    added = sum(o.faces * o.area_m2 for o in openings if not o.in_wall)
    painted = interior * inner + exterior * outer - deducted + added
    return Board(
        lengths=[wall.length_m for wall in walls],
        exterior_walls=sum(wall.exterior for wall in walls),
        unflagged_walls=sum(not wall.flagged for wall in walls),
        interior_face_m2=inner,
        exterior_face_m2=outer,
        deducted_m2=deducted,
        added_m2=added,
        openings_deducted=sum(o.in_wall for o in openings),
        openings_added=sum(not o.in_wall for o in openings),
        painted_m2=max(painted, 0.0),
    )


class Sizes(NamedTuple):
    """What the lines are computed from, beside the board."""

    system: UnitSystem
    sheet: SheetChoice
    ceiling_mm: float
    stud_spacing_mm: float
    layers: int
    interior_sides: int
    exterior_sides: int


def area(m2: float, system: UnitSystem) -> float:
    return m2 / system.metres_per_length**2


def length(metres: float, system: UnitSystem) -> float:
    return metres / system.metres_per_length


def sheet_count(board_m2: float, sizes: Sizes) -> tuple[int, str]:
    """Sheets for ``board_m2`` of board (all layers), and the formula."""
    system, sheet = sizes.system, sizes.sheet
    # Divide by the sizes themselves: rounded, a small one could become 0 (the formula
    # shows them rounded, as every number in it).
    width = sheet.width_mm / system.mm_per_length
    covered = sheet.covered_mm / system.mm_per_length
    board = area(board_m2, system)
    formula = (
        f"ceil({fmt(board)} {system.area} board / ({fmt(width)} {system.length} x"
        f" {fmt(covered)} {system.length} covered per sheet))"
    )
    return up(board / (width * covered)), formula


def stud_count(lengths_m: list[float], sizes: Sizes) -> tuple[int, str]:
    """Studs, per wall ceil(length / spacing) + 1, and the formula."""
    system = sizes.system
    spacing = sizes.stud_spacing_mm / system.mm_per_spacing  # not rounded: it divides
    lengths = [length(metres, system) for metres in lengths_m]
    per = system.spacing_per_length
    scaled = "" if per == 1 else f" x {fmt(per)}"
    per_wall = [up(each * per / spacing) + 1 for each in lengths]
    terms = [
        f"(ceil({fmt(each)}{scaled} / {fmt(spacing)}) + 1 = {count})"
        for each, count in zip(lengths[:STUD_FORMULA_WALLS], per_wall, strict=False)
    ]
    if len(lengths) > STUD_FORMULA_WALLS:
        rest = per_wall[STUD_FORMULA_WALLS:]
        terms.append(f"{sum(rest)} for {len(rest)} more walls")
    listed = " + ".join(terms) or "0"
    return sum(per_wall), (
        f"sum over {plural(len(lengths), 'wall')} of (ceil(length {system.length}{scaled} /"
        f" {fmt(spacing)} {system.spacing} spacing) + 1): {listed}"
    )


def board_formula(board: Board, sizes: Sizes) -> str:
    """How the board area is found, every term in the bill's units."""
    system = sizes.system
    unit = system.area
    terms = [
        f"{plural(sizes.interior_sides, 'side')} x"
        f" {fmt(area(board.interior_face_m2, system))} {unit} of interior walls",
        f"{plural(sizes.exterior_sides, 'side')} x"
        f" {fmt(area(board.exterior_face_m2, system))} {unit} of exterior walls",
    ]
    if board.openings_deducted:
        terms.append(f"- {fmt(area(board.deducted_m2, system))} {unit} of openings in walls")
    if board.openings_added:
        terms.append(
            f"+ {fmt(area(board.added_m2, system))} {unit} above and below openings in gaps"
        )
    total = area(board.painted_m2 * sizes.layers, system)
    joined = " + ".join(terms[:2]) + "".join(f" {term}" for term in terms[2:])
    return f"{plural(sizes.layers, 'layer')} x ({joined}) = {fmt(total)} {unit}"


def _line(key: str, item: str, quantity: float, unit: str, formula: str, factor: float) -> BomLine:
    """A line; ints are countable (round up with overhead), floats keep 3 decimals."""
    if isinstance(quantity, int):
        extra: int | float = up(quantity * factor)
        return BomLine(key, item, quantity, unit, formula, extra, f"ceil({quantity} x {factor:g})")
    quantity = round(quantity, 3)
    extra = round(quantity * factor, 3)
    return BomLine(key, item, quantity, unit, formula, extra, f"{fmt(quantity)} x {factor:g}")


def bill_lines(board: Board, sizes: Sizes, overhead_percent: float) -> list[BomLine]:
    """The lines for ``board``: sheets, studs, track, screws, tape, compound, paint."""
    system, sheet = sizes.system, sizes.sheet
    total = sum(board.lengths)
    run = length(total, system)
    board_area = area(board.painted_m2 * sizes.layers, system)
    painted = area(board.painted_m2, system)
    sheets, sheets_formula = sheet_count(board.painted_m2 * sizes.layers, sizes)
    studs, studs_formula = stud_count(board.lengths, sizes)
    size = system.mm_per_size
    sheet_item = f"Drywall sheet {fmt(sheet.width_mm / size)} x {fmt(sheet.height_mm / size)}"
    screws, tape = system.screws_per_area, system.tape_per_area
    compound = system.compound_per_area
    coverage = system.paint_area_per_volume
    rows: list[tuple[str, str, float, str, str]] = [
        ("sheets", f"{sheet_item} {system.size}", sheets, "sheets", sheets_formula),
        ("studs", f"Stud {fmt(sizes.ceiling_mm / size)} {system.size}", studs, "pcs",
         studs_formula),
        ("track", "Track, top and bottom", 2 * run, system.length,
         f"2 (top + bottom) x {fmt(run)} {system.length} wall length"),
        ("screws", "Drywall screws", up(board_area * screws), "pcs",
         f"ceil({fmt(board_area)} {system.area} board x {screws:g} screws per {system.area})"),
        ("tape", "Joint tape", board_area * tape, system.length,
         f"{fmt(board_area)} {system.area} board x {tape:g} {system.length} per {system.area}"),
        ("compound", "Joint compound", board_area * compound, system.mass,
         f"{fmt(board_area)} {system.area} board x {compound:g} {system.mass}/{system.area}"),
        ("paint", "Paint", painted * PAINT_COATS / coverage, system.volume,
         f"{fmt(painted)} {system.area} of boarded faces x {PAINT_COATS} coats /"
         f" {coverage:g} {system.area} per {system.volume} per coat"),
    ]  # fmt: skip
    factor = 1 + overhead_percent / 100
    return [_line(*row, factor) for row in rows]
