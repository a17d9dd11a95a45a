"""One builder per Lua script: its KEYS and ARGV by name, in the order the script reads
them into its named locals (shared/lua/*.lua). No caller lays them out by position.

Every call's keys carry one function's hash tag (its FunctionKeys), so one slot.
"""

from __future__ import annotations

from collections.abc import Sequence

from shared.keys import GROUP, FunctionKeys
from shared.schedule import NO_OPTIONS, JobOptions
from shared.scripts import SCRIPTS, ScriptCall
from shared.settings import Settings

_SUBMIT, _START, _TAKE = SCRIPTS["submit"], SCRIPTS["start"], SCRIPTS["take"]
_LEASE, _COMPLETE, _FAIL = SCRIPTS["lease"], SCRIPTS["complete"], SCRIPTS["fail"]
_RELEASE, _CANCEL, _PROGRESS = SCRIPTS["release"], SCRIPTS["cancel"], SCRIPTS["progress"]
_FORGET, _END_FOLLOW_UP = SCRIPTS["forget"], SCRIPTS["end_follow_up"]
_SUBMIT_MANY = SCRIPTS["submit_many"]


def submit_call(
    keys: FunctionKeys,
    *,
    job_id: str,
    payload: bytes,
    max_attempts: int,
    created_at: str,
    max_backlog: int,
    idempotency_key: str = "",
    idempotency_ttl: int,
    chain: bytes | str = "[]",
    next_job_id: str = "",
    previous_job_id: str = "",
    upload_ttl: int | None = None,
    fingerprint: str = "",
    tenant: str = "",
    options: JobOptions = NO_OPTIONS,
    active: tuple[int, int] | None = None,
) -> ScriptCall:
    """Queue a job (submit.lua). ``chain``: the follow-up functions as a JSON list;
    ``upload_ttl``: for a job with an upload; ``fingerprint``: of the request, with an
    ``idempotency_key`` (its name in Redis: shared.idempotency.scoped_key); ``tenant``:
    whose job it is, "" for none; ``options``: when it is due, its callback_url;
    ``active``: the tenant's quota of jobs not yet ended and how many it has in other
    functions (shared.job_batches.ActiveQuota)."""
    return ScriptCall(
        _SUBMIT,
        [
            keys.stream,
            keys.job(job_id),
            keys.idempotency(idempotency_key),
            keys.upload(job_id),
            keys.scheduled,
            keys.active,
        ],
        [
            job_id,
            keys.function,
            payload,
            max_attempts,
            created_at,
            max_backlog,
            idempotency_key,
            idempotency_ttl,
            chain,
            next_job_id,
            previous_job_id,
            "" if upload_ttl is None else upload_ttl,
            fingerprint,
            keys.job(""),
            tenant,
            *_options_args(options, active),
        ],
    )


def _options_args(options: JobOptions, active: tuple[int, int] | None) -> list[str | int]:
    """due_ms, not_before, callback_url, max_active, active_elsewhere: as submit.lua and
    submit_many.lua read them ("" for none)."""
    schedule = options.schedule
    return [
        schedule.due_ms if schedule else "",
        schedule.not_before if schedule else "",
        options.callback_url,
        active[0] if active else "",
        active[1] if active else 0,
    ]


def submit_many_call(
    keys: FunctionKeys,
    *,
    jobs: Sequence[tuple[str, bytes, str]],
    max_attempts: int,
    created_at: str,
    max_backlog: int,
    chain: bytes | str,
    tenant: str,
    options: JobOptions,
    active: tuple[int, int] | None,
) -> ScriptCall:
    """Queue a batch of jobs, all or none (submit_many.lua): ``jobs`` are (job id, input
    JSON, follow-up id or ""); the rest as for submit_call, shared by every job."""
    return ScriptCall(
        _SUBMIT_MANY,
        [keys.stream, keys.scheduled, keys.active],
        [
            keys.function,
            max_attempts,
            created_at,
            max_backlog,
            chain,
            tenant,
            *_options_args(options, active),
            keys.job(""),
            *(part for job in jobs for part in job),
        ],
    )


def start_call(
    keys: FunctionKeys,
    *,
    job_id: str,
    entry_id: bytes,
    consumer: str,
    settings: Settings,
    now_ms: int,
    now: str,
    with_upload: bool,
) -> ScriptCall:
    """Begin an attempt (start.lua). ``with_upload``: name the upload and artifact index
    among the keys that end with the job (on start's rarer paths: skip, cancel,
    dead-letter); only a document function's jobs have an upload."""
    script_keys = [keys.stream, keys.job(job_id), keys.dead]
    if with_upload:
        script_keys += keys.expiring_with(job_id)
    return ScriptCall(
        _START,
        script_keys,
        [GROUP, consumer, entry_id, *_start_settings(settings, now_ms, now)],
    )


def take_call(
    keys: FunctionKeys,
    *,
    consumer: str,
    count: int,
    settings: Settings,
    now_ms: int,
    now: str,
    copy_to: str | None,
    copy_max: int,
) -> ScriptCall:
    """Read and start the next ``count`` entries (take.lua); the first started job's
    upload, if at most ``copy_max`` bytes, is copied to ``copy_to`` (None: no upload)."""
    return ScriptCall(
        _TAKE,
        [keys.stream, keys.dead] + ([copy_to] if copy_to is not None else []),
        [
            GROUP,
            consumer,
            count,
            *_start_settings(settings, now_ms, now),
            keys.function,
            keys.job(""),
            keys.upload(""),
            keys.artifacts(""),
            copy_max,
        ],
    )


def _start_settings(settings: Settings, now_ms: int, now: str) -> list[int | str]:
    return [now_ms, now, settings.visibility_ms, settings.result_ttl, settings.dead_letter_max]


_DROP = SCRIPTS["drop"]


def drop_call(keys: FunctionKeys, *, entry_id: bytes) -> ScriptCall:
    """Acknowledge and delete an entry that names no job of the function (drop.lua)."""
    return ScriptCall(_DROP, [keys.stream], [GROUP, entry_id])


def lease_call(
    keys: FunctionKeys, *, job_id: str, entry_id: bytes, consumer: str, renew: bool
) -> ScriptCall:
    """Whether the lease is held and the job cancelled (lease.lua); ``renew`` keeps it."""
    return ScriptCall(
        _LEASE,
        [keys.stream, keys.job(job_id)],
        [GROUP, consumer, entry_id, "1" if renew else "0"],
    )


def complete_call(
    keys: FunctionKeys,
    *,
    job_id: str,
    entry_id: bytes,
    consumer: str,
    status: str,
    result: bytes,
    error: bytes,
    ending: Sequence[str],
    now: str,
    result_ttl: int,
    next_job_id: str,
    message: str,
    began_at: str,
    artifact_bytes: int = 0,
    duration_us: int | None = None,
) -> ScriptCall:
    """Write the final status (complete.lua). ``ending``: the keys that end with the job
    (those that exist); ``message``: the last progress report's; ``began_at``: when the
    handler began if later than the start said, else ""; ``artifact_bytes``: the size of
    the artifacts it saved (counted, with the result, against the tenant's quota);
    ``duration_us``: how long the handler ran, in microseconds (None: it never
    began)."""
    return ScriptCall(
        _COMPLETE,
        [keys.stream, keys.job(job_id), *ending],
        [
            GROUP,
            consumer,
            entry_id,
            status,
            result,
            error,
            now,
            result_ttl,
            job_id,
            next_job_id,
            message,
            began_at,
            artifact_bytes,
            "" if duration_us is None else duration_us,
        ],
    )


def fail_call(
    keys: FunctionKeys,
    *,
    job_id: str,
    entry_id: bytes,
    consumer: str,
    error_type: str,
    message: str,
    retry_in_ms: int,
    settings: Settings,
    ending: Sequence[str],
    now_ms: int,
    now: str,
    next_job_id: str,
    began_at: str,
    duration_us: int | None = None,
) -> ScriptCall:
    """A failed attempt (fail.lua): retried in ``retry_in_ms``, or the job dead-lettered if
    it was its last. ``ending``, ``began_at``, ``duration_us`` as for complete_call."""
    return ScriptCall(
        _FAIL,
        [keys.stream, keys.job(job_id), keys.dead, *ending],
        [
            GROUP,
            consumer,
            entry_id,
            error_type,
            message,
            now_ms + retry_in_ms,
            max(0, settings.visibility_ms - retry_in_ms),
            began_at,
            now,
            settings.result_ttl,
            job_id,
            next_job_id,
            settings.dead_letter_max,
            "" if duration_us is None else duration_us,
        ],
    )


def release_call(
    keys: FunctionKeys, *, entry_id: bytes, consumer: str, job_id: str, visibility_ms: int
) -> ScriptCall:
    """Give an entry back, claimable at once (release.lua); ``job_id``: the job it names,
    "" if none (its attempt, if begun here, does not count)."""
    script_keys = [keys.stream, keys.job(job_id)] if job_id else [keys.stream]
    return ScriptCall(_RELEASE, script_keys, [GROUP, consumer, entry_id, visibility_ms])


def cancel_call(
    keys: FunctionKeys,
    *,
    job_id: str,
    idempotency_key: str,
    now: str,
    result_ttl: int,
    tenant: str | None = None,
) -> ScriptCall:
    """Cancel a job (cancel.lua); ``idempotency_key``: the job's, "" if none; ``tenant``:
    the caller's (another tenant's job is "missing"), None for any tenant's job."""
    return ScriptCall(
        _CANCEL,
        [keys.stream, keys.job(job_id), *keys.expiring_with(job_id, idempotency_key)],
        [GROUP, now, result_ttl, *([] if tenant is None else [tenant])],
    )


def progress_call(
    keys: FunctionKeys, *, job_id: str, consumer: str, percent: float, message: str
) -> ScriptCall:
    """Report progress while ``consumer`` runs the job (progress.lua)."""
    return ScriptCall(_PROGRESS, [keys.job(job_id)], [consumer, f"{percent:g}", message])


def forget_call(
    keys: FunctionKeys, *, consumer: str, now_ms: int, silence_ms: int, most: int
) -> ScriptCall:
    """Forget consumers silent for ``silence_ms`` with nothing pending (forget.lua)."""
    return ScriptCall(
        _FORGET, [keys.stream, keys.consumers], [GROUP, consumer, now_ms, silence_ms, most]
    )


def end_follow_up_call(
    keys: FunctionKeys,
    *,
    job_id: str,
    status: str,
    error: bytes,
    now: str,
    max_attempts: int,
    previous_job_id: str,
    result_ttl: int,
    tenant: str = "",
) -> ScriptCall:
    """End a follow-up that was never queued (end_follow_up.lua); ``keys``: its function's;
    ``tenant``: that of the job before it."""
    return ScriptCall(
        _END_FOLLOW_UP,
        [keys.job(job_id)],
        [
            job_id,
            keys.function,
            status,
            error,
            now,
            max_attempts,
            previous_job_id,
            result_ttl,
            tenant,
        ],
    )
