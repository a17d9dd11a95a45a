"""Dead letters: list, replay and delete the entries of a function's dead-letter stream
(jobs that used their last attempt; prelude.lua's ``dead_letter`` writes them).

Replay queues **the same job id again, with fresh attempts**: the id the client holds
keeps working, and its status reads ``queued`` again (attempts 0; error, result, timings,
progress message cleared), then runs as if just submitted. One script does it
(lua/replay_dead.lua), atomically per entry:

- only while the job's status is still ``failed``. An expired job ("gone") or one no
  longer failed ("not_failed") is left alone and **its dead entry kept**, so an operator
  can still read why it died (delete it to be rid of it);
- a new entry on the function's stream; the job hash's expiry (set when it ended)
  removed, as a queued job has none; the tenant's count of jobs not yet ended
  (``active``) one higher, as a submit makes it (the next end takes it off); a webhook
  delivery of the ``failed`` status not yet made is dropped (the next end schedules its
  own); watchers told; the dead entry deleted;
- without the backlog bound or the tenant's quotas: a replay is an operator's act on jobs
  that were admitted once already;
- a document function's job needs its upload, which a dead-lettered job keeps (expiring
  with its status; prelude.lua's ``dead_letter``): one whose upload is gone anyway is
  "no_document", its entry kept;
- a chain's follow-up, already ended failed with this job, stays so: it is not queued
  again when the replayed job succeeds;
- its Idempotency-Key keeps the expiry its end gave it (RESULT_TTL), as does any
  artifact a failed attempt saved.

Every function takes ``tenant``: the caller's (it sees and touches only its own
entries; "" is the jobs of no tenant), or None for every tenant's (an admin). Another
tenant's entry counts as missing, as one that does not exist. Which functions exist is
the caller's concern: an unknown one simply has no dead letters.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final, Literal

import msgspec

from shared.errors import InvalidInputError
from shared.jobs import JobError
from shared.keys import FunctionKeys, keys_for
from shared.redis import Client, redis_errors
from shared.scripts import ScriptCall, run_batched, run_command
from shared.upkeep_calls import delete_dead_call, replay_dead_call

# "all" in place of entry ids: every entry (of the tenant, if one is given).
ALL: Final = "all"
EntryIds = Sequence[str] | Literal["all"]
# Largest page list_dead returns; the stream keeps DEAD_LETTER_MAX (10,000) at most.
MAX_COUNT: Final = 1000
# Entries read per XRANGE when walking the stream (a tenant's among others', or "all").
_READ = 500
# Script calls per round trip: bounds one replay's or delete's hold on Redis.
_CALLS_PER_TRIP = 1024
_ENTRY_ID = re.compile(r"[0-9]{1,20}-[0-9]{1,20}")
_U64 = 2**64 - 1


class DeadLetter(msgspec.Struct, frozen=True):
    """One entry of a dead-letter stream."""

    entry_id: str
    job_id: str
    # The last attempt's error (its type, and the message with "attempt n of n").
    error: JobError | None
    attempts: int
    # Whose job it was; None for a job of no tenant (auth off).
    tenant: str | None
    # When it was dead-lettered (RFC 3339, from the entry id's milliseconds).
    dead_at: str


class ReplayResult(msgspec.Struct, frozen=True):
    """What a replay did with the entries it was given (see the module docstring)."""

    replayed: int = 0
    # No such entry (deleted, trimmed, or another tenant's).
    missing: int = 0
    # The job's status has expired (RESULT_TTL after it failed): entry kept.
    gone: int = 0
    # The job is no longer failed (replayed already by another way): entry kept.
    not_failed: int = 0
    # A document function's job whose upload is gone: entry kept.
    no_document: int = 0
    # The ids of the jobs queued again, in the order replayed.
    job_ids: list[str] = []


_error_decoder = msgspec.json.Decoder(JobError)


def _text(raw: bytes | str | None) -> str:
    if raw is None:
        return ""
    return raw.decode(errors="replace") if isinstance(raw, bytes) else raw


def _error(raw: bytes | str | None) -> JobError | None:
    """The entry's error JSON; plain text (written by hand) as is."""
    if not raw:
        return None
    try:
        return _error_decoder.decode(raw)
    except msgspec.DecodeError:
        return JobError(type="error", message=_text(raw))


def _dead_at(entry_id: str) -> str:
    ms = int(entry_id.split("-", 1)[0])
    at = datetime.fromtimestamp(ms // 1000, UTC).replace(microsecond=ms % 1000 * 1000)
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _letter(entry: Any) -> DeadLetter:
    """An entry as XRANGE replies it: [id, [field, value, ...]]."""
    entry_id, fields = entry
    values = {_text(name): value for name, value in zip(fields[::2], fields[1::2], strict=True)}
    attempts = _text(values.get("attempts"))
    return DeadLetter(
        entry_id=_text(entry_id),
        job_id=_text(values.get("job_id")),
        error=_error(values.get("error")),
        attempts=int(attempts) if attempts.isdigit() else 0,
        tenant=_text(values.get("tenant")) or None,
        dead_at=_dead_at(_text(entry_id)),
    )


def _belongs(letter: DeadLetter, tenant: str | None) -> bool:
    return tenant is None or (letter.tenant or "") == tenant


def check_entry_id(entry_id: str) -> str:
    """The id as given if it is a stream entry id (``<ms>-<seq>``), else InvalidInputError."""
    if not isinstance(entry_id, str) or not _ENTRY_ID.fullmatch(entry_id):
        raise InvalidInputError(
            f"{entry_id!r} is not a dead-letter id (expected <ms>-<seq>)", entry_id=entry_id
        )
    ms, seq = entry_id.split("-")
    if int(ms) > _U64 or int(seq) > _U64:
        raise InvalidInputError(f"{entry_id!r} is not a dead-letter id", entry_id=entry_id)
    return entry_id


async def list_dead(
    redis: Client,
    namespace: str,
    function: str,
    *,
    tenant: str | None = None,
    count: int = 100,
    after: str | None = None,
) -> list[DeadLetter]:
    """Up to ``count`` dead letters, newest first; ``after``: the last entry id of the
    page before (the next page holds older entries)."""
    if not 1 <= count <= MAX_COUNT:
        raise InvalidInputError(f"count must be 1 to {MAX_COUNT}, not {count}", count=count)
    key = keys_for(namespace, function).dead
    top = "+" if after is None else f"({check_entry_id(after)}"  # exclusive: Redis 6.2+
    found: list[DeadLetter] = []
    while len(found) < count:
        want = count - len(found) if tenant is None else _READ
        with redis_errors():
            page = await run_command(redis, "XREVRANGE", key, top, "-", "COUNT", want, key=key)
        letters = [_letter(entry) for entry in page]
        found += [letter for letter in letters if _belongs(letter, tenant)]
        if len(page) < want:
            break
        top = f"({letters[-1].entry_id}"
    return found[:count]


async def _all_ids(redis: Client, keys: FunctionKeys, tenant: str | None) -> list[str]:
    """Every entry's id (the tenant's only, if one is given), oldest first."""
    ids: list[str] = []
    bottom = "-"
    while True:
        with redis_errors():
            page = await run_command(
                redis, "XRANGE", keys.dead, bottom, "+", "COUNT", _READ, key=keys.dead
            )
        letters = [_letter(entry) for entry in page]
        ids += [letter.entry_id for letter in letters if _belongs(letter, tenant)]
        if len(page) < _READ:
            return ids
        bottom = f"({letters[-1].entry_id}"


async def _entry_ids(
    redis: Client, keys: FunctionKeys, entry_ids: EntryIds, tenant: str | None
) -> list[str]:
    """The ids to act on: all of them (oldest first), or those given, checked, each once."""
    if entry_ids == ALL:
        return await _all_ids(redis, keys, tenant)
    given = [entry_ids] if isinstance(entry_ids, str) else entry_ids
    return list(dict.fromkeys(check_entry_id(entry_id) for entry_id in given))


async def _run(redis: Client, calls: Sequence[ScriptCall]) -> list[Any]:
    """Each call's reply, a bounded number of calls per round trip; raises the first error."""
    replies: list[Any] = []
    for start in range(0, len(calls), _CALLS_PER_TRIP):
        with redis_errors():
            replies += await run_batched(redis, calls[start : start + _CALLS_PER_TRIP])
    for reply in replies:
        if isinstance(reply, Exception):
            raise reply
    return replies


async def replay(
    redis: Client,
    namespace: str,
    function: str,
    entry_ids: EntryIds,
    *,
    tenant: str | None = None,
    takes_document: bool = False,
) -> ReplayResult:
    """Queue the jobs of these dead letters again, same ids, fresh attempts (see the
    module docstring); "all": every entry, oldest first. ``takes_document``: the
    function's (its jobs need their upload)."""
    keys = keys_for(namespace, function)
    ids = await _entry_ids(redis, keys, entry_ids, tenant)
    calls = [
        replay_dead_call(keys, entry_id=entry_id, takes_document=takes_document, tenant=tenant)
        for entry_id in ids
    ]
    counts = {"replayed": 0, "missing": 0, "gone": 0, "not_failed": 0, "no_document": 0}
    job_ids: list[str] = []
    for reply in await _run(redis, calls):
        outcome = _text(reply[0])
        counts[outcome] += 1
        if outcome == "replayed":
            job_ids.append(_text(reply[1]))
    return ReplayResult(**counts, job_ids=job_ids)


async def delete(
    redis: Client,
    namespace: str,
    function: str,
    entry_ids: EntryIds,
    *,
    tenant: str | None = None,
) -> int:
    """Delete these dead letters ("all": every one, or every one of the tenant's); how
    many were deleted."""
    keys = keys_for(namespace, function)
    if entry_ids == ALL and tenant is None:
        # One atomic step that says how many it removed (a DEL would not).
        with redis_errors():
            return int(await run_command(redis, "XTRIM", keys.dead, "MAXLEN", 0, key=keys.dead))
    ids = await _entry_ids(redis, keys, entry_ids, tenant)
    calls = [delete_dead_call(keys, entry_id=entry_id, tenant=tenant) for entry_id in ids]
    return sum(int(reply) for reply in await _run(redis, calls))
