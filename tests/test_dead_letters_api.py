"""The dead-letter admin routes through a real keyed gateway (uvicorn): only the admin key
may use them; list, replay (the same job id back in its queue) and delete, one or all."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from shared.client import Sluice
from shared.settings import Settings
from tests.helpers import wait_for_status
from tests.inprocess import run_burst

ADMIN = {"Authorization": "Bearer dead-admin-key"}
ACME = {"Authorization": "Bearer dead-acme-key"}

pytestmark = pytest.mark.any_redis  # the scripts run on both versions in test_dead_letters


@pytest.fixture
async def http(start_gateway: Callable[..., str]) -> AsyncIterator[httpx.AsyncClient]:
    url = start_gateway(SLUICE_ADMIN_KEY="dead-admin-key", SLUICE_API_KEYS="acme=dead-acme-key")
    async with httpx.AsyncClient(base_url=url, timeout=20) as client:
        yield client


async def test_list_replay_and_delete_dead_letters(
    http: httpx.AsyncClient, sluice: Sluice, settings: Settings
) -> None:
    job_ids = [
        (await http.post("/v1/jobs/doomed", json={}, headers=ACME)).json()["job_id"]
        for _ in range(3)
    ]
    await run_burst(settings, "doomed")
    assert (await http.get("/v1/admin/dead/doomed", headers=ACME)).status_code == 403
    listed = await http.get("/v1/admin/dead/doomed", headers=ADMIN)
    assert listed.status_code == 200, listed.text
    letters = listed.json()["dead_letters"]
    assert [letter["job_id"] for letter in letters] == job_ids[::-1]  # newest first
    assert letters[0]["tenant"] == "acme" and letters[0]["attempts"] == 1
    assert letters[0]["error"]["type"]
    page = await http.get(
        "/v1/admin/dead/doomed", params={"count": 1, "after": letters[0]["entry_id"]}, headers=ADMIN
    )
    assert [letter["job_id"] for letter in page.json()["dead_letters"]] == [job_ids[1]]

    # Replay one: the same job id, queued again with fresh attempts.
    replayed = await http.post(
        "/v1/admin/dead/doomed/replay", json={"entry_ids": [letters[0]["entry_id"]]}, headers=ADMIN
    )
    assert replayed.status_code == 200, replayed.text
    assert replayed.json()["replayed"] == 1 and replayed.json()["job_ids"] == [job_ids[2]]
    status = await wait_for_status(sluice, job_ids[2], "queued")
    assert status.attempts == 0 and status.error is None

    one = await http.delete(f"/v1/admin/dead/doomed/{letters[1]['entry_id']}", headers=ADMIN)
    assert one.json() == {"deleted": 1}
    rest = await http.delete("/v1/admin/dead/doomed", headers=ADMIN)
    assert rest.json() == {"deleted": 1}
    assert (await http.get("/v1/admin/dead/doomed", headers=ADMIN)).json()["dead_letters"] == []
    assert (await sluice.status(job_ids[0])).status == "failed"  # deleting keeps the job


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "error_type"),
    [
        ("GET", "/v1/admin/dead/nope", None, 404, "unknown_function"),
        ("GET", "/v1/admin/dead/doomed?count=lots", None, 400, "invalid_input"),
        ("POST", "/v1/admin/dead/doomed/replay", {"entry_ids": "some"}, 400, "invalid_input"),
        ("POST", "/v1/admin/dead/doomed/replay", {"entry_ids": ["x-y"]}, 400, "invalid_input"),
        ("DELETE", "/v1/admin/dead/doomed/not-an-id", None, 400, "invalid_input"),
    ],
)
async def test_bad_requests_name_what_is_wrong(
    http: httpx.AsyncClient,
    method: str,
    path: str,
    body: object,
    status: int,
    error_type: str,
) -> None:
    reply = await http.request(method, path, json=body, headers=ADMIN)
    assert reply.status_code == status, reply.text
    assert reply.json()["error"]["type"] == error_type
