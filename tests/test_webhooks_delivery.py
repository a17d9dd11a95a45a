"""Webhook deliveries (consumers/callbacks.py) to a real receiver on loopback, through real
Redis: signatures, retries on the schedule, refusals, leases between racing consumers."""

from __future__ import annotations

import asyncio
import base64
import inspect
import os
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import msgspec
import pytest
import redis
import structlog

from consumers.callbacks import Callbacks
from shared import webhooks
from shared.client import Sluice
from shared.errors import InvalidInputError
from shared.jobs import CallbackState, json_encoder, now_iso, now_ms
from shared.keys import keys_for, new_job_id
from shared.redis import Client, connect
from shared.scripts import Scripts
from shared.settings import Settings
from shared.upkeep_calls import callback_claim_call, callback_done_call
from tests.conftest import listening_socket
from tests.inprocess import run_burst
from tests.webhook_receiver import Receiver, receiving

FUNCTION = "async_work"
# Retries 50 ms apart: the whole schedule of a failing delivery in a fraction of a second.
QUICK = (0.05, 0.05)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with receiving() as app:
        yield app


@pytest.fixture
def hook_settings(settings: Settings) -> Settings:
    """Deliveries to loopback allowed (CALLBACK_ALLOW_PRIVATE=1), signed with a new secret."""
    secret = "whsec_" + base64.b64encode(os.urandom(24)).decode()
    return settings.replace(callback_allow_private=True, webhook_secret=secret)


@pytest.fixture
async def redis_client(settings: Settings) -> AsyncIterator[Client]:
    async with connect(settings.redis_url) as client:
        yield client


def ended_job(sync_redis: redis.Redis, settings: Settings, url: str, *, due: int = 0) -> str:
    """A job that succeeded with a callback_url, its hash as submit.lua and the job's end
    (prelude.lua's job_left) leave it: due for delivery at ``due`` (ms)."""
    keys = keys_for(settings.namespace, FUNCTION)
    job_id = new_job_id(FUNCTION)
    sync_redis.hset(
        keys.job(job_id),
        mapping={
            "job_id": job_id,
            "function": FUNCTION,
            "status": "succeeded",
            "input": "{}",
            "progress": "100",
            "attempts": "1",
            "max_attempts": "3",
            "created_at": now_iso(),
            "finished_at": now_iso(),
            "result": '{"slept":0.0}',
            "callback_url": url,
            "callback": '{"status":"pending","attempts":0,"last_error":null}',
        },
    )
    sync_redis.zadd(keys.callbacks, {job_id: due})
    return job_id


def callback_of(sync_redis: redis.Redis, settings: Settings, job_id: str) -> CallbackState:
    raw = sync_redis.hget(keys_for(settings.namespace, FUNCTION).job(job_id), "callback")
    assert raw is not None
    return msgspec.json.decode(raw, type=CallbackState)


def queued(sync_redis: redis.Redis, settings: Settings) -> dict[str, float]:
    """The callbacks set: job id -> when due."""
    members: Any = sync_redis.zrange(
        keys_for(settings.namespace, FUNCTION).callbacks, 0, -1, withscores=True
    )
    return {job_id.decode(): float(score) for job_id, score in members}


async def until(check: Callable[[], object], timeout: float = 5.0) -> None:
    """Until ``check()`` (awaited if it must be) holds: each look is a Redis read or a
    delivery pass."""
    async with asyncio.timeout(timeout):
        while True:
            result = check()
            if inspect.isawaitable(result):
                result = await result
            if result:
                return
            await asyncio.sleep(0.01)


def test_signatures_follow_the_standard_webhooks_example() -> None:
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    headers = webhooks.signature_headers(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
    # The specification's worked example.
    assert headers["webhook-signature"] == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert webhooks.verify(secret, headers, body, now=1614265330)
    assert not webhooks.verify(secret, headers, b'{"test": 2432232315}', now=1614265330)
    assert not webhooks.verify(secret, headers, body, now=1614265330 + 301)
    other = "whsec_" + base64.b64encode(b"another key of 24 bytes!").decode()
    assert not webhooks.verify(other, headers, body, now=1614265330)
    rotated = {**headers, "Webhook-Signature": "v1,bm90IGl0 " + headers["webhook-signature"]}
    del rotated["webhook-signature"]
    assert webhooks.verify(secret, rotated, body, now=1614265330)


@pytest.mark.parametrize(
    ("url", "wrong"),
    [
        ("ftp://example.com/hook", "http"),
        ("/hook", "http"),
        ("https://user:pw@example.com/hook", "user info"),
        ("https:///hook", "no host"),
        ("https://example.com:99999/", "port"),
        ("https://[::1/hook", "not a URL"),
        ("https://example.com/a b", "spaces"),
        ("https://example.com/" + "a" * 2048, "longer than 2048"),
    ],
)
def test_callback_urls_are_absolute_http(url: str, wrong: str) -> None:
    with pytest.raises(InvalidInputError, match=wrong) as raised:
        webhooks.check_callback_url(url)
    assert raised.value.details == {"field": "callback_url"}
    assert webhooks.check_callback_url("https://hooks.example.com:8443/x?y=1")


async def test_private_targets_are_refused_unless_allowed() -> None:
    private = ["http://127.0.0.1/", "http://[::1]/", "http://localhost/", "http://10.0.0.1/"]
    private += ["http://169.254.169.254/", "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/"]
    for url in private:
        with pytest.raises(InvalidInputError, match="only public addresses"):
            await webhooks.check_target(url, allow_private=False)
        await webhooks.check_target(url, allow_private=True)
    await webhooks.check_target("https://93.184.215.14/", allow_private=False)
    with pytest.raises(webhooks.UnresolvedTargetError, match="does not resolve"):
        await webhooks.check_target("https://nowhere.invalid/", allow_private=True)


def test_the_schedule_gives_up_within_a_day() -> None:
    assert sum(webhooks.RETRY_DELAYS_S) <= 24 * 3600
    delays = [webhooks.delay_after(n) for n in range(1, len(webhooks.RETRY_DELAYS_S) + 1)]
    for delay, nominal in zip(delays, webhooks.RETRY_DELAYS_S, strict=True):
        assert delay is not None and nominal * 0.9 <= delay <= nominal
    assert webhooks.delay_after(len(webhooks.RETRY_DELAYS_S) + 1) is None


async def test_delivered_signed_within_a_second(
    hook_settings: Settings, redis_client: Client, sync_redis: redis.Redis, receiver: Receiver
) -> None:
    stopping = asyncio.Event()
    callbacks = Callbacks(redis_client, hook_settings, [FUNCTION])
    with structlog.testing.capture_logs() as logs:
        looking = asyncio.create_task(callbacks.loop(stopping))
        # A first job, so the loop is waiting between looks when the second one ends.
        first = ended_job(sync_redis, hook_settings, receiver.url)
        await receiver.wait_for(1)
        await until(lambda: callback_of(sync_redis, hook_settings, first).status != "pending")
        ended = time.monotonic()
        job_id = ended_job(sync_redis, hook_settings, receiver.url)
        await receiver.wait_for(2)
        took = time.monotonic() - ended
        await until(lambda: callback_of(sync_redis, hook_settings, job_id).status != "pending")
        stopping.set()
        await looking
    assert took < 1.0
    headers, body = receiver.requests[1]
    assert webhooks.verify(hook_settings.webhook_secret, headers, body)
    assert headers["webhook-id"] == job_id
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == "sluice-webhooks"
    sent = msgspec.json.decode(body)
    assert (sent["job_id"], sent["status"], sent["result"]) == (job_id, "succeeded", {"slept": 0.0})
    assert sent["callback"] is None  # the same body on every try (consumers/callbacks.py)
    assert callback_of(sync_redis, hook_settings, job_id) == CallbackState("delivered", 1)
    assert queued(sync_redis, hook_settings) == {}
    delivered = [line["job_id"] for line in logs if line["event"] == "callback_delivered"]
    assert delivered == [first, job_id]


async def test_an_error_answer_is_retried_then_delivered(
    hook_settings: Settings, redis_client: Client, sync_redis: redis.Redis, receiver: Receiver
) -> None:
    receiver.answers = [500, 503]
    stopping = asyncio.Event()
    callbacks = Callbacks(redis_client, hook_settings, [FUNCTION], delays=(0.05, 0.05, 0.05))
    with structlog.testing.capture_logs() as logs:
        looking = asyncio.create_task(callbacks.loop(stopping))
        # By name: the request goes to the address checked, under the name in the URL.
        by_name = receiver.url.replace("127.0.0.1", "localhost")
        job_id = ended_job(sync_redis, hook_settings, by_name)
        await receiver.wait_for(3)
        await until(lambda: not queued(sync_redis, hook_settings))
        stopping.set()
        await looking
    assert [(line["event"], line["attempts"], line.get("error")) for line in logs] == [
        ("callback_retry", 1, "HTTP 500"),
        ("callback_retry", 2, "HTTP 503"),
        ("callback_delivered", 3, None),
    ]
    assert callback_of(sync_redis, hook_settings, job_id) == CallbackState("delivered", 3)
    # One message: the same id and body each time, each try signed anew.
    assert {headers["webhook-id"] for headers, _ in receiver.requests} == {job_id}
    assert len({body for _, body in receiver.requests}) == 1
    for headers, body in receiver.requests:
        assert webhooks.verify(hook_settings.webhook_secret, headers, body)
        assert headers["host"] == by_name.split("/")[2]
    status = await Sluice(redis_client, hook_settings, {}).status(job_id)
    assert status.callback == CallbackState("delivered", 3)


async def test_a_receiver_down_fails_after_the_schedule(
    hook_settings: Settings, redis_client: Client, sync_redis: redis.Redis
) -> None:
    with listening_socket() as sock:  # bound, then closed: nothing listens there
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    callbacks = Callbacks(redis_client, hook_settings, [FUNCTION], delays=QUICK)
    job_id = ended_job(sync_redis, hook_settings, url)
    assert await callbacks.deliver_due() == 1
    state = callback_of(sync_redis, hook_settings, job_id)
    assert (state.status, state.attempts) == ("pending", 1)
    assert state.last_error is not None and state.last_error.startswith("ConnectError")
    assert queued(sync_redis, hook_settings)[job_id] > now_ms()  # due later, not at once
    for attempts, status in ((2, "pending"), (3, "failed")):
        await until(lambda: callbacks.deliver_due())
        state = callback_of(sync_redis, hook_settings, job_id)
        assert (state.status, state.attempts) == (status, attempts)
    assert queued(sync_redis, hook_settings) == {}
    assert await callbacks.deliver_due() == 0


async def test_a_loopback_target_is_refused_without_a_request(
    hook_settings: Settings, redis_client: Client, sync_redis: redis.Redis, receiver: Receiver
) -> None:
    strict = hook_settings.replace(callback_allow_private=False)
    job_id = ended_job(sync_redis, hook_settings, receiver.url)
    with structlog.testing.capture_logs() as logs:
        assert await Callbacks(redis_client, strict, [FUNCTION]).deliver_due() == 1
    state = callback_of(sync_redis, hook_settings, job_id)
    assert (state.status, state.attempts) == ("failed", 0)
    assert state.last_error is not None and "127.0.0.1 (loopback)" in state.last_error
    assert receiver.requests == []
    assert queued(sync_redis, hook_settings) == {}
    assert [line["event"] for line in logs] == ["callback_failed"]


async def test_a_consumer_without_the_secret_sends_nothing_and_leaves_it_pending(
    hook_settings: Settings, redis_client: Client, sync_redis: redis.Redis, receiver: Receiver
) -> None:
    """The secret set on the gateway only: the delivery waits for a consumer that has it."""
    unsigned = hook_settings.replace(webhook_secret="")
    job_id = ended_job(sync_redis, hook_settings, receiver.url)
    await Callbacks(redis_client, unsigned, [FUNCTION], delays=(0.0,)).deliver_due()
    state = callback_of(sync_redis, hook_settings, job_id)
    assert state.status == "pending" and state.last_error is not None
    assert "WEBHOOK_SECRET" in state.last_error and receiver.requests == []
    await Callbacks(redis_client, hook_settings, [FUNCTION]).deliver_due()
    await receiver.wait_for(1)


async def test_expired_jobs_are_dropped_and_never_recreated(
    hook_settings: Settings, redis_client: Client, sync_redis: redis.Redis, receiver: Receiver
) -> None:
    keys = keys_for(hook_settings.namespace, FUNCTION)
    gone = new_job_id(FUNCTION)
    sync_redis.zadd(keys.callbacks, {gone: 0})  # its hash expired before delivery
    assert await Callbacks(redis_client, hook_settings, [FUNCTION]).deliver_due() == 0
    assert queued(sync_redis, hook_settings) == {}
    # Expired between the claim and the record of the attempt.
    job_id = ended_job(sync_redis, hook_settings, receiver.url)
    scripts = Scripts(redis_client)
    claim = callback_claim_call(keys, now_ms=now_ms(), lease_ms=60_000, count=10, fields=())
    (_, (_, _, claimed_until)) = await scripts.run(claim)
    sync_redis.delete(keys.job(job_id))
    done = callback_done_call(
        keys, job_id=job_id, outcome="delivered", attempts=1, last_error="", next_due_ms=0,
        claimed_until=claimed_until,
    )  # fmt: skip
    assert await scripts.run(done) == b"gone"
    assert not sync_redis.exists(keys.job(job_id))
    assert queued(sync_redis, hook_settings) == {}


async def test_racing_consumers_deliver_each_try_once(
    hook_settings: Settings, sync_redis: redis.Redis, receiver: Receiver
) -> None:
    job_ids = {ended_job(sync_redis, hook_settings, receiver.url) for _ in range(40)}
    async with connect(hook_settings.redis_url) as one, connect(hook_settings.redis_url) as two:
        tried = await asyncio.gather(
            *(Callbacks(c, hook_settings, [FUNCTION]).deliver_due() for c in (one, two, one, two))
        )
    assert sum(tried) == 40
    assert sorted(headers["webhook-id"] for headers, _ in receiver.requests) == sorted(job_ids)
    assert queued(sync_redis, hook_settings) == {}


async def test_a_lease_taken_over_records_nothing(
    hook_settings: Settings, redis_client: Client, sync_redis: redis.Redis
) -> None:
    keys = keys_for(hook_settings.namespace, FUNCTION)
    job_id = ended_job(sync_redis, hook_settings, "http://127.0.0.1:9/")
    scripts = Scripts(redis_client)
    start = now_ms()

    async def claim(at: int) -> Any:
        call = callback_claim_call(keys, now_ms=at, lease_ms=1000, count=10, fields=())
        return await scripts.run(call)

    first = await claim(start)
    assert first[1][:2] == [job_id.encode(), b"http://127.0.0.1:9/"]
    assert (await claim(start + 500))[1:] == []  # leased: nobody else gets it
    second = await claim(start + 2000)  # the first one's lease is over
    assert second[1][2] == start + 3000

    def done(claimed_until: int, attempts: int) -> Any:
        return callback_done_call(
            keys, job_id=job_id, outcome="retry", attempts=attempts, last_error="HTTP 502",
            next_due_ms=start + 9000, claimed_until=claimed_until,
        )  # fmt: skip

    assert await scripts.run(done(first[1][2], 1)) == b"stale"
    assert await scripts.run(done(second[1][2], 1)) == b"done"
    assert callback_of(sync_redis, hook_settings, job_id) == CallbackState("pending", 1, "HTTP 502")
    assert queued(sync_redis, hook_settings) == {job_id: start + 9000}


async def test_a_submitted_job_calls_back_when_it_ends(
    hook_settings: Settings, sync_redis: redis.Redis, receiver: Receiver
) -> None:
    async with Sluice.connect(hook_settings) as sluice:
        job = await sluice.submit(FUNCTION, {}, callback_url=receiver.url)
        await run_burst(hook_settings, FUNCTION)
        assert await Callbacks(sluice.redis, hook_settings, [FUNCTION]).deliver_due() == 1
        status = await sluice.status(job.job_id)
    headers, body = receiver.requests[0]
    assert webhooks.verify(hook_settings.webhook_secret, headers, body)
    # The status as GET /v1/jobs/{id} shows it, but for its callback field.
    assert body == json_encoder.encode(msgspec.structs.replace(status, callback=None))
    assert status.callback == CallbackState("delivered", 1)
