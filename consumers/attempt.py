"""Running one attempt of a job: inline for async handlers, in a warm child otherwise."""

from __future__ import annotations

from consumers.context import Attempt, InlineJob
from consumers.errors import AttemptFailed
from consumers.execution import execute_async, result_of
from consumers.pool import ProcessPool
from shared import error_types
from shared.functions import FunctionSpec


async def run_attempt(spec: FunctionSpec, pool: ProcessPool, attempt: Attempt) -> bytes:
    """The result as JSON; raises PermanentError or AttemptFailed. The time limit is the
    caller's: it cancels the task running this."""
    if spec.is_async:
        return result_of(await execute_async(spec, InlineJob(attempt), attempt.payload))
    return await pool.run(spec, attempt)


def time_limit_exceeded(spec: FunctionSpec) -> AttemptFailed:
    return AttemptFailed(
        error_types.TIME_LIMIT_EXCEEDED, f"the handler ran over its {spec.timeout:g} s time limit"
    )
