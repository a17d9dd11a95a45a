"""The unknown-field check on inputs (shared/unknown_fields.py, shared/validation.py): what
it refuses, what it leaves alone, and that it never turns an input into a 500."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from shared.errors import InvalidInputError
from shared.functions import FunctionSpec
from shared.unknown_fields import unknown_field
from shared.validation import validate_input


class A(msgspec.Struct, tag="a"):
    x: int = 0


class B(msgspec.Struct, tag="b"):
    y: int = 0


class Tagged(msgspec.Struct):
    item: B | A


class Node(msgspec.Struct):
    children: list[Node] = []


class Plain(msgspec.Struct):
    dpi: int = 150


def spec(input_type: Any, takes_document: bool = False) -> FunctionSpec:
    return FunctionSpec("f", input_type, lambda job, params: None, takes_document=takes_document)


def test_a_tagged_union_is_checked_against_the_type_its_tag_names() -> None:
    assert unknown_field(Tagged, {"item": {"type": "a", "x": 1, "z": 2}}) == "$.item.z"
    assert unknown_field(Tagged, {"item": {"type": "a", "x": 1}}) is None
    assert unknown_field(Tagged, {"item": {"type": "b", "x": 1}}) == "$.item.x"


def test_input_nested_too_deeply_for_the_check_is_a_400() -> None:
    value: dict[str, Any] = {"children": []}
    for _ in range(450):  # msgspec takes it; a recursive walk of it would not
        value = {"children": [value]}
    with pytest.raises(InvalidInputError, match="nested too deeply"):
        validate_input(spec(Node), msgspec.json.encode(value))


def test_a_document_function_need_not_name_the_document_the_gateway_adds() -> None:
    document = {"content_type": "application/pdf", "size": 10, "filename": None}
    payload = validate_input(spec(Plain, True), {"dpi": "100", "document": document}, strict=False)
    assert msgspec.json.decode(payload) == {"dpi": 100}
    with pytest.raises(InvalidInputError) as refused:
        validate_input(spec(Plain, True), {"dpii": "100", "document": document}, strict=False)
    assert refused.value.details["field"] == "$.dpii"
