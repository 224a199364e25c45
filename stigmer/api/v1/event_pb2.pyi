import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    event_type_unspecified: _ClassVar[EventType]
    created: _ClassVar[EventType]
    updated: _ClassVar[EventType]
    deleted: _ClassVar[EventType]
event_type_unspecified: EventType
created: EventType
updated: EventType
deleted: EventType

class Event(_message.Message):
    __slots__ = ("revision", "type", "kind", "id", "org", "slug", "generation", "time", "actor")
    REVISION_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    ORG_FIELD_NUMBER: _ClassVar[int]
    SLUG_FIELD_NUMBER: _ClassVar[int]
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    revision: int
    type: EventType
    kind: str
    id: str
    org: str
    slug: str
    generation: int
    time: _timestamp_pb2.Timestamp
    actor: str
    def __init__(self, revision: _Optional[int] = ..., type: _Optional[_Union[EventType, str]] = ..., kind: _Optional[str] = ..., id: _Optional[str] = ..., org: _Optional[str] = ..., slug: _Optional[str] = ..., generation: _Optional[int] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor: _Optional[str] = ...) -> None: ...
