"""Built-in functions that need no heavy libraries."""

from __future__ import annotations

from typing import Any

from shared.functions import JobContext, function


@function("echo", input=dict[str, Any], timeout=10, max_attempts=3)
async def echo(job: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Returns its input; for health checks and benchmarks."""
    return params
