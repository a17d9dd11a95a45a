"""Warm child processes for synchronous handlers.

Each child is forked from a forkserver that has already imported the function modules,
so a job does not pay for importing heavy libraries. A child serves one job at a time and
is reused; one that times out, is cancelled or dies is killed and replaced lazily.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import socket
import struct
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext
from multiprocessing.process import BaseProcess

from consumers.child import child_main
from consumers.context import Artifact, Attempt
from consumers.errors import AttemptFailed
from consumers.execution import (
    Progress,
    SavedArtifact,
    Task,
    child_message_decoder,
    message_encoder,
    result_of,
)
from shared import error_types
from shared.errors import PermanentError
from shared.functions import BUILTIN_MODULES, FunctionSpec

# Stream buffer for replies: a rendered page arrives without pausing the socket often.
_BUFFER = 16 * 1024 * 1024


class Child:
    """One warm child process and the socket the consumer talks to it through.

    The child reads and writes with multiprocessing's Connection (blocking, length-prefixed
    frames of msgpack, see consumers/child.py); this side speaks the same framing over
    asyncio streams, so neither a large document nor a large reply ever blocks the event
    loop or needs a thread.
    """

    def __init__(self, context: ForkServerContext, modules: tuple[str, ...], slots: int) -> None:
        parent_end, child_sock = socket.socketpair()
        child_end = Connection(child_sock.detach())
        self.socket = parent_end
        self.process: BaseProcess = context.Process(
            target=child_main, args=(child_end, modules, os.getpid(), slots), daemon=True
        )
        self.process.start()
        child_end.close()
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._streams is None:
            self._streams = await asyncio.open_unix_connection(sock=self.socket, limit=_BUFFER)
        return self._streams

    async def _send(self, data: bytes) -> None:
        _, writer = await self._open()
        if len(data) > 0x7FFFFFFF:
            writer.write(struct.pack("!iQ", -1, len(data)))
        else:
            writer.write(struct.pack("!i", len(data)))
        writer.write(data)
        await writer.drain()

    async def _receive(self) -> bytes:
        reader, _ = await self._open()
        try:
            (size,) = struct.unpack("!i", await reader.readexactly(4))
            if size == -1:
                (size,) = struct.unpack("!Q", await reader.readexactly(8))
            return await reader.readexactly(size)
        except (asyncio.IncompleteReadError, OSError):
            await asyncio.to_thread(self.process.join, 2)
            code = self.process.exitcode
            how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit {code}"
            raise AttemptFailed(
                error_types.WORKER_DIED, f"the process running the job died ({how})"
            ) from None

    async def run(self, spec: FunctionSpec, attempt: Attempt) -> bytes:
        task = Task(
            spec.name,
            attempt.job_id,
            attempt.attempt,
            attempt.payload,
            spec.memory_mb,
            attempt.document,
        )
        try:
            await self._send(message_encoder.encode(task))
        except OSError:
            await self._receive()  # the child is gone: raises WorkerDied with its exit
            raise
        while True:
            message = child_message_decoder.decode(await self._receive())
            if isinstance(message, Progress):
                attempt.report(message.percent, message.message)
            elif isinstance(message, SavedArtifact):
                attempt.artifacts.append(Artifact(message.name, message.content_type, message.data))
            else:
                return result_of(message)

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(1)
        if self._streams is not None:
            self._streams[1].close()
        self.socket.close()


class ProcessPool:
    def __init__(self, modules: tuple[str, ...], max_idle: int) -> None:
        self._modules = modules
        self._max_idle = max_idle
        self._idle: list[Child] = []
        self._context: ForkServerContext | None = None

    def _get_context(self) -> ForkServerContext:
        if self._context is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(
                ["consumers.forkserver_init", "consumers.child", *BUILTIN_MODULES, *self._modules]
            )
            self._context = context
        return self._context

    async def start(self, count: int) -> None:
        """Start ``count`` children ahead of the first job."""
        children = [await asyncio.to_thread(self._spawn) for _ in range(count)]
        self._idle.extend(children)

    def _spawn(self) -> Child:
        return Child(self._get_context(), self._modules, self._max_idle)

    async def run(self, spec: FunctionSpec, attempt: Attempt) -> bytes:
        """Run the handler in a warm child; cancelling this kills the child."""
        child = self._idle.pop() if self._idle else await asyncio.to_thread(self._spawn)
        try:
            result = await child.run(spec, attempt)
        except BaseException as exc:
            # Only a child that answered properly is reused: after a broken exchange its
            # pipe may still hold part of a reply, which the next job would read as its own.
            answered = isinstance(exc, PermanentError) or (
                isinstance(exc, AttemptFailed) and exc.type != error_types.WORKER_DIED
            )
            if answered and child.process.is_alive():
                self._keep(child)
            else:
                child.kill()
            raise
        self._keep(child)
        return result

    def _keep(self, child: Child) -> None:
        if len(self._idle) < self._max_idle:
            self._idle.append(child)
        else:
            child.kill()

    def close(self) -> None:
        while self._idle:
            self._idle.pop().kill()
