import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ApiResourceOwnerScope(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    api_resource_owner_scope_unspecified: _ClassVar[ApiResourceOwnerScope]
    platform: _ClassVar[ApiResourceOwnerScope]
    organization: _ClassVar[ApiResourceOwnerScope]
    identity_account: _ClassVar[ApiResourceOwnerScope]

class ApiResourceKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    api_resource_kind_unknown: _ClassVar[ApiResourceKind]
    agent: _ClassVar[ApiResourceKind]
    skill: _ClassVar[ApiResourceKind]
    mcp_server: _ClassVar[ApiResourceKind]
    agent_instance: _ClassVar[ApiResourceKind]
    environment: _ClassVar[ApiResourceKind]
api_resource_owner_scope_unspecified: ApiResourceOwnerScope
platform: ApiResourceOwnerScope
organization: ApiResourceOwnerScope
identity_account: ApiResourceOwnerScope
api_resource_kind_unknown: ApiResourceKind
agent: ApiResourceKind
skill: ApiResourceKind
mcp_server: ApiResourceKind
agent_instance: ApiResourceKind
environment: ApiResourceKind

class ApiResourceMetadata(_message.Message):
    __slots__ = ("name", "slug", "id", "org", "owner_scope", "labels", "annotations", "tags", "version", "generation", "resource_version", "owner_references")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class AnnotationsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    SLUG_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    ORG_FIELD_NUMBER: _ClassVar[int]
    OWNER_SCOPE_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    ANNOTATIONS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_VERSION_FIELD_NUMBER: _ClassVar[int]
    OWNER_REFERENCES_FIELD_NUMBER: _ClassVar[int]
    name: str
    slug: str
    id: str
    org: str
    owner_scope: ApiResourceOwnerScope
    labels: _containers.ScalarMap[str, str]
    annotations: _containers.ScalarMap[str, str]
    tags: _containers.RepeatedScalarFieldContainer[str]
    version: ApiResourceMetadataVersion
    generation: int
    resource_version: int
    owner_references: _containers.RepeatedCompositeFieldContainer[OwnerReference]
    def __init__(self, name: _Optional[str] = ..., slug: _Optional[str] = ..., id: _Optional[str] = ..., org: _Optional[str] = ..., owner_scope: _Optional[_Union[ApiResourceOwnerScope, str]] = ..., labels: _Optional[_Mapping[str, str]] = ..., annotations: _Optional[_Mapping[str, str]] = ..., tags: _Optional[_Iterable[str]] = ..., version: _Optional[_Union[ApiResourceMetadataVersion, _Mapping]] = ..., generation: _Optional[int] = ..., resource_version: _Optional[int] = ..., owner_references: _Optional[_Iterable[_Union[OwnerReference, _Mapping]]] = ...) -> None: ...

class ApiResourceMetadataVersion(_message.Message):
    __slots__ = ("id", "message", "previous_version_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    message: str
    previous_version_id: str
    def __init__(self, id: _Optional[str] = ..., message: _Optional[str] = ..., previous_version_id: _Optional[str] = ...) -> None: ...

class OwnerReference(_message.Message):
    __slots__ = ("kind", "id", "slug", "controller")
    KIND_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    SLUG_FIELD_NUMBER: _ClassVar[int]
    CONTROLLER_FIELD_NUMBER: _ClassVar[int]
    kind: str
    id: str
    slug: str
    controller: bool
    def __init__(self, kind: _Optional[str] = ..., id: _Optional[str] = ..., slug: _Optional[str] = ..., controller: _Optional[bool] = ...) -> None: ...

class ApiResourceReference(_message.Message):
    __slots__ = ("scope", "org", "kind", "slug", "version")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    ORG_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SLUG_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    scope: ApiResourceOwnerScope
    org: str
    kind: ApiResourceKind
    slug: str
    version: str
    def __init__(self, scope: _Optional[_Union[ApiResourceOwnerScope, str]] = ..., org: _Optional[str] = ..., kind: _Optional[_Union[ApiResourceKind, str]] = ..., slug: _Optional[str] = ..., version: _Optional[str] = ...) -> None: ...

class ApiResourceAudit(_message.Message):
    __slots__ = ("spec_audit", "status_audit")
    SPEC_AUDIT_FIELD_NUMBER: _ClassVar[int]
    STATUS_AUDIT_FIELD_NUMBER: _ClassVar[int]
    spec_audit: ApiResourceAuditInfo
    status_audit: ApiResourceAuditInfo
    def __init__(self, spec_audit: _Optional[_Union[ApiResourceAuditInfo, _Mapping]] = ..., status_audit: _Optional[_Union[ApiResourceAuditInfo, _Mapping]] = ...) -> None: ...

class ApiResourceAuditInfo(_message.Message):
    __slots__ = ("created_by", "created_at", "updated_by", "updated_at", "event")
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_BY_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    created_by: ApiResourceAuditActor
    created_at: _timestamp_pb2.Timestamp
    updated_by: ApiResourceAuditActor
    updated_at: _timestamp_pb2.Timestamp
    event: str
    def __init__(self, created_by: _Optional[_Union[ApiResourceAuditActor, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_by: _Optional[_Union[ApiResourceAuditActor, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., event: _Optional[str] = ...) -> None: ...

class ApiResourceAuditActor(_message.Message):
    __slots__ = ("id", "avatar")
    ID_FIELD_NUMBER: _ClassVar[int]
    AVATAR_FIELD_NUMBER: _ClassVar[int]
    id: str
    avatar: str
    def __init__(self, id: _Optional[str] = ..., avatar: _Optional[str] = ...) -> None: ...

class Condition(_message.Message):
    __slots__ = ("type", "status", "reason", "message", "last_transition_time", "observed_generation")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    LAST_TRANSITION_TIME_FIELD_NUMBER: _ClassVar[int]
    OBSERVED_GENERATION_FIELD_NUMBER: _ClassVar[int]
    type: str
    status: str
    reason: str
    message: str
    last_transition_time: _timestamp_pb2.Timestamp
    observed_generation: int
    def __init__(self, type: _Optional[str] = ..., status: _Optional[str] = ..., reason: _Optional[str] = ..., message: _Optional[str] = ..., last_transition_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., observed_generation: _Optional[int] = ...) -> None: ...
