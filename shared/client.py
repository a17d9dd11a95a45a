"""Submit, inspect, cancel and wait for jobs from Python, without HTTP.

The gateway is a thin HTTP layer over this class::

    async with Sluice.connect(Settings.from_env()) as sluice:
        job = await sluice.submit("echo", {"hello": "world"})
        done = await sluice.wait(job.job_id, timeout=30)
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping

from shared import follow_ups
from shared.batch import ScriptBatcher
from shared.errors import (
    JobStateError,
    UnavailableError,
)
from shared.functions import FunctionSpec, load_functions
from shared.job_submits import JobSubmitter
from shared.jobs import (
    CANCELLED,
    JobStatus,
    now_iso,
)
from shared.keys import keys_for
from shared.redis import Client, connect, redis_errors
from shared.script_calls import cancel_call
from shared.scripts import Scripts
from shared.settings import Settings


class Sluice(JobSubmitter):
    """Cancel here; submit in JobSubmitter; status, result, artifact and wait in JobReader."""

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
