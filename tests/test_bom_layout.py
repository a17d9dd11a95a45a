"""bom on a layout (documents.bom_layout): new partitions boarded on both faces less the
new doors, the plan's existing walls when asked, each source's share, the checks across
fields, and a layout made by the generator's pure functions. Pure but for the last two
tests: a chain passing a whole layout result on, and the gateway's 400s, over a real Redis.
"""

from __future__ import annotations

import math
from typing import Any

import httpx
import msgspec
import pytest

from documents.bom import BomInput, BomInputError, BomResult, LayoutBill, bill_of_materials
from documents.layout_checks import score, validate
from documents.layout_generate import generate
from documents.layout_program import Program, RoomRequest, resolve
from documents.layout_result import generated_layout
from documents.layout_site import site_of
from shared.client import Sluice
from shared.errors import InvalidInputError
from shared.functions import FunctionSpec
from shared.settings import Settings
from shared.validation import field_of, validate_input
from tests.bom_walls import quantities
from tests.helpers import wait_for_status
from tests.inprocess import serving
from tests.layout_sites import RECTANGLE, wall_list, windows_along
from tests.test_documents_api import wait_for_follow_up

INCH = 0.0254
H = 3.048  # the default ceiling, m
DOOR_M = 0.9
DOOR_IN = DOOR_M / INCH
# Two partitions in inches: 150 in = 3.81 m along y = 0, then 100 in = 2.54 m down x = 150,
# with a 0.9 m door in the second (its centre line runs through it).
PARTITIONS = [
    {"x1": 0, "y1": 0, "x2": 150, "y2": 0, "thickness": 4, "length_m": 3.81},
    {"x1": 150, "y1": 0, "x2": 150, "y2": 100, "thickness": 4, "length_m": 2.54},
]
DOOR = {"kind": "door", "room": "office 1", "to": "corridor",
        "x1": 150, "y1": 30, "x2": 150, "y2": 30 + DOOR_IN, "width_m": DOOR_M}  # fmt: skip
# The plan it was made for: a 200 x 150 in shell (exterior), one interior wall, a window
# in the north wall and a door in the interior one.
PLAN_WALLS = [
    {"x1": 0, "y1": -20, "x2": 200, "y2": -20, "thickness": 8, "exterior": True},
    {"x1": 200, "y1": -20, "x2": 200, "y2": 130, "thickness": 8, "exterior": True},
    {"x1": 200, "y1": 130, "x2": 0, "y2": 130, "thickness": 8, "exterior": True},
    {"x1": 0, "y1": 130, "x2": 0, "y2": -20, "thickness": 8, "exterior": True},
    {"x1": 175, "y1": -20, "x2": 175, "y2": 130, "thickness": 4, "exterior": False},
]
PLAN_OPENINGS = [
    {"kind": "window", "wall": 0, "x1": 40, "y1": -20, "x2": 88, "y2": -20, "width": 48},
    {"kind": "door", "wall": 4, "x1": 175, "y1": 50, "x2": 175, "y2": 86, "width": 36},
]
PLAN = {"walls": PLAN_WALLS, "openings": PLAN_OPENINGS, "scale": {"metres_per_unit": INCH}}
LAYOUT: dict[str, Any] = {
    "rooms": [{"name": "office 1", "type": "office", "polygon": [[0, 0], [150, 0], [150, 130]],
               "area_m2": 12.6, "doors": [0], "needs_window": True}],
    "partitions": PARTITIONS,
    "doors": [DOOR],
    "corridor": [[[150, 0], [175, 0], [175, 130], [150, 130]]],
    "open_areas": [],
    "validation": {"valid": True, "checks": []},
    "score": {"total": 0.8},
    "seed": 0,
    "scale": {"metres_per_unit": INCH},
    "notes": [],
    "candidates": ["seed 0: valid - chosen"],
    "brief": {"unread": [], "notes": []},
    "program": {"rooms": []},
    "plan": PLAN,
    "preview": {"name": "preview.png", "url": "/v1/jobs/x/artifacts/preview.png"},
}  # fmt: skip
BOM = FunctionSpec("bom", BomInput, lambda job, params: None)
PARTS = ["partitions", "existing walls"]


def bill(**raw: Any) -> BomResult:
    """As the gateway decodes a body (and a chain its merged input)."""
    return bill_of_materials(msgspec.json.decode(msgspec.json.encode(raw), type=BomInput))


def refused(raw: dict[str, Any]) -> str | None:
    """The field named when ``raw`` is refused at decoding."""
    with pytest.raises(msgspec.ValidationError) as raised:
        msgspec.json.decode(msgspec.json.encode(raw), type=BomInput)
    return field_of(raised.value)


def totals(result: BomResult) -> dict[str, Any]:
    assert isinstance(result, LayoutBill) and result.layout_totals is not None
    return {each.source: each for each in result.layout_totals}


def said(result: BomResult, *words: str) -> bool:
    return any(all(word in sentence for word in words) for sentence in result.assumptions)


def test_partitions_are_boarded_on_both_faces_less_their_doors() -> None:
    result = bill(**LAYOUT)
    # 2 faces x (3.81 + 2.54) m x 3.048 m - 2 faces x 0.9 x 2.1 m (the door) = 34.9296 m².
    expected = 2 * (3.81 + 2.54) * H - 2 * DOOR_M * 2.1
    assert result.totals.board_area_m2 == pytest.approx(expected, rel=0.005)
    assert result.totals.wall_length_m == pytest.approx(6.35, abs=1e-3)
    assert result.totals.openings_deducted == 1
    assert result.pages_used is None and result.page_totals is None
    # The same walls as a wall list in inches, interior walls on 2 sides: the same bill.
    door = {"kind": "door", "wall": 1, **{k: DOOR[k] for k in ("x1", "y1", "x2", "y2")}}
    walls = [{k: v for k, v in p.items() if k != "length_m"} for p in PARTITIONS]
    listed = bill(walls=walls, openings=[door | {"width": DOOR_IN}], units="in",
                  unit_system="metric", interior_sides=2)  # fmt: skip
    assert quantities(result) == quantities(listed)
    assert quantities(result)["studs"] == (10 + 1) + (7 + 1)  # ceil(3.81 / 0.4), ceil(2.54 / 0.4)
    assert result.totals.board_area_m2 == listed.totals.board_area_m2
    # Whatever interior_sides says: new stud partitions have two faces.
    assert quantities(bill(**LAYOUT, interior_sides=1)) == quantities(listed)
    (partitions,) = totals(result).values()
    assert partitions.source == "partitions" and partitions.interior_sides == 2
    assert partitions.walls == 2 and partitions.wall_length_m == pytest.approx(6.35, abs=1e-3)
    assert partitions.doors == 1 and partitions.doors_off_partitions == 0
    assert partitions.scale.metres_per_unit == INCH and partitions.scale.source == "layout"
    assert said(result, "2 partitions of the layout", "6.35 m in all", "both faces")
    assert said(result, "existing walls are not billed", "existing_walls false")
    assert said(result, "at 0.0254 m per unit")
    assert not said(result, "Wall list in units")
    # Given as "layout" (a client's body), the same bill.
    assert bill(layout=LAYOUT) == result


def test_without_deducting_openings_the_door_stays_board() -> None:
    result = bill(**LAYOUT, deduct_openings=False)
    assert result.totals.board_area_m2 == pytest.approx(2 * 6.35 * H, abs=1e-3)
    assert result.totals.openings_deducted == 0
    assert said(result, "not deducted (deduct_openings false)")
    assert said(bill(**(LAYOUT | {"doors": []})), "The layout has no new doors.")


def test_a_door_on_no_partition_is_not_deducted_and_said() -> None:
    astray = DOOR | {"x1": 300, "x2": 300}  # 150 in east of every partition
    result = bill(**(LAYOUT | {"doors": [DOOR, astray]}))
    assert result.totals.openings_deducted == 1
    assert totals(result)["partitions"].doors_off_partitions == 1
    assert said(result, "1 on no new partition, not deducted")


def test_existing_walls_add_the_plans_bill() -> None:
    new = bill(**LAYOUT, interior_sides=1)
    both = bill(**LAYOUT, interior_sides=1, existing_walls=True)
    plan = bill(walls=PLAN_WALLS, openings=PLAN_OPENINGS, units="in", unit_system="metric",
                interior_sides=1)  # fmt: skip
    # Board: the partitions on both faces, plus the plan as a wall list on its own faces
    # (exterior walls on 1, the interior one on interior_sides = 1).
    assert both.totals.board_area_m2 == pytest.approx(
        new.totals.board_area_m2 + plan.totals.board_area_m2, abs=2e-3
    )
    assert plan.totals.board_area_m2 > 0 and plan.totals.openings_deducted == 2
    for key in ("studs", "track"):
        assert quantities(both)[key] == pytest.approx(quantities(new)[key] + quantities(plan)[key])
    assert both.totals.walls == 2 + 5 and both.totals.exterior_walls == 4
    assert both.totals.openings_deducted == 1 + 2
    shares = totals(both)
    assert list(shares) == ["partitions", "existing walls"]
    old = shares["existing walls"]
    assert old.board_area == pytest.approx(plan.totals.board_area_m2, abs=1e-3)
    assert old.interior_sides == 1 and old.exterior_walls == 4 and old.walls == 5
    assert old.wall_length_m == pytest.approx(plan.totals.wall_length_m, abs=1e-3)
    assert shares["partitions"].board_area == pytest.approx(new.totals.board_area_m2, abs=1e-3)
    assert both.totals.board_formula.startswith("partitions: 1 layer x (2 sides x")
    assert "; existing walls: 1 layer x (1 side x" in both.totals.board_formula
    assert said(both, "Existing walls (existing_walls true)", "4 exterior, 1 interior")


def test_metres_per_unit_stands_in_for_a_missing_scale_and_overrides_one() -> None:
    unscaled = LAYOUT | {"scale": None, "plan": PLAN | {"scale": None}}
    assert refused(unscaled) == "$.metres_per_unit"
    assert bill(**unscaled, metres_per_unit=INCH) == bill(**LAYOUT, metres_per_unit=INCH)
    # The plan's scale stands in for the layout's.
    assert bill(**(LAYOUT | {"scale": None})).totals == bill(**LAYOUT).totals
    # An override: the coordinates at 1 cm per unit (length_m is checked at the layout's).
    centimetres = bill(**LAYOUT, metres_per_unit=0.01)
    assert centimetres.totals.wall_length_m == pytest.approx(2.5)
    assert totals(centimetres)["partitions"].scale.source == "parameter"


def test_refusals_name_the_field() -> None:
    wall = {"x1": 0, "y1": 0, "x2": 1, "y2": 0, "thickness": 0.1}
    page = {"walls": [wall], "scale": {"metres_per_unit": 1}}
    cases: list[tuple[dict[str, Any], str]] = [
        (LAYOUT | {"plan": None, "existing_walls": True}, "$.existing_walls"),
        ({"layout": LAYOUT | {"plan": None}, "existing_walls": True}, "$.existing_walls"),
        (LAYOUT | {"walls": [wall]}, "$.walls"),
        ({"layout": LAYOUT, "pages": [page]}, "$.pages"),
        ({"layout": LAYOUT, "partitions": PARTITIONS}, "$.partitions"),
        ({"layout": LAYOUT, "scale": {"metres_per_unit": 1}}, "$.scale"),
        (LAYOUT | {"openings": []}, "$.openings"),
        (LAYOUT | {"use_pages": [0]}, "$.use_pages"),
        # A layout's fields without its partitions, existing_walls without a layout.
        ({"walls": [wall], "rooms": []}, "$.rooms"),
        ({"walls": [wall], "existing_walls": True}, "$.existing_walls"),
        # length_m that the coordinates at the scale do not give: a wrong scale.
        (LAYOUT | {"partitions": [PARTITIONS[0], PARTITIONS[1] | {"length_m": 2.0}]},
         "$.partitions[1].length_m"),
        ({"layout": LAYOUT | {"doors": [DOOR | {"width_m": 1.2}]}}, "$.layout.doors[0].width_m"),
        (LAYOUT | {"plan": PLAN | {"scale": {"metres_per_unit": 0.01}}},
         "$.plan.scale.metres_per_unit"),
        (LAYOUT | {"partitions": [PARTITIONS[0] | {"x2": 1e300}]}, "$.partitions[0].x2"),
        (LAYOUT | {"plan": PLAN | {"walls": [wall | {"y1": "a"}]}}, "$.plan.walls[0].y1"),
        (LAYOUT | {"existing_walls": True, "plan": PLAN | {"openings": [PLAN_OPENINGS[0]
         | {"wall": 9}]}}, "$.plan.openings[0].wall"),
        ({}, "$.walls"),
    ]  # fmt: skip
    for raw, field in cases:
        assert refused(raw) == field, raw
    with pytest.raises(msgspec.ValidationError, match="exactly one of 'walls' or 'pages'"):
        msgspec.convert({}, BomInput)


def test_refusals_when_constructed_directly() -> None:
    layout = msgspec.convert(LAYOUT, BomInput)
    with pytest.raises(BomInputError, match=r"has no `plan`.* - at `\$.existing_walls`"):
        msgspec.structs.replace(layout, plan=None, existing_walls=True)
    with pytest.raises(BomInputError, match=r"pass metres_per_unit.* - at `\$.metres_per_unit`"):
        msgspec.structs.replace(layout, scale=None, plan=None)
    with pytest.raises(BomInputError, match=r"- at `\$.walls`"):
        msgspec.structs.replace(layout, walls=[])


def test_the_gateway_takes_a_whole_layout_result_and_refuses_a_typo() -> None:
    # As the gateway checks a body: the schema, then fields no Struct declares.
    for body in (LAYOUT | {"existing_walls": True}, {"layout": LAYOUT | {"anything": 1}}):
        value = msgspec.json.decode(validate_input(BOM, msgspec.json.encode(body)))
        assert value["ceiling_height_mm"] == 3048
    with pytest.raises(InvalidInputError) as raised:
        validate_input(BOM, msgspec.json.encode(LAYOUT | {"existing_wall": True}))
    assert raised.value.details.get("field") == "$.existing_wall"
    schema = msgspec.json.schema(BomInput)["$defs"]["BomInput"]["properties"]
    assert "plan" in schema["existing_walls"]["description"]
    assert "both faces" in schema["layout"]["description"]


def generated(seed: int = 0) -> dict[str, Any]:
    """A layout as the ``layout`` function returns it, from the generator's pure functions,
    over a 15 x 10 m plan in metres."""
    plan = wall_list(
        RECTANGLE, [(0, "door", 6.5, 7.4), *windows_along(2, 15), *windows_along(1, 10)]
    )
    site = site_of(plan)
    rooms = [RoomRequest("office", 12, 3, needs_window=True),
             RoomRequest("meeting room", 20, max_area_m2=30), RoomRequest("store", 6)]  # fmt: skip
    program = resolve(Program(rooms))
    candidate = generate(site, program, seed)
    validation = validate(site, program, candidate)
    assert validation.valid
    layout = generated_layout(site, candidate, validation, score(candidate, validation))
    result: dict[str, Any] = msgspec.to_builtins(layout)
    result["candidates"] = [f"seed {seed}: valid - chosen"]
    result["plan"] = {
        "walls": plan["walls"],
        "openings": plan["openings"],
        "scale": {"metres_per_unit": 1.0},
    }
    return result


def test_a_generated_layout_bills_its_partitions_and_doors() -> None:
    layout = generated()
    assert layout["partitions"] and layout["doors"]
    result = bill(**layout)
    run = sum(p["length_m"] for p in layout["partitions"])
    doors = sum(
        math.hypot(d["x2"] - d["x1"], d["y2"] - d["y1"]) for d in layout["doors"]
    )  # metres: the plan is in metres
    share = totals(result)["partitions"]
    assert share.wall_length_m == pytest.approx(run, abs=0.01)
    assert share.doors == len(layout["doors"]) and share.doors_off_partitions == 0
    assert result.totals.openings_deducted == len(layout["doors"])
    expected = 2 * run * H - 2 * doors * 2.1
    assert result.totals.board_area_m2 == pytest.approx(expected, rel=0.005)
    studs = sum(math.ceil(round(p["length_m"] / 0.4, 6)) + 1 for p in layout["partitions"])
    assert quantities(result)["studs"] == studs
    # With the plan's walls: the sum of the two bills' board.
    plan = bill(**{k: v for k, v in layout["plan"].items() if k != "scale"}, units="m")
    both = bill(**layout, existing_walls=True)
    assert both.totals.board_area_m2 == pytest.approx(
        result.totals.board_area_m2 + plan.totals.board_area_m2, abs=2e-3
    )
    assert said(both, "none of the plan's 4 walls has an exterior flag")
    # The whole result passes the gateway's checks, at the top level or as "layout".
    validate_input(BOM, msgspec.json.encode(layout | {"existing_walls": True}))
    validate_input(BOM, msgspec.json.encode({"layout": layout}))


def test_the_readme_example() -> None:
    """The README's layout by hand (its sh example sends this body): one 4 m partition with
    a 0.9 m door in a 6 x 4 m shell, the shell billed too, a 2700 mm ceiling."""
    shell = [(0, 0, 6, 0), (6, 0, 6, 4), (6, 4, 0, 4), (0, 4, 0, 0)]
    plan = {
        "walls": [dict(zip(("x1", "y1", "x2", "y2"), ends, strict=True))
                  | {"thickness": 0.3, "exterior": True} for ends in shell],
        "openings": [{"kind": "door", "wall": 2, "x1": 4.5, "y1": 4, "x2": 3.6, "y2": 4,
                      "width": 0.9}],
    }  # fmt: skip
    layout = {
        "partitions": [{"x1": 3, "y1": 0, "x2": 3, "y2": 4, "thickness": 0.1, "length_m": 4}],
        "doors": [{"kind": "door", "x1": 3, "y1": 1.5, "x2": 3, "y2": 2.4, "width_m": 0.9}],
        "scale": {"metres_per_unit": 1},
        "plan": plan,
    }
    result = bill(layout=layout, existing_walls=True, ceiling_height_mm=2700)
    # Partitions 2 x 4 x 2.7 - 2 x 0.9 x 2.1 = 17.82 m²; the shell 1 face x 20 x 2.7 - the
    # entrance 0.9 x 2.1 = 52.11 m²; 69.93 m² on 1.2 x 2.7 = 3.24 m² sheets: 21.6 -> 22.
    assert result.totals.board_area_m2 == 69.93
    assert quantities(result)["sheets"] == 22
    assert quantities(result)["studs"] == 11 + 2 * 16 + 2 * 11
    shares = totals(result)
    assert (shares["partitions"].board_area, shares["existing walls"].board_area) == (17.82, 52.11)
    assert result.totals.board_formula.endswith("= 52.11 m²; together 69.93 m²")


@pytest.mark.any_redis
async def test_a_chain_passes_the_whole_layout_result_to_bom(
    gateway_http: httpx.AsyncClient, sluice: Sluice, settings: Settings
) -> None:
    """echo's result is the layout result, as layout's is in ingest?then=layout,bom."""
    reply = await gateway_http.post("/v1/jobs/echo?then=bom&bom.existing_walls=true", json=LAYOUT)
    assert reply.status_code == 202, reply.text
    next_id = reply.json()["next_job_id"]
    async with serving(settings, "echo", "bom"):
        await wait_for_follow_up(sluice, next_id)
        follow_up = await wait_for_status(sluice, next_id, "succeeded", "failed")
    assert follow_up.status == "succeeded", follow_up.error
    result = follow_up.result_value()
    expected = msgspec.to_builtins(bill(**LAYOUT, existing_walls=True))
    assert result == expected
    assert [share["source"] for share in result["layout_totals"]] == PARTS


@pytest.mark.any_redis
async def test_the_gateway_refuses_a_layout_it_cannot_bill_naming_the_field(
    gateway_http: httpx.AsyncClient,
) -> None:
    cases = [
        (LAYOUT | {"existing_walls": True, "plan": None}, "$.existing_walls"),
        (LAYOUT | {"scale": None, "plan": None}, "$.metres_per_unit"),
        ({"layout": LAYOUT, "walls": []}, "$.walls"),
        (LAYOUT | {"existing_wall": True}, "$.existing_wall"),
    ]
    for body, field in cases:
        reply = await gateway_http.post("/v1/jobs/bom", json=body)
        assert reply.status_code == 400, reply.text
        assert reply.json()["error"].get("field") == field, (field, reply.text)
    reply = await gateway_http.post("/v1/jobs/bom", json=LAYOUT | {"existing_walls": True})
    assert reply.status_code == 202, reply.text
