"""Many jobs of one function submitted at once (``POST /v1/jobs/{function}/batch``,
``Sluice.submit_many``): all of them, or none.

Every input is validated and the backlog bound checked for the whole batch before
anything is written; then every job goes in one round trip (submit.lua, the calls sharing
an EVALSHA per MAX_BATCH). Should Redis still refuse part of that write (a submission
racing the check took the room, Redis out of memory), the jobs already queued are
cancelled before the error is raised, so none of them runs. A connection lost during the
write leaves unknown which were queued (README, "Batches").
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from shared.errors import InvalidInputError, QueueFullError
from shared.functions import FunctionSpec
from shared.jobs import QUEUED, SCHEDULED, FollowUp, Submission, json_encoder, now_iso
from shared.keys import FunctionKeys, keys_for, new_job_id
from shared.quotas import quota_exceeded
from shared.redis import redis_errors
from shared.schedule import NO_OPTIONS, JobOptions
from shared.script_calls import cancel_call, submit_call
from shared.scripts import run_batched
from shared.validation import validate_input

if TYPE_CHECKING:
    from shared.job_submits import JobSubmitter

# Inputs one batch may hold: a batch is one request, one body in memory, one answer.
MAX_BATCH_INPUTS = 1000


class ActiveQuota(NamedTuple):
    """A tenant's quota of jobs not yet ended, and how many it has in other functions."""

    limit: int
    elsewhere: int


def validated(spec: FunctionSpec, inputs: Sequence[Any]) -> list[bytes]:
    """Each input's JSON, once every one is valid; the first invalid one refuses the batch
    (400 naming it: ``$[3].seconds``)."""
    if spec.takes_document:
        raise InvalidInputError(
            f"{spec.name} takes a document: a batch holds JSON inputs, submit each document"
            f" to POST /v1/jobs/{spec.name}"
        )
    if isinstance(inputs, str | bytes | bytearray | memoryview) or not isinstance(inputs, Sequence):
        raise InvalidInputError("a batch is a JSON array of inputs", field="$")
    if not 1 <= len(inputs) <= MAX_BATCH_INPUTS:
        raise InvalidInputError(
            f"a batch holds 1 to {MAX_BATCH_INPUTS} inputs, not {len(inputs)}", field="$"
        )
    payloads = []
    for index, params in enumerate(inputs):
        try:
            payloads.append(validate_input(spec, params))
        except InvalidInputError as exc:
            raise _at(index, exc) from exc
    return payloads


def _at(index: int, exc: InvalidInputError) -> InvalidInputError:
    """The error of one input, its field a path into the batch: ``$.seconds`` of input 3
    is ``$[3].seconds``."""
    field = exc.details.get("field")
    inner = field[1:] if isinstance(field, str) and field.startswith("$") else ""
    return InvalidInputError(
        f"input {index} of the batch: {exc.message}",
        **{**exc.details, "field": f"$[{index}]{inner}"},
    )


async def submit_batch(
    sluice: JobSubmitter,
    spec: FunctionSpec,
    payloads: Sequence[bytes],
    then: Sequence[FollowUp],
    tenant: str,
    options: JobOptions = NO_OPTIONS,
    active: ActiveQuota | None = None,
) -> list[Submission]:
    """Queue the validated ``payloads`` if the whole batch fits under the backlog bound
    (QueueFullError, nothing queued, if not) and the tenant's quota of jobs (``active``;
    QuotaExceededError)."""
    keys = keys_for(sluice.settings.namespace, spec.name)
    bound = spec.backlog_bound(sluice.settings.max_backlog)
    with redis_errors():
        pipe = sluice.redis.pipeline(transaction=False)
        pipe.xlen(keys.stream)
        pipe.zcard(keys.scheduled)
        pipe.hget(keys.active, tenant or "-")
        length, delayed, mine = await pipe.execute()
    backlog = length + delayed
    if active is not None and int(mine or 0) + active.elsewhere + len(payloads) > active.limit:
        raise quota_exceeded(tenant, int(mine or 0) + active.elsewhere, active.limit, 1)
    if backlog + len(payloads) > bound:
        raise _full(
            sluice,
            spec,
            f"the {spec.name} queue holds {backlog} jobs, its bound is {bound}: a batch of"
            f" {len(payloads)} does not fit",
        )
    return await write_batch(sluice, spec, payloads, then, tenant, options, active)


def _full(sluice: JobSubmitter, spec: FunctionSpec, message: str) -> QueueFullError:
    return QueueFullError(
        message,
        retry_after=max(1, int(sluice.settings.visibility_timeout // 10)),
        function=spec.name,
    )


async def write_batch(
    sluice: JobSubmitter,
    spec: FunctionSpec,
    payloads: Sequence[bytes],
    then: Sequence[FollowUp],
    tenant: str,
    options: JobOptions = NO_OPTIONS,
    active: ActiveQuota | None = None,
) -> list[Submission]:
    """Queue every job in one round trip; if Redis refused any, cancel those it queued
    and raise the refusal. Each job is still held to the bound (submit.lua)."""
    keys = keys_for(sluice.settings.namespace, spec.name)
    bound = spec.backlog_bound(sluice.settings.max_backlog)
    chain = json_encoder.encode(list(then))
    created_at = now_iso()
    schedule = options.schedule
    job_ids = [new_job_id(spec.name) for _ in payloads]
    next_job_ids = [new_job_id(then[0].function) if then else "" for _ in payloads]
    calls = [
        submit_call(
            keys,
            job_id=job_id,
            payload=payload,
            max_attempts=spec.max_attempts,
            created_at=created_at,
            max_backlog=bound,
            idempotency_ttl=0,  # no key: a batch takes no Idempotency-Key
            chain=chain,
            next_job_id=next_job_id,
            tenant=tenant,
            due_ms=schedule.due_ms if schedule else None,
            not_before=schedule.not_before if schedule else "",
            callback_url=options.callback_url,
            max_active=active.limit if active else None,
            active_elsewhere=active.elsewhere if active else 0,
        )
        for job_id, payload, next_job_id in zip(job_ids, payloads, next_job_ids, strict=True)
    ]
    with redis_errors():
        replies = await run_batched(sluice.redis, calls)
    queued = [
        job_id
        for job_id, reply in zip(job_ids, replies, strict=True)
        if not isinstance(reply, Exception) and reply[0] in (b"queued", b"scheduled")
    ]
    if len(queued) < len(job_ids):
        await _cancel(sluice, keys, queued, tenant)
        refusal = next(
            r for r in replies if isinstance(r, Exception) or r[0] not in (b"queued", b"scheduled")
        )
        if isinstance(refusal, Exception):
            with redis_errors():
                raise refusal
        if refusal[0] == b"quota":
            raise quota_exceeded(tenant, int(refusal[1]), active.limit if active else 0, 1)
        raise _full(
            sluice,
            spec,
            f"the {spec.name} queue reached its bound of {bound} jobs while the batch was"
            " written: none of it was queued",
        )
    return [
        Submission(
            job_id=job_id,
            function=spec.name,
            status=SCHEDULED if schedule else QUEUED,
            status_url=f"/v1/jobs/{job_id}",
            created_at=created_at,
            next_job_id=next_job_id or None,
            not_before=schedule.not_before if schedule else None,
        )
        for job_id, next_job_id in zip(job_ids, next_job_ids, strict=True)
    ]


async def _cancel(
    sluice: JobSubmitter, keys: FunctionKeys, job_ids: Sequence[str], tenant: str
) -> None:
    """Undo the part of a batch that was queued: cancelled, so none of it runs (a job a
    consumer took meanwhile is told to stop). Best effort: Redis may be what failed."""
    now = now_iso()
    calls = [
        cancel_call(
            keys,
            job_id=job_id,
            idempotency_key="",
            now=now,
            result_ttl=sluice.settings.result_ttl,
            tenant=tenant,
        )
        for job_id in job_ids
    ]
    if calls:
        with contextlib.suppress(Exception):
            await run_batched(sluice.redis, calls)
