"""The OpenAPI paths of the platform's own routes: jobs, admin, health and docs (a
function's submission paths are gateway/openapi.py's)."""

from __future__ import annotations

from typing import Any

from gateway.openapi_responses import NO_JOB, json_reply, operation, path_param, ref
from shared import error_types as et
from shared.api_keys import ADMIN, READ, SUBMIT

JOB_ID = path_param("job_id", "the job's id, `{function}-{32 hex}`")
WAIT = {
    "name": "wait",
    "in": "query",
    "description": "answer once the status changes (or ends), or after this many seconds",
    "schema": {"type": "number", "exclusiveMinimum": 0, "maximum": 30},
}
LAST_EVENT_ID = {
    "name": "Last-Event-ID",
    "in": "header",
    "description": "the id of the last event received: that state is not sent again",
    "schema": {"type": "string"},
}
FUNCTION_INFO = {
    "type": "object",
    "required": ["name", "description", "input_schema", "takes_document", "timeout"],
    "properties": {
        "name": {"type": "string"},
        "description": {"type": "string"},
        "input_schema": {"type": "object", "description": "the input's JSON Schema"},
        "takes_document": {"type": "boolean"},
        "timeout": {"type": "number"},
        "max_attempts": {"type": "integer"},
        "backoff": {"type": "number"},
        "max_backoff": {"type": "number"},
        "max_backlog": {"type": "integer"},
        "memory_mb": {"type": ["integer", "null"], "description": "null: an async handler"},
    },
}
ARTIFACT = {
    "type": "object",
    "required": ["name", "content_type", "bytes", "url"],
    "properties": {
        "name": {"type": "string"},
        "content_type": {"type": "string"},
        "bytes": {"type": "integer"},
        "url": {"type": "string", "description": "the path the file is served at"},
    },
}
READY = {
    "type": "object",
    "required": ["status", "persistence"],
    "properties": {
        "status": {"const": "ready"},
        "persistence": {"enum": ["aof", "rdb", "aof+rdb", "none", "unknown"]},
        "warning": {"type": "string"},
    },
}


def job_paths() -> dict[str, Any]:
    status = json_reply(ref("JobStatus"), "the job's status")
    return {
        "/v1/jobs/{job_id}": {
            "parameters": [JOB_ID],
            "get": operation(
                "job_status",
                "A job's status",
                "jobs",
                READ,
                {"200": status},
                [*NO_JOB, et.HTTP_INVALID_INPUT],
                parameters=[WAIT],
            ),
            "delete": operation(
                "cancel_job",
                "Cancel a job",
                "jobs",
                SUBMIT,
                {
                    "200": json_reply(ref("JobStatus"), "cancelled: it was waiting and never runs"),
                    "202": json_reply(ref("JobStatus"), "running: it is told to stop"),
                },
                [*NO_JOB, et.HTTP_CONFLICT],
            ),
        },
        "/v1/jobs/{job_id}/events": {
            "parameters": [JOB_ID],
            "get": operation(
                "job_events",
                "A job's status as Server-Sent Events, at each change until it ends",
                "jobs",
                READ,
                {
                    "200": {
                        "description": "`event: status` events whose `data:` is the status"
                        " JSON; `Last-Event-ID` resumes without repeating a state",
                        "content": {"text/event-stream": {"schema": {"type": "string"}}},
                    },
                    "204": {
                        "description": "the `Last-Event-ID` named the job's final state:"
                        " nothing more will come"
                    },
                },
                NO_JOB,
                parameters=[LAST_EVENT_ID],
            ),
        },
        "/v1/jobs/{job_id}/result": {
            "parameters": [JOB_ID],
            "get": operation(
                "job_result",
                "A succeeded job's result",
                "jobs",
                READ,
                {"200": json_reply({}, "the result, as the handler returned it")},
                [*NO_JOB, et.HTTP_CONFLICT],
            ),
        },
        "/v1/jobs/{job_id}/artifacts": {
            "parameters": [JOB_ID],
            "get": operation(
                "job_artifacts",
                "The files a job saved",
                "jobs",
                READ,
                {
                    "200": json_reply(
                        {
                            "type": "object",
                            "required": ["artifacts"],
                            "properties": {"artifacts": {"type": "array", "items": ARTIFACT}},
                        },
                        "each file by name (none yet: an empty list)",
                    )
                },
                NO_JOB,
            ),
        },
        "/v1/jobs/{job_id}/artifacts/{name}": {
            "parameters": [JOB_ID, path_param("name", "the file's name, as the job saved it")],
            "get": operation(
                "job_artifact",
                "A file a job saved",
                "jobs",
                READ,
                {
                    "200": {
                        "description": "the file, with the content type the job gave it;"
                        " anything but a raster image comes as an attachment",
                        "content": {"*/*": {"schema": {}}},
                    }
                },
                [*NO_JOB, et.HTTP_ARTIFACT_NOT_FOUND],
            ),
        },
        "/v1/functions": {
            "get": operation(
                "list_functions",
                "The functions, their limits and input schemas",
                "functions",
                READ,
                {
                    "200": json_reply(
                        {
                            "type": "object",
                            "required": ["functions"],
                            "properties": {"functions": {"type": "array", "items": FUNCTION_INFO}},
                        },
                        "every function",
                    )
                },
            )
        },
    }


def admin_paths() -> dict[str, Any]:
    key_list = {
        "type": "object",
        "properties": {"keys": {"type": "array", "items": ref("ApiKey")}},
    }
    created = {
        "allOf": [ref("ApiKey"), {"properties": {"key": {"type": "string"}}, "required": ["key"]}]
    }
    revoked = {
        "type": "object",
        "properties": {"id": {"type": "string"}, "revoked": {"const": True}},
    }
    return {
        "/v1/admin/keys": {
            "post": operation(
                "create_key",
                "Create an API key (its secret is shown once)",
                "admin",
                ADMIN,
                {"201": json_reply(created, "the key, with its secret")},
                [et.HTTP_INVALID_INPUT, et.HTTP_PAYLOAD_TOO_LARGE],
                requestBody={
                    "required": True,
                    "content": {"application/json": {"schema": ref("NewKey")}},
                },
            ),
            "get": operation(
                "list_keys",
                "Every API key (never a secret)",
                "admin",
                ADMIN,
                {"200": json_reply(key_list, "the keys")},
            ),
        },
        "/v1/admin/keys/{key_id}": {
            "parameters": [path_param("key_id", "the key's id")],
            "delete": operation(
                "revoke_key",
                "Revoke an API key",
                "admin",
                ADMIN,
                {"200": json_reply(revoked, "revoked")},
                [et.HTTP_INVALID_INPUT, et.HTTP_KEY_NOT_FOUND, et.HTTP_NOT_FOUND],
            ),
        },
    }


def dead_letter_paths() -> dict[str, Any]:
    function = path_param("function", "the function whose dead letters these are")
    listed = {
        "type": "object",
        "properties": {"dead_letters": {"type": "array", "items": ref("DeadLetter")}},
    }
    deleted = {"type": "object", "properties": {"deleted": {"type": "integer"}}}
    page = [
        {
            "name": "count",
            "in": "query",
            "description": "entries per page, newest first (1-1000, default 100)",
            "schema": {"type": "integer", "minimum": 1, "maximum": 1000},
        },
        {
            "name": "after",
            "in": "query",
            "description": "the last entry id of the page before",
            "schema": {"type": "string"},
        },
    ]
    errors = [et.HTTP_INVALID_INPUT, et.HTTP_UNKNOWN_FUNCTION]
    return {
        "/v1/admin/dead/{function}": {
            "parameters": [function],
            "get": operation(
                "list_dead_letters",
                "A function's dead letters (jobs that used up their attempts)",
                "admin",
                ADMIN,
                {"200": json_reply(listed, "newest first")},
                errors,
                parameters=page,
            ),
            "delete": operation(
                "delete_dead_letters",
                "Delete every dead letter of the function (the jobs stay failed)",
                "admin",
                ADMIN,
                {"200": json_reply(deleted, "how many were deleted")},
                errors,
            ),
        },
        "/v1/admin/dead/{function}/replay": {
            "parameters": [function],
            "post": operation(
                "replay_dead_letters",
                "Re-queue dead-lettered jobs: the same job ids, fresh attempts",
                "admin",
                ADMIN,
                {"200": json_reply(ref("ReplayResult"), "what became of each entry")},
                [*errors, et.HTTP_PAYLOAD_TOO_LARGE],
                requestBody={
                    "required": True,
                    "content": {"application/json": {"schema": ref("Replay")}},
                },
            ),
        },
        "/v1/admin/dead/{function}/{entry_id}": {
            "parameters": [function, path_param("entry_id", "the dead-letter entry's id")],
            "delete": operation(
                "delete_dead_letter",
                "Delete one dead letter (the job stays failed)",
                "admin",
                ADMIN,
                {"200": json_reply(deleted, "1, or 0 for an entry not there")},
                errors,
            ),
        },
    }


def meta_paths() -> dict[str, Any]:
    ok = {"type": "object", "required": ["status"], "properties": {"status": {"const": "ok"}}}
    return {
        "/healthz": {
            "get": operation(
                "healthz", "The process is up", "health", None, {"200": json_reply(ok, "up")}
            )
        },
        "/readyz": {
            "get": operation(
                "readyz",
                "Redis takes writes",
                "health",
                None,
                {"200": json_reply(READY, "ready, and how Redis keeps its data")},
                [et.HTTP_UNAVAILABLE],
            )
        },
        "/openapi.json": {
            "get": operation(
                "openapi",
                "This document",
                "docs",
                READ,
                {"200": json_reply({"type": "object"}, "OpenAPI 3.1")},
            )
        },
        "/docs": {
            "get": operation(
                "docs",
                "Interactive documentation of this API",
                "docs",
                READ,
                {
                    "200": {
                        "description": "an HTML page",
                        "content": {"text/html": {"schema": {"type": "string"}}},
                    }
                },
            )
        },
        "/docs/{asset}": {
            "parameters": [path_param("asset", "a file of the page's UI")],
            "get": operation(
                "docs_asset",
                "A script or style sheet of the docs page",
                "docs",
                READ,
                {
                    "200": {
                        "description": "the file",
                        "content": {
                            "text/javascript": {"schema": {"type": "string"}},
                            "text/css": {"schema": {"type": "string"}},
                        },
                    }
                },
                [et.HTTP_NOT_FOUND],
            ),
        },
    }
