"""layout's time for a 150 m2 floor with 6 rooms and 2 candidates (issue 16: under 10 s).

    .venv/bin/python -m bench.layout [--runs 5] [--candidates 2]

Each run calls the ``layout`` handler as a consumer does (the JSON body decoded to
``LayoutInput``, then site, search, preview.png and the result; saving the artifact is
not timed) with 2 worker processes and, as the baseline, 1 (the search in the handler's
own process), alternating which goes first so machine noise hits both. Sites: a 15 x 10 m
rectangle and an 18 x 10 m L less a 6 x 5 m corner (150 m2 within the wall centre lines,
0.3 m walls), a door on one side and windows along two; the real vector plan
tests/data/cfast_UL_NIJ_Ranch_layout.pdf, ingested once outside the timing; and the
rectangle with a brief whose first round of seeds fails. "search" is the handler's time
from the site's progress message to the last candidate's, "cand" the candidates' own
seconds (summed), from the result's lines.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import statistics
import time
from pathlib import Path
from typing import Any

import msgspec

from documents.ingest import IngestOptions, Limits, ingest_document
from documents.layout import layout
from documents.layout_input import LayoutInput

GOAL_S = 10.0
RANCH = Path(__file__).parent.parent / "tests" / "data" / "cfast_UL_NIJ_Ranch_layout.pdf"
BRIEF = "4 offices of at least 12 m2 along the windows, a 20 m2 meeting room, a kitchen of 8 m2"
# Seeds 0 and 1 miss a window for one office: the second round (seeds 2, 3) is valid.
HARD = "4 offices of at least 14 m2 along the windows, a 24 m2 meeting room, a kitchen of 10 m2"
# The ranch's floor is 95 m2 inside 24 inner walls: 5 or 6 rooms found no valid seed in 16.
RANCH_BRIEF = "2 offices of at least 9 m2 along the windows, a 12 m2 meeting room, a store of 4 m2"
RECTANGLE = [(0.0, 0.0), (15.0, 0.0), (15.0, 10.0), (0.0, 10.0)]
L_SHAPE = [(0.0, 0.0), (12.0, 0.0), (12.0, 5.0), (18.0, 5.0), (18.0, 10.0), (0.0, 10.0)]
FLOORS = ("rectangle 15 x 10 m", "L 18 x 10 m less 6 x 5")  # the goal's 150 m2 floors
Opening = tuple[int, str, float, float]  # edge index, kind, metres from the edge's start


def wall_list(outline: list[tuple[float, float]], openings: list[Opening]) -> dict[str, Any]:
    """A plan in metres: 0.3 m walls along the outline's edges, openings on them (as
    tests/layout_sites.py draws them; the bench does not import the tests)."""
    ends = list(zip(outline, outline[1:] + outline[:1], strict=True))
    walls = [{"x1": a[0], "y1": a[1], "x2": b[0], "y2": b[1], "thickness": 0.3} for a, b in ends]
    spans = []
    for edge, kind, start, end in openings:
        (ax, ay), (bx, by) = ends[edge]
        length = math.hypot(bx - ax, by - ay)
        ux, uy = (bx - ax) / length, (by - ay) / length
        spans.append({"kind": kind, "wall": edge, "x1": ax + ux * start, "y1": ay + uy * start,
                      "x2": ax + ux * end, "y2": ay + uy * end, "width": end - start})  # fmt: skip
    return {"plan": {"walls": walls, "openings": spans, "units": "m"}}


def windows_along(edge: int, length: float) -> list[Opening]:
    """1.2 m windows centred every 3 m along an edge."""
    centres = [1.5 + 3 * i for i in range(int(length // 3) + 1)]
    return [(edge, "window", c - 0.6, c + 0.6) for c in centres if c + 0.6 < length]


class TimedJob:
    """A JobContext that notes when each progress message came."""

    job_id = "bench-layout"
    attempt = 1

    def __init__(self) -> None:
        self.seen: list[tuple[float, str]] = []

    def progress(self, percent: float, message: str = "") -> None:
        self.seen.append((time.perf_counter(), message))

    def document(self) -> bytes:
        raise AssertionError("layout takes no document")

    def save_artifact(self, name: str, data: bytes, content_type: str) -> str:
        return f"/v1/jobs/{self.job_id}/artifacts/{name}"


def cases() -> dict[str, bytes]:
    """Each site and brief as the JSON body a client would send (without the search)."""
    rectangle = wall_list(RECTANGLE, [(0, "door", 6.5, 7.4), *windows_along(2, 15),
                                      *windows_along(1, 10)])  # fmt: skip
    l_shape = wall_list(L_SHAPE, [(5, "door", 4.0, 4.9), *windows_along(4, 18),
                                  *windows_along(0, 12)])  # fmt: skip
    ranch = ingest_document(RANCH.read_bytes(), IngestOptions(), lambda *_: None, Limits())
    bodies = {
        FLOORS[0]: rectangle | {"brief": BRIEF},
        FLOORS[1]: l_shape | {"brief": BRIEF},
        "ranch plan (ingest)": ranch | {"brief": RANCH_BRIEF},
        "rectangle, round 1 fails": rectangle | {"brief": HARD},
    }
    return {name: msgspec.json.encode(body) for name, body in bodies.items()}


def timed(body: bytes, workers: int, candidates: int) -> dict[str, Any]:
    """One handler call: seconds in all, in the search, in the candidates themselves."""
    job = TimedJob()
    started = time.perf_counter()
    params = msgspec.json.decode(body, type=LayoutInput)
    params = msgspec.structs.replace(params, max_workers=workers, candidates=candidates)
    result = layout(job, params)
    total = time.perf_counter() - started
    site, said = next((t, m) for t, m in job.seen if m.startswith("site "))
    last = max(t for t, m in job.seen if m.startswith("candidate "))
    lines = result["candidates"]
    own = sum(float(re.findall(r"([\d.]+) s", line)[-1]) for line in lines)
    assert result["validation"]["valid"]
    return {"total": total, "search": last - site, "cand": own, "tried": len(lines),
            "rooms": len(result["rooms"]), "m2": float(said.split()[1])}  # fmt: skip


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):6.2f} {min(values):6.2f} {max(values):6.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--candidates", type=int, default=2)
    args = parser.parse_args()
    bodies = cases()
    before = os.getloadavg()[0]
    runs: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for body in bodies.values():  # warm-up: imports and caches of this process
        timed(body, 1, args.candidates)
    for run in range(args.runs):
        for name, body in bodies.items():
            for workers in (1, 2) if run % 2 == 0 else (2, 1):
                runs.setdefault((name, workers), []).append(timed(body, workers, args.candidates))
    print(f"layout: candidates={args.candidates}, {args.runs} runs; seconds for the whole")
    print("handler: median min max; search and cand: medians; ratio = 1 worker / 2 workers")
    print(f"{'site':<26}{'m2':>6}{'rooms':>6}{'tried':>6} | {'1 worker':^20} {'search':>6}"
          f" {'cand':>5} | {'2 workers':^20} {'search':>6} {'cand':>5} | ratio")  # fmt: skip
    medians = {key: statistics.median(r["total"] for r in rows) for key, rows in runs.items()}
    for name in bodies:
        first = runs[(name, 1)][0]
        line = f"{name:<26}{first['m2']:6.1f}{first['rooms']:6d}{first['tried']:6d} |"
        for workers in (1, 2):
            rows = runs[(name, workers)]
            search, cand = (statistics.median(r[k] for r in rows) for k in ("search", "cand"))
            line += f" {spread([r['total'] for r in rows])} {search:6.2f} {cand:5.2f} |"
        print(f"{line} {medians[(name, 1)] / medians[(name, 2)]:5.2f}")
    worst = max(medians[(name, 2)] for name in FLOORS)
    verdict = "met" if worst < GOAL_S else "MISSED"
    print(f"goal: 150 m2, 6 rooms, {args.candidates} candidates, 2 workers under {GOAL_S:g} s:"
          f" {verdict} (slowest median {worst:.2f} s)")  # fmt: skip
    # Another process on the 2 cores shows as a load above the bench's own (<= ~2).
    print(f"load average (1 min): {before:.2f} before, {os.getloadavg()[0]:.2f} after")


if __name__ == "__main__":
    main()
