"""Synthetic raster floor plans with exact wall truth, drawn with OpenCV.

``synthetic_plan(seed)`` draws a rectangular building split into rooms (walls filled or
hollow, exterior thicker than interior, door gaps with swing arcs and leaves) and fills it
with what is not a wall: a stair (a run of parallel, equally spaced treads), beds,
wardrobes, a kitchen counter with a sink, a bath, a table with chairs, a hatched balcony
and room labels (cv2.putText). The truth is every wall piece between openings, as a
centre line with its thickness, in pixels. Even seeds are for tuning, odd seeds held out.
"""

from __future__ import annotations

import random

import cv2
import numpy as np
import numpy.typing as npt

from documents.model import Wall

U8 = npt.NDArray[np.uint8]


def synthetic_plan(seed: int, scale: float = 120.0) -> tuple[U8, list[Wall]]:
    """A plan image (``scale`` px per metre, 1.2 m paper margin) and its truth walls."""
    rng = random.Random(seed)
    width_m, height_m = rng.uniform(12, 20), rng.uniform(8, 13)
    outer, inner = rng.uniform(0.2, 0.3), rng.uniform(0.1, 0.15)
    hollow = seed % 4 >= 2
    margin = 1.2
    size = (int((width_m + 2 * margin) * scale), int((height_m + 2 * margin) * scale))
    image = np.full((size[1], size[0]), 255, np.uint8)
    line = max(1, round(scale / 40))

    def px(x: float, y: float) -> tuple[int, int]:
        return round((x + margin) * scale), round((y + margin) * scale)

    # interior walls: vertical splits, and a horizontal corridor wall in each bay
    xs = sorted(rng.uniform(0.2, 0.8) * width_m for _ in range(rng.randint(2, 3)))
    xs = [x for i, x in enumerate(xs) if i == 0 or x - xs[i - 1] > 2.5]
    y_split = rng.uniform(0.4, 0.6) * height_m
    segments: list[tuple[float, float, float, float, float]] = [
        (0, 0, width_m, 0, outer), (width_m, 0, width_m, height_m, outer),
        (width_m, height_m, 0, height_m, outer), (0, height_m, 0, 0, outer),
    ]  # fmt: skip
    segments += [(x, 0, x, height_m, inner) for x in xs]
    segments.append((0, y_split, width_m, y_split, inner))
    doors: list[tuple[float, float, bool]] = []  # x, y of a door's start, along x?
    bays = [0.0, *xs, width_m]
    for a, b in zip(bays, bays[1:], strict=False):
        doors.append((rng.uniform(a + 0.4, b - 1.3), y_split, True))
    for x in xs:
        doors.append((x, rng.uniform(0.3, y_split - 1.3), False))
    truth: list[Wall] = []
    for x1, y1, x2, y2, t in segments:
        cuts = [(d[0], d[0] + 0.9) if y1 == y2 else (d[1], d[1] + 0.9) for d in doors
                if (y1 == y2 == d[1] and d[2]) or (x1 == x2 == d[0] and not d[2])]  # fmt: skip
        lo, hi = (min(x1, x2), max(x1, x2)) if y1 == y2 else (min(y1, y2), max(y1, y2))
        pieces, start = [], lo - (t / 2 if t == outer else 0)
        for c0, c1 in sorted(cuts):
            pieces.append((start, c0))
            start = c1
        pieces.append((start, hi + (t / 2 if t == outer else 0)))
        for p0, p1 in pieces:
            one, two = (px(p0, y1), px(p1, y1)) if y1 == y2 else (px(x1, p0), px(x1, p1))
            ax, ay, bx, by = (float(v) for v in (*one, *two))
            truth.append(Wall(ax, ay, bx, by, t * scale))
    for wall in truth:
        cv2.rectangle(image, *_band(wall, 0), 0, -1)
    # Empty the walls' insides, leaving their outlines; twice, so that a wall's end cap or
    # side inside another wall is erased by the other (open junctions, as drawn by CAD).
    for wall in truth * 2 if hollow else []:
        cv2.rectangle(image, *_band(wall, line), 255, -1)
    for x, y, along in doors:  # leaf and swing arc
        r = round(0.9 * scale)
        if along:
            cv2.line(image, px(x, y), px(x, y + 0.9), 0, line)
            cv2.ellipse(image, px(x, y), (r, r), 0, 0, 90, 0, line)
        else:
            cv2.line(image, px(x, y), px(x + 0.9, y), 0, line)
            cv2.ellipse(image, px(x, y), (r, r), 0, 0, 90, 0, line)
    _furnish(image, rng, px, scale, line, (bays, y_split, height_m, inner))
    return image, truth


def _band(wall: Wall, inset: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """Corners of an axis-parallel wall's rectangle, ``inset`` px in from every side."""
    half = wall.thickness / 2 - inset
    x0, x1 = sorted((wall.x1, wall.x2))
    y0, y1 = sorted((wall.y1, wall.y2))
    if wall.y1 == wall.y2:
        return (round(x0) + inset, round(y0 - half)), (round(x1) - inset, round(y1 + half))
    return (round(x0 - half), round(y0) + inset), (round(x1 + half), round(y1) - inset)


def _furnish(image: U8, rng: random.Random, px: object, scale: float, line: int,
             layout: tuple[list[float], float, float, float]) -> None:  # fmt: skip
    """Stairs, furniture, fixtures, hatching and labels, inside the rooms."""
    assert callable(px)
    bays, y_split, height_m, inner = layout
    font = cv2.FONT_HERSHEY_SIMPLEX
    for n, (a, b) in enumerate(zip(bays, bays[1:], strict=False)):
        top, low = (0.0, y_split), (y_split, height_m)
        room_w = b - a - inner
        # a stair in the first bay's lower room: treads 0.28 m apart, a handrail
        if n == 0 and low[1] - low[0] > 3.4 and room_w > 1.8:
            x0, y0 = a + 0.3, low[0] + 0.4
            cv2.rectangle(image, px(x0, y0), px(x0 + 1.0, y0 + 2.8), 0, line)
            for k in range(1, 10):
                cv2.line(image, px(x0, y0 + 0.28 * k), px(x0 + 1.0, y0 + 0.28 * k), 0, line)
            cv2.line(image, px(x0 + 0.5, y0 + 0.2), px(x0 + 0.5, y0 + 2.6), 0, line)
        else:  # a bed with pillows and a wardrobe against the wall
            x0, y0 = a + inner / 2 + 0.1, low[1] - 2.1
            cv2.rectangle(image, px(x0, y0), px(x0 + 1.6, y0 + 2.0), 0, line)
            for side in (0.15, 0.85):
                cv2.rectangle(
                    image, px(x0 + side, y0 + 1.6), px(x0 + side + 0.6, y0 + 1.9), 0, line
                )
            wx = b - inner / 2 - 0.62
            cv2.rectangle(image, px(wx, low[0] + 0.3), px(wx + 0.6, low[0] + 2.0), 0, line)
            cv2.line(image, px(wx + 0.05, low[0] + 0.3), px(wx + 0.05, low[0] + 2.0), 0, line)
        # a kitchen counter along the top wall with a sink, or a bath and a table
        if n % 2 == 0 and room_w > 2.5:
            x0, y0 = a + inner / 2 + 0.4, top[0] + 0.15
            cv2.rectangle(image, px(x0, y0), px(x0 + 2.0, y0 + 0.6), 0, line)
            cv2.rectangle(image, px(x0 + 0.3, y0 + 0.08), px(x0 + 0.9, y0 + 0.5), 0, line)
            for k in range(4):
                y = y0 + 0.15 + 0.08 * k
                cv2.line(image, px(x0 + 1.0, y), px(x0 + 1.4, y), 0, line)
        else:
            x0, y0 = a + inner / 2 + 0.1, top[0] + 0.2
            cv2.rectangle(image, px(x0, y0), px(x0 + 0.75, y0 + 1.7), 0, line)
            cv2.ellipse(image, px(x0 + 0.37, y0 + 0.85), (round(0.25 * scale),
                        round(0.7 * scale)), 0, 0, 360, 0, line)  # fmt: skip
        cx, cy = (a + b) / 2, (top[0] + top[1]) / 2 + 0.6
        cv2.circle(image, px(cx, cy), round(0.5 * scale), 0, line)
        for dx in (-0.75, 0.75):
            cv2.rectangle(image, px(cx + dx - 0.2, cy - 0.2), px(cx + dx + 0.2, cy + 0.2), 0, line)
        label = rng.choice(["LIVING", "BED 2", "KITCHEN", "BATH", "HALL", "OFFICE"])
        org = px(a + 0.5, (top[0] + top[1]) / 2 - 0.4)
        cv2.putText(image, label, org, font, scale / 90, 0, max(1, line))
        cv2.putText(image, f"{rng.uniform(6, 30):.1f} m2", (org[0], org[1] + round(0.45 * scale)),
                    font, scale / 110, 0, max(1, line))  # fmt: skip
    # a hatched strip (balcony) outside the top wall
    right = bays[-1]
    x0, x1 = px(right * 0.3, -1.0)[0], px(right * 0.7, -1.0)[0]
    y0, y1 = px(0, -1.0)[1], px(0, -0.25)[1]
    cv2.rectangle(image, (x0, y0), (x1, y1), 0, line)
    step = int(max(4, round(0.15 * scale)))
    for x in range(x0, x1, step):
        cv2.line(image, (x, y1), (min(x1, x + (y1 - y0)), y0), 0, max(1, line // 2))
