"""Tick marks (short strokes with no parallel twin of a similar length nearby) found with
the grid index of documents/drawings.py are those a look at every pair finds."""

from __future__ import annotations

import numpy as np
import pytest

from documents.drawings import TWIN_SIN, _ticks


def ticks_by_every_pair(strokes: np.ndarray) -> set[tuple[float, ...]]:
    mid = (strokes[:, :2] + strokes[:, 2:]) / 2
    vec = strokes[:, 2:] - strokes[:, :2]
    length = np.hypot(vec[:, 0], vec[:, 1])
    unit = vec / np.maximum(length, 1e-9)[:, None]
    found = set()
    for i in range(len(strokes)):
        twin = False
        for j in range(len(strokes)):
            if i == j:
                continue
            parallel = abs(unit[i, 0] * unit[j, 1] - unit[i, 1] * unit[j, 0]) < TWIN_SIN
            near = np.hypot(*(mid[j] - mid[i])) <= length[i]
            similar = abs(length[j] - length[i]) <= 0.3 * length[i]
            twin = twin or bool(parallel and near and similar)
        if not twin:
            angle = np.degrees(np.arctan2(vec[i, 1], vec[i, 0])) % 180
            found.add(tuple(np.round([mid[i, 0], mid[i, 1], length[i], angle], 9)))
    return found


@pytest.mark.parametrize("seed", range(12))
def test_the_grid_finds_what_every_pair_finds(seed: int) -> None:
    rng = np.random.default_rng(seed)
    count = int(rng.integers(0, 160))
    start = rng.uniform(0, rng.choice([20.0, 200.0]), (count, 2))  # crowded or spread
    angle = rng.choice([0.0, np.pi / 2, np.pi / 4], count) + rng.normal(0, 0.05, count)
    end = start + np.stack([np.cos(angle), np.sin(angle)], 1) * rng.uniform(0.5, 8, count)[:, None]
    strokes = np.concatenate([start, end], 1)
    strokes = np.concatenate([strokes, strokes[: count // 3] + rng.uniform(-2, 2, (count // 3, 1))])
    found = {tuple(np.round(row, 9)) for row in _ticks(strokes)}
    assert found == ticks_by_every_pair(strokes)
