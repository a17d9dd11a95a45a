"""Dimension strings ("12.2 m", "3960", `12'-6"`) read from a page's text lines.

A drawing's dimensions are its truest scale: each string paired with the line it measures
gives metres per point. This module only reads the strings; ``documents.dimlines`` pairs
them with lines and takes the consensus.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from documents.drawings import to_display
from documents.scale import NOTE_PATTERNS

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 as displayed


@dataclass(frozen=True)
class TextLine:
    """One line of the text layer: its words' character spans and boxes (as displayed)."""

    text: str
    spans: tuple[tuple[int, int, Box], ...]

    def box(self, start: int, end: int) -> Box:
        """The union of the boxes of the words that characters start..end touch."""
        boxes = [b for s, e, b in self.spans if s < end and e > start]
        return (
            min(b[0] for b in boxes),
            min(b[1] for b in boxes),
            max(b[2] for b in boxes),
            max(b[3] for b in boxes),
        )

    @property
    def bbox(self) -> Box:
        return self.box(0, len(self.text))


@dataclass(frozen=True)
class DimText:
    """A dimension string: its value in metres (one per unit reading), text and box."""

    values: tuple[float, ...]
    text: str
    box: Box
    unit: bool  # the unit was written ("m", "mm", feet and inches), not guessed
    rounding: float  # relative error of the written value: half its last digit


def text_lines(page: Any, words: list[Any] | None = None) -> list[TextLine]:
    """The page's text lines from its words (``page.get_text("words")`` unless given, e.g.
    read from outlined lettering), boxes as displayed (rotation applied)."""
    grouped: dict[tuple[int, int], list[tuple[str, Box]]] = {}
    words = page.get_text("words") if words is None else words
    corners = to_display([(w[k], w[k + 1]) for w in words for k in (0, 2)], page)
    for n, (*_, word, block, line, _) in enumerate(words):
        (ax, ay), (bx, by) = corners[2 * n], corners[2 * n + 1]
        box = (float(min(ax, bx)), float(min(ay, by)), float(max(ax, bx)), float(max(ay, by)))
        grouped.setdefault((block, line), []).append((word, box))
    lines = []
    for words in grouped.values():
        text, spans = "", []
        for word, box in words:
            if text:
                text += " "
            spans.append((len(text), len(text) + len(word), box))
            text += word
        lines.append(TextLine(text, tuple(spans)))
    return lines


_NUM = r"\d{1,5}(?:[.,]\d{1,3})?"
_LEFT = r"(?<![\w.,/:+±=#-])"  # not part of a longer number, a level (+3.20), a code
_UNITS = {"mm": 0.001, "cm": 0.01, "m": 1.0}
# "12.2 m", "3960mm", "0,85 m": not areas (m², m2), volumes or speeds (m/s).
_WITH_UNIT = re.compile(rf"{_LEFT}({_NUM})(?![.,]\d)\s?(mm|cm|m)(?![\w²³^/])", re.IGNORECASE)
# A number alone: "3.96" (metres) or "3960" (millimetres, or centimetres). Only believed
# on a line of nothing but such numbers (a chain), so room numbers beside a name, dates
# and sheet numbers are not dimensions.
_BARE = re.compile(r"(?<![\w.,/:+±=#'’-])(\d{1,3}[.,]\d{1,3}|\d{2,5})(?![\w.,/:'’\"”%°²-])")
_BARE_LINE = re.compile(r"[\s\d.,]+")
_FT = r"['’′]"
_IN = r"(?:[\"”″]|'')"
# 12'-6", 12' 6 1/2", 12'6", 12'-0 3/4", 0'-6", 12'.
_FEET_INCHES = re.compile(
    rf"(?<![\w.,/])(\d{{1,4}})\s*{_FT}(?:\s*-?\s*(\d{{1,2}}(?:\s+\d{{1,2}}/\d{{1,2}})?|\d{{1,2}}/\d{{1,2}})"
    rf"\s*{_IN})?(?![\w'’′\"”″])"
)
# Words before a number that make it a level, a height or a size, not a length.
_NOT_LENGTH = re.compile(
    r"\b(?:level|lvl|el\.?|elev\w*|niv\w*|ngf|ffl|sfl|fl|h|ht|height|hauteur|ø|dia\w*|r)"
    r"\s*[:=]?\s*$",
    re.IGNORECASE,
)


def _blank_notes(text: str) -> str:
    """The line with scale notes and "not to scale" blanked out (their '1/4"' and '1:100'
    are no dimensions), keeping every other character where it was."""
    for pattern in NOTE_PATTERNS:
        text = pattern.sub(lambda m: " " * len(m[0]), text)
    return text


def _rounding(number: str) -> float:
    """Half the last written digit, relative to the number: "0.10" is 0.10 +- 5 %."""
    decimals = len(re.split(r"[.,]", number)[1]) if re.search(r"[.,]", number) else 0
    return 0.5 * 10.0**-decimals / max(_float(number), 1e-9)


def _float(number: str) -> float:
    return float(number.replace(",", "."))


def _inches(text: str | None) -> float:
    if not text:
        return 0.0
    total = 0.0
    for part in text.split():
        top, _, bottom = part.partition("/")
        if bottom and float(bottom) == 0:
            return math.nan  # 1/0": no length (the caller drops the string)
        total += float(top) / float(bottom) if bottom else float(top)
    return total


def dimension_strings(lines: list[TextLine]) -> list[DimText]:
    """The dimension strings on the page (see the module docstring), in reading order."""
    return [dim for line in lines for dim in _line_dimensions(line)]


def _line_dimensions(line: TextLine) -> list[DimText]:
    text = _blank_notes(line.text)
    taken = [False] * len(text)
    found: list[DimText] = []

    def add(m: re.Match[str], values: tuple[float, ...], unit: bool, rounding: float) -> None:
        if any(taken[m.start() : m.end()]) or _NOT_LENGTH.search(text[: m.start()]):
            return
        taken[m.start() : m.end()] = [True] * (m.end() - m.start())
        if all(v > 0 for v in values):
            box = line.box(m.start(), m.end())
            found.append(DimText(values, m[0].strip(), box, unit, rounding))

    for m in _FEET_INCHES.finditer(text):
        inches = int(m[1]) * 12 + _inches(m[2])
        half = 1 / 16 if m[2] and "/" in m[2] else 0.5
        add(m, (inches * 0.0254,), True, half / max(inches, 1e-9))
    for m in _WITH_UNIT.finditer(text):
        add(m, (_float(m[1]) * _UNITS[m[2].lower()],), True, _rounding(m[1]))
    if _BARE_LINE.fullmatch(text):
        for m in _BARE.finditer(text):
            number = m[1]
            if re.search(r"[.,]", number):
                add(m, (_float(number),), False, _rounding(number))
            elif len(number) >= 3:
                add(m, (int(number) * 0.001, int(number) * 0.01), False, _rounding(number))
    return found
