"""The ``layout`` handler called directly (documents.layout): brief and program in, the
best valid candidate out, with its lines, progress per candidate, the preview and the plan
it was made on; LayoutInfeasible with numbers; parameters refused at decoding. The
gateway and consumers run it in tests/test_layout_e2e.py.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from typing import Any

import msgspec
import pytest

from documents.layout import LayoutInfeasibleError, layout
from documents.layout_input import LayoutInput
from documents.layout_program import LayoutProgramError
from documents.model3d_input import Model3dParameterError
from shared import error_types
from shared.unknown_fields import unknown_field
from tests.layout_sites import RECTANGLE, wall_list, windows_along

# The 15 x 10 m rectangle of tests/test_layout_generate.py: a north door, south windows.
PLAN = wall_list(RECTANGLE, [(0, "door", 6.5, 7.4), *windows_along(2, 15)])
BRIEF = "3 offices of at least 10 m2 along the windows, a 20 m2 meeting room, 1.5 m corridor"


@dataclass
class RecordingJob:
    """A JobContext that keeps what the handler reports and saves."""

    progress_seen: list[tuple[float, str]] = field(default_factory=list)
    artifacts: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    job_id: str = "layout-test"
    attempt: int = 1

    def progress(self, percent: float, message: str = "") -> None:
        self.progress_seen.append((percent, message))

    def document(self) -> bytes:
        raise AssertionError("layout takes no document")

    def save_artifact(self, name: str, data: bytes, content_type: str) -> str:
        self.artifacts[name] = (data, content_type)
        return f"/v1/jobs/{self.job_id}/artifacts/{name}"


def params(**fields: Any) -> LayoutInput:
    """Decoded as the gateway decodes a body, so the schema's checks apply."""
    return msgspec.json.decode(msgspec.json.encode(fields), type=LayoutInput)


def run(**fields: Any) -> tuple[dict[str, Any], RecordingJob]:
    job = RecordingJob()
    return layout(job, params(**fields)), job


def test_a_brief_gives_the_best_of_two_valid_candidates_with_its_lines() -> None:
    result, job = run(plan=PLAN, brief=BRIEF + ", and a rooftop jacuzzi")
    assert result["validation"]["valid"]
    assert {c["name"] for c in result["validation"]["checks"]} >= {"area", "windows"}
    names = sorted(room["name"] for room in result["rooms"])
    assert names == ["meeting room", "office 1", "office 2", "office 3"]
    assert all(room["area_m2"] >= 10 * 0.995 for room in result["rooms"])
    # What the brief could not read is reported, not guessed.
    assert result["brief"]["unread"] == ["a rooftop jacuzzi"]
    assert result["program"]["corridor_width_m"] == 1.5
    # One line per candidate; the chosen one is the lowest valid score.
    lines = result["candidates"]
    assert len(lines) == 2 and sum("chosen" in line for line in lines) == 1
    chosen = next(line for line in lines if "chosen" in line)
    assert f"seed {result['seed']}: valid, score {result['score']['total']:.3f}" in chosen
    # Progress once per candidate, rising, then 100 at the end.
    per_candidate = [m for _, m in job.progress_seen if m.startswith("candidate ")]
    assert len(per_candidate) == 2
    percents = [p for p, _ in job.progress_seen]
    assert percents == sorted(percents) and percents[-1] == 100
    png, content_type = job.artifacts["preview.png"]
    assert content_type == "image/png" and png.startswith(b"\x89PNG")
    assert result["preview"]["url"].endswith("/artifacts/preview.png")


def test_partitions_are_in_the_plans_units_and_the_plan_is_carried() -> None:
    """The same rectangle drawn in points at 1:100: partitions come back in points."""
    k = 0.0254 / 72 * 100  # metres per point at 1:100
    walls = [{key: (v / k if key != "exterior" else v) for key, v in wall.items()}
             for wall in PLAN["walls"]]  # fmt: skip
    openings = [{key: (v / k if key in ("x1", "y1", "x2", "y2", "width") else v)
                 for key, v in o.items()} for o in PLAN["openings"]]  # fmt: skip
    plan = {"walls": walls, "openings": openings, "units": "pt"}
    result, _ = run(plan=plan, brief=BRIEF, metres_per_unit=k)
    assert result["scale"]["metres_per_unit"] == pytest.approx(k)
    for part in result["partitions"]:
        length = math.hypot(part["x2"] - part["x1"], part["y2"] - part["y1"])
        assert length * k == pytest.approx(part["length_m"], abs=0.01)
        assert part["thickness"] * k == pytest.approx(0.1, abs=1e-3)
    carried = result["plan"]
    # The walls as given; the site judged which are the shell (all four, here).
    assert [{**wall, "exterior": None} for wall in carried["walls"]] == [
        {**wall, "exterior": None} for wall in walls
    ]
    assert all(wall["exterior"] is True for wall in carried["walls"])
    assert len(carried["openings"]) == len(openings)
    assert carried["scale"]["metres_per_unit"] == pytest.approx(k)


def test_a_seed_gives_the_same_layout_however_many_workers() -> None:
    one, _ = run(plan=PLAN, brief=BRIEF, seed=7, max_workers=1)
    two, _ = run(plan=PLAN, brief=BRIEF, seed=7, max_workers=2)
    keep = ("rooms", "partitions", "doors", "score", "seed")
    assert {k: one[k] for k in keep} == {k: two[k] for k in keep}
    other, _ = run(plan=PLAN, brief=BRIEF, seed=8, candidates=1)
    assert other["seed"] == 8


def test_the_program_replaces_the_brief_rooms_of_its_name() -> None:
    program = [{"name": "office", "count": 2, "min_area_m2": 14, "needs_window": True}]
    result, _ = run(plan=PLAN, brief=BRIEF, program=program)
    offices = [room for room in result["rooms"] if room["type"] == "office"]
    assert len(offices) == 2 and all(room["area_m2"] >= 14 * 0.995 for room in offices)
    assert any("replaces the brief's" in note for note in result["notes"])


def test_rooms_larger_than_the_floor_fail_at_once_with_the_numbers() -> None:
    started = time.monotonic()
    with pytest.raises(LayoutInfeasibleError) as caught:
        run(plan=PLAN, brief="5 offices of at least 40 m2")
    assert caught.value.type == error_types.LAYOUT_INFEASIBLE
    message = str(caught.value)
    assert "need at least 200.0 m2" in message and "short by" in message
    assert time.monotonic() - started < 30  # no search: the budget (60 s) is not spent


def test_checks_that_never_pass_fail_after_the_budget_naming_them() -> None:
    """Two window rooms of 60 m2 each on a floor whose windows are all on one 15 m side:
    areas fit the floor (141 m2) but no arrangement gives both a window and the corridor."""
    started = time.monotonic()
    with pytest.raises(LayoutInfeasibleError) as caught:
        run(plan=PLAN, brief="2 offices of at least 60 m2 with windows", time_budget_s=2)
    elapsed = time.monotonic() - started
    message = str(caught.value)
    assert message.startswith("no valid layout in ")
    assert "area" in message and "below_by_m2" in message
    assert elapsed >= 2


def test_a_brief_without_a_room_names_what_it_could_not_read() -> None:
    with pytest.raises(LayoutProgramError, match="rooftop jacuzzi") as caught:
        run(plan=PLAN, brief="a rooftop jacuzzi")
    assert caught.value.type == error_types.BAD_PARAMETER


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({}, "$.brief"),
        ({"brief": "  "}, "$.brief"),
        ({"brief": BRIEF, "candidates": 0}, "$.candidates"),
        ({"brief": BRIEF, "max_workers": 9}, "$.max_workers"),
        ({"brief": BRIEF, "corridor_width_m": 0.1}, "$.corridor_width_m"),
        ({"brief": BRIEF, "time_budget_s": 1000}, "$.time_budget_s"),
        (
            {"program": [{"name": "office", "min_area_m2": 9, "adjacent_to": ["lab"]}]},
            "$.program[0].adjacent_to[0]",
        ),
    ],
)
def test_parameters_are_refused_when_decoding_naming_the_field(
    fields: dict[str, Any], where: str
) -> None:
    with pytest.raises(msgspec.ValidationError, match=f"at `{re.escape(where)}`"):
        params(plan=PLAN, **fields)


def test_unknown_fields_are_named_as_the_gateway_names_them() -> None:
    """msgspec ignores them; the gateway's walk along the schema names the first one."""
    program = [{"name": "office", "min_area_m2": 9, "colour": "red"}]
    assert unknown_field(LayoutInput, {"plan": PLAN, "program": program}) == "$.program[0].colour"
    assert unknown_field(LayoutInput, {"plan": PLAN, "brief": BRIEF, "seeds": 3}) == "$.seeds"
    # A typo inside the plan too: "unit" would have read millimetres as metres.
    assert unknown_field(LayoutInput, {"plan": PLAN | {"unit": "mm"}, "brief": BRIEF}) == (
        "$.plan.unit"
    )
    # A chain passes ingest's whole result: its pages' other fields are not refused.
    page = {"index": 0, "walls": [], "text_blocks": [], "kind": "plan"}
    assert unknown_field(LayoutInput, {"pages": [page], "document": {}, "brief": BRIEF}) is None


def test_a_plan_without_scale_names_the_layout_parameter_to_pass() -> None:
    plan = {"pages": [{"index": 0, "unit": "pt", "walls": PLAN["walls"], "scale": None}]}
    with pytest.raises(Model3dParameterError, match=r"layout\.metres_per_unit"):
        run(**plan, brief=BRIEF)


def test_window_rooms_on_a_plan_without_windows_fail_at_once() -> None:
    plan = wall_list(RECTANGLE, [(0, "door", 6.5, 7.4)])
    with pytest.raises(LayoutInfeasibleError, match=r"2 rooms \(office\) need a window .*has 0"):
        run(plan=plan, brief="2 offices of 10 m2 along the windows", time_budget_s=100)
    assert run(plan=plan, brief="2 offices of 10 m2")[0]["validation"]["valid"]


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        # Five windows along the south wall: a partition never crosses one.
        ({"brief": "6 offices of 8 m2 along the windows"}, r"6 rooms \(office\) .* has 5 in"),
        ({"brief": "2 offices of 10 m2", "corridor_width_m": 12}, "corridor_width_m 12 m is wider"),
        ({"brief": "2 offices of 10 m2", "min_room_width_m": 11}, "min_room_width_m 11 m is wider"),
    ],
)
def test_what_no_seed_can_mend_fails_at_once(fields: dict[str, Any], says: str) -> None:
    started = time.monotonic()
    with pytest.raises(LayoutInfeasibleError, match=says):
        run(plan=PLAN, time_budget_s=100, **fields)
    assert time.monotonic() - started < 30  # not the 100 s budget


def test_the_same_kind_in_two_requests_is_numbered_across_them() -> None:
    result, _ = run(plan=PLAN, brief="2 offices of 10 m2 and 1 office of 12 m2")
    names = sorted(room["name"] for room in result["rooms"])
    assert names == ["office 1", "office 2", "office 3"]
    program = [{"name": "office", "count": 2, "min_area_m2": 9},
               {"name": "office 1", "min_area_m2": 9}]  # fmt: skip
    result, _ = run(plan=PLAN, program=program)
    assert sorted(room["name"] for room in result["rooms"]) == [
        "office 1", "office 1 (2)", "office 2"
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("program", "where"),
    [
        ([{"name": "Entrance", "min_area_m2": 9}], "$.program[0].name"),
        (
            [{"name": "office", "min_area_m2": 9, "adjacent_to": ["office"]}],
            "$.program[0].adjacent_to[0]",
        ),  # fmt: skip
    ],
)
def test_a_room_named_entrance_or_next_to_itself_alone_is_refused(
    program: list[dict[str, Any]], where: str
) -> None:
    with pytest.raises(msgspec.ValidationError, match=f"at `{re.escape(where)}`"):
        params(plan=PLAN, program=program)


def test_more_rooms_than_a_strip_holds_are_judged_not_crashed() -> None:
    """A strip used up before its last room once made GEOS refuse an empty rectangle."""
    try:
        result, _ = run(plan=PLAN, brief="12 offices of at least 2 m2", time_budget_s=2)
    except LayoutInfeasibleError as exc:
        assert "min_width" in str(exc)
    else:
        assert result["validation"]["valid"]


def test_a_layout_given_as_the_plan_carries_the_walls_under_it() -> None:
    """A plan that is itself a layout over walls: the walls it was made on come back."""
    first, _ = run(plan=PLAN, brief=BRIEF)
    again, _ = run(
        plan={"partitions": first["partitions"], "plan": PLAN}, brief="an office of 9 m2"
    )
    assert len(again["plan"]["walls"]) == len(PLAN["walls"])
    assert len(again["plan"]["openings"]) == len(PLAN["openings"])


def test_a_page_that_is_not_a_plan_is_laid_out_with_a_warning() -> None:
    page = {"index": 0, "kind": "section", "walls": PLAN["walls"], "openings": PLAN["openings"],
            "scale": {"metres_per_unit": 1.0, "source": "note"}}  # fmt: skip
    result, _ = run(pages=[page], brief="2 offices of 10 m2")
    assert "page 0 is a section, not a plan: its lines may not be walls" in result["notes"]
