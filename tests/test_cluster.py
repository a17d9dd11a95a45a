"""The platform on a real Redis Cluster (Redis 7.0, 3 masters + 3 replicas): the behaviour
of the other tests, with functions placed on different masters, and two failovers under
a steady submit load (a coordinated CLUSTER FAILOVER, and a master SIGKILLed). One cluster
serves the module; each test has its own namespace. REDIS_URL names a node of the shard
no test fails over."""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from structlog.testing import capture_logs

from consumers.worker import Worker
from shared.client import Sluice
from shared.embedded import RedisServer
from shared.function_stats import function_detail, function_stats
from shared.functions import get_function
from shared.jobs import FINAL_STATUSES
from shared.keys import GROUP, keys_for
from shared.redis import connect
from shared.script_calls import release_call
from shared.scripts import run_batched, run_command
from shared.settings import Settings
from tests.cluster import LocalCluster
from tests.cluster_failover import FAILED_OVER, run_failover
from tests.conftest import Proc, _binary, process_env
from tests.helpers import effects, wait_for_lines, wait_for_status
from tests.inprocess import asgi_client, run_burst

# Their streams' slots (the name is the hash tag) are on three different masters of a
# cluster made by redis-cli: crash 1260, work 6132, async_work 15517 (FAILED_OVER).
ELSEWHERE = "crash"  # on the shard no test fails over: REDIS_URL names its master


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    local = LocalCluster(_binary("7.0"), tmp_path_factory.mktemp("cluster"))
    local.start()
    yield local
    local.stop()


def stream_of(namespace: str, function: str) -> str:
    return keys_for(namespace, function).stream


@pytest.fixture
def env(cluster: LocalCluster, namespace: str) -> dict[str, str]:
    """The environment of tests/conftest.py, on the cluster (this overrides its ``env``,
    so its ``settings``, ``sluice`` and ``start_consumer`` fixtures use the cluster)."""
    node = cluster.master_of(stream_of(namespace, ELSEWHERE)).url
    return {**process_env(node, namespace), "REDIS_CLUSTER": "1"}


@pytest.fixture
def sync_redis(settings: Settings) -> Iterator[redis.RedisCluster]:
    client = redis.RedisCluster.from_url(settings.redis_url)
    yield client
    client.close()


def job_keys(cluster: LocalCluster, namespace: str, function: str) -> list[bytes]:
    """The function's job hashes, read on the node that holds them all (its slot's)."""
    keys = keys_for(namespace, function)
    with cluster.client(cluster.master_of(keys.stream)) as node:
        return sorted(node.scan_iter(match=keys.job("*")))


async def test_functions_on_different_masters_run(
    cluster: LocalCluster,
    sluice: Sluice,
    start_consumer: Callable[..., Proc],
    namespace: str,
    tmp_path: Path,
) -> None:
    """A sync and an async function, whose keys are on different masters, each run its
    job once, by one consumer serving both."""
    masters = {f: cluster.master_of(stream_of(namespace, f)) for f in ("work", "async_work")}
    assert masters["work"] is not masters["async_work"]
    assert all(cluster.role(node) == "master" for node in masters.values())
    start_consumer("work", "async_work")
    effect = tmp_path / "effect"
    jobs = {f: (await sluice.submit(f, {"effect_path": str(effect)})).job_id for f in masters}

    for function, job_id in jobs.items():
        done = await wait_for_status(sluice, job_id, *FINAL_STATUSES)
        assert done.status == "succeeded" and done.attempts == 1, done
        assert (await sluice.result(job_id))["attempt"] == 1
        job_key = keys_for(namespace, function).job(job_id)
        assert job_keys(cluster, namespace, function) == [job_key.encode()]
    assert sorted(row[0] for row in effects(effect)) == sorted(jobs.values())


async def test_retry_then_dead_letter(
    sluice: Sluice,
    sync_redis: redis.RedisCluster,
    start_consumer: Callable[..., Proc],
    namespace: str,
    tmp_path: Path,
) -> None:
    """A job failing once succeeds on its 2nd attempt; one failing every attempt ends
    failed after max_attempts (3), in its function's dead-letter stream."""
    start_consumer("work")
    effect = tmp_path / "effect"
    retried = await sluice.submit("work", {"effect_path": str(effect), "succeed_on": 2})
    doomed = await sluice.submit("work", {"effect_path": str(effect), "succeed_on": 9})

    done = await wait_for_status(sluice, retried.job_id, *FINAL_STATUSES)
    assert done.status == "succeeded" and done.attempts == 2, done
    failed = await wait_for_status(sluice, doomed.job_id, *FINAL_STATUSES)
    assert failed.status == "failed" and failed.attempts == 3, failed
    assert failed.error is not None and "attempt 3" in failed.error.message
    starts = collections.Counter(row[0] for row in effects(effect, "start"))
    assert starts == {retried.job_id: 2, doomed.job_id: 3}
    assert [row[0] for row in effects(effect)] == [retried.job_id]
    keys = keys_for(namespace, "work")
    dead: list[tuple[bytes, dict[bytes, bytes]]] = sync_redis.xrange(keys.dead)  # type: ignore[assignment]
    assert [fields[b"job_id"].decode() for _, fields in dead] == [doomed.job_id]
    assert sync_redis.xlen(keys.stream) == 0
    # The operators' numbers read on a cluster too (each function's keys in its slot).
    stats = await function_stats(sluice.redis, namespace, ["work", "echo"])
    jobs = stats[1].jobs_total
    assert (jobs["succeeded"], jobs["failed"], jobs["retried"], jobs["dead_lettered"]) == (
        1,
        1,
        3,
        1,
    )
    assert stats[1].dead_letters == 1 and stats[1].lag == 0 and stats[0].backlog == 0
    detail = await function_detail(sluice.redis, namespace, "work")
    assert detail.recent_failures == [doomed.job_id]
    assert sum(minute.succeeded for minute in detail.last_hour) == 1


async def test_cancelled_queued_job_never_runs(
    sluice: Sluice,
    sync_redis: redis.RedisCluster,
    start_consumer: Callable[..., Proc],
    namespace: str,
    tmp_path: Path,
) -> None:
    effect = tmp_path / "effect"
    cancelled = await sluice.submit("work", {"effect_path": str(effect)})
    assert (await sluice.cancel(cancelled.job_id)).status == "cancelled"
    start_consumer("work")
    after = await sluice.submit("work", {"effect_path": str(effect)})

    assert (await wait_for_status(sluice, after.job_id, *FINAL_STATUSES)).status == "succeeded"
    assert (await sluice.status(cancelled.job_id)).status == "cancelled"
    assert [row[0] for row in effects(effect, "start")] == [after.job_id]
    assert sync_redis.xlen(keys_for(namespace, "work").stream) == 0


async def test_same_idempotency_key_twice_is_one_job(
    cluster: LocalCluster, sluice: Sluice, sync_redis: redis.RedisCluster, namespace: str
) -> None:
    first = await sluice.submit("work", {"seconds": 1}, idempotency_key="order-42")
    second = await sluice.submit("work", {"seconds": 1}, idempotency_key="order-42")
    assert second.job_id == first.job_id and second.replayed and not first.replayed
    keys = keys_for(namespace, "work")
    assert sync_redis.xlen(keys.stream) == 1
    assert job_keys(cluster, namespace, "work") == [keys.job(first.job_id).encode()]


async def test_jobs_while_their_slot_migrates(
    cluster: LocalCluster, sluice: Sluice, settings: Settings, namespace: str
) -> None:
    """A reshard moves a function's slot to another master. Once its keys have moved, the
    old master answers ASK: a command is sent on to the new one behind ASKING. A
    submission, whose script makes new keys, is answered TRYAGAIN until the slot has
    moved: the gateway says 503 (retry), and afterwards the jobs are there and run."""
    keys = keys_for(namespace, "echo")
    before = (await sluice.submit("echo", {"said": "before"})).job_id
    source = cluster.master_of(keys.stream)
    masters = [node for node in cluster.live() if cluster.role(node) == "master"]
    target = next(node for node in masters if node is not source)
    with cluster.client(source) as old, cluster.client(target) as new:
        slot = int(old.execute_command("CLUSTER", "KEYSLOT", keys.stream))
        old_id, new_id = (c.execute_command("CLUSTER", "MYID") for c in (old, new))
        new.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", old_id)
        old.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", new_id)
        moving = old.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 1000)
        old.execute_command("MIGRATE", "127.0.0.1", target.port, "", 0, 5000, "KEYS", *moving)
        assert await run_command(sluice.redis, "XLEN", keys.stream, key=keys.stream) == 1
        async with asgi_client(settings) as http:
            reply = await http.post("/v1/jobs/echo", json={"said": "during"})
        assert reply.status_code == 503, reply.text
        assert reply.json()["error"]["type"] == "unavailable"
        assert "rehashing of slot" in reply.json()["error"]["message"]
        for node in masters:  # the migration ends: the slot is the new master's
            with cluster.client(node) as client:
                client.execute_command("CLUSTER", "SETSLOT", slot, "NODE", new_id)
        after = (await sluice.submit("echo", {"said": "after"})).job_id
        assert all(new.exists(keys.job(job_id)) for job_id in (before, after))
    await run_burst(settings, "echo")
    for job_id, said in ((before, "before"), (after, "after")):
        assert (await sluice.status(job_id)).status == "succeeded"
        assert await sluice.result(job_id) == {"said": said}


async def test_chain_across_masters(
    cluster: LocalCluster,
    sluice: Sluice,
    start_consumer: Callable[..., Proc],
    namespace: str,
    tmp_path: Path,
) -> None:
    """echo -> work -> async_work: each result moves to a function on another master
    (through the completing function's outbox), and each job runs once."""
    chain = ("echo", "work", "async_work")
    masters = [cluster.master_of(stream_of(namespace, f)) for f in chain]
    assert masters[0] is not masters[1] and masters[1] is not masters[2]
    start_consumer(*chain)
    effect = tmp_path / "effect"
    first = await sluice.submit("echo", {"effect_path": str(effect)}, then=list(chain[1:]))

    job_id: str | None = first.job_id
    finished = []
    while job_id is not None:
        done = await sluice.wait(job_id, timeout=30, missing_ok=True)
        assert done.status == "succeeded", done
        finished.append(done)
        job_id = done.next_job_id
    assert [done.function for done in finished] == list(chain)
    work_result = finished[1].result_value()
    assert finished[2].result_value() == {"slept": work_result["slept"], "attempt": 1}
    (effect_row,) = effects(effect)
    assert effect_row[0] == finished[1].job_id


async def test_consumer_killed_mid_job_is_finished_by_another(
    sluice: Sluice,
    sync_redis: redis.RedisCluster,
    start_consumer: Callable[..., Proc],
    namespace: str,
    tmp_path: Path,
) -> None:
    consumers = {proc.pid: proc for proc in (start_consumer("work"), start_consumer("work"))}
    keys = keys_for(namespace, "work")
    effect = tmp_path / "effect"
    job_id = (await sluice.submit("work", {"seconds": 2, "effect_path": str(effect)})).job_id

    await wait_for_lines(effect, "start", 1)
    owner = sync_redis.hget(keys.job(job_id), "consumer")
    assert isinstance(owner, bytes) and owner
    consumers.pop(int(owner.rsplit(b"-", 1)[1])).kill()

    done = await wait_for_status(sluice, job_id, *FINAL_STATUSES)
    assert done.status == "succeeded" and done.attempts == 2, done
    assert [row[1] for row in effects(effect, "start")] == ["1", "2"]
    assert [row[:2] for row in effects(effect)] == [[job_id, "2"]]
    assert sync_redis.xlen(keys.stream) == 0
    assert sync_redis.xpending(keys.stream, GROUP)["pending"] == 0


async def test_coordinated_failover_loses_nothing(
    cluster: LocalCluster,
    settings: Settings,
    start_consumer: Callable[..., Proc],
    tmp_path: Path,
) -> None:
    """CLUSTER FAILOVER on the replica: the master stops taking writes until its replica
    has them all, then they swap roles. Every acknowledged job succeeds, exactly once."""

    async def fail_over(master: RedisServer, replica: RedisServer) -> None:
        with cluster.client(replica) as client:
            client.execute_command("CLUSTER", "FAILOVER")

    run = await run_failover(cluster, settings, start_consumer, tmp_path, fail_over)
    assert collections.Counter(run.statuses.values()) == {"succeeded": len(run.statuses)}
    assert run.ran == {job_id: 1 for job_id in run.statuses}
    cluster.wait_ok()


async def test_killed_master_replica_takes_over(
    cluster: LocalCluster,
    settings: Settings,
    start_consumer: Callable[..., Proc],
    tmp_path: Path,
) -> None:
    """SIGKILL of the master: its replica is promoted after the node timeout. Replication
    is asynchronous, so the writes of the last moment before the kill may be lost: a job
    acknowledged then may be missing, a completion written then may be lost and its job
    run again (counted and printed). What holds whatever is lost: every job there ends
    succeeded, none acknowledged after the promotion is lost, and only a job whose effect
    happened just before the kill may run twice."""
    killed: list[RedisServer] = []
    calls = [
        release_call(keys_for(settings.namespace, function), entry_id=b"0-1", consumer="c",
                     job_id="", visibility_ms=1000)
        for function in (FAILED_OVER, ELSEWHERE)
    ]  # fmt: skip
    across: list[Any] = []  # the replies of a batch across the killed master and another

    async def fail_over(master: RedisServer, replica: RedisServer) -> None:
        master.kill()
        killed.append(master)
        async with connect(settings.redis_url, cluster=True) as client:
            across.extend(await run_batched(client, calls))
            with pytest.raises(RedisConnectionError):
                await run_batched(client, calls[:1])  # none answered: raised, as on one Redis

    try:
        run = await run_failover(cluster, settings, start_consumer, tmp_path, fail_over)
    finally:
        for node in killed:  # back, as a replica of the promoted one
            node.start()
        cluster.wait_ok()
    assert isinstance(across[0], RedisConnectionError), across
    assert isinstance(across[1], ResponseError) and "NOGROUP" in str(across[1]), across
    finals = collections.Counter(run.statuses.values())
    assert set(finals) <= {"succeeded", "missing"}, finals
    after = [job_id for at, job_id in run.load.acknowledged if at > run.promoted_at]
    assert after and all(run.statuses[job_id] == "succeeded" for job_id in after)
    first_effect: dict[str, float] = {}
    for row in effects(tmp_path / "effect"):
        first_effect.setdefault(row[0], float(row[4]))
    twice = [job_id for job_id, count in run.ran.items() if count > 1]
    assert all(run.began - 1.0 <= first_effect[job_id] <= run.began for job_id in twice)


async def test_an_unreachable_cluster_is_an_outage_not_a_crash(nowhere: str) -> None:
    """No node answers: the gateway says 503 (retry later), not 500, and a consumer
    waits for the cluster instead of exiting (redis-py's RedisClusterException is no
    RedisError)."""
    settings = Settings(
        redis_url=nowhere, redis_cluster=True, function_modules=("tests.functions",)
    )
    async with asgi_client(settings) as http:
        reply = await http.post("/v1/jobs/async_work", json={})
    assert reply.status_code == 503, reply.text
    assert reply.json()["error"]["type"] == "unavailable"
    spec = get_function("async_work")
    assert spec is not None
    worker = Worker(settings, [spec], concurrency=1, name="lonely")
    run = asyncio.create_task(worker.run())
    await asyncio.sleep(0)
    with capture_logs() as logs:
        while not any(line["event"] == "redis_unavailable" for line in logs):
            assert not run.done(), run
            await asyncio.sleep(0.05)
    worker.stop()
    await asyncio.wait_for(run, 30)
    assert not worker.crashed
