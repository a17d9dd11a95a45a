"""A burst worker in the test's process and the gateway through an ASGI transport: the
way logic tests run the platform (tests/inprocess.py), and `python -m consumers --burst`."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
from structlog.testing import capture_logs

from shared.client import Sluice
from shared.settings import Settings
from tests.conftest import ROOT
from tests.inprocess import run_burst


async def submit(http: httpx.AsyncClient, function: str, body: dict[str, object]) -> str:
    reply = await http.post(f"/v1/jobs/{function}", json=body)
    assert reply.status_code == 202, reply.text
    return str(reply.json()["job_id"])


async def test_a_burst_runs_the_queued_jobs_and_returns(
    gateway_http: httpx.AsyncClient, settings: Settings
) -> None:
    jobs = [await submit(gateway_http, "async_work", {}) for _ in range(3)]
    jobs.append(await submit(gateway_http, "work", {}))
    with capture_logs() as logs:
        await run_burst(settings, "async_work", "work")
    for job_id in jobs:
        status = (await gateway_http.get(f"/v1/jobs/{job_id}")).json()
        assert status["status"] == "succeeded", status
    events = [entry["event"] for entry in logs]
    assert events.count("job_succeeded") == 4, events
    assert "burst_done" in events


async def test_a_burst_waits_for_retries_before_it_returns(
    gateway_http: httpx.AsyncClient, settings: Settings
) -> None:
    """A failed attempt's entry stays in the stream until it is retried: not done yet."""
    job_id = await submit(gateway_http, "work", {"succeed_on": 3})
    await run_burst(settings, "work")
    status = (await gateway_http.get(f"/v1/jobs/{job_id}")).json()
    assert status["status"] == "succeeded" and status["attempts"] == 3, status


async def test_a_burst_with_nothing_queued_returns_at_once(
    settings: Settings, sluice: Sluice
) -> None:
    worker = await run_burst(settings, "work", timeout=10)
    assert worker.slots.running == {}


async def test_consumer_cli_burst_exits_once_drained(env: dict[str, str], sluice: Sluice) -> None:
    """`python -m consumers work --burst` as an operator runs it: exit 0 when drained."""
    job_id = (await sluice.submit("work", {})).job_id
    done = subprocess.run(
        [sys.executable, "-m", "consumers", "work", "--burst"], env=env, cwd=ROOT,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [json.loads(line) for line in (done.stdout + done.stderr).splitlines()]
    assert [line["event"] for line in lines if line.get("job_id") == job_id][-1] == (
        "job_succeeded"
    )
    assert lines[-2]["event"] == "burst_done" or "burst_done" in [x["event"] for x in lines]
    assert (await sluice.status(job_id)).status == "succeeded"
