"""``POST /v1/jobs/{function}/batch``: a JSON array of inputs, one job each, all or none
(shared/job_batches.py decides; README, "Batches")."""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from gateway.auth import authorize
from gateway.body import read_limited
from gateway.query import chain_from_query, options_from_query, refuse_own_params
from gateway.responses import json_response, sluice_of
from shared.api_keys import SUBMIT
from shared.errors import InvalidInputError, UnsupportedMediaTypeError
from shared.validation import decode_json


async def submit_batch(request: Request) -> Response:
    """202 with ``{"jobs": [...]}``, the Submission of each input in the array's order."""
    principal = await authorize(request, SUBMIT)
    sluice = sluice_of(request)
    function = request.path_params["function"]
    spec = sluice.function(function)
    if spec.takes_document:
        raise InvalidInputError(
            f"{function} takes a document: a batch holds JSON inputs, submit each document"
            f" to POST /v1/jobs/{function}"
        )
    if "idempotency-key" in request.headers:
        # A replay would have to give back a whole batch: not kept, so refused, not ignored.
        raise InvalidInputError(
            "a batch takes no Idempotency-Key: submit jobs one by one to make retries safe",
            field="Idempotency-Key",
        )
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise UnsupportedMediaTypeError(
            f"a batch is application/json, not {media_type or 'no content type'}",
            accepted=["application/json"],
        )
    then = chain_from_query(request.query_params)
    refuse_own_params(request.query_params, "the JSON body")
    body = await read_limited(request, sluice.settings.max_body_bytes)
    inputs = decode_json(body, list[msgspec.Raw], "batch (a JSON array of inputs)")
    jobs = await sluice.submit_many(
        function,
        [memoryview(raw) for raw in inputs],
        then=then,
        tenant=principal.tenant,
        limits=principal.limits(sluice.settings),
        **options_from_query(request.query_params),
    )
    return json_response({"jobs": jobs}, 202)
