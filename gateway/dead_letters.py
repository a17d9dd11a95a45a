"""Admin routes over a function's dead letters (scope ``admin``, every tenant): list,
replay (the same job id, re-queued with fresh attempts: shared/dead_letters.py) and
delete, one entry or all."""

from __future__ import annotations

from typing import Literal

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.auth import authorize
from gateway.body import read_limited
from gateway.responses import json_response, sluice_of
from shared import dead_letters
from shared.api_keys import ADMIN
from shared.errors import InvalidInputError
from shared.validation import decode_json


class Replay(msgspec.Struct, forbid_unknown_fields=True):
    """Which dead letters to replay: entry ids of the dead-letter stream, or "all"."""

    entry_ids: list[str] | Literal["all"]


async def list_dead(request: Request) -> Response:
    """``?count=`` (1-1000, default 100) newest first; ``?after=`` the last entry id of
    the page before."""
    await authorize(request, ADMIN)
    sluice = sluice_of(request)
    function = sluice.function(request.path_params["function"]).name
    raw_count = request.query_params.get("count", "100")
    if not raw_count.isdigit():
        raise InvalidInputError(f"count must be a whole number, not {raw_count!r}", field="count")
    letters = await dead_letters.list_dead(
        sluice.redis,
        sluice.settings.namespace,
        function,
        count=int(raw_count),
        after=request.query_params.get("after"),
    )
    return json_response({"dead_letters": letters})


async def replay_dead(request: Request) -> Response:
    await authorize(request, ADMIN)
    sluice = sluice_of(request)
    spec = sluice.function(request.path_params["function"])
    replay = decode_json(await read_limited(request, 1_048_576), Replay, "replay")
    result = await dead_letters.replay(
        sluice.redis,
        sluice.settings.namespace,
        spec.name,
        replay.entry_ids,
        takes_document=spec.takes_document,
    )
    return json_response(result)


async def delete_dead(request: Request) -> Response:
    """One entry (``/{entry_id}``), or every one of the function."""
    await authorize(request, ADMIN)
    sluice = sluice_of(request)
    function = sluice.function(request.path_params["function"]).name
    entry_id = request.path_params.get("entry_id")
    deleted = await dead_letters.delete(
        sluice.redis,
        sluice.settings.namespace,
        function,
        [entry_id] if entry_id else dead_letters.ALL,
    )
    return json_response({"deleted": deleted})


ROUTES = [
    Route("/v1/admin/dead/{function}", list_dead, methods=["GET"]),
    Route("/v1/admin/dead/{function}", delete_dead, methods=["DELETE"]),
    Route("/v1/admin/dead/{function}/replay", replay_dead, methods=["POST"]),
    Route("/v1/admin/dead/{function}/{entry_id}", delete_dead, methods=["DELETE"]),
]
