"""Hollow "walls" that are only the white gap between a line and a fixture drawn along it.

A wall drawn as two lines is closed at its ends: by an end cap, or by the far line of the
wall it meets. The gap between a partition and a wardrobe, bath, counter or bed standing
along it is not: walking on along its centre line past an end leads, without crossing
ink, into open paper (a room, far wider than the gap). ``open_gaps`` marks those.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import numpy.typing as npt

from documents.model import Wall

U8 = npt.NDArray[np.uint8]
B = npt.NDArray[np.bool_]
WHITE_SHARE = 0.8  # a hollow wall's middle half is at least this white along its centre
BEYOND = 1.5  # typical thicknesses walked past an end
INSIDE = 0.5  # and before it (at most half the wall), from within the gap
OPEN_WIDTH = 0.6  # open paper: white at least this many typical thicknesses across
FIXTURE_AREA = 60.0  # a closed white patch under this many typical thicknesses squared
FACE_STEP = 0.25  # looked for this many typical thicknesses past a face
FIXTURE_THICK = 0.75  # only gaps thinner than this share of the typical thickness
FIXTURE_SHARE = 0.6  # and one fixture beyond a face along this share of the gap


def open_gaps(walls: list[Wall], gray: U8, threshold: float, typical: float) -> B:
    """Which of ``walls`` (pixels of ``gray``) are white inside and open at an end: no
    ink on the centre line from inside the gap to BEYOND typical thicknesses past that
    end, where the paper is wider than OPEN_WIDTH typical thicknesses and than twice the
    wall. ``threshold``: the gray level at and under which a pixel is ink."""
    out = np.zeros(len(walls), np.bool_)
    if typical <= 0:
        return out
    height, width = gray.shape
    for n, wall in enumerate(walls):
        size = math.hypot(wall.x2 - wall.x1, wall.y2 - wall.y1)
        if size < 1:
            continue
        ux, uy = (wall.x2 - wall.x1) / size, (wall.y2 - wall.y1) / size
        middle = np.linspace(0.25 * size, 0.75 * size, 16)
        if _white(gray, wall.x1 + ux * middle, wall.y1 + uy * middle, threshold).mean() < (
            WHITE_SHARE
        ):
            continue  # filled, or crossed by lines: not a gap
        wide = max(OPEN_WIDTH * typical, 2 * wall.thickness)
        for ex, ey, dx, dy in ((wall.x1, wall.y1, -ux, -uy), (wall.x2, wall.y2, ux, uy)):
            steps = np.arange(-min(size / 2, INSIDE * typical), BEYOND * typical + 1)
            xs, ys = ex + dx * steps, ey + dy * steps
            if not ((xs >= 0) & (xs < width) & (ys >= 0) & (ys < height)).all():
                continue
            if not _white(gray, xs, ys, threshold).all():
                continue  # an end cap or another wall's line: closed
            if _paper_width(gray, xs[steps > 0], ys[steps > 0], threshold, wide) >= wide:
                out[n] = True
                break
    return out


def _white(gray: U8, xs: npt.NDArray[np.float64], ys: npt.NDArray[np.float64],
           threshold: float) -> B:  # fmt: skip
    """Whether the pixels nearest the points are paper (over ``threshold``)."""
    h, w = gray.shape
    cols = np.clip(np.round(xs).astype(np.intp), 0, w - 1)
    rows = np.clip(np.round(ys).astype(np.intp), 0, h - 1)
    white: B = gray[rows, cols] > threshold
    return white


def _paper_width(gray: U8, xs: npt.NDArray[np.float64], ys: npt.NDArray[np.float64],
                 threshold: float, wide: float) -> float:  # fmt: skip
    """Twice the largest distance from the points to ink (up to ``wide``): the width of
    the widest white passage along them."""
    reach = int(wide) + 2
    x0, x1 = int(xs.min()) - reach, int(xs.max()) + reach + 1
    y0, y1 = int(ys.min()) - reach, int(ys.max()) + reach + 1
    h, w = gray.shape
    crop = gray[max(0, y0) : min(h, y1), max(0, x0) : min(w, x1)]
    paper = (crop > threshold).view(np.uint8)
    distance = cv2.distanceTransform(paper, cv2.DIST_L2, 3)
    cols = np.clip(np.round(xs).astype(np.intp) - max(0, x0), 0, crop.shape[1] - 1)
    rows = np.clip(np.round(ys).astype(np.intp) - max(0, y0), 0, crop.shape[0] - 1)
    return float(2 * distance[rows, cols].max())


def fixture_faces(walls: list[Wall], ink: U8, factor: int, typical: float) -> B:
    """Which of ``walls`` (pixels of the full image) are white inside with, beyond one of
    their faces, a closed white patch under FIXTURE_AREA typical thicknesses squared: the
    inside of a bath, wardrobe, counter or bed, so the "wall" is the gap along its edge.
    ``ink``: the 0/1 ink mask reduced ``factor`` times."""
    out = np.zeros(len(walls), np.bool_)
    if typical <= 0 or not walls:
        return out
    count, labels, stats, _ = cv2.connectedComponentsWithStats(1 - ink, connectivity=4)
    h, w = ink.shape
    area = stats[:, cv2.CC_STAT_AREA].astype(np.float64) * factor**2
    x0, y0 = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_TOP]
    x1, y1 = x0 + stats[:, cv2.CC_STAT_WIDTH], y0 + stats[:, cv2.CC_STAT_HEIGHT]
    closed = (x0 > 0) & (y0 > 0) & (x1 < w) & (y1 < h) & (area < FIXTURE_AREA * typical**2)
    closed[0] = False  # ink
    for n, wall in enumerate(walls):
        size = math.hypot(wall.x2 - wall.x1, wall.y2 - wall.y1)
        if size < 1 or wall.thickness >= FIXTURE_THICK * typical:
            continue  # structural walls keep the baths and counters set against them
        ux, uy = (wall.x2 - wall.x1) / size, (wall.y2 - wall.y1) / size
        along = np.linspace(0.05 * size, 0.95 * size, 15)
        xs, ys = wall.x1 + ux * along, wall.y1 + uy * along
        middle = labels[_cells(ys, h, factor), _cells(xs, w, factor)]
        if (middle > 0).mean() < WHITE_SHARE:
            continue  # filled, or crossed by lines: not a gap
        sides = []
        for side in (-1.0, 1.0):
            off = side * (wall.thickness / 2 + max(2.0 * factor, FACE_STEP * typical))
            sides.append(labels[_cells(ys + ux * off, h, factor), _cells(xs - uy * off, w, factor)])
        for beyond, other in (sides, sides[::-1]):
            beyond = beyond[closed[beyond]]
            # one fixture along (nearly) all of it (a partition with a row of them is a
            # wall), and a line, not a filled wall, on the other side
            if beyond.size and np.bincount(beyond).max() >= FIXTURE_SHARE * along.size:
                out[n] = (other == 0).mean() < FIXTURE_SHARE
                break
    return out


def _cells(values: npt.NDArray[np.float64], size: int, factor: int) -> npt.NDArray[np.intp]:
    """Indices in the reduced mask of full-image coordinates, clipped to it."""
    return np.clip((values / factor).astype(np.intp), 0, size - 1)
