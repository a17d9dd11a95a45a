"""Artifacts are stored as the handler saves them, expire with their job, and a Redis that
refuses their bytes fails the attempt (not the consumer)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import redis

from consumers.worker import ORPHAN_TTL_SECONDS
from shared.client import Sluice
from shared.embedded import RedisServer
from shared.errors import ArtifactNotFoundError
from shared.keys import keys_for
from shared.settings import Settings
from tests.conftest import Proc
from tests.functions import page_bytes
from tests.helpers import wait_for_status


async def wait_for_artifact(
    http: httpx.AsyncClient, job_id: str, name: str, timeout: float = 8.0
) -> httpx.Response:
    """Poll the artifact's URL until it answers 200; until then it must be a plain 404."""
    deadline = time.monotonic() + timeout
    while True:
        reply = await http.get(f"/v1/jobs/{job_id}/artifacts/{name}")
        if reply.status_code == 200:
            return reply
        assert reply.status_code == 404, reply.text
        assert reply.json()["error"]["type"] == "artifact_not_found", reply.text
        if time.monotonic() > deadline:
            raise AssertionError(f"{name} of job {job_id} was not served within {timeout}s")
        await asyncio.sleep(0.02)


async def test_artifact_is_served_while_the_handler_still_runs(
    http: httpx.AsyncClient,
    sluice: Sluice,
    start_consumer: Callable[..., Proc],
    sync_redis: redis.Redis,
    namespace: str,
    tmp_path: Path,
) -> None:
    start_consumer("pages", concurrency=1)
    gate = tmp_path / "gate"
    size = 50_000
    reply = await http.post(
        "/v1/jobs/pages",
        json={"count": 3, "size": size, "content_type": "image/png", "gate_path": str(gate)},
    )
    assert reply.status_code == 202, reply.text
    job_id = reply.json()["job_id"]

    # The handler saved page 1 and now waits at the gate: the job still runs, and page 1
    # is already served (and in Redis, bounded by an expiry); pages 2 and 3 are not yet.
    first = await wait_for_artifact(http, job_id, "page-1.bin")
    assert first.content == page_bytes(1, size)
    assert first.headers["content-type"] == "image/png"
    running = await sluice.status(job_id)
    assert running.status == "running", running
    keys = keys_for(namespace, "pages")
    assert sync_redis.get(keys.artifact(job_id, "page-1.bin")) == page_bytes(1, size)
    assert sync_redis.hgetall(keys.artifacts(job_id)) == {b"page-1.bin": b"image/png"}
    for key in (keys.artifact(job_id, "page-1.bin"), keys.artifacts(job_id)):
        assert 0 < sync_redis.ttl(key) <= ORPHAN_TTL_SECONDS, key
    later = await http.get(f"/v1/jobs/{job_id}/artifacts/page-2.bin")
    assert later.status_code == 404 and later.json()["error"]["type"] == "artifact_not_found"

    gate.touch()
    done = await wait_for_status(sluice, job_id, "succeeded", "failed", timeout=15)
    assert done.status == "succeeded", done.error
    names = ["page-1.bin", "page-2.bin", "page-3.bin"]
    assert done.result_value() == {"pages": names, "attempt": 1}
    for number, name in enumerate(names, start=1):
        artifact = await http.get(f"/v1/jobs/{job_id}/artifacts/{name}")
        assert artifact.status_code == 200, artifact.text
        assert artifact.headers["content-type"] == "image/png"
        assert artifact.content == page_bytes(number, size), name


async def test_artifacts_expire_with_the_job_after_success(
    sluice: Sluice,
    start_consumer: Callable[..., Proc],
    sync_redis: redis.Redis,
    settings: Settings,
    namespace: str,
) -> None:
    start_consumer("pages", concurrency=1)
    job = await sluice.submit("pages", {"count": 3, "size": 2000})
    done = await wait_for_status(sluice, job.job_id, "succeeded", "failed", timeout=15)
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
    own_redis: RedisServer, env: dict[str, str], start_consumer: Callable[..., Proc]
) -> None:
    env["REDIS_URL"] = own_redis.url
    settings = Settings.from_env(env)
    big = 8 * 1024 * 1024  # the artifact: far over what is left under maxmemory
    admin = redis.Redis.from_url(own_redis.url)
    try:
        consumer = start_consumer("pages", concurrency=1)
        async with Sluice.connect(settings) as sluice:
            await sluice.redis.ping()
            # Room for the small writes of a submission and its attempts, not for the file.
            admin.config_set("maxmemory-policy", "noeviction")
            used = int(admin.info("memory")["used_memory"])
            admin.config_set("maxmemory", used + 2 * 1024 * 1024)

            job = await sluice.submit("pages", {"count": 1, "size": big})
            failed = await wait_for_status(sluice, job.job_id, "failed", "succeeded", timeout=10)
            assert failed.status == "failed", failed
            assert failed.attempts == 2, failed  # each attempt failed; retried once
            assert failed.error is not None
            said = f"{failed.error.type}: {failed.error.message}"
            assert any(word in said for word in ("OOM", "OutOfMemory", "maxmemory")), said
            with pytest.raises(ArtifactNotFoundError):
                await sluice.artifact(job.job_id, "page-1.bin")
            assert consumer.alive()

            admin.config_set("maxmemory", 0)
            again = await sluice.submit("pages", {"count": 1, "size": big})
            done = await wait_for_status(sluice, again.job_id, "succeeded", "failed", timeout=15)
            assert done.status == "succeeded", done.error
            content_type, data = await sluice.artifact(again.job_id, "page-1.bin")
            assert content_type == "application/octet-stream"
            assert data == page_bytes(1, big)
            assert consumer.alive()
    finally:
        admin.close()
