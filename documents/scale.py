"""Drawing scale from text: "1:100", "SCALE 1/50", '1/4" = 1\'-0"', "1 cm = 1 m".

Every scale is returned as metres of the real building per PDF point on paper
(a point is 1/72 inch = 0.0254/72 m), so 1:100 gives 0.0254 / 72 * 100.
"""

from __future__ import annotations

import re
from collections import Counter
from fractions import Fraction

POINT_M = 0.0254 / 72  # one PDF point on paper, in metres
# A scale given as a number is metres per page unit (point or pixel). 1:10000 is 3.5 m per
# point (7 m per pixel of a 36 dpi scan); 10 is beyond any drawing, and refuses a ratio
# written as a bare number (scale=100 meant as 1:100 would be 100 m per point).
MAX_METRES_PER_UNIT = 10.0
# Plausible drawing ratios: 1:1 (full size details) to 1:10000 (site plans).
MAX_RATIO = 10_000
# A bare "1:N" with no "scale" word beside it is only believed for N >= this, so that
# times ("1:30") and aspect ratios ("1:2") in title blocks are not taken for scales.
MIN_BARE_RATIO = 5

_KEYWORD = r"(?:scale|échelle|echelle|maßstab|massstab|schaal|escala|scala)"
_NUMBER = r"\d+(?:[.,]\d+)?"
# "1:100", "1 : 50", "1/100", "1=100"; not part of a longer number or a date/time.
_RATIO = rf"(?<![\d.,:/])1\s*(?::|/)\s*({_NUMBER})(?![\d:/]|\s\d{{3}}\b|\s*(?:\"|”|''|in\b|inch))"
_KEYWORD_RATIO = re.compile(rf"{_KEYWORD}\s*[:=]?\s*{_RATIO}", re.IGNORECASE)
_BARE_RATIO = re.compile(
    rf"(?<![\d.,:/])1\s*:\s*({_NUMBER})(?![\d:/]|[.,]\d|\s\d{{3}}\b|\s*(?:am|pm)\b)", re.I
)
_INCH = r"(?:\"|”|''|in\.?|inch(?:es)?)"
_FOOT = r"(?:'|’|ft\.?|foot|feet)"
# '1/4" = 1'-0"', '3/16" = 1\'', '1" = 20\'', '1 1/2" = 1\'-0"'.
_IMPERIAL = re.compile(
    rf"(\d+\s+\d+/\d+|\d+/\d+|\d+(?:\.\d+)?)\s*{_INCH}\s*=\s*(\d+(?:\.\d+)?)\s*{_FOOT}"
    rf"(?:\s*-?\s*(\d+(?:/\d+)?|\d+\s+\d+/\d+)\s*{_INCH})?",
    re.IGNORECASE,
)
_METRIC_UNITS = {"mm": 0.001, "cm": 0.01, "m": 1.0}
# "1 cm = 1 m", "1cm=2.5m": paper length = real length.
_METRIC = re.compile(rf"({_NUMBER})\s*(mm|cm|m)\s*=\s*({_NUMBER})\s*(mm|cm|m)\b", re.IGNORECASE)
# A plain decimal number, as a query string sends one ("0.01", "1e-3"; not "nan", "inf").
_PLAIN_NUMBER = re.compile(r"\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*")
_NOT_TO_SCALE = re.compile(r"\bnot\s+to\s+scale\b|\bN\.?T\.?S\.?(?!\w)", re.IGNORECASE)
NOT_TO_SCALE = _NOT_TO_SCALE
KEYWORD = re.compile(_KEYWORD, re.IGNORECASE)
# Everything a scale note may say, so that its numbers are not read as dimensions.
NOTE_PATTERNS = (_IMPERIAL, _METRIC, _KEYWORD_RATIO, _BARE_RATIO, _NOT_TO_SCALE)


def _number(text: str) -> float:
    """'1/4', '1 1/2', '2.5', '2,5' -> float."""
    total = Fraction(0)
    try:
        for part in text.replace(",", ".").split():
            total += Fraction(part)
    except ZeroDivisionError:
        # msgspec turns ValueError into a 400; a bare ZeroDivisionError would be a 500.
        raise ValueError(f"{text!r} divides by zero") from None
    return float(total)


def _ratio_scale(denominator: str) -> float | None:
    ratio = _number(denominator)
    return ratio * POINT_M if 1 <= ratio <= MAX_RATIO else None


def _imperial_scale(match: re.Match[str]) -> float | None:
    paper_in = _number(match[1])
    real_in = _number(match[2]) * 12 + (_number(match[3]) if match[3] else 0)
    if paper_in <= 0 or real_in <= 0:
        return None
    return _bounded(real_in / paper_in)


def _metric_scale(match: re.Match[str]) -> float | None:
    paper = _number(match[1]) * _METRIC_UNITS[match[2].lower()]
    real = _number(match[3]) * _METRIC_UNITS[match[4].lower()]
    if paper <= 0 or real <= 0:
        return None
    return _bounded(real / paper)


def _bounded(ratio: float) -> float | None:
    return ratio * POINT_M if 1 <= ratio <= MAX_RATIO else None


def scale_from_text(lines: list[str]) -> float | None:
    """Metres per PDF point from a drawing's text lines, or None when none is stated.

    A scale next to a "scale" word wins; otherwise imperial and metric equations and bare
    "1:N" ratios are counted and the most frequent one wins (the main plan's scale is
    usually repeated in title block and view labels). "NOT TO SCALE" / "NTS" gives None.
    """
    text = "\n".join(lines)
    if _NOT_TO_SCALE.search(text):
        return None
    found: Counter[float] = Counter()
    for match in _KEYWORD_RATIO.finditer(text):
        if (value := _ratio_scale(match[1])) is not None:
            found[value] += 1
    if not found:
        for match in _IMPERIAL.finditer(text):
            if (value := _imperial_scale(match)) is not None:
                found[value] += 1
        for match in _METRIC.finditer(text):
            if (value := _metric_scale(match)) is not None:
                found[value] += 1
        for match in _BARE_RATIO.finditer(text):
            if _number(match[1]) >= MIN_BARE_RATIO and (value := _ratio_scale(match[1])):
                found[value] += 1
    if not found:
        return None
    return found.most_common(1)[0][0]


def parse_scale(text: str) -> float:
    """One scale given as a parameter ("1:100", "1/100", '1/4" = 1\'-0"'): metres per point."""
    match = re.fullmatch(rf"\s*1\s*(?::|/)\s*({_NUMBER})\s*", text)
    value = _ratio_scale(match[1]) if match else scale_from_text([text])
    if value is None:
        raise ValueError(f"cannot read a drawing scale from {text!r}; use e.g. '1:100'")
    return value


def scale_parameter(value: str | float) -> str | float:
    """The ``scale`` parameter, checked: a "1:100" style text stays text (``parse_scale``
    reads it); a number, or text that is one as every query string value is, is metres per
    page unit and comes back a float. ValueError when it is neither, or not in
    (0, MAX_METRES_PER_UNIT].
    """
    if isinstance(value, str):
        if not _PLAIN_NUMBER.fullmatch(value):
            parse_scale(value)
            return value
        value = float(value)
    if not 0 < value <= MAX_METRES_PER_UNIT:
        raise ValueError(
            f"scale as a number is metres per page unit, > 0 and <= {MAX_METRES_PER_UNIT:g}, "
            f"not {value:g}; or give a ratio such as '1:100'"
        )
    return float(value)
