"""The bill's parameters checked (documents.bom.BomInput): what is refused, decoded or
built directly, naming the field, and the largest input accepted still computes. Pure:
no Redis, no processes.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pytest

from documents.bom import BomInput, BomInputError, BomResult, bill_of_materials
from documents.model import Wall
from shared.validation import field_of
from tests.bom_walls import horizontal, ingest_result, quantities, with_overhead

WALL = {"x1": 0, "y1": 0, "x2": 1, "y2": 0, "thickness": 1}


def test_walls_or_pages_exactly_one() -> None:
    with pytest.raises(msgspec.ValidationError, match="exactly one of 'walls' or 'pages'"):
        msgspec.convert({}, BomInput)
    with pytest.raises(BomInputError, match="exactly one"):
        BomInput(walls=[], pages=[])


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("ceiling_height_mm", -3048, "Expected `float` >= 500.0 - at `$.ceiling_height_mm`"),
        ("ceiling_height_mm", 0, "at `$.ceiling_height_mm`"),
        ("stud_spacing_mm", 0, "at `$.stud_spacing_mm`"),
        ("sheet_width_mm", -1, "at `$.sheet_width_mm`"),
        ("sheet_height_mm", "2440", "Expected `float | null`, got `str` - at `$.sheet_height_mm`"),
        ("overhead_percent", -5, "Expected `float` >= 0.0 - at `$.overhead_percent`"),
        ("layers_per_side", 0, "at `$.layers_per_side`"),
        ("layers_per_side", 1.5, "Expected `int`, got `float`"),
        ("metres_per_unit", 0, "at `$.metres_per_unit`"),
        ("units", "furlong", "Invalid enum value 'furlong' - at `$.units`"),
    ],
)
def test_bad_params_are_rejected_by_msgspec(field: str, value: object, expected: str) -> None:
    with pytest.raises(msgspec.ValidationError, match=re.escape(expected)):
        msgspec.json.decode(msgspec.json.encode({"walls": [], field: value}), type=BomInput)


def test_bad_params_are_rejected_when_constructed_directly() -> None:
    with pytest.raises(BomInputError, match=r"must be 500\.\.100000"):
        BomInput(walls=[], ceiling_height_mm=-3048)
    with pytest.raises(BomInputError, match="layers_per_side"):
        BomInput(walls=[], layers_per_side=0)


def test_bad_scale_and_walls_are_rejected() -> None:
    raw = ingest_result({"metres_per_unit": -1, "source": "text"})
    with pytest.raises(msgspec.ValidationError, match=r"at `\$.pages\[1\].scale.metres_per_unit`"):
        msgspec.convert(raw, BomInput)
    with pytest.raises(msgspec.ValidationError, match=r"`\$.walls\[0\].x2`"):
        msgspec.convert(
            {"walls": [{"x1": 0, "y1": 0, "x2": "a", "y2": 0, "thickness": 1}]}, BomInput
        )
    with pytest.raises(BomInputError, match="finite"):
        BomInput(walls=[horizontal(float("inf"))])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        # Accepted before, then OverflowError in the job (inf board area): now a 400.
        ({"walls": [WALL | {"x2": 1e308, "y2": 1e308}]}, "$.walls[0].x2"),
        ({"walls": [WALL | {"x1": -2e12}]}, "$.walls[0].x1"),
        ({"walls": [], "metres_per_unit": 100}, "$.metres_per_unit"),  # meant 1:100?
        ({"walls": [WALL | {"thickness": -1}]}, "$.walls[0].thickness"),
        ({"walls": [], "metres_per_unit": 1e300}, "$.metres_per_unit"),
        ({"walls": [], "ceiling_height_mm": 1e300}, "$.ceiling_height_mm"),
        # These divide: a tiny one made the counts infinite.
        ({"walls": [], "stud_spacing_mm": 1e-300}, "$.stud_spacing_mm"),
        ({"walls": [], "sheet_width_mm": 1e-300}, "$.sheet_width_mm"),
        ({"walls": [], "sheet_height_mm": 10_001}, "$.sheet_height_mm"),
        ({"walls": [], "layers_per_side": 11}, "$.layers_per_side"),
        ({"walls": [], "overhead_percent": 1001}, "$.overhead_percent"),
        ({"pages": [{"scale": {"metres_per_unit": 1e300}}]}, "$.pages[0].scale.metres_per_unit"),
        ({"pages": [{"walls": [WALL | {"y2": -1e308}]}]}, "$.pages[0].walls[0].y2"),
        # Checks across fields name a field too.
        ({}, "$.walls"),
        ({"walls": [], "pages": []}, "$.pages"),
        ({"pages": [{"walls": [WALL]}]}, "$.pages[0].scale"),
    ],
)
def test_out_of_bounds_input_is_refused_naming_the_field(body: Any, field: str) -> None:
    with pytest.raises(msgspec.ValidationError) as raised:
        msgspec.json.decode(msgspec.json.encode(body), type=BomInput)
    assert field_of(raised.value) == field, raised.value


def test_direct_construction_is_bounded_too() -> None:
    with pytest.raises(BomInputError, match=re.escape("- at `$.walls[0].x2`")):
        BomInput(walls=[Wall(x1=0, y1=0, x2=1e308, y2=1e308, thickness=1)])
    with pytest.raises(BomInputError, match=re.escape("- at `$.stud_spacing_mm`")):
        BomInput(walls=[], stud_spacing_mm=1e-300)
    with pytest.raises(BomInputError, match=re.escape("- at `$.metres_per_unit`")):
        BomInput(walls=[], metres_per_unit=float("nan"))


def test_the_largest_accepted_input_still_matches_the_hand_calculation() -> None:
    # One wall across the whole coordinate range at 10 m per unit, a 100 m ceiling,
    # 10 layers, 10 x 10 m sheets, studs every 10 m, 1000 % overhead: every bound at once.
    raw = {
        "walls": [{"x1": -1e12, "y1": 0, "x2": 1e12, "y2": 0, "thickness": 1e12}],
        "metres_per_unit": 10,
        "ceiling_height_mm": 100_000,
        "layers_per_side": 10,
        "sheet_width_mm": 10_000,
        "sheet_height_mm": 10_000,
        "stud_spacing_mm": 10_000,
        "overhead_percent": 1000,
    }
    result = bill_of_materials(msgspec.json.decode(msgspec.json.encode(raw), type=BomInput))
    # L = 2e12 units x 10 m = 2e13 m; one face 2e13 x 100 m = 2e15 m²;
    # board 2 sides x 10 layers x 2e15 = 4e16 m²; a sheet 10 x 10 = 100 m² -> 4e14 sheets.
    assert result.totals.wall_length_m == 2e13
    assert result.totals.board_area_m2 == 4e16
    assert quantities(result) == {
        "sheets": 4 * 10**14,
        "studs": 2 * 10**12 + 1,  # 2e13 m / 10 m spacing + 1
        "track": 4e13,
        "screws": 44 * 10**16,  # 4e16 m² x 11
        "tape": pytest.approx(4.8e16),  # 4e16 m² x 1.2 m
        "compound": 2e16,  # 4e16 m² x 0.5 kg
        "paint": pytest.approx(8e14),  # 2 sides x 2e15 m² x 2 coats x 0.1 l
    }
    assert with_overhead(result)["sheets"] == 44 * 10**14  # x 11
    # And the smallest divisors: nothing overflows, the bill encodes to JSON.
    smallest = raw | {"sheet_width_mm": 50, "sheet_height_mm": 50, "stud_spacing_mm": 50}
    result = bill_of_materials(msgspec.convert(smallest, BomInput))
    assert quantities(result)["sheets"] == pytest.approx(4e16 / 0.0025)
    assert quantities(result)["studs"] == pytest.approx(2e13 / 0.05)
    assert msgspec.json.decode(msgspec.json.encode(result), type=BomResult) == result
