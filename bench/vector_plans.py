# mypy: disallow-untyped-calls=False
"""Varied synthetic vector floor plans with exact truth, one page per seed.

    plan = vector_plan(seed)  # plan.pdf, and the truth in points as displayed

A seed (``random.Random(seed)``) picks a building (a rectangle, an L or a notched
rectangle, 10-26 x 8-16 m) split into rooms with doors, plain openings and windows
(``bench.vector_plan_layout``), a paper (A3-A1), a scale (1:50, 1:100, 1:200), a wall style
(filled poche, face-line pairs, thick strokes) and the distractors around it
(``bench.vector_plan_drawing``); a quarter of the pages carry /Rotate 90. The truth is in
the page's displayed frame (rotation applied), in points: walls split at the openings as
drawn (centre lines, thickness, ``exterior`` set), openings (kind, jamb-to-jamb span on the
centre line, width; ``wall`` is the piece before the gap, ``beside`` both pieces), rooms
(name as drawn, number, outline at the wall faces with openings closed, area in points
squared) and the footprint's outline. Seeds 0-99 are for trying rules out; the bench
reports 100-129 as held out.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import pymupdf

from bench.vector_plan_drawing import (
    draw_dimensions,
    draw_openings,
    draw_rooms,
    draw_sheet,
    draw_walls,
    sheet,
)
from bench.vector_plan_layout import layout, pieces
from documents.model import Opening, Room, Wall


@dataclass(frozen=True)
class VectorPlan:
    """One synthetic page and its truth (points, as displayed)."""

    seed: int
    pdf: bytes
    style: str  # "filled", "pairs" or "thick"
    paper: str
    scale: int  # the drawing's scale is 1:scale
    rotate: int
    metres_per_pt: float
    walls: list[Wall]
    openings: list[Opening]
    beside: list[tuple[int, int]]  # per opening, the two wall pieces on either side
    rooms: list[Room]
    footprint: list[tuple[float, float]]


def vector_plan(seed: int) -> VectorPlan:
    """The plan drawn from ``seed`` (see the module docstring)."""
    rng = random.Random(seed)
    plan = layout(rng)
    where = sheet(plan, rng)
    doc = pymupdf.open()
    page = doc.new_page(width=where.width, height=where.height)
    draw_walls(page, where, plan, rng)
    draw_openings(page, where, plan, rng)
    draw_rooms(page, where, plan, rng)
    draw_dimensions(page, where, plan, rng)
    draw_sheet(page, where, plan, seed)
    rotate = 90 if rng.random() < 0.25 else 0
    page.set_rotation(rotate)
    m = page.rotation_matrix

    def shown(x: float, y: float) -> tuple[float, float]:
        p = where.pt(x, y) * m
        return (float(p.x), float(p.y))

    ppm = where.pt_per_m
    cut, beside = pieces(plan)
    walls = [Wall(*shown(w.x1, w.y1), *shown(w.x2, w.y2), w.t * ppm, w.exterior) for w in cut]
    openings = []
    for o, (before, _) in zip(plan.openings, beside, strict=True):
        w = plan.walls[o.wall]
        a = shown(o.a, w.y1) if w.horizontal else shown(w.x1, o.a)
        b = shown(o.b, w.y1) if w.horizontal else shown(w.x1, o.b)
        openings.append(Opening(o.kind, before, *a, *b, (o.b - o.a) * ppm))  # type: ignore[arg-type]
    rooms = [
        Room(k, r.name, r.number, [shown(x, y) for x, y in list(r.polygon.exterior.coords)[:-1]],
             r.polygon.area * ppm**2)
        for k, r in enumerate(plan.rooms)
    ]  # fmt: skip
    outline = [shown(x, y) for x, y in list(plan.footprint.exterior.coords)[:-1]]
    return VectorPlan(seed, bytes(doc.tobytes()), where.style, where.paper, where.scale,
                      rotate, 1 / ppm, walls, openings, beside, rooms, outline)  # fmt: skip
