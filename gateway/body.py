"""Reading request bodies within a size limit."""

from __future__ import annotations

from starlette.requests import Request

from shared.errors import InvalidInputError, PayloadTooLargeError


async def read_limited(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it passes ``limit`` bytes (not after)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise InvalidInputError("Content-Length is not a number") from None
        if size > limit:
            raise PayloadTooLargeError(
                f"body of {size} bytes is over the limit of {limit}", limit=limit
            )
    chunks: list[bytes] = []
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise PayloadTooLargeError(f"body is over the limit of {limit} bytes", limit=limit)
        chunks.append(chunk)
    return b"".join(chunks)
