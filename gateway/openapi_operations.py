"""The OpenAPI paths of what operators watch and do (gateway/operations.py): /metrics,
the functions' numbers, pause and resume."""

from __future__ import annotations

from typing import Any

from gateway.openapi_responses import json_reply, operation, path_param, ref
from shared import error_types as et
from shared.api_keys import ADMIN


def operation_paths() -> dict[str, Any]:
    function = path_param("function", "the function's name")
    listed = {
        "type": "object",
        "required": ["functions"],
        "properties": {"functions": {"type": "array", "items": ref("FunctionStats")}},
    }
    paused = {
        "type": "object",
        "required": ["function", "paused"],
        "properties": {"function": {"type": "string"}, "paused": {"type": "boolean"}},
    }
    unknown = [et.HTTP_UNKNOWN_FUNCTION]

    def switch(verb: str, summary: str, value: str) -> dict[str, Any]:
        return {
            "parameters": [function],
            "post": operation(
                f"{verb}_function",
                summary,
                "operations",
                ADMIN,
                {"200": json_reply(paused, f"paused is now {value}")},
                unknown,
            ),
        }

    return {
        "/metrics": {
            "get": operation(
                "metrics",
                "Every function's gauges, counters and histograms (Prometheus text format)",
                "operations",
                ADMIN,
                {
                    "200": {
                        "description": "the text exposition format 0.0.4; a METRICS_TOKEN"
                        " as the Bearer key reads it too",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    }
                },
            )
        },
        "/v1/admin/functions": {
            "get": operation(
                "function_stats",
                "Every function's numbers now: backlog, lag, running, retrying, ...",
                "operations",
                ADMIN,
                {"200": json_reply(listed, "one entry per function, by name")},
            )
        },
        "/v1/admin/functions/{function}": {
            "parameters": [function],
            "get": operation(
                "function_detail",
                "One function's numbers, its last hour, consumers and recent failures",
                "operations",
                ADMIN,
                {"200": json_reply(ref("FunctionDetail"), "the function now")},
                unknown,
            ),
        },
        "/v1/admin/functions/{function}/pause": switch(
            "pause", "Pause a function: jobs still queue, none starts until resumed", "true"
        ),
        "/v1/admin/functions/{function}/resume": switch(
            "resume", "Resume a paused function: its queued jobs start", "false"
        ),
    }
