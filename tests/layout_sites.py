"""Synthetic sites for the layout tests: closed outlines of walls with doors and windows.

Walls run along the outline's edges (centre lines, metres), ``thickness`` thick; each
opening is given by its edge's index and its span along that edge, from the edge's start.
"""

from __future__ import annotations

import math
from typing import Any

Point = tuple[float, float]
# (edge index, kind, from, to): metres along the edge from its first point.
OpeningSpec = tuple[int, str, float, float]

RECTANGLE = [(0.0, 0.0), (15.0, 0.0), (15.0, 10.0), (0.0, 10.0)]
# A 15 x 10 m rectangle less a 6 x 5 m corner: 120 m2 within the centre lines.
L_SHAPE = [(0.0, 0.0), (9.0, 0.0), (9.0, 5.0), (15.0, 5.0), (15.0, 10.0), (0.0, 10.0)]


def wall_list(
    outline: list[Point], openings: list[OpeningSpec], thickness: float = 0.3
) -> dict[str, Any]:
    """A layout ``plan`` as a wall list in metres."""
    walls = []
    for a, b in zip(outline, outline[1:] + outline[:1], strict=True):
        walls.append({"x1": a[0], "y1": a[1], "x2": b[0], "y2": b[1], "thickness": thickness})
    spans = []
    for edge, kind, start, end in openings:
        wall = walls[edge]
        length = math.hypot(wall["x2"] - wall["x1"], wall["y2"] - wall["y1"])
        ux, uy = (wall["x2"] - wall["x1"]) / length, (wall["y2"] - wall["y1"]) / length
        spans.append({
            "kind": kind, "wall": edge,
            "x1": wall["x1"] + ux * start, "y1": wall["y1"] + uy * start,
            "x2": wall["x1"] + ux * end, "y2": wall["y1"] + uy * end,
            "width": end - start,
        })  # fmt: skip
    return {"walls": walls, "openings": spans, "units": "m"}


def windows_along(
    edge: int, length: float, every: float = 3.0, width: float = 1.2
) -> list[OpeningSpec]:
    """Windows ``width`` wide centred every ``every`` metres along an edge."""
    out: list[OpeningSpec] = []
    centre = every / 2
    while centre + width / 2 < length:
        out.append((edge, "window", centre - width / 2, centre + width / 2))
        centre += every
    return out
