"""A consumer's place in its groups: saying it is alive, forgetting the departed.

A consumer that stops gracefully leaves its groups itself; one that is killed never says
goodbye and stayed in XINFO CONSUMERS. Each consumer writes its name and the time into
its functions' consumers hashes twice per visibility timeout, and now and then one script
per function deletes the consumers with no pending entries and no word for long. XINFO's
own ``idle`` cannot tell: before Redis 7.2 a read that returns nothing does not reset it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import structlog
from redis.exceptions import ResponseError

from shared.jobs import now_ms
from shared.keys import GROUP, FunctionKeys
from shared.redis import Client
from shared.script_calls import forget_call
from shared.scripts import Scripts

log = structlog.get_logger("consumer")

# How often a consumer looks for departed ones to forget (at most), and how many it may
# forget at once (bounds the script's time).
FORGET_EVERY_SECONDS = 300.0
FORGET_AT_ONCE = 100


async def ensure_groups(client: Client, streams: Iterable[bytes]) -> None:
    """Each stream's consumer group, made (with the stream) if missing."""
    for stream in streams:
        try:
            await client.xgroup_create(stream, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise


class Membership:
    def __init__(
        self,
        redis: Client,
        scripts: Scripts,
        keys: Iterable[FunctionKeys],
        name: str,
        forget_after: float,
    ) -> None:
        self.redis = redis
        self.scripts = scripts
        self.keys = list(keys)
        self.name = name
        self.forget_after = forget_after
        self._forgot_at = 0.0

    async def say_alive(self) -> None:
        """Note in each function's consumers hash that this consumer is alive (the hash
        expires when no consumer has said anything for twice the forgetting time)."""
        now = str(now_ms())
        pipe = self.redis.pipeline(transaction=False)
        for keys in self.keys:
            pipe.hset(keys.consumers, self.name, now)
            pipe.pexpire(keys.consumers, int(self.forget_after * 2000))
        await pipe.execute()

    async def forget_departed(self) -> None:
        """Take consumers that died without a goodbye off XINFO CONSUMERS, once their
        entries have been reclaimed (those with pending entries stay: XPENDING names them)."""
        if time.monotonic() - self._forgot_at < min(FORGET_EVERY_SECONDS, self.forget_after / 2):
            return
        self._forgot_at = time.monotonic()
        for keys in self.keys:
            forgotten = await self.scripts.run(
                forget_call(
                    keys,
                    consumer=self.name,
                    now_ms=now_ms(),
                    silence_ms=int(self.forget_after * 1000),
                    most=FORGET_AT_ONCE,
                )
            )
            if forgotten:
                log.info(
                    "consumers_forgotten",
                    function=keys.function,
                    names=[name.decode() for name in forgotten],
                )

    async def leave(self, keys: FunctionKeys) -> None:
        """Leave one function's group (only when nothing is pending to us there)."""
        await self.redis.xgroup_delconsumer(keys.stream, GROUP, self.name)
        await self.redis.hdel(keys.consumers, self.name)
