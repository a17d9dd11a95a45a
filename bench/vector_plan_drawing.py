# mypy: disallow-untyped-calls=False
"""Drawing a synthetic plan layout (bench.vector_plan_layout) on a PDF page with PyMuPDF.

Walls in one of three styles: filled poche (each piece a filled rectangle, or the whole
wall body as one even-odd polygon; grey or black, hatched sometimes), face-line pairs (the
body's outline stroked: faces break at junctions, jambs get end caps; exterior walls
hatched sometimes) or thick strokes. Windows: 2-3 glazing lines across the gap and a sill
line outside; doors: a leaf and a quarter-circle swing (a Bézier curve); plain openings
are bare gaps. Room labels (with a number sometimes), and what is not a wall: dimension
chains with ticks or arrowheads, extension lines and numbers outside the building, stair
treads, furniture (rectangles, circles), a ruled room schedule beside the plan, a title
block, a sheet frame, a plan title and a "SCALE 1:N" note.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import pymupdf
import shapely
from shapely.geometry import Polygon

from bench.vector_plan_layout import Layout, OpeningM, WallM, pieces

PAPERS = {"A3": (1190.55, 841.89), "A2": (1683.78, 1190.55), "A1": (2383.94, 1683.78)}
SCALES = (50, 100, 100, 200)  # 1:100 twice as likely
MARGIN_PT = (110.0, 110.0, 290.0, 150.0)  # left, top, right (schedule), bottom (titles)
FRAME_PT = 14.0
KAPPA = 0.5523  # Bézier handle length of a quarter circle, per radius
BLACK = (0.0, 0.0, 0.0)


@dataclass
class Sheet:
    """Where the plan sits: paper, scale 1:N, points per metre, the plan's origin."""

    paper: str
    width: float
    height: float
    scale: int
    pt_per_m: float
    origin: tuple[float, float]
    style: str

    def pt(self, x: float, y: float) -> pymupdf.Point:
        return pymupdf.Point(self.origin[0] + x * self.pt_per_m, self.origin[1] + y * self.pt_per_m)


def sheet(plan: Layout, rng: random.Random) -> Sheet:
    """A paper and scale the plan fits on with its dimensions, schedule and title block."""
    fits = []
    for paper, (w, h) in PAPERS.items():
        for n in SCALES:
            ppm = 72 / 0.0254 / n
            if plan.width * ppm + MARGIN_PT[0] + MARGIN_PT[2] <= w and (
                plan.height * ppm + MARGIN_PT[1] + MARGIN_PT[3] <= h
            ):
                fits.append((paper, n))
    paper, n = rng.choice(fits)
    w, h = PAPERS[paper]
    ppm = 72 / 0.0254 / n
    room_x = w - MARGIN_PT[0] - MARGIN_PT[2] - plan.width * ppm
    room_y = h - MARGIN_PT[1] - MARGIN_PT[3] - plan.height * ppm
    origin = (MARGIN_PT[0] + rng.uniform(0, room_x), MARGIN_PT[1] + rng.uniform(0, room_y))
    style = rng.choice(("filled", "pairs", "thick"))
    return Sheet(paper, w, h, n, ppm, origin, style)


def _ring(s: Sheet, coords: object) -> list[pymupdf.Point]:
    return [s.pt(x, y) for x, y in list(coords)]  # type: ignore[call-overload]


def _hatch(page: pymupdf.Page, s: Sheet, body: Polygon) -> None:
    """45-degree strokes across a wall's rectangle, 4 pt apart on paper (one path)."""
    x0, y0, x1, y1 = body.bounds
    step = 4.0 / s.pt_per_m
    shape = page.new_shape()
    c = x0 + y0 + step
    while c < x1 + y1:
        a, b = max(x0, c - y1), min(x1, c - y0)
        if b > a:
            shape.draw_line(s.pt(a, c - a), s.pt(b, c - b))
        c += step
    shape.finish(color=BLACK, width=0.25)
    shape.commit()


def draw_walls(page: pymupdf.Page, s: Sheet, plan: Layout, rng: random.Random) -> None:
    walls, _ = pieces(plan)
    bodies = [w.body() for w in walls]
    if s.style == "thick":
        for w in walls:
            page.draw_line(s.pt(w.x1, w.y1), s.pt(w.x2, w.y2), width=w.t * s.pt_per_m, lineCap=0)
        return
    union = shapely.union_all(bodies)
    polygons = [p for p in getattr(union, "geoms", [union]) if isinstance(p, Polygon)]
    hatch = rng.random() < 0.4
    if s.style == "filled":
        grey = rng.choice((0.0, 0.5, 0.6, 0.75))
        if rng.random() < 0.5:  # every piece its own rectangle
            for body in bodies:
                points = _ring(s, body.exterior.coords)
                page.draw_polyline(points, color=BLACK, fill=(grey,) * 3, width=0.4)
        else:  # the whole body as one polygon with holes
            shape = page.new_shape()
            for p in polygons:
                for ring in [p.exterior, *p.interiors]:
                    shape.draw_polyline(_ring(s, ring.coords))
            shape.finish(color=BLACK, fill=(grey,) * 3, width=0.4, even_odd=True, closePath=True)
            shape.commit()
        if hatch and grey > 0:
            for body in bodies:
                _hatch(page, s, body)
        return
    width = rng.uniform(0.35, 0.7)
    for p in polygons:
        for ring in [p.exterior, *p.interiors]:
            page.draw_polyline(_ring(s, ring.coords), color=BLACK, width=width)
    if hatch:
        for w, body in zip(walls, bodies, strict=True):
            if w.exterior:
                _hatch(page, s, body)


def _frame(w: WallM) -> tuple[tuple[float, float], tuple[float, float]]:
    """Unit vectors along and across an axis-aligned wall."""
    return ((1.0, 0.0), (0.0, 1.0)) if w.horizontal else ((0.0, 1.0), (1.0, 0.0))


def _opening(page: pymupdf.Page, s: Sheet, w: WallM, o: OpeningM, rng: random.Random) -> None:
    (ux, uy), (nx, ny) = _frame(w)
    at = (w.x1 - ux * w.x1, w.y1 - uy * w.y1)  # the wall's line at coordinate 0 along it

    def p(along: float, across: float) -> pymupdf.Point:
        return s.pt(at[0] + ux * along + nx * across, at[1] + uy * along + ny * across)

    if o.kind == "window":
        offsets = (-w.t / 4, 0.0, w.t / 4) if rng.random() < 0.5 else (-w.t / 6, w.t / 6)
        for off in offsets:
            page.draw_line(p(o.a, off), p(o.b, off), width=0.3)
        off = w.outside * (w.t / 2 + 0.05)
        page.draw_line(p(o.a - 0.1, off), p(o.b + 0.1, off), width=0.3)
    elif o.kind == "door":
        width = o.b - o.a
        face = o.swing * w.t / 2
        hinge, other = (o.a, o.b) if o.hinge == 0 else (o.b, o.a)
        sign = 1.0 if other > hinge else -1.0
        leaf = p(hinge, face + o.swing * width)
        page.draw_line(p(hinge, face), leaf, width=0.3)
        shape = page.new_shape()
        handle = KAPPA * width
        shape.draw_bezier(
            leaf,
            p(hinge + sign * handle, face + o.swing * width),
            p(other, face + o.swing * handle),
            p(other, face),
        )
        shape.finish(color=BLACK, width=0.3)
        shape.commit()


def draw_openings(page: pymupdf.Page, s: Sheet, plan: Layout, rng: random.Random) -> None:
    for o in plan.openings:
        _opening(page, s, plan.walls[o.wall], o, rng)


def _text_centred(page: pymupdf.Page, at: pymupdf.Point, text: str, size: float) -> None:
    width = pymupdf.get_text_length(text, fontsize=size)
    page.insert_text(pymupdf.Point(at.x - width / 2, at.y + size / 3), text, fontsize=size)


def draw_rooms(page: pymupdf.Page, s: Sheet, plan: Layout, rng: random.Random) -> None:
    """Labels at room centres; stairs in one room, furniture in some corners."""
    stairs_done = False
    for room in plan.rooms:
        x0, y0, x1, y1 = room.polygon.bounds
        centre = s.pt((x0 + x1) / 2, (y0 + y1) / 2)
        room_w = (x1 - x0) * s.pt_per_m
        size = min(9.0, 0.8 * room_w / max(pymupdf.get_text_length(room.name, fontsize=1), 1))
        _text_centred(page, centre, room.name, size)
        if room.number:
            _text_centred(page, centre + (0, 1.3 * size), room.number, size * 0.8)
        corners = [(x0, y0, 1, 1), (x1, y0, -1, 1), (x0, y1, 1, -1), (x1, y1, -1, -1)]
        rng.shuffle(corners)
        if not stairs_done and min(x1 - x0, y1 - y0) >= 3.0 and rng.random() < 0.5:
            stairs_done = True
            cx, cy, dx, dy = corners.pop()
            treads = rng.randint(8, 11)
            for k in range(treads):  # treads across x, rising along y, against the wall
                y = cy + dy * (0.3 + 0.28 * k)
                page.draw_line(s.pt(cx, y), s.pt(cx + dx * 1.0, y), width=0.3)
            run = (
                s.pt(cx + dx * 0.5, cy + dy * 0.3),
                s.pt(cx + dx * 0.5, cy + dy * (0.3 + 0.28 * treads)),
            )
            page.draw_line(*run, width=0.3)
        for cx, cy, dx, dy in corners[: rng.randint(0, 2)]:
            gap = rng.uniform(0.3, 0.6)
            fw, fh = rng.uniform(0.6, 0.35 * (x1 - x0)), rng.uniform(0.6, 0.35 * (y1 - y0))
            a = s.pt(cx + dx * gap, cy + dy * gap)
            b = s.pt(cx + dx * (gap + fw), cy + dy * (gap + fh))
            if rng.random() < 0.6:
                page.draw_rect(pymupdf.Rect(a, b).normalize(), width=0.3)
            else:
                radius = min(abs(b.x - a.x), abs(b.y - a.y)) / 2
                page.draw_circle((a + b) / 2, radius, width=0.3)


def _mark(
    page: pymupdf.Page, at: pymupdf.Point, direction: tuple[float, float], arrow: bool
) -> None:
    dx, dy = direction
    if not arrow:  # an oblique tick
        page.draw_line(
            at + (-3 * (dx + dy), -3 * (dy - dx)), at + (3 * (dx + dy), 3 * (dy - dx)), width=0.6
        )
        return
    back = at - (dx * 6, dy * 6)
    side = pymupdf.Point(-dy * 1.5, dx * 1.5)
    page.draw_polyline([at, back + side, back - side, at], color=BLACK, fill=BLACK, width=0.3)


def _chain(page: pymupdf.Page, s: Sheet, stations: list[float], offset_pt: float,
           vertical: bool, arrow: bool, mm: bool) -> None:  # fmt: skip
    """A dimension line ``offset_pt`` outside the top (or left) side, with extension lines,
    marks and the distances between ``stations`` (metres along the side)."""

    def p(along: float, out_pt: float) -> pymupdf.Point:
        base = s.pt(0, along) if vertical else s.pt(along, 0)
        shifted: pymupdf.Point = base - ((out_pt, 0) if vertical else (0, out_pt))
        return shifted

    page.draw_line(p(stations[0], offset_pt), p(stations[-1], offset_pt), width=0.3)
    u = (0.0, 1.0) if vertical else (1.0, 0.0)
    for k, x in enumerate(stations):
        page.draw_line(p(x, 5), p(x, offset_pt + 5), width=0.3)
        if arrow:
            if k > 0:
                _mark(page, p(x, offset_pt), u, True)
            if k < len(stations) - 1:
                _mark(page, p(x, offset_pt), (-u[0], -u[1]), True)
        else:
            _mark(page, p(x, offset_pt), u, False)
    for a, b in zip(stations, stations[1:], strict=False):
        text = f"{round((b - a) * 1000)}" if mm else f"{b - a:.2f}"
        mid = p((a + b) / 2, offset_pt + 3)
        if vertical:
            page.insert_text(mid + (0, 8), text, fontsize=6, rotate=90)
        else:
            _text_centred(page, mid - (0, 2), text, 6)


def draw_dimensions(page: pymupdf.Page, s: Sheet, plan: Layout, rng: random.Random) -> None:
    t = max(w.t for w in plan.walls)
    tops = sorted(
        {w.x1 for w in plan.walls if not w.horizontal and not w.exterior and w.y1 <= t + 1e-6}
    )
    lefts = sorted(
        {w.y1 for w in plan.walls if w.horizontal and not w.exterior and w.x1 <= t + 1e-6}
    )
    mm = rng.random() < 0.4
    _chain(page, s, [0.0, *tops, plan.width], 30, False, rng.random() < 0.3, mm)
    _chain(page, s, [0.0, plan.width], 55, False, rng.random() < 0.5, mm)
    _chain(page, s, [0.0, *lefts, plan.height], 30, True, rng.random() < 0.7, mm)
    _chain(page, s, [0.0, plan.height], 55, True, rng.random() < 0.5, mm)


def draw_sheet(page: pymupdf.Page, s: Sheet, plan: Layout, seed: int) -> None:
    """The sheet frame, plan title and scale note, a room schedule and a title block."""
    w, h = s.width, s.height
    page.draw_rect(pymupdf.Rect(FRAME_PT, FRAME_PT, w - FRAME_PT, h - FRAME_PT), width=1.0)
    below = s.pt(0, plan.height) + (0, 40)
    page.insert_text(below, "GROUND FLOOR PLAN", fontsize=12)
    page.insert_text(below + (0, 16), f"SCALE 1:{s.scale}", fontsize=10)
    cols, row_h = (30.0, 100.0, 60.0), 14.0
    x0, y0 = w - FRAME_PT - 30 - sum(cols), FRAME_PT + 40
    rows = [("NO", "ROOM", "AREA")] + [
        (r.number or str(k + 1), r.name, f"{r.polygon.area:.1f}")
        for k, r in enumerate(plan.rooms[:20])
    ]
    xs = [x0 + sum(cols[:k]) for k in range(len(cols) + 1)]
    for k in range(len(rows) + 1):
        page.draw_line((xs[0], y0 + k * row_h), (xs[-1], y0 + k * row_h), width=0.3)
    for x in xs:
        page.draw_line((x, y0), (x, y0 + len(rows) * row_h), width=0.3)
    for k, row in enumerate(rows):
        for x, text in zip(xs, row, strict=False):
            page.insert_text((x + 3, y0 + k * row_h + 10), text, fontsize=7)
    box = pymupdf.Rect(w - FRAME_PT - 250, h - FRAME_PT - 100, w - FRAME_PT, h - FRAME_PT)
    page.draw_rect(box, width=0.8)
    for k in (1, 2, 3):
        page.draw_line((box.x0, box.y0 + 25 * k), (box.x1, box.y0 + 25 * k), width=0.4)
    page.draw_line((box.x0 + 150, box.y0 + 50), (box.x0 + 150, box.y1), width=0.4)
    lines = (f"PROJECT: HOUSE {seed}", "DRAWING: GROUND FLOOR PLAN",
             f"SCALE 1:{s.scale} @ {s.paper}", "DRAWN: AB   DATE: 2026-01-01")  # fmt: skip
    for k, text in enumerate(lines):
        page.insert_text((box.x0 + 5, box.y0 + 25 * k + 16), text, fontsize=8)
    page.insert_text((box.x0 + 160, box.y1 - 9), "A-101", fontsize=14)
