"""A page's spatial graph as ingest returns it: walls, openings and rooms, in page units.

Walls come from the vector or raster path, openings from ``documents.openings`` and rooms
(with each wall's ``exterior`` flag) from ``documents.rooms``; this module puts them in
the result's shape. Lengths and areas in metres are added when the page's scale is known
(``length_m``, ``width_m``, ``area_m2``), never guessed without it.
"""

from __future__ import annotations

import math
from typing import Any

from documents.drawings import to_display
from documents.model import Opening, Room, Wall
from documents.rooms import find_rooms

Word = tuple[str, tuple[float, float, float, float]]  # text, box as displayed


def display_words(page: Any, words: list[Any]) -> list[Word]:
    """``(text, box)`` of words as ``page.get_text("words")`` gives them, as displayed."""
    if not words:
        return []
    corners = to_display([(w[k], w[k + 1]) for w in words for k in (0, 2)], page)
    out = []
    for n, word in enumerate(words):
        (ax, ay), (bx, by) = corners[2 * n], corners[2 * n + 1]
        out.append((str(word[4]), (min(ax, bx), min(ay, by), max(ax, bx), max(ay, by))))
    return out


def spatial_graph(
    walls: list[Wall],
    openings: list[Opening],
    words: list[Word],
    size: tuple[float, float],
    mpu: float | None,
) -> dict[str, Any]:
    """``walls``, ``openings`` and ``rooms`` of a page, as the ingest result has them."""
    rooms, walls = find_rooms(walls, openings, words, size, mpu)
    return {
        "walls": [_wall(w, mpu) for w in walls],
        "openings": [_opening(o, mpu) for o in openings],
        "rooms": [_room(r, mpu) for r in rooms],
    }


def _wall(w: Wall, mpu: float | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "x1": round(w.x1, 2),
        "y1": round(w.y1, 2),
        "x2": round(w.x2, 2),
        "y2": round(w.y2, 2),
        "thickness": round(w.thickness, 2),
        "exterior": w.exterior,
    }
    if mpu is not None:
        out["length_m"] = round(math.hypot(w.x2 - w.x1, w.y2 - w.y1) * mpu, 3)
    return out


def _opening(o: Opening, mpu: float | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": o.kind,
        "wall": o.wall,
        "x1": round(o.x1, 2),
        "y1": round(o.y1, 2),
        "x2": round(o.x2, 2),
        "y2": round(o.y2, 2),
        "width": round(o.width, 2),
    }
    if mpu is not None:
        out["width_m"] = round(o.width * mpu, 3)
    return out


def _room(r: Room, mpu: float | None) -> dict[str, Any]:
    return {
        "id": r.id,
        "name": r.name,
        "number": r.number,
        "polygon": [[round(x, 2), round(y, 2)] for x, y in r.polygon],
        "area": round(r.area, 2),
        "area_m2": None if mpu is None else round(r.area * mpu * mpu, 2),
        "openings": r.openings,
        "adjacent": [
            {"room": a.room, "via": a.via, "wall": a.wall, "opening": a.opening} for a in r.adjacent
        ],
    }
