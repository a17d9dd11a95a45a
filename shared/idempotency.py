"""Idempotency-Key: the same request sent again gets the first job; another request under
the same key is refused (422), whichever function it names. Keys are per tenant: two
tenants sending the same key make two jobs.

The key's job is kept per function (``sluice:{echo}:idem:<key>``, checked in the submit
script with the job's fingerprint: function, parameters, follow-ups, document). Which
function a key belongs to is kept beside it, outside any function's slot
(``sluice:idem:<key>``), so that the key sent to another function is refused too. Both
name the key as scoped_key does: with its tenant's name before it.
"""

from __future__ import annotations

import hashlib

import msgspec

from shared.errors import IdempotencyKeyReusedError
from shared.keys import keys_for
from shared.redis import Client

# An idempotency key outlives its job's end by RESULT_TTL; this bounds it for a job that
# never ends (stays queued), so the key cannot leak.
IDEMPOTENCY_GRACE_SECONDS = 7 * 86_400


def fingerprint(
    function: str, payload: bytes, chain: bytes, document_sha256: str = "", options: str = ""
) -> str:
    """What makes two submissions the same request; the order of the input's fields does
    not matter. ``options``: the delay, not_before and callback_url as given ("" for none,
    which leaves a request without them as it was fingerprinted before they existed)."""
    value, follow_ups = (msgspec.json.decode(part) for part in (payload, chain))
    if isinstance(value, dict) and isinstance(value.get("document"), dict):
        # What the document is called is no part of the request: its bytes are.
        value["document"] = {k: v for k, v in value["document"].items() if k != "filename"}
    canonical, follow_ups = (
        msgspec.json.encode(part, order="sorted") for part in (value, follow_ups)
    )
    digest = hashlib.sha256()
    parts = [function.encode(), canonical, follow_ups, document_sha256.encode()]
    if options:
        parts.append(options.encode())
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def scoped_key(tenant: str, idempotency_key: str) -> str:
    """The Idempotency-Key as Redis keys and the job's hash name it: the tenant, a space,
    the client's key. A client's key holds no space (shared/validation.py), so no two
    tenants' names meet; tenant "" (auth off) keeps the key as sent, as before tenants."""
    return f"{tenant} {idempotency_key}" if tenant else idempotency_key


def owner_key(namespace: str, scoped: str) -> str:
    """Which function an Idempotency-Key (``scoped``: scoped_key's) was first sent to (one
    key, any slot)."""
    return f"{namespace}:idem:{scoped}"


async def claim_for_function(
    redis: Client,
    namespace: str,
    function: str,
    idempotency_key: str,
    ttl: int,
    *,
    tenant: str = "",
) -> None:
    """Mark the tenant's key as ``function``'s, or raise IdempotencyKeyReusedError if
    another function holds it while its job lives (a key whose job has expired is free
    again)."""
    scoped = scoped_key(tenant, idempotency_key)
    owner = owner_key(namespace, scoped)
    if await redis.set(owner, function, nx=True, ex=ttl):
        return
    held = await redis.get(owner)
    held_by = held.decode() if isinstance(held, bytes) else held
    if held_by is None or held_by == function:
        return
    keys = keys_for(namespace, held_by)
    job_id = await redis.get(keys.idempotency(scoped))
    if isinstance(job_id, bytes) and await redis.exists(keys.job(job_id.decode())):
        raise IdempotencyKeyReusedError(
            f"Idempotency-Key {idempotency_key!r} was used for a {held_by} job;"
            " a new request needs a new key",
            function=held_by,
        )
    await redis.set(owner, function, ex=ttl)
