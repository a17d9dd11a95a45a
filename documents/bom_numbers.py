"""How a bill rounds and writes its numbers, so every formula reproduces its quantity."""

from __future__ import annotations

import math


def up(x: float) -> int:
    """ceil, after rounding away float noise (20 x 1.1 = 22.000000000000004 is 22)."""
    return math.ceil(round(x, 6))


def fmt(x: float) -> str:
    """A number for a formula or a sentence: at most 3 decimals, no trailing zeros."""
    return f"{x:.3f}".rstrip("0").rstrip(".")


def plural(count: int, word: str) -> str:
    """``1 layer``, ``2 layers``."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"
