"""Reading the gateway's answers in the error tests: a JSON error's status, type and
words, nothing queued, and the log lines of the gateways a test started."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import redis

from tests.inprocess import server_errors

UNKNOWN_ID = "echo-" + "0" * 32
JSON = {"content-type": "application/json"}


def assert_error(reply: httpx.Response, status: int, type: str, *words: str) -> dict[str, Any]:
    """The reply is ``status`` with ``{"error": {"type", "message", ...}}`` naming ``words``."""
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"].startswith("application/json"), reply.headers
    error = reply.json()["error"]
    assert isinstance(error, dict)
    assert error["type"] == type, error
    assert isinstance(error["message"], str) and error["message"], error
    for word in words:
        assert word in error["message"], (word, error)
    return error


def assert_nothing_queued(sync_redis: redis.Redis, namespace: str) -> None:
    assert sync_redis.keys(f"{namespace}:*") == []


def gateway_lines(tmp_path: Path) -> list[dict[str, Any]]:
    """The log lines of the gateways the test started (start_gateway), parsed: its JSON
    lines, and uvicorn's own (plain text) as ``{"event": text}``."""
    lines: list[dict[str, Any]] = []
    for path in sorted(tmp_path.glob("gateway-*.log")):
        text = path.read_text(errors="replace")
        for line in text[: text.rfind("\n") + 1].splitlines():
            lines.append(json.loads(line) if line.startswith("{") else {"event": line})
    return lines


def requests_logged(tmp_path: Path) -> list[dict[str, Any]]:
    return [line for line in gateway_lines(tmp_path) if line["event"] == "request"]


def assert_no_server_error_logged(tmp_path: Path) -> None:
    """Also the 500s no client saw (it had hung up): the gateway logged none."""
    lines = gateway_lines(tmp_path)
    assert not server_errors(lines), lines
    assert not [line for line in lines if "Exception in ASGI application" in line["event"]]
