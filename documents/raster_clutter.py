"""What the raster wall finder takes for walls but are not: the rules that drop them.

All rules are relative to the typical wall thickness ``typical`` the image shows (the
length-squared weighted median of the walls found), so they carry over between scales:

- *thin*: under a third of the typical thickness (sills, furniture edges, single lines);
- *families*: four or more parallel pieces of about one length, evenly spaced side by
  side at most 2.5 typical thicknesses apart and shorter than 20 (stair treads, sink
  grooves, hatching, tiles), not a run of long walls nor a wall with a bath along it;
- *loose*: pieces shorter than 10 typical thicknesses and thinner than 3/4 of it, alone
  or touching only each other (furniture, fixtures, the outline of a bath), not joined
  to a wall; a wall piece between two windows is alone too, but thick.

``family_members`` is also applied before side-by-side suppression, which would
otherwise thin a run of treads (each gap between two a hollow "wall") to a lone piece.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from documents.model import Wall

F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]
THIN_SHARE = 1 / 3  # thinner than this share of the typical thickness: not a wall
FAMILY_GAP = 2.5  # family members at most this many typical thicknesses apart
SPACING_TOLERANCE = 0.2  # family members evenly spaced, within this share
NONE = 1e300  # no neighbour on that side (finite: no inf - inf)
FAMILY_LENGTH = 20.0  # family members are shorter than this many thicknesses
LOOSE_LENGTH = 10.0  # a piece touching no wall must be this many thicknesses long
LOOSE_THICK = 0.75  # or at least this share of the typical thickness


def without_clutter(walls: list[Wall], typical: float) -> list[Wall]:
    """``walls`` less the thin ones, families of parallel strokes and loose short pieces."""
    if not walls or typical <= 0:
        return walls
    ends = np.array([(w.x1, w.y1, w.x2, w.y2) for w in walls], np.float64)
    thick = np.array([w.thickness for w in walls], np.float64)
    length = np.hypot(ends[:, 2] - ends[:, 0], ends[:, 3] - ends[:, 1])
    keep = thick >= THIN_SHARE * typical
    keep &= ~family_members(walls, typical)
    touching = ~(_distances(ends) > (np.maximum.outer(thick, thick) / 2 + typical / 2))
    # wall pieces between windows stand alone too, but they are as thick as the walls
    short = (length < LOOSE_LENGTH * typical) & (thick < LOOSE_THICK * typical)
    keep &= _anchored(touching & keep[:, None] & keep[None, :], keep & ~short)
    return [w for w, k in zip(walls, keep, strict=True) if k]


def _anchored(touching: npt.NDArray[np.bool_], anchors: npt.NDArray[np.bool_]) -> B:
    """Pieces joined to an anchor through a chain of touching pieces (an anchor too)."""
    reached = anchors.copy()
    while True:
        grown = reached | (touching & reached[None, :]).any(axis=1)
        if (grown == reached).all():
            return reached
        reached = grown


def family_members(walls: list[Wall], typical: float) -> B:
    """Runs of four or more evenly spaced parallel pieces of about one length, overlapping
    along most of it, beside each other (not overlapping across, as two readings of one
    wall do) and closer than FAMILY_GAP typical thicknesses."""
    if not walls:
        return np.zeros(0, np.bool_)
    ends = np.array([(w.x1, w.y1, w.x2, w.y2) for w in walls], np.float64)
    length = np.hypot(ends[:, 2] - ends[:, 0], ends[:, 3] - ends[:, 1])
    safe = np.maximum(length, 1e-9)
    ux, uy = (ends[:, 2] - ends[:, 0]) / safe, (ends[:, 3] - ends[:, 1]) / safe
    mid_x, mid_y = (ends[:, 0] + ends[:, 2]) / 2, (ends[:, 1] + ends[:, 3]) / 2
    parallel = np.abs(np.outer(ux, ux) + np.outer(uy, uy)) >= np.cos(np.radians(5))
    dx, dy = mid_x[None, :] - mid_x[:, None], mid_y[None, :] - mid_y[:, None]
    across = dx * -uy[:, None] + dy * ux[:, None]  # j's middle off i's line (signed)
    along = np.abs(dx * ux[:, None] + dy * uy[:, None])  # and along it
    alike = np.minimum.outer(length, length) >= 0.7 * np.maximum.outer(length, length)
    thick = np.array([w.thickness for w in walls], np.float64)
    apart = np.abs(across) >= 0.4 * np.add.outer(thick, thick)  # not one wall read twice
    near = parallel & alike & apart & (np.abs(across) <= FAMILY_GAP * typical)
    near &= (along <= length[:, None] / 4) & (length < FAMILY_LENGTH * typical)[:, None]
    np.fill_diagonal(near, False)
    # a middle stroke has its nearest neighbours on both sides equally far (treads are
    # evenly spaced; a wall with a bath or a wardrobe along it is not)
    before = np.where(near & (across < 0), -across, NONE)
    after = np.where(near & (across > 0), across, NONE)
    gap_before, gap_after = before.min(axis=1), after.min(axis=1)
    middle = (gap_before < NONE) & (gap_after < NONE)
    middle &= np.abs(gap_before - gap_after) <= SPACING_TOLERANCE * np.maximum(
        gap_before, gap_after
    )
    first, last = before.argmin(axis=1), after.argmin(axis=1)
    # runs of four or more: a middle with a middle next to it, and both their neighbours
    paired = middle & (middle[first] | middle[last])
    members: B = paired.copy()
    members[first[paired]] = members[last[paired]] = True
    return members


def _distances(ends: F64) -> F64:
    """Shortest distance between every pair of segments (0 where they cross)."""
    a, b = ends[:, None, :2], ends[:, None, 2:]
    c, d = ends[None, :, :2], ends[None, :, 2:]
    gaps = np.stack([_to_segment(p, c, d) for p in (a, b)] + [_to_segment(p, a, b) for p in (c, d)])
    best: F64 = gaps.min(axis=0)

    def side(p: F64, q: F64, r: F64) -> F64:
        out: F64 = (q[..., 0] - p[..., 0]) * (r[..., 1] - p[..., 1])
        return out - (q[..., 1] - p[..., 1]) * (r[..., 0] - p[..., 0])

    crossing = (side(a, b, c) * side(a, b, d) < 0) & (side(c, d, a) * side(c, d, b) < 0)
    return np.where(crossing, 0.0, best)


def _to_segment(p: F64, a: F64, b: F64) -> F64:
    """Distance from points ``p`` to segments ``a``-``b`` (broadcast)."""
    ab, ap = b - a, p - a
    span = np.maximum((ab**2).sum(-1), 1e-12)
    t = np.clip((ap * ab).sum(-1) / span, 0.0, 1.0)
    out: F64 = np.hypot(*np.moveaxis(ap - t[..., None] * ab, -1, 0))
    return out
