from stigmer.api.v1 import agent_instance_pb2 as _agent_instance_pb2
from stigmer.api.v1 import commons_pb2 as _commons_pb2
from stigmer.api.v1 import upstream_rpc_pb2 as _upstream_rpc_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AgentInstanceId(_message.Message):
    __slots__ = ("value",)
    VALUE_FIELD_NUMBER: _ClassVar[int]
    value: str
    def __init__(self, value: _Optional[str] = ...) -> None: ...

class GetAgentInstancesByAgentRequest(_message.Message):
    __slots__ = ("agent_id", "page_info")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_INFO_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    page_info: _upstream_rpc_pb2.PageInfo
    def __init__(self, agent_id: _Optional[str] = ..., page_info: _Optional[_Union[_upstream_rpc_pb2.PageInfo, _Mapping]] = ...) -> None: ...

class AgentInstanceList(_message.Message):
    __slots__ = ("total_count", "items")
    TOTAL_COUNT_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    total_count: int
    items: _containers.RepeatedCompositeFieldContainer[_agent_instance_pb2.AgentInstance]
    def __init__(self, total_count: _Optional[int] = ..., items: _Optional[_Iterable[_Union[_agent_instance_pb2.AgentInstance, _Mapping]]] = ...) -> None: ...
