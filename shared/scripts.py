"""The Lua scripts, loaded through redis-py Script objects (they reload after a restart)."""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

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


ScriptCall = tuple[AsyncScript, Sequence[Any], Sequence[Any]]


async def run_pipelined(redis: Redis, calls: Sequence[ScriptCall]) -> list[Any]:
    """Run many script calls in one round trip; each reply, or the error it raised.

    Uses EVALSHA directly (a redis-py pipeline would ask SCRIPT EXISTS before every
    batch); calls that meet NOSCRIPT (a restarted Redis) did not run, so they are sent
    again once their scripts are loaded.
    """
    replies = await _send(redis, calls)
    missing = [i for i, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
    if missing:
        for script in {id(calls[i][0]): calls[i][0] for i in missing}.values():
            script.sha = await redis.script_load(script.script)
        again = await _send(redis, [calls[i] for i in missing])
        for i, reply in zip(missing, again, strict=True):
            replies[i] = reply
    return replies


async def _send(redis: Redis, calls: Sequence[ScriptCall]) -> list[Any]:
    pipe = redis.pipeline(transaction=False)
    for script, keys, args in calls:
        pipe.evalsha(script.sha, len(keys), *keys, *args)
    replies: list[Any] = await pipe.execute(raise_on_error=False)
    return replies
