"""The sentences a bill lists as its ``assumptions``: what it took to be so, and why."""

from __future__ import annotations

from typing import TYPE_CHECKING

from documents.bom_lines import Board, Sizes
from documents.bom_measure import MeasuredPage
from documents.bom_numbers import fmt, plural
from documents.bom_units import PAINT_COATS, parameter_text, spacing_text

if TYPE_CHECKING:
    from documents.bom_input import BomInput


def _scale(params: BomInput, pages: list[MeasuredPage]) -> str:
    if params.metres_per_unit is not None:
        over = " over every page's own scale" if params.pages is not None else ""
        return f"Drawing units at metres_per_unit {params.metres_per_unit:g} (parameter){over}."
    if params.pages is None:
        scale = pages[0].scale
        per = f" ({scale.metres_per_unit:g} m per unit)" if scale is not None else ""
        return f'Wall list in units "{params.units}"{per}.'
    return (
        "Each page's walls at that page's own scale (page_totals[].scale gives it and its source)."
    )


def _unflagged_pages(params: BomInput, pages: list[MeasuredPage]) -> list[str]:
    """A warning per ingest page whose walls all lack an exterior flag (no room closed
    there, so ingest could not tell the outside): every one of them was boarded as interior."""
    if params.pages is None:
        return []
    sentences = []
    for page in pages:
        if page.walls and not any(wall.flagged for wall in page.walls):
            sentences.append(
                f"Warning: page {page.index}: none of its {plural(len(page.walls), 'wall')}"
                " has an exterior flag (no closed outline was found), so all were boarded as"
                f" interior walls on {plural(params.interior_sides, 'face')}; the exterior"
                " ones are likely over-counted (set exterior on the walls to correct it)."
            )
    return sentences


def _openings(params: BomInput, board: Board, sizes: Sizes) -> list[str]:
    if not params.deduct_openings:
        return ["deduct_openings is false: openings are neither deducted nor added."]
    system = sizes.system
    door, ceiling = params.door_height_mm, params.ceiling_height_mm
    sentences = [
        "Openings: one whose midpoint lies within its wall's length (the wall's centre line"
        " runs through it, as in a hand-made list) is deducted from that wall's boarded"
        " faces, width x its height; one in a gap between walls (as CAD plans draw doors and"
        " windows: the wall lines stop at the jambs), or with no wall, is already missing"
        " from the wall lengths, so the board above it (and below a window) is added,"
        " width x (ceiling - its height), on its wall's faces (no wall: an interior wall's)."
        f" Heights: doors and plain openings {parameter_text(door, system)}, windows"
        f" {parameter_text(params.window_height_mm, system)} on a"
        f" {parameter_text(params.window_sill_mm, system)} sill. No headers or jamb studs"
        " are counted.",
        'Plain openings (kind "opening") include open passages between spaces, a doorway'
        " without a door: in a gap between walls, the board above one is added at the door"
        " height (door_height_mm), as above a door.",
        f"{board.openings_deducted} opening(s) deducted, {board.openings_added} added above"
        " and below.",
    ]
    if door > ceiling or params.window_sill_mm + params.window_height_mm > ceiling:
        sentences.append(
            f"Openings taller than the {parameter_text(ceiling, system)} ceiling stop at it."
        )
    return sentences


def assumptions(
    params: BomInput, pages: list[MeasuredPage], board: Board, sizes: Sizes, why_system: str
) -> list[str]:
    """The bill's assumptions, in the order a reader checks them."""
    system = sizes.system
    units = ", ".join((system.length, system.area, system.mass, system.volume))
    walls = len(board.lengths)
    interior = walls - board.exterior_walls
    guessed = (
        f" ({board.unflagged_walls} of them with no exterior flag, boarded as interior)"
        if board.unflagged_walls
        else ""
    )
    sentences = [
        f"Quantities in {system.name} units ({units}), from {why_system}.",
        _scale(params, pages),
        "Every wall is one stud partition from floor to a"
        f" {parameter_text(params.ceiling_height_mm, system)} ceiling"
        " (ceiling_height_mm), measured along its centre line (its thickness is not used);"
        " zero-length walls are ignored.",
        f"Interior walls are boarded on {plural(params.interior_sides, 'face')}"
        f" (interior_sides), exterior walls (exterior true) on"
        f" {plural(params.exterior_sides, 'face')} (exterior_sides"
        f"{', the inside one' if params.exterior_sides == 1 else ''}); a wall whose exterior"
        f" is not known (null, as in a hand-written list) counts as interior: here"
        f" {board.exterior_walls} exterior, {interior} interior{guessed}.",
        *_unflagged_pages(params, pages),
        *_openings(params, board, sizes),
        sizes.sheet.reason,
        f"Studs at {spacing_text(sizes.stud_spacing_mm, system)} centres"
        " (stud_spacing_mm): ceil(length / spacing) + 1 per wall, each the ceiling's"
        " height; none extra at corners, junctions or openings.",
        f"{plural(sizes.layers, 'layer')} of board per boarded face (layers_per_side),"
        f" every layer taped and filled, the outer one painted ({PAINT_COATS} coats).",
        f"Overhead {fmt(params.overhead_percent)} % on each line (overhead_percent);"
        " sheets, studs and screws rounded up to whole pieces.",
    ]
    if any(page.rooms for page in pages):
        sentences.append(
            "Room subtotals: each room's outline perimeter x the ceiling height, less its"
            " openings (width x height), x layers; the outline may run along the wall faces"
            " and a wall between two rooms counts in both, so they need not add up to the"
            " walls' total."
        )
    return sentences
