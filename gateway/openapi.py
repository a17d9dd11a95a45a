"""The OpenAPI 3.1 document of the HTTP API (served at ``GET /openapi.json``).

Built from what decides the API elsewhere: each registered function's msgspec input schema
is the request body of its own submission path (``POST /v1/jobs/echo``), the job status
and submission structs give the replies, and shared/error_types.py gives every error
status with its types. tests/test_openapi.py checks that every route of the app is here.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Mapping
from typing import Any

import msgspec

from gateway.admin import NewKey
from gateway.dead_letters import Replay
from gateway.openapi_operations import operation_paths
from gateway.openapi_responses import ERROR, SCHEMAS, json_reply, operation, ref
from gateway.openapi_routes import admin_paths, dead_letter_paths, job_paths, meta_paths
from shared import error_types as et
from shared.api_keys import SUBMIT, ApiKey
from shared.dead_letters import DeadLetter, ReplayResult
from shared.function_stats import FunctionDetail, FunctionStats
from shared.functions import FunctionSpec
from shared.job_batches import MAX_BATCH_INPUTS
from shared.jobs import JobStatus, Submission
from shared.uploads import DOCUMENT_TYPES

OPENAPI_VERSION = "3.1.0"


def package_version() -> str:
    try:
        return importlib.metadata.version("sluice")
    except importlib.metadata.PackageNotFoundError:  # a checkout run without installing
        return "0+unknown"


THEN = {
    "name": "then",
    "in": "query",
    "description": "follow-up functions, comma-separated or repeated (`then=bom,render`), or"
    ' a JSON list `[{"function", "params"}]`; `F.name=value` adds a parameter to follow-up F',
    "schema": {"type": "array", "items": {"type": "string"}},
    "style": "form",
    "explode": True,
}
# The options of any submission (shared/schedule.py).
OPTIONS = [
    {
        "name": "delay",
        "in": "query",
        "description": "seconds to hold the job back (`scheduled` until then), at most `MAX_DELAY`",
        "schema": {"type": "number", "minimum": 0},
    },
    {
        "name": "not_before",
        "in": "query",
        "description": "when the job may start, ISO 8601 with a UTC offset or `Z`; not with"
        " `delay`",
        "schema": {"type": "string", "format": "date-time"},
    },
    {
        "name": "callback_url",
        "in": "query",
        "description": "an http(s) URL POSTed the final status, signed per Standard Webhooks"
        " (`webhook-id`, `webhook-timestamp`, `webhook-signature`)",
        "schema": {"type": "string", "format": "uri", "maxLength": 2048},
    },
]
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "description": "the same request again returns the first job (`Idempotent-Replayed:"
    " true`); the key with another request is `422 idempotency_key_reused`",
    "schema": {"type": "string", "pattern": "^[!-~]{1,255}$"},
}
SUBMITTED = {
    "Location": {"description": "the job's status URL", "schema": {"type": "string"}},
    "Idempotent-Replayed": {
        "description": "`true` when this is the first reply to the same Idempotency-Key",
        "schema": {"type": "string", "enum": ["true"]},
    },
}
SUBMIT_ERRORS = (
    et.HTTP_INVALID_INPUT,
    et.HTTP_UNKNOWN_FUNCTION,  # a follow-up named in `then`
    et.HTTP_PAYLOAD_TOO_LARGE,
    et.HTTP_UNSUPPORTED_MEDIA_TYPE,
    et.HTTP_IDEMPOTENCY_KEY_REUSED,
    et.HTTP_QUEUE_FULL,
    et.HTTP_QUOTA_EXCEEDED,
    et.HTTP_RATE_LIMITED,
    et.HTTP_STORAGE_QUOTA_EXCEEDED,
)


def _input_schema(spec: FunctionSpec, schemas: dict[str, Any]) -> dict[str, Any]:
    """The function's input schema with its definitions moved into ``schemas``. When one
    of its names is taken by a different definition (another function's ``Params``), all
    of this function's definitions are named ``{function}.{name}``."""
    schema = spec.json_schema()
    definitions: dict[str, Any] = schema.pop("$defs", {})

    def rewrite(node: Any, prefix: str) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                node = {**node, "$ref": SCHEMAS + prefix + ref.removeprefix("#/$defs/")}
            return {key: rewrite(value, prefix) for key, value in node.items()}
        if isinstance(node, list):
            return [rewrite(item, prefix) for item in node]
        return node

    clash = any(
        name in schemas and schemas[name] != rewrite(definition, "")
        for name, definition in definitions.items()
    )
    prefix = f"{spec.name}." if clash else ""
    for name, definition in definitions.items():
        schemas[prefix + name] = rewrite(definition, prefix)
    rewritten: dict[str, Any] = rewrite(schema, prefix)
    return rewritten


def _request_body(spec: FunctionSpec, schema: dict[str, Any]) -> dict[str, Any]:
    if not spec.takes_document:
        return {"required": True, "content": {"application/json": {"schema": schema}}}
    binary = {"type": "string", "format": "binary"}
    multipart = {
        "schema": {
            "type": "object",
            "required": ["file"],
            "properties": {
                "file": {**binary, "description": "the document: a PDF, PNG or JPEG"},
                "params": {**schema, "description": "the input, as JSON"},
            },
        },
        "encoding": {"params": {"contentType": "application/json"}},
    }
    raw = {media_type: {"schema": binary} for media_type in DOCUMENT_TYPES}
    return {
        "required": True,
        "description": "a multipart form (`file`, and `params` holding the input as JSON), or"
        " the document itself with the input's fields in the query string",
        "content": {"multipart/form-data": multipart, **raw},
    }


def _submission(spec: FunctionSpec, schemas: dict[str, Any]) -> dict[str, Any]:
    description = spec.description or f"Submit a job of `{spec.name}`."
    return operation(
        f"submit_{spec.name}",
        "Submit a job",
        "functions",
        SUBMIT,
        {"202": json_reply(ref("Submission"), "queued (or scheduled)", **SUBMITTED)},
        SUBMIT_ERRORS,
        description=description,
        parameters=[THEN, *OPTIONS, IDEMPOTENCY_KEY],
        requestBody=_request_body(spec, _input_schema(spec, schemas)),
    )


def _batch(spec: FunctionSpec, schemas: dict[str, Any]) -> dict[str, Any]:
    jobs = {
        "type": "object",
        "required": ["jobs"],
        "properties": {"jobs": {"type": "array", "items": ref("Submission")}},
    }
    inputs = {
        "type": "array",
        "minItems": 1,
        "maxItems": MAX_BATCH_INPUTS,
        "items": _input_schema(spec, schemas),
    }
    return operation(
        f"submit_{spec.name}_batch",
        "Submit a batch: a job per input of the array, all or none",
        "functions",
        SUBMIT,
        {"202": json_reply(jobs, "queued, in the array's order")},
        [
            e
            for e in SUBMIT_ERRORS
            if e not in (et.HTTP_IDEMPOTENCY_KEY_REUSED, et.HTTP_STORAGE_QUOTA_EXCEEDED)
        ],
        parameters=[THEN, *OPTIONS],
        requestBody={"required": True, "content": {"application/json": {"schema": inputs}}},
    )


def openapi_document(functions: Mapping[str, FunctionSpec]) -> dict[str, Any]:
    """The document for an app serving ``functions``."""
    _, platform = msgspec.json.schema_components(
        [
            *(JobStatus, Submission, ApiKey, NewKey, DeadLetter, ReplayResult, Replay),
            *(FunctionStats, FunctionDetail),
        ],
        ref_template=SCHEMAS + "{name}",
    )
    schemas: dict[str, Any] = {"Error": ERROR, **platform}
    paths: dict[str, Any] = {}
    for name in sorted(functions):
        paths[f"/v1/jobs/{name}"] = {"post": _submission(functions[name], schemas)}
        if not functions[name].takes_document:  # a batch holds JSON inputs only
            paths[f"/v1/jobs/{name}/batch"] = {"post": _batch(functions[name], schemas)}
    paths.update(job_paths())
    paths.update(admin_paths())
    paths.update(dead_letter_paths())
    paths.update(operation_paths())
    paths.update(meta_paths())
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "sluice",
            "version": package_version(),
            "description": "Serverless-style job functions on Redis Streams. Errors are"
            ' `{"error": {"type", "message", ...}}`.',
            "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
        },
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "an API key, once keys exist (SLUICE_API_KEYS,"
                    " SLUICE_ADMIN_KEY or POST /v1/admin/keys); with none the gateway is open",
                }
            },
        },
    }
