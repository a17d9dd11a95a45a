"""One frozen settings object, read once from the environment."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import math
import os
import re
import urllib.parse
from collections.abc import Mapping
from typing import Any

from shared.errors import SluiceError


class SettingsError(SluiceError, ValueError):
    """An environment variable has a value we cannot use (a ValueError too: callers
    catch it as one)."""


# The function modules every process loads before FUNCTION_MODULES. Named here, not
# imported: shared/ imports nothing of documents/, whose functions are the app's.
BUILTIN_MODULES = ("shared.builtins", "documents.functions")


# Key prefix of every key; each function's keys add their own hash tag ({echo}), so it
# may not hold braces (nor spaces or control characters, which redis-cli users must quote).
NAMESPACE = re.compile(r"[^{}\s\x00-\x1f\x7f]+")


def _number(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise SettingsError(f"{name} must be a finite number > 0, got {raw!r}")
    return value


def _flag(environ: Mapping[str, str], name: str) -> bool:
    value = environ.get(name, "").strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise SettingsError(f"{name} must be 1 or 0 (true or false), got {value!r}")


def _integer(environ: Mapping[str, str], name: str, default: int) -> int:
    value = int(_number(environ, name, default))
    if value < 1:
        raise SettingsError(f"{name} must be at least 1, got {environ.get(name)!r}")
    return value


# A tenant's name goes into Redis key names and log lines.
TENANT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def _api_keys(raw: str) -> tuple[tuple[str, str], ...]:
    """SLUICE_API_KEYS: ``tenant=KEY,tenant2=KEY2`` as (tenant, key) pairs."""
    pairs: list[tuple[str, str]] = []
    for entry in filter(None, (part.strip() for part in raw.split(","))):
        tenant, equals, key = (part.strip() for part in entry.partition("="))
        if not equals or not key:
            # Not the entry itself: it may be a key.
            raise SettingsError(f"SLUICE_API_KEYS: entry {len(pairs) + 1} is not tenant=KEY")
        if not TENANT.fullmatch(tenant):
            # Not the tenant itself: entries written key=tenant would print a key.
            raise SettingsError(
                f"SLUICE_API_KEYS: the tenant of entry {len(pairs) + 1} must be 1-64 letters,"
                " digits, _ . or - (starting with a letter or digit)"
            )
        if any(key == other for _, other in pairs):
            raise SettingsError(f"SLUICE_API_KEYS: entry {len(pairs) + 1} repeats a key")
        pairs.append((tenant, key))
    return tuple(pairs)


# What a browser sends as Origin: a scheme, a host and maybe a port, nothing after.
ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?")


def _origins(raw: str) -> tuple[str, ...]:
    """CORS_ORIGINS: comma-separated origins, or ``*`` for any."""
    origins = tuple(filter(None, (part.strip().rstrip("/") for part in raw.split(","))))
    for origin in origins:
        if origin != "*" and not ORIGIN.fullmatch(origin):
            raise SettingsError(
                f"CORS_ORIGINS: {origin!r} is not an origin such as https://app.example.com"
            )
    return origins


def _auth_off(raw: str) -> bool:
    value = raw.strip().lower()
    if value not in ("", "on", "off"):
        raise SettingsError(f"SLUICE_AUTH must be on or off, got {value!r}")
    return value == "off"


def _webhook_secret(raw: str) -> str:
    """WEBHOOK_SECRET: ``whsec_`` and the base64 of the key (Standard Webhooks)."""
    secret = raw.strip()
    if not secret:
        return ""
    try:
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except binascii.Error:
        key = b""
    if not secret.startswith("whsec_") or len(key) < 16:
        # Not the value: it is a secret.
        raise SettingsError(
            "WEBHOOK_SECRET must be whsec_ followed by the base64 of at least 16 random bytes"
        )
    return secret


def _check_redis_url(url: str, scheme: str) -> None:
    """A port or database number Redis could never have is a setting to fix, not an
    outage to wait out (the message leaves out the rest of the URL: it may hold a
    password)."""
    if scheme == "unix":
        return
    parts = urllib.parse.urlsplit(url)
    try:
        parts.port  # noqa: B018 (urlsplit checks the port when it is read)
    except ValueError:
        raise SettingsError("REDIS_URL has a port outside 1-65535 (or not a number)") from None
    database = parts.path.strip("/")
    if database and not database.isdigit():
        raise SettingsError(f"REDIS_URL's path must be a database number, not {database!r}")


@dataclasses.dataclass(frozen=True, slots=True)
class Settings:
    redis_url: str = "redis://localhost:6379/0"
    # REDIS_URL names one node of a Redis Cluster; the clients learn the others from it.
    redis_cluster: bool = False
    # Prefix of every key; tests give each test its own.
    namespace: str = "sluice"
    # Seconds a pending entry may go without a heartbeat before another consumer claims it.
    visibility_timeout: float = 30.0
    # Heartbeats come well inside the visibility timeout.
    heartbeat_interval: float = 10.0
    # How long a finished job's status hash (and its idempotency key) is kept.
    result_ttl: int = 86_400
    # Largest JSON body the gateway reads.
    max_body_bytes: int = 1_048_576
    # Largest uploaded document (multipart or raw body), streamed into Redis.
    max_upload_bytes: int = 52_428_800
    # Seconds an upload is kept while its job waits to run (deleted when the job ends); a
    # job that starts later fails DocumentMissing.
    upload_ttl: int = 86_400
    # Default bound on a function's backlog (XLEN of its stream) before 429.
    max_backlog: int = 100_000
    # Entries a function's dead-letter stream keeps (the latest; the jobs' statuses say
    # why they failed all the same).
    dead_letter_max: int = 10_000
    # Seconds a consumer with no pending entries may stay silent before the others forget
    # it (a killed one stayed in XINFO CONSUMERS); a live one says so twice per
    # visibility timeout.
    forget_consumers_after: float = 3600.0
    # Seconds in-flight jobs get to finish after SIGTERM before they are released.
    shutdown_grace: float = 20.0
    # Seconds an async handler may hold the event loop past its time limit before it is
    # taken never to return and the consumer exits (its jobs go to other consumers).
    stuck_grace: float = 60.0
    function_modules: tuple[str, ...] = ()
    log_format: str = "auto"
    log_level: str = "info"
    # Largest request head (request line and headers, in bytes) and most header fields
    # the gateway reads before it answers 431.
    max_header_bytes: int = 32_768
    max_headers: int = 100
    # Seconds a connection has to send a whole request head, from when it opens (or from
    # the first byte of a later request on it); also how long a new silent one is kept.
    header_timeout: float = 10.0
    # Seconds a request body may go without a byte arriving while the gateway waits for it.
    body_timeout: float = 30.0
    # Open connections the gateway keeps; past it the longest-waiting idle one is closed,
    # or the new one gets 503 when none is idle. Kept below the process's file limit.
    max_connections: int = 1000
    # API keys from the environment, (tenant, key) pairs with scopes submit and read, and
    # the admin key; with none here nor in Redis the gateway is open. Kept out of repr.
    api_keys: tuple[tuple[str, str], ...] = dataclasses.field(default=(), repr=False)
    admin_key: str = dataclasses.field(default="", repr=False)
    # SLUICE_AUTH=off: no keys asked for, even on a hosting platform (where a gateway
    # without keys otherwise refuses to start).
    auth_off: bool = False
    # Origins whose pages may call the API from a browser (CORS_ORIGINS); none by default.
    cors_origins: tuple[str, ...] = ()
    # Standard Webhooks signing secret (``whsec_`` + base64) for callback_url deliveries;
    # without it a submission with a callback_url is refused. Kept out of repr.
    webhook_secret: str = dataclasses.field(default="", repr=False)
    # A Bearer token that may read /metrics (and nothing else), for a scraper that should
    # not hold an admin key; an admin key reads it too. Kept out of repr.
    metrics_token: str = dataclasses.field(default="", repr=False)
    # CALLBACK_ALLOW_PRIVATE=1: callbacks may go to private, loopback and link-local
    # addresses (tests, a private network); refused otherwise.
    callback_allow_private: bool = False
    # Longest ``delay`` (or ``not_before`` ahead of now) a submission may ask, in seconds.
    max_delay: int = 604_800
    # Each tenant's quotas unless its key says otherwise: jobs not yet ended (scheduled,
    # queued, running), bytes stored (uploads, results, artifacts over RESULT_TTL), and
    # jobs submitted per second (a token bucket holding up to quota_burst).
    quota_jobs: int = 10_000
    quota_bytes: int = 1_073_741_824
    quota_rate: float = 1000.0
    quota_burst: int = 2000

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        default = cls()
        visibility = _number(env, "VISIBILITY_TIMEOUT", 30.0)
        modules = tuple(m.strip() for m in env.get("FUNCTION_MODULES", "").split(",") if m.strip())
        log_format = env.get("LOG_FORMAT", "auto").strip().lower() or "auto"
        if log_format not in ("auto", "json", "console"):
            raise SettingsError(f"LOG_FORMAT must be auto, json or console, got {log_format!r}")
        heartbeat = _number(env, "HEARTBEAT_INTERVAL", visibility / 3)
        if heartbeat >= visibility:
            raise SettingsError("HEARTBEAT_INTERVAL must be shorter than VISIBILITY_TIMEOUT")
        redis_url = env.get("REDIS_URL", "").strip() or default.redis_url
        scheme = redis_url.partition("://")[0].lower() if "://" in redis_url else ""
        if scheme not in ("redis", "rediss", "unix"):
            # Only the scheme: the rest of the URL may hold a password.
            raise SettingsError(
                f"REDIS_URL must start with redis://, rediss:// or unix://, not {scheme!r}"
            )
        _check_redis_url(redis_url, scheme)
        namespace = env.get("SLUICE_NAMESPACE", "").strip() or default.namespace
        if not NAMESPACE.fullmatch(namespace):
            raise SettingsError(
                "SLUICE_NAMESPACE may not hold braces (they would put every function in one"
                f" Redis Cluster slot), spaces or control characters, got {namespace!r}"
            )
        return cls(
            redis_url=redis_url,
            redis_cluster=_flag(env, "REDIS_CLUSTER"),
            namespace=namespace,
            visibility_timeout=visibility,
            heartbeat_interval=heartbeat,
            result_ttl=_integer(env, "RESULT_TTL", default.result_ttl),
            max_body_bytes=_integer(env, "MAX_BODY_BYTES", default.max_body_bytes),
            max_upload_bytes=_integer(env, "MAX_UPLOAD_BYTES", default.max_upload_bytes),
            upload_ttl=_integer(env, "UPLOAD_TTL", default.upload_ttl),
            max_backlog=_integer(env, "MAX_BACKLOG", default.max_backlog),
            dead_letter_max=_integer(env, "DEAD_LETTER_MAX", default.dead_letter_max),
            forget_consumers_after=_number(
                env, "FORGET_CONSUMERS_AFTER", default.forget_consumers_after
            ),
            shutdown_grace=_number(env, "SHUTDOWN_GRACE", default.shutdown_grace),
            stuck_grace=_number(env, "STUCK_GRACE", default.stuck_grace),
            function_modules=modules,
            log_format=log_format,
            log_level=env.get("LOG_LEVEL", "info").strip().lower() or "info",
            max_header_bytes=_integer(env, "MAX_HEADER_BYTES", default.max_header_bytes),
            max_headers=_integer(env, "MAX_HEADERS", default.max_headers),
            header_timeout=_number(env, "HEADER_TIMEOUT", default.header_timeout),
            body_timeout=_number(env, "BODY_TIMEOUT", default.body_timeout),
            max_connections=_integer(env, "MAX_CONNECTIONS", default.max_connections),
            api_keys=_api_keys(env.get("SLUICE_API_KEYS", "")),
            admin_key=env.get("SLUICE_ADMIN_KEY", "").strip(),
            auth_off=_auth_off(env.get("SLUICE_AUTH", "")),
            cors_origins=_origins(env.get("CORS_ORIGINS", "")),
            webhook_secret=_webhook_secret(env.get("WEBHOOK_SECRET", "")),
            metrics_token=env.get("METRICS_TOKEN", "").strip(),
            callback_allow_private=_flag(env, "CALLBACK_ALLOW_PRIVATE"),
            max_delay=_integer(env, "MAX_DELAY", default.max_delay),
            quota_jobs=_integer(env, "QUOTA_JOBS", default.quota_jobs),
            quota_bytes=_integer(env, "QUOTA_BYTES", default.quota_bytes),
            quota_rate=_number(env, "QUOTA_RATE", default.quota_rate),
            quota_burst=_integer(env, "QUOTA_BURST", default.quota_burst),
        )

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    @property
    def visibility_ms(self) -> int:
        return int(self.visibility_timeout * 1000)

    @property
    def alive_ms(self) -> int:
        """How recently a consumer must have said it is alive to count as alive: it says
        so twice per visibility timeout, so one word missed (a busy loop) is not death."""
        return 2 * self.visibility_ms
