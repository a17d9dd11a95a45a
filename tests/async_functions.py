"""Async functions that misbehave inside the consumer's event loop, loaded through
FUNCTION_MODULES=tests.functions,tests.async_functions (tests/test_async_limits.py).

Like tests/functions.py, each handler appends "<job_id> <attempt> <pid> <what> <time>"
lines to a file named in its input, so a test can count how often it really ran.
"""

from __future__ import annotations

import os
import time

from shared.functions import JobContext, function
from tests.functions import Ending, Work, end_as


def _note(params: Work, job: JobContext, what: str) -> None:
    if params.effect_path:
        with open(params.effect_path, "a", encoding="utf-8") as effect:
            effect.write(f"{job.job_id} {job.attempt} {os.getpid()} {what} {time.time()}\n")


@function("async_block", input=Work, timeout=1, max_attempts=1)
async def async_block(job: JobContext, params: Work) -> dict[str, object]:
    """Blocks the consumer's event loop for ``seconds`` (time.sleep, never awaits)."""
    _note(params, job, "start")
    time.sleep(params.seconds)
    _note(params, job, "effect")
    return {"slept": params.seconds, "attempt": job.attempt}


@function("async_ending", input=Ending, timeout=30, max_attempts=2, backoff=0.2)
async def async_ending(job: JobContext, params: Ending) -> dict[str, object]:
    """tests/functions.py's ``ending``, run inline."""
    return end_as(job, params)
