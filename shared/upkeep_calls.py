"""Builders for the scripts around the job lifecycle (shared/script_calls.py has the
lifecycle's own): a tenant's quotas (rate, reserve_bytes), the consumers' timers
(promote, callback_claim, callback_done) and dead letters (replay_dead, delete_dead).
Each names its KEYS and ARGV in the order its script reads them."""

from __future__ import annotations

from collections.abc import Sequence

from shared.keys import GROUP, FunctionKeys, tenant_rate
from shared.scripts import SCRIPTS, ScriptCall

_PROMOTE, _RESERVE_BYTES = SCRIPTS["promote"], SCRIPTS["reserve_bytes"]


def reserve_bytes_call(
    key: str,
    *,
    now_hour: int,
    until_hour: int,
    bytes: int,
    limit: int | None,
    elsewhere: int,
    ttl: int,
) -> ScriptCall:
    """Count ``bytes`` in a tenant's ledger of one function (``key``) under ``until_hour``
    if its quota ``limit`` holds them with ``elsewhere`` (reserve_bytes.lua; None: count
    them unchecked)."""
    return ScriptCall(
        _RESERVE_BYTES,
        [key],
        [now_hour, until_hour, bytes, "" if limit is None else limit, elsewhere, ttl],
    )


def promote_call(
    keys: FunctionKeys, *, now_ms: int, count: int, sample: bool = False
) -> ScriptCall:
    """Queue up to ``count`` delayed jobs due by ``now_ms``, say whether the function is
    paused and, with ``sample``, note its backlog and jobs running this minute (promote.lua)."""
    return ScriptCall(
        _PROMOTE,
        [keys.stream, keys.scheduled],
        [now_ms, count, keys.job(""), "1" if sample else "0", GROUP],
    )


_RATE = SCRIPTS["rate"]


def rate_call(
    namespace: str, tenant: str, *, now_ms: int, rate: float, burst: int, n: int
) -> ScriptCall:
    """Take ``n`` tokens of the tenant's bucket of submissions (rate.lua): its reply is 0
    when taken, else the ms until they will be there. The bucket has a slot of its own."""
    return ScriptCall(_RATE, [tenant_rate(namespace, tenant)], [now_ms, repr(rate), burst, n])


_CALLBACK_CLAIM, _CALLBACK_DONE = SCRIPTS["callback_claim"], SCRIPTS["callback_done"]


def callback_claim_call(
    keys: FunctionKeys, *, now_ms: int, lease_ms: int, count: int, fields: Sequence[str]
) -> ScriptCall:
    """Lease up to ``count`` webhook deliveries due by ``now_ms`` for ``lease_ms``, with
    the job hash's ``fields`` (callback_claim.lua)."""
    return ScriptCall(
        _CALLBACK_CLAIM, [keys.callbacks], [now_ms, lease_ms, count, keys.job(""), *fields]
    )


def callback_done_call(
    keys: FunctionKeys,
    *,
    job_id: str,
    outcome: str,
    attempts: int,
    last_error: str,
    next_due_ms: int,
    claimed_until: int,
) -> ScriptCall:
    """Record a delivery attempt's ``outcome`` (delivered, retry or failed) if the claim
    that ends at ``claimed_until`` still holds (callback_done.lua)."""
    return ScriptCall(
        _CALLBACK_DONE,
        [keys.callbacks, keys.job(job_id)],
        [job_id, outcome, attempts, last_error, next_due_ms, claimed_until],
    )


_REPLAY_DEAD, _DELETE_DEAD = SCRIPTS["replay_dead"], SCRIPTS["delete_dead"]


def replay_dead_call(
    keys: FunctionKeys, *, entry_id: str, takes_document: bool, tenant: str | None = None
) -> ScriptCall:
    """Queue the job of one dead letter again, same id, fresh attempts (replay_dead.lua);
    ``takes_document``: the function's jobs need their upload; ``tenant``: the caller's
    (another tenant's entry is "missing"), None for any tenant's."""
    return ScriptCall(
        _REPLAY_DEAD,
        [keys.dead, keys.stream, keys.active, keys.callbacks],
        [
            entry_id,
            keys.job(""),
            keys.upload("") if takes_document else "",
            *([] if tenant is None else [tenant]),
        ],
    )


def delete_dead_call(keys: FunctionKeys, *, entry_id: str, tenant: str | None = None) -> ScriptCall:
    """Delete one dead letter (delete_dead.lua); ``tenant`` as for replay_dead_call."""
    return ScriptCall(_DELETE_DEAD, [keys.dead], [entry_id, *([] if tenant is None else [tenant])])
