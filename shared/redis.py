"""Opening Redis clients the way sluice needs them."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import redis.exceptions as redis_errors
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from shared.settings import SettingsError

# Seconds a blocking read waits; the socket timeout must be longer than this.
READ_BLOCK_SECONDS = 2.0
SOCKET_TIMEOUT_SECONDS = 10.0
# Connections per client; concurrent commands beyond it wait for one (batching keeps the
# number in use small).
DEFAULT_CONNECTIONS = 64

try:
    from redis.maint_notifications import MaintNotificationsConfig
except ImportError:  # an older redis-py: no such notifications, pooled connections checked
    _POOL_OPTIONS: dict[str, Any] = {}
else:
    # redis-py (8.1 here) defaults these (Redis Enterprise maintenance notices) to "auto"; while
    # they are on, its pool hands out a connection the server has closed without looking:
    # after a Redis restart, a dropped network or Redis's idle `timeout`, each pooled
    # connection failed one command (a status read answered 503 with Redis back up).
    _POOL_OPTIONS = {"maint_notifications_config": MaintNotificationsConfig(enabled=False)}


def client(url: str, *, max_connections: int = DEFAULT_CONNECTIONS) -> Redis:
    """A client that never retries a command by itself.

    A silent retry of XADD or XREADGROUP after a lost reply duplicates or orphans an
    entry; callers decide what is safe to repeat. Past ``max_connections`` a command
    waits for a free connection (up to the socket timeout) instead of failing.
    """
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=SOCKET_TIMEOUT_SECONDS,
        socket_timeout=SOCKET_TIMEOUT_SECONDS,
        socket_connect_timeout=5.0,
        health_check_interval=0,
        retry=Retry(NoBackoff(), 0),
        **_POOL_OPTIONS,
    )
    return Redis.from_pool(pool)


@contextlib.asynccontextmanager
async def connect(url: str, *, max_connections: int = DEFAULT_CONNECTIONS) -> AsyncIterator[Redis]:
    redis = client(url, max_connections=max_connections)
    try:
        yield redis
    finally:
        await redis.aclose()


async def check_access(redis: Redis) -> None:
    """SettingsError if Redis refuses this client (a wrong password or user, a database
    number it does not have): retrying would never help. An unreachable or busy Redis is
    no error here: it may come up later, and the processes wait for it."""
    try:
        await redis.ping()
    except (redis_errors.AuthenticationError, redis_errors.NoPermissionError) as exc:
        raise SettingsError(f"REDIS_URL: Redis refused the connection: {exc}") from exc
    except redis_errors.RedisError as exc:
        if "DB index" in str(exc):  # SELECT of a database the server does not have
            raise SettingsError(f"REDIS_URL: Redis refused the connection: {exc}") from exc
