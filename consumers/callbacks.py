"""Webhook deliveries: a job that ended with a callback_url is told its final status by
a signed POST (Standard Webhooks), retried on shared/webhooks.py's schedule.

The job's end put it in its function's callbacks set, due at once (prelude.lua's
job_left). Every consumer looks at its functions' sets twice a second; callback_claim.lua
leases each due delivery to one of them, and callback_done.lua records the attempt in the
job's ``callback`` field only while that lease holds. A consumer that dies mid-delivery
leaves the delivery to be tried again when its lease is over: the receiver may then get
the same message twice, with the same ``webhook-id`` (the job id) to tell.

The body is the job's status as ``GET /v1/jobs/{id}`` shows it, with ``callback`` null:
the same bytes on every try of a message (the delivery's own state is what the receiver
is answering, and the status shows it afterwards).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any, NamedTuple

import httpx
import msgspec
import structlog
from redis.exceptions import RedisClusterException, RedisError

from shared.errors import InvalidInputError
from shared.jobs import STATUS_FIELDS, JobStatus, json_encoder, now_ms, status_from_hash
from shared.keys import FunctionKeys, keys_for
from shared.redis import Client
from shared.scripts import Scripts, run_batched
from shared.settings import Settings
from shared.upkeep_calls import callback_claim_call, callback_done_call
from shared.webhooks import (
    RETRY_DELAYS_S,
    UnresolvedTargetError,
    delay_after,
    signature_headers,
    target_addresses,
)

log = structlog.get_logger("consumer")

# The longest a due delivery waits for a look (a job's end is told within ~1 s).
LOOK_EVERY_S = 0.5
# Deliveries in flight per consumer: a slow receiver holds one for up to TIMEOUT_S.
MAX_IN_FLIGHT = 16
# Seconds a receiver has to answer (and its host to resolve): Standard Webhooks senders
# commonly allow 15 s or less, and a slot is held meanwhile.
TIMEOUT_S = 10.0
# How long a claim keeps other consumers off a delivery: a resolution and a request
# (TIMEOUT_S each), plus a wait for a free slot, fit well inside it.
LEASE_S = 60.0
USER_AGENT = "sluice-webhooks"
# A receiver's error text is cut to this many characters in the job's status.
MAX_ERROR_CHARS = 300
# What a Redis that cannot serve the look or the record raises (an outage, a refusal).
REDIS_ERRORS = (RedisError, RedisClusterException)
# What a request to an arbitrary URL may raise: transport and protocol errors, an URL
# httpx will not send to, a name the IDNA codec refuses.
_REQUEST_ERRORS = (httpx.HTTPError, httpx.InvalidURL, OSError, ValueError)


class Claim(NamedTuple):
    """A delivery leased to this consumer until ``claimed_until`` (ms since the epoch)."""

    keys: FunctionKeys
    job_id: str
    url: str
    claimed_until: int
    status: JobStatus | None


class Attempt(NamedTuple):
    """How one try went: delivered, retry or failed; attempts made in all (a try refused
    before any request was made does not count); the error, "" for none."""

    outcome: str
    attempts: int
    error: str = ""
    retry_in: float = 0.0


class Callbacks:
    def __init__(
        self,
        redis: Client,
        settings: Settings,
        functions: Iterable[str | FunctionKeys],
        *,
        delays: Sequence[float] = RETRY_DELAYS_S,
        concurrency: int = MAX_IN_FLIGHT,
        timeout: float = TIMEOUT_S,
        lease: float = LEASE_S,
    ) -> None:
        """``delays``: seconds before each retry (tests make them short)."""
        self._redis = redis
        self._scripts = Scripts(redis)
        self._settings = settings
        self._keys = [
            keys_for(settings.namespace, f) if isinstance(f, str) else f for f in functions
        ]
        self._delays = tuple(delays)
        self._concurrency = concurrency
        self._timeout = timeout
        self._lease_ms = int(lease * 1000)
        self._slots = asyncio.Semaphore(concurrency)
        self._in_flight = 0
        # Set when a delivery ends: a slot is free, or a retry may be due before the next look.
        self._ended = asyncio.Event()
        self._http: httpx.AsyncClient | None = None

    @contextlib.asynccontextmanager
    async def _client(self) -> AsyncIterator[httpx.AsyncClient]:
        """The HTTP client, opened for the loop (or one deliver_due) and closed after.
        No proxy or certificate settings from the environment: a consumer's HTTP_PROXY is
        for its own traffic, not for requests to addresses its clients choose. No
        connection is kept for another request: requests go to an address, not a name
        (_post), and one whose TLS verified one name must not carry another's."""
        if self._http is not None:
            yield self._http
            return
        timeout = httpx.Timeout(self._timeout)
        limits = httpx.Limits(max_keepalive_connections=0)
        async with httpx.AsyncClient(
            timeout=timeout, limits=limits, follow_redirects=False, trust_env=False
        ) as http:
            self._http = http
            try:
                yield http
            finally:
                self._http = None

    async def _claim(self, free: int) -> tuple[list[Claim], float]:
        """Lease up to ``free`` due deliveries, shared among the functions; the claims, and
        seconds until the next look (0: more are due than were claimed)."""
        if not self._keys or free < 1:
            return [], LOOK_EVERY_S
        now = now_ms()
        share = -(-free // len(self._keys))
        calls = [
            callback_claim_call(
                keys, now_ms=now, lease_ms=self._lease_ms, count=share, fields=STATUS_FIELDS
            )
            for keys in self._keys
        ]
        claims: list[Claim] = []
        wait = LOOK_EVERY_S
        for keys, reply in zip(self._keys, await run_batched(self._redis, calls), strict=True):
            if isinstance(reply, Exception):
                raise reply
            next_due, *entries = reply
            if next_due is not None:
                wait = min(wait, max(0.0, (float(next_due) - now) / 1000))
            for job_id, url, claimed_until, *values in entries:
                claims.append(
                    Claim(keys, _text(job_id), _text(url), int(claimed_until), _status(values))
                )
        return claims, wait

    async def deliver_due(self) -> int:
        """Try every delivery due now once (MAX_IN_FLIGHT at a time); how many were tried."""
        tried = 0
        async with self._client():
            while True:
                claims, wait = await self._claim(self._concurrency)
                async with asyncio.TaskGroup() as deliveries:
                    for claim in claims:
                        self._in_flight += 1
                        deliveries.create_task(self._deliver(claim))
                tried += len(claims)
                if not claims or wait > 0:
                    return tried

    async def loop(self, stopping: asyncio.Event) -> None:
        """Deliver what is due until ``stopping`` is set, without waiting for a delivery to
        end before the next look; Redis errors are logged and the look tried again."""
        async with self._client(), asyncio.TaskGroup() as deliveries:
            while not stopping.is_set():
                self._ended.clear()
                try:
                    claims, wait = await self._claim(self._concurrency - self._in_flight)
                except REDIS_ERRORS as exc:
                    log.warning("callbacks_look_failed", error=str(exc))
                    claims, wait = [], 1.0
                for claim in claims:
                    self._in_flight += 1
                    deliveries.create_task(self._deliver(claim))
                await _first_of(stopping, self._ended, timeout=max(wait, 0.01))

    async def _deliver(self, claim: Claim) -> None:
        """Try the delivery once and record how it went (if the claim still holds)."""
        try:
            async with self._slots:
                attempt = await self._try(claim)
            await self._record(claim, attempt)
        finally:
            self._in_flight -= 1
            self._ended.set()

    async def _try(self, claim: Claim) -> Attempt:
        status = claim.status
        before = status.callback.attempts if status and status.callback else 0
        if not self._settings.webhook_secret:
            # The gateway had one: this consumer's environment lacks it. Kept pending (no
            # attempt counted) until a consumer that has it takes the delivery.
            log.error("callback_without_secret", job_id=claim.job_id)
            return self._failed_try(max(before, 1), "WEBHOOK_SECRET is not set on the consumer")
        if status is None:  # a hash written by hand or half-expired: nothing to send
            return Attempt("failed", before, "the job's status is incomplete")
        try:
            async with asyncio.timeout(self._timeout):
                addresses = await target_addresses(
                    claim.url, allow_private=self._settings.callback_allow_private
                )
        except UnresolvedTargetError as exc:  # perhaps DNS down for now: tried again
            return self._failed_try(before + 1, exc.message)
        except InvalidInputError as exc:  # refused: no retry would change that
            return Attempt("failed", before, exc.message)
        except TimeoutError:
            return self._failed_try(
                before + 1, f"TimeoutError: no address within {self._timeout:g} s"
            )
        body = json_encoder.encode(msgspec.structs.replace(status, callback=None))
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            **signature_headers(self._settings.webhook_secret, claim.job_id, _seconds(), body),
        }
        try:
            async with asyncio.timeout(self._timeout):
                code = await self._post(claim.url, addresses, body, headers)
        except TimeoutError:
            return self._failed_try(
                before + 1, f"TimeoutError: no answer within {self._timeout:g} s"
            )
        except _REQUEST_ERRORS as exc:
            text = str(exc)
            return self._failed_try(
                before + 1, f"{type(exc).__name__}: {text}" if text else type(exc).__name__
            )
        if 200 <= code < 300:
            return Attempt("delivered", before + 1)
        return self._failed_try(before + 1, f"HTTP {code}")

    async def _post(
        self, url: str, addresses: Sequence[str], body: bytes, headers: dict[str, str]
    ) -> int:
        """POST to the URL's host at one of the checked ``addresses`` (the next if one
        refuses the connection), named in the Host header and TLS's SNI as in the URL; the
        answer's status. Its body is not read: a receiver's answer is its status alone."""
        assert self._http is not None
        target = httpx.URL(url)
        headers = {**headers, "host": target.netloc.decode("ascii")}
        sni = {"sni_hostname": target.raw_host.decode("ascii")}
        for index, address in enumerate(addresses):
            pinned = target.copy_with(host=address)
            try:
                async with self._http.stream(
                    "POST", pinned, content=body, headers=headers, extensions=sni
                ) as answer:
                    return answer.status_code
            except (httpx.ConnectError, httpx.ConnectTimeout):
                if index == len(addresses) - 1:
                    raise
        raise ValueError("no address to send to")  # target_addresses returns one at least

    def _failed_try(self, attempts: int, error: str) -> Attempt:
        """A try that reached no receiver or no 2xx: retried, or failed past the schedule."""
        retry_in = delay_after(attempts, self._delays)
        if retry_in is None:
            return Attempt("failed", attempts, error[:MAX_ERROR_CHARS])
        return Attempt("retry", attempts, error[:MAX_ERROR_CHARS], retry_in)

    async def _record(self, claim: Claim, attempt: Attempt) -> None:
        """Write the attempt to the job's callback field. If Redis cannot take it, the
        lease runs out and the delivery is tried again (the receiver tells by webhook-id)."""
        call = callback_done_call(
            claim.keys,
            job_id=claim.job_id,
            outcome=attempt.outcome,
            attempts=attempt.attempts,
            last_error=attempt.error,
            next_due_ms=now_ms() + int(attempt.retry_in * 1000),
            claimed_until=claim.claimed_until,
        )
        try:
            written = _text(await self._scripts.run(call))
        except REDIS_ERRORS as exc:
            log.warning("callback_not_recorded", job_id=claim.job_id, error=str(exc))
            return
        if written != "done":
            # stale: the lease ran out and another consumer has the delivery; gone: expired.
            log.warning("callback_not_recorded", job_id=claim.job_id, reason=written)
            return
        fields: dict[str, Any] = {"job_id": claim.job_id, "attempts": attempt.attempts}
        if attempt.outcome == "delivered":
            log.info("callback_delivered", **fields)
        elif attempt.outcome == "retry":
            log.info("callback_retry", **fields, error=attempt.error, retry_in=attempt.retry_in)
        else:
            log.warning("callback_failed", **fields, error=attempt.error)


def _status(values: Sequence[Any]) -> JobStatus | None:
    """The status from the claim's fields; None if they are not a status."""
    try:
        return status_from_hash(values)
    except (msgspec.DecodeError, ValueError):  # a field written by hand
        return None


async def _first_of(*events: asyncio.Event, timeout: float) -> None:
    """Wait until one of ``events`` is set, or ``timeout`` seconds."""
    waits = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()


def _seconds() -> int:
    return now_ms() // 1000


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
