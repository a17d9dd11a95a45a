"""Text converted to outlines: letters drawn as small filled closed paths in a row.

CAD sheets often export titles and labels as glyph outlines, not text; their bars (an I, an
L, an E's strokes) look like short walls. A glyph here is a filled path at most
``GLYPH_FRAC`` of the page's longer side, no longer along its row than ``GLYPH_ASPECT``
times its height; a row is at least ``MIN_ROW`` of them, of similar height, each at most
``ROW_GAP`` heights from the next, horizontal or vertical (rotated text).
"""

from __future__ import annotations

import math
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
    return row_pairs(boxes)[0]


def row_pairs(boxes: Array) -> tuple[NDArray[np.bool_], int]:
    """Which boxes (x0, y0, x1, y1) belong to a row of MIN_ROW glyphs running along x, and
    how many pairs of boxes were compared to tell.

    Two glyphs are neighbours when their heights are SIMILAR, they overlap across by half
    the lower one's height, and the second starts (x0) between the first's start and
    ROW_GAP heights past its end. Boxes are filed by height class (ratio steps of SIMILAR)
    and row band (y0 in cells as tall as the class's tallest glyph); a glyph is compared
    only with those of its own and the next classes, in bands its height can overlap, and
    within its reach along x: glyphs stacked in columns are not compared across rows."""
    in_row = np.zeros(len(boxes), dtype=bool)
    height = boxes[:, 3] - boxes[:, 1]
    width = boxes[:, 2] - boxes[:, 0]
    idx = np.flatnonzero((height > 0) & (width <= GLYPH_ASPECT * height))
    if not len(idx):
        return in_row, 0
    x0, y0, y1, h = boxes[idx, 0], boxes[idx, 1], boxes[idx, 3], height[idx]
    reach = boxes[idx, 2] + ROW_GAP * h
    # Similar heights are at most one class apart: a class is a little wider than the ratio.
    klass = np.floor(np.log(h) / (math.log(1 / SIMILAR) * 1.01)).astype(np.int64)
    classes, of_class = np.unique(klass, return_inverse=True)
    cell = np.zeros(len(classes))
    np.maximum.at(cell, of_class, h)
    cell = cell * 1.001 + 1e-12  # taller than any glyph of the class, rounding included
    band = np.floor(y0 / cell[of_class]).astype(np.int64)
    keys, bucket = np.unique(_key(klass, band), return_inverse=True)
    # Each box's bucket and x0 as one integer, x0 by rank so equal values stay equal.
    values, rank = np.unique(np.concatenate([x0, reach]), return_inverse=True)
    slots = np.int64(len(values))
    code = bucket * slots + rank[: len(idx)]
    order = np.argsort(code, kind="stable")
    code = code[order]
    starts, ends, firsts = [], [], []
    for step in (-1, 0, 1):
        at = np.searchsorted(classes, klass + step)
        has = at < len(classes)
        has[has] = classes[at[has]] == klass[has] + step
        size = np.where(has, cell[np.minimum(at, len(classes) - 1)], 1.0)
        low = np.floor((y0 - size) / size).astype(np.int64)
        high = np.floor(y1 / size).astype(np.int64)
        for extra in range(int((high - low)[has].max(initial=-1)) + 1):
            want = _key(klass + step, low + extra)
            found = np.minimum(np.searchsorted(keys, want), len(keys) - 1)
            ask = np.flatnonzero(has & (low + extra <= high) & (keys[found] == want))
            base = found[ask] * slots
            starts.append(np.searchsorted(code, base + rank[ask], "left"))
            ends.append(np.searchsorted(code, base + rank[len(idx) + ask], "right"))
            firsts.append(ask)
    start, end, first = np.concatenate(starts), np.concatenate(ends), np.concatenate(firsts)
    count = end - start
    total = int(count.sum())
    k = np.repeat(first, count)
    m = order[np.repeat(start - np.cumsum(count) + count, count) + np.arange(total)]
    low_h, high_h = np.minimum(h[k], h[m]), np.maximum(h[k], h[m])
    overlap = np.minimum(y1[k], y1[m]) - np.maximum(y0[k], y0[m])
    near = (k != m) & (low_h >= SIMILAR * high_h) & (overlap >= 0.5 * low_h)
    roots = _components(len(idx), k[near], m[near])
    _, inverse, counts = np.unique(roots, return_inverse=True, return_counts=True)
    in_row[idx] = counts[inverse] >= MIN_ROW
    return in_row, total


def _key(klass: NDArray[np.int64], band: NDArray[np.int64]) -> NDArray[np.int64]:
    """A height class and row band as one sortable integer."""
    return np.asarray((klass << 40) + band, dtype=np.int64)


def _components(count: int, a: NDArray[np.int64], b: NDArray[np.int64]) -> NDArray[np.int64]:
    """The root of each of ``count`` items joined by the pairs (a, b) (union-find)."""
    parent = list(range(count))

    def root(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for i, j in zip(a.tolist(), b.tolist(), strict=True):
        parent[root(j)] = root(i)
    return np.array([root(k) for k in range(count)], dtype=np.int64)


def glyph_boxes(page: Any) -> Array:
    """Boxes (x0, y0, x1, y1, displayed) of filled paths that are letters in a row."""
    limit = GLYPH_FRAC * max(page.rect.width, page.rect.height)
    found = []
    for path in page_cdrawings(page):
        fill = path.get("fill")
        if fill is None or white(fill):
            continue
        x0, y0, x1, y1 = path["rect"]
        if 0 < max(x1 - x0, y1 - y0) <= limit and not _rectangle(path["items"]):
            found.append((x0, y0, x1, y1))
    # One shape drawn twice (fill, then stroke) is one glyph, not two.
    raw = np.unique(np.array(found, dtype=float).reshape(-1, 4).round(2), axis=0)
    a, b = to_display(raw[:, 0:2], page), to_display(raw[:, 2:4], page)
    boxes = np.concatenate([np.minimum(a, b), np.maximum(a, b)], axis=1)
    across = boxes[:, [1, 0, 3, 2]]  # vertical rows: swap x and y
    return boxes[_rows(boxes) | _rows(across)]


def _rectangle(items: list[Any]) -> bool:
    """A filled upright rectangle: a piece of a wall drawn as poche (a row of them along a
    wall broken by windows looks like letters), not a letter worth the name."""
    if len(items) == 1 and items[0][0] == "re":
        return True
    if not items or any(item[0] != "l" for item in items) or len(items) > 5:
        return False
    points = [point for item in items for point in item[1:]]
    xs = {round(float(p[0]), 2) for p in points}
    ys = {round(float(p[1]), 2) for p in points}
    return len(xs) == 2 and len(ys) == 2


def in_glyphs(points: Array, boxes: Array, slack: float = 1.0) -> NDArray[np.bool_]:
    """Which points (x, y rows) lie in some glyph box grown by ``slack``."""
    if not len(boxes) or not len(points):
        return np.zeros(len(points), dtype=bool)
    x, y = points[:, 0:1], points[:, 1:2]
    inside = (x >= boxes[:, 0] - slack) & (x <= boxes[:, 2] + slack)
    inside &= (y >= boxes[:, 1] - slack) & (y <= boxes[:, 3] + slack)
    return np.asarray(inside.any(axis=1))
