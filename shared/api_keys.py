"""API keys, kept in Redis only as SHA-256 digests.

A key is ``sk_`` and 43 URL-safe characters (256 random bits): a fast hash is enough to
keep it from being read back (nothing to guess), and lets a request find its key in one
HGETALL. Each key belongs to a tenant and has scopes. Layout (one hash tag, so a key and
the index change together, on a Redis Cluster too):

- ``{ns}:{api_keys}:<sha256 hex>``: hash ``id tenant scopes created_at source`` and
  ``quotas`` (JSON of the key's overrides of the settings' quotas; absent: none)
- ``{ns}:{api_keys}:ids``: hash ``id -> sha256 hex`` (for listing and revoking by id)
- ``{ns}:{api_keys}:made``: set when the first key is made through the admin API, never
  unset: gateways ask for keys from then on, even after every key is revoked
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence

import msgspec
from redis.typing import EncodableT, FieldT

from shared.jobs import now_iso
from shared.quotas import DEFAULT_QUOTAS, Quotas
from shared.redis import Client

SUBMIT, READ, ADMIN = "submit", "read", "admin"
SCOPES = (SUBMIT, READ, ADMIN)
# What a key from SLUICE_API_KEYS may do.
ENV_SCOPES = (SUBMIT, READ)


class ApiKey(msgspec.Struct, frozen=True):
    """A key as listed: never its secret."""

    id: str
    tenant: str
    scopes: tuple[str, ...]
    created_at: str
    source: str  # "cli" (made through the admin API) or "env" (SLUICE_API_KEYS)
    # Overrides of the settings' quotas for the key's requests (none for an env key).
    quotas: Quotas = DEFAULT_QUOTAS


def new_secret() -> str:
    return "sk_" + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def env_id(hashed: str) -> str:
    return "env-" + hashed[:12]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


_quotas_decoder = msgspec.json.Decoder(Quotas)


def _decode(fields: Mapping[bytes | str, bytes | str]) -> ApiKey:
    text = {_text(k): _text(v) for k, v in fields.items()}
    return ApiKey(
        id=text["id"],
        tenant=text["tenant"],
        scopes=tuple(s for s in text["scopes"].split(",") if s),
        created_at=text["created_at"],
        source=text["source"],
        quotas=_quotas_decoder.decode(text.get("quotas", "{}")),
    )


class KeyStore:
    def __init__(self, redis: Client, namespace: str) -> None:
        self.redis = redis
        self._prefix = f"{namespace}:{{api_keys}}:"
        self._ids = self._prefix + "ids"
        self._made = self._prefix + "made"

    async def create(
        self,
        tenant: str,
        scopes: Sequence[str],
        source: str = "cli",
        *,
        quotas: Quotas = DEFAULT_QUOTAS,
    ) -> tuple[str, ApiKey]:
        """A new key: its secret (shown this once) and its record."""
        secret = new_secret()
        key = ApiKey(secrets.token_hex(6), tenant, tuple(scopes), now_iso(), source, quotas)
        await self._put(digest(secret), key)
        return secret, key

    async def find(self, secret: str) -> ApiKey | None:
        fields = await self.redis.hgetall(self._prefix + digest(secret))
        return _decode(fields) if fields else None

    async def list(self) -> list[ApiKey]:
        digests = await self.redis.hvals(self._ids)
        pipe = self.redis.pipeline(transaction=False)
        for hashed in digests:
            pipe.hgetall(self._prefix + _text(hashed))
        found = [_decode(fields) for fields in await pipe.execute() if fields]
        return sorted(found, key=lambda k: (k.tenant, k.created_at, k.id))

    async def revoke(self, key_id: str) -> bool:
        """Whether a key had that id; it no longer opens anything."""
        hashed = await self.redis.hget(self._ids, key_id)
        if hashed is None:
            return False
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(self._prefix + _text(hashed))
        pipe.hdel(self._ids, key_id)
        await pipe.execute()
        return True

    async def ever_made(self) -> bool:
        """Whether a key was ever stored here (revoked since or not)."""
        return bool(await self.redis.exists(self._made))

    async def sync_env(self, pairs: Sequence[tuple[str, str]]) -> None:
        """Keys of SLUICE_API_KEYS stored (the same id on every start: from the digest),
        and those of an earlier environment no longer in it revoked."""
        wanted = {digest(secret): tenant for tenant, secret in pairs}
        for hashed, tenant in wanted.items():
            if not await self.redis.exists(self._prefix + hashed):
                await self._put(
                    hashed, ApiKey(env_id(hashed), tenant, ENV_SCOPES, now_iso(), "env")
                )
        kept = {env_id(hashed) for hashed in wanted}
        for key in await self.list():
            if key.source == "env" and key.id not in kept:
                await self.revoke(key.id)

    async def _put(self, hashed: str, key: ApiKey) -> None:
        fields: dict[FieldT, EncodableT] = {
            "id": key.id,
            "tenant": key.tenant,
            "scopes": ",".join(key.scopes),
            "created_at": key.created_at,
            "source": key.source,
        }
        if key.quotas != DEFAULT_QUOTAS:
            fields["quotas"] = msgspec.json.encode(key.quotas).decode()
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(self._prefix + hashed, mapping=fields)
        pipe.hset(self._ids, key.id, hashed)
        if key.source != "env":  # those are the environment's to turn on and off
            pipe.set(self._made, now_iso(), nx=True)
        await pipe.execute()
