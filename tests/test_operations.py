"""What operators watch and do, through a real gateway and a real consumer process:
/metrics parsed with prometheus_client's parser and checked against Redis, the admin API's
numbers, and pause and resume."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from shared.keys import GROUP, keys_for
from shared.settings import Settings
from tests.conftest import Proc

pytestmark = pytest.mark.any_redis

ADMIN = "sk_admin_for_operations"
TOKEN = "metrics-token-for-the-scraper"
HEADERS = {"Authorization": f"Bearer {ADMIN}"}


@pytest.fixture
def gateway(start_gateway: Callable[..., str]) -> str:
    return start_gateway(SLUICE_ADMIN_KEY=ADMIN, METRICS_TOKEN=TOKEN)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape by (name, sorted labels)."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(found: dict[Any, float], name: str, **labels: str) -> float:
    return found[(name, tuple(sorted(labels.items())))]


def submit(client: httpx.Client, function: str, body: Any, query: str = "") -> str:
    reply = client.post(f"/v1/jobs/{function}{query}", json=body)
    assert reply.status_code == 202, reply.text
    job_id: str = reply.json()["job_id"]
    return job_id


def wait_until(client: httpx.Client, job_id: str, *statuses: str) -> dict[str, Any]:
    """Long-poll the job's status until it is one of ``statuses``."""
    deadline = time.monotonic() + 30
    status: dict[str, Any] = client.get(f"/v1/jobs/{job_id}").json()
    while status["status"] not in statuses:
        assert time.monotonic() < deadline, status
        status = client.get(f"/v1/jobs/{job_id}", params={"wait": 5}).json()
    return status


def test_metrics_count_what_happened_and_read_redis(
    gateway: str,
    start_consumer: Callable[..., Proc],
    settings: Settings,
    sync_redis: redis.Redis,
) -> None:
    keys = keys_for(settings.namespace, "work")
    start_consumer("work")
    with httpx.Client(base_url=gateway, headers=HEADERS, timeout=20) as client:
        ended = [
            submit(client, "work", {}),
            submit(client, "work", {"seconds": 0.2}),
            submit(client, "work", {"succeed_on": 2}),  # one retry, then succeeds
            submit(client, "work", {"permanent": True}),  # fails at once
            submit(client, "work", {"succeed_on": 9}),  # 3 attempts: dead-lettered
        ]
        for job_id in ended:
            wait_until(client, job_id, "succeeded", "failed")
        delayed = submit(client, "work", {}, "?delay=600")
        assert client.delete(f"/v1/jobs/{submit(client, 'work', {}, '?delay=600')}").is_success
        scrape = client.get("/metrics")
    assert scrape.status_code == 200
    assert scrape.headers["content-type"].startswith("text/plain; version=0.0.4")
    found = samples(scrape.text)
    jobs = {
        outcome: value(found, "sluice_jobs_total", function="work", outcome=outcome)
        for outcome in ("succeeded", "failed", "retried", "cancelled", "dead_lettered")
    }
    assert jobs == {
        "succeeded": 3,
        "failed": 2,
        "retried": 3,  # the retried job once, the dead-lettered one twice
        "cancelled": 1,
        "dead_lettered": 1,
    }
    # Attempts that ran: 3 succeeded, 1 permanent, 1 + 3 failing; first attempts: 5.
    assert value(found, "sluice_job_duration_seconds_count", function="work") == 8
    assert value(found, "sluice_job_duration_seconds_bucket", function="work", le="+Inf") == 8
    assert value(found, "sluice_job_duration_seconds_sum", function="work") >= 0.2
    assert value(found, "sluice_job_duration_seconds_bucket", function="work", le="0.1") <= 7
    assert value(found, "sluice_queue_wait_seconds_count", function="work") == 5
    # The gauges are what Redis holds.
    [group] = sync_redis.xinfo_groups(keys.stream)
    assert value(found, "sluice_backlog", function="work") == sync_redis.xlen(keys.stream) == 0
    assert value(found, "sluice_lag", function="work") == group["lag"] == 0
    assert value(found, "sluice_pending", function="work") == group["pending"] == 0
    assert value(found, "sluice_scheduled", function="work") == 1
    assert sync_redis.zscore(keys.scheduled, delayed) is not None
    assert value(found, "sluice_dead_letters", function="work") == sync_redis.xlen(keys.dead) == 1
    assert value(found, "sluice_consumers", function="work") == 1
    assert value(found, "sluice_paused", function="work") == 0
    assert value(found, "sluice_oldest_queued_seconds", function="work") == 0
    # Another function, never used: zeros, and no lag (it has no group yet).
    assert value(found, "sluice_backlog", function="echo") == 0
    assert ("sluice_lag", (("function", "echo"),)) not in found
    # Every bucket of every histogram is there from the start (a series must not appear
    # midway, and buckets summed across functions must stay cumulative).
    for le in ("0.1", "1.0", "1800.0", "+Inf"):
        assert value(found, "sluice_job_duration_seconds_bucket", function="echo", le=le) == 0


def test_metrics_need_the_admin_key_or_the_metrics_token(gateway: str) -> None:
    assert httpx.get(f"{gateway}/metrics").status_code == 401
    tenant_key = httpx.post(
        f"{gateway}/v1/admin/keys", headers=HEADERS, json={"tenant": "acme"}
    ).json()["key"]
    assert (
        httpx.get(
            f"{gateway}/metrics", headers={"Authorization": f"Bearer {tenant_key}"}
        ).status_code
        == 403
    )
    assert (
        httpx.get(f"{gateway}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code
        == 200
    )
    # The token reads /metrics and nothing else.
    reply = httpx.get(f"{gateway}/v1/admin/functions", headers={"Authorization": f"Bearer {TOKEN}"})
    assert reply.status_code == 401


def test_the_oldest_queued_age_and_lag_grow_with_waiting_jobs(
    gateway: str, settings: Settings, sync_redis: redis.Redis
) -> None:
    keys = keys_for(settings.namespace, "work")
    sync_redis.xgroup_create(keys.stream, GROUP, id="0", mkstream=True)
    with httpx.Client(base_url=gateway, headers=HEADERS, timeout=20) as client:
        first = submit(client, "work", {})
        submit(client, "work", {})
        entry_id = sync_redis.hget(keys.job(first), "entry_id")
        assert isinstance(entry_id, bytes)
        queued_ms = int(entry_id.split(b"-")[0])
        before = time.time()
        [stats] = [
            s
            for s in client.get("/v1/admin/functions").json()["functions"]
            if s["function"] == "work"
        ]
        after = time.time()
    assert stats["backlog"] == 2 and stats["lag"] == 2 and stats["running"] == 0
    assert before - queued_ms / 1000 - 0.01 <= stats["oldest_queued_seconds"]
    assert stats["oldest_queued_seconds"] <= after - queued_ms / 1000 + 0.01


def test_a_paused_function_queues_jobs_and_starts_them_once_resumed(
    gateway: str, start_consumer: Callable[..., Proc], settings: Settings
) -> None:
    start_consumer("work")
    with httpx.Client(base_url=gateway, headers=HEADERS, timeout=20) as client:
        running = submit(client, "work", {"seconds": 1.0})
        wait_until(client, running, "running")
        paused = client.post("/v1/admin/functions/work/pause")
        assert paused.json() == {"function": "work", "paused": True}
        waiting = submit(client, "work", {})
        # The running job finishes; the new one is queued, says so, and stays queued.
        assert wait_until(client, running, "succeeded")["status"] == "succeeded"
        status = client.get(f"/v1/jobs/{waiting}", params={"wait": 2}).json()
        assert status["status"] == "queued" and status["paused"] is True
        stats = client.get("/v1/admin/functions/work").json()["stats"]
        assert stats["paused"] is True and stats["backlog"] == 1
        assert 'sluice_paused{function="work"} 1.0' in client.get("/metrics").text
        resumed = client.post("/v1/admin/functions/work/resume")
        assert resumed.json() == {"function": "work", "paused": False}
        done = wait_until(client, waiting, "succeeded")
        assert done["paused"] is False
        assert client.post("/v1/admin/functions/nope/pause").status_code == 404


def test_a_metrics_token_is_asked_for_even_on_an_open_gateway(
    start_gateway: Callable[..., str],
) -> None:
    gateway = start_gateway(METRICS_TOKEN=TOKEN)  # no keys: open
    assert httpx.get(f"{gateway}/metrics").status_code == 401
    assert (
        httpx.get(f"{gateway}/metrics", headers={"Authorization": "Bearer wrong"}).status_code
        == 401
    )
    assert (
        httpx.get(f"{gateway}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code
        == 200
    )
    assert httpx.get(f"{gateway}/v1/admin/functions").status_code == 200  # the rest stays open
