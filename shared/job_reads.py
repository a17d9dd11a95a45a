"""Reading jobs: status, result, artifacts, waiting for the end; each for the job's own
tenant only (or, with ``tenant=None``, any tenant's: an admin, the platform itself).

Another tenant's job is not found exactly as a job that does not exist is (same error,
same message), so a tenant cannot learn that another's job ids exist.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import msgspec

from shared.errors import ArtifactNotFoundError, JobNotFoundError, JobStateError
from shared.jobs import (
    FINAL_STATUSES,
    QUEUED,
    RETRYING,
    STATUS_FIELDS,
    SUCCEEDED,
    TENANT_FIELD,
    JobStatus,
    belongs_to,
    status_from_hash,
)
from shared.keys import function_of, keys_for
from shared.redis import Client, redis_errors
from shared.settings import Settings

# Statuses of a job a pause keeps waiting: "paused" is said of these only.
WAITING = frozenset({QUEUED, RETRYING})
# A status read, and whose job it is (compared, never shown).
_STATUS_AND_TENANT = (*STATUS_FIELDS, TENANT_FIELD)


class JobReader:
    """The read side of shared.client.Sluice."""

    redis: Client
    settings: Settings

    def _job_key(self, job_id: str) -> tuple[str, str]:
        function = function_of(job_id)
        if function is None:
            raise JobNotFoundError(f"no job {job_id!r}", job_id=job_id)
        return function, keys_for(self.settings.namespace, function).job(job_id)

    def changes_channel(self, job_id: str) -> str:
        """Where the job's status and progress changes are published: its hash's name
        (prelude.lua's ``changed``)."""
        return self._job_key(job_id)[1]

    @staticmethod
    def _not_found(job_id: str) -> JobNotFoundError:
        """For a job that does not exist and for another tenant's alike: a tenant cannot
        learn that another's job id exists."""
        return JobNotFoundError(f"no job {job_id!r} (unknown or expired)", job_id=job_id)

    async def _tenant_of(self, key: str) -> str:
        """The tenant of the job whose hash is ``key`` ("" for none)."""
        with redis_errors():
            raw = await self.redis.hget(key, TENANT_FIELD)
        return (raw.decode() if isinstance(raw, bytes) else raw) or ""

    async def status(self, job_id: str, *, tenant: str | None = None) -> JobStatus:
        """The job's status; ``tenant``: the caller's (another tenant's job is not found),
        None for any tenant's job (an admin, the platform itself). So for every method."""
        function, key = self._job_key(job_id)
        with redis_errors():
            pipe = self.redis.pipeline(transaction=False)
            pipe.hmget(key, _STATUS_AND_TENANT)
            pipe.exists(keys_for(self.settings.namespace, function).paused)
            values, paused = await pipe.execute()
        status = status_from_hash(values[:-1])
        if status is None or not belongs_to(values[-1], tenant):
            raise self._not_found(job_id)
        if paused and status.status in WAITING:
            return msgspec.structs.replace(status, paused=True)
        return status

    async def result(self, job_id: str, *, tenant: str | None = None) -> Any:
        """The decoded result of a succeeded job; JobStateError before that."""
        status = await self.status(job_id, tenant=tenant)
        if status.status != SUCCEEDED:
            raise JobStateError(
                f"job {job_id} is {status.status}, it has no result", status=status.status
            )
        return status.result_value()

    async def artifact(
        self, job_id: str, name: str, *, tenant: str | None = None
    ) -> tuple[str, bytes]:
        """(content type, bytes) of a file the job saved."""
        function, key = self._job_key(job_id)
        keys = keys_for(self.settings.namespace, function)
        with redis_errors():
            (status, job_tenant), content_type, data = await asyncio.gather(
                self.redis.hmget(key, ["status", TENANT_FIELD]),
                self.redis.hget(keys.artifacts(job_id), name),
                self.redis.get(keys.artifact(job_id, name)),
            )
        if status is None or not belongs_to(job_tenant, tenant):
            raise self._not_found(job_id)
        if data is None or content_type is None:
            raise ArtifactNotFoundError(f"job {job_id} has no artifact {name!r}", name=name)
        if isinstance(content_type, bytes):
            content_type = content_type.decode()
        return str(content_type), data if isinstance(data, bytes) else data.encode()

    async def artifacts(
        self, job_id: str, *, tenant: str | None = None
    ) -> list[tuple[str, str, int]]:
        """(name, content type, size in bytes) of each file the job saved, by name."""
        function, key = self._job_key(job_id)
        keys = keys_for(self.settings.namespace, function)
        with redis_errors():
            pipe = self.redis.pipeline(transaction=False)
            pipe.hmget(key, ["status", TENANT_FIELD])
            pipe.hgetall(keys.artifacts(job_id))
            (status, job_tenant), index = await pipe.execute()
        if status is None or not belongs_to(job_tenant, tenant):
            raise self._not_found(job_id)
        types = {_text(name): _text(kind) for name, kind in index.items()}
        names = sorted(types)
        if not names:
            return []
        with redis_errors():
            pipe = self.redis.pipeline(transaction=False)
            for name in names:
                pipe.strlen(keys.artifact(job_id, name))
            sizes = await pipe.execute()
        return [(name, types[name], int(size)) for name, size in zip(names, sizes, strict=True)]

    async def wait(
        self,
        job_id: str,
        timeout: float | None = None,
        poll: float = 0.02,
        *,
        missing_ok: bool = False,
        tenant: str | None = None,
    ) -> JobStatus:
        """Poll until the job's status is final; TimeoutError after ``timeout`` seconds.
        ``missing_ok``: an id not found (yet) is waited for too, as a follow-up's is for
        a moment after the job before it ended. ``tenant`` as for status."""
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = poll
        while True:
            try:
                status = await self.status(job_id, tenant=tenant)
            except JobNotFoundError:
                if not missing_ok:
                    raise
                state = "not found"
            else:
                if status.status in FINAL_STATUSES:
                    return status
                state = status.status
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"job {job_id} still {state} after {timeout}s")
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, 0.5)


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value
