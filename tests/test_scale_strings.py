"""Dimension strings and scale notes read from text lines (``documents.dimensions``)."""

from __future__ import annotations

import pytest

from documents.dimensions import TextLine, dimension_strings
from documents.scale import POINT_M, scale_from_text


def line(text: str) -> TextLine:
    """A text line whose words sit side by side, 6 pt per character."""
    spans, start = [], 0
    for word in text.split(" "):
        end = start + len(word)
        spans.append((start, end, (6.0 * start, 0.0, 6.0 * end, 10.0)))
        start = end + 1
    return TextLine(text, tuple(spans))


def read(text: str) -> list[tuple[str, tuple[float, ...]]]:
    return [(dim.text, dim.values) for dim in dimension_strings([line(text)])]


@pytest.mark.parametrize(
    ("text", "metres"),
    [
        ("12.2 m", 12.2),
        ("3.96m", 3.96),
        ("0,85 m", 0.85),
        ("3960 mm", 3.96),
        ("396 cm", 3.96),
        ("3.96", 3.96),  # a number alone on its line: metres
        ("12'-6\"", 12.5 * 0.3048),
        ("12' 6 1/2\"", (12 * 12 + 6.5) * 0.0254),
        ("12'6\"", 12.5 * 0.3048),
        ("0'-6\"", 0.1524),
        ("12’-6”", 12.5 * 0.3048),  # typographic quotes
        ("20'", 20 * 0.3048),
    ],
)
def test_dimension_strings(text: str, metres: float) -> None:
    ((_, values),) = read(text)
    assert values[0] == pytest.approx(metres)


def test_a_bare_integer_is_millimetres_or_centimetres() -> None:
    assert read("3960") == [("3960", (3.96, 39.6))]


def test_a_chain_on_one_line_gives_each_string_its_own_box() -> None:
    dims = dimension_strings([line("0.85 m 1.07 m")])
    assert [d.values for d in dims] == [(0.85,), (1.07,)]
    assert dims[0].box == (0.0, 0.0, 36.0, 10.0) and dims[1].box == (42.0, 0.0, 78.0, 10.0)


@pytest.mark.parametrize(
    "text",
    [
        "LIVING 12.5 m²",  # areas
        "12.5 m2",
        "3 m/s",
        "+3.20",  # levels
        "EL. 3.20 m",
        "h = 2.50 m",
        "Level 2.80 m",
        "2024-05-12",  # dates, sheet and room numbers
        "12.05.2023",
        "A-101",
        "ROOM 101",
        "SCALE 1:100",  # notes are no dimensions
        'SCALE: 1/4" = 1\'-0"',
        "1 cm = 1 m",
        "NTS",
        "5'-1/0\"",  # a fraction over zero (it divided by zero: the ingest failed)
        "12' 6 1/0\"",
    ],
)
def test_not_dimensions(text: str) -> None:
    assert read(text) == []


def test_rounding_says_how_precise_a_string_is() -> None:
    (coarse,) = dimension_strings([line("0.3 m")])
    (fine,) = dimension_strings([line("3.960 m")])
    assert coarse.rounding == pytest.approx(0.05 / 0.3)
    assert fine.rounding == pytest.approx(0.0005 / 3.96)


@pytest.mark.parametrize(
    ("lines", "ratio"),
    [
        (["1:100"], 100),
        (['1/4" = 1\'-0"'], 48),
        (['SCALE: 1/8"=1\'-0"'], 96),
        (["PLAN", "SCALE 1:50"], 50),
    ],
)
def test_scale_notes(lines: list[str], ratio: float) -> None:
    assert scale_from_text(lines) == pytest.approx(ratio * POINT_M)


@pytest.mark.parametrize("lines", [["NTS"], ["N.T.S."], ["SCALE: NOT TO SCALE", "1:100"]])
def test_not_to_scale_gives_no_note_scale(lines: list[str]) -> None:
    assert scale_from_text(lines) is None
