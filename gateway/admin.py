"""Admin routes (scope ``admin``): API keys, created (with their quotas), listed and
revoked."""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.auth import Authenticator, authorize
from gateway.body import read_limited
from gateway.responses import json_response
from shared.api_keys import ADMIN, SCOPES
from shared.errors import InvalidInputError, KeyNotFoundError
from shared.quotas import DEFAULT_QUOTAS, Quotas
from shared.redis import redis_errors
from shared.settings import TENANT
from shared.validation import decode_json


class NewKey(msgspec.Struct, forbid_unknown_fields=True):
    tenant: str
    scopes: list[str] = msgspec.field(default_factory=lambda: ["submit", "read"])
    # Overrides of the settings' quotas for this key's tenant (each checked by its Meta).
    quotas: Quotas = DEFAULT_QUOTAS


def _auth(request: Request) -> Authenticator:
    authenticator: Authenticator = request.app.state.auth
    return authenticator


async def create_key(request: Request) -> Response:
    await authorize(request, ADMIN)
    body = await read_limited(request, 4096)
    new = decode_json(body, NewKey, "key")
    if not TENANT.fullmatch(new.tenant):
        raise InvalidInputError(
            "tenant must be 1-64 letters, digits, _ . or - (starting with a letter or digit)",
            field="$.tenant",
        )
    unknown = sorted(set(new.scopes) - set(SCOPES))
    if unknown or not new.scopes:
        raise InvalidInputError(
            f"scopes must be some of {', '.join(SCOPES)}, got {new.scopes}", field="$.scopes"
        )
    scopes = [scope for scope in SCOPES if scope in new.scopes]
    with redis_errors():
        secret, key = await _auth(request).store.create(new.tenant, scopes, quotas=new.quotas)
    _auth(request).forget()
    return json_response({"key": secret, **msgspec.structs.asdict(key)}, 201)


async def list_keys(request: Request) -> Response:
    await authorize(request, ADMIN)
    with redis_errors():
        keys = await _auth(request).store.list()
    return json_response({"keys": keys})


async def revoke_key(request: Request) -> Response:
    await authorize(request, ADMIN)
    key_id = request.path_params["key_id"]
    if key_id.startswith("env-"):
        raise InvalidInputError(f"{key_id} comes from SLUICE_API_KEYS: take it out there")
    with redis_errors():
        revoked = await _auth(request).store.revoke(key_id)
    if not revoked:
        raise KeyNotFoundError(f"no API key {key_id!r}")
    _auth(request).forget()
    return json_response({"id": key_id, "revoked": True})


ROUTES = [
    Route("/v1/admin/keys", create_key, methods=["POST"]),
    Route("/v1/admin/keys", list_keys, methods=["GET"]),
    Route("/v1/admin/keys/{key_id}", revoke_key, methods=["DELETE"]),
]
