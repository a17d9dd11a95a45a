"""What the Lua script tests share: the ``redis`` fixture (a client with the scripts
loaded), the settings the calls run under, and submit.lua's call."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from shared import script_calls as builders
from shared.embedded import RedisServer
from shared.jobs import now_iso
from shared.keys import keys_for
from shared.redis import Client, connect
from shared.scripts import SCRIPTS, ScriptCall
from shared.settings import Settings

BACKLOG = 1_000_000
SETTINGS = Settings(visibility_timeout=30.0, result_ttl=3600, dead_letter_max=10_000)


@pytest.fixture(name="redis")
async def scripts_redis(redis_server: RedisServer) -> AsyncIterator[Client]:
    """A client made as sluice makes them, with the scripts loaded (no NOSCRIPT round)."""
    async with connect(redis_server.url) as client:
        for script in SCRIPTS.values():
            await client.script_load(script.source)
        yield client


def submit_call(
    namespace: str, function: str, job_id: str, *, backlog: int = BACKLOG
) -> ScriptCall:
    return builders.submit_call(
        keys_for(namespace, function),
        job_id=job_id,
        payload=b'{"n":1}',
        max_attempts=3,
        created_at=now_iso(),
        max_backlog=backlog,
        idempotency_ttl=3600,
    )
