"""How a command writes its results: stdout for what a script captures, stderr for people."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from cli.errors import UsageError


def json_text(reply: Any) -> str:
    """JSON as the command prints it: indented, non-ASCII kept."""
    return json.dumps(reply, indent=2, ensure_ascii=False)


def print_json(reply: Any) -> None:
    """The gateway's reply as it came, for ``--json`` (``jq`` reads it)."""
    print(json_text(reply))


def table_lines(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A plain table, columns padded to their widest cell, the header row first."""
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=True)]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in (headers, *rows)
    ]


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    print("\n".join(table_lines(headers, rows)))


def print_fields(fields: Sequence[tuple[str, str]]) -> None:
    """``name  value`` lines, the values aligned: one record (a job's status)."""
    width = max((len(name) for name, _ in fields), default=0)
    for name, value in fields:
        print(f"{name.ljust(width)}  {value}".rstrip())


def printable(text: str) -> str:
    """``text`` on one line, without control characters: a handler's message must not
    move the cursor or change the terminal's colours."""
    return "".join(char if char.isprintable() else " " for char in text)


def one_line(text: str) -> str:
    """``text`` with its line breaks as spaces and no control characters, for a cell."""
    return " ".join(printable(text).split())


def note(message: str) -> None:
    """A line for the person at the terminal, kept out of what ``$(sluice ...)`` captures."""
    print(message, file=sys.stderr)


def save_or_print(value: Any, path: str | None, what: str) -> None:
    """``value`` as JSON on stdout, or written to ``path`` (the same text)."""
    if path is None:
        print_json(value)
        return
    try:
        with open(path, "w", encoding="utf-8") as file:
            file.write(json_text(value) + "\n")
    except OSError as error:
        raise UsageError(f"cannot write {what} to {path}: {error.strerror or error}") from None
    note(f"{what} saved to {path}")
