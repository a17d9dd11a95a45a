"""Dead letters listed, replayed and deleted (shared/dead_letters.py), on real Redis with
an in-process consumer: jobs really die, and a replayed one really runs again."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import redis

from shared import dead_letters
from shared.client import Sluice
from shared.errors import InvalidInputError
from shared.keys import keys_for
from shared.settings import Settings
from tests.inprocess import run_burst


async def _dead_jobs(sluice: Sluice, settings: Settings, *tenants: str) -> list[str]:
    """One ``doomed`` job per tenant, in order, run until each is dead-lettered."""
    job_ids = [(await sluice.submit("doomed", {}, tenant=tenant)).job_id for tenant in tenants]
    await run_burst(settings, "doomed")
    return job_ids


async def test_listed_newest_first_with_error_attempts_and_tenant(
    sluice: Sluice, settings: Settings, namespace: str
) -> None:
    first, second, third = await _dead_jobs(sluice, settings, "acme", "beta", "")
    letters = await dead_letters.list_dead(sluice.redis, namespace, "doomed")
    assert [letter.job_id for letter in letters] == [third, second, first]
    acme = letters[2]
    assert acme.tenant == "acme" and letters[0].tenant is None
    assert acme.attempts == 1
    assert acme.error is not None and acme.error.type == "ValueError"
    assert f"{first} fails on purpose" in acme.error.message
    assert "attempt 1 of 1, giving up" in acme.error.message
    ms = int(acme.entry_id.split("-")[0])
    assert datetime.fromisoformat(acme.dead_at).timestamp() * 1000 == ms
    assert acme.dead_at.endswith("Z")

    # Paging by entry id: each page holds the entries older than the last one seen.
    pages, after = [], None
    while page := await dead_letters.list_dead(
        sluice.redis, namespace, "doomed", count=1, after=after
    ):
        pages += page
        after = page[-1].entry_id
    assert pages == letters

    # A tenant sees its own only; "" is the jobs of no tenant.
    for tenant, job_id in (("acme", first), ("beta", second), ("", third)):
        mine = await dead_letters.list_dead(sluice.redis, namespace, "doomed", tenant=tenant)
        assert [letter.job_id for letter in mine] == [job_id]
    assert await dead_letters.list_dead(sluice.redis, namespace, "doomed", tenant="x") == []
    assert await dead_letters.list_dead(sluice.redis, namespace, "nothing_here") == []


async def test_replay_runs_the_same_job_again_with_fresh_attempts(
    sluice: Sluice,
    settings: Settings,
    sync_redis: redis.Redis,
    namespace: str,
    tmp_path: Path,
) -> None:
    """``work`` fails while the directory of its effect file is missing: three attempts,
    dead-lettered. Once the directory exists, the replayed job succeeds on attempt 1."""
    effect = tmp_path / "later" / "effect.log"
    job = await sluice.submit("work", {"effect_path": str(effect)}, tenant="acme")
    await run_burst(settings, "work")
    keys = keys_for(namespace, "work")
    failed = await sluice.status(job.job_id)
    assert failed.status == "failed" and failed.attempts == 3
    assert sync_redis.hget(keys.active, "acme") is None
    assert sync_redis.ttl(keys.job(job.job_id)) > 0
    (letter,) = await dead_letters.list_dead(sluice.redis, namespace, "work")
    assert letter.attempts == 3 and letter.tenant == "acme"
    assert letter.error is not None and letter.error.type == "FileNotFoundError"

    watch = sync_redis.pubsub(ignore_subscribe_messages=True)
    watch.subscribe(keys.job(job.job_id))
    assert watch.get_message(timeout=5) is None  # the subscription's confirmation
    replayed = await dead_letters.replay(sluice.redis, namespace, "work", [letter.entry_id])
    assert replayed == dead_letters.ReplayResult(replayed=1, job_ids=[job.job_id])
    message = watch.get_message(timeout=5)
    watch.close()
    assert message is not None and message["data"] == b"1"  # watchers told

    queued = await sluice.status(job.job_id)
    assert queued.status == "queued" and queued.attempts == 0 and queued.max_attempts == 3
    assert queued.error is None and queued.result is None
    assert queued.started_at is None and queued.finished_at is None and queued.message == ""
    assert queued.created_at == failed.created_at
    assert sync_redis.ttl(keys.job(job.job_id)) == -1  # no expiry while queued
    assert sync_redis.xlen(keys.stream) == 1
    assert sync_redis.hget(keys.active, "acme") == b"1"
    assert await dead_letters.list_dead(sluice.redis, namespace, "work") == []

    effect.parent.mkdir()
    await run_burst(settings, "work")
    done = await sluice.status(job.job_id)
    assert done.status == "succeeded" and done.attempts == 1, done
    assert done.result_value()["attempt"] == 1
    assert effect.read_text().split()[:2] == [job.job_id, "1"]
    assert sync_redis.hget(keys.active, "acme") is None
    assert sync_redis.ttl(keys.job(job.job_id)) > 0
    assert sync_redis.xlen(keys.stream) == 0


async def test_replayed_job_that_dies_again_is_dead_lettered_again(
    sluice: Sluice, settings: Settings, sync_redis: redis.Redis, namespace: str
) -> None:
    (job_id,) = await _dead_jobs(sluice, settings, "acme")
    keys = keys_for(namespace, "doomed")
    result = await dead_letters.replay(sluice.redis, namespace, "doomed", "all")
    assert result.replayed == 1 and result.job_ids == [job_id]
    assert sync_redis.hget(keys.active, "acme") == b"1"
    await run_burst(settings, "doomed")
    assert sync_redis.hget(keys.active, "acme") is None
    (again,) = await dead_letters.list_dead(sluice.redis, namespace, "doomed")
    assert again.job_id == job_id and again.attempts == 1
    assert (await sluice.status(job_id)).status == "failed"


async def test_replay_of_an_expired_or_no_longer_failed_job_keeps_its_entry(
    sluice: Sluice, settings: Settings, sync_redis: redis.Redis, namespace: str
) -> None:
    gone, kept = await _dead_jobs(sluice, settings, "", "")
    keys = keys_for(namespace, "doomed")
    sync_redis.delete(keys.job(gone))  # as RESULT_TTL after the end does
    old, new = await dead_letters.list_dead(sluice.redis, namespace, "doomed")
    assert (old.job_id, new.job_id) == (kept, gone)

    result = await dead_letters.replay(sluice.redis, namespace, "doomed", "all")
    assert result == dead_letters.ReplayResult(replayed=1, gone=1, job_ids=[kept])
    assert [
        letter.job_id for letter in await dead_letters.list_dead(sluice.redis, namespace, "doomed")
    ] == [gone]
    assert not sync_redis.exists(keys.job(gone))  # never recreated
    assert sync_redis.xlen(keys.stream) == 1

    # An entry naming a job that is queued again (a copy: replay deleted the original).
    copy = sync_redis.xadd(keys.dead, {"job_id": kept, "entry_id": "1-1", "attempts": "1"})
    entry_id = copy.decode() if isinstance(copy, bytes) else copy
    result = await dead_letters.replay(sluice.redis, namespace, "doomed", [entry_id])
    assert result == dead_letters.ReplayResult(not_failed=1)
    assert sync_redis.xlen(keys.stream) == 1
    again = await dead_letters.replay(sluice.redis, namespace, "doomed", [old.entry_id, "9-9"])
    assert again == dead_letters.ReplayResult(missing=2)


async def test_tenant_sees_replays_and_deletes_its_own_only(
    sluice: Sluice, settings: Settings, sync_redis: redis.Redis, namespace: str
) -> None:
    acme_one, beta, acme_two, none = await _dead_jobs(sluice, settings, "acme", "beta", "acme", "")
    keys = keys_for(namespace, "doomed")
    by_job = {
        letter.job_id: letter.entry_id
        for letter in await dead_letters.list_dead(sluice.redis, namespace, "doomed")
    }

    refused = await dead_letters.replay(
        sluice.redis, namespace, "doomed", [by_job[beta]], tenant="acme"
    )
    assert refused == dead_letters.ReplayResult(missing=1)
    assert (
        await dead_letters.delete(sluice.redis, namespace, "doomed", [by_job[beta]], tenant="acme")
        == 0
    )
    assert sync_redis.xlen(keys.dead) == 4 and sync_redis.xlen(keys.stream) == 0

    result = await dead_letters.replay(sluice.redis, namespace, "doomed", "all", tenant="acme")
    assert result == dead_letters.ReplayResult(replayed=2, job_ids=[acme_one, acme_two])
    assert sync_redis.hget(keys.active, "acme") == b"2"
    assert sync_redis.hget(keys.active, "beta") is None

    assert await dead_letters.delete(sluice.redis, namespace, "doomed", "all", tenant="beta") == 1
    remaining = await dead_letters.list_dead(sluice.redis, namespace, "doomed")
    assert [letter.job_id for letter in remaining] == [none]
    assert await dead_letters.delete(sluice.redis, namespace, "doomed", "all", tenant="") == 1
    assert sync_redis.xlen(keys.dead) == 0


async def test_delete_one_and_all(
    sluice: Sluice, settings: Settings, sync_redis: redis.Redis, namespace: str
) -> None:
    first, second, third = await _dead_jobs(sluice, settings, "acme", "beta", "")
    keys = keys_for(namespace, "doomed")
    newest, middle, oldest = await dead_letters.list_dead(sluice.redis, namespace, "doomed")
    deleted = await dead_letters.delete(
        sluice.redis, namespace, "doomed", [middle.entry_id, middle.entry_id]
    )
    assert deleted == 1
    assert await dead_letters.delete(sluice.redis, namespace, "doomed", middle.entry_id) == 0
    letters = await dead_letters.list_dead(sluice.redis, namespace, "doomed")
    assert [letter.job_id for letter in letters] == [third, first]
    # The jobs themselves are left as they were: failed, until RESULT_TTL.
    assert (await sluice.status(second)).status == "failed"

    assert await dead_letters.delete(sluice.redis, namespace, "doomed", "all") == 2
    assert sync_redis.xlen(keys.dead) == 0
    assert await dead_letters.delete(sluice.redis, namespace, "doomed", "all") == 0
    assert (newest.job_id, oldest.job_id) == (third, first)


@pytest.mark.any_redis
@pytest.mark.parametrize("entry_id", ["", "abc", "1-", "-1", "1-2-3", "1 -2", "+", "1-2\n"])
async def test_malformed_entry_id_is_invalid_input(
    sluice: Sluice, namespace: str, entry_id: str
) -> None:
    calls = (
        dead_letters.replay(sluice.redis, namespace, "doomed", [entry_id]),
        dead_letters.delete(sluice.redis, namespace, "doomed", ["1-1", entry_id]),
        dead_letters.list_dead(sluice.redis, namespace, "doomed", after=entry_id),
    )
    for call in calls:
        with pytest.raises(InvalidInputError) as raised:
            await call
        assert raised.value.details == {"entry_id": entry_id}
    with pytest.raises(InvalidInputError):
        await dead_letters.delete(sluice.redis, namespace, "doomed", [f"{2**64}-0"], tenant="acme")
    with pytest.raises(InvalidInputError):
        await dead_letters.list_dead(sluice.redis, namespace, "doomed", count=0)


async def test_a_dead_document_job_keeps_its_upload_and_replays(
    sluice: Sluice, settings: Settings, sync_redis: redis.Redis, namespace: str
) -> None:
    """A dead-lettered job's upload stays (expiring with its status), so the replay runs
    on the same document; a job that ended otherwise has its upload deleted."""
    job = await sluice.submit_document("digest", b"%PDF-1.4 dies", {"succeed_on": 9})
    await run_burst(settings, "digest", concurrency=1)
    keys = keys_for(namespace, "digest")
    assert (await sluice.status(job.job_id)).status == "failed"
    assert 0 < sync_redis.ttl(keys.upload(job.job_id)) <= settings.result_ttl
    replayed = await dead_letters.replay(
        sluice.redis, namespace, "digest", dead_letters.ALL, takes_document=True
    )
    assert replayed == dead_letters.ReplayResult(replayed=1, job_ids=[job.job_id])
    await run_burst(settings, "digest", concurrency=1)
    again = await sluice.status(job.job_id)
    # Its attempts read the document again (it fails after reading it, on purpose).
    assert again.status == "failed" and again.error is not None
    assert "fails on purpose" in again.error.message, again.error
    assert sync_redis.exists(keys.upload(job.job_id))
    # Among the recent failures once, though it failed twice.
    assert sync_redis.lrange(keys.failures, 0, -1) == [job.job_id.encode()]
