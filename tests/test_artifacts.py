"""Artifacts expire with their job, and a Redis that refuses their bytes fails the attempt
(not the consumer)."""

from __future__ import annotations

import httpx
import pytest
import redis

from shared.client import Sluice
from shared.embedded import RedisServer
from shared.errors import ArtifactNotFoundError
from shared.keys import keys_for
from shared.settings import Settings
from tests.functions import page_bytes
from tests.helpers import wait_for_status
from tests.inprocess import run_burst, serving


async def test_artifacts_expire_with_the_job_after_success(
    sluice: Sluice, sync_redis: redis.Redis, settings: Settings, namespace: str
) -> None:
    job = await sluice.submit("pages", {"count": 3, "size": 2000})
    await run_burst(settings, "pages", concurrency=1)
    done = await sluice.status(job.job_id)
    assert done.status == "succeeded", done.error

    keys = keys_for(namespace, "pages")
    names = ["page-1.bin", "page-2.bin", "page-3.bin"]
    index = keys.artifacts(job.job_id)
    assert sync_redis.hgetall(index) == {
        name.encode(): b"application/octet-stream" for name in names
    }
    job_ttl_ms = sync_redis.pttl(keys.job(job.job_id))
    assert 0 < job_ttl_ms <= settings.result_ttl * 1000
    for key in (index, *(keys.artifact(job.job_id, name) for name in names)):
        ttl = sync_redis.ttl(key)
        assert 0 < ttl <= settings.result_ttl, (key, ttl)
        # Given in the same step as the job's own expiry.
        assert abs(sync_redis.pttl(key) - job_ttl_ms) < 2000, key


async def test_artifact_refused_by_a_full_redis_fails_the_attempt_and_the_consumer_lives(
    own_redis: RedisServer, settings: Settings
) -> None:
    settings = settings.replace(redis_url=own_redis.url)
    big = 8 * 1024 * 1024  # the artifact: far over what is left under maxmemory
    admin = redis.Redis.from_url(own_redis.url)
    try:
        async with (
            Sluice.connect(settings) as sluice,
            serving(settings, "pages", concurrency=1) as consumer,
        ):
            # A first job: the consumer is connected and reading before memory is counted.
            warm = await sluice.submit("pages", {"count": 1, "size": 10})
            await wait_for_status(sluice, warm.job_id, "succeeded", timeout=10)
            # Room for the small writes of a submission and its attempts, not for the file.
            admin.config_set("maxmemory-policy", "noeviction")
            used = int(admin.info("memory")["used_memory"])
            admin.config_set("maxmemory", used + 2 * 1024 * 1024)

            job = await sluice.submit("pages", {"count": 1, "size": big})
            # Two attempts, each making 8 MiB in a child: slow on a loaded machine.
            failed = await wait_for_status(sluice, job.job_id, "failed", "succeeded", timeout=30)
            assert failed.status == "failed", failed
            assert failed.attempts == 2, failed  # each attempt failed; retried once
            assert failed.error is not None
            said = f"{failed.error.type}: {failed.error.message}"
            assert any(word in said for word in ("OOM", "OutOfMemory", "maxmemory")), said
            with pytest.raises(ArtifactNotFoundError):
                await sluice.artifact(job.job_id, "page-1.bin")
            assert not consumer.crashed

            admin.config_set("maxmemory", 0)
            again = await sluice.submit("pages", {"count": 1, "size": big})
            done = await wait_for_status(sluice, again.job_id, "succeeded", "failed", timeout=15)
            assert done.status == "succeeded", done.error
            content_type, data = await sluice.artifact(again.job_id, "page-1.bin")
            assert content_type == "application/octet-stream"
            assert data == page_bytes(1, big)
    finally:
        admin.close()


async def test_jobs_back_to_back_each_keep_their_own_files(
    sluice: Sluice, settings: Settings
) -> None:
    """One slot and a queue: each job's files are written after the next job has begun
    (not before); every job still ends with exactly its own files."""
    sizes = [1000 + n for n in range(6)]
    jobs = [await sluice.submit("pages", {"count": 2, "size": size}) for size in sizes]
    await run_burst(settings, "pages", concurrency=1)
    for job, size in zip(jobs, sizes, strict=True):
        done = await sluice.status(job.job_id)
        assert done.status == "succeeded", done.error
        for number in (1, 2):
            content_type, data = await sluice.artifact(job.job_id, f"page-{number}.bin")
            assert content_type == "application/octet-stream"
            assert data == page_bytes(number, size)


async def test_artifacts_are_served_nosniff_and_only_images_inline(
    gateway_http: httpx.AsyncClient, sluice: Sluice, settings: Settings
) -> None:
    """A handler's text/html must not run as a page of the gateway's origin."""
    types = ("text/html", "image/svg+xml", "image/png")
    jobs = [await sluice.submit("pages", {"count": 1, "content_type": kind}) for kind in types]
    await run_burst(settings, "pages", concurrency=1)
    served = {}
    for content_type, job in zip(types, jobs, strict=True):
        done = await sluice.status(job.job_id)
        assert done.status == "succeeded", done.error
        url = f"/v1/jobs/{job.job_id}/artifacts/page-1.bin"
        served[content_type] = await gateway_http.get(url)
    for content_type, reply in served.items():
        assert reply.status_code == 200 and reply.headers["x-content-type-options"] == "nosniff"
        assert reply.headers["content-type"].startswith(content_type)
    for content_type in ("text/html", "image/svg+xml"):
        disposition = served[content_type].headers["content-disposition"]
        assert disposition == 'attachment; filename="page-1.bin"'
    assert "content-disposition" not in served["image/png"].headers
