"""What a submission is held to for its tenant's quotas before anything is written:
its jobs per second (a token per job), the bytes the tenant stores (shared/
storage_quota.py: at the quota nothing more is taken, and a document reserves its bytes
before a byte of it is stored). The quota of jobs not yet ended is held in the submit
scripts themselves. A retry of a request already done (an Idempotency-Key naming a
living job) is held to none of these: it adds nothing, and gets its job back.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterable, Sequence
from typing import Any

from shared import storage_quota
from shared.errors import PayloadTooLargeError, StorageQuotaError
from shared.idempotency import scoped_key
from shared.job_batches import ActiveQuota
from shared.jobs import now_ms
from shared.keys import keys_for
from shared.quotas import Limits, active_elsewhere, take_submissions
from shared.redis import Client, redis_errors
from shared.scripts import Scripts
from shared.settings import Settings
from shared.storage_quota import Reservation
from shared.upkeep_calls import rate_call
from shared.uploads import store_upload


async def admit(
    redis: Client,
    settings: Settings,
    functions: Sequence[str],
    function: str,
    tenant: str,
    limits: Limits | None,
    n: int,
    idempotency_key: str | None = None,
) -> bool:
    """Take ``n`` jobs from the tenant's rate and refuse it at its quota of bytes (429
    rate_limited, 507); nothing for no tenant, no limits, or a replay. Whether tokens
    were taken (to give back should the submission be refused after all)."""
    if not tenant or limits is None:
        return False
    with redis_errors():
        if idempotency_key and await replaying(redis, settings, function, tenant, idempotency_key):
            return False
        await storage_quota.check(redis, settings.namespace, tenant, limits, functions)
        await take_submissions(redis, settings, tenant, limits, n)
    return True


async def give_back(
    redis: Client, settings: Settings, tenant: str, limits: Limits | None, n: int
) -> None:
    """The ``n`` tokens a submission took, given back when it was refused after all (its
    jobs quota, a full queue, a bad option): the rate counts jobs submitted."""
    if not tenant or limits is None:
        return
    call = rate_call(
        settings.namespace, tenant, now_ms=now_ms(), rate=limits.rate, burst=limits.burst, n=-n
    )
    with contextlib.suppress(Exception):  # best effort: the refusal is what the client needs
        await Scripts(redis).run(call)


async def replaying(
    redis: Client, settings: Settings, function: str, tenant: str, idempotency_key: str
) -> bool:
    """Whether the tenant's Idempotency-Key names a job of ``function`` that still lives
    (submit.lua decides the replay; this only spares it the quotas)."""
    keys = keys_for(settings.namespace, function)
    job_id = await redis.get(keys.idempotency(scoped_key(tenant, idempotency_key)))
    if job_id is None:
        return False
    text = job_id.decode() if isinstance(job_id, bytes) else str(job_id)
    return bool(await redis.exists(keys.job(text)))


async def reserve_upload(
    redis: Client,
    settings: Settings,
    functions: Sequence[str],
    function: str,
    whose: tuple[str, Limits | None, str | None],
    size_hint: int | None,
    keep_s: float,
) -> Reservation | None:
    """Reserve the bytes of a document about to be stored and kept ``keep_s`` seconds: its
    declared size, else as much as it may be (MAX_UPLOAD_BYTES, or what is left of the
    quota); 413 for one over the whole quota, 507 when it does not fit. ``whose``: the
    tenant, its limits and the request's Idempotency-Key. None: no quota, or a replay."""
    tenant, limits, idempotency_key = whose
    if not tenant or limits is None:
        return None
    with redis_errors():
        if idempotency_key and await replaying(redis, settings, function, tenant, idempotency_key):
            return None
        room = await storage_quota.check(
            redis, settings.namespace, tenant, limits, functions, size_hint or 0
        )
        n = size_hint if size_hint is not None else min(settings.max_upload_bytes, room)
        return await storage_quota.reserve(
            redis, settings.namespace, tenant, limits, functions, function, n, keep_s
        )


async def active_quota(
    redis: Client,
    settings: Settings,
    functions: Sequence[str],
    function: str,
    tenant: str,
    limits: Limits | None,
) -> ActiveQuota | None:
    """The tenant's quota of jobs not yet ended, with its count in other functions (the
    submit script adds its count in ``function``); None for no quota."""
    if not tenant or limits is None:
        return None
    with redis_errors():
        elsewhere = await active_elsewhere(redis, settings.namespace, tenant, functions, function)
    return ActiveQuota(limits.jobs, elsewhere)


async def store_reserved(
    redis: Client,
    settings: Settings,
    upload_key: str,
    chunks: AsyncIterable[bytes],
    digest: Any,
    reservation: Reservation | None,
) -> tuple[int, bytes]:
    """Stream a document into Redis within MAX_UPLOAD_BYTES and the bytes reserved for it
    (its tenant's quota): past those nothing more is stored (507); the size and first
    bytes. The reservation is given back when nothing was stored."""
    limit = settings.max_upload_bytes
    room = min(limit, reservation.bytes) if reservation is not None else limit
    try:
        with redis_errors():
            return await store_upload(redis, upload_key, chunks, room, digest)
    except BaseException as exc:
        if reservation is not None:
            with contextlib.suppress(Exception):
                await storage_quota.settle(redis, reservation, 0)
            if isinstance(exc, PayloadTooLargeError) and room < limit:
                raise StorageQuotaError(
                    f"the document is over the {room} bytes left of its tenant's quota of"
                    " bytes stored",
                    retry_after=3600,
                    quota="bytes",
                    limit=reservation.bytes,
                ) from None
        raise
