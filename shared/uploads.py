"""Documents uploaded with a job: sniffed by their bytes, streamed into Redis in chunks.

An upload lives in Redis (consumers on a PaaS share no disk) under the job's function hash
tag. It expires UPLOAD_TTL_SECONDS after it was written unless its job is queued, which
gives it the settings' ``upload_ttl``; it is deleted when the job ends.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import AsyncIterable

import msgspec

from shared.errors import PayloadTooLargeError
from shared.redis import Client

# What the document functions read, by their leading bytes ("magic").
_SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
DOCUMENT_TYPES = tuple(media_type for _, media_type in _SIGNATURES)
# Bytes kept from the start of an upload to sniff its type.
HEAD_BYTES = 1024
# Chunks are gathered to this size before each APPEND.
APPEND_BYTES = 1 << 20
# An upload whose job was never queued (a refused request) is gone after this long.
UPLOAD_TTL_SECONDS = 3600


class Document(msgspec.Struct, frozen=True):
    """What a document function's input says about its upload; set by the gateway."""

    content_type: str
    size: int
    filename: str | None = None


def sniff(head: bytes) -> str | None:
    """The document's media type from its first bytes, whatever it was called."""
    for signature, media_type in _SIGNATURES:
        if head.startswith(signature):
            return media_type
    # PDF allows junk before the header within the first 1024 bytes.
    if b"%PDF-" in head[:HEAD_BYTES]:
        return "application/pdf"
    return None


async def store_upload(
    redis: Client,
    key: str,
    chunks: AsyncIterable[bytes],
    limit: int,
    digest: hashlib._Hash | None = None,
) -> tuple[int, bytes]:
    """Stream ``chunks`` into ``key``; return (size, head). 413 as soon as ``limit`` passes.
    ``digest`` (a hashlib object) is fed the bytes on their way."""
    size = 0
    head = b""
    buffer: list[bytes] = []
    buffered = 0
    try:
        async for chunk in chunks:
            size += len(chunk)
            if size > limit:
                raise PayloadTooLargeError(
                    f"document is over the limit of {limit} bytes", limit=limit
                )
            if len(head) < HEAD_BYTES:
                head += chunk[: HEAD_BYTES - len(head)]
            if digest is not None:
                digest.update(chunk)
            buffer.append(chunk)
            buffered += len(chunk)
            if buffered >= APPEND_BYTES:
                await _append(redis, key, b"".join(buffer))
                buffer, buffered = [], 0
        if buffer:
            await _append(redis, key, b"".join(buffer))
    except BaseException:
        with contextlib.suppress(Exception):
            await redis.delete(key)  # else it expires on its own
        raise
    return size, head


async def _append(redis: Client, key: str, data: bytes) -> None:
    pipe = redis.pipeline(transaction=False)
    pipe.append(key, data)
    pipe.expire(key, UPLOAD_TTL_SECONDS)
    await pipe.execute()
