"""Synthetic vector floor plans drawn with PyMuPDF, with their exact walls.

One plan (24 x 14 m house at 1:100 on an A3 landscape page), drawn three ways, one page
each: walls as filled polygons (with hatching inside), as pairs of face lines (outer and
inner outlines broken at junctions, hatching between), and as thick strokes. Every page
also carries distractors: dimension chains with ticks, arrowheads, extension lines and
numbers, room labels, doors (leaf and swing), a dashed line, a table, stair treads, a
sheet frame and a "SCALE 1:100" note.
"""

from __future__ import annotations

import functools
import itertools
import math

import pymupdf

from documents.model import Wall

PAGE_W, PAGE_H = 1190.55, 841.89  # A3 landscape, points
PT_PER_M = 72 / 0.0254 / 100  # 1:100: one metre is 28.35 pt on paper
METRES_PER_PT = 0.0254 / 72 * 100
ORIGIN = (5.0, 6.0)  # the plan's (0, 0) on the page, in metres at scale
EXT, MID, THIN = 0.3, 0.2, 0.12  # wall thicknesses in metres
BLACK, GREY = (0.0, 0.0, 0.0), (0.6, 0.6, 0.6)

# Centre lines (x1, y1, x2, y2) and thickness, in metres in the plan's frame (y down). The
# exterior walls stop at the window jambs, so each window splits its wall into two pieces.
WALLS_M: list[tuple[float, float, float, float, float]] = [
    (0, 0.15, 2, 0.15, EXT),  # top, window 2..3
    (3, 0.15, 24, 0.15, EXT),
    (0, 13.85, 12, 13.85, EXT),  # bottom, window 12..14
    (14, 13.85, 24, 13.85, EXT),
    (0.15, 0.3, 0.15, 13.7, EXT),  # left
    (23.85, 0.3, 23.85, 3, EXT),  # right, window 3..4.5
    (23.85, 4.5, 23.85, 13.7, EXT),
    (9, 0.3, 9, 9, MID),  # door 9..10 in this wall
    (9, 10, 9, 13.7, MID),
    (9.1, 7, 15, 7, THIN),  # door 15..16
    (16, 7, 23.7, 7, THIN),
    (17, 0.3, 17, 6.94, THIN),
    (0.3, 5, 4, 5, THIN),  # a plain opening 4..5 (no door drawn)
    (5, 5, 8.9, 5, THIN),
    (17.5, 13.7, 23.7, 10.2, THIN),  # a diagonal wall (29 degrees)
]
# Openings: kind, centre-line span jamb to jamb (x1, y1, x2, y2) in metres, and the two
# walls beside it (indexes in WALLS_M); the width is the span's length.
OPENINGS_M: list[tuple[str, float, float, float, float, tuple[int, int]]] = [
    ("window", 2, 0.15, 3, 0.15, (0, 1)),
    ("window", 12, 13.85, 14, 13.85, (2, 3)),
    ("window", 23.85, 3, 23.85, 4.5, (5, 6)),
    ("door", 9, 9, 9, 10, (7, 8)),
    ("door", 15, 7, 16, 7, (9, 10)),
    ("opening", 4, 5, 5, 5, (12, 13)),
]
# Face lines of the exterior walls in the pairs style: (side, from, to) along the wall's
# axis (x or y), the side being the sign along the wall's normal (-uy, ux). The outer face
# runs to the building's corner, the inner one stops at the inner corner.
FACES: dict[int, tuple[tuple[int, float, float], ...]] = {
    0: ((-1, 0, 2), (1, 0.3, 2)),
    1: ((-1, 3, 24), (1, 3, 23.7)),
    2: ((1, 0, 12), (-1, 0.3, 12)),
    3: ((1, 14, 24), (-1, 14, 23.7)),
    4: ((1, 0, 14), (-1, 0.3, 13.7)),
    5: ((-1, 0, 3), (1, 0.3, 3)),
    6: ((-1, 4.5, 14), (1, 4.5, 13.7)),
}
# Junctions that break a face line: (wall index, face side, from, to), from/to the x (or y)
# the junction spans.
BREAKS: list[tuple[int, int, float, float]] = [
    (1, 1, 8.9, 9.1),
    (1, 1, 16.94, 17.06),
    (2, -1, 8.9, 9.1),
    (4, -1, 4.94, 5.06),  # left wall: its inner face (x = 0.3) is on the -n side
    (6, 1, 6.94, 7.06),
    (7, -1, 6.94, 7.06),
    (7, 1, 4.94, 5.06),
    (10, -1, 16.94, 17.06),
]
# Jambs (door, window, opening) get an end cap across the wall in the pairs style.
CAPPED = {0: (False, True), 1: (True, False), 2: (False, True), 3: (True, False)}
CAPPED |= {5: (False, True), 6: (True, False), 7: (False, True), 8: (True, False)}
CAPPED |= {9: (False, True), 10: (True, False), 12: (False, True), 13: (True, False)}


def pt(x: float, y: float) -> pymupdf.Point:
    """Plan metres -> page points."""
    return pymupdf.Point((ORIGIN[0] + x) * PT_PER_M, (ORIGIN[1] + y) * PT_PER_M)


def truth(rotate: int = 0) -> list[Wall]:
    """The plan's walls in page points, as displayed on a page with that /Rotate."""
    page = pymupdf.open().new_page(width=PAGE_W, height=PAGE_H)
    page.set_rotation(rotate)
    m = page.rotation_matrix
    walls = []
    for x1, y1, x2, y2, t in WALLS_M:
        a, b = pt(x1, y1) * m, pt(x2, y2) * m
        walls.append(Wall(a.x, a.y, b.x, b.y, t * PT_PER_M))
    return walls


def openings_truth(rotate: int = 0) -> list[tuple[str, Wall, tuple[int, int]]]:
    """The plan's openings in page points as displayed: kind, span as a zero-thickness
    Wall (jamb to jamb on the centre line), and the indexes of the two walls beside it."""
    page = pymupdf.open().new_page(width=PAGE_W, height=PAGE_H)
    page.set_rotation(rotate)
    m = page.rotation_matrix
    out = []
    for kind, x1, y1, x2, y2, pair in OPENINGS_M:
        a, b = pt(x1, y1) * m, pt(x2, y2) * m
        out.append((kind, Wall(a.x, a.y, b.x, b.y, 0.0), pair))
    return out


def _frame(x1: float, y1: float, x2: float, y2: float) -> tuple[float, float, float, float]:
    """Unit direction and normal (-uy, ux) of a segment."""
    length = math.hypot(x2 - x1, y2 - y1)
    return (x2 - x1) / length, (y2 - y1) / length, -(y2 - y1) / length, (x2 - x1) / length


def _corners(wall: tuple[float, float, float, float, float]) -> list[pymupdf.Point]:
    x1, y1, x2, y2, t = wall
    _, _, nx, ny = _frame(x1, y1, x2, y2)
    h = t / 2
    return [
        pt(x1 + nx * h, y1 + ny * h),
        pt(x2 + nx * h, y2 + ny * h),
        pt(x2 - nx * h, y2 - ny * h),
        pt(x1 - nx * h, y1 - ny * h),
    ]


def _filled(page: pymupdf.Page) -> None:
    for wall in WALLS_M:
        corners = _corners(wall)
        page.draw_polyline(corners + corners[:1], color=BLACK, fill=GREY, width=0.4)
        _hatch(page, wall)


def _hatch(page: pymupdf.Page, wall: tuple[float, float, float, float, float]) -> None:
    """45-degree hatching strokes across the wall, every 0.15 m (one path of strokes)."""
    x1, y1, x2, y2, t = wall
    ux, uy, nx, ny = _frame(x1, y1, x2, y2)
    length = math.hypot(x2 - x1, y2 - y1)
    shape = page.new_shape()
    s = 0.0
    while s + t < length:
        a = (x1 + ux * s - nx * t / 2, y1 + uy * s - ny * t / 2)
        b = (a[0] + ux * t + nx * t, a[1] + uy * t + ny * t)
        shape.draw_line(pt(*a), pt(*b))
        s += 0.15
    shape.finish(color=BLACK, width=0.25)
    shape.commit()


def _pairs(page: pymupdf.Page) -> None:
    for k, wall in enumerate(WALLS_M):
        x1, y1, x2, y2, t = wall
        ux, uy, nx, ny = _frame(x1, y1, x2, y2)
        length = math.hypot(x2 - x1, y2 - y1)
        start = x1 if abs(ux) > abs(uy) else y1
        faces = FACES.get(k, ((-1, start, start + length), (1, start, start + length)))
        for side, f0, f1 in faces:
            pieces = [(f0 - start, f1 - start)]
            for wk, ws, a, b in BREAKS:
                if wk == k and ws == side:
                    a, b = a - start, b - start
                    pieces = [q for p0, p1 in pieces for q in ((p0, a), (b, p1)) if q[1] > q[0]]
            for p0, p1 in pieces:
                off = side * t / 2
                a_pt = pt(x1 + ux * p0 + nx * off, y1 + uy * p0 + ny * off)
                b_pt = pt(x1 + ux * p1 + nx * off, y1 + uy * p1 + ny * off)
                page.draw_line(a_pt, b_pt, color=BLACK, width=0.5)
        for s, capped in zip((0.0, length), CAPPED.get(k, (False, False)), strict=True):
            if capped:
                c = (x1 + ux * s, y1 + uy * s)
                h = (nx * t / 2, ny * t / 2)
                page.draw_line(
                    pt(c[0] - h[0], c[1] - h[1]), pt(c[0] + h[0], c[1] + h[1]), width=0.5
                )
        if k in FACES:
            _hatch(page, wall)


def _thick(page: pymupdf.Page) -> None:
    for x1, y1, x2, y2, t in WALLS_M:
        page.draw_line(pt(x1, y1), pt(x2, y2), color=BLACK, width=t * PT_PER_M, lineCap=0)


def _tick(page: pymupdf.Page, x: float, y: float) -> None:
    page.draw_line(pt(x - 0.12, y + 0.12), pt(x + 0.12, y - 0.12), width=0.6)


def _arrow(page: pymupdf.Page, tip: pymupdf.Point, direction: tuple[float, float]) -> None:
    dx, dy = direction
    back = pymupdf.Point(tip.x - dx * 6, tip.y - dy * 6)
    side = pymupdf.Point(-dy * 1.5, dx * 1.5)
    page.draw_polyline([tip, back + side, back - side, tip], color=BLACK, fill=BLACK, width=0.3)


def _text(
    page: pymupdf.Page, x: float, y: float, text: str, size: float = 8, rotate: int = 0
) -> None:
    page.insert_text(pt(x, y), text, fontsize=size, rotate=rotate)


def _distractors(page: pymupdf.Page) -> None:
    # Top dimension chain (ticks) with extension lines and numbers.
    page.draw_line(pt(0, -1.0), pt(24, -1.0), width=0.3)
    for x in (0, 9, 17, 24):
        page.draw_line(pt(x, -0.2), pt(x, -1.3), width=0.3)
        _tick(page, x, -1.0)
    for a, b in ((0, 9), (9, 17), (17, 24)):
        _text(page, (a + b) / 2 - 0.5, -1.15, f"{b - a:.2f}")
    # Overall dimensions, a second row 0.8 m further out: without their ticks and arrows
    # each pair of rows would look like a long thick wall.
    page.draw_line(pt(0, -1.8), pt(24, -1.8), width=0.3)
    for x in (0, 24):
        page.draw_line(pt(x, -1.3), pt(x, -2.1), width=0.3)
        _tick(page, x, -1.8)
    _text(page, 11.5, -1.95, "24.00")
    page.draw_line(pt(-1.8, 0), pt(-1.8, 14), width=0.3)
    for y in (0, 14):
        page.draw_line(pt(-1.3, y), pt(-2.1, y), width=0.3)
    _arrow(page, pt(-1.8, 0), (0, -1))
    _arrow(page, pt(-1.8, 14), (0, 1))
    _text(page, -1.95, 6.5, "14.00", rotate=90)
    # A window's extension lines, 1 m apart and 2.9 m long, from the wall out past its
    # number: a pair at a wall-like distance with text between.
    for edge in (2.0, 3.0):
        page.draw_line(pt(edge, -0.1), pt(edge, -3.0), width=0.3)
    page.draw_line(pt(2.0, -2.6), pt(3.0, -2.6), width=0.3)
    _tick(page, 2.0, -2.6)
    _tick(page, 3.0, -2.6)
    _text(page, 2.1, -2.7, "1.00", size=6)
    # Left dimension chain with arrowheads.
    page.draw_line(pt(-1.0, 0), pt(-1.0, 14), width=0.3)
    for y in (0, 5, 14):
        page.draw_line(pt(-0.2, y), pt(-1.3, y), width=0.3)
    for tip, direction in ((0, 1), (5, -1), (5, 1), (14, -1)):
        _arrow(page, pt(-1.0, tip), (0, direction))
    _text(page, -1.15, 3.0, "5.00", rotate=90)
    _text(page, -1.15, 10.0, "9.00", rotate=90)
    # Door-width dimension above the door in the y = 7 wall: long extension lines 1 m apart
    # around their number (a line pair at a wall-like distance, with text between).
    page.draw_line(pt(15, 6.85), pt(15, 5.2), width=0.3)
    page.draw_line(pt(16, 6.85), pt(16, 5.2), width=0.3)
    page.draw_line(pt(15, 6.0), pt(16, 6.0), width=0.3)
    _tick(page, 15, 6.0)
    _tick(page, 16, 6.0)
    _text(page, 15.15, 5.85, "1.00", size=6)
    # Doors: leaf and quarter swing.
    for hinge, leaf_end, turn in (((9.1, 9.0), (10.1, 9.0), -90), ((15.0, 7.06), (15.0, 8.06), 90)):
        page.draw_line(pt(*hinge), pt(*leaf_end), width=0.3)
        page.draw_sector(pt(*hinge), pt(*leaf_end), turn, width=0.3, fullSector=False)
    # Room labels, a dashed line, a round table, a sheet frame, scale and title.
    for lx, ly, label in (
        (3, 2.5, "KITCHEN"),
        (3, 9.5, "LIVING"),
        (12, 3.5, "BEDROOM"),
        (19.5, 3.5, "BATH"),
        (12, 11, "HALL"),
    ):
        _text(page, lx, ly, label, size=9)
    page.draw_line(pt(1, 12), pt(8, 12), width=0.5, dashes="[4 2] 0")
    page.draw_circle(pt(4.5, 7.5), 0.6 * PT_PER_M, width=0.3)
    page.draw_rect(pymupdf.Rect(pt(10.5, 2.0), pt(13.5, 3.0)), width=0.5)  # a table, 3 x 1 m
    for k in range(10):  # stair treads against the left wall: 1.2 m long, 0.28 m apart
        page.draw_line(pt(0.3, 8.0 + 0.28 * k), pt(1.5, 8.0 + 0.28 * k), width=0.3)
    page.draw_rect(pymupdf.Rect(14, 14, PAGE_W - 14, PAGE_H - 14), width=1.0)
    _text(page, 25, 19.5, "GROUND FLOOR PLAN", size=12)
    _text(page, 25, 20.3, "SCALE 1:100", size=10)


def _windows(page: pymupdf.Page) -> None:
    """Three glazing lines across each window's gap and a sill line outside it."""
    for kind, x1, y1, x2, y2, _ in OPENINGS_M:
        if kind != "window":
            continue
        ux, uy, nx, ny = _frame(x1, y1, x2, y2)
        out = -1 if (nx * (x1 - 12) + ny * (y1 - 7)) < 0 else 1  # the side away from the centre
        for off in (-0.05, 0.0, 0.05):
            page.draw_line(
                pt(x1 + nx * off, y1 + ny * off), pt(x2 + nx * off, y2 + ny * off), width=0.3
            )
        off = out * (EXT / 2 + 0.05)
        a = (x1 - ux * 0.1 + nx * off, y1 - uy * 0.1 + ny * off)
        b = (x2 + ux * 0.1 + nx * off, y2 + uy * 0.1 + ny * off)
        page.draw_line(pt(*a), pt(*b), width=0.3)


# Block letters on a 5 x 7 grid (x right, y down): each a closed outline, as a CAD sheet
# gives text converted to outlines. Their bars are as thick as a wall at 1:100.
GLYPHS: dict[str, list[tuple[float, float]]] = {
    "H": [
        (0, 0),
        (1, 0),
        (1, 3),
        (4, 3),
        (4, 0),
        (5, 0),
        (5, 7),
        (4, 7),
        (4, 4),
        (1, 4),
        (1, 7),
        (0, 7),
    ],
    "E": [
        (0, 0),
        (5, 0),
        (5, 1),
        (1, 1),
        (1, 3),
        (4, 3),
        (4, 4),
        (1, 4),
        (1, 6),
        (5, 6),
        (5, 7),
        (0, 7),
    ],
    "L": [(0, 0), (1, 0), (1, 6), (5, 6), (5, 7), (0, 7)],
    "T": [(0, 0), (5, 0), (5, 1), (3, 1), (3, 7), (2, 7), (2, 1), (0, 1)],
    "I": [(2, 0), (3, 0), (3, 7), (2, 7)],
}
TITLE = "THE HOTEL"  # drawn with outlined letters at (0, 16) m, letters 1.4 m high
GLYPH_UNIT = 0.2  # metres per grid step


def _outlined_title(page: pymupdf.Page) -> None:
    x = 0.0
    for letter in TITLE:
        if letter == "O":  # a ring: two ovals filled even-odd (Bezier curves)
            shape = page.new_shape()
            u = GLYPH_UNIT
            shape.draw_oval(pymupdf.Rect(pt(x, 16), pt(x + 5 * u, 16 + 7 * u)))
            shape.draw_oval(pymupdf.Rect(pt(x + u, 16 + u), pt(x + 4 * u, 16 + 6 * u)))
            shape.finish(color=None, fill=BLACK, even_odd=True)
            shape.commit()
        elif letter in GLYPHS:
            points = [pt(x + gx * GLYPH_UNIT, 16 + gy * GLYPH_UNIT) for gx, gy in GLYPHS[letter]]
            page.draw_polyline(points, color=None, fill=BLACK, closePath=True)
        x += 6.5 * GLYPH_UNIT


# A room-finish schedule: ruled cells, a taller header row, a narrow first column.
TABLE_X = (14.0, 15.5, 18.0, 20.5, 23.0)
TABLE_Y = (15.5, 16.3, 16.8, 17.3, 17.8, 18.3)
TABLE_TEXT = (("NO", "ROOM", "FLOOR", "WALLS"), ("R1", "KITCHEN", "TILE", "PAINT"),
              ("R2", "LIVING", "OAK", "PAINT"), ("R3", "BEDROOM", "OAK", "PAPER"),
              ("R4", "BATH", "TILE", "TILE"))  # fmt: skip


def _schedule(page: pymupdf.Page) -> None:
    for y in TABLE_Y:
        page.draw_line(pt(TABLE_X[0], y), pt(TABLE_X[-1], y), width=0.3)
    for x in TABLE_X:
        page.draw_line(pt(x, TABLE_Y[0]), pt(x, TABLE_Y[-1]), width=0.3)
    for row, (y0, y1) in enumerate(itertools.pairwise(TABLE_Y)):
        for col, x0 in enumerate(TABLE_X[:-1]):
            _text(page, x0 + 0.15, (y0 + y1) / 2 + 0.12, TABLE_TEXT[row][col], size=7)


STYLES = {"filled": _filled, "pairs": _pairs, "thick": _thick}


@functools.cache  # deterministic, and drawing a thousand strokes takes a while
def plan_pdf(styles: tuple[str, ...] = ("filled", "pairs", "thick"), rotate: int = 0) -> bytes:
    """A PDF with one page per style; every page holds the same walls (see truth())."""
    doc = pymupdf.open()
    for style in styles:
        page = doc.new_page(width=PAGE_W, height=PAGE_H)
        STYLES[style](page)
        _windows(page)
        _distractors(page)
        _outlined_title(page)
        _schedule(page)
        page.set_rotation(rotate)
    return bytes(doc.tobytes())
