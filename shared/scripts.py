"""The Lua scripts, loaded through redis-py Script objects (they reload after a restart)."""

from __future__ import annotations

from importlib import resources
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript

_NAMES = ("submit", "start", "heartbeat", "complete", "retry", "release", "cancel", "progress")


def _source(name: str) -> str:
    return resources.files("shared").joinpath("lua", f"{name}.lua").read_text("utf-8")


_SOURCES = {name: _source(name) for name in _NAMES}


class Scripts:
    """The scripts registered on one client; call as ``await scripts.submit(keys, args)``."""

    def __init__(self, redis: Redis[Any] | Redis) -> None:  # type: ignore[type-arg]
        self.submit: AsyncScript = redis.register_script(_SOURCES["submit"])
        self.start: AsyncScript = redis.register_script(_SOURCES["start"])
        self.heartbeat: AsyncScript = redis.register_script(_SOURCES["heartbeat"])
        self.complete: AsyncScript = redis.register_script(_SOURCES["complete"])
        self.retry: AsyncScript = redis.register_script(_SOURCES["retry"])
        self.release: AsyncScript = redis.register_script(_SOURCES["release"])
        self.cancel: AsyncScript = redis.register_script(_SOURCES["cancel"])
        self.progress: AsyncScript = redis.register_script(_SOURCES["progress"])
