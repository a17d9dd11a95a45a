"""layout on the three vector sample plans: each brief of tests/data/layout_briefs.json
against the outcome its truth expects, tuning and held-out briefs scored apart.

    .venv/bin/python -m bench.layout_samples [--plan east] [--budget 20]

Each plan is ingested once (``documents.ingest.ingest_document``, as the ingest job does);
each brief is laid out by ``documents.layout.layout`` called directly, with the ingest
result as its input (as ``ingest?then=layout`` passes it), candidates 2, max_workers 2 and
a time budget of 20 s: no Redis. A row says what was expected, what came (valid,
LayoutInfeasible or another error), the seconds, the rooms placed (and how many the
brief asks for, as parsed), and what failed. Briefs expected "either" are run but not
scored; when one fails it must still be a LayoutInfeasible whose message gives numbers.
The truth file says how each expectation was derived.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from documents.errors import DocumentError
from documents.ingest import IngestOptions, Limits, ingest_document
from documents.layout import layout
from documents.layout_brief import parse_brief
from documents.layout_input import LayoutInput
from documents.layout_program import room_key
from shared import error_types

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
TRUTH = DATA / "layout_briefs.json"
VALID, INFEASIBLE, EITHER = "valid", "LayoutInfeasible", "either"
AREA_SLACK = 0.005  # areas are cut to a millimetre grid: as documents.layout_checks allows


@dataclass
class RecordingJob:
    """A JobContext that keeps what the handler saves (the preview) and drops progress."""

    artifacts: dict[str, bytes] = field(default_factory=dict)
    job_id: str = "layout-bench"
    attempt: int = 1

    def progress(self, percent: float, message: str = "") -> None:
        del percent, message

    def document(self) -> bytes:
        raise AssertionError("layout takes no document")

    def save_artifact(self, name: str, data: bytes, content_type: str) -> str:
        del content_type
        self.artifacts[name] = data
        return f"/v1/jobs/{self.job_id}/artifacts/{name}"


@dataclass(frozen=True)
class Outcome:
    """What one brief gave: ``kind`` is valid, LayoutInfeasible or the error's type."""

    plan: str
    brief_id: str
    set: str
    expected: str
    kind: str
    seconds: float
    placed: int
    asked: int
    unread: list[str]
    failed: str
    message: str

    @property
    def as_expected(self) -> bool:
        return self.kind == self.expected

    @property
    def clear(self) -> bool:
        """A failure is clear when it is a LayoutInfeasible with numbers in its message."""
        return self.kind != INFEASIBLE or bool(re.search(r"\d", self.message))


def truth() -> dict[str, Any]:
    """The truth file: per plan its file, page, measurements and briefs."""
    loaded: dict[str, Any] = json.loads(TRUTH.read_text())
    return loaded


def ingest(plan: dict[str, Any]) -> dict[str, Any]:
    """The ingest result of a sample plan, as the ingest job returns it."""
    pdf = (DATA / plan["file"]).read_bytes()
    return ingest_document(pdf, IngestOptions(), lambda *_: None, Limits())


def layout_input(ingested: dict[str, Any], brief: str, page: int, **search: Any) -> LayoutInput:
    """The layout job's input as a chain makes it (the ingest result at the top level),
    decoded as the consumer decodes it, so the schema's checks apply."""
    fields = {**ingested, "brief": brief, "page": page, **search}
    return msgspec.json.decode(msgspec.json.encode(fields), type=LayoutInput)


def rooms_outside_bounds(result: dict[str, Any]) -> list[str]:
    """Rooms of a layout result whose area is not within their program room's bounds."""
    wanted = {room_key(room["name"]): room for room in result["program"]["rooms"]}
    wrong = []
    for room in result["rooms"]:
        bounds = wanted[room_key(room["type"])]
        low, high = bounds["min_area_m2"], bounds["max_area_m2"]
        area = room["area_m2"]
        if area < low * (1 - AREA_SLACK) or (high is not None and area > high * (1 + AREA_SLACK)):
            wrong.append(f"{room['name']} {area} m2 not in {low}..{high}")
    return wrong


def failed_checks(message: str) -> str:
    """The checks a LayoutInfeasible message names, in short."""
    if message.startswith("the rooms need at least"):
        return "floor area (before search)"
    if "need a window and the plan has" in message:
        return "windows: too few on the plan (before search)"
    found = re.search(r"checks failed (.*?)\. The closest", message)
    return found.group(1) if found else message[:60]


def run_brief(
    plan_key: str, plan: dict[str, Any], ingested: dict[str, Any], brief: dict[str, Any],
    budget_s: float,
) -> Outcome:  # fmt: skip
    """Lay out one brief on its plan and say what came of it."""
    reading = parse_brief(brief["brief"])
    asked = sum(room.count for room in reading.program.rooms)
    params = layout_input(
        ingested, brief["brief"], plan["page"], candidates=2, max_workers=2, time_budget_s=budget_s
    )
    started = time.perf_counter()
    placed, failed, message = 0, "", ""
    try:
        result = layout(RecordingJob(), params)
    except DocumentError as exc:
        kind = INFEASIBLE if exc.type == error_types.LAYOUT_INFEASIBLE else exc.type
        message = str(exc)
        failed = failed_checks(message) if kind == INFEASIBLE else message[:80]
    else:
        kind = VALID if result["validation"]["valid"] else "invalid result"
        placed = len(result["rooms"])
        outside = rooms_outside_bounds(result)
        if outside:
            kind, failed = "rooms out of bounds", "; ".join(outside)
    seconds = time.perf_counter() - started
    return Outcome(
        plan_key, brief["id"], brief["set"], brief["expected"], kind, seconds, placed, asked,
        reading.unread, failed, message,
    )  # fmt: skip


def score_line(outcomes: list[Outcome], which: str) -> str:
    scored = [o for o in outcomes if o.set == which and o.expected != EITHER]
    good = sum(o.as_expected for o in scored)
    either = [o for o in outcomes if o.set == which and o.expected == EITHER]
    unclear = sum(not o.clear for o in either)
    return (
        f"{which}: {good}/{len(scored)} as expected"
        f" ({len(either)} 'either' run, not scored; {unclear} of them failed unclearly)"
    )


def table(outcomes: list[Outcome]) -> str:
    head = f"{'plan':8} {'brief':11} {'set':8} {'expected':16} {'outcome':16} {'s':>5} "
    head += f"{'rooms':>5}  ok  failed checks"
    lines = [head, "-" * len(head)]
    for o in outcomes:
        ok = "-" if o.expected == EITHER else ("yes" if o.as_expected else "NO")
        rooms = f"{o.placed}/{o.asked}"
        lines.append(
            f"{o.plan:8} {o.brief_id:11} {o.set:8} {o.expected:16} {o.kind:16}"
            f" {o.seconds:5.1f} {rooms:>5} {ok:>3}  {o.failed}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--plan", action="append", help="only these plans (east, ranch, ...)")
    parser.add_argument("--budget", type=float, default=20.0, help="time_budget_s per brief")
    args = parser.parse_args()
    plans = truth()["plans"]
    outcomes: list[Outcome] = []
    for key, plan in plans.items():
        if args.plan and key not in args.plan:
            continue
        ingested = ingest(plan)
        for brief in plan["briefs"]:
            outcomes.append(run_brief(key, plan, ingested, brief, args.budget))
    print(table(outcomes))
    print()
    print(score_line(outcomes, "tuning"))
    print(score_line(outcomes, "held-out"))
    print()
    for o in outcomes:
        if o.message or o.unread or o.placed not in (0, o.asked):
            print(f"{o.brief_id}: unread {o.unread}; {o.message}")


if __name__ == "__main__":
    main()
