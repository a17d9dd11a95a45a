"""Running a handler once, the same way inline (async handlers) and in a child (sync ones).

Both paths decode the input, call the handler, encode its result and turn whatever it
raised into an Outcome with the same rules; only the call differs (awaited or not) and
how the outcome travels (returned, or sent back over the child's pipe). The messages of
that pipe are the structs here, tagged and msgpack-encoded (see consumers/child.py).
"""

from __future__ import annotations

from typing import Any

import msgspec

from consumers.errors import AttemptFailed
from shared import error_types
from shared.errors import PermanentError
from shared.functions import FunctionSpec, JobContext
from shared.jobs import json_encoder


class Message(msgspec.Struct, tag_field="kind", tag=True, frozen=True):
    """A message on a child's pipe, tagged with its class name."""


class Task(Message, frozen=True):
    """Consumer -> child: run one attempt of ``function``."""

    function: str
    job_id: str
    attempt: int
    payload: bytes
    memory_mb: int
    document: bytes | None


class Progress(Message, frozen=True):
    percent: float
    message: str


class SavedArtifact(Message, frozen=True):
    name: str
    content_type: str
    data: bytes


class Succeeded(Message, frozen=True):
    result: bytes  # JSON


class Failed(Message, frozen=True):
    type: str
    message: str
    # Fails the job at once; otherwise the attempt is retried while attempts remain.
    permanent: bool


Outcome = Succeeded | Failed
ChildMessage = Progress | SavedArtifact | Succeeded | Failed

message_encoder = msgspec.msgpack.Encoder()
task_decoder = msgspec.msgpack.Decoder(Task)
child_message_decoder = msgspec.msgpack.Decoder(ChildMessage)


def utf8_text(value: object) -> str:
    """``str(value)`` with what UTF-8 cannot encode (lone surrogates, as from a file name
    os.fsdecode kept undecodable) replaced by "?": msgpack and JSON refuse it, and a
    message that cannot be encoded must not kill the child sending it."""
    return str(value).encode("utf-8", "replace").decode("utf-8")


def decode_input(spec: FunctionSpec, payload: bytes) -> Any:
    try:
        return spec.decode_input(payload)
    except msgspec.MsgspecError as exc:
        raise PermanentError(str(exc), type=error_types.INVALID_INPUT) from exc


def encode_result(result: Any) -> bytes:
    # A circular result fails with RecursionError: it can never be encoded either.
    try:
        return json_encoder.encode(result)
    except (TypeError, msgspec.EncodeError, RecursionError) as exc:
        raise PermanentError(
            f"result is not JSON-encodable: {exc}", type=error_types.INVALID_RESULT
        ) from exc


def failed(exc: Exception, memory_mb: int | None = None) -> Failed:
    """What an exception from decoding, the handler or encoding means for the job.
    ``memory_mb`` is the limit the handler ran under, if any (in a child)."""
    if isinstance(exc, PermanentError):
        return Failed(utf8_text(exc.type), utf8_text(exc.message), permanent=True)
    if isinstance(exc, MemoryError) and memory_mb is not None:
        message = f"the handler used over {memory_mb} MB"
        return Failed(error_types.MEMORY_LIMIT_EXCEEDED, message, permanent=False)
    return Failed(type(exc).__name__, utf8_text(exc), permanent=False)


def execute(spec: FunctionSpec, job: JobContext, payload: bytes, memory_mb: int) -> Outcome:
    """One call of a synchronous handler, in a child under a ``memory_mb`` limit."""
    try:
        result = spec.handler(job, decode_input(spec, payload))
        return Succeeded(encode_result(result))
    except Exception as exc:
        return failed(exc, memory_mb)


async def execute_async(spec: FunctionSpec, job: JobContext, payload: bytes) -> Outcome:
    """One call of an async handler, in the consumer's loop. Cancellation (time limit,
    cancel, shutdown) is not an outcome: it propagates."""
    try:
        result = await spec.handler(job, decode_input(spec, payload))
        return Succeeded(encode_result(result))
    except Exception as exc:
        return failed(exc)


def result_of(outcome: Outcome) -> bytes:
    """The result JSON; raises PermanentError or AttemptFailed for a failure."""
    if isinstance(outcome, Succeeded):
        return outcome.result
    if outcome.permanent:
        raise PermanentError(outcome.message, type=outcome.type)
    raise AttemptFailed(outcome.type, outcome.message)
