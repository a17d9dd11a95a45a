"""How a command writes its results: stdout for what a script captures, stderr for people."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any


def print_json(reply: Any) -> None:
    """The gateway's reply as it came, for ``--json`` (``jq`` reads it)."""
    print(json.dumps(reply, indent=2, ensure_ascii=False))


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A plain table, columns padded to their widest cell, the header row first."""
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=True)]
    for row in (headers, *rows):
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        print("  ".join(cells).rstrip())


def note(message: str) -> None:
    """A line for the person at the terminal, kept out of what ``$(sluice ...)`` captures."""
    print(message, file=sys.stderr)
