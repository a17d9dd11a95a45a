"""Document submissions: multipart/form-data (``file`` + ``params``) or a raw body."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import msgspec
from starlette.datastructures import UploadFile
from starlette.requests import ClientDisconnect, Request
from starlette.types import Message

from gateway.body import declared_length
from gateway.query import own_params
from shared.client import Sluice
from shared.errors import HttpError, InvalidInputError, PayloadTooLargeError
from shared.jobs import Submission

# Read size for a spooled multipart file.
CHUNK_BYTES = 1 << 20


def _limited(request: Request, limit: int) -> Request:
    """The same request, refused with 413 as soon as its body passes ``limit`` bytes."""
    received = 0

    async def receive() -> Message:
        nonlocal received
        message = await request.receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise PayloadTooLargeError(f"body is over the limit of {limit} bytes", limit=limit)
        if message["type"] != "http.request" or not message.get("more_body", False):
            limited.state.body_ended = True
        return message

    limited = Request(request.scope, receive)
    limited.state.body_ended = False
    return limited


def _declared_size_check(request: Request, limit: int) -> None:
    size = declared_length(request)
    if size is not None and size > limit:
        raise PayloadTooLargeError(
            f"body of {size} bytes is over the limit of {limit}", limit=limit
        )


async def _body_chunks(request: Request) -> AsyncIterator[bytes]:
    try:
        async for chunk in request.stream():
            if chunk:
                yield chunk
    except ClientDisconnect:
        raise InvalidInputError("client disconnected before the body ended") from None


async def _drain(request: Request) -> None:
    """Read and drop what is left of a body (a ``_limited`` one) a parser gave up on."""
    while not request.state.body_ended:
        await request.receive()


async def _file_chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(CHUNK_BYTES):
        yield chunk


def _params_from_json(raw: str | bytes) -> dict[str, Any]:
    try:
        params = msgspec.json.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise InvalidInputError(
            f"the params part is not valid JSON: {exc}", field="params"
        ) from exc
    except RecursionError:
        raise InvalidInputError("the params part is nested too deeply", field="params") from None
    if not isinstance(params, dict):
        raise InvalidInputError("the params part must be a JSON object", field="params")
    return params


async def submit_raw(
    request: Request,
    sluice: Sluice,
    function: str,
    keywords: dict[str, Any],
) -> Submission:
    """The body is the document; its parameters are in the query string. ``keywords``:
    Sluice.submit_document's (idempotency_key, then, tenant, the options)."""
    _declared_size_check(request, sluice.settings.max_upload_bytes)
    params = own_params(request.query_params)
    return await sluice.submit_document(
        function,
        _body_chunks(request),
        params,
        strict=False,
        size_hint=declared_length(request),
        **keywords,
    )


async def submit_multipart(
    request: Request,
    sluice: Sluice,
    function: str,
    keywords: dict[str, Any],
) -> Submission:
    """A ``file`` part with the document, an optional ``params`` part with JSON;
    ``keywords`` as for submit_raw."""
    limit = sluice.settings.max_upload_bytes
    _declared_size_check(request, limit + sluice.settings.max_body_bytes)
    limited = _limited(request, limit + sluice.settings.max_body_bytes)
    try:
        form = await limited.form(
            max_files=1, max_fields=16, max_part_size=sluice.settings.max_body_bytes
        )
    except HttpError:
        raise
    except ClientDisconnect:
        raise InvalidInputError("client disconnected before the body ended") from None
    except Exception as exc:  # starlette raises HTTPException/MultiPartException on bad forms
        if "exceeded maximum size" in str(exc):
            # Only text parts are bounded so: a document sent as one (no filename). The
            # body is within the upload limit: read the rest, so the client, still
            # sending, gets this answer rather than a reset connection.
            await _drain(limited)
            raise InvalidInputError(
                f"a text part is over {sluice.settings.max_body_bytes} bytes; send the"
                " document as a file upload, with a filename (curl -F file=@plan.pdf)",
                field="file",
            ) from exc
        raise InvalidInputError(f"malformed multipart body: {exc}") from exc
    try:
        upload = form.get("file")
        if isinstance(upload, str):
            # A part without a filename is a text field to the form parser (decoded, and
            # bounded like one): the document must come as a file.
            raise InvalidInputError(
                "the 'file' part must be a file upload, with a filename in its"
                " Content-Disposition (curl -F file=@plan.pdf), not a text field",
                field="file",
            )
        if not isinstance(upload, UploadFile):
            raise InvalidInputError("multipart body needs a 'file' part", field="file")
        if stray := sorted(set(form.keys()) - {"file", "params"}):
            raise InvalidInputError(
                f"multipart part {stray[0]!r} is not read: send the document as 'file' and"
                " the parameters as JSON in 'params'",
                field=stray[0],
            )
        if upload.size is not None and upload.size > limit:
            raise PayloadTooLargeError(
                f"document of {upload.size} bytes is over the limit of {limit}", limit=limit
            )
        raw_params = form.get("params")
        if isinstance(raw_params, UploadFile):
            raw_params = (await raw_params.read()).decode("utf-8", errors="replace")
        params = _params_from_json(raw_params) if raw_params else {}
        return await sluice.submit_document(
            function,
            _file_chunks(upload),
            params,
            filename=upload.filename,
            size_hint=upload.size,
            **keywords,
        )
    finally:
        await form.close()
