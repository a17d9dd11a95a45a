"""What a submission's query string says: the chain (``then=bom,render``, or a JSON list
``then=[{"function": "bom", "params": {...}}]``), each follow-up's parameters
(``bom.ceiling_height_mm=2400``), the options (shared/schedule.py: delay, not_before,
callback_url), and the job's own parameters (for a raw document body).
"""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.datastructures import QueryParams

from shared.errors import InvalidInputError
from shared.schedule import OPTION_NAMES


def chain_from_query(query: QueryParams) -> list[str | dict[str, Any]]:
    """The follow-ups, each a name or ``{"function", "params"}``; ``F.name=value`` adds a
    parameter to every follow-up of function F (as text: the schema converts it)."""
    chain: list[str | dict[str, Any]] = []
    for value in query.getlist("then"):
        if value.lstrip().startswith("{"):
            raise InvalidInputError(
                'then is a list: then=[{"function": "bom", "params": {...}}], or names: then=bom',
                field="then",
            )
        if value.lstrip().startswith("["):
            try:
                items = msgspec.json.decode(value)
            except msgspec.DecodeError as exc:
                raise InvalidInputError(f"then is not valid JSON: {exc}", field="then") from exc
            chain += items if isinstance(items, list) else [items]
            if not all(isinstance(item, str | dict) for item in chain):
                raise InvalidInputError(
                    'then\'s items are function names or {"function", "params"} objects',
                    field="then",
                )
        else:
            chain += value.split(",")
    dotted: dict[str, dict[str, str]] = {}
    for key, value in query.multi_items():
        function, dot, name = key.partition(".")
        if dot:
            if name in dotted.get(function, {}):
                raise InvalidInputError(f"query parameter {key!r} is given twice", field="then")
            dotted.setdefault(function, {})[name] = value
    named = {_name(item) for item in chain}
    if unknown := sorted(set(dotted) - named):
        raise InvalidInputError(
            f"{unknown[0]}.* parameters name a function that is not in the chain (then=)",
            field="then",
        )
    return [_with_params(item, dotted) for item in chain]


def _submission_param(name: str) -> bool:
    """Whether a query parameter is the submission's (then, F.name, an option), not the
    job's own."""
    return name == "then" or "." in name or name in OPTION_NAMES


def _with_params(
    item: str | dict[str, Any], dotted: dict[str, dict[str, str]]
) -> str | dict[str, Any]:
    extra = dotted.get(_name(item))
    if not extra:
        return item
    if isinstance(item, str):
        return {"function": item, "params": extra}
    params = item.get("params")
    return {**item, "params": {**(params if isinstance(params, dict) else {}), **extra}}


def _name(item: str | dict[str, Any]) -> str:
    """The function a chain item names ("" if it names none: check_chain says why)."""
    name = item if isinstance(item, str) else item.get("function")
    return name if isinstance(name, str) else ""


def own_params(query: QueryParams) -> dict[str, str]:
    """The submitted job's own parameters (for a raw document body): all but ``then`` and
    ``F.name``; one given twice is refused rather than one of its values picked."""
    names = [name for name in query.keys() if not _submission_param(name)]
    for name in names:
        if len(query.getlist(name)) > 1:
            raise InvalidInputError(
                f"query parameter {name!r} is given {len(query.getlist(name))} times",
                field=f"$.{name}",
            )
    return {name: query[name] for name in names}


def refuse_own_params(query: QueryParams, where: str) -> None:
    """The job's own parameters travel in ``where`` (the JSON body, the params part): a
    query parameter that is not ``then`` or ``F.name`` would be dropped, so it is refused."""
    for name in query.keys():
        if not _submission_param(name):
            raise InvalidInputError(
                f"query parameter {name!r} is not read here: with this body, parameters go"
                f" in {where}",
                field=f"$.{name}",
            )


def options_from_query(query: QueryParams) -> dict[str, Any]:
    """The options a query string gives, as the Python client's keywords; one given twice
    is refused rather than one of its values picked."""
    options = {}
    for name in OPTION_NAMES:
        values = query.getlist(name)
        if len(values) > 1:
            raise InvalidInputError(
                f"query parameter {name!r} is given {len(values)} times", field=name
            )
        if values:
            if not values[0].strip():
                raise InvalidInputError(f"{name} is empty", field=name)
            options[name] = values[0]
    return options
