"""Bill of materials for drywall partitions (pure Python, msgspec only).

Input: walls as centre-line segments, either given by hand (``walls`` plus ``units``) or
the ``ingest`` result's ``pages`` (each page converted by its ``scale``). An optional
``metres_per_unit`` overrides both ``units`` and every page's scale. A page that has walls
but no scale, with no override, is a ``BomInputError`` naming the page.

Pages: only plan pages count (an ingest page's ``kind``, see ``documents.kinds``; a page
without one, made by hand, is a plan), unless ``use_pages`` lists the ``index`` values to
use, whatever their kind. The result names the pages used and those skipped, with their
kind and why. Walls only on pages of other kinds (a section, a schedule's rules) and none
on a plan page is a ``BomInputError`` naming the kinds and ``use_pages``.

Every wall is one stud partition from floor to ceiling, board on both faces. The wall
thickness is not used: lengths run along the centre line. Zero-length walls are ignored.

Every number is bounded (``documents.model.Coordinate`` for the walls, the ``Annotated``
types below for the rest), so no input the schema accepts can overflow a float or divide by
zero: a wall is under 3e13 m (2.9e12 units x 10 m per unit), so even 1e12 walls give
fewer than 1e32 sheets, far below float's 1.8e308; the sizes that divide have positive
lower bounds. Refusals name the field ("... - at `$.walls[0].x2`").

Formulas (L = a wall's length in m, ΣL = total length, H = ceiling height in m,
A = ΣL x H = wall area of one face, B = 2 sides x layers_per_side x A = board area):

- sheets   = ceil(B / (sheet width x sheet height))
- studs    = Σ over walls of (ceil(L / stud spacing) + 1), each of length H
- track    = 2 x ΣL metres (top and bottom)
- screws   = sheets x SCREWS_PER_SHEET
- tape     = sheets x TAPE_M_PER_SHEET (every layer is taped, as fire-rated walls need)
- compound = B x COMPOUND_KG_PER_M2 (every layer's joints are filled)
- paint    = 2 sides x A x PAINT_COATS x PAINT_L_PER_M2_PER_COAT (the exposed faces only)

Overhead: each line's (rounded) quantity x (1 + overhead_percent / 100), applied to the line
itself (screws are not recomputed from sheets with overhead). Countable items (sheets,
studs, screws) round up to whole pieces; the others round to 3 decimals. Before any
``ceil`` the value is rounded to 6 decimals, so float noise (e.g. 20 x 1.1 =
22.000000000000004) never adds a piece: results are exactly reproducible.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, ClassVar, Literal

import msgspec
from msgspec import Meta

from documents.model import MAX_COORDINATE, Wall, at_field
from documents.scale import MAX_METRES_PER_UNIT

SCREWS_PER_SHEET = 32  # rule of thumb for walls: about one per ft², 32 on a 4 x 8 ft sheet
TAPE_M_PER_SHEET = 3.6  # about 1.2 m of joint per m² of board (≈ 370 ft per 1000 ft²)
COMPOUND_KG_PER_M2 = 0.5  # ready-mixed compound: taping coat plus two finishing coats
PAINT_L_PER_M2_PER_COAT = 0.1  # 10 m² per litre per coat
PAINT_COATS = 2
STUD_FORMULA_WALLS = 10  # the studs formula lists this many walls, then summarises

UNIT_METRES: dict[str, float] = {
    "m": 1.0,
    "cm": 0.01,
    "mm": 0.001,
    "in": 0.0254,
    "ft": 0.3048,
    "pt": 0.0254 / 72,  # a PDF point at full size (1:1)
}
# Metres per unit (a wall list's or a page's) is at most MAX_METRES_PER_UNIT (10), as
# ingest's scale parameter.
MAX_CEILING_MM = 100_000  # 100 m: any storey, any hall
# Stud spacing and sheet sides divide: their lower bound keeps every count finite (no real
# stud or sheet is this small), the upper one any sensible input.
MIN_SIZE_MM, MAX_SIZE_MM = 50, 10_000
MAX_OVERHEAD_PERCENT = 1000
MAX_LAYERS = 10
MetresPerUnit = Annotated[float, Meta(gt=0, le=MAX_METRES_PER_UNIT)]
Size = Annotated[float, Meta(ge=MIN_SIZE_MM, le=MAX_SIZE_MM)]


class BomInputError(ValueError):
    """The input cannot be turned into walls in metres (e.g. a page without a scale)."""


class Scale(msgspec.Struct, frozen=True):
    metres_per_unit: MetresPerUnit
    source: str = ""


class Page(msgspec.Struct, frozen=True):
    """One page of the ingest result; fields other than these are ignored."""

    # The ingest result is passed on whole, with fields bom does not read (the gateway
    # refuses unknown fields elsewhere: shared/unknown_fields.py).
    ignore_unknown_fields: ClassVar[bool] = True

    index: int | None = None
    walls: list[Wall] = []
    scale: Scale | None = None
    # "pt" (PDF points) or "px" (an image's pixels): what a missing scale's hint is in.
    unit: str | None = None
    # What the page shows (ingest's ``kind``): only plans count unless ``use_pages`` says.
    kind: str | None = None
    kind_reason: str | None = None


class BomInput(msgspec.Struct, frozen=True, forbid_unknown_fields=False):
    """Give exactly one of ``walls`` (in ``units``) or ``pages`` (the ingest result's)."""

    walls: list[Wall] | None = None
    units: Literal["m", "cm", "mm", "in", "ft", "pt"] = "m"
    pages: list[Page] | None = None
    use_pages: Annotated[
        list[Annotated[int, Meta(ge=0)]] | None,
        Meta(description="ingest `index` values (from 0) of the pages to use, any kind"),
    ] = None
    metres_per_unit: Annotated[
        MetresPerUnit | None, Meta(description="overrides units and every page's scale")
    ] = None
    ceiling_height_mm: Annotated[float, Meta(gt=0, le=MAX_CEILING_MM)] = 3048
    overhead_percent: Annotated[float, Meta(ge=0, le=MAX_OVERHEAD_PERCENT)] = 10
    stud_spacing_mm: Size = 406
    sheet_width_mm: Size = 1220
    sheet_height_mm: Size = 2440
    layers_per_side: Annotated[int, Meta(ge=1, le=MAX_LAYERS)] = 1
    # What an ingest result says of its document; bom does not read it.
    document: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        # Meta constraints hold when decoding; check them for direct construction too.
        height, overhead = self.ceiling_height_mm, self.overhead_percent
        _check(0 < height <= MAX_CEILING_MM, "ceiling_height_mm", f"> 0, <= {MAX_CEILING_MM}")
        for name in ("stud_spacing_mm", "sheet_width_mm", "sheet_height_mm"):
            size = getattr(self, name)
            _check(MIN_SIZE_MM <= size <= MAX_SIZE_MM, name, f"{MIN_SIZE_MM}..{MAX_SIZE_MM}")
        _check(
            0 <= overhead <= MAX_OVERHEAD_PERCENT, "overhead_percent", f"0..{MAX_OVERHEAD_PERCENT}"
        )
        _check(1 <= self.layers_per_side <= MAX_LAYERS, "layers_per_side", f"1..{MAX_LAYERS}")
        mpu, most = self.metres_per_unit, MAX_METRES_PER_UNIT
        _check(mpu is None or 0 < mpu <= most, "metres_per_unit", f"> 0, <= {most:g}")
        wall_lengths_m(self)  # raises BomInputError, a ValidationError when decoding


def _check(ok: bool, name: str, bounds: str) -> None:
    if not ok:
        raise BomInputError(at_field(f"{name} must be {bounds}", f"$.{name}"))


class BomLine(msgspec.Struct, frozen=True):
    key: str
    item: str
    quantity: int | float
    unit: str
    formula: str
    quantity_with_overhead: int | float
    overhead_formula: str


class BomTotals(msgspec.Struct, frozen=True):
    walls: int
    wall_length_m: float
    wall_area_m2: float  # one face: ΣL x H
    board_area_m2: float  # 2 sides x layers x wall area
    overhead_percent: float
    without_overhead: dict[str, int | float]  # line key -> quantity
    with_overhead: dict[str, int | float]


class PageChoice(msgspec.Struct, frozen=True, omit_defaults=True):
    """A page of the input: its ``index`` (from 0), kind, walls, and why it was skipped."""

    index: int
    kind: str | None
    walls: int
    reason: str | None = None


class BomResult(msgspec.Struct, frozen=True, omit_defaults=True):
    lines: list[BomLine]
    totals: BomTotals
    # Given ``pages``: which were used and which skipped (with their kind and why).
    pages_used: list[PageChoice] | None = None
    pages_skipped: list[PageChoice] | None = None


def _up(x: float) -> int:
    """ceil, after rounding away float noise."""
    return math.ceil(round(x, 6))


def _n(x: float) -> str:
    """A number for a formula: at most 3 decimals, no trailing zeros."""
    return f"{x:.3f}".rstrip("0").rstrip(".")


def _length(wall: Wall, metres_per_unit: float, path: str) -> float:
    # The schema bounds these when decoding; a BomInput constructed directly is checked here.
    for name in ("x1", "y1", "x2", "y2", "thickness"):
        value = getattr(wall, name)
        low = 0 if name == "thickness" else -MAX_COORDINATE
        if not low <= value <= MAX_COORDINATE:
            message = f"{name} must be a finite number in {low:g}..{MAX_COORDINATE:g}"
            raise BomInputError(at_field(message, f"{path}.{name}"))
    return math.hypot(wall.x2 - wall.x1, wall.y2 - wall.y1) * metres_per_unit


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


def wall_lengths_m(params: BomInput) -> list[float]:
    """Each non-degenerate wall's centre-line length in metres, in input order."""
    if (params.walls is None) == (params.pages is None):
        # Neither: the walls are missing (as msgspec names a missing field); both: the
        # pages are the one too many.
        path = "$.walls" if params.walls is None else "$.pages"
        raise BomInputError(at_field("give exactly one of 'walls' or 'pages'", path))
    override = params.metres_per_unit
    if params.walls is not None:
        if params.use_pages is not None:
            raise BomInputError(
                at_field("use_pages picks from 'pages', not 'walls'", "$.use_pages")
            )
        mpu = override if override is not None else UNIT_METRES[params.units]
        lengths = [_length(w, mpu, f"$.walls[{i}]") for i, w in enumerate(params.walls)]
    else:
        lengths = []
        used, _ = choose_pages(params)
        for position, page in used:
            if not page.walls:
                continue
            scale = page.scale.metres_per_unit if page.scale is not None else None
            scale = override if override is not None else scale
            if scale is None:
                # Named as the ingest result names it (its ``index``), which counts from 0.
                name, by = (page.index, "`index`") if page.index is not None else (position, "")
                message = (
                    f"page {name} has {len(page.walls)} wall(s) but no scale (pages counted "
                    f"from 0, by {by or 'position in `pages`'}): {_scale_hint(page.unit)}"
                )
                raise BomInputError(at_field(message, f"$.pages[{position}].scale"))
            if not 0 < scale <= MAX_METRES_PER_UNIT:
                message = f"metres_per_unit must be > 0 and <= {MAX_METRES_PER_UNIT:g}"
                path = f"$.pages[{position}].scale.metres_per_unit"
                raise BomInputError(at_field(message, path))
            walls = enumerate(page.walls)
            lengths += [_length(w, scale, f"$.pages[{position}].walls[{i}]") for i, w in walls]
    return [length for length in lengths if length > 1e-9]


def _index(position: int, page: Page) -> int:
    return page.index if page.index is not None else position


def choose_pages(params: BomInput) -> tuple[list[tuple[int, Page]], list[PageChoice]]:
    """The pages to use, with their position in ``pages``, and those skipped with why.

    Plans only (a page without ``kind`` counts as one) unless ``use_pages`` names them.
    """
    pages = params.pages or []
    wanted = None if params.use_pages is None else set(params.use_pages)
    if wanted is not None:
        present = {_index(position, page) for position, page in enumerate(pages)}
        missing = sorted(wanted - present)
        if missing:
            message = (
                f"use_pages names page(s) {', '.join(map(str, missing))} that are not in"
                f" pages (its indexes, from 0: {', '.join(map(str, sorted(present)))})"
            )
            raise BomInputError(at_field(message, "$.use_pages"))
    used, skipped = [], []
    for position, page in enumerate(pages):
        index = _index(position, page)
        if wanted is not None:
            reason = None if index in wanted else "not in use_pages"
        elif page.kind in (None, "plan"):
            reason = None
        else:
            why = f": {page.kind_reason}" if page.kind_reason else ""
            reason = f"a {page.kind} page, not a plan{why}"
        if reason is None:
            used.append((position, page))
        else:
            skipped.append(PageChoice(index, page.kind, len(page.walls), reason))
    walled = [choice for choice in skipped if choice.walls]
    if walled and not any(page.walls for _, page in used):
        kinds = sorted({choice.kind or "plan" for choice in walled})
        found = ", ".join(f"{choice.index} ({choice.kind})" for choice in walled)
        message = (
            f"no page used has walls: walls were found only on pages of kind"
            f" {', '.join(kinds)} (pages by index: {found}), which are skipped; to count them"
            f' anyway give their ingest `index` values (from 0) as use_pages, e.g. "use_pages":'
            f' [{walled[0].index}] (in a chain: ?then=[{{"function": "bom", "params":'
            f' {{"use_pages": [{walled[0].index}]}}}}])'
        )
        raise BomInputError(at_field(message, "$.use_pages"))
    return used, skipped


def _studs(lengths: list[float], spacing_m: float) -> tuple[int, str]:
    per_wall = [_up(length / spacing_m) + 1 for length in lengths]
    terms = [
        f"(ceil({_n(length)} / {_n(spacing_m)}) + 1 = {count})"
        for length, count in zip(lengths[:STUD_FORMULA_WALLS], per_wall, strict=False)
    ]
    if len(lengths) > STUD_FORMULA_WALLS:
        rest = per_wall[STUD_FORMULA_WALLS:]
        terms.append(f"{sum(rest)} for {len(rest)} more walls")
    listed = " + ".join(terms) or "0"
    return sum(per_wall), (
        f"sum over {len(lengths)} walls of (ceil(length m / {_n(spacing_m)} m spacing) + 1): "
        f"{listed}"
    )


def _line(key: str, item: str, quantity: float, unit: str, formula: str, factor: float) -> BomLine:
    """A line; ints are countable (round up with overhead), floats keep 3 decimals."""
    if isinstance(quantity, int):
        extra: int | float = _up(quantity * factor)
        return BomLine(key, item, quantity, unit, formula, extra, f"ceil({quantity} x {factor:g})")
    quantity = round(quantity, 3)
    extra = round(quantity * factor, 3)
    return BomLine(key, item, quantity, unit, formula, extra, f"{_n(quantity)} x {factor:g}")


def bill_of_materials(params: BomInput) -> BomResult:
    """The bill of materials for ``params``; see the module docstring for the formulas."""
    lengths = wall_lengths_m(params)
    length = sum(lengths)
    area = length * params.ceiling_height_mm / 1000
    layers = params.layers_per_side
    board = 2 * layers * area
    width, height = params.sheet_width_mm, params.sheet_height_mm
    sheet_area = width * height / 1e6
    sheets = _up(board / sheet_area)
    studs, studs_formula = _studs(lengths, params.stud_spacing_mm / 1000)
    screws = sheets * SCREWS_PER_SHEET
    paint = 2 * area * PAINT_COATS * PAINT_L_PER_M2_PER_COAT
    layer_s = "layer" if layers == 1 else "layers"
    rows: list[tuple[str, str, float, str, str]] = [
        ("sheets", f"Drywall sheet {_n(width)} x {_n(height)} mm", sheets, "sheets",
         f"ceil(2 sides x {layers} {layer_s} x {_n(area)} m² / {_n(sheet_area)} m² per sheet)"),
        ("studs", f"Stud {_n(params.ceiling_height_mm)} mm", studs, "pcs", studs_formula),
        ("track", "Track, top and bottom", 2 * length, "m",
         f"2 (top + bottom) x {_n(length)} m wall length"),
        ("screws", "Drywall screws", screws, "pcs",
         f"{sheets} sheets x {SCREWS_PER_SHEET} screws per sheet"),
        ("tape", "Joint tape", sheets * TAPE_M_PER_SHEET, "m",
         f"{sheets} sheets x {TAPE_M_PER_SHEET} m per sheet"),
        ("compound", "Joint compound", board * COMPOUND_KG_PER_M2, "kg",
         f"{_n(board)} m² board x {COMPOUND_KG_PER_M2} kg/m²"),
        ("paint", "Paint", paint, "l", f"2 sides x {_n(area)} m² x {PAINT_COATS} coats"
         f" x {PAINT_L_PER_M2_PER_COAT} l/m² per coat"),
    ]  # fmt: skip
    factor = 1 + params.overhead_percent / 100
    lines = [_line(*row, factor) for row in rows]
    totals = BomTotals(
        walls=len(lengths),
        wall_length_m=round(length, 3),
        wall_area_m2=round(area, 3),
        board_area_m2=round(board, 3),
        overhead_percent=params.overhead_percent,
        without_overhead={line.key: line.quantity for line in lines},
        with_overhead={line.key: line.quantity_with_overhead for line in lines},
    )
    if params.pages is None:
        return BomResult(lines=lines, totals=totals)
    used, skipped = choose_pages(params)
    choices = [PageChoice(_index(k, p), p.kind, len(p.walls)) for k, p in used]
    return BomResult(lines=lines, totals=totals, pages_used=choices, pages_skipped=skipped)
