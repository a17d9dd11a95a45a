"""Follow-ups that cannot run still end, and never push their function's backlog past its
bound: a cancelled job's follow-up ends cancelled; a chain whose follow-up queue is full
is refused at submission (429), and a follow-up that finds it full when its turn comes
ends failed (QueueFull)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import redis

from shared.client import Sluice
from shared.errors import JobNotFoundError
from shared.keys import keys_for
from shared.settings import Settings
from tests.helpers import wait_for_status
from tests.inprocess import serving
from tests.test_documents_api import wait_for_follow_up


async def test_a_cancelled_job_ends_its_follow_up_cancelled(
    gateway_http: httpx.AsyncClient, sluice: Sluice, settings: Settings
) -> None:
    queued = (await gateway_http.post("/v1/jobs/work?then=echo", json={})).json()
    assert (await gateway_http.delete(f"/v1/jobs/{queued['job_id']}")).status_code == 200
    follow_up = (await gateway_http.get(f"/v1/jobs/{queued['next_job_id']}")).json()
    assert follow_up["status"] == "cancelled", follow_up
    assert follow_up["error"]["type"] == "PreviousJobCancelled"
    assert queued["job_id"] in follow_up["error"]["message"]

    async with serving(settings, "work", "echo"):
        reply = await gateway_http.post("/v1/jobs/work?then=echo", json={"seconds": 30})
        running = reply.json()
        await wait_for_status(sluice, running["job_id"], "running")
        assert (await gateway_http.delete(f"/v1/jobs/{running['job_id']}")).status_code == 202
        await wait_for_status(sluice, running["job_id"], "cancelled")
        await wait_for_follow_up(sluice, running["next_job_id"])
        ended = await wait_for_status(sluice, running["next_job_id"], "cancelled")
    assert ended.error is not None and ended.error.type == "PreviousJobCancelled"


async def test_a_chain_whose_follow_up_queue_is_full_is_429_at_submission(
    gateway_http: httpx.AsyncClient, sync_redis: redis.Redis, namespace: str
) -> None:
    for _ in range(2):  # tiny_queue holds 2; nothing consumes it here
        assert (await gateway_http.post("/v1/jobs/tiny_queue", json={})).status_code == 202
    reply = await gateway_http.post("/v1/jobs/echo?then=tiny_queue", json={})
    assert reply.status_code == 429, reply.text
    error = reply.json()["error"]
    assert error["type"] == "queue_full" and "tiny_queue" in error["message"]
    assert int(reply.headers["retry-after"]) >= 1
    assert not sync_redis.exists(keys_for(namespace, "echo").stream)


async def test_follow_ups_never_push_a_backlog_past_its_bound(
    gateway_http: httpx.AsyncClient,
    sluice: Sluice,
    settings: Settings,
    sync_redis: redis.Redis,
    namespace: str,
) -> None:
    """Ten chains accepted while tiny_queue was empty: two follow-ups fit, the others end
    failed QueueFull (tiny_queue has no consumer, so its backlog stays)."""
    replies = [await gateway_http.post("/v1/jobs/echo?then=tiny_queue", json={}) for _ in range(10)]
    assert {reply.status_code for reply in replies} == {202}
    outcomes = []
    async with serving(settings, "echo"):
        for reply in replies:
            next_id = reply.json()["next_job_id"]
            await wait_for_follow_up(sluice, next_id)
            outcomes.append(await sluice.status(next_id))
    assert sync_redis.xlen(keys_for(namespace, "tiny_queue").stream) == 2
    assert sorted(status.status for status in outcomes) == ["failed"] * 8 + ["queued"] * 2
    full = [status.error for status in outcomes if status.error is not None]
    assert {error.type for error in full} == {"QueueFull"}, full
    assert "its bound is 2" in full[0].message


async def test_wait_takes_a_follow_up_that_is_not_queued_yet(sluice: Sluice) -> None:
    """Its id is not found until the job before it ends: missing_ok waits for it."""
    submission = await sluice.submit("work", {}, then=["echo"])
    assert submission.next_job_id is not None
    with pytest.raises(JobNotFoundError):
        await sluice.wait(submission.next_job_id, timeout=1)
    with pytest.raises(TimeoutError, match="not found"):
        await sluice.wait(submission.next_job_id, timeout=0.3, missing_ok=True)
    await sluice.cancel(submission.job_id)  # its follow-up ends: found, and final
    ended = await sluice.wait(submission.next_job_id, timeout=5, missing_ok=True)
    assert ended.status == "cancelled"


WALLS = {"walls": [{"x1": 0, "y1": 0, "x2": 3, "y2": 0, "thickness": 0.1}], "units": "m"}


def wall_area(bill: dict[str, Any]) -> float:
    """3 m of wall times the ceiling height used."""
    return float(bill["totals"]["wall_area_m2"])


async def test_a_follow_up_takes_its_own_parameters_from_the_query_string_or_json(
    gateway_http: httpx.AsyncClient, sluice: Sluice, settings: Settings
) -> None:
    """?then=bom&bom.ceiling_height_mm=2400 (was ignored: bom used 3048 mm), the same as
    a JSON then, and from Python."""
    query = await gateway_http.post("/v1/jobs/echo?then=bom&bom.ceiling_height_mm=2400", json=WALLS)
    as_json = await gateway_http.post(
        "/v1/jobs/echo",
        params={"then": '[{"function": "bom", "params": {"ceiling_height_mm": 2400}}]'},
        json=WALLS,
    )
    python = await sluice.submit(
        "echo", WALLS, then=[{"function": "bom", "params": {"ceiling_height_mm": 2400}}]
    )
    plain = await sluice.submit("echo", WALLS, then=["bom"])
    bills = []
    async with serving(settings, "echo", "bom"):
        for next_id in (
            query.json()["next_job_id"],
            as_json.json()["next_job_id"],
            python.next_job_id,
            plain.next_job_id,
        ):
            assert next_id is not None
            done = await sluice.wait(next_id, timeout=30, missing_ok=True)
            assert done.status == "succeeded", done.error
            bills.append(done.result_value())
    assert [wall_area(bill) for bill in bills] == [7.2, 7.2, 7.2, 9.144], bills


async def test_a_follow_ups_parameters_are_checked_at_submission(
    gateway_http: httpx.AsyncClient, sync_redis: redis.Redis, namespace: str
) -> None:
    cases = [
        ("then=bom&bom.ceiling_height=2400", "$.then[0].params.ceiling_height"),
        ("then=bom&bom.ceiling_height_mm=tall", "$.then[0].params.ceiling_height_mm"),
        ("then=bom&bom.ceiling_height_mm=-1", "$.then[0].params.ceiling_height_mm"),
        ("then=bom&render.dpi=100", "then"),
        ("then=bom&bom.use_pages=[0,", "$.then[0].params.use_pages"),
        ("then=bom&bom.use_pages=[-1]", "$.then[0].params.use_pages"),
        ('then=[{"function": "bom", "params": 3}]', "$.then[0]"),
        ("then=[1]", "then"),
        ('then={"function": "bom"}', "then"),  # an object, not a list: was a 404
        ('then=[{"function": "bom", "parmas": {"ceiling_height_mm": 2400}}]', "$.then[0]"),
        ('then=[{"function": ["bom"]}]', "$.then[0]"),
    ]
    for query, field in cases:
        reply = await gateway_http.post(f"/v1/jobs/echo?{query}", json=WALLS)
        assert reply.status_code == 400, (query, reply.text)
        assert reply.json()["error"]["field"] == field, (query, reply.text)
    assert not sync_redis.exists(keys_for(namespace, "echo").stream)
    # A list from a query string is JSON text.
    listed = await gateway_http.post("/v1/jobs/echo?then=bom&bom.use_pages=[0,2]", json=WALLS)
    assert listed.status_code == 202, listed.text
    stored = sync_redis.hget(keys_for(namespace, "echo").job(listed.json()["job_id"]), "then")
    assert stored == b'[{"function":"bom","params":{"use_pages":[0,2]}}]'
