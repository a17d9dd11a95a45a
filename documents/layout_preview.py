"""layout's preview.png: the plan from above, the new rooms and partitions in colour.

OpenCV alone, so it runs wherever the worker does (no GPU, no matplotlib). Rooms are filled
in their kind's hue (offices share one, a shade apart so neighbours differ), the corridor
grey, open areas hatched; then the existing walls at their thickness (the shell darker)
with their openings as gaps (doors a thin line, windows light blue); then the new
partitions in strong red (2 px at least, so they never vanish) with their doors as green
gaps, an arrow at the entrance, each room's name and area, and a title with a legend.
"""

from __future__ import annotations

import colorsys
import math
from dataclasses import dataclass

import cv2
import numpy as np
import shapely
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

from documents.layout_candidate import Candidate, PlacedRoom
from documents.layout_program import room_key
from documents.layout_site import Site, lines, polygons

BGR = tuple[int, int, int]
LONG_SIDE = 1600  # pixels: readable room names on a floor of a few hundred m2
MARGIN = 60  # room for the entrance arrow outside the shell
HEADER = 44  # the title and legend line above the plan
SHIFT = 4  # OpenCV fixed-point bits: corners placed to 1/16 pixel
MIN_PARTITION_PX = 2.0
BACKGROUND: BGR = (255, 255, 255)
CORRIDOR_BGR: BGR = (228, 228, 228)
OPEN_BGR: BGR = (246, 246, 246)
HATCH_BGR: BGR = (200, 200, 200)
EXTERIOR_BGR: BGR = (40, 40, 40)
INNER_BGR: BGR = (105, 105, 105)
WINDOW_BGR: BGR = (235, 185, 110)  # light blue
DOOR_BGR: BGR = (60, 60, 60)
PARTITION_BGR: BGR = (30, 40, 215)  # strong red: what is new stands out
NEW_DOOR_BGR: BGR = (40, 160, 20)
ENTRANCE_BGR: BGR = (160, 90, 0)
TEXT_BGR: BGR = (25, 25, 25)
# Hues (degrees) of the usual kinds, matched on a word of the kind; others take the rest.
KIND_HUES = {"office": 210, "meeting": 120, "store": 40, "storage": 40, "kitchen": 20,
             "toilet": 280, "wc": 280, "reception": 170, "archive": 60}  # fmt: skip
SPARE_HUES = (330, 90, 190, 0, 250, 150, 300, 70)
FONT = cv2.FONT_HERSHEY_SIMPLEX


@dataclass(frozen=True)
class Frame:
    """Metres to pixels: ``scale`` pixels a metre, the point ``low`` at the plan's corner."""

    scale: float
    low: tuple[float, float]
    size: tuple[int, int]  # width, height

    def to_pixel(self, x: float, y: float) -> tuple[float, float]:
        px, py = (x - self.low[0]) * self.scale, (y - self.low[1]) * self.scale
        return px + MARGIN, py + MARGIN + HEADER

    def points(self, coords: object) -> np.ndarray:
        """Fixed-point pixel corners of metre coordinates, as OpenCV's polygons take them."""
        xy = np.asarray(coords, dtype=np.float64)[:, :2]
        px = (xy - self.low) * self.scale + (MARGIN, MARGIN + HEADER)
        return np.round(px * (1 << SHIFT)).astype(np.int32)


def frame_of(site: Site) -> Frame:
    """The frame fitting the site and its walls in LONG_SIDE pixels on the long side."""
    walls = [_rect(LineString([(w.x1, w.z1), (w.x2, w.z2)]), w.thickness) for w in site.walls]
    x0, y0, x1, y1 = shapely.unary_union([site.outline, *walls]).bounds
    span_x, span_y = max(x1 - x0, 1e-6), max(y1 - y0, 1e-6)
    scale = min((LONG_SIDE - 2 * MARGIN) / span_x, (LONG_SIDE - 2 * MARGIN - HEADER) / span_y)
    width = min(LONG_SIDE, math.ceil(span_x * scale) + 2 * MARGIN)
    height = min(LONG_SIDE, math.ceil(span_y * scale) + 2 * MARGIN + HEADER)
    return Frame(scale, (x0, y0), (width, height))


def room_fills(rooms: list[PlacedRoom]) -> list[BGR]:
    """Each room's fill: its kind's hue (kinds in order of appearance, each its own),
    lighter or stronger by its rank among rooms of that kind."""
    hues: dict[str, int] = {}
    seen: dict[str, int] = {}
    fills = []
    for room in rooms:
        kind = room_key(room.kind)
        if kind not in hues:
            known = [KIND_HUES[w] for w in kind.split() if w in KIND_HUES]
            free = [h for h in [*known, *SPARE_HUES] if h not in hues.values()]
            hues[kind] = free[0] if free else (len(hues) * 47) % 360
        nth = seen[kind] = seen.get(kind, -1) + 1
        r, g, b = colorsys.hsv_to_rgb(hues[kind] / 360, 0.2 + 0.09 * (nth % 3), 0.97)
        fills.append((round(b * 255), round(g * 255), round(r * 255)))
    return fills


def preview_png(site: Site, candidate: Candidate) -> tuple[bytes, tuple[int, int]]:
    """The PNG and its (width, height)."""
    frame = frame_of(site)
    width, height = frame.size
    image = np.full((height, width, 3), BACKGROUND, dtype=np.uint8)
    fills = room_fills(candidate.rooms)
    _hatch(image, frame, candidate.open_areas)
    _fill(image, frame, candidate.corridor, CORRIDOR_BGR)
    for room, fill in zip(candidate.rooms, fills, strict=True):
        _fill(image, frame, room.polygon, fill)
    _existing(image, frame, site)
    _partitions(image, frame, candidate)
    _entrance(image, frame, site)
    for room, fill in zip(candidate.rooms, fills, strict=True):
        _label(image, frame, room, fill)
    _legend(image, candidate, fills)
    ok, png = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 3])
    if not ok:
        raise RuntimeError("OpenCV could not encode the layout preview as PNG")
    return png.tobytes(), (width, height)


def _rect(line: LineString, thickness: float) -> Polygon:
    """A wall's solid: square ends, so corners close (as the site reads walls)."""
    return line.buffer(max(thickness, 1e-3) / 2, cap_style="square", join_style="mitre")


def _normal(line: LineString) -> tuple[float, float]:
    """The unit normal to the line's first-to-last direction."""
    (ax, ay), (bx, by) = np.asarray(line.coords, dtype=np.float64)[[0, -1], :2].tolist()
    length = math.hypot(bx - ax, by - ay) or 1.0
    return (ay - by) / length, (bx - ax) / length


def _fill(image: np.ndarray, frame: Frame, shape: BaseGeometry, colour: BGR) -> None:
    for poly in polygons(shape):
        rings = [frame.points(poly.exterior.coords)]
        rings += [frame.points(hole.coords) for hole in poly.interiors]
        cv2.fillPoly(image, rings, colour, cv2.LINE_AA, SHIFT)


def _hatch(image: np.ndarray, frame: Frame, areas: list[Polygon]) -> None:
    area = shapely.unary_union(areas)
    _fill(image, frame, area, OPEN_BGR)
    mask, hatch = np.zeros(image.shape[:2], np.uint8), np.zeros(image.shape[:2], np.uint8)
    _fill(mask, frame, area, (255, 255, 255))  # the hatch's stencil
    h, w = image.shape[0], image.shape[1]
    for c in range(-h, w, 12):
        cv2.line(hatch, (c, h), (c + h, 0), 255, 1)
    image[(mask > 127) & (hatch > 0)] = HATCH_BGR


def _existing(image: np.ndarray, frame: Frame, site: Site) -> None:
    """Walls less their openings; then each opening's mark in its gap."""
    zones = shapely.unary_union([o.zone for o in site.openings]) if site.openings else None
    for wall, exterior in zip(site.walls, site.exterior, strict=True):
        rect = _rect(LineString([(wall.x1, wall.z1), (wall.x2, wall.z2)]), wall.thickness)
        solid = rect.difference(zones) if zones is not None else rect
        _fill(image, frame, solid, EXTERIOR_BGR if exterior else INNER_BGR)
    for opening in site.openings:
        if opening.kind == "window":
            pane = opening.span.buffer(opening.thickness / 2, cap_style="flat")
            for poly in polygons(pane):
                ring = frame.points(poly.exterior.coords)
                cv2.polylines(image, [ring], True, WINDOW_BGR, 1, cv2.LINE_AA, SHIFT)
            _line(image, frame, opening.span, WINDOW_BGR, 2)
        elif opening.kind == "door":
            _line(image, frame, opening.span, DOOR_BGR, 1)


def _line(image: np.ndarray, frame: Frame, line: LineString, colour: BGR, px: int) -> None:
    cv2.polylines(image, [frame.points(line.coords)], False, colour, px, cv2.LINE_AA, SHIFT)


def _partitions(image: np.ndarray, frame: Frame, candidate: Candidate) -> None:
    """New partitions at their thickness (MIN_PARTITION_PX at least), doors as green gaps."""
    depth = max(candidate.thickness_m, MIN_PARTITION_PX / frame.scale)
    walls = [_rect(p, depth) for p in candidate.partitions]  # straight segments
    gaps = [d.span.buffer(depth / 2 + 0.01, cap_style="flat") for d in candidate.doors]
    _fill(
        image,
        frame,
        shapely.unary_union(walls).difference(shapely.unary_union(gaps)),
        PARTITION_BGR,
    )
    for door in candidate.doors:
        _line(image, frame, door.span, NEW_DOOR_BGR, 2)
        nx, ny = _normal(door.span)
        for x, y in (door.span.coords[0], door.span.coords[-1]):  # jamb ticks across
            tick = [(x - nx * depth, y - ny * depth), (x + nx * depth, y + ny * depth)]
            _line(image, frame, LineString(tick), NEW_DOOR_BGR, 2)


def _entrance(image: np.ndarray, frame: Frame, site: Site) -> None:
    """A triangle outside the shell, pointing in at the entrance's middle."""
    nx, ny = _normal(site.entrance)
    mid = site.entrance.interpolate(0.5, normalized=True)
    if not site.outline.contains(Point(mid.x + nx * 0.05, mid.y + ny * 0.05)):
        nx, ny = -nx, -ny  # (nx, ny) points into the site
    shell = max([w.thickness for w, e in zip(site.walls, site.exterior, strict=True) if e] or [0])
    tip = np.array(frame.to_pixel(mid.x - nx * shell, mid.y - ny * shell)) - (nx * 4, ny * 4)
    back = tip - np.array([nx, ny]) * 30
    side = np.array([-ny, nx]) * 12
    triangle = np.array([tip, back + side, back - side]) * (1 << SHIFT)
    cv2.fillConvexPoly(image, np.round(triangle).astype(np.int32), ENTRANCE_BGR, cv2.LINE_AA, SHIFT)


def _chord(poly: Polygon, point: Point, across: bool) -> float:
    """The length of the polygon's horizontal (or vertical) chord through ``point``."""
    x0, y0, x1, y1 = poly.bounds
    probe = LineString([(point.x, y0), (point.x, y1)] if across else [(x0, point.y), (x1, point.y)])
    hits = lines(poly.intersection(probe))
    return max((s.length for s in hits if s.distance(point) < 1e-6), default=0.0)


def _label(image: np.ndarray, frame: Frame, room: PlacedRoom, fill: BGR) -> None:
    """Name over area at the room's representative point, shrunk to fit across the room."""
    point = room.polygon.representative_point()
    texts = [room.name.encode("ascii", "replace").decode(), f"{room.polygon.area:.1f} m2"]
    wide = _chord(room.polygon, point, False) * frame.scale * 0.9
    tall = _chord(room.polygon, point, True) * frame.scale * 0.9
    sizes = [cv2.getTextSize(text, FONT, 1.0, 1)[0] for text in texts]
    text_w, line_h = max(s[0] for s in sizes), max(s[1] for s in sizes)
    size = max(0.3, min(0.7, wide / text_w, tall / (line_h * 2.8)))
    cx, cy = frame.to_pixel(point.x, point.y)
    gap, half, high = line_h * size * 0.6, text_w * size / 2 + 4, line_h * size
    # A plate of the room's fill keeps the text readable across an existing wall.
    top, bottom = round(cy - gap / 2 - high - 4), round(cy + gap / 2 + high * 1.4 + 4)
    cv2.rectangle(image, (round(cx - half), top), (round(cx + half), bottom), fill, -1)
    for k, (text, (w, h)) in enumerate(zip(texts, sizes, strict=True)):
        y = cy - gap / 2 if k == 0 else cy + gap / 2 + h * size
        corner = (round(cx - w * size / 2), round(y))
        thick = 2 if k == 0 and size >= 0.5 else 1
        cv2.putText(image, text, corner, FONT, size, TEXT_BGR, thick, cv2.LINE_AA)


def _legend(image: np.ndarray, candidate: Candidate, fills: list[BGR]) -> None:
    """The title, then a swatch for each kind, the corridor and the new partitions."""
    metres = sum(p.length for p in candidate.partitions)
    title = f"{len(candidate.rooms)} rooms, partitions {metres:.1f} m"
    cv2.putText(image, title, (MARGIN // 2, 30), FONT, 0.7, TEXT_BGR, 2, cv2.LINE_AA)
    x = MARGIN // 2 + cv2.getTextSize(title, FONT, 0.7, 2)[0][0] + 30
    keys: dict[str, BGR] = {}
    for room, fill in zip(candidate.rooms, fills, strict=True):
        keys.setdefault(room_key(room.kind), fill)
    keys |= {"corridor": CORRIDOR_BGR, "new partition": PARTITION_BGR}
    for name, colour in keys.items():
        w = cv2.getTextSize(name, FONT, 0.5, 1)[0][0]
        if x + 22 + w > image.shape[1] - MARGIN // 2:
            break  # a narrow picture keeps what fits
        cv2.rectangle(image, (x, 14), (x + 16, 30), colour, -1)
        cv2.rectangle(image, (x, 14), (x + 16, 30), (120, 120, 120), 1)
        cv2.putText(image, name, (x + 22, 28), FONT, 0.5, TEXT_BGR, 1, cv2.LINE_AA)
        x += 22 + w + 24
