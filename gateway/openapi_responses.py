"""How the OpenAPI document (gateway/openapi.py) describes an operation: its replies,
its errors per status from shared/error_types.py, and the scope it wants."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from shared import error_types as et
from shared.error_types import HttpErrorType

SCHEMAS = "#/components/schemas/"
# Errors any route may answer: the server's own limits (gateway/server.py) and a bug.
ANY_ROUTE = (et.HTTP_REQUEST_TIMEOUT, et.HTTP_HEADER_TOO_LARGE, et.HTTP_INTERNAL)
# Errors of a route that wants a key (and so may find Redis away while looking it up).
KEYED_ROUTE = (et.HTTP_UNAUTHORIZED, et.HTTP_FORBIDDEN, et.HTTP_UNAVAILABLE)
# Errors naming no job or a path that is no route (a `/` inside a path parameter).
NO_JOB = (et.HTTP_JOB_NOT_FOUND, et.HTTP_NOT_FOUND)
RETRY_AFTER = {
    "Retry-After": {
        "description": "seconds to wait before trying again",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    }
}


def ref(name: str) -> dict[str, str]:
    return {"$ref": SCHEMAS + name}


def json_reply(schema: Mapping[str, Any], description: str, **headers: Any) -> dict[str, Any]:
    reply: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }
    if headers:
        reply["headers"] = headers
    return reply


def error_replies(types: Iterable[HttpErrorType]) -> dict[str, Any]:
    """One response per status, its error types listed (and enforced by the schema)."""
    by_status: dict[int, list[HttpErrorType]] = {}
    for entry in types:
        if entry.status is not None:
            by_status.setdefault(entry.status, []).append(entry)
    responses: dict[str, Any] = {}
    for status, entries in sorted(by_status.items()):
        schema = {
            "allOf": [
                ref("Error"),
                {
                    "properties": {
                        "error": {"properties": {"type": {"enum": [e.type for e in entries]}}}
                    }
                },
            ]
        }
        headers = RETRY_AFTER if status in (429, 503) else {}
        description = "; ".join(f"`{e.type}`: {e.when}" for e in entries)
        responses[str(status)] = json_reply(schema, description, **headers)
    return responses


def operation(
    operation_id: str,
    summary: str,
    tag: str,
    scope: str | None,
    replies: Mapping[str, Any],
    errors: Iterable[HttpErrorType] = (),
    **extra: Any,
) -> dict[str, Any]:
    """``scope`` None: a route open to all (no ``Authorization``)."""
    keyed = KEYED_ROUTE if scope is not None else ()
    responses = {**replies, **error_replies([*errors, *keyed, *ANY_ROUTE])}
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "tags": [tag],
        **extra,
        "responses": responses,
    }
    if scope is None:
        operation["security"] = []
    else:
        operation["description"] = (
            f"{extra.get('description', '')}\n\nScope `{scope}` (or `admin`) once keys exist."
        ).strip()
    return operation


def path_param(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string"},
    }


ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["type", "message"],
            "properties": {
                "type": {"type": "string", "enum": sorted(et.HTTP_ERROR_TYPES)},
                "message": {"type": "string"},
                "field": {"type": "string", "description": "where the input is to blame"},
                "quota": {
                    "type": "string",
                    "enum": ["jobs", "bytes", "rate", "burst"],
                    "description": "the tenant's quota a 429, 413 or 507 is about",
                },
                "limit": {"type": "number", "description": "that quota's value"},
            },
        }
    },
}
