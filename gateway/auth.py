"""Who a request is: its ``Authorization: Bearer`` key, its tenant and scopes.

With no key configured (none in the environment, none in Redis) the gateway is open:
every request may do everything, on every tenant's jobs. Keys are looked up in Redis and
kept here for CACHE_SECONDS, so a revoked key stops working within that time.
"""

from __future__ import annotations

import dataclasses
import hmac
import time

import structlog
from starlette.requests import Request

from shared.api_keys import ADMIN, ENV_SCOPES, SCOPES, ApiKey, KeyStore, digest, env_id
from shared.embedded import hosting_platform
from shared.errors import ForbiddenError, UnauthorizedError, UnavailableError
from shared.quotas import DEFAULT_QUOTAS, Limits, Quotas
from shared.redis import OUTAGE, redis_errors
from shared.settings import Settings, SettingsError

log = structlog.get_logger("gateway")

# How long a key looked up (or found missing) is believed without asking Redis again.
CACHE_SECONDS = 5.0
# Keys remembered at most: a client trying random keys must not grow the process.
CACHE_MAX = 10_000


@dataclasses.dataclass(frozen=True, slots=True)
class Principal:
    """``tenant``: the one new jobs belong to. ``every_tenant``: sees and touches any
    tenant's jobs (an admin key, or no keys at all). ``quotas``: its key's overrides of
    the settings' quotas (shared.quotas; none for tenant "", which has no quota)."""

    tenant: str
    scopes: frozenset[str]
    every_tenant: bool
    quotas: Quotas = DEFAULT_QUOTAS

    def limits(self, settings: Settings) -> Limits | None:
        """The quotas its submissions are held to; None for tenant "" (no quota)."""
        return self.quotas.effective(settings) if self.tenant else None

    @property
    def job_tenant(self) -> str | None:
        """The tenant a job must belong to for this principal to see it (None: any)."""
        return None if self.every_tenant else self.tenant


# No keys configured, or the admin key of SLUICE_ADMIN_KEY: anything, on every tenant.
UNRESTRICTED = Principal("", frozenset(SCOPES), every_tenant=True)


class Authenticator:
    def __init__(self, settings: Settings, store: KeyStore) -> None:
        self.store = store
        self._off = settings.auth_off
        self._admin = digest(settings.admin_key) if settings.admin_key else ""
        # The environment's keys, known without Redis (stored there too, for listing).
        self._env = {
            digest(secret): ApiKey(env_id(digest(secret)), tenant, ENV_SCOPES, "", "env")
            for tenant, secret in settings.api_keys
        }
        self._keys: dict[str, tuple[float, ApiKey | None]] = {}
        # When Redis last said whether keys were ever made (None: not asked yet). Once
        # they were, keys stay on in this process whatever Redis later says.
        self._asked_at: float | None = None
        self._made = False
        # Read once: an open gateway asks at every request, and the environment is fixed.
        self._platform = hosting_platform()

    async def start(self, settings: Settings) -> None:
        """Store the environment's keys; an open gateway is warned of, and refused on a
        hosting platform unless SLUICE_AUTH=off says it is meant."""
        if self._off:
            log.warning("auth_off", note="SLUICE_AUTH=off: every request may do everything")
            return
        try:
            await self.store.sync_env(settings.api_keys)
            enabled = await self.enabled()
        except (*OUTAGE, UnavailableError) as exc:
            # Environment keys work from memory; whether Redis holds keys is asked again
            # per request (503 until it answers: never open by default).
            log.warning("api_keys_unknown", error=str(exc))
            return
        if not enabled:
            if platform := self._platform:
                raise SettingsError(
                    f"no API key is configured and {platform} says this is a hosting"
                    " platform: set SLUICE_API_KEYS or SLUICE_ADMIN_KEY (or SLUICE_AUTH=off)"
                )
            log.warning(
                "auth_open",
                note="no API key configured: every request may do everything (local use)",
            )

    async def enabled(self) -> bool:
        """Whether requests need a key: always once one was ever made (the marker the key
        store keeps even when every key is revoked), so a gateway never opens again."""
        if self._off:
            return False
        if self._env or self._admin or self._made:
            return True
        if self._asked_at is None or time.monotonic() - self._asked_at > CACHE_SECONDS:
            with redis_errors():
                self._made = await self.store.ever_made()
            self._asked_at = time.monotonic()
        return self._made

    async def principal(self, request: Request, scope: str) -> Principal:
        """Who sent ``request``, if allowed ``scope``; else 401 or 403."""
        if (unkeyed := await self.open_principal()) is not None:
            return unkeyed
        scheme, _, secret = request.headers.get("authorization", "").partition(" ")
        secret = secret.strip()
        if scheme.lower() != "bearer" or not secret:
            raise UnauthorizedError("send an API key as `Authorization: Bearer <key>`")
        return await self.principal_of(secret, scope)

    async def open_principal(self) -> Principal | None:
        """UNRESTRICTED while no key is needed (none configured); None once one is. 503
        on a hosting platform that has no key (closed, never open by accident)."""
        if await self.enabled():
            return None
        if not self._off and (platform := self._platform):
            # Started while Redis was away, or Redis lost its data: closed, not open.
            raise UnavailableError(
                f"no API key is configured and {platform} says this is a hosting"
                " platform: set SLUICE_API_KEYS or SLUICE_ADMIN_KEY",
                retry_after=60,
            )
        return UNRESTRICTED

    async def principal_of(self, secret: str, scope: str) -> Principal:
        """Who holds the key ``secret`` (sent another way than a Bearer header: the
        dashboard's cookie), if allowed ``scope``; else 401 or 403."""
        hashed = digest(secret)
        if self._admin and hmac.compare_digest(hashed, self._admin):
            return UNRESTRICTED
        key = await self._find(hashed, secret)
        if key is None:
            raise UnauthorizedError("the API key is unknown or revoked")
        if scope not in key.scopes and ADMIN not in key.scopes:
            raise ForbiddenError(f"this API key lacks the {scope} scope")
        return Principal(
            key.tenant, frozenset(key.scopes), every_tenant=ADMIN in key.scopes, quotas=key.quotas
        )

    async def _find(self, hashed: str, secret: str) -> ApiKey | None:
        if hashed in self._env:
            return self._env[hashed]
        now = time.monotonic()
        cached = self._keys.get(hashed)
        if cached is not None and now - cached[0] <= CACHE_SECONDS:
            return cached[1]
        with redis_errors():
            key = await self.store.find(secret)
        if len(self._keys) >= CACHE_MAX:
            self._keys.clear()
        self._keys[hashed] = (now, key)
        return key

    def forget(self) -> None:
        """After a change made here (a key created or revoked): believe Redis at once."""
        self._keys.clear()
        self._asked_at = None


async def authorize(request: Request, scope: str) -> Principal:
    authenticator: Authenticator = request.app.state.auth
    return await authenticator.principal(request, scope)
