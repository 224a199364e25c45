from stigmer.api.v1 import commons_pb2 as _commons_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AgentInstance(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "spec", "status")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _commons_pb2.ApiResourceMetadata
    spec: AgentInstanceSpec
    status: AgentInstanceStatus
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_commons_pb2.ApiResourceMetadata, _Mapping]] = ..., spec: _Optional[_Union[AgentInstanceSpec, _Mapping]] = ..., status: _Optional[_Union[AgentInstanceStatus, _Mapping]] = ...) -> None: ...

class AgentInstanceSpec(_message.Message):
    __slots__ = ("agent_id", "description", "environment_refs")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ENVIRONMENT_REFS_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    description: str
    environment_refs: _containers.RepeatedCompositeFieldContainer[_commons_pb2.ApiResourceReference]
    def __init__(self, agent_id: _Optional[str] = ..., description: _Optional[str] = ..., environment_refs: _Optional[_Iterable[_Union[_commons_pb2.ApiResourceReference, _Mapping]]] = ...) -> None: ...

class AgentInstanceStatus(_message.Message):
    __slots__ = ("audit", "observed_generation", "conditions")
    AUDIT_FIELD_NUMBER: _ClassVar[int]
    OBSERVED_GENERATION_FIELD_NUMBER: _ClassVar[int]
    CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    audit: _commons_pb2.ApiResourceAudit
    observed_generation: int
    conditions: _containers.RepeatedCompositeFieldContainer[_commons_pb2.Condition]
    def __init__(self, audit: _Optional[_Union[_commons_pb2.ApiResourceAudit, _Mapping]] = ..., observed_generation: _Optional[int] = ..., conditions: _Optional[_Iterable[_Union[_commons_pb2.Condition, _Mapping]]] = ...) -> None: ...
