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
import math

import pymupdf

from documents.model import Wall

PAGE_W, PAGE_H = 1190.55, 841.89  # A3 landscape, points
PT_PER_M = 72 / 0.0254 / 100  # 1:100: one metre is 28.35 pt on paper
METRES_PER_PT = 0.0254 / 72 * 100
ORIGIN = (5.0, 6.0)  # the plan's (0, 0) on the page, in metres at scale
EXT, MID, THIN = 0.3, 0.2, 0.12  # wall thicknesses in metres
BLACK, GREY = (0.0, 0.0, 0.0), (0.6, 0.6, 0.6)

# Centre lines (x1, y1, x2, y2) and thickness, in metres in the plan's frame (y down).
WALLS_M: list[tuple[float, float, float, float, float]] = [
    (0, 0.15, 24, 0.15, EXT),  # exterior, full length through the corners
    (0, 13.85, 24, 13.85, EXT),
    (0.15, 0.3, 0.15, 13.7, EXT),
    (23.85, 0.3, 23.85, 13.7, EXT),
    (9, 0.3, 9, 9, MID),  # door 9..10 in this wall
    (9, 10, 9, 13.7, MID),
    (9.1, 7, 15, 7, THIN),  # door 15..16
    (16, 7, 23.7, 7, THIN),
    (17, 0.3, 17, 6.94, THIN),
    (0.3, 5, 8.9, 5, THIN),
    (17.5, 13.7, 23.7, 10.2, THIN),  # a diagonal wall (29 degrees)
]
# Junctions that break a face line: (wall index, face side, from, to), the side being the
# sign along the wall's normal (-uy, ux), from/to the x (or y) the junction spans.
BREAKS: list[tuple[int, int, float, float]] = [
    (0, 1, 8.9, 9.1),
    (0, 1, 16.94, 17.06),
    (1, -1, 8.9, 9.1),
    (2, -1, 4.94, 5.06),  # left wall: its inner face (x = 0.3) is on the -n side
    (3, 1, 6.94, 7.06),
    (4, -1, 6.94, 7.06),
    (4, 1, 4.94, 5.06),
    (7, -1, 16.94, 17.06),
]
CAPPED = {4: (False, True), 5: (True, False), 6: (False, True), 7: (True, False)}  # door jambs


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
        for side in (-1, 1):
            pieces = [(0.0, length)]
            if k < 2:  # top/bottom exterior: outer face full, inner face between the sides
                outer = side == (-1 if k == 0 else 1)
                pieces = [(0.0, length)] if outer else [(EXT, length - EXT)]
            elif k < 4 and side == 1:  # left/right exterior: the outer face runs corner to corner
                pieces = [(-EXT, length + EXT)]
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
        if k < 4:
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
    for hinge, leaf_end, turn in (((9.1, 9.0), (10.1, 9.0), 90), ((15.0, 7.06), (15.0, 8.06), -90)):
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


STYLES = {"filled": _filled, "pairs": _pairs, "thick": _thick}


@functools.cache  # deterministic, and drawing a thousand strokes takes a while
def plan_pdf(styles: tuple[str, ...] = ("filled", "pairs", "thick"), rotate: int = 0) -> bytes:
    """A PDF with one page per style; every page holds the same walls (see truth())."""
    doc = pymupdf.open()
    for style in styles:
        page = doc.new_page(width=PAGE_W, height=PAGE_H)
        STYLES[style](page)
        _distractors(page)
        page.set_rotation(rotate)
    return bytes(doc.tobytes())


def many_pages_pdf(count: int) -> bytes:
    """A valid PDF with ``count`` empty pages, built as text (100,000 pages in ~50 ms)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Count %d /Kids [%s] >>"
        % (count, b" ".join(b"%d 0 R" % (3 + k) for k in range(count))),
    ]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"] * count
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)
