"""Pausing a function: its jobs are still accepted and queued, but no consumer starts one
until it is resumed (consumers/pausing.py, start.lua); jobs running finish."""

from __future__ import annotations

from shared.keys import keys_for
from shared.redis import Client, redis_errors


async def set_paused(redis: Client, namespace: str, function: str, paused: bool) -> None:
    key = keys_for(namespace, function).paused
    with redis_errors():
        if paused:
            await redis.set(key, "1")
        else:
            await redis.delete(key)


async def is_paused(redis: Client, namespace: str, function: str) -> bool:
    with redis_errors():
        return bool(await redis.exists(keys_for(namespace, function).paused))
