from stigmer.api.v1 import commons_pb2 as _commons_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SkillState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SKILL_STATE_UNSPECIFIED: _ClassVar[SkillState]
    SKILL_STATE_UPLOADING: _ClassVar[SkillState]
    SKILL_STATE_READY: _ClassVar[SkillState]
    SKILL_STATE_FAILED: _ClassVar[SkillState]
SKILL_STATE_UNSPECIFIED: SkillState
SKILL_STATE_UPLOADING: SkillState
SKILL_STATE_READY: SkillState
SKILL_STATE_FAILED: SkillState

class Skill(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "spec", "status")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _commons_pb2.ApiResourceMetadata
    spec: SkillSpec
    status: SkillStatus
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_commons_pb2.ApiResourceMetadata, _Mapping]] = ..., spec: _Optional[_Union[SkillSpec, _Mapping]] = ..., status: _Optional[_Union[SkillStatus, _Mapping]] = ...) -> None: ...

class SkillSpec(_message.Message):
    __slots__ = ("skill_md", "tag")
    SKILL_MD_FIELD_NUMBER: _ClassVar[int]
    TAG_FIELD_NUMBER: _ClassVar[int]
    skill_md: str
    tag: str
    def __init__(self, skill_md: _Optional[str] = ..., tag: _Optional[str] = ...) -> None: ...

class SkillStatus(_message.Message):
    __slots__ = ("version_hash", "artifact_storage_key", "state", "audit", "observed_generation", "conditions")
    VERSION_HASH_FIELD_NUMBER: _ClassVar[int]
    ARTIFACT_STORAGE_KEY_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    AUDIT_FIELD_NUMBER: _ClassVar[int]
    OBSERVED_GENERATION_FIELD_NUMBER: _ClassVar[int]
    CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    version_hash: str
    artifact_storage_key: str
    state: SkillState
    audit: _commons_pb2.ApiResourceAudit
    observed_generation: int
    conditions: _containers.RepeatedCompositeFieldContainer[_commons_pb2.Condition]
    def __init__(self, version_hash: _Optional[str] = ..., artifact_storage_key: _Optional[str] = ..., state: _Optional[_Union[SkillState, str]] = ..., audit: _Optional[_Union[_commons_pb2.ApiResourceAudit, _Mapping]] = ..., observed_generation: _Optional[int] = ..., conditions: _Optional[_Iterable[_Union[_commons_pb2.Condition, _Mapping]]] = ...) -> None: ...
