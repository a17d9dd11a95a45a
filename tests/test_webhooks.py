"""Webhooks end to end: ``?callback_url=`` through the real gateway (uvicorn), a real
consumer process delivering the final status, signed per Standard Webhooks, to a
receiver on loopback (CALLBACK_ALLOW_PRIVATE=1); the delivery's state in the status."""

from __future__ import annotations

import asyncio
import base64
import os
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import msgspec
import pytest

from shared import webhooks
from tests.conftest import Proc
from tests.webhook_receiver import Receiver, receiving

SECRET = "whsec_" + base64.b64encode(os.urandom(24)).decode()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with receiving() as app:
        yield app


async def callback_when(
    http: httpx.AsyncClient, status_url: str, attempts: int, *statuses: str
) -> dict[str, Any]:
    """The job's callback state once it has ``attempts`` and one of ``statuses``: read
    again until the consumer has recorded what the receiver already saw."""
    deadline = time.monotonic() + 10
    while True:
        status: dict[str, Any] = (await http.get(status_url)).json()
        callback: dict[str, Any] = status.get("callback") or {}
        if callback.get("attempts", 0) >= attempts and callback.get("status") in statuses:
            return callback
        assert time.monotonic() < deadline, f"callback not {statuses}: {status}"
        await asyncio.sleep(0.05)


async def test_the_final_status_is_posted_signed_and_its_delivery_shown(
    start_gateway: Callable[..., str], start_consumer: Callable[..., Proc], receiver: Receiver
) -> None:
    hook_env = {"WEBHOOK_SECRET": SECRET, "CALLBACK_ALLOW_PRIVATE": "1"}
    start_consumer("echo", "work", **hook_env)
    async with httpx.AsyncClient(base_url=start_gateway(**hook_env), timeout=20) as http:
        reply = await http.post(
            "/v1/jobs/echo", params={"callback_url": receiver.url}, json={"n": 1}
        )
        assert reply.status_code == 202, reply.text
        job_id = reply.json()["job_id"]
        await receiver.wait_for(1, timeout=15)
        headers, body = receiver.requests[0]
        assert headers["webhook-id"] == job_id
        assert webhooks.verify(SECRET, headers, body)
        assert not webhooks.verify(SECRET, headers, body.replace(b'"n":1', b'"n":2'))
        sent = msgspec.json.decode(body)
        assert sent["status"] == "succeeded" and sent["result"] == {"n": 1}
        callback = await callback_when(http, reply.json()["status_url"], 1, "delivered")
        assert callback == {"status": "delivered", "attempts": 1, "last_error": None}
        # A job that fails calls back too, with its error.
        failing = await http.post(
            "/v1/jobs/work",
            params={"callback_url": receiver.url},
            json={"permanent": True},
        )
        await receiver.wait_for(2, timeout=15)
        failed = msgspec.json.decode(receiver.requests[1][1])
        assert failed["job_id"] == failing.json()["job_id"] and failed["status"] == "failed"
        assert failed["error"]["type"] == "BadInput"


async def test_an_error_answer_is_retried_with_backoff_and_the_attempts_counted(
    start_gateway: Callable[..., str], start_consumer: Callable[..., Proc], receiver: Receiver
) -> None:
    receiver.answers = [500]
    hook_env = {"WEBHOOK_SECRET": SECRET, "CALLBACK_ALLOW_PRIVATE": "1"}
    start_consumer("echo", **hook_env)
    async with httpx.AsyncClient(base_url=start_gateway(**hook_env), timeout=20) as http:
        reply = await http.post("/v1/jobs/echo", params={"callback_url": receiver.url}, json={})
        url = reply.json()["status_url"]
        # The retry is due 5 s after the first try: the state shows the wait in between.
        await receiver.wait_for(1, timeout=15)
        pending = await callback_when(http, url, 1, "pending")
        assert pending == {"status": "pending", "attempts": 1, "last_error": "HTTP 500"}
        await receiver.wait_for(2, timeout=15)
        callback = await callback_when(http, url, 2, "delivered")
        assert callback == {"status": "delivered", "attempts": 2, "last_error": None}
        (first, body1), (second, body2) = receiver.requests
        assert first["webhook-id"] == second["webhook-id"] and body1 == body2


@pytest.mark.parametrize(
    ("env", "url", "words"),
    [
        ({}, "https://example.com/hook", "WEBHOOK_SECRET"),
        ({"WEBHOOK_SECRET": SECRET}, "ftp://example.com/hook", "http"),
        ({"WEBHOOK_SECRET": SECRET}, "http://127.0.0.1:9/hook", "loopback"),
        ({"WEBHOOK_SECRET": SECRET}, "http://169.254.169.254/latest", "link-local"),
        ({"WEBHOOK_SECRET": SECRET}, "http://10.0.0.8/hook", "private"),
        ({"WEBHOOK_SECRET": SECRET}, "http://[::ffff:127.0.0.1]/hook", "loopback"),
        ({"WEBHOOK_SECRET": SECRET}, "http://8.8.8.8:0/hook", "port"),
    ],
)
@pytest.mark.any_redis
async def test_a_callback_url_that_may_not_be_called_is_a_400(
    start_gateway: Callable[..., str], env: dict[str, str], url: str, words: str
) -> None:
    async with httpx.AsyncClient(base_url=start_gateway(**env), timeout=20) as http:
        reply = await http.post("/v1/jobs/echo", params={"callback_url": url}, json={})
        assert reply.status_code == 400, reply.text
        error = reply.json()["error"]
        assert error["field"] == "callback_url" and words in error["message"], error
