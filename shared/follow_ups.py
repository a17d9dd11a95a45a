"""Follow-up jobs of a chain (``?then=bom``): queued with the result of the job before
them, or ended when they cannot run, so that the id a client was given always comes to a
final status.

The follow-up's id is fixed when the chain is submitted; its status hash is written only
here: queued (the submit script) once the job before it succeeded, or ended at once
(``end_follow_up``) as ``cancelled`` when that job failed or was cancelled, or ``failed``
(``QueueFull``) when its function's backlog is at its bound. Either way it belongs to
the tenant of the job before it (``tenant``: from the outbox entry, or the cancel).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import msgspec

from shared import error_types
from shared.errors import QueueFullError
from shared.jobs import CANCELLED, FAILED, FollowUp, JobError, follow_ups, json_encoder, now_iso
from shared.keys import function_of, keys_for
from shared.redis import redis_errors
from shared.script_calls import end_follow_up_call
from shared.scripts import run_batched

if TYPE_CHECKING:
    from shared.job_submits import JobSubmitter


async def check_room(sluice: JobSubmitter, then: Sequence[FollowUp]) -> None:
    """QueueFullError (429) when a follow-up's function has its backlog at its bound: the
    chain would only end there, after the work before it was done."""
    functions = sorted({follow_up.function for follow_up in then})
    if not functions:
        return
    streams = [keys_for(sluice.settings.namespace, name).stream for name in functions]
    with redis_errors():
        pipe = sluice.redis.pipeline(transaction=False)
        for stream in streams:
            pipe.xlen(stream)
        backlogs = await pipe.execute()
    for name, backlog in zip(functions, backlogs, strict=True):
        bound = sluice.function(name).backlog_bound(sluice.settings.max_backlog)
        if backlog >= bound:
            raise QueueFullError(
                f"the {name} queue (a follow-up in this chain) holds {backlog} jobs, its"
                f" bound is {bound}",
                retry_after=max(1, int(sluice.settings.visibility_timeout // 10)),
                function=name,
                field="then",
            )


async def queue_follow_up(
    sluice: JobSubmitter, job_id: str, next_job_id: str, *, tenant: str
) -> bool:
    """Queue the follow-up a completed job decided on, with its result as input; a full
    queue ends it ``failed`` (QueueFull). Safe to repeat. False when the finished job is
    gone (expired) and nothing could be queued: the follow-up is ended ``cancelled``."""
    keys = keys_for(sluice.settings.namespace, function_of(job_id) or "")
    spec = sluice.function(function_of(next_job_id) or "")
    with redis_errors():
        result, then = await sluice.redis.hmget(keys.job(job_id), ["result", "then"])
    if not result:
        # Expired before its follow-up was relayed: the follow-up's id must still end.
        why = JobError(
            error_types.PREVIOUS_JOB_EXPIRED, f"not run: the job before it, {job_id}, expired"
        )
        await end_follow_up(sluice, next_job_id, job_id, CANCELLED, why, tenant=tenant)
        return False
    chain = follow_ups(then)
    payload = result if isinstance(result, bytes) else result.encode()
    try:
        # The result is not validated here: a follow-up that cannot take it fails on its
        # own with InvalidInput, where the client sees why.
        await sluice.enqueue(
            spec,
            next_job_id,
            None,
            None,
            then=chain[1:],
            previous_job_id=job_id,
            payload=with_params(payload, chain[0].params if chain else {}),
            tenant=tenant,
        )
    except QueueFullError as exc:
        why = JobError(error_types.QUEUE_FULL, str(exc))
        await end_follow_up(sluice, next_job_id, job_id, FAILED, why, tenant=tenant)
    return True


def with_params(result: bytes, params: dict[str, Any]) -> bytes:
    """The follow-up's input: an object result with its own parameters on top; any other
    result as it is (the follow-up then says what it could not take)."""
    if not params:
        return result
    value = msgspec.json.decode(result)
    return json_encoder.encode({**value, **params}) if isinstance(value, dict) else result


async def follow_up_not_run(
    sluice: JobSubmitter, job_id: str, next_job_id: str, outcome: str, *, tenant: str
) -> None:
    """End the follow-up of a job that ended ``outcome`` (failed, cancelled): cancelled,
    its error naming that job and why."""
    keys = keys_for(sluice.settings.namespace, function_of(job_id) or "")
    with redis_errors():
        raw = await sluice.redis.hget(keys.job(job_id), "error")
    why = ""
    if raw:
        try:
            error = msgspec.json.decode(raw, type=JobError)
            why = f" ({error.type}: {error.message})"
        except msgspec.DecodeError:
            pass
    kind = (
        error_types.PREVIOUS_JOB_CANCELLED
        if outcome == CANCELLED
        else error_types.PREVIOUS_JOB_FAILED
    )
    message = f"not run: the job before it, {job_id}, ended {outcome}{why}"
    ended = JobError(kind, message)
    await end_follow_up(sluice, next_job_id, job_id, CANCELLED, ended, tenant=tenant)


async def end_follow_up(
    sluice: JobSubmitter,
    next_job_id: str,
    job_id: str,
    status: str,
    error: JobError,
    *,
    tenant: str,
) -> None:
    function = function_of(next_job_id) or ""
    spec = sluice.function(function)
    call = end_follow_up_call(
        keys_for(sluice.settings.namespace, function),
        job_id=next_job_id,
        status=status,
        error=json_encoder.encode(error),
        now=now_iso(),
        max_attempts=spec.max_attempts,
        previous_job_id=job_id,
        result_ttl=sluice.settings.result_ttl,
        tenant=tenant,
    )
    with redis_errors():
        (reply,) = await run_batched(sluice.redis, [call])
        if isinstance(reply, Exception):
            raise reply  # a Redis out of memory is a 503, as for any write
