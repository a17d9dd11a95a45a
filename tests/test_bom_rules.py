"""The bill's rules (documents.bom): boarded faces, openings, units, sheet choice,
subtotals per page and per room, assumptions, and the parameters' checks. Pure: no Redis."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

import documents.functions  # noqa: F401  (registers bom, for the chain's checks)
from documents.bom import BomInput, BomResult, bill_of_materials

PT = 0.0254 / 72  # one PDF point in metres at full size
SCALE_1_100 = PT * 100
M = 1 / SCALE_1_100  # points per metre at 1:100


def wall(
    x1: float, y1: float, x2: float, y2: float, exterior: bool | None = None
) -> dict[str, Any]:
    return {"x1": x1, "y1": y1, "x2": x2, "y2": y2, "thickness": 0.1, "exterior": exterior}


def opening(kind: str, wall: int | None, x1: float, x2: float, y: float = 0) -> dict[str, Any]:
    """An opening along a horizontal wall at height ``y``, jamb to jamb."""
    return {"kind": kind, "wall": wall, "x1": x1, "y1": y, "x2": x2, "y2": y, "width": x2 - x1}


def bill(**raw: Any) -> BomResult:
    """As the gateway decodes a body."""
    return bill_of_materials(msgspec.json.decode(msgspec.json.encode(raw), type=BomInput))


def quantities(result: BomResult) -> dict[str, int | float]:
    return {line.key: line.quantity for line in result.lines}


def said(result: BomResult, *words: str) -> bool:
    """Whether one of the assumptions holds every one of ``words``."""
    return any(all(word in sentence for word in words) for sentence in result.assumptions)


# Faces


def test_exterior_walls_are_boarded_on_the_inside_face_only() -> None:
    # A 10 m exterior wall and a 10 m interior one, 2400 mm ceiling: one face 24 m² each.
    walls = [wall(0, 0, 10, 0, exterior=True), wall(0, 5, 10, 5, exterior=False)]
    result = bill(walls=walls, ceiling_height_mm=2400)
    # 1 x 24 (exterior) + 2 x 24 (interior) = 72 m², not 96.
    assert result.totals.board_area_m2 == 72
    assert result.totals.exterior_walls == 1
    assert result.totals.wall_area_m2 == 48  # one face of each
    # Sheets 1.2 x 2.4 = 2.88 m²: 72 / 2.88 = 25. Paint covers the same faces.
    assert quantities(result)["sheets"] == 25
    assert quantities(result)["paint"] == 14.4  # 72 m² x 2 coats / 10
    assert result.totals.board_formula == (
        "1 layer x (2 sides x 24 m² of interior walls + 1 side x 24 m² of exterior walls) = 72 m²"
    )
    assert said(result, "exterior true", "1 face", "inside", "1 exterior, 1 interior")


def test_faces_are_configurable() -> None:
    walls = [wall(0, 0, 10, 0, exterior=True), wall(0, 5, 10, 5, exterior=False)]
    both = bill(walls=walls, ceiling_height_mm=2400, exterior_sides=2)
    assert both.totals.board_area_m2 == 96
    one_each = bill(walls=walls, ceiling_height_mm=2400, interior_sides=1)
    assert one_each.totals.board_area_m2 == 48
    bare = bill(walls=walls, ceiling_height_mm=2400, interior_sides=0)
    assert bare.totals.board_area_m2 == 24
    assert quantities(bare)["studs"] == quantities(both)["studs"]  # framing stays


def test_a_wall_whose_exterior_is_not_known_counts_as_interior() -> None:
    result = bill(walls=[wall(0, 0, 10, 0)], ceiling_height_mm=2400)
    assert result.totals.board_area_m2 == 48
    assert result.totals.exterior_walls == 0
    assert said(result, "not known", "counts as interior")


def test_walls_without_an_exterior_flag_are_counted_apart() -> None:
    flagged = [wall(0, 0, 10, 0, exterior=True), wall(0, 5, 10, 5, exterior=False)]
    result = bill(walls=[*flagged, wall(0, 9, 10, 9)], ceiling_height_mm=2400)
    assert said(result, "1 exterior, 2 interior (1 of them with no exterior flag, boarded as")
    known = bill(walls=flagged, ceiling_height_mm=2400)
    assert said(known, "1 exterior, 1 interior.")
    assert not said(known, "no exterior flag")
    # A page where no room closed: ingest leaves every wall's exterior null. It gets a
    # warning of its own; the page whose walls are flagged does not.
    unknown = [{**w, "exterior": None} for w in page()["walls"]]
    pages = [page(), page(index=1, walls=unknown, rooms=[])]
    from_pages = bill(pages=pages, ceiling_height_mm=2400)
    assert from_pages.page_totals is not None
    assert [p.unflagged_walls for p in from_pages.page_totals] == [0, 5]
    assert [p.exterior_walls for p in from_pages.page_totals] == [5, 0]
    warnings = [s for s in from_pages.assumptions if s.startswith("Warning")]
    assert warnings == [
        "Warning: page 1: none of its 5 walls has an exterior flag (no closed outline was"
        " found), so all were boarded as interior walls on 2 faces; the exterior ones are"
        " likely over-counted (set exterior on the walls to correct it)."
    ]
    assert said(from_pages, "5 exterior, 5 interior (5 of them with no exterior flag")


# Openings


def test_an_opening_inside_its_wall_is_deducted_from_its_faces() -> None:
    # A 10 m interior wall with a 1 m door in its middle: 2 faces x 1 x 2.1 = 4.2 m² less.
    result = bill(
        walls=[wall(0, 0, 10, 0)], openings=[opening("door", 0, 4, 5)], ceiling_height_mm=2400
    )
    assert result.totals.board_area_m2 == pytest.approx(48 - 4.2)
    assert (result.totals.openings_deducted, result.totals.openings_added) == (1, 0)
    assert "- 4.2 m² of openings in walls" in result.totals.board_formula
    assert said(result, "deducted", "gap", "added", "2100 mm")
    # On an exterior wall, only its one boarded face loses the door.
    outside = bill(
        walls=[wall(0, 0, 10, 0, exterior=True)],
        openings=[opening("door", 0, 4, 5)],
        ceiling_height_mm=2400,
    )
    assert outside.totals.board_area_m2 == pytest.approx(24 - 2.1)
    # A window: 1200 mm high (on a 900 mm sill), 2 m wide: 2 faces x 2 x 1.2 = 4.8 m².
    window = bill(
        walls=[wall(0, 0, 10, 0)], openings=[opening("window", 0, 4, 6)], ceiling_height_mm=2400
    )
    assert window.totals.board_area_m2 == pytest.approx(48 - 4.8)


def test_an_opening_in_a_gap_between_walls_adds_the_board_above_and_below_it() -> None:
    # As a CAD plan draws it: the wall stops at the jambs (0-4 m, 5-10 m), the door fills
    # 4-5 m. The walls miss the gap; the board above the door, 2.4 - 2.1 = 0.3 m, is added.
    walls = [wall(0, 0, 4, 0), wall(5, 0, 10, 0)]
    door = bill(walls=walls, openings=[opening("door", 0, 4, 5)], ceiling_height_mm=2400)
    # 2 faces x 9 m x 2.4 = 43.2, + 2 faces x 1 x 0.3 = 0.6: the same 43.8 m² as the
    # wall drawn through the door with the door deducted.
    assert door.totals.board_area_m2 == pytest.approx(43.8)
    assert (door.totals.openings_deducted, door.totals.openings_added) == (0, 1)
    assert "+ 0.6 m² above and below openings in gaps" in door.totals.board_formula
    # A window in the gap: below the sill and above the head, 2.4 - 1.2 = 1.2 m.
    window = bill(walls=walls, openings=[opening("window", 1, 4, 5)], ceiling_height_mm=2400)
    assert window.totals.board_area_m2 == pytest.approx(43.2 + 2 * 1.2)
    # An opening with no wall takes an interior wall's faces; a plain one is door height.
    loose = bill(walls=walls, openings=[opening("opening", None, 4, 5)], ceiling_height_mm=2400)
    assert loose.totals.board_area_m2 == pytest.approx(43.8)
    assert said(loose, 'Plain openings (kind "opening") include open passages between spaces')
    assert said(loose, "open passages", "board above one is added at the door height")


def test_deduction_can_be_turned_off() -> None:
    raw = {"walls": [wall(0, 0, 10, 0)], "openings": [opening("door", 0, 4, 5)]}
    off = bill(**raw, ceiling_height_mm=2400, deduct_openings=False)
    assert off.totals.board_area_m2 == 48
    assert off.totals.openings_deducted == 0
    assert said(off, "deduct_openings is false")


def test_openings_taller_than_the_ceiling_stop_at_it() -> None:
    # A 2000 mm ceiling with the 2100 mm default door: the door takes the whole height.
    result = bill(
        walls=[wall(0, 0, 10, 0)], openings=[opening("door", 0, 4, 5)], ceiling_height_mm=2000
    )
    assert result.totals.board_area_m2 == pytest.approx(2 * (20 - 2))
    assert said(result, "taller than the 2000 mm ceiling")
    # Many openings on one wall never take more than the wall has.
    crowded = bill(walls=[wall(0, 0, 1, 0)], openings=[opening("door", 0, 0.2, 0.8)] * 5)
    assert crowded.totals.board_area_m2 == 0


# Pages and rooms


def page(**extra: Any) -> dict[str, Any]:
    """A plan page in PDF points at 1:100: a 4 x 3 m room, a door in a gap of its south wall."""
    walls = [
        wall(0, 0, 4 * M, 0, exterior=True),  # north
        wall(4 * M, 0, 4 * M, 3 * M, exterior=True),  # east
        wall(4 * M, 3 * M, 1.9 * M, 3 * M, exterior=True),  # south, east of the door
        wall(1 * M, 3 * M, 0, 3 * M, exterior=True),  # south, west of the door
        wall(0, 3 * M, 0, 0, exterior=True),  # west
    ]
    return {
        "index": 0,
        "kind": "plan",
        "scale": {"metres_per_unit": SCALE_1_100, "source": "dimensions", "confidence": 0.8},
        "walls": walls,
        "openings": [opening("door", 3, 1 * M, 1.9 * M, y=3 * M)],
        "rooms": [
            {
                "id": 7,
                "name": "KITCHEN",
                "number": "101",
                "polygon": [[0, 0], [4 * M, 0], [4 * M, 3 * M], [0, 3 * M]],
                "area": 12 * M * M,
                "openings": [0],
                "adjacent": [],
            }
        ],
        "text": [],
    } | extra


def test_per_page_subtotals_name_the_scale_and_its_source() -> None:
    second = page(index=1, rooms=[], openings=[], walls=[wall(0, 0, 5 * M, 0)])
    second["scale"] = {"metres_per_unit": SCALE_1_100, "source": "note", "confidence": 0.9}
    result = bill(pages=[page(), second], ceiling_height_mm=2400)
    assert result.page_totals is not None
    first, other = result.page_totals
    assert first.scale is not None and first.scale.source == "dimensions"
    assert first.scale.confidence == 0.8
    assert other.scale is not None and other.scale.source == "note"
    # Page 0: 14 m less the 0.9 m door = 13.1 m of exterior wall, 1 face x 2.4 = 31.44 m²,
    # + 0.9 x 0.3 above the door = 31.71 m².
    assert (first.walls, first.exterior_walls) == (5, 5)
    assert first.wall_length == pytest.approx(13.1)
    assert first.board_area == pytest.approx(31.71)
    assert first.openings_added == 1
    assert first.sheets == 12  # 31.71 / 2.88 = 11.01 -> 12
    # Page 1: a 5 m interior wall, 2 faces x 5 x 2.4 = 24 m².
    assert (other.walls, other.board_area, other.sheets) == (1, 24, 9)
    assert result.totals.board_area_m2 == pytest.approx(31.71 + 24)
    assert said(result, "page_totals[].scale")
    # metres_per_unit replaces every page's scale, and says "parameter".
    forced = bill(pages=[page()], metres_per_unit=SCALE_1_100 * 2)
    assert forced.page_totals is not None and forced.page_totals[0].scale is not None
    assert forced.page_totals[0].scale.source == "parameter"
    assert said(forced, "metres_per_unit", "(parameter)")


def test_per_room_subtotals_in_the_chosen_units() -> None:
    result = bill(pages=[page()], ceiling_height_mm=2400, layers_per_side=2)
    assert result.room_totals is not None
    (room,) = result.room_totals
    assert (room.index, room.id, room.name, room.number) == (0, 7, "KITCHEN", "101")
    # Perimeter 14 m x 2.4 = 33.6 m², less the 0.9 x 2.1 m door = 31.71; 2 layers: 63.42.
    assert room.perimeter == pytest.approx(14)
    assert room.openings == 1
    assert room.wall_area == pytest.approx(31.71)
    assert room.board_area == pytest.approx(63.42)
    assert room.sheets == 23  # 63.42 / 2.88 = 22.02 -> 23
    assert room.paint == pytest.approx(6.342)  # 31.71 x 2 coats / 10
    assert said(result, "Room subtotals")
    feet = bill(pages=[page()], ceiling_height_mm=2400, units="ft")
    assert feet.room_totals is not None
    assert feet.room_totals[0].perimeter == pytest.approx(14 / 0.3048, abs=1e-3)
    # Without openings deducted, the whole outline.
    plain = bill(pages=[page()], ceiling_height_mm=2400, deduct_openings=False)
    assert plain.room_totals is not None and plain.room_totals[0].wall_area == 33.6


def test_every_bill_lists_its_assumptions() -> None:
    result = bill(walls=[wall(0, 0, 5, 0)])
    assert len(result.assumptions) >= 8
    for words in [
        ("metric units",),
        ('units "m"',),
        ("3048 mm ceiling",),
        ("interior_sides", "exterior_sides"),
        ("Openings",),
        ("Sheets 1200 mm wide x 3600 mm long",),
        ("Studs at 400 mm",),
        ("Overhead 10 %",),
    ]:
        assert said(result, *words), (words, result.assumptions)
    encoded = msgspec.to_builtins(result)
    assert isinstance(encoded["assumptions"][0], str)


def test_pages_without_any_wall_are_refused_not_billed_as_zero() -> None:
    pages = [{"index": 0, "kind": "schedule", "walls": []}, {"index": 1, "walls": []}]
    with pytest.raises(
        msgspec.ValidationError, match=r"no page has walls .*0 \(schedule\), 1 \(plan\)"
    ) as caught:
        msgspec.convert({"pages": pages, "metres_per_unit": 0.01}, BomInput)
    assert "$.pages" in str(caught.value)


def test_an_opening_must_match_its_span_and_lie_on_its_wall() -> None:
    # A black-box tester's finds: width 50 on a 0.9 m span cleared a whole wall, and a
    # door 30 m away from its wall added board to it.
    ten = [wall(0, 0, 10, 0)]
    wide = opening("door", 0, 4.55, 5.45) | {"width": 50}
    with pytest.raises(msgspec.ValidationError, match=r"width 50 is not the length") as caught:
        msgspec.convert({"walls": ten, "openings": [wide]}, BomInput)
    assert "$.openings[0].width" in str(caught.value)
    far = opening("door", 0, 40, 40.9, y=30)
    with pytest.raises(msgspec.ValidationError, match=r"not on wall 0") as caught:
        msgspec.convert({"walls": ten, "openings": [far]}, BomInput)
    assert "$.openings[0].wall" in str(caught.value)
    # In a gap at the wall's end (as ingest gives doors) is fine.
    gap = opening("door", 0, 10.1, 11.0)
    assert msgspec.convert({"walls": ten, "openings": [gap]}, BomInput)


def test_an_empty_use_pages_is_named_as_such() -> None:
    with pytest.raises(msgspec.ValidationError, match="use_pages is empty"):
        msgspec.convert({"pages": [page()], "use_pages": []}, BomInput)
