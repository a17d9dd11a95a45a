"""Walls that are not walls, dropped after the vector wall rules (``documents.vector``).

The sheet's frame, walls inside a thicker one, short walls touching no other (furniture,
legends, symbols) unless a wall continues their line past an opening, and a window's
glazing paired up like a thin wall between two thicker ones.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from documents.drawings import Array
from documents.model import Wall
from documents.wall_sizes import WallSizes

MIN_WALL_ASPECT = (
    2.5  # a whole wall is this many times longer than thick: squarer things are columns, symbols
)
FRAME_FRAC = 0.025  # long walls this close to the page edge are the sheet frame
GLAZING_RATIO = 2.0  # a wall this many times thinner than the walls it bridges is glazing
GLAZING_OFFSET = 0.25  # of the thicker walls' thickness: glazing lies this near their axis
FRAME_SPAN = 0.5  # "long": at least this fraction of the page's width or height


def _near(x: float, y: float, walls: Array, slack: float | Array) -> NDArray[np.bool_]:
    """Which walls' rectangles (rows x1, y1, x2, y2, thickness), grown by ``slack`` on
    every side, hold the point."""
    ax, ay = walls[:, 2] - walls[:, 0], walls[:, 3] - walls[:, 1]
    length = np.hypot(ax, ay)
    along = ((x - walls[:, 0]) * ax + (y - walls[:, 1]) * ay) / length
    across = np.abs((x - walls[:, 0]) * ay - (y - walls[:, 1]) * ax) / length
    return (along >= -slack) & (along <= length + slack) & (across <= walls[:, 4] / 2 + slack)


def clean(walls: list[Wall], width: float, height: float, sizes: WallSizes) -> list[Wall]:
    """Drop the sheet frame, walls inside a thicker one (or an equal one listed first:
    hatching, duplicates) and short walls whose ends touch no other wall."""
    walls = [w for w in walls if not _frame(w, width, height)]
    rows = np.array([(w.x1, w.y1, w.x2, w.y2, w.thickness) for w in walls]).reshape(-1, 5)
    index = np.arange(len(walls))
    inside = [
        np.any(
            ((rows[:, 4] > w.thickness) | ((rows[:, 4] == w.thickness) & (index < k)))
            & _near(w.x1, w.y1, rows, 0.5)
            & _near(w.x2, w.y2, rows, 0.5)
        )
        for k, w in enumerate(walls)
    ]
    walls = [w for w, drop in zip(walls, inside, strict=True) if not drop]
    rows, index = rows[~np.array(inside, dtype=bool)], np.arange(len(walls))
    kept = []
    for k, w in enumerate(walls):
        slack = np.maximum(rows[:, 4], w.thickness) / 2 + 1.0  # corners, T junctions
        touches = (_near(w.x1, w.y1, rows, slack) | _near(w.x2, w.y2, rows, slack)) & (index != k)
        long = math.hypot(w.x2 - w.x1, w.y2 - w.y1) >= sizes.isolated
        if long or touches.any() or _continued(w, rows, index != k, sizes.window):
            kept.append(w)
    return kept


def _continued(w: Wall, rows: Array, others: NDArray[np.bool_], reach: float) -> bool:
    """Whether a wall as thick goes on along ``w``'s line within ``reach`` (past a door or
    a window): a wall between two openings touches nothing but is no furniture."""
    length = math.hypot(w.x2 - w.x1, w.y2 - w.y1)
    if length < MIN_WALL_ASPECT * w.thickness:
        return False  # squat and touching nothing: a symbol, a table's cell
    ux, uy = (w.x2 - w.x1) / length, (w.y2 - w.y1) / length
    alike = np.abs(rows[:, 4] - w.thickness) <= np.maximum(1.0, 0.35 * rows[:, 4])
    ends = [rows[:, 0:2], rows[:, 2:4]]
    along = [(e[:, 0] - w.x1) * ux + (e[:, 1] - w.y1) * uy for e in ends]
    across = [np.abs((e[:, 1] - w.y1) * ux - (e[:, 0] - w.x1) * uy) for e in ends]
    on_line = (across[0] <= max(1.0, 0.3 * w.thickness)) & (
        across[1] <= max(1.0, 0.3 * w.thickness)
    )
    lo, hi = np.minimum(along[0], along[1]), np.maximum(along[0], along[1])
    gap = np.maximum(lo - length, -hi)
    return bool(np.any(others & alike & on_line & (gap > 0) & (gap <= reach)))


def without_glazing(walls: list[Wall]) -> list[Wall]:
    """Drop thin walls bridging the gap between two collinear thicker walls, end to end:
    the glazing lines of a window pair up like a thin wall.

    An end touches a thicker wall within reach of that wall's own end, so the walls' ends
    are filed in grid cells as wide as the longest reach and each end is compared only with
    the walls in its cell and the eight around it (a point-like wall, whose direction is
    undefined, with every end), not with every wall."""
    rows = np.array([(w.x1, w.y1, w.x2, w.y2, w.thickness) for w in walls]).reshape(-1, 5)
    if not len(rows):
        return []
    ax, ay = rows[:, 2] - rows[:, 0], rows[:, 3] - rows[:, 1]
    length = np.maximum(np.hypot(ax, ay), 1e-9)
    ux, uy = ax / length, ay / length
    slack = np.maximum(1.0, 0.5 * rows[:, 4])
    point = np.hypot(ax, ay) < 1e-9
    margin = 1e-6 * (1.0 + float(np.abs(rows[:, :4]).max()))  # rounding slack
    cell = float(np.hypot(slack, GLAZING_OFFSET * np.abs(rows[:, 4])).max()) * 1.001 + margin
    ends = rows[:, :4].reshape(-1, 2)  # wall k's ends are rows 2k and 2k + 1
    grid = np.floor(ends / cell).astype(np.int64)
    code = (grid[:, 0] << 32) + grid[:, 1]
    order = np.argsort(code, kind="stable")
    code = code[order]
    pairs = [
        (
            np.repeat(np.arange(len(ends)), int(point.sum())),
            np.tile(np.flatnonzero(point), len(ends)),
        )
    ]
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            want = ((grid[:, 0] + dx) << 32) + grid[:, 1] + dy
            lo, hi = np.searchsorted(code, want, "left"), np.searchsorted(code, want, "right")
            count = hi - lo
            at = np.repeat(lo - np.cumsum(count) + count, count) + np.arange(int(count.sum()))
            pairs.append((np.repeat(np.arange(len(ends)), count), order[at] // 2))
    end, r = np.concatenate([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs])
    k, x, y = end // 2, ends[end, 0], ends[end, 1]
    thicker = (rows[r, 4] >= GLAZING_RATIO * rows[k, 4]) & (
        np.abs(ux[r] * uy[k] - uy[r] * ux[k]) < 0.03
    )
    along = (x - rows[r, 0]) * ux[r] + (y - rows[r, 1]) * uy[r]
    across = np.abs((x - rows[r, 0]) * uy[r] - (y - rows[r, 1]) * ux[r])
    at_end = (np.abs(along) <= slack[r]) | (np.abs(along - length[r]) <= slack[r])
    # Glazing sits mid-wall; a thinner wall off-centre is a jog in the outline.
    touched = np.zeros(len(ends), dtype=bool)
    touched[end[thicker & at_end & (across <= GLAZING_OFFSET * rows[r, 4])]] = True
    sides = touched.reshape(-1, 2).sum(axis=1)
    return [w for w, n in zip(walls, sides, strict=True) if n < 2]


def _frame(w: Wall, width: float, height: float) -> bool:
    """A long line hugging the page edge: the drawing sheet's frame, not a wall."""
    margin = FRAME_FRAC * max(width, height)
    if abs(w.y1 - w.y2) < 1e-6 and abs(w.x2 - w.x1) >= FRAME_SPAN * width:
        return min(w.y1, height - w.y1) <= margin
    if abs(w.x1 - w.x2) < 1e-6 and abs(w.y2 - w.y1) >= FRAME_SPAN * height:
        return min(w.x1, width - w.x1) <= margin
    return False
