from stigmer.api.v1 import event_pb2 as _event_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AnyResource(_message.Message):
    __slots__ = ("kind", "data")
    KIND_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    kind: str
    data: bytes
    def __init__(self, kind: _Optional[str] = ..., data: _Optional[bytes] = ...) -> None: ...

class ListRequest(_message.Message):
    __slots__ = ("kind", "org", "all_orgs", "selector")
    KIND_FIELD_NUMBER: _ClassVar[int]
    ORG_FIELD_NUMBER: _ClassVar[int]
    ALL_ORGS_FIELD_NUMBER: _ClassVar[int]
    SELECTOR_FIELD_NUMBER: _ClassVar[int]
    kind: str
    org: str
    all_orgs: bool
    selector: str
    def __init__(self, kind: _Optional[str] = ..., org: _Optional[str] = ..., all_orgs: _Optional[bool] = ..., selector: _Optional[str] = ...) -> None: ...

class ListResponse(_message.Message):
    __slots__ = ("items", "revision")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[AnyResource]
    revision: int
    def __init__(self, items: _Optional[_Iterable[_Union[AnyResource, _Mapping]]] = ..., revision: _Optional[int] = ...) -> None: ...

class WatchRequest(_message.Message):
    __slots__ = ("kind", "org", "from_revision", "from_now")
    KIND_FIELD_NUMBER: _ClassVar[int]
    ORG_FIELD_NUMBER: _ClassVar[int]
    FROM_REVISION_FIELD_NUMBER: _ClassVar[int]
    FROM_NOW_FIELD_NUMBER: _ClassVar[int]
    kind: str
    org: str
    from_revision: int
    from_now: bool
    def __init__(self, kind: _Optional[str] = ..., org: _Optional[str] = ..., from_revision: _Optional[int] = ..., from_now: _Optional[bool] = ...) -> None: ...

class WatchEvent(_message.Message):
    __slots__ = ("event", "object")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    event: _event_pb2.Event
    object: AnyResource
    def __init__(self, event: _Optional[_Union[_event_pb2.Event, _Mapping]] = ..., object: _Optional[_Union[AnyResource, _Mapping]] = ...) -> None: ...
