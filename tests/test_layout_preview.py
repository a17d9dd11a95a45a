"""layout's preview.png (documents.layout_preview) on laid-out synthetic sites and the East
plan. Pure: no Redis, no processes.

The picture is read back pixel by pixel through the same frame that drew it: partitions
are red along their centre lines, each room shows its fill and dark text round its
representative point, kinds differ in hue, the corridor is grey, open areas hatched, the
entrance marked, and nothing spills off the canvas.
"""

from __future__ import annotations

import colorsys
import dataclasses
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest
from shapely.geometry import Point, box

from documents.ingest import IngestOptions, Limits, ingest_document
from documents.layout_brief import parse_brief
from documents.layout_candidate import Candidate
from documents.layout_generate import generate
from documents.layout_preview import (
    CORRIDOR_BGR,
    ENTRANCE_BGR,
    HATCH_BGR,
    LONG_SIDE,
    PARTITION_BGR,
    WINDOW_BGR,
    Frame,
    frame_of,
    preview_png,
    room_fills,
)
from documents.layout_program import Program, RoomRequest, resolve
from documents.layout_site import Site, site_of
from tests.layout_sites import RECTANGLE, OpeningSpec, wall_list, windows_along

EAST = Path(__file__).parent / "data" / "cfast_East_Structure_Dimensioned_Instrumentation.pdf"
OPENINGS: list[OpeningSpec] = [(0, "door", 6.5, 7.4), *windows_along(2, 15), *windows_along(1, 10)]
Image = np.ndarray


def laid_out(seed: int = 0) -> tuple[Site, Candidate]:
    site = site_of(wall_list(RECTANGLE, OPENINGS))
    program = resolve(Program([
        RoomRequest("office", 12, 4, needs_window=True),
        RoomRequest("meeting room", 20, max_area_m2=30),
        RoomRequest("kitchen", 8),
    ]))  # fmt: skip
    return site, generate(site, program, seed)


def drawn(site: Site, candidate: Candidate) -> tuple[Image, Frame]:
    png, (width, height) = preview_png(site, candidate)
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None and image.shape == (height, width, 3)
    return image, frame_of(site)


def pixel(image: Image, frame: Frame, x: float, y: float) -> tuple[int, int, int]:
    px, py = frame.to_pixel(x, y)
    b, g, r = image[round(py), round(px)].tolist()
    return b, g, r


def around(image: Image, frame: Frame, x: float, y: float, half: int) -> Image:
    px, py = (round(v) for v in frame.to_pixel(x, y))
    return image[py - half : py + half + 1, px - half : px + half + 1].reshape(-1, 3)


def has(pixels: Image, colour: tuple[int, int, int], tolerance: int = 0) -> bool:
    return bool((np.abs(pixels.astype(int) - colour).max(axis=1) <= tolerance).any())


def test_the_png_decodes_at_its_size_with_the_long_side_as_intended() -> None:
    site, candidate = laid_out()
    image, frame = drawn(site, candidate)
    height, width = image.shape[:2]
    assert width == LONG_SIDE and 0.6 * LONG_SIDE < height < 0.75 * LONG_SIDE  # 15 x 10 m
    assert frame.size == (width, height)
    # Nothing off the canvas: a white border all round.
    assert all((side == 255).all() for side in (image[:8], image[-8:], image[:, :8], image[:, -8:]))


def test_partitions_are_red_along_their_centre_lines_and_doors_break_them() -> None:
    site, candidate = laid_out()
    image, frame = drawn(site, candidate)
    assert candidate.partitions and candidate.doors
    checked = 0
    for partition in candidate.partitions:
        for k in range(1, 20):
            point = partition.interpolate(k / 20, normalized=True)
            if any(d.span.distance(point) < 0.3 for d in candidate.doors):
                continue
            assert pixel(image, frame, point.x, point.y) == PARTITION_BGR, (partition, k)
            checked += 1
    assert checked > 40
    for door in candidate.doors:  # the door's middle is a gap: not red
        middle = door.span.interpolate(0.5, normalized=True)
        assert pixel(image, frame, middle.x, middle.y) != PARTITION_BGR


def test_a_partition_thinner_than_a_pixel_is_still_drawn() -> None:
    site, candidate = laid_out()
    thin = dataclasses.replace(candidate, thickness_m=0.001)
    image, frame = drawn(site, thin)
    partition = max(thin.partitions, key=lambda p: p.length)
    point = partition.interpolate(0.25, normalized=True)
    if any(d.span.distance(point) < 0.3 for d in thin.doors):
        point = partition.interpolate(0.75, normalized=True)
    b, g, r = pixel(image, frame, point.x, point.y)
    assert r > 180 and g < 90 and b < 90


def test_each_room_shows_its_fill_and_dark_text_at_its_representative_point() -> None:
    site, candidate = laid_out()
    image, frame = drawn(site, candidate)
    fills = room_fills(candidate.rooms)
    for room, fill in zip(candidate.rooms, fills, strict=True):
        point = room.polygon.representative_point()
        half = 50
        reach = half / frame.scale
        # The neighbourhood looked at lies inside the room, clear of its walls.
        assert box(point.x - reach, point.y - reach, point.x + reach, point.y + reach).within(
            room.polygon
        )
        pixels = around(image, frame, point.x, point.y, half)
        assert has(pixels, fill), room.name
        assert ((pixels.astype(int).max(axis=1)) < 80).sum() > 30, room.name  # text


def test_rooms_of_different_kinds_differ_and_offices_share_a_hue() -> None:
    site, candidate = laid_out()
    image, frame = drawn(site, candidate)
    seen: dict[str, set[tuple[int, int, int]]] = {}
    for room in candidate.rooms:
        point = room.polygon.representative_point()
        pixels = around(image, frame, point.x, point.y, 60)
        common = Counter(map(tuple, pixels.tolist())).most_common(1)[0][0]
        seen.setdefault(room.kind, set()).add(common)
    assert set(seen) == {"office", "meeting room", "kitchen"}
    kinds = list(seen.values())
    for k, one in enumerate(kinds):
        for other in kinds[k + 1 :]:
            assert not one & other

    def hue(bgr: tuple[int, int, int]) -> float:
        return colorsys.rgb_to_hsv(bgr[2] / 255, bgr[1] / 255, bgr[0] / 255)[0]

    assert len({round(hue(c), 2) for c in seen["office"]}) == 1
    assert len({round(hue(c), 2) for k, v in seen.items() for c in v}) == 3


def test_corridor_open_areas_windows_and_entrance_are_marked() -> None:
    site, candidate = laid_out()
    # An open area put over one room: it is drawn hatched beneath the room's fill, so
    # take the room out and leave its floor open.
    room = candidate.rooms[-1]
    opened = dataclasses.replace(
        candidate, rooms=candidate.rooms[:-1], open_areas=[room.polygon], doors=[]
    )
    image, frame = drawn(site, opened)
    point = room.polygon.representative_point()
    assert has(around(image, frame, point.x, point.y, 30), HATCH_BGR)
    inside = candidate.corridor.buffer(-0.2).representative_point()
    assert pixel(image, frame, inside.x, inside.y) == CORRIDOR_BGR
    windows = [o for o in site.openings if o.kind == "window"]
    assert windows
    for window in windows:
        middle = window.span.interpolate(0.5, normalized=True)
        assert has(around(image, frame, middle.x, middle.y, 2), WINDOW_BGR, 8)
    entrance = site.entrance.interpolate(0.5, normalized=True)
    assert site.entrance.distance(Point(7.0, 0.15)) < 0.5  # the north door
    assert has(around(image, frame, entrance.x, entrance.y, 50), ENTRANCE_BGR)
    assert not has(around(image, frame, 3.0, 5.0, 50), ENTRANCE_BGR)


@pytest.fixture(scope="module")
def east() -> Site:
    result = ingest_document(EAST.read_bytes(), IngestOptions(), lambda *_: None, Limits())
    return site_of(result)


def test_the_east_plan_draws_its_layout(east: Site) -> None:
    brief = "an office of at least 9 m2 along the windows, a 12 m2 meeting room, 2 stores of 4 m2"
    candidate = generate(east, resolve(parse_brief(brief).program), 0)
    png, (width, height) = preview_png(east, candidate)
    Path("/tmp/layout_preview_east.png").write_bytes(png)
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None and image.shape == (height, width, 3)
    assert max(width, height) == LONG_SIDE
    assert (image[-8:] == 255).all() and (image[:, :8] == 255).all()
    assert (image[:, -8:] == 255).all()
    frame = frame_of(east)
    for room, fill in zip(candidate.rooms, room_fills(candidate.rooms), strict=True):
        point = room.polygon.representative_point()
        assert has(around(image, frame, point.x, point.y, 40), fill), room.name
