"""Opening Redis clients the way sluice needs them."""

from __future__ import annotations

import contextlib
import re
import ssl
from collections.abc import AsyncIterator, Iterator
from typing import Any

import redis.exceptions as redis_exceptions
import structlog
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from shared.errors import UnavailableError
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
    POOL_OPTIONS: dict[str, Any] = {}
else:
    # redis-py (8.1 here) defaults these (Redis Enterprise maintenance notices) to "auto"; while
    # they are on, its pool hands out a connection the server has closed without looking:
    # after a Redis restart, a dropped network or Redis's idle `timeout`, each pooled
    # connection failed one command (a status read answered 503 with Redis back up).
    POOL_OPTIONS = {"maint_notifications_config": MaintNotificationsConfig(enabled=False)}


# What a Redis that cannot serve a command now raises: a lost connection, a timeout, a
# cluster none of whose nodes answer (redis-py's RedisClusterException is no RedisError),
# or a slot whose keys are moving between nodes (TRYAGAIN, while resharding).
OUTAGE = (
    redis_exceptions.ConnectionError,
    redis_exceptions.TimeoutError,
    redis_exceptions.RedisClusterException,
    redis_exceptions.TryAgainError,
)

# A plain client, or one of a Redis Cluster (REDIS_CLUSTER=1): every command and script
# of sluice names keys of one function's hash tag, so each goes to one node.
Client = Redis | RedisCluster


def client(
    url: str, *, max_connections: int = DEFAULT_CONNECTIONS, cluster: bool = False
) -> Client:
    """A client that never retries a command by itself.

    A silent retry of XADD or XREADGROUP after a lost reply duplicates or orphans an
    entry; callers decide what is safe to repeat. Past ``max_connections`` a command
    waits for a free connection (up to the socket timeout) instead of failing. With
    ``cluster``, ``url`` names any node; a command that meets a failed node raises, and
    the next one is sent where the refreshed slot map says.
    """
    if cluster:
        return RedisCluster.from_url(
            url,
            max_connections=max_connections,
            socket_timeout=SOCKET_TIMEOUT_SECONDS,
            socket_connect_timeout=5.0,
            health_check_interval=0,
            retry=Retry(NoBackoff(), 0),
        )
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=SOCKET_TIMEOUT_SECONDS,
        socket_timeout=SOCKET_TIMEOUT_SECONDS,
        socket_connect_timeout=5.0,
        health_check_interval=0,
        retry=Retry(NoBackoff(), 0),
        **POOL_OPTIONS,
    )
    return Redis.from_pool(pool)


@contextlib.asynccontextmanager
async def connect(
    url: str, *, max_connections: int = DEFAULT_CONNECTIONS, cluster: bool = False
) -> AsyncIterator[Client]:
    redis = client(url, max_connections=max_connections, cluster=cluster)
    try:
        yield redis
    finally:
        await redis.aclose()


async def check_access(redis: Client) -> None:
    """SettingsError if Redis refuses this client (a wrong password or user, a database
    number it does not have, a TLS certificate that does not verify): retrying would never
    help. An unreachable or busy Redis is no error here: it may come up later, and the
    processes wait for it. Warns (a log line) when Redis keeps nothing across a restart."""
    try:
        await redis.ping()
    except (redis_exceptions.AuthenticationError, redis_exceptions.NoPermissionError) as exc:
        raise SettingsError(f"REDIS_URL: Redis refused the connection: {exc}") from exc
    except redis_exceptions.ConnectionError as exc:
        cause = exc.__cause__
        if isinstance(cause, ssl.SSLCertVerificationError):
            hint = (
                "the certificate does not name the host in REDIS_URL"
                if "hostname" in str(cause).lower()
                else "name the CA that signed it with ?ssl_ca_certs=PATH"
            )
            raise SettingsError(
                f"REDIS_URL: the TLS certificate of Redis does not verify: {cause} ({hint})"
            ) from exc
        return
    except redis_exceptions.RedisClusterException:
        return  # no node of the cluster answers (yet)
    except redis_exceptions.RedisError as exc:
        if "DB index" in str(exc):  # SELECT of a database the server does not have
            raise SettingsError(f"REDIS_URL: Redis refused the connection: {exc}") from exc
        return
    kept = await persistence(redis)
    if kept == "none":
        structlog.get_logger("sluice").warning("redis_without_persistence", **NO_PERSISTENCE)


NO_PERSISTENCE = {
    "problem": "Redis has neither AOF nor RDB snapshots on: a restart loses every job",
    "fix": "CONFIG SET appendonly yes (and in redis.conf), or your provider's persistence",
}


async def persistence(redis: Client) -> str:
    """How Redis keeps its data across a restart: "aof", "rdb", "aof+rdb", "none", or
    "unknown" where CONFIG is not allowed (managed services rename or forbid it)."""
    try:
        config = await redis.config_get("appendonly") | await redis.config_get("save")
    except redis_exceptions.ResponseError:
        return "unknown"
    kept = [
        name
        for name, on in (
            ("aof", _text(config.get("appendonly")) == "yes"),
            ("rdb", bool(_text(config.get("save")).strip())),
        )
        if on
    ]
    return "+".join(kept) or "none"


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value or "")


# Replies of a Redis that is up but refuses writes: each is an outage to the client (503,
# retry later), not a fault of the request.
_WRITE_REFUSALS = {
    "OOM": "Redis is out of memory (maxmemory reached) and refuses writes until memory frees",
    "MISCONF": "Redis refuses writes: it cannot save its snapshot (MISCONF)",
    "READONLY": "Redis refuses writes: REDIS_URL names a read-only replica",
}


_REFUSAL_CODE = re.compile(r"(?:^|: -)(OOM|MISCONF|READONLY) ")


def write_refusal(exc: BaseException) -> str | None:
    """What to tell a client when ``exc`` is Redis refusing writes, else None."""
    # redis-py strips the code from the errors it has classes for; a script's error reply
    # keeps it.
    if isinstance(exc, redis_exceptions.OutOfMemoryError):
        return _WRITE_REFUSALS["OOM"]
    if isinstance(exc, redis_exceptions.ReadOnlyError):
        return _WRITE_REFUSALS["READONLY"]
    if not isinstance(exc, redis_exceptions.ResponseError):
        return None
    # Redis 6.2 puts the script's position first: "@user_script: 32: -OOM command ...".
    code = _REFUSAL_CODE.search(str(exc))
    return _WRITE_REFUSALS[code[1]] if code else None


@contextlib.contextmanager
def redis_errors() -> Iterator[None]:
    """Turn a Redis outage, or a Redis refusing writes (out of memory), into a 503 the
    client can retry."""
    try:
        yield
    except OUTAGE as exc:
        raise UnavailableError(f"job store unavailable: {exc}", retry_after=1) from exc
    except redis_exceptions.ResponseError as exc:
        refusal = write_refusal(exc)
        if refusal is None:
            raise
        raise UnavailableError(refusal, retry_after=5) from exc
