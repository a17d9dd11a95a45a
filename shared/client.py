"""Submit, inspect, cancel and wait for jobs from Python, without HTTP.

The gateway is a thin HTTP layer over this class::

    async with Sluice.connect(Settings.from_env()) as sluice:
        job = await sluice.submit("echo", {"hello": "world"})
        done = await sluice.wait(job.job_id, timeout=30)
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import AsyncIterable, AsyncIterator, Mapping, Sequence
from typing import Any

from shared import follow_ups, job_batches
from shared.batch import ScriptBatcher
from shared.errors import (
    IdempotencyKeyReusedError,
    JobNotFoundError,
    JobStateError,
    QueueFullError,
    UnavailableError,
    UnknownFunctionError,
    UnsupportedMediaTypeError,
)
from shared.functions import FunctionSpec, load_functions
from shared.idempotency import (
    IDEMPOTENCY_GRACE_SECONDS,
    claim_for_function,
    fingerprint,
    scoped_key,
)
from shared.job_reads import JobReader
from shared.jobs import (
    CANCELLED,
    QUEUED,
    FollowUp,
    JobStatus,
    Submission,
    json_encoder,
    now_iso,
)
from shared.keys import keys_for, new_job_id
from shared.redis import Client, connect, redis_errors
from shared.script_calls import cancel_call, submit_call
from shared.scripts import Scripts
from shared.settings import Settings
from shared.uploads import DOCUMENT_TYPES, sniff, store_upload
from shared.validation import Chain, check_chain, check_idempotency_key, validate_input


class Sluice(JobReader):
    """Submit and cancel here; status, result, artifact and wait in JobReader."""

    def __init__(
        self, redis: Client, settings: Settings, functions: Mapping[str, FunctionSpec]
    ) -> None:
        self.redis = redis
        self.settings = settings
        self.functions = dict(functions)
        self._scripts = Scripts(redis)
        self._batcher = ScriptBatcher(redis)

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(cls, settings: Settings) -> AsyncIterator[Sluice]:
        """A client with its own Redis connection pool and the configured functions."""
        functions = load_functions(settings.function_modules)
        async with connect(settings.redis_url, cluster=settings.redis_cluster) as redis:
            yield cls(redis, settings, functions)

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
    ) -> Submission:
        """Validate and queue a job in one atomic Redis step.

        ``then`` names follow-up functions: when the job succeeds, its result is queued as
        the input of the first, and so on down the chain. ``tenant``: whose job it is (its
        follow-ups' too), "" with auth off; the Idempotency-Key is that tenant's.
        """
        spec = self.function(function)
        check_idempotency_key(idempotency_key)
        chain = check_chain(then, self.function)
        await follow_ups.check_room(self, chain)
        if spec.takes_document:
            raise UnsupportedMediaTypeError(
                f"{function} takes a document: send it as multipart/form-data or as the "
                "raw body (application/pdf, image/png, image/jpeg)",
                accepted=["multipart/form-data", *DOCUMENT_TYPES],
            )
        return await self.enqueue(
            spec, new_job_id(function), params, idempotency_key, then=chain, tenant=tenant
        )

    async def submit_many(
        self, function: str, inputs: Sequence[Any], *, tenant: str = "", then: Chain = ()
    ) -> list[Submission]:
        """Queue one job per input (1 to 1,000), all or none: every input is validated
        and the backlog bound checked for the whole batch before any is queued. Each job
        gets ``then`` and ``tenant`` as for submit; no Idempotency-Key (README, Batches).
        The Submissions come in the order of the inputs."""
        spec = self.function(function)
        chain = check_chain(then, self.function)
        payloads = job_batches.validated(spec, inputs)
        await follow_ups.check_room(self, chain)
        return await job_batches.submit_batch(self, spec, payloads, chain, tenant)

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
    ) -> Submission:
        """Store a document (streamed, bounded) and queue a job that reads it.

        The type comes from the document's bytes, not from its name or declared type.
        ``strict=False`` accepts parameters as text ("150" for 150), as in a query string.
        ``tenant`` as for submit.
        """
        spec = self.function(function)
        check_idempotency_key(idempotency_key)
        chain = check_chain(then, self.function)
        if not spec.takes_document:
            raise UnsupportedMediaTypeError(
                f"{function} takes its input as application/json", accepted=["application/json"]
            )
        await follow_ups.check_room(self, chain)  # before the upload is stored
        job_id = new_job_id(function)
        upload_key = keys_for(self.settings.namespace, function).upload(job_id)
        chunks = _single(document) if isinstance(document, bytes) else document
        digest = hashlib.sha256() if idempotency_key else None
        with redis_errors():
            size, head = await store_upload(
                self.redis, upload_key, chunks, self.settings.max_upload_bytes, digest
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
            )
        except BaseException:
            with contextlib.suppress(Exception):
                await self.redis.delete(upload_key)
            raise
        if submission.job_id != job_id:  # an idempotent replay: the first job has its own
            with contextlib.suppress(Exception):
                await self.redis.delete(upload_key)
        return submission

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
    ) -> Submission:
        """Queue a job; ``payload`` (already JSON) skips validation, for follow-ups;
        ``tenant``: whose job it is."""
        function = spec.name
        if payload is None:
            payload = self.validate(spec, params, strict=strict)
        next_job_id = new_job_id(then[0].function) if then else ""
        chain = json_encoder.encode(list(then))
        keys = keys_for(self.settings.namespace, function)
        created_at = now_iso()
        idempotency_ttl = self.settings.result_ttl + IDEMPOTENCY_GRACE_SECONDS
        request = ""
        if idempotency_key:
            request = fingerprint(function, payload, chain, document_sha256)
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
            upload_ttl=self.settings.upload_ttl if spec.takes_document else None,
            fingerprint=request,
            tenant=tenant,
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
                )
            return Submission(
                job_id=status.job_id,
                function=status.function,
                status=status.status,
                status_url=f"/v1/jobs/{status.job_id}",
                created_at=status.created_at or "",
                next_job_id=status.next_job_id,
                replayed=bool(idempotency_key),
            )
        return Submission(
            job_id=job_id,
            function=function,
            status=QUEUED,
            status_url=f"/v1/jobs/{job_id}",
            created_at=created_at,
            next_job_id=next_job_id or None,
        )

    async def cancel(self, job_id: str, *, tenant: str | None = None) -> JobStatus:
        """Cancel a queued or running job; JobStateError if it has already ended. The
        script checks the tenant, in the step that cancels."""
        function, key = self._job_key(job_id)
        keys = keys_for(self.settings.namespace, function)
        with redis_errors():
            # Only to name the key (already the tenant's, see scoped_key) the cancel
            # expires; the script decides.
            idempotency_key = await self.redis.hget(key, "idempotency_key")
            if isinstance(idempotency_key, bytes):
                idempotency_key = idempotency_key.decode()
            call = cancel_call(
                keys,
                job_id=job_id,
                idempotency_key=idempotency_key or "",
                now=now_iso(),
                result_ttl=self.settings.result_ttl,
                tenant=tenant,
            )
            reply = await self._scripts.run(call)
        outcome = reply[0].decode()
        if outcome == "missing":
            raise self._not_found(job_id)
        if outcome == "final":
            raise JobStateError(
                f"job {job_id} has already ended ({reply[1].decode()})",
                status=reply[1].decode(),
            )
        status = await self.status(job_id, tenant=tenant)
        if outcome == "cancelled" and status.next_job_id:
            # At once, for the client that holds its id; else (Redis refusing the write)
            # the consumers' relay does, from the outbox entry the cancel left.
            with contextlib.suppress(UnavailableError):
                owner = tenant if tenant is not None else await self._tenant_of(key)
                await follow_ups.follow_up_not_run(
                    self, job_id, status.next_job_id, CANCELLED, tenant=owner
                )
        return status


async def _single(data: bytes) -> AsyncIterator[bytes]:
    yield data
