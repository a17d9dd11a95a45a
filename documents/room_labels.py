"""A room's label from the words printed inside it: its name ("LIVING ROOM") and number.

Words are the page's text layer as ``(text, (x0, y0, x1, y1))`` in the walls' frame (the
page as displayed). A word like "101", "B-12" or "G01" is a room number; measurements
(dimension strings "3.96 m", "12'-6\"", bare decimals "1.00", areas "12.5 m²" and their
unit words) are neither number nor name; any other word with a letter is part of the name.
"""

from __future__ import annotations

import re

Box = tuple[float, float, float, float]
Word = tuple[str, Box]

# Letters then digits ("B-12", "G01", "R.101") or digits with one trailing letter ("1A").
_NUMBER = re.compile(r"(?:[A-Z]{1,3}[-.]?)?\d{1,4}[A-Z]?", re.IGNORECASE)
# Measurements: digits with . , / ' " marks (3.96, 12'-6", 1/2"; one character class after
# the first mark, so a long run of marks cannot make matching exponential), a number with a unit
# (3.96m, 450mm, 12.5m², 120sf), or a unit on its own (the "m" after "3.96").
_MEASURE = re.compile(
    r"[(\[]?[+±-]?(?:\d+[.,/'’′\"”″ -][\d.,/'’′\"”″ -]*|\d+['’′\"”″])[)\]]?"
    r"|[(\[]?\d+(?:[.,]\d+)?\s?(?:mm|cm|m|m2|m²|sq\.?\s?m|ft|ft2|ft²|sf|sq\.?\s?ft)[)\]]?"
    r"|(?:mm|cm|m|m2|m²|ft|ft2|ft²|sf|sq|sq\.|sq\.ft|sqft)",
    re.IGNORECASE,
)
_LETTER = re.compile(r"[^\W\d_]")


def word_role(text: str) -> str | None:
    """ "number", "name" or None (a measurement, a unit or punctuation) for one word."""
    word = text.strip()
    if not word or _MEASURE.fullmatch(word):
        return None
    if _NUMBER.fullmatch(word) and any(c.isdigit() for c in word):
        return "number"
    return "name" if _LETTER.search(word) else None


def label(words: list[Word]) -> tuple[str | None, str | None]:
    """The room's name and number from the words inside it.

    Words make lines (same height, a word's height apart at most) and lines make labels
    (stacked, overlapping, less than a line apart). A number right after a name word on its
    line belongs to the name ("Bedroom 2"); the first other number is the room's number.
    Several labels (an open plan's "Kitchen", "Living Room") are joined with " / ";
    one-letter labels and lines (grid and instrument marks) only count when there is
    nothing else.
    """
    kept = [(text.strip(), box) for text, box in words if word_role(text) is not None]
    names: list[str] = []
    numbers: list[str] = []
    for block in _labels(_lines(kept)):
        parts: list[str] = []
        # A one-letter line stacked on a label is a mark beside it ("C" over "Bedroom 2").
        marks = [line for line in block if len(line) == 1 and len(line[0][0]) == 1]
        for line in [line for line in block if line not in marks] or block:
            previous: str | None = None
            for text, _ in line:
                role = word_role(text)
                if role == "name" or previous == "name":
                    parts.append(text)
                else:
                    numbers.append(text)
                previous = role
        if parts:
            names.append(" ".join(parts))
    longer = [n for n in names if len(n) > 1]
    return " / ".join(longer or names) or None, (numbers[0] if numbers else None)


def _lines(words: list[Word]) -> list[list[Word]]:
    """Words on one line (centres within half a word's height, gaps under 1.5 heights),
    each line left to right, lines top to bottom."""
    lines: list[list[Word]] = []
    for word in sorted(words, key=lambda w: w[1][0]):
        _, (x0, y0, _, y1) = word
        centre, height = (y0 + y1) / 2, max(y1 - y0, 1e-9)
        for line in lines:
            _, (_, ly0, lx1, ly1) = line[-1]
            same_row = abs((ly0 + ly1) / 2 - centre) <= height / 2
            if same_row and x0 - lx1 <= 1.5 * height:
                line.append(word)
                break
        else:
            lines.append([word])
    return sorted(lines, key=lambda line: (_box(line)[1], _box(line)[0]))


def _labels(lines: list[list[Word]]) -> list[list[list[Word]]]:
    """Lines stacked into labels: overlapping across, less than a line's height apart."""
    labels: list[list[list[Word]]] = []
    for line in lines:
        x0, y0, x1, y1 = _box(line)
        for block in labels:
            bx0, _, bx1, by1 = _box(block[-1])
            if x0 < bx1 and bx0 < x1 and y0 - by1 < (y1 - y0):
                block.append(line)
                break
        else:
            labels.append([line])
    return labels


def _box(words: list[Word]) -> Box:
    return (
        min(b[0] for _, b in words),
        min(b[1] for _, b in words),
        max(b[2] for _, b in words),
        max(b[3] for _, b in words),
    )
