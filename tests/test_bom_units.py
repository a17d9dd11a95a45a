"""The bill's units and sizes (documents.bom): imperial or metric output, the sheet length
chosen for the ceiling, and the parameters' checks, direct, decoded and in a chain."""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pytest

import documents.functions  # noqa: F401  (registers bom, for the chain's checks)
from documents.bom import BomInput, BomInputError
from documents.model import Opening, Wall
from shared.errors import InvalidInputError
from shared.functions import get_function
from shared.validation import check_chain, field_of
from tests.test_bom_rules import bill, opening, page, quantities, said, wall

# Units


def test_imperial_output_follows_units_ft() -> None:
    # A 10 ft wall, 10 ft (3048 mm) ceiling: 10 ft sheets, 4 ft wide; studs at 16 in.
    result = bill(walls=[wall(0, 0, 10, 0)], units="ft")
    assert quantities(result) == {
        "sheets": 5,  # 2 faces x 100 ft² = 200 ft² / 40 ft²
        "studs": 9,  # ceil(10 x 12 / 16) + 1
        "track": 20,  # ft
        "screws": 200,  # 200 ft² x 1 per ft²
        "tape": 74,  # 200 ft² x 0.37 ft per ft²
        "compound": 20.48,  # 200 ft² x 0.1024 lb/ft²
        "paint": 0.982,  # 200 ft² x 2 coats / 407.5 ft² per US gal
    }
    assert [line.unit for line in result.lines] == [
        "sheets", "pcs", "ft", "pcs", "ft", "lb", "US gal",
    ]  # fmt: skip
    lines = {line.key: line for line in result.lines}
    assert lines["sheets"].item == "Drywall sheet 4 x 10 ft"
    assert lines["studs"].item == "Stud 10 ft"
    assert lines["studs"].formula == (
        "sum over 1 wall of (ceil(length ft x 12 / 16 in spacing) + 1):"
        " (ceil(10 x 12 / 16) + 1 = 9)"
    )
    assert result.units is not None and result.units.system == "imperial"
    assert (result.units.length, result.units.area) == ("ft", "ft²")
    assert (result.totals.wall_length, result.totals.board_area) == (10, 200)
    assert result.totals.wall_length_m == 3.048  # the _m fields stay metric
    assert said(result, "imperial units", 'units "ft"')


def test_units_imperial_metric_and_the_unit_system_override() -> None:
    in_feet = quantities(bill(walls=[wall(0, 0, 10, 0)], units="ft"))
    assert quantities(bill(walls=[wall(0, 0, 10, 0)], units="imperial")) == in_feet
    # The same wall in metres, with the bill asked for in imperial units.
    metres = bill(walls=[wall(0, 0, 3.048, 0)], units="m", unit_system="imperial")
    assert quantities(metres) == in_feet
    assert said(metres, 'unit_system "imperial"')
    # And a wall list in feet billed in metric units.
    metric = bill(walls=[wall(0, 0, 10, 0)], units="ft", unit_system="metric")
    assert metric.units is not None and metric.units.system == "metric"
    assert quantities(metric)["track"] == 6.096
    assert quantities(bill(walls=[wall(0, 0, 3.048, 0)], units="metric")) == quantities(metric)


# Sheets


@pytest.mark.parametrize(
    ("system", "ceiling", "item", "covered", "joint"),
    [
        ("metric", 2400, "Drywall sheet 1200 x 2400 mm", "2.4 m", False),
        ("metric", 3048, "Drywall sheet 1200 x 3600 mm", "3.048 m", False),
        ("metric", 4000, "Drywall sheet 1200 x 3600 mm", "3.6 m", True),
        ("imperial", 2400, "Drywall sheet 4 x 8 ft", "7.874 ft", False),
        ("imperial", 3048, "Drywall sheet 4 x 10 ft", "10 ft", False),
        ("imperial", 4000, "Drywall sheet 4 x 12 ft", "12 ft", True),
    ],
)
def test_the_sheet_length_spans_the_ceiling(
    system: str, ceiling: float, item: str, covered: str, joint: bool
) -> None:
    result = bill(walls=[wall(0, 0, 10, 0)], ceiling_height_mm=ceiling, unit_system=system)
    sheets = next(line for line in result.lines if line.key == "sheets")
    assert sheets.item == item
    assert f"x {covered} covered per sheet" in sheets.formula
    assert said(result, "horizontal joint") == joint
    assert said(result, "shortest standard length") != joint
    if ceiling == 3048:  # 10 ft: never 8 ft sheets without a word
        assert "8 ft" not in item and "2400" not in item


def test_a_given_sheet_shorter_than_the_ceiling_says_so() -> None:
    result = bill(walls=[wall(0, 0, 10, 0)], sheet_height_mm=2440, sheet_width_mm=1220)
    # Full sheets with a joint: 2 x 10 x 3.048 = 60.96 m² / (1.22 x 2.44) = 20.5 -> 21.
    assert quantities(result)["sheets"] == 21
    assert said(result, "sheet_height_mm 2440 given", "shorter than the 3048 mm ceiling")


# Refusals


def test_the_lowest_ceiling_accepted_gives_a_finite_bill() -> None:
    """500 mm (a knee wall): a 10 m interior wall, 2 faces x 10 x 0.5 = 10 m²; a 2400 mm
    sheet covers 1.2 x 0.5 m of it, so 10 / 0.6 = 16.7 -> 17 sheets."""
    result = bill(walls=[wall(0, 0, 10, 0)], ceiling_height_mm=500)
    assert result.totals.board_area_m2 == 10
    assert quantities(result)["sheets"] == 17
    sheets = next(line for line in result.lines if line.key == "sheets")
    assert sheets.formula == "ceil(10 m² board / (1.2 m x 0.5 m covered per sheet))"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"walls": [], "interior_sides": 3}, "$.interior_sides"),
        ({"walls": [], "exterior_sides": 0}, "$.exterior_sides"),
        ({"walls": [wall(0, 0, 10, 0)], "ceiling_height_mm": 0.0001}, "$.ceiling_height_mm"),
        ({"walls": [wall(0, 0, 10, 0)], "ceiling_height_mm": 0.4}, "$.ceiling_height_mm"),
        ({"walls": [], "ceiling_height_mm": 499}, "$.ceiling_height_mm"),
        ({"walls": [], "door_height_mm": 0}, "$.door_height_mm"),
        ({"walls": [], "door_height_mm": 599}, "$.door_height_mm"),
        ({"walls": [], "window_height_mm": 99}, "$.window_height_mm"),
        ({"walls": [], "window_height_mm": -1}, "$.window_height_mm"),
        ({"walls": [], "window_sill_mm": -1}, "$.window_sill_mm"),
        ({"walls": [], "deduct_openings": "maybe"}, "$.deduct_openings"),
        ({"walls": [], "unit_system": "si"}, "$.unit_system"),
        ({"walls": [], "units": "furlong"}, "$.units"),
        ({"walls": [], "sheet_height_mm": 10}, "$.sheet_height_mm"),
        ({"walls": [wall(0, 0, 1, 0)], "openings": [opening("door", 1, 0, 1)]},
         "$.openings[0].wall"),
        ({"walls": [], "openings": [opening("arch", None, 0, 1)]}, "$.openings[0].kind"),
        ({"pages": [], "openings": []}, "$.openings"),
        ({"pages": [page(openings=[opening("door", 9, 0, 1)])]}, "$.pages[0].openings[0].wall"),
        ({"pages": [page(rooms=[{"id": 1, "polygon": [], "openings": [3]}])]},
         "$.pages[0].rooms[0].openings[0]"),
        ({"pages": [page(rooms=[{"id": 1, "polygon": [[0, 1e13]]}])]},
         "$.pages[0].rooms[0].polygon[0][1]"),
        ({"pages": [page(walls=[], openings=[], scale=None)]}, "$.pages[0].scale"),
        ({"pages": [page(scale={"metres_per_unit": 1, "confidence": 2})]},
         "$.pages[0].scale.confidence"),
    ],
)  # fmt: skip
def test_bad_parameters_are_refused_naming_the_field(body: Any, field: str) -> None:
    with pytest.raises(msgspec.ValidationError) as raised:
        msgspec.json.decode(msgspec.json.encode(body), type=BomInput)
    assert field_of(raised.value) == field, raised.value


def test_a_page_with_rooms_but_no_scale_names_what_it_has() -> None:
    with pytest.raises(msgspec.ValidationError, match=r"page 0 has 1 room\(s\) but no scale"):
        msgspec.convert({"pages": [page(walls=[], openings=[], scale=None)]}, BomInput)


def test_direct_construction_checks_the_new_fields_too() -> None:
    with pytest.raises(BomInputError, match="interior_sides must be 0, 1 or 2"):
        BomInput(walls=[], interior_sides=5)
    with pytest.raises(BomInputError, match=r"door_height_mm must be 600\.\.100000"):
        BomInput(walls=[], door_height_mm=-1)
    for name, value, bounds in [
        ("ceiling_height_mm", 0.0001, "500..100000"),
        ("ceiling_height_mm", float("nan"), "500..100000"),
        ("window_height_mm", 50, "100..100000"),
        ("window_sill_mm", -1, "0..100000"),
    ]:
        refusal = f"{name} must be {bounds} - at `$.{name}`"
        given: dict[str, Any] = {name: value}
        with pytest.raises(BomInputError, match=re.escape(refusal)):
            BomInput(walls=[], **given)
    infinite = Opening(kind="door", wall=0, x1=0, y1=0, x2=1, y2=0, width=float("inf"))
    with pytest.raises(BomInputError, match=re.escape("- at `$.openings[0].width`")):
        BomInput(walls=[Wall(x1=0, y1=0, x2=5, y2=0, thickness=0.1)], openings=[infinite])


def test_chain_parameters_are_checked_field_by_field() -> None:
    def lookup(name: str) -> Any:
        spec = get_function(name)
        assert spec is not None
        return spec

    chain = check_chain(
        [
            {
                "function": "bom",
                "params": {
                    "unit_system": "imperial",
                    "deduct_openings": "false",
                    "interior_sides": "1",
                    "sheet_height_mm": "2700",
                },
            }
        ],
        lookup,
    )
    assert chain[0].params == {
        "unit_system": "imperial",
        "deduct_openings": False,
        "interior_sides": 1,
        "sheet_height_mm": 2700.0,
    }
    for name, value in [
        ("exterior_sides", "0"),
        ("unit_system", "si"),
        ("door_height_mm", "0"),
        ("ceiling_height_mm", "0.0001"),
    ]:
        with pytest.raises(InvalidInputError) as refused:
            check_chain([{"function": "bom", "params": {name: value}}], lookup)
        assert refused.value.details["field"] == f"$.then[0].params.{name}", refused.value
