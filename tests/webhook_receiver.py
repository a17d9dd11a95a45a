"""A webhook receiver for the tests: an HTTP server on loopback (uvicorn, in the test's
process) that records each request it gets."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence

import uvicorn
from starlette.types import Receive, Scope, Send

from tests.conftest import listening_socket


class Receiver:
    """An HTTP server on loopback (uvicorn, in this process) that records each request and
    answers with the next of ``answers`` (then 200)."""

    def __init__(self, answers: Sequence[int] = ()) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.answers = list(answers)
        self.arrived = asyncio.Event()
        self.url = ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        self.requests.append((headers, body))
        self.arrived.set()
        status = self.answers.pop(0) if self.answers else 200
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def wait_for(self, count: int, timeout: float = 5.0) -> None:
        """Until ``count`` requests have come."""
        async with asyncio.timeout(timeout):
            while len(self.requests) < count:
                self.arrived.clear()
                await self.arrived.wait()


@contextlib.asynccontextmanager
async def receiving() -> AsyncIterator[Receiver]:
    """A Receiver listening on 127.0.0.1 (its ``url``) for the block."""
    app = Receiver()
    sock = listening_socket()
    app.url = f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning"))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    yield app
    server.should_exit = True
    await serving
    sock.close()
