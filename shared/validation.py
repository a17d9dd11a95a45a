"""What a submission must be before anything is queued: input valid for the function's
schema (no unknown fields), a well-formed Idempotency-Key, a chain that can run. Each
refusal is an InvalidInputError naming the field, which the gateway answers with 400."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from shared.errors import InvalidInputError
from shared.functions import FunctionSpec
from shared.jobs import json_encoder
from shared.unknown_fields import has_structs, unknown_field

# Follow-up functions one submission may name (each job's status carries the rest).
MAX_FOLLOW_UPS = 16
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
# msgspec ends a validation error with " - at `$.path`"; an error raised in a nested
# struct's __post_init__ that names its own field that way gets the struct's path after it.
_TRAILING_PATH = re.compile(r" - at `(\$[^`]*)`$")
_MISSING_FIELD = re.compile(r"^Object missing required field `([^`]+)`")


def field_of(error: msgspec.MsgspecError) -> str | None:
    """The JSON path msgspec names in a validation error, e.g. ``$.pages[0]``.

    Only the trailing " - at `...`" parts count (a value the client sent may be quoted in
    the message): "x - at `$.scale` - at `$.pages[1]`" is ``$.pages[1].scale``.
    """
    text = str(error)
    paths: list[str] = []
    while match := _TRAILING_PATH.search(text):
        paths.append(match.group(1))
        text = text[: match.start()]
    missing = _MISSING_FIELD.search(text)
    if missing:
        paths.append(f"$.{missing.group(1)}")
    if not paths:
        return None
    # Read from the end, the outermost path comes first; each later one is relative to it.
    return paths[0] + "".join(path[1:] for path in paths[1:])


def validate_input(spec: FunctionSpec, params: Any, *, strict: bool = True) -> bytes:
    """Check params (JSON bytes or a Python value) against the schema; return JSON.
    ``strict=False`` takes text for numbers ("150"), as a query string sends them."""
    try:
        if isinstance(params, bytes | bytearray | memoryview):
            value = spec.decode_input(bytes(params))
        else:
            value = msgspec.convert(params, spec.input, strict=strict)
    except msgspec.ValidationError as exc:
        field = field_of(exc)
        details = {"field": field} if field else {}
        raise InvalidInputError(f"invalid input for {spec.name}: {exc}", **details) from exc
    except msgspec.DecodeError as exc:
        raise InvalidInputError(f"body is not valid JSON: {exc}") from exc
    except UnicodeDecodeError as exc:
        # msgspec raises this, not a DecodeError, for invalid UTF-8 inside a string.
        raise InvalidInputError(f"body is not valid UTF-8: {exc}") from exc
    except RecursionError:
        raise InvalidInputError("input is nested too deeply") from None
    try:
        _refuse_unknown_fields(spec, params)
        return json_encoder.encode(value)
    except RecursionError:
        raise InvalidInputError("input is nested too deeply") from None
    except (TypeError, ValueError) as exc:
        # Python callers: objects JSON cannot hold, lone surrogates in strings.
        raise InvalidInputError(f"input for {spec.name} is not JSON-encodable: {exc}") from exc


def _refuse_unknown_fields(spec: FunctionSpec, params: Any) -> None:
    """A field the schema does not have is a typo the defaults would hide: refused."""
    if not has_structs(spec.input):
        return
    if isinstance(params, bytes | bytearray | memoryview):
        params = msgspec.json.decode(params)
    if spec.takes_document and isinstance(params, dict):
        # The gateway adds it (what was uploaded), whether or not the schema names it.
        params = {name: value for name, value in params.items() if name != "document"}
    if field := unknown_field(spec.input, params):
        raise InvalidInputError(
            f"invalid input for {spec.name}: unknown field {field!r}"
            " (GET /v1/functions lists the fields)",
            field=field,
        )


def check_idempotency_key(idempotency_key: str | None) -> None:
    if idempotency_key is not None and not _IDEMPOTENCY_KEY.fullmatch(idempotency_key):
        raise InvalidInputError(
            "Idempotency-Key must be 1-255 printable ASCII characters without spaces",
            field="Idempotency-Key",
        )


def check_chain(then: Sequence[str], function: Callable[[str], FunctionSpec]) -> list[str]:
    """The follow-up functions ``then`` names, each known (``function`` looks it up, or
    raises) and able to take another job's result."""
    if len(then) > MAX_FOLLOW_UPS:
        raise InvalidInputError(
            f"a chain names at most {MAX_FOLLOW_UPS} follow-up functions, not {len(then)}",
            field="then",
        )
    for name in then:
        if not name.strip():
            raise InvalidInputError("a chain names an empty function name", field="then")
        if function(name).takes_document:
            raise InvalidInputError(
                f"{name} takes a document, it cannot follow another job", field="then"
            )
    return list(then)
