"""The shapes documents produce and consume (light: no heavy imports)."""

from __future__ import annotations

import msgspec


class Wall(msgspec.Struct, frozen=True):
    """A wall as one segment along its centre line, with its thickness.

    Coordinates: origin at the page's top-left corner, x right, y down; PDF points for
    PDF input, pixels for image input.
    """

    x1: float
    y1: float
    x2: float
    y2: float
    thickness: float


class DocumentLimits(msgspec.Struct, frozen=True):
    """Bounds that keep a hostile document from taking a consumer's time or memory."""

    max_pages: int = 500
    # Pixels of one rendered page or decoded image (about 4 bytes each while decoding).
    max_pixels: int = 100_000_000
    # Pages one render job may produce.
    max_render_pages: int = 50
