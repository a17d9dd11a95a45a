"""Synthetic plans for model3d's tests and bench: a grid of rooms with doors and windows.

Every cell edge is a wall (``cell`` plan units long, ``thickness`` thick); each interior
wall has a door at its middle, every other exterior wall a window. The plan's extent, its
wall volume and its openings are known exactly, so tests compare the model with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DOOR_M, WINDOW_M = 0.9, 1.2  # opening widths


@dataclass(frozen=True)
class GridPlan:
    walls: list[dict[str, Any]]
    openings: list[dict[str, Any]]
    rooms: list[dict[str, Any]]
    size: tuple[float, float]  # plan units: the walls' outer faces, x and y
    metres_per_unit: float

    def wall_list(self, units: str = "m") -> dict[str, Any]:
        """A model3d input as a wall list (``units`` must match ``metres_per_unit``)."""
        return {
            "walls": self.walls,
            "openings": self.openings,
            "rooms": self.rooms,
            "units": units,
        }

    def ingest_result(self, scale: bool = True) -> dict[str, Any]:
        """As ingest gives it: one plan page in PDF points, with or without its scale."""
        page = {
            "index": 0,
            "page": 1,
            "unit": "pt",
            "kind": "plan",
            "scale": {"metres_per_unit": self.metres_per_unit, "source": "dimensions"}
            if scale
            else None,
            "walls": self.walls,
            "openings": self.openings,
            "rooms": [{"id": k, **room} for k, room in enumerate(self.rooms)],
            "text": [],
        }
        return {"pages": [page], "document": {"type": "pdf", "pages": 1, "repaired": False}}

    def wall_volume_m3(self, ceiling: float, door: float, sill: float, head: float) -> float:
        """Σ length x thickness x height, less width x height x thickness per opening."""
        k = self.metres_per_unit
        total = 0.0
        for wall in self.walls:
            length = abs(wall["x2"] - wall["x1"]) + abs(wall["y2"] - wall["y1"])
            total += length * k * wall["thickness"] * k * ceiling
        for opening in self.openings:
            hole = door if opening["kind"] == "door" else head - sill
            thickness = self.walls[opening["wall"]]["thickness"] * k
            total -= opening["width"] * k * hole * thickness
        return total


def grid_plan(
    columns: int,
    rows: int,
    cell: float = 4.0,
    thickness: float = 0.2,
    metres_per_unit: float = 1.0,
    limit: int | None = None,
) -> GridPlan:
    """A ``columns`` x ``rows`` grid of rooms, its walls cut to the first ``limit``."""
    walls: list[dict[str, Any]] = []
    exterior: list[bool] = []
    for r in range(rows + 1):
        for c in range(columns):
            walls.append(_wall(c * cell, r * cell, (c + 1) * cell, r * cell, thickness))
            exterior.append(r in (0, rows))
    for c in range(columns + 1):
        for r in range(rows):
            walls.append(_wall(c * cell, r * cell, c * cell, (r + 1) * cell, thickness))
            exterior.append(c in (0, columns))
    walls = walls[:limit]
    openings = []
    for index, wall in enumerate(walls):
        if exterior[index] and index % 2:
            continue
        kind, metres = ("window", WINDOW_M) if exterior[index] else ("door", DOOR_M)
        openings.append(_opening(kind, index, wall, metres / metres_per_unit))
    rooms = [
        {
            "name": f"Room {r}-{c}",
            "polygon": [
                [c * cell, r * cell],
                [(c + 1) * cell, r * cell],
                [(c + 1) * cell, (r + 1) * cell],
                [c * cell, (r + 1) * cell],
            ],
        }
        for r in range(rows)
        for c in range(columns)
    ]
    size = (columns * cell + thickness, rows * cell + thickness)
    return GridPlan(walls, openings, rooms, size, metres_per_unit)


def _wall(x1: float, y1: float, x2: float, y2: float, thickness: float) -> dict[str, Any]:
    return {"x1": x1, "y1": y1, "x2": x2, "y2": y2, "thickness": thickness}


def _opening(kind: str, index: int, wall: dict[str, Any], width: float) -> dict[str, Any]:
    """An opening ``width`` wide centred on ``wall``."""
    mx, my = (wall["x1"] + wall["x2"]) / 2, (wall["y1"] + wall["y2"]) / 2
    horizontal = wall["y1"] == wall["y2"]
    dx, dy = (width / 2, 0.0) if horizontal else (0.0, width / 2)
    return {
        "kind": kind,
        "wall": index,
        "x1": mx - dx,
        "y1": my - dy,
        "x2": mx + dx,
        "y2": my + dy,
        "width": width,
    }
