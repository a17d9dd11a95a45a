"""The bill of materials (documents.bom) against hand calculations. Pure: no Redis, no processes."""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pytest

from documents.bom import (
    COMPOUND_KG_PER_M2,
    PAINT_COATS,
    PAINT_L_PER_M2_PER_COAT,
    SCREWS_PER_M2,
    TAPE_M_PER_M2,
    BomInput,
    BomInputError,
    BomResult,
    Page,
    bill_of_materials,
    wall_lengths_m,
)
from documents.model import Wall
from shared.validation import field_of

PT = 0.0254 / 72  # one PDF point in metres at full size
SCALE_1_100 = PT * 100
SCALE_1_50 = PT * 50
WALL = {"x1": 0, "y1": 0, "x2": 1, "y2": 0, "thickness": 1}


def horizontal(length: float) -> Wall:
    return Wall(x1=0, y1=0, x2=length, y2=0, thickness=0.1)


def quantities(result: BomResult) -> dict[str, int | float]:
    return {line.key: line.quantity for line in result.lines}


def with_overhead(result: BomResult) -> dict[str, int | float]:
    return {line.key: line.quantity_with_overhead for line in result.lines}


def test_two_walls_match_the_hand_calculation() -> None:
    # One 5 m wall and one 3 m wall (the second one vertical), all defaults: metric,
    # ceiling 3048 mm, studs at 400 mm, sheets 1200 mm wide and (the shortest standard
    # length that spans 3048 mm) 3600 mm long, 1 layer, interior walls boarded on 2 sides, 10 %.
    walls = [horizontal(5), Wall(x1=2, y1=1, x2=2, y2=4, thickness=0.1)]
    result = bill_of_materials(BomInput(walls=walls))

    # Length: 5 + 3 = 8 m. Area of one face: 8 x 3.048 = 24.384 m².
    # Board: 2 sides x 1 layer x 24.384 = 48.768 m².
    assert result.totals.walls == 2
    assert result.totals.wall_length_m == 8
    assert result.totals.wall_area_m2 == 24.384
    assert result.totals.board_area_m2 == 48.768
    assert result.totals.overhead_percent == 10
    assert quantities(result) == {
        # A sheet covers 1.2 x 3.048 = 3.6576 m² (its offcut above the ceiling is waste);
        # 48.768 / 3.6576 = 13.33 -> 14 sheets.
        "sheets": 14,
        # 5 / 0.4 = 12.5 -> 13 + 1 = 14; 3 / 0.4 = 7.5 -> 8 + 1 = 9; 14 + 9 = 23.
        "studs": 23,
        # Top and bottom: 2 x 8 = 16 m.
        "track": 16,
        # Per m² of board, whatever the sheet: 48.768 x 11 = 536.4 -> 537.
        "screws": 537,
        # 48.768 m² x 1.2 m = 58.5216 -> 58.522 m.
        "tape": 58.522,
        # 48.768 m² x 0.5 kg/m² = 24.384 kg.
        "compound": 24.384,
        # 48.768 m² of faces x 2 coats / 10 m² per l = 9.7536 -> 9.754 l.
        "paint": 9.754,
    }
    assert with_overhead(result) == {
        "sheets": 16,  # 14 x 1.1 = 15.4 -> 16
        "studs": 26,  # 23 x 1.1 = 25.3 -> 26
        "track": 17.6,  # 16 x 1.1
        "screws": 591,  # 537 x 1.1 = 590.7 -> 591
        "tape": 64.374,  # 58.522 x 1.1 = 64.3742
        "compound": 26.822,  # 24.384 x 1.1 = 26.8224
        "paint": 10.729,  # 9.754 x 1.1 = 10.7294
    }
    assert result.totals.without_overhead == quantities(result)
    assert result.totals.with_overhead == with_overhead(result)

    lines = {line.key: line for line in result.lines}
    assert lines["sheets"].formula == (
        "ceil(48.768 m² board / (1.2 m x 3.048 m covered per sheet))"
    )
    assert lines["sheets"].item == "Drywall sheet 1200 x 3600 mm"
    assert lines["sheets"].overhead_formula == "ceil(14 x 1.1)"
    assert lines["studs"].formula == (
        "sum over 2 walls of (ceil(length m / 0.4 m spacing) + 1): "
        "(ceil(5 / 0.4) + 1 = 14) + (ceil(3 / 0.4) + 1 = 9)"
    )
    assert lines["studs"].item == "Stud 3048 mm"
    assert lines["track"].formula == "2 (top + bottom) x 8 m wall length"
    assert lines["screws"].formula == "ceil(48.768 m² board x 11 screws per m²)"
    assert lines["tape"].formula == "48.768 m² board x 1.2 m per m²"
    assert lines["compound"].formula == "48.768 m² board x 0.5 kg/m²"
    assert lines["paint"].formula == ("48.768 m² of boarded faces x 2 coats / 10 m² per l per coat")
    assert lines["paint"].overhead_formula == "9.754 x 1.1"
    assert [line.unit for line in result.lines] == ["sheets", "pcs", "m", "pcs", "m", "kg", "l"]
    assert result.totals.board_formula == (
        "1 layer x (2 sides x 24.384 m² of interior walls + 1 side x 0 m² of exterior walls)"
        " = 48.768 m²"
    )


def test_defaults_and_documented_constants() -> None:
    params = msgspec.convert({"walls": []}, BomInput)
    assert params.units == "m"
    assert params.metres_per_unit is None
    assert params.ceiling_height_mm == 3048
    assert params.overhead_percent == 10
    # Sizes follow the unit system: null until the bill chooses them.
    assert params.stud_spacing_mm is None
    assert (params.sheet_width_mm, params.sheet_height_mm) == (None, None)
    assert params.layers_per_side == 1
    assert (params.interior_sides, params.exterior_sides, params.deduct_openings) == (2, 1, True)
    assert (params.door_height_mm, params.window_height_mm, params.window_sill_mm) == (
        2100,
        1200,
        900,
    )
    assert (SCREWS_PER_M2, TAPE_M_PER_M2, COMPOUND_KG_PER_M2) == (11, 1.2, 0.5)
    assert (PAINT_COATS, PAINT_L_PER_M2_PER_COAT) == (2, 0.1)
    # No walls: every quantity is zero, nothing breaks.
    result = bill_of_materials(params)
    assert set(quantities(result).values()) == {0}
    assert set(with_overhead(result).values()) == {0}


def test_overhead_rounds_countable_items_up_without_float_noise() -> None:
    # One 10 m wall, 1000 mm ceiling, 1 x 1 m sheets, studs every 1000 mm:
    # board 2 x 10 x 1 = 20 m² -> 20 sheets; studs ceil(10 / 1) + 1 = 11.
    params = BomInput(
        walls=[horizontal(10)],
        ceiling_height_mm=1000,
        sheet_width_mm=1000,
        sheet_height_mm=1000,
        stud_spacing_mm=1000,
    )
    result = bill_of_materials(params)
    assert quantities(result)["sheets"] == 20
    assert quantities(result)["studs"] == 11
    # 20 x 1.1 is 22.000000000000004 in floats: still 22, not 23. 11 x 1.1 = 12.1 -> 13.
    assert with_overhead(result)["sheets"] == 22
    assert with_overhead(result)["studs"] == 13
    assert with_overhead(result)["screws"] == 242  # 20 m² x 11 = 220; 220 x 1.1 = 242
    # 25 %: 20 x 1.25 = 25; 11 x 1.25 = 13.75 -> 14; 2 x 10 m track x 1.25 = 25 m.
    quarter = bill_of_materials(msgspec.structs.replace(params, overhead_percent=25))
    assert with_overhead(quarter)["sheets"] == 25
    assert with_overhead(quarter)["studs"] == 14
    assert with_overhead(quarter)["track"] == 25
    # No overhead: the same numbers twice.
    none = bill_of_materials(msgspec.structs.replace(params, overhead_percent=0))
    assert with_overhead(none) == quantities(none)


def test_stud_count_is_per_wall_and_ignores_float_noise() -> None:
    def studs(walls: list[Wall]) -> int | float:
        return quantities(bill_of_materials(BomInput(walls=walls, stud_spacing_mm=406)))["studs"]

    # 4.06 / 0.406 is 10.000000000000002 in floats: ceil gives 10, so 11 studs, not 12.
    assert studs([horizontal(4.06)]) == 11
    # Per wall, then summed: two 1 m walls need (ceil(2.46) + 1) x 2 = 8 studs,
    # whereas one 2 m wall needs ceil(4.93) + 1 = 6.
    assert studs([horizontal(1)] * 2) == 8
    assert studs([horizontal(2)]) == 6


def test_layers_per_side_multiply_board_but_not_paint() -> None:
    one = bill_of_materials(BomInput(walls=[horizontal(5), horizontal(3)]))
    two = bill_of_materials(BomInput(walls=[horizontal(5), horizontal(3)], layers_per_side=2))
    # Board 2 x 2 x 24.384 = 97.536 m²; 97.536 / 3.6576 = 26.67 -> 27 sheets.
    assert quantities(two)["sheets"] == 27
    assert quantities(two)["screws"] == 1073  # 97.536 m² x 11 = 1072.9 -> 1073
    assert quantities(two)["compound"] == 48.768
    assert quantities(two)["paint"] == quantities(one)["paint"]
    assert quantities(two)["studs"] == quantities(one)["studs"]
    assert two.totals.board_formula == (
        "2 layers x (2 sides x 24.384 m² of interior walls + 1 side x 0 m² of exterior walls)"
        " = 97.536 m²"
    )


def test_units_and_override_for_walls_given_by_hand() -> None:
    in_metres = bill_of_materials(BomInput(walls=[horizontal(5), horizontal(3)]))
    in_mm = msgspec.convert(
        {
            "walls": [msgspec.to_builtins(horizontal(5000)), msgspec.to_builtins(horizontal(3000))],
            "units": "mm",
        },
        BomInput,
    )
    assert quantities(bill_of_materials(in_mm)) == quantities(in_metres)
    # 1:100 drawing measured in points: 5 m is 5 / SCALE_1_100 points.
    override = BomInput(
        walls=[horizontal(5 / SCALE_1_100), horizontal(3 / SCALE_1_100)],
        units="pt",
        metres_per_unit=SCALE_1_100,  # wins over units
    )
    assert wall_lengths_m(override) == pytest.approx([5, 3])
    assert quantities(bill_of_materials(override)) == quantities(in_metres)


def ingest_result(second_scale: dict[str, Any] | None) -> dict[str, Any]:
    """An ingest-like result in PDF points, with the extra fields real results carry."""
    return {
        "pages": [
            {
                "index": 0,
                "width": 1190.55,
                "height": 841.89,
                "source": "vector",
                "scale": {"metres_per_unit": SCALE_1_100, "source": "text"},
                "walls": [
                    # 360 pt = 5 in = 127 mm on paper = 12.7 m at 1:100.
                    {"x1": 100, "y1": 100, "x2": 460, "y2": 100, "thickness": 7.09},
                    # 216 by 288 pt: a 3-4-5 triangle, so 360 pt again = 12.7 m.
                    {"x1": 100, "y1": 100, "x2": 316, "y2": 388, "thickness": 7.09},
                ],
                "text": [{"text": "1:100", "bbox": [10, 10, 40, 20]}],
            },
            {
                "index": 1,
                "width": 1190.55,
                "height": 841.89,
                "source": "vector",
                "scale": second_scale,
                # 144 pt = 2 in = 50.8 mm on paper = 2.54 m at 1:50.
                "walls": [{"x1": 50, "y1": 50, "x2": 50, "y2": 194, "thickness": 3.5}],
                "text": [],
            },
            # A cover page: no walls, so it needs no scale.
            {
                "index": 2,
                "width": 595,
                "height": 842,
                "source": "raster",
                "scale": None,
                "walls": [],
                "text": [],
            },
        ],
        "document": {"pages": 3, "producer": "test"},
    }


def test_whole_ingest_result_in_points_is_converted_by_each_pages_scale() -> None:
    body = msgspec.json.encode(
        ingest_result({"metres_per_unit": SCALE_1_50, "source": "parameter"})
    )
    params = msgspec.json.decode(body, type=BomInput)  # as the gateway decodes it
    assert wall_lengths_m(params) == pytest.approx([12.7, 12.7, 2.54])
    result = bill_of_materials(params)
    # Length 12.7 + 12.7 + 2.54 = 27.94 m; one face 27.94 x 3.048 = 85.16112 m²;
    # board 2 x 85.16112 = 170.32224 m²; / (1.2 x 3.048) = 46.57 -> 47 sheets.
    # Studs: 12.7 / 0.4 = 31.75 -> 32 + 1 = 33, twice; 2.54 / 0.4 = 6.35 -> 7 + 1 = 8;
    # 33 + 33 + 8 = 74.
    assert result.totals.walls == 3
    assert result.totals.wall_length_m == 27.94
    assert result.totals.wall_area_m2 == 85.161
    assert quantities(result)["sheets"] == 47
    assert quantities(result)["studs"] == 74
    assert quantities(result)["track"] == 55.88
    # The same walls given by hand in metres give the same bill.
    by_hand = BomInput(walls=[horizontal(12.7), horizontal(12.7), horizontal(2.54)])
    assert quantities(bill_of_materials(by_hand)) == quantities(result)


def test_override_replaces_every_pages_scale() -> None:
    raw = ingest_result(None) | {"metres_per_unit": SCALE_1_100}
    params = msgspec.convert(raw, BomInput)
    # Page 1 (unknown scale) and page 0 (1:100 from the text) both at 1:100:
    # 144 pt there is 5.08 m.
    assert wall_lengths_m(params) == pytest.approx([12.7, 12.7, 5.08])


def test_page_with_walls_and_unknown_scale_is_an_error_naming_the_page() -> None:
    raw = ingest_result(None)
    raw["pages"][1]["index"] = 3
    with pytest.raises(BomInputError, match=r"page 3 has 1 wall\(s\) but no scale"):
        BomInput(pages=msgspec.convert(raw["pages"], list[Page]))
    assert issubclass(BomInputError, ValueError)
    # Decoded (as the gateway does), the same message is a validation error: a 400.
    with pytest.raises(msgspec.ValidationError, match="page 3 .*metres_per_unit"):
        msgspec.json.decode(msgspec.json.encode(raw), type=BomInput)
    # Without an index, the page is named by its position in the list.
    del raw["pages"][1]["index"]
    with pytest.raises(msgspec.ValidationError, match="page 1 has"):
        msgspec.convert(raw, BomInput)


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


def test_zero_length_walls_are_ignored() -> None:
    result = bill_of_materials(BomInput(walls=[horizontal(0), horizontal(5)]))
    assert result.totals.walls == 1
    assert quantities(result)["studs"] == 14


def test_many_walls_keep_the_stud_formula_short() -> None:
    # 25 walls of 1 m: ceil(1 / 0.4) + 1 = 4 studs each, 100 in all; the formula lists
    # 10 walls and sums the other 15 (60 studs).
    result = bill_of_materials(BomInput(walls=[horizontal(1)] * 25))
    studs = next(line for line in result.lines if line.key == "studs")
    assert studs.quantity == 100
    assert studs.formula.startswith("sum over 25 walls of")
    assert studs.formula.count("ceil(1 / 0.4) + 1 = 4") == 10
    assert studs.formula.endswith(" + 60 for 15 more walls")


def test_result_and_schema_encode_to_json() -> None:
    result = bill_of_materials(BomInput(walls=[horizontal(5), horizontal(3)]))
    decoded = msgspec.json.decode(msgspec.json.encode(result), type=BomResult)
    assert decoded == result
    plain = msgspec.to_builtins(result)
    assert plain["lines"][0]["quantity"] == 14 and isinstance(plain["lines"][0]["quantity"], int)
    schema = msgspec.json.schema(BomInput)
    properties = schema["$defs"]["BomInput"]["properties"]
    assert properties["ceiling_height_mm"]["minimum"] == 500
    assert properties["ceiling_height_mm"]["default"] == 3048
