"""The bill of materials (documents.bom) against hand calculations: quantities, formulas,
defaults, overhead, studs per wall, layers, and the bill as JSON. Pure: no Redis, no
processes.
"""

from __future__ import annotations

import msgspec

from documents.bom import (
    COMPOUND_KG_PER_M2,
    PAINT_COATS,
    PAINT_L_PER_M2_PER_COAT,
    SCREWS_PER_M2,
    TAPE_M_PER_M2,
    BomInput,
    BomResult,
    bill_of_materials,
)
from documents.model import Wall
from tests.bom_walls import horizontal, quantities, with_overhead


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
