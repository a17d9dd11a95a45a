"""Fields a client sent that the function's input schema does not have.

msgspec ignores unknown object fields unless a Struct class says ``forbid_unknown_fields``,
and a user's function module may not: then ``?dpii=100`` or ``{"ceiling_height": 2400}``
would be accepted and the defaults used. This walks a decoded value along the schema's
types and names the first field no Struct declares; ``dict`` values stay free, and so
does a Struct that says ``ignore_unknown_fields: ClassVar[bool] = True`` with everything
inside it (a result of another function, passed on whole).
"""

from __future__ import annotations

import functools
from typing import Any

import msgspec.inspect as mi

_SEQUENCES = (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType)


@functools.lru_cache(maxsize=256)
def _info(input_type: Any) -> mi.Type:
    return mi.type_info(input_type)


@functools.lru_cache(maxsize=256)
def has_structs(input_type: Any) -> bool:
    """Whether the type holds a Struct anywhere (else there is nothing to check)."""
    return _has_structs(_info(input_type), set())


def _has_structs(info: mi.Type, seen: set[int]) -> bool:
    if isinstance(info, mi.StructType):
        return True
    if id(info) in seen:
        return False
    seen.add(id(info))
    return any(_has_structs(inner, seen) for inner in _inner_types(info))


def _inner_types(info: mi.Type) -> list[mi.Type]:
    if isinstance(info, mi.Metadata):
        return [info.type]
    if isinstance(info, _SEQUENCES):
        return [info.item_type]
    if isinstance(info, mi.TupleType):
        return list(info.item_types)
    if isinstance(info, mi.DictType):
        return [info.value_type]
    if isinstance(info, mi.UnionType):
        return list(info.types)
    return []


def unknown_field(input_type: Any, value: Any) -> str | None:
    """The JSON path of the first field of ``value`` that its Struct does not declare
    (``$.pages[0].dpii``), or None. ``value`` is the decoded JSON (already valid for the
    type, so its shape follows it)."""
    if not has_structs(input_type):
        return None
    return _walk(_info(input_type), value, "$")


def _walk(info: mi.Type, value: Any, path: str) -> str | None:
    if isinstance(info, mi.Metadata):
        return _walk(info.type, value, path)
    if isinstance(info, mi.StructType) and isinstance(value, dict):
        return _struct(info, value, path)
    if isinstance(info, _SEQUENCES) and isinstance(value, list):
        for index, item in enumerate(value):
            if found := _walk(info.item_type, item, f"{path}[{index}]"):
                return found
    elif isinstance(info, mi.TupleType) and isinstance(value, list):
        for index, (item_type, item) in enumerate(zip(info.item_types, value, strict=False)):
            if found := _walk(item_type, item, f"{path}[{index}]"):
                return found
    elif isinstance(info, mi.DictType) and isinstance(value, dict):
        for key, item in value.items():
            if found := _walk(info.value_type, item, f"{path}.{key}"):
                return found
    elif isinstance(info, mi.UnionType):
        return _union(info, value, path)
    return None


def _struct(info: mi.StructType, value: dict[str, Any], path: str) -> str | None:
    if getattr(info.cls, "ignore_unknown_fields", False):
        return None
    fields = {field.encode_name: field for field in info.fields}
    for key, item in value.items():
        field = fields.get(key)
        if field is None:
            if key != info.tag_field:
                return f"{path}.{key}"
        elif found := _walk(field.type, item, f"{path}.{key}"):
            return found
    return None


_OBJECTS = (mi.StructType, mi.DictType, mi.TypedDictType, mi.DataclassType)
_ARRAYS = (*_SEQUENCES, mi.TupleType)


def _union(info: mi.UnionType, value: Any, path: str) -> str | None:
    """A value in a union: its field is unknown only if no member of its kind (object or
    array) declares it."""
    kinds = _OBJECTS if isinstance(value, dict) else _ARRAYS if isinstance(value, list) else ()
    members = [member for member in info.types if isinstance(_bare(member), kinds)]
    if isinstance(value, dict):
        # A tagged union: the object's tag names its type.
        tagged = [m for m in map(_bare, members) if isinstance(m, mi.StructType) and m.tag_field]
        named = [m for m in tagged if value.get(m.tag_field or "") == m.tag]
        members = list(named or members)
    found = [_walk(member, value, path) for member in members]
    return found[0] if found and all(found) else None


def _bare(info: mi.Type) -> mi.Type:
    while isinstance(info, mi.Metadata):
        info = info.type
    return info
