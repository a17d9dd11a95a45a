"""The dashboard's buttons: plain HTML forms posting here (so they work with JavaScript
off), which act and redirect (303) back to the page they came from with what was done.
Pause and resume a function; replay or delete its dead letters, one or all
(shared/dead_letters.py: a replay queues the same job id again with fresh attempts)."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import Response

from gateway.dashboard_access import dashboard_route, read_form, redirect, safe_next
from gateway.responses import sluice_of
from shared import dead_letters
from shared.errors import InvalidInputError
from shared.functions import FunctionSpec
from shared.keys import FUNCTION_NAME
from shared.pausing import set_paused


def _back(form: Mapping[str, str], default: str, **done: str | int) -> Response:
    """303 to the dashboard page named in the form's ``back`` (else ``default``), telling
    it what was done (see ``notice``)."""
    path = urlsplit(safe_next(form.get("back"), default)).path
    return redirect(f"{path}?{urlencode(done)}")


def _function(request: Request) -> FunctionSpec:
    """The function of the path (404 when it is not served here)."""
    return sluice_of(request).function(request.path_params["function"])


def _entries(form: Mapping[str, str]) -> dead_letters.EntryIds:
    """The dead letters a form names: ``all``, or one ``entry_id``."""
    if form.get("all"):
        return dead_letters.ALL
    entry_id = form.get("entry_id", "")
    if not entry_id:
        raise InvalidInputError("name a dead letter (entry_id) or all of them", field="entry_id")
    return [dead_letters.check_entry_id(entry_id)]


async def _pause(request: Request, paused: bool) -> Response:
    form = await read_form(request)
    spec = _function(request)
    sluice = sluice_of(request)
    await set_paused(sluice.redis, sluice.settings.namespace, spec.name, paused)
    action = "paused" if paused else "resumed"
    return _back(form, f"/dashboard/functions/{spec.name}", done=action, function=spec.name)


@dashboard_route
async def pause(request: Request) -> Response:
    return await _pause(request, True)


@dashboard_route
async def resume(request: Request) -> Response:
    return await _pause(request, False)


@dashboard_route
async def replay(request: Request) -> Response:
    form = await read_form(request)
    spec = _function(request)
    sluice = sluice_of(request)
    result = await dead_letters.replay(
        sluice.redis,
        sluice.settings.namespace,
        spec.name,
        _entries(form),
        takes_document=spec.takes_document,
    )
    kept = result.gone + result.not_failed + result.no_document
    page = f"/dashboard/functions/{spec.name}"
    return _back(form, page, done="replayed", n=result.replayed, kept=kept, missing=result.missing)


@dashboard_route
async def delete(request: Request) -> Response:
    form = await read_form(request)
    spec = _function(request)
    sluice = sluice_of(request)
    deleted = await dead_letters.delete(
        sluice.redis, sluice.settings.namespace, spec.name, _entries(form)
    )
    return _back(form, f"/dashboard/functions/{spec.name}", done="deleted", n=deleted)


def _count(query: Mapping[str, str], name: str) -> int:
    value = query.get(name, "0")
    return int(value) if value.isdigit() else 0


def _letters(count: int) -> str:
    return f"{count} dead letter{'' if count == 1 else 's'}"


def notice(query: Mapping[str, str]) -> str | None:
    """What the last button did, as the redirect told the page; None after none. Built
    from numbers and a function name only, never from text the link carries."""
    done = query.get("done")
    function = query.get("function", "")
    if done in ("paused", "resumed") and FUNCTION_NAME.fullmatch(function):
        if done == "paused":
            return f"Paused {function}: its jobs queue, no consumer starts one until resumed."
        return f"Resumed {function}."
    if done == "replayed":
        text = f"Replayed {_letters(_count(query, 'n'))}: queued again, same job ids."
        if kept := _count(query, "kept"):
            text += (
                f" {_letters(kept)} kept: the job expired, ended otherwise or lost its document."
            )
        if missing := _count(query, "missing"):
            text += f" {_letters(missing)} no longer there."
        return text
    if done == "deleted":
        return f"Deleted {_letters(_count(query, 'n'))}."
    return None
