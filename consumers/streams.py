"""Parsing stream replies in every shape Redis 6.2 and 7.x (RESP2 and RESP3) give."""

from __future__ import annotations

from typing import Any

# An entry as (entry id, job id); job id None when the entry was deleted.
Entry = tuple[bytes, bytes | None]


def _job_id(fields: Any) -> bytes | None:
    if fields is None:
        return None
    if isinstance(fields, dict):
        value = fields.get(b"job_id")
        return value if isinstance(value, bytes) else None
    pairs = list(fields)
    for name, value in zip(pairs[::2], pairs[1::2], strict=True):
        if name == b"job_id":
            return bytes(value)
    return None


def parse_entries(raw: Any) -> list[Entry]:
    entries: list[Entry] = []
    for item in raw or ():
        # A deleted entry in a Redis 6.2 XAUTOCLAIM: nil, or (None, None) once redis-py
        # has parsed the reply.
        if item is None or item[0] is None:
            continue
        entries.append((bytes(item[0]), _job_id(item[1])))
    return entries


def parse_xreadgroup(reply: Any) -> dict[bytes, list[Entry]]:
    """XREADGROUP reply -> {stream key: entries}; a map in RESP3, pairs in RESP2."""
    if not reply:
        return {}
    items = reply.items() if isinstance(reply, dict) else ((s[0], s[1]) for s in reply)
    return {bytes(stream): parse_entries(_unwrap(raw)) for stream, raw in items}


def _unwrap(raw: Any) -> Any:
    """redis-py's RESP3 parsing wraps a stream's entries in one more list."""
    if (
        isinstance(raw, list)
        and len(raw) == 1
        and isinstance(raw[0], list)
        and (not raw[0] or not isinstance(raw[0][0], bytes))
    ):
        return raw[0]
    return raw


def parse_xautoclaim(reply: Any) -> tuple[bytes, list[Entry], bool]:
    """XAUTOCLAIM reply -> (next cursor, claimed entries, saw deleted entries).

    Redis 7 lists deleted ids in a third element (and drops them from the PEL); Redis 6.2
    puts nil in the claimed list and keeps them pending, so the caller must re-read its
    own pending entries to acknowledge them.
    """
    cursor = bytes(reply[0])
    claimed = reply[1] or []
    saw_deleted = any(item is None or item[0] is None or item[1] is None for item in claimed)
    return cursor, parse_entries(claimed), saw_deleted
