"""Packed commands to Redis in one round trip: one write, a reply per command (an error
reply as its exception). On one Redis over a connection kept between round trips; on a
Redis Cluster, to each command's node at once, following the nodes' redirects.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import weakref
from collections.abc import Sequence
from typing import Any

import hiredis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.exceptions import AskError, MovedError, ResponseError, TryAgainError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from shared.redis import OUTAGE, Client

# Times a command a cluster node turned away (MOVED) is sent again, where it was told.
REDIRECTS = 3
# Seconds before a command a node answered TRYAGAIN is sent again.
TRY_AGAIN_PAUSE = 0.05
# A node's round trip that failed this way tells nothing of what ran there.
_UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)
_ASKING = hiredis.pack_command(("ASKING",))


async def round_trip(redis: Client, commands: list[bytes], keys: Sequence[str]) -> list[Any]:
    """Each command's reply (an error reply as its exception); ``keys[i]`` is a key of
    command i."""
    if isinstance(redis, RedisCluster):
        return await _cluster_round_trip(redis, commands, keys)
    pool = redis.connection_pool
    connection = await _checkout(pool)
    try:
        replies = await _exchange(connection, commands)
    except BaseException:
        await pool.release(connection)
        raise
    if pool in _spare:
        await pool.release(connection)
    else:
        _spare[pool] = connection
    return replies


async def _checkout(pool: Any) -> Any:
    connection = _spare.pop(pool, None)
    if connection is None:
        return await pool.get_connection()
    try:
        try:
            # What the pool checks too: a closed socket (Redis restarted) or stray bytes.
            stale = await connection.can_read()
        except (RedisConnectionError, RedisTimeoutError, OSError):
            stale = True
        if stale:
            await connection.disconnect()  # the send reconnects
    except BaseException:
        _spare.setdefault(pool, connection)  # cancelled: keep it for the next batch
        raise
    return connection


async def _cluster_round_trip(
    redis: RedisCluster, commands: list[bytes], keys: Sequence[str]
) -> list[Any]:
    """The commands sent to the nodes serving their keys' slots, one round trip per node
    at once. A command a node turned away did not run: after MOVED (its slot moved, e.g.
    after a failover) it is sent again where the redirect says, after ASK (its slot is
    migrating) to the node named, behind ASKING, after TRYAGAIN (its keys are being
    moved) to the same node a moment later; up to REDIRECTS times (a refreshed slot
    map could still name the old master: the node asked may not have heard of the
    failover yet). A node that cannot be reached fails only its own commands (each gets
    the error as its reply) while the others' replies stand; when no command got an
    answer, that error is raised, as on one Redis."""
    await redis.initialize()  # the first call learns the slot map; later ones return
    replies: list[Any] = [None] * len(commands)
    todo = list(range(len(commands)))
    asked: dict[int, ClusterNode] = {}  # the node an ASK named, by command
    for attempt in range(REDIRECTS + 1):
        by_node: dict[str, tuple[ClusterNode, list[int]]] = {}
        for index in todo:
            node = asked.get(index) or redis.get_node_from_key(keys[index])
            if node is None:
                raise RedisConnectionError(f"no node serves the slot of {keys[index]!r}")
            by_node.setdefault(node.name, (node, []))[1].append(index)
        answers = await asyncio.gather(
            *(_node_round_trip(node, [commands[i] for i in indexes], [i in asked for i in indexes])
              for node, indexes in by_node.values()),
            return_exceptions=True,
        )  # fmt: skip
        unreachable: BaseException | None = None
        for (_, indexes), answer in zip(by_node.values(), answers, strict=True):
            if isinstance(answer, BaseException):
                if not isinstance(answer, _UNREACHABLE):
                    raise answer
                unreachable = answer
                answer = [answer] * len(indexes)
            for index, reply in zip(indexes, answer, strict=True):
                replies[index] = reply
        if unreachable is not None:
            # The next call goes where it should; a map not to be had now is asked for
            # again at the next failure.
            with contextlib.suppress(*OUTAGE):
                await redis.nodes_manager.initialize()
            if all(isinstance(reply, _UNREACHABLE) for reply in replies):
                raise unreachable
        # (A MovedError is an AskError.)
        todo = [i for i in todo if isinstance(replies[i], AskError | TryAgainError)]
        if not todo or attempt == REDIRECTS:
            return replies
        asked.clear()
        if any(isinstance(replies[i], TryAgainError) for i in todo):
            await asyncio.sleep(TRY_AGAIN_PAUSE)
        for index in todo:
            redirect = replies[index]
            if isinstance(redirect, MovedError):
                await redis.nodes_manager.move_slot(redirect)
            elif isinstance(redirect, AskError):
                node = redis.get_node(host=redirect.host, port=redirect.port)
                if node is None:
                    await redis.nodes_manager.initialize()  # a node not in the map yet
                else:
                    asked[index] = node
    return replies


def node_name(redis: Client, key: str) -> str:
    """The name of the cluster node serving ``key``'s slot ("" on one Redis)."""
    if not isinstance(redis, RedisCluster):
        return ""
    node = redis.get_node_from_key(key)
    return node.name if node is not None else ""


async def _node_round_trip(
    node: ClusterNode, commands: list[bytes], asking: list[bool]
) -> list[Any]:
    """Each command's reply; a command with ``asking`` goes behind an ASKING on the same
    connection (what lets a node run it on a slot it is importing)."""
    connection = node.acquire_connection()
    try:
        sent = [c for command, ask in zip(commands, asking, strict=True)
                for c in ((_ASKING, command) if ask else (command,))]  # fmt: skip
        replies = await _exchange(connection, sent)
    finally:
        node.release(connection)
    ends = itertools.accumulate(2 if ask else 1 for ask in asking)
    return [replies[end - 1] for end in ends]


async def _exchange(connection: Any, commands: list[bytes]) -> list[Any]:
    """Send the commands in one write and read a reply to each (an error reply as its
    exception). On any failure the connection is closed: a reply may be left unread on
    it, and it must never be handed out again in that state."""
    try:
        await connection.send_packed_command(commands, check_health=False)
        replies: list[Any] = []
        for _ in commands:
            try:
                replies.append(await connection.read_response())
            except ResponseError as exc:
                replies.append(exc)
    except BaseException:
        await connection.disconnect(nowait=True)
        raise
    return replies


# One connection per pool kept checked out for the batches between them, so a round trip
# does not pay for taking one from redis-py's blocking pool and giving it back. It stays
# in the pool's in-use set, so closing the client closes it.
_spare: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
