"""What a submission must be before anything is queued: input valid for the function's
schema (no unknown fields), a well-formed Idempotency-Key, a chain that can run. Each
refusal is an InvalidInputError naming the field, which the gateway answers with 400."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import msgspec

from shared.errors import InvalidInputError
from shared.functions import FunctionSpec
from shared.jobs import FollowUp, json_encoder
from shared.unknown_fields import has_structs, unknown_field

T = TypeVar("T")

# Follow-up functions one submission may name (each job's status carries the rest).
MAX_FOLLOW_UPS = 16
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
# msgspec ends a validation error with " - at `$.path`"; an error raised in a nested
# struct's __post_init__ that names its own field that way gets the struct's path after it.
_TRAILING_PATH = re.compile(r" - at `(\$[^`]*)`$")
_MISSING_FIELD = re.compile(r"^Object (?:missing required|contains unknown) field `([^`]+)`")


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


def decode_json(body: bytes, into: type[T], what: str) -> T:
    """``body`` as ``into``, or a 400 saying why (naming the field where msgspec does)."""
    try:
        return msgspec.json.decode(body, type=into)
    except msgspec.ValidationError as exc:
        field = field_of(exc)
        details = {"field": field} if field else {}
        raise InvalidInputError(f"invalid {what}: {exc}", **details) from exc
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"body is not valid JSON: {exc}") from exc


def validate_input(spec: FunctionSpec, params: Any, *, strict: bool = True) -> bytes:
    """Check params (JSON bytes or a Python value) against the schema; return JSON.
    ``strict=False`` takes text for numbers ("150"), as a query string sends them."""
    try:
        if isinstance(params, bytes | bytearray | memoryview):
            value = spec.decode_input(bytes(params))
        else:
            value = msgspec.convert(params, spec.input, strict=strict)
    except msgspec.ValidationError as exc:
        # A misspelt field often fails as another one missing ("breif": no brief): the
        # field the schema does not have is named first, as the likelier cause.
        if (typo := _typo(spec, params)) is not None:
            raise _unknown_field_error(spec, typo) from exc
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
    if field := _unknown(spec, params):
        raise _unknown_field_error(spec, field)


def _unknown(spec: FunctionSpec, params: Any) -> str | None:
    if not has_structs(spec.input):
        return None
    if isinstance(params, bytes | bytearray | memoryview):
        params = msgspec.json.decode(params)
    if spec.takes_document and isinstance(params, dict):
        # The gateway adds it (what was uploaded), whether or not the schema names it.
        params = {name: value for name, value in params.items() if name != "document"}
    return unknown_field(spec.input, params)


def _typo(spec: FunctionSpec, params: Any) -> str | None:
    """The unknown field of input that failed validation, if its shape lets us walk it."""
    try:
        return _unknown(spec, params)
    except Exception:  # input of another shape than the schema's: no field to name
        return None


def _unknown_field_error(spec: FunctionSpec, field: str) -> InvalidInputError:
    return InvalidInputError(
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


Chain = Sequence[str | FollowUp | Mapping[str, Any]]


def check_chain(then: Chain, function: Callable[[str], FunctionSpec]) -> list[FollowUp]:
    """The follow-ups ``then`` names (a function name, a FollowUp, or its JSON object),
    each known (``function`` looks it up, or raises), able to take another job's result,
    and with parameters its schema has, of the right types (numbers may come as text, as
    a query string's ``bom.ceiling_height_mm=2400`` does). Checks across fields wait for
    the merged input, when the follow-up runs."""
    if len(then) > MAX_FOLLOW_UPS:
        raise InvalidInputError(
            f"a chain names at most {MAX_FOLLOW_UPS} follow-up functions, not {len(then)}",
            field="then",
        )
    chain = []
    for index, item in enumerate(then):
        follow_up = _follow_up(item, index)
        if not follow_up.function.strip():
            raise InvalidInputError("a chain names an empty function name", field="then")
        spec = function(follow_up.function)
        if spec.takes_document:
            raise InvalidInputError(
                f"{spec.name} takes a document, it cannot follow another job", field="then"
            )
        params = _follow_up_params(spec, follow_up.params, f"$.then[{index}].params")
        chain.append(FollowUp(spec.name, params))
    return chain


def _follow_up(item: str | FollowUp | Mapping[str, Any], index: int) -> FollowUp:
    if isinstance(item, str):
        return FollowUp(item)
    if isinstance(item, FollowUp):
        return item
    try:
        return msgspec.convert(item, FollowUp)
    except msgspec.ValidationError as exc:
        raise InvalidInputError(
            f'then[{index}] must be a function name or {{"function", "params"}}: {exc}',
            field=f"$.then[{index}]",
        ) from exc


def _follow_up_params(spec: FunctionSpec, params: dict[str, Any], path: str) -> dict[str, Any]:
    """Each parameter checked against its field's type alone (the rest of the input is
    the result of the job before, not known yet); returned as JSON values."""
    if not params:
        return {}
    if field := unknown_field(spec.input, params):
        raise InvalidInputError(
            f"invalid parameters for {spec.name}: unknown field {field[2:]!r}",
            field=path + field[1:],
        )
    if not isinstance(spec.input, type) or not issubclass(spec.input, msgspec.Struct):
        return params
    types = {field.encode_name: field.type for field in msgspec.structs.fields(spec.input)}
    checked = {}
    for name, value in params.items():
        if name not in types:  # a field the struct lets through (a tag, ignored extras)
            checked[name] = value
            continue
        try:
            checked[name] = msgspec.to_builtins(_convert(value, types[name]))
        except msgspec.ValidationError as exc:
            raise InvalidInputError(
                f"invalid parameter {name} for {spec.name}: {exc}", field=f"{path}.{name}"
            ) from exc
    return checked


def _convert(value: Any, field_type: Any) -> Any:
    """``value`` as ``field_type``; text from a query string may also be JSON (a list,
    ``use_pages=[0,2]``, or an object)."""
    try:
        return msgspec.convert(value, field_type, strict=False)
    except msgspec.ValidationError:
        if not isinstance(value, str) or not value.lstrip().startswith(("[", "{")):
            raise
        try:
            decoded = msgspec.json.decode(value)
        except msgspec.DecodeError:
            raise msgspec.ValidationError(f"not valid JSON: {value!r}") from None
        return msgspec.convert(decoded, field_type, strict=False)
