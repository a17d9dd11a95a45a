"""``layout``: rooms laid out on a plan's floor from a brief and/or a program.

The brief is read into a program (``documents.layout_brief``; what it could not read is
in the result's ``brief.unread``), merged with ``program`` and its sizes settled
(``documents.layout_program``). The site is the floor inside the plan's shell
(``documents.layout_site``). Candidates are generated and judged in rounds, in parallel
(``documents.layout_search``); the best valid one is returned in the contract's shape
(``documents.layout_result``) with the plan it was made for, so bom and model3d read it
over its plan, and ``preview.png``. When none is valid before the time budget, the job
fails with ``LayoutInfeasible`` naming the checks that failed and by how much.
"""

from __future__ import annotations

import functools
from typing import Any

import msgspec

from documents.errors import DocumentError
from documents.layout_brief import parse_brief
from documents.layout_checks import Check, cut_by_walls
from documents.layout_input import LayoutInput
from documents.layout_preview import preview_png
from documents.layout_program import LayoutProgramError, Program, Resolved, merge, resolve
from documents.layout_result import generated_layout
from documents.layout_search import Search, Tried, search, tried
from documents.layout_site import Site, side_lengths, site_from
from documents.model import at_field
from documents.model3d_input import Model3dInput, PlanInput
from documents.model3d_plan import Plan3d, plan_of
from shared import error_types
from shared.functions import JobContext

DETAILS_SHOWN = 3  # failing rooms or partitions named per check in a LayoutInfeasible


class LayoutInfeasibleError(DocumentError):
    """No candidate passed every check: the message lists the checks and their numbers."""

    def __init__(self, message: str) -> None:
        super().__init__(message, type=error_types.LAYOUT_INFEASIBLE)


def layout(job: JobContext, params: LayoutInput) -> dict[str, Any]:
    report = job.progress
    resolved, brief = program_of(params)
    plan = plan_for(params)
    site = site_from(plan)
    report(5, f"site {site.outline.area:.1f} m2; {_rooms(resolved)} rooms to place")
    _fits(site, resolved)
    found = search(
        functools.partial(tried, site, resolved),
        seed=params.seed,
        candidates=params.candidates,
        max_workers=params.max_workers,
        budget_s=params.time_budget_s,
        progress=report,
    )
    if found.best is None:
        raise LayoutInfeasibleError(infeasible(found, params.time_budget_s))
    best = found.best
    result = msgspec.to_builtins(
        generated_layout(site, best.candidate, best.validation, best.score)
    )
    png, (width, height) = preview_png(site, best.candidate)
    url = job.save_artifact("preview.png", png, "image/png")
    job.progress(100, f"seed {best.seed} chosen of {len(found.tried)} candidates")
    return {
        **result,
        "notes": resolved.notes
        + result["notes"]
        + _cut_short(found, params.time_budget_s)
        + _walls_through(site, best),
        "candidates": [t.line() + (" - chosen" if t is best else "") for t in found.tried],
        "brief": brief,
        "program": msgspec.to_builtins(resolved),
        "plan": carried_plan(plan, site),
        "preview": {
            "name": "preview.png",
            "url": url,
            "bytes": len(png),
            "width": width,
            "height": height,
        },
    }


def program_of(params: LayoutInput) -> tuple[Resolved, dict[str, Any] | None]:
    """The program to lay out, sizes settled, and what the brief said (None: no brief)."""
    program: Program | None = None
    brief: dict[str, Any] | None = None
    if params.brief is not None:
        reading = parse_brief(params.brief)
        program = reading.program
        brief = {"unread": reading.unread, "notes": reading.notes}
    merged, notes = merge(program, params.program)
    if not merged.rooms and brief is not None:
        unread = "; ".join(repr(text) for text in brief["unread"]) or "nothing"
        message = f"the brief names no room that could be read (not read: {unread})"
        raise LayoutProgramError(at_field(message, "$.brief"))
    resolved = resolve(
        merged,
        corridor_width_m=params.corridor_width_m,
        min_room_width_m=params.min_room_width_m,
        partition_thickness_mm=params.partition_thickness_mm,
    )
    return msgspec.structs.replace(resolved, notes=notes + resolved.notes), brief


def plan_for(params: LayoutInput) -> Plan3d:
    """The plan as given (in ``plan`` or at the top level), read as model3d reads it."""
    plan = Model3dInput(**{name: getattr(params, name) for name in PlanInput.__struct_fields__})
    return plan_of(plan, "layout")


def carried_plan(plan: Plan3d, site: Site) -> dict[str, Any]:
    """The walls and openings the layout was made on, in the plan's units with its scale:
    bom (``existing_walls``) and model3d read the layout over them."""
    # Walls whose side is not known (a hand-written list) take the site's judgement, so
    # bom boards the shell on one face. The given walls come first in the plan's walls,
    # and the site kept those of some length, in order.
    flags = iter(site.exterior)
    walls = []
    for given, wall in zip(plan.given_walls, plan.walls, strict=False):
        exterior = next(flags, None) if wall.length > 1e-6 else None
        if given.exterior is None:
            given = msgspec.structs.replace(given, exterior=exterior)
        walls.append(given)
    return {
        "walls": msgspec.to_builtins(walls),
        "openings": msgspec.to_builtins(plan.given_openings),
        "scale": {"metres_per_unit": site.metres_per_unit},
    }


def _walls_through(site: Site, best: Tried) -> list[str]:
    return [f"an existing wall cuts {cut['cut_off_m2']:g} m2 off {cut['room']!r} (the rooms"
            " are laid across the floor; new partitions keep off the walls, rooms do not)"
            for cut in cut_by_walls(site, best.candidate)]  # fmt: skip


def _cut_short(found: Search, budget_s: float) -> list[str]:
    if not found.cut_short:
        return []
    return [f"time_budget_s ({budget_s:g} s) ended a round: this is the best valid candidate"
            f" of the {len(found.tried)} that finished"]  # fmt: skip


def _rooms(resolved: Resolved) -> int:
    return sum(room.count for room in resolved.rooms)


def _fits(site: Site, resolved: Resolved) -> None:
    """What no seed can mend fails at once: rooms whose least areas add up to more than
    the floor, more rooms needing a window than there are windows, a corridor or a room
    wider than the floor."""
    need = sum(room.min_area_m2 * room.count for room in resolved.rooms)
    have = site.outline.area
    if need > have:
        raise LayoutInfeasibleError(
            f"the rooms need at least {need:.1f} m2 and the floor inside the walls is"
            f" {have:.1f} m2 (short by {need - have:.1f} m2, before any corridor): ask for"
            " fewer or smaller rooms"
        )
    lit = [room for room in resolved.rooms if room.needs_window]
    wanting = sum(room.count for room in lit)
    if wanting > len(site.windows):
        names = ", ".join(room.name for room in lit)
        rooms = "1 room" if wanting == 1 else f"{wanting} rooms"
        raise LayoutInfeasibleError(
            f"{rooms} ({names}) need a window and the plan has"
            f" {len(site.windows)} in its outer walls (windows: {len(site.windows)}); a new"
            " partition never runs across a window, so each room needs its own"
        )
    narrow = side_lengths(site.outline)[0]
    for field, width in (
        ("corridor_width_m", resolved.corridor_width_m),
        ("min_room_width_m", resolved.min_room_width_m),
    ):
        if width > narrow:
            raise LayoutInfeasibleError(
                f"{field} {width:g} m is wider than the floor ({narrow:.2f} m across at its"
                " narrowest side)"
            )


def infeasible(found: Search, budget_s: float) -> str:
    """What failed, in numbers: how often each check failed and the closest candidate's."""
    tried = found.tried
    if not tried:
        return f"no candidate finished within the time budget ({budget_s:g} s): raise time_budget_s"
    seeds = f"seeds {tried[0].seed}-{tried[-1].seed}" if len(tried) > 1 else f"seed {tried[0].seed}"
    counts: dict[str, int] = {}
    for one in tried:
        for check in one.validation.failed():
            counts[check.name] = counts.get(check.name, 0) + 1
    often = ", ".join(f"{name} in {n}" for name, n in counts.items())
    closest = min(tried, key=_badness)
    failed = "; ".join(_check_text(check) for check in closest.validation.failed())
    return (
        f"no valid layout in {len(tried)} candidates ({seeds}, {found.seconds:.1f} s of"
        f" {budget_s:g} s): checks failed {often}. The closest (seed {closest.seed}) fails"
        f" {failed}"
    )


def _badness(one: Tried) -> float:
    return sum(check.shortfall for check in one.validation.failed())


def _check_text(check: Check) -> str:
    shown = [_detail(d) for d in check.details[:DETAILS_SHOWN]]
    more = len(check.details) - len(shown)
    extra = f", and {more} more" if more > 0 else ""
    return f"{check.name}: {check.summary} ({', '.join(shown)}{extra})"


def _detail(detail: dict[str, Any]) -> str:
    """``office 2: window_m 0.0, need_m 0.5``; ``partition 3: ...``."""
    if "room" in detail:
        subject = str(detail["room"])
    elif "partition" in detail:
        subject = f"partition {detail['partition']}"
    else:
        subject = "corridor"
    rest = ", ".join(f"{k} {v}" for k, v in detail.items() if k not in ("room", "partition"))
    return f"{subject}: {rest}"
