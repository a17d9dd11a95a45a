# mypy: disallow-untyped-calls=False
# (PyMuPDF leaves many calls untyped, as for the modules listed in pyproject.toml.)
"""Synthetic pages of every kind, drawn with PyMuPDF, for ``documents.kinds``.

Each fixture is one A3 landscape page (A4 portrait for the text page). ``FIXTURES`` maps a
name to (drawing function, true kind, split): ``tune`` fixtures were used to set the rules,
``held_out`` ones only measure them (bench/kinds.py, tests/test_kinds.py).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import pymupdf

W, H = 1190.55, 841.89
GREY = (0.6, 0.6, 0.6)
PROSE = (
    "The contractor shall verify all dimensions on site before any work begins. Partitions "
    "are to be built from floor slab to the underside of the structure above, with sealant "
    "at the head and the base where acoustic ratings apply. Where services pass through a "
    "fire-rated wall, the opening shall be sealed with a tested system of the same rating. "
)


def _wall(page: pymupdf.Page, x0: float, y0: float, x1: float, y1: float) -> None:
    """A cut wall or slab as a grey filled rectangle with its outline."""
    page.draw_rect(pymupdf.Rect(x0, y0, x1, y1), color=(0, 0, 0), fill=GREY, width=0.4)


def _rooms(page: pymupdf.Page, left: float, top: float, scale: float = 1.0) -> None:
    """A small house plan: outer walls 8 pt, two partitions 5 pt, door gaps, labels."""
    w, h = 560 * scale, 300 * scale
    _wall(page, left, top, left + w, top + 8)
    _wall(page, left, top + h - 8, left + w, top + h)
    _wall(page, left, top + 8, left + 8, top + h - 8)
    _wall(page, left + w - 8, top + 8, left + w, top + h - 8)
    _wall(page, left + 0.4 * w, top + 8, left + 0.4 * w + 5, top + 0.6 * h)  # door below
    _wall(page, left + 0.4 * w + 5, top + 0.5 * h, left + 0.8 * w, top + 0.5 * h + 5)
    _wall(page, left + 0.9 * w, top + 0.5 * h, left + w - 8, top + 0.5 * h + 5)
    for x, y, name in ((0.1, 0.3, "LIVING"), (0.5, 0.25, "BEDROOM"), (0.5, 0.8, "KITCHEN")):
        page.insert_text((left + x * w, top + y * h), name, fontsize=9)


def _table(
    page: pymupdf.Page, left: float, top: float, rows: int, cols: int, cell: tuple[float, float]
) -> None:
    """A ruled table whose row rules are doubled (2 pt apart), with text in every cell."""
    cw, ch = cell
    right, bottom = left + cols * cw, top + rows * ch
    for r in range(rows + 1):
        y = top + r * ch
        page.draw_line((left, y), (right, y), width=0.5)
        page.draw_line((left, y + 2), (right, y + 2), width=0.5)
    for c in range(cols + 1):
        page.draw_line((left + c * cw, top), (left + c * cw, bottom + 2), width=0.5)
    for r in range(rows):
        for c in range(cols):
            text = f"R{r + 1:02d}" if c == 0 else ("PAINT", "2.70", "GYP 12.5", "VINYL")[c % 4]
            page.insert_text((left + c * cw + 4, top + r * ch + 0.7 * ch), text, fontsize=8)


def plan_rooms(page: pymupdf.Page) -> None:
    _rooms(page, 200, 150, 1.4)
    page.insert_text((200, 620), "GROUND FLOOR PLAN", fontsize=14)


def section_roof(page: pymupdf.Page) -> None:
    """Two storeys with slabs, cut walls, a pitched roof and the ground (no title)."""
    for y in (600, 480, 360):
        _wall(page, 200, y, 800, y + 8)
    for y0, y1 in ((488, 600), (368, 480)):
        _wall(page, 200, y0, 208, y1)
        _wall(page, 792, y0, 800, y1)
        _wall(page, 480, y0, 485, y1)
    page.draw_line((180, 365), (500, 220), width=6)  # roof pitch, cut: a heavy line
    page.draw_line((500, 220), (820, 365), width=6)
    page.draw_line((80, 608), (1000, 608), width=1.0)
    for x in range(80, 1000, 12):  # earth hatching below the ground line
        page.draw_line((x, 612), (x + 8, 620), width=0.3)
    for x, y, text in ((300, 550, "LIVING"), (600, 430, "BEDROOM"), (820, 604, "+0.00")):
        page.insert_text((x, y), text, fontsize=9)


def section_flat(page: pymupdf.Page) -> None:
    """Three storeys under a flat roof, titled in French."""
    for y in (650, 530, 410, 290):
        _wall(page, 250, y, 900, y + 10)
    for y0, y1 in ((540, 650), (420, 530), (300, 410)):
        _wall(page, 250, y0, 260, y1)
        _wall(page, 890, y0, 900, y1)
    page.draw_line((100, 660), (1050, 660), width=1.0)
    page.insert_text((450, 740), "COUPE A-A", fontsize=16)
    page.insert_text((300, 600), "SEJOUR", fontsize=9)


def elevation_windows(page: pymupdf.Page) -> None:
    """A facade: outline, a gable, three rows of five double-framed windows (no title)."""
    page.draw_rect(pymupdf.Rect(200, 250, 900, 640), width=0.8)
    page.draw_polyline([(190, 250), (550, 120), (910, 250)], width=0.8)
    page.draw_line((100, 640), (1000, 640), width=1.5)
    for row in range(3):
        for col in range(5):
            x, y = 250 + col * 130, 280 + row * 120
            page.draw_rect(pymupdf.Rect(x, y, x + 50, y + 70), width=0.5)
            page.draw_rect(pymupdf.Rect(x + 4, y + 4, x + 46, y + 66), width=0.5)


def schedule_titled(page: pymupdf.Page) -> None:
    page.insert_text((80, 70), "ROOM FINISH SCHEDULE", fontsize=16)
    _table(page, 80, 100, 14, 5, (200, 44))


def schedule_plain(page: pymupdf.Page) -> None:
    """A door schedule without a title word: only its doubled rules and cells."""
    _table(page, 120, 120, 10, 6, (150, 50))


def text_page(page: pymupdf.Page) -> None:
    box = pymupdf.Rect(60, 60, page.rect.width - 60, page.rect.height - 60)
    page.insert_textbox(box, "GENERAL NOTES\n\n" + (PROSE * 3 + "\n\n") * 4, fontsize=10)


def plan_legend(page: pymupdf.Page) -> None:
    """A plan with a ruled legend table below it (as the CFAST Ranch sheet), no plan title."""
    _rooms(page, 250, 60, 1.2)
    page.insert_text((250, 470), "LEGEND", fontsize=12)
    _table(page, 250, 480, 6, 3, (180, 40))


Draw = Callable[[pymupdf.Page], None]
FIXTURES: dict[str, tuple[Draw, str, str]] = {
    "plan_rooms": (plan_rooms, "plan", "tune"),
    "section_roof": (section_roof, "section", "tune"),
    "schedule_titled": (schedule_titled, "schedule", "tune"),
    "text_page": (text_page, "text", "tune"),
    "elevation_windows": (elevation_windows, "elevation", "held_out"),
    "plan_legend": (plan_legend, "plan", "held_out"),
    "schedule_plain": (schedule_plain, "schedule", "held_out"),
    "section_flat": (section_flat, "section", "held_out"),
}


@functools.cache
def fixture_pdf(name: str) -> bytes:
    """One page drawn by the fixture ``name``."""
    doc = pymupdf.open()
    draw = FIXTURES[name][0]
    page = (
        doc.new_page(width=595, height=842)
        if draw is text_page
        else doc.new_page(width=W, height=H)
    )
    draw(page)
    return bytes(doc.tobytes())
