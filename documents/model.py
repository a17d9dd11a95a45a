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
