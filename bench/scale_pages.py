# mypy: disallow-untyped-calls=False
"""Synthetic vector pages with an exact drawing scale, drawn with PyMuPDF from a seed.

Each seed draws one page of a kind (``KINDS``, by ``seed % len(KINDS)``, so every split of
seeds holds every kind): a building outline with dimension chains (ticks or arrows,
extension lines, text above the line, in a gap of it, or beside it; vertical text
rotated or not) in one unit style, rooms with areas, levels, dates and sheet numbers as
distractors, and per kind a scale note, a wrong note, "NOT TO SCALE", nothing, or a
second view at another scale. The page's size and /Rotate, the ratio, the unit style and
the chains come from the seed. ``truth`` is metres per point (None: no scale to find).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import pymupdf

POINT_M = 0.0254 / 72
KINDS = ("dims", "dims+note", "dims+wrong note", "note only", "nts", "none", "two views")
STYLES = ("m", "bare m", "mm", "cm", "ft-in")
RATIOS = (20, 25, 50, 75, 100, 125, 200)
IMPERIAL = {48: '1/4" = 1\'-0"', 96: '1/8" = 1\'-0"', 192: '1/16" = 1\'-0"'}
SIZES = ((1190.55, 841.89), (841.89, 595.28), (1683.78, 1190.55), (841.89, 1190.55))


@dataclass(frozen=True)
class ScalePage:
    seed: int
    kind: str
    style: str
    ratio: float
    rotate: int
    pdf: bytes
    truth: float | None  # metres per point

    @property
    def name(self) -> str:
        return f"seed {self.seed} {self.kind}, {self.style}, 1:{self.ratio:g}, rot {self.rotate}"


def _label(metres: float, style: str, decimals: int = 2) -> str:
    if style == "m":
        return f"{metres:.{decimals}f} m"
    if style == "bare m":
        return f"{metres:.{decimals}f}"
    if style == "mm":
        return f"{round(metres * 1000)}"
    if style == "cm":
        return f"{round(metres * 100)} cm"
    inches = round(metres / 0.0254 * 2) / 2
    feet, rest = divmod(inches, 12)
    whole = int(rest)
    half = " 1/2" if rest - whole else ""
    return f"{int(feet)}'-{whole}{half}\""


def _pieces(rng: random.Random, total: float, style: str, most: int) -> list[float]:
    """Split ``total`` metres into most-1..most pieces (2 at least), ending on round values
    of the style's unit or (half the seeds) not: then the written value is rounded, as on
    a real drawing."""
    step = (0.0127 if style == "ft-in" else 0.05) if rng.random() < 0.5 else 1e-6
    count = rng.randint(max(1, min(2, most - 1)), most)
    cuts = sorted(rng.uniform(0.15, 0.85) * total for _ in range(count - 1))
    edges = [0.0, *(round(c / step) * step for c in cuts), round(total / step) * step]
    return [b - a for a, b in zip(edges, edges[1:], strict=False) if b - a > 0.1]


class _Sheet:
    def __init__(self, page: pymupdf.Page, rng: random.Random, mpu: float, style: str) -> None:
        self.page, self.rng, self.mpu, self.style = page, rng, mpu, style
        self.size = rng.uniform(6, 10)
        self.arrows = rng.random() < 0.5
        self.gap_text = rng.random() < 0.4  # text in a gap of the line, else above it
        self.upright_text = rng.random() < 0.6  # vertical chains: rotated text, else beside
        self.decimals = rng.choice((1, 2, 2))

    def width(self, text: str) -> float:
        return float(pymupdf.get_text_length(text, fontsize=self.size))

    def stop(self, x: float, y: float, vertical: bool, into: int) -> None:
        if self.arrows:
            d = (0.0, into) if vertical else (into, 0.0)
            back = pymupdf.Point(x + d[0] * 6, y + d[1] * 6)
            side = pymupdf.Point(-d[1] * 1.5, d[0] * 1.5)
            tip = pymupdf.Point(x, y)
            self.page.draw_polyline([tip, back + side, back - side, tip], fill=(0, 0, 0))
        else:
            self.page.draw_line((x - 2.5, y + 2.5), (x + 2.5, y - 2.5), width=0.6)

    def chain(self, x: float, y: float, metres: list[float], vertical: bool, face: float) -> None:
        """A dimension chain from (x, y) along x (or y), extension lines back to ``face``."""
        t = x if not vertical else y
        stops = [t]
        for m in metres:
            stops.append(stops[-1] + m / self.mpu)
        for k, s in enumerate(stops):
            p = (s, y) if not vertical else (x, s)
            q = (s, face) if not vertical else (face, s)
            self.page.draw_line(p, q, width=0.25)
            if k > 0:
                self.stop(*p, vertical, -1)
            if k < len(stops) - 1:
                self.stop(*p, vertical, 1)
        for a, b, m in zip(stops, stops[1:], metres, strict=False):
            self.dimension(a, b, x if vertical else y, m, vertical)

    def dimension(self, a: float, b: float, off: float, m: float, vertical: bool) -> None:
        text = _label(m, self.style, self.decimals)
        w, mid = self.width(text), (a + b) / 2
        gap = self.gap_text and w + 6 < b - a
        parts = [(a, mid - w / 2 - 2), (mid + w / 2 + 2, b)] if gap else [(a, b)]
        for p0, p1 in parts:
            ends = ((off, p0), (off, p1)) if vertical else ((p0, off), (p1, off))
            self.page.draw_line(*ends, width=0.3)
        if not vertical:
            y = off + self.size * 0.35 if gap else off - 2
            self.page.insert_text((mid - w / 2, y), text, fontsize=self.size)
        elif self.upright_text:
            x = off + self.size * 0.35 if gap else off - 2
            self.page.insert_text((x, mid + w / 2), text, fontsize=self.size, rotate=90)
        else:
            x = off - w / 2 if gap else off - w - 3
            self.page.insert_text((x, mid + self.size * 0.35), text, fontsize=self.size)


def _distractors(page: pymupdf.Page, rng: random.Random, box: pymupdf.Rect, size: float) -> None:
    texts = [
        f"LIVING {rng.uniform(10, 40):.1f} m²",
        f"BED 2  {rng.uniform(8, 20):.2f} m2",
        f"+{rng.uniform(0, 9):.2f}",
        f"EL. {rng.uniform(0, 9):.2f} m",
        f"h = {rng.uniform(2, 3):.2f} m",
        f"{rng.randint(2015, 2026)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        f"A-{rng.randint(100, 399)}",
        f"ROOM {rng.randint(1, 30)}",
        "DRAWN BY JS  REV 3",
        f"{rng.randint(100, 140)}",  # a room number alone, a door height alone
        f"{rng.uniform(0.6, 2.4):.2f}",
    ]
    for text in texts:
        x = rng.uniform(box.x0 + 10, max(box.x0 + 11, box.x1 - 120))
        y = rng.uniform(box.y0 + 15, max(box.y0 + 16, box.y1 - 10))
        page.insert_text((x, y), text, fontsize=size)
    shape = page.new_shape()  # hatching in the walls: short oblique strokes
    for _ in range(rng.randint(20, 200)):
        x, y = rng.uniform(box.x0, box.x1), box.y0 + rng.uniform(0, 4)
        shape.draw_line((x, y), (x + 4, y + 4))
    shape.finish(width=0.2)
    shape.commit()


def _view(
    page: pymupdf.Page, rng: random.Random, area: pymupdf.Rect, mpu: float, style: str, most: int
) -> None:
    """A building outline in ``area`` at ``mpu``, dimensioned on two sides (chains of at
    most ``most`` links)."""
    sheet = _Sheet(page, rng, mpu, style)
    w_m = rng.uniform(0.5, 0.75) * area.width * mpu
    h_m = rng.uniform(0.5, 0.75) * area.height * mpu
    x0, y0 = area.x0 + 0.2 * area.width, area.y0 + 0.2 * area.height
    top, side = _pieces(rng, w_m, style, most), _pieces(rng, h_m, style, most)
    w, h = sum(top) / mpu, sum(side) / mpu
    t = 0.25 / mpu
    page.draw_rect(pymupdf.Rect(x0, y0, x0 + w, y0 + h), width=0.5)
    page.draw_rect(pymupdf.Rect(x0 + t, y0 + t, x0 + w - t, y0 + h - t), width=0.5)
    page.draw_line((x0 + w / 2, y0 + t), (x0 + w / 2, y0 + h - t), width=1.5)
    step = 3 * sheet.size
    sheet.chain(x0, y0 - step, top, False, y0)
    if len(top) > 1:
        sheet.chain(x0, y0 - 2 * step, [sum(top)], False, y0 - step)
    sheet.chain(x0 - step, y0, side, True, x0)
    _distractors(page, rng, pymupdf.Rect(x0 + t, y0 + t, x0 + w - t, y0 + h - t), sheet.size)


def scale_page(seed: int) -> ScalePage:
    """The page drawn from ``seed`` (see the module docstring)."""
    rng = random.Random(seed)
    kind = KINDS[seed % len(KINDS)]
    style = rng.choice(STYLES)
    ratio = float(rng.choice(tuple(IMPERIAL)) if style == "ft-in" else rng.choice(RATIOS))
    rotate = rng.choice((0, 0, 90, 270))
    width, height = rng.choice(SIZES)
    doc = pymupdf.open()
    page = doc.new_page(width=width, height=height)
    mpu = ratio * POINT_M
    plan = pymupdf.Rect(0, 0, width * (0.62 if kind == "two views" else 1), height)
    if kind not in ("note only", "none"):
        _view(page, rng, plan, mpu, style, 4 if kind != "two views" else 6)
    else:
        inner = pymupdf.Rect(plan.x0 + 80, plan.y0 + 80, plan.x1 - 80, plan.y1 - 120)
        page.draw_rect(inner, width=0.5)
        _distractors(page, rng, inner, 8)
    if kind == "two views":
        detail = pymupdf.Rect(width * 0.66, height * 0.1, width * 0.98, height * 0.6)
        _view(page, rng, detail, mpu / 5, style, 3)
    note = IMPERIAL.get(int(ratio), f"1:{ratio:g}")
    written = {"dims+note": note, "note only": note, "nts": "NOT TO SCALE"}.get(kind)
    if kind == "dims+wrong note":
        written = f"1:{ratio * 2:g}"  # a sheet printed at half size keeps its note
    if written:
        page.insert_text((width - 260, height - 30), f"SCALE: {written}", fontsize=10)
    page.insert_text((width - 260, height - 50), "GROUND FLOOR PLAN", fontsize=12)
    page.set_rotation(rotate)
    truth = None if kind == "none" else mpu
    return ScalePage(seed, kind, style, ratio, rotate, doc.tobytes(), truth)


# Graphic scale bars (``documents.scale_bar``): pages from their own seeds, drawn upright.
BAR_KINDS = ("bar", "bar+note", "bar+printed note", "bar+note apart", "bar+nts", "bar+dims",
             "no bar")  # fmt: skip
METRIC_BARS = ((0, 1, 2, 5), (0, 1, 2, 3, 4, 5), (0, 5, 10, 20), (0, 2, 4, 6, 8, 10),
               (0, 10, 20, 50), (0, 0.5, 1, 2))  # fmt: skip
IMPERIAL_BARS = ((0, 4, 8, 16), (0, 8, 16, 32), (0, 10, 20, 40), (0, 2, 4, 8))
UNIT_STYLES = ("after", "attached", "title", "none")


@dataclass(frozen=True)
class BarPage:
    seed: int
    kind: str
    style: str  # "blocks" or "ticks"
    unit: str  # "m" or "ft", and how it is written: "m after"
    ratio: float  # the bar's
    pdf: bytes
    truth: float | None  # the page's metres per point
    region: float | None  # a second view's metres per point (its own region), if any
    warns: bool  # the page must carry a warning

    @property
    def name(self) -> str:
        return f"bar seed {self.seed} {self.kind}, {self.style}, {self.unit}, 1:{self.ratio:g}"


def _bar_values(
    rng: random.Random, mpu: float, per_unit: float, imperial: bool
) -> tuple[float, ...]:
    """A bar's labels whose length at ``mpu`` is 60..320 pt (the first that fits)."""
    options = list(IMPERIAL_BARS if imperial else METRIC_BARS)
    rng.shuffle(options)
    for values in options:
        if 60 <= values[-1] * per_unit / mpu <= 320:
            return values
    return min(options, key=lambda v: abs(v[-1] * per_unit / mpu - 150))


def draw_bar(page: pymupdf.Page, x: float, y: float, mpu: float, rng: random.Random,
             imperial: bool, style: str, unit_style: str) -> pymupdf.Rect:  # fmt: skip
    """A scale bar whose zero is at (x, y); its box."""
    per_unit = 0.3048 if imperial else 1.0
    values = _bar_values(rng, mpu, per_unit, imperial)
    stops = [x + v * per_unit / mpu for v in values]
    size = rng.choice((6.0, 7.0, 8.0))
    if style == "blocks":
        for k, (a, b) in enumerate(zip(stops, stops[1:], strict=False)):
            fill = (0, 0, 0) if k % 2 == 0 else None
            page.draw_rect(pymupdf.Rect(a, y - 4, b, y), color=(0, 0, 0), fill=fill, width=0.4)
        label_y = y + size + 1.5
    else:
        page.draw_line((stops[0], y), (stops[-1], y), width=0.5)
        for s in stops:
            page.draw_line((s, y), (s, y - 5), width=0.5)
        minor = (stops[1] - stops[0]) / 4  # unlabelled minor ticks in the first division
        for k in (1, 2, 3):
            page.draw_line((stops[0] + k * minor, y), (stops[0] + k * minor, y - 2.5), width=0.3)
        label_y = y - 6.5
    if imperial:
        word = "FEET" if rng.random() < 0.5 else "ft"
    else:
        word = rng.choice(("m", "M", "METRES"))
    texts = [f"{v:g}" for v in values]
    if unit_style == "attached":
        texts[-1] += "'" if imperial else "m"
    writer = pymupdf.TextWriter(page.rect)
    for s, text in zip(stops, texts, strict=True):
        w = pymupdf.get_text_length(text, fontsize=size)
        shift = w / 2 if not text.endswith(("m", "'")) else pymupdf.get_text_length(
            text[:-1], fontsize=size) / 2  # fmt: skip
        writer.append((s - shift, label_y), text, fontsize=size)
    if unit_style == "after":
        last = pymupdf.get_text_length(texts[-1], fontsize=size) / 2
        writer.append((stops[-1] + last + 0.6 * size, label_y), word, fontsize=size)
    elif unit_style == "title":
        title = ("GRAPHIC SCALE IN " if rng.random() < 0.5 else "SCALE - ") + word.upper()
        writer.append((stops[0], y - 8 - size * (2.2 if style == "ticks" else 1)), title,
                      fontsize=size)  # fmt: skip
    writer.write_text(page)
    return pymupdf.Rect(stops[0] - 10, y - 20, stops[-1] + 30, y + 12)


def bar_page(seed: int) -> BarPage:
    """A page with a scale bar (or, for "no bar", numbers that only look like one's)."""
    rng = random.Random(seed)
    kind = BAR_KINDS[seed % len(BAR_KINDS)]
    imperial = rng.random() < 0.35
    style = rng.choice(("blocks", "ticks"))
    unit_style = rng.choice(UNIT_STYLES[:3] if imperial else UNIT_STYLES)
    ratio = float(rng.choice(tuple(IMPERIAL)) if imperial else rng.choice(RATIOS))
    width, height = rng.choice(SIZES[:3])
    doc = pymupdf.open()
    page = doc.new_page(width=width, height=height)
    mpu = ratio * POINT_M
    plan = pymupdf.Rect(60, 60, width * 0.6, height * 0.7)
    note_at = pymupdf.Point(width * 0.1, height - 60)
    bar_at = pymupdf.Point(width * 0.1, height - 80)
    truth: float | None = mpu
    region, warns = None, False
    if kind == "bar+dims":
        _view(page, rng, plan, mpu, rng.choice(("m", "mm", "cm")), 4)
    else:
        page.draw_rect(plan, width=2)
        _distractors(page, rng, plan, 8)
    # grid bubbles: 1 2 3 4 ... at equal spacing with long grid lines (no bar)
    for k in range(1, 6):
        gx = plan.x0 + k * plan.width / 6
        page.draw_line((gx, plan.y0 - 30), (gx, plan.y1), width=0.3)
        page.draw_circle((gx, plan.y0 - 40), 8, width=0.4)
        page.insert_text((gx - 2.5, plan.y0 - 37.5), f"{k}", fontsize=8)
    if kind != "no bar":
        draw_bar(page, bar_at.x, bar_at.y, mpu, rng, imperial, style, unit_style)
    else:
        truth = None  # a row of numbers from 0 that no bar stands on (a table's header)
        for k, v in enumerate((0, 10, 20, 30, 40)):
            page.insert_text((bar_at.x + 40 * k, bar_at.y), f"{v}", fontsize=8)
    note = IMPERIAL.get(int(ratio), f"1:{ratio:g}")
    if kind == "bar+note":
        page.insert_text(note_at, f"SCALE {note}", fontsize=9)
    elif kind == "bar+printed note":
        # drawn at half this scale, printed at twice the size: the note is stale, the bar true
        page.insert_text(note_at, f"SCALE 1:{ratio / 2:g}", fontsize=9)
        warns = True
    elif kind == "bar+nts":
        page.insert_text((width * 0.7, height * 0.5), "DETAIL 3  NOT TO SCALE", fontsize=9)
        warns = True
    elif kind == "bar+note apart":
        # the main plan's note far from the bar; the bar belongs to a detail at another scale
        main = ratio * 2
        page.insert_text((width * 0.65, 80), f"GROUND FLOOR PLAN  SCALE 1:{main:g}", fontsize=10)
        truth, region, warns = main * POINT_M, mpu, True
    page.insert_text((width - 260, height - 50), "GROUND FLOOR PLAN", fontsize=12)
    unit = ("ft " if imperial else "m ") + unit_style
    return BarPage(seed, kind, style, unit, ratio, doc.tobytes(), truth, region, warns)
