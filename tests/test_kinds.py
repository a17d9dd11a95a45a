"""Page kinds (``documents.kinds``) on synthetic pages and the real samples, and bom's page
selection by kind. Pure: no Redis, no processes. Truth: bench/truth/page_kinds.json."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import pytest

from documents.bom import BomInput, BomInputError, Page, bill_of_materials
from documents.kinds import APEX_FRAC, KINDS, ROOF_FRAC, page_kind, roof_pairs
from documents.model import Wall
from documents.pdf import opened_pdf
from tests.kind_pages import FIXTURES, fixture_pdf
from tests.test_ingest_vector import ingest, sample

TRUTH = Path(__file__).parent.parent / "bench" / "truth" / "page_kinds.json"
SCALE_1_100 = 0.0254 / 72 * 100


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_synthetic_pages_get_their_kind(name: str) -> None:
    _, kind, _ = FIXTURES[name]
    page = ingest(fixture_pdf(name))["pages"][0]
    assert page["kind"] == kind, page["kind_reason"]
    assert page["kind_reason"]


def test_truth_names_every_sample_page() -> None:
    truth = json.loads(TRUTH.read_text())["pages"]
    assert {entry["kind"] for entry in truth} <= set(KINDS)
    assert {entry["split"] for entry in truth} == {"tune", "held_out"}
    pages = {(entry["file"], entry["index"]) for entry in truth}
    for path in sorted(TRUTH.parent.parent.parent.glob("tests/data/*.pdf")):
        if path.name != "r6-user-password.pdf":  # encrypted: ingest refuses it
            with opened_pdf(path.read_bytes(), max_pages=1000) as document:
                count = document.page_count
            assert {(path.name, k) for k in range(count)} <= pages


def test_tuned_real_pages() -> None:
    """The pages the rules were set on, each with the feature that decides it."""
    plan = ingest(sample("cfast_UL_NIJ_Ranch_layout.pdf"))["pages"][0]
    assert plan["kind"] == "plan"  # its legend table below the plan does not make it one
    assert "walls" in plan["kind_reason"]
    house, section = ingest(sample("boptest_Detached_house_plan_and_section.pdf"))["pages"]
    assert (house["kind"], section["kind"]) == ("plan", "section")
    assert "roof" in section["kind_reason"]
    book = ingest(sample("Seige_of_Vicksburg_Sample_OCR.pdf"))["pages"]
    assert [page["kind"] for page in book] == ["text"] * 6
    assert all("text covers" in page["kind_reason"] for page in book)


def test_titles_are_multilingual_and_beat_geometry() -> None:
    def kind(title: str) -> str:
        text = [{"text": title, "bbox": [10, 10, 200, 30]}, {"text": "x", "bbox": [0, 0, 5, 9]}]
        return page_kind(1190, 842, text, [])["kind"]

    assert kind("REZ-DE-CHAUSSÉE") == "plan"
    assert kind("Coupe A-A") == "section"
    assert kind("SCHNITT B-B") == "section"
    assert kind("Façade sud") == "elevation"
    assert kind("ANSICHT NORD") == "elevation"
    assert kind("NOMENCLATURE DES PORTES") == "schedule"
    assert kind("PLAN DE MASSE") == "plan"
    # A sentence is no title; a word inside another is no title word.
    assert kind("the plan shows a section of the new house walls") == "text"
    assert kind("PLANNING") == "text"


def test_kind_step_is_cheap_on_a_busy_page() -> None:
    """It reads only the walls and text ingest found: 10,000 walls and 3,000 blocks."""
    rng = random.Random(7)
    spots = [(rng.uniform(0, 1100), rng.uniform(0, 800)) for _ in range(13_000)]
    walls = [Wall(x, y, x + rng.uniform(5, 80), y, 2.0) for x, y in spots[:10_000]]
    text = [{"text": "12.50", "bbox": [x, y, x + 20, y + 8]} for x, y in spots[10_000:]]
    start = time.perf_counter()
    page_kind(1191, 842, text, walls)
    assert time.perf_counter() - start < 0.25


def _slanted_families(count: int) -> list[Wall]:
    """``count`` long slanted walls: half rising at 30 degrees on the left, half falling at
    150 degrees on the right (mirrored angles, as a roof's), no end of one near the other."""
    half = count // 2
    left = [Wall(0, 1000 + k, 866, 500 + k, 1.0) for k in range(half)]
    right = [Wall(3000, 500 + k, 3866, 1000 + k, 1.0) for k in range(half)]
    return left + right


def _rows(walls: list[Wall]) -> tuple[np.ndarray, float]:
    rows = np.array([(w.x1, w.y1, w.x2, w.y2, w.thickness) for w in walls], dtype=float)
    extent = max(float(np.ptp(rows[:, [0, 2]])), float(np.ptp(rows[:, [1, 3]])))
    return rows, extent


def test_roof_test_compares_only_walls_that_could_meet_at_a_ridge() -> None:
    """4,000 long slanted walls of mirrored angles whose ends are far apart: no pair is
    compared (a pass over all pairs compares 8 million); with one ridge among them the
    roof is found after a few comparisons, and the page is a section."""
    walls = _slanted_families(4000)
    found, compared = roof_pairs(*_rows(walls))
    assert (found, compared) == (False, 0)
    ridge = [Wall(1000, 2400, 1933, 1861, 1.0), Wall(1933, 1861, 2866, 2400, 1.0)]
    found, compared = roof_pairs(*_rows(walls + ridge))
    assert found and compared <= 4
    assert page_kind(4000, 2600, [], walls + ridge)["kind"] == "section"


def _roof_by_all_pairs(rows: np.ndarray, extent: float) -> bool:
    """The roof test as a pass over every pair of long slanted walls (the reference)."""
    angle = np.degrees(np.arctan2(rows[:, 3] - rows[:, 1], rows[:, 2] - rows[:, 0])) % 180
    long = np.hypot(rows[:, 2] - rows[:, 0], rows[:, 3] - rows[:, 1]) >= ROOF_FRAC * extent
    ks = np.flatnonzero(long & (np.abs((angle + 90) % 90 - 45) < 40))
    for n, i in enumerate(ks):
        for j in ks[n + 1 :]:
            mirrored = abs((angle[i] + angle[j] + 90) % 180 - 90) < 3
            ends = rows[i, :4].reshape(2, 1, 2) - rows[j, :4].reshape(1, 2, 2)
            near = np.hypot(ends[..., 0], ends[..., 1]).min() <= APEX_FRAC * extent
            if mirrored and abs(angle[i] - angle[j]) > 10 and near:
                return True
    return False


def test_roof_test_agrees_with_a_pass_over_all_pairs() -> None:
    """On 400 random sets of walls at roof-like angles (near mirrored, near meeting), the
    indexed test finds a roof exactly when some pair of walls makes one."""
    rng = np.random.default_rng(3)
    roofs = 0
    for _ in range(400):
        n = int(rng.integers(2, 40))
        start = rng.uniform(0, 100, (n, 2))
        angle = np.radians(rng.choice([30, 150, 149, 31, 45, 135, 60, 120, 0, 90], n))
        angle += np.radians(rng.normal(0, 1.5, n))
        length = rng.uniform(10, 80, n)
        end = start + np.stack([length * np.cos(angle), length * np.sin(angle)], 1)
        rows = np.concatenate([start, end, np.ones((n, 1))], 1)
        extent = max(float(np.ptp(rows[:, [0, 2]])), float(np.ptp(rows[:, [1, 3]])))
        expected = _roof_by_all_pairs(rows, extent)
        assert roof_pairs(rows, extent)[0] == expected
        roofs += expected
    assert 50 <= roofs <= 350  # both answers are tried often


# bom's page selection


def _bom(pages: list[dict[str, Any]], **extra: Any) -> Any:
    body = msgspec.json.encode({"pages": pages, "metres_per_unit": SCALE_1_100} | extra)
    return bill_of_materials(msgspec.json.decode(body, type=BomInput))


def test_bom_counts_plan_pages_only_and_says_which() -> None:
    pages = ingest(sample("boptest_Detached_house_plan_and_section.pdf"))["pages"]
    section = len(pages[1]["walls"])  # its slabs and walls cut through
    assert section > 0
    result = _bom(pages)
    assert result.totals.walls == len(pages[0]["walls"])  # not the section's walls
    assert [(p.index, p.kind) for p in result.pages_used] == [(0, "plan")]
    (skipped,) = result.pages_skipped
    assert (skipped.index, skipped.kind, skipped.walls) == (1, "section", section)
    assert skipped.reason is not None and "section" in skipped.reason
    both = _bom(pages, use_pages=[0, 1])  # told which pages: any kind
    assert both.totals.walls == len(pages[0]["walls"]) + section
    assert both.pages_skipped == []
    only_section = _bom(pages, use_pages=[1])
    assert only_section.totals.walls == section
    assert only_section.pages_skipped[0].reason == "not in use_pages"


def test_bom_skips_schedule_and_text_pages_and_fails_clearly_without_a_plan() -> None:
    schedule = ingest(fixture_pdf("schedule_plain"))["pages"][0]
    # Its rules look like walls; on a schedule page they are not kept, and it says so.
    assert schedule["kind"] == "schedule" and schedule["walls"] == []
    assert schedule["openings"] == [] and schedule["rooms"] == []
    assert any("not walls" in warning for warning in schedule["warnings"])
    ruled = schedule | {"walls": [{"x1": 0, "y1": 0, "x2": 100, "y2": 0, "thickness": 5}]}
    with pytest.raises(BomInputError, match=r"kind schedule .*use_pages.*\[0\]"):
        BomInput(pages=msgspec.convert([ruled], list[Page]), metres_per_unit=SCALE_1_100)
    with pytest.raises(msgspec.ValidationError, match="no page used has walls"):
        _bom([ruled])
    plan = ingest(fixture_pdf("plan_rooms"))["pages"][0] | {"index": 1}
    text = ingest(fixture_pdf("text_page"))["pages"][0] | {"index": 2}
    result = _bom([schedule, plan, text])
    assert result.totals.walls == len(plan["walls"])
    assert [p.kind for p in result.pages_skipped] == ["schedule", "text"]


def test_bom_page_without_kind_is_a_plan_and_use_pages_is_checked() -> None:
    wall = {"x1": 0, "y1": 0, "x2": 100, "y2": 0, "thickness": 5}
    hand = [{"index": 4, "walls": [wall]}]
    assert _bom(hand).pages_used[0].index == 4
    with pytest.raises(msgspec.ValidationError, match=r"use_pages names page\(s\) 5 .*4"):
        _bom(hand, use_pages=[5])
    with pytest.raises(msgspec.ValidationError, match="use_pages picks from 'pages'"):
        msgspec.convert({"walls": [wall], "use_pages": [0]}, BomInput)
    # A hand-made wall list gives no page lists in the result.
    assert bill_of_materials(BomInput(walls=[Wall(0, 0, 3, 0, 0.1)])).pages_used is None


def test_one_closed_room_is_a_plan_and_few_loose_walls_are_not() -> None:
    box = [Wall(100, 100, 400, 100, 6), Wall(100, 300, 400, 300, 6)]
    box += [Wall(100, 100, 100, 300, 6), Wall(400, 100, 400, 300, 6)]
    assert page_kind(595, 842, [], box)["kind"] == "plan"
    loose = [Wall(100, 100, 300, 100, 6), Wall(100, 400, 300, 400, 6), Wall(500, 50, 500, 90, 6)]
    found = page_kind(595, 842, [], loose)
    assert found == {"kind": "other", "kind_reason": found["kind_reason"]}
    assert page_kind(595, 842, [], []) == {"kind": "other", "kind_reason": "no text and no walls"}
