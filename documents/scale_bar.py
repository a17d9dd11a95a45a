"""Graphic scale bars: a bar of alternating blocks, or a ticked line, with numbers beneath
or above ("0 1 2 5 m", "0 4 8 16 FEET"); the numbers stand at the ticks and grow linearly.

``scale_bars(page, lines)`` gives each bar found as a ``Bar``: metres per point, its box,
the values and the ticks they stand at. A bar is believed only when everything agrees:

1. a row of three or more numbers on one baseline, increasing left to right from 0
   (grid labels "1 2 3 4" and column numbers start elsewhere);
2. a drawn stop (a short vertical stroke or a block's edge) under or over each number,
   within half the number's width of its centre, in a band a few text heights deep;
3. the stops linear in the values (within 0.5 % of the bar's length, or 0.4 pt);
4. a horizontal line or blocks running from the first stop to the last in that band.

The unit is the one written on a number ("5m", "16'"), after the last one ("0 1 2 5 m",
"FEET"), or on a line close to the bar ("SCALE IN METRES", "GRAPHIC SCALE (FEET)"); with
none, metres are assumed and the bar's confidence drops. Only bars that read left to right
as displayed are found (not one turned on its side).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from documents.dimensions import Box, TextLine
from documents.drawings import page_cdrawings, straight_edges, to_display, white
from documents.scale import MAX_RATIO, POINT_M

Array = NDArray[np.float64]
MIN_NUMBERS = 3  # a bar is labelled at three stops at least
ROW_DY = 0.35  # numbers on one baseline: centres within this many text heights
ROW_GAP = 12.0  # and no wider apart (in text heights) than this, or 2.5 times the last gap
BAND = 4.0  # the bar lies within this many text heights above or below its numbers
NEAR_TEXT = 6.0  # a unit word counts within this many text heights of the bar
FIT_FRAC = 0.005  # stops linear in the values within this share of the bar's length
FIT_PT = 0.4  # or this many points
COVER = 0.9  # the bar's body covers this share of its length
CONFIDENCE = {True: 0.9, False: 0.6}  # the unit written, or assumed (metres)

_NUMBER = re.compile(r"(\d{1,5}(?:[.,]\d{1,3})?)([a-zA-Z'’′]*)")
_UNITS = {
    "m": 1.0, "metre": 1.0, "metres": 1.0, "meter": 1.0, "meters": 1.0, "mts": 1.0,
    "mm": 0.001, "cm": 0.01, "km": 1000.0,
    "ft": 0.3048, "feet": 0.3048, "foot": 0.3048, "'": 0.3048, "’": 0.3048, "′": 0.3048,
    "inch": 0.0254, "inches": 0.0254, "yd": 0.9144, "yards": 0.9144,
}  # fmt: skip


@dataclass(frozen=True)
class Number:
    value: float
    box: Box
    unit: str | None  # written on the number ("5m", "16'")

    @property
    def x(self) -> float:
        return (self.box[0] + self.box[2]) / 2

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]


@dataclass(frozen=True)
class Bar:
    """A scale bar: metres per point, box, the numbers' values and the stops' x."""

    metres_per_unit: float
    box: Box
    values: tuple[float, ...]
    stops: tuple[float, ...]
    unit: str  # as written ("m", "FEET"), or "m (assumed)"
    text: str
    confidence: float

    def evidence(self) -> dict[str, Any]:
        return {
            "kind": "scale_bar",
            "text": self.text,
            "unit": self.unit,
            "bbox": [round(v, 1) for v in self.box],
            "values": list(self.values),
            "stops": [round(v, 2) for v in self.stops],
            "length": round(self.stops[-1] - self.stops[0], 2),
        }


def _numbers(lines: list[TextLine]) -> tuple[list[Number], list[tuple[str, Box]]]:
    """Every word that is a number (with a unit stuck to it or not), and every word."""
    numbers: list[Number] = []
    words: list[tuple[str, Box]] = []
    for line in lines:
        for start, end, box in line.spans:
            word = line.text[start:end]
            words.append((word, box))
            m = _NUMBER.fullmatch(word)
            if m and (not m[2] or m[2].lower() in _UNITS):
                numbers.append(Number(float(m[1].replace(",", ".")), box, m[2] or None))
    return numbers, words


def _rows(numbers: list[Number]) -> list[list[Number]]:
    """Runs of numbers on one baseline, left to right, close together, increasing from 0."""
    ordered = sorted(numbers, key=lambda n: ((n.box[1] + n.box[3]) / 2, n.x))
    rows: list[list[Number]] = []
    for n in ordered:
        mid = (n.box[1] + n.box[3]) / 2
        for row in rows[-8:]:  # rows are made in order of height: only recent ones match
            last = row[0]
            if abs(mid - (last.box[1] + last.box[3]) / 2) <= ROW_DY * last.height and (
                abs(n.height / max(last.height, 1e-9) - 1) <= 0.3
            ):
                row.append(n)
                break
        else:
            rows.append([n])
    runs: list[list[Number]] = []
    for row in rows:
        row.sort(key=lambda n: n.x)
        run: list[Number] = []
        following: list[Number | None] = [*row, None]
        for item in following:
            widest = ROW_GAP * item.height if item is not None else 0.0
            if len(run) >= 2:  # "0 1 2 5": the last division is wider than the others
                widest = max(widest, 2.5 * (run[-1].x - run[-2].x))
            if item is not None and run and item.value > run[-1].value:
                if item.box[0] - run[-1].box[2] <= widest:
                    run.append(item)
                    continue
            start = next((k for k, m in enumerate(run) if m.value == 0), None)
            if start is not None and len(run) - start >= MIN_NUMBERS:
                runs.append(run[start:])
            run = [] if item is None else [item]
    return runs


@dataclass
class _Strokes:
    """The page's vertical features (x, y0, y1) sorted by x, horizontal ones (y, x0, x1)
    sorted by y: strokes and the edges of filled or outlined shapes, as displayed."""

    vertical: Array
    horizontal: Array


def _strokes(page: Any) -> _Strokes:
    rows: list[tuple[float, float, float, float]] = []
    for path in page_cdrawings(page):
        if path.get("dashes") not in (None, "[] 0", "[] 0.0"):
            continue
        fill, color = path.get("fill"), path.get("color")
        if (fill is None or white(fill)) and (color is None or white(color)):
            continue
        rows += straight_edges(path["items"])
    raw = np.array(rows, dtype=float).reshape(-1, 4)
    segs = np.concatenate([to_display(raw[:, :2], page), to_display(raw[:, 2:], page)], 1)
    dx, dy = np.abs(segs[:, 2] - segs[:, 0]), np.abs(segs[:, 3] - segs[:, 1])
    up, flat = (dx <= 0.02 * dy) & (dy > 0), (dy <= 0.02 * dx) & (dx > 0)
    v = segs[up]
    vertical = np.stack([(v[:, 0] + v[:, 2]) / 2, np.minimum(v[:, 1], v[:, 3]),
                         np.maximum(v[:, 1], v[:, 3])], 1)  # fmt: skip
    h = segs[flat]
    horizontal = np.stack([(h[:, 1] + h[:, 3]) / 2, np.minimum(h[:, 0], h[:, 2]),
                           np.maximum(h[:, 0], h[:, 2])], 1)  # fmt: skip
    return _Strokes(
        vertical[np.argsort(vertical[:, 0], kind="stable")],
        horizontal[np.argsort(horizontal[:, 0], kind="stable")],
    )


def _stops(strokes: _Strokes, run: list[Number], band: tuple[float, float]) -> Array | None:
    """Under (or over) each number, the drawn stop nearest its centre (x, y0, y1): a
    vertical stroke or edge lying within the band. None when a number has none."""
    v = strokes.vertical
    stops: list[Array] = []
    for n in run:
        reach = (n.box[2] - n.box[0]) / 2 + 0.3 * n.height
        a, b = np.searchsorted(v[:, 0], n.x - reach), np.searchsorted(v[:, 0], n.x + reach, "right")
        near = v[a:b]
        slack = 0.3 * n.height  # a tick may reach into the numbers' box (descenders)
        near = near[(near[:, 1] >= band[0] - slack) & (near[:, 2] <= band[1] + slack)]
        if not len(near):
            return None
        stops.append(near[np.argmin(np.abs(near[:, 0] - n.x))])
    return np.array(stops)


def _body(strokes: _Strokes, band: tuple[float, float], x0: float, x1: float) -> bool:
    """A horizontal line or blocks in the band covering the stretch x0..x1."""
    h = strokes.horizontal
    a, b = np.searchsorted(h[:, 0], band[0] - 0.5), np.searchsorted(h[:, 0], band[1] + 0.5, "right")
    pieces = sorted((max(lo, x0), min(hi, x1)) for _, lo, hi in h[a:b] if hi > x0 and lo < x1)
    covered, end = 0.0, x0
    for lo, hi in pieces:
        if hi > end:
            covered += hi - max(lo, end)
            end = hi
    return covered >= COVER * (x1 - x0)


def _fits(values: list[float], stops: list[float]) -> float | None:
    """Points per unit of value when the stops are linear in the values, else None."""
    slope, offset = np.polyfit(values, stops, 1)
    error = np.abs(np.polyval([slope, offset], values) - stops).max()
    length = stops[-1] - stops[0]
    if slope <= 0 or error > max(FIT_PT, FIT_FRAC * length):
        return None
    return float(slope)


def _unit(run: list[Number], words: list[tuple[str, Box]], box: Box) -> tuple[str, float] | None:
    """The bar's unit: on a number, the word after the last one, or a word near the bar."""
    for n in reversed(run):
        if n.unit:
            return n.unit, _UNITS[n.unit.lower()]
    h = run[-1].height
    last = run[-1]
    reach = NEAR_TEXT * h
    near = []
    for word, b in words:
        if b[0] > box[2] + reach or b[2] < box[0] - reach:
            continue
        if b[1] > box[3] + reach or b[3] < box[1] - reach:
            continue
        unit = word.strip("()[].,:;").lower()
        if unit not in _UNITS:
            continue
        after = abs((b[1] + b[3]) / 2 - (last.box[1] + last.box[3]) / 2) <= ROW_DY * h
        after &= 0 <= b[0] - last.box[2] <= 3 * h
        near.append((not after, math.dist(b[:2], box[:2]), word.strip("()[].,:;")))
    if not near:
        return None
    word = min(near)[2]
    return word, _UNITS[word.lower()]


def scale_bars(page: Any, lines: list[TextLine]) -> list[Bar]:
    """The page's scale bars (see the module docstring), largest first."""
    numbers, words = _numbers(lines)
    runs = _rows(numbers)
    if not runs:
        return []  # most pages: no drawing is read at all
    strokes = _strokes(page)
    bars: list[Bar] = []
    for run in runs:
        h = max(n.height for n in run)
        top, bottom = min(n.box[1] for n in run), max(n.box[3] for n in run)
        for band in ((top - BAND * h, top), (bottom, bottom + BAND * h)):
            found = _bar(strokes, run, band, words)
            if found is not None:
                bars.append(found)
                break
    return sorted(bars, key=lambda b: -(b.stops[-1] - b.stops[0]))


def _bar(
    strokes: _Strokes, run: list[Number], band: tuple[float, float], words: list[tuple[str, Box]]
) -> Bar | None:
    found = _stops(strokes, run, band)
    if found is None or len(np.unique(found[:, 0])) < len(found):
        return None
    stops = [float(x) for x in found[:, 0]]
    values = [n.value for n in run]
    slope = _fits(values, stops)
    if slope is None or not _body(strokes, band, stops[0], stops[-1]):
        return None
    box = (
        min(stops[0], run[0].box[0]),
        min(float(found[:, 1].min()), *(n.box[1] for n in run)),
        max(stops[-1], run[-1].box[2]),
        max(float(found[:, 2].max()), *(n.box[3] for n in run)),
    )
    unit = _unit(run, words, box)
    name, metres = unit if unit is not None else ("m (assumed)", 1.0)
    mpu = metres / slope
    if not POINT_M <= mpu <= MAX_RATIO * POINT_M:
        return None
    text = " ".join(f"{v:g}" for v in values) + ("" if unit is None else f" {name}")
    return Bar(mpu, box, tuple(values), tuple(stops), name, text, CONFIDENCE[unit is not None])
