"""How big walls are drawn on a page, in points: from the drawing's scale when known.

A wall's thickness, its shortest length and how far apart its pieces may lie are sizes
in the building. Without a scale they are fractions of the page's longer side ``s``, which
fits plans at 1:50 to 1:200 on A3 (s = 1191 pt; the numbers in the comments are for that
sheet at 1:100). With a scale (``metres_per_unit``) the bounds in metres widen them, so
0.1 m partitions at 1:200 on A1 (1.4 pt apart) and 1 m walls at 1:20 are found too.
"""

from __future__ import annotations

from dataclasses import dataclass

# Without a scale: fractions of the page's longer side.
MIN_GAP_FRAC = 0.001  # thinnest wall: 1.2 pt (0.04 m)
MAX_GAP_FRAC = 0.05  # thickest wall: 60 pt (2.1 m)
MIN_WALL_FRAC = 0.008  # shortest wall: 9.5 pt (0.34 m)
MIN_DIAGONAL_FRAC = 0.03  # non-axis lines shorter than this are hatching, not faces
ISOLATED_FRAC = 0.5  # a wall shorter than this touching no other wall is no wall
THICK_STROKE_PT = 2.0  # a stroke at least this wide (and THICK_STROKE_FRAC * s) is a wall
THICK_STROKE_FRAC = 0.0018
MERGE_FRAC = 0.005  # collinear wall pieces this far apart (or 1.5 thicknesses) are one
WINDOW_FRAC = 0.08  # the widest window or opening in a wall: 95 pt (3.4 m)

# With a scale: metres, and floors in points below which print cannot tell lines apart.
WALL_M = (0.04, 1.0)  # thinnest and thickest wall (the raster path's bounds too)
SHORTEST_M = 0.3
DIAGONAL_M = 1.0
ISOLATED_M = 15.0  # a free-standing wall this long is a wall; shorter: a table, a title
STROKE_M = 0.05  # a stroke this wide at scale is a wall drawn as one thick line
MERGE_M = 0.2
WINDOW_M = 3.5
FACE_GAP_M = 0.6  # a heavy line's partner face is at most this far (walls beside it: more)
MIN_STROKE_PT = 1.0  # drawing lines (0.25-0.7 pt) are never walls by their width alone
MIN_GAP_PT = 0.5  # face lines closer than this are one line drawn twice


@dataclass(frozen=True)
class WallSizes:
    """Bounds in points for the vector wall rules (``documents.vector``)."""

    min_gap: float  # thinnest wall: face lines closer than this are not a wall's faces
    max_gap: float  # thickest wall
    min_wall: float  # shortest wall
    min_diagonal: float  # non-axis lines shorter than this are hatching
    isolated: float  # shorter walls touching no other wall are dropped
    thick_stroke: float  # a stroke at least this wide is a wall by itself
    lone_stroke: float  # ... and one at least this wide when no line pairs with it as a face
    face_gap: float  # the widest spacing at which two heavy lines are a wall's two faces
    merge_gap: float  # collinear pieces of a wall this far apart are joined
    window: float  # widest opening between two pieces of one wall

    @classmethod
    def of(cls, longest_side: float, metres_per_unit: float | None) -> WallSizes:
        s = longest_side
        page = cls(
            MIN_GAP_FRAC * s,
            MAX_GAP_FRAC * s,
            MIN_WALL_FRAC * s,
            MIN_DIAGONAL_FRAC * s,
            ISOLATED_FRAC * s,
            max(THICK_STROKE_PT, THICK_STROKE_FRAC * s),
            max(THICK_STROKE_PT, THICK_STROKE_FRAC * s),
            MAX_GAP_FRAC * s,
            MERGE_FRAC * s,
            WINDOW_FRAC * s,
        )
        if metres_per_unit is None or metres_per_unit <= 0:
            return page
        per_m = 1 / metres_per_unit
        # The scale widens the page's bounds, never narrows them: a scale misread tenfold
        # (millimetres taken for centimetres) must not lose the walls the page finds.
        return cls(
            min(page.min_gap, max(MIN_GAP_PT, WALL_M[0] * per_m)),
            max(page.max_gap, WALL_M[1] * per_m),
            min(page.min_wall, SHORTEST_M * per_m),
            min(page.min_diagonal, DIAGONAL_M * per_m),
            min(page.isolated, ISOLATED_M * per_m),
            # Never under 2 pt: heavy pens (0.5-0.7 mm) draw cut walls' face lines, which
            # must pair as faces, not each be a wall; thinner strokes only when unpaired.
            max(THICK_STROKE_PT, min(page.thick_stroke, STROKE_M * per_m)),
            min(page.thick_stroke, max(MIN_STROKE_PT, STROKE_M * per_m)),
            FACE_GAP_M * per_m,
            min(page.merge_gap, MERGE_M * per_m),
            max(page.window, WINDOW_M * per_m),
        )


# An A3 sheet's longer side at 1:100, in metres: page-relative fractions tuned on such
# sheets become metres on any sheet once the scale is known.
A3_AT_1_100_M = 42.0


def reference_side(longest_side: float, metres_per_unit: float | None) -> float:
    """The page's longer side, or with a scale the points an A3 sheet at 1:100 spans in
    this drawing (42 m), for rules written as fractions of the page."""
    if metres_per_unit is None or metres_per_unit <= 0:
        return longest_side
    return A3_AT_1_100_M / metres_per_unit
