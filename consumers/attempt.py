"""Running one attempt of a job: inline for async handlers, in a warm child otherwise."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec

from consumers.context import Attempt, InlineJob
from consumers.errors import AttemptFailed
from consumers.pool import ProcessPool
from shared.errors import PermanentError
from shared.functions import FunctionSpec
from shared.jobs import json_encoder


async def _run_inline(spec: FunctionSpec, attempt: Attempt) -> bytes:
    try:
        params = spec.decode_input(attempt.payload)
    except msgspec.MsgspecError as exc:
        raise PermanentError(str(exc), type="InvalidInput") from exc
    try:
        result: Any = await spec.handler(InlineJob(attempt), params)
    except (PermanentError, asyncio.CancelledError):
        raise
    except Exception as exc:
        raise AttemptFailed(type(exc).__name__, str(exc)) from exc
    try:
        return json_encoder.encode(result)
    except (TypeError, msgspec.EncodeError) as exc:
        raise PermanentError(f"result is not JSON-encodable: {exc}", type="InvalidResult") from exc


async def run_attempt(spec: FunctionSpec, pool: ProcessPool, attempt: Attempt) -> bytes:
    """The result as JSON; raises PermanentError or AttemptFailed. The time limit is the
    caller's: it cancels the task running this."""
    if spec.is_async:
        return await _run_inline(spec, attempt)
    return await pool.run(spec, attempt)


def time_limit_exceeded(spec: FunctionSpec) -> AttemptFailed:
    return AttemptFailed(
        "TimeLimitExceeded", f"the handler ran over its {spec.timeout:g} s time limit"
    )
