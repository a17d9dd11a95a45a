"""A minimal HTTP/1.1 keep-alive client on asyncio streams, for load generation.

With 64 requests in flight, httpx 0.28 spent about 2.6 ms of CPU per request here (its
connection pool), six times what the gateway it measures spends, on the same 2 cores. This
client writes a prepared request and reads the status line, headers and Content-Length
body over keep-alive connections: about 65 us per request, JSON decoding included.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable

import msgspec


class _Accepted(msgspec.Struct):
    job_id: str


_accepted = msgspec.json.Decoder(_Accepted)


@dataclasses.dataclass
class PostResults:
    job_ids: list[str] = dataclasses.field(default_factory=list)
    # HTTP status -> count, for answers other than 202.
    refused: dict[int, int] = dataclasses.field(default_factory=dict)
    errors: int = 0


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """Status, body and whether the server keeps the connection open."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = 0
    keep_alive = True
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection" and value.strip().lower() == "close":
            keep_alive = False
    body = await reader.readexactly(length) if length else b""
    return status, body, keep_alive


async def post_jobs(
    port: int,
    function: str,
    count: int,
    body: Callable[[int], bytes],
    connections: int,
    on_start: Callable[[], None] = lambda: None,
) -> PostResults:
    """POST ``count`` jobs over ``connections`` keep-alive connections, opened beforehand.

    ``on_start`` is called once every connection is open, just before the first request.
    """
    results = PostResults()
    head = (
        f"POST /v1/jobs/{function} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Content-Type: application/json\r\nContent-Length: "
    ).encode()
    counter = iter(range(count))

    async def send_all(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            for index in counter:
                payload = body(index)
                writer.write(b"%s%d\r\n\r\n%s" % (head, len(payload), payload))
                try:
                    status, answer, keep_alive = await _read_response(reader)
                except (asyncio.IncompleteReadError, ConnectionError):
                    results.errors += 1
                    keep_alive = False
                else:
                    if status == 202:
                        results.job_ids.append(_accepted.decode(answer).job_id)
                    else:
                        results.refused[status] = results.refused.get(status, 0) + 1
                if not keep_alive:
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
        finally:
            writer.close()

    opened = await asyncio.gather(
        *(asyncio.open_connection("127.0.0.1", port) for _ in range(connections))
    )
    on_start()
    await asyncio.gather(*(send_all(reader, writer) for reader, writer in opened))
    return results
