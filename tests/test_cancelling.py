"""Cancelling jobs: a queued one never runs, a running one stops while its consumer lives
on, a finished one is a conflict; ids that name no job (unknown, malformed, expired) are
404. The gateway and the workers run in the test's process (tests/inprocess.py).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
from structlog.contextvars import merge_contextvars
from structlog.testing import capture_logs

from shared.client import Sluice
from shared.settings import Settings
from tests.helpers import effects, wait_for_lines, wait_for_status, wait_gone
from tests.inprocess import asgi_client, run_burst, serving


async def test_cancelled_queued_job_never_runs(
    gateway_http: httpx.AsyncClient, settings: Settings, tmp_path: Path
) -> None:
    http = gateway_http
    effect = tmp_path / "effect"
    job_id = (await http.post("/v1/jobs/work", json={"effect_path": str(effect)})).json()["job_id"]
    reply = await http.delete(f"/v1/jobs/{job_id}")
    assert reply.status_code == 200
    assert reply.json()["status"] == "cancelled"
    status = (await http.get(f"/v1/jobs/{job_id}")).json()
    assert status["status"] == "cancelled" and status["finished_at"] is not None
    assert status["attempts"] == 0

    later = (await http.post("/v1/jobs/work", json={"effect_path": str(effect)})).json()["job_id"]
    # A burst returns once the stream is empty and nothing runs: had the cancelled job's
    # entry stayed, the worker would have met it by then.
    with capture_logs(processors=[merge_contextvars]) as logs:
        await run_burst(settings, "work")
    assert (await http.get(f"/v1/jobs/{later}")).json()["status"] == "succeeded"
    assert [row[0] for row in effects(effect, "start")] == [later]
    assert [line for line in logs if line.get("job_id") == job_id] == []
    assert [line["event"] for line in logs if line.get("job_id") == later][-1] == "job_succeeded"
    assert (await http.get(f"/v1/jobs/{job_id}")).json()["status"] == "cancelled"
    again = await http.delete(f"/v1/jobs/{job_id}")
    assert again.status_code == 409


async def test_cancelled_running_job_stops_and_the_consumer_lives_on(
    gateway_http: httpx.AsyncClient, sluice: Sluice, settings: Settings, tmp_path: Path
) -> None:
    http = gateway_http
    effect = tmp_path / "effect"
    async with serving(settings, "work", concurrency=1) as consumer:
        reply = await http.post("/v1/jobs/work", json={"seconds": 10, "effect_path": str(effect)})
        job_id = reply.json()["job_id"]
        [started] = await wait_for_lines(effect, "start", 1)
        await wait_for_status(sluice, job_id, "running", timeout=5)

        asked = time.monotonic()
        reply = await http.delete(f"/v1/jobs/{job_id}")
        assert reply.status_code == 202
        assert reply.json()["status"] == "running"
        done = await wait_for_status(sluice, job_id, "cancelled", "succeeded", "failed", timeout=5)
        assert done.status == "cancelled", done
        assert time.monotonic() - asked < 3.0
        assert done.finished_at is not None and done.result is None
        await wait_gone(int(started[2]))
        assert effects(effect) == []

        # Alive: not stopping (and serving checks, at the block's end, it never stopped).
        assert not consumer.lifecycle.stopped and not consumer.crashed
        after = (await http.post("/v1/jobs/work", json={"seconds": 0.1})).json()["job_id"]
        assert (await wait_for_status(sluice, after, "succeeded", "failed")).status == "succeeded"
        assert effects(effect) == []
        assert (await http.get(f"/v1/jobs/{job_id}")).json()["status"] == "cancelled"


async def test_cancelling_a_finished_job_is_a_conflict(
    gateway_http: httpx.AsyncClient, sluice: Sluice, settings: Settings
) -> None:
    http = gateway_http
    job_id = (await http.post("/v1/jobs/echo", json={"a": 1})).json()["job_id"]
    await run_burst(settings, "echo")
    await wait_for_status(sluice, job_id, "succeeded", timeout=10)
    reply = await http.delete(f"/v1/jobs/{job_id}")
    assert reply.status_code == 409
    assert reply.json()["error"]["type"] == "conflict"
    status = (await http.get(f"/v1/jobs/{job_id}")).json()
    assert status["status"] == "succeeded" and status["result"] == {"a": 1}


async def test_unknown_malformed_and_expired_ids_are_404(env: dict[str, str]) -> None:
    settings = Settings.from_env({**env, "RESULT_TTL": "1"})
    async with asgi_client(settings) as http:
        job_id = (await http.post("/v1/jobs/echo", json={"a": 1})).json()["job_id"]
        await run_burst(settings, "echo")
        assert (await http.get(f"/v1/jobs/{job_id}")).json()["status"] == "succeeded"
        finished = time.monotonic()
        while (await http.get(f"/v1/jobs/{job_id}")).status_code == 200:
            assert time.monotonic() - finished < 4, "the finished job did not expire"
            await asyncio.sleep(0.05)

        ids = {
            "expired": job_id,
            "unknown": "echo-" + "0" * 32,
            "unknown function": "nosuch-" + "0" * 32,
            "malformed": "not-a-job-id",
            "short": "echo-1234",
            "upper case": "ECHO-" + "A" * 32,
        }
        for what, bad in ids.items():
            for method in ("GET", "DELETE"):
                reply = await http.request(method, f"/v1/jobs/{bad}")
                assert reply.status_code == 404, (what, method, reply.text)
                assert reply.json()["error"]["type"] == "job_not_found", (what, method)
            assert (await http.get(f"/v1/jobs/{bad}/result")).status_code == 404, what
