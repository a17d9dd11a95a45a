"""The bill's walls in metres (documents.bom): units and an override for walls given by
hand, and each page's scale for a whole ingest result in points. Pure: no Redis, no
processes.
"""

from __future__ import annotations

import msgspec
import pytest

from documents.bom import BomInput, BomInputError, Page, bill_of_materials, wall_lengths_m
from tests.bom_walls import SCALE_1_50, SCALE_1_100, horizontal, ingest_result, quantities


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
