"""Running one attempt of a job: inline for async handlers, in a warm child otherwise."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import msgspec

from consumers.errors import AttemptFailed
from consumers.pool import ProcessPool
from shared.errors import PermanentError
from shared.functions import FunctionSpec
from shared.jobs import json_encoder


class InlineJob:
    """The job context an async handler sees."""

    def __init__(self, job_id: str, attempt: int, report: Callable[[float, str], None]) -> None:
        self._job_id = job_id
        self._attempt = attempt
        self._report = report

    @property
    def job_id(self) -> str:
        return self._job_id

    @property
    def attempt(self) -> int:
        return self._attempt

    def progress(self, percent: float, message: str = "") -> None:
        self._report(max(0.0, min(100.0, float(percent))), str(message))


async def _run_inline(
    spec: FunctionSpec,
    job_id: str,
    attempt: int,
    payload: bytes,
    report: Callable[[float, str], None],
) -> bytes:
    try:
        params = spec.decode_input(payload)
    except msgspec.MsgspecError as exc:
        raise PermanentError(str(exc), type="InvalidInput") from exc
    try:
        result: Any = await spec.handler(InlineJob(job_id, attempt, report), params)
    except (PermanentError, asyncio.CancelledError):
        raise
    except Exception as exc:
        raise AttemptFailed(type(exc).__name__, str(exc)) from exc
    try:
        return json_encoder.encode(result)
    except (TypeError, msgspec.EncodeError) as exc:
        raise PermanentError(f"result is not JSON-encodable: {exc}", type="InvalidResult") from exc


async def run_attempt(
    spec: FunctionSpec,
    pool: ProcessPool,
    job_id: str,
    attempt: int,
    payload: bytes,
    report: Callable[[float, str], None],
) -> bytes:
    """The result as JSON; raises PermanentError, AttemptFailed (time limit included)."""
    if spec.is_async:
        work = _run_inline(spec, job_id, attempt, payload, report)
    else:
        work = pool.run(spec.name, job_id, attempt, payload, spec.memory_mb, report)
    try:
        return await asyncio.wait_for(work, timeout=spec.timeout)
    except TimeoutError:
        raise AttemptFailed(
            "TimeLimitExceeded", f"the handler ran over its {spec.timeout:g} s time limit"
        ) from None
