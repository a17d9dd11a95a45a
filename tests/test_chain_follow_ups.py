"""Chains over HTTP: a follow-up is queued with its first job's result and linked to it
both ways; a failed first job or a result the follow-up cannot take ends the follow-up
with a clear error; a relay lost with its consumer is done by the sweep; a chain naming
a function it cannot run is refused. More follow-up tests are in tests/test_chains.py.
"""

from __future__ import annotations

import httpx
import pytest
import redis

from shared.client import Sluice
from shared.keys import keys_for
from shared.settings import Settings
from tests.helpers import wait_for_status
from tests.inprocess import serving
from tests.test_documents_api import wait_for_follow_up

pytestmark = pytest.mark.any_redis


async def test_chain_queues_the_follow_up_with_the_result_and_links_both(
    gateway_http: httpx.AsyncClient, sluice: Sluice, settings: Settings
) -> None:
    """echo's result is a wall list, which bom takes: echo -> bom."""
    walls = {"walls": [{"x1": 0, "y1": 0, "x2": 3, "y2": 0, "thickness": 0.1}]}
    reply = await gateway_http.post("/v1/jobs/echo?then=bom", json=walls)
    assert reply.status_code == 202, reply.text
    first_id = reply.json()["job_id"]
    next_id = reply.json()["next_job_id"]
    assert next_id.startswith("bom-")
    async with serving(settings, "echo", "bom"):
        first = await wait_for_status(sluice, first_id, "succeeded")
        assert first.next_job_id == next_id and first.previous_job_id is None
        await wait_for_follow_up(sluice, next_id)
        follow_up = await wait_for_status(sluice, next_id, "succeeded", "failed")
    assert follow_up.status == "succeeded", follow_up.error
    assert follow_up.previous_job_id == first_id
    assert {line["key"] for line in follow_up.result_value()["lines"]} >= {"sheets"}
    status = (await gateway_http.get(f"/v1/jobs/{next_id}")).json()
    assert status["previous_job_id"] == first_id


async def test_a_failed_job_ends_its_follow_up_cancelled_naming_it(
    gateway_http: httpx.AsyncClient,
    sluice: Sluice,
    settings: Settings,
    sync_redis: redis.Redis,
    namespace: str,
) -> None:
    """The follow-up's id was handed out at submission: it must not stay 404 for ever."""
    reply = await gateway_http.post("/v1/jobs/work?then=echo", json={"permanent": True})
    job = reply.json()
    async with serving(settings, "work", "echo"):
        failed = await wait_for_status(sluice, job["job_id"], "failed")
        assert failed.next_job_id == job["next_job_id"]
        await wait_for_follow_up(sluice, job["next_job_id"])
    follow_up = (await gateway_http.get(f"/v1/jobs/{job['next_job_id']}")).json()
    assert follow_up["status"] == "cancelled" and follow_up["attempts"] == 0, follow_up
    assert follow_up["error"]["type"] == "PreviousJobFailed"
    assert job["job_id"] in follow_up["error"]["message"]
    assert "BadInput: this input can never work" in follow_up["error"]["message"]  # why
    assert follow_up["previous_job_id"] == job["job_id"]
    assert sync_redis.xlen(keys_for(namespace, "echo").stream) == 0


async def test_a_follow_up_that_cannot_take_the_result_fails_with_a_clear_error(
    sluice: Sluice, settings: Settings
) -> None:
    submission = await sluice.submit("echo", {"seconds": "not a number"}, then=["work"])
    assert submission.next_job_id is not None
    async with serving(settings, "echo", "work"):
        await wait_for_status(sluice, submission.job_id, "succeeded")
        await wait_for_follow_up(sluice, submission.next_job_id)
        follow_up = await wait_for_status(sluice, submission.next_job_id, "failed", "succeeded")
    assert follow_up.error is not None and follow_up.error.type == "InvalidInput"
    assert follow_up.attempts == 1


async def test_chain_naming_an_unknown_or_document_function_is_refused(
    gateway_http: httpx.AsyncClient,
) -> None:
    unknown = await gateway_http.post("/v1/jobs/echo?then=nope", json={})
    assert unknown.status_code == 404
    for empty in ("", ",", "echo,"):
        reply = await gateway_http.post(f"/v1/jobs/echo?then={empty}", json={})
        assert reply.status_code == 400 and reply.json()["error"]["field"] == "then", reply.text
    document = await gateway_http.post("/v1/jobs/echo?then=render", json={})
    assert document.status_code == 400 and document.json()["error"]["field"] == "then"
    too_long = await gateway_http.post("/v1/jobs/echo?then=" + ",".join(["echo"] * 17), json={})
    assert too_long.status_code == 400 and too_long.json()["error"]["field"] == "then"
    longest = await gateway_http.post("/v1/jobs/echo?then=" + ",".join(["echo"] * 16), json={})
    assert longest.status_code == 202, longest.text


async def test_a_follow_up_whose_relay_was_lost_is_queued_by_the_sweep(
    sluice: Sluice, settings: Settings, sync_redis: redis.Redis, namespace: str
) -> None:
    """A consumer that died right after completing left its follow-up in the outbox."""
    submission = await sluice.submit("echo", {"walls": []}, then=["echo"])
    assert submission.next_job_id is not None
    keys = keys_for(namespace, "echo")
    # What the completion script leaves behind when its consumer dies before relaying.
    sync_redis.hset(
        keys.job(submission.job_id),
        mapping={"status": "succeeded", "result": '{"relayed": "late"}'},
    )
    sync_redis.xadd(
        keys.chain, {"job_id": submission.job_id, "next_job_id": submission.next_job_id}
    )
    sync_redis.delete(keys.stream)  # the first job's own entry is done with
    async with serving(settings, "echo"):
        await wait_for_follow_up(sluice, submission.next_job_id)
        follow_up = await wait_for_status(sluice, submission.next_job_id, "succeeded", timeout=20)
    assert follow_up.result_value() == {"relayed": "late"}
    assert sync_redis.xlen(keys.chain) == 0
