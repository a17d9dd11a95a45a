"""The unit systems a bill is written in, their standard sizes, and the sheet chosen.

Quantities follow ``unit_system`` when given, else ``units``: a wall list in ``in``,
``ft`` or ``imperial`` gives an imperial bill (ft, ft², lb, US gal), anything else a
metric one (m, m², kg, l). The imperial rates are the metric ones converted and rounded to
four significant digits, so each formula, read as written, gives its quantity.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from documents.bom_numbers import fmt

SystemName = Literal["metric", "imperial"]
MM_PER_FT = 304.8

# Metres per unit of a wall list; "metric" and "imperial" name a system, so a list in m or ft.
UNIT_METRES: dict[str, float] = {
    "m": 1.0,
    "cm": 0.01,
    "mm": 0.001,
    "in": 0.0254,
    "ft": 0.3048,
    "pt": 0.0254 / 72,  # a PDF point at full size (1:1)
    "metric": 1.0,
    "imperial": 0.3048,
}
IMPERIAL_UNITS = ("in", "ft", "imperial")

# Per area of board, so longer or narrower sheets need no other rule: about one screw per
# ft² on walls (32 on a 4 x 8 ft sheet), 1.2 m of joint per m² (≈ 370 ft per 1000 ft²).
SCREWS_PER_M2 = 11
TAPE_M_PER_M2 = 1.2
COMPOUND_KG_PER_M2 = 0.5  # ready-mixed compound: taping coat plus two finishing coats
PAINT_L_PER_M2_PER_COAT = 0.1  # 10 m² per litre per coat
PAINT_COATS = 2


class UnitSystem(NamedTuple):
    """Units and per-unit rates of one system; sizes given in mm are shown in ``size``."""

    name: SystemName
    length: str
    metres_per_length: float
    mm_per_length: float
    area: str
    mass: str
    volume: str
    size: str  # sheet sides and stud lengths: "mm" or "ft"
    mm_per_size: float
    spacing: str  # stud spacing: "m" or "in"
    spacing_per_length: float  # spacing units in one length unit
    mm_per_spacing: float
    screws_per_area: float
    tape_per_area: float
    compound_per_area: float
    paint_area_per_volume: float  # per coat
    sheet_lengths_mm: tuple[float, ...]  # standard lengths, shortest first
    sheet_width_mm: float
    stud_spacing_mm: float


METRIC = UnitSystem(
    name="metric",
    length="m",
    metres_per_length=1.0,
    mm_per_length=1000.0,
    area="m²",
    mass="kg",
    volume="l",
    size="mm",
    mm_per_size=1.0,
    spacing="m",
    spacing_per_length=1.0,
    mm_per_spacing=1000.0,
    screws_per_area=SCREWS_PER_M2,
    tape_per_area=TAPE_M_PER_M2,
    compound_per_area=COMPOUND_KG_PER_M2,
    paint_area_per_volume=1 / PAINT_L_PER_M2_PER_COAT,
    sheet_lengths_mm=(2400, 2700, 3000, 3600),
    sheet_width_mm=1200,
    stud_spacing_mm=400,  # three bays to a 1200 mm sheet
)
IMPERIAL = UnitSystem(
    name="imperial",
    length="ft",
    metres_per_length=0.3048,
    mm_per_length=MM_PER_FT,
    area="ft²",
    mass="lb",
    volume="US gal",
    size="ft",
    mm_per_size=MM_PER_FT,
    spacing="in",
    spacing_per_length=12.0,
    mm_per_spacing=25.4,
    screws_per_area=1.0,  # one per ft²
    tape_per_area=0.37,  # 370 ft per 1000 ft²
    compound_per_area=0.1024,  # 0.5 kg/m²
    paint_area_per_volume=407.5,  # 10 m² per litre
    sheet_lengths_mm=tuple(feet * MM_PER_FT for feet in (8, 9, 10, 12)),
    sheet_width_mm=4 * MM_PER_FT,
    stud_spacing_mm=16 * 25.4,  # three bays to a 4 ft sheet
)
SYSTEMS: dict[str, UnitSystem] = {"metric": METRIC, "imperial": IMPERIAL}


def choose_system(units: str, unit_system: SystemName | None) -> tuple[UnitSystem, str]:
    """The system the bill is written in, and why (a clause for the assumptions)."""
    if unit_system is not None:
        return SYSTEMS[unit_system], f'unit_system "{unit_system}"'
    name = "imperial" if units in IMPERIAL_UNITS else "metric"
    return SYSTEMS[name], f'units "{units}"'


def size_text(mm: float, system: UnitSystem) -> str:
    """A size in the system's size unit: ``3600 mm``, ``10 ft``."""
    return f"{fmt(mm / system.mm_per_size)} {system.size}"


def parameter_text(mm: float, system: UnitSystem) -> str:
    """A parameter given in mm, in the system's size unit too: ``6.89 ft (2100 mm)``."""
    if system.size == "mm":
        return f"{fmt(mm)} mm"
    return f"{size_text(mm, system)} ({fmt(mm)} mm)"


def spacing_text(mm: float, system: UnitSystem) -> str:
    """A stud spacing: ``400 mm``, ``16 in``."""
    if system.spacing == "m":
        return f"{fmt(mm)} mm"
    return f"{fmt(mm / system.mm_per_spacing)} in"


class SheetChoice(NamedTuple):
    width_mm: float
    height_mm: float
    covered_mm: float  # the height of wall one sheet covers: min(sheet, ceiling)
    reason: str


def choose_sheet(
    system: UnitSystem, ceiling_mm: float, width_mm: float | None, height_mm: float | None
) -> SheetChoice:
    """The sheet size: given, or the shortest standard length that spans the ceiling.

    A sheet stands upright and covers its width x min(its length, the ceiling height):
    the offcut above a ceiling is waste. Shorter than the ceiling, a horizontal joint
    fills the rest with strips cut from further sheets, so it counts by area.
    """
    width = width_mm if width_mm is not None else system.sheet_width_mm
    ceiling = size_text(ceiling_mm, system)
    lengths = system.sheet_lengths_mm
    if height_mm is not None:
        height, why = height_mm, f"sheet_height_mm {fmt(height_mm)} given"
    else:
        # A hair of tolerance: 10 ft is 3048 mm, and 3048.0000000001 must still fit.
        fits = [length for length in lengths if length >= ceiling_mm - 1e-6]
        height = fits[0] if fits else lengths[-1]
        listed = ", ".join(fmt(length / system.mm_per_size) for length in lengths)
        why = (
            f"the shortest standard length ({listed} {system.size}) that spans the {ceiling}"
            f" ceiling in one piece"
            if fits
            else f"the longest standard length ({listed} {system.size}); the {ceiling} ceiling"
            " is taller"
        )
    sheet = f"{size_text(width, system)} wide x {size_text(height, system)} long"
    if height >= ceiling_mm - 1e-6:
        cover = f"{fmt(width / system.mm_per_size)} x {ceiling}"
        how = f"each stands upright and covers {cover} of wall, its offcut counted as waste"
    else:
        how = (
            f"shorter than the {ceiling} ceiling, so with a horizontal joint, the strip above"
            " cut from further sheets (counted by area)"
        )
    reason = f"Sheets {sheet}: {why}; {how}."
    return SheetChoice(width, height, min(height, ceiling_mm), reason)
