"""Submitting jobs, the write side of shared.client.Sluice: validated, held to the
tenant's quotas, queued (or scheduled) in one atomic step per job (submit.lua)."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import AsyncIterable, AsyncIterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from shared import follow_ups, job_batches, storage_quota, submission_quotas
from shared.batch import ScriptBatcher
from shared.errors import (
    HttpError,
    IdempotencyKeyReusedError,
    JobNotFoundError,
    QueueFullError,
    UnknownFunctionError,
    UnsupportedMediaTypeError,
)
from shared.functions import FunctionSpec
from shared.idempotency import (
    IDEMPOTENCY_GRACE_SECONDS,
    claim_for_function,
    fingerprint,
    scoped_key,
)
from shared.job_batches import ActiveQuota
from shared.job_reads import JobReader
from shared.jobs import FollowUp, Submission, json_encoder, now_iso, now_ms
from shared.keys import keys_for, new_job_id
from shared.quotas import Limits, quota_exceeded
from shared.redis import redis_errors
from shared.schedule import NO_OPTIONS, JobOptions, job_options, kept_upload_for
from shared.script_calls import submit_call
from shared.uploads import DOCUMENT_TYPES, sniff
from shared.validation import Chain, check_chain, check_idempotency_key, validate_input


class JobSubmitter(JobReader):
    """The write side of shared.client.Sluice (reads in JobReader)."""

    functions: dict[str, FunctionSpec]
    _batcher: ScriptBatcher

    def function(self, name: str) -> FunctionSpec:
        spec = self.functions.get(name)
        if spec is None:
            raise UnknownFunctionError(f"no function named {name!r}", function=name)
        return spec

    def validate(self, spec: FunctionSpec, params: Any, *, strict: bool = True) -> bytes:
        """Check params (JSON bytes or a Python value) against the schema; return JSON."""
        return validate_input(spec, params, strict=strict)

    async def submit(
        self,
        function: str,
        params: Any,
        *,
        idempotency_key: str | None = None,
        then: Chain = (),
        tenant: str = "",
        delay: float | timedelta | str | None = None,
        not_before: datetime | str | None = None,
        callback_url: str | None = None,
        limits: Limits | None = None,
    ) -> Submission:
        """Validate and queue a job in one atomic Redis step.

        ``then`` names follow-up functions: when the job succeeds, its result is queued as
        the input of the first, and so on down the chain. ``tenant``: whose job it is (its
        follow-ups' too), "" with auth off; the Idempotency-Key is that tenant's.
        ``delay`` (seconds) or ``not_before`` (an aware datetime or ISO 8601): the job is
        ``scheduled`` until then. ``callback_url``: POSTed the final status (README,
        "Webhooks"). ``limits``: the tenant's quotas, held to (the gateway gives its API
        key's); None holds it to none.
        """
        spec = self.function(function)
        check_idempotency_key(idempotency_key)
        chain = check_chain(then, self.function)
        if spec.takes_document:
            raise UnsupportedMediaTypeError(
                f"{function} takes a document: send it as multipart/form-data or as the "
                "raw body (application/pdf, image/png, image/jpeg)",
                accepted=["multipart/form-data", *DOCUMENT_TYPES],
            )
        # A bad input is a 400 whatever the quotas say, Redis down or not.
        payload = self.validate(spec, params)
        async with self._admitted(function, tenant, limits, 1, idempotency_key):
            # After the quotas: a callback_url's host is looked up (DNS) here.
            options = await job_options(self.settings, delay, not_before, callback_url)
            await follow_ups.check_room(self, chain)
            return await self.enqueue(
                spec,
                new_job_id(function),
                params,
                idempotency_key,
                payload=payload,
                then=chain,
                tenant=tenant,
                options=options,
                limits=limits,
            )

    async def submit_many(
        self,
        function: str,
        inputs: Sequence[Any],
        *,
        tenant: str = "",
        then: Chain = (),
        delay: float | timedelta | str | None = None,
        not_before: datetime | str | None = None,
        callback_url: str | None = None,
        limits: Limits | None = None,
    ) -> list[Submission]:
        """Queue one job per input (1 to 1,000), all or none: every input is validated
        and the backlog bound checked for the whole batch before any is queued. Each job
        gets the keywords as for submit; no Idempotency-Key (README, Batches). The
        Submissions come in the order of the inputs."""
        spec = self.function(function)
        chain = check_chain(then, self.function)
        payloads = job_batches.validated(spec, inputs)
        async with self._admitted(function, tenant, limits, len(payloads)):
            options = await job_options(self.settings, delay, not_before, callback_url)
            await follow_ups.check_room(self, chain)
            return await job_batches.submit_batch(
                self,
                spec,
                payloads,
                chain,
                tenant,
                options,
                await self._active(spec.name, tenant, limits),
            )

    def _admitted(
        self,
        function: str,
        tenant: str,
        limits: Limits | None,
        n: int,
        idempotency_key: str | None = None,
    ) -> contextlib.AbstractAsyncContextManager[None]:
        """Held to the tenant's rate and bytes for the block; refused in it (a quota, a
        full queue, a bad option), its ``n`` tokens are given back."""
        if not tenant or limits is None:
            return contextlib.nullcontext()  # no quota: the open gateway's hot path
        return self._quota_held(function, tenant, limits, n, idempotency_key)

    @contextlib.asynccontextmanager
    async def _quota_held(
        self, function: str, tenant: str, limits: Limits, n: int, idempotency_key: str | None
    ) -> AsyncIterator[None]:
        taken = await submission_quotas.admit(
            self.redis, self.settings, list(self.functions), function, tenant, limits, n,
            idempotency_key,
        )  # fmt: skip
        try:
            yield
        except HttpError:
            if taken:
                await submission_quotas.give_back(self.redis, self.settings, tenant, limits, n)
            raise

    async def submit_document(
        self,
        function: str,
        document: bytes | AsyncIterable[bytes],
        params: Mapping[str, Any] | None = None,
        *,
        filename: str | None = None,
        idempotency_key: str | None = None,
        strict: bool = True,
        then: Chain = (),
        tenant: str = "",
        size_hint: int | None = None,
        delay: float | timedelta | str | None = None,
        not_before: datetime | str | None = None,
        callback_url: str | None = None,
        limits: Limits | None = None,
    ) -> Submission:
        """Store a document (streamed, bounded) and queue a job that reads it.

        The type comes from the document's bytes, not from its name or declared type.
        ``strict=False`` accepts parameters as text ("150" for 150), as in a query string.
        ``size_hint``: the document's declared size, if any (a quota refuses it before a
        byte is stored). The other keywords as for submit.
        """
        spec = self.function(function)
        check_idempotency_key(idempotency_key)
        chain = check_chain(then, self.function)
        if not spec.takes_document:
            raise UnsupportedMediaTypeError(
                f"{function} takes its input as application/json", accepted=["application/json"]
            )
        # All before the upload is stored.
        async with self._admitted(function, tenant, limits, 1, idempotency_key):
            options = await job_options(self.settings, delay, not_before, callback_url)
            await follow_ups.check_room(self, chain)
            job_id = new_job_id(function)
            upload_key = keys_for(self.settings.namespace, function).upload(job_id)
            chunks = _single(document) if isinstance(document, bytes) else document
            digest = hashlib.sha256() if idempotency_key else None
            reservation = await submission_quotas.reserve_upload(
                self.redis,
                self.settings,
                list(self.functions),
                function,
                (tenant, limits, idempotency_key),
                size_hint,
                kept_upload_for(self.settings, options),
            )
            size, head = await submission_quotas.store_reserved(
                self.redis, self.settings, upload_key, chunks, digest, reservation
            )
            try:
                content_type = sniff(head)
                if content_type is None:
                    raise UnsupportedMediaTypeError(
                        "the document is not a PDF, PNG or JPEG (judged by its bytes)",
                        accepted=list(DOCUMENT_TYPES),
                    )
                with_document = {
                    **(params or {}),
                    "document": {"content_type": content_type, "size": size, "filename": filename},
                }
                submission = await self.enqueue(
                    spec,
                    job_id,
                    with_document,
                    idempotency_key,
                    strict=strict,
                    then=chain,
                    document_sha256=digest.hexdigest() if digest else "",
                    tenant=tenant,
                    options=options,
                    limits=limits,
                )
            except BaseException:
                with contextlib.suppress(Exception):
                    await self.redis.delete(upload_key)
                    if reservation is not None:
                        await storage_quota.settle(self.redis, reservation, 0)
                raise
            replay = submission.job_id != job_id  # the first job has its own upload
            if replay:
                with contextlib.suppress(Exception):
                    await self.redis.delete(upload_key)
            if reservation is not None:
                with contextlib.suppress(Exception):  # the job is queued: a miss is not its error
                    await storage_quota.settle(self.redis, reservation, 0 if replay else size)
            return submission

    async def _active(
        self, function: str, tenant: str, limits: Limits | None
    ) -> ActiveQuota | None:
        functions = list(self.functions)
        return await submission_quotas.active_quota(
            self.redis, self.settings, functions, function, tenant, limits
        )

    async def enqueue(
        self,
        spec: FunctionSpec,
        job_id: str,
        params: Any,
        idempotency_key: str | None,
        *,
        strict: bool = True,
        then: Sequence[FollowUp] = (),
        previous_job_id: str = "",
        payload: bytes | None = None,
        document_sha256: str = "",
        retried: bool = False,
        tenant: str = "",
        options: JobOptions = NO_OPTIONS,
        limits: Limits | None = None,
    ) -> Submission:
        """Queue a job; ``payload`` (already JSON) skips validation, for follow-ups;
        ``tenant``: whose job it is; ``options``: when it is due, whom its end is told;
        ``limits``: the tenant's quotas (its jobs not yet ended)."""
        function = spec.name
        if payload is None:
            payload = self.validate(spec, params, strict=strict)
        next_job_id = new_job_id(then[0].function) if then else ""
        chain = json_encoder.encode(list(then))
        keys = keys_for(self.settings.namespace, function)
        created_at = now_iso()
        # A delayed job's key lives as much longer as the job waits.
        waits = max(0, options.schedule.due_ms - now_ms()) // 1000 if options.schedule else 0
        idempotency_ttl = self.settings.result_ttl + IDEMPOTENCY_GRACE_SECONDS + waits
        request = ""
        if idempotency_key:
            request = fingerprint(function, payload, chain, document_sha256, options.request)
            with redis_errors():
                await claim_for_function(
                    self.redis,
                    self.settings.namespace,
                    function,
                    idempotency_key,
                    idempotency_ttl,
                    tenant=tenant,
                )
        # A follow-up too: its function's backlog stays within the bound (the relay ends a
        # follow-up it cannot queue, see shared/follow_ups.py).
        bound = backlog = spec.backlog_bound(self.settings.max_backlog)
        active = await submission_quotas.active_quota(
            self.redis, self.settings, list(self.functions), spec.name, tenant, limits
        )
        schedule = options.schedule
        # A delayed job's upload waits for it as long as a queued job's would.
        upload_ttl = kept_upload_for(self.settings, options) if spec.takes_document else None
        call = submit_call(
            keys,
            job_id=job_id,
            payload=payload,
            max_attempts=spec.max_attempts,
            created_at=created_at,
            max_backlog=bound,
            idempotency_key=scoped_key(tenant, idempotency_key) if idempotency_key else "",
            idempotency_ttl=idempotency_ttl,
            chain=chain,
            next_job_id=next_job_id,
            previous_job_id=previous_job_id,
            upload_ttl=upload_ttl,
            fingerprint=request,
            tenant=tenant,
            options=options,
            active=active,
        )
        with redis_errors():
            # Concurrent submissions share one round trip.
            reply = await self._batcher.call(call)
        outcome, value = reply[0].decode(), reply[1].decode()
        if outcome == "full":
            raise QueueFullError(
                f"the {function} queue holds {value} jobs, its bound is {backlog}",
                retry_after=max(1, int(self.settings.visibility_timeout // 10)),
                function=function,
            )
        if outcome == "quota":
            raise quota_exceeded(tenant, int(value), active.limit if active else 0, 1)
        if outcome == "reused":
            raise IdempotencyKeyReusedError(
                f"Idempotency-Key {idempotency_key!r} was used for another request (job"
                f" {value}: other parameters, follow-ups or document); a new request needs"
                " a new key",
                job_id=value,
            )
        if outcome == "existing":
            try:
                # The key is the tenant's (scoped_key), so its job is the tenant's too.
                status = await self.status(value)
            except JobNotFoundError:
                # Its job expired just now: the script takes the key anew.
                if retried:
                    raise
                return await self.enqueue(
                    spec,
                    job_id,
                    params,
                    idempotency_key,
                    strict=strict,
                    then=then,
                    previous_job_id=previous_job_id,
                    payload=payload,
                    document_sha256=document_sha256,
                    retried=True,
                    tenant=tenant,
                    options=options,
                    limits=limits,
                )
            return Submission(
                job_id=status.job_id,
                function=status.function,
                status=status.status,
                status_url=f"/v1/jobs/{status.job_id}",
                created_at=status.created_at or "",
                next_job_id=status.next_job_id,
                replayed=bool(idempotency_key),
                not_before=status.not_before,
            )
        return Submission(
            job_id=job_id,
            function=function,
            status=outcome,  # queued, or scheduled
            status_url=f"/v1/jobs/{job_id}",
            created_at=created_at,
            next_job_id=next_job_id or None,
            not_before=schedule.not_before if schedule else None,
        )


async def _single(data: bytes) -> AsyncIterator[bytes]:
    yield data
