"""The Lua scripts, each able to run a batch of calls in one EVALSHA.

Every script in ``lua/`` is written for one call (its own KEYS and ARGV, read into named
locals at its top; shared/script_calls.py builds them). It is loaded with the functions
of ``lua/prelude.lua`` and wrapped in a loop that runs it once per call of a batch, so
many jobs started, completed or submitted at once cost Redis one script invocation and
the client one command to encode and one reply to parse. A batch only holds calls whose
first key (the function's stream) is the same: all their keys share that function's hash
tag, so one slot.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Sequence
from importlib import resources
from typing import Any, NamedTuple

import hiredis
from redis.exceptions import NoScriptError

from shared.redis import Client
from shared.wire import node_name, round_trip

_NAMES = (
    "submit",
    "submit_many",
    "reserve_bytes",
    "promote",
    "start",
    "take",
    "lease",
    "complete",
    "fail",
    "release",
    "cancel",
    "progress",
    "forget",
    "end_follow_up",
    "rate",
    "callback_claim",
    "callback_done",
    "replay_dead",
    "delete_dead",
    "drop",
    "stats",
)
# Calls per EVALSHA: bounds how long one batch holds Redis (well under a millisecond).
MAX_BATCH = 128

# ARGV = {calls, then per call: key count, arg count, args...}; KEYS = each call's keys.
# A call that raises gives its own error reply; the others still run. The body may keep
# what later calls of the same batch can reuse in the table ``batch``; prelude.lua's
# flush_batch writes what the calls tallied there, once, after the last.
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
flush_batch()
return replies
"""


@dataclasses.dataclass(frozen=True)
class Script:
    name: str
    source: str
    sha: str


class ScriptCall(NamedTuple):
    """One call of a script: built by shared/script_calls.py, run by run_batched."""

    script: Script
    keys: Sequence[Any]
    args: Sequence[Any]


# Scripts that call another one's body as a local function.
_USES = {"take": "start"}
_PRELUDE_FUNCTION = re.compile(r"^local function (\w+)\(", re.MULTILINE)


def _text(name: str) -> str:
    return resources.files("shared").joinpath("lua", f"{name}.lua").read_text("utf-8")


def _prelude() -> tuple[list[str], str]:
    """prelude.lua's function names, and its text defining them as assignments to locals
    declared beforehand (``function f()`` assigns to a local ``f`` in scope)."""
    text = _text("prelude")
    names = _PRELUDE_FUNCTION.findall(text)
    if re.search(r"^local (?!function )", text, re.MULTILINE):
        raise ValueError("prelude.lua: only local functions at the top level")
    return names, _PRELUDE_FUNCTION.sub(r"function \1(", text)


_PRELUDE_NAMES, _PRELUDE = _prelude()


def _load(name: str) -> Script:
    """The script's body (as ``one``), then the bodies it uses, then the prelude, then the
    batch loop. Everything is declared on the body's first line, so Lua's error positions
    in the body are its file's line numbers (in a prelude function: its prelude.lua line
    plus the lines of the bodies before it, two more for each)."""
    uses = _USES.get(name)
    declared = ", ".join([*_PRELUDE_NAMES, *([uses] if uses else [])])
    source = (
        f"local batch = {{}} local {declared} local function one(KEYS, ARGV) {_text(name)}\nend\n"
    )
    if uses:
        source += f"{uses} = function(KEYS, ARGV) {_text(uses)}\nend\n"
    source += _PRELUDE + _BATCH_LOOP
    return Script(name, source, hashlib.sha1(source.encode()).hexdigest())


SCRIPTS = {name: _load(name) for name in _NAMES}


class Scripts:
    """The scripts run on one client, one call at a time (``run_batched`` runs many)."""

    def __init__(self, redis: Client) -> None:
        self.redis = redis

    async def run(self, call: ScriptCall) -> Any:
        """The call's reply; raises its error."""
        (reply,) = await run_batched(self.redis, [call])
        if isinstance(reply, Exception):
            raise reply
        return reply


async def run_batched(
    redis: Client, calls: Sequence[ScriptCall], reads: Sequence[str] = (), read: str = "GET"
) -> list[Any]:
    """Run many script calls in one round trip; each call's reply, or the error it raised.

    Calls of the same script on the same first key share an EVALSHA. Batches that meet
    NOSCRIPT (a restarted Redis) did not run: they are sent again once their scripts are
    loaded. A connection error raises (nothing is known of what ran). ``reads`` are keys
    to GET (or ``read``) in the same round trip, after the scripts ran (read again after
    a batch that met NOSCRIPT); their values follow the calls' replies.
    """
    batches = group_calls(calls)
    gets = [hiredis.pack_command((read, key)) for key in reads]  # type: ignore[arg-type]
    replies = await _send(redis, batches, gets, reads)
    values = replies[len(batches) :]
    del replies[len(batches) :]
    missing = [i for i, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
    if missing:
        # Loaded where each batch goes (the node of its slot on a cluster), not on every
        # node: one that is down must not keep the others' batches from running.
        loads: dict[tuple[str, str], tuple[Script, str]] = {}
        for i in missing:
            script, key = batches[i].script, str(batches[i].calls[0].keys[0])
            loads.setdefault((script.sha, node_name(redis, key)), (script, key))
        await round_trip(
            redis,
            [hiredis.pack_command(("SCRIPT", "LOAD", s.source)) for s, _ in loads.values()],  # type: ignore[arg-type]
            [key for _, key in loads.values()],
        )
        again = await _send(redis, [batches[i] for i in missing], gets, reads)
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


class Batch(NamedTuple):
    """Calls of one script on one first key (so one slot), run by one EVALSHA: their
    indexes among the calls given to group_calls, and the calls."""

    script: Script
    indexes: list[int]
    calls: list[ScriptCall]

    def evalsha(self) -> tuple[Any, ...]:
        """The EVALSHA command, in the layout of the batch loop."""
        keys: list[Any] = []
        argv: list[Any] = [len(self.calls)]
        for _, call_keys, call_args in self.calls:
            keys.extend(call_keys)
            argv.append(len(call_keys))
            argv.append(len(call_args))
            argv.extend(call_args)
        return ("EVALSHA", self.script.sha, len(keys), *keys, *argv)


def group_calls(calls: Sequence[ScriptCall]) -> list[Batch]:
    """The calls in batches of the same script and first key, MAX_BATCH at most each, in
    the order of their first calls."""
    open_batches: dict[tuple[str, Any], Batch] = {}
    batches: list[Batch] = []
    for index, call in enumerate(calls):
        group = (call.script.sha, call.keys[0])
        batch = open_batches.get(group)
        if batch is None or len(batch.indexes) >= MAX_BATCH:
            batch = open_batches[group] = Batch(call.script, [], [])
            batches.append(batch)
        batch.indexes.append(index)
        batch.calls.append(call)
    return batches


async def _send(
    redis: Client,
    batches: Sequence[Batch],
    after: Sequence[bytes] = (),
    after_keys: Sequence[str] = (),
) -> list[Any]:
    """One write, one reply per batch (and per command of ``after``, on ``after_keys``).
    Packed by hiredis: redis-py's Python packing of the ~15 arguments of each job cost
    more than the rest of a job's client work."""
    commands = [hiredis.pack_command(batch.evalsha()) for batch in batches]
    commands.extend(after)
    keys = [str(batch.calls[0].keys[0]) for batch in batches] + list(after_keys)
    return await round_trip(redis, commands, keys)


async def run_command(redis: Client, *args: str | bytes | int, key: str) -> Any:
    """One command on ``key`` (its slot decides the node of a cluster), packed by hiredis,
    its reply as Redis sent it (no redis-py parsing: for XREADGROUP that turned every
    entry into a dict first)."""
    packed = hiredis.pack_command(args)  # type: ignore[arg-type]
    (reply,) = await round_trip(redis, [packed], [key])
    if isinstance(reply, Exception):
        raise reply
    return reply
