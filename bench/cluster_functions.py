"""Echo functions under many names, for the Redis Cluster scaling bench.

A function's keys share the hash tag ``{name}``, so the name alone decides its slot and so
its master. bench/cluster_scaling.py picks, at run time with CLUSTER KEYSLOT, one name per
master from these; sixteen names leave every third of the slot range several to choose
from. Loaded through FUNCTION_MODULES=bench.cluster_functions.
"""

from __future__ import annotations

from typing import Any

from shared.functions import JobContext, function

NAMES = tuple(f"scaling_echo_{n}" for n in range(16))


async def scaling_echo(job: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Returns its input, like the built-in ``echo``."""
    return params


for _name in NAMES:
    function(_name, input=dict[str, Any], timeout=10, max_attempts=3)(scaling_echo)
