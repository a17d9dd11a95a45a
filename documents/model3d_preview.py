"""model3d's preview.png: an axonometric view of the model, flat-shaded, drawn with OpenCV.

No GPU: each box face seen from the camera is filled in a shade of its colour by how it
faces the light, then outlined, far boxes first (the painter's order, by each box's
centre; a box's own faces never overlap, so no finer order is needed). The slab and the
room floors lie under every wall, so they are drawn before all walls; room names last.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import numpy as np

from documents.model3d_mesh import Boxes, Floats, RoomFloor

Projector = Callable[[Floats], Floats]

# The camera looks down from the front left (plan bottom left), 50 degrees above the floor.
AZIMUTH_DEG, ELEVATION_DEG = -30.0, 50.0
LIGHT = np.array([-0.35, 1.0, 0.55]) / np.linalg.norm([-0.35, 1.0, 0.55])
AMBIENT = 0.5
MAX_SIZE = (1400, 1000)  # width, height in pixels
MARGIN = 24
SHIFT = 4  # OpenCV fixed-point bits: corners placed to 1/16 pixel
PNG_LEVEL = 3  # zlib level: two thirds of the default's size, in about the same time
BACKGROUND = (255, 255, 255)
EDGE_BGR = (70, 70, 70)
# Base colours (BGR) as the GLB's materials, in OpenCV's channel order.
WALL_BGR = (212, 222, 226)
PARTITION_BGR = (160, 205, 235)
SLAB_BGR = (170, 170, 170)
ROOM_BGR = ((235, 206, 174), (180, 226, 190), (170, 206, 240), (232, 190, 214))
# Quads of a box (corner indexes as Boxes.corners gives them): top, then the four sides,
# each wound so that (q1 - q0) x (q2 - q0) points out, as BOX_FACES' triangles.
QUADS = np.array([[4, 5, 6, 7], [0, 1, 5, 4], [1, 2, 6, 5], [2, 3, 7, 6], [3, 0, 4, 7]])


def _camera() -> tuple[Floats, Floats, Floats]:
    """Right, up and towards-the-camera unit vectors (x, y, z; y up)."""
    theta, phi = math.radians(AZIMUTH_DEG), math.radians(ELEVATION_DEG)
    toward = np.array(
        [math.sin(theta) * math.cos(phi), math.sin(phi), math.cos(theta) * math.cos(phi)]
    )
    right = np.array([math.cos(theta), 0.0, -math.sin(theta)])
    return right, np.cross(toward, right), toward


def preview_png(
    walls: Boxes, wall_kinds: list[str], slab: Boxes | None, floors: list[RoomFloor | str]
) -> tuple[bytes, tuple[int, int]]:
    """The PNG and its (width, height)."""
    right, up, toward = _camera()
    solids = [walls] + ([slab] if slab is not None else [])
    corners = [boxes.corners().reshape(-1, 3) for boxes in solids if len(boxes.base)]
    corners += [floor.vertices for floor in floors if isinstance(floor, RoomFloor)]
    every = np.concatenate(corners) if corners else np.zeros((1, 3))
    screen = np.stack([every @ right, -(every @ up)], axis=1)
    low, high = screen.min(axis=0), screen.max(axis=0)
    span = np.maximum(high - low, 1e-6)
    room = np.array(MAX_SIZE, dtype=np.float64) - 2 * MARGIN
    scale = float(min(room / span))
    size = (np.ceil(span * scale) + 2 * MARGIN).astype(int)
    image = np.full((int(size[1]), int(size[0]), 3), BACKGROUND, dtype=np.uint8)

    def project(points: Floats) -> Floats:
        flat = np.stack([points @ right, -(points @ up)], axis=-1)
        placed: Floats = np.round((flat - low) * scale + MARGIN) * (1 << SHIFT)
        return placed

    if slab is not None:
        _draw_boxes(image, slab, [SLAB_BGR], project, toward)
    for k, floor in enumerate(floors):
        if isinstance(floor, RoomFloor):
            points = project(floor.vertices).astype(np.int32)
            colour = ROOM_BGR[k % len(ROOM_BGR)]
            triangles = [points[face] for face in floor.faces]
            cv2.fillPoly(image, triangles, colour, cv2.LINE_AA, SHIFT)
    kinds = [PARTITION_BGR if kind == "partition" else WALL_BGR for kind in wall_kinds]
    colours = [kinds[o] if o >= 0 else WALL_BGR for o in walls.owner.tolist()]
    _draw_boxes(image, walls, colours, project, toward)
    for floor in floors:
        if isinstance(floor, RoomFloor):
            outline = project(floor.vertices) / (1 << SHIFT)
            _label(image, floor.name, outline)
    ok, png = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, PNG_LEVEL])
    if not ok:
        raise RuntimeError("OpenCV could not encode the preview as PNG")
    return png.tobytes(), (int(size[0]), int(size[1]))


def _draw_boxes(
    image: np.ndarray,
    boxes: Boxes,
    colours: list[tuple[int, int, int]],
    project: Projector,
    toward: Floats,
) -> None:
    if not len(boxes.base):
        return
    corners = boxes.corners()  # (n, 8, 3)
    quads = corners[:, QUADS]  # (n, 5, 4, 3)
    normals = np.cross(quads[:, :, 1] - quads[:, :, 0], quads[:, :, 2] - quads[:, :, 0])
    lengths = np.linalg.norm(normals, axis=2, keepdims=True)
    normals = normals / np.where(lengths > 0, lengths, 1.0)
    seen = (normals @ toward) > 1e-9
    light = AMBIENT + (1 - AMBIENT) * np.clip(normals @ LIGHT, 0.0, 1.0)
    points = project(quads).astype(np.int32)  # (n, 5, 4, 2)
    order = np.argsort(corners.mean(axis=1) @ toward, kind="stable")  # far first
    base = np.array(colours, dtype=np.float64)
    for box in order.tolist():
        for face in np.flatnonzero(seen[box]).tolist():
            shade = tuple(float(c) for c in base[box] * light[box, face])
            outline = points[box, face]
            cv2.fillConvexPoly(image, outline, shade, cv2.LINE_AA, SHIFT)
            cv2.polylines(image, [outline], True, EDGE_BGR, 1, cv2.LINE_AA, SHIFT)


def _label(image: np.ndarray, node: str, outline: Floats) -> None:
    """The room's name (its node's, less "room-N ") at its middle, if it fits across."""
    text = (node.split(" ", 1)[1] if " " in node else node).encode("ascii", "replace").decode()
    font, size = cv2.FONT_HERSHEY_SIMPLEX, 0.4
    (width, height), _ = cv2.getTextSize(text, font, size, 1)
    if width > 0.8 * float(np.ptp(outline[:, 0])):
        return  # a crowded plan stays readable without it
    centre = outline.mean(axis=0)
    corner = (int(centre[0]) - width // 2, int(centre[1]) + height // 2)
    cv2.putText(image, text, corner, font, size, (255, 255, 255), 3, cv2.LINE_AA)
    cv2.putText(image, text, corner, font, size, (40, 40, 40), 1, cv2.LINE_AA)
