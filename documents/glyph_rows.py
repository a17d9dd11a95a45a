"""Text converted to outlines: letters drawn as small filled closed paths in a row.

CAD sheets often export titles and labels as glyph outlines, not text; their bars (an I, an
L, an E's strokes) look like short walls. A glyph here is a filled path at most
``GLYPH_FRAC`` of the page's longer side, no longer along its row than ``GLYPH_ASPECT``
times its height; a row is at least ``MIN_ROW`` of them, of similar height, each at most
``ROW_GAP`` heights from the next, horizontal or vertical (rotated text).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from documents.drawings import Array, page_cdrawings, to_display, white

GLYPH_FRAC = 0.06  # letters up to 71 pt on A3 (a 2.5 m high title at 1:100)
GLYPH_ASPECT = 1.6  # a letter is at most this many times wider than high (M, W)
MIN_ROW = 3  # three letters in a row make a word
ROW_GAP = 0.8  # letters are at most this many heights apart
SIMILAR = 0.6  # heights within this ratio of each other


def _rows(boxes: Array) -> NDArray[np.bool_]:
    """Which boxes (x0, y0, x1, y1) belong to a row of MIN_ROW glyphs running along x."""
    height = boxes[:, 3] - boxes[:, 1]
    width = boxes[:, 2] - boxes[:, 0]
    ok = (height > 0) & (width <= GLYPH_ASPECT * height)
    idx = np.flatnonzero(ok)
    idx = idx[np.argsort(boxes[idx, 0])]
    parent = {int(k): int(k) for k in idx}

    def root(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    x0 = boxes[idx, 0]
    for n, k in enumerate(idx):
        h = height[k]
        reach = np.searchsorted(x0, boxes[k, 2] + ROW_GAP * h, "right")
        for m in idx[n + 1 : reach]:
            hm = height[m]
            overlap = min(boxes[k, 3], boxes[m, 3]) - max(boxes[k, 1], boxes[m, 1])
            if min(h, hm) >= SIMILAR * max(h, hm) and overlap >= 0.5 * min(h, hm):
                parent[root(int(m))] = root(int(k))
    roots = np.array([root(int(k)) for k in idx], dtype=np.int64)
    in_row = np.zeros(len(boxes), dtype=bool)
    if len(roots):
        _, inverse, counts = np.unique(roots, return_inverse=True, return_counts=True)
        in_row[idx] = counts[inverse] >= MIN_ROW
    return in_row


def glyph_boxes(page: Any) -> Array:
    """Boxes (x0, y0, x1, y1, displayed) of filled paths that are letters in a row."""
    limit = GLYPH_FRAC * max(page.rect.width, page.rect.height)
    found = []
    for path in page_cdrawings(page):
        fill = path.get("fill")
        if fill is None or white(fill):
            continue
        x0, y0, x1, y1 = path["rect"]
        if 0 < max(x1 - x0, y1 - y0) <= limit:
            found.append((x0, y0, x1, y1))
    # One shape drawn twice (fill, then stroke) is one glyph, not two.
    raw = np.unique(np.array(found, dtype=float).reshape(-1, 4).round(2), axis=0)
    a, b = to_display(raw[:, 0:2], page), to_display(raw[:, 2:4], page)
    boxes = np.concatenate([np.minimum(a, b), np.maximum(a, b)], axis=1)
    across = boxes[:, [1, 0, 3, 2]]  # vertical rows: swap x and y
    return boxes[_rows(boxes) | _rows(across)]


def in_glyphs(points: Array, boxes: Array, slack: float = 1.0) -> NDArray[np.bool_]:
    """Which points (x, y rows) lie in some glyph box grown by ``slack``."""
    if not len(boxes) or not len(points):
        return np.zeros(len(points), dtype=bool)
    x, y = points[:, 0:1], points[:, 1:2]
    inside = (x >= boxes[:, 0] - slack) & (x <= boxes[:, 2] + slack)
    inside &= (y >= boxes[:, 1] - slack) & (y <= boxes[:, 3] + slack)
    return np.asarray(inside.any(axis=1))
