"""Reading request bodies within a size limit."""

from __future__ import annotations

from starlette.requests import ClientDisconnect, Request

from gateway.middleware import BODY_DONE
from shared.errors import InvalidInputError, PayloadTooLargeError

# Bytes past the limit that are still read, and dropped, before a 413. A client sends its
# whole body before it reads the answer; closing on unread bytes makes the kernel reset the
# connection, and the client then sees a reset instead of the 413. Beyond this much, the
# connection is closed at once (CloseOnUnreadBody), so an endless stream is not read on.
DRAIN_BYTES = 1_048_576


def declared_length(request: Request) -> int | None:
    """The Content-Length the client sent, if any; 400 if it is not a number."""
    declared = request.headers.get("content-length")
    if declared is None:
        return None
    try:
        return int(declared)
    except ValueError:
        raise InvalidInputError("Content-Length is not a number") from None


async def read_limited(request: Request, limit: int) -> bytes:
    """The body, refused with 413 once it passes ``limit`` bytes.

    A body a little over the limit is read to its end and dropped, so that the 413
    reaches the client; one far over it is refused while it is being read.
    """
    drain = max(limit, DRAIN_BYTES)
    size = declared_length(request)
    if size is not None and size > limit + drain:
        raise _too_large(limit, size)
    chunks: list[bytes] = []
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received <= limit:
                chunks.append(chunk)
            elif received > limit + drain:
                raise _too_large(limit, size)
    except ClientDisconnect:
        # Nobody reads this answer; it keeps a client's hang-up out of the 500s.
        raise InvalidInputError("client disconnected before the body ended") from None
    if received > limit:
        raise _too_large(limit, size)
    return b"".join(chunks)


def _too_large(limit: int, size: int | None) -> PayloadTooLargeError:
    if size is None:
        return PayloadTooLargeError(f"body is over the limit of {limit} bytes", limit=limit)
    return PayloadTooLargeError(f"body of {size} bytes is over the limit of {limit}", limit=limit)


async def drain(request: Request, limit: int = DRAIN_BYTES) -> None:
    """Read and drop what is left of the body, up to ``limit`` bytes, before an error
    answer: a client still sending would otherwise see a reset instead of the answer."""
    body_done = request.scope.get(BODY_DONE)
    dropped = 0
    while dropped <= limit and not (body_done is None or body_done()):
        message = await request.receive()
        if message["type"] != "http.request":
            return
        dropped += len(message.get("body", b""))
        if not message.get("more_body", False):
            return
