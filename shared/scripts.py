"""The Lua scripts, each able to run a batch of calls in one EVALSHA.

Every script in ``lua/`` is written for one call (its own KEYS and ARGV). It is loaded
wrapped in a loop that runs it once per call of a batch, so many jobs started, completed
or submitted at once cost Redis one script invocation and the client one command to
encode and one reply to parse. A batch only holds calls whose first key (the function's
stream) is the same: all their keys share that function's hash tag, so one slot.
"""

from __future__ import annotations

import dataclasses
import hashlib
import weakref
from collections.abc import Sequence
from importlib import resources
from typing import Any

import hiredis
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

_NAMES = (
    "submit",
    "start",
    "take",
    "heartbeat",
    "complete",
    "retry",
    "release",
    "cancel",
    "progress",
    "forget",
    "end_follow_up",
)
# Calls per EVALSHA: bounds how long one batch holds Redis (well under a millisecond).
MAX_BATCH = 128

# ARGV = {calls, then per call: key count, arg count, args...}; KEYS = each call's keys.
# A call that raises gives its own error reply; the others still run. The body may keep
# what later calls of the same batch can reuse in the table ``batch``.
_BATCH_LOOP = """
local replies = {}
local k, a = 1, 2
for c = 1, tonumber(ARGV[1]) do
  local nk, na = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
  local ok, reply = pcall(one, {unpack(KEYS, k, k + nk - 1)}, {unpack(ARGV, a + 2, a + 1 + na)})
  if not ok then
    if type(reply) == 'table' and reply.err then
      reply = {err = reply.err}
    else
      reply = {err = 'ERR ' .. tostring(reply)}
    end
  elseif reply == nil then
    reply = false
  end
  replies[c] = reply
  k = k + nk
  a = a + 2 + na
end
return replies
"""


@dataclasses.dataclass(frozen=True)
class Script:
    name: str
    source: str
    sha: str


# Scripts that call another one's body as a local function (defined after their own
# body, so that Lua's error positions in it stay its file's line numbers).
_USES = {"take": "start"}


def _body(name: str) -> str:
    return resources.files("shared").joinpath("lua", f"{name}.lua").read_text("utf-8")


# Helpers every script may call, on one line before its body. end_with_job: the keys that
# live as long as a job's status get its expiry when it ends, but its upload is deleted
# (it has served its purpose; an upload is the largest thing a job keeps). An upload key
# is told by what follows its hash tag (the first "}": namespaces and function names hold
# none), so an Idempotency-Key holding "}:upload:" is not taken for one.
# follow_up_ends: a job that ended other than succeeded leaves its follow-up (whose id the
# client already has) to be ended too: an entry in the function's chain outbox, named from
# its stream's key (same hash tag), with the outcome (consumers/chains.py relays it).
_HELPERS = (
    "local function end_with_job(keys, first, ttl) for i = first, #keys do"
    " local tag = string.find(keys[i], '}', 1, true)"
    " if string.sub(keys[i], tag + 1, tag + 8) == ':upload:' then redis.call('DEL', keys[i])"
    " else redis.call('EXPIRE', keys[i], ttl) end end end "
    "local function follow_up_ends(stream, job_hash, outcome)"
    " local f = redis.call('HMGET', job_hash, 'job_id', 'next_job_id')"
    " if not f[2] or f[2] == '' then return end"
    " redis.call('XADD', string.sub(stream, 1, -7) .. 'chain', '*', 'job_id', f[1],"
    " 'next_job_id', f[2], 'outcome', outcome) end "
)


def _load(name: str) -> Script:
    uses = _USES.get(name)
    declare = f"local {uses} " if uses else ""
    # On the body's first line, so Lua's error positions are the file's line numbers.
    source = (
        f"local batch = {{}} {_HELPERS}{declare}local function one(KEYS, ARGV) {_body(name)}\nend\n"
    )
    if uses:
        source += f"{uses} = function(KEYS, ARGV) {_body(uses)}\nend\n"
    source += _BATCH_LOOP
    return Script(name, source, hashlib.sha1(source.encode()).hexdigest())


SCRIPTS = {name: _load(name) for name in _NAMES}

ScriptCall = tuple[Script, Sequence[Any], Sequence[Any]]


class BoundScript:
    """One script on one client: ``await scripts.start(keys, args)`` runs a single call."""

    def __init__(self, redis: Redis, script: Script) -> None:
        self.redis = redis
        self.script = script

    async def __call__(self, keys: Sequence[Any], args: Sequence[Any]) -> Any:
        (reply,) = await run_batched(self.redis, [(self.script, keys, args)])
        if isinstance(reply, Exception):
            raise reply
        return reply


class Scripts:
    """The scripts bound to one client."""

    def __init__(self, redis: Redis) -> None:
        self.submit = BoundScript(redis, SCRIPTS["submit"])
        self.start = BoundScript(redis, SCRIPTS["start"])
        self.take = BoundScript(redis, SCRIPTS["take"])
        self.heartbeat = BoundScript(redis, SCRIPTS["heartbeat"])
        self.complete = BoundScript(redis, SCRIPTS["complete"])
        self.retry = BoundScript(redis, SCRIPTS["retry"])
        self.release = BoundScript(redis, SCRIPTS["release"])
        self.cancel = BoundScript(redis, SCRIPTS["cancel"])
        self.progress = BoundScript(redis, SCRIPTS["progress"])
        self.forget = BoundScript(redis, SCRIPTS["forget"])


async def run_batched(
    redis: Redis, calls: Sequence[ScriptCall], reads: Sequence[str] = (), read: str = "GET"
) -> list[Any]:
    """Run many script calls in one round trip; each call's reply, or the error it raised.

    Calls of the same script on the same first key share an EVALSHA. Batches that meet
    NOSCRIPT (a restarted Redis) did not run: they are sent again once their scripts are
    loaded. A connection error raises (nothing is known of what ran). ``reads`` are keys
    to GET (or ``read``) in the same round trip, after the scripts ran (read again after
    a batch that met NOSCRIPT); their values follow the calls' replies.
    """
    batches = _group(calls)
    gets = [hiredis.pack_command((read, key)) for key in reads]  # type: ignore[arg-type]
    replies = await _send(redis, batches, gets)
    values = replies[len(batches) :]
    del replies[len(batches) :]
    missing = [i for i, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
    if missing:
        for script in {batches[i][0].sha: batches[i][0] for i in missing}.values():
            await redis.script_load(script.source)
        again = await _send(redis, [batches[i] for i in missing], gets)
        values = again[len(missing) :]
        for i, reply in zip(missing, again[: len(missing)], strict=True):
            replies[i] = reply
    results: list[Any] = [None] * len(calls)
    for (_, indexes, _), reply in zip(batches, replies, strict=True):
        if isinstance(reply, Exception):
            for index in indexes:
                results[index] = reply
            continue
        for index, one in zip(indexes, reply, strict=True):
            results[index] = one
    return results + values


_Batch = tuple[Script, list[int], list[ScriptCall]]


def _group(calls: Sequence[ScriptCall]) -> list[_Batch]:
    open_batches: dict[tuple[str, Any], _Batch] = {}
    batches: list[_Batch] = []
    for index, call in enumerate(calls):
        script, keys, _ = call
        group = (script.sha, keys[0])
        batch = open_batches.get(group)
        if batch is None or len(batch[1]) >= MAX_BATCH:
            batch = open_batches[group] = (script, [], [])
            batches.append(batch)
        batch[1].append(index)
        batch[2].append(call)
    return batches


async def _send(redis: Redis, batches: Sequence[_Batch], after: Sequence[bytes] = ()) -> list[Any]:
    """One write, one reply per batch (and per command of ``after``). Packed by hiredis:
    redis-py's Python packing of the ~15 arguments of each job cost more than the rest
    of a job's client work."""
    commands = []
    for script, _, calls in batches:
        keys: list[Any] = []
        argv: list[Any] = [len(calls)]
        for _, call_keys, call_args in calls:
            keys.extend(call_keys)
            argv.append(len(call_keys))
            argv.append(len(call_args))
            argv.extend(call_args)
        commands.append(hiredis.pack_command(("EVALSHA", script.sha, len(keys), *keys, *argv)))
    commands.extend(after)
    return await _round_trip(redis, commands)


async def run_command(redis: Redis, *args: str | bytes | int) -> Any:
    """One command, packed by hiredis, its reply as Redis sent it (no redis-py parsing:
    for XREADGROUP that turned every entry into a dict first)."""
    (reply,) = await _round_trip(redis, [hiredis.pack_command(args)])  # type: ignore[arg-type]
    if isinstance(reply, Exception):
        raise reply
    return reply


async def _round_trip(redis: Redis, commands: list[bytes]) -> list[Any]:
    pool = redis.connection_pool
    connection = await _checkout(pool)
    try:
        await connection.send_packed_command(commands, check_health=False)
        replies: list[Any] = []
        for _ in commands:
            try:
                replies.append(await connection.read_response())
            except ResponseError as exc:
                replies.append(exc)
    except BaseException:
        # A reply may be left unread on the socket: never hand this connection out again.
        await connection.disconnect(nowait=True)
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


# One connection per pool kept checked out for the batches between them: taking one from
# redis-py's blocking pool and giving it back cost ~25 us, per round trip. It stays in the
# pool's in-use set, so closing the client closes it.
_spare: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
