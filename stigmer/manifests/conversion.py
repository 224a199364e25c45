"""Plain data <-> protobuf messages, driven by the message descriptors.

Users write proto JSON names (``mcpServers``); snake_case (``mcp_servers``) is
accepted on input too. Output prints integers as numbers (not proto3-JSON
strings) and enums by name. Both directions avoid ``json_format``, which
costs about four times a direct constructor.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache, partial
from typing import Any, NamedTuple

from stigmer.api.kinds import Kind, Resource

Descriptor = Any  # google.protobuf.descriptor.Descriptor; only stigmer.api imports protobuf

# How a field's value is converted.
SCALAR, INT, ENUM, MESSAGE, LIST, MESSAGE_LIST, MAP, MESSAGE_MAP, TIMESTAMP = range(9)


# A NamedTuple, not a frozen dataclass: ``stigmer get`` imports this module, and making a
# frozen dataclass costs some 3.6 M instructions, a NamedTuple 0.7 M (bench/README.md, wave 6).
class FieldInfo(NamedTuple):
    name: str  # snake_case: the constructor's keyword
    json_name: str
    shape: int
    message: Descriptor | None = None  # for MESSAGE, MESSAGE_LIST, MESSAGE_MAP


def _shape(fd: Any, is_map: bool | None = None) -> tuple[int, Descriptor | None]:
    """How a field converts; ``is_map`` if the caller knows, else the entry type's options say."""
    msg = fd.message_type
    if is_map is None:
        is_map = msg is not None and msg.GetOptions().map_entry
    if is_map:
        value = msg.fields_by_name["value"].message_type
        return (MAP, None) if value is None else (MESSAGE_MAP, value)
    if msg is not None and msg.full_name == "google.protobuf.Timestamp":
        return TIMESTAMP, None
    if fd.is_repeated:
        return (LIST, None) if msg is None else (MESSAGE_LIST, msg)
    if msg is not None:
        return MESSAGE, msg
    if fd.type == fd.TYPE_ENUM:
        return ENUM, None
    if fd.type in (fd.TYPE_INT32, fd.TYPE_INT64, fd.TYPE_UINT32, fd.TYPE_UINT64):
        return INT, None
    return SCALAR, None


@cache
def fields(desc: Descriptor) -> dict[str, FieldInfo]:
    """A message's fields by JSON name."""
    out = {}
    for fd in desc.fields:
        shape, sub = _shape(fd)
        out[fd.json_name] = FieldInfo(fd.name, fd.json_name, shape, sub)
    return out


@cache
def _snake_to_json(desc: Descriptor) -> dict[str, str]:
    return {fd.name: fd.json_name for fd in desc.fields if fd.name != fd.json_name}


# -- input --------------------------------------------------------------------


def normalize(desc: Descriptor, data: Any) -> Any:
    """``data`` with snake_case field names turned into JSON names, recursively.

    Keys it does not know are left alone for the schema to report; when both
    spellings of a field are given, the JSON name wins and the other stays,
    so it is reported as unknown.
    """
    if not isinstance(data, dict):
        return data
    renames = _snake_to_json(desc)
    known = fields(desc)
    out: dict[str, Any] = {}
    for key, value in data.items():
        json_key = renames.get(key) or key
        if json_key != key and json_key in data:
            json_key = key
        info = known.get(json_key)
        if info is not None and info.message is not None:
            value = _normalize_value(info, value)
        out[json_key] = value
    return out


def _normalize_value(info: FieldInfo, value: Any) -> Any:
    if info.shape == MESSAGE:
        return normalize(info.message, value)
    if info.shape == MESSAGE_LIST and isinstance(value, list):
        return [normalize(info.message, v) for v in value]
    if info.shape == MESSAGE_MAP and isinstance(value, dict):
        return {k: normalize(info.message, v) for k, v in value.items()}
    return value


def to_kwargs(desc: Descriptor, data: dict[str, Any]) -> dict[str, Any]:
    """Constructor keywords for ``desc`` from valid data with JSON names."""
    return _kwargs(_plan(desc), data)


# How to turn each JSON key of a message into a constructor keyword: its field name, and
# the converter of its value (None: the value as it is).
_Plan = dict[str, tuple[str, Callable[[Any], Any] | None]]
_PLANS: dict[Descriptor, _Plan] = {}


def _plan(desc: Descriptor) -> _Plan:
    """A message's plan, made once; a nested message's converter holds that message's plan.

    Every manifest of an apply goes through here, field by field: a plan costs one
    lookup and one call per field, where reading a FieldInfo's shape cost a chain of tests.
    """
    plan = _PLANS.get(desc)
    if plan is None:
        plan = _PLANS[desc] = {}  # registered before it is filled: messages may nest themselves
        for key, info in fields(desc).items():
            plan[key] = (info.name, _converter(info))
    return plan


def _converter(info: FieldInfo) -> Callable[[Any], Any] | None:
    if info.shape == INT:
        return int  # JSON Schema's integers include 8080.0
    if info.shape not in (MESSAGE, MESSAGE_LIST, MESSAGE_MAP):
        return None
    plan = _plan(info.message)
    if info.shape == MESSAGE:
        return partial(_kwargs, plan)
    if info.shape == MESSAGE_LIST:
        return lambda values: [_kwargs(plan, v) for v in values]
    return lambda values: {k: _kwargs(plan, v) for k, v in values.items()}


def _kwargs(plan: _Plan, data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        name, convert = plan[key]
        out[name] = value if convert is None else convert(value)
    return out


def to_message(kind: Kind, data: dict[str, Any]) -> Resource:
    """A message of ``kind`` from validated manifest data."""
    return kind.message(**to_kwargs(kind.message.DESCRIPTOR, data))


# -- output -------------------------------------------------------------------


# Output's FieldInfo by field descriptor, made on first sight of a value.
_OUTPUT: dict[Any, FieldInfo] = {}


def _field_info(fd: Any, value: Any) -> FieldInfo:
    """A field's FieldInfo for output, cached in _OUTPUT.

    Its value tells a map (a Mapping), so output never reads the entry type's
    options: that imports descriptor_pb2, ~1.5 ms of a ``stigmer get``.
    """
    shape, sub = _shape(fd, is_map=isinstance(value, Mapping))
    info = _OUTPUT[fd] = FieldInfo(fd.name, fd.json_name, shape, sub)
    return info


def to_dict(message: Any) -> dict[str, Any]:
    """Plain data with JSON names: integers as numbers, enums by name."""
    out: dict[str, Any] = {}
    for fd, value in message.ListFields():
        info = _OUTPUT.get(fd) or _field_info(fd, value)
        shape = info.shape
        if shape == MESSAGE:
            out[info.json_name] = to_dict(value)
        elif shape == MESSAGE_LIST:
            out[info.json_name] = [to_dict(v) for v in value]
        elif shape == MESSAGE_MAP:
            out[info.json_name] = {k: to_dict(value[k]) for k in sorted(value)}
        elif shape == MAP:
            out[info.json_name] = {k: value[k] for k in sorted(value)}
        elif shape == LIST:
            out[info.json_name] = list(value)
        elif shape == ENUM:
            out[info.json_name] = fd.enum_type.values_by_number[value].name
        elif shape == TIMESTAMP:
            out[info.json_name] = value.ToJsonString()
        else:
            out[info.json_name] = value
    return out
