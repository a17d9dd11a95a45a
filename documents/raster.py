"""Raster floor plans: decode an image safely, then find its walls in pixel units.

``load_image`` trusts the bytes, not a name (PNG and JPEG by magic bytes), and checks the
pixel count in the header before decoding. ``raster_walls`` finds walls drawn filled or
hollow (two thin lines, white between) by scanning a reduced ink mask for wall-wide
cross-sections that persist along the wall; other angles are rotated upright first.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from documents.errors import CorruptDocumentError, DocumentTooLargeError, NotADocumentError
from documents.model import Wall
from documents.raster_clutter import family_members, without_clutter
from documents.raster_hollow import fixture_faces, open_gaps

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
# JPEG start-of-frame markers (all but DHT C4, JPG C8 and DAC CC) carry the image size.
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_WORK_SIDE = 2500  # the reduced mask's longer side stays under this (speed, memory)
_ANGLE_SIDE = 1600  # and the one drawing angles are read from

U8 = npt.NDArray[np.uint8]
Segment = tuple[float, float, float, float]  # upright: centre x, top y, bottom y, thickness
Found = tuple[bool, float, float, float, float, bool]  # upright?, segment, between walls?


def image_header(data: bytes) -> tuple[str, int, int]:
    """``(kind, width, height)`` from the header alone; kind is ``"png"`` or ``"jpeg"``."""
    if data.startswith(PNG_MAGIC):
        if len(data) < 33 or data[12:16] != b"IHDR":
            raise CorruptDocumentError("PNG without a complete IHDR header")
        (width, height), kind = struct.unpack(">II", data[16:24]), "png"
    elif data.startswith(JPEG_MAGIC):
        (width, height, _), kind = _jpeg_frame(data), "jpeg"
    else:
        raise NotADocumentError("not a PNG or JPEG image (unknown leading bytes)")
    if width == 0 or height == 0:
        raise CorruptDocumentError(f"the {kind.upper()} header gives an empty image")
    return kind, width, height


def _jpeg_frame(data: bytes) -> tuple[int, int, int]:
    """Walk the JPEG marker segments: width and height (SOF), offset of the first scan."""
    pos, size = 2, None
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker in (0xFF, 0x01) or 0xD0 <= marker <= 0xD8:  # fill byte, no length
            pos += 1 if marker == 0xFF else 2
        elif marker == 0xDA and size is not None:
            return size[0], size[1], pos
        else:
            (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
            if marker in _SOF and length >= 7 and pos + 9 <= len(data):
                size = struct.unpack(">HH", data[pos + 5 : pos + 9])[::-1]  # width, height
            pos += 2 + length
    raise CorruptDocumentError("JPEG without a frame header or scan (truncated or damaged)")


def _decode(data: bytes, max_pixels: int, jpeg_flags: int) -> npt.NDArray[Any]:
    """The decoded PNG (as stored: alpha and 16 bits kept) or JPEG (``jpeg_flags``), after
    checking the header's pixel count. Raises DocumentTooLargeError, CorruptDocumentError,
    NotADocumentError."""
    kind, width, height = image_header(data)
    if width * height > max_pixels:
        raise DocumentTooLargeError(f"image is {width} x {height} px, over {max_pixels} pixels")
    if kind == "jpeg" and data.rfind(b"\xff\xd9") < _jpeg_frame(data)[2]:
        raise CorruptDocumentError("JPEG is truncated (no end-of-image marker after the scan)")
    # IMREAD_UNCHANGED keeps PNG alpha; the other modes apply JPEG EXIF orientation.
    flags = cv2.IMREAD_UNCHANGED if kind == "png" else jpeg_flags
    try:
        image: npt.NDArray[Any] | None = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    except cv2.error as exc:
        raise CorruptDocumentError(f"cannot decode the {kind.upper()} image: {exc}") from exc
    if image is None or image.size == 0:
        raise CorruptDocumentError(f"cannot decode the {kind.upper()} image (damaged data)")
    return image


def load_image(data: bytes, max_pixels: int) -> U8:
    """PNG or JPEG to grayscale uint8 (alpha over white, EXIF orientation applied). Raises
    DocumentTooLargeError (header over max_pixels), CorruptDocumentError, NotADocumentError."""
    image = _decode(data, max_pixels, cv2.IMREAD_GRAYSCALE)
    image = image if image.dtype == np.uint8 else (image // 257).astype(np.uint8)  # 16 bit
    channels = image.shape[2] if image.ndim == 3 else 1
    code = {3: cv2.COLOR_BGR2GRAY, 4: cv2.COLOR_BGRA2GRAY}.get(channels)
    gray = cv2.cvtColor(image, code) if code else np.ascontiguousarray(np.atleast_3d(image)[..., 0])
    if channels in (2, 4):  # gray = 255 - (255 - gray) * alpha / 255, in place
        alpha = cv2.extractChannel(image, channels - 1)
        np.subtract(255, gray, out=gray)
        cv2.multiply(gray, alpha, dst=gray, scale=1.0 / 255.0)
        np.subtract(255, gray, out=gray)
    return np.asarray(gray, np.uint8)


def image_png(data: bytes, max_pixels: int) -> tuple[bytes, tuple[int, int]]:
    """A PNG or JPEG as a PNG of its own pixels (colour, alpha and depth kept, a JPEG's
    EXIF orientation applied) and its ``(width, height)``; raises as ``load_image``."""
    image = _decode(data, max_pixels, cv2.IMREAD_ANYCOLOR)
    ok, png = cv2.imencode(".png", image)
    if not ok:
        raise CorruptDocumentError("the decoded image cannot be written as a PNG")
    return png.tobytes(), (int(image.shape[1]), int(image.shape[0]))


def without_print(gray: U8, boxes: Sequence[tuple[int, int, int, int]]) -> U8:
    """A copy of ``gray`` with ``boxes`` (left, top, right, bottom: the words a text layer
    gives) painted white, but for long strokes that are not wholly inside one of them
    (over twice the typical box height: a wall a label touches or sits on)."""
    clean = np.array(gray, dtype=np.uint8, order="C")
    if not boxes:
        return clean
    _, ink = cv2.threshold(clean, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    box_at = np.full(clean.shape, -1, np.int32)  # which box covers each pixel
    for n, (left, top, right, bottom) in enumerate(boxes):
        box_at[top:bottom, left:right] = n
    x, y, w, h = (stats[1:, k] for k in range(4))
    owner = box_at[y + h // 2, x + w // 2]  # the box around each patch's centre
    left, top, right, bottom = np.asarray(boxes).T[:, np.maximum(owner, 0)]
    inside = (owner >= 0) & (x >= left) & (y >= top) & (x + w <= right) & (y + h <= bottom)
    line = 2 * float(np.median([b[3] - b[1] for b in boxes]))
    strokes = np.flatnonzero(~inside & (np.maximum(w, h) > line)) + 1
    clean[(box_at >= 0) & ~np.isin(labels, strokes)] = 255
    return clean


def raster_walls(
    gray: U8, *, min_thickness: float | None = None, max_thickness: float | None = None
) -> list[Wall]:
    """Walls of a grayscale plan (dark ink on light paper), in pixels of ``gray``.

    ``min_thickness``/``max_thickness`` (pixels) bound the thickness if the scale is known,
    else 2 working pixels (and 1.5 line widths) to 5 % of the longer side. Walls over 1.5
    times the typical thickness (length-squared weighted median, corridors not counted) or
    shorter than 1.5 times it are dropped, and so are stairs, fixtures, furniture and thin
    strokes (``documents.raster_clutter``)."""
    if gray.ndim != 2 or min(gray.shape) < 8:
        return []
    factor = max(1, math.ceil(max(gray.shape) / _WORK_SIDE))
    ink, solid, threshold = _ink_masks(gray, factor)
    side, min_len = max(ink.shape), max(6.0, 0.004 * max(ink.shape))
    every_mark, ink = ink, _drop_small(ink, min_len)
    solid &= ink
    runs = [_runs(m)[1:] for m in (ink, np.ascontiguousarray(ink.T))]  # line width: the
    widths = np.concatenate([lengths[values == 1] for lengths, values in runs])  # commonest
    widths = widths[widths <= max(3, 0.004 * side)]  # inked run up to 0.4 % of the side
    line = float(max(1, int(np.argmax(np.bincount(widths, minlength=2)))))
    lo = max(2.0, 1.5 * line) if min_thickness is None else max(1.0, min_thickness / factor)
    hi = max(lo + 2, 0.05 * side) if max_thickness is None else max_thickness / factor
    frames = [_walls_at_angle(ink, solid, a, (line, lo, hi, min_len)) for a in _angles(ink)]
    main = sorted((s[4], (s[3] - s[2]) ** 2) for _, walls in frames for s in walls if not s[5])
    weight = np.cumsum([w for _, w in main])  # length-squared weighted median thickness:
    typical = main[int(np.searchsorted(weight, weight[-1] / 2))][0] if main else 0.0
    hi = min(hi, 1.5 * typical) if main else hi
    found = []
    for back, walls in frames:
        upright, lying = (
            _suppress(
                _not_family(_merge([s[1:5] for s in walls if s[0] is up and s[4] <= hi]), typical),
                line,
                typical,
            )
            for up in (True, False)
        )
        ends = [(x, y1, x, y2, t) for x, y1, y2, t in _snap(upright, lying)]
        ends += [(y1, x, y2, x, t) for x, y1, y2, t in _snap(lying, upright)]
        for x1, y1, x2, y2, t in ends:
            (a, b), (c, d) = (back @ np.array([[x1, x2], [y1, y2], [1.0, 1.0]])).T * factor
            found.append(Wall(float(a), float(b), float(c), float(d), t * factor))
    paper = float(np.median(gray[::16, ::16]))  # any mark, even light gray, closes a gap
    gaps = open_gaps(found, gray, paper - max(8.0, (paper - threshold) / 4), typical * factor)
    gaps |= fixture_faces(found, every_mark, factor, typical * factor)
    return without_clutter(
        [w for w, gap in zip(found, gaps, strict=True) if not gap], typical * factor
    )


def _ink_masks(gray: U8, factor: int) -> tuple[U8, U8, float]:
    """0/1 masks of dark pixels (Otsu threshold), reduced by ``factor``: ``ink`` where any
    pixel of a block is dark (thin lines survive), ``solid`` where at least half are; and
    the threshold (gray levels at or under it are ink)."""
    threshold, full = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    size = (gray.shape[1] // factor, gray.shape[0] // factor)
    # One block average gives both (a single dark pixel of up to 15 x 15 still rounds up).
    share = cv2.resize(
        full[: size[1] * factor, : size[0] * factor], size, interpolation=cv2.INTER_AREA
    )
    return (share > 0).view(np.uint8), (share >= 128).view(np.uint8), float(threshold)


def _drop_small(ink: U8, min_len: float) -> U8:
    """Remove ink under ``min_len`` (symbols, dashes) and text: pieces under 3 % of the side,
    25-90 % inked (not outlines or solid), three or more ``min_len`` apart at most."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    w, h = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    density = stats[:, cv2.CC_STAT_AREA] / np.maximum(w * h, 1)
    texty = (np.maximum(w, h) < 0.03 * max(ink.shape)) & (density >= 0.25) & (density < 0.9)
    texty[0] = False
    pixels = texty[labels]
    near = cv2.dilate(pixels.view(np.uint8), np.ones((int(min_len) | 1,) * 2, np.uint8))
    group = np.zeros(count, np.int32)
    group[labels[pixels]] = cv2.connectedComponents(near, connectivity=8)[1][pixels]
    members = np.bincount(group[texty], minlength=int(group.max()) + 1)
    keep = (np.maximum(w, h) >= min_len) & ~(texty & (members[group] >= 3))
    keep[0] = False
    return np.asarray(keep[labels], np.uint8)


def _runs(mask: U8) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], U8]:
    """Row runs of a 2-D mask: flat start index, length and value of each run."""
    flat = mask.ravel()
    change = np.empty(flat.size, np.bool_)
    np.not_equal(flat[1:], flat[:-1], out=change[1:])
    change[:: mask.shape[1]] = True
    starts = np.flatnonzero(change)
    return starts, np.diff(starts, append=flat.size), flat[starts]


def _angles(ink: U8, most: int = 3) -> list[float]:
    """Up to ``most`` drawing angles in [-45, 45): peaks of LSD segment angles mod 90."""
    step = max(1, math.ceil(max(ink.shape) / _ANGLE_SIDE))  # angles need no fine detail
    small = cv2.resize(
        ink * 255, (ink.shape[1] // step, ink.shape[0] // step), interpolation=cv2.INTER_AREA
    )
    lines = cv2.createLineSegmentDetector().detect(np.where(small > 0, 255, 0).astype(np.uint8))[0]
    if lines is None or lines.size == 0:  # blank paper, or ink with no edge (all black)
        return [0.0]
    x1, y1, x2, y2 = lines.reshape(-1, 4).T.astype(np.float64)
    angle = np.degrees(np.arctan2(y2 - y1, x2 - x1)) % 90.0
    weight = np.hypot(x2 - x1, y2 - y1)
    hist = np.bincount(np.round(angle * 2).astype(np.intp) % 180, weight, minlength=180)
    hist += np.roll(hist, 1) + np.roll(hist, -1)
    chosen: list[float] = []
    for peak in np.argsort(hist)[::-1][: 20 * most]:
        # A peak of no weight (only zero-length segments) is no direction at all.
        if len(chosen) == most or not hist[peak] > 0 or hist[peak] < 0.25 * hist.max():
            break
        if all(abs((peak / 2 - c + 45.0) % 90.0 - 45.0) >= 5 for c in chosen):
            offset = (angle - peak / 2 + 45.0) % 90.0 - 45.0
            near = np.abs(offset) <= 1.0
            # np.average refuses weights summing to zero; the bin centre is then the angle.
            total = float(weight[near].sum())
            shift = float(offset[near] @ weight[near]) / total if total > 0 else 0.0
            chosen.append(peak / 2 + shift)
    return [(a + 45.0) % 90.0 - 45.0 for a in chosen] or [0.0]


def _walls_at_angle(
    ink: U8, solid: U8, angle: float, limits: tuple[float, float, float, float]
) -> tuple[npt.NDArray[np.float64], list[Found]]:
    """Walls at ``angle`` (+ 90) degrees, rotated upright: the way back, the walls found."""
    height, width = ink.shape
    back = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    if abs(angle) >= 0.25:
        cos, sin = abs(math.cos(math.radians(angle))), abs(math.sin(math.radians(angle)))
        size = (int(width * cos + height * sin) + 2, int(width * sin + height * cos) + 2)
        rot = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
        rot[:, 2] += (size[0] / 2 - width / 2, size[1] / 2 - height / 2)
        turn = (cv2.warpAffine(m * 255, rot, size, flags=cv2.INTER_LINEAR) for m in (ink, solid))
        ink, solid = ((m > 0).view(np.uint8) for m in turn)
        back = cv2.invertAffineTransform(rot).astype(np.float64)
    found = _axis_walls(ink, solid, True, *limits)
    ink, solid = np.ascontiguousarray(ink.T), np.ascontiguousarray(solid.T)
    return back, found + _axis_walls(ink, solid, False, *limits)


def _axis_walls(
    ink: U8, solid: U8, up: bool, line: float, lo: float, hi: float, min_len: float
) -> list[Found]:
    """Upright walls from row cross-sections: gaps between lines (hollow; marked if walls
    lie past both lines) or solid runs (filled) persisting straight over min_len, 1.5 w."""
    height, width = ink.shape
    kernel, found = np.ones((max(3, int(min_len)), 1), np.uint8), []
    straight = [cv2.morphologyEx(ink, cv2.MORPH_OPEN, k) for k in (kernel, kernel.T)]
    lines = np.asarray(cv2.bitwise_or(*straight), np.uint8)  # no hatching, text, arcs
    for mask, value in ((lines, 0), (solid, 1)):
        starts, lengths, values = _runs(mask)
        row = starts // width
        inner = (starts % width > 0) & (starts % width + lengths < width)
        chosen = inner & (values == value) & (lengths <= hi)
        chosen &= lengths >= max(lo, 2.5 * line * value)
        ids = np.repeat(np.arange(row.size, dtype=np.int32), lengths).reshape(height, width)
        for step in (-1, 1):  # cut where a strip meets a much wider or a shifted one
            o = ids[np.clip(row + step, 0, height - 1), (starts + lengths // 2) % width]
            moved = starts - starts[o] + step * width  # start shift; then the end's
            moved = (np.abs(moved) > 2) & (np.abs(moved + lengths - lengths[o]) > 2)
            wider = np.maximum(lengths, lengths[o]) > 2.5 * np.minimum(lengths, lengths[o])
            chosen &= ~(chosen[o] & (row[o] != row) & (moved | wider))
        between = chosen & (value == 0)
        for near, far in ((-1, -2), (1, 2)):
            i, j = (np.clip(np.arange(row.size) + k, 0, row.size - 1) for k in (near, far))
            wall = (lengths[i] >= max(lo, 2.5 * line)) & (lengths[i] <= hi)
            gap = inner[j] & (lengths[j] >= lo) & (lengths[j] < lengths) & (row[j] == row)
            between &= wall | gap
        for kind, flag in ((chosen & ~between, False), (between, True)):
            strip = np.repeat(kind, lengths).reshape(height, width).view(np.uint8)
            opened = cv2.morphologyEx(strip, cv2.MORPH_OPEN, kernel)
            count, labels, stats, centres = cv2.connectedComponentsWithStats(opened, connectivity=4)
            segments = []
            for k in range(1, count):
                x0, y0, w, h = (int(v) for v in stats[k, :4])
                part = labels[y0 : y0 + h, x0 : x0 + w] == k
                rows, index = part.any(axis=1), np.arange(w)
                left = np.where(part, index, w).min(axis=1)[rows]
                right = np.where(part, index, -1).max(axis=1)[rows]
                thick = float(np.median(right - left + 1))
                centre = np.percentile(left + right, (5, 95)) / 2
                if h >= max(min_len, 1.5 * thick) and centre[1] - centre[0] <= max(2, thick / 2):
                    segments.append((float(centres[k][0]) + 0.5, float(y0), float(y0 + h), thick))
            extra = line * (1 - value)  # a gap's width + half a line each side
            found += [(up, x, y1, y2, t + extra, flag) for x, y1, y2, t in _merge(segments)]
    return found


def _merge(segments: list[Segment]) -> list[Segment]:
    """Join collinear pieces of one wall split by a junction or a small gap."""
    merged: list[list[float]] = []
    for x, top, bottom, thick in sorted(segments, key=lambda s: s[1]):
        for m in merged:
            tol = max(thick, m[3])  # same line, near enough, alike in thickness
            near = abs(m[0] - x) <= tol / 2 and top <= m[2] + 1.5 * tol
            if near and tol <= 1.6 * min(thick, m[3]):
                a, b = m[2] - m[1], bottom - top
                m[0], m[3] = (m[0] * a + x * b) / (a + b), (m[3] * a + thick * b) / (a + b)
                m[2] = max(m[2], bottom)
                break
        else:
            merged.append([x, top, bottom, thick])
    return [(m[0], m[1], m[2], m[3]) for m in merged]


def _not_family(walls: list[Segment], typical: float) -> list[Segment]:
    """``walls`` less runs of parallel strokes (stair treads, grooves, hatching)."""
    members = family_members([Wall(x, y1, x, y2, t) for x, y1, y2, t in walls], typical)
    return [s for s, member in zip(walls, members, strict=True) if not member]


def _suppress(walls: list[Segment], line: float, typical: float) -> list[Segment]:
    """Drop walls under 1.5 x typical long; of parallel ones side by side, keep the biggest."""
    kept: list[Segment] = []
    walls = [s for s in walls if s[2] - s[1] >= 1.5 * typical]
    for x, top, bottom, t in sorted(walls, key=lambda s: -(s[2] - s[1]) * s[3]):
        overlap = ((kx, min(bottom, kb) - max(top, kt0), kt) for kx, kt0, kb, kt in kept)
        if not any(abs(x - kx) <= (t + kt) / 2 + 2 * line and o >= (bottom - top) / 2
                   for kx, o, kt in overlap):  # fmt: skip
            kept.append((x, top, bottom, t))
    return kept


def _snap(walls: list[Segment], across: list[Segment]) -> list[Segment]:
    """Extend wall ends that stop at a perpendicular wall to that wall's centre line."""
    snapped = []
    for x, top, end, t in walls:
        for c, c0, c1, ct in across:
            if c0 - t <= x <= c1 + t:
                top = min(top, c) if top - ct / 2 - t <= c <= top + t / 2 else top
                end = max(end, c) if end - t / 2 <= c <= end + ct / 2 + t else end
        snapped.append((x, top, end, t))
    return snapped
