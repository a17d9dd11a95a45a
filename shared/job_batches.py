"""Many jobs of one function submitted at once (``POST /v1/jobs/{function}/batch``,
``Sluice.submit_many``): all of them, or none.

Every input is validated before anything is written; then the whole batch is one call of
submit_many.lua, which checks the backlog bound and the tenant's quota of jobs for the
batch as a whole and writes every job or none, atomically. A connection lost during the
call leaves unknown whether the batch was queued (README, "Batches").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from shared.errors import InvalidInputError, QueueFullError
from shared.functions import FunctionSpec
from shared.jobs import QUEUED, SCHEDULED, FollowUp, Submission, json_encoder, now_iso
from shared.keys import keys_for, new_job_id
from shared.quotas import quota_exceeded
from shared.redis import redis_errors
from shared.schedule import NO_OPTIONS, JobOptions
from shared.script_calls import submit_many_call
from shared.scripts import Scripts
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
    """Queue the validated ``payloads``, all or none: QueueFullError unless the whole batch
    fits under the backlog bound, QuotaExceededError unless it fits in the tenant's quota
    of jobs not yet ended (``active``)."""
    keys = keys_for(sluice.settings.namespace, spec.name)
    bound = spec.backlog_bound(sluice.settings.max_backlog)
    schedule = options.schedule
    created_at = now_iso()
    job_ids = [new_job_id(spec.name) for _ in payloads]
    next_job_ids = [new_job_id(then[0].function) if then else "" for _ in payloads]
    call = submit_many_call(
        keys,
        jobs=list(zip(job_ids, payloads, next_job_ids, strict=True)),
        max_attempts=spec.max_attempts,
        created_at=created_at,
        max_backlog=bound,
        chain=json_encoder.encode(list(then)),
        tenant=tenant,
        options=options,
        active=active,
    )
    with redis_errors():
        outcome, value = await Scripts(sluice.redis).run(call)
    if outcome == b"quota":
        limit = active.limit if active else 0
        raise quota_exceeded(tenant, int(value), limit, 1, batch=len(payloads))
    if outcome == b"full":
        raise QueueFullError(
            f"the {spec.name} queue holds {int(value)} jobs, its bound is {bound}: a batch of"
            f" {len(payloads)} does not fit",
            retry_after=max(1, int(sluice.settings.visibility_timeout // 10)),
            function=spec.name,
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
