"""Types of the options argparse checks: a bad value is a usage error (exit 2) before any
request is made."""

from __future__ import annotations

import argparse
import math


def whole_number(text: str) -> int:
    """A count or a size: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text!r}")
    return value


def per_second(text: str) -> float:
    """A rate: a number above 0 (``0.5`` is one every two seconds)."""
    return _finite(text, above_zero=True)


def seconds(text: str) -> float:
    """A time span of 0 or more seconds (``--delay 0`` queues at once)."""
    return _finite(text, above_zero=False)


def positive_seconds(text: str) -> float:
    """A time span above 0 seconds (an interval, a timeout)."""
    return _finite(text, above_zero=True)


def _finite(text: str, *, above_zero: bool) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    least = "above 0" if above_zero else "0 or more"
    if not math.isfinite(value) or value < 0 or (above_zero and value == 0):
        raise argparse.ArgumentTypeError(f"must be a finite number {least}, got {text!r}")
    return value
