"""An upload lives while its job waits (bounded by UPLOAD_TTL) and is deleted when the job
ends, however it ends: ten queued 49 MB uploads must not hold Redis for a day."""

from __future__ import annotations

import redis

from shared.client import Sluice
from shared.keys import keys_for
from shared.settings import Settings
from tests.helpers import wait_for_status
from tests.inprocess import run_burst, serving


def upload_key(namespace: str, function: str, job_id: str) -> str:
    return keys_for(namespace, function).upload(job_id)


async def test_a_queued_jobs_upload_expires_after_upload_ttl(
    sluice: Sluice, sync_redis: redis.Redis, namespace: str
) -> None:
    sluice.settings = sluice.settings.replace(upload_ttl=600)
    job = await sluice.submit_document("digest", b"%PDF-1.4 queued")
    ttl = sync_redis.ttl(upload_key(namespace, "digest", job.job_id))
    assert 590 <= ttl <= 600, ttl


async def test_an_upload_is_deleted_when_its_job_ends_in_any_way(
    sluice: Sluice, sync_redis: redis.Redis, namespace: str, settings: Settings
) -> None:
    cancelled = await sluice.submit_document("digest", b"%PDF-1.4 never run")
    await sluice.cancel(cancelled.job_id)
    succeeded = await sluice.submit_document("digest", b"%PDF-1.4 run")
    failed = await sluice.submit_document("ingest", b"%PDF-1.4 not really a PDF")
    running = await sluice.submit_document("digest", b"%PDF-1.4 slow", {"seconds": 30})
    async with serving(settings, "digest", "ingest", concurrency=2):
        await wait_for_status(sluice, running.job_id, "running")
        await sluice.cancel(running.job_id)
        for job_id, status in (
            (succeeded.job_id, "succeeded"),
            (failed.job_id, "failed"),
            (running.job_id, "cancelled"),
        ):
            await wait_for_status(sluice, job_id, status)
    for job_id, status in (
        (cancelled.job_id, "cancelled"),
        (succeeded.job_id, "succeeded"),
        (failed.job_id, "failed"),
        (running.job_id, "cancelled"),
    ):
        assert (await sluice.status(job_id)).status == status
        function = job_id.rsplit("-", 1)[0]
        assert not sync_redis.exists(upload_key(namespace, function, job_id)), status
        # The status itself is kept for RESULT_TTL.
        assert sync_redis.ttl(keys_for(namespace, function).job(job_id)) > 0


async def test_a_retried_document_job_still_has_its_upload(
    sluice: Sluice, sync_redis: redis.Redis, namespace: str, settings: Settings
) -> None:
    job = await sluice.submit_document("digest", b"%PDF-1.4 twice", {"succeed_on": 2})
    await run_burst(settings, "digest", concurrency=1)
    done = await sluice.status(job.job_id)
    assert (done.status, done.attempts) == ("succeeded", 2), done.error
    assert not sync_redis.exists(upload_key(namespace, "digest", job.job_id))
