"""What ``sluice submit`` sends: the job's input from ``--input`` and ``-p key=value``, the
chain of ``--then`` with its follow-ups' ``-p F.key=value``, and the query options."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from cli.errors import UsageError


def _no_constant(name: str) -> NoReturn:
    """NaN and Infinity are not JSON to the gateway: such a value stays a string."""
    raise ValueError(name)


def json_or_text(text: str) -> Any:
    """``3`` as 3, ``true`` as True, ``[1, 2]`` as a list; anything not JSON (``hello``,
    ``2026-01-01``, ``007``) as the string it is."""
    try:
        return json.loads(text, parse_constant=_no_constant)
    except ValueError:
        return text


def parameter(text: str) -> tuple[str, Any]:
    """``-p key=value``: the key, and the value as JSON when it is JSON, else a string."""
    key, equals, value = text.partition("=")
    if not equals or not key:
        raise argparse.ArgumentTypeError(f"a parameter is key=value, got {text!r}")
    return key, json_or_text(value)


def given_input(text: str) -> Any:
    """``--input '{...}'``, ``--input @file.json`` or ``--input @-`` (stdin): JSON."""
    source = "--input"
    if text.startswith("@"):
        source = text[1:]
        try:
            text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise argparse.ArgumentTypeError(f"cannot read {source}: {error}") from None
    try:
        return json.loads(text, parse_constant=_no_constant)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{source} is not JSON: {error}") from None


def function_names(text: str) -> list[str]:
    """``--then bom`` or ``--then ingest,bom``: follow-up function names."""
    return [name.strip() for name in text.split(",") if name.strip()]


def job_input(
    base: Any, parameters: Sequence[tuple[str, Any]], follow_ups: Sequence[str]
) -> tuple[Any, dict[str, dict[str, Any]]]:
    """The job's input (``base`` with the parameters on top) and each follow-up's own
    parameters (``-p bom.ceiling_height_mm=2400`` when ``bom`` is a follow-up)."""
    own: dict[str, Any] = {}
    chained: dict[str, dict[str, Any]] = {}
    for key, value in parameters:
        function, dot, name = key.partition(".")
        target, field = (
            (chained.setdefault(function, {}), name)
            if dot and function in follow_ups
            else (own, key)
        )
        if field in target:
            raise UsageError(f"-p {key} is given twice")
        target[field] = value
    if base is None:
        return own, chained
    if own and not isinstance(base, dict):
        raise UsageError("-p adds fields to an object: --input is not one")
    return ({**base, **own} if own else base), chained


def chain_query(follow_ups: Sequence[str], chained: dict[str, dict[str, Any]]) -> str | None:
    """``then=`` for the query: names (``bom,render``), or a JSON list when a follow-up
    has parameters, so they keep their JSON types."""
    if not follow_ups:
        return None
    if not chained:
        return ",".join(follow_ups)
    items = [
        {"function": name, "params": chained[name]} if name in chained else name
        for name in follow_ups
    ]
    return json.dumps(items, separators=(",", ":"))
