"""Rows of outlined glyphs: the indexed row search against a pass along x over every box."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from documents.glyph_rows import GLYPH_ASPECT, MIN_ROW, ROW_GAP, SIMILAR, row_pairs


def _rows_by_x_only(boxes: np.ndarray) -> NDArray[np.bool_]:
    """The row search with candidates filtered by x alone (the reference): each box is
    compared with every box starting within its reach along x, whatever their y."""
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


def random_boxes(rng: np.random.Generator) -> np.ndarray:
    """Up to 120 glyph-sized boxes on a few lines, some off them, of mixed heights and
    widths (some too wide), some starting at the same x, a few flat."""
    n = int(rng.integers(0, 120))
    x = rng.uniform(0, 300, n)
    if rng.random() < 0.3:
        x = np.round(x / 5) * 5
    y = rng.choice([0, 10, 12, 30, 31.5], n) + rng.normal(0, 1.5, n) * (rng.random(n) < 0.5)
    h = rng.choice([4, 5, 6, 8, 10], n) * rng.uniform(0.5, 1.5, n)
    boxes = np.stack([x, y, x + h * rng.uniform(0, 1.8, n), y + h], axis=1)
    if rng.random() < 0.1:
        boxes[: n // 3, 3] = boxes[: n // 3, 1]
    return boxes


def test_rows_agree_with_a_pass_along_x() -> None:
    """On 300 random box sets, read along x and (swapped) along y, the indexed search puts
    exactly the boxes in rows the pass over every box within reach along x does."""
    rng = np.random.default_rng(11)
    in_rows = out_of_rows = 0
    for _ in range(300):
        boxes = random_boxes(rng)
        for along in (boxes, boxes[:, [1, 0, 3, 2]]):
            found, _ = row_pairs(along)
            expected = _rows_by_x_only(along)
            assert np.array_equal(found, expected)
            in_rows += int(expected.sum())
            out_of_rows += int((~expected).sum())
    assert in_rows >= 1000 and out_of_rows >= 1000  # both answers are exercised


def text_block(columns: int, lines: int) -> np.ndarray:
    """Lines of 6-pt glyphs 9 pt apart, 10 pt between lines: columns of stacked glyphs."""
    xs, ys = np.meshgrid(np.arange(columns) * 9.0, np.arange(lines) * 10.0)
    x, y = xs.ravel(), ys.ravel()
    return np.stack([x, y, x + 6, y + 6], axis=1)


def test_row_search_compares_only_glyphs_in_the_same_band() -> None:
    """30,000 glyphs in 150 lines of 200: all in rows, with a few pairs compared per glyph
    both ways (along x the pass over x alone compares each with the 150 glyphs stacked in
    its column; across, with each of its line's 200)."""
    boxes = text_block(200, 150)
    found, pairs = row_pairs(boxes)
    assert found.all()
    assert pairs <= 5 * len(boxes)
    found, pairs = row_pairs(boxes[:, [1, 0, 3, 2]])  # vertical rows: the lines' columns
    assert found.all()
    assert pairs <= 5 * len(boxes)
    small = text_block(20, 15)
    assert np.array_equal(row_pairs(small)[0], _rows_by_x_only(small))
