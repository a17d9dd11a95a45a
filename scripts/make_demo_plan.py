"""Draw the demo's floor plan: a one-bedroom flat, 12 x 8 m, at 1:100 on an A4 landscape page.

Drawn as a CAD export would be: walls as grey filled outlines (exterior 300 mm, partitions
120 mm), door openings with leaf and swing, room labels, an overall dimension chain with
ticks, a sheet frame and a title block with "SCALE 1:100", which ``ingest`` reads.

    python scripts/make_demo_plan.py plan.pdf    # then: curl ... --data-binary @plan.pdf

Drawn by this script, so under the repository's licence (AGPL-3.0-or-later).
"""

# PyMuPDF's own annotations leave many calls untyped (pyproject.toml relaxes the same check
# for the modules of the project that call it).
# mypy: disallow-untyped-calls=False

from __future__ import annotations

import sys
from pathlib import Path

import pymupdf

PAGE_W, PAGE_H = 841.89, 595.28  # A4 landscape, points
RATIO = 100  # 1:100
PT_PER_M = 72 / 0.0254 / RATIO  # one metre of building is 28.35 pt on paper
ORIGIN = (8.5, 5.0)  # the flat's outer top-left corner on the page, in metres at scale
EXT, PART = 0.30, 0.12  # wall thicknesses, metres
W, H = 12.0, 8.0  # outside dimensions, metres
BLACK, GREY = (0.0, 0.0, 0.0), (0.7, 0.7, 0.7)

# Centre lines (x1, y1, x2, y2) and thickness in metres, y down from the outer top-left
# corner. Walls stop at the face of the wall they meet, as a CAD model's do; a gap in a
# line of walls is a door opening.
WALLS: list[tuple[float, float, float, float, float]] = [
    (0, EXT / 2, W, EXT / 2, EXT),  # exterior: top and bottom run through the corners
    (0, H - EXT / 2, 6.0, H - EXT / 2, EXT),  # bottom, left of the entrance door (6.0-7.0)
    (7.0, H - EXT / 2, W, H - EXT / 2, EXT),
    (EXT / 2, EXT, EXT / 2, H - EXT, EXT),  # left and right
    (W - EXT / 2, EXT, W - EXT / 2, H - EXT, EXT),
    (5.0, EXT, 5.0, 5.5, PART),  # living | bedroom and hall, door 5.5-6.4 to the hall
    (5.0, 6.4, 5.0, H - EXT, PART),
    (5.0 + PART / 2, 4.5, 6.0, 4.5, PART),  # bedroom | hall and bath, door 6.0-6.9
    (6.9, 4.5, W - EXT, 4.5, PART),
    (8.5, 4.5 + PART / 2, 8.5, 5.2, PART),  # hall | bath, door 5.2-6.0
    (8.5, 6.0, 8.5, H - EXT, PART),
]
# Doors: hinge, leaf end (the leaf drawn open, 90 degrees to the wall) and the swing's turn.
DOORS: list[tuple[tuple[float, float], tuple[float, float], int]] = [
    ((7.0, H - EXT), (7.0, H - EXT - 1.0), 90),  # entrance, opening into the hall
    ((5.0 - PART / 2, 6.4), (4.1, 6.4), -90),  # living
    ((6.9, 4.5 - PART / 2), (6.9, 3.6), 90),  # bedroom
    ((8.5 + PART / 2, 5.2), (9.3, 5.2), -90),  # bath
]
ROOMS = [
    (1.2, 3.8, "LIVING / KITCHEN", "34.3 m²"),
    (7.6, 2.4, "BEDROOM", "27.5 m²"),
    (5.4, 5.5, "HALL", "10.6 m²"),
    (9.8, 6.8, "BATH", "9.9 m²"),
]


def pt(x: float, y: float) -> pymupdf.Point:
    """Plan metres -> page points."""
    return pymupdf.Point((ORIGIN[0] + x) * PT_PER_M, (ORIGIN[1] + y) * PT_PER_M)


def _wall(page: pymupdf.Page, x1: float, y1: float, x2: float, y2: float, t: float) -> None:
    h = t / 2
    if y1 == y2:  # horizontal
        box = pymupdf.Rect(pt(x1, y1 - h), pt(x2, y1 + h))
    else:
        box = pymupdf.Rect(pt(x1 - h, y1), pt(x1 + h, y2))
    page.draw_rect(box, color=BLACK, fill=GREY, width=0.5)


def _tick(page: pymupdf.Page, x: float, y: float) -> None:
    page.draw_line(pt(x - 0.12, y + 0.12), pt(x + 0.12, y - 0.12), width=0.6)


def _text(page: pymupdf.Page, x: float, y: float, text: str, size: float = 8) -> None:
    page.insert_text(pt(x, y), text, fontsize=size)


def draw_plan() -> bytes:
    """The demo plan as PDF bytes (deterministic: no dates, same bytes every run)."""
    doc = pymupdf.open()
    page = doc.new_page(width=PAGE_W, height=PAGE_H)
    for wall in WALLS:
        _wall(page, *wall)
    for hinge, leaf_end, turn in DOORS:
        page.draw_line(pt(*hinge), pt(*leaf_end), width=0.4)
        page.draw_sector(pt(*hinge), pt(*leaf_end), turn, width=0.3, fullSector=False)
    for x, y, name, area in ROOMS:
        _text(page, x, y, name, size=9)
        _text(page, x, y + 0.45, area, size=7)
    # Overall dimensions above and left of the flat: lines with ticks, extension lines and
    # numbers, as on any plan (ingest drops them: ticks make a line a dimension).
    page.draw_line(pt(0, -1.0), pt(W, -1.0), width=0.3)
    page.draw_line(pt(-1.0, 0), pt(-1.0, H), width=0.3)
    for x in (0, 5.0, W):
        page.draw_line(pt(x, -0.2), pt(x, -1.3), width=0.3)
        _tick(page, x, -1.0)
    for y in (0, H):
        page.draw_line(pt(-0.2, y), pt(-1.3, y), width=0.3)
        _tick(page, -1.0, y)
    _text(page, 2.1, -1.15, "5.00")
    _text(page, 8.1, -1.15, "7.00")
    page.insert_text(pt(-1.15, 4.4), "8.00", fontsize=8, rotate=90)
    # Sheet frame and title block.
    page.draw_rect(pymupdf.Rect(14, 14, PAGE_W - 14, PAGE_H - 14), width=1.0)
    block = pymupdf.Rect(PAGE_W - 250, PAGE_H - 90, PAGE_W - 14, PAGE_H - 14)
    page.draw_rect(block, width=0.6)
    lines = [
        ("DEMO FLAT - FLOOR PLAN", 11),
        ("SCALE 1:100 (A4)", 9),
        ("sluice demo, drawn by scripts/make_demo_plan.py", 6),
    ]
    for k, (line, size) in enumerate(lines):
        page.insert_text((block.x0 + 8, block.y0 + 20 + 20 * k), line, fontsize=size)
    doc.set_metadata({"title": "sluice demo floor plan", "creator": "scripts/make_demo_plan.py"})
    return bytes(doc.tobytes(garbage=3, deflate=True))


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "demo-plan.pdf")
    out.write_bytes(draw_plan())
    print(f"wrote {out} ({out.stat().st_size} bytes)")
